/*
 * check_fmt_text.c — the plain-text format (fmt_text.c): which lines
 * become the title, headings or body, by layout alone.
 *
 * In:  small documents, fed through js_ingest_memory with the format
 *      forced to "text".
 * Out: the sections, rendered one per line by tu_ingest (testutil.h):
 *        ORDINAL|HEADING PATH|BODY|START-END
 *      after a DOC|TITLE|... line; each table row states a whole expected
 *      rendering, byte ranges included.
 *
 * Tables: single lines in two positions (after a blank line and before
 * body text; directly after body at the end of the text), the nesting
 * order of heading levels, whole documents (news, books, official
 * notices, standards, lists, tables of contents, underlines, edge cases).
 * Then: lines longer than JS_LINE_MAX_BYTES, a callback that stops early,
 * a property test over random documents, and the shared news sample when
 * it is present.  All Chinese text here is written for these tests.
 */
#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "testutil.h"

/* Ingests data as "t.txt" (default title "t") and returns the rendering;
 * the caller frees it.  Fails the test if ingest does not return 0. */
static char *ingest(const char *data, size_t len)
{
    int rc = -100;
    char *got = tu_ingest("t.txt", data, len, "text", &rc, NULL);
    ck_assert_int_eq(rc, 0);
    return got;
}

/* Returns a malloc'ed printf-style string; the caller frees it. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    ck_assert_int_ge(n, 0);
    char *s = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    va_start(ap, f);
    vsnprintf(s, (size_t)n + 1, f, ap);
    va_end(ap);
    return s;
}

/* Ingests doc and compares the whole rendering with want. */
static void expect(const char *name, const char *doc, size_t len,
                   const char *want)
{
    char *got = ingest(doc, len);
    ck_assert_msg(!strcmp(got, want), "%s:\n got:\n%s\nwant:\n%s", name, got,
                  want);
    free(got);
}

/* ------------------------------------------------------------------
 * One line, two positions
 * ---------------------------------------------------------------- */

#define TITLE "標題行"
#define BODY "這一段是正文，句子夠長，而且以句號結尾。"

static const struct {
    const char *line;
    const char *clean; /* the line as a heading or body: trimmed */
    int open;  /* a heading after a blank line, before body text */
    int tight; /* a heading right after body, at the end of the text */
} line_cases[] = {
    /* Unnumbered: headings only where layout says so. */
    {"數位轉型 讓服務更貼近市民", "數位轉型 讓服務更貼近市民", 1, 0},
    {"教育訓練", "教育訓練", 1, 0},
    {"關於“雙減”", "關於“雙減”", 1, 0},
    {"（本報記者 王小明）", "（本報記者 王小明）", 1, 0},
    {"Getting Started", "Getting Started", 1, 0},
    {"　　全形空白縮排的標題　　", "全形空白縮排的標題", 1, 0},
    {" \t小標題 ", "小標題", 1, 0},
    {"2023 年度報告", "2023 年度報告", 1, 0},   /* 4 digits: no number */
    {"123 結語", "123 結語", 1, 0},             /* 3 digits + space */
    {"1.2abc", "1.2abc", 1, 0},                 /* Latin after 1.2 */
    {"第一條 規定", "第一條 規定", 1, 0},       /* 條 is no heading kind */
    {"（甲）附表", "（甲）附表", 1, 0},
    {"一二三", "一二三", 1, 0},
    {"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二"
     "三四五六七八九十",
     "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二"
     "三四五六七八九十", 1, 0}, /* 40 characters */
    /* Sentence or clause punctuation at the end: body everywhere. */
    {"結論。", "結論。", 0, 0},
    {"真的嗎？", "真的嗎？", 0, 0},
    {"待續……", "待續……", 0, 0},
    {"如下：", "如下：", 0, 0},
    {"第一，", "第一，", 0, 0},
    {"甲、乙、", "甲、乙、", 0, 0},
    {"注意；", "注意；", 0, 0},
    {"他說：「好。」", "他說：「好。」", 0, 0},
    {"“走吧！”", "“走吧！”", 0, 0},
    {"It works.", "It works.", 0, 0},
    {"Really?", "Really?", 0, 0},
    {"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二"
     "三四五六七八九十一",
     "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二"
     "三四五六七八九十一", 0, 0}, /* 41 characters */
    /* No letters: body. */
    {"2023", "2023", 0, 0},
    {"1.5", "1.5", 0, 0},
    {"——", "——", 0, 0},
    {"＊＊", "＊＊", 0, 0},
    {"（1）", "（1）", 0, 0},
    /* Numbered: headings even right after body with nothing under them. */
    {"第一章 總則", "第一章 總則", 1, 1},
    {"第十二章", "第十二章", 1, 1},
    {"第3章 方法", "第3章 方法", 1, 1},
    {"第二十一回 重逢", "第二十一回 重逢", 1, 1},
    {"第一節 目的", "第一節 目的", 1, 1},
    {"第二节 范围", "第二节 范围", 1, 1},
    {"第二編 附則", "第二編 附則", 1, 1},
    {"第一部分 背景", "第一部分 背景", 1, 1},
    {"一、背景", "一、背景", 1, 1},
    {"十一、附則", "十一、附則", 1, 1},
    {"（二）主要任務", "（二）主要任務", 1, 1},
    {"(三)工作要求", "(三)工作要求", 1, 1},
    {"1. 範圍", "1. 範圍", 1, 1},
    {"1、範圍", "1、範圍", 1, 1},
    {"１．範圍", "１．範圍", 1, 1},
    {"12 結語", "12 結語", 1, 1},
    {"2.3 術語", "2.3 術語", 1, 1},
    {"2.3.1 定義", "2.3.1 定義", 1, 1},
    {"2.3. 定義", "2.3. 定義", 1, 1},
    {"3.2.1 Scope", "3.2.1 Scope", 1, 1},
    {"4.1說明", "4.1說明", 1, 1},
    {"（1）細則", "（1）細則", 1, 1},
    {"(2) 附表", "(2) 附表", 1, 1},
    /* Numbered but prose: body. */
    {"一、", "一、", 0, 0},
    {"一、加強領導，落實責任。", "一、加強領導，落實責任。", 0, 0},
    {"第一章完。", "第一章完。", 0, 0},
};

