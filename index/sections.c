/*
 * sections.c — the SECTIONS part, written and read (sections.h;
 * FORMAT.md, part 3).
 *
 * A group: varint document and varint ordinal of its first section,
 * new-document bits, gap bits, the width w of its lengths, each section's
 * end - start in w bytes, then for each section whose gap bit is set a
 * varint, the zigzag of start - previous end.  Documents and ordinals of
 * the later sections follow from the new-document bits, since sections
 * come in ingest order: a document's sections are consecutive and
 * numbered from 0.  The lengths have a fixed width so that a read sums
 * them in a tight loop instead of decoding a varint per section.
 */
#include "config.h"

#include <stdio.h>

#include "jiansuo.h"
#include "sections.h"

/* Differences of u64 positions, wrapping, as small unsigned numbers:
 * 0, -1, 1, -2 ... become 0, 1, 2, 3 ... */
static uint64_t zigzag(uint64_t d) { return (d << 1) ^ (0 - (d >> 63)); }
static uint64_t unzigzag(uint64_t v) { return (v >> 1) ^ (0 - (v & 1)); }

unsigned js_sections_len_width(const uint32_t *body, const uint32_t *head,
                               size_t n)
{
    uint32_t any = 0;
    for (size_t i = 0; i < n; i++)
        any |= body[i] | head[i];
    return any > UINT16_MAX ? 4 : 2;
}

void js_sections_put_header(js_buf *out, uint32_t n, unsigned len_width,
                            unsigned off_width)
{
    js_buf_u32(out, n);
    js_buf_u32(out, len_width);
    js_buf_u32(out, off_width);
}

void js_sections_put_lens(js_buf *out, uint32_t body, uint32_t head,
                          unsigned len_width)
{
    if (len_width == 2) {
        js_buf_u16(out, (uint16_t)body);
        js_buf_u16(out, (uint16_t)head);
    } else {
        js_buf_u32(out, body);
        js_buf_u32(out, head);
    }
}

/* Whether r continues prev as the format requires (prev NULL: r is
 * section 0). */
static int follows(const js_section_rec *prev, const js_section_rec *r)
{
    if (!prev)
        return r->document == 0 && r->ordinal == 0;
    if (r->document == prev->document)
        return prev->ordinal != UINT32_MAX && r->ordinal == prev->ordinal + 1;
    return prev->document != UINT32_MAX &&
           r->document == prev->document + 1 && r->ordinal == 0;
}

/* Bytes that hold v (0 for 0). */
static unsigned width_of(uint64_t v)
{
    unsigned w = 0;
    while (v) {
        w++;
        v >>= 8;
    }
    return w;
}

int js_sections_put_group(js_buf *out, const js_section_rec *prev,
                          const js_section_rec *r, unsigned k)
{
    if (k == 0 || k > JS_SECTION_GROUP)
        return JS_EINVALID;
    uint32_t newdoc = 0, gap = 0;
    uint64_t end = 0, longest = 0;
    for (unsigned i = 0; i < k; i++) {
        if (!follows(i ? &r[i - 1] : prev, &r[i]) || r[i].start > r[i].end)
            return JS_EINVALID;
        if (i && r[i].document != r[i - 1].document)
            newdoc |= (uint32_t)1 << i;
        if (r[i].start != end)
            gap |= (uint32_t)1 << i;
        if (r[i].end - r[i].start > longest)
            longest = r[i].end - r[i].start;
        end = r[i].end;
    }
    unsigned w = width_of(longest);
    js_buf_varint(out, r[0].document);
    js_buf_varint(out, r[0].ordinal);
    for (unsigned i = 0; i < JS_SECTION_BITS; i++)
        js_buf_u8(out, (uint8_t)(newdoc >> 8 * i));
    for (unsigned i = 0; i < JS_SECTION_BITS; i++)
        js_buf_u8(out, (uint8_t)(gap >> 8 * i));
    js_buf_u8(out, (uint8_t)w);
    for (unsigned i = 0; i < k; i++)
        for (unsigned b = 0; b < w; b++)
            js_buf_u8(out, (uint8_t)((r[i].end - r[i].start) >> 8 * b));
    end = 0;
    for (unsigned i = 0; i < k; i++) {
        if (gap >> i & 1)
            js_buf_varint(out, zigzag(r[i].start - end));
        end = r[i].end;
    }
    return out->oom ? JS_ENOMEM : 0;
}

