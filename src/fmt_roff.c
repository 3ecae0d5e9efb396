/*
 * fmt_roff.c — the roff interpreter under the man page format: escapes,
 * strings, number registers, conditionals, user macros, the roff
 * requests and the output of text.
 *
 * In:  logical input lines (js_roff_feed), from fmt_man.c's reader or
 *      from a macro body, and roff text to expand (js_roff_expand).  A
 *      control line goes to js_man_request, which finds the roff
 *      requests of this file through js_roff_request.
 * Out: text with its escapes interpreted, as UTF-8; through
 *      js_roff_text, js_roff_break and js_roff_heading, sink calls for
 *      body text, breaks and headings; warnings for damage.
 *
 * Escapes are interpreted: font, size and motion escapes disappear,
 * special characters become UTF-8, \*x expands strings.  Strings (.ds),
 * number registers (.nr), conditionals (.if/.ie/.el, seen as nroff
 * would: "n" true, "t" false, groff's \n(.g is 1) and user macros (.de,
 * with \$1...) are interpreted, because the preambles of pod2man and of
 * the Tcl/Tk pages — a good part of manpages-zh — define macros that the
 * body text goes through; .ig and .de bodies are not text.  Every loop
 * is bounded: macro nesting, string nesting, the lines one input line
 * may expand to and the length of an expanded line all have limits
 * (fmt_roff.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt_man.h"
#include "fmt_roff.h"
#include "utf8.h"

#define NONE ((size_t)-1)


/* Returns the length of the UTF-8 character at s[i] (1 for an invalid
 * byte), never reaching past n. */
static size_t u8len(const char *s, size_t i, size_t n)
{
    uint32_t cp;
    return js_utf8_decode((const unsigned char *)s + i, n - i, &cp);
}

/* Appends code point cp in UTF-8; NUL, surrogates and values past
 * U+10FFFF are dropped. */
static void put_cp(rbuf *b, uint32_t cp)
{
    char u[4];
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0)
        return;
    rb_add(b, u, js_utf8_encode(cp, u));
}

/* Returns 1 if cp is written without spaces between words: Han, kana,
 * Hangul, CJK punctuation and full-width forms. */
