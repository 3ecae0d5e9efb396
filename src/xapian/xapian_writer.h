/*
 * xapian_writer.h — the live writer of a Xapian index (jiansuo.h,
 * "Keeping an index current"): add, replace and delete documents in
 * DIR/xapian while readers search it.
 *
 * In:  files, directory trees or in-memory documents (through ingest and
 *      xapian_doc.h, as a build reads them); record ids and paths to
 *      delete; trees to bring the index in line with.
 * Out: the shards of DIR/xapian changed in place, each inside a Xapian
 *      transaction that js_xwriter_commit commits; then info.json
 *      rewritten with the new counts and generation.  Readers move to it
 *      with js_xindex_refresh (xapian_build.h).
 *
 * Every function has the contract of the js_writer_* function it serves
 * (jiansuo.h) and of js_writer_ops (backend.h); the operations table
 * js_xapian_writer_ops (xapian_backend.c) is made of them.  What is
 * specific to Xapian:
 *  - Identity and placement: xapian_doc.h.  An index built before live
 *    updates (info.json without "placement") has no identity terms and,
 *    with several shards, sections placed by number: it is refused
 *    (JS_EINVALID, "built before live updates; rebuild with jiansuo
 *    index --backend xapian").
 *  - Commit: every shard's transaction is committed in shard order, then
 *    info.json is written (durably, by rename).  With one shard a commit
 *    is atomic for readers.  With several, Xapian has no transaction
 *    across databases: a reader that opens (or reopens) while the shards
 *    are being committed can see some shards at the new generation and
 *    some at the old.  js_xindex_refresh moves a reader only once
 *    info.json changed, which is after every shard committed, so a
 *    refreshing reader never lands in the middle; a fresh open does
 *    retry while info.json and the shards disagree (xapian_build.c).  A
 *    commit that fails after some shards committed leaves the index
 *    ahead of its info.json (reported; `jiansuo check` then says so).
 *  - Uncommitted changes live in Xapian's transaction buffers (memory)
 *    until commit; close drops them.
 *  - update: a file's stamp (size, modification time, FNV-1a of its
 *    bytes) is stored on its sections (value slot 2).  A file whose size
 *    and time match is not opened; one whose time changed but whose hash
 *    matches is read once (for the hash) and counted unchanged, and its
 *    stored time stays the old one, so the next update hashes it again.
 *  - Counts in info.json: sections, postings, positions, text bytes and
 *    documents go up and down with every section added and deleted
 *    (value slot 1); total length and terms are read back from Xapian at
 *    commit (terms by a walk of the term list: time in proportion to the
 *    vocabulary); source_bytes counts the bytes every build and writer
 *    read and is not lowered by deletions.
 */
#ifndef JS_XAPIAN_WRITER_H
#define JS_XAPIAN_WRITER_H

#include <stddef.h>

#include "jiansuo.h"

typedef struct js_xwriter js_xwriter;

/* opts at JS_WRITER_OPTIONS_VERSION, every field filled in (the
 * dispatch's job).  With opts->backend JS_BACKEND_XAPIAN and no index
 * in dir, an empty one-shard index is created.  *out as js_writer_open
 * sets it. */
int js_xwriter_open(js_xwriter **out, const char *dir,
                    const js_writer_options *opts);
/* path: the files under it; path NULL: the document name in
 * data[0..len) */
int js_xwriter_add(js_xwriter *w, const char *path, const char *name,
                   const void *data, size_t len);
/* by_path 0: record id key; 1: canonical source path key */
int js_xwriter_remove(js_xwriter *w, int by_path, const char *key);
int js_xwriter_update(js_xwriter *w, const char *path);
int js_xwriter_commit(js_xwriter *w);
/* Commits; Xapian merges its own tables: nothing more to do. */
int js_xwriter_merge(js_xwriter *w, unsigned segments);
void js_xwriter_get_stats(const js_xwriter *w, js_writer_stats *out);
const char *js_xwriter_errmsg(const js_xwriter *w);
void js_xwriter_close(js_xwriter *w);

#endif /* JS_XAPIAN_WRITER_H */
