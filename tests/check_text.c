/*
 * check_text.c — the text pipeline (js_text_analyze): segmentation into
 * words, unigrams and bigrams, positions, byte ranges, bad input.
 *
 * Each table row is an input and its whole expected token stream in the
 * compact form of testutil.h; then limits, the callback protocol, and a
 * property test over random and mutated byte strings.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jiansuo.h"
#include "testutil.h"
#include "utf8.h"

#define NOFOLD JS_ANALYZE_NO_FOLD

static const struct {
    const char *name;
    const char *in;
    size_t len; /* 0: strlen(in) */
    unsigned flags;
    const char *want;
} seg_cases[] = {
    {"empty", "", 0, 0, ""},
    {"only separators", " ，。!\n\t", 0, 0, ""},
    {"one CJK character", "久", 0, 0, "久/u@0[0,3)"},
    {"CJK run", "久有归天", 0, 0,
     "久/u@0[0,3) 久有/b@0[0,6) 有/u@1[3,6) 有归/b@1[3,9) 归/u@2[6,9) "
     "归天/b@2[6,12) 天/u@3[9,12)"},
    {"Traditional folds", "學院", 0, 0,
     "学/u@0[0,3) 学院/b@0[0,6) 院/u@1[3,6)"},
    {"no fold keeps Traditional", "學院", 0, NOFOLD,
     "學/u@0[0,3) 學院/b@0[0,6) 院/u@1[3,6)"},
    {"mixed spelling folds alike", "学院", 0, 0,
     "学/u@0[0,3) 学院/b@0[0,6) 院/u@1[3,6)"},
    {"digits and Han", "2023年10月", 0, 0,
     "2023/w@0[0,4) 年/u@1[4,7) 10/w@2[7,9) 月/u@3[9,12)"},
    {"hyphenated word", "Xapian-C", 0, 0, "xapian/w@0[0,6) c/w@2[7,8)"},
    {"full-width", "ＡＢＣ１２３", 0, 0, "abc123/w@0[0,18)"},
    {"punctuation breaks bigrams", "工匠，學院", 0, 0,
     "工/u@0[0,3) 工匠/b@0[0,6) 匠/u@1[3,6) 学/u@3[9,12) "
     "学院/b@3[9,15) 院/u@4[12,15)"},
    {"space breaks bigrams", "中 文", 0, 0, "中/u@0[0,3) 文/u@2[4,7)"},
    {"separator run is one gap", "a , ; b", 0, 0, "a/w@0[0,1) b/w@2[6,7)"},
    {"leading separators take no position", "  ，a", 0, 0, "a/w@0[5,6)"},
    {"word then CJK adjacent", "USB接口", 0, 0,
     "usb/w@0[0,3) 接/u@1[3,6) 接口/b@1[3,9) 口/u@2[6,9)"},
    {"CJK then word adjacent", "第3章", 0, 0,
     "第/u@0[0,3) 3/w@1[3,4) 章/u@2[4,7)"},
    {"kana run", "カタカナ", 0, 0,
     "カ/u@0[0,3) カタ/b@0[0,6) タ/u@1[3,6) タカ/b@1[3,9) カ/u@2[6,9) "
     "カナ/b@2[6,12) ナ/u@3[9,12)"},
    {"half-width kana", "ｶﾅ", 0, 0, "カ/u@0[0,3) カナ/b@0[0,6) ナ/u@1[3,6)"},
    {"hangul", "한국", 0, 0, "한/u@0[0,3) 한국/b@0[0,6) 국/u@1[3,6)"},
    {"extension B", "\xF0\xA0\x80\x80" "人", 0, 0,
     "\xF0\xA0\x80\x80/u@0[0,4) \xF0\xA0\x80\x80人/b@0[0,7) 人/u@1[4,7)"},
    {"compatibility ideograph", "\xEF\xA4\x80", 0, NOFOLD,
     "\xE8\xB1\x88/u@0[0,3)"},
    {"expansion shares the range", "㍻", 0, 0,
     "平/u@0[0,3) 平成/b@0[0,3) 成/u@1[0,3)"},
    {"parenthesised ideograph", "㈱社", 0, 0, "株/u@0[0,3) 社/u@2[3,6)"},
    {"ligature", "ﬁle", 0, 0, "file/w@0[0,5)"},
    {"case and sharp s", "Straße", 0, 0, "strasse/w@0[0,7)"},
    {"precomposed", "café", 0, 0, "café/w@0[0,5)"},
    {"combining mark composes", "cafe\xCC\x81", 0, 0, "café/w@0[0,6)"},
    {"mark after CJK is ignored", "中\xCC\x81文", 0, 0,
     "中/u@0[0,3) 中文/b@0[0,8) 文/u@1[5,8)"},
    {"lone mark", "\xCC\x81", 0, 0, ""},
    {"soft hyphen inside word", "co\xC2\xADop", 0, 0, "coop/w@0[0,6)"},
    {"zero-width space inside CJK", "中\xE2\x80\x8B文", 0, 0,
     "中/u@0[0,3) 中文/b@0[0,9) 文/u@1[6,9)"},
    {"ideographic space", "中\xE3\x80\x80文", 0, 0,
     "中/u@0[0,3) 文/u@2[6,9)"},
    {"NUL separates", "a\0b", 3, 0, "a/w@0[0,1) b/w@2[2,3)"},
    {"invalid byte separates", "中\xFF文", 0, 0, "中/u@0[0,3) 文/u@2[4,7)"},
    {"truncated at end", "中文\xE6\x96", 0, 0,
     "中/u@0[0,3) 中文/b@0[0,6) 文/u@1[3,6)"},
    {"overlong slash", "a\xC0\xAF" "b", 0, 0, "a/w@0[0,1) b/w@2[3,4)"},
    {"encoded surrogate", "x\xED\xA0\x80y", 0, 0, "x/w@0[0,1) y/w@2[4,5)"},
    {"truncated inside word", "ab\xE6" "cd", 0, 0,
     "ab/w@0[0,2) cd/w@2[3,5)"},
    {"BOM ignored", "\xEF\xBB\xBF中", 0, 0, "中/u@0[3,6)"},
    {"underscore separates", "foo_bar", 0, 0, "foo/w@0[0,3) bar/w@2[4,7)"},
    {"decimal number", "3.14", 0, 0, "3/w@0[0,1) 14/w@2[2,4)"},
    {"greek and cyrillic", "Ωmega Мир", 0, 0,
     "ωmega/w@0[0,6) мир/w@2[7,13)"},
};