static int is_cjk(uint32_t cp)
{
    return (cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7AF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
           (cp >= 0xFF00 && cp <= 0xFFEF) || (cp >= 0x20000 && cp <= 0x3FFFF);
}

/* Returns 1 if s[0..n) starts with a CJK character (see is_cjk). */
static int first_is_cjk(const char *s, size_t n)
{
    uint32_t cp;
    if (n == 0)
        return 0;
    js_utf8_decode((const unsigned char *)s, n, &cp);
    return cp != JS_UTF8_INVALID && is_cjk(cp);
}

/* Returns 1 if s[0..n) ends with a CJK character. */
static int last_is_cjk(const char *s, size_t n)
{
    size_t i = n;
    uint32_t cp;
    while (i > 0 && n - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return 0;
    i--;
    js_utf8_decode((const unsigned char *)s + i, n - i, &cp);
    return cp != JS_UTF8_INVALID && is_cjk(cp);
}

/* Reports a problem at the current input line (when there is a sink). */
void js_roff_warn(man *m, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    if (!m->k)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    js_sink_warn(m->k, m->lineno, m->offset, "%s", msg);
}

/* Charges n bytes of expansion to the page; returns 0 while the page's
 * budget lasts, else warns once and returns 1: expand nothing more. */
static int page_spend(man *m, size_t n)
{
    m->page_budget -= (long long)n;
    if (m->page_budget >= 0)
        return 0;
    if (!m->warned_page)
        js_roff_warn(m, "macros and strings expand to more than %lld MiB on "
                     "this page; the rest is not expanded",
                     MAN_PAGE_EXPANSION >> 20);
    m->warned_page = 1;
    return 1;
}

/* Checks a scratch buffer after use: running out of memory stops the
 * parse; an over-long expansion is reported once.  Frees the buffer. */
void js_roff_done(man *m, rbuf *b)
{
    if (b->b.oom && !m->rc)
        m->rc = JS_ENOMEM;
    if (b->full && !m->warned_full) {
        m->warned_full = 1;
        js_roff_warn(m, "expanded line longer than %zu bytes; the rest was "
                     "dropped",
                     (size_t)MAN_BUF_MAX);
    }
    js_buf_free(&b->b);
    b->full = 0;
}

/* ---- definitions: strings and macros share one name space, as in roff */

/* Returns the string or macro called name[0..len), or NULL. */
mdef *js_roff_def_find(man *m, const char *name, size_t len)
{
    for (size_t i = 0; i < m->ndefs; i++)
        if (m->defs[i].len == len && !memcmp(m->defs[i].name, name, len))
            return &m->defs[i];
    return NULL;
}

/* Drops one reference to b; frees it (and its lines) with the last. */
static void body_release(mbody *b)
{
    if (b && --b->refs == 0) {
        for (size_t i = 0; i < b->n; i++)
            free(b->line[i]);
        free(b->line);
        free(b);
    }
}

/* Empties d's value, keeping its name. */
static void def_clear(mdef *d)
{
    free(d->val);
    d->val = NULL;
    body_release(d->body);
    d->body = NULL;
}

/* Returns the definition called name, created empty if missing; NULL when
 * memory ran out (m->rc set) or the table is full (reported once). */
static mdef *def_get(man *m, const char *name, size_t len)
{
    mdef *d = js_roff_def_find(m, name, len);
    if (d)
        return d;
    if (m->ndefs >= MAN_MAX_DEFS) {
        if (!m->warned_defs)
            js_roff_warn(m, "more than %d definitions; the rest are ignored",
                         MAN_MAX_DEFS);
        m->warned_defs = 1;
        return NULL;
    }
    if (m->ndefs == m->capdefs) {
        size_t cap = m->capdefs ? m->capdefs * 2 : 32;
        mdef *p = realloc(m->defs, cap * sizeof *p);
        if (!p) {
            m->rc = JS_ENOMEM;
            return NULL;
        }
        m->defs = p;
        m->capdefs = cap;
    }
    d = &m->defs[m->ndefs];
    memset(d, 0, sizeof *d);
    if (!(d->name = dupn(name, len))) {
        m->rc = JS_ENOMEM;
        return NULL;
    }
    d->len = len;
    m->ndefs++;
    return d;
}

/* Removes the definition called name (.rm); a running macro keeps its
 * body until it ends. */
static void def_remove(man *m, const char *name, size_t len)
{
    mdef *d = js_roff_def_find(m, name, len);
    if (!d)
        return;
    def_clear(d);
    free(d->name);
    *d = m->defs[--m->ndefs];
}

/* Sets string `name` to val[0..n) (append: adds to it). */
static void str_set(man *m, const char *name, size_t len, const char *val,
                    size_t n, int append)
{
    mdef *d = def_get(m, name, len);
    if (!d)
        return;
    size_t old = append && d->val ? strlen(d->val) : 0;
    if (old + n > MAN_MAX_DEF_BYTES)
        return;
    char *p = malloc(old + n + 1);
    if (!p) {
        m->rc = JS_ENOMEM;
        return;
    }
    if (old)
        memcpy(p, d->val, old);
    memcpy(p + old, val, n);
    p[old + n] = 0;
    def_clear(d);
    d->val = p;
}

static const struct {
    const char *name, *val;
} predefined_strings[] = {
    /* groff's man(7) defines these; pages use them without defining */
    {"R", "\xC2\xAE"},      {"Tm", "\xE2\x84\xA2"}, {"lq", "\xE2\x80\x9C"},
    {"rq", "\xE2\x80\x9D"}, {"S", ""},              {".T", "utf8"},
};

/* Returns the value of string `name` (raw roff text), or NULL. */
static const char *str_get(man *m, const char *name, size_t len)
{
    mdef *d = js_roff_def_find(m, name, len);
    if (d)
        return d->val ? d->val : NULL;
    for (size_t i = 0;
         i < sizeof predefined_strings / sizeof *predefined_strings; i++)
        if (strlen(predefined_strings[i].name) == len &&
            !memcmp(predefined_strings[i].name, name, len))
            return predefined_strings[i].val;
    return NULL;
}

/* ---- number registers */

/* Returns the register called name[0..len) that the page set, or NULL. */
static mreg *reg_find(man *m, const char *name, size_t len)
{
    for (size_t i = 0; i < m->nregs; i++)
        if (m->regs[i].len == len && !memcmp(m->regs[i].name, name, len))
            return &m->regs[i];
    return NULL;
}

/* Returns 1 and the value of a register roff itself would provide. */
static int reg_builtin(const man *m, const char *name, size_t len, long *v)
{
    static const struct {
        const char *name;
        long val;
    } r[] = {
        {".g", 1},   /* groff */
        {".x", 1},   {".y", 23}, {".l", 78 * 24}, {".H", 24}, {".V", 40},
        {".v", 40},  {".i", 0},  {".f", 1},       {".s", 10}, {".A", 1},
    };
    if (len == 2 && !memcmp(name, ".$", 2)) {
        const frame *f = m->depth ? m->fr[m->depth - 1] : NULL;
        *v = f ? (long)(f->a->n - f->first) : 0;
        return 1;
    }
    for (size_t i = 0; i < sizeof r / sizeof *r; i++)
        if (strlen(r[i].name) == len && !memcmp(r[i].name, name, len)) {
            *v = r[i].val;
            return 1;
        }
    return 0;
}

/* Returns the value of a register: set by the page, built in, or 0. */
static long reg_get(man *m, const char *name, size_t len)
{
    long v = 0;
    mreg *r = reg_find(m, name, len);
    if (r)
        return r->val;
    reg_builtin(m, name, len, &v);
    return v;
}

/* Sets a register, creating it (up to MAN_MAX_DEFS of them). */
static void reg_set(man *m, const char *name, size_t len, long v)
{
    mreg *r = reg_find(m, name, len);
    if (!r) {
        if (m->nregs >= MAN_MAX_DEFS)
            return;
        if (m->nregs == m->capregs) {
            size_t cap = m->capregs ? m->capregs * 2 : 32;
            mreg *p = realloc(m->regs, cap * sizeof *p);
            if (!p) {
                m->rc = JS_ENOMEM;
                return;
            }
            m->regs = p;
            m->capregs = cap;
        }
        r = &m->regs[m->nregs];
        if (!(r->name = dupn(name, len))) {
            m->rc = JS_ENOMEM;
            return;
        }
        r->len = len;
        m->nregs++;
    }
    r->val = v;
}

/* ------------------------------------------------------------------
 * Special characters
 * ---------------------------------------------------------------- */

static const struct {
    const char *name, *utf8;
} special_chars[] = {
    {"em", "\xE2\x80\x94"}, {"en", "\xE2\x80\x93"}, {"hy", "-"},
    {"bu", "\xE2\x80\xA2"}, {"co", "\xC2\xA9"},     {"rg", "\xC2\xAE"},
    {"tm", "\xE2\x84\xA2"}, {"aq", "'"},            {"dq", "\""},
    {"lq", "\xE2\x80\x9C"}, {"rq", "\xE2\x80\x9D"}, {"oq", "\xE2\x80\x98"},
    {"cq", "\xE2\x80\x99"}, {"Bq", "\xE2\x80\x9E"}, {"bq", "\xE2\x80\x9A"},
    {"Fo", "\xC2\xAB"},     {"Fc", "\xC2\xBB"},     {"fo", "\xE2\x80\xB9"},
    {"fc", "\xE2\x80\xBA"}, {"ti", "~"},            {"ha", "^"},
    {"rs", "\\"},           {"sl", "/"},            {"mu", "\xC3\x97"},
    {"di", "\xC3\xB7"},     {"de", "\xC2\xB0"},     {"+-", "\xC2\xB1"},
    {"-+", "\xE2\x88\x93"}, {"mi", "-"},            {"pl", "+"},
    {"eq", "="},            {"==", "\xE2\x89\xA1"}, {">=", "\xE2\x89\xA5"},
    {"<=", "\xE2\x89\xA4"}, {"!=", "\xE2\x89\xA0"}, {"~=", "\xE2\x89\x85"},
    {"~~", "\xE2\x89\x88"}, {"ap", "\xE2\x88\xBC"}, {"->", "\xE2\x86\x92"},
    {"<-", "\xE2\x86\x90"}, {"<>", "\xE2\x86\x94"}, {"ua", "\xE2\x86\x91"},
    {"da", "\xE2\x86\x93"}, {"rA", "\xE2\x87\x92"}, {"lA", "\xE2\x87\x90"},
    {"hA", "\xE2\x87\x94"}, {"dg", "\xE2\x80\xA0"}, {"dd", "\xE2\x80\xA1"},
    {"sc", "\xC2\xA7"},     {"ps", "\xC2\xB6"},     {"ct", "\xC2\xA2"},
    {"Po", "\xC2\xA3"},     {"Ye", "\xC2\xA5"},     {"Eu", "\xE2\x82\xAC"},
    {"eu", "\xE2\x82\xAC"}, {"Cs", "\xC2\xA4"},     {"ul", "_"},
    {"ru", "_"},            {"bv", "|"},            {"br", "|"},
    {"ba", "|"},            {"or", "|"},            {"sh", "#"},
    {"at", "@"},            {"Do", "$"},            {"lB", "["},
    {"rB", "]"},            {"lC", "{"},            {"rC", "}"},
    {"la", "\xE2\x9F\xA8"}, {"ra", "\xE2\x9F\xA9"}, {"fm", "\xE2\x80\xB2"},
    {"sd", "\xE2\x80\xB3"}, {"aa", "\xC2\xB4"},     {"ga", "`"},
    {"ad", "\xC2\xA8"},     {"a-", "\xC2\xAF"},     {"ac", "\xC2\xB8"},
    {"a^", "^"},            {"a~", "~"},            {"ho", "\xCB\x9B"},
    {"pd", "\xE2\x88\x82"}, {"gr", "\xE2\x88\x87"}, {"if", "\xE2\x88\x9E"},
    {"is", "\xE2\x88\xAB"}, {"sr", "\xE2\x88\x9A"}, {"mo", "\xE2\x88\x88"},
    {"nm", "\xE2\x88\x89"}, {"sb", "\xE2\x8A\x82"}, {"sp", "\xE2\x8A\x83"},
    {"cu", "\xE2\x88\xAA"}, {"ca", "\xE2\x88\xA9"}, {"no", "\xC2\xAC"},
    {"AN", "\xE2\x88\xA7"}, {"OR", "\xE2\x88\xA8"}, {"fa", "\xE2\x88\x80"},
    {"te", "\xE2\x88\x83"}, {"es", "\xE2\x88\x85"}, {"**", "*"},
    {"12", "\xC2\xBD"},     {"14", "\xC2\xBC"},     {"34", "\xC2\xBE"},
    {"S1", "\xC2\xB9"},     {"S2", "\xC2\xB2"},     {"S3", "\xC2\xB3"},
    {"ff", "ff"},           {"fi", "fi"},           {"fl", "fl"},
    {"Fi", "ffi"},          {"Fl", "ffl"},          {"ss", "\xC3\x9F"},
    {"ae", "\xC3\xA6"},     {"AE", "\xC3\x86"},     {"oe", "\xC5\x93"},
    {"OE", "\xC5\x92"},     {"o/", "\xC3\xB8"},     {"O/", "\xC3\x98"},
    {"/l", "\xC5\x82"},     {"/L", "\xC5\x81"},     {",c", "\xC3\xA7"},
    {",C", "\xC3\x87"},     {"oa", "\xC3\xA5"},     {"oA", "\xC3\x85"},
    {"r!", "\xC2\xA1"},     {"r?", "\xC2\xBF"},     {"OK", "\xE2\x9C\x93"},
    {"sq", "\xE2\x96\xA1"}, {"ci", "\xE2\x97\x8B"}, {"lh", "\xE2\x98\x9C"},
    {"rh", "\xE2\x98\x9E"}, {"shc", ""},            {"'a", "\xC3\xA1"},
    {"'e", "\xC3\xA9"},     {"'i", "\xC3\xAD"},     {"'o", "\xC3\xB3"},
    {"'u", "\xC3\xBA"},     {"'y", "\xC3\xBD"},     {"'A", "\xC3\x81"},
    {"'E", "\xC3\x89"},     {"'I", "\xC3\x8D"},     {"'O", "\xC3\x93"},
    {"'U", "\xC3\x9A"},     {"`a", "\xC3\xA0"},     {"`e", "\xC3\xA8"},
    {"`i", "\xC3\xAC"},     {"`o", "\xC3\xB2"},     {"`u", "\xC3\xB9"},
    {"`A", "\xC3\x80"},     {"`E", "\xC3\x88"},     {"^a", "\xC3\xA2"},
    {"^e", "\xC3\xAA"},     {"^i", "\xC3\xAE"},     {"^o", "\xC3\xB4"},
    {"^u", "\xC3\xBB"},     {":a", "\xC3\xA4"},     {":e", "\xC3\xAB"},
    {":i", "\xC3\xAF"},     {":o", "\xC3\xB6"},     {":u", "\xC3\xBC"},
    {":y", "\xC3\xBF"},     {":A", "\xC3\x84"},     {":O", "\xC3\x96"},
    {":U", "\xC3\x9C"},     {"~a", "\xC3\xA3"},     {"~n", "\xC3\xB1"},
    {"~o", "\xC3\xB5"},     {"~N", "\xC3\x91"},     {"*a", "\xCE\xB1"},
    {"*b", "\xCE\xB2"},     {"*g", "\xCE\xB3"},     {"*d", "\xCE\xB4"},
    {"*e", "\xCE\xB5"},     {"*z", "\xCE\xB6"},     {"*y", "\xCE\xB7"},
    {"*h", "\xCE\xB8"},     {"*i", "\xCE\xB9"},     {"*k", "\xCE\xBA"},
    {"*l", "\xCE\xBB"},     {"*m", "\xCE\xBC"},     {"*n", "\xCE\xBD"},
    {"*c", "\xCE\xBE"},     {"*o", "\xCE\xBF"},     {"*p", "\xCF\x80"},
    {"*r", "\xCF\x81"},     {"ts", "\xCF\x82"},     {"*s", "\xCF\x83"},
    {"*t", "\xCF\x84"},     {"*u", "\xCF\x85"},     {"*f", "\xCF\x86"},
    {"*x", "\xCF\x87"},     {"*q", "\xCF\x88"},     {"*w", "\xCF\x89"},
    {"*A", "\xCE\x91"},     {"*B", "\xCE\x92"},     {"*G", "\xCE\x93"},
    {"*D", "\xCE\x94"},     {"*E", "\xCE\x95"},     {"*Z", "\xCE\x96"},
    {"*Y", "\xCE\x97"},     {"*H", "\xCE\x98"},     {"*I", "\xCE\x99"},
    {"*K", "\xCE\x9A"},     {"*L", "\xCE\x9B"},     {"*M", "\xCE\x9C"},
    {"*N", "\xCE\x9D"},     {"*C", "\xCE\x9E"},     {"*O", "\xCE\x9F"},
    {"*P", "\xCE\xA0"},     {"*R", "\xCE\xA1"},     {"*S", "\xCE\xA3"},
    {"*T", "\xCE\xA4"},     {"*U", "\xCE\xA5"},     {"*F", "\xCE\xA6"},
    {"*X", "\xCE\xA7"},     {"*Q", "\xCE\xA8"},     {"*W", "\xCE\xA9"},
};

/* Returns the value of hex digit c, or -1. */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends special character `name` (the xx of \(xx, \[xx] or \C'xx'):
 * what .tr maps it to, a name from the table, uXXXX[_XXXX...] for
 * Unicode, or charNNN.  Unknown names give nothing: what they draw is
 * not searchable text. */
static void put_special(man *m, const char *name, size_t len, rbuf *out,
                        int depth)
{
    for (size_t i = 0; i < m->ntr; i++)
        if (strlen(m->tr[i].from) == len &&
            !memcmp(m->tr[i].from, name, len)) {
            if (depth < MAN_MAX_NEST)
                js_roff_expand(m, m->tr[i].to, strlen(m->tr[i].to), out,
                               depth + 1);
            return;
        }
    for (size_t i = 0; i < sizeof special_chars / sizeof *special_chars; i++)
        if (strlen(special_chars[i].name) == len &&
            !memcmp(special_chars[i].name, name, len)) {
            rb_puts(out, special_chars[i].utf8);
            return;
        }
    if (len >= 5 && name[0] == 'u') {
        /* u + 4..6 hex digits, components joined by '_' */
        size_t i = 1;
        while (i < len) {
            uint32_t cp = 0;
            size_t d = 0;
            for (; i < len && hexval(name[i]) >= 0 && d < 7; i++, d++)
                cp = cp * 16 + (uint32_t)hexval(name[i]);
            if (d < 4 || d > 6 || (i < len && name[i] != '_'))
                return;
            put_cp(out, cp);
            i++;
        }
        return;
    }
    if (len > 4 && len <= 7 && !memcmp(name, "char", 4)) {
        uint32_t cp = 0;
        for (size_t i = 4; i < len; i++) {
            if (name[i] < '0' || name[i] > '9')
                return;
            cp = cp * 10 + (uint32_t)(name[i] - '0');
        }
        if (cp < 256)
            put_cp(out, cp);
    }
}

/* ------------------------------------------------------------------
 * Escapes
 * ---------------------------------------------------------------- */

/* Reads the name after an escape such as \* or \f at s[i]: one character,
 * "(xx" or "[name]".  Sets *name and *len; returns the index after it, or
 * NONE when the line ends first. */
static size_t esc_name(const char *s, size_t i, size_t n, const char **name,
                       size_t *len)
{
    if (i >= n)
        return NONE;
    if (s[i] == '(') {
        size_t a = i + 1;
        if (a >= n)
            return NONE;
        size_t b = a + u8len(s, a, n);
        if (b >= n)
            return NONE;
        b += u8len(s, b, n);
        *name = s + a;
        *len = b - a;
        return b;
    }
    if (s[i] == '[') {
        const char *e = memchr(s + i + 1, ']', n - i - 1);
        if (!e)
            return NONE;
        *name = s + i + 1;
        *len = (size_t)(e - (s + i + 1));
        return (size_t)(e - s) + 1;
    }
    *name = s + i;
    *len = u8len(s, i, n);
    return i + *len;
}

static size_t esc_one(man *m, const char *s, size_t i, size_t n, rbuf *out,
                      int depth);

/* Reads the delimited argument of an escape such as \h'...' whose opening
 * delimiter is at s[i].  Escapes inside are read as units, so that a
 * nested \w'x' with the same delimiter does not end it.  Sets [*a, *b) to
 * the inside; returns the index after the closing delimiter, or NONE when
 * the line ends first. */
static size_t esc_delim(man *m, const char *s, size_t i, size_t n,
                        size_t *a, size_t *b, int depth)
{
    if (i >= n || depth >= MAN_MAX_NEST)
        return NONE;
    size_t dl = u8len(s, i, n), j = i + dl;
    *a = j;
    while (j < n) {
        if (s[j] == '\\') {
            j = esc_one(m, s, j, n, NULL, depth + 1);
            if (j == NONE)
                return NONE;
            continue;
        }
        if (n - j >= dl && !memcmp(s + j, s + i, dl)) {
            *b = j;
            return j + dl;
        }
        j += u8len(s, j, n);
    }
    return NONE;
}

/* Reads a \s size argument at s[i] (after the s): [+-]N, [+-](NN,
 * [+-][N], or a delimited one.  Returns the index after it or NONE. */
static size_t esc_size(man *m, const char *s, size_t i, size_t n, int depth)
{
    size_t a, b;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    if (i >= n)
        return NONE;
    if (s[i] == '(')
        return i + 3 <= n ? i + 3 : NONE;
    if (s[i] == '[') {
        const char *e = memchr(s + i, ']', n - i);
        return e ? (size_t)(e - s) + 1 : NONE;
    }
    if (s[i] == '\'' || s[i] == '"')
        return esc_delim(m, s, i, n, &a, &b, depth);
    if (s[i] < '0' || s[i] > '9')
        return i; /* not a size: leave the character as text */
    /* AT&T troff: \s10..\s39 take two digits */
    if (s[i] >= '1' && s[i] <= '3' && i + 1 < n && s[i + 1] >= '0' &&
        s[i + 1] <= '9')
        return i + 2;
    return i + 1;
}

/* Appends s to out unless out is NULL (an escape being skipped). */
static void put(rbuf *out, const char *s)
{
    if (out)
        rb_puts(out, s);
}

/* Reports a broken escape: before, the escape \c, after.  At most
 * MAN_MAX_ESCAPE_WARNINGS times per page, so that a garbled page does not
 * flood the log. */
static void bad_escape(man *m, const char *before, char c, const char *after)
{
    if (m->escape_warnings >= MAN_MAX_ESCAPE_WARNINGS)
        return;
    m->escape_warnings++;
    js_roff_warn(m, "%s\\%c%s%s", before, c, after,
                 m->escape_warnings == MAN_MAX_ESCAPE_WARNINGS
                     ? " (further escape problems on this page not reported)"
                     : "");
}

/* Reports escape \c cut off by the end of the line. */
static void truncated(man *m, char c, int depth)
{
    /* Inside another escape's argument, that escape reports it. */
    if (depth == 0)
        bad_escape(m, "truncated escape ", c, " at end of line");
}

/* Returns the text of a one-character escape that stands for a plain
 * character (\\ \e \- \_ \. \' \` and the spaces \  \~ \0 \t), or
 * NULL for any other escape. */
static const char *literal_escape(char c)
{
    switch (c) {
    case '\\': case 'e': case 'E': return "\\";
    case '-': return "-";
    case '_': return "_";
    case '.': return ".";
    case '\'': return "'";
    case '`': return "`";
    case ' ': case '~': case '0': return " ";
    case 't': return "\t";
    }
    return NULL;
}

/* Interprets the escape whose backslash is at s[i]: appends its text to
 * out (NULL: only skip it) and returns the index after it.  Never reads
 * past n.  A truncated escape is reported and ends the line; inside a
 * delimited argument it returns NONE so that the caller can tell. */
static size_t esc_one(man *m, const char *s, size_t i, size_t n, rbuf *out,
                      int depth)
{
    size_t j = i + 1, r, a, b, nl;
    const char *nm;

    if (j >= n)
        return n; /* a lone backslash at the end: a joined line's remains */
    char c = s[j];
    const char *lit = literal_escape(c);
    if (lit) {
        put(out, lit);
        return j + 1;
    }
    switch (c) {
    case 'c':
        if (out)
            m->cflag = 1;
        return j + 1;
    case '&': case '|': case '^': case ')': case ':': case '%': case '{':
    case '}': case '/': case ',': case 'a': case 'd': case 'u': case 'r':
    case 'p': case 'z': case '!': case '?': case 'j': case 'y':
        /* zero-width marks, motions and breaks that do not matter here */
        return j + 1;
    case '"':
    case '#':
        return n; /* comment (normally already removed) */
    case 'f': case 'F': case 'm': case 'M': case 'k': case 'g': case 'V':
    case 'Y': case 'O': case '$':
        /* fonts, colours, marks, environment, macro arguments outside a
         * macro: nothing to show */
        r = esc_name(s, j + 1, n, &nm, &nl);
        if (r == NONE) {
            truncated(m, c, depth);
            return depth ? NONE : n;
        }
        return r;
    case 'n':
        /* registers are interpolated in expressions, not in text */
        r = j + 1;
        if (r < n && (s[r] == '+' || s[r] == '-'))
            r++;
        r = esc_name(s, r, n, &nm, &nl);
        if (r == NONE) {
            truncated(m, c, depth);
            return depth ? NONE : n;
        }
        return r;
    case '*':
        r = esc_name(s, j + 1, n, &nm, &nl);
        if (r == NONE) {
            truncated(m, c, depth);
            return depth ? NONE : n;
        }
        if (out && depth < MAN_MAX_NEST) {
            /* \*[name arg...]: groff string arguments are not used here */
            const char *sp = memchr(nm, ' ', nl);
            const char *v = str_get(m, nm, sp ? (size_t)(sp - nm) : nl);
            size_t vl = v ? strlen(v) : 0;
            if (v && !page_spend(m, vl))
                js_roff_expand(m, v, vl, out, depth + 1);
        }
        return r;
    case '(':
    case '[':
        r = esc_name(s, j, n, &nm, &nl);
        if (r == NONE) {
            truncated(m, c, depth);
            return depth ? NONE : n;
        }
        if (out)
            put_special(m, nm, nl, out, depth);
        return r;
    case 'C':
    case 'N':
        r = esc_delim(m, s, j + 1, n, &a, &b, depth);
        if (r == NONE) {
            if (depth)
                return NONE;
            bad_escape(m, "unterminated argument of ", c, "");
            if (out)
                rb_add(out, s + j, 1);
            return j + 1;
        }
        if (out && c == 'C')
            put_special(m, s + a, b - a, out, depth);
        else if (out) {
            uint32_t cp = 0;
            for (size_t k = a; k < b && k < a + 7; k++)
                if (s[k] >= '0' && s[k] <= '9')
                    cp = cp * 10 + (uint32_t)(s[k] - '0');
            if (cp >= 32 && cp < 127)
                put_cp(out, cp);
        }
        return r;
    case 's':
        r = esc_size(m, s, j + 1, n, depth);
        if (r == NONE) {
            truncated(m, c, depth);
            return depth ? NONE : n;
        }
        return r;
    case 'w': case 'h': case 'v': case 'l': case 'L': case 'o': case 'Z':
    case 'X': case 'b': case 'D': case 'A': case 'B': case 'H': case 'S':
    case 'x': case 'R':
        /* widths, motions, lines, overstrikes, device controls: their
         * argument is not text */
        r = esc_delim(m, s, j + 1, n, &a, &b, depth);
        if (r == NONE) {
            if (depth)
                return NONE;
            /* Mostly a backslash that was meant literally ("\w+" in a
             * regular expression): keep the text that follows. */
            bad_escape(m, "unterminated argument of ", c, "");
            if (out)
                rb_add(out, s + j, 1);
            return j + 1;
        }
        return r;
    default:
        /* An escape roff does not know prints the character itself (groff
         * does the same, with a warning): "\多" is "多". */
        a = u8len(s, j, n);
        if (out)
            rb_add(out, s + j, a);
        return j + a;
    }
}

/* Appends the text of s[0..n) with its escapes interpreted to out. */
void js_roff_expand(man *m, const char *s, size_t n, rbuf *out, int depth)
{
    size_t i = 0;
    while (i < n && !out->full && !out->b.oom) {
        const char *e = m->esc_off ? NULL : memchr(s + i, '\\', n - i);
        size_t run = e ? (size_t)(e - (s + i)) : n - i;
        rb_add(out, s + i, run);
        i += run;
        if (i < n)
            i = esc_one(m, s, i, n, out, depth);
    }
}

int js_man_unescape(const char *s, size_t len, char **out, size_t *out_len)
{
    man m;
    rbuf b = {0};
    memset(&m, 0, sizeof m);
    m.page_budget = MAN_PAGE_EXPANSION;
    js_roff_expand(&m, s, len, &b, 0);
    if (!b.b.p)
        js_buf_text(&b.b, "", 0); /* "" is a string too */
    if (b.b.oom) {
        js_buf_free(&b.b);
        *out = NULL;
        *out_len = 0;
        return JS_ENOMEM;
    }
    *out = (char *)b.b.p;
    *out_len = b.b.len;
    return 0;
}

/* ------------------------------------------------------------------
 * Numeric expressions and conditions
 * ---------------------------------------------------------------- */

static double num_expr(man *m, const char *s, size_t *i, size_t n,
                       int depth);

/* Reads one operand at s[*i]; returns its value (0 when there is none,
 * leaving *i where it was). */
static double num_term(man *m, const char *s, size_t *i, size_t n, int depth)
{
    size_t p = *i, a, b;
    const char *nm;
    size_t nl;
    double v = 0;
    if (p >= n || depth >= MAN_MAX_NEST)
        return 0;
    if (s[p] == '-' || s[p] == '+' || s[p] == '|') {
        char sign = s[p];
        *i = p + 1;
        v = num_term(m, s, i, n, depth + 1);
        return sign == '-' ? -v : v;
    }
    if (s[p] == '(') {
        *i = p + 1;
        v = num_expr(m, s, i, n, depth + 1);
        if (*i < n && s[*i] == ')')
            (*i)++;
        return v;
    }
    if (s[p] == '\\' && p + 1 < n) {
        char c = s[p + 1];
        if (c == 'n') {
            size_t r = p + 2;
            if (r < n && (s[r] == '+' || s[r] == '-'))
                r++;
            r = esc_name(s, r, n, &nm, &nl);
            if (r == NONE) {
                *i = n;
                return 0;
            }
            *i = r;
            v = (double)reg_get(m, nm, nl); /* a unit may follow */
        } else if (c == 'w') {
            size_t r = esc_delim(m, s, p + 2, n, &a, &b, depth + 1);
            rbuf t = {0};
            if (r == NONE) {
                *i = n;
                return 0;
            }
            js_roff_expand(m, s + a, b - a, &t, depth + 1);
            const char *tp = js_buf_str(&t.b);
            for (size_t k = 0; k < t.b.len; k += u8len(tp, k, t.b.len))
                v += 24; /* one character cell in nroff units */
            js_roff_done(m, &t);
            *i = r;
        } else if (c == '*') {
            size_t r = esc_name(s, p + 2, n, &nm, &nl), k = 0;
            const char *sv;
            if (r == NONE) {
                *i = n;
                return 0;
            }
            *i = r;
            if ((sv = str_get(m, nm, nl)) != NULL)
                return num_expr(m, sv, &k, strlen(sv), depth + 1);
            return 0;
        } else {
            size_t r = esc_one(m, s, p, n, NULL, depth + 1);
            *i = r == NONE ? n : r;
            return 0;
        }
    } else if ((s[p] >= '0' && s[p] <= '9') || s[p] == '.') {
        double scale = 1;
        for (; p < n && s[p] >= '0' && s[p] <= '9'; p++)
            if (v < 1e12)
                v = v * 10 + (s[p] - '0');
        if (p < n && s[p] == '.')
            for (p++; p < n && s[p] >= '0' && s[p] <= '9'; p++)
                v += (s[p] - '0') / (scale *= 10);
        *i = p;
    } else {
        return 0;
    }
    /* a scaling unit; nroff's character cell is 24 basic units */
    if (*i < n && s[*i] && strchr("icpPmMnvuszf", s[*i])) {
        switch (s[*i]) {
        case 'i': v *= 240; break;
        case 'c': v *= 94; break;
        case 'p': v *= 10.0 / 3; break;
        case 'P': v *= 40; break;
        case 'm': case 'n': v *= 24; break;
        case 'M': v *= 0.24; break;
        case 'v': v *= 40; break;
        default: break;
        }
        (*i)++;
    }
    return v;
}

/* Evaluates an expression at s[*i] left to right (roff has no operator
 * precedence) up to the first character that cannot continue it. */
static double num_expr(man *m, const char *s, size_t *i, size_t n, int depth)
{
    double v = num_term(m, s, i, n, depth);
    while (*i < n) {
        size_t p = *i;
        char c = s[p], d = p + 1 < n ? s[p + 1] : 0;
        int op;
        if ((c == '<' || c == '>' || c == '=' || c == '!') && d == '=')
            op = c == '<' ? 'l' : c == '>' ? 'g' : c == '=' ? '=' : 'n', p += 2;
        else if ((c == '<' || c == '>') && d == '?')
            op = c == '<' ? 'm' : 'M', p += 2;
        else if (c && strchr("+-*/%<>=&:", c))
            op = c, p++;
        else
            break;
        *i = p;
        double w = num_term(m, s, i, n, depth);
        switch (op) {
        case '+': v += w; break;
        case '-': v -= w; break;
        case '*': v *= w; break;
        case '/': v = w != 0 ? v / w : 0; break;
        case '%': v = (long)w != 0 && v < 1e15 && v > -1e15
                          ? (double)((long)v % (long)w)
                          : 0;
            break;
        case '<': v = v < w; break;
        case '>': v = v > w; break;
        case 'l': v = v <= w; break;
        case 'g': v = v >= w; break;
        case '=': v = v == w; break;
        case 'n': v = v != w; break;
        case '&': v = v > 0 && w > 0; break;
        case ':': v = v > 0 || w > 0; break;
        case 'm': v = v < w ? v : w; break;
        case 'M': v = v > w ? v : w; break;
        default: break;
        }
        if (v > 1e15 || v < -1e15)
            v = v > 0 ? 1e15 : -1e15;
    }
    return v;
}

/* Returns v as a register value, clamped so that no conversion
 * overflows. */
static long to_long(double v)
{
    if (v > 2e9)
        return 2000000000L;
    if (v < -2e9)
        return -2000000000L;
    return (long)v;
}

/* Finds the end of a string in a comparison 'a'b': the next delimiter
 * s[i..i+dl) at or after i, reading escapes as units.  Returns its index
 * or NONE. */
static size_t find_delim(man *m, const char *s, size_t i, size_t n,
                         const char *d, size_t dl)
{
    while (i < n) {
        if (s[i] == '\\' && !m->esc_off) {
            size_t r = esc_one(m, s, i, n, NULL, 1);
            if (r == NONE)
                return NONE;
            i = r;
            continue;
        }
        if (n - i >= dl && !memcmp(s + i, d, dl))
            return i;
        i += u8len(s, i, n);
    }
    return NONE;
}

/* Evaluates the condition of .if/.ie/.while at the start of s[0..n) as
 * nroff would (n and o true, t, e and v false).  Returns 1 or 0 and sets
 * *body to where the text after the condition starts. */
static int cond_eval(man *m, const char *s, size_t n, size_t *body)
{
    size_t i = 0, nl;
    int neg = 0, r = 0;
    while (i < n && is_space(s[i]))
        i++;
    while (i < n && s[i] == '!')
        neg ^= 1, i++;
    if (i >= n) {
        *body = n;
        return 0;
    }
    char c = s[i];
    if (c == 'n' || c == 'o') {
        r = 1;
        i++;
    } else if (c == 't' || c == 'e' || c == 'v') {
        i++;
    } else if (c == 'd' || c == 'r' || c == 'm' || c == 'c' || c == 'F' ||
               c == 'S') {
        long dummy;
        for (i++; i < n && is_space(s[i]); i++)
            ;
        size_t a = i;
        if (c == 'c' && i < n) {
            if (s[i] == '\\') {
                size_t e = esc_one(m, s, i, n, NULL, 1);
                i = e == NONE ? n : e;
            } else {
                i += u8len(s, i, n);
            }
        } else {
            while (i < n && !is_space(s[i]))
                i++;
        }
        nl = i - a;
        if (c == 'd')
            r = str_get(m, s + a, nl) != NULL ||
                (js_roff_def_find(m, s + a, nl) != NULL);
        else if (c == 'r')
            r = reg_find(m, s + a, nl) != NULL ||
                reg_builtin(m, s + a, nl, &dummy);
        else
            r = c == 'c' || c == 'F';
    } else if ((c >= '0' && c <= '9') || (c && strchr("(+-.|\\", c))) {
        r = num_expr(m, s, &i, n, 0) > 0;
    } else {
        /* 'one'two': the two strings, formatted, are compared */
        size_t dl = u8len(s, i, n), a = i + dl, b, e;
        b = find_delim(m, s, a, n, s + i, dl);
        e = b == NONE ? NONE : find_delim(m, s, b + dl, n, s + i, dl);
        if (e == NONE) {
            *body = n;
            return 0;
        }
        rbuf x = {0}, y = {0};
        js_roff_expand(m, s + a, b - a, &x, 1);
        js_roff_expand(m, s + b + dl, e - b - dl, &y, 1);
        r = x.b.len == y.b.len &&
            (x.b.len == 0 || !memcmp(x.b.p, y.b.p, x.b.len));
        js_roff_done(m, &x);
        js_roff_done(m, &y);
        i = e + dl;
    }
    *body = i;
    return neg ? !r : r;
}

/* Returns the number of \{ minus the number of \} in s[0..n). */
static long brace_delta(const char *s, size_t n)
{
    long d = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '\\') {
            if (s[i + 1] == '{')
                d++;
            else if (s[i + 1] == '}')
                d--;
            i++;
        }
    return d;
}

/* ------------------------------------------------------------------
 * Output
 * ---------------------------------------------------------------- */

void js_roff_break(man *m)
{
    if (m->rc || m->head_level)
        return; /* breaks between .SH and its text line mean nothing */
    m->join = 0;
    if (m->at_break)
        return;
    m->at_break = 1;
    m->last_cjk = 0;
    if (m->k)
        sink_rc(m, js_sink_break(m->k));
}

/* Sets the document's title, "NAME(SECTION)", from arguments 0 and 1 of
 * a (.TH, mdoc's .Dt); nothing if it is empty.  Without a section there
 * are no parentheses; an empty section argument gives "()" only with
 * keep_empty (as .Dt always did). */
void js_roff_title(man *m, const margs *a, int keep_empty)
{
    rbuf t = {0};
    js_roff_expand(m, arg(a, 0), arglen(a, 0), &t, 0);
    if (a->n > 1 && (keep_empty || arglen(a, 1))) {
        rb_add(&t, "(", 1);
        js_roff_expand(m, arg(a, 1), arglen(a, 1), &t, 0);
        rb_add(&t, ")", 1);
    }
    if (m->k && t.b.len && !m->rc)
        sink_rc(m, js_sink_title(m->k, js_buf_str(&t.b), t.b.len));
    js_roff_done(m, &t);
}

/* Starts a section headed t[0..n) (trimmed; nothing if empty) at level,
 * where the heading request starts in the text. */
void js_roff_heading(man *m, int level, const char *t, size_t n,
                     uint64_t offset)
{
    while (n && (is_space(*t) || *t == '\n'))
        t++, n--;
    while (n && is_space(t[n - 1]))
        n--;
    m->tp_pending = 0;
    m->join = 0;
    if (n == 0 || m->rc)
        return;
    /* An argument-less .SH still waiting for its text line is replaced
     * by this heading: its section would start before this one's, and
     * sections must start in document order. */
    if (m->head_level) {
        m->head_level = 0;
        js_buf_clear(&m->head.b);
    }
    if (m->k)
        sink_rc(m, js_sink_heading(m->k, level, t, n, offset));
    m->at_break = 1;
    m->last_cjk = 0;
}

/* Writes one output line's worth of text: joined to what came before with
 * a space (in fill mode), with nothing between two CJK characters or after
 * \c, and followed by a break in no-fill mode.  While a .SH waits for its
 * text, the text goes to the heading instead. */
void js_roff_text(man *m, const char *t, size_t n)
{
    int cont = m->cflag;
    m->cflag = 0;
    if (m->rc)
        return;
    if (!m->nofill || m->head_level)
        while (n && is_space(*t))
            t++, n--;
    while (n && is_space(t[n - 1]))
        n--;
    if (m->head_level) {
        if (n) {
            if (m->head.b.len && !m->join)
                rb_add(&m->head, " ", 1);
            rb_add(&m->head, t, n);
            m->emitted++;
        }
        m->join = cont;
        return;
    }
    if (n == 0) {
        if (cont)
            m->join = 1;
        return;
    }
    if (!m->at_break && !m->join && !(m->last_cjk && first_is_cjk(t, n)))
        sink_rc(m, js_sink_text(m->k, " ", 1));
    if (!m->rc)
        sink_rc(m, js_sink_text(m->k, t, n));
    m->at_break = 0;
    m->last_cjk = last_is_cjk(t, n);
    m->emitted++;
    m->join = cont;
    if (m->centre > 0)
        m->centre--;
    if ((m->nofill || m->centre > 0) && !cont)
        js_roff_break(m);
}

/* Expands s[0..n) and writes it as one line of text. */
void js_roff_put(man *m, const char *s, size_t n)
{
    rbuf t = {0};
    m->cflag = 0;
    js_roff_expand(m, s, n, &t, 0);
    js_roff_text(m, js_buf_str(&t.b), t.b.len);
    js_roff_done(m, &t);
}

/* ------------------------------------------------------------------
 * Lines
 * ---------------------------------------------------------------- */

static void process_line(man *m, const char *s, size_t n);

/* Splits macro arguments: blank-separated, "..." quoted with "" for a
 * quote; escapes are kept (they are interpreted when the text is). */
void js_roff_parse_args(const char *s, size_t n, margs *a)
{
    size_t i = 0;
    a->n = 0;
    js_buf_clear(&a->store.b);
    while (a->n < MAN_MAX_ARGS) {
        while (i < n && is_space(s[i]))
            i++;
        if (i >= n)
            break;
        a->off[a->n] = a->store.b.len;
        if (s[i] == '"') {
            for (i++; i < n; i++) {
                if (s[i] == '"') {
                    if (i + 1 < n && s[i + 1] == '"') {
                        rb_add(&a->store, "\"", 1);
                        i++;
                        continue;
                    }
                    i++;
                    break;
                }
                if (s[i] == '\\' && i + 1 < n)
                    rb_add(&a->store, s + i++, 1);
                rb_add(&a->store, s + i, 1);
            }
        } else {
            for (; i < n && !is_space(s[i]); i++) {
                if (s[i] == '\\' && i + 1 < n)
                    rb_add(&a->store, s + i++, 1);
                rb_add(&a->store, s + i, 1);
            }
        }
        a->len[a->n] = a->store.b.len - a->off[a->n];
        rb_add(&a->store, "\0", 1); /* each argument NUL-terminated */
        a->n++;
    }
}

/* Appends an argument to a (dropped beyond MAN_MAX_ARGS). */
void js_roff_add_arg(margs *a, const char *s, size_t n)
{
    if (a->n == MAN_MAX_ARGS)
        return;
    a->off[a->n] = a->store.b.len;
    a->len[a->n] = n;
    rb_add(&a->store, s, n);
    rb_add(&a->store, "\0", 1);
    a->n++;
}

/* Expands arguments first.. of a, joined by sep (NULL: nothing), into
 * t. */
void js_roff_expand_args(man *m, const margs *a, size_t first,
                         const char *sep, rbuf *t)
{
    for (size_t i = first; i < a->n; i++) {
        if (i > first && sep)
            rb_puts(t, sep);
        js_roff_expand(m, arg(a, i), arglen(a, i), t, 0);
    }
}

/* Expands arguments first.. of a, joined by sep (NULL: nothing), and
 * writes them as one line of text. */
void js_roff_put_args(man *m, const margs *a, size_t first, const char *sep)
{
    rbuf t = {0};
    m->cflag = 0;
    js_roff_expand_args(m, a, first, sep, &t);
    js_roff_text(m, js_buf_str(&t.b), t.b.len);
    js_roff_done(m, &t);
}

/* Applies copy mode, as roff does when it stores a macro or string:
 * "\\" becomes "\" and comments go. */
static void copy_mode(man *m, const char *s, size_t n, rbuf *out)
{
    if (m->esc_off) {
        rb_add(out, s, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            if (s[i + 1] == '"' || s[i + 1] == '#')
                break;
            if (s[i + 1] == '\\') {
                rb_add(out, "\\", 1);
                i++;
                continue;
            }
            rb_add(out, s + i, 2);
            i++;
            continue;
        }
        rb_add(out, s + i, 1);
    }
}

/* Replaces \$N, \$*, \$@ and \$0 in a macro body line with the arguments
 * of the running macro. */
static void subst_args(man *m, const char *s, size_t n, rbuf *out)
{
    const frame *f = m->depth ? m->fr[m->depth - 1] : NULL;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\' || i + 1 >= n || m->esc_off) {
            const char *e = m->esc_off ? NULL : memchr(s + i + 1, '\\',
                                                       n - i - 1);
            size_t run = e ? (size_t)(e - (s + i)) : n - i;
            rb_add(out, s + i, run);
            i += run;
            continue;
        }
        if (s[i + 1] != '$') {
            rb_add(out, s + i, 2); /* keeps "\\" whole */
            i += 2;
            continue;
        }
        size_t j = i + 2;
        if (j >= n)
            break;
        char c = s[j];
        if (c == '*' || c == '@') {
            for (size_t k = f ? f->first : 0; f && k < f->a->n; k++) {
                if (k > f->first)
                    rb_add(out, " ", 1);
                if (c == '@')
                    rb_add(out, "\"", 1);
                rb_add(out, arg(f->a, k), arglen(f->a, k));
                if (c == '@')
                    rb_add(out, "\"", 1);
            }
            i = j + 1;
            continue;
        }
        const char *nm;
        size_t nl, r = esc_name(s, j, n, &nm, &nl);
        if (r == NONE)
            break;
        size_t num = 0;
        for (size_t k = 0; k < nl && nm[k] >= '0' && nm[k] <= '9'; k++)
            num = num < 1000 ? num * 10 + (size_t)(nm[k] - '0') : num;
        if (f && num == 0 && nl == 1 && nm[0] == '0')
            rb_puts(out, f->name);
        else if (f && num > 0 && f->first + num - 1 < f->a->n)
            rb_add(out, arg(f->a, f->first + num - 1),
                   arglen(f->a, f->first + num - 1));
        i = r;
    }
}

