/*
 * cmd_index.c — `jiansuo index [-d DIR] [OPTIONS] PATH...`.
 *
 * In:  files and directories to index, options for the build, the
 *      backend (native: DIR/index.jsi; xapian: DIR/xapian), all through
 *      jiansuo.h's js_builder_*.
 * Out: a published index in DIR; on a terminal a progress line (files,
 *      sections, MB read, MB/s, ETA when the total size is known), and
 *      always a final summary on standard output.  Exit status 0, or 1
 *      when the build failed (the previous index is untouched) or files
 *      or records had to be skipped (the index is published without
 *      them), or 2 for a usage error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "jiansuo.h"

typedef struct {
    uint64_t total; /* bytes to read, when known (0: unknown) */
} progress_ctx;

static void show_progress(void *ctx, const js_build_progress *p)
{
    progress_ctx *pc = ctx;
    double mb = (double)p->bytes_read / 1e6;
    double rate = p->seconds > 0 ? mb / p->seconds : 0;
    if (p->phase == 1) {
        js_cli_progress("merging postings... (%llu sections read, %.1f MB)",
                        (unsigned long long)p->sections, mb);
        return;
    }
    if (p->phase == 2) {
        js_cli_progress("writing the index...");
        return;
    }
    if (pc->total && rate > 0 && p->bytes_read <= pc->total)
        js_cli_progress("%llu files, %llu sections, %.1f of %.1f MB, %.1f MB/s, "
                        "ETA %.0f s",
                        (unsigned long long)p->files,
                        (unsigned long long)p->sections, mb,
                        (double)pc->total / 1e6, rate,
                        ((double)pc->total / 1e6 - mb) / rate);
    else
        js_cli_progress("%llu files, %llu sections, %.1f MB, %.1f MB/s",
                        (unsigned long long)p->files,
                        (unsigned long long)p->sections, mb, rate);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: jiansuo index [-d DIR] [--memory MiB] [--threads N]\n"
            "                     [--format F] [--encoding E] [--hidden]\n"
            "                     [--no-fold] [--backend native|xapian]\n"
            "                     [--shards N] [--update [--wait]] PATH...\n"
            "\n"
            "Builds the index of the files under each PATH and publishes\n"
            "it atomically in DIR, replacing the index there.  With --update,\n"
            "brings the index in DIR in line with the trees instead: new and\n"
            "changed files are read again, files gone are deleted, unchanged\n"
            "ones (same size and time, or same content) are not read.\n"
            "\n"
            "  -d, --index DIR  index directory (default: $JIANSUO_INDEX, else\n"
            "                   $XDG_DATA_HOME/jiansuo/index, else\n"
            "                   ~/.local/share/jiansuo/index)\n"
            "  --memory MiB     postings kept in memory before spilling sorted\n"
            "                   runs to disk (default 512)\n"
            "  --threads N      threads to use (default: one per core)\n"
            "  --format F       read every file as F: text, markdown, html,\n"
            "                   man, jsonl (default: detected)\n"
            "  --encoding E     read every file as E (default: detected)\n"
            "  --hidden         also read hidden files and directories\n"
            "  --no-fold        keep Traditional and Simplified apart\n"
            "  --backend B      native (default): DIR/index.jsi; xapian: Xapian\n"
            "                   databases in DIR/xapian\n"
            "  --shards N       xapian only: spread sections over N databases\n"
            "                   (default 1)\n"
            "  --update         update the index in place (see above)\n"
            "  --wait           with --update: wait for another writer\n"
            "  -h, --help       this text\n");
}


/* Prints the summary of a finished build of dir.  Returns the exit
 * status: 1 when files or records had to be skipped. */
static int summary(const char *dir, const js_build_options *o,
                   const js_build_stats *st)
{
    double text_mb = (double)st->ingest.bytes_read / 1e6;
    int x = o->backend == JS_BACKEND_XAPIAN;
    unsigned shards = o->shards ? o->shards : 1;
    printf("indexed %llu documents, %llu sections from %llu files (%.1f MB) "
           "into %s",
           (unsigned long long)st->ingest.documents,
           (unsigned long long)st->ingest.sections,
           (unsigned long long)st->ingest.files, text_mb, dir);
    if (x)
        printf("/xapian (%u shard%s)", shards, shards == 1 ? "" : "s");
    printf("\n%llu terms, %llu postings, %llu positions; %.1f MB on disk "
           "(%.2f x the text)\n",
           (unsigned long long)st->terms, (unsigned long long)st->postings,
           (unsigned long long)st->positions, (double)st->index_bytes / 1e6,
           st->text_bytes ? (double)st->index_bytes / (double)st->text_bytes : 0);
    printf("%.2f s (%.1f MB/s)", st->seconds,
           st->seconds > 0 ? text_mb / st->seconds : 0);
    if (x)
        printf(";");
    else
        printf(", %u sorted runs spilled;", st->runs);
    printf(" %llu warnings, %llu skipped files, %llu skipped records\n",
           (unsigned long long)st->ingest.warnings,
           (unsigned long long)st->ingest.skipped_files,
           (unsigned long long)st->ingest.skipped_records);
    if (fflush(stdout) == EOF) {
        js_cli_error("index", "cannot write standard output");
        return JS_EXIT_FAIL;
    }
    return st->ingest.skipped_files || st->ingest.skipped_records ? JS_EXIT_FAIL
                                                                  : JS_EXIT_OK;
}

