/*
 * fmt_markdown.c — Markdown (CommonMark with GitHub tables) -> sections.
 *
 * In:  the document's decoded UTF-8 lines from the source.
 * Out: sink calls: the title (YAML/TOML front matter `title`, else the
 *      first level-1 heading), one heading per ATX or setext heading, and
 *      the body text with the markup removed (emphasis, links, images keep
 *      their text; entities decoded; raw HTML tags dropped), with a break
 *      at every block boundary.
 *
 * md4c parses a whole buffer at a time, so to keep memory bounded by a
 * section rather than by the file, the lines are gathered into CHUNKS and
 * each chunk is parsed on its own.  A chunk is cut where cutting cannot
 * change what md4c sees, by a small line scanner that knows just enough
 * block structure:
 *   - just before an ATX heading line that starts in column 0 outside a
 *     fenced code block and outside an HTML block that spans blank lines
 *     (comments, <script>, <pre>, ...): such a line always closes every
 *     open paragraph, list and quote;
 *   - just before the paragraph that a setext underline ("===", "---"
 *     right after text, never after a blank line) turns into a heading;
 *   - when a chunk has grown past JS_SECTION_MAX_BYTES (or SOFT_LINES
 *     lines), at the next blank line outside such blocks;
 *   - past twice that (or HARD_LINES lines), at any line; a fenced code
 *     block that is cut there is reopened in the next chunk with a fence
 *     line that is not part of the document (it yields no text).
 * A fence indented by 1-3 spaces may belong to a list item, where a
 * column-0 line would end it: it stops cuts like any fence but is not
 * reopened.  The price of cutting: link reference definitions only
 * resolve inside their own chunk, a list or paragraph cut by size becomes
 * two (the same text), and a heading line inside an HTML block of
 * CommonMark kinds 6 and 7 (<div> ... up to a blank line) becomes a
 * heading.
 *
 * Front matter is taken as in Pandoc: "---" (or "+++" for TOML) on the
 * first line, not followed by a blank line, at least one key, closed by
 * "---"/"..." (or "+++") within FM_MAX_LINES lines; else it is Markdown.
 *
 * Offsets: every chunk line's byte offset in the decoded text is kept in
 * a table; md4c's text callbacks point into the chunk, so the line a
 * heading's text lies on — and so the heading's offset — is found by a
 * binary search.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h> /* htmlEntityLookup: the HTML 4 entities */
#include <md4c.h>

#include "ingest.h"
#include "utf8.h"

/* Chunk limits (see the comment at the top). */
#define SOFT_BYTES ((size_t)JS_SECTION_MAX_BYTES)
#define HARD_BYTES (2 * SOFT_BYTES)
#define SOFT_LINES ((size_t)1 << 15)
#define HARD_LINES ((size_t)1 << 17)
/* Front matter longer than this is taken to be ordinary Markdown. */
#define FM_MAX_LINES 1000
#define FM_MAX_BYTES ((size_t)64 << 10)

/* One chunk line: where it starts in the chunk buffer and in the text. */
typedef struct md_line {
    uint64_t off;
    size_t pos;
} md_line;

/* The line scanner's view of the block structure (see md_scan). */
typedef struct md_scan_state {
    char fence_char;     /* '`' or '~' inside a fenced code block, else 0 */
    size_t fence_len;    /* length of its opening fence */
    int fence_sure;      /* the opening fence started in column 0 */
    const char *html_end; /* inside an HTML block: the marker that ends it */
    uint64_t run_start;  /* line number (0-based) of the paragraph run's
                            first line, or UINT64_MAX between runs */
    int run_plain;       /* that line can start a setext heading */
} md_scan_state;

/* The raw HTML stripper's state (MD_TEXT_HTML: tags and comments are
 * dropped, the text between them kept). */
enum { H_TEXT, H_LT, H_TAG, H_QUOTE, H_BANG, H_COMMENT, H_DECL };

typedef struct md_state {
    js_source *src;
    js_sink *k;
    int rc; /* first non-zero sink return, handed back unchanged */

    /* The chunk: lines joined by "\n" (a line's own terminator may have
     * been "\r\n" or "\r"; the table keeps the true offsets). */
    char *buf;
    size_t len, cap;
    md_line *lines;
    size_t nlines, lcap;
    uint64_t line_base; /* line number of lines[0] */
    uint64_t nread;     /* lines read so far */
    int cont;           /* the last piece read had no terminator: the next
                           one continues the same line */
    md_scan_state scan;

    /* Front matter: 1 while inside it, 2 when done (or none). */
    int fm;
    char fm_close[4];
    char *fm_title;
    int fm_keys;   /* key lines seen in it */
    int title_set; /* a front matter title was set: headings do not */

    /* While md4c parses a chunk. */
    size_t parse_len;  /* bytes of the chunk given to md_parse */
    size_t parse_lines;
    size_t last_pos;   /* chunk position of the last text seen, +1 (0: none) */
    int in_heading, in_code;
    unsigned hlevel;
    char *hbuf;
    size_t hlen, hcap;
    int hoff_set;
    uint64_t hoff;
    int h1_seen;
    unsigned cell; /* table cells seen in the current row */
    int hstate;    /* H_* */
    char hquote;
    int hdashes;      /* '-' seen in a row (comment start and end) */
    int hclosing;     /* the tag being read is an end tag */
    int hname_open;   /* still reading the tag's name */
    char hname[12];   /* start of the tag name, lower case */
    size_t hname_len;
    char raw[12];     /* inside <script> or <style>: its name, else "" */
} md_state;

