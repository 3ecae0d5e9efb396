/*
 * handler.c — one HTTP request in, one response out (or a write job).
 *
 * In:  a request as js_srv_request: method, path, query parameters, the
 *      Authorization and Content-Type headers, the whole body.
 * Out: a js_srv_response (JSON for everything but the page), or for the
 *      write endpoints a job for the write queue (writeq.c).
 *
 *   GET  /search?q=&n=&offset=&snippet=&partial=&chars=&exact=
 *   POST /search            the same as a JSON object
 *   GET  /stats, /health
 *   GET  /, /app.js, /app.css   the page (assets.c)
 *   POST /documents         records, with the write token
 *   DELETE /documents/ID    one record, with the write token
 *
 * Nothing here trusts the request: every parameter is checked and
 * bounded, and a bad one is a 400 that says which and why.  The index is
 * searched through the public API only.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "json_out.h"
#include "serve.h"

/* ---------------------------------------------------------------------
 * Responses
 * ------------------------------------------------------------------- */

static const char json_ctype[] = "application/json; charset=utf-8";

void js_srv_response_free(js_srv_response *resp)
{
    if (resp && !resp->body_static)
        free(resp->body);
    if (resp) {
        resp->body = NULL;
        resp->len = 0;
    }
}

/* Sets resp to the JSON text of o (which it takes). */
static void set_json(js_srv_response *resp, unsigned status, json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    js_srv_response_free(resp);
    resp->content_type = json_ctype;
    if (!text) {
        static const char oom[] = "{\"error\":\"out of memory\"}";
        resp->status = 503;
        resp->body = (char *)oom;
        resp->len = sizeof oom - 1;
        resp->body_static = 1;
        return;
    }
    resp->status = status;
    resp->body = text;
    resp->len = strlen(text);
    resp->body_static = 0;
}

void js_srv_error(js_srv_response *resp, unsigned status, const char *fmt,
                  ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *o = json_object();
    /* json_string refuses invalid UTF-8, which a message quoting a bad
     * request could hold: then the message without the quote */
    json_t *m = json_string(msg);
    json_object_set_new(o, "error", m ? m : json_string("bad request"));
    set_json(resp, status, o);
}

/* ---------------------------------------------------------------------
 * The index, per backend
 * ------------------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* A thread's own Xapian handle. */
typedef struct js_srv_xhandle {
    js_srv *s;
    js_index *ix;
    uint64_t epoch, generation;
    int64_t last_refresh_ms;
    struct js_srv_xhandle *next;
} js_srv_xhandle;

static _Thread_local js_srv_xhandle *tl_x;

/* How often a search looks for commits made by other processes (a
 * `jiansuo add` beside the server): a refresh reads the manifest, cheap
 * but not free, so not before every search. */
#define REFRESH_EVERY_MS 1000

static int open_index(js_index **ix, const js_srv_config *cfg, char *err,
                      size_t errlen)
{
    int rc = js_index_open_ext(ix, cfg->dir, &cfg->open);
    /* a server answers many searches: the page faults paid once here,
     * not in the first searches' times (failing is not fatal: the
     * pages are read when touched, as without it) */
    if (!rc)
        (void)js_index_preload(*ix);
    if (rc) {
        snprintf(err, errlen, "%s", *ix ? js_index_errmsg(*ix)
                                         : js_strerror(rc));
        js_index_close(*ix);
        *ix = NULL;
    }
    return rc;
}

/* The native index: refreshed when a second has passed since the last
 * look, by whichever search comes first. */
static void native_maybe_refresh(js_srv *s)
{
    int64_t t = now_ms(), last = atomic_load(&s->last_refresh_ms);
    if (t - last < REFRESH_EVERY_MS ||
        !atomic_compare_exchange_strong(&s->last_refresh_ms, &last, t))
        return;
    pthread_mutex_lock(&s->refresh_mu);
    (void)js_index_refresh(s->ix); /* on failure: the generation before */
    pthread_mutex_unlock(&s->refresh_mu);
}

