/*
 * fuzz_ingest.c — libFuzzer target for ingest: file bytes -> sections.
 *
 * In:  one selector byte, then a file's bytes.  The selector picks
 *        bits 0-2  the format: forced text, markdown, html, man, jsonl,
 *                  or detected from a name ("x.md.gz", "x.3pm") or from
 *                  the content alone ("x");
 *        bits 3-4  the encoding: detected, or forced GBK, Big5, UTF-8;
 *        bit 5     read from a file (js_ingest_path, the read(2) layer)
 *                  instead of memory (js_ingest_memory);
 *        bit 6     gzip the bytes first, so that inflated input reaches
 *                  the parsers (damaged gzip comes from the bytes alone);
 *        bit 7     stop from the section callback after a few sections.
 * Out: nothing; abort() when a section breaks the contract of jiansuo.h:
 *      body, heading or path that are not NUL-terminated, or not valid
 *      UTF-8 after conversion from another encoding, a heading path whose last entry is not the
 *      heading, a byte range reversed, going back or beyond what the
 *      input could decode to, ordinals out of order, a body over
 *      JS_SECTION_MAX_BYTES, counts that disagree with the stats, or a
 *      stop value that is not returned.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "jiansuo.h"
#include "fuzz.h"

/* Valid UTF-8, NUL allowed: a body may hold one after the first 8 KiB,
 * and then body_len, not strlen, is its length. */
static int valid_utf8(const uint8_t *s, size_t n)
{
    return fuzz_utf8_valid(s, n, 1);
}

/* Invalid UTF-8 in a UTF-8 file is kept as it is (source.c: the text
 * pipeline treats each bad byte as a separator, and offsets stay those
 * of the file), so only text converted by iconv must be valid. */
static int lax;

static int valid_str(const char *s)
{
    return s && (lax || valid_utf8((const uint8_t *)s, strlen(s)));
}

typedef struct state {
    const char *forced;    /* forced format name or NULL */
    uint64_t max_end;      /* bound on decoded offsets (UINT64_MAX: none) */
    uint64_t sections;
    uint64_t stop_after;   /* 0: never */
    const js_document *doc;
    uint32_t next_ordinal;
    uint64_t last_start;
} state;

static int on_section(void *ctx, const js_section *s)
{
    state *st = ctx;
    const js_document *d = s->document;
    if (!d || !d->source || !d->title || !d->format || !d->encoding)
        FUZZ_FAIL("document without source, title, format or encoding");
    if (st->forced && strcmp(d->format, st->forced) != 0)
        FUZZ_FAIL("format %s, forced %s", d->format, st->forced);
    lax = strcmp(d->encoding, "UTF-8") == 0;
    if (!valid_str(d->title) || (d->id && !valid_str(d->id)) ||
        (d->metadata && !valid_str(d->metadata)))
        FUZZ_FAIL("document strings are not valid UTF-8");
    if (s->ordinal == 0) {
        st->next_ordinal = 0;
        st->last_start = 0;
    }
    if (s->ordinal != st->next_ordinal)
        FUZZ_FAIL("ordinal %u, expected %u", s->ordinal, st->next_ordinal);
    st->next_ordinal++;
    if (!s->body || s->body[s->body_len] != 0 ||
        s->body_len > JS_SECTION_MAX_BYTES ||
        (!lax && !valid_utf8((const uint8_t *)s->body, s->body_len))) {
        for (size_t i = 0; s->body && i < s->body_len && i < 64; i++)
            fprintf(stderr, "%02x ", (unsigned char)s->body[i]);
        FUZZ_FAIL("section %u: body of %zu bytes is not valid, "
                  "NUL-terminated UTF-8 within the limit",
                  s->ordinal, s->body_len);
    }
    if (!valid_str(s->heading))
        FUZZ_FAIL("section %u: heading is not valid UTF-8", s->ordinal);
    if (s->depth > 0) {
        if (!s->path || !s->path[s->depth - 1] ||
            strcmp(s->path[s->depth - 1], s->heading) != 0)
            FUZZ_FAIL("section %u: path does not end with the heading",
                      s->ordinal);
        for (size_t i = 0; i < s->depth; i++)
            if (!valid_str(s->path[i]))
                FUZZ_FAIL("section %u: path[%zu] not valid UTF-8",
                          s->ordinal, i);
    }
    if (s->start > s->end || s->end > st->max_end)
        FUZZ_FAIL("section %u: range [%llu,%llu) beyond %llu", s->ordinal,
                  (unsigned long long)s->start, (unsigned long long)s->end,
                  (unsigned long long)st->max_end);
    if (s->start < st->last_start)
        FUZZ_FAIL("section %u starts at %llu, before %llu", s->ordinal,
                  (unsigned long long)s->start,
                  (unsigned long long)st->last_start);
    st->last_start = s->start;
    st->sections++;
    if (st->stop_after && st->sections == st->stop_after)
        return 42;
    return 0;
}