/* ------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------- */

/* Grows *p (elements of `size` bytes, capacity *cap) to hold `need`.
 * Returns 0 or JS_ENOMEM; *p stays valid either way. */
static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q)
        return JS_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

/* Returns 1 for the blanks of a Markdown line: space and tab. */
static int is_sp(char c) { return c == ' ' || c == '\t'; }

/* Returns 1 if l[0..n) holds nothing but blanks. */
static int is_blank(const char *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_sp(l[i]))
            return 0;
    return 1;
}

/* Returns the indentation of l in columns (a tab advances to the next
 * multiple of 4) and stores the index of the first other byte in *first. */
static size_t indent_of(const char *l, size_t n, size_t *first)
{
    size_t col = 0, i = 0;
    for (; i < n && is_sp(l[i]); i++)
        col = l[i] == '\t' ? (col + 4) / 4 * 4 : col + 1;
    *first = i;
    return col;
}

/* Returns how many bytes equal to c follow from l[i] on. */
static size_t run_of(const char *l, size_t n, size_t i, char c)
{
    size_t j = i;
    while (j < n && l[j] == c)
        j++;
    return j - i;
}

/* Returns the ASCII lower case of c (other bytes unchanged). */
static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Returns 1 if l[i..n) starts with the ASCII word w, ignoring case. */
static int starts_ci(const char *l, size_t n, size_t i, const char *w)
{
    size_t m = strlen(w);
    if (n - i < m)
        return 0;
    for (size_t j = 0; j < m; j++)
        if (lower(l[i + j]) != w[j])
            return 0;
    return 1;
}

/* Returns 1 if the lower-case ASCII string w occurs in l[i..n), ignoring
 * case. */
static int contains_ci(const char *l, size_t n, size_t i, const char *w)
{
    for (; i < n; i++)
        if (starts_ci(l, n, i, w))
            return 1;
    return 0;
}

/* ------------------------------------------------------------------
 * Line classification (CommonMark block starts, as far as chunking needs)
 * ---------------------------------------------------------------- */

/* Returns the ATX level (1..6) if l is an ATX heading line, else 0. */
static int atx_level(const char *l, size_t n)
{
    size_t i;
    if (indent_of(l, n, &i) > 3)
        return 0;
    size_t r = run_of(l, n, i, '#');
    if (r < 1 || r > 6 || (i + r < n && !is_sp(l[i + r])))
        return 0;
    return (int)r;
}

/* Returns 1 if l opens a fenced code block; stores its character, length
 * and indentation. */
static int fence_open(const char *l, size_t n, char *c, size_t *len,
                      size_t *indent)
{
    size_t i;
    *indent = indent_of(l, n, &i);
    if (*indent > 3 || i >= n || (l[i] != '`' && l[i] != '~'))
        return 0;
    size_t r = run_of(l, n, i, l[i]);
    if (r < 3)
        return 0;
    if (l[i] == '`' && memchr(l + i + r, '`', n - i - r))
        return 0; /* a backtick fence's info string has no backtick */
    *c = l[i];
    *len = r;
    return 1;
}

/* Returns 1 if l closes a fenced code block opened with `len` times c. */
static int fence_close(const char *l, size_t n, char c, size_t len)
{
    size_t i;
    if (indent_of(l, n, &i) > 3)
        return 0;
    size_t r = run_of(l, n, i, c);
    return r >= len && is_blank(l + i + r, n - i - r);
}

/* Returns '=' or '-' if l is a setext underline, else 0. */
static char setext_underline(const char *l, size_t n)
{
    size_t i;
    if (indent_of(l, n, &i) > 3 || i >= n || (l[i] != '=' && l[i] != '-'))
        return 0;
    size_t r = run_of(l, n, i, l[i]);
    return is_blank(l + i + r, n - i - r) ? l[i] : 0;
}

/* Returns 1 if l is a thematic break: three or more of one of "-*_",
 * blanks between allowed. */
static int thematic_break(const char *l, size_t n)
{
    size_t i;
    if (indent_of(l, n, &i) > 3 || i >= n ||
        (l[i] != '-' && l[i] != '*' && l[i] != '_'))
        return 0;
    char c = l[i];
    size_t count = 0;
    for (; i < n; i++) {
        if (l[i] == c)
            count++;
        else if (!is_sp(l[i]))
            return 0;
    }
    return count >= 3;
}

/* Returns 1 if a list item marker ("-", "+", "*", "1.", "1)") stands at
 * l[i], followed by a blank or the end of the line. */