/* Builds the index of paths[0..n) in dir and publishes it.  Returns the
 * exit status. */
static int build(const char *dir, const js_build_options *o, int n,
                 char **paths)
{
    js_builder *b = NULL;
    int rc = js_builder_open(&b, dir, o);
    for (int i = 0; i < n && !rc; i++)
        rc = js_builder_add_path(b, paths[i]);
    if (!rc)
        rc = js_builder_commit(b);
    js_cli_progress_clear();
    if (rc) {
        const char *msg = b ? js_builder_errmsg(b) : "";
        js_cli_error("index", "%s", msg[0] ? msg : js_strerror(rc));
        js_cli_error("index", "nothing was published; the index in %s is "
                     "unchanged", dir);
        js_builder_close(b);
        return rc == JS_EINVALID ? JS_EXIT_USAGE : JS_EXIT_FAIL;
    }
    js_build_stats st;
    js_builder_get_stats(b, &st);
    js_builder_close(b);
    return summary(dir, o, &st);
}

/* Reads the options into *o and *dir_arg.  Returns -1 to go on, or the
 * exit status (help shown, or a usage error printed). */
static int parse_options(int argc, char **argv, js_build_options *o,
                         const char **dir_arg, int *update, int *wait)
{
    static const struct option longopts[] = {
        {"index", required_argument, NULL, 'd'},
        {"memory", required_argument, NULL, 'm'},
        {"threads", required_argument, NULL, 't'},
        {"format", required_argument, NULL, 'f'},
        {"encoding", required_argument, NULL, 'e'},
        {"hidden", no_argument, NULL, 'H'},
        {"no-fold", no_argument, NULL, 'F'},
        {"backend", required_argument, NULL, 'b'},
        {"shards", required_argument, NULL, 's'},
        {"update", no_argument, NULL, 'U'},
        {"wait", no_argument, NULL, 'W'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    unsigned long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            *dir_arg = optarg;
            break;
        case 'm':
            if (js_cli_count(optarg, 1u << 20, &v)) {
                js_cli_error("index", "--memory takes MiB from 1 to %u, not '%s'",
                             1u << 20, optarg);
                return JS_EXIT_USAGE;
            }
            o->memory_mib = v;
            break;
        case 't':
            if (js_cli_count(optarg, 1024, &v)) {
                js_cli_error("index", "--threads takes 1 to 1024, not '%s'",
                             optarg);
                return JS_EXIT_USAGE;
            }
            o->threads = (unsigned)v;
            break;
        case 'f':
            o->format = optarg;
            break;
        case 'e':
            o->encoding = optarg;
            break;
        case 'H':
            o->include_hidden = 1;
            break;
        case 'F':
            o->analyze_flags |= JS_ANALYZE_NO_FOLD;
            break;
        case 'b':
            if (js_cli_backend("index", optarg, &o->backend))
                return JS_EXIT_USAGE;
            break;
        case 's':
            if (js_cli_count(optarg, JS_MAX_SHARDS, &v)) {
                js_cli_error("index", "--shards takes 1 to %u, not '%s'",
                             JS_MAX_SHARDS, optarg);
                return JS_EXIT_USAGE;
            }
            o->shards = (unsigned)v;
            break;
        case 'U':
            *update = 1;
            break;
        case 'W':
            *wait = 1;
            break;
        case 'h':
        default:
            return js_cli_usage(usage, c);
        }
    }
    if (*wait && !*update) {
        js_cli_error("index", "--wait goes with --update");
        return JS_EXIT_USAGE;
    }
    if (o->shards && o->backend != JS_BACKEND_XAPIAN) {
        js_cli_error("index", "--shards needs --backend xapian");
        return JS_EXIT_USAGE;
    }
    if (optind >= argc) {
        js_cli_error("index", "no file or directory given");
        usage(stderr);
        return JS_EXIT_USAGE;
    }
    return -1;
}

int js_cmd_index(int argc, char **argv)
{
    js_build_options o = JS_BUILD_OPTIONS_INIT;
    const char *dir_arg = NULL;
    int update = 0, wait = 0;
    int status = parse_options(argc, argv, &o, &dir_arg, &update, &wait);
    if (status >= 0)
        return status;
    char *dir = js_cli_index_dir("index", dir_arg);
    if (!dir)
        return JS_EXIT_USAGE;
    if (update) {
        js_writer_options wo = JS_WRITER_OPTIONS_INIT;
        wo.memory_mib = o.memory_mib;
        wo.threads = o.threads;
        wo.format = o.format;
        wo.encoding = o.encoding;
        wo.include_hidden = o.include_hidden;
        wo.wait = wait;
        wo.backend = o.backend;
        wo.analyze_flags = o.analyze_flags;
        status = js_cli_update(dir, &wo, argc - optind, argv + optind);
        free(dir);
        return status;
    }
    progress_ctx pc = {0};
    if (isatty(STDERR_FILENO)) {
        /* The total is known when every PATH is a plain file. */
        for (int i = optind; i < argc; i++) {
            struct stat st;
            if (stat(argv[i], &st) != 0 || !S_ISREG(st.st_mode)) {
                pc.total = 0;
                break;
            }
            pc.total += (uint64_t)st.st_size;
        }
        o.progress = show_progress;
        o.progress_ctx = &pc;
    }
    o.warn = js_cli_warning;
    o.warn_ctx = (void *)"index";
    status = build(dir, &o, argc - optind, argv + optind);
    free(dir);
    return status;
}
