/*
 * builder.h — the native backend's builder (builder.c).
 *
 * In:  paths or in-memory documents, through ingest and the text
 *      pipeline; js_build_options (jiansuo.h).
 * Out: DIR/index.jsi, published atomically (index/FORMAT.md).
 *
 * These are the native side of jiansuo.h's js_builder_* functions
 * (src/backend.c dispatches to them); their contracts are there.  opts
 * reaches js_nbuilder_open at the current JS_BUILD_OPTIONS_VERSION, and
 * the dispatch refuses any call after a successful commit.
 */
#ifndef JS_BUILDER_H
#define JS_BUILDER_H

#include <stddef.h>

#include "jiansuo.h"
#include "keys.h"

typedef struct js_nbuilder js_nbuilder;

int js_nbuilder_open(js_nbuilder **out, const char *dir,
                     const js_build_options *opts);
/* Adds the files under path, or (path NULL) the document name in
 * data[0..len), through ingest (fields.h's js_fields_feed); the
 * arguments were checked by the dispatch. */
int js_nbuilder_add(js_nbuilder *b, const char *path, const char *name,
                    const void *data, size_t len);
int js_nbuilder_commit(js_nbuilder *b);

/* ---- a segment of a live index (index/writer.c) ---- */

/* What a live index's writer hears of the files a segment's builder
 * reads.  filter is asked before each file with its identity, size and
 * time (hashed 0; f->hash 0): it returns 0 to read the file, 1 to skip
 * it, 2 to have its content hashed and be asked again (hashed 1), or a
 * negative JS_E* code to stop.  unread hears of a file that was read but
 * gave no document (its old version, if any, stays).  Either may be
 * NULL. */
typedef struct js_nbuilder_hooks {
    int (*filter)(void *ctx, const js_key_file *f, int hashed);
    void (*unread)(void *ctx, const js_key_file *f);
    void *ctx;
} js_nbuilder_hooks;

/* js_nbuilder_open writing dir/file (a segment: file NULL is index.jsi,
 * with the directory's lock taken; otherwise the caller holds it). */
int js_nbuilder_open_segment(js_nbuilder **out, const char *dir,
                             const char *file, const js_build_options *opts,
                             const js_nbuilder_hooks *hooks);

/* For a merge, which copies sections rather than reading files: the
 * documents added next come from file f (its path, size, time and hash;
 * the counts are the builder's).  Returns 0 or JS_ENOMEM. */
int js_nbuilder_begin_file(js_nbuilder *b, const js_key_file *f);

/* Adds one section as ingest would hand it over (s->ordinal 0 starts a
 * document).  Returns 0 or a negative JS_E* code (sticky). */
int js_nbuilder_add_section(js_nbuilder *b, const js_section *s);

/* Documents added so far. */
uint32_t js_nbuilder_documents(const js_nbuilder *b);

/* Whether a document added so far has the record id (by_path 0) or came
 * from the file (by_path 1) `key`. */
int js_nbuilder_has_key(const js_nbuilder *b, int by_path, const char *key);
void js_nbuilder_get_stats(const js_nbuilder *b, js_build_stats *out);
const char *js_nbuilder_errmsg(const js_nbuilder *b);
void js_nbuilder_close(js_nbuilder *b);

#endif /* JS_BUILDER_H */
