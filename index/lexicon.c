/*
 * lexicon.c — the term dictionary: writer and reader of the LEXICON and
 * LEXICON_INDEX parts (index/FORMAT.md, parts 6 and 7).
 *
 * In (writer): terms in strictly increasing memcmp order, each with its
 *      js_term_info.
 * Out: LEXICON, front-coded blocks of up to terms_per_block entries
 *      (u32 entries length | entries | u32 crc32 of the entries), and
 *      LEXICON_INDEX (u32 block count, u64 term count, per block u64 offset
 *      and u32 first-term length, then the first terms' bytes).
 * In (reader): those two parts, untrusted, and the size of POSTINGS.
 * Out: one term's js_term_info (binary search over the first terms, then
 *      one block decoded on the stack), or every term in order.
 *
 * Reader rules, beyond the format's fields:
 *  - Blocks lie one after another from offset 0 to the end of LEXICON, so
 *    block i spans [offset i, offset i+1) and its declared length must be
 *    exactly that span minus its 8 bytes of frame.  This lets open check
 *    the layout from the index alone, without touching (page-faulting)
 *    every block of a memory-mapped LEXICON; the length and crc32 are
 *    checked when a block is decoded.
 *  - A block holds 1..256 entries, whatever terms_per_block wrote it.
 *  - 1 <= max_tf <= cf - df + 1 (one section cannot hold more than the
 *    occurrences left after one in every other section), and flags hold
 *    only JS_TERM_POSITIONS.  The writer refuses what the reader rejects.
 *  - A lookup that ends between two blocks (or before the first) confirms
 *    that the next block's first entry spells the index's first term, so a
 *    damaged index cannot turn a present term into JS_ENOTFOUND.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>

#include "lexicon.h"

/* Longest term: a word of JS_TERM_MAX_BYTES after the 0x01 heading prefix. */
#define LEX_TERM_MAX (JS_TERM_MAX_BYTES + 1)
/* Most entries a reader accepts in one block (the writer's upper bound). */
#define LEX_BLOCK_MAX 256u
/* LEXICON_INDEX: u32 block count + u64 term count, then 12-byte entries. */
#define LEX_INDEX_HEAD 12u
#define LEX_INDEX_ENTRY 12u
/* A block's frame: u32 length before the entries, u32 crc32 after. */
#define LEX_FRAME 8u
/* Entry flags beside JS_TERM_POSITIONS (FORMAT.md, part 6). */
#define LEX_CONTIGUOUS 2u     /* offset = previous offset + length */
#define LEX_MAX_TF_IMPLIED 4u /* max tf = cf - df + 1 */
#define LEX_CF_IS_DF 8u       /* cf = df: the cf field is left out */
/* A nibble of an entry's head bytes holds a value below LEX_NIB; LEX_NIB
 * itself says a varint of the value - LEX_NIB follows (FORMAT.md). */
#define LEX_NIB 15u

/* Compares two byte strings in memcmp order, the shorter first on a tie.
 * Returns <0, 0 or >0. */
static int term_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return (al > bl) - (al < bl);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | ((uint64_t)get_u32(p + 4) << 32);
}

/* Returns the first 8 bytes of a term as a big-endian integer, zero-padded:
 * integer order of two keys agrees with memcmp order of the terms whenever
 * the keys differ, so the binary search compares integers held in one
 * small array and reads term bytes only on a tie. */
static uint64_t term_key(const uint8_t *s, size_t n)
{
    uint64_t k = 0;
    for (size_t i = 0; i < 8; i++)
        k = (k << 8) | (i < n ? s[i] : 0);
    return k;
}

/* ------------------------------------------------------------------
 * Writer
 * ---------------------------------------------------------------- */

struct js_lexicon_writer {
    uint32_t per_block; /* entries a block, 1..256 */
    uint32_t in_block;  /* entries in the open block */
    uint32_t nblocks;   /* closed blocks */
    uint64_t nterms;
    js_buf lex;    /* closed blocks: the LEXICON part so far */
    js_buf ent;    /* entries of the open block */
    js_buf idx;    /* index entries of closed blocks */
    js_buf firsts; /* first terms, the open block's included */
    uint32_t first_len; /* of the open block's first term */
    uint8_t prev[LEX_TERM_MAX];
    size_t prev_len;   /* 0 until the first term */
    uint64_t prev_off; /* postings offset of the previous term */
    uint64_t prev_plen; /* and its postings length */
    uint64_t lex_base; /* LEXICON bytes drained before lex */
    int finished, drained;
};

