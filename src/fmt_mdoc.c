/*
 * fmt_mdoc.c — mdoc(7) macros, in a simple way.
 *
 * In:  the control lines of a page that started with .Dd: a macro name
 *      and its arguments (js_mdoc_request).
 * Out: the title from .Dt ("TEST(1)"), a heading per .Sh/.Ss, breaks for
 *      paragraphs, lists and displays (.Bd -literal is no-fill), and body
 *      text: inline macros rendered as the words and punctuation they
 *      stand for (Op -> [...], Fl -> -, Xr -> name(section), Fn ->
 *      name(args)), the rest of their arguments kept.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fmt_roff.h"

enum {
    MD_PLAIN, /* the macro name goes, its arguments stay */
    MD_FL,    /* "-" joined to the next word */
    MD_ENCL,  /* encloses the rest of the line */
    MD_OPEN,  /* an opening character */
    MD_CLOSE, /* a closing character */
    MD_NS,    /* no space before the next word */
    MD_PF,    /* the next word is joined to the one after it */
    MD_XR,    /* name(section) */
    MD_NM,    /* the page's name */
    MD_FN,    /* name(arg, ...) */
    MD_WORD,  /* a fixed word, then the arguments */
    MD_DROP   /* nothing */
};

static const struct {
    const char *name;
    int kind;
    const char *open, *close; /* MD_ENCL/OPEN/CLOSE/WORD */
} mdoc_inline[] = {
    {"Ad", MD_PLAIN, 0, 0},   {"An", MD_PLAIN, 0, 0},
    {"Ar", MD_PLAIN, 0, 0},   {"Cd", MD_PLAIN, 0, 0},
    {"Cm", MD_PLAIN, 0, 0},   {"Dv", MD_PLAIN, 0, 0},
    {"Em", MD_PLAIN, 0, 0},   {"Er", MD_PLAIN, 0, 0},
    {"Ev", MD_PLAIN, 0, 0},   {"Fa", MD_PLAIN, 0, 0},
    {"Ft", MD_PLAIN, 0, 0},   {"Ic", MD_PLAIN, 0, 0},
    {"In", MD_PLAIN, 0, 0},   {"Li", MD_PLAIN, 0, 0},
    {"Lk", MD_PLAIN, 0, 0},   {"Ms", MD_PLAIN, 0, 0},
    {"Mt", MD_PLAIN, 0, 0},   {"No", MD_PLAIN, 0, 0},
    {"Pa", MD_PLAIN, 0, 0},   {"St", MD_PLAIN, 0, 0},
    {"Sx", MD_PLAIN, 0, 0},   {"Sy", MD_PLAIN, 0, 0},
    {"Ta", MD_PLAIN, 0, 0},   {"Tn", MD_PLAIN, 0, 0},
    {"Va", MD_PLAIN, 0, 0},   {"Vt", MD_PLAIN, 0, 0},
    {"%A", MD_PLAIN, 0, 0},   {"%B", MD_PLAIN, 0, 0},
    {"%D", MD_PLAIN, 0, 0},   {"%J", MD_PLAIN, 0, 0},
    {"%N", MD_PLAIN, 0, 0},   {"%O", MD_PLAIN, 0, 0},
    {"%P", MD_PLAIN, 0, 0},   {"%R", MD_PLAIN, 0, 0},
    {"%T", MD_PLAIN, 0, 0},   {"%V", MD_PLAIN, 0, 0},
    {"Fl", MD_FL, 0, 0},      {"Op", MD_ENCL, "[", "]"},
    {"Dq", MD_ENCL, "\xE2\x80\x9C", "\xE2\x80\x9D"},
    {"Qq", MD_ENCL, "\"", "\""},
    {"Sq", MD_ENCL, "\xE2\x80\x98", "\xE2\x80\x99"},
    {"Ql", MD_ENCL, "\xE2\x80\x98", "\xE2\x80\x99"},
    {"Pq", MD_ENCL, "(", ")"},  {"Aq", MD_ENCL, "<", ">"},
    {"Bq", MD_ENCL, "[", "]"},  {"Brq", MD_ENCL, "{", "}"},
    {"Oo", MD_OPEN, "[", 0},    {"Oc", MD_CLOSE, 0, "]"},
    {"Do", MD_OPEN, "\xE2\x80\x9C", 0},
    {"Dc", MD_CLOSE, 0, "\xE2\x80\x9D"},
    {"Qo", MD_OPEN, "\"", 0},   {"Qc", MD_CLOSE, 0, "\""},
    {"So", MD_OPEN, "\xE2\x80\x98", 0},
    {"Sc", MD_CLOSE, 0, "\xE2\x80\x99"},
    {"Po", MD_OPEN, "(", 0},    {"Pc", MD_CLOSE, 0, ")"},
    {"Ao", MD_OPEN, "<", 0},    {"Ac", MD_CLOSE, 0, ">"},
    {"Bo", MD_OPEN, "[", 0},    {"Bc", MD_CLOSE, 0, "]"},
    {"Bro", MD_OPEN, "{", 0},   {"Brc", MD_CLOSE, 0, "}"},
    {"Ns", MD_NS, 0, 0},        {"Pf", MD_PF, 0, 0},
    {"Xr", MD_XR, 0, 0},        {"Nm", MD_NM, 0, 0},
    {"Fn", MD_FN, 0, 0},        {"Ux", MD_WORD, "UNIX", 0},
    {"Bx", MD_WORD, "BSD", 0},  {"At", MD_WORD, "AT&T UNIX", 0},
    {"Fx", MD_WORD, "FreeBSD", 0}, {"Nx", MD_WORD, "NetBSD", 0},
    {"Ox", MD_WORD, "OpenBSD", 0}, {"Bsx", MD_WORD, "BSD/OS", 0},
    {"Dx", MD_WORD, "DragonFly", 0}, {"Xo", MD_DROP, 0, 0},
    {"Xc", MD_DROP, 0, 0},      {"Bk", MD_DROP, 0, 0},
    {"Ek", MD_DROP, 0, 0},      {"Sm", MD_DROP, 0, 0},
    {"Os", MD_DROP, 0, 0},      {"Dd", MD_DROP, 0, 0},
    {"Ex", MD_DROP, 0, 0},      {"Rv", MD_DROP, 0, 0},
    {"Fd", MD_PLAIN, 0, 0},     {"Fo", MD_PLAIN, 0, 0},
    {"Fc", MD_DROP, 0, 0},      {"Ef", MD_DROP, 0, 0},
    {"Es", MD_DROP, 0, 0},
    {"Ud", MD_WORD, "currently under development.", 0},
};

