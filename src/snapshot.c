/*
 * snapshot.c — opening one generation of a native index (snapshot.h).
 *
 * In:  DIR/manifest.jsm with its segments and deletion sets, or
 *      DIR/index.jsi alone.
 * Out: a js_snap: readers, deletion sets, live statistics, stats for
 *      `jiansuo stats`, check and preload over every segment.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codec.h" /* js_norm_avg */
#include "error.h"
#include "file.h"
#include "manifest.h"
#include "results.h"
#include "snapshot.h"

/* How often an open starts again because a writer removed a file the
 * manifest it read named: a writer must commit and clean up that many
 * times during one open for it to fail. */
#define OPEN_TRIES 20

void js_snap_release(js_snap *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (uint32_t i = 0; i < s->nsegs; i++) {
        js_reader_close(s->segs[i].r);
        js_deletes_free(s->segs[i].del);
    }
    free(s->segs);
    if (s->seg_stats)
        for (uint32_t i = 0; i < s->nsegs; i++)
            free((char *)s->seg_stats[i].name);
    free(s->seg_stats);
    free(s->build_info);
    free(s->dir);
    free(s);
}

static uint64_t file_size(const char *dir, const char *name)
{
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* The live statistics and the stats of s, from its open segments. */
static int sum_up(js_snap *s, const js_manifest *m, char *err, size_t errlen)
{
    if (!(s->seg_stats = calloc(s->nsegs ? s->nsegs : 1, sizeof *s->seg_stats)))
        return js_error_set(err, errlen, JS_ENOMEM, "out of memory");
    js_index_stats *st = &s->st;
    uint64_t base = 0, live = 0;
    for (uint32_t i = 0; i < s->nsegs; i++) {
        js_snap_seg *g = &s->segs[i];
        const js_reader *r = g->r;
        if (base + r->nsections > UINT32_MAX)
            return js_error_set(err, errlen, JS_ELIMIT, "%s: more than %u "
                                "sections in all segments", s->dir,
                                UINT32_MAX - 1);
        g->base = (uint32_t)base;
        g->live_base = live;
        base += r->nsections;
        uint64_t bu = r->st.body_units, hu = r->st.heading_units;
        uint32_t dels = js_deletes_count(g->del);
        uint64_t docs_deleted = 0;
        if (dels) {
            for (uint32_t id = js_deletes_next(g->del, 0); id != UINT32_MAX;
                 id = js_deletes_next(g->del, id + 1)) {
                uint32_t lb, lh;
                js_reader_section_lens(r, id, &lb, &lh);
                bu -= lb;
                hu -= lh;
                js_section_rec rec;
                if (js_reader_section(r, id, &rec) == 0 && rec.ordinal == 0)
                    docs_deleted++;
            }
        }
        live += r->nsections - dels;
        s->body_units += bu;
        s->head_units += hu;
        s->documents += r->ndocs - docs_deleted;
        if (i == 0) {
            *st = r->st;
            memset(st->part_bytes, 0, sizeof st->part_bytes);
            st->terms = st->postings = st->positions = 0;
            st->source_bytes = st->text_bytes = st->file_bytes = 0;
        }
        st->terms += r->st.terms;
        st->postings += r->st.postings;
        st->positions += r->st.positions;
        st->source_bytes += r->st.source_bytes;
        st->text_bytes += r->st.text_bytes;
        for (int k = 0; k < 16; k++)
            st->part_bytes[k] += r->st.part_bytes[k];
        js_index_segment *ss = &s->seg_stats[i];
        if (!(ss->name = strdup(r->file)))
            return js_error_set(err, errlen, JS_ENOMEM, "out of memory");
        ss->sections = r->nsections;
        ss->deleted = dels;
        ss->documents = r->ndocs;
        ss->bytes = file_size(s->dir, r->file);
        if (m && m->segments[i].deletes[0])
            ss->bytes += file_size(s->dir, m->segments[i].deletes);
        st->file_bytes += ss->bytes;
        st->deleted_sections += dels;
    }
    s->sections = live;
    if (s->nsegs) {
        const js_reader *last = s->segs[s->nsegs - 1].r;
        if (!(s->build_info = strdup(last->build_info ? last->build_info : "{}")))
            return js_error_set(err, errlen, JS_ENOMEM, "out of memory");
    }
    if (!s->nsegs)
        st->format_version = JS_FORMAT_VERSION;
    st->build_info = s->build_info ? s->build_info : "{}";
    st->documents = s->documents;
    st->sections = s->sections;
    st->body_units = s->body_units;
    st->heading_units = s->head_units;
    st->backend = JS_BACKEND_NATIVE;
    st->shards = 1;
    st->generation = s->generation;
    st->segments = s->nsegs;
    st->segment = s->seg_stats;
    return 0;
}

/* A segment's open failed: its reader's message, or (no reader, no
 * message: out of memory) one of ours. */
static int reader_failed(const js_reader *r, int rc, const char *dir,
                         char *err, size_t errlen)
{
    const char *m = js_reader_errmsg(r);
    if (m && m[0])
        snprintf(err, errlen, "%s", m);
    else
        js_error_set(err, errlen, rc, "%s: %s", dir, js_strerror(rc));
    return rc;
}

/* Opens index.jsi alone as a one-segment snapshot. */
static int open_single(js_snap *s, char *err, size_t errlen)
{
    if (!(s->segs = calloc(1, sizeof *s->segs)))
        return js_error_set(err, errlen, JS_ENOMEM, "out of memory");
    s->nsegs = 1;
    int rc = js_reader_open(&s->segs[0].r, s->dir);
    if (rc)
        return reader_failed(s->segs[0].r, rc, s->dir, err, errlen);
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/" JS_INDEX_FILE, s->dir);
    if (stat(p, &st) == 0) {
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        s->size = (uint64_t)st.st_size;
        s->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    }
    return sum_up(s, NULL, err, errlen);
}

/* Opens the segments m names.  Returns 0, JS_EAGAIN-like 1 when a file
 * vanished (a writer cleaned up: start again), or a negative code. */
/* The open reader of segment `name` in snapshot from, with one more
 * reference, or NULL. */
static js_reader *shared_reader(const js_snap *from, const char *name)
{
    for (uint32_t i = 0; from && i < from->nsegs; i++) {
        js_reader *r = from->segs[i].r;
        if (r && r->file && !strcmp(r->file, name))
            return js_reader_ref(r);
    }
    return NULL;
}

static int open_manifest(js_snap *s, const js_manifest *m,
                         const js_snap *from, char *err, size_t errlen)
{
    s->live = 1;
    s->generation = m->generation;
    if (m->nsegments && !(s->segs = calloc(m->nsegments, sizeof *s->segs)))
        return js_error_set(err, errlen, JS_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->nsegments; i++) {
        const js_manifest_segment *ms = &m->segments[i];
        js_snap_seg *g = &s->segs[i];
        s->nsegs = (uint32_t)i + 1;
        int rc = 0;
        if (!(g->r = shared_reader(from, ms->name)))
            rc = js_reader_open_named(&g->r, s->dir, ms->name);
        if (rc == JS_ENOTFOUND)
            return 1;
        if (rc)
            return reader_failed(g->r, rc, s->dir, err, errlen);
        if (g->r->nsections != ms->sections || g->r->ndocs != ms->documents)
            return js_error_set(err, errlen, JS_ECORRUPT,
                                "%s/%s: index is corrupt: the manifest says "
                                "%u sections and %u documents, the segment "
                                "holds %u and %u", s->dir, ms->name,
                                ms->sections, ms->documents, g->r->nsections,
                                g->r->ndocs);
        if (ms->deletes[0]) {
            rc = js_deletes_read(s->dir, ms->deletes, ms->sections, &g->del,
                                 err, errlen);
            if (rc == JS_ENOTFOUND)
                return 1;
            if (rc)
                return rc;
            if (g->del->count != ms->deleted)
                return js_error_set(err, errlen, JS_ECORRUPT,
                                    "%s/%s: index is corrupt: it marks %u "
                                    "sections deleted, the manifest says %u",
                                    s->dir, ms->deletes, g->del->count,
                                    ms->deleted);
        }
    }
    return sum_up(s, m, err, errlen);
}

int js_snap_open_manifest(js_snap **out, const char *dir,
                          const js_manifest *m, const js_snap *from,
                          char *err, size_t errlen)
{
    *out = NULL;
    js_snap *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir))) {
        free(s);
        return js_error_set(err, errlen, JS_ENOMEM, "out of memory");
    }
    atomic_init(&s->refs, 1);
    int rc = open_manifest(s, m, from, err, errlen);
    if (rc) {
        js_snap_release(s);
        return rc;
    }
    *out = s;
    return 0;
}

