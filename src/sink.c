/*
 * sink.c — the section sink: titles, headings and text -> js_section.
 *
 * In:  calls from a format parser (ingest.h): js_sink_title,
 *      js_sink_heading, js_sink_text, js_sink_break, js_sink_document.
 * Out: one js_section per heading (plus the text before the first
 *      heading) to the user's callback, in document order.
 *
 * Keeps the heading path as a stack (a heading pops every heading of the
 * same or deeper level, then pushes itself) and the body of the current
 * section in one buffer, which is what bounds ingest's memory: a body that
 * reaches JS_SECTION_MAX_BYTES is emitted and continued in a new section
 * with the same heading path and byte range.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "sink.h"
#include "utf8.h"

#define MAX_DEPTH 9

struct js_sink {
    js_warning_fn warn;
    void *warn_ctx;
    js_ingest_stats *stats;
    js_section_fn fn;
    void *ctx;
    int rc; /* sticky: callback's stop value or JS_ENOMEM */
    /* file */
    char *file;
    char *default_title;
    const char *format, *encoding;
    int explicit_docs; /* js_sink_document was called in this file */
    /* document */
    char *title, *id, *metadata;
    uint32_t ordinal;
    int split_reported;
    js_document doc; /* handed to the callback: one address per sink */
    /* heading path */
    char *heads[MAX_DEPTH];
    int levels[MAX_DEPTH];
    size_t depth;
    int headed; /* the current section has a heading */
    uint64_t start;
    /* body */
    char *body;
    size_t body_len, body_cap;
    int need_break;
};

js_sink *js_sink_new(js_warning_fn warn, void *warn_ctx,
                     js_ingest_stats *stats)
{
    js_sink *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->warn = warn;
    k->warn_ctx = warn_ctx;
    k->stats = stats;
    return k;
}

/* Frees the heading path and body of the current document. */
static void reset_document(js_sink *k)
{
    for (size_t i = 0; i < k->depth; i++)
        free(k->heads[i]);
    k->depth = 0;
    k->headed = 0;
    k->body_len = 0;
    k->need_break = 0;
    k->ordinal = 0;
    k->split_reported = 0;
    free(k->title);
    free(k->id);
    free(k->metadata);
    k->title = k->id = k->metadata = NULL;
}

void js_sink_free(js_sink *k)
{
    if (!k)
        return;
    reset_document(k);
    free(k->body);
    free(k->file);
    free(k->default_title);
    free(k);
}

int js_sink_status(const js_sink *k) { return k->rc; }

void js_sink_warn(js_sink *k, uint64_t line, uint64_t offset,
                  const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    k->stats->warnings++;
    if (k->warn)
        k->warn(k->warn_ctx, k->file ? k->file : "", line, offset, msg);
}

void js_sink_skipped(js_sink *k) { k->stats->skipped_records++; }

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

/* Returns a malloc'ed copy of s[0..n) with white space (ASCII, and the
 * ideographic space U+3000) trimmed at both ends and inner runs of it
 * collapsed to one ASCII space; NULL when out of memory.  NUL and U+001F
 * count as white space: the index joins a heading path with U+001F, and
 * results and phrase checks split it there again. */
static char *clean_line(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    int pending = 0;
    for (size_t i = 0; i < n;) {
        size_t w = 0;
        if (is_space((unsigned char)s[i]) || s[i] == 0 || s[i] == 0x1F)
            w = 1;
        else if (n - i >= 3 && !memcmp(s + i, "\xE3\x80\x80", 3))
            w = 3;
        if (w) {
            pending = o > out;
            i += w;
            continue;
        }
        if (pending)
            *o++ = ' ';
        pending = 0;
        *o++ = s[i++];
    }
    *o = 0;
    return out;
}

int js_sink_begin_file(js_sink *k, const char *path, js_section_fn fn,
                       void *ctx)
{
    free(k->file);
    free(k->default_title);
    reset_document(k);
    k->fn = fn;
    k->ctx = ctx;
    k->format = k->encoding = "";
    k->explicit_docs = 0;
    k->start = 0;
    k->file = strdup(path);
    /* Default title: the base name without ".gz" and one extension. */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    k->default_title = strdup(base);
    if (!k->file || !k->default_title)
        return k->rc = JS_ENOMEM;
    size_t n = strlen(k->default_title);
    if (n > 3 && !strcmp(k->default_title + n - 3, ".gz"))
        k->default_title[n -= 3] = 0;
    char *dot = strrchr(k->default_title, '.');
    if (dot && dot > k->default_title)
        *dot = 0;
    return 0;
}

void js_sink_set_kind(js_sink *k, const char *format, const char *encoding)
{
    k->format = format;
    k->encoding = encoding;
}

/* Returns the body with surrounding white space trimmed. */
static const char *trimmed_body(js_sink *k, size_t *len)
{
    size_t a = 0, b = k->body_len;
    while (a < b && is_space((unsigned char)k->body[a]))
        a++;
    while (b > a && is_space((unsigned char)k->body[b - 1]))
        b--;
    k->body[b] = 0; /* the buffer always has room for the NUL */
    *len = b - a;
    return k->body + a;
}

/* Emits the current section, ending at `end`, if it has a heading or a
 * non-empty body.  Returns 0 or the callback's non-zero value. */
