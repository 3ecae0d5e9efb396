/*
 * fmt_html.c — HTML -> sections, with libxml2's HTML push parser.
 *
 * In:  the document's decoded UTF-8 text, in chunks from the source.
 * Out: sink calls: <title> as the title, each <h1>..<h6> as a heading of
 *      that level, and the visible text as body: entities decoded (by
 *      libxml2), white space runs collapsed to one space (kept in <pre>),
 *      a break at every block element and <br>, table cells apart by a
 *      tab, an image's alt text in its place.  Nothing of <head> (but
 *      the title), <script>, <style>, <nav>, <template> or <noscript> is
 *      kept.
 *
 * The parser only reports SAX events (no tree is built), so memory does
 * not grow with the document — except that libxml2 holds a run of text
 * until the next '<' or '&' arrives.  Broken HTML is parsed the way
 * libxml2 recovers from it; its errors are counted and reported once per
 * file, with the line of the first.  HTML5 element names unknown to
 * libxml2's HTML 4 tables (<nav>, <section>, ...) are not errors.
 *
 * The text is already UTF-8 when it arrives, so the parser is told so and
 * told to ignore <meta charset> (HTML_PARSE_IGNORE_ENC): otherwise a
 * "big5" there would make libxml2 decode the UTF-8 bytes again.  Bytes
 * that are not UTF-8 (the source passes them through) and NUL bytes are
 * replaced by a space before parsing, byte for byte: libxml2 would
 * otherwise switch to Latin-1 for the rest of the document.
 *
 * Heading offsets: libxml2 reports a start tag once it has read it whole,
 * with its input cursor at the tag's '>'; the offset of the '<' is found
 * by searching back from there.  It is exact unless an attribute value of
 * the heading holds "<hN" or the tag is longer than 4 KiB (then the offset
 * is that of the '>').
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "buf.h"
#include "ingest.h"
#include "utf8.h"

/* What an element does to the text (see elem_kind). */
enum {
    E_INLINE = 0,
    E_BLOCK = 1,   /* a break before and after */
    E_BR = 2,      /* a break */
    E_DROP = 4,    /* its content is dropped */
    E_PRE = 8,     /* white space kept */
    E_CELL = 16,   /* a table cell: a tab before it, after another */
    E_TITLE = 32,
    E_HEADING = 64 /* h1..h6 */
};

static const struct {
    const char *name;
    int kind;
} elements[] = {
    {"address", E_BLOCK},    {"article", E_BLOCK},
    {"aside", E_BLOCK},      {"blockquote", E_BLOCK},
    {"body", E_BLOCK},       {"br", E_BR},
    {"caption", E_BLOCK},    {"center", E_BLOCK},
    {"dd", E_BLOCK},         {"details", E_BLOCK},
    {"dialog", E_BLOCK},     {"div", E_BLOCK},
    {"dl", E_BLOCK},         {"dt", E_BLOCK},
    {"fieldset", E_BLOCK},   {"figcaption", E_BLOCK},
    {"figure", E_BLOCK},     {"footer", E_BLOCK},
    {"form", E_BLOCK},       {"head", E_DROP},
    {"header", E_BLOCK},     {"hr", E_BLOCK},
    {"legend", E_BLOCK},     {"li", E_BLOCK},
    {"listing", E_BLOCK | E_PRE},
    {"main", E_BLOCK},       {"menu", E_BLOCK},
    {"nav", E_DROP},         {"noscript", E_DROP},
    {"ol", E_BLOCK},         {"p", E_BLOCK},
    {"plaintext", E_BLOCK | E_PRE},
    {"pre", E_BLOCK | E_PRE},
    {"script", E_DROP},      {"section", E_BLOCK},
    {"style", E_DROP},       {"summary", E_BLOCK},
    {"table", E_BLOCK},      {"tbody", E_BLOCK},
    {"td", E_CELL},          {"template", E_DROP},
    {"textarea", E_PRE},     {"tfoot", E_BLOCK},
    {"th", E_CELL},          {"thead", E_BLOCK},
    {"title", E_TITLE},      {"tr", E_BLOCK},
    {"ul", E_BLOCK},         {"xmp", E_BLOCK | E_PRE},
};

