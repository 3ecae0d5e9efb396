/*
 * store.c — the sections' original text in zlib-compressed blocks
 * (index/FORMAT.md, parts 4 STORE and 5 STORE_INDEX).
 *
 * In (writer): each section's heading path and body, one at a time, in
 *      section id order.
 * Out: STORE — blocks, each u32 raw length, u32 compressed length, u32
 *      crc32 of the compressed bytes, the compressed bytes (zlib format,
 *      written and read by libdeflate),
 *      handed over as they are finished by js_store_drain and the rest by
 *      js_store_finish — and STORE_INDEX — u32 block count, then per block
 *      u64 offset in STORE and u32 first section id.  A block's raw content
 *      is, per section, varint path length, path, varint body length, body.
 * In (reader): those two parts, untrusted and borrowed (usually
 *      memory-mapped), and the section count from SECTIONS.
 * Out: one section's path and body in malloc'ed memory, or JS_ECORRUPT.
 *
 * Blocking rule (writer): a section is never split across blocks.  Before
 * a section is added, the open block is closed if the section would take
 * it past block_bytes; after it is added, the block is closed once it has
 * reached block_bytes.  So a block holds at most block_bytes of raw text
 * unless it is one section on its own (a huge section makes its own block,
 * and a random read never inflates much more than block_bytes beside it).
 *
 * Reader invariants, all checked before any byte is trusted: the index
 * size matches its count; block 0 starts at offset 0; offsets strictly
 * increase with room for a 12-byte header before the next block (or the
 * end of STORE); first ids strictly increase from 0 and stay below the
 * section count.  Reading a block then checks that its compressed length
 * fills its extent exactly, its raw length is sane, the crc32 matches,
 * zlib produces exactly the raw length from exactly the compressed bytes,
 * and the records number exactly next first id − first id (the section
 * count for the last block) and fill the raw bytes exactly.  Together
 * these catch any single damaged byte in either part.
 */
#include "config.h"

#include "store.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>

#include "blockcache.h"
#include "buf.h"
#include "jiansuo.h"

/* The largest raw block a reader accepts: room for many ordinary blocks'
 * worth of text plus the largest section ingest produces (twice over, for
 * a path as long as the body).  A raw length above it is damage, and
 * refusing it early keeps a lying length from costing a huge malloc.  The
 * writer closes blocks before reaching it, so it never writes one. */
#define STORE_RAW_MAX \
    ((size_t)64 * 1024 * 1024 + 2 * (size_t)JS_SECTION_MAX_BYTES)

/* Deflate cannot expand more than 1032:1 (a 258-byte match costs at
 * least 2 bits); a raw length beyond that for the compressed length is
 * impossible, so it is rejected before allocating.  The slack covers the
 * zlib header, trailer and a final short block. */
#define STORE_INFLATE_RATIO 1032u
#define STORE_INFLATE_SLACK 1024u

#define BLOCK_HEADER 12u /* u32 raw length, u32 compressed length, u32 crc */
#define INDEX_ENTRY 12u  /* u64 offset, u32 first id */

struct js_store_writer {
    size_t block_bytes;
    int level;
    js_buf raw;           /* the open block's records */
    uint32_t block_first; /* id of the open block's first section */
    uint32_t next_id;     /* sections added so far */
    js_buf out;           /* STORE since the last drain */
    uint64_t drained;     /* bytes of STORE already drained */
    js_buf index;         /* STORE_INDEX entries so far (count added last) */
    uint32_t nblocks;
    struct libdeflate_compressor *z; /* at the writer's level */
    int err;      /* sticky: once an add fails, the parts are incomplete */
    int finished; /* finish has run: no more sections */
};

int js_store_writer_new(js_store_writer **out, size_t block_bytes, int level)
{
    if (!out)
        return JS_EINVALID;
    *out = NULL;
    if (block_bytes == 0 || block_bytes > STORE_RAW_MAX || level < 0 ||
        level > 9)
        return JS_EINVALID;
    js_store_writer *w = calloc(1, sizeof *w);
    if (!w)
        return JS_ENOMEM;
    /* libdeflate writes the zlib format zlib would, about twice as fast
     * at level 1 (the builder's), and reads it about twice as fast */
    if (!(w->z = libdeflate_alloc_compressor(level))) {
        free(w);
        return JS_ENOMEM;
    }
    w->block_bytes = block_bytes;
    w->level = level;
    *out = w;
    return 0;
}