/* Runs a user macro with arguments a. */
void js_roff_call_macro(man *m, mdef *d, const margs *a)
{
    if (m->depth >= MAN_MAX_DEPTH) {
        if (!m->warned_depth)
            js_roff_warn(m, "macros nested more than %d deep (.%s); not "
                         "expanded",
                         MAN_MAX_DEPTH, d->name);
        m->warned_depth = 1;
        return;
    }
    mbody *b = d->body;
    frame f = {a, 0, d->name, 0};
    int def0 = m->defining;
    char *name = dupn(d->name, strlen(d->name)); /* d may move */
    if (!name) {
        m->rc = JS_ENOMEM;
        return;
    }
    f.name = name;
    b->refs++;
    m->fr[m->depth++] = &f;
    for (size_t i = 0; i < b->n && !m->rc && !f.ret; i++) {
        if (--m->budget < 0) {
            if (!m->warned_budget)
                js_roff_warn(m, "macro expansion too long (.%s); cut", name);
            m->warned_budget = 1;
            break;
        }
        if (m->page_budget < 0)
            break; /* reported by page_spend */
        rbuf line = {0};
        subst_args(m, b->line[i], strlen(b->line[i]), &line);
        /* + 64: empty lines cost time too */
        if (!page_spend(m, line.b.len + 64))
            js_roff_feed(m, js_buf_str(&line.b), line.b.len);
        js_roff_done(m, &line);
    }
    m->depth--;
    body_release(b);
    free(name);
    /* A block opened inside the macro ends with it, so that a broken
     * macro cannot swallow the rest of the page. */
    if (!def0)
        m->defining = DEF_NONE;
    m->skip = 0;
}

