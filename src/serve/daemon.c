/*
 * daemon.c — `jiansuo serve` on libmicrohttpd: sockets, limits, TLS, the
 * slow-client watchdog, signals and the access log.
 *
 * In:  a js_srv_config (cmd_serve.c); HTTP requests from the network.
 * Out: responses from handler.c; one access-log line per request; exit
 *      status 0 after SIGTERM or SIGINT, once the requests in flight are
 *      answered.
 *
 * libmicrohttpd runs a pool of threads, each with its own epoll loop
 * over its share of the connections, so an idle or slow connection
 * costs a file descriptor and some memory, never a thread.  What bounds
 * the damage a client can do:
 *   - the URL (414) and the headers (431) by our own limits, checked on
 *     the first call for a request; the connection's memory pool is
 *     sized above them so libmicrohttpd's own, cruder limit (which
 *     answers in HTML) is reached only by requests several times over;
 *   - the body (413) by --max-body, refused from Content-Length before a
 *     byte of it is read, or as soon as a chunked body grows past it;
 *   - the connections: over --max-connections a request is answered 503
 *     (and libmicrohttpd refuses connections beyond a small reserve);
 *   - time: libmicrohttpd closes a connection idle for --idle-timeout,
 *     and the watchdog here shuts one down that has not sent a whole
 *     request within --request-timeout of connecting or of its last
 *     answer — the slow-loris client, which sends a byte every few
 *     seconds and so is never idle.
 * A write request is suspended while the write queue commits it, so it
 * never holds a thread.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "cli.h"
#include "daemon.h"
#include "serve.h"

/* libmicrohttpd's result type changed from int to enum MHD_Result. */
#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result mhd_result;
#else
typedef int mhd_result;
#endif

/* Connections beyond --max-connections that libmicrohttpd still accepts,
 * so that they can be told 503 rather than be dropped unanswered. */
#define CONN_RESERVE 64

typedef struct server server;

/* One TCP connection, for the watchdog. */
typedef struct conn {
    server *sv;
    int fd;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    atomic_int_fast64_t since_ms; /* connected, or last answered */
    atomic_int busy;    /* a whole request is being answered */
    int killed;
    struct conn *prev, *next;
} conn;

/* One request (libmicrohttpd's con_cls). */
typedef struct request {
    server *sv;
    struct MHD_Connection *c;
    conn *cn;
    char *uri;          /* as sent: path and query, for the log */
    size_t uri_len;
    int started;        /* the first call of the handler is done */
    int counted;        /* in server.inflight */
    int finished;       /* a response was queued */
    char *body;
    size_t len, cap;
    int too_large;
    js_srv_job *job;    /* suspended for the writer */
    unsigned status;
    size_t sent;
    int64_t t0_us;
    char method[16];
} request;

struct server {
    js_srv_config *cfg;
    js_srv *srv;
    struct MHD_Daemon *d;
    int log_fd;
    atomic_int open_conns, inflight;
    atomic_uint_fast64_t timeouts;
    pthread_mutex_t cmu;        /* the connection list */
    conn *conns;
    pthread_t watchdog;
    atomic_int stop_watchdog;
    atomic_int stopping;        /* SIGTERM: new requests get 503 */
};

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void js_serve_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("jiansuo serve: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---------------------------------------------------------------------
 * The access log: one line a request, written with one write(2), so that
 * lines from several threads never mix.
 * ------------------------------------------------------------------- */

static void log_request(server *sv, request *r)
{
    if (sv->cfg->quiet || sv->log_fd < 0)
        return;
    char line[1400], peer[INET6_ADDRSTRLEN + 2] = "-";
    if (r->cn && r->cn->peer_len) {
        const struct sockaddr *sa = (const struct sockaddr *)&r->cn->peer;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
                      peer, sizeof peer);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
                      peer, sizeof peer);
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* the URI as sent, cut and with control bytes escaped: a log line
     * must stay one line whatever a client sends */
    char uri[1000];
    size_t o = 0;
    for (size_t i = 0; r->uri && i < r->uri_len && o + 5 < sizeof uri; i++) {
        unsigned char ch = (unsigned char)r->uri[i];
        if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\')
            o += (size_t)snprintf(uri + o, sizeof uri - o, "\\x%02x", ch);
        else
            uri[o++] = (char)ch;
    }
    uri[o] = 0;
    double ms = (double)(mono_us() - r->t0_us) / 1000.0;
    int n = snprintf(line, sizeof line, "%s %s \"%s %s%s\" %u %zu %.3fms\n",
                     when, peer, r->method[0] ? r->method : "-", uri,
                     r->uri && r->uri_len > o ? "..." : "", r->status,
                     r->sent, ms);
    if (n > 0) {
        size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
        ssize_t w = write(sv->log_fd, line, len);
        (void)w; /* a full disk loses a log line, not a request */
    }
}

