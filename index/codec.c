/*
 * codec.c — one term's postings record (index/FORMAT.md, part 8
 * POSTINGS) and the page checksums of the part (part 11 POSTINGS_CRC):
 * the encoder the index writer calls once per term, and the cursor the
 * query engine walks.
 *
 * In (encoder): a term's entries — section ids strictly increasing, term
 *      frequencies >= 1, optionally every entry's positions (strictly
 *      increasing within the entry) and every entry's section body length.
 * Out: the record appended to a js_buf.  A record of at most block_size
 *      entries (one block, the df of most terms: 1.29 M of chinese-
 *      poetry's 2.5 M terms have df 1) is varints alone:
 *        per entry varint(gap << 1 | tf > 1) [varint(tf - 2)]
 *        then, with positions, per entry its tf position differences
 *      Longer records:
 *        block 0 | block 1 | ...
 *        skip table: nblocks x {u32 last id, u32 end, u32 max tf,
 *                    f32 max norm}, u32 crc32 of those nblocks*16 bytes
 *      "end" is the offset just past the block, counted from the start
 *      of the record.  The table comes last so that a writer can stream
 *      the blocks of a term of any size (js_postings_writer) and keep
 *      only the table, 16 bytes a block.
 *      Block: ids (Stream VByte differential, from the previous block's
 *      last id, 0 for block 0); a bitmap of tf > 1, ceil(n / 8) bytes,
 *      then varint(tf - 2) per set bit; with positions, per entry its tf
 *      position differences as varints (the first from 0).
 * In (cursor): those bytes, untrusted and borrowed (usually mmap'ed),
 *      plus df, block size, the positions flag and the section count
 *      (ids must be below it), which the caller took from elsewhere.
 * Out: entries in id order, per-block maxima for block-max scoring,
 *      positions on demand — or JS_ECORRUPT, never a crash or a read
 *      outside [data, data + len).
 *
 * What the cursor checks, and when:
 *   open: the argument ranges; df <= section count; a one-block record
 *     has a byte per entry at least; a longer one holds the skip table
 *     df implies; the table's crc; in the table, each block leaves room
 *     for the smallest encoding of its entries and the last one ends
 *     where the table starts, last ids strictly increase by at least the
 *     block's entry count (so the block can hold that many distinct ids)
 *     and stay below the section count, max tfs are >= 1 and max norms
 *     finite and >= 0.  (A norm set too high only slows a search; one too
 *     low could hide a hit, which `jiansuo check` finds by recomputing
 *     every norm.)
 *   loading a block (next, seek, or skip_block on a one-block record):
 *     with shared checks, the crcs of the pages it spans (once per page
 *     and js_block_checks); every varint within the block and at most 5
 *     bytes for a 32-bit value, 10 for the 64-bit gap; the lengths the
 *     Stream VByte control bytes announce fit the block *before* any
 *     decoding (see the next paragraph); ids strictly increase, the first
 *     above the previous block's last id, all below the section count,
 *     the last equal to the skip table's; tf - 2 <= 2^32 - 3; no bitmap
 *     bit past the block's entries; the block's max tf equals the skip
 *     table's; without positions the frequencies end the block exactly;
 *     with positions the rest of the block holds a byte for each of the
 *     sum(tf) positions at least.
 *   first js_postings_positions in a block: the positions' varints use
 *     exactly the rest of the block; every position after an entry's
 *     first is a difference >= 1 that does not pass 2^32 - 1.
 * Checks that need the section table (tf and positions within the
 * section's body length) are the caller's: it knows the lengths.
 *
 * Decoding.  The ids of long records are libstreamvbyte's format, and
 * the library encodes them, but codec.c decodes them itself: Debian's
 * libstreamvbyte 0.4.1 is a build without SSSE3 whose portable decoder
 * spends about 45 instructions on a value, a third of a query's work
 * (callgrind).  The fast loop (svb_decode_fast) loads four bytes per
 * value and masks them, so it may read up to 4 bytes past the array's
 * last byte: those must lie inside the mapped part, so it runs only when
 * at least SVB_SLACK bytes follow the array; otherwise a byte-at-a-time
 * loop decodes it.  (In a record the skip table, 36 bytes at least,
 * follows every block.)  tests/check_codec.c places records just before
 * an inaccessible page to hold both to that, and compares both with the
 * library's decoder.
 *
 * Cost per block on the hot path: the pages' crc32 on their first load
 * through a reader (js_block_checks), one table pass over the control
 * bytes (count/4 bytes) and one decoding loop for ids that also checks
 * them, a bitmap pass for frequencies (mostly 1); a one-block record is
 * one varint loop.  Positions cost nothing until asked for.
 */
#include "config.h"

#include "codec.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>

#include <streamvbyte.h>
#include <streamvbytedelta.h>

#include "buf.h"
#include "jiansuo.h"

#define SKIP_ENTRY 16       /* bytes per skip table entry */
#define BLOCK_MAX (JS_BLOCK_SIZE * 8) /* the cursor's arrays hold this many */
#define SVB_SLACK 4 /* readable bytes svb_decode_fast needs after an array */

/* ---------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------- */

/* codec.h.  libdeflate computes it: on first touch a search crcs a whole
 * 1 KiB page for the few bytes of a rare term's record, and Debian's zlib
 * 1.2.13 spends about 1.5 instructions a byte on it where libdeflate
 * folds 64 bytes a step with PCLMULQDQ when the CPU has it (same
 * polynomial and convention, so the format is unchanged). */
uint32_t js_crc32(const uint8_t *p, size_t n)
{
    return libdeflate_crc32(0, p, n);
}

uint32_t js_crc32_more(uint32_t crc, const void *p, size_t n)
{
    return libdeflate_crc32(crc, p, n);
}

/* Reads a varint of at most 5 bytes whose value fits 32 bits at *pp,
 * never at or past end.  Returns 1 with the value in *out and *pp moved
 * past it, or 0: cut off by end, longer than 5 bytes, or above 2^32 - 1
 * (the fifth byte holds the top 4 bits and ends the varint). */
static inline int rd_v32(const uint8_t **pp, const uint8_t *end, uint32_t *out)
{
    const uint8_t *p = *pp;
    size_t avail = (size_t)(end - p);
    if (avail && p[0] < 0x80) { /* most values: one byte */
        *out = p[0];
        *pp = p + 1;
        return 1;
    }
    uint32_t v = 0;
    for (unsigned k = 0; k < 5 && k < avail; k++) {
        uint32_t b = p[k];
        if (k == 4 && b > 0x0F)
            return 0;
        v |= (b & 0x7F) << (7 * k);
        if (b < 0x80) {
            *out = v;
            *pp = p + k + 1;
            return 1;
        }
    }
    return 0;
}

