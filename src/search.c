/*
 * search.c — js_search: a query string -> ranked hits with snippets.
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
 * Top-k is document-at-a-time with block-max skipping: once the heap
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
#include "snippet.h"

/* A partial hit must hold this share of the query's grams. */
#define PARTIAL_SHARE 0.4

typedef struct scored {
    double score;
    uint32_t id;
} scored;

typedef struct hit_store {
    js_hit h;
    char *strs[6];   /* source, title, format, encoding, id, metadata */
    char *path;      /* heading path, U+001F replaced by NULs */
    const char **headings;
    char *snippet;
    size_t *hl;
} hit_store;

struct js_results {
    hit_store *hits;
    size_t n;
    uint64_t total;
    int exact;
    char *query;
    char err[512];
};

/* Sets the message of r (when there is one) and returns rc. */
static int fail(js_results *r, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(js_results *r, int rc, const char *fmt, ...)
{
    if (r) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err, sizeof r->err, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* a ranks before b */
static int better(const scored *a, const scored *b)
{
    return a->score > b->score || (a->score == b->score && a->id < b->id);
}

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

/* Runs root to its best k sections into heap (n of them, sorted best
 * first on return).  Sections where `skip` (may be NULL) matches are
 * passed over.  *seen counts the matches scored; *pruned tells whether
 * blocks were skipped (then *seen is not the total).  Returns 0 or a
 * negative JS_E* code. */
static int top_k(js_it *root, js_it *skip, uint32_t k, int no_prune,
                 scored *heap, uint32_t *n, uint64_t *seen, int *pruned)
{
    uint32_t target = 0, upto = 0;
    double ub = 0;
    int have_bound = 0, rc;
    *n = 0;
    *seen = 0;
    *pruned = 0;
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
        if (skip) {
            if ((rc = js_it_next(skip, id)))
                return rc;
            if (js_it_id(skip) == id)
                goto next;
        }
        (*seen)++;
        if (k == 0)
            goto next;
        scored s = {0, id};
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
    qsort(heap, *n, sizeof *heap, cmp_rank);
    return 0;
}

static char *dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Fills hit h for section id: document, headings, snippet.  Returns 0 or
 * a negative code with r's message set. */
static int make_hit(js_results *r, hit_store *hs, js_index *ix,
                    const js_qnode *q, const scored *sc, int partial,
                    const js_search_options *o)
{
    js_hit *h = &hs->h;
    js_section_rec rec;
    js_doc_rec doc;
    js_index_section(ix, sc->id, &rec);
    int rc = js_index_document(ix, rec.document, &doc);
    if (rc)
        return fail(r, rc, "the index is corrupt: document %u of section %u",
                    rec.document, sc->id);
    const char *src[6] = {doc.source, doc.title,    doc.format,
                          doc.encoding, doc.id, doc.metadata};
    for (int i = 0; i < 6; i++)
        if (!(hs->strs[i] = dup(src[i])))
            return fail(r, JS_ENOMEM, "out of memory");
    h->section = sc->id;
    h->ordinal = rec.ordinal;
    h->score = sc->score;
    h->partial = partial;
    h->source = hs->strs[0];
    h->title = hs->strs[1];
    h->format = hs->strs[2];
    h->encoding = hs->strs[3];
    h->id = hs->strs[4];
    h->metadata = hs->strs[5];
    h->start = rec.start;
    h->end = rec.end;
    h->snippet = "";

    /* the heading path from its own part, so that hits without snippets
     * never inflate a store block */
    const char *hp;
    size_t path_len;
    if ((rc = js_index_headings(ix, sc->id, &hp, &path_len)))
        return fail(r, rc, "the index is corrupt: heading path of section %u",
                    sc->id);
    if (!(hs->path = malloc(path_len + 1)))
        return fail(r, JS_ENOMEM, "out of memory");
    memcpy(hs->path, hp, path_len);
    hs->path[path_len] = 0;
    size_t depth = path_len ? 1 : 0;
    for (size_t i = 0; i < path_len; i++)
        depth += hs->path[i] == 0x1F;
    if (!(hs->headings = calloc(depth + 1, sizeof *hs->headings)))
        return fail(r, JS_ENOMEM, "out of memory");
    if (depth) {
        size_t d = 0;
        hs->headings[d++] = hs->path;
        for (size_t i = 0; i < path_len; i++)
            if (hs->path[i] == 0x1F) {
                hs->path[i] = 0;
                hs->headings[d++] = hs->path + i + 1;
            }
    }
    h->headings = hs->headings;
    h->depth = depth;
    if (o->flags & JS_SEARCH_NO_SNIPPET)
        return 0;

    char *body = NULL;
    size_t body_len = 0;
    if ((rc = js_store_get(ix->store, sc->id, NULL, NULL, &body, &body_len)))
        return fail(r, rc, "the index is corrupt: stored text of section %u",
                    sc->id);
    js_range *found = NULL;
    size_t nfound = 0;
    rc = js_snippet_find(&found, &nfound, body, body_len, q,
                         ix->st.analyze_flags, partial ? JS_FIND_GRAMS : 0);
    js_snippet sn = {0};
    if (!rc)
        rc = js_snippet_make(&sn, body, body_len, found, nfound,
                             o->snippet_chars);
    free(found);
    free(body);
    if (rc)
        return fail(r, rc, "making the snippet of section %u: %s", sc->id,
                    js_strerror(rc));
    hs->snippet = sn.text;
    h->snippet = sn.text;
    h->snippet_len = sn.len;
    if (sn.nhl) {
        if (!(hs->hl = malloc(2 * sn.nhl * sizeof *hs->hl))) {
            js_snippet_clear(&sn);
            hs->snippet = NULL;
            return fail(r, JS_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < sn.nhl; i++) {
            hs->hl[2 * i] = sn.hl[i].start;
            hs->hl[2 * i + 1] = sn.hl[i].end;
        }
    }
    h->highlights = hs->hl;
    h->nhighlights = sn.nhl;
    free(sn.hl); /* the text now belongs to hs */
    return 0;
}

/* Checks and completes the options.  Returns 0 or JS_EINVALID. */
static int options(js_results *r, const js_search_options *in,
                   js_search_options *o)
{
    js_search_options d = JS_SEARCH_OPTIONS_INIT;
    *o = in ? *in : d;
    if (o->version != JS_SEARCH_OPTIONS_VERSION)
        return fail(r, JS_EINVALID, "unknown search options version %u",
                    o->version);
    if (!(o->k1 >= 0 && o->k1 <= 100))
        return fail(r, JS_EINVALID, "k1 must lie in 0..100");
    if (!(o->b >= 0 && o->b <= 1))
        return fail(r, JS_EINVALID, "b must lie in 0..1");
    if (!(o->heading_weight >= 0 && o->heading_weight <= 1000))
        return fail(r, JS_EINVALID, "the heading weight must lie in 0..1000");
    if ((uint64_t)o->offset + o->limit > JS_SEARCH_MAX_HITS)
        return fail(r, JS_ELIMIT, "offset + limit is over %u",
                    JS_SEARCH_MAX_HITS);
    if (o->snippet_chars == 0)
        o->snippet_chars = 80;
    if (o->snippet_chars < 10)
        o->snippet_chars = 10;
    if (o->snippet_chars > 10000)
        o->snippet_chars = 10000;
    return 0;
}

int js_search(js_results **out, js_index *ix, const char *query, size_t len,
              const js_search_options *opts)
{
    *out = NULL;
    js_results *r = calloc(1, sizeof *r);
    if (!r)
        return JS_ENOMEM;
    *out = r;
    if (!ix || (!query && len))
        return fail(r, JS_EINVALID, "no index or no query");
    js_search_options o;
    int rc = options(r, opts, &o);
    if (rc)
        return rc;

    js_qnode *q = NULL;
    js_it *strict = NULL, *part = NULL, *skip = NULL;
    scored *heap = NULL;
    rc = js_query_parse(&q, query ? query : "", len, ix->st.analyze_flags,
                        r->err, sizeof r->err);
    if (rc)
        goto out;
    if (!(r->query = js_query_format(q))) {
        rc = fail(r, JS_ENOMEM, "out of memory");
        goto out;
    }
    js_scorer sc;
    js_scorer_init(&sc, ix, o.k1, o.b, o.heading_weight);
    if ((rc = js_match_build(&strict, &sc, q, 0, 0, r->err, sizeof r->err)))
        goto out;

    uint32_t k = o.offset + o.limit, nstrict = 0, npart = 0;
    if (!(heap = malloc(((size_t)k + 1) * sizeof *heap))) {
        rc = fail(r, JS_ENOMEM, "out of memory");
        goto out;
    }
    uint64_t seen;
    int pruned;
    if (k == 0 && !(o.flags & JS_SEARCH_EXACT_TOTAL)) {
        double est = js_it_estimate(strict, &r->exact);
        r->total = (uint64_t)llround(est);
    } else {
        rc = top_k(strict, NULL, k, (o.flags & JS_SEARCH_EXACT_TOTAL) != 0,
                   heap, &nstrict, &seen, &pruned);
        if (rc) {
            fail(r, rc, "the index is corrupt: %s", js_strerror(rc));
            goto out;
        }
        r->exact = !pruned;
        r->total = seen;
        if (pruned) {
            /* a part counted in full for its idf knows its total */
            int ex;
            double est = js_it_estimate(strict, &ex);
            if (ex) {
                r->total = (uint64_t)llround(est);
                r->exact = 1;
            } else if (est > (double)seen) {
                r->total = (uint64_t)llround(est);
            }
        }
    }

    /* partial hits fill what the strict ones leave of the k asked for */
    scored *pheap = heap + nstrict;
    if (nstrict < k && !(o.flags & JS_SEARCH_NO_PARTIAL)) {
        rc = js_match_build(&part, &sc, q, 1, PARTIAL_SHARE, r->err,
                            sizeof r->err);
        if (!rc)
            rc = js_match_build(&skip, &sc, q, 0, 0, r->err, sizeof r->err);
        if (rc)
            goto out;
        uint64_t pseen;
        rc = top_k(part, skip, k - nstrict, 0, pheap, &npart, &pseen, &pruned);
        if (rc) {
            fail(r, rc, "the index is corrupt: %s", js_strerror(rc));
            goto out;
        }
    }

    uint32_t all = nstrict + npart;
    uint32_t first = o.offset < all ? o.offset : all;
    if (all > first) {
        if (!(r->hits = calloc(all - first, sizeof *r->hits))) {
            rc = fail(r, JS_ENOMEM, "out of memory");
            goto out;
        }
    }
    for (uint32_t i = first; i < all; i++) {
        r->n++;
        rc = make_hit(r, &r->hits[i - first], ix, q, &heap[i], i >= nstrict,
                      &o);
        if (rc)
            goto out;
    }
out:
    js_it_free(strict);
    js_it_free(part);
    js_it_free(skip);
    js_query_free(q);
    free(heap);
    if (rc && !r->err[0])
        fail(r, rc, "%s", js_strerror(rc));
    return rc;
}

size_t js_results_count(const js_results *r) { return r ? r->n : 0; }

const js_hit *js_results_hit(const js_results *r, size_t i)
{
    return r && i < r->n ? &r->hits[i].h : NULL;
}

uint64_t js_results_total(const js_results *r, int *exact)
{
    if (exact)
        *exact = r ? r->exact : 0;
    return r ? r->total : 0;
}

const char *js_results_query(const js_results *r)
{
    return r && r->query ? r->query : "";
}

const char *js_results_errmsg(const js_results *r) { return r ? r->err : ""; }

void js_results_free(js_results *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        hit_store *hs = &r->hits[i];
        for (int j = 0; j < 6; j++)
            free(hs->strs[j]);
        free(hs->path);
        free(hs->headings);
        free(hs->snippet);
        free(hs->hl);
    }
    free(r->hits);
    free(r->query);
    free(r);
}
