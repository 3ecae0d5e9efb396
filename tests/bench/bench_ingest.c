/*
 * bench_ingest.c — throughput of ingest (js_ingest_path) on real files.
 *
 * In:  PATH... of files or directories, in any format ingest reads (plain
 *      text, Markdown, HTML, man pages, JSON Lines; gzip-compressed or
 *      not); options --runs N (default 5), --format F (force the format,
 *      as js_ingest_options.format), --json, --label NAME (a name echoed
 *      in the report, e.g. the corpus).
 * Out: on stdout, the files, documents, sections, skipped files and
 *      records and warnings ingest reported; the input bytes (bytes_read:
 *      what came from disk, so the compressed size of a .gz) and the
 *      decoded body bytes the sections carried; the median, min and max
 *      throughput in MB/s (MB = 10^6 bytes) across the runs by each of the
 *      two; and a hash of the sections — as a human-readable block or as
 *      one JSON object on one line.  Exit 0 on success, 1 when ingest
 *      fails (a PATH that cannot be read, out of memory) or a run differs
 *      from the warm-up, 2 on a usage error.
 *
 * Unlike bench_analyze, which times the text pipeline on text already in
 * memory, a run here is the whole of ingest: it opens a js_ingest handle,
 * ingests every PATH (walking directories, reading, gunzipping, settling
 * the encoding, parsing, cutting sections) and closes the handle.  The
 * files come from the page cache: an untimed warm-up run first reads
 * them all, so the timed runs measure ingest and not the disk.  The
 * section callback does real but cheap work that the compiler cannot
 * drop — it counts sections and body bytes and folds each body's length
 * and its first and last bytes into a running FNV-1a-style hash, which is
 * printed — and every run must agree with the warm-up, which catches
 * ingest that is not deterministic.  The first few warnings of the
 * warm-up run go to stderr; all of them are counted.
 *
 * Not run by `make check`; built with `make tests/bench/bench_ingest`
 * and driven by scripts/bench.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jiansuo.h"

#include "benchutil.h"

#define SHOW_WARNINGS 5 /* warnings of the warm-up run printed to stderr */

/* What the section callback accumulates during one run. */
typedef struct tally {
    uint64_t sections;
    uint64_t body_bytes;
    uint64_t hash;
} tally;

/* The warning callback's context: how many warnings to print still. */
typedef struct warn_ctx {
    uint64_t left;
} warn_ctx;

/* The result of one run. */
typedef struct run_result {
    tally ty;
    js_ingest_stats stats;
    double secs;
} run_result;

/* Prints the usage text to f.  Returns nothing. */
static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_ingest [--runs N] [--format F] [--json] "
            "[--label NAME] PATH...\n"
            "\n"
            "Ingests every PATH (a file or a directory, in any format\n"
            "ingest reads, gzip-compressed or not) once untimed, then N\n"
            "times (default %d) timed, and reports the median, min and max\n"
            "throughput in MB/s (MB = 10^6 bytes), by input bytes (read\n"
            "from disk: compressed size for .gz) and by decoded body bytes,\n"
            "with the files, documents, sections and warnings ingest saw.\n"
            "\n"
            "  --runs N      number of timed runs (1..%d)\n"
            "  --format F    force the format: text, markdown, html, man, "
            "jsonl\n"
            "  --json        print one JSON object instead of a text block\n"
            "  --label NAME  a name for the input, echoed in the report\n"
            "  -h, --help    this text\n",
            DEFAULT_RUNS, MAX_RUNS);
}

/* The js_section_fn: counts the section and its body bytes, and folds
 * its ordinal, depth and body length, then the body's first and last
 * eight bytes (all of it when shorter), into the tally's hash — a few
 * multiplies per section, whatever its size, so the callback stays cheap
 * next to the ingest it measures while still reading the body.  The
 * section is borrowed.  Returns 0, so ingest always goes on. */
static int count_section(void *ctx, const js_section *s)
{
    tally *ty = ctx;
    const char *p = s->body;
    size_t n = s->body_len;
    uint64_t h = ty->hash;
    ty->sections++;
    ty->body_bytes += n;
    h = (h ^ ((uint64_t)s->ordinal << 32 | (uint64_t)s->depth << 24 |
              (n & 0xffffff))) *
        FNV_PRIME;
    if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, p, 8);
        memcpy(&b, p + n - 8, 8);
        h = (h ^ a) * FNV_PRIME;
        h = (h ^ b) * FNV_PRIME;
    } else if (n) {
        h = (h ^ load_short(p, n)) * FNV_PRIME;
    }
    ty->hash = h;
    return 0;
}

