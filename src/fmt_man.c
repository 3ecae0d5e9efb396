/*
 * fmt_man.c — man pages: roff source using the man(7) macros (and, in a
 * simple way, mdoc(7)) -> title, sections and body text.
 *
 * In:  the UTF-8 lines of one page (source.c has gunzipped and decoded it).
 * Out: sink calls — the title from .TH ("LS(1)"), a level-1 section per
 *      .SH and a level-2 one per .SS, body text and line breaks.
 *
 * This is a small roff interpreter, not a formatter: it keeps the words a
 * reader searches for and drops the layout.
 *   - Text lines and the arguments of the font macros (.B, .BR, ...) are
 *     body text.  Filled lines are joined with a space, except between two
 *     CJK characters: a Chinese sentence wrapped in the source stays whole,
 *     so its bigrams are indexed.  Paragraph macros and the requests that
 *     break a line become js_sink_break.
 *   - Escapes, strings, registers, conditionals and user macros are
 *     interpreted (fmt_roff.c).
 *   - tbl tables keep their cell text (fmt_tbl.c); mdoc pages are read
 *     through fmt_mdoc.c; .ig, .de bodies, eqn and pic are skipped as
 *     text.
 * Warnings are only for damage: an unterminated block, a truncated escape,
 * a runaway macro.  A page that is only ".so other.1" (a link) gives no
 * text and no warning.  Every loop is bounded: macro nesting, string
 * nesting, the lines one input line may expand to and the length of an
 * expanded line all have limits.
 *
 * This file holds the format's entry points (sniffing, the parse loop that
 * joins escaped newlines and feeds fmt_roff.c), the man(7) macros, and
 * js_man_request, which decides what a control line is: a man macro, a
 * roff request, an mdoc macro, a macro of the page or a fallback.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fmt_roff.h"

/* ------------------------------------------------------------------
 * man(7) macros
 * ---------------------------------------------------------------- */

/* .PD and the like: nothing to do. */
static void rq_ignore(man *m, const rq_call *c)
{
    (void)m;
    (void)c;
}

/* .TH name section ...: the title, "NAME(SECTION)". */
static void rq_th(man *m, const rq_call *c)
{
    js_roff_title(m, c->args, 0);
    m->nofill = 0;
}

/* .SH/.SS: a heading of `level` from the arguments, or, without any,
 * from the next text line. */
static void heading(man *m, const rq_call *c, int level)
{
    m->nofill = 0;
    m->tp_pending = 0;
    m->centre = 0;
    if (c->args->n == 0) {
        m->head_level = level;
        m->head_offset = m->offset;
        js_buf_clear(&m->head.b);
        m->join = 0;
        return;
    }
    rbuf t = {0};
    js_roff_expand_args(m, c->args, 0, " ", &t);
    js_roff_heading(m, level, js_buf_str(&t.b), t.b.len, m->offset);
    js_roff_done(m, &t);
}

static void rq_sh(man *m, const rq_call *c) { heading(m, c, 1); }
static void rq_ss(man *m, const rq_call *c) { heading(m, c, 2); }

/* .PP and the other paragraph macros: a break. */
static void rq_pp(man *m, const rq_call *c)
{
    (void)c;
    js_roff_break(m);
}

/* .TP/.TQ: the next line with text is a tag, followed by a break. */
static void rq_tp(man *m, const rq_call *c)
{
    (void)c;
    js_roff_break(m);
    m->tp_pending = 1;
    m->tp_mark = m->emitted;
}

/* .IP [tag]: the tag is a line of its own. */
static void rq_ip(man *m, const rq_call *c)
{
    js_roff_break(m);
    if (c->args->n && arglen(c->args, 0)) {
        margs one = *c->args;
        one.n = 1;
        js_roff_put_args(m, &one, 0, NULL);
        js_roff_break(m);
    }
}