int js_sections_encode(js_buf *out, const js_section_rec *r, uint32_t n,
                       unsigned off_width)
{
    uint32_t any = 0;
    for (uint32_t i = 0; i < n; i++)
        any |= r[i].body_len | r[i].head_len;
    unsigned lw = any > UINT16_MAX ? 4 : 2;
    /* the groups first, in a buffer of their own, to learn their offsets */
    js_buf groups = JS_BUF_INIT, offs = JS_BUF_INIT;
    int rc = 0;
    for (uint32_t i = 0; !rc && i < n; i += JS_SECTION_GROUP) {
        unsigned k = n - i < JS_SECTION_GROUP ? n - i : JS_SECTION_GROUP;
        js_buf_u64(&offs, groups.len);
        rc = js_sections_put_group(&groups, i ? &r[i - 1] : NULL, &r[i], k);
    }
    js_buf_u64(&offs, groups.len);
    if (!rc && (offs.oom || groups.oom))
        rc = JS_ENOMEM;
    if (!rc) {
        unsigned ow = off_width ? off_width
                      : groups.len > UINT32_MAX ? 8 : 4;
        js_sections_put_header(out, n, lw, ow);
        for (uint32_t i = 0; i < n; i++)
            js_sections_put_lens(out, r[i].body_len, r[i].head_len, lw);
        for (size_t i = 0; i < offs.len; i += 8) {
            uint64_t o = js_le64(offs.p + i);
            if (ow == 4)
                js_buf_u32(out, (uint32_t)o);
            else
                js_buf_u64(out, o);
        }
        js_buf_put(out, groups.p, groups.len);
        rc = out->oom ? JS_ENOMEM : 0;
    }
    js_buf_free(&groups);
    js_buf_free(&offs);
    return rc;
}

/* ---- reading ---- */

/* get_varint past its fast cases. */
static int get_varint_slow(const uint8_t **pp, const uint8_t *end,
                           uint64_t *v)
{
    const uint8_t *p = *pp;
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 70 && p < end; shift += 7) {
        uint8_t c = *p++;
        if (shift == 63 && c > 1) /* above 2^64 - 1, or an 11th byte */
            return -1;
        x |= (uint64_t)(c & 0x7F) << shift;
        if (c < 0x80) {
            *v = x;
            *pp = p;
            return 0;
        }
    }
    return -1;
}

/* Reads a varint of at most 10 bytes, at most 2^64 - 1, from *pp before
 * end, advancing *pp.  Returns 0, or -1 for a truncated or too long
 * one.  Up to four bytes are decoded inline, unrolled: a group's first
 * document and first start take three and four on chinese-poetry. */
static inline int get_varint(const uint8_t **pp, const uint8_t *end,
                             uint64_t *v)
{
    const uint8_t *p = *pp;
    if (end - p >= 4) {
        uint64_t x = p[0];
        if (x < 0x80) {
            *v = x;
            *pp = p + 1;
            return 0;
        }
        x = (x & 0x7F) | (uint64_t)p[1] << 7;
        if (p[1] < 0x80) {
            *v = x;
            *pp = p + 2;
            return 0;
        }
        x = (x & 0x3FFF) | (uint64_t)p[2] << 14;
        if (p[2] < 0x80) {
            *v = x;
            *pp = p + 3;
            return 0;
        }
        x = (x & 0x1FFFFF) | (uint64_t)p[3] << 21;
        if (p[3] < 0x80) {
            *v = x;
            *pp = p + 4;
            return 0;
        }
    }
    return get_varint_slow(pp, end, v);
}

/* The number of bits set in x (no popcount instruction is assumed). */
static inline unsigned bits32(uint32_t x)
{
    x -= (x >> 1) & 0x55555555u;
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0F0F0F0Fu;
    return (x * 0x01010101u) >> 24;
}

int js_sections_open(js_sections *s, const uint8_t *p, uint64_t len,
                     uint64_t n, uint32_t ndocs, char *err, size_t errlen)
{
    if (len < JS_SECTIONS_HEADER) {
        snprintf(err, errlen, "the sections part is too short");
        return JS_ECORRUPT;
    }
    uint32_t count = js_le32(p), lw = js_le32(p + 4), ow = js_le32(p + 8);
    if (count != n) {
        snprintf(err, errlen, "the sections part holds %u sections, the "
                 "stats say %llu", count, (unsigned long long)n);
        return JS_ECORRUPT;
    }
    if ((lw != 2 && lw != 4) || (ow != 4 && ow != 8)) {
        snprintf(err, errlen, "the sections part has a bad length or "
                 "offset width (%u, %u)", lw, ow);
        return JS_ECORRUPT;
    }
    uint32_t ngroups = count / JS_SECTION_GROUP +
                       (count % JS_SECTION_GROUP != 0);
    /* at most 12 + 2^32 * 8 + 2^28 * 8: no overflow */
    uint64_t fixed = JS_SECTIONS_HEADER + (uint64_t)count * 2 * lw +
                     ((uint64_t)ngroups + 1) * ow;
    if (len < fixed) {
        snprintf(err, errlen, "the sections part is too short for %u "
                 "sections", count);
        return JS_ECORRUPT;
    }
    s->lens = p + JS_SECTIONS_HEADER;
    s->offs = s->lens + (size_t)count * 2 * lw;
    s->groups = p + fixed;
    s->groups_len = len - fixed;
    s->n = count;
    s->ndocs = ndocs;
    s->ngroups = ngroups;
    s->lens16 = lw == 2;
    s->offs64 = ow == 8;
    uint64_t first = s->offs64 ? js_le64(s->offs) : js_le32(s->offs);
    uint64_t last = s->offs64 ? js_le64(s->offs + 8 * (size_t)ngroups)
                              : js_le32(s->offs + 4 * (size_t)ngroups);
    if (first != 0 || last != s->groups_len) {
        snprintf(err, errlen, "the sections part's group offsets do not "
                 "span its groups");
        return JS_ECORRUPT;
    }
    return 0;
}

