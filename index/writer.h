/*
 * writer.h — the native backend's writer of a live index (writer.c).
 *
 * In:  files and documents to add or replace, identities to delete,
 *      trees to bring up to date, through jiansuo.h's js_writer_*
 *      (src/backend.c dispatches here); the index directory's manifest,
 *      segments and deletion sets.
 * Out: the next generation: a new segment, new deletion sets and the
 *      manifest naming them, published atomically; merged segments; the
 *      files no manifest names any more removed.
 *
 * These are the native side of the js_writer_* functions; their
 * contracts are in jiansuo.h, the format in index/FORMAT.md ("Live
 * indexes").
 */
#ifndef JS_WRITER_H
#define JS_WRITER_H

#include <stddef.h>

#include "jiansuo.h"

typedef struct js_lwriter js_lwriter;

int js_lwriter_open(js_lwriter **out, const char *dir,
                    const js_writer_options *opts);
int js_lwriter_add(js_lwriter *w, const char *path, const char *name,
                   const void *data, size_t len);
int js_lwriter_remove(js_lwriter *w, int by_path, const char *key);
int js_lwriter_update(js_lwriter *w, const char *path);
int js_lwriter_commit(js_lwriter *w);
int js_lwriter_merge(js_lwriter *w, unsigned segments);
void js_lwriter_get_stats(const js_lwriter *w, js_writer_stats *out);
const char *js_lwriter_errmsg(const js_lwriter *w);
void js_lwriter_close(js_lwriter *w);

/* For a full build (builder.c), after it published DIR/index.jsi: makes
 * the directory an index built once again by removing the manifest and
 * every segment and deletion set (readers of the old manifest keep what
 * they mapped; one that finds a file gone opens index.jsi instead). */
void js_lwriter_drop_live(const char *dir);

#endif /* JS_WRITER_H */
