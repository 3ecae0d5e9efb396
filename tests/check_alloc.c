/*
 * check_alloc.c — every allocation failure comes back as an error.
 *
 * In:  a small corpus (in-memory documents and files: Markdown, JSON
 *      Lines, HTML, plain text, Traditional and Simplified).
 * Out: for N = 1, 2, 3, ... the Nth allocation fails, over: a build
 *      (in memory and from files, 1 and 2 threads, a 1 MiB budget so that
 *      runs are spilled), opening a reader, searches of every kind
 *      (phrase, OR, exclusion, title:, partial fallback, snippets),
 *      stats and check, a live index's manifest and deletion sets
 *      (built, written, read, copied); until the operation completes
 *      without reaching the failing allocation.  Every failure must be a
 *      negative JS_E* code with a message, nothing may crash, a failed
 *      build must leave the previous index intact and no temporary file
 *      behind, and LeakSanitizer (in the sanitizer build) checks each
 *      test process for leaks as it exits.
 *
 * How: the program is linked with -Wl,--wrap=malloc,... (Makefile.am), so
 * every call to malloc, calloc, realloc, strdup, strndup and
 * posix_memalign made by our own code, which libjscore brings into this
 * executable statically, goes to the __wrap_ functions below.  Calls made
 * inside shared libraries (zlib's inflate state, libxml2, iconv, jansson,
 * libstdc++'s operator new) are not counted: their failures are theirs.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deletes.h"
#include "jiansuo.h"
#include "manifest.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
void __sanitizer_print_stack_trace(void);
#endif

/* ---- the failing allocator ---- */

/* The allocation to fail (1-based; 0: none) and the count so far.  Atomic:
 * the builder's workers allocate too. */
static atomic_ulong fail_at, allocs;
static atomic_int failed_one;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_posix_memalign(void **p, size_t align, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_posix_memalign(void **p, size_t align, size_t n);

/* Whether this allocation is the one to fail. */
static int fail_now(void)
{
    unsigned long at = atomic_load(&fail_at);
    if (!at)
        return 0;
    if (atomic_fetch_add(&allocs, 1) + 1 != at)
        return 0;
    atomic_store(&failed_one, 1);
#if defined(__SANITIZE_ADDRESS__)
    /* CHECK_ALLOC_TRACE=N shows where allocation N is (sanitizer build) */
    const char *t = getenv("CHECK_ALLOC_TRACE");
    if (t && strtoul(t, NULL, 10) == at)
        __sanitizer_print_stack_trace();
#endif
    errno = ENOMEM;
    return 1;
}

void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t m)
{
    return fail_now() ? NULL : __real_calloc(n, m);
}
void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}
char *__wrap_strdup(const char *s) { return fail_now() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n)
{
    return fail_now() ? NULL : __real_strndup(s, n);
}
int __wrap_posix_memalign(void **p, size_t align, size_t n)
{
    return fail_now() ? ENOMEM : __real_posix_memalign(p, align, n);
}

static void arm(unsigned long n)
{
    atomic_store(&allocs, 0);
    atomic_store(&failed_one, 0);
    atomic_store(&fail_at, n);
}

/* Disarms; returns whether the failing allocation was reached. */
static int disarm(void)
{
    atomic_store(&fail_at, 0);
    return atomic_load(&failed_one);
}

/* Allocations stop being counted at this N: an operation that still
 * reaches its Nth allocation then is a runaway. */
#define MAX_N 200000

/* ---- the corpus ---- */

static const char *const sentences[] = {
    "清晨的图书馆里，学生们安静地读书。",
    "小城的春风吹绿了河边的柳树，新芽一天比一天多。",
    "工匠在作坊里打磨一块木头，准备做一张结实的桌子。",
    "夏夜的星空格外明亮，孩子们躺在草地上数星星。",
    "搜索引擎把文本切成单字和双字词，再建立倒排索引。",
    "圖書館的資料已經全部整理完畢，讀者可以借閱了。",
    "比赛在2023年8月举行，参加的队伍来自十二个城市。",
    "The xapian backend and the native index answer the same queries.",
};
#define NSENT (sizeof sentences / sizeof *sentences)