/* Compresses the open block straight into the tail of `out` and records
 * it in the index.  Returns 0, JS_ENOMEM or JS_EINVALID (zlib failure);
 * on failure `out` is unchanged. */
static int flush_block(js_store_writer *w)
{
    if (w->raw.len == 0)
        return 0;
    /* STORE_RAW_MAX keeps both lengths far below 2^32. */
    size_t bound = libdeflate_zlib_compress_bound(w->z, w->raw.len);
    if (js_buf_reserve(&w->out, BLOCK_HEADER + bound) ||
        js_buf_reserve(&w->index, INDEX_ENTRY))
        return JS_ENOMEM;
    size_t start = w->out.len;
    uint64_t offset = w->drained + start; /* in STORE, drained or not */
    uint8_t *comp = w->out.p + start + BLOCK_HEADER;
    size_t clen = libdeflate_zlib_compress(w->z, w->raw.p, w->raw.len, comp,
                                           bound);
    if (clen == 0) /* cannot happen with the bound's room */
        return JS_EINVALID;
    uint32_t crc = libdeflate_crc32(0, comp, clen);
    /* Space is reserved, so these appends cannot fail; the header goes in
     * front of the compressed bytes already in place. */
    w->out.len = start;
    js_buf_u32(&w->out, (uint32_t)w->raw.len);
    js_buf_u32(&w->out, (uint32_t)clen);
    js_buf_u32(&w->out, crc);
    w->out.len += (size_t)clen;
    js_buf_u64(&w->index, offset);
    js_buf_u32(&w->index, w->block_first);
    w->nblocks++;
    w->raw.len = 0;
    w->block_first = w->next_id;
    return 0;
}

/* Bytes a varint of v takes. */
static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >>= 7)
        n++;
    return n;
}

int js_store_add(js_store_writer *w, const char *path, size_t path_len,
                 const char *body, size_t body_len)
{
    if (!w || (!path && path_len) || (!body && body_len))
        return JS_EINVALID;
    if (w->err)
        return w->err;
    /* Ids are u32 and the count must fit too, so UINT32_MAX is never an
     * id; a finished writer has already emitted its parts. */
    if (w->finished || w->next_id == UINT32_MAX)
        return JS_EINVALID;
    if (path_len > STORE_RAW_MAX || body_len > STORE_RAW_MAX)
        return JS_EINVALID;
    size_t rec = varint_size(path_len) + path_len + varint_size(body_len) +
                 body_len;
    /* A record no reader would accept is refused here, not on reading. */
    if (rec > STORE_RAW_MAX)
        return JS_EINVALID;
    int rc = 0;
    if (w->raw.len && rec > w->block_bytes - w->raw.len)
        rc = flush_block(w);
    if (!rc && js_buf_reserve(&w->raw, rec))
        rc = JS_ENOMEM;
    if (rc) {
        w->err = rc;
        return rc;
    }
    js_buf_varint(&w->raw, path_len);
    js_buf_put(&w->raw, path, path_len);
    js_buf_varint(&w->raw, body_len);
    js_buf_put(&w->raw, body, body_len);
    w->next_id++;
    if (w->raw.len >= w->block_bytes && (rc = flush_block(w)) != 0) {
        /* The section is in the raw block but the block could not be
         * written: the parts can no longer be completed. */
        w->err = rc;
        return rc;
    }
    return 0;
}

int js_store_drain(js_store_writer *w, js_buf *out)
{
    if (!w || !out)
        return JS_EINVALID;
    if (w->err)
        return w->err;
    size_t n = w->out.len;
    if (n == 0)
        return 0;
    if (out->oom)
        return JS_ENOMEM;
    if (out->len == 0) {
        /* Swap rather than copy: both buffers keep their capacity, the
         * writer's for the next block. */
        js_buf t = *out;
        *out = w->out;
        w->out = t;
    } else if (js_buf_put(out, w->out.p, n)) {
        return JS_ENOMEM;
    }
    w->out.len = 0;
    w->drained += n;
    return 0;
}

