/*
 * fuzz_xquery.c — libFuzzer target for searches through the Xapian
 * backend (src/xapian/xapian_search.c and the shim over libxapian).
 *
 * In:  one selector byte, then a query (untrusted UTF-8), as fuzz_query.c
 *      reads them: bits 0-1 the limit (0, 1, 10, 1000), bit 2 an offset
 *      of 3, bit 3 no snippets, bit 4 tiny snippets and odd BM25
 *      parameters, bits 5-7 unused.  The index is fixed: fuzz_index.h's
 *      documents in a Xapian index of two shards, built once in
 *      LLVMFuzzerInitialize.
 * Out: nothing; abort() when:
 *      - js_search and js_query_parse disagree, or the search
 *        fails with a code the API does not allow for a valid index;
 *      - a hit is out of range or the ranking is not ordered
 *        (fuzz_results.h);
 *      - the strict hits differ between the search with partial fallback
 *        and the one without: the fallback must not change what ranks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_index.h"
#include "fuzz_results.h"
#include "jiansuo.h"
#include "query.h"

static js_index *xi;
static uint64_t nsections;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *dir = fuzz_xindex_build();
    if (js_index_open(&xi, dir) != 0 || js_index_backend(xi) != JS_BACKEND_XAPIAN)
        FUZZ_FAIL("opening the Xapian fixture index: %s", js_index_errmsg(xi));
    js_index_stats st;
    js_index_get_stats(xi, &st);
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

    js_qnode *tree = NULL;
    int prc = js_query_parse(&tree, q, qlen, 0, NULL, 0);
    js_query_free(tree);

    js_search_options o = fuzz_options(sel);

    js_results *r = NULL;
    int rc = js_search(&r, xi, q, qlen, &o);
    if (!allowed(rc, 0))
        FUZZ_FAIL("js_search gave %d: %s", rc, js_results_errmsg(r));
    if (rc != prc)
        FUZZ_FAIL("js_search gave %d (%s), js_query_parse %d", rc,
                  js_results_errmsg(r), prc);
    if (rc == 0) {
        size_t strict = check_results(r, &o, nsections);
        js_search_options o2 = o;
        o2.flags |= JS_SEARCH_NO_PARTIAL;
        js_results *r2 = NULL;
        if (js_search(&r2, xi, q, qlen, &o2) != 0)
            FUZZ_FAIL("search without partial failed: %s",
                      js_results_errmsg(r2));
        size_t strict2 = check_results(r2, &o2, nsections);
        if (strict != strict2)
            FUZZ_FAIL("%zu strict hits, %zu without partial", strict, strict2);
        for (size_t i = 0; i < strict; i++)
            if (js_results_hit(r, i)->section != js_results_hit(r2, i)->section ||
                js_results_hit(r, i)->score != js_results_hit(r2, i)->score)
                FUZZ_FAIL("strict hit %zu differs without partial", i);
        js_results_free(r2);
    }
    js_results_free(r);
    free(q);
    return 0;
}
