/*
 * check_fmt_markdown.c — the Markdown format (fmt_markdown.c).
 *
 * In:  Markdown documents, ingested from memory with the format forced.
 * Out: the whole rendering of testutil.h's tu_ingest — a DOC line, then
 *      ORDINAL|PATH|BODY|START-END per section, W|LINE|MESSAGE per
 *      warning — compared with the expected text row by row; then the
 *      chunking that keeps memory bounded (documents past the chunk size,
 *      offsets across cuts), the format's sniffer and its registration.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "jiansuo.h"
#include "testutil.h"

#define DOC(title) "DOC|" title "|markdown|UTF-8||\n"

static const struct {
    const char *name;
    const char *in;
    const char *want;
} md_cases[] = {
    {"empty document", "", ""},
    {"no headings", "春眠不觉晓，\n处处闻啼鸟。\n\n夜来风雨声。\n",
     DOC("doc") "0||春眠不觉晓， 处处闻啼鸟。\\n夜来风雨声。|0-58\n"},
    {"ATX levels and paths",
     "# 用户手册\n导言。\n## 第二章 安装\n### 2.1 下载\n下载文件。\n"
     "### 2.2 解压\n## 第三章 使用\n",
     DOC("用户手册") "0|用户手册|导言。|0-25\n"
                     "1|用户手册 > 第二章 安装||25-45\n"
                     "2|用户手册 > 第二章 安装 > 2.1 下载|下载文件。|45-76\n"
                     "3|用户手册 > 第二章 安装 > 2.2 解压||76-91\n"
                     "4|用户手册 > 第三章 使用||91-111\n"},
    {"text before the first heading",
     "前言。\n\n## 第一节\n正文。\n",
     DOC("doc") "0||前言。|0-11\n1|第一节|正文。|11-34\n"},
    {"closing hashes, level six, seven hashes are text",
     "###### 六级 ######\n内容\n####### 不是标题\n",
     DOC("doc") "0|六级|内容 ####### 不是标题|0-49\n"},
    {"no space after hash is text", "#标签\n",
     DOC("doc") "0||#标签|0-8\n"},
    {"setext headings",
     "文档标题\n========\n引言。\n\n小节\n----\n小节正文。\n",
     DOC("文档标题") "0|文档标题|引言。|0-33\n"
                     "1|文档标题 > 小节|小节正文。|33-61\n"},
    {"setext heading of two lines",
     "第一行\n第二行\n===\n正文\n",
     DOC("第一行 第二行") "0|第一行 第二行|正文|0-31\n"},
    {"--- after a blank line is a break",
     "段落。\n\n---\n\n下一段。\n",
     DOC("doc") "0||段落。\\n下一段。|0-29\n"},
    {"--- under a list item is a break",
     "- 项目\n---\n文字\n",
     DOC("doc") "0||项目\\n文字|0-20\n"},
    {"backtick fence hides #",
     "# 标题\n```sh\n# 注释 不是标题\necho 你好\n```\n后文\n",
     DOC("标题") "0|标题|# 注释 不是标题\\necho 你好\\n后文|0-60\n"},
    {"tilde fence hides #, needs a long enough closer",
     "## 代码\n~~~~\n# 一\n~~~\n# 二\n~~~~\n尾\n",
     DOC("doc") "0|代码|# 一\\n~~~\\n# 二\\n尾|0-40\n"},
    {"fence of backticks is not closed by tildes",
     "```\n# 甲\n~~~\n# 乙\n```\n",
     DOC("doc") "0||# 甲\\n~~~\\n# 乙|0-24\n"},
    {"unclosed fence runs to the end",
     "前\n```\n# 里面\n",
     DOC("doc") "0||前\\n# 里面|0-17\n"},
    {"indented code", "说明：\n\n    # 缩进的代码\n    第二行\n\n后面\n",
     DOC("doc") "0||说明：\\n# 缩进的代码\\n第二行\\n后面|0-55\n"},
    {"front matter title",
     "---\ntitle: \"前言与致谢\"\nauthor: 某人\n---\n# 第一章\n内容\n",
     DOC("前言与致谢") "0|第一章|内容|48-67\n"},
    {"front matter title unquoted with comment",
     "---\ntitle: 简单标题 # 注释\n---\n正文\n",
     DOC("简单标题") "0||正文|0-44\n"},
    {"TOML front matter",
     "+++\ntitle = '配置说明'\n+++\n## 选项\n",
     DOC("配置说明") "0|选项||31-41\n"},
    {"front matter without title: first H1 is the title",
     "---\nauthor: 某人\n---\n# 真正的标题\n",
     DOC("真正的标题") "0|真正的标题||23-41\n"},
    {"--- pair without keys is not front matter",
     "---\n# 标题\n---\n正文\n",
     DOC("标题") "0|标题|正文|4-24\n"},
    {"only the first H1 is the title",
     "## 前置\n# 甲\n# 乙\n",
     DOC("甲") "0|前置||0-10\n1|甲||10-16\n2|乙||16-22\n"},
    {"inline markup stripped",
     "这是*强调*和**加粗**，`代码`，~~删除~~，[链接文字](http://example.com "
     "\"标题\")，![图片说明](a.png)。\n",
     DOC("doc") "0||这是强调和加粗，代码，删除，链接文字，图片说明。|0-126\n"},
    {"markup in a heading",
     "## *重要* 的 `配置` [说明](x)\n",
     DOC("doc") "0|重要 的 配置 说明||0-37\n"},
    {"entities",
     "A &amp; B &lt;c&gt; &#20013;&#x6587; &copy; &nbsp;x &bogus; &#0;\n",
     DOC("doc") "0||A & B <c> 中文 © \xC2\xA0x &bogus; \xEF\xBF\xBD|0-65\n"},
    {"entity in a heading", "# 甲 &amp; 乙\n",
     DOC("甲 & 乙") "0|甲 & 乙||0-16\n"},
    {"lists",
     "- 苹果\n- 香蕉\n  - 小香蕉\n\n1. 第一\n2. 第二\n",
     DOC("doc") "0||苹果\\n香蕉\\n小香蕉\\n第一\\n第二|0-53\n"},
    {"block quote", "> 引用的话\n> 继续\n\n正文\n",
     DOC("doc") "0||引用的话 继续\\n正文|0-32\n"},
    {"table cells", "| 名称 | 数量 |\n|---|---|\n| 苹果 | 3 |\n",
     DOC("doc") "0||名称\t数量\\n苹果\t3|0-45\n"},
    {"hard line break", "第一行  \n第二行\\\n第三行\n",
     DOC("doc") "0||第一行\\n第二行\\n第三行|0-33\n"},
    {"inline HTML tags dropped",
     "文字<span class=\"x\">中间</span>结尾<br/>下一行\n",
     DOC("doc") "0||文字中间结尾\\n下一行|0-56\n"},
    {"HTML block keeps text, drops tags, script and comments",
     "<div class=\"note\">\n<p>注意&amp;小心</p>\n<script>var a = 1 < 2;"
     "</script>\n</div>\n\n<!--\n# 注释里的标题\n-->\n后文\n",
     DOC("doc") "0||注意&小心\\n后文|0-121\n"},
    {"heading inside a block quote still heads",
     "> ## 引用中的标题\n> 内容\n",
     DOC("doc") "0|引用中的标题|内容|0-33\n"},
    {"empty ATX heading heads nothing", "正文\n\n#\n后面\n",
     DOC("doc") "0||正文\\n后面|0-17\n"},
    {"CRLF line ends",
     "# 甲\r\n一\r\n\r\n## 乙\r\n二\r\n",
     DOC("甲") "0|甲|一|0-14\n1|甲 > 乙|二|14-27\n"},
    {"byte order mark (offsets are after it)",
     "\xEF\xBB\xBF# 标题\n正文\n",
     DOC("标题") "0|标题|正文|0-16\n"},
};

START_TEST(test_markdown_table)
{
    const char *in = md_cases[_i].in;
    int rc = -100;
    char *got = tu_ingest("doc.md", in, strlen(in), "markdown", &rc, NULL);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(!strcmp(got, md_cases[_i].want), "%s:\n got: %s\nwant: %s",
                  md_cases[_i].name, got, md_cases[_i].want);
    free(got);
}
END_TEST

/* Markdown is picked by the extension when no format is forced. */
START_TEST(test_extensions)
{
    static const char *const names[] = {"a.md", "a.markdown", "a.mdown",
                                        "a.mkd", "a.mkdn"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        int rc = -100;
        char *got = tu_ingest(names[i], "# 标题\n", 9, NULL, &rc, NULL);
        ck_assert_int_eq(rc, 0);
        ck_assert_msg(strstr(got, "|markdown|") != NULL, "%s: %s", names[i],
                      got);
        free(got);
    }
    ck_assert_ptr_eq(js_format_by_name("markdown"), &js_format_markdown);
}
END_TEST