/* ---- blocks, strings, registers, translations, conditions: what the
 * requests below do */

/* Starts collecting a block: a macro body (.de/.am) or ignored lines
 * (.ig, eqn, pic) up to a line ".end" (end "." means ".."). */
void js_roff_start_block(man *m, int kind, const char *what,
                         const char *end, size_t endlen)
{
    m->defining = kind;
    snprintf(m->def_what, sizeof m->def_what, "%s", what);
    m->def_line = m->lineno;
    if (endlen == 0 || endlen >= sizeof m->def_end)
        end = ".", endlen = 1;
    memcpy(m->def_end, end, endlen);
    m->def_end[endlen] = 0;
}

/* .de name [end] / .am: starts collecting the body of macro `name`
 * (append: added to its old body). */
static void req_de(man *m, const margs *a, int append)
{
    if (a->n == 0) {
        js_roff_start_block(m, DEF_IGNORE, "de", NULL, 0);
        return;
    }
    mdef *d = def_get(m, arg(a, 0), arglen(a, 0));
    if (!d) {
        js_roff_start_block(m, DEF_IGNORE, "de", arg(a, 1), arglen(a, 1));
        return;
    }
    if (!append || !d->body) {
        mbody *b = calloc(1, sizeof *b);
        if (!b) {
            m->rc = JS_ENOMEM;
            return;
        }
        b->refs = 1;
        def_clear(d);
        d->body = b;
    }
    m->def = (size_t)(d - m->defs);
    js_roff_start_block(m, DEF_MACRO, "de", arg(a, 1), arglen(a, 1));
}

