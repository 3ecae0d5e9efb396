/*
 * champ.h — champion lists: the best sections of each common term,
 * ranked once when the index is built (format: index/FORMAT.md, part 10
 * CHAMPIONS).
 *
 * Why: a query of one common term (one character, a frequent bigram or
 * word) is the slow case of block-max top-k.  BM25 saturates, so nearly
 * every block of its postings holds a section scoring close to the best,
 * and tens of thousands of candidates get decoded and scored for ten
 * hits.  Its ranking depends only on t, BM25F's pseudo-frequency (k1 and
 * the idf change the scores, not their order), so the builder can keep
 * the JS_CHAMP_SIZE sections of largest t and the search read them.
 *
 * In (ranker): a term's sections in id order, each with its frequency
 *      and length in the body and heading fields.
 * Out: the term's list record: the number of sections holding it and
 *      the best ones (largest t, then smallest id) with their two
 *      frequencies, in id order.
 * In (reader): the part's bytes, untrusted.
 * Out: a term's list, checked, found by its postings record's offset.
 */
#ifndef JS_CHAMP_H
#define JS_CHAMP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* A body term in at least this many sections gets a list (builder
 * option champion_df changes it, for tests).  Measured on chinese-poetry
 * (scripts/bench search): one-character queries of df 128 to 256 took
 * 77 µs at the median, of df 512 to 1024 141 µs, against some µs. */
#define JS_CHAMP_MIN_DF 128
/* Sections per list: -n 10 and three more pages. */
#define JS_CHAMP_SIZE 32
/* The heading weight the builder ranks for: JS_SEARCH_OPTIONS_INIT's
 * (check_champ asserts they agree); other weights, like other values of
 * b, rank by walking the postings. */
#define JS_CHAMP_W 2.0
/* The reader's bound on the header's list size. */
#define JS_CHAMP_MAX_SIZE 1024
/* Bytes of the part header. */
#define JS_CHAMP_HEADER 32

typedef struct js_champ_item {
    double t;
    uint32_t id, tb, th;
} js_champ_item;

/* One term's best sections, as sections are added in id order. */
typedef struct js_champ_ranker {
    double b, w, avg_b, avg_h; /* t's parameters (js_bm25f_t) */
    uint32_t size;             /* list size */
    uint32_t n;                /* items held, <= size */
    uint64_t sections;         /* sections added since the last reset */
    uint32_t last_id;
    js_champ_item *heap;       /* size items; heap[0] the worst held */
} js_champ_ranker;

/* Prepares r for lists of `size` (1..JS_CHAMP_MAX_SIZE) ranked by t with
 * these parameters.  Returns 0, JS_EINVALID or JS_ENOMEM; free with
 * js_champ_ranker_free. */
int js_champ_ranker_init(js_champ_ranker *r, uint32_t size, double b,
                         double w, double avg_b, double avg_h);

/* Starts a term. */
void js_champ_ranker_reset(js_champ_ranker *r);

/* Adds a section holding the term tb times in its body of length lb and
 * th times in its heading field of length lh (tb + th >= 1), ids
 * strictly increasing from call to call.  Returns 0, or JS_EINVALID for
 * an id out of order. */
int js_champ_ranker_add(js_champ_ranker *r, uint32_t id, uint32_t tb,
                        uint32_t lb, uint32_t th, uint32_t lh);

/* Whether a section whose t is at most `bound` (and whose id is larger
 * than every id added, as always) cannot enter the list; then
 * js_champ_ranker_pass must count it instead of js_champ_ranker_add.
 * Lets a caller skip computing t for most of a common term's sections. */
static inline int js_champ_ranker_full_above(const js_champ_ranker *r,
                                             double bound)
{
    return r->n == r->size && bound < r->heap[0].t;
}

/* Counts a section that cannot enter the list (see above). */
static inline void js_champ_ranker_pass(js_champ_ranker *r, uint32_t id)
{
    r->sections++;
    r->last_id = id;
}

/* Appends the term's list record (FORMAT.md) to out; the ranker keeps
 * its items until the next reset.  Returns 0, JS_ENOMEM, or JS_EINVALID
 * when no section was added. */