static const struct {
    const char *head;
    int min, max;
} sniff_cases[] = {
    {"# 标题\n正文\n", 60, 60},
    {"\xEF\xBB\xBF\n\n# 标题\n", 60, 60},
    {"标题\n====\n正文\n", 60, 60},
    {"标题\n----\n", 60, 60},
    {"说明\n\n```c\nint x;\n```\n", 60, 60},
    {"---\ntitle: x\n---\n", 30, 60},
    {"普通的文字。\n没有标记。\n", 0, 10},
    {"#!/bin/sh\necho\n", 0, 10},
    {"", 0, 10},
    {"文字\n\n----\n", 0, 10},
};

START_TEST(test_sniff)
{
    const char *h = sniff_cases[_i].head;
    int score = js_format_markdown.sniff(h, strlen(h));
    ck_assert_msg(score >= sniff_cases[_i].min && score <= sniff_cases[_i].max,
                  "%s: %d", h, score);
}
END_TEST

/* Appends s to a growing malloc'ed buffer (aborts when out of memory). */
static void add(char **b, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *b = realloc(*b, *cap);
        ck_assert_ptr_nonnull(*b);
    }
    memcpy(*b + *len, s, n);
    *len += n;
    (*b)[*len] = 0;
}

static void adds(char **b, size_t *len, size_t *cap, const char *s)
{
    add(b, len, cap, s, strlen(s));
}

