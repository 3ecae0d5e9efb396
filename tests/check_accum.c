/*
 * check_accum.c — the postings accumulator (index/accum.c): adds, spills
 * to sorted runs, the k-way merge, damage and failures.
 *
 * In:  occurrence lists (term, section, position): table rows written as
 *      "term/section/position" words; random corpora of CJK-like
 *      unigrams and bigrams with Zipf-like frequencies, heading terms and
 *      long Latin words; all fed at budgets from one byte (a spill per
 *      add) to unlimited.  Run files damaged byte by byte, a run
 *      directory that does not exist, a file size limit that makes a
 *      write fail halfway.
 * Out: the merged callbacks, serialised and compared byte for byte with a
 *      reference (every occurrence sorted) and across budgets; error codes
 *      and errno (a position out of order surfaces a few calls late, as
 *      accum.c documents: it applies occurrences through a short queue);
 *      the run directory empty after merge and after free.
 *
 * test_figures prints, without asserting, add() throughput on generated
 * Chinese-like text (unigram + bigram per character, as the text pipeline
 * produces) and peak memory against the budget for a corpus several times
 * the budget.  Measure speed in an optimised build: the sanitizer build
 * runs a smaller corpus.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accum.h"
#include "buf.h"
#include "jiansuo.h"
#include "testutil.h"

#define TERM_MAX (JS_TERM_MAX_BYTES + 1)

/* For hot loops: a passing ck_assert costs a write(2) (Check records the
 * last location passed), which would dominate the timings. */
#define REQUIRE(x)                                                         \
    do {                                                                   \
        if (!(x))                                                          \
            ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #x);             \
    } while (0)

/* ---------------------------------------------------------------------
 * Scratch run directories
 * ------------------------------------------------------------------- */

/* Creates an empty directory; returns its path (caller frees with
 * rm_dir). */
static char *make_dir(void)
{
    const char *t = getenv("TMPDIR");
    char *p = malloc(4096);
    ck_assert_ptr_nonnull(p);
    snprintf(p, 4096, "%s/check_accum-XXXXXX", t && *t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(p));
    return p;
}

/* Number of entries in dir; the first name in byte order goes to first
 * (when not NULL, up to 256 bytes). */
static int count_files(const char *dir, char *first)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    if (first)
        first[0] = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        n++;
        if (first && (!first[0] || strcmp(e->d_name, first) < 0))
            snprintf(first, 256, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

/* Deletes dir and whatever is left in it, and frees the path. */
static void rm_dir(char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[4400];
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
                unlink(p);
            }
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

/* ---------------------------------------------------------------------
 * Collecting merge output
 * ------------------------------------------------------------------- */

/* Serialises every callback (u32 length, term, u32 n, ids, tfs,
 * positions) and checks the callback contract on the way. */
typedef struct {
    js_buf out;
    uint8_t last[TERM_MAX];
    size_t last_len;
    uint64_t terms, entries, positions;
    const char *why; /* first broken rule, NULL if none */
    uint64_t stop_at; /* return 7 at this term (0: never) */
} collect;

static void ser_u32(js_buf *b, uint32_t v) { REQUIRE(js_buf_u32(b, v) == 0); }

static int collect_fn(void *ctx, const char *term, size_t len,
                      const uint32_t *ids, const uint32_t *tfs,
                      const uint32_t *positions, uint32_t n)
{
    collect *c = ctx;
    if (len == 0 || len > TERM_MAX)
        c->why = "term length out of range";
    else if (c->terms) {
        size_t m = len < c->last_len ? len : c->last_len;
        int cmp = memcmp(c->last, term, m);
        if (cmp > 0 || (cmp == 0 && c->last_len >= len))
            c->why = "terms not strictly increasing";
    }
    if (n == 0)
        c->why = "no entries";
    ser_u32(&c->out, (uint32_t)len);
    REQUIRE(js_buf_put(&c->out, term, len) == 0);
    ser_u32(&c->out, n);
    uint64_t np = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (i && ids[i] <= ids[i - 1])
            c->why = "ids not strictly increasing";
        if (tfs[i] == 0)
            c->why = "tf 0";
        ser_u32(&c->out, ids[i]);
    }
    for (uint32_t i = 0; i < n; i++) {
        ser_u32(&c->out, tfs[i]);
        for (uint32_t k = 1; k < tfs[i]; k++)
            if (positions[np + k] <= positions[np + k - 1])
                c->why = "positions not increasing within an entry";
        np += tfs[i];
    }
    for (uint64_t i = 0; i < np; i++)
        ser_u32(&c->out, positions[i]);
    memcpy(c->last, term, len < TERM_MAX ? len : TERM_MAX);
    c->last_len = len;
    c->terms++;
    c->entries += n;
    c->positions += np;
    if (c->stop_at && c->terms == c->stop_at)
        return 7;
    return 0;
}

/* Reassembles the pieces of js_accum_merge_chunks into whole terms for
 * collect_fn, checking the piece contract on the way. */
typedef struct {
    collect *col;
    uint32_t *ids, *tfs, *pos;
    size_t n, np, cap, pcap;
    uint64_t pieces, cut_terms;
    const char *why;
} assemble;

static int assemble_fn(void *ctx, const char *term, size_t len,
                       const uint32_t *ids, const uint32_t *tfs,
                       const uint32_t *positions, uint32_t n, int last)
{
    assemble *x = ctx;
    if (n == 0)
        x->why = "an empty piece";
    if (n && x->n && ids[0] <= x->ids[x->n - 1])
        x->why = "a piece does not continue the previous one";
    size_t np = 0;
    for (uint32_t i = 0; i < n; i++)
        np += tfs[i];
    if (x->n + n > x->cap) {
        x->cap = 2 * (x->n + n);
        x->ids = realloc(x->ids, x->cap * 4);
        x->tfs = realloc(x->tfs, x->cap * 4);
        REQUIRE(x->ids && x->tfs);
    }
    if (x->np + np > x->pcap) {
        x->pcap = 2 * (x->np + np);
        x->pos = realloc(x->pos, x->pcap * 4);
        REQUIRE(x->pos);
    }
    memcpy(x->ids + x->n, ids, (size_t)n * 4);
    memcpy(x->tfs + x->n, tfs, (size_t)n * 4);
    memcpy(x->pos + x->np, positions, np * 4);
    x->n += n;
    x->np += np;
    x->pieces++;
    if (!last)
        return 0;
    if (x->pieces > 1)
        x->cut_terms++;
    int rc = collect_fn(x->col, term, len, x->ids, x->tfs, x->pos,
                        (uint32_t)x->n);
    x->n = x->np = 0;
    x->pieces = 0;
    return rc;
}

/* ---------------------------------------------------------------------
 * Corpora: lists of occurrences, and the reference merge
 * ------------------------------------------------------------------- */

typedef struct {
    uint32_t off, len, sec, pos;
} occ;

typedef struct {
    js_buf pool; /* term bytes, one copy per occurrence */
    occ *v;
    size_t n, cap;
} corpus;

