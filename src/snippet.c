/*
 * snippet.c — where a query's parts occur in a text (js_snippet_find), and
 * a short excerpt around the best cluster of them (js_snippet_make).
 *
 * In:  a section's stored text (UTF-8 that may hold invalid bytes), a
 *      parsed query (query.h), the index's JS_ANALYZE_* flags; for the
 *      excerpt, the ranges js_snippet_find returned and a width.
 * Out: sorted, merged byte ranges of the matches; an excerpt of valid
 *      UTF-8 with white space collapsed, "…" where cut, and the ranges
 *      moved into its coordinates.  Everything returned is malloc'ed and
 *      owned by the caller.
 *
 * Finding re-analyses the text with js_text_analyze, exactly as the index
 * did, and matches a leaf where its units stand at their relative
 * positions, so a range is exactly what the index matched.  To stay far
 * from quadratic on 4 MiB bodies and queries of a thousand units, the text
 * is reduced to one sorted position list per distinct query term (two
 * analysis passes: count, then fill), and a leaf of several units is
 * matched either by intersecting shifted lists from its rarest unit
 * (galloping search) or, when that would cost more, by AND-ing shifted
 * bitsets over the positions, each distinct term's bitset built once per
 * leaf.  Matches are kept as position intervals and turned into byte
 * ranges by a third pass, which stops once every interval is mapped.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snippet.h"
#include "utf8.h"

/* Allocations go through query.c's js_q_* so that the tests' fault
 * injection (js_query_failpoint) reaches them too. */

/* ------------------------------------------------------------------
 * Finding
 * ---------------------------------------------------------------- */

/* One distinct (kind, term) of the query. */
typedef struct {
    const char *term;
    uint32_t len;
    js_token_kind kind;
    size_t count; /* occurrences in the text */
    size_t off;   /* its positions are occ[off, off + count) */
    size_t fill;
    int whole; /* each occurrence is a match of its own */
} sym;

typedef struct {
    uint32_t p, q; /* positions [p, q], inclusive */
} ival;

typedef struct {
    sym *syms;
    size_t nsyms, symcap;
    uint32_t *slots; /* hash table: sym index + 1, 0 empty */
    size_t nslots;   /* a power of two */
    const js_qnode **leaves;
    size_t nleaves, leafcap;
    uint32_t *usyms; /* per leaf of several units: sym of each unit */
    size_t nusyms, usymcap;
    uint32_t *occ;
    uint32_t maxpos;
    int any; /* some token was seen */
    ival *iv;
    size_t niv, ivcap;
} finder;

/* FNV-1a over a term's bytes, seeded with its kind. */
static uint64_t hash_term(js_token_kind kind, const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)kind;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Returns the index of (kind, term) in f->syms, or SIZE_MAX. */
static size_t lookup(const finder *f, js_token_kind kind, const char *s,
                     size_t n)
{
    size_t mask = f->nslots - 1;
    for (size_t h = (size_t)hash_term(kind, s, n) & mask;; h = (h + 1) & mask) {
        uint32_t v = f->slots[h];
        if (!v)
            return SIZE_MAX;
        const sym *y = &f->syms[v - 1];
        if (y->kind == kind && y->len == n && !memcmp(y->term, s, n))
            return v - 1;
    }
}

/* Adds (kind, term) of u to the table unless there.  Returns its index,
 * or SIZE_MAX when out of memory. */
static size_t intern(finder *f, const js_qunit *u)
{
    if (f->nslots < 2 * (f->nsyms + 1)) {
        size_t ns = f->nslots ? f->nslots * 2 : 64;
        uint32_t *slots = js_q_calloc(ns, sizeof *slots);
        if (!slots)
            return SIZE_MAX;
        free(f->slots);
        f->slots = slots;
        f->nslots = ns;
        for (size_t k = 0; k < f->nsyms; k++) {
            const sym *y = &f->syms[k];
            size_t h = (size_t)hash_term(y->kind, y->term, y->len) & (ns - 1);
            while (slots[h])
                h = (h + 1) & (ns - 1);
            slots[h] = (uint32_t)(k + 1);
        }
    }
    size_t k = lookup(f, u->kind, u->term, u->len);
    if (k != SIZE_MAX)
        return k;
    if (js_q_grow(&f->syms, &f->symcap, f->nsyms + 1, sizeof *f->syms))
        return SIZE_MAX;
    f->syms[f->nsyms] = (sym){u->term, u->len, u->kind, 0, 0, 0, 0};
    size_t h = (size_t)hash_term(u->kind, u->term, u->len) & (f->nslots - 1);
    while (f->slots[h])
        h = (h + 1) & (f->nslots - 1);
    f->slots[h] = (uint32_t)(f->nsyms + 1);
    return f->nsyms++;
}

