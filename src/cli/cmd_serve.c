/*
 * cmd_serve.c — `jiansuo serve [-d DIR] [--listen ADDR:PORT] ...`.
 *
 * In:  the options below; the index directory; the write token's file.
 * Out: an HTTP/JSON service and the search page (src/serve/), until
 *      SIGTERM or SIGINT; the exit status.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "daemon.h"
#include "jiansuo.h"
#include "serve.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: jiansuo serve [-d DIR] [--listen ADDR:PORT] [OPTION]...\n"
            "\n"
            "Serves the index in DIR over HTTP: GET /search?q=... and POST /search\n"
            "answer in JSON, GET / is a search page, GET /stats and /health report\n"
            "on the index, and with a write token POST /documents adds or replaces\n"
            "records and DELETE /documents/ID deletes one.  Stops on SIGTERM or\n"
            "SIGINT after answering the requests in flight; SIGHUP reopens the\n"
            "index.\n"
            "\n"
            "  -d, --index DIR         index directory (default as for 'jiansuo index')\n"
            "      --backend B         native or xapian (default: what DIR holds)\n"
            "      --listen ADDR:PORT  address to listen on (default %s;\n"
            "                          [ADDR]:PORT for IPv6; port 0 picks a free one)\n"
            "      --threads N         request threads (default: the CPUs, at least 2)\n"
            "      --write-token-file F  turn the write endpoints on; a write must send\n"
            "                          \"Authorization: Bearer TOKEN\", TOKEN being F's\n"
            "                          first line (F must not be readable by others)\n"
            "      --tls-cert F --tls-key F  serve HTTPS with this PEM certificate and key\n"
            "      --max-body BYTES    largest request body (default %u)\n"
            "      --max-url BYTES     longest URL (default %u)\n"
            "      --max-headers BYTES largest request headers (default %u)\n"
            "      --max-connections N connections at once; more get 503 (default %u)\n"
            "      --idle-timeout S    close a connection silent for S s (default %u)\n"
            "      --request-timeout S close one that has not sent a whole request\n"
            "                          S s after connecting or its last answer (default %u)\n"
            "      --memory MiB        memory of a write's new segment (default 512)\n"
            "      --cache MiB         stored text kept inflated for snippets (default %u)\n"
            "      --merge-factor N    merge this many segments of a size into one\n"
            "                          at a write's commit (default %u; see add)\n"
            "      --log FILE          append the access log to FILE (default: stderr)\n"
            "      --quiet             no access log\n"
            "  -h, --help              this text\n",
            JS_SRV_DEFAULT_LISTEN, JS_SRV_DEFAULT_MAX_BODY, JS_SRV_DEFAULT_MAX_URL,
            JS_SRV_DEFAULT_MAX_HEADERS, JS_SRV_DEFAULT_MAX_CONNECTIONS,
            JS_SRV_DEFAULT_IDLE_TIMEOUT, JS_SRV_DEFAULT_REQUEST_TIMEOUT,
            JS_SRV_DEFAULT_CACHE_MIB, JS_SRV_DEFAULT_MERGE_FACTOR);
}

static int number(const char *opt, const char *arg, unsigned long lo,
                  unsigned long hi, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(arg, &end, 10);
    if (errno || end == arg || *end || arg[0] == '-' || v < lo || v > hi) {
        js_cli_error("serve", "%s wants a whole number in %lu..%lu, not '%s'",
                     opt, lo, hi, arg);
        return -1;
    }
    *out = v;
    return 0;
}

/* Reads the token: the file's first line, which must be at least 16
 * bytes (a guessable token is no lock), in a file that only its owner
 * can read.  Returns 0 or -1 after an error. */
static int read_token(const char *path, js_srv_config *cfg)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        js_cli_error("serve", "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (!fstat(fileno(f), &st) && (st.st_mode & 0077)) {
        js_cli_error("serve", "%s: the token file can be read by others "
                     "(mode %03o); chmod 600 it", path,
                     (unsigned)(st.st_mode & 0777));
        fclose(f);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
                     line[n - 1] == ' ' || line[n - 1] == '\t'))
        line[--n] = 0;
    if (n < 16) {
        js_cli_error("serve", "%s: the token is %s; use 16 characters or "
                     "more (e.g. head -c 24 /dev/urandom | base64 > %s)",
                     path, n <= 0 ? "empty" : "too short", path);
        free(line);
        return -1;
    }
    for (ssize_t i = 0; i < n; i++)
        if ((unsigned char)line[i] <= ' ' || (unsigned char)line[i] == 0x7f) {
            js_cli_error("serve", "%s: the token has a space or control "
                         "character; it goes into an HTTP header", path);
            free(line);
            return -1;
        }
    cfg->token = line;
    cfg->token_len = (size_t)n;
    return 0;
}

