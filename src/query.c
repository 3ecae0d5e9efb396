/*
 * query.c — the query language (query.h): a query string -> a normalised
 * tree of AND / OR / NOT nodes whose leaves are analysed parts.
 *
 * In:  the query bytes as typed (untrusted: any bytes, any length), the
 *      index's JS_ANALYZE_* flags.
 * Out: a js_qnode tree the caller frees with js_query_free, or a JS_E*
 *      code and an English message; js_query_format renders a tree as the
 *      compact text of tests and `--explain`.
 *
 * Three steps.  A lexer cuts the bytes into tokens: parts, quoted
 * phrases, parentheses, '-' markers, field prefixes and OR.  A pre-pass
 * drops stray ')', enforces the nesting limit and decides which OR tokens
 * are operators (only those standing between two operands; the others are
 * the word "or").  A recursive-descent parser then builds the tree and
 * normalises it as it goes, so no second pass over the tree is needed:
 * every part goes through js_text_analyze exactly as the index's text did,
 * and a part without terms simply yields no node.
 *
 * Grammar (OR binds tighter than the implicit AND):
 *   group   := { alt }                      up to ')' or the end
 *   alt     := unary { OR unary }
 *   unary   := { '-' | field } primary      '-' and fields in any order
 *   primary := part | phrase | '(' group [')']
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "utf8.h"

unsigned long js_query_failpoint;

/* Every allocation of query.c and snippet.c goes through these, so that
 * the test suites can make the n-th one fail (js_query_failpoint) and
 * prove each failure path returns JS_ENOMEM without leaking. */
void *js_q_realloc(void *p, size_t n)
{
    if (js_query_failpoint && --js_query_failpoint == 0)
        return NULL;
    return realloc(p, n ? n : 1);
}