/* Returns this thread's index to search, or NULL with err set. */
static js_index *acquire(js_srv *s, char *err, size_t errlen)
{
    if (s->backend != JS_BACKEND_XAPIAN) {
        pthread_rwlock_rdlock(&s->swap);
        native_maybe_refresh(s);
        return s->ix;
    }
    js_srv_xhandle *x = tl_x;
    uint64_t epoch = atomic_load(&s->epoch);
    if (x && x->s == s && x->epoch != epoch) {
        js_index *nix;
        if (!open_index(&nix, s->cfg, err, errlen)) {
            js_index_close(x->ix);
            x->ix = nix;
            x->epoch = epoch;
        }
    }
    if (!x || x->s != s) {
        x = calloc(1, sizeof *x);
        if (!x) {
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        if (open_index(&x->ix, s->cfg, err, errlen)) {
            free(x);
            return NULL;
        }
        x->s = s;
        x->epoch = epoch;
        x->generation = atomic_load(&s->generation);
        x->last_refresh_ms = now_ms();
        pthread_mutex_lock(&s->xmu);
        x->next = s->xhandles;
        s->xhandles = x;
        pthread_mutex_unlock(&s->xmu);
        tl_x = x;
    }
    uint64_t gen = atomic_load(&s->generation);
    int64_t t = now_ms();
    if (x->generation != gen || t - x->last_refresh_ms >= REFRESH_EVERY_MS) {
        (void)js_index_refresh(x->ix);
        x->generation = gen;
        x->last_refresh_ms = t;
    }
    return x->ix;
}

static void release(js_srv *s)
{
    if (s->backend != JS_BACKEND_XAPIAN)
        pthread_rwlock_unlock(&s->swap);
}

void js_srv_index_changed(js_srv *s)
{
    atomic_fetch_add(&s->generation, 1);
    if (s->backend != JS_BACKEND_XAPIAN) {
        /* searches after the write's answer see the write */
        pthread_rwlock_rdlock(&s->swap);
        pthread_mutex_lock(&s->refresh_mu);
        (void)js_index_refresh(s->ix);
        pthread_mutex_unlock(&s->refresh_mu);
        atomic_store(&s->last_refresh_ms, now_ms());
        pthread_rwlock_unlock(&s->swap);
    }
}

int js_srv_open(js_srv **out, const js_srv_config *cfg, char *err,
                size_t errlen)
{
    *out = NULL;
    js_srv *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return JS_ENOMEM;
    }
    s->cfg = cfg;
    pthread_rwlock_init(&s->swap, NULL);
    pthread_mutex_init(&s->refresh_mu, NULL);
    pthread_mutex_init(&s->xmu, NULL);
    pthread_mutex_init(&s->qmu, NULL);
    pthread_cond_init(&s->qcv, NULL);
    /* Opened once here even for Xapian: to fail at start, not at the
     * first search, and to know the backend. */
    int rc = open_index(&s->ix, cfg, err, errlen);
    if (!rc) {
        s->backend = js_index_backend(s->ix);
        atomic_store(&s->last_refresh_ms, now_ms());
        if (cfg->token)
            rc = js_srv_writeq_start(s, err, errlen);
    }
    if (rc) {
        js_srv_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

int js_srv_reopen(js_srv *s, char *err, size_t errlen)
{
    js_index *nix;
    int rc = open_index(&nix, s->cfg, err, errlen);
    if (rc)
        return rc;
    if (js_index_backend(nix) != s->backend) {
        snprintf(err, errlen, "the index is now of the other backend; "
                 "restart the server to serve it");
        js_index_close(nix);
        return JS_EINVALID;
    }
    pthread_rwlock_wrlock(&s->swap);
    js_index *old = s->ix;
    s->ix = nix;
    pthread_rwlock_unlock(&s->swap);
    js_index_close(old);
    atomic_fetch_add(&s->epoch, 1);
    return 0;
}

void js_srv_close(js_srv *s)
{
    if (!s)
        return;
    js_srv_writeq_stop(s);
    js_index_close(s->ix);
    js_srv_xhandle *x = s->xhandles;
    while (x) {
        js_srv_xhandle *next = x->next;
        js_index_close(x->ix);
        free(x);
        x = next;
    }
    pthread_rwlock_destroy(&s->swap);
    pthread_mutex_destroy(&s->refresh_mu);
    pthread_mutex_destroy(&s->xmu);
    pthread_mutex_destroy(&s->qmu);
    pthread_cond_destroy(&s->qcv);
    free(s);
}

/* ---------------------------------------------------------------------
 * Parameters
 * ------------------------------------------------------------------- */

typedef struct search_params {
    const char *q;
    size_t qlen;
    js_search_options o;
    int snippets;
} search_params;

/* Reads an unsigned decimal parameter within [lo, hi].  Returns 0 (absent
 * leaves *out), or -1 after a 400. */
static int param_uint(js_srv_response *resp, const char *name,
                      const char *v, size_t len, unsigned long lo,
                      unsigned long hi, uint32_t *out)
{
    if (!v)
        return 0;
    unsigned long x = 0;
    size_t i = 0;
    for (; i < len && v[i] >= '0' && v[i] <= '9' && x <= hi; i++)
        x = x * 10 + (unsigned long)(v[i] - '0');
    if (!len || i < len || x < lo || x > hi) {
        js_srv_error(resp, 400, "%s wants a whole number in %lu..%lu", name,
                     lo, hi);
        return -1;
    }
    *out = (uint32_t)x;
    return 0;
}

/* Reads a boolean parameter: 1/0, true/false, yes/no, on/off. */
static int param_bool(js_srv_response *resp, const char *name,
                      const char *v, size_t len, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    if (!v)
        return 0;
    for (size_t i = 0; i < 4; i++) {
        if (len == strlen(yes[i]) && !memcmp(v, yes[i], len)) {
            *out = 1;
            return 0;
        }
        if (len == strlen(no[i]) && !memcmp(v, no[i], len)) {
            *out = 0;
            return 0;
        }
    }
    js_srv_error(resp, 400, "%s wants 1 or 0 (true or false)", name);
    return -1;
}

/* A JSON body's value as parameter text: numbers and booleans as they
 * would be written in a URL.  Returns the text (in buf or the string's
 * own), or NULL when absent; *bad is set for a value of another type. */
static const char *json_param(json_t *o, const char *name, char *buf,
                              size_t cap, size_t *len, int *bad)
{
    json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v))
        return NULL;
    if (json_is_string(v)) {
        *len = json_string_length(v);
        return json_string_value(v);
    }
    if (!buf) { /* a parameter that must be a string (q) */
        *bad = 1;
        return NULL;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0)
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, cap, "%d", json_is_true(v));
    else {
        *bad = 1;
        return NULL;
    }
    *len = strlen(buf);
    return buf;
}

