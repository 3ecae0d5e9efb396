/*
 * check_sink.c — the section sink (sink.c): heading paths, titles,
 * breaks, documents within a file, splitting of huge sections, the
 * callback's stop value.
 *
 * Drives the sink directly as a format parser would, and renders what
 * reaches the section callback with testutil.h's tu_on_section.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sink.h"
#include "testutil.h"

typedef struct {
    tu_ingest_out out;
    js_ingest_stats st;
    js_sink *k;
} fixture;

static void start(fixture *f, const char *path)
{
    memset(f, 0, sizeof *f);
    tu_appendf(&f->out.r, "%s", "");
    f->k = js_sink_new(tu_on_warning, &f->out, &f->st);
    ck_assert_ptr_nonnull(f->k);
    ck_assert_int_eq(js_sink_begin_file(f->k, path, tu_on_section, &f->out), 0);
    js_sink_set_kind(f->k, "text", "UTF-8");
}

/* Ends the file at `end` and returns the rendering (caller frees). */
static char *finish(fixture *f, uint64_t end)
{
    ck_assert_int_eq(js_sink_end_file(f->k, end), 0);
    js_sink_free(f->k);
    return f->out.r.buf;
}

#define T(k, s) js_sink_text(k, s, strlen(s))
#define H(k, lvl, s, off) js_sink_heading(k, lvl, s, strlen(s), off)

START_TEST(test_paths)
{
    fixture f;
    start(&f, "/docs/手册.txt");
    T(f.k, "前言文字");
    H(f.k, 1, "第二章 安装", 10);
    T(f.k, "本章说明安装。");
    H(f.k, 2, "2.1 下载", 30);
    T(f.k, "下载步骤");
    js_sink_break(f.k);
    T(f.k, "第二行");
    H(f.k, 2, "2.2 解压", 50);
    H(f.k, 1, "第三章 使用", 60);
    H(f.k, 3, "  深层 \x1f  标题 ", 70); /* U+001F joins stored paths */
    char *got = finish(&f, 80);
    ck_assert_str_eq(got,
                     "DOC|手册|text|UTF-8||\n"
                     "0||前言文字|0-10\n"
                     "1|第二章 安装|本章说明安装。|10-30\n"
                     "2|第二章 安装 > 2.1 下载|下载步骤\\n第二行|30-50\n"
                     "3|第二章 安装 > 2.2 解压||50-60\n"
                     "4|第三章 使用||60-70\n"
                     "5|第三章 使用 > 深层 标题||70-80\n");
    ck_assert_uint_eq(f.st.sections, 6);
    ck_assert_uint_eq(f.st.documents, 1);
    free(got);
}
END_TEST

START_TEST(test_title_and_empty_lead)
{
    fixture f;
    start(&f, "a/b/report.md.gz");
    js_sink_title(f.k, " 年度報告 ", strlen(" 年度報告 "));
    T(f.k, "  \n ");                /* only white space: no lead section */
    H(f.k, 1, "摘要", 5);
    js_sink_title(f.k, "年度報告書", strlen("年度報告書")); /* still in time */
    T(f.k, "內容");
    H(f.k, 1, "結論", 20);
    js_sink_title(f.k, "太晚了", strlen("太晚了")); /* after a section: ignored */
    char *got = finish(&f, 30);
    ck_assert_str_eq(got, "DOC|年度報告書|text|UTF-8||\n"
                          "0|摘要|內容|5-20\n"
                          "1|結論||20-30\n");
    free(got);
    /* Default title: base name without .gz and one extension. */
    start(&f, "a/b/report.md.gz");
    T(f.k, "x");
    got = finish(&f, 1);
    ck_assert_str_eq(got, "DOC|report|text|UTF-8||\n0||x|0-1\n");
    free(got);
}
END_TEST

START_TEST(test_documents_in_one_file)
{
    fixture f;
    start(&f, "records.jsonl");
    js_sink_document(f.k, "a1", "第一篇", "{\"tag\":1}", 0);
    T(f.k, "甲");
    js_sink_document(f.k, "a2", NULL, NULL, 10);
    H(f.k, 1, "小節", 10);
    T(f.k, "乙");
    js_sink_document(f.k, "a3", NULL, NULL, 20); /* empty record */
    char *got = finish(&f, 30);
    ck_assert_str_eq(got, "DOC|第一篇|text|UTF-8|a1|{\"tag\":1}\n"
                          "0||甲|0-10\n"
                          "DOC|a2|text|UTF-8|a2|\n"
                          "0|小節|乙|10-20\n");
    ck_assert_uint_eq(f.st.documents, 3);
    free(got);
}
END_TEST

START_TEST(test_huge_section_split)
{
    fixture f;
    start(&f, "big.txt");
    H(f.k, 1, "長章", 0);
    char *block = malloc(1 << 20);
    for (size_t i = 0; i + 3 <= (1 << 20); i += 3)
        memcpy(block + i, "字", 3);
    size_t blen = (1 << 20) / 3 * 3;
    for (int i = 0; i < 10; i++) /* 10 MiB of body */
        ck_assert_int_eq(js_sink_text(f.k, block, blen), 0);
    ck_assert_int_eq(js_sink_end_file(f.k, 100), 0);
    ck_assert_uint_eq(f.st.sections, 3);
    ck_assert_uint_eq(f.st.warnings, 1);
    ck_assert(strstr(f.out.r.buf, "split into several sections") != NULL);
    js_sink_free(f.k);
    free(f.out.r.buf);
    free(block);
}
END_TEST

static int stop_at_second(void *ctx, const js_section *s)
{
    (void)ctx;
    return s->ordinal == 1 ? 42 : 0;
}

START_TEST(test_callback_stop_is_sticky)
{
    js_ingest_stats st = {0};
    js_sink *k = js_sink_new(NULL, NULL, &st);
    js_sink_begin_file(k, "x.txt", stop_at_second, NULL);
    ck_assert_int_eq(H(k, 1, "一", 0), 0);
    ck_assert_int_eq(H(k, 1, "二", 1), 0);
    ck_assert_int_eq(H(k, 1, "三", 2), 42);
    ck_assert_int_eq(T(k, "x"), 42);
    ck_assert_int_eq(js_sink_status(k), 42);
    js_sink_free(k);
}
END_TEST

static Suite *section_suite(void)
{
    return TU_SUITE("section", 60,
        test_paths, test_title_and_empty_lead, test_documents_in_one_file,
        test_huge_section_split, test_callback_stop_is_sticky);
}

int main(void)
{
    return tu_run(section_suite(), 0);
}