/* ---------------------------------------------------------------------
 * Responses
 * ------------------------------------------------------------------- */

static mhd_result send_response(request *r, js_srv_response *resp)
{
    struct MHD_Response *m;
    if (resp->body_static)
        m = MHD_create_response_from_buffer(resp->len, resp->body,
                                            MHD_RESPMEM_PERSISTENT);
    else
        m = MHD_create_response_from_buffer(resp->len, resp->body,
                                            MHD_RESPMEM_MUST_FREE);
    if (!m) {
        js_srv_response_free(resp);
        return MHD_NO; /* closes the connection */
    }
    if (!resp->body_static)
        resp->body = NULL; /* the response owns it now */
    MHD_add_response_header(m, "Content-Type", resp->content_type
                                                   ? resp->content_type
                                                   : "application/json; charset=utf-8");
    MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(m, "Referrer-Policy", "no-referrer");
    if (resp->cache) {
        /* the page: only its own files, nothing from elsewhere */
        MHD_add_response_header(m, "Cache-Control", "no-cache");
        MHD_add_response_header(m, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; "
                                "style-src 'self'; script-src 'self'; "
                                "frame-ancestors 'none'");
        MHD_add_response_header(m, "X-Frame-Options", "DENY");
    } else {
        MHD_add_response_header(m, "Cache-Control", "no-store");
    }
    if (resp->allow)
        MHD_add_response_header(m, "Allow", resp->allow);
    if (resp->auth_challenge)
        MHD_add_response_header(m, "WWW-Authenticate",
                                "Bearer realm=\"jiansuo\"");
    if (resp->retry_after) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", resp->retry_after);
        MHD_add_response_header(m, "Retry-After", ra);
    }
    if (resp->close)
        MHD_add_response_header(m, "Connection", "close");
    r->status = resp->status;
    r->sent = resp->len;
    r->finished = 1;
    mhd_result ok = MHD_queue_response(r->c, resp->status, m);
    MHD_destroy_response(m);
    return ok;
}

static mhd_result send_error(request *r, unsigned status, int close,
                             const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static mhd_result send_error(request *r, unsigned status, int close,
                             const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    js_srv_response resp = {0};
    js_srv_error(&resp, status, "%s", msg);
    resp.close = close;
    if (status == 503)
        resp.retry_after = 1;
    return send_response(r, &resp);
}

/* ---------------------------------------------------------------------
 * Requests
 * ------------------------------------------------------------------- */

static const char *get_arg(void *ctx, const char *name, size_t *len)
{
    const char *v = NULL;
    if (MHD_lookup_connection_value_n(ctx, MHD_GET_ARGUMENT_KIND, name,
                                      strlen(name), &v, len) != MHD_YES)
        return NULL;
    return v ? v : "";
}

static void job_done(js_srv_job *job)
{
    request *r = job->done_ctx;
    MHD_resume_connection(r->c);
}

/* The first call for a request: the checks that need no body. */
static int first_call(request *r, const char *url, const char *method)
{
    server *sv = r->sv;
    const js_srv_config *cfg = sv->cfg;
    snprintf(r->method, sizeof r->method, "%s", method);
    /* refused while stopping, and not counted: a stop waits for the
     * requests it found in flight, not for a stream of new ones */
    if (atomic_load(&sv->stopping)) {
        send_error(r, 503, 1, "the server is stopping; retry");
        return 1;
    }
    /* in flight from here: its headers are in, so a stop waits for it
     * (a client still sending its headers is not waited for) */
    r->counted = 1;
    atomic_fetch_add(&sv->inflight, 1);
    if (atomic_load(&sv->open_conns) > (int)cfg->max_connections) {
        send_error(r, 503, 1, "overloaded: more than %u connections open "
                   "(--max-connections); retry", cfg->max_connections);
        return 1;
    }
    if (r->uri_len > cfg->max_url) {
        send_error(r, 414, 1, "the URL is %zu bytes, over the limit of %zu "
                   "(--max-url); POST /search takes a long query in its "
                   "body", r->uri_len, cfg->max_url);
        return 1;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (ci && ci->header_size > cfg->max_headers) {
        send_error(r, 431, 1, "the request's headers are %zu bytes, over "
                   "the limit of %zu (--max-headers)", ci->header_size,
                   cfg->max_headers);
        return 1;
    }
    js_srv_request req = {method, url, NULL, NULL,
                          MHD_lookup_connection_value(r->c, MHD_HEADER_KIND,
                                                      "Authorization"),
                          NULL, NULL, 0};
    js_srv_response resp = {0};
    if (js_srv_precheck(sv->srv, &req, &resp)) {
        resp.close = 1; /* its body, if any, is not read */
        send_response(r, &resp);
        return 1;
    }
    const char *cl = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND,
                                                 "Content-Length");
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (!errno && end != cl && n > cfg->max_body) {
            send_error(r, 413, 1, "the body is %llu bytes, over the limit "
                       "of %zu (--max-body); send fewer records a request",
                       n, cfg->max_body);
            return 1;
        }
    }
    return 0;
}

