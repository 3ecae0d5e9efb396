/*
 * jiansuo.c — the `jiansuo` command: finds the subcommand and runs it.
 *
 * In:  argv.  Out: the subcommand's exit status.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jiansuo.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} commands[] = {
    {"analyze", js_cmd_analyze,
     "show the terms, positions and byte ranges of a text"},
    {"sections", js_cmd_sections,
     "show the documents and sections files are cut into"},
    {"index", js_cmd_index, "build the index from files and directories"},
    {"add", js_cmd_add, "add or replace documents in an index"},
    {"delete", js_cmd_delete, "delete documents from an index by id or path"},
    {"merge", js_cmd_merge, "merge an index's segments"},
    {"search", js_cmd_search, "find the sections that match a query, best first"},
    {"stats", js_cmd_stats, "show the counts and sizes of an index"},
    {"check", js_cmd_check, "verify every checksum and invariant of an index"},
    {"serve", js_cmd_serve, "serve an index over HTTP: JSON and a search page"},
};

#define NCOMMANDS (sizeof commands / sizeof *commands)

static void usage(FILE *f)
{
    fprintf(f, "usage: jiansuo COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'jiansuo COMMAND --help' describes a command.\n"
               "'jiansuo --version' prints the version.\n");
}

void js_cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "jiansuo %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int progress_shown;

void js_cli_progress_clear(void)
{
    if (progress_shown) {
        fputs("\r\033[K", stderr);
        progress_shown = 0;
    }
}

void js_cli_progress(const char *fmt, ...)
{
    va_list ap;
    fputs("\r\033[K", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
    progress_shown = 1;
}

void js_cli_warning(void *ctx, const char *file, uint64_t line,
                    uint64_t offset, const char *msg)
{
    const char *cmd = ctx;
    js_cli_progress_clear();
    if (line)
        fprintf(stderr, "jiansuo %s: %s:%llu: %s\n", cmd, file,
                (unsigned long long)line, msg);
    else if (offset != UINT64_MAX)
        fprintf(stderr, "jiansuo %s: %s: byte %llu: %s\n", cmd, file,
                (unsigned long long)offset, msg);
    else
        fprintf(stderr, "jiansuo %s: %s: %s\n", cmd, file, msg);
}

int js_cli_usage(void (*print_usage)(FILE *), int c)
{
    print_usage(c == 'h' ? stdout : stderr);
    return c == 'h' ? JS_EXIT_OK : JS_EXIT_USAGE;
}

int js_cli_index_command(const char *cmd, int argc, char **argv,
                         const struct option *longopts,
                         void (*print_usage)(FILE *), int *json,
                         js_index **ix, char **dir)
{
    const char *dir_arg = NULL;
    js_open_options oo = JS_OPEN_OPTIONS_INIT;
    int c;
    *ix = NULL;
    *dir = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
        if (c == 'd')
            dir_arg = optarg;
        else if (c == 'b' && js_cli_backend(cmd, optarg, &oo.backend))
            return JS_EXIT_USAGE;
        else if (c == 'j' && json)
            *json = 1;
        else if (c != 'b')
            return js_cli_usage(print_usage, c);
    }
    int status = js_cli_open_index(cmd, argc, argv, optind, dir_arg, &oo, ix,
                                   dir);
    return status ? status : -1;
}

int js_cli_backend(const char *cmd, const char *arg, js_backend *out)
{
    if (!strcmp(arg, "native")) {
        *out = JS_BACKEND_NATIVE;
        return 0;
    }
    if (!strcmp(arg, "xapian")) {
        *out = JS_BACKEND_XAPIAN;
        return 0;
    }
    js_cli_error(cmd, "--backend takes native or xapian, not '%s'", arg);
    return -1;
}

int js_cli_count(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v > max || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

char *js_cli_index_dir(const char *cmd, const char *given)
{
    char *d = given ? strdup(given) : js_index_default_dir();
    if (!d)
        js_cli_error(cmd, "no index directory: use -d DIR or set "
                          "JIANSUO_INDEX (or HOME)");
    return d;
}

int js_cli_open_index(const char *cmd, int argc, char **argv, int first,
                      const char *given, const js_open_options *opts,
                      js_index **ix, char **dir)
{
    *ix = NULL;
    *dir = NULL;
    if (first < argc) {
        js_cli_error(cmd, "unexpected argument '%s'", argv[first]);
        return JS_EXIT_USAGE;
    }
    /* shards served from elsewhere: no directory is read */
    if (!(opts && opts->remote) && !(*dir = js_cli_index_dir(cmd, given)))
        return JS_EXIT_USAGE;
    int rc = js_index_open_ext(ix, *dir, opts);
    if (rc) {
        js_cli_error(cmd, "%s", *ix ? js_index_errmsg(*ix) : js_strerror(rc));
        js_index_close(*ix);
        *ix = NULL;
        free(*dir);
        *dir = NULL;
        return JS_EXIT_FAIL;
    }
    return 0;
}

char *js_cli_slurp(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    for (;;) {
        if (cap - n < 2) {
            if (cap > SIZE_MAX / 2) {
                free(buf);
                errno = ENOMEM;
                return NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                int e = errno ? errno : EIO;
                free(buf);
                errno = e;
                return NULL;
            }
            break;
        }
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

char *js_cli_join(int argc, char **argv, size_t *len)
{
    size_t total = 1;
    for (int i = 0; i < argc; i++)
        total += strlen(argv[i]) + 1;
    char *s = malloc(total), *p = s;
    if (!s)
        return NULL;
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (i)
            *p++ = ' ';
        memcpy(p, argv[i], n);
        p += n;
    }
    *p = 0;
    *len = (size_t)(p - s);
    return s;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return JS_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return JS_EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("jiansuo %s\n", js_version());
        return JS_EXIT_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (!strcmp(cmd, commands[i].name)) {
            /* getopt prefixes its messages with argv[0]: make that the
             * full command the user typed. */
            static char name[64];
            snprintf(name, sizeof name, "jiansuo %s", commands[i].name);
            argv[1] = name;
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "jiansuo: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return JS_EXIT_USAGE;
}
