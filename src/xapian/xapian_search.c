/*
 * xapian_search.c — the query tree (query.h) as Xapian queries through
 * the shim, and Xapian's hits as js_results (semantics: xapian_search.h).
 *
 * In:  a js_xdb, a query string, options.
 * Out: js_results built with results.c from each hit's document data
 *      (the JSON object xapian_build.c writes).
 *
 * Every js_xq made here is closed before returning: the shim's
 * constructors copy their sub-queries, so a tree is built bottom-up and
 * each level closes what it combined.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fields.h"
#include "query.h"
#include "results.h"
#include "xapian_doc.h"
#include "xapian_search.h"

/* Candidates a partial search examines at most for the share filter:
 * Xapian cannot count matching terms in its matcher, so they are counted
 * per hit here, in batches. */
#define PARTIAL_SCAN_MAX 20000u

#define fail js_results_fail

/* Takes the shim's message for a failed constructor or search. */
static int xq_fail(js_results *r, int rc, js_xq *q)
{
    if (!q)
        return fail(r, JS_ENOMEM, "out of memory");
    return fail(r, rc, "building the Xapian query: %s", js_xq_errmsg(q));
}

/* Bytes of the UTF-8 character starting at lead byte c. */
static size_t char_len(unsigned char c)
{
    return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

/* The terms of one phrase: term bytes in buf, (offset, length, rel). */
typedef struct chain {
    char *buf;
    size_t len, cap;
    size_t *off, *lens;
    uint32_t *rels;
    size_t n, ncap;
} chain;

static int chain_add(chain *c, int prefix, const char *a, size_t alen,
                     const char *b, size_t blen, uint32_t rel)
{
    if (c->n && rel <= c->rels[c->n - 1])
        return 0; /* two units at one position: the first one stands */
    size_t need = c->len + alen + blen + 1;
    if (need > c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        while (cap < need)
            cap *= 2;
        char *nb = realloc(c->buf, cap);
        if (!nb)
            return JS_ENOMEM;
        c->buf = nb;
        c->cap = cap;
    }
    if (c->n == c->ncap) {
        size_t cap = c->ncap ? 2 * c->ncap : 16;
        size_t *o = realloc(c->off, cap * sizeof *o);
        if (!o)
            return JS_ENOMEM;
        c->off = o;
        size_t *l = realloc(c->lens, cap * sizeof *l);
        if (!l)
            return JS_ENOMEM;
        c->lens = l;
        uint32_t *r = realloc(c->rels, cap * sizeof *r);
        if (!r)
            return JS_ENOMEM;
        c->rels = r;
        c->ncap = cap;
    }
    c->off[c->n] = c->len;
    if (prefix)
        c->buf[c->len++] = 1;
    memcpy(c->buf + c->len, a, alen);
    c->len += alen;
    if (blen)
        memcpy(c->buf + c->len, b, blen);
    c->len += blen;
    c->lens[c->n] = c->len - c->off[c->n];
    c->rels[c->n++] = rel;
    return 0;
}

static void chain_free(chain *c)
{
    free(c->buf);
    free(c->off);
    free(c->lens);
    free(c->rels);
}

/* Fills c with leaf's terms (prefixed with 0x01 when prefix): its units,
 * plus between two bigrams of one run at rel r and r+2 the bigram at
 * r+1 the cover skips (the second character of the first, the first of
 * the second), so a CJK run becomes a chain at consecutive positions.
 * Returns 0 or JS_ENOMEM. */
static int leaf_chain(chain *c, const js_qnode *leaf, int prefix)
{
    for (uint32_t i = 0; i < leaf->nunits; i++) {
        const js_qunit *u = &leaf->units[i];
        int rc = chain_add(c, prefix, u->term, u->len, NULL, 0, u->rel);
        if (rc)
            return rc;
        if (i + 1 == leaf->nunits || u->kind != JS_TOKEN_BIGRAM)
            continue;
        const js_qunit *v = &leaf->units[i + 1];
        /* bigrams at r and r+2 with nothing at r+1 are one run: a run
         * ends at a separator or a word, which takes a position */
        if (v->kind != JS_TOKEN_BIGRAM || v->rel != u->rel + 2)
            continue;
        size_t a = char_len((unsigned char)u->term[0]);
        size_t b = char_len((unsigned char)v->term[0]);
        if (a >= u->len || b >= v->len)
            continue; /* not two characters: leave the gap */
        if ((rc = chain_add(c, prefix, u->term + a, u->len - a, v->term, b,
                            u->rel + 1)))
            return rc;
    }
    return 0;
}

/* A phrase of c's terms (see js_xq_phrase).  Returns 0 and *out or a
 * code with r's message. */
static int chain_query(js_results *r, const chain *c, js_xq **out)
{
    const char **terms = malloc((c->n ? c->n : 1) * sizeof *terms);
    if (!terms)
        return fail(r, JS_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->n; i++)
        terms[i] = c->buf + c->off[i];
    int rc = js_xq_phrase(out, terms, c->lens, c->rels, c->n);
    free(terms);
    return rc ? xq_fail(r, rc, *out) : 0;
}

/* body OR heading*w (heading only: heading*w) from the two queries.
 * Takes and closes body and head.  Returns 0 and *out or a code. */
static int fields(js_results *r, js_xq *body, js_xq *head, double w,
                  js_xq **out)
{
    js_xq *scaled = NULL;
    int rc = js_xq_scale(&scaled, head, w);
    js_xq_close(head);
    if (rc) {
        rc = xq_fail(r, rc, scaled);
        js_xq_close(scaled);
        js_xq_close(body);
        return rc;
    }
    if (!body) {
        *out = scaled;
        return 0;
    }
    const js_xq *both[2] = {body, scaled};
    rc = js_xq_combine(out, JS_XQ_OR, both, 2);
    js_xq_close(body);
    js_xq_close(scaled);
    if (rc) {
        rc = xq_fail(r, rc, *out);
        js_xq_close(*out);
        *out = NULL;
    }
    return rc;
}

static int leaf_query(js_results *r, const js_qnode *leaf, double w,
                      js_xq **out);
static int combine(js_results *r, int op, js_xq **subs, size_t n,
                   js_xq **out);

/* The query of an expanded prefix leaf (query.h): the OR of its words,
 * each a leaf of its own, so each is weighted as its own term, as the
 * native engine scores them.  Returns 0 and *out or a code. */
static int prefix_query(js_results *r, const js_qnode *leaf, double w,
                        js_xq **out)
{
    js_xq **subs = calloc(leaf->nexp, sizeof *subs);
    if (!subs)
        return fail(r, JS_ENOMEM, "out of memory");
    int rc = 0;
    size_t n = 0;
    for (uint32_t i = 0; i < leaf->nexp && !rc; i++) {
        js_qnode one = {.op = JS_Q_LEAF, .heading_only = leaf->heading_only,
                        .units = &leaf->exp[i], .nunits = 1};
        if (!(rc = leaf_query(r, &one, w, &subs[n])))
            n++;
    }
    if (!rc) {
        rc = combine(r, JS_XQ_OR, subs, n, out);
        n = 0;
    }
    for (size_t i = 0; i < n; i++)
        js_xq_close(subs[i]);
    free(subs);
    return rc;
}

/* The query of one leaf.  Returns 0 and *out or a code. */
static int leaf_query(js_results *r, const js_qnode *leaf, double w,
                      js_xq **out)
{
    if (leaf->prefix && leaf->nexp)
        return prefix_query(r, leaf, w, out);
    /* (a prefix that expanded to nothing is its prefix as a word, which
     * no document holds) */
    chain cb = {0}, ch = {0};
    js_xq *body = NULL, *head = NULL;
    int rc = 0;
    *out = NULL;
    if ((!leaf->heading_only && leaf_chain(&cb, leaf, 0)) ||
        leaf_chain(&ch, leaf, 1)) {
        rc = fail(r, JS_ENOMEM, "out of memory");
        goto out;
    }
    if (!leaf->heading_only && (rc = chain_query(r, &cb, &body)))
        goto out;
    if ((rc = chain_query(r, &ch, &head)))
        goto out;
    rc = fields(r, body, head, w, out);
    body = head = NULL;
out:
    js_xq_close(body);
    js_xq_close(head);
    chain_free(&cb);
    chain_free(&ch);
    return rc;
}

/* Combines subs[0..n) with op, closing them.  n == 1 passes the one
 * through.  Returns 0 and *out or a code. */
static int combine(js_results *r, int op, js_xq **subs, size_t n, js_xq **out)
{
    int rc = 0;
    *out = NULL;
    if (n == 1) {
        *out = subs[0];
        return 0;
    }
    rc = js_xq_combine(out, op, (const js_xq *const *)subs, n);
    for (size_t i = 0; i < n; i++)
        js_xq_close(subs[i]);
    if (rc) {
        rc = xq_fail(r, rc, *out);
        js_xq_close(*out);
        *out = NULL;
    }
    return rc;
}

/* The query of tree q.  Returns 0 and *out or a code with r's message. */
static int tree_query(js_results *r, const js_qnode *q, double w, js_xq **out)
{
    *out = NULL;
    if (q->op == JS_Q_LEAF)
        return leaf_query(r, q, w, out);
    if (q->op != JS_Q_AND && q->op != JS_Q_OR)
        return fail(r, JS_EINVALID, "an exclusion outside AND");
    js_xq **subs = calloc(q->nkids + 1, sizeof *subs);
    if (!subs)
        return fail(r, JS_ENOMEM, "out of memory");
    size_t n = 0, npos = 0;
    int rc = 0;
    /* positive children first: AND_NOT keeps its first operand */
    for (int pass = 0; pass < 2 && !rc; pass++)
        for (uint32_t i = 0; i < q->nkids && !rc; i++) {
            const js_qnode *k = q->kids[i];
            int neg = k->op == JS_Q_NOT;
            if (neg != pass)
                continue;
            rc = tree_query(r, neg ? k->kids[0] : k, w, &subs[n]);
            if (!rc)
                n++;
            if (!neg)
                npos = n;
        }
    if (!rc && npos == 0)
        rc = fail(r, JS_EINVALID, "the query has only exclusions");
    if (rc) {
        for (size_t i = 0; i < n; i++)
            js_xq_close(subs[i]);
        free(subs);
        return rc;
    }
    js_xq *pos = NULL;
    rc = combine(r, q->op == JS_Q_AND ? JS_XQ_AND : JS_XQ_OR, subs, npos, &pos);
    if (rc) {
        for (size_t i = npos; i < n; i++)
            js_xq_close(subs[i]);
    } else if (n > npos) {
        subs[npos - 1] = pos;
        rc = combine(r, JS_XQ_AND_NOT, subs + npos - 1, n - npos + 1, out);
    } else {
        *out = pos;
    }
    free(subs);
    return rc;
}

/* The grams of the positive leaves (js_query_grams): the terms partial
 * matching counts, and which of them the current hit holds. */
typedef struct grams {
    js_qgram *g;
    uint32_t n;
    unsigned char *seen; /* per hit: which grams it holds */
} grams;

/* The partial query: OR of the grams, each in the body or (scaled) in
 * the heading field, minus strict and the root's exclusions.  Returns 0
 * and *out or a code. */
static int partial_query(js_results *r, const js_qnode *q, const grams *gl,
                         const js_xq *strict, double w, js_xq **out)
{
    *out = NULL;
    uint32_t nneg = 0;
    if (q->op == JS_Q_AND)
        for (uint32_t i = 0; i < q->nkids; i++)
            nneg += q->kids[i]->op == JS_Q_NOT;
    js_xq **subs = calloc((size_t)gl->n + nneg + 2, sizeof *subs);
    if (!subs)
        return fail(r, JS_ENOMEM, "out of memory");
    int rc = 0;
    size_t n = 0;
    for (uint32_t i = 0; i < gl->n && !rc; i++) {
        /* a gram on its own is a leaf of one unit; a prefix's, its
         * words */
        js_qunit one = *gl->g[i].u;
        one.rel = 0;
        js_qnode leaf = {.op = JS_Q_LEAF, .heading_only = gl->g[i].heading,
                         .units = &one, .nunits = 1};
        rc = leaf_query(r, gl->g[i].prefix ? gl->g[i].prefix : &leaf, w,
                        &subs[n]);
        if (!rc)
            n++;
    }
    js_xq *any = NULL;
    if (!rc) {
        rc = combine(r, JS_XQ_OR, subs, n, &any);
        n = 0;
    }
    if (!rc) {
        subs[n++] = any;
        js_xq *copy = NULL;
        /* the strict query again, as a sub-query of this one: scaling by
         * 1 copies a query handle */
        rc = js_xq_scale(&copy, strict, 1.0);
        if (rc) {
            rc = xq_fail(r, rc, copy);
            js_xq_close(copy);
        } else {
            subs[n++] = copy;
        }
        for (uint32_t i = 0; i < q->nkids && !rc && q->op == JS_Q_AND; i++)
            if (q->kids[i]->op == JS_Q_NOT) {
                rc = tree_query(r, q->kids[i]->kids[0], w, &subs[n]);
                if (!rc)
                    n++;
            }
        if (!rc) {
            rc = combine(r, JS_XQ_AND_NOT, subs, n, out);
            n = 0;
        }
    }
    for (size_t i = 0; i < n; i++)
        js_xq_close(subs[i]);
    free(subs);
    return rc;
}

/* js_xmset_matching callback: marks the grams a matching term is. */
static int mark_gram(void *ctx, const char *t, size_t len)
{
    grams *gl = ctx;
    int head = len > 0 && t[0] == 1;
    if (head) {
        t++;
        len--;
    }
    for (uint32_t i = 0; i < gl->n; i++) {
        if (!head && gl->g[i].heading)
            continue;
        const js_qnode *p = gl->g[i].prefix;
        if (p && p->nexp) { /* any of the prefix's words */
            for (uint32_t k = 0; k < p->nexp; k++)
                if (p->exp[k].len == len && !memcmp(p->exp[k].term, t, len))
                    gl->seen[i] = 1;
        } else if (gl->g[i].u->len == len &&
                   !memcmp(gl->g[i].u->term, t, len)) {
            gl->seen[i] = 1;
        }
    }
    return 0;
}

/* Returns a string member of o, "" when missing or null. */
static const char *str_of(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static uint64_t int_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) >= 0
               ? (uint64_t)json_integer_value(v)
               : 0;
}

