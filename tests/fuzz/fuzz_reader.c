/*
 * fuzz_reader.c — libFuzzer target for the index reader on damaged files.
 *
 * In:  a list of edits applied to a fixed valid index (fuzz_index.h,
 *      built once in LLVMFuzzerInitialize):
 *        byte 0    flags: bit 0 recompute the file's checksums after the
 *                  edits (header, table of contents, every part), bit 1
 *                  also those of the store's and the lexicon's blocks,
 *                  the postings' skip tables and pages (POSTINGS_CRC),
 *                  so that damage reaches the decoders behind them; bit 2
 *                  run js_reader_check before searching;
 *        then 4-byte edits: region (low nibble: 0 header, 1..9 parts 1
 *        to 9, 10 table of contents, 11 whole file, 12 part 10
 *        CHAMPIONS, 13 part 11 POSTINGS_CRC, 14 and 15 whole file; high
 *        nibble: the operation: set, xor, add, truncate here, u32 = v,
 *        u32 = ~v, u64 = v, zero v bytes), u16 offset in the region
 *        (modulo its length), value v.  (Format 5 added regions 12 and
 *        13; the saved inputs of format 4 replay as edits of the format
 *        5 fixture, those that named 12 to 15 now editing those parts.)
 * Out: nothing; abort() when opening, checking or searching the damaged
 *      index crashes (sanitizers), or gives a code the API does not
 *      promise (open: 0, JS_ECORRUPT, JS_EVERSION; search and check: 0 or
 *      JS_ECORRUPT), or a hit outside the index; and when js_reader_check
 *      passes an index a search then finds corrupt.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "fuzz.h"
#include "fuzz_index.h"
#include "jiansuo.h"
#include "reader.h"
#include "search.h"

static uint8_t *orig;
static size_t orig_len;
static char path[300];
/* Regions of the original file: 0 header, 1..9 parts, 10 table, 11
 * whole file, 12 part 10, 13 part 11. */
static uint64_t reg_off[16], reg_len[16];
/* Postings records of the original file (offset in POSTINGS, length,
 * blocks), so that their skip tables' checksums can be recomputed. */
typedef struct rec {
    uint64_t off, len;
    uint32_t nblocks;
} rec;
static rec *recs;
static size_t nrecs, caprecs;
static uint32_t block_size;

static void fix_crcs(uint8_t *b, size_t n, int blocks);

