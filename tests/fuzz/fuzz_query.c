/*
 * fuzz_query.c — libFuzzer target for the query parser and the engine.
 *
 * In:  one selector byte, then a query (untrusted UTF-8).  The selector
 *      picks the search options: bits 0-1 the limit (0, 1, 10, 1000),
 *      bit 2 an offset of 3, bit 3 no snippets, bit 4 tiny snippets and
 *      odd BM25 parameters, bit 5 parse with JS_ANALYZE_NO_FOLD too,
 *      bit 6 make the n-th allocation of query.c / snippet.c fail (n from
 *      the last byte), bit 7 unused (kept for later options).
 *      The index is fixed (fuzz_index.h), built once in
 *      LLVMFuzzerInitialize.
 * Out: nothing; abort() when:
 *      - js_query_parse and js_search disagree, or fail with a code the
 *        API does not allow for a valid index (anything but JS_EINVALID,
 *        JS_ELIMIT, and JS_ENOMEM when an allocation was made to fail);
 *      - a hit is out of range: section id, byte range, snippet not
 *        valid UTF-8, highlights outside the snippet or out of order;
 *      - the ranking is not ordered (strict hits by score, then partial
 *        hits by score), or partial hits appear with JS_SEARCH_NO_PARTIAL;
 *      - the strict hits differ between the search with partial fallback,
 *        the one without, the exhaustive one (JS_SEARCH_EXACT_TOTAL) and
 *        the one that walks postings where a champion list would answer
 *        (JS_SEARCH_NO_CHAMPIONS): top-k pruning, the fallback and the
 *        lists must not change what ranks.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_index.h"
#include "fuzz_results.h"
#include "jiansuo.h"
#include "query.h"

static js_index *ix;
static uint64_t nsections;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *dir = fuzz_index_build();
    if (js_index_open(&ix, dir) != 0)
        FUZZ_FAIL("opening the fixture index: %s", js_index_errmsg(ix));
    js_index_stats st;
    js_index_get_stats(ix, &st);
    nsections = st.sections;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    size_t qlen = size - 1;
    char *q = fuzz_copy(data + 1, qlen);

    /* The parser alone, both analysis modes, and what it prints. */
    char err[256];
    js_qnode *tree = NULL;
    int prc = js_query_parse(&tree, q, qlen, 0, err, sizeof err);
    if (!allowed(prc, 0))
        FUZZ_FAIL("js_query_parse gave %d", prc);
    if (prc == 0) {
        char *f = js_query_format(tree);
        if (!f)
            FUZZ_FAIL("js_query_format failed");
        free(f);
        js_qgram *g = NULL;
        uint32_t ng = 0;
        if (js_query_grams(tree, &g, &ng) != 0)
            FUZZ_FAIL("js_query_grams failed");
        if (ng && js_query_partial_need(ng) > ng)
            FUZZ_FAIL("partial need over %u grams", ng);
        free(g);
        js_query_free(tree);
    } else if (!memchr(err, 0, sizeof err) || !err[0]) {
        FUZZ_FAIL("parse error %d without a message", prc);
    }
    if (sel & 0x20) {
        js_qnode *t2 = NULL;
        int rc2 = js_query_parse(&t2, q, qlen, JS_ANALYZE_NO_FOLD, NULL, 0);
        /* Folding maps characters one to one: it cannot make a query
         * valid or invalid. */
        if (rc2 != prc)
            FUZZ_FAIL("parse gave %d folded, %d not", prc, rc2);
        js_query_free(t2);
    }

    js_search_options o = fuzz_options(sel);

    js_results *r = NULL;
    int rc = js_search(&r, ix, q, qlen, &o);
    if (rc != prc)
        FUZZ_FAIL("js_search gave %d (%s), js_query_parse %d", rc,
                  js_results_errmsg(r), prc);
    if (rc == 0) {
        size_t strict = check_results(r, &o, nsections);
        /* The same without partial fallback and exhaustively: the strict
         * hits must be the same sections, in the same order. */
        js_search_options o2 = o;
        o2.flags |= JS_SEARCH_NO_PARTIAL;
        js_search_options o3 = o;
        o3.flags |= JS_SEARCH_EXACT_TOTAL;
        js_search_options o5 = o;
        o5.flags |= JS_SEARCH_NO_CHAMPIONS;
        const js_search_options *alt[3] = {&o2, &o3, &o5};
        for (int a = 0; a < 3; a++) {
            js_results *r2 = NULL;
            if (js_search(&r2, ix, q, qlen, alt[a]) != 0)
                FUZZ_FAIL("search %d failed: %s", a, js_results_errmsg(r2));
            size_t strict2 = check_results(r2, alt[a], nsections);
            size_t cmp = strict < strict2 ? strict : strict2;
            for (size_t i = 0; i < cmp; i++)
                if (js_results_hit(r, i)->section !=
                        js_results_hit(r2, i)->section ||
                    js_results_hit(r, i)->score != js_results_hit(r2, i)->score)
                    FUZZ_FAIL("strict hit %zu differs (variant %d)", i, a);
            /* Partial hits only follow the strict ones, so each search
             * returns as many strict hits. */
            if (strict != strict2)
                FUZZ_FAIL("%zu strict hits, %zu in variant %d", strict,
                          strict2, a);
            int exact = 0;
            uint64_t t2 = js_results_total(r2, &exact);
            if (a == 1 && !exact)
                FUZZ_FAIL("EXACT_TOTAL gave an estimate");
            if (a == 1 && strict && t2 < o.offset + strict)
                FUZZ_FAIL("exact total %llu below %u + %zu strict hits",
                          (unsigned long long)t2, o.offset, strict);
            js_results_free(r2);
        }
    }
    js_results_free(r);

    /* Out of memory at the n-th allocation: a clean JS_ENOMEM or a
     * success, never a crash or a leak. */
    if ((sel & 0x40) && qlen) {
        js_query_failpoint = 1 + data[size - 1] % 64;
        js_results *r4 = NULL;
        int rc4 = js_search(&r4, ix, q, qlen, &o);
        js_query_failpoint = 0;
        if (!allowed(rc4, 1))
            FUZZ_FAIL("search with a failing allocation gave %d", rc4);
        if (rc4 == 0)
            check_results(r4, &o, nsections);
        js_results_free(r4);
    }
    free(q);
    return 0;
}
