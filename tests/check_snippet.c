/*
 * check_snippet.c — matches of a query in a text (js_snippet_find) and the
 * excerpt around them (js_snippet_make).
 *
 * Tables state texts with the expected matches marked 【like this】: for
 * find, the marks are what the query must match; for make, the input's
 * marks are the ranges handed in and the expected excerpt carries the
 * highlights as marks.  Property tests compare find against a naive
 * matcher written from the definition (on small random texts, and on long
 * repetitive ones that take the bitset path), and feed make random texts
 * and ranges; then size limits and injected allocation failures.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snippet.h"
#include "testutil.h"
#include "utf8.h"

#define HEAD JS_FIND_HEADING
#define GRAMS JS_FIND_GRAMS

static const char OPEN[] = "【", CLOSE[] = "】";

/* Removes the marks from marked[]: the plain text goes to *text (caller
 * frees), its length to *len, the marked ranges to r[] (room for 16),
 * their number to *n. */
static void unmark(const char *marked, char **text, size_t *len, js_range *r,
                   size_t *n)
{
    size_t ml = strlen(marked), o = 0;
    char *t = malloc(ml + 1);
    ck_assert_ptr_nonnull(t);
    *n = 0;
    for (size_t i = 0; i < ml;) {
        if (!strncmp(marked + i, OPEN, 3)) {
            ck_assert_uint_lt(*n, 16);
            r[*n].start = o;
            i += 3;
        } else if (!strncmp(marked + i, CLOSE, 3)) {
            r[(*n)++].end = o;
            i += 3;
        } else {
            t[o++] = marked[i++];
        }
    }
    t[o] = 0;
    *text = t;
    *len = o;
}

/* Returns text[0..len) with r[0..n) marked (caller frees). */
static char *mark(const char *text, size_t len, const js_range *r, size_t n)
{
    tu_render out = {0};
    size_t at = 0;
    tu_appendf(&out, "%s", "");
    for (size_t k = 0; k < n; k++) {
        ck_assert_uint_le(at, r[k].start);
        ck_assert_uint_le(r[k].start, r[k].end);
        ck_assert_uint_le(r[k].end, len);
        tu_appendf(&out, "%.*s%s%.*s%s", (int)(r[k].start - at), text + at,
                   OPEN, (int)(r[k].end - r[k].start), text + r[k].start,
                   CLOSE);
        at = r[k].end;
    }
    tu_appendf(&out, "%.*s", (int)(len - at), text + at);
    return out.buf;
}

static js_qnode *parse(const char *query)
{
    js_qnode *q = NULL;
    char err[128];
    int rc = js_query_parse(&q, query, strlen(query), 0, err, sizeof err);
    ck_assert_msg(rc == 0, "%s: %s", query, err);
    return q;
}

