/*
 * check_xapian_writer.c — the live writer of a Xapian index
 * (src/xapian/xapian_writer.h) and the reader's refresh.
 *
 * In:  small documents in memory and in scratch files (Markdown, plain
 *      text, JSON Lines with ids), written into a scratch index by
 *      js_xwriter_* directly (the public js_writer_* dispatch is not
 *      there yet) and by js_xbuild_* for a sharded build.
 * Out: Check results: add then search; the same identity again replaces
 *      it (old text gone, one copy); deletion by id and by path, an
 *      unknown id (JS_ENOTFOUND, the rest still deleted); a JSON Lines
 *      file's records by id; an unreadable new version keeps the old;
 *      a second writer (JS_EBUSY); a 3-shard build updated in place (the
 *      replacement on its identity's shard); update reading only what
 *      changed; refresh moving a reader; close dropping what was not
 *      committed; an index built before live updates refused.  After
 *      every commit, js_xindex_check must pass.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "fields.h"
#include "jiansuo.h"
#include "testutil.h"
#include "xapian_build.h"
#include "xapian_doc.h"
#include "xapian_shim.h"
#include "xapian_writer.h"

/* libxapian's Database::check (js_xindex_check) trips ASan's
 * new_delete_type_mismatch inside libxapian itself (check_backend.c). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "new_delete_type_mismatch=0";
}

/* The key js_writer_delete_path hands the backend: the path made
 * canonical (js_fields_identity). */
static int remove_path(js_xwriter *w, const char *path)
{
    char *k = js_fields_identity(path);
    ck_assert_ptr_nonnull(k);
    int rc = js_xwriter_remove(w, 1, k);
    free(k);
    return rc;
}

static void setup(void) { tu_scratch_make("xwriter"); }

static void teardown(void) { tu_scratch_remove(); }

/* The warnings of the last writer. */
static char warned[4096];
static void on_warn(void *ctx, const char *file, uint64_t line, uint64_t off,
                    const char *msg)
{
    (void)ctx;
    (void)line;
    (void)off;
    size_t n = strlen(warned);
    snprintf(warned + n, sizeof warned - n, "%s: %s\n", file, msg);
}

static js_xwriter *wopen(void)
{
    js_writer_options o = JS_WRITER_OPTIONS_INIT;
    o.backend = JS_BACKEND_XAPIAN;
    o.warn = on_warn;
    warned[0] = 0;
    js_xwriter *w = NULL;
    int rc = js_xwriter_open(&w, tu_scratch_path("idx"), &o);
    ck_assert_msg(rc == 0, "open: %s", js_xwriter_errmsg(w));
    return w;
}

static void add_mem(js_xwriter *w, const char *name, const char *text)
{
    int rc = js_xwriter_add(w, NULL, name, text, strlen(text));
    ck_assert_msg(rc == 0, "add %s: %s", name, js_xwriter_errmsg(w));
}

static void commit(js_xwriter *w)
{
    int rc = js_xwriter_commit(w);
    ck_assert_msg(rc == 0, "commit: %s", js_xwriter_errmsg(w));
}

/* Opens the index, checks it whole and returns the reader. */
static js_xindex *reader(void)
{
    js_xindex *xi = NULL;
    int rc = js_xindex_open(&xi, tu_scratch_path("idx"));
    ck_assert_msg(rc == 0, "open: %s", js_xindex_errmsg(xi));
    rc = js_xindex_check(xi);
    ck_assert_msg(rc == 0, "check: %s", js_xindex_errmsg(xi));
    return xi;
}

/* Strict hits of q on xi; the first hit's body into first (may be NULL). */
static size_t hits_on(js_xindex *xi, const char *q, char *first, size_t cap)
{
    js_search_options o = JS_SEARCH_OPTIONS_INIT;
    o.limit = 100;
    o.flags = JS_SEARCH_NO_PARTIAL | JS_SEARCH_EXACT_TOTAL;
    js_results *r = NULL;
    int rc = js_xindex_search(&r, xi, q, strlen(q), &o);
    ck_assert_msg(rc == 0, "%s: %s", q, js_results_errmsg(r));
    size_t n = js_results_count(r);
    if (first && cap) {
        first[0] = 0;
        if (n)
            snprintf(first, cap, "%s|%s", js_results_hit(r, 0)->source,
                     js_results_hit(r, 0)->id);
    }
    js_results_free(r);
    return n;
}

