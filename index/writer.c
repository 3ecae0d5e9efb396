/*
 * writer.c — a live index's writer (writer.h; format: FORMAT.md, "Live
 * indexes").
 *
 * In:  adds (files, memory), deletes by identity, updates of trees.
 * Out: at each commit the next generation: the new documents in a new
 *      segment (builder.c), the sections they replace and the deleted
 *      ones marked in new deletion sets, the manifest naming them
 *      published by rename; then the tiered merges and the removal of
 *      files no manifest names.
 *
 * Order of a commit, so that a crash at any point leaves the last
 * generation whole: the segment file is published (unnamed by any
 * manifest, it is garbage until the manifest names it); the deletion
 * sets are written under names of the new generation; the manifest is
 * renamed into place (the commit point); only then are files removed.
 * The next writer (which holds the lock) removes what a crash left.
 *
 * Replacing works on identities (keys.h): a new segment's ids and file
 * paths are looked up in the committed segments at commit, and every
 * live section they hold is marked deleted.  A file that could not be
 * read gives no entry, so its old version stays.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder.h"
#include "deletes.h"
#include "error.h"
#include "fields.h"
#include "file.h"
#include "keys.h"
#include "manifest.h"
#include "reader.h"
#include "snapshot.h"
#include "store.h"
#include "writer.h"

/* A delete asked for before commit: it applies to the committed
 * segments at once and, at commit, to the documents of the new segment
 * added before it (the first `docs`). */
typedef struct pend_del {
    int by_path;
    char *key;
    uint32_t docs;
} pend_del;

struct js_lwriter {
    char *dir;
    int lock_fd;
    js_writer_options o;
    js_manifest *m;     /* the last committed generation */
    js_snap *snap;      /* its segments, opened */
    js_deletes **dels;  /* per segment of snap: the next generation's
                           set (a copy), NULL while unchanged */
    js_nbuilder *nb;    /* the new segment, from the first add */
    char nb_name[JS_FILE_NAME_MAX + 1];
    pend_del *pd;
    size_t npd, cap_pd;
    /* update: the root being brought up to date, the files seen */
    int updating;
    char **seen;
    size_t nseen, cap_seen;
    js_writer_stats st;
    js_fields_clock clock;
    int rc; /* sticky: a failure that lost the uncommitted changes */
    char err[1024];
};

#define fail(w, code, ...) \
    js_error_set((w)->err, sizeof (w)->err, (code), __VA_ARGS__)

const char *js_lwriter_errmsg(const js_lwriter *w) { return w ? w->err : ""; }

/* Keeps a part's failure: its message m, or (a part that could not even
 * keep one: out of memory) the code's sentence. */
static int sub_fail(js_lwriter *w, int rc, const char *m)
{
    return fail(w, rc, "%s", m && m[0] ? m : js_strerror(rc));
}

void js_lwriter_get_stats(const js_lwriter *w, js_writer_stats *out)
{
    if (w && out) {
        *out = w->st;
        out->seconds = js_fields_elapsed(&w->clock);
    }
}

/* A call after a failure that lost the uncommitted changes. */
static int refuse(js_lwriter *w)
{
    return fail(w, w->rc, "an earlier failure dropped the changes; close "
                "the writer and open it again");
}