static const struct {
    const char *name;
    const char *query;
    unsigned flags;
    const char *marked; /* the text, with what must match marked */
} finds[] = {
    {"adjacent run", "工匠学院", 0, "我们的【工匠學院】在城东。"},
    {"characters present but apart", "工匠学院", 0, "工匠的学院在城东"},
    {"characters in the wrong order", "工匠学院", 0, "学院工匠"},
    {"run cut by a space", "工匠学院", 0, "工匠 学院"},
    {"run cut by punctuation", "工匠学院", 0, "工匠，学院"},
    {"three characters", "工匠學", 0, "【工匠学】院和匠学"},
    {"Simplified query, Traditional text", "学院图书馆", 0,
     "去【學院圖書館】借书"},
    {"Traditional query, Simplified text", "學院", 0, "【学院】很大"},
    {"one character", "书", 0, "借【书】还【書】"},
    {"digits and Han", "2023年8月", 0, "会议定于【2023年8月】举行"},
    {"digits and Han apart", "2023年8月", 0, "2023年的8月"},
    {"letter and Han", "C语言", 0, "学习【C語言】很有趣"},
    {"Latin case", "hello", 0, "say 【HELLO】 and 【Hello】 but not hellos"},
    {"full-width text", "abc12", 0, "型号【ＡＢＣ１２】"},
    {"gap position matches like the index", "foo-bar", 0,
     "【foo bar】 【foo中bar】 foobar"},
    {"phrase across a space", "\"工匠 学院\"", 0, "【工匠 學院】和工匠学院"},
    {"expansion", "平成", 0, "【㍻】元年"},
    {"invalid byte separates", "工匠学院", 0, "工匠\xFF学院"},
    {"invalid byte around a match", "学院", 0, "工匠\xFF【学院】\xFE"},
    {"repeats merge", "哈哈", 0, "【哈哈哈】 【哈哈】 哈"},
    {"overlapping leaves merge", "工匠 匠学", 0, "【工匠学】"},
    {"touching matches merge", "工匠 学院", 0, "【工匠学院】"},
    {"matches apart stay apart", "工匠 学院", 0, "【工匠】 【学院】"},
    {"OR finds both", "工匠 OR 学院", 0, "【工匠】与【学院】"},
    {"excluded leaves ignored", "城东 -学院", 0, "【城东】的学院"},
    {"title leaves ignored in a body", "title:学院 城东", 0, "【城东】的学院"},
    {"title leaves count in a heading", "title:学院 城东", HEAD,
     "【城东】的【学院】"},
    {"grams match one by one", "工匠学院", GRAMS, "【工匠】的【学院】"},
    {"grams include inner bigrams", "工匠学院", GRAMS, "【匠学】"},
    {"grams of one-character runs", "书 2023年", GRAMS,
     "【书】和【2023】与【年】"},
    {"grams skip excluded leaves", "工匠 -学院", GRAMS, "【工匠】的学院"},
    {"long leaf", "一二三四五六七八", 0, "〇【一二三四五六七八】九 一二三四五六七"},
    {"nothing in an empty text", "工匠", 0, ""},
};

START_TEST(test_find_table)
{
    char *text;
    size_t len, n;
    js_range want[16];
    unmark(finds[_i].marked, &text, &len, want, &n);
    js_qnode *q = parse(finds[_i].query);
    js_range *r = (js_range *)0x1;
    size_t nr = 99;
    ck_assert_int_eq(js_snippet_find(&r, &nr, text, len, q, 0, finds[_i].flags),
                     0);
    char *got = mark(text, len, r, nr);
    ck_assert_msg(!strcmp(got, finds[_i].marked), "%s:\n got: %s\nwant: %s",
                  finds[_i].name, got, finds[_i].marked);
    if (nr == 0)
        ck_assert_ptr_null(r);
    free(got);
    free(r);
    free(text);
    js_query_free(q);
}
END_TEST