static int list_marker(const char *l, size_t n, size_t i)
{
    if (i < n && (l[i] == '-' || l[i] == '+' || l[i] == '*'))
        return i + 1 == n || is_sp(l[i + 1]);
    size_t d = 0;
    while (i + d < n && d < 10 && l[i + d] >= '0' && l[i + d] <= '9')
        d++;
    if (d < 1 || d > 9 || i + d >= n || (l[i + d] != '.' && l[i + d] != ')'))
        return 0;
    return i + d + 1 == n || is_sp(l[i + d + 1]);
}

/* Returns 1 if l, at the start of a paragraph run, is plain paragraph text
 * (not a list item, quote, heading, fence, HTML, break or code), so that a
 * following underline makes it a setext heading. */
static int plain_start(const char *l, size_t n)
{
    size_t i;
    if (indent_of(l, n, &i) > 3 || i >= n)
        return 0;
    if (l[i] == '#' || l[i] == '>' || l[i] == '<' || l[i] == '`' ||
        l[i] == '~')
        return 0;
    return !list_marker(l, n, i) && !thematic_break(l, n);
}

/* If l starts an HTML block of CommonMark kinds 1-5 (which run past blank
 * lines until an end marker), returns the end marker, else NULL. */
static const char *html_start(const char *l, size_t n)
{
    static const char *const raw[] = {"script", "pre", "style", "textarea"};
    static const char *const raw_end[] = {"</script>", "</pre>", "</style>",
                                          "</textarea>"};
    size_t i;
    if (indent_of(l, n, &i) > 3 || i >= n || l[i] != '<')
        return NULL;
    i++;
    for (size_t r = 0; r < 4; r++) {
        size_t m = strlen(raw[r]);
        if (starts_ci(l, n, i, raw[r]) &&
            (i + m == n || is_sp(l[i + m]) || l[i + m] == '>'))
            return raw_end[r];
    }
    if (starts_ci(l, n, i, "!--"))
        return "-->";
    if (starts_ci(l, n, i, "![cdata["))
        return "]]>";
    if (starts_ci(l, n, i, "?"))
        return "?>";
    if (i + 1 < n && l[i] == '!' &&
        ((l[i + 1] >= 'A' && l[i + 1] <= 'Z') ||
         (l[i + 1] >= 'a' && l[i + 1] <= 'z')))
        return ">";
    return NULL;
}

/* What md_scan found: nothing to do, cut before this line, or cut before
 * the paragraph run that this line's underline makes a heading. */
enum { CUT_NONE, CUT_HERE, CUT_RUN };

/* Feeds line number `no` (text l[0..n)) to the scanner: updates st and
 * returns where the chunk may be cut (CUT_*) given what came before; for
 * CUT_RUN, *run receives the line number of the paragraph's first line. */
static int md_scan(md_scan_state *st, uint64_t no, const char *l, size_t n,
                   uint64_t *run)
{
    char c;
    size_t flen, ind;
    if (st->fence_char) {
        if (fence_close(l, n, st->fence_char, st->fence_len))
            st->fence_char = 0;
        return CUT_NONE;
    }
    if (st->html_end) {
        if (contains_ci(l, n, 0, st->html_end))
            st->html_end = NULL;
        return CUT_NONE;
    }
    if (is_blank(l, n)) {
        st->run_start = UINT64_MAX;
        return CUT_NONE;
    }
    if (fence_open(l, n, &c, &flen, &ind)) {
        st->fence_char = c;
        st->fence_len = flen;
        st->fence_sure = ind == 0;
        st->run_start = UINT64_MAX;
        return CUT_NONE;
    }
    const char *he = html_start(l, n);
    if (he) {
        size_t i;
        indent_of(l, n, &i);
        /* The end marker may stand on the opening line itself (after the
         * opening "<!--", not inside it). */
        if (!contains_ci(l, n, i + (he[0] == '-' ? 4 : 1), he))
            st->html_end = he;
        st->run_start = UINT64_MAX;
        return CUT_NONE;
    }
    if (atx_level(l, n)) {
        st->run_start = UINT64_MAX;
        return l[0] == '#' ? CUT_HERE : CUT_NONE;
    }
    char u = st->run_start != UINT64_MAX ? setext_underline(l, n) : 0;
    if (u && st->run_plain) {
        *run = st->run_start;
        st->run_start = UINT64_MAX;
        return CUT_RUN;
    }
    if (u == '-') { /* under a list item or quote: a thematic break */
        st->run_start = UINT64_MAX;
        return CUT_NONE;
    }
    if (u)
        return CUT_NONE; /* "===" there: more paragraph text */
    if (thematic_break(l, n)) {
        st->run_start = UINT64_MAX;
        return CUT_NONE;
    }
    if (st->run_start == UINT64_MAX) {
        st->run_start = no;
        st->run_plain = plain_start(l, n);
    }
    return CUT_NONE;
}

/* ------------------------------------------------------------------
 * Entities
 * ---------------------------------------------------------------- */

