/*
 * fmt_roff.h — what the four files of the man page format share: the
 * interpreter's limits and state, its text buffers, the request table's
 * types, and the functions they call in each other.
 *
 *   fmt_roff.c  the roff interpreter: escapes, strings, registers,
 *               conditionals, user macros, roff requests, text output
 *   fmt_tbl.c   tbl(1) tables
 *   fmt_mdoc.c  mdoc(7) macros
 *   fmt_man.c   man(7) macros, the dispatch of control lines and the
 *               format's entry points (js_format_man)
 *
 * Private to those four files; fmt_man.h is the small interface the
 * tests use, and stays free of the interpreter's state.
 */
#ifndef JS_FMT_ROFF_H
#define JS_FMT_ROFF_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ingest.h"

/* Limits */
#define MAN_MAX_DEPTH 32       /* nested macro calls */
#define MAN_MAX_NEST 16        /* strings within strings, escapes within
                                  escape arguments, parentheses */
#define MAN_MAX_ARGS 64        /* macro arguments kept */
#define MAN_MAX_DEFS 1024      /* strings, macros, registers: each (pages
                                  define a few dozen; lookups are linear) */
#define MAN_MAX_DEF_BYTES (1u << 20) /* one macro body or string */
#define MAN_LINE_BUDGET 20000  /* macro body lines one input line may run */
/* Bytes of macro lines and strings a whole page may expand to.  The
 * limits above bound one input line; without this, every line of a
 * small page could call a recursive macro or a 1 MiB string (an 8 KB
 * page ran for minutes).  Real pages expand to far less. */
#define MAN_PAGE_EXPANSION ((long long)16 << 20)
#define MAN_BUF_MAX (2 * (size_t)JS_LINE_MAX_BYTES) /* one expanded line */
#define MAN_MAX_ESCAPE_WARNINGS 10 /* per page */
#define MAN_MAX_LINE_NESTING 128 /* requests within requests and macros */

/* ------------------------------------------------------------------
 * Growable strings
 * ---------------------------------------------------------------- */

/* Text being built: a js_buf, kept NUL-terminated by its text appends,
 * that holds at most MAN_BUF_MAX bytes (one expanded line). */
typedef struct {
    js_buf b; /* b.oom: an allocation failed, the text is incomplete */
    int full; /* text was dropped at MAN_BUF_MAX */
} rbuf;

/* Appends s[0..n) to t; on failure sets t->b.oom (or t->full past
 * MAN_BUF_MAX) and drops the text.  t->b belongs to t: whoever owns t
 * frees it (js_roff_done for scratch buffers). */
static inline void rb_add(rbuf *t, const char *s, size_t n)
{
    if (t->b.oom || n == 0)
        return;
    if (t->b.len + n > MAN_BUF_MAX) {
        t->full = 1;
        return;
    }
    js_buf_text(&t->b, s, n);
}

/* Appends the NUL-terminated s to t. */
static inline void rb_puts(rbuf *t, const char *s)
{
    rb_add(t, s, strlen(s));
}

/* Copies s[0..n) into a new NUL-terminated string (caller frees), or
 * returns NULL when memory runs out. */
static inline char *dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

/* Returns 1 for the blanks that separate roff arguments. */
static inline int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* ------------------------------------------------------------------
 * Interpreter state
 * ---------------------------------------------------------------- */

/* A macro body: copy-mode lines, shared by reference so that a macro can
 * be redefined or removed while it runs. */
typedef struct {
    size_t refs, n, cap, bytes;
    char **line;
} mbody;

typedef struct {
    char *name;
    size_t len;    /* of name */
    char *val;     /* strings (.ds) */
    mbody *body;   /* macros (.de) */
} mdef;

typedef struct {
    char *name;
    size_t len; /* of name */
    long val;
} mreg;

/* Macro arguments: each NUL-terminated in store, found by offset so that
 * store may grow. */
