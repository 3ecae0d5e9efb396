/*
 * codec.c — one term's postings record (index/FORMAT.md, part 8
 * POSTINGS): the encoder the index writer calls once per term, and the
 * cursor the query engine walks.
 *
 * In (encoder): a term's entries — section ids strictly increasing, term
 *      frequencies >= 1, optionally every entry's positions (strictly
 *      increasing within the entry) and every entry's section body length.
 * Out: the record appended to a js_buf:
 *        block 0 | block 1 | ...
 *        [skip table: nblocks x {u32 last id, u32 end, u32 max tf,
 *         f32 max norm}, u32 crc32 of those nblocks*16 bytes]
 *                                              (only when nblocks > 1)
 *      "end" is the offset just past the block, counted from the start
 *      of the record.  The table comes last so that a writer can stream
 *      the blocks of a term of any size (js_postings_writer) and keep
 *      only the table, 16 bytes a block.
 *      Block: u32 crc32 of the rest of the block; ids (Stream VByte
 *      differential, from the previous block's last id, 0 for block 0);
 *      tf - 1 (Stream VByte 0124); if positions, the per-entry
 *      differences (first from 0) of all the block's positions, in one
 *      Stream VByte 1234 array.
 * In (cursor): those bytes, untrusted and borrowed (usually mmap'ed),
 *      plus df, block size, the positions flag and the section count
 *      (ids must be below it), which the caller took from elsewhere.
 * Out: entries in id order, per-block maxima for block-max scoring,
 *      positions on demand — or JS_ECORRUPT, never a crash or a read
 *      outside [data, data + len).
 *
 * What the cursor checks, and when:
 *   open: the argument ranges; df <= section count; the record holds the
 *     skip table df implies; the table's crc; in the table, end offsets
 *     leave >= 4 bytes per block and the last one is the record's end,
 *     last ids strictly increase by at least the block's entry count
 *     (so the block can hold that many distinct ids) and stay below the
 *     section count, max tfs are >= 1 and max norms finite and >= 0.
 *     (A norm set too high only slows a search; one too low could hide a
 *     hit, which `jiansuo check` finds by recomputing every norm.)
 *   loading a block (next, seek, or skip_block on a one-block record):
 *     the block's crc; the lengths the Stream VByte control bytes announce
 *     fit the block *before* the library decodes (see the next paragraph);
 *     ids strictly increase, the first above the previous block's last
 *     id, all below the section count, the last equal to the skip
 *     table's; tf - 1 < 2^32 - 1; the block's max tf equals the skip
 *     table's; without positions the tfs end the block exactly; with
 *     positions the rest of the block can hold sum(tf) values.
 *   first js_postings_positions in a block: the positions array's control
 *     bytes announce exactly the rest of the block; every position after
 *     an entry's first is a difference >= 1 that does not pass 2^32 - 1.
 * Checks that need the section table (tf and positions within the
 * section's body length) are the caller's: it knows the lengths.
 *
 * Decoding.  The format is libstreamvbyte's, and the library encodes
 * it, but codec.c decodes it itself: Debian's libstreamvbyte 0.4.1 is a
 * build without SSSE3 whose portable decoder spends about 45
 * instructions on a value, a third of a query's work (callgrind).  The
 * fast loop (svb_decode_fast) loads four bytes per value and masks
 * them, so it may read up to 4 bytes past the array's last byte: those
 * must lie inside the mapped part, so it runs only when at least
 * SVB_SLACK bytes follow the array; otherwise (the last array of the
 * part) a byte-at-a-time loop decodes it.  tests/check_codec.c places
 * records just before an inaccessible page to hold both to that, and
 * compares both with the library's decoder.
 *
 * Cost per block on the hot path: one crc32 (on the block's first load
 * through a reader, js_block_checks), one table pass over the control
 * bytes (count/4 bytes), one decoding loop each for ids and tfs that
 * also checks them.  Positions cost nothing until asked for.
 */
#include "config.h"

#include "codec.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

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

