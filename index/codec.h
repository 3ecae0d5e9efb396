/*
 * codec.h — one term's postings: encoding for the writer, a cursor for
 * the reader (format: index/FORMAT.md, part 8 POSTINGS).
 *
 * In (writer): a term's entries — section ids strictly increasing, term
 *      frequencies, and optionally the positions of each entry.
 * Out: the bytes of the term's postings record (the blocks, then a skip
 *      table when it has more than one), all at once (js_postings_encode)
 *      or block by block as entries come (js_postings_writer_*), so that
 *      a term's postings never need to be in memory whole.
 * In (reader): those bytes from disk, untrusted, plus the df, block size
 *      and flags the lexicon gives.
 * Out: a cursor that walks the entries, skips whole blocks by the skip
 *      table (for AND and block-max top-k), and decodes positions only
 *      for blocks that need them.
 */
#ifndef JS_CODEC_H
#define JS_CODEC_H

#include <stddef.h>
#include <math.h>
#include <stdint.h>

#include "buf.h"

#define JS_BLOCK_SIZE 128 /* entries per block; tests use smaller ones */

/* Block-max scoring.  BM25's length normalisation makes a field's
 * contribution grow with t = tf / (1 - b + b len / avg).  Each skip table
 * entry stores the largest such t in its block, for b = JS_NORM_B and the
 * field's average length over the index (js_norm_avg): for the default
 * b it bounds every entry's score exactly, where the block's max tf and
 * smallest length, taken from different entries, bound it loosely. */
#define JS_NORM_B 0.75

/* The average field length the norms use: units / sections, 1 when that
 * is 0.  The builder and the scorer compute it alike (bit for bit). */
static inline double js_norm_avg(uint64_t units, uint64_t sections)
{
    double avg = sections ? (double)units / (double)sections : 1;
    return avg > 0 ? avg : 1;
}

/* t for JS_NORM_B, in double. */
static inline double js_norm_t(uint32_t tf, uint32_t len, double avg)
{
    return (double)tf / (1.0 - JS_NORM_B + JS_NORM_B * (double)len / avg);
}

/* d as a float never below it.  Monotone, so the largest of several t
 * can be rounded once (the writer does, per block). */
static inline float js_norm_up(double d)
{
    float f = (float)d;
    if ((double)f < d)
        f = nextafterf(f, INFINITY);
    return f;
}

/* t for JS_NORM_B as a float never below the exact (double) value, so
 * that a stored bound never undercuts a score computed in double. */
static inline float js_norm_bound(uint32_t tf, uint32_t len, double avg)
{
    return js_norm_up(js_norm_t(tf, len, avg));
}

/* BM25F's pseudo-frequency (src/match.h): t = tb / (1 - b + b lb /
 * avg_b) + w th / (1 - b + b lh / avg_h), a field counting only when its
 * frequency is above 0. */
double js_bm25f_t(double b, double w, double avg_b, double avg_h, double tb,
                  double lb, double th, double lh);

/* Stream VByte arrays, for the parts that use the postings' integer
 * coding (champ.c): plain, differential, or 0124 (0 costs two bits). */
enum { JS_SVB_1234, JS_SVB_DELTA, JS_SVB_0124 };

/* Appends `count` values (differences from prev for JS_SVB_DELTA)
 * encoded by `kind` to out.  Returns 0 or JS_ENOMEM. */
int js_svb_put(js_buf *out, const uint32_t *v, uint32_t count, int kind,
               uint32_t prev);

/* Validates and decodes one array of `count` values at p, where `avail`
 * bytes of its record and `room` bytes of the mapped part (room >=
 * avail) start at p: the fast decoder reads up to 4 bytes
 * past the array, so it runs only with that much room, else a scalar
 * one.  Returns the array's length in bytes, or 0 when the control bytes
 * or the data they announce do not fit in avail, or count is 0. */
size_t js_svb_take(const uint8_t *p, size_t avail, size_t room,
                   uint32_t *out, uint32_t count, int kind, uint32_t prev);

/* Summary of an encoded record, for the lexicon entry. */
typedef struct js_postings_info {
    uint32_t max_tf;
    uint64_t cf; /* sum of frequencies */
} js_postings_info;