/* Returns the index of mdoc macro s[0..n) in mdoc_inline, or -1. */
static int mdoc_find(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof mdoc_inline / sizeof *mdoc_inline; i++)
        if (strlen(mdoc_inline[i].name) == n &&
            !memcmp(mdoc_inline[i].name, s, n))
            return (int)i;
    return -1;
}

/* Returns 1 for an argument that is only closing punctuation, written
 * without a space before it. */
static int mdoc_closing(const char *s, size_t n)
{
    return n == 1 && s[0] && strchr(".,:;)]?!", s[0]) != NULL;
}

/* Renders the words of an mdoc line (macros among them) into out. */
static void mdoc_render(man *m, const margs *a, size_t first, rbuf *out)
{
    const char *closers[16];
    size_t nclose = 0, tail = a->n;
    int nospace = 1, pf = 0;
    /* closing punctuation at the end goes after the enclosures close */
    while (tail > first && mdoc_closing(arg(a, tail - 1), arglen(a, tail - 1)))
        tail--;
    for (size_t i = first; i < a->n; i++) {
        const char *w = arg(a, i);
        size_t wl = arglen(a, i);
        if (i == tail)
            while (nclose)
                rb_puts(out, closers[--nclose]);
        int k = mdoc_find(w, wl);
        if (k >= 0) {
            switch (mdoc_inline[k].kind) {
            case MD_FL:
                if (!nospace && out->b.len)
                    rb_add(out, " ", 1);
                rb_add(out, "-", 1);
                nospace = 1;
                continue;
            case MD_ENCL:
            case MD_OPEN:
                if (!nospace && out->b.len)
                    rb_add(out, " ", 1);
                rb_puts(out, mdoc_inline[k].open);
                if (mdoc_inline[k].kind == MD_ENCL && nclose < 16)
                    closers[nclose++] = mdoc_inline[k].close;
                nospace = 1;
                continue;
            case MD_CLOSE:
                rb_puts(out, mdoc_inline[k].close);
                nospace = 0;
                continue;
            case MD_NS:
                nospace = 1;
                continue;
            case MD_PF:
                pf = 1;
                continue;
            case MD_XR:
                if (i + 1 < a->n) {
                    if (!nospace && out->b.len)
                        rb_add(out, " ", 1);
                    js_roff_expand(m, arg(a, i + 1), arglen(a, i + 1), out, 0);
                    if (i + 2 < a->n && !mdoc_closing(arg(a, i + 2),
                                                      arglen(a, i + 2))) {
                        rb_add(out, "(", 1);
                        js_roff_expand(m, arg(a, i + 2), arglen(a, i + 2),
                                       out, 0);
                        rb_add(out, ")", 1);
                        i++;
                    }
                    i++;
                    nospace = 0;
                }
                continue;
            case MD_NM:
                if (m->nm &&
                    (i + 1 >= a->n ||
                     mdoc_find(arg(a, i + 1), arglen(a, i + 1)) >= 0 ||
                     mdoc_closing(arg(a, i + 1), arglen(a, i + 1)))) {
                    if (!nospace && out->b.len)
                        rb_add(out, " ", 1);
                    js_roff_expand(m, m->nm, strlen(m->nm), out, 0);
                    nospace = 0;
                }
                continue;
            case MD_FN:
                if (i + 1 < a->n) {
                    if (!nospace && out->b.len)
                        rb_add(out, " ", 1);
                    js_roff_expand(m, arg(a, i + 1), arglen(a, i + 1), out, 0);
                    rb_add(out, "(", 1);
                    size_t j = i + 2;
                    for (; j < tail; j++) {
                        if (j > i + 2)
                            rb_add(out, ", ", 2);
                        js_roff_expand(m, arg(a, j), arglen(a, j), out, 0);
                    }
                    rb_add(out, ")", 1);
                    i = j - 1;
                    nospace = 0;
                }
                continue;
            case MD_WORD:
                if (!nospace && out->b.len)
                    rb_add(out, " ", 1);
                rb_puts(out, mdoc_inline[k].open);
                nospace = 0;
                continue;
            case MD_DROP:
                continue;
            default: /* MD_PLAIN */
                continue;
            }
        }
        if (mdoc_closing(w, wl) || m->sm_off)
            nospace = 1;
        if (!nospace && out->b.len)
            rb_add(out, " ", 1);
        js_roff_expand(m, w, wl, out, 0);
        nospace = (wl == 1 && (w[0] == '(' || w[0] == '['));
        if (pf) {
            nospace = 1;
            pf = 0;
        }
    }
    while (nclose)
        rb_puts(out, closers[--nclose]);
}

