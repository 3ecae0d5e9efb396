/*
 * check_fmt_html.c — the HTML format (fmt_html.c).
 *
 * In:  HTML documents, ingested from memory with the format forced.
 * Out: the whole rendering of testutil.h's tu_ingest — a DOC line, then
 *      ORDINAL|PATH|BODY|START-END per section, W|LINE|MESSAGE per
 *      warning — compared with the expected text row by row; then what
 *      needs a generated document (10,000 nested elements, headings
 *      across the source's 64 KiB chunks), the sniffer and registration.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "jiansuo.h"
#include "testutil.h"

#define DOC(title) "DOC|" title "|html|UTF-8||\n"

static const struct {
    const char *name;
    const char *in;
    const char *want;
} html_cases[] = {
    {"empty document", "", ""},
    {"text without tags", "只有文字，没有标签。",
     DOC("doc") "0||只有文字，没有标签。|0-30\n"},
    {"title, white space collapsed",
     "<html><head><title>\n  网页的\n  标题 </title></head>"
     "<body><p>正文内容</p></body></html>",
     DOC("网页的 标题") "0||正文内容|0-95\n"},
    {"h1 to h6 make the heading path",
     "<h1>一</h1><p>甲</p><h2>二</h2><h3>三</h3><h4>四</h4><h5>五</h5>"
     "<h6>六</h6><p>乙</p><h2>又二</h2><p>丙</p>",
     DOC("doc") "0|一|甲|0-22\n"
                "1|一 > 二||22-34\n"
                "2|一 > 二 > 三||34-46\n"
                "3|一 > 二 > 三 > 四||46-58\n"
                "4|一 > 二 > 三 > 四 > 五||58-70\n"
                "5|一 > 二 > 三 > 四 > 五 > 六|乙|70-92\n"
                "6|一 > 又二|丙|92-117\n"},
    {"markup inside a heading",
     "<h2 class=\"t\">第<em>二</em>章 <a href=\"#x\">安装</a>\n说明</h2>"
     "<p>正文</p>",
     DOC("doc") "0|第二章 安装 说明|正文|0-81\n"},
    {"head, script, style, nav, template, noscript dropped",
     "<html><head><meta name=\"k\" content=\"不要\"><style>p{color:red}"
     "</style><script>var s = \"<p>脚本</p>\";</script></head><body>"
     "<nav><a href=\"/\">首页</a><h2>导航</h2></nav>"
     "<p>看得见<script>不见</script>的字</p>"
     "<template><p>模板</p></template><noscript>无脚本</noscript>"
     "<p>结尾</p></body></html>",
     DOC("doc") "0||看得见的字\\n结尾|0-309\n"},
    {"entities decoded",
     "<p>甲 &amp; 乙 &lt;丙&gt; &#x4e2d;&#25991; &copy; &quot;引&quot;</p>",
     DOC("doc") "0||甲 & 乙 <丙> 中文 © \"引\"|0-72\n"},
    {"br and block elements break lines",
     "<div>第一块<br>换行<br/>再换</div><p>段落</p><ul><li>项一</li>"
     "<li>项二</li></ul>行内<span>相连</span>",
     DOC("doc") "0||第一块\\n换行\\n再换\\n段落\\n项一\\n项二\\n行内相连|0-118\n"},
    {"white space runs collapse",
     "<p>  前面的   空白\n\t和\r\n换行  </p><p><b>粗</b> <i>斜</i>"
     "<b>紧</b></p>",
     DOC("doc") "0||前面的 空白 和 换行\\n粗 斜紧|0-80\n"},
    {"pre keeps line breaks and spaces",
     "<p>前</p><pre>\n  第一行  缩进\n第二行\r\n\n第四行</pre><p>后</p>",
     DOC("doc") "0||前\\n  第一行  缩进\\n第二行\\n第四行\\n后|0-73\n"},
    {"table cells apart by a tab",
     "<table><tr><th>名称</th><th>数量</th></tr>\n<tr><td>苹果</td>"
     "<td> 3 </td></tr></table>",
     DOC("doc") "0||名称\t数量\\n苹果\t3|0-91\n"},
    {"broken HTML: one summary warning, sections still right",
     "<html><body>\n<h1>标题</h1>\n<p>未闭合的段落\n<div>块</div></div>"
     "</span>\n<h2>第二节</h2>\n<p>坏实体 &bogus; 和 &amp 结束\n"
     "</body></html>",
     DOC("doc") "0|标题|未闭合的段落\\n块|13-79\n"
     "W|4|broken HTML: 3 errors, the first: Unexpected end tag : div\n"
     "1|标题 > 第二节|坏实体 &bogus; 和 &amp 结束|79-149\n"},
    {"meta charset in already-decoded text is ignored",
     "<html><head><meta charset=\"big5\"><title>繁體標題</title></head>"
     "<body><h1>臺灣資訊</h1><p>這是繁體中文的內容。</p></body></html>",
     DOC("繁體標題") "0|臺灣資訊|這是繁體中文的內容。|73-145\n"},
    {"http-equiv charset is ignored too",
     "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
     "charset=gb2312\"></head><body><p>简体，也是已经解码的。</p></body></html>",
     DOC("doc") "0||简体，也是已经解码的。|0-147\n"},
    {"XHTML with an XML declaration",
     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<html xmlns=\"http://www.w3.org/"
     "1999/xhtml\"><head><title>扩展</title></head><body><h3>小节</h3>"
     "<p>内容</p></body></html>",
     DOC("扩展") "0|小节|内容|122-164\n"},
    {"image alt text stands for the image",
     "<h2><img src=\"a.png\" alt=\"图标\">说明</h2><p>看<img alt=\"这张图\" "
     "src=\"b.png\">吧<img src=\"c.png\"></p>",
     DOC("doc") "0|图标说明|看这张图吧|0-108\n"},
    {"empty heading heads nothing", "<p>甲</p><h2> </h2><p>乙</p>",
     DOC("doc") "0||甲\\n乙|0-30\n"},
    {"heading offset with attributes and line breaks",
     "<p>开头</p>\n<h2\n  id=\"a\" title=\"x<y\">\n属性</h2>\n<p>尾</p>",
     DOC("doc") "0||开头|0-14\n1|属性|尾|14-62\n"},
};

START_TEST(test_html_table)
{
    const char *in = html_cases[_i].in;
    int rc = -100;
    char *got = tu_ingest("doc.html", in, strlen(in), "html", &rc, NULL);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(!strcmp(got, html_cases[_i].want), "%s:\n got: %s\nwant: %s",
                  html_cases[_i].name, got, html_cases[_i].want);
    free(got);
}
END_TEST

/* Exactly one warning however many errors, and its count says how many. */
START_TEST(test_one_warning_for_many_errors)
{
    char *d = NULL;
    size_t len = 0;
    const char *piece = "<p>段落</div></span>&bad;\n";
    size_t pl = strlen(piece);
    d = malloc(pl * 500 + 1);
    ck_assert_ptr_nonnull(d);
    for (int i = 0; i < 500; i++, len += pl)
        memcpy(d + len, piece, pl);
    int rc = -100;
    js_ingest_stats st;
    char *got = tu_ingest("many.html", d, len, "html", &rc, &st);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(st.warnings, 1);
    ck_assert_msg(!strncmp(got, "W|1|broken HTML: 1000 errors, the first: ",
                           41), "%.200s", got);
    free(got);
    free(d);
}
END_TEST