/* "標題行", blank, the line, blank, body: a heading or body of section 0. */
START_TEST(test_line_open)
{
    const char *line = line_cases[_i].line, *clean = line_cases[_i].clean;
    char *doc = fmt(TITLE "\n\n%s\n\n" BODY "\n", line);
    size_t len = strlen(doc);
    size_t at = strlen(TITLE "\n\n");
    char *want;
    if (line_cases[_i].open)
        want = fmt("DOC|" TITLE "|text|UTF-8||\n0|%s|" BODY "|%zu-%zu\n",
                   clean, at, len);
    else
        want = fmt("DOC|" TITLE "|text|UTF-8||\n0||%s\\n" BODY "|0-%zu\n",
                   clean, len);
    expect(line, doc, len, want);
    free(want);
    free(doc);
}
END_TEST

/* "標題行", body, the line (no blank lines): only numbered lines head. */
START_TEST(test_line_tight)
{
    const char *line = line_cases[_i].line, *clean = line_cases[_i].clean;
    char *doc = fmt(TITLE "\n" BODY "\n%s\n", line);
    size_t len = strlen(doc);
    size_t at = strlen(TITLE "\n" BODY "\n");
    char *want;
    if (line_cases[_i].tight)
        want = fmt("DOC|" TITLE "|text|UTF-8||\n0||" BODY "|0-%zu\n"
                   "1|%s||%zu-%zu\n",
                   at, clean, at, len);
    else
        want = fmt("DOC|" TITLE "|text|UTF-8||\n0||" BODY "\\n%s|0-%zu\n",
                   clean, len);
    expect(line, doc, len, want);
    free(want);
    free(doc);
}
END_TEST

/* ------------------------------------------------------------------
 * Nesting: each list runs from the outermost kind of heading to the
 * innermost; a later one nests under an earlier one, an earlier one
 * after a later one does not.
 * ---------------------------------------------------------------- */

static const char *const chain_cjk[] = {
    "第一編 總論", "第一章 總則", "第一節 目的", "一、背景",
    "（一）現況",  "1. 範圍",     "（1）細則",   "說明事項",
};
static const char *const chain_decimal[] = {
    "1 範圍", "1.1 用語", "1.1.1 定義", "說明事項",
};
#define NCJK (sizeof chain_cjk / sizeof *chain_cjk)
#define NDEC (sizeof chain_decimal / sizeof *chain_decimal)

/* Checks heading a then heading b, each over a paragraph: b nests under
 * a exactly when `nested`. */
static void check_pair(const char *a, const char *b, int nested)
{
    char *doc = fmt(TITLE "\n\n%s\n\n" BODY "\n\n%s\n\n" BODY "\n", a, b);
    size_t len = strlen(doc);
    size_t at_a = strlen(TITLE "\n\n");
    size_t at_b = at_a + strlen(a) + strlen("\n\n" BODY "\n\n");
    char *want = fmt("DOC|" TITLE "|text|UTF-8||\n"
                     "0|%s|" BODY "|%zu-%zu\n"
                     "1|%s%s%s|" BODY "|%zu-%zu\n",
                     a, at_a, at_b, nested ? a : "", nested ? " > " : "", b,
                     at_b, len);
    char *name = fmt("%s then %s", a, b);
    expect(name, doc, len, want);
    free(name);
    free(want);
    free(doc);
}

START_TEST(test_nesting_cjk)
{
    size_t i = (size_t)_i / NCJK, j = (size_t)_i % NCJK;
    if (i != j)
        check_pair(chain_cjk[i], chain_cjk[j], i < j);
}
END_TEST

START_TEST(test_nesting_decimal)
{
    size_t i = (size_t)_i / NDEC, j = (size_t)_i % NDEC;
    if (i != j)
        check_pair(chain_decimal[i], chain_decimal[j], i < j);
}
END_TEST

/* ------------------------------------------------------------------
 * Whole documents
 * ---------------------------------------------------------------- */

/* A news article: title, intro, five headed sections, a byline and the
 * paper's name at the end. */
static const char news_doc[] =
    "臺南市立圖書館推動全民閱讀 打造智慧書香城市新樣貌\n"
    "\n"
    "為了讓更多市民養成閱讀習慣,臺南市立圖書館近年以數位服務、社區據點與"
    "志工培訓三管齊下,逐步建立起覆蓋全市的閱讀網絡,並在2023年獲得文化部"
    "的閱讀推廣獎項肯定。\n"
    "\n"
    "數位借閱 讓好書“走”進手機\n"
    "\n"
    "2023年3月,圖書館正式上線電子書借閱平臺,市民只要持有借書證,就能在手"
    "機上借閱超過5萬冊電子書與有聲書。上線首月,借閱人次便突破1萬2千,其中"
    "以20歲至35歲的上班族最為踴躍。\n"
    "\n"
    "館方表示,平臺也提供大字版與語音朗讀功能,方便年長者與視障朋友使用,未"
    "來還將與各級學校合作,把電子書資源帶進課堂。\n"
    "\n"
    "社區據點 讓閱讀“近”在身邊\n"
    "\n"
    "除了總館與分館,圖書館自2023年8月起陸續在里民活動中心、捷運站及醫院"
    "候診區設置共32處智慧書櫃,24小時開放自助借還,讓下班較晚的市民也能順"
    "手帶一本書回家。\n"
    "\n"
    "志工培訓 讓說故事的人“多”起來\n"
    "\n"
    "為了充實親子共讀活動,館方每年舉辦兩梯次說故事志工培訓,課程涵蓋繪本"
    "導讀、聲音表情與兒童心理,結訓後的志工分派到各分館,每週固定帶領故事"
    "時間。\n"
    "\n"
    "今年已有百餘位志工完成培訓,其中不少是退休教師與全職家長,他們說,看到"
    "孩子專注聆聽的眼神,就是最大的回饋。\n"
    "\n"
    "閱讀節慶 讓城市“熱”起來\n"
    "\n"
    "2023年11月舉辦的城市閱讀節,以“一座城市,一本好書”為主題,邀請作家座談"
    "、舉辦二手書市集與夜間導覽,三天活動吸引逾3萬人次參與,創下歷年新高。"
    "\n"
    "\n"
    "未來展望 讓書香“傳”下去\n"
    "\n"
    "展望2024年,圖書館計畫再增設10處智慧書櫃,並開發閱讀護照小程式,鼓勵市"
    "民記錄閱讀足跡,累積點數即可兌換文創小物或講座入場券。\n"
    "\n"
    "館長表示,閱讀是一座城市最溫柔的基礎建設,圖書館會持續傾聽市民需求,讓"
    "每個人都能找到屬於自己的那本書。\n"
    "\n"
    "(臺南日報記者 林曉雯)\n"
    "\n"
    "書香臺南\n"
    ;

