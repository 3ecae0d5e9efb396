/*
 * check_prefix.c — word* end to end: the sections a prefix query matches
 * against brute force, on a native index of one segment, on a live
 * native index of several segments (with deleted documents), and on a
 * Xapian index of two shards when the library has that backend.
 *
 * In:  invented corpora: words made of a few invented syllables (so that
 *      many share prefixes), in titles and texts, some capitalised, mixed
 *      with Chinese; and a corpus of 70 words sharing one prefix, for the
 *      50-word bound.
 * Out: for random prefixes of the corpus's words, `p*`, `title:p*`,
 *      `p* q*`, `p* OR q*` and `p* -q*` match exactly the sections the
 *      model says (strict hits, exact totals); every highlight of a hit's
 *      snippet is a word with the prefix; a prefix with more than 50
 *      words keeps the 50 most frequent (ties in byte order) and matches
 *      the sections holding those.
 */
#include "config.h"

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jiansuo.h"
#include "testutil.h"

#define NDOCS 80
#define NWORDS 90
#define MAXW 14

static const char *const syl[] = {"xa", "pi", "an", "in", "st", "al", "ro",
                                  "ka", "mo", "de", "zu", "ne"};
#define NSYL (sizeof syl / sizeof *syl)

typedef struct corpus {
    char word[NWORDS][16];
    int nwords;
    /* per document: word indices in its title and its text */
    int title[NDOCS][3], ntitle[NDOCS];
    int text[NDOCS][MAXW], ntext[NDOCS];
    int deleted[NDOCS];
    char *jsonl[4]; /* the documents in four parts, one per commit */
} corpus;

static uint64_t st = 0x51ED2701A3C4B5D7ull;
static uint32_t rnd(void) { return tu_rnd(&st); }

/* A word index, skewed towards the first words (a spread of dfs). */
static int pick(const corpus *c)
{
    return (int)((rnd() % (unsigned)c->nwords) * (rnd() % (unsigned)c->nwords) /
                 (unsigned)c->nwords);
}

static void put_word(tu_render *r, const char *w, int cap)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%s", w);
    if (cap)
        buf[0] = (char)toupper((unsigned char)buf[0]);
    tu_appendf(r, "%s", buf);
}

static void corpus_make(corpus *c)
{
    memset(c, 0, sizeof *c);
    while (c->nwords < NWORDS) {
        char w[16] = "";
        int n = 1 + (int)(rnd() % 4);
        for (int k = 0; k < n; k++)
            strcat(w, syl[rnd() % NSYL]);
        int dup = 0;
        for (int i = 0; i < c->nwords; i++)
            dup |= !strcmp(c->word[i], w);
        if (!dup)
            snprintf(c->word[c->nwords++], sizeof c->word[0], "%s", w);
    }
    tu_render part[4] = {{0}};
    for (int p = 0; p < 4; p++)
        tu_appendf(&part[p], "%s", "");
    for (int d = 0; d < NDOCS; d++) {
        tu_render t = {0}, x = {0};
        tu_appendf(&t, "%s", "");
        tu_appendf(&x, "%s", "");
        c->ntitle[d] = (int)(rnd() % 3);
        for (int k = 0; k < c->ntitle[d]; k++) {
            c->title[d][k] = pick(c);
            tu_appendf(&t, "%s", k ? " " : "");
            put_word(&t, c->word[c->title[d][k]], (int)(rnd() % 3 == 0));
        }
        tu_appendf(&t, "%s", "工匠手册");
        c->ntext[d] = 1 + (int)(rnd() % MAXW);
        for (int k = 0; k < c->ntext[d]; k++) {
            c->text[d][k] = pick(c);
            put_word(&x, c->word[c->text[d][k]], (int)(rnd() % 4 == 0));
            tu_appendf(&x, "%s", rnd() % 5 ? " " : "，学院的");
        }
        tu_appendf(&part[d * 4 / NDOCS],
                   "{\"id\":\"d%d\",\"title\":\"%s\",\"text\":\"%s\"}\n", d,
                   t.buf, x.buf);
        free(t.buf);
        free(x.buf);
    }
    for (int p = 0; p < 4; p++)
        c->jsonl[p] = part[p].buf;
}

static void corpus_free(corpus *c)
{
    for (int p = 0; p < 4; p++)
        free(c->jsonl[p]);
}

