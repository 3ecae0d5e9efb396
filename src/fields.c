/*
 * fields.c — a section's heading field and body -> tokens with field
 * positions, and the fields' lengths (see fields.h).
 *
 * In:  a js_section and the pipeline's flags.
 * Out: tokens to the caller's callback, marked heading or body.
 */
#include "config.h"

#include "fields.h"

#include "chartab.h"
#include "utf8.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The field being analysed: where its positions have reached. */
typedef struct field_run {
    js_field_token_fn fn;
    void *ctx;
    int heading;
    int any;      /* a token seen in this field */
    uint32_t max; /* its largest position */
} field_run;

static int on_token(void *ctx, const js_token *t)
{
    field_run *f = ctx;
    if (!f->any || t->position > f->max)
        f->max = t->position;
    f->any = 1;
    return f->fn(f->ctx, t, f->heading);
}

/* Analyses one text into f's field, two positions past what it used. */
static int analyze(field_run *f, unsigned flags, const char *text, size_t len)
{
    js_analyze_options ao = JS_ANALYZE_OPTIONS_INIT;
    ao.flags = flags;
    ao.first_position = f->any ? f->max + 2 : 0;
    return js_text_analyze(text, len, &ao, on_token, f);
}

/* Analyses one heading of the path into f's field, unless it equals the
 * title, which the field already holds. */
static int heading(field_run *f, unsigned flags, const char *title,
                   const char *text, size_t len)
{
    if (len == strlen(title) && !memcmp(text, title, len))
        return 0;
    return analyze(f, flags, text, len);
}

int js_fields_analyze_heading(const char *title, const char *path,
                              size_t path_len, unsigned flags,
                              js_field_token_fn fn, void *ctx,
                              uint32_t *head_len)
{
    field_run f = {fn, ctx, 1, 0, 0};
    int rc;
    *head_len = 0;
    if ((rc = analyze(&f, flags, title, strlen(title))))
        return rc;
    for (size_t i = 0; path_len && i <= path_len;) {
        const char *sep = memchr(path + i, 0x1F, path_len - i);
        size_t end = sep ? (size_t)(sep - path) : path_len;
        if ((rc = heading(&f, flags, title, path + i, end - i)))
            return rc;
        i = end + 1;
    }
    *head_len = f.any ? f.max + 1 : 0;
    return 0;
}

int js_fields_analyze(const js_section *s, unsigned flags,
                      js_field_token_fn fn, void *ctx, uint32_t *head_len,
                      uint32_t *body_len, const char **field)
{
    field_run f = {fn, ctx, 1, 0, 0};
    const char *title = s->document->title ? s->document->title : "";
    int rc;
    *head_len = *body_len = 0;
    *field = "heading";
    if ((rc = analyze(&f, flags, title, strlen(title))))
        return rc;
    for (size_t i = 0; i < s->depth; i++)
        if ((rc = heading(&f, flags, title, s->path[i], strlen(s->path[i]))))
            return rc;
    *head_len = f.any ? f.max + 1 : 0;
    f = (field_run){fn, ctx, 0, 0, 0};
    *field = "body";
    if ((rc = analyze(&f, flags, s->body, s->body_len)))
        return rc;
    *body_len = f.any ? f.max + 1 : 0;
    return 0;
}

int js_fields_feed(js_ingest *ing, const char *path, const char *name,
                   const void *data, size_t len, js_section_fn fn, void *ctx,
                   int *sticky, char *err, size_t errlen)
{
    if (*sticky)
        return *sticky;
    int rc = path ? js_ingest_path(ing, path, fn, ctx)
                  : js_ingest_memory(ing, name, data, len, fn, ctx);
    if (!rc)
        return 0;
    if (*sticky)
        return *sticky; /* failed inside fn: the build is lost */
    snprintf(err, errlen, "%s", js_ingest_errmsg(ing));
    if (rc == JS_ENOTFOUND || rc == JS_EIO)
        return rc; /* a path the user must fix; the build can go on */
    *sticky = rc;
    return rc;
}

char *js_fields_identity(const char *path)
{
    char *c = realpath(path, NULL);
    return c ? c : strdup(path);
}

char *js_fields_identity_gone(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t slash = n;
    while (slash > 0 && path[slash - 1] != '/')
        slash--;
    const char *base = path + slash;
    size_t blen = n - slash;
    if (blen == 0 || (blen == 1 && base[0] == '.') ||
        (blen == 2 && base[0] == '.' && base[1] == '.'))
        return NULL;
    char *dir;
    if (slash == 0) {
        dir = realpath(".", NULL);
    } else {
        char *d = strndup(path, slash);
        dir = d ? realpath(d, NULL) : NULL;
        free(d);
    }
    if (!dir)
        return NULL;
    size_t dl = strlen(dir), need = dl + 1 + blen + 1;
    char *out = malloc(need);
    if (out)
        snprintf(out, need, "%s%s%.*s", dir,
                 dl && dir[dl - 1] == '/' ? "" : "/", (int)blen, base);
    free(dir);
    return out;
}

int js_fields_term_kind(const char *term, size_t len)
{
    const unsigned char *p = (const unsigned char *)term;
    if (len && p[0] == 1) { /* the heading field's prefix */
        p++;
        len--;
    }
    uint32_t cps[2];
    int n = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t l = js_utf8_decode(p + i, len - i, &cp);
        if (n == 2 || cp == JS_UTF8_INVALID || cp > 0x10FFFF)
            return JS_TOKEN_WORD;
        cps[n++] = cp;
        i += l;
    }
    for (int i = 0; i < n; i++)
        if (js_chartab_class(js_chartab_get(cps[i], 0)) != JS_CC_CJK)
            return JS_TOKEN_WORD;
    return n == 1 ? JS_TOKEN_UNIGRAM : n == 2 ? JS_TOKEN_BIGRAM : JS_TOKEN_WORD;
}

int js_fields_term_has_positions(uint32_t positions_for, const char *term,
                                 size_t len)
{
    switch (js_fields_term_kind(term, len)) {
    case JS_TOKEN_UNIGRAM:
        return (positions_for & 2u) != 0;
    case JS_TOKEN_BIGRAM:
        return (positions_for & 4u) != 0;
    default:
        return (positions_for & 1u) != 0;
    }
}

void js_fields_clock_start(js_fields_clock *c)
{
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
    c->last = 0;
}

double js_fields_elapsed(const js_fields_clock *c)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - c->t0.tv_sec) +
           (double)(t.tv_nsec - c->t0.tv_nsec) / 1e9;
}

void js_fields_progress(js_fields_clock *c, const js_build_options *o,
                        const js_ingest *ing, uint64_t sections, int phase,
                        int force)
{
    if (!o->progress)
        return;
    double now = js_fields_elapsed(c);
    if (!force && now - c->last < 0.25)
        return;
    c->last = now;
    js_ingest_stats is;
    js_ingest_get_stats(ing, &is);
    js_build_progress p = {is.files, sections, is.bytes_read, now, phase};
    o->progress(o->progress_ctx, &p);
}