/* Adds hit i of m to r from its document data.  Returns 0 or a code. */
static int add_hit(js_results *r, js_xmset *m, size_t i, int partial,
                   const js_qnode *q, unsigned flags,
                   const js_search_options *o)
{
    js_xhit xh;
    int rc = js_xmset_hit(m, i, &xh);
    if (rc)
        return fail(r, rc, "%s", js_xmset_errmsg(m));
    json_error_t je;
    json_t *d = json_loadb(xh.data, xh.data_len, 0, &je);
    if (!json_is_object(d)) {
        json_decref(d);
        return fail(r, JS_ECORRUPT,
                    "the index is corrupt: document %u holds no section data "
                    "(%s)", xh.docid, je.text);
    }
    json_t *meta = json_object_get(d, "metadata");
    char *meta_text = NULL;
    if (json_is_object(meta))
        meta_text = json_dumps(meta, JSON_COMPACT | JSON_PRESERVE_ORDER);
    else if (json_is_string(meta))
        meta_text = strdup(json_string_value(meta));
    /* the heading path joined by U+001F, as the native store keeps it */
    json_t *path = json_object_get(d, "path");
    size_t plen = 0;
    for (size_t k = 0; k < json_array_size(path); k++)
        plen += strlen(json_string_value(json_array_get(path, k)) ?
                       json_string_value(json_array_get(path, k)) : "") + 1;
    char *joined = malloc(plen + 1);
    if (!joined || ((json_is_object(meta) || json_is_string(meta)) && !meta_text)) {
        free(joined);
        free(meta_text);
        json_decref(d);
        return fail(r, JS_ENOMEM, "out of memory");
    }
    size_t at = 0;
    for (size_t k = 0; k < json_array_size(path); k++) {
        const char *h = json_string_value(json_array_get(path, k));
        size_t hl = h ? strlen(h) : 0;
        if (k)
            joined[at++] = 0x1F;
        memcpy(joined + at, h ? h : "", hl);
        at += hl;
    }
    joined[at] = 0;
    json_t *body = json_object_get(d, "body");
    json_t *sec = json_object_get(d, "section");
    js_hit_src s = {
        .doc = {str_of(d, "source"), str_of(d, "title"), str_of(d, "format"),
                str_of(d, "encoding"), str_of(d, "id"),
                meta_text ? meta_text : ""},
        .path = joined, .path_len = at,
        .section = json_is_integer(sec) ? (uint32_t)json_integer_value(sec)
                                        : xh.docid - 1,
        .ordinal = (uint32_t)int_of(d, "ordinal"),
        .start = int_of(d, "start"), .end = int_of(d, "end"),
        .score = xh.weight, .partial = partial,
        .body = json_string_value(body),
        .body_len = json_string_length(body),
    };
    rc = js_results_add(r, &s, q, flags, o);
    free(joined);
    free(meta_text);
    json_decref(d);
    return rc;
}