static int has_prefix(const char *w, const char *p)
{
    return !strncmp(w, p, strlen(p));
}

/* Whether document d holds a word with prefix p (in its title only, or
 * anywhere). */
static int doc_has(const corpus *c, int d, const char *p, int title_only)
{
    for (int k = 0; k < c->ntitle[d]; k++)
        if (has_prefix(c->word[c->title[d][k]], p))
            return 1;
    if (title_only)
        return 0;
    for (int k = 0; k < c->ntext[d]; k++)
        if (has_prefix(c->word[c->text[d][k]], p))
            return 1;
    return 0;
}

/* The model's answer to form f over prefixes p and q, as a 0/1 per
 * document. */
static int model_match(const corpus *c, int d, int f, const char *p,
                       const char *q)
{
    if (c->deleted[d])
        return 0;
    switch (f) {
    case 0:
        return doc_has(c, d, p, 0);
    case 1:
        return doc_has(c, d, p, 1);
    case 2:
        return doc_has(c, d, p, 0) && doc_has(c, d, q, 0);
    case 3:
        return doc_has(c, d, p, 0) || doc_has(c, d, q, 0);
    default:
        return doc_has(c, d, p, 0) && !doc_has(c, d, q, 0);
    }
}

/* Runs query and marks the documents of its strict hits in got[];
 * checks the total is exact and every snippet highlight is a word with
 * one of the prefixes (hl: NULL to skip). */
static void run(js_index *ix, const char *query, int got[NDOCS],
                const char *hl1, const char *hl2, const char *what)
{
    js_search_options o = JS_SEARCH_OPTIONS_INIT;
    o.flags = JS_SEARCH_NO_PARTIAL | JS_SEARCH_EXACT_TOTAL;
    o.limit = NDOCS + 10;
    o.snippet_chars = 400;
    js_results *r = NULL;
    int rc = js_search(&r, ix, query, strlen(query), &o);
    ck_assert_msg(rc == 0, "%s %s: %s", what, query, js_results_errmsg(r));
    memset(got, 0, NDOCS * sizeof *got);
    size_t n = js_results_count(r);
    for (size_t i = 0; i < n; i++) {
        const js_hit *h = js_results_hit(r, i);
        int d = atoi(h->id + 1);
        ck_assert_msg(d >= 0 && d < NDOCS && !got[d], "%s %s: hit %s", what,
                      query, h->id);
        got[d] = 1;
        for (size_t k = 0; hl1 && k < h->nhighlights; k++) {
            char w[64];
            size_t a = h->highlights[2 * k], b = h->highlights[2 * k + 1];
            ck_assert(b > a && b - a < sizeof w);
            for (size_t j = a; j < b; j++)
                w[j - a] = (char)tolower((unsigned char)h->snippet[j]);
            w[b - a] = 0;
            ck_assert_msg(has_prefix(w, hl1) || (hl2 && has_prefix(w, hl2)),
                          "%s %s: highlight \"%s\"", what, query, w);
        }
    }
    int exact = 0;
    ck_assert_uint_eq(js_results_total(r, &exact), n);
    ck_assert(exact);
    js_results_free(r);
}