/* Decodes the entity s[0..n) ("&amp;", "&#20013;", "&#x4e2d;") into out
 * (room for 4 bytes).  Returns the number of bytes written, or 0 for a
 * name that is not an HTML entity (the caller keeps the text as it is).
 * Numeric references to nothing valid give U+FFFD, as CommonMark says. */
static size_t decode_entity(const char *s, size_t n, char *out)
{
    if (n < 3 || s[0] != '&' || s[n - 1] != ';')
        return 0;
    uint32_t cp = 0;
    if (s[1] == '#') {
        int hex = n > 3 && (s[2] == 'x' || s[2] == 'X');
        size_t i = hex ? 3 : 2;
        if (i >= n - 1)
            return 0;
        for (; i < n - 1; i++) {
            char c = s[i];
            unsigned d;
            if (c >= '0' && c <= '9')
                d = (unsigned)(c - '0');
            else if (hex && lower(c) >= 'a' && lower(c) <= 'f')
                d = (unsigned)(lower(c) - 'a' + 10);
            else
                return 0;
            if (cp <= 0x10FFFF)
                cp = cp * (hex ? 16 : 10) + d;
        }
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            cp = 0xFFFD;
    } else {
        char name[64];
        if (n - 2 >= sizeof name)
            return 0;
        memcpy(name, s + 1, n - 2);
        name[n - 2] = 0;
        const htmlEntityDesc *d = htmlEntityLookup((const xmlChar *)name);
        if (!d)
            return 0;
        cp = d->value;
    }
    return js_utf8_encode(cp, out);
}

/* ------------------------------------------------------------------
 * Output: body text, breaks, the heading being collected
 * ---------------------------------------------------------------- */

/* The output functions below return 0 or a non-zero sink or allocation
 * code, which keep() also stores in s->rc: md4c's callbacks return it to
 * stop md4c, and parse() hands it back unchanged.  Returns rc. */
static int keep(md_state *s, int rc)
{
    if (rc && !s->rc)
        s->rc = rc;
    return rc;
}

/* Sends n bytes of text to the heading being collected or the body. */
static int out_text(md_state *s, const char *t, size_t n)
{
    if (!n)
        return 0;
    if (s->in_heading) {
        if (grow((void **)&s->hbuf, &s->hcap, s->hlen + n + 1, 1))
            return keep(s, JS_ENOMEM);
        memcpy(s->hbuf + s->hlen, t, n);
        s->hlen += n;
        return 0;
    }
    return keep(s, js_sink_text(s->k, t, n));
}

/* Ends a line of body (a space inside a heading). */
static int out_break(md_state *s)
{
    if (s->in_heading)
        return out_text(s, " ", 1);
    return keep(s, js_sink_break(s->k));
}

/* Sends text in which "\n" ends a line (code blocks, HTML blocks). */
static int out_lines(md_state *s, const char *t, size_t n)
{
    while (n) {
        const char *nl = memchr(t, '\n', n);
        size_t m = nl ? (size_t)(nl - t) : n;
        if (out_text(s, t, m) || (nl && out_break(s)))
            return s->rc;
        t += m + (nl != NULL);
        n -= m + (nl != NULL);
    }
    return 0;
}

/* Sends text, decoding the entities in it (HTML block text). */
static int out_decoded(md_state *s, const char *t, size_t n)
{
    size_t i = 0, from = 0;
    while (i < n) {
        if (t[i] != '&') {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < n && j - i < 40 && t[j] != ';' && t[j] != '&' &&
               !is_sp(t[j]) && t[j] != '\n')
            j++;
        char u[4];
        size_t ul = j < n && t[j] == ';' ? decode_entity(t + i, j + 1 - i, u)
                                         : 0;
        if (!ul) {
            i++;
            continue;
        }
        if (out_lines(s, t + from, i - from) || out_text(s, u, ul))
            return s->rc;
        i = from = j + 1;
    }
    return out_lines(s, t + from, n - from);
}

/* Returns 1 for the HTML elements whose tags end a line of text. */
static int breaks_line(const char *name)
{
    static const char *const names[] = {
        "br", "p", "div", "li", "tr", "table", "blockquote", "pre", "ul",
        "ol", "dl", "dt", "dd", "hr", "section", "article", "header",
        "footer", "h1", "h2", "h3", "h4", "h5", "h6"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(name, names[i]))
            return 1;
    return 0;
}

/* Strips tags and comments from raw HTML, keeping the text between them;
 * the contents of <script> and <style> are dropped.  The state carries
 * across calls within one block (md4c sends an HTML block line by line).
 * Returns 0 or the non-zero code that stopped the output. */