static int emit(js_sink *k, uint64_t end)
{
    if (k->rc)
        return k->rc;
    size_t blen = 0;
    const char *body = k->body ? trimmed_body(k, &blen) : "";
    if (!k->headed && blen == 0)
        return 0;
    js_document *doc = &k->doc;
    doc->source = k->file;
    doc->id = k->id;
    doc->title = k->title ? k->title : k->id ? k->id : k->default_title;
    doc->format = k->format;
    doc->encoding = k->encoding;
    doc->metadata = k->metadata;
    js_section s;
    s.document = doc;
    s.ordinal = k->ordinal++;
    s.heading = k->headed ? k->heads[k->depth - 1] : doc->title;
    s.path = (const char *const *)k->heads;
    s.depth = k->headed ? k->depth : 0;
    s.body = body;
    s.body_len = blen;
    s.start = k->start;
    s.end = end > k->start ? end : k->start;
    k->stats->sections++;
    k->body_len = 0;
    k->need_break = 0;
    int rc = k->fn ? k->fn(k->ctx, &s) : 0;
    if (rc)
        k->rc = rc;
    return rc;
}

int js_sink_title(js_sink *k, const char *text, size_t len)
{
    if (k->rc)
        return k->rc;
    if (k->ordinal > 0)
        return 0; /* the document's first section already named it */
    char *t = clean_line(text, len);
    if (!t)
        return k->rc = JS_ENOMEM;
    if (!*t) {
        free(t);
        return 0;
    }
    free(k->title);
    k->title = t;
    return 0;
}

int js_sink_heading(js_sink *k, int level, const char *text, size_t len,
                    uint64_t offset)
{
    if (k->rc)
        return k->rc;
    char *h = clean_line(text, len);
    if (!h)
        return k->rc = JS_ENOMEM;
    if (!*h) { /* an empty heading heads nothing */
        free(h);
        return 0;
    }
    int rc = emit(k, offset);
    if (rc) {
        free(h);
        return rc;
    }
    if (level < 1)
        level = 1;
    if (level > MAX_DEPTH)
        level = MAX_DEPTH;
    while (k->depth > 0 && k->levels[k->depth - 1] >= level)
        free(k->heads[--k->depth]);
    k->heads[k->depth] = h;
    k->levels[k->depth] = level;
    k->depth++;
    k->headed = 1;
    k->start = offset;
    return 0;
}

/* Appends s[0..n) to the body, growing it; returns 0 or JS_ENOMEM. */
static int append(js_sink *k, const char *s, size_t n)
{
    if (k->body_len + n + 1 > k->body_cap) {
        size_t cap = k->body_cap ? k->body_cap : 4096;
        while (cap < k->body_len + n + 1)
            cap *= 2;
        char *b = realloc(k->body, cap);
        if (!b)
            return k->rc = JS_ENOMEM;
        k->body = b;
        k->body_cap = cap;
    }
    memcpy(k->body + k->body_len, s, n);
    k->body_len += n;
    return 0;
}

int js_sink_text(js_sink *k, const char *text, size_t len)
{
    if (k->rc)
        return k->rc;
    if (len == 0)
        return 0;
    if (k->need_break && k->body_len > 0 && append(k, "\n", 1))
        return k->rc;
    k->need_break = 0;
    while (k->body_len + len > JS_SECTION_MAX_BYTES) {
        /* Fill the section up to the limit on a character boundary, emit
         * it, and go on in a continuation with the same heading. */
        size_t room = JS_SECTION_MAX_BYTES - k->body_len;
        size_t n = js_utf8_floor(text, len, room);
        if (n == 0 && k->body_len == 0)
            n = room < len ? room : len; /* cannot happen with room > 3 */
        if (append(k, text, n))
            return k->rc;
        text += n;
        len -= n;
        if (!k->split_reported) {
            k->split_reported = 1;
            js_sink_warn(k, 0, k->start,
                         "section longer than %u bytes: split into several "
                         "sections with the same heading",
                         JS_SECTION_MAX_BYTES);
        }
        uint64_t start = k->start;
        int was_headed = k->headed;
        int rc = emit(k, k->start);
        if (rc)
            return rc;
        k->start = start;
        k->headed = was_headed;
    }
    return append(k, text, len);
}

int js_sink_break(js_sink *k)
{
    if (k->rc)
        return k->rc;
    if (k->body_len > 0)
        k->need_break = 1;
    return 0;
}

/* Duplicates s, or returns NULL for NULL; sets *fail when out of memory. */
static char *dup_or_null(const char *s, int *fail)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *fail = 1;
    return d;
}

int js_sink_document(js_sink *k, const char *id, const char *title,
                     const char *metadata, uint64_t offset)
{
    if (k->rc)
        return k->rc;
    int rc = emit(k, offset);
    if (rc)
        return rc;
    reset_document(k);
    int fail = 0;
    k->id = dup_or_null(id, &fail);
    k->metadata = dup_or_null(metadata, &fail);
    if (title && !fail) {
        k->title = clean_line(title, strlen(title));
        fail = !k->title;
        if (k->title && !*k->title) {
            free(k->title);
            k->title = NULL;
        }
    }
    if (fail)
        return k->rc = JS_ENOMEM;
    k->start = offset;
    k->explicit_docs = 1;
    k->stats->documents++;
    return 0;
}

int js_sink_end_file(js_sink *k, uint64_t end)
{
    int rc = emit(k, end);
    /* A file that is one document counts once it gave a section: an
     * empty file, or a JSON Lines file whose records all failed, is not
     * a document read. */
    if (!k->explicit_docs && k->ordinal > 0)
        k->stats->documents++;
    reset_document(k);
    return rc;
}
