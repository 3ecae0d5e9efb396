/*
 * check_xapian_build.c — the Xapian backend's writer and statistics
 * (src/xapian/xapian_build.h).
 *
 * In:  small documents in memory (Markdown with headings, JSON Lines with
 *      metadata), built into a scratch index directory with 1 to 3
 *      shards.
 * Out: Check results: the directory layout and atomic replacement, the
 *      placement (a document's sections on the shard of its identity,
 *      each shard's docids without holes, every section's data naming
 *      it), the field rules (heading terms prefixed with 0x01, title
 *      then headings at +2), js_xindex statistics and their errors
 *      (missing, malformed, newer, inconsistent info.json), and the
 *      builder's own errors (bad shard count, a second build).
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "jiansuo.h"
#include "testutil.h"
#include "xapian_build.h"
#include "xapian_doc.h"
#include "xapian_shim.h"

static void setup(void) { tu_scratch_make("xbuild"); }

static void teardown(void) { tu_scratch_remove(); }

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* Three documents, five sections: manual.md gives 3 (the text under the
 * title heading, 安装, 课程), records.jsonl one per record. */
static const char manual[] =
    "# 工匠學院\n\n"
    "這是一份關於工匠的文件。\n\n"
    "## 安裝\n\n"
    "先下載套件，再執行安裝程式。\n\n"
    "## 課程\n\n"
    "學院提供木工與金工課程。\n";
static const char records[] =
    "{\"id\":\"r1\",\"title\":\"河流\",\"text\":\"河水很乾淨，工人在河邊休息。\",\"lang\":\"zh\"}\n"
    "{\"id\":\"r2\",\"title\":\"山林\",\"text\":\"山上的樹林很茂密。\"}\n";

/* Builds manual.md and records.jsonl into dir "idx" with `shards`
 * shards; returns the number of sections. */
static uint64_t build(unsigned shards)
{
    js_xbuild *b = NULL;
    int rc = js_xbuild_open(&b, tu_scratch_path("idx"), NULL, shards);
    ck_assert_msg(rc == 0, "open: %s", js_xbuild_errmsg(b));
    ck_assert_int_eq(js_xbuild_add(b, NULL, "manual.md", manual, strlen(manual)), 0);
    ck_assert_int_eq(js_xbuild_add(b, NULL, "records.jsonl", records, strlen(records)), 0);
    rc = js_xbuild_commit(b);
    ck_assert_msg(rc == 0, "commit: %s", js_xbuild_errmsg(b));
    js_build_stats st;
    js_xbuild_get_stats(b, &st);
    js_xbuild_close(b);
    ck_assert_uint_eq(st.ingest.documents, 3);
    ck_assert_uint_gt(st.terms, 20);
    ck_assert_uint_ge(st.positions, st.postings);
    ck_assert_uint_gt(st.index_bytes, 0);
    return st.ingest.sections;
}

/* Opens every shard of idx, in order, as one database. */
static js_xdb *open_shards(unsigned shards)
{
    js_xsource src[4];
    char names[4][600];
    for (unsigned i = 0; i < shards; i++) {
        snprintf(names[i], sizeof names[i], "%s/xapian/shard-%u", tu_scratch_path("idx"), i);
        src[i] = (js_xsource){names[i], 0};
    }
    js_xdb *db = NULL;
    int rc = js_xdb_open(&db, src, shards, 0);
    ck_assert_msg(rc == 0, "%s", js_xdb_errmsg(db));
    return db;
}

/* Runs a query; returns the number of hits, and for each hit checks that
 * its data is a JSON object naming a section; marks seen[]. */
static size_t run(js_xdb *db, js_xq *q, int *seen, size_t nseen)
{
    js_xsearch p = JS_XSEARCH_INIT;
    p.count = 100;
    js_xmset *m = NULL;
    int rc = js_xdb_search(db, q, &p, &m);
    ck_assert_msg(rc == 0, "%s", js_xdb_errmsg(db));
    size_t n = js_xmset_size(m);
    for (size_t i = 0; i < n; i++) {
        js_xhit h;
        ck_assert_int_eq(js_xmset_hit(m, i, &h), 0);
        json_error_t je;
        json_t *o = json_loadb(h.data, h.data_len, 0, &je);
        ck_assert_msg(o != NULL, "data is not JSON: %s", je.text);
        json_int_t sec = json_integer_value(json_object_get(o, "section"));
        ck_assert(json_is_integer(json_object_get(o, "section")));
        ck_assert_int_ge(sec, 0);
        ck_assert(json_is_string(json_object_get(o, "body")));
        ck_assert(json_is_array(json_object_get(o, "path")));
        if (seen && (size_t)sec < nseen)
            seen[sec] = 1;
        json_decref(o);
    }
    js_xmset_close(m);
    return n;
}

