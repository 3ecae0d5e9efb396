/*
 * xapian_writer.c — the live writer of a Xapian index (contracts and
 * limits: xapian_writer.h).
 *
 * In:  paths (walked here, in ingest's order), in-memory documents,
 *      record ids and paths to delete.
 * Out: sections added to and deleted from the shards of DIR/xapian
 *      inside one Xapian transaction per shard; at commit, those
 *      transactions committed and info.json rewritten.
 *
 * One file at a time: its stamp is taken (before it is read, so that a
 * change made while it is read shows at the next update), then ingest
 * reads it and each section goes through on_section.  Deletion is lazy:
 * the old sections of the file (its file term, on every shard) go when
 * its first new section arrives, and those of each document's identity
 * (on the identity's shard) when that document's first section does.  A
 * file that yields no section because it cannot be read has therefore
 * deleted nothing: its old version stays ("kept").
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "backend.h"
#include "error.h"
#include "fields.h"
#include "file.h"
#include "ingest.h"
#include "xapian_build.h"
#include "xapian_doc.h"
#include "xapian_shim.h"
#include "xapian_writer.h"

/* as src/ingest.c walks */

/* A set of 64-bit hashes (open addressing; 0 stands for "empty", so the
 * hash 0 is stored as 1): the identities a file has written so far. */
typedef struct idset {
    uint64_t *slot;
    size_t cap, n;
} idset;

struct js_xwriter {
    char *dir, *top;
    int lock_fd;
    js_writer_options o;
    js_build_options bo;   /* progress reports (js_fields_progress) */
    unsigned shards;
    unsigned analyze_flags;
    js_xw **w;             /* [shards], each in a transaction */
    js_ingest *ing;
    js_xdoc *doc;
    json_t *info;          /* info.json as of the last commit */
    uint64_t next_section, generation;
    /* changes to info.json's counts since the last commit */
    int64_t d_documents, d_sections, d_postings, d_positions, d_text_bytes;
    uint64_t d_source_bytes;
    /* the file being fed */
    const char *stamp;     /* slot 2 of its sections, or NULL */
    char *canonical;       /* its canonical path (or memory name) */
    int started;           /* its old sections are deleted */
    uint64_t old_docs;     /* documents its file term deleted */
    uint64_t matched;      /* of those, identities it brought back */
    idset seen;            /* identities it has written */
    idset old_ids;         /* identities its file term deleted */
    idset *collect;        /* where del_term puts identities, or NULL */
    /* figures */
    js_writer_stats st;
    uint64_t own_warnings, own_skipped; /* the walk's, not ingest's */
    js_fields_clock clock;
    int rc;                /* sticky: a failure that lost the changes */
    char err[1024];
};

#define fail(w, code, ...) js_error_set((w)->err, sizeof (w)->err, (code), __VA_ARGS__)
/* a failure after which the uncommitted changes cannot be trusted */
#define lose(w, code, ...) ((w)->rc = fail(w, code, __VA_ARGS__))


/* ---------------------------------------------------------------------
 * The identity set
 * ------------------------------------------------------------------- */

/* Adds h; returns 1 if it was new, 0 if present, JS_ENOMEM. */
static int idset_add(idset *s, uint64_t h)
{
    if (!h)
        h = 1;
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        uint64_t *n = calloc(cap, sizeof *n);
        if (!n)
            return JS_ENOMEM;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i])
                for (size_t j = s->slot[i] & (cap - 1);; j = (j + 1) & (cap - 1))
                    if (!n[j]) {
                        n[j] = s->slot[i];
                        break;
                    }
        free(s->slot);
        s->slot = n;
        s->cap = cap;
    }
    for (size_t j = h & (s->cap - 1);; j = (j + 1) & (s->cap - 1)) {
        if (s->slot[j] == h)
            return 0;
        if (!s->slot[j]) {
            s->slot[j] = h;
            s->n++;
            return 1;
        }
    }
}

static int idset_has(const idset *s, uint64_t h)
{
    if (!h)
        h = 1;
    if (!s->cap)
        return 0;
    for (size_t j = h & (s->cap - 1);; j = (j + 1) & (s->cap - 1)) {
        if (s->slot[j] == h)
            return 1;
        if (!s->slot[j])
            return 0;
    }
}

static void idset_clear(idset *s)
{
    if (s->n)
        memset(s->slot, 0, s->cap * sizeof *s->slot);
    s->n = 0;
}

/* ---------------------------------------------------------------------
 * Deleting
 * ------------------------------------------------------------------- */

/* What the deleted sections take off the counts. */
typedef struct del_acc {
    js_xwriter *w;
    uint64_t docs;
    idset *ids; /* NULL, or gets the deleted documents' identities */
} del_acc;