/* Handles a line while a block is being collected. */
static void block_line(man *m, const char *s, size_t n)
{
    size_t i = 1, el = strlen(m->def_end);
    if (n > 0 && (s[0] == '.' || s[0] == '\'')) {
        while (i < n && is_space(s[i]))
            i++;
        if (n - i >= el && !memcmp(s + i, m->def_end, el) &&
            (i + el == n || is_space(s[i + el]) || s[i + el] == '\\')) {
            m->defining = DEF_NONE;
            return;
        }
    }
    if (m->defining != DEF_MACRO || m->def >= m->ndefs)
        return;
    mbody *b = m->defs[m->def].body;
    if (!b || b->bytes + n > MAN_MAX_DEF_BYTES)
        return;
    rbuf t = {0};
    copy_mode(m, s, n, &t);
    if (!t.b.p)
        js_buf_text(&t.b, "", 0); /* an empty line is a line too */
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        char **p = realloc(b->line, cap * sizeof *p);
        if (!p) {
            m->rc = JS_ENOMEM;
            js_roff_done(m, &t);
            return;
        }
        b->line = p;
        b->cap = cap;
    }
    if (t.b.oom) {
        js_buf_free(&t.b);
        m->rc = JS_ENOMEM;
        return;
    }
    b->line[b->n] = (char *)t.b.p; /* the line takes t's memory */
    b->bytes += t.b.len;
    b->n++;
}