/* Returns 0 and *out (the caller frees it with js_lexicon_writer_free),
 * JS_EINVALID for a block size outside 1..256, or JS_ENOMEM. */
int js_lexicon_writer_new(js_lexicon_writer **out, uint32_t terms_per_block)
{
    if (!out || terms_per_block < 1 || terms_per_block > LEX_BLOCK_MAX)
        return JS_EINVALID;
    js_lexicon_writer *w = calloc(1, sizeof *w);
    if (!w)
        return JS_ENOMEM;
    w->per_block = terms_per_block;
    *out = w;
    return 0;
}

/* Frames the open block onto w->lex and records it in the index.  Returns
 * 0 or JS_ENOMEM. */
static int close_block(js_lexicon_writer *w)
{
    /* Entries are at most 256 * (2 varints + 257 bytes + 5 varints + 1),
     * far below 4 GiB, so the u32 length cannot overflow. */
    uint32_t n = (uint32_t)w->ent.len;
    uint32_t crc = libdeflate_crc32(0, w->ent.p, n);
    if (js_buf_u64(&w->idx, w->lex_base + (uint64_t)w->lex.len) ||
        js_buf_u32(&w->idx, w->first_len) || js_buf_u32(&w->lex, n) ||
        js_buf_put(&w->lex, w->ent.p, n) || js_buf_u32(&w->lex, crc))
        return JS_ENOMEM;
    w->ent.len = 0;
    w->in_block = 0;
    w->nblocks++;
    return 0;
}

/* Copies the term into the open block.  Returns 0; JS_EINVALID for a
 * term or info the reader would reject, out of order, or after finish
 * (the writer is unchanged and goes on); JS_ELIMIT past 2^32 - 1 blocks;
 * JS_ENOMEM (the writer is then spent: finish fails too). */
int js_lexicon_add(js_lexicon_writer *w, const char *term, size_t len,
                   const js_term_info *info)
{
    const uint8_t *t = (const uint8_t *)term;
    if (!w || w->finished || !t || !info || len < 1 || len > LEX_TERM_MAX)
        return JS_EINVALID;
    if (info->df < 1 || info->cf < info->df || info->max_tf < 1 ||
        info->max_tf - 1 > info->cf - info->df ||
        (info->flags & ~JS_TERM_POSITIONS) ||
        info->length > UINT64_MAX - info->offset)
        return JS_EINVALID;
    /* Postings are written in term order, so offsets never go back; the
     * delta coding within a block depends on it. */
    if (w->prev_len && (term_cmp(t, len, w->prev, w->prev_len) <= 0 ||
                        info->offset < w->prev_off))
        return JS_EINVALID;
    if (w->in_block == 0 && w->nblocks == UINT32_MAX)
        return JS_ELIMIT; /* the index counts blocks in a u32 */

    size_t shared = 0;
    uint64_t off = info->offset;
    if (w->in_block) {
        size_t max = len < w->prev_len ? len : w->prev_len;
        while (shared < max && t[shared] == w->prev[shared])
            shared++;
        off -= w->prev_off;
    } else {
        w->first_len = (uint32_t)len;
        if (js_buf_put(&w->firsts, t, len))
            return JS_ENOMEM;
    }
    /* Fields the reader can infer are left out (FORMAT.md): the offset
     * of a record that follows the previous entry's, and a max tf of
     * cf - df + 1 (every term of df 1, and every term whose sections hold
     * it once each). */
    uint8_t flags = (uint8_t)info->flags;
    if (w->in_block && info->offset - w->prev_off == w->prev_plen)
        flags |= LEX_CONTIGUOUS;
    if (info->max_tf - 1 == info->cf - info->df)
        flags |= LEX_MAX_TF_IMPLIED;
    if (info->cf == info->df)
        flags |= LEX_CF_IS_DF;
    /* two head bytes: shared and suffix lengths as nibbles, then the
     * flags and df; values of LEX_NIB and up continue in varints */
    size_t suf = len - shared;
    unsigned sn = shared < LEX_NIB ? (unsigned)shared : LEX_NIB;
    unsigned un = suf < LEX_NIB ? (unsigned)suf : LEX_NIB;
    unsigned dn = info->df < LEX_NIB ? info->df : LEX_NIB;
    js_buf *e = &w->ent;
    if (js_buf_u8(e, (uint8_t)(sn << 4 | un)) ||
        (sn == LEX_NIB && js_buf_varint(e, shared - LEX_NIB)) ||
        (un == LEX_NIB && js_buf_varint(e, suf - LEX_NIB)) ||
        js_buf_put(e, t + shared, suf) ||
        js_buf_u8(e, (uint8_t)(dn << 4 | flags)) ||
        (dn == LEX_NIB && js_buf_varint(e, info->df - LEX_NIB)) ||
        (!(flags & LEX_CF_IS_DF) &&
         js_buf_varint(e, info->cf - info->df - 1)) ||
        (!(flags & LEX_CONTIGUOUS) && js_buf_varint(e, off)) ||
        js_buf_varint(e, info->length) ||
        (!(flags & LEX_MAX_TF_IMPLIED) && js_buf_varint(e, info->max_tf)))
        return JS_ENOMEM; /* the buffers' oom flag makes it stick */
    memcpy(w->prev, t, len);
    w->prev_len = len;
    w->prev_off = info->offset;
    w->prev_plen = info->length;
    w->nterms++;
    if (++w->in_block == w->per_block)
        return close_block(w);
    return 0;
}