int js_store_finish(js_store_writer *w, js_buf *blocks, js_buf *index)
{
    if (!w || !blocks || !index)
        return JS_EINVALID;
    if (w->err)
        return w->err;
    if (w->finished)
        return JS_EINVALID;
    int rc = flush_block(w);
    if (rc) {
        w->err = rc;
        return rc;
    }
    /* Reserve first, so that nothing is appended unless all of it fits. */
    if (blocks->oom || js_buf_reserve(index, 4 + w->index.len) ||
        (blocks->len && js_buf_reserve(blocks, w->out.len)))
        return JS_ENOMEM;
    js_buf_u32(index, w->nblocks);
    js_buf_put(index, w->index.p, w->index.len);
    if (blocks->len == 0) {
        /* The common case: hand STORE over instead of copying what may be
         * most of the index's size. */
        free(blocks->p);
        *blocks = w->out;
        w->out = (js_buf)JS_BUF_INIT;
    } else {
        js_buf_put(blocks, w->out.p, w->out.len);
    }
    js_buf_free(&w->raw);
    js_buf_free(&w->index);
    js_buf_free(&w->out);
    w->finished = 1;
    return 0;
}

void js_store_writer_free(js_store_writer *w)
{
    if (!w)
        return;
    js_buf_free(&w->raw);
    js_buf_free(&w->out);
    js_buf_free(&w->index);
    libdeflate_free_compressor(w->z);
    free(w);
}

/* ------------------------------------------------------------------
 * Reader
 * ---------------------------------------------------------------- */

typedef struct {
    uint64_t offset; /* of the block's header in STORE */
    uint32_t first;  /* id of its first section */
} block_ref;

struct js_store {
    const uint8_t *blocks;
    size_t blocks_len;
    uint32_t sections;
    uint32_t nblocks;
    block_ref *ref; /* nblocks entries, checked on open */
    uint64_t owner; /* in the process's block cache (blockcache.h) */
};

int js_store_open(js_store **out, const uint8_t *blocks, size_t blocks_len,
                  const uint8_t *index, size_t index_len, uint32_t sections)
{
    if (!out)
        return JS_EINVALID;
    *out = NULL;
    if ((!blocks && blocks_len) || (!index && index_len))
        return JS_EINVALID;
    js_rd r = js_rd_make(index, index_len);
    uint32_t m = js_rd_u32(&r);
    if (r.bad || js_rd_left(&r) % INDEX_ENTRY ||
        js_rd_left(&r) / INDEX_ENTRY != m)
        return JS_ECORRUPT;
    /* Every section lives in some block and every block starts a section. */
    if ((m == 0) != (sections == 0) || m > sections)
        return JS_ECORRUPT;
    if (m == 0 && blocks_len)
        return JS_ECORRUPT; /* bytes no block accounts for */
    js_store *st = calloc(1, sizeof *st);
    if (!st)
        return JS_ENOMEM;
    if (m && !(st->ref = malloc((size_t)m * sizeof *st->ref))) {
        free(st);
        return JS_ENOMEM;
    }
    for (uint32_t i = 0; i < m; i++) {
        st->ref[i].offset = js_rd_u64(&r);
        st->ref[i].first = js_rd_u32(&r);
    }
    int ok = !r.bad;
    for (uint32_t i = 0; ok && i < m; i++) {
        uint64_t off = st->ref[i].offset;
        uint64_t end = i + 1 < m ? st->ref[i + 1].offset : blocks_len;
        if (i == 0 ? off != 0 || st->ref[i].first != 0
                   : st->ref[i].first <= st->ref[i - 1].first)
            ok = 0;
        else if (st->ref[i].first >= sections)
            ok = 0;
        else if (end > blocks_len || off > end || end - off < BLOCK_HEADER)
            ok = 0; /* also rules out offsets that do not increase */
    }
    if (!ok) {
        js_store_close(st);
        return JS_ECORRUPT;
    }
    st->blocks = blocks;
    st->blocks_len = blocks_len;
    st->sections = sections;
    st->nblocks = m;
    st->owner = js_bcache_owner();
    *out = st;
    return 0;
}