/* Strict hits of q on a fresh, checked reader. */
static size_t hits(const char *q)
{
    js_xindex *xi = reader();
    size_t n = hits_on(xi, q, NULL, 0);
    js_xindex_close(xi);
    return n;
}

static js_index_stats stats(void)
{
    js_xindex *xi = reader();
    js_index_stats st;
    ck_assert_int_eq(js_xindex_get_stats(xi, &st), 0);
    st.shard = NULL; /* freed with xi */
    st.build_info = NULL;
    js_xindex_close(xi);
    return st;
}

static void put(const char *name, const char *text)
{
    tu_spit(tu_scratch_path(name), (const unsigned char *)text, strlen(text));
}

/* ------------------------------------------------------------------ */

/* One document added, then added again under each identity rule. */
typedef struct replace_case {
    const char *name;       /* the in-memory name */
    const char *v1, *v2;    /* two versions */
    const char *old, *new_; /* a word only in each */
    uint64_t sections;      /* after v2 */
} replace_case;
static const replace_case replace_cases[] = {
    {"a.md", "# 标题\n\n苹果很甜。\n", "# 标题\n\n橙子很酸。\n", "苹果", "橙子", 1},
    {"b.md", "# 书\n\n## 一\n\n苹果。\n\n## 二\n\n苹果。\n", "# 书\n\n橙子。\n",
     "苹果", "橙子", 1},
    {"r.jsonl", "{\"id\":\"k1\",\"title\":\"果\",\"text\":\"苹果\"}\n",
     "{\"id\":\"k1\",\"title\":\"果\",\"text\":\"橙子\"}\n", "苹果", "橙子", 1},
    {"n.jsonl", "{\"title\":\"果\",\"text\":\"苹果\"}\n{\"title\":\"果\",\"text\":\"苹果\"}\n",
     "{\"title\":\"果\",\"text\":\"橙子\"}\n", "苹果", "橙子", 1},
};

START_TEST(test_add_replace)
{
    const replace_case *c = &replace_cases[_i];
    js_xwriter *w = wopen(); /* creates the index */
    add_mem(w, c->name, c->v1);
    ck_assert_uint_eq(hits(c->old), 0); /* nothing before the commit */
    commit(w);
    ck_assert_uint_ge(hits(c->old), 1);
    add_mem(w, c->name, c->v2);
    commit(w);
    ck_assert_uint_eq(hits(c->old), 0);
    ck_assert_uint_eq(hits(c->new_), 1);
    js_writer_stats ws;
    js_xwriter_get_stats(w, &ws);
    ck_assert_uint_eq(ws.replaced, 1);
    ck_assert_uint_eq(ws.generation, 2);
    js_xwriter_close(w);
    js_index_stats st = stats();
    ck_assert_uint_eq(st.sections, c->sections);
    ck_assert_uint_eq(st.documents, 1);
}
END_TEST