/* Returns zlib's crc32 of p[0..n), for any size_t n (crc32() itself takes
 * a uInt length). */
static uint32_t crc_bytes(const uint8_t *p, size_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)crc;
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
    uint32_t bad; /* DELTA: a value not above the one before (or prev);
                   * SVB_TF: a frequency that wrapped */
    uint32_t max; /* SVB_TF: the largest frequency */
    uint64_t sum; /* SVB_TF: their sum */
} svb_acc;

/* An internal kind: a block's frequencies, stored 0124 as tf - 1. */
#define SVB_TF 3

/* One decoded value v: returns what the array holds (the running sum
 * for DELTA, v + 1 for SVB_TF) and notes it in a. */
static inline uint32_t svb_value(int kind, uint32_t v, uint32_t *prev,
                                 svb_acc *a)
{
    if (kind == JS_SVB_DELTA) {
        uint32_t next = *prev + v; /* wraps like the library */
        a->bad |= next <= *prev;   /* a difference of 0, or one that wrapped */
        *prev = next;
        return next;
    }
    if (kind == SVB_TF) {
        uint32_t tf = v + 1;
        a->bad |= tf == 0;
        a->max = tf > a->max ? tf : a->max;
        a->sum += tf;
        return tf;
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
    const int is0124 = kind == JS_SVB_0124 || kind == SVB_TF;
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

/* js_svb_take with the internal kinds and the checks of svb_value in a
 * (zeroed by the caller). */
static size_t svb_take(const uint8_t *p, size_t avail, size_t room,
                       uint32_t *out, uint32_t count, int kind, uint32_t prev,
                       svb_acc *a)
{
    size_t klen = ((size_t)count + 3) / 4;
    const int is0124 = kind == JS_SVB_0124 || kind == SVB_TF;
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
        case SVB_TF:
            svb_decode_fast(p, out, count, SVB_TF, 0, a);
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
    svb_acc a = {0, 0, 0};
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
 * Writer: entries in, finished blocks out as they fill, the skip table
 * after the last block.
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

/* Encodes the pending entries as one block onto out and notes its skip
 * table entry.  Returns 0, JS_ENOMEM or JS_EINVALID (4 GiB of blocks). */
static int put_block(js_postings_writer *w, js_buf *out)
{
    const uint32_t cnt = w->n;
    const size_t block_off = out->len;
    uint32_t bmax_tf = 0;
    double bmax_t = 0;
    const int norms = w->any_lens && w->avg > 0;
    int rc;
    if (grow(&w->tmp, &w->tmp_cap, cnt > w->npos ? cnt : w->npos))
        return JS_ENOMEM;
    if (js_buf_u32(out, 0)) /* the crc, once the block is written */
        return JS_ENOMEM;
    if ((rc = js_svb_put(out, w->ids, cnt, JS_SVB_DELTA, w->prev_last)))
        return rc;
    for (uint32_t i = 0; i < cnt; i++) {
        w->tmp[i] = w->tfs[i] - 1;
        if (w->tfs[i] > bmax_tf)
            bmax_tf = w->tfs[i];
        if (norms) { /* rounded up once, below: the same float */
            double t = js_norm_t(w->tfs[i], w->lens[i], w->avg);
            if (t > bmax_t)
                bmax_t = t;
        }
    }
    float bmax_norm = js_norm_up(bmax_t);
    if ((rc = js_svb_put(out, w->tmp, cnt, JS_SVB_0124, 0)))
        return rc;
    if (w->has_pos) {
        const uint32_t *pos = w->pos;
        uint32_t k = 0;
        for (uint32_t i = 0; i < cnt; i++) {
            uint32_t last = 0;
            for (uint32_t j = 0; j < w->tfs[i]; j++) {
                w->tmp[k++] = pos[j] - last;
                last = pos[j];
            }
            pos += w->tfs[i];
        }
        if ((rc = js_svb_put(out, w->tmp, w->npos, JS_SVB_1234, 0)))
            return rc;
    }
    js_put_le32(out->p + block_off,
          crc_bytes(out->p + block_off + 4, out->len - block_off - 4));
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

/* See codec.h.  Input is checked entry by entry as it is taken; a failed
 * call leaves out as it was and the writer spent (w->err). */
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
            /* a block's positions are one Stream VByte array: uint32 count */
            if (tfs[i] > UINT32_MAX - w->npos) {
                rc = JS_EINVALID;
                break;
            }
            for (uint32_t j = 1; j < tfs[i]; j++)
                if (positions[j] <= positions[j - 1]) {
                    rc = JS_EINVALID;
                    break;
                }
            if (rc)
                break;
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
        if (w->n == w->block_size && (rc = put_block(w, out)))
            break;
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
    int rc = w->n ? put_block(w, out) : 0;
    if (!rc && w->nblocks > 1) {
        if (js_buf_put(out, w->table.p, w->table.len) ||
            js_buf_u32(out, crc_bytes(w->table.p, w->table.len)))
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
    free(w->tmp);
    free(w->pos);
    js_buf_free(&w->table);
    w->tmp = w->pos = NULL;
    w->tmp_cap = w->pos_cap = 0;
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
 * Also: JS_ECORRUPT for df above max_id or a record too
 * short to hold a block; JS_EINVALID for a NULL cursor, data NULL with
 * len > 0, df 0, or block_size outside 1..JS_BLOCK_SIZE*8.  Whatever it
 * returns, the cursor holds no allocation yet and js_postings_close is
 * safe; after an error every call returns JS_ECORRUPT.  Open does not
 * free a previous allocation: close a cursor before reopening it. */
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
    if (df > max_id || len < 4) /* ids are distinct and below max_id */
        return JS_ECORRUPT;

    c->data = data;
    c->len = len;
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
            js_le32(table + tlen) != crc_bytes(table, (size_t)tlen))
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
            if (end < prev_end + 4 || end > c->blocks_len || max_tf == 0)
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

int js_block_checks_init(js_block_checks *k, const uint8_t *base, size_t len)
{
    size_t words = len / JS_CHECKS_GRAIN / 64 + 1;
    k->base = base;
    k->len = len;
    k->bits = calloc(words, sizeof *k->bits);
    return k->bits ? 0 : JS_ENOMEM;
}

void js_block_checks_free(js_block_checks *k)
{
    free((void *)k->bits);
    k->bits = NULL;
}

/* Whether block p[0..n) (n >= 4) passes its crc, from k's bits when an
 * earlier load checked it.  Blocks shorter than JS_CHECKS_GRAIN are cheap
 * to check and may share a span: they are checked every time. */
static int block_crc_ok(const js_block_checks *k, const uint8_t *p, size_t n)
{
    size_t bit = 0;
    uint64_t mask = 0;
    if (k && n >= JS_CHECKS_GRAIN && p >= k->base && p < k->base + k->len) {
        bit = (size_t)(p - k->base) / JS_CHECKS_GRAIN;
        mask = 1ull << (bit % 64);
        /* relaxed: the bit publishes no data, only that these immutable
         * bytes were checked */
        if (atomic_load_explicit(&k->bits[bit / 64], memory_order_relaxed) & mask)
            return 1;
    }
    if (js_le32(p) != crc_bytes(p + 4, n - 4))
        return 0;
    if (mask)
        atomic_fetch_or_explicit(&k->bits[bit / 64], mask, memory_order_relaxed);
    return 1;
}

/* Decodes block c->block (< nblocks) into ids / tfs, checking it whole
 * but for the positions' contents.  Returns 0 or JS_ECORRUPT (sticky). */
static int load_block(js_postings_cursor *c)
{
    const uint32_t b = c->block, cnt = block_count(c, b);
    size_t start = 0, end = c->blocks_len;
    uint32_t prev = 0, want_last = 0, want_max_tf = 0;
    const int multi = c->nblocks > 1;
    if (multi) { /* offsets were validated by open */
        const uint8_t *e = skip_entry(c, b);
        end = js_le32(e + 4);
        want_last = js_le32(e);
        want_max_tf = js_le32(e + 8);
        if (b > 0) {
            start = js_le32(e - SKIP_ENTRY + 4);
            prev = js_le32(e - SKIP_ENTRY);
        }
    }
    const uint8_t *p = c->blocks + start;
    size_t n = end - start;
    if (n < 4 || !block_crc_ok(c->checks, p, n))
        return corrupt(c);
    p += 4;
    n -= 4;
    /* bytes of the record from p on: the library may load beyond the
     * block, never beyond the record (svb_take) */
    size_t room = c->blocks_len - (size_t)(p - c->blocks);

    svb_acc ia = {0, 0, 0}, ta = {0, 0, 0};
    size_t k = svb_take(p, n, room, c->ids, cnt, JS_SVB_DELTA, prev, &ia);
    if (k == 0)
        return corrupt(c);
    p += k;
    n -= k;
    room -= k;
    /* strictly increasing, and above prev after block 0 (svb_value); in
     * block 0 the first id may be 0, which it counted as not above prev */
    uint32_t bad = ia.bad;
    if (bad && b == 0) {
        bad = 0;
        for (uint32_t i = 1; i < cnt; i++)
            bad |= c->ids[i] <= c->ids[i - 1];
    }
    if (bad || c->ids[cnt - 1] >= c->max_id ||
        (multi && c->ids[cnt - 1] != want_last))
        return corrupt(c);

    k = svb_take(p, n, room, c->tfs, cnt, SVB_TF, 0, &ta);
    if (k == 0 || ta.bad || (multi && ta.max != want_max_tf))
        return corrupt(c);
    p += k;
    n -= k;
    const uint32_t max_tf = ta.max;

    if (c->has_pos) {
        /* each position takes a data byte and a quarter control byte:
         * refuse counts the block cannot hold before anything is sized
         * by them (load_positions sums the tfs into pos_start) */
        uint64_t total = ta.sum;
        if (total > UINT32_MAX || total + (total + 3) / 4 > n)
            return corrupt(c);
        c->pos_total = (uint32_t)total;
        c->block_pos_data = p;
        c->block_pos_len = n;
    } else if (n != 0) {
        return corrupt(c);
    }

    c->block_n = cnt;
    c->in_block = 0;
    c->entry = b * c->block_size;
    c->prev_last = prev;
    c->pos_loaded = 0;
    c->block_loaded = 1;
    if (!multi) { /* no skip table: the block's own values */
        c->block_last_id = c->ids[cnt - 1];
        c->block_max_tf = max_tf;
        c->block_max_norm = 0; /* no table: unknown */
    }
    return 0;
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
    const uint8_t *p = c->block_pos_data;
    size_t room = c->blocks_len - (size_t)(p - c->blocks);
    size_t k = js_svb_take(p, c->block_pos_len, room, c->pos, total, JS_SVB_1234, 0);
    if (k == 0 || k != c->block_pos_len) /* the block must end here */
        return corrupt(c);
    /* where each entry's positions start: sums of the tfs, which load_block
     * found to total pos_total */
    uint32_t at = 0;
    for (uint32_t e = 0; e < c->block_n; e++) {
        c->pos_start[e] = at;
        at += c->tfs[e];
    }
    c->pos_start[c->block_n] = at;
    /* per entry: first position as stored, then running sums of
     * differences >= 1 that must not pass 2^32 - 1 */
    uint32_t bad = 0;
    for (uint32_t e = 0; e < c->block_n; e++) {
        uint32_t *q = c->pos + c->pos_start[e];
        uint32_t m = c->tfs[e], acc = q[0];
        for (uint32_t j = 1; j < m; j++) {
            uint32_t d = q[j];
            bad |= (d == 0) | (d > UINT32_MAX - acc);
            acc += d;
            q[j] = acc;
        }
    }
    if (bad)
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