/* 10,000 nested <div>s, then a heading and text that must be indexed. */
START_TEST(test_deep_nesting)
{
    const int depth = 10000;
    const char *tail = "<h2>深处之后</h2><p>最后的文字仍然在。</p>";
    size_t len = 0, cap = (size_t)depth * 11 + 200;
    char *d = malloc(cap);
    ck_assert_ptr_nonnull(d);
    memcpy(d, "<html><body>", 12);
    len = 12;
    for (int i = 0; i < depth; i++, len += 5)
        memcpy(d + len, "<div>", 5);
    memcpy(d + len, "深", 3);
    len += 3;
    for (int i = 0; i < depth; i++, len += 6)
        memcpy(d + len, "</div>", 6);
    size_t h = len;
    memcpy(d + len, tail, strlen(tail));
    len += strlen(tail);
    int rc = -100;
    js_ingest_stats st;
    char *got = tu_ingest("deep.html", d, len, "html", &rc, &st);
    char want[256];
    snprintf(want, sizeof want,
             DOC("deep") "0||深|0-%zu\n1|深处之后|最后的文字仍然在。|%zu-%zu\n",
             h, h, len);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(got, want);
    ck_assert_uint_eq(st.warnings, 0);
    free(got);
    free(d);
}
END_TEST

typedef struct {
    size_t n;
    uint64_t start[200];
    char heading[200][32];
    char body[200][64];
} collected;