/* .B, .I, .SM, .SB: the arguments, spaced. */
static void rq_font(man *m, const rq_call *c)
{
    if (c->args->n)
        js_roff_put_args(m, c->args, 0, " ");
}

/* .BR and the other alternating fonts: the arguments, joined. */
static void rq_alt(man *m, const rq_call *c)
{
    if (c->args->n)
        js_roff_put_args(m, c->args, 0, NULL);
}

/* .UR/.MT address: kept for .UE/.ME. */
static void rq_ur(man *m, const rq_call *c)
{
    js_buf_clear(&m->url.b);
    rb_add(&m->url, arg(c->args, 0), arglen(c->args, 0));
}

/* .UE/.ME [trailer]: "<address>trailer". */
static void rq_ue(man *m, const rq_call *c)
{
    if (m->url.b.len) {
        rbuf t = {0};
        rb_add(&t, "<", 1);
        js_roff_expand(m, js_buf_str(&m->url.b), m->url.b.len, &t, 0);
        rb_add(&t, ">", 1);
        js_roff_expand(m, arg(c->args, 0), arglen(c->args, 0), &t, 0);
        m->cflag = 0;
        js_roff_text(m, js_buf_str(&t.b), t.b.len);
        js_roff_done(m, &t);
        js_buf_clear(&m->url.b);
    } else if (c->args->n) {
        js_roff_put_args(m, c->args, 0, NULL);
    }
}

/* A synopsis item: the arguments spaced, in brackets for .OP. */
static void synopsis(man *m, const rq_call *c, int op)
{
    if (!c->args->n)
        return;
    rbuf t = {0};
    if (op)
        rb_add(&t, "[", 1);
    js_roff_expand_args(m, c->args, 0, " ", &t);
    if (op)
        rb_add(&t, "]", 1);
    m->cflag = 0;
    js_roff_text(m, js_buf_str(&t.b), t.b.len);
    js_roff_done(m, &t);
}

/* .SY command: a break, then the command. */
static void rq_sy(man *m, const rq_call *c)
{
    js_roff_break(m);
    synopsis(m, c, 0);
}

/* .OP key value: "[key value]". */
static void rq_op(man *m, const rq_call *c)
{
    synopsis(m, c, 1);
}

/* .EQ ... .EN and .PS ... .PE: eqn and pic, skipped. */
static void rq_eq(man *m, const rq_call *c)
{
    (void)c;
    js_roff_start_block(m, DEF_IGNORE, "EQ", "EN", 2);
}

static void rq_ps(man *m, const rq_call *c)
{
    (void)c;
    js_roff_start_block(m, DEF_IGNORE, "PS", "PE", 2);
}

/* man(7) macros, handled (like the roff requests) before any user
 * macro. */
static const rq_entry man_macros[] = {
    {"TH", rq_th, 0},        {"SH", rq_sh, 0},         {"SS", rq_ss, 0},
    {"PP", rq_pp, 0},        {"LP", rq_pp, 0},         {"P", rq_pp, 0},
    {"TP", rq_tp, 0},        {"TQ", rq_tp, 0},         {"IP", rq_ip, 0},
    {"HP", rq_pp, 0},        {"RS", rq_pp, 0},         {"RE", rq_pp, 0},
    {"PD", rq_ignore, 0},    {"B", rq_font, 0},        {"I", rq_font, 0},
    {"SM", rq_font, 0},      {"SB", rq_font, 0},       {"BR", rq_alt, 0},
    {"BI", rq_alt, 0},       {"IB", rq_alt, 0},        {"IR", rq_alt, 0},
    {"RB", rq_alt, 0},       {"RI", rq_alt, 0},        {"EX", js_roff_nf, 0},
    {"EE", js_roff_fi, 0},   {"UR", rq_ur, 0},         {"UE", rq_ue, 0},
    {"MT", rq_ur, 0},        {"ME", rq_ue, 0},         {"SY", rq_sy, 0},
    {"YS", rq_pp, 0},        {"TS", js_tbl_start, 0},  {"EQ", rq_eq, 0},
    {"PS", rq_ps, 0},
};

