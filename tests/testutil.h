/*
 * testutil.h — helpers shared by the Check suites.
 *
 * In:  texts to analyse.  Out: the tokens rendered as one compact string,
 *      so that a table row can state a whole expected segmentation:
 *        term/KIND@position[start,end)   with KIND w, u or b
 *      e.g. "久/u@0[0,3) 久有/b@0[0,6) 有/u@1[3,6)".
 * And ingest helpers, property-test generators, scratch directories,
 * files' bytes, and a loop that damages a file every way a byte can be
 * damaged (tu_damage_file), each described where it is defined.
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

/* ------------------------------------------------------------------
 * Files' bytes, and damage done to them.
 * ---------------------------------------------------------------- */

/* Returns the bytes of the file at path (malloc'ed, at least one byte
 * allocated; the caller frees) and their number in *n. */
static inline unsigned char *tu_slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: cannot open", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return p;
}

/* Replaces the file at path with p[0..n). */
static inline void tu_spit(const char *path, const unsigned char *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "%s: cannot create", path);
    ck_assert_int_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* A reader of a damaged file: returns its JS_E* code, with its message
 * in err. */
typedef int (*tu_read_fn)(void *ctx, char *err, size_t errlen);

/* Reads the file at path with read(ctx): the code must be rc and the
 * message must hold needle ("" for any); `what` names the case. */
static inline void tu_expect_read(const char *path, tu_read_fn read,
                                  void *ctx, int rc, const char *needle,
                                  const char *what)
{
    char err[512] = "";
    int got = read(ctx, err, sizeof err);
    ck_assert_msg(got == rc, "%s: %s: read gave %d, want %d (%s)", path,
                  what, got, rc, err);
    ck_assert_msg(strstr(err, needle), "%s: %s: message '%s' lacks '%s'",
                  path, what, err, needle);
}

/* A file's bytes and what reading them must give (tu_read_cases). */
typedef struct {
    const char *bytes;
    size_t n;
    int rc;
    const char *needle;
} tu_file_case;

/* Writes each case's bytes to path and reads them (tu_expect_read). */
static inline void tu_read_cases(const char *path, const tu_file_case *cases,
                                 size_t ncases, tu_read_fn read, void *ctx)
{
    for (size_t i = 0; i < ncases; i++) {
        char what[32];
        snprintf(what, sizeof what, "case %zu", i);
        tu_spit(path, (const unsigned char *)cases[i].bytes, cases[i].n);
        tu_expect_read(path, read, ctx, cases[i].rc, cases[i].needle, what);
    }
}

/* Damages the file at path in every way of a kind: each byte with each
 * of its bits flipped and with all of them flipped, then the file cut to
 * every length below its own and grown by one byte.  Each time read(ctx)
 * must fail with JS_ECORRUPT, or JS_EVERSION when the damage is to the
 * 4-byte version field at version_at, and with a message: never crash,
 * never accept the damage.  Restores the file, reports the count on
 * stderr as "LABEL: ..." and returns it. */
static inline size_t tu_damage_file(const char *path, size_t version_at,
                                    tu_read_fn read, void *ctx,
                                    const char *label)
{
    size_t n;
    unsigned char *orig = tu_slurp(path, &n);
    unsigned char *buf = malloc(n + 1);
    ck_assert_ptr_nonnull(buf);
    size_t tries = 0, nversion = 0;
    char err[512], what[96];
    for (size_t k = 0; k < 9 * n + n + 1; k++) {
        size_t len = n;
        int in_version = 0;
        memcpy(buf, orig, n);
        if (k < 9 * n) { /* byte k / 9: bit k % 9, or all of them */
            buf[k / 9] ^= (unsigned char)(k % 9 == 8 ? 0xFF : 1u << (k % 9));
            in_version = k / 9 >= version_at && k / 9 < version_at + 4;
            snprintf(what, sizeof what, "byte %zu ^ %#x", k / 9,
                     (unsigned)(buf[k / 9] ^ orig[k / 9]));
        } else if (k < 10 * n) {
            len = k - 9 * n;
            snprintf(what, sizeof what, "cut to %zu of %zu bytes", len, n);
        } else {
            buf[n] = 0;
            len = n + 1;
            snprintf(what, sizeof what, "a byte appended");
        }
        tu_spit(path, buf, len);
        err[0] = 0;
        int rc = read(ctx, err, sizeof err);
        ck_assert_msg(rc == JS_ECORRUPT || (rc == JS_EVERSION && in_version),
                      "%s: %s: read gave %d (%s)", path, what, rc, err);
        ck_assert_msg(err[0], "%s: %s: no message", path, what);
        nversion += rc == JS_EVERSION;
        tries++;
    }
    tu_spit(path, orig, n);
    free(buf);
    free(orig);
    fprintf(stderr, "%s: %zu damaged copies of %zu bytes refused (%zu as "
            "another version)\n", label, tries, n, nversion);
    return tries;
}

/* A suite of one test case, "core", of the given tests (TTest pointers,
 * as START_TEST names them); timeout: seconds, 0 for Check's default. */
static inline Suite *tu_suite_of(const char *name, int timeout,
                                 const TTest *const *tests, size_t n)
{
    Suite *s = suite_create(name);
    TCase *tc = tcase_create("core");
    if (timeout)
        tcase_set_timeout(tc, timeout);
    for (size_t i = 0; i < n; i++)
        tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
    return s;
}
#define TU_SUITE(name, timeout, ...) \
    tu_suite_of((name), (timeout), (const TTest *const[]){__VA_ARGS__}, \
                sizeof((const TTest *const[]){__VA_ARGS__}) / sizeof(const TTest *))

/* Runs every test of s (in forked processes unless nofork) and returns
 * what main returns: EXIT_SUCCESS when none failed. */
static inline int tu_run(Suite *s, int nofork)
{
    SRunner *sr = srunner_create(s);
    if (nofork)
        srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
