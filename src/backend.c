/*
 * backend.c — the one index API of jiansuo.h over its backends.
 *
 * In:  js_index_open / js_index_open_ext, js_search, js_index_get_stats,
 *      _check, _preload; js_builder_open and the builder's calls.
 * Out: the same calls, made through the operations table (backend.h) of
 *      the backend that holds the index or was asked for: the native
 *      one, always built, or Xapian when configured (JS_WITH_XAPIAN).
 *
 * Errors: a failure of the dispatch itself (bad options, a backend not
 * built in) keeps its message on the public handle; any other is the
 * backend's, read from its handle, so the two never disagree.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend.h"
#include "blockcache.h"
#include "builder.h"
#include "error.h"
#include "fields.h"
#include "file.h" /* JS_INDEX_FILE */
#include "jiansuo.h"
#include "reader.h"
#include "results.h"
#include "search.h"
#include "snapshot.h"
#include "writer.h"

/* What both public handles hold besides their operations table. */
typedef struct handle {
    void *be;      /* the backend's handle */
    int own_err;   /* 1: the last failure is the dispatch's, in err */
    char err[512];
} handle;

struct js_index {
    handle h;
    const js_index_ops *ops;
};

struct js_builder {
    handle h;
    const js_builder_ops *ops;
    int committed; /* a build is published once; later calls are refused */
};

/* Keeps the dispatch's own failure on h; returns code. */
#define h_fail(h, code, ...) \
    ((h)->own_err = 1, js_error_set((h)->err, sizeof (h)->err, (code), __VA_ARGS__))

/* Starts a call on h: the dispatch's last message is dropped.  Returns
 * 0, or JS_EINVALID with a message when the handle's open failed. */
static int h_ready(handle *h, const char *what)
{
    h->own_err = 0;
    if (!h->be)
        return h_fail(h, JS_EINVALID, "the %s is not open", what);
    return 0;
}

/* Starts a call on b, which must not have been committed yet. */
static int b_ready(js_builder *b)
{
    int rc = h_ready(&b->h, "builder");
    if (!rc && b->committed)
        rc = h_fail(&b->h, JS_EINVALID, "the build was already committed");
    return rc;
}

/* The message of the last failed call: the dispatch's own, else the
 * backend's (be_errmsg). */
static const char *h_errmsg(const handle *h,
                            const char *(*be_errmsg)(const void *))
{
    return h->own_err || !h->be || !be_errmsg ? h->err : be_errmsg(h->be);
}

/* After a backend's open: a failure that left no backend handle (out of
 * memory) keeps its message here.  Returns rc. */
static int h_opened(handle *h, int rc)
{
    if (rc && !h->be)
        h_fail(h, rc, "%s", js_strerror(rc));
    return rc;
}

/* ---------------------------------------------------------------------
 * The native backend's table: its functions take their own types
 * ------------------------------------------------------------------- */

static int native_open(void **be, const char *dir, const js_open_options *o)
{
    (void)o; /* a native index has no options: remote is refused above */
    js_nindex *ix = NULL;
    int rc = js_nindex_open(&ix, dir);
    *be = ix;
    return rc;
}
static void native_close(void *be) { js_nindex_close(be); }
static const char *native_errmsg(const void *be) { return js_nindex_errmsg(be); }
static int native_search(js_results **out, void *be, const char *q, size_t len,
                         const js_search_options *o)
{
    return js_nindex_search(out, be, q, len, o);
}
static int native_get_stats(const void *be, js_index_stats *out)
{
    return js_nindex_get_stats(be, out);
}
static int native_check(void *be) { return js_nindex_check(be); }
static int native_preload(void *be) { return js_nindex_preload(be); }
static int native_refresh(void *be) { return js_nindex_refresh(be); }

static const js_index_ops native_index_ops = {
    JS_BACKEND_NATIVE, native_open,      native_close,   native_errmsg,
    native_search,     native_get_stats, native_check,   native_preload,
    native_refresh,
};