/* The property: random prefixes in the five forms against the model. */
static void check_index(js_index *ix, const corpus *c, const char *what)
{
    /* the five forms: prefix, operator, second prefix */
    static const char *const forms[][2] = {{"", NULL}, {"title:", NULL},
                                           {"", " "}, {"", " OR "},
                                           {"", " -"}};
    int got[NDOCS];
    for (int iter = 0; iter < 150; iter++) {
        char p[16], q[16], query[64];
        const char *wp = c->word[rnd() % (unsigned)c->nwords];
        const char *wq = c->word[rnd() % (unsigned)c->nwords];
        size_t lp = 2 + rnd() % (strlen(wp) - 1);
        size_t lq = 2 + rnd() % (strlen(wq) - 1);
        snprintf(p, sizeof p, "%.*s", (int)lp, wp);
        snprintf(q, sizeof q, "%.*s", (int)lq, wq);
        int f = iter % 5;
        if (forms[f][1])
            snprintf(query, sizeof query, "%s%s*%s%s*", forms[f][0], p,
                     forms[f][1], q);
        else
            snprintf(query, sizeof query, "%s%s*", forms[f][0], p);
        if (iter % 7 == 0) /* the query normalises as the text did */
            query[f == 1 ? 6 : 0] = (char)toupper((unsigned char)query[f == 1 ? 6 : 0]);
        run(ix, query, got, p, f == 3 || f == 2 ? q : NULL, what);
        for (int d = 0; d < NDOCS; d++)
            ck_assert_msg(got[d] == model_match(c, d, f, p, q),
                          "%s: %s: document d%d: got %d", what, query, d,
                          got[d]);
    }
    /* a prefix of no word matches nothing, and leaves the rest alone */
    run(ix, "qqqq*", got, NULL, NULL, what);
    for (int d = 0; d < NDOCS; d++)
        ck_assert(!got[d]);
    char query[64];
    snprintf(query, sizeof query, "qqqq* OR %s", c->word[0]);
    run(ix, query, got, NULL, NULL, what);
    for (int d = 0; d < NDOCS; d++) {
        int want = 0;
        for (int k = 0; k < c->ntitle[d]; k++)
            want |= c->title[d][k] == 0;
        for (int k = 0; k < c->ntext[d]; k++)
            want |= c->text[d][k] == 0;
        ck_assert_int_eq(got[d], want && !c->deleted[d]);
    }
}

static js_index *open_dir(const char *dir)
{
    js_index *ix = NULL;
    int rc = js_index_open(&ix, dir);
    ck_assert_msg(rc == 0, "open %s: %s", dir, js_index_errmsg(ix));
    return ix;
}

static void build(const char *dir, const char *const *parts, int nparts,
                  js_backend backend)
{
    js_build_options o = JS_BUILD_OPTIONS_INIT;
    o.backend = backend;
    o.shards = backend == JS_BACKEND_XAPIAN ? 2 : 0;
    o.champion_df = 4; /* one-word expansions may be answered by lists */
    js_builder *b = NULL;
    int rc = js_builder_open(&b, dir, &o);
    for (int p = 0; !rc && p < nparts; p++) {
        char name[32];
        snprintf(name, sizeof name, "part%d.jsonl", p);
        rc = js_builder_add_memory(b, name, parts[p], strlen(parts[p]));
    }
    if (!rc)
        rc = js_builder_commit(b);
    ck_assert_msg(rc == 0, "build: %s", js_builder_errmsg(b));
    js_builder_close(b);
}

START_TEST(test_one_segment)
{
    corpus c;
    corpus_make(&c);
    char *dir = tu_temp_dir("prefix");
    build(dir, (const char *const *)c.jsonl, 4, JS_BACKEND_NATIVE);
    js_index *ix = open_dir(dir);
    check_index(ix, &c, "one segment");
    js_index_close(ix);
    tu_remove_dir(dir);
    free(dir);
    corpus_free(&c);
}
END_TEST

/* Four commits of a writer that never merges: four segments, whose
 * lexicons are all consulted; then documents deleted. */
START_TEST(test_segments)
{
    corpus c;
    corpus_make(&c);
    char *dir = tu_temp_dir("prefix");
    js_writer_options wo = JS_WRITER_OPTIONS_INIT;
    wo.merge_factor = 1;
    js_writer *w = NULL;
    ck_assert_int_eq(js_writer_open(&w, dir, &wo), 0);
    for (int p = 0; p < 4; p++) {
        char name[32];
        snprintf(name, sizeof name, "part%d.jsonl", p);
        ck_assert_msg(js_writer_add_memory(w, name, c.jsonl[p],
                                           strlen(c.jsonl[p])) == 0,
                      "%s", js_writer_errmsg(w));
        ck_assert_int_eq(js_writer_commit(w), 0);
    }
    js_index *ix = open_dir(dir);
    js_index_stats s;
    js_index_get_stats(ix, &s);
    ck_assert_uint_eq(s.segments, 4);
    check_index(ix, &c, "four segments");
    js_index_close(ix);
    for (int d = 3; d < NDOCS; d += 7) {
        char id[16];
        snprintf(id, sizeof id, "d%d", d);
        ck_assert_int_eq(js_writer_delete_id(w, id), 0);
        c.deleted[d] = 1;
    }
    ck_assert_int_eq(js_writer_commit(w), 0);
    ix = open_dir(dir);
    check_index(ix, &c, "four segments with deletions");
    js_index_close(ix);
    js_writer_close(w);
    tu_remove_dir(dir);
    free(dir);
    corpus_free(&c);
}
END_TEST

