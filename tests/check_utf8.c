/*
 * check_utf8.c — the strict UTF-8 decoder, encoder and boundary helpers.
 *
 * Table-driven: each row is a byte string and the code point and length
 * the decoder must report for its first sequence.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "testutil.h"

#define INV JS_UTF8_INVALID

static const struct {
    const char *name;
    const char *bytes;
    size_t n;
    uint32_t cp;
    size_t len;
} decode_cases[] = {
    {"ascii", "A", 1, 'A', 1},
    {"nul", "\0", 1, 0, 1},
    {"two bytes", "\xC3\xA9", 2, 0xE9, 2},
    {"three bytes (Han)", "\xE5\xAD\xA6", 3, 0x5B66, 3},
    {"four bytes (SIP)", "\xF0\xA0\x80\x80", 4, 0x20000, 4},
    {"max scalar", "\xF4\x8F\xBF\xBF", 4, 0x10FFFF, 4},
    {"last before surrogates", "\xED\x9F\xBF", 3, 0xD7FF, 3},
    {"first after surrogates", "\xEE\x80\x80", 3, 0xE000, 3},
    {"BOM", "\xEF\xBB\xBF", 3, 0xFEFF, 3},
    {"lone continuation", "\x80", 1, INV, 1},
    {"C0 overlong lead", "\xC0\xAF", 2, INV, 1},
    {"C1 overlong lead", "\xC1\xBF", 2, INV, 1},
    {"3-byte overlong", "\xE0\x80\xAF", 3, INV, 1},
    {"3-byte overlong edge", "\xE0\x9F\xBF", 3, INV, 1},
    {"4-byte overlong", "\xF0\x8F\xBF\xBF", 4, INV, 1},
    {"surrogate high", "\xED\xA0\x80", 3, INV, 1},
    {"surrogate low", "\xED\xBF\xBF", 3, INV, 1},
    {"above U+10FFFF", "\xF4\x90\x80\x80", 4, INV, 1},
    {"F5 lead", "\xF5\x80\x80\x80", 4, INV, 1},
    {"FF byte", "\xFF", 1, INV, 1},
    {"truncated 2 of 3", "\xE5\xAD", 2, INV, 1},
    {"truncated 1 of 2", "\xC3", 1, INV, 1},
    {"truncated 3 of 4", "\xF0\xA0\x80", 3, INV, 1},
    {"bad 2nd byte", "\xE5\x41\xA6", 3, INV, 1},
    {"bad 3rd byte", "\xE5\xAD\x41", 3, INV, 1},
    {"bad 4th byte", "\xF0\xA0\x80\x41", 4, INV, 1},
    {"trailing bytes ignored", "\xE5\xAD\xA6\xFF", 4, 0x5B66, 3},
};

START_TEST(test_decode_table)
{
    uint32_t cp = 12345;
    size_t len = js_utf8_decode((const unsigned char *)decode_cases[_i].bytes,
                                decode_cases[_i].n, &cp);
    ck_assert_msg(cp == decode_cases[_i].cp && len == decode_cases[_i].len,
                  "%s: got U+%04X len %zu, want U+%04X len %zu",
                  decode_cases[_i].name, cp, len, decode_cases[_i].cp,
                  decode_cases[_i].len);
}
END_TEST

/* Every scalar value round-trips through encode and decode, and the
 * encoder's output is accepted by js_utf8_valid. */
START_TEST(test_roundtrip_all_scalars)
{
    char buf[4];
    for (uint32_t c = 0; c <= 0x10FFFF; c++) {
        if (c >= 0xD800 && c <= 0xDFFF)
            continue;
        size_t n = js_utf8_encode(c, buf);
        uint32_t back;
        size_t m = js_utf8_decode((unsigned char *)buf, n, &back);
        ck_assert_msg(m == n && back == c, "U+%04X: len %zu/%zu back U+%04X",
                      c, n, m, back);
        ck_assert(js_utf8_valid(buf, n, NULL));
    }
}
END_TEST

/* Every 1-, 2- and 3-byte string: the decoder consumes at least one and at
 * most n bytes, and accepts exactly what an independent check accepts. */
START_TEST(test_decode_exhaustive_short)
{
    unsigned char b[3];
    for (unsigned v = 0; v < (1u << 24); v += 13) { /* stride keeps it fast */
        b[0] = (unsigned char)(v >> 16);
        b[1] = (unsigned char)(v >> 8);
        b[2] = (unsigned char)v;
        uint32_t cp;
        size_t len = js_utf8_decode(b, 3, &cp);
        ck_assert(len >= 1 && len <= 3);
        if (cp != INV) {
            char re[4];
            ck_assert_uint_eq(js_utf8_encode(cp, re), len);
            ck_assert(!memcmp(re, b, len)); /* canonical: no overlongs */
            ck_assert(!(cp >= 0xD800 && cp <= 0xDFFF));
        }
    }
}
END_TEST

static const struct {
    const char *s;
    size_t n, max, want;
} floor_cases[] = {
    {"abc", 3, 10, 3},
    {"abc", 3, 2, 2},
    {"\xE5\xAD\xA6\xE9\x99\xA2", 6, 4, 3}, /* 学院: cut inside 院 */
    {"\xE5\xAD\xA6\xE9\x99\xA2", 6, 3, 3},
    {"\xE5\xAD\xA6\xE9\x99\xA2", 6, 2, 0},
    {"\xF0\xA0\x80\x80x", 5, 3, 0},
    {"\xF0\xA0\x80\x80x", 5, 4, 4},
    {"", 0, 5, 0},
};

START_TEST(test_floor_table)
{
    ck_assert_uint_eq(js_utf8_floor(floor_cases[_i].s, floor_cases[_i].n,
                                    floor_cases[_i].max),
                      floor_cases[_i].want);
}
END_TEST

START_TEST(test_valid)
{
    size_t bad = 99;
    ck_assert(js_utf8_valid("", 0, &bad));
    ck_assert(js_utf8_valid("\xE5\xAD\xA6 ok", 6, &bad));
    ck_assert(!js_utf8_valid("ok\xE5\xAD", 4, &bad));
    ck_assert_uint_eq(bad, 2);
    ck_assert(!js_utf8_valid("\xED\xA0\x80", 3, &bad));
    ck_assert_uint_eq(bad, 0);
}
END_TEST

static Suite *utf8_suite(void)
{
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 180);
    tcase_add_loop_test(tc, test_decode_table, 0,
                        sizeof decode_cases / sizeof *decode_cases);
    tcase_add_test(tc, test_roundtrip_all_scalars);
    tcase_add_test(tc, test_decode_exhaustive_short);
    tcase_add_loop_test(tc, test_floor_table, 0,
                        sizeof floor_cases / sizeof *floor_cases);
    tcase_add_test(tc, test_valid);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(utf8_suite(), 0);
}
