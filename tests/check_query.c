/*
 * check_query.c — the query language (js_query_parse, js_query_format):
 * parts, phrases, groups, exclusions, OR, title:, normalisation, limits
 * and malformed input.
 *
 * The main table gives a query and either the whole expected tree in
 * js_query_format's form or the expected error code and a piece of its
 * message; a second table checks the leaf fields the format does not
 * show (grams, span, text).  Then limits, a property test over random
 * bytes and token soups that checks the normalisation invariants, and
 * allocation failures injected one by one.  Prefixes (word*): their
 * parsing in the table, their expansion (js_query_expand) with a lister
 * of invented words, the 50-word bound against brute force.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "testutil.h"
#include "utf8.h"

#define NOFOLD JS_ANALYZE_NO_FOLD
#define EINV JS_EINVALID

static const struct {
    const char *name;
    const char *in;
    size_t len; /* 0: strlen(in) */
    unsigned flags;
    int rc;
    const char *want; /* the format, or a piece of the error message */
} cases[] = {
    /* CJK runs: a unigram alone, else bigrams at 0, 2, ... and the last */
    {"one character", "学", 0, 0, 0, "\"学@0\""},
    {"one Traditional character", "學", 0, 0, 0, "\"学@0\""},
    {"two characters", "工匠", 0, 0, 0, "\"工匠@0\""},
    {"three characters", "工匠學", 0, 0, 0, "\"工匠@0 匠学@1\""},
    {"four characters", "工匠學院", 0, 0, 0, "\"工匠@0 学院@2\""},
    {"five characters", "城東工匠學", 0, 0, 0, "\"城东@0 工匠@2 匠学@3\""},
    {"eight characters", "一二三四五六七八", 0, 0, 0,
     "\"一二@0 三四@2 五六@4 七八@6\""},
    {"Simplified and Traditional agree", "学院", 0, 0, 0, "\"学院@0\""},
    {"no fold keeps Traditional", "學院", 0, NOFOLD, 0, "\"學院@0\""},
    {"kana", "カタカナ", 0, 0, 0, "\"カタ@0 カナ@2\""},
    {"expansion", "㍻", 0, 0, 0, "\"平成@0\""},
    {"extension B", "\xF0\xA0\x80\x80人", 0, 0, 0, "\"\xF0\xA0\x80\x80人@0\""},
    /* mixed scripts and Latin */
    {"digits and Han", "2023年8月", 0, 0, 0, "\"2023@0 年@1 8@2 月@3\""},
    {"letter and Han", "C语言", 0, 0, 0, "\"c@0 语言@1\""},
    {"case folds", "Hello WORLD", 0, 0, 0, "(AND \"hello@0\" \"world@0\")"},
    {"full-width", "ＡＢＣ１２", 0, 0, 0, "\"abc12@0\""},
    {"hyphen inside a part keeps the gap", "foo-bar", 0, 0, 0,
     "\"foo@0 bar@2\""},
    {"punctuation inside a part", "工匠，學院", 0, 0, 0, "\"工匠@0 学院@3\""},
    {"ideographic space separates", "工匠\xE3\x80\x80学院", 0, 0, 0,
     "(AND \"工匠@0\" \"学院@0\")"},
    {"no-break space separates", "a\xC2\xA0" "b", 0, 0, 0,
     "(AND \"a@0\" \"b@0\")"},
    /* phrases */
    {"ASCII quotes", "\"a b\" c", 0, 0, 0, "(AND \"a@0 b@2\" \"c@0\")"},
    {"curly quotes", "“工匠 學院”", 0, 0, 0, "\"工匠@0 学院@3\""},
    {"corner brackets", "「城东」 x", 0, 0, 0, "(AND \"城东@0\" \"x@0\")"},
    {"white corner brackets", "『x y』", 0, 0, 0, "\"x@0 y@2\""},
    {"full-width quotes", "＂ab cd＂", 0, 0, 0, "\"ab@0 cd@2\""},
    {"other quotes inside a phrase", "“a \"b\" c”", 0, 0, 0,
     "\"a@0 b@2 c@4\""},
    {"unclosed quote runs to the end", "a \"b c", 0, 0, 0,
     "(AND \"a@0\" \"b@0 c@2\")"},
    {"quote ends a part", "a\"b c\"", 0, 0, 0, "(AND \"a@0\" \"b@0 c@2\")"},
    {"stray closing quote separates", "a”b", 0, 0, 0,
     "(AND \"a@0\" \"b@0\")"},
    {"empty phrase dropped", "\"\" a", 0, 0, 0, "\"a@0\""},
    /* groups */
    {"unclosed parenthesis", "(a b", 0, 0, 0, "(AND \"a@0\" \"b@0\")"},
    {"stray closing parenthesis", "a ) b", 0, 0, 0, "(AND \"a@0\" \"b@0\")"},
    {"leading stray parenthesis", ")a", 0, 0, 0, "\"a@0\""},
    {"group of one part", "((a))", 0, 0, 0, "\"a@0\""},
    {"nested ANDs flatten", "a (b (c d))", 0, 0, 0,
     "(AND \"a@0\" \"b@0\" \"c@0\" \"d@0\")"},
    {"nested ORs flatten", "(a OR (b OR c)) d", 0, 0, 0,
     "(AND (OR \"a@0\" \"b@0\" \"c@0\") \"d@0\")"},
    {"full-width parentheses", "（a OR b） c", 0, 0, 0,
     "(AND (OR \"a@0\" \"b@0\") \"c@0\")"},
    {"parenthesis ends a part", "a(b)c", 0, 0, 0,
     "(AND \"a@0\" \"b@0\" \"c@0\")"},
    {"empty group dropped", "() a", 0, 0, 0, "\"a@0\""},
    /* exclusion */
    {"exclusion", "工匠學院 -(a OR b)", 0, 0, 0,
     "(AND \"工匠@0 学院@2\" (NOT (OR \"a@0\" \"b@0\")))"},
    {"lone dash ignored", "- a", 0, 0, 0, "\"a@0\""},
    {"trailing dash ignored", "a -", 0, 0, 0, "\"a@0\""},
    {"double dash", "--x y", 0, 0, 0, "(AND (NOT \"x@0\") \"y@0\")"},
    {"full-width dash", "y －x", 0, 0, 0, "(AND \"y@0\" (NOT \"x@0\"))"},
    {"dash inside a part", "foo-bar -baz", 0, 0, 0,
     "(AND \"foo@0 bar@2\" (NOT \"baz@0\"))"},
    {"excluded phrase", "a -\"b c\"", 0, 0, 0,
     "(AND \"a@0\" (NOT \"b@0 c@2\"))"},
    {"excluded group", "a -(b c)", 0, 0, 0,
     "(AND \"a@0\" (NOT (AND \"b@0\" \"c@0\")))"},
    {"exclusion of exclusions", "b -(-a -c)", 0, 0, 0,
     "(AND \"b@0\" (NOT \"a@0\") (NOT \"c@0\"))"},
    {"group of exclusions flattens", "b (-a -c)", 0, 0, 0,
     "(AND \"b@0\" (NOT \"a@0\") (NOT \"c@0\"))"},
    {"excluded punctuation dropped", "a -，", 0, 0, 0, "\"a@0\""},
    /* OR */
    {"OR", "a OR b", 0, 0, 0, "(OR \"a@0\" \"b@0\")"},
    {"OR binds tighter than AND", "a b OR c", 0, 0, 0,
     "(AND \"a@0\" (OR \"b@0\" \"c@0\"))"},
    {"two ORs", "a OR b c OR d", 0, 0, 0,
     "(AND (OR \"a@0\" \"b@0\") (OR \"c@0\" \"d@0\"))"},
    {"OR chain", "a OR b OR c", 0, 0, 0, "(OR \"a@0\" \"b@0\" \"c@0\")"},
    {"OR at the start is a word", "OR a", 0, 0, 0,
     "(AND \"or@0\" \"a@0\")"},
    {"OR at the end is a word", "a OR", 0, 0, 0, "(AND \"a@0\" \"or@0\")"},
    {"doubled OR is a word", "a OR OR b", 0, 0, 0,
     "(AND \"a@0\" \"or@0\" \"or@0\" \"b@0\")"},
    {"lower-case or is a word", "a or b", 0, 0, 0,
     "(AND \"a@0\" \"or@0\" \"b@0\")"},
    {"OR after an open parenthesis is a word", "(OR a)", 0, 0, 0,
     "(AND \"or@0\" \"a@0\")"},
    {"OR between groups", "(a b) OR c", 0, 0, 0,
     "(OR (AND \"a@0\" \"b@0\") \"c@0\")"},
    {"OR with a group holding an exclusion", "a OR (b -c)", 0, 0, 0,
     "(OR \"a@0\" (AND \"b@0\" (NOT \"c@0\")))"},
    {"OR with a dropped alternative", "a OR ，", 0, 0, 0, "\"a@0\""},
    {"quoted OR is a word", "a \"OR\" b", 0, 0, 0,
     "(AND \"a@0\" \"or@0\" \"b@0\")"},
    /* title: */
    {"title", "title:a", 0, 0, 0, "title:\"a@0\""},
    {"title in capitals on a group", "TITLE:(a OR b)", 0, 0, 0,
     "(OR title:\"a@0\" title:\"b@0\")"},
    {"标题 with full-width colon", "标题：工匠", 0, 0, 0, "title:\"工匠@0\""},
    {"標題 with ASCII colon", "標題:學院 x", 0, 0, 0,
     "(AND title:\"学院@0\" \"x@0\")"},
    {"title on a phrase", "title:\"x y\"", 0, 0, 0, "title:\"x@0 y@2\""},
    {"excluded title", "-title:a b", 0, 0, 0,
     "(AND (NOT title:\"a@0\") \"b@0\")"},
    {"title before an exclusion", "b title:-a", 0, 0, 0,
     "(AND \"b@0\" (NOT title:\"a@0\"))"},
    {"title then a space", "title: x", 0, 0, 0, "title:\"x@0\""},
    {"dangling title ignored", "a title:", 0, 0, 0, "\"a@0\""},
    {"title inside a word is text", "subtitle:foo", 0, 0, 0,
     "\"subtitle@0 foo@2\""},
    /* prefixes: word* */
    {"prefix", "xapi*", 0, 0, 0, "\"xapi*@0\""},
    {"prefix folds case", "XAPI*", 0, 0, 0, "\"xapi*@0\""},
    {"prefix of full-width letters", "ＸＡＰＩ＊", 0, 0, 0, "\"xapi*@0\""},
    {"prefix of digits", "20*", 0, 0, 0, "\"20*@0\""},
    {"prefix under title", "title:inst*", 0, 0, 0, "title:\"inst*@0\""},
    {"stars repeat", "xapi**", 0, 0, 0, "\"xapi*@0\""},
    {"one-letter prefix refused", "a*", 0, 0, EINV,
     "a prefix needs at least 2 characters: 'a*'"},
    {"one-letter prefix refused beside a word", "数据库 X*", 0, 0, EINV,
     "a prefix needs at least 2 characters: 'x*'"},
    {"two-letter prefix", "ab*", 0, 0, 0, "\"ab*@0\""},
    {"non-Latin prefix", "Ωμ*", 0, 0, 0, "\"ωμ*@0\""},
    {"star after a CJK run is dropped", "工匠学*", 0, 0, 0,
     "\"工匠@0 匠学@1\""},
    {"star after punctuation is dropped", "xapi.*", 0, 0, 0, "\"xapi@0\""},
    {"star inside a word separates", "xa*pi", 0, 0, 0, "\"xa@0 pi@2\""},
    {"lone star", "*", 0, 0, EINV, "the query has no searchable terms"},
    {"two stars", "**", 0, 0, EINV, "the query has no searchable terms"},
    {"lone star beside a word", "* a", 0, 0, 0, "\"a@0\""},
    {"star in a phrase is punctuation", "\"xapi*\"", 0, 0, 0,
     "\"xapi@0\""},
    {"prefix OR word", "foo* OR bar", 0, 0, 0,
     "(OR \"foo*@0\" \"bar@0\")"},
    {"excluded prefix", "a -foo*", 0, 0, 0,
     "(AND \"a@0\" (NOT \"foo*@0\"))"},
    {"only an excluded prefix", "-foo*", 0, 0, EINV, "only excludes"},
    {"prefix after a CJK run in one part", "数据库xapi*", 0, 0, 0,
     "(AND \"数据@0 据库@1\" \"xapi*@0\")"},
    {"prefix ending a hyphenated part", "foo-bar*", 0, 0, 0,
     "(AND \"foo@0\" \"bar*@0\")"},
    {"split prefix in OR", "x OR a-bc*", 0, 0, 0,
     "(OR \"x@0\" (AND \"a@0\" \"bc*@0\"))"},
    {"split prefix under title", "title:a-bc*", 0, 0, 0,
     "(AND title:\"a@0\" title:\"bc*@0\")"},
    /* bad bytes */
    {"invalid byte inside a part", "工匠\xFF學院", 0, 0, 0,
     "\"工匠@0 学院@3\""},
    {"truncated character at the end", "学\xE5\xAD", 0, 0, 0, "\"学@0\""},
    {"NUL separates parts", "a\0b", 3, 0, 0, "(AND \"a@0\" \"b@0\")"},
    {"NUL inside a phrase", "\"a\0b\"", 5, 0, 0, "\"a@0 b@2\""},
    {"only invalid bytes", "\xC0\xFF\xFE", 0, 0, EINV, "no searchable terms"},
    /* errors */
    {"empty", "", 0, 0, EINV, "the query has no searchable terms"},
    {"only white space", " \t\n　", 0, 0, EINV, "no searchable terms"},
    {"only punctuation", "，。！?", 0, 0, EINV, "no searchable terms"},
    {"only empty groups and phrases", "() \"\" （）", 0, 0, EINV,
     "no searchable terms"},
    {"only a dash", "-", 0, 0, EINV, "no searchable terms"},
    {"only exclusions", "-a -b", 0, 0, EINV,
     "the query only excludes; add a part to search for"},
    {"only an excluded group", "-(a b)", 0, 0, EINV, "only excludes"},
    {"double exclusion still excludes", "-(-a)", 0, 0, EINV,
     "only excludes"},
    {"exclusion before OR", "-a OR b", 0, 0, EINV,
     "an excluded part cannot be an alternative of OR"},
    {"exclusion after OR", "a OR -b", 0, 0, EINV, "alternative of OR"},
    {"excluded group in OR", "a OR (-b)", 0, 0, EINV, "alternative of OR"},
};

