/*
 * fmt_tbl.c — tbl(1) tables in man pages.
 *
 * In:  .TS (js_tbl_start), then each line up to .TE (js_tbl_line): the
 *      options line, the format lines, the data rows and T{ ... T} text
 *      blocks.
 * Out: the text of each data row, its cells expanded and joined by a
 *      space, as a line of body text followed by a break; a T{ block's
 *      lines go back to fmt_roff.c as ordinary roff.  Options (but
 *      tab(x)), formats and rules (_ = \_) give no text.
 */
#include "config.h"

#include <string.h>

#include "fmt_roff.h"

/* .TS: a table starts. */
void js_tbl_start(man *m, const rq_call *c)
{
    (void)c;
    js_roff_break(m);
    m->tbl = TBL_OPTS;
    m->tbl_tab = '\t';
    m->tbl_block = 0;
    m->tbl_line = m->lineno;
}

static void tbl_cells(man *m, const char *s, size_t n)
{
    rbuf row = {0};
    size_t i = 0;
    int block = 0;
    char tab = m->tbl_tab ? m->tbl_tab : '\t';
    m->cflag = 0;
    while (i <= n) {
        const char *e = memchr(s + i, tab, n - i);
        size_t end = e ? (size_t)(e - s) : n, a = i, b = end;
        while (a < b && is_space(s[a]))
            a++;
        while (b > a && is_space(s[b - 1]))
            b--;
        if (b - a == 2 && !memcmp(s + a, "T{", 2) && !e) {
            block = 1;
        } else if (!(b - a == 1 && (s[a] == '_' || s[a] == '=')) &&
                   !(b - a == 2 && s[a] == '\\' &&
                     (s[a + 1] == '_' || s[a + 1] == '^' ||
                      s[a + 1] == '='))) {
            size_t before = row.b.len;
            if (row.b.len)
                rb_add(&row, " ", 1);
            size_t mark = row.b.len;
            js_roff_expand(m, s + a, b - a, &row, 0);
            if (row.b.len == mark)
                row.b.len = before; /* an empty cell adds no space */
        }
        if (!e)
            break;
        i = end + 1;
    }
    if (row.b.p)
        row.b.p[row.b.len] = 0;
    js_roff_text(m, js_buf_str(&row.b), row.b.len);
    js_roff_done(m, &row);
    if (block) {
        m->tbl_block = 1;
        m->last_cjk = 0; /* a space between cells, even between CJK */
    } else {
        js_roff_break(m);
    }
}

/* Takes the tbl options line: only tab(x) matters. */
static void tbl_options(man *m, const char *s, size_t n)
{
    for (size_t i = 0; i + 3 < n; i++)
        if ((s[i] == 't' || s[i] == 'T') && !strncmp(s + i + 1, "ab", 2)) {
            size_t j = i + 3;
            while (j < n && is_space(s[j]))
                j++;
            if (j + 2 < n && s[j] == '(' && s[j + 2] == ')')
                m->tbl_tab = s[j + 1];
        }
}

/* Returns 1 if s[0..n), trailing blanks aside, ends with c. */
static int ends_with(const char *s, size_t n, char c)
{
    while (n && is_space(s[n - 1]))
        n--;
    return n && s[n - 1] == c;
}

/* Handles a line inside .TS/.TE; returns 0 when it is ordinary roff (a
 * request, or text inside T{ ... T}) for process_line. */
int js_tbl_line(man *m, const char *s, size_t n)
{
    int control = n > 0 && (s[0] == '.' || s[0] == '\'');
    if (control) {
        size_t i = 1;
        while (i < n && is_space(s[i]))
            i++;
        if (n - i >= 2 && !memcmp(s + i, "TE", 2) &&
            (i + 2 == n || is_space(s[i + 2]) || s[i + 2] == '\\')) {
            m->tbl = TBL_NONE;
            m->tbl_block = 0;
            js_roff_break(m);
            return 1;
        }
        if (n - i >= 2 && !memcmp(s + i, "T&", 2)) {
            m->tbl = TBL_FORMAT;
            return 1;
        }
    }
    switch (m->tbl) {
    case TBL_OPTS:
        m->tbl = TBL_FORMAT;
        if (ends_with(s, n, ';')) {
            tbl_options(m, s, n);
            return 1;
        }
        /* fall through */
    case TBL_FORMAT:
        if (ends_with(s, n, '.'))
            m->tbl = TBL_DATA;
        return 1;
    default:
        break;
    }
    if (m->tbl_block) {
        if (n >= 2 && s[0] == 'T' && s[1] == '}') {
            m->tbl_block = 0;
            m->last_cjk = 0;
            if (n > 2)
                tbl_cells(m, s + 2, n - 2);
            else
                js_roff_break(m);
            return 1;
        }
        return 0;
    }
    if (control)
        return 0;
    tbl_cells(m, s, n);
    return 1;
}