/* .ds name value / .as: the value is the rest of the line, a leading
 * quote removed, stored in copy mode. */
static void req_ds(man *m, const char *s, size_t n, int append)
{
    size_t i = 0, a;
    while (i < n && is_space(s[i]))
        i++;
    a = i;
    while (i < n && !is_space(s[i]))
        i++;
    if (i == a)
        return;
    size_t nl = i - a;
    while (i < n && is_space(s[i]))
        i++;
    if (i < n && s[i] == '"')
        i++;
    rbuf v = {0};
    copy_mode(m, s + i, n - i, &v);
    str_set(m, s + a, nl, js_buf_str(&v.b), v.b.len, append);
    js_roff_done(m, &v);
}

/* .nr name [+-]expr: sets a register, relative with a sign. */
static void req_nr(man *m, const margs *a)
{
    if (a->n < 2)
        return;
    const char *v = arg(a, 1);
    size_t i = 0, vl = arglen(a, 1);
    double x = num_expr(m, v, &i, vl, 0);
    long cur = reg_get(m, arg(a, 0), arglen(a, 0));
    long nv = to_long(x);
    if (v[0] == '+' || v[0] == '-')
        nv = to_long((double)cur + x); /* relative: x carries the sign */
    reg_set(m, arg(a, 0), arglen(a, 0), nv);
}