static int out_html(md_state *s, const char *t, size_t n)
{
    size_t from = 0; /* where the pending text starts (state H_TEXT) */
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        switch (s->hstate) {
        case H_TEXT:
            if (c == '<') {
                if (!s->raw[0] && out_decoded(s, t + from, i - from))
                    return s->rc;
                s->hstate = H_LT;
            }
            break;
        case H_LT:
            s->hname_len = 0;
            s->hname_open = 1;
            s->hclosing = c == '/';
            s->hdashes = 0;
            if (c == '/' || (!s->raw[0] && lower(c) >= 'a' &&
                             lower(c) <= 'z')) {
                s->hstate = H_TAG;
                if (c != '/')
                    s->hname[s->hname_len++] = lower(c);
            } else if (!s->raw[0] && c == '!') {
                s->hstate = H_BANG;
            } else if (!s->raw[0] && c == '?') {
                s->hstate = H_DECL;
            } else if (c != '<') { /* not a tag: the "<" was text */
                s->hstate = H_TEXT;
                if (!s->raw[0] && out_text(s, "<", 1))
                    return s->rc;
                from = i;
            } else if (!s->raw[0] && out_text(s, "<", 1)) {
                return s->rc; /* "<<": the first one was text */
            }
            break;
        case H_TAG:
            if (c == '"' || c == '\'') {
                s->hquote = c;
                s->hstate = H_QUOTE;
                s->hname_open = 0;
            } else if (c == '>') {
                s->hname[s->hname_len] = 0;
                s->hstate = H_TEXT;
                from = i + 1;
                if (s->raw[0]) {
                    if (s->hclosing && !strcmp(s->hname, s->raw))
                        s->raw[0] = 0;
                } else if (!s->hclosing && (!strcmp(s->hname, "script") ||
                                            !strcmp(s->hname, "style"))) {
                    strcpy(s->raw, s->hname);
                } else if (breaks_line(s->hname) && out_break(s)) {
                    return s->rc;
                }
            } else if (s->hname_open) {
                if (((lower(c) >= 'a' && lower(c) <= 'z') ||
                     (c >= '0' && c <= '9')) &&
                    s->hname_len < sizeof s->hname - 1)
                    s->hname[s->hname_len++] = lower(c);
                else if (s->hname_len)
                    s->hname_open = 0;
            }
            break;
        case H_QUOTE:
            if (c == s->hquote)
                s->hstate = H_TAG;
            break;
        case H_BANG: /* "<!--" starts a comment, "<!X" a declaration */
            if (c == '-' && ++s->hdashes == 2) {
                s->hdashes = 0;
                s->hstate = H_COMMENT;
            } else if (c != '-') {
                s->hstate = c == '>' ? H_TEXT : H_DECL;
                from = i + 1;
            }
            break;
        case H_COMMENT:
            if (c == '>' && s->hdashes >= 2) {
                s->hstate = H_TEXT;
                from = i + 1;
            }
            s->hdashes = c == '-' ? s->hdashes + 1 : 0;
            break;
        case H_DECL:
            if (c == '>') {
                s->hstate = H_TEXT;
                from = i + 1;
            }
            break;
        }
    }
    if (s->hstate == H_TEXT && !s->raw[0] && from < n)
        return out_decoded(s, t + from, n - from);
    return 0;
}

/* Forgets any tag or <script> the raw HTML stripper was inside. */
static void html_reset(md_state *s)
{
    s->hstate = H_TEXT;
    s->raw[0] = 0;
}

/* ------------------------------------------------------------------
 * md4c callbacks
 * ---------------------------------------------------------------- */

/* Returns the index of the chunk line holding chunk position pos. */
static size_t line_at(const md_state *s, size_t pos)
{
    size_t lo = 0, hi = s->parse_lines;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->lines[mid].pos <= pos)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* md4c: a block starts.  Headings start collecting their text; other
 * blocks start a new line of body.  Returns 0 or a code that stops md4c. */
static int on_enter_block(MD_BLOCKTYPE type, void *detail, void *ud)
{
    md_state *s = ud;
    html_reset(s); /* a tag left open by raw HTML ends with its block */
    switch (type) {
    case MD_BLOCK_DOC:
        return 0;
    case MD_BLOCK_H:
        s->in_heading = 1;
        s->hlevel = ((MD_BLOCK_H_DETAIL *)detail)->level;
        s->hlen = 0;
        s->hoff_set = 0;
        return 0;
    case MD_BLOCK_TR:
        s->cell = 0;
        break;
    case MD_BLOCK_TH:
    case MD_BLOCK_TD:
        /* Cells of a row are one line, apart by a tab. */
        return s->cell++ ? out_text(s, "\t", 1) : 0;
    case MD_BLOCK_CODE:
        s->in_code = 1;
        break;
    default:
        break;
    }
    return out_break(s);
}

/* Ends the heading being collected: it becomes the title too if it is
 * the first level-1 heading and the front matter had none. */
static int end_heading(md_state *s)
{
    s->in_heading = 0;
    if (!s->hoff_set) {
        /* No text of it lay in the chunk: it is empty (the sink ignores
         * it) or made of NUL replacements; the line after the last text
         * seen is the best guess. */
        size_t i = s->last_pos ? line_at(s, s->last_pos - 1) + 1 : 0;
        s->hoff = i < s->parse_lines ? s->lines[i].off
                                     : js_source_offset(s->src);
    }
    if (s->hlevel == 1 && !s->h1_seen && !s->title_set) {
        s->h1_seen = 1;
        if (keep(s, js_sink_title(s->k, s->hbuf ? s->hbuf : "", s->hlen)))
            return s->rc;
    }
    return keep(s, js_sink_heading(s->k, (int)s->hlevel,
                                   s->hbuf ? s->hbuf : "", s->hlen, s->hoff));
}