static js_xq *term(const char *t, int heading)
{
    char buf[64];
    size_t n = 0;
    if (heading)
        buf[n++] = 1;
    memcpy(buf + n, t, strlen(t));
    n += strlen(t);
    js_xq *q = NULL;
    ck_assert_int_eq(js_xq_term(&q, buf, n, 0), 0);
    return q;
}

START_TEST(test_docid_mapping)
{
    /* _i: the number of shards, 1 to 3 */
    unsigned shards = (unsigned)_i;
    uint64_t n = build(shards);
    ck_assert_uint_eq(n, 5);
    ck_assert(exists(tu_scratch_path("idx/xapian/info.json")));
    for (unsigned i = 0; i < shards; i++) {
        char name[64];
        snprintf(name, sizeof name, "idx/xapian/shard-%u", i);
        ck_assert(exists(tu_scratch_path(name)));
    }
    /* Placement by identity: manual.md's three sections on one shard,
     * each record on its id's; every shard's docids without holes. */
    unsigned want[3] = {0};
    want[js_xdoc_shard('p', "manual.md", 9, shards)] += 3;
    want[js_xdoc_shard('i', "r1", 2, shards)]++;
    want[js_xdoc_shard('i', "r2", 2, shards)]++;
    for (unsigned i = 0; i < shards; i++) {
        char name[600];
        snprintf(name, sizeof name, "%s/xapian/shard-%u", tu_scratch_path("idx"), i);
        js_xsource one = {name, 0};
        js_xdb *d1 = NULL;
        js_xdb_stats s1;
        ck_assert_int_eq(js_xdb_open(&d1, &one, 1, 0), 0);
        ck_assert_int_eq(js_xdb_get_stats(d1, 0, &s1), 0);
        ck_assert_uint_eq(s1.doccount, want[i]);
        ck_assert_uint_eq(s1.lastdocid, want[i]);
        js_xdb_close(d1);
    }
    js_xdb *db = open_shards(shards);
    js_xdb_stats st;
    ck_assert_int_eq(js_xdb_get_stats(db, 0, &st), 0);
    ck_assert_uint_eq(st.doccount, 5);
    /* Every section, found by its title's heading terms. */
    js_xq *t[3] = {term("工匠", 1), term("河流", 1), term("山林", 1)};
    js_xq *all = NULL;
    ck_assert_int_eq(js_xq_combine(&all, JS_XQ_OR, (const js_xq *const *)t, 3), 0);
    int seen[5] = {0};
    ck_assert_uint_eq(run(db, all, seen, 5), 5);
    for (int i = 0; i < 5; i++)
        ck_assert_msg(seen[i], "section %d not found", i);
    js_xq_close(all);
    for (int i = 0; i < 3; i++)
        js_xq_close(t[i]);
    js_xdb_close(db);
}
END_TEST

START_TEST(test_fields)
{
    build(2);
    js_xdb *db = open_shards(2);
    /* Title terms are in every section of the document, prefixed. */
    js_xq *q = term("学院", 1);
    ck_assert_uint_eq(run(db, q, NULL, 0), 3);
    js_xq_close(q);
    /* A heading of the path only in its own section. */
    q = term("安装", 1);
    int seen[5] = {0};
    ck_assert_uint_eq(run(db, q, seen, 5), 1);
    ck_assert(seen[1]);
    js_xq_close(q);
    /* Body terms are unprefixed: 安装 is also in section 1's body
     * (安装程式), and the title's 学院 in section 2's body. */
    q = term("安装", 0);
    ck_assert_uint_eq(run(db, q, NULL, 0), 1);
    js_xq_close(q);
    q = term("学院", 0);
    ck_assert_uint_eq(run(db, q, NULL, 0), 1);
    js_xq_close(q);
    /* Heading positions: title 工匠学院 at 0..3, then 课程 from 5. */
    const char *tt[] = {"\001院", "\001课"};
    size_t lens[] = {strlen(tt[0]), strlen(tt[1])};
    uint32_t adjacent[] = {0, 1}, apart[] = {0, 2};
    ck_assert_int_eq(js_xq_phrase(&q, tt, lens, adjacent, 2), 0);
    ck_assert_uint_eq(run(db, q, NULL, 0), 0);
    js_xq_close(q);
    ck_assert_int_eq(js_xq_phrase(&q, tt, lens, apart, 2), 0);
    ck_assert_uint_eq(run(db, q, NULL, 0), 1);
    js_xq_close(q);
    /* A body phrase, and its characters apart. */
    const char *bt[] = {"木工", "工与", "与金", "金工"};
    size_t bl[] = {6, 6, 6, 6};
    uint32_t rel[] = {0, 1, 2, 3};
    ck_assert_int_eq(js_xq_phrase(&q, bt, bl, rel, 4), 0);
    ck_assert_uint_eq(run(db, q, NULL, 0), 1);
    js_xq_close(q);
    const char *ct[] = {"工", "人", "休"};
    size_t cl[] = {3, 3, 3};
    uint32_t crel[] = {0, 1, 2};
    ck_assert_int_eq(js_xq_phrase(&q, ct, cl, crel, 3), 0);
    ck_assert_uint_eq(run(db, q, NULL, 0), 0);
    js_xq_close(q);
    /* The JSON Lines record keeps its id and metadata. */
    q = term("河水", 0);
    js_xsearch p = JS_XSEARCH_INIT;
    js_xmset *m = NULL;
    ck_assert_int_eq(js_xdb_search(db, q, &p, &m), 0);
    ck_assert_uint_eq(js_xmset_size(m), 1);
    js_xhit h;
    ck_assert_int_eq(js_xmset_hit(m, 0, &h), 0);
    json_t *o = json_loadb(h.data, h.data_len, 0, NULL);
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(json_string_value(json_object_get(o, "id")), "r1");
    ck_assert_str_eq(json_string_value(json_object_get(o, "format")), "jsonl");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(o, "metadata"), "lang")), "zh");
    ck_assert_str_eq(json_string_value(json_object_get(o, "body")),
                     "河水很乾淨，工人在河邊休息。");
    json_decref(o);
    js_xmset_close(m);
    js_xq_close(q);
    js_xdb_close(db);
}
END_TEST

