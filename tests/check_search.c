/*
 * check_search.c — the query engine end to end through js_search:
 * matching (adjacency, scripts, fields, OR, exclusion), BM25F scores
 * computed by hand on a tiny index, block-max top-k against exhaustive
 * evaluation and against brute force over the texts, partial matches,
 * paging, errors, and many threads on one handle.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jiansuo.h"
#include "query.h"
#include "testutil.h"

static uint64_t seed = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) { return tu_rnd(&seed); }

/* ---- building small indexes ---- */

static char *build_index_ex(const char *jsonl, uint32_t block_size,
                            uint32_t champion_df)
{
    char *dir = tu_temp_dir("search");
    js_build_options o = JS_BUILD_OPTIONS_INIT;
    o.block_size = block_size;
    o.champion_df = champion_df;
    js_builder *b = NULL;
    int rc = js_builder_open(&b, dir, &o);
    if (!rc)
        rc = js_builder_add_memory(b, "corpus.jsonl", jsonl, strlen(jsonl));
    if (!rc)
        rc = js_builder_commit(b);
    ck_assert_msg(rc == 0, "build failed: %s", js_builder_errmsg(b));
    js_builder_close(b);
    return dir;
}

static char *build_index(const char *jsonl, uint32_t block_size)
{
    return build_index_ex(jsonl, block_size, 0);
}

static js_index *open_index(const char *dir)
{
    js_index *ix = NULL;
    int rc = js_index_open(&ix, dir);
    ck_assert_msg(rc == 0, "open failed: %s", js_index_errmsg(ix));
    return ix;
}

/* Runs q and renders the hits' record ids in rank order, space-separated,
 * partial ones with a trailing '~'. */
static char *ids_of(js_index *ix, const char *q, unsigned flags,
                    uint32_t limit)
{
    js_search_options o = JS_SEARCH_OPTIONS_INIT;
    o.flags = flags;
    o.limit = limit;
    js_results *r = NULL;
    int rc = js_search(&r, ix, q, strlen(q), &o);
    ck_assert_msg(rc == 0, "%s: %s", q, js_results_errmsg(r));
    tu_render out = {0};
    tu_appendf(&out, "%s", "");
    for (size_t i = 0; i < js_results_count(r); i++) {
        const js_hit *h = js_results_hit(r, i);
        tu_appendf(&out, "%s%s%s", i ? " " : "", h->id, h->partial ? "~" : "");
    }
    js_results_free(r);
    return out.buf;
}

/* ---- matching ---- */

static const char academy[] =
    "{\"id\":\"d1\",\"title\":\"蚌埠新聞\",\"text\":\"2023年8月，蚌埠工匠學院正式成立。\"}\n"
    "{\"id\":\"d2\",\"title\":\"学习\",\"text\":\"工匠们在学院里学习。\"}\n"
    "{\"id\":\"d3\",\"title\":\"倒序\",\"text\":\"学院工匠\"}\n"
    "{\"id\":\"d4\",\"title\":\"工匠学院简介\",\"text\":\"本文介绍这所学校。\"}\n"
    "{\"id\":\"d5\",\"title\":\"杂项\",\"text\":\"C语言 and Xapian 2023年 8月\"}\n"
    "{\"id\":\"d6\",\"title\":\"精神\",\"text\":\"工匠精神\"}\n";

typedef struct {
    const char *query;
    const char *ids; /* sorted by id: the set of strict matches */
} match_case;

static const match_case match_cases[] = {
    {"工匠學院", "d1 d4"},          /* Traditional query, both scripts */
    {"工匠学院", "d1 d4"},          /* Simplified query */
    {"title:工匠学院", "d4"},       /* headings only */
    {"工匠 学院", "d1 d2 d3 d4"},   /* two parts, anywhere */
    {"学院工匠", "d3"},             /* order matters */
    {"匠學", "d1 d4"},
    {"2023年8月", "d1"},            /* "2023年 8月" has a gap */
    {"2023年", "d1 d5"},
    {"工匠 -学院", "d6"},
    {"工匠 -(学院 OR 精神)", ""},
    {"精神 OR 学校", "d4 d6"},
    {"(精神 OR 学校) 工匠", "d4 d6"},
    {"c语言", "d5"},                /* case and mixed scripts */
    {"Ｃ語言", "d5"},               /* full-width letter, Traditional */
    {"XAPIAN", "d5"},
    {"\"工匠学院正式\"", "d1"},
    {"\"工匠正式\"", ""},
    {"\"學院正式成立\"", "d1"},
    {"工", "d1 d2 d3 d4 d6"},       /* one character: its unigram */
    {"鱼", ""},
};

