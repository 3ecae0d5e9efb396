/*
 * check_fields.c — the heading field and body of a section as tokens
 * (src/fields.c), table-driven.
 *
 * In:  sections built here: a title, a heading path, a body.
 * Out: Check results.  Each case lists the tokens expected, in order, as
 *      "h:TERM@POS" (heading field) or "b:TERM@POS" (body), and both
 *      fields' lengths.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "testutil.h"

typedef struct {
    char got[2048];
    int stop_at; /* return 99 from this token (1-based), 0 never */
    int n;
} seen;

static int on_token(void *ctx, const js_token *t, int heading)
{
    seen *s = ctx;
    size_t len = strlen(s->got);
    snprintf(s->got + len, sizeof s->got - len, "%s%c:%.*s@%u",
             len ? " " : "", heading ? 'h' : 'b', (int)t->term_len, t->term,
             t->position);
    return ++s->n == s->stop_at ? 99 : 0;
}

static const struct {
    const char *title;
    const char *path[3];
    size_t depth;
    const char *body;
    const char *want;
    uint32_t head_len, body_len;
} cases[] = {
    /* title then body; a CJK run gives unigrams and bigrams */
    {"工匠", {NULL}, 0, "學院",
     "h:工@0 h:工匠@0 h:匠@1 b:学@0 b:学院@0 b:院@1", 2, 2},
    /* headings continue two positions after the title's last */
    {"手册", {"历史", "课程"}, 2, "春",
     "h:手@0 h:手册@0 h:册@1 h:历@3 h:历史@3 h:史@4 h:课@6 h:课程@6 h:程@7 "
     "b:春@0",
     8, 1},
    /* a heading equal to the title is not counted twice */
    {"手册", {"手册", "课程"}, 2, "",
     "h:手@0 h:手册@0 h:册@1 h:课@3 h:课程@3 h:程@4", 5, 0},
    /* no title and no headings: an empty heading field */
    {NULL, {NULL}, 0, "linux 2023",
     "b:linux@0 b:2023@2", 0, 3}, /* words stand two positions apart (text.c) */
    /* nothing at all */
    {"", {NULL}, 0, "。，", "", 0, 0},
};

/* Makes *s case i's section, its document *d. */
static void case_section(size_t i, js_document *d, js_section *s)
{
    memset(d, 0, sizeof *d);
    memset(s, 0, sizeof *s);
    d->title = cases[i].title;
    s->document = d;
    s->path = cases[i].path;
    s->depth = cases[i].depth;
    s->body = cases[i].body;
    s->body_len = strlen(cases[i].body);
}

START_TEST(test_fields_table)
{
    js_document d;
    js_section s;
    case_section((size_t)_i, &d, &s);
    seen got = {{0}, 0, 0};
    uint32_t hl = 77, bl = 77;
    const char *field = NULL;
    ck_assert_int_eq(js_fields_analyze(&s, 0, on_token, &got, &hl, &bl, &field),
                     0);
    ck_assert_str_eq(got.got, cases[_i].want);
    ck_assert_uint_eq(hl, cases[_i].head_len);
    ck_assert_uint_eq(bl, cases[_i].body_len);
}
END_TEST

/* A callback's error stops the analysis, names the field, comes back. */
START_TEST(test_fields_stop)
{
    const char *path[] = {"课程"};
    js_document d = {0};
    d.title = "手册";
    js_section s = {0};
    s.document = &d;
    s.path = path;
    s.depth = 1;
    s.body = "春风";
    s.body_len = strlen(s.body);
    static const struct {
        int stop_at;
        const char *field;
    } stops[] = {{1, "heading"}, {4, "heading"}, {7, "body"}, {9, "body"}};
    for (size_t i = 0; i < sizeof stops / sizeof *stops; i++) {
        seen got = {{0}, stops[i].stop_at, 0};
        uint32_t hl, bl;
        const char *field = NULL;
        ck_assert_int_eq(js_fields_analyze(&s, 0, on_token, &got, &hl, &bl,
                                           &field),
                         99);
        ck_assert_str_eq(field, stops[i].field);
        ck_assert_int_eq(got.n, stops[i].stop_at);
    }
}
END_TEST

/* The heading field again from what an index keeps (title, path joined
 * by U+001F): the same tokens at the same positions as from the section,
 * for every case of the table. */
START_TEST(test_fields_heading_from_stored)
{
    js_document d;
    js_section s;
    case_section((size_t)_i, &d, &s);
    s.body = ""; /* the heading field alone */
    s.body_len = 0;
    seen from_section = {{0}, 0, 0}, from_store = {{0}, 0, 0};
    uint32_t hl, bl, hl2 = 77;
    const char *field;
    ck_assert_int_eq(js_fields_analyze(&s, 0, on_token, &from_section, &hl,
                                       &bl, &field), 0);
    char joined[256] = "";
    size_t jl = 0;
    for (size_t i = 0; i < s.depth; i++)
        jl += (size_t)snprintf(joined + jl, sizeof joined - jl, "%s%s",
                               i ? "\x1f" : "", s.path[i]);
    ck_assert_int_eq(js_fields_analyze_heading(d.title ? d.title : "", joined,
                                               jl, 0, on_token, &from_store,
                                               &hl2), 0);
    ck_assert_str_eq(from_store.got, from_section.got);
    ck_assert_uint_eq(hl2, hl);
}
END_TEST

/* Which terms keep positions (fields.h): by kind, heading prefix or not. */
static const struct {
    const char *term;
    int kind;
} kinds[] = {
    {"学", JS_TOKEN_UNIGRAM},     {"\x01学", JS_TOKEN_UNIGRAM},
    {"学院", JS_TOKEN_BIGRAM},    {"\x01学院", JS_TOKEN_BIGRAM},
    {"か", JS_TOKEN_UNIGRAM},     {"한국", JS_TOKEN_BIGRAM},
    {"linux", JS_TOKEN_WORD},     {"\x01linux", JS_TOKEN_WORD},
    {"5", JS_TOKEN_WORD},         {"é", JS_TOKEN_WORD},
    {"ก", JS_TOKEN_WORD},         /* Thai: a word of one letter */
    {"学院里", JS_TOKEN_WORD},    /* three code points: no term of ours */
    {"\xe5\xad", JS_TOKEN_WORD},  /* broken UTF-8 */
    {"", JS_TOKEN_WORD},          {"\x01", JS_TOKEN_WORD},
};

START_TEST(test_term_kinds)
{
    const char *t = kinds[_i].term;
    ck_assert_int_eq(js_fields_term_kind(t, strlen(t)), kinds[_i].kind);
    int want = kinds[_i].kind != JS_TOKEN_UNIGRAM;
    ck_assert_int_eq(js_fields_term_has_positions(JS_FIELDS_POSITIONS_FOR, t,
                                                  strlen(t)), want);
    ck_assert_int_eq(js_fields_term_has_positions(7, t, strlen(t)), 1);
    ck_assert_int_eq(js_fields_term_has_positions(0, t, strlen(t)), 0);
}
END_TEST

static Suite *fields_suite(void)
{
    Suite *s = suite_create("fields");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_fields_table, 0,
                        (int)(sizeof cases / sizeof *cases));
    tcase_add_test(tc, test_fields_stop);
    tcase_add_loop_test(tc, test_fields_heading_from_stored, 0,
                        (int)(sizeof cases / sizeof *cases));
    tcase_add_loop_test(tc, test_term_kinds, 0,
                        (int)(sizeof kinds / sizeof *kinds));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(fields_suite(), 0);
}