/* rd_v32 for a 64-bit value: at most 10 bytes, the tenth holding the top
 * bit alone.  Returns 1 or 0 as rd_v32. */
static inline int rd_v64(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    size_t avail = (size_t)(end - p);
    if (avail && p[0] < 0x80) {
        *out = p[0];
        *pp = p + 1;
        return 1;
    }
    uint64_t v = 0;
    for (unsigned k = 0; k < 10 && k < avail; k++) {
        uint64_t b = p[k];
        if (k == 9 && b > 1)
            return 0;
        v |= (b & 0x7F) << (7 * k);
        if (b < 0x80) {
            *out = v;
            *pp = p + k + 1;
            return 1;
        }
    }
    return 0;
}

/* Stream VByte packs four 2-bit codes per control byte, the first value
 * in the low bits.  These return how many data bytes `count` codes at
 * keys[0..(count+3)/4) announce (the caller has checked that the control
 * bytes themselves are inside the block).  The codes of unused slots in a
 * last, partial control byte are ignored, as the decoders ignore them.
 * One table lookup per control byte: a 1234 code c costs c + 1 bytes, a
 * 0124 code c + (c == 3) (0, 1, 2, 4).  (A table, not popcount: without
 * -mpopcnt, which Debian's baseline lacks, __builtin_popcountll is a
 * library call.) */
#define SVB_L1234(c) (((c) & 3) + 1)
#define SVB_L0124(c) (((c) & 3) + (((c) & 3) == 3))
#define SVB_K(L, k) (L(k) + L((k) >> 2) + L((k) >> 4) + L((k) >> 6))
#define SVB_T4(L, k) SVB_K(L, k), SVB_K(L, k + 1), SVB_K(L, k + 2), SVB_K(L, k + 3)
#define SVB_T16(L, k) SVB_T4(L, k), SVB_T4(L, k + 4), SVB_T4(L, k + 8), SVB_T4(L, k + 12)
#define SVB_T64(L, k) SVB_T16(L, k), SVB_T16(L, k + 16), SVB_T16(L, k + 32), SVB_T16(L, k + 48)
#define SVB_T256(L) SVB_T64(L, 0), SVB_T64(L, 64), SVB_T64(L, 128), SVB_T64(L, 192)

static const uint8_t svb_key_len[2][256] = {{SVB_T256(SVB_L1234)},
                                            {SVB_T256(SVB_L0124)}};

static uint64_t svb_data_len(const uint8_t *keys, uint32_t count, int is0124)
{
    const uint8_t *t = svb_key_len[is0124 != 0];
    uint32_t full = count / 4, rem = count % 4;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < full; i++)
        sum += t[keys[i]];
    /* the partial byte, if any: only its used codes */
    for (uint32_t j = 0; j < rem; j++) {
        unsigned c = (keys[full] >> (2 * j)) & 3;
        sum += is0124 ? SVB_L0124(c) : SVB_L1234(c);
    }
    return sum;
}

/* Decodes the stored values (differences, for a delta array: svb_take
 * sums them) one byte at a time: `count` values from an array whose
 * length the caller has validated with svb_data_len, so that every read
 * below is inside it. */
static void svb_decode_scalar(const uint8_t *in, uint32_t *out, uint32_t count,
                              int is0124)
{
    const uint8_t *keys = in, *d = in + ((size_t)count + 3) / 4;
    static const uint8_t len1234[4] = {1, 2, 3, 4}, len0124[4] = {0, 1, 2, 4};
    const uint8_t *lens = is0124 ? len0124 : len1234;
    for (uint32_t i = 0; i < count; i++) {
        unsigned code = (keys[i / 4] >> (2 * (i % 4))) & 3;
        uint32_t v = 0;
        for (unsigned k = 0; k < lens[code]; k++)
            v |= (uint32_t)d[k] << (8 * k);
        d += lens[code];
        out[i] = v;
    }
}


/* What load_block checks of an array, gathered while it is decoded. */
typedef struct svb_acc {
    uint32_t bad; /* DELTA: a value not above the one before (or prev) */
} svb_acc;

/* One decoded value v: returns what the array holds (the running sum
 * for DELTA) and notes it in a. */
static inline uint32_t svb_value(int kind, uint32_t v, uint32_t *prev,
                                 svb_acc *a)
{
    if (kind == JS_SVB_DELTA) {
        uint32_t next = *prev + v; /* wraps like the library */
        a->bad |= next <= *prev;   /* a difference of 0, or one that wrapped */
        *prev = next;
        return next;
    }
    return v;
}

/* Decodes an array four bytes at a time (see "Decoding" at the top):
 * each value is one unaligned little-endian load, masked to its length,
 * so the caller must give SVB_SLACK readable bytes past the array; about
 * 7 instructions a value.  The kind is a constant in each call below, so
 * each gets its own loop, and the checks of svb_value cost no second
 * pass over the array. */
static inline void svb_decode_fast(const uint8_t *in, uint32_t *out,
                                   uint32_t count, int kind, uint32_t prev,
                                   svb_acc *a)
{
    static const uint8_t len1234[4] = {1, 2, 3, 4}, len0124[4] = {0, 1, 2, 4};
    static const uint32_t mask1234[4] = {0xff, 0xffff, 0xffffff, 0xffffffff},
                          mask0124[4] = {0, 0xff, 0xffff, 0xffffffff};
    const int is0124 = kind == JS_SVB_0124;
    const uint8_t *lens = is0124 ? len0124 : len1234;
    const uint32_t *masks = is0124 ? mask0124 : mask1234;
    const uint8_t *keys = in, *d = in + ((size_t)count + 3) / 4;
    uint32_t i = 0;
    for (; i + 4 <= count; i += 4) {
        unsigned key = keys[i / 4];
        for (unsigned j = 0; j < 4; j++, key >>= 2) {
            uint32_t v = js_le32(d) & masks[key & 3];
            d += lens[key & 3];
            out[i + j] = svb_value(kind, v, &prev, a);
        }
    }
    for (unsigned key = i < count ? keys[i / 4] : 0; i < count; i++, key >>= 2) {
        uint32_t v = js_le32(d) & masks[key & 3];
        d += lens[key & 3];
        out[i] = svb_value(kind, v, &prev, a);
    }
}

/* js_svb_take with the checks of svb_value in a (zeroed by the
 * caller). */
