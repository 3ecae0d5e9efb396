/*
 * check_backend.c — the one index API's dispatch (src/backend.c).
 *
 * In:  indexes built here through js_builder_* with each backend this
 *      library has, and empty or mismatched directories.
 * Out: that js_index_open picks the backend the directory holds, and
 *      the one asked for; that every way of asking wrongly (an options
 *      version, remote shards on the native backend, a backend not
 *      built in, shards for a native build) fails with JS_EINVALID and a
 *      message on the handle; that build options of version 2 are still
 *      read; that a call that succeeds leaves no message behind.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jiansuo.h"
#include "testutil.h"

#ifdef JS_WITH_XAPIAN
#define HAVE_XAPIAN 1
#else
#define HAVE_XAPIAN 0
#endif

/* libxapian's own Database::check frees an object through a base of
 * another size (inside libxapian.so, as tests/xapian_cli.sh notes for
 * `jiansuo check`): AddressSanitizer's check of that is libxapian's
 * business, not this test's. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "new_delete_type_mismatch=0";
}

static const char doc[] = "# 工匠学院\n\n工匠学院的课程。\n\n## 簡介\n\n學院在山間。\n";

/* Builds doc into dir with o; returns js_builder_open's or the build's
 * code, with the message in msg. */
static int build(const char *dir, const js_build_options *o, char *msg,
                 size_t cap)
{
    js_builder *b = NULL;
    int rc = js_builder_open(&b, dir, o);
    if (!rc)
        rc = js_builder_add_memory(b, "doc.md", doc, sizeof doc - 1);
    if (!rc)
        rc = js_builder_commit(b);
    snprintf(msg, cap, "%s", js_builder_errmsg(b));
    js_builder_close(b);
    return rc;
}

/* The number of hits for q on ix, or a negative code. */
static int hits(js_index *ix, const char *q)
{
    js_results *r = NULL;
    int rc = js_search(&r, ix, q, strlen(q), NULL);
    int n = rc ? rc : (int)js_results_count(r);
    js_results_free(r);
    return n;
}

START_TEST(test_names)
{
    static const struct {
        js_backend b;
        const char *name;
        int available;
    } table[] = {
        {JS_BACKEND_AUTO, "auto", 1},
        {JS_BACKEND_NATIVE, "native", 1},
        {JS_BACKEND_XAPIAN, "xapian", HAVE_XAPIAN},
        {(js_backend)7, "unknown", 0},
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        ck_assert_str_eq(js_backend_name(table[i].b), table[i].name);
        ck_assert_int_eq(js_backend_available(table[i].b), table[i].available);
    }
}
END_TEST