static void warn(js_lwriter *w, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn(js_lwriter *w, const char *file, const char *fmt, ...)
{
    if (!w->o.warn)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    w->o.warn(w->o.warn_ctx, file, 0, UINT64_MAX, msg);
}

/* ---- the committed generation ---- */

static void drop_pending(js_lwriter *w)
{
    if (w->dels && w->snap)
        for (uint32_t i = 0; i < w->snap->nsegs; i++) {
            js_deletes_free(w->dels[i]);
            w->dels[i] = NULL;
        }
    js_nbuilder_close(w->nb);
    w->nb = NULL;
    for (size_t i = 0; i < w->npd; i++)
        free(w->pd[i].key);
    w->npd = 0;
    for (size_t i = 0; i < w->nseen; i++)
        free(w->seen[i]);
    w->nseen = 0;
}

static int load_from(js_lwriter *w, js_snap *old);

/* (Re)loads the committed generation: manifest and snapshot, taking
 * over the readers of the segments it keeps. */
static int load(js_lwriter *w)
{
    drop_pending(w);
    free(w->dels);
    w->dels = NULL;
    js_snap *old = w->snap;
    w->snap = NULL;
    int rc = load_from(w, old);
    js_snap_release(old);
    return rc;
}

static int load_from(js_lwriter *w, js_snap *old)
{
    js_manifest_free(w->m);
    w->m = NULL;
    int rc = js_manifest_read(w->dir, &w->m, w->err, sizeof w->err);
    if (rc && rc != JS_ENOTFOUND)
        return rc;
    if (rc == JS_ENOTFOUND) {
        if ((rc = js_manifest_new(&w->m)))
            return fail(w, rc, "out of memory");
        char p[4096];
        snprintf(p, sizeof p, "%s/" JS_INDEX_FILE, w->dir);
        if (access(p, F_OK) == 0) {
            /* an index built once becomes the first segment: a hard link,
             * so that readers of index.jsi keep it until the commit
             * removes the old name */
            js_reader *r = NULL;
            rc = js_reader_open(&r, w->dir);
            if (rc) {
                sub_fail(w, rc, js_reader_errmsg(r));
                js_reader_close(r);
                return rc;
            }
            char name[JS_FILE_NAME_MAX + 1], q[4096];
            js_manifest_new_segment(w->m, name);
            snprintf(q, sizeof q, "%s/%s", w->dir, name);
            unlink(q);
            if (link(p, q) != 0) {
                js_reader_close(r);
                return fail(w, JS_EIO, "%s: cannot link %s: %s", w->dir,
                            name, strerror(errno));
            }
            rc = js_manifest_add_segment(w->m, name, r->nsections, r->ndocs,
                                         w->err, sizeof w->err);
            js_reader_close(r);
            if (rc)
                return rc;
        }
    }
    /* the snapshot of exactly this manifest (no writer but us changes
     * it), sharing the readers of the segments the last one had */
    if (!w->m->nsegments)
        return 0;
    rc = js_snap_open_manifest(&w->snap, w->dir, w->m, old, w->err,
                               sizeof w->err);
    if (rc == 1)
        return fail(w, JS_ECORRUPT, "%s: index is corrupt: a file the "
                    "manifest names is missing", w->dir);
    if (rc)
        return rc;
    if (!(w->dels = calloc(w->snap->nsegs, sizeof *w->dels)))
        return fail(w, JS_ENOMEM, "out of memory");
    return 0;
}

static uint32_t nsegs(const js_lwriter *w) { return w->snap ? w->snap->nsegs : 0; }

/* The deletion set of segment i as the next generation will have it. */
static const js_deletes *cur_dels(const js_lwriter *w, uint32_t i)
{
    return w->dels[i] ? w->dels[i] : w->snap->segs[i].del;
}

/* Marks sections [first, first + n) of segment i deleted in the next
 * generation.  Returns how many were live, or a negative code. */
static long mark(js_lwriter *w, uint32_t i, uint32_t first, uint32_t n)
{
    const js_reader *r = w->snap->segs[i].r;
    if (!w->dels[i]) {
        int rc = w->snap->segs[i].del
                     ? js_deletes_copy(&w->dels[i], w->snap->segs[i].del)
                     : js_deletes_new(&w->dels[i], r->nsections);
        if (rc)
            return fail(w, rc, "out of memory");
    }
    long live = 0;
    for (uint32_t id = first; id < first + n; id++) {
        int rc = js_deletes_set(w->dels[i], id);
        if (rc < 0)
            return fail(w, JS_ECORRUPT, "%s/%s: index is corrupt: a key "
                        "names section %u of %u", w->dir, r->file, id,
                        r->nsections);
        live += rc;
    }
    return live;
}

/* Deletes the documents of identity key (a record id, or a canonical
 * path) in the committed segments.  Returns the live documents deleted
 * or a negative code. */
static long delete_committed(js_lwriter *w, int by_path, const char *key)
{
    long docs = 0;
    for (uint32_t i = 0; i < nsegs(w); i++) {
        const js_reader *r = w->snap->segs[i].r;
        uint32_t lo, hi;
        int rc = by_path ? js_reader_find_file(r, key, &lo, &hi)
                         : js_reader_find_id(r, key, &lo, &hi);
        if (rc)
            return fail(w, rc, "%s/%s: index is corrupt: its keys", w->dir,
                        r->file);
        for (uint32_t e = lo; e < hi; e++) {
            uint32_t first, n, nd;
            if (by_path) {
                js_key_file f;
                if (js_keys_file(&r->keys, e, &f))
                    return fail(w, JS_ECORRUPT, "%s/%s: index is corrupt: "
                                "file entry %u", w->dir, r->file, e);
                first = f.first_section;
                n = f.nsections;
                nd = f.ndocs;
            } else {
                js_key_id k;
                if (js_keys_id(&r->keys, e, &k))
                    return fail(w, JS_ECORRUPT, "%s/%s: index is corrupt: "
                                "id entry %u", w->dir, r->file, e);
                first = k.first_section;
                n = k.nsections;
                nd = 1;
            }
            int was_live = n && !js_deletes_test(cur_dels(w, i), first);
            long live = mark(w, i, first, n);
            if (live < 0)
                return live;
            if (was_live)
                docs += nd;
            w->st.sections_deleted += (uint64_t)live;
        }
    }
    return docs;
}

/* The live file entry of a canonical path in the committed segments:
 * 1 and *out, or 0 when there is none.  intact: only an entry none of
 * whose sections is deleted (an update reads a file again whose records
 * were deleted or replaced one by one, to hold what the file says). */
static int find_file(js_lwriter *w, const char *path, int intact,
                     js_key_file *out)
{
    for (uint32_t i = nsegs(w); i-- > 0;) {
        const js_reader *r = w->snap->segs[i].r;
        uint32_t lo, hi;
        if (js_reader_find_file(r, path, &lo, &hi))
            continue;
        for (uint32_t e = hi; e-- > lo;) {
            js_key_file f;
            if (js_keys_file(&r->keys, e, &f))
                continue;
            /* live while any of its sections is: one of a JSON Lines
             * file's records may have been deleted by its id */
            uint32_t live = 0;
            for (uint32_t x = f.first_section;
                 x < f.first_section + f.nsections; x++)
                live += !js_deletes_test(cur_dels(w, i), x);
            if (live && (!intact || live == f.nsections)) {
                *out = f;
                return 1;
            }
            if (live)
                return 0;
        }
    }
    return 0;
}

/* ---- the new segment ---- */

static int seen_add(js_lwriter *w, const char *path)
{
    if (w->nseen == w->cap_seen) {
        size_t c = w->cap_seen ? 2 * w->cap_seen : 256;
        char **n = realloc(w->seen, c * sizeof *n);
        if (!n)
            return JS_ENOMEM;
        w->seen = n;
        w->cap_seen = c;
    }
    if (!(w->seen[w->nseen] = strdup(path)))
        return JS_ENOMEM;
    w->nseen++;
    return 0;
}

/* The builder's question before each file: during an update, whether
 * the file changed since it was indexed. */
static int on_filter(void *ctx, const js_key_file *f, int hashed)
{
    js_lwriter *w = ctx;
    if (!w->updating)
        return 0;
    if (!hashed && seen_add(w, f->path))
        return JS_ENOMEM;
    js_key_file old;
    if (!find_file(w, f->path, 1, &old))
        return 0;
    if (old.size == f->size && old.mtime_ns == f->mtime_ns) {
        w->st.unchanged++;
        return 1;
    }
    if (!hashed)
        return old.size == f->size ? 2 : 0;
    if (old.hash == f->hash) {
        w->st.unchanged++;
        return 1;
    }
    return 0;
}

static void on_unread(void *ctx, const js_key_file *f)
{
    js_lwriter *w = ctx;
    js_key_file old;
    if (find_file(w, f->path, 0, &old)) {
        w->st.kept++;
        warn(w, f->path, "could not be read: the indexed version is kept");
    }
}

/* Opens the new segment's builder at the first add. */
static int start_segment(js_lwriter *w)
{
    if (w->nb)
        return 0;
    js_build_options bo = JS_BUILD_OPTIONS_INIT;
    bo.memory_mib = w->o.memory_mib;
    bo.threads = w->o.threads;
    bo.format = w->o.format;
    bo.encoding = w->o.encoding;
    bo.include_hidden = w->o.include_hidden;
    bo.warn = w->o.warn;
    bo.warn_ctx = w->o.warn_ctx;
    bo.progress = w->o.progress;
    bo.progress_ctx = w->o.progress_ctx;
    bo.analyze_flags = nsegs(w) ? w->snap->segs[0].r->st.analyze_flags
                                : w->o.analyze_flags;
    js_manifest_new_segment(w->m, w->nb_name);
    js_nbuilder_hooks h = {on_filter, on_unread, w};
    int rc = js_nbuilder_open_segment(&w->nb, w->dir, w->nb_name, &bo, &h);
    if (rc) {
        sub_fail(w, rc, js_nbuilder_errmsg(w->nb));
        js_nbuilder_close(w->nb);
        w->nb = NULL;
    }
    return rc;
}

int js_lwriter_add(js_lwriter *w, const char *path, const char *name,
                   const void *data, size_t len)
{
    if (w->rc)
        return refuse(w);
    int rc = start_segment(w);
    if (rc)
        return rc;
    rc = js_nbuilder_add(w->nb, path, name, data, len);
    js_build_stats bs;
    js_nbuilder_get_stats(w->nb, &bs);
    w->st.ingest = bs.ingest;
    if (rc) {
        sub_fail(w, rc, js_nbuilder_errmsg(w->nb));
        if (rc != JS_ENOTFOUND && rc != JS_EIO)
            w->rc = rc;
    }
    return rc;
}

static int pend_delete(js_lwriter *w, int by_path, const char *key)
{
    if (!w->nb || !js_nbuilder_has_key(w->nb, by_path, key))
        return 0;
    if (w->npd == w->cap_pd) {
        size_t c = w->cap_pd ? 2 * w->cap_pd : 16;
        pend_del *n = realloc(w->pd, c * sizeof *n);
        if (!n)
            return fail(w, JS_ENOMEM, "out of memory");
        w->pd = n;
        w->cap_pd = c;
    }
    char *k = strdup(key);
    if (!k)
        return fail(w, JS_ENOMEM, "out of memory");
    w->pd[w->npd++] = (pend_del){by_path, k, js_nbuilder_documents(w->nb)};
    return 1;
}

int js_lwriter_remove(js_lwriter *w, int by_path, const char *key)
{
    if (w->rc)
        return refuse(w);
    long docs = delete_committed(w, by_path, key);
    if (docs < 0)
        return (int)docs;
    int pending = pend_delete(w, by_path, key);
    if (pending < 0)
        return pending;
    w->st.deleted += (uint64_t)docs;
    if (docs == 0 && !pending)
        return fail(w, JS_ENOTFOUND, "%s %s: no such document in the index",
                    by_path ? "path" : "id", key);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int js_lwriter_update(js_lwriter *w, const char *path)
{
    struct stat rst;
    /* a tree that is gone: what it was, to delete what it held */
    char *root = stat(path, &rst) == 0 ? js_fields_identity(path)
                                       : js_fields_identity_gone(path);
    if (!root)
        root = strdup(path);
    if (!root)
        return fail(w, JS_ENOMEM, "out of memory");
    w->updating = 1;
    size_t first_seen = w->nseen;
    struct stat st;
    int rc = 0;
    if (stat(path, &st) == 0)
        rc = js_lwriter_add(w, path, NULL, NULL, 0);
    w->updating = 0;
    if (rc) {
        free(root);
        return rc;
    }
    /* files under root the index holds and the walk did not meet */
    size_t nnew = w->nseen - first_seen;
    if (nnew)
        qsort(w->seen + first_seen, nnew, sizeof *w->seen, cmp_str);
    size_t rl = strlen(root);
    for (uint32_t i = 0; i < nsegs(w) && !rc; i++) {
        const js_reader *r = w->snap->segs[i].r;
        uint32_t e;
        if (js_keys_file_lower(&r->keys, root, rl, &e))
            return fail(w, JS_ECORRUPT, "%s/%s: index is corrupt: its keys",
                        w->dir, r->file);
        for (; e < r->keys.nfiles; e++) {
            js_key_file f;
            if (js_keys_file(&r->keys, e, &f))
                break;
            if (f.path_len < rl || memcmp(f.path, root, rl))
                break;
            if (f.path_len > rl && root[rl - 1] != '/' && f.path[rl] != '/')
                continue; /* /a/bc is not under /a/b */
            if (!f.nsections ||
                js_deletes_test(cur_dels(w, i), f.first_section))
                continue;
            char *p = strndup(f.path, f.path_len);
            if (!p)
                return fail(w, JS_ENOMEM, "out of memory");
            int met = nnew && bsearch(&p, w->seen + first_seen, nnew,
                                      sizeof *w->seen, cmp_str);
            if (!met) {
                long d = delete_committed(w, 1, p);
                if (d < 0)
                    rc = (int)d;
                else
                    w->st.deleted += (uint64_t)d;
            }
            free(p);
        }
    }
    free(root);
    return rc;
}

/* ---- commit ---- */

/* Removes every file of dir that m (NULL: none) does not name and that
 * belongs to a live index: segments, deletion sets, and index.jsi once
 * a manifest exists. */
static void cleanup(const char *dir, const js_manifest *m)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        int ours = !strncmp(n, "seg-", 4) ||
                   (m && !strcmp(n, JS_INDEX_FILE));
        if (!ours || (m && js_manifest_find(m, n) >= 0))
            continue;
        int named = 0;
        for (size_t i = 0; m && i < m->nsegments; i++)
            if (!strcmp(m->segments[i].deletes, n))
                named = 1;
        if (named)
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, n);
        unlink(p);
    }
    closedir(d);
}

