/*
 * check_index.c — the index end to end: builder -> file -> reader.
 *
 * In:  a generated corpus of JSON Lines records (titles and texts made
 *      from a vocabulary of our own words, in both scripts).
 * Out: checks that every term's postings read back from the published
 *      index equal a reference computed here straight from the text
 *      pipeline; that a build forced to spill many runs writes the same
 *      parts byte for byte as one that never spilled; that `check`
 *      passes; that a reader keeps its index across a republication; that
 *      js_reader_preload maps every page of the file; that bad
 *      arguments and a missing index give clear errors; and that the
 *      SECTIONS part's encoding (sections.h) gives back exactly what it
 *      was given, for a table of cases (group boundaries, u16 and u32
 *      lengths, byte ranges near 2^64 - 1, u64 group offsets), refuses
 *      what it cannot hold, and takes u32 lengths in a real build.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "file.h"
#include "fields.h"
#include "reader.h"
#include "search.h"
#include "sections.h"
#include "testutil.h"

static const char *const words[] = {
    "學院", "学院", "工匠", "圖書館", "图书馆", "春風", "春风", "小城",
    "柳樹", "新芽", "夏夜", "星空", "明亮", "技術", "技术", "比賽",
    "的", "了", "在", "和", "xapian", "2023年", "8月", "搜尋", "搜索",
    "索引", "資料", "数据", "開放", "时间", "借書", "規則",
};
#define NWORDS (sizeof words / sizeof *words)

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* Generates n JSON Lines records into a malloc'ed buffer. */
static char *make_corpus(int n, size_t *len)
{
    tu_render r = {0};
    tu_appendf(&r, "%s", "");
    for (int i = 0; i < n; i++) {
        tu_appendf(&r, "{\"id\":\"r%d\",\"title\":\"", i);
        for (int w = 0; w < 2; w++)
            tu_appendf(&r, "%s", words[rnd() % 12]);
        tu_appendf(&r, "\",\"text\":\"");
        int nw = 5 + (int)(rnd() % 60);
        for (int w = 0; w < nw; w++) {
            /* Zipf-ish: low indexes far more often. */
            uint32_t k = rnd() % NWORDS;
            k = k * (rnd() % NWORDS) / NWORDS;
            tu_appendf(&r, "%s%s", words[k], rnd() % 7 == 0 ? "，" : "");
        }
        tu_appendf(&r, "\"}\n");
    }
    *len = r.len;
    return r.buf;
}

static char *temp_dir(void)
{
    char *d = malloc(256);
    snprintf(d, 256, "%s/jiansuo-index-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(d));
    return d;
}

static void remove_dir(const char *d)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    ck_assert_int_eq(system(cmd), 0);
}

static int build_threads(const char *dir, const char *corpus, size_t len,
                         size_t memory_mib, uint32_t block_size,
                         unsigned threads, js_build_stats *st)
{
    js_build_options o = JS_BUILD_OPTIONS_INIT;
    o.memory_mib = memory_mib;
    o.block_size = block_size;
    o.threads = threads;
    js_builder *b = NULL;
    int rc = js_builder_open(&b, dir, &o);
    if (!rc)
        rc = js_builder_add_memory(b, "corpus.jsonl", corpus, len);
    if (!rc)
        rc = js_builder_commit(b);
    ck_assert_msg(rc == 0, "build failed: %s", js_builder_errmsg(b));
    if (st)
        js_builder_get_stats(b, st);
    js_builder_close(b);
    return rc;
}

static int build(const char *dir, const char *corpus, size_t len,
                 size_t memory_mib, uint32_t block_size, js_build_stats *st)
{
    return build_threads(dir, corpus, len, memory_mib, block_size, 1, st);
}

/* Asserts that the indexes in a and b are the same byte for byte but for
 * the build information at the end of STATS (time, threads, runs). */
static void assert_same_index(const char *a, const char *b)
{
    js_file fa, fb;
    char err[512];
    ck_assert_int_eq(js_file_open(&fa, a, err, sizeof err), 0);
    ck_assert_int_eq(js_file_open(&fb, b, err, sizeof err), 0);
    for (uint32_t id = JS_PART_STATS; id <= JS_PART_MAX; id++) {
        size_t n = fa.parts[id].len;
        if (id == JS_PART_STATS) {
            n = 9 * 8 + 3 * 4; /* the counts, up to the build info */
            ck_assert_uint_ge(fa.parts[id].len, n);
            ck_assert_uint_ge(fb.parts[id].len, n);
        } else {
            ck_assert_uint_eq(fa.parts[id].len, fb.parts[id].len);
        }
        ck_assert_msg(!memcmp(fa.parts[id].p, fb.parts[id].p, n),
                      "part %s differs", js_part_name(id));
    }
    js_file_close(&fa);
    js_file_close(&fb);
}

/* ---- reference postings, from the text pipeline directly ---- */

typedef struct {
    char term[JS_TERM_MAX_BYTES + 2];
    size_t len;
    uint32_t section, position;
} occ;

typedef struct {
    occ *v;
    size_t n, cap;
    uint32_t section;
    int prefix;
    uint32_t max;
    int any;
} occs;

static int collect(void *ctx, const js_token *t)
{
    occs *o = ctx;
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 4096;
        o->v = realloc(o->v, o->cap * sizeof *o->v);
        ck_assert_ptr_nonnull(o->v);
    }
    occ *x = &o->v[o->n++];
    x->len = 0;
    if (o->prefix)
        x->term[x->len++] = 1;
    memcpy(x->term + x->len, t->term, t->term_len);
    x->len += t->term_len;
    x->section = o->section;
    x->position = t->position;
    if (!o->any || t->position > o->max)
        o->max = t->position;
    o->any = 1;
    return 0;
}