static const char news_want[] =
    "DOC|臺南市立圖書館推動全民閱讀 打造智慧書香城市新樣貌|text|UTF-8||"
    "\n"
    "0||為了讓更多市民養成閱讀習慣,臺南市立圖書館近年以數位服務、社區據"
    "點與志工培訓三管齊下,逐步建立起覆蓋全市的閱讀網絡,並在2023年獲得文"
    "化部的閱讀推廣獎項肯定。|0-303\n"
    "1|數位借閱 讓好書“走”進手機|2023年3月,圖書館正式上線電子書借閱平臺"
    ",市民只要持有借書證,就能在手機上借閱超過5萬冊電子書與有聲書。上線首"
    "月,借閱人次便突破1萬2千,其中以20歲至35歲的上班族最為踴躍。\\n館方表"
    "示,平臺也提供大字版與語音朗讀功能,方便年長者與視障朋友使用,未來還將"
    "與各級學校合作,把電子書資源帶進課堂。|303-748\n"
    "2|社區據點 讓閱讀“近”在身邊|除了總館與分館,圖書館自2023年8月起陸續"
    "在里民活動中心、捷運站及醫院候診區設置共32處智慧書櫃,24小時開放自助"
    "借還,讓下班較晚的市民也能順手帶一本書回家。|748-1008\n"
    "3|志工培訓 讓說故事的人“多”起來|為了充實親子共讀活動,館方每年舉辦兩"
    "梯次說故事志工培訓,課程涵蓋繪本導讀、聲音表情與兒童心理,結訓後的志"
    "工分派到各分館,每週固定帶領故事時間。\\n今年已有百餘位志工完成培訓,"
    "其中不少是退休教師與全職家長,他們說,看到孩子專注聆聽的眼神,就是最大"
    "的回饋。|1008-1416\n"
    "4|閱讀節慶 讓城市“熱”起來|2023年11月舉辦的城市閱讀節,以“一座城市,一"
    "本好書”為主題,邀請作家座談、舉辦二手書市集與夜間導覽,三天活動吸引逾"
    "3萬人次參與,創下歷年新高。|1416-1655\n"
    "5|未來展望 讓書香“傳”下去|展望2024年,圖書館計畫再增設10處智慧書櫃,"
    "並開發閱讀護照小程式,鼓勵市民記錄閱讀足跡,累積點數即可兌換文創小物"
    "或講座入場券。\\n館長表示,閱讀是一座城市最溫柔的基礎建設,圖書館會持"
    "續傾聽市民需求,讓每個人都能找到屬於自己的那本書。\\n(臺南日報記者 林"
    "曉雯)\\n書香臺南|1655-2065\n"
    ;


START_TEST(test_news)
{
    expect("news", news_doc, strlen(news_doc), news_want);
}
END_TEST

/* Splits a rendering into its text without the byte ranges and the
 * ranges alone ("0-10 10-20"); both malloc'ed, the caller frees them. */
static void split_ranges(const char *r, char **text, char **ranges)
{
    tu_render t = {0}, g = {0};
    tu_appendf(&t, "%s", "");
    tu_appendf(&g, "%s", "");
    while (*r) {
        const char *e = strchr(r, '\n');
        ck_assert_ptr_nonnull(e);
        const char *bar = e;
        while (bar > r && bar[-1] != '|')
            bar--;
        if (strncmp(r, "DOC|", 4) && strncmp(r, "W|", 2) && bar > r) {
            tu_appendf(&t, "%.*s\n", (int)(bar - r), r);
            tu_appendf(&g, "%s%.*s", g.len ? " " : "", (int)(e - bar), bar);
        } else {
            tu_appendf(&t, "%.*s\n", (int)(e - r), r);
        }
        r = e + 1;
    }
    *text = t.buf;
    *ranges = g.buf;
}

/* The same article with CRLF line ends: the same sections, and the byte
 * ranges count the CR of every line before them. */
START_TEST(test_news_crlf)
{
    size_t n = strlen(news_doc);
    char *crlf = malloc(2 * n + 1), *p = crlf;
    ck_assert_ptr_nonnull(crlf);
    for (size_t i = 0; i < n; i++) {
        if (news_doc[i] == '\n')
            *p++ = '\r';
        *p++ = news_doc[i];
    }
    char *got = ingest(crlf, (size_t)(p - crlf));
    char *want_text, *want_ranges, *got_text, *got_ranges;
    split_ranges(news_want, &want_text, &want_ranges);
    split_ranges(got, &got_text, &got_ranges);
    ck_assert_str_eq(got_text, want_text);
    ck_assert_str_eq(got_ranges, "0-307 307-758 758-1022 1022-1436 "
                                 "1436-1679 1679-2098");
    free(want_text);
    free(want_ranges);
    free(got_text);
    free(got_ranges);
    free(got);
    free(crlf);
}
END_TEST