START_TEST(test_find_no_fold)
{
    js_qnode *q = NULL;
    ck_assert_int_eq(js_query_parse(&q, "學院", 6, JS_ANALYZE_NO_FOLD, NULL, 0),
                     0);
    const char *text = "学院 學院";
    js_range *r;
    size_t n;
    ck_assert_int_eq(js_snippet_find(&r, &n, text, strlen(text), q,
                                     JS_ANALYZE_NO_FOLD, 0),
                     0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(r[0].start, 7);
    ck_assert_uint_eq(r[0].end, 13);
    free(r);
    js_query_free(q);
}
END_TEST

START_TEST(test_find_arguments)
{
    js_range *r = NULL;
    size_t n = 5;
    js_qnode *q = parse("a");
    ck_assert_int_eq(js_snippet_find(&r, &n, "a", 1, NULL, 0, 0), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(js_snippet_find(&r, &n, NULL, 0, q, 0, 0), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(js_snippet_find(&r, &n, NULL, 3, q, 0, 0), JS_EINVALID);
    ck_assert_int_eq(js_snippet_find(NULL, &n, "a", 1, q, 0, 0), JS_EINVALID);

    /* more than twice the section limit */
    size_t big = (size_t)JS_SECTION_MAX_BYTES * 2 + 1;
    char *t = malloc(big);
    ck_assert_ptr_nonnull(t);
    memset(t, 'a', big);
    n = 7;
    ck_assert_int_eq(js_snippet_find(&r, &n, t, big, q, 0, 0), JS_ELIMIT);
    ck_assert_uint_eq(n, 7); /* untouched */
    free(t);
    js_query_free(q);
}
END_TEST

/* A 4 MiB body of one repeated character and a query of 1000 characters
 * of it (500 units, every one matching everywhere): the worst case for
 * anchoring on a unit and checking the others, done in well under the
 * test's timeout; then the same with a rare unit at the end. */
START_TEST(test_find_worst_case)
{
    const size_t nchars = (4u << 20) / 3;
    char *t = malloc(nchars * 3 + 1);
    ck_assert_ptr_nonnull(t);
    for (size_t k = 0; k < nchars; k++)
        memcpy(t + 3 * k, "哈", 3);
    char query[3001 + 8];
    for (size_t k = 0; k < 1000; k++)
        memcpy(query + 3 * k, "哈", 3);
    query[3000] = 0;
    js_qnode *q = parse(query);
    ck_assert_uint_eq(q->nunits, 500);
    js_range *r;
    size_t n;
    ck_assert_int_eq(js_snippet_find(&r, &n, t, nchars * 3, q, 0, 0), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(r[0].start, 0);
    ck_assert_uint_eq(r[0].end, nchars * 3);
    free(r);
    js_query_free(q);

    memcpy(query + 3000, "x", 2);
    memcpy(t + 3 * (nchars / 2), "x", 1); /* a word, then two bad bytes */
    q = parse(query);
    ck_assert_int_eq(js_snippet_find(&r, &n, t, nchars * 3, q, 0, 0), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(r[0].end, 3 * (nchars / 2) + 1);
    ck_assert_uint_eq(r[0].start, 3 * (nchars / 2) - 3000);
    free(r);
    js_query_free(q);
    free(t);
}
END_TEST

/* ------------------------------------------------------------------
 * find against a naive matcher written from the definition: a leaf
 * matches at p when each unit's term stands at p + rel; the range runs
 * from the least start to the greatest end of the tokens matched.
 * ---------------------------------------------------------------- */

typedef struct {
    js_token_kind kind;
    uint32_t pos;
    size_t start, end;
    char term[JS_TERM_MAX_BYTES + 1];
} ntok;

typedef struct {
    ntok *v;
    size_t n, cap;
} ntoks;

static int naive_token(void *ctx, const js_token *t)
{
    ntoks *a = ctx;
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 64;
        a->v = realloc(a->v, a->cap * sizeof *a->v);
        if (!a->v)
            abort();
    }
    ntok *x = &a->v[a->n++];
    x->kind = t->kind;
    x->pos = t->position;
    x->start = t->start;
    x->end = t->end;
    memcpy(x->term, t->term, t->term_len);
    x->term[t->term_len] = 0;
    return 0;
}

static const ntok *naive_at(const ntoks *a, uint32_t pos, const js_qunit *u)
{
    for (size_t k = 0; k < a->n; k++)
        if (a->v[k].pos == pos && a->v[k].kind == u->kind &&
            !strcmp(a->v[k].term, u->term))
            return &a->v[k];
    return NULL;
}

static void naive_leaf(const ntoks *a, const js_qunit *u, uint32_t n,
                       js_range *out, size_t *nout)
{
    for (uint32_t p = 0; a->n && p <= a->v[a->n - 1].pos; p++) {
        size_t s = SIZE_MAX, e = 0;
        uint32_t k;
        for (k = 0; k < n; k++) {
            const ntok *t = naive_at(a, p + u[k].rel, &u[k]);
            if (!t)
                break;
            s = t->start < s ? t->start : s;
            e = t->end > e ? t->end : e;
        }
        if (k == n)
            out[(*nout)++] = (js_range){s, e};
    }
}

static void naive_walk(const ntoks *a, const js_qnode *q, unsigned flags,
                       js_range *out, size_t *nout)
{
    if (q->op == JS_Q_NOT)
        return;
    if (q->op == JS_Q_LEAF) {
        if (q->heading_only && !(flags & HEAD))
            return;
        if (flags & GRAMS)
            for (uint32_t k = 0; k < q->ngrams; k++) {
                js_qunit g = q->grams[k];
                g.rel = 0;
                naive_leaf(a, &g, 1, out, nout);
            }
        else
            naive_leaf(a, q->units, q->nunits, out, nout);
        return;
    }
    for (uint32_t k = 0; k < q->nkids; k++)
        naive_walk(a, q->kids[k], flags, out, nout);
}

static int cmp_range(const void *x, const void *y)
{
    const js_range *a = x, *b = y;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return a->end < b->end ? -1 : a->end > b->end;
}

/* Returns the naive ranges, sorted and merged (caller frees). */
static js_range *naive_find(const char *text, size_t len, const js_qnode *q,
                            unsigned flags, size_t *n)
{
    ntoks a = {0};
    js_text_analyze(text, len, NULL, naive_token, &a);
    size_t room = a.n * 64 + 1, m = 0;
    js_range *r = malloc(room * sizeof *r);
    ck_assert_ptr_nonnull(r);
    naive_walk(&a, q, flags, r, &m);
    qsort(r, m, sizeof *r, cmp_range);
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (k && r[i].start <= r[k - 1].end) {
            if (r[i].end > r[k - 1].end)
                r[k - 1].end = r[i].end;
        } else {
            r[k++] = r[i];
        }
    }
    free(a.v);
    *n = k;
    return r;
}

static void compare_with_naive(const char *text, size_t len, const char *query,
                               size_t qlen, unsigned flags, int iter)
{
    js_qnode *q = NULL;
    if (js_query_parse(&q, query, qlen, 0, NULL, 0))
        return;
    js_range *r = NULL, *w;
    size_t n = 0, nw;
    ck_assert_int_eq(js_snippet_find(&r, &n, text, len, q, 0, flags), 0);
    w = naive_find(text, len, q, flags, &nw);
    int same = n == nw;
    for (size_t k = 0; same && k < n; k++)
        same = r[k].start == w[k].start && r[k].end == w[k].end;
    if (!same) {
        char *g = mark(text, len, r, n), *x = mark(text, len, w, nw);
        ck_abort_msg("iteration %d, query %.*s, flags %u:\n got: %s\nwant: %s",
                     iter, (int)qlen, query, flags, g, x);
    }
    for (size_t k = 0; k < n; k++) /* on character boundaries */
        ck_assert(js_utf8_valid(text + r[k].start, r[k].end - r[k].start,
                                NULL) ||
                  !js_utf8_valid(text, len, NULL));
    free(r);
    free(w);
    js_query_free(q);
}

START_TEST(test_find_property_naive)
{
    static const char *const tpieces[] = {
        "工", "匠", "學", "学", "院", "哈", "a", "1", " ", "，", "\xFF",
        "㍻", "-", "\xE2\x80\x8B" /* zero-width space */};
    static const char *const qpieces[] = {
        "工匠", "学院", "學", "哈", "哈哈", "a", "1", " ", "-", " OR ",
        "title:", "\"", "(", ")", "平成", "匠学"};
    static char text[400], query[60];
    uint64_t st = 0xD1B54A32D192ED03ull;
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = tu_random_pieces(text, sizeof text, sizeof text, tpieces,
                                      sizeof tpieces / sizeof *tpieces, &st);
        size_t qlen = tu_random_pieces(query, sizeof query, sizeof query,
                                       qpieces,
                                       sizeof qpieces / sizeof *qpieces, &st);
        compare_with_naive(text, len, query, qlen, tu_rnd(&st) % 4, iter);
    }
}
END_TEST

/* Long repetitive texts and long runs, where the bitset path wins. */
START_TEST(test_find_property_bitsets)
{
    static const char *const tpieces[] = {"哈", "哈", "哈", "哈", "哈", "哈",
                                          "呵", "a", " "};
    static const char *const qpieces[] = {"哈", "哈", "哈", "哈", "呵", "a"};
    static char text[6000], query[200];
    uint64_t st = 0x8BB84B93962EACC9ull;
    for (int iter = 0; iter < 200; iter++) {
        size_t len = tu_random_pieces(text, sizeof text, sizeof text, tpieces,
                                      sizeof tpieces / sizeof *tpieces, &st);
        size_t qlen = tu_random_pieces(query, sizeof query, sizeof query,
                                       qpieces,
                                       sizeof qpieces / sizeof *qpieces, &st);
        if (iter % 2) { /* two leaves */
            query[qlen++] = ' ';
            qlen += tu_random_pieces(query + qlen, sizeof query - qlen, 40,
                                     qpieces, sizeof qpieces / sizeof *qpieces,
                                     &st);
        }
        compare_with_naive(text, len, query, qlen, 0, iter);
    }
}
END_TEST

/* ------------------------------------------------------------------
 * The excerpt
 * ---------------------------------------------------------------- */

static const struct {
    const char *name;
    const char *marked; /* the text, with the ranges handed in marked */
    size_t width;
    const char *want; /* the excerpt, with its highlights marked */
} makes[] = {
    {"empty text", "", 20, ""},
    {"only white space", " \t\n ", 20, ""},
    {"short text whole", "我们的【工匠學院】在城东。", 20,
     "我们的【工匠學院】在城东。"},
    {"no ranges: the beginning", "春天来了，花都开了，小草也绿了，燕子飞回来了。", 10,
     "春天来了，花都开了，…"},
    {"no ranges, short", "春天来了", 10, "春天来了"},
    {"white space collapses and trims", "  a \t\n 【b】\r\n  c  ", 20,
     "a 【b】 c"},
    {"collapsed inside a range", "x 【foo \t bar】 y", 20, "x 【foo bar】 y"},
    {"clause start before the match",
     "前面有很多很多的文字，一直写到这里。我们的【工匠學院】在城东，离车站不远，步行十分钟。",
     20, "…我们的【工匠學院】在城东，离车站不远，步行十…"},
    {"line break is a clause start",
     "前面有很多很多的文字一直写到这里\n我们的【工匠】在城东离车站不远步行十分钟可以到达", 16,
     "…我们的【工匠】在城东离车站不远步行十…"},
    {"ASCII full stop before a space",
     "Some words come first here. Then 【match】 sits in the middle of it all", 24,
     "…Then 【match】 sits in the m…"},
    {"no clause start: a few characters before",
     "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十【工匠】一二三四五六七八九十一二三四五六七八九十", 20,
     "…三四五六七八九十【工匠】一二三四五六七八九十…"},
    {"cluster of distinct matches wins",
     "【工匠】一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二【学院】三【城东】四五六七八九十", 12,
     "…十一二【学院】三【城东】四五六七…"},
    {"distinct beats repeated",
     "【工匠】一【工匠】二【工匠】三四五六七八九十一二三四五六七八九十一二三四五六七八九十【学院】一【城东】二三四五", 12,
     "…八九十【学院】一【城东】二三四五"},
    {"repeated beats single",
     "【工匠】一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十【工匠】一【工匠】二三四五六七八九十一二", 12,
     "…八九十【工匠】一【工匠】二三四五…"},
    {"earliest on a tie",
     "一二三【工匠】四五六七八九十一二三四五六七八九十一二三四五六七八九十【工匠】一二三四五六七八九十", 10,
     "一二三【工匠】四五六七八…"},
    {"end of text: shifted back to fill",
     "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十【工匠】", 10,
     "…三四五六七八九十【工匠】"},
    {"long match is not cut",
     "前文【一二三四五六七八九十一二三四五六七八九十】后文还有很多很多", 10,
     "…【一二三四五六七八九十一二三四五六七八九十】…"},
    {"match at the edge of the window is dropped, not cut",
     "【甲】一二三四五六七【乙丙丁戊己庚辛壬癸子丑寅卯辰巳午】未申", 12,
     "【甲】一二三四五六七…"},
    {"4-byte characters",
     "\xF0\xA0\x80\x80\xF0\xA0\x80\x81\xF0\xA0\x80\x82\xF0\xA0\x80\x83"
     "\xF0\xA0\x80\x84\xF0\xA0\x80\x85\xF0\xA0\x80\x86\xF0\xA0\x80\x87"
     "\xF0\xA0\x80\x88\xF0\xA0\x80\x89\xF0\xA0\x80\x8A\xF0\xA0\x80\x8B"
     "【\xF0\xA0\x80\x8C】",
     10,
     "…\xF0\xA0\x80\x83\xF0\xA0\x80\x84\xF0\xA0\x80\x85\xF0\xA0\x80\x86"
     "\xF0\xA0\x80\x87\xF0\xA0\x80\x88\xF0\xA0\x80\x89\xF0\xA0\x80\x8A"
     "\xF0\xA0\x80\x8B【\xF0\xA0\x80\x8C】"},
    {"invalid bytes become U+FFFD", "a\xFF【b】\xC0\xAF" "c", 20,
     "a\xEF\xBF\xBD【b】\xEF\xBF\xBD\xEF\xBF\xBD" "c"},
    {"truncated character at the end", "【工】匠\xE5\xAD", 20,
     "【工】匠\xEF\xBF\xBD\xEF\xBF\xBD"},
    {"control characters become a space", "a\x01\x02【b】\x7F" "c", 20,
     "a 【b】 c"},
    {"width below 10 counts as 10", "一二三四五六七八九十一二三", 3,
     "一二三四五六七八九十…"},
};

START_TEST(test_make_table)
{
    char *text;
    size_t len, n;
    js_range r[16];
    unmark(makes[_i].marked, &text, &len, r, &n);
    js_snippet s;
    ck_assert_int_eq(js_snippet_make(&s, text, len, r, n, makes[_i].width), 0);
    ck_assert_uint_eq(strlen(s.text), s.len);
    ck_assert(js_utf8_valid(s.text, s.len, NULL));
    char *got = mark(s.text, s.len, s.hl, s.nhl);
    ck_assert_msg(!strcmp(got, makes[_i].want), "%s:\n got: %s\nwant: %s",
                  makes[_i].name, got, makes[_i].want);
    if (s.nhl == 0)
        ck_assert_ptr_null(s.hl);
    free(got);
    js_snippet_clear(&s);
    js_snippet_clear(&s); /* twice is fine */
    free(text);
}
END_TEST

/* Ranges not sorted, overlapping, empty or past the end are skipped, not
 * believed. */
START_TEST(test_make_bad_ranges)
{
    const char *t = "工匠学院在城东";
    js_range r[] = {{6, 12}, {3, 9}, {9, 9}, {15, 100}, {200, 300}};
    js_snippet s;
    ck_assert_int_eq(js_snippet_make(&s, t, strlen(t), r, 5, 20), 0);
    char *got = mark(s.text, s.len, s.hl, s.nhl);
    ck_assert_str_eq(got, "工匠【学院】在【城东】");
    free(got);
    js_snippet_clear(&s);
    ck_assert_int_eq(js_snippet_make(&s, NULL, 5, NULL, 3, 20), 0);
    ck_assert_str_eq(s.text, "");
    js_snippet_clear(&s);
    ck_assert_int_eq(js_snippet_make(NULL, t, 3, NULL, 0, 20), JS_EINVALID);
    js_snippet_clear(NULL);
}
END_TEST

/* Collapses white space runs of s[0..n) like the excerpt does, trimmed,
 * bad bytes as U+FFFD (caller frees). */
static char *collapse(const char *s, size_t n)
{
    char *o = malloc(3 * n + 1);
    ck_assert_ptr_nonnull(o);
    size_t k = 0;
    int pend = 0;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t l = js_utf8_decode((const unsigned char *)s + i, n - i, &c);
        if (c != JS_UTF8_INVALID &&
            (c <= 0x20 || c == 0x7F || (c >= 0x80 && c <= 0xA0) ||
             c == 0x3000 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
             c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F)) {
            pend = k > 0;
        } else {
            if (pend)
                o[k++] = ' ';
            pend = 0;
            if (c == JS_UTF8_INVALID) {
                memcpy(o + k, "\xEF\xBF\xBD", 3);
                k += 3;
            } else {
                memcpy(o + k, s + i, l);
                k += l;
            }
        }
        i += l;
    }
    o[k] = 0;
    return o;
}

static size_t count_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* Checks an excerpt made from text and ranges r[0..n): valid UTF-8,
 * highlights inside, sorted, disjoint, non-empty, each the collapsed text
 * of one input range, in order. */
static void check_excerpt(const js_snippet *s, const char *text,
                          const js_range *r, size_t n, int iter)
{
    ck_assert_msg(js_utf8_valid(s->text, s->len, NULL),
                  "iteration %d: excerpt is not UTF-8", iter);
    ck_assert_uint_eq(strlen(s->text), s->len);
    size_t next = 0;
    for (size_t k = 0; k < s->nhl; k++) {
        const js_range *h = &s->hl[k];
        ck_assert_msg(h->start < h->end && h->end <= s->len,
                      "iteration %d: highlight out of bounds", iter);
        ck_assert_msg(!k || s->hl[k - 1].end <= h->start,
                      "iteration %d: highlights overlap", iter);
        ck_assert(js_utf8_valid(s->text + h->start, h->end - h->start, NULL));
        int found = 0;
        while (next < n && !found) {
            char *c = collapse(text + r[next].start, r[next].end - r[next].start);
            found = strlen(c) == h->end - h->start &&
                    !memcmp(c, s->text + h->start, h->end - h->start);
            free(c);
            next++;
        }
        ck_assert_msg(found, "iteration %d: highlight %zu is no input range",
                      iter, k);
    }
}

START_TEST(test_make_property)
{
    static const char *const pieces[] = {
        "工", "匠", "學", "院", "。", "，", "a", "Z", " ", "  ", "\t", "\n",
        "\xF0\xA0\x80\x80", "\xFF", "\xE5\xAD", "é", "\x01", "!", ". "};
    static char text[800];
    uint64_t st = 0x3C6EF372FE94F82Bull;
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = tu_random_pieces(text, sizeof text, sizeof text, pieces,
                                      sizeof pieces / sizeof *pieces, &st);
        /* character boundaries, as the decoder sees them */
        size_t bounds[sizeof text + 1], nb = 0;
        for (size_t i = 0; i < len;) {
            uint32_t c;
            bounds[nb++] = i;
            i += js_utf8_decode((const unsigned char *)text + i, len - i, &c);
        }
        bounds[nb++] = len;
        js_range r[12];
        size_t n = 0, at = 0, longest = 0;
        size_t want = tu_rnd(&st) % 12;
        while (n < want && at + 1 < nb) {
            size_t a = at + tu_rnd(&st) % (nb - at);
            if (a + 1 >= nb)
                break;
            size_t b = a + 1 + tu_rnd(&st) % (tu_rnd(&st) % 2 ? 3 : nb - a - 1);
            if (b >= nb)
                b = nb - 1;
            r[n++] = (js_range){bounds[a], bounds[b]};
            char *c = collapse(text + bounds[a], bounds[b] - bounds[a]);
            size_t cl = count_chars(c, strlen(c));
            free(c);
            longest = cl > longest ? cl : longest;
            at = b + tu_rnd(&st) % 2;
        }
        size_t width = 10 + tu_rnd(&st) % 60;
        js_snippet s;
        ck_assert_int_eq(js_snippet_make(&s, text, len, r, n, width), 0);
        check_excerpt(&s, text, r, n, iter);
        /* about width characters, plus the two ellipses, unless a match
         * alone is longer */
        size_t chars = count_chars(s.text, s.len);
        char *all = collapse(text, len);
        /* and not much less: only a match left out whole (not cut) may
         * take its length off */
        if (count_chars(all, strlen(all)) > 2 * width + 8)
            ck_assert_msg(chars + longest + 8 >= width,
                          "iteration %d: only %zu characters", iter, chars);
        free(all);
        js_snippet_clear(&s);
    }
}
END_TEST

