/*
 * docid.h — a document's id as DOCUMENTS stores it (FORMAT.md, part 2).
 *
 * In:  an id string (builder.c), or the bytes of a stored id (reader.c).
 * Out: the stored form, or the string again: a UUID in canonical
 *      lowercase form (8-4-4-4-12 hex digits, 36 characters) is kept as
 *      its 16 bytes, anything else as text.  Header-only: the writer and
 *      the reader share these two functions and nothing else.
 */
#ifndef JS_DOCID_H
#define JS_DOCID_H

#include <stdint.h>
#include <string.h>

#define JS_DOCID_UUID 1   /* first byte of a stored UUID: 16 bytes follow */
#define JS_DOCID_ESCAPE 2 /* first byte of a text id that begins with 1 or 2 */
#define JS_DOCID_UUID_LEN 36

/* If id is a UUID in canonical lowercase form, writes its 16 bytes to
 * out and returns 1; else returns 0. */
static inline int js_docid_pack(const char *id, uint8_t out[16])
{
    if (strlen(id) != JS_DOCID_UUID_LEN)
        return 0;
    unsigned k = 0;
    for (unsigned i = 0; i < JS_DOCID_UUID_LEN; i++) {
        char c = id[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
            continue;
        }
        unsigned v;
        if (c >= '0' && c <= '9')
            v = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = (unsigned)(c - 'a' + 10);
        else
            return 0; /* upper case stays text: it would not read back */
        if (k % 2 == 0)
            out[k / 2] = (uint8_t)(v << 4);
        else
            out[k / 2] |= (uint8_t)v;
        k++;
    }
    return 1;
}

/* Spells the 16 bytes of a stored UUID out in canonical lowercase form,
 * NUL-terminated, in out. */
static inline void js_docid_unpack(const uint8_t in[16],
                                   char out[JS_DOCID_UUID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (unsigned i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[in[i] >> 4];
        *p++ = hex[in[i] & 15];
    }
    *p = 0;
}

#endif
