/*
 * xapian_build.c — the Xapian backend's builder and its reader
 * (layout and mapping: xapian_build.h).
 *
 * In:  paths or in-memory documents -> ingest (src/ingest.c) -> sections
 *      -> one Xapian document each (xapian_doc.c: the text pipeline with
 *      the field rules of index/builder.c, identity terms and values).
 * Out: those documents through the C shim (src/xapian/xapian_shim.h)
 *      into DIR/xapian.tmp-PID/shard-K, K chosen by the document's
 *      identity, then info.json, then one atomic rename to DIR/xapian.
 *      The reader half opens DIR/xapian for searching, turns it back into
 *      figures for `jiansuo stats`, checks it, and moves to a live
 *      writer's newer commits (js_xindex_refresh).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "error.h"
#include "fields.h"
#include "file.h"
#include "xapian_build.h"
#include "xapian_doc.h"
#include "results.h"
#include "xapian_search.h"
#include "xapian_shim.h"

struct js_xbuild {
    char *dir;   /* the index directory */
    char *tmp;   /* dir/xapian.tmp-PID: the build */
    char *final; /* dir/xapian: where it is published */
    int lock_fd;
    int tmp_made;
    js_build_options o;
    unsigned shards;
    js_xw **w; /* [shards] */
    js_ingest *ing;
    uint32_t nsections, ndocs;
    js_xdoc *doc;        /* section -> document (xapian_doc.h) */
    int from_files;      /* the sections being added come from files */
    char *stamp_source;  /* the source whose stamp is in stamp */
    char *stamp;         /* slot 2 of its sections, or NULL */
    uint64_t postings, positions, text_bytes;
    int rc; /* sticky failure */
    int committed;
    js_build_stats st;
    js_fields_clock clock; /* the build's time and progress reports */
    char err[1024];
};


/* Keep the message (and, for a build, the code) on the handle
 * (error.h); return rc. */
#define fail(b, code, ...) \
    ((b)->rc = js_error_set((b)->err, sizeof (b)->err, (code), __VA_ARGS__))
#define xfail(xi, rc, ...) js_error_set((xi)->err, sizeof (xi)->err, (rc), __VA_ARGS__)

char *js_xbuild_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0; /* go on: remove as much as can be removed */
}

void js_xbuild_rm_rf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void js_xbuild_clean_leftovers(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, JS_XAPIAN_DIR ".tmp-", 11) &&
            strncmp(de->d_name, JS_XAPIAN_DIR ".old-", 11))
            continue;
        char *p = js_xbuild_join(dir, de->d_name);
        if (p)
            js_xbuild_rm_rf(p);
        free(p);
    }
    closedir(d);
}

static uint64_t du_total;
static int du_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (flag == FTW_F)
        du_total += (uint64_t)st->st_size;
    return 0;
}

/* Returns the bytes of the regular files under path (nftw has no context
 * argument, hence the static total: not reentrant, and only the CLI's
 * single thread calls it). */
static uint64_t du(const char *path)
{
    du_total = 0;
    nftw(path, du_one, 16, FTW_PHYS);
    return du_total;
}

/* fsyncs a directory so that a rename in it is durable. */
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

const char *js_xbuild_errmsg(const js_xbuild *b) { return b ? b->err : ""; }

void js_xbuild_get_stats(const js_xbuild *b, js_build_stats *out)
{
    if (b && out)
        *out = b->st;
}

