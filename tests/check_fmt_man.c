/*
 * check_fmt_man.c — the man page format (fmt_man.c, fmt_roff.c, fmt_tbl.c,
 * fmt_mdoc.c).
 *
 * In:  roff snippets written for these tests (escapes, .TH, .SH/.SS, font
 *      macros, .TP/.IP, strings, conditionals, user macros, .de/.ig
 *      blocks, comments, tbl, mdoc, broken and hostile input), and — when
 *      the package manpages-zh is installed — every page under
 *      /usr/share/man/zh_CN and zh_TW.
 * Out: js_man_unescape's text for each escape row; for pages, the
 *      rendering of testutil.h (DOC, section and W lines); for
 *      manpages-zh, the share of pages with warnings (must be under 1%)
 *      and the titles and sections of a few known pages, with the
 *      figures printed to the log.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fmt_man.h"
#include "ingest.h"
#include "jiansuo.h"
#include "testutil.h"

/* ------------------------------------------------------------------
 * Escapes, through js_man_unescape
 * ---------------------------------------------------------------- */

static const struct {
    const char *in, *want;
} esc_cases[] = {
    {"plain 文本", "plain 文本"},
    {"\\fB粗\\fR\\fI斜\\fP\\f1a\\f2b\\f3c\\f4d", "粗斜abcd"},
    {"\\f(CWcode\\f[B]bold\\f[]x", "codeboldx"},
    {"a\\-b", "a-b"},
    {"\\(em\\(en\\(bu\\(co", "\xE2\x80\x94\xE2\x80\x93\xE2\x80\xA2\xC2\xA9"},
    {"\\(aq\\(dq", "'\""},
    {"\\(lq引用\\(rq", "\xE2\x80\x9C引用\xE2\x80\x9D"},
    {"\\(oq单\\(cq", "\xE2\x80\x98单\xE2\x80\x99"},
    {"\\(hy\\(ti\\(ha\\(rs\\(sl", "-~^\\/"},
    {"\\(mu\\(de\\(+-", "\xC3\x97\xC2\xB0\xC2\xB1"},
    {"\\(*a\\(*W", "\xCE\xB1\xCE\xA9"},
    {"\\[em]\\[rs]\\[dq]", "\xE2\x80\x94\\\""},
    {"\\[u4E2D]\\[u6587]", "中文"},
    {"\\[u0065_0301]", "e\xCC\x81"},
    {"\\[u1F600]", "\xF0\x9F\x98\x80"},
    {"\\[uD800]x", "x"},      /* a surrogate is no character */
    {"\\[uZZZZ]x", "x"},
    {"\\[char65]", "A"},
    {"\\C'em'\\N'66'", "\xE2\x80\x94" "B"},
    {"\\e\\\\", "\\\\"},
    {"a\\&b\\|c\\^d\\)e\\:f\\%g\\/h\\,i", "abcdefghi"},
    {"a\\ b\\~c\\0d", "a b c d"},
    {"a\\tb", "a\tb"},
    {"\\s-1小\\s0 \\s+2x\\s(12y\\s[10]z\\s'8'w\\s12v", "小 xyzwv"},
    {"\\*R \\*(Tm", "\xC2\xAE \xE2\x84\xA2"},
    {"\\*(lq中\\*(rq\\*[lq]", "\xE2\x80\x9C中\xE2\x80\x9D\xE2\x80\x9C"},
    {"[\\*(xx\\*y\\*[undefined]]", "[]"},
    {"[\\n(xx\\nx\\n[reg]\\n+(ab]", "[]"},
    {"a\\w'abc'b\\h'2n'c\\v'-1v'd", "abcd"},
    {"\\l'3i\\(ul'\\L'1'\\o'ab'\\Z'x'\\X'ps: y'\\D'l 1 1'z", "z"},
    {"x\\h'-\\w'yy'u'z", "xz"}, /* nested delimiters */
    {"\\k[mark]\\m[red]\\M[blue]\\F[T]\\V[HOME]\\Y[x]\\g(xx.", "."},
    {"\\(zz\\[nosuchglyph]ok", "ok"},
    {"\\多\\q", "多q"}, /* roff prints an unknown escape's character */
    {"text\\\"comment", "text"},
    {"a\\#b", "a"},
    {"a\\cb", "ab"},
    {"abc\\(a", "abc"},     /* truncated at the end of the line */
    {"abc\\(", "abc"},
    {"abc\\f", "abc"},
    {"abc\\*[x", "abc"},
    {"abc\\s", "abc"},
    {"abc\\", "abc"},
    {"\\h'unterminated", "h'unterminated"}, /* kept: a literal backslash */
    {"\\(中文x", "x"},          /* a two-character name in UTF-8 */
    {"\\", ""},
};