static mhd_result on_request(void *cls, struct MHD_Connection *c,
                             const char *url, const char *method,
                             const char *version, const char *upload,
                             size_t *upload_size, void **con_cls)
{
    (void)version;
    server *sv = cls;
    request *r = *con_cls;
    if (!r)
        return MHD_NO; /* the URI callback could not allocate it */
    r->c = c;
    if (r->finished) {
        *upload_size = 0; /* answered early: the rest is not read */
        return MHD_YES;
    }
    if (!r->started) {
        r->started = 1;
        if (first_call(r, url, method))
            return MHD_YES;
        return MHD_YES; /* then the body, if any */
    }
    if (r->job) { /* resumed: the writer has answered */
        js_srv_job *job = r->job;
        r->job = NULL;
        mhd_result ok = send_response(r, &job->resp);
        js_srv_job_free(job);
        return ok;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (r->too_large || n > sv->cfg->max_body - r->len) {
            r->too_large = 1;
            free(r->body);
            r->body = NULL;
            r->len = r->cap = 0;
            return MHD_YES;
        }
        if (r->len + n > r->cap) {
            size_t cap = r->cap ? r->cap : 4096;
            while (cap < r->len + n)
                cap *= 2;
            char *b = realloc(r->body, cap);
            if (!b)
                return MHD_NO;
            r->body = b;
            r->cap = cap;
        }
        memcpy(r->body + r->len, upload, n);
        r->len += n;
        return MHD_YES;
    }
    /* the whole request is here */
    if (r->cn)
        atomic_store(&r->cn->busy, 1);
    if (r->too_large)
        return send_error(r, 413, 1, "the body is over the limit of %zu "
                          "bytes (--max-body); send fewer records a request",
                          sv->cfg->max_body);
    js_srv_request req = {method, url, get_arg, c,
                          MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                      "Authorization"),
                          MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                      "Content-Type"),
                          r->body, r->len};
    js_srv_response resp = {0};
    js_srv_job *job = NULL;
    if (js_srv_handle(sv->srv, &req, &resp, &job) == 1) {
        free(r->body);
        r->body = NULL;
        job->done = job_done;
        job->done_ctx = r;
        r->job = job;
        /* suspended first: the writer may answer before this returns */
        MHD_suspend_connection(c);
        if (js_srv_submit(sv->srv, job))
            MHD_resume_connection(c); /* answered with its 503 */
        return MHD_YES;
    }
    return send_response(r, &resp);
}

