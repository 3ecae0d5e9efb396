/*
 * xapian_backend.c — the Xapian backend's operations tables (backend.h).
 *
 * In:  the one index API's calls (src/backend.c) on a Xapian index.
 * Out: the same calls on js_xindex and js_xbuild (xapian_build.h) and
 *      js_xwriter (xapian_writer.h).
 *
 * Only adapters: the backend's own handles take their own types and,
 * for a build, the number of shards as an argument of its own.
 */
#include "config.h"

#include "backend.h"
#include "xapian_build.h"
#include "xapian_writer.h"

static int xindex_open(void **be, const char *dir, const js_open_options *o)
{
    js_xindex *xi = NULL;
    int rc = o->remote ? js_xindex_open_remote(&xi, o->remote, o->analyze_flags)
                       : js_xindex_open(&xi, dir);
    *be = xi;
    return rc;
}
static void xindex_close(void *be) { js_xindex_close(be); }
static const char *xindex_errmsg(const void *be) { return js_xindex_errmsg(be); }
static int xindex_search(js_results **out, void *be, const char *q, size_t len,
                         const js_search_options *o)
{
    return js_xindex_search(out, be, q, len, o);
}
static int xindex_get_stats(const void *be, js_index_stats *out)
{
    return js_xindex_get_stats(be, out);
}
static int xindex_check(void *be) { return js_xindex_check(be); }
static int xindex_refresh(void *be) { return js_xindex_refresh(be); }

const js_index_ops js_xapian_index_ops = {
    JS_BACKEND_XAPIAN, xindex_open,      xindex_close, xindex_errmsg,
    xindex_search,     xindex_get_stats, xindex_check, NULL, xindex_refresh,
};

static int xbuild_open(void **be, const char *dir, const js_build_options *o)
{
    js_xbuild *b = NULL;
    int rc = js_xbuild_open(&b, dir, o, o->shards ? o->shards : 1);
    *be = b;
    return rc;
}
static int xbuild_add(void *be, const char *path, const char *name,
                      const void *data, size_t len)
{
    return js_xbuild_add(be, path, name, data, len);
}
static int xbuild_commit(void *be) { return js_xbuild_commit(be); }
static void xbuild_get_stats(const void *be, js_build_stats *out)
{
    js_xbuild_get_stats(be, out);
}
static const char *xbuild_errmsg(const void *be) { return js_xbuild_errmsg(be); }
static void xbuild_close(void *be) { js_xbuild_close(be); }

const js_builder_ops js_xapian_builder_ops = {
    JS_BACKEND_XAPIAN, xbuild_open,   xbuild_add,   xbuild_commit,
    xbuild_get_stats,  xbuild_errmsg, xbuild_close,
};

static int xwriter_open(void **be, const char *dir, const js_writer_options *o)
{
    js_xwriter *w = NULL;
    int rc = js_xwriter_open(&w, dir, o);
    *be = w;
    return rc;
}
static int xwriter_add(void *be, const char *path, const char *name,
                       const void *data, size_t len)
{
    return js_xwriter_add(be, path, name, data, len);
}
static int xwriter_remove(void *be, int by_path, const char *key)
{
    return js_xwriter_remove(be, by_path, key);
}
static int xwriter_update(void *be, const char *path)
{
    return js_xwriter_update(be, path);
}
static int xwriter_commit(void *be) { return js_xwriter_commit(be); }
static int xwriter_merge(void *be, unsigned segments)
{
    return js_xwriter_merge(be, segments);
}
static void xwriter_get_stats(const void *be, js_writer_stats *out)
{
    js_xwriter_get_stats(be, out);
}
static const char *xwriter_errmsg(const void *be) { return js_xwriter_errmsg(be); }
static void xwriter_close(void *be) { js_xwriter_close(be); }

const js_writer_ops js_xapian_writer_ops = {
    JS_BACKEND_XAPIAN, xwriter_open,   xwriter_add,      xwriter_remove,
    xwriter_update,    xwriter_commit, xwriter_merge,    xwriter_get_stats,
    xwriter_errmsg,    xwriter_close,
};