int js_snap_open(js_snap **out, const char *dir, const js_snap *from,
                 char *err, size_t errlen)
{
    *out = NULL;
    for (int tries = 0;; tries++) {
        js_snap *s = calloc(1, sizeof *s);
        if (!s || !(s->dir = strdup(dir))) {
            free(s);
            return js_error_set(err, errlen, JS_ENOMEM, "out of memory");
        }
        atomic_init(&s->refs, 1);
        js_manifest *m = NULL;
        int rc = js_manifest_read(dir, &m, err, errlen);
        if (rc == JS_ENOTFOUND)
            rc = open_single(s, err, errlen);
        else if (rc == 0)
            rc = open_manifest(s, m, from, err, errlen);
        js_manifest_free(m);
        if (rc == 0) {
            *out = s;
            return 0;
        }
        js_snap_release(s);
        if (rc < 0)
            return rc;
        if (tries == OPEN_TRIES)
            return js_error_set(err, errlen, JS_EIO, "%s: the index kept "
                                "changing while it was being opened", dir);
    }
}

int js_snap_current(const js_snap *s)
{
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/" JS_MANIFEST_FILE, s->dir);
    if (stat(p, &st) == 0) {
        if (!s->live)
            return 0;
        char err[256];
        js_manifest *m = NULL;
        if (js_manifest_read(s->dir, &m, err, sizeof err))
            return 1; /* unreadable now: keep what we have */
        int same = m->generation == s->generation;
        js_manifest_free(m);
        return same;
    }
    if (s->live)
        return 0; /* rebuilt as index.jsi */
    snprintf(p, sizeof p, "%s/" JS_INDEX_FILE, s->dir);
    if (stat(p, &st) != 0)
        return 1;
    return (uint64_t)st.st_dev == s->dev && (uint64_t)st.st_ino == s->ino &&
           (uint64_t)st.st_size == s->size &&
           (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec ==
               s->mtime_ns;
}

int js_snap_check(js_snap *s, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < s->nsegs; i++) {
        int rc = js_reader_check(s->segs[i].r);
        if (rc) {
            snprintf(err, errlen, "%s", js_reader_errmsg(s->segs[i].r));
            return rc;
        }
    }
    return 0;
}