/* Whole documents of several shapes. */
static const struct {
    const char *name, *doc, *want;
} doc_cases[] = {
    {"book: 編 > 章 > 節, 一、 > （一）",
     "第一編 總論\n"
     "第一章 總則\n"
     "第一節 目的\n"
     "本辦法為規範館藏資料的借閱而訂定。\n"
     "第二節 用語\n"
     "本辦法所稱讀者,指持有有效借書證的人。\n"
     "第二章 借閱\n"
     "一、借閱期限\n"
     "一般圖書借期為二十一天。\n"
     "（一）續借\n"
     "借期屆滿前可續借一次。\n"
     "（二）逾期\n"
     "逾期未還者暫停借閱權利。\n"
     "二、借閱冊數\n"
     "每人最多同時借閱十冊。\n"
     "第二編 附則\n"
     "本辦法自公布日施行。\n",
     "DOC|t|text|UTF-8||\n"
     "0|第一編 總論||0-17\n"
     "1|第一編 總論 > 第一章 總則||17-34\n"
     "2|第一編 總論 > 第一章 總則 > 第一節 目的|本辦法為規範館藏資料的"
     "借閱而訂定。|34-103\n"
     "3|第一編 總論 > 第一章 總則 > 第二節 用語|本辦法所稱讀者,指持有有"
     "效借書證的人。|103-176\n"
     "4|第一編 總論 > 第二章 借閱||176-193\n"
     "5|第一編 總論 > 第二章 借閱 > 一、借閱期限|一般圖書借期為二十一天"
     "。|193-249\n"
     "6|第一編 總論 > 第二章 借閱 > 一、借閱期限 > （一）續借|借期屆滿"
     "前可續借一次。|249-299\n"
     "7|第一編 總論 > 第二章 借閱 > 一、借閱期限 > （二）逾期|逾期未還"
     "者暫停借閱權利。|299-352\n"
     "8|第一編 總論 > 第二章 借閱 > 二、借閱冊數|每人最多同時借閱十冊。"
     "|352-405\n"
     "9|第二編 附則|本辦法自公布日施行。|405-453\n"},
    {"official notice: 一、 > （一） > 1. > （1）",
     "關於加強館藏管理的通知\n"
     "\n"
     "各分館：\n"
     "現將有關事項通知如下：\n"
     "一、總體要求\n"
     "（一）指導思想\n"
     "以服務讀者為中心,提升館藏品質。\n"
     "（二）基本原則\n"
     "1.統一規劃\n"
     "各分館的採購計畫由總館統一審核。\n"
     "2.分級負責\n"
     "（1）館長職責\n"
     "分館館長負責本館館藏的日常管理。\n"
     "二、工作要求\n"
     "各分館應於2024年3月底前完成自查。\n",
     "DOC|關於加強館藏管理的通知|text|UTF-8||\n"
     "0||各分館：\\n現將有關事項通知如下：|0-82\n"
     "1|一、總體要求||82-101\n"
     "2|一、總體要求 > （一）指導思想|以服務讀者為中心,提升館藏品質。|"
     "101-170\n"
     "3|一、總體要求 > （二）基本原則||170-192\n"
     "4|一、總體要求 > （二）基本原則 > 1.統一規劃|各分館的採購計畫由總"
     "館統一審核。|192-256\n"
     "5|一、總體要求 > （二）基本原則 > 2.分級負責||256-271\n"
     "6|一、總體要求 > （二）基本原則 > 2.分級負責 > （1）館長職責|分館"
     "館長負責本館館藏的日常管理。|271-340\n"
     "7|二、工作要求|各分館應於2024年3月底前完成自查。|340-407\n"},
    {"standard: 1 > 1.1 > 1.1.1",
     "圖書館數位典藏規範\n"
     "\n"
     "1 範圍\n"
     "本規範規定數位典藏的格式與保存要求。\n"
     "2 用語\n"
     "2.1 數位物件\n"
     "以數位形式保存的館藏資料。\n"
     "2.1.1 詮釋資料\n"
     "描述數位物件的結構化資料。\n"
     "2.2 典藏單位\n"
     "負責保存數位物件的機構。\n"
     "3 保存要求\n"
     "典藏檔案應至少保存兩份異地備份。\n",
     "DOC|圖書館數位典藏規範|text|UTF-8||\n"
     "0|1 範圍|本規範規定數位典藏的格式與保存要求。|29-93\n"
     "1|2 用語||93-102\n"
     "2|2 用語 > 2.1 數位物件|以數位形式保存的館藏資料。|102-159\n"
     "3|2 用語 > 2.1 數位物件 > 2.1.1 詮釋資料|描述數位物件的結構化資料"
     "。|159-218\n"
     "4|2 用語 > 2.2 典藏單位|負責保存數位物件的機構。|218-272\n"
     "5|3 保存要求|典藏檔案應至少保存兩份異地備份。|272-336\n"},
    {"a list of short numbered lines is body",
     "館務會議紀錄\n"
     "\n"
     "本次會議決議事項如下：\n"
     "一、增設夜間閱覽室\n"
     "二、延長週末開放時間\n"
     "三、更新自助借書機\n"
     "\n"
     "以上事項自下月起實施。\n"
     "\n"
     "一、討論事項\n"
     "會中討論了明年度的採購預算。\n",
     "DOC|館務會議紀錄|text|UTF-8||\n"
     "0||本次會議決議事項如下：\\n一、增設夜間閱覽室\\n二、延長週末開放時"
     "間\\n三、更新自助借書機\\n以上事項自下月起實施。|0-177\n"
     "1|一、討論事項|會中討論了明年度的採購預算。|177-239\n"},
    {"a table of contents is body",
     "讀者服務手冊\n"
     "\n"
     "目錄\n"
     "第一章 借閱服務\n"
     "第二章 參考諮詢\n"
     "第三章 館際合作\n"
     "\n"
     "第一章 借閱服務\n"
     "持借書證即可借閱館藏圖書。\n"
     "\n"
     "第二章 參考諮詢\n"
     "館員提供書目查詢與研究協助。\n"
     "\n"
     "第三章 館際合作\n"
     "讀者可透過本館向他館申請調閱。\n",
     "DOC|讀者服務手冊|text|UTF-8||\n"
     "0||目錄\\n第一章 借閱服務\\n第二章 參考諮詢\\n第三章 館際合作|0-97\n"
     "1|第一章 借閱服務|持借書證即可借閱館藏圖書。|97-161\n"
     "2|第二章 參考諮詢|館員提供書目查詢與研究協助。|161-228\n"
     "3|第三章 館際合作|讀者可透過本館向他館申請調閱。|228-297\n"},
    {"unnumbered headings nest under numbered ones",
     "第一章 總則\n"
     "\n"
     "概述\n"
     "\n"
     "本章說明館藏政策的基本原則。\n"
     "\n"
     "收藏範圍\n"
     "\n"
     "以臺灣文史資料為主要收藏範圍。\n"
     "\n"
     "第二章 附則\n"
     "\n"
     "本政策經館務會議通過後施行。\n",
     "DOC|t|text|UTF-8||\n"
     "0|第一章 總則||0-18\n"
     "1|第一章 總則 > 概述|本章說明館藏政策的基本原則。|18-70\n"
     "2|第一章 總則 > 收藏範圍|以臺灣文史資料為主要收藏範圍。|70-131\n"
     "3|第二章 附則|本政策經館務會議通過後施行。|131-192\n"},
    {"underlined headings",
     "本文件說明如何安裝與設定本工具，請先閱讀。\n"
     "\n"
     "安裝指南\n"
     "========\n"
     "\n"
     "執行安裝程式即可完成安裝。\n"
     "\n"
     "從原始碼安裝\n"
     "------------\n"
     "先下載原始碼，再依說明編譯。\n"
     "組態設定\n"
     "＝＝＝＝\n"
     "編輯設定檔後重新啟動服務。\n"
     "完成後請重新登入。\n"
     "==========\n"
     "\n"
     "***\n"
     "\n"
     "附記：本文件會隨版本更新。\n",
     "DOC|t|text|UTF-8||\n"
     "0||本文件說明如何安裝與設定本工具，請先閱讀。|0-65\n"
     "1|安裝指南|執行安裝程式即可完成安裝。|65-129\n"
     "2|安裝指南 > 從原始碼安裝|先下載原始碼，再依說明編譯。|129-204\n"
     "3|組態設定|編輯設定檔後重新啟動服務。\\n完成後請重新登入。\\n附記："
     "本文件會隨版本更新。|204-355\n"},
};