START_TEST(test_parse_table)
{
    size_t len = cases[_i].len ? cases[_i].len : strlen(cases[_i].in);
    js_qnode *q = NULL;
    char err[256] = "";
    int rc = js_query_parse(&q, cases[_i].in, len, cases[_i].flags, err,
                            sizeof err);
    ck_assert_msg(rc == cases[_i].rc, "%s: rc %d, want %d (%s)",
                  cases[_i].name, rc, cases[_i].rc, err);
    if (rc == 0) {
        char *got = js_query_format(q);
        ck_assert_ptr_nonnull(got);
        ck_assert_msg(!strcmp(got, cases[_i].want), "%s:\n got: %s\nwant: %s",
                      cases[_i].name, got, cases[_i].want);
        free(got);
        js_query_free(q);
    } else {
        ck_assert_msg(strstr(err, cases[_i].want), "%s: message \"%s\"",
                      cases[_i].name, err);
        /* English, lower case start, no trailing period */
        ck_assert(err[0] >= 'a' && err[0] <= 'z');
        ck_assert(err[strlen(err) - 1] != '.');
    }
}
END_TEST

/* Leaf fields the format does not show. */
static const struct {
    const char *in;
    size_t len; /* 0: strlen(in) */
    const char *grams; /* term@rel, space-separated */
    uint32_t span;
    const char *text;
    int quoted, heading;
} leaves[] = {
    {"工匠學院", 0, "工匠@0 匠学@1 学院@2", 4, "工匠學院", 0, 0},
    {"工匠學", 0, "工匠@0 匠学@1", 3, "工匠學", 0, 0},
    {"学", 0, "学@0", 1, "学", 0, 0},
    {"哈哈哈哈", 0, "哈哈@0", 4, "哈哈哈哈", 0, 0},
    {"2023年8月", 0, "2023@0 年@1 8@2 月@3", 4, "2023年8月", 0, 0},
    {"“工匠 學院”", 0, "工匠@0 学院@3", 5, "工匠 學院", 1, 0},
    {"title:a-a", 0, "a@0", 3, "a-a", 0, 1},
    {"中，文，中", 0, "中@0 文@2", 5, "中，文，中", 0, 0},
    {"工匠\xFF", 0, "工匠@0", 2, "工匠\xEF\xBF\xBD", 0, 0},
    {"\"a\0b\"", 5, "a@0 b@2", 3, "a\xEF\xBF\xBD" "b", 1, 0},
};