typedef struct {
    size_t n;
    uint64_t start[64], end[64];
    char heading[64][64];
    size_t body_len[64];
    char body_head[64][48];
    uint64_t last_end;
    int contiguous;
} collected;

static int collect_section(void *ctx, const js_section *sec)
{
    collected *c = ctx;
    if (c->n && sec->start != c->last_end)
        c->contiguous = 0;
    c->last_end = sec->end;
    if (c->n < 64) {
        c->start[c->n] = sec->start;
        c->end[c->n] = sec->end;
        snprintf(c->heading[c->n], sizeof c->heading[0], "%s",
                 sec->depth ? sec->heading : "");
        c->body_len[c->n] = sec->body_len;
        snprintf(c->body_head[c->n], sizeof c->body_head[0], "%.*s",
                 (int)(sec->body_len < 40 ? sec->body_len : 40), sec->body);
    }
    c->n++;
    return 0;
}

static int ingest_collect(const char *data, size_t len, collected *c,
                          js_ingest_stats *st)
{
    js_ingest_options o = JS_INGEST_OPTIONS_INIT;
    o.format = "markdown";
    o.encoding = "UTF-8"; /* bytes that are not UTF-8 reach the parser */
    memset(c, 0, sizeof *c);
    c->contiguous = 1;
    return tu_ingest_run(&o, "big.md", data, len, collect_section, c, st);
}