/* A Markdown document of nsec sections whose bodies cycle through the
 * sentences (caller frees r->buf). */
static void markdown(tu_render *r, int nsec, int seed)
{
    tu_appendf(r, "# 手册%d\n\n前言：%s\n", seed, sentences[seed % NSENT]);
    for (int s = 0; s < nsec; s++) {
        tu_appendf(r, "\n## 第%d节\n\n", s);
        for (int k = 0; k < 6; k++)
            tu_appendf(r, "%s", sentences[(size_t)(s * 3 + k + seed) % NSENT]);
        tu_appendf(r, "\n");
    }
}

static void jsonl(tu_render *r, int nrec)
{
    for (int i = 0; i < nrec; i++) {
        tu_appendf(r, "{\"id\":\"r%d\",\"title\":\"记录%d\",\"tag\":\"t%d\","
                   "\"text\":\"%s%s\"}\n",
                   i, i, i % 3, sentences[(size_t)i % NSENT],
                   sentences[(size_t)(i + 3) % NSENT]);
    }
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* Files for js_builder_add_path: a directory of one file per format. */
static void make_files(const char *dir)
{
    char p[600];
    snprintf(p, sizeof p, "%s/docs", dir);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    tu_render r = {0};
    tu_appendf(&r, "%s", "");
    markdown(&r, 12, 1);
    snprintf(p, sizeof p, "%s/docs/a.md", dir);
    write_file(p, r.buf, r.len);
    r.len = 0;
    jsonl(&r, 20);
    snprintf(p, sizeof p, "%s/docs/b.jsonl", dir);
    write_file(p, r.buf, r.len);
    r.len = 0;
    tu_appendf(&r, "<html><head><title>网页</title></head><body><h1>标题</h1>"
               "<p>%s</p><h2>小节</h2><p>%s</p></body></html>",
               sentences[0], sentences[5]);
    snprintf(p, sizeof p, "%s/docs/c.html", dir);
    write_file(p, r.buf, r.len);
    r.len = 0;
    for (int i = 0; i < 30; i++)
        tu_appendf(&r, "%s\n", sentences[(size_t)i % NSENT]);
    snprintf(p, sizeof p, "%s/docs/d.txt", dir);
    write_file(p, r.buf, r.len);
    free(r.buf);
}

/* ---- the operations ---- */

typedef struct {
    const char *dir;     /* scratch directory */
    const char *index;   /* the index directory */
    unsigned threads;
    int files;           /* add the files too */
    int big;             /* enough text to spill runs under 1 MiB */
    tu_render md, js;    /* in-memory documents */
    uint32_t runs;       /* runs the last successful build spilled */
    char msg[1100];
} ctx;

/* Builds the corpus into c->index.  Returns 0 or the JS_E* code, with
 * the message in c->msg. */
static int build(ctx *c)
{
    js_build_options o = JS_BUILD_OPTIONS_INIT;
    o.memory_mib = 1;
    o.threads = c->threads;
    o.block_size = 4;
    js_builder *b = NULL;
    int rc = js_builder_open(&b, c->index, &o);
    if (!rc)
        rc = js_builder_add_memory(b, "m.md", c->md.buf, c->md.len);
    if (!rc)
        rc = js_builder_add_memory(b, "r.jsonl", c->js.buf, c->js.len);
    if (!rc && c->files) {
        char p[600];
        snprintf(p, sizeof p, "%s/docs", c->dir);
        rc = js_builder_add_path(b, p);
    }
    if (!rc)
        rc = js_builder_commit(b);
    c->msg[0] = 0;
    if (!rc) {
        js_build_stats st;
        js_builder_get_stats(b, &st);
        c->runs = st.runs;
    }
    if (rc && b)
        snprintf(c->msg, sizeof c->msg, "%s", js_builder_errmsg(b));
    else if (rc)
        snprintf(c->msg, sizeof c->msg, "(no builder)");
    js_builder_close(b);
    return rc;
}

/* Whether the directory holds only index.jsi and lock. */
static void assert_no_leftovers(const char *dir, unsigned long n)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *f = de->d_name;
        ck_assert_msg(!strcmp(f, ".") || !strcmp(f, "..") ||
                          !strcmp(f, "index.jsi") || !strcmp(f, "lock"),
                      "allocation %lu failed: %s left behind", n, f);
    }
    closedir(d);
}