START_TEST(test_escape_table)
{
    char *out = NULL;
    size_t len = 0;
    const char *in = esc_cases[_i].in;
    ck_assert_int_eq(js_man_unescape(in, strlen(in), &out, &len), 0);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(len, strlen(out));
    ck_assert_msg(!strcmp(out, esc_cases[_i].want), "%s:\n got: %s\nwant: %s",
                  in, out, esc_cases[_i].want);
    free(out);
}
END_TEST

/* Every prefix of a line full of escapes: nothing is read past the end
 * (ASan watches), and every call returns. */
START_TEST(test_escape_prefixes)
{
    static const char line[] =
        "\\fB\\f(CW\\f[I]\\(em\\[u4E2D]\\*(Tm\\*[lq]\\n(xx\\s-1\\s(12"
        "\\h'1n'\\w'\\(bu'\\C'em'\\N'65'\\k[a]\\多\\e\\\\";
    for (size_t n = 0; n <= sizeof line - 1; n++) {
        char *copy = malloc(n ? n : 1), *out = NULL;
        size_t len;
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, line, n);
        ck_assert_int_eq(js_man_unescape(copy, n, &out, &len), 0);
        free(out);
        free(copy);
    }
}
END_TEST

/* ------------------------------------------------------------------
 * Pages, through js_ingest_memory and the testutil.h rendering
 * ---------------------------------------------------------------- */

#define DOC(title) "DOC|" title "|man|UTF-8||\n"

