/*
 * champ.c — champion lists (champ.h; format: index/FORMAT.md, part 10).
 *
 * In:  a term's sections in id order with their frequencies and lengths
 *      (builder.c while merging, reader.c's check when recomputing).
 * Out: list records and the part's header; on the reader's side the
 *      part opened and a list decoded, trusting nothing.
 */
#include "config.h"

#include "champ.h"

#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "codec.h"

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
        uint32_t crc = (uint32_t)crc32(0L, out->p + at, 12);
        js_buf_u32(out, (uint32_t)crc32(crc, data.p, (uInt)data.len));
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
    uint32_t crc = (uint32_t)crc32(0L, head->p + at, JS_CHAMP_HEADER);
    crc = (uint32_t)crc32_combine(crc, table_crc, (z_off_t)table_len);
    js_buf_u32(tail, crc);
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
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
    h.n = rd32(p);
    h.size = rd32(p + 4);
    h.min_df = rd32(p + 8);
    uint64_t bb = rd64(p + 16), ww = rd64(p + 24);
    memcpy(&h.b, &bb, sizeof h.b);
    memcpy(&h.w, &ww, sizeof h.w);
    uint64_t tlen = (uint64_t)h.n * 16;
    if (h.size == 0 || h.size > JS_CHAMP_MAX_SIZE || rd32(p + 12) != 0 ||
        tlen > len - JS_CHAMP_HEADER - 4) {
        snprintf(err, errlen, "the champions part has a bad header");
        return JS_ECORRUPT;
    }
    size_t hl = JS_CHAMP_HEADER + (size_t)tlen;
    if ((uint32_t)crc32(0L, p, (uInt)hl) != rd32(p + hl)) {
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
        uint64_t po = rd64(c->table + 16 * (size_t)i);
        uint64_t lo = rd64(c->table + 16 * (size_t)i + 8);
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
    uint64_t lo = rd64(e + 8);
    uint64_t hi = i + 1 < c->h.n ? rd64(e + 24) : c->lists_len;
    *postings_off = rd64(e);
    *list = c->lists + lo;
    *len = (size_t)(hi - lo);
}

int js_champs_find(const js_champs *c, uint64_t offset, const uint8_t **list,
                   size_t *len)
{
    uint32_t lo = 0, hi = c->h.n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint64_t po = rd64(c->table + 16 * (size_t)mid);
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
    uint32_t sections = rd32(p), n = rd32(p + 4), dlen = rd32(p + 8);
    if (n == 0 || n > size || n > JS_CHAMP_MAX_SIZE || sections < n ||
        (n < size && sections != n) || (uint64_t)dlen + 16 != len)
        return JS_ECORRUPT;
    const uint8_t *d = p + 16;
    uint32_t crc = (uint32_t)crc32(0L, p, 12);
    if ((uint32_t)crc32(crc, d, dlen) != rd32(p + 12))
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
