/*
 * fmt_text.c — the plain-text format ("text"; .txt, .text), and the
 * fallback for files no other format claims.
 *
 * In:  a js_source read line by line (UTF-8, terminators removed).
 * Out: sink calls — at most one title, headings found by layout alone,
 *      and body lines (each trimmed of surrounding white space and ended
 *      with a break; blank lines only separate).
 *
 * Plain text has no markup, so headings are guessed from how lines look
 * and what surrounds them.  The rules, in the terms used below:
 *
 *  Heading-like line: trimmed, 1..HEADING_MAX_CHARS characters, holding
 *    at least one letter or CJK character (not only digits, punctuation
 *    and symbols), and not ending in sentence-final or clause punctuation
 *    (。！？；…⋯!?;，、,：:.．｡), also not when closing quotes or brackets
 *    follow it (「好。」 ends a sentence; “雙減” does not).
 *
 *  Title: the first non-blank line, when it is heading-like (up to
 *    TITLE_MAX_CHARS: news titles are long) and not numbered, becomes the
 *    document title (js_sink_title) and not a heading: the text up to the
 *    first heading is section 0, headed by the title.  Otherwise the
 *    document keeps its default title (the file name).
 *
 *  Numbered heading: a heading-like line that starts with
 *      第X編/编/篇/部/卷/集   level 1
 *      第X章/回               level 2
 *      第X節/节               level 3
 *      一、                   level 4
 *      （一） (一)            level 5
 *      1. 1、 1．  "1 " (≤ 2 digits, then white space)   level 6
 *      1.2 / 1.2.3 …, then white space or non-ASCII text   level 5 + parts
 *      （1） (1)              level 7
 *    (X: Chinese numerals, financial forms, or ASCII / full-width digits).
 *    Levels only order the styles against each other (the sink nests a
 *    heading under the nearest shallower one and tolerates gaps); the
 *    order is that of books (編 > 章 > 節) and of GB/T 9704 official
 *    documents (一、 > （一） > 1. > （1）), and a decimal outline
 *    (1 > 1.1 > 1.1.1) keeps its own nesting.  Such a line is a heading
 *    even with no body after it (第一章 directly followed by 第一節) —
 *    unless it is a list item: when the next non-blank line is a numbered
 *    heading-like line of the same or a shallower level (a heading with
 *    nothing under it is a list or table-of-contents entry), or when it
 *    continues such a list (same level, number one higher than the item
 *    before it).  A long numbered line, or one ending in 。, is body.
 *
 *  Underlined heading: a heading-like line directly followed by a line of
 *    one character repeated 3 or more times, from = ＝ ━ (level 1) or
 *    - － ─ ~ ～ * ＊ _ — ― (level 2); a numbered line keeps its number's
 *    level.  The underline is not body.  Such a line elsewhere is a
 *    separator: no body, but it ends a paragraph like a blank line (and a
 *    line of them above the first line leaves that line the title).
 *
 *  Unnumbered heading: a heading-like line preceded by a blank line (or a
 *    heading) and followed, after any blank lines, by a body line (one
 *    that is not heading-like).  So the short lines closing an article —
 *    a byline "（本報記者 某某）" and a source name under it — stay in
 *    the body of the last section.  Level 9: below any numbered or
 *    underlined heading before it, so that an unnumbered sub-heading
 *    nests under 第一章 or 一、.
 *
 *  Only a title: a document with no other text gets its title line as
 *    body too, since section 0 is emitted only when it has a body and the
 *    line could otherwise never be found.
 *
 * Known limits: the look-ahead is one non-blank line, so in a table of
 * contents that mixes levels (第一章, 第一節, 第二節, 第二章) the entries
 * followed by a deeper one still become (empty) headings; two unnumbered
 * heading-like lines in a row (a heading and a subtitle) are both body.
 *
 * Memory is bounded: a line is held back only while it might be a title
 * or heading, and such a line is at most TITLE_MAX_CHARS characters, so it
 * is copied into a fixed buffer; blank lines after it are only counted.
 * Every other line goes to the sink as soon as it is read.  Lines longer
 * than JS_LINE_MAX_BYTES arrive in pieces (the source warns); the pieces
 * are body and are joined without a break.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "chartab.h"
#include "ingest.h"
#include "utf8.h"

/* Longest heading, in characters.  News section headings run to 15-20
 * characters; 40 leaves room for long official ones while a typical body
 * paragraph is far longer. */