/* The index in dir opens, passes check and has `sections` sections. */
static void assert_index(const char *dir, uint64_t sections, unsigned long n)
{
    js_index *ix = NULL;
    int rc = js_index_open(&ix, dir);
    ck_assert_msg(rc == 0, "allocation %lu failed: the index no longer "
                  "opens: %s", n, ix ? js_index_errmsg(ix) : "");
    ck_assert_msg(js_index_check(ix) == 0, "allocation %lu failed: check: %s",
                  n, js_index_errmsg(ix));
    js_index_stats st;
    ck_assert_int_eq(js_index_get_stats(ix, &st), 0);
    ck_assert_msg(st.sections == sections, "allocation %lu failed: %llu "
                  "sections, want %llu", n, (unsigned long long)st.sections,
                  (unsigned long long)sections);
    js_index_close(ix);
}

/* A failure must be a JS_E* code with a message.  Allocations the code
 * does without (a cache, a message) may fail without an error. */
static void assert_failure(int rc, const char *msg, const char *what,
                           unsigned long n)
{
    ck_assert_msg(rc == JS_ENOMEM, "%s: allocation %lu failed: code %d (%s), "
                  "want JS_ENOMEM", what, n, rc, msg);
    ck_assert_msg(msg && msg[0], "%s: allocation %lu failed: no message",
                  what, n);
}

/* Appends n characters drawn from 3,000 Han characters: nearly every
 * bigram is new, so a little text fills a 1 MiB budget (the runs are
 * spilled and merged) at little cost per build. */
static void random_han(tu_render *r, int n, uint64_t *seed)
{
    for (int i = 0; i < n; i++) {
        unsigned cp = 0x4E00 + tu_rnd(seed) % 3000;
        tu_appendf(r, "%c%c%c", 0xE0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3F),
                   0x80 | (cp & 0x3F));
        if (i % 40 == 39)
            tu_appendf(r, "。");
    }
}

static void ctx_init(ctx *c, const char *dir, const char *index, int big)
{
    memset(c, 0, sizeof *c);
    c->dir = dir;
    c->index = index;
    c->big = big;
    tu_appendf(&c->md, "%s", "");
    tu_appendf(&c->js, "%s", "");
    markdown(&c->md, 25, 0);
    jsonl(&c->js, 15);
    uint64_t seed = 2024;
    for (int s = 0; big && s < 40; s++) {
        tu_appendf(&c->md, "\n## 随机%d\n\n", s);
        random_han(&c->md, 400, &seed);
        tu_appendf(&c->md, "\n");
    }
}

static void ctx_free(ctx *c)
{
    free(c->md.buf);
    free(c->js.buf);
}

/* Builds the previous index (without failures), then fails allocation
 * N of the build for every N. */
static void run_builds(unsigned threads, int files, int big)
{
    char *dir = tu_temp_dir("alloc");
    char index[600];
    snprintf(index, sizeof index, "%s/index", dir);
    ctx c;
    ctx_init(&c, dir, index, big);
    if (files)
        make_files(dir);
    /* The previous index: small (it is checked after every failure),
     * only the in-memory documents, one thread. */
    ctx small;
    ctx_init(&small, dir, index, 0);
    small.threads = 1;
    ck_assert_msg(build(&small) == 0, "first build: %s", small.msg);
    ctx_free(&small);
    js_index *ix = NULL;
    ck_assert_int_eq(js_index_open(&ix, index), 0);
    js_index_stats st;
    js_index_get_stats(ix, &st);
    uint64_t prev = st.sections;
    js_index_close(ix);

    c.threads = threads;
    c.files = files;
    unsigned long n;
    int rc = 0;
    for (n = 1; n < MAX_N; n++) {
        arm(n);
        rc = build(&c);
        int hit = disarm();
        if (!hit)
            break;
        if (rc == 0)
            continue; /* done without what failed; published */
        assert_failure(rc, c.msg, "build", n);
        assert_no_leftovers(index, n);
        assert_index(index, prev, n);
    }
    ck_assert_msg(n < MAX_N, "the build never completed");
    ck_assert_msg(rc == 0, "build without failures: %s", c.msg);
    if (big) /* the merge of runs from disk was under test too */
        ck_assert_msg(c.runs > 1, "%u runs spilled", c.runs);
    assert_no_leftovers(index, n);
    fprintf(stderr, "alloc: build (%u thread%s%s%s): %lu allocations failed "
            "in turn (%u runs)\n", threads, threads > 1 ? "s" : "",
            files ? ", files" : "", big ? ", spilling" : "", n - 1, c.runs);
    ctx_free(&c);
    tu_remove_dir(dir);
    free(dir);
}