void *js_q_calloc(size_t n, size_t size)
{
    if (js_query_failpoint && --js_query_failpoint == 0)
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

int js_q_grow(void *pp, size_t *cap, size_t need, size_t elsize)
{
    void **p = pp;
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 8;
    while (c < need)
        c *= 2;
    if (c > SIZE_MAX / elsize)
        return JS_ENOMEM;
    void *n = js_q_realloc(*p, c * elsize);
    if (!n)
        return JS_ENOMEM;
    *p = n;
    *cap = c;
    return 0;
}

/* ------------------------------------------------------------------
 * Characters of the query language
 * ---------------------------------------------------------------- */

/* White space separates parts: ASCII and Unicode spaces, and also NUL and
 * the other control characters, which can only be noise in a query. */
static int is_space(uint32_t c)
{
    return c <= 0x20 || c == 0x7F || (c >= 0x80 && c <= 0xA0) ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Returns the closing quote for an opening one, or 0. */
static uint32_t quote_closer(uint32_t c)
{
    switch (c) {
    case '"':
        return '"';
    case 0xFF02: /* ＂ */
        return 0xFF02;
    case 0x201C: /* “ */
        return 0x201D;
    case 0x300C: /* 「 */
        return 0x300D;
    case 0x300E: /* 『 */
        return 0x300F;
    }
    return 0;
}

/* A closing quote with no phrase open is only a separator. */
static int is_stray_closer(uint32_t c)
{
    return c == 0x201D || c == 0x300D || c == 0x300F;
}

/* Parentheses (ASCII and full-width) and the exclusion dash ('-', '－'). */
static int is_open(uint32_t c) { return c == '(' || c == 0xFF08; }
static int is_close(uint32_t c) { return c == ')' || c == 0xFF09; }
static int is_dash(uint32_t c) { return c == '-' || c == 0xFF0D; }

/* Characters that end a part (besides the end of the query). */
static int ends_part(uint32_t c)
{
    return is_space(c) || is_open(c) || is_close(c) || quote_closer(c) ||
           is_stray_closer(c);
}

/* Decodes the character at q[i..len); an invalid byte comes back as
 * JS_UTF8_INVALID with length 1, which callers treat as part text (the
 * analysis makes it a separator). */
static size_t decode_at(const char *q, size_t len, size_t i, uint32_t *cp)
{
    return js_utf8_decode((const unsigned char *)q + i, len - i, cp);
}

/* Returns the bytes a field prefix (title:, 标题:, 標題:, with ':' or
 * '：') takes at q[i..len), or 0 when there is none. */
static size_t field_prefix(const char *q, size_t len, size_t i)
{
    static const char *const names[] = {"标题", "標題"};
    size_t n = 0;
    if (len - i >= 5) {
        /* ASCII only: tolower() would depend on the locale. */
        n = 5;
        for (size_t k = 0; k < 5 && n; k++)
            if ((q[i + k] | 0x20) != "title"[k])
                n = 0;
    }
    for (size_t k = 0; !n && k < 2; k++) {
        size_t l = strlen(names[k]);
        if (len - i >= l && !memcmp(q + i, names[k], l))
            n = l;
    }
    if (!n)
        return 0;
    if (len - i > n && q[i + n] == ':')
        return n + 1;
    if (len - i >= n + 3 && !memcmp(q + i + n, "\xEF\xBC\x9A", 3)) /* ： */
        return n + 3;
    return 0;
}

/* ------------------------------------------------------------------
 * Lexer and pre-pass
 * ---------------------------------------------------------------- */

typedef enum {
    LX_PART,   /* [start, end): a part's text */
    LX_PHRASE, /* [start, end): a phrase's text, quotes excluded */
    LX_OPEN,
    LX_CLOSE,
    LX_NOT,
    LX_FIELD,
    LX_OR /* a part reading exactly "OR" */
} lx_kind;

typedef struct {
    lx_kind kind;
    size_t start, end;
} lx_tok;

/* Cuts q[0..len) into tokens in t (room for len + 1, enough since every
 * token takes at least one byte).  Returns the number of tokens. */
static size_t lex(const char *q, size_t len, lx_tok *t)
{
    size_t n = 0, i = 0;
    while (i < len) {
        uint32_t c;
        size_t cl = decode_at(q, len, i, &c);
        if (is_space(c) || is_stray_closer(c)) {
            i += cl;
        } else if (is_open(c) || is_close(c)) {
            t[n++] = (lx_tok){is_open(c) ? LX_OPEN : LX_CLOSE, i, i + cl};
            i += cl;
        } else if (quote_closer(c)) {
            /* A phrase runs to its own closing quote or, unclosed, to the
             * end of the query. */
            uint32_t want = quote_closer(c), d = 0;
            size_t s = i + cl, j = s, dl = 0;
            while (j < len) {
                dl = decode_at(q, len, j, &d);
                if (d == want)
                    break;
                j += dl;
            }
            t[n++] = (lx_tok){LX_PHRASE, s, j};
            i = j < len ? j + dl : len;
        } else if (is_dash(c)) {
            /* '-' excludes only at the start of a part and only when an
             * operand follows at once; "--x" is "-x", a lone '-' nothing. */
            size_t j = i;
            while (j < len) {
                size_t dl = decode_at(q, len, j, &c);
                if (!is_dash(c))
                    break;
                j += dl;
            }
            if (j < len && !is_space(c) && !is_close(c) && !is_stray_closer(c))
                t[n++] = (lx_tok){LX_NOT, i, j};
            i = j;
        } else if (field_prefix(q, len, i)) {
            size_t fl = field_prefix(q, len, i);
            t[n++] = (lx_tok){LX_FIELD, i, i + fl};
            i += fl;
        } else {
            size_t j = i;
            while (j < len) {
                size_t dl = decode_at(q, len, j, &c);
                if (ends_part(c))
                    break;
                j += dl;
            }
            int is_or = j - i == 2 && q[i] == 'O' && q[i + 1] == 'R';
            t[n++] = (lx_tok){is_or ? LX_OR : LX_PART, i, j};
            i = j;
        }
    }
    return n;
}

/* Whether a token of kind k can end an operand / begin one (for the OR
 * test of the pre-pass). */
static int ends_operand(lx_kind k)
{
    return k == LX_PART || k == LX_PHRASE || k == LX_CLOSE;
}

static int starts_operand(lx_kind k)
{
    return k == LX_PART || k == LX_PHRASE || k == LX_OPEN || k == LX_NOT ||
           k == LX_FIELD;
}

/* Drops ')' that close nothing and checks the depth of '('; then turns
 * every OR that does not stand between two operands (at either end, next
 * to a parenthesis that does not close or open an operand, doubled) into
 * the part "OR".  Decisions read the kinds before any change, so that in
 * "a OR OR b" both ORs are words.  Returns the new token count, or
 * (size_t)-1 when the nesting is too deep. */
static size_t prepass(lx_tok *t, size_t n)
{
    size_t m = 0, depth = 0;
    for (size_t k = 0; k < n; k++) {
        if (t[k].kind == LX_OPEN && ++depth > JS_QUERY_MAX_DEPTH)
            return (size_t)-1;
        if (t[k].kind == LX_CLOSE) {
            if (depth == 0)
                continue;
            depth--;
        }
        t[m++] = t[k];
    }
    /* Mark the ORs to demote with a kind no other token has, then demote:
     * marking first keeps the neighbours' original kinds for the test. */
    const lx_kind demote = (lx_kind)(LX_OR + 1);
    for (size_t k = 0; k < m; k++) {
        if (t[k].kind != LX_OR)
            continue;
        int op = k > 0 && ends_operand(t[k - 1].kind) && k + 1 < m &&
                 starts_operand(t[k + 1].kind);
        if (!op)
            t[k].kind = demote;
    }
    for (size_t k = 0; k < m; k++)
        if (t[k].kind == demote)
            t[k].kind = LX_PART;
    return m;
}

/* ------------------------------------------------------------------
 * Leaves: a part's text -> units and grams
 * ---------------------------------------------------------------- */

typedef struct {
    js_token_kind kind;
    uint32_t pos;
    size_t off, len; /* term bytes in the collector's pool */
} ltok;

typedef struct {
    ltok *v;
    size_t n, cap;
    char *pool;
    size_t pool_len, pool_cap;
} collector;

/* js_token_fn: copies each token (its term into the pool). */
static int collect_token(void *ctx, const js_token *t)
{
    collector *c = ctx;
    if (js_q_grow(&c->v, &c->cap, c->n + 1, sizeof *c->v) ||
        js_q_grow(&c->pool, &c->pool_cap, c->pool_len + t->term_len, 1))
        return JS_ENOMEM;
    memcpy(c->pool + c->pool_len, t->term, t->term_len);
    c->v[c->n++] = (ltok){t->kind, t->position, c->pool_len, t->term_len};
    c->pool_len += t->term_len;
    return 0;
}

/* Fills *u with a copy of token k at a position relative to base.
 * Returns 0 or JS_ENOMEM (u->term stays NULL). */
static int make_unit(js_qunit *u, const collector *c, size_t k, uint32_t base)
{
    const ltok *t = &c->v[k];
    u->term = js_q_realloc(NULL, t->len + 1);
    if (!u->term)
        return JS_ENOMEM;
    memcpy(u->term, c->pool + t->off, t->len);
    u->term[t->len] = 0;
    u->len = (uint32_t)t->len;
    u->rel = t->pos - base;
    u->kind = t->kind;
    return 0;
}

/* Frees an array of n units and their terms; NULL is fine. */
static void free_units(js_qunit *u, uint32_t n)
{
    if (!u)
        return;
    for (uint32_t k = 0; k < n; k++)
        free(u[k].term);
    free(u);
}

/* A gram candidate for sorting: its token's kind, term and position,
 * and the token's index.  The comparator needs no context, which keeps
 * js_query_parse reentrant (no qsort_r). */
typedef struct {
    const char *term;
    size_t len, idx;
    uint32_t pos;
    js_token_kind kind;
} gsort;

/* Compares kind and term only: 0 for the same gram. */
static int cmp_gram_term(const gsort *x, const gsort *y)
{
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return memcmp(x->term, y->term, x->len);
}

/* For qsort: by kind and term, then by position, so that the first of
 * each run of equal terms is the one to keep. */
static int cmp_gram(const void *a, const void *b)
{
    const gsort *x = a, *y = b;
    int d = cmp_gram_term(x, y);
    if (d)
        return d;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    return 0;
}

static void free_node(js_qnode *q);

/* Copies q[start, end) for a leaf's text, NUL-terminated, with each
 * invalid byte and each NUL replaced by U+FFFD so that the text is a valid
 * C string of UTF-8 (the analysis, done on the original bytes, treats all
 * of them as separators, and so it would U+FFFD).  Returns the malloc'ed
 * copy or NULL. */
static char *clean_text(const char *q, size_t start, size_t end)
{
    char *s = js_q_realloc(NULL, (end - start) * 3 + 1);
    if (!s)
        return NULL;
    size_t o = 0;
    for (size_t i = start; i < end;) {
        uint32_t c;
        size_t l = decode_at(q, end, i, &c);
        if (c == JS_UTF8_INVALID || c == 0) {
            memcpy(s + o, "\xEF\xBF\xBD", 3);
            o += 3;
        } else {
            memcpy(s + o, q + i, l);
            o += l;
        }
        i += l;
    }
    s[o] = 0;
    return s;
}

/* Analyses q[start, end) into a leaf.  Returns the leaf, or NULL with
 * *rc == 0 when the text has no term (the part is dropped), or NULL with
 * *rc == JS_ENOMEM.  The caller owns the leaf. */
static js_qnode *make_leaf(const char *q, size_t start, size_t end,
                           unsigned analyze_flags, int quoted, int heading,
                           int *rc)
{
    collector c = {0};
    js_qnode *leaf = NULL;
    size_t *ucand = NULL, *gcand = NULL, nu = 0, ng = 0;
    gsort *gs = NULL;
    js_analyze_options o = JS_ANALYZE_OPTIONS_INIT;
    o.flags = analyze_flags;
    *rc = js_text_analyze(q + start, end - start, &o, collect_token, &c);
    if (*rc || c.n == 0)
        goto out;
    *rc = JS_ENOMEM;
    /* At most one unit and one gram per token. */
    ucand = js_q_calloc(c.n, sizeof *ucand);
    gcand = js_q_calloc(c.n, sizeof *gcand);
    if (!ucand || !gcand)
        goto out;

    /* Walk the stream: a word stands alone; a unigram opens a CJK run,
     * which goes on while a bigram at the current position is followed by
     * the unigram of the next one (text.c emits u@p, b@p, u@p+1, ...). */
    for (size_t i = 0; i < c.n;) {
        if (c.v[i].kind != JS_TOKEN_UNIGRAM) {
            /* A word, or a bigram without its unigram, which text.c never
             * emits; either stands for itself. */
            ucand[nu++] = i;
            gcand[ng++] = i;
            i++;
            continue;
        }
        size_t first = i, nbi = 0, bfirst = 0;
        uint32_t cur = c.v[i].pos;
        i++;
        while (i < c.n && c.v[i].kind == JS_TOKEN_BIGRAM &&
               c.v[i].pos == cur) {
            if (nbi++ == 0)
                bfirst = i;
            gcand[ng++] = i;
            i++;
            if (i < c.n && c.v[i].kind == JS_TOKEN_UNIGRAM &&
                c.v[i].pos == cur + 1) {
                cur++;
                i++;
            } else {
                break;
            }
        }
        if (nbi == 0) {
            ucand[nu++] = first;
            gcand[ng++] = first;
            continue;
        }
        /* Bigrams of the run sit at token indices bfirst + 2k; take every
         * other one, then the last if the stride skipped it. */
        for (size_t k = 0; k < nbi; k += 2)
            ucand[nu++] = bfirst + 2 * k;
        if (nbi % 2 == 0)
            ucand[nu++] = bfirst + 2 * (nbi - 1);
    }

    /* Units come out in position order, one per position; the sort by rel
     * then kind that query.h promises already holds. */
    leaf = js_q_calloc(1, sizeof *leaf);
    if (!leaf)
        goto out;
    leaf->op = JS_Q_LEAF;
    leaf->quoted = quoted;
    leaf->heading_only = heading;
    if (!(leaf->text = clean_text(q, start, end)))
        goto out;
    uint32_t base = c.v[0].pos;
    if (!(leaf->units = js_q_calloc(nu, sizeof *leaf->units)))
        goto out;
    for (size_t k = 0; k < nu; k++) {
        if (make_unit(&leaf->units[k], &c, ucand[k], base))
            goto out;
        leaf->nunits++;
    }
    const js_qunit *last = &leaf->units[nu - 1];
    leaf->span = last->rel + (last->kind == JS_TOKEN_BIGRAM ? 2 : 1);

    /* Grams without duplicates: sort the candidates by term, keep the
     * first position of each term, then restore position order by marking
     * the kept token indices (in ucand, no longer needed). */
    if (!(gs = js_q_calloc(ng, sizeof *gs)))
        goto out;
    for (size_t k = 0; k < ng; k++) {
        const ltok *t = &c.v[gcand[k]];
        gs[k] = (gsort){c.pool + t->off, t->len, gcand[k], t->pos, t->kind};
    }
    qsort(gs, ng, sizeof *gs, cmp_gram);
    memset(ucand, 0, c.n * sizeof *ucand);
    for (size_t k = 0; k < ng; k++) {
        if (k == 0 || cmp_gram_term(&gs[k], &gs[k - 1]))
            ucand[gs[k].idx] = 1;
    }
    if (!(leaf->grams = js_q_calloc(ng, sizeof *leaf->grams)))
        goto out;
    for (size_t i = 0; i < c.n; i++) {
        if (!ucand[i])
            continue;
        if (make_unit(&leaf->grams[leaf->ngrams], &c, i, base))
            goto out;
        leaf->ngrams++;
    }
    *rc = 0;
out:
    if (*rc) {
        free_node(leaf);
        leaf = NULL;
    }
    free(ucand);
    free(gcand);
    free(gs);
    free(c.v);
    free(c.pool);
    return leaf;
}

/* ------------------------------------------------------------------
 * Tree building with normalisation
 * ---------------------------------------------------------------- */

/* Frees a node, its fields and, recursively, its children; NULL is
 * fine.  Callers that moved the children elsewhere set nkids to 0 first. */
static void free_node(js_qnode *q)
{
    if (!q)
        return;
    free(q->text);
    free_units(q->units, q->nunits);
    free_units(q->grams, q->ngrams);
    free_units(q->exp, q->nexp);
    for (uint32_t k = 0; k < q->nkids; k++)
        free_node(q->kids[k]);
    free(q->kids);
    free(q);
}

void js_query_free(js_qnode *q) { free_node(q); }

/* An AND all of whose children are NOTs: what a group of exclusions only
 * gives before it is flattened into its parent. */
static int only_excludes(const js_qnode *q)
{
    if (q->op == JS_Q_NOT)
        return 1;
    if (q->op != JS_Q_AND)
        return 0;
    for (uint32_t k = 0; k < q->nkids; k++)
        if (q->kids[k]->op != JS_Q_NOT)
            return 0;
    return 1;
}

typedef struct {
    const char *q;
    lx_tok *t;
    size_t n, i;
    unsigned flags;
    int rc;
    const char *msg; /* for rc == JS_EINVALID */
    char msgbuf[96]; /* a message made for this query (msg points here) */
} parser;

/* Appends kid (owned; NULL is a dropped part and ignored) to *into, which
 * is created as an op node on first use; a kid of the same operator is
 * flattened into it.  On failure frees kid, sets p->rc and returns -1
 * (*into still owned by the caller). */
static int add_kid(parser *p, js_qnode **into, js_qop op, js_qnode *kid,
                   size_t *cap)
{
    if (!kid)
        return 0;
    if (!*into) {
        *into = js_q_calloc(1, sizeof **into);
        if (!*into)
            goto fail;
        (*into)->op = op;
        *cap = 0;
    }
    js_qnode *n = *into;
    uint32_t add = kid->op == op ? kid->nkids : 1;
    if (js_q_grow(&n->kids, cap, (size_t)n->nkids + add, sizeof *n->kids))
        goto fail;
    if (kid->op == op) {
        memcpy(n->kids + n->nkids, kid->kids, add * sizeof *kid->kids);
        n->nkids += add;
        kid->nkids = 0; /* the grandchildren now belong to n */
        free_node(kid);
    } else {
        n->kids[n->nkids++] = kid;
    }
    return 0;
fail:
    free_node(kid);
    p->rc = JS_ENOMEM;
    return -1;
}

/* A node of 0 children is nothing, of 1 is that child. */
static js_qnode *finish(js_qnode *n)
{
    if (!n || n->nkids >= 2)
        return n;
    js_qnode *only = n->nkids ? n->kids[0] : NULL;
    n->nkids = 0;
    free_node(n);
    return only;
}

static js_qnode *parse_group(parser *p, int heading);

/* The bytes of a '*' (ASCII or full-width ＊) that ends q[start, end), or
 * 0. */
static size_t star_before(const char *q, size_t start, size_t end)
{
    if (end - start >= 1 && q[end - 1] == '*')
        return 1;
    if (end - start >= 3 && !memcmp(q + end - 3, "\xEF\xBC\x8A", 3))
        return 3;
    return 0;
}

/* js_token_fn: keeps the last token's kind and byte range. */
typedef struct {
    js_token_kind kind;
    size_t start, end, n;
} last_tok;

static int note_last(void *ctx, const js_token *t)
{
    last_tok *l = ctx;
    l->kind = t->kind;
    l->start = t->start;
    l->end = t->end;
    l->n++;
    return 0;
}

/* Joins a and b (either may be NULL) under an AND.  Returns the node, or
 * NULL with p->rc set (both freed). */
static js_qnode *and_of(parser *p, js_qnode *a, js_qnode *b)
{
    js_qnode *n = NULL;
    size_t cap = 0;
    if (add_kid(p, &n, JS_Q_AND, a, &cap)) {
        free_node(n); /* made before the failure, perhaps */
        free_node(b);
        return NULL;
    }
    if (add_kid(p, &n, JS_Q_AND, b, &cap)) {
        free_node(n);
        return NULL;
    }
    return finish(n);
}

/* A part (not a phrase) q[start, end): a leaf, unless it ends with '*'
 * right after a word, which makes that word a prefix leaf (query.h);
 * then the text before the word, if it has terms, is a leaf ANDed with
 * it.  Returns like make_leaf; a prefix shorter than JS_PREFIX_MIN_CHARS
 * sets p->rc to JS_EINVALID with p->msg. */
static js_qnode *make_part(parser *p, size_t start, size_t end, int heading)
{
    const char *q = p->q;
    size_t cut = end, sl;
    while ((sl = star_before(q, start, cut)))
        cut -= sl;
    if (cut == end)
        return make_leaf(q, start, end, p->flags, 0, heading, &p->rc);
    last_tok lt = {0};
    js_analyze_options o = JS_ANALYZE_OPTIONS_INIT;
    o.flags = p->flags;
    if ((p->rc = js_text_analyze(q + start, cut - start, &o, note_last, &lt)))
        return NULL;
    if (lt.n == 0 || lt.kind != JS_TOKEN_WORD || start + lt.end != cut)
        /* nothing, a CJK run or punctuation before the '*': the star
         * adds nothing (the analysis makes it a separator) */
        return make_leaf(q, start, end, p->flags, 0, heading, &p->rc);
    js_qnode *before = NULL;
    if (lt.n > 1) {
        before = make_leaf(q, start, start + lt.start, p->flags, 0, heading,
                           &p->rc);
        if (p->rc)
            return NULL;
    }
    js_qnode *x = make_leaf(q, start + lt.start, cut, p->flags, 0, heading,
                            &p->rc);
    if (!x) {
        free_node(before);
        return NULL;
    }
    /* the word alone, re-analysed, is one word: a prefix */
    size_t chars = 0;
    for (uint32_t i = 0; i < x->units[0].len; i++)
        chars += ((unsigned char)x->units[0].term[i] & 0xC0) != 0x80;
    if (x->nunits != 1 || x->units[0].kind != JS_TOKEN_WORD ||
        chars < JS_PREFIX_MIN_CHARS) {
        if (x->nunits == 1 && x->units[0].kind == JS_TOKEN_WORD) {
            snprintf(p->msgbuf, sizeof p->msgbuf,
                     "a prefix needs at least %d characters: '%.40s*'",
                     JS_PREFIX_MIN_CHARS, x->units[0].term);
            p->rc = JS_EINVALID;
            p->msg = p->msgbuf;
            free_node(x);
            free_node(before);
            return NULL;
        }
        /* not one word on its own (never seen: kept as typed) */
        return and_of(p, before, x);
    }
    x->prefix = 1;
    return and_of(p, before, x);
}

/* unary := { '-' | field } primary.  Returns the operand (the caller owns
 * it), or NULL when it has no term (dropped) or on error (p->rc set,
 * nothing left allocated).  heading is inherited from an enclosing
 * title:. */
static js_qnode *parse_unary(parser *p, int heading)
{
    int neg = 0;
    while (p->i < p->n && (p->t[p->i].kind == LX_NOT ||
                           p->t[p->i].kind == LX_FIELD)) {
        if (p->t[p->i].kind == LX_NOT)
            neg = 1;
        else
            heading = 1;
        p->i++;
    }
    if (p->i >= p->n || p->t[p->i].kind == LX_CLOSE)
        return NULL; /* '-' or title: with nothing after: ignored */
    const lx_tok *t = &p->t[p->i++];
    js_qnode *x;
    if (t->kind == LX_OPEN) {
        x = parse_group(p, heading);
        if (p->i < p->n && p->t[p->i].kind == LX_CLOSE)
            p->i++;
    } else {
        /* LX_PART, LX_PHRASE, and (never reached: the pre-pass leaves only
         * operator ORs, which follow an operand) LX_OR read as a word. */
        x = t->kind == LX_PHRASE
                ? make_leaf(p->q, t->start, t->end, p->flags, 1, heading,
                            &p->rc)
                : make_part(p, t->start, t->end, heading);
    }
    if (!x || !neg)
        return x;
    /* Excluding is idempotent: "--x", "-(-x)" and "-(-x -y)" exclude what
     * the inner exclusions do. */
    if (only_excludes(x))
        return x;
    js_qnode *n = js_q_calloc(1, sizeof *n);
    js_qnode **kids = js_q_calloc(1, sizeof *kids);
    if (!n || !kids) {
        free(n);
        free(kids);
        free_node(x);
        p->rc = JS_ENOMEM;
        return NULL;
    }
    n->op = JS_Q_NOT;
    n->kids = kids;
    n->kids[0] = x;
    n->nkids = 1;
    return n;
}

/* alt := unary { OR unary }.  Returns like parse_unary; an excluded
 * alternative sets p->rc to JS_EINVALID with p->msg. */
static js_qnode *parse_alt(parser *p, int heading)
{
    js_qnode *first = parse_unary(p, heading);
    if (p->rc || p->i >= p->n || p->t[p->i].kind != LX_OR)
        return first;
    js_qnode *alt = NULL;
    size_t cap = 0;
    if (add_kid(p, &alt, JS_Q_OR, first, &cap))
        goto fail;
    while (p->i < p->n && p->t[p->i].kind == LX_OR) {
        p->i++;
        js_qnode *x = parse_unary(p, heading);
        if (p->rc || add_kid(p, &alt, JS_Q_OR, x, &cap))
            goto fail;
    }
    alt = finish(alt);
    if (alt && alt->op == JS_Q_OR) {
        for (uint32_t k = 0; k < alt->nkids; k++) {
            if (only_excludes(alt->kids[k])) {
                p->rc = JS_EINVALID;
                p->msg = "an excluded part cannot be an alternative of OR";
                goto fail;
            }
        }
    }
    return alt;
fail:
    free_node(alt);
    return NULL;
}

/* group := { alt }, up to ')' (left for the caller) or the end.  Returns
 * the AND of the alternatives, normalised (flattened, a single child
 * stands alone), like parse_unary. */
static js_qnode *parse_group(parser *p, int heading)
{
    js_qnode *and = NULL;
    size_t cap = 0;
    while (p->i < p->n && p->t[p->i].kind != LX_CLOSE) {
        js_qnode *x = parse_alt(p, heading);
        if (p->rc || add_kid(p, &and, JS_Q_AND, x, &cap)) {
            free_node(and);
            return NULL;
        }
    }
    return finish(and);
}

int js_query_parse(js_qnode **out, const char *query, size_t len,
                   unsigned analyze_flags, char *err, size_t errlen)
{
    char msg[128];
    int rc;
    lx_tok *t = NULL;
    js_qnode *root = NULL;
    if (!out || (!query && len)) {
        rc = JS_EINVALID;
        snprintf(msg, sizeof msg, "no query was given");
        goto out;
    }
    if (len > JS_QUERY_MAX_BYTES) {
        rc = JS_ELIMIT;
        snprintf(msg, sizeof msg, "the query is %zu bytes long; the limit is %d",
                 len, JS_QUERY_MAX_BYTES);
        goto out;
    }
    if (!(t = js_q_calloc(len + 1, sizeof *t))) {
        rc = JS_ENOMEM;
        goto nomem;
    }
    size_t n = prepass(t, query ? lex(query, len, t) : 0);
    if (n == (size_t)-1) {
        rc = JS_ELIMIT;
        snprintf(msg, sizeof msg, "parentheses are nested more than %d deep",
                 JS_QUERY_MAX_DEPTH);
        goto out;
    }
    parser p = {query, t, n, 0, analyze_flags, 0, NULL, ""};
    /* The pre-pass removed every ')' that closes nothing, so the top
     * group runs to the end of the tokens. */
    root = parse_group(&p, 0);
    rc = p.rc;
    if (rc == JS_ENOMEM)
        goto nomem;
    if (rc) {
        snprintf(msg, sizeof msg, "%s",
                 p.msg ? p.msg : "the query could not be analysed");
        goto out;
    }
    if (!root) {
        rc = JS_EINVALID;
        snprintf(msg, sizeof msg, "the query has no searchable terms");
    } else if (only_excludes(root)) {
        rc = JS_EINVALID;
        snprintf(msg, sizeof msg,
                 "the query only excludes; add a part to search for");
        free_node(root);
        root = NULL;
    }
    goto out;
nomem:
    snprintf(msg, sizeof msg, "out of memory");
out:
    free(t);
    if (rc) {
        if (err && errlen)
            snprintf(err, errlen, "%s", msg);
        return rc;
    }
    *out = root;
    return 0;
}

/* ------------------------------------------------------------------
 * Formatting
 * ---------------------------------------------------------------- */

typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} fmt_buf;

/* Appends s[0..n) to b, keeping it NUL-terminated; an allocation failure
 * sets b->oom and makes every later call do nothing. */
static void put(fmt_buf *b, const char *s, size_t n)
{
    if (b->oom || js_q_grow(&b->s, &b->cap, b->len + n + 1, 1)) {
        b->oom = 1;
        return;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

static void puts_(fmt_buf *b, const char *s) { put(b, s, strlen(s)); }

/* Appends q in the form of js_query_format (recursion is bounded by the
 * nesting limit of parsed trees). */
static void format_node(fmt_buf *b, const js_qnode *q)
{
    if (q->op == JS_Q_LEAF) {
        if (q->heading_only)
            puts_(b, "title:");
        puts_(b, "\"");
        for (uint32_t k = 0; k < q->nunits; k++) {
            char rel[16];
            if (k)
                puts_(b, " ");
            put(b, q->units[k].term, q->units[k].len);
            if (q->prefix)
                puts_(b, "*");
            snprintf(rel, sizeof rel, "@%u", (unsigned)q->units[k].rel);
            puts_(b, rel);
        }
        puts_(b, "\"");
        if (q->prefix && q->expanded) {
            puts_(b, "{");
            for (uint32_t k = 0; k < q->nexp; k++) {
                if (k)
                    puts_(b, " ");
                put(b, q->exp[k].term, q->exp[k].len);
            }
            puts_(b, "}");
        }
        return;
    }
    puts_(b, q->op == JS_Q_AND ? "(AND" : q->op == JS_Q_OR ? "(OR" : "(NOT");
    for (uint32_t k = 0; k < q->nkids; k++) {
        puts_(b, " ");
        format_node(b, q->kids[k]);
    }
    puts_(b, ")");
}

char *js_query_format(const js_qnode *q)
{
    fmt_buf b = {0};
    put(&b, "", 0);
    if (q && !b.oom)
        format_node(&b, q);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* Walks q for js_query_grams. */
static int collect_grams(const js_qnode *q, js_qgram **g, size_t *cap,
                         uint32_t *n)
{
    if (q->op == JS_Q_NOT)
        return 0;
    if (q->op != JS_Q_LEAF) {
        for (uint32_t i = 0; i < q->nkids; i++) {
            int rc = collect_grams(q->kids[i], g, cap, n);
            if (rc)
                return rc;
        }
        return 0;
    }
    for (uint32_t i = 0; i < q->ngrams; i++) {
        const js_qunit *u = &q->grams[i];
        uint32_t j;
        /* a prefix is a gram apart from the word it spells */
        for (j = 0; j < *n; j++)
            if ((*g)[j].heading == q->heading_only &&
                !(*g)[j].prefix == !q->prefix && (*g)[j].u->len == u->len &&
                !memcmp((*g)[j].u->term, u->term, u->len))
                break;
        if (j < *n)
            continue;
        if (js_q_grow(g, cap, (size_t)*n + 1, sizeof **g))
            return JS_ENOMEM;
        (*g)[*n].u = u;
        (*g)[*n].prefix = q->prefix ? q : NULL;
        (*g)[(*n)++].heading = q->heading_only;
    }
    return 0;
}

int js_query_grams(const js_qnode *q, js_qgram **out, uint32_t *n)
{
    js_qgram *g = NULL;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    int rc = collect_grams(q, &g, &cap, n);
    if (rc) {
        free(g);
        *n = 0;
        return rc;
    }
    *out = g;
    return 0;
}

uint32_t js_query_partial_need(uint32_t n)
{
    double mm = ceil(JS_PARTIAL_SHARE * n - 1e-9);
    if (n >= 2 && mm < 2)
        mm = 2;
    return mm < 1 ? 1 : (uint32_t)mm;
}

/* ------------------------------------------------------------------
 * Prefix expansion
 * ---------------------------------------------------------------- */

struct js_qexpansion {
    struct xterm {
        char *term;
        uint32_t len;
        double df;
    } *v;
    size_t n, cap;
};

int js_qexpansion_add(js_qexpansion *x, const char *term, size_t len,
                      double df)
{
    if (len == 0 || len > UINT32_MAX)
        return 0;
    if (js_q_grow(&x->v, &x->cap, x->n + 1, sizeof *x->v))
        return JS_ENOMEM;
    char *t = js_q_realloc(NULL, len + 1);
    if (!t)
        return JS_ENOMEM;
    memcpy(t, term, len);
    t[len] = 0;
    x->v[x->n++] = (struct xterm){t, (uint32_t)len, df};
    return 0;
}

static int cmp_xterm_bytes(const void *a, const void *b)
{
    const struct xterm *x = a, *y = b;
    size_t m = x->len < y->len ? x->len : y->len;
    int d = memcmp(x->term, y->term, m);
    if (d)
        return d;
    return (x->len > y->len) - (x->len < y->len);
}

/* Most frequent first, ties in byte order: the choice never depends on
 * the order the backend offered the words in. */
static int cmp_xterm_df(const void *a, const void *b)
{
    const struct xterm *x = a, *y = b;
    if (x->df != y->df)
        return x->df > y->df ? -1 : 1;
    return cmp_xterm_bytes(a, b);
}

/* Turns x's offers into leaf's expansion: duplicates merged (dfs
 * added), the JS_PREFIX_MAX_TERMS most frequent kept, in byte order.
 * Returns 0 or JS_ENOMEM (the leaf unchanged). */
static int take_expansion(js_qnode *leaf, js_qexpansion *x)
{
    size_t m = 0;
    if (x->n) {
        qsort(x->v, x->n, sizeof *x->v, cmp_xterm_bytes);
        for (size_t i = 0; i < x->n; i++) {
            if (m && !cmp_xterm_bytes(&x->v[m - 1], &x->v[i])) {
                x->v[m - 1].df += x->v[i].df;
                free(x->v[i].term);
            } else {
                x->v[m++] = x->v[i];
            }
        }
        x->n = m;
        if (m > JS_PREFIX_MAX_TERMS) {
            qsort(x->v, m, sizeof *x->v, cmp_xterm_df);
            m = JS_PREFIX_MAX_TERMS;
            qsort(x->v, m, sizeof *x->v, cmp_xterm_bytes);
        }
    }
    js_qunit *u = m ? js_q_calloc(m, sizeof *u) : NULL;
    if (m && !u)
        return JS_ENOMEM;
    for (size_t i = 0; i < m; i++) {
        /* the words move from the offers to the leaf */
        u[i] = (js_qunit){x->v[i].term, x->v[i].len, 0, JS_TOKEN_WORD};
        x->v[i].term = NULL;
    }
    free_units(leaf->exp, leaf->nexp);
    leaf->exp = u;
    leaf->nexp = (uint32_t)m;
    leaf->expanded = 1;
    return 0;
}

static void expansion_clear(js_qexpansion *x)
{
    for (size_t i = 0; i < x->n; i++)
        free(x->v[i].term);
    free(x->v);
    *x = (js_qexpansion){0};
}

int js_query_expand(js_qnode *q, js_qexpand_fn fn, void *ctx)
{
    if (!q)
        return 0;
    if (q->op != JS_Q_LEAF) {
        for (uint32_t k = 0; k < q->nkids; k++) {
            int rc = js_query_expand(q->kids[k], fn, ctx);
            if (rc)
                return rc;
        }
        return 0;
    }
    if (!q->prefix)
        return 0;
    js_qexpansion x = {0};
    int rc = fn(ctx, q, &x);
    if (!rc)
        rc = take_expansion(q, &x);
    expansion_clear(&x);
    return rc;
}

int js_query_has_prefix(const js_qnode *q)
{
    if (!q)
        return 0;
    if (q->op == JS_Q_LEAF)
        return q->prefix;
    for (uint32_t k = 0; k < q->nkids; k++)
        if (js_query_has_prefix(q->kids[k]))
            return 1;
    return 0;
}