static void corpus_add(corpus *c, const void *term, size_t len, uint32_t sec,
                       uint32_t pos)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 1024;
        c->v = realloc(c->v, c->cap * sizeof *c->v);
        REQUIRE(c->v);
    }
    occ o = {(uint32_t)c->pool.len, (uint32_t)len, sec, pos};
    REQUIRE(js_buf_put(&c->pool, term, len) == 0);
    c->v[c->n++] = o;
}

static void corpus_free(corpus *c)
{
    js_buf_free(&c->pool);
    free(c->v);
    memset(c, 0, sizeof *c);
}

static const uint8_t *sort_pool;

static int occ_cmp(const void *x, const void *y)
{
    const occ *a = x, *b = y;
    size_t m = a->len < b->len ? a->len : b->len;
    int c = memcmp(sort_pool + a->off, sort_pool + b->off, m);
    if (c)
        return c;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    return (a->pos > b->pos) - (a->pos < b->pos);
}

/* The reference: every occurrence sorted by (term, section, position),
 * grouped and serialised as collect_fn does. */
static void reference(const corpus *c, collect *out)
{
    occ *v = malloc((c->n ? c->n : 1) * sizeof *v);
    ck_assert_ptr_nonnull(v);
    memcpy(v, c->v, c->n * sizeof *v);
    sort_pool = c->pool.p;
    qsort(v, c->n, sizeof *v, occ_cmp);
    uint32_t *ids = malloc((c->n + 1) * sizeof *ids);
    uint32_t *tfs = malloc((c->n + 1) * sizeof *tfs);
    uint32_t *pos = malloc((c->n + 1) * sizeof *pos);
    ck_assert(ids && tfs && pos);
    for (size_t i = 0; i < c->n;) {
        size_t j = i;
        uint32_t n = 0, np = 0;
        while (j < c->n && v[j].len == v[i].len &&
               !memcmp(c->pool.p + v[j].off, c->pool.p + v[i].off,
                       v[i].len)) {
            if (n && ids[n - 1] == v[j].sec) {
                tfs[n - 1]++;
            } else {
                ids[n] = v[j].sec;
                tfs[n++] = 1;
            }
            pos[np++] = v[j].pos;
            j++;
        }
        collect_fn(out, (const char *)c->pool.p + v[i].off, v[i].len, ids,
                   tfs, pos, n);
        i = j;
    }
    free(ids);
    free(tfs);
    free(pos);
    free(v);
}

typedef struct {
    int add_rc, merge_rc;
    size_t failed_at; /* index of the add that failed */
    uint32_t runs;
    size_t peak;
    int files_before_merge, files_after_merge;
    uint64_t mid_section_spills; /* spills followed by the same section */
} run_result;

/* Feeds c to an accumulator with the given budget in dir and merges into
 * col.  Stops at the first failing add. */
static run_result run_corpus(const corpus *c, size_t budget, const char *dir,
                             collect *col)
{
    run_result r = {0, 0, (size_t)-1, 0, 0, 0, 0, 0};
    js_accum *a = NULL;
    ck_assert_int_eq(js_accum_new(&a, budget, dir), 0);
    uint32_t runs = 0;
    for (size_t i = 0; i < c->n; i++) {
        const occ *o = &c->v[i];
        int rc = js_accum_add(a, (const char *)c->pool.p + o->off, o->len,
                              o->sec, o->pos);
        if (rc) {
            r.add_rc = rc;
            r.failed_at = i;
            break;
        }
        uint32_t now = js_accum_runs(a);
        if (now != runs && i + 1 < c->n && c->v[i + 1].sec == o->sec)
            r.mid_section_spills++;
        runs = now;
    }
    r.files_before_merge = count_files(dir, NULL);
    if (!r.add_rc)
        r.merge_rc = js_accum_merge(a, collect_fn, col);
    r.files_after_merge = count_files(dir, NULL);
    r.runs = js_accum_runs(a);
    r.peak = js_accum_peak_bytes(a);
    js_accum_free(a);
    return r;
}

/* ---------------------------------------------------------------------
 * Table rows: "term/section/position ..." in, a rendering out
 * ------------------------------------------------------------------- */

/* Parses "t/s/p t/s/p ..." (bytes in terms as %XX) into c. */
static void parse_adds(const char *s, corpus *c)
{
    while (*s) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        uint8_t term[TERM_MAX + 8];
        size_t len = 0;
        while (*s != '/') {
            ck_assert_msg(*s, "bad row");
            if (*s == '%') {
                unsigned x;
                ck_assert_int_eq(sscanf(s + 1, "%2x", &x), 1);
                term[len++] = (uint8_t)x;
                s += 3;
            } else {
                term[len++] = (uint8_t)*s++;
            }
        }
        unsigned long sec, pos;
        int used = 0;
        ck_assert_int_eq(sscanf(s, "/%lu/%lu%n", &sec, &pos, &used), 2);
        s += used;
        corpus_add(c, term, len, (uint32_t)sec, (uint32_t)pos);
    }
}

/* Renders serialised callbacks as "term=sec:p,p;sec:p term=...", bytes
 * outside '!'..'~' and "%=;:, " as %XX.  Caller frees. */
static char *render(const js_buf *b)
{
    js_buf o = JS_BUF_INIT;
    js_rd r = js_rd_make(b->p, b->len);
    int first = 1;
    while (js_rd_left(&r)) {
        uint32_t len = js_rd_u32(&r);
        const uint8_t *t = js_rd_bytes(&r, len);
        uint32_t n = js_rd_u32(&r);
        ck_assert(!r.bad && n < 100000);
        uint32_t *ids = malloc((n + 1) * sizeof *ids);
        uint32_t *tfs = malloc((n + 1) * sizeof *tfs);
        ck_assert(ids && tfs);
        for (uint32_t i = 0; i < n; i++)
            ids[i] = js_rd_u32(&r);
        for (uint32_t i = 0; i < n; i++)
            tfs[i] = js_rd_u32(&r);
        if (!first)
            js_buf_u8(&o, ' ');
        first = 0;
        for (uint32_t i = 0; i < len; i++) {
            char x[8];
            if (t[i] <= ' ' || t[i] > '~' || strchr("%=;:,", t[i]))
                snprintf(x, sizeof x, "%%%02X", t[i]);
            else
                snprintf(x, sizeof x, "%c", t[i]);
            js_buf_put(&o, x, strlen(x));
        }
        js_buf_u8(&o, '=');
        for (uint32_t i = 0; i < n; i++) {
            char x[32];
            snprintf(x, sizeof x, "%s%u:", i ? ";" : "", ids[i]);
            js_buf_put(&o, x, strlen(x));
            for (uint32_t k = 0; k < tfs[i]; k++) {
                snprintf(x, sizeof x, "%s%u", k ? "," : "", js_rd_u32(&r));
                js_buf_put(&o, x, strlen(x));
            }
        }
        free(ids);
        free(tfs);
        ck_assert(!r.bad);
    }
    js_buf_u8(&o, 0);
    ck_assert(!o.oom);
    return (char *)o.p;
}