static int nbuild_open(void **be, const char *dir, const js_build_options *o)
{
    js_nbuilder *b = NULL;
    int rc = js_nbuilder_open(&b, dir, o);
    *be = b;
    return rc;
}
static int nbuild_add(void *be, const char *path, const char *name,
                      const void *data, size_t len)
{
    return js_nbuilder_add(be, path, name, data, len);
}
static int nbuild_commit(void *be) { return js_nbuilder_commit(be); }
static void nbuild_get_stats(const void *be, js_build_stats *out)
{
    js_nbuilder_get_stats(be, out);
}
static const char *nbuild_errmsg(const void *be) { return js_nbuilder_errmsg(be); }
static void nbuild_close(void *be) { js_nbuilder_close(be); }

static const js_builder_ops native_builder_ops = {
    JS_BACKEND_NATIVE, nbuild_open,   nbuild_add,   nbuild_commit,
    nbuild_get_stats,  nbuild_errmsg, nbuild_close,
};

/* ---------------------------------------------------------------------
 * Backends
 * ------------------------------------------------------------------- */

int js_backend_available(js_backend backend)
{
    switch (backend) {
    case JS_BACKEND_AUTO:
    case JS_BACKEND_NATIVE:
        return 1;
    case JS_BACKEND_XAPIAN:
#ifdef JS_WITH_XAPIAN
        return 1;
#else
        return 0;
#endif
    }
    return 0;
}

const char *js_backend_name(js_backend backend)
{
    switch (backend) {
    case JS_BACKEND_AUTO:
        return "auto";
    case JS_BACKEND_NATIVE:
        return "native";
    case JS_BACKEND_XAPIAN:
        return "xapian";
    }
    return "unknown";
}

/* Returns 1 when dir/name exists. */
static int exists_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p)
        return 0;
    snprintf(p, n, "%s/%s", dir, name);
    struct stat st;
    int r = stat(p, &st) == 0;
    free(p);
    return r;
}

int js_backend_detect_xapian(const char *dir)
{
    return dir && !exists_in(dir, JS_INDEX_FILE) &&
           exists_in(dir, JS_XAPIAN_DIR "/" JS_XAPIAN_INFO);
}

/* The index operations of backend b (AUTO resolved), or NULL when this
 * library lacks it. */
static const js_index_ops *index_ops(js_backend b)
{
    if (b == JS_BACKEND_NATIVE)
        return &native_index_ops;
#ifdef JS_WITH_XAPIAN
    if (b == JS_BACKEND_XAPIAN)
        return &js_xapian_index_ops;
#endif
    return NULL;
}

static const js_builder_ops *builder_ops(js_backend b)
{
    if (b == JS_BACKEND_AUTO || b == JS_BACKEND_NATIVE)
        return &native_builder_ops;
#ifdef JS_WITH_XAPIAN
    if (b == JS_BACKEND_XAPIAN)
        return &js_xapian_builder_ops;
#endif
    return NULL;
}

/* ---------------------------------------------------------------------
 * js_index
 * ------------------------------------------------------------------- */

int js_index_open(js_index **out, const char *dir)
{
    return js_index_open_ext(out, dir, NULL);
}

int js_index_open_ext(js_index **out, const char *dir,
                      const js_open_options *opts)
{
    if (!out)
        return JS_EINVALID;
    js_index *ix = calloc(1, sizeof *ix);
    *out = ix;
    if (!ix)
        return JS_ENOMEM;
    js_open_options o = JS_OPEN_OPTIONS_INIT;
    if (opts) {
        if (opts->version != JS_OPEN_OPTIONS_VERSION)
            return h_fail(&ix->h, JS_EINVALID, "unknown open options version %u",
                           opts->version);
        o = *opts;
    }
    if (o.remote && o.backend == JS_BACKEND_AUTO)
        o.backend = JS_BACKEND_XAPIAN; /* only Xapian serves shards */
    if (!o.remote && !dir)
        return h_fail(&ix->h, JS_EINVALID, "no index directory given");
    js_backend b = o.backend;
    if (b == JS_BACKEND_AUTO)
        b = js_backend_detect_xapian(dir) ? JS_BACKEND_XAPIAN : JS_BACKEND_NATIVE;
    if (o.remote && b != JS_BACKEND_XAPIAN)
        return h_fail(&ix->h, JS_EINVALID, "remote shards are served by the "
                       "Xapian backend only");
    if (!(ix->ops = index_ops(b))) {
        if (b == JS_BACKEND_XAPIAN)
            return h_fail(&ix->h, JS_EINVALID, "%s%sthis jiansuo was built "
                           "without the Xapian backend (configure "
                           "--with-xapian)", o.remote ? "" : dir,
                           o.remote ? "" : ": a Xapian index; ");
        return h_fail(&ix->h, JS_EINVALID, "unknown backend %d", (int)b);
    }
    o.backend = b;
    return h_opened(&ix->h, ix->ops->open(&ix->h.be, dir, &o));
}