/* For expanding prefixes over the database (js_query_expand). */
typedef struct xexpand {
    js_xdb *db;
    js_results *r;
    js_qexpansion *x;
    int heading;
} xexpand;

/* js_xdb_terms callback: offers a word, without its heading prefix. */
static int offer_term(void *ctx, const char *term, size_t len, uint64_t df)
{
    xexpand *e = ctx;
    if (e->heading) {
        term++;
        len--;
    }
    if (js_fields_term_kind(term, len) != JS_TOKEN_WORD)
        return 0;
    return js_qexpansion_add(e->x, term, len, (double)df);
}

/* js_qexpand_fn: the words of every shard that start with the prefix,
 * body terms and heading terms (0x01 + the body's) as the leaf
 * searches them, the same term strings as the native index's. */
static int expand_xapian(void *ctx, const js_qnode *leaf, js_qexpansion *x)
{
    xexpand *e = ctx;
    const js_qunit *u = &leaf->units[0];
    char *p = malloc((size_t)u->len + 2);
    if (!p)
        return JS_ENOMEM;
    p[0] = 1;
    memcpy(p + 1, u->term, u->len);
    int rc = 0;
    e->x = x;
    for (int heading = leaf->heading_only; heading < 2 && !rc; heading++) {
        e->heading = heading;
        rc = js_xdb_terms(e->db, heading ? p : p + 1,
                          (size_t)u->len + (size_t)heading, offer_term, e);
        if (rc && rc != JS_ENOMEM)
            fail(e->r, rc, "expanding '%s*': %s", u->term,
                 js_xdb_errmsg(e->db));
    }
    free(p);
    return rc;
}