typedef struct argsrc {
    const js_srv_request *req;
    json_t *body;
} argsrc;

/* One parameter from the URL or the JSON body.  Returns its text or
 * NULL; -1 in *bad for a JSON value of a wrong type (400 set). */
static const char *arg(const argsrc *a, const char *name, char *buf,
                       size_t cap, size_t *len, js_srv_response *resp,
                       int *bad)
{
    if (a->body) {
        int wrong = 0;
        const char *v = json_param(a->body, name, buf, cap, len, &wrong);
        if (wrong) {
            js_srv_error(resp, 400, "\"%s\" has a wrong type", name);
            *bad = 1;
        }
        return v;
    }
    return a->req->arg ? a->req->arg(a->req->arg_ctx, name, len) : NULL;
}

static int read_params(const argsrc *a, search_params *p,
                       js_srv_response *resp)
{
    char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32];
    size_t ln = 0, lo = 0, ls = 0, lp = 0, lc = 0, le = 0;
    int bad = 0;
    p->q = arg(a, "q", NULL, 0, &p->qlen, resp, &bad);
    const char *n = arg(a, "n", b1, sizeof b1, &ln, resp, &bad);
    const char *off = arg(a, "offset", b2, sizeof b2, &lo, resp, &bad);
    const char *snip = arg(a, "snippet", b3, sizeof b3, &ls, resp, &bad);
    const char *part = arg(a, "partial", b4, sizeof b4, &lp, resp, &bad);
    const char *chars = arg(a, "chars", b5, sizeof b5, &lc, resp, &bad);
    const char *exact = arg(a, "exact", b6, sizeof b6, &le, resp, &bad);
    if (bad)
        return -1;
    if (!p->q) {
        js_srv_error(resp, 400, "no query: give q, as in /search?q=...");
        return -1;
    }
    int partial = 1, ex = 0;
    p->snippets = 1;
    uint32_t c = p->o.snippet_chars;
    if (param_uint(resp, "n", n, ln, 0, JS_SRV_MAX_LIMIT, &p->o.limit) ||
        param_uint(resp, "offset", off, lo, 0,
                   JS_SEARCH_MAX_HITS - JS_SRV_MAX_LIMIT, &p->o.offset) ||
        param_bool(resp, "snippet", snip, ls, &p->snippets) ||
        param_bool(resp, "partial", part, lp, &partial) ||
        param_uint(resp, "chars", chars, lc, 10, 10000, &c) ||
        param_bool(resp, "exact", exact, le, &ex))
        return -1;
    p->o.snippet_chars = c;
    if (!p->snippets)
        p->o.flags |= JS_SEARCH_NO_SNIPPET;
    if (!partial)
        p->o.flags |= JS_SEARCH_NO_PARTIAL;
    if (ex)
        p->o.flags |= JS_SEARCH_EXACT_TOTAL;
    return 0;
}