/* find then make: each highlight shows exactly the matched text, white
 * space collapsed. */
static const struct {
    const char *query;
    const char *text;
    size_t width;
    const char *want;
} pipeline[] = {
    {"工匠学院 城东",
     "学校简介：本校创办已久，师生众多。我们的工匠學院坐落在城东，"
     "离车站不远，步行十分钟即可到达。校园里有图书馆、食堂和运动场。",
     30, "…我们的【工匠學院】坐落在【城东】，离车站不远，步行十分钟即可到达。校…"},
    {"\"foo bar\"", "intro text here. Then foo   \n bar appears", 30,
     "…text here. Then 【foo bar】 appears"},
    {"2023年8月 会议", "通知\n\n定于2023年8月召开年度会议，请准时出席。", 20,
     "…定于【2023年8月】召开年度【会议】，请准时出…"},
};

START_TEST(test_find_then_make)
{
    js_qnode *q = parse(pipeline[_i].query);
    const char *t = pipeline[_i].text;
    js_range *r;
    size_t n;
    ck_assert_int_eq(js_snippet_find(&r, &n, t, strlen(t), q, 0, 0), 0);
    js_snippet s;
    ck_assert_int_eq(js_snippet_make(&s, t, strlen(t), r, n, pipeline[_i].width),
                     0);
    check_excerpt(&s, t, r, n, (int)_i);
    char *got = mark(s.text, s.len, s.hl, s.nhl);
    ck_assert_msg(!strcmp(got, pipeline[_i].want), "\n got: %s\nwant: %s", got,
                  pipeline[_i].want);
    free(got);
    js_snippet_clear(&s);
    free(r);
    js_query_free(q);
}
END_TEST