/* Returns 1 when idx holds a build's temporary or swapped-out directory. */
static int leftovers(void)
{
    DIR *d = opendir(tu_scratch_path("idx"));
    ck_assert_ptr_nonnull(d);
    int found = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (!strncmp(de->d_name, "xapian.tmp-", 11) ||
            !strncmp(de->d_name, "xapian.old-", 11))
            found = 1;
    closedir(d);
    return found;
}

START_TEST(test_replace_and_abandon)
{
    build(3);
    build(1); /* replaces the 3-shard index */
    ck_assert(!exists(tu_scratch_path("idx/xapian/shard-1")));
    ck_assert(!leftovers());
    /* A build that is never committed leaves the index as it was. */
    js_xbuild *b = NULL;
    ck_assert_int_eq(js_xbuild_open(&b, tu_scratch_path("idx"), NULL, 2), 0);
    ck_assert_int_eq(js_xbuild_add(b, NULL, "x.md", "# 新\n\n新的内容", 17), 0);
    ck_assert(leftovers()); /* its temporary directory, until closed */
    /* A second build of the same directory is refused meanwhile. */
    js_xbuild *b2 = NULL;
    ck_assert_int_eq(js_xbuild_open(&b2, tu_scratch_path("idx"), NULL, 1), JS_EBUSY);
    ck_assert_ptr_nonnull(strstr(js_xbuild_errmsg(b2), "another jiansuo writer"));
    js_xbuild_close(b2);
    js_xbuild_close(b);
    ck_assert(!leftovers());
    js_xindex *xi = NULL;
    ck_assert_int_eq(js_xindex_open(&xi, tu_scratch_path("idx")), 0);
    js_index_stats st;
    ck_assert_int_eq(js_xindex_get_stats(xi, &st), 0);
    ck_assert_uint_eq(st.shards, 1);
    ck_assert_uint_eq(st.sections, 5);
    js_xindex_close(xi);
    /* A missing path keeps the build alive; a bad shard count does not
     * start one. */
    ck_assert_int_eq(js_xbuild_open(&b, tu_scratch_path("idx"), NULL, 1), 0);
    ck_assert_int_eq(js_xbuild_add(b, tu_scratch_path("no/such/file"), NULL, NULL, 0), JS_ENOTFOUND);
    ck_assert_str_ne(js_xbuild_errmsg(b), "");
    js_xbuild_close(b);
    ck_assert_int_eq(js_xbuild_open(&b, tu_scratch_path("idx"), NULL, 0), JS_EINVALID);
    ck_assert_ptr_nonnull(strstr(js_xbuild_errmsg(b), "shards"));
    js_xbuild_close(b);
    ck_assert_int_eq(js_xbuild_open(&b, NULL, NULL, 1), JS_EINVALID);
    js_xbuild_close(NULL);
}
END_TEST

