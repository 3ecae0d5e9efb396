/*
 * check_fmt_jsonl.c — the JSON Lines format (fmt_jsonl.c): records in,
 * documents out, with their ids, titles, metadata and sections, and what
 * becomes of bad lines.
 *
 * In:  JSON Lines text through js_ingest_memory.  Table rows go through
 *      tu_ingest (format forced to "jsonl") and state the whole rendering
 *      of testutil.h plus the stats; records too big to write down (10 MB,
 *      20 MB, the 16 MiB limit), NUL bytes in bodies and lines that
 *      straddle the source's 64 KiB chunks go through a collector that
 *      keeps every document's body whole.
 * Out: pass/fail; a failing row prints the rendering it got.
 */
#include "config.h"

#include <check.h>
#include <iconv.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "jiansuo.h"
#include "testutil.h"

/* The record size limit, as fmt_jsonl.c has it. */
#define RECORD_MAX ((size_t)4 * JS_SECTION_MAX_BYTES)

/* Removes from a rendering the DOC lines that do not precede a section 0.
 * testutil.h tells documents apart by the address of the js_document,
 * which the sink builds on its stack: whether a later section of the same
 * document gets a DOC line again depends on stack layout, so the rows
 * state one DOC line per document and the rendering is brought to that. */
static void drop_repeated_doc_lines(char *s)
{
    char *out = s, *p = s;
    while (*p) {
        char *eol = strchr(p, '\n');
        char *next = eol ? eol + 1 : p + strlen(p);
        int keep = strncmp(p, "DOC|", 4) != 0 || strncmp(next, "0|", 2) == 0;
        if (keep) {
            memmove(out, p, (size_t)(next - p));
            out += next - p;
        }
        p = next;
    }
    *out = '\0';
}

/* ------------------------------------------------------------------
 * The table: input, whole rendering, stats.
 * ---------------------------------------------------------------- */