/* Every allocation of find and of make fails in turn: JS_ENOMEM, outputs
 * untouched or empty, nothing leaked. */
START_TEST(test_allocation_failures)
{
    js_qnode *q = parse("工匠学院 城东 a OR 哈哈哈 title:x -y");
    const char *t = "我们的工匠學院在城东 a 哈哈哈哈 x y，"
                    "工匠学院又在城东。哈哈哈 a";
    size_t len = strlen(t);
    for (unsigned flags = 0; flags < 4; flags++) {
        int failed = 0;
        for (unsigned long k = 1; k < 1000; k++) {
            js_range *r = (js_range *)0x1;
            size_t n = 77;
            js_query_failpoint = k;
            int rc = js_snippet_find(&r, &n, t, len, q, 0, flags);
            int untouched = js_query_failpoint != 0;
            js_query_failpoint = 0;
            if (rc == JS_ENOMEM) {
                ck_assert_uint_eq(n, 77);
                failed++;
                continue;
            }
            ck_assert_int_eq(rc, 0);
            ck_assert(untouched);
            ck_assert_uint_gt(n, 0);
            for (unsigned long m = 1; m < 1000; m++) {
                js_snippet s;
                js_query_failpoint = m;
                rc = js_snippet_make(&s, t, len, r, n, 12);
                untouched = js_query_failpoint != 0;
                js_query_failpoint = 0;
                if (rc == JS_ENOMEM) {
                    ck_assert_ptr_null(s.text);
                    ck_assert_ptr_null(s.hl);
                    continue;
                }
                ck_assert_int_eq(rc, 0);
                ck_assert(untouched);
                js_snippet_clear(&s);
                break;
            }
            free(r);
            break;
        }
        ck_assert_int_gt(failed, 3);
    }
    js_query_free(q);
}
END_TEST

static Suite *snippet_suite(void)
{
    Suite *s = suite_create("snippet");
    TCase *tc = tcase_create("find");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_find_table, 0, sizeof finds / sizeof *finds);
    tcase_add_test(tc, test_find_no_fold);
    tcase_add_test(tc, test_find_arguments);
    tcase_add_test(tc, test_find_worst_case);
    tcase_add_test(tc, test_find_property_naive);
    tcase_add_test(tc, test_find_property_bitsets);
    suite_add_tcase(s, tc);
    tc = tcase_create("make");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_make_table, 0, sizeof makes / sizeof *makes);
    tcase_add_test(tc, test_make_bad_ranges);
    tcase_add_test(tc, test_make_property);
    tcase_add_loop_test(tc, test_find_then_make, 0,
                        sizeof pipeline / sizeof *pipeline);
    tcase_add_test(tc, test_allocation_failures);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(snippet_suite(), 0);
}