static const struct {
    const char *name;
    const char *adds;
    const char *want;
} rows[] = {
    {"nothing", "", ""},
    {"one term", "a/0/0", "a=0:0"},
    {"one term twice", "a/0/0 a/0/3", "a=0:0,3"},
    {"several terms sorted", "b/0/0 a/0/1 c/0/2", "a=0:1 b=0:0 c=0:2"},
    {"repeated in a section", "x/4/1 y/4/2 x/4/7 x/4/9",
     "x=4:1,7,9 y=4:2"},
    {"positions interleave across terms", "a/0/5 b/0/1 a/0/6 b/0/2",
     "a=0:5,6 b=0:1,2"},
    {"many sections", "a/0/0 a/1/0 a/5/2 a/1000000/4294967295",
     "a=0:0;1:0;5:2;1000000:4294967295"},
    {"term in every section",
     "t/0/0 u/0/1 t/1/0 v/1/1 t/2/0 t/2/1 t/3/5",
     "t=0:0;1:0;2:0,1;3:5 u=0:1 v=1:1"},
    {"sections with gaps", "a/3/0 b/3/1 b/9/0 a/4000000000/7",
     "a=3:0;4000000000:7 b=3:1;9:0"},
    {"extreme values", "a/0/0 a/0/4294967295 a/4294967295/0",
     "a=0:0,4294967295;4294967295:0"},
    {"prefixes sort first", "ab/0/0 a/0/1 abc/0/2 b/0/3 aa/0/4",
     "a=0:1 aa=0:4 ab=0:0 abc=0:2 b=0:3"},
    {"long words share eight bytes",
     "internationally/0/0 internationalization/0/1 internat/0/2 "
     "internationale/1/0 internationally/1/1",
     "internat=0:2 internationale=1:0 internationalization=0:1 "
     "internationally=0:0;1:1"},
    {"zero bytes and padding", "a%00/0/0 a/0/1 a%00%00/0/2 a%01/0/3",
     "a=0:1 a%00=0:0 a%00%00=0:2 a%01=0:3"},
    {"heading prefix sorts before letters", "ab/0/1 %01ab/0/0",
     "%01ab=0:0 ab=0:1"},
    {"bytes above 0x7F",
     "%E4%B8%AD/0/0 %E4%B8%AD%E6%96%87/0/0 %E6%96%87/0/1 %FF/0/2",
     "%E4%B8%AD=0:0 %E4%B8%AD%E6%96%87=0:0 %E6%96%87=0:1 %FF=0:2"},
    {"nine-byte ties", "abcdefgh2/0/0 abcdefgh1/0/1 abcdefgh/0/2",
     "abcdefgh=0:2 abcdefgh1=0:1 abcdefgh2=0:0"},
};

/* Budgets every row runs at: no spill, a spill after every add, and a
 * few adds per run. */
static const size_t row_budgets[] = {SIZE_MAX, 1, 700};

START_TEST(test_rows)
{
    corpus c = {JS_BUF_INIT, NULL, 0, 0};
    parse_adds(rows[_i].adds, &c);
    for (size_t b = 0; b < sizeof row_budgets / sizeof *row_budgets; b++) {
        char *dir = make_dir();
        collect col;
        memset(&col, 0, sizeof col);
        run_result r = run_corpus(&c, row_budgets[b], dir, &col);
        ck_assert_int_eq(r.add_rc, 0);
        ck_assert_int_eq(r.merge_rc, 0);
        ck_assert_msg(!col.why, "%s: %s", rows[_i].name, col.why);
        char *got = render(&col.out);
        ck_assert_msg(!strcmp(got, rows[_i].want),
                      "%s (budget %zu):\n got: %s\nwant: %s", rows[_i].name,
                      row_budgets[b], got, rows[_i].want);
        if (row_budgets[b] == 1)
            ck_assert_uint_eq(r.runs, c.n); /* one run per add */
        if (row_budgets[b] == SIZE_MAX)
            ck_assert_uint_eq(r.runs, 0);
        ck_assert_int_eq(r.files_after_merge, 0);
        free(got);
        js_buf_free(&col.out);
        rm_dir(dir);
    }
    corpus_free(&c);
}
END_TEST

/* Order violations.  A section lower than the last one is refused by
 * that very add (JS_EINVALID), which changes nothing: the rest merge to
 * `want`.  A position not after the term's previous one in the section is
 * found only when the occurrence is applied, a few calls later (the
 * accumulator applies occurrences through a short queue): some later add,
 * or the merge, returns JS_EINVALID, and so does every call after it. */
static const struct {
    const char *name;
    const char *adds;
    size_t bad;
    int late;
    const char *want;
} bad_rows[] = {
    {"section goes back", "a/5/0 b/4/0 b/5/1", 1, 0, "a=5:0 b=5:1"},
    {"section back by one after many", "a/0/0 a/1/0 a/2/0 b/1/9", 3, 0,
     "a=0:0;1:0;2:0"},
    {"same position twice", "a/0/3 a/0/3 a/0/4", 1, 1, NULL},
    {"position goes back", "a/0/3 b/0/0 a/0/2 a/1/0", 2, 1, NULL},
    {"position goes back, then many adds",
     "a/0/3 a/0/2 b/0/0 b/0/1 b/0/2 b/0/3 b/0/4 b/0/5 b/0/6 b/0/7 b/0/8 "
     "b/0/9 b/0/10 b/0/11 b/0/12 b/0/13 b/0/14 b/0/15 b/0/16 b/0/17 "
     "b/0/18 b/0/19 b/0/20 b/0/21 b/0/22 b/0/23 b/0/24 b/0/25 b/0/26 "
     "b/0/27 b/0/28 b/0/29 b/0/30 b/0/31 b/0/32 b/0/33",
     1, 1, NULL},
};

START_TEST(test_order_violations)
{
    corpus c = {JS_BUF_INIT, NULL, 0, 0};
    parse_adds(bad_rows[_i].adds, &c);
    char *dir = make_dir();
    js_accum *a;
    ck_assert_int_eq(js_accum_new(&a, SIZE_MAX, dir), 0);
    size_t first_fail = (size_t)-1;
    for (size_t i = 0; i < c.n; i++) {
        const occ *o = &c.v[i];
        int rc = js_accum_add(a, (const char *)c.pool.p + o->off, o->len,
                              o->sec, o->pos);
        if (!bad_rows[_i].late) {
            ck_assert_msg(rc == (i == bad_rows[_i].bad ? JS_EINVALID : 0),
                          "%s: add %zu returned %d", bad_rows[_i].name, i,
                          rc);
            continue;
        }
        if (rc && first_fail == (size_t)-1)
            first_fail = i;
        if (first_fail != (size_t)-1) /* sticky from the first failure on */
            ck_assert_int_eq(rc, JS_EINVALID);
    }
    collect col;
    memset(&col, 0, sizeof col);
    int rc = js_accum_merge(a, collect_fn, &col);
    if (bad_rows[_i].late) {
        ck_assert_int_eq(rc, JS_EINVALID);
        ck_assert_uint_eq(col.terms, 0);
        if (first_fail != (size_t)-1)
            ck_assert_uint_gt(first_fail, bad_rows[_i].bad);
        if (c.n > bad_rows[_i].bad + 20) /* reported by an add, not late */
            ck_assert_uint_le(first_fail, bad_rows[_i].bad + 20);
    } else {
        ck_assert_int_eq(rc, 0);
        char *got = render(&col.out);
        ck_assert_str_eq(got, bad_rows[_i].want);
        free(got);
    }
    js_buf_free(&col.out);
    js_accum_free(a);
    ck_assert_int_eq(count_files(dir, NULL), 0);
    corpus_free(&c);
    rm_dir(dir);
}
END_TEST