/* Closes the open block and appends both parts to the caller's buffers
 * (which the caller frees).  Returns 0, JS_ENOMEM (the buffers keep their
 * old length), or JS_EINVALID when called twice. */
int js_lexicon_drain(js_lexicon_writer *w, js_buf *blocks, js_buf *idx,
                     js_buf *firsts)
{
    if (!w || !blocks || !idx || !firsts)
        return JS_EINVALID;
    if (w->lex.oom || w->ent.oom || w->idx.oom || w->firsts.oom)
        return JS_ENOMEM;
    /* the open block's first term stays: it belongs to no closed block */
    size_t keep = w->in_block && !w->finished ? w->first_len : 0;
    size_t move = w->firsts.len - keep;
    if (js_buf_put(blocks, w->lex.p, w->lex.len) ||
        js_buf_put(idx, w->idx.p, w->idx.len) ||
        js_buf_put(firsts, w->firsts.p, move))
        return JS_ENOMEM;
    w->lex_base += w->lex.len;
    w->lex.len = 0;
    w->idx.len = 0;
    if (keep)
        memmove(w->firsts.p, w->firsts.p + move, keep);
    w->firsts.len = keep;
    w->drained = 1;
    return 0;
}

int js_lexicon_end(js_lexicon_writer *w, uint32_t *nblocks, uint64_t *nterms)
{
    if (!w || w->finished)
        return JS_EINVALID;
    w->finished = 1;
    if (w->in_block && close_block(w))
        return JS_ENOMEM;
    if (w->lex.oom || w->ent.oom || w->idx.oom || w->firsts.oom)
        return JS_ENOMEM;
    *nblocks = w->nblocks;
    *nterms = w->nterms;
    return 0;
}

int js_lexicon_finish(js_lexicon_writer *w, js_buf *blocks, js_buf *index)
{
    if (!w || w->finished || w->drained || !blocks || !index)
        return JS_EINVALID;
    w->finished = 1;
    if (w->in_block && close_block(w))
        return JS_ENOMEM;
    if (w->lex.oom || w->ent.oom || w->idx.oom || w->firsts.oom)
        return JS_ENOMEM;
    size_t blocks_len = blocks->len, index_len = index->len;
    if (js_buf_put(blocks, w->lex.p, w->lex.len) ||
        js_buf_u32(index, w->nblocks) || js_buf_u64(index, w->nterms) ||
        js_buf_put(index, w->idx.p, w->idx.len) ||
        js_buf_put(index, w->firsts.p, w->firsts.len)) {
        /* Leave the caller's buffers as they were, bar the oom flag. */
        blocks->len = blocks_len < blocks->len ? blocks_len : blocks->len;
        index->len = index_len < index->len ? index_len : index->len;
        return JS_ENOMEM;
    }
    /* The parts are copied out: release the writer's copy at once. */
    js_buf_free(&w->lex);
    js_buf_free(&w->ent);
    js_buf_free(&w->idx);
    js_buf_free(&w->firsts);
    return 0;
}

