/*
 * utf8.h — strict UTF-8 decoding and encoding of single code points.
 *
 * In:  bytes that nobody has validated (files, argv, queries, disk).
 * Out: one code point and the number of bytes it took, or "invalid" for a
 *      byte that does not start a well-formed sequence.
 *
 * Well-formed means RFC 3629 / Unicode table 3-7: no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
 * sequences.  The decoder never reads past `n` and always makes progress:
 * on an invalid byte it reports a length of 1 so the caller can treat the
 * byte as a separator and go on.  Inline because the text pipeline calls it
 * once per character.
 */
#ifndef JS_UTF8_H
#define JS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Marks an invalid byte in the code point returned by js_utf8_decode. */
#define JS_UTF8_INVALID 0xFFFFFFFFu

/* Decodes the sequence at s[0..n), n >= 1.  Stores the code point in *cp
 * (JS_UTF8_INVALID for an ill-formed or truncated sequence) and returns
 * the number of bytes consumed: 1..4 for a valid sequence, 1 for an invalid
 * one. */
static inline size_t js_utf8_decode(const unsigned char *s, size_t n,
                                    uint32_t *cp)
{
    unsigned b0 = s[0];
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    /* Range of the second byte and total length, by lead byte. */
    unsigned lo = 0x80, hi = 0xBF;
    size_t len;
    uint32_t c;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
        c = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        c = b0 & 0x0F;
        if (b0 == 0xE0)
            lo = 0xA0; /* overlong */
        else if (b0 == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        c = b0 & 0x07;
        if (b0 == 0xF0)
            lo = 0x90; /* overlong */
        else if (b0 == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        *cp = JS_UTF8_INVALID; /* 0x80..0xC1 or 0xF5..0xFF */
        return 1;
    }
    if (n < len || s[1] < lo || s[1] > hi) {
        *cp = JS_UTF8_INVALID;
        return 1;
    }
    c = (c << 6) | (s[1] & 0x3F);
    for (size_t i = 2; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = JS_UTF8_INVALID;
            return 1;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *cp = c;
    return len;
}

/* Encodes cp (must be <= U+10FFFF and not a surrogate) into out, which has
 * room for 4 bytes.  Returns the number of bytes written, 1..4. */
static inline size_t js_utf8_encode(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Returns how many bytes of s[0..n) form a prefix that ends on a character
 * boundary and is at most `max` bytes long: the largest k <= min(n, max)
 * such that s[k] is not a continuation byte.  Used to cut text (snippets,
 * previews) without splitting a character. */
size_t js_utf8_floor(const char *s, size_t n, size_t max);

/* Returns 1 if s[0..n) is entirely well-formed UTF-8, else 0, and stores
 * the offset of the first bad byte in *bad_offset when it is not NULL. */
int js_utf8_valid(const char *s, size_t n, size_t *bad_offset);

#endif /* JS_UTF8_H */