START_TEST(test_delete)
{
    js_xwriter *w = wopen();
    add_mem(w, "recs.jsonl",
            "{\"id\":\"r1\",\"title\":\"一\",\"text\":\"河水\"}\n"
            "{\"id\":\"r2\",\"title\":\"二\",\"text\":\"河边\"}\n"
            "{\"id\":\"r3\",\"title\":\"三\",\"text\":\"河流\"}\n");
    add_mem(w, "b.md", "# 山\n\n山林。\n");
    commit(w);
    ck_assert_uint_eq(hits("河"), 3);
    ck_assert_int_eq(js_xwriter_remove(w, 0, "r1"), 0);
    ck_assert_int_eq(js_xwriter_remove(w, 0, "nope"), JS_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(js_xwriter_errmsg(w), "nope"));
    ck_assert_int_eq(js_xwriter_remove(w, 0, "r2"), 0); /* still usable */
    commit(w);
    char first[256];
    js_xindex *xi = reader();
    ck_assert_uint_eq(hits_on(xi, "河", first, sizeof first), 1);
    ck_assert_str_eq(first, "recs.jsonl|r3");
    js_xindex_close(xi);
    /* by path: the file's remaining record, and the Markdown file */
    ck_assert_int_eq(remove_path(w, "recs.jsonl"), 0);
    ck_assert_int_eq(remove_path(w, "b.md"), 0);
    ck_assert_int_eq(remove_path(w, "b.md"), JS_ENOTFOUND);
    ck_assert_int_eq(js_xwriter_remove(w, 0, ""), JS_EINVALID);
    commit(w);
    js_writer_stats ws;
    js_xwriter_get_stats(w, &ws);
    ck_assert_uint_eq(ws.deleted, 4);
    ck_assert_uint_eq(ws.sections_deleted, 4);
    js_xwriter_close(w);
    js_index_stats st = stats();
    ck_assert_uint_eq(st.sections, 0);
    ck_assert_uint_eq(st.documents, 0);
    ck_assert_uint_eq(st.postings, 0);
    ck_assert_uint_eq(st.total_length, 0);
}
END_TEST

START_TEST(test_jsonl_file)
{
    ck_assert_int_eq(mkdir(tu_scratch_path("docs"), 0755), 0);
    put("docs/r.jsonl", "{\"id\":\"r1\",\"title\":\"甲\",\"text\":\"苹果\"}\n"
                        "{\"id\":\"r2\",\"title\":\"乙\",\"text\":\"香蕉\"}\n");
    js_xwriter *w = wopen();
    ck_assert_int_eq(js_xwriter_add(w, tu_scratch_path("docs"), NULL, NULL, 0), 0);
    commit(w);
    ck_assert_uint_eq(hits("苹果"), 1);
    /* r1 changed, r2 gone from the file, r3 new */
    put("docs/r.jsonl", "{\"id\":\"r1\",\"title\":\"甲\",\"text\":\"橙子\"}\n"
                        "{\"id\":\"r3\",\"title\":\"丙\",\"text\":\"葡萄\"}\n");
    ck_assert_int_eq(js_xwriter_add(w, tu_scratch_path("docs/r.jsonl"), NULL, NULL, 0), 0);
    commit(w);
    js_writer_stats ws;
    js_xwriter_get_stats(w, &ws);
    ck_assert_uint_eq(ws.added, 3);    /* r1, r2; then r3 */
    ck_assert_uint_eq(ws.replaced, 1); /* r1 */
    ck_assert_uint_eq(ws.deleted, 1);  /* r2, gone from the file */
    js_xwriter_close(w);
    ck_assert_uint_eq(hits("苹果"), 0);
    ck_assert_uint_eq(hits("香蕉"), 0);
    ck_assert_uint_eq(hits("橙子"), 1);
    ck_assert_uint_eq(hits("葡萄"), 1);
    ck_assert_uint_eq(stats().documents, 2);
}
END_TEST

START_TEST(test_unreadable_keeps_old)
{
    ck_assert_int_eq(mkdir(tu_scratch_path("docs"), 0755), 0);
    put("docs/a.txt", "旧的内容在这里。\n");
    js_xwriter *w = wopen();
    ck_assert_int_eq(js_xwriter_add(w, tu_scratch_path("docs"), NULL, NULL, 0), 0);
    commit(w);
    /* the new version is a binary file: ingest skips it */
    tu_spit(tu_scratch_path("docs/a.txt"), (const unsigned char *)"新\0的", 7);
    ck_assert_int_eq(js_xwriter_add(w, tu_scratch_path("docs"), NULL, NULL, 0), 0);
    ck_assert_ptr_nonnull(strstr(warned, "indexed version is kept"));
    js_writer_stats ws;
    js_xwriter_get_stats(w, &ws);
    ck_assert_uint_eq(ws.kept, 1);
    ck_assert_uint_eq(ws.replaced, 0);
    commit(w);
    js_xwriter_close(w);
    ck_assert_uint_eq(hits("旧的"), 1);
    /* from memory alike */
    w = wopen();
    add_mem(w, "m.txt", "原来的文字\n");
    ck_assert_int_eq(js_xwriter_add(w, NULL, "m.txt", "x\0y", 3), 0);
    js_xwriter_get_stats(w, &ws);
    ck_assert_uint_eq(ws.kept, 1);
    commit(w);
    js_xwriter_close(w);
    ck_assert_uint_eq(hits("原来"), 1);
}
END_TEST

