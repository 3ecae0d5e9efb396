/*
 * search.c — js_reader_search: a query string -> ranked hits with snippets.
 *
 * In:  an open index and a query (jiansuo.h, "Searching").
 * Out: js_results: the best offset+limit sections by BM25F, strict
 *      matches first, then (when those are too few) partial ones; each
 *      with its document, heading path, byte range and a highlighted
 *      snippet from the stored text; the number of strict matches.
 *
 * Steps: parse (query.c) -> iterators (match.c) -> top-k here -> stored
 * text (index/store.c) -> snippet (snippet.c).
 *
 * A query of one common term is answered from the term's champion list
 * when it can be (match.c, index/champ.h): its best sections were ranked
 * when the index was built.
 *
 * Otherwise top-k is document-at-a-time with block-max skipping: once the heap
 * holds k hits, the iterator tree bounds the score of the ids in the
 * postings blocks ahead (js_it_bound); a range whose bound cannot beat
 * the k-th score is jumped over without decoding.  Ties break by section
 * id, smaller first, so results are the same whatever was skipped.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jiansuo.h"
#include "match.h"
#include "query.h"
#include "reader.h"
#include "champ.h"
#include "codec.h"
#include "results.h"
#include "search.h"
#include "snapshot.h"
#include "fields.h"
#include "lexicon.h"


typedef js_scored scored;

/* messages go on the results (results.c) */
#define fail js_results_fail

#define better js_scored_before

/* Min-heap on "better": heap[0] is the worst of the kept hits. */
static void sift_down(scored *h, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && better(&h[w], &h[l]))
            w = l;
        if (r < n && better(&h[w], &h[r]))
            w = r;
        if (w == i)
            return;
        scored t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

static void sift_up(scored *h, uint32_t i)
{
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!better(&h[p], &h[i]))
            return;
        scored t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

static int cmp_rank(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    return better(x, y) ? -1 : better(y, x) ? 1 : 0;
}