/* ---------------------------------------------------------------------
 * Endpoints
 * ------------------------------------------------------------------- */

static void do_search(js_srv *s, const js_srv_request *req,
                      js_srv_response *resp)
{
    argsrc a = {req, NULL};
    if (!strcmp(req->method, "POST")) {
        json_error_t e;
        a.body = req->body ? json_loadb(req->body, req->body_len, 0, &e)
                           : NULL;
        if (!a.body) {
            js_srv_error(resp, 400, "the body is not JSON (line %d, column "
                         "%d: %s); POST /search takes {\"q\": ...}",
                         req->body ? e.line : 0, req->body ? e.column : 0,
                         req->body ? e.text : "no body");
            return;
        }
        if (!json_is_object(a.body)) {
            json_decref(a.body);
            js_srv_error(resp, 400, "POST /search takes a JSON object, "
                         "{\"q\": ...}");
            return;
        }
    }
    search_params p = {.o = JS_SEARCH_OPTIONS_INIT};
    if (read_params(&a, &p, resp)) {
        json_decref(a.body);
        return;
    }
    char err[512];
    js_index *ix = acquire(s, err, sizeof err);
    if (!ix) {
        json_decref(a.body);
        js_srv_error(resp, 503, "the index cannot be opened: %s", err);
        return;
    }
    js_results *r = NULL;
    double t0 = now_us();
    int rc = js_search(&r, ix, p.q, p.qlen, &p.o);
    double us = now_us() - t0;
    release(s);
    atomic_fetch_add(&s->searches, 1);
    if (rc) {
        const char *msg = r ? js_results_errmsg(r) : js_strerror(rc);
        unsigned status = rc == JS_EINVALID || rc == JS_ELIMIT ? 400
                          : rc == JS_ENOMEM                    ? 503
                                                               : 500;
        js_srv_error(resp, status, "%s", msg);
    } else {
        /* written straight as text: see json_out.c */
        js_jbuf b = {0};
        js_jbuf_raw(&b, "{\"query\":{", 10);
        js_cli_query_fields(&b, r, p.q, p.qlen, p.o.offset, 1);
        js_jbuf_key(&b, "micros");
        js_jbuf_uint(&b, (uint64_t)(us + 0.5));
        js_jbuf_raw(&b, "},\"hits\":[", 10);
        for (size_t i = 0; i < js_results_count(r); i++) {
            js_jbuf_raw(&b, i ? ",{" : "{", i ? 2 : 1);
            js_cli_hit_fields(&b, js_results_hit(r, i), p.o.offset + i + 1,
                              p.snippets);
            js_jbuf_raw(&b, "}", 1);
        }
        js_jbuf_raw(&b, "]}", 2);
        js_srv_response_free(resp);
        if (b.failed) {
            free(b.p);
            js_srv_error(resp, 503, "out of memory");
        } else {
            resp->status = 200;
            resp->content_type = json_ctype;
            resp->body = b.p;
            resp->len = b.len;
        }
    }
    js_results_free(r);
    json_decref(a.body);
}

