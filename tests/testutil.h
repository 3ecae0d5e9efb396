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

#include <check.h>
#include <stdint.h>
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
    tu_ingest_out o = {{0}, 0};
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

/* Ingests data[0..len) as a document called `name` through a fresh
 * handle opened with *opts (borrowed; force the format, the encoding, a
 * warning callback there), handing every section to on_section with ctx.
 * Fails the test if the handle cannot be opened.  Stores the statistics
 * in *stats when stats is not NULL.  Returns js_ingest_memory's value.
 * Nothing is left to free: the handle is closed before returning. */
static inline int tu_ingest_run(const js_ingest_options *opts,
                                const char *name, const char *data,
                                size_t len, js_section_fn on_section,
                                void *ctx, js_ingest_stats *stats)
{
    js_ingest *ing = NULL;
    ck_assert_int_eq(js_ingest_open(&ing, opts), 0);
    int rc = js_ingest_memory(ing, name, data, len, on_section, ctx);
    if (stats)
        js_ingest_get_stats(ing, stats);
    js_ingest_close(ing);
    return rc;
}

/* ------------------------------------------------------------------
 * "A callback's non-zero return stops the parse and comes back": a
 * section callback that counts its calls and returns stop_rc on call
 * number stop_at (0 before).
 * ---------------------------------------------------------------- */

typedef struct {
    int calls;   /* sections seen so far */
    int stop_at; /* the call that returns stop_rc */
    int stop_rc;
} tu_stopper;

static inline int tu_stop_section(void *ctx, const js_section *sec)
{
    tu_stopper *s = ctx;
    (void)sec;
    return ++s->calls == s->stop_at ? s->stop_rc : 0;
}

/* Ingests data as `name` with `format` forced and tu_stop_section as the
 * callback, stopping with stop_rc at section stop_at.  Fails the test if
 * the handle cannot be opened.  Stores the number of callback calls in
 * *calls.  Returns js_ingest_memory's value (stop_rc when the stop came
 * back unchanged).  Nothing is left to free. */
static inline int tu_ingest_stop_at(const char *format, const char *name,
                                    const char *data, size_t len,
                                    int stop_at, int stop_rc, int *calls)
{
    tu_stopper s = {0, stop_at, stop_rc};
    js_ingest_options o = JS_INGEST_OPTIONS_INIT;
    o.format = format;
    int rc = tu_ingest_run(&o, name, data, len, tu_stop_section, &s, NULL);
    *calls = s.calls;
    return rc;
}

/* ------------------------------------------------------------------
 * Property tests: a seeded xorshift generator and random documents
 * glued from pieces.
 * ---------------------------------------------------------------- */

/* Advances the xorshift64 generator *state (the suite's own, seeded
 * non-zero) and returns 32 bits of it. */
static inline uint32_t tu_rnd(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return (uint32_t)(*state >> 16);
}

/* Fills buf with random members of pieces[0..npieces) (NUL-terminated
 * strings, borrowed) drawn with tu_rnd(state): first a target length of
 * tu_rnd(state) % max_want bytes, then pieces until that is reached or
 * the next piece would take buf past room bytes.  buf (the caller's, at
 * least room bytes) is not NUL-terminated.  Returns the length filled. */
static inline size_t tu_random_pieces(char *buf, size_t room,
                                      size_t max_want,
                                      const char *const *pieces,
                                      size_t npieces, uint64_t *state)
{
    size_t len = 0, want = tu_rnd(state) % max_want;
    while (len < want) {
        const char *p = pieces[tu_rnd(state) % npieces];
        size_t pl = strlen(p);
        if (len + pl > room)
            break;
        memcpy(buf + len, p, pl);
        len += pl;
    }
    return len;
}

/* Makes a fresh directory $TMPDIR/jiansuo-NAME-XXXXXX; the caller frees
 * the returned path (and removes the directory with tu_remove_dir). */
static inline char *tu_temp_dir(const char *name)
{
    const char *tmp = getenv("TMPDIR");
    size_t n = strlen(tmp ? tmp : "/tmp") + strlen(name) + 32;
    char *d = malloc(n);
    ck_assert_ptr_nonnull(d);
    snprintf(d, n, "%s/jiansuo-%s-XXXXXX", tmp ? tmp : "/tmp", name);
    ck_assert_ptr_nonnull(mkdtemp(d));
    return d;
}

/* Removes directory d and everything in it. */
static inline void tu_remove_dir(const char *d)
{
    size_t n = strlen(d) + 16;
    char *cmd = malloc(n);
    ck_assert_ptr_nonnull(cmd);
    snprintf(cmd, n, "rm -rf '%s'", d);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

/* One scratch directory per test (Check runs each test in its own
 * process): tu_scratch_make in a fixture's setup, tu_scratch_remove in
 * its teardown, tu_scratch_path for names inside it (up to four results
 * live at once). */
static inline char *tu_scratch(void)
{
    static char dir[256];
    return dir;
}

static inline void tu_scratch_make(const char *name)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(tu_scratch(), 256, "%s/jiansuo-%s.XXXXXX", tmp ? tmp : "/tmp",
             name);
    ck_assert_ptr_nonnull(mkdtemp(tu_scratch()));
}

static inline void tu_scratch_remove(void) { tu_remove_dir(tu_scratch()); }

static inline char *tu_scratch_path(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tu_scratch(), name);
    return p[k];
}

#endif
