/*
 * champ.c — champion lists (champ.h; format: index/FORMAT.md, part 10).
 *
 * In:  a term's sections in id order with their frequencies and lengths
 *      (builder.c while merging, reader.c's check when recomputing).
 * Out: list records and the part's header; on the reader's side the
 *      part opened and a list decoded, trusting nothing.
 *
 * During the builder's merge (js_champ_merge_*), terms come in byte
 * order, so every heading term (0x01 first) comes before any body term.
 * A heading term's entries are kept in a temporary file; a body term of
 * df >= min df reads its heading twin back from it, the two walked
 * together in id order, every section ranked by its t in both fields.
 * This runs on the merging thread while the terms worker encodes and
 * writes the postings.  (Measured on chinese-poetry: running it on the
 * worker instead, or on a third thread between the two, did not shorten
 * the merge, which keeps both cores busy either way.)
 */
#include "config.h"

#include "champ.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <zlib.h> /* crc32_combine */

#include "codec.h"
#include "spool.h"

/* a ranks below b: smaller t, or the same t and a larger id */
static int worse(const js_champ_item *a, const js_champ_item *b)
{
    return a->t < b->t || (a->t == b->t && a->id > b->id);
}

int js_champ_ranker_init(js_champ_ranker *r, uint32_t size, double b,
                         double w, double avg_b, double avg_h)
{
    memset(r, 0, sizeof *r);
    if (size == 0 || size > JS_CHAMP_MAX_SIZE)
        return JS_EINVALID;
    if (!(r->heap = malloc((size_t)size * sizeof *r->heap)))
        return JS_ENOMEM;
    r->size = size;
    r->b = b;
    r->w = w;
    r->avg_b = avg_b;
    r->avg_h = avg_h;
    return 0;
}

void js_champ_ranker_reset(js_champ_ranker *r)
{
    r->n = 0;
    r->sections = 0;
    r->last_id = 0;
}