/* Returns the E_* flags of element `name` (lower case, as libxml2 gives
 * it) and stores a heading's level in *level. */
static int elem_kind(const char *name, int *level)
{
    if (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2]) {
        *level = name[1] - '0';
        return E_HEADING | E_BLOCK;
    }
    for (size_t i = 0; i < sizeof elements / sizeof *elements; i++)
        if (elements[i].name[0] == name[0] && !strcmp(elements[i].name, name))
            return elements[i].kind;
    return E_INLINE;
}

typedef struct html_state {
    js_source *src;
    js_sink *k;
    htmlParserCtxtPtr ctxt;
    int rc;          /* first non-zero sink return, handed back unchanged */
    uint64_t base;   /* offset of the first byte given to libxml2 */
    int drop;        /* open elements whose content is dropped */
    int pre;         /* open elements that keep white space */
    int title;       /* 0: no <title> yet, 1: inside it, 2: done */
    js_buf tbuf;     /* the title's text */
    int hlevel;      /* inside a heading: its level, else 0 */
    js_buf hbuf;     /* the heading's text */
    uint64_t hoff;
    int line_text;   /* body text was sent since the last break */
    char pending;    /* white space to send before more text: 0, ' ', '\t' */
    unsigned long nerr;
    uint64_t err_line;
    char err_msg[160];
    int oom;
} html_state;

/* Returns 1 for HTML's white space characters. */
static int is_ws(xmlChar c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Keeps the first non-zero code and stops the parser: no more callbacks
 * come after a sink call failed or asked to stop.  Returns rc. */
static int keep(html_state *s, int rc)
{
    if (rc && !s->rc) {
        s->rc = rc;
        xmlStopParser(s->ctxt);
    }
    return rc;
}

/* Appends text to a title or heading buffer with white space collapsed
 * (the sink trims the ends); running out of memory stops the parse. */
static void collect(html_state *s, js_buf *b, const xmlChar *t, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (is_ws(t[i])) {
            while (i < n && is_ws(t[i]))
                i++;
            if (b->len && b->p[b->len - 1] != ' ' && js_buf_text(b, " ", 1))
                keep(s, JS_ENOMEM);
            continue;
        }
        size_t j = i;
        while (j < n && !is_ws(t[j]))
            j++;
        if (js_buf_text(b, (const char *)t + i, j - i))
            keep(s, JS_ENOMEM);
        i = j;
    }
}

/* Ends a line of body text. */
static void body_break(html_state *s)
{
    s->line_text = 0;
    s->pending = 0;
    keep(s, js_sink_break(s->k));
}

/* Sends body text: in <pre> as it is, line by line; elsewhere with white
 * space runs made one space, none at the start of a line. */
static void body_text(html_state *s, const xmlChar *t, size_t n)
{
    size_t i = 0;
    while (i < n && !s->rc) {
        if (s->pre) {
            /* "\r\n" is one break; a lone "\r" too. */
            if (t[i] == '\n' || t[i] == '\r') {
                if (t[i] == '\n' || i + 1 >= n || t[i + 1] != '\n')
                    body_break(s);
                i++;
                continue;
            }
            size_t j = i;
            while (j < n && t[j] != '\n' && t[j] != '\r')
                j++;
            if (!keep(s, js_sink_text(s->k, (const char *)t + i, j - i)))
                s->line_text = 1;
            i = j;
            continue;
        }
        if (is_ws(t[i])) {
            if (s->line_text && !s->pending)
                s->pending = ' ';
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && !is_ws(t[j]))
            j++;
        if (s->pending && keep(s, js_sink_text(s->k, &s->pending, 1)))
            return;
        s->pending = 0;
        if (!keep(s, js_sink_text(s->k, (const char *)t + i, j - i)))
            s->line_text = 1;
        i = j;
    }
}

/* Ends the heading being collected (its text goes to the sink). */
static void end_heading(html_state *s)
{
    int level = s->hlevel;
    s->hlevel = 0;
    keep(s, js_sink_heading(s->k, level, js_buf_str(&s->hbuf), s->hbuf.len,
                            s->hoff));
    s->line_text = 0;
    s->pending = 0;
}