static const struct {
    const char *name;
    const char *in;
    const char *want;
    uint64_t documents, sections, skipped, warnings;
} cases[] = {
    {"text record",
     "{\"id\":\"p1\",\"title\":\"静夜思\",\"text\":\"床前明月光，疑是地上霜。\"}\n",
     "DOC|静夜思|jsonl|UTF-8|p1|\n"
     "0||床前明月光，疑是地上霜。|0-78\n",
     1, 1, 0, 0},
    {"sections record",
     "{\"id\":\"s1\",\"title\":\"三国演义\",\"sections\":["
     "{\"text\":\"开篇词\"},"
     "{\"heading\":\"第一回\",\"text\":\"宴桃园豪杰三结义\"},"
     "{\"text\":\"斩黄巾英雄首立功\"},"
     "{\"heading\":\"第二回\",\"text\":\"张翼德怒鞭督邮\"}]}\n",
     "DOC|三国演义|jsonl|UTF-8|s1|\n"
     "0||开篇词|0-0\n"
     "1|第一回|宴桃园豪杰三结义\\n斩黄巾英雄首立功|0-0\n"
     "2|第二回|张翼德怒鞭督邮|0-218\n",
     1, 3, 0, 0},
    {"text, then sections",
     "{\"id\":\"b1\",\"title\":\"红楼梦\",\"text\":\"满纸荒唐言\","
     "\"sections\":[{\"heading\":\"第一回\",\"text\":\"甄士隐梦幻识通灵\"}]}\n",
     "DOC|红楼梦|jsonl|UTF-8|b1|\n"
     "0||满纸荒唐言|0-0\n"
     "1|第一回|甄士隐梦幻识通灵|0-128\n",
     1, 2, 0, 0},
    {"metadata keeps every other field, in order",
     "{\"id\":\"m1\",\"作者\":\"李白\",\"text\":\"白日依山尽\",\"year\":701,"
     "\"rating\":4.5,\"ratio\":0.1,\"neg\":-3,\"tags\":[\"唐诗\",\"五言\"],"
     "\"where\":{\"省\":\"山西\",\"城\":{\"名\":\"永济\"}},\"classic\":true,"
     "\"lost\":false,\"note\":null}\n",
     "DOC|m1|jsonl|UTF-8|m1|{\"作者\":\"李白\",\"year\":701,\"rating\":4.5,"
     "\"ratio\":0.1,\"neg\":-3,\"tags\":[\"唐诗\",\"五言\"],\"where\":{\"省\":"
     "\"山西\",\"城\":{\"名\":\"永济\"}},\"classic\":true,\"lost\":false,"
     "\"note\":null}\n"
     "0||白日依山尽|0-215\n",
     1, 1, 0, 0},
    {"metadata numbers get the digits they need to read back",
     "{\"id\":\"r1\",\"text\":\"精度\",\"a\":0.1,\"b\":0.30000000000000004}\n",
     "DOC|r1|jsonl|UTF-8|r1|{\"a\":0.10000000000000001,"
     "\"b\":0.30000000000000004}\n"
     "0||精度|0-60\n",
     1, 1, 0, 0},
    {"numeric ids",
     "{\"id\":42,\"text\":\"四十二\"}\n"
     "{\"id\":-7,\"text\":\"负七\"}\n"
     "{\"id\":1e3,\"text\":\"一千\"}\n"
     "{\"id\":2.5,\"text\":\"二点五\"}\n"
     "{\"id\":9007199254740993,\"text\":\"大数\"}\n",
     "DOC|42|jsonl|UTF-8|42|\n"
     "0||四十二|0-29\n"
     "DOC|-7|jsonl|UTF-8|-7|\n"
     "0||负七|29-55\n"
     "DOC|1000|jsonl|UTF-8|1000|\n"
     "0||一千|55-82\n"
     "DOC|2.5|jsonl|UTF-8|2.5|\n"
     "0||二点五|82-112\n"
     "DOC|9007199254740993|jsonl|UTF-8|9007199254740993|\n"
     "0||大数|112-152\n",
     5, 5, 0, 0},
    {"missing, null and empty ids become the line number",
     "{\"title\":\"无名\",\"text\":\"没有编号的记录\"}\n"
     "{\"id\":null,\"text\":\"编号为空\"}\n"
     "{\"id\":\"\",\"text\":\"编号是空串\"}\n",
     "W|1|the record has no \"id\"; using the line number 1\n"
     "W|2|the record has no \"id\"; using the line number 2\n"
     "DOC|无名|jsonl|UTF-8|1|\n"
     "0||没有编号的记录|0-50\n"
     "W|3|\"id\" is empty; using the line number 3\n"
     "DOC|2|jsonl|UTF-8|2|\n"
     "0||编号为空|50-84\n"
     "DOC|3|jsonl|UTF-8|3|\n"
     "0||编号是空串|84-119\n",
     3, 3, 0, 3},
    {"ids of other types become the line number",
     "{\"id\":[\"x\"],\"text\":\"编号是数组\"}\n"
     "{\"id\":{\"a\":1},\"text\":\"编号是对象\"}\n"
     "{\"id\":true,\"text\":\"编号是布尔\"}\n"
     "{\"id\":\"a\\u0000b\",\"text\":\"编号有空字符\"}\n",
     "W|1|\"id\" is an array; using the line number 1\n"
     "W|2|\"id\" is an object; using the line number 2\n"
     "DOC|1|jsonl|UTF-8|1|\n"
     "0||编号是数组|0-38\n"
     "W|3|\"id\" is a boolean; using the line number 3\n"
     "DOC|2|jsonl|UTF-8|2|\n"
     "0||编号是对象|38-78\n"
     "W|4|\"id\" contains a NUL character; using the line number 4\n"
     "DOC|3|jsonl|UTF-8|3|\n"
     "0||编号是布尔|78-115\n"
     "DOC|4|jsonl|UTF-8|4|\n"
     "0||编号有空字符|115-161\n",
     4, 4, 0, 4},
    {"missing or empty title: the id; titles are cleaned",
     "{\"id\":\"t1\",\"text\":\"没有标题\"}\n"
     "{\"id\":\"t2\",\"title\":\"\",\"text\":\"空标题\"}\n"
     "{\"id\":\"t3\",\"title\":\"  秋 思  \",\"text\":\"枯藤老树昏鸦\"}\n",
     "DOC|t1|jsonl|UTF-8|t1|\n"
     "0||没有标题|0-34\n"
     "DOC|t2|jsonl|UTF-8|t2|\n"
     "0||空标题|34-76\n"
     "DOC|秋 思|jsonl|UTF-8|t3|\n"
     "0||枯藤老树昏鸦|76-138\n",
     3, 3, 0, 0},
    {"NUL in a title becomes a space",
     "{\"id\":\"z\",\"title\":\"前\\u0000后\",\"text\":\"标题里有空字符\"}",
     "DOC|前 后|jsonl|UTF-8|z|\n"
     "0||标题里有空字符|0-64\n",
     1, 1, 0, 0},
    {"null fields count as absent",
     "{\"id\":\"n1\",\"title\":null,\"text\":\"有内容\",\"sections\":null,"
     "\"extra\":null}\n",
     "DOC|n1|jsonl|UTF-8|n1|{\"extra\":null}\n"
     "0||有内容|0-73\n",
     1, 1, 0, 0},
    {"empty headings continue the section",
     "{\"id\":\"h1\",\"title\":\"空标题节\",\"text\":\"正文\",\"sections\":["
     "{\"heading\":\"\",\"text\":\"接续\"},{\"heading\":\"  \",\"text\":\"再接\"},"
     "{\"heading\":\"末节\"}]}\n",
     "DOC|空标题节|jsonl|UTF-8|h1|\n"
     "0||正文\\n接续\\n再接|0-0\n"
     "1|末节||0-149\n",
     1, 2, 0, 0},
    {"CRLF and CR line endings",
     "{\"id\":\"r1\",\"text\":\"回车一\"}\r\n"
     "{\"id\":\"r2\",\"text\":\"回车二\"}\r\n"
     "oops\r\n"
     "{\"id\":\"r3\",\"text\":\"只有回车\"}\r"
     "{\"id\":\"r4\",\"text\":\"末行\"}\r"
     "oops\r",
     "DOC|r1|jsonl|UTF-8|r1|\n"
     "0||回车一|0-32\n"
     "W|3|invalid JSON: invalid token near 'oops' (column 4)\n"
     "DOC|r2|jsonl|UTF-8|r2|\n"
     "0||回车二|32-70\n"
     "DOC|r3|jsonl|UTF-8|r3|\n"
     "0||只有回车|70-104\n"
     "W|6|invalid JSON: invalid token near 'oops' (column 4)\n"
     "DOC|r4|jsonl|UTF-8|r4|\n"
     "0||末行|104-137\n",
     4, 4, 2, 2},
    {"blank lines are ignored but counted",
     "\n \n{\"id\":\"k1\",\"text\":\"空行之后\"}\n\t  \n"
     "{\"id\":\"k2\",\"text\":\"还有空行\"}\n\noops\n\n",
     "DOC|k1|jsonl|UTF-8|k1|\n"
     "0||空行之后|3-41\n"
     "W|7|invalid JSON: invalid token near 'oops' (column 4)\n"
     "DOC|k2|jsonl|UTF-8|k2|\n"
     "0||还有空行|41-82\n",
     2, 2, 1, 1},
    {"white space around a record",
     "  {\"id\":\"w1\",\"text\":\"前后有空白\"}  \t\n",
     "DOC|w1|jsonl|UTF-8|w1|\n"
     "0||前后有空白|0-42\n",
     1, 1, 0, 0},
    {"BOM",
     "\xEF\xBB\xBF{\"id\":\"bom\",\"text\":\"带签名\"}\n"
     "{\"id\":\"b2\",\"text\":\"第二\"}\n",
     "DOC|bom|jsonl|UTF-8|bom|\n"
     "0||带签名|0-32\n"
     "DOC|b2|jsonl|UTF-8|b2|\n"
     "0||第二|32-60\n",
     2, 2, 0, 0},
    {"last line without a terminator",
     "{\"id\":\"last\",\"text\":\"没有换行\"}",
     "DOC|last|jsonl|UTF-8|last|\n"
     "0||没有换行|0-35\n",
     1, 1, 0, 0},
    {"invalid JSON in the middle",
     "{\"id\":\"i1\",\"text\":\"第一条\"}\n"
     "{\"id\":\"i2\",\"text\":\"第二条\"\n"
     "{\"id\":\"i3\",\"text\":\"第三条\"}\n",
     "W|2|invalid JSON: '}' expected near end of file (column 23)\n"
     "DOC|i1|jsonl|UTF-8|i1|\n"
     "0||第一条|0-61\n"
     "DOC|i3|jsonl|UTF-8|i3|\n"
     "0||第三条|61-92\n",
     2, 2, 1, 1},
    {"two records on one line",
     "{\"id\":\"x1\",\"text\":\"甲\"} {\"id\":\"x2\",\"text\":\"乙\"}\n"
     "{\"id\":\"x3\",\"text\":\"丙\"}\n",
     "W|1|invalid JSON: end of file expected near '{' (column 24)\n"
     "DOC|x3|jsonl|UTF-8|x3|\n"
     "0||丙|50-75\n",
     1, 1, 1, 1},
    {"values that are not objects",
     "[1,2]\n\"字符串\"\n3.14\nnull\ntrue\n"
     "{\"id\":\"o1\",\"text\":\"唯一的对象\"}\n",
     "W|1|the record is an array, not a JSON object; skipped\n"
     "W|2|the record is a string, not a JSON object; skipped\n"
     "W|3|the record is a number, not a JSON object; skipped\n"
     "W|4|the record is null, not a JSON object; skipped\n"
     "W|5|the record is a boolean, not a JSON object; skipped\n"
     "DOC|o1|jsonl|UTF-8|o1|\n"
     "0||唯一的对象|33-70\n",
     1, 1, 5, 5},
    {"title, text or sections of the wrong type",
     "{\"id\":\"f1\",\"title\":123,\"text\":\"标题是数字\"}\n"
     "{\"id\":\"f2\",\"text\":[\"不是\",\"字符串\"]}\n"
     "{\"id\":\"f3\",\"sections\":{\"heading\":\"不是数组\"}}\n"
     "{\"id\":\"f4\",\"title\":\"好\",\"text\":\"正常\"}\n",
     "W|1|\"title\" is a number, not a string; record skipped\n"
     "W|2|\"text\" is an array, not a string; record skipped\n"
     "W|3|\"sections\" is an object, not an array; record skipped\n"
     "DOC|好|jsonl|UTF-8|f4|\n"
     "0||正常|141-183\n",
     1, 1, 3, 3},
    {"bad sections elements are skipped alone",
     "{\"id\":\"e1\",\"title\":\"分节\",\"sections\":[42,"
     "{\"heading\":\"甲\",\"text\":\"第一节\"},{\"heading\":7,\"text\":\"丢弃\"},"
     "{\"heading\":\"乙\",\"text\":{\"x\":1}},\"串\","
     "{\"heading\":\"丙\",\"text\":\"第三节\"}]}\n",
     "W|1|sections[0] is a number, not an object; section skipped\n"
     "W|1|sections[2].heading is a number, not a string; section skipped\n"
     "W|1|sections[3].text is an object, not a string; section skipped\n"
     "W|1|sections[4] is a string, not an object; section skipped\n"
     "DOC|分节|jsonl|UTF-8|e1|\n"
     "0|甲|第一节|0-0\n"
     "1|丙|第三节|0-188\n",
     1, 2, 4, 4},
    {"records with nothing to index",
     "{\"id\":\"e\",\"title\":\"空\",\"lang\":\"zh\"}\n"
     "{\"id\":\"e2\",\"text\":\"   \"}\n"
     "{\"id\":\"e3\",\"sections\":[]}\n"
     "{\"id\":\"e4\",\"sections\":[{\"heading\":5}]}\n"
     "{\"id\":\"ok\",\"text\":\"有字\"}\n",
     "W|1|the record has no text to index; skipped\n"
     "W|2|the record has no text to index; skipped\n"
     "W|3|the record has no text to index; skipped\n"
     "W|4|the record has no text to index; skipped\n"
     "DOC|ok|jsonl|UTF-8|ok|\n"
     "0||有字|127-155\n",
     1, 1, 4, 4},
    {"duplicate keys: the last one counts",
     "{\"id\":\"dup\",\"id\":\"dup2\",\"text\":\"重复的键\"}\n",
     "DOC|dup2|jsonl|UTF-8|dup2|\n"
     "0||重复的键|0-47\n",
     1, 1, 0, 0},
    {"empty file", "", "", 0, 0, 0, 0},
    {"only blank lines", "\n\n  \r\n\t\n", "", 0, 0, 0, 0},
    {"only bad lines", "{\n}\n",
     "W|1|invalid JSON: string or '}' expected near end of file (column 1)\n"
     "W|2|invalid JSON: unexpected token near '}' (column 1)\n",
     0, 0, 2, 2},
};

