/*
 * cmd_write.c — keeping an index current: `jiansuo add`, `jiansuo
 * delete`, `jiansuo merge`, and `jiansuo index --update`.
 *
 * In:  the files, identities or trees to change, and the index directory,
 *      through jiansuo.h's js_writer_*.
 * Out: the index's next generation, committed once at the end (searches
 *      see all of it or none); a progress line on a terminal; a summary
 *      on standard output.  Exit status 0; 1 when something could not be
 *      done (an unknown id or path, a file that could not be read: the
 *      rest is still committed) or the commit failed (the index is as it
 *      was); 2 for a usage error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jiansuo.h"

static void show_progress(void *ctx, const js_build_progress *p)
{
    (void)ctx;
    if (p->phase == 0)
        js_cli_progress("%llu files, %llu sections, %.1f MB",
                        (unsigned long long)p->files,
                        (unsigned long long)p->sections,
                        (double)p->bytes_read / 1e6);
    else
        js_cli_progress("writing the segment... (%llu sections)",
                        (unsigned long long)p->sections);
}

static void usage_add(FILE *f)
{
    fprintf(f,
            "usage: jiansuo add [-d DIR] [--wait] [--memory MiB] [--format F]\n"
            "                   [--encoding E] [--hidden] PATH...\n"
            "\n"
            "Adds the documents in the files under each PATH to the index in\n"
            "DIR, or replaces them: a document replaces the one with its\n"
            "identity (a JSON Lines record's id, else its file's path).\n"
            "Everything is committed at once at the end.\n"
            "\n"
            "  -d, --index DIR  index directory (see jiansuo index --help)\n"
            "  --wait           wait for another writer instead of failing\n"
            "  --memory MiB     memory for the new segment (default 512)\n"
            "  --format F       read every file as F (default: detected)\n"
            "  --encoding E     read every file as E (default: detected)\n"
            "  --hidden         also read hidden files and directories\n"
            "  -h, --help       this text\n");
}

static void usage_delete(FILE *f)
{
    fprintf(f,
            "usage: jiansuo delete [-d DIR] [--wait] (--id ID... | --path PATH...)\n"
            "\n"
            "Deletes documents from the index in DIR: with --id, the JSON Lines\n"
            "records with these ids; with --path, the documents read from these\n"
            "files (all the records of a JSON Lines file).  An unknown id or path\n"
            "is reported and the others are still deleted.\n"
            "\n"
            "  -d, --index DIR  index directory (see jiansuo index --help)\n"
            "  --wait           wait for another writer instead of failing\n"
            "  --id             the arguments are record ids\n"
            "  --path           the arguments are file paths\n"
            "  -h, --help       this text\n");
}

static void usage_merge(FILE *f)
{
    fprintf(f,
            "usage: jiansuo merge [-d DIR] [--wait] [--memory MiB] [--segments N]\n"
            "\n"
            "Merges the segments of the index in DIR down to at most N (default\n"
            "1: one segment, with every deleted section purged).\n"
            "\n"
            "  -d, --index DIR  index directory (see jiansuo index --help)\n"
            "  --wait           wait for another writer instead of failing\n"
            "  --memory MiB     memory for the merged segment's postings\n"
            "                   (default 512), as for index\n"
            "  --segments N     segments to leave (default 1)\n"
            "  -h, --help       this text\n");
}


/* Opens the writer of dir.  Returns it, or NULL after saying why. */
static js_writer *open_writer(const char *cmd, const char *dir,
                              js_writer_options *o)
{
    js_writer *w = NULL;
    o->warn = js_cli_warning;
    o->warn_ctx = (void *)cmd;
    if (isatty(STDERR_FILENO)) {
        o->progress = show_progress;
        o->progress_ctx = NULL;
    }
    int rc = js_writer_open(&w, dir, o);
    if (rc) {
        const char *m = w ? js_writer_errmsg(w) : "";
        js_cli_error(cmd, "%s", m[0] ? m : js_strerror(rc));
        js_writer_close(w);
        return NULL;
    }
    return w;
}

/* Commits, prints the summary, closes.  Returns the exit status; failed
 * says that something before the commit could not be done. */