/* The js_warning_fn: prints the warning to stderr while ctx (a warn_ctx)
 * allows, then stays quiet (ingest counts them all).  The strings are
 * borrowed.  Returns nothing. */
static void show_warning(void *ctx, const char *file, uint64_t line,
                         uint64_t offset, const char *message)
{
    warn_ctx *w = ctx;
    if (!w->left)
        return;
    w->left--;
    if (line)
        fprintf(stderr, "bench_ingest: warning: %s:%" PRIu64 ": %s\n", file,
                line, message);
    else if (offset != UINT64_MAX)
        fprintf(stderr, "bench_ingest: warning: %s: byte %" PRIu64 ": %s\n",
                file, offset, message);
    else
        fprintf(stderr, "bench_ingest: warning: %s: %s\n", file, message);
}

/* Runs ingest once over the npaths paths with the options opts: opens a
 * handle, ingests every path, reads the statistics, closes the handle,
 * and fills *out (tally, statistics and the seconds it all took).
 * Returns 0, or 1 after printing what failed. */
static int ingest_all(char *const *paths, size_t npaths,
                      const js_ingest_options *opts, run_result *out)
{
    js_ingest *ing = NULL;
    *out = (run_result){{0, 0, FNV_OFFSET}, {0}, 0.0};
    double t0 = now();
    int rc = js_ingest_open(&ing, opts);
    if (rc != 0) {
        fprintf(stderr, "bench_ingest: js_ingest_open: %s\n",
                js_strerror(rc));
        return 1;
    }
    for (size_t i = 0; i < npaths; i++) {
        rc = js_ingest_path(ing, paths[i], count_section, &out->ty);
        if (rc != 0) {
            const char *msg = js_ingest_errmsg(ing); /* names the path */
            if (*msg)
                fprintf(stderr, "bench_ingest: %s\n", msg);
            else
                fprintf(stderr, "bench_ingest: %s: %s\n", paths[i],
                        js_strerror(rc));
            js_ingest_close(ing);
            return 1;
        }
    }
    js_ingest_get_stats(ing, &out->stats);
    js_ingest_close(ing);
    out->secs = now() - t0;
    return 0;
}

/* Prints s to stdout as a JSON string, with its quotes (control
 * characters escaped; other bytes as they are, so UTF-8 stays UTF-8), or
 * null for NULL.  Returns nothing. */