void js_lwriter_drop_live(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/" JS_MANIFEST_FILE, dir);
    if (unlink(p) == 0) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY);
        if (fd >= 0) {
            fsync(fd);
            close(fd);
        }
    }
    cleanup(dir, NULL);
}

/* Within the new segment r: its ids and files against the committed
 * segments (replaced), its own repeats (the last one wins), and the
 * deletes asked for after its documents were added.  Marks into *own
 * (created when needed). */
static int replace_old(js_lwriter *w, const js_reader *r, js_deletes **own)
{
    const js_keys *k = &r->keys;
    for (int by_path = 0; by_path < 2; by_path++) {
        uint32_t n = by_path ? k->nfiles : k->nids;
        for (uint32_t e = 0; e < n; e++) {
            uint32_t first, cnt, doc, ndocs;
            char *key;
            if (by_path) {
                js_key_file f;
                if (js_keys_file(k, e, &f))
                    return fail(w, JS_ECORRUPT, "new segment: file entry %u",
                                e);
                key = strndup(f.path, f.path_len);
                first = f.first_section;
                cnt = f.nsections;
                doc = f.first_doc;
                ndocs = f.ndocs;
            } else {
                js_key_id id;
                js_doc_rec d;
                if (js_keys_id(k, e, &id) ||
                    js_reader_document(r, id.doc, &d))
                    return fail(w, JS_ECORRUPT, "new segment: id entry %u", e);
                key = strdup(d.id);
                first = id.first_section;
                cnt = id.nsections;
                doc = id.doc;
                ndocs = 1;
            }
            if (!key)
                return fail(w, JS_ENOMEM, "out of memory");
            long old = delete_committed(w, by_path, key);
            if (old < 0) {
                free(key);
                return (int)old;
            }
            /* documents are counted once: by their id, or (none) by
             * their file */
            uint32_t counted = by_path ? 0 : 1;
            for (uint32_t x = doc; by_path && x < doc + ndocs; x++) {
                js_doc_rec dr;
                counted += js_reader_document(r, x, &dr) == 0 && !dr.id[0];
            }
            if (old)
                w->st.replaced += counted;
            else
                w->st.added += counted;
            /* a later entry of the same key in this segment wins, and so
             * does a delete asked for after this document was added */
            int drop = 0;
            if (e + 1 < n) {
                if (by_path) {
                    js_key_file g;
                    drop = js_keys_file(k, e + 1, &g) == 0 &&
                           g.path_len == strlen(key) &&
                           !memcmp(g.path, key, g.path_len);
                } else {
                    js_key_id g;
                    js_doc_rec d2;
                    drop = js_keys_id(k, e + 1, &g) == 0 &&
                           js_reader_document(r, g.doc, &d2) == 0 &&
                           !strcmp(d2.id, key);
                }
            }
            for (size_t i = 0; i < w->npd && !drop; i++)
                drop = w->pd[i].by_path == by_path && doc < w->pd[i].docs &&
                       !strcmp(w->pd[i].key, key);
            free(key);
            if (!drop)
                continue;
            if (!*own && js_deletes_new(own, r->nsections))
                return fail(w, JS_ENOMEM, "out of memory");
            for (uint32_t s = first; s < first + cnt; s++)
                js_deletes_set(*own, s);
        }
    }
    return 0;
}

