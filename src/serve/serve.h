/*
 * serve.h — what the parts of `jiansuo serve` share.
 *
 * In:  HTTP requests, as libmicrohttpd hands them over (daemon.c), or as
 *      a test or fuzz target builds them (js_srv_request).
 * Out: responses (js_srv_response): a status, a content type and a body,
 *      JSON for everything but the page's assets.
 *
 * The folder's rule: like the CLI it sees only the public header
 * (jiansuo.h), so the server is a client of libjiansuo like any other
 * program.  Only daemon.c knows libmicrohttpd: handler.c, records.c and
 * writeq.c take plain structs, so that tests and the fuzz target drive
 * the whole request handling without a socket.
 *
 *   handler.c  routes a request: search, stats, health, the page, and
 *              the write endpoints' checks (token, body) up to a job
 *   records.c  a POST body (JSON Lines or a JSON array) checked record
 *              by record into JSON Lines the writer reads
 *   writeq.c   the write queue: one thread commits the jobs that are
 *              waiting as one batch (group commit)
 *   daemon.c   libmicrohttpd: limits, TLS, the watchdog, signals, log
 *   assets.c   the page (src/serve/page/), generated at build time
 */
#ifndef JS_SERVE_H
#define JS_SERVE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "jiansuo.h"

/* Defaults, also in the usage text and the README's Serving section. */
#define JS_SRV_DEFAULT_LISTEN "127.0.0.1:7700"
#define JS_SRV_DEFAULT_MAX_BODY (16u << 20)   /* bytes of one request body */
#define JS_SRV_DEFAULT_MAX_URL 8192u           /* bytes of path + query */
#define JS_SRV_DEFAULT_MAX_HEADERS 16384u      /* bytes of all headers */
#define JS_SRV_DEFAULT_MAX_CONNECTIONS 1000u
#define JS_SRV_DEFAULT_IDLE_TIMEOUT 15u        /* s without a byte */
#define JS_SRV_DEFAULT_REQUEST_TIMEOUT 30u     /* s to send one request */
#define JS_SRV_DEFAULT_CACHE_MIB 256u          /* js_cache_set_limit */
/* Writes over HTTP come as many small commits, each a segment that every
 * search then visits: merged sooner than `jiansuo add`'s 10. */
#define JS_SRV_DEFAULT_MERGE_FACTOR 4u
#define JS_SRV_MAX_LIMIT 1000u                 /* n= of one search */
#define JS_SRV_MAX_QUEUED_BYTES (256u << 20)   /* write bodies waiting */

typedef struct js_srv_config {
    const char *dir;          /* index directory */
    js_open_options open;     /* backend (native or Xapian) */
    const char *listen;       /* "ADDR:PORT", "[v6]:PORT" */
    unsigned threads;         /* request threads */
    char *token;              /* write token (owned), NULL: writes off */
    size_t token_len;
    const char *tls_cert, *tls_key; /* PEM files, both or neither */
    size_t max_body, max_url, max_headers;
    unsigned max_connections;
    unsigned idle_timeout, request_timeout;
    const char *log;          /* access log file; NULL: stderr */
    int quiet;                /* no access log */
    js_writer_options writer; /* for the write endpoints */
} js_srv_config;

/* The query parameters of a request: a lookup function over whatever
 * holds them (libmicrohttpd's table, or a test's array). */
typedef const char *(*js_srv_arg_fn)(void *ctx, const char *name,
                                     size_t *len);

typedef struct js_srv_request {
    const char *method;       /* "GET", "POST", ... */
    const char *path;         /* decoded path, without the query */
    js_srv_arg_fn arg;        /* query parameters (NULL: none) */
    void *arg_ctx;
    const char *authorization; /* the Authorization header or NULL */
    const char *content_type;  /* or NULL */
    const char *body;         /* the whole body (a POST), or NULL */
    size_t body_len;
} js_srv_request;

typedef struct js_srv_response {
    unsigned status;
    const char *content_type;
    char *body;               /* malloc'ed, or static when body_static */
    size_t len;
    int body_static;
    const char *allow;        /* 405: the Allow header */
    int auth_challenge;       /* 401: send WWW-Authenticate */
    int retry_after;          /* 503: seconds, 0: none */
    int cache;                /* the page's assets: may be cached */
    int close;                /* close the connection after it */
} js_srv_response;

/* A write the writer thread is to apply: the records of a POST (JSON
 * Lines, one record a line, each with an id) or one id to delete. */
typedef enum { JS_SRV_JOB_ADD, JS_SRV_JOB_DELETE } js_srv_job_kind;