int js_champ_ranker_encode(js_champ_ranker *r, js_buf *out);

/* Frees r's memory (not r); a zeroed ranker is fine. */
void js_champ_ranker_free(js_champ_ranker *r);

/* Ranking during the builder's merge (champ.c says how). */
typedef struct js_champ_merge js_champ_merge;

/* A ranker for the builder's merge: lists of `size` for body terms of df
 * >= min_df, from the sections' body and heading lengths (borrowed,
 * nsections each) and the fields' average lengths; temporary files go
 * in dir (borrowed).  Returns 0 or an error (*out, if not NULL, holds
 * the message; free it either way with js_champ_merge_free). */
int js_champ_merge_new(js_champ_merge **out, const char *dir, uint32_t min_df,
                       uint32_t size, const uint32_t *body_lens,
                       const uint32_t *head_lens, uint32_t nsections,
                       double avg_b, double avg_h);

/* One piece of a term, as the merge yields them (js_accum_chunk_fn).  At
 * a body term's last piece, when it gets a list, *list / *list_len are
 * its record (valid until the next call), else NULL / 0.  Returns 0 or
 * JS_ENOMEM / JS_EIO with the message in js_champ_merge_errmsg. */
int js_champ_merge_piece(js_champ_merge *cm, const char *term, size_t len,
                         const uint32_t *ids, const uint32_t *tfs, uint32_t n,
                         int last, const uint8_t **list, size_t *list_len);

const char *js_champ_merge_errmsg(const js_champ_merge *cm);

/* Frees cm; NULL is fine. */
void js_champ_merge_free(js_champ_merge *cm);

/* The part's header: n lists of `size` for terms of df >= min_df, ranked
 * for b and heading weight w. */
typedef struct js_champ_header {
    uint32_t n, size, min_df;
    double b, w;
} js_champ_header;

/* Appends the header and finishes the part's table crc: table_crc is
 * zlib's crc32 of the table's bytes (n entries of 16), which follow the
 * header in the part.  Appends the header to head and the crc32 of
 * header and table to tail. */
void js_champ_put_header(js_buf *head, js_buf *tail, const js_champ_header *h,
                         uint32_t table_crc, uint64_t table_len);

/* The part, opened. */
typedef struct js_champs {
    js_champ_header h;
    const uint8_t *table; /* n entries: u64 postings offset, u64 list offset */
    const uint8_t *lists;
    uint64_t lists_len;
} js_champs;

/* Opens the part p[0..len): header, table crc, offsets in order.
 * postings_len bounds the postings offsets.  Returns 0 or JS_ECORRUPT
 * with a reason in err. */
int js_champs_open(js_champs *c, const uint8_t *p, size_t len,
                   uint64_t postings_len, char *err, size_t errlen);

/* The list of the term whose postings record starts at `offset`:
 * returns 1 with *list, *len its record's bytes (inside the part), 0 when
 * the term has none. */
int js_champs_find(const js_champs *c, uint64_t offset, const uint8_t **list,
                   size_t *len);

/* The i-th entry of the table (i < c->h.n). */
void js_champs_entry(const js_champs *c, uint32_t i, uint64_t *postings_off,
                     const uint8_t **list, size_t *len);

/* A decoded list. */
typedef struct js_champ_list {
    uint64_t sections; /* sections holding the term, either field */
    uint32_t n;        /* entries, 1..size and <= sections */
    uint32_t id[JS_CHAMP_MAX_SIZE], tb[JS_CHAMP_MAX_SIZE],
        th[JS_CHAMP_MAX_SIZE];
} js_champ_list;

/* Decodes and checks a list record (from js_champs_find; room: bytes of
 * the part from p to its end): crc, sizes, ids increasing below
 * nsections, every entry holding the term.  Returns 0 or JS_ECORRUPT. */
int js_champ_decode(const uint8_t *p, size_t len, size_t room, uint32_t size,
                    uint32_t nsections, js_champ_list *out);

#endif /* JS_CHAMP_H */