START_TEST(test_leaf_fields)
{
    const char *in = leaves[_i].in;
    size_t len = leaves[_i].len ? leaves[_i].len : strlen(in);
    js_qnode *q = NULL;
    ck_assert_int_eq(js_query_parse(&q, in, len, 0, NULL, 0), 0);
    ck_assert_int_eq(q->op, JS_Q_LEAF);
    tu_render r = {0};
    tu_appendf(&r, "%s", "");
    for (uint32_t k = 0; k < q->ngrams; k++)
        tu_appendf(&r, "%s%s@%u", k ? " " : "", q->grams[k].term,
                   q->grams[k].rel);
    ck_assert_str_eq(r.buf, leaves[_i].grams);
    ck_assert_uint_eq(q->span, leaves[_i].span);
    ck_assert_str_eq(q->text, leaves[_i].text);
    ck_assert_int_eq(q->quoted, leaves[_i].quoted);
    ck_assert_int_eq(q->heading_only, leaves[_i].heading);
    free(r.buf);
    js_query_free(q);
}
END_TEST

/* Fills buf with n bytes of query: "(" * depth + "a" + ")" * depth. */
static size_t nested(char *buf, int depth)
{
    size_t n = 0;
    for (int k = 0; k < depth; k++)
        buf[n++] = '(';
    buf[n++] = 'a';
    for (int k = 0; k < depth; k++)
        buf[n++] = ')';
    return n;
}

