/*
 * cmd_sections.c — `jiansuo sections [OPTIONS] PATH...`.
 *
 * In:  files and directories, read through js_ingest_path.
 * Out: for each document a header line, then per section its ordinal,
 *      heading path, byte range and the first characters of its body —
 *      or one JSON object per section with --json; warnings and a summary
 *      on standard error.  Exit status 1 when a path could not be read or
 *      anything had to be skipped, so a script notices.
 *
 * Shows a user how a file will be indexed before they index it.
 */
#include "config.h"

#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "jiansuo.h"

#define PREVIEW_CHARS 40

typedef struct {
    int json;
    int failed;
} printer;

/* Prints the first PREVIEW_CHARS characters of s[0..n), line breaks and
 * tabs shown as spaces, with "…" when cut. */
static void print_preview(const char *s, size_t n)
{
    size_t i = 0, chars = 0;
    while (i < n && chars < PREVIEW_CHARS) {
        size_t j = i + 1;
        while (j < n && ((unsigned char)s[j] & 0xC0) == 0x80)
            j++;
        if (s[i] == '\n' || s[i] == '\t' || s[i] == '\r')
            putchar(' ');
        else
            fwrite(s + i, 1, j - i, stdout);
        i = j;
        chars++;
    }
    if (i < n)
        fputs("…", stdout);
}

static int print_json(printer *p, const js_section *s)
{
    const js_document *d = s->document;
    json_t *o = json_object(), *path = json_array();
    if (!o || !path) {
        json_decref(o);
        json_decref(path);
        return JS_ENOMEM;
    }
    for (size_t i = 0; i < s->depth; i++)
        json_array_append_new(path, json_string(s->path[i]));
    json_t *meta = d->metadata ? json_loads(d->metadata, 0, NULL) : NULL;
    json_object_set_new(o, "source", json_string(d->source));
    json_object_set_new(o, "id", d->id ? json_string(d->id) : json_null());
    json_object_set_new(o, "title", json_string(d->title));
    json_object_set_new(o, "format", json_string(d->format));
    json_object_set_new(o, "encoding", json_string(d->encoding));
    json_object_set_new(o, "metadata", meta ? meta : json_null());
    json_object_set_new(o, "ordinal", json_integer(s->ordinal));
    json_object_set_new(o, "heading", json_string(s->heading));
    json_object_set_new(o, "path", path);
    json_object_set_new(o, "start", json_integer((json_int_t)s->start));
    json_object_set_new(o, "end", json_integer((json_int_t)s->end));
    json_object_set_new(o, "body", json_stringn(s->body, s->body_len));
    char *txt = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!txt)
        return JS_ENOMEM;
    if (puts(txt) == EOF)
        p->failed = 1;
    free(txt);
    return p->failed ? JS_EIO : 0;
}

static int print_section(void *ctx, const js_section *s)
{
    printer *p = ctx;
    if (p->json)
        return print_json(p, s);
    const js_document *d = s->document;
    if (s->ordinal == 0) {
        printf("== %s", d->source);
        if (d->id)
            printf(" #%s", d->id);
        printf(" (%s, %s): %s\n", d->format, d->encoding, d->title);
    }
    printf("%u\t", s->ordinal);
    if (s->depth == 0)
        printf("[%s]", s->heading);
    for (size_t i = 0; i < s->depth; i++)
        printf("%s%s", i ? " › " : "", s->path[i]);
    printf("\t%llu-%llu\t", (unsigned long long)s->start,
           (unsigned long long)s->end);
    print_preview(s->body, s->body_len);
    if (putchar('\n') == EOF)
        p->failed = 1;
    return p->failed ? JS_EIO : 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: jiansuo sections [--json] [--format F] [--encoding E]\n"
            "                        [--hidden] PATH...\n"
            "\n"
            "Shows how files are cut into documents and sections: for each\n"
            "section its number, heading path, byte range in the decoded\n"
            "text and the start of its body.  Directories are read\n"
            "recursively; .gz files are decompressed.\n"
            "\n"
            "  --json        one JSON object per section, with the whole body\n"
            "  --format F    read every file as F: text, markdown, html, man,\n"
            "                jsonl (default: by extension, then by content)\n"
            "  --encoding E  read every file as E: utf-8, gb18030, gbk, big5\n"
            "                (default: detected)\n"
            "  --hidden      also read hidden files and directories\n"
            "  -h, --help    this text\n");
}

int js_cmd_sections(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"format", required_argument, NULL, 'f'},
        {"encoding", required_argument, NULL, 'e'},
        {"hidden", no_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    printer p = {0, 0};
    js_ingest_options opts = JS_INGEST_OPTIONS_INIT;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            p.json = 1;
            break;
        case 'f':
            opts.format = optarg;
            break;
        case 'e':
            opts.encoding = optarg;
            break;
        case 'H':
            opts.include_hidden = 1;
            break;
        case 'h':
        default:
            return js_cli_usage(usage, c);
        }
    }
    if (optind >= argc) {
        js_cli_error("sections", "no file or directory given");
        usage(stderr);
        return JS_EXIT_USAGE;
    }
    opts.warn = js_cli_warning;
    opts.warn_ctx = (void *)"sections";
    js_ingest *ing = NULL;
    int rc = js_ingest_open(&ing, &opts);
    if (rc == JS_EINVALID) {
        if (opts.format && opts.encoding)
            js_cli_error("sections", "unknown format '%s' or encoding '%s'",
                         opts.format, opts.encoding);
        else if (opts.format)
            js_cli_error("sections", "unknown format '%s' (known: text, "
                         "markdown, html, man, jsonl)", opts.format);
        else
            js_cli_error("sections", "unknown encoding '%s' (for example: "
                         "utf-8, gb18030, gbk, big5)", opts.encoding);
        return JS_EXIT_USAGE;
    }
    if (rc) {
        js_cli_error("sections", "%s", js_strerror(rc));
        return JS_EXIT_FAIL;
    }
    int status = JS_EXIT_OK;
    for (int i = optind; i < argc && !p.failed; i++) {
        rc = js_ingest_path(ing, argv[i], print_section, &p);
        if (rc && !p.failed) {
            js_cli_error("sections", "%s", js_ingest_errmsg(ing));
            status = JS_EXIT_FAIL;
            if (rc == JS_ENOMEM)
                break;
        }
    }
    js_ingest_stats st;
    js_ingest_get_stats(ing, &st);
    js_ingest_close(ing);
    if (fflush(stdout) == EOF || p.failed) {
        js_cli_error("sections", "cannot write standard output");
        return JS_EXIT_FAIL;
    }
    fprintf(stderr,
            "sections: %llu files, %llu documents, %llu sections, %llu "
            "skipped files, %llu skipped records, %llu warnings\n",
            (unsigned long long)st.files, (unsigned long long)st.documents,
            (unsigned long long)st.sections,
            (unsigned long long)st.skipped_files,
            (unsigned long long)st.skipped_records,
            (unsigned long long)st.warnings);
    if (st.skipped_files || st.skipped_records)
        status = JS_EXIT_FAIL;
    return status;
}
