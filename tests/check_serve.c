/*
 * check_serve.c — the server's request handling without a socket
 * (src/serve/handler.c, records.c, writeq.c).
 *
 * In:  requests as js_srv_request, against a small index written here.
 * Out: Check results: each request's status and what its body says; the
 *      write queue's answers and what a search sees after them.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <math.h>

#include "json_out.h"
#include "serve.h"
#include "testutil.h"

static char *dir;
static js_srv_config cfg;
static js_srv *srv;
static const char token[] = "check-serve-token-0123456789";

/* Query parameters from "k=v&k=v" (no decoding: the tests write them
 * plain). */
static const char *args_lookup(void *ctx, const char *name, size_t *len)
{
    const char *s = ctx;
    size_t n = strlen(name);
    while (s && *s) {
        const char *amp = strchr(s, '&');
        size_t l = amp ? (size_t)(amp - s) : strlen(s);
        if (l > n && !strncmp(s, name, n) && s[n] == '=') {
            *len = l - n - 1;
            return s + n + 1;
        }
        s = amp ? amp + 1 : NULL;
    }
    return NULL;
}

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
} waiter;

static void job_done(js_srv_job *job)
{
    waiter *w = job->done_ctx;
    pthread_mutex_lock(&w->mu);
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Runs a request to its end (a write through the queue); returns the
 * status and the body in *body (malloc'ed). */
static unsigned run(const char *method, const char *path, const char *args,
                    const char *auth, const char *body, char **out)
{
    js_srv_request req = {method, path, args ? args_lookup : NULL,
                          (void *)args, auth, NULL, body,
                          body ? strlen(body) : 0};
    js_srv_response resp;
    js_srv_job *job = NULL;
    unsigned status;
    if (js_srv_handle(srv, &req, &resp, &job) == 1) {
        waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
        job->done = job_done;
        job->done_ctx = &w;
        if (!js_srv_submit(srv, job)) {
            pthread_mutex_lock(&w.mu);
            while (!w.done)
                pthread_cond_wait(&w.cv, &w.mu);
            pthread_mutex_unlock(&w.mu);
        }
        status = job->resp.status;
        *out = strndup(job->resp.body, job->resp.len);
        js_srv_job_free(job);
    } else {
        status = resp.status;
        *out = strndup(resp.body, resp.len);
        js_srv_response_free(&resp);
    }
    return status;
}

static void setup(void)
{
    dir = tu_temp_dir("serve");
    js_writer *w;
    ck_assert_int_eq(js_writer_open(&w, dir, NULL), 0);
    static const char docs[] =
        "{\"id\":\"a1\",\"title\":\"工匠学院\",\"text\":\"工匠学院开设木工课程。\"}\n"
        "{\"id\":\"a2\",\"title\":\"春風\",\"text\":\"春風吹過小城的柳樹。\"}\n";
    ck_assert_int_eq(js_writer_add_memory(w, "seed.jsonl", docs,
                                          sizeof docs - 1), 0);
    ck_assert_int_eq(js_writer_commit(w), 0);
    js_writer_close(w);
    js_srv_config c = {0};
    js_open_options oo = JS_OPEN_OPTIONS_INIT;
    js_writer_options wo = JS_WRITER_OPTIONS_INIT;
    c.dir = dir;
    c.open = oo;
    c.writer = wo;
    c.threads = 2;
    c.token = strdup(token);
    c.token_len = strlen(token);
    cfg = c;
    char err[256];
    ck_assert_msg(js_srv_open(&srv, &cfg, err, sizeof err) == 0, "%s", err);
}

static void teardown(void)
{
    js_srv_close(srv);
    free(cfg.token);
    tu_remove_dir(dir);
    free(dir);
}

/* Reading requests: status and a piece of the body. */
static const struct {
    const char *method, *path, *args, *want;
    unsigned status;
} read_cases[] = {
    {"GET", "/search", "q=工匠学院", "\"total\":1,", 200},
    {"GET", "/search", "q=春风", "\"title\":\"春風\"", 200},
    {"HEAD", "/search", "q=春风&n=0", "\"hits\":[]", 200},
    {"GET", "/search", "q=春风&snippet=false", "\"end\":147}]}", 200},
    {"GET", "/search", "q=春风&offset=5", "\"offset\":5", 200},
    {"GET", "/search", "q=春风&chars=10000", "\"total\":1", 200},
    {"GET", "/search", "q=春风&exact=yes&partial=off", "\"total_exact\":true", 200},
    {"GET", "/search", NULL, "no query", 400},
    {"GET", "/search", "q=x&n=-1", "n wants", 400},
    {"GET", "/search", "q=x&n=", "n wants", 400},
    {"GET", "/search", "q=x&n=99999999999999999999", "n wants", 400},
    {"GET", "/search", "q=x&offset=99001", "offset wants", 400},
    {"GET", "/search", "q=x&snippet=2", "snippet wants", 400},
    {"GET", "/search", "q=x&chars=9", "chars wants", 400},
    {"GET", "/search", "q=x&exact=", "exact wants", 400},
    {"GET", "/search", "q=", "\"error\"", 400},
    {"GET", "/search", "q=(((", "\"error\"", 400},
    {"GET", "/stats", NULL, "\"server\":{\"threads\":2,\"writes\":true", 200},
    {"GET", "/health", NULL, "\"status\":\"ok\",\"backend\":\"native\"", 200},
    {"GET", "/", NULL, "<", 200},
    {"GET", "/app.js", NULL, "", 200},
    {"GET", "/app.css", NULL, "", 200},
    {"POST", "/", NULL, "use GET, HEAD", 405},
    {"DELETE", "/search", NULL, "use GET, HEAD, POST", 405},
    {"POST", "/stats", NULL, "use GET, HEAD", 405},
    {"GET", "/documents", NULL, "use POST", 405},
    {"GET", "/documents/a1", NULL, "use DELETE", 405},
    {"GET", "/nope", NULL, "no such endpoint: /nope", 404},
    {"GET", "/search/", NULL, "no such endpoint", 404},
    {"GET", "/app.js/", NULL, "no such endpoint", 404},
    {"GET", "/../etc/passwd", NULL, "no such endpoint", 404},
};

START_TEST(test_read)
{
    char *body;
    unsigned st = run(read_cases[_i].method, read_cases[_i].path,
                      read_cases[_i].args, NULL, NULL, &body);
    ck_assert_msg(st == read_cases[_i].status, "%s %s?%s: status %u: %s",
                  read_cases[_i].method, read_cases[_i].path,
                  read_cases[_i].args, st, body);
    ck_assert_msg(strstr(body, read_cases[_i].want), "%s %s?%s: %s",
                  read_cases[_i].method, read_cases[_i].path,
                  read_cases[_i].args, body);
    free(body);
}
END_TEST

/* POST /search: the parameters as JSON. */
static const struct {
    const char *body, *want;
    unsigned status;
} post_cases[] = {
    {"{\"q\":\"工匠学院\",\"n\":1}", "\"total\":1,", 200},
    {"{\"q\":\"春风\",\"snippet\":false,\"partial\":true}", "\"total\":1,", 200},
    {"{\"q\":\"春风\",\"n\":\"2\"}", "\"total\":1,", 200},
    {"{\"q\":\"春风\",\"n\":null}", "\"total\":1,", 200},
    {"{\"q\":\"春风\",\"n\":1.5}", "\\\"n\\\" has a wrong type", 400},
    {"{\"q\":\"春风\",\"n\":-3}", "\\\"n\\\" has a wrong type", 400},
    {"{\"q\":7}", "\\\"q\\\" has a wrong type", 400},
    {"{}", "no query", 400},
    {"[1]", "takes a JSON object", 400},
    {"", "the body is not JSON", 400},
    {"{\"q\":\"\\u0000\"}", "the body is not JSON", 400},
    {"{\"q\":\"\xff\"}", "the body is not JSON", 400},
};

START_TEST(test_post_search)
{
    char *body;
    unsigned st = run("POST", "/search", NULL, NULL, post_cases[_i].body,
                      &body);
    ck_assert_msg(st == post_cases[_i].status && strstr(body, post_cases[_i].want),
                  "POST /search %s: %u %s", post_cases[_i].body, st, body);
    free(body);
}
END_TEST

/* The token: every way of getting it wrong, in constant time. */
static const struct {
    const char *auth;
    unsigned status;
} auth_cases[] = {
    {NULL, 401},
    {"", 401},
    {"Basic dXNlcjpwYXNz", 401},
    {"Bearer", 401},
    {"Bearer ", 403},
    {"Bearer check-serve-token-012345678", 403},   /* one short */
    {"Bearer check-serve-token-01234567890", 403}, /* one more */
    {"Bearer check-serve-token-0123456788", 403},  /* last differs */
    {"Bearer Check-serve-token-0123456789", 403},  /* first differs */
    {"bearer check-serve-token-0123456789", 200},  /* scheme: any case */
    {"Bearer check-serve-token-0123456789", 200},
};

START_TEST(test_auth)
{
    char *body;
    unsigned st = run("POST", "/documents", NULL, auth_cases[_i].auth,
                      "{\"id\":\"t1\",\"text\":\"令牌测试\"}", &body);
    ck_assert_msg(st == auth_cases[_i].status, "%s: %u %s",
                  auth_cases[_i].auth, st, body);
    free(body);
}
END_TEST

/* Bodies of POST /documents: refused whole, with what is wrong. */
static const struct {
    const char *body, *want;
    unsigned status;
    size_t records;
} record_cases[] = {
    {"{\"id\":\"x\",\"text\":\"正文\"}", NULL, 0, 1},
    {"\xEF\xBB\xBF{\"id\":\"x\",\"text\":\"正文\"}\r\n\n", NULL, 0, 1},
    {"[{\"id\":1,\"text\":\"正文\"},{\"id\":\"y\",\"sections\":[{\"heading\":\"标题\"}]}]", NULL, 0, 2},
    {"{\"id\":\"x\",\"text\":\"正文\",\"author\":{\"name\":\"李白\"},\"tags\":[1]}", NULL, 0, 1},
    {"", "no records", 400, 0},
    {"[]", "no records", 400, 0},
    {"\n\n  \n", "no records", 400, 0},
    {"{\"text\":\"正文\"}", "record 1 (line 1): no \\\"id\\\"", 400, 0},
    {"{\"id\":\"\",\"text\":\"正文\"}", "\\\"id\\\" must be 1 to", 400, 0},
    {"{\"id\":1.5,\"text\":\"正文\"}", "\\\"id\\\" is a number", 400, 0},
    {"{\"id\":true,\"text\":\"正文\"}", "\\\"id\\\" is a boolean", 400, 0},
    {"{\"id\":\"x\",\"title\":[],\"text\":\"正文\"}", "\\\"title\\\" is an array", 400, 0},
    {"{\"id\":\"x\",\"text\":{}}", "\\\"text\\\" is an object", 400, 0},
    {"{\"id\":\"x\"}", "no text to index", 400, 0},
    {"{\"id\":\"x\",\"text\":\"  \\n\"}", "no text to index", 400, 0},
    {"{\"id\":\"x\",\"sections\":[1]}", "sections[0] is a number", 400, 0},
    {"{\"id\":\"x\",\"sections\":[{\"heading\":2}]}", "sections[0].heading is a number", 400, 0},
    {"{\"id\":\"x\",\"sections\":[{\"text\":false}]}", "sections[0].text is a boolean", 400, 0},
    {"{\"id\":\"x\",\"text\":\"a\"}\n{\"id\":\"y\",\"text\":\"b\"}\n[1]", "record 3 (line 3): a record is a JSON object, not an array", 400, 0},
    {"{\"id\":\"x\",\"text\":\"a\",\"text\":\"b\"}", "invalid JSON", 400, 0},
    {"{\"id\":\"x\",\"text\":\"a\"", "record 1 (line 1): invalid JSON", 400, 0},
    {"[{\"id\":\"x\",\"text\":\"a\"}", "invalid JSON at line 1", 400, 0},
    {"[{\"id\":\"x\",\"text\":\"a\"},", "invalid JSON", 400, 0},
    {"{\"id\":\"x\",\"text\":\"\xc3\x28\"}", "invalid JSON", 400, 0},
    {"null", "a record is a JSON object, not null", 400, 0},
};

START_TEST(test_records)
{
    js_srv_job *job = NULL;
    js_srv_response resp = {0};
    const char *b = record_cases[_i].body;
    int rc = js_srv_records(b, strlen(b), &job, &resp);
    if (!record_cases[_i].want) {
        ck_assert_msg(rc == 0, "%s: %.*s", b, (int)resp.len, resp.body);
        ck_assert_uint_eq(job->nrecords, record_cases[_i].records);
        for (size_t i = 0; i < job->nrecords; i++) /* one line each */
            ck_assert_ptr_null(memchr(job->lines[i], '\n', job->line_lens[i]));
    } else {
        ck_assert_int_ne(rc, 0);
        ck_assert_ptr_null(job);
        ck_assert_uint_eq(resp.status, record_cases[_i].status);
        ck_assert_msg(strstr(resp.body, record_cases[_i].want), "%s: %s", b,
                      resp.body);
    }
    js_srv_job_free(job);
    js_srv_response_free(&resp);
}
END_TEST

static uint64_t total_of(const char *q)
{
    char args[256], *body;
    snprintf(args, sizeof args, "q=%s&partial=0", q);
    ck_assert_uint_eq(run("GET", "/search", args, NULL, NULL, &body), 200);
    const char *t = strstr(body, "\"total\":");
    ck_assert_ptr_nonnull(t);
    uint64_t n = strtoull(t + 8, NULL, 10);
    free(body);
    return n;
}

START_TEST(test_writes)
{
    const char *auth = "Bearer check-serve-token-0123456789";
    char *body;
    ck_assert_uint_eq(total_of("星空"), 0);
    ck_assert_uint_eq(run("POST", "/documents", NULL, auth,
                          "{\"id\":\"n1\",\"text\":\"夏夜的星空\"}\n"
                          "{\"id\":\"a2\",\"text\":\"春风换了新的句子\"}",
                          &body), 200);
    ck_assert_msg(strstr(body, "\"records\":2,\"generation\":2"), "%s", body);
    free(body);
    /* seen by the next search; a2 replaced */
    ck_assert_uint_eq(total_of("星空"), 1);
    ck_assert_uint_eq(total_of("柳树"), 0);
    ck_assert_uint_eq(total_of("新的句子"), 1);
    /* a bad batch changes nothing */
    ck_assert_uint_eq(run("POST", "/documents", NULL, auth,
                          "{\"id\":\"n2\",\"text\":\"冬雪\"}\n{\"id\":\"n3\"}",
                          &body), 400);
    free(body);
    ck_assert_uint_eq(total_of("冬雪"), 0);
    /* delete */
    ck_assert_uint_eq(run("DELETE", "/documents/n1", NULL, auth, NULL, &body), 200);
    ck_assert_msg(strstr(body, "\"deleted\":\"n1\""), "%s", body);
    free(body);
    ck_assert_uint_eq(total_of("星空"), 0);
    ck_assert_uint_eq(run("DELETE", "/documents/n1", NULL, auth, NULL, &body), 404);
    free(body);
    ck_assert_uint_eq(run("DELETE", "/documents/", NULL, auth, NULL, &body), 404);
    free(body);
    /* an id with a slash (the path after /documents/ is the id) */
    ck_assert_uint_eq(run("POST", "/documents", NULL, auth,
                          "{\"id\":\"a/b\",\"text\":\"斜线编号\"}", &body), 200);
    free(body);
    ck_assert_uint_eq(run("DELETE", "/documents/a/b", NULL, auth, NULL, &body), 200);
    free(body);
    ck_assert_uint_eq(total_of("斜线编号"), 0);
}
END_TEST

/* Many writers at once: every request answered 200, all records in. */
typedef struct burst {
    int k;
    unsigned status;
} burst;

static void *burst_main(void *arg)
{
    burst *b = arg;
    char doc[128], *body;
    snprintf(doc, sizeof doc, "{\"id\":\"b%d\",\"text\":\"并发写入 zq%d\"}",
             b->k, b->k);
    b->status = run("POST", "/documents", NULL,
                    "Bearer check-serve-token-0123456789", doc, &body);
    free(body);
    return NULL;
}

START_TEST(test_group_commit)
{
    enum { N = 16 };
    pthread_t th[N];
    burst b[N];
    for (int i = 0; i < N; i++) {
        b[i].k = i;
        ck_assert_int_eq(pthread_create(&th[i], NULL, burst_main, &b[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ck_assert_uint_eq(b[i].status, 200);
    }
    ck_assert_uint_eq(total_of("并发写入"), N);
}
END_TEST

/* Writes off: no token configured. */
START_TEST(test_writes_off)
{
    js_srv_close(srv);
    free(cfg.token);
    cfg.token = NULL;
    cfg.token_len = 0;
    char err[256];
    ck_assert_int_eq(js_srv_open(&srv, &cfg, err, sizeof err), 0);
    char *body;
    ck_assert_uint_eq(run("POST", "/documents", NULL,
                          "Bearer check-serve-token-0123456789",
                          "{\"id\":\"x\",\"text\":\"y\"}", &body), 403);
    ck_assert_msg(strstr(body, "writes are off"), "%s", body);
    free(body);
    js_srv_request req = {"POST", "/documents", NULL, NULL, NULL, NULL, NULL, 0};
    js_srv_response resp = {0};
    ck_assert_int_eq(js_srv_precheck(srv, &req, &resp), 1);
    ck_assert_uint_eq(resp.status, 403);
    js_srv_response_free(&resp);
}
END_TEST

/* Random bytes as bodies, paths and parameters: an answer, never a
 * crash (the fuzz target does this at length). */
START_TEST(test_random)
{
    uint64_t seed = 42;
    char buf[300], path[40], args[80];
    static const char *const methods[] = {"GET", "POST", "DELETE", "HEAD", "PUT"};
    for (int it = 0; it < 400; it++) {
        size_t n = tu_rnd(&seed) % sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)(tu_rnd(&seed) % 3 ? "{}[]\":,0a 工\n"[tu_rnd(&seed) % 14]
                                               : (int)(tu_rnd(&seed) & 0xff));
        buf[n] = 0;
        snprintf(path, sizeof path, "%s", (const char *[]){"/search", "/documents",
                 "/documents/x", "/stats", "/"}[tu_rnd(&seed) % 5]);
        snprintf(args, sizeof args, "q=%.*s&n=%u", (int)(n % 20), buf,
                 (unsigned)(tu_rnd(&seed) % 2000));
        char *body;
        unsigned st = run(methods[tu_rnd(&seed) % 5], path, args,
                          tu_rnd(&seed) % 2 ? "Bearer check-serve-token-0123456789" : NULL,
                          buf, &body);
        ck_assert_msg(st >= 200 && st < 600, "status %u", st);
        free(body);
    }
}
END_TEST

/* A random string: ASCII, control bytes, quotes, backslashes, CJK and
 * 4-byte characters (valid UTF-8: what the index holds). */
static char *rnd_string(uint64_t *seed, size_t *len)
{
    static const char *const pieces[] = {"a", "Z", "0", " ", "\"", "\\", "/",
                                         "\n", "\t", "\x01", "\x1f", "\x7f",
                                         "工", "學", "\xF0\x9F\x98\x80", "\xE2\x80\xA8"};
    char *s = malloc(200);
    size_t n = 0, k = tu_rnd(seed) % 20;
    for (size_t i = 0; i < k; i++) {
        const char *p = pieces[tu_rnd(seed) % 16];
        memcpy(s + n, p, strlen(p));
        n += strlen(p);
    }
    s[n] = 0;
    *len = n;
    return s;
}

/* The text writer against jansson: what js_cli_hit_fields writes parses
 * to the hit's values, and jansson writes the parsed object back to the
 * same bytes (so search --json and /search read as before). */
START_TEST(test_json_writer)
{
    uint64_t seed = 7;
    for (int it = 0; it < 2000; it++) {
        size_t lens[6];
        char *str[6];
        for (int i = 0; i < 6; i++)
            str[i] = rnd_string(&seed, &lens[i]);
        const char *heads[2] = {str[4], str[5]};
        size_t hl[4] = {0, lens[3] / 2, lens[3] / 2, lens[3]};
        double scores[] = {0.0, 1.0, 2.5, 1e-7, 123456789.0, 8.0854845811270586,
                           1e22, 3.0e-300};
        js_hit h = {0};
        h.section = (uint32_t)tu_rnd(&seed);
        h.ordinal = (uint32_t)(tu_rnd(&seed) % 100);
        h.score = scores[it % 8] * (it % 3 ? 1 : (double)tu_rnd(&seed) / 7.0);
        h.partial = it % 2;
        h.source = str[0];
        h.title = str[1];
        h.format = "jsonl";
        h.encoding = "UTF-8";
        h.id = it % 4 ? str[2] : "";
        h.metadata = it % 5 ? "{\"author\":\"李白\",\"n\":[1,2.5,null]}" : "";
        h.headings = heads;
        h.depth = (size_t)(it % 3);
        h.start = tu_rnd(&seed);
        h.end = h.start + 10;
        h.snippet = str[3];
        h.snippet_len = lens[3];
        h.highlights = hl;
        h.nhighlights = 2;
        js_jbuf b = {0};
        js_jbuf_raw(&b, "{", 1);
        js_cli_hit_fields(&b, &h, (uint64_t)it + 1, it % 7 != 0);
        js_jbuf_raw(&b, "}", 1);
        ck_assert(!b.failed);
        json_error_t e;
        json_t *o = json_loadb(b.p, b.len, JSON_ALLOW_NUL, &e);
        ck_assert_msg(o, "not JSON (%s): %s", e.text, b.p);
        char *again = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        ck_assert_str_eq(again, b.p);
        ck_assert(json_real_value(json_object_get(o, "score")) == h.score ||
                  json_integer_value(json_object_get(o, "score")) == h.score);
        ck_assert_str_eq(json_string_value(json_object_get(o, "title")), h.title);
        ck_assert_uint_eq(json_integer_value(json_object_get(o, "start")), h.start);
        if (it % 7)
            ck_assert_str_eq(json_string_value(json_object_get(o, "snippet")), h.snippet);
        free(again);
        json_decref(o);
        free(b.p);
        for (int i = 0; i < 6; i++)
            free(str[i]);
    }
    /* bytes that are not UTF-8 still make JSON */
    js_jbuf b = {0};
    js_jbuf_str(&b, "a\xff\xc3(b\xed\xa0\x80", 8);
    ck_assert_str_eq(b.p, "\"a\xEF\xBF\xBD\xEF\xBF\xBD(b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
    free(b.p);
    b = (js_jbuf){0};
    js_jbuf_real(&b, NAN);
    ck_assert_str_eq(b.p, "null");
    free(b.p);
}
END_TEST

static Suite *serve_suite(void)
{
    Suite *s = suite_create("serve");
    TCase *tc = tcase_create("handler");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_read, 0, sizeof read_cases / sizeof *read_cases);
    tcase_add_loop_test(tc, test_post_search, 0, sizeof post_cases / sizeof *post_cases);
    tcase_add_loop_test(tc, test_auth, 0, sizeof auth_cases / sizeof *auth_cases);
    tcase_add_loop_test(tc, test_records, 0, sizeof record_cases / sizeof *record_cases);
    tcase_add_test(tc, test_writes);
    tcase_add_test(tc, test_group_commit);
    tcase_add_test(tc, test_writes_off);
    tcase_add_test(tc, test_random);
    suite_add_tcase(s, tc);
    TCase *tj = tcase_create("json");
    tcase_add_test(tj, test_json_writer);
    suite_add_tcase(s, tj);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(serve_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