START_TEST(test_table)
{
    int rc = -100;
    js_ingest_stats st;
    char *got = tu_ingest("诗集.jsonl", cases[_i].in, strlen(cases[_i].in),
                          "jsonl", &rc, &st);
    drop_repeated_doc_lines(got);
    ck_assert_msg(!strcmp(got, cases[_i].want), "%s:\n got:\n%s\nwant:\n%s",
                  cases[_i].name, got, cases[_i].want);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(st.documents == cases[_i].documents &&
                      st.sections == cases[_i].sections &&
                      st.skipped_records == cases[_i].skipped &&
                      st.warnings == cases[_i].warnings,
                  "%s: documents %llu sections %llu skipped %llu warnings "
                  "%llu",
                  cases[_i].name, (unsigned long long)st.documents,
                  (unsigned long long)st.sections,
                  (unsigned long long)st.skipped_records,
                  (unsigned long long)st.warnings);
    free(got);
}
END_TEST

/* ------------------------------------------------------------------
 * Sniffing and registration
 * ---------------------------------------------------------------- */

static const struct {
    const char *head;
    int want; /* 90, 60 or 0 */
} sniff_cases[] = {
    {"{\"id\":1,\"text\":\"你好\"}\n{\"id\":2", 90},
    {"{\"id\":1}", 90},
    {"\xEF\xBB\xBF  \n\n{\"a\":[1,2]}\r\nxyz", 90},
    {"{\"text\":\"一条很长的记录，被截断在", 60},
    {"{\"text\":\"被截断在字符中间\xE4\xB8", 60},
    {"{\n  \"pretty\": true\n}\n", 0},
    {"{\"a\":1} trailing\n", 0},
    {"{not json}\n", 0},
    {"[1,2,3]\n", 0},
    {"# 标题\n正文\n", 0},
    {"<html><body>{}</body></html>", 0},
    {"", 0},
    {"   \n\t\n", 0},
};

