/*
 * xapian_build.c — the Xapian backend's writer and its statistics reader
 * (layout and mapping: xapian_build.h).
 *
 * In:  paths or in-memory documents -> ingest (src/ingest.c) -> sections
 *      -> the text pipeline (src/text.c), with the field rules of
 *      index/builder.c.
 * Out: one Xapian document per section through the C shim
 *      (src/xapian/xapian_shim.h) into DIR/xapian.tmp-PID/shard-K, then
 *      info.json, then one atomic rename to DIR/xapian.  The reader half
 *      turns DIR/xapian back into figures for `jiansuo stats`.
 *
 * Data flow per section: every token of the heading field (prefixed with
 * 0x01) and of the body is appended to a scratch list (term bytes in one
 * buffer, (offset, length, position) records beside it); the list is
 * sorted by term then position, so each term's positions come out
 * together and ascending; those groups become the shim's js_xterm array;
 * the section's metadata and text become the JSON document data.
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

#include "buf.h"
#include "error.h"
#include "fields.h"
#include "file.h"
#include "utf8.h"
#include "xapian_build.h"
#include "results.h"
#include "xapian_search.h"
#include "xapian_shim.h"

/* One token of the current section: term bytes at off in the scratch
 * buffer. */
typedef struct {
    uint32_t off, len, pos;
} xtok;

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
    /* the current section's tokens */
    js_buf bytes;
    xtok *toks;
    size_t ntoks, toks_cap;
    /* what the shim gets for it */
    js_xterm *xt;
    size_t xt_cap;
    uint32_t *pos;
    size_t pos_cap;
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

/* Returns "a/b" as a malloc'ed string the caller frees, or NULL. */
static char *join(const char *a, const char *b)
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

/* Removes path and everything under it, not following symbolic links. */
static void rm_rf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
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
    if (!(b->dir = strdup(dir)) || !(b->tmp = join(dir, tmpname)) ||
        !(b->final = join(dir, JS_XAPIAN_DIR)) ||
        !(b->w = calloc(shards, sizeof *b->w)))
        return fail(b, JS_ENOMEM, "out of memory");
    int fd = js_dir_lock(dir, b->err, sizeof b->err);
    if (fd < 0)
        return b->rc = fd;
    b->lock_fd = fd;
    /* We hold the lock: Xapian builds that died left these. */
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (strncmp(de->d_name, JS_XAPIAN_DIR ".tmp-", 11) &&
                strncmp(de->d_name, JS_XAPIAN_DIR ".old-", 11))
                continue;
            char *p = join(dir, de->d_name);
            if (p)
                rm_rf(p);
            free(p);
        }
        closedir(d);
    }
    if (mkdir(b->tmp, 0755) != 0)
        return fail(b, JS_EIO, "%s: %s", b->tmp, strerror(errno));
    b->tmp_made = 1;
    for (unsigned i = 0; i < shards; i++) {
        char name[32];
        snprintf(name, sizeof name, "shard-%u", i);
        char *p = join(b->tmp, name);
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

/* Token callback: one token into the scratch list. */
static int on_token(void *ctx, const js_token *t, int heading)
{
    js_xbuild *b = ctx;
    if (b->ntoks == b->toks_cap) {
        size_t cap = b->toks_cap ? b->toks_cap * 2 : 1024;
        xtok *n = realloc(b->toks, cap * sizeof *n);
        if (!n)
            return JS_ENOMEM;
        b->toks = n;
        b->toks_cap = cap;
    }
    if (b->bytes.len > UINT32_MAX - JS_TERM_MAX_BYTES - 1)
        return JS_ELIMIT; /* cannot happen below JS_SECTION_MAX_BYTES */
    xtok *k = &b->toks[b->ntoks++];
    k->off = (uint32_t)b->bytes.len;
    k->len = (uint32_t)t->term_len + (heading ? 1 : 0);
    k->pos = t->position;
    if (heading)
        js_buf_u8(&b->bytes, 1);
    if (js_buf_put(&b->bytes, t->term, t->term_len))
        return JS_ENOMEM;
    return 0;
}

/* Orders tokens by term bytes, then position (qsort_r context: the
 * scratch bytes). */
static int tok_cmp(const void *x, const void *y, void *ctx)
{
    const xtok *a = x, *c = y;
    const uint8_t *base = ctx;
    size_t n = a->len < c->len ? a->len : c->len;
    int r = memcmp(base + a->off, base + c->off, n);
    if (r)
        return r;
    if (a->len != c->len)
        return a->len < c->len ? -1 : 1;
    return a->pos < c->pos ? -1 : a->pos > c->pos;
}

/* Returns a new JSON string of s[0..n), with U+FFFD for any ill-formed
 * byte (jansson refuses ill-formed UTF-8), or NULL when out of memory. */
static json_t *json_text(const char *s, size_t n)
{
    if (!s)
        return json_null();
    if (js_utf8_valid(s, n, NULL))
        return json_stringn(s, n);
    js_buf o = JS_BUF_INIT;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = js_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (cp == JS_UTF8_INVALID || cp == 0)
            js_buf_put(&o, "\xEF\xBF\xBD", 3);
        else
            js_buf_put(&o, s + i, k);
        i += k;
    }
    json_t *j = o.oom ? NULL : json_stringn(o.p ? (const char *)o.p : "", o.len);
    js_buf_free(&o);
    return j;
}

