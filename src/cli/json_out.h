/*
 * json_out.h — search results and index statistics as JSON objects, the
 * same for `jiansuo search --json`, `jiansuo stats --json` and the
 * server's /search and /stats (src/serve/).
 *
 * In:  results and statistics from jiansuo.h.
 * Out: new jansson objects the caller owns (json_decref).
 */
#ifndef JS_CLI_JSON_OUT_H
#define JS_CLI_JSON_OUT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "jiansuo.h"

/* {"query", "parsed", "total", "total_exact", "hits", "offset"}: the
 * query as given (len bytes), how it was read, the strict matches
 * counted, the hits returned and the offset they start at. */
json_t *js_cli_query_json(const js_results *r, const char *query,
                          size_t len, uint32_t offset);

/* One hit: rank, score, partial, source, title, format, encoding, id
 * (when it has one), metadata, headings, section, ordinal, start, end,
 * and with snippets, the snippet and its highlights ([start, end) bytes
 * of the snippet's UTF-8). */
json_t *js_cli_hit_json(const js_hit *h, uint64_t rank, int snippets);

/* The index's statistics; dir: its directory, as shown. */
json_t *js_cli_stats_json(const char *dir, const js_index_stats *st);

#endif /* JS_CLI_JSON_OUT_H */