START_TEST(test_sniff)
{
    const char *h = sniff_cases[_i].head;
    ck_assert_msg(js_format_jsonl.sniff(h, strlen(h)) == sniff_cases[_i].want,
                  "sniff(\"%s\") = %d, want %d", h,
                  js_format_jsonl.sniff(h, strlen(h)), sniff_cases[_i].want);
}
END_TEST

START_TEST(test_registration)
{
    ck_assert_str_eq(js_format_jsonl.name, "jsonl");
    ck_assert_ptr_eq(js_format_by_name("jsonl"), &js_format_jsonl);
    ck_assert_str_eq(js_format_jsonl.extensions[0], "jsonl");
    ck_assert_str_eq(js_format_jsonl.extensions[1], "ndjson");
    ck_assert_ptr_null(js_format_jsonl.extensions[2]);
}
END_TEST

/* Without a forced format, the extension picks jsonl, and so does the
 * content of a file whose name says nothing. */
START_TEST(test_detection)
{
    static const char *names[] = {"a/诗.jsonl", "诗.NDJSON", "导出数据"};
    const char *in = "{\"id\":\"d1\",\"text\":\"自动识别格式\"}\n";
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char *got = tu_ingest(names[i], in, strlen(in), NULL, NULL, NULL);
        ck_assert_msg(strstr(got, "DOC|d1|jsonl|UTF-8|d1|\n") != NULL,
                      "%s: %s", names[i], got);
        free(got);
    }
}
END_TEST

/* ------------------------------------------------------------------
 * A collector for what is too big, or too binary, for a rendering.
 * ---------------------------------------------------------------- */

#define MAX_DOCS 8

typedef struct {
    size_t ndocs;            /* documents seen: a section 0 starts one */
    size_t nsections;
    char id[MAX_DOCS][64];   /* of the first MAX_DOCS documents */
    char metadata[MAX_DOCS][256];
    uint64_t start[MAX_DOCS]; /* where each one's first section starts */
    char *body[MAX_DOCS];    /* each one's bodies, concatenated */
    size_t body_len[MAX_DOCS];
    tu_render warnings;      /* "LINE|MESSAGE\n" each */
    size_t stop_after;       /* return 5 after that many sections; 0 never */
} collector;