static void sift_down(js_champ_item *h, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, rr = l + 1, m = i;
        if (l < n && worse(&h[l], &h[m]))
            m = l;
        if (rr < n && worse(&h[rr], &h[m]))
            m = rr;
        if (m == i)
            return;
        js_champ_item t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

int js_champ_ranker_add(js_champ_ranker *r, uint32_t id, uint32_t tb,
                        uint32_t lb, uint32_t th, uint32_t lh)
{
    if (r->sections && id <= r->last_id)
        return JS_EINVALID;
    r->last_id = id;
    r->sections++;
    js_champ_item it = {
        js_bm25f_t(r->b, r->w, r->avg_b, r->avg_h, tb, lb, th, lh), id, tb,
        th};
    if (r->n < r->size) {
        uint32_t i = r->n++;
        r->heap[i] = it;
        while (i > 0) {
            uint32_t p = (i - 1) / 2;
            if (!worse(&r->heap[i], &r->heap[p]))
                break;
            js_champ_item t = r->heap[i];
            r->heap[i] = r->heap[p];
            r->heap[p] = t;
            i = p;
        }
    } else if (worse(&r->heap[0], &it)) {
        /* ids come in increasing order, so an equal t never displaces */
        r->heap[0] = it;
        sift_down(r->heap, r->n, 0);
    }
    return 0;
}

static int by_id(const void *a, const void *b)
{
    const js_champ_item *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

int js_champ_ranker_encode(js_champ_ranker *r, js_buf *out)
{
    if (r->n == 0)
        return JS_EINVALID;
    js_champ_item *h = r->heap;
    qsort(h, r->n, sizeof *h, by_id);
    uint32_t v[3 * JS_CHAMP_MAX_SIZE];
    for (uint32_t i = 0; i < r->n; i++) {
        v[i] = h[i].id;
        v[r->n + i] = h[i].tb;
        v[2 * r->n + i] = h[i].th;
    }
    js_buf data = JS_BUF_INIT;
    int rc = js_svb_put(&data, v, r->n, JS_SVB_DELTA, 0);
    if (!rc)
        rc = js_svb_put(&data, v + r->n, 2 * r->n, JS_SVB_0124, 0);
    if (!rc && (data.len > UINT32_MAX || js_buf_reserve(out, 16 + data.len)))
        rc = JS_ENOMEM;
    if (!rc) {
        uint64_t sections = r->sections > UINT32_MAX ? UINT32_MAX : r->sections;
        size_t at = out->len;
        js_buf_u32(out, (uint32_t)sections);
        js_buf_u32(out, r->n);
        js_buf_u32(out, (uint32_t)data.len);
        uint32_t crc = js_crc32(out->p + at, 12);
        js_buf_u32(out, js_crc32_more(crc, data.p, data.len));
        js_buf_put(out, data.p, data.len);
    }
    js_buf_free(&data);
    /* the heap order is gone: the ranker must be reset before reuse */
    r->n = 0;
    return rc;
}

void js_champ_ranker_free(js_champ_ranker *r)
{
    free(r->heap);
    r->heap = NULL;
}

static void put_f64(js_buf *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    js_buf_u64(b, u);
}

void js_champ_put_header(js_buf *head, js_buf *tail, const js_champ_header *h,
                         uint32_t table_crc, uint64_t table_len)
{
    size_t at = head->len;
    js_buf_u32(head, h->n);
    js_buf_u32(head, h->size);
    js_buf_u32(head, h->min_df);
    js_buf_u32(head, 0);
    put_f64(head, h->b);
    put_f64(head, h->w);
    if (head->oom)
        return;
    uint32_t crc = js_crc32(head->p + at, JS_CHAMP_HEADER);
    crc = (uint32_t)crc32_combine(crc, table_crc, (z_off_t)table_len);
    js_buf_u32(tail, crc);
}

int js_champs_open(js_champs *c, const uint8_t *p, size_t len,
                   uint64_t postings_len, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (len < JS_CHAMP_HEADER + 4) {
        snprintf(err, errlen, "the champions part is too short");
        return JS_ECORRUPT;
    }
    js_champ_header h;
    h.n = js_le32(p);
    h.size = js_le32(p + 4);
    h.min_df = js_le32(p + 8);
    uint64_t bb = js_le64(p + 16), ww = js_le64(p + 24);
    memcpy(&h.b, &bb, sizeof h.b);
    memcpy(&h.w, &ww, sizeof h.w);
    uint64_t tlen = (uint64_t)h.n * 16;
    if (h.size == 0 || h.size > JS_CHAMP_MAX_SIZE || js_le32(p + 12) != 0 ||
        tlen > len - JS_CHAMP_HEADER - 4) {
        snprintf(err, errlen, "the champions part has a bad header");
        return JS_ECORRUPT;
    }
    size_t hl = JS_CHAMP_HEADER + (size_t)tlen;
    if (js_crc32(p, hl) != js_le32(p + hl)) {
        snprintf(err, errlen, "the champions part's table fails its "
                              "checksum");
        return JS_ECORRUPT;
    }
    c->h = h;
    c->table = p + JS_CHAMP_HEADER;
    c->lists = p + hl + 4;
    c->lists_len = len - hl - 4;
    /* postings offsets strictly increase; lists lie end to end from 0,
     * each at least a record header long */
    uint64_t prev_off = 0, prev_list = 0;
    for (uint32_t i = 0; i < h.n; i++) {
        uint64_t po = js_le64(c->table + 16 * (size_t)i);
        uint64_t lo = js_le64(c->table + 16 * (size_t)i + 8);
        if ((i && po <= prev_off) || po >= postings_len ||
            (i == 0 && lo != 0) || (i && lo < prev_list + 16) ||
            lo > c->lists_len - 16 || c->lists_len < 16) {
            snprintf(err, errlen, "the champions part's table entry %u is "
                                  "out of order", i);
            return JS_ECORRUPT;
        }
        prev_off = po;
        prev_list = lo;
    }
    if (!h.n && c->lists_len) {
        snprintf(err, errlen, "the champions part has bytes after its table");
        return JS_ECORRUPT;
    }
    return 0;
}

void js_champs_entry(const js_champs *c, uint32_t i, uint64_t *postings_off,
                     const uint8_t **list, size_t *len)
{
    const uint8_t *e = c->table + 16 * (size_t)i;
    uint64_t lo = js_le64(e + 8);
    uint64_t hi = i + 1 < c->h.n ? js_le64(e + 24) : c->lists_len;
    *postings_off = js_le64(e);
    *list = c->lists + lo;
    *len = (size_t)(hi - lo);
}

int js_champs_find(const js_champs *c, uint64_t offset, const uint8_t **list,
                   size_t *len)
{
    uint32_t lo = 0, hi = c->h.n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint64_t po = js_le64(c->table + 16 * (size_t)mid);
        if (po < offset) {
            lo = mid + 1;
        } else if (po > offset) {
            hi = mid;
        } else {
            uint64_t off;
            js_champs_entry(c, mid, &off, list, len);
            return 1;
        }
    }
    return 0;
}

int js_champ_decode(const uint8_t *p, size_t len, size_t room, uint32_t size,
                    uint32_t nsections, js_champ_list *out)
{
    if (len < 16 || room < len)
        return JS_ECORRUPT;
    uint32_t sections = js_le32(p), n = js_le32(p + 4), dlen = js_le32(p + 8);
    if (n == 0 || n > size || n > JS_CHAMP_MAX_SIZE || sections < n ||
        (n < size && sections != n) || (uint64_t)dlen + 16 != len)
        return JS_ECORRUPT;
    const uint8_t *d = p + 16;
    uint32_t crc = js_crc32(p, 12);
    if (js_crc32_more(crc, d, dlen) != js_le32(p + 12))
        return JS_ECORRUPT;
    size_t k = js_svb_take(d, dlen, room - 16, out->id, n, JS_SVB_DELTA, 0);
    if (!k)
        return JS_ECORRUPT;
    uint32_t tfs[2 * JS_CHAMP_MAX_SIZE];
    size_t k2 = js_svb_take(d + k, dlen - k, room - 16 - k, tfs, 2 * n,
                            JS_SVB_0124, 0);
    if (!k2 || k + k2 != dlen)
        return JS_ECORRUPT;
    for (uint32_t i = 0; i < n; i++) {
        if (out->id[i] >= nsections || (i && out->id[i] <= out->id[i - 1]))
            return JS_ECORRUPT;
        out->tb[i] = tfs[i];
        out->th[i] = tfs[n + i];
        if (out->tb[i] == 0 && out->th[i] == 0)
            return JS_ECORRUPT;
    }
    out->sections = sections;
    out->n = n;
    return 0;
}

/* ---------------------------------------------------------------------
 * Ranking during the builder's merge
 * ------------------------------------------------------------------- */

struct js_champ_merge {
    js_champ_ranker rk;
    uint32_t min_df, nsections;
    const uint32_t *lb, *lh;
    float *inv_b;       /* per section: t of one body occurrence, rounded
                           up */
    js_spool heads;     /* heading terms' pieces: u32 len, u32 n, u32 last,
                           the term without 0x01, ids[n], tfs[n] */
    const char *dir;
    /* the current term */
    int in_term, heading, ranking;
    uint64_t df;
    /* reading heads back: a window of it, and the record at rec_at */
    js_buf win;
    uint64_t win_at, rec_at;
    int rec_state;      /* 0 unread, 1 header held, 2 no more records */
    uint32_t rec_len, rec_n, rec_last;
    js_buf rec_term;
    /* the twin's current piece */
    js_buf tw_ids, tw_tfs;
    uint32_t tw_i, tw_n;
    int tw_more;        /* a further piece of the twin follows */
    js_buf list;
    char err[256];
};

const char *js_champ_merge_errmsg(const js_champ_merge *cm)
{
    return cm ? cm->err : "out of memory";
}

static int cm_fail(js_champ_merge *cm, int rc, const char *what)
{
    if (rc == JS_ENOMEM)
        snprintf(cm->err, sizeof cm->err, "out of memory");
    else if (cm->heads.err == JS_EIO)
        snprintf(cm->err, sizeof cm->err, "champions: %s: %s", cm->dir,
                 strerror(cm->heads.saved_errno));
    else
        snprintf(cm->err, sizeof cm->err, "champions: %s", what);
    return rc;
}

int js_champ_merge_new(js_champ_merge **out, const char *dir, uint32_t min_df,
                       uint32_t size, const uint32_t *body_lens,
                       const uint32_t *head_lens, uint32_t nsections,
                       double avg_b, double avg_h)
{
    js_champ_merge *cm = calloc(1, sizeof *cm);
    *out = cm;
    if (!cm)
        return JS_ENOMEM;
    cm->heads = (js_spool)JS_SPOOL_INIT;
    cm->min_df = min_df ? min_df : 1;
    cm->nsections = nsections;
    cm->lb = body_lens;
    cm->lh = head_lens;
    cm->dir = dir;
    int rc = js_champ_ranker_init(&cm->rk, size, JS_NORM_B, JS_CHAMP_W, avg_b,
                                  avg_h);
    if (rc)
        return cm_fail(cm, rc, js_strerror(rc));
    if ((rc = js_spool_open(&cm->heads, dir)))
        return cm_fail(cm, rc, "cannot create a temporary file");
    if (!(cm->inv_b = malloc(((size_t)nsections + 1) * sizeof *cm->inv_b)))
        return cm_fail(cm, JS_ENOMEM, "");
    for (uint32_t i = 0; i < nsections; i++) {
        /* the margin where it is used covers tb / denominator's
         * roundings */
        cm->inv_b[i] = js_norm_up(
            js_bm25f_t(JS_NORM_B, 0, avg_b, 1, 1, body_lens[i], 0, 0));
    }
    return 0;
}

void js_champ_merge_free(js_champ_merge *cm)
{
    if (!cm)
        return;
    js_champ_ranker_free(&cm->rk);
    js_spool_close(&cm->heads);
    free(cm->inv_b);
    js_buf_free(&cm->win);
    js_buf_free(&cm->rec_term);
    js_buf_free(&cm->tw_ids);
    js_buf_free(&cm->tw_tfs);
    js_buf_free(&cm->list);
    free(cm);
}

/* Points *p at n bytes of heads from offset off, read back in windows of
 * 64 KiB or more, not with a system call per record. */
static int heads_get(js_champ_merge *cm, uint64_t off, size_t n,
                     const uint8_t **p)
{
    js_spool *s = &cm->heads;
    if (off < cm->win_at || off + n > cm->win_at + cm->win.len) {
        if (off > s->total || n > s->total - off)
            return cm_fail(cm, JS_EIO, "a temporary file is short");
        uint64_t left = s->total - off;
        size_t want = n > JS_SPOOL_BUF ? n : JS_SPOOL_BUF;
        if (want > left)
            want = (size_t)left;
        cm->win.len = 0;
        if (js_buf_reserve(&cm->win, want))
            return cm_fail(cm, JS_ENOMEM, "");
        int rc = js_spool_read_at(s, off, cm->win.p, want);
        if (rc)
            return cm_fail(cm, rc, "reading a temporary file");
        cm->win.len = want;
        cm->win_at = off;
    }
    *p = cm->win.p + (off - cm->win_at);
    return 0;
}

/* Reads the header of the record at rec_at (rec_state 1), or notes that
 * none is left (2). */
static int read_rec(js_champ_merge *cm)
{
    if (cm->rec_at >= cm->heads.total) {
        cm->rec_state = 2;
        return 0;
    }
    const uint8_t *h, *t;
    int rc = heads_get(cm, cm->rec_at, 12, &h);
    if (rc)
        return rc;
    cm->rec_len = js_le32(h);
    cm->rec_n = js_le32(h + 4);
    cm->rec_last = js_le32(h + 8);
    if ((rc = heads_get(cm, cm->rec_at + 12, cm->rec_len, &t)))
        return rc;
    cm->rec_term.len = 0;
    if (js_buf_put(&cm->rec_term, t, cm->rec_len))
        return cm_fail(cm, JS_ENOMEM, "");
    cm->rec_state = 1;
    return 0;
}

/* Moves past the record whose header is held. */
static void skip_rec(js_champ_merge *cm)
{
    cm->rec_at += 12 + (uint64_t)cm->rec_len + 8 * (uint64_t)cm->rec_n;
    cm->rec_state = 0;
}

/* Loads the held record's entries as the twin's current piece. */
static int load_twin(js_champ_merge *cm)
{
    size_t bytes = 4 * (size_t)cm->rec_n;
    const uint8_t *p;
    cm->tw_ids.len = cm->tw_tfs.len = 0;
    int rc = heads_get(cm, cm->rec_at + 12 + cm->rec_len, 2 * bytes, &p);
    if (rc)
        return rc;
    if (js_buf_put(&cm->tw_ids, p, bytes) ||
        js_buf_put(&cm->tw_tfs, p + bytes, bytes))
        return cm_fail(cm, JS_ENOMEM, "");
    cm->tw_i = 0;
    cm->tw_n = cm->rec_n;
    cm->tw_more = !cm->rec_last;
    skip_rec(cm);
    return 0;
}

/* Finds body term's heading twin among the records (both come in term
 * order) and loads its first piece; tw_n stays 0 without one. */
static int find_twin(js_champ_merge *cm, const char *term, size_t len)
{
    cm->tw_i = cm->tw_n = 0;
    cm->tw_more = 0;
    for (;;) {
        int rc;
        if (cm->rec_state == 0 && (rc = read_rec(cm)))
            return rc;
        if (cm->rec_state == 2)
            return 0;
        size_t hl = cm->rec_term.len, k = hl < len ? hl : len;
        int c = memcmp(cm->rec_term.p, term, k);
        if (c == 0)
            c = (hl > len) - (hl < len);
        if (c > 0)
            return 0;
        if (c == 0)
            return load_twin(cm);
        skip_rec(cm);
    }
}

/* The twin's current entry (id, tf), loading its next piece when the
 * current one is spent; 0 when the twin has no entry left. */
static int twin_peek(js_champ_merge *cm, uint32_t *id, uint32_t *tf, int *rc)
{
    *rc = 0;
    while (cm->tw_i == cm->tw_n) {
        if (!cm->tw_more)
            return 0;
        if ((*rc = read_rec(cm)) || cm->rec_state != 1)
            return 0;
        if ((*rc = load_twin(cm)))
            return 0;
    }
    const uint32_t *ids = (const uint32_t *)(const void *)cm->tw_ids.p;
    const uint32_t *tfs = (const uint32_t *)(const void *)cm->tw_tfs.p;
    *id = ids[cm->tw_i];
    *tf = tfs[cm->tw_i];
    return 1;
}

/* Ranks a piece of the current body term, merging in its twin's entries
 * by id; with `last`, the twin's rest too. */
static int rank_piece(js_champ_merge *cm, const uint32_t *ids,
                      const uint32_t *tfs, uint32_t n, int last)
{
    js_champ_ranker *r = &cm->rk;
    const uint32_t *lb = cm->lb, *lh = cm->lh;
    const float *inv = cm->inv_b;
    int rc = 0;
    uint32_t hid = 0, htf = 0;
    int live = twin_peek(cm, &hid, &htf, &rc);
    if (rc)
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t id = ids[i];
        while (live && hid < id) {
            js_champ_ranker_add(r, hid, 0, lb[hid], htf, lh[hid]);
            cm->tw_i++;
            if (!(live = twin_peek(cm, &hid, &htf, &rc)) && rc)
                return rc;
        }
        uint32_t th = 0;
        if (live && hid == id) {
            th = htf;
            cm->tw_i++;
            if (!(live = twin_peek(cm, &hid, &htf, &rc)) && rc)
                return rc;
        } else if (js_champ_ranker_full_above(
                              r, (double)tfs[i] * inv[id] * (1 + 1e-9))) {
            /* most entries of a common term: a multiplication, no t */
            js_champ_ranker_pass(r, id);
            continue;
        }
        js_champ_ranker_add(r, id, tfs[i], lb[id], th, lh[id]);
    }
    while (last && live) {
        js_champ_ranker_add(r, hid, 0, lb[hid], htf, lh[hid]);
        cm->tw_i++;
        if (!(live = twin_peek(cm, &hid, &htf, &rc)) && rc)
            return rc;
    }
    return 0;
}