static int on_ref_section(void *ctx, const js_section *s)
{
    occs *o = ctx;
    o->any = 0;
    o->prefix = 1;
    js_text_analyze(s->document->title, strlen(s->document->title), NULL,
                    collect, o);
    o->any = 0;
    o->prefix = 0;
    js_text_analyze(s->body, s->body_len, NULL, collect, o);
    o->section++;
    return 0;
}

static int cmp_occ(const void *a, const void *b)
{
    const occ *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->term, y->term, n);
    if (c)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    if (x->section != y->section)
        return x->section < y->section ? -1 : 1;
    return x->position < y->position ? -1 : x->position > y->position;
}

/* Every term of the reference is found with exactly its sections,
 * frequencies and positions, and the lexicon holds no other term. */
static void compare_with_reference(const char *dir, const char *corpus,
                                   size_t len)
{
    occs o = {0};
    js_ingest *ing;
    ck_assert_int_eq(js_ingest_open(&ing, NULL), 0);
    ck_assert_int_eq(js_ingest_memory(ing, "corpus.jsonl", corpus, len,
                                      on_ref_section, &o), 0);
    js_ingest_close(ing);
    qsort(o.v, o.n, sizeof *o.v, cmp_occ);

    js_reader *ix;
    ck_assert_int_eq(js_reader_open(&ix, dir), 0);
    ck_assert_uint_eq(ix->nsections, o.section);
    uint64_t terms = 0;
    for (size_t i = 0; i < o.n;) {
        size_t j = i;
        while (j < o.n && o.v[j].len == o.v[i].len &&
               !memcmp(o.v[j].term, o.v[i].term, o.v[i].len))
            j++;
        terms++;
        js_term_info ti;
        js_postings_cursor c;
        ck_assert_int_eq(js_reader_postings(ix, o.v[i].term, o.v[i].len, &ti, &c), 0);
        size_t k = i;
        while (k < j) {
            ck_assert_int_eq(js_postings_next(&c), 1);
            ck_assert_uint_eq(c.id, o.v[k].section);
            size_t e = k;
            while (e < j && o.v[e].section == o.v[k].section)
                e++;
            ck_assert_uint_eq(c.tf, e - k);
            const uint32_t *pos;
            if (js_fields_term_has_positions(JS_FIELDS_POSITIONS_FOR,
                                             o.v[i].term, o.v[i].len)) {
                ck_assert_int_eq(js_postings_positions(&c, &pos), 0);
                for (size_t p = k; p < e; p++)
                    ck_assert_uint_eq(pos[p - k], o.v[p].position);
            } else { /* a unigram: positions left out (fields.h) */
                ck_assert_uint_eq(ti.flags & JS_TERM_POSITIONS, 0);
                ck_assert_int_eq(js_postings_positions(&c, &pos), JS_EINVALID);
            }
            k = e;
        }
        ck_assert_int_eq(js_postings_next(&c), 0);
        js_postings_close(&c);
        i = j;
    }
    ck_assert_uint_eq(js_lexicon_count(ix->lex), terms);
    ck_assert_int_eq(js_reader_postings(ix, "不存在", strlen("不存在"), &(js_term_info){0},
                                       &(js_postings_cursor){0}),
                     JS_ENOTFOUND);
    ck_assert_msg(js_reader_check(ix) == 0, "%s", js_reader_errmsg(ix));
    js_reader_close(ix);
    free(o.v);
}

START_TEST(test_build_read_back)
{
    size_t len;
    char *corpus = make_corpus(3000, &len);
    char *dir = temp_dir();
    js_build_stats st;
    build(dir, corpus, len, 64, 16, &st); /* small blocks: lists cross them */
    ck_assert_uint_eq(st.ingest.sections, 3000);
    ck_assert_uint_eq(st.ingest.documents, 3000);
    compare_with_reference(dir, corpus, len);
    /* Stored text and metadata come back. */
    js_reader *ix;
    ck_assert_int_eq(js_reader_open(&ix, dir), 0);
    js_section_rec s;
    ck_assert_int_eq(js_reader_section(ix, 7, &s), 0);
    js_doc_rec d;
    ck_assert_int_eq(js_reader_document(ix, s.document, &d), 0);
    ck_assert_str_eq(d.id, "r7");
    ck_assert_str_eq(d.format, "jsonl");
    char *path, *body;
    size_t pl, bl;
    ck_assert_int_eq(js_store_get(ix->store, 7, &path, &pl, &body, &bl), 0);
    ck_assert(strstr(corpus, body) != NULL);
    free(path);
    free(body);
    js_reader_close(ix);
    remove_dir(dir);
    free(dir);
    free(corpus);
}
END_TEST