/* Returns the document data of section s (id, field lengths) as a
 * malloc'ed compact JSON text the caller frees, or NULL when out of
 * memory. */
static char *section_data(const js_section *s, uint32_t id, uint32_t head_len,
                          uint32_t body_len)
{
    const js_document *d = s->document;
    json_t *o = json_object(), *path = json_array();
    if (!o || !path) {
        json_decref(o);
        json_decref(path);
        return NULL;
    }
    json_t *meta = NULL;
    if (d->metadata)
        meta = json_loads(d->metadata, 0, NULL);
    if (d->metadata && !meta)
        meta = json_text(d->metadata, strlen(d->metadata)); /* keep it as text */
    for (size_t i = 0; i < s->depth; i++)
        json_array_append_new(path, json_text(s->path[i], strlen(s->path[i])));
    int bad = 0;
#define SET(k, v) bad |= json_object_set_new(o, k, v)
#define STR(x) json_text((x), (x) ? strlen(x) : 0)
    SET("section", json_integer(id));
    SET("source", STR(d->source));
    SET("title", STR(d->title));
    SET("format", STR(d->format));
    SET("encoding", STR(d->encoding));
    SET("id", STR(d->id));
    SET("metadata", meta ? meta : json_null());
    SET("path", path);
    SET("ordinal", json_integer(s->ordinal));
    SET("start", json_integer((json_int_t)s->start));
    SET("end", json_integer((json_int_t)s->end));
    SET("head_len", json_integer(head_len));
    SET("body_len", json_integer(body_len));
    SET("body", json_text(s->body, s->body_len));
#undef SET
#undef STR
    char *text = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}

static void report_progress(js_xbuild *b, int phase, int force)
{
    js_fields_progress(&b->clock, &b->o, b->ing, b->nsections, phase, force);
}

/* Groups the sorted tokens into the shim's terms.  Returns 0 and the
 * number of terms in *nterms, or JS_ENOMEM. */
static int make_terms(js_xbuild *b, size_t *nterms)
{
    if (b->ntoks > b->pos_cap) {
        uint32_t *p = realloc(b->pos, b->ntoks * sizeof *p);
        if (!p)
            return JS_ENOMEM;
        b->pos = p;
        b->pos_cap = b->ntoks;
    }
    size_t n = 0;
    for (size_t i = 0; i < b->ntoks;) {
        size_t j = i;
        while (j < b->ntoks && b->toks[j].len == b->toks[i].len &&
               !memcmp(b->bytes.p + b->toks[j].off, b->bytes.p + b->toks[i].off,
                       b->toks[i].len)) {
            b->pos[j] = b->toks[j].pos;
            j++;
        }
        if (n == b->xt_cap) {
            size_t cap = b->xt_cap ? b->xt_cap * 2 : 256;
            js_xterm *x = realloc(b->xt, cap * sizeof *x);
            if (!x)
                return JS_ENOMEM;
            b->xt = x;
            b->xt_cap = cap;
        }
        b->xt[n++] = (js_xterm){(const char *)b->bytes.p + b->toks[i].off,
                                b->toks[i].len, (uint32_t)(j - i), b->pos + i,
                                j - i};
        i = j;
    }
    *nterms = n;
    return 0;
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
    int rc;
    b->ntoks = 0;
    b->bytes.len = 0;
    uint32_t head_len, body_len;
    const char *field;
    if ((rc = js_fields_analyze(s, b->o.analyze_flags, on_token, b, &head_len,
                                &body_len, &field)))
        return fail(b, rc, "indexing the %s: %s", field, js_strerror(rc));
    if (b->bytes.oom)
        return fail(b, JS_ENOMEM, "out of memory");
    if (b->ntoks)
        qsort_r(b->toks, b->ntoks, sizeof *b->toks, tok_cmp, b->bytes.p);
    size_t nterms;
    if ((rc = make_terms(b, &nterms)))
        return fail(b, rc, "out of memory");
    char *data = section_data(s, id, head_len, body_len);
    if (!data)
        return fail(b, JS_ENOMEM, "out of memory");
    unsigned shard = id % b->shards;
    rc = js_xw_put(b->w[shard], id / b->shards + 1, b->xt, nterms, data,
                   strlen(data), NULL);
    free(data);
    if (rc)
        return fail(b, rc, "shard %u: %s", shard, js_xw_errmsg(b->w[shard]));
    b->postings += nterms;
    b->positions += b->ntoks;
    b->text_bytes += s->body_len;
    b->nsections++;
    report_progress(b, 0, 0);
    return 0;
}

