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
 *  - identity terms and values: xapian_doc.h (a document's identity,
 *    its source file, the section id, counts, the file's stamp).
 *  - placement: section i (0-based, in ingest order, as the native
 *    index numbers them) goes to shard FNV-1a(its document's identity) %
 *    N, as that shard's next docid (info.json "placement": "identity"),
 *    so that the live writer (xapian_writer.h) finds every version of a
 *    document on one shard.  Opened together in shard order, Xapian
 *    interleaves docids as (d - 1) * N + s + 1, which no longer follows
 *    the section order; the data's "section" and value slot 0 say i, and
 *    searches break ties by slot 0, so ranks are the same for any N.
 *    Indexes built before this (no "placement") put section i on shard
 *    i % N as docid i / N + 1; they are still read and searched alike,
 *    but the writer refuses them when N > 1.
 *  - info.json also holds "next_section" (the id the next section
 *    added gets) and "generation" (0 for a build; the writer's commits
 *    count up from there).
 *
 * Programs reach all of this through jiansuo.h's one index API
 * (js_builder_*, js_index_*, js_search with JS_BACKEND_XAPIAN), whose
 * operations tables (xapian_backend.c) call the functions here; nothing
 * here is exported (the dispatch, not these functions, refuses calls
 * after a successful commit).  Conventions are jiansuo.h's.
 */
#ifndef JS_XAPIAN_BUILD_H
#define JS_XAPIAN_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "jiansuo.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JS_XAPIAN_FORMAT_VERSION 1
#define JS_XAPIAN_MAX_SHARDS JS_MAX_SHARDS

typedef struct js_xbuild js_xbuild;

/* Starts a build into dir (created if needed): takes the directory's
 * build lock (the native builder's: two builds of either kind never
 * overlap), removes leftovers of interrupted builds, and creates the
 * shards in dir/xapian.tmp-PID.  opts (may be NULL) is the native
 * builder's; memory_mib, threads and block_size do not apply.  shards
 * is 1..JS_XAPIAN_MAX_SHARDS.  Returns 0 and *out, or a negative JS_E*
 * code; *out is set when memory allows so that js_xbuild_errmsg can
 * explain (close it either way). */
int js_xbuild_open(js_xbuild **out, const char *dir,
                          const js_build_options *opts, unsigned shards);

/* Adds the files under path (see js_ingest_path) or, path NULL, the
 * document name in data[0..len) (see js_ingest_memory).  Returns 0, or
 * a JS_E* code (message in js_xbuild_errmsg): JS_ENOTFOUND / JS_EIO for
 * a path that cannot be read (the build may go on), anything else loses
 * the build. */
int js_xbuild_add(js_xbuild *b, const char *path, const char *name,
                  const void *data, size_t len);

/* Commits the shards, counts the terms, writes info.json and publishes
 * dir/xapian atomically (the old one, if any, is swapped out and
 * removed).  Returns 0 or a JS_E* code; on failure the previous index is
 * untouched. */
int js_xbuild_commit(js_xbuild *b);

/* Copies the build's figures into *out (terms: distinct over all shards;
 * postings: term-section pairs; index_bytes: bytes on disk). */
void js_xbuild_get_stats(const js_xbuild *b, js_build_stats *out);

/* Returns the message of the last failed call ("" if none). */
const char *js_xbuild_errmsg(const js_xbuild *b);

/* Releases the lock and frees the builder; an uncommitted build's
 * temporary directory is removed.  NULL is fine. */
void js_xbuild_close(js_xbuild *b);

typedef struct js_xindex js_xindex;

/* Opens the Xapian index in dir: reads and checks info.json (analysis
 * flags, counts) and opens every shard.  Returns 0 and *out, or
 * JS_ENOTFOUND (no Xapian index there), JS_EVERSION, JS_ECORRUPT, JS_EIO,
 * JS_ENOMEM; *out is set when memory allows, with the message (close it
 * either way). */
int js_xindex_open(js_xindex **out, const char *dir);

/* Helpers the Xapian builder and writer share: "a/b" malloc'ed (NULL
 * without memory); a tree removed, symbolic links not followed; the
 * DIR/xapian.tmp-* and .old-* directories dead builds and writers left
 * (the caller holds the lock). */
char *js_xbuild_join(const char *a, const char *b);
void js_xbuild_rm_rf(const char *path);
void js_xbuild_clean_leftovers(const char *dir);

/* Opens the shards served by xapian-tcpsrv at remote ("HOST:PORT" items
 * separated by commas, in shard order) as one database, with the
 * analysis flags the index was built with.  Returns 0 and *out, or
 * JS_EINVALID (a malformed address), JS_EIO (a server cannot be
 * reached), JS_ENOMEM; *out as for js_xindex_open. */
int js_xindex_open_remote(js_xindex **out, const char *remote,
                          unsigned analyze_flags);

/* Moves xi to the index's newest commit (js_index_refresh): nothing to
 * do while info.json, which a commit writes last, is unchanged; else
 * the index is opened again and swapped in under the handle's mutex
 * (stats arrays handed out before stay valid until close).  A remote
 * index reopens its connections' databases.  Returns 1 moved, 0 already
 * the newest, or a negative JS_E* code (xi then serves its old
 * snapshot). */
int js_xindex_refresh(js_xindex *xi);

/* js_search on xi: one search at a time per handle (a mutex). */
int js_xindex_search(js_results **out, js_xindex *xi, const char *query,
                     size_t len, const js_search_options *opts);

/* Checks a local index (see js_index_check).  JS_EINVALID for a remote
 * one. */
int js_xindex_check(js_xindex *xi);

const char *js_xindex_errmsg(const js_xindex *xi);
void js_xindex_close(js_xindex *xi);

/* Fills *out (pointers owned by xi, valid until its close).  Returns 0. */
int js_xindex_get_stats(const js_xindex *xi, js_index_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* JS_XAPIAN_BUILD_H */
