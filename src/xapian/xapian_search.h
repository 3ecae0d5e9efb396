/*
 * xapian_search.h — the query language on a Xapian index
 * (xapian_search.c).
 *
 * In:  an open js_xdb (xapian_shim.h: local shards, remote ones, or
 *      both, as one database), the JS_ANALYZE_* flags the index was built
 *      with, a query string and js_search_options.
 * Out: js_results (results.h), filled exactly as js_search fills them
 *      for the native index: strict hits, then partial ones when too
 *      few, each with its document, heading path, byte range and snippet
 *      taken from the document data the writer stored (xapian_build.h).
 *
 * Semantics (doc/ARCHITECTURE.md, "src/xapian/"):
 *  - a part (query.h leaf) is a phrase of its terms in the body, OR the
 *    same phrase of 0x01-prefixed terms in the heading field scaled by
 *    the heading weight (only the latter under title:).  The phrase gets
 *    every term the part holds at consecutive positions: the cover's
 *    bigrams plus the bigrams the cover skips (c2 c3 of a run c1 c2 c3
 *    c4), so that a CJK run is an exact phrase.  Where the part spans a
 *    separator (a quoted "工匠 学院", or 学院abc written "学院 abc"),
 *    Xapian's phrase window lets the two sides stand closer than typed:
 *    a superset of the native matches;
 *  - AND, OR and exclusion (AND_NOT) as the tree says;
 *  - BM25Weight(k1, 0, 1, b, min_normlen 0) over Xapian's document
 *    length (every term of both fields), so scores differ from the
 *    native BM25F; ties break by section id (value slot 0), as
 *    natively;
 *  - partial hits: the grams of the positive parts ORed (each in the
 *    body or, scaled, in the heading field), minus the strict matches
 *    and the root's exclusions, keeping the documents that hold at least
 *    40% of the grams, and two once there are three (match.c's rule;
 *    counted from Xapian's matching terms).
 */
#ifndef JS_XAPIAN_SEARCH_H
#define JS_XAPIAN_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "jiansuo.h"
#include "xapian_shim.h"

/* Runs query[0..len) on db (doccount documents: the bound that makes
 * JS_SEARCH_EXACT_TOTAL exact) with opts (NULL: defaults).  Returns 0
 * and *out, or the codes of js_search plus Xapian's (JS_EIO for a lost
 * remote server); *out is set when memory allows, with the message (free
 * it either way).  Uses db alone: callers serialise calls on one db. */
int js_xsearch_run(js_results **out, js_xdb *db, uint64_t doccount,
                   unsigned analyze_flags, const char *query, size_t len,
                   const js_search_options *opts);

#endif /* JS_XAPIAN_SEARCH_H */