START_TEST(test_busy)
{
    js_xwriter *w = wopen();
    js_writer_options o = JS_WRITER_OPTIONS_INIT;
    o.backend = JS_BACKEND_XAPIAN;
    js_xwriter *w2 = NULL;
    ck_assert_int_eq(js_xwriter_open(&w2, tu_scratch_path("idx"), &o), JS_EBUSY);
    ck_assert_ptr_nonnull(strstr(js_xwriter_errmsg(w2), "locked by process"));
    ck_assert_int_eq(js_xwriter_add(w2, NULL, "a.md", "x", 1), JS_EBUSY);
    js_xwriter_close(w2);
    /* a build is a writer too */
    js_xbuild *b = NULL;
    ck_assert_int_eq(js_xbuild_open(&b, tu_scratch_path("idx"), NULL, 1), JS_EBUSY);
    js_xbuild_close(b);
    js_xwriter_close(w);
    /* released */
    w = wopen();
    js_xwriter_close(w);
}
END_TEST

START_TEST(test_open_errors)
{
    /* AUTO on an empty directory: no Xapian index to write */
    js_writer_options o = JS_WRITER_OPTIONS_INIT;
    js_xwriter *w = NULL;
    ck_assert_int_eq(js_xwriter_open(&w, tu_scratch_path("idx"), &o), JS_ENOTFOUND);
    js_xwriter_close(w);
    /* built before live updates: refused */
    js_xbuild *b = NULL;
    ck_assert_int_eq(js_xbuild_open(&b, tu_scratch_path("idx"), NULL, 2), 0);
    ck_assert_int_eq(js_xbuild_add(b, NULL, "a.md", "# 一\n\n山\n", 10), 0);
    ck_assert_int_eq(js_xbuild_commit(b), 0);
    js_xbuild_close(b);
    size_t n;
    unsigned char *info = tu_slurp(tu_scratch_path("idx/xapian/info.json"), &n);
    char *p = strstr((char *)info, "\"placement\"");
    ck_assert_ptr_nonnull(p);
    memcpy(p, "\"placemenX\"", 11);
    tu_spit(tu_scratch_path("idx/xapian/info.json"), info, n);
    free(info);
    o.backend = JS_BACKEND_XAPIAN;
    ck_assert_int_eq(js_xwriter_open(&w, tu_scratch_path("idx"), &o), JS_EINVALID);
    ck_assert_ptr_nonnull(strstr(js_xwriter_errmsg(w), "built before live updates; "
                                 "rebuild with jiansuo index --backend xapian"));
    js_xwriter_close(w);
    js_xwriter_close(NULL);
}
END_TEST

START_TEST(test_close_drops)
{
    js_xwriter *w = wopen();
    add_mem(w, "a.md", "# 一\n\n保留的文字\n");
    commit(w);
    add_mem(w, "a.md", "# 一\n\n丢弃的文字\n");
    add_mem(w, "b.md", "# 二\n\n丢弃的文字\n");
    ck_assert_int_eq(remove_path(w, "a.md"), 0);
    js_xwriter_close(w); /* no commit */
    ck_assert_uint_eq(hits("保留"), 1);
    ck_assert_uint_eq(hits("丢弃"), 0);
    js_index_stats st = stats();
    ck_assert_uint_eq(st.sections, 1);
    /* and the next writer goes on from the last commit */
    w = wopen();
    add_mem(w, "c.md", "# 三\n\n新的文字\n");
    commit(w);
    js_xwriter_close(w);
    ck_assert_uint_eq(stats().sections, 2);
}
END_TEST