static int on_deleted(void *ctx, const char *v, size_t len)
{
    del_acc *a = ctx;
    unsigned long long p = 0, q = 0, t = 0, id = 0;
    int first = 0;
    /* a section without slot 1 (it cannot be: every section written
     * since live indexes has one) takes off only itself */
    if (len && sscanf(v, "%llu %llu %llu %d %llx", &p, &q, &t, &first, &id) != 5)
        p = q = t = 0, first = 0;
    a->w->d_sections--;
    a->w->d_postings -= (int64_t)p;
    a->w->d_positions -= (int64_t)q;
    a->w->d_text_bytes -= (int64_t)t;
    if (first) {
        a->w->d_documents--;
        a->docs++;
        if (a->ids && idset_add(a->ids, id) < 0)
            return JS_ENOMEM;
    }
    return 0;
}

/* Deletes the sections indexed by term on shard k; adds the documents
 * deleted to *docs and the sections to *sections (either may be NULL).
 * Returns 0 or a code (the changes are then lost). */
static int del_term(js_xwriter *w, unsigned k, const char *term, size_t len,
                    uint64_t *docs, uint64_t *sections)
{
    del_acc a = {w, 0, w->collect};
    uint64_t n = 0;
    int rc = js_xw_delete_term(w->w[k], term, len, JS_XSLOT_COUNTS, on_deleted,
                               &a, &n);
    if (rc)
        return lose(w, rc, "shard %u: %s", k, js_xw_errmsg(w->w[k]));
    w->st.sections_deleted += n;
    if (docs)
        *docs += a.docs;
    if (sections)
        *sections += n;
    return 0;
}

/* del_term on every shard. */
static int del_term_all(js_xwriter *w, const char *term, size_t len,
                        uint64_t *docs, uint64_t *sections)
{
    for (unsigned k = 0; k < w->shards; k++) {
        int rc = del_term(w, k, term, len, docs, sections);
        if (rc)
            return rc;
    }
    return 0;
}

/* 1 when some shard holds a section with the term, 0 if none, or a
 * negative code. */