static const struct {
    const char *name;
    const char *in;
    const char *want;
} page_cases[] = {
    {"TH gives NAME(SECTION)",
     ".TH LS 1 \"2024年3月\" \"GNU\" \"用户命令\"\n.SH 名称\nls \\- 列出目录\n",
     DOC("LS(1)")
     "0|名称|ls - 列出目录|44-74\n"},
    {"TH keeps case and quotes",
     ".TH \"my \"\"odd\"\" page\" 3pm\n.SH NAME\nx\n",
     DOC("my \"odd\" page(3pm)")
     "0|NAME|x|26-37\n"},
    {"TH without a section",
     ".TH solo\n.SH NAME\nx\n", DOC("solo") "0|NAME|x|9-20\n"},
    {"TH with escapes", ".TH \\fBgrep\\fR 1\n.SH N\nx\n",
     DOC("grep(1)")
     "0|N|x|17-25\n"},
    {"SH and SS make a path",
     ".TH T 1\n.SH 描述\n第一段。\n.SS 选项\n第二段。\n.SH 参见\nls(1)\n",
     DOC("T(1)")
     "0|描述|第一段。|8-32\n"
     "1|描述 > 选项|第二段。|32-56\n"
     "2|参见|ls(1)|56-73\n"},
    {"SH arguments are joined, quoted or not",
     ".TH T 1\n.SH \"SEE ALSO\" 参见\nx\n.SS 子 节\ny\n",
     DOC("T(1)")
     "0|SEE ALSO 参见|x|8-32\n"
     "1|SEE ALSO 参见 > 子 节|y|32-46\n"},
    {"SH without arguments takes the next line",
     ".TH T 1\n.SH\n名称\n正文\n.SH\n.B 另一节\n更多\n",
     DOC("T(1)")
     "0|名称|正文|8-26\n"
     "1|另一节|更多|26-50\n"},
    {"text before the first SH is section 0",
     ".TH T 1\n前言文字。\n.SH 名称\n正文\n",
     DOC("T(1)") "0||前言文字。|0-24\n1|名称|正文|24-42\n"},
    {"filled lines join, CJK without a space",
     ".TH T 1\n.SH S\n中文句子的前半\n后半部分。\nword\nnext 中文\n",
     DOC("T(1)")
     "0|S|中文句子的前半后半部分。 word next 中文|8-69\n"},
    {"paragraph macros break",
     ".TH T 1\n.SH S\n甲\n.PP\n乙\n.LP\n丙\n.P\n丁\n.br\n戊\n.sp 2\n己\n\n庚\n",
     DOC("T(1)")
     "0|S|甲\\n乙\\n丙\\n丁\\n戊\\n己\\n庚|8-64\n"},
    {"a line starting with a space breaks",
     ".TH T 1\n.SH S\n第一\n  第二\n第三\n",
     DOC("T(1)")
     "0|S|第一\\n第二第三|8-37\n"},
    {"font macros",
     ".TH T 1\n.SH S\n.B 粗体 文本\n.I italic words\n.SM small\n"
     ".SB bold small\n",
     DOC("T(1)")
     "0|S|粗体 文本 italic words small bold small|8-72\n"},
    {"alternating font macros join without spaces",
     ".TH T 1\n.SH S\n.BR ls (1),\n.IR file .txt\n.BI \\-o \" name\"\n"
     ".IB a b\n.RB [ \\-v ]\n.RI x y z\n",
     DOC("T(1)")
     "0|S|ls(1), file.txt -o name ab [-v] xyz|8-86\n"},
    {"a font macro without arguments leaves the next line alone",
     ".TH T 1\n.SH S\n.B\n下一行\n",
     DOC("T(1)")
     "0|S|下一行|8-27\n"},
    {"TP tags",
     ".TH T 1\n.SH 选项\n.TP\n.B \\-a\n显示全部。\n"
     ".TP 8\n\\fB\\-l\\fR\n长格式。\n",
     DOC("T(1)")
     "0|选项|-a\\n显示全部。\\n-l\\n长格式。|8-75\n"},
    {"IP tags",
     ".TH T 1\n.SH S\n.IP \\(bu 4\n第一项\n.IP \\(bu\n第二项\n.IP\n无标签\n",
     DOC("T(1)")
     "0|S|•\\n第一项\\n•\\n第二项\\n无标签|8-68\n"},
    {"nf keeps lines and their indentation",
     ".TH T 1\n.SH S\n前\n.nf\n  缩进行\n第二行\n\n.fi\n填充 一\n填充 b\n",
     DOC("T(1)")
     "0|S|前\\n  缩进行\\n第二行\\n填充 一填充 b|8-69\n"},
    {"EX and EE",
     ".TH T 1\n.SH S\n.EX\nint a;\nint b;\n.EE\nafter\n",
     DOC("T(1)")
     "0|S|int a;\\nint b;\\nafter|8-42\n"},
    {"RS RE HP break",
     ".TH T 1\n.SH S\na\n.RS 4\nb\n.RE\nc\n.HP\nd\n",
     DOC("T(1)")
     "0|S|a\\nb\\nc\\nd|8-36\n"},
    {"UR and MT",
     ".TH T 1\n.SH S\n.UR https://example.org/\n项目主页\n.UE .\n"
     ".MT dev@example.org\n作者\n.ME\n",
     DOC("T(1)")
     "0|S|项目主页 <https://example.org/>. 作者 <dev@example.org>|8-89\n"},
    {"de blocks are skipped and their macros run",
     ".TH T 1\n.de XX\n.B \\\\$1\n不会直接出现\n..\n.SH S\n.XX 参数\n",
     DOC("T(1)")
     "0|S|参数不会直接出现|45-62\n"},
    {"macro arguments: $*, $@, $0 and shift",
     ".TH T 1\n.de XY\n\\\\$0: \\\\$*\n.shift\n[\\\\$1] \\\\n(.$\n..\n"
     ".SH S\n.XY \"a b\" c\n",
     DOC("T(1)")
     "0|S|XY: a b c [c]|50-68\n"},
    {"de with a custom end and am",
     ".TH T 1\n.de XX END\n甲\n..\n.END\n.am XX\n乙\n..\n.SH S\n.XX\n",
     DOC("T(1)")
     "0|S|甲乙|45-55\n"},
    {"ig blocks are skipped",
     ".TH T 1\n.SH S\n.ig\n不应出现\n.B 也不应\n..\n可见\n.ig EN\n隐藏\n.EN\n",
     DOC("T(1)")
     "0|S|可见|8-72\n"},
    {"comments",
     ".\\\" 文件开头的注释\n'\\\" 另一种注释\n.TH T 1\n.SH S\n"
     "正文\\\" 行尾注释\n.  \\\" 缩进的注释\n\\\" 只有注释的行\n正文二\n",
     DOC("T(1)")
     "0|S|正文\\n正文二|54-136\n"},
    {"strings",
     ".TH T 1\n.ds Pn 检索\n.ds Q \"带引号\n.as Pn 程序\n.SH S\n"
     "使用 \\*(Pn\\*Q 和 \\*[Pn]\n.rm Pn\n[\\*(Pn]\n",
     DOC("T(1)")
     "0|S|使用 检索程序带引号 和 检索程序 []|53-101\n"},
    {"conditions seen as nroff",
     ".TH T 1\n.SH S\n.if n 终端\n.if t 排版\n.ie t 甲\n.el 乙\n"
     ".ie n 丙\n.el 丁\n.if \\n(.g 戊\n.if !'a'b' 己\n.if 'x'y' 庚\n"
     ".if 1+1=2 辛\n.if (2>3) 壬\n",
     DOC("T(1)")
     "0|S|终端乙丙戊己辛|8-147\n"},
    {"condition blocks",
     ".TH T 1\n.SH S\n.if t \\{\\\n.B 排版专用\n.if n 也不\n.\\}\n"
     ".ie n \\{\\\n终端\n.\\}\n.el \\{\n否\n.\\}\n末尾\n",
     DOC("T(1)")
     "0|S|终端末尾|8-100\n"},
    {"registers",
     ".TH T 1\n.nr X 5\n.nr X +2\n.nr Y \\nX*2\n.SH S\n.if \\nX=7 七\n"
     ".if \\n(.$ 无\n.if \\nY=14 十四\n.rr X\n.if \\nX 删\n",
     DOC("T(1)")
     "0|S|七十四|37-107\n"},
    {"unknown requests and macros are ignored",
     ".TH T 1\n.SH S\n.ad l\n.hy 0\n.ne 5\n.ta 4n\n.in +2\n.ti 0\n"
     ".ft B\n.xyz 参数\n.IX Header \"x\"\n正文\n",
     DOC("T(1)")
     "0|S|正文|8-92\n"},
    {"tbl",
     ".TH T 1\n.SH S\n.TS\ntab(@);\nl l.\n名称@说明\n_\n"
     "ls@列出\\fB文件\\fR\n.TE\n后文\n",
     DOC("T(1)")
     "0|S|名称 说明\\nls 列出文件\\n后文|8-80\n"},
    {"tbl with text blocks and tabs",
     ".TH T 1\n.SH S\n.TS\nallbox;\nl l\nl l.\n甲\t乙\n"
     "T{\n块一\nT}\tT{\n块二\nT}\n"
     ".T&\nc c.\n丙\t丁\n.TE\n",
     DOC("T(1)")
     "0|S|甲 乙\\n块一 块二\\n丙 丁|8-90\n"},
    {"a page that is only .so", ".so man1/other.1\n", ""},
    {"truncated escape at end of line",
     ".TH T 1\n.SH S\n文本\\(a\n下一行\n",
     "W|3|truncated escape \\( at end of line\n"
     DOC("T(1)")
     "0|S|文本下一行|8-34\n"},
    {"unterminated de",
     ".TH T 1\n.SH S\n正文\n.de XX\n.B x\n",
     "W|5|unterminated .de block (from line 4)\n"
     DOC("T(1)")
     "0|S|正文|8-33\n"},
    {"unterminated ig",
     ".TH T 1\n.SH S\n正文\n.ig\n被忽略\n",
     "W|5|unterminated .ig block (from line 4)\n"
     DOC("T(1)")
     "0|S|正文|8-35\n"},
    {"unterminated table",
     ".TH T 1\n.SH S\n.TS\nl.\n格\n",
     "W|5|unterminated table (.TS on line 3)\n"
     DOC("T(1)")
     "0|S|格|8-25\n"},
    {"unterminated condition block",
     ".TH T 1\n.SH S\n正文\n.if t \\{\\\n被跳过\n",
     "W|5|unterminated \\{ block at end of page\n"
     DOC("T(1)")
     "0|S|正文|8-41\n"},
    {"escaped newline joins lines",
     ".TH T 1\n.SH S\n.B 一 \\\n二\n三\\\n四\n",
     DOC("T(1)")
     "0|S|一 二三四|8-36\n"},
    {"c joins the next line",
     ".TH T 1\n.SH S\nab\\c\ncd\n",
     DOC("T(1)")
     "0|S|abcd|8-22\n"},
    {"pod2man's Sh is a subsection",
     ".de Sh\n.PP\n\\fB\\\\$1\\fR\n..\n"
     ".TH P 1\n.SH 描述\n甲\n.Sh \"小 节\"\n乙\n",
     DOC("P(1)")
     "0|描述|甲|33-48\n"
     "1|描述 > 小 节|乙|48-66\n"},
    {"tr of a special character",
     ".TH T 1\n.tr \\(*W-|\\(bv\n.SH S\n\\(*W\\(*W|\n",
     DOC("T(1)")
     "0|S|--||23-39\n"},
    {"eo and ec",
     ".TH T 1\n.eo\n.de XX\n\\fB\\$1\\fR!\n..\n.ec\n.SH S\n.XX 词\n",
     DOC("T(1)")
     "0|S|词!|37-51\n"},
    {"mdoc",
     ".Dd March 1, 2024\n.Dt TEST 1\n.Os\n.Sh NAME\n.Nm test\n.Nd 测试程序\n"
     ".Sh SYNOPSIS\n.Nm\n.Op Fl v\n.Ar file\n.Sh DESCRIPTION\n.Bl -tag\n"
     ".It Fl v\n详细输出。\n.El\n.Ss 子节\n见\n.Xr ls 1 ,\n.Xr cat 1 .\n",
     DOC("TEST(1)")
     "0|NAME|test - 测试程序|33-68\n"
     "1|SYNOPSIS|test [-v] file|68-103\n"
     "2|DESCRIPTION|-v\\n详细输出。|103-157\n"
     "3|DESCRIPTION > 子节|见 ls(1), cat(1).|157-195\n"},
};