START_TEST(test_limits)
{
    static char buf[10000];
    char err[128];
    js_qnode *q = NULL;

    /* 32 levels are fine, 33 and 40 are too deep, also unclosed */
    size_t n = nested(buf, JS_QUERY_MAX_DEPTH);
    ck_assert_int_eq(js_query_parse(&q, buf, n, 0, err, sizeof err), 0);
    js_query_free(q);
    n = nested(buf, JS_QUERY_MAX_DEPTH + 1);
    ck_assert_int_eq(js_query_parse(&q, buf, n, 0, err, sizeof err),
                     JS_ELIMIT);
    ck_assert_str_eq(err, "parentheses are nested more than 32 deep");
    n = nested(buf, 40);
    ck_assert_int_eq(js_query_parse(&q, buf, 40, 0, err, sizeof err),
                     JS_ELIMIT);
    /* many groups side by side are not deep */
    for (n = 0; n + 3 <= 3000; n += 3)
        memcpy(buf + n, "(a)", 3);
    ck_assert_int_eq(js_query_parse(&q, buf, n, 0, err, sizeof err), 0);
    ck_assert_uint_eq(q->nkids, 1000);
    js_query_free(q);

    /* 4096 bytes are fine, 4097 and 10000 are not */
    for (size_t k = 0; k < sizeof buf; k++)
        buf[k] = (char)("哈哈 a1"[k % 9]);
    memcpy(buf, "工匠", 6);
    ck_assert_int_eq(
        js_query_parse(&q, buf, JS_QUERY_MAX_BYTES, 0, err, sizeof err), 0);
    js_query_free(q);
    ck_assert_int_eq(js_query_parse(&q, buf, JS_QUERY_MAX_BYTES + 1, 0, err,
                                    sizeof err),
                     JS_ELIMIT);
    ck_assert_int_eq(js_query_parse(&q, buf, 10000, 0, err, sizeof err),
                     JS_ELIMIT);
    ck_assert_str_eq(err, "the query is 10000 bytes long; the limit is 4096");

    /* one long CJK run: 1365 characters, bigrams at 0, 2, ... */
    for (n = 0; n + 3 <= JS_QUERY_MAX_BYTES; n += 3)
        memcpy(buf + n, n % 2 ? "匠" : "工", 3);
    ck_assert_int_eq(js_query_parse(&q, buf, n, 0, err, sizeof err), 0);
    ck_assert_int_eq(q->op, JS_Q_LEAF);
    ck_assert_uint_eq(q->span, n / 3);
    ck_assert_uint_eq(q->nunits, (n / 3) / 2 + 1);
    ck_assert_uint_eq(q->ngrams, 2); /* 工匠, 匠工 */
    js_query_free(q);

    /* a tiny err buffer truncates, a NULL one is fine */
    char small[8];
    ck_assert_int_eq(js_query_parse(&q, "", 0, 0, small, sizeof small),
                     JS_EINVALID);
    ck_assert_str_eq(small, "the que");
    ck_assert_int_eq(js_query_parse(&q, "", 0, 0, NULL, 0), JS_EINVALID);
    ck_assert_int_eq(js_query_parse(&q, "", 0, 0, small, 0), JS_EINVALID);
}
END_TEST