static void on_chars(void *ud, const xmlChar *t, int n);

/* Returns the offset of the '<' of the start tag `name` that libxml2 has
 * just read (see the comment at the top). */
static uint64_t start_tag_offset(html_state *s, const char *name)
{
    xmlParserInputPtr in = s->ctxt->input;
    long consumed = xmlByteConsumed(s->ctxt);
    if (consumed < 0 || !in || !in->cur || !in->base)
        return s->base;
    size_t m = strlen(name);
    size_t back = (size_t)(in->cur - in->base);
    if (back > 4096)
        back = 4096;
    for (size_t b = 0; b <= back; b++) {
        const xmlChar *p = in->cur - b;
        if (*p != '<' || (size_t)(in->end - p) <= m)
            continue;
        size_t i = 0;
        while (i < m && (p[1 + i] | 0x20) == (xmlChar)name[i])
            i++;
        if (i == m)
            return s->base + (uint64_t)consumed - b;
    }
    return s->base + (uint64_t)consumed;
}

/* SAX: a start tag (or one libxml2 implied).  Tracks what is dropped or
 * preformatted, starts headings and the title, breaks lines. */
static void on_start(void *ud, const xmlChar *xname, const xmlChar **attrs)
{
    html_state *s = ud;
    const char *name = (const char *)xname;
    int level = 0;
    if (s->rc)
        return;
    int kind = elem_kind(name, &level);
    if (kind & E_TITLE) {
        if (s->title == 0)
            s->title = 1;
        return;
    }
    if (kind & E_DROP)
        s->drop++;
    if (kind & E_PRE)
        s->pre++;
    if (s->drop)
        return;
    if (!strcmp(name, "img")) {
        /* An image's alternative text stands for it, as in Markdown. */
        for (const xmlChar **a = attrs; a && a[0]; a += 2)
            if (!strcmp((const char *)a[0], "alt") && a[1])
                on_chars(s, a[1], (int)strlen((const char *)a[1]));
        return;
    }
    if (s->hlevel) {
        /* Inside a heading everything is heading text; another heading
         * (libxml2 lets them nest) ends it. */
        if (kind & E_HEADING)
            end_heading(s);
        else if (kind & (E_BLOCK | E_BR | E_CELL))
            collect(s, &s->hbuf, (const xmlChar *)" ", 1);
        if (!(kind & E_HEADING))
            return;
    }
    if (kind & E_HEADING) {
        s->hlevel = level;
        js_buf_clear(&s->hbuf);
        s->hoff = start_tag_offset(s, name);
        return;
    }
    if (kind & (E_BLOCK | E_BR)) {
        body_break(s);
    } else if (kind & E_CELL) {
        if (s->line_text)
            s->pending = '\t';
    }
}

/* SAX: an end tag (libxml2 closes every element it opened, in order).
 * Ends the title and headings, breaks lines after blocks. */
static void on_end(void *ud, const xmlChar *xname)
{
    html_state *s = ud;
    const char *name = (const char *)xname;
    int level = 0;
    if (s->rc)
        return;
    int kind = elem_kind(name, &level);
    if (kind & E_TITLE) {
        if (s->title == 1) {
            s->title = 2;
            keep(s, js_sink_title(s->k, js_buf_str(&s->tbuf), s->tbuf.len));
        }
        return;
    }
    int dropped = s->drop > 0;
    if ((kind & E_DROP) && s->drop > 0)
        s->drop--;
    if ((kind & E_PRE) && s->pre > 0)
        s->pre--;
    if (dropped)
        return;
    if (s->hlevel) {
        if ((kind & E_HEADING) && level == s->hlevel)
            end_heading(s);
        else if (kind & (E_BLOCK | E_CELL))
            collect(s, &s->hbuf, (const xmlChar *)" ", 1);
        return;
    }
    if (kind & E_BLOCK)
        body_break(s);
}

/* SAX: text, entities already decoded: to the title, the heading being
 * collected or the body; dropped inside <script> and the like. */
