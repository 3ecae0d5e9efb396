/*
 * json_out.c — results and statistics as JSON (see json_out.h).
 *
 * In:  js_results, js_hit, js_index_stats.  Out: jansson objects.
 */
#include "config.h"

#include <stdlib.h>

#include "json_out.h"

json_t *js_cli_query_json(const js_results *r, const char *query,
                          size_t len, uint32_t offset)
{
    int exact;
    uint64_t total = js_results_total(r, &exact);
    json_t *q = json_object();
    json_object_set_new(q, "query", json_stringn(query, len));
    json_object_set_new(q, "parsed", json_string(js_results_query(r)));
    json_object_set_new(q, "total", json_integer((json_int_t)total));
    json_object_set_new(q, "total_exact", json_boolean(exact));
    json_object_set_new(q, "hits",
                        json_integer((json_int_t)js_results_count(r)));
    json_object_set_new(q, "offset", json_integer(offset));
    return q;
}

json_t *js_cli_hit_json(const js_hit *h, uint64_t rank, int snippets)
{
    json_t *o = json_object(), *hd = json_array();
    json_object_set_new(o, "rank", json_integer((json_int_t)rank));
    json_object_set_new(o, "score", json_real(h->score));
    json_object_set_new(o, "partial", json_boolean(h->partial));
    json_object_set_new(o, "source", json_string(h->source));
    json_object_set_new(o, "title", json_string(h->title));
    json_object_set_new(o, "format", json_string(h->format));
    json_object_set_new(o, "encoding", json_string(h->encoding));
    if (h->id[0])
        json_object_set_new(o, "id", json_string(h->id));
    json_t *meta = h->metadata[0] ? json_loads(h->metadata, 0, NULL) : NULL;
    json_object_set_new(o, "metadata", meta ? meta : json_null());
    for (size_t j = 0; j < h->depth; j++)
        json_array_append_new(hd, json_string(h->headings[j]));
    json_object_set_new(o, "headings", hd);
    json_object_set_new(o, "section", json_integer(h->section));
    json_object_set_new(o, "ordinal", json_integer(h->ordinal));
    json_object_set_new(o, "start", json_integer((json_int_t)h->start));
    json_object_set_new(o, "end", json_integer((json_int_t)h->end));
    if (snippets) {
        json_t *hl = json_array();
        json_object_set_new(o, "snippet",
                            json_stringn(h->snippet, h->snippet_len));
        for (size_t j = 0; j < h->nhighlights; j++) {
            json_t *pair = json_array();
            json_array_append_new(pair, json_integer((json_int_t)h->highlights[2 * j]));
            json_array_append_new(pair, json_integer((json_int_t)h->highlights[2 * j + 1]));
            json_array_append_new(hl, pair);
        }
        json_object_set_new(o, "highlights", hl);
    }
    return o;
}

#define JINT(v) json_integer((json_int_t)(v))

/* The statistics as one JSON object (dir: the index directory). */
json_t *js_cli_stats_json(const char *dir, const js_index_stats *st)
{
    int x = st->backend == JS_BACKEND_XAPIAN;
    json_t *o = json_object();
    json_object_set_new(o, "index", json_string(dir));
    if (x)
        json_object_set_new(o, "backend", json_string("xapian"));
    json_object_set_new(o, "format_version", json_integer(st->format_version));
    if (x)
        json_object_set_new(o, "shards", json_integer(st->shards));
    json_object_set_new(o, "documents", JINT(st->documents));
    json_object_set_new(o, "sections", JINT(st->sections));
    json_object_set_new(o, "terms", JINT(st->terms));
    json_object_set_new(o, "postings", JINT(st->postings));
    json_object_set_new(o, "positions", JINT(st->positions));
    if (x)
        json_object_set_new(o, "total_length", JINT(st->total_length));
    json_object_set_new(o, "source_bytes", JINT(st->source_bytes));
    json_object_set_new(o, "text_bytes", JINT(st->text_bytes));
    json_object_set_new(o, "file_bytes", JINT(st->file_bytes));
    if (x) {
        json_t *shards = json_array();
        for (unsigned i = 0; i < st->shards; i++) {
            json_t *sh = json_object();
            json_object_set_new(sh, "sections", JINT(st->shard[i].sections));
            json_object_set_new(sh, "total_length", JINT(st->shard[i].total_length));
            json_object_set_new(sh, "bytes", JINT(st->shard[i].bytes));
            json_array_append_new(shards, sh);
        }
        json_object_set_new(o, "shard", shards);
    } else {
        json_t *parts = json_object();
        for (unsigned i = 1; i <= JS_INDEX_PARTS; i++)
            json_object_set_new(parts, js_index_part_name(i), JINT(st->part_bytes[i]));
        json_object_set_new(o, "part_bytes", parts);
        json_object_set_new(o, "block_size", json_integer(st->block_size));
        json_object_set_new(o, "generation", JINT(st->generation));
        json_object_set_new(o, "deleted_sections", JINT(st->deleted_sections));
        json_t *segs = json_array();
        for (unsigned i = 0; i < st->segments; i++) {
            const js_index_segment *g = &st->segment[i];
            json_t *sg = json_object();
            json_object_set_new(sg, "name", json_string(g->name));
            json_object_set_new(sg, "sections", JINT(g->sections));
            json_object_set_new(sg, "live", JINT(g->sections - g->deleted));
            json_object_set_new(sg, "deleted", JINT(g->deleted));
            json_object_set_new(sg, "documents", JINT(g->documents));
            json_object_set_new(sg, "bytes", JINT(g->bytes));
            json_array_append_new(segs, sg);
        }
        json_object_set_new(o, "segments", segs);
    }
    json_object_set_new(o, "fold", json_boolean(!(st->analyze_flags & JS_ANALYZE_NO_FOLD)));
    json_t *bi = json_loads(st->build_info, 0, NULL);
    json_object_set_new(o, "build", bi ? bi : json_null());
    return o;
}