static int cmp_id(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Sets r's total after a top-k pass that scored `seen` matches: exact
 * unless blocks were pruned; then a part counted in full for its idf
 * knows its total (est: the tree, or NULL), else its estimate counts
 * when larger than what was seen. */
static void set_total(js_results *r, const js_it *est, uint64_t seen,
                      int pruned)
{
    r->exact = !pruned;
    r->total = seen;
    if (!pruned || !est)
        return;
    int ex;
    double e = js_it_estimate(est, &ex);
    if (ex) {
        r->total = (uint64_t)llround(e);
        r->exact = 1;
    } else if (e > (double)seen) {
        r->total = (uint64_t)llround(e);
    }
}

/* The ids of the n hits h holds, ascending (for a partial pass to pass
 * over), malloc'ed; NULL without memory. */
static uint32_t *sorted_ids(const scored *h, uint32_t n)
{
    uint32_t *ids = malloc(((size_t)n + 1) * sizeof *ids);
    if (!ids)
        return NULL;
    for (uint32_t i = 0; i < n; i++)
        ids[i] = h[i].id;
    qsort(ids, n, sizeof *ids, cmp_id);
    return ids;
}

/* Runs root to its best k sections into heap (n of them, sorted best
 * first on return).  The sections in skip[0..nskip) (ascending) are
 * passed over.  *seen counts the matches scored; *pruned tells whether
 * blocks were skipped (then *seen is not the total).  Returns 0 or a
 * negative JS_E* code. */
static int top_k_more(js_it *root, const uint32_t *skip, uint32_t nskip,
                      uint32_t k, int no_prune, scored *heap, uint32_t *n,
                      uint64_t *seen, int *pruned, const js_deletes *del,
                      uint32_t base);

static int top_k(js_it *root, const uint32_t *skip, uint32_t nskip,
                 uint32_t k, int no_prune, scored *heap, uint32_t *n,
                 uint64_t *seen, int *pruned)
{
    *n = 0;
    *seen = 0;
    *pruned = 0;
    int rc = top_k_more(root, skip, nskip, k, no_prune, heap, n, seen, pruned,
                        NULL, 0);
    if (!rc)
        qsort(heap, *n, sizeof *heap, cmp_rank);
    return rc;
}

/* top_k's loop, going on from the n hits heap holds (a heap, not sorted),
 * adding to *seen and *pruned: a segment of a live snapshot, whose ids
 * are offset by base in heap and skip, and whose sections in del are
 * passed over as if they were not there. */
static int top_k_more(js_it *root, const uint32_t *skip, uint32_t nskip,
                      uint32_t k, int no_prune, scored *heap, uint32_t *n,
                      uint64_t *seen, int *pruned, const js_deletes *del,
                      uint32_t base)
{
    uint32_t target = 0, upto = 0, si = 0;
    double ub = 0;
    int have_bound = 0, rc;
    for (;;) {
        if (*n == k && !no_prune) {
            double theta = heap[0].score;
            /* a small margin keeps rounding in the bound from dropping a
             * hit whose exact score would tie or pass theta */
            double eps = 1e-9 * (theta > 1 ? theta : 1);
            if (js_it_max(root) + eps <= theta) {
                *pruned = 1;
                break;
            }
            if (js_it_floor(root, theta - eps))
                *pruned = 1;
            if (!have_bound || target > upto) {
                if ((rc = js_it_bound(root, target, &ub, &upto)))
                    return rc;
                have_bound = 1;
            }
            if (ub + eps <= theta) {
                *pruned = 1;
                if (upto == JS_IT_END)
                    break;
                target = upto + 1;
                have_bound = 0;
                continue;
            }
        }
        if ((rc = js_it_next(root, target)))
            return rc;
        uint32_t id = js_it_id(root);
        if (id == JS_IT_END)
            break;
        target = id + 1;
        if (js_deletes_test(del, id))
            goto next;
        while (si < nskip && skip[si] < base + id)
            si++;
        if (si < nskip && skip[si] == base + id)
            goto next;
        (*seen)++;
        if (k == 0)
            goto next;
        scored s = {0, base + id};
        if ((rc = js_it_score(root, &s.score)))
            return rc;
        if (*n < k) {
            heap[*n] = s;
            sift_up(heap, (*n)++);
        } else if (better(&s, &heap[0])) {
            heap[0] = s;
            sift_down(heap, *n, 0);
        }
    next:
        if (id == JS_IT_END - 1)
            break;
    }
    return 0;
}

/* The indexes a prefix is expanded over: one, or a snapshot's segments
 * (each lexicon consulted, the dfs summed by js_query_expand). */
typedef struct lexicons {
    const js_reader *one;
    const js_snap *sn;
    js_results *r;
} lexicons;

typedef struct offer_ctx {
    js_qexpansion *x;
    int heading; /* the terms carry the 0x01 heading prefix */
} offer_ctx;

/* js_lexicon_prefix callback: offers a word (only words: a prefix starts
 * with a word's character, but the check costs nothing). */
static int offer(void *ctx, const char *term, size_t len,
                 const js_term_info *info)
{
    offer_ctx *o = ctx;
    if (o->heading) {
        term++;
        len--;
    }
    if (js_fields_term_kind(term, len) != JS_TOKEN_WORD)
        return 0;
    return js_qexpansion_add(o->x, term, len, info->df);
}

/* Offers the words of one index starting with leaf's prefix, in the
 * fields the leaf searches. */
static int offer_index(const js_reader *ix, const js_qnode *leaf,
                       js_qexpansion *x, js_results *r)
{
    char term[JS_TERM_MAX_BYTES + 2];
    const js_qunit *u = &leaf->units[0];
    if (u->len > JS_TERM_MAX_BYTES)
        return 0; /* no indexed word is that long */
    term[0] = 1;
    memcpy(term + 1, u->term, u->len);
    for (int heading = leaf->heading_only; heading < 2; heading++) {
        offer_ctx o = {x, heading};
        int rc = js_lexicon_prefix(ix->lex, heading ? term : term + 1,
                                   u->len + (size_t)heading, offer, &o);
        if (rc == JS_ENOMEM)
            return rc;
        if (rc)
            return fail(r, rc, "the index is corrupt: the lexicon near "
                        "\"%s\"", u->term);
    }
    return 0;
}

/* js_qexpand_fn over one index or every segment of a snapshot. */
static int expand_native(void *ctx, const js_qnode *leaf, js_qexpansion *x)
{
    const lexicons *l = ctx;
    if (l->one)
        return offer_index(l->one, leaf, x, l->r);
    for (uint32_t j = 0; j < l->sn->nsegs; j++) {
        int rc = offer_index(l->sn->segs[j].r, leaf, x, l->r);
        if (rc)
            return rc;
    }
    return 0;
}

/* Adds the hit for section id to r: document, headings and body from
 * the index, then results.c makes the hit and its snippet.  Returns 0 or
 * a negative code with r's message set. */
static int make_hit(js_results *r, const js_reader *ix, const js_qnode *q,
                    const scored *sc, uint32_t shown, int partial,
                    const js_search_options *o)
{
    js_section_rec rec;
    js_doc_rec doc;
    int rc = js_reader_section(ix, sc->id, &rec);
    if (rc)
        return fail(r, rc, "the index is corrupt: section %u", sc->id);
    rc = js_reader_document(ix, rec.document, &doc);
    if (rc)
        return fail(r, rc, "the index is corrupt: document %u of section %u",
                    rec.document, sc->id);
    /* the heading path from its own part, so that hits without snippets
     * never inflate a store block */
    const char *path;
    size_t path_len;
    if ((rc = js_reader_headings(ix, sc->id, &path, &path_len)))
        return fail(r, rc, "the index is corrupt: heading path of section %u",
                    sc->id);
    char *body = NULL;
    size_t body_len = 0;
    if (!(o->flags & JS_SEARCH_NO_SNIPPET) &&
        (rc = js_store_get(ix->store, sc->id, NULL, NULL, &body, &body_len)))
        return fail(r, rc, "the index is corrupt: stored text of section %u",
                    sc->id);
    js_hit_src src = {
        .doc = {doc.source, doc.title, doc.format, doc.encoding, doc.id,
                doc.metadata},
        .path = path, .path_len = path_len,
        .section = shown, .ordinal = rec.ordinal,
        .start = rec.start, .end = rec.end,
        .score = sc->score, .partial = partial,
        .body = body, .body_len = body_len,
    };
    rc = js_results_add(r, &src, q, ix->st.analyze_flags, o);
    free(body);
    return rc;
}

int js_reader_search(js_results **out, js_reader *ix, const char *query, size_t len,
              const js_search_options *opts)
{
    js_search_options o;
    js_qnode *q = NULL;
    js_it *strict = NULL, *part = NULL;
    js_verify ver; /* phrase checks against the stored text (verify.h) */
    js_verify_init(&ver, ix);
    scored *heap = NULL;
    uint32_t *skip = NULL;
    int rc = js_results_begin(out, ix != NULL, query, len,
                              ix ? ix->st.analyze_flags : 0, opts, &o, &q);
    js_results *r = *out;
    if (!r)
        return rc;
    if (rc)
        goto out;
    lexicons lx = {ix, NULL, r};
    if ((rc = js_results_expand(r, q, expand_native, &lx)))
        goto out;
    js_scorer sc;
    js_term_memo memo;
    memo.n = 0;
    js_scorer_init(&sc, ix, o.k1, o.b, o.heading_weight);
    sc.memo = &memo;
    sc.verify = &ver;
    if ((rc = js_match_build(&strict, &sc, q, 0, r->err, sizeof r->err)))
        goto out;

    uint32_t k = o.offset + o.limit, nstrict = 0, npart = 0;
    if (!(heap = malloc(((size_t)k + 1) * sizeof *heap))) {
        rc = fail(r, JS_ENOMEM, "out of memory");
        goto out;
    }
    uint64_t seen;
    int pruned;
    int champ = 0;
    uint64_t champ_total = 0;
    if (!(o.flags & JS_SEARCH_NO_CHAMPIONS) &&
        (champ = js_match_champions(strict, k, heap, &nstrict,
                                    &champ_total)) < 0) {
        rc = champ == JS_ENOMEM
                 ? fail(r, champ, "out of memory")
                 : fail(r, champ, "the index is corrupt: a champion list");
        goto out;
    }
    if (champ) {
        /* a one-term query answered by the term's champion list */
        r->total = champ_total;
        r->exact = 1;
    } else if (k == 0 && !(o.flags & JS_SEARCH_EXACT_TOTAL)) {
        double est = js_it_estimate(strict, &r->exact);
        r->total = (uint64_t)llround(est);
    } else {
        rc = top_k(strict, NULL, 0, k, (o.flags & JS_SEARCH_EXACT_TOTAL) != 0,
                   heap, &nstrict, &seen, &pruned);
        if (rc) {
            fail(r, rc, "the index is corrupt: %s", js_strerror(rc));
            goto out;
        }
        set_total(r, strict, seen, pruned);
    }

    /* partial hits fill what the strict ones leave of the k asked for.
     * With fewer than k strict hits none was pruned: the heap holds every
     * strict match, the ones the partial pass must pass over. */
    scored *pheap = heap + nstrict;
    if (nstrict < k && !(o.flags & JS_SEARCH_NO_PARTIAL)) {
        if ((rc = js_match_build(&part, &sc, q, 1, r->err, sizeof r->err)))
            goto out;
    }
    if (part) {
        if (!(skip = sorted_ids(heap, nstrict))) {
            rc = fail(r, JS_ENOMEM, "out of memory");
            goto out;
        }
        uint64_t pseen;
        rc = top_k(part, skip, nstrict, k - nstrict, 0, pheap, &npart, &pseen,
                   &pruned);
        if (rc) {
            fail(r, rc, "the index is corrupt: %s", js_strerror(rc));
            goto out;
        }
    }

    uint32_t all = nstrict + npart;
    uint32_t first = o.offset < all ? o.offset : all;
    for (uint32_t i = first; i < all; i++) {
        rc = make_hit(r, ix, q, &heap[i], heap[i].id, i >= nstrict, &o);
        if (rc)
            goto out;
    }
out:
    js_it_free(strict);
    js_it_free(part);
    js_verify_free(&ver);
    free(skip);
    js_query_free(q);
    free(heap);
    if (rc && !r->err[0])
        fail(r, rc, "%s", js_strerror(rc));
    return rc;
}

/* ---- a live snapshot of several segments (snapshot.h) ---- */

/* The segment of snapshot id gid. */
static const js_snap_seg *seg_of(const js_snap *sn, uint32_t gid)
{
    uint32_t lo = 0, hi = sn->nsegs;
    while (hi - lo > 1) {
        uint32_t m = lo + (hi - lo) / 2;
        if (sn->segs[m].base <= gid)
            lo = m;
        else
            hi = m;
    }
    return &sn->segs[lo];
}

/* A one-term query over a snapshot's segments from their champion lists
 * (js_match_champions_seg), a segment without a list walked for its best
 * k: the best k of all, when they decide it (every list whole, or the
 * k-th best score above what any section outside a list could score).
 * Returns 1 with heap[0..*n) sorted, 0 to walk every segment instead,
 * or a negative code. */
static int snap_champions(js_results *r, const js_snap *sn, js_scorer *sc,
                          const js_qnode *q, uint32_t k, scored *heap,
                          uint32_t *n, js_it **est)
{
    uint32_t ns = sn->nsegs;
    size_t cap = (size_t)ns * (JS_CHAMP_MAX_SIZE + k) + 1;
    scored *cand = malloc(cap * sizeof *cand);
    scored *tmp = malloc(((size_t)JS_CHAMP_MAX_SIZE + k + 1) * sizeof *tmp);
    int rc = cand && tmp ? 1 : fail(r, JS_ENOMEM, "out of memory");
    size_t nc = 0;
    double outside = -INFINITY;
    int listed = 0; /* segments answered by their lists */
    for (uint32_t j = 0; j < ns && rc == 1; j++) {
        js_it *it = NULL;
        if ((rc = js_match_build(&it, &sc[j], q, 0, r->err, sizeof r->err)))
            break;
        const js_snap_seg *g = &sn->segs[j];
        uint32_t m = 0;
        double o;
        rc = js_match_champions_seg(it, tmp, &m, &o);
        if (rc == 0) { /* no list here: this segment's best k, walked */
            uint64_t seen = 0;
            int pruned = 0;
            rc = top_k_more(it, NULL, 0, k, 0, tmp, &m, &seen, &pruned,
                            g->del, g->base);
            for (uint32_t i = 0; !rc && i < m; i++)
                cand[nc++] = tmp[i];
            rc = rc ? rc : 1;
        } else if (rc == 1) {
            listed++;
            for (uint32_t i = 0; i < m; i++)
                if (!js_deletes_test(g->del, tmp[i].id))
                    cand[nc++] = (scored){tmp[i].score, g->base + tmp[i].id};
            if (o > outside)
                outside = o;
        }
        if (j == 0 && rc == 1)
            *est = it; /* the snapshot's estimate, for the total */
        else
            js_it_free(it);
    }
    if (rc == 1 && !listed)
        rc = 0; /* no list anywhere: the walk counts its total exactly */
    if (rc == 1) {
        qsort(cand, nc, sizeof *cand, cmp_rank);
        uint32_t m = nc < k ? (uint32_t)nc : k;
        /* sections outside a list could fill or beat the page */
        if (outside > -INFINITY && (m < k || !(cand[m - 1].score > outside)))
            rc = 0;
        if (rc == 1) {
            memcpy(heap, cand, (size_t)m * sizeof *heap);
            *n = m;
        }
    }
    if (rc < 0 && !r->err[0])
        fail(r, rc, "the index is corrupt: %s", js_strerror(rc));
    free(cand);
    free(tmp);
    return rc;
}

/* One pass (strict or partial) over every segment into heap. */
static int snap_pass(js_results *r, const js_snap *sn, js_scorer *sc,
                     const js_qnode *q, int partial, const uint32_t *skip,
                     uint32_t nskip, uint32_t k, int no_prune, scored *heap,
                     uint32_t *n, uint64_t *seen, int *pruned, js_it **first)
{
    for (uint32_t j = 0; j < sn->nsegs; j++) {
        js_it *it = NULL;
        int rc = js_match_build(&it, &sc[j], q, partial, r->err,
                                sizeof r->err);
        if (rc)
            return rc;
        if (!it) /* partial: one gram, its partial matches its strict */
            return 0;
        rc = top_k_more(it, skip, nskip, k, no_prune, heap, n, seen, pruned,
                        sn->segs[j].del, sn->segs[j].base);
        if (rc) {
            js_it_free(it);
            return fail(r, rc, "the index is corrupt: %s", js_strerror(rc));
        }
        if (first && !*first)
            *first = it;
        else
            js_it_free(it);
    }
    return 0;
}

int js_snap_search(js_results **out, js_snap *sn, const char *query,
                   size_t len, const js_search_options *opts)
{
    if (sn->nsegs == 1 && !js_deletes_count(sn->segs[0].del))
        return js_reader_search(out, sn->segs[0].r, query, len, opts);
    js_search_options o;
    js_qnode *q = NULL;
    unsigned flags = sn->nsegs ? sn->segs[0].r->st.analyze_flags : 0;
    int rc = js_results_begin(out, 1, query, len, flags, opts, &o, &q);
    js_results *r = *out;
    if (!r)
        return rc;
    scored *heap = NULL;
    uint32_t *skip = NULL;
    js_scorer *sc = NULL;
    const js_scorer **all = NULL;
    js_term_memo *memo = NULL;
    js_verify *ver = NULL;
    js_it *est = NULL;
    js_part_cache parts = {0}; /* parts counted, shared by the segments */
    uint32_t ns = sn->nsegs;
    if (rc)
        goto out;
    uint32_t k = o.offset + o.limit, nstrict = 0, npart = 0;
    if (ns == 0) /* nothing indexed, or everything deleted */
        goto out;
    lexicons lx = {NULL, sn, r};
    if ((rc = js_results_expand(r, q, expand_native, &lx)))
        goto out;
    sc = calloc(ns, sizeof *sc);
    all = calloc(ns, sizeof *all);
    memo = calloc(ns, sizeof *memo);
    ver = calloc(ns, sizeof *ver);
    heap = malloc(((size_t)k + 1) * sizeof *heap);
    if (!sc || !all || !memo || !ver || !heap) {
        rc = fail(r, JS_ENOMEM, "out of memory");
        goto out;
    }
    double n = (double)sn->sections;
    for (uint32_t j = 0; j < ns; j++) {
        const js_reader *ix = sn->segs[j].r;
        js_verify_init(&ver[j], ix);
        js_scorer_init(&sc[j], ix, o.k1, o.b, o.heading_weight);
        sc[j].memo = &memo[j];
        sc[j].verify = &ver[j];
        sc[j].n = n;
        js_scorer_norms_for(&sc[j], js_norm_avg(sn->body_units, sn->sections),
                            js_norm_avg(sn->head_units, sn->sections),
                            js_norm_avg(ix->st.body_units, ix->nsections),
                            js_norm_avg(ix->st.heading_units, ix->nsections));
        sc[j].all = all;
        sc[j].nall = ns;
        sc[j].del = sn->segs[j].del;
        sc[j].live_base = sn->segs[j].live_base;
        sc[j].parts = &parts;
        all[j] = &sc[j];
    }
    uint64_t seen = 0;
    int pruned = 0;
    int no_prune = (o.flags & JS_SEARCH_EXACT_TOTAL) != 0;
    if (k == 0 && !no_prune) { /* the estimate alone, as on one index */
        if ((rc = js_match_build(&est, &sc[0], q, 0, r->err, sizeof r->err)))
            goto out;
        r->total = (uint64_t)llround(js_it_estimate(est, &r->exact));
        goto out;
    }
    int champ = 0;
    /* the lists answer a query of one term (one unit, either field), as
     * on one index (js_match_champions); its partial matches are its
     * strict ones */
    int one_term = q->op == JS_Q_LEAF && q->nunits == 1 && !q->heading_only &&
                   q->ngrams == 1 && (!q->prefix || q->nexp <= 1);
    if (one_term && !no_prune && !(o.flags & JS_SEARCH_NO_CHAMPIONS) &&
        (champ = snap_champions(r, sn, sc, q, k, heap, &nstrict, &est)) < 0) {
        rc = champ;
        goto out;
    }
    if (champ) {
        /* answered by the lists: the total is the part's count over the
         * snapshot (exact unless the part is in both fields) */
        r->total = (uint64_t)llround(js_it_estimate(est, &r->exact));
        goto hits;
    }
    js_it_free(est);
    est = NULL;
    if ((rc = snap_pass(r, sn, sc, q, 0, NULL, 0, k, no_prune, heap,
                        &nstrict, &seen, &pruned, &est)))
        goto out;
    qsort(heap, nstrict, sizeof *heap, cmp_rank);
    /* the parts' counts in the first segment's tree are the whole
     * snapshot's (match.c) */
    set_total(r, est, seen, pruned);
    if (nstrict < k && !(o.flags & JS_SEARCH_NO_PARTIAL)) {
        if (!(skip = sorted_ids(heap, nstrict))) {
            rc = fail(r, JS_ENOMEM, "out of memory");
            goto out;
        }
        uint64_t pseen = 0;
        int ppruned = 0;
        if ((rc = snap_pass(r, sn, sc, q, 1, skip, nstrict, k - nstrict,
                            0, heap + nstrict, &npart, &pseen, &ppruned,
                            NULL)))
            goto out;
        qsort(heap + nstrict, npart, sizeof *heap, cmp_rank);
    }
hits:;
    uint32_t nall = nstrict + npart;
    for (uint32_t i = o.offset < nall ? o.offset : nall; i < nall; i++) {
        const js_snap_seg *g = seg_of(sn, heap[i].id);
        scored local = {heap[i].score, heap[i].id - g->base};
        /* hits name the snapshot's id */
        if ((rc = make_hit(r, g->r, q, &local, heap[i].id, i >= nstrict, &o)))
            goto out;
    }
out:
    js_it_free(est);
    js_part_cache_free(&parts);
    if (ver)
        for (uint32_t j = 0; j < ns; j++)
            js_verify_free(&ver[j]);
    free(ver);
    free(memo);
    free(all);
    free(sc);
    free(skip);
    free(heap);
    js_query_free(q);
    if (rc && !r->err[0])
        fail(r, rc, "%s", js_strerror(rc));
    return rc;
}
