/*
 * fields.c — a section's heading field and body -> tokens with field
 * positions, and the fields' lengths (see fields.h).
 *
 * In:  a js_section and the pipeline's flags.
 * Out: tokens to the caller's callback, marked heading or body.
 */
#include "config.h"

#include "fields.h"

#include <stdio.h>
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
    for (size_t i = 0; i < s->depth; i++) {
        if (!strcmp(s->path[i], title))
            continue;
        if ((rc = analyze(&f, flags, s->path[i], strlen(s->path[i]))))
            return rc;
    }
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