static char *sorted_ids(js_index *ix, const char *q)
{
    js_search_options o = JS_SEARCH_OPTIONS_INIT;
    o.flags = JS_SEARCH_NO_PARTIAL | JS_SEARCH_EXACT_TOTAL | JS_SEARCH_NO_SNIPPET;
    o.limit = 100;
    js_results *r = NULL;
    int rc = js_search(&r, ix, q, strlen(q), &o);
    ck_assert_msg(rc == 0, "%s: %s", q, js_results_errmsg(r));
    size_t n = js_results_count(r);
    const char **v = calloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = js_results_hit(r, i)->id;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(v[j], v[j - 1]) < 0; j--) {
            const char *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    tu_render out = {0};
    tu_appendf(&out, "%s", "");
    for (size_t i = 0; i < n; i++)
        tu_appendf(&out, "%s%s", i ? " " : "", v[i]);
    int exact;
    ck_assert_uint_eq(js_results_total(r, &exact), n);
    ck_assert_int_eq(exact, 1);
    free(v);
    js_results_free(r);
    return out.buf;
}

START_TEST(test_match_table)
{
    char *dir = build_index(academy, 0);
    js_index *ix = open_index(dir);
    for (size_t i = 0; i < sizeof match_cases / sizeof *match_cases; i++) {
        const match_case *c = &match_cases[i];
        char *got = sorted_ids(ix, c->query);
        ck_assert_msg(!strcmp(got, c->ids), "%s: got [%s], want [%s]",
                      c->query, got, c->ids);
        free(got);
    }
    js_index_close(ix);
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

START_TEST(test_partial_sentence)
{
    char *dir = build_index(academy, 0);
    js_index *ix = open_index(dir);
    /* a question typed as a sentence: no strict match, the academy first */
    char *got = ids_of(ix, "蚌埠工匠學院在哪裡成立的", 0, 3);
    ck_assert_msg(!strncmp(got, "d1~", 3), "got [%s]", got);
    free(got);
    /* strict matches come first, then partial ones, never twice */
    got = ids_of(ix, "工匠学院", 0, 10);
    ck_assert_msg(!strncmp(got, "d4 d1 ", 6) || !strncmp(got, "d1 d4 ", 6),
                  "got [%s]", got);
    ck_assert_ptr_null(strstr(got, "d1~"));
    ck_assert_ptr_null(strstr(got, "d4~"));
    ck_assert_ptr_nonnull(strstr(got, "~"));
    free(got);
    got = ids_of(ix, "工匠学院", JS_SEARCH_NO_PARTIAL, 10);
    ck_assert_ptr_null(strstr(got, "~"));
    free(got);
    js_index_close(ix);
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

/* ---- ranking, by hand ---- */

static const char tiny[] =
    "{\"id\":\"s0\",\"title\":\"alpha\",\"text\":\"猫猫狗\"}\n"
    "{\"id\":\"s1\",\"title\":\"beta\",\"text\":\"狗鱼\"}\n"
    "{\"id\":\"s2\",\"title\":\"gamma\",\"text\":\"猫鱼鸟鸟\"}\n"
    "{\"id\":\"s3\",\"title\":\"delta\",\"text\":\"鸟\"}\n";

typedef struct {
    const char *query;
    const char *id; /* expected hit */
    double score;
} score_case;

/* N = 4 sections, body lengths 3 2 4 1 (average 2.5), heading lengths
 * all 1 (average 1), k1 = 1.2, b = 0.75, heading weight 2.
 *   猫 in s0: df 2, idf = ln(1 + 2.5/2.5) = ln 2; tf 2, length 3:
 *     t = 2 / (0.25 + 0.75 * 3/2.5) = 1.7391304;
 *     score = ln 2 * t * 2.2 / (1.2 + t) = 0.902321774
 *   猫 in s2: tf 1, length 4: t = 1/1.45 -> 0.556541532
 *   alpha (heading of s0): df 1, idf = ln(1 + 3.5/1.5); t = 2 * 1/1 = 2
 *     -> 1.655462606
 *   猫 狗 in s0: the sum of both parts' scores; 狗: df 2, tf 1, length 3:
 *     t = 1/1.15 -> ln 2 * 0.8695652 * 2.2 / 2.0695652 = 0.640711...
 */
static const score_case score_cases[] = {
    {"猫", "s0", 0.902321774},
    {"貓", "s0", 0.902321774},
    {"alpha", "s0", 1.655462606},
};

START_TEST(test_bm25_by_hand)
{
    char *dir = build_index(tiny, 0);
    js_index *ix = open_index(dir);
    for (size_t i = 0; i < sizeof score_cases / sizeof *score_cases; i++) {
        const score_case *c = &score_cases[i];
        js_results *r = NULL;
        ck_assert_int_eq(js_search(&r, ix, c->query, strlen(c->query), NULL), 0);
        ck_assert_uint_ge(js_results_count(r), 1);
        const js_hit *h = js_results_hit(r, 0);
        ck_assert_str_eq(h->id, c->id);
        ck_assert_msg(fabs(h->score - c->score) < 1e-6, "%s: %.9f want %.9f",
                      c->query, h->score, c->score);
        js_results_free(r);
    }
    /* the second hit for 猫 */
    js_results *r = NULL;
    ck_assert_int_eq(js_search(&r, ix, "猫", strlen("猫"), NULL), 0);
    ck_assert_uint_eq(js_results_count(r), 2);
    ck_assert_str_eq(js_results_hit(r, 1)->id, "s2");
    ck_assert(fabs(js_results_hit(r, 1)->score - 0.556541532) < 1e-6);
    js_results_free(r);
    /* AND adds: 猫 狗 matches s0 only */
    js_search_options strict = JS_SEARCH_OPTIONS_INIT;
    strict.flags = JS_SEARCH_NO_PARTIAL;
    ck_assert_int_eq(js_search(&r, ix, "猫 狗", strlen("猫 狗"), &strict), 0);
    ck_assert_uint_eq(js_results_count(r), 1);
    double dog = log(2.0) * (1 / 1.15) * 2.2 / (1.2 + 1 / 1.15);
    ck_assert(fabs(js_results_hit(r, 0)->score - (0.902321774 + dog)) < 1e-6);
    js_results_free(r);
    /* parameters are honoured: b = 0 ignores lengths */
    js_search_options o = JS_SEARCH_OPTIONS_INIT;
    o.b = 0;
    ck_assert_int_eq(js_search(&r, ix, "猫", strlen("猫"), &o), 0);
    double want = log(2.0) * 2 * 2.2 / 3.2;
    ck_assert(fabs(js_results_hit(r, 0)->score - want) < 1e-6);
    js_results_free(r);
    js_index_close(ix);
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

/* ---- top-k against exhaustive evaluation and brute force ---- */

static const char *const alphabet[] = {"山", "水", "风", "月", "花", "鸟",
                                        "云", "雨", "江", "天", "人", "心"};
#define NALPHA (sizeof alphabet / sizeof *alphabet)

typedef struct {
    char *jsonl;
    char **body, **title;
    int n;
} gen_corpus;

static void gen_make(gen_corpus *g, int n)
{
    tu_render out = {0};
    tu_appendf(&out, "%s", "");
    g->n = n;
    g->body = calloc(n, sizeof *g->body);
    g->title = calloc(n, sizeof *g->title);
    for (int i = 0; i < n; i++) {
        tu_render b = {0}, t = {0};
        tu_appendf(&b, "%s", "");
        tu_appendf(&t, "%s", "");
        int len = 1 + (int)(rnd() % 40);
        for (int j = 0; j < len; j++) /* skewed: low letters are common */
            tu_appendf(&b, "%s", alphabet[(rnd() % NALPHA) * (rnd() % NALPHA) / NALPHA]);
        int tl = 1 + (int)(rnd() % 3);
        for (int j = 0; j < tl; j++)
            tu_appendf(&t, "%s", alphabet[rnd() % NALPHA]);
        tu_appendf(&out, "{\"id\":\"g%d\",\"title\":\"%s\",\"text\":\"%s\"}\n", i,
                   t.buf, b.buf);
        g->body[i] = b.buf;
        g->title[i] = t.buf;
    }
    g->jsonl = out.buf;
}

static void gen_free(gen_corpus *g)
{
    for (int i = 0; i < g->n; i++) {
        free(g->body[i]);
        free(g->title[i]);
    }
    free(g->body);
    free(g->title);
    free(g->jsonl);
}

static char *random_query(int *nchars)
{
    tu_render q = {0};
    tu_appendf(&q, "%s", "");
    *nchars = 1 + (int)(rnd() % 3);
    for (int j = 0; j < *nchars; j++)
        tu_appendf(&q, "%s", alphabet[(rnd() % NALPHA) * (rnd() % NALPHA) / NALPHA]);
    return q.buf;
}

START_TEST(test_topk_matches_exhaustive)
{
    gen_corpus g;
    gen_make(&g, 1500);
    char *dir = build_index(g.jsonl, 4); /* tiny blocks: lists cross them */
    js_index *ix = open_index(dir);
    for (int k = 0; k < 150; k++) {
        int nc;
        char *q = random_query(&nc);
        if (k % 3 != 2) { /* two parts, ANDed or (MaxScore) ORed */
            int nc2;
            char *q2 = random_query(&nc2);
            tu_render t = {0};
            tu_appendf(&t, k % 3 == 0 ? "%s %s" : "%s OR %s", q, q2);
            free(q);
            free(q2);
            q = t.buf;
        }
        js_search_options fast = JS_SEARCH_OPTIONS_INIT, full = fast;
        fast.flags = full.flags = JS_SEARCH_NO_PARTIAL | JS_SEARCH_NO_SNIPPET;
        full.flags |= JS_SEARCH_EXACT_TOTAL;
        fast.limit = full.limit = 10;
        js_results *a = NULL, *b = NULL;
        ck_assert_int_eq(js_search(&a, ix, q, strlen(q), &fast), 0);
        ck_assert_int_eq(js_search(&b, ix, q, strlen(q), &full), 0);
        ck_assert_uint_eq(js_results_count(a), js_results_count(b));
        for (size_t i = 0; i < js_results_count(a); i++) {
            const js_hit *x = js_results_hit(a, i), *y = js_results_hit(b, i);
            ck_assert_msg(x->section == y->section && x->score == y->score,
                          "%s: hit %zu: %u %.9f vs %u %.9f", q, i, x->section,
                          x->score, y->section, y->score);
        }
        /* brute force over the texts: one part, one field or the other */
        if (k % 3 == 2) {
            uint64_t want = 0;
            for (int i = 0; i < g.n; i++)
                want += strstr(g.body[i], q) || strstr(g.title[i], q);
            int exact;
            ck_assert_uint_eq(js_results_total(b, &exact), want);
            ck_assert_int_eq(exact, 1);
            if (js_results_total(a, &exact) != want)
                ck_assert_int_eq(exact, 0);
        }
        js_results_free(a);
        js_results_free(b);
        free(q);
    }
    js_index_close(ix);
    tu_remove_dir(dir);
    free(dir);
    gen_free(&g);
}
END_TEST

/* Partial matching (an OR needing JS_PARTIAL_SHARE of the query's
 * bigrams, query.h) with pruning against a page large enough to hold
 * every match: the same first ten hits, sections and scores to the bit,
 * and by brute force over the texts, every section holding enough of the
 * bigrams (either field) and not the whole query comes back partial. */
START_TEST(test_partial_matches_exhaustive)
{
    gen_corpus g;
    gen_make(&g, 1500);
    char *dir = build_index(g.jsonl, 4);
    js_index *ix = open_index(dir);
    for (int k = 0; k < 80; k++) {
        tu_render q = {0};
        tu_appendf(&q, "%s", "");
        int nc = 3 + (int)(rnd() % 8); /* 2 to 9 bigrams */
        for (int j = 0; j < nc; j++)
            tu_appendf(&q, "%s", alphabet[rnd() % NALPHA]);
        /* the distinct bigrams, each a 6-byte string */
        char grams[16][7];
        int ng = 0;
        for (int j = 0; j + 1 < nc; j++) {
            char gb[7];
            memcpy(gb, q.buf + 3 * j, 6);
            gb[6] = 0;
            int dup = 0;
            for (int i = 0; i < ng; i++)
                dup |= !strcmp(grams[i], gb);
            if (!dup)
                memcpy(grams[ng++], gb, 7);
        }
        uint32_t need = js_query_partial_need((uint32_t)ng);
        js_search_options page = JS_SEARCH_OPTIONS_INIT, all = page;
        page.flags = all.flags = JS_SEARCH_NO_SNIPPET;
        page.limit = 10;
        all.limit = (uint32_t)g.n + 1;
        js_results *a = NULL, *b = NULL;
        ck_assert_int_eq(js_search(&a, ix, q.buf, strlen(q.buf), &page), 0);
        ck_assert_int_eq(js_search(&b, ix, q.buf, strlen(q.buf), &all), 0);
        size_t na = js_results_count(a), nb = js_results_count(b);
        ck_assert_uint_eq(na, nb < 10 ? nb : 10);
        for (size_t i = 0; i < na; i++) {
            const js_hit *x = js_results_hit(a, i), *y = js_results_hit(b, i);
            ck_assert_msg(x->section == y->section && x->score == y->score &&
                              x->partial == y->partial,
                          "%s: hit %zu: %u %.9f %d vs %u %.9f %d", q.buf, i,
                          x->section, x->score, x->partial, y->section,
                          y->score, y->partial);
        }
        int want_partial = 0;
        char *is_partial = calloc((size_t)g.n, 1);
        for (int i = 0; i < g.n; i++) {
            if (strstr(g.body[i], q.buf) || strstr(g.title[i], q.buf))
                continue; /* a strict match */
            uint32_t held = 0;
            for (int j = 0; j < ng; j++)
                held += strstr(g.body[i], grams[j]) || strstr(g.title[i], grams[j]);
            if (ng > 1 && held >= need) {
                is_partial[i] = 1;
                want_partial++;
            }
        }
        int got_partial = 0;
        for (size_t i = 0; i < nb; i++) {
            const js_hit *y = js_results_hit(b, i);
            if (!y->partial)
                continue;
            got_partial++;
            int d = atoi(y->id + 1);
            ck_assert_msg(d >= 0 && d < g.n && is_partial[d],
                          "%s: %s is no partial match", q.buf, y->id);
        }
        ck_assert_msg(got_partial == want_partial, "%s: %d partial hits, want %d",
                      q.buf, got_partial, want_partial);
        free(is_partial);
        js_results_free(a);
        js_results_free(b);
        free(q.buf);
    }
    js_index_close(ix);
    tu_remove_dir(dir);
    free(dir);
    gen_free(&g);
}
END_TEST

/* Phrases whose CJK runs are one character long beside words ("7月",
 * "x 山 7"): the index keeps no unigram positions (fields.h), so the
 * search proves adjacency from the stored text (src/verify.c).  Checked
 * against brute force over the texts' units, in the body and in titles,
 * with a store block size that puts many sections in a block. */
static const char *const mixed[] = {"山", "水", "月", "x", "7", "ab"};
#define NMIXED (sizeof mixed / sizeof *mixed)

/* Appends `len` random units to out, their indexes to u and their
 * positions to pos.  A space goes between two words, which would
 * otherwise run together, and takes a position of its own (text.c). */
static void mixed_units(tu_render *out, int *u, int *pos, int len)
{
    int at = 0;
    for (int j = 0; j < len; j++) {
        u[j] = (int)((rnd() % NMIXED) * (rnd() % NMIXED) / NMIXED);
        if (j && u[j] >= 3 && u[j - 1] >= 3) {
            tu_appendf(out, " ");
            at++;
        }
        tu_appendf(out, "%s", mixed[u[j]]);
        pos[j] = at++;
    }
}

/* Whether the text's units t (at positions tp) hold the query's q (at
 * qp) at the same distances from one another. */
static int units_hold(const int *t, const int *tp, int tn, const int *q,
                      const int *qp, int qn)
{
    for (int i = 0; i < tn; i++) {
        if (t[i] != q[0])
            continue;
        int all = 1;
        for (int j = 1; j < qn && all; j++) {
            int want = tp[i] + qp[j] - qp[0], found = 0;
            for (int k = i; k < tn && tp[k] <= want; k++)
                found |= tp[k] == want && t[k] == q[j];
            all = found;
        }
        if (all)
            return 1;
    }
    return 0;
}

START_TEST(test_mixed_phrases_brute_force)
{
    enum { N = 800, MAXU = 30 };
    int (*body)[MAXU] = calloc(N, sizeof *body), *blen = calloc(N, sizeof *blen);
    int (*title)[MAXU] = calloc(N, sizeof *title), *tlen = calloc(N, sizeof *tlen);
    int (*bpos)[MAXU] = calloc(N, sizeof *bpos), (*tpos)[MAXU] = calloc(N, sizeof *tpos);
    tu_render all = {0};
    tu_appendf(&all, "%s", "");
    for (int i = 0; i < N; i++) {
        tu_render b = {0}, t = {0};
        tu_appendf(&b, "%s", "");
        tu_appendf(&t, "%s", "");
        blen[i] = 1 + (int)(rnd() % MAXU);
        tlen[i] = 1 + (int)(rnd() % 4);
        mixed_units(&b, body[i], bpos[i], blen[i]);
        mixed_units(&t, title[i], tpos[i], tlen[i]);
        tu_appendf(&all, "{\"id\":\"m%d\",\"title\":\"%s\",\"text\":\"%s\"}\n",
                   i, t.buf, b.buf);
        free(b.buf);
        free(t.buf);
    }
    char *dir = build_index(all.buf, 4);
    js_index *ix = open_index(dir);
    ck_assert_msg(js_index_check(ix) == 0, "%s", js_index_errmsg(ix));
    int tested_verify = 0;
    for (int k = 0; k < 200; k++) {
        int q[4], qp[4], qn = 2 + (int)(rnd() % 3);
        tu_render qs = {0};
        tu_appendf(&qs, "\"");
        mixed_units(&qs, q, qp, qn);
        tu_appendf(&qs, "\"");
        /* does a one-character CJK run stand beside a word? */
        for (int j = 0; j < qn; j++)
            tested_verify |= q[j] < 3 && (j == 0 || q[j - 1] >= 3) &&
                             (j + 1 == qn || q[j + 1] >= 3) && qn > 1;
        uint64_t want = 0;
        for (int i = 0; i < N; i++)
            want += units_hold(body[i], bpos[i], blen[i], q, qp, qn) ||
                    units_hold(title[i], tpos[i], tlen[i], q, qp, qn);
        js_search_options o = JS_SEARCH_OPTIONS_INIT;
        o.flags = JS_SEARCH_NO_PARTIAL | JS_SEARCH_NO_SNIPPET |
                  JS_SEARCH_EXACT_TOTAL;
        o.limit = N;
        js_results *r = NULL;
        ck_assert_msg(js_search(&r, ix, qs.buf, strlen(qs.buf), &o) == 0,
                      "%s: %s", qs.buf, js_results_errmsg(r));
        int exact;
        ck_assert_msg(js_results_total(r, &exact) == want && exact &&
                          js_results_count(r) == want,
                      "%s: %zu hits, want %llu", qs.buf, js_results_count(r),
                      (unsigned long long)want);
        for (size_t h = 0; h < js_results_count(r); h++) {
            int d = atoi(js_results_hit(r, h)->id + 1);
            ck_assert_msg(units_hold(body[d], bpos[d], blen[d], q, qp, qn) ||
                              units_hold(title[d], tpos[d], tlen[d], q, qp, qn),
                          "%s: m%d does not hold it", qs.buf, d);
        }
        js_results_free(r);
        free(qs.buf);
    }
    ck_assert(tested_verify);
    js_index_close(ix);
    tu_remove_dir(dir);
    free(dir);
    free(all.buf);
    free(body);
    free(blen);
    free(title);
    free(tlen);
    free(bpos);
    free(tpos);
}
END_TEST

/* One-term queries answered from champion lists (index/champ.h) must
 * give what walking the postings gives: the same sections, scores to the
 * bit, and the exact total, for every term (lists of every size: a
 * champion df of 1), pages inside and beyond a list, and parameters the
 * lists were or were not ranked for. */
START_TEST(test_champions_agree)
{
    gen_corpus g;
    gen_make(&g, 1500);
    char *dir = build_index_ex(g.jsonl, 4, 1);
    js_index *ix = open_index(dir);
    ck_assert_int_eq(js_index_check(ix), 0);
    static const struct {
        uint32_t offset, limit;
        double k1, b, w;
    } runs[] = {
        {0, 10, 1.2, 0.75, 2.0}, {0, 1, 1.2, 0.75, 2.0},
        {20, 12, 1.2, 0.75, 2.0}, {0, 33, 1.2, 0.75, 2.0},
        {30, 10, 1.2, 0.75, 2.0}, {0, 10, 3.0, 0.75, 2.0},
        {0, 10, 0.0, 0.75, 2.0}, {0, 10, 1.2, 0.5, 2.0},
        {0, 10, 1.2, 0.75, 1.0},
    };
    int answered = 0;
    for (size_t r = 0; r < sizeof runs / sizeof *runs; r++) {
        for (size_t a = 0; a < NALPHA * NALPHA + NALPHA; a++) {
            char q[16];
            if (a < NALPHA)
                snprintf(q, sizeof q, "%s", alphabet[a]);
            else
                snprintf(q, sizeof q, "%s%s", alphabet[(a - NALPHA) / NALPHA],
                         alphabet[(a - NALPHA) % NALPHA]);
            js_search_options on = JS_SEARCH_OPTIONS_INIT;
            on.offset = runs[r].offset;
            on.limit = runs[r].limit;
            on.k1 = runs[r].k1;
            on.b = runs[r].b;
            on.heading_weight = runs[r].w;
            on.flags = JS_SEARCH_NO_SNIPPET | JS_SEARCH_NO_PARTIAL;
            js_search_options off = on, off_exact = on;
            off.flags |= JS_SEARCH_NO_CHAMPIONS;
            off_exact.flags |= JS_SEARCH_NO_CHAMPIONS | JS_SEARCH_EXACT_TOTAL;
            js_results *x = NULL, *y = NULL, *z = NULL;
            ck_assert_int_eq(js_search(&x, ix, q, strlen(q), &on), 0);
            ck_assert_int_eq(js_search(&y, ix, q, strlen(q), &off), 0);
            ck_assert_int_eq(js_search(&z, ix, q, strlen(q), &off_exact), 0);
            ck_assert_uint_eq(js_results_count(x), js_results_count(y));
            for (size_t i = 0; i < js_results_count(x); i++) {
                const js_hit *h = js_results_hit(x, i),
                             *e = js_results_hit(y, i);
                ck_assert_msg(h->section == e->section && h->score == e->score,
                              "%s run %zu hit %zu: %u %.17g vs %u %.17g", q,
                              r, i, h->section, h->score, e->section,
                              e->score);
            }
            int ex_on, ex_off, ex_full;
            uint64_t t_on = js_results_total(x, &ex_on);
            uint64_t t_off = js_results_total(y, &ex_off);
            uint64_t t_full = js_results_total(z, &ex_full);
            ck_assert_int_eq(ex_full, 1);
            if (ex_on)
                ck_assert_uint_eq(t_on, t_full);
            else
                ck_assert_uint_eq(t_on, t_off);
            /* the lists answered where the walk only estimates */
            answered += ex_on && !ex_off;
            js_results_free(x);
            js_results_free(y);
            js_results_free(z);
        }
    }
    ck_assert_int_gt(answered, 50);
    js_index_close(ix);
    tu_remove_dir(dir);
    free(dir);
    gen_free(&g);
}
END_TEST

/* ---- paging, snippets, errors ---- */

START_TEST(test_paging)
{
    gen_corpus g;
    gen_make(&g, 300);
    char *dir = build_index(g.jsonl, 4);
    js_index *ix = open_index(dir);
    char *all = ids_of(ix, "山", JS_SEARCH_NO_SNIPPET, 30);
    tu_render pages = {0};
    tu_appendf(&pages, "%s", "");
    for (uint32_t off = 0; off < 30; off += 7) {
        js_search_options o = JS_SEARCH_OPTIONS_INIT;
        o.offset = off;
        o.limit = off + 7 > 30 ? 30 - off : 7;
        o.flags = JS_SEARCH_NO_SNIPPET;
        js_results *r = NULL;
        ck_assert_int_eq(js_search(&r, ix, "山", 3, &o), 0);
        for (size_t i = 0; i < js_results_count(r); i++)
            tu_appendf(&pages, "%s%s", pages.len ? " " : "",
                       js_results_hit(r, i)->id);
        js_results_free(r);
    }
    ck_assert_str_eq(pages.buf, all);
    free(pages.buf);
    free(all);
    js_index_close(ix);
    tu_remove_dir(dir);
    free(dir);
    gen_free(&g);
}
END_TEST

START_TEST(test_snippet_and_hit_fields)
{
    char *dir = build_index(academy, 0);
    js_index *ix = open_index(dir);
    js_results *r = NULL;
    ck_assert_int_eq(js_search(&r, ix, "工匠学院", strlen("工匠学院"), NULL), 0);
    const js_hit *h = NULL;
    for (size_t i = 0; i < js_results_count(r); i++)
        if (!strcmp(js_results_hit(r, i)->id, "d1"))
            h = js_results_hit(r, i);
    ck_assert_ptr_nonnull(h);
    ck_assert_str_eq(h->title, "蚌埠新聞");
    ck_assert_str_eq(h->source, "corpus.jsonl");
    ck_assert_str_eq(h->format, "jsonl");
    ck_assert_uint_ge(h->nhighlights, 1);
    const char *s = h->snippet + h->highlights[0];
    size_t n = h->highlights[1] - h->highlights[0];
    ck_assert_uint_eq(n, strlen("工匠學院"));
    ck_assert(!memcmp(s, "工匠學院", n));
    ck_assert_ptr_nonnull(strstr(h->snippet, "2023年8月"));
    ck_assert_str_eq(js_results_query(r), "\"工匠@0 学院@2\"");
    js_results_free(r);
    js_index_close(ix);
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

typedef struct {
    const char *query;
    int rc;
    const char *msg; /* substring of the message */
} error_case;

static const error_case error_cases[] = {
    {"", JS_EINVALID, "no searchable"},
    {"，。！", JS_EINVALID, "no searchable"},
    {"-工匠", JS_EINVALID, "exclude"},
};

START_TEST(test_errors)
{
    char *dir = build_index(academy, 0);
    js_index *ix = open_index(dir);
    for (size_t i = 0; i < sizeof error_cases / sizeof *error_cases; i++) {
        const error_case *c = &error_cases[i];
        js_results *r = NULL;
        ck_assert_int_eq(js_search(&r, ix, c->query, strlen(c->query), NULL), c->rc);
        ck_assert_msg(strstr(js_results_errmsg(r), c->msg), "%s: message '%s'",
                      c->query, js_results_errmsg(r));
        ck_assert_uint_eq(js_results_count(r), 0);
        js_results_free(r);
    }
    /* 10,000 characters: a clear limit */
    size_t big = 30000;
    char *q = malloc(big + 1);
    for (size_t i = 0; i < big; i += 3)
        memcpy(q + i, "工", 3);
    q[big] = 0;
    js_results *r = NULL;
    ck_assert_int_eq(js_search(&r, ix, q, big, NULL), JS_ELIMIT);
    ck_assert_ptr_nonnull(strstr(js_results_errmsg(r), "limit"));
    js_results_free(r);
    free(q);
    /* bad options */
    js_search_options o = JS_SEARCH_OPTIONS_INIT;
    o.b = 2;
    ck_assert_int_eq(js_search(&r, ix, "工", 3, &o), JS_EINVALID);
    js_results_free(r);
    o = (js_search_options)JS_SEARCH_OPTIONS_INIT;
    o.version = 99;
    ck_assert_int_eq(js_search(&r, ix, "工", 3, &o), JS_EINVALID);
    js_results_free(r);
    o = (js_search_options)JS_SEARCH_OPTIONS_INIT;
    o.limit = JS_SEARCH_MAX_HITS;
    o.offset = 1;
    ck_assert_int_eq(js_search(&r, ix, "工", 3, &o), JS_ELIMIT);
    js_results_free(r);
    /* a query with NULs and invalid bytes is read, not refused */
    ck_assert_int_eq(js_search(&r, ix, "工\0\xff匠", 8, NULL), 0);
    js_results_free(r);
    js_results_free(NULL);
    js_index_close(ix);
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

/* ---- many threads, one handle ---- */

#define NTHREADS 6
#define NQUERIES 120

typedef struct {
    js_index *ix;
    char **queries;
    char **want;
    int bad;
} thread_arg;

static char *render(js_index *ix, const char *q)
{
    js_search_options o = JS_SEARCH_OPTIONS_INIT;
    o.limit = 5;
    js_results *r = NULL;
    tu_render out = {0};
    tu_appendf(&out, "%s", "");
    if (js_search(&r, ix, q, strlen(q), &o) == 0)
        for (size_t i = 0; i < js_results_count(r); i++) {
            const js_hit *h = js_results_hit(r, i);
            tu_appendf(&out, "%u %.12f %d %s|", h->section, h->score,
                       h->partial, h->snippet);
        }
    js_results_free(r);
    return out.buf;
}

static void *worker(void *p)
{
    thread_arg *a = p;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < NQUERIES; i++) {
            char *got = render(a->ix, a->queries[i]);
            if (strcmp(got, a->want[i]))
                a->bad++;
            free(got);
        }
    return NULL;
}

START_TEST(test_threads_one_handle)
{
    gen_corpus g;
    gen_make(&g, 800);
    char *dir = build_index(g.jsonl, 8);
    js_index *ix = open_index(dir);
    char *queries[NQUERIES], *want[NQUERIES];
    for (int i = 0; i < NQUERIES; i++) {
        int nc;
        queries[i] = random_query(&nc);
        want[i] = render(ix, queries[i]);
    }
    pthread_t t[NTHREADS];
    thread_arg args[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        args[i] = (thread_arg){ix, queries, want, 0};
        ck_assert_int_eq(pthread_create(&t[i], NULL, worker, &args[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(args[i].bad, 0);
    }
    for (int i = 0; i < NQUERIES; i++) {
        free(queries[i]);
        free(want[i]);
    }
    js_index_close(ix);
    tu_remove_dir(dir);
    free(dir);
    gen_free(&g);
}
END_TEST

static Suite *search_suite(void)
{
    return TU_SUITE("search", 120,
        test_match_table, test_partial_sentence, test_bm25_by_hand,
        test_topk_matches_exhaustive, test_partial_matches_exhaustive,
        test_mixed_phrases_brute_force, test_champions_agree, test_paging,
        test_snippet_and_hit_fields, test_errors, test_threads_one_handle);
}

int main(void)
{
    return tu_run(search_suite(), 0);
}