/* Handles an mdoc macro line; returns 0 if `name` is not one. */
int js_mdoc_request(man *m, const char *name, const margs *a)
{
    rbuf t = {0};
    size_t nl = strlen(name);
    if (!strcmp(name, "Dd") || !strcmp(name, "Os") || !strcmp(name, "Bk") ||
        !strcmp(name, "Ek") || !strcmp(name, "Ex") || !strcmp(name, "Rv"))
        return 1;
    if (!strcmp(name, "Sm")) {
        m->sm_off = a->n ? !strcmp(arg(a, 0), "off") : !m->sm_off;
        m->join = m->sm_off;
        return 1;
    }
    if (!strcmp(name, "Dt")) {
        js_roff_title(m, a, 1);
        return 1;
    }
    if (!strcmp(name, "Sh") || !strcmp(name, "Ss")) {
        mdoc_render(m, a, 0, &t);
        js_roff_heading(m, name[1] == 'h' ? 1 : 2, js_buf_str(&t.b), t.b.len,
                        m->offset);
        m->nofill = 0;
        js_roff_done(m, &t);
        return 1;
    }
    if (!strcmp(name, "Pp") || !strcmp(name, "Lp") || !strcmp(name, "Bl") ||
        !strcmp(name, "El") || !strcmp(name, "Rs") || !strcmp(name, "Re")) {
        js_roff_break(m);
        return 1;
    }
    if (!strcmp(name, "Bd")) {
        js_roff_break(m);
        for (size_t i = 0; i < a->n; i++)
            if (!strcmp(arg(a, i), "-literal") ||
                !strcmp(arg(a, i), "-unfilled"))
                m->nofill = 1;
        return 1;
    }
    if (!strcmp(name, "Ed")) {
        js_roff_break(m);
        m->nofill = 0;
        return 1;
    }
    if (!strcmp(name, "It") || !strcmp(name, "D1") || !strcmp(name, "Dl")) {
        js_roff_break(m);
        mdoc_render(m, a, 0, &t);
        js_roff_text(m, js_buf_str(&t.b), t.b.len);
        if (t.b.len)
            js_roff_break(m);
        js_roff_done(m, &t);
        return 1;
    }
    if (!strcmp(name, "Nd")) {
        rb_puts(&t, "- ");
        mdoc_render(m, a, 0, &t);
        js_roff_text(m, js_buf_str(&t.b), t.b.len);
        js_roff_done(m, &t);
        return 1;
    }
    if (!strcmp(name, "Nm") && a->n && !m->nm &&
        mdoc_find(arg(a, 0), arglen(a, 0)) < 0) {
        if (!(m->nm = dupn(arg(a, 0), arglen(a, 0)))) {
            m->rc = JS_ENOMEM;
            return 1;
        }
    }
    if (mdoc_find(name, nl) < 0)
        return 0;
    /* an inline macro at the start of the line: render it with the rest */
    margs all;
    memset(&all, 0, sizeof all);
    js_roff_add_arg(&all, name, nl);
    for (size_t i = 0; i < a->n; i++)
        js_roff_add_arg(&all, arg(a, i), arglen(a, i));
    mdoc_render(m, &all, 0, &t);
    js_roff_text(m, js_buf_str(&t.b), t.b.len);
    if (m->sm_off)
        m->join = 1;
    js_roff_done(m, &t);
    js_roff_done(m, &all.store);
    return 1;
}
