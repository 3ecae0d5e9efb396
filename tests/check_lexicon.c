/*
 * check_lexicon.c — the term dictionary (index/lexicon.c): the LEXICON and
 * LEXICON_INDEX parts of index/FORMAT.md.
 *
 * In:  generated term sets (ASCII words, CJK unigrams and bigrams in
 *      UTF-8, 0x01 heading-prefixed terms, prefix chains with every shared
 *      length, maximum-length and arbitrary-byte terms, sizes around block
 *      boundaries, 100,000 terms) with varied js_term_info, written with
 *      several terms_per_block; hand-encoded parts; damaged parts.
 * Out: every term looks up to exactly its info, absent terms (before,
 *      after, between, prefixes, extensions) give JS_ENOTFOUND, iteration
 *      yields the set in order; the writer refuses bad input with
 *      JS_EINVALID; the bytes match FORMAT.md to the byte; damaged parts
 *      give JS_ECORRUPT or a correct answer, never a wrong one or a crash
 *      (run under ASan/UBSan).  A benchmark prints bytes per term and
 *      lookup latency over 1M CJK bigrams (printed, not asserted).
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "jiansuo.h"
#include "lexicon.h"
#include "testutil.h"

#define TERM_MAX (JS_TERM_MAX_BYTES + 1) /* heading prefix + longest term */

/* Check's ck_assert records its location through a file on every call
 * (microseconds each): the helpers below run millions of times, so they
 * call into Check only on failure. */
#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond))                                                           \
            ck_abort_msg(__VA_ARGS__);                                         \
    } while (0)

/* ------------------------------------------------------------------
 * Helpers: random numbers, crc32, UTF-8
 * ---------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static void rng_seed(uint64_t s) { rng_state = s ? s : 0x9E3779B97F4A7C15ull; }
static uint64_t rnd64(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static uint32_t rnd(void) { return (uint32_t)(rnd64() >> 16); }
static double rnd01(void) { return (double)(rnd64() >> 11) / 9007199254740992.0; }

/* crc32 written out bit by bit (reflected 0xEDB88320, the zlib/ISO-HDLC
 * one), so the tests check the format, not the library's own call. */
static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

