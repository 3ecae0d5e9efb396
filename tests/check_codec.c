/*
 * check_codec.c — postings records (index/codec.c, FORMAT.md part 8)
 * and the page checksums of part 11: encoded, walked back, searched,
 * and damaged; and the text appends of the js_buf they are written into
 * (index/buf.h).
 *
 * In:  generated posting lists, one table row each (ids dense, from 0,
 *      random, Zipf-like, near 2^32 - 1, spread over the whole range; tf
 *      1, 2, small, huge, 2^32 - 1; positions none, dense, random, spread
 *      to 2^32 - 1; block sizes 1 to 1024 around their boundaries, so
 *      that both encodings run: one block of varints, and blocks with a
 *      skip table), and random ones; bad encoder input; hand-built
 *      records that break one decoding rule each (varints cut off or too
 *      long, ids not increasing or out of range, flags without their
 *      varint, positions that repeat or overflow, trailing bytes, bad
 *      skip tables); every bit flip and byte change of five records read
 *      through page checks, every truncation read without; page
 *      checksum parts right and damaged.
 * Out: next() yields every entry, positions() every entry's positions;
 *      seek() and skip_block() agree with a model of the cursor over long
 *      random operation sequences; bad input gives JS_EINVALID and leaves
 *      the buffer as it was; damage gives JS_ECORRUPT; a page is crc'd on
 *      its first load through a js_block_checks and never recorded when
 *      it fails.  Records are decoded where they end just before an
 *      inaccessible page, so a read past the record by codec.c *or by
 *      libstreamvbyte* (which ASan does not instrument) crashes the test.
 *      A js_buf's text stays NUL-terminated through appends, clears and
 *      frees, and a size it cannot have sets a sticky oom that only
 *      js_buf_free resets.
 *
 * test_figures prints, without asserting, the encoded size per posting
 * and per position on a Zipf-like collection and the decoding speed over
 * a 1M-entry list.
 */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <streamvbyte.h>
#include <streamvbytedelta.h>

#include "buf.h"
#include "codec.h"
#include "jiansuo.h"
#include "testutil.h"

/* ck_assert in Check's fork mode writes to a pipe on every success; the
 * loops below assert millions of times, so they test and abort. */
#define REQUIRE(cond, ...)                                                     \
    do {                                                                       \
        if (!(cond))                                                           \
            ck_abort_msg(__VA_ARGS__);                                         \
    } while (0)

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* ------------------------------------------------------------------
 * Guarded placement: a copy of a record that ends where an inaccessible
 * page begins.  One mapping per test process, grown on demand.
 * ---------------------------------------------------------------- */

static uint8_t *guard_base;
static size_t guard_size;

/* Returns a writable copy of src[0..len) whose last byte is the last
 * byte before a PROT_NONE page.  Valid until the next call. */
static uint8_t *guard_place(const void *src, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t need = (len + page - 1) / page * page + page;
    if (need > guard_size) {
        if (guard_base)
            munmap(guard_base, guard_size);
        guard_base = mmap(NULL, need, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ck_assert(guard_base != MAP_FAILED);
        guard_size = need;
        ck_assert_int_eq(mprotect(guard_base + need - page, page, PROT_NONE),
                         0);
    }
    uint8_t *dst = guard_base + guard_size - page - len;
    if (len)
        memcpy(dst, src, len);
    return dst;
}

/* ------------------------------------------------------------------
 * Posting lists
 * ---------------------------------------------------------------- */

typedef struct {
    uint32_t n;
    uint32_t *ids, *tfs, *lens; /* lens may be NULL */
    uint32_t *pos;              /* NULL, or sum(tfs) values */
    size_t *pos_off;            /* n + 1 offsets into pos */
    uint64_t npos;
} plist;

enum { G_DENSE, G_RANDOM, G_ZIPF, G_TOP, G_SPREAD, G_FROM0 };
enum { T_ONE, T_SMALL, T_LARGE, T_MAX, T_TWO };
enum { P_NONE, P_DENSE, P_RANDOM, P_SPREAD };

/* A heavy-tailed gap >= 1, P(gap >= k) about 1/k (capped). */
static uint32_t zipf_gap(uint32_t cap)
{
    double u = ((rnd() >> 1) + 1) / 2147483649.0; /* (0, 1) */
    double g = 1.0 / u;
    return g > cap ? cap : (uint32_t)g;
}

/* Mostly 1, as in text: 75% 1, 15% 2, then a tail. */
static uint32_t small_tf(void)
{
    uint32_t r = rnd() % 100;
    return r < 75 ? 1 : r < 90 ? 2 : r < 97 ? 3 + rnd() % 3 : 6 + rnd() % 60;
}

static void plist_free(plist *L)
{
    free(L->ids);
    free(L->tfs);
    free(L->lens);
    free(L->pos);
    free(L->pos_off);
    memset(L, 0, sizeof *L);
}

/* Fills L with n entries of the given kinds.  Caller frees (plist_free). */
static void plist_make(plist *L, uint32_t n, int gap, int tfk, int posk,
                       int with_lens)
{
    memset(L, 0, sizeof *L);
    L->n = n;
    L->ids = xmalloc(n * sizeof *L->ids);
    L->tfs = xmalloc(n * sizeof *L->tfs);
    uint64_t id = gap == G_TOP ? (uint64_t)UINT32_MAX - 1 - (uint64_t)(n - 1) * 3
                  : gap == G_FROM0 ? 0
                                   : rnd() % 50;
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0) {
            switch (gap) {
            case G_DENSE: case G_FROM0: id += 1; break;
            case G_RANDOM: id += 1 + rnd() % 1000; break;
            case G_ZIPF: id += zipf_gap(100000); break;
            case G_TOP: id += 3; break;
            default: break;
            }
        }
        if (gap == G_SPREAD) /* 0 ... UINT32_MAX - 1, evenly */
            id = n == 1 ? UINT32_MAX - 1
                        : (uint64_t)i * (UINT32_MAX - 1) / (n - 1);
        ck_assert(id < UINT32_MAX);
        L->ids[i] = (uint32_t)id;
        uint32_t tf = 1;
        switch (tfk) {
        case T_SMALL: tf = small_tf(); break;
        case T_LARGE:
            tf = posk != P_NONE ? 1 + rnd() % 3000
                                : (i % 7 == 3 ? UINT32_MAX : rnd() | 0x80000000u);
            break;
        case T_MAX: tf = UINT32_MAX; break;
        case T_TWO: tf = 2; break;
        default: break;
        }
        L->tfs[i] = tf;
    }
    if (posk != P_NONE) {
        L->pos_off = xmalloc(((size_t)n + 1) * sizeof *L->pos_off);
        uint64_t total = 0;
        for (uint32_t i = 0; i < n; i++) {
            L->pos_off[i] = (size_t)total;
            total += L->tfs[i];
        }
        L->pos_off[n] = (size_t)total;
        L->npos = total;
        L->pos = xmalloc((size_t)total * sizeof *L->pos);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t *p = L->pos + L->pos_off[i], tf = L->tfs[i];
            uint64_t v = rnd() % 1000;
            for (uint32_t j = 0; j < tf; j++) {
                if (posk == P_SPREAD)
                    v = tf == 1 ? UINT32_MAX
                                : (uint64_t)j * UINT32_MAX / (tf - 1);
                else if (j > 0)
                    v += posk == P_DENSE ? 1
                         : rnd() % 16 ? 1 + rnd() % 50 : 1 + rnd() % 100000;
                ck_assert(v <= UINT32_MAX);
                p[j] = (uint32_t)v;
            }
        }
    }
    if (with_lens) {
        L->lens = xmalloc(n * sizeof *L->lens);
        for (uint32_t i = 0; i < n; i++) {
            uint64_t len = L->pos ? (uint64_t)L->pos[L->pos_off[i + 1] - 1] + 1
                                  : L->tfs[i];
            len += rnd() % 500;
            L->lens[i] = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
        }
    }
}

