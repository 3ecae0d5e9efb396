/*
 * keys.c — a segment's identities: the KEYS part written and read (see
 * keys.h; layout in index/FORMAT.md, part 12).
 *
 * In:  ids and files from the builder; the part's bytes from a reader.
 * Out: the sorted part; checked entries.
 */
#include "config.h"

#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h" /* js_crc32_more */
#include "keys.h"

#define ID_REC 12
#define FILE_REC 56

void js_keys_hash_init(js_keys_hasher *h)
{
    h->crc = 0;
    h->adler = 1;
}

void js_keys_hash_more(js_keys_hasher *h, const void *p, size_t n)
{
    h->crc = js_crc32_more(h->crc, p, n);
    h->adler = libdeflate_adler32(h->adler, p, n);
}

uint64_t js_keys_hash_end(const js_keys_hasher *h)
{
    return (uint64_t)h->crc << 32 | h->adler;
}

/* ---- writing ---- */

typedef struct id_ent {
    char *id;
    js_key_id e;
} id_ent;

typedef struct file_ent {
    char *path;
    js_key_file f;
} file_ent;

struct js_keys_writer {
    id_ent *ids;
    size_t nids, cap_ids;
    file_ent *files;
    size_t nfiles, cap_files;
};

js_keys_writer *js_keys_writer_new(void)
{
    return calloc(1, sizeof(js_keys_writer));
}

void js_keys_writer_free(js_keys_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nids; i++)
        free(w->ids[i].id);
    for (size_t i = 0; i < w->nfiles; i++)
        free(w->files[i].path);
    free(w->ids);
    free(w->files);
    free(w);
}

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 256;
    void *q = realloc(*p, c * size);
    if (!q)
        return JS_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

int js_keys_add_id(js_keys_writer *w, const char *id, const js_key_id *e)
{
    if (grow((void **)&w->ids, &w->cap_ids, w->nids, sizeof *w->ids))
        return JS_ENOMEM;
    char *c = strdup(id);
    if (!c)
        return JS_ENOMEM;
    w->ids[w->nids].id = c;
    w->ids[w->nids++].e = *e;
    return 0;
}

int js_keys_add_file(js_keys_writer *w, const js_key_file *f)
{
    if (grow((void **)&w->files, &w->cap_files, w->nfiles, sizeof *w->files))
        return JS_ENOMEM;
    char *c = malloc(f->path_len + 1);
    if (!c)
        return JS_ENOMEM;
    memcpy(c, f->path, f->path_len);
    c[f->path_len] = 0;
    file_ent *e = &w->files[w->nfiles++];
    e->path = c;
    e->f = *f;
    e->f.path = c;
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    const id_ent *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->e.doc > y->e.doc) - (x->e.doc < y->e.doc);
}

static int cmp_file(const void *a, const void *b)
{
    const file_ent *x = a, *y = b;
    size_t n = x->f.path_len < y->f.path_len ? x->f.path_len : y->f.path_len;
    int c = memcmp(x->path, y->path, n);
    if (!c)
        c = (x->f.path_len > y->f.path_len) - (x->f.path_len < y->f.path_len);
    return c ? c
             : (x->f.first_doc > y->f.first_doc) -
                   (x->f.first_doc < y->f.first_doc);
}

int js_keys_encode(js_keys_writer *w, js_buf *out)
{
    if (w->nids > UINT32_MAX || w->nfiles > UINT32_MAX)
        return JS_ENOMEM;
    if (w->nids)
        qsort(w->ids, w->nids, sizeof *w->ids, cmp_id);
    if (w->nfiles)
        qsort(w->files, w->nfiles, sizeof *w->files, cmp_file);
    js_buf_u32(out, (uint32_t)w->nids);
    js_buf_u32(out, (uint32_t)w->nfiles);
    for (size_t i = 0; i < w->nids; i++) {
        js_buf_u32(out, w->ids[i].e.doc);
        js_buf_u32(out, w->ids[i].e.first_section);
        js_buf_u32(out, w->ids[i].e.nsections);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->nfiles; i++) {
        const js_key_file *f = &w->files[i].f;
        js_buf_u64(out, off);
        js_buf_u32(out, (uint32_t)f->path_len);
        js_buf_u32(out, f->first_doc);
        js_buf_u32(out, f->ndocs);
        js_buf_u32(out, f->first_section);
        js_buf_u32(out, f->nsections);
        js_buf_u32(out, 0); /* reserved */
        js_buf_u64(out, f->size);
        js_buf_u64(out, (uint64_t)f->mtime_ns);
        js_buf_u64(out, f->hash);
        off += f->path_len;
    }
    js_buf_u64(out, off);
    for (size_t i = 0; i < w->nfiles; i++)
        js_buf_put(out, w->files[i].path, w->files[i].f.path_len);
    return out->oom ? JS_ENOMEM : 0;
}