START_TEST(test_stats)
{
    build(2);
    ck_assert(js_backend_detect_xapian(tu_scratch_path("idx")));
    js_xindex *xi = NULL;
    ck_assert_int_eq(js_xindex_open(&xi, tu_scratch_path("idx")), 0);
    js_index_stats st;
    ck_assert_int_eq(js_xindex_get_stats(xi, &st), 0);
    ck_assert_uint_eq(st.format_version, JS_XAPIAN_FORMAT_VERSION);
    ck_assert_uint_eq(st.shards, 2);
    ck_assert_uint_eq(st.documents, 3);
    ck_assert_uint_eq(st.sections, 5);
    /* by identity (xapian_doc.h): manual.md's 3 together, a record each */
    uint64_t want[2] = {0};
    want[js_xdoc_shard('p', "manual.md", 9, 2)] += 3;
    want[js_xdoc_shard('i', "r1", 2, 2)]++;
    want[js_xdoc_shard('i', "r2", 2, 2)]++;
    ck_assert_uint_eq(st.shard[0].sections, want[0]);
    ck_assert_uint_eq(st.shard[1].sections, want[1]);
    ck_assert_uint_eq(st.shard[0].total_length + st.shard[1].total_length,
                      st.total_length);
    ck_assert_uint_eq(st.total_length, st.positions); /* wdf = occurrences */
    ck_assert_uint_gt(st.file_bytes, st.shard[0].bytes + st.shard[1].bytes);
    ck_assert_ptr_nonnull(strstr(st.build_info, "\"xapian\""));
    ck_assert_str_eq(js_xindex_errmsg(xi), "");
    js_xindex_close(xi);
    /* A native index next to it takes precedence. */
    FILE *f = fopen(tu_scratch_path("idx/index.jsi"), "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert(!js_backend_detect_xapian(tu_scratch_path("idx")));
    ck_assert(!js_backend_detect_xapian(tu_scratch_path("none")));
    js_xindex_close(NULL);
}
END_TEST

/* info.json rewritten as `text` must give rc and a message holding want. */
static const struct {
    const char *text;
    int rc;
    const char *want;
} info_cases[] = {
    {NULL, JS_ENOTFOUND, "no Xapian index here"},
    {"{not json", JS_ECORRUPT, "line 1"},
    {"[]", JS_ECORRUPT, "not a jiansuo Xapian index"},
    {"{\"backend\":\"native\",\"format_version\":1}", JS_ECORRUPT, "not a jiansuo"},
    {"{\"backend\":\"xapian\",\"format_version\":99}", JS_EVERSION, "format version 99"},
    {"{\"backend\":\"xapian\",\"format_version\":1,\"shards\":2}", JS_ECORRUPT, "a count is missing"},
    {"{\"backend\":\"xapian\",\"format_version\":1,\"shards\":0,\"analyze_flags\":0,"
     "\"documents\":3,\"sections\":5,\"terms\":1,\"postings\":1,\"positions\":1,"
     "\"total_length\":1,\"source_bytes\":1,\"text_bytes\":1}", JS_ECORRUPT, "a count"},
    {"{\"backend\":\"xapian\",\"format_version\":1,\"shards\":2,\"analyze_flags\":0,"
     "\"documents\":3,\"sections\":6,\"terms\":1,\"postings\":1,\"positions\":1,"
     "\"total_length\":1,\"source_bytes\":1,\"text_bytes\":1}", JS_ECORRUPT, "hold 5 sections"},
    {"{\"backend\":\"xapian\",\"format_version\":1,\"shards\":3,\"analyze_flags\":0,"
     "\"documents\":3,\"sections\":5,\"terms\":1,\"postings\":1,\"positions\":1,"
     "\"total_length\":1,\"source_bytes\":1,\"text_bytes\":1}", JS_ENOTFOUND, "shard-2"},
};

START_TEST(test_info_errors)
{
    build(2);
    const char *info = tu_scratch_path("idx/xapian/info.json");
    if (info_cases[_i].text) {
        FILE *f = fopen(info, "w");
        ck_assert_ptr_nonnull(f);
        fputs(info_cases[_i].text, f);
        fclose(f);
    } else {
        ck_assert_int_eq(unlink(info), 0);
    }
    js_xindex *xi = NULL;
    int rc = js_xindex_open(&xi, tu_scratch_path("idx"));
    ck_assert_ptr_nonnull(xi);
    ck_assert_msg(rc == info_cases[_i].rc, "case %d: rc %d (%s)", _i, rc,
                  js_xindex_errmsg(xi));
    ck_assert_msg(strstr(js_xindex_errmsg(xi), info_cases[_i].want) != NULL,
                  "case %d: '%s' lacks '%s'", _i, js_xindex_errmsg(xi),
                  info_cases[_i].want);
    js_xindex_close(xi);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xapian_build");
    TCase *tc = tcase_create("build");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_docid_mapping, 1, 4);
    tcase_add_test(tc, test_fields);
    tcase_add_test(tc, test_replace_and_abandon);
    tcase_add_test(tc, test_stats);
    tcase_add_loop_test(tc, test_info_errors, 0,
                        (int)(sizeof info_cases / sizeof info_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(suite(), 0);
}