/* Reads a varint length and that many bytes.  Returns the bytes, or NULL
 * with r->bad set when the length runs past the end. */
static const uint8_t *rd_field(js_rd *r, size_t *len)
{
    uint64_t n = js_rd_varint(r);
    if (r->bad || n > js_rd_left(r)) {
        r->bad = 1;
        return NULL;
    }
    *len = (size_t)n;
    return js_rd_bytes(r, (size_t)n);
}

/* Inflates block b into a malloc'ed buffer (the caller frees *raw) after
 * checking its header, extent and crc32.  Returns 0 with *raw and
 * *raw_len, JS_ECORRUPT or JS_ENOMEM. */
static int inflate_block(const js_store *st, uint32_t b, uint8_t **raw,
                         size_t *raw_len)
{
    *raw = NULL;
    uint64_t off = st->ref[b].offset;
    uint64_t end = b + 1 < st->nblocks ? st->ref[b + 1].offset : st->blocks_len;
    js_rd r = js_rd_make(st->blocks + off, (size_t)(end - off));
    uint32_t rlen = js_rd_u32(&r);
    uint32_t clen = js_rd_u32(&r);
    uint32_t crc = js_rd_u32(&r);
    /* Blocks are packed: the compressed bytes fill the extent exactly. */
    if (r.bad || clen != js_rd_left(&r))
        return JS_ECORRUPT;
    /* Every block holds a record, and a record takes at least 2 bytes. */
    if (rlen < 2 || rlen > STORE_RAW_MAX ||
        rlen > (uint64_t)clen * STORE_INFLATE_RATIO + STORE_INFLATE_SLACK)
        return JS_ECORRUPT;
    const uint8_t *comp = js_rd_bytes(&r, clen);
    if (libdeflate_crc32(0, comp, clen) != crc)
        return JS_ECORRUPT;
    uint8_t *dst = malloc(rlen);
    if (!dst)
        return JS_ENOMEM;
    struct libdeflate_decompressor *z = libdeflate_alloc_decompressor();
    if (!z) {
        free(dst);
        return JS_ENOMEM;
    }
    /* Exactly rlen bytes from exactly clen bytes: a stream that ends
     * early, runs over, or leaves input behind is damage. */
    size_t in_used = 0;
    enum libdeflate_result zr =
        libdeflate_zlib_decompress_ex(z, comp, clen, dst, rlen, &in_used, NULL);
    libdeflate_free_decompressor(z);
    if (zr != LIBDEFLATE_SUCCESS || in_used != clen) {
        free(dst);
        return JS_ECORRUPT;
    }
    *raw = dst;
    *raw_len = rlen;
    return 0;
}

/* Walks every record of block b's raw bytes; they must number exactly the
 * block's share of ids and fill the bytes exactly.  When `want` is one of
 * the block's ids, its fields are left in *path and *body (pointers into raw).
 * offs, when not NULL, gets each record's offset.  Returns 0 or
 * JS_ECORRUPT. */
static int walk_block(const js_store *st, uint32_t b, const uint8_t *raw,
                      size_t raw_len, uint32_t want, const uint8_t **path,
                      size_t *path_len, const uint8_t **body, size_t *body_len,
                      uint32_t *offs)
{
    uint32_t first = st->ref[b].first;
    uint32_t stop = b + 1 < st->nblocks ? st->ref[b + 1].first : st->sections;
    js_rd r = js_rd_make(raw, raw_len);
    for (uint32_t id = first; id < stop; id++) {
        size_t pl = 0, bl = 0;
        if (offs) /* each record's offset, for the cached form */
            offs[id - first] = (uint32_t)(raw_len - js_rd_left(&r));
        const uint8_t *p = rd_field(&r, &pl);
        const uint8_t *s = rd_field(&r, &bl);
        if (r.bad)
            return JS_ECORRUPT;
        if (id == want) {
            *path = p;
            *path_len = pl;
            *body = s;
            *body_len = bl;
        }
    }
    return js_rd_left(&r) ? JS_ECORRUPT : 0;
}