void js_lexicon_writer_free(js_lexicon_writer *w)
{
    if (!w)
        return;
    js_buf_free(&w->lex);
    js_buf_free(&w->ent);
    js_buf_free(&w->idx);
    js_buf_free(&w->firsts);
    free(w);
}

/* ------------------------------------------------------------------
 * Reader
 * ---------------------------------------------------------------- */

typedef struct lex_blk {
    size_t boff; /* block i is blocks[boff(i)..boff(i+1)) */
    size_t toff; /* its first term is firsts[toff(i)..toff(i+1)) */
} lex_blk;

struct js_lexicon {
    const uint8_t *blocks; /* LEXICON, borrowed */
    size_t blocks_len;
    const uint8_t *firsts; /* the first terms' bytes inside LEXICON_INDEX */
    uint64_t nterms;
    uint64_t postings_len;
    uint32_t nblocks;
    /* Derived from the index at open, read-only afterwards (one
     * allocation, `key` first).  The binary search reads only `key`, the
     * densest layout; a lookup then needs one line of `blk`. */
    uint64_t *key; /* [nblocks] term_key of each first term */
    lex_blk *blk;  /* [nblocks+1] */
    /* [nblocks] 1 once a lookup has checked the block's crc: a block's
     * bytes cannot change under an open index (they are mapped from a
     * file that is replaced, never rewritten), so each is checked once,
     * not on every lookup.  Atomic: lookups run on many threads. */
    atomic_uchar *ok;
};

/* Returns the length of block i's first term. */
static inline size_t first_len(const js_lexicon *lx, uint32_t i)
{
    return lx->blk[i + 1].toff - lx->blk[i].toff;
}

/* Returns whether s[0..n) is block i's first term.  A term of up to 8
 * bytes is its key and length, so the term bytes (another cache miss) are
 * read only for longer ones. */
static int first_eq(const js_lexicon *lx, uint32_t i, const uint8_t *s,
                    size_t n)
{
    if (n != first_len(lx, i))
        return 0;
    if (n <= 8)
        return term_key(s, n) == lx->key[i];
    return !memcmp(s, lx->firsts + lx->blk[i].toff, n);
}

/* Checks the whole index (see the rules at the top) and derives the
 * search arrays; LEXICON itself is not read here.  Returns 0 and *out
 * (freed with js_lexicon_close; it points into both parts, which the
 * caller keeps alive and owns), JS_ECORRUPT, JS_ENOMEM, or JS_EINVALID
 * for NULL arguments. */