/* The k of a group: JS_SECTION_GROUP but for a shorter last one. */
static inline unsigned group_size(const js_sections *s, uint32_t g)
{
    uint32_t left = s->n - g * JS_SECTION_GROUP;
    return left < JS_SECTION_GROUP ? left : JS_SECTION_GROUP;
}

/* A group's header, decoded, and where its lengths and gaps lie. */
typedef struct group {
    uint64_t document, ordinal;
    uint32_t newdoc, gap;
    unsigned k, w;             /* sections; bytes of each length */
    const uint8_t *lens;       /* k lengths of w bytes */
    const uint8_t *gaps, *end; /* the gaps' varints, the group's end */
} group;

/* Decodes group g's header.  Returns 0 or -1 (bad offsets, a bad varint,
 * a width above 8, lengths past the group's bytes). */
static inline int group_open(const js_sections *s, uint32_t g, group *d)
{
    uint64_t a, b;
    if (s->offs64) {
        a = js_le64(s->offs + 8 * (size_t)g);
        b = js_le64(s->offs + 8 * (size_t)g + 8);
    } else {
        a = js_le32(s->offs + 4 * (size_t)g);
        b = js_le32(s->offs + 4 * (size_t)g + 4);
    }
    if (a > b || b > s->groups_len)
        return -1;
    const uint8_t *p = s->groups + a, *e = s->groups + b;
    if (get_varint(&p, e, &d->document) || get_varint(&p, e, &d->ordinal) ||
        e - p < 2 * JS_SECTION_BITS + 1)
        return -1;
    d->newdoc = d->gap = 0;
    for (unsigned i = 0; i < JS_SECTION_BITS; i++) {
        d->newdoc |= (uint32_t)p[i] << 8 * i;
        d->gap |= (uint32_t)p[JS_SECTION_BITS + i] << 8 * i;
    }
    p += 2 * JS_SECTION_BITS;
    d->w = *p++;
    d->k = group_size(s, g);
    if (d->w > 8 || (uint64_t)(e - p) < (uint64_t)d->k * d->w)
        return -1;
    d->lens = p;
    d->gaps = p + (size_t)d->k * d->w;
    d->end = e;
    return 0;
}

/* Length i of the group (i < k). */
static inline uint64_t group_len(const group *d, unsigned i)
{
    const uint8_t *p = d->lens + (size_t)i * d->w;
    uint64_t v = 0;
    for (unsigned b = 0; b < d->w; b++)
        v |= (uint64_t)p[b] << 8 * b;
    return v;
}

/* The sum of the group's lengths 0..j-1, modulo 2^64.  The widths of
 * real text have loops of their own, which the compiler unrolls. */
static inline uint64_t group_len_sum(const group *d, unsigned j)
{
    const uint8_t *p = d->lens;
    uint64_t sum = 0;
    switch (d->w) {
    case 0:
        break;
    case 1:
        for (unsigned i = 0; i < j; i++)
            sum += p[i];
        break;
    case 2:
        for (unsigned i = 0; i < j; i++)
            sum += (uint64_t)p[2 * i] | (uint64_t)p[2 * i + 1] << 8;
        break;
    default:
        for (unsigned i = 0; i < j; i++)
            sum += group_len(d, i);
    }
    return sum;
}