/* md4c: a block ends: a heading goes to the sink, other blocks end their
 * line.  Returns 0 or a code that stops md4c. */
static int on_leave_block(MD_BLOCKTYPE type, void *detail, void *ud)
{
    md_state *s = ud;
    (void)detail;
    html_reset(s);
    switch (type) {
    case MD_BLOCK_DOC:
    case MD_BLOCK_TH:
    case MD_BLOCK_TD:
        return 0;
    case MD_BLOCK_H:
        return end_heading(s);
    case MD_BLOCK_CODE:
        s->in_code = 0;
        break;
    default:
        break;
    }
    return out_break(s);
}

/* md4c: a span (emphasis, link, image, code...) starts or ends. */
static int on_span(MD_SPANTYPE type, void *detail, void *ud)
{
    (void)type;
    (void)detail;
    (void)ud;
    return 0; /* markup goes; the text inside stays */
}

/* md4c: text.  Notes where heading text lies, then sends the text to
 * the heading or the body, decoded.  Returns 0 or a code that stops md4c. */
static int on_text(MD_TEXTTYPE type, const MD_CHAR *text, MD_SIZE size,
                   void *ud)
{
    md_state *s = ud;
    /* Only pointers into the chunk tell where we are: md4c also passes
     * string literals (line breaks, indentation, NUL replacements). */
    uintptr_t at = (uintptr_t)text, base = (uintptr_t)s->buf;
    if (at >= base && at - base < s->parse_len) {
        size_t pos = (size_t)(at - base);
        s->last_pos = pos + 1;
        if (s->in_heading && !s->hoff_set) {
            s->hoff = s->lines[line_at(s, pos)].off;
            s->hoff_set = 1;
        }
    }
    switch (type) {
    case MD_TEXT_NORMAL:
        return out_text(s, text, size);
    case MD_TEXT_NULLCHAR:
        return out_text(s, "\xEF\xBF\xBD", 3);
    case MD_TEXT_BR:
        return out_break(s);
    case MD_TEXT_SOFTBR:
        return out_text(s, " ", 1);
    case MD_TEXT_ENTITY: {
        char u[4];
        size_t n = decode_entity(text, size, u);
        return n ? out_text(s, u, n) : out_text(s, text, size);
    }
    case MD_TEXT_CODE:
        if (s->in_code)
            return out_lines(s, text, size);
        return out_text(s, text, size);
    case MD_TEXT_HTML:
        return out_html(s, text, size);
    default:
        return out_text(s, text, size);
    }
}

/* ------------------------------------------------------------------
 * Chunks
 * ---------------------------------------------------------------- */

static const MD_PARSER md_parser = {
    0,
    MD_DIALECT_GITHUB,
    on_enter_block,
    on_leave_block,
    on_span,
    on_span,
    on_text,
    NULL,
    NULL,
};

/* Parses the chunk's first nl lines with md4c and removes them from the
 * chunk; when `reopen` is set, the rest starts with a fence line that
 * reopens the fenced code block the cut went through.  Returns 0, a sink
 * call's non-zero value, or JS_ENOMEM (warned about). */
static int flush(md_state *s, size_t nl, int reopen)
{
    size_t end = nl < s->nlines ? s->lines[nl].pos : s->len;
    if (end > 0) {
        s->parse_len = end;
        s->parse_lines = nl;
        s->last_pos = 0;
        s->in_heading = s->in_code = 0;
        html_reset(s);
        int rc = md_parse(s->buf, (MD_SIZE)end, &md_parser, s);
        if (s->rc)
            return s->rc;
        if (rc) {
            js_sink_warn(s->k, js_source_lineno(s->src), UINT64_MAX,
                         "Markdown parser failed (out of memory?); the rest "
                         "of the document is lost");
            return s->rc = JS_ENOMEM;
        }
        if (keep(s, js_sink_break(s->k)))
            return s->rc;
    }
    memmove(s->buf, s->buf + end, s->len - end);
    s->len -= end;
    memmove(s->lines, s->lines + nl, (s->nlines - nl) * sizeof *s->lines);
    s->nlines -= nl;
    s->line_base += nl;
    for (size_t i = 0; i < s->nlines; i++)
        s->lines[i].pos -= end;
    if (reopen) {
        size_t m = s->scan.fence_len + 1;
        if (grow((void **)&s->buf, &s->cap, s->len + m + 1, 1))
            return keep(s, JS_ENOMEM);
        memmove(s->buf + m, s->buf, s->len);
        memset(s->buf, s->scan.fence_char, m - 1);
        s->buf[m - 1] = '\n';
        s->len += m;
        for (size_t i = 0; i < s->nlines; i++)
            s->lines[i].pos += m;
    }
    return 0;
}

/* Appends a line (or a piece of one) starting at text offset `off` to the
 * chunk, with a "\n" when it had a terminator.  Returns 0 or JS_ENOMEM. */
