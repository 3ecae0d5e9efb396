/*
 * lexicon.h — the term dictionary (format: index/FORMAT.md, parts 6
 * LEXICON and 7 LEXICON_INDEX).
 *
 * In (writer): terms in strictly increasing memcmp order, each with the
 *      facts the query engine needs before it touches postings.
 * Out: the bytes of the two parts: front-coded blocks of up to 32 terms,
 *      each with a crc32, and an index of every block's first term.
 * In (reader): those two parts, untrusted (usually memory-mapped).
 * Out: a term's js_term_info by binary search over the block index and
 *      one block decoded, or every term in order (for check and stats).
 *      A reader holds no mutable state: lookups from many threads at once
 *      are safe.
 */
#ifndef JS_LEXICON_H
#define JS_LEXICON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define JS_LEXICON_BLOCK_TERMS 32
#define JS_TERM_POSITIONS 1u /* js_term_info.flags: positions stored */

typedef struct js_term_info {
    uint32_t df;     /* sections holding the term, >= 1 */
    uint64_t cf;     /* occurrences, >= df */
    uint64_t offset; /* of the postings record in POSTINGS */
    uint64_t length; /* of the postings record, bytes */
    uint32_t max_tf;
    uint32_t flags;  /* JS_TERM_* */
} js_term_info;

typedef struct js_lexicon_writer js_lexicon_writer;

/* Creates a writer with terms_per_block terms a block (1..256; tests use
 * small values).  Returns 0 and *out, or JS_ENOMEM / JS_EINVALID. */
int js_lexicon_writer_new(js_lexicon_writer **out, uint32_t terms_per_block);

/* Adds a term (1..JS_TERM_MAX_BYTES+1 bytes) after every term added
 * before it in memcmp order.  Returns 0, JS_ENOMEM, or JS_EINVALID (out
 * of order, empty, too long, df 0, cf < df). */
int js_lexicon_add(js_lexicon_writer *w, const char *term, size_t len,
                   const js_term_info *info);

/* Appends the LEXICON part to `blocks` and the LEXICON_INDEX part to
 * `index`.  Returns 0 or JS_ENOMEM.  The writer is done afterwards. */
int js_lexicon_finish(js_lexicon_writer *w, js_buf *blocks, js_buf *index);

/* For a builder that streams the parts: moves what is finished out of
 * the writer — closed blocks (LEXICON bytes, in order) to the end of
 * `blocks`, their LEXICON_INDEX entries to `idx` and their first terms to
 * `firsts` — so that the writer holds one open block.  LEXICON is then
 * everything drained; LEXICON_INDEX is u32 block count, u64 term count
 * (from js_lexicon_end), everything drained to idx, then to firsts.
 * Returns 0, JS_ENOMEM or JS_EINVALID.  After a drain, js_lexicon_finish
 * refuses (JS_EINVALID): end with js_lexicon_end and a last drain. */
int js_lexicon_drain(js_lexicon_writer *w, js_buf *blocks, js_buf *idx,
                     js_buf *firsts);

/* Closes the open block (no term can follow) and gives the counts of
 * LEXICON_INDEX's header.  Returns 0, JS_ENOMEM or JS_EINVALID. */
int js_lexicon_end(js_lexicon_writer *w, uint32_t *nblocks, uint64_t *nterms);

/* Frees the writer; NULL is fine. */
void js_lexicon_writer_free(js_lexicon_writer *w);

typedef struct js_lexicon js_lexicon;

/* Opens a reader over the two parts (borrowed: they must outlive it).
 * postings_len: size of the POSTINGS part, which every entry's offset and
 * length must fit in.  Checks the index (sizes, offsets within `blocks`,
 * first terms strictly increasing) but not every block: blocks are
 * checked (crc32, entry rules) when a lookup decodes them.  Returns 0 and
 * *out, JS_ECORRUPT, or JS_ENOMEM. */
int js_lexicon_open(js_lexicon **out, const uint8_t *blocks, size_t blocks_len,
                    const uint8_t *index, size_t index_len,
                    uint64_t postings_len);

/* Returns the number of terms, from the index. */
uint64_t js_lexicon_count(const js_lexicon *lx);

/* Finds a term.  Returns 0 and fills *out, JS_ENOTFOUND, or JS_ECORRUPT
 * when the block it needs is damaged. */
int js_lexicon_lookup(const js_lexicon *lx, const char *term, size_t len,
                      js_term_info *out);

/* Calls fn for every term in order (term bytes valid during the call).
 * Stops when fn returns non-zero and returns that value; returns 0 after
 * the last term, or JS_ECORRUPT for a damaged block (also: terms not
 * strictly increasing across blocks, or a count that differs from the
 * index's). */
int js_lexicon_iter(const js_lexicon *lx,
                    int (*fn)(void *ctx, const char *term, size_t len,
                              const js_term_info *info),
                    void *ctx);

/* Calls fn, in order, for every term that starts with prefix[0..len)
 * (term bytes valid during the call): a seek to the block that would
 * hold the prefix, then a walk forward while terms share it, so the cost
 * is one lookup plus the terms reported.  Stops when fn returns non-zero
 * and returns that value; returns 0 after the last such term,
 * JS_ECORRUPT for a damaged block on the way, or JS_EINVALID for NULL
 * arguments.  An empty prefix walks every term. */
int js_lexicon_prefix(const js_lexicon *lx, const char *prefix, size_t len,
                      int (*fn)(void *ctx, const char *term, size_t len,
                                const js_term_info *info),
                      void *ctx);

/* Frees the reader; NULL is fine. */
void js_lexicon_close(js_lexicon *lx);

#endif /* JS_LEXICON_H */