START_TEST(test_segment_table)
{
    size_t len = seg_cases[_i].len ? seg_cases[_i].len
                                   : strlen(seg_cases[_i].in);
    int rc = -100;
    char *got = tu_analyze(seg_cases[_i].in, len, seg_cases[_i].flags, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(!strcmp(got, seg_cases[_i].want), "%s:\n got: %s\nwant: %s",
                  seg_cases[_i].name, got, seg_cases[_i].want);
    free(got);
}
END_TEST

START_TEST(test_first_position)
{
    tu_render r = {0};
    js_analyze_options o = JS_ANALYZE_OPTIONS_INIT;
    o.first_position = 100;
    tu_appendf(&r, "%s", "");
    ck_assert_int_eq(js_text_analyze("中文 x", 8, &o, tu_render_token, &r), 0);
    ck_assert_str_eq(r.buf, "中/u@100[0,3) 中文/b@100[0,6) 文/u@101[3,6) "
                            "x/w@103[7,8)");
    free(r.buf);
}
END_TEST

START_TEST(test_invalid_arguments)
{
    tu_render r = {0};
    js_analyze_options o = JS_ANALYZE_OPTIONS_INIT;
    ck_assert_int_eq(js_text_analyze(NULL, 3, NULL, tu_render_token, &r),
                     JS_EINVALID);
    ck_assert_int_eq(js_text_analyze("abc", 3, NULL, NULL, &r), JS_EINVALID);
    o.version = 999;
    ck_assert_int_eq(js_text_analyze("abc", 3, &o, tu_render_token, &r),
                     JS_EINVALID);
    ck_assert_int_eq(js_text_analyze(NULL, 0, NULL, tu_render_token, &r), 0);
    ck_assert_uint_eq(r.ntokens, 0);
    free(r.buf);
}
END_TEST

/* A non-zero callback return stops at once and comes back unchanged, also
 * from inside an expansion and from the final word flush. */
START_TEST(test_callback_stops)
{
    static const struct {
        const char *in;
        size_t stop_after;
    } rows[] = {{"久有归天", 1}, {"久有归天", 2}, {"㍻㍻", 2}, {"abc def", 2},
                {"abc", 1}};
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        tu_render r = {0};
        r.stop_after = rows[i].stop_after;
        tu_appendf(&r, "%s", "");
        int rc = js_text_analyze(rows[i].in, strlen(rows[i].in), NULL,
                                 tu_render_token, &r);
        ck_assert_int_eq(rc, 99);
        ck_assert_uint_eq(r.ntokens, rows[i].stop_after);
        free(r.buf);
    }
}
END_TEST

static const char *kind_names[] = {"unknown", "word", "unigram", "bigram",
                                   "unknown"};

START_TEST(test_kind_names)
{
    ck_assert_str_eq(js_token_kind_name((js_token_kind)_i), kind_names[_i]);
}
END_TEST

/* Long words are cut every JS_WORD_MAX_CHARS characters. */
START_TEST(test_long_word_split)
{
    char in[200];
    memset(in, 'a', 150);
    char *got = tu_analyze(in, 150, 0, NULL);
    char want[400];
    snprintf(want, sizeof want, "%.*s/w@0[0,64) %.*s/w@1[64,128) %.*s/w@2[128,150)",
             64, in, 64, in, 22, in);
    ck_assert_str_eq(got, want);
    free(got);
}
END_TEST

typedef struct {
    size_t n, uni, bi, word;
    uint32_t last_pos;
    size_t last_end;
    int bad;
} counter;