static int append(md_state *s, const char *l, size_t n, uint64_t off,
                  int newline)
{
    if (grow((void **)&s->buf, &s->cap, s->len + n + 2, 1) ||
        grow((void **)&s->lines, &s->lcap, s->nlines + 1, sizeof *s->lines))
        return keep(s, JS_ENOMEM);
    s->lines[s->nlines].pos = s->len;
    s->lines[s->nlines].off = off;
    s->nlines++;
    memcpy(s->buf + s->len, l, n);
    s->len += n;
    if (newline)
        s->buf[s->len++] = '\n';
    return 0;
}

/* ------------------------------------------------------------------
 * Front matter
 * ---------------------------------------------------------------- */

/* Returns the length of l without trailing blanks. */
static size_t rtrim(const char *l, size_t n)
{
    while (n && is_sp(l[n - 1]))
        n--;
    return n;
}

/* Looks for `title: ...` (YAML) or `title = "..."` (TOML) in a front
 * matter line and keeps its value, unquoted, in s->fm_title (malloc'd,
 * freed by md_free).  Returns 0 or JS_ENOMEM. */
static int fm_line(md_state *s, const char *l, size_t n)
{
    char sep = s->fm_close[0] == '+' ? '=' : ':';
    if (s->fm_title || n < 6 || memcmp(l, "title", 5))
        return 0;
    size_t i = 5;
    while (i < n && is_sp(l[i]))
        i++;
    if (i >= n || l[i] != sep)
        return 0;
    i++;
    while (i < n && is_sp(l[i]))
        i++;
    size_t e = rtrim(l, n);
    if (i < e && (l[i] == '"' || l[i] == '\'')) {
        const char *q = memchr(l + i + 1, l[i], e - i - 1);
        if (q)
            e = (size_t)(q - l);
        i++;
    } else {
        /* An unquoted YAML value ends at a comment. */
        for (size_t j = i; j + 1 < e; j++)
            if (is_sp(l[j]) && l[j + 1] == '#') {
                e = rtrim(l, j);
                break;
            }
    }
    if (e <= i || l[i] == '|' || l[i] == '>')
        return 0; /* empty, or a block scalar: no title */
    s->fm_title = malloc(e - i + 1);
    if (!s->fm_title)
        return JS_ENOMEM;
    memcpy(s->fm_title, l + i, e - i);
    s->fm_title[e - i] = 0;
    return 0;
}

/* The front matter did not end: its lines are Markdown after all, so the
 * scanner reads them now (no cuts: they are all in the chunk). */
static void fm_abandon(md_state *s)
{
    s->fm = 2;
    free(s->fm_title);
    s->fm_title = NULL;
    for (size_t i = 0; i < s->nlines; i++) {
        size_t e = i + 1 < s->nlines ? s->lines[i + 1].pos : s->len;
        uint64_t run;
        if (e > s->lines[i].pos && s->buf[e - 1] == '\n')
            e--;
        md_scan(&s->scan, s->line_base + i, s->buf + s->lines[i].pos,
                e - s->lines[i].pos, &run);
    }
}

/* Returns 1 if l looks like a YAML "key:" or TOML "key =" / "[table]"
 * line, the evidence that "---" opened front matter and not a break. */
static int fm_key(const md_state *s, const char *l, size_t n)
{
    size_t i = 0;
    if (s->fm_close[0] == '+' && n && l[0] == '[')
        return 1;
    while (i < n && ((l[i] >= 'a' && l[i] <= 'z') || (l[i] >= 'A' && l[i] <= 'Z') ||
                     (l[i] >= '0' && l[i] <= '9') || l[i] == '_' || l[i] == '-' ||
                     l[i] == '.'))
        i++;
    if (i == 0)
        return 0;
    if (s->fm_close[0] == '+') {
        while (i < n && is_sp(l[i]))
            i++;
        return i < n && l[i] == '=';
    }
    return i < n && l[i] == ':' && (i + 1 == n || is_sp(l[i + 1]));
}

/* Handles a line while in the front matter.  Returns 1 if the line was
 * taken, 0 if the front matter turned out not to be one and the line is
 * Markdown (errors are left in s->rc). */
static int fm_step(md_state *s, const char *l, size_t n, uint64_t off,
                   int newline)
{
    size_t t = rtrim(l, n);
    int close = (t == 3 && !memcmp(l, s->fm_close, 3)) ||
                (s->fm_close[0] == '-' && t == 3 && !memcmp(l, "...", 3));
    /* Like Pandoc: no blank line right after the opening fence, and at
     * least one key inside, or "---" was a thematic break. */
    if ((s->nlines == 1 && is_blank(l, n)) || (close && !s->fm_keys)) {
        fm_abandon(s);
        return 0;
    }
    if (close) {
        /* The front matter is not body: drop it from the chunk. */
        s->fm = 2;
        s->len = 0;
        s->line_base += s->nlines + 1;
        s->nlines = 0;
        if (s->fm_title) {
            s->title_set = 1;
            keep(s, js_sink_title(s->k, s->fm_title, strlen(s->fm_title)));
        }
        return 1;
    }
    s->fm_keys += fm_key(s, l, n);
    if (fm_line(s, l, n))
        keep(s, JS_ENOMEM);
    else if (!append(s, l, n, off, newline) &&
             (s->nlines > FM_MAX_LINES || s->len > FM_MAX_BYTES))
        fm_abandon(s);
    return 1;
}