typedef struct {
    rbuf store;
    size_t off[MAN_MAX_ARGS], len[MAN_MAX_ARGS];
    size_t n;
} margs;

/* One running macro: its arguments (from `first` on, after .shift). */
typedef struct {
    const margs *a;
    size_t first;
    const char *name;
    int ret; /* .return was seen */
} frame;

enum { DEF_NONE, DEF_MACRO, DEF_IGNORE };
enum { TBL_NONE, TBL_OPTS, TBL_FORMAT, TBL_DATA };

typedef struct man {
    js_source *src; /* NULL when only escapes are interpreted */
    js_sink *k;
    int rc; /* first sink error or JS_ENOMEM: stops everything */
    uint64_t lineno, offset; /* of the input line being read */

    /* output */
    int nofill;     /* .nf: every input line is an output line */
    int at_break;   /* nothing written since the last break */
    int last_cjk;   /* the last character written was CJK */
    int join;       /* the previous line ended in \c: no space, no break */
    int cflag;      /* \c seen in the line being expanded */
    long centre;    /* .ce: lines left to keep apart */
    uint64_t emitted; /* pieces of text written, to see what a line did */
    int tp_pending;   /* .TP: break after the next line with text */
    uint64_t tp_mark;
    int head_level; /* .SH/.SS without arguments: the next text line */
    uint64_t head_offset;
    rbuf head;
    rbuf url; /* .UR/.MT address until .UE/.ME */

    /* interpretation */
    int mdoc;       /* .Dd seen: mdoc(7) macros */
    int sm_off;     /* mdoc .Sm off: words are not spaced */
    char *nm;       /* mdoc: the name from the first .Nm */
    int esc_off;    /* .eo: backslash is an ordinary character */
    mdef *defs;
    size_t ndefs, capdefs;
    mreg *regs;
    size_t nregs, capregs;
    struct {
        char *from; /* special character name */
        char *to;   /* its replacement, as roff text */
    } tr[32];
    size_t ntr;
    int ie[32]; /* .ie results waiting for their .el */
    size_t nie;
    long skip; /* skipping a false \{ ... \} block: its depth */
    int defining;   /* DEF_MACRO: lines go into def; DEF_IGNORE: dropped */
    size_t def;     /* index in defs */
    char def_end[64];
    char def_what[32]; /* the request that opened the block */
    uint64_t def_line;
    int tbl;
    char tbl_tab;
    int tbl_block; /* inside T{ ... T} */
    uint64_t tbl_line; /* of the .TS */
    frame *fr[MAN_MAX_DEPTH];
    int depth;
    long budget;
    long long page_budget; /* MAN_PAGE_EXPANSION, counted down */
    int nesting; /* process_line calls on the stack */
    int warned_depth, warned_budget, warned_full, warned_defs, warned_nesting;
    int warned_page;
    int escape_warnings; /* reported so far; a garbled page stops at a few */
} man;

/* Records a sink call's result: the first non-zero one stops the parse. */
static inline void sink_rc(man *m, int rc)
{
    if (rc && !m->rc)
        m->rc = rc;
}

/* Returns argument i of a (NUL-terminated, owned by a), "" if missing. */
static inline const char *arg(const margs *a, size_t i)
{
    return i < a->n && a->store.b.p ? js_buf_str(&a->store.b) + a->off[i]
                                    : "";
}

/* Returns the length of argument i of a, 0 if missing. */
static inline size_t arglen(const margs *a, size_t i)
{
    return i < a->n ? a->len[i] : 0;
}

/* A request or built-in macro being run. */
typedef struct {
    const char *name; /* as written: "SH", "ds1", ... */
    int nobreak;      /* called with the no-break control character ' */
    const margs *args; /* its arguments; none for a raw entry */
    const char *rest;  /* the rest of its line, after the name */
    size_t rn;         /* length of rest */
} rq_call;

/* Runs one request or built-in macro. */
typedef void rq_fn(man *m, const rq_call *c);