static size_t svb_take(const uint8_t *p, size_t avail, size_t room,
                       uint32_t *out, uint32_t count, int kind, uint32_t prev,
                       svb_acc *a)
{
    size_t klen = ((size_t)count + 3) / 4;
    const int is0124 = kind == JS_SVB_0124;
    if (count == 0 || avail < klen)
        return 0;
    uint64_t alen = klen + svb_data_len(p, count, is0124);
    if (alen > avail)
        return 0;
    if (room - (size_t)alen >= SVB_SLACK) {
        switch (kind) {
        case JS_SVB_DELTA:
            svb_decode_fast(p, out, count, JS_SVB_DELTA, prev, a);
            break;
        case JS_SVB_0124:
            svb_decode_fast(p, out, count, JS_SVB_0124, 0, a);
            break;
        default:
            svb_decode_fast(p, out, count, JS_SVB_1234, 0, a);
            break;
        }
    } else { /* the byte loop, then the same checks */
        svb_decode_scalar(p, out, count, is0124);
        for (uint32_t i = 0; i < count; i++)
            out[i] = svb_value(kind, out[i], &prev, a);
    }
    return (size_t)alen;
}

/* codec.h */
size_t js_svb_take(const uint8_t *p, size_t avail, size_t room,
                   uint32_t *out, uint32_t count, int kind, uint32_t prev)
{
    svb_acc a = {0};
    return svb_take(p, avail, room, out, count, kind, prev, &a);
}

/* codec.h.  One compiled copy, so that the builder's champion lists and
 * the search's scores agree to the last bit whatever the compiler does
 * with floating point at each call site. */
double js_bm25f_t(double b, double w, double avg_b, double avg_h, double tb,
                  double lb, double th, double lh)
{
    double t = 0;
    if (tb > 0)
        t += tb / (1.0 - b + b * lb / avg_b);
    if (th > 0)
        t += w * th / (1.0 - b + b * lh / avg_h);
    return t;
}

/* ---------------------------------------------------------------------
 * Encoder
 * ------------------------------------------------------------------- */

/* codec.h */
int js_svb_put(js_buf *out, const uint32_t *v, uint32_t count, int kind,
               uint32_t prev)
{
    /* the library asks for max_compressedbytes; the rest is margin */
    if (js_buf_reserve(out, streamvbyte_max_compressedbytes(count) + 16))
        return JS_ENOMEM;
    uint8_t *dst = out->p + out->len;
    size_t k;
    switch (kind) {
    case JS_SVB_DELTA:
        k = streamvbyte_delta_encode(v, count, dst, prev);
        break;
    case JS_SVB_0124:
        k = streamvbyte_encode_0124(v, count, dst);
        break;
    default:
        k = streamvbyte_encode(v, count, dst);
        break;
    }
    out->len += k;
    return 0;
}

/* ---------------------------------------------------------------------
 * Writer: entries in, finished blocks out once the next entry shows the
 * record needs more than one, the skip table after the last block; a
 * record of one block's entries or fewer, varints, at finish.
 * ------------------------------------------------------------------- */

/* Makes room for need values in *v (doubling).  Returns 0 or JS_ENOMEM. */
static int grow(uint32_t **v, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    if (c > SIZE_MAX / sizeof(uint32_t))
        return JS_ENOMEM;
    uint32_t *n = realloc(*v, c * sizeof *n);
    if (!n)
        return JS_ENOMEM;
    *v = n;
    *cap = c;
    return 0;
}

int js_postings_writer_init(js_postings_writer *w, uint32_t block_size,
                            int has_positions)
{
    if (!w)
        return JS_EINVALID;
    /* keep the buffers of an earlier term (a fresh writer: the caller
     * zeroed it, or it is on the stack: see codec.h) */
    w->err = 0;
    w->any_lens = 0;
    w->avg = 0;
    w->n = w->npos = 0;
    w->df = w->last_id = w->max_tf = w->prev_last = w->nblocks = 0;
    w->cf = w->blocks_len = 0;
    w->table.len = 0;
    w->table.oom = 0;
    if (block_size == 0 || block_size > BLOCK_MAX)
        return w->err = JS_EINVALID;
    w->block_size = block_size;
    w->has_pos = has_positions ? 1 : 0;
    return 0;
}