START_TEST(test_arguments)
{
    js_qnode *q = (js_qnode *)0x1;
    char err[64];
    ck_assert_int_eq(js_query_parse(NULL, "a", 1, 0, err, sizeof err),
                     JS_EINVALID);
    ck_assert_int_eq(js_query_parse(&q, NULL, 1, 0, err, sizeof err),
                     JS_EINVALID);
    ck_assert_ptr_eq(q, (js_qnode *)0x1); /* untouched on failure */
    ck_assert_int_eq(js_query_parse(&q, NULL, 0, 0, err, sizeof err),
                     JS_EINVALID);
    js_query_free(NULL);
    char *s = js_query_format(NULL);
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

/* The normalisation invariants of query.h, checked on any tree.  Returns
 * NULL when they hold, else what is wrong. */
static const char *check_tree(const js_qnode *q, js_qop parent)
{
    if (!q)
        return "NULL node";
    switch (q->op) {
    case JS_Q_LEAF:
        if (q->kids || q->nkids)
            return "leaf with children";
        if (q->nunits < 1 || !q->units)
            return "leaf without units";
        if (q->ngrams < 1 || !q->grams)
            return "leaf without grams";
        if (!q->text || !js_utf8_valid(q->text, strlen(q->text), NULL))
            return "leaf text not UTF-8";
        if (q->units[0].rel != 0)
            return "first unit not at 0";
        if (q->prefix) {
            size_t chars = 0;
            for (uint32_t i = 0; i < q->units[0].len; i++)
                chars += ((unsigned char)q->units[0].term[i] & 0xC0) != 0x80;
            if (q->nunits != 1 || q->ngrams != 1 ||
                q->units[0].kind != JS_TOKEN_WORD ||
                chars < JS_PREFIX_MIN_CHARS)
                return "prefix not one word of two characters or more";
        }
        for (uint32_t k = 0; k < q->nunits; k++) {
            const js_qunit *u = &q->units[k];
            if (!u->term || strlen(u->term) != u->len || !u->len)
                return "bad unit term";
            if (k && u->rel <= q->units[k - 1].rel)
                return "units not in rel order";
            if (u->kind < JS_TOKEN_WORD || u->kind > JS_TOKEN_BIGRAM)
                return "bad unit kind";
        }
        {
            const js_qunit *l = &q->units[q->nunits - 1];
            if (q->span != l->rel + (l->kind == JS_TOKEN_BIGRAM ? 2 : 1))
                return "bad span";
        }
        for (uint32_t k = 0; k < q->ngrams; k++) {
            const js_qunit *g = &q->grams[k];
            if (!g->term || strlen(g->term) != g->len || !g->len)
                return "bad gram term";
            if (k && g->rel < q->grams[k - 1].rel)
                return "grams not in position order";
            if (g->rel >= q->span)
                return "gram outside the span";
            for (uint32_t j = 0; j < k; j++)
                if (q->grams[j].kind == g->kind && !strcmp(q->grams[j].term,
                                                           g->term))
                    return "duplicate gram";
        }
        return NULL;
    case JS_Q_NOT:
        if (parent != JS_Q_AND)
            return "NOT not under AND";
        if (q->nkids != 1)
            return "NOT without exactly one child";
        if (q->kids[0]->op == JS_Q_NOT)
            return "NOT of NOT";
        return check_tree(q->kids[0], JS_Q_NOT);
    case JS_Q_AND:
    case JS_Q_OR: {
        if (q->nkids < 2)
            return "AND/OR with fewer than two children";
        int positive = 0;
        for (uint32_t k = 0; k < q->nkids; k++) {
            if (!q->kids[k])
                return "NULL child";
            if (q->kids[k]->op == q->op)
                return "child of the same operator";
            if (q->kids[k]->op != JS_Q_NOT)
                positive = 1;
            else if (q->op == JS_Q_OR)
                return "NOT under OR";
            const char *why = check_tree(q->kids[k], q->op);
            if (why)
                return why;
        }
        if (!positive)
            return "AND of exclusions only";
        return NULL;
    }
    }
    return "unknown operator";
}

/* Parses buf and, on success, checks the invariants and the format. */
static void parse_and_check(const char *buf, size_t len, int iter)
{
    js_qnode *q = NULL;
    char err[256];
    err[0] = 0;
    int rc = js_query_parse(&q, buf, len, (unsigned)iter & 1, err, sizeof err);
    if (rc) {
        ck_assert_msg(rc == JS_EINVALID || rc == JS_ELIMIT,
                      "iteration %d: rc %d", iter, rc);
        ck_assert_msg(err[0], "iteration %d: no message", iter);
        return;
    }
    ck_assert_msg(q->op != JS_Q_NOT, "iteration %d: root is NOT", iter);
    const char *why = check_tree(q, (js_qop)0);
    char *f = js_query_format(q);
    ck_assert_msg(!why, "iteration %d: %s in %s", iter, why, f);
    ck_assert_ptr_nonnull(f);
    ck_assert(js_utf8_valid(f, strlen(f), NULL));
    free(f);
    js_query_free(q);
}

/* 20,000 byte strings (random bytes mixed with the syntax's characters)
 * and 20,000 soups of the language's tokens: never a crash, and every
 * tree parsed satisfies the invariants. */
START_TEST(test_property_random)
{
    static const char *const pieces[] = {
        "(", ")", "\"", "“", "”", "-", "OR", "title:", "工匠", "學院",
        "a", "1", " ", "（", "）", "「", "」", "标题：", "，", "\xFF", "--",
        "*", "xapi*", "＊"};
    static char buf[600];
    uint64_t st = 0x2545F4914F6CDD1Dull;
    for (int iter = 0; iter < 40000; iter++) {
        size_t len;
        if (iter % 2 == 0) { /* raw bytes, biased to the syntax */
            len = tu_rnd(&st) % 200;
            for (size_t k = 0; k < len; k++) {
                uint32_t x = tu_rnd(&st);
                buf[k] = x % 3 ? (char)"()\"- OR:a"[x % 9] : (char)(x >> 8);
            }
        } else {
            len = tu_random_pieces(buf, sizeof buf, 400, pieces,
                                   sizeof pieces / sizeof *pieces, &st);
        }
        parse_and_check(buf, len, iter);
    }
}
END_TEST

/* Long and deep soups near the limits. */
START_TEST(test_property_limits)
{
    static const char *const pieces[] = {"((", "))", "(", " ", "OR ",
                                         "-", "工匠學院", "a b"};
    static char buf[4200];
    uint64_t st = 0x9E3779B97F4A7C15ull;
    for (int iter = 0; iter < 300; iter++) {
        size_t len = tu_random_pieces(buf, sizeof buf, sizeof buf, pieces,
                                      sizeof pieces / sizeof *pieces, &st);
        parse_and_check(buf, len, iter);
    }
}
END_TEST

/* Every allocation of a parse fails in turn: JS_ENOMEM with a message, and
 * nothing leaks (AddressSanitizer's leak check at exit). */
START_TEST(test_allocation_failures)
{
    static const char *const queries[] = {
        "工匠學院 -(a OR b) title:\"2023年8月\" c d",
        "(a (b OR c OR (d e))) -f g OR h 哈哈哈哈哈",
        "数据库xapi* -foo-bar* title:inst* 工匠学*",
    };
    for (size_t qi = 0; qi < sizeof queries / sizeof *queries; qi++) {
        int failed = 0;
        for (unsigned long n = 1; n < 10000; n++) {
            js_qnode *q = NULL;
            char err[64] = "";
            js_query_failpoint = n;
            int rc = js_query_parse(&q, queries[qi], strlen(queries[qi]), 0,
                                    err, sizeof err);
            int untouched = js_query_failpoint != 0;
            js_query_failpoint = 0;
            if (rc == JS_ENOMEM) {
                ck_assert_str_eq(err, "out of memory");
                ck_assert_ptr_null(q);
                failed++;
                continue;
            }
            ck_assert_int_eq(rc, 0);
            ck_assert_msg(untouched, "allocation %lu failed unnoticed", n);
            /* the format fails cleanly too */
            for (unsigned long m = 1;; m++) {
                js_query_failpoint = m;
                char *s = js_query_format(q);
                untouched = js_query_failpoint != 0;
                js_query_failpoint = 0;
                free(s);
                if (s) {
                    ck_assert(untouched);
                    break;
                }
            }
            js_query_free(q);
            break;
        }
        ck_assert_int_gt(failed, 10);
    }
}
END_TEST

/* A lister for js_query_expand: offers, for a prefix, the words of a
 * fixed table that start with it; "dup" words are offered twice (as
 * another field or segment would), their dfs to be added. */
static const struct {
    const char *w;
    double df;
} words[] = {
    {"xapian", 5}, {"xapianize", 1}, {"xylophone", 9}, {"inst", 2},
    {"install", 4}, {"instance", 4}, {"instances", 1}, {"other", 7},
};

typedef struct {
    int calls, fail;
    int heading_seen;
} lister;

static int list_words(void *ctx, const js_qnode *leaf, js_qexpansion *x)
{
    lister *l = ctx;
    l->calls++;
    l->heading_seen |= leaf->heading_only;
    if (l->fail)
        return JS_ECORRUPT;
    const js_qunit *u = &leaf->units[0];
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        if (strncmp(words[i].w, u->term, u->len))
            continue;
        int rc = js_qexpansion_add(x, words[i].w, strlen(words[i].w),
                                   words[i].df);
        if (!rc && !strcmp(words[i].w, "instance")) /* and in headings */
            rc = js_qexpansion_add(x, "instance", 8, 3);
        if (rc)
            return rc;
    }
    return 0;
}