static int collect_section(void *ctx, const js_section *s)
{
    collector *c = ctx;
    if (s->ordinal == 0)
        c->ndocs++;
    c->nsections++;
    size_t d = c->ndocs - 1;
    if (d < MAX_DOCS) {
        if (s->ordinal == 0) {
            snprintf(c->id[d], sizeof c->id[d], "%s",
                     s->document->id ? s->document->id : "(null)");
            snprintf(c->metadata[d], sizeof c->metadata[d], "%s",
                     s->document->metadata ? s->document->metadata : "");
            c->start[d] = s->start;
        }
        char *b = realloc(c->body[d], c->body_len[d] + s->body_len + 1);
        ck_assert_ptr_nonnull(b);
        memcpy(b + c->body_len[d], s->body, s->body_len);
        c->body[d] = b;
        c->body_len[d] += s->body_len;
    }
    return c->stop_after && c->nsections == c->stop_after ? 5 : 0;
}

static void collect_warning(void *ctx, const char *file, uint64_t line,
                            uint64_t offset, const char *msg)
{
    collector *c = ctx;
    (void)file;
    (void)offset;
    tu_appendf(&c->warnings, "%llu|%s\n", (unsigned long long)line, msg);
}

/* Ingests data[0..len) as "big.jsonl" in format jsonl (and `encoding`
 * when not NULL) into c, which the caller frees with collector_free.
 * Returns js_ingest_memory's value; stats go to *st. */
static int collect(const char *data, size_t len, const char *encoding,
                   collector *c, js_ingest_stats *st)
{
    js_ingest_options o = JS_INGEST_OPTIONS_INIT;
    o.format = "jsonl";
    o.encoding = encoding;
    o.warn = collect_warning;
    o.warn_ctx = c;
    tu_appendf(&c->warnings, "%s", "");
    return tu_ingest_run(&o, "big.jsonl", data, len, collect_section, c, st);
}

static void collector_free(collector *c)
{
    for (size_t i = 0; i < MAX_DOCS; i++)
        free(c->body[i]);
    free(c->warnings.buf);
}

/* Returns a malloc'ed string of exactly n bytes (plus a NUL) made of
 * Chinese sentences with no ASCII white space, so that bodies split by
 * the sink concatenate back to it; n is rounded down to whole characters
 * by padding with '.'.  Caller frees. */
static char *chinese_text(size_t n)
{
    static const char *const sentences[] = {
        "检索系统把文档切分成章节，", "每个章节有自己的标题和正文。",
        "汉字之间没有空格，", "所以要用单字和双字来建立索引。"};
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    size_t i = 0;
    for (size_t k = 0;; k++) {
        const char *p = sentences[k % 4];
        size_t pl = strlen(p);
        if (i + pl > n)
            break;
        memcpy(s + i, p, pl);
        i += pl;
    }
    memset(s + i, '.', n - i);
    s[n] = '\0';
    return s;
}

/* Returns a malloc'ed JSON Lines text: the record
 * {"id":"<id>","text":"<text>"} and then `rest`; its length in *len.
 * Caller frees. */
static char *record_with(const char *id, const char *text, size_t text_len,
                         const char *rest, size_t *len)
{
    size_t idl = strlen(id), rl = strlen(rest);
    char *s = malloc(text_len + idl + rl + 32);
    ck_assert_ptr_nonnull(s);
    char *p = s;
    p += sprintf(p, "{\"id\":\"%s\",\"text\":\"", id);
    memcpy(p, text, text_len);
    p += text_len;
    p += sprintf(p, "\"}\n%s", rest);
    *len = (size_t)(p - s);
    return s;
}

/* ------------------------------------------------------------------
 * Big records
 * ---------------------------------------------------------------- */

/* A 10 MB record is read whole: its text comes back, byte for byte, in
 * sections the sink splits at JS_SECTION_MAX_BYTES. */
START_TEST(test_ten_megabyte_record)
{
    const size_t n = 10u << 20;
    char *text = chinese_text(n);
    size_t len;
    char *in = record_with("big", text, n,
                           "{\"id\":\"after\",\"text\":\"大记录之后\"}\n", &len);
    collector c = {0};
    js_ingest_stats st;
    ck_assert_int_eq(collect(in, len, NULL, &c, &st), 0);
    ck_assert_uint_eq(c.ndocs, 2);
    ck_assert_str_eq(c.id[0], "big");
    ck_assert_uint_eq(c.body_len[0], n);
    ck_assert(memcmp(c.body[0], text, n) == 0);
    ck_assert_uint_eq(c.nsections, 3 + 1); /* 4 MiB + 4 MiB + 2 MiB, then
                                              the next record */
    ck_assert_str_eq(c.id[1], "after");
    ck_assert_uint_eq(c.start[1], len - strlen("{\"id\":\"after\",\"text\":"
                                                "\"大记录之后\"}\n"));
    ck_assert_uint_eq(st.documents, 2);
    ck_assert_uint_eq(st.skipped_records, 0);
    ck_assert_str_eq(c.warnings.buf,
                     "0|section longer than 4194304 bytes: split into "
                     "several sections with the same heading\n");
    collector_free(&c);
    free(in);
    free(text);
}
END_TEST