int js_snap_preload(js_snap *s, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < s->nsegs; i++) {
        int rc = js_reader_preload(s->segs[i].r);
        if (rc) {
            snprintf(err, errlen, "%s", js_reader_errmsg(s->segs[i].r));
            return rc;
        }
    }
    return 0;
}

/* ---- the native js_index ---- */

struct js_nindex {
    pthread_mutex_t mu; /* guards cur */
    js_snap *cur;
    char *dir;
    char err[1024];
};

int js_nindex_open(js_nindex **out, const char *dir)
{
    js_nindex *ix = calloc(1, sizeof *ix);
    *out = ix;
    if (!ix)
        return JS_ENOMEM;
    if (pthread_mutex_init(&ix->mu, NULL)) {
        free(ix);
        *out = NULL;
        return JS_ENOMEM;
    }
    if (!(ix->dir = strdup(dir)))
        return js_error_set(ix->err, sizeof ix->err, JS_ENOMEM,
                            "out of memory");
    return js_snap_open(&ix->cur, dir, NULL, ix->err, sizeof ix->err);
}

void js_nindex_close(js_nindex *ix)
{
    if (!ix)
        return;
    js_snap_release(ix->cur);
    pthread_mutex_destroy(&ix->mu);
    free(ix->dir);
    free(ix);
}

const char *js_nindex_errmsg(const js_nindex *ix) { return ix ? ix->err : ""; }

/* The current snapshot, referenced (release it), or NULL. */
static js_snap *take(js_nindex *ix)
{
    pthread_mutex_lock(&ix->mu);
    js_snap *s = ix->cur ? js_snap_ref(ix->cur) : NULL;
    pthread_mutex_unlock(&ix->mu);
    return s;
}

int js_nindex_search(js_results **out, js_nindex *ix, const char *query,
                     size_t len, const js_search_options *opts)
{
    js_snap *s = take(ix);
    if (!s) {
        js_results *r = js_results_new();
        *out = r;
        return r ? js_results_fail(r, JS_EINVALID, "no open index") : JS_ENOMEM;
    }
    int rc = js_snap_search(out, s, query, len, opts);
    js_snap_release(s);
    return rc;
}

int js_nindex_get_stats(const js_nindex *ix, js_index_stats *out)
{
    if (!ix->cur)
        return JS_EINVALID;
    *out = ix->cur->st; /* the caller's thread is the one that refreshes */
    return 0;
}

int js_nindex_check(js_nindex *ix)
{
    js_snap *s = take(ix);
    if (!s)
        return JS_EINVALID;
    ix->err[0] = 0;
    int rc = js_snap_check(s, ix->err, sizeof ix->err);
    js_snap_release(s);
    return rc;
}

int js_nindex_preload(js_nindex *ix)
{
    js_snap *s = take(ix);
    if (!s)
        return JS_EINVALID;
    int rc = js_snap_preload(s, ix->err, sizeof ix->err);
    js_snap_release(s);
    return rc;
}

int js_nindex_refresh(js_nindex *ix)
{
    js_snap *old = take(ix);
    if (old && js_snap_current(old)) {
        js_snap_release(old);
        return 0;
    }
    js_snap *s = NULL;
    /* the segments the old snapshot shares with the new one are not
     * opened again: after a commit, only the new segment is */
    int rc = js_snap_open(&s, ix->dir, old, ix->err, sizeof ix->err);
    if (rc) {
        js_snap_release(old);
        return rc;
    }
    int moved = !old || s->live != old->live ||
                s->generation != old->generation || !s->live;
    pthread_mutex_lock(&ix->mu);
    js_snap *prev = ix->cur;
    ix->cur = s;
    pthread_mutex_unlock(&ix->mu);
    js_snap_release(prev); /* searches holding it keep it alive */
    js_snap_release(old);
    return moved;
}