/* Writes segment name's deletion set d for generation gen into m (a set
 * that deletes everything drops the segment: returns 1). */
static int put_segment(js_lwriter *w, js_manifest *m, const char *name,
                       uint32_t sections, uint32_t docs, const js_deletes *d,
                       const char *old_name, uint64_t gen)
{
    uint32_t cnt = js_deletes_count(d);
    if (sections && cnt == sections)
        return 1;
    int rc = js_manifest_add_segment(m, name, sections, docs, w->err,
                                     sizeof w->err);
    if (rc || !cnt)
        return rc;
    char dn[JS_FILE_NAME_MAX + 1];
    if (old_name) {
        snprintf(dn, sizeof dn, "%s", old_name);
    } else {
        if ((rc = js_manifest_deletes_name(dn, name, gen)))
            return fail(w, rc, "%s: no deletion set name", name);
        if ((rc = js_deletes_write(w->dir, dn, d, w->err, sizeof w->err)))
            return rc;
    }
    return js_manifest_set_deletes(m, name, dn, cnt, w->err, sizeof w->err);
}

/* Publishes the next manifest: the committed segments from..to replaced
 * by (new_name, its reader nr and deletion set nd) when new_name is set
 * (a merge: at from; an add: at the end, from == to == nsegs). */
static int publish(js_lwriter *w, uint32_t from, uint32_t to,
                   const char *new_name, const js_reader *nr,
                   const js_deletes *nd)
{
    js_manifest *m = NULL;
    int rc = js_manifest_new(&m);
    if (rc)
        return fail(w, rc, "out of memory");
    uint64_t gen = w->m->generation + 1;
    m->generation = gen;
    m->next_segment = w->m->next_segment;
    for (uint32_t i = 0; i <= nsegs(w) && !rc; i++) {
        if (i == from && new_name)
            rc = put_segment(w, m, new_name, nr->nsections, nr->ndocs, nd,
                             NULL, gen);
        if (i == nsegs(w) || (i >= from && i < to) || rc < 0)
            continue;
        const js_manifest_segment *ms = &w->m->segments[i];
        rc = put_segment(w, m, ms->name, ms->sections, ms->documents,
                         cur_dels(w, i), w->dels[i] ? NULL : ms->deletes,
                         gen);
        if (rc == 1)
            rc = 0;
    }
    if (rc == 1)
        rc = 0;
    if (!rc)
        rc = js_manifest_write(w->dir, m, w->err, sizeof w->err);
    if (rc) {
        js_manifest_free(m);
        return rc;
    }
    w->st.generation = gen;
    w->st.segments = (uint32_t)m->nsegments;
    cleanup(w->dir, m);
    js_manifest_free(m);
    return 0;
}