/* A 20 MB line is over the limit: skipped with a warning naming its line
 * (here the second), and the records around it are indexed.  `tail`
 * says whether the long line is the last one, without a terminator. */
static void check_overlong(int tail)
{
    const size_t n = 20u << 20;
    char *text = chinese_text(n);
    const char *next = "{\"id\":\"next\",\"text\":\"下一条记录\"}\n";
    size_t len;
    /* first record, then the long one, then (unless tail) the next */
    char *rec = record_with("huge", text, n, tail ? "" : next, &len);
    const char *first = "{\"id\":\"first\",\"text\":\"第一条\"}\n";
    size_t fl = strlen(first);
    char *in = malloc(fl + len);
    ck_assert_ptr_nonnull(in);
    memcpy(in, first, fl);
    memcpy(in + fl, rec, len);
    len += fl;
    if (tail)
        len--; /* no terminator after the long line */
    collector c = {0};
    js_ingest_stats st;
    ck_assert_int_eq(collect(in, len, NULL, &c, &st), 0);
    ck_assert_uint_eq(c.ndocs, tail ? 1 : 2);
    ck_assert_str_eq(c.id[0], "first");
    if (!tail) {
        ck_assert_str_eq(c.id[1], "next");
        ck_assert_uint_eq(c.body_len[1], strlen("下一条记录"));
    }
    ck_assert_uint_eq(st.documents, tail ? 1 : 2);
    ck_assert_uint_eq(st.skipped_records, 1);
    char want[200];
    snprintf(want, sizeof want,
             "2|record of %zu bytes is longer than the limit of %zu bytes; "
             "skipped\n",
             n + strlen("{\"id\":\"huge\",\"text\":\"\"}"), RECORD_MAX);
    ck_assert_str_eq(c.warnings.buf, want);
    collector_free(&c);
    free(in);
    free(rec);
    free(text);
}

START_TEST(test_twenty_megabyte_line_skipped) { check_overlong(0); }
END_TEST

START_TEST(test_twenty_megabyte_last_line_skipped) { check_overlong(1); }
END_TEST

/* A record of exactly RECORD_MAX bytes is read; one byte more is not.
 * White space pads the line, so the JSON stays small. */
START_TEST(test_limit_boundary)
{
    const char *rec = "{\"id\":\"edge\",\"text\":\"恰好在界限上\"}";
    for (size_t extra = 0; extra < 2; extra++) {
        size_t len = RECORD_MAX + extra;
        const char *after = "\n{\"id\":\"after\",\"text\":\"界限之后\"}\n";
        char *in = malloc(len + strlen(after));
        ck_assert_ptr_nonnull(in);
        memcpy(in, rec, strlen(rec));
        memset(in + strlen(rec), ' ', len - strlen(rec));
        memcpy(in + len, after, strlen(after));
        collector c = {0};
        js_ingest_stats st;
        ck_assert_int_eq(collect(in, len + strlen(after), NULL, &c, &st), 0);
        ck_assert_uint_eq(c.ndocs, extra ? 1 : 2);
        ck_assert_str_eq(c.id[0], extra ? "after" : "edge");
        ck_assert_uint_eq(st.skipped_records, extra);
        ck_assert_str_eq(c.warnings.buf,
                         extra ? "1|record of 16777217 bytes is longer than "
                                 "the limit of 16777216 bytes; skipped\n"
                               : "");
        collector_free(&c);
        free(in);
    }
}
END_TEST

/* ------------------------------------------------------------------
 * Bytes that a rendering cannot show
 * ---------------------------------------------------------------- */

/* A \u0000 in a text is kept: the body is the whole string. */
START_TEST(test_nul_in_text)
{
    const char *in =
        "{\"id\":\"nul\",\"text\":\"前半句\\u0000后半句\","
        "\"sections\":[{\"heading\":\"节\\u0000名\",\"text\":\"\\u0000在开头\"}]}\n";
    collector c = {0};
    js_ingest_stats st;
    ck_assert_int_eq(collect(in, strlen(in), NULL, &c, &st), 0);
    ck_assert_uint_eq(c.ndocs, 1);
    ck_assert_uint_eq(c.nsections, 2);
    static const char want[] = "前半句\0后半句\0在开头";
    ck_assert_uint_eq(c.body_len[0], sizeof want - 1);
    ck_assert(memcmp(c.body[0], want, sizeof want - 1) == 0);
    ck_assert_str_eq(c.warnings.buf, "");
    collector_free(&c);
}
END_TEST

/* With the encoding forced, the source leaves a BOM and bad bytes in the
 * text: the parser drops the BOM itself, and jansson refuses the bad
 * bytes, costing only their record. */