js_backend js_index_backend(const js_index *ix)
{
    return ix && ix->ops ? ix->ops->backend : JS_BACKEND_AUTO;
}

void js_index_close(js_index *ix)
{
    if (!ix)
        return;
    if (ix->ops)
        ix->ops->close(ix->h.be);
    free(ix);
}

const char *js_index_errmsg(const js_index *ix)
{
    return ix ? h_errmsg(&ix->h, ix->ops ? ix->ops->errmsg : NULL) : "";
}

int js_search(js_results **out, js_index *ix, const char *query, size_t len,
              const js_search_options *opts)
{
    if (!out)
        return JS_EINVALID;
    if (!ix || !ix->h.be) {
        js_results *r = js_results_new();
        *out = r;
        return r ? js_results_fail(r, JS_EINVALID, "no open index") : JS_ENOMEM;
    }
    return ix->ops->search(out, ix->h.be, query, len, opts);
}

int js_index_get_stats(const js_index *ix, js_index_stats *out)
{
    if (!ix || !out || !ix->h.be)
        return JS_EINVALID;
    return ix->ops->get_stats(ix->h.be, out);
}

int js_index_check(js_index *ix)
{
    if (!ix)
        return JS_EINVALID;
    int rc = h_ready(&ix->h, "index");
    return rc ? rc : ix->ops->check(ix->h.be);
}

size_t js_cache_set_limit(size_t mib)
{
    return js_bcache_set_budget(mib);
}

int js_index_preload(js_index *ix)
{
    if (!ix)
        return JS_EINVALID;
    int rc = h_ready(&ix->h, "index");
    if (rc || !ix->ops->preload)
        return rc;
    return ix->ops->preload(ix->h.be);
}

int js_index_refresh(js_index *ix)
{
    if (!ix)
        return JS_EINVALID;
    int rc = h_ready(&ix->h, "index");
    if (rc || !ix->ops->refresh)
        return rc;
    return ix->ops->refresh(ix->h.be);
}

/* ---------------------------------------------------------------------
 * js_builder
 * ------------------------------------------------------------------- */

/* Reads the caller's options, of this version or version 2 (the fields
 * up to champion_df, a prefix of today's struct), into *o.  Returns 0 or
 * -1 for a version it does not know. */
static int read_build_options(js_build_options *o, const js_build_options *opts)
{
    js_build_options d = JS_BUILD_OPTIONS_INIT;
    *o = d;
    if (!opts)
        return 0;
    if (opts->version == JS_BUILD_OPTIONS_VERSION)
        *o = *opts;
    else if (opts->version == 2)
        memcpy(o, opts, offsetof(js_build_options, backend));
    else
        return -1;
    o->version = JS_BUILD_OPTIONS_VERSION;
    return 0;
}