#define HEADING_MAX_CHARS 40
/* Longest title, in characters: headlines often carry a subtitle. */
#define TITLE_MAX_CHARS 60
/* Room for a held-back line: every character is at most 4 bytes. */
#define HOLD_BYTES (TITLE_MAX_CHARS * 4)

/* Level of unnumbered headings: the deepest, see the opening comment. */
#define LEVEL_PLAIN 9

enum line_kind {
    LN_BLANK, /* empty or only white space */
    LN_RULE,  /* one character repeated: an underline or a separator */
    LN_BODY,  /* anything not heading-like */
    LN_SHORT  /* heading-like */
};

typedef struct line_info {
    enum line_kind kind;
    const char *text; /* trimmed */
    size_t len;
    int title_ok;      /* could be the title (heading-like up to
                          TITLE_MAX_CHARS; LN_SHORT or LN_BODY) */
    int rule_level;    /* LN_RULE: level it gives the line above */
    int num_level;     /* title_ok: level of its numbering, 0 if none */
    uint64_t num_value; /* with num_level: the (last) number */
} line_info;

/* ------------------------------------------------------------------
 * Characters
 * ---------------------------------------------------------------- */

static int is_space(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' ||
           c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000 || c == 0xFEFF;
}

/* Decodes the character starting at s[i] (i < n) into *c (JS_UTF8_INVALID
 * for a bad byte) and returns its length in bytes. */
static size_t char_at(const char *s, size_t n, size_t i, uint32_t *c)
{
    return js_utf8_decode((const unsigned char *)s + i, n - i, c);
}

/* Returns the start of the character that ends at s[end] (end > 0) and
 * stores it in *c: a well-formed sequence, else the last byte alone as
 * JS_UTF8_INVALID. */