int js_xbuild_open(js_xbuild **out, const char *dir,
                   const js_build_options *opts, unsigned shards)
{
    if (!out || !dir)
        return JS_EINVALID;
    js_xbuild *b = calloc(1, sizeof *b);
    if (!b)
        return JS_ENOMEM;
    *out = b;
    b->lock_fd = -1;
    /* the dispatch (src/backend.c) checked the version */
    js_build_options o = JS_BUILD_OPTIONS_INIT;
    if (opts)
        o = *opts;
    b->o = o;
    if (shards < 1 || shards > JS_XAPIAN_MAX_SHARDS)
        return fail(b, JS_EINVALID, "the number of shards must be 1 to %u, not %u",
                    JS_XAPIAN_MAX_SHARDS, shards);
    b->shards = shards;
    js_fields_clock_start(&b->clock);
    char tmpname[64];
    snprintf(tmpname, sizeof tmpname, JS_XAPIAN_DIR ".tmp-%ld", (long)getpid());
    if (!(b->dir = strdup(dir)) || !(b->tmp = js_xbuild_join(dir, tmpname)) ||
        !(b->final = js_xbuild_join(dir, JS_XAPIAN_DIR)) ||
        !(b->w = calloc(shards, sizeof *b->w)) || !(b->doc = js_xdoc_new()))
        return fail(b, JS_ENOMEM, "out of memory");
    int fd = js_dir_lock(dir, b->err, sizeof b->err);
    if (fd < 0)
        return b->rc = fd;
    b->lock_fd = fd;
    /* We hold the lock: Xapian builds that died left these. */
    js_xbuild_clean_leftovers(dir);
    if (mkdir(b->tmp, 0755) != 0)
        return fail(b, JS_EIO, "%s: %s", b->tmp, strerror(errno));
    b->tmp_made = 1;
    for (unsigned i = 0; i < shards; i++) {
        char name[32];
        snprintf(name, sizeof name, "shard-%u", i);
        char *p = js_xbuild_join(b->tmp, name);
        if (!p)
            return fail(b, JS_ENOMEM, "out of memory");
        int rc = js_xw_open(&b->w[i], p, JS_XW_CREATE_OR_OVERWRITE);
        free(p);
        if (rc)
            return fail(b, rc, "%s", b->w[i] ? js_xw_errmsg(b->w[i]) : js_strerror(rc));
    }
    js_ingest_options io = JS_INGEST_OPTIONS_INIT;
    io.format = o.format;
    io.encoding = o.encoding;
    io.include_hidden = o.include_hidden;
    io.warn = o.warn;
    io.warn_ctx = o.warn_ctx;
    int rc = js_ingest_open(&b->ing, &io);
    if (rc)
        return fail(b, rc, "%s", rc == JS_EINVALID ? "unknown format or encoding"
                                                   : js_strerror(rc));
    return 0;
}

static void report_progress(js_xbuild *b, int phase, int force)
{
    js_fields_progress(&b->clock, &b->o, b->ing, b->nsections, phase, force);
}

/* Section callback from ingest: one section, one Xapian document. */
static int on_section(void *ctx, const js_section *s)
{
    js_xbuild *b = ctx;
    if (b->nsections == UINT32_MAX - 1)
        return fail(b, JS_ELIMIT, "more than %u sections", UINT32_MAX - 2);
    if (s->ordinal == 0)
        b->ndocs++;
    uint32_t id = b->nsections;
    const char *src = s->document->source ? s->document->source : "";
    if (b->from_files && (!b->stamp_source || strcmp(b->stamp_source, src))) {
        /* a new file: its stamp, for the live writer's update (read
         * after ingest has read it: a file changed in between is read
         * again by the next update, as its stamp tells) */
        free(b->stamp_source);
        free(b->stamp);
        b->stamp = js_xdoc_stamp_file(src);
        if (!(b->stamp_source = strdup(src)))
            return fail(b, JS_ENOMEM, "out of memory");
    }
    js_xdoc_out d;
    const char *what;
    int rc = js_xdoc_make(b->doc, s, b->o.analyze_flags, id, b->shards,
                          b->from_files ? b->stamp : NULL, &d, &what);
    if (rc == JS_ENOMEM)
        return fail(b, rc, "out of memory");
    if (rc)
        return fail(b, rc, "indexing the %s: %s", what, js_strerror(rc));
    /* by identity: every version of a document on one shard, so that the
     * live writer finds the one it replaces (xapian_doc.h) */
    unsigned shard = d.shard;
    rc = js_xw_put_values(b->w[shard], 0, d.terms, d.nterms, d.values,
                          d.nvalues, d.data, d.data_len, NULL);
    if (rc)
        return fail(b, rc, "shard %u: %s", shard, js_xw_errmsg(b->w[shard]));
    b->postings += d.postings;
    b->positions += d.positions;
    b->text_bytes += d.text_bytes;
    b->nsections++;
    report_progress(b, 0, 0);
    return 0;
}

int js_xbuild_add(js_xbuild *b, const char *path, const char *name,
                  const void *data, size_t len)
{
    b->from_files = path != NULL;
    return js_fields_feed(b->ing, path, name, data, len, on_section, b, &b->rc,
                          b->err, sizeof b->err);
}

/* Puts b->tmp in place of b->final in one step (RENAME_EXCHANGE), or by
 * a plain rename when there is no old index, or, on a file system that
 * cannot exchange, by moving the old one aside first (then a reader may
 * briefly find no index, never a mixed one).  Afterwards b->tmp holds
 * the old index, if any.  Returns 0 or JS_EIO. */