typedef struct {
    const char *name;
    rq_fn *run;
    int raw; /* reads the rest of its line itself, unsplit */
} rq_entry;

/* ------------------------------------------------------------------
 * fmt_roff.c
 * ---------------------------------------------------------------- */

/* Reports a problem at the current input line (when there is a sink). */
void js_roff_warn(man *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Checks a scratch buffer after use: running out of memory stops the
 * parse; an over-long expansion is reported once.  Frees the buffer. */
void js_roff_done(man *m, rbuf *b);

/* Returns the string or macro called name[0..len), or NULL. */
mdef *js_roff_def_find(man *m, const char *name, size_t len);

/* Appends the text of s[0..n) with its escapes interpreted to out;
 * depth counts the expansions it is nested in (0 at the top). */
void js_roff_expand(man *m, const char *s, size_t n, rbuf *out, int depth);

/* Output: a break; the title "NAME(SECTION)" from arguments 0 and 1 of
 * a (see fmt_roff.c); a heading of `level` from t[0..n) starting at offset;
 * one line of text t[0..n) (see fmt_roff.c); s[0..n) expanded and written
 * as one line; arguments first.. of a expanded, joined by sep (NULL:
 * nothing), into t or written as one line. */
void js_roff_break(man *m);
void js_roff_title(man *m, const margs *a, int keep_empty);
void js_roff_heading(man *m, int level, const char *t, size_t n,
                     uint64_t offset);
void js_roff_text(man *m, const char *t, size_t n);
void js_roff_put(man *m, const char *s, size_t n);
void js_roff_expand_args(man *m, const margs *a, size_t first,
                         const char *sep, rbuf *t);
void js_roff_put_args(man *m, const margs *a, size_t first,
                      const char *sep);

/* Splits macro arguments from s[0..n) into a; appends one argument. */
void js_roff_parse_args(const char *s, size_t n, margs *a);
void js_roff_add_arg(margs *a, const char *s, size_t n);

/* Runs the user macro d with arguments a. */
void js_roff_call_macro(man *m, mdef *d, const margs *a);

/* Starts collecting a block of `kind` (DEF_MACRO or DEF_IGNORE), opened
 * by request `what`, up to a line ".end" (end "." means ".."). */
void js_roff_start_block(man *m, int kind, const char *what,
                         const char *end, size_t endlen);

/* Takes one logical input line (continuations joined), from the page or
 * from a macro body: collects it into a block, skips it, or runs it. */
void js_roff_feed(man *m, const char *s, size_t n);

/* Returns the roff request called name, or NULL. */
const rq_entry *js_roff_request(const char *name);

/* Returns the entry called name in t[0..n), or NULL. */
const rq_entry *js_roff_find(const rq_entry *t, size_t n, const char *name);

/* .nf/.fi (and the macros that mean them): no-fill and fill mode. */
void js_roff_nf(man *m, const rq_call *c);
void js_roff_fi(man *m, const rq_call *c);

/* Frees m and everything it holds. */
void js_roff_free(man *m);

/* ------------------------------------------------------------------
 * fmt_tbl.c, fmt_mdoc.c, fmt_man.c
 * ---------------------------------------------------------------- */

/* .TS: a table starts; the lines up to .TE go to js_tbl_line. */
void js_tbl_start(man *m, const rq_call *c);

/* Handles a line inside .TS/.TE; returns 0 when it is ordinary roff (a
 * request, or text inside T{ ... T}) for the interpreter to run. */
int js_tbl_line(man *m, const char *s, size_t n);

/* Handles an mdoc macro line; returns 0 if `name` is not one. */
int js_mdoc_request(man *m, const char *name, const margs *a);

/* Runs a control line s[0..n) (starting with "." or "'"): a man or mdoc
 * macro, a roff request or a macro of the page; anything else is
 * ignored, as roff does. */
void js_man_request(man *m, const char *s, size_t n);

#endif /* JS_FMT_ROFF_H */