/* Ingests `in` as the man page "page.1" and checks that it renders as
 * `want`. */
static void check_page(const char *name, const char *in, const char *want)
{
    int rc = -100;
    js_ingest_stats st;
    char *got = tu_ingest("page.1", in, strlen(in), "man", &rc, &st);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(!strcmp(got, want), "%s:\n got: %s\nwant: %s", name, got,
                  want);
    free(got);
}

START_TEST(test_page_table)
{
    check_page(page_cases[_i].name, page_cases[_i].in, page_cases[_i].want);
}
END_TEST

/* tbl(1) tables (fmt_tbl.c): the cells of a row are one line, joined by
 * a space; options, formats and rules give no text. */
static const struct {
    const char *name;
    const char *in;
    const char *want;
} tbl_cases[] = {
    {"tab-separated cells",
     ".TH T 1\n.SH S\n.TS\nl l.\n名称\t说明\nls\t列出\n.TE\n后文\n",
     DOC("T(1)")
     "0|S|名称 说明\\nls 列出\\n后文|8-58\n"},
    {"tab(x) option",
     ".TH T 1\n.SH S\n.TS\ntab(:) center;\nl l.\na:b\n"
     "\\fBc\\fR:d\n.TE\n",
     DOC("T(1)")
     "0|S|a b\\nc d|8-56\n"},
    {"rules and empty cells",
     ".TH T 1\n.SH S\n.TS\nl l l.\n_\na\t\tb\n=\n\\_\t\\^\tc\n"
     ".TE\n",
     DOC("T(1)")
     "0|S|a b\\nc|8-46\n"},
    {"T{ block",
     ".TH T 1\n.SH S\n.TS\nl l.\n键\tT{\n中文说明\n.br\n第二行\nT}\n"
     "下\t行\n.TE\n",
     DOC("T(1)")
     "0|S|键 中文说明\\n第二行\\n下 行|8-72\n"},
    {"T& and requests",
     ".TH T 1\n.SH S\n.TS\nl.\na\n.T&\nc.\nb\n.sp\nc\n.TE\n",
     DOC("T(1)")
     "0|S|a\\nb\\nc|8-42\n"},
    {"unterminated table",
     ".TH T 1\n.SH S\n.TS\nl.\n甲\n",
     "W|5|unterminated table (.TS on line 3)\n"
     DOC("T(1)")
     "0|S|甲|8-25\n"},
};