/* Copies segment i's live sections into builder nb, with their
 * documents' identities. */
static int copy_segment(js_lwriter *w, js_nbuilder *nb, uint32_t i)
{
    const js_reader *r = w->snap->segs[i].r;
    const js_deletes *d = cur_dels(w, i);
    /* the file entry of each document */
    uint32_t *file_of = malloc(((size_t)r->ndocs + 1) * sizeof *file_of);
    if (!file_of)
        return fail(w, JS_ENOMEM, "out of memory");
    for (uint32_t x = 0; x < r->ndocs; x++)
        file_of[x] = UINT32_MAX;
    for (uint32_t e = 0; e < r->keys.nfiles; e++) {
        js_key_file f;
        if (js_keys_file(&r->keys, e, &f))
            continue;
        for (uint32_t x = f.first_doc; x < f.first_doc + f.ndocs; x++)
            file_of[x] = e; /* a later entry for the same documents wins */
    }
    js_store_cache cache = {0};
    char *bodyz = NULL; /* the body, NUL-terminated as ingest gives it */
    size_t bodyz_cap = 0;
    int rc = 0;
    uint32_t cur_file = UINT32_MAX - 1;
    js_doc_rec doc;
    js_document jd = {0};
    const char **path = NULL;
    size_t path_cap = 0;
    for (uint32_t id = 0; id < r->nsections && !rc; id++) {
        if (js_deletes_test(d, id))
            continue;
        js_section_rec rec;
        if ((rc = js_reader_section(r, id, &rec))) {
            fail(w, rc, "%s/%s: index is corrupt: section %u", w->dir,
                 r->file, id);
            break;
        }
        if (rec.ordinal == 0) {
            if ((rc = js_reader_document(r, rec.document, &doc))) {
                fail(w, rc, "%s/%s: index is corrupt: document %u", w->dir,
                     r->file, rec.document);
                break;
            }
            jd = (js_document){doc.source, doc.id[0] ? doc.id : NULL,
                               doc.title, doc.format, doc.encoding,
                               doc.metadata[0] ? doc.metadata : NULL};
            uint32_t fe = file_of[rec.document];
            if (fe != cur_file && fe != UINT32_MAX) {
                js_key_file f;
                if ((rc = js_keys_file(&r->keys, fe, &f)) ||
                    (rc = js_nbuilder_begin_file(nb, &f))) {
                    sub_fail(w, rc, js_nbuilder_errmsg(nb));
                    break;
                }
            }
            cur_file = fe;
        }
        const char *hp, *body, *sp;
        size_t hlen, blen, splen;
        char *ps = NULL;
        if ((rc = js_reader_headings(r, id, &hp, &hlen)) ||
            (rc = js_store_peek(r->store, &cache, id, &sp, &splen, &body,
                                &blen))) {
            fail(w, rc, "%s/%s: index is corrupt: the text of section %u",
                 w->dir, r->file, id);
            break;
        }
        if (blen + 1 > bodyz_cap) {
            char *nb2 = realloc(bodyz, blen + 1);
            if (!nb2) {
                rc = fail(w, JS_ENOMEM, "out of memory");
                break;
            }
            bodyz = nb2;
            bodyz_cap = blen + 1;
        }
        memcpy(bodyz, body, blen);
        bodyz[blen] = 0;
        body = bodyz;
        /* the heading path as ingest gave it: headings split at U+001F */
        size_t depth = 0;
        if (hlen) {
            if (!(ps = malloc(hlen + 1))) {
                rc = fail(w, JS_ENOMEM, "out of memory");
                break;
            }
            memcpy(ps, hp, hlen);
            ps[hlen] = 0;
            depth = 1;
            for (size_t x = 0; x < hlen; x++)
                depth += ps[x] == 0x1F;
            if (depth > path_cap) {
                const char **np = realloc(path, depth * sizeof *np);
                if (!np) {
                    free(ps);
                    rc = fail(w, JS_ENOMEM, "out of memory");
                    break;
                }
                path = np;
                path_cap = depth;
            }
            size_t k = 0;
            path[k++] = ps;
            for (size_t x = 0; x < hlen; x++)
                if (ps[x] == 0x1F) {
                    ps[x] = 0;
                    path[k++] = ps + x + 1;
                }
        }
        js_section s = {&jd, rec.ordinal,
                        depth ? path[depth - 1] : jd.title, path, depth,
                        body, blen, rec.start, rec.end};
        rc = js_nbuilder_add_section(nb, &s);
        free(ps);
        if (rc)
            sub_fail(w, rc, js_nbuilder_errmsg(nb));
    }
    free(path);
    free(bodyz);
    js_store_cache_free(&cache);
    free(file_of);
    return rc;
}