START_TEST(test_build_memory_1thread) { run_builds(1, 0, 0); }
END_TEST
START_TEST(test_build_files_1thread) { run_builds(1, 1, 0); }
END_TEST
START_TEST(test_build_spill_1thread) { run_builds(1, 0, 1); }
END_TEST
START_TEST(test_build_files_2threads) { run_builds(2, 1, 0); }
END_TEST
START_TEST(test_build_spill_2threads) { run_builds(2, 1, 1); }
END_TEST

/* A built index for the reader's tests. */
static char *reader_dir;
static void reader_setup(void)
{
    reader_dir = tu_temp_dir("allocr");
    char index[600];
    snprintf(index, sizeof index, "%s/index", reader_dir);
    ctx c;
    ctx_init(&c, reader_dir, index, 0);
    make_files(reader_dir);
    c.threads = 1;
    c.files = 1;
    ck_assert_msg(build(&c) == 0, "build: %s", c.msg);
    ctx_free(&c);
}

static void reader_teardown(void)
{
    tu_remove_dir(reader_dir);
    free(reader_dir);
}

START_TEST(test_open)
{
    char index[600];
    snprintf(index, sizeof index, "%s/index", reader_dir);
    unsigned long n;
    for (n = 1; n < MAX_N; n++) {
        arm(n);
        js_index *ix = NULL;
        int rc = js_index_open(&ix, index);
        int hit = disarm();
        if (rc)
            assert_failure(rc, ix ? js_index_errmsg(ix) : "(no handle)",
                           "open", n);
        js_index_close(ix);
        if (!hit) {
            ck_assert_int_eq(rc, 0);
            break;
        }
    }
    fprintf(stderr, "alloc: open: %lu allocations failed in turn\n", n - 1);
}
END_TEST

START_TEST(test_check)
{
    char index[600];
    snprintf(index, sizeof index, "%s/index", reader_dir);
    js_index *ix = NULL;
    ck_assert_int_eq(js_index_open(&ix, index), 0);
    unsigned long n;
    for (n = 1; n < MAX_N; n++) {
        arm(n);
        int rc = js_index_check(ix);
        js_index_stats st;
        int rs = js_index_get_stats(ix, &st);
        int hit = disarm();
        ck_assert_int_eq(rs, 0);
        if (rc)
            assert_failure(rc, js_index_errmsg(ix), "check", n);
        if (!hit) {
            ck_assert_int_eq(rc, 0);
            break;
        }
    }
    js_index_close(ix);
    fprintf(stderr, "alloc: check: %lu allocations failed in turn\n", n - 1);
}
END_TEST

static const struct {
    const char *q;
    unsigned flags;
} queries[] = {
    {"图书馆", 0},
    {"\"春风吹绿\"", 0},
    {"工匠 OR 星空", 0},
    {"图书 -夏夜", 0},
    {"title:手册 (木头 OR 桌子)", 0},
    {"圖書館", JS_SEARCH_EXACT_TOTAL},
    {"图书馆里没有这样的柳树和星星", 0}, /* partial fallback */
    {"xapian backend", JS_SEARCH_NO_SNIPPET},
    {"2023年8月", 0},
};