static void print_json_str(const char *s)
{
    if (!s) {
        fputs("null", stdout);
        return;
    }
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"runs", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},
        {"label", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int runs = DEFAULT_RUNS, json = 0, c;
    const char *format = NULL, *label = NULL;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (!(runs = parse_runs(optarg))) {
                fprintf(stderr, "bench_ingest: --runs wants 1..%d, not "
                                "'%s'\n",
                        MAX_RUNS, optarg);
                return 2;
            }
            break;
        case 'f':
            format = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'l':
            label = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    char *const *paths = argv + optind;
    size_t npaths = (size_t)(argc - optind);

    /* Check the options once, so that a bad --format is a usage error. */
    warn_ctx wc = {SHOW_WARNINGS};
    js_ingest_options opts = JS_INGEST_OPTIONS_INIT;
    opts.format = format;
    opts.warn = show_warning;
    opts.warn_ctx = &wc;
    js_ingest *probe;
    int rc = js_ingest_open(&probe, &opts);
    if (rc == JS_EINVALID && format) {
        fprintf(stderr, "bench_ingest: unknown format '%s' (known: text, "
                        "markdown, html, man, jsonl)\n",
                format);
        return 2;
    } else if (rc != 0) {
        fprintf(stderr, "bench_ingest: js_ingest_open: %s\n",
                js_strerror(rc));
        return 1;
    }
    js_ingest_close(probe);

    double *secs = malloc((size_t)runs * sizeof *secs);
    double *by_input = malloc((size_t)runs * sizeof *by_input);
    double *by_body = malloc((size_t)runs * sizeof *by_body);
    if (!secs || !by_input || !by_body) {
        fprintf(stderr, "bench_ingest: out of memory\n");
        free(secs);
        free(by_input);
        free(by_body);
        return 1;
    }

    /* The untimed warm-up run pulls every file into the page cache and
     * gives the tally and statistics every timed run must reproduce; it
     * alone prints warnings. */
    run_result first;
    int status = ingest_all(paths, npaths, &opts, &first);
    wc.left = 0;
    for (int r = 0; r < runs && !status; r++) {
        run_result rr;
        status = ingest_all(paths, npaths, &opts, &rr);
        secs[r] = rr.secs;
        if (!status && (memcmp(&rr.ty, &first.ty, sizeof rr.ty) != 0 ||
                        memcmp(&rr.stats, &first.stats,
                               sizeof rr.stats) != 0)) {
            fprintf(stderr, "bench_ingest: run %d gave other sections or "
                            "statistics than the warm-up run\n",
                    r + 1);
            status = 1;
        }
    }
    if (status) {
        free(secs);
        free(by_input);
        free(by_body);
        return status;
    }

    const js_ingest_stats *st = &first.stats;
    double med_in = rates(secs, runs, st->bytes_read, by_input);
    double med_body = rates(secs, runs, first.ty.body_bytes, by_body);
    if (first.ty.sections != st->sections)
        fprintf(stderr, "bench_ingest: the callback saw %" PRIu64
                        " sections, the statistics say %" PRIu64 "\n",
                first.ty.sections, st->sections);

    if (json) {
        printf("{\"library\":");
        print_json_str(js_version());
        printf(",\"label\":");
        print_json_str(label);
        printf(",\"format\":");
        print_json_str(format);
        printf(",\"paths\":%zu,\"files\":%" PRIu64 ",\"documents\":%" PRIu64
               ",\"sections\":%" PRIu64 ",\"skipped_files\":%" PRIu64
               ",\"skipped_records\":%" PRIu64 ",\"warnings\":%" PRIu64
               ",\"bytes\":%" PRIu64 ",\"body_bytes\":%" PRIu64
               ",\"runs\":%d"
               ",\"mb_per_s\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f}"
               ",\"body_mb_per_s\":{\"median\":%.1f,\"min\":%.1f,"
               "\"max\":%.1f},\"seconds\":[",
               npaths, st->files, st->documents, st->sections,
               st->skipped_files, st->skipped_records, st->warnings,
               st->bytes_read, first.ty.body_bytes, runs, med_in,
               by_input[0], by_input[runs - 1], med_body, by_body[0],
               by_body[runs - 1]);
        for (int r = 0; r < runs; r++)
            printf("%s%.9f", r ? "," : "", secs[r]);
        printf("],\"hash\":\"%016" PRIx64 "\"}\n", first.ty.hash);
    } else {
        printf("ingest (libjiansuo %s)%s%s, format %s\n", js_version(),
               label ? ": " : "", label ? label : "",
               format ? format : "detected");
        printf("  input     %zu path%s: %" PRIu64 " file%s (%" PRIu64
               " skipped), %" PRIu64 " bytes read (%.2f MB)\n",
               npaths, npaths == 1 ? "" : "s", st->files,
               st->files == 1 ? "" : "s", st->skipped_files, st->bytes_read,
               (double)st->bytes_read / 1e6);
        printf("  output    %" PRIu64 " documents, %" PRIu64
               " sections, %" PRIu64 " body bytes (%.2f MB)\n",
               st->documents, st->sections, first.ty.body_bytes,
               (double)first.ty.body_bytes / 1e6);
        printf("  problems  %" PRIu64 " warnings, %" PRIu64
               " skipped records\n",
               st->warnings, st->skipped_records);
        printf("  runs      %d\n", runs);
        printf("  MB/s in   median %.1f  min %.1f  max %.1f\n", med_in,
               by_input[0], by_input[runs - 1]);
        printf("  MB/s body median %.1f  min %.1f  max %.1f\n", med_body,
               by_body[0], by_body[runs - 1]);
        printf("  hash      %016" PRIx64 "\n", first.ty.hash);
    }
    free(secs);
    free(by_input);
    free(by_body);
    return finish_stdout("bench_ingest");
}