static int holds_term(js_xwriter *w, const char *term, size_t len,
                      char **value)
{
    for (unsigned k = 0; k < w->shards; k++) {
        char *v = NULL;
        size_t vlen;
        int r = js_xw_first_value(w->w[k], term, len, JS_XSLOT_STAMP, &v, &vlen);
        if (r < 0)
            return lose(w, r, "shard %u: %s", k, js_xw_errmsg(w->w[k]));
        if (r > 0) {
            if (value)
                *value = v;
            else
                free(v);
            return 1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * Adding
 * ------------------------------------------------------------------- */

static void report_progress(js_xwriter *w, int force)
{
    js_fields_progress(&w->clock, &w->bo, w->ing,
                       w->st.sections_added, 0, force);
}

/* Section callback from ingest. */
static int on_section(void *ctx, const js_section *s)
{
    js_xwriter *w = ctx;
    int rc;
    if (w->next_section >= UINT32_MAX - 1)
        return lose(w, JS_ELIMIT, "section ids are used up (more than %u "
                    "sections added over the index's life): rebuild it",
                    UINT32_MAX - 2);
    uint32_t id = (uint32_t)w->next_section;
    js_xdoc_out d;
    const char *what;
    if ((rc = js_xdoc_make(w->doc, s, w->analyze_flags, id, w->shards,
                           w->stamp, &d, &what)))
        return rc == JS_ENOMEM ? lose(w, rc, "out of memory")
                               : lose(w, rc, "indexing the %s: %s", what,
                                      js_strerror(rc));
    if (!w->started) {
        /* the file's first section: its old version goes, every record
         * of it on whatever shard its identity put it */
        w->started = 1;
        w->collect = &w->old_ids;
        rc = del_term_all(w, d.file, d.file_len, &w->old_docs, NULL);
        w->collect = NULL;
        if (rc)
            return rc;
    }
    if (s->ordinal == 0) {
        /* replaced when its identity was in the index: in this file's
         * old version, or elsewhere (a record id moved from another
         * file), where it is deleted now */
        uint64_t h = js_xdoc_fnv(JS_FNV_INIT, d.identity, d.identity_len);
        int fresh = idset_add(&w->seen, h);
        uint64_t docs = 0;
        if (fresh < 0)
            return lose(w, fresh, "out of memory");
        if (!fresh) {
            w->st.added++; /* another record of the same identity */
        } else if (idset_has(&w->old_ids, h)) {
            w->st.replaced++;
            w->matched++;
        } else if ((rc = del_term(w, d.shard, d.identity, d.identity_len,
                                  &docs, NULL))) {
            return rc;
        } else if (docs) {
            w->st.replaced++;
            w->st.deleted += docs - 1;
        } else {
            w->st.added++;
        }
    }
    rc = js_xw_put_values(w->w[d.shard], 0, d.terms, d.nterms, d.values,
                          d.nvalues, d.data, d.data_len, NULL);
    if (rc)
        return lose(w, rc, "shard %u: %s", d.shard, js_xw_errmsg(w->w[d.shard]));
    w->next_section++;
    w->d_sections++;
    w->d_documents += s->ordinal == 0;
    w->d_postings += (int64_t)d.postings;
    w->d_positions += (int64_t)d.positions;
    w->d_text_bytes += (int64_t)d.text_bytes;
    w->st.sections_added++;
    report_progress(w, 0);
    return 0;
}

static void warn(js_xwriter *w, const char *file, const char *msg)
{
    w->own_warnings++;
    if (w->o.warn)
        w->o.warn(w->o.warn_ctx, file, 0, UINT64_MAX, msg);
}

/* Feeds one file (path, canonical canon, stamp or NULL) or, path NULL,
 * the document name in data[0..len).  Returns 0 or a code. */
static int feed_one(js_xwriter *w, const char *path, const char *canon,
                    const char *stamp, const char *name, const void *data,
                    size_t len)
{
    js_ingest_stats before, after;
    js_ingest_get_stats(w->ing, &before);
    w->stamp = stamp;
    w->started = 0;
    w->old_docs = w->matched = 0;
    idset_clear(&w->seen);
    idset_clear(&w->old_ids);
    int rc = js_fields_feed(w->ing, path, name, data, len, on_section, w,
                            &w->rc, w->err, sizeof w->err);
    w->stamp = NULL;
    js_ingest_get_stats(w->ing, &after);
    w->d_source_bytes += after.bytes_read - before.bytes_read;
    if (rc && rc != JS_ENOTFOUND && rc != JS_EIO)
        return rc;
    if (!w->started) {
        /* nothing read: unreadable (the old version stays) or empty */
        const char *shown = path ? path : name;
        char term[JS_XDOC_TERM_MAX];
        size_t tlen = js_xdoc_term('f', canon, strlen(canon), term);
        int unreadable = rc || after.skipped_files > before.skipped_files;
        if (rc)
            w->own_skipped++; /* ingest refused the path itself */
        if (unreadable) {
            int held = holds_term(w, term, tlen, NULL);
            if (held < 0)
                return held;
            if (held) {
                w->st.kept++;
                warn(w, shown, "cannot be read: the indexed version is kept");
            }
            return 0;
        }
        /* read, and empty: it holds no document any more */
        uint64_t docs = 0;
        if ((rc = del_term_all(w, term, tlen, &docs, NULL)))
            return rc;
        w->st.deleted += docs;
        return 0;
    }
    /* the old version's documents that the new one did not bring back */
    w->st.deleted += w->old_docs - w->matched;
    return 0;
}

/* How a walk treats each regular file. */
typedef enum { WALK_ADD, WALK_UPDATE } walk_mode;

/* One regular file of a walk: stamped and fed, or (update) skipped when
 * its stamp says it is unchanged.  Returns 0 or a code that stops. */
static int do_file(js_xwriter *w, const char *path, walk_mode mode)
{
    char *canon = js_fields_identity(path);
    if (!canon)
        return lose(w, JS_ENOMEM, "out of memory");
    struct stat st;
    char *stamp = NULL, *old = NULL;
    int rc = 0;
    if (stat(canon, &st) != 0) {
        rc = feed_one(w, path, canon, NULL, NULL, NULL, 0); /* says why */
        goto out;
    }
    if (mode == WALK_UPDATE) {
        char term[JS_XDOC_TERM_MAX];
        size_t tlen = js_xdoc_term('f', canon, strlen(canon), term);
        int held = holds_term(w, term, tlen, &old);
        if (held < 0) {
            rc = held;
            goto out;
        }
        uint64_t size, hash;
        int64_t mtime;
        const char *opath;
        int parsed = held && !js_xdoc_stamp_parse(old, strlen(old), &size,
                                                  &mtime, &hash, &opath);
        int64_t ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        if (parsed && size == (uint64_t)st.st_size && mtime == ns) {
            w->st.unchanged++;
            goto out;
        }
        stamp = js_xdoc_stamp(canon, &st);
        uint64_t nsize, nhash;
        int64_t nmtime;
        const char *npath;
        if (parsed && stamp &&
            !js_xdoc_stamp_parse(stamp, strlen(stamp), &nsize, &nmtime, &nhash,
                                 &npath) &&
            nsize == size && nhash == hash) {
            w->st.unchanged++;
            goto out;
        }
    } else {
        stamp = js_xdoc_stamp(canon, &st);
    }
    /* no stamp (the file cannot be read): ingest says why and the old
     * version stays */
    rc = feed_one(w, path, canon, stamp, NULL, NULL, 0);
out:
    free(stamp);
    free(old);
    free(canon);
    return rc;
}

/* A walk's context: the writer and what it does with each file. */
typedef struct walk_ctx {
    js_xwriter *w;
    walk_mode mode;
} walk_ctx;

static int walk_file(void *ctx, const char *path)
{
    walk_ctx *c = ctx;
    return do_file(c->w, path, c->mode);
}

/* Walks path as ingest does (js_ingest_walk: its order, its rules and
 * its warnings), each regular file through do_file. */
static int walk(js_xwriter *w, const char *path, walk_mode mode)
{
    walk_ctx c = {w, mode};
    int rc = js_ingest_walk(w->ing, path, walk_file, &c);
    if (rc == JS_ENOMEM && !w->rc)
        return lose(w, rc, "out of memory");
    return rc;
}

/* Checks that w can take a call.  Returns 0 or the sticky code. */
static int ready(js_xwriter *w)
{
    if (!w)
        return JS_EINVALID;
    if (w->rc)
        return w->rc; /* the message is still there */
    w->err[0] = 0;
    return 0;
}

/* Starts a walk at path (which must exist, as ingest requires). */
static int walk_top(js_xwriter *w, const char *path, walk_mode mode)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        return fail(w, e == ENOENT || e == ENOTDIR ? JS_ENOTFOUND : JS_EIO,
                    "%s: %s", path, strerror(e));
    }
    return walk(w, path, mode);
}

int js_xwriter_add(js_xwriter *w, const char *path, const char *name,
                   const void *data, size_t len)
{
    int rc = ready(w);
    if (rc)
        return rc;
    if (path)
        return walk_top(w, path, WALK_ADD);
    if (!name)
        return fail(w, JS_EINVALID, "no document name");
    char *canon = js_fields_identity(name);
    if (!canon)
        return lose(w, JS_ENOMEM, "out of memory");
    rc = feed_one(w, NULL, canon, NULL, name, data, len);
    free(canon);
    return rc;
}

int js_xwriter_remove(js_xwriter *w, int by_path, const char *key)
{
    int rc = ready(w);
    if (rc)
        return rc;
    if (!key || !key[0])
        return fail(w, JS_EINVALID, "no %s given", by_path ? "path" : "id");
    char term[JS_XDOC_TERM_MAX];
    size_t klen = strlen(key);
    uint64_t docs = 0, sections = 0;
    if (by_path) {
        /* the file term: a JSON Lines file's records are on the shards
         * their ids chose */
        size_t tlen = js_xdoc_term('f', key, klen, term);
        rc = del_term_all(w, term, tlen, &docs, &sections);
    } else {
        size_t tlen = js_xdoc_term('i', key, klen, term);
        rc = del_term(w, js_xdoc_shard('i', key, klen, w->shards), term, tlen,
                      &docs, &sections);
    }
    if (rc)
        return rc;
    if (!sections)
        return fail(w, JS_ENOTFOUND, "the index holds no document %s '%s'",
                    by_path ? "from" : "with the id", key);
    w->st.deleted += docs;
    return 0;
}

/* What update's last pass collects: the indexed files under a path. */
typedef struct gone {
    js_xwriter *w;
    const char *under;  /* the canonical root */
    size_t under_len;
    int is_dir;
    char **paths;
    size_t n, cap;
} gone;

static int on_indexed_file(void *ctx, const char *v, size_t len)
{
    gone *g = ctx;
    uint64_t size, hash;
    int64_t mtime;
    const char *path;
    if (js_xdoc_stamp_parse(v, len, &size, &mtime, &hash, &path))
        return 0; /* from memory: not a file of the tree */
    if (g->is_dir ? strncmp(path, g->under, g->under_len) ||
                        path[g->under_len] != '/'
                  : strcmp(path, g->under))
        return 0; /* a long prefix matched only its kept bytes */
    struct stat st;
    if (stat(path, &st) == 0 || (errno != ENOENT && errno != ENOTDIR))
        return 0; /* still there (or unknown: keep it) */
    for (size_t i = 0; i < g->n; i++)
        if (!strcmp(g->paths[i], path))
            return 0; /* on two shards: once is enough */
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 16;
        char **p = realloc(g->paths, cap * sizeof *p);
        if (!p)
            return JS_ENOMEM;
        g->paths = p;
        g->cap = cap;
    }
    if (!(g->paths[g->n] = strdup(path)))
        return JS_ENOMEM;
    g->n++;
    return 0;
}