/* Collects the leaves that count: not under a NOT, and title: leaves only
 * in a heading.  Returns 0 or JS_ENOMEM. */
static int gather(finder *f, const js_qnode *q, unsigned flags)
{
    if (!q || q->op == JS_Q_NOT)
        return 0;
    if (q->op == JS_Q_LEAF) {
        if (q->heading_only && !(flags & JS_FIND_HEADING))
            return 0;
        if (!q->nunits || !q->units)
            return 0;
        if (js_q_grow(&f->leaves, &f->leafcap, f->nleaves + 1, sizeof *f->leaves))
            return JS_ENOMEM;
        f->leaves[f->nleaves++] = q;
        return 0;
    }
    for (uint32_t k = 0; k < q->nkids; k++)
        if (gather(f, q->kids[k], flags))
            return JS_ENOMEM;
    return 0;
}

/* js_token_fn for the first pass: counts each query term's occurrences. */
static int count_token(void *ctx, const js_token *t)
{
    finder *f = ctx;
    f->any = 1;
    if (t->position > f->maxpos)
        f->maxpos = t->position;
    size_t k = lookup(f, t->kind, t->term, t->term_len);
    if (k != SIZE_MAX)
        f->syms[k].count++;
    return 0;
}

/* js_token_fn for the second pass: records the positions. */
static int fill_token(void *ctx, const js_token *t)
{
    finder *f = ctx;
    size_t k = lookup(f, t->kind, t->term, t->term_len);
    if (k != SIZE_MAX) {
        sym *y = &f->syms[k];
        if (y->fill < y->count) /* the passes see the same tokens */
            f->occ[y->off + y->fill++] = t->position;
    }
    return 0;
}

/* Records a match at positions [p, q].  Returns 0 or JS_ENOMEM. */
static int add_ival(finder *f, uint32_t p, uint32_t q)
{
    if (js_q_grow(&f->iv, &f->ivcap, f->niv + 1, sizeof *f->iv))
        return JS_ENOMEM;
    f->iv[f->niv++] = (ival){p, q};
    return 0;
}

/* Returns the first index j' >= j with L[j'] >= target (n when none),
 * probing 1, 2, 4, ... ahead and then bisecting: O(log gap). */