START_TEST(test_native_detected)
{
    char *dir = tu_temp_dir("backend-native");
    char msg[512];
    ck_assert_msg(build(dir, NULL, msg, sizeof msg) == 0, "%s", msg);
    js_index *ix = NULL;
    ck_assert_int_eq(js_index_open(&ix, dir), 0);
    ck_assert_int_eq(js_index_backend(ix), JS_BACKEND_NATIVE);
    ck_assert_int_eq(hits(ix, "學院"), 2); /* Traditional finds both */
    ck_assert_int_eq(js_index_check(ix), 0);
    ck_assert_str_eq(js_index_errmsg(ix), "");
    ck_assert_int_eq(js_index_preload(ix), 0);
    js_index_stats st;
    ck_assert_int_eq(js_index_get_stats(ix, &st), 0);
    ck_assert_int_eq(st.backend, JS_BACKEND_NATIVE);
    ck_assert_uint_eq(st.shards, 1);
    ck_assert_ptr_null(st.shard);
    ck_assert_uint_eq(st.sections, 2);
    js_index_close(ix);

    /* asked for Xapian where there is only a native index */
    js_open_options oo = JS_OPEN_OPTIONS_INIT;
    oo.backend = JS_BACKEND_XAPIAN;
    ix = NULL;
    int rc = js_index_open_ext(&ix, dir, &oo);
    ck_assert_int_eq(rc, HAVE_XAPIAN ? JS_ENOTFOUND : JS_EINVALID);
    ck_assert_ptr_nonnull(ix);
    ck_assert_msg(strstr(js_index_errmsg(ix), HAVE_XAPIAN ? "no Xapian index"
                                                          : "without the Xapian"),
                  "%s", js_index_errmsg(ix));
    js_index_close(ix);
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

START_TEST(test_bad_requests)
{
    char *dir = tu_temp_dir("backend-bad");
    static const struct {
        unsigned version;
        js_backend backend;
        const char *remote;
        int use_dir;
        int rc;
        const char *msg;
    } table[] = {
        {99, JS_BACKEND_AUTO, NULL, 1, JS_EINVALID, "unknown open options version 99"},
        {JS_OPEN_OPTIONS_VERSION, JS_BACKEND_NATIVE, "127.0.0.1:1", 0, JS_EINVALID,
         "remote shards are served by the Xapian backend only"},
        {JS_OPEN_OPTIONS_VERSION, JS_BACKEND_AUTO, NULL, 0, JS_EINVALID,
         "no index directory given"},
        {JS_OPEN_OPTIONS_VERSION, (js_backend)7, NULL, 1, JS_EINVALID,
         "unknown backend 7"},
        {JS_OPEN_OPTIONS_VERSION, JS_BACKEND_AUTO, NULL, 1, JS_ENOTFOUND,
         "index.jsi"},
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        js_open_options oo = JS_OPEN_OPTIONS_INIT;
        oo.version = table[i].version;
        oo.backend = table[i].backend;
        oo.remote = table[i].remote;
        js_index *ix = NULL;
        int rc = js_index_open_ext(&ix, table[i].use_dir ? dir : NULL, &oo);
        ck_assert_msg(rc == table[i].rc, "case %zu: %d", i, rc);
        ck_assert_ptr_nonnull(ix);
        ck_assert_msg(strstr(js_index_errmsg(ix), table[i].msg), "case %zu: %s",
                      i, js_index_errmsg(ix));
        /* a handle that failed to open serves no call, and says so */
        ck_assert_int_eq(js_index_check(ix), JS_EINVALID);
        ck_assert_int_eq(hits(ix, "学院"), JS_EINVALID);
        js_index_stats st;
        ck_assert_int_eq(js_index_get_stats(ix, &st), JS_EINVALID);
        js_index_close(ix);
    }
    js_index_close(NULL);
    ck_assert_str_eq(js_index_errmsg(NULL), "");
    js_results *r = NULL;
    ck_assert_int_eq(js_search(&r, NULL, "x", 1, NULL), JS_EINVALID);
    ck_assert_str_eq(js_results_errmsg(r), "no open index");
    js_results_free(r);
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

START_TEST(test_build_options)
{
    char *dir = tu_temp_dir("backend-build");
    char msg[512];
    static const struct {
        unsigned version;
        js_backend backend;
        unsigned shards;
        int rc;
        const char *msg;
    } table[] = {
        {99, JS_BACKEND_AUTO, 0, JS_EINVALID, "unknown build options version 99"},
        {JS_BUILD_OPTIONS_VERSION, JS_BACKEND_NATIVE, 2, JS_EINVALID,
         "a native index is one file"},
        {JS_BUILD_OPTIONS_VERSION, (js_backend)7, 0, JS_EINVALID,
         "unknown backend 7"},
        {JS_BUILD_OPTIONS_VERSION, JS_BACKEND_XAPIAN, 0,
         HAVE_XAPIAN ? 0 : JS_EINVALID, HAVE_XAPIAN ? "" : "without the Xapian"},
        {JS_BUILD_OPTIONS_VERSION, JS_BACKEND_NATIVE, 1, 0, ""},
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        js_build_options o = JS_BUILD_OPTIONS_INIT;
        o.version = table[i].version;
        o.backend = table[i].backend;
        o.shards = table[i].shards;
        int rc = build(dir, &o, msg, sizeof msg);
        ck_assert_msg(rc == table[i].rc, "case %zu: %d %s", i, rc, msg);
        ck_assert_msg(strstr(msg, table[i].msg), "case %zu: %s", i, msg);
    }
    /* version 2: the struct ends at champion_df; what follows must not
     * be read (here: garbage a v2 caller never wrote) */
    js_build_options v2 = JS_BUILD_OPTIONS_INIT;
    v2.version = 2;
    v2.analyze_flags = JS_ANALYZE_NO_FOLD;
    v2.backend = (js_backend)12345;
    v2.shards = 77;
    ck_assert_msg(build(dir, &v2, msg, sizeof msg) == 0, "%s", msg);
    /* a build is published once: the dispatch refuses what follows */
    js_builder *b = NULL;
    ck_assert_int_eq(js_builder_open(&b, dir, &v2), 0);
    ck_assert_int_eq(js_builder_commit(b), 0);
    ck_assert_int_eq(js_builder_add_memory(b, "doc.md", doc, sizeof doc - 1),
                     JS_EINVALID);
    ck_assert_str_eq(js_builder_errmsg(b), "the build was already committed");
    ck_assert_int_eq(js_builder_commit(b), JS_EINVALID);
    js_builder_close(b);
    js_index *ix = NULL;
    ck_assert_int_eq(js_index_open(&ix, dir), 0);
    js_index_stats st;
    ck_assert_int_eq(js_index_get_stats(ix, &st), 0);
    ck_assert_int_eq(st.backend, JS_BACKEND_NATIVE);
    ck_assert_uint_eq(st.analyze_flags, JS_ANALYZE_NO_FOLD);
    js_index_close(ix);
    js_builder_close(NULL);
    ck_assert_str_eq(js_builder_errmsg(NULL), "");
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

/* Both backends answer the same calls (the Xapian one where built). */
START_TEST(test_xapian_detected)
{
    char *dir = tu_temp_dir("backend-xapian");
    char msg[512];
    js_build_options o = JS_BUILD_OPTIONS_INIT;
    o.backend = JS_BACKEND_XAPIAN;
    o.shards = 2;
    int rc = build(dir, &o, msg, sizeof msg);
    if (!HAVE_XAPIAN) {
        ck_assert_int_eq(rc, JS_EINVALID);
        tu_remove_dir(dir);
        free(dir);
        return;
    }
    ck_assert_msg(rc == 0, "%s", msg);
    js_index *ix = NULL;
    ck_assert_int_eq(js_index_open(&ix, dir), 0);
    ck_assert_int_eq(js_index_backend(ix), JS_BACKEND_XAPIAN);
    ck_assert_int_eq(hits(ix, "學院"), 2);
    ck_assert_int_eq(js_index_check(ix), 0);
    ck_assert_int_eq(js_index_preload(ix), 0); /* nothing to preload */
    js_index_stats st;
    ck_assert_int_eq(js_index_get_stats(ix, &st), 0);
    ck_assert_int_eq(st.backend, JS_BACKEND_XAPIAN);
    ck_assert_uint_eq(st.shards, 2);
    ck_assert_uint_eq(st.shard[0].sections + st.shard[1].sections, 2);
    js_index_close(ix);

    /* asked for the native index where there is only a Xapian one */
    js_open_options oo = JS_OPEN_OPTIONS_INIT;
    oo.backend = JS_BACKEND_NATIVE;
    ix = NULL;
    ck_assert_int_eq(js_index_open_ext(&ix, dir, &oo), JS_ENOTFOUND);
    js_index_close(ix);

    /* a native index beside it wins the detection */
    ck_assert_msg(build(dir, NULL, msg, sizeof msg) == 0, "%s", msg);
    ix = NULL;
    ck_assert_int_eq(js_index_open(&ix, dir), 0);
    ck_assert_int_eq(js_index_backend(ix), JS_BACKEND_NATIVE);
    js_index_close(ix);
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

/* Counts the progress reports of each phase; [3]: the last section
 * count reported. */
static void on_progress(void *ctx, const js_build_progress *p)
{
    int *seen = ctx;
    if (p->phase >= 0 && p->phase < 3)
        seen[p->phase]++;
    seen[3] = (int)p->sections;
}

/* Both builders report progress through the one clock (fields.h): a
 * commit reports its phases whatever the time since the last report. */
START_TEST(test_progress)
{
    char *dir = tu_temp_dir("backend-progress");
    char msg[512];
    for (int x = 0; x <= HAVE_XAPIAN; x++) {
        int seen[4] = {0};
        js_build_options o = JS_BUILD_OPTIONS_INIT;
        o.backend = x ? JS_BACKEND_XAPIAN : JS_BACKEND_NATIVE;
        o.progress = on_progress;
        o.progress_ctx = seen;
        ck_assert_msg(build(dir, &o, msg, sizeof msg) == 0, "%s", msg);
        ck_assert_int_ge(seen[2], 1);       /* writing: forced */
        ck_assert_int_ge(seen[1], x ? 0 : 1); /* native: merging, forced */
        ck_assert_int_eq(seen[3], 2);       /* the two sections of doc */
    }
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("backend");
    TCase *tc = tcase_create("dispatch");
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_native_detected);
    tcase_add_test(tc, test_bad_requests);
    tcase_add_test(tc, test_build_options);
    tcase_add_test(tc, test_xapian_detected);
    tcase_add_test(tc, test_progress);
    suite_add_tcase(s, tc);
    return tu_run(s, 0);
}