/* Documents from one file share a source entry; each reads back whole. */
START_TEST(test_document_sources)
{
    char *dir = temp_dir();
    js_builder *b = NULL;
    ck_assert_int_eq(js_builder_open(&b, dir, NULL), 0);
    const char *a = "{\"id\":\"a1\",\"title\":\"春風\",\"text\":\"小城\",\"author\":\"甲\"}\n"
                    "{\"id\":\"a2\",\"title\":\"夏夜\",\"text\":\"星空\"}\n";
    const char *m = "# 標題\n\n正文一\n\n## 小節\n\n正文二\n";
    ck_assert_int_eq(js_builder_add_memory(b, "a.jsonl", a, strlen(a)), 0);
    ck_assert_int_eq(js_builder_add_memory(b, "m.md", m, strlen(m)), 0);
    ck_assert_int_eq(js_builder_add_memory(b, "c.jsonl", a, strlen(a)), 0);
    ck_assert_msg(js_builder_commit(b) == 0, "%s", js_builder_errmsg(b));
    js_builder_close(b);
    js_reader *ix;
    ck_assert_int_eq(js_reader_open(&ix, dir), 0);
    ck_assert_uint_eq(ix->ndocs, 5);
    ck_assert_uint_eq(ix->nsources, 3);
    static const char *const src[5] = {"a.jsonl", "a.jsonl", "m.md", "c.jsonl",
                                       "c.jsonl"};
    static const char *const fmt[5] = {"jsonl", "jsonl", "markdown", "jsonl",
                                       "jsonl"};
    static const char *const id[5] = {"a1", "a2", "", "a1", "a2"};
    for (uint32_t i = 0; i < 5; i++) {
        js_doc_rec d;
        ck_assert_int_eq(js_reader_document(ix, i, &d), 0);
        ck_assert_str_eq(d.source, src[i]);
        ck_assert_str_eq(d.format, fmt[i]);
        ck_assert_str_eq(d.id, id[i]);
        ck_assert_str_eq(d.encoding, "UTF-8");
    }
    js_doc_rec d;
    ck_assert_int_eq(js_reader_document(ix, 0, &d), 0);
    ck_assert_str_eq(d.title, "春風");
    ck_assert(strstr(d.metadata, "甲") != NULL);
    ck_assert_int_eq(js_reader_document(ix, 2, &d), 0);
    ck_assert_str_eq(d.title, "標題");
    ck_assert_msg(js_reader_check(ix) == 0, "%s", js_reader_errmsg(ix));
    js_reader_close(ix);
    remove_dir(dir);
    free(dir);
}
END_TEST

/* Commits b, closes it and opens the index in dir, which must hold n
 * documents.  The caller closes the index. */
static js_reader *commit_open(js_builder *b, const char *dir, uint32_t n)
{
    ck_assert_msg(js_builder_commit(b) == 0, "%s", js_builder_errmsg(b));
    js_builder_close(b);
    js_reader *ix;
    ck_assert_int_eq(js_reader_open(&ix, dir), 0);
    ck_assert_uint_eq(ix->ndocs, n);
    return ix;
}

/* Metadata equal to the previous document's is stored as a reference
 * back (FORMAT.md, part 2); every document reads back its own, across
 * runs, empty metadata, documents of other formats between, and a
 * metadata seen before but not last. */
START_TEST(test_document_metadata_runs)
{
    static const struct {
        const char *rec;  /* a JSON Lines record, or NULL: a Markdown file */
        const char *meta; /* what the document must read back */
        int ref;          /* whether its record refers back */
    } docs[] = {
        {"{\"id\":\"0\",\"text\":\"山\",\"author\":\"甲\"}", "{\"author\":\"甲\"}", 0},
        {"{\"id\":\"1\",\"text\":\"水\",\"author\":\"甲\"}", "{\"author\":\"甲\"}", 1},
        {"{\"id\":\"2\",\"text\":\"风\",\"author\":\"甲\"}", "{\"author\":\"甲\"}", 1},
        {"{\"id\":\"3\",\"text\":\"江\"}", "", 0},
        {"{\"id\":\"4\",\"text\":\"天\",\"author\":\"甲\"}", "{\"author\":\"甲\"}", 1},
        {"{\"id\":\"5\",\"text\":\"人\",\"author\":\"乙\"}", "{\"author\":\"乙\"}", 0},
        {"{\"id\":\"6\",\"text\":\"心\",\"author\":\"甲\"}", "{\"author\":\"甲\"}", 0},
        {NULL, "", 0},
        {"{\"id\":\"8\",\"text\":\"月\",\"author\":\"甲\"}", "{\"author\":\"甲\"}", 1},
        {"{\"id\":\"9\",\"text\":\"日\",\"author\":\"甲\",\"n\":1}",
         "{\"author\":\"甲\",\"n\":1}", 0},
        {"{\"id\":\"10\",\"text\":\"星\",\"n\":1,\"author\":\"甲\"}",
         "{\"n\":1,\"author\":\"甲\"}", 0},
    };
    enum { N = sizeof docs / sizeof *docs };
    char *dir = temp_dir();
    js_builder *b = NULL;
    js_build_options o = JS_BUILD_OPTIONS_INIT;
    o.threads = 1;
    ck_assert_int_eq(js_builder_open(&b, dir, &o), 0);
    for (size_t i = 0; i < N; i++) {
        char name[32];
        if (docs[i].rec) {
            snprintf(name, sizeof name, "r%zu.jsonl", i);
            ck_assert_int_eq(js_builder_add_memory(b, name, docs[i].rec,
                                                   strlen(docs[i].rec)),
                             0);
        } else {
            const char *md = "# 題\n\n正文\n";
            ck_assert_int_eq(js_builder_add_memory(b, "m.md", md, strlen(md)),
                             0);
        }
    }
    js_reader *ix = commit_open(b, dir, N);
    for (uint32_t i = 0; i < N; i++) {
        js_doc_rec d;
        ck_assert_int_eq(js_reader_document(ix, i, &d), 0);
        ck_assert_msg(!strcmp(d.metadata, docs[i].meta), "document %u: %s",
                      i, d.metadata);
        /* the record's last byte: a back reference's varint, or the
         * NUL of metadata held in the record */
        uint64_t end = js_le64(ix->doc_offsets + 8 * ((size_t)i + 1));
        ck_assert_msg((ix->doc_strings[end - 1] != 0) == docs[i].ref,
                      "document %u: reference %d expected", i, docs[i].ref);
    }
    ck_assert_msg(js_reader_check(ix) == 0, "%s", js_reader_errmsg(ix));
    js_reader_close(ix);
    remove_dir(dir);
    free(dir);
}
END_TEST