START_TEST(test_search)
{
    char index[600];
    snprintf(index, sizeof index, "%s/index", reader_dir);
    js_index *ix = NULL;
    ck_assert_int_eq(js_index_open(&ix, index), 0);
    unsigned long total = 0;
    for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
        js_search_options o = JS_SEARCH_OPTIONS_INIT;
        o.flags = queries[i].flags;
        o.limit = 20;
        const char *q = queries[i].q;
        unsigned long n;
        size_t want_hits = 0;
        for (n = 1; n < MAX_N; n++) {
            arm(n);
            js_results *r = NULL;
            int rc = js_search(&r, ix, q, strlen(q), &o);
            size_t hits = 0;
            if (!rc) /* reading every hit touches the lazily made parts */
                for (; js_results_hit(r, hits); hits++)
                    ;
            int hit = disarm();
            if (rc)
                assert_failure(rc, r ? js_results_errmsg(r) : "(no results)",
                               q, n);
            js_results_free(r);
            if (!hit) {
                ck_assert_msg(rc == 0, "%s: %s", q, js_strerror(rc));
                want_hits = hits;
                break;
            }
        }
        ck_assert_msg(want_hits > 0, "%s: no hits", q);
        total += n - 1;
    }
    js_index_close(ix);
    fprintf(stderr, "alloc: search: %lu allocations failed in turn over %zu "
            "queries\n", total, sizeof queries / sizeof *queries);
}
END_TEST

/* ---- a live index's manifest and deletion sets ---- */

/* Builds, writes and reads back a manifest of 20 segments and a deletion
 * set, copies it and writes that.  Returns 0 or the first failure's
 * JS_E* code, with its message in msg (empty for the calls that take
 * no message buffer: new and copy fail only with JS_ENOMEM). */
static int live_ops(const char *dir, char *msg, size_t msglen)
{
    js_manifest *m = NULL, *back = NULL;
    js_deletes *d = NULL, *c = NULL, *r = NULL;
    msg[0] = 0;
    int rc = js_manifest_new(&m);
    for (int i = 0; !rc && i < 20; i++) {
        char name[JS_FILE_NAME_MAX + 1], del[JS_FILE_NAME_MAX + 1];
        js_manifest_new_segment(m, name);
        rc = js_manifest_add_segment(m, name, 100, 10, msg, msglen);
        if (!rc && i % 4 == 0 && !(rc = js_manifest_deletes_name(del, name, 1)))
            rc = js_manifest_set_deletes(m, name, del, 3, msg, msglen);
    }
    if (!rc)
        rc = js_manifest_write(dir, m, msg, msglen);
    if (!rc)
        rc = js_manifest_read(dir, &back, msg, msglen);
    if (!rc && back->nsegments != 20) /* no ck_assert while armed: */
        rc = JS_ECORRUPT;               /* Check allocates too */
    if (!rc && !(rc = js_deletes_new(&d, 1000))) {
        for (uint32_t id = 0; id < 1000; id += 7)
            js_deletes_set(d, id);
        rc = js_deletes_write(dir, "seg-000001.del-1", d, msg, msglen);
    }
    if (!rc)
        rc = js_deletes_read(dir, "seg-000001.del-1", 1000, &r, msg, msglen);
    if (!rc && !(rc = js_deletes_copy(&c, r))) {
        rc = js_deletes_set(c, 1) == 1 ? 0 : JS_ECORRUPT;
        if (!rc)
            rc = js_deletes_write(dir, "seg-000001.del-2", c, msg, msglen);
    }
    js_deletes_free(c);
    js_deletes_free(r);
    js_deletes_free(d);
    js_manifest_free(back);
    js_manifest_free(m);
    return rc;
}