/* A position that goes back across a spill cannot be seen when it is
 * applied (the previous one is on disk); the merge reports it. */
START_TEST(test_order_violation_across_spill)
{
    char *dir = make_dir();
    js_accum *a;
    ck_assert_int_eq(js_accum_new(&a, 1, dir), 0);
    ck_assert_int_eq(js_accum_add(a, "a", 1, 0, 5), 0);
    ck_assert_int_eq(js_accum_add(a, "a", 1, 0, 5), 0);
    collect col;
    memset(&col, 0, sizeof col);
    ck_assert_int_eq(js_accum_merge(a, collect_fn, &col), JS_EINVALID);
    ck_assert_uint_eq(js_accum_runs(a), 2);
    ck_assert_int_eq(count_files(dir, NULL), 0);
    js_buf_free(&col.out);
    js_accum_free(a);
    rm_dir(dir);
}
END_TEST

START_TEST(test_invalid_arguments)
{
    char *dir = make_dir();
    js_accum *a = NULL;
    ck_assert_int_eq(js_accum_new(NULL, 100, dir), JS_EINVALID);
    ck_assert_int_eq(js_accum_new(&a, 0, dir), JS_EINVALID);
    ck_assert_int_eq(js_accum_new(&a, 100, NULL), JS_EINVALID);
    ck_assert_int_eq(js_accum_new(&a, 100, ""), JS_EINVALID);
    ck_assert_ptr_null(a);
    ck_assert_int_eq(js_accum_new(&a, SIZE_MAX, dir), 0);

    char big[TERM_MAX + 1];
    memset(big, 'x', sizeof big);
    ck_assert_int_eq(js_accum_add(NULL, "a", 1, 0, 0), JS_EINVALID);
    ck_assert_int_eq(js_accum_add(a, NULL, 1, 0, 0), JS_EINVALID);
    ck_assert_int_eq(js_accum_add(a, "a", 0, 0, 0), JS_EINVALID);
    ck_assert_int_eq(js_accum_add(a, big, TERM_MAX + 1, 0, 0), JS_EINVALID);
    ck_assert_int_eq(js_accum_add(a, big, TERM_MAX, 0, 0), 0);
    big[TERM_MAX - 1] = 'y';
    ck_assert_int_eq(js_accum_add(a, big, TERM_MAX, 0, 1), 0);
    ck_assert_int_eq(js_accum_merge(NULL, collect_fn, NULL), JS_EINVALID);
    ck_assert_int_eq(js_accum_merge(a, NULL, NULL), JS_EINVALID);

    collect col;
    memset(&col, 0, sizeof col);
    ck_assert_int_eq(js_accum_merge(a, collect_fn, &col), 0);
    ck_assert_uint_eq(col.terms, 2);
    ck_assert(!col.why);
    /* once merged, nothing more */
    ck_assert_int_eq(js_accum_merge(a, collect_fn, &col), JS_EINVALID);
    ck_assert_int_eq(js_accum_add(a, "a", 1, 9, 0), JS_EINVALID);
    ck_assert_uint_eq(js_accum_runs(NULL), 0);
    ck_assert_uint_eq(js_accum_peak_bytes(NULL), 0);
    ck_assert_uint_gt(js_accum_peak_bytes(a), 0);
    js_accum_free(a);
    js_accum_free(NULL);
    js_buf_free(&col.out);
    rm_dir(dir);
}
END_TEST

/* Longest terms, sharing all but their last byte, through spills. */
START_TEST(test_longest_terms)
{
    corpus c = {JS_BUF_INIT, NULL, 0, 0};
    uint8_t t[TERM_MAX];
    memset(t, 0xE4, sizeof t);
    for (uint32_t sec = 0; sec < 50; sec++)
        for (uint32_t k = 0; k < 20; k++) {
            t[TERM_MAX - 1] = (uint8_t)(k * 37);
            corpus_add(&c, t, TERM_MAX - (k % 3), sec, k);
        }
    collect want;
    memset(&want, 0, sizeof want);
    reference(&c, &want);
    static const size_t budgets[] = {SIZE_MAX, 1, 2000, 9000};
    for (size_t b = 0; b < sizeof budgets / sizeof *budgets; b++) {
        char *dir = make_dir();
        collect col;
        memset(&col, 0, sizeof col);
        run_result r = run_corpus(&c, budgets[b], dir, &col);
        ck_assert_int_eq(r.add_rc, 0);
        ck_assert_int_eq(r.merge_rc, 0);
        ck_assert(!col.why);
        ck_assert_uint_eq(col.out.len, want.out.len);
        ck_assert(!memcmp(col.out.p, want.out.p, want.out.len));
        js_buf_free(&col.out);
        rm_dir(dir);
    }
    js_buf_free(&want.out);
    corpus_free(&c);
}
END_TEST

/* ---------------------------------------------------------------------
 * Random corpora
 * ------------------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* Zipf-like ranks (Zipf-Mandelbrot: weight 1/(r+3), a flatter head than
 * plain Zipf, like character frequencies), drawn by binary search of the
 * cumulative weights. */
typedef struct {
    double *cum;
    uint32_t n;
} zipf;

static zipf zipf_make(uint32_t n)
{
    zipf z = {malloc(n * sizeof(double)), n};
    ck_assert_ptr_nonnull(z.cum);
    double s = 0;
    for (uint32_t r = 0; r < n; r++) {
        s += 1.0 / (r + 3.0);
        z.cum[r] = s;
    }
    return z;
}