static const char *backend_name(js_backend b)
{
    return b == JS_BACKEND_XAPIAN ? "xapian" : "native";
}

/* /stats and /health: the index's figures (health: a few). */
static void do_stats(js_srv *s, js_srv_response *resp, int health)
{
    char err[512];
    js_index *ix = acquire(s, err, sizeof err);
    if (!ix) {
        if (health) {
            json_t *o = json_object();
            json_object_set_new(o, "status", json_string("unavailable"));
            json_object_set_new(o, "error", json_string(err));
            set_json(resp, 503, o);
        } else {
            js_srv_error(resp, 503, "the index cannot be opened: %s", err);
        }
        return;
    }
    js_index_stats st;
    pthread_mutex_lock(&s->refresh_mu);
    int rc = js_index_get_stats(ix, &st);
    json_t *o;
    if (rc) {
        o = NULL;
    } else if (health) {
        o = json_object();
        json_object_set_new(o, "status", json_string("ok"));
        json_object_set_new(o, "backend", json_string(backend_name(s->backend)));
        json_object_set_new(o, "generation", json_integer((json_int_t)st.generation));
        json_object_set_new(o, "documents", json_integer((json_int_t)st.documents));
        json_object_set_new(o, "sections", json_integer((json_int_t)st.sections));
        json_object_set_new(o, "writes", json_boolean(s->cfg->token != NULL));
    } else {
        o = js_cli_stats_json(s->cfg->dir, &st);
        json_t *srv = json_object();
        json_object_set_new(srv, "threads", json_integer(s->cfg->threads));
        json_object_set_new(srv, "writes", json_boolean(s->cfg->token != NULL));
        json_object_set_new(srv, "searches",
                            json_integer((json_int_t)atomic_load(&s->searches)));
        json_object_set_new(srv, "write_requests",
                            json_integer((json_int_t)atomic_load(&s->writes)));
        json_object_set_new(o, "server", srv);
    }
    pthread_mutex_unlock(&s->refresh_mu);
    release(s);
    if (!o)
        js_srv_error(resp, 500, "%s", js_strerror(rc));
    else
        set_json(resp, 200, o);
}

/* Compares the request's bearer token with the server's in time that
 * does not depend on where they differ.  Returns 0 when they match. */
static int token_check(const js_srv *s, const js_srv_request *req,
                       js_srv_response *resp)
{
    if (!s->cfg->token) {
        js_srv_error(resp, 403, "writes are off: the server was started "
                     "without --write-token-file");
        return -1;
    }
    const char *h = req->authorization;
    static const char bearer[] = "Bearer ";
    if (!h || strncasecmp(h, bearer, sizeof bearer - 1)) {
        resp->auth_challenge = 1;
        js_srv_error(resp, 401, "a write needs the token: send "
                     "\"Authorization: Bearer TOKEN\"");
        return -1;
    }
    h += sizeof bearer - 1;
    size_t n = strlen(h), want = s->cfg->token_len;
    /* every byte of the longer is looked at, whatever the shorter holds */
    unsigned diff = n != want;
    size_t m = n > want ? n : want;
    for (size_t i = 0; i < m; i++) {
        unsigned char a = i < n ? (unsigned char)h[i] : 0;
        unsigned char b = i < want ? (unsigned char)s->cfg->token[i] : 0;
        diff |= (unsigned)(a ^ b);
    }
    if (diff) {
        js_srv_error(resp, 403, "wrong token");
        return -1;
    }
    return 0;
}

