/*
 * store.h — the sections' original text, zlib-compressed in blocks
 * (format: index/FORMAT.md, parts 4 STORE and 5 STORE_INDEX).
 *
 * In (writer): each section's heading path and body, in section id order.
 * Out: the bytes of the two parts.
 * In (reader): those parts, untrusted (usually memory-mapped).
 * Out: one section's heading path and body, decompressed from its block
 *      (crc32 checked) into memory the caller owns.  No mutable state:
 *      safe from many threads at once.
 *
 * Search results show headings and snippets from here, so they work even
 * after the source files have moved.
 */
#ifndef JS_STORE_H
#define JS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct js_store js_store;

#define JS_STORE_BLOCK_BYTES (64u * 1024) /* raw text per block, about */

typedef struct js_store_writer js_store_writer;

/* Creates a writer that closes a block once it holds block_bytes of raw
 * text, or before a section that would take it past that (tests use small
 * values; a section is never split, and one larger than block_bytes makes
 * a block of its own), compressing at zlib `level` (0..9).  Returns 0 and
 * *out, JS_ENOMEM or JS_EINVALID (block_bytes 0 or over 72 MiB, level). */
int js_store_writer_new(js_store_writer **out, size_t block_bytes, int level);

/* Adds the next section (ids implicitly 0, 1, 2, ...).  path is the
 * heading path with headings joined by U+001F.  Returns 0, JS_ENOMEM, or
 * JS_EINVALID for a zlib failure, a NULL pointer with a non-zero length,
 * a section of over 72 MiB, or a writer already finished. */
int js_store_add(js_store_writer *w, const char *path, size_t path_len,
                 const char *body, size_t body_len);

/* Moves the blocks finished so far to the end of `out` and forgets them,
 * so that a builder can write STORE as it goes and the writer holds no
 * more than the open block.  STORE is then everything drained, in order,
 * followed by what js_store_finish appends.  Returns 0, JS_ENOMEM, or the
 * error of an earlier failed js_store_add. */
int js_store_drain(js_store_writer *w, js_buf *out);

/* Appends the STORE part (what was not drained) to `blocks` and
 * STORE_INDEX to `index`.  Returns 0 or JS_ENOMEM. */
int js_store_finish(js_store_writer *w, js_buf *blocks, js_buf *index);

/* Frees the writer; NULL is fine. */
void js_store_writer_free(js_store_writer *w);

/* Opens a reader over the two parts (borrowed) for `sections` sections.
 * Checks the index: offsets inside STORE and increasing, first ids
 * strictly increasing from 0 and below `sections`.  Returns 0 and *out,
 * JS_ECORRUPT or JS_ENOMEM. */
int js_store_open(js_store **out, const uint8_t *blocks, size_t blocks_len,
                  const uint8_t *index, size_t index_len, uint32_t sections);

/* Gets section `id`'s heading path and body as malloc'ed NUL-terminated
 * strings (the caller frees both; either out pointer may be NULL to skip
 * it).  Returns 0, JS_ENOTFOUND for an id out of range, JS_ECORRUPT (crc,
 * zlib or record damage), or JS_ENOMEM. */
int js_store_get(const js_store *st, uint32_t id, char **path,
                 size_t *path_len, char **body, size_t *body_len);

/* The last block one reader inflated, kept for the next section it
 * wants: a zeroed struct is empty; free it with js_store_cache_free. */
typedef struct js_store_cache {
    const struct js_store *store;
    uint32_t block;
    uint8_t *raw;
    size_t raw_len;
} js_store_cache;

/* js_store_get without copies: *path and *body point into cache (their
 * bytes are not NUL-terminated) until the next call with the same cache
 * or its js_store_cache_free.  Sections read in id order inflate each
 * block once.  One cache serves one thread.  Returns as js_store_get. */
int js_store_peek(const js_store *st, js_store_cache *cache, uint32_t id,
                  const char **path, size_t *path_len, const char **body,
                  size_t *body_len);

/* Frees what the cache holds; the cache is empty again.  NULL is fine. */
void js_store_cache_free(js_store_cache *cache);

/* Checks every block (crc32, decompression, record structure, section
 * count).  Returns 0, JS_ECORRUPT with the first bad block's number in
 * *bad_block when not NULL, or JS_ENOMEM (a block could not be inflated
 * for want of memory; *bad_block untouched). */
int js_store_verify(const js_store *st, uint32_t *bad_block);

/* Called by js_store_each_path with a section's heading path (len bytes,
 * not NUL-terminated, valid during the call).  Non-zero stops the walk. */
typedef int (*js_store_path_fn)(void *ctx, uint32_t id, const char *path,
                                size_t len);

/* Calls fn for every section's heading path in id order, inflating each
 * block once (js_store_get per section would inflate a block per
 * section), checking each as js_store_verify does (which is this walk
 * with fn NULL).  Returns 0, fn's non-zero value, JS_ECORRUPT with the bad
 * block's number in *bad_block when not NULL, or JS_ENOMEM. */
int js_store_each_path(const js_store *st, js_store_path_fn fn, void *ctx,
                       uint32_t *bad_block);

/* Frees the reader; NULL is fine. */
void js_store_close(js_store *st);

#endif /* JS_STORE_H */