START_TEST(test_expand)
{
    static const struct {
        const char *in, *want;
    } ex[] = {
        {"xapi*", "\"xapi*@0\"{xapian xapianize}"},
        {"XA* -inst*",
         "(AND \"xa*@0\"{xapian xapianize} "
         "(NOT \"inst*@0\"{inst install instance instances}))"},
        {"title:xy* OR zz*", "(OR title:\"xy*@0\"{xylophone} \"zz*@0\"{})"},
        {"xapian 工匠", "(AND \"xapian@0\" \"工匠@0\")"},
    };
    for (size_t i = 0; i < sizeof ex / sizeof *ex; i++) {
        js_qnode *q = NULL;
        ck_assert_int_eq(js_query_parse(&q, ex[i].in, strlen(ex[i].in), 0,
                                        NULL, 0), 0);
        lister l = {0};
        ck_assert_int_eq(js_query_expand(q, list_words, &l), 0);
        ck_assert_int_eq(l.calls, js_query_has_prefix(q) ? l.calls : 0);
        char *f = js_query_format(q);
        ck_assert_msg(!strcmp(f, ex[i].want), "%s:\n got: %s\nwant: %s",
                      ex[i].in, f, ex[i].want);
        free(f);
        /* expanding again gives the same (the first expansion replaced) */
        ck_assert_int_eq(js_query_expand(q, list_words, &l), 0);
        f = js_query_format(q);
        ck_assert_str_eq(f, ex[i].want);
        free(f);
        js_query_free(q);
    }
    /* the lister's error comes back; the tree is still freed whole */
    js_qnode *q = NULL;
    ck_assert_int_eq(js_query_parse(&q, "xapi*", 5, 0, NULL, 0), 0);
    lister bad = {0, 1, 0};
    ck_assert_int_eq(js_query_expand(q, list_words, &bad), JS_ECORRUPT);
    js_query_free(q);
}
END_TEST

