/*
 * check_ingest.c — ingest.c: walking directories, choosing formats,
 * counting and reporting bad files, bounded memory on a large file, and
 * the public API's argument checks.
 *
 * Builds a small tree of files in a temporary directory at test time.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static char root[256];

static void put(const char *rel, const char *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

#define PUT(rel, s) put(rel, s, strlen(s))

static void make_tree(void)
{
    snprintf(root, sizeof root, "%s/jiansuo-ingest-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(root));
    char p[512];
    snprintf(p, sizeof p, "%s/sub", root);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/.hidden", root);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    PUT("b.txt", "乙檔內容。\n");
    PUT("a.md", "# 標題\n\n甲檔內容。\n");
    PUT("sub/c.html", "<html><head><title>丙</title></head><body><h1>一</h1><p>丙檔</p></body></html>");
    PUT("sub/noext", "<!DOCTYPE html><html><body><h2>二</h2><p>內文</p></body></html>");
    PUT(".hidden/d.txt", "隱藏檔\n");
    PUT(".e.txt", "隱藏\n");
    put("z.bin", "\x7f" "ELF\0\0\0\0", 8);
    snprintf(p, sizeof p, "%s/sub/loop", root);
    ck_assert_int_eq(symlink("..", p), 0);
    snprintf(p, sizeof p, "%s/dangling.txt", root);
    ck_assert_int_eq(symlink("does-not-exist", p), 0);
}

static void remove_tree(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}

typedef struct {
    tu_render r;
    size_t warnings;
} walk_out;

static int on_section(void *ctx, const js_section *s)
{
    walk_out *o = ctx;
    const char *rel = s->document->source + strlen(root);
    tu_appendf(&o->r, "%s|%s|%u|%s\n", rel, s->document->format, s->ordinal,
               s->heading);
    return 0;
}

static void on_warning(void *ctx, const char *file, uint64_t line,
                       uint64_t offset, const char *msg)
{
    walk_out *o = ctx;
    (void)line;
    (void)offset;
    const char *rel = strncmp(file, root, strlen(root)) ? file
                                                         : file + strlen(root);
    tu_appendf(&o->r, "W %s: %s\n", rel, msg);
}

static char *walk_tree(int hidden, const char *format, js_ingest_stats *st)
{
    walk_out o = {{0}, 0};
    tu_appendf(&o.r, "%s", "");
    js_ingest_options opts = JS_INGEST_OPTIONS_INIT;
    opts.include_hidden = hidden;
    opts.format = format;
    opts.warn = on_warning;
    opts.warn_ctx = &o;
    js_ingest *ing;
    ck_assert_int_eq(js_ingest_open(&ing, &opts), 0);
    ck_assert_int_eq(js_ingest_path(ing, root, on_section, &o), 0);
    js_ingest_get_stats(ing, st);
    js_ingest_close(ing);
    return o.r.buf;
}

START_TEST(test_walk_order_formats_and_problems)
{
    make_tree();
    js_ingest_stats st;
    char *got = walk_tree(0, NULL, &st);
    /* Byte order of names; formats by extension, then by content; the
     * symlink loop, the dangling link and the binary file reported. */
    ck_assert_msg(strstr(got, "/a.md|markdown|") == got, "%s", got);
    const char *order[] = {"/a.md|", "/b.txt|text|0|", "W /dangling.txt: cannot read",
                           "/sub/c.html|html|", "W /sub/loop: directory already being read",
                           "/sub/noext|html|", "W /z.bin: binary file"};
    const char *at = got;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        const char *p = strstr(at, order[i]);
        ck_assert_msg(p != NULL, "missing or out of order: %s in\n%s",
                      order[i], got);
        at = p;
    }
    ck_assert(strstr(got, "hidden") == NULL && strstr(got, ".e.txt") == NULL);
    ck_assert_uint_eq(st.files, 5); /* a.md b.txt c.html noext z.bin */
    ck_assert_uint_eq(st.skipped_files, 2); /* dangling, z.bin */
    ck_assert_uint_eq(st.warnings, 3);
    free(got);
    /* Hidden files on request. */
    got = walk_tree(1, NULL, &st);
    ck_assert(strstr(got, "/.hidden/d.txt|text|") != NULL);
    ck_assert(strstr(got, "/.e.txt|text|") != NULL);
    free(got);
    /* Forced format: everything read as plain text. */
    got = walk_tree(0, "text", &st);
    ck_assert(strstr(got, "/a.md|text|") != NULL);
    ck_assert(strstr(got, "/sub/c.html|text|") != NULL);
    free(got);
    remove_tree();
}
END_TEST