/* A block as the process's cache keeps it: the raw records, then (at a
 * 4-byte boundary) the offset of each record, so that a section is found
 * without walking the records before it.  Built from a block that
 * walk_block has checked whole. */
static size_t indexed_len(size_t raw_len, uint32_t n)
{
    return (raw_len + 3) / 4 * 4 + (size_t)n * 4;
}

static uint32_t block_records(const js_store *st, uint32_t b)
{
    uint32_t stop = b + 1 < st->nblocks ? st->ref[b + 1].first : st->sections;
    return stop - st->ref[b].first;
}

/* Grows raw (raw_len bytes, just inflated) into the cached form and
 * checks it whole (walk_block), filling the offsets on the way.  Returns
 * the new buffer (raw is then gone) with *len; NULL with *rc 0 when out
 * of memory (raw kept, unchecked); or NULL with *rc JS_ECORRUPT (raw
 * freed). */
static uint8_t *index_block(const js_store *st, uint32_t b, uint8_t *raw,
                            size_t raw_len, size_t *len, int *rc)
{
    uint32_t n = block_records(st, b);
    *len = indexed_len(raw_len, n);
    *rc = 0;
    uint8_t *x = realloc(raw, *len);
    if (!x)
        return NULL;
    uint32_t *offs = (uint32_t *)(void *)(x + *len - (size_t)n * 4);
    const uint8_t *p, *t;
    size_t pl, bl;
    if ((*rc = walk_block(st, b, x, raw_len, UINT32_MAX, &p, &pl, &t, &bl,
                          offs))) {
        free(x);
        return NULL;
    }
    return x;
}

/* Section want's fields in a cached block of len bytes. */
static int find_indexed(const js_store *st, uint32_t b, const uint8_t *x,
                        size_t len, uint32_t want, const uint8_t **path,
                        size_t *path_len, const uint8_t **body,
                        size_t *body_len)
{
    uint32_t n = block_records(st, b);
    const uint32_t *offs = (const uint32_t *)(const void *)(x + len - (size_t)n * 4);
    size_t raw_end = len - (size_t)n * 4;
    uint32_t at = offs[want - st->ref[b].first];
    js_rd r = js_rd_make(x + at, raw_end - at);
    *path = rd_field(&r, path_len);
    *body = rd_field(&r, body_len);
    return r.bad ? JS_ECORRUPT : 0;
}