int js_xwriter_update(js_xwriter *w, const char *path)
{
    int rc = ready(w);
    if (rc)
        return rc;
    if (!path)
        return fail(w, JS_EINVALID, "no path given");
    struct stat st;
    int exists = stat(path, &st) == 0;
    char *canon = NULL;
    if (exists) {
        canon = js_fields_identity(path);
    } else {
        /* gone: what the index holds under it goes too, if its parent
         * is there to make the path canonical */
        char *a = strdup(path), *b = strdup(path);
        char *parent = a ? js_fields_identity(dirname(a)) : NULL;
        const char *base = b ? basename(b) : NULL;
        if (parent && base && strcmp(base, "/") && strcmp(base, ".")) {
            size_t n = strlen(parent) + strlen(base) + 2;
            if ((canon = malloc(n)))
                snprintf(canon, n, "%s%s%s", parent,
                         parent[strlen(parent) - 1] == '/' ? "" : "/", base);
        } else if (a && b && parent) {
            canon = strdup(parent);
        }
        free(parent);
        free(a);
        free(b);
    }
    if (!canon)
        return lose(w, JS_ENOMEM, "out of memory");
    if (exists && (rc = walk(w, path, WALK_UPDATE)))
        goto out;
    /* the files the index holds under path that are gone */
    gone g = {w, canon, strlen(canon), !exists || S_ISDIR(st.st_mode), NULL, 0, 0};
    char prefix[JS_XDOC_TERM_MAX];
    size_t plen;
    {
        /* the file terms under canon: canon + "/" (or canon itself),
         * cut where a long key's stored form keeps its bytes */
        size_t n = g.under_len + (g.is_dir ? 1 : 0);
        char *key = malloc(n + 1);
        if (!key) {
            rc = lose(w, JS_ENOMEM, "out of memory");
            goto out;
        }
        memcpy(key, canon, g.under_len);
        if (g.is_dir)
            key[g.under_len] = '/';
        key[n] = 0;
        plen = js_xdoc_term('f', key, n > JS_XDOC_KEY_KEEP ? JS_XDOC_KEY_KEEP : n,
                            prefix);
        free(key);
    }
    for (unsigned k = 0; k < w->shards && !rc; k++) {
        rc = js_xw_scan_prefix(w->w[k], prefix, plen, JS_XSLOT_STAMP,
                               on_indexed_file, &g);
        if (rc == JS_ENOMEM)
            rc = lose(w, rc, "out of memory");
        else if (rc)
            rc = lose(w, rc, "shard %u: %s", k, js_xw_errmsg(w->w[k]));
    }
    uint64_t deleted = 0;
    for (size_t i = 0; i < g.n && !rc; i++) {
        char term[JS_XDOC_TERM_MAX];
        size_t tlen = js_xdoc_term('f', g.paths[i], strlen(g.paths[i]), term);
        uint64_t docs = 0;
        rc = del_term_all(w, term, tlen, &docs, &deleted);
        w->st.deleted += docs;
    }
    for (size_t i = 0; i < g.n; i++)
        free(g.paths[i]);
    free(g.paths);
    if (!rc && !exists && !deleted)
        rc = fail(w, JS_ENOTFOUND, "%s: %s", path, strerror(ENOENT));
out:
    free(canon);
    return rc;
}