START_TEST(test_forced_utf8)
{
    const char *in = "\xEF\xBB\xBF{\"id\":\"bom\",\"text\":\"强制编码\"}\n"
                     "{\"id\":\"bad\",\"text\":\"坏\xFF字节\"}\n"
                     "{\"id\":\"good\",\"text\":\"好字节\"}\n";
    collector c = {0};
    js_ingest_stats st;
    ck_assert_int_eq(collect(in, strlen(in), "UTF-8", &c, &st), 0);
    ck_assert_uint_eq(c.ndocs, 2);
    ck_assert_str_eq(c.id[0], "bom");
    ck_assert_uint_eq(c.start[0], 3);
    ck_assert_str_eq(c.id[1], "good");
    /* (the source reports the bad byte too, in words of its own) */
    ck_assert_ptr_nonnull(strstr(c.warnings.buf,
                                 "\n2|invalid JSON: unable to decode byte "
                                 "0xff near '\"坏' (column 21)\n"));
    ck_assert_uint_eq(st.skipped_records, 1);
    collector_free(&c);
}
END_TEST

/* GB18030 files are decoded by the source; the records come out alike. */
START_TEST(test_gb18030)
{
    const char *utf8 =
        "{\"id\":\"g1\",\"title\":\"简体中文\",\"text\":\"这是一段用国标编码"
        "保存的文字，检索时应当正确解码。\",\"来源\":\"国家标准\"}\n"
        "{\"id\":\"g2\",\"text\":\"第二条记录也是国标编码。\"}\n";
    char gb[1024];
    iconv_t cd = iconv_open("GB18030", "UTF-8");
    ck_assert(cd != (iconv_t)-1);
    char *ip = (char *)utf8, *op = gb;
    size_t il = strlen(utf8), ol = sizeof gb;
    ck_assert(iconv(cd, &ip, &il, &op, &ol) != (size_t)-1);
    iconv_close(cd);
    int rc;
    char *got = tu_ingest("国标.jsonl", gb, (size_t)(op - gb), NULL, &rc, NULL);
    drop_repeated_doc_lines(got);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(got,
                     "DOC|简体中文|jsonl|GB18030|g1|{\"来源\":\"国家标准\"}\n"
                     "0||这是一段用国标编码保存的文字，检索时应当正确解码。|"
                     "0-144\n"
                     "DOC|g2|jsonl|GB18030|g2|\n"
                     "0||第二条记录也是国标编码。|144-202\n");
    free(got);
}
END_TEST

/* ------------------------------------------------------------------
 * Chunk boundaries, the callback protocol, a property test
 * ---------------------------------------------------------------- */

/* Lines whose terminator — LF, CRLF or a lone CR — falls on each byte
 * around the source's 64 KiB chunk boundary, a CRLF split across two
 * chunks included: line numbers and offsets stay right. */
START_TEST(test_chunk_boundaries)
{
    static const char *const terms[] = {"\n", "\r\n", "\r"};
    const char *second = "{\"id\":\"二\",\"text\":\"第二条\"}";
    const char *fourth = "{\"id\":\"四\",\"text\":\"第四条\"}";
    const size_t chunk = 64 * 1024;
    char *in = malloc(chunk + 256);
    ck_assert_ptr_nonnull(in);
    for (size_t t = 0; t < 3; t++) {
        size_t tl = strlen(terms[t]);
        for (size_t line1 = chunk - 6; line1 <= chunk + 4; line1++) {
            /* {"id":"pad","text":"xxx…"} is line1 bytes long */
            size_t pad = line1 - strlen("{\"id\":\"pad\",\"text\":\"\"}");
            char *p = in;
            p += sprintf(p, "{\"id\":\"pad\",\"text\":\"");
            memset(p, 'x', pad);
            p += pad;
            p += sprintf(p, "\"}%s%s%soops%s%s", terms[t], second, terms[t],
                         terms[t], fourth);
            collector c = {0};
            js_ingest_stats st;
            ck_assert_int_eq(collect(in, (size_t)(p - in), NULL, &c, &st), 0);
            ck_assert_msg(c.ndocs == 3, "term %zu line1 %zu: %zu documents",
                          t, line1, c.ndocs);
            ck_assert_str_eq(c.id[0], "pad");
            ck_assert_str_eq(c.id[1], "二");
            ck_assert_str_eq(c.id[2], "四");
            ck_assert_uint_eq(c.body_len[0], pad);
            ck_assert_uint_eq(c.start[1], line1 + tl);
            ck_assert_uint_eq(c.start[2],
                              line1 + tl + strlen(second) + tl + 4 + tl);
            ck_assert_str_eq(c.warnings.buf,
                             "3|invalid JSON: invalid token near 'oops' "
                             "(column 4)\n");
            collector_free(&c);
        }
    }
    free(in);
}
END_TEST

/* A non-zero return from the section callback stops the file at once and
 * comes back unchanged. */
START_TEST(test_callback_stops)
{
    const char *in = "{\"id\":\"a\",\"sections\":[{\"heading\":\"一\",\"text\":"
                     "\"甲\"},{\"heading\":\"二\",\"text\":\"乙\"}]}\n"
                     "{\"id\":\"b\",\"text\":\"丙\"}\n"
                     "{\"id\":\"c\",\"text\":\"丁\"}\n";
    for (size_t stop = 1; stop <= 3; stop++) {
        collector c = {0};
        c.stop_after = stop;
        js_ingest_stats st;
        ck_assert_int_eq(collect(in, strlen(in), NULL, &c, &st), 5);
        ck_assert_uint_eq(c.nsections, stop);
        collector_free(&c);
    }
}
END_TEST

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(void) { return tu_rnd(&rng_state); }