/* Appends the postings record of one term to `out`.
 *   ids[n]    section ids, strictly increasing (n >= 1)
 *   tfs[n]    frequencies >= 1
 *   positions NULL, or for each entry in order its tfs[i] positions,
 *             strictly increasing within the entry (sum(tfs) values)
 *   lens[n]   NULL, or each entry's field length (the section's body or
 *             heading length), for the skip table's largest norm
 *   avg       the field's average length (js_norm_avg); with lens NULL
 *             or avg <= 0 the table's norms are 0, "unknown"
 *   block_size entries per block, 1..JS_BLOCK_SIZE*8
 * Fills *info when not NULL.  Returns 0, JS_ENOMEM, or JS_EINVALID for
 * input that breaks the rules above. */
int js_postings_encode(js_buf *out, const uint32_t *ids, const uint32_t *tfs,
                       const uint32_t *positions, const uint32_t *lens,
                       double avg, uint32_t n, uint32_t block_size,
                       js_postings_info *info);

/* A streaming encoder for one term: entries go in chunks of any size,
 * each finished block is appended to `out` at once (the caller may write
 * it away and empty out between calls), and the skip table follows the
 * last block.  Memory: one block of entries and positions, and 16 bytes
 * a block for the table.  The output is the same as js_postings_encode's
 * for the same entries, however they were cut into chunks. */
typedef struct js_postings_writer {
    uint32_t block_size;
    int has_pos, any_lens, err;
    uint32_t n, npos;      /* entries and positions pending */
    uint32_t df, last_id, max_tf, prev_last, nblocks;
    uint64_t cf, blocks_len;
    double avg; /* field's average length, 0 until js_postings_writer_avg */
    uint32_t ids[JS_BLOCK_SIZE * 8], tfs[JS_BLOCK_SIZE * 8],
        lens[JS_BLOCK_SIZE * 8];
    uint32_t *pos, *tmp;
    size_t pos_cap, tmp_cap;
    js_buf table;
} js_postings_writer;

/* Starts a term.  A new writer must be zeroed first (its buffers are
 * kept from term to term; free them with js_postings_writer_free).
 * Returns 0 or JS_EINVALID (block size outside 1..JS_BLOCK_SIZE*8). */
int js_postings_writer_init(js_postings_writer *w, uint32_t block_size,
                            int has_positions);

/* Sets the field's average length (js_norm_avg) for the skip table's
 * norms of the term begun by the last init; without it they are 0. */
void js_postings_writer_avg(js_postings_writer *w, double avg);

/* Adds n entries (rules as js_postings_encode; ids strictly above the
 * previous call's), appending any block they complete to out.  Returns
 * 0, JS_ENOMEM or JS_EINVALID; after an error the writer is spent and
 * out is as it was. */
int js_postings_writer_add(js_postings_writer *w, js_buf *out,
                           const uint32_t *ids, const uint32_t *tfs,
                           const uint32_t *positions, const uint32_t *lens,
                           uint32_t n);

/* Appends the last block and the skip table; fills *info when not NULL.
 * Returns 0, JS_ENOMEM or JS_EINVALID (no entries, or an earlier
 * error). */
int js_postings_writer_finish(js_postings_writer *w, js_buf *out,
                              js_postings_info *info);

/* Frees the writer's buffers (not w itself). */
void js_postings_writer_free(js_postings_writer *w);

/* A cursor over one term's record.  Fields are read-only for callers;
 * `id` and `tf` describe the current entry once next/seek returned 1. */
/* One bit per JS_CHECKS_GRAIN bytes of a postings part: set once a block
 * starting in that span, and at least that long, has passed its crc.
 * The part is mapped from a file that is replaced, never rewritten, so
 * a block that passed once needs no second check through the same
 * mapping; two such blocks never start in the same span. */
#define JS_CHECKS_GRAIN 64
typedef struct js_block_checks {
    const uint8_t *base; /* the part's first byte */
    size_t len;          /* its length */
    _Atomic uint64_t *bits;
} js_block_checks;

/* Allocates k's bits for the part base[0..len).  Returns 0 or JS_ENOMEM. */
int js_block_checks_init(js_block_checks *k, const uint8_t *base, size_t len);