static int finish(const char *cmd, const char *dir, js_writer *w, int failed,
                  unsigned merge_to)
{
    int rc = merge_to ? js_writer_merge(w, merge_to) : js_writer_commit(w);
    js_cli_progress_clear();
    if (rc) {
        js_cli_error(cmd, "%s", js_writer_errmsg(w));
        js_cli_error(cmd, "nothing was committed; the index in %s is as it "
                     "was", dir);
        js_writer_close(w);
        return JS_EXIT_FAIL;
    }
    js_writer_stats st;
    js_writer_get_stats(w, &st);
    js_writer_close(w);
    printf("%s: %llu added, %llu replaced, %llu deleted",
           dir, (unsigned long long)st.added,
           (unsigned long long)st.replaced, (unsigned long long)st.deleted);
    if (st.unchanged)
        printf(", %llu unchanged", (unsigned long long)st.unchanged);
    if (st.kept)
        printf(", %llu unreadable (old version kept)",
               (unsigned long long)st.kept);
    printf("; %llu sections added, %llu deleted\n",
           (unsigned long long)st.sections_added,
           (unsigned long long)st.sections_deleted);
    printf("generation %llu, %u segment%s, %u merge%s; %.2f s\n",
           (unsigned long long)st.generation, st.segments,
           st.segments == 1 ? "" : "s", st.merges, st.merges == 1 ? "" : "s",
           st.seconds);
    if (fflush(stdout) == EOF) {
        js_cli_error(cmd, "cannot write standard output");
        return JS_EXIT_FAIL;
    }
    return failed || st.ingest.skipped_files || st.ingest.skipped_records
               ? JS_EXIT_FAIL
               : JS_EXIT_OK;
}

/* add and index --update: each path through fn. */
static int write_paths(const char *cmd, const char *dir, js_writer_options *o,
                       int n, char **paths,
                       int (*fn)(js_writer *, const char *))
{
    js_writer *w = open_writer(cmd, dir, o);
    if (!w)
        return JS_EXIT_FAIL;
    int failed = 0;
    for (int i = 0; i < n; i++) {
        int rc = fn(w, paths[i]);
        if (rc == JS_ENOTFOUND || rc == JS_EIO) {
            js_cli_progress_clear();
            js_cli_error(cmd, "%s", js_writer_errmsg(w));
            failed = 1;
        } else if (rc) {
            js_cli_progress_clear();
            js_cli_error(cmd, "%s", js_writer_errmsg(w));
            js_cli_error(cmd, "nothing was committed; the index in %s is as "
                         "it was", dir);
            js_writer_close(w);
            return JS_EXIT_FAIL;
        }
    }
    return finish(cmd, dir, w, failed, 0);
}

int js_cli_update(const char *dir, js_writer_options *o, int n, char **paths)
{
    return write_paths("index", dir, o, n, paths, js_writer_update);
}

enum { OPT_WAIT = 256, OPT_MEMORY, OPT_FORMAT, OPT_ENCODING, OPT_HIDDEN,
       OPT_ID, OPT_PATH, OPT_SEGMENTS };

/* The options the three commands share; returns -1 to go on or the exit
 * status. */
static int parse(const char *cmd, int argc, char **argv,
                 void (*usage)(FILE *), js_writer_options *o,
                 const char **dir_arg, int *by, unsigned long *segments)
{
    static const struct option longopts[] = {
        {"index", required_argument, NULL, 'd'},
        {"wait", no_argument, NULL, OPT_WAIT},
        {"memory", required_argument, NULL, OPT_MEMORY},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"encoding", required_argument, NULL, OPT_ENCODING},
        {"hidden", no_argument, NULL, OPT_HIDDEN},
        {"id", no_argument, NULL, OPT_ID},
        {"path", no_argument, NULL, OPT_PATH},
        {"segments", required_argument, NULL, OPT_SEGMENTS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    unsigned long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
        int ok = 1;
        switch (c) {
        case 'd':
            *dir_arg = optarg;
            break;
        case OPT_WAIT:
            o->wait = 1;
            break;
        case OPT_MEMORY:
            ok = usage == usage_add || usage == usage_merge;
            if (ok && js_cli_count(optarg, 1u << 20, &v)) {
                js_cli_error(cmd, "--memory takes MiB from 1 to %u, not '%s'",
                             1u << 20, optarg);
                return JS_EXIT_USAGE;
            }
            o->memory_mib = v;
            break;
        case OPT_FORMAT:
            ok = usage == usage_add;
            o->format = optarg;
            break;
        case OPT_ENCODING:
            ok = usage == usage_add;
            o->encoding = optarg;
            break;
        case OPT_HIDDEN:
            ok = usage == usage_add;
            o->include_hidden = 1;
            break;
        case OPT_ID:
        case OPT_PATH:
            ok = usage == usage_delete;
            if (ok && *by >= 0 && *by != (c == OPT_PATH)) {
                js_cli_error(cmd, "give --id or --path, not both");
                return JS_EXIT_USAGE;
            }
            *by = c == OPT_PATH;
            break;
        case OPT_SEGMENTS:
            ok = usage == usage_merge;
            if (ok && js_cli_count(optarg, 1u << 20, segments)) {
                js_cli_error(cmd, "--segments takes a number from 1, not '%s'",
                             optarg);
                return JS_EXIT_USAGE;
            }
            break;
        case 'h':
        default:
            return js_cli_usage(usage, c);
        }
        if (!ok)
            return js_cli_usage(usage, '?');
    }
    return -1;
}

