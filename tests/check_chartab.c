/*
 * check_chartab.c — normalisation, Traditional->Simplified folding and
 * character classes, as frozen into the generated character table.
 *
 * Tables of (input, expected output) strings run through the table one
 * code point at a time, exactly as the text pipeline uses it, plus
 * exhaustive checks over every code point: outputs are fixed points, and
 * folding never changes a character's class.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "chartab.h"
#include "utf8.h"
#include "testutil.h"

/* Maps UTF-8 `in` through the table into out (NUL-terminated). */
static void map_string(const char *in, int fold, char *out, size_t cap)
{
    size_t n = strlen(in), i = 0, o = 0;
    while (i < n) {
        uint32_t cp;
        i += js_utf8_decode((const unsigned char *)in + i, n - i, &cp);
        ck_assert(cp != JS_UTF8_INVALID);
        uint32_t e = js_chartab_get(cp, fold);
        unsigned cls = js_chartab_class(e);
        ck_assert(o + 4 * 8 < cap);
        if (cls == JS_CC_IGNORE)
            continue;
        if (cls == JS_CC_EXPAND) {
            const uint32_t *x = js_chartab_expand + js_chartab_expansion(e);
            for (uint32_t k = 1; k <= x[0]; k++)
                o += js_utf8_encode(x[k] & 0x1FFFFF, out + o);
        } else {
            o += js_utf8_encode(js_chartab_apply(cp, e), out + o);
        }
    }
    out[o] = 0;
}

static const struct {
    const char *in, *want;
} norm_cases[] = {
    {"ＡＢＣ１２３", "abc123"},      /* full-width Latin and digits */
    {"ABC xyz", "abc xyz"},          /* case */
    {"Straße", "strasse"},           /* full case folding */
    {"ΣΑΣ", "σασ"},                  /* Greek */
    {"ﬁ", "fi"},                     /* ligature */
    {"①②", "12"},                  /* circled digits */
    {"Ⅻ", "xii"},                    /* Roman numeral */
    {"\xEF\xA4\x80", "\xE8\xB1\x88"}, /* U+F900 -> U+8C48 豈 */
    {"\xEF\xA8\x8C", "\xE5\x85\x80"}, /* U+FA0C -> U+5140 兀 */
    {"\xF0\xAF\xA0\x80", "\xE4\xB8\xBD"}, /* U+2F800 -> U+4E3D 丽 */
    {"\xE2\xBC\x80", "一"},          /* Kangxi radical one */
    {"ｶﾀｶﾅ", "カタカナ"},            /* half-width Katakana */
    {"㍻", "平成"},                  /* square era name expands */
    {"㈱", "(株)"},                  /* parenthesised ideograph */
    {"a\xC2\xAD" "b", "ab"},         /* soft hyphen is ignorable */
    {"中\xE2\x80\x8B文", "中文"},    /* zero-width space is ignorable */
    {"一\xEF\xB8\x80", "一"},        /* variation selector is ignorable */
    {"\xE3\x80\x80", " "},           /* ideographic space */
    {"，。！？", ",。!?"},           /* full-width punctuation */
    {"學院", "學院"},                /* no folding without the flag */
    {"", ""},
};

START_TEST(test_normalise_table)
{
    char out[256];
    map_string(norm_cases[_i].in, 0, out, sizeof out);
    ck_assert_msg(!strcmp(out, norm_cases[_i].want), "%s -> %s, want %s",
                  norm_cases[_i].in, out, norm_cases[_i].want);
}
END_TEST

/* Traditional (or variant) -> Simplified, one character each. */
static const struct {
    const char *trad, *simp;
} fold_cases[] = {
    {"學", "学"}, {"國", "国"}, {"門", "门"}, {"體", "体"}, {"發", "发"},
    {"髮", "发"}, {"後", "后"}, {"裡", "里"}, {"裏", "里"}, {"臺", "台"},
    {"鐘", "钟"}, {"鍾", "钟"}, {"於", "于"}, {"為", "为"}, {"眾", "众"},
    {"衆", "众"}, {"線", "线"}, {"綫", "线"}, {"嗎", "吗"}, {"麼", "么"},
    {"萬", "万"}, {"書", "书"}, {"龍", "龙"}, {"東", "东"}, {"車", "车"},
    {"馬", "马"}, {"鳥", "鸟"}, {"魚", "鱼"}, {"電", "电"}, {"腦", "脑"},
    {"網", "网"}, {"與", "与"}, {"個", "个"}, {"蘋", "苹"}, {"灣", "湾"},
    {"\xEF\xA4\x80", "岂"}, /* compatibility ideograph: unify, then fold */
    {"工匠學院", "工匠学院"},
    {"Ｈｅｌｌｏ世界", "hello世界"},
    /* Must stay as they are. */
    {"学", "学"}, {"国", "国"}, {"中", "中"}, {"人", "人"}, {"的", "的"},
    {"著", "著"}, {"妳", "妳"}, {"祂", "祂"}, {"日本", "日本"},
    {"かな", "かな"}, {"한국", "한국"}, {"abc", "abc"}, {"123", "123"},
};

START_TEST(test_fold_table)
{
    char out[256];
    map_string(fold_cases[_i].trad, 1, out, sizeof out);
    ck_assert_msg(!strcmp(out, fold_cases[_i].simp), "%s -> %s, want %s",
                  fold_cases[_i].trad, out, fold_cases[_i].simp);
}
END_TEST