int js_lexicon_open(js_lexicon **out, const uint8_t *blocks, size_t blocks_len,
                    const uint8_t *index, size_t index_len,
                    uint64_t postings_len)
{
    if (!out || (!blocks && blocks_len) || (!index && index_len))
        return JS_EINVALID;
    js_rd r = js_rd_make(index, index_len);
    uint32_t nb = js_rd_u32(&r);
    uint64_t nt = js_rd_u64(&r);
    if (r.bad || nb > js_rd_left(&r) / LEX_INDEX_ENTRY)
        return JS_ECORRUPT;
    /* Every block holds 1..256 terms. */
    if (nt < nb || nt > (uint64_t)nb * LEX_BLOCK_MAX)
        return JS_ECORRUPT;
    const uint8_t *ents = js_rd_bytes(&r, (size_t)nb * LEX_INDEX_ENTRY);
    const uint8_t *firsts = r.p;
    size_t area = js_rd_left(&r);
    if (nb == 0 && (blocks_len || area))
        return JS_ECORRUPT;

    /* nb <= index_len / 12, so these sizes cannot overflow. */
    js_lexicon *lx = calloc(1, sizeof *lx);
    void *arr = malloc((size_t)nb * sizeof(uint64_t) +
                       ((size_t)nb + 1) * sizeof(lex_blk) +
                       (size_t)nb * sizeof(atomic_uchar));
    if (!lx || !arr) {
        free(lx);
        free(arr);
        return JS_ENOMEM;
    }
    lx->key = arr;
    lx->blk = (lex_blk *)(lx->key + nb); /* 8-byte aligned after keys */
    lx->ok = (atomic_uchar *)(lx->blk + nb + 1);
    for (uint32_t i = 0; i < nb; i++)
        atomic_init(&lx->ok[i], 0);

    size_t t = 0;
    for (uint32_t i = 0; i < nb; i++) {
        const uint8_t *e = ents + (size_t)i * LEX_INDEX_ENTRY;
        uint64_t off = get_u64(e);
        uint32_t flen = get_u32(e + 8);
        if (flen < 1 || flen > LEX_TERM_MAX || flen > area - t)
            goto corrupt;
        /* Blocks start at 0 and go up, each leaving room for its frame
         * and at least one byte of entries before the next. */
        if (i == 0 ? off != 0 : off <= lx->blk[i - 1].boff ||
                                    off - lx->blk[i - 1].boff <= LEX_FRAME)
            goto corrupt;
        if (off >= blocks_len)
            goto corrupt;
        if (i && term_cmp(firsts + lx->blk[i - 1].toff, t - lx->blk[i - 1].toff,
                          firsts + t, flen) >= 0)
            goto corrupt;
        lx->blk[i].boff = (size_t)off;
        lx->blk[i].toff = t;
        lx->key[i] = term_key(firsts + t, flen);
        t += flen;
    }
    if (t != area || (nb && blocks_len - lx->blk[nb - 1].boff <= LEX_FRAME))
        goto corrupt;
    lx->blk[nb].toff = t;
    lx->blk[nb].boff = blocks_len;
    lx->blocks = blocks;
    lx->blocks_len = blocks_len;
    lx->firsts = firsts;
    lx->nterms = nt;
    lx->postings_len = postings_len;
    lx->nblocks = nb;
    *out = lx;
    return 0;
corrupt:
    free(arr);
    free(lx);
    return JS_ECORRUPT;
}

uint64_t js_lexicon_count(const js_lexicon *lx) { return lx ? lx->nterms : 0; }

void js_lexicon_close(js_lexicon *lx)
{
    if (!lx)
        return;
    free(lx->key);
    free(lx);
}

/* js_rd_varint and js_rd_varint32 with the one-byte case (most fields)
 * inline. */
static inline uint64_t rd_varint(js_rd *r)
{
    if (r->p < r->end && *r->p < 0x80)
        return *r->p++;
    return js_rd_varint(r);
}

static inline uint32_t rd_varint32(js_rd *r)
{
    if (r->p < r->end && *r->p < 0x80)
        return *r->p++;
    return js_rd_varint32(r);
}

/* Reads an entry's first head byte and the varints it announces: the
 * bytes the term shares with the one before and the length of the rest. */
static inline void rd_lengths(js_rd *r, uint64_t *shared, uint64_t *suf)
{
    uint8_t b = js_rd_u8(r);
    *shared = b >> 4;
    *suf = b & 0x0F;
    if (*shared == LEX_NIB) {
        uint64_t more = rd_varint(r);
        *shared = more <= LEX_TERM_MAX ? more + LEX_NIB : UINT64_MAX;
    }
    if (*suf == LEX_NIB) {
        uint64_t more = rd_varint(r);
        *suf = more <= LEX_TERM_MAX ? more + LEX_NIB : UINT64_MAX;
    }
}

/* A cursor over one block's entries, decoded on the caller's stack so
 * that lookups share nothing. */
typedef struct lex_cur {
    js_rd rd;     /* entries not yet decoded */
    uint32_t blk; /* the block */
    uint32_t n;   /* entries decoded */
    uint64_t off; /* postings offset of the last entry decoded */
    uint64_t plen; /* and its postings length */
    size_t shared; /* bytes term shares with the one before it */
    size_t len;   /* of term */
    uint8_t term[LEX_TERM_MAX];
} lex_cur;