/* Many headings: every one cuts a chunk; the offsets must still be the
 * headings' own, across CRLF lines, and code fences must hold across
 * the cuts. */
START_TEST(test_many_chunks_offsets)
{
    char *b = NULL;
    size_t len = 0, cap = 0;
    uint64_t want[40];
    for (int i = 0; i < 40; i++) {
        char line[128];
        want[i] = len;
        int n = snprintf(line, sizeof line,
                         "## 第%d节\r\n正文第%d段。\r\n```\r\n# 假标题%d\r\n```\r\n\r\n",
                         i, i, i);
        add(&b, &len, &cap, line, (size_t)n);
    }
    collected c;
    js_ingest_stats st;
    ck_assert_int_eq(ingest_collect(b, len, &c, &st), 0);
    ck_assert_uint_eq(c.n, 40);
    ck_assert(c.contiguous);
    for (int i = 0; i < 40; i++) {
        char h[32];
        snprintf(h, sizeof h, "第%d节", i);
        ck_assert_str_eq(c.heading[i], h);
        ck_assert_uint_eq(c.start[i], want[i]);
    }
    ck_assert_uint_eq(c.end[39], len);
    free(b);
}
END_TEST

/* Setext headings cut chunks before the paragraph they underline, so a
 * two-line heading stays whole; a list item's "---" is no heading. */
START_TEST(test_setext_chunks)
{
    char *b = NULL;
    size_t len = 0, cap = 0;
    uint64_t want[30];
    for (int i = 0; i < 30; i++) {
        char text[256];
        adds(&b, &len, &cap, "一段前文。\n- 列表项\n---\n\n");
        want[i] = len;
        snprintf(text, sizeof text, "标题%d\n第二行\n%s\n正文%d。\n\n", i,
                 i % 2 ? "======" : "---", i);
        adds(&b, &len, &cap, text);
    }
    collected c;
    js_ingest_stats st;
    ck_assert_int_eq(ingest_collect(b, len, &c, &st), 0);
    ck_assert(c.contiguous);
    ck_assert_uint_eq(c.n, 31); /* the text before the first heading too */
    ck_assert_str_eq(c.body_head[0], "一段前文。\n列表项");
    for (int i = 0; i < 30; i++) {
        char h[32];
        snprintf(h, sizeof h, "标题%d 第二行", i);
        ck_assert_str_eq(c.heading[i + 1], h);
        ck_assert_uint_eq(c.start[i + 1], want[i]);
    }
    free(b);
}
END_TEST

/* A document with no heading and more text than one chunk: it is cut at
 * blank lines, and a heading after the cut still gets its exact offset.
 * Then a fenced block longer than the hard limit: a '#' line deep inside
 * it is still code. */