START_TEST(test_tbl_table)
{
    check_page(tbl_cases[_i].name, tbl_cases[_i].in, tbl_cases[_i].want);
}
END_TEST

/* Input meant to make the interpreter loop or blow up comes back with a
 * warning, quickly. */
static const struct {
    const char *name, *in, *warning;
} hostile_cases[] = {
    {"recursive macro", ".de A\n.A\n..\n.A\n",
     "macros nested more than 32 deep (.A); not expanded"},
    {"string bomb",
     ".ds a 0123456789abcdef\n.ds b \\*a\\*a\\*a\\*a\\*a\\*a\\*a\\*a\n"
     ".ds c \\*b\\*b\\*b\\*b\\*b\\*b\\*b\\*b\n"
     ".ds d \\*c\\*c\\*c\\*c\\*c\\*c\\*c\\*c\n"
     ".ds e \\*d\\*d\\*d\\*d\\*d\\*d\\*d\\*d\n"
     ".ds f \\*e\\*e\\*e\\*e\\*e\\*e\\*e\\*e\n"
     ".ds g \\*f\\*f\\*f\\*f\\*f\\*f\\*f\\*f\n"
     ".ds h \\*g\\*g\\*g\\*g\\*g\\*g\\*g\\*g\n"
     "\\*h\\*h\n",
     "expanded line longer than 2097152 bytes; the rest was dropped"},
    {"self-referencing string", ".ds a x\\*a\n\\*a\n", NULL},
    {"deeply nested requests",
     ".if n .if n .if n .if n .if n .if n .if n .if n .if n .if n .if n "
     ".if n .if n .if n .if n .if n .if n .if n .if n .if n .if n .if n "
     ".if n .if n .if n .if n .if n .if n .if n .if n .if n .if n .if n "
     ".if n .if n .if n .if n .if n .if n .if n .if n .if n .if n .if n "
     ".if n .if n .if n .if n .if n .if n .if n .if n .if n .if n .if n "
     ".if n .if n .if n .if n .if n .if n .if n .if n .if n .if n .if n "
     ".if n .if n .if n .if n .if n .if n .if n .if n .if n .if n .if n "
     ".if n .if n .if n .if n .if n .if n .if n .if n .if n .if n .if n "
     ".if n .if n .if n .if n .if n .if n .if n .if n .if n .if n .if n "
     ".if n .if n .if n .if n .if n .if n .if n .if n .if n .if n .if n "
     ".if n .if n .if n .if n .if n .if n .if n .if n .if n .if n .if n "
     ".if n .if n .if n .if n .if n .if n .if n .if n .if n .if n .if n "
     "深\n",
     "requests nested more than 128 deep; the rest of the line is ignored"},
    {"while is not run", ".nr x 1\n.while \\nx .nr x +1\n字\n", NULL},
};