int js_xsearch_run(js_results **out, js_xdb *db, uint64_t doccount,
                   unsigned analyze_flags, const char *query, size_t len,
                   const js_search_options *opts)
{
    js_search_options o;
    js_qnode *q = NULL;
    js_xq *strict = NULL, *part = NULL;
    js_xmset *m = NULL;
    grams gl = {0};
    int rc = js_results_begin(out, db != NULL, query, len, analyze_flags,
                              opts, &o, &q);
    js_results *r = *out;
    if (!r)
        return rc;
    if (rc)
        goto out;
    xexpand xe = {db, r, NULL, 0};
    if ((rc = js_results_expand(r, q, expand_xapian, &xe)))
        goto out;
    if ((rc = tree_query(r, q, o.heading_weight, &strict)))
        goto out;

    uint32_t k = o.offset + o.limit;
    js_xsearch p = JS_XSEARCH_INIT;
    p.k1 = o.k1;
    p.b = o.b;
    p.min_normlen = 0; /* the native formula has no floor */
    /* ties by section id, as natively: docids follow the placement of
     * sections on shards, not their order (an index built before values
     * has none, and its docids are section ids + 1) */
    p.tie_slot = JS_XSLOT_SECTION + 1;
    p.count = k;
    if (o.flags & JS_SEARCH_EXACT_TOTAL)
        p.check_at_least = doccount > UINT32_MAX ? UINT32_MAX : (uint32_t)doccount;
    if ((rc = js_xdb_search(db, strict, &p, &m))) {
        fail(r, rc, "%s", js_xdb_errmsg(db));
        goto out;
    }
    js_xcounts c;
    js_xmset_counts(m, &c);
    r->total = c.estimated;
    r->exact = c.lower_bound == c.upper_bound;
    if (r->exact)
        r->total = c.lower_bound;
    size_t nstrict = js_xmset_size(m);
    for (size_t i = o.offset; i < nstrict; i++)
        if ((rc = add_hit(r, m, i, 0, q, analyze_flags, &o)))
            goto out;
    js_xmset_close(m);
    m = NULL;

    /* partial hits fill what the strict ones leave of the k asked for */
    if (nstrict >= k || (o.flags & JS_SEARCH_NO_PARTIAL))
        goto out;
    if ((rc = js_query_grams(q, &gl.g, &gl.n)) ||
        !(gl.seen = malloc(gl.n + 1))) {
        rc = fail(r, JS_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = partial_query(r, q, &gl, strict, o.heading_weight, &part)))
        goto out;
    uint32_t need = js_query_partial_need(gl.n);
    size_t want = k - nstrict, got = 0, at = nstrict;
    uint32_t batch = want < 50 ? 100 : 2 * (uint32_t)want;
    for (uint32_t from = 0; got < want && from < PARTIAL_SCAN_MAX;
         from += batch) {
        p.offset = from;
        p.count = batch;
        p.check_at_least = 0;
        if ((rc = js_xdb_search(db, part, &p, &m))) {
            fail(r, rc, "%s", js_xdb_errmsg(db));
            goto out;
        }
        size_t n = js_xmset_size(m);
        for (size_t i = 0; i < n && got < want; i++) {
            if (need > 1) {
                memset(gl.seen, 0, gl.n);
                if ((rc = js_xmset_matching(m, i, mark_gram, &gl))) {
                    fail(r, rc, "%s", js_xmset_errmsg(m));
                    goto out;
                }
                uint32_t held = 0;
                for (uint32_t g = 0; g < gl.n; g++)
                    held += gl.seen[g];
                if (held < need)
                    continue;
            }
            got++;
            if (at++ >= o.offset &&
                (rc = add_hit(r, m, i, 1, q, analyze_flags, &o)))
                goto out;
        }
        js_xmset_close(m);
        m = NULL;
        if (n < batch)
            break;
    }
out:
    js_xmset_close(m);
    js_xq_close(strict);
    js_xq_close(part);
    js_query_free(q);
    free(gl.g);
    free(gl.seen);
    if (rc && !r->err[0])
        fail(r, rc, "%s", js_strerror(rc));
    return rc;
}