/* Merges committed segments [from, to) into one, purging what they
 * have deleted, and publishes the generation that names it. */
static int merge_range(js_lwriter *w, uint32_t from, uint32_t to)
{
    js_build_options bo = JS_BUILD_OPTIONS_INIT;
    bo.memory_mib = w->o.memory_mib;
    bo.threads = w->o.threads;
    bo.analyze_flags = w->snap->segs[0].r->st.analyze_flags;
    bo.block_size = w->snap->segs[0].r->st.block_size;
    bo.progress = w->o.progress; /* a long merge shows it, as index does */
    bo.progress_ctx = w->o.progress_ctx;
    char name[JS_FILE_NAME_MAX + 1];
    js_manifest_new_segment(w->m, name);
    js_nbuilder *nb = NULL;
    int rc = js_nbuilder_open_segment(&nb, w->dir, name, &bo, NULL);
    if (rc)
        sub_fail(w, rc, js_nbuilder_errmsg(nb));
    for (uint32_t i = from; i < to && !rc; i++)
        rc = copy_segment(w, nb, i);
    if (!rc && (rc = js_nbuilder_commit(nb)))
        sub_fail(w, rc, js_nbuilder_errmsg(nb));
    js_nbuilder_close(nb);
    js_reader *nr = NULL;
    if (!rc && (rc = js_reader_open_named(&nr, w->dir, name)))
        sub_fail(w, rc, js_reader_errmsg(nr));
    if (!rc && nr->nsections == 0) { /* everything was deleted */
        js_reader_close(nr);
        nr = NULL;
        rc = publish(w, from, to, NULL, NULL, NULL);
    } else if (!rc) {
        rc = publish(w, from, to, name, nr, NULL);
    }
    js_reader_close(nr);
    if (!rc) {
        w->st.merges++;
        rc = load(w);
    }
    return rc;
}