/* .tr: only special characters are translated; a plain character mapped
 * to something else is a typesetting trick (pod2man's "|" to \(bv) that
 * would spoil the text. */
static void req_tr(man *m, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && is_space(s[i]))
        i++;
    while (i < n) {
        const char *fn = NULL;
        size_t fl = 0;
        if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '(' || s[i + 1] == '[')) {
            size_t r = esc_name(s, i + 1, n, &fn, &fl);
            if (r == NONE)
                return;
            i = r;
        } else if (s[i] == '\\') {
            size_t r = esc_one(m, s, i, n, NULL, 1);
            i = r == NONE ? n : r;
        } else {
            i += u8len(s, i, n);
        }
        if (i >= n || is_space(s[i]))
            return;
        size_t b = i;
        if (s[i] == '\\') {
            size_t r = esc_one(m, s, i, n, NULL, 1);
            i = r == NONE ? n : r;
        } else {
            i += u8len(s, i, n);
        }
        if (fn && m->ntr < sizeof m->tr / sizeof *m->tr) {
            char *f = dupn(fn, fl), *t = dupn(s + b, i - b);
            if (!f || !t) {
                free(f);
                free(t);
                m->rc = JS_ENOMEM;
                return;
            }
            m->tr[m->ntr].from = f;
            m->tr[m->ntr].to = t;
            m->ntr++;
        }
    }
}

/* Runs the body of a condition that held: s[0..n) after the condition. */
static void cond_body(man *m, const char *s, size_t n)
{
    size_t i = 0;
    for (;;) {
        while (i < n && is_space(s[i]))
            i++;
        if (i + 1 < n && s[i] == '\\' && s[i + 1] == '{')
            i += 2;
        else
            break;
    }
    if (i < n)
        process_line(m, s + i, n - i);
}

/* Skips the body of a condition that failed: when it opens a \{ block,
 * the lines up to the matching \} go too. */
static void cond_skip(man *m, const char *s, size_t n)
{
    long d = brace_delta(s, n);
    if (d > 0)
        m->skip = d;
}

/* ------------------------------------------------------------------
 * The roff requests
 * ---------------------------------------------------------------- */

/* .nf, .EX: no-fill mode. */
void js_roff_nf(man *m, const rq_call *c)
{
    if (!c->nobreak)
        js_roff_break(m);
    m->nofill = 1;
}

/* .fi, .EE: fill mode. */
void js_roff_fi(man *m, const rq_call *c)
{
    if (!c->nobreak)
        js_roff_break(m);
    m->nofill = 0;
}

/* .ce [n]: the next n lines (1) are kept apart. */
static void rq_ce(man *m, const rq_call *c)
{
    if (!c->nobreak)
        js_roff_break(m);
    if (c->args->n) {
        size_t p = 0;
        m->centre = to_long(num_expr(m, arg(c->args, 0), &p,
                                     arglen(c->args, 0), 0));
    } else {
        m->centre = 1;
    }
}

/* .br, .sp, .bp, .in, .ti: a break, unless called with '. */
static void rq_br(man *m, const rq_call *c)
{
    if (!c->nobreak)
        js_roff_break(m);
}

static void rq_ds(man *m, const rq_call *c) { req_ds(m, c->rest, c->rn, 0); }
static void rq_as(man *m, const rq_call *c) { req_ds(m, c->rest, c->rn, 1); }
static void rq_de(man *m, const rq_call *c) { req_de(m, c->args, 0); }
static void rq_am(man *m, const rq_call *c) { req_de(m, c->args, 1); }
static void rq_nr(man *m, const rq_call *c) { req_nr(m, c->args); }

/* .ig [end]; .dei/.ami name [end] name their end indirectly, which is
 * not followed: their block ends at "..". */
static void rq_ig(man *m, const rq_call *c)
{
    size_t e = strcmp(c->name, "ig") ? c->args->n : 0;
    js_roff_start_block(m, DEF_IGNORE, c->name, arg(c->args, e),
                        arglen(c->args, e));
}

/* .rm name...: removes strings and macros. */
static void rq_rm(man *m, const rq_call *c)
{
    for (size_t k = 0; k < c->args->n; k++)
        def_remove(m, arg(c->args, k), arglen(c->args, k));
}

/* Gives the definition named by argument `from` the name in the other
 * argument too; `move` removes the old name (.rn rather than .als). */
static void def_rename(man *m, const margs *a, size_t from, int move)
{
    size_t to = 1 - from;
    if (a->n < 2)
        return;
    mdef *src = js_roff_def_find(m, arg(a, from), arglen(a, from));
    if (!src)
        return;
    char *val = src->val ? dupn(src->val, strlen(src->val)) : NULL;
    mbody *body = src->body;
    if (body)
        body->refs++;
    if (src->val && !val) {
        body_release(body);
        m->rc = JS_ENOMEM;
        return;
    }
    if (move)
        def_remove(m, arg(a, from), arglen(a, from));
    mdef *dst = def_get(m, arg(a, to), arglen(a, to));
    if (!dst) {
        free(val);
        body_release(body);
        return;
    }
    def_clear(dst);
    dst->val = val;
    dst->body = body;
}

/* .rn old new */
static void rq_rn(man *m, const rq_call *c) { def_rename(m, c->args, 0, 1); }
/* .als new old */
static void rq_als(man *m, const rq_call *c) { def_rename(m, c->args, 1, 0); }

