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

typedef struct js_nbuilder js_nbuilder;

int js_nbuilder_open(js_nbuilder **out, const char *dir,
                     const js_build_options *opts);
/* Adds the files under path, or (path NULL) the document name in
 * data[0..len), through ingest (fields.h's js_fields_feed); the
 * arguments were checked by the dispatch. */
int js_nbuilder_add(js_nbuilder *b, const char *path, const char *name,
                    const void *data, size_t len);
int js_nbuilder_commit(js_nbuilder *b);
void js_nbuilder_get_stats(const js_nbuilder *b, js_build_stats *out);
const char *js_nbuilder_errmsg(const js_nbuilder *b);
void js_nbuilder_close(js_nbuilder *b);

#endif /* JS_BUILDER_H */