void js_postings_writer_avg(js_postings_writer *w, double avg)
{
    if (w)
        w->avg = avg;
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Makes room in out for `extra` bytes past `fixed` ones, where extra is
 * a worst case in 64 bits (5 bytes a varint).  Returns 0 or JS_ENOMEM. */
static int reserve(js_buf *out, uint64_t fixed, uint64_t extra)
{
    if (extra > SIZE_MAX / 2 || fixed > SIZE_MAX / 2 - extra)
        return JS_ENOMEM;
    return js_buf_reserve(out, (size_t)(fixed + extra));
}

/* Writes the pending entries' positions at q, per entry the differences
 * from the one before (the first from 0), as varints.  Returns the end. */
static uint8_t *put_positions(const js_postings_writer *w, uint8_t *q)
{
    const uint32_t *pos = w->pos;
    for (uint32_t i = 0; i < w->n; i++) {
        uint32_t last = 0;
        for (uint32_t j = 0; j < w->tfs[i]; j++) {
            q += js_put_varint(q, pos[j] - last);
            last = pos[j];
        }
        pos += w->tfs[i];
    }
    return q;
}

/* Encodes the pending entries as one block of a multi-block record onto
 * out and notes its skip table entry.  Returns 0, JS_ENOMEM or
 * JS_EINVALID (4 GiB of blocks). */
static int put_block(js_postings_writer *w, js_buf *out)
{
    const uint32_t cnt = w->n, nb = (cnt + 7) / 8;
    const size_t block_off = out->len;
    uint32_t bmax_tf = 0;
    double bmax_t = 0;
    const int norms = w->any_lens && w->avg > 0;
    int rc;
    if ((rc = js_svb_put(out, w->ids, cnt, JS_SVB_DELTA, w->prev_last)))
        return rc;
    if (reserve(out, nb, 5ull * cnt + (w->has_pos ? 5ull * w->npos : 0)))
        return JS_ENOMEM;
    uint8_t *bitmap = out->p + out->len, *q = bitmap + nb;
    memset(bitmap, 0, nb);
    for (uint32_t i = 0; i < cnt; i++) {
        if (w->tfs[i] > 1) {
            bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
            q += js_put_varint(q, w->tfs[i] - 2);
        }
        if (w->tfs[i] > bmax_tf)
            bmax_tf = w->tfs[i];
        if (norms) { /* rounded up once, below: the same float */
            double t = js_norm_t(w->tfs[i], w->lens[i], w->avg);
            if (t > bmax_t)
                bmax_t = t;
        }
    }
    if (w->has_pos)
        q = put_positions(w, q);
    out->len = (size_t)(q - out->p);
    float bmax_norm = js_norm_up(bmax_t);
    uint64_t end = w->blocks_len + (out->len - block_off);
    if (end > UINT32_MAX)
        return JS_EINVALID;
    uint8_t e[SKIP_ENTRY];
    js_put_le32(e, w->ids[cnt - 1]);
    js_put_le32(e + 4, (uint32_t)end);
    js_put_le32(e + 8, bmax_tf);
    js_put_le32(e + 12, f32_bits(bmax_norm));
    if (js_buf_put(&w->table, e, SKIP_ENTRY))
        return JS_ENOMEM;
    w->blocks_len = end;
    w->prev_last = w->ids[cnt - 1];
    w->nblocks++;
    w->n = 0;
    w->npos = 0;
    return 0;
}

/* Encodes the pending entries, all of the term's, as a one-block record
 * (varints, no table) onto out.  Returns 0 or JS_ENOMEM. */
static int put_small(js_postings_writer *w, js_buf *out)
{
    const uint32_t cnt = w->n;
    /* gap << 1 | flag < 2^33: 5 bytes; tf - 2: 5 bytes */
    if (reserve(out, 0, 10ull * cnt + (w->has_pos ? 5ull * w->npos : 0)))
        return JS_ENOMEM;
    uint8_t *q = out->p + out->len;
    uint64_t prev = 0;
    for (uint32_t i = 0; i < cnt; i++) {
        uint64_t gap = w->ids[i] - prev; /* the first: the id itself */
        prev = w->ids[i];
        q += js_put_varint(q, gap << 1 | (w->tfs[i] > 1));
        if (w->tfs[i] > 1)
            q += js_put_varint(q, w->tfs[i] - 2);
    }
    if (w->has_pos)
        q = put_positions(w, q);
    out->len = (size_t)(q - out->p);
    w->nblocks = 1;
    w->n = 0;
    w->npos = 0;
    return 0;
}

/* See codec.h.  Input is checked entry by entry as it is taken; a failed
 * call leaves out as it was and the writer spent (w->err).  A full block
 * is written when the entry after it comes, so that a term of exactly
 * block_size entries stays a one-block record. */
int js_postings_writer_add(js_postings_writer *w, js_buf *out,
                           const uint32_t *ids, const uint32_t *tfs,
                           const uint32_t *positions, const uint32_t *lens,
                           uint32_t n)
{
    if (!w || !out || (n && (!ids || !tfs)) || (w->has_pos && n && !positions))
        return w ? (w->err = JS_EINVALID) : JS_EINVALID;
    if (w->err)
        return w->err;
    const size_t start = out->len;
    int rc = 0;
    if (lens)
        w->any_lens = 1;
    for (uint32_t i = 0; i < n; i++) {
        if ((w->df && ids[i] <= w->last_id) || tfs[i] == 0 ||
            w->df == UINT32_MAX) {
            rc = JS_EINVALID;
            break;
        }
        if (w->has_pos) {
            for (uint32_t j = 1; j < tfs[i]; j++)
                if (positions[j] <= positions[j - 1]) {
                    rc = JS_EINVALID;
                    break;
                }
            if (rc)
                break;
        }
        if (w->n == w->block_size && (rc = put_block(w, out)))
            break;
        if (w->has_pos) {
            /* a block's positions are counted in a uint32 */
            if (tfs[i] > UINT32_MAX - w->npos) {
                rc = JS_EINVALID;
                break;
            }
            if ((rc = grow(&w->pos, &w->pos_cap, (size_t)w->npos + tfs[i])))
                break;
            memcpy(w->pos + w->npos, positions, (size_t)tfs[i] * 4);
            w->npos += tfs[i];
            positions += tfs[i];
        }
        w->ids[w->n] = ids[i];
        w->tfs[w->n] = tfs[i];
        w->lens[w->n] = lens ? lens[i] : 0;
        w->n++;
        w->df++;
        w->last_id = ids[i];
        w->cf += tfs[i];
        if (tfs[i] > w->max_tf)
            w->max_tf = tfs[i];
    }
    if (rc) {
        out->len = start;
        w->err = rc;
    }
    return rc;
}

/* See codec.h. */
int js_postings_writer_finish(js_postings_writer *w, js_buf *out,
                              js_postings_info *info)
{
    if (!w || !out)
        return JS_EINVALID;
    if (w->err)
        return w->err;
    if (w->df == 0)
        return w->err = JS_EINVALID;
    const size_t start = out->len;
    int rc;
    if (w->nblocks == 0) {
        rc = put_small(w, out);
    } else {
        rc = w->n ? put_block(w, out) : 0;
        if (!rc && (js_buf_put(out, w->table.p, w->table.len) ||
                    js_buf_u32(out, js_crc32(w->table.p, w->table.len))))
            rc = JS_ENOMEM;
    }
    if (rc) {
        out->len = start;
        return w->err = rc;
    }
    if (info) {
        info->max_tf = w->max_tf;
        info->cf = w->cf;
    }
    w->err = JS_EINVALID; /* finished: a new init is needed */
    return 0;
}

void js_postings_writer_free(js_postings_writer *w)
{
    if (!w)
        return;
    free(w->pos);
    js_buf_free(&w->table);
    w->pos = NULL;
    w->pos_cap = 0;
}

/* See codec.h.  On any error out->len is restored, so a failed call
 * appends nothing. */
int js_postings_encode(js_buf *out, const uint32_t *ids, const uint32_t *tfs,
                       const uint32_t *positions, const uint32_t *lens,
                       double avg, uint32_t n, uint32_t block_size,
                       js_postings_info *info)
{
    if (!out || !ids || !tfs || n == 0 || block_size == 0 ||
        block_size > BLOCK_MAX)
        return JS_EINVALID;
    js_postings_writer *w = calloc(1, sizeof *w);
    if (!w)
        return JS_ENOMEM;
    const size_t start = out->len;
    int rc = js_postings_writer_init(w, block_size, positions != NULL);
    js_postings_writer_avg(w, avg);
    if (!rc)
        rc = js_postings_writer_add(w, out, ids, tfs, positions, lens, n);
    if (!rc)
        rc = js_postings_writer_finish(w, out, info);
    if (rc)
        out->len = start;
    js_postings_writer_free(w);
    free(w);
    return rc;
}

/* ---------------------------------------------------------------------
 * Page checksums (POSTINGS_CRC): u32 page size, u64 page count, a crc32
 * per page (the last may be shorter), u32 crc32 of all that.
 * ------------------------------------------------------------------- */

/* Whether page is a page size this code writes and reads. */
static int page_size_ok(uint64_t page)
{
    return page >= JS_PAGE_SIZE_MIN && page <= JS_PAGE_SIZE_MAX &&
           (page & (page - 1)) == 0;
}

int js_page_crcs_init(js_page_crcs *w, uint32_t page)
{
    w->page = page;
    w->fill = 0;
    w->crc = 0; /* crc32 of no bytes */
    w->crcs = (js_buf)JS_BUF_INIT;
    return page_size_ok(page) ? 0 : JS_EINVALID;
}

int js_page_crcs_add(js_page_crcs *w, const void *p, size_t n)
{
    const uint8_t *s = p;
    while (n > 0) {
        size_t k = w->page - w->fill;
        if (k > n)
            k = n;
        w->crc = libdeflate_crc32(w->crc, s, k); /* k <= 64 KiB */
        w->fill += (uint32_t)k;
        s += k;
        n -= k;
        if (w->fill == w->page) {
            if (js_buf_u32(&w->crcs, w->crc))
                return JS_ENOMEM;
            w->fill = 0;
            w->crc = 0;
        }
    }
    return 0;
}

int js_page_crcs_finish(js_page_crcs *w, js_buf *out)
{
    if (w->fill) { /* the last, shorter page */
        if (js_buf_u32(&w->crcs, w->crc))
            return JS_ENOMEM;
        w->fill = 0;
        w->crc = 0;
    }
    const size_t start = out->len;
    js_buf_u32(out, w->page);
    js_buf_u64(out, w->crcs.len / 4);
    js_buf_put(out, w->crcs.p, w->crcs.len);
    if (out->oom || js_buf_u32(out, js_crc32(out->p + start, out->len - start))) {
        out->len = start;
        return JS_ENOMEM;
    }
    return 0;
}

void js_page_crcs_free(js_page_crcs *w)
{
    js_buf_free(&w->crcs);
    w->fill = 0;
    w->crc = 0;
}

/* See codec.h.  The part's own crc covers its header, so a page size or
 * count that passes it is the writer's (or damage that slipped past a
 * crc32, which the other checks bound). */
int js_block_checks_init(js_block_checks *k, const uint8_t *base, size_t len,
                         const uint8_t *crc_part, size_t crc_len)
{
    memset(k, 0, sizeof *k);
    if (!crc_part || crc_len < 16 ||
        js_le32(crc_part + crc_len - 4) != js_crc32(crc_part, crc_len - 4))
        return JS_ECORRUPT;
    uint32_t page = js_le32(crc_part);
    uint64_t npages = js_le64(crc_part + 4);
    if (!page_size_ok(page) || (crc_len - 16) % 4 != 0 ||
        (crc_len - 16) / 4 != npages ||
        npages != len / page + (len % page != 0))
        return JS_ECORRUPT;
    unsigned shift = 0;
    while ((1u << shift) < page)
        shift++;
    k->base = base;
    k->len = len;
    k->crcs = crc_part + 12;
    k->npages = npages;
    k->shift = shift;
    /* a bit per page: 14 KB for 110 MB of postings; without it every
     * load checks its pages */
    k->bits = calloc((size_t)(npages / 64 + 1), sizeof *k->bits);
    return 0;
}

void js_block_checks_free(js_block_checks *k)
{
    free((void *)k->bits);
    k->bits = NULL;
}

/* Whether page g (< npages) passes its crc, from k's bits when an
 * earlier load checked it; a page that passes is recorded. */
static int page_ok(const js_block_checks *k, uint64_t g)
{
    const uint64_t mask = 1ull << (g % 64);
    /* relaxed: the bit publishes no data, only that these immutable
     * bytes were checked */
    if (k->bits &&
        (atomic_load_explicit(&k->bits[g / 64], memory_order_relaxed) & mask))
        return 1;
    size_t start = (size_t)g << k->shift, n = (size_t)1 << k->shift;
    if (n > k->len - start)
        n = k->len - start;
    if (js_crc32(k->base + start, n) != js_le32(k->crcs + 4 * (size_t)g))
        return 0;
    if (k->bits)
        atomic_fetch_or_explicit(&k->bits[g / 64], mask, memory_order_relaxed);
    return 1;
}

/* Whether every page that p[0..n) spans passes its crc; bytes outside
 * k's part fail. */
static int pages_ok(const js_block_checks *k, const uint8_t *p, size_t n)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)k->base;
    if (a < b || a - b > k->len || n > k->len - (a - b))
        return 0;
    if (n == 0)
        return 1;
    size_t off = (size_t)(a - b);
    uint64_t first = off >> k->shift, last = (off + n - 1) >> k->shift;
    for (uint64_t g = first; g <= last; g++)
        if (!page_ok(k, g))
            return 0;
    return 1;
}