static int swap_into_place(js_xbuild *b)
{
    if (renameat2(AT_FDCWD, b->tmp, AT_FDCWD, b->final, RENAME_EXCHANGE) == 0)
        return 0;
    if (errno == ENOENT) {
        if (rename(b->tmp, b->final) == 0) {
            b->tmp_made = 0;
            return 0;
        }
        return fail(b, JS_EIO, "%s: %s", b->final, strerror(errno));
    }
    if (errno != EINVAL && errno != ENOSYS)
        return fail(b, JS_EIO, "%s: %s", b->final, strerror(errno));
    char old[64];
    snprintf(old, sizeof old, JS_XAPIAN_DIR ".old-%ld", (long)getpid());
    char *oldp = js_xbuild_join(b->dir, old);
    if (!oldp)
        return fail(b, JS_ENOMEM, "out of memory");
    int rc = 0;
    if (rename(b->final, oldp) != 0)
        rc = fail(b, JS_EIO, "%s: %s", b->final, strerror(errno));
    else if (rename(b->tmp, b->final) != 0) {
        rc = fail(b, JS_EIO, "%s: %s", b->final, strerror(errno));
        rename(oldp, b->final); /* put the old one back */
    } else {
        b->tmp_made = 0;
        js_xbuild_rm_rf(oldp);
    }
    free(oldp);
    return rc;
}

/* Returns info.json's text for the finished build (malloc'ed, the caller
 * frees), or NULL when out of memory. */
static char *info_text(js_xbuild *b, const js_xdb_stats *xs)
{
    json_t *o = json_object(), *build = json_object();
    if (!o || !build) {
        json_decref(o);
        json_decref(build);
        return NULL;
    }
    int bad = 0;
#define SET(obj, k, v) bad |= json_object_set_new(obj, k, v)
#define NUM(x) json_integer((json_int_t)(x))
    SET(o, "backend", json_string("xapian"));
    SET(o, "format_version", NUM(JS_XAPIAN_FORMAT_VERSION));
    SET(o, "shards", NUM(b->shards));
    SET(o, "analyze_flags", NUM(b->o.analyze_flags));
    SET(o, "fold", json_boolean(!(b->o.analyze_flags & JS_ANALYZE_NO_FOLD)));
    SET(o, "heading_prefix", NUM(1));
    SET(o, "placement", json_string("identity"));
    SET(o, "docids", json_string("a document's sections are on shard "
                                 "FNV-1a(identity) % shards, in the order "
                                 "read; value slot 0 holds the section id"));
    SET(o, "documents", NUM(b->ndocs));
    SET(o, "sections", NUM(b->nsections));
    SET(o, "terms", NUM(xs->terms));
    SET(o, "postings", NUM(b->postings));
    SET(o, "positions", NUM(b->positions));
    SET(o, "total_length", NUM(xs->total_length));
    SET(o, "source_bytes", NUM(b->st.ingest.bytes_read));
    SET(o, "text_bytes", NUM(b->text_bytes));
    SET(o, "next_section", NUM(b->nsections));
    SET(o, "generation", NUM(0));
    SET(build, "seconds", json_real(b->st.seconds));
    SET(build, "created", NUM(time(NULL)));
    SET(build, "jiansuo", json_string(js_version()));
    SET(build, "xapian", json_string(js_xapian_version()));
    SET(o, "build", build);
#undef SET
#undef NUM
    char *text = bad ? NULL : json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}