/* Checks block i's frame (declared length = its span - 8, crc32; the
 * crc only once per open lexicon when `once`, see js_lexicon.ok) and
 * points c at its entries.  Returns 0 or JS_ECORRUPT. */
static int cur_open(const js_lexicon *lx, uint32_t i, lex_cur *c, int once)
{
    const uint8_t *p = lx->blocks + lx->blk[i].boff;
    size_t len = lx->blk[i + 1].boff - lx->blk[i].boff - LEX_FRAME; /* >= 1 */
#if defined(__GNUC__)
    /* Ask for every cache line of the block at once: fetched in parallel
     * rather than one after another as crc32 walks them, which is most of
     * a lookup's time once the lexicon outgrows the cache. */
    for (size_t k = 0; k < len + LEX_FRAME; k += 64)
        __builtin_prefetch(p + k);
#endif
    if (len > UINT32_MAX || get_u32(p) != len)
        return JS_ECORRUPT;
    int known = once && atomic_load_explicit(&lx->ok[i], memory_order_acquire);
    if (!known) {
        if (libdeflate_crc32(0, p + 4, len) != get_u32(p + 4 + len))
            return JS_ECORRUPT;
        if (once)
            atomic_store_explicit(&lx->ok[i], 1, memory_order_release);
    }
    c->rd = js_rd_make(p + 4, len);
    c->blk = i;
    c->n = 0;
    c->off = 0;
    c->plen = 0;
    c->len = 0;
    return 0;
}

/* Decodes the next entry of c's block into c->term, c->len and *info,
 * checking every rule before anything is believed.  Returns 1 for an
 * entry, 0 at the end of the block, or JS_ECORRUPT. */
static int cur_next(const js_lexicon *lx, lex_cur *c, js_term_info *info)
{
    js_rd *r = &c->rd;
    if (js_rd_left(r) == 0)
        return c->n ? 0 : JS_ECORRUPT;
    if (c->n == LEX_BLOCK_MAX)
        return JS_ECORRUPT;
    uint64_t shared, suf;
    rd_lengths(r, &shared, &suf);
    if (r->bad || shared > c->len || suf > LEX_TERM_MAX - shared)
        return JS_ECORRUPT;
    const uint8_t *s = js_rd_bytes(r, (size_t)suf);
    if (!s)
        return JS_ECORRUPT;
    size_t total = (size_t)(shared + suf);
    if (c->n == 0) {
        /* shared is 0 here (c->len is); the term must be the index's. */
        if (!first_eq(lx, c->blk, s, total))
            return JS_ECORRUPT;
    } else {
        /* The new term equals the previous one on [0, shared): compare
         * the rest before it overwrites the previous one.  A byte loop,
         * not memcmp: the first byte nearly always decides. */
        const uint8_t *p = c->term + shared;
        size_t n = c->len - (size_t)shared, k = 0;
        if (n > suf)
            n = (size_t)suf;
        while (k < n && s[k] == p[k])
            k++;
        if (k < n ? s[k] < p[k] : total <= c->len)
            return JS_ECORRUPT;
    }
    if (suf <= 16) { /* most suffixes: cheaper than a call to memcpy */
        for (size_t k = 0; k < suf; k++)
            c->term[shared + k] = s[k];
    } else {
        memcpy(c->term + shared, s, (size_t)suf);
    }
    c->shared = (size_t)shared;
    c->len = total;

    uint8_t head = js_rd_u8(r), flags = head & 0x0F;
    uint32_t df = head >> 4;
    if (df == LEX_NIB) {
        uint32_t more = rd_varint32(r);
        df = more <= UINT32_MAX - LEX_NIB ? more + LEX_NIB : 0;
    }
    uint64_t extra = 0; /* cf - df */
    if (!(flags & LEX_CF_IS_DF)) {
        extra = rd_varint(r);
        extra = extra < UINT64_MAX ? extra + 1 : 0;
    }
    if (r->bad || (extra == 0 && !(flags & LEX_CF_IS_DF)) ||
        ((flags & LEX_CONTIGUOUS) && c->n == 0))
        return JS_ECORRUPT;
    /* the previous entry's offset + length fit POSTINGS: no overflow */
    uint64_t off = (flags & LEX_CONTIGUOUS) ? c->off + c->plen : rd_varint(r);
    uint64_t plen = rd_varint(r);
    uint32_t max_tf = (flags & LEX_MAX_TF_IMPLIED)
                          ? (extra < UINT32_MAX ? (uint32_t)extra + 1 : 0)
                          : rd_varint32(r);
    if (r->bad || df < 1 || extra > UINT64_MAX - df)
        return JS_ECORRUPT;
    if (c->n && !(flags & LEX_CONTIGUOUS)) {
        if (off > UINT64_MAX - c->off)
            return JS_ECORRUPT;
        off += c->off;
    }
    if (off > lx->postings_len || plen > lx->postings_len - off)
        return JS_ECORRUPT;
    if (max_tf < 1 || max_tf - 1 > extra)
        return JS_ECORRUPT;
    c->off = off;
    c->plen = plen;
    c->n++;
    info->df = df;
    info->cf = df + extra;
    info->offset = off;
    info->length = plen;
    info->max_tf = max_tf;
    info->flags = flags & JS_TERM_POSITIONS;
    return 1;
}

