/*
 * check_xcross.c — the cross-check: the native engine and the Xapian
 * backend on one generated corpus must find the same sections.
 *
 * In:  a corpus generated here (JSON Lines documents with titles and
 *      headed sections; text from a small CJK alphabet, Traditional
 *      spellings among them, and a few Latin words), built with
 *      the one builder API (js_builder_*) as a native index and as
 *      Xapian indexes of 1 and 3 shards, all searched with js_search.
 * Out: for a table of queries (1 to 8 characters, both scripts, phrases,
 *      OR, exclusion, title:, several parts) and random ones:
 *   - the strict matches (JS_SEARCH_NO_PARTIAL, every hit, exact totals)
 *     are the same set in both engines, except where a part spans a
 *     separator: there Xapian's phrase window also accepts the sides
 *     closer together (xapian_search.h), so native ⊆ Xapian, checked;
 *   - 1 and 3 shards give the same hits in the same order (Xapian merges
 *     shard statistics);
 *   - order: where the formulas agree — a single-term query (one
 *     character, one bigram, one word), b = 0 (the two engines measure
 *     length differently: positions of the body vs Xapian's sum of wdf
 *     over both fields) and heading weight 0 (BM25F's combined frequency
 *     vs Xapian's sum of two BM25s) — both rank by BM25 of the body
 *     frequency times a positive, decreasing idf, so the orders must be
 *     identical, ties broken by section id in both.  Elsewhere (phrases:
 *     native scores the phrase as one unit, Xapian sums its terms) only
 *     the overlap of the top 10 is measured and printed, with a floor;
 *   - one Xapian js_index shared by several threads (its searches take turns on
 *     the handle's mutex, jiansuo.h) gives each thread what one thread
 *     alone gets: hits, scores to the bit and totals, for 1 and 3 shards.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jiansuo.h"
#include "query.h"
#include "testutil.h"

static uint64_t seed = 0x2545f4914f6cdd1dull;
static uint32_t rnd(void) { return tu_rnd(&seed); }

/* 10 Simplified characters and the Traditional spellings of two. */
static const char *const cjk[] = {"工", "匠", "学", "院", "山", "水",
                                  "河", "林", "人", "口", "學", "間"};
static const char *const latin[] = {"alpha", "beta", "gamma", "delta"};

static char *dir;
static js_index *nx, *x1, *x3;

/* Appends a random run of 1..n CJK characters to r. */
static void run_of(tu_render *r, unsigned n)
{
    unsigned k = 1 + rnd() % n;
    for (unsigned i = 0; i < k; i++)
        tu_appendf(r, "%s", cjk[rnd() % (sizeof cjk / sizeof *cjk)]);
}

/* Random text: runs separated by punctuation, spaces, Latin words. */
static void text_of(tu_render *r, unsigned parts)
{
    for (unsigned i = 0; i < parts; i++) {
        unsigned c = rnd() % 10;
        if (c < 6)
            run_of(r, 8);
        else if (c < 8)
            tu_appendf(r, "%s", latin[rnd() % 4]);
        else
            tu_appendf(r, "%s", rnd() % 2 ? "，" : " ");
        if (rnd() % 3 == 0)
            tu_appendf(r, "%s", rnd() % 2 ? "。" : " ");
    }
}