/* Edge cases: empty and blank texts, titles alone, line ends, lines
 * that look like headings but are not. */
static const struct {
    const char *name, *doc, *want;
} edge_cases[] = {
    {"empty",
     "",
     ""},
    {"only blank lines",
     "\n"
     "\n"
     "  \n"
     "\t\n"
     "　\n",
     ""},
    {"only a title",
     "只有標題\n",
     "DOC|只有標題|text|UTF-8||\n"
     "0||只有標題|0-13\n"},
    {"only a title, no newline",
     "只有標題",
     "DOC|只有標題|text|UTF-8||\n"
     "0||只有標題|0-12\n"},
    {"only a title, blank lines around",
     "\n"
     "\n"
     "只有標題\n"
     "\n"
     "\n",
     "DOC|只有標題|text|UTF-8||\n"
     "0||只有標題|0-17\n"},
    {"underlined title",
     "專案說明\n"
     "========\n"
     "\n"
     "這個專案提供中文全文檢索。\n",
     "DOC|專案說明|text|UTF-8||\n"
     "0||這個專案提供中文全文檢索。|0-63\n"},
    {"overlined and underlined title",
     "========\n"
     "專案說明\n"
     "========\n"
     "\n"
     "內容說明。\n",
     "DOC|專案說明|text|UTF-8||\n"
     "0||內容說明。|0-48\n"},
    {"no headings",
     "這是第一段，沒有任何標題。\n"
     "這是第二段，也沒有標題。\n",
     "DOC|t|text|UTF-8||\n"
     "0||這是第一段，沒有任何標題。\\n這是第二段，也沒有標題。|0-77\n"},
    {"short line at the very end stays body",
     "標題\n"
     "\n"
     "正文第一段，說明一些事情。\n"
     "\n"
     "結尾短句\n",
     "DOC|標題|text|UTF-8||\n"
     "0||正文第一段，說明一些事情。\\n結尾短句|0-62\n"},
    {"numbered heading at the very end",
     "標題\n"
     "\n"
     "正文第一段，說明一些事情。\n"
     "\n"
     "第二章 附則\n",
     "DOC|標題|text|UTF-8||\n"
     "0||正文第一段，說明一些事情。|0-49\n"
     "1|第二章 附則||49-66\n"},
    {"numbered heading at the very end, no newline",
     "標題\n"
     "\n"
     "正文第一段，說明一些事情。\n"
     "\n"
     "第二章 附則",
     "DOC|標題|text|UTF-8||\n"
     "0||正文第一段，說明一些事情。|0-49\n"
     "1|第二章 附則||49-65\n"},
    {"long numbered items are body",
     "辦法\n"
     "\n"
     "一、各級機關應當在每年三月底前完成上一年度的工作總結並報送主管部"
     "門。\n"
     "二、主管部門應當在收到總結後三十日內提出審查意見並回覆各級機關。"
     "\n"
     "三、各級機關應當在每年三月底前完成上一年度的工作總結並報送主管部"
     "門以及相關的上級單位備查\n",
     "DOC|辦法|text|UTF-8||\n"
     "0||一、各級機關應當在每年三月底前完成上一年度的工作總結並報送主管"
     "部門。\\n二、主管部門應當在收到總結後三十日內提出審查意見並回覆各"
     "級機關。\\n三、各級機關應當在每年三月底前完成上一年度的工作總結並"
     "報送主管部門以及相關的上級單位備查|0-341\n"},
    {"short lines before body are not headings",
     "標題\n"
     "\n"
     "作者 王小明\n"
     "2024年1月5日\n"
     "\n"
     "正文從這裡開始，介紹內容。\n",
     "DOC|標題|text|UTF-8||\n"
     "0||作者 王小明\\n2024年1月5日\\n正文從這裡開始，介紹內容。|0-82\n"},
    {"short line right after body is not a heading",
     "標題\n"
     "\n"
     "第一段正文，說明背景。\n"
     "小標題\n"
     "第二段正文，繼續說明。\n",
     "DOC|標題|text|UTF-8||\n"
     "0||第一段正文，說明背景。\\n小標題\\n第二段正文，繼續說明。|0-86\n"},
    {"short line before a heading is not a heading",
     "標題\n"
     "\n"
     "引言，說明背景。\n"
     "\n"
     "短句\n"
     "\n"
     "一、背景\n"
     "\n"
     "正文內容。\n",
     "DOC|標題|text|UTF-8||\n"
     "0||引言，說明背景。\\n短句|0-42\n"
     "1|一、背景|正文內容。|42-72\n"},
    {"indented with ideographic spaces",
     "　　標題　　\n"
     "\n"
     "　　正文段落，前面有全形空白縮排。\n",
     "DOC|標題|text|UTF-8||\n"
     "0||正文段落，前面有全形空白縮排。|0-72\n"},
    {"CRLF",
     "標題\r\n"
     "\r\n"
     "引言段落，說明本文的內容。\r\n"
     "\r\n"
     "活動回顧\r\n"
     "\r\n"
     "正文內容在這裡。\r\n",
     "DOC|標題|text|UTF-8||\n"
     "0||引言段落，說明本文的內容。|0-53\n"
     "1|活動回顧|正文內容在這裡。|53-95\n"},
    {"CR",
     "標題\r\r引言段落，說明本文的內容。\r\r活動回顧\r\r正文內容在這裡。\r",
     "DOC|標題|text|UTF-8||\n"
     "0||引言段落，說明本文的內容。|0-49\n"
     "1|活動回顧|正文內容在這裡。|49-88\n"},
    {"separator lines are no body",
     "正文第一段，說明一些事情。\n"
     "\n"
     "----------\n"
     "\n"
     "正文第二段，繼續說明。\n"
     "＊＊＊\n"
     "正文第三段。\n",
     "DOC|t|text|UTF-8||\n"
     "0||正文第一段，說明一些事情。\\n正文第二段，繼續說明。\\n正文第三段"
     "。|0-116\n"},
    {"underline under body is a separator",
     "正文第一段，說明一些事情。\n"
     "==========\n"
     "正文第二段。\n",
     "DOC|t|text|UTF-8||\n"
     "0||正文第一段，說明一些事情。\\n正文第二段。|0-70\n"},
    {"heading after a separator",
     "正文第一段，說明一些事情。\n"
     "~~~~~~\n"
     "第二部分\n"
     "正文第二段。\n",
     "DOC|t|text|UTF-8||\n"
     "0||正文第一段，說明一些事情。|0-47\n"
     "1|第二部分|正文第二段。|47-79\n"},
    {"first line numbered is no title",
     "一、總則\n"
     "本辦法依法訂定。\n",
     "DOC|t|text|UTF-8||\n"
     "0|一、總則|本辦法依法訂定。|0-38\n"},
    {"first line is prose",
     "這是一句完整的話。\n"
     "\n"
     "小節標題\n"
     "\n"
     "正文。\n",
     "DOC|t|text|UTF-8||\n"
     "0||這是一句完整的話。|0-29\n"
     "1|小節標題|正文。|29-53\n"},
    {"heading directly after title",
     "標題\n"
     "小節\n"
     "正文從這裡開始，介紹內容。\n",
     "DOC|標題|text|UTF-8||\n"
     "0|小節|正文從這裡開始，介紹內容。|7-54\n"},
    {"heading under heading",
     "標題\n"
     "\n"
     "背景說明\n"
     "\n"
     "概述\n"
     "\n"
     "正文。\n",
     "DOC|標題|text|UTF-8||\n"
     "0||背景說明|0-22\n"
     "1|概述|正文。|22-40\n"},
    {"inner spaces of a heading collapse",
     "標題\n"
     "\n"
     "甲  乙\t丙\n"
     "\n"
     "正文。\n",
     "DOC|標題|text|UTF-8||\n"
     "0|甲 乙 丙|正文。|8-32\n"},
    {"list continues across blank lines",
     "標題\n"
     "\n"
     "須知如下：\n"
     "\n"
     "1. 攜帶證件\n"
     "\n"
     "2. 保持安靜\n"
     "\n"
     "3. 準時還書\n"
     "\n"
     "4.違規處理\n"
     "違者停權一個月。\n",
     "DOC|標題|text|UTF-8||\n"
     "0||須知如下：\\n1. 攜帶證件\\n2. 保持安靜\\n3. 準時還書\\n4.違規處理"
     "\\n違者停權一個月。|0-116\n"},
    {"list numbers must follow on",
     "標題\n"
     "\n"
     "1. 攜帶證件\n"
     "2. 保持安靜\n"
     "\n"
     "1. 總則\n"
     "本規則適用於全館。\n",
     "DOC|標題|text|UTF-8||\n"
     "0||1. 攜帶證件\\n2. 保持安靜|0-41\n"
     "1|1. 總則|本規則適用於全館。|41-79\n"},
    {"numbered heading with an underline is no list item",
     "標題\n"
     "\n"
     "一、背景\n"
     "--------\n"
     "二、目標\n"
     "正文。\n",
     "DOC|標題|text|UTF-8||\n"
     "0|一、背景||8-30\n"
     "1|二、目標|正文。|30-53\n"},
    {"dash and underscore lines are separators",
     "正文第一段，說明一些事情。\n"
     "\n"
     "————————\n"
     "\n"
     "正文第二段。\n"
     "______\n"
     "正文第三段。\n",
     "DOC|t|text|UTF-8||\n"
     "0||正文第一段，說明一些事情。\\n正文第二段。\\n正文第三段。|0-112\n"},
    {"a long numbered first line is no title",
     "第一章 館藏發展政策與各類資料的採購審查及保存維護原則說明以及相關"
     "作業流程之詳細規範\n"
     "\n"
     "正文。\n",
     "DOC|t|text|UTF-8||\n"
     "0||第一章 館藏發展政策與各類資料的採購審查及保存維護原則說明以及"
     "相關作業流程之詳細規範\\n正文。|0-136\n"},
};

