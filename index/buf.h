/*
 * buf.h — byte buffers for writing index parts, and bounds-checked
 * readers for decoding them.
 *
 * In:  integers and bytes to append (writer side); untrusted bytes from
 *      disk (reader side).
 * Out: a growable little-endian byte buffer; values read back, or a
 *      sticky error flag the moment a read would pass the end.
 *
 * Every on-disk integer in jiansuo's index is little-endian; varints are
 * LEB128 (7 bits a byte, low first, at most 10 bytes for 64 bits).  See
 * index/FORMAT.md.
 */
#ifndef JS_BUF_H
#define JS_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jiansuo.h"

typedef struct js_buf {
    uint8_t *p;
    size_t len, cap;
    int oom; /* sticky: an allocation failed */
} js_buf;

#define JS_BUF_INIT {NULL, 0, 0, 0}

/* Makes room for n more bytes.  Returns 0, or JS_ENOMEM (and sets oom). */
static inline int js_buf_reserve(js_buf *b, size_t n)
{
    if (b->oom)
        return JS_ENOMEM;
    if (n <= b->cap - b->len)
        return 0;
    if (n > SIZE_MAX - b->len) { /* len + n would wrap */
        b->oom = 1;
        return JS_ENOMEM;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) {
        if (cap > SIZE_MAX / 2) {
            b->oom = 1;
            return JS_ENOMEM;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return JS_ENOMEM;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

/* Appends n bytes.  Returns 0 or JS_ENOMEM. */
static inline int js_buf_put(js_buf *b, const void *s, size_t n)
{
    if (js_buf_reserve(b, n))
        return JS_ENOMEM;
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

static inline int js_buf_u8(js_buf *b, uint8_t v) { return js_buf_put(b, &v, 1); }

static inline int js_buf_u16(js_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    return js_buf_put(b, x, 2);
}

/* Little-endian loads and stores at p, for records whose bounds the
 * caller has checked (js_rd checks them itself). */
static inline uint32_t js_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline uint64_t js_le64(const uint8_t *p)
{
    return js_le32(p) | ((uint64_t)js_le32(p + 4) << 32);
}

static inline void js_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void js_put_le64(uint8_t *p, uint64_t v)
{
    js_put_le32(p, (uint32_t)v);
    js_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline int js_buf_u32(js_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 24)};
    return js_buf_put(b, x, 4);
}

static inline int js_buf_u64(js_buf *b, uint64_t v)
{
    if (js_buf_u32(b, (uint32_t)v))
        return JS_ENOMEM;
    return js_buf_u32(b, (uint32_t)(v >> 32));
}

/* Writes v as a LEB128 varint at p, which has room for 10 bytes.
 * Returns its length, 1..10. */
static inline size_t js_put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static inline int js_buf_varint(js_buf *b, uint64_t v)
{
    uint8_t x[10];
    return js_buf_put(b, x, js_put_varint(x, v));
}

/* Frees the buffer's memory and resets it to empty. */
static inline void js_buf_free(js_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

/* Text in a js_buf: js_buf_text and js_buf_puts keep the bytes
 * NUL-terminated one past len (the NUL is not counted), so that
 * js_buf_str can hand the text to string functions.  Mixing them with
 * js_buf_put is fine as long as the last append was a text one. */
static inline int js_buf_text(js_buf *b, const char *s, size_t n)
{
    /* n + 1 must not wrap to 0; SIZE_MAX bytes are never had anyway */
    if (js_buf_reserve(b, n == SIZE_MAX ? n : n + 1))
        return JS_ENOMEM;
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

static inline int js_buf_puts(js_buf *b, const char *s)
{
    return js_buf_text(b, s, strlen(s));
}

/* The text of b: "" when nothing was ever added. */
static inline const char *js_buf_str(const js_buf *b)
{
    return b->p ? (const char *)b->p : "";
}

/* Empties b, keeping its memory and its sticky oom flag. */
static inline void js_buf_clear(js_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = 0;
}

/* Reader over untrusted bytes.  Any read past the end sets `bad` and
 * yields zeros; check `bad` once after a group of reads. */
typedef struct js_rd {
    const uint8_t *p, *end;
    int bad;
} js_rd;

static inline js_rd js_rd_make(const void *p, size_t n)
{
    js_rd r = {(const uint8_t *)p, (const uint8_t *)p + n, 0};
    return r;
}

static inline size_t js_rd_left(const js_rd *r) { return (size_t)(r->end - r->p); }

/* Returns a pointer to the next n bytes and skips them, or NULL (and sets
 * bad) when fewer remain. */
static inline const uint8_t *js_rd_bytes(js_rd *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *s = r->p;
    r->p += n;
    return s;
}

static inline uint8_t js_rd_u8(js_rd *r)
{
    const uint8_t *s = js_rd_bytes(r, 1);
    return s ? s[0] : 0;
}

static inline uint16_t js_rd_u16(js_rd *r)
{
    const uint8_t *s = js_rd_bytes(r, 2);
    return s ? (uint16_t)(s[0] | (s[1] << 8)) : 0;
}

static inline uint32_t js_rd_u32(js_rd *r)
{
    const uint8_t *s = js_rd_bytes(r, 4);
    return s ? (uint32_t)s[0] | ((uint32_t)s[1] << 8) |
                   ((uint32_t)s[2] << 16) | ((uint32_t)s[3] << 24)
             : 0;
}

static inline uint64_t js_rd_u64(js_rd *r)
{
    uint64_t lo = js_rd_u32(r);
    return lo | ((uint64_t)js_rd_u32(r) << 32);
}

/* Reads a LEB128 varint of at most 10 bytes; a longer or truncated one,
 * or one above 2^64-1, sets bad. */
static inline uint64_t js_rd_varint(js_rd *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (r->bad || r->p >= r->end) {
            r->bad = 1;
            return 0;
        }
        uint8_t c = *r->p++;
        if (shift == 63 && (c & 0x7E)) {
            r->bad = 1;
            return 0;
        }
        v |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

/* Reads a varint that must fit in 32 bits. */
static inline uint32_t js_rd_varint32(js_rd *r)
{
    uint64_t v = js_rd_varint(r);
    if (v > UINT32_MAX) {
        r->bad = 1;
        return 0;
    }
    return (uint32_t)v;
}

#endif /* JS_BUF_H */