/* Handled only when the page does not define a macro of the same name:
 * groff extensions and the macros of common preambles. */
static const rq_entry fallbacks[] = {
    {"OP", rq_op, 0},         {"Sp", rq_pp, 0},
    {"Vb", js_roff_nf, 0},    {"Ve", js_roff_fi, 0},
    {"DS", js_roff_nf, 0},    {"DE", js_roff_fi, 0},
    {"CS", js_roff_nf, 0},    {"CE", js_roff_fi, 0},
};

/* ------------------------------------------------------------------
 * Control lines
 * ---------------------------------------------------------------- */

/* Runs a control line s[0..n) (starting with "." or "'"): a man or mdoc
 * macro, a roff request or a macro of the page; anything else is ignored,
 * as roff does. */
void js_man_request(man *m, const char *s, size_t n)
{
    size_t i = 1, a;
    while (i < n && is_space(s[i]))
        i++;
    a = i;
    while (i < n && !is_space(s[i]) && s[i] != '\\')
        i++;
    if (i == a || i - a >= 32)
        return; /* "." alone, ".\}", or not a name */
    char name[32];
    memcpy(name, s + a, i - a);
    name[i - a] = 0;

    margs args;
    memset(&args, 0, sizeof args);
    rq_call c = {name, s[0] == '\'', &args, s + i, n - i};
    const rq_entry *rq =
        js_roff_find(man_macros, sizeof man_macros / sizeof *man_macros, name);
    if (!rq)
        rq = js_roff_request(name);
    if (rq) {
        if (!rq->raw)
            js_roff_parse_args(c.rest, c.rn, &args);
        rq->run(m, &c);
        goto done;
    }
    js_roff_parse_args(c.rest, c.rn, &args);
    if (m->mdoc && js_mdoc_request(m, name, &args))
        goto done;
    mdef *d;
    if (!strcmp(name, "Dd")) {
        m->mdoc = 1;
    } else if (!strcmp(name, "Sh")) {
        rq_ss(m, &c); /* pod2man's subsection macro: a heading for us */
    } else if ((d = js_roff_def_find(m, name, i - a)) != NULL) {
        if (d->body)
            js_roff_call_macro(m, d, &args);
        else if (d->val) /* a string called as a macro: its text */
            js_roff_put(m, d->val, strlen(d->val));
    } else if ((rq = js_roff_find(fallbacks,
                                  sizeof fallbacks / sizeof *fallbacks,
                                  name)) != NULL) {
        rq->run(m, &c);
    }
    /* else an unknown macro or request: roff ignores it */
done:
    js_roff_done(m, &args.store);
}

/* ------------------------------------------------------------------
 * The format
 * ---------------------------------------------------------------- */

/* Returns 1 if s[0..n) ends in an escaped newline (an odd number of
 * backslashes). */
static int continued(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && s[n - 1 - k] == '\\')
        k++;
    return k % 2 == 1;
}

/* The parse function of js_format_man: reads src line by line, joining
 * escaped newlines, and feeds the interpreter.  Returns 0, the sink's
 * non-zero value, the source's error, or JS_ENOMEM (reported). */