/* Index of the first entry with id >= t, or L->n. */
static uint32_t lower_bound(const plist *L, uint32_t t)
{
    uint32_t lo = 0, hi = L->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (L->ids[mid] >= t)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The field average the tests' records are encoded with. */
#define TEST_AVG 37.5

/* Encodes L into a fresh buffer after 3 bytes of other data (records are
 * appended).  Returns the buffer; the record is at .p + 3. */
static js_buf encode_list(const plist *L, uint32_t bs)
{
    js_buf b = JS_BUF_INIT;
    ck_assert_int_eq(js_buf_put(&b, "xyz", 3), 0);
    js_postings_info info = {0, 0};
    int rc = js_postings_encode(&b, L->ids, L->tfs, L->pos, L->lens, TEST_AVG, L->n, bs,
                                &info);
    ck_assert_int_eq(rc, 0);
    ck_assert(!memcmp(b.p, "xyz", 3));
    uint64_t cf = 0;
    uint32_t mt = 0;
    for (uint32_t i = 0; i < L->n; i++) {
        cf += L->tfs[i];
        mt = L->tfs[i] > mt ? L->tfs[i] : mt;
    }
    ck_assert_uint_eq(info.cf, cf);
    ck_assert_uint_eq(info.max_tf, mt);
    return b;
}

/* ------------------------------------------------------------------
 * Walking a record
 * ---------------------------------------------------------------- */

/* Reads a record every way the query engine will: pass 1 next() over
 * everything with positions() on every entry; pass 2 skip_block() and
 * seek() to every other id value past the last entry found.  With L, the
 * entries must equal L's (*wrong is set where they do not); without, only
 * their count is checked against df.  Returns 0, or the first error a
 * call returned (the passes go on, to exercise every path on damage). */
static int walk(const uint8_t *rec, size_t len, uint32_t df, uint32_t bs,
                int has_pos, uint32_t max_id, const plist *L, int *wrong)
{
    int first = 0;
    js_postings_cursor c;
    int rc = js_postings_open(&c, rec, len, df, bs, has_pos, max_id);
    if (rc) {
        js_postings_close(&c);
        return rc;
    }
    uint32_t i = 0;
    while ((rc = js_postings_next(&c)) == 1) {
        if (i >= df || (L && (c.id != L->ids[i] || c.tf != L->tfs[i]))) {
            *wrong = 1;
            break;
        }
        if (has_pos) {
            const uint32_t *p = NULL;
            int pr = js_postings_positions(&c, &p);
            if (pr) {
                first = first ? first : pr;
                break;
            }
            if (L && (!L->pos || memcmp(p, L->pos + L->pos_off[i],
                                        (size_t)c.tf * sizeof *p)))
                *wrong = 1;
        }
        i++;
    }
    if (rc < 0)
        first = first ? first : rc;
    /* whatever the bytes, the cursor yields df entries or an error */
    REQUIRE(!(rc == 0 && i != df), "next() ended after %u of %u entries "
            "without an error", i, df);
    js_postings_close(&c);

    rc = js_postings_open(&c, rec, len, df, bs, has_pos, max_id);
    ck_assert_int_eq(rc, 0); /* it opened before */
    uint64_t t = 0;
    for (uint32_t steps = 0; steps <= df && t <= UINT32_MAX; steps++) {
        rc = js_postings_skip_block(&c, (uint32_t)t);
        if (rc != 1)
            break;
        rc = js_postings_seek(&c, (uint32_t)t);
        if (rc != 1)
            break;
        if (L) {
            uint32_t k = lower_bound(L, (uint32_t)t);
            if (k >= L->n || c.id != L->ids[k])
                *wrong = 1;
        }
        if (has_pos) {
            const uint32_t *p;
            rc = js_postings_positions(&c, &p);
            if (rc)
                break;
        }
        t = (uint64_t)c.id + 2;
    }
    if (rc < 0)
        first = first ? first : rc;
    js_postings_close(&c);
    return first;
}

/* A model of the cursor (see js_postings_seek / skip_block in codec.c):
 * blk the current block, nxt the entry next() returns, cur the current
 * entry or -1. */
typedef struct {
    uint32_t blk, nxt;
    int64_t cur;
} model;

static uint32_t block_end(const plist *L, uint32_t bs, uint32_t b)
{
    uint64_t e = ((uint64_t)b + 1) * bs;
    return e > L->n ? L->n : (uint32_t)e;
}

/* Checks the cursor's current entry, positions and block fields against
 * the model. */
static void check_state(js_postings_cursor *c, const model *m, const plist *L,
                        uint32_t bs, int step)
{
    (void)bs;
    if (m->cur >= 0) {
        REQUIRE(c->id == L->ids[m->cur] && c->tf == L->tfs[m->cur],
                "step %d: entry %u/%u, want %u/%u", step, c->id, c->tf,
                L->ids[m->cur], L->tfs[m->cur]);
    }
    if (L->pos) {
        const uint32_t *p;
        int rc = js_postings_positions(c, &p);
        if (m->cur < 0) {
            REQUIRE(rc == JS_EINVALID, "step %d: positions without an entry "
                    "gave %d", step, rc);
        } else {
            REQUIRE(rc == 0, "step %d: positions gave %d", step, rc);
            REQUIRE(!memcmp(p, L->pos + L->pos_off[m->cur],
                            (size_t)L->tfs[m->cur] * sizeof *p),
                    "step %d: positions of entry %" PRId64 " differ", step,
                    m->cur);
        }
    }
}

/* The largest norm of entries [lo, hi) of tfs / lens. */
static float max_norm(const uint32_t *tfs, const uint32_t *lens, uint32_t lo,
                      uint32_t hi, double avg)
{
    float m = 0;
    for (uint32_t i = lo; i < hi; i++) {
        float t = js_norm_bound(tfs[i], lens[i], avg);
        m = t > m ? t : m;
    }
    return m;
}

/* Checks block_last_id / block_max_tf / block_max_norm for block b. */
static void check_block_fields(const js_postings_cursor *c, const plist *L,
                               uint32_t bs, uint32_t b, int step)
{
    uint32_t lo = b * bs, hi = block_end(L, bs, b);
    uint32_t mt = 0;
    for (uint32_t i = lo; i < hi; i++)
        mt = L->tfs[i] > mt ? L->tfs[i] : mt;
    int multi = L->n > bs;
    float want = multi && L->lens ? max_norm(L->tfs, L->lens, lo, hi, TEST_AVG)
                                  : 0;
    REQUIRE(c->block_last_id == L->ids[hi - 1] && c->block_max_tf == mt &&
                c->block_max_norm == want,
            "step %d: block %u fields %u/%u/%g, want %u/%u/%g", step, b,
            c->block_last_id, c->block_max_tf, (double)c->block_max_norm,
            L->ids[hi - 1], mt, (double)want);
}

/* Runs nops random next / seek / skip_block calls against the model. */
static void random_ops(const uint8_t *rec, size_t len, const plist *L,
                       uint32_t bs, uint32_t max_id, int nops)
{
    js_postings_cursor c;
    ck_assert_int_eq(js_postings_open(&c, rec, len, L->n, bs, L->pos != NULL,
                                      max_id),
                     0);
    const uint32_t nblocks = (L->n + bs - 1) / bs;
    model m = {0, 0, -1};
    for (int step = 0; step < nops; step++) {
        int op = rnd() % 3;
        uint32_t t;
        switch (rnd() % 6) { /* a target near where things happen */
        case 0: t = L->ids[rnd() % L->n]; break;
        case 1: t = L->ids[rnd() % L->n] + 1; break;
        case 2: t = L->ids[rnd() % L->n] - 1; break;
        case 3: t = m.cur >= 0 ? L->ids[m.cur] + rnd() % 64 : rnd() % 64; break;
        case 4: t = rnd() % 8 ? rnd() : UINT32_MAX; break;
        default: t = m.nxt < L->n ? L->ids[m.nxt] : 0; break;
        }
        int rc;
        if (op == 0) {
            rc = js_postings_next(&c);
            if (m.blk < nblocks && m.nxt < L->n) {
                REQUIRE(rc == 1, "step %d: next gave %d", step, rc);
                m.cur = m.nxt++;
                m.blk = (uint32_t)m.cur / bs;
            } else {
                REQUIRE(rc == 0, "step %d: next at end gave %d", step, rc);
                m.blk = nblocks;
                m.cur = -1;
            }
        } else if (op == 1) {
            rc = js_postings_seek(&c, t);
            if (m.cur >= 0 && L->ids[m.cur] >= t) {
                REQUIRE(rc == 1, "step %d: seek to %u gave %d", step, t, rc);
            } else {
                uint32_t k = lower_bound(L, t);
                if (k < m.nxt)
                    k = m.nxt;
                if (m.blk >= nblocks || k >= L->n) {
                    REQUIRE(rc == 0, "step %d: seek to %u past the end gave "
                            "%d", step, t, rc);
                    m.blk = nblocks;
                    m.cur = -1;
                } else {
                    REQUIRE(rc == 1, "step %d: seek to %u gave %d", step, t,
                            rc);
                    m.cur = k;
                    m.nxt = k + 1;
                    m.blk = k / bs;
                }
            }
        } else {
            rc = js_postings_skip_block(&c, t);
            if (m.blk >= nblocks) {
                REQUIRE(rc == 0, "step %d: skip_block at end gave %d", step,
                        rc);
            } else if (L->ids[block_end(L, bs, m.blk) - 1] >= t) {
                REQUIRE(rc == 1, "step %d: skip_block(%u) gave %d", step, t,
                        rc);
                check_block_fields(&c, L, bs, m.blk, step);
            } else {
                uint32_t b = m.blk + 1;
                while (b < nblocks && L->ids[block_end(L, bs, b) - 1] < t)
                    b++;
                if (b >= nblocks) {
                    REQUIRE(rc == 0, "step %d: skip_block(%u) past the end "
                            "gave %d", step, t, rc);
                    m.blk = nblocks;
                    m.cur = -1;
                } else {
                    REQUIRE(rc == 1, "step %d: skip_block(%u) gave %d", step,
                            t, rc);
                    m.blk = b;
                    m.nxt = b * bs;
                    m.cur = -1;
                    check_block_fields(&c, L, bs, b, step);
                }
            }
        }
        check_state(&c, &m, L, bs, step);
        if (m.blk >= nblocks && rnd() % 4 == 0) { /* start over */
            js_postings_close(&c);
            ck_assert_int_eq(js_postings_open(&c, rec, len, L->n, bs,
                                              L->pos != NULL, max_id),
                             0);
            m = (model){0, 0, -1};
        }
    }
    js_postings_close(&c);
}

/* ------------------------------------------------------------------
 * Round trips
 * ---------------------------------------------------------------- */

static const struct {
    const char *name;
    uint32_t n, bs;
    int gap, tf, pos, lens;
} trips[] = {
    {"one entry", 1, 128, G_RANDOM, T_ONE, P_NONE, 0},
    {"one entry, positions", 1, 128, G_RANDOM, T_SMALL, P_RANDOM, 1},
    {"one entry at 2^32 - 2", 1, 128, G_TOP, T_ONE, P_NONE, 0},
    {"one entry, tf 2^32 - 1", 1, 128, G_RANDOM, T_MAX, P_NONE, 0},
    {"exactly one block", 128, 128, G_RANDOM, T_SMALL, P_NONE, 1},
    {"exactly one block, positions", 128, 128, G_RANDOM, T_SMALL, P_RANDOM, 0},
    {"block size - 1", 127, 128, G_RANDOM, T_SMALL, P_RANDOM, 1},
    {"block size + 1", 129, 128, G_RANDOM, T_SMALL, P_RANDOM, 1},
    {"block size + 1, no positions", 129, 128, G_ZIPF, T_ONE, P_NONE, 1},
    {"two blocks exactly", 256, 128, G_RANDOM, T_SMALL, P_RANDOM, 0},
    {"block size 1", 9, 1, G_RANDOM, T_SMALL, P_NONE, 1},
    {"block size 1, positions", 9, 1, G_RANDOM, T_SMALL, P_RANDOM, 1},
    {"block size 1, one entry", 1, 1, G_RANDOM, T_SMALL, P_RANDOM, 1},
    {"block size 2", 7, 2, G_RANDOM, T_SMALL, P_NONE, 0},
    {"block size 2, even", 8, 2, G_DENSE, T_ONE, P_DENSE, 1},
    {"block size 3", 10, 3, G_RANDOM, T_SMALL, P_RANDOM, 1},
    {"block size 7", 50, 7, G_ZIPF, T_SMALL, P_RANDOM, 1},
    {"block size 7, 6 entries", 6, 7, G_ZIPF, T_SMALL, P_RANDOM, 1},
    {"block size 128, dense", 1000, 128, G_DENSE, T_ONE, P_NONE, 0},
    {"block size 128, Zipf", 3000, 128, G_ZIPF, T_SMALL, P_RANDOM, 1},
    {"block size 1024", 5000, 1024, G_RANDOM, T_SMALL, P_RANDOM, 1},
    {"block size 1024, exactly", 1024, 1024, G_ZIPF, T_SMALL, P_NONE, 0},
    {"block size 1024 + 1", 1025, 1024, G_ZIPF, T_SMALL, P_RANDOM, 1},
    {"ids near 2^32 - 1", 300, 128, G_TOP, T_SMALL, P_RANDOM, 1},
    {"maximum gaps, block size 1", 3, 1, G_SPREAD, T_ONE, P_NONE, 0},
    {"maximum gaps, one block", 5, 128, G_SPREAD, T_SMALL, P_RANDOM, 0},
    {"maximum gaps, many blocks", 200, 16, G_SPREAD, T_SMALL, P_NONE, 1},
    {"two entries 0 and 2^32 - 2", 2, 1, G_SPREAD, T_ONE, P_SPREAD, 0},
    {"tf 2^32 - 1 everywhere", 300, 128, G_RANDOM, T_MAX, P_NONE, 0},
    {"huge tfs", 500, 64, G_RANDOM, T_LARGE, P_NONE, 1},
    {"large tfs with positions", 300, 32, G_RANDOM, T_LARGE, P_DENSE, 1},
    {"positions spread to 2^32 - 1", 300, 128, G_ZIPF, T_SMALL, P_SPREAD, 1},
    {"dense ids, dense positions", 2000, 128, G_DENSE, T_SMALL, P_DENSE, 0},
    {"tf 1 everywhere, positions", 700, 128, G_ZIPF, T_ONE, P_RANDOM, 1},
    {"ids from 0, exactly one block", 128, 128, G_FROM0, T_SMALL, P_DENSE, 1},
    {"ids from 0, block size + 1", 129, 128, G_FROM0, T_ONE, P_NONE, 1},
    {"tf 2 everywhere, one block", 100, 128, G_RANDOM, T_TWO, P_RANDOM, 0},
    {"tf 2 everywhere, blocks", 300, 16, G_RANDOM, T_TWO, P_NONE, 1},
    {"huge tfs, one block", 128, 128, G_ZIPF, T_LARGE, P_NONE, 1},
    {"tf 2^32 - 1, one block of 128", 128, 128, G_SPREAD, T_MAX, P_NONE, 0},
    {"one entry at 2^32 - 2, positions to 2^32 - 1", 1, 128, G_SPREAD,
     T_SMALL, P_SPREAD, 1},
    {"maximum gaps, block size 2, positions", 9, 2, G_SPREAD, T_SMALL,
     P_SPREAD, 1},
    {"block size 9, 10 entries", 10, 9, G_ZIPF, T_SMALL, P_RANDOM, 1},
};

START_TEST(test_round_trip)
{
    plist L;
    rng_state = 0x1234567ull + (uint64_t)_i * 7919;
    plist_make(&L, trips[_i].n, trips[_i].gap, trips[_i].tf, trips[_i].pos,
               trips[_i].lens);
    const uint32_t bs = trips[_i].bs, n = L.n;
    const int has_pos = L.pos != NULL;
    js_buf b = encode_list(&L, bs);
    const size_t len = b.len - 3;
    const uint8_t *rec = guard_place(b.p + 3, len);
    const uint32_t tight = L.ids[n - 1] + 1;

    /* everything, with the tightest and the loosest section count */
    uint32_t max_ids[2] = {tight, UINT32_MAX};
    for (int k = 0; k < 2; k++) {
        int wrong = 0;
        int rc = walk(rec, len, n, bs, has_pos, max_ids[k], &L, &wrong);
        ck_assert_msg(rc == 0 && !wrong, "%s: walk gave %d, wrong %d",
                      trips[_i].name, rc, wrong);
    }

    js_postings_cursor c;
    /* after the end: next and seek stay at 0, positions is refused */
    ck_assert_int_eq(js_postings_open(&c, rec, len, n, bs, has_pos, tight), 0);
    for (uint32_t i = 0; i < n; i++)
        REQUIRE(js_postings_next(&c) == 1, "%s: next %u", trips[_i].name, i);
    ck_assert_int_eq(js_postings_next(&c), 0);
    ck_assert_int_eq(js_postings_next(&c), 0);
    ck_assert_int_eq(js_postings_seek(&c, 0), 0);
    ck_assert_int_eq(js_postings_skip_block(&c, 0), 0);
    const uint32_t *p;
    ck_assert_int_eq(js_postings_positions(&c, &p), JS_EINVALID);
    js_postings_close(&c);

    /* seek to every id in turn, twice each (the second stays) */
    ck_assert_int_eq(js_postings_open(&c, rec, len, n, bs, has_pos, tight), 0);
    for (uint32_t i = 0; i < n; i++) {
        for (int twice = 0; twice < 2; twice++) {
            int rc = js_postings_seek(&c, L.ids[i]);
            REQUIRE(rc == 1 && c.id == L.ids[i] && c.tf == L.tfs[i],
                    "%s: seek to id %u gave %d, id %u", trips[_i].name,
                    L.ids[i], rc, c.id);
        }
        if (has_pos && i % 5 == 0) {
            REQUIRE(js_postings_positions(&c, &p) == 0 &&
                        !memcmp(p, L.pos + L.pos_off[i],
                                (size_t)L.tfs[i] * sizeof *p),
                    "%s: positions after seek to entry %u", trips[_i].name,
                    i);
        }
    }
    ck_assert_int_eq(js_postings_seek(&c, L.ids[n - 1]), 1); /* no backwards */
    ck_assert_int_eq(js_postings_seek(&c, 0), 1);
    ck_assert_uint_eq(c.id, L.ids[n - 1]);
    if (L.ids[n - 1] < UINT32_MAX - 1)
        ck_assert_int_eq(js_postings_seek(&c, L.ids[n - 1] + 1), 0);
    js_postings_close(&c);

    /* seek between entries: to id + 1 lands on the next entry */
    ck_assert_int_eq(js_postings_open(&c, rec, len, n, bs, has_pos, tight), 0);
    for (uint32_t i = 0; i + 1 < n; i++) {
        int rc = js_postings_seek(&c, L.ids[i] + 1);
        REQUIRE(rc == 1 && c.id == L.ids[i + 1], "%s: seek to %u + 1 gave %d, "
                "id %u", trips[_i].name, L.ids[i], rc, c.id);
    }
    js_postings_close(&c);

    /* seek from a fresh cursor: to 0, to each id - 1, past the end */
    for (uint32_t i = 0; i < n; i += 1 + n / 64) {
        uint32_t t[3] = {0, L.ids[i] ? L.ids[i] - 1 : 0, UINT32_MAX};
        for (int k = 0; k < 3; k++) {
            ck_assert_int_eq(
                js_postings_open(&c, rec, len, n, bs, has_pos, UINT32_MAX), 0);
            uint32_t want = lower_bound(&L, t[k]);
            int rc = js_postings_seek(&c, t[k]);
            if (want == n)
                REQUIRE(rc == 0, "%s: seek to %u gave %d", trips[_i].name,
                        t[k], rc);
            else
                REQUIRE(rc == 1 && c.id == L.ids[want], "%s: seek to %u gave "
                        "%d id %u", trips[_i].name, t[k], rc, c.id);
            js_postings_close(&c);
        }
    }

    /* skip_block over every block in turn, then next returns its first */
    ck_assert_int_eq(js_postings_open(&c, rec, len, n, bs, has_pos, tight), 0);
    for (uint32_t blk = 0; blk * bs < n; blk++) {
        uint32_t first = L.ids[blk * bs];
        ck_assert_int_eq(js_postings_skip_block(&c, first), 1);
        check_block_fields(&c, &L, bs, blk, -1);
        ck_assert_int_eq(js_postings_next(&c), 1);
        ck_assert_uint_eq(c.id, first);
    }
    js_postings_close(&c);

    random_ops(rec, len, &L, bs, tight, n < 100 ? 400 : 3000);
    js_buf_free(&b);
    plist_free(&L);
}
END_TEST

/* skip_block semantics on a small list, step by step.  Block size 4;
 * ids 10, 20, ..., 100 (blocks end at 40, 80, 100). */
START_TEST(test_skip_block_steps)
{
    uint32_t ids[10], tfs[10], lens[10];
    for (uint32_t i = 0; i < 10; i++) {
        ids[i] = 10 * (i + 1);
        tfs[i] = 1 + i % 3;
        lens[i] = 100 - i;
    }
    js_buf b = JS_BUF_INIT;
    ck_assert_int_eq(js_postings_encode(&b, ids, tfs, NULL, lens, TEST_AVG, 10, 4, NULL),
                     0);
    const uint8_t *rec = guard_place(b.p, b.len);
    js_postings_cursor c;
    ck_assert_int_eq(js_postings_open(&c, rec, b.len, 10, 4, 0, 1000), 0);
    /* open exposes block 0 */
    ck_assert_uint_eq(c.block_last_id, 40);
    ck_assert_uint_eq(c.block_max_tf, 3);
    ck_assert(c.block_max_norm == max_norm(tfs, lens, 0, 4, TEST_AVG));
    ck_assert(c.block_max_norm > 0);
    /* a target inside the current block stays */
    ck_assert_int_eq(js_postings_skip_block(&c, 35), 1);
    ck_assert_uint_eq(c.block_last_id, 40);
    /* jump to block 1 without decoding; next returns its first entry */
    ck_assert_int_eq(js_postings_skip_block(&c, 41), 1);
    ck_assert_uint_eq(c.block_last_id, 80);
    ck_assert_uint_eq(c.block_max_tf, 3);
    ck_assert(c.block_max_norm == max_norm(tfs, lens, 4, 8, TEST_AVG));
    /* the record's largest is the largest block's */
    float all = max_norm(tfs, lens, 0, 10, TEST_AVG);
    ck_assert(js_postings_max_norm(&c) == all);
    const uint32_t *p;
    ck_assert_int_eq(js_postings_positions(&c, &p), JS_EINVALID);
    ck_assert_int_eq(js_postings_next(&c), 1);
    ck_assert_uint_eq(c.id, 50);
    /* mid-block: a target the block covers keeps the position */
    ck_assert_int_eq(js_postings_skip_block(&c, 20), 1);
    ck_assert_int_eq(js_postings_next(&c), 1);
    ck_assert_uint_eq(c.id, 60);
    /* skip_block then seek decodes the block and scans */
    ck_assert_int_eq(js_postings_skip_block(&c, 81), 1);
    ck_assert_uint_eq(c.block_last_id, 100);
    ck_assert_uint_eq(c.block_max_tf, 3);
    ck_assert(c.block_max_norm == max_norm(tfs, lens, 8, 10, TEST_AVG));
    ck_assert_int_eq(js_postings_seek(&c, 95), 1);
    ck_assert_uint_eq(c.id, 100);
    ck_assert_int_eq(js_postings_skip_block(&c, 101), 0);
    ck_assert_int_eq(js_postings_next(&c), 0);
    js_postings_close(&c);

    /* one block: skip_block decodes it and reports its own values */
    b.len = 0;
    ck_assert_int_eq(js_postings_encode(&b, ids, tfs, NULL, lens, TEST_AVG, 3, 4, NULL),
                     0);
    rec = guard_place(b.p, b.len);
    ck_assert_int_eq(js_postings_open(&c, rec, b.len, 3, 4, 0, 1000), 0);
    ck_assert_int_eq(js_postings_skip_block(&c, 5), 1);
    ck_assert_uint_eq(c.block_last_id, 30);
    ck_assert_uint_eq(c.block_max_tf, 3);
    ck_assert(c.block_max_norm == 0); /* unknown without a table */
    ck_assert(js_postings_max_norm(&c) == 0);
    ck_assert_int_eq(js_postings_next(&c), 1);
    ck_assert_uint_eq(c.id, 10);
    ck_assert_int_eq(js_postings_skip_block(&c, 31), 0);
    ck_assert_int_eq(js_postings_next(&c), 0);
    js_postings_close(&c);
    js_buf_free(&b);
}
END_TEST

/* ------------------------------------------------------------------
 * Bad input and arguments
 * ---------------------------------------------------------------- */

static const struct {
    const char *name;
    uint32_t n, bs;
    uint32_t ids[4], tfs[4];
    int with_pos;
    uint32_t pos[8];
} bad_input[] = {
    {"no entries", 0, 128, {1}, {1}, 0, {0}},
    {"block size 0", 1, 0, {1}, {1}, 0, {0}},
    {"block size above JS_BLOCK_SIZE * 8", 1, JS_BLOCK_SIZE * 8 + 1, {1}, {1},
     0, {0}},
    {"equal ids", 2, 128, {1, 1}, {1, 1}, 0, {0}},
    {"decreasing ids", 2, 128, {5, 3}, {1, 1}, 0, {0}},
    {"equal ids in a later block", 3, 1, {1, 2, 2}, {1, 1, 1}, 0, {0}},
    {"tf 0", 2, 128, {1, 2}, {1, 0}, 0, {0}},
    {"tf 0 in a later block", 4, 2, {1, 2, 3, 4}, {1, 1, 1, 0}, 0, {0}},
    {"equal positions", 2, 128, {1, 2}, {1, 2}, 1, {0, 4, 4}},
    {"decreasing positions", 2, 128, {1, 2}, {2, 1}, 1, {7, 3, 0}},
    {"positions wrapping", 1, 128, {1}, {2}, 1, {UINT32_MAX, 0}},
};

START_TEST(test_encode_bad_input)
{
    js_buf b = JS_BUF_INIT;
    ck_assert_int_eq(js_buf_put(&b, "abc", 3), 0);
    js_postings_info info = {77, 77};
    int rc = js_postings_encode(&b, bad_input[_i].ids, bad_input[_i].tfs,
                                bad_input[_i].with_pos ? bad_input[_i].pos : NULL,
                                NULL, 0, bad_input[_i].n, bad_input[_i].bs, &info);
    ck_assert_msg(rc == JS_EINVALID, "%s: got %d", bad_input[_i].name, rc);
    ck_assert_uint_eq(b.len, 3); /* nothing appended */
    ck_assert(!memcmp(b.p, "abc", 3));
    ck_assert_uint_eq(info.max_tf, 77);
    js_buf_free(&b);
}
END_TEST

START_TEST(test_arguments)
{
    uint32_t ids[3] = {1, 5, 9}, tfs[3] = {1, 2, 1}, pos[4] = {0, 1, 2, 3};
    js_buf b = JS_BUF_INIT;
    ck_assert_int_eq(js_postings_encode(NULL, ids, tfs, NULL, NULL, 0, 3, 4, NULL),
                     JS_EINVALID);
    ck_assert_int_eq(js_postings_encode(&b, NULL, tfs, NULL, NULL, 0, 3, 4, NULL),
                     JS_EINVALID);
    ck_assert_int_eq(js_postings_encode(&b, ids, NULL, NULL, NULL, 0, 3, 4, NULL),
                     JS_EINVALID);
    ck_assert_uint_eq(b.len, 0);
    /* a buffer whose allocation failed before stays failed */
    b.oom = 1;
    ck_assert_int_eq(js_postings_encode(&b, ids, tfs, NULL, NULL, 0, 3, 4, NULL),
                     JS_ENOMEM);
    ck_assert_uint_eq(b.len, 0);
    b.oom = 0;
    ck_assert_int_eq(js_postings_encode(&b, ids, tfs, pos, NULL, 0, 3, 2, NULL), 0);

    js_postings_cursor c;
    const uint8_t *rec = guard_place(b.p, b.len);
    ck_assert_int_eq(js_postings_open(NULL, rec, b.len, 3, 2, 1, 10),
                     JS_EINVALID);
    ck_assert_int_eq(js_postings_open(&c, NULL, 5, 3, 2, 1, 10), JS_EINVALID);
    js_postings_close(&c);
    ck_assert_int_eq(js_postings_open(&c, rec, b.len, 0, 2, 1, 10), JS_EINVALID);
    js_postings_close(&c);
    ck_assert_int_eq(js_postings_open(&c, rec, b.len, 3, 0, 1, 10), JS_EINVALID);
    js_postings_close(&c);
    ck_assert_int_eq(js_postings_open(&c, rec, b.len, 3, JS_BLOCK_SIZE * 8 + 1,
                                      1, 10),
                     JS_EINVALID);
    js_postings_close(&c);
    /* df above the section count; records too short for their entries
     * (a byte each in one block) or for their skip table */
    ck_assert_int_eq(js_postings_open(&c, rec, b.len, 3, 2, 1, 2), JS_ECORRUPT);
    ck_assert_int_eq(js_postings_next(&c), JS_ECORRUPT);
    js_postings_close(&c);
    ck_assert_int_eq(js_postings_open(&c, NULL, 0, 1, 2, 1, 10), JS_ECORRUPT);
    js_postings_close(&c);
    ck_assert_int_eq(js_postings_open(&c, rec, 2, 3, 4, 1, 10), JS_ECORRUPT);
    js_postings_close(&c);
    ck_assert_int_eq(js_postings_open(&c, rec, 35, 3, 2, 1, 10), JS_ECORRUPT);
    js_postings_close(&c);

    /* positions: refused before the first entry and without positions */
    ck_assert_int_eq(js_postings_open(&c, rec, b.len, 3, 2, 1, 10), 0);
    const uint32_t *p;
    ck_assert_int_eq(js_postings_positions(&c, &p), JS_EINVALID);
    ck_assert_int_eq(js_postings_next(&c), 1);
    ck_assert_int_eq(js_postings_positions(&c, &p), 0);
    ck_assert_uint_eq(p[0], 0);
    ck_assert_int_eq(js_postings_next(&c), 1);
    ck_assert_int_eq(js_postings_positions(&c, &p), 0);
    ck_assert_uint_eq(p[0], 1);
    ck_assert_uint_eq(p[1], 2);
    js_postings_close(&c);
    js_postings_close(&c); /* twice is harmless */
    ck_assert_int_eq(js_postings_next(&c), 0); /* closed: as exhausted */
    b.len = 0;
    ck_assert_int_eq(js_postings_encode(&b, ids, tfs, NULL, NULL, 0, 3, 2, NULL), 0);
    rec = guard_place(b.p, b.len);
    ck_assert_int_eq(js_postings_open(&c, rec, b.len, 3, 2, 0, 10), 0);
    ck_assert_int_eq(js_postings_next(&c), 1);
    ck_assert_int_eq(js_postings_positions(&c, &p), JS_EINVALID);
    js_postings_close(&c);
    js_buf_free(&b);
}
END_TEST

/* ------------------------------------------------------------------
 * Hand-built records: bytes that break one rule each (no crc guards a
 * record: a cursor without shared checks runs the structural checks
 * alone, so these reach them)
 * ---------------------------------------------------------------- */

/* One-block records, byte by byte: per entry varint(gap << 1 | tf > 1)
 * [varint(tf - 2)], then the positions' varints. */
static const struct small_case {
    const char *name;
    uint32_t df, max_id;
    int has_pos;
    uint32_t n;
    uint8_t b[24];
    int want;
} smalls[] = {
    {"valid: ids 5 6 16, tfs 1 2 1, positions", 3, 100, 1, 8,
     {0x0A, 0x03, 0x00, 0x14, 0x03, 0x07, 0x02, 0x00}, 0},
    {"valid: id 0 alone", 1, 1, 0, 1, {0x00}, 0},
    {"valid: id 2^32 - 2, tf 2^32 - 1", 1, UINT32_MAX, 0, 10,
     {0xFD, 0xFF, 0xFF, 0xFF, 0x1F, 0xFD, 0xFF, 0xFF, 0xFF, 0x0F}, 0},
    {"valid: a gap varint of 10 bytes", 1, 100, 0, 10,
     {0x8A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 0},
    {"valid: positions up to 2^32 - 1", 1, 100, 1, 8,
     {0x0B, 0x00, 0xFE, 0xFF, 0xFF, 0xFF, 0x0F, 0x01}, 0},
    {"a gap varint of 11 bytes", 1, 100, 0, 11,
     {0x8A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
     JS_ECORRUPT},
    {"a gap varint past 2^64", 1, 100, 0, 10,
     {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02},
     JS_ECORRUPT},
    {"a gap varint cut off", 1, 100, 0, 1, {0x80}, JS_ECORRUPT},
    {"the second entry's varint cut off", 2, 100, 0, 2, {0x0A, 0x82},
     JS_ECORRUPT},
    {"a tf varint of 6 bytes", 1, 100, 0, 7,
     {0x0B, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, JS_ECORRUPT},
    {"a tf varint past 2^32", 1, 100, 0, 6,
     {0x0B, 0x80, 0x80, 0x80, 0x80, 0x10}, JS_ECORRUPT},
    {"tf 2^32 (tf - 2 = 2^32 - 2)", 1, 100, 0, 6,
     {0x0B, 0xFE, 0xFF, 0xFF, 0xFF, 0x0F}, JS_ECORRUPT},
    {"a tf flag with its varint missing", 1, 100, 0, 1, {0x0B}, JS_ECORRUPT},
    {"a byte after the entries", 1, 100, 0, 2, {0x0A, 0x00}, JS_ECORRUPT},
    {"equal ids (gap 0)", 2, 100, 0, 2, {0x0A, 0x00}, JS_ECORRUPT},
    {"id 0, then gap 0", 2, 100, 0, 2, {0x00, 0x00}, JS_ECORRUPT},
    {"id equal to the section count", 1, 5, 0, 1, {0x0A}, JS_ECORRUPT},
    {"a gap of 2^32 from id 5", 2, UINT32_MAX, 0, 6,
     {0x0A, 0x80, 0x80, 0x80, 0x80, 0x20}, JS_ECORRUPT},
    {"a gap of 2^63 - 1 (no wrap in 64 bits)", 2, UINT32_MAX, 0, 11,
     {0x0A, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01},
     JS_ECORRUPT},
    {"position difference 0", 1, 100, 1, 4, {0x0B, 0x00, 0x04, 0x00},
     JS_ECORRUPT},
    {"positions past 2^32 - 1", 1, 100, 1, 8,
     {0x0B, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01}, JS_ECORRUPT},
    {"a position varint of 6 bytes", 1, 100, 1, 7,
     {0x0A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, JS_ECORRUPT},
    {"a position varint cut off", 1, 100, 1, 4, {0x0B, 0x00, 0x04, 0x81},
     JS_ECORRUPT},
    {"a byte after the positions", 1, 100, 1, 3, {0x0A, 0x04, 0x00},
     JS_ECORRUPT},
    {"positions of two entries, three given", 2, 100, 1, 5,
     {0x0A, 0x02, 0x04, 0x05, 0x06}, JS_ECORRUPT},
    {"fewer position bytes than tf", 1, 100, 1, 4, {0x0D, 0x01, 0x04, 0x01},
     JS_ECORRUPT},
    {"no positions where the flag says", 1, 100, 1, 1, {0x0A}, JS_ECORRUPT},
    {"a record shorter than df bytes", 3, 100, 0, 2, {0x0A, 0x02},
     JS_ECORRUPT},
};

START_TEST(test_small_crafted)
{
    const struct small_case *t = &smalls[_i];
    const uint8_t *rec = guard_place(t->b, t->n);
    int wrong = 0;
    int rc = walk(rec, t->n, t->df, 128, t->has_pos, t->max_id, NULL, &wrong);
    ck_assert_msg(rc == t->want, "%s: got %d, want %d", t->name, rc, t->want);
    if (t->want == 0)
        ck_assert_msg(!wrong, "%s: wrong entry count", t->name);
}
END_TEST

/* Blocks of a multi-block record, from their parts (the ids Stream
 * VByte, the frequencies' bitmap and varints, the positions' varints as
 * given, so that each can break a rule). */
typedef struct {
    uint32_t cnt;
    uint32_t idd[6];  /* stored id differences */
    uint8_t map;      /* the tf > 1 bitmap (one byte: cnt <= 6) */
    uint32_t ntf;
    uint64_t tfv[6];  /* stored tf - 2, one per set bit as given */
    uint32_t npos;
    uint64_t posd[6]; /* stored position varints */
    uint32_t cut;     /* bytes dropped from the block's end */
    uint32_t extra;   /* zero bytes added at the block's end */
    uint8_t key_xor;  /* xored into the ids' first control byte */
} rblock;

enum { F_NONE, F_LAST, F_END, F_MAXTF, F_NORM };

typedef struct {
    const char *name;
    uint32_t df, bs, max_id;
    int has_pos;
    uint32_t nblocks; /* blocks built; a skip table when > 1 */
    rblock blk[3];
    int field;         /* F_*: a skip table field to change */
    uint32_t entry;    /* in that entry */
    int set;           /* 1: set it to value; 0: add value to it */
    uint32_t value;
    uint32_t tail;     /* zero bytes after the last block */
    int want;
} crafted;

/* three blocks of block size 2: ids 1 3 | 6 7 | 17, tfs 1 1 | 1 3 | 1 */
#define VALID3                                                                 \
    {{2, {1, 2}, 0, 0, {0}, 0, {0}, 0, 0, 0},                                  \
     {2, {3, 1}, 0x02, 1, {1}, 0, {0}, 0, 0, 0},                               \
     {1, {10}, 0, 0, {0}, 0, {0}, 0, 0, 0}}
/* the same ids and tfs with positions 4 | 9 | 2 | 0 2 7 | 5 */
#define VALID3P                                                                \
    {{2, {1, 2}, 0, 0, {0}, 2, {4, 9}, 0, 0, 0},                               \
     {2, {3, 1}, 0x02, 1, {1}, 4, {2, 0, 2, 5}, 0, 0, 0},                      \
     {1, {10}, 0, 0, {0}, 1, {5}, 0, 0, 0}}

static const crafted crafts[] = {
    {"valid, three blocks", 5, 2, 100, 0, 3, VALID3, F_NONE, 0, 0, 0, 0, 0},
    {"valid, three blocks with positions", 5, 2, 100, 1, 3, VALID3P, F_NONE,
     0, 0, 0, 0, 0},
    {"valid, tf 2^32 - 1", 3, 2, 100, 0, 2,
     {{2, {1, 2}, 0x01, 1, {UINT32_MAX - 2}, 0, {0}, 0, 0, 0},
      {1, {4}, 0, 0, {0}, 0, {0}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, 0},
    {"duplicate id", 3, 2, 100, 0, 2,
     {{2, {5, 0}, 0, 0, {0}, 0, {0}, 0, 0, 0},
      {1, {4}, 0, 0, {0}, 0, {0}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"id difference wraps past 2^32 - 1", 3, 2, 100, 0, 2,
     {{2, {5, UINT32_MAX}, 0, 0, {0}, 0, {0}, 0, 0, 0},
      {1, {4}, 0, 0, {0}, 0, {0}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"a tf flag with its varint missing", 5, 2, 100, 0, 3,
     {{2, {1, 2}, 0, 0, {0}, 0, {0}, 0, 0, 0},
      {2, {3, 1}, 0x02, 1, {1}, 0, {0}, 0, 0, 0},
      {1, {10}, 0x01, 0, {0}, 0, {0}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"a tf flag taking a position's varint", 5, 2, 100, 1, 3,
     {{2, {1, 2}, 0x01, 0, {0}, 3, {4, 1, 9}, 0, 0, 0},
      {2, {3, 1}, 0x02, 1, {1}, 4, {2, 0, 2, 5}, 0, 0, 0},
      {1, {10}, 0, 0, {0}, 1, {5}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"a tf flag past the block's entries", 5, 2, 100, 0, 3,
     {{2, {1, 2}, 0, 0, {0}, 0, {0}, 0, 0, 0},
      {2, {3, 1}, 0x06, 2, {1, 1}, 0, {0}, 0, 0, 0},
      {1, {10}, 0, 0, {0}, 0, {0}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"tf 2^32 (tf - 2 = 2^32 - 2)", 3, 2, 100, 0, 2,
     {{2, {1, 2}, 0x01, 1, {UINT32_MAX - 1}, 0, {0}, 0, 0, 0},
      {1, {4}, 0, 0, {0}, 0, {0}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"a tf varint past 2^32", 3, 2, 100, 0, 2,
     {{2, {1, 2}, 0x01, 1, {1ull << 35}, 0, {0}, 0, 0, 0},
      {1, {4}, 0, 0, {0}, 0, {0}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"a byte after the tfs", 5, 2, 100, 0, 3,
     {{2, {1, 2}, 0, 0, {0}, 0, {0}, 0, 1, 0},
      {2, {3, 1}, 0x02, 1, {1}, 0, {0}, 0, 0, 0},
      {1, {10}, 0, 0, {0}, 0, {0}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"tfs cut short", 5, 2, 100, 0, 3,
     {{2, {1, 2}, 0, 0, {0}, 0, {0}, 0, 0, 0},
      {2, {3, 1}, 0x02, 1, {300}, 0, {0}, 1, 0, 0},
      {1, {10}, 0, 0, {0}, 0, {0}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"id control bytes announce too much", 5, 2, 100, 0, 3,
     {{2, {1, 2}, 0, 0, {0}, 0, {0}, 0, 0, 0x0F},
      {2, {3, 1}, 0x02, 1, {1}, 0, {0}, 0, 0, 0},
      {1, {10}, 0, 0, {0}, 0, {0}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"position difference 0", 5, 2, 100, 1, 3,
     {{2, {1, 2}, 0, 0, {0}, 2, {4, 9}, 0, 0, 0},
      {2, {3, 1}, 0x02, 1, {1}, 4, {2, 0, 0, 5}, 0, 0, 0},
      {1, {10}, 0, 0, {0}, 1, {5}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"positions pass 2^32 - 1", 5, 2, 100, 1, 3,
     {{2, {1, 2}, 0, 0, {0}, 2, {4, 9}, 0, 0, 0},
      {2, {3, 1}, 0x02, 1, {1}, 4, {2, UINT32_MAX - 1, 1, 1}, 0, 0, 0},
      {1, {10}, 0, 0, {0}, 1, {5}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"a byte after the positions", 5, 2, 100, 1, 3,
     {{2, {1, 2}, 0, 0, {0}, 2, {4, 9}, 0, 1, 0},
      {2, {3, 1}, 0x02, 1, {1}, 4, {2, 0, 2, 5}, 0, 0, 0},
      {1, {10}, 0, 0, {0}, 1, {5}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"positions cut short", 5, 2, 100, 1, 3,
     {{2, {1, 2}, 0, 0, {0}, 2, {4, 9}, 0, 0, 0},
      {2, {3, 1}, 0x02, 1, {1}, 4, {2, 0, 2, 70000}, 1, 0, 0},
      {1, {10}, 0, 0, {0}, 1, {5}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"tfs promise more positions than the block holds", 5, 2, 100, 1, 3,
     {{2, {1, 2}, 0, 0, {0}, 2, {4, 9}, 0, 0, 0},
      {2, {3, 1}, 0x02, 1, {999}, 4, {2, 0, 2, 5}, 0, 0, 0},
      {1, {10}, 0, 0, {0}, 1, {5}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"no positions where the flag says", 5, 2, 100, 1, 3, VALID3, F_NONE, 0,
     0, 0, 0, JS_ECORRUPT},
    {"positions where the flag says none", 5, 2, 100, 0, 3, VALID3P, F_NONE,
     0, 0, 0, 0, JS_ECORRUPT},
    {"block's last id differs from the table", 5, 2, 100, 0, 3, VALID3, F_LAST,
     1, 0, 1, 0, JS_ECORRUPT},
    {"block's first id not above the previous last", 4, 2, 100, 0, 2,
     {{2, {1, 2}, 0, 0, {0}, 0, {0}, 0, 0, 0},
      {2, {0, 5}, 0, 0, {0}, 0, {0}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"block's first id wraps from the previous last", 4, 2, 100, 0, 2,
     {{2, {1, 2}, 0, 0, {0}, 0, {0}, 0, 0, 0},
      {2, {UINT32_MAX, 6}, 0, 0, {0}, 0, {0}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"block's max tf differs from the table", 5, 2, 100, 0, 3, VALID3,
     F_MAXTF, 1, 0, 1, 0, JS_ECORRUPT},
    {"table: the norm is not checked against the entries", 5, 2, 100, 0, 3,
     VALID3, F_NORM, 1, 1, 12345, 0, 0},
    {"table: max tf 0", 5, 2, 100, 0, 3, VALID3, F_MAXTF, 0, 1, 0, 0,
     JS_ECORRUPT},
    {"table: last ids not increasing", 5, 2, 100, 0, 3, VALID3, F_LAST, 1, 1, 3,
     0, JS_ECORRUPT},
    {"table: last id too small for the block's entries", 5, 2, 100, 0, 3,
     VALID3, F_LAST, 0, 1, 0, 0, JS_ECORRUPT},
    {"table: last id at the section count", 5, 2, 17, 0, 3, VALID3, F_NONE, 0,
     0, 0, 0, JS_ECORRUPT},
    {"table: first end 0", 5, 2, 100, 0, 3, VALID3, F_END, 0, 1, 0, 0,
     JS_ECORRUPT},
    {"table: a block shorter than its entries can be", 5, 2, 100, 0, 3,
     VALID3, F_END, 0, 1, 3, 0, JS_ECORRUPT},
    {"table: end inside the next block", 5, 2, 100, 0, 3, VALID3, F_END, 0, 0,
     1, 0, JS_ECORRUPT},
    {"table: ends not increasing", 5, 2, 100, 0, 3, VALID3, F_END, 1, 0,
     (uint32_t)-100, 0, JS_ECORRUPT},
    {"table: last end past the record", 5, 2, 100, 0, 3, VALID3, F_END, 2, 0,
     1, 0, JS_ECORRUPT},
    {"bytes after the last block", 5, 2, 100, 0, 3, VALID3, F_NONE, 0, 0, 0, 1,
     JS_ECORRUPT},
    {"df needs more blocks than the table has", 6, 2, 100, 0, 3, VALID3,
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"df allows fewer blocks than the table has", 4, 2, 100, 0, 3, VALID3,
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"df in the last block larger than stored", 6, 3, 100, 0, 2,
     {{3, {1, 2, 3}, 0, 0, {0}, 0, {0}, 0, 0, 0},
      {2, {1, 1}, 0, 0, {0}, 0, {0}, 0, 0, 0}},
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"df of one block, record of a skip table", 2, 4, 100, 0, 3, VALID3,
     F_NONE, 0, 0, 0, 0, JS_ECORRUPT},
    {"skip table missing", 5, 2, 100, 0, 1,
     {{5, {1, 2, 3, 1, 10}, 0, 0, {0}, 0, {0}, 0, 0, 0}}, F_NONE, 0, 0, 0, 0,
     JS_ECORRUPT},
};

static void put_vint(js_buf *b, uint64_t v)
{
    ck_assert_int_eq(js_buf_varint(b, v), 0);
}

/* Builds crafts[i]'s record into out (see the rblock fields); the skip
 * table's max tf is each block's largest as its bitmap and varints
 * say. */
static void build_crafted(js_buf *out, const crafted *cr)
{
    js_buf blocks = JS_BUF_INIT;
    uint32_t last = 0, ends[3] = {0}, lasts[3] = {0}, maxtfs[3] = {0};
    uint8_t tmp[256];
    for (uint32_t b = 0; b < cr->nblocks; b++) {
        const rblock *r = &cr->blk[b];
        js_buf blk = JS_BUF_INIT;
        size_t k = streamvbyte_encode(r->idd, r->cnt, tmp);
        tmp[0] ^= r->key_xor;
        js_buf_put(&blk, tmp, k);
        js_buf_u8(&blk, r->map);
        maxtfs[b] = 1;
        for (uint32_t i = 0; i < r->ntf; i++) {
            put_vint(&blk, r->tfv[i]);
            uint64_t tf = r->tfv[i] + 2;
            if (tf <= UINT32_MAX && tf > maxtfs[b])
                maxtfs[b] = (uint32_t)tf;
        }
        for (uint32_t i = 0; i < r->npos; i++)
            put_vint(&blk, r->posd[i]);
        for (uint32_t i = 0; i < r->extra; i++)
            js_buf_u8(&blk, 0);
        ck_assert_uint_ge(blk.len, r->cut);
        blk.len -= r->cut;
        js_buf_put(&blocks, blk.p, blk.len);
        js_buf_free(&blk);
        for (uint32_t i = 0; i < r->cnt; i++)
            last += r->idd[i];
        lasts[b] = last;
        ends[b] = (uint32_t)blocks.len;
    }
    for (uint32_t i = 0; i < cr->tail; i++)
        js_buf_u8(&blocks, 0);
    js_buf_put(out, blocks.p, blocks.len);
    if (cr->nblocks > 1) {
        uint8_t table[3 * 16];
        for (uint32_t b = 0; b < cr->nblocks; b++) {
            uint32_t v[4] = {lasts[b], ends[b], maxtfs[b], 0};
            if (cr->field != F_NONE && cr->entry == b) {
                uint32_t *f = &v[cr->field - F_LAST];
                *f = cr->set ? cr->value : *f + cr->value;
            }
            for (int j = 0; j < 4; j++)
                for (int k2 = 0; k2 < 4; k2++)
                    table[16 * b + 4 * j + k2] = (uint8_t)(v[j] >> (8 * k2));
        }
        js_buf_put(out, table, 16 * cr->nblocks);
        js_buf_u32(out, (uint32_t)crc32(0L, table, 16 * cr->nblocks));
    }
    js_buf_free(&blocks);
    ck_assert(!out->oom);
}

START_TEST(test_crafted)
{
    const crafted *cr = &crafts[_i];
    js_buf b = JS_BUF_INIT;
    build_crafted(&b, cr);
    const uint8_t *rec = guard_place(b.p, b.len);
    int wrong = 0;
    int rc = walk(rec, b.len, cr->df, cr->bs, cr->has_pos, cr->max_id, NULL,
                  &wrong);
    ck_assert_msg(rc == cr->want, "%s: got %d, want %d", cr->name, rc,
                  cr->want);
    if (cr->want == 0)
        ck_assert_msg(!wrong, "%s: wrong entry count", cr->name);
    js_buf_free(&b);
}
END_TEST

/* Reads a hand-built record with next() and positions() and compares
 * what comes back with ids / tfs / pos (pos[i]: entry i's positions). */
static void expect_entries(const uint8_t *rec, size_t len, uint32_t df,
                           uint32_t bs, int has_pos, uint32_t max_id,
                           const uint32_t *ids, const uint32_t *tfs,
                           const uint32_t (*pos)[3])
{
    js_postings_cursor c;
    ck_assert_int_eq(js_postings_open(&c, guard_place(rec, len), len, df, bs,
                                      has_pos, max_id),
                     0);
    for (uint32_t i = 0; i < df; i++) {
        const uint32_t *p;
        ck_assert_int_eq(js_postings_next(&c), 1);
        ck_assert_uint_eq(c.id, ids[i]);
        ck_assert_uint_eq(c.tf, tfs[i]);
        if (!has_pos)
            continue;
        ck_assert_int_eq(js_postings_positions(&c, &p), 0);
        for (uint32_t j = 0; j < tfs[i]; j++)
            ck_assert_uint_eq(p[j], pos[i][j]);
    }
    ck_assert_int_eq(js_postings_next(&c), 0);
    js_postings_close(&c);
}

/* The hand-built valid records decode to what they say. */
START_TEST(test_crafted_values)
{
    static const uint32_t ids1[3] = {5, 6, 16}, tfs1[3] = {1, 2, 1};
    static const uint32_t pos1[3][3] = {{3}, {7, 9}, {0}};
    expect_entries(smalls[0].b, smalls[0].n, 3, 128, 1, 100, ids1, tfs1, pos1);
    static const uint32_t ids2[1] = {UINT32_MAX - 1}, tfs2[1] = {UINT32_MAX};
    expect_entries(smalls[2].b, smalls[2].n, 1, 128, 0, UINT32_MAX, ids2,
                   tfs2, NULL);
    static const uint32_t ids3[1] = {5}, tfs3[1] = {1};
    expect_entries(smalls[3].b, smalls[3].n, 1, 128, 0, 100, ids3, tfs3, NULL);
    static const uint32_t ids4[1] = {5}, tfs4[1] = {2};
    static const uint32_t pos4[1][3] = {{UINT32_MAX - 1, UINT32_MAX}};
    expect_entries(smalls[4].b, smalls[4].n, 1, 128, 1, 100, ids4, tfs4, pos4);

    js_buf b = JS_BUF_INIT;
    build_crafted(&b, &crafts[1]);
    static const uint32_t ids5[5] = {1, 3, 6, 7, 17}, tfs5[5] = {1, 1, 1, 3, 1};
    static const uint32_t pos5[5][3] = {{4}, {9}, {2}, {0, 2, 7}, {5}};
    expect_entries(b.p, b.len, 5, 2, 1, 100, ids5, tfs5, pos5);
    b.len = 0;
    build_crafted(&b, &crafts[2]);
    static const uint32_t ids6[3] = {1, 3, 7}, tfs6[3] = {UINT32_MAX, 1, 1};
    expect_entries(b.p, b.len, 3, 2, 0, 100, ids6, tfs6, NULL);
    js_buf_free(&b);
}
END_TEST

/* Wrong lexicon values for a good record. */
static const struct {
    const char *name;
    int64_t df_add;
    uint32_t bs; /* 0: the right one */
    int flip_pos;
    int64_t max_id_add; /* to the last id + 1 */
} wrong_args[] = {
    {"df + 1", 1, 0, 0, 0},
    {"df - 1", -1, 0, 0, 0},
    {"df + block size", 7, 0, 0, 0},
    {"df - block size", -7, 0, 0, 0},
    {"block size + 1", 0, 8, 0, 0},
    {"block size - 1", 0, 6, 0, 0},
    {"block size 128 (one block)", 0, 128, 0, 0},
    {"positions flag cleared", 0, 0, 1, 0},
    {"section count = last id", 0, 0, 0, -1},
};

START_TEST(test_wrong_arguments)
{
    plist L;
    rng_state = 99;
    plist_make(&L, 40, G_RANDOM, T_SMALL, P_RANDOM, 0);
    js_buf b = encode_list(&L, 7);
    const uint8_t *rec = guard_place(b.p + 3, b.len - 3);
    int wrong = 0;
    int rc = walk(rec, b.len - 3, (uint32_t)(40 + wrong_args[_i].df_add),
                  wrong_args[_i].bs ? wrong_args[_i].bs : 7,
                  !wrong_args[_i].flip_pos,
                  (uint32_t)(L.ids[39] + 1 + wrong_args[_i].max_id_add), &L,
                  &wrong);
    ck_assert_msg(rc == JS_ECORRUPT, "%s: got %d (wrong %d)",
                  wrong_args[_i].name, rc, wrong);
    /* and a record without positions read as one with them */
    js_buf_free(&b);
    b = encode_list(&(plist){L.n, L.ids, L.tfs, NULL, NULL, NULL, 0}, 7);
    rec = guard_place(b.p + 3, b.len - 3);
    rc = walk(rec, b.len - 3, 40, 7, 1, UINT32_MAX, NULL, &wrong);
    ck_assert_int_eq(rc, JS_ECORRUPT);
    js_buf_free(&b);
    plist_free(&L);
}
END_TEST

/* ------------------------------------------------------------------
 * Page checksums (js_page_crcs, js_block_checks) and damage
 * ---------------------------------------------------------------- */

/* Builds the POSTINGS_CRC part of p[0..n) with pages of `page` bytes,
 * the bytes fed in pieces of random sizes. */
static js_buf page_part(const uint8_t *p, size_t n, uint32_t page)
{
    js_page_crcs w;
    memset(&w, 0, sizeof w);
    ck_assert_int_eq(js_page_crcs_init(&w, page), 0);
    size_t at = 0;
    while (at < n) {
        size_t k = 1 + rnd() % (3 * page);
        if (k > n - at)
            k = n - at;
        ck_assert_int_eq(js_page_crcs_add(&w, p + at, k), 0);
        at += k;
    }
    ck_assert_int_eq(js_page_crcs_add(&w, p, 0), 0);
    js_buf part = JS_BUF_INIT;
    ck_assert_int_eq(js_page_crcs_finish(&w, &part), 0);
    js_page_crcs_free(&w);
    return part;
}

/* js_crc32 (libdeflate's, by carry-less multiplication where the CPU
 * has it) equals
 * zlib's crc32 at every length to past 2 KiB, from every alignment, on
 * random bytes and on runs of 0x00 and 0xFF. */
START_TEST(test_crc32)
{
    const size_t max = 2100;
    uint8_t *buf = xmalloc(max + 16);
    rng_state = 1234;
    for (int fill = 0; fill < 3; fill++) {
        for (size_t i = 0; i < max + 16; i++)
            buf[i] = fill == 0 ? (uint8_t)rnd() : fill == 1 ? 0x00 : 0xFF;
        for (size_t align = 0; align < 16; align++)
            for (size_t n = 0; n <= max; n++) {
                uint32_t want = (uint32_t)crc32(0L, buf + align, (uInt)n);
                REQUIRE(js_crc32(buf + align, n) == want,
                        "crc32 of %zu bytes at +%zu (fill %d)", n, align,
                        fill);
            }
    }
    free(buf);
}
END_TEST

/* The part: page size, count, a crc per page (the last one shorter),
 * the crc of those; init accepts it and nothing else. */
START_TEST(test_page_crcs)
{
    static const uint32_t sizes[] = {0, 1, 63, 64, 65, 1000, 1024, 4097};
    rng_state = 5;
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        size_t n = sizes[si];
        uint8_t *d = xmalloc(n);
        for (size_t i = 0; i < n; i++)
            d[i] = (uint8_t)rnd();
        js_buf part = page_part(d, n, 64);
        uint64_t pages = (n + 63) / 64;
        ck_assert_uint_eq(part.len, 16 + 4 * pages);
        ck_assert_uint_eq(js_le32(part.p), 64);
        ck_assert_uint_eq(js_le64(part.p + 4), pages);
        for (uint64_t g = 0; g < pages; g++) {
            size_t len = n - g * 64 < 64 ? n - g * 64 : 64;
            ck_assert_uint_eq(js_le32(part.p + 12 + 4 * g),
                              (uint32_t)crc32(0L, d + g * 64, (uInt)len));
        }
        ck_assert_uint_eq(js_le32(part.p + part.len - 4),
                          (uint32_t)crc32(0L, part.p, (uInt)part.len - 4));
        js_block_checks k;
        ck_assert_int_eq(js_block_checks_init(&k, d, n, part.p, part.len), 0);
        ck_assert_uint_eq(k.npages, pages);
        ck_assert_int_eq(js_block_checks_verify(&k, NULL), 0);
        js_block_checks_free(&k);
        /* a part for another length of postings */
        ck_assert_int_eq(js_block_checks_init(&k, d, n + 64, part.p, part.len),
                         JS_ECORRUPT);
        if (n >= 64)
            ck_assert_int_eq(
                js_block_checks_init(&k, d, n - 64, part.p, part.len),
                JS_ECORRUPT);
        /* every byte of the part is under its crc */
        for (size_t i = 0; i < part.len; i++) {
            part.p[i] ^= 0x10;
            ck_assert_int_eq(
                js_block_checks_init(&k, d, n, part.p, part.len), JS_ECORRUPT);
            part.p[i] ^= 0x10;
        }
        for (size_t cut = 0; cut < part.len; cut++)
            ck_assert_int_eq(js_block_checks_init(&k, d, n, part.p, cut),
                             JS_ECORRUPT);
        ck_assert_int_eq(js_block_checks_init(&k, d, n, NULL, 0), JS_ECORRUPT);
        js_buf_free(&part);
        free(d);
    }
    /* page sizes: powers of two from 64 to 65536 */
    js_page_crcs w;
    memset(&w, 0, sizeof w);
    static const uint32_t bad_pages[] = {0, 1, 32, 100, 1000, 131072};
    for (size_t i = 0; i < sizeof bad_pages / sizeof *bad_pages; i++)
        ck_assert_int_eq(js_page_crcs_init(&w, bad_pages[i]), JS_EINVALID);
    static const uint32_t good_pages[] = {64, 1024, 65536};
    for (size_t i = 0; i < sizeof good_pages / sizeof *good_pages; i++) {
        ck_assert_int_eq(js_page_crcs_init(&w, good_pages[i]), 0);
        js_page_crcs_free(&w);
    }
    /* a part whose crc is right but whose page size is not */
    uint8_t d[100] = {0};
    for (size_t i = 0; i < sizeof bad_pages / sizeof *bad_pages; i++) {
        js_buf part = JS_BUF_INIT;
        uint32_t page = bad_pages[i];
        uint64_t pages = page ? (100 + page - 1) / page : 0;
        js_buf_u32(&part, page);
        js_buf_u64(&part, pages);
        for (uint64_t g = 0; g < pages; g++)
            js_buf_u32(&part, 0);
        js_buf_u32(&part, (uint32_t)crc32(0L, part.p, (uInt)part.len));
        js_block_checks k;
        ck_assert_int_eq(js_block_checks_init(&k, d, 100, part.p, part.len),
                         JS_ECORRUPT);
        js_buf_free(&part);
    }
    js_block_checks k;
    memset(&k, 0, sizeof k);
    js_block_checks_free(&k); /* a zeroed one is fine */
}
END_TEST

/* Walks rec with the shared checks k (or none).  Returns 0 when every
 * entry of L came back with its positions, 1 when the walk ended without
 * an error on other data, else the error. */
static int walk_checked(const uint8_t *rec, size_t len, const plist *L,
                        uint32_t bs, const js_block_checks *k)
{
    js_postings_cursor c;
    int rc = js_postings_open(&c, rec, len, L->n, bs, L->pos != NULL,
                              L->ids[L->n - 1] + 1);
    if (!rc && k)
        js_postings_share_checks(&c, k);
    uint32_t n = 0;
    int differs = 0;
    if (!rc) {
        while ((rc = js_postings_next(&c)) == 1) {
            differs |= n >= L->n || c.id != L->ids[n] || c.tf != L->tfs[n];
            if (L->pos && !differs) {
                const uint32_t *p;
                if ((rc = js_postings_positions(&c, &p)))
                    break;
                differs |= memcmp(p, L->pos + L->pos_off[n],
                                  (size_t)c.tf * sizeof *p) != 0;
            }
            n++;
        }
        differs |= n != L->n;
    }
    js_postings_close(&c);
    return rc < 0 ? rc : differs;
}

/* How many of k's pages are recorded as passed. */
static uint64_t pages_passed(const js_block_checks *k)
{
    uint64_t n = 0;
    for (uint64_t g = 0; g < k->npages; g++)
        n += (k->bits[g / 64] >> (g % 64)) & 1;
    return n;
}

static const struct checks_case {
    const char *name;
    uint32_t n, bs;
    int posk;
} checks_cases[] = {
    {"one-block record with positions", 100, 128, P_RANDOM},
    {"blocks of 16 with positions", 500, 16, P_RANDOM},
    {"blocks of 4 without positions", 500, 4, P_NONE},
};

/* Shared page checks over a part of three records: a page is crc'd on
 * its first load through k and trusted afterwards; one that fails is
 * never recorded; a cursor without checks verifies no crc. */
START_TEST(test_shared_checks)
{
    const struct checks_case *t = &checks_cases[_i];
    plist L;
    rng_state = 4242;
    plist_make(&L, t->n, G_RANDOM, T_SMALL, t->posk, 1);
    js_buf b = JS_BUF_INIT; /* the part: 100 bytes, the record, 50 */
    for (int i = 0; i < 100; i++)
        js_buf_u8(&b, (uint8_t)i);
    ck_assert_int_eq(js_postings_encode(&b, L.ids, L.tfs, L.pos, L.lens,
                                        TEST_AVG, L.n, t->bs, NULL),
                     0);
    const size_t len = b.len - 100;
    for (int i = 0; i < 50; i++)
        js_buf_u8(&b, (uint8_t)i);
    uint8_t *part = xmalloc(b.len);
    memcpy(part, b.p, b.len);
    uint8_t *rec = part + 100;
    js_buf crcs = page_part(part, b.len, 64);
    js_block_checks k;
    ck_assert_int_eq(js_block_checks_init(&k, part, b.len, crcs.p, crcs.len),
                     0);
    ck_assert_ptr_nonnull(k.bits);
    ck_assert_uint_eq(pages_passed(&k), 0);
    js_postings_cursor c;
    ck_assert_int_eq(js_postings_open(&c, rec, len, L.n, t->bs, L.pos != NULL,
                                      L.ids[L.n - 1] + 1),
                     0);
    const size_t at = c.blocks_len - 1; /* the blocks' last byte */
    js_postings_close(&c);
    ck_assert_int_eq(walk_checked(rec, len, &L, t->bs, &k), 0);
    /* the pages the blocks span (the skip table has its own crc), and no
     * other */
    uint64_t first = 100 / 64, last = (100 + at) / 64;
    ck_assert_uint_eq(pages_passed(&k), last - first + 1);
    ck_assert_uint_eq(k.bits[0] & 1, 0); /* page 0 is not the record's */
    ck_assert_int_eq(walk_checked(rec, len, &L, t->bs, &k), 0);
    ck_assert_uint_eq(pages_passed(&k), last - first + 1);

    /* that byte changed, after its page passed: a cursor sharing k does
     * not look again, so it sees what a cursor without checks sees (the
     * structure alone); one with fresh checks finds the page's crc
     * wrong */
    rec[at] ^= 0x01;
    int plain = walk_checked(rec, len, &L, t->bs, NULL);
    ck_assert_int_ne(plain, 0); /* the data changed */
    ck_assert_int_eq(walk_checked(rec, len, &L, t->bs, &k), plain);
    js_block_checks fresh;
    ck_assert_int_eq(
        js_block_checks_init(&fresh, part, b.len, crcs.p, crcs.len), 0);
    ck_assert_int_eq(walk_checked(rec, len, &L, t->bs, &fresh), JS_ECORRUPT);
    uint64_t bad = 0;
    ck_assert_int_eq(js_block_checks_verify(&fresh, &bad), JS_ECORRUPT);
    ck_assert_uint_eq(bad, (100 + at) / 64);
    /* a failed page is never recorded as passed */
    ck_assert_uint_eq((fresh.bits[bad / 64] >> (bad % 64)) & 1, 0);
    ck_assert_int_eq(walk_checked(rec, len, &L, t->bs, &fresh), JS_ECORRUPT);
    rec[at] ^= 0x01;
    ck_assert_int_eq(walk_checked(rec, len, &L, t->bs, &fresh), 0);
    ck_assert_int_eq(js_block_checks_verify(&fresh, NULL), 0);
    ck_assert_uint_eq(pages_passed(&fresh), fresh.npages);
    js_block_checks_free(&fresh);

    /* a record outside k's part is refused */
    js_block_checks none;
    ck_assert_int_eq(js_block_checks_init(&none, part, 100, crcs.p, crcs.len),
                     JS_ECORRUPT);
    js_buf small = page_part(part, 100, 64);
    ck_assert_int_eq(js_block_checks_init(&none, part, 100, small.p, small.len),
                     0);
    ck_assert_int_eq(walk_checked(rec, len, &L, t->bs, &none), JS_ECORRUPT);
    js_block_checks_free(&none);
    js_block_checks_free(&none); /* twice is fine */
    js_block_checks_free(&k);
    js_buf_free(&small);
    js_buf_free(&crcs);
    free(part);
    js_buf_free(&b);
    plist_free(&L);
}
END_TEST

static const struct {
    const char *name;
    uint32_t n, bs;
    int gap, tf, pos;
} sweeps[] = {
    {"three blocks of 7 with positions", 20, 7, G_RANDOM, T_SMALL, P_RANDOM},
    {"blocks of 16 without positions", 100, 16, G_ZIPF, T_SMALL, P_NONE},
    {"one block with positions", 20, 128, G_ZIPF, T_SMALL, P_RANDOM},
    {"one block without positions", 60, 128, G_ZIPF, T_SMALL, P_NONE},
    {"blocks of 128 with positions (arrays of 32+ values)", 300, 128, G_ZIPF,
     T_SMALL, P_RANDOM},
};

/* Every single-byte change of a record, read through page checks (pages
 * of 64 bytes): each is in a page, whose crc32 detects any error burst
 * of up to 32 bits, or in the skip table under its crc, so nothing but
 * JS_ECORRUPT is right.  Every truncation, read without checks (the
 * bytes left are intact: the structure must show the loss). */
START_TEST(test_damage_sweep)
{
    plist L;
    rng_state = 4242 + _i;
    plist_make(&L, sweeps[_i].n, sweeps[_i].gap, sweeps[_i].tf, sweeps[_i].pos,
               1);
    const uint32_t bs = sweeps[_i].bs, max_id = L.ids[L.n - 1] + 1;
    const int has_pos = L.pos != NULL;
    js_buf b = encode_list(&L, bs);
    const uint8_t *orig = b.p + 3;
    const size_t len = b.len - 3;
    js_buf crcs = page_part(orig, len, 64);
    size_t probes = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t vals[10];
        int nv = 0;
        for (int bit = 0; bit < 8; bit++)
            vals[nv++] = (uint8_t)(orig[i] ^ (1u << bit));
        if (orig[i] != 0x00)
            vals[nv++] = 0x00;
        if (orig[i] != 0xFF)
            vals[nv++] = 0xFF;
        for (int v = 0; v < nv; v++) {
            uint8_t *rec = guard_place(orig, len);
            rec[i] = vals[v];
            js_block_checks k;
            ck_assert_int_eq(
                js_block_checks_init(&k, rec, len, crcs.p, crcs.len), 0);
            js_postings_cursor c;
            int rc = js_postings_open(&c, rec, len, L.n, bs, has_pos, max_id);
            if (!rc) {
                js_postings_share_checks(&c, &k);
                while ((rc = js_postings_next(&c)) == 1)
                    if (has_pos) {
                        const uint32_t *p;
                        if ((rc = js_postings_positions(&c, &p)))
                            break;
                    }
            }
            js_postings_close(&c);
            js_block_checks_free(&k);
            REQUIRE(rc == JS_ECORRUPT, "%s: byte %zu = 0x%02x gave %d",
                    sweeps[_i].name, i, vals[v], rc);
            probes++;
        }
    }
    for (size_t cut = 0; cut < len; cut++) {
        const uint8_t *rec = guard_place(orig, cut);
        int wrong = 0;
        int rc = walk(rec, cut, L.n, bs, has_pos, max_id, &L, &wrong);
        REQUIRE(rc == JS_ECORRUPT, "%s: truncated to %zu gave %d (wrong %d)",
                sweeps[_i].name, cut, rc, wrong);
        probes++;
    }
    printf("codec: %s: %zu-byte record, %zu damaged variants, all "
           "JS_ECORRUPT\n", sweeps[_i].name, len, probes);
    fflush(stdout);
    js_buf_free(&crcs);
    js_buf_free(&b);
    plist_free(&L);
}
END_TEST

/* Recomputes a multi-block record's skip table crc (the one checksum a
 * record holds), so that damage reaches the structural checks. */
static void fix_table_crc(uint8_t *rec, size_t len, uint32_t df, uint32_t bs)
{
    uint32_t nblocks = (df + bs - 1) / bs;
    size_t tlen = (size_t)nblocks * 16;
    if (nblocks == 1 || len < tlen + 4)
        return;
    uint8_t *table = rec + len - tlen - 4;
    uint32_t crc = (uint32_t)crc32(0L, table, (uInt)tlen);
    memcpy(table + tlen, &crc, 4); /* little-endian host */
}

/* The streaming writer, fed in chunks of random sizes (one entry, whole
 * blocks, none), writes what js_postings_encode writes; open_ex with a
 * table already checked walks it the same. */
START_TEST(test_writer_chunks)
{
    static const struct {
        uint32_t n, bs;
        int pos;
    } lists[] = {{1, 128, 1}, {128, 128, 0}, {129, 128, 1}, {1000, 16, 1},
                 {5000, 128, 1}, {777, 1, 0}, {16, 16, 1}, {17, 16, 0}};
    rng_state = 4242;
    for (size_t li = 0; li < sizeof lists / sizeof *lists; li++) {
        plist L;
        plist_make(&L, lists[li].n, G_ZIPF, T_SMALL,
                   lists[li].pos ? P_RANDOM : P_NONE, 1);
        js_buf want = encode_list(&L, lists[li].bs);
        for (int round = 0; round < 5; round++) {
            js_postings_writer w;
            memset(&w, 0, sizeof w);
            js_buf got = JS_BUF_INIT;
            ck_assert_int_eq(js_buf_put(&got, "xyz", 3), 0);
            ck_assert_int_eq(js_postings_writer_init(&w, lists[li].bs,
                                                     L.pos != NULL), 0);
            js_postings_writer_avg(&w, TEST_AVG);
            uint32_t i = 0;
            while (i < L.n) {
                uint32_t k = rnd() % 4 == 0 ? 0 : 1 + rnd() % (round * 100 + 1);
                if (k > L.n - i)
                    k = L.n - i;
                size_t before = got.len;
                ck_assert_int_eq(js_postings_writer_add(
                                     &w, &got, L.ids + i, L.tfs + i,
                                     L.pos ? L.pos + L.pos_off[i] : NULL,
                                     L.lens ? L.lens + i : NULL, k),
                                 0);
                /* a block goes out only once an entry follows it */
                if (got.len > before)
                    ck_assert_uint_gt(i + k, lists[li].bs);
                i += k;
            }
            js_postings_info info;
            ck_assert_int_eq(js_postings_writer_finish(&w, &got, &info), 0);
            ck_assert_uint_eq(got.len, want.len);
            ck_assert(!memcmp(got.p, want.p, want.len));
            /* ids must keep increasing across chunks (a fresh writer:
             * init does not free the finished one's buffers) */
            js_postings_writer_free(&w);
            uint32_t again = L.ids[0];
            ck_assert_int_eq(js_postings_writer_init(&w, lists[li].bs, 0), 0);
            ck_assert_int_eq(js_postings_writer_add(&w, &got, &again, L.tfs,
                                                    NULL, NULL, 1), 0);
            ck_assert_int_eq(js_postings_writer_add(&w, &got, &again, L.tfs,
                                                    NULL, NULL, 1),
                             JS_EINVALID);
            js_postings_writer_free(&w);
            js_buf_free(&got);
        }
        js_postings_cursor c;
        const uint32_t max_id = L.ids[L.n - 1] + 1;
        ck_assert_int_eq(js_postings_open_ex(&c, want.p + 3, want.len - 3, L.n,
                                             lists[li].bs, L.pos != NULL,
                                             max_id, 1), 0);
        uint32_t n = 0;
        while (js_postings_next(&c) == 1) {
            ck_assert_uint_eq(c.id, L.ids[n]);
            ck_assert_uint_eq(c.tf, L.tfs[n]);
            n++;
        }
        ck_assert_uint_eq(n, L.n);
        js_postings_close(&c);
        js_buf_free(&want);
        plist_free(&L);
    }
}
END_TEST

/* Random multi-byte damage with the skip table's crc recomputed and no
 * page checks, so the structural checks are what must hold: anything
 * may come back but a crash, an out-of-bounds read, or an error code
 * outside the documented set (damage can turn a record into another
 * valid one, so wrong data without an error is counted, not failed). */
static const struct {
    const char *name;
    uint32_t n, bs;
} structural[] = {
    {"blocks of 32 with positions", 300, 32},
    {"one block of 60 with positions", 60, 128},
};

START_TEST(test_damage_structural)
{
    plist L;
    rng_state = 777 + _i;
    plist_make(&L, structural[_i].n, G_ZIPF, T_SMALL, P_RANDOM, 1);
    const uint32_t bs = structural[_i].bs, max_id = L.ids[L.n - 1] + 1;
    js_buf b = encode_list(&L, bs);
    const uint8_t *orig = b.p + 3;
    const size_t len = b.len - 3;
    size_t corrupt = 0, same = 0, other_valid = 0;
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t *rec = guard_place(orig, len);
        int nchanges = 1 + rnd() % 3;
        for (int k = 0; k < nchanges; k++) {
            size_t at = rnd() % len;
            rec[at] = rnd() % 2 ? (uint8_t)rnd() : (uint8_t)(rec[at] ^ (1u << (rnd() % 8)));
        }
        fix_table_crc(rec, len, L.n, bs);
        int wrong = 0;
        int rc = walk(rec, len, L.n, bs, 1, max_id, &L, &wrong);
        REQUIRE(rc == 0 || rc == JS_ECORRUPT, "iteration %d: %d", iter, rc);
        if (rc == JS_ECORRUPT)
            corrupt++;
        else if (!wrong)
            same++;
        else
            other_valid++;
    }
    printf("codec: %s, damage without page checks: %zu JS_ECORRUPT, %zu "
           "unchanged data, %zu decoded as another valid list\n",
           structural[_i].name, corrupt, same, other_valid);
    fflush(stdout);
    js_buf_free(&b);
    plist_free(&L);
}
END_TEST

/* Random lists of random sizes and block sizes round-trip. */
START_TEST(test_random_lists)
{
    rng_state = 0xC0FFEEull;
    for (int iter = 0; iter < 60; iter++) {
        plist L;
        uint32_t n = 1 + rnd() % 700, bs = 1 + rnd() % 300;
        int gap = (int)(rnd() % 5), tfk = (int)(rnd() % 3),
            posk = (int)(rnd() % 4);
        if (tfk == T_LARGE && posk != P_NONE)
            n = 1 + n % 40; /* up to 3000 positions an entry */
        plist_make(&L, n, gap, tfk, posk, (int)(rnd() % 2));
        js_buf b = encode_list(&L, bs);
        int wrong = 0;
        int rc = walk(guard_place(b.p + 3, b.len - 3), b.len - 3, n, bs,
                      L.pos != NULL, L.ids[n - 1] + 1, &L, &wrong);
        REQUIRE(rc == 0 && !wrong, "iteration %d (n %u, block size %u, "
                "kinds %d %d %d): %d, wrong %d", iter, n, bs, gap, tfk, posk,
                rc, wrong);
        js_buf_free(&b);
        plist_free(&L);
    }
}
END_TEST

/* ------------------------------------------------------------------
 * Figures (printed, not asserted)
 * ---------------------------------------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A term with about df postings over n sections: ids a random sample
 * (geometric gaps), tf mostly 1, positions distinct in a body of 100 to
 * 700 units. */
static void realistic(plist *L, uint32_t df, uint32_t nsec)
{
    memset(L, 0, sizeof *L);
    uint32_t cap = df + df / 2 + 16;
    L->ids = xmalloc(cap * sizeof *L->ids);
    L->tfs = xmalloc(cap * sizeof *L->tfs);
    L->lens = xmalloc(cap * sizeof *L->lens);
    double p = (double)df / nsec;
    double lq = p < 1 ? log1p(-p) : -1e9;
    uint64_t id = 0;
    uint32_t n = 0;
    for (;;) {
        double u = ((rnd() >> 1) + 1) / 2147483649.0;
        uint64_t gap = p < 1 ? (uint64_t)(log(u) / lq) : 0;
        id += gap;
        if (id >= nsec || n == cap)
            break;
        L->ids[n] = (uint32_t)id;
        L->tfs[n] = small_tf();
        L->lens[n] = 100 + rnd() % 600;
        if (L->tfs[n] > L->lens[n])
            L->tfs[n] = L->lens[n];
        n++;
        id++;
    }
    if (n == 0) {
        L->ids[0] = rnd() % nsec;
        L->tfs[0] = 1;
        L->lens[0] = 300;
        n = 1;
    }
    L->n = n;
    L->pos_off = xmalloc(((size_t)n + 1) * sizeof *L->pos_off);
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        L->pos_off[i] = (size_t)total;
        total += L->tfs[i];
    }
    L->pos_off[n] = (size_t)total;
    L->npos = total;
    L->pos = xmalloc((size_t)total * sizeof *L->pos);
    for (uint32_t i = 0; i < n; i++) {
        /* tf distinct positions in [0, len): pick with a stride walk */
        uint32_t tf = L->tfs[i], len = L->lens[i], *q = L->pos + L->pos_off[i];
        uint32_t room = len - tf, v = 0;
        for (uint32_t j = 0; j < tf; j++) {
            uint32_t step = room ? rnd() % (room / (tf - j) + 1) : 0;
            room -= step;
            v += step;
            q[j] = v++;
        }
    }
}

/* ------------------------------------------------------------------
 * The decoder against the library's: codec.c decodes Stream VByte
 * itself (see its opening comment), libstreamvbyte encodes.  Each row
 * is one array kind and value width; every count from 1 to 70 and a few
 * around the block size, with 0 to 6 readable bytes after the array (so
 * both the fast loop and the byte loop run, and an over-read crashes).
 * ---------------------------------------------------------------- */

static const struct svb_case {
    const char *name;
    int kind;
    uint32_t max; /* values (differences for DELTA) in [0, max] */
} svb_cases[] = {
    {"1234 one byte", JS_SVB_1234, 0xff},
    {"1234 all widths", JS_SVB_1234, UINT32_MAX},
    {"1234 up to three bytes", JS_SVB_1234, 0xffffff},
    {"0124 zeros and ones", JS_SVB_0124, 1},
    {"0124 all widths", JS_SVB_0124, UINT32_MAX},
    {"delta small gaps", JS_SVB_DELTA, 300},
    {"delta wrapping gaps", JS_SVB_DELTA, UINT32_MAX},
};

static uint32_t svb_value(uint64_t *st, uint32_t max)
{
    *st = *st * 6364136223846793005ull + 1442695040888963407ull;
    uint32_t r = (uint32_t)(*st >> 32);
    /* every width about equally often, up to max */
    uint32_t bytes = 1 + (r & 3);
    uint32_t v = (r >> 2) & (bytes == 4 ? 0x3fffffffu : (1u << (8 * bytes)) - 1);
    if ((r >> 31) && bytes == 4)
        v |= 0xc0000000u;
    return max == UINT32_MAX ? v : v % (max + 1);
}

START_TEST(test_svb_take_matches_library)
{
    const struct svb_case *t = &svb_cases[_i];
    static const uint32_t counts_big[] = {127, 128, 129, 255, 256, 1024};
    uint64_t st = 0x9e3779b97f4a7c15ull + (uint64_t)_i;
    for (uint32_t ci = 1; ci <= 70 + sizeof counts_big / sizeof *counts_big;
         ci++) {
        uint32_t count = ci <= 70 ? ci : counts_big[ci - 71];
        uint32_t *v = xmalloc(count * sizeof *v), *want = xmalloc(count * 4),
                 *got = xmalloc(count * 4);
        uint8_t *enc = xmalloc(streamvbyte_max_compressedbytes(count) + 16);
        uint32_t prev = t->kind == JS_SVB_DELTA ? svb_value(&st, UINT32_MAX) : 0;
        uint32_t acc = prev;
        for (uint32_t i = 0; i < count; i++) {
            v[i] = svb_value(&st, t->max);
            if (t->kind == JS_SVB_DELTA) { /* values whose gaps are v[i] */
                acc += v[i];
                v[i] = acc;
            }
        }
        size_t len;
        switch (t->kind) {
        case JS_SVB_DELTA:
            len = streamvbyte_delta_encode(v, count, enc, prev);
            ck_assert_uint_eq(streamvbyte_delta_decode(enc, want, count, prev),
                              len);
            break;
        case JS_SVB_0124:
            len = streamvbyte_encode_0124(v, count, enc);
            ck_assert_uint_eq(streamvbyte_decode_0124(enc, want, count), len);
            break;
        default:
            len = streamvbyte_encode(v, count, enc);
            ck_assert_uint_eq(streamvbyte_decode(enc, want, count), len);
            break;
        }
        ck_assert(!memcmp(want, v, count * sizeof *v));
        for (size_t after = 0; after <= 6; after++) {
            memset(enc + len, 0xa5, after); /* the record's next bytes */
            const uint8_t *p = guard_place(enc, len + after);
            memset(got, 0, count * sizeof *got);
            ck_assert_uint_eq(js_svb_take(p, len, len + after, got, count,
                                          t->kind, prev),
                              len);
            if (memcmp(got, want, count * sizeof *got))
                ck_abort_msg("%s: %u values, %zu bytes after: decoded "
                             "differently from libstreamvbyte",
                             t->name, count, after);
            /* one byte short of the data the control bytes announce */
            ck_assert_uint_eq(js_svb_take(p, len - 1, len + after, got, count,
                                          t->kind, prev),
                              0);
        }
        free(v);
        free(want);
        free(got);
        free(enc);
    }
}
END_TEST

START_TEST(test_figures)
{
#ifdef __SANITIZE_ADDRESS__
    printf("codec figures: (this build has sanitizers: times are inflated)\n");
#endif
    /* sizes: a Zipf-like vocabulary, df_r = 0.4 N / r */
    const uint32_t nsec = 200000, nterms = 3000;
    uint64_t postings = 0, positions = 0, bytes_nopos = 0, bytes_pos = 0;
    uint64_t tf1 = 0;
    js_buf b = JS_BUF_INIT;
    rng_state = 31337;
    for (uint32_t r = 1; r <= nterms; r++) {
        plist L;
        realistic(&L, (uint32_t)(0.4 * nsec / r) + 1, nsec);
        b.len = 0;
        ck_assert_int_eq(js_postings_encode(&b, L.ids, L.tfs, NULL, L.lens, TEST_AVG, L.n,
                                            JS_BLOCK_SIZE, NULL),
                         0);
        bytes_nopos += b.len;
        b.len = 0;
        ck_assert_int_eq(js_postings_encode(&b, L.ids, L.tfs, L.pos, L.lens, TEST_AVG,
                                            L.n, JS_BLOCK_SIZE, NULL),
                         0);
        bytes_pos += b.len;
        postings += L.n;
        positions += L.npos;
        for (uint32_t i = 0; i < L.n; i++)
            tf1 += L.tfs[i] == 1;
        plist_free(&L);
    }
    printf("codec figures: %u terms over %u sections (df = 0.4 N / rank), "
           "%" PRIu64 " postings (%.0f%% tf 1), %" PRIu64 " positions\n",
           nterms, nsec, postings, 100.0 * tf1 / postings, positions);
    printf("codec figures: without positions %.3f bytes/posting (%.2f bits); "
           "with positions %.3f bytes/posting, positions alone %.3f "
           "bytes/position\n",
           (double)bytes_nopos / postings, 8.0 * bytes_nopos / postings,
           (double)bytes_pos / postings,
           (double)(bytes_pos - bytes_nopos) / positions);

    /* speed: one 1M-entry list, the df of a very common term */
    plist L;
    realistic(&L, 1000000, 3000000);
    b.len = 0;
    ck_assert_int_eq(js_postings_encode(&b, L.ids, L.tfs, L.pos, L.lens, TEST_AVG, L.n,
                                        JS_BLOCK_SIZE, NULL),
                     0);
    const uint32_t n = L.n;
    js_postings_cursor c;
    double best_next = 1e9, best_pos = 1e9, best_seek = 1e9, best_skip = 1e9;
    double best_open = 1e9, best_nopos = 1e9;
    js_buf nopos = JS_BUF_INIT;
    ck_assert_int_eq(js_postings_encode(&nopos, L.ids, L.tfs, NULL, L.lens, TEST_AVG,
                                        L.n, JS_BLOCK_SIZE, NULL),
                     0);
    uint64_t sink = 0;
    const uint32_t seek_step = 997; /* about every 3rd block on this list */
    uint32_t nseeks = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        for (int k = 0; k < 20; k++) {
            ck_assert_int_eq(js_postings_open(&c, b.p, b.len, n,
                                              JS_BLOCK_SIZE, 1, 3000000),
                             0);
            js_postings_close(&c);
        }
        double t1 = now();
        best_open = (t1 - t0) / 20 < best_open ? (t1 - t0) / 20 : best_open;

        ck_assert_int_eq(js_postings_open(&c, nopos.p, nopos.len, n,
                                          JS_BLOCK_SIZE, 0, 3000000),
                         0);
        t0 = now();
        while (js_postings_next(&c) == 1)
            sink += c.id;
        t1 = now();
        js_postings_close(&c);
        best_nopos = t1 - t0 < best_nopos ? t1 - t0 : best_nopos;

        ck_assert_int_eq(js_postings_open(&c, b.p, b.len, n, JS_BLOCK_SIZE, 1,
                                          3000000),
                         0);
        t0 = now();
        uint32_t cnt = 0;
        while (js_postings_next(&c) == 1) {
            sink += c.id + c.tf;
            cnt++;
        }
        t1 = now();
        ck_assert_uint_eq(cnt, n);
        js_postings_close(&c);
        best_next = t1 - t0 < best_next ? t1 - t0 : best_next;

        ck_assert_int_eq(js_postings_open(&c, b.p, b.len, n, JS_BLOCK_SIZE, 1,
                                          3000000),
                         0);
        t0 = now();
        while (js_postings_next(&c) == 1) {
            const uint32_t *p;
            if (js_postings_positions(&c, &p))
                ck_abort_msg("positions failed");
            sink += p[c.tf - 1];
        }
        t1 = now();
        js_postings_close(&c);
        best_pos = t1 - t0 < best_pos ? t1 - t0 : best_pos;

        ck_assert_int_eq(js_postings_open(&c, b.p, b.len, n, JS_BLOCK_SIZE, 1,
                                          3000000),
                         0);
        nseeks = 0;
        t0 = now();
        for (uint32_t t = 0; js_postings_seek(&c, t) == 1; t = c.id + seek_step) {
            sink += c.id;
            nseeks++;
        }
        t1 = now();
        js_postings_close(&c);
        best_seek = t1 - t0 < best_seek ? t1 - t0 : best_seek;

        ck_assert_int_eq(js_postings_open(&c, b.p, b.len, n, JS_BLOCK_SIZE, 1,
                                          3000000),
                         0);
        uint32_t nskips = 0;
        t0 = now();
        for (uint32_t t = 0; js_postings_skip_block(&c, t) == 1;
             t = c.block_last_id + 1) {
            sink += c.block_max_tf;
            nskips++;
        }
        t1 = now();
        js_postings_close(&c);
        ck_assert_uint_eq(nskips, (n + JS_BLOCK_SIZE - 1) / JS_BLOCK_SIZE);
        best_skip = (t1 - t0) / nskips < best_skip ? (t1 - t0) / nskips
                                                   : best_skip;
    }
    const uint32_t nblocks = (n + JS_BLOCK_SIZE - 1) / JS_BLOCK_SIZE;
    printf("codec figures: %u-entry list, %u blocks (%.2f bytes/posting with "
           "positions, %.2f without): open (skip table crc + checks) %.1f us\n",
           n, nblocks, (double)b.len / n, (double)nopos.len / n,
           best_open * 1e6);
    printf("codec figures: next() %.1f M entries/s (%.2f ns each, %.0f ns a "
           "block); next() + positions() %.1f M entries/s; record without "
           "positions: next() %.1f M entries/s (%.0f ns a block)\n",
           n / best_next / 1e6, best_next / n * 1e9,
           best_next / nblocks * 1e9, n / best_pos / 1e6,
           n / best_nopos / 1e6, best_nopos / nblocks * 1e9);
    printf("codec figures: seek() every ~%u ids: %u seeks, %.0f ns each; "
           "skip_block() over every block: %.1f ns each (checksum %" PRIu64
           ")\n",
           seek_step, nseeks, best_seek / nseeks * 1e9, best_skip * 1e9,
           sink % 10);
    fflush(stdout);
    js_buf_free(&nopos);
    js_buf_free(&b);
    plist_free(&L);
}
END_TEST

/* ------------------------------------------------------------------
 * buf.h's text helpers: js_buf_text, js_buf_puts, js_buf_str,
 * js_buf_clear (and js_buf_free), one sequence of steps per row.
 * ---------------------------------------------------------------- */

enum { B_END, B_TEXT, B_PUTS, B_CLEAR, B_FREE };

/* One step on a js_buf and what it must hold afterwards: its text (want,
 * want_len bytes, then a NUL) and its oom flag; appends must return rc. */
typedef struct {
    int op;
    const char *s;
    size_t n; /* bytes of s for B_TEXT */
    int rc;
    const char *want;
    size_t want_len;
    int oom;
} buf_step;

#define S64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define S320 S64 S64 S64 S64 S64

static const struct {
    const char *name;
    buf_step steps[8];
} buf_texts[] = {
    {"text appends n bytes of s, NUL-terminated",
     {{B_TEXT, "abcdef", 3, 0, "abc", 3, 0},
      {B_TEXT, "xyz", 0, 0, "abc", 3, 0},
      {B_TEXT, "de", 2, 0, "abcde", 5, 0}}},
    {"an empty append to a fresh buffer",
     {{B_TEXT, "", 0, 0, "", 0, 0}}},
    {"a NUL inside the text is kept and counted",
     {{B_TEXT, "a\0b", 3, 0, "a\0b", 3, 0}}},
    {"puts appends the whole string",
     {{B_PUTS, "中文", 0, 0, "中文", 6, 0},
      {B_PUTS, "", 0, 0, "中文", 6, 0},
      {B_PUTS, "全文", 0, 0, "中文全文", 12, 0}}},
    {"growing past the first allocation keeps the text",
     {{B_PUTS, "<", 0, 0, "<", 1, 0},
      {B_PUTS, S320, 0, 0, "<" S320, 321, 0},
      {B_TEXT, S320, 320, 0, "<" S320 S320, 641, 0}}},
    {"clear empties; appends start again",
     {{B_PUTS, "hello", 0, 0, "hello", 5, 0},
      {B_CLEAR, NULL, 0, 0, "", 0, 0},
      {B_PUTS, "hi", 0, 0, "hi", 2, 0},
      {B_CLEAR, NULL, 0, 0, "", 0, 0},
      {B_CLEAR, NULL, 0, 0, "", 0, 0}}},
    {"clear and free on a fresh buffer",
     {{B_CLEAR, NULL, 0, 0, "", 0, 0}, {B_FREE, NULL, 0, 0, "", 0, 0}}},
    {"free makes it fresh again",
     {{B_PUTS, "hello", 0, 0, "hello", 5, 0},
      {B_FREE, NULL, 0, 0, "", 0, 0},
      {B_PUTS, "x", 0, 0, "x", 1, 0}}},
    /* Sizes past half the address space fail before any allocation is
     * tried (no allocator is asked for 2^63 bytes). */
    {"a size that cannot be had sets oom, and oom sticks",
     {{B_PUTS, "abc", 0, 0, "abc", 3, 0},
      {B_TEXT, "", SIZE_MAX / 2 + 2, JS_ENOMEM, "abc", 3, 1},
      {B_PUTS, "d", 0, JS_ENOMEM, "abc", 3, 1},
      {B_TEXT, "d", 1, JS_ENOMEM, "abc", 3, 1},
      {B_CLEAR, NULL, 0, 0, "", 0, 1},
      {B_PUTS, "e", 0, JS_ENOMEM, "", 0, 1},
      {B_FREE, NULL, 0, 0, "", 0, 0},
      {B_PUTS, "f", 0, 0, "f", 1, 0}}},
    {"a size that cannot be had, on a fresh buffer",
     {{B_TEXT, "", SIZE_MAX / 2 + 2, JS_ENOMEM, "", 0, 1},
      {B_PUTS, "a", 0, JS_ENOMEM, "", 0, 1}}},
    /* Sizes where n + 1 or len + n + 1 wraps around. */
    {"SIZE_MAX bytes",
     {{B_TEXT, "", SIZE_MAX, JS_ENOMEM, "", 0, 1}}},
    {"SIZE_MAX - 1 bytes",
     {{B_TEXT, "", SIZE_MAX - 1, JS_ENOMEM, "", 0, 1}}},
    {"SIZE_MAX - 2 bytes after 3",
     {{B_PUTS, "abc", 0, 0, "abc", 3, 0},
      {B_TEXT, "", SIZE_MAX - 2, JS_ENOMEM, "abc", 3, 1}}},
    {"SIZE_MAX - 3 bytes after 3",
     {{B_PUTS, "abc", 0, 0, "abc", 3, 0},
      {B_TEXT, "", SIZE_MAX - 3, JS_ENOMEM, "abc", 3, 1}}},
};

START_TEST(test_buf_text)
{
    js_buf b = JS_BUF_INIT;
    ck_assert_str_eq(js_buf_str(&b), "");
    for (size_t i = 0; i < 8 && buf_texts[_i].steps[i].op != B_END; i++) {
        const buf_step *st = &buf_texts[_i].steps[i];
        int rc = 0;
        switch (st->op) {
        case B_TEXT:
            rc = js_buf_text(&b, st->s, st->n);
            break;
        case B_PUTS:
            rc = js_buf_puts(&b, st->s);
            break;
        case B_CLEAR:
            js_buf_clear(&b);
            break;
        case B_FREE:
            js_buf_free(&b);
            ck_assert_ptr_null(b.p);
            break;
        }
        ck_assert_msg(rc == st->rc, "%s, step %zu: returned %d, not %d",
                      buf_texts[_i].name, i, rc, st->rc);
        ck_assert_msg(b.len == st->want_len && b.oom == st->oom &&
                          !memcmp(js_buf_str(&b), st->want, st->want_len + 1),
                      "%s, step %zu: holds %zu bytes, oom %d", buf_texts[_i].name,
                      i, b.len, b.oom);
    }
    js_buf_free(&b);
}
END_TEST

static Suite *codec_suite(void)
{
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("round trip");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_round_trip, 0, sizeof trips / sizeof *trips);
    tcase_add_test(tc, test_skip_block_steps);
    tcase_add_test(tc, test_random_lists);
    tcase_add_loop_test(tc, test_svb_take_matches_library, 0,
                        sizeof svb_cases / sizeof *svb_cases);
    suite_add_tcase(s, tc);

    tc = tcase_create("input");
    tcase_add_loop_test(tc, test_encode_bad_input, 0,
                        sizeof bad_input / sizeof *bad_input);
    tcase_add_test(tc, test_arguments);
    suite_add_tcase(s, tc);

    tc = tcase_create("damage");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_small_crafted, 0,
                        sizeof smalls / sizeof *smalls);
    tcase_add_loop_test(tc, test_crafted, 0, sizeof crafts / sizeof *crafts);
    tcase_add_test(tc, test_crafted_values);
    tcase_add_loop_test(tc, test_wrong_arguments, 0,
                        sizeof wrong_args / sizeof *wrong_args);
    tcase_add_loop_test(tc, test_damage_sweep, 0, sizeof sweeps / sizeof *sweeps);
    tcase_add_loop_test(tc, test_damage_structural, 0,
                        sizeof structural / sizeof *structural);
    tcase_add_test(tc, test_page_crcs);
    tcase_add_test(tc, test_crc32);
    tcase_add_loop_test(tc, test_shared_checks, 0,
                        sizeof checks_cases / sizeof *checks_cases);
    tcase_add_test(tc, test_writer_chunks);
    suite_add_tcase(s, tc);

    tc = tcase_create("buf");
    tcase_add_loop_test(tc, test_buf_text, 0, sizeof buf_texts / sizeof *buf_texts);
    suite_add_tcase(s, tc);

    tc = tcase_create("figures");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_figures);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(codec_suite(), 0);
}