static int collect_section(void *ctx, const js_section *sec)
{
    collected *c = ctx;
    if (c->n < 200) {
        c->start[c->n] = sec->start;
        snprintf(c->heading[c->n], sizeof c->heading[0], "%s",
                 sec->depth ? sec->heading : "");
        snprintf(c->body[c->n], sizeof c->body[0], "%.*s",
                 (int)(sec->body_len < 60 ? sec->body_len : 60), sec->body);
    }
    c->n++;
    return 0;
}

/* Headings spread over several of the source's 64 KiB chunks (some
 * tags straddle a chunk boundary): every offset is the '<' of its tag. */
START_TEST(test_offsets_across_chunks)
{
    size_t cap = 1 << 20, len = 0;
    char *d = malloc(cap);
    uint64_t want[120];
    ck_assert_ptr_nonnull(d);
    len += (size_t)snprintf(d, cap, "<html><body>\n");
    for (int i = 0; i < 120; i++) {
        want[i] = len;
        len += (size_t)snprintf(d + len, cap - len,
                                "<h2 class=\"c%d\">第%d节</h2>\r\n<p>", i, i);
        /* Filler of varying length so that tags fall on chunk ends. */
        for (int j = 0; j < 200 + i * 7; j++)
            len += (size_t)snprintf(d + len, cap - len, "字");
        len += (size_t)snprintf(d + len, cap - len, "</p>\n");
    }
    len += (size_t)snprintf(d + len, cap - len, "</body></html>\n");
    ck_assert_uint_gt(len, 3 * 65536);

    collected c;
    memset(&c, 0, sizeof c);
    js_ingest_options o = JS_INGEST_OPTIONS_INIT;
    o.format = "html";
    ck_assert_int_eq(
        tu_ingest_run(&o, "c.html", d, len, collect_section, &c, NULL), 0);
    ck_assert_uint_eq(c.n, 120);
    for (int i = 0; i < 120; i++) {
        char h[32];
        snprintf(h, sizeof h, "第%d节", i);
        ck_assert_str_eq(c.heading[i], h);
        ck_assert_uint_eq(c.start[i], want[i]);
        ck_assert_msg(!strncmp(c.body[i], "字字字", 9), "%s", c.body[i]);
    }
    free(d);
}
END_TEST

/* Ingests d with the format and the encoding forced (so that bytes that
 * are not UTF-8 reach the parser) and returns the rendering of the
 * sections (caller frees); *html_warnings counts the "broken HTML"
 * summaries among the warnings. */
typedef struct {
    tu_ingest_out out;
    size_t html_warnings;
} forced_out;

static void count_warning(void *ctx, const char *file, uint64_t line,
                          uint64_t offset, const char *msg)
{
    forced_out *o = ctx;
    o->html_warnings += !strncmp(msg, "broken HTML", 11);
    tu_on_warning(&o->out, file, line, offset, msg);
}

static char *ingest_forced(const char *d, size_t len, int *rc,
                           size_t *html_warnings)
{
    forced_out o;
    memset(&o, 0, sizeof o);
    js_ingest_options opts = JS_INGEST_OPTIONS_INIT;
    opts.format = "html";
    opts.encoding = "UTF-8";
    opts.warn = count_warning;
    opts.warn_ctx = &o;
    tu_appendf(&o.out.r, "%s", "");
    *rc = tu_ingest_run(&opts, "f.html", d, len, tu_on_section, &o.out, NULL);
    *html_warnings = o.html_warnings;
    return o.out.r.buf;
}

/* A byte that is not UTF-8 must not make libxml2 read the rest of the
 * document as Latin-1: it becomes a space, byte for byte, and the
 * offsets after it stay right. */
START_TEST(test_invalid_byte_keeps_utf8)
{
    const char *d = "<p>前面\xFF后面</p><h2>标题</h2><p>之后的中文</p>";
    int rc = -100;
    size_t nw = 0;
    char *got = ingest_forced(d, strlen(d), &rc, &nw);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(nw, 0);
    ck_assert_msg(strstr(got, "0||前面 后面|0-20\n1|标题|之后的中文|20-57\n"),
                  "%s", got);
    free(got);
}
END_TEST

