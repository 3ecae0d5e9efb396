/*
 * fuzz_serve.c — libFuzzer target for the server's request handling
 * (src/serve/handler.c and records.c), without a socket.
 *
 * In:  one selector byte, then the query string, a NUL byte, and the
 *      body.  The selector picks the method (bits 0-2: GET, POST,
 *      DELETE, HEAD, PUT, OPTIONS, and GET twice more), the path (bits
 *      3-5: /search, /documents, /documents/<the query string>, /stats,
 *      /health, /, /app.js, a path of the query string), and with bit 6
 *      the right write token, with bit 7 a wrong one.  The query string
 *      is cut at '&' into name=value parameters, undecoded.  The index
 *      is the fixed one of fuzz_index.h; a write that passes every
 *      check becomes a job, which is dropped (the writer itself is
 *      tested by check_live and check_serve), so the index never
 *      changes under the fuzzer.
 * Out: nothing; abort() when:
 *      - a status is not one the API allows for that path;
 *      - a JSON response is not valid JSON, an error lacks its "error"
 *        string, or a 200 from /search lacks "query" and "hits";
 *      - a write job holds records that are not one JSON object a line
 *        with the id it is filed under.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_index.h"
#include "serve.h"

static js_srv *srv;
static js_srv_config cfg;
static char token[] = "fuzz-serve-token-0123456789";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    js_open_options oo = JS_OPEN_OPTIONS_INIT;
    js_writer_options wo = JS_WRITER_OPTIONS_INIT;
    cfg.dir = fuzz_index_build();
    cfg.open = oo;
    cfg.writer = wo;
    cfg.threads = 1;
    cfg.token = token;
    cfg.token_len = strlen(token);
    char err[256];
    if (js_srv_open(&srv, &cfg, err, sizeof err))
        FUZZ_FAIL("opening the server: %s", err);
    return 0;
}

typedef struct args {
    const char *s;
    size_t len;
} args;

static const char *lookup(void *ctx, const char *name, size_t *len)
{
    const args *a = ctx;
    size_t n = strlen(name), i = 0;
    while (i < a->len) {
        const char *amp = memchr(a->s + i, '&', a->len - i);
        size_t end = amp ? (size_t)(amp - a->s) : a->len;
        if (end - i > n && !memcmp(a->s + i, name, n) && a->s[i + n] == '=') {
            *len = end - i - n - 1;
            return a->s + i + n + 1;
        }
        i = end + 1;
    }
    return NULL;
}

static void check_json(const js_srv_response *r, const char *path)
{
    json_error_t e;
    json_t *o = json_loadb(r->body, r->len, 0, &e);
    if (!o)
        FUZZ_FAIL("%s: %u with a body that is not JSON: %s", path, r->status,
                  e.text);
    if (r->status != 200 && !json_is_string(json_object_get(o, "error")))
        FUZZ_FAIL("%s: %u without an \"error\" string", path, r->status);
    if (r->status == 200 && !strcmp(path, "/search") &&
        (!json_is_object(json_object_get(o, "query")) ||
         !json_is_array(json_object_get(o, "hits"))))
        FUZZ_FAIL("/search: 200 without query and hits");
    json_decref(o);
}

static void check_job(const js_srv_job *job)
{
    if (job->kind != JS_SRV_JOB_ADD)
        return;
    for (size_t i = 0; i < job->nrecords; i++) {
        if (memchr(job->lines[i], '\n', job->line_lens[i]))
            FUZZ_FAIL("record %zu spans lines", i);
        json_t *o = json_loadb(job->lines[i], job->line_lens[i], 0, NULL);
        json_t *id = json_object_get(o, "id");
        if (!json_is_object(o) || !json_is_string(id) ||
            strcmp(json_string_value(id), job->ids[i]))
            FUZZ_FAIL("record %zu: not an object with the id %s", i,
                      job->ids[i]);
        json_decref(o);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const methods[] = {"GET", "POST", "DELETE", "HEAD",
                                          "PUT", "OPTIONS", "GET", "GET"};
    uint8_t sel = data[0];
    const char *rest = (const char *)data + 1;
    size_t rlen = size - 1;
    const char *nul = memchr(rest, 0, rlen);
    args a = {rest, nul ? (size_t)(nul - rest) : rlen};
    const char *body = nul ? nul + 1 : NULL;
    size_t blen = nul ? rlen - a.len - 1 : 0;
    char *bcopy = body ? malloc(blen + 1) : NULL;
    if (bcopy) {
        memcpy(bcopy, body, blen);
        bcopy[blen] = 0;
    }
    char path[300];
    static const char *const paths[] = {"/search", "/documents", NULL,
                                        "/stats",  "/health",    "/",
                                        "/app.js", NULL};
    unsigned p = (sel >> 3) & 7;
    if (paths[p])
        snprintf(path, sizeof path, "%s", paths[p]);
    else
        snprintf(path, sizeof path, "%s%.*s", p == 2 ? "/documents/" : "/",
                 (int)(a.len < 200 ? a.len : 200), a.s);
    if (strlen(path) != strnlen(path, sizeof path))
        return 0;
    const char *auth = sel & 0x40   ? "Bearer fuzz-serve-token-0123456789"
                       : sel & 0x80 ? "Bearer fuzz-serve-token-0123456780"
                                    : NULL;
    js_srv_request req = {methods[sel & 7], path, lookup, &a, auth, NULL,
                          bcopy, blen};
    js_srv_response resp;
    js_srv_job *job = NULL;
    if (js_srv_precheck(srv, &req, &resp)) {
        check_json(&resp, path);
        js_srv_response_free(&resp);
    }
    int rc = js_srv_handle(srv, &req, &resp, &job);
    if (rc == 1) {
        if (!auth || !(sel & 0x40))
            FUZZ_FAIL("a write job without the token");
        check_job(job);
        js_srv_job_free(job);
    } else {
        unsigned st = resp.status;
        if (st != 200 && st != 400 && st != 401 && st != 403 && st != 404 &&
            st != 405 && st != 413 && st != 500 && st != 503)
            FUZZ_FAIL("%s: status %u", path, st);
        if (!resp.cache)
            check_json(&resp, path);
        js_srv_response_free(&resp);
    }
    free(bcopy);
    return 0;
}