/* Ids read back as they were given, whichever form FORMAT.md part 2
 * stores them in (the last byte of the id's bytes tells: a UUID's 16
 * bytes hold no NUL here, text ends in one). */
START_TEST(test_document_ids)
{
    static const struct {
        const char *json; /* the record's "id" as JSON */
        const char *id;   /* what it reads back as */
        int packed;       /* stored as 0x01 and 16 bytes */
    } ids[] = {
        {"\"0f8fad5b-d9cb-469f-a165-70867728950e\"",
         "0f8fad5b-d9cb-469f-a165-70867728950e", 1},
        {"\"ffffffff-ffff-ffff-ffff-ffffffffffff\"",
         "ffffffff-ffff-ffff-ffff-ffffffffffff", 1},
        {"\"00000000-0000-0000-0000-000000000000\"",
         "00000000-0000-0000-0000-000000000000", 1},
        {"\"0F8FAD5B-D9CB-469F-A165-70867728950E\"",
         "0F8FAD5B-D9CB-469F-A165-70867728950E", 0},
        {"\"0f8fad5b-d9cb-469f-a165-70867728950\"",
         "0f8fad5b-d9cb-469f-a165-70867728950", 0},
        {"\"0f8fad5b-d9cb-469f-a165-70867728950e0\"",
         "0f8fad5b-d9cb-469f-a165-70867728950e0", 0},
        {"\"0f8fad5bd-9cb-469f-a165-70867728950e\"",
         "0f8fad5bd-9cb-469f-a165-70867728950e", 0},
        {"\"0f8fad5b-d9cb-469f-a165-70867728950g\"",
         "0f8fad5b-d9cb-469f-a165-70867728950g", 0},
        {"\"\\u0001x\"", "\001x", 0},
        {"\"\\u0002\"", "\002", 0},
        {"\"甲-1\"", "甲-1", 0},
        {"17", "17", 0},
    };
    enum { N = sizeof ids / sizeof *ids };
    char *dir = temp_dir();
    js_builder *b = NULL;
    ck_assert_int_eq(js_builder_open(&b, dir, NULL), 0);
    char rec[256];
    for (size_t i = 0; i < N; i++) {
        int n = snprintf(rec, sizeof rec, "{\"id\":%s,\"text\":\"山水\"}\n",
                         ids[i].json);
        ck_assert_int_eq(js_builder_add_memory(b, "r.jsonl", rec, (size_t)n),
                         0);
    }
    js_reader *ix = commit_open(b, dir, N);
    for (uint32_t i = 0; i < N; i++) {
        js_doc_rec d;
        ck_assert_int_eq(js_reader_document(ix, i, &d), 0);
        ck_assert_msg(!strcmp(d.id, ids[i].id), "document %u: id %s", i,
                      d.id);
        /* the record: source varint (one byte here), the title, the id */
        const uint8_t *r =
            ix->doc_strings + js_le64(ix->doc_offsets + 8 * (size_t)i) + 1;
        r += strlen((const char *)r) + 1;
        ck_assert_msg((r[0] == 1) == ids[i].packed, "document %u: form %u",
                      i, r[0]);
    }
    ck_assert_msg(js_reader_check(ix) == 0, "%s", js_reader_errmsg(ix));
    js_reader_close(ix);
    remove_dir(dir);
    free(dir);
}
END_TEST

START_TEST(test_spilled_build_identical)
{
    size_t len;
    char *corpus = make_corpus(8000, &len);
    char *a = temp_dir(), *b = temp_dir();
    js_build_stats sa, sb;
    build(a, corpus, len, 512, 0, &sa);
    build(b, corpus, len, 1, 0, &sb);
    ck_assert_uint_eq(sa.runs, 0);
    ck_assert_msg(sb.runs > 1, "a 1 MiB budget spilled %u runs", sb.runs);
    assert_same_index(a, b);
    compare_with_reference(b, corpus, len);
    remove_dir(a);
    remove_dir(b);
    free(a);
    free(b);
    free(corpus);
}
END_TEST

/* One thread or several, spilled or not: the same index. */
START_TEST(test_threads_identical)
{
    size_t len;
    char *corpus = make_corpus(8000, &len);
    char *d1 = temp_dir(), *d2 = temp_dir(), *d3 = temp_dir(),
         *d4 = temp_dir();
    js_build_stats s1, s2, s3, s4;
    build_threads(d1, corpus, len, 512, 16, 1, &s1);
    build_threads(d2, corpus, len, 512, 16, 2, &s2);
    build_threads(d3, corpus, len, 1, 16, 2, &s3); /* spills, and small */
    build_threads(d4, corpus, len, 1, 16, 1, &s4); /* batches */
    ck_assert_uint_eq(s1.runs, 0);
    ck_assert_msg(s3.runs > 1 && s4.runs > 1, "runs: %u, %u", s3.runs,
                  s4.runs);
    assert_same_index(d1, d2);
    assert_same_index(d1, d3);
    assert_same_index(d1, d4);
    compare_with_reference(d3, corpus, len);
    char *dirs[4] = {d1, d2, d3, d4};
    for (int i = 0; i < 4; i++) {
        remove_dir(dirs[i]);
        free(dirs[i]);
    }
    free(corpus);
}
END_TEST