static const struct option longopts[] = {
    {"index", required_argument, NULL, 'd'},
    {"backend", required_argument, NULL, 'B'},
    {"listen", required_argument, NULL, 'l'},
    {"threads", required_argument, NULL, 't'},
    {"write-token-file", required_argument, NULL, 'W'},
    {"tls-cert", required_argument, NULL, 'C'},
    {"tls-key", required_argument, NULL, 'K'},
    {"max-body", required_argument, NULL, 'b'},
    {"max-url", required_argument, NULL, 'u'},
    {"max-headers", required_argument, NULL, 'H'},
    {"max-connections", required_argument, NULL, 'c'},
    {"idle-timeout", required_argument, NULL, 'i'},
    {"request-timeout", required_argument, NULL, 'r'},
    {"memory", required_argument, NULL, 'm'},
    {"cache", required_argument, NULL, 'k'},
    {"merge-factor", required_argument, NULL, 'M'},
    {"log", required_argument, NULL, 'L'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int js_cmd_serve(int argc, char **argv)
{
    js_srv_config cfg = {0};
    js_open_options oo = JS_OPEN_OPTIONS_INIT;
    js_writer_options wo = JS_WRITER_OPTIONS_INIT;
    wo.merge_factor = JS_SRV_DEFAULT_MERGE_FACTOR;
    cfg.listen = JS_SRV_DEFAULT_LISTEN;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    cfg.threads = cpus > 2 ? (unsigned)cpus : 2;
    cfg.max_body = JS_SRV_DEFAULT_MAX_BODY;
    cfg.max_url = JS_SRV_DEFAULT_MAX_URL;
    cfg.max_headers = JS_SRV_DEFAULT_MAX_HEADERS;
    cfg.max_connections = JS_SRV_DEFAULT_MAX_CONNECTIONS;
    cfg.idle_timeout = JS_SRV_DEFAULT_IDLE_TIMEOUT;
    cfg.request_timeout = JS_SRV_DEFAULT_REQUEST_TIMEOUT;
    const char *dir_arg = NULL, *token_file = NULL;
    /* a server meets the same stored blocks again and again: more room
     * for them than the library's default */
    unsigned long v, cache_mib = JS_SRV_DEFAULT_CACHE_MIB;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': dir_arg = optarg; break;
        case 'B':
            if (js_cli_backend("serve", optarg, &oo.backend))
                return JS_EXIT_USAGE;
            break;
        case 'l': cfg.listen = optarg; break;
        case 't':
            if (number("--threads", optarg, 1, 256, &v))
                return JS_EXIT_USAGE;
            cfg.threads = (unsigned)v;
            break;
        case 'W': token_file = optarg; break;
        case 'C': cfg.tls_cert = optarg; break;
        case 'K': cfg.tls_key = optarg; break;
        case 'b':
            if (number("--max-body", optarg, 1024, 1ul << 30, &v))
                return JS_EXIT_USAGE;
            cfg.max_body = v;
            break;
        case 'u':
            if (number("--max-url", optarg, 256, 1ul << 20, &v))
                return JS_EXIT_USAGE;
            cfg.max_url = v;
            break;
        case 'H':
            if (number("--max-headers", optarg, 1024, 1ul << 20, &v))
                return JS_EXIT_USAGE;
            cfg.max_headers = v;
            break;
        case 'c':
            if (number("--max-connections", optarg, 1, 1000000, &v))
                return JS_EXIT_USAGE;
            cfg.max_connections = (unsigned)v;
            break;
        case 'i':
            if (number("--idle-timeout", optarg, 1, 86400, &v))
                return JS_EXIT_USAGE;
            cfg.idle_timeout = (unsigned)v;
            break;
        case 'r':
            if (number("--request-timeout", optarg, 1, 86400, &v))
                return JS_EXIT_USAGE;
            cfg.request_timeout = (unsigned)v;
            break;
        case 'm':
            if (number("--memory", optarg, 16, 1ul << 20, &v))
                return JS_EXIT_USAGE;
            wo.memory_mib = v;
            break;
        case 'k':
            if (number("--cache", optarg, 0, 1ul << 20, &v))
                return JS_EXIT_USAGE;
            cache_mib = v;
            break;
        case 'M':
            if (number("--merge-factor", optarg, 2, 1000, &v))
                return JS_EXIT_USAGE;
            wo.merge_factor = (unsigned)v;
            break;
        case 'L': cfg.log = optarg; break;
        case 'q': cfg.quiet = 1; break;
        case 'h':
        default:
            return js_cli_usage(usage, c);
        }
    }
    if (optind < argc) {
        js_cli_error("serve", "unexpected argument '%s' (the index is "
                     "given with -d DIR)", argv[optind]);
        return JS_EXIT_USAGE;
    }
    if (!cfg.tls_cert != !cfg.tls_key) {
        js_cli_error("serve", "--tls-cert and --tls-key go together");
        return JS_EXIT_USAGE;
    }
    struct sockaddr_storage ss;
    socklen_t sl;
    if (js_serve_parse_listen(cfg.listen, &ss, &sl)) {
        js_cli_error("serve", "--listen wants ADDR:PORT or [ADDR]:PORT with "
                     "a numeric address (127.0.0.1:7700, [::1]:7700, "
                     "0.0.0.0:7700), not '%s'", cfg.listen);
        return JS_EXIT_USAGE;
    }
    if (token_file && read_token(token_file, &cfg))
        return JS_EXIT_FAIL;
    char *dir = js_cli_index_dir("serve", dir_arg);
    if (!dir) {
        free(cfg.token);
        return JS_EXIT_FAIL;
    }
    cfg.dir = dir;
    cfg.open = oo;
    wo.backend = oo.backend;
    cfg.writer = wo;
    js_cache_set_limit(cache_mib);
    int status = js_serve_run(&cfg);
    free(dir);
    if (cfg.token) /* not left in freed memory */
        memset(cfg.token, 0, cfg.token_len);
    free(cfg.token);
    return status;
}