/* ---------------------------------------------------------------------
 * Committing
 * ------------------------------------------------------------------- */

/* Drops what was not committed and starts again from the last commit.
 * Returns 0 or a code (the writer is then unusable). */
static int drop_changes(js_xwriter *w)
{
    for (unsigned k = 0; k < w->shards; k++) {
        int rc = js_xw_cancel(w->w[k]);
        if (!rc)
            rc = js_xw_begin(w->w[k]);
        if (rc)
            return fail(w, rc, "shard %u: %s", k, js_xw_errmsg(w->w[k]));
    }
    w->d_documents = w->d_sections = w->d_postings = w->d_positions = 0;
    w->d_text_bytes = 0;
    w->d_source_bytes = 0;
    json_t *ns = json_object_get(w->info, "next_section");
    if (json_is_integer(ns))
        w->next_section = (uint64_t)json_integer_value(ns);
    return 0;
}

/* info's count key plus delta, at least 0. */
static int add_count(json_t *info, const char *key, int64_t delta)
{
    json_t *v = json_object_get(info, key);
    json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
    n += delta;
    return json_object_set_new(info, key, json_integer(n < 0 ? 0 : n));
}

int js_xwriter_commit(js_xwriter *w)
{
    if (!w)
        return JS_EINVALID;
    if (w->rc) {
        /* the changes since the last commit are lost: drop them and
         * say why once; the writer goes on from the last commit */
        int rc = w->rc;
        w->rc = 0;
        if (drop_changes(w))
            return w->rc = rc;
        return rc;
    }
    w->err[0] = 0;
    int rc = 0;
    for (unsigned k = 0; k < w->shards && !rc; k++) {
        if ((rc = js_xw_commit(w->w[k])))
            fail(w, rc, "shard %u: %s%s", k, js_xw_errmsg(w->w[k]),
                 k ? " (the shards before it are committed: info.json "
                     "is now behind them)"
                   : "");
        else if ((rc = js_xw_begin(w->w[k])))
            fail(w, rc, "shard %u: %s", k, js_xw_errmsg(w->w[k]));
    }
    if (rc) {
        int keep = rc;
        char msg[sizeof w->err];
        memcpy(msg, w->err, sizeof msg);
        drop_changes(w);
        memcpy(w->err, msg, sizeof msg);
        return keep;
    }
    /* what Xapian counts itself, read back from the shards */
    js_xsource *src = calloc(w->shards, sizeof *src);
    char **paths = calloc(w->shards, sizeof *paths);
    js_xdb *db = NULL;
    js_xdb_stats xs = {0};
    if (!src || !paths)
        rc = fail(w, JS_ENOMEM, "out of memory");
    for (unsigned k = 0; k < w->shards && !rc; k++) {
        char name[32];
        snprintf(name, sizeof name, "shard-%u", k);
        if (!(paths[k] = js_xbuild_join(w->top, name)))
            rc = fail(w, JS_ENOMEM, "out of memory");
        src[k].path_or_host = paths[k];
    }
    if (!rc && (rc = js_xdb_open(&db, src, w->shards, 0)))
        fail(w, rc, "reading the shards: %s", db ? js_xdb_errmsg(db) : js_strerror(rc));
    if (!rc && (rc = js_xdb_get_stats(db, 1, &xs)))
        fail(w, rc, "reading the shards: %s", js_xdb_errmsg(db));
    js_xdb_close(db);
    for (unsigned k = 0; paths && k < w->shards; k++)
        free(paths[k]);
    free(paths);
    free(src);
    if (rc)
        return rc;
    json_t *info = json_deep_copy(w->info);
    int bad = !info;
    if (info) {
        bad |= add_count(info, "documents", w->d_documents);
        bad |= add_count(info, "sections", w->d_sections);
        bad |= add_count(info, "postings", w->d_postings);
        bad |= add_count(info, "positions", w->d_positions);
        bad |= add_count(info, "text_bytes", w->d_text_bytes);
        bad |= add_count(info, "source_bytes", (int64_t)w->d_source_bytes);
        bad |= json_object_set_new(info, "terms", json_integer((json_int_t)xs.terms));
        bad |= json_object_set_new(info, "total_length",
                                   json_integer((json_int_t)xs.total_length));
        bad |= json_object_set_new(info, "next_section",
                                   json_integer((json_int_t)w->next_section));
        bad |= json_object_set_new(info, "generation",
                                   json_integer((json_int_t)(w->generation + 1)));
        json_t *live = json_object();
        bad |= !live;
        if (live) {
            json_object_set_new(live, "committed", json_integer(time(NULL)));
            json_object_set_new(live, "jiansuo", json_string(js_version()));
            json_object_set_new(live, "xapian", json_string(js_xapian_version()));
            bad |= json_object_set_new(info, "live", live);
        }
    }
    json_t *sec = info ? json_object_get(info, "sections") : NULL;
    if (!bad && (uint64_t)json_integer_value(sec) != xs.doccount)
        rc = fail(w, JS_ECORRUPT, "%s: after the commit the shards hold %llu "
                  "sections, the counts say %lld", w->top,
                  (unsigned long long)xs.doccount,
                  (long long)json_integer_value(sec));
    char *text = bad || rc ? NULL : json_dumps(info, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    size_t tlen = text ? strlen(text) : 0;
    char *line = text ? realloc(text, tlen + 2) : NULL;
    if (!rc && !line) {
        free(text);
        rc = fail(w, JS_ENOMEM, "out of memory");
    }
    if (!rc) {
        line[tlen] = '\n';
        rc = js_file_put(w->top, JS_XAPIAN_INFO, line, tlen + 1, w->err,
                         sizeof w->err);
    }
    free(line);
    if (rc) {
        json_decref(info);
        return rc;
    }
    json_decref(w->info);
    w->info = info;
    w->generation++;
    w->st.generation = w->generation;
    w->d_documents = w->d_sections = w->d_postings = w->d_positions = 0;
    w->d_text_bytes = 0;
    w->d_source_bytes = 0;
    return 0;
}

int js_xwriter_merge(js_xwriter *w, unsigned segments)
{
    (void)segments; /* Xapian merges its own tables */
    return js_xwriter_commit(w);
}

void js_xwriter_get_stats(const js_xwriter *w, js_writer_stats *out)
{
    if (!w || !out)
        return;
    *out = w->st;
    js_ingest_get_stats(w->ing, &out->ingest);
    out->ingest.warnings += w->own_warnings;
    out->ingest.skipped_files += w->own_skipped;
    out->seconds = js_fields_elapsed(&w->clock);
}

const char *js_xwriter_errmsg(const js_xwriter *w) { return w ? w->err : ""; }

void js_xwriter_close(js_xwriter *w)
{
    if (!w)
        return;
    if (w->w) /* each close drops its shard's transaction */
        for (unsigned k = 0; k < w->shards; k++)
            js_xw_close(w->w[k]);
    free(w->w);
    js_ingest_close(w->ing);
    js_xdoc_free(w->doc);
    json_decref(w->info);
    free(w->seen.slot);
    free(w->old_ids.slot);
    free(w->dir);
    free(w->top);
    if (w->lock_fd >= 0)
        close(w->lock_fd);
    free(w);
}

/* ---------------------------------------------------------------------
 * Opening
 * ------------------------------------------------------------------- */

/* Creates an empty one-shard index as top, built beside it and renamed
 * into place (a reader finds none or a whole one).  Returns 0 or a
 * code with w's message. */
static int create_empty(js_xwriter *w)
{
    char tmpname[64];
    snprintf(tmpname, sizeof tmpname, JS_XAPIAN_DIR ".tmp-%ld", (long)getpid());
    char *tmp = js_xbuild_join(w->dir, tmpname);
    char *shard = tmp ? js_xbuild_join(tmp, "shard-0") : NULL;
    int rc = 0;
    if (!shard)
        rc = fail(w, JS_ENOMEM, "out of memory");
    else if (mkdir(tmp, 0755) != 0)
        rc = fail(w, JS_EIO, "%s: %s", tmp, strerror(errno));
    if (!rc) {
        js_xw *x = NULL;
        rc = js_xw_open(&x, shard, JS_XW_CREATE_OR_OVERWRITE);
        if (rc)
            fail(w, rc, "%s", x ? js_xw_errmsg(x) : js_strerror(rc));
        else if ((rc = js_xw_commit(x)))
            fail(w, rc, "%s", js_xw_errmsg(x));
        js_xw_close(x);
    }
    if (!rc) {
        char info[1024];
        int n = snprintf(
            info, sizeof info,
            "{\n  \"backend\": \"xapian\",\n  \"format_version\": %d,\n"
            "  \"shards\": 1,\n  \"analyze_flags\": %u,\n  \"fold\": %s,\n"
            "  \"heading_prefix\": 1,\n  \"placement\": \"identity\",\n"
            "  \"documents\": 0,\n  \"sections\": 0,\n  \"terms\": 0,\n"
            "  \"postings\": 0,\n  \"positions\": 0,\n  \"total_length\": 0,\n"
            "  \"source_bytes\": 0,\n  \"text_bytes\": 0,\n"
            "  \"next_section\": 0,\n  \"generation\": 0,\n"
            "  \"build\": {\"created\": %lld, \"jiansuo\": \"%s\", "
            "\"xapian\": \"%s\", \"empty\": true}\n}\n",
            JS_XAPIAN_FORMAT_VERSION, w->o.analyze_flags,
            w->o.analyze_flags & JS_ANALYZE_NO_FOLD ? "false" : "true",
            (long long)time(NULL), js_version(), js_xapian_version());
        rc = js_file_put(tmp, JS_XAPIAN_INFO, info, (size_t)n, w->err,
                         sizeof w->err);
    }
    if (!rc && rename(tmp, w->top) != 0)
        rc = fail(w, JS_EIO, "%s: %s", w->top, strerror(errno));
    if (rc && tmp)
        js_xbuild_rm_rf(tmp);
    free(shard);
    free(tmp);
    return rc;
}


static int get_uint(json_t *o, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

int js_xwriter_open(js_xwriter **out, const char *dir,
                    const js_writer_options *opts)
{
    if (!out)
        return JS_EINVALID;
    js_xwriter *w = calloc(1, sizeof *w);
    *out = w;
    if (!w)
        return JS_ENOMEM;
    w->lock_fd = -1;
    js_fields_clock_start(&w->clock);
    if (!dir || !opts)
        return w->rc = fail(w, JS_EINVALID, "no index directory or options");
    w->o = *opts;
    js_build_options bo = JS_BUILD_OPTIONS_INIT;
    bo.progress = opts->progress;
    bo.progress_ctx = opts->progress_ctx;
    w->bo = bo;
    if (!(w->dir = strdup(dir)) || !(w->top = js_xbuild_join(dir, JS_XAPIAN_DIR)))
        return w->rc = fail(w, JS_ENOMEM, "out of memory");
    int fd = js_dir_lock_wait(dir, opts->wait, w->err, sizeof w->err);
    if (fd < 0)
        return w->rc = fd;
    w->lock_fd = fd;
    js_xbuild_clean_leftovers(dir);
    char *info = js_xbuild_join(w->top, JS_XAPIAN_INFO);
    if (!info)
        return w->rc = fail(w, JS_ENOMEM, "out of memory");
    struct stat st;
    int rc = 0;
    if (stat(info, &st) != 0 && errno == ENOENT) {
        if (opts->backend == JS_BACKEND_XAPIAN)
            rc = create_empty(w);
        else
            rc = fail(w, JS_ENOTFOUND, "%s: no Xapian index here", dir);
    }
    json_error_t je;
    if (!rc && !(w->info = json_load_file(info, 0, &je)))
        rc = fail(w, stat(info, &st) ? JS_EIO : JS_ECORRUPT, "%s: %s", info,
                  stat(info, &st) ? strerror(errno) : je.text);
    free(info);
    if (rc)
        return w->rc = rc;
    uint64_t version, shards, flags;
    json_t *backend = json_object_get(w->info, "backend");
    if (!json_is_string(backend) || strcmp(json_string_value(backend), "xapian") ||
        get_uint(w->info, "format_version", &version))
        return w->rc = fail(w, JS_ECORRUPT, "%s: not a jiansuo Xapian index "
                            "description", w->top);
    if (version != JS_XAPIAN_FORMAT_VERSION)
        return w->rc = fail(w, JS_EVERSION, "%s: format version %llu, this "
                            "jiansuo writes %u", w->top,
                            (unsigned long long)version, JS_XAPIAN_FORMAT_VERSION);
    if (get_uint(w->info, "shards", &shards) || shards < 1 ||
        shards > JS_XAPIAN_MAX_SHARDS || get_uint(w->info, "analyze_flags", &flags))
        return w->rc = fail(w, JS_ECORRUPT, "%s: a count is missing or out of "
                            "range", w->top);
    json_t *placement = json_object_get(w->info, "placement");
    if (!json_is_string(placement) ||
        strcmp(json_string_value(placement), "identity"))
        /* no identity terms, no stamps, and with several shards the
         * sections placed by number: a replacement could not find what
         * it replaces */
        return w->rc = fail(w, JS_EINVALID, "%s: built before live updates; "
                            "rebuild with jiansuo index --backend xapian",
                            w->top);
    if (get_uint(w->info, "next_section", &w->next_section) ||
        get_uint(w->info, "generation", &w->generation))
        return w->rc = fail(w, JS_ECORRUPT, "%s: a count is missing or out of "
                            "range", w->top);
    w->shards = (unsigned)shards;
    w->analyze_flags = (unsigned)flags; /* the index keeps its own */
    w->st.generation = w->generation;
    if (!(w->w = calloc(w->shards, sizeof *w->w)) || !(w->doc = js_xdoc_new()))
        return w->rc = fail(w, JS_ENOMEM, "out of memory");
    for (unsigned k = 0; k < w->shards; k++) {
        char name[32];
        snprintf(name, sizeof name, "shard-%u", k);
        char *p = js_xbuild_join(w->top, name);
        if (!p)
            return w->rc = fail(w, JS_ENOMEM, "out of memory");
        rc = js_xw_open(&w->w[k], p, JS_XW_OPEN);
        free(p);
        if (!rc)
            rc = js_xw_begin(w->w[k]);
        if (rc)
            return w->rc = fail(w, rc, "%s", w->w[k] ? js_xw_errmsg(w->w[k])
                                                     : js_strerror(rc));
    }
    js_ingest_options io = JS_INGEST_OPTIONS_INIT;
    io.format = opts->format;
    io.encoding = opts->encoding;
    io.include_hidden = opts->include_hidden;
    io.warn = opts->warn;
    io.warn_ctx = opts->warn_ctx;
    rc = js_ingest_open(&w->ing, &io);
    if (rc)
        return w->rc = fail(w, rc, "%s", rc == JS_EINVALID
                                             ? "unknown format or encoding"
                                             : js_strerror(rc));
    return 0;
}