START_TEST(test_api_errors)
{
    js_ingest *ing = NULL;
    js_ingest_options o = JS_INGEST_OPTIONS_INIT;
    o.format = "pdf";
    ck_assert_int_eq(js_ingest_open(&ing, &o), JS_EINVALID);
    o.format = NULL;
    o.encoding = "no-such-encoding";
    ck_assert_int_eq(js_ingest_open(&ing, &o), JS_EINVALID);
    o.encoding = NULL;
    o.version = 77;
    ck_assert_int_eq(js_ingest_open(&ing, &o), JS_EINVALID);
    ck_assert_int_eq(js_ingest_open(&ing, NULL), 0);
    walk_out w = {{0}, 0};
    ck_assert_int_eq(js_ingest_path(ing, "/no/such/path", on_section, &w),
                     JS_ENOTFOUND);
    ck_assert(strstr(js_ingest_errmsg(ing), "/no/such/path") != NULL);
    ck_assert_int_eq(js_ingest_memory(ing, "x", NULL, 5, on_section, &w),
                     JS_EINVALID);
    ck_assert_int_eq(js_ingest_memory(ing, "x.txt", "", 0, on_section, &w), 0);
    js_ingest_close(ing);
    js_ingest_close(NULL);
}
END_TEST

static long max_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

typedef struct {
    uint64_t sections, bytes;
} counts;

static int count_section(void *ctx, const js_section *s)
{
    counts *c = ctx;
    c->sections++;
    c->bytes += s->body_len;
    return 0;
}

/* A 256 MB file of headed chapters, with one 10 MB line in it: read in
 * full, while the process grows by far less than the file. */
START_TEST(test_large_file_bounded_memory)
{
    make_tree();
    char path[512];
    snprintf(path, sizeof path, "%s/large.txt", root);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    char para[4096];
    size_t pl = 0;
    while (pl + 64 < sizeof para)
        pl += (size_t)snprintf(para + pl, sizeof para - pl,
                               "這是自動產生的段落文字，用來測試記憶體上限。");
    para[pl++] = '\n';
    uint64_t written = 0;
    for (int ch = 0; written < (256u << 20); ch++) {
        written += (uint64_t)fprintf(f, "\n第%d章\n\n", ch + 1);
        for (int i = 0; i < 64; i++)
            written += fwrite(para, 1, pl, f);
        if (ch == 10) { /* one 10 MB line */
            for (int i = 0; i < 2560; i++)
                written += fwrite(para, 1, pl - 1, f);
            written += fwrite("\n", 1, 1, f);
        }
    }
    fclose(f);
    long before = max_rss_kib();
    js_ingest *ing;
    ck_assert_int_eq(js_ingest_open(&ing, NULL), 0);
    counts c = {0, 0};
    ck_assert_int_eq(js_ingest_path(ing, path, count_section, &c), 0);
    js_ingest_stats st;
    js_ingest_get_stats(ing, &st);
    js_ingest_close(ing);
    long grown = max_rss_kib() - before;
    ck_assert_uint_eq(st.bytes_read, written);
    ck_assert_uint_gt(c.sections, 900);
    ck_assert_uint_gt(c.bytes, written / 2);
    ck_assert_msg(grown < 96 * 1024, "grew by %ld KiB for a %llu-byte file",
                  grown, (unsigned long long)written);
    printf("large file: %llu bytes, %llu sections, %llu warnings, max RSS "
           "grew %ld KiB\n",
           (unsigned long long)written, (unsigned long long)c.sections,
           (unsigned long long)st.warnings, grown);
    remove_tree();
}
END_TEST

static Suite *ingest_suite(void)
{
    return TU_SUITE("ingest", 300,
        test_walk_order_formats_and_problems, test_api_errors,
        test_large_file_bounded_memory);
}

int main(void)
{
    return tu_run(ingest_suite(), 0);
}