int js_sections_get(const js_sections *s, uint32_t id, js_section_rec *out)
{
    if (id >= s->n)
        return JS_ECORRUPT;
    unsigned j = id % JS_SECTION_GROUP;
    group d;
    if (group_open(s, id / JS_SECTION_GROUP, &d))
        return JS_ECORRUPT;
    /* start = the gaps of sections 0..j plus the lengths of 0..j-1: the
     * gaps' varints come in section order, so those of 0..j come first */
    uint64_t start = group_len_sum(&d, j), len = group_len(&d, j);
    const uint8_t *p = d.gaps;
    for (uint32_t gaps = d.gap & (((uint32_t)2 << j) - 1); gaps;
         gaps &= gaps - 1) {
        uint64_t v;
        if (get_varint(&p, d.end, &v))
            return JS_ECORRUPT;
        start += unzigzag(v); /* wraps, as it was coded */
    }
    if (len > UINT64_MAX - start)
        return JS_ECORRUPT;
    /* the document: the first's plus the documents begun up to j; the
     * ordinal counts from the last of them, else from the first's */
    uint32_t begun = d.newdoc & (((uint32_t)2 << j) - 2);
    if (d.document >= s->ndocs)
        return JS_ECORRUPT;
    uint64_t doc = d.document + bits32(begun);
    uint64_t ord = begun ? j - (31u - (unsigned)__builtin_clz(begun))
                         : d.ordinal + j;
    if (doc >= s->ndocs || ord > UINT32_MAX)
        return JS_ECORRUPT;
    out->document = (uint32_t)doc;
    out->ordinal = (uint32_t)ord;
    out->start = start;
    out->end = start + len;
    js_sections_lens(s, id, &out->body_len, &out->head_len);
    return 0;
}

int js_sections_verify(const js_sections *s, uint64_t *body, uint64_t *head,
                       char *err, size_t errlen)
{
    uint64_t bsum = 0, hsum = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        uint32_t b, h;
        js_sections_lens(s, i, &b, &h);
        bsum += b;
        hsum += h;
    }
    *body = bsum;
    *head = hsum;
    js_section_rec prev = {0, 0, 0, 0, 0, 0};
    for (uint32_t g = 0; g < s->ngroups; g++) {
        uint32_t first = g * JS_SECTION_GROUP;
        group d;
        if (group_open(s, g, &d)) {
            snprintf(err, errlen, "sections: group %u (section %u on) has "
                     "bad offsets or a bad header", g, first);
            return JS_ECORRUPT;
        }
        unsigned k = d.k;
        uint32_t unused = k < 32 ? ~(uint32_t)0 << k : 0;
        if ((d.newdoc & (unused | 1)) || (d.gap & unused)) {
            snprintf(err, errlen, "sections: group %u (section %u on) has "
                     "bits set for no section", g, first);
            return JS_ECORRUPT;
        }
        const uint8_t *p = d.gaps;
        uint64_t end = 0;
        for (unsigned i = 0; i < k; i++) {
            uint32_t id = first + i;
            js_section_rec r;
            uint64_t v = 0, len = group_len(&d, i);
            if ((d.gap >> i & 1) && get_varint(&p, d.end, &v)) {
                snprintf(err, errlen, "sections: section %u has a bad "
                         "varint", id);
                return JS_ECORRUPT;
            }
            r.start = end + unzigzag(v);
            if (len > UINT64_MAX - r.start) {
                snprintf(err, errlen, "sections: section %u ends past "
                         "2^64 - 1", id);
                return JS_ECORRUPT;
            }
            r.end = end = r.start + len;
            uint64_t doc, ord;
            if (i == 0) {
                doc = d.document;
                ord = d.ordinal;
            } else if (d.newdoc >> i & 1) {
                doc = (uint64_t)prev.document + 1;
                ord = 0;
            } else {
                doc = prev.document;
                ord = (uint64_t)prev.ordinal + 1;
            }
            if (doc >= s->ndocs) {
                snprintf(err, errlen, "sections: section %u is in document "
                         "%llu of %u", id, (unsigned long long)doc, s->ndocs);
                return JS_ECORRUPT;
            }
            if (ord > UINT32_MAX) {
                snprintf(err, errlen, "sections: section %u has ordinal "
                         "%llu", id, (unsigned long long)ord);
                return JS_ECORRUPT;
            }
            r.document = (uint32_t)doc;
            r.ordinal = (uint32_t)ord;
            if (!follows(id ? &prev : NULL, &r)) {
                snprintf(err, errlen, "sections: section %u (document %u, "
                         "ordinal %u) does not follow section %u (document "
                         "%u, ordinal %u)", id, r.document, r.ordinal,
                         id ? id - 1 : 0, prev.document, prev.ordinal);
                return JS_ECORRUPT;
            }
            /* what the readers make of the same bytes */
            js_section_rec got;
            if (js_sections_get(s, id, &got) || got.document != r.document ||
                got.ordinal != r.ordinal || got.start != r.start ||
                got.end != r.end) {
                snprintf(err, errlen, "sections: section %u reads back "
                         "differently", id);
                return JS_ECORRUPT;
            }
            prev = r;
        }
        if (p != d.end) {
            snprintf(err, errlen, "sections: group %u (section %u on) has "
                     "%llu bytes after its last section", g, first,
                     (unsigned long long)(d.end - p));
            return JS_ECORRUPT;
        }
    }
    if (s->n ? prev.document + 1 != s->ndocs : s->ndocs != 0) {
        snprintf(err, errlen, "sections: documents without sections");
        return JS_ECORRUPT;
    }
    return 0;
}