typedef struct {
    size_t len;       /* of the input */
    const char *why;  /* the first broken promise, or NULL */
    size_t sections;
} prop;

static int check_section(void *ctx, const js_section *s)
{
    prop *p = ctx;
    json_error_t err;
    p->sections++;
    if (s->start > s->end || s->end > p->len)
        p->why = "section range outside the text";
    else if (!s->document->id || !*s->document->id)
        p->why = "document without an id";
    else if (s->document->metadata) {
        json_t *m = json_loads(s->document->metadata, 0, &err);
        if (!json_is_object(m))
            p->why = "metadata is not a JSON object";
        else if (json_object_get(m, "id") || json_object_get(m, "text") ||
                 json_object_get(m, "title") ||
                 json_object_get(m, "sections"))
            p->why = "metadata holds a field with a meaning";
        json_decref(m);
    }
    return p->why ? 1 : 0;
}

/* Counts the non-blank lines the way the parser splits them. */
static size_t nonblank_lines(const char *s, size_t n)
{
    size_t count = 0;
    int words = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '\n' || s[i] == '\r') {
            count += words;
            words = 0;
            if (i < n && s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
                i++;
        } else if (s[i] != ' ' && s[i] != '\t') {
            words = 1;
        }
    }
    return count;
}

/* Property: whatever is done to a good file — bytes flipped, cut, lines
 * joined or broken — ingest finishes, never indexes more records than
 * there are lines, accounts for every line (a document or something
 * skipped), and hands out ids, ranges and metadata that make sense. */
START_TEST(test_property_mutated_files)
{
    static const char *const lines[] = {
        "{\"id\":\"a\",\"title\":\"春晓\",\"text\":\"春眠不觉晓\",\"n\":1.5}",
        ("{\"id\":2,\"sections\":[{\"heading\":\"甲\",\"text\":\"夜来风雨声\"},"
         "{\"text\":\"花落知多少\"}],\"tags\":[\"诗\",{\"k\":null}]}"),
        "{\"title\":\"无编号\",\"text\":\"处处闻啼鸟\\u0000\"}",
        "[\"不是对象\"]", "{\"text\":42}", "   ",
    };
    char buf[2048];
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = 0;
        size_t nlines = 1 + rnd() % 8;
        for (size_t l = 0; l < nlines; l++) {
            const char *s = lines[rnd() % (sizeof lines / sizeof *lines)];
            memcpy(buf + len, s, strlen(s));
            len += strlen(s);
            buf[len++] = rnd() % 5 ? '\n' : '\r';
        }
        size_t nmut = rnd() % 4;
        for (size_t m = 0; m < nmut && len > 0; m++) {
            size_t at = rnd() % len;
            switch (rnd() % 4) {
            case 0: buf[at] = (char)(1 + rnd() % 255); break; /* no NUL */
            case 1: len = at; break;
            case 2: buf[at] = '\n'; break;
            default: buf[at] = "{}[]\",:\\"[rnd() % 8]; break;
            }
        }
        prop p = {len, NULL, 0};
        js_ingest_options o = JS_INGEST_OPTIONS_INIT;
        js_ingest *ing = NULL;
        js_ingest_stats st;
        o.format = "jsonl";
        o.encoding = "UTF-8"; /* keep mutated bytes from failing detection */
        ck_assert_int_eq(js_ingest_open(&ing, &o), 0);
        int rc = js_ingest_memory(ing, "p.jsonl", buf, len, check_section, &p);
        js_ingest_get_stats(ing, &st);
        js_ingest_close(ing);
        size_t nb = nonblank_lines(buf, len);
        ck_assert_msg(rc == 0 && !p.why, "iteration %d: %s (rc %d)", iter,
                      p.why ? p.why : "non-zero return", rc);
        ck_assert_msg(st.documents <= nb &&
                          st.documents + st.skipped_records >= nb,
                      "iteration %d: %zu lines, %llu documents, %llu skipped",
                      iter, nb, (unsigned long long)st.documents,
                      (unsigned long long)st.skipped_records);
    }
}
END_TEST

static Suite *jsonl_suite(void)
{
    Suite *s = suite_create("fmt_jsonl");
    TCase *tc = tcase_create("records");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_table, 0, sizeof cases / sizeof *cases);
    tcase_add_loop_test(tc, test_sniff, 0,
                        sizeof sniff_cases / sizeof *sniff_cases);
    tcase_add_test(tc, test_registration);
    tcase_add_test(tc, test_detection);
    tcase_add_test(tc, test_nul_in_text);
    tcase_add_test(tc, test_forced_utf8);
    tcase_add_test(tc, test_gb18030);
    tcase_add_test(tc, test_chunk_boundaries);
    tcase_add_test(tc, test_callback_stops);
    tcase_add_test(tc, test_property_mutated_files);
    suite_add_tcase(s, tc);
    TCase *big = tcase_create("big records");
    tcase_set_timeout(big, 120);
    tcase_add_test(big, test_ten_megabyte_record);
    tcase_add_test(big, test_twenty_megabyte_line_skipped);
    tcase_add_test(big, test_twenty_megabyte_last_line_skipped);
    tcase_add_test(big, test_limit_boundary);
    suite_add_tcase(s, big);
    return s;
}

int main(void)
{
    return tu_run(jsonl_suite(), 0);
}
