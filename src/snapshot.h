/*
 * snapshot.h — one generation of a native index, as searches see it
 * (snapshot.c; format: index/FORMAT.md, "Live indexes").
 *
 * In:  an index directory: DIR/manifest.jsm and the segments and
 *      deletion sets it names, or DIR/index.jsi alone (an index built
 *      once: one segment, nothing deleted).
 * Out: a reference-counted snapshot: the segments' readers in order,
 *      their deletion sets, the statistics of the live sections (what
 *      BM25 scores with), and js_snap_search over all of it; the native
 *      js_index (src/backend.c) holds the newest and moves to the next
 *      one on js_index_refresh.
 *
 * A snapshot never changes once open, so any number of threads search
 * it at once.  Its files stay readable however the writer cleans up: a
 * mapped file removed from the directory lives until unmapped (Linux),
 * and a file removed between reading the manifest and opening it makes
 * the open start again from the newest manifest.
 */
#ifndef JS_SNAPSHOT_H
#define JS_SNAPSHOT_H

#include <stdatomic.h>
#include <stdint.h>

#include "deletes.h"
#include "jiansuo.h"
#include "reader.h"

typedef struct js_snap_seg {
    js_reader *r;
    js_deletes *del;   /* NULL: nothing deleted */
    uint32_t base;     /* the snapshot-wide id of its section 0 */
    uint64_t live_base; /* live sections in the segments before */
} js_snap_seg;

typedef struct js_snap {
    atomic_int refs;
    char *dir;
    int live;          /* 1: from a manifest */
    uint64_t generation;
    /* index.jsi alone: its identity, for js_snap_current */
    uint64_t dev, ino, size;
    int64_t mtime_ns;
    uint32_t nsegs;
    js_snap_seg *segs;
    uint64_t sections, documents, body_units, head_units; /* live */
    js_index_stats st;
    js_index_segment *seg_stats;
    char *build_info;
} js_snap;

/* Opens the newest generation of dir, sharing the readers of the
 * segments it has in common with snapshot `from` (may be NULL) rather
 * than opening them again.  Returns 0 and *out (one reference), or
 * JS_ENOTFOUND (no index), JS_ECORRUPT, JS_EVERSION, JS_EIO, JS_ENOMEM
 * with a message in err. */
int js_snap_open(js_snap **out, const char *dir, const js_snap *from,
                 char *err, size_t errlen);

struct js_manifest;
/* The snapshot of manifest m of dir (for its writer, which holds the
 * lock, so that nothing m names can vanish), sharing from's readers as
 * js_snap_open does.  Returns 0 and *out, 1 when a file m names is
 * missing, or a negative code with a message in err. */
int js_snap_open_manifest(js_snap **out, const char *dir,
                          const struct js_manifest *m, const js_snap *from,
                          char *err, size_t errlen);

/* Takes one more reference. */
static inline js_snap *js_snap_ref(js_snap *s)
{
    atomic_fetch_add(&s->refs, 1);
    return s;
}

/* Drops a reference; the last one frees the snapshot.  NULL is fine. */
void js_snap_release(js_snap *s);

/* 1 when s is still dir's newest generation, 0 when a newer one exists
 * (or the index was rebuilt), by the manifest or index.jsi alone. */
int js_snap_current(const js_snap *s);

/* js_search over s.  With one segment and nothing deleted it is the
 * segment's own search (js_reader_search: the same results, champion
 * lists and all); else every segment's, scored with the live sections'
 * statistics, deleted sections passed over, the best kept across all. */
int js_snap_search(js_results **out, js_snap *s, const char *query,
                   size_t len, const js_search_options *opts);

/* Checks every segment and names the first problem.  Returns 0 or a
 * negative code with a message in err. */
int js_snap_check(js_snap *s, char *err, size_t errlen);

/* Reads every segment into memory (js_reader_preload). */
int js_snap_preload(js_snap *s, char *err, size_t errlen);

/* ---- the native js_index: the newest snapshot, swapped on refresh ---- */

typedef struct js_nindex js_nindex;

/* The native side of js_index_open, _close, _errmsg, _get_stats, _check,
 * _preload, js_search and js_index_refresh (contracts in jiansuo.h).  A
 * search takes a reference to the current snapshot under a mutex held
 * only for that, so refresh never waits for searches nor they for it. */
int js_nindex_open(js_nindex **out, const char *dir);
void js_nindex_close(js_nindex *ix);
const char *js_nindex_errmsg(const js_nindex *ix);
int js_nindex_search(js_results **out, js_nindex *ix, const char *query,
                     size_t len, const js_search_options *opts);
int js_nindex_get_stats(const js_nindex *ix, js_index_stats *out);
int js_nindex_check(js_nindex *ix);
int js_nindex_preload(js_nindex *ix);
int js_nindex_refresh(js_nindex *ix);

#endif /* JS_SNAPSHOT_H */