/* libmicrohttpd's first look at a request: its URI as sent. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    server *sv = cls;
    request *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->sv = sv;
    r->c = c;
    r->t0_us = mono_us();
    r->uri_len = strlen(uri);
    /* kept for the log: a bounded copy, the length is what counts */
    size_t keep = r->uri_len < 1024 ? r->uri_len : 1024;
    r->uri = malloc(keep + 1);
    if (r->uri) {
        memcpy(r->uri, uri, keep);
        r->uri[keep] = 0;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    r->cn = ci ? ci->socket_context : NULL;
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    server *sv = cls;
    request *r = *con_cls;
    if (!r)
        return;
    if (!r->finished)
        r->status = toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? 408 : 499;
    log_request(sv, r);
    if (r->cn) {
        atomic_store(&r->cn->since_ms, mono_us() / 1000);
        atomic_store(&r->cn->busy, 0);
    }
    if (r->job) {
        /* the client went away while its write waited: the write is
         * still done (it was accepted), its answer dropped */
        js_srv_job_free(r->job);
    }
    free(r->body);
    free(r->uri);
    if (r->counted)
        atomic_fetch_sub(&sv->inflight, 1);
    free(r);
    *con_cls = NULL;
}

/* ---------------------------------------------------------------------
 * Connections and the watchdog
 * ------------------------------------------------------------------- */

static void on_connection(void *cls, struct MHD_Connection *c, void **ctx,
                          enum MHD_ConnectionNotificationCode toe)
{
    server *sv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&sv->open_conns, 1);
        conn *cn = calloc(1, sizeof *cn);
        if (!cn)
            return;
        cn->sv = sv;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        cn->fd = ci ? ci->connect_fd : -1;
        cn->peer_len = sizeof cn->peer;
        if (cn->fd < 0 || getpeername(cn->fd, (struct sockaddr *)&cn->peer,
                                      &cn->peer_len))
            cn->peer_len = 0;
        atomic_store(&cn->since_ms, mono_us() / 1000);
        pthread_mutex_lock(&sv->cmu);
        cn->next = sv->conns;
        if (sv->conns)
            sv->conns->prev = cn;
        sv->conns = cn;
        pthread_mutex_unlock(&sv->cmu);
        *ctx = cn;
    } else {
        atomic_fetch_sub(&sv->open_conns, 1);
        conn *cn = *ctx;
        if (!cn)
            return;
        pthread_mutex_lock(&sv->cmu);
        if (cn->prev)
            cn->prev->next = cn->next;
        else
            sv->conns = cn->next;
        if (cn->next)
            cn->next->prev = cn->prev;
        pthread_mutex_unlock(&sv->cmu);
        free(cn);
        *ctx = NULL;
    }
}

/* Whether fd is still the socket of cn: the same peer address, so that a
 * descriptor closed and reused for another client is never shut down. */
static int same_socket(const conn *cn)
{
    struct sockaddr_storage now;
    socklen_t len = sizeof now;
    return cn->peer_len && !getpeername(cn->fd, (struct sockaddr *)&now, &len) &&
           len == cn->peer_len && !memcmp(&now, &cn->peer, len);
}

static void *watchdog_main(void *arg)
{
    server *sv = arg;
    int64_t limit = (int64_t)sv->cfg->request_timeout * 1000;
    while (!atomic_load(&sv->stop_watchdog)) {
        usleep(250 * 1000);
        int64_t t = mono_us() / 1000;
        pthread_mutex_lock(&sv->cmu);
        for (conn *cn = sv->conns; cn; cn = cn->next) {
            /* a connection that has not sent a whole request within the
             * limit of connecting or of its last answer, though sending
             * bytes all along (else libmicrohttpd's idle timeout would
             * have closed it); one being answered is left alone */
            if (cn->killed || cn->fd < 0 || atomic_load(&cn->busy) ||
                t - atomic_load(&cn->since_ms) < limit)
                continue;
            if (same_socket(cn)) {
                shutdown(cn->fd, SHUT_RDWR);
                cn->killed = 1;
                atomic_fetch_add(&sv->timeouts, 1);
            }
        }
        pthread_mutex_unlock(&sv->cmu);
    }
    return NULL;
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = 0;
    /* a client that hangs up is not news (the access log has it) */
    if (strstr(msg, "Connection socket is closed"))
        return;
    js_serve_say("%s", msg);
}

/* ---------------------------------------------------------------------
 * Start and stop
 * ------------------------------------------------------------------- */