/* Six files in docs/, built into 3 shards; one changed file updated in
 * place must land on its identity's shard, alone. */
START_TEST(test_sharded_update)
{
    ck_assert_int_eq(mkdir(tu_scratch_path("docs"), 0755), 0);
    static const char *const words[] = {"苹果", "香蕉", "橙子", "葡萄", "西瓜", "草莓"};
    for (int i = 0; i < 6; i++) {
        char name[32], text[128];
        snprintf(name, sizeof name, "docs/f%d.md", i);
        snprintf(text, sizeof text, "# 第%d篇\n\n%s很好吃。\n\n## 又\n\n%s。\n", i,
                 words[i], words[i]);
        put(name, text);
    }
    js_xbuild *b = NULL;
    ck_assert_int_eq(js_xbuild_open(&b, tu_scratch_path("idx"), NULL, 3), 0);
    ck_assert_int_eq(js_xbuild_add(b, tu_scratch_path("docs"), NULL, NULL, 0), 0);
    ck_assert_int_eq(js_xbuild_commit(b), 0);
    js_xbuild_close(b);
    js_index_stats before = stats();
    ck_assert_uint_eq(before.sections, 12);
    /* f2 changes: 橙子 -> 柠檬, one section more */
    put("docs/f2.md", "# 第2篇\n\n柠檬很酸。\n\n## 又\n\n柠檬。\n\n## 再\n\n柠檬。\n");
    js_xwriter *w = wopen();
    ck_assert_int_eq(js_xwriter_update(w, tu_scratch_path("docs")), 0);
    js_writer_stats ws;
    js_xwriter_get_stats(w, &ws);
    ck_assert_uint_eq(ws.unchanged, 5);
    ck_assert_uint_eq(ws.replaced, 1);
    ck_assert_uint_eq(ws.ingest.files, 1);
    commit(w);
    js_xwriter_close(w);
    ck_assert_uint_eq(hits("橙子"), 0);
    ck_assert_uint_eq(hits("柠檬"), 3);
    ck_assert_uint_eq(hits("苹果"), 2);
    /* f2's three sections all on the shard of its canonical path */
    char *canon = realpath(tu_scratch_path("docs/f2.md"), NULL);
    ck_assert_ptr_nonnull(canon);
    unsigned want = js_xdoc_shard('p', canon, strlen(canon), 3);
    free(canon);
    js_index_stats after;
    js_xindex *xi = reader();
    ck_assert_int_eq(js_xindex_get_stats(xi, &after), 0);
    ck_assert_uint_eq(after.sections, 13);
    ck_assert_uint_eq(after.shard[0].sections + after.shard[1].sections +
                          after.shard[2].sections, 13);
    js_xindex_close(xi);
    for (unsigned k = 0; k < 3; k++) {
        char path[600];
        snprintf(path, sizeof path, "%s/xapian/shard-%u", tu_scratch_path("idx"), k);
        js_xsource src = {path, 0};
        js_xdb *db = NULL;
        ck_assert_int_eq(js_xdb_open(&db, &src, 1, 0), 0);
        js_xq *q = NULL;
        ck_assert_int_eq(js_xq_term(&q, "柠檬", strlen("柠檬"), 0), 0);
        js_xsearch p = JS_XSEARCH_INIT;
        js_xmset *m = NULL;
        ck_assert_int_eq(js_xdb_search(db, q, &p, &m), 0);
        ck_assert_uint_eq(js_xmset_size(m), k == want ? 3 : 0);
        js_xmset_close(m);
        js_xq_close(q);
        js_xdb_close(db);
    }
}
END_TEST

