/*
 * cmd_stats.c — `jiansuo stats [-d DIR] [--backend B] [--json]`.
 *
 * In:  an index directory: the native index (DIR/index.jsi), or, when
 *      there is none or --backend xapian says so, the Xapian backend's
 *      (DIR/xapian), both read through js_index_get_stats.
 * Out: its counts, the bytes of each part (native) or shard (Xapian),
 *      the build's parameters and the format version — as aligned text
 *      or one JSON object.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "json_out.h"
#include "jiansuo.h"

/* The counts both backends report, printed as aligned text. */
typedef struct counts {
    uint64_t documents, sections, terms, postings, positions;
    uint64_t source_bytes, text_bytes, file_bytes;
    int has_total_length; /* Xapian: the sum of its document lengths */
    uint64_t total_length;
} counts;

static void print_counts(const counts *c)
{
    printf("documents      %llu\n", (unsigned long long)c->documents);
    printf("sections       %llu\n", (unsigned long long)c->sections);
    printf("terms          %llu\n", (unsigned long long)c->terms);
    printf("postings       %llu\n", (unsigned long long)c->postings);
    printf("positions      %llu\n", (unsigned long long)c->positions);
    if (c->has_total_length)
        printf("total length   %llu\n", (unsigned long long)c->total_length);
    printf("source bytes   %llu\n", (unsigned long long)c->source_bytes);
    printf("text bytes     %llu\n", (unsigned long long)c->text_bytes);
    printf("file bytes     %llu", (unsigned long long)c->file_bytes);
    if (c->text_bytes)
        printf(" (%.2f x the text)", (double)c->file_bytes / (double)c->text_bytes);
    printf("\n");
}

static void usage(FILE *f)
{
    fprintf(f, "usage: jiansuo stats [-d DIR] [--backend B] [--json]\n"
               "\n"
               "Shows the counts and sizes of an index.\n"
               "\n"
               "  -d, --index DIR  index directory (default as for 'jiansuo index')\n"
               "  --backend B      native or xapian (default: native, else the\n"
               "                   Xapian index when DIR has only that)\n"
               "  --json           one JSON object\n"
               "  -h, --help       this text\n");
}

/* Prints one line of the size table: a part's or a shard's bytes, and
 * what they are to the text. */
static void print_size(const char *name, uint64_t bytes, uint64_t text_bytes)
{
    printf("  %-13s %12llu", name, (unsigned long long)bytes);
    if (text_bytes)
        printf("  %.3f x", (double)bytes / (double)text_bytes);
}

/* The statistics as aligned text. */
static void stats_text(const char *dir, const js_index_stats *st)
{
    int x = st->backend == JS_BACKEND_XAPIAN;
    if (x) {
        printf("index          %s/xapian\n", dir);
        printf("backend        xapian\n");
    } else {
        printf("index          %s\n", dir);
    }
    printf("format version %u\n", st->format_version);
    if (x)
        printf("shards         %u\n", st->shards);
    counts c = {st->documents,  st->sections,   st->terms,
                st->postings,   st->positions,  st->source_bytes,
                st->text_bytes, st->file_bytes, x, st->total_length};
    print_counts(&c);
    if (x) {
        for (unsigned i = 0; i < st->shards; i++) {
            char name[32];
            snprintf(name, sizeof name, "shard-%u", i);
            print_size(name, st->shard[i].bytes, st->text_bytes);
            printf("  %llu sections\n", (unsigned long long)st->shard[i].sections);
        }
    } else {
        for (unsigned i = 1; i <= JS_INDEX_PARTS; i++) {
            print_size(js_index_part_name(i), st->part_bytes[i], st->text_bytes);
            printf("\n");
        }
        printf("block size     %u\n", st->block_size);
        printf("generation     %llu\n", (unsigned long long)st->generation);
        printf("segments       %u (%llu sections deleted, not yet merged "
               "away)\n", st->segments,
               (unsigned long long)st->deleted_sections);
        for (unsigned i = 0; i < st->segments; i++) {
            const js_index_segment *g = &st->segment[i];
            print_size(g->name, g->bytes, st->text_bytes);
            printf("  %llu live, %llu deleted sections\n",
                   (unsigned long long)(g->sections - g->deleted),
                   (unsigned long long)g->deleted);
        }
    }
    printf("folding        %s\n", st->analyze_flags & JS_ANALYZE_NO_FOLD ? "off" : "on");
    printf("build          %s\n", st->build_info);
}

int js_cmd_stats(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"index", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"backend", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0;
    js_index *ix;
    char *dir;
    int status = js_cli_index_command("stats", argc, argv, longopts, usage,
                                      &json, &ix, &dir);
    if (status >= 0)
        return status;
    js_index_stats st;
    js_index_get_stats(ix, &st);
    if (json) {
        json_t *o = js_cli_stats_json(dir, &st);
        char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        if (s)
            puts(s);
        free(s);
    } else {
        stats_text(dir, &st);
    }
    js_index_close(ix);
    free(dir);
    return fflush(stdout) == EOF ? JS_EXIT_FAIL : JS_EXIT_OK;
}