/* A lister offering n words "pf000".."pf<n-1>" with df = their number
 * mod 97 (ties included), each twice with half the df. */
static int list_many(void *ctx, const js_qnode *leaf, js_qexpansion *x)
{
    int n = *(const int *)ctx;
    (void)leaf;
    for (int pass = 0; pass < 2; pass++)
        for (int i = n - 1; i >= 0; i--) {
            char w[16];
            snprintf(w, sizeof w, "pf%03d", i);
            int rc = js_qexpansion_add(x, w, strlen(w), (i % 97) / 2.0);
            if (rc)
                return rc;
        }
    return 0;
}

/* The bound: of many words the 50 with the largest df, ties in byte
 * order, shown in byte order; the brute-force choice agrees. */
START_TEST(test_expand_bound)
{
    for (int n = 0; n <= 300; n += n < 60 ? 7 : 120) {
        js_qnode *q = NULL;
        ck_assert_int_eq(js_query_parse(&q, "pf*", 3, 0, NULL, 0), 0);
        ck_assert_int_eq(js_query_expand(q, list_many, &n), 0);
        uint32_t want = n < JS_PREFIX_MAX_TERMS ? (uint32_t)n
                                                : JS_PREFIX_MAX_TERMS;
        ck_assert_uint_eq(q->nexp, want);
        /* brute force: rank every word, keep the first 50 */
        int keep[400] = {0};
        for (uint32_t k = 0; k < want; k++) {
            int best = -1;
            for (int i = 0; i < n; i++)
                if (!keep[i] && (best < 0 || i % 97 > best % 97))
                    best = i;
            keep[best] = 1;
        }
        uint32_t k = 0;
        for (int i = 0; i < n; i++) {
            if (!keep[i])
                continue;
            char w[16];
            snprintf(w, sizeof w, "pf%03d", i);
            ck_assert_str_eq(q->exp[k].term, w);
            ck_assert_uint_eq(q->exp[k].len, strlen(w));
            ck_assert_uint_eq(q->exp[k].rel, 0);
            k++;
        }
        ck_assert_uint_eq(k, want);
        js_query_free(q);
    }
}
END_TEST