START_TEST(test_update_reads_only_changes)
{
    ck_assert_int_eq(mkdir(tu_scratch_path("docs"), 0755), 0);
    ck_assert_int_eq(mkdir(tu_scratch_path("docs/sub"), 0755), 0);
    put("docs/a.md", "# 甲\n\n苹果。\n");
    put("docs/b.md", "# 乙\n\n香蕉。\n");
    put("docs/sub/c.txt", "橙子。\n");
    put("docs/.hidden.txt", "葡萄。\n");
    js_xwriter *w = wopen();
    ck_assert_int_eq(js_xwriter_add(w, tu_scratch_path("docs"), NULL, NULL, 0), 0);
    commit(w);
    js_xwriter_close(w);
    ck_assert_uint_eq(hits("葡萄"), 0); /* hidden: not walked */
    static const struct {
        const char *step;
        uint64_t unchanged, files_read, replaced, added, deleted;
    } steps[] = {
        {"nothing", 3, 0, 0, 0, 0},
        {"touch", 3, 0, 0, 0, 0},     /* new time, same bytes: hashed only */
        {"change", 2, 1, 1, 0, 0},    /* b.md */
        {"new", 3, 1, 0, 1, 0},       /* d.md */
        {"remove", 3, 0, 0, 0, 1},    /* sub/c.txt */
    };
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        const char *s = steps[i].step;
        if (!strcmp(s, "touch")) {
            struct timespec t[2] = {{0, UTIME_NOW}, {12345, 0}};
            ck_assert_int_eq(utimensat(AT_FDCWD, tu_scratch_path("docs/a.md"), t, 0), 0);
        } else if (!strcmp(s, "change")) {
            put("docs/b.md", "# 乙\n\n西瓜和草莓。\n");
        } else if (!strcmp(s, "new")) {
            put("docs/d.md", "# 丁\n\n柠檬。\n");
        } else if (!strcmp(s, "remove")) {
            ck_assert_int_eq(unlink(tu_scratch_path("docs/sub/c.txt")), 0);
        }
        w = wopen();
        ck_assert_int_eq(js_xwriter_update(w, tu_scratch_path("docs")), 0);
        js_writer_stats ws;
        js_xwriter_get_stats(w, &ws);
        ck_assert_msg(ws.unchanged == steps[i].unchanged &&
                          ws.ingest.files == steps[i].files_read &&
                          ws.replaced == steps[i].replaced &&
                          ws.added == steps[i].added && ws.deleted == steps[i].deleted,
                      "%s: unchanged %llu read %llu replaced %llu added %llu "
                      "deleted %llu", s, (unsigned long long)ws.unchanged,
                      (unsigned long long)ws.ingest.files,
                      (unsigned long long)ws.replaced, (unsigned long long)ws.added,
                      (unsigned long long)ws.deleted);
        commit(w);
        js_xwriter_close(w);
    }
    ck_assert_uint_eq(hits("香蕉"), 0);
    ck_assert_uint_eq(hits("西瓜"), 1);
    ck_assert_uint_eq(hits("柠檬"), 1);
    ck_assert_uint_eq(hits("橙子"), 0);
    ck_assert_uint_eq(hits("苹果"), 1);
    ck_assert_uint_eq(stats().documents, 3);
    /* a tree that is gone: its documents go; a path never indexed */
    w = wopen();
    ck_assert_int_eq(js_xwriter_update(w, tu_scratch_path("nothing/here")),
                     JS_ENOTFOUND);
    put("docs/sub/e.md", "# 戊\n\n芒果。\n");
    ck_assert_int_eq(js_xwriter_add(w, tu_scratch_path("docs/sub"), NULL, NULL, 0), 0);
    commit(w);
    ck_assert_uint_eq(hits("芒果"), 1);
    ck_assert_int_eq(unlink(tu_scratch_path("docs/sub/e.md")), 0);
    ck_assert_int_eq(rmdir(tu_scratch_path("docs/sub")), 0);
    ck_assert_int_eq(js_xwriter_update(w, tu_scratch_path("docs/sub")), 0);
    commit(w);
    js_xwriter_close(w);
    ck_assert_uint_eq(hits("芒果"), 0);
    ck_assert_uint_eq(hits("苹果"), 1);
}
END_TEST