int js_block_checks_verify(const js_block_checks *k, uint64_t *bad)
{
    for (uint64_t g = 0; g < k->npages; g++)
        if (!page_ok(k, g)) {
            if (bad)
                *bad = g;
            return JS_ECORRUPT;
        }
    return 0;
}

/* ---------------------------------------------------------------------
 * Cursor
 *
 * State (the private fields of js_postings_cursor):
 *   block        the current block, 0..nblocks; nblocks = exhausted.
 *   block_loaded 1: ids/tfs of `block` are decoded; 0: not (yet);
 *                -1: the record proved corrupt: every call but close
 *                returns JS_ECORRUPT from then on.
 *   in_block     of the loaded block, the index of the entry next()
 *                returns next; the current entry is in_block - 1.
 *   block_n      entries in the loaded block.
 *   entry        index in the record of the loaded block's first entry.
 *   prev_last    last id of the block before the loaded one (0 for 0).
 *   pos_loaded   the loaded block's positions are decoded into pos.
 *   pos_total    with positions: the loaded block's sum of tfs.
 *   pos_start    once load_positions ran: prefix sums of the block's tfs,
 *                so entry i's positions are pos[pos_start[i]..[i+1]).
 * ------------------------------------------------------------------- */

/* Marks the cursor corrupt (sticky).  Returns JS_ECORRUPT. */
static int corrupt(js_postings_cursor *c)
{
    c->block_loaded = -1;
    return JS_ECORRUPT;
}