static void on_warning(void *ctx, const char *file, uint64_t line,
                       uint64_t offset, const char *message)
{
    (void)ctx, (void)line, (void)offset;
    if (!file || !message || !*message)
        FUZZ_FAIL("warning without a file or a message");
}

/* gzip-compresses in[0..n) into a malloc'ed buffer. */
static uint8_t *gzip(const uint8_t *in, size_t n, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    size_t cap = deflateBound(&z, (uLong)n) + 32;
    uint8_t *out = malloc(cap);
    if (!out)
        abort();
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        abort();
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static char tmpdir[256];

static void remove_tmpdir(void)
{
    rmdir(tmpdir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    static const char *const forced[5] = {"text", "markdown", "html", "man",
                                          "jsonl"};
    static const char *const names[8] = {"x.txt", "x.md", "x.html", "x.1",
                                         "x.jsonl", "x.md.gz", "x.3pm", "x"};
    static const char *const encodings[4] = {NULL, "gbk", "big5", "utf-8"};
    unsigned f = sel & 7;

    js_ingest_options o = JS_INGEST_OPTIONS_INIT;
    o.format = f < 5 ? forced[f] : NULL;
    o.encoding = encodings[(sel >> 3) & 3];
    o.warn = on_warning;

    size_t len = size - 1;
    uint8_t *bytes;
    if (sel & 0x40) {
        bytes = gzip(data + 1, len, &len);
    } else {
        bytes = malloc(len ? len : 1); /* exact size, for ASan */
        if (!bytes)
            abort();
        memcpy(bytes, data + 1, len);
    }

    state st = {o.format, UINT64_MAX, 0, 0, NULL, 0, 0};
    /* Decoding turns a byte into at most 3 (a bad byte into U+FFFD, a
     * GBK or Big5 byte pair into one character of up to 4).  Gzip in
     * the raw bytes inflates to anything, so no bound then. */
    int raw_gzip = size >= 3 && data[1] == 0x1f && data[2] == 0x8b;
    if (!raw_gzip)
        st.max_end = 3 * (uint64_t)(size - 1) + 3;
    if (sel & 0x80)
        st.stop_after = 1 + (size % 3);

    js_ingest *ing = NULL;
    if (js_ingest_open(&ing, &o) != 0)
        FUZZ_FAIL("js_ingest_open failed");
    int rc;
    if (sel & 0x20) {
        if (!tmpdir[0]) {
            const char *tmp = getenv("TMPDIR");
            snprintf(tmpdir, sizeof tmpdir, "%s/jiansuo-fuzz-ingest.XXXXXX",
                     tmp ? tmp : "/tmp");
            if (!mkdtemp(tmpdir))
                abort();
            atexit(remove_tmpdir);
        }
        char path[300];
        snprintf(path, sizeof path, "%s/%s", tmpdir, names[f]);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || write(fd, bytes, len) != (ssize_t)len || close(fd) != 0)
            abort();
        rc = js_ingest_path(ing, path, on_section, &st);
        unlink(path);
    } else {
        rc = js_ingest_memory(ing, names[f], bytes, len, on_section, &st);
    }
    int want = st.stop_after && st.sections == st.stop_after ? 42 : 0;
    if (rc != want)
        FUZZ_FAIL("ingest returned %d (%s), expected %d", rc,
                  js_ingest_errmsg(ing), want);
    js_ingest_stats stats;
    js_ingest_get_stats(ing, &stats);
    if (stats.sections != st.sections)
        FUZZ_FAIL("stats count %llu sections, the callback saw %llu",
                  (unsigned long long)stats.sections,
                  (unsigned long long)st.sections);
    if (stats.files != 1 || stats.skipped_files > 1)
        FUZZ_FAIL("stats: %llu files, %llu skipped",
                  (unsigned long long)stats.files,
                  (unsigned long long)stats.skipped_files);
    js_ingest_close(ing);
    free(bytes);
    return 0;
}