/* Parses "ADDR:PORT" or "[ADDR]:PORT" into *ss.  Returns 0 or -1. */
int js_serve_parse_listen(const char *s, struct sockaddr_storage *ss,
                          socklen_t *len)
{
    char host[64];
    const char *port;
    memset(ss, 0, sizeof *ss);
    if (s[0] == '[') {
        const char *e = strchr(s, ']');
        if (!e || e[1] != ':' || (size_t)(e - s - 1) >= sizeof host)
            return -1;
        memcpy(host, s + 1, (size_t)(e - s - 1));
        host[e - s - 1] = 0;
        port = e + 2;
    } else {
        const char *e = strrchr(s, ':');
        if (!e || (size_t)(e - s) >= sizeof host)
            return -1;
        memcpy(host, s, (size_t)(e - s));
        host[e - s] = 0;
        port = e + 1;
    }
    char *end;
    errno = 0;
    long p = strtol(port, &end, 10);
    if (errno || end == port || *end || p < 0 || p > 65535)
        return -1;
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)p);
        *len = sizeof *in4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)p);
        *len = sizeof *in6;
        return 0;
    }
    return -1;
}

static int is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a);
}

static char *read_pem(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        js_serve_say("%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t len;
    char *buf = js_cli_slurp(f, &len); /* NUL-terminated */
    int err = errno;
    fclose(f);
    if (!buf) {
        js_serve_say("%s: %s", path, strerror(err));
        return NULL;
    }
    if (!strstr(buf, "-----BEGIN")) {
        free(buf);
        js_serve_say("%s: not a PEM file (no -----BEGIN line)", path);
        return NULL;
    }
    return buf;
}

/* Raises the open-file limit as far as allowed and fits the connection
 * limit under it. */
static void fit_fd_limit(js_srv_config *cfg)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    /* descriptors for the index, the log and libmicrohttpd itself */
    rlim_t spare = 64 + CONN_RESERVE;
    if (rl.rlim_cur != RLIM_INFINITY && cfg->max_connections + spare > rl.rlim_cur) {
        unsigned fit = rl.rlim_cur > spare + 16 ? (unsigned)(rl.rlim_cur - spare) : 16;
        js_serve_say("--max-connections %u does not fit the open-file limit "
                     "(%llu): using %u", cfg->max_connections,
                     (unsigned long long)rl.rlim_cur, fit);
        cfg->max_connections = fit;
    }
}

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { got_signal = sig; }