/* Builds an index of `records` generated records (blocks of
 * block_size, 0: the default) in a new directory (*dir, malloc'ed) and
 * opens it. */
static js_reader *built_index(int records, uint32_t block_size, char **dir)
{
    size_t len;
    char *corpus = make_corpus(records, &len);
    *dir = temp_dir();
    build(*dir, corpus, len, 64, block_size, NULL);
    free(corpus);
    js_reader *ix;
    ck_assert_int_eq(js_reader_open(&ix, *dir), 0);
    return ix;
}

/* Closes ix and removes and frees dir. */
static void drop_index(js_reader *ix, char *dir)
{
    js_reader_close(ix);
    remove_dir(dir);
    free(dir);
}

/* js_reader_postings checks a long record's skip table once: a second
 * cursor on it walks the same entries; check still reads every table. */
START_TEST(test_postings_reopen)
{
    char *dir;
    js_reader *ix = built_index(2000, 4, &dir);
    const char *t = "的";
    js_term_info ti;
    js_postings_cursor c1, c2;
    ck_assert_int_eq(js_reader_postings(ix, t, strlen(t), &ti, &c1), 0);
    ck_assert_uint_gt(ti.df, 4 * 4); /* several blocks */
    ck_assert_int_eq(js_reader_postings(ix, t, strlen(t), &ti, &c2), 0);
    uint32_t n = 0;
    int r1, r2;
    while ((r1 = js_postings_next(&c1)) == 1) {
        r2 = js_postings_next(&c2);
        ck_assert_int_eq(r2, 1);
        ck_assert_uint_eq(c1.id, c2.id);
        ck_assert_uint_eq(c1.tf, c2.tf);
        n++;
    }
    ck_assert_int_eq(r1, 0);
    ck_assert_int_eq(js_postings_next(&c2), 0);
    ck_assert_uint_eq(n, ti.df);
    js_postings_close(&c1);
    js_postings_close(&c2);
    ck_assert_msg(js_reader_check(ix) == 0, "%s", js_reader_errmsg(ix));
    drop_index(ix, dir);
}
END_TEST

/* POSTINGS_CRC as FORMAT.md part 11 has it: page size 1024, a count of
 * ceil(postings / 1024), each page's crc32 (the last page shorter), and
 * the crc32 of all that; and every page passes `check`. */
START_TEST(test_postings_crc_part)
{
    char *dir;
    js_reader *ix = built_index(2000, 4, &dir);
    const js_part *po = &ix->f.parts[JS_PART_POSTINGS];
    const js_part *pc = &ix->f.parts[JS_PART_POSTINGS_CRC];
    ck_assert_uint_gt(po->len % 1024, 0); /* a shorter last page */
    uint64_t pages = (po->len + 1023) / 1024;
    ck_assert_uint_ge(pages, 2);
    ck_assert_uint_eq(pc->len, 16 + 4 * pages);
    ck_assert_uint_eq(js_le32(pc->p), 1024);
    ck_assert_uint_eq(js_le64(pc->p + 4), pages);
    for (uint64_t g = 0; g < pages; g++) {
        uint64_t n = po->len - g * 1024 < 1024 ? po->len - g * 1024 : 1024;
        ck_assert_uint_eq(js_le32(pc->p + 12 + 4 * g),
                          (uint32_t)crc32(0, po->p + g * 1024, (uInt)n));
    }
    ck_assert_uint_eq(js_le32(pc->p + pc->len - 4),
                      (uint32_t)crc32(0, pc->p, (uInt)(pc->len - 4)));
    ck_assert_uint_eq(ix->checks.npages, pages);
    ck_assert_msg(js_reader_check(ix) == 0, "%s", js_reader_errmsg(ix));
    drop_index(ix, dir);
}
END_TEST

/* How many pages of ix's mapping have a page table entry now, from
 * /proc/self/pagemap (bit 63: present), or -1 when it cannot be read. */
static long pages_mapped(const js_reader *ix)
{
    long page = sysconf(_SC_PAGESIZE);
    int fd = open("/proc/self/pagemap", O_RDONLY);
    if (fd < 0)
        return -1;
    size_t first = (uintptr_t)ix->f.map / (size_t)page;
    size_t n = (ix->f.size + (size_t)page - 1) / (size_t)page;
    long present = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t e;
        if (pread(fd, &e, sizeof e, (off_t)((first + i) * sizeof e)) != sizeof e) {
            present = -1;
            break;
        }
        present += (long)(e >> 63);
    }
    close(fd);
    return present;
}

/* After js_reader_preload every page of the file is mapped (so no search
 * takes a page fault on it); after dropping the mappings, none is. */