int js_xbuild_add(js_xbuild *b, const char *path, const char *name,
                  const void *data, size_t len)
{
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
    char *oldp = join(b->dir, old);
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
        rm_rf(oldp);
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
    SET(o, "docids", json_string("section i is docid i/shards+1 of shard "
                                 "i%shards; shards opened together in order "
                                 "give docid i+1"));
    SET(o, "documents", NUM(b->ndocs));
    SET(o, "sections", NUM(b->nsections));
    SET(o, "terms", NUM(xs->terms));
    SET(o, "postings", NUM(b->postings));
    SET(o, "positions", NUM(b->positions));
    SET(o, "total_length", NUM(xs->total_length));
    SET(o, "source_bytes", NUM(b->st.ingest.bytes_read));
    SET(o, "text_bytes", NUM(b->text_bytes));
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
        if (!(paths[i] = join(b->tmp, name)))
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
        rm_rf(b->tmp);
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
        rm_rf(b->tmp);
    js_ingest_close(b->ing);
    js_buf_free(&b->bytes);
    free(b->toks);
    free(b->xt);
    free(b->pos);
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
    char *top;      /* dir/xapian (NULL for a remote index) */
    js_xdb *db;     /* every shard as one database, for searching */
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
        if (!(paths[i] = join(top, name)))
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
        char *p = join(xi->top, name);
        if (!p) {
            rc = xfail(xi, JS_ENOMEM, "out of memory");
            break;
        }
        rc = js_xdb_check_path(p, NULL, xi->err, sizeof xi->err);
        free(p);
        sections += xi->shard[i].sections;
    }
    /* info.json against the shards: sections (also checked at open),
     * their sum of lengths, and every document's data naming its
     * section as the docid says (section = docid - 1) */
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
    if (!rc && xs.doccount && xs.lastdocid != xs.doccount)
        rc = xfail(xi, JS_ECORRUPT, "%s: docids run to %llu for %llu sections "
                   "(a section is missing)", xi->top,
                   (unsigned long long)xs.lastdocid,
                   (unsigned long long)xs.doccount);
    pthread_mutex_unlock(&xi->mu);
    return rc;
}

int js_xindex_open(js_xindex **out, const char *dir)
{
    if (!out || !dir)
        return JS_EINVALID;
    js_xindex *xi = xindex_new();
    *out = xi;
    if (!xi)
        return JS_ENOMEM;
    char *top = join(dir, JS_XAPIAN_DIR);
    char *info = top ? join(top, JS_XAPIAN_INFO) : NULL;
    int rc = 0;
    json_t *o = NULL;
    if (!info) {
        rc = xfail(xi, JS_ENOMEM, "out of memory");
        goto done;
    }
    json_error_t je;
    o = json_load_file(info, 0, &je);
    if (!o) {
        struct stat st;
        if (stat(info, &st) != 0)
            rc = xfail(xi, errno == ENOENT ? JS_ENOTFOUND : JS_EIO, "%s: %s", info,
                       errno == ENOENT ? "no Xapian index here (build one with "
                                         "'jiansuo index --backend xapian')"
                                       : strerror(errno));
        else
            rc = xfail(xi, JS_ECORRUPT, "%s: line %d: %s", info, je.line, je.text);
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
        char *p = join(top, name);
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
    if (!rc && sections != s->sections)
        rc = xfail(xi, JS_ECORRUPT, "%s: the shards hold %llu sections, info.json says %llu",
                   top, (unsigned long long)sections,
                   (unsigned long long)s->sections);
    s->shard = xi->shard;
    s->build_info = xi->build_info;
    if (!rc)
        rc = open_all(xi, top, shards);
done:
    json_decref(o);
    free(info);
    xi->top = top;
    return rc;
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
    free(xi);
}