START_TEST(test_hostile)
{
    int rc = -100;
    js_ingest_stats st;
    const char *in = hostile_cases[_i].in;
    char *got = tu_ingest("bomb.1", in, strlen(in), "man", &rc, &st);
    ck_assert_int_eq(rc, 0);
    if (hostile_cases[_i].warning) {
        char want[256];
        snprintf(want, sizeof want, "|%s\n", hostile_cases[_i].warning);
        ck_assert_msg(strstr(got, want) != NULL, "%s: %s",
                      hostile_cases[_i].name, got);
        ck_assert_uint_eq(st.warnings, 1);
    } else {
        ck_assert_msg(st.warnings == 0, "%s: %s", hostile_cases[_i].name, got);
    }
    free(got);
}
END_TEST

/* A garbled page reports its first broken escapes, not all of them. */
START_TEST(test_escape_warnings_limited)
{
    char page[512] = ".TH T 1\n.SH S\n";
    for (int i = 0; i < 20; i++)
        strcat(page, "x\\h'y\n");
    int rc = -100;
    js_ingest_stats st;
    char *got = tu_ingest("esc.1", page, strlen(page), "man", &rc, &st);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(st.warnings, 10);
    ck_assert_ptr_nonnull(strstr(got, "W|3|unterminated argument of \\h\n"));
    ck_assert_ptr_nonnull(strstr(
        got, "W|12|unterminated argument of \\h (further escape problems on "
             "this page not reported)\n"));
    free(got);
}
END_TEST

/* Macros that call each other twice, twenty deep, would run a million
 * lines: the expansion is cut with one warning. */
START_TEST(test_exponential_macros)
{
    char page[1024];
    size_t len = 0;
    for (int i = 1; i < 20; i++)
        len += (size_t)snprintf(page + len, sizeof page - len,
                                ".de m%d\n.m%d\n.m%d\n..\n", i, i + 1,
                                i + 1);
    len += (size_t)snprintf(page + len, sizeof page - len,
                            ".de m20\n字\n字\n..\n.m1\n");
    int rc = -100;
    js_ingest_stats st;
    char *got = tu_ingest("exp.1", page, len, "man", &rc, &st);
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(strstr(got, "W|81|macro expansion too long (.m"));
    ck_assert_uint_eq(st.warnings, 1);
    free(got);
}
END_TEST