static void build_all(void)
{
    tu_render c = {0};
    for (int d = 0; d < 60; d++) {
        tu_appendf(&c, "{\"id\":\"d%d\",\"title\":\"", d);
        text_of(&c, 1 + rnd() % 2);
        tu_appendf(&c, "\",\"sections\":[");
        int ns = 1 + (int)(rnd() % 6);
        for (int s = 0; s < ns; s++) {
            tu_appendf(&c, "%s{\"heading\":\"", s ? "," : "");
            text_of(&c, 1 + rnd() % 2);
            tu_appendf(&c, "\",\"text\":\"");
            text_of(&c, 2 + rnd() % 20);
            tu_appendf(&c, "\"}");
        }
        tu_appendf(&c, "]}\n");
    }
    dir = tu_temp_dir("xcross");
    char path[600];
    for (int k = 0; k < 3; k++) {
        /* the same calls build and open either backend */
        js_build_options o = JS_BUILD_OPTIONS_INIT;
        o.backend = k ? JS_BACKEND_XAPIAN : JS_BACKEND_NATIVE;
        o.shards = k == 2 ? 3 : k;
        if (k)
            snprintf(path, sizeof path, "%s/x%d", dir, o.shards);
        else
            snprintf(path, sizeof path, "%s", dir);
        js_builder *b = NULL;
        int rc = js_builder_open(&b, path, &o);
        if (!rc)
            rc = js_builder_add_memory(b, "corpus.jsonl", c.buf, c.len);
        if (!rc)
            rc = js_builder_commit(b);
        ck_assert_msg(rc == 0, "%s build: %s", js_backend_name(o.backend),
                      js_builder_errmsg(b));
        js_builder_close(b);
        js_index **x = k == 0 ? &nx : k == 1 ? &x1 : &x3;
        rc = js_index_open(x, path);
        ck_assert_msg(rc == 0, "open: %s", js_index_errmsg(*x));
        ck_assert_int_eq(js_index_backend(*x), o.backend);
        js_index_stats st;
        ck_assert_int_eq(js_index_get_stats(*x, &st), 0);
        ck_assert_uint_eq(st.shards, k == 2 ? 3 : 1);
    }
    free(c.buf);
}

static void close_all(void)
{
    js_index_close(nx);
    js_index_close(x1);
    js_index_close(x3);
    tu_remove_dir(dir);
    free(dir);
}

/* One engine's hits: section ids in rank order. */
typedef struct hits {
    uint32_t *id;
    size_t n;
    uint64_t total;
    int exact, rc;
} hits;