static void on_chars(void *ud, const xmlChar *t, int n)
{
    html_state *s = ud;
    if (s->rc || n <= 0)
        return;
    if (s->title == 1)
        collect(s, &s->tbuf, t, (size_t)n);
    else if (s->drop)
        return;
    else if (s->hlevel)
        collect(s, &s->hbuf, t, (size_t)n);
    else
        body_text(s, t, (size_t)n);
}

/* Counts libxml2's errors; the first one's line and message are kept for
 * the summary warning. */
static void on_error(void *ud, xmlErrorPtr e)
{
    html_state *s = ud;
    if (!e || e->level < XML_ERR_ERROR || e->code == XML_HTML_UNKNOWN_TAG)
        return; /* warnings, and HTML5 names libxml2 does not know */
    /* "</p>" inside a script's string is fine in HTML5; libxml2 follows
     * HTML 4 there. */
    if (e->code == XML_ERR_TAG_NAME_MISMATCH && e->message &&
        strstr(e->message, "embeds close tag"))
        return;
    if (e->code == XML_ERR_NO_MEMORY)
        s->oom = 1;
    if (s->nerr++ == 0) {
        s->err_line = e->line > 0 ? (uint64_t)e->line : 0;
        const char *m = e->message ? e->message : "unknown error";
        size_t n = strcspn(m, "\n");
        if (n >= sizeof s->err_msg)
            n = sizeof s->err_msg - 1;
        memcpy(s->err_msg, m, n);
        while (n && s->err_msg[n - 1] == ' ')
            n--;
        s->err_msg[n] = 0;
    }
}

/* Replaces every byte of d[0..n) that is not part of well-formed UTF-8,
 * and every NUL, by a space, in a copy kept in *scratch (grown as needed,
 * freed by the caller).  Returns the bytes to parse (d itself when all is
 * well) or NULL when out of memory. */
static const char *clean_utf8(const char *d, size_t n, js_buf *scratch)
{
    if (js_utf8_valid(d, n, NULL) && !memchr(d, 0, n))
        return d;
    js_buf_clear(scratch);
    if (js_buf_text(scratch, d, n))
        return NULL;
    unsigned char *p = scratch->p;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = js_utf8_decode(p + i, n - i, &cp);
        if (cp == JS_UTF8_INVALID || cp == 0)
            p[i] = ' ';
        i += len;
    }
    return js_buf_str(scratch);
}

/* The format's parse function (see ingest.h): feeds the source's chunks
 * to libxml2's push parser.  Returns 0, a negative JS_E* code (a read
 * error from the source, or JS_ENOMEM) or a sink call's non-zero value.
 * The parser and every buffer are freed before it returns. */