/* Confirms that block j's first entry spells the index's first term j.
 * No crc32 here: the check only guards a JS_ENOTFOUND that relied on the
 * index's first term, so bytes that spell it confirm the index, and bytes
 * that do not (damage in either part) make the answer JS_ECORRUPT.
 * Returns 0 or JS_ECORRUPT. */
static int check_first(const js_lexicon *lx, uint32_t j)
{
    js_rd r = js_rd_make(lx->blocks + lx->blk[j].boff + 4,
                         lx->blk[j + 1].boff - lx->blk[j].boff - LEX_FRAME);
    uint64_t shared, suf;
    rd_lengths(&r, &shared, &suf);
    if (r.bad || shared != 0 || suf > LEX_TERM_MAX)
        return JS_ECORRUPT;
    const uint8_t *s = js_rd_bytes(&r, (size_t)suf);
    if (!s || !first_eq(lx, j, s, (size_t)suf))
        return JS_ECORRUPT;
    return 0;
}

/* Returns the number of blocks whose first term is <= t[0..len): the
 * term, if stored, is in the block before that number.  Keys decide
 * unless they tie with t's; only then are term bytes compared. */
static uint32_t find_block(const js_lexicon *lx, const uint8_t *t, size_t len)
{
    uint64_t k = term_key(t, len);
    uint32_t lo = 0, hi = lx->nblocks;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c;
        if (lx->key[mid] != k)
            c = lx->key[mid] < k ? -1 : 1;
        else
            c = term_cmp(lx->firsts + lx->blk[mid].toff, first_len(lx, mid), t,
                         len);
        if (c <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Binary search, then one block decoded into a stack cursor: no
 * allocation, nothing written but *out.  Returns 0 and *out, JS_ENOTFOUND
 * (also for lengths no term can have), JS_ECORRUPT, or JS_EINVALID for
 * NULL arguments. */
int js_lexicon_lookup(const js_lexicon *lx, const char *term, size_t len,
                      js_term_info *out)
{
    const uint8_t *t = (const uint8_t *)term;
    if (!lx || !out || (!t && len))
        return JS_EINVALID;
    if (len < 1 || len > LEX_TERM_MAX || lx->nblocks == 0)
        return JS_ENOTFOUND; /* no such term can be stored */

    uint32_t lo = find_block(lx, t, len);
    if (lo == 0) {
        int rc = check_first(lx, 0);
        return rc ? rc : JS_ENOTFOUND;
    }

    lex_cur c;
    js_term_info info;
    int rc = cur_open(lx, lo - 1, &c, 1);
    if (rc)
        return rc;
    /* Every term decoded so far is below the target; m is how many bytes
     * the last of them shares with it.  A term sharing more than m bytes
     * with its predecessor is below the target too (it keeps the byte
     * where the predecessor fell short), so no bytes need comparing; else
     * it agrees with the target up to its shared length, and comparing
     * starts there. */
    size_t m = 0;
    while ((rc = cur_next(lx, &c, &info)) == 1) {
        if (c.shared > m)
            continue;
        size_t p = c.shared, lim = c.len < len ? c.len : len;
        while (p < lim && c.term[p] == t[p])
            p++;
        if (p == lim) {
            if (c.len == len) {
                *out = info;
                return 0;
            }
            if (c.len > len)
                return JS_ENOTFOUND; /* an extension of the target */
        } else if (c.term[p] > t[p]) {
            return JS_ENOTFOUND; /* inside the block's range: certain */
        }
        m = p;
    }
    if (rc < 0)
        return rc;
    /* Past the block's last term: absent only if the next block really
     * starts where the index says. */
    if (lo < lx->nblocks && (rc = check_first(lx, lo)))
        return rc;
    return JS_ENOTFOUND;
}

/* Decodes every block in order, checking everything a lookup checks plus
 * the order across blocks and the term count.  Returns 0, fn's non-zero
 * value, JS_ECORRUPT, or JS_EINVALID for NULL arguments. */
int js_lexicon_iter(const js_lexicon *lx,
                    int (*fn)(void *ctx, const char *term, size_t len,
                              const js_term_info *info),
                    void *ctx)
{
    if (!lx || !fn)
        return JS_EINVALID;
    lex_cur c;
    js_term_info info;
    uint64_t seen = 0;
    c.len = 0;
    for (uint32_t i = 0; i < lx->nblocks; i++) {
        /* Block i's first term is the index's (cur_next checks it), which
         * must come after the last term of block i-1 still in c. */
        if (i && term_cmp(c.term, c.len, lx->firsts + lx->blk[i].toff,
                          first_len(lx, i)) >= 0)
            return JS_ECORRUPT;
        int rc = cur_open(lx, i, &c, 0);
        if (rc)
            return rc;
        while ((rc = cur_next(lx, &c, &info)) == 1) {
            if (++seen > lx->nterms)
                return JS_ECORRUPT;
            int ret = fn(ctx, (const char *)c.term, c.len, &info);
            if (ret)
                return ret;
        }
        if (rc < 0)
            return rc;
    }
    return seen == lx->nterms ? 0 : JS_ECORRUPT;
}

/* Seeks the block that would hold prefix (the last whose first term is
 * <= it), then decodes forward: terms below the prefix are passed over,
 * those starting with it reported, and the first term above them all
 * ends the walk (in memcmp order the terms with a prefix are one run).
 * Blocks after the first are checked against the index's first terms as
 * js_lexicon_iter checks them, so damage is reported, never believed. */
int js_lexicon_prefix(const js_lexicon *lx, const char *prefix, size_t len,
                      int (*fn)(void *ctx, const char *term, size_t len,
                                const js_term_info *info),
                      void *ctx)
{
    const uint8_t *t = (const uint8_t *)prefix;
    if (!lx || !fn || (!t && len))
        return JS_EINVALID;
    if (len > LEX_TERM_MAX || lx->nblocks == 0)
        return 0; /* no stored term can start with it */
    uint32_t lo = len ? find_block(lx, t, len) : 0;
    lex_cur c;
    js_term_info info;
    c.len = 0;
    for (uint32_t i = lo ? lo - 1 : 0; i < lx->nblocks; i++) {
        if (i > (lo ? lo - 1 : 0) &&
            term_cmp(c.term, c.len, lx->firsts + lx->blk[i].toff,
                     first_len(lx, i)) >= 0)
            return JS_ECORRUPT;
        int rc = cur_open(lx, i, &c, 1);
        if (rc)
            return rc;
        while ((rc = cur_next(lx, &c, &info)) == 1) {
            int d = memcmp(c.term, t, c.len < len ? c.len : len);
            if (d < 0 || (d == 0 && c.len < len))
                continue; /* below the prefix */
            if (d > 0)
                return 0; /* past every term that starts with it */
            int ret = fn(ctx, (const char *)c.term, c.len, &info);
            if (ret)
                return ret;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}
