/*
 * xapian_build.h — the Xapian backend's index: build it from sections,
 * read its statistics.
 *
 * In (build): paths or in-memory documents, through ingest and the text
 *      pipeline, exactly as the native builder (index/builder.c) sees
 *      them.
 * Out: DIR/xapian/ — shard-0 ... shard-(N-1), glass databases, and
 *      info.json (backend, shards, analyze flags, counts, format
 *      version), published together by one atomic rename.
 * In (read): DIR.  Out: info.json's figures and each shard's live counts
 *      and bytes on disk.
 *
 * What a section becomes (one Xapian document each):
 *  - terms: the heading field (the document title analysed from
 *    position 0, then each heading of the section's path that differs
 *    from the title, each from the last position + 2), every term
 *    prefixed with byte 0x01; the body from position 0, unprefixed.
 *    wdf = occurrences; every position stored.
 *  - data: one compact JSON object: section (the global section id),
 *    source, title, format, encoding, id, metadata (object or null),
 *    path (array of headings), ordinal, start, end, head_len and
 *    body_len (positions used by each field), body (the text).
 *  - docid: section i (0-based, in ingest order, as the native index
 *    numbers them) goes to shard i % N as local docid i / N + 1.  Opened
 *    together in shard order, Xapian interleaves docids as (d - 1) * N +
 *    s + 1 = i + 1: a search over all shards — local or served by
 *    xapian-tcpsrv, one server per shard in shard order — reports docid
 *    i + 1, and the data's "section" says i in any case.
 *
 * The builder and the statistics are exported from libjiansuo (JS_API)
 * for the CLI but not declared in jiansuo.h; opening, searching and
 * checking a Xapian index are (jiansuo.h).  Conventions are jiansuo.h's.
 */
#ifndef JS_XAPIAN_BUILD_H
#define JS_XAPIAN_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "jiansuo.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JS_XAPIAN_FORMAT_VERSION 1
#define JS_XAPIAN_DIR "xapian"        /* under the index directory */
#define JS_XAPIAN_INFO "info.json"    /* in DIR/xapian */
#define JS_XAPIAN_MAX_SHARDS 1024

typedef struct js_xbuild js_xbuild;

/* Starts a build into dir (created if needed): takes the directory's
 * build lock (the native builder's: two builds of either kind never
 * overlap), removes leftovers of interrupted builds, and creates the
 * shards in dir/xapian.tmp-PID.  opts (may be NULL) is the native
 * builder's; memory_mib, threads and block_size do not apply.  shards
 * is 1..JS_XAPIAN_MAX_SHARDS.  Returns 0 and *out, or a negative JS_E*
 * code; *out is set when memory allows so that js_xbuild_errmsg can
 * explain (close it either way). */
JS_API int js_xbuild_open(js_xbuild **out, const char *dir,
                          const js_build_options *opts, unsigned shards);

/* Adds the files under path (see js_ingest_path).  Returns 0, or a JS_E*
 * code (message in js_xbuild_errmsg): JS_ENOTFOUND / JS_EIO for a path
 * that cannot be read (the build may go on), anything else loses the
 * build. */
JS_API int js_xbuild_add_path(js_xbuild *b, const char *path);

/* Adds one document from memory (see js_ingest_memory). */
JS_API int js_xbuild_add_memory(js_xbuild *b, const char *name,
                                const void *data, size_t len);

/* Commits the shards, counts the terms, writes info.json and publishes
 * dir/xapian atomically (the old one, if any, is swapped out and
 * removed).  Returns 0 or a JS_E* code; on failure the previous index is
 * untouched. */
JS_API int js_xbuild_commit(js_xbuild *b);

/* Copies the build's figures into *out (terms: distinct over all shards;
 * postings: term-section pairs; index_bytes: bytes on disk). */
JS_API void js_xbuild_get_stats(const js_xbuild *b, js_build_stats *out);

/* Returns the message of the last failed call ("" if none). */
JS_API const char *js_xbuild_errmsg(const js_xbuild *b);

/* Releases the lock and frees the builder; an uncommitted build's
 * temporary directory is removed.  NULL is fine. */
JS_API void js_xbuild_close(js_xbuild *b);

/* js_xindex_detect, js_xindex_open, js_xindex_errmsg and
 * js_xindex_close are declared in jiansuo.h ("Searching a Xapian
 * index"). */

typedef struct js_xindex_shard {
    uint64_t sections;     /* documents in the shard, read from Xapian */
    uint64_t total_length; /* sum of its documents' lengths */
    uint64_t bytes;        /* bytes of its files on disk */
} js_xindex_shard;

typedef struct js_xindex_stats {
    uint32_t format_version;
    unsigned shards;
    uint64_t documents, sections, terms, postings, positions;
    uint64_t total_length; /* sum of document lengths (Xapian's) */
    uint64_t source_bytes, text_bytes;
    uint64_t file_bytes;   /* all shards and info.json */
    unsigned analyze_flags;
    const js_xindex_shard *shard; /* [shards], owned by the handle */
    const char *build_info;       /* JSON object text, owned by the handle */
} js_xindex_stats;

/* Fills *out (pointers owned by xi, valid until its close).  Returns 0. */
JS_API int js_xindex_get_stats(const js_xindex *xi, js_xindex_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* JS_XAPIAN_BUILD_H */
