/*
 * fuzz_results.h — what the query targets (fuzz_query.c on the native
 * index, fuzz_xquery.c on the Xapian backend) check of a result set.
 *
 * In:  results and the options they were asked with; the index's section
 *      count.
 * Out: check_results aborts (FUZZ_FAIL) when a hit is out of range
 *      (section id, byte range, snippet not valid UTF-8, highlights
 *      outside the snippet or out of order) or the ranking is not ordered
 *      (strict hits by score, then partial hits by score), or partial
 *      hits appear with JS_SEARCH_NO_PARTIAL; it returns the number of
 *      strict hits.  allowed: the codes a search may give on a valid
 *      index.  fuzz_options: the options a selector byte picks.
 */
#ifndef JS_FUZZ_RESULTS_H
#define JS_FUZZ_RESULTS_H

#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "jiansuo.h"

static inline int valid_utf8(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2
                   : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (!len || n - i < len)
            return 0;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
        i += len;
    }
    return 1;
}

/* Checks one result set; returns the number of strict hits. */
static inline size_t check_results(const js_results *r,
                                   const js_search_options *o,
                                   uint64_t nsections)
{
    size_t n = js_results_count(r);
    if (n > o->limit)
        FUZZ_FAIL("%zu hits for limit %u", n, o->limit);
    if (js_results_hit(r, n) != NULL)
        FUZZ_FAIL("a hit past the end");
    if (!js_results_query(r))
        FUZZ_FAIL("no query text");
    size_t strict = 0;
    for (size_t i = 0; i < n; i++) {
        const js_hit *h = js_results_hit(r, i);
        if (!h || h->section >= nsections)
            FUZZ_FAIL("hit %zu: section %u of %llu", i, h ? h->section : 0,
                      (unsigned long long)nsections);
        if (!isfinite(h->score))
            FUZZ_FAIL("hit %zu: score %g", i, h->score);
        if (h->partial && (o->flags & JS_SEARCH_NO_PARTIAL))
            FUZZ_FAIL("partial hit with NO_PARTIAL");
        if (!h->partial) {
            if (strict != i)
                FUZZ_FAIL("strict hit %zu after a partial one", i);
            strict++;
        }
        if (i > 0) {
            const js_hit *p = js_results_hit(r, i - 1);
            if (p->partial == h->partial &&
                (p->score < h->score ||
                 (p->score == h->score && p->section > h->section)))
                FUZZ_FAIL("hit %zu (%g, #%u) ranks above hit %zu (%g, #%u)",
                          i, h->score, h->section, i - 1, p->score,
                          p->section);
        }
        if (h->start > h->end || !h->source || !h->title || !h->format ||
            !h->encoding || !h->id || !h->metadata ||
            (h->depth && !h->headings))
            FUZZ_FAIL("hit %zu: bad range or missing strings", i);
        for (size_t d = 0; d < h->depth; d++)
            if (!h->headings[d])
                FUZZ_FAIL("hit %zu: heading %zu missing", i, d);
        if (!h->snippet ||
            !valid_utf8((const uint8_t *)h->snippet, h->snippet_len))
            FUZZ_FAIL("hit %zu: snippet not valid UTF-8", i);
        if ((o->flags & JS_SEARCH_NO_SNIPPET) && h->snippet_len)
            FUZZ_FAIL("hit %zu: snippet despite NO_SNIPPET", i);
        size_t prev_end = 0;
        for (size_t k = 0; k < h->nhighlights; k++) {
            size_t a = h->highlights[2 * k], b = h->highlights[2 * k + 1];
            if (a >= b || b > h->snippet_len || a < prev_end)
                FUZZ_FAIL("hit %zu: highlight [%zu,%zu) in %zu bytes", i, a,
                          b, h->snippet_len);
            if (!valid_utf8((const uint8_t *)h->snippet + a, b - a))
                FUZZ_FAIL("hit %zu: highlight cuts a character", i);
            prev_end = b;
        }
    }
    return strict;
}

static inline int allowed(int rc, int oom)
{
    return rc == 0 || rc == JS_EINVALID || rc == JS_ELIMIT ||
           (oom && rc == JS_ENOMEM);
}

/* The search options a selector byte picks: bits 0-1 the limit (0, 1,
 * 10, 1000), bit 2 an offset of 3, bit 3 no snippets, bit 4 tiny
 * snippets and odd BM25 parameters. */
static inline js_search_options fuzz_options(uint8_t sel)
{
    static const uint32_t limits[4] = {0, 1, 10, 1000};
    js_search_options o = JS_SEARCH_OPTIONS_INIT;
    o.limit = limits[sel & 3];
    o.offset = sel & 4 ? 3 : 0;
    if (sel & 8)
        o.flags |= JS_SEARCH_NO_SNIPPET;
    if (sel & 0x10) {
        o.snippet_chars = 3;
        o.k1 = 0;
        o.b = 1;
        o.heading_weight = 0.5;
    }
    return o;
}

/* A copy of data[0..n) of exactly n bytes (1 when n is 0), so that ASan
 * catches a read past the query; the caller frees it. */
static inline char *fuzz_copy(const uint8_t *data, size_t n)
{
    char *q = malloc(n ? n : 1);
    if (!q)
        abort();
    memcpy(q, data, n);
    return q;
}

#endif /* JS_FUZZ_RESULTS_H */
