/*
 * backend.h — what a backend gives the one index API (backend.c).
 *
 * In:  the calls of jiansuo.h's js_index_*, js_search and js_builder_*.
 * Out: the same calls on the backend that holds (or is to build) the
 *      index: the native one (index/reader.h, src/search.h,
 *      index/builder.h) or, when configured, Xapian (src/xapian/).
 *
 * The shape is Xapian's Database::Internal: the public handle keeps a
 * table of its backend's operations, so that callers (the CLI, a server,
 * the tests) never branch on the backend, and a new operation is added
 * once here rather than once per backend in every caller.  Each
 * operation has the contract of the public function it serves
 * (jiansuo.h); `be` is the backend's own handle.
 */
#ifndef JS_BACKEND_H
#define JS_BACKEND_H

#include <stddef.h>

#include "jiansuo.h"

typedef struct js_index_ops {
    js_backend backend;
    /* Opens dir (or, for Xapian, opts->remote); sets *be as
     * js_index_open sets *out. */
    int (*open)(void **be, const char *dir, const js_open_options *opts);
    void (*close)(void *be);
    const char *(*errmsg)(const void *be);
    int (*search)(js_results **out, void *be, const char *query, size_t len,
                  const js_search_options *opts);
    int (*get_stats)(const void *be, js_index_stats *out);
    int (*check)(void *be);
    int (*preload)(void *be);
    /* 1 moved to a newer generation, 0 already the newest; NULL: 0 */
    int (*refresh)(void *be);
} js_index_ops;

typedef struct js_builder_ops {
    js_backend backend;
    int (*open)(void **be, const char *dir, const js_build_options *opts);
    /* the files under path, or (path NULL) the document name in
     * data[0..len), the arguments checked */
    int (*add)(void *be, const char *path, const char *name,
               const void *data, size_t len);
    int (*commit)(void *be);
    void (*get_stats)(const void *be, js_build_stats *out);
    const char *(*errmsg)(const void *be);
    void (*close)(void *be);
} js_builder_ops;

typedef struct js_writer_ops {
    js_backend backend;
    /* Opens dir for writing, taking its lock (opts->wait: waiting for
     * it, else JS_EBUSY); sets *be as js_writer_open sets *out.  opts is
     * at JS_WRITER_OPTIONS_VERSION, every field filled in. */
    int (*open)(void **be, const char *dir, const js_writer_options *opts);
    /* the files under path, or (path NULL) the document name in
     * data[0..len), the arguments checked */
    int (*add)(void *be, const char *path, const char *name,
               const void *data, size_t len);
    /* by_path 0: the record id `key`; 1: the source path `key`, already
     * made canonical (js_fields_identity) */
    int (*remove)(void *be, int by_path, const char *key);
    int (*update)(void *be, const char *path);
    int (*commit)(void *be);
    int (*merge)(void *be, unsigned segments);
    void (*get_stats)(const void *be, js_writer_stats *out);
    const char *(*errmsg)(const void *be);
    void (*close)(void *be);
} js_writer_ops;

#ifdef JS_WITH_XAPIAN
/* src/xapian/xapian_backend.c */
extern const js_index_ops js_xapian_index_ops;
extern const js_builder_ops js_xapian_builder_ops;
extern const js_writer_ops js_xapian_writer_ops;
#endif

/* Where a Xapian index lives under the index directory, named here so
 * that detection needs no Xapian. */
#define JS_XAPIAN_DIR "xapian"
#define JS_XAPIAN_INFO "info.json" /* in DIR/xapian */

/* 1 when dir holds a Xapian index (dir/xapian/info.json) and no native
 * one (dir/index.jsi): what JS_BACKEND_AUTO opens.  Needs no Xapian, so
 * a library built without it can say what it cannot open. */
int js_backend_detect_xapian(const char *dir);

#endif /* JS_BACKEND_H */