int js_champ_merge_piece(js_champ_merge *cm, const char *term, size_t len,
                         const uint32_t *ids, const uint32_t *tfs, uint32_t n,
                         int last, const uint8_t **list, size_t *list_len)
{
    *list = NULL;
    *list_len = 0;
    int rc;
    for (uint32_t i = 0; i < n; i++) /* the lengths are indexed by them */
        if (ids[i] >= cm->nsections)
            return cm_fail(cm, JS_ECORRUPT, "the merge produced a section "
                                            "beyond the count");
    if (!cm->in_term) {
        cm->in_term = 1;
        cm->df = 0;
        cm->heading = len && term[0] == 1;
        cm->ranking = !cm->heading && (!last || n >= cm->min_df);
        if (cm->ranking) {
            js_champ_ranker_reset(&cm->rk);
            if ((rc = find_twin(cm, term, len)))
                return rc;
        }
    }
    cm->df += n;
    if (cm->heading) {
        js_spool *s = &cm->heads;
        js_spool_u32(s, (uint32_t)(len - 1));
        js_spool_u32(s, n);
        js_spool_u32(s, last ? 1 : 0);
        js_spool_write(s, term + 1, len - 1);
        js_spool_write(s, ids, 4 * (size_t)n);
        if (js_spool_write(s, tfs, 4 * (size_t)n))
            return cm_fail(cm, s->err, "writing a temporary file");
    } else if (cm->ranking && (rc = rank_piece(cm, ids, tfs, n, last))) {
        return rc;
    }
    if (!last)
        return 0;
    cm->in_term = 0;
    if (!cm->ranking || cm->df < cm->min_df)
        return 0;
    cm->list.len = 0;
    if ((rc = js_champ_ranker_encode(&cm->rk, &cm->list)))
        return cm_fail(cm, rc, js_strerror(rc));
    *list = cm->list.p;
    *list_len = cm->list.len;
    return 0;
}