START_TEST(test_preload)
{
    char *dir;
    js_reader *ix = built_index(4000, 0, &dir);
    long page = sysconf(_SC_PAGESIZE);
    long pages = (long)((ix->f.size + (size_t)page - 1) / (size_t)page);
    ck_assert_int_gt(pages, 64);
    /* drop this process's page table entries (the page cache stays) */
    ck_assert_int_eq(madvise(ix->f.map, ix->f.size, MADV_DONTNEED), 0);
    long before = pages_mapped(ix);
    ck_assert_msg(before >= 0, "/proc/self/pagemap cannot be read");
    ck_assert_int_eq(before, 0);
    ck_assert_int_eq(js_reader_preload(ix), 0);
    ck_assert_int_eq(pages_mapped(ix), pages);
    ck_assert_int_eq(js_reader_check(ix), 0);
    drop_index(ix, dir);
    ck_assert_int_eq(js_reader_preload(NULL), JS_EINVALID);
}
END_TEST

/* The handle's cursor pool: more cursors than it keeps, each opened and
 * walked; returned ones come back closed and open again as new. */
START_TEST(test_cursor_pool)
{
    char *dir;
    js_reader *ix = built_index(300, 4, &dir);
    enum { N = JS_CURSOR_POOL + 6 };
    js_postings_cursor *c[N];
    const char *t = "学院"; /* a bigram: it has positions */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            ck_assert_ptr_nonnull(c[i] = js_reader_cursor_get(ix));
            ck_assert_uint_eq(c[i]->nblocks, 0); /* closed */
            ck_assert_ptr_null(c[i]->pos);
            js_term_info ti;
            ck_assert_int_eq(js_reader_postings(ix, t, strlen(t), &ti, c[i]), 0);
            uint32_t n = 0;
            while (js_postings_next(c[i]) == 1) {
                const uint32_t *pos;
                ck_assert_int_eq(js_postings_positions(c[i], &pos), 0);
                n++;
            }
            ck_assert_uint_eq(n, ti.df);
        }
        for (int i = 0; i < N; i++)
            js_reader_cursor_put(ix, c[i]);
    }
    js_reader_cursor_put(ix, NULL);
    drop_index(ix, dir);
}
END_TEST

START_TEST(test_reader_survives_republication)
{
    size_t len;
    char *corpus = make_corpus(500, &len);
    char *dir = temp_dir();
    build(dir, corpus, len, 64, 0, NULL);
    js_reader *old;
    ck_assert_int_eq(js_reader_open(&old, dir), 0);
    uint64_t n_old = old->st.sections;
    build(dir, corpus, len / 2, 64, 0, NULL); /* half the records */
    /* The old handle still reads its own, complete index. */
    ck_assert_uint_eq(old->st.sections, n_old);
    ck_assert_int_eq(js_reader_check(old), 0);
    js_reader *fresh;
    ck_assert_int_eq(js_reader_open(&fresh, dir), 0);
    ck_assert_uint_lt(fresh->st.sections, n_old);
    js_reader_close(fresh);
    js_reader_close(old);
    /* No temporary files are left behind. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -v -x -e index.jsi -e lock", dir);
    ck_assert_int_ne(system(cmd), 0);
    remove_dir(dir);
    free(dir);
    free(corpus);
}
END_TEST

START_TEST(test_errors)
{
    char *dir = temp_dir();
    js_reader *ix = NULL;
    ck_assert_int_eq(js_reader_open(&ix, dir), JS_ENOTFOUND);
    ck_assert(strstr(js_reader_errmsg(ix), "no index here") != NULL);
    js_reader_close(ix);
    /* Two builders on one directory: the second is refused. */
    js_builder *b1 = NULL, *b2 = NULL;
    ck_assert_int_eq(js_builder_open(&b1, dir, NULL), 0);
    ck_assert_int_eq(js_builder_open(&b2, dir, NULL), JS_EBUSY);
    ck_assert(strstr(js_builder_errmsg(b2), "another jiansuo writer") != NULL);
    char holder[64];
    snprintf(holder, sizeof holder, "index is locked by process %ld",
             (long)getpid());
    ck_assert_msg(strstr(js_builder_errmsg(b2), holder) != NULL, "%s",
                  js_builder_errmsg(b2));
    js_builder_close(b2);
    ck_assert_int_eq(js_builder_add_path(b1, "/no/such/file"), JS_ENOTFOUND);
    js_builder_close(b1); /* abandoned: nothing published */
    /* What dead writers leave, of any name, goes with the next lock;
     * what is not a temporary stays. */
    static const struct {
        const char *name;
        int stays;
    } left[] = {
        {"index.jsi.tmp-123", 0},     {"manifest.jsm.tmp-9", 0},
        {"seg-000001.jsi.tmp-77", 0}, {"seg-000001.del-3.tmp-5", 0},
        {"seg-000001.jsi", 1},        {"notes.txt", 1},
    };
    char lp[512];
    for (size_t i = 0; i < sizeof left / sizeof *left; i++) {
        snprintf(lp, sizeof lp, "%s/%s", dir, left[i].name);
        FILE *lf = fopen(lp, "w");
        ck_assert_ptr_nonnull(lf);
        fclose(lf);
    }
    ck_assert_int_eq(js_builder_open(&b1, dir, NULL), 0);
    js_builder_close(b1);
    for (size_t i = 0; i < sizeof left / sizeof *left; i++) {
        snprintf(lp, sizeof lp, "%s/%s", dir, left[i].name);
        ck_assert_msg((access(lp, F_OK) == 0) == left[i].stays, "%s",
                      left[i].name);
        if (left[i].stays)
            unlink(lp);
    }
    ck_assert_int_eq(js_reader_open(&ix, dir), JS_ENOTFOUND);
    js_reader_close(ix);
    /* Not an index. */
    char p[512];
    snprintf(p, sizeof p, "%s/index.jsi", dir);
    FILE *f = fopen(p, "w");
    fputs("this is not an index, but it is certainly long enough to be read as one", f);
    fclose(f);
    ck_assert_int_eq(js_reader_open(&ix, dir), JS_ECORRUPT);
    ck_assert(strstr(js_reader_errmsg(ix), "bad magic") != NULL);
    js_reader_close(ix);
    js_build_options o = JS_BUILD_OPTIONS_INIT;
    o.version = 99;
    ck_assert_int_eq(js_builder_open(&b1, dir, &o), JS_EINVALID);
    js_builder_close(b1);
    remove_dir(dir);
    free(dir);
}
END_TEST