START_TEST(test_documents)
{
    expect(doc_cases[_i].name, doc_cases[_i].doc, strlen(doc_cases[_i].doc),
           doc_cases[_i].want);
}
END_TEST

START_TEST(test_edges)
{
    expect(edge_cases[_i].name, edge_cases[_i].doc,
           strlen(edge_cases[_i].doc), edge_cases[_i].want);
}
END_TEST

/* Titles may be longer than headings: up to 60 characters. */
START_TEST(test_title_length)
{
    static const struct {
        size_t chars;
        int title;
    } rows[] = {{1, 1}, {40, 1}, {41, 1}, {60, 1}, {61, 0}};
    for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
        tu_render t = {0};
        tu_appendf(&t, "%s", "");
        for (size_t i = 0; i < rows[r].chars; i++)
            tu_appendf(&t, "字");
        char *doc = fmt("%s\n\n" BODY "\n", t.buf);
        size_t len = strlen(doc);
        char *want =
            rows[r].title
                ? fmt("DOC|%s|text|UTF-8||\n0||" BODY "|0-%zu\n", t.buf, len)
                : fmt("DOC|t|text|UTF-8||\n0||%s\\n" BODY "|0-%zu\n", t.buf,
                      len);
        expect("title length", doc, len, want);
        free(want);
        free(doc);
        free(t.buf);
    }
}
END_TEST