static int method_is(const js_srv_request *req, const char *m)
{
    return !strcmp(req->method, m);
}

static void not_allowed(js_srv_response *resp, const char *allow)
{
    resp->allow = allow;
    js_srv_error(resp, 405, "method not allowed here; use %s", allow);
}

static int do_assets(const js_srv_request *req, js_srv_response *resp)
{
    for (size_t i = 0; i < js_srv_nassets; i++) {
        const js_srv_asset *a = &js_srv_assets[i];
        if (strcmp(req->path, a->path))
            continue;
        if (!method_is(req, "GET") && !method_is(req, "HEAD")) {
            not_allowed(resp, "GET, HEAD");
            return 1;
        }
        resp->status = 200;
        resp->content_type = a->content_type;
        resp->body = (char *)a->data;
        resp->len = a->len;
        resp->body_static = 1;
        resp->cache = 1;
        return 1;
    }
    return 0;
}

int js_srv_precheck(js_srv *s, const js_srv_request *req,
                    js_srv_response *resp)
{
    /* What can be refused before the body is read: a write without the
     * token, so that a client without it cannot make the server read
     * (and hold) megabytes. */
    memset(resp, 0, sizeof *resp);
    if (!strcmp(req->path, "/documents") ||
        !strncmp(req->path, "/documents/", 11)) {
        if (method_is(req, "POST") || method_is(req, "DELETE"))
            return token_check(s, req, resp) ? 1 : 0;
    }
    return 0;
}

int js_srv_handle(js_srv *s, const js_srv_request *req,
                  js_srv_response *resp, js_srv_job **job)
{
    *job = NULL;
    memset(resp, 0, sizeof *resp);
    const char *path = req->path;
    int get = method_is(req, "GET") || method_is(req, "HEAD");
    if (!strcmp(path, "/search")) {
        if (get || method_is(req, "POST"))
            do_search(s, req, resp);
        else
            not_allowed(resp, "GET, HEAD, POST");
        return 0;
    }
    if (!strcmp(path, "/stats") || !strcmp(path, "/health")) {
        if (get)
            do_stats(s, resp, path[1] == 'h');
        else
            not_allowed(resp, "GET, HEAD");
        return 0;
    }
    if (!strcmp(path, "/documents")) {
        if (!method_is(req, "POST")) {
            not_allowed(resp, "POST");
            return 0;
        }
        if (token_check(s, req, resp) ||
            js_srv_records(req->body ? req->body : "", req->body_len, job,
                           resp))
            return 0;
        atomic_fetch_add(&s->writes, 1);
        return 1;
    }
    if (!strncmp(path, "/documents/", 11)) {
        if (!method_is(req, "DELETE")) {
            not_allowed(resp, "DELETE");
            return 0;
        }
        if (token_check(s, req, resp))
            return 0;
        const char *id = path + 11;
        if (!*id) {
            js_srv_error(resp, 404, "no id: DELETE /documents/ID");
            return 0;
        }
        js_srv_job *j = calloc(1, sizeof *j);
        char **ids = j ? calloc(1, sizeof *ids) : NULL;
        char *idc = ids ? strdup(id) : NULL;
        if (!idc) {
            free(ids);
            free(j);
            js_srv_error(resp, 503, "out of memory");
            return 0;
        }
        j->kind = JS_SRV_JOB_DELETE;
        j->ids = ids;
        j->ids[0] = idc;
        j->nrecords = 1;
        *job = j;
        atomic_fetch_add(&s->writes, 1);
        return 1;
    }
    if (do_assets(req, resp))
        return 0;
    js_srv_error(resp, 404, "no such endpoint: %s (try /search?q=..., "
                 "/stats, /health, /documents, or / for the page)", path);
    return 0;
}
