/*
 * cmd_search.c — `jiansuo search [-d DIR] [-n N] [--offset K] [--json]
 * [--no-snippet] QUERY...` and `jiansuo search --queries FILE`.
 *
 * In:  a query (the arguments joined by spaces) or a file of queries, one
 *      per line; an index directory.
 * Out: for a person: the number of matching sections, then per hit its
 *      rank, score, document › heading path and a snippet with matches
 *      in bold (a terminal) or 【】; for programs (--json): one JSON
 *      object per line, a "query" object then one "hit" object per hit.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "json_out.h"
#include "jiansuo.h"

typedef struct params {
    js_search_options o;
    int json, explain, bold;
    int follow; /* --follow: the newest generation before each query */
    const char *queries;
    js_index *ix; /* either backend */
} params;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: jiansuo search [OPTION]... QUERY...\n"
            "       jiansuo search [OPTION]... --queries FILE\n"
            "\n"
            "Finds the sections that match QUERY, best first.  Parts separated by\n"
            "spaces must all match; a Chinese run matches only where its characters\n"
            "stand together.  \"...\" is an exact phrase, OR gives alternatives, -part\n"
            "excludes, ( ) groups, title:part matches headings only.  word* matches\n"
            "the words starting with word (2 characters at least), at most the 50\n"
            "most frequent of them.  Simplified and Traditional characters find each\n"
            "other.\n"
            "\n"
            "  -d, --index DIR       index directory (default as for 'jiansuo index')\n"
            "      --backend B       native or xapian (default: native, else the\n"
            "                        Xapian index when DIR holds only that)\n"
            "      --remote H:P[,H:P...]  search Xapian shards served by xapian-tcpsrv,\n"
            "                        in shard order, as one index\n"
            "      --no-fold         with --remote: the index was built with --no-fold\n"
            "  -n, --limit N         show N hits (default 10)\n"
            "      --offset K        skip the K best hits (paging)\n"
            "      --json            one JSON object per line, for programs\n"
            "      --no-snippet      do not show snippets\n"
            "      --no-partial      strict matches only, no partial matches\n"
            "      --exact-total     count every match, even when slower\n"
            "      --no-champions    rank one-term queries by walking their\n"
            "                        postings, not by the index's precomputed\n"
            "                        best sections (same hits; for checking)\n"
            "      --queries FILE    run one query per line of FILE ('-': stdin);\n"
            "                        JSON results carry the line and microseconds;\n"
            "                        the index is read into memory first\n"
            "      --follow          with --queries: move to the index's newest\n"
            "                        commit before each query (a live index)\n"
            "      --explain         also show how the query was read\n"
            "      --k1 X, --b X     BM25 parameters (default 1.2, 0.75)\n"
            "      --heading-weight X  weight of a heading match (default 2)\n"
            "      --snippet-chars N snippet length in characters (default 80)\n"
            "  -h, --help            this text\n");
}

/* Parses a number argument into *out within [lo, hi].  Returns 0 or -1
 * after printing an error. */
static int number(const char *opt, const char *arg, double lo, double hi,
                  double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno || end == arg || *end || !(v >= lo && v <= hi)) {
        js_cli_error("search", "%s wants a number in %g..%g, not '%s'", opt,
                     lo, hi, arg);
        return -1;
    }
    *out = v;
    return 0;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Prints the snippet with its highlights marked. */
static void print_snippet(const js_hit *h, int bold)
{
    const char *on = bold ? "\033[1m" : "【", *off = bold ? "\033[0m" : "】";
    size_t at = 0;
    fputs("   ", stdout);
    for (size_t i = 0; i < h->nhighlights; i++) {
        size_t s = h->highlights[2 * i], e = h->highlights[2 * i + 1];
        fwrite(h->snippet + at, 1, s - at, stdout);
        fputs(on, stdout);
        fwrite(h->snippet + s, 1, e - s, stdout);
        fputs(off, stdout);
        at = e;
    }
    fwrite(h->snippet + at, 1, h->snippet_len - at, stdout);
    putchar('\n');
}

/* Prints "title (source) › heading › heading"; a first heading equal to
 * the title is shown once. */
static void print_place(const js_hit *h)
{
    size_t first = 0;
    if (h->title[0]) {
        printf("%s (%s)", h->title, h->source);
        if (h->depth && !strcmp(h->headings[0], h->title))
            first = 1;
    } else {
        fputs(h->source, stdout);
    }
    if (h->id[0])
        printf(" #%s", h->id);
    for (size_t i = first; i < h->depth; i++)
        printf(" › %s", h->headings[i]);
}