static uint32_t zipf_draw(const zipf *z)
{
    double x = (rnd() / 4294967296.0) * z->cum[z->n - 1];
    uint32_t lo = 0, hi = z->n - 1;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (z->cum[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The UTF-8 of the rank-th character of a made-up CJK alphabet (spread
 * over U+4E00..U+9FFF so that byte order and rank order differ). */
static void cjk_char(uint32_t rank, uint8_t out[3])
{
    uint32_t cp = 0x4E00 + (rank * 7919u) % (0x9FFF - 0x4E00);
    out[0] = (uint8_t)(0xE0 | (cp >> 12));
    out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp & 0x3F));
}

static const char *words[] = {"internationalization", "internationally",
                              "internat", "linux", "a", "2023", "x86_64",
                              "jiansuo", "jiansuoindex", "jiansuoindexer"};

/* Appends nsec sections of random length (mean about meanlen
 * characters, some empty) to c: per character a unigram and, unless a
 * separator follows, a bigram at the same position; now and then a word;
 * the heading of a third of the sections as 0x01-prefixed terms first. */
static void gen_corpus(corpus *c, uint64_t seed, uint32_t nsec,
                       uint32_t meanlen, uint32_t vocab)
{
    rng_state = seed | 1;
    zipf z = zipf_make(vocab);
    uint32_t sec = 0;
    for (uint32_t s = 0; s < nsec; s++) {
        sec += 1 + (rnd() % 4 == 0 ? rnd() % 1000 : 0);
        if (rnd() % 3 == 0) { /* heading */
            uint32_t hl = 1 + rnd() % 6, prev = zipf_draw(&z);
            for (uint32_t i = 0; i < hl; i++) {
                uint8_t t[7] = {0x01};
                cjk_char(prev, t + 1);
                corpus_add(c, t, 4, sec, i);
                if (i + 1 < hl) {
                    uint32_t next = zipf_draw(&z);
                    cjk_char(next, t + 4);
                    corpus_add(c, t, 7, sec, i);
                    prev = next;
                }
            }
        }
        uint32_t len =
            nsec > 1 && rnd() % 10 == 0 ? 0 : rnd() % (2 * meanlen + 1);
        uint32_t pos = rnd() % 3, prev = zipf_draw(&z);
        for (uint32_t i = 0; i < len; i++) {
            if (rnd() % 25 == 0) {
                const char *w = words[rnd() % (sizeof words / sizeof *words)];
                pos++; /* a separator's gap */
                corpus_add(c, w, strlen(w), sec, pos);
                pos += 2;
                prev = zipf_draw(&z);
                continue;
            }
            uint8_t t[6];
            cjk_char(prev, t);
            corpus_add(c, t, 3, sec, pos);
            uint32_t next = zipf_draw(&z);
            if (i + 1 < len && rnd() % 12) {
                cjk_char(next, t + 3);
                corpus_add(c, t, 6, sec, pos);
                pos++;
            } else {
                pos += 2; /* punctuation: no bigram, one empty position */
            }
            prev = next;
        }
    }
    free(z.cum);
}

/* The same corpus merged at every budget is byte-identical to the
 * reference; small budgets spill (and split sections), the run directory
 * is empty afterwards. */
static const struct {
    uint64_t seed;
    uint32_t nsec, meanlen, vocab;
} corpora[] = {
    {1, 300, 200, 3000},
    {2, 2000, 30, 500},  /* many short sections, few terms */
    {3, 40, 2000, 6000}, /* long sections */
    {4, 1, 40000, 4000}, /* one huge section: every spill splits it */
};

static const size_t budgets[] = {SIZE_MAX, 4096, 65536, 1u << 20};

START_TEST(test_random_corpora)
{
    corpus c = {JS_BUF_INIT, NULL, 0, 0};
    gen_corpus(&c, corpora[_i].seed, corpora[_i].nsec, corpora[_i].meanlen,
               corpora[_i].vocab);
    collect want;
    memset(&want, 0, sizeof want);
    reference(&c, &want);
    ck_assert(!want.why);
    for (size_t b = 0; b < sizeof budgets / sizeof *budgets; b++) {
        char *dir = make_dir();
        collect col;
        memset(&col, 0, sizeof col);
        run_result r = run_corpus(&c, budgets[b], dir, &col);
        ck_assert_int_eq(r.add_rc, 0);
        ck_assert_int_eq(r.merge_rc, 0);
        ck_assert_msg(!col.why, "%s", col.why);
        ck_assert_msg(col.out.len == want.out.len &&
                          !memcmp(col.out.p, want.out.p, want.out.len),
                      "corpus %d budget %zu: output differs (%zu vs %zu "
                      "bytes, %u runs)",
                      _i, budgets[b], col.out.len, want.out.len, r.runs);
        if (budgets[b] <= 65536) {
            ck_assert_uint_gt(r.runs, 0);
            ck_assert_int_gt(r.files_before_merge, 0);
        }
        if (budgets[b] == SIZE_MAX)
            ck_assert_uint_eq(r.runs, 0);
        if (budgets[b] == 4096) /* more runs than the fan-in: two levels */
            ck_assert_uint_gt(r.runs, 8);
        if (corpora[_i].nsec == 1 && r.runs)
            ck_assert_uint_gt(r.mid_section_spills, 0);
        if (budgets[b] >= (1u << 20))
            ck_assert_uint_le(r.peak, budgets[b] + budgets[b] / 2);
        ck_assert_int_eq(r.files_after_merge, 0);
        printf("accum corpus %d: %zu adds, %llu terms, budget %zu: %u runs "
               "(%llu split a section), peak %zu bytes\n",
               _i, c.n, (unsigned long long)want.terms, budgets[b], r.runs,
               (unsigned long long)r.mid_section_spills, r.peak);
        js_buf_free(&col.out);
        rm_dir(dir);
    }
    js_buf_free(&want.out);
    corpus_free(&c);
}
END_TEST

/* Merged in pieces of 64 bytes of arrays, with and without spills, the
 * terms reassemble to the reference. */
START_TEST(test_merge_pieces)
{
    corpus c = {JS_BUF_INIT, NULL, 0, 0};
    gen_corpus(&c, corpora[_i].seed, corpora[_i].nsec, corpora[_i].meanlen,
               corpora[_i].vocab);
    collect want;
    memset(&want, 0, sizeof want);
    reference(&c, &want);
    static const size_t piece_budgets[] = {SIZE_MAX, 65536};
    for (size_t b = 0; b < 2; b++) {
        char *dir = make_dir();
        js_accum *a = NULL;
        ck_assert_int_eq(js_accum_new(&a, piece_budgets[b], dir), 0);
        for (size_t i = 0; i < c.n; i++)
            ck_assert_int_eq(js_accum_add(a, (const char *)c.pool.p + c.v[i].off,
                                          c.v[i].len, c.v[i].sec, c.v[i].pos),
                             0);
        collect col;
        memset(&col, 0, sizeof col);
        assemble x;
        memset(&x, 0, sizeof x);
        x.col = &col;
        ck_assert_int_eq(js_accum_merge_chunks(a, assemble_fn, &x, 64), 0);
        ck_assert_msg(!x.why, "%s", x.why);
        ck_assert_msg(!col.why, "%s", col.why);
        if (corpora[_i].nsec > 1) /* one section: one entry a term */
            ck_assert_uint_gt(x.cut_terms, 0);
        ck_assert(col.out.len == want.out.len &&
                  !memcmp(col.out.p, want.out.p, want.out.len));
        js_accum_free(a);
        free(x.ids);
        free(x.tfs);
        free(x.pos);
        js_buf_free(&col.out);
        rm_dir(dir);
    }
    js_buf_free(&want.out);
    corpus_free(&c);
}
END_TEST

/* A run per add: thousands of runs, merged over several levels. */
START_TEST(test_run_per_add)
{
    corpus c = {JS_BUF_INIT, NULL, 0, 0};
    gen_corpus(&c, 5, 30, 40, 300);
    collect want, col;
    memset(&want, 0, sizeof want);
    memset(&col, 0, sizeof col);
    reference(&c, &want);
    char *dir = make_dir();
    run_result r = run_corpus(&c, 1, dir, &col);
    ck_assert_int_eq(r.add_rc, 0);
    ck_assert_int_eq(r.merge_rc, 0);
    ck_assert_uint_eq(r.runs, c.n);
    /* all but the last few adds (still queued) were spilled before */
    ck_assert_int_gt(r.files_before_merge, (int)c.n - 100);
    ck_assert_int_eq(r.files_after_merge, 0);
    ck_assert_uint_eq(col.out.len, want.out.len);
    ck_assert(!memcmp(col.out.p, want.out.p, want.out.len));
    js_buf_free(&want.out);
    js_buf_free(&col.out);
    corpus_free(&c);
    rm_dir(dir);
}
END_TEST

/* Many distinct terms, half of them longer than 8 bytes with a common
 * prefix: the table grows many times (rehashing long terms from their
 * bytes), grows to what a budget allows, fills up before spilling, and
 * sorts on bytes past the 8th. */
START_TEST(test_many_terms)
{
    corpus c = {JS_BUF_INIT, NULL, 0, 0};
    rng_state = 77;
    for (uint32_t i = 0; i < 200000; i++) {
        char t[32];
        uint32_t x = rnd() % 150000;
        int n = snprintf(t, sizeof t, x % 2 ? "%x" : "jiansuo-%x", x);
        corpus_add(&c, t, (size_t)n, i / 100, i % 100);
    }
    collect want;
    memset(&want, 0, sizeof want);
    reference(&c, &want);
    static const size_t bs[] = {SIZE_MAX, 3u << 20, 1u << 20, 100000};
    for (size_t b = 0; b < sizeof bs / sizeof *bs; b++) {
        collect col;
        memset(&col, 0, sizeof col);
        char *dir = make_dir();
        run_result r = run_corpus(&c, bs[b], dir, &col);
        ck_assert_int_eq(r.add_rc, 0);
        ck_assert_int_eq(r.merge_rc, 0);
        ck_assert_uint_eq(col.out.len, want.out.len);
        ck_assert(!memcmp(col.out.p, want.out.p, want.out.len));
        js_buf_free(&col.out);
        rm_dir(dir);
    }
    js_buf_free(&want.out);
    corpus_free(&c);
}
END_TEST

/* ---------------------------------------------------------------------
 * Run files: cleanup, damage, failures
 * ------------------------------------------------------------------- */

START_TEST(test_free_deletes_runs)
{
    corpus c = {JS_BUF_INIT, NULL, 0, 0};
    gen_corpus(&c, 9, 100, 100, 1000);
    char *dir = make_dir();
    js_accum *a;
    ck_assert_int_eq(js_accum_new(&a, 8192, dir), 0);
    for (size_t i = 0; i < c.n; i++)
        REQUIRE(js_accum_add(a, (const char *)c.pool.p + c.v[i].off,
                             c.v[i].len, c.v[i].sec, c.v[i].pos) == 0);
    ck_assert_uint_gt(js_accum_runs(a), 0);
    ck_assert_int_eq(count_files(dir, NULL), (int)js_accum_runs(a));
    js_accum_free(a);
    ck_assert_int_eq(count_files(dir, NULL), 0);
    corpus_free(&c);
    rm_dir(dir);
}
END_TEST

/* A callback's non-zero value stops the merge, comes back, and the runs
 * are gone. */
START_TEST(test_callback_stops)
{
    corpus c = {JS_BUF_INIT, NULL, 0, 0};
    gen_corpus(&c, 10, 50, 100, 500);
    char *dir = make_dir();
    collect col;
    memset(&col, 0, sizeof col);
    col.stop_at = 3;
    run_result r = run_corpus(&c, 4096, dir, &col);
    ck_assert_uint_gt(r.runs, 0);
    ck_assert_int_eq(r.merge_rc, 7);
    ck_assert_uint_eq(col.terms, 3);
    ck_assert_int_eq(r.files_after_merge, 0);
    js_buf_free(&col.out);
    corpus_free(&c);
    rm_dir(dir);
}
END_TEST

/* Builds a small set of runs (a spill per add), applies `damage` to the
 * middle run file, and returns what js_accum_merge says. */
typedef void (*damage_fn)(const char *path, long arg);

static const char *small_adds =
    "a/0/0 %E4%B8%AD/0/1 a/0/2 b/1/0 a/1/3 ccc/2/1 a/2/2";

static int merge_damaged(damage_fn damage, long arg, long *file_size)
{
    corpus c = {JS_BUF_INIT, NULL, 0, 0};
    parse_adds(small_adds, &c);
    char *dir = make_dir();
    js_accum *a;
    ck_assert_int_eq(js_accum_new(&a, 1, dir), 0);
    for (size_t i = 0; i < c.n; i++)
        REQUIRE(js_accum_add(a, (const char *)c.pool.p + c.v[i].off,
                             c.v[i].len, c.v[i].sec, c.v[i].pos) == 0);
    /* more adds, so that the seven above are applied (and spilled) */
    for (uint32_t i = 0; i < 40; i++)
        REQUIRE(js_accum_add(a, "zz", 2, 3, i) == 0);
    ck_assert_uint_ge(js_accum_runs(a), 7);
    /* the fourth run: "b" in section 1 */
    char name[256], path[4400];
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    char names[64][256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && n < 64)
            snprintf(names[n++], 256, "%s", e->d_name);
    closedir(d);
    ck_assert_int_ge(n, 7);
    qsort(names, (size_t)n, sizeof names[0],
          (int (*)(const void *, const void *))strcmp);
    snprintf(name, sizeof name, "%s", names[3]);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    if (file_size)
        *file_size = (long)st.st_size;
    if (damage)
        damage(path, arg);
    collect col;
    memset(&col, 0, sizeof col);
    int rc = js_accum_merge(a, collect_fn, &col);
    ck_assert(!col.why);
    ck_assert_int_eq(count_files(dir, NULL), 0);
    js_accum_free(a);
    js_buf_free(&col.out);
    corpus_free(&c);
    rm_dir(dir);
    return rc;
}

static void xor_byte(const char *path, long arg)
{
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    long off = arg >> 8;
    ck_assert_int_eq(fseek(f, off, SEEK_SET), 0);
    int ch = fgetc(f);
    ck_assert_int_ne(ch, EOF);
    ck_assert_int_eq(fseek(f, off, SEEK_SET), 0);
    fputc(ch ^ (int)(arg & 0xFF), f);
    ck_assert_int_eq(fclose(f), 0);
}

static void cut(const char *path, long arg)
{
    ck_assert_int_eq(truncate(path, arg), 0);
}

static void append_byte(const char *path, long arg)
{
    FILE *f = fopen(path, "ab");
    ck_assert_ptr_nonnull(f);
    fputc((int)arg, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* Every change of one byte (two patterns), every truncation and an
 * appended byte give JS_ECORRUPT, and nothing crashes or leaks. */
START_TEST(test_damaged_run)
{
    long size = 0;
    ck_assert_int_eq(merge_damaged(NULL, 0, &size), 0);
    ck_assert_int_gt(size, 28);
    for (long off = 0; off < size; off++) {
        ck_assert_msg(merge_damaged(xor_byte, off << 8 | 0x01, NULL) ==
                          JS_ECORRUPT,
                      "bit 0 of byte %ld", off);
        ck_assert_msg(merge_damaged(xor_byte, off << 8 | 0xFF, NULL) ==
                          JS_ECORRUPT,
                      "byte %ld inverted", off);
    }
    for (long len = 0; len < size; len++)
        ck_assert_msg(merge_damaged(cut, len, NULL) == JS_ECORRUPT,
                      "truncated to %ld", len);
    ck_assert_int_eq(merge_damaged(append_byte, 0, NULL), JS_ECORRUPT);
    ck_assert_int_eq(merge_damaged(append_byte, 0x80, NULL), JS_ECORRUPT);
}
END_TEST

/* Damage found during an intermediate merge level (more runs than the
 * fan-in) as well. */
START_TEST(test_damaged_run_many)
{
    corpus c = {JS_BUF_INIT, NULL, 0, 0};
    gen_corpus(&c, 11, 200, 100, 1000);
    char *dir = make_dir();
    js_accum *a;
    ck_assert_int_eq(js_accum_new(&a, 4096, dir), 0);
    for (size_t i = 0; i < c.n; i++)
        REQUIRE(js_accum_add(a, (const char *)c.pool.p + c.v[i].off,
                             c.v[i].len, c.v[i].sec, c.v[i].pos) == 0);
    ck_assert_uint_gt(js_accum_runs(a), 20);
    char first[256], path[4400];
    count_files(dir, first);
    snprintf(path, sizeof path, "%s/%s", dir, first);
    xor_byte(path, 100 << 8 | 0x10);
    collect col;
    memset(&col, 0, sizeof col);
    ck_assert_int_eq(js_accum_merge(a, collect_fn, &col), JS_ECORRUPT);
    ck_assert_uint_eq(col.terms, 0);
    ck_assert_int_eq(count_files(dir, NULL), 0);
    ck_assert_int_eq(js_accum_merge(a, collect_fn, &col), JS_ECORRUPT);
    js_accum_free(a);
    js_buf_free(&col.out);
    corpus_free(&c);
    rm_dir(dir);
}
END_TEST

/* A run directory that does not exist: the first spill fails with JS_EIO
 * and errno ENOENT (from the add that applies the first occurrence, a
 * few calls after it), and the failure sticks. */
START_TEST(test_run_dir_missing)
{
    js_accum *a;
    ck_assert_int_eq(
        js_accum_new(&a, 1, "/nonexistent-check-accum/no/such/dir"), 0);
    int rc = 0, e = 0;
    uint32_t i;
    for (i = 0; i < 100 && !rc; i++) {
        errno = 0;
        rc = js_accum_add(a, "a", 1, 0, i);
        e = errno;
    }
    ck_assert_int_eq(rc, JS_EIO);
    ck_assert_int_eq(e, ENOENT);
    ck_assert_uint_le(i, 40);
    ck_assert_int_eq(js_accum_add(a, "b", 1, 0, 1000), JS_EIO);
    collect col;
    memset(&col, 0, sizeof col);
    ck_assert_int_eq(js_accum_merge(a, collect_fn, &col), JS_EIO);
    ck_assert_uint_eq(col.terms, 0);
    js_accum_free(a);
}
END_TEST

/* A write that fails halfway through a run (file size limit): JS_EIO with
 * errno EFBIG, and the partial file is deleted. */
START_TEST(test_write_fails)
{
    corpus c = {JS_BUF_INIT, NULL, 0, 0};
    gen_corpus(&c, 12, 100, 300, 3000);
    char *dir = make_dir();
    js_accum *a;
    ck_assert_int_eq(js_accum_new(&a, 65536, dir), 0);
    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 5000; /* a run of 64 KiB cannot fit */
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = 0, e = 0;
    size_t i;
    for (i = 0; i < c.n && !rc; i++) {
        rc = js_accum_add(a, (const char *)c.pool.p + c.v[i].off, c.v[i].len,
                          c.v[i].sec, c.v[i].pos);
        e = errno;
    }
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    ck_assert_int_eq(rc, JS_EIO);
    ck_assert_int_eq(e, EFBIG);
    ck_assert_uint_eq(js_accum_runs(a), 0);
    ck_assert_int_eq(count_files(dir, NULL), 0);
    ck_assert_int_eq(js_accum_add(a, "a", 1, 1u << 30, 0), JS_EIO);
    js_accum_free(a);
    corpus_free(&c);
    rm_dir(dir);
}
END_TEST

/* Two accumulators sharing a run directory keep their runs apart. */
START_TEST(test_shared_run_dir)
{
    corpus c1 = {JS_BUF_INIT, NULL, 0, 0}, c2 = {JS_BUF_INIT, NULL, 0, 0};
    gen_corpus(&c1, 13, 100, 100, 800);
    gen_corpus(&c2, 14, 100, 100, 800);
    collect w1, w2, g1, g2;
    memset(&w1, 0, sizeof w1);
    memset(&w2, 0, sizeof w2);
    memset(&g1, 0, sizeof g1);
    memset(&g2, 0, sizeof g2);
    reference(&c1, &w1);
    reference(&c2, &w2);
    char *dir = make_dir();
    js_accum *a1, *a2;
    ck_assert_int_eq(js_accum_new(&a1, 4096, dir), 0);
    ck_assert_int_eq(js_accum_new(&a2, 4096, dir), 0);
    size_t n = c1.n > c2.n ? c1.n : c2.n;
    for (size_t i = 0; i < n; i++) {
        if (i < c1.n)
            REQUIRE(js_accum_add(a1, (const char *)c1.pool.p + c1.v[i].off,
                                 c1.v[i].len, c1.v[i].sec, c1.v[i].pos) == 0);
        if (i < c2.n)
            REQUIRE(js_accum_add(a2, (const char *)c2.pool.p + c2.v[i].off,
                                 c2.v[i].len, c2.v[i].sec, c2.v[i].pos) == 0);
    }
    ck_assert_int_eq(count_files(dir, NULL),
                     (int)(js_accum_runs(a1) + js_accum_runs(a2)));
    ck_assert_int_eq(js_accum_merge(a1, collect_fn, &g1), 0);
    ck_assert_int_eq(count_files(dir, NULL), (int)js_accum_runs(a2));
    ck_assert_int_eq(js_accum_merge(a2, collect_fn, &g2), 0);
    ck_assert(g1.out.len == w1.out.len &&
              !memcmp(g1.out.p, w1.out.p, w1.out.len));
    ck_assert(g2.out.len == w2.out.len &&
              !memcmp(g2.out.p, w2.out.p, w2.out.len));
    js_accum_free(a1);
    js_accum_free(a2);
    ck_assert_int_eq(count_files(dir, NULL), 0);
    js_buf_free(&w1.out);
    js_buf_free(&w2.out);
    js_buf_free(&g1.out);
    js_buf_free(&g2.out);
    corpus_free(&c1);
    corpus_free(&c2);
    rm_dir(dir);
}
END_TEST

/* ---------------------------------------------------------------------
 * Figures (printed, not asserted)
 * ------------------------------------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Chinese-like text as 3-byte characters: Zipf-distributed, each
 * character often followed by one of a few favourite successors (so
 * bigrams repeat as in real text), a punctuation mark every 12 characters
 * or so.  Returns the buffer (caller frees); *nchars its characters. */
static uint8_t *gen_text(size_t bytes, size_t *nchars)
{
    size_t n = bytes / 3;
    uint8_t *t = malloc(n * 3);
    ck_assert_ptr_nonnull(t);
    rng_state = 2024;
    zipf z = zipf_make(6000);
    uint32_t prev = zipf_draw(&z);
    for (size_t i = 0; i < n; i++) {
        uint32_t r = rnd();
        if (r % 12 == 0) {
            memcpy(t + 3 * i, "\xEF\xBC\x8C", 3); /* U+FF0C fullwidth comma */
            continue;
        }
        uint32_t c;
        if (r % 10 < 6) /* a favourite successor of the previous one */
            c = (prev * 2654435761u + (zipf_draw(&z) % 8) * 40503u) % 6000;
        else
            c = zipf_draw(&z);
        cjk_char(c, t + 3 * i);
        prev = c;
    }
    free(z.cum);
    *nchars = n;
    return t;
}

static int count_fn(void *ctx, const char *term, size_t len,
                    const uint32_t *ids, const uint32_t *tfs,
                    const uint32_t *positions, uint32_t n)
{
    (void)term;
    (void)len;
    (void)ids;
    (void)tfs;
    (void)positions;
    uint64_t *c = ctx;
    c[0]++;
    c[1] += n;
    return 0;
}

/* Feeds the text as the pipeline would (unigram, then the bigram at the
 * same position; a section every ~2000 characters) and prints the
 * figures. */
static void figures_for(const uint8_t *text, size_t nchars, size_t budget,
                        const char *label)
{
    char *dir = make_dir();
    js_accum *a;
    ck_assert_int_eq(js_accum_new(&a, budget, dir), 0);
    uint64_t adds = 0;
    uint32_t sec = 0, pos = 0;
    size_t sec_end = 2000;
    double t0 = now_s();
    for (size_t i = 0; i < nchars; i++) {
        if (i == sec_end) {
            sec++;
            pos = 0;
            sec_end += 1000 + (size_t)((i * 2654435761u) % 2000);
        }
        const uint8_t *c = text + 3 * i;
        if (c[0] == 0xEF) { /* the comma */
            pos++;
            continue;
        }
        int rc = js_accum_add(a, (const char *)c, 3, sec, pos);
        adds++;
        if (!rc && i + 1 < nchars && i + 1 != sec_end && c[3] != 0xEF) {
            rc = js_accum_add(a, (const char *)c, 6, sec, pos);
            adds++;
        }
        REQUIRE(rc == 0);
        pos++;
    }
    double t1 = now_s();
    uint32_t runs = js_accum_runs(a);
    size_t peak_add = js_accum_peak_bytes(a);
    uint64_t counts[2] = {0, 0};
    ck_assert_int_eq(js_accum_merge(a, count_fn, counts), 0);
    double t2 = now_s();
    printf("accum figures [%s%s]: %.1f MB text, %llu adds in %.2f s = "
           "%.1f M adds/s (%.1f MB/s of text); %llu terms, %llu postings; "
           "budget %zu MiB: %u runs, peak %.1f MiB while adding, %.1f MiB "
           "with merge (%.2f x budget); merge %.2f s\n",
           label, SANITIZED ? ", sanitizers" : "", nchars * 3 / 1e6,
           (unsigned long long)adds, t1 - t0, adds / (t1 - t0) / 1e6,
           nchars * 3 / 1e6 / (t1 - t0), (unsigned long long)counts[0],
           (unsigned long long)counts[1], budget >> 20, runs,
           peak_add / 1048576.0, js_accum_peak_bytes(a) / 1048576.0,
           (double)js_accum_peak_bytes(a) / (double)budget, t2 - t1);
    fflush(stdout);
    js_accum_free(a);
    rm_dir(dir);
}

START_TEST(test_figures)
{
    size_t mb = SANITIZED ? 6 : 50;
    const char *env = getenv("JS_ACCUM_BENCH_MB");
    if (env && atoi(env) > 0)
        mb = (size_t)atoi(env);
    size_t nchars;
    uint8_t *text = gen_text(mb << 20, &nchars);
    figures_for(text, nchars, (size_t)512 << 20, "no spill");
    figures_for(text, nchars, (mb << 20) / 6 > (1u << 20)
                                  ? (mb << 20) / 6 & ~(size_t)0xFFFFF
                                  : 1u << 20,
                "corpus several times the budget");
    free(text);
}
END_TEST

static Suite *accum_suite(void)
{
    Suite *s = suite_create("accum");
    TCase *tc = tcase_create("rows");
    tcase_add_loop_test(tc, test_rows, 0, sizeof rows / sizeof *rows);
    tcase_add_loop_test(tc, test_order_violations, 0,
                        sizeof bad_rows / sizeof *bad_rows);
    tcase_add_test(tc, test_order_violation_across_spill);
    tcase_add_test(tc, test_invalid_arguments);
    tcase_add_test(tc, test_longest_terms);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_random_corpora, 0,
                        sizeof corpora / sizeof *corpora);
    tcase_add_loop_test(tc, test_merge_pieces, 0,
                        sizeof corpora / sizeof *corpora);
    tcase_add_test(tc, test_run_per_add);
    tcase_add_test(tc, test_many_terms);
    suite_add_tcase(s, tc);

    tc = tcase_create("runs");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_free_deletes_runs);
    tcase_add_test(tc, test_callback_stops);
    tcase_add_test(tc, test_damaged_run);
    tcase_add_test(tc, test_damaged_run_many);
    tcase_add_test(tc, test_run_dir_missing);
    tcase_add_test(tc, test_write_fails);
    tcase_add_test(tc, test_shared_run_dir);
    suite_add_tcase(s, tc);

    tc = tcase_create("figures");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_figures);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(accum_suite(), 0);
}