/* .rr name...: removes registers. */
static void rq_rr(man *m, const rq_call *c)
{
    for (size_t k = 0; k < c->args->n; k++) {
        mreg *r = reg_find(m, arg(c->args, k), arglen(c->args, k));
        if (r) {
            free(r->name);
            *r = m->regs[--m->nregs];
        }
    }
}

/* Runs or skips the body of a condition; .ie keeps the result for its
 * .el. */
static void conditional(man *m, const rq_call *c, int ie)
{
    size_t body;
    int r = cond_eval(m, c->rest, c->rn, &body);
    if (ie) {
        if (m->nie == sizeof m->ie / sizeof *m->ie) {
            memmove(m->ie, m->ie + 1, sizeof m->ie - sizeof *m->ie);
            m->nie--;
        }
        m->ie[m->nie++] = r;
    }
    if (r)
        cond_body(m, c->rest + body, c->rn - body);
    else
        cond_skip(m, c->rest + body, c->rn - body);
}

static void rq_if(man *m, const rq_call *c) { conditional(m, c, 0); }
static void rq_ie(man *m, const rq_call *c) { conditional(m, c, 1); }

/* .el: the body runs if the last .ie's condition failed. */
static void rq_el(man *m, const rq_call *c)
{
    int r = m->nie ? !m->ie[--m->nie] : 0;
    if (r)
        cond_body(m, c->rest, c->rn);
    else
        cond_skip(m, c->rest, c->rn);
}

/* .while: loops are not run: the body is skipped like a false
 * condition. */
static void rq_while(man *m, const rq_call *c)
{
    size_t body;
    cond_eval(m, c->rest, c->rn, &body);
    cond_skip(m, c->rest + body, c->rn - body);
}

/* Returns the index of the first non-blank in s[0..n), or n. */
static size_t skip_blanks(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && is_space(s[k]))
        k++;
    return k;
}

/* .nop line: runs the line. */
static void rq_nop(man *m, const rq_call *c)
{
    size_t k = skip_blanks(c->rest, c->rn);
    if (k < c->rn)
        process_line(m, c->rest + k, c->rn - k);
}

/* ".do name args": the request without compatibility mode. */
static void rq_do(man *m, const rq_call *c)
{
    rbuf t = {0};
    size_t k = skip_blanks(c->rest, c->rn);
    rb_add(&t, ".", 1);
    rb_add(&t, c->rest + k, c->rn - k);
    if (c->rn > k)
        js_man_request(m, js_buf_str(&t.b), t.b.len);
    js_roff_done(m, &t);
}

/* .return: the running macro ends. */
static void rq_return(man *m, const rq_call *c)
{
    (void)c;
    if (m->depth)
        m->fr[m->depth - 1]->ret = 1;
}

/* .shift [n]: drops the running macro's first n arguments (1). */
static void rq_shift(man *m, const rq_call *c)
{
    if (!m->depth)
        return;
    frame *f = m->fr[m->depth - 1];
    size_t k = 0;
    long by = c->args->n ? to_long(num_expr(m, arg(c->args, 0), &k,
                                            arglen(c->args, 0), 0))
                         : 1;
    size_t left = f->a->n - f->first;
    if (by > 0)
        f->first += (size_t)by > left ? left : (size_t)by;
}

static void rq_tr(man *m, const rq_call *c) { req_tr(m, c->rest, c->rn); }

/* .ec, .eo: backslash is the escape character again, or not. */
static void rq_ec(man *m, const rq_call *c)
{
    (void)c;
    m->esc_off = 0;
}

static void rq_eo(man *m, const rq_call *c)
{
    (void)c;
    m->esc_off = 1;
}

/* The roff requests, handled before any user macro. */
static const rq_entry roff_requests[] = {
    {"br", rq_br, 0},         {"sp", rq_br, 0},         {"bp", rq_br, 0},
    {"in", rq_br, 0},         {"ti", rq_br, 0},         {"nf", js_roff_nf, 0},
    {"fi", js_roff_fi, 0},    {"ce", rq_ce, 0},         {"ds", rq_ds, 1},
    {"ds1", rq_ds, 1},        {"as", rq_as, 1},         {"as1", rq_as, 1},
    {"de", rq_de, 0},         {"de1", rq_de, 0},        {"am", rq_am, 0},
    {"am1", rq_am, 0},        {"dei", rq_ig, 0},        {"ami", rq_ig, 0},
    {"ig", rq_ig, 0},         {"rm", rq_rm, 0},         {"rn", rq_rn, 0},
    {"als", rq_als, 0},       {"nr", rq_nr, 0},         {"rr", rq_rr, 0},
    {"if", rq_if, 1},         {"ie", rq_ie, 1},         {"el", rq_el, 1},
    {"while", rq_while, 1},   {"nop", rq_nop, 1},       {"do", rq_do, 1},
    {"return", rq_return, 0}, {"shift", rq_shift, 0},   {"tr", rq_tr, 1},
    {"ec", rq_ec, 0},         {"eo", rq_eo, 0},
};

/* Returns the entry called name in t[0..n), or NULL. */
const rq_entry *js_roff_find(const rq_entry *t, size_t n, const char *name)
{
    for (size_t k = 0; k < n; k++)
        if (!strcmp(t[k].name, name))
            return &t[k];
    return NULL;
}

const rq_entry *js_roff_request(const char *name)
{
    return js_roff_find(roff_requests,
                        sizeof roff_requests / sizeof *roff_requests, name);
}

/* ------------------------------------------------------------------
 * Running lines
 * ---------------------------------------------------------------- */

/* Removes a comment (\" or \#) from the end of s[0..n); returns the new
 * length. */
static size_t strip_comment(const man *m, const char *s, size_t n)
{
    if (m->esc_off)
        return n;
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '\\') {
            if (s[i + 1] == '"' || s[i + 1] == '#')
                return i;
            i++;
        }
    return n;
}

/* Writes a text line; a blank one, or one starting with a blank, breaks
 * first. */
static void text_line(man *m, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && is_space(s[i]))
        i++;
    if (i == n) {
        js_roff_break(m); /* a blank line is a paragraph break */
        return;
    }
    if (i > 0 && !m->nofill)
        js_roff_break(m); /* so is a line that starts with a space */
    js_roff_put(m, s, n);
}

/* Interprets one line: a request or macro, or text. */
static void process_line(man *m, const char *s, size_t n)
{
    /* ".if n .if n .nop .if n ..." nests one call per request: bound it
     * (with the macro calls it includes) so the stack stays small. */
    if (m->nesting >= MAN_MAX_LINE_NESTING) {
        if (!m->warned_nesting)
            js_roff_warn(m, "requests nested more than %d deep; the rest of "
                         "the line is ignored",
                         MAN_MAX_LINE_NESTING);
        m->warned_nesting = 1;
        return;
    }
    m->nesting++;
    n = strip_comment(m, s, n);
    if (n > 0 && (s[0] == '.' || s[0] == '\''))
        js_man_request(m, s, n);
    else
        text_line(m, s, n);
    m->nesting--;
    if (m->head.b.oom && !m->rc)
        m->rc = JS_ENOMEM;
    if (m->head_level && m->head.b.len) {
        int level = m->head_level;
        m->head_level = 0;
        js_roff_heading(m, level, js_buf_str(&m->head.b), m->head.b.len,
                        m->head_offset);
        js_buf_clear(&m->head.b);
    }
    if (m->tp_pending && m->emitted > m->tp_mark) {
        m->tp_pending = 0;
        if (!m->join)
            js_roff_break(m); /* after the tag of .TP */
    }
}

/* Takes one logical input line (continuations joined), from the page or
 * from a macro body: collects it into a block, skips it, or runs it. */
void js_roff_feed(man *m, const char *s, size_t n)
{
    if (m->rc)
        return;
    if (m->defining) {
        block_line(m, s, n);
        return;
    }
    if (m->skip > 0) {
        m->skip += brace_delta(s, n);
        if (m->skip < 0)
            m->skip = 0;
        return;
    }
    if (m->tbl && js_tbl_line(m, s, n))
        return;
    process_line(m, s, n);
}

/* Frees m and everything it holds. */
void js_roff_free(man *m)
{
    for (size_t i = 0; i < m->ndefs; i++) {
        def_clear(&m->defs[i]);
        free(m->defs[i].name);
    }
    free(m->defs);
    for (size_t i = 0; i < m->nregs; i++)
        free(m->regs[i].name);
    free(m->regs);
    for (size_t i = 0; i < m->ntr; i++) {
        free(m->tr[i].from);
        free(m->tr[i].to);
    }
    js_buf_free(&m->head.b);
    js_buf_free(&m->url.b);
    free(m->nm);
    free(m);
}