static int parse(js_source *src, js_sink *k)
{
    html_state s;
    htmlSAXHandler sax;
    js_buf scratch = JS_BUF_INIT;
    memset(&s, 0, sizeof s);
    memset(&sax, 0, sizeof sax);
    s.src = src;
    s.k = k;
    sax.startElement = on_start;
    sax.endElement = on_end;
    sax.characters = on_chars;
    sax.cdataBlock = on_chars;
    /* libxml2 calls white space between some elements "ignorable"; it
     * still separates words. */
    sax.ignorableWhitespace = on_chars;
    sax.serror = on_error;
    sax.initialized = XML_SAX2_MAGIC; /* so that serror is used */

    s.ctxt = htmlCreatePushParserCtxt(&sax, &s, NULL, 0, NULL,
                                      XML_CHAR_ENCODING_UTF8);
    if (!s.ctxt) {
        js_sink_warn(k, 0, UINT64_MAX, "cannot create the HTML parser");
        return JS_ENOMEM;
    }
    /* HUGE: lifts libxml2's hardcoded limits.  2.9 parses 10,000 nested
     * elements the same with or without it (measured); it is set so that
     * no depth limit of another version cuts such a document short. */
    htmlCtxtUseOptions(s.ctxt, HTML_PARSE_RECOVER | HTML_PARSE_NONET |
                                   HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                   HTML_PARSE_IGNORE_ENC | XML_PARSE_HUGE);

    const char *d;
    size_t n;
    int rc = 0, first = 1;
    while (!s.rc && !s.oom && (rc = js_source_chunk(src, &d, &n)) == 1) {
        if (first)
            s.base = js_source_offset(src);
        first = 0;
        const char *clean = clean_utf8(d, n, &scratch);
        if (!clean) {
            keep(&s, JS_ENOMEM);
            break;
        }
        while (n && !s.rc) { /* libxml2 takes an int */
            int m = n > (1u << 30) ? 1 << 30 : (int)n;
            htmlParseChunk(s.ctxt, clean, m, 0);
            clean += m;
            n -= (size_t)m;
        }
    }
    if (!s.rc && !s.oom)
        htmlParseChunk(s.ctxt, NULL, 0, 1);
    if (!s.rc && s.hlevel)
        end_heading(&s);
    if (!s.rc && s.title == 1)
        keep(&s, js_sink_title(k, js_buf_str(&s.tbuf), s.tbuf.len));
    if (s.nerr && !s.rc && !s.oom)
        js_sink_warn(k, s.err_line, UINT64_MAX,
                     "broken HTML: %lu error%s, the first: %s", s.nerr,
                     s.nerr == 1 ? "" : "s", s.err_msg);
    if (s.oom && !s.rc)
        s.rc = JS_ENOMEM; /* ingest reports it and stops */
    htmlFreeParserCtxt(s.ctxt);
    js_buf_free(&s.tbuf);
    js_buf_free(&s.hbuf);
    js_buf_free(&scratch);
    if (s.rc)
        return s.rc;
    return rc < 0 ? rc : 0;
}

/* Skips white space, comments, an XML declaration and processing
 * instructions at the top; returns where markup starts. */
static size_t skip_prolog(const char *h, size_t n)
{
    size_t i = 0;
    if (n >= 3 && !memcmp(h, "\xEF\xBB\xBF", 3))
        i = 3;
    for (;;) {
        while (i < n && is_ws((xmlChar)h[i]))
            i++;
        const char *end = NULL;
        if (n - i >= 4 && !memcmp(h + i, "<!--", 4))
            end = "-->";
        else if (n - i >= 2 && !memcmp(h + i, "<?", 2))
            end = "?>";
        if (!end)
            return i;
        size_t el = strlen(end), j = i + 2;
        while (j + el <= n && memcmp(h + j, end, el))
            j++;
        if (j + el > n)
            return n;
        i = j + el;
    }
}

/* Returns 1 if h[0..n) starts with the lower-case ASCII w, ignoring
 * case. */
static int prefix_ci(const char *h, size_t n, const char *w)
{
    size_t m = strlen(w);
    if (n < m)
        return 0;
    for (size_t i = 0; i < m; i++)
        if ((h[i] | (h[i] >= 'A' && h[i] <= 'Z' ? 0x20 : 0)) != w[i])
            return 0;
    return 1;
}

/* Sure of HTML when the markup starts with a doctype, <html>, <head> or
 * <body>, or <html appears in the first KiB; a document that merely
 * starts with a tag gets a weak score. */
static int sniff(const char *h, size_t n)
{
    static const char *const starts[] = {"<!doctype html", "<html", "<head",
                                         "<body"};
    size_t i = skip_prolog(h, n);
    for (size_t j = 0; j < sizeof starts / sizeof *starts; j++)
        if (prefix_ci(h + i, n - i, starts[j]))
            return 90;
    size_t lim = n < 1024 ? n : 1024;
    for (size_t j = 0; j + 5 <= lim; j++)
        if (h[j] == '<' && prefix_ci(h + j, lim - j, "<html"))
            return 90;
    if (i + 1 < n && h[i] == '<' &&
        ((h[i + 1] | 0x20) >= 'a' && (h[i + 1] | 0x20) <= 'z'))
        return 20;
    return 0;
}

static pthread_once_t libxml_once = PTHREAD_ONCE_INIT;

static void init_libxml(void) { xmlInitParser(); }

void js_format_html_init(void) { pthread_once(&libxml_once, init_libxml); }

static const char *const extensions[] = {"html", "htm", "xhtml", NULL};

const js_format js_format_html = {"html", extensions, sniff, parse};
