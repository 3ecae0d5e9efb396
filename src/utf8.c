/*
 * utf8.c — the out-of-line UTF-8 helpers (see utf8.h).
 *
 * In:  unvalidated bytes.  Out: boundaries and validity verdicts.
 */
#include "utf8.h"

size_t js_utf8_floor(const char *s, size_t n, size_t max)
{
    size_t k = n < max ? n : max;
    if (k == n)
        return k;
    /* s[k] exists: back up while it is a continuation byte, at most three
     * times (a character is at most four bytes). */
    for (int i = 0; i < 3 && k > 0 &&
                    ((unsigned char)s[k] & 0xC0) == 0x80;
         i++)
        k--;
    return k;
}

int js_utf8_valid(const char *s, size_t n, size_t *bad_offset)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = js_utf8_decode(p + i, n - i, &cp);
        if (cp == JS_UTF8_INVALID) {
            if (bad_offset)
                *bad_offset = i;
            return 0;
        }
        i += len;
    }
    return 1;
}