static inline const uint8_t *skip_entry(const js_postings_cursor *c, uint32_t b)
{
    return c->data + (size_t)b * SKIP_ENTRY;
}

static inline uint32_t skip_last(const js_postings_cursor *c, uint32_t b)
{
    return js_le32(skip_entry(c, b));
}

/* Entries in block b (< nblocks). */
static inline uint32_t block_count(const js_postings_cursor *c, uint32_t b)
{
    return b + 1 < c->nblocks ? c->block_size : c->df - b * c->block_size;
}

/* The fewest bytes a block of a multi-block record with cnt entries
 * takes: a control byte per four ids and a byte per id, the bitmap. */
static inline uint64_t block_min_bytes(uint32_t cnt)
{
    return (uint64_t)cnt + (cnt + 3) / 4 + (cnt + 7) / 8;
}

/* Exposes block b's skip table values (a multi-block record). */
static void set_block_meta(js_postings_cursor *c, uint32_t b)
{
    const uint8_t *e = skip_entry(c, b);
    c->block_last_id = js_le32(e);
    c->block_max_tf = js_le32(e + 8);
    c->block_max_norm = bits_f32(js_le32(e + 12));
}

float js_postings_max_norm(const js_postings_cursor *c)
{
    float m = 0;
    if (c->block_loaded < 0 || c->nblocks < 2)
        return 0;
    for (uint32_t b = 0; b < c->nblocks; b++) {
        float t = bits_f32(js_le32(skip_entry(c, b) + 12));
        if (t > m)
            m = t;
    }
    return m;
}

/* Moves to block b (> the current one, <= nblocks) without decoding. */
static void goto_block(js_postings_cursor *c, uint32_t b)
{
    c->block = b;
    c->block_loaded = 0;
    c->in_block = 0;
    c->pos_loaded = 0;
    if (b < c->nblocks && c->nblocks > 1)
        set_block_meta(c, b);
}

/* See codec.h.  table_checked skips the table's crc and structure
 * checks below, which cost O(nblocks) (38 us for a million entries).
 * Also: JS_ECORRUPT for df above max_id or a record too short for its
 * entries; JS_EINVALID for a NULL cursor, data NULL with len > 0, df 0,
 * or block_size outside 1..JS_BLOCK_SIZE*8.  Whatever it returns, the
 * cursor holds no allocation yet and js_postings_close is safe; after an
 * error every call returns JS_ECORRUPT.  Open does not free a previous
 * allocation: close a cursor before reopening it. */
int js_postings_open(js_postings_cursor *c, const uint8_t *data, size_t len,
                     uint32_t df, uint32_t block_size, int has_positions,
                     uint32_t max_id)
{
    return js_postings_open_ex(c, data, len, df, block_size, has_positions,
                               max_id, 0);
}

int js_postings_open_ex(js_postings_cursor *c, const uint8_t *data,
                        size_t len, uint32_t df, uint32_t block_size,
                        int has_positions, uint32_t max_id, int table_checked)
{
    if (!c)
        return JS_EINVALID;
    c->pos = NULL;
    c->pos_cap = 0;
    c->checks = NULL;
    c->block_loaded = -1; /* until the record passes the checks below */
    c->nblocks = 0;
    c->block = 0;
    c->id = c->tf = 0;
    c->block_last_id = c->block_max_tf = 0;
    c->block_max_norm = 0;
    if ((!data && len) || df == 0 || block_size == 0 || block_size > BLOCK_MAX)
        return JS_EINVALID;
    if (df > max_id) /* ids are distinct and below max_id */
        return JS_ECORRUPT;

    c->data = data;
    c->len = len;
    c->end = data ? data + len : data;
    c->df = df;
    c->block_size = block_size;
    c->nblocks = (uint32_t)(((uint64_t)df + block_size - 1) / block_size);
    c->max_id = max_id;
    c->has_pos = has_positions ? 1 : 0;
    c->block_n = 0;
    c->entry = 0;
    c->prev_last = 0;
    c->pos_loaded = 0;
    c->block_pos_data = NULL;
    c->block_pos_len = 0;

    if (c->nblocks == 1) {
        if (len < df) /* each entry takes a byte at least */
            return JS_ECORRUPT;
        c->blocks = data;
        c->blocks_len = len;
    } else {
        /* the record: blocks, then the table and its crc */
        uint64_t tlen = (uint64_t)c->nblocks * SKIP_ENTRY;
        if (tlen + 4 > len)
            return JS_ECORRUPT;
        const uint8_t *table = data + (len - (size_t)tlen - 4);
        c->data = table; /* skip_entry() reads the table from here */
        c->blocks = data;
        c->blocks_len = len - (size_t)tlen - 4;
        if (!table_checked &&
            js_le32(table + tlen) != js_crc32(table, (size_t)tlen))
            return JS_ECORRUPT;
        uint64_t prev_end = 0;
        uint32_t prev_last = 0;
        for (uint32_t b = 0; !table_checked && b < c->nblocks; b++) {
            const uint8_t *e = table + (size_t)b * SKIP_ENTRY;
            uint32_t last = js_le32(e);
            uint64_t end = js_le32(e + 4);
            uint32_t max_tf = js_le32(e + 8);
            float norm = bits_f32(js_le32(e + 12));
            uint32_t cnt = block_count(c, b);
            /* block b holds cnt distinct ids in (prev_last, last], or in
             * [0, last] for block 0 */
            if (b == 0 ? last < cnt - 1 : last <= prev_last || last - prev_last < cnt)
                return JS_ECORRUPT;
            if (end < prev_end || end - prev_end < block_min_bytes(cnt) ||
                end > c->blocks_len || max_tf == 0)
                return JS_ECORRUPT;
            if (!(norm >= 0 && norm <= 3.4e38f)) /* NaN or infinite */
                return JS_ECORRUPT;
            prev_end = end;
            prev_last = last;
        }
        if (!table_checked &&
            (prev_end != c->blocks_len || prev_last >= max_id))
            return JS_ECORRUPT;
        set_block_meta(c, 0);
    }
    c->block_loaded = 0;
    return 0;
}

/* The end of load_block: block b's cnt entries are in ids / tfs (prev:
 * the last id before them); its positions, total of them, are the pos_len
 * bytes at pos.  Checks those fit (or that there are none).  Returns 0
 * or JS_ECORRUPT. */