/* Returns a malloc'ed NUL-terminated copy of n bytes at s, or NULL. */
static char *dup_bytes(const uint8_t *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    if (n)
        memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* The block holding section id (< st->sections): the last whose first id
 * is at most id (block 0 starts at 0). */
static uint32_t block_of(const js_store *st, uint32_t id)
{
    uint32_t lo = 0, hi = st->nblocks;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (st->ref[mid].first <= id)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int js_store_peek(const js_store *st, js_store_cache *cache, uint32_t id,
                  const char **path, size_t *path_len, const char **body,
                  size_t *body_len)
{
    if (!st || !cache)
        return JS_EINVALID;
    if (id >= st->sections)
        return JS_ENOTFOUND;
    uint32_t b = block_of(st, id);
    if (!cache->raw || cache->store != st || cache->block != b) {
        free(cache->raw);
        cache->raw = NULL;
        uint8_t *raw;
        size_t raw_len;
        int rc = inflate_block(st, b, &raw, &raw_len);
        if (rc)
            return rc;
        cache->raw = raw;
        cache->raw_len = raw_len;
        cache->store = st;
        cache->block = b;
    }
    const uint8_t *p = NULL, *t = NULL;
    size_t pl = 0, bl = 0;
    /* The whole block is walked, not just up to id: skipping varints costs
     * little beside inflating, and a miscounted block then fails for every
     * id in it, not only for some. */
    int rc = walk_block(st, b, cache->raw, cache->raw_len, id, &p, &pl, &t,
                        &bl, NULL);
    if (rc)
        return rc;
    *path = (const char *)p;
    *path_len = pl;
    *body = (const char *)t;
    *body_len = bl;
    return 0;
}

void js_store_cache_free(js_store_cache *cache)
{
    if (!cache)
        return;
    free(cache->raw);
    cache->raw = NULL;
    cache->store = NULL;
}

int js_store_get(const js_store *st, uint32_t id, char **path,
                 size_t *path_len, char **body, size_t *body_len)
{
    if (path)
        *path = NULL;
    if (body)
        *body = NULL;
    if (!st)
        return JS_EINVALID;
    if (id >= st->sections)
        return JS_ENOTFOUND;
    /* The block from the process's cache, or inflated and offered to it:
     * a search's snippets meet the same blocks again and again. */
    uint32_t b = block_of(st, id);
    const uint8_t *raw = NULL;
    uint8_t *own = NULL;
    size_t raw_len = 0;
    const uint8_t *p = NULL, *s = NULL;
    size_t pl = 0, bl = 0;
    int rc = 0;
    js_bcache_entry *e = js_bcache_get(st->owner, b, &raw, &raw_len);
    if (e) {
        /* checked whole when it was inflated */
        rc = find_indexed(st, b, raw, raw_len, id, &p, &pl, &s, &bl);
    } else if (!(rc = inflate_block(st, b, &own, &raw_len))) {
        size_t xlen;
        uint8_t *x = index_block(st, b, own, raw_len, &xlen, &rc);
        if (x) {
            own = x;
            if ((e = js_bcache_put(st->owner, b, own, xlen, &raw)))
                /* the cache's now; another thread's copy may have won,
                 * so the fields are found in the bytes the entry holds */
                own = NULL;
            else
                raw = own;
            rc = find_indexed(st, b, raw, xlen, id, &p, &pl, &s, &bl);
        } else if (rc) {
            own = NULL; /* freed by index_block */
        } else { /* no memory to index it: walked as it is */
            rc = walk_block(st, b, own, raw_len, id, &p, &pl, &s, &bl, NULL);
        }
    }
    if (!rc && path && !(*path = dup_bytes(p, pl)))
        rc = JS_ENOMEM;
    if (!rc && body && !(*body = dup_bytes(s, bl)))
        rc = JS_ENOMEM;
    js_bcache_release(e);
    free(own);
    if (rc) {
        if (path) {
            free(*path);
            *path = NULL;
        }
        return rc;
    }
    if (path_len)
        *path_len = pl;
    if (body_len)
        *body_len = bl;
    return 0;
}

/* Returns 0, or the first failure: JS_ECORRUPT with *bad_block set, or
 * JS_ENOMEM when a block could not be inflated for want of memory. */
int js_store_verify(const js_store *st, uint32_t *bad_block)
{
    return js_store_each_path(st, NULL, NULL, bad_block);
}

int js_store_each_path(const js_store *st, js_store_path_fn fn, void *ctx,
                       uint32_t *bad_block)
{
    if (!st)
        return JS_EINVALID;
    for (uint32_t b = 0; b < st->nblocks; b++) {
        uint8_t *raw;
        size_t raw_len;
        int rc = inflate_block(st, b, &raw, &raw_len);
        if (rc == JS_ECORRUPT && bad_block)
            *bad_block = b;
        if (rc)
            return rc;
        uint32_t stop = b + 1 < st->nblocks ? st->ref[b + 1].first
                                            : st->sections;
        js_rd r = js_rd_make(raw, raw_len);
        for (uint32_t id = st->ref[b].first; id < stop && !rc; id++) {
            size_t pl = 0, bl = 0;
            const uint8_t *p = rd_field(&r, &pl);
            rd_field(&r, &bl);
            rc = r.bad ? JS_ECORRUPT : fn ? fn(ctx, id, (const char *)p, pl) : 0;
        }
        if (!rc && js_rd_left(&r))
            rc = JS_ECORRUPT;
        free(raw);
        if (rc) {
            if (rc == JS_ECORRUPT && bad_block)
                *bad_block = b;
            return rc;
        }
    }
    return 0;
}

void js_store_close(js_store *st)
{
    if (!st)
        return;
    js_bcache_drop(st->owner);
    free(st->ref);
    free(st);
}