int js_builder_open(js_builder **out, const char *dir,
                    const js_build_options *opts)
{
    if (!out)
        return JS_EINVALID;
    js_builder *b = calloc(1, sizeof *b);
    *out = b;
    if (!b)
        return JS_ENOMEM;
    js_build_options o;
    if (read_build_options(&o, opts))
        return h_fail(&b->h, JS_EINVALID, "unknown build options version %u",
                      opts->version);
    if (!(b->ops = builder_ops(o.backend))) {
        if (o.backend == JS_BACKEND_XAPIAN)
            return h_fail(&b->h, JS_EINVALID, "this jiansuo was built without "
                          "the Xapian backend (configure --with-xapian)");
        return h_fail(&b->h, JS_EINVALID, "unknown backend %d", (int)o.backend);
    }
    if (b->ops->backend == JS_BACKEND_NATIVE && o.shards > 1)
        return h_fail(&b->h, JS_EINVALID, "shards are for the Xapian backend; "
                      "a native index is one file");
    if (!dir)
        return h_fail(&b->h, JS_EINVALID, "no index directory given");
    return h_opened(&b->h, b->ops->open(&b->h.be, dir, &o));
}

int js_builder_add_path(js_builder *b, const char *path)
{
    if (!b || !path)
        return JS_EINVALID;
    int rc = b_ready(b);
    return rc ? rc : b->ops->add(b->h.be, path, NULL, NULL, 0);
}

int js_builder_add_memory(js_builder *b, const char *name, const void *data,
                          size_t len)
{
    if (!b || !name || (!data && len))
        return JS_EINVALID;
    int rc = b_ready(b);
    return rc ? rc : b->ops->add(b->h.be, NULL, name, data ? data : "", len);
}

int js_builder_commit(js_builder *b)
{
    if (!b)
        return JS_EINVALID;
    int rc = b_ready(b);
    if (!rc && !(rc = b->ops->commit(b->h.be)))
        b->committed = 1;
    return rc;
}

void js_builder_get_stats(const js_builder *b, js_build_stats *out)
{
    if (!out)
        return;
    if (b && b->h.be)
        b->ops->get_stats(b->h.be, out);
    else
        memset(out, 0, sizeof *out);
}

const char *js_builder_errmsg(const js_builder *b)
{
    return b ? h_errmsg(&b->h, b->ops ? b->ops->errmsg : NULL) : "";
}

void js_builder_close(js_builder *b)
{
    if (!b)
        return;
    if (b->ops)
        b->ops->close(b->h.be);
    free(b);
}

/* ---------------------------------------------------------------------
 * js_writer
 * ------------------------------------------------------------------- */

struct js_writer {
    handle h;
    const js_writer_ops *ops;
};

static int nwrite_open(void **be, const char *dir, const js_writer_options *o)
{
    js_lwriter *w = NULL;
    int rc = js_lwriter_open(&w, dir, o);
    *be = w;
    return rc;
}
static int nwrite_add(void *be, const char *path, const char *name,
                      const void *data, size_t len)
{
    return js_lwriter_add(be, path, name, data, len);
}
static int nwrite_remove(void *be, int by_path, const char *key)
{
    return js_lwriter_remove(be, by_path, key);
}
static int nwrite_update(void *be, const char *path)
{
    return js_lwriter_update(be, path);
}
static int nwrite_commit(void *be) { return js_lwriter_commit(be); }
static int nwrite_merge(void *be, unsigned n) { return js_lwriter_merge(be, n); }
static void nwrite_get_stats(const void *be, js_writer_stats *out)
{
    js_lwriter_get_stats(be, out);
}
static const char *nwrite_errmsg(const void *be) { return js_lwriter_errmsg(be); }
static void nwrite_close(void *be) { js_lwriter_close(be); }

static const js_writer_ops native_writer_ops = {
    JS_BACKEND_NATIVE, nwrite_open,   nwrite_add,       nwrite_remove,
    nwrite_update,     nwrite_commit, nwrite_merge,     nwrite_get_stats,
    nwrite_errmsg,     nwrite_close,
};

