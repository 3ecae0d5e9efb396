/*
 * results.c — js_results: hits built from backend-neutral inputs, and the
 * public accessors (results.h, jiansuo.h "Searching").
 *
 * In:  hits as a backend read them (js_hit_src).
 * Out: js_hit records owning copies of their strings, with the heading
 *      path split and a snippet made from the body (snippet.c).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "results.h"
#include "snippet.h"

js_results *js_results_new(void) { return calloc(1, sizeof(js_results)); }

int js_results_fail(js_results *r, int rc, const char *fmt, ...)
{
    if (r) {
        va_list ap;
        va_start(ap, fmt);
        js_error_vset(r->err, sizeof r->err, rc, NULL, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int js_results_begin(js_results **out, int have_source, const char *query,
                     size_t len, unsigned analyze_flags,
                     const js_search_options *opts, js_search_options *o,
                     js_qnode **q)
{
    *q = NULL;
    js_results *r = *out = js_results_new();
    if (!r)
        return JS_ENOMEM;
    if (!have_source || (!query && len))
        return js_results_fail(r, JS_EINVALID, "no index or no query");
    int rc = js_results_options(r, opts, o);
    if (rc)
        return rc;
    rc = js_query_parse(q, query ? query : "", len, analyze_flags, r->err,
                        sizeof r->err);
    if (rc)
        return rc;
    if (!(r->query = js_query_format(*q)))
        return js_results_fail(r, JS_ENOMEM, "out of memory");
    return 0;
}

int js_results_expand(js_results *r, js_qnode *q, js_qexpand_fn fn,
                      void *ctx)
{
    if (!js_query_has_prefix(q))
        return 0;
    int rc = js_query_expand(q, fn, ctx);
    if (rc == JS_ENOMEM)
        return js_results_fail(r, rc, "out of memory");
    if (rc)
        return r->err[0] ? rc
                         : js_results_fail(r, rc, "expanding a prefix: %s",
                                           js_strerror(rc));
    char *text = js_query_format(q);
    if (!text)
        return js_results_fail(r, JS_ENOMEM, "out of memory");
    free(r->query);
    r->query = text;
    return 0;
}

/* Checks and completes the options.  Returns 0 or JS_EINVALID. */
int js_results_options(js_results *r, const js_search_options *in,
                       js_search_options *o)
{
    js_search_options d = JS_SEARCH_OPTIONS_INIT;
    *o = in ? *in : d;
    if (o->version != JS_SEARCH_OPTIONS_VERSION)
        return js_results_fail(r, JS_EINVALID, "unknown search options version %u",
                    o->version);
    if (!(o->k1 >= 0 && o->k1 <= 100))
        return js_results_fail(r, JS_EINVALID, "k1 must lie in 0..100");
    if (!(o->b >= 0 && o->b <= 1))
        return js_results_fail(r, JS_EINVALID, "b must lie in 0..1");
    if (!(o->heading_weight >= 0 && o->heading_weight <= 1000))
        return js_results_fail(r, JS_EINVALID, "the heading weight must lie in 0..1000");
    if ((uint64_t)o->offset + o->limit > JS_SEARCH_MAX_HITS)
        return js_results_fail(r, JS_ELIMIT, "offset + limit is over %u",
                    JS_SEARCH_MAX_HITS);
    if (o->snippet_chars == 0)
        o->snippet_chars = 80;
    if (o->snippet_chars < 10)
        o->snippet_chars = 10;
    if (o->snippet_chars > 10000)
        o->snippet_chars = 10000;
    return 0;
}