int js_xbuild_commit(js_xbuild *b)
{
    if (!b)
        return JS_EINVALID;
    if (b->rc)
        return b->rc;
    report_progress(b, 2, 1);
    int rc;
    for (unsigned i = 0; i < b->shards; i++) {
        if ((rc = js_xw_commit(b->w[i])))
            return fail(b, rc, "shard %u: %s", i, js_xw_errmsg(b->w[i]));
        js_xw_close(b->w[i]);
        b->w[i] = NULL;
    }
    js_ingest_get_stats(b->ing, &b->st.ingest);
    /* Read back what was written: the distinct terms over all shards,
     * and a check that every section arrived. */
    js_xsource *src = calloc(b->shards, sizeof *src);
    char **paths = calloc(b->shards, sizeof *paths);
    if (!src || !paths) {
        free(src);
        free(paths);
        return fail(b, JS_ENOMEM, "out of memory");
    }
    rc = 0;
    for (unsigned i = 0; i < b->shards && !rc; i++) {
        char name[32];
        snprintf(name, sizeof name, "shard-%u", i);
        if (!(paths[i] = js_xbuild_join(b->tmp, name)))
            rc = fail(b, JS_ENOMEM, "out of memory");
        src[i].path_or_host = paths[i];
    }
    js_xdb *db = NULL;
    js_xdb_stats xs = {0};
    if (!rc && (rc = js_xdb_open(&db, src, b->shards, 0)))
        fail(b, rc, "reading the new shards: %s",
             db ? js_xdb_errmsg(db) : js_strerror(rc));
    if (!rc && (rc = js_xdb_get_stats(db, 1, &xs)))
        fail(b, rc, "reading the new shards: %s", js_xdb_errmsg(db));
    js_xdb_close(db);
    for (unsigned i = 0; i < b->shards; i++)
        free(paths[i]);
    free(paths);
    free(src);
    if (rc)
        return rc;
    if (xs.doccount != b->nsections)
        return fail(b, JS_ECORRUPT, "the shards hold %llu documents, not %u",
                    (unsigned long long)xs.doccount, b->nsections);
    b->st.terms = xs.terms;
    b->st.postings = b->postings;
    b->st.positions = b->positions;
    b->st.text_bytes = b->text_bytes;
    b->st.seconds = js_fields_elapsed(&b->clock);
    char *info = info_text(b, &xs);
    size_t info_len = info ? strlen(info) : 0;
    char *line = info ? realloc(info, info_len + 1) : NULL;
    if (!line) {
        free(info);
        return fail(b, JS_ENOMEM, "out of memory");
    }
    line[info_len] = '\n'; /* one line of JSON, as a text file ends */
    /* durably: written, fsynced, renamed and the directory fsynced
     * (index/file.c), before the whole directory is swapped in */
    rc = js_file_put(b->tmp, JS_XAPIAN_INFO, line, info_len + 1, b->err,
                     sizeof b->err);
    free(line);
    if (rc)
        return b->rc = rc;
    if ((rc = swap_into_place(b)))
        return rc;
    sync_dir(b->dir);
    if (b->tmp_made) { /* the old index, swapped out */
        js_xbuild_rm_rf(b->tmp);
        b->tmp_made = 0;
    }
    b->committed = 1;
    b->st.index_bytes = du(b->final);
    b->st.seconds = js_fields_elapsed(&b->clock);
    return 0;
}

void js_xbuild_close(js_xbuild *b)
{
    if (!b)
        return;
    if (b->w)
        for (unsigned i = 0; i < b->shards; i++)
            js_xw_close(b->w[i]);
    if (b->tmp_made)
        js_xbuild_rm_rf(b->tmp);
    js_ingest_close(b->ing);
    js_xdoc_free(b->doc);
    free(b->stamp_source);
    free(b->stamp);
    free(b->w);
    free(b->dir);
    free(b->tmp);
    free(b->final);
    if (b->lock_fd >= 0)
        close(b->lock_fd);
    free(b);
}

/* ---------------------------------------------------------------------
 * Reading the statistics
 * ------------------------------------------------------------------- */

struct js_xindex {
    js_index_stats st;
    js_index_shard *shard;
    char *build_info;
    char *dir;      /* the index directory (NULL for a remote index) */
    char *top;      /* dir/xapian (NULL for a remote index) */
    js_xdb *db;     /* every shard as one database, for searching */
    uint64_t info_hash;  /* FNV-1a of info.json's bytes: what refresh
                            compares */
    uint64_t generation; /* info.json "generation": live commits */
    /* stats pointers handed out before a refresh stay valid until close
     * (js_index_get_stats): the old arrays are kept here */
    void **retired;
    size_t nretired;
    /* a Xapian::Database must not be used by two threads at once: one
     * search (or check) at a time per handle */
    pthread_mutex_t mu;
    char err[1024];
};

const char *js_xindex_errmsg(const js_xindex *xi) { return xi ? xi->err : ""; }