/* Tiered merging (Lucene's log policy): a segment's tier is the decimal
 * order of its live sections; merge_factor adjacent segments of one
 * tier are merged into one, until no such run is left.  Adjacent only,
 * so that sections keep the order a fresh build would give them. */
static int merge_tiers(js_lwriter *w)
{
    unsigned f = w->o.merge_factor ? w->o.merge_factor : 10;
    if (f < 2)
        return 0;
    for (;;) {
        uint32_t n = nsegs(w), run = 0;
        int tier = -1, found = 0;
        uint32_t at = 0;
        for (uint32_t i = 0; i < n && !found; i++) {
            const js_snap_seg *g = &w->snap->segs[i];
            uint64_t live = g->r->nsections - js_deletes_count(g->del);
            int t = 0;
            for (uint64_t x = live; x >= 10; x /= 10)
                t++;
            if (t == tier) {
                run++;
            } else {
                tier = t;
                run = 1;
            }
            if (run == f) {
                found = 1;
                at = i + 1 - f;
            }
        }
        if (!found)
            return 0;
        int rc = merge_range(w, at, at + f);
        if (rc)
            return rc;
    }
}

int js_lwriter_commit(js_lwriter *w)
{
    if (w->rc)
        return refuse(w);
    js_reader *nr = NULL;
    js_deletes *own = NULL;
    int rc = 0;
    int changed = 0;
    for (uint32_t i = 0; i < nsegs(w); i++)
        changed |= w->dels[i] != NULL;
    if (w->nb && js_nbuilder_documents(w->nb) == 0) {
        /* nothing was added (an update found every file unchanged) */
        js_nbuilder_close(w->nb);
        w->nb = NULL;
    }
    if (w->nb) {
        if ((rc = js_nbuilder_commit(w->nb)))
            sub_fail(w, rc, js_nbuilder_errmsg(w->nb));
        if (!rc) {
            js_build_stats bs;
            js_nbuilder_get_stats(w->nb, &bs);
            w->st.ingest = bs.ingest;
        }
        js_nbuilder_close(w->nb);
        w->nb = NULL;
        if (!rc && (rc = js_reader_open_named(&nr, w->dir, w->nb_name)))
            sub_fail(w, rc, js_reader_errmsg(nr));
        if (!rc)
            rc = replace_old(w, nr, &own);
        if (!rc && nr->nsections) {
            w->st.sections_added += nr->nsections;
            changed = 1;
        }
    }
    int legacy = w->m->generation == 0 && nsegs(w) > 0;
    if (!rc && (changed || legacy)) {
        int add = nr && nr->nsections > 0;
        rc = publish(w, nsegs(w), nsegs(w), add ? w->nb_name : NULL, nr, own);
    }
    js_reader_close(nr);
    js_deletes_free(own);
    if (!rc)
        rc = load(w);
    if (!rc)
        rc = merge_tiers(w);
    if (rc) {
        /* the manifest was not published (or was, and a merge failed
         * after it): either way the index is a whole generation; start
         * again from it */
        int lrc = load(w);
        if (lrc)
            w->rc = lrc;
        return rc;
    }
    w->st.segments = nsegs(w);
    return 0;
}

