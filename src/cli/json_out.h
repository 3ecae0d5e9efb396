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

/* JSON text being written; zeroed to start, p malloc'ed (NUL-ended)
 * for the caller to free; failed set when memory ran out. */
typedef struct js_jbuf {
    char *p;
    size_t len, cap;
    int failed;
} js_jbuf;

/* Appends bytes as they are; a string quoted and escaped as jansson's
 * compact output does (invalid UTF-8 becomes U+FFFD); an integer; a
 * real as jansson writes it; `"key":` after a comma unless the buffer
 * ends with { or [. */
void js_jbuf_raw(js_jbuf *b, const char *s, size_t n);
void js_jbuf_str(js_jbuf *b, const char *s, size_t n);
void js_jbuf_cstr(js_jbuf *b, const char *s);
void js_jbuf_uint(js_jbuf *b, uint64_t v);
void js_jbuf_real(js_jbuf *b, double v);
void js_jbuf_key(js_jbuf *b, const char *key);

/* The fields (no braces) "query", "parsed", "total", "total_exact",
 * "hits" and, with with_offset, "offset": the query as given (len
 * bytes), how it was read, the strict matches counted, the hits
 * returned and the offset they start at. */
void js_cli_query_fields(js_jbuf *b, const js_results *r, const char *query,
                         size_t len, uint32_t offset, int with_offset);

/* One hit's fields (no braces): rank, score, partial, source, title,
 * format, encoding, id (when it has one), metadata, headings, section,
 * ordinal, start, end, and with snippets, the snippet and its highlights
 * ([start, end) bytes of the snippet's UTF-8). */
void js_cli_hit_fields(js_jbuf *b, const js_hit *h, uint64_t rank,
                       int snippets);

/* The index's statistics; dir: its directory, as shown. */
json_t *js_cli_stats_json(const char *dir, const js_index_stats *st);

#endif /* JS_CLI_JSON_OUT_H */