START_TEST(test_refresh)
{
    js_xwriter *w = wopen();
    add_mem(w, "a.md", "# 一\n\n第一版。\n");
    commit(w);
    js_xindex *xi = reader();
    ck_assert_int_eq(js_xindex_refresh(xi), 0); /* already the newest */
    js_index_stats st;
    ck_assert_int_eq(js_xindex_get_stats(xi, &st), 0);
    const js_index_shard *old_shard = st.shard;
    ck_assert_uint_eq(hits_on(xi, "第一版", NULL, 0), 1);
    add_mem(w, "a.md", "# 一\n\n第二版。\n");
    add_mem(w, "b.md", "# 二\n\n第二版。\n");
    ck_assert_int_eq(js_xindex_refresh(xi), 0); /* nothing committed yet */
    commit(w);
    ck_assert_uint_eq(hits_on(xi, "第二版", NULL, 0), 0); /* its snapshot */
    ck_assert_int_eq(js_xindex_refresh(xi), 1);
    ck_assert_uint_eq(hits_on(xi, "第二版", NULL, 0), 2);
    ck_assert_uint_eq(hits_on(xi, "第一版", NULL, 0), 0);
    ck_assert_int_eq(js_xindex_get_stats(xi, &st), 0);
    ck_assert_uint_eq(st.sections, 2);
    ck_assert_uint_eq(old_shard[0].sections, 1); /* still readable */
    ck_assert_int_eq(js_xindex_refresh(xi), 0);
    /* several commits behind */
    for (int i = 0; i < 3; i++) {
        char text[64];
        snprintf(text, sizeof text, "# 三\n\n第%d次。\n", i);
        add_mem(w, "c.md", text);
        commit(w);
    }
    /* a search on the stale snapshot still answers (glass may have
     * reused its blocks: the handle then reopens, xapian_build.c) */
    ck_assert_uint_eq(hits_on(xi, "第二版", NULL, 0), 2);
    ck_assert_int_eq(js_xindex_refresh(xi), 1);
    ck_assert_uint_eq(hits_on(xi, "第2次", NULL, 0), 1);
    ck_assert_int_eq(js_xindex_check(xi), 0);
    js_xindex_close(xi);
    js_xwriter_close(w);
    ck_assert_int_eq(js_xindex_refresh(NULL), JS_EINVALID);
}
END_TEST

/* The operations table is made of the functions above. */
START_TEST(test_ops_table)
{
    const js_writer_ops *ops = &js_xapian_writer_ops;
    ck_assert_int_eq(ops->backend, JS_BACKEND_XAPIAN);
    js_writer_options o = JS_WRITER_OPTIONS_INIT;
    o.backend = JS_BACKEND_XAPIAN;
    void *be = NULL;
    ck_assert_int_eq(ops->open(&be, tu_scratch_path("idx"), &o), 0);
    ck_assert_int_eq(ops->add(be, NULL, "a.md", "# 一\n\n山水\n", 13), 0);
    ck_assert_int_eq(ops->merge(be, 1), 0);
    ck_assert_int_eq(ops->remove(be, 0, "none"), JS_ENOTFOUND);
    ck_assert_str_ne(ops->errmsg(be), "");
    js_writer_stats ws;
    ops->get_stats(be, &ws);
    ck_assert_uint_eq(ws.added, 1);
    ck_assert_uint_eq(ws.generation, 1);
    ops->close(be);
    ck_assert_uint_eq(hits("山水"), 1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xapian_writer");
    TCase *tc = tcase_create("writer");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_add_replace, 0,
                        (int)(sizeof replace_cases / sizeof *replace_cases));
    tcase_add_test(tc, test_delete);
    tcase_add_test(tc, test_jsonl_file);
    tcase_add_test(tc, test_unreadable_keeps_old);
    tcase_add_test(tc, test_busy);
    tcase_add_test(tc, test_open_errors);
    tcase_add_test(tc, test_close_drops);
    tcase_add_test(tc, test_sharded_update);
    tcase_add_test(tc, test_update_reads_only_changes);
    tcase_add_test(tc, test_refresh);
    tcase_add_test(tc, test_ops_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(suite(), 0); }
