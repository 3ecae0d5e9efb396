/*
 * results.h — js_results, the hits of a search, shared by the native
 * engine (search.c) and the Xapian backend (xapian_search.c)
 * (results.c).
 *
 * In:  per hit, what a backend read from its index: the document's
 *      strings, the heading path, the section's id, ordinal and byte
 *      range, the score, the section body (for the snippet); the parsed
 *      query and the search options.
 * Out: the js_results the public accessors (jiansuo.h) read: hits with
 *      copies of those strings, the heading path split, and a highlighted
 *      snippet (snippet.h), plus the total, the parsed query's text and
 *      the error message.
 *
 * The struct is visible to the backends, which set total, exact, query
 * and err directly; hits are only added through js_results_add.
 */
#ifndef JS_RESULTS_H
#define JS_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "jiansuo.h"
#include "query.h"

typedef struct js_hit_store {
    js_hit h;
    void *block;     /* heading pointers, then the strings: document
                        source, title, format, encoding, id, metadata,
                        the heading path (U+001F replaced by NULs) */
    char *snippet;
    size_t *hl;
} js_hit_store;

struct js_results {
    js_hit_store *hits;
    size_t n, cap;
    uint64_t total;
    int exact;
    char *query; /* js_query_format's text, malloc'ed */
    char err[512];
};

/* One hit as a backend read it.  Nothing is kept: js_results_add copies
 * what it needs. */
typedef struct js_hit_src {
    /* document: source, title, format, encoding, id, metadata (JSON
     * object text or ""); none NULL */
    const char *doc[6];
    const char *path;   /* heading path, headings joined by U+001F */
    size_t path_len;    /* bytes in path (0: no heading) */
    uint32_t section, ordinal;
    uint64_t start, end;
    double score;
    int partial;
    const char *body;   /* section body for the snippet (NULL with
                           JS_SEARCH_NO_SNIPPET) */
    size_t body_len;
} js_hit_src;

/* Allocates empty results.  Returns them (free with js_results_free) or
 * NULL when out of memory. */
js_results *js_results_new(void);

/* Sets r's message (when r is not NULL) and returns rc. */
int js_results_fail(js_results *r, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Checks the caller's options (NULL: the defaults) and completes them
 * into *o (snippet length clamped to 10..10000).  Returns 0, or
 * JS_EINVALID / JS_ELIMIT with r's message set. */
int js_results_options(js_results *r, const js_search_options *in,
                       js_search_options *o);

/* The start both backends share: makes *out (new results; NULL only
 * when that allocation fails), checks the arguments (have_source: the
 * index or database is there) and options into *o, parses the query into
 * *q (the caller frees it with js_query_free; NULL on failure) and keeps
 * its formatted reading on the results.  Returns 0, JS_ENOMEM, or
 * JS_EINVALID / JS_ELIMIT with the results' message set. */
int js_results_begin(js_results **out, int have_source, const char *query,
                     size_t len, unsigned analyze_flags,
                     const js_search_options *opts, js_search_options *o,
                     js_qnode **q);

/* Expands q's prefix leaves with a backend's lister (js_query_expand)
 * and makes r's query text show the expansions.  Nothing happens for a
 * query without prefixes.  Returns 0, or JS_ENOMEM or fn's code with r's
 * message set (fn may set it first). */
int js_results_expand(js_results *r, js_qnode *q, js_qexpand_fn fn,
                      void *ctx);

/* Appends hit s to r: copies the document strings and the heading path,
 * and (unless o->flags has JS_SEARCH_NO_SNIPPET) finds q's matches in
 * s->body (re-analysed with analyze_flags; a partial hit matches grams)
 * and makes the snippet.  Returns 0, or JS_ENOMEM or the snippet's code
 * with r's message set; a hit that failed half-way stays in r, half
 * filled, so that js_results_free frees what it holds. */
int js_results_add(js_results *r, const js_hit_src *s, const js_qnode *q,
                   unsigned analyze_flags, const js_search_options *o);

#endif /* JS_RESULTS_H */