/* A callback's non-zero return stops the page and comes back unchanged. */
START_TEST(test_callback_stops)
{
    static const char page[] =
        ".TH T 1\n.SH A\n甲\n.SH B\n乙\n.SH C\n丙\n";
    int calls = 0;
    ck_assert_int_eq(
        tu_ingest_stop_at("man", "t.1", page, sizeof page - 1, 1, 7, &calls),
        7);
    ck_assert_int_eq(calls, 1);
}
END_TEST

START_TEST(test_sniff_and_extensions)
{
    static const struct {
        const char *head;
        int want;
    } rows[] = {
        {".TH LS 1\n", 80},
        {"\n\n.\\\" comment\n", 80},
        {"'\\\" t\n", 80},
        {".Dd March 1, 2024\n", 80},
        {".so man1/ls.1\n", 80},
        {"some words\n.TH X 1\n", 80},
        {".ig\nlicence\n..\n", 60},
        {".de XX\n..\n", 60},
        {".ignore\n", 0},
        {"plain text about .TH\n", 0},
        {"# Markdown\n", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        ck_assert_msg(js_format_man.sniff(rows[i].head, strlen(rows[i].head)) ==
                          rows[i].want,
                      "row %zu", i);
    static const char *const exts[] = {"1", "8", "n", "l", "man", "1p",
                                       "3pm", "8x", "1ssl", "3tcl", "3tk"};
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
        int found = 0;
        for (const char *const *e = js_format_man.extensions; *e; e++)
            found |= !strcmp(*e, exts[i]);
        ck_assert_msg(found, "extension %s", exts[i]);
    }
    ck_assert_ptr_eq(js_format_by_name("man"), &js_format_man);
}
END_TEST

/* Without a forced format, the extension picks man. */
START_TEST(test_detected_by_extension)
{
    static const char page[] = ".TH X 3pm\n.SH NAME\nx\n";
    int rc;
    char *got = tu_ingest("X.3pm", page, sizeof page - 1, NULL, &rc, NULL);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(got, DOC("X(3pm)") "0|NAME|x|10-21\n");
    free(got);
}
END_TEST

/* Random mixes of roff pieces: every page ends, with rc 0. */
static uint64_t rng = 0x2545F4914F6CDD1Dull;

START_TEST(test_property_random_roff)
{
    static const char *const pieces[] = {
        ".de A\n", ".de B\n.A\n.A\n", "..\n", ".A x y\n", ".B\n",
        ".if n \\{\\\n", ".if t \\{\\\n", ".\\}\n", ".ie \\nx ", ".el ",
        ".nr x +1\n", ".ds s \\*s\\*s\n", "\\*s", "\\(", "\\[u4E", "\\f",
        "\\h'", "'", "\"", "\\", "\n", "中文", "word ", ".TS\n", "tab(@);\n",
        "l l.\n", "T{\n", "T}\n", ".TE\n", ".SH ", ".SS\n", ".TP\n",
        ".IP \\(bu\n", ".nf\n", ".fi\n", ".ig\n", ".so x\n", ".Dd\n",
        ".Op Fl a\n", ".Sm off\n", ".eo\n", ".ec\n", ".shift 99\n",
        ".rm A\n", ".als C A\n", ".rn A D\n", ".tr \\(*Wx\n", "\\*(", "\\n(",
        ".UR u\n", ".UE\n", "\\c", ".ce 3\n", "\\w'\\h'", ".do B\n",
        ".nop \\f\n", ".return\n", ".am A\n",
    };
    char buf[2048];
    for (int iter = 0; iter < 1500; iter++) {
        size_t len = tu_random_pieces(buf, sizeof buf, sizeof buf, pieces,
                                      sizeof pieces / sizeof *pieces, &rng);
        int rc = -100;
        char *got = tu_ingest("r.1", buf, len, "man", &rc, NULL);
        ck_assert_msg(rc == 0, "iteration %d: rc %d", iter, rc);
        free(got);
    }
}
END_TEST

/* ------------------------------------------------------------------
 * Integration: manpages-zh
 * ---------------------------------------------------------------- */

typedef struct {
    char last[4096]; /* the file of the last warning */
    size_t files_warned, warnings;
} warn_count;

static void count_warning(void *ctx, const char *file, uint64_t line,
                          uint64_t offset, const char *msg)
{
    warn_count *w = ctx;
    (void)offset;
    w->warnings++;
    if (strcmp(w->last, file)) {
        w->files_warned++;
        snprintf(w->last, sizeof w->last, "%s", file);
    }
    printf("manpages-zh warning: %s:%llu: %s\n", file,
           (unsigned long long)line, msg);
}

typedef struct {
    char title[256];
    size_t sections;
} page_info;

static int note_section(void *ctx, const js_section *sec)
{
    page_info *p = ctx;
    snprintf(p->title, sizeof p->title, "%s", sec->document->title);
    p->sections++;
    return 0;
}

static int ignore_section(void *ctx, const js_section *sec)
{
    (void)ctx;
    (void)sec;
    return 0;
}

START_TEST(test_manpages_zh)
{
    static const char *const dirs[] = {"/usr/share/man/zh_CN",
                                       "/usr/share/man/zh_TW"};
    static const struct {
        const char *path, *title;
        size_t min_sections;
    } known[] = {
        {"/usr/share/man/zh_CN/man1/ls.1.gz", "LS(1)", 5},
        {"/usr/share/man/zh_TW/man1/ls.1.gz", "LS(1)", 5},
        {"/usr/share/man/zh_CN/man3/after.3tcl.gz", "after(3tcl)", 5},
        {"/usr/share/man/zh_CN/man1/perl.1.gz", "PERL(1)", 10},
        {"/usr/share/man/zh_CN/man1/ssh.1.gz", "SSH(1)", 10},
    };
    struct stat sb;
    if (stat(dirs[0], &sb) != 0) {
        printf("manpages-zh not installed: skipped\n");
        return;
    }
    warn_count w;
    memset(&w, 0, sizeof w);
    js_ingest_options o = JS_INGEST_OPTIONS_INIT;
    js_ingest *ing = NULL;
    o.warn = count_warning;
    o.warn_ctx = &w;
    ck_assert_int_eq(js_ingest_open(&ing, &o), 0);
    for (size_t i = 0; i < 2; i++)
        if (stat(dirs[i], &sb) == 0)
            ck_assert_int_eq(js_ingest_path(ing, dirs[i], ignore_section, NULL),
                             0);
    js_ingest_stats st;
    js_ingest_get_stats(ing, &st);
    js_ingest_close(ing);
    printf("manpages-zh: %llu pages, %llu sections, %zu pages with warnings "
           "(%zu warnings)\n",
           (unsigned long long)st.files, (unsigned long long)st.sections,
           w.files_warned, w.warnings);
    ck_assert_uint_gt(st.files, 100);
    ck_assert_msg(w.files_warned * 100 < st.files,
                  "%zu of %llu pages have warnings", w.files_warned,
                  (unsigned long long)st.files);
    ck_assert_uint_gt(st.sections, 4 * st.files); /* a title alone is not
                                                     enough */

    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        page_info p;
        if (stat(known[i].path, &sb) != 0)
            continue;
        memset(&p, 0, sizeof p);
        memset(&w, 0, sizeof w);
        o.format = NULL; /* detected from the name */
        ck_assert_int_eq(js_ingest_open(&ing, &o), 0);
        ck_assert_int_eq(js_ingest_path(ing, known[i].path, note_section, &p),
                         0);
        js_ingest_close(ing);
        printf("manpages-zh: %s: %s, %zu sections\n", known[i].path, p.title,
               p.sections);
        ck_assert_str_eq(p.title, known[i].title);
        ck_assert_uint_ge(p.sections, known[i].min_sections);
        ck_assert_uint_eq(w.warnings, 0);
    }
}
END_TEST

static Suite *man_suite(void)
{
    Suite *s = suite_create("fmt_man");
    TCase *tc = tcase_create("man");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_escape_table, 0,
                        sizeof esc_cases / sizeof *esc_cases);
    tcase_add_test(tc, test_escape_prefixes);
    tcase_add_loop_test(tc, test_page_table, 0,
                        sizeof page_cases / sizeof *page_cases);
    tcase_add_loop_test(tc, test_tbl_table, 0,
                        sizeof tbl_cases / sizeof *tbl_cases);
    tcase_add_loop_test(tc, test_hostile, 0,
                        sizeof hostile_cases / sizeof *hostile_cases);
    tcase_add_test(tc, test_exponential_macros);
    tcase_add_test(tc, test_escape_warnings_limited);
    tcase_add_test(tc, test_callback_stops);
    tcase_add_test(tc, test_sniff_and_extensions);
    tcase_add_test(tc, test_detected_by_extension);
    tcase_add_test(tc, test_property_random_roff);
    tcase_add_test(tc, test_manpages_zh);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(man_suite(), 0);
}