static void print_text(const params *p, const js_results *r,
                       const char *query)
{
    int exact;
    uint64_t total = js_results_total(r, &exact);
    size_t n = js_results_count(r);
    size_t npartial = 0;
    for (size_t i = 0; i < n; i++)
        npartial += js_results_hit(r, i)->partial;
    if (p->explain)
        printf("query: %s\n", js_results_query(r));
    if (total == 0)
        printf("no section matches %s", query);
    else
        printf("%s%llu section%s match%s %s", exact ? "" : "about ",
               (unsigned long long)total, total == 1 ? "" : "s",
               total == 1 ? "es" : "", query);
    if (npartial)
        printf("; %zu partial match%s follow%s", npartial,
               npartial == 1 ? "" : "es", npartial == 1 ? "s" : "");
    putchar('\n');
    for (size_t i = 0; i < n; i++) {
        const js_hit *h = js_results_hit(r, i);
        printf("\n%zu. %.3f%s  ", (size_t)p->o.offset + i + 1, h->score,
               h->partial ? " (partial)" : "");
        print_place(h);
        putchar('\n');
        if (!(p->o.flags & JS_SEARCH_NO_SNIPPET) && h->snippet_len)
            print_snippet(h, p->bold);
    }
}

/* Prints one JSON object a line: {"type":TYPE[,"line":N], then what
 * the buffer holds, then "}". */
static void emit(const char *type, long line, js_jbuf *fields)
{
    printf("{\"type\":\"%s\"", type);
    if (line > 0)
        printf(",\"line\":%ld", line);
    if (fields->len)
        printf(",%s", fields->p);
    puts("}");
    fields->len = 0;
    if (fields->p)
        fields->p[0] = 0;
}

static void print_json(const params *p, const js_results *r,
                       const char *query, size_t qlen, long line, double us)
{
    js_jbuf b = {0};
    js_cli_query_fields(&b, r, query, qlen, p->o.offset, 0);
    if (line > 0) {
        js_jbuf_key(&b, "micros");
        js_jbuf_uint(&b, (uint64_t)(us + 0.5));
    }
    if (b.failed) {
        js_cli_error("search", "out of memory");
        free(b.p);
        return;
    }
    emit("query", line, &b);
    int snippets = !(p->o.flags & JS_SEARCH_NO_SNIPPET);
    for (size_t i = 0; i < js_results_count(r); i++) {
        js_cli_hit_fields(&b, js_results_hit(r, i), p->o.offset + i + 1,
                          snippets);
        if (b.failed) {
            js_cli_error("search", "out of memory");
            break;
        }
        emit("hit", line, &b);
    }
    free(b.p);
}

/* Runs one query and prints its results.  line: the line in --queries
 * (0 for a query from the arguments).  Returns 0 or the JS_E* code. */
static int run(const params *p, const char *query, size_t len, long line)
{
    js_results *r = NULL;
    double t0 = now_us();
    int rc = js_search(&r, p->ix, query, len, &p->o);
    double us = now_us() - t0;
    if (rc) {
        const char *msg = r ? js_results_errmsg(r) : js_strerror(rc);
        if (p->json) {
            js_jbuf b = {0};
            js_jbuf_key(&b, "query");
            js_jbuf_str(&b, query, len);
            js_jbuf_key(&b, "error");
            js_jbuf_cstr(&b, msg);
            if (!b.failed)
                emit("error", line, &b);
            free(b.p);
        }
        if (line > 0)
            js_cli_error("search", "line %ld: %s", line, msg);
        else
            js_cli_error("search", "%s", msg);
        js_results_free(r);
        return rc;
    }
    if (p->json)
        print_json(p, r, query, len, line, us);
    else
        print_text(p, r, query);
    js_results_free(r);
    return 0;
}