int js_results_add(js_results *r, const js_hit_src *s, const js_qnode *q,
                   unsigned analyze_flags, const js_search_options *o)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        js_hit_store *n = realloc(r->hits, cap * sizeof *n);
        if (!n)
            return js_results_fail(r, JS_ENOMEM, "out of memory");
        r->hits = n;
        r->cap = cap;
    }
    /* counted at once, so that js_results_free frees a half-made hit */
    js_hit_store *hs = &r->hits[r->n++];
    memset(hs, 0, sizeof *hs);
    js_hit *h = &hs->h;

    /* One allocation for the hit's strings: the heading pointers (first,
     * for their alignment), the six document strings, the heading path
     * with its U+001F separators replaced by NULs. */
    size_t path_len = s->path ? s->path_len : 0;
    size_t depth = path_len ? 1 : 0;
    for (size_t i = 0; i < path_len; i++)
        depth += s->path[i] == 0x1F;
    size_t lens[6], size = (depth + 1) * sizeof(const char *) + path_len + 1;
    for (int i = 0; i < 6; i++) {
        lens[i] = strlen(s->doc[i] ? s->doc[i] : "") + 1;
        size += lens[i];
    }
    if (!(hs->block = malloc(size)))
        return js_results_fail(r, JS_ENOMEM, "out of memory");
    const char **headings = (const char **)hs->block;
    char *p = (char *)(headings + depth + 1);
    const char **strs[6] = {&h->source, &h->title, &h->format,
                            &h->encoding, &h->id, &h->metadata};
    for (int i = 0; i < 6; i++) {
        memcpy(p, s->doc[i] ? s->doc[i] : "", lens[i]);
        *strs[i] = p;
        p += lens[i];
    }
    char *path = p;
    if (path_len)
        memcpy(path, s->path, path_len);
    path[path_len] = 0;
    size_t d = 0;
    if (depth) {
        headings[d++] = path;
        for (size_t i = 0; i < path_len; i++)
            if (path[i] == 0x1F) {
                path[i] = 0;
                headings[d++] = path + i + 1;
            }
    }
    headings[d] = NULL;
    h->section = s->section;
    h->ordinal = s->ordinal;
    h->score = s->score;
    h->partial = s->partial;
    h->start = s->start;
    h->end = s->end;
    h->snippet = "";
    h->headings = headings;
    h->depth = depth;
    if (o->flags & JS_SEARCH_NO_SNIPPET)
        return 0;

    const char *body = s->body ? s->body : "";
    size_t body_len = s->body ? s->body_len : 0;
    js_range *found = NULL;
    size_t nfound = 0;
    int rc = js_snippet_find(&found, &nfound, body, body_len, q, analyze_flags,
                             s->partial ? JS_FIND_GRAMS : 0);
    js_snippet sn = {0};
    if (!rc)
        rc = js_snippet_make(&sn, body, body_len, found, nfound,
                             o->snippet_chars);
    free(found);
    if (rc)
        return js_results_fail(r, rc, "making the snippet of section %u: %s",
                               s->section, js_strerror(rc));
    hs->snippet = sn.text;
    h->snippet = sn.text;
    h->snippet_len = sn.len;
    if (sn.nhl) {
        if (!(hs->hl = malloc(2 * sn.nhl * sizeof *hs->hl))) {
            js_snippet_clear(&sn);
            hs->snippet = NULL;
            h->snippet = "";
            h->snippet_len = 0;
            return js_results_fail(r, JS_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < sn.nhl; i++) {
            hs->hl[2 * i] = sn.hl[i].start;
            hs->hl[2 * i + 1] = sn.hl[i].end;
        }
    }
    h->highlights = hs->hl;
    h->nhighlights = sn.nhl;
    free(sn.hl); /* the text now belongs to hs */
    return 0;
}

size_t js_results_count(const js_results *r) { return r ? r->n : 0; }

const js_hit *js_results_hit(const js_results *r, size_t i)
{
    return r && i < r->n ? &r->hits[i].h : NULL;
}

uint64_t js_results_total(const js_results *r, int *exact)
{
    if (exact)
        *exact = r ? r->exact : 0;
    return r ? r->total : 0;
}

const char *js_results_query(const js_results *r)
{
    return r && r->query ? r->query : "";
}

const char *js_results_errmsg(const js_results *r) { return r ? r->err : ""; }

void js_results_free(js_results *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        js_hit_store *hs = &r->hits[i];
        free(hs->block);
        free(hs->snippet);
        free(hs->hl);
    }
    free(r->hits);
    free(r->query);
    free(r);
}