int js_writer_open(js_writer **out, const char *dir,
                   const js_writer_options *opts)
{
    if (!out)
        return JS_EINVALID;
    js_writer *w = calloc(1, sizeof *w);
    *out = w;
    if (!w)
        return JS_ENOMEM;
    js_writer_options o = JS_WRITER_OPTIONS_INIT;
    if (opts) {
        if (opts->version != JS_WRITER_OPTIONS_VERSION)
            return h_fail(&w->h, JS_EINVALID,
                          "unknown writer options version %u", opts->version);
        o = *opts;
    }
    if (!dir)
        return h_fail(&w->h, JS_EINVALID, "no index directory given");
    js_backend b = o.backend;
    if (b == JS_BACKEND_AUTO)
        b = js_backend_detect_xapian(dir) ? JS_BACKEND_XAPIAN
                                          : JS_BACKEND_NATIVE;
    if (b == JS_BACKEND_NATIVE)
        w->ops = &native_writer_ops;
#ifdef JS_WITH_XAPIAN
    else if (b == JS_BACKEND_XAPIAN)
        w->ops = &js_xapian_writer_ops;
#endif
    if (!w->ops) {
        if (b == JS_BACKEND_XAPIAN)
            return h_fail(&w->h, JS_EINVALID, "%s: a Xapian index; this "
                          "jiansuo was built without the Xapian backend "
                          "(configure --with-xapian)", dir);
        return h_fail(&w->h, JS_EINVALID, "unknown backend %d", (int)b);
    }
    o.backend = b;
    return h_opened(&w->h, w->ops->open(&w->h.be, dir, &o));
}

int js_writer_add_path(js_writer *w, const char *path)
{
    if (!w || !path)
        return JS_EINVALID;
    int rc = h_ready(&w->h, "writer");
    return rc ? rc : w->ops->add(w->h.be, path, NULL, NULL, 0);
}

int js_writer_add_memory(js_writer *w, const char *name, const void *data,
                         size_t len)
{
    if (!w || !name || (!data && len))
        return JS_EINVALID;
    int rc = h_ready(&w->h, "writer");
    return rc ? rc : w->ops->add(w->h.be, NULL, name, data ? data : "", len);
}

int js_writer_delete_id(js_writer *w, const char *id)
{
    if (!w || !id)
        return JS_EINVALID;
    int rc = h_ready(&w->h, "writer");
    if (!rc && !id[0])
        rc = h_fail(&w->h, JS_EINVALID, "an empty id names no document");
    return rc ? rc : w->ops->remove(w->h.be, 0, id);
}

int js_writer_delete_path(js_writer *w, const char *path)
{
    if (!w || !path)
        return JS_EINVALID;
    int rc = h_ready(&w->h, "writer");
    if (rc)
        return rc;
    char *key = js_fields_identity(path);
    if (!key)
        return h_fail(&w->h, JS_ENOMEM, "out of memory");
    rc = w->ops->remove(w->h.be, 1, key);
    free(key);
    /* a file already gone: by its directory's canonical path */
    if (rc == JS_ENOTFOUND && (key = js_fields_identity_gone(path))) {
        rc = w->ops->remove(w->h.be, 1, key);
        free(key);
    }
    return rc;
}

int js_writer_update(js_writer *w, const char *path)
{
    if (!w || !path)
        return JS_EINVALID;
    int rc = h_ready(&w->h, "writer");
    return rc ? rc : w->ops->update(w->h.be, path);
}

int js_writer_commit(js_writer *w)
{
    if (!w)
        return JS_EINVALID;
    int rc = h_ready(&w->h, "writer");
    return rc ? rc : w->ops->commit(w->h.be);
}

int js_writer_merge(js_writer *w, unsigned segments)
{
    if (!w)
        return JS_EINVALID;
    int rc = h_ready(&w->h, "writer");
    return rc ? rc : w->ops->merge(w->h.be, segments);
}

void js_writer_get_stats(const js_writer *w, js_writer_stats *out)
{
    if (!out)
        return;
    if (w && w->h.be)
        w->ops->get_stats(w->h.be, out);
    else
        memset(out, 0, sizeof *out);
}

const char *js_writer_errmsg(const js_writer *w)
{
    return w ? h_errmsg(&w->h, w->ops ? w->ops->errmsg : NULL) : "";
}

void js_writer_close(js_writer *w)
{
    if (!w)
        return;
    if (w->ops)
        w->ops->close(w->h.be);
    free(w);
}