/* Writes code point cp as UTF-8 to s; returns the bytes written. */
static size_t utf8_put(uint8_t *s, uint32_t cp)
{
    if (cp < 0x80) {
        s[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        s[0] = (uint8_t)(0xC0 | (cp >> 6));
        s[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        s[0] = (uint8_t)(0xE0 | (cp >> 12));
        s[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        s[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    s[0] = (uint8_t)(0xF0 | (cp >> 18));
    s[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    s[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    s[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* A CJK-ish code point: mostly common ideographs, some Extension B, kana
 * and Hangul, so UTF-8 lengths of 3 and 4 mix. */
static uint32_t rnd_cjk(void)
{
    uint32_t r = rnd() % 100;
    if (r < 85)
        return 0x4E00 + rnd() % (0x9FFF - 0x4E00 + 1);
    if (r < 90)
        return 0x20000 + rnd() % 0xA6E0;
    if (r < 95)
        return 0x3041 + rnd() % 0xB0;
    return 0xAC00 + rnd() % 11172;
}

/* ------------------------------------------------------------------
 * The model: a sorted set of distinct terms with their infos
 * ---------------------------------------------------------------- */

typedef struct {
    size_t off; /* into the arena */
    uint16_t len;
    js_term_info info;
} mterm;

typedef struct {
    uint8_t *arena;
    size_t alen, acap;
    mterm *v;
    size_t n, cap;
    uint64_t postings_len;
} tset;

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    CHECK(p != NULL, "out of memory");
    return p;
}

/* Copies a part so that ASan sees reads past its true end. */
static uint8_t *dup_part(const uint8_t *p, size_t n)
{
    uint8_t *d = xrealloc(NULL, n);
    if (n)
        memcpy(d, p, n);
    return d;
}

/* Appends a term (unsorted, maybe a duplicate) to the set. */
static void ts_add(tset *s, const void *t, size_t len)
{
    CHECK(len >= 1 && len <= TERM_MAX, "bad test term");
    if (s->alen + len > s->acap) {
        s->acap = (s->acap + len) * 2;
        s->arena = xrealloc(s->arena, s->acap);
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    memcpy(s->arena + s->alen, t, len);
    s->v[s->n].off = s->alen;
    s->v[s->n].len = (uint16_t)len;
    s->n++;
    s->alen += len;
}

static const uint8_t *ts_term(const tset *s, size_t i)
{
    return s->arena + s->v[i].off;
}

static void ts_free(tset *s)
{
    free(s->arena);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int bytes_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (al > bl) - (al < bl);
}

static const uint8_t *sort_arena; /* qsort has no context argument */
static int mterm_cmp(const void *x, const void *y)
{
    const mterm *a = x, *b = y;
    return bytes_cmp(sort_arena + a->off, a->len, sort_arena + b->off, b->len);
}

/* Sorts the set and drops duplicates. */
static void ts_sort(tset *s)
{
    sort_arena = s->arena;
    qsort(s->v, s->n, sizeof *s->v, mterm_cmp);
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        if (k == 0 || mterm_cmp(&s->v[k - 1], &s->v[i]) != 0)
            s->v[k++] = s->v[i];
    s->n = k;
}

/* Index of the term in the sorted set, or -1. */
static long ts_find(const tset *s, const uint8_t *t, size_t len)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = bytes_cmp(ts_term(s, mid), s->v[mid].len, t, len);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Gives every term an info of varied magnitude (1-byte to 10-byte
 * varints), offsets non-decreasing with repeats, and sets postings_len to
 * the end of the furthest record. */
static void ts_infos(tset *s)
{
    uint64_t off = rnd() % 3 ? rnd() % 1000 : (uint64_t)1 << 40;
    uint64_t end = 0;
    for (size_t i = 0; i < s->n; i++) {
        js_term_info *f = &s->v[i].info;
        uint32_t r = rnd();
        f->df = r % 4 == 0 ? 1 : r % 4 == 1 ? 1 + rnd() % 100
              : r % 4 == 2 ? 1 + rnd() % 1000000000 : UINT32_MAX - rnd() % 2;
        unsigned shift = rnd() % 64; /* own statement: a fixed call order */
        uint64_t extra = (r >> 3) % 4 == 0 ? 0 : (r >> 3) % 4 == 1 ? rnd() % 50
                       : (r >> 3) % 4 == 2 ? rnd64() >> shift
                                           : UINT64_MAX - f->df;
        f->cf = f->df + extra;
        uint64_t cap = extra < UINT32_MAX - 1 ? extra : UINT32_MAX - 1;
        f->max_tf = 1 + (uint32_t)(rnd64() % (cap + 1));
        uint32_t d = (r >> 6) % 4;
        off += d == 0 ? 0 : d == 1 ? rnd() % 300 : d == 2 ? rnd() : rnd64() >> 25;
        f->offset = off;
        f->length = (r >> 9) % 5 == 0 ? 0 : (r >> 9) % 5 == 1 ? rnd64() >> 24
                                                             : rnd() % 5000;
        f->flags = (r >> 12) & 1;
        if (off + f->length > end)
            end = off + f->length;
    }
    s->postings_len = end;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static int info_eq(const js_term_info *a, const js_term_info *b)
{
    return a->df == b->df && a->cf == b->cf && a->offset == b->offset &&
           a->length == b->length && a->max_tf == b->max_tf &&
           a->flags == b->flags;
}

/* ------------------------------------------------------------------
 * Term generators: each appends about n terms (duplicates allowed)
 * ---------------------------------------------------------------- */

static void gen_words(tset *s, size_t n)
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    uint8_t t[16];
    for (size_t i = 0; i < n; i++) {
        size_t len = 1 + rnd() % 12;
        for (size_t k = 0; k < len; k++)
            t[k] = (uint8_t)al[rnd() % (k ? 36 : 26)];
        ts_add(s, t, len);
    }
}

static void gen_unigrams(tset *s, size_t n)
{
    uint8_t t[8];
    for (size_t i = 0; i < n; i++)
        ts_add(s, t, utf8_put(t, rnd_cjk()));
}

static void gen_bigrams(tset *s, size_t n)
{
    uint8_t t[8];
    for (size_t i = 0; i < n; i++) {
        size_t k = utf8_put(t, rnd_cjk());
        ts_add(s, t, k + utf8_put(t + k, rnd_cjk()));
    }
}

/* What a real lexicon holds: words, unigrams, bigrams, and about a third
 * of them again as heading terms behind the 0x01 prefix byte. */
static void gen_mixed(tset *s, size_t n)
{
    tset tmp = {0};
    gen_words(&tmp, n / 3 + 1);
    gen_unigrams(&tmp, n / 6 + 1);
    gen_bigrams(&tmp, n / 2 + 1);
    uint8_t t[TERM_MAX];
    for (size_t i = 0; i < tmp.n && i < n; i++) {
        size_t len = tmp.v[i].len;
        if (rnd() % 3 == 0) {
            t[0] = 0x01;
            memcpy(t + 1, ts_term(&tmp, i), len);
            ts_add(s, t, len + 1);
        } else {
            ts_add(s, ts_term(&tmp, i), len);
        }
    }
    ts_free(&tmp);
}

/* Every term also with the heading prefix. */
static void gen_heading(tset *s, size_t n)
{
    tset tmp = {0};
    gen_words(&tmp, n / 4 + 1);
    gen_bigrams(&tmp, n / 4 + 1);
    uint8_t t[TERM_MAX];
    for (size_t i = 0; i < tmp.n; i++) {
        size_t len = tmp.v[i].len;
        t[0] = 0x01;
        memcpy(t + 1, ts_term(&tmp, i), len);
        ts_add(s, t + 1, len);
        ts_add(s, t, len + 1);
    }
    ts_free(&tmp);
}

/* "a", "aa", ... up to the maximum length, each also with its last byte
 * 0x00, 'b' and 0xFF: neighbours share every prefix length 0..256. */
static void gen_prefix_chains(tset *s, size_t n)
{
    (void)n;
    uint8_t t[TERM_MAX];
    memset(t, 'a', sizeof t);
    static const uint8_t last[] = {'a', 0x00, 'b', 0xFF};
    for (size_t len = 1; len <= TERM_MAX; len++)
        for (size_t k = 0; k < sizeof last; k++) {
            t[len - 1] = last[k];
            ts_add(s, t, len);
            t[len - 1] = 'a';
        }
}

/* Terms of exactly the maximum length, sharing prefixes of random length
 * with one base string, plus all-0x00 and all-0xFF. */
static void gen_maxlen(tset *s, size_t n)
{
    uint8_t base[TERM_MAX], t[TERM_MAX];
    for (size_t k = 0; k < TERM_MAX; k++)
        base[k] = (uint8_t)rnd();
    memset(t, 0x00, sizeof t);
    ts_add(s, t, TERM_MAX);
    memset(t, 0xFF, sizeof t);
    ts_add(s, t, TERM_MAX);
    for (size_t i = 0; i < n; i++) {
        size_t p = rnd() % (TERM_MAX + 1);
        memcpy(t, base, p);
        for (size_t k = p; k < TERM_MAX; k++)
            t[k] = (uint8_t)rnd();
        ts_add(s, t, TERM_MAX);
    }
}

/* Arbitrary bytes, 0x00 and 0xFF included, lengths 1..max (mostly short). */
static void gen_binary(tset *s, size_t n)
{
    uint8_t t[TERM_MAX];
    for (size_t i = 0; i < n; i++) {
        size_t len = rnd() % 4 ? 1 + rnd() % 8 : 1 + rnd() % TERM_MAX;
        for (size_t k = 0; k < len; k++)
            t[k] = (uint8_t)(rnd() % 3 ? rnd() % 4 : rnd());
        ts_add(s, t, len);
    }
}

/* Builds a sorted set of at least `n` distinct terms (exactly n when
 * exact), or of whatever gen makes when n == 0, with infos. */
static void make_set(tset *s, void (*gen)(tset *, size_t), size_t n, int exact,
                     uint64_t seed)
{
    rng_seed(seed);
    memset(s, 0, sizeof *s);
    if (n == 0 && !exact) {
        gen(s, 0);
        ts_sort(s);
    }
    while (s->n < n) {
        gen(s, n - s->n + 8);
        ts_sort(s);
    }
    if (exact && s->n > n)
        s->n = n;
    ts_infos(s);
}

/* ------------------------------------------------------------------
 * Building, and checking a reader against the model
 * ---------------------------------------------------------------- */

/* Writes the set with tpb terms a block into two fresh buffers. */
static void build(const tset *s, uint32_t tpb, js_buf *blocks, js_buf *index)
{
    js_lexicon_writer *w = NULL;
    ck_assert_int_eq(js_lexicon_writer_new(&w, tpb), 0);
    for (size_t i = 0; i < s->n; i++) {
        int rc = js_lexicon_add(w, (const char *)ts_term(s, i), s->v[i].len,
                                &s->v[i].info);
        CHECK(rc == 0, "add term %zu: %d", i, rc);
    }
    ck_assert_int_eq(js_lexicon_finish(w, blocks, index), 0);
    js_lexicon_writer_free(w);
}

typedef struct {
    const tset *s;
    size_t i;      /* terms seen */
    int mismatch;  /* a term or info differed from the model */
    size_t stop_at; /* return 42 after this many terms (0: never) */
} iter_ctx;

static int iter_cb(void *ctx, const char *term, size_t len,
                   const js_term_info *info)
{
    iter_ctx *c = ctx;
    const tset *s = c->s;
    if (c->i >= s->n ||
        bytes_cmp((const uint8_t *)term, len, ts_term(s, c->i),
                  s->v[c->i].len) != 0 ||
        !info_eq(info, &s->v[c->i].info)) {
        c->mismatch = 1;
        return 99;
    }
    c->i++;
    return c->stop_at && c->i == c->stop_at ? 42 : 0;
}

/* Looks t up and checks the answer against the model.  tolerant: the
 * parts may be damaged, so JS_ECORRUPT is also right.  Returns the code. */
static int check_lookup(const js_lexicon *lx, const tset *s, const uint8_t *t,
                        size_t len, int tolerant)
{
    js_term_info got;
    memset(&got, 0xA5, sizeof got);
    int rc = js_lexicon_lookup(lx, (const char *)t, len, &got);
    long k = ts_find(s, t, len);
    if (tolerant && rc == JS_ECORRUPT)
        return rc;
    if (k < 0) {
        CHECK(rc == JS_ENOTFOUND, "absent term of %zu bytes: rc %d", len, rc);
    } else {
        CHECK(rc == 0, "term %ld (%zu bytes): rc %d", k, len, rc);
        CHECK(info_eq(&got, &s->v[k].info), "term %ld: wrong info", k);
    }
    return rc;
}

/* Looks up neighbours of term i that may be absent: its prefix, its
 * extensions by 0x00 and 0xFF, its last byte plus and minus one. */
static void check_probes(const js_lexicon *lx, const tset *s, size_t i,
                         int tolerant)
{
    uint8_t t[TERM_MAX + 1];
    size_t len = s->v[i].len;
    memcpy(t, ts_term(s, i), len);
    if (len > 1)
        check_lookup(lx, s, t, len - 1, tolerant);
    if (len < TERM_MAX) {
        t[len] = 0x00;
        check_lookup(lx, s, t, len + 1, tolerant);
        t[len] = 0xFF;
        check_lookup(lx, s, t, len + 1, tolerant);
    }
    uint8_t b = t[len - 1];
    if (b < 0xFF) {
        t[len - 1] = (uint8_t)(b + 1);
        check_lookup(lx, s, t, len, tolerant);
    }
    if (b > 0) {
        t[len - 1] = (uint8_t)(b - 1);
        check_lookup(lx, s, t, len, tolerant);
    }
}

/* Everything an intact lexicon must do: count, every term, every probe,
 * the limits of term length, before-first and after-last, iteration in
 * full and stopped early. */
typedef struct {
    const tset *s;
    const uint8_t *p;
    size_t plen;
    size_t next;   /* the model's index to look at next */
    int mismatch;
} prefix_ctx;

/* js_lexicon_prefix's callback: each term reported is the model's next
 * term with the prefix, in order, with its info. */
static int prefix_cb(void *ctx, const char *term, size_t len,
                     const js_term_info *info)
{
    prefix_ctx *c = ctx;
    const tset *s = c->s;
    while (c->next < s->n && !(s->v[c->next].len >= c->plen &&
                               !memcmp(ts_term(s, c->next), c->p, c->plen)))
        c->next++;
    if (c->next == s->n || s->v[c->next].len != len ||
        memcmp(ts_term(s, c->next), term, len) ||
        s->v[c->next].info.df != info->df ||
        s->v[c->next].info.cf != info->cf ||
        s->v[c->next].info.offset != info->offset ||
        s->v[c->next].info.length != info->length ||
        s->v[c->next].info.max_tf != info->max_tf ||
        s->v[c->next].info.flags != info->flags)
        c->mismatch = 1;
    c->next++;
    return 0;
}

/* js_lexicon_prefix against the model for prefixes of sampled terms
 * (lengths 0 to 3 and the whole term) and at the top of the byte order. */
static void check_prefixes(const js_lexicon *lx, const tset *s)
{
    size_t step = s->n / 40 + 1;
    for (size_t i = 0; i < s->n; i += step) {
        for (size_t k = 0; k <= 4; k++) {
            size_t plen = k == 4 ? s->v[i].len : k;
            if (plen > s->v[i].len)
                continue;
            prefix_ctx c = {s, ts_term(s, i), plen, 0, 0};
            ck_assert_int_eq(js_lexicon_prefix(lx, (const char *)c.p, plen,
                                               prefix_cb, &c),
                             0);
            ck_assert(!c.mismatch);
            /* no model term with the prefix is left unreported */
            size_t left = 0;
            for (size_t j = c.next; j < s->n; j++)
                left += s->v[j].len >= plen &&
                        !memcmp(ts_term(s, j), c.p, plen);
            ck_assert_uint_eq(left, 0);
        }
    }
    /* a prefix past every term, which most sets do not start with */
    uint8_t last[2] = {0xFF, 0xFF};
    prefix_ctx c = {s, last, 2, 0, 0};
    ck_assert_int_eq(js_lexicon_prefix(lx, (const char *)last, 2, prefix_cb,
                                       &c), 0);
    ck_assert(!c.mismatch);
    for (size_t j = c.next; j < s->n; j++)
        ck_assert(!(s->v[j].len >= 2 && !memcmp(ts_term(s, j), last, 2)));
}

static void check_all(const js_lexicon *lx, const tset *s)
{
    ck_assert_uint_eq(js_lexicon_count(lx), s->n);
    for (size_t i = 0; i < s->n; i++) {
        check_lookup(lx, s, ts_term(s, i), s->v[i].len, 0);
        check_probes(lx, s, i, 0);
    }
    js_term_info info;
    uint8_t big[TERM_MAX + 1];
    memset(big, 0xFF, sizeof big);
    ck_assert_int_eq(js_lexicon_lookup(lx, "", 0, &info), JS_ENOTFOUND);
    ck_assert_int_eq(js_lexicon_lookup(lx, (const char *)big, sizeof big, &info),
                     JS_ENOTFOUND);
    if (s->n) {
        /* Before the first term and after the last, when such terms can
         * be spelt (the model says they are absent). */
        const uint8_t *f = ts_term(s, 0);
        if (s->v[0].len > 1 || f[0] > 0) {
            uint8_t b = s->v[0].len > 1 ? f[0] : (uint8_t)(f[0] - 1);
            ck_assert_int_eq(js_lexicon_lookup(lx, (const char *)&b, 1, &info),
                             JS_ENOTFOUND);
        }
        const uint8_t *l = ts_term(s, s->n - 1);
        if (bytes_cmp(l, s->v[s->n - 1].len, big, TERM_MAX) < 0)
            ck_assert_int_eq(js_lexicon_lookup(lx, (const char *)big,
                                               TERM_MAX, &info),
                             JS_ENOTFOUND);
    }
    iter_ctx c = {s, 0, 0, 0};
    ck_assert_int_eq(js_lexicon_iter(lx, iter_cb, &c), 0);
    ck_assert(!c.mismatch);
    check_prefixes(lx, s);
    ck_assert_uint_eq(c.i, s->n);
    if (s->n > 1) {
        iter_ctx e = {s, 0, 0, s->n / 2};
        ck_assert_int_eq(js_lexicon_iter(lx, iter_cb, &e), 42);
        ck_assert_uint_eq(e.i, s->n / 2);
    }
}

/* ------------------------------------------------------------------
 * Round trips over generated sets
 * ---------------------------------------------------------------- */

static const uint32_t tpbs[] = {1, 2, 3, 7, JS_LEXICON_BLOCK_TERMS, 256};
#define NTPB (sizeof tpbs / sizeof *tpbs)

static const struct {
    const char *name;
    void (*gen)(tset *, size_t);
    size_t n;      /* terms; 0 and !blocks: whatever gen makes */
    size_t blocks; /* when > 0: n = blocks * terms_per_block + delta */
    int delta;
    int exact;     /* exactly n terms (always so with blocks) */
} sets[] = {
    {"empty", gen_words, 0, 0, 0, 1},
    {"one term", gen_words, 1, 0, 0, 1},
    {"ASCII words", gen_words, 3000, 0, 0, 0},
    {"CJK unigrams", gen_unigrams, 2000, 0, 0, 0},
    {"CJK bigrams", gen_bigrams, 4000, 0, 0, 0},
    {"heading-prefixed terms", gen_heading, 3000, 0, 0, 0},
    {"mixed terms", gen_mixed, 5000, 0, 0, 0},
    {"shared prefixes of every length", gen_prefix_chains, 0, 0, 0, 0},
    {"maximum-length terms", gen_maxlen, 600, 0, 0, 0},
    {"arbitrary bytes", gen_binary, 3000, 0, 0, 0},
    {"one block minus one", gen_words, 0, 1, -1, 0},
    {"exactly one block", gen_words, 0, 1, 0, 0},
    {"one block plus one", gen_words, 0, 1, 1, 0},
    {"three blocks minus one", gen_mixed, 0, 3, -1, 0},
    {"exactly three blocks", gen_mixed, 0, 3, 0, 0},
    {"three blocks plus one", gen_mixed, 0, 3, 1, 0},
    {"100,000 terms", gen_mixed, 100000, 0, 0, 0},
};
#define NSETS (sizeof sets / sizeof *sets)

START_TEST(test_round_trip)
{
    size_t row = (size_t)_i / NTPB;
    uint32_t tpb = tpbs[(size_t)_i % NTPB];
    tset s;
    size_t n = sets[row].n;
    int exact = sets[row].exact;
    if (sets[row].blocks) {
        long want = (long)(sets[row].blocks * tpb) + sets[row].delta;
        n = want > 0 ? (size_t)want : 0;
        exact = 1;
    }
    make_set(&s, sets[row].gen, n, exact, 1000 + row);
    if (exact)
        ck_assert_uint_eq(s.n, n);

    js_buf blocks = JS_BUF_INIT, index = JS_BUF_INIT;
    build(&s, tpb, &blocks, &index);
    js_lexicon *lx = NULL;
    ck_assert_int_eq(js_lexicon_open(&lx, blocks.p, blocks.len, index.p,
                                     index.len, s.postings_len),
                     0);
    /* The index says how many blocks the writer cut. */
    ck_assert_uint_eq(get_u32(index.p), (s.n + tpb - 1) / tpb);
    check_all(lx, &s);
    js_lexicon_close(lx);

    /* One byte less of POSTINGS and the furthest record no longer fits:
     * its term reads as damaged, the others are unaffected. */
    if (s.n && s.postings_len) {
        ck_assert_int_eq(js_lexicon_open(&lx, blocks.p, blocks.len, index.p,
                                         index.len, s.postings_len - 1),
                         0);
        size_t bad = 0;
        for (size_t i = 0; i < s.n; i++) {
            int rc = check_lookup(lx, &s, ts_term(&s, i), s.v[i].len, 1);
            const js_term_info *f = &s.v[i].info;
            CHECK(f->offset + f->length != s.postings_len || rc == JS_ECORRUPT,
                  "term %zu: %d", i, rc);
            bad += rc == JS_ECORRUPT;
        }
        ck_assert_uint_ge(bad, 1);
        ck_assert_int_eq(js_lexicon_iter(lx, iter_cb, &(iter_ctx){&s, 0, 0, 0}),
                         JS_ECORRUPT);
        js_lexicon_close(lx);
    }
    js_buf_free(&blocks);
    js_buf_free(&index);
    ts_free(&s);
}
END_TEST

/* The largest values every field can hold come back intact: 10-byte
 * varints, offset + length = 2^64 - 1 = the POSTINGS size. */
/* Streamed with js_lexicon_drain every few terms and js_lexicon_end,
 * the parts are those js_lexicon_finish writes, byte for byte. */
START_TEST(test_drain_matches_finish)
{
    static const uint32_t tpbs2[] = {1, 3, 32, 256};
    for (size_t k = 0; k < sizeof tpbs2 / sizeof *tpbs2; k++) {
        for (size_t n = 0; n < 200; n += 37) {
            tset s;
            make_set(&s, sets[1].gen, n, 1, 77 + n);
            js_buf blocks = JS_BUF_INIT, index = JS_BUF_INIT;
            build(&s, tpbs2[k], &blocks, &index);
            js_lexicon_writer *w = NULL;
            ck_assert_int_eq(js_lexicon_writer_new(&w, tpbs2[k]), 0);
            js_buf lb = JS_BUF_INIT, ib = JS_BUF_INIT, fb = JS_BUF_INIT;
            for (size_t i = 0; i < s.n; i++) {
                ck_assert_int_eq(js_lexicon_add(w, (const char *)ts_term(&s, i),
                                                s.v[i].len, &s.v[i].info),
                                 0);
                if (i % 5 == 2)
                    ck_assert_int_eq(js_lexicon_drain(w, &lb, &ib, &fb), 0);
            }
            uint32_t nb = 0;
            uint64_t nt = 0;
            ck_assert_int_eq(js_lexicon_end(w, &nb, &nt), 0);
            ck_assert_int_eq(js_lexicon_drain(w, &lb, &ib, &fb), 0);
            js_buf whole = JS_BUF_INIT;
            js_buf_u32(&whole, nb);
            js_buf_u64(&whole, nt);
            js_buf_put(&whole, ib.p, ib.len);
            js_buf_put(&whole, fb.p, fb.len);
            ck_assert_uint_eq(lb.len, blocks.len);
            ck_assert(lb.len == 0 || !memcmp(lb.p, blocks.p, lb.len));
            ck_assert_uint_eq(whole.len, index.len);
            ck_assert(!memcmp(whole.p, index.p, index.len));
            ck_assert_int_eq(js_lexicon_finish(w, &lb, &ib), JS_EINVALID);
            js_lexicon_writer_free(w);
            js_buf_free(&lb);
            js_buf_free(&ib);
            js_buf_free(&fb);
            js_buf_free(&whole);
            js_buf_free(&blocks);
            js_buf_free(&index);
            ts_free(&s);
        }
    }
}
END_TEST

START_TEST(test_extreme_values)
{
    tset s = {0};
    ts_add(&s, "a", 1);
    ts_add(&s, "b", 1);
    ts_add(&s, "c", 1);
    js_term_info *f = &s.v[0].info;
    *f = (js_term_info){UINT32_MAX, UINT64_MAX, 0, UINT64_MAX, UINT32_MAX, 1};
    f = &s.v[1].info;
    *f = (js_term_info){1, (uint64_t)UINT32_MAX + 5, UINT64_MAX - 7, 7,
                        UINT32_MAX, 0};
    f = &s.v[2].info;
    *f = (js_term_info){UINT32_MAX, UINT32_MAX, UINT64_MAX, 0, 1, 1};
    s.postings_len = UINT64_MAX;
    for (uint32_t tpb = 1; tpb <= 3; tpb++) {
        js_buf blocks = JS_BUF_INIT, index = JS_BUF_INIT;
        build(&s, tpb, &blocks, &index);
        js_lexicon *lx = NULL;
        ck_assert_int_eq(js_lexicon_open(&lx, blocks.p, blocks.len, index.p,
                                         index.len, UINT64_MAX),
                         0);
        check_all(lx, &s);
        js_lexicon_close(lx);
        js_buf_free(&blocks);
        js_buf_free(&index);
    }
    ts_free(&s);
}
END_TEST

/* A tiny lexicon spelt out byte by byte from FORMAT.md (crc32s from
 * Python's zlib.crc32): "ab" (df 300 cf 301 offset 5 length 130 max tf 2
 * positions), "abc" (1 1 205 1 1), then a block of "b" (1 1 210 0 1
 * positions), two terms a block.  Offsets in a block are deltas (200 =
 * c8 01); the second block's first offset is absolute (210 = d2 01).
 * Every max tf here is cf - df + 1, so none is stored (flag 4); no
 * record follows the one before it, so every offset is (no flag 2).
 * Head bytes: "ab" 0x02 (0 shared, 2 more), then f5 (df nibble 15, flags
 * 1|4) and df - 15 = 285 (9d 02), cf - df - 1 = 0; "abc" 0x21, then 1c
 * (df 1, flags 4|8: cf = df); "b" 0x01, then 1d (df 1, flags 1|4|8). */
START_TEST(test_golden_bytes)
{
    static const uint8_t want_lex[] =
        "\x10\x00\x00\x00"
        "\x02\x61\x62\xf5\x9d\x02\x00\x05\x82\x01"
        "\x21\x63\x1c\xc8\x01\x01"
        "\x50\x52\x33\x54"
        "\x06\x00\x00\x00"
        "\x01\x62\x1d\xd2\x01\x00"
        "\x76\x09\x09\xac";
    static const uint8_t want_idx[] =
        "\x02\x00\x00\x00"
        "\x03\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00"
        "\x18\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"
        "abb";
    static const struct {
        const char *t;
        js_term_info info;
    } terms[] = {{"ab", {300, 301, 5, 130, 2, 1}},
                 {"abc", {1, 1, 205, 1, 1, 0}},
                 {"b", {1, 1, 210, 0, 1, 1}}};
    js_lexicon_writer *w = NULL;
    ck_assert_int_eq(js_lexicon_writer_new(&w, 2), 0);
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(js_lexicon_add(w, terms[i].t, strlen(terms[i].t),
                                        &terms[i].info),
                         0);
    /* finish appends after what the buffers already hold */
    js_buf blocks = JS_BUF_INIT, index = JS_BUF_INIT;
    js_buf_put(&blocks, "XYZ", 3);
    js_buf_put(&index, "Q", 1);
    ck_assert_int_eq(js_lexicon_finish(w, &blocks, &index), 0);
    ck_assert_int_eq(js_lexicon_finish(w, &blocks, &index), JS_EINVALID);
    ck_assert_int_eq(js_lexicon_add(w, "c", 1, &terms[0].info), JS_EINVALID);
    js_lexicon_writer_free(w);
    ck_assert_uint_eq(blocks.len, 3 + sizeof want_lex - 1);
    ck_assert_uint_eq(index.len, 1 + sizeof want_idx - 1);
    ck_assert(!memcmp(blocks.p, "XYZ", 3));
    ck_assert(!memcmp(blocks.p + 3, want_lex, sizeof want_lex - 1));
    ck_assert(!memcmp(index.p + 1, want_idx, sizeof want_idx - 1));
    /* and the test's own crc32 agrees with the golden one */
    ck_assert_uint_eq(crc32_ref(want_lex + 4, 16), 0x54335250u);

    js_lexicon *lx = NULL;
    ck_assert_int_eq(js_lexicon_open(&lx, blocks.p + 3, blocks.len - 3,
                                     index.p + 1, index.len - 1, 210),
                     0);
    for (size_t i = 0; i < 3; i++) {
        js_term_info got;
        ck_assert_int_eq(js_lexicon_lookup(lx, terms[i].t, strlen(terms[i].t),
                                           &got),
                         0);
        ck_assert(info_eq(&got, &terms[i].info));
    }
    js_lexicon_close(lx);
    js_buf_free(&blocks);
    js_buf_free(&index);
}
END_TEST

START_TEST(test_empty_lexicon)
{
    js_lexicon_writer *w = NULL;
    js_buf blocks = JS_BUF_INIT, index = JS_BUF_INIT;
    ck_assert_int_eq(js_lexicon_writer_new(&w, 32), 0);
    ck_assert_int_eq(js_lexicon_finish(w, &blocks, &index), 0);
    js_lexicon_writer_free(w);
    ck_assert_uint_eq(blocks.len, 0);
    ck_assert_uint_eq(index.len, 12);
    js_lexicon *lx = NULL;
    ck_assert_int_eq(js_lexicon_open(&lx, NULL, 0, index.p, 12, 0), 0);
    ck_assert_uint_eq(js_lexicon_count(lx), 0);
    js_term_info info;
    ck_assert_int_eq(js_lexicon_lookup(lx, "a", 1, &info), JS_ENOTFOUND);
    tset s = {0};
    iter_ctx c = {&s, 0, 0, 0};
    ck_assert_int_eq(js_lexicon_iter(lx, iter_cb, &c), 0);
    ck_assert_uint_eq(c.i, 0);
    js_lexicon_close(lx);
    /* no blocks, yet LEXICON bytes or first-term bytes: damaged */
    ck_assert_int_eq(js_lexicon_open(&lx, (const uint8_t *)"x", 1, index.p, 12,
                                     0),
                     JS_ECORRUPT);
    js_buf_put(&index, "a", 1);
    ck_assert_int_eq(js_lexicon_open(&lx, NULL, 0, index.p, 13, 0), JS_ECORRUPT);
    js_buf_free(&index);
    js_lexicon_close(NULL);
    js_lexicon_writer_free(NULL);
}
END_TEST

/* ------------------------------------------------------------------
 * The writer refuses bad input and stays usable
 * ---------------------------------------------------------------- */

#define INFO(df, cf, off, len, mtf, fl) {df, cf, off, len, mtf, fl}
#define OK_INFO INFO(2, 3, 150, 7, 2, 1)
static char long_z[TERM_MAX + 2]; /* TERM_MAX + 1 'z's, filled in below */

/* After "mid" (offset 100, length 10) has been added: */
static const struct {
    const char *name;
    const char *term;
    size_t len;
    js_term_info info;
    int null_info;
    int want;
} add_cases[] = {
    {"valid", "nxt", 3, OK_INFO, 0, 0},
    {"empty term", "", 0, OK_INFO, 0, JS_EINVALID},
    {"NULL term", NULL, 3, OK_INFO, 0, JS_EINVALID},
    {"NULL info", "nxt", 3, OK_INFO, 1, JS_EINVALID},
    {"longest term", long_z, TERM_MAX, OK_INFO, 0, 0},
    {"one byte too long", long_z, TERM_MAX + 1, OK_INFO, 0, JS_EINVALID},
    {"duplicate", "mid", 3, OK_INFO, 0, JS_EINVALID},
    {"out of order", "lot", 3, OK_INFO, 0, JS_EINVALID},
    {"prefix of the previous term", "mi", 2, OK_INFO, 0, JS_EINVALID},
    {"extension by a NUL byte", "mid\0", 4, OK_INFO, 0, 0},
    {"df 0", "nxt", 3, INFO(0, 3, 150, 7, 2, 1), 0, JS_EINVALID},
    {"cf below df", "nxt", 3, INFO(4, 3, 150, 7, 1, 1), 0, JS_EINVALID},
    {"cf equal to df", "nxt", 3, INFO(3, 3, 150, 7, 1, 1), 0, 0},
    {"max tf 0", "nxt", 3, INFO(2, 3, 150, 7, 0, 1), 0, JS_EINVALID},
    {"max tf above cf - df + 1", "nxt", 3, INFO(2, 3, 150, 7, 3, 1), 0,
     JS_EINVALID},
    {"max tf at cf - df + 1", "nxt", 3, INFO(1, 9, 150, 7, 9, 1), 0, 0},
    {"unknown flag", "nxt", 3, INFO(2, 3, 150, 7, 2, 2), 0, JS_EINVALID},
    {"flag beyond a byte", "nxt", 3, INFO(2, 3, 150, 7, 2, 0x101), 0,
     JS_EINVALID},
    {"offset decreases", "nxt", 3, INFO(2, 3, 99, 7, 2, 1), 0, JS_EINVALID},
    {"offset repeats", "nxt", 3, INFO(2, 3, 100, 7, 2, 1), 0, 0},
    {"offset + length overflows", "nxt", 3, INFO(2, 3, 150, UINT64_MAX - 149, 2, 1),
     0, JS_EINVALID},
    {"offset + length at 2^64 - 1", "nxt", 3,
     INFO(2, 3, 150, UINT64_MAX - 150, 2, 1), 0, 0},
};

START_TEST(test_writer_rejects)
{
    const js_term_info mid = INFO(1, 1, 100, 10, 1, 0);
    const js_term_info after = INFO(1, 1, 200, 1, 1, 0);
    memset(long_z, 'z', TERM_MAX + 1);
    /* terms_per_block 2: an accepted term closes the first block, and a
     * refused one must not count toward it */
    js_lexicon_writer *w = NULL;
    ck_assert_int_eq(js_lexicon_writer_new(&w, 2), 0);
    ck_assert_int_eq(js_lexicon_add(w, "mid", 3, &mid), 0);
    int rc = js_lexicon_add(w, add_cases[_i].term, add_cases[_i].len,
                            add_cases[_i].null_info ? NULL : &add_cases[_i].info);
    ck_assert_msg(rc == add_cases[_i].want, "%s: rc %d", add_cases[_i].name, rc);
    /* a refused term changes nothing: the writer goes on */
    const char *next = "{"; /* after every row's term: '{' > 'z' */
    ck_assert_int_eq(js_lexicon_add(w, next, strlen(next), &after), 0);
    js_buf blocks = JS_BUF_INIT, index = JS_BUF_INIT;
    ck_assert_int_eq(js_lexicon_finish(w, &blocks, &index), 0);
    js_lexicon_writer_free(w);
    js_lexicon *lx = NULL;
    ck_assert_int_eq(js_lexicon_open(&lx, blocks.p, blocks.len, index.p,
                                     index.len, UINT64_MAX),
                     0);
    ck_assert_uint_eq(js_lexicon_count(lx), rc == 0 ? 3 : 2);
    js_term_info got;
    ck_assert_int_eq(js_lexicon_lookup(lx, "mid", 3, &got), 0);
    ck_assert(info_eq(&got, &mid));
    ck_assert_int_eq(js_lexicon_lookup(lx, next, strlen(next), &got), 0);
    ck_assert(info_eq(&got, &after));
    if (rc == 0) {
        ck_assert_int_eq(js_lexicon_lookup(lx, add_cases[_i].term,
                                           add_cases[_i].len, &got),
                         0);
        ck_assert(info_eq(&got, &add_cases[_i].info));
    }
    js_lexicon_close(lx);
    js_buf_free(&blocks);
    js_buf_free(&index);
}
END_TEST

START_TEST(test_writer_block_sizes)
{
    static const struct {
        uint32_t tpb;
        int want;
    } rows[] = {{0, JS_EINVALID}, {1, 0}, {32, 0}, {256, 0}, {257, JS_EINVALID},
                {UINT32_MAX, JS_EINVALID}};
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        js_lexicon_writer *w = NULL;
        ck_assert_int_eq(js_lexicon_writer_new(&w, rows[i].tpb), rows[i].want);
        ck_assert(rows[i].want ? w == NULL : w != NULL);
        js_lexicon_writer_free(w);
    }
}
END_TEST

/* ------------------------------------------------------------------
 * Damage the writer cannot produce: hand-encoded blocks with valid
 * crc32s that break one entry rule each
 * ---------------------------------------------------------------- */

typedef struct {
    uint64_t shared, suflen;
    const char *suf; /* min(suflen, strlen) bytes written; NULL: suflen 'z' */
    uint64_t df, extra, off, len, max_tf, flags;
} raw_ent;

/* Two blocks, 1000 bytes of POSTINGS: apple apply banana | cherry
 * cherrypie date; flags as the writer sets them (2: offset left out,
 * the record following the previous one; 4: max tf left out). */
static const raw_ent base_ents[2][3] = {
    {{0, 5, "apple", 3, 2, 100, 10, 2, 1},
     {4, 1, "y", 1, 0, 10, 5, 1, 6},
     {0, 6, "banana", 7, 10, 0, 20, 5, 1}},
    {{0, 6, "cherry", 2, 1, 200, 8, 2, 5},
     {6, 3, "pie", 1, 0, 8, 4, 1, 6},
     {0, 4, "date", 4, 4, 4, 12, 3, 3}},
};
#define BASE_POSTINGS 1000

/* Writes v as a nibble (returned) and, from 15 up, a varint of v - 15
 * after the head byte (FORMAT.md part 6). */
static unsigned nib(uint64_t v) { return v < 15 ? (unsigned)v : 15; }
static void nib_more(js_buf *b, uint64_t v)
{
    if (v >= 15)
        js_buf_varint(b, v - 15);
}

static void raw_put(js_buf *b, const raw_ent *e)
{
    js_buf_u8(b, (uint8_t)(nib(e->shared) << 4 | nib(e->suflen)));
    nib_more(b, e->shared);
    nib_more(b, e->suflen);
    if (e->suf) {
        size_t n = strlen(e->suf);
        js_buf_put(b, e->suf, n < e->suflen ? n : (size_t)e->suflen);
    } else {
        for (uint64_t k = 0; k < e->suflen; k++)
            js_buf_u8(b, 'z');
    }
    uint64_t flags = e->flags | (e->extra == 0 ? 8 : 0); /* 8: cf = df */
    js_buf_u8(b, (uint8_t)(nib(e->df) << 4 | (flags & 15)));
    nib_more(b, e->df);
    if (e->extra)
        js_buf_varint(b, e->extra - 1);
    if (!(e->flags & 2)) /* the record follows the previous one */
        js_buf_varint(b, e->off);
    js_buf_varint(b, e->len);
    if (!(e->flags & 4)) /* max tf = cf - df + 1 */
        js_buf_varint(b, e->max_tf);
}

/* Frames entries (plus `tail` bytes) as a block with a valid crc32. */
static void raw_block(js_buf *lex, const js_buf *ent, const void *tail,
                      size_t ntail)
{
    js_buf e = JS_BUF_INIT;
    js_buf_put(&e, ent->p, ent->len);
    js_buf_put(&e, tail, ntail);
    js_buf_u32(lex, (uint32_t)e.len);
    js_buf_put(lex, e.p, e.len);
    js_buf_u32(lex, crc32_ref(e.p, e.len));
    js_buf_free(&e);
}

/* The two parts of base_ents with entry (blk, ent) replaced by *repl (NULL:
 * none) and `tail` appended to block blk's entries.  The index is the
 * base's, whatever the replacement says. */
static void raw_lexicon(js_buf *lex, js_buf *idx, int blk, int ent,
                        const raw_ent *repl, const void *tail, size_t ntail)
{
    js_buf firsts = JS_BUF_INIT;
    js_buf_u32(idx, 2);
    js_buf_u64(idx, 6);
    for (int b = 0; b < 2; b++) {
        js_buf e = JS_BUF_INIT;
        for (int k = 0; k < 3; k++)
            raw_put(&e, b == blk && k == ent && repl ? repl : &base_ents[b][k]);
        js_buf_u64(idx, lex->len);
        js_buf_u32(idx, (uint32_t)strlen(base_ents[b][0].suf));
        js_buf_put(&firsts, base_ents[b][0].suf, strlen(base_ents[b][0].suf));
        raw_block(lex, &e, tail, b == blk ? ntail : 0);
        js_buf_free(&e);
    }
    js_buf_put(idx, firsts.p, firsts.len);
    js_buf_free(&firsts);
}

/* The model of base_ents. */
static void base_set(tset *s)
{
    static const char *t[] = {"apple", "apply", "banana", "cherry",
                              "cherrypie", "date"};
    static const js_term_info in[] = {
        INFO(3, 5, 100, 10, 2, 1), INFO(1, 1, 110, 5, 1, 0),
        INFO(7, 17, 110, 20, 5, 1), INFO(2, 3, 200, 8, 2, 1),
        INFO(1, 1, 208, 4, 1, 0),   INFO(4, 8, 212, 12, 3, 1)};
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < 6; i++) {
        ts_add(s, t[i], strlen(t[i]));
        s->v[i].info = in[i];
    }
    s->postings_len = BASE_POSTINGS;
}

typedef struct {
    int open;     /* js_lexicon_open's code */
    int iter;     /* js_lexicon_iter's code, when open succeeded */
    size_t found; /* model terms found */
} robust_res;

/* Opens the (maybe damaged) parts and checks that every answer is the
 * model's or JS_ECORRUPT: every term, its probes, a full iteration (whose
 * terms, as far as it got, must be the model's). */
static robust_res robust(const uint8_t *lex, size_t lex_len, const uint8_t *idx,
                         size_t idx_len, const tset *s, size_t probe_stride)
{
    robust_res res = {0, 0, 0};
    js_lexicon *lx = NULL;
    res.open = js_lexicon_open(&lx, lex, lex_len, idx, idx_len, s->postings_len);
    CHECK(res.open == 0 || res.open == JS_ECORRUPT, "open: %d", res.open);
    if (res.open)
        return res;
    for (size_t i = 0; i < s->n; i++) {
        if (check_lookup(lx, s, ts_term(s, i), s->v[i].len, 1) == 0)
            res.found++;
        if (probe_stride && i % probe_stride == 0)
            check_probes(lx, s, i, 1);
    }
    iter_ctx c = {s, 0, 0, 0};
    res.iter = js_lexicon_iter(lx, iter_cb, &c);
    CHECK(!c.mismatch, "iteration yielded a wrong term");
    CHECK(res.iter == JS_ECORRUPT || (res.iter == 0 && c.i == s->n),
          "iteration: %d after %zu of %zu", res.iter, c.i, s->n);
    js_lexicon_close(lx);
    return res;
}

#define Z UINT64_MAX
#define TAIL(s) s, sizeof(s) - 1
static const struct {
    const char *name;
    int blk, ent;
    raw_ent e;        /* replaces entry (blk, ent) */
    const char *tail; /* else: bytes appended to block blk's entries */
    size_t ntail;
    const char *victim; /* a lookup that must meet the damage */
} entry_cases[] = {
    {"shared prefix longer than the previous term", 0, 1,
     {6, 1, "y", 1, 0, 10, 5, 1, 0}, NULL, 0, "apply"},
    {"first entry with a shared prefix", 1, 0,
     {1, 5, "herry", 2, 1, 200, 8, 2, 1}, NULL, 0, "cherry"},
    {"term longer than the maximum", 0, 2,
     {0, TERM_MAX + 1, NULL, 7, 10, 0, 20, 5, 1}, NULL, 0, "banana"},
    {"suffix past the end of the block", 1, 2,
     {0, 100, "date", 4, 4, 4, 12, 3, 1}, NULL, 0, "date"},
    {"suffix length beyond 64 bits of sense", 1, 2,
     {0, Z, "date", 4, 4, 4, 12, 3, 1}, NULL, 0, "date"},
    {"duplicate term", 0, 1, {5, 0, "", 1, 0, 10, 5, 1, 0}, NULL, 0, "apply"},
    {"term goes down", 0, 2, {0, 3, "aaa", 7, 10, 0, 20, 5, 1}, NULL, 0,
     "banana"},
    {"term goes down to a prefix", 1, 1, {5, 0, "", 1, 0, 8, 4, 1, 0}, NULL, 0,
     "cherrypie"},
    {"first entry differs from the index", 1, 0,
     {0, 6, "cherrx", 2, 1, 200, 8, 2, 1}, NULL, 0, "cherry"},
    {"first entry longer than the index's", 1, 0,
     {0, 7, "cherrya", 2, 1, 200, 8, 2, 1}, NULL, 0, "cherry"},
    {"df 0", 0, 0, {0, 5, "apple", 0, 2, 100, 10, 2, 1}, NULL, 0, "apple"},
    {"df above 32 bits", 0, 0, {0, 5, "apple", 1ull << 32, 2, 100, 10, 2, 1},
     NULL, 0, "apple"},
    {"cf overflows", 0, 2, {0, 6, "banana", 7, Z - 6, 0, 20, 5, 1}, NULL, 0,
     "banana"},
    {"offset past POSTINGS", 0, 0, {0, 5, "apple", 3, 2, 1001, 0, 2, 1}, NULL,
     0, "apple"},
    {"length past POSTINGS", 1, 2,
     {0, 4, "date", 4, 4, 4, BASE_POSTINGS - 212 + 1, 3, 1}, NULL, 0, "date"},
    {"length overflows", 1, 2, {0, 4, "date", 4, 4, 4, Z, 3, 1}, NULL, 0,
     "date"},
    {"offset delta overflows", 0, 1, {4, 1, "y", 1, 0, Z, 5, 1, 0}, NULL, 0,
     "apply"},
    {"max tf 0", 0, 2, {0, 6, "banana", 7, 10, 0, 20, 0, 1}, NULL, 0, "banana"},
    {"max tf above cf - df + 1", 0, 2, {0, 6, "banana", 7, 10, 0, 20, 12, 1},
     NULL, 0, "banana"},
    {"max tf above 32 bits", 0, 2,
     {0, 6, "banana", 7, Z - 7, 0, 20, 1ull << 32, 1}, NULL, 0, "banana"},
    {"shared past the previous term", 1, 1, {7, 3, "pie", 1, 0, 8, 4, 1, 6},
     NULL, 0, "cherrypie"},
    {"a term past the longest", 1, 1, {6, 300, NULL, 1, 0, 8, 4, 1, 6}, NULL,
     0, "cherrypie"},
    {"a block's first entry follows the previous entry", 1, 0,
     {0, 6, "cherry", 2, 1, 200, 8, 2, 7}, NULL, 0, "cherry"},
    {"an implied max tf of 2^32", 0, 2,
     {0, 6, "banana", 7, UINT32_MAX, 0, 20, 5, 5}, NULL, 0, "banana"},
    {"a stray byte after the last entry", 1, 0, {0}, TAIL("\x00"), "dog"},
    {"an entry cut short", 1, 0, {0}, TAIL("\x00\x03" "eel\x01"), "dog"},
    {"an 11-byte varint", 1, 0, {0},
     TAIL("\x0f\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00"), "dog"},
    {"a varint above 2^64 - 1", 1, 0, {0},
     TAIL("\x01" "e\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"), "dog"},
};

START_TEST(test_entry_rules)
{
    js_buf lex = JS_BUF_INIT, idx = JS_BUF_INIT;
    tset s;
    base_set(&s);
    raw_lexicon(&lex, &idx, entry_cases[_i].blk, entry_cases[_i].ent,
                entry_cases[_i].tail ? NULL : &entry_cases[_i].e,
                entry_cases[_i].tail, entry_cases[_i].ntail);
    robust_res r = robust(lex.p, lex.len, idx.p, idx.len, &s, 1);
    ck_assert_msg(r.open == 0, "%s: blocks are checked when read",
                  entry_cases[_i].name);
    ck_assert_msg(r.iter == JS_ECORRUPT, "%s: iteration %d",
                  entry_cases[_i].name, r.iter);
    js_lexicon *lx = NULL;
    js_term_info info;
    ck_assert_int_eq(js_lexicon_open(&lx, lex.p, lex.len, idx.p, idx.len,
                                     BASE_POSTINGS),
                     0);
    const char *v = entry_cases[_i].victim;
    int rc = js_lexicon_lookup(lx, v, strlen(v), &info);
    ck_assert_msg(rc == JS_ECORRUPT, "%s: lookup %s: %d", entry_cases[_i].name,
                  v, rc);
    /* the other block is intact */
    const char *other = entry_cases[_i].blk ? "apply" : "cherrypie";
    ck_assert_int_eq(js_lexicon_lookup(lx, other, strlen(other), &info), 0);
    js_lexicon_close(lx);
    js_buf_free(&lex);
    js_buf_free(&idx);
    ts_free(&s);
}
END_TEST

/* The hand encoder spells exactly what the writer writes. */
START_TEST(test_raw_matches_writer)
{
    js_buf lex = JS_BUF_INIT, idx = JS_BUF_INIT, wl = JS_BUF_INIT,
           wi = JS_BUF_INIT;
    tset s;
    base_set(&s);
    raw_lexicon(&lex, &idx, -1, -1, NULL, NULL, 0);
    build(&s, 3, &wl, &wi);
    ck_assert_uint_eq(lex.len, wl.len);
    ck_assert_uint_eq(idx.len, wi.len);
    ck_assert(!memcmp(lex.p, wl.p, lex.len));
    ck_assert(!memcmp(idx.p, wi.p, idx.len));
    robust_res r = robust(lex.p, lex.len, idx.p, idx.len, &s, 1);
    ck_assert_int_eq(r.open, 0);
    ck_assert_int_eq(r.iter, 0);
    ck_assert_uint_eq(r.found, 6);
    js_buf_free(&lex);
    js_buf_free(&idx);
    js_buf_free(&wl);
    js_buf_free(&wi);
    ts_free(&s);
}
END_TEST

/* A block may hold 256 entries whatever the writer's setting, not 257. */
START_TEST(test_block_entry_limit)
{
    for (int n = 256; n <= 257; n++) {
        js_buf lex = JS_BUF_INIT, idx = JS_BUF_INIT, e = JS_BUF_INIT;
        tset s = {0};
        char t[8];
        for (int k = 0; k < n; k++) {
            snprintf(t, sizeof t, "t%03d", k);
            raw_ent r = {k ? 1 : 0, k ? 3 : 4, t + (k ? 1 : 0), 1, 0, 0, 1, 1, 0};
            raw_put(&e, &r);
            ts_add(&s, t, 4);
            s.v[k].info = (js_term_info)INFO(1, 1, 0, 1, 1, 0);
        }
        raw_block(&lex, &e, NULL, 0);
        js_buf_u32(&idx, 1);
        js_buf_u64(&idx, (uint64_t)n);
        js_buf_u64(&idx, 0);
        js_buf_u32(&idx, 4);
        js_buf_put(&idx, "t000", 4);
        s.postings_len = 1;
        js_lexicon *lx = NULL;
        js_term_info info;
        int rc = js_lexicon_open(&lx, lex.p, lex.len, idx.p, idx.len, 1);
        if (n == 256) {
            ck_assert_int_eq(rc, 0);
            check_all(lx, &s);
            js_lexicon_close(lx);
        } else {
            /* 257 terms cannot fit one block: the index is wrong ... */
            ck_assert_int_eq(rc, JS_ECORRUPT);
            /* ... and with a second block to make the count possible, the
             * first block itself is. */
            js_buf idx2 = JS_BUF_INIT, e2 = JS_BUF_INIT;
            size_t off2 = lex.len;
            raw_ent r = {0, 1, "u", 1, 0, 0, 1, 1, 0};
            raw_put(&e2, &r);
            raw_block(&lex, &e2, NULL, 0);
            js_buf_u32(&idx2, 2);
            js_buf_u64(&idx2, 258);
            js_buf_u64(&idx2, 0);
            js_buf_u32(&idx2, 4);
            js_buf_u64(&idx2, off2);
            js_buf_u32(&idx2, 1);
            js_buf_put(&idx2, "t000u", 5);
            ck_assert_int_eq(js_lexicon_open(&lx, lex.p, lex.len, idx2.p,
                                             idx2.len, 1),
                             0);
            ck_assert_int_eq(js_lexicon_lookup(lx, "t255", 4, &info), 0);
            ck_assert_int_eq(js_lexicon_lookup(lx, "t256", 4, &info),
                             JS_ECORRUPT);
            ck_assert_int_eq(js_lexicon_lookup(lx, "u", 1, &info), 0);
            ck_assert_int_eq(js_lexicon_iter(lx, iter_cb,
                                             &(iter_ctx){&s, 0, 0, 0}),
                             JS_ECORRUPT);
            js_lexicon_close(lx);
            js_buf_free(&idx2);
            js_buf_free(&e2);
        }
        js_buf_free(&lex);
        js_buf_free(&idx);
        js_buf_free(&e);
        ts_free(&s);
    }
}
END_TEST

static int count_cb(void *ctx, const char *term, size_t len,
                    const js_term_info *info)
{
    (void)term;
    (void)len;
    (void)info;
    ++*(size_t *)ctx;
    return 0;
}

/* Blocks each valid alone but out of order with each other: block 0's
 * last term equals or passes block 1's first. */
START_TEST(test_blocks_out_of_order)
{
    static const char *lasts[] = {"cherry", "cherrz", "zebra"};
    for (size_t i = 0; i < 3; i++) {
        js_buf lex = JS_BUF_INIT, idx = JS_BUF_INIT;
        tset s;
        base_set(&s);
        raw_ent e = {0, strlen(lasts[i]), lasts[i], 7, 10, 0, 20, 5, 1};
        raw_lexicon(&lex, &idx, 0, 2, &e, NULL, 0);
        js_lexicon *lx = NULL;
        js_term_info info;
        ck_assert_int_eq(js_lexicon_open(&lx, lex.p, lex.len, idx.p, idx.len,
                                         BASE_POSTINGS),
                         0);
        ck_assert_int_eq(js_lexicon_lookup(lx, "apply", 5, &info), 0);
        size_t seen = 0;
        ck_assert_int_eq(js_lexicon_iter(lx, count_cb, &seen), JS_ECORRUPT);
        ck_assert_uint_eq(seen, 3); /* block 0, then the clash */
        js_lexicon_close(lx);
        js_buf_free(&lex);
        js_buf_free(&idx);
        ts_free(&s);
    }
}
END_TEST

/* ------------------------------------------------------------------
 * A damaged LEXICON_INDEX (in production its part crc32 catches this
 * first; the reader must not rely on that)
 * ---------------------------------------------------------------- */

enum { SET, ADD, SET_END, BYTES };
typedef struct {
    int op; /* SET, ADD (two's complement), SET_END (LEXICON length +
               value), BYTES (copy s); SET with w 0: no patch */
    size_t pos, w;
    int64_t v;
    const char *s;
} patch;
/* Field positions in base_ents' index: u32 blocks at 0, u64 terms at 4,
 * block 0 at 12 (offset) and 20 (length), block 1 at 24 and 32, first
 * terms "applecherry" at 36..47. */
static const struct {
    const char *name;
    patch p[2];
    int grow;   /* bytes added to (>0) or cut from (<0) the index first */
    int open;   /* wanted from js_lexicon_open */
    const char *victim;
    int lookup; /* wanted for the victim */
    int iter;   /* wanted from iteration */
} index_cases[] = {
    {"intact", {{0}}, 0, 0, "cherrypie", 0, 0},
    {"block count 3", {{SET, 0, 4, 3, 0}}, 0, JS_ECORRUPT, 0, 0, 0},
    {"block count 1", {{SET, 0, 4, 1, 0}}, 0, JS_ECORRUPT, 0, 0, 0},
    {"block count 0", {{SET, 0, 4, 0, 0}}, 0, JS_ECORRUPT, 0, 0, 0},
    {"block count 2^32 - 1", {{SET, 0, 4, 0xFFFFFFFF, 0}}, 0, JS_ECORRUPT, 0,
     0, 0},
    {"term count below block count", {{SET, 4, 8, 1, 0}}, 0, JS_ECORRUPT, 0,
     0, 0},
    {"term count above 256 a block", {{SET, 4, 8, 513, 0}}, 0, JS_ECORRUPT, 0,
     0, 0},
    {"term count 2^64 - 1", {{SET, 4, 8, -1, 0}}, 0, JS_ECORRUPT, 0, 0, 0},
    {"term count 7", {{SET, 4, 8, 7, 0}}, 0, 0, "date", 0, JS_ECORRUPT},
    {"term count 5", {{SET, 4, 8, 5, 0}}, 0, 0, "date", 0, JS_ECORRUPT},
    {"term count 512", {{SET, 4, 8, 512, 0}}, 0, 0, "apple", 0, JS_ECORRUPT},
    {"first block not at 0", {{SET, 12, 8, 1, 0}}, 0, JS_ECORRUPT, 0, 0, 0},
    {"offsets equal", {{SET, 24, 8, 0, 0}}, 0, JS_ECORRUPT, 0, 0, 0},
    {"block 0 shorter than its frame", {{SET, 24, 8, 8, 0}}, 0, JS_ECORRUPT, 0,
     0, 0},
    {"block 1 shorter than its frame", {{SET_END, 24, 8, -8, 0}}, 0,
     JS_ECORRUPT, 0, 0, 0},
    {"block 1 at the end of LEXICON", {{SET_END, 24, 8, 0, 0}}, 0, JS_ECORRUPT,
     0, 0, 0},
    {"block 1 past LEXICON", {{SET, 24, 8, INT64_MIN, 0}}, 0, JS_ECORRUPT, 0,
     0, 0},
    {"block 1 at the last start possible", {{SET_END, 24, 8, -9, 0}}, 0, 0,
     "cherry", JS_ECORRUPT, JS_ECORRUPT},
    {"block 1 one byte late", {{ADD, 24, 8, 1, 0}}, 0, 0, "apple", JS_ECORRUPT,
     JS_ECORRUPT},
    {"block 1 one byte early", {{ADD, 24, 8, -1, 0}}, 0, 0, "cherry",
     JS_ECORRUPT, JS_ECORRUPT},
    {"first-term length 0", {{SET, 20, 4, 0, 0}}, 0, JS_ECORRUPT, 0, 0, 0},
    {"first-term length 258", {{SET, 20, 4, TERM_MAX + 1, 0}}, 0, JS_ECORRUPT,
     0, 0, 0},
    {"first-term lengths leave a byte", {{SET, 20, 4, 4, 0}}, 0, JS_ECORRUPT,
     0, 0, 0},
    {"first-term lengths overrun", {{SET, 32, 4, 7, 0}}, 0, JS_ECORRUPT, 0, 0,
     0},
    {"first-term length 2^32 - 1", {{SET, 32, 4, 0xFFFFFFFF, 0}}, 0,
     JS_ECORRUPT, 0, 0, 0},
    {"first terms decrease", {{BYTES, 41, 0, 0, "aaaaaa"}}, 0, JS_ECORRUPT, 0,
     0, 0},
    {"first terms equal", {{SET, 20, 4, 6, 0}, {BYTES, 36, 0, 0, "cherrycherry"}},
     1, JS_ECORRUPT, 0, 0, 0},
    {"first term 0 above its block's", {{BYTES, 36, 0, 0, "applf"}}, 0, 0,
     "apple", JS_ECORRUPT, JS_ECORRUPT},
    {"first term 0 below its block's", {{BYTES, 36, 0, 0, "appld"}}, 0, 0,
     "apple", JS_ECORRUPT, JS_ECORRUPT},
    {"first term 1 above its block's", {{BYTES, 41, 0, 0, "cherrz"}}, 0, 0,
     "cherry", JS_ECORRUPT, JS_ECORRUPT},
    {"first term 1 below its block's", {{BYTES, 41, 0, 0, "cherrx"}}, 0, 0,
     "cherry", JS_ECORRUPT, JS_ECORRUPT},
    {"a byte extra", {{0}}, 1, JS_ECORRUPT, 0, 0, 0},
    {"a byte short", {{0}}, -1, JS_ECORRUPT, 0, 0, 0},
    {"header only", {{0}}, -35, JS_ECORRUPT, 0, 0, 0},
    {"11 bytes", {{0}}, -36, JS_ECORRUPT, 0, 0, 0},
    {"empty", {{0}}, -47, JS_ECORRUPT, 0, 0, 0},
};

START_TEST(test_index_damage)
{
    js_buf lex = JS_BUF_INIT, idx = JS_BUF_INIT;
    tset s;
    base_set(&s);
    raw_lexicon(&lex, &idx, -1, -1, NULL, NULL, 0);
    ck_assert_uint_eq(idx.len, 47);
    int g = index_cases[_i].grow;
    for (int k = 0; k < g; k++)
        js_buf_u8(&idx, 0);
    if (g < 0)
        idx.len -= (size_t)-g;
    for (int k = 0; k < 2; k++) {
        patch p = index_cases[_i].p[k];
        uint64_t v = (uint64_t)p.v, old = 0;
        if (p.op == BYTES) {
            memcpy(idx.p + p.pos, p.s, strlen(p.s));
            continue;
        }
        if (p.w == 0)
            continue;
        for (size_t b = 0; b < p.w; b++)
            old |= (uint64_t)idx.p[p.pos + b] << (8 * b);
        if (p.op == ADD)
            v += old;
        else if (p.op == SET_END)
            v += lex.len;
        for (size_t b = 0; b < p.w; b++)
            idx.p[p.pos + b] = (uint8_t)(v >> (8 * b));
    }
    robust_res r = robust(lex.p, lex.len, idx.p, idx.len, &s, 1);
    ck_assert_msg(r.open == index_cases[_i].open, "%s: open %d",
                  index_cases[_i].name, r.open);
    if (r.open == 0) {
        js_lexicon *lx = NULL;
        js_term_info info;
        ck_assert_int_eq(js_lexicon_open(&lx, lex.p, lex.len, idx.p, idx.len,
                                         BASE_POSTINGS),
                         0);
        const char *v = index_cases[_i].victim;
        int rc = js_lexicon_lookup(lx, v, strlen(v), &info);
        ck_assert_msg(rc == index_cases[_i].lookup, "%s: lookup %s: %d",
                      index_cases[_i].name, v, rc);
        ck_assert_msg(r.iter == index_cases[_i].iter, "%s: iteration %d",
                      index_cases[_i].name, r.iter);
        js_lexicon_close(lx);
    }
    js_buf_free(&lex);
    js_buf_free(&idx);
    ts_free(&s);
}
END_TEST

/* Every byte of every first term in the index changed, for first terms
 * of lengths around the reader's 8-byte keys: lookups of the damaged
 * block's term meet JS_ECORRUPT, a full scan notices. */
static const size_t first_lens[] = {1, 7, 8, 9, 16, TERM_MAX};

START_TEST(test_first_term_bytes)
{
    size_t flen = first_lens[_i];
    tset s = {0};
    uint8_t t[TERM_MAX];
    memset(t, 'a', sizeof t);
    for (int k = 1; k <= 3; k++) {
        t[flen - 1] = (uint8_t)(0x10 * k);
        ts_add(&s, t, flen);
        s.v[k - 1].info = (js_term_info)INFO(1, 1, (uint64_t)k, 1, 1, 0);
    }
    s.postings_len = 4;
    js_buf lex = JS_BUF_INIT, idx = JS_BUF_INIT;
    build(&s, 1, &lex, &idx);
    size_t firsts = 12 + 3 * 12;
    ck_assert_uint_eq(idx.len, firsts + 3 * flen);
    for (size_t j = 0; j < 3; j++)
        for (size_t pos = 0; pos < flen; pos++)
            for (int up = 0; up < 2; up++) {
                uint8_t *d = dup_part(idx.p, idx.len);
                d[firsts + j * flen + pos] += up ? 1 : 0xFF; /* +1 or -1 */
                robust_res r = robust(lex.p, lex.len, d, idx.len, &s, 1);
                CHECK(r.open || r.iter == JS_ECORRUPT,
                      "block %zu byte %zu unnoticed", j, pos);
                if (r.open == 0) {
                    js_lexicon *lx = NULL;
                    js_term_info info;
                    ck_assert_int_eq(js_lexicon_open(&lx, lex.p, lex.len, d,
                                                     idx.len, 4),
                                     0);
                    int rc = js_lexicon_lookup(lx, (const char *)ts_term(&s, j),
                                               flen, &info);
                    CHECK(rc == JS_ECORRUPT, "block %zu byte %zu: lookup %d",
                          j, pos, rc);
                    js_lexicon_close(lx);
                }
                free(d);
            }
    js_buf_free(&lex);
    js_buf_free(&idx);
    ts_free(&s);
}
END_TEST

/* A LEXICON with a byte appended: the last block no longer ends where
 * its length says. */
START_TEST(test_lexicon_grown)
{
    js_buf lex = JS_BUF_INIT, idx = JS_BUF_INIT;
    tset s;
    base_set(&s);
    raw_lexicon(&lex, &idx, -1, -1, NULL, NULL, 0);
    js_buf_u8(&lex, 0);
    robust_res r = robust(lex.p, lex.len, idx.p, idx.len, &s, 1);
    ck_assert_int_eq(r.open, 0);
    ck_assert_int_eq(r.iter, JS_ECORRUPT);
    ck_assert_uint_eq(r.found, 3); /* block 0's */
    js_buf_free(&lex);
    js_buf_free(&idx);
    ts_free(&s);
}
END_TEST

/* ------------------------------------------------------------------
 * Damage sweeps: every byte of both parts flipped, every truncation,
 * random multi-byte damage
 * ---------------------------------------------------------------- */

static const struct {
    void (*gen)(tset *, size_t);
    size_t n;
    uint32_t tpb;
} sweep_sets[] = {
    {gen_mixed, 150, 4},
    {gen_mixed, 300, JS_LEXICON_BLOCK_TERMS},
    {gen_binary, 60, 7},
};

START_TEST(test_sweep_flips)
{
    tset s;
    make_set(&s, sweep_sets[_i].gen, sweep_sets[_i].n, 0, 77 + (uint64_t)_i);
    js_buf lex = JS_BUF_INIT, idx = JS_BUF_INIT;
    build(&s, sweep_sets[_i].tpb, &lex, &idx);
    static const uint8_t masks[] = {0x01, 0x80, 0xFF, 0x5A};
    size_t variants = 0, open_failed = 0;
    for (int part = 0; part < 2; part++) {
        js_buf *b = part ? &idx : &lex;
        for (size_t pos = 0; pos < b->len; pos++)
            for (size_t m = 0; m < sizeof masks; m++) {
                uint8_t *d = dup_part(b->p, b->len);
                d[pos] ^= masks[m];
                robust_res r = part ? robust(lex.p, lex.len, d, idx.len, &s, 5)
                                    : robust(d, lex.len, idx.p, idx.len, &s, 5);
                /* No single changed byte goes unnoticed by a full scan:
                 * LEXICON bytes are under crc32s and frame lengths, index
                 * bytes are checked on open or against the blocks. */
                CHECK(r.open || r.iter == JS_ECORRUPT,
                      "part %d byte %zu ^ %02x unnoticed", part, pos, masks[m]);
                variants++;
                open_failed += r.open != 0;
                free(d);
            }
    }
    printf("lexicon sweep %d: %zu terms, %zu single-byte changes, %zu refused "
           "at open, the rest caught when read\n",
           _i, s.n, variants, open_failed);
    js_buf_free(&lex);
    js_buf_free(&idx);
    ts_free(&s);
}
END_TEST

START_TEST(test_sweep_truncations)
{
    tset s;
    make_set(&s, sweep_sets[_i].gen, sweep_sets[_i].n, 0, 77 + (uint64_t)_i);
    js_buf lex = JS_BUF_INIT, idx = JS_BUF_INIT;
    build(&s, sweep_sets[_i].tpb, &lex, &idx);
    for (int part = 0; part < 2; part++) {
        js_buf *b = part ? &idx : &lex;
        for (size_t len = 0; len < b->len; len++) {
            uint8_t *d = dup_part(b->p, len);
            robust_res r = part ? robust(lex.p, lex.len, d, len, &s, 0)
                                : robust(d, len, idx.p, idx.len, &s, 0);
            CHECK(r.open || r.iter == JS_ECORRUPT, "part %d cut to %zu unnoticed",
                  part, len);
            CHECK(!part || r.open == JS_ECORRUPT, "index cut to %zu opened",
                  len);
            free(d);
        }
    }
    js_buf_free(&lex);
    js_buf_free(&idx);
    ts_free(&s);
}
END_TEST

START_TEST(test_sweep_random)
{
    tset s;
    make_set(&s, gen_mixed, 200, 0, 99);
    js_buf lex = JS_BUF_INIT, idx = JS_BUF_INIT;
    build(&s, 6, &lex, &idx);
    rng_seed(12345);
    for (int iter = 0; iter < 3000; iter++) {
        uint8_t *dl = dup_part(lex.p, lex.len), *di = dup_part(idx.p, idx.len);
        size_t ll = lex.len, il = idx.len;
        int nchanges = 1 + (int)(rnd() % 8);
        for (int k = 0; k < nchanges; k++) {
            int part = rnd() % 3 == 0;
            uint8_t *d = part ? di : dl;
            size_t n = part ? il : ll;
            if (rnd() % 10 == 0 && n)
                *(part ? &il : &ll) = rnd() % n; /* truncate */
            else if (n)
                d[rnd() % n] = (uint8_t)rnd();
        }
        robust(dl, ll, di, il, &s, 7);
        free(dl);
        free(di);
    }
    js_buf_free(&lex);
    js_buf_free(&idx);
    ts_free(&s);
}
END_TEST

/* ------------------------------------------------------------------
 * Lookups from many threads at once
 * ---------------------------------------------------------------- */

typedef struct {
    const js_lexicon *lx;
    const tset *s;
    size_t start;
    size_t errors;
} thread_arg;

static void *lookup_thread(void *p)
{
    thread_arg *a = p;
    for (size_t k = 0; k < a->s->n; k++) {
        size_t i = (a->start + k * 7919) % a->s->n;
        js_term_info info;
        if (js_lexicon_lookup(a->lx, (const char *)ts_term(a->s, i),
                              a->s->v[i].len, &info) != 0 ||
            !info_eq(&info, &a->s->v[i].info))
            a->errors++;
    }
    return NULL;
}

START_TEST(test_threads)
{
    tset s;
    make_set(&s, gen_mixed, 50000, 0, 4242);
    js_buf lex = JS_BUF_INIT, idx = JS_BUF_INIT;
    build(&s, JS_LEXICON_BLOCK_TERMS, &lex, &idx);
    js_lexicon *lx = NULL;
    ck_assert_int_eq(js_lexicon_open(&lx, lex.p, lex.len, idx.p, idx.len,
                                     s.postings_len),
                     0);
    pthread_t th[4];
    thread_arg args[4];
    for (size_t t = 0; t < 4; t++) {
        args[t] = (thread_arg){lx, &s, t * 1000, 0};
        ck_assert_int_eq(pthread_create(&th[t], NULL, lookup_thread, &args[t]),
                         0);
    }
    for (size_t t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        ck_assert_uint_eq(args[t].errors, 0);
    }
    js_lexicon_close(lx);
    js_buf_free(&lex);
    js_buf_free(&idx);
    ts_free(&s);
}
END_TEST

/* ------------------------------------------------------------------
 * Benchmark (printed, not asserted): 1M distinct CJK bigrams drawn from
 * 6,000 ideographs with Zipf frequencies, as a Chinese corpus of some
 * hundred megabytes yields; Zipf-like df; postings laid end to end.
 * ---------------------------------------------------------------- */

#define BENCH_CHARS 6000
#define BENCH_TERMS 1000000

/* CPU time of this thread, so that other work on the machine does not
 * count (its effect on the caches still does). */
static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

START_TEST(test_bench)
{
    rng_seed(20240601);
    uint32_t cp[BENCH_CHARS];
    for (uint32_t i = 0; i < BENCH_CHARS; i++)
        cp[i] = 0x4E00 + i * 3 + rnd() % 3; /* ascending, spread out */
    /* rank -> character, and the Zipf(1) cumulative distribution */
    uint32_t *perm = xrealloc(NULL, BENCH_CHARS * sizeof *perm);
    double *cdf = xrealloc(NULL, BENCH_CHARS * sizeof *cdf);
    for (uint32_t i = 0; i < BENCH_CHARS; i++)
        perm[i] = i;
    for (uint32_t i = BENCH_CHARS - 1; i > 0; i--) {
        uint32_t j = rnd() % (i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    double sum = 0;
    for (uint32_t i = 0; i < BENCH_CHARS; i++)
        cdf[i] = (sum += 1.0 / (i + 1));
    /* distinct pairs in a bitmap, then read out in character order, which
     * is UTF-8 memcmp order */
    size_t nbits = (size_t)BENCH_CHARS * BENCH_CHARS;
    uint8_t *bits = calloc(nbits / 8 + 1, 1);
    ck_assert_ptr_nonnull(bits);
    size_t have = 0;
    while (have < BENCH_TERMS) {
        uint32_t pair[2];
        for (int k = 0; k < 2; k++) {
            double u = rnd01() * sum;
            uint32_t lo = 0, hi = BENCH_CHARS - 1;
            while (lo < hi) {
                uint32_t mid = (lo + hi) / 2;
                if (cdf[mid] < u)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            pair[k] = perm[lo];
        }
        size_t b = (size_t)pair[0] * BENCH_CHARS + pair[1];
        if (!(bits[b / 8] & (1u << (b % 8)))) {
            bits[b / 8] |= (uint8_t)(1u << (b % 8));
            have++;
        }
    }
    tset s = {0};
    uint8_t t[8];
    for (size_t b = 0; b < nbits; b++)
        if (bits[b / 8] & (1u << (b % 8))) {
            size_t k = utf8_put(t, cp[b / BENCH_CHARS]);
            ts_add(&s, t, k + utf8_put(t + k, cp[b % BENCH_CHARS]));
        }
    free(bits);
    free(perm);
    free(cdf);
    ck_assert_uint_eq(s.n, BENCH_TERMS);
    /* df heavy-tailed (mostly 1-3), a few extra occurrences, positions
     * stored; each postings record ~2 bytes an entry plus positions. */
    uint64_t off = 0;
    for (size_t i = 0; i < s.n; i++) {
        double u = rnd01();
        uint32_t df = (uint32_t)(1.0 / (u * u * 0.9999 + 0.0001));
        uint64_t extra = (uint64_t)df * (rnd() % 3) / 2;
        uint32_t mtf = 1 + (uint32_t)(extra < 3 ? extra : rnd() % 4);
        uint64_t len = 4 + 2 * (uint64_t)df + (df + extra) * 3 / 2;
        s.v[i].info = (js_term_info){df, df + extra, off, len, mtf, 1};
        off += len;
    }
    s.postings_len = off;

    /* random present terms, and random absent bigrams of the same
     * characters, copied out beforehand so that the timed loops read
     * queries sequentially and only the lexicon at random */
    enum { NQ = 1000000 };
    uint8_t(*present)[6] = xrealloc(NULL, NQ * sizeof *present);
    for (size_t i = 0; i < NQ; i++)
        memcpy(present[i], ts_term(&s, rnd() % BENCH_TERMS), 6);
    uint8_t(*absent)[6] = xrealloc(NULL, NQ * sizeof *absent);
    for (size_t i = 0; i < NQ; i++) {
        do {
            utf8_put(absent[i], cp[rnd() % BENCH_CHARS]);
            utf8_put(absent[i] + 3, cp[rnd() % BENCH_CHARS]);
        } while (ts_find(&s, absent[i], 6) >= 0);
    }

#if defined(__SANITIZE_ADDRESS__)
    const char *kind = "sanitizer build: times not representative";
#elif defined(__OPTIMIZE__)
    const char *kind = "optimised build";
#else
    const char *kind = "unoptimised build";
#endif
    printf("lexicon bench (%s): %d distinct CJK bigrams (6 bytes each); "
           "times are CPU time of this thread\n",
           kind, BENCH_TERMS);
    /* the format's 32 terms a block, and its neighbours for comparison */
    static const uint32_t bench_tpb[] = {JS_LEXICON_BLOCK_TERMS, 16, 64};
    for (size_t v = 0; v < sizeof bench_tpb / sizeof *bench_tpb; v++) {
        js_buf lex = JS_BUF_INIT, idx = JS_BUF_INIT;
        double t0 = cpu_ns();
        build(&s, bench_tpb[v], &lex, &idx);
        double t1 = cpu_ns();
        js_lexicon *lx = NULL;
        ck_assert_int_eq(js_lexicon_open(&lx, lex.p, lex.len, idx.p, idx.len,
                                         s.postings_len),
                         0);
        double t2 = cpu_ns();
        uint64_t check = 0;
        size_t wrong = 0;
        js_term_info info;
        for (size_t i = 0; i < NQ; i++) {
            wrong += js_lexicon_lookup(lx, (const char *)present[i], 6,
                                       &info) != 0;
            check += info.df;
        }
        double t3 = cpu_ns();
        for (size_t i = 0; i < NQ; i++)
            wrong += js_lexicon_lookup(lx, (const char *)absent[i], 6,
                                       &info) != JS_ENOTFOUND;
        double t4 = cpu_ns();
        iter_ctx c = {&s, 0, 0, 0};
        ck_assert_int_eq(js_lexicon_iter(lx, iter_cb, &c), 0);
        double t5 = cpu_ns();
        ck_assert_uint_eq(c.i, BENCH_TERMS);
        ck_assert_uint_eq(wrong, 0);
        ck_assert_uint_gt(check, 0);
        printf("  %3u terms a block: LEXICON %zu + LEXICON_INDEX %zu bytes = "
               "%.2f bytes/term (%.2f + %.2f)\n"
               "      lookup %.0f ns present, %.0f ns absent (random); "
               "write %.0f ms, open %.2f ms, iterate %.0f ns/term\n",
               bench_tpb[v], lex.len, idx.len,
               (double)(lex.len + idx.len) / BENCH_TERMS,
               (double)lex.len / BENCH_TERMS, (double)idx.len / BENCH_TERMS,
               (t3 - t2) / NQ, (t4 - t3) / NQ, (t1 - t0) / 1e6,
               (t2 - t1) / 1e6, (t5 - t4) / BENCH_TERMS);
        fflush(stdout);
        js_lexicon_close(lx);
        js_buf_free(&lex);
        js_buf_free(&idx);
    }
    free(present);
    free(absent);
    ts_free(&s);
}
END_TEST

static Suite *lexicon_suite(void)
{
    Suite *s = suite_create("lexicon");
    TCase *tc = tcase_create("round trip");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_round_trip, 0, (int)(NSETS * NTPB));
    tcase_add_test(tc, test_extreme_values);
    tcase_add_test(tc, test_drain_matches_finish);
    tcase_add_test(tc, test_golden_bytes);
    tcase_add_test(tc, test_empty_lexicon);
    tcase_add_loop_test(tc, test_writer_rejects, 0,
                        (int)(sizeof add_cases / sizeof *add_cases));
    tcase_add_test(tc, test_writer_block_sizes);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);

    tc = tcase_create("damage");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_raw_matches_writer);
    tcase_add_loop_test(tc, test_entry_rules, 0,
                        (int)(sizeof entry_cases / sizeof *entry_cases));
    tcase_add_test(tc, test_block_entry_limit);
    tcase_add_test(tc, test_blocks_out_of_order);
    tcase_add_loop_test(tc, test_index_damage, 0,
                        (int)(sizeof index_cases / sizeof *index_cases));
    tcase_add_test(tc, test_lexicon_grown);
    tcase_add_loop_test(tc, test_first_term_bytes, 0,
                        (int)(sizeof first_lens / sizeof *first_lens));
    tcase_add_loop_test(tc, test_sweep_flips, 0,
                        (int)(sizeof sweep_sets / sizeof *sweep_sets));
    tcase_add_loop_test(tc, test_sweep_truncations, 0,
                        (int)(sizeof sweep_sets / sizeof *sweep_sets));
    tcase_add_test(tc, test_sweep_random);
    suite_add_tcase(s, tc);

    tc = tcase_create("bench");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_bench);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(lexicon_suite(), 0);
}
