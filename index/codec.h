/*
 * codec.h — one term's postings: encoding for the writer, a cursor for
 * the reader (format: index/FORMAT.md, part 8 POSTINGS), and the page
 * checksums that guard the whole part (part 11 POSTINGS_CRC).
 *
 * In (writer): a term's entries — section ids strictly increasing, term
 *      frequencies, and optionally the positions of each entry.
 * Out: the bytes of the term's postings record, all at once
 *      (js_postings_encode) or block by block as entries come
 *      (js_postings_writer_*), so that a term's postings never need to
 *      be in memory whole: a record of at most one block's entries is
 *      varints alone; a longer one is blocks (Stream VByte ids, a bitmap
 *      and varints for frequencies, varint positions) and a skip table.
 * In (reader): those bytes from disk, untrusted, plus the df, block size
 *      and flags the lexicon gives.
 * Out: a cursor that walks the entries, skips whole blocks by the skip
 *      table (for AND and block-max top-k), and decodes positions only
 *      for blocks that need them.
 *
 * Checksums: records carry none of their own (but for the skip table's).
 * A crc32 per page of the POSTINGS part lives in POSTINGS_CRC; a cursor
 * given a js_block_checks (js_postings_share_checks, as js_reader_postings
 * does) verifies the pages a block spans on its first load through that
 * object.  A cursor opened on bytes without one (unit tests, `check`,
 * which verifies every page itself) runs the structural checks only: no
 * crc is verified.
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

/* zlib's crc32 of p[0..n) (crc32(0, p, n)), computed by libdeflate, which
 * uses carry-less multiplication where the CPU has it (codec.c). */
uint32_t js_crc32(const uint8_t *p, size_t n);

/* The crc32 of the bytes whose crc32 is crc followed by p[0..n), as
 * zlib's crc32(crc, p, n) (so js_crc32_more(0, p, n) == js_crc32(p, n)),
 * for data checked in pieces; any n. */
uint32_t js_crc32_more(uint32_t crc, const void *p, size_t n);

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

/* Appends the postings record of one term to `out`: varints alone when
 * n <= block_size, else blocks and a skip table (FORMAT.md part 8).
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
 * each finished block is appended to `out` once the entry after it
 * arrives (the caller may write it away and empty out between calls),
 * and the skip table follows the last block.  A term of at most one
 * block's entries is written whole by finish, varint-coded.  Memory: one
 * block of entries and positions, and 16 bytes a block for the table.
 * The output is the same as js_postings_encode's for the same entries,
 * however they were cut into chunks. */