int js_cmd_add(int argc, char **argv)
{
    js_writer_options o = JS_WRITER_OPTIONS_INIT;
    const char *dir_arg = NULL;
    int by = -1;
    unsigned long seg = 0;
    int status = parse("add", argc, argv, usage_add, &o, &dir_arg, &by, &seg);
    if (status >= 0)
        return status;
    if (optind >= argc) {
        js_cli_error("add", "no file or directory given");
        usage_add(stderr);
        return JS_EXIT_USAGE;
    }
    char *dir = js_cli_index_dir("add", dir_arg);
    if (!dir)
        return JS_EXIT_USAGE;
    status = write_paths("add", dir, &o, argc - optind, argv + optind,
                         js_writer_add_path);
    free(dir);
    return status;
}

int js_cmd_delete(int argc, char **argv)
{
    js_writer_options o = JS_WRITER_OPTIONS_INIT;
    const char *dir_arg = NULL;
    int by = -1;
    unsigned long seg = 0;
    int status = parse("delete", argc, argv, usage_delete, &o, &dir_arg, &by,
                       &seg);
    if (status >= 0)
        return status;
    if (by < 0 || optind >= argc) {
        js_cli_error("delete", by < 0 ? "say --id or --path"
                                      : "no id or path given");
        usage_delete(stderr);
        return JS_EXIT_USAGE;
    }
    char *dir = js_cli_index_dir("delete", dir_arg);
    if (!dir)
        return JS_EXIT_USAGE;
    js_writer *w = open_writer("delete", dir, &o);
    if (!w) {
        free(dir);
        return JS_EXIT_FAIL;
    }
    int failed = 0;
    for (int i = optind; i < argc; i++) {
        int rc = by ? js_writer_delete_path(w, argv[i])
                    : js_writer_delete_id(w, argv[i]);
        if (rc == JS_ENOTFOUND || rc == JS_EINVALID) {
            js_cli_error("delete", "%s", js_writer_errmsg(w));
            failed = 1;
        } else if (rc) {
            js_cli_error("delete", "%s", js_writer_errmsg(w));
            js_cli_error("delete", "nothing was committed; the index in %s "
                         "is as it was", dir);
            js_writer_close(w);
            free(dir);
            return JS_EXIT_FAIL;
        }
    }
    status = finish("delete", dir, w, failed, 0);
    free(dir);
    return status;
}

int js_cmd_merge(int argc, char **argv)
{
    js_writer_options o = JS_WRITER_OPTIONS_INIT;
    const char *dir_arg = NULL;
    int by = -1;
    unsigned long seg = 1;
    int status = parse("merge", argc, argv, usage_merge, &o, &dir_arg, &by,
                       &seg);
    if (status >= 0)
        return status;
    if (optind < argc) {
        js_cli_error("merge", "unexpected argument '%s'", argv[optind]);
        usage_merge(stderr);
        return JS_EXIT_USAGE;
    }
    char *dir = js_cli_index_dir("merge", dir_arg);
    if (!dir)
        return JS_EXIT_USAGE;
    js_writer *w = open_writer("merge", dir, &o);
    status = w ? finish("merge", dir, w, 0, (unsigned)seg) : JS_EXIT_FAIL;
    free(dir);
    return status;
}
