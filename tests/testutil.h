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
static void tu_appendf(tu_render *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void tu_appendf(tu_render *r, const char *fmt, ...)
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

static int tu_render_token(void *ctx, const js_token *t)
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
static char *tu_analyze(const char *text, size_t len, unsigned flags,
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

#endif
