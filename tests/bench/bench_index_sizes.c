/*
 * bench_index_sizes.c — where the bytes of an index's postings go.
 *
 * In:  an index directory (argument).
 * Out: on stdout, per kind of term (body or heading field; word, CJK
 *      unigram, CJK bigram), the terms, terms of df 1, postings,
 *      positions, and the megabytes of their postings records (format
 *      5), the part in records of one block (varints alone), and the
 *      whole split into skip tables, section ids, frequencies and
 *      positions (each re-encoded here as codec.c writes it: ids Stream
 *      VByte or varints, frequencies bitmap and varints or the flag bit
 *      in the id's varint, positions varints; the split adds up to the
 *      records but for rounding); then the page crcs' part.
 *
 * Used by hand (scripts/bench prints the parts; this says why they are
 * that size):  tests/bench/bench_index_sizes DIR
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <streamvbyte.h>
#include <streamvbytedelta.h>

#include "reader.h"
#include "search.h"

enum { KINDS = 8 };

typedef struct {
    uint64_t terms, df1, postings, positions;
    uint64_t bytes, small, skip, ids, tfs, pos;
} kind_sizes;

static const char *const kind_name[KINDS] = {
    "body word",    "body unigram", "body bigram", "body mixed",
    "head word",    "head unigram", "head bigram", "head mixed"};

typedef struct {
    js_reader *ix;
    kind_sizes k[KINDS];
    uint32_t *ids, *tfs, *pos;
    size_t cap, pcap;
    uint8_t *out;
} walk;

/* A term's kind: heading or body, then all CJK (lead byte 0xE3 and up)
 * of one character, of two, none (a word), or a mix. */
static int kind_of(const char *t, size_t n)
{
    int head = n && t[0] == 1;
    t += head;
    n -= (size_t)head;
    size_t chars = 0, cjk = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if ((c & 0xC0) != 0x80) {
            chars++;
            cjk += c >= 0xE3;
        }
    }
    int k = cjk == 0 ? 0 : cjk != chars ? 3 : chars == 1 ? 1 : chars == 2 ? 2 : 3;
    return k + 4 * head;
}

/* Bytes of v as a varint. */
static unsigned vlen(uint64_t v)
{
    unsigned n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void *grow(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "bench_index_sizes: out of memory\n");
        exit(1);
    }
    return q;
}