/* Runs every line of the file as a query.  Returns the exit status. */
static int run_file(const params *p)
{
    FILE *f = strcmp(p->queries, "-") ? fopen(p->queries, "r") : stdin;
    if (!f) {
        js_cli_error("search", "%s: %s", p->queries, strerror(errno));
        return JS_EXIT_FAIL;
    }
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    long line = 0, failed = 0;
    while ((n = getline(&buf, &cap, f)) >= 0) {
        line++;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            n--;
        buf[n] = 0;
        size_t s = 0;
        while (s < (size_t)n && (buf[s] == ' ' || buf[s] == '\t'))
            s++;
        if (s == (size_t)n)
            continue; /* blank lines are not queries */
        if (!p->json)
            printf("%s== line %ld\n", line > 1 ? "\n" : "", line);
        if (p->follow && js_index_refresh(p->ix) < 0) /* else: the old one */
            js_cli_error("search", "line %ld: %s (searching the generation "
                         "before)", line, js_index_errmsg(p->ix));
        if (run(p, buf, (size_t)n, line))
            failed++;
    }
    int bad = ferror(f);
    free(buf);
    if (f != stdin)
        fclose(f);
    if (bad) {
        js_cli_error("search", "%s: read error", p->queries);
        return JS_EXIT_FAIL;
    }
    if (failed)
        js_cli_error("search", "%ld of the queries failed", failed);
    return failed ? JS_EXIT_FAIL : JS_EXIT_OK;
}

/* Whether word a is one of the options in opts: -1 not an option, 0 an
 * option without an argument (or with it attached: --limit=5), 1 an
 * option whose argument is the next word.  "--" and a letter is taken
 * for an option even when unknown, so that getopt reports a typo. */
static int is_option(const struct option *opts, const char *a)
{
    if (!strcmp(a, "-d") || !strcmp(a, "-n"))
        return 1;
    if (!strcmp(a, "-h"))
        return 0;
    if (strncmp(a, "--", 2) || !a[2])
        return -1;
    const char *name = a + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    for (; opts->name; opts++)
        if (strlen(opts->name) == len && !strncmp(opts->name, name, len))
            return opts->has_arg == required_argument && !eq ? 1 : 0;
    /* --jsn: a mistyped option, for getopt to report, not a query word */
    return (name[0] >= 'a' && name[0] <= 'z') ? 0 : -1;
}

static const struct option longopts[] = {
    {"index", required_argument, NULL, 'd'},
    {"limit", required_argument, NULL, 'n'},
    {"offset", required_argument, NULL, 'o'},
    {"json", no_argument, NULL, 'j'},
    {"no-snippet", no_argument, NULL, 'S'},
    {"no-partial", no_argument, NULL, 'P'},
    {"exact-total", no_argument, NULL, 'T'},
    {"no-champions", no_argument, NULL, 'C'},
    {"queries", required_argument, NULL, 'q'},
    {"follow", no_argument, NULL, 'L'},
    {"explain", no_argument, NULL, 'e'},
    {"k1", required_argument, NULL, 'k'},
    {"b", required_argument, NULL, 'b'},
    {"heading-weight", required_argument, NULL, 'w'},
    {"snippet-chars", required_argument, NULL, 'c'},
    {"backend", required_argument, NULL, 'B'},
    {"remote", required_argument, NULL, 'R'},
    {"no-fold", no_argument, NULL, 'F'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Options may come before or after the query, but a query word such as
 * -学院 (an exclusion) must not be taken for an option: only the options
 * named above are options; every other word, and all words after "--",
 * belong to the query.  Returns a new argv (the caller frees the array,
 * not the strings) with the options first, then "--", then the query
 * words, and its length in *nargs; NULL when out of memory. */
static char **options_first(int argc, char **argv, int *nargs)
{
    char **args = calloc((size_t)argc + 2, sizeof *args);
    char **query_words = calloc((size_t)argc + 1, sizeof *query_words);
    if (!args || !query_words) {
        free(args);
        free(query_words);
        return NULL;
    }
    int n = 0, nquery = 0;
    args[n++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int takes = is_option(longopts, a);
        if (takes < 0) {
            if (!strcmp(a, "--"))
                while (++i < argc)
                    query_words[nquery++] = argv[i];
            else
                query_words[nquery++] = argv[i];
            continue;
        }
        args[n++] = argv[i];
        if (takes && i + 1 < argc)
            args[n++] = argv[++i];
    }
    args[n++] = "--";
    for (int i = 0; i < nquery; i++)
        args[n++] = query_words[i];
    free(query_words);
    *nargs = n;
    return args;
}

/* Reads the options into *p, *oo and *dir_arg.  Returns -1 to go on, or
 * the exit status (help shown, or a usage error printed). */
static int parse_options(int argc, char **argv, params *p,
                         js_open_options *oo, const char **dir_arg)
{
    int c, backend_given = 0;
    double v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+d:n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            *dir_arg = optarg;
            break;
        case 'n':
            if (number("--limit", optarg, 0, 10000, &v))
                return JS_EXIT_USAGE;
            p->o.limit = (uint32_t)v;
            break;
        case 'o':
            if (number("--offset", optarg, 0, 90000, &v))
                return JS_EXIT_USAGE;
            p->o.offset = (uint32_t)v;
            break;
        case 'j':
            p->json = 1;
            break;
        case 'S':
            p->o.flags |= JS_SEARCH_NO_SNIPPET;
            break;
        case 'P':
            p->o.flags |= JS_SEARCH_NO_PARTIAL;
            break;
        case 'T':
            p->o.flags |= JS_SEARCH_EXACT_TOTAL;
            break;
        case 'C':
            p->o.flags |= JS_SEARCH_NO_CHAMPIONS;
            break;
        case 'q':
            p->queries = optarg;
            break;
        case 'L':
            p->follow = 1;
            break;
        case 'e':
            p->explain = 1;
            break;
        case 'k':
            if (number("--k1", optarg, 0, 100, &p->o.k1))
                return JS_EXIT_USAGE;
            break;
        case 'b':
            if (number("--b", optarg, 0, 1, &p->o.b))
                return JS_EXIT_USAGE;
            break;
        case 'w':
            if (number("--heading-weight", optarg, 0, 1000, &p->o.heading_weight))
                return JS_EXIT_USAGE;
            break;
        case 'c':
            if (number("--snippet-chars", optarg, 10, 10000, &v))
                return JS_EXIT_USAGE;
            p->o.snippet_chars = (uint32_t)v;
            break;
        case 'B':
            if (js_cli_backend("search", optarg, &oo->backend))
                return JS_EXIT_USAGE;
            backend_given = 1;
            break;
        case 'R':
            oo->remote = optarg;
            break;
        case 'F':
            oo->analyze_flags |= JS_ANALYZE_NO_FOLD;
            break;
        case 'h':
        default:
            return js_cli_usage(usage, c);
        }
    }
    if (p->queries && optind < argc) {
        js_cli_error("search", "give either --queries FILE or a query, not both");
        return JS_EXIT_USAGE;
    }
    if (p->follow && !p->queries) {
        js_cli_error("search", "--follow goes with --queries");
        return JS_EXIT_USAGE;
    }
    if (oo->remote && (*dir_arg || (backend_given &&
                                    oo->backend == JS_BACKEND_NATIVE))) {
        js_cli_error("search", "--remote searches Xapian servers: no -d or "
                               "--backend native with it");
        return JS_EXIT_USAGE;
    }
    if (oo->analyze_flags && !oo->remote) {
        js_cli_error("search", "--no-fold goes with --remote (a local index "
                               "records its flags)");
        return JS_EXIT_USAGE;
    }
    if (!p->queries && optind == argc) {
        js_cli_error("search", "no query (try 'jiansuo search --help')");
        return JS_EXIT_USAGE;
    }
    return -1;
}