static int man_parse(js_source *src, js_sink *k)
{
    man *m = calloc(1, sizeof *m);
    rbuf join = {0};
    const char *line;
    size_t len;
    int r, joining = 0, rc;
    if (!m) {
        js_sink_warn(k, 0, UINT64_MAX, "out of memory");
        return JS_ENOMEM;
    }
    m->page_budget = MAN_PAGE_EXPANSION;
    m->src = src;
    m->k = k;
    m->at_break = 1;
    while ((r = js_source_line(src, &line, &len)) == 1) {
        if (!joining)
            m->offset = js_source_offset(src);
        m->lineno = js_source_lineno(src);
        m->budget = MAN_LINE_BUDGET;
        /* An escaped newline joins lines, except in an ignored block,
         * whose end line must not be swallowed. */
        int cont = m->defining != DEF_IGNORE && !m->esc_off &&
                   continued(line, len);
        if (cont || joining) {
            rb_add(&join, line, cont ? len - 1 : len);
            if (cont && join.b.len < JS_LINE_MAX_BYTES && !join.b.oom) {
                joining = 1;
                continue;
            }
            joining = 0;
            js_roff_feed(m, js_buf_str(&join.b), join.b.len);
            if (join.b.oom && !m->rc)
                m->rc = JS_ENOMEM;
            js_buf_clear(&join.b);
        } else {
            js_roff_feed(m, line, len);
        }
        if (m->rc)
            break;
    }
    if (joining && !m->rc)
        js_roff_feed(m, js_buf_str(&join.b), join.b.len);
    js_buf_free(&join.b);
    if (!m->rc && r < 0)
        m->rc = r; /* the source has reported it */
    if (!m->rc) {
        if (m->defining)
            js_roff_warn(m, "unterminated .%s block (from line %llu)",
                         m->def_what, (unsigned long long)m->def_line);
        if (m->skip > 0)
            js_roff_warn(m, "unterminated \\{ block at end of page");
        if (m->tbl)
            js_roff_warn(m, "unterminated table (.TS on line %llu)",
                         (unsigned long long)m->tbl_line);
    }
    if (m->rc == JS_ENOMEM)
        js_sink_warn(k, m->lineno, m->offset, "out of memory");
    rc = m->rc;
    js_roff_free(m);
    return rc;
}

/* Returns how sure it is that head[0..len) is a roff man page: 80 when
 * the first non-blank line is .TH, .Dd, a roff comment or a .so link, or
 * a .TH line comes within the first 2 KiB; 60 when it is .ig or .de (and
 * no .TH comes early); else 0. */
static int man_sniff(const char *head, size_t len)
{
    static const char *const starts[] = {".TH", ".Dd", ".\\\"", "'\\\"",
                                         ".so "};
    size_t i = 0;
    while (i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' ||
                       head[i] == '\r'))
        i++;
    for (size_t k = 0; k < sizeof starts / sizeof *starts; k++) {
        size_t sl = strlen(starts[k]);
        if (len - i >= sl && !memcmp(head + i, starts[k], sl))
            return 80;
    }
    size_t lim = len < 2048 ? len : 2048;
    for (size_t p = 0; p + 4 <= lim; p++)
        if ((p == 0 || head[p - 1] == '\n') && !memcmp(head + p, ".TH", 3) &&
            (head[p + 3] == ' ' || head[p + 3] == '\t'))
            return 80;
    /* groff's own pages open with a licence in .ig or with macro
     * definitions: roff, if less surely a man page */
    if (len - i >= 4 && !memcmp(head + i, ".ig", 3) &&
        (head[i + 3] == '\n' || head[i + 3] == '\r' || is_space(head[i + 3])))
        return 60;
    if (len - i >= 4 && !memcmp(head + i, ".de ", 4))
        return 60;
    return 0;
}

/* Section numbers and the suffixes Debian and others give them. */
static const char *const man_extensions[] = {
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "n", "l", "man", "0p",
    "1p", "3p", "1m", "1x", "3x", "4x", "5x", "6x", "7x", "8x", "3pm",
    "3perl", "1ssl", "3ssl", "5ssl", "7ssl", "3tcl", "3tk", "7tcl", "3ncurses",
    "3form", "3menu", "3bsd", "3posix", "1posix", "3am", "3o", "1g", "3g",
    "8c", "3mpi", "1mh", "5mh", "3caca", "3avr", "3blt", "3itcl", "3edit",
    "3readline", "3lua", "mdoc", NULL};

const js_format js_format_man = {"man", man_extensions, man_sniff,
                                 man_parse};