START_TEST(test_xapian)
{
    if (!js_backend_available(JS_BACKEND_XAPIAN))
        return; /* built --without-xapian */
    corpus c;
    corpus_make(&c);
    char *dir = tu_temp_dir("prefix");
    build(dir, (const char *const *)c.jsonl, 4, JS_BACKEND_XAPIAN);
    js_index *ix = open_dir(dir);
    check_index(ix, &c, "xapian");
    js_index_close(ix);
    tu_remove_dir(dir);
    free(dir);
    corpus_free(&c);
}
END_TEST

/* The bound: 70 words "qb000".."qb069", word i in 1 + (7i mod 5)
 * documents.  `qb*` keeps the 50 most frequent (ties: the smaller word)
 * and matches the documents holding them; the parsed query lists them. */
#define NB 70
static int bound_df(int i) { return 1 + (7 * i) % 5; }

START_TEST(test_bound)
{
    int native = _i == 0;
    if (!native && !js_backend_available(JS_BACKEND_XAPIAN))
        return;
    /* documents: doc j holds the words i with j in their doc list */
    static int holds[NB][NB];
    memset(holds, 0, sizeof holds);
    for (int i = 0; i < NB; i++)
        for (int k = 0; k < bound_df(i); k++)
            holds[(i + 13 * k) % NB][i] = 1;
    tu_render all = {0};
    tu_appendf(&all, "%s", "");
    for (int j = 0; j < NB; j++) {
        tu_appendf(&all, "{\"id\":\"d%d\",\"text\":\"工匠", j);
        for (int i = 0; i < NB; i++)
            if (holds[j][i])
                tu_appendf(&all, " qb%03d", i);
        tu_appendf(&all, "%s", "\"}\n");
    }
    /* the model's 50: by df, then by word */
    int keep[NB] = {0};
    for (int n = 0; n < 50; n++) {
        int best = -1;
        for (int i = 0; i < NB; i++)
            if (!keep[i] && (best < 0 || bound_df(i) > bound_df(best)))
                best = i;
        keep[best] = 1;
    }
    char *dir = tu_temp_dir("prefix");
    const char *parts[1] = {all.buf};
    build(dir, parts, 1, native ? JS_BACKEND_NATIVE : JS_BACKEND_XAPIAN);
    js_index *ix = open_dir(dir);
    js_search_options o = JS_SEARCH_OPTIONS_INIT;
    o.flags = JS_SEARCH_NO_PARTIAL | JS_SEARCH_EXACT_TOTAL |
              JS_SEARCH_NO_SNIPPET;
    o.limit = NB;
    js_results *r = NULL;
    ck_assert_int_eq(js_search(&r, ix, "QB*", 3, &o), 0);
    tu_render want = {0};
    tu_appendf(&want, "%s", "\"qb*@0\"{");
    for (int i = 0, n = 0; i < NB; i++)
        if (keep[i])
            tu_appendf(&want, "%sqb%03d", n++ ? " " : "", i);
    tu_appendf(&want, "%s", "}");
    ck_assert_str_eq(js_results_query(r), want.buf);
    int got[NB] = {0};
    for (size_t i = 0; i < js_results_count(r); i++)
        got[atoi(js_results_hit(r, i)->id + 1)] = 1;
    for (int j = 0; j < NB; j++) {
        int m = 0;
        for (int i = 0; i < NB; i++)
            m |= holds[j][i] && keep[i];
        ck_assert_msg(got[j] == m, "document d%d: got %d", j, got[j]);
    }
    js_results_free(r);
    /* one character is refused, clearly */
    ck_assert_int_eq(js_search(&r, ix, "q*", 2, &o), JS_EINVALID);
    ck_assert_str_eq(js_results_errmsg(r),
                     "a prefix needs at least 2 characters: 'q*'");
    js_results_free(r);
    js_index_close(ix);
    tu_remove_dir(dir);
    free(dir);
    free(all.buf);
    free(want.buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("prefix");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_one_segment);
    tcase_add_test(tc, test_segments);
    tcase_add_test(tc, test_xapian);
    tcase_add_loop_test(tc, test_bound, 0, 2);
    suite_add_tcase(s, tc);
    return tu_run(s, 0);
}