static int count_token(void *ctx, const js_token *t)
{
    counter *c = ctx;
    c->n++;
    c->uni += t->kind == JS_TOKEN_UNIGRAM;
    c->bi += t->kind == JS_TOKEN_BIGRAM;
    c->word += t->kind == JS_TOKEN_WORD;
    if (c->n > 1 && t->position < c->last_pos)
        c->bad = 1;
    c->last_pos = t->position;
    c->last_end = t->end;
    return 0;
}

/* A 1 MB run with no separator: one unigram per character, one bigram per
 * pair, positions 0..n-1, nothing quadratic. */
START_TEST(test_megabyte_cjk_run)
{
    const size_t nchars = (1u << 20) / 3;
    char *in = malloc(nchars * 3);
    ck_assert_ptr_nonnull(in);
    for (size_t i = 0; i < nchars; i++)
        memcpy(in + 3 * i, i % 2 ? "學" : "院", 3);
    counter c = {0};
    ck_assert_int_eq(js_text_analyze(in, nchars * 3, NULL, count_token, &c),
                     0);
    ck_assert_uint_eq(c.uni, nchars);
    ck_assert_uint_eq(c.bi, nchars - 1);
    ck_assert_uint_eq(c.word, 0);
    ck_assert_uint_eq(c.last_pos, nchars - 1);
    ck_assert_uint_eq(c.last_end, nchars * 3);
    ck_assert(!c.bad);
    free(in);
}
END_TEST

START_TEST(test_megabyte_latin_run)
{
    const size_t n = 1u << 20;
    char *in = malloc(n);
    ck_assert_ptr_nonnull(in);
    memset(in, 'z', n);
    counter c = {0};
    ck_assert_int_eq(js_text_analyze(in, n, NULL, count_token, &c), 0);
    ck_assert_uint_eq(c.word, n / JS_WORD_MAX_CHARS);
    ck_assert_uint_eq(c.last_end, n);
    free(in);
}
END_TEST

/* Property: whatever the bytes, every token's range lies inside the input,
 * starts and ends on character boundaries (the range is well-formed
 * UTF-8), its term is well-formed UTF-8 within the size limit, kinds are
 * known, and positions never decrease. */
typedef struct {
    const char *text;
    size_t len;
    uint32_t last_pos;
    size_t n;
    const char *why;
} prop;

static int check_token(void *ctx, const js_token *t)
{
    prop *p = ctx;
    if (t->start >= t->end || t->end > p->len)
        p->why = "range outside the input";
    else if (!js_utf8_valid(p->text + t->start, t->end - t->start, NULL))
        p->why = "range not on character boundaries";
    else if (t->term_len == 0 || t->term_len > JS_TERM_MAX_BYTES)
        p->why = "term length out of bounds";
    else if (!js_utf8_valid(t->term, t->term_len, NULL))
        p->why = "term is not UTF-8";
    else if (t->kind < JS_TOKEN_WORD || t->kind > JS_TOKEN_BIGRAM)
        p->why = "unknown kind";
    else if (p->n && t->position < p->last_pos)
        p->why = "position decreased";
    p->last_pos = t->position;
    p->n++;
    return p->why ? 1 : 0;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

START_TEST(test_property_random_bytes)
{
    static const char *pieces[] = {"學", "院", "中文", "ａ", "Z", "9", " ",
                                   "，", "\xCC\x81", "\xC2\xAD", "㍻",
                                   "\xF0\xA0\x80\x80", "é", "ｶ"};
    char buf[512];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = rnd() % sizeof buf;
        int mode = iter % 3;
        size_t i = 0;
        while (i < len) {
            if (mode == 0) { /* raw random bytes */
                buf[i++] = (char)rnd();
            } else { /* valid pieces with random corruption */
                const char *pc = pieces[rnd() % (sizeof pieces / sizeof *pieces)];
                size_t pl = strlen(pc);
                if (i + pl > len)
                    break;
                memcpy(buf + i, pc, pl);
                if (mode == 2 && rnd() % 4 == 0)
                    buf[i + rnd() % pl] = (char)rnd();
                i += pl;
            }
        }
        len = i;
        for (unsigned flags = 0; flags < 2; flags++) {
            prop p = {buf, len, 0, 0, NULL};
            js_analyze_options o = JS_ANALYZE_OPTIONS_INIT;
            o.flags = flags;
            int rc = js_text_analyze(buf, len, &o, check_token, &p);
            ck_assert_msg(rc == 0 && !p.why, "iteration %d: %s", iter,
                          p.why ? p.why : "non-zero return");
        }
    }
}
END_TEST

static Suite *text_suite(void)
{
    Suite *s = suite_create("text");
    TCase *tc = tcase_create("segment");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_segment_table, 0,
                        sizeof seg_cases / sizeof *seg_cases);
    tcase_add_test(tc, test_first_position);
    tcase_add_test(tc, test_invalid_arguments);
    tcase_add_test(tc, test_callback_stops);
    tcase_add_loop_test(tc, test_kind_names, 0, 5);
    tcase_add_test(tc, test_long_word_split);
    tcase_add_test(tc, test_megabyte_cjk_run);
    tcase_add_test(tc, test_megabyte_latin_run);
    tcase_add_test(tc, test_property_random_bytes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(text_suite(), 0);
}