static int on_term(void *ctx, const char *term, size_t len,
                   const js_term_info *ti)
{
    walk *w = ctx;
    kind_sizes *x = &w->k[kind_of(term, len)];
    x->terms++;
    x->df1 += ti->df == 1;
    x->postings += ti->df;
    x->bytes += ti->length;
    if (ti->df > w->cap) {
        w->cap = (size_t)ti->df * 2;
        w->ids = grow(w->ids, w->cap * 4);
        w->tfs = grow(w->tfs, w->cap * 4);
    }
    const js_part *p = &w->ix->f.parts[JS_PART_POSTINGS];
    int has_pos = (ti->flags & JS_TERM_POSITIONS) != 0;
    js_postings_cursor c;
    if (js_postings_open(&c, p->p + ti->offset, ti->length, ti->df,
                         w->ix->st.block_size, has_pos, w->ix->nsections))
        return JS_ECORRUPT;
    uint32_t n = 0;
    size_t np = 0;
    int rc;
    while ((rc = js_postings_next(&c)) == 1) {
        w->ids[n] = c.id;
        w->tfs[n++] = c.tf;
        if (has_pos) {
            const uint32_t *q;
            if (js_postings_positions(&c, &q))
                return JS_ECORRUPT;
            if (np + c.tf > w->pcap) {
                w->pcap = (np + c.tf) * 2;
                w->pos = grow(w->pos, w->pcap * 4);
            }
            memcpy(w->pos + np, q, (size_t)c.tf * 4);
            np += c.tf;
        }
    }
    js_postings_close(&c);
    if (rc < 0)
        return rc;
    uint32_t bs = w->ix->st.block_size, nb = (n + bs - 1) / bs, prev = 0;
    /* positions: a varint per difference, either encoding */
    size_t pp = 0;
    for (uint32_t i = 0; has_pos && i < n; i++) {
        uint32_t last = 0;
        for (uint32_t j = 0; j < w->tfs[i]; j++) {
            x->pos += vlen(w->pos[pp + j] - last);
            last = w->pos[pp + j];
        }
        pp += w->tfs[i];
        x->positions += w->tfs[i];
    }
    if (nb == 1) { /* varint(gap << 1 | tf > 1) [varint(tf - 2)] */
        x->small += ti->length;
        uint64_t last = 0;
        for (uint32_t i = 0; i < n; i++) {
            x->ids += vlen((w->ids[i] - last) << 1 | (w->tfs[i] > 1));
            last = w->ids[i];
            if (w->tfs[i] > 1)
                x->tfs += vlen(w->tfs[i] - 2);
        }
        return 0;
    }
    x->skip += 16ull * nb + 4;
    for (uint32_t b = 0; b < nb; b++) {
        uint32_t lo = b * bs, cnt = n - lo < bs ? n - lo : bs;
        x->ids += streamvbyte_delta_encode(w->ids + lo, cnt, w->out, prev);
        prev = w->ids[lo + cnt - 1];
        x->tfs += (cnt + 7) / 8; /* the bitmap */
        for (uint32_t i = 0; i < cnt; i++)
            if (w->tfs[lo + i] > 1)
                x->tfs += vlen(w->tfs[lo + i] - 2);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_index_sizes INDEX-DIR\n");
        return 2;
    }
    walk w;
    memset(&w, 0, sizeof w);
    if (js_reader_open(&w.ix, argv[1])) {
        fprintf(stderr, "bench_index_sizes: %s\n", js_reader_errmsg(w.ix));
        js_reader_close(w.ix);
        return 1;
    }
    w.out = grow(NULL, streamvbyte_max_compressedbytes(JS_BLOCK_SIZE * 8) + 16);
    int rc = js_lexicon_iter(w.ix->lex, on_term, &w);
    if (rc) {
        fprintf(stderr, "bench_index_sizes: the index is damaged (%d)\n", rc);
        return 1;
    }
    double text = (double)w.ix->st.text_bytes;
    printf("%-13s %9s %9s %10s %10s %8s %6s %7s %6s %6s %6s %6s\n", "kind",
           "terms", "df=1", "postings", "positions", "MB", "x-text",
           "1-block", "skip", "ids", "tfs", "pos");
    kind_sizes t;
    memset(&t, 0, sizeof t);
    for (int i = 0; i <= KINDS; i++) {
        const kind_sizes *x = i < KINDS ? &w.k[i] : &t;
        if (i < KINDS && !x->terms)
            continue;
        printf("%-13s %9llu %9llu %10llu %10llu %8.2f %6.3f %7.2f %6.2f %6.2f "
               "%6.2f %6.2f\n",
               i < KINDS ? kind_name[i] : "total",
               (unsigned long long)x->terms, (unsigned long long)x->df1,
               (unsigned long long)x->postings,
               (unsigned long long)x->positions, x->bytes / 1e6,
               x->bytes / text, x->small / 1e6, x->skip / 1e6, x->ids / 1e6,
               x->tfs / 1e6, x->pos / 1e6);
        if (i < KINDS) {
            t.terms += x->terms;
            t.df1 += x->df1;
            t.postings += x->postings;
            t.positions += x->positions;
            t.bytes += x->bytes;
            t.small += x->small;
            t.skip += x->skip;
            t.ids += x->ids;
            t.tfs += x->tfs;
            t.pos += x->pos;
        }
    }
    printf("(MB = 10^6 bytes; x-text: per byte of the %.1f MB of body text; "
           "1-block: records of at most one block, varints alone; page "
           "crcs %.2f MB; lexicon %.2f MB)\n",
           text / 1e6, w.ix->st.part_bytes[JS_PART_POSTINGS_CRC] / 1e6,
           (w.ix->st.part_bytes[JS_PART_LEXICON] +
            w.ix->st.part_bytes[JS_PART_LEXICON_INDEX]) / 1e6);
    free(w.ids);
    free(w.tfs);
    free(w.pos);
    free(w.out);
    js_reader_close(w.ix);
    return 0;
}