static int block_ready(js_postings_cursor *c, uint32_t b, uint32_t cnt,
                       uint32_t prev, const uint8_t *pos, size_t pos_len,
                       uint64_t total, uint32_t max_tf)
{
    if (c->has_pos) {
        /* a byte a position at least: refuse counts the block cannot
         * hold before anything is sized by them (load_positions) */
        if (total > UINT32_MAX || total > pos_len)
            return corrupt(c);
        c->pos_total = (uint32_t)total;
        c->block_pos_data = pos;
        c->block_pos_len = pos_len;
    } else if (pos_len != 0) {
        return corrupt(c);
    }
    c->block_n = cnt;
    c->in_block = 0;
    c->entry = b * c->block_size;
    c->prev_last = prev;
    c->pos_loaded = 0;
    c->block_loaded = 1;
    if (c->nblocks == 1) { /* no skip table: the block's own values */
        c->block_last_id = c->ids[cnt - 1];
        c->block_max_tf = max_tf;
        c->block_max_norm = 0; /* no table: unknown */
    }
    return 0;
}

/* Decodes a one-block record's ids and tfs (varints).  Returns 0 or
 * JS_ECORRUPT (sticky). */
static int load_small(js_postings_cursor *c)
{
    const uint32_t cnt = c->df;
    const uint8_t *p = c->blocks, *const e = c->blocks + c->blocks_len;
    if (c->checks && !pages_ok(c->checks, p, c->blocks_len))
        return corrupt(c);
    /* 64 bits: a gap of up to 2^63 - 1 cannot wrap id, and id below
     * max_id fits 32 bits */
    uint64_t id = 0, total = 0;
    uint32_t max_tf = 0, bad = 0;
    for (uint32_t i = 0; i < cnt; i++) {
        uint64_t v;
        if (!rd_v64(&p, e, &v))
            return corrupt(c);
        uint64_t gap = v >> 1;
        bad |= (i > 0) & (gap == 0); /* the first gap is the id itself */
        id += gap;
        if (id >= c->max_id)
            return corrupt(c);
        c->ids[i] = (uint32_t)id;
        uint32_t tf = 1;
        if (v & 1) {
            uint32_t t;
            if (!rd_v32(&p, e, &t) || t > UINT32_MAX - 2)
                return corrupt(c);
            tf = t + 2;
        }
        c->tfs[i] = tf;
        total += tf;
        max_tf = tf > max_tf ? tf : max_tf;
    }
    if (bad)
        return corrupt(c);
    return block_ready(c, 0, cnt, 0, p, (size_t)(e - p), total, max_tf);
}

/* Decodes block c->block (< nblocks) into ids / tfs, checking it whole
 * but for the positions' contents.  Returns 0 or JS_ECORRUPT (sticky). */
static int load_block(js_postings_cursor *c)
{
    if (c->nblocks == 1)
        return load_small(c);
    const uint32_t b = c->block, cnt = block_count(c, b);
    /* offsets were validated by open */
    const uint8_t *se = skip_entry(c, b);
    size_t start = b > 0 ? js_le32(se - SKIP_ENTRY + 4) : 0;
    size_t end = js_le32(se + 4);
    uint32_t prev = b > 0 ? js_le32(se - SKIP_ENTRY) : 0;
    const uint32_t want_last = js_le32(se), want_max_tf = js_le32(se + 8);
    const uint8_t *p = c->blocks + start, *const be = c->blocks + end;
    if (c->checks && !pages_ok(c->checks, p, end - start))
        return corrupt(c);

    /* ids: the fast decoder may load past the block, never past the
     * record (svb_take), which the skip table ends */
    svb_acc ia = {0};
    size_t k = svb_take(p, end - start, (size_t)(c->end - p), c->ids, cnt,
                        JS_SVB_DELTA, prev, &ia);
    if (k == 0)
        return corrupt(c);
    p += k;
    /* strictly increasing, and above prev after block 0 (svb_value); in
     * block 0 the first id may be 0, which it counted as not above prev */
    uint32_t bad = ia.bad;
    if (bad && b == 0) {
        bad = 0;
        for (uint32_t i = 1; i < cnt; i++)
            bad |= c->ids[i] <= c->ids[i - 1];
    }
    if (bad || c->ids[cnt - 1] >= c->max_id || c->ids[cnt - 1] != want_last)
        return corrupt(c);

    /* frequencies: 1 but where the bitmap says, then tf - 2 */
    const size_t nb = (cnt + 7) / 8;
    if ((size_t)(be - p) < nb)
        return corrupt(c);
    const uint8_t *bitmap = p;
    p += nb;
    uint64_t extra = 0; /* sum of tf - 1 */
    uint32_t max_tf = 1;
    for (size_t j = 0; j < nb; j++) {
        uint32_t *t = c->tfs + 8 * j;
        uint32_t lim = cnt - 8 * (uint32_t)j < 8 ? cnt - 8 * (uint32_t)j : 8;
        for (uint32_t i = 0; i < lim; i++)
            t[i] = 1;
        unsigned bits = bitmap[j];
        if (bits >> lim) /* a flag past the block's entries */
            return corrupt(c);
        while (bits) {
            unsigned i = (unsigned)__builtin_ctz(bits);
            bits &= bits - 1;
            uint32_t v;
            if (!rd_v32(&p, be, &v) || v > UINT32_MAX - 2)
                return corrupt(c);
            t[i] = v + 2;
            extra += (uint64_t)v + 1;
            max_tf = v + 2 > max_tf ? v + 2 : max_tf;
        }
    }
    if (max_tf != want_max_tf)
        return corrupt(c);
    return block_ready(c, b, cnt, prev, p, (size_t)(be - p), cnt + extra,
                       max_tf);
}

/* Marks the cursor exhausted.  Returns 0. */
static int exhausted(js_postings_cursor *c)
{
    c->block = c->nblocks;
    c->block_loaded = 0;
    c->in_block = 0;
    c->pos_loaded = 0;
    return 0;
}

/* Makes entry i of the loaded block current.  Returns 1. */
static inline int take(js_postings_cursor *c, uint32_t i)
{
    c->in_block = i + 1;
    c->id = c->ids[i];
    c->tf = c->tfs[i];
    return 1;
}

/* js_postings_next past the fast path: the block is not loaded, or used
 * up.  Returns as js_postings_next. */
static int next_slow(js_postings_cursor *c)
{
    if (c->block_loaded < 0)
        return JS_ECORRUPT;
    if (c->block_loaded == 1)
        goto_block(c, c->block + 1);
    if (c->block >= c->nblocks)
        return exhausted(c);
    int rc = load_block(c);
    if (rc)
        return rc;
    return take(c, 0);
}