/* Reads a non-negative integer member of info.json; returns 0 or -1. */
static int get_count(json_t *o, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* A handle with its mutex ready, or NULL when out of memory. */
static js_xindex *xindex_new(void)
{
    js_xindex *xi = calloc(1, sizeof *xi);
    if (xi && pthread_mutex_init(&xi->mu, NULL)) {
        free(xi);
        return NULL;
    }
    if (xi)
        xi->st.backend = JS_BACKEND_XAPIAN;
    return xi;
}

/* Opens top/shard-0 .. shard-(n-1) as one database in xi->db.  Returns
 * 0 or a code with xi's message. */
static int open_all(js_xindex *xi, const char *top, unsigned n)
{
    js_xsource *src = calloc(n, sizeof *src);
    char **paths = calloc(n, sizeof *paths);
    int rc = 0;
    if (!src || !paths)
        rc = xfail(xi, JS_ENOMEM, "out of memory");
    for (unsigned i = 0; i < n && !rc; i++) {
        char name[32];
        snprintf(name, sizeof name, "shard-%u", i);
        if (!(paths[i] = js_xbuild_join(top, name)))
            rc = xfail(xi, JS_ENOMEM, "out of memory");
        src[i].path_or_host = paths[i];
    }
    if (!rc && (rc = js_xdb_open(&xi->db, src, n, 0)))
        xfail(xi, rc, "%s", xi->db ? js_xdb_errmsg(xi->db) : js_strerror(rc));
    for (unsigned i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
    free(src);
    return rc;
}

int js_xindex_open_remote(js_xindex **out, const char *remote,
                          unsigned analyze_flags)
{
    if (!out)
        return JS_EINVALID;
    js_xindex *xi = xindex_new();
    *out = xi;
    if (!xi)
        return JS_ENOMEM;
    if (!remote || !remote[0])
        return xfail(xi, JS_EINVALID, "no remote servers given");
    size_t n = 1;
    for (const char *p = remote; *p; p++)
        n += *p == ',';
    if (n > JS_XAPIAN_MAX_SHARDS)
        return xfail(xi, JS_ELIMIT, "more than %d remote servers",
                     JS_XAPIAN_MAX_SHARDS);
    js_xsource *src = calloc(n, sizeof *src);
    char *hosts = calloc(n, 256);
    char *spec = strdup(remote);
    int rc = 0;
    if (!src || !hosts || !spec)
        rc = xfail(xi, JS_ENOMEM, "out of memory");
    char *save = NULL, *tok = spec;
    for (size_t i = 0; i < n && !rc; i++, tok = NULL) {
        /* strtok_r would skip an empty item; the address check names it */
        char *item = tok ? tok : save;
        char *comma = item ? strchr(item, ',') : NULL;
        if (comma)
            *comma = 0;
        save = comma ? comma + 1 : NULL;
        char err[256];
        if (!item || js_xsource_parse(item, hosts + 256 * i, 256,
                                      &src[i].port, err, sizeof err)) {
            rc = xfail(xi, JS_EINVALID, "--remote: '%s': %s", item ? item : "",
                       item ? err : "missing");
            break;
        }
        src[i].path_or_host = hosts + 256 * i;
    }
    if (!rc && (rc = js_xdb_open(&xi->db, src, n, 0)))
        xfail(xi, rc, "%s", xi->db ? js_xdb_errmsg(xi->db) : js_strerror(rc));
    js_xdb_stats xs;
    if (!rc && (rc = js_xdb_get_stats(xi->db, 0, &xs)))
        xfail(xi, rc, "%s", js_xdb_errmsg(xi->db));
    if (!rc) {
        /* info.json is not served: what Xapian knows, and the caller's
         * analysis flags */
        xi->st.format_version = JS_XAPIAN_FORMAT_VERSION;
        xi->st.shards = (unsigned)n;
        xi->st.sections = xs.doccount;
        xi->st.total_length = xs.total_length;
        xi->st.analyze_flags = analyze_flags;
        if (!(xi->shard = calloc(n, sizeof *xi->shard)) ||
            !(xi->build_info = strdup("{}")))
            rc = xfail(xi, JS_ENOMEM, "out of memory");
        xi->st.shard = xi->shard;
        xi->st.build_info = xi->build_info;
    }
    free(spec);
    free(hosts);
    free(src);
    return rc;
}

int js_xindex_search(js_results **out, js_xindex *xi, const char *query,
                     size_t len, const js_search_options *opts)
{
    if (!out)
        return JS_EINVALID;
    *out = NULL;
    if (!xi || !xi->db) {
        js_results *r = js_results_new();
        *out = r;
        return r ? js_results_fail(r, JS_EINVALID, "no open Xapian index")
                 : JS_ENOMEM;
    }
    pthread_mutex_lock(&xi->mu);
    int rc = js_xsearch_run(out, xi->db, xi->st.sections, xi->st.analyze_flags,
                            query, len, opts);
    if (rc == JS_EIO && *out &&
        strstr(js_results_errmsg(*out), "DatabaseModifiedError") &&
        js_xdb_reopen(xi->db) >= 0) {
        /* A live writer committed twice since this handle's snapshot,
         * and glass reused the blocks it read: Xapian's remedy is to
         * reopen, which moves this handle to the newest commit. */
        js_results_free(*out);
        *out = NULL;
        rc = js_xsearch_run(out, xi->db, xi->st.sections, xi->st.analyze_flags,
                            query, len, opts);
    }
    pthread_mutex_unlock(&xi->mu);
    return rc;
}

int js_xindex_check(js_xindex *xi)
{
    if (!xi)
        return JS_EINVALID;
    if (!xi->top || !xi->db)
        return xfail(xi, JS_EINVALID, "only a local, open Xapian index can be "
                                      "checked");
    pthread_mutex_lock(&xi->mu);
    int rc = 0;
    uint64_t sections = 0;
    for (unsigned i = 0; i < xi->st.shards && !rc; i++) {
        char name[32];
        snprintf(name, sizeof name, "shard-%u", i);
        char *p = js_xbuild_join(xi->top, name);
        if (!p) {
            rc = xfail(xi, JS_ENOMEM, "out of memory");
            break;
        }
        rc = js_xdb_check_path(p, NULL, xi->err, sizeof xi->err);
        /* A build gives each shard's sections the docids 1..n, in the
         * order read: a hole means a section is missing.  A live index
         * (generation > 0) has holes by design: Xapian never reuses the
         * docid of a deleted document, and the writer deletes the old
         * sections of every document it replaces. */
        js_xsource src = {p, 0};
        js_xdb *one = NULL;
        js_xdb_stats xs;
        if (!rc && xi->generation == 0 && !(rc = js_xdb_open(&one, &src, 1, 0)) &&
            !(rc = js_xdb_get_stats(one, 0, &xs)) && xs.doccount &&
            xs.lastdocid != xs.doccount)
            rc = xfail(xi, JS_ECORRUPT, "%s: docids run to %llu for %llu "
                       "sections (a section is missing)", p,
                       (unsigned long long)xs.lastdocid,
                       (unsigned long long)xs.doccount);
        else if (rc && one)
            xfail(xi, rc, "%s", js_xdb_errmsg(one));
        js_xdb_close(one);
        free(p);
        sections += xi->shard[i].sections;
    }
    /* info.json against the shards: sections (also checked at open) and
     * their sum of lengths */
    js_xdb_stats xs;
    if (!rc && (rc = js_xdb_get_stats(xi->db, 0, &xs)))
        xfail(xi, rc, "%s", js_xdb_errmsg(xi->db));
    if (!rc && (xs.doccount != xi->st.sections || sections != xi->st.sections))
        rc = xfail(xi, JS_ECORRUPT, "%s: the shards hold %llu sections, "
                   "info.json says %llu", xi->top,
                   (unsigned long long)xs.doccount,
                   (unsigned long long)xi->st.sections);
    if (!rc && xs.total_length != xi->st.total_length)
        rc = xfail(xi, JS_ECORRUPT, "%s: the shards' total length is %llu, "
                   "info.json says %llu", xi->top,
                   (unsigned long long)xs.total_length,
                   (unsigned long long)xi->st.total_length);
    pthread_mutex_unlock(&xi->mu);
    return rc;
}

/* Reads all of path into a malloc'ed buffer (NUL-terminated); returns
 * it and its length in *len, or NULL with errno set. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *p = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *q = realloc(p, cap);
            if (!q) {
                free(p);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            p = q;
        }
        size_t k = fread(p + n, 1, 4096, f);
        n += k;
        if (k < 4096)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(p);
        errno = EIO;
        return NULL;
    }
    p[n] = 0;
    *len = n;
    return p;
}

/* Loads dir's index into xi (its shards opened, info.json's figures
 * read).  *mismatch is set when the only problem is that the shards
 * hold another number of sections than info.json says, which a live
 * writer's commit causes for a moment (it commits the shards, then
 * writes info.json).  Returns 0 or a code with xi's message. */
static int load(js_xindex *xi, const char *dir, int *mismatch)
{
    *mismatch = 0;
    char *top = js_xbuild_join(dir, JS_XAPIAN_DIR);
    char *info = top ? js_xbuild_join(top, JS_XAPIAN_INFO) : NULL;
    int rc = 0;
    json_t *o = NULL;
    char *text = NULL;
    size_t text_len = 0;
    if (!info) {
        rc = xfail(xi, JS_ENOMEM, "out of memory");
        goto done;
    }
    json_error_t je;
    text = slurp(info, &text_len);
    o = text ? json_loadb(text, text_len, 0, &je) : NULL;
    if (!o) {
        if (!text)
            rc = xfail(xi, errno == ENOENT ? JS_ENOTFOUND : JS_EIO, "%s: %s", info,
                       errno == ENOENT ? "no Xapian index here (build one with "
                                         "'jiansuo index --backend xapian')"
                                       : strerror(errno));
        else
            rc = xfail(xi, JS_ECORRUPT, "%s: line %d: %s", info, je.line, je.text);
        goto done;
    }
    xi->info_hash = js_xdoc_fnv(JS_FNV_INIT, text, text_len);
    /* absent before live indexes: never written by a writer */
    xi->generation = 0;
    if (json_object_get(o, "generation") && get_count(o, "generation", &xi->generation)) {
        rc = xfail(xi, JS_ECORRUPT, "%s: a count is missing or out of range", info);
        goto done;
    }
    uint64_t version, shards, flags;
    json_t *backend = json_object_get(o, "backend");
    if (!json_is_string(backend) || strcmp(json_string_value(backend), "xapian") ||
        get_count(o, "format_version", &version)) {
        rc = xfail(xi, JS_ECORRUPT, "%s: not a jiansuo Xapian index description", info);
        goto done;
    }
    if (version != JS_XAPIAN_FORMAT_VERSION) {
        rc = xfail(xi, JS_EVERSION, "%s: format version %llu, this jiansuo reads %u",
                   info, (unsigned long long)version, JS_XAPIAN_FORMAT_VERSION);
        goto done;
    }
    js_index_stats *s = &xi->st;
    if (get_count(o, "shards", &shards) || shards < 1 ||
        shards > JS_XAPIAN_MAX_SHARDS || get_count(o, "analyze_flags", &flags) ||
        get_count(o, "documents", &s->documents) ||
        get_count(o, "sections", &s->sections) || get_count(o, "terms", &s->terms) ||
        get_count(o, "postings", &s->postings) ||
        get_count(o, "positions", &s->positions) ||
        get_count(o, "total_length", &s->total_length) ||
        get_count(o, "source_bytes", &s->source_bytes) ||
        get_count(o, "text_bytes", &s->text_bytes)) {
        rc = xfail(xi, JS_ECORRUPT, "%s: a count is missing or out of range", info);
        goto done;
    }
    s->format_version = (uint32_t)version;
    s->shards = (unsigned)shards;
    s->analyze_flags = (unsigned)flags;
    json_t *build = json_object_get(o, "build");
    xi->build_info = build ? json_dumps(build, JSON_COMPACT | JSON_PRESERVE_ORDER)
                           : strdup("{}");
    xi->shard = calloc(shards, sizeof *xi->shard);
    if (!xi->build_info || !xi->shard) {
        rc = xfail(xi, JS_ENOMEM, "out of memory");
        goto done;
    }
    struct stat ist;
    s->file_bytes = stat(info, &ist) == 0 ? (uint64_t)ist.st_size : 0;
    uint64_t sections = 0;
    for (unsigned i = 0; i < shards && !rc; i++) {
        char name[32];
        snprintf(name, sizeof name, "shard-%u", i);
        char *p = js_xbuild_join(top, name);
        if (!p) {
            rc = xfail(xi, JS_ENOMEM, "out of memory");
            break;
        }
        js_xsource src = {p, 0};
        js_xdb *db = NULL;
        js_xdb_stats xs;
        rc = js_xdb_open(&db, &src, 1, 0);
        if (!rc)
            rc = js_xdb_get_stats(db, 0, &xs);
        if (rc) {
            xfail(xi, rc, "%s", db ? js_xdb_errmsg(db) : js_strerror(rc));
        } else {
            xi->shard[i].sections = xs.doccount;
            xi->shard[i].total_length = xs.total_length;
            xi->shard[i].bytes = du(p);
            s->file_bytes += xi->shard[i].bytes;
            sections += xs.doccount;
        }
        js_xdb_close(db);
        free(p);
    }
    if (!rc && sections != s->sections) {
        /* only an index a writer may be committing to (xapian_writer.h) */
        json_t *pl = json_object_get(o, "placement");
        *mismatch = json_is_string(pl) && !strcmp(json_string_value(pl), "identity");
        rc = xfail(xi, JS_ECORRUPT, "%s: the shards hold %llu sections, info.json says %llu",
                   top, (unsigned long long)sections,
                   (unsigned long long)s->sections);
    }
    s->shard = xi->shard;
    s->build_info = xi->build_info;
    if (!rc)
        rc = open_all(xi, top, shards);
done:
    json_decref(o);
    free(text);
    free(info);
    xi->top = top;
    return rc;
}

/* Frees what load put in xi, so that it can load again. */
static void unload(js_xindex *xi)
{
    js_xdb_close(xi->db);
    free(xi->shard);
    free(xi->build_info);
    free(xi->top);
    xi->db = NULL;
    xi->shard = NULL;
    xi->build_info = xi->top = NULL;
    memset(&xi->st, 0, sizeof xi->st);
    xi->st.backend = JS_BACKEND_XAPIAN;
}

int js_xindex_open(js_xindex **out, const char *dir)
{
    if (!out || !dir)
        return JS_EINVALID;
    js_xindex *xi = xindex_new();
    *out = xi;
    if (!xi)
        return JS_ENOMEM;
    if (!(xi->dir = strdup(dir)))
        return xfail(xi, JS_ENOMEM, "out of memory");
    int rc, mismatch;
    /* A live writer's commit makes the shards and info.json disagree
     * for the moment between them (xapian_writer.c): try again for up to
     * about two seconds before calling that corruption. */
    for (int attempt = 0;; attempt++) {
        rc = load(xi, dir, &mismatch);
        if (!rc || !mismatch || attempt == 200)
            break;
        unload(xi);
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    return rc;
}

/* Keeps p (an array handed out through js_xindex_get_stats) until
 * close.  Returns 0 or JS_ENOMEM (p is then freed: the caller's stats
 * must not be used after a refresh that failed so). */
static int retire(js_xindex *xi, void *p)
{
    void **r = realloc(xi->retired, (xi->nretired + 1) * sizeof *r);
    if (!r) {
        free(p);
        return JS_ENOMEM;
    }
    xi->retired = r;
    r[xi->nretired++] = p;
    return 0;
}

int js_xindex_refresh(js_xindex *xi)
{
    if (!xi)
        return JS_EINVALID;
    if (!xi->dir) { /* remote: the servers reopen on their own terms */
        pthread_mutex_lock(&xi->mu);
        int rc = js_xdb_reopen(xi->db);
        if (rc < 0)
            xfail(xi, rc, "%s", js_xdb_errmsg(xi->db));
        pthread_mutex_unlock(&xi->mu);
        return rc;
    }
    /* info.json is written after every shard is committed: while it is
     * the same, there is nothing newer to move to (and a commit half
     * done is not looked at) */
    char *info = js_xbuild_join(xi->top, JS_XAPIAN_INFO);
    size_t len = 0;
    char *text = info ? slurp(info, &len) : NULL;
    free(info);
    pthread_mutex_lock(&xi->mu); /* another refresh may be writing it */
    uint64_t have = xi->info_hash;
    pthread_mutex_unlock(&xi->mu);
    if (text && js_xdoc_fnv(JS_FNV_INIT, text, len) == have) {
        free(text);
        return 0;
    }
    free(text);
    js_xindex *n = NULL;
    int rc = js_xindex_open(&n, xi->dir);
    if (rc) {
        pthread_mutex_lock(&xi->mu);
        xfail(xi, rc, "%s", n ? n->err : js_strerror(rc));
        pthread_mutex_unlock(&xi->mu);
        js_xindex_close(n);
        return rc;
    }
    pthread_mutex_lock(&xi->mu);
    if (n->info_hash == xi->info_hash) {
        pthread_mutex_unlock(&xi->mu);
        js_xindex_close(n);
        return 0;
    }
    /* swap: n takes the old database and closes it; the old arrays stay */
    js_xdb *db = xi->db;
    xi->db = n->db;
    n->db = db;
    rc = retire(xi, xi->shard);
    if (!rc)
        rc = retire(xi, xi->build_info);
    else
        free(xi->build_info);
    xi->shard = n->shard;
    xi->build_info = n->build_info;
    n->shard = NULL;
    n->build_info = NULL;
    xi->st = n->st;
    xi->info_hash = n->info_hash;
    xi->generation = n->generation;
    pthread_mutex_unlock(&xi->mu);
    js_xindex_close(n);
    if (rc)
        xfail(xi, rc, "out of memory");
    return rc ? rc : 1;
}

int js_xindex_get_stats(const js_xindex *xi, js_index_stats *out)
{
    if (!xi || !out)
        return JS_EINVALID;
    *out = xi->st;
    return 0;
}

void js_xindex_close(js_xindex *xi)
{
    if (!xi)
        return;
    js_xdb_close(xi->db);
    pthread_mutex_destroy(&xi->mu);
    free(xi->shard);
    free(xi->build_info);
    free(xi->top);
    free(xi->dir);
    for (size_t i = 0; i < xi->nretired; i++)
        free(xi->retired[i]);
    free(xi->retired);
    free(xi);
}