static const struct {
    uint32_t cp;
    unsigned cls;
} class_cases[] = {
    {'a', JS_CC_WORD},      {'Z', JS_CC_WORD},      {'7', JS_CC_WORD},
    {0xE9, JS_CC_WORD},     {0x3B1, JS_CC_WORD},    {0x44F, JS_CC_WORD},
    {0x0E01, JS_CC_WORD},   {0x5B66, JS_CC_CJK},    {0x3042, JS_CC_CJK},
    {0x30A2, JS_CC_CJK},    {0xD55C, JS_CC_CJK},    {0x3105, JS_CC_CJK},
    {0x3005, JS_CC_CJK},    {0x3007, JS_CC_CJK},    {0x20000, JS_CC_CJK},
    {0x30000, JS_CC_CJK},   {0x3400, JS_CC_CJK},    {' ', JS_CC_SEP},
    {'_', JS_CC_SEP},       {'!', JS_CC_SEP},       {0xFF0C, JS_CC_SEP},
    {0x3002, JS_CC_SEP},    {0, JS_CC_SEP},         {0x0A, JS_CC_SEP},
    {0xE000, JS_CC_SEP},    {0x0378, JS_CC_SEP},    {0x0301, JS_CC_MARK},
    {0x00AD, JS_CC_IGNORE}, {0x200B, JS_CC_IGNORE}, {0xFEFF, JS_CC_IGNORE},
    {0x3231, JS_CC_EXPAND}, {0x337B, JS_CC_EXPAND}, {0xFB01, JS_CC_EXPAND},
};

START_TEST(test_class_table)
{
    for (int fold = 0; fold < 2; fold++) {
        unsigned got =
            js_chartab_class(js_chartab_get(class_cases[_i].cp, fold));
        ck_assert_msg(got == class_cases[_i].cls, "U+%04X fold=%d: %u, want %u",
                      class_cases[_i].cp, fold, got, class_cases[_i].cls);
    }
}
END_TEST

/* Checks that code point c is a fixed point of the table. */
static void assert_fixed(uint32_t from, uint32_t c, int fold)
{
    uint32_t e = js_chartab_get(c, fold);
    unsigned cls = js_chartab_class(e);
    ck_assert_msg(cls != JS_CC_EXPAND && cls != JS_CC_IGNORE &&
                      js_chartab_apply(c, e) == c,
                  "U+%04X -> U+%04X is not a fixed point (fold=%d)", from, c,
                  fold);
}

/* Normalising normalised text changes nothing, for every code point and
 * both variants: documents indexed once and queries typed already
 * normalised agree. */
START_TEST(test_idempotent_everywhere)
{
    for (int fold = 0; fold < 2; fold++) {
        for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
            uint32_t e = js_chartab_get(cp, fold);
            unsigned cls = js_chartab_class(e);
            if (cls == JS_CC_IGNORE)
                continue;
            if (cls == JS_CC_EXPAND) {
                const uint32_t *x =
                    js_chartab_expand + js_chartab_expansion(e);
                ck_assert(x[0] >= 2 && x[0] <= 32);
                for (uint32_t k = 1; k <= x[0]; k++) {
                    uint32_t c = x[k] & 0x1FFFFF;
                    assert_fixed(cp, c, fold);
                    ck_assert_uint_eq(js_chartab_class(x[k]),
                                      js_chartab_class(js_chartab_get(c, fold)));
                }
            } else {
                uint32_t c = js_chartab_apply(cp, e);
                ck_assert_msg(c <= 0x10FFFF, "U+%04X maps out of range", cp);
                if (cp >= 0xD800 && cp <= 0xDFFF)
                    continue; /* never produced by the decoder */
                assert_fixed(cp, c, fold);
            }
        }
    }
}
END_TEST

/* Folding maps Han to Han: no character changes class with the flag. */
START_TEST(test_fold_keeps_class)
{
    uint32_t changed = 0;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        uint32_t a = js_chartab_get(cp, 0), b = js_chartab_get(cp, 1);
        if (js_chartab_class(a) != JS_CC_EXPAND)
            ck_assert_uint_eq(js_chartab_class(a), js_chartab_class(b));
        changed += a != b;
    }
    /* OpenCC's t2s character table maps some four thousand characters;
     * far fewer means the data was not found at build time. */
    ck_assert_msg(changed > 2500, "only %u code points fold", changed);
    ck_assert_uint_gt(js_chartab_t2s_count, 2500);
    ck_assert(strstr(js_chartab_sources, "utf8proc") != NULL);
}
END_TEST

static Suite *chartab_suite(void)
{
    Suite *s = suite_create("chartab");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_normalise_table, 0,
                        sizeof norm_cases / sizeof *norm_cases);
    tcase_add_loop_test(tc, test_fold_table, 0,
                        sizeof fold_cases / sizeof *fold_cases);
    tcase_add_loop_test(tc, test_class_table, 0,
                        sizeof class_cases / sizeof *class_cases);
    tcase_add_test(tc, test_idempotent_everywhere);
    tcase_add_test(tc, test_fold_keeps_class);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(chartab_suite(), 0);
}