/* ---- the SECTIONS part (sections.h) ---- */

enum { CONTIG, GAPS, HUGE };

/* A table of sections to round-trip: n sections of per_doc each (0: one
 * document), byte ranges laid out by `ranges`, section n - 1's body and
 * heading lengths set to last_body and last_head when non-zero. */
typedef struct sec_case {
    const char *name;
    uint32_t n, per_doc;
    int ranges;
    uint32_t last_body, last_head;
    unsigned off_width; /* 0: the smallest that fits */
    int wide_lens;      /* expected: u32 lengths */
} sec_case;

static const sec_case sec_cases[] = {
    {"no section", 0, 1, CONTIG, 0, 0, 0, 0},
    {"one section", 1, 1, CONTIG, 0, 0, 0, 0},
    {"15 sections", 15, 1, CONTIG, 0, 0, 0, 0},
    {"16 sections", 16, 1, CONTIG, 0, 0, 0, 0},
    {"17 sections", 17, 1, CONTIG, 0, 0, 0, 0},
    {"33 sections", 33, 3, GAPS, 0, 0, 0, 0},
    {"one document of 100 sections", 100, 0, CONTIG, 0, 0, 0, 0},
    {"documents of 7 across groups", 200, 7, GAPS, 0, 0, 0, 0},
    {"documents of 16", 64, 16, CONTIG, 0, 0, 0, 0},
    {"lengths of 65535 stay u16", 40, 3, CONTIG, 65535, 65535, 0, 0},
    {"a body of 65536 makes u32", 40, 3, CONTIG, 65536, 0, 0, 1},
    {"a heading of 65536 makes u32", 17, 2, GAPS, 0, 65536, 0, 1},
    {"u32 lengths of 2^32 - 1", 16, 1, CONTIG, UINT32_MAX, UINT32_MAX, 0, 1},
    {"byte ranges near 2^64 - 1", 33, 2, HUGE, 0, 0, 0, 0},
    {"u64 offsets", 33, 5, GAPS, 0, 0, 8, 0},
    {"u64 offsets, u32 lengths, huge ranges", 50, 4, HUGE, 70000, 3, 8, 1},
};

/* Fills r[0..c->n) as the case says; returns the document count. */
static uint32_t sec_records(const sec_case *c, js_section_rec *r)
{
    uint64_t end = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        r[i].document = c->per_doc ? i / c->per_doc : 0;
        r[i].ordinal = c->per_doc ? i % c->per_doc : i;
        uint64_t len = (uint64_t)i * 37 % 500;
        if (c->ranges == CONTIG) {
            r[i].start = end;
        } else if (c->ranges == GAPS) {
            /* gaps forward, and every fifth starts over (a new file) */
            r[i].start = i % 5 == 4 ? 0 : end + (i % 3 ? 0 : 1000 + i);
        } else {
            /* the whole range first, then ranges ending at 2^64 - 1,
             * jumping back and forth by nearly 2^64 */
            if (i == 0) {
                r[i].start = 0;
                len = UINT64_MAX;
            } else if (i % 2) {
                r[i].start = UINT64_MAX - len - i;
            } else {
                r[i].start = i;
            }
            if (i + 1 == c->n) {
                r[i].start = UINT64_MAX;
                len = 0;
            }
        }
        r[i].end = end = r[i].start + len;
        r[i].body_len = i * 7919 % 5000;
        r[i].head_len = i % 31;
    }
    if (c->n && c->last_body)
        r[c->n - 1].body_len = c->last_body;
    if (c->n && c->last_head)
        r[c->n - 1].head_len = c->last_head;
    return c->n ? r[c->n - 1].document + 1 : 0;
}