/* ------------------------------------------------------------------
 * The parser
 * ---------------------------------------------------------------- */

/* Handles one line (or piece of a long line) read from the source: the
 * front matter, the scanner's cuts, the chunk limits.  Returns 0 or the
 * code in s->rc. */
static int md_line_in(md_state *s, const char *l, size_t n)
{
    uint64_t off = js_source_offset(s->src);
    int newline = js_source_end_offset(s->src) - off > n;
    int cont = s->cont;
    s->cont = !newline;
    if (s->nread == 0 && n >= 3 && !memcmp(l, "\xEF\xBB\xBF", 3)) {
        l += 3; /* a byte order mark is not text */
        n -= 3;
        off += 3;
    }
    uint64_t no = s->nread++;
    if (s->fm == 0) {
        s->fm = 2;
        size_t t = rtrim(l, n);
        if (t == 3 && (!memcmp(l, "---", 3) || !memcmp(l, "+++", 3))) {
            s->fm = 1;
            memcpy(s->fm_close, l, 3);
            s->fm_close[3] = 0;
            return append(s, l, n, off, newline);
        }
    }
    if (s->fm == 1 && fm_step(s, l, n, off, newline))
        return s->rc;

    /* A hard cut inside a fence that surely is one reopens it. */
    int reopen = s->scan.fence_char && s->scan.fence_sure;
    uint64_t run = 0;
    int cut = cont ? CUT_NONE : md_scan(&s->scan, no, l, n, &run);
    if (cut == CUT_HERE && s->nlines > 0 && flush(s, s->nlines, 0))
        return s->rc;
    if (cut == CUT_RUN && run > s->line_base &&
        flush(s, (size_t)(run - s->line_base), 0))
        return s->rc;
    if (s->nlines > 0 &&
        (s->len + n + 1 > HARD_BYTES || s->nlines >= HARD_LINES) &&
        flush(s, s->nlines, reopen))
        return s->rc;
    if (append(s, l, n, off, newline))
        return s->rc;
    if (!cont && is_blank(l, n) && !s->scan.fence_char && !s->scan.html_end &&
        (s->len >= SOFT_BYTES || s->nlines >= SOFT_LINES))
        return flush(s, s->nlines, 0);
    return 0;
}

/* The format's parse function (see ingest.h): reads every line, chunks
 * and parses them.  Returns 0, a negative JS_E* code (a read error from
 * the source, or JS_ENOMEM) or a sink call's non-zero value.  Everything
 * it allocates is freed before it returns. */
static int parse(js_source *src, js_sink *k)
{
    md_state s;
    memset(&s, 0, sizeof s);
    s.src = src;
    s.k = k;
    s.scan.run_start = UINT64_MAX;
    const char *l;
    size_t n;
    int rc;
    while ((rc = js_source_line(src, &l, &n)) == 1)
        if (md_line_in(&s, l, n))
            break;
    if (!s.rc && s.fm == 1)
        fm_abandon(&s);
    if (!s.rc && s.nlines > 0)
        flush(&s, s.nlines, 0);
    free(s.buf);
    free(s.lines);
    free(s.hbuf);
    free(s.fm_title);
    if (s.rc)
        return s.rc;
    return rc < 0 ? rc : 0;
}

/* Markdown's tell-tales near the top: an ATX heading first, a setext
 * underline under a line of text, a code fence, front matter. */
static int sniff(const char *h, size_t n)
{
    int score = 5, first = 1, prev_text = 0;
    if (n >= 3 && !memcmp(h, "\xEF\xBB\xBF", 3)) {
        h += 3;
        n -= 3;
    }
    while (n) {
        const char *nl = memchr(h, '\n', n);
        size_t m = nl ? (size_t)(nl - h) : n;
        size_t lm = m && h[m - 1] == '\r' ? m - 1 : m;
        char c;
        size_t flen, ind;
        int blank = is_blank(h, lm);
        if (!blank) {
            if (h[0] == '#' && atx_level(h, lm))
                return first ? 60 : 45;
            if (first && rtrim(h, lm) == 3 && !memcmp(h, "---", 3))
                score = 40;
            else if (prev_text && lm >= 2 && setext_underline(h, lm))
                return 60;
            else if (fence_open(h, lm, &c, &flen, &ind) && ind == 0)
                return 60;
            first = 0;
        }
        prev_text = !blank && plain_start(h, lm);
        if (!nl)
            break;
        h += m + 1;
        n -= m + 1;
    }
    return score;
}

static const char *const extensions[] = {"md",  "markdown", "mdown",
                                         "mkd", "mkdn",     NULL};

const js_format js_format_markdown = {"markdown", extensions, sniff, parse};