static size_t gallop(const uint32_t *L, size_t n, size_t j, uint64_t target)
{
    if (j >= n || L[j] >= target)
        return j;
    size_t lo = j, step = 1; /* invariant: L[lo] < target */
    while (lo + step < n && L[lo + step] < target) {
        lo += step;
        step *= 2;
    }
    size_t hi = lo + step < n ? lo + step : n; /* L[hi] >= target or n */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (L[mid] < target)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/* A unit of a leaf being matched: its term's occurrence count, its sym
 * and its relative position. */
typedef struct {
    size_t count;
    uint32_t sym, rel;
} uref;

/* For qsort: rarest first, units of one sym together. */
static int cmp_uref(const void *a, const void *b)
{
    const uref *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? -1 : 1;
    if (x->sym != y->sym)
        return x->sym < y->sym ? -1 : 1;
    return x->rel < y->rel ? -1 : x->rel > y->rel;
}

/* Matches a leaf of m >= 2 units whose syms are us[0..m), adding an
 * interval per match.  Returns 0 or JS_ENOMEM. */
static int match_leaf(finder *f, const js_qnode *leaf, const uint32_t *us)
{
    uint32_t m = leaf->nunits;
    uref *u = js_q_calloc(m, sizeof *u);
    uint32_t *cand = NULL;
    uint64_t *M = NULL, *B = NULL;
    int rc = JS_ENOMEM;
    if (!u)
        return rc;
    for (uint32_t k = 0; k < m; k++)
        u[k] = (uref){f->syms[us[k]].count, us[k], leaf->units[k].rel};
    /* Rarest first, and the units of one term side by side. */
    qsort(u, m, sizeof *u, cmp_uref);
    if (u[0].count == 0) {
        rc = 0;
        goto out;
    }
    size_t nw = (size_t)f->maxpos / 64 + 1, ndistinct = 0;
    uint64_t lists = 0;
    for (uint32_t k = 0; k < m; k++) {
        if (k == 0 || u[k].sym != u[k - 1].sym) {
            ndistinct++;
            lists += u[k].count;
        }
    }
    uint64_t cost_lists = (uint64_t)u[0].count * (m - 1) * 4;
    uint64_t cost_bits = (uint64_t)nw * (m + ndistinct) + lists;
    const sym *a = &f->syms[u[0].sym];
    const uint32_t *La = f->occ + a->off;
    uint32_t span1 = leaf->span ? leaf->span - 1 : 0;

    if (cost_lists <= cost_bits) {
        /* Candidates from the rarest unit, filtered unit by unit. */
        size_t nc = 0;
        if (!(cand = js_q_calloc(a->count, sizeof *cand)))
            goto out;
        for (size_t k = 0; k < a->count; k++)
            if (La[k] >= u[0].rel)
                cand[nc++] = La[k] - u[0].rel;
        for (uint32_t k = 1; k < m && nc; k++) {
            const sym *y = &f->syms[u[k].sym];
            const uint32_t *L = f->occ + y->off;
            size_t j = 0, out = 0;
            for (size_t c = 0; c < nc; c++) {
                uint64_t target = (uint64_t)cand[c] + u[k].rel;
                j = gallop(L, y->count, j, target);
                if (j < y->count && L[j] == target)
                    cand[out++] = cand[c];
            }
            nc = out;
        }
        for (size_t c = 0; c < nc; c++)
            if (add_ival(f, cand[c], cand[c] + span1))
                goto out;
        rc = 0;
        goto out;
    }

    /* Bitsets over positions 0..maxpos: M holds the candidate starts, B
     * one term's occurrences; M &= B >> rel for each unit of that term. */
    M = js_q_calloc(nw, sizeof *M);
    B = js_q_calloc(nw, sizeof *B);
    if (!M || !B)
        goto out;
    for (size_t k = 0; k < a->count; k++)
        if (La[k] >= u[0].rel) {
            uint32_t p = La[k] - u[0].rel;
            M[p / 64] |= 1ull << (p % 64);
        }
    for (uint32_t k = 1; k < m;) {
        uint32_t g = k;
        const sym *y = &f->syms[u[k].sym];
        const uint32_t *L = f->occ + y->off;
        memset(B, 0, nw * sizeof *B);
        for (size_t j = 0; j < y->count; j++)
            B[L[j] / 64] |= 1ull << (L[j] % 64);
        for (; g < m && u[g].sym == u[k].sym; g++) {
            size_t ws = u[g].rel / 64;
            unsigned bs = u[g].rel % 64;
            uint64_t any = 0;
            for (size_t w = 0; w < nw; w++) {
                uint64_t lo = w + ws < nw ? B[w + ws] >> bs : 0;
                uint64_t hi = bs && w + ws + 1 < nw ? B[w + ws + 1] << (64 - bs)
                                                    : 0;
                M[w] &= lo | hi;
                any |= M[w];
            }
            if (!any) {
                rc = 0;
                goto out;
            }
        }
        k = g;
    }
    for (size_t w = 0; w < nw; w++) {
        for (uint64_t bits = M[w]; bits; bits &= bits - 1) {
            uint32_t p = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
            if (add_ival(f, p, p + span1))
                goto out;
        }
    }
    rc = 0;
out:
    free(u);
    free(cand);
    free(M);
    free(B);
    return rc;
}

/* For qsort: intervals by first position, then last. */
static int cmp_ival(const void *a, const void *b)
{
    const ival *x = a, *y = b;
    if (x->p != y->p)
        return x->p < y->p ? -1 : 1;
    return x->q < y->q ? -1 : x->q > y->q;
}

/* The third pass: byte start of the token at each interval's first
 * position, byte end of the one at its last (the word or unigram there:
 * a bigram starting at the last position would reach one too far). */
typedef struct {
    const ival *iv;
    size_t n, si, ei;
    js_range *r;
} mapper;

static int map_token(void *ctx, const js_token *t)
{
    mapper *m = ctx;
    if (t->kind == JS_TOKEN_BIGRAM)
        return 0;
    while (m->si < m->n && m->iv[m->si].p < t->position)
        m->si++; /* no token there: left unmapped (cannot happen) */
    if (m->si < m->n && m->iv[m->si].p == t->position)
        m->r[m->si++].start = t->start;
    while (m->ei < m->n && m->iv[m->ei].q < t->position)
        m->ei++;
    if (m->ei < m->n && m->iv[m->ei].q == t->position)
        m->r[m->ei++].end = t->end;
    return m->si == m->n && m->ei == m->n; /* all mapped: stop */
}

/* Frees what the finder holds (the terms are borrowed from the query). */
static void finder_free(finder *f)
{
    free(f->syms);
    free(f->slots);
    free(f->leaves);
    free(f->usyms);
    free(f->occ);
    free(f->iv);
}

int js_snippet_find(js_range **out, size_t *n, const char *text, size_t len,
                    const js_qnode *q, unsigned analyze_flags, unsigned flags)
{
    if (!out || !n || (!text && len))
        return JS_EINVALID;
    if (len > (size_t)JS_SECTION_MAX_BYTES * 2)
        return JS_ELIMIT;
    finder f = {0};
    js_range *r = NULL;
    size_t nr = 0;
    int rc = JS_ENOMEM;
    js_analyze_options o = JS_ANALYZE_OPTIONS_INIT;
    o.flags = analyze_flags;

    if (gather(&f, q, flags))
        goto out;
    /* Terms: in grams mode every gram stands alone; otherwise a leaf of
     * one unit is that term's occurrences, and a longer leaf keeps the
     * syms of its units (in unit order) for match_leaf. */
    for (size_t l = 0; l < f.nleaves; l++) {
        const js_qnode *leaf = f.leaves[l];
        int grams = (flags & JS_FIND_GRAMS) && leaf->ngrams && leaf->grams;
        const js_qunit *v = grams ? leaf->grams : leaf->units;
        uint32_t nv = grams ? leaf->ngrams : leaf->nunits;
        if (leaf->prefix && leaf->nexp) {
            /* a prefix matches where its words are, each a term alone */
            v = leaf->exp;
            nv = leaf->nexp;
            grams = 1;
        }
        for (uint32_t k = 0; k < nv; k++) {
            size_t y = intern(&f, &v[k]);
            if (y == SIZE_MAX)
                goto out;
            if (grams || nv == 1) {
                f.syms[y].whole = 1;
            } else {
                if (js_q_grow(&f.usyms, &f.usymcap, f.nusyms + 1, sizeof *f.usyms))
                    goto out;
                f.usyms[f.nusyms++] = (uint32_t)y;
            }
        }
    }
    rc = 0;
    if (f.nsyms == 0)
        goto out;

    if ((rc = js_text_analyze(text, len, &o, count_token, &f)))
        goto out;
    size_t total = 0;
    for (size_t k = 0; k < f.nsyms; k++) {
        f.syms[k].off = total;
        total += f.syms[k].count;
    }
    rc = 0;
    if (total == 0)
        goto out;
    rc = JS_ENOMEM;
    if (!(f.occ = js_q_calloc(total, sizeof *f.occ)))
        goto out;
    if ((rc = js_text_analyze(text, len, &o, fill_token, &f)))
        goto out;
    rc = JS_ENOMEM;

    for (size_t k = 0; k < f.nsyms; k++) {
        const sym *y = &f.syms[k];
        if (!y->whole)
            continue;
        uint32_t extra = y->kind == JS_TOKEN_BIGRAM;
        for (size_t j = 0; j < y->fill; j++)
            if (add_ival(&f, f.occ[y->off + j], f.occ[y->off + j] + extra))
                goto out;
    }
    const uint32_t *us = f.usyms;
    for (size_t l = 0; l < f.nleaves; l++) {
        const js_qnode *leaf = f.leaves[l];
        if ((flags & JS_FIND_GRAMS) && leaf->ngrams && leaf->grams)
            continue;
        if (leaf->prefix && leaf->nexp)
            continue;
        if (leaf->nunits < 2)
            continue;
        if (match_leaf(&f, leaf, us))
            goto out;
        us += leaf->nunits;
    }
    rc = 0;
    if (f.niv == 0)
        goto out;

    /* Merge intervals sharing a position (their byte ranges overlap);
     * intervals that only touch are merged after mapping, in bytes,
     * because ignorable characters may lie between adjacent positions. */
    qsort(f.iv, f.niv, sizeof *f.iv, cmp_ival);
    size_t m = 0;
    for (size_t k = 0; k < f.niv; k++) {
        if (m && f.iv[k].p <= f.iv[m - 1].q) {
            if (f.iv[k].q > f.iv[m - 1].q)
                f.iv[m - 1].q = f.iv[k].q;
        } else {
            f.iv[m++] = f.iv[k];
        }
    }
    rc = JS_ENOMEM;
    if (!(r = js_q_calloc(m, sizeof *r)))
        goto out;
    for (size_t k = 0; k < m; k++)
        r[k].start = r[k].end = SIZE_MAX;
    mapper mp = {f.iv, m, 0, 0, r};
    rc = js_text_analyze(text, len, &o, map_token, &mp);
    if (rc < 0)
        goto out;
    for (size_t k = 0; k < m; k++) {
        if (r[k].start == SIZE_MAX || r[k].end == SIZE_MAX ||
            r[k].start >= r[k].end)
            continue;
        if (nr && r[k].start <= r[nr - 1].end) {
            if (r[k].end > r[nr - 1].end)
                r[nr - 1].end = r[k].end;
        } else {
            r[nr++] = r[k];
        }
    }
    rc = 0;
out:
    finder_free(&f);
    if (rc || nr == 0) {
        free(r);
        r = NULL;
        nr = 0;
    }
    if (rc)
        return rc;
    *out = r;
    *n = nr;
    return 0;
}

/* ------------------------------------------------------------------
 * The excerpt
 * ---------------------------------------------------------------- */

/* White space and control characters, which the excerpt collapses. */
static int is_space(uint32_t c)
{
    return c <= 0x20 || c == 0x7F || (c >= 0x80 && c <= 0xA0) ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Decodes the character at t[i..len): its length, and *cp (which is
 * JS_UTF8_INVALID for a bad byte, shown as U+FFFD). */
static size_t decode_at(const char *t, size_t len, size_t i, uint32_t *cp)
{
    return js_utf8_decode((const unsigned char *)t + i, len - i, cp);
}

/* Returns where the character that ends at x (> 0) starts, and its code
 * point in *cp; a byte that is not the end of a valid sequence is a
 * character of its own, as the forward decoder sees it. */
static size_t char_before(const char *t, size_t x, uint32_t *cp)
{
    size_t k = x - 1;
    for (int i = 0; i < 3 && k > 0 && ((unsigned char)t[k] & 0xC0) == 0x80;
         i++)
        k--;
    if (decode_at(t, x, k, cp) == x - k && *cp != JS_UTF8_INVALID)
        return k;
    *cp = JS_UTF8_INVALID;
    return x - 1;
}

/* Ends a sentence or a clause: 。！？；.!?; (the ASCII ones only before
 * white space, so that 3.14 and example.com do not end anything). */
static int ends_clause(uint32_t c, uint32_t next)
{
    if (c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF1B ||
        c == 0xFF0E || c == 0xFF61)
        return 1;
    if (c == '.' || c == '!' || c == '?' || c == ';')
        return is_space(next);
    return 0;
}

/* Line breaks, which always end a clause. */
static int is_line_break(uint32_t c)
{
    return c == '\n' || c == '\r' || c == 0x85 || c == 0x2028 || c == 0x2029;
}

/* Walks forward from `from` over at most `width` excerpt characters (a run
 * of white space counts as one, leading white space as none).  Returns the
 * offset just after the last character taken and stores how many were
 * taken in *taken. */
static size_t advance(const char *t, size_t len, size_t from, size_t width,
                      size_t *taken)
{
    size_t i = from, count = 0, end = from;
    int pend = 0, any = 0;
    while (i < len) {
        uint32_t c;
        size_t l = decode_at(t, len, i, &c);
        if (c != JS_UTF8_INVALID && is_space(c)) {
            pend = any;
            i += l;
            continue;
        }
        size_t need = 1 + (size_t)pend;
        if (count + need > width)
            break;
        count += need;
        pend = 0;
        any = 1;
        i += l;
        end = i;
    }
    *taken = count;
    return end;
}

/* Walks back from x over up to n excerpt characters (a run of white
 * space counts as one); returns the offset reached. */
static size_t back(const char *t, size_t x, size_t n)
{
    int prev_space = 0;
    while (x > 0) {
        uint32_t c;
        size_t pb = char_before(t, x, &c);
        int sp = c != JS_UTF8_INVALID && is_space(c);
        if (!sp || !prev_space) {
            if (n == 0)
                break;
            n--;
        }
        prev_space = sp;
        x = pb;
    }
    return x;
}

/* Whether t[from, to) holds a character that is not white space. */
static int has_visible(const char *t, size_t from, size_t to)
{
    for (size_t i = from; i < to;) {
        uint32_t c;
        i += decode_at(t, to, i, &c);
        if (c == JS_UTF8_INVALID || !is_space(c))
            return 1;
    }
    return 0;
}

/* Whether t[0, x) holds such a character, looking back from x. */
static int visible_before(const char *t, size_t x)
{
    while (x > 0) {
        uint32_t c;
        x = char_before(t, x, &c);
        if (c == JS_UTF8_INVALID || !is_space(c))
            return 1;
    }
    return 0;
}

/* Returns the index of the range holding offset x strictly inside
 * (start < x < end), or SIZE_MAX. */
static size_t range_around(const js_range *r, size_t n, size_t x)
{
    size_t lo = 0, hi = n; /* first range with start >= x */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r[mid].start < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 && r[lo - 1].end > x)
        return lo - 1;
    return SIZE_MAX;
}

void js_snippet_clear(js_snippet *s)
{
    if (!s)
        return;
    free(s->text);
    free(s->hl);
    memset(s, 0, sizeof *s);
}

/* Gives each range an id shared by the ranges holding the same bytes.
 * Returns 0 or JS_ENOMEM. */
static int string_ids(const char *t, const js_range *r, size_t n, size_t *ids)
{
    size_t ns = 64;
    while (ns < 2 * n)
        ns *= 2;
    size_t *slots = js_q_calloc(ns, sizeof *slots); /* range index + 1 */
    if (!slots)
        return JS_ENOMEM;
    for (size_t k = 0; k < n; k++) {
        size_t l = r[k].end - r[k].start;
        size_t h = (size_t)hash_term(0, t + r[k].start, l) & (ns - 1);
        for (;; h = (h + 1) & (ns - 1)) {
            if (!slots[h]) {
                slots[h] = k + 1;
                ids[k] = k;
                break;
            }
            const js_range *o = &r[slots[h] - 1];
            if (o->end - o->start == l && !memcmp(t + o->start, t + r[k].start, l)) {
                ids[k] = ids[slots[h] - 1];
                break;
            }
        }
    }
    free(slots);
    return 0;
}

/* How far before the first match a clause start may lie, in characters. */
#define CLAUSE_LOOKBACK 20
/* Characters of context shown before the first match otherwise. */
#define LEAD_MAX 8

/* What js_snippet_make's phases share: the text, the ranges it trusts,
 * and the excerpt's bounds as they are settled. */
typedef struct {
    const char *text;
    size_t len, width;
    js_range *r; /* trusted ranges: inside the text, non-empty, sorted,
                  * disjoint */
    size_t nr;
    size_t ms, me; /* bytes from the best window's first match's start to
                    * its last match's end (0, 0 without a window) */
    size_t start, end; /* the excerpt's bytes */
} excerpt;

/* Keeps the ranges of hl[0..nhl) we trust: inside the text, non-empty,
 * sorted, disjoint; others are skipped rather than believed.  Returns 0
 * or JS_ENOMEM. */
static int trust_ranges(excerpt *e, const js_range *hl, size_t nhl)
{
    if (nhl && !(e->r = js_q_calloc(nhl, sizeof *e->r)))
        return JS_ENOMEM;
    for (size_t k = 0; k < nhl; k++) {
        size_t a = hl[k].start < e->len ? hl[k].start : e->len;
        size_t b = hl[k].end < e->len ? hl[k].end : e->len;
        if (a >= b || (e->nr && a < e->r[e->nr - 1].end))
            continue;
        e->r[e->nr++] = (js_range){a, b};
    }
    return 0;
}

/* Excerpt-character offsets of each range's ends, cs[k] and ce[k], in
 * one pass up to the last range (white space runs count as one). */
static void range_chars(const excerpt *e, size_t *cs, size_t *ce)
{
    size_t i = 0, chars = 0, k = 0, kk = 0;
    int prev_space = 0;
    while (k < e->nr || kk < e->nr) {
        while (k < e->nr && e->r[k].start <= i)
            cs[k++] = chars;
        while (kk < e->nr && e->r[kk].end <= i)
            ce[kk++] = chars;
        if (i >= e->len)
            break;
        uint32_t c;
        size_t l = decode_at(e->text, e->len, i, &c);
        int sp = c != JS_UTF8_INVALID && is_space(c);
        if (!sp || !prev_space)
            chars++;
        prev_space = sp;
        i += l;
    }
}

/* Picks the window of ranges: the most distinct strings (ids), then the
 * most ranges, then the earliest, within the width; a sliding window over
 * ranges [a, j).  cnt[] (nr zeros) is scratch.  Sets e->ms and e->me and
 * returns the width left over around the window. */
static size_t best_window(excerpt *e, const size_t *cs, const size_t *ce,
                          const size_t *ids, size_t *cnt)
{
    size_t nr = e->nr, width = e->width;
    size_t bi = 0, bj = 1, bd = 0, bc = 0, distinct = 0, j = 0;
    for (size_t a = 0; a < nr; a++) {
        if (j == a) {
            distinct += cnt[ids[j]]++ == 0;
            j++;
        }
        while (j < nr && ce[j] - cs[a] <= width) {
            distinct += cnt[ids[j]]++ == 0;
            j++;
        }
        if (distinct > bd || (distinct == bd && j - a > bc)) {
            bi = a;
            bj = j;
            bd = distinct;
            bc = j - a;
        }
        distinct -= --cnt[ids[a]] == 0;
    }
    e->ms = e->r[bi].start;
    e->me = e->r[bj - 1].end;
    size_t used = ce[bj - 1] - cs[bi];
    return width > used ? width - used : 0;
}

/* Returns where the excerpt starts: at a clause start close before the
 * first match (e->ms), else a few characters before it, given `room`
 * characters to spare. */
static size_t window_start(const excerpt *e, size_t room)
{
    size_t limit = room < CLAUSE_LOOKBACK ? room : CLAUSE_LOOKBACK;
    size_t x = e->ms;
    for (size_t steps = 0; steps <= limit; steps++) {
        uint32_t c, next = ' ';
        if (x == 0)
            return x;
        size_t pb = char_before(e->text, x, &c);
        if (x < e->len)
            decode_at(e->text, e->len, x, &next);
        if (c != JS_UTF8_INVALID && (is_line_break(c) || ends_clause(c, next)))
            return x;
        x = pb;
    }
    size_t lead = room / 2 < LEAD_MAX ? room / 2 : LEAD_MAX;
    return back(e->text, e->ms, lead);
}

/* Places the excerpt around the best cluster of ranges: sets e->ms, e->me
 * and e->start (left at 0 when there are no ranges or the text fits).
 * Returns 0 or JS_ENOMEM. */
static int place_window(excerpt *e)
{
    size_t taken;
    /* A text that fits is shown whole, wherever its matches are. */
    size_t end = advance(e->text, e->len, 0, e->width, &taken);
    if (!e->nr || !has_visible(e->text, end, e->len))
        return 0;
    size_t nr = e->nr;
    size_t *cs = js_q_calloc(nr, sizeof *cs);
    size_t *ce = js_q_calloc(nr, sizeof *ce);
    size_t *ids = js_q_calloc(nr, sizeof *ids);
    size_t *cnt = js_q_calloc(nr, sizeof *cnt);
    int rc = JS_ENOMEM;
    if (cs && ce && ids && cnt && !string_ids(e->text, e->r, nr, ids)) {
        range_chars(e, cs, ce);
        e->start = window_start(e, best_window(e, cs, ce, ids, cnt));
        rc = 0;
    }
    free(cs);
    free(ce);
    free(ids);
    free(cnt);
    return rc;
}

/* Returns x moved to the end of the range it lies strictly inside, if
 * any. */
static size_t after_range(const excerpt *e, size_t x)
{
    size_t k = range_around(e->r, e->nr, x);
    return k != SIZE_MAX ? e->r[k].end : x;
}

/* Settles e->start and e->end: never inside a match, the window's matches
 * all in, and more shown before when the text ends with room to spare. */
static void settle_bounds(excerpt *e)
{
    size_t taken;
    /* Never start inside a match: start after it. */
    e->start = after_range(e, e->start);
    e->end = advance(e->text, e->len, e->start, e->width, &taken);
    if (e->end < e->me)
        e->end = e->me;
    /* Reached the end with room to spare: show more before, even if that
     * gives up a clause start (a fuller excerpt is worth more). */
    if (e->start > 0 && taken < e->width &&
        !has_visible(e->text, e->end, e->len))
        e->start = after_range(e, back(e->text, e->start, e->width - taken));
    /* Never end inside a match: stop before it. */
    size_t k = range_around(e->r, e->nr, e->end);
    if (k != SIZE_MAX)
        e->end = e->r[k].start > e->start ? e->r[k].start : e->r[k].end;
}

/* Copies text[start, end) into s: white space runs become one space, bad
 * bytes U+FFFD, "…" marks a cut at either end; a range starts at the
 * first visible character it holds and ends after the last, so collapsed
 * space at either edge stays outside it.  Returns 0 or JS_ENOMEM (then s
 * may hold memory to free). */
static int copy_excerpt(const excerpt *e, js_snippet *s)
{
    const char *text = e->text;
    const js_range *r = e->r;
    size_t start = e->start, end = e->end, nr = e->nr;
    int cut_head = start > 0 && visible_before(text, start);
    int cut_tail = end < e->len && has_visible(text, end, e->len);
    if (!(s->text = js_q_calloc((end - start) * 3 + 8, 1)))
        return JS_ENOMEM;
    size_t first = 0; /* first range inside the excerpt */
    while (first < nr && r[first].start < start)
        first++;
    size_t last = first;
    while (last < nr && r[last].end <= end)
        last++;
    if (last > first && !(s->hl = js_q_calloc(last - first, sizeof *s->hl)))
        return JS_ENOMEM;

    size_t o = 0, rk = first;
    int pend = 0, any = 0, in = 0, want = 0;
    if (cut_head) {
        memcpy(s->text, "\xE2\x80\xA6", 3);
        o = 3;
    }
    for (size_t i = start;;) {
        for (;;) {
            if (in && i >= r[rk].end) {
                if (!want)
                    s->hl[s->nhl++].end = o;
                in = 0;
                want = 0;
                rk++;
            } else if (!in && rk < last && i >= r[rk].start) {
                in = 1;
                want = 1;
            } else {
                break;
            }
        }
        if (i >= end)
            break;
        uint32_t c;
        size_t l = decode_at(text, end, i, &c);
        if (c != JS_UTF8_INVALID && is_space(c)) {
            pend = any;
            i += l;
            continue;
        }
        if (pend)
            s->text[o++] = ' ';
        pend = 0;
        any = 1;
        if (want) {
            s->hl[s->nhl].start = o;
            want = 0;
        }
        if (c == JS_UTF8_INVALID) {
            memcpy(s->text + o, "\xEF\xBF\xBD", 3);
            o += 3;
        } else {
            memcpy(s->text + o, text + i, l);
            o += l;
        }
        i += l;
    }
    if (cut_tail) {
        memcpy(s->text + o, "\xE2\x80\xA6", 3);
        o += 3;
    }
    s->text[o] = 0;
    s->len = o;
    if (!s->nhl) {
        free(s->hl);
        s->hl = NULL;
    }
    return 0;
}

int js_snippet_make(js_snippet *out, const char *text, size_t len,
                    const js_range *hl, size_t nhl, size_t width)
{
    if (!out)
        return JS_EINVALID;
    memset(out, 0, sizeof *out);
    excerpt e = {0};
    e.text = text;
    e.len = text ? len : 0;
    e.width = width < 10 ? 10 : width;
    js_snippet s = {0};
    int rc = trust_ranges(&e, hl, hl ? nhl : 0);
    if (!rc)
        rc = place_window(&e);
    if (!rc) {
        settle_bounds(&e);
        rc = copy_excerpt(&e, &s);
    }
    free(e.r);
    if (rc) {
        js_snippet_clear(&s);
        return rc;
    }
    *out = s;
    return 0;
}