int js_serve_run(js_srv_config *cfg)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (js_serve_parse_listen(cfg->listen, &ss, &sslen)) {
        js_serve_say("--listen wants ADDR:PORT or [ADDR]:PORT with a "
                     "numeric address, not '%s'", cfg->listen);
        return 2;
    }
    server sv = {0};
    sv.cfg = cfg;
    sv.log_fd = STDERR_FILENO;
    pthread_mutex_init(&sv.cmu, NULL);
    if (cfg->log) {
        sv.log_fd = open(cfg->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                         0640);
        if (sv.log_fd < 0) {
            js_serve_say("%s: %s", cfg->log, strerror(errno));
            return 1;
        }
    }
    char *cert = NULL, *key = NULL;
    if (cfg->tls_cert) {
        if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
            js_serve_say("this libmicrohttpd was built without TLS");
            return 1;
        }
        if (!(cert = read_pem(cfg->tls_cert)) || !(key = read_pem(cfg->tls_key))) {
            free(cert);
            return 1;
        }
    }
    fit_fd_limit(cfg);

    /* Signals go to this thread alone, through the handlers below: every
     * thread started from here on (the writer's in js_srv_open too)
     * inherits them blocked.  A thread that had them unblocked would take
     * a SIGTERM whose handler then wakes nobody. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    signal(SIGPIPE, SIG_IGN);

    char err[600];
    int status = 0;
    if (js_srv_open(&sv.srv, cfg, err, sizeof err)) {
        js_serve_say("%s: %s", cfg->dir, err);
        status = 1;
        goto out;
    }


    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) ? MHD_USE_EPOLL
                                                         : MHD_USE_POLL;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (cert)
        flags |= MHD_USE_TLS;
    size_t pool = cfg->max_url + cfg->max_headers + 32768;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_logger, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, &ss},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)(cfg->max_connections + CONN_RESERVE), NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)cfg->idle_timeout, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)pool, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, &sv},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, &sv},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, &sv},
        {cfg->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
         (intptr_t)cfg->threads, NULL},
        {MHD_OPTION_END, 0, NULL},
        {MHD_OPTION_END, 0, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    if (cert) {
        size_t i = cfg->threads > 1 ? 9 : 8;
        opts[i] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, cert};
        opts[i + 1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, key};
    }
    sv.d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &sv,
                            MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!sv.d) {
        js_serve_say("cannot listen on %s (in use, or not an address of "
                     "this machine%s)", cfg->listen,
                     cert ? ", or a bad certificate or key" : "");
        status = 1;
        goto out_srv;
    }
    if (pthread_create(&sv.watchdog, NULL, watchdog_main, &sv)) {
        js_serve_say("cannot start the watchdog thread");
        status = 1;
        goto out_daemon;
    }

    const union MHD_DaemonInfo *di = MHD_get_daemon_info(sv.d, MHD_DAEMON_INFO_BIND_PORT);
    char host[INET6_ADDRSTRLEN];
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
    else
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
    js_index_stats st;
    uint64_t sections = 0;
    if (!js_index_get_stats(sv.srv->ix, &st))
        sections = st.sections;
    js_serve_say("listening on %s://%s%s%s:%u/ (index %s, %s, %llu sections; "
                 "%u threads; writes %s)", cert ? "https" : "http",
                 ss.ss_family == AF_INET6 ? "[" : "", host,
                 ss.ss_family == AF_INET6 ? "]" : "",
                 di ? (unsigned)di->port : 0, cfg->dir,
                 sv.srv->backend == JS_BACKEND_XAPIAN ? "xapian" : "native",
                 (unsigned long long)sections, cfg->threads,
                 cfg->token ? "on (with the token)" : "off");
    if (!is_loopback(&ss))
        js_serve_say("note: %s is reachable from other machines%s", host,
                     cert ? "" : "; without --tls-cert its traffic, the "
                                 "write token too, is not encrypted");

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    for (;;) {
        got_signal = 0;
        sigset_t wait_set = old;
        sigdelset(&wait_set, SIGTERM);
        sigdelset(&wait_set, SIGINT);
        sigdelset(&wait_set, SIGHUP);
        sigsuspend(&wait_set); /* returns after a handler ran */
        if (got_signal == SIGHUP) {
            if (js_srv_reopen(sv.srv, err, sizeof err))
                js_serve_say("SIGHUP: the index could not be reopened, the "
                             "one open stays: %s", err);
            else
                js_serve_say("SIGHUP: index reopened");
            continue;
        }
        if (got_signal == SIGTERM || got_signal == SIGINT)
            break;
    }

    /* Stop: the requests in flight (writes waiting for their commit
     * too) are answered, for at most 30 s; new ones are refused. */
    js_serve_say("stopping: finishing %d request%s in flight",
                 atomic_load(&sv.inflight),
                 atomic_load(&sv.inflight) == 1 ? "" : "s");
    /* Not MHD_quiesce_daemon: libmicrohttpd 0.9.75 can abort in it with a
     * pool of epoll threads ("Failed to remove listen FD from epoll
     * set", seen under load with suspended writes).  New requests are
     * answered 503 with Connection: close instead while those in flight
     * finish. */
    atomic_store(&sv.stopping, 1);
    for (int i = 0; i < 3000 && atomic_load(&sv.inflight) > 0; i++)
        usleep(10 * 1000);
    if (atomic_load(&sv.inflight) > 0)
        js_serve_say("stopping: %d request%s still in flight after 30 s; "
                     "closing them", atomic_load(&sv.inflight),
                     atomic_load(&sv.inflight) == 1 ? "" : "s");
    /* every write accepted is committed and its connection resumed
     * before libmicrohttpd stops (it must not stop with one suspended) */
    js_srv_writeq_stop(sv.srv);
    for (int i = 0; i < 100 && atomic_load(&sv.inflight) > 0; i++)
        usleep(10 * 1000);
    atomic_store(&sv.stop_watchdog, 1);
    pthread_join(sv.watchdog, NULL);
out_daemon:
    MHD_stop_daemon(sv.d);
out_srv:
    js_srv_close(sv.srv);
out:
    for (conn *cn = sv.conns; cn;) {
        conn *next = cn->next;
        free(cn);
        cn = next;
    }
    pthread_mutex_destroy(&sv.cmu);
    if (cfg->log && sv.log_fd >= 0)
        close(sv.log_fd);
    free(cert);
    free(key);
    if (!status)
        js_serve_say("stopped");
    return status;
}