/* A sink callback's non-zero return stops the parse and comes back. */
START_TEST(test_callback_stops)
{
    const char *d = "<h1>一</h1>甲<h1>二</h1>乙<h1>三</h1>丙</div>";
    int n = 0;
    ck_assert_int_eq(
        tu_ingest_stop_at("html", "s.html", d, strlen(d), 2, 42, &n), 42);
    ck_assert_int_eq(n, 2);
}
END_TEST

START_TEST(test_extensions)
{
    static const char *const names[] = {"a.html", "a.htm", "a.xhtml"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        int rc = -100;
        char *got =
            tu_ingest(names[i], "<p>文字</p>", 13, NULL, &rc, NULL);
        ck_assert_int_eq(rc, 0);
        ck_assert_msg(strstr(got, "|html|") != NULL, "%s: %s", names[i], got);
        free(got);
    }
    ck_assert_ptr_eq(js_format_by_name("html"), &js_format_html);
}
END_TEST

static const struct {
    const char *head;
    int min, max;
} sniff_cases[] = {
    {"<!DOCTYPE html>\n<html>", 90, 90},
    {"<!doctype HTML><title>x</title>", 90, 90},
    {"\xEF\xBB\xBF  \n<HTML lang=\"zh\">", 90, 90},
    {"<!-- 注释 -->\n<head><title>t</title>", 90, 90},
    {"<?xml version=\"1.0\"?>\n<!-- c -->\n<html>", 90, 90},
    {"<body><p>x</p>", 90, 90},
    {"<div>\n  <p>文字</p>\n</div>\n<html>", 90, 90},
    {"<p>只是片段</p>", 10, 30},
    {"# 标题\n", 0, 0},
    {"普通文字 <html> 在后面", 90, 90},
    {"", 0, 0},
    {"<!-- 没有结束的注释", 0, 0},
};

START_TEST(test_sniff)
{
    const char *h = sniff_cases[_i].head;
    int score = js_format_html.sniff(h, strlen(h));
    ck_assert_msg(score >= sniff_cases[_i].min && score <= sniff_cases[_i].max,
                  "%s: %d", h, score);
}
END_TEST

/* Property: random mixes of HTML pieces never crash, always return 0,
 * and give at most one warning. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

START_TEST(test_property_random_pieces)
{
    static const char *pieces[] = {
        "<h1>", "</h1>", "<h3 a='<'>", "</h3>", "<p>", "</p>", "<div>",
        "</div>", "<script>", "</script>", "<nav>", "</nav>", "<pre>",
        "</pre>", "<title>", "</title>", "<br>", "<td>", "<tr>", "中文",
        "字", " ", "\n", "&amp;", "&#x4e2d;", "&bad", "<", ">", "<!--",
        "-->", "\xFF", "<meta charset=big5>", "<head>", "<body>",
    };
    char buf[600];
    for (int iter = 0; iter < 2000; iter++) {
        size_t len = tu_random_pieces(buf, sizeof buf - 1, 500, pieces,
                                      sizeof pieces / sizeof *pieces,
                                      &rng_state);
        int rc = -100;
        size_t nw = 0;
        char *got = ingest_forced(buf, len, &rc, &nw);
        ck_assert_msg(rc == 0, "iteration %d: rc %d", iter, rc);
        ck_assert_uint_le(nw, 1);
        free(got);
    }
}
END_TEST

static Suite *html_suite(void)
{
    Suite *s = suite_create("fmt_html");
    TCase *tc = tcase_create("html");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_html_table, 0,
                        sizeof html_cases / sizeof *html_cases);
    tcase_add_test(tc, test_one_warning_for_many_errors);
    tcase_add_test(tc, test_deep_nesting);
    tcase_add_test(tc, test_offsets_across_chunks);
    tcase_add_test(tc, test_invalid_byte_keeps_utf8);
    tcase_add_test(tc, test_callback_stops);
    tcase_add_test(tc, test_extensions);
    tcase_add_loop_test(tc, test_sniff, 0,
                        sizeof sniff_cases / sizeof *sniff_cases);
    tcase_add_test(tc, test_property_random_pieces);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(html_suite(), 0);
}
