/*
 * sections.h — the SECTIONS part: each section's document, ordinal, byte
 * range and field lengths (format: index/FORMAT.md, part 3).
 *
 * Why two halves: scoring reads a candidate's two lengths for every
 * candidate of every query, so they sit in a fixed-width array read in
 * O(1); the rest (document, ordinal, byte range) is read once per hit
 * shown, so it is packed in groups of JS_SECTION_GROUP sections, each
 * relative to the section before, found through a table of group
 * offsets.  Measured on chinese-poetry (332,878 sections): 10.65 MB of
 * 32-byte records became 2.30 MB (FORMAT.md gives the figures).
 *
 * In (writer): the sections in id order, one group at a time.
 * Out: the part's bytes.
 * In (reader): the part's bytes, untrusted.
 * Out: a section's lengths (unchecked values, any of which is safe), its
 *      record (a group decoded and bounds-checked on every read), and
 *      the check of the whole part for `jiansuo check`.
 */
#ifndef JS_SECTIONS_H
#define JS_SECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Sections per group.  A read sums the lengths of the sections before
 * its own in the group: 16 keeps that to a few dozen instructions, where
 * 32 would save 0.35 byte a section on chinese-poetry.  (The code takes
 * 16 or 32; the group's bit sets take JS_SECTION_BITS bytes each.) */
#define JS_SECTION_GROUP 16
#define JS_SECTION_BITS (JS_SECTION_GROUP / 8)
/* Bytes of the part header: u32 count, u32 length width, u32 offset
 * width. */
#define JS_SECTIONS_HEADER 12

typedef struct js_section_rec {
    uint32_t document, ordinal;
    uint64_t start, end;
    uint32_t body_len, head_len;
} js_section_rec;

/* ---- writing ---- */

/* The width (2 or 4 bytes) of the lengths array for these lengths: 2
 * when every one fits in 16 bits. */
unsigned js_sections_len_width(const uint32_t *body, const uint32_t *head,
                               size_t n);

/* Appends the part header: n sections, lengths of len_width bytes (2 or
 * 4), group offsets of off_width bytes (4 or 8). */
void js_sections_put_header(js_buf *out, uint32_t n, unsigned len_width,
                            unsigned off_width);

/* Appends one section's (body, heading) length pair at len_width. */
void js_sections_put_lens(js_buf *out, uint32_t body, uint32_t head,
                          unsigned len_width);

/* Appends the encoded group of r[0..k) (1 <= k <= JS_SECTION_GROUP; only
 * the last group of a part may be shorter).  prev is the section just
 * before r[0] (NULL when r[0] is section 0): every section must continue
 * the one before it as the reader requires (the same document and the
 * next ordinal, or the next document and ordinal 0; section 0 is
 * document 0, ordinal 0), with start <= end.  Lengths are not part of a
 * group.  Returns 0, JS_EINVALID (records the format cannot hold,
 * nothing appended) or JS_ENOMEM (out->oom set). */
int js_sections_put_group(js_buf *out, const js_section_rec *prev,
                          const js_section_rec *r, unsigned k);

/* The whole part for the n records r (their lengths included) in out,
 * appended: what the builder streams, in memory, for tests and tools.
 * off_width 0 takes the smallest offset width that fits, 8 forces u64
 * offsets.  Returns 0, JS_EINVALID (as js_sections_put_group) or
 * JS_ENOMEM. */
int js_sections_encode(js_buf *out, const js_section_rec *r, uint32_t n,
                       unsigned off_width);

/* ---- reading ---- */

typedef struct js_sections {
    const uint8_t *lens;   /* n pairs of 2- or 4-byte lengths */
    const uint8_t *offs;   /* groups + 1 offsets of 4 or 8 bytes */
    const uint8_t *groups; /* the encoded groups */
    uint64_t groups_len;
    uint32_t n, ndocs, ngroups;
    int lens16; /* the lengths are u16: fixed per index, so the branch in
                   js_sections_lens always goes the same way */
    int offs64;
} js_sections;

/* Points s at the part p[0..len) after checking its header and sizes
 * against the stats' section count n and document count ndocs (O(1):
 * groups are checked when read).  Returns 0 or JS_ECORRUPT with the
 * reason in err. */
int js_sections_open(js_sections *s, const uint8_t *p, uint64_t len,
                     uint64_t n, uint32_t ndocs, char *err, size_t errlen);

/* Section id's body and heading lengths (id < s->n, unchecked: the
 * caller's ids come from checked postings). */
static inline void js_sections_lens(const js_sections *s, uint32_t id,
                                    uint32_t *body, uint32_t *head)
{
    if (s->lens16) {
        const uint8_t *p = s->lens + (size_t)id * 4;
        *body = (uint32_t)p[0] | (uint32_t)p[1] << 8;
        *head = (uint32_t)p[2] | (uint32_t)p[3] << 8;
    } else {
        const uint8_t *p = s->lens + (size_t)id * 8;
        *body = js_le32(p);
        *head = js_le32(p + 4);
    }
}

/* Reads section id's record, decoding its group up to it: varints within
 * the group's bytes, document < ndocs, ordinal and end within their
 * types.  Returns 0 or JS_ECORRUPT (id out of range too). */
int js_sections_get(const js_sections *s, uint32_t id, js_section_rec *out);

/* Checks the whole part: every group decodes to exactly its bytes with
 * no stray bits, the sections follow one another (document 0 first, then
 * the same document and the next ordinal or the next document and
 * ordinal 0), the last is in the last document; and sums the lengths
 * into *body and *head.  Returns 0 or JS_ECORRUPT with the problem in
 * err. */
int js_sections_verify(const js_sections *s, uint64_t *body, uint64_t *head,
                       char *err, size_t errlen);

#endif /* JS_SECTIONS_H */
