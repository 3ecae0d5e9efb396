/*
 * search.h — the native backend's js_search (search.c).
 *
 * In:  an open native index (index/reader.h), a query, options.
 * Out: js_results (results.h), as jiansuo.h's js_search describes them.
 */
#ifndef JS_SEARCH_H
#define JS_SEARCH_H

#include <stddef.h>

#include "jiansuo.h"
#include "reader.h"

/* js_search on a native index; contract in jiansuo.h. */
int js_reader_search(js_results **out, js_reader *ix, const char *query,
                     size_t len, const js_search_options *opts);

#endif /* JS_SEARCH_H */