static int collect(void *ctx, const char *term, size_t len,
                   const js_term_info *info)
{
    (void)ctx, (void)term, (void)len;
    if (nrecs == caprecs) {
        caprecs = caprecs ? 2 * caprecs : 256;
        recs = realloc(recs, caprecs * sizeof *recs);
        if (!recs)
            abort();
    }
    recs[nrecs++] = (rec){info->offset, info->length,
                          (info->df + block_size - 1) / block_size};
    return 0;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t crc(const uint8_t *p, size_t n)
{
    return (uint32_t)crc32(0, p, (uInt)n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *dir = fuzz_index_build();
    snprintf(path, sizeof path, "%s/index.jsi", dir);
    FILE *f = fopen(path, "rb");
    if (!f)
        FUZZ_FAIL("cannot read %s", path);
    fseek(f, 0, SEEK_END);
    orig_len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    orig = malloc(orig_len);
    if (!orig || fread(orig, 1, orig_len, f) != orig_len)
        abort();
    fclose(f);
    /* The layout, from the valid file (FORMAT.md). */
    uint64_t toc = get64(orig + orig_len - 16);
    uint32_t n = get32(orig + toc);
    reg_off[0] = 0, reg_len[0] = 32;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = orig + toc + 4 + 24 * i;
        uint32_t id = get32(e);
        int r = id >= 1 && id <= 9 ? (int)id : id == 10 ? 12 : id == 11 ? 13 : -1;
        if (r >= 0) {
            reg_off[r] = get64(e + 8);
            reg_len[r] = get64(e + 16);
        }
    }
    reg_off[10] = toc, reg_len[10] = orig_len - toc;
    reg_off[11] = reg_off[14] = reg_off[15] = 0;
    reg_len[11] = reg_len[14] = reg_len[15] = orig_len;

    js_reader *ix = NULL;
    if (js_reader_open(&ix, dir) != 0)
        FUZZ_FAIL("opening the fixture index: %s", js_reader_errmsg(ix));
    block_size = ix->st.block_size;
    if (!block_size || js_lexicon_iter(ix->lex, collect, NULL) != 0)
        FUZZ_FAIL("cannot list the fixture's terms");
    js_reader_close(ix);

    /* Recomputing the checksums of the intact file must change nothing,
     * or the edits would not be the only damage. */
    uint8_t *copy = malloc(orig_len);
    if (!copy)
        abort();
    memcpy(copy, orig, orig_len);
    fix_crcs(copy, orig_len, 1);
    for (size_t i = 0; i < orig_len; i++)
        if (copy[i] != orig[i])
            FUZZ_FAIL("recomputed checksums change byte %zu", i);
    free(copy);
    return 0;
}

/* Recomputes the crc32 of each store block, lexicon block and skip
 * table that lies inside its part (the part's place from the damaged
 * table when sane; postings records where the intact lexicon put them),
 * then of each page of POSTINGS whose crc POSTINGS_CRC has room for, and
 * of POSTINGS_CRC itself (its page size when it is one the reader takes,
 * else only its own crc). */
static void fix_blocks(uint8_t *b, size_t n, const uint64_t *off,
                       const uint64_t *len)
{
    if (off[8] + len[8] <= n && len[8] <= n) { /* POSTINGS' skip tables */
        uint8_t *p = b + off[8];
        for (size_t i = 0; i < nrecs; i++) {
            const rec *r = &recs[i];
            if (r->off > len[8] || r->len > len[8] - r->off ||
                r->nblocks <= 1)
                continue;
            uint64_t tab = 16 * (uint64_t)r->nblocks + 4;
            if (tab > r->len)
                continue;
            uint8_t *t = p + r->off + r->len - tab;
            put32(t + tab - 4, crc(t, tab - 4));
        }
    }
    if (off[11] + len[11] <= n && len[11] <= n && len[11] >= 16) {
        uint8_t *c = b + off[11]; /* POSTINGS_CRC */
        uint32_t page = get32(c);
        int postings = off[8] + len[8] <= n && len[8] <= n;
        if (postings && page >= 64 && page <= 65536 && !(page & (page - 1))) {
            uint64_t room = (len[11] - 16) / 4;
            for (uint64_t g = 0; g < room && g * page < len[8]; g++) {
                uint64_t k = len[8] - g * page < page ? len[8] - g * page : page;
                put32(c + 12 + 4 * g, crc(b + off[8] + g * page, k));
            }
        }
        put32(c + len[11] - 4, crc(c, len[11] - 4));
    }
    if (off[4] + len[4] <= n && len[4] <= n) { /* STORE */
        uint8_t *p = b + off[4];
        uint64_t at = 0;
        while (at + 12 <= len[4]) {
            uint32_t clen = get32(p + at + 4);
            if (clen > len[4] - at - 12)
                break;
            put32(p + at + 8, crc(p + at + 12, clen));
            at += 12 + (uint64_t)clen;
        }
    }
    if (off[6] + len[6] <= n && len[6] <= n) { /* LEXICON */
        uint8_t *p = b + off[6];
        uint64_t at = 0;
        while (at + 8 <= len[6]) {
            uint32_t elen = get32(p + at);
            if (elen > len[6] - at - 8)
                break;
            put32(p + at + 4 + elen, crc(p + at + 4, elen));
            at += 8 + (uint64_t)elen;
        }
    }
}

/* Recomputes the part checksums in the table, the table's and the
 * header's, wherever the damaged file still lets us find them. */
static void fix_crcs(uint8_t *b, size_t n, int blocks)
{
    if (n < 48)
        return;
    uint64_t toc = get64(b + n - 16);
    if (toc > n - 16 || n - 16 - toc < 8)
        return;
    uint32_t np = get32(b + toc);
    if (np > 64 || (uint64_t)np * 24 + 8 > n - 16 - toc)
        return;
    uint64_t off[12] = {0}, len[12] = {0};
    for (uint32_t i = 0; i < np; i++) {
        uint8_t *e = b + toc + 4 + 24 * i;
        uint32_t id = get32(e);
        uint64_t po = get64(e + 8), pl = get64(e + 16);
        if (po > n || pl > n - po)
            continue;
        if (id >= 1 && id <= 11)
            off[id] = po, len[id] = pl;
    }
    if (blocks)
        fix_blocks(b, n, off, len);
    for (uint32_t i = 0; i < np; i++) {
        uint8_t *e = b + toc + 4 + 24 * i;
        uint64_t po = get64(e + 8), pl = get64(e + 16);
        if (po <= n && pl <= n - po)
            put32(e + 4, crc(b + po, pl));
    }
    size_t tl = 4 + 24 * (size_t)np;
    put32(b + toc + tl, crc(b + toc, tl));
    put32(b + 28, crc(b, 28));
}

static const char *const queries[] = {
    "借書", "工匠學院", "山水 -人心", "\"江天一色\" OR 城門", "title:手冊",
    "2023年8月", "竹林書屋在哪裡可以借書", "café search", "石橋",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    uint8_t *b = malloc(orig_len);
    if (!b)
        abort();
    memcpy(b, orig, orig_len);
    size_t n = orig_len;
    for (size_t i = 1; i + 4 <= size; i += 4) {
        unsigned r = data[i] & 15, op = data[i] >> 4 & 7;
        if (reg_len[r] == 0)
            continue;
        uint64_t at = reg_off[r] + (data[i + 1] | (unsigned)data[i + 2] << 8) %
                                       reg_len[r];
        uint8_t v = data[i + 3];
        if (at >= n)
            continue;
        switch (op) {
        case 0: b[at] = v; break;
        case 1: b[at] ^= v ? v : 1; break;
        case 2: b[at] = (uint8_t)(b[at] + v); break;
        case 3: n = at; break;
        case 4: case 5: case 6:
            if (n - at >= (op == 6 ? 8u : 4u)) {
                uint32_t w = op == 5 ? ~(uint32_t)v : v;
                put32(b + at, w);
                if (op == 6)
                    put32(b + at + 4, 0);
            }
            break;
        default:
            memset(b + at, 0, n - at < v ? n - at : v);
        }
    }
    if (flags & 1)
        fix_crcs(b, n, flags & 2);

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, b, n) != (ssize_t)n || close(fd) != 0)
        FUZZ_FAIL("cannot write %s", path);
    free(b);

    js_reader *ix = NULL;
    int rc = js_reader_open(&ix, fuzz_index_dir);
    if (rc != 0 && rc != JS_ECORRUPT && rc != JS_EVERSION)
        FUZZ_FAIL("js_reader_open gave %d: %s", rc, ix ? js_reader_errmsg(ix) : "");
    if (rc != 0) {
        if (ix && !*js_reader_errmsg(ix))
            FUZZ_FAIL("open failed (%d) without a message", rc);
        js_reader_close(ix);
        return 0;
    }
    js_index_stats st;
    js_reader_get_stats(ix, &st);
    int checked = -1;
    if (flags & 4) {
        checked = js_reader_check(ix);
        if (checked != 0 && checked != JS_ECORRUPT)
            FUZZ_FAIL("js_reader_check gave %d", checked);
    }
    for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
        js_results *r = NULL;
        js_search_options o = JS_SEARCH_OPTIONS_INIT;
        o.limit = 5;
        if (q & 1)
            o.flags |= JS_SEARCH_EXACT_TOTAL;
        rc = js_reader_search(&r, ix, queries[q], strlen(queries[q]), &o);
        if (rc != 0 && rc != JS_ECORRUPT)
            FUZZ_FAIL("search '%s' gave %d: %s", queries[q], rc,
                      js_results_errmsg(r));
        if (rc == JS_ECORRUPT && checked == 0)
            FUZZ_FAIL("check passed, search '%s' found: %s", queries[q],
                      js_results_errmsg(r));
        for (size_t i = 0; rc == 0 && i < js_results_count(r); i++) {
            const js_hit *h = js_results_hit(r, i);
            if (h->section >= st.sections)
                FUZZ_FAIL("hit on section %u of %llu", h->section,
                          (unsigned long long)st.sections);
            /* Touch every byte handed out, for ASan. */
            volatile size_t sum = strlen(h->source) + strlen(h->title) +
                                  strlen(h->id) + strlen(h->metadata);
            for (size_t d = 0; d < h->depth; d++)
                sum += strlen(h->headings[d]);
            for (size_t k = 0; k < h->snippet_len; k++)
                sum += (unsigned char)h->snippet[k];
            for (size_t k = 0; k < h->nhighlights; k++)
                if (h->highlights[2 * k + 1] > h->snippet_len)
                    FUZZ_FAIL("highlight past the snippet");
            (void)sum;
        }
        js_results_free(r);
    }
    js_reader_close(ix);
    return 0;
}