START_TEST(test_big_chunks)
{
    char *b = NULL;
    size_t len = 0, cap = 0;
    const char *para = "这是一段用来填充的文字，它会重复很多次。\n"
                       "第二行也是填充。\n\n";
    size_t plen = strlen(para);
    while (len < JS_SECTION_MAX_BYTES + (JS_SECTION_MAX_BYTES / 4))
        add(&b, &len, &cap, para, plen);
    uint64_t h1 = len;
    adds(&b, &len, &cap, "# 大文件之后的标题\n尾部正文。\n");
    uint64_t h2 = len;
    adds(&b, &len, &cap, "## 代码\n```\n");
    const char *code = "int x = 1; /* 填充代码行 */\n";
    size_t clen = strlen(code);
    while (len - h2 < 2 * (size_t)JS_SECTION_MAX_BYTES + 1000)
        add(&b, &len, &cap, code, clen);
    adds(&b, &len, &cap, "# 代码里的井号\n");
    for (int i = 0; i < 100; i++)
        add(&b, &len, &cap, code, clen);
    adds(&b, &len, &cap, "```\n");
    uint64_t h3 = len;
    adds(&b, &len, &cap, "## 结尾\n完。\n");

    collected c;
    js_ingest_stats st;
    ck_assert_int_eq(ingest_collect(b, len, &c, &st), 0);
    ck_assert(c.contiguous);
    /* The first section (no heading) may be split by the sink, the code
     * section too; find the headed ones by name. */
    int seen1 = 0, seen3 = 0;
    size_t code_bytes = 0;
    for (size_t i = 0; i < c.n && i < 64; i++) {
        ck_assert_msg(strcmp(c.heading[i], "代码里的井号") != 0,
                      "a # line in code became a heading");
        if (!strcmp(c.heading[i], "大文件之后的标题")) {
            ck_assert_uint_eq(c.start[i], h1);
            ck_assert_uint_eq(c.end[i], h2);
            ck_assert_str_eq(c.body_head[i], "尾部正文。");
            seen1 = 1;
        }
        if (!strcmp(c.heading[i], "代码"))
            code_bytes += c.body_len[i];
        if (!strcmp(c.heading[i], "结尾")) {
            ck_assert_uint_eq(c.start[i], h3);
            ck_assert_uint_eq(c.end[i], len);
            seen3 = 1;
        }
    }
    ck_assert(seen1 && seen3);
    /* All the code came through as body (lines without their "\n"). */
    ck_assert_uint_ge(code_bytes, h3 - h2 - 2000);
    free(b);
}
END_TEST

/* A sink callback's non-zero return stops the parse and comes back. */
START_TEST(test_callback_stops)
{
    const char *d = "# 一\n甲\n# 二\n乙\n# 三\n丙\n";
    int n = 0;
    ck_assert_int_eq(
        tu_ingest_stop_at("markdown", "s.md", d, strlen(d), 2, 42, &n), 42);
    ck_assert_int_eq(n, 2);
}
END_TEST

/* Property: random mixes of Markdown pieces never crash, always return 0,
 * and give contiguous sections that cover the document. */
static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

START_TEST(test_property_random_pieces)
{
    static const char *pieces[] = {
        "# 标题\n", "## 二级\n", "正文", "\n", "\n\n", "```\n", "~~~\n",
        "    缩进\n", "===\n", "---\n", "- 列表\n", "> 引用\n", "<!--\n",
        "-->\n", "<div>\n", "&amp;", "&#x4e2d;", "*强*", "[链](u)", "| a | b |\n",
        "\r\n", "\r", "+++\n", "title: 甲\n", "\xFF", "`", "<", "#",
    };
    char buf[600];
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = tu_random_pieces(buf, sizeof buf - 1, 500, pieces,
                                      sizeof pieces / sizeof *pieces,
                                      &rng_state);
        collected c;
        js_ingest_stats st;
        ck_assert_int_eq(ingest_collect(buf, len, &c, &st), 0);
        ck_assert_msg(c.contiguous, "iteration %d: gap between sections",
                      iter);
        if (c.n)
            ck_assert_uint_eq(c.last_end, len);
    }
}
END_TEST

static Suite *markdown_suite(void)
{
    Suite *s = suite_create("fmt_markdown");
    TCase *tc = tcase_create("markdown");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_markdown_table, 0,
                        sizeof md_cases / sizeof *md_cases);
    tcase_add_test(tc, test_extensions);
    tcase_add_loop_test(tc, test_sniff, 0,
                        sizeof sniff_cases / sizeof *sniff_cases);
    tcase_add_test(tc, test_many_chunks_offsets);
    tcase_add_test(tc, test_setext_chunks);
    tcase_add_test(tc, test_big_chunks);
    tcase_add_test(tc, test_callback_stops);
    tcase_add_test(tc, test_property_random_pieces);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(markdown_suite(), 0);
}