START_TEST(test_live)
{
    char *dir = tu_temp_dir("alloclive");
    char msg[512];
    unsigned long n;
    for (n = 1; n < MAX_N; n++) {
        arm(n);
        int rc = live_ops(dir, msg, sizeof msg);
        int hit = disarm();
        if (rc)
            ck_assert_msg(rc == JS_ENOMEM, "live: allocation %lu failed: "
                          "code %d (%s)", n, rc, msg);
        /* only finished files: never a temporary one */
        DIR *d = opendir(dir);
        struct dirent *de;
        while ((de = readdir(d)))
            ck_assert_msg(!strstr(de->d_name, ".tmp-"), "allocation %lu "
                          "failed: %s left behind", n, de->d_name);
        closedir(d);
        if (!hit) {
            ck_assert_msg(rc == 0, "live: %s", msg);
            break;
        }
    }
    fprintf(stderr, "alloc: live index files: %lu allocations failed in "
            "turn\n", n - 1);
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

/* ---- a live index's writer ---- */

/* One writer session on the live index in dir: replaces r.jsonl's
 * records and m.md, deletes one record, adds a new document, commits,
 * then merges to one segment.  Returns 0 or the first failure's code,
 * message in msg. */
static int writer_ops(const char *dir, const ctx *c, char *msg, size_t len)
{
    js_writer_options o = JS_WRITER_OPTIONS_INIT;
    o.memory_mib = 1;
    o.threads = 1;
    js_writer *w = NULL;
    int rc = js_writer_open(&w, dir, &o);
    if (!rc)
        rc = js_writer_add_memory(w, "r.jsonl", c->js.buf, c->js.len);
    if (!rc)
        rc = js_writer_add_memory(w, "m.md", c->md.buf, c->md.len);
    if (!rc)
        rc = js_writer_delete_id(w, "r3");
    if (!rc)
        rc = js_writer_add_memory(w, "n.md", "# 新\n\n新的一節\n",
                                  strlen("# 新\n\n新的一節\n"));
    if (!rc)
        rc = js_writer_commit(w);
    if (!rc)
        rc = js_writer_merge(w, 1);
    msg[0] = 0;
    if (rc)
        snprintf(msg, len, "%s", w ? js_writer_errmsg(w) : "(no writer)");
    js_writer_close(w);
    return rc;
}

START_TEST(test_writer)
{
    char *dir = tu_temp_dir("allocwriter");
    char index[600];
    snprintf(index, sizeof index, "%s/index", dir);
    ctx c;
    ctx_init(&c, dir, index, 0);
    c.threads = 1;
    ck_assert_msg(build(&c) == 0, "first build: %s", c.msg);
    char msg[1100];
    /* a live index of two generations to start from */
    ck_assert_msg(writer_ops(index, &c, msg, sizeof msg) == 0, "%s", msg);
    js_index *ix = NULL;
    ck_assert_int_eq(js_index_open(&ix, index), 0);
    js_index_stats st;
    js_index_get_stats(ix, &st);
    uint64_t want = st.sections, gen = st.generation;
    js_index_close(ix);
    unsigned long n;
    for (n = 1; n < MAX_N; n++) {
        arm(n);
        int rc = writer_ops(index, &c, msg, sizeof msg);
        int hit = disarm();
        if (rc)
            assert_failure(rc, msg, "writer", n);
        /* whatever failed, the index is a whole generation with the same
         * live sections (each session ends where the last one did) */
        assert_index(index, want, n);
        if (!hit) {
            ck_assert_msg(rc == 0, "writer: %s", msg);
            break;
        }
    }
    ck_assert_int_eq(js_index_open(&ix, index), 0);
    js_index_get_stats(ix, &st);
    ck_assert_uint_gt(st.generation, gen);
    js_index_close(ix);
    fprintf(stderr, "alloc: writer: %lu allocations failed in turn\n", n - 1);
    ctx_free(&c);
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

static Suite *alloc_suite(void)
{
    Suite *s = suite_create("alloc");
    /* one case each, so that CK_RUN_CASE can pick one */
    const struct {
        const char *name;
        const TTest *test;
    } builds[] = {
        {"build1", test_build_memory_1thread},
        {"files1", test_build_files_1thread},
        {"spill1", test_build_spill_1thread},
        {"files2", test_build_files_2threads},
        {"spill2", test_build_spill_2threads},
    };
    TCase *tc;
    for (size_t i = 0; i < sizeof builds / sizeof *builds; i++) {
        tc = tcase_create(builds[i].name);
        tcase_set_timeout(tc, 900);
        tcase_add_test(tc, builds[i].test);
        suite_add_tcase(s, tc);
    }
    tc = tcase_create("read");
    tcase_set_timeout(tc, 900);
    tcase_add_checked_fixture(tc, reader_setup, reader_teardown);
    tcase_add_test(tc, test_open);
    tcase_add_test(tc, test_check);
    tcase_add_test(tc, test_search);
    suite_add_tcase(s, tc);
    tc = tcase_create("live");
    tcase_add_test(tc, test_live);
    suite_add_tcase(s, tc);
    tc = tcase_create("writer");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, test_writer);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(alloc_suite(), 0);
}