/* See codec.h.  After it returns 0, id and tf keep their last values. */
int js_postings_next(js_postings_cursor *c)
{
    if (c->block_loaded == 1 && c->in_block < c->block_n)
        return take(c, c->in_block);
    return next_slow(c);
}

/* Returns the first block >= from whose last id is >= target, or nblocks
 * when none is (a multi-block record).  Gallops from `from` so that the
 * short hops of an intersection cost O(1), then binary-searches. */
static uint32_t find_block(const js_postings_cursor *c, uint32_t from,
                           uint32_t target)
{
    uint32_t lo = from, hi;
    uint64_t step = 1;
    for (;;) { /* invariant: blocks < lo have last id < target */
        if (lo >= c->nblocks)
            return c->nblocks;
        uint64_t probe = lo + step - 1;
        if (probe >= c->nblocks)
            probe = c->nblocks - 1;
        if (skip_last(c, (uint32_t)probe) >= target) {
            hi = (uint32_t)probe;
            break;
        }
        lo = (uint32_t)probe + 1;
        step *= 2;
    }
    while (lo < hi) { /* the answer is in [lo, hi] */
        uint32_t mid = lo + (hi - lo) / 2;
        if (skip_last(c, mid) >= target)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* See codec.h.  If the current entry's id is already >= target, the
 * cursor stays on it and 1 is returned.  Within a block the entry is
 * found by binary search.  After it returns 0, id and tf keep their last
 * values. */
int js_postings_seek(js_postings_cursor *c, uint32_t target)
{
    if (c->block_loaded < 0)
        return JS_ECORRUPT;
    if (c->block_loaded == 1 && c->in_block > 0 &&
        c->ids[c->in_block - 1] >= target)
        return 1;
    for (;;) {
        if (c->block >= c->nblocks)
            return exhausted(c);
        if (c->nblocks > 1 && skip_last(c, c->block) < target) {
            uint32_t b = find_block(c, c->block + 1, target);
            goto_block(c, b);
            if (b >= c->nblocks)
                return exhausted(c);
        }
        if (c->block_loaded == 0) {
            int rc = load_block(c);
            if (rc)
                return rc;
        }
        /* first entry in [in_block, block_n) with id >= target */
        uint32_t lo = c->in_block, hi = c->block_n;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (c->ids[mid] >= target)
                hi = mid;
            else
                lo = mid + 1;
        }
        if (lo < c->block_n)
            return take(c, lo);
        /* only a one-block record gets here (a multi-block one was sent
         * to a block whose last id, checked on load, is >= target) */
        goto_block(c, c->block + 1);
    }
}

/* See codec.h.  If the current block's last id is already >= target the
 * cursor stays where it is (mid-block included).  Multi-block records:
 * nothing is decoded; the block fields come from the skip table.  A
 * one-block record has no skip table, so its block is decoded here (the
 * next call then returns its first entry without decoding again), and
 * block_max_norm is 0 there: unknown (the lengths are not stored), so
 * callers bound by max tf alone.  After it
 * returns 0 the block fields keep their last values. */
int js_postings_skip_block(js_postings_cursor *c, uint32_t target)
{
    if (c->block_loaded < 0)
        return JS_ECORRUPT;
    if (c->block >= c->nblocks)
        return 0;
    if (c->nblocks > 1) {
        if (skip_last(c, c->block) >= target)
            return 1;
        uint32_t b = find_block(c, c->block + 1, target);
        goto_block(c, b);
        return b < c->nblocks ? 1 : exhausted(c);
    }
    if (c->block_loaded == 0) {
        int rc = load_block(c);
        if (rc)
            return rc;
    }
    return c->block_last_id >= target ? 1 : exhausted(c);
}

/* Decodes the loaded block's positions into c->pos (grown with realloc).
 * Returns 0, JS_ENOMEM (the cursor stays usable), or JS_ECORRUPT. */
static int load_positions(js_postings_cursor *c)
{
    const uint32_t total = c->pos_total;
    if (total > c->pos_cap) {
        size_t cap = (size_t)c->pos_cap * 2;
        if (cap < total)
            cap = total;
        if (cap > UINT32_MAX)
            cap = UINT32_MAX;
        if (cap > SIZE_MAX / sizeof(uint32_t))
            return JS_ENOMEM;
        uint32_t *p = realloc(c->pos, cap * sizeof *p);
        if (!p)
            return JS_ENOMEM;
        c->pos = p;
        c->pos_cap = (uint32_t)cap;
    }
    /* per entry: its first position as stored, then running sums of
     * differences >= 1 that must not pass 2^32 - 1; the tfs sum to
     * pos_total (load_block), so pos holds them all */
    const uint8_t *p = c->block_pos_data, *const e = p + c->block_pos_len;
    uint32_t *out = c->pos, bad = 0, at = 0;
    for (uint32_t en = 0; en < c->block_n; en++) {
        const uint32_t m = c->tfs[en];
        uint32_t acc, d;
        c->pos_start[en] = at;
        if (!rd_v32(&p, e, &acc))
            return corrupt(c);
        out[at++] = acc;
        for (uint32_t j = 1; j < m; j++) {
            if (!rd_v32(&p, e, &d))
                return corrupt(c);
            bad |= (d == 0) | (d > UINT32_MAX - acc);
            acc += d;
            out[at++] = acc;
        }
    }
    c->pos_start[c->block_n] = at;
    if (bad || p != e) /* the block must end here */
        return corrupt(c);
    c->pos_loaded = 1;
    return 0;
}

/* See codec.h.  JS_EINVALID also when there is no current entry (before
 * the first next/seek, after one returned 0, or after skip_block left
 * the block).  The positions live in c->pos, which the cursor owns. */
int js_postings_positions(js_postings_cursor *c, const uint32_t **pos)
{
    if (c->block_loaded < 0)
        return JS_ECORRUPT;
    if (!c->has_pos || c->block_loaded != 1 || c->in_block == 0 || !pos)
        return JS_EINVALID;
    if (!c->pos_loaded) {
        int rc = load_positions(c);
        if (rc)
            return rc;
    }
    *pos = c->pos + c->pos_start[c->in_block - 1];
    return 0;
}

/* See codec.h.  Safe after a failed open and when called twice; a closed
 * cursor behaves as an exhausted one until it is opened again. */
void js_postings_close(js_postings_cursor *c)
{
    if (!c)
        return;
    free(c->pos);
    c->pos = NULL;
    c->pos_cap = 0;
    c->nblocks = 0;
    c->block = 0;
    c->block_loaded = 0;
    c->in_block = 0;
    c->pos_loaded = 0;
}
