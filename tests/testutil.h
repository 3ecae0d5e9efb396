/*
 * testutil.h — helpers shared by the Check suites.
 *
 * In:  texts to analyse.  Out: the tokens rendered as one compact string,
 *      so that a table row can state a whole expected segmentation:
 *        term/KIND@position[start,end)   with KIND w, u or b
 *      e.g. "久/u@0[0,3) 久有/b@0[0,6) 有/u@1[3,6)".
 */
#ifndef JS_TESTUTIL_H
#define JS_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jiansuo.h"

typedef struct {
    char *buf;
    size_t len, cap;
    size_t ntokens;
    size_t stop_after; /* 0: never stop; else return 99 after that many */
} tu_render;

/* Appends formatted text to r->buf (grown with realloc; aborts the test
 * process if memory runs out).  The caller frees r->buf. */
static inline void tu_appendf(tu_render *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static inline void tu_appendf(tu_render *r, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(r->buf ? r->buf + r->len : NULL,
                          r->buf ? r->cap - r->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            abort();
        if (r->buf && r->len + (size_t)n < r->cap) {
            r->len += (size_t)n;
            return;
        }
        r->cap = (r->cap + (size_t)n + 1) * 2;
        r->buf = realloc(r->buf, r->cap);
        if (!r->buf)
            abort();
        if (r->len == 0)
            r->buf[0] = 0;
    }
}

static inline int tu_render_token(void *ctx, const js_token *t)
{
    tu_render *r = ctx;
    static const char kinds[] = "?wub";
    tu_appendf(r, "%s%.*s/%c@%u[%zu,%zu)", r->ntokens ? " " : "",
               (int)t->term_len, t->term, kinds[t->kind & 3], t->position,
               t->start, t->end);
    r->ntokens++;
    if (r->stop_after && r->ntokens == r->stop_after)
        return 99;
    return 0;
}

/* Analyses text with the given flags and returns the rendering (caller
 * frees); *rc receives js_text_analyze's return value when rc != NULL. */
static inline char *tu_analyze(const char *text, size_t len, unsigned flags,
                        int *rc)
{
    tu_render r = {0};
    js_analyze_options o = JS_ANALYZE_OPTIONS_INIT;
    o.flags = flags;
    tu_appendf(&r, "%s", "");
    int ret = js_text_analyze(text, len, &o, tu_render_token, &r);
    if (rc)
        *rc = ret;
    return r.buf;
}

/* ------------------------------------------------------------------
 * Ingest helpers: run js_ingest_memory or js_ingest_path and render
 * every section as one line
 *     ORDINAL|PATH|BODY|START-END
 * where PATH is the heading path joined by " > " (empty for the text
 * before the first heading, whose heading is the title) and BODY has each
 * newline shown as "\n" (two characters); a document line
 *     DOC|TITLE|FORMAT|ENCODING|ID|METADATA
 * precedes its first section, and each warning is rendered
 *     W|LINE|MESSAGE
 * at the point it was reported.
 * ---------------------------------------------------------------- */

typedef struct {
    tu_render r;
    const js_document *last_doc;
    size_t nwarn;
} tu_ingest_out;

static inline void tu_escape(tu_render *r, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            tu_appendf(r, "\\n");
        else
            tu_appendf(r, "%c", s[i]);
    }
}

static inline int tu_on_section(void *ctx, const js_section *sec)
{
    tu_ingest_out *o = ctx;
    if (sec->ordinal == 0) {
        const js_document *d = sec->document;
        tu_appendf(&o->r, "DOC|%s|%s|%s|%s|%s\n", d->title, d->format,
                   d->encoding, d->id ? d->id : "",
                   d->metadata ? d->metadata : "");
        o->last_doc = d;
    }
    tu_appendf(&o->r, "%u|", sec->ordinal);
    for (size_t i = 0; i < sec->depth; i++)
        tu_appendf(&o->r, "%s%s", i ? " > " : "", sec->path[i]);
    tu_appendf(&o->r, "|");
    tu_escape(&o->r, sec->body, sec->body_len);
    tu_appendf(&o->r, "|%llu-%llu\n", (unsigned long long)sec->start,
               (unsigned long long)sec->end);
    return 0;
}

static inline void tu_on_warning(void *ctx, const char *file, uint64_t line,
                          uint64_t offset, const char *msg)
{
    tu_ingest_out *o = ctx;
    (void)file;
    (void)offset;
    tu_appendf(&o->r, "W|%llu|%s\n", (unsigned long long)line, msg);
    o->nwarn++;
}

/* Ingests data as a document called `name`, with `format` forced unless
 * NULL.  Returns the rendering (caller frees) and stores the return value
 * of js_ingest_memory in *rc and the stats in *stats when not NULL. */
static inline char *tu_ingest(const char *name, const char *data, size_t len,
                       const char *format, int *rc, js_ingest_stats *stats)
{
    tu_ingest_out o = {{0}, NULL, 0};
    js_ingest_options opts = JS_INGEST_OPTIONS_INIT;
    js_ingest *ing = NULL;
    opts.format = format;
    opts.warn = tu_on_warning;
    opts.warn_ctx = &o;
    tu_appendf(&o.r, "%s", "");
    int ret = js_ingest_open(&ing, &opts);
    if (ret == 0)
        ret = js_ingest_memory(ing, name, data, len, tu_on_section, &o);
    if (rc)
        *rc = ret;
    if (stats)
        js_ingest_get_stats(ing, stats);
    js_ingest_close(ing);
    return o.r.buf;
}

#endif