/* ---- reading ---- */

int js_keys_open(js_keys *k, const uint8_t *p, uint64_t len, uint32_t ndocs,
                 uint32_t nsections)
{
    memset(k, 0, sizeof *k);
    js_rd r = js_rd_make(p, len);
    k->nids = js_rd_u32(&r);
    k->nfiles = js_rd_u32(&r);
    if (r.bad)
        return JS_ECORRUPT;
    uint64_t need = (uint64_t)k->nids * ID_REC + (uint64_t)k->nfiles * FILE_REC;
    if (need > js_rd_left(&r) || k->nids > ndocs)
        return JS_ECORRUPT;
    k->ids = js_rd_bytes(&r, (size_t)k->nids * ID_REC);
    k->files = js_rd_bytes(&r, (size_t)k->nfiles * FILE_REC);
    k->strs_len = js_rd_u64(&r);
    if (r.bad || k->strs_len != js_rd_left(&r))
        return JS_ECORRUPT;
    k->strs = r.p;
    k->ndocs = ndocs;
    k->nsections = nsections;
    return 0;
}

/* Whether [first, first + n) lies within [0, max). */
static int in_range(uint32_t first, uint32_t n, uint32_t max)
{
    return first <= max && n <= max - first;
}

int js_keys_id(const js_keys *k, uint32_t i, js_key_id *out)
{
    if (i >= k->nids)
        return JS_ECORRUPT;
    js_rd r = js_rd_make(k->ids + (size_t)i * ID_REC, ID_REC);
    out->doc = js_rd_u32(&r);
    out->first_section = js_rd_u32(&r);
    out->nsections = js_rd_u32(&r);
    if (out->doc >= k->ndocs ||
        !in_range(out->first_section, out->nsections, k->nsections))
        return JS_ECORRUPT;
    return 0;
}

int js_keys_file(const js_keys *k, uint32_t i, js_key_file *out)
{
    if (i >= k->nfiles)
        return JS_ECORRUPT;
    js_rd r = js_rd_make(k->files + (size_t)i * FILE_REC, FILE_REC);
    uint64_t off = js_rd_u64(&r);
    uint32_t plen = js_rd_u32(&r);
    out->first_doc = js_rd_u32(&r);
    out->ndocs = js_rd_u32(&r);
    out->first_section = js_rd_u32(&r);
    out->nsections = js_rd_u32(&r);
    (void)js_rd_u32(&r);
    out->size = js_rd_u64(&r);
    out->mtime_ns = (int64_t)js_rd_u64(&r);
    out->hash = js_rd_u64(&r);
    if (off > k->strs_len || plen > k->strs_len - off ||
        !in_range(out->first_doc, out->ndocs, k->ndocs) ||
        !in_range(out->first_section, out->nsections, k->nsections))
        return JS_ECORRUPT;
    out->path = (const char *)k->strs + off;
    out->path_len = plen;
    return 0;
}

static int cmp_path(const js_key_file *f, const char *p, size_t len)
{
    size_t n = f->path_len < len ? f->path_len : len;
    int c = memcmp(f->path, p, n);
    return c ? c : (f->path_len > len) - (f->path_len < len);
}

int js_keys_file_lower(const js_keys *k, const char *path, size_t len,
                       uint32_t *out)
{
    uint32_t lo = 0, hi = k->nfiles;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        js_key_file f;
        if (js_keys_file(k, mid, &f))
            return JS_ECORRUPT;
        if (cmp_path(&f, path, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *out = lo;
    return 0;
}

int js_keys_writer_has(const js_keys_writer *w, int by_path, const char *key)
{
    if (by_path) {
        size_t n = strlen(key);
        for (size_t i = 0; i < w->nfiles; i++)
            if (w->files[i].f.path_len == n && !memcmp(w->files[i].path, key, n))
                return 1;
        return 0;
    }
    for (size_t i = 0; i < w->nids; i++)
        if (!strcmp(w->ids[i].id, key))
            return 1;
    return 0;
}