int js_lwriter_merge(js_lwriter *w, unsigned segments)
{
    int rc = js_lwriter_commit(w);
    if (rc)
        return rc;
    if (segments == 0)
        segments = 1;
    uint32_t n = nsegs(w);
    int dels = 0;
    for (uint32_t i = 0; i < n; i++)
        dels |= js_deletes_count(w->snap->segs[i].del) > 0;
    if (n == 0 || (n <= segments && !(segments == 1 && dels)))
        return 0;
    /* the adjacent window of n - segments + 1 segments with the fewest
     * live sections: one merge reaches the count asked for */
    uint32_t width = n >= segments ? n - segments + 1 : 1, best = 0;
    uint64_t best_live = UINT64_MAX;
    for (uint32_t i = 0; i + width <= n; i++) {
        uint64_t live = 0;
        for (uint32_t j = i; j < i + width; j++)
            live += w->snap->segs[j].r->nsections -
                    js_deletes_count(w->snap->segs[j].del);
        if (live < best_live) {
            best_live = live;
            best = i;
        }
    }
    rc = merge_range(w, best, best + width);
    if (!rc)
        w->st.segments = nsegs(w);
    return rc;
}

int js_lwriter_open(js_lwriter **out, const char *dir,
                    const js_writer_options *opts)
{
    js_lwriter *w = calloc(1, sizeof *w);
    *out = w;
    if (!w)
        return JS_ENOMEM;
    w->lock_fd = -1;
    w->o = *opts;
    if (w->o.memory_mib == 0)
        w->o.memory_mib = 512;
    js_fields_clock_start(&w->clock);
    if (!(w->dir = strdup(dir)))
        return fail(w, JS_ENOMEM, "out of memory");
    int fd = js_dir_lock_wait(dir, w->o.wait, w->err, sizeof w->err);
    if (fd < 0)
        return w->rc = fd;
    w->lock_fd = fd;
    char p[4096];
    snprintf(p, sizeof p, "%s/" JS_MANIFEST_FILE, dir);
    if (access(p, F_OK) != 0)
        cleanup(dir, NULL); /* segments of a first commit that died */
    int rc = load(w);
    if (rc)
        w->rc = rc; /* a writer that could not open takes no call */
    else if (w->m->generation)
        cleanup(dir, w->m);
    w->st.segments = nsegs(w);
    w->st.generation = w->m ? w->m->generation : 0;
    return rc;
}

void js_lwriter_close(js_lwriter *w)
{
    if (!w)
        return;
    drop_pending(w);
    free(w->dels);
    free(w->pd);
    free(w->seen);
    js_snap_release(w->snap);
    js_manifest_free(w->m);
    free(w->dir);
    if (w->lock_fd >= 0)
        close(w->lock_fd);
    free(w);
}