/* ------------------------------------------------------------------
 * Collecting sections for checks that a rendering cannot state
 * ---------------------------------------------------------------- */

#define MAX_SECTIONS 512

typedef struct {
    size_t n;
    char *title;
    size_t depth[MAX_SECTIONS];
    char *heading[MAX_SECTIONS]; /* NULL for depth 0 */
    char *body[MAX_SECTIONS];
    uint64_t start[MAX_SECTIONS], end[MAX_SECTIONS];
    unsigned stop_after; /* 0: never; else return 42 after that many */
} collect;

static char *xstrndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    ck_assert_ptr_nonnull(d);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static int on_section(void *ctx, const js_section *sec)
{
    collect *c = ctx;
    ck_assert_uint_lt(c->n, MAX_SECTIONS);
    if (!c->title)
        c->title = xstrndup(sec->document->title,
                            strlen(sec->document->title));
    c->depth[c->n] = sec->depth;
    c->heading[c->n] =
        sec->depth ? xstrndup(sec->heading, strlen(sec->heading)) : NULL;
    c->body[c->n] = xstrndup(sec->body, sec->body_len);
    c->start[c->n] = sec->start;
    c->end[c->n] = sec->end;
    c->n++;
    return c->stop_after && c->n == c->stop_after ? 42 : 0;
}

/* Ingests data as `name` in the text format into *c (zeroed first, then
 * stop_after applied); returns js_ingest_memory's value.  Free with
 * collect_free. */
static int collect_run(collect *c, const char *name, const char *data,
                       size_t len, unsigned stop_after, size_t *warnings)
{
    memset(c, 0, sizeof *c);
    c->stop_after = stop_after;
    js_ingest_options o = JS_INGEST_OPTIONS_INIT;
    o.format = "text";
    js_ingest_stats st;
    int rc = tu_ingest_run(&o, name, data, len, on_section, c, &st);
    if (warnings)
        *warnings = (size_t)st.warnings;
    return rc;
}

static void collect_free(collect *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->heading[i]);
        free(c->body[i]);
    }
    free(c->title);
}

/* Lines longer than JS_LINE_MAX_BYTES come in pieces; they are one body
 * line, not several, and no piece is taken for a heading even when it
 * looks like one (here the second piece is "一、續行"). */
START_TEST(test_long_line)
{
    size_t n = JS_LINE_MAX_BYTES;
    const char *head = "標題\n\n";
    const char *tail = "一、續行\n結尾短句\n";
    size_t hl = strlen(head), tl = strlen(tail);
    char *doc = malloc(hl + n + tl);
    ck_assert_ptr_nonnull(doc);
    memcpy(doc, head, hl);
    memset(doc + hl, 'a', n);
    memcpy(doc + hl + n, tail, tl);
    collect c;
    size_t warnings = 0;
    ck_assert_int_eq(collect_run(&c, "t.txt", doc, hl + n + tl, 0, &warnings),
                     0);
    ck_assert_uint_eq(c.n, 1);
    ck_assert_str_eq(c.title, "標題");
    ck_assert_uint_eq(c.depth[0], 0);
    ck_assert_uint_eq(strspn(c.body[0], "a"), n);
    ck_assert_str_eq(c.body[0] + n, "一、續行\n結尾短句");
    ck_assert_uint_ge(warnings, 1); /* the source reports the cut */
    collect_free(&c);
    free(doc);
}
END_TEST

/* A callback's non-zero value stops the parser at once and comes back
 * unchanged, whichever kind of sink call (heading, text, end) met it. */
START_TEST(test_callback_stops)
{
    for (unsigned stop = 1; stop <= 6; stop++) {
        collect c;
        int rc = collect_run(&c, "t.txt", news_doc, strlen(news_doc), stop,
                             NULL);
        ck_assert_int_eq(rc, 42);
        ck_assert_uint_eq(c.n, stop);
        collect_free(&c);
    }
}
END_TEST

/* ------------------------------------------------------------------
 * Property: random documents built from heading-like, numbered, prose,
 * blank and rule lines with mixed line ends.  Ingest succeeds, sections
 * tile the text in order, and every line's text ends up exactly once in a
 * heading or a body (or only in the title).
 * ---------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint32_t rng(void) { return tu_rnd(&rng_state); }

/* Returns how many times "q<tag>z" occurs in s. */
static size_t count_tag(const char *s, unsigned tag)
{
    char t[24];
    snprintf(t, sizeof t, "q%uz", tag);
    size_t k = 0;
    for (const char *p = s; p && (p = strstr(p, t)) != NULL; p++)
        k++;
    return k;
}