int js_cmd_search(int argc, char **argv)
{
    params p = {.o = JS_SEARCH_OPTIONS_INIT};
    js_open_options oo = JS_OPEN_OPTIONS_INIT;
    const char *dir_arg = NULL;
    char **args = options_first(argc, argv, &argc);
    if (!args) {
        js_cli_error("search", "out of memory");
        return JS_EXIT_FAIL;
    }
    int status = parse_options(argc, args, &p, &oo, &dir_arg);
    if (status >= 0) {
        free(args);
        return status;
    }
    const char *no_color = getenv("NO_COLOR");
    p.bold = isatty(STDOUT_FILENO) && !(no_color && no_color[0]);

    size_t qlen = 0;
    char *query = NULL, *dir = NULL;
    if (!p.queries && !(query = js_cli_join(argc - optind, args + optind, &qlen))) {
        js_cli_error("search", "out of memory");
        free(args);
        return JS_EXIT_FAIL;
    }
    status = js_cli_open_index("search", 0, args, 0, dir_arg, &oo, &p.ix, &dir);
    if (!status) {
        /* a file of queries pays the index's page faults once, up front,
         * not in the times of its first queries */
        if (p.queries && js_index_preload(p.ix))
            js_cli_warning("search", NULL, 0, 0, js_index_errmsg(p.ix));
        if (p.queries)
            status = run_file(&p);
        else
            status = run(&p, query, qlen, 0) ? JS_EXIT_FAIL : JS_EXIT_OK;
        if (fflush(stdout) == EOF && !status) {
            js_cli_error("search", "writing the results: %s", strerror(errno));
            status = JS_EXIT_FAIL;
        }
    }
    free(query);
    js_index_close(p.ix);
    free(dir);
    free(args);
    return status;
}