/* Frees k's bits; a zeroed k is fine. */
void js_block_checks_free(js_block_checks *k);

typedef struct js_postings_cursor {
    uint32_t id, tf;
    /* current block, for block-max scoring */
    uint32_t block_last_id, block_max_tf;
    float block_max_norm; /* largest t (JS_NORM_B) in the block; 0 when
                           * unknown (a one-block record has no table) */
    /* private */
    const uint8_t *data, *blocks;
    size_t len, blocks_len;
    uint32_t df, block_size, nblocks, max_id, has_pos;
    uint32_t block, in_block, block_n, entry;
    uint32_t prev_last; /* last id of the previous block */
    int block_loaded, pos_loaded;
    uint32_t pos_total;            /* positions in the block */
    const uint8_t *block_pos_data; /* encoded positions of the block */
    size_t block_pos_len;
    /* blocks whose crc passed, shared by a reader's cursors (NULL: check
     * every load); see js_postings_share_checks */
    const js_block_checks *checks;
    uint32_t ids[JS_BLOCK_SIZE * 8];
    uint32_t tfs[JS_BLOCK_SIZE * 8];
    uint32_t *pos;        /* decoded positions of the block (malloc'ed) */
    uint32_t pos_cap;
    uint32_t pos_start[JS_BLOCK_SIZE * 8 + 1];
} js_postings_cursor;

/* Prepares c to read the record data[0..len) of a term with df entries.
 * has_positions: the lexicon's flag.  max_id: section count (ids must be
 * below it).  Checks the skip table (and its crc) but no block yet.
 * Returns 0, JS_ECORRUPT, or JS_EINVALID for bad arguments.  The cursor
 * borrows data; release it with js_postings_close. */
int js_postings_open(js_postings_cursor *c, const uint8_t *data, size_t len,
                     uint32_t df, uint32_t block_size, int has_positions,
                     uint32_t max_id);

/* js_postings_open, but with table_checked non-zero it trusts the skip
 * table (crc and structure) because an earlier js_postings_open of the
 * very same bytes with the same arguments returned 0: opening is then
 * O(1) whatever the record's size.  Blocks are still checked as they
 * load.  (js_index_postings remembers which records it has checked.) */
int js_postings_open_ex(js_postings_cursor *c, const uint8_t *data,
                        size_t len, uint32_t df, uint32_t block_size,
                        int has_positions, uint32_t max_id,
                        int table_checked);

/* After an open: c's block crcs are recorded in, and taken from, k (which
 * must cover c's record and outlive the cursor's use); many cursors on
 * many threads may share one k. */
static inline void js_postings_share_checks(js_postings_cursor *c,
                                            const js_block_checks *k)
{
    c->checks = k;
}

/* Moves to the next entry.  Returns 1 (c->id, c->tf set), 0 at the end,
 * or JS_ECORRUPT (a block fails its crc or its decoding rules). */
int js_postings_next(js_postings_cursor *c);

/* Moves to the first entry with id >= target (never backwards), decoding
 * only the block that may hold it.  Returns as js_postings_next. */
int js_postings_seek(js_postings_cursor *c, uint32_t target);

/* The largest block_max_norm of the record's skip table (the term's
 * largest t for JS_NORM_B), or 0 for a one-block record (unknown). */
float js_postings_max_norm(const js_postings_cursor *c);

/* Moves to the first block whose last id is >= target without decoding
 * it, and sets block_last_id / block_max_tf / block_max_norm; the next
 * js_postings_next or js_postings_seek decodes it.  For block-max WAND.
 * Returns 1, 0 when no block is left, or JS_ECORRUPT. */
int js_postings_skip_block(js_postings_cursor *c, uint32_t target);

/* Points *pos at the current entry's c->tf positions (valid until the
 * cursor leaves the block).  Returns 0, JS_EINVALID if the term has no
 * positions, JS_ENOMEM or JS_ECORRUPT. */
int js_postings_positions(js_postings_cursor *c, const uint32_t **pos);

/* Frees what the cursor allocated; the cursor may be opened again. */
void js_postings_close(js_postings_cursor *c);

#endif /* JS_CODEC_H */