START_TEST(test_sections_round_trip)
{
    for (size_t t = 0; t < sizeof sec_cases / sizeof *sec_cases; t++) {
        const sec_case *c = &sec_cases[t];
        js_section_rec *r = calloc(c->n + 1, sizeof *r);
        uint32_t ndocs = sec_records(c, r);
        js_buf part = JS_BUF_INIT;
        ck_assert_msg(js_sections_encode(&part, r, c->n, c->off_width) == 0,
                      "%s: encode", c->name);
        js_sections s;
        char err[256] = "";
        ck_assert_msg(js_sections_open(&s, part.p, part.len, c->n, ndocs,
                                       err, sizeof err) == 0,
                      "%s: open: %s", c->name, err);
        ck_assert_msg(s.lens16 == !c->wide_lens, "%s: length width", c->name);
        ck_assert_msg(s.offs64 == (c->off_width == 8), "%s: offset width",
                      c->name);
        uint64_t want_b = 0, want_h = 0;
        for (uint32_t i = 0; i < c->n; i++) {
            js_section_rec g;
            ck_assert_msg(js_sections_get(&s, i, &g) == 0, "%s: section %u",
                          c->name, i);
            ck_assert_msg(g.document == r[i].document &&
                              g.ordinal == r[i].ordinal &&
                              g.start == r[i].start && g.end == r[i].end &&
                              g.body_len == r[i].body_len &&
                              g.head_len == r[i].head_len,
                          "%s: section %u reads back (%u %u %llu %llu %u %u)",
                          c->name, i, g.document, g.ordinal,
                          (unsigned long long)g.start,
                          (unsigned long long)g.end, g.body_len, g.head_len);
            uint32_t b, h;
            js_sections_lens(&s, i, &b, &h);
            ck_assert_uint_eq(b, r[i].body_len);
            ck_assert_uint_eq(h, r[i].head_len);
            want_b += r[i].body_len;
            want_h += r[i].head_len;
        }
        js_section_rec g;
        ck_assert_int_eq(js_sections_get(&s, c->n, &g), JS_ECORRUPT);
        uint64_t sb, sh;
        ck_assert_msg(js_sections_verify(&s, &sb, &sh, err, sizeof err) == 0,
                      "%s: verify: %s", c->name, err);
        ck_assert_uint_eq(sb, want_b);
        ck_assert_uint_eq(sh, want_h);
        /* the count must agree with the stats' */
        ck_assert_int_eq(js_sections_open(&s, part.p, part.len, c->n + 1,
                                          ndocs, err, sizeof err),
                         JS_ECORRUPT);
        js_buf_free(&part);
        free(r);
    }
}
END_TEST

/* Records the format cannot hold are refused, not written wrong. */
START_TEST(test_sections_refused)
{
    static const struct {
        const char *name;
        js_section_rec prev;
        int has_prev;
        js_section_rec r[2];
        unsigned k;
    } bad[] = {
        {"section 0 not in document 0", {0}, 0, {{1, 0, 0, 0, 0, 0}}, 1},
        {"section 0 not ordinal 0", {0}, 0, {{0, 1, 0, 0, 0, 0}}, 1},
        {"a document skipped", {0}, 0,
         {{0, 0, 0, 5, 0, 0}, {2, 0, 5, 9, 0, 0}}, 2},
        {"an ordinal skipped", {0}, 0,
         {{0, 0, 0, 5, 0, 0}, {0, 2, 5, 9, 0, 0}}, 2},
        {"a new document not at ordinal 0", {0}, 0,
         {{0, 0, 0, 5, 0, 0}, {1, 1, 5, 9, 0, 0}}, 2},
        {"start after end", {0}, 0, {{0, 0, 9, 5, 0, 0}}, 1},
        {"not following the previous group", {3, 4, 0, 0, 0, 0}, 1,
         {{3, 6, 0, 0, 0, 0}}, 1},
        {"no section", {0}, 0, {{0, 0, 0, 0, 0, 0}}, 0},
        {"more than a group", {0}, 0, {{0, 0, 0, 0, 0, 0}}, 17},
    };
    for (size_t t = 0; t < sizeof bad / sizeof *bad; t++) {
        js_buf out = JS_BUF_INIT;
        ck_assert_msg(js_sections_put_group(&out,
                                            bad[t].has_prev ? &bad[t].prev
                                                            : NULL,
                                            bad[t].r, bad[t].k) == JS_EINVALID,
                      "%s: accepted", bad[t].name);
        ck_assert_uint_eq(out.len, 0);
        js_buf_free(&out);
    }
}
END_TEST

/* A section of more than 65535 positions: the builder writes u32
 * lengths, and the index reads, searches and checks as ever. */
START_TEST(test_sections_wide_build)
{
    tu_render c = {0};
    tu_appendf(&c, "{\"id\":\"long\",\"title\":\"長\",\"text\":\"");
    for (int i = 0; i < 70000; i++)
        tu_appendf(&c, "%s", i % 1000 ? "a " : "xapian ");
    tu_appendf(&c, "\"}\n{\"id\":\"short\",\"title\":\"短\",\"text\":\"xapian\"}\n");
    char *dir = temp_dir();
    build(dir, c.buf, c.len, 64, 128, NULL);
    js_reader *ix;
    ck_assert_int_eq(js_reader_open(&ix, dir), 0);
    ck_assert_int_eq(ix->secs.lens16, 0);
    uint32_t b, h;
    js_reader_section_lens(ix, 0, &b, &h);
    ck_assert_uint_gt(b, 65535);
    js_section_rec s;
    ck_assert_int_eq(js_reader_section(ix, 1, &s), 0);
    ck_assert_uint_eq(s.document, 1);
    ck_assert_uint_eq(s.ordinal, 0);
    ck_assert_uint_gt(s.start, 0);
    js_results *r = NULL;
    ck_assert_int_eq(js_reader_search(&r, ix, "xapian", 6, NULL), 0);
    ck_assert_uint_eq(js_results_count(r), 2);
    js_results_free(r);
    ck_assert_msg(js_reader_check(ix) == 0, "%s", js_reader_errmsg(ix));
    js_reader_close(ix);
    remove_dir(dir);
    free(dir);
    free(c.buf);
}
END_TEST

static Suite *index_suite(void)
{
    return TU_SUITE("index", 300,
        test_build_read_back, test_document_sources,
        test_document_metadata_runs, test_document_ids,
        test_spilled_build_identical, test_threads_identical,
        test_postings_reopen, test_postings_crc_part, test_preload,
        test_cursor_pool, test_reader_survives_republication, test_errors,
        test_sections_round_trip, test_sections_refused,
        test_sections_wide_build);
}

int main(void)
{
    return tu_run(index_suite(), 0);
}
