/*
 * json_out.c — results and statistics as JSON (see json_out.h).
 *
 * In:  js_results, js_hit, js_index_stats.
 * Out: hits and queries as JSON text, written straight into a buffer
 *      (a search's answer is mostly this text, and building it as
 *      jansson objects cost as much as the search: a third of the
 *      server's time); statistics as a jansson object.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"

/* ---------------------------------------------------------------------
 * The text builder
 * ------------------------------------------------------------------- */

static void jb_grow(js_jbuf *b, size_t more)
{
    if (b->failed)
        return;
    if (b->len + more + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + more + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

void js_jbuf_raw(js_jbuf *b, const char *s, size_t n)
{
    jb_grow(b, n);
    if (b->failed)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void jb_lit(js_jbuf *b, const char *s) { js_jbuf_raw(b, s, strlen(s)); }

/* Length of the valid UTF-8 sequence at s[0..n), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

void js_jbuf_str(js_jbuf *b, const char *str, size_t n)
{
    /* jansson's escapes, so that the text is what json_dumps writes;
     * a byte that is not UTF-8 (which the index should never hold)
     * becomes U+FFFD rather than invalid JSON */
    const unsigned char *s = (const unsigned char *)str;
    jb_grow(b, n + 2);
    js_jbuf_raw(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t l = c >= 0x20 && c != '"' && c != '\\' ? utf8_len(s + i, n - i)
                                                       : 0;
        if (l) {
            i += l;
            run += l;
            continue;
        }
        js_jbuf_raw(b, str + i - run, run);
        run = 0;
        char esc[8];
        switch (c) {
        case '"': jb_lit(b, "\\\""); break;
        case '\\': jb_lit(b, "\\\\"); break;
        case '\b': jb_lit(b, "\\b"); break;
        case '\f': jb_lit(b, "\\f"); break;
        case '\n': jb_lit(b, "\\n"); break;
        case '\r': jb_lit(b, "\\r"); break;
        case '\t': jb_lit(b, "\\t"); break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04X", c);
                jb_lit(b, esc);
            } else {
                jb_lit(b, "\xEF\xBF\xBD");
            }
        }
        i++;
    }
    js_jbuf_raw(b, str + n - run, run);
    js_jbuf_raw(b, "\"", 1);
}

void js_jbuf_cstr(js_jbuf *b, const char *s) { js_jbuf_str(b, s, strlen(s)); }

void js_jbuf_uint(js_jbuf *b, uint64_t v)
{
    char d[24];
    int n = snprintf(d, sizeof d, "%" PRIu64, v);
    js_jbuf_raw(b, d, (size_t)n);
}

void js_jbuf_real(js_jbuf *b, double v)
{
    /* as jansson writes a real: %.17g, a ".0" when that looks like an
     * integer, no '+' or leading zeros in the exponent */
    if (!isfinite(v)) {
        jb_lit(b, "null");
        return;
    }
    char d[40], out[40];
    snprintf(d, sizeof d, "%.17g", v);
    size_t o = 0;
    const char *e = strchr(d, 'e');
    if (e) {
        memcpy(out, d, (size_t)(e - d));
        o = (size_t)(e - d);
        out[o++] = 'e';
        const char *x = e + 1;
        if (*x == '+')
            x++;
        else if (*x == '-')
            out[o++] = *x++;
        while (*x == '0' && x[1])
            x++;
        while (*x)
            out[o++] = *x++;
        out[o] = 0;
    } else {
        o = strlen(d);
        memcpy(out, d, o + 1);
        if (!strchr(out, '.')) {
            memcpy(out + o, ".0", 3);
            o += 2;
        }
    }
    js_jbuf_raw(b, out, o);
}

void js_jbuf_key(js_jbuf *b, const char *key)
{
    if (b->len && b->p[b->len - 1] != '{' && b->p[b->len - 1] != '[')
        js_jbuf_raw(b, ",", 1);
    js_jbuf_raw(b, "\"", 1);
    jb_lit(b, key);
    js_jbuf_raw(b, "\":", 2);
}

/* ---------------------------------------------------------------------
 * Results
 * ------------------------------------------------------------------- */

void js_cli_query_fields(js_jbuf *b, const js_results *r, const char *query,
                         size_t len, uint32_t offset, int with_offset)
{
    int exact;
    uint64_t total = js_results_total(r, &exact);
    js_jbuf_key(b, "query");
    js_jbuf_str(b, query, len);
    js_jbuf_key(b, "parsed");
    js_jbuf_cstr(b, js_results_query(r));
    js_jbuf_key(b, "total");
    js_jbuf_uint(b, total);
    js_jbuf_key(b, "total_exact");
    jb_lit(b, exact ? "true" : "false");
    js_jbuf_key(b, "hits");
    js_jbuf_uint(b, js_results_count(r));
    if (with_offset) {
        js_jbuf_key(b, "offset");
        js_jbuf_uint(b, offset);
    }
}

void js_cli_hit_fields(js_jbuf *b, const js_hit *h, uint64_t rank,
                       int snippets)
{
    js_jbuf_key(b, "rank");
    js_jbuf_uint(b, rank);
    js_jbuf_key(b, "score");
    js_jbuf_real(b, h->score);
    js_jbuf_key(b, "partial");
    jb_lit(b, h->partial ? "true" : "false");
    js_jbuf_key(b, "source");
    js_jbuf_cstr(b, h->source);
    js_jbuf_key(b, "title");
    js_jbuf_cstr(b, h->title);
    js_jbuf_key(b, "format");
    js_jbuf_cstr(b, h->format);
    js_jbuf_key(b, "encoding");
    js_jbuf_cstr(b, h->encoding);
    if (h->id[0]) {
        js_jbuf_key(b, "id");
        js_jbuf_cstr(b, h->id);
    }
    /* The metadata is JSON text from the index: parsed, so that bytes
     * from disk never reach the output unchecked, and written again. */
    js_jbuf_key(b, "metadata");
    json_t *meta = h->metadata[0] ? json_loads(h->metadata, 0, NULL) : NULL;
    char *mt = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
    json_decref(meta);
    jb_lit(b, mt ? mt : "null");
    free(mt);
    js_jbuf_key(b, "headings");
    js_jbuf_raw(b, "[", 1);
    for (size_t j = 0; j < h->depth; j++) {
        if (j)
            js_jbuf_raw(b, ",", 1);
        js_jbuf_cstr(b, h->headings[j]);
    }
    js_jbuf_raw(b, "]", 1);
    js_jbuf_key(b, "section");
    js_jbuf_uint(b, h->section);
    js_jbuf_key(b, "ordinal");
    js_jbuf_uint(b, h->ordinal);
    js_jbuf_key(b, "start");
    js_jbuf_uint(b, h->start);
    js_jbuf_key(b, "end");
    js_jbuf_uint(b, h->end);
    if (snippets) {
        js_jbuf_key(b, "snippet");
        js_jbuf_str(b, h->snippet, h->snippet_len);
        js_jbuf_key(b, "highlights");
        js_jbuf_raw(b, "[", 1);
        for (size_t j = 0; j < h->nhighlights; j++) {
            js_jbuf_raw(b, j ? ",[" : "[", j ? 2 : 1);
            js_jbuf_uint(b, h->highlights[2 * j]);
            js_jbuf_raw(b, ",", 1);
            js_jbuf_uint(b, h->highlights[2 * j + 1]);
            js_jbuf_raw(b, "]", 1);
        }
        js_jbuf_raw(b, "]", 1);
    }
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