static hits run(int engine, const char *q, const js_search_options *o)
{
    js_results *r = NULL;
    hits h = {0};
    h.rc = js_search(&r, engine == 0 ? nx : engine == 1 ? x1 : x3, q,
                     strlen(q), o);
    if (!h.rc) {
        h.n = js_results_count(r);
        h.id = calloc(h.n + 1, sizeof *h.id);
        for (size_t i = 0; i < h.n; i++)
            h.id[i] = js_results_hit(r, i)->section;
        h.total = js_results_total(r, &h.exact);
    }
    js_results_free(r);
    return h;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Whether some part of q spans a separator: a position its units leave
 * empty that no bigram covers (see the file comment). */
static int gapped(const js_qnode *q)
{
    if (q->op != JS_Q_LEAF) {
        for (uint32_t i = 0; i < q->nkids; i++)
            if (gapped(q->kids[i]))
                return 1;
        return 0;
    }
    for (uint32_t r = 0; r + 1 < q->span; r++) {
        int covered = 0;
        for (uint32_t i = 0; i < q->nunits; i++) {
            const js_qunit *u = &q->units[i];
            if (u->rel == r || (u->kind == JS_TOKEN_BIGRAM && u->rel + 1 == r))
                covered = 1;
        }
        if (!covered)
            return 1;
    }
    return 0;
}

/* Whether q is one part of one term, not under title:. */
static int single_term(const js_qnode *q)
{
    return q->op == JS_Q_LEAF && q->nunits == 1 && !q->heading_only;
}

static double overlap_sum;
static unsigned overlap_n, same_order_n, subset_n;

/* Checks one query in every way the file comment lists. */
static void cross(const char *q)
{
    js_qnode *t = NULL;
    char err[256];
    int prc = js_query_parse(&t, q, strlen(q), 0, err, sizeof err);
    js_search_options o = JS_SEARCH_OPTIONS_INIT;
    o.flags = JS_SEARCH_NO_PARTIAL | JS_SEARCH_EXACT_TOTAL | JS_SEARCH_NO_SNIPPET;
    o.limit = 2000;
    hits a = run(0, q, &o), b = run(1, q, &o), c = run(2, q, &o);
    ck_assert_msg(a.rc == b.rc && b.rc == c.rc, "%s: codes %d %d %d", q, a.rc,
                  b.rc, c.rc);
    ck_assert_int_eq(a.rc, prc);
    if (a.rc)
        goto out;
    ck_assert_msg(b.exact && c.exact && a.exact, "%s: a total is not exact", q);
    ck_assert_msg(b.total == b.n && a.total == a.n, "%s: totals %llu/%zu %llu/%zu",
                  q, (unsigned long long)a.total, a.n,
                  (unsigned long long)b.total, b.n);
    /* 1 and 3 shards: the same hits in the same order */
    ck_assert_msg(b.n == c.n, "%s: 1 shard %zu hits, 3 shards %zu", q, b.n, c.n);
    for (size_t i = 0; i < b.n; i++)
        ck_assert_msg(b.id[i] == c.id[i], "%s: rank %zu: 1 shard %u, 3 shards %u",
                      q, i, b.id[i], c.id[i]);
    uint32_t *sa = malloc((a.n + 1) * sizeof *sa), *sb = malloc((b.n + 1) * sizeof *sb);
    memcpy(sa, a.id, a.n * sizeof *sa);
    memcpy(sb, b.id, b.n * sizeof *sb);
    qsort(sa, a.n, sizeof *sa, cmp_u32);
    qsort(sb, b.n, sizeof *sb, cmp_u32);
    if (gapped(t)) {
        /* native ⊆ Xapian */
        size_t j = 0;
        for (size_t i = 0; i < a.n; i++) {
            while (j < b.n && sb[j] < sa[i])
                j++;
            ck_assert_msg(j < b.n && sb[j] == sa[i],
                          "%s: native section %u missing from Xapian", q, sa[i]);
        }
        subset_n++;
    } else {
        ck_assert_msg(a.n == b.n, "%s: native %zu sections, Xapian %zu", q, a.n,
                      b.n);
        for (size_t i = 0; i < a.n; i++)
            ck_assert_msg(sa[i] == sb[i], "%s: native %u, Xapian %u (sorted, #%zu)",
                          q, sa[i], sb[i], i);
    }
    free(sa);
    free(sb);
    /* the top 10's overlap with the default parameters */
    size_t top = a.n < 10 ? a.n : 10, common = 0;
    for (size_t i = 0; i < top; i++)
        for (size_t j = 0; j < top && j < b.n; j++)
            common += a.id[i] == b.id[j];
    if (top && !gapped(t)) {
        overlap_sum += (double)common / (double)top;
        overlap_n++;
    }
    /* the same order where the formulas agree */
    if (single_term(t)) {
        js_search_options p = o;
        p.b = 0;
        p.heading_weight = 0;
        hits na = run(0, q, &p), xa = run(2, q, &p);
        ck_assert_int_eq(na.n, xa.n);
        for (size_t i = 0; i < na.n; i++)
            ck_assert_msg(na.id[i] == xa.id[i],
                          "%s (b=0, w=0): rank %zu: native %u, Xapian %u", q, i,
                          na.id[i], xa.id[i]);
        same_order_n++;
        free(na.id);
        free(xa.id);
    }
out:
    free(a.id);
    free(b.id);
    free(c.id);
    js_query_free(t);
}

static const char *const table[] = {
    "工", "學", "学院", "工匠學院", "山水河林", "院人口間工", "学院山水河林人口",
    "alpha", "ALPHA", "gamma delta", "\"alpha beta\"", "\"gamma 工匠\"",
    "工匠alpha", "\"学院 山水\"", "\"山，水\"", "学院 OR 山水", "alpha OR 林人",
    "工匠 -学院", "山 -(河 OR 林)", "title:学院", "title:alpha 工", "标题:山水",
    "(工匠 OR 河) 人口", "学 院", "工匠 学院 山水", "間人", "匠匠", "xyz",
    "工匠 OR xyz", "-工", "\"\"",
    /* prefixes (word*): the same expansion on both */
    "al*", "ALP*", "ga* 工匠", "be* OR 林人", "工匠 -del*", "title:al*",
    "xy* OR alpha", "alpha*", "工匠学*", "a*",
};

START_TEST(test_table)
{
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        cross(table[i]);
}
END_TEST

START_TEST(test_random)
{
    for (int n = 0; n < 300; n++) {
        tu_render r = {0};
        unsigned shape = rnd() % 8;
        if (shape < 4)
            run_of(&r, 1 + shape * 2); /* 1..7 characters */
        else if (shape == 4)
            tu_appendf(&r, "%s", latin[rnd() % 4]);
        else {
            run_of(&r, 3);
            tu_appendf(&r, "%s", shape == 5 ? " " : shape == 6 ? " OR " : " -");
            run_of(&r, 3);
        }
        cross(r.buf);
        free(r.buf);
    }
    printf("xcross: %u queries in the same order (b=0, w=0), %u gapped "
           "(native subset of Xapian), top-10 overlap with defaults %.3f over "
           "%u queries\n", same_order_n, subset_n,
           overlap_n ? overlap_sum / overlap_n : 0, overlap_n);
    ck_assert_uint_gt(same_order_n, 50);
    /* the engines score differently, but mostly agree on the best */
    ck_assert_msg(overlap_sum / overlap_n > 0.5, "top-10 overlap %.3f",
                  overlap_sum / overlap_n);
}
END_TEST

/* One search's whole answer as text: total, then each hit's section and
 * score in hex (every bit), or the error code. */
static char *signature(js_index *x, const char *q)
{
    js_search_options o = JS_SEARCH_OPTIONS_INIT;
    o.flags = JS_SEARCH_NO_SNIPPET;
    o.limit = 20;
    js_results *r = NULL;
    int rc = js_search(&r, x, q, strlen(q), &o);
    tu_render t = {0};
    tu_appendf(&t, "rc %d", rc);
    if (!rc) {
        int exact;
        uint64_t total = js_results_total(r, &exact);
        tu_appendf(&t, " total %llu %d", (unsigned long long)total, exact);
        for (size_t i = 0; i < js_results_count(r); i++) {
            const js_hit *h = js_results_hit(r, i);
            tu_appendf(&t, " %u:%a%s", h->section, h->score,
                       h->partial ? "p" : "");
        }
    }
    js_results_free(r);
    return t.buf;
}

#define NTABLE (sizeof table / sizeof *table)
#define XTHREADS 4
#define XROUNDS 5

static char *xwant[2][NTABLE];
static atomic_int xbad;

static void *xread_loop(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg;
    for (int round = 0; round < XROUNDS; round++)
        for (size_t i = 0; i < NTABLE; i++) {
            /* threads start at different queries and shard counts */
            size_t q = (i + me * 7) % NTABLE;
            int k = (int)((q + me + round) % 2);
            char *got = signature(k ? x3 : x1, table[q]);
            if (strcmp(got, xwant[k][q])) {
                fprintf(stderr, "thread %u, %u shards, %s:\n  got  %s\n  want %s\n",
                        me, k ? 3 : 1, table[q], got, xwant[k][q]);
                atomic_fetch_add(&xbad, 1);
            }
            free(got);
        }
    return NULL;
}

START_TEST(test_threads_share_xindex)
{
    for (size_t i = 0; i < NTABLE; i++) {
        xwant[0][i] = signature(x1, table[i]);
        xwant[1][i] = signature(x3, table[i]);
    }
    pthread_t t[XTHREADS];
    for (unsigned i = 0; i < XTHREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, xread_loop,
                                        (void *)(uintptr_t)i),
                         0);
    for (unsigned i = 0; i < XTHREADS; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(atomic_load(&xbad), 0);
    for (size_t i = 0; i < NTABLE; i++) {
        free(xwant[0][i]);
        free(xwant[1][i]);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("xcross");
    TCase *tc = tcase_create("cross");
    tcase_add_unchecked_fixture(tc, build_all, close_all);
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_random);
    tcase_add_test(tc, test_threads_share_xindex);
    suite_add_tcase(s, tc);
    return tu_run(s, 1);
}