/* Allocation failures during an expansion: JS_ENOMEM, nothing leaks, and
 * a later expansion works. */
START_TEST(test_expand_allocation_failures)
{
    int n = 120, failed = 0;
    for (unsigned long m = 1;; m++) {
        js_qnode *q = NULL;
        ck_assert_int_eq(js_query_parse(&q, "pf* -xa*", 8, 0, NULL, 0), 0);
        js_query_failpoint = m;
        int rc = js_query_expand(q, list_many, &n);
        int untouched = js_query_failpoint != 0;
        js_query_failpoint = 0;
        js_query_free(q);
        if (rc == 0) {
            ck_assert(untouched);
            break;
        }
        ck_assert_int_eq(rc, JS_ENOMEM);
        failed++;
    }
    ck_assert_int_gt(failed, 100);
}
END_TEST

static Suite *query_suite(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("parse");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_parse_table, 0, sizeof cases / sizeof *cases);
    tcase_add_loop_test(tc, test_leaf_fields, 0,
                        sizeof leaves / sizeof *leaves);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_arguments);
    tcase_add_test(tc, test_property_random);
    tcase_add_test(tc, test_property_limits);
    tcase_add_test(tc, test_allocation_failures);
    tcase_add_test(tc, test_expand);
    tcase_add_test(tc, test_expand_bound);
    tcase_add_test(tc, test_expand_allocation_failures);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(query_suite(), 0);
}
