/*
 * fuzz.h — what the fuzz targets share.
 *
 * In:  nothing.  Out: the libFuzzer entry points' prototypes (so that
 *      -Wmissing-prototypes is satisfied and replay.c calls the same
 *      functions) and FUZZ_FAIL, which reports a broken invariant and
 *      aborts: abort() rather than assert(), which NDEBUG would drop.
 */
#ifndef JS_FUZZ_H
#define JS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_FAIL(...)                                                      \
    do {                                                                    \
        fprintf(stderr, "%s:%d: invariant broken: ", __FILE__, __LINE__);   \
        fprintf(stderr, __VA_ARGS__);                                       \
        fputc('\n', stderr);                                                \
        abort();                                                            \
    } while (0)

/* Length of the strict UTF-8 sequence at s[0..n), 0 if invalid (bad
 * lead, truncated, overlong, surrogate, above U+10FFFF).  The targets'
 * own oracle, written apart from src/utf8.h, whose decoder is among what
 * they test. */
static inline size_t fuzz_utf8_char(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* 1 if s[0..n) is whole strict UTF-8 characters (NUL only if nul_ok). */
static inline int fuzz_utf8_valid(const uint8_t *s, size_t n, int nul_ok)
{
    for (size_t i = 0; i < n;) {
        size_t l = fuzz_utf8_char(s + i, n - i);
        if (!l || (!nul_ok && s[i] == 0))
            return 0;
        i += l;
    }
    return 1;
}

#endif /* JS_FUZZ_H */
