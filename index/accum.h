/*
 * accum.h — the in-memory postings accumulator with sorted runs on disk.
 *
 * In:  term occurrences (term bytes, section id, position) in section id
 *      order, as the text pipeline produces them.
 * Out: every term in memcmp order with its merged postings — section ids,
 *      frequencies and positions — from memory and from every run spilled
 *      to disk, for the index writer.
 *
 * Memory stays near the budget whatever the corpus size: when the
 * accumulated postings pass it, they are sorted by term and written as a
 * run file (varint-compressed) in the run directory, and memory is freed.
 * The merge reads all runs at once, a buffered block from each.  The
 * result does not depend on when spills happened: a build spilled every
 * few kilobytes is byte-identical to one that never spilled.
 */
#ifndef JS_ACCUM_H
#define JS_ACCUM_H

#include <stddef.h>
#include <stdint.h>

typedef struct js_accum js_accum;

/* Creates an accumulator that spills when its memory passes
 * budget_bytes, writing runs into the existing directory run_dir (its
 * files are removed by js_accum_free).  Returns 0 and *out, JS_ENOMEM or
 * JS_EINVALID. */
int js_accum_new(js_accum **out, size_t budget_bytes, const char *run_dir);

/* Records one occurrence.  Sections must come in non-decreasing id
 * order, and positions within one term and section in increasing order
 * (which is the text pipeline's order).  term: 1..JS_TERM_MAX_BYTES+1
 * bytes.  Spills by itself when over budget.  Returns 0, JS_ENOMEM,
 * JS_EIO (spilling failed, errno kept), or JS_EINVALID (order broken). */
int js_accum_add(js_accum *a, const char *term, size_t len, uint32_t section,
                 uint32_t position);

/* Called once per term by js_accum_merge, in strictly increasing memcmp
 * order of terms: ids[n] strictly increasing, tfs[n] >= 1, positions the
 * concatenation of each entry's tfs[i] increasing positions.  The arrays
 * are valid during the call.  Return 0 to go on. */
typedef int (*js_accum_term_fn)(void *ctx, const char *term, size_t len,
                                const uint32_t *ids, const uint32_t *tfs,
                                const uint32_t *positions, uint32_t n);

/* Merges memory and all runs and calls fn for every term.  May be called
 * once, after the last js_accum_add.  Returns 0, fn's non-zero value,
 * JS_ENOMEM, JS_EIO, or JS_ECORRUPT (a run file damaged on disk). */
int js_accum_merge(js_accum *a, js_accum_term_fn fn, void *ctx);

/* Tells the accumulator that its owner holds `bytes` of other memory
 * that counts against the same budget (replacing the previous figure):
 * batches then spill that much earlier. */
void js_accum_set_external(js_accum *a, size_t bytes);

/* Statistics: runs spilled so far, and the highest memory the
 * accumulator's own structures reached, in bytes. */
uint32_t js_accum_runs(const js_accum *a);
size_t js_accum_peak_bytes(const js_accum *a);

/* Like js_accum_term_fn, for consecutive pieces of one term's postings:
 * each piece holds whole entries (ids above the previous piece's), and
 * `last` is 1 on the term's final piece, 0 before.  Every term gets at
 * least its final piece, with n >= 1. */
typedef int (*js_accum_chunk_fn)(void *ctx, const char *term, size_t len,
                                 const uint32_t *ids, const uint32_t *tfs,
                                 const uint32_t *positions, uint32_t n,
                                 int last);

/* js_accum_merge, but a term whose arrays reach max_bytes (4 bytes per
 * id, frequency and position) is handed over in pieces of about that
 * size, so that the merge's memory stays bounded however frequent a term
 * is (bar one entry's positions: a piece never splits an entry). */
int js_accum_merge_chunks(js_accum *a, js_accum_chunk_fn fn, void *ctx,
                          size_t max_bytes);

/* Frees everything and deletes the run files; NULL is fine. */
void js_accum_free(js_accum *a);

#endif /* JS_ACCUM_H */