START_TEST(test_property_random_documents)
{
    static const char *const prefix[] = {
        "", "", "", "第一章 ", "第二節", "一、", "二、", "（一）", "(2)",
        "1.2 ", "3. ", "1、", "  ", "　",
    };
    static const char *const suffix[] = {
        "", "", "。",
        "，還有更多的內容需要說明以便讓這一行變得足夠長而不像標題",
        "！」", "”", "：",
    };
    static const char *const rule[] = {"====", "----", "＊＊＊", "~~~"};
    static const char *const eol[] = {"\n", "\n", "\r\n", "\r"};
    for (int iter = 0; iter < 300; iter++) {
        tu_render d = {0};
        tu_appendf(&d, "%s", "");
        unsigned ntags = 0, nlines = 1 + rng() % 40;
        for (unsigned l = 0; l < nlines; l++) {
            unsigned kind = rng() % 10;
            if (kind < 3)
                tu_appendf(&d, "%s", rng() % 4 ? "" : " \t");
            else if (kind == 3)
                tu_appendf(&d, "%s", rule[rng() % 4]);
            else
                tu_appendf(&d, "%s詞q%uz語%s",
                           prefix[rng() % (sizeof prefix / sizeof *prefix)],
                           ntags++,
                           suffix[rng() % (sizeof suffix / sizeof *suffix)]);
            if (l + 1 < nlines || rng() % 2)
                tu_appendf(&d, "%s", eol[rng() % 4]);
        }
        collect c;
        int rc = collect_run(&c, "t.txt", d.buf, d.len, 0, NULL);
        ck_assert_msg(rc == 0, "iteration %d: rc %d", iter, rc);
        for (size_t i = 0; i < c.n; i++) {
            ck_assert_uint_le(c.start[i], c.end[i]);
            if (i)
                ck_assert_uint_eq(c.start[i], c.end[i - 1]);
        }
        if (c.n)
            ck_assert_uint_eq(c.end[c.n - 1], d.len);
        for (unsigned t = 0; t < ntags; t++) {
            size_t in_sections = 0;
            for (size_t i = 0; i < c.n; i++)
                in_sections += count_tag(c.heading[i], t) +
                               count_tag(c.body[i], t);
            size_t in_title = count_tag(c.title, t);
            ck_assert_msg(in_sections == 1 ||
                              (in_sections == 0 && in_title == 1),
                          "iteration %d: tag %u in %zu sections\n%s", iter, t,
                          in_sections, d.buf);
        }
        collect_free(&c);
        free(d.buf);
    }
}
END_TEST

/* ------------------------------------------------------------------
 * The shared news sample (not part of the repository): a title, an
 * intro, five headed sections and a byline at the end of the last one.
 * ---------------------------------------------------------------- */

START_TEST(test_shared_sample)
{
    const char *dirs[] = {getenv("JIANSUO_SHARED"), "/work/shared"};
    FILE *f = NULL;
    char path[1024];
    for (size_t i = 0; i < 2 && !f; i++) {
        if (!dirs[i] || !*dirs[i])
            continue;
        snprintf(path, sizeof path, "%s/sample-zh-hant-news.txt", dirs[i]);
        f = fopen(path, "rb");
    }
    if (!f) {
        fprintf(stderr, "check_fmt_text: sample-zh-hant-news.txt not found "
                        "(set JIANSUO_SHARED); skipped\n");
        return;
    }
    tu_render d = {0};
    char buf[4096];
    size_t got;
    tu_appendf(&d, "%s", "");
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        tu_appendf(&d, "%.*s", (int)got, buf);
    fclose(f);

    collect c;
    ck_assert_int_eq(collect_run(&c, path, d.buf, d.len, 0, NULL), 0);
    ck_assert_uint_eq(c.n, 6);
    /* A title from the first line, not the file name. */
    ck_assert_str_ne(c.title, "sample-zh-hant-news");
    ck_assert_uint_gt(strlen(c.title), 0);
    /* The intro, then five flat headed sections. */
    ck_assert_uint_eq(c.depth[0], 0);
    ck_assert_uint_gt(strlen(c.body[0]), 0);
    for (size_t i = 1; i < 6; i++) {
        ck_assert_uint_eq(c.depth[i], 1);
        ck_assert_uint_gt(strlen(c.body[i]), 0);
    }
    ck_assert_uint_eq(c.start[0], 0);
    ck_assert_uint_eq(c.end[5], d.len);
    /* The byline — a short line in brackets — and the line after it end
     * the last section's body. */
    char *last = c.body[5];
    char *nl2 = strrchr(last, '\n');
    ck_assert_ptr_nonnull(nl2);
    *nl2 = 0;
    char *nl1 = strrchr(last, '\n');
    ck_assert_ptr_nonnull(nl1);
    const char *byline = nl1 + 1, *after = nl2 + 1;
    ck_assert_msg(byline[0] == '(' || !strncmp(byline, "（", 3),
                  "byline: %s", byline);
    size_t bl = strlen(byline);
    ck_assert_msg(byline[bl - 1] == ')' ||
                      (bl >= 3 && !strcmp(byline + bl - 3, "）")),
                  "byline: %s", byline);
    ck_assert_uint_gt(strlen(after), 0);
    ck_assert_uint_lt(strlen(after), 40);
    collect_free(&c);
    free(d.buf);
}
END_TEST

/* ------------------------------------------------------------------ */

START_TEST(test_format_entry)
{
    const js_format *f = js_format_by_name("text");
    ck_assert_ptr_eq(f, &js_format_text);
    ck_assert_str_eq(f->name, "text");
    ck_assert_str_eq(f->extensions[0], "txt");
    ck_assert_str_eq(f->extensions[1], "text");
    ck_assert_ptr_null(f->extensions[2]);
    /* The fallback: a little for any text, less for binary-looking. */
    ck_assert_int_eq(f->sniff("", 0), 10);
    ck_assert_int_eq(f->sniff("# 標題\n", 8), 10);
    ck_assert_int_eq(f->sniff("a\0b", 3), 1);
}
END_TEST

static Suite *fmt_text_suite(void)
{
    Suite *s = suite_create("fmt_text");
    TCase *tc = tcase_create("text");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_line_open, 0,
                        sizeof line_cases / sizeof *line_cases);
    tcase_add_loop_test(tc, test_line_tight, 0,
                        sizeof line_cases / sizeof *line_cases);
    tcase_add_loop_test(tc, test_nesting_cjk, 0, NCJK * NCJK);
    tcase_add_loop_test(tc, test_nesting_decimal, 0, NDEC * NDEC);
    tcase_add_test(tc, test_news);
    tcase_add_test(tc, test_news_crlf);
    tcase_add_loop_test(tc, test_documents, 0,
                        sizeof doc_cases / sizeof *doc_cases);
    tcase_add_loop_test(tc, test_edges, 0,
                        sizeof edge_cases / sizeof *edge_cases);
    tcase_add_test(tc, test_title_length);
    tcase_add_test(tc, test_long_line);
    tcase_add_test(tc, test_callback_stops);
    tcase_add_test(tc, test_property_random_documents);
    tcase_add_test(tc, test_shared_sample);
    tcase_add_test(tc, test_format_entry);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(fmt_text_suite(), 0);
}