typedef struct js_srv_job {
    js_srv_job_kind kind;
    char **lines;             /* ADD: nrecords JSON texts, one record each */
    size_t *line_lens;
    char **ids;               /* ADD: each record's id; DELETE: ids[0] */
    size_t nrecords;
    size_t bytes;             /* of the records, for the queue's bound */
    /* set by the writer thread */
    js_srv_response resp;
    void (*done)(struct js_srv_job *job); /* called when resp is set */
    void *done_ctx;
    struct js_srv_job *next;
} js_srv_job;

void js_srv_job_free(js_srv_job *job);

typedef struct js_srv js_srv;

/* Opens the index of cfg (which must outlive the server) for searching.
 * Returns 0 and *out, or a JS_E* code with a message in err. */
int js_srv_open(js_srv **out, const js_srv_config *cfg, char *err,
                size_t errlen);

/* Reopens the index (SIGHUP).  Returns 0 or a JS_E* code with a message
 * in err; the old index stays in use on failure. */
int js_srv_reopen(js_srv *s, char *err, size_t errlen);

/* Closes what js_srv_open opened; NULL is fine. */
void js_srv_close(js_srv *s);

/* Handles one request.  Returns 0 with *resp set, or 1 when the request
 * is a write: *job is then to be queued (js_srv_writeq_submit), and its
 * response comes when the writer has committed it. */
int js_srv_handle(js_srv *s, const js_srv_request *req,
                  js_srv_response *resp, js_srv_job **job);

/* What can be answered from the headers alone, before a body is read:
 * a write without the right token.  Returns 0 to go on (read the body,
 * then js_srv_handle), or 1 with *resp set. */
int js_srv_precheck(js_srv *s, const js_srv_request *req,
                    js_srv_response *resp);

/* Sets *resp to the JSON error {"error": msg} with status. */
void js_srv_error(js_srv_response *resp, unsigned status, const char *fmt,
                  ...) __attribute__((format(printf, 3, 4)));

/* Frees a response's body (not the struct). */
void js_srv_response_free(js_srv_response *resp);

/* The write queue (writeq.c).  Started by js_srv_open when writes are
 * on; the handler's jobs go to js_srv_submit. */
int js_srv_submit(js_srv *s, js_srv_job *job);

/* Used by handler.c and writeq.c: tells the searchers that the index has
 * a new generation (the writer committed). */
void js_srv_index_changed(js_srv *s);

/* records.c: checks a POST /documents body (JSON Lines, or one JSON
 * array of records) and makes it a job: every record an object with a
 * non-empty string id (or an integer), a string or absent title, and a
 * string text or an array of sections, nothing else wrong.  Returns 0
 * and *job, or fills resp with a 400 naming the record and what is wrong
 * (nothing of a bad batch is applied), 413 for too many records, or 500
 * out of memory. */
int js_srv_records(const char *body, size_t len, js_srv_job **job,
                   js_srv_response *resp);

/* assets.c (generated): the page's files. */
typedef struct js_srv_asset {
    const char *path;         /* "/", "/app.js", ... */
    const char *content_type;
    const unsigned char *data;
    size_t len;
} js_srv_asset;

extern const js_srv_asset js_srv_assets[];
extern const size_t js_srv_nassets;


/* ---------------------------------------------------------------------
 * The server's state, shared by handler.c and writeq.c.
 * ------------------------------------------------------------------- */
#include <stdatomic.h>

struct js_srv {
    const js_srv_config *cfg;
    js_backend backend;
    /* Native: one js_index that every thread searches (js_search is
     * safe from many threads on one handle), swapped whole by a reopen
     * under `swap` (searches hold it for reading).  Xapian: each thread
     * opens its own handle (the library's rule), found through a
     * thread-local pointer and kept on the list `xhandles` for closing;
     * `epoch` tells them to reopen (SIGHUP) and `generation` to refresh
     * (a commit). */
    js_index *ix;
    pthread_rwlock_t swap;
    pthread_mutex_t refresh_mu;   /* js_index_refresh and get_stats on ix */
    struct js_srv_xhandle *xhandles;
    pthread_mutex_t xmu;
    atomic_uint_fast64_t epoch, generation;
    atomic_int_fast64_t last_refresh_ms; /* native: last look for commits */
    atomic_uint_fast64_t searches, writes;
    /* the write queue (writeq.c) */
    pthread_t writer;
    int writer_started;
    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    js_srv_job *qhead, *qtail;
    size_t qbytes;
    int qstop;
    char *dir_shown;              /* the index directory, for /stats */
};

/* writeq.c: starts and stops the writer thread (stop: after it has done
 * every job queued). */
int js_srv_writeq_start(js_srv *s, char *err, size_t errlen);
void js_srv_writeq_stop(js_srv *s);

#endif /* JS_SERVE_H */