static size_t char_before(const char *s, size_t end, uint32_t *c)
{
    size_t i = end - 1;
    while (i > 0 && end - i < 4 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    if (char_at(s, end, i, c) == end - i)
        return i;
    *c = JS_UTF8_INVALID;
    return end - 1;
}

/* Trims white space from both ends of s[0..*n); returns the new start
 * and stores the new length in *n. */
static const char *trim(const char *s, size_t *n)
{
    size_t a = 0, b = *n;
    uint32_t c;
    while (a < b) {
        size_t l = char_at(s, b, a, &c);
        if (!is_space(c))
            break;
        a += l;
    }
    while (b > a) {
        size_t p = char_before(s, b, &c);
        if (p < a || !is_space(c))
            break;
        b = p;
    }
    *n = b - a;
    return s + a;
}

/* Punctuation that ends a sentence or a clause: a line ending in one is
 * prose, never a heading. */
static int is_final_punct(uint32_t c)
{
    switch (c) {
    case 0x3002: /* 。 */
    case 0xFF01: /* ！ */
    case 0xFF1F: /* ？ */
    case 0xFF1B: /* ； */
    case 0x2026: /* … */
    case 0x22EF: /* ⋯ */
    case 0xFF0C: /* ， */
    case 0x3001: /* 、 */
    case 0xFF1A: /* ： */
    case 0xFF0E: /* ． */
    case 0xFF61: /* ｡ */
    case '!':
    case '?':
    case ';':
    case ',':
    case ':':
    case '.':
        return 1;
    default:
        return 0;
    }
}

/* Closing quotes and brackets, looked through when finding how a line
 * ends. */
static int is_closer(uint32_t c)
{
    switch (c) {
    case 0x201D: /* ” */
    case 0x2019: /* ’ */
    case 0x300D: /* 」 */
    case 0x300F: /* 』 */
    case 0xFF09: /* ） */
    case 0x300B: /* 》 */
    case 0x3009: /* 〉 */
    case 0x3011: /* 】 */
    case 0x3015: /* 〕 */
    case 0xFF3D: /* ］ */
    case 0xFF5D: /* ｝ */
    case ')':
    case ']':
    case '}':
    case '"':
    case '\'':
        return 1;
    default:
        return 0;
    }
}

/* Returns 1 if c is a letter (any script) or CJK character: what makes a
 * line more than numbers and punctuation.  Uses the character table's
 * classes; a digit is a word character that normalises to 0-9. */
static int is_letter(uint32_t c)
{
    if (c == JS_UTF8_INVALID)
        return 0;
    uint32_t e = js_chartab_get(c, 0);
    switch (js_chartab_class(e)) {
    case JS_CC_CJK:
    case JS_CC_EXPAND:
        return 1;
    case JS_CC_WORD: {
        uint32_t d = js_chartab_apply(c, e);
        return !(d >= '0' && d <= '9');
    }
    default:
        return 0;
    }
}

/* Returns the level an underline made of c gives, or 0 if c does not
 * make underlines. */
static int rule_char_level(uint32_t c)
{
    switch (c) {
    case '=':
    case 0xFF1D: /* ＝ */
    case 0x2501: /* ━ */
        return 1;
    case '-':
    case 0xFF0D: /* － */
    case 0x2500: /* ─ */
    case '~':
    case 0xFF5E: /* ～ */
    case '*':
    case 0xFF0A: /* ＊ */
    case '_':
    case 0x2014: /* — */
    case 0x2015: /* ― */
        return 2;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------
 * Numbering
 * ---------------------------------------------------------------- */

/* Returns the value of a Chinese numeral character: 0..9 for digits,
 * 10/100/1000 for the units, -1 for anything else. */
static int cjk_numeral(uint32_t c)
{
    switch (c) {
    case 0x3007: /* 〇 */
    case 0x96F6: /* 零 */
        return 0;
    case 0x4E00: /* 一 */
    case 0x58F9: /* 壹 */
        return 1;
    case 0x4E8C: /* 二 */
    case 0x8CB3: /* 貳 */
    case 0x8D30: /* 贰 */
    case 0x5169: /* 兩 */
    case 0x4E24: /* 两 */
        return 2;
    case 0x4E09: /* 三 */
    case 0x53C3: /* 參 */
    case 0x53C1: /* 叁 */
    case 0x53C4: /* 叄 */
        return 3;
    case 0x56DB: /* 四 */
    case 0x8086: /* 肆 */
        return 4;
    case 0x4E94: /* 五 */
    case 0x4F0D: /* 伍 */
        return 5;
    case 0x516D: /* 六 */
    case 0x9678: /* 陸 */
    case 0x9646: /* 陆 */
        return 6;
    case 0x4E03: /* 七 */
    case 0x67D2: /* 柒 */
        return 7;
    case 0x516B: /* 八 */
    case 0x634C: /* 捌 */
        return 8;
    case 0x4E5D: /* 九 */
    case 0x7396: /* 玖 */
        return 9;
    case 0x5341: /* 十 */
    case 0x62FE: /* 拾 */
        return 10;
    case 0x767E: /* 百 */
    case 0x4F70: /* 佰 */
        return 100;
    case 0x5343: /* 千 */
    case 0x4EDF: /* 仟 */
        return 1000;
    default:
        return -1;
    }
}

/* Reads a Chinese numeral at s[*i..n): "十二" is 12, "一百零五" 105, and a
 * run without units is read digit by digit ("二〇二三" is 2023).  Advances
 * *i past it and returns 1 with the value in *v, or returns 0 (and leaves
 * *i) when there is none. */
static int read_cjk_number(const char *s, size_t n, size_t *i, uint64_t *v)
{
    uint64_t total = 0, digit = 0, positional = 0;
    int any = 0, units = 0;
    size_t p = *i;
    while (p < n) {
        uint32_t c;
        size_t l = char_at(s, n, p, &c);
        int d = cjk_numeral(c);
        if (d < 0 || any >= 12) /* 12 characters: far past any heading */
            break;
        if (d >= 10) {
            total += (digit ? digit : 1) * (uint64_t)d;
            digit = 0;
            units = 1;
        } else {
            digit = (uint64_t)d;
            positional = positional * 10 + (uint64_t)d;
        }
        any++;
        p += l;
    }
    if (!any)
        return 0;
    *v = units ? total + digit : positional;
    *i = p;
    return 1;
}

/* Reads 1..max ASCII or full-width digits at s[*i..n); same convention as
 * read_cjk_number.  More than max digits is no number at all ("2023年"
 * does not start with a heading number). */
static int read_arabic(const char *s, size_t n, size_t *i, uint64_t *v,
                       int max)
{
    uint64_t val = 0;
    int k = 0;
    size_t p = *i;
    while (p < n) {
        uint32_t c;
        size_t l = char_at(s, n, p, &c);
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 0xFF10 && c <= 0xFF19) /* ０-９ */
            d = c - 0xFF10;
        else
            break;
        if (++k > max)
            return 0;
        val = val * 10 + d;
        p += l;
    }
    if (!k)
        return 0;
    *v = val;
    *i = p;
    return 1;
}

/* Returns the character at s[*i] (JS_UTF8_INVALID for a bad byte, 0 at
 * the end) and advances *i past it. */
static uint32_t next_char(const char *s, size_t n, size_t *i)
{
    uint32_t c;
    if (*i >= n)
        return 0;
    *i += char_at(s, n, *i, &c);
    return c;
}

/* Returns 1 if s[i..n) holds something other than white space. */
static int has_rest(const char *s, size_t n, size_t i)
{
    size_t len = n - i;
    trim(s + i, &len);
    return len > 0;
}

/* Returns the level (1..9) of the heading number that starts the trimmed
 * line s[0..n), storing the number in *value, or 0 if the line does not
 * start with one.  See the opening comment for the forms. */
static int numbering(const char *s, size_t n, uint64_t *value)
{
    size_t i = 0, j;
    uint32_t c = next_char(s, n, &i);

    /* 第X章 and its kind; the rest of the line may be empty. */
    if (c == 0x7B2C) { /* 第 */
        if (!read_cjk_number(s, n, &i, value) &&
            !read_arabic(s, n, &i, value, 4))
            return 0;
        switch (next_char(s, n, &i)) {
        case 0x7DE8: /* 編 */
        case 0x7F16: /* 编 */
        case 0x7BC7: /* 篇 */
        case 0x90E8: /* 部 */
        case 0x5377: /* 卷 */
        case 0x96C6: /* 集 */
            return 1;
        case 0x7AE0: /* 章 */
        case 0x56DE: /* 回 */
            return 2;
        case 0x7BC0: /* 節 */
        case 0x8282: /* 节 */
            return 3;
        default:
            return 0;
        }
    }

    /* （一） (一) （1） (1) */
    if (c == 0xFF08 || c == '(') {
        int level;
        if (read_cjk_number(s, n, &i, value))
            level = 5;
        else if (read_arabic(s, n, &i, value, 3))
            level = 7;
        else
            return 0;
        c = next_char(s, n, &i);
        if ((c != 0xFF09 && c != ')') || !has_rest(s, n, i))
            return 0;
        return level;
    }

    /* 一、 */
    i = 0;
    if (read_cjk_number(s, n, &i, value)) {
        if (next_char(s, n, &i) != 0x3001 || !has_rest(s, n, i))
            return 0;
        return 4;
    }

    /* 1. 1、 1 and 1.2, 1.2.3 ... */
    int parts = 0;
    i = 0;
    for (;;) {
        if (!read_arabic(s, n, &i, value, 3))
            return 0;
        parts++;
        j = i;
        c = next_char(s, n, &j);
        if (c != '.' && c != 0xFF0E)
            break;
        size_t k = j;
        uint32_t d = next_char(s, n, &k);
        if (!((d >= '0' && d <= '9') || (d >= 0xFF10 && d <= 0xFF19)))
            break;
        i = j; /* a dot between two numbers: another part */
    }
    j = i;
    c = next_char(s, n, &j);
    if (parts == 1) {
        if (c == '.' || c == 0xFF0E || c == 0x3001) /* . ． 、 */
            return has_rest(s, n, j) ? 6 : 0;
        /* "1 範圍" (GB standards) — but not "2023 年度": at most 2 digits. */
        size_t two = 0;
        uint64_t v;
        if (is_space(c) && read_arabic(s, n, &two, &v, 2) && two == i &&
            has_rest(s, n, j))
            return 6;
        return 0;
    }
    if (c == '.' || c == 0xFF0E) { /* "1.2. 範圍" */
        i = j;
        c = next_char(s, n, &j);
    }
    if (!(is_space(c) || (c >= 0x80 && c != JS_UTF8_INVALID)) ||
        !has_rest(s, n, i))
        return 0;
    return parts + 5 > 9 ? 9 : parts + 5;
}

/* ------------------------------------------------------------------
 * Classifying one line
 * ---------------------------------------------------------------- */

/* Fills *li for the line s[0..n); li->text points into s.  Nothing is
 * allocated. */
static void classify(const char *s, size_t n, line_info *li)
{
    memset(li, 0, sizeof *li);
    li->text = trim(s, &n);
    li->len = n;
    s = li->text;
    if (n == 0) {
        li->kind = LN_BLANK;
        return;
    }

    /* One character repeated at least 3 times: a rule. */
    uint32_t first, c;
    size_t i = char_at(s, n, 0, &first), count = 1;
    int rl = rule_char_level(first);
    while (rl && i < n) {
        i += char_at(s, n, i, &c);
        if (c != first)
            rl = 0;
        count++;
    }
    if (rl && count >= 3) {
        li->kind = LN_RULE;
        li->rule_level = rl;
        return;
    }

    li->kind = LN_BODY;
    size_t chars = 0;
    int letter = 0;
    for (i = 0; i < n && chars <= TITLE_MAX_CHARS; chars++) {
        i += char_at(s, n, i, &c);
        letter |= is_letter(c);
    }
    if (chars > TITLE_MAX_CHARS || !letter)
        return;
    /* How it ends, looking through closing quotes and brackets. */
    size_t end = n;
    do
        end = char_before(s, end, &c);
    while (end > 0 && is_closer(c));
    if (is_final_punct(c))
        return;
    li->title_ok = 1;
    /* Also for a title-length line: a numbered one is no title. */
    li->num_level = numbering(s, n, &li->num_value);
    if (chars <= HEADING_MAX_CHARS)
        li->kind = LN_SHORT;
}

/* ------------------------------------------------------------------
 * The parser
 * ---------------------------------------------------------------- */

/* What a held-back line may turn out to be. */
enum hold_kind {
    HOLD_NONE,
    HOLD_TITLE,    /* the first line: the title whatever follows */
    HOLD_NUMBERED, /* a heading unless it is a list item */
    HOLD_PLAIN,    /* a heading if body text follows */
    HOLD_WEAK      /* follows body directly: a heading only if underlined */
};

typedef struct text_parser {
    js_source *src;
    js_sink *k;
    /* The held-back line. */
    enum hold_kind hold;
    char hold_text[HOLD_BYTES];
    size_t hold_len;
    uint64_t hold_offset;
    int hold_level;         /* its numbering level (HOLD_NUMBERED) */
    uint64_t hold_value;
    int hold_list;          /* it continues a list: an item already */
    unsigned hold_blanks;   /* blank lines read after it */
    /* Context. */
    int open;        /* the next line follows a blank line or a heading */
    int seen_text;   /* a non-blank line was read: no title any more */
    int list_level;  /* the last list item's level and number, */
    uint64_t list_value; /* list_level 0 when the last line was none */
    int sent;        /* some body text or a heading went to the sink */
    /* The title, kept for a document that has nothing else. */
    char title[HOLD_BYTES];
    size_t title_len;
} text_parser;

/* Sends a body line (or piece) and, unless it continues on the next
 * piece, a break.  Returns 0 or the sink's non-zero value. */
static int body(text_parser *p, const char *s, size_t n, int brk)
{
    int rc = 0;
    if (n && (rc = js_sink_text(p->k, s, n)) != 0)
        return rc;
    p->sent |= n > 0;
    return brk ? js_sink_break(p->k) : 0;
}

/* Decides what the held-back line is, now that `next` (NULL at the end of
 * the text) is the next non-blank line or its underline, and tells the
 * sink.  `underline` is the level an underline directly below gives, or
 * 0.  Returns 0 or the sink's non-zero value. */
static int resolve(text_parser *p, const line_info *next, int underline)
{
    enum hold_kind h = p->hold;
    int level = 0, rc;
    p->hold = HOLD_NONE;
    p->list_level = 0;
    switch (h) {
    case HOLD_NONE:
        return 0;
    case HOLD_TITLE:
        p->open = 1;
        memcpy(p->title, p->hold_text, p->hold_len);
        p->title_len = p->hold_len;
        return js_sink_title(p->k, p->hold_text, p->hold_len);
    case HOLD_NUMBERED:
        level = p->hold_level;
        if (!underline &&
            (p->hold_list || (next && next->kind == LN_SHORT &&
                              next->num_level &&
                              next->num_level <= p->hold_level))) {
            p->list_level = p->hold_level;
            p->list_value = p->hold_value;
            level = 0;
        }
        break;
    case HOLD_PLAIN:
        if (underline)
            level = underline;
        else if (next && next->kind == LN_BODY)
            level = LEVEL_PLAIN;
        break;
    case HOLD_WEAK:
        level = underline;
        break;
    }
    if (level) {
        p->open = 1;
        p->sent = 1;
        return js_sink_heading(p->k, level, p->hold_text, p->hold_len,
                               p->hold_offset);
    }
    if ((rc = body(p, p->hold_text, p->hold_len, 1)) != 0)
        return rc;
    p->open = p->hold_blanks > 0;
    return 0;
}

/* Takes a heading-like (or title-like) line that nothing is held before:
 * holds it back, or sends it as body at once when it cannot be a title
 * or heading.  Returns 0 or the sink's non-zero value. */
static int take_short(text_parser *p, const line_info *li)
{
    enum hold_kind h;
    if (!p->seen_text && li->title_ok && !li->num_level)
        h = HOLD_TITLE;
    else if (li->kind != LN_SHORT)
        h = HOLD_NONE; /* title-length, but the title is decided */
    else if (li->num_level)
        h = HOLD_NUMBERED;
    else
        h = p->open ? HOLD_PLAIN : HOLD_WEAK;
    p->seen_text = 1;
    if (li->len > sizeof p->hold_text) /* cannot be: see TITLE_MAX_CHARS */
        h = HOLD_NONE;
    if (h == HOLD_NONE) {
        p->list_level = 0;
        p->open = 0;
        return body(p, li->text, li->len, 1);
    }
    memcpy(p->hold_text, li->text, li->len);
    p->hold_len = li->len;
    p->hold_offset = js_source_offset(p->src);
    p->hold_level = li->num_level;
    p->hold_value = li->num_value;
    p->hold_list = li->num_level && li->num_level == p->list_level &&
                   li->num_value == p->list_value + 1;
    p->hold_blanks = 0;
    p->hold = h;
    return 0;
}

/* Reads the document from src into k.  Returns 0, the source's negative
 * JS_E* code, or a sink call's non-zero value, at once. */
static int parse(js_source *src, js_sink *k)
{
    text_parser p;
    memset(&p, 0, sizeof p);
    p.src = src;
    p.k = k;
    p.open = 1;
    int cut = 0; /* the previous line was cut: this one continues it */
    int rc;
    const char *s;
    size_t n;
    while ((rc = js_source_line(src, &s, &n)) == 1) {
        int cont = cut;
        /* A line cut for length ends without a terminator, and its pieces
         * are at least JS_LINE_MAX_BYTES - 3 bytes (cut on a character
         * boundary). */
        cut = n + 3 >= JS_LINE_MAX_BYTES &&
              js_source_end_offset(src) - js_source_offset(src) == n;
        if (cont || cut) {
            if ((rc = resolve(&p, &(line_info){.kind = LN_BODY}, 0)) != 0)
                return rc;
            /* Trim only the outer ends of the whole line. */
            size_t m = n;
            const char *t = trim(s, &m);
            size_t a = cont ? 0 : (size_t)(t - s);
            size_t b = cut ? n : m ? (size_t)(t - s) + m : a;
            p.seen_text = 1;
            p.list_level = 0;
            p.open = 0;
            if ((rc = body(&p, s + a, b > a ? b - a : 0, !cut)) != 0)
                return rc;
            continue;
        }

        line_info li;
        classify(s, n, &li);

        if (li.kind == LN_BLANK) {
            if (p.hold == HOLD_NONE) {
                p.open = 1;
                continue;
            }
            p.hold_blanks++;
            /* No underline can follow now: what needs no look further
             * ahead is decided at once. */
            if ((p.hold == HOLD_TITLE || p.hold == HOLD_WEAK) &&
                (rc = resolve(&p, NULL, 0)) != 0)
                return rc;
            continue;
        }

        if (li.kind == LN_RULE && p.hold != HOLD_NONE &&
            p.hold_blanks == 0) {
            if ((rc = resolve(&p, &li, li.rule_level)) != 0)
                return rc;
            continue;
        }

        if (p.hold != HOLD_NONE && (rc = resolve(&p, &li, 0)) != 0)
            return rc;

        switch (li.kind) {
        case LN_RULE: /* a separator: no text, but like a blank line (and
                         an overline above a title leaves it the title) */
            p.list_level = 0;
            p.open = 1;
            if ((rc = js_sink_break(k)) != 0)
                return rc;
            break;
        case LN_BODY:
            if (li.title_ok && !p.seen_text) {
                if ((rc = take_short(&p, &li)) != 0)
                    return rc;
                break;
            }
            p.seen_text = 1;
            p.list_level = 0;
            p.open = 0;
            if ((rc = body(&p, li.text, li.len, 1)) != 0)
                return rc;
            break;
        default:
            if ((rc = take_short(&p, &li)) != 0)
                return rc;
            break;
        }
    }
    if (rc < 0) {
        /* Keep what was read: the held line ends the text early. */
        int r2 = resolve(&p, NULL, 0);
        return r2 ? r2 : rc;
    }
    if ((rc = resolve(&p, NULL, 0)) != 0)
        return rc;
    /* A document that is only its title would give no section at all (the
     * text before the first heading is a section only when it has a body)
     * and its one line could never be found: make it the body too. */
    if (!p.sent && p.title_len)
        return body(&p, p.title, p.title_len, 1);
    return 0;
}

/* Any text can be read as plain text, so every head scores a little: the
 * fallback when no other format is surer.  A NUL byte suggests a binary
 * file, which scores lower still but is not refused. */
static int sniff(const char *head, size_t len)
{
    return len && memchr(head, 0, len) ? 1 : 10;
}

static const char *const extensions[] = {"txt", "text", NULL};

const js_format js_format_text = {"text", extensions, sniff, parse};