typedef struct js_postings_writer {
    uint32_t block_size;
    int has_pos, any_lens, err;
    uint32_t n, npos;      /* entries and positions pending */
    uint32_t df, last_id, max_tf, prev_last, nblocks;
    uint64_t cf, blocks_len;
    double avg; /* field's average length, 0 until js_postings_writer_avg */
    uint32_t ids[JS_BLOCK_SIZE * 8], tfs[JS_BLOCK_SIZE * 8],
        lens[JS_BLOCK_SIZE * 8];
    uint32_t *pos;
    size_t pos_cap;
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

/* Page checksums of a POSTINGS part (FORMAT.md part 11 POSTINGS_CRC),
 * and which pages have passed them through one open index: a bit per
 * page, set (atomic OR, relaxed) once the page's crc matched.  The part
 * is mapped from a file that is replaced, never rewritten, so a page
 * that passed once needs no second check through the same mapping; a
 * page that failed is never recorded.  Many cursors on many threads may
 * share one object. */
#define JS_PAGE_SIZE 1024      /* the page size the builder writes */
#define JS_PAGE_SIZE_MIN 64    /* the sizes a reader accepts: powers of */
#define JS_PAGE_SIZE_MAX 65536 /* two in this range */
typedef struct js_block_checks {
    const uint8_t *base; /* POSTINGS' first byte */
    size_t len;          /* its length */
    const uint8_t *crcs; /* npages u32 crc32s (in POSTINGS_CRC) */
    uint64_t npages;
    unsigned shift;      /* log2 of the page size */
    _Atomic uint64_t *bits; /* NULL: pages are checked on every load */
} js_block_checks;

/* Sets k up for the POSTINGS part base[0..len) and its POSTINGS_CRC part
 * crc_part[0..crc_len), both borrowed for k's life, after checking the
 * latter whole: its own crc, a page size in range, a page count of
 * ceil(len / page size) and a length that holds exactly those.  Returns
 * 0 or JS_ECORRUPT (k then holds nothing to free).  Without memory for
 * the bits it still returns 0, and every load checks its pages. */
int js_block_checks_init(js_block_checks *k, const uint8_t *base, size_t len,
                         const uint8_t *crc_part, size_t crc_len);

/* Frees k's bits; a zeroed k is fine, and so is a second call. */
void js_block_checks_free(js_block_checks *k);

/* Checks every page of k's part against its crc (and records those that
 * pass).  Returns 0, or JS_ECORRUPT with the first bad page's index in
 * *bad (when not NULL). */
int js_block_checks_verify(const js_block_checks *k, uint64_t *bad);

/* The POSTINGS_CRC part, built as POSTINGS is written: bytes go in as
 * they are written, in pieces of any size; finish appends the whole part
 * to out.  Memory: 4 bytes a page. */
typedef struct js_page_crcs {
    uint32_t page; /* the page size */
    uint32_t fill; /* bytes of the current page so far */
    uint32_t crc;  /* their crc32 */
    js_buf crcs;   /* the finished pages' crcs, u32 each */
} js_page_crcs;

/* Starts an empty part (a zeroed or freed w) with pages of `page` bytes.
 * Returns 0 or JS_EINVALID (page not a power of two from
 * JS_PAGE_SIZE_MIN to JS_PAGE_SIZE_MAX). */
int js_page_crcs_init(js_page_crcs *w, uint32_t page);

/* Adds n bytes of POSTINGS.  Returns 0 or JS_ENOMEM. */
int js_page_crcs_add(js_page_crcs *w, const void *p, size_t n);

/* Appends the part (page size, page count, the crcs, the crc of all
 * that) to out.  Returns 0 or JS_ENOMEM. */
int js_page_crcs_finish(js_page_crcs *w, js_buf *out);

/* Frees w's memory; w may be initialised again. */
void js_page_crcs_free(js_page_crcs *w);

/* A cursor over one term's record.  Fields are read-only for callers;
 * `id` and `tf` describe the current entry once next/seek returned 1. */
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
    const uint8_t *end;            /* the record's end */
    /* page crcs and the pages that passed them, shared by a reader's
     * cursors (NULL: no crc is checked); see js_postings_share_checks */
    const js_block_checks *checks;
    uint32_t ids[JS_BLOCK_SIZE * 8];
    uint32_t tfs[JS_BLOCK_SIZE * 8];
    uint32_t *pos;        /* decoded positions of the block (malloc'ed) */
    uint32_t pos_cap;
    uint32_t pos_start[JS_BLOCK_SIZE * 8 + 1];
} js_postings_cursor;

/* Prepares c to read the record data[0..len) of a term with df entries.
 * has_positions: the lexicon's flag.  max_id: section count (ids must be
 * below it).  Checks the skip table (and its crc) but no block yet, and
 * no page crc ever unless js_postings_share_checks follows.
 * Returns 0, JS_ECORRUPT, or JS_EINVALID for bad arguments.  The cursor
 * borrows data; release it with js_postings_close. */
int js_postings_open(js_postings_cursor *c, const uint8_t *data, size_t len,
                     uint32_t df, uint32_t block_size, int has_positions,
                     uint32_t max_id);

/* js_postings_open, but with table_checked non-zero it trusts the skip
 * table (crc and structure) because an earlier js_postings_open of the
 * very same bytes with the same arguments returned 0: opening is then
 * O(1) whatever the record's size.  Blocks are still checked as they
 * load.  (js_reader_postings remembers which records it has checked.) */
int js_postings_open_ex(js_postings_cursor *c, const uint8_t *data,
                        size_t len, uint32_t df, uint32_t block_size,
                        int has_positions, uint32_t max_id,
                        int table_checked);

/* After an open: each block c loads (a one-block record: the record)
 * has the pages it spans checked against k's crcs, unless k records
 * that they passed already, and recorded when they pass.  k must cover
 * c's record (a block outside it is reported corrupt) and outlive the
 * cursor's use; many cursors on many threads may share one k. */
static inline void js_postings_share_checks(js_postings_cursor *c,
                                            const js_block_checks *k)
{
    c->checks = k;
}

/* Moves to the next entry.  Returns 1 (c->id, c->tf set), 0 at the end,
 * or JS_ECORRUPT (a block fails its pages' crcs or its decoding
 * rules). */
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
