/*
 * match.c — query tree -> iterators over postings: matching sections in
 * id order, their BM25F scores, and block-max score bounds.
 *
 * In:  a js_qnode tree (query.c) and an open index (index/reader.c).
 * Out: a js_it tree (match.h) that search.c drives for top-k.
 *
 * Layers, bottom up:
 *   field phrase  one leaf in one field: a cursor per unit, intersected
 *                 rarest first (leapfrog), then the units' positions
 *                 checked for the leaf's relative offsets; yields
 *                 sections and the leaf's frequency there.
 *   leaf          the union of the body and heading field phrases of a
 *                 part (only the heading for title:), scored BM25F.
 *   and / or      intersection (with exclusions) and union of children,
 *                 scores added; an OR may demand a minimum number of
 *                 matching children (partial matching on grams).
 * Bounds: a field phrase bounds its frequency in [target, last id of the
 * block] by the rarest unit's block max tf and smallest length from the
 * skip table, so whole blocks whose best score cannot enter the top k are
 * skipped without being decoded.
 */
#include "config.h"

#include "match.h"

#include "fields.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Candidates of a part's rarest unit counted in full for its df; above
 * this the df is extrapolated from a prefix of the id space (see
 * leaf_count). */
#define COUNT_BUDGET 8192

void js_scorer_init(js_scorer *s, const js_reader *ix, double k1, double b,
                    double w)
{
    s->ix = ix;
    s->memo = NULL;
    s->verify = NULL;
    s->k1 = k1;
    s->b = b;
    s->w = w;
    s->norm_scale_b = s->norm_scale_h = 1;
    s->all = NULL;
    s->nall = 0;
    s->del = NULL;
    s->live_base = 0;
    s->parts = NULL;
    s->n = (double)ix->nsections;
    /* as the builder computed them for the postings' norms */
    s->avg_b = js_norm_avg(ix->st.body_units, ix->nsections);
    s->avg_h = js_norm_avg(ix->st.heading_units, ix->nsections);
}

void js_scorer_norms_for(js_scorer *s, double avg_b, double avg_h,
                         double seg_b, double seg_h)
{
    s->avg_b = avg_b;
    s->avg_h = avg_h;
    /* a hair above the factor, for the rounding of the product */
    s->norm_scale_b = avg_b > seg_b ? avg_b / seg_b * (1 + 1e-12) : 1;
    s->norm_scale_h = avg_h > seg_h ? avg_h / seg_h * (1 + 1e-12) : 1;
}

double js_scorer_idf(const js_scorer *s, double df)
{
    if (df < 0)
        df = 0;
    if (df > s->n)
        df = s->n;
    return log(1.0 + (s->n - df + 0.5) / (df + 0.5));
}

/* The pseudo-frequency t of match.h's formula (codec.c: the champion
 * lists were ranked by the same compiled code). */
static double pseudo_tf(const js_scorer *s, double tb, double lb, double th,
                        double lh)
{
    return js_bm25f_t(s->b, s->w, s->avg_b, s->avg_h, tb, lb, th, lh);
}

static double saturate(const js_scorer *s, double idf, double t)
{
    return t > 0 ? idf * t * (s->k1 + 1.0) / (s->k1 + t) : 0;
}

double js_scorer_score(const js_scorer *s, double idf, uint32_t tb,
                       uint32_t lb, uint32_t th, uint32_t lh)
{
    return saturate(s, idf, pseudo_tf(s, tb, lb, th, lh));
}

/* ------------------------------------------------------------------ */
/* Iterator interface                                                   */

typedef struct it_ops {
    int (*next)(js_it *it, uint32_t target);
    int (*score)(js_it *it, double *out);
    int (*bound)(js_it *it, uint32_t target, double *ub, uint32_t *upto);
    void (*free)(js_it *it);
} it_ops;

struct js_it {
    const it_ops *ops;
    uint32_t id;     /* current match, JS_IT_END at the end */
    int started;     /* next has been called */
    double max;      /* bound on any score */
    double estimate; /* matching sections, estimated */
    int exact;       /* estimate is exact */
    double floor;    /* scores at or below it cannot rank (js_it_floor) */
};

int js_it_next(js_it *it, uint32_t target)
{
    if (it->started && (it->id == JS_IT_END || it->id >= target))
        return 0;
    it->started = 1;
    return it->ops->next(it, target);
}

uint32_t js_it_id(const js_it *it) { return it->started ? it->id : 0; }

int js_it_score(js_it *it, double *score) { return it->ops->score(it, score); }

int js_it_bound(js_it *it, uint32_t target, double *ub, uint32_t *upto)
{
    if (it->started && it->id == JS_IT_END) {
        *ub = 0;
        *upto = JS_IT_END;
        return 0;
    }
    return it->ops->bound(it, target, ub, upto);
}

double js_it_max(const js_it *it) { return it->max; }

struct multi_it;
static uint32_t or_nonessential(const struct multi_it *m);
static int is_or(const js_it *it);
static js_it *lone_child(const js_it *it);

int js_it_floor(js_it *it, double floor)
{
    it->floor = floor;
    if (is_or(it))
        return or_nonessential((const struct multi_it *)it) > 0;
    js_it *k = lone_child(it);
    return k ? js_it_floor(k, floor) : 0;
}

double js_it_estimate(const js_it *it, int *exact)
{
    if (exact)
        *exact = it->exact;
    return it->estimate;
}

void js_it_free(js_it *it)
{
    if (it)
        it->ops->free(it);
}

/* ------------------------------------------------------------------ */
/* Field phrase                                                         */

typedef struct fphrase {
    const js_reader *ix;        /* whose pool the cursors go back to */
    uint32_t n;                /* units */
    js_postings_cursor **c;    /* by unit, rarest first */
    uint32_t *rel;             /* relative position of each (same order) */
    uint32_t *idx;             /* scratch for the position check */
    const uint32_t **pos;      /* scratch */
    uint32_t *cnt;             /* scratch: positions in pos[i] */
    /* units whose postings carry no positions (CJK unigrams, fields.h):
     * their positions come from the stored text (verify.h) */
    uint32_t nverify;
    uint8_t *vf;               /* by unit: 1 for such a unit */
    const char **vterm;        /* by unit: its term, no field prefix */
    size_t *vlen;
    /* for js_verify_positions: the nverify units' terms (set at open),
     * and scratch for the positions it finds */
    const char **vt;
    size_t *vl;
    const uint32_t **vp;
    uint32_t *vc;
    int heading;               /* the field: 1 heading, 0 body */
    js_verify *ver;            /* the search's, or own_ver */
    js_verify *own_ver;        /* made when the scorer has none */
    uint32_t id, tf;           /* current match */
    int started, done;
    uint32_t df_min;           /* df of the rarest unit */
    uint32_t max_tf;           /* max tf of the rarest unit */
    uint64_t offset0;          /* postings offset of a lone unit's term */
} fphrase;

static void fphrase_free(fphrase *f)
{
    if (!f)
        return;
    for (uint32_t i = 0; i < f->n; i++)
        js_reader_cursor_put(f->ix, f->c[i]);
    if (f->own_ver) {
        js_verify_free(f->own_ver);
        free(f->own_ver);
    }
    free(f); /* its arrays live in the same allocation */
}

/* The lexicon entry of term[0..len) through the search's memo (match.h):
 * a term the strict pass, a part's counting and the partial pass all open
 * is looked up once.  Returns 0, JS_ENOTFOUND or JS_ECORRUPT. */
static int lookup(const js_scorer *s, const char *term, size_t len,
                  js_term_info *info)
{
    js_term_memo *m = s->memo;
    if (m && len <= JS_MEMO_TERM_MAX) {
        for (uint32_t i = 0; i < m->n; i++) {
            if (m->e[i].len == len && !memcmp(m->e[i].term, term, len)) {
                *info = m->e[i].info;
                return m->e[i].rc;
            }
        }
    }
    int rc = js_lexicon_lookup(s->ix->lex, term, len, info);
    if (m && len <= JS_MEMO_TERM_MAX && m->n < JS_MEMO_TERMS &&
        (rc == 0 || rc == JS_ENOTFOUND)) {
        m->e[m->n].len = (uint8_t)len;
        memcpy(m->e[m->n].term, term, len);
        m->e[m->n].rc = rc;
        if (rc == 0)
            m->e[m->n].info = *info;
        m->n++;
    }
    return rc;
}

/* A phrase of n units with its arrays in one allocation: the phrase,
 * then its arrays (pointers first, for their alignment), then *df and
 * *mtf, the scratch for sorting.  NULL when out of memory. */
static fphrase *fphrase_alloc(uint32_t n, uint32_t **df, uint32_t **mtf)
{
    size_t size = sizeof(fphrase) +
                  (size_t)n * (sizeof(js_postings_cursor *) +
                               2 * sizeof(const uint32_t *) +
                               2 * sizeof(const char *) + 2 * sizeof(size_t) +
                               6 * sizeof(uint32_t) + 1);
    fphrase *f = calloc(1, size);
    if (!f)
        return NULL;
    f->c = (js_postings_cursor **)(f + 1);
    f->pos = (const uint32_t **)(f->c + n);
    f->vterm = (const char **)(f->pos + n);
    f->vlen = (size_t *)(f->vterm + n);
    f->vp = (const uint32_t **)(f->vlen + n);
    f->vt = (const char **)(f->vp + n);
    f->vl = (size_t *)(f->vt + n);
    f->rel = (uint32_t *)(f->vl + n);
    f->idx = f->rel + n;
    f->cnt = f->idx + n;
    f->vc = f->cnt + n;
    *df = f->vc + n;
    *mtf = *df + n;
    f->vf = (uint8_t *)(*mtf + n);
    f->n = n;
    return f;
}

/* Opens unit i's cursor in f's field, with its df and max tf in df[i]
 * and mtf[i].  Returns 0, JS_ENOTFOUND (the term is not in the index:
 * the phrase cannot match in this field), or an error with its message
 * in err. */
static int fphrase_open_unit(fphrase *f, const js_scorer *s,
                             const js_qunit *unit, uint32_t i, uint32_t *df,
                             uint32_t *mtf, char *err, size_t errlen)
{
    const js_reader *ix = f->ix;
    char term[JS_TERM_MAX_BYTES + 2];
    size_t len = unit->len;
    if (len > JS_TERM_MAX_BYTES) {
        snprintf(err, errlen, "a query term is too long");
        return JS_EINVALID;
    }
    /* a heading term is the body's with the 0x01 prefix */
    term[0] = 1;
    memcpy(term + 1, unit->term, len);
    const char *t = f->heading ? term : term + 1;
    size_t tlen = f->heading ? len + 1 : len;
    js_term_info info;
    int rc = lookup(s, t, tlen, &info);
    if (rc == JS_ENOTFOUND)
        return rc;
    if (!rc && !(f->c[i] = js_reader_cursor_get(ix)))
        return JS_ENOMEM;
    if (!rc)
        rc = js_reader_postings_at(ix, &info, f->c[i]);
    if (rc) {
        snprintf(err, errlen, "the postings of \"%.*s\" are corrupt",
                 (int)len, unit->term);
        return rc;
    }
    int want_pos = js_fields_term_has_positions(ix->positions_for, t, tlen);
    if (!(info.flags & JS_TERM_POSITIONS) != !want_pos) {
        /* the index keeps positions by kind of term: any other entry is
         * damage, not an impossible query */
        snprintf(err, errlen, "the lexicon entry of \"%.*s\" is corrupt: "
                 "it %s positions, against the index's rule",
                 (int)len, unit->term, want_pos ? "lacks" : "has");
        return JS_ECORRUPT;
    }
    if (f->n > 1 && !want_pos) {
        f->vf[i] = 1;
        f->nverify++;
    }
    f->vterm[i] = unit->term;
    f->vlen[i] = len;
    f->rel[i] = unit->rel;
    if (f->n == 1)
        f->offset0 = info.offset;
    df[i] = info.df;
    mtf[i] = info.max_tf;
    return 0;
}

/* Sorts f's units rarest first (a stable insertion sort of the parallel
 * arrays, by df): the rarest drives the intersection and bounds the tf. */
static void fphrase_sort(fphrase *f, uint32_t *df, uint32_t *mtf)
{
#define SWAP(T, a, j) do { T t_ = (a)[j]; (a)[j] = (a)[(j) - 1]; (a)[(j) - 1] = t_; } while (0)
    for (uint32_t i = 1; i < f->n; i++) {
        for (uint32_t j = i; j > 0 && df[j] < df[j - 1]; j--) {
            SWAP(uint32_t, df, j);
            SWAP(uint32_t, mtf, j);
            SWAP(uint32_t, f->rel, j);
            SWAP(js_postings_cursor *, f->c, j);
            SWAP(uint8_t, f->vf, j);
            SWAP(const char *, f->vterm, j);
            SWAP(size_t, f->vlen, j);
        }
    }
#undef SWAP
}

/* Lists the terms whose positions come from the stored text
 * (js_verify_positions), in unit order, and gives f a verifier: the
 * search's, else one of its own.  Returns 0 or JS_ENOMEM. */
static int fphrase_verify_setup(fphrase *f, const js_scorer *s)
{
    for (uint32_t i = 0, k = 0; i < f->n; i++) {
        if (f->vf[i]) {
            f->vt[k] = f->vterm[i];
            f->vl[k++] = f->vlen[i];
        }
    }
    f->ver = s->verify;
    if (!f->ver) {
        if (!(f->own_ver = malloc(sizeof *f->own_ver)))
            return JS_ENOMEM;
        js_verify_init(f->own_ver, f->ix);
        f->ver = f->own_ver;
    }
    return 0;
}

/* Opens the cursors of `units` in one field (prefix: 0x01 for headings).
 * Returns 0 with *out NULL when a unit is absent from the index (the
 * phrase cannot match in that field), 0 with *out, or an error. */
static int fphrase_open(fphrase **out, const js_scorer *s,
                        const js_qunit *units, uint32_t n, int heading,
                        char *err, size_t errlen)
{
    *out = NULL;
    uint32_t *df, *mtf;
    fphrase *f = fphrase_alloc(n, &df, &mtf);
    if (!f)
        return JS_ENOMEM;
    f->ix = s->ix;
    f->heading = heading;
    int rc = 0;
    for (uint32_t i = 0; i < n && !rc; i++)
        rc = fphrase_open_unit(f, s, &units[i], i, df, mtf, err, errlen);
    if (rc == JS_ENOTFOUND) {
        fphrase_free(f);
        return 0;
    }
    if (!rc) {
        fphrase_sort(f, df, mtf);
        if (f->nverify)
            rc = fphrase_verify_setup(f, s);
    }
    if (rc) {
        fphrase_free(f);
        return rc;
    }
    f->df_min = df[0];
    f->max_tf = mtf[0];
    f->tf = 0;
    *out = f;
    return 0;
}

/* How often the units stand at their relative positions in the current
 * section (all cursors on it).  Returns the count (0: they do not), or a
 * negative JS_E* code. */
static int64_t phrase_count(fphrase *f)
{
    uint32_t anchor = 0;
    /* the units with positions first: a phrase starting after the last
     * base they allow cannot match, so the text is read no further than
     * that base plus the phrase's span */
    uint64_t limit = UINT32_MAX;
    uint32_t max_rel = 0;
    for (uint32_t i = 0; i < f->n; i++) {
        if (f->rel[i] > max_rel)
            max_rel = f->rel[i];
        if (f->vf[i])
            continue;
        int rc = js_postings_positions(f->c[i], &f->pos[i]);
        if (rc)
            return rc;
        f->cnt[i] = f->c[i]->tf;
        if (!f->nverify)
            continue; /* the bound only serves the text's analysis */
        uint32_t last = f->pos[i][f->cnt[i] - 1];
        if (last < f->rel[i])
            return 0; /* no base leaves room for this unit */
        if (last - f->rel[i] < limit)
            limit = last - f->rel[i];
    }
    if (f->nverify) { /* positions the postings lack, from the text */
        if (limit != UINT32_MAX)
            limit = limit + max_rel < UINT32_MAX ? limit + max_rel : UINT32_MAX;
        int rc = js_verify_positions(f->ver, f->c[0]->id, f->heading, f->vt,
                                     f->vl, f->nverify, (uint32_t)limit,
                                     f->vp, f->vc);
        if (rc)
            return rc;
        for (uint32_t i = 0, k = 0; i < f->n; i++) {
            if (f->vf[i]) {
                f->pos[i] = f->vp[k];
                f->cnt[i] = f->vc[k++];
            }
        }
    }
    for (uint32_t i = 0; i < f->n; i++) {
        f->idx[i] = 0;
        if (f->cnt[i] < f->cnt[anchor])
            anchor = i;
    }
    int64_t count = 0;
    const uint32_t *pa = f->pos[anchor];
    uint32_t ra = f->rel[anchor];
    for (uint32_t k = 0; k < f->cnt[anchor]; k++) {
        if (pa[k] < ra)
            continue;
        uint64_t base = (uint64_t)pa[k] - ra;
        int all = 1;
        for (uint32_t i = 0; i < f->n && all; i++) {
            if (i == anchor)
                continue;
            uint64_t want = base + f->rel[i];
            const uint32_t *p = f->pos[i];
            uint32_t tf = f->cnt[i], j = f->idx[i];
            while (j < tf && p[j] < want)
                j++;
            f->idx[i] = j;
            if (j == tf)
                return count; /* later bases need later positions */
            if (p[j] != want)
                all = 0;
        }
        count += all;
    }
    return count;
}

/* Moves to the first section >= target where the phrase occurs.  Returns
 * 0 (f->id set, JS_IT_END at the end) or a negative JS_E* code. */
static int fphrase_next(fphrase *f, uint32_t target)
{
    if (f->started && (f->done || f->id >= target))
        return 0;
    f->started = 1;
    for (;;) {
        int r = js_postings_seek(f->c[0], target);
        if (r < 0)
            return r;
        if (r == 0)
            goto end;
        uint32_t cand = f->c[0]->id;
        uint32_t i;
        for (i = 1; i < f->n; i++) {
            r = js_postings_seek(f->c[i], cand);
            if (r < 0)
                return r;
            if (r == 0)
                goto end;
            if (f->c[i]->id > cand)
                break;
        }
        if (i < f->n) {
            target = f->c[i]->id;
            continue;
        }
        if (f->n == 1) {
            f->id = cand;
            f->tf = f->c[0]->tf;
            return 0;
        }
        int64_t tf = phrase_count(f);
        if (tf < 0)
            return (int)tf;
        if (tf > 0) {
            f->id = cand;
            f->tf = (uint32_t)(tf > UINT32_MAX ? UINT32_MAX : tf);
            return 0;
        }
        if (cand == UINT32_MAX - 1)
            goto end;
        target = cand + 1;
    }
end:
    f->done = 1;
    f->id = JS_IT_END;
    return 0;
}

/* Bounds the phrase's frequency over [target, *upto] by its rarest
 * unit's block: *max_tf, and *max_norm, the block's largest t for
 * JS_NORM_B (0: unknown; the phrase's t never exceeds its rarest unit's,
 * as its frequency never does).  Returns 0 or a negative code. */
static int fphrase_bound(fphrase *f, uint32_t target, uint32_t *max_tf,
                         float *max_norm, uint32_t *upto)
{
    *max_tf = 0;
    *max_norm = 0;
    *upto = JS_IT_END;
    if (f->done)
        return 0;
    if (f->started && f->id >= target) {
        /* the current match lies in the range: bound by its block */
        target = f->id;
    }
    int r = js_postings_skip_block(f->c[0], target);
    if (r <= 0)
        return r;
    *max_tf = f->c[0]->block_max_tf;
    *max_norm = f->c[0]->block_max_norm;
    *upto = f->c[0]->block_last_id;
    return 0;
}

/* A bound on t (match.h) in one field from a frequency bound and, when
 * known and the scorer's b is the one the index's norms were made for,
 * the norm bound.  Without the norm: a section holding the part tf times
 * is at least tf long, and t grows with tf, so t <= tf / (1 - b + b tf /
 * avg). */
static double field_t_bound(const js_scorer *s, int heading, uint32_t max_tf,
                            float max_norm)
{
    if (max_tf == 0)
        return 0;
    double t;
    if (max_norm > 0 && s->b == JS_NORM_B) {
        t = max_norm * (heading ? s->norm_scale_h : s->norm_scale_b);
    } else {
        double avg = heading ? s->avg_h : s->avg_b;
        t = max_tf / (1.0 - s->b + s->b * max_tf / avg);
    }
    return heading ? s->w * t : t;
}

/* ------------------------------------------------------------------ */
/* Leaf: a part in the body and heading fields                          */

/* Matches of a part kept from counting its df (leaf_count), replayed
 * instead of intersecting the postings a second time: ids ascending and
 * each one's t (match.h), with the largest t of every REPLAY_CHUNK
 * entries for bounds. */
#define REPLAY_CHUNK 64

typedef struct replay {
    uint32_t n, i;   /* matches, the current one */
    uint32_t *id;
    double *t;
    double *chunk_max;
    int borrowed;    /* the arrays are a part cache's (js_part_cache) */
} replay;

typedef struct leaf_it {
    js_it it;
    const js_scorer *s;
    fphrase *f[2]; /* body, heading; NULL when that field cannot match */
    double idf;
    replay *r;     /* NULL: walk the field phrases */
} leaf_it;

/* Moves r to its first match >= target (never back). */
static void replay_seek(replay *r, uint32_t target)
{
    while (r->i < r->n && r->id[r->i] < target)
        r->i++;
}

static void replay_free(replay *r)
{
    if (!r)
        return;
    if (r->borrowed) {
        free(r);
        return;
    }
    free(r->id);
    free(r->t);
    free(r->chunk_max);
    free(r);
}

static int leaf_next(js_it *it, uint32_t target)
{
    leaf_it *l = (leaf_it *)it;
    if (l->r) {
        replay *r = l->r;
        replay_seek(r, target);
        it->id = r->i < r->n ? r->id[r->i] : JS_IT_END;
        return 0;
    }
    uint32_t id = JS_IT_END;
    for (int k = 0; k < 2; k++) {
        if (!l->f[k])
            continue;
        int rc = fphrase_next(l->f[k], target);
        if (rc)
            return rc;
        if (l->f[k]->id < id)
            id = l->f[k]->id;
    }
    it->id = id;
    return 0;
}

/* t of the current match (both fields' cursors on it or past it; its id
 * checked against the section count). */
static double leaf_t(leaf_it *l)
{
    uint32_t id = l->it.id, lb, lh;
    js_reader_section_lens(l->s->ix, id, &lb, &lh);
    uint32_t tb = l->f[0] && l->f[0]->id == id ? l->f[0]->tf : 0;
    uint32_t th = l->f[1] && l->f[1]->id == id ? l->f[1]->tf : 0;
    return pseudo_tf(l->s, tb, lb, th, lh);
}

static int leaf_score(js_it *it, double *out)
{
    leaf_it *l = (leaf_it *)it;
    if (l->r) {
        *out = saturate(l->s, l->idf, l->r->t[l->r->i]);
        return 0;
    }
    if (it->id >= l->s->ix->nsections)
        return JS_ECORRUPT;
    *out = saturate(l->s, l->idf, leaf_t(l));
    return 0;
}

/* The sum of the fields' bounds over the shortest of their ranges.  A
 * field whose next match lies beyond target adds nothing before it.
 * The sparser field (a part common in bodies is usually rare in
 * headings) is moved to its next match at or after target, so that its
 * contribution is confined to that one id: a body block far from heading
 * matches is bounded by the body alone, and one holding a heading match
 * is split around it.  The denser field is bounded by its blocks. */
static int leaf_bound(js_it *it, uint32_t target, double *ub, uint32_t *upto)
{
    leaf_it *l = (leaf_it *)it;
    if (l->r) { /* the largest t of the chunk holding the next match */
        replay *r = l->r;
        replay_seek(r, target);
        if (r->i == r->n) {
            *ub = 0;
            *upto = JS_IT_END;
            return 0;
        }
        uint32_t c = r->i / REPLAY_CHUNK, end = (c + 1) * REPLAY_CHUNK;
        *ub = saturate(l->s, l->idf, r->chunk_max[c]);
        *upto = r->id[(end < r->n ? end : r->n) - 1];
        return 0;
    }
    int sparse = -1;
    if (l->f[0] && l->f[1])
        sparse = l->f[1]->df_min <= l->f[0]->df_min ? 1 : 0;
    uint32_t last = JS_IT_END;
    double t = 0;
    for (int k = 0; k < 2; k++) {
        fphrase *f = l->f[k];
        if (!f)
            continue;
        int rc;
        if (k == sparse && (!f->started || (!f->done && f->id < target)) &&
            (rc = fphrase_next(f, target)))
            return rc;
        uint32_t u, mtf;
        float mnorm;
        if (f->started && !f->done && f->id > target) {
            u = f->id - 1;
        } else {
            if ((rc = fphrase_bound(f, target, &mtf, &mnorm, &u)))
                return rc;
            t += field_t_bound(l->s, k, mtf, mnorm);
            if (k == sparse && !f->done)
                u = f->id; /* == target: its next match is unknown */
        }
        if (u < last)
            last = u;
    }
    *ub = saturate(l->s, l->idf, t);
    *upto = last;
    return 0;
}

static void leaf_free(js_it *it)
{
    leaf_it *l = (leaf_it *)it;
    fphrase_free(l->f[0]);
    fphrase_free(l->f[1]);
    replay_free(l->r);
    free(l);
}

static const it_ops leaf_ops = {leaf_next, leaf_score, leaf_bound, leaf_free};

/* Opens the field phrases of a leaf's units (`units`, n) into l. */
static int leaf_open_fields(leaf_it *l,
                            const js_qunit *units, uint32_t n,
                            int heading_only, char *err, size_t errlen)
{
    int rc;
    if (!heading_only &&
        (rc = fphrase_open(&l->f[0], l->s, units, n, 0, err, errlen)))
        return rc;
    return fphrase_open(&l->f[1], l->s, units, n, 1, err, errlen);
}

/* Walks l's field phrases to their end, keeping every match and its t
 * (l->r, replay mode from then on).  Returns 0 or an error. */
static int leaf_record(leaf_it *l)
{
    replay *r = calloc(1, sizeof *r);
    if (!r)
        return JS_ENOMEM;
    uint32_t cap = 0, target = 0;
    int rc = 0;
    for (;;) {
        if ((rc = leaf_next(&l->it, target)))
            break;
        uint32_t id = l->it.id;
        if (id == JS_IT_END)
            break;
        if (id >= l->s->ix->nsections) {
            rc = JS_ECORRUPT;
            break;
        }
        if (r->n == cap) {
            uint32_t nc = cap ? 2 * cap : 64;
            uint32_t *ids = realloc(r->id, nc * sizeof *ids);
            if (ids)
                r->id = ids;
            double *ts = ids ? realloc(r->t, nc * sizeof *ts) : NULL;
            if (!ts) {
                rc = JS_ENOMEM;
                break;
            }
            r->t = ts;
            cap = nc;
        }
        r->id[r->n] = id;
        r->t[r->n++] = leaf_t(l);
        if (id == JS_IT_END - 1)
            break;
        target = id + 1;
    }
    uint32_t nchunks = (r->n + REPLAY_CHUNK - 1) / REPLAY_CHUNK;
    if (!rc && !(r->chunk_max = calloc(nchunks ? nchunks : 1,
                                       sizeof *r->chunk_max)))
        rc = JS_ENOMEM;
    if (rc) {
        replay_free(r);
        return rc;
    }
    for (uint32_t i = 0; i < r->n; i++)
        if (r->t[i] > r->chunk_max[i / REPLAY_CHUNK])
            r->chunk_max[i / REPLAY_CHUNK] = r->t[i];
    l->r = r;
    l->it.id = 0;
    return 0;
}

/* A part's count from the matches below section cut (all of them when
 * cut reaches the n sections), scaled up to n when it does not. */
static void scale_count(js_it *it, double count, uint64_t cut, double n)
{
    if (cut >= n) {
        it->estimate = count;
        it->exact = 1;
    } else {
        it->estimate = count * n / (double)cut;
        it->exact = 0;
    }
}

/* Counts the sections where the part occurs (either field), for its idf.
 * When the rarest units offer at most COUNT_BUDGET candidates, in full,
 * keeping the matches (leaf_record): the search then replays them rather
 * than intersecting the postings again.  Else over the ids below a
 * cut-off that holds about that many, scaled up to the whole index
 * (sections are in corpus order, so a prefix is a fair sample of a large
 * collection), on a second opening of the fields.  A one-unit part needs
 * no counting: its df is the sum of its fields' dfs (sections holding it
 * in both fields count twice, a small overestimate).  Returns 0 or an
 * error. */
static int leaf_count(leaf_it *l, const js_reader *ix, const js_qunit *units,
                      uint32_t n, int heading_only, char *err, size_t errlen)
{
    double cand = 0;
    for (int k = 0; k < 2; k++)
        if (l->f[k])
            cand += l->f[k]->df_min;
    js_it *it = &l->it;
    if (cand == 0) {
        it->estimate = 0;
        it->exact = 1;
        return 0;
    }
    if (n == 1) {
        it->estimate = cand > ix->nsections ? ix->nsections : cand;
        it->exact = !(l->f[0] && l->f[1]);
        return 0;
    }
    int rc;
    if (cand <= COUNT_BUDGET) {
        if ((rc = leaf_record(l))) {
            snprintf(err, errlen, "corrupt postings while counting \"%s\"",
                     units[0].term);
            return rc;
        }
        it->estimate = l->r->n;
        it->exact = 1;
        return 0;
    }
    leaf_it tmp = {0};
    tmp.it.ops = &leaf_ops;
    tmp.s = l->s;
    rc = leaf_open_fields(&tmp, units, n, heading_only, err, errlen);
    if (rc) { /* the body's phrase may be open when the heading's failed */
        fphrase_free(tmp.f[0]);
        fphrase_free(tmp.f[1]);
        return rc;
    }
    uint64_t cut = (uint64_t)((double)ix->nsections * COUNT_BUDGET / cand);
    if (cut < 1)
        cut = 1;
    double count = 0;
    uint32_t target = 0;
    for (;;) {
        if ((rc = leaf_next(&tmp.it, target)))
            break;
        if (tmp.it.id == JS_IT_END || tmp.it.id >= cut)
            break;
        count++;
        target = tmp.it.id + 1;
    }
    fphrase_free(tmp.f[0]);
    fphrase_free(tmp.f[1]);
    if (rc) {
        snprintf(err, errlen, "corrupt postings while counting \"%s\"",
                 units[0].term);
        return rc;
    }
    scale_count(it, count, cut, (double)ix->nsections);
    return 0;
}

/* ---- a part's df over a live snapshot's segments ---- */

/* Grows c's entries: 1, or 0 without memory (c unchanged). */
static int grow_parts(js_part_cache *c)
{
    uint32_t cap = c->cap ? 2 * c->cap : 16;
    struct js_part_count *e = realloc(c->e, cap * sizeof *e);
    if (!e)
        return 0;
    c->e = e;
    c->cap = cap;
    return 1;
}

/* Deleted sections of segment s (which has deletions) holding a term
 * whose lexicon entry is info: the shorter walk of the two, the term's
 * postings against the set, or the set's ids sought in the postings. */
static int deleted_in(const js_scorer *s, const js_term_info *info,
                      uint32_t *out)
{
    js_postings_cursor *c = js_reader_cursor_get(s->ix);
    if (!c)
        return JS_ENOMEM;
    int rc = js_reader_postings_at(s->ix, info, c);
    uint32_t n = 0;
    const js_deletes *d = s->del;
    if (!rc && (uint64_t)info->df <= 16 * (uint64_t)d->count) {
        while ((rc = js_postings_next(c)) == 1)
            n += (uint32_t)js_deletes_test(d, c->id);
    } else if (!rc) {
        int started = 0;
        for (uint32_t id = js_deletes_next(d, 0); id != UINT32_MAX;
             id = js_deletes_next(d, id + 1)) {
            if (!started || c->id < id) {
                started = 1;
                if ((rc = js_postings_seek(c, id)) <= 0)
                    break;
            }
            n += c->id == id;
        }
    }
    js_reader_cursor_put(s->ix, c);
    if (rc < 0)
        return rc;
    *out = n;
    return 0;
}

/* The live df of a unit in one field over all segments: 0 when no
 * segment has it. */
static int unit_df_all(const js_scorer *s, const js_qunit *unit, int heading,
                       double *out)
{
    char term[JS_TERM_MAX_BYTES + 2];
    size_t len = unit->len;
    if (len > JS_TERM_MAX_BYTES)
        return JS_EINVALID;
    term[0] = 1;
    memcpy(term + 1, unit->term, len);
    const char *t = heading ? term : term + 1;
    size_t tlen = heading ? len + 1 : len;
    double df = 0;
    for (uint32_t j = 0; j < s->nall; j++) {
        const js_scorer *g = s->all[j];
        js_term_info info;
        int rc = lookup(g, t, tlen, &info);
        if (rc == JS_ENOTFOUND)
            continue;
        if (rc)
            return rc;
        uint32_t del = 0;
        if (g->del && g->del->count && (rc = deleted_in(g, &info, &del)))
            return rc;
        df += (double)info.df - del;
    }
    *out = df;
    return 0;
}

/* leaf_count over a live snapshot: what leaf_count would find on a fresh
 * build of the live sections of all segments (s->all).  The units' dfs
 * are summed over the segments less their deleted sections; a part of
 * several units is counted in every segment, deleted sections passed
 * over, and past COUNT_BUDGET candidates over the live sections whose
 * rank (their id in a fresh build) is below the same cut-off. */
static int leaf_count_all(leaf_it *l, const js_qunit *units, uint32_t n,
                          int heading_only, replay **replays, char *err,
                          size_t errlen)
{
    const js_scorer *s = l->s;
    js_it *it = &l->it;
    double cand = 0;
    int present[2] = {0, 0}, rc;
    for (int k = heading_only ? 1 : 0; k < 2; k++) {
        double dmin = -1;
        for (uint32_t i = 0; i < n; i++) {
            double d;
            if ((rc = unit_df_all(s, &units[i], k, &d))) {
                snprintf(err, errlen, "corrupt postings while counting \"%s\"",
                         units[0].term);
                return rc;
            }
            if (dmin < 0 || d < dmin)
                dmin = d;
        }
        if (dmin > 0) {
            cand += dmin;
            present[k] = 1;
        }
    }
    if (cand == 0) {
        it->estimate = 0;
        it->exact = 1;
        return 0;
    }
    if (n == 1) {
        it->estimate = cand > s->n ? s->n : cand;
        it->exact = !(present[0] && present[1]);
        return 0;
    }
    uint64_t cut = UINT64_MAX;
    if (cand > COUNT_BUDGET) {
        cut = (uint64_t)(s->n * COUNT_BUDGET / cand);
        if (cut < 1)
            cut = 1;
    }
    double count = 0;
    rc = 0;
    for (uint32_t j = 0; j < s->nall && !rc; j++) {
        const js_scorer *g = s->all[j];
        if (g->live_base >= cut)
            break;
        leaf_it tmp = {0};
        tmp.it.ops = l->it.ops;
        tmp.s = g;
        rc = leaf_open_fields(&tmp, units, n, heading_only, err, errlen);
        if (!rc && replays && cut == UINT64_MAX) {
            /* counted in full: every match kept, for the segment's tree
             * to replay (leaf_record), the live ones counted */
            if (!(rc = leaf_record(&tmp))) {
                for (uint32_t x = 0; x < tmp.r->n; x++)
                    count += !js_deletes_test(g->del, tmp.r->id[x]);
                replays[j] = tmp.r;
                tmp.r = NULL;
            }
            fphrase_free(tmp.f[0]);
            fphrase_free(tmp.f[1]);
            continue;
        }
        uint32_t target = 0, id = 0, dels = 0; /* deleted ids below id */
        while (!rc) {
            if ((rc = tmp.it.ops->next(&tmp.it, target)))
                break;
            if (tmp.it.id == JS_IT_END)
                break;
            for (; id < tmp.it.id; id++)
                dels += (uint32_t)js_deletes_test(g->del, id);
            target = tmp.it.id + 1;
            if (js_deletes_test(g->del, tmp.it.id))
                continue;
            if (g->live_base + (tmp.it.id - dels) >= cut)
                break;
            count++;
        }
        fphrase_free(tmp.f[0]);
        fphrase_free(tmp.f[1]);
    }
    if (rc) {
        snprintf(err, errlen, "corrupt postings while counting \"%s\"",
                 units[0].term);
        return rc;
    }
    scale_count(it, count, cut, s->n);
    return 0;
}

void js_part_cache_free(js_part_cache *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->n; i++) {
        free(c->e[i].key);
        for (uint32_t j = 0; j < c->e[i].nreplays; j++)
            replay_free(c->e[i].replays[j]);
        free(c->e[i].replays);
    }
    free(c->e);
    c->e = NULL;
    c->n = c->cap = 0;
}

/* The key of a part: its field and its units' terms and positions. */
static char *part_key(const js_qunit *units, uint32_t n, int heading_only,
                      size_t *len)
{
    size_t k = 1;
    for (uint32_t i = 0; i < n; i++)
        k += units[i].len + 1 + sizeof units[i].rel;
    char *p = malloc(k);
    if (!p)
        return NULL;
    size_t o = 0;
    p[o++] = (char)heading_only;
    for (uint32_t i = 0; i < n; i++) {
        memcpy(p + o, units[i].term, units[i].len);
        o += units[i].len;
        p[o++] = 0;
        memcpy(p + o, &units[i].rel, sizeof units[i].rel);
        o += sizeof units[i].rel;
    }
    *len = o;
    return p;
}

/* Gives l segment s->j's recorded matches of a cached part, if any. */
static int take_replay(leaf_it *l, const struct js_part_count *e)
{
    const js_scorer *s = l->s;
    uint32_t j = 0;
    while (j < s->nall && s->all[j] != s)
        j++;
    if (j >= e->nreplays || !e->replays || !e->replays[j])
        return 0;
    replay *r = malloc(sizeof *r);
    if (!r)
        return JS_ENOMEM;
    *r = *e->replays[j];
    r->i = 0;
    r->borrowed = 1;
    l->r = r;
    l->it.id = 0;
    return 1;
}

/* leaf_count_all once per search: the count of a part the search met in
 * another segment's tree is taken again, and so are the matches a count
 * in full recorded.  Returns 1 when l got its segment's matches to
 * replay (its fields need not be opened), 0, or a negative code. */
static int leaf_count_shared(leaf_it *l, const js_qunit *units, uint32_t n,
                             int heading_only, char *err, size_t errlen)
{
    js_part_cache *c = l->s->parts;
    if (!c)
        return leaf_count_all(l, units, n, heading_only, NULL, err, errlen);
    size_t klen;
    char *key = part_key(units, n, heading_only, &klen);
    if (!key)
        return JS_ENOMEM;
    for (uint32_t i = 0; i < c->n; i++)
        if (c->e[i].len == klen && !memcmp(c->e[i].key, key, klen)) {
            free(key);
            l->it.estimate = c->e[i].estimate;
            l->it.exact = c->e[i].exact;
            return take_replay(l, &c->e[i]);
        }
    replay **replays = n > 1 ? calloc(l->s->nall, sizeof *replays) : NULL;
    int rc = leaf_count_all(l, units, n, heading_only, replays, err, errlen);
    if (rc || (c->n == c->cap && !grow_parts(c))) {
        free(key);
        for (uint32_t j = 0; replays && j < l->s->nall; j++)
            replay_free(replays[j]);
        free(replays);
        return rc; /* without room, the next segment counts again */
    }
    c->e[c->n++] = (struct js_part_count){key, klen, l->it.estimate,
                                          l->it.exact, replays,
                                          replays ? l->s->nall : 0};
    return take_replay(l, &c->e[c->n - 1]);
}

static int leaf_new(js_it **out, const js_scorer *s, const js_qunit *units,
                    uint32_t n, int heading_only, char *err, size_t errlen)
{
    leaf_it *l = calloc(1, sizeof *l);
    if (!l)
        return JS_ENOMEM;
    l->it.ops = &leaf_ops;
    l->s = s;
    int rc;
    if (s->all) {
        /* a live snapshot: counted over every segment (once a search),
         * and replayed where the count kept this segment's matches */
        rc = leaf_count_shared(l, units, n, heading_only, err, errlen);
        if (rc == 0)
            rc = leaf_open_fields(l, units, n, heading_only, err, errlen);
        else if (rc == 1)
            rc = 0;
    } else {
        rc = leaf_open_fields(l, units, n, heading_only, err, errlen);
        if (!rc)
            rc = leaf_count(l, s->ix, units, n, heading_only, err, errlen);
    }
    if (rc) {
        leaf_free(&l->it);
        return rc;
    }
    double df = l->it.estimate < 1 ? 1 : l->it.estimate;
    l->idf = js_scorer_idf(s, df);
    /* the part's best score anywhere: its matches' when replayed, else
     * from its rarest units' lists */
    double t = 0;
    if (l->r) {
        for (uint32_t c = 0; c * REPLAY_CHUNK < l->r->n; c++)
            if (l->r->chunk_max[c] > t)
                t = l->r->chunk_max[c];
        /* the cursors are spent; the replay needs none of their memory */
        fphrase_free(l->f[0]);
        fphrase_free(l->f[1]);
        l->f[0] = l->f[1] = NULL;
        if (l->r->n == 0) {
            l->it.started = 1;
            l->it.id = JS_IT_END;
        }
    } else {
        for (int k = 0; k < 2; k++)
            if (l->f[k])
                t += field_t_bound(s, k, l->f[k]->max_tf,
                                   js_postings_max_norm(l->f[k]->c[0]));
    }
    l->it.max = saturate(s, l->idf, t);
    if (!l->r && !l->f[0] && !l->f[1]) {
        l->it.started = 1;
        l->it.id = JS_IT_END;
        l->it.max = 0;
    }
    *out = &l->it;
    return 0;
}

/* The champion list of leaf it, when a list can answer it: a part of
 * one unit in both fields, not replayed, the list ranked for the
 * scorer's b and heading weight, k1 > 0 (so that scores follow t).
 * Returns 1 with *out (malloc'ed, the caller frees), 0 when no list
 * answers, or JS_ENOMEM / JS_ECORRUPT (a list that fails its checks, or
 * whose count is not between the fields' dfs and their sum). */
static int champ_list(const js_it *it, js_champ_list **out)
{
    if (!it || it->ops != &leaf_ops)
        return 0;
    const leaf_it *l = (const leaf_it *)it;
    const js_scorer *s = l->s;
    const js_reader *ix = s->ix;
    const js_champs *ch = &ix->champs;
    const fphrase *fb = l->f[0], *fh = l->f[1];
    if (l->r || !fb || fb->n != 1 || it->started || s->b != ch->h.b ||
        s->w != ch->h.w || !(s->k1 > 0))
        return 0;
    const uint8_t *p;
    size_t len;
    if (!js_champs_find(ch, fb->offset0, &p, &len))
        return 0;
    js_champ_list *cl = malloc(sizeof *cl);
    if (!cl)
        return JS_ENOMEM;
    size_t room = (size_t)(ch->lists + ch->lists_len - p);
    int rc = js_champ_decode(p, len, room, ch->h.size, ix->nsections, cl);
    uint64_t dh = fh ? fh->df_min : 0;
    if (!rc && (cl->sections < fb->df_min || cl->sections > fb->df_min + dh))
        rc = JS_ECORRUPT;
    if (rc) {
        free(cl);
        return rc;
    }
    *out = cl;
    return 1;
}

int js_match_champions(js_it *it, uint32_t k, js_scored *out, uint32_t *n,
                       uint64_t *total)
{
    if (k == 0)
        return 0;
    js_champ_list *cl = NULL;
    int rc = champ_list(it, &cl);
    if (rc <= 0)
        return rc;
    leaf_it *l = (leaf_it *)it;
    const js_scorer *s = l->s;
    const js_reader *ix = s->ix;
    js_scored *all = malloc(JS_CHAMP_MAX_SIZE * sizeof *all);
    rc = 0;
    if (!all) {
        rc = JS_ENOMEM;
        goto out;
    }
    if (k > cl->n && cl->n < cl->sections)
        goto out; /* a page beyond the list */
    double tmin = INFINITY;
    for (uint32_t i = 0; i < cl->n; i++) {
        uint32_t lb, lh;
        js_reader_section_lens(ix, cl->id[i], &lb, &lh);
        if (cl->tb[i] > lb || cl->th[i] > lh) {
            rc = JS_ECORRUPT;
            goto out;
        }
        double t = pseudo_tf(s, cl->tb[i], lb, cl->th[i], lh);
        if (t < tmin)
            tmin = t;
        all[i].id = cl->id[i];
        all[i].score = saturate(s, l->idf, t);
    }
    /* insertion sort: at most a list's length, mostly short */
    for (uint32_t i = 1; i < cl->n; i++) {
        js_scored x = all[i];
        uint32_t j = i;
        for (; j > 0 && js_scored_before(&x, &all[j - 1]); j--)
            all[j] = all[j - 1];
        all[j] = x;
    }
    uint32_t m = k < cl->n ? k : cl->n; /* >= 1: both are */
    if (m == 0)
        goto out;
    /* a section outside the list has t <= tmin, so a score <= that of
     * tmin: the k-th must beat it, or ties and rounding could reorder */
    if (cl->n < cl->sections && !(all[m - 1].score > saturate(s, l->idf, tmin)))
        goto out;
    memcpy(out, all, (size_t)m * sizeof *out);
    *n = m;
    *total = cl->sections;
    rc = 1;
out:
    free(cl);
    free(all);
    return rc;
}

int js_match_champions_seg(js_it *it, js_scored *out, uint32_t *n,
                           double *outside)
{
    js_champ_list *cl = NULL;
    int rc = champ_list(it, &cl);
    if (rc <= 0)
        return rc;
    rc = 0;
    leaf_it *l = (leaf_it *)it;
    const js_scorer *s = l->s;
    const js_reader *ix = s->ix;
    /* the list was ranked by t under the segment's own averages: its
     * smallest t there bounds the t of any section outside it there, and
     * scaled as the norms are (js_scorer_norms_for), under the
     * snapshot's */
    js_scorer own = *s;
    own.avg_b = js_norm_avg(ix->st.body_units, ix->nsections);
    own.avg_h = js_norm_avg(ix->st.heading_units, ix->nsections);
    double tmin = INFINITY;
    for (uint32_t i = 0; !rc && i < cl->n; i++) {
        uint32_t lb, lh;
        js_reader_section_lens(ix, cl->id[i], &lb, &lh);
        if (cl->tb[i] > lb || cl->th[i] > lh) {
            rc = JS_ECORRUPT;
            break;
        }
        double t = pseudo_tf(&own, cl->tb[i], lb, cl->th[i], lh);
        if (t < tmin)
            tmin = t;
        out[i].id = cl->id[i];
        out[i].score = saturate(s, l->idf,
                                pseudo_tf(s, cl->tb[i], lb, cl->th[i], lh));
    }
    if (!rc) {
        double scale = s->norm_scale_b > s->norm_scale_h ? s->norm_scale_b
                                                         : s->norm_scale_h;
        *n = cl->n;
        *outside = cl->n < cl->sections
                       ? saturate(s, l->idf, tmin * scale)
                       : -INFINITY;
        rc = 1;
    }
    free(cl);
    return rc;
}

/* ------------------------------------------------------------------ */
/* AND with exclusions, OR with a minimum of matching children          */

typedef struct multi_it {
    js_it it;
    js_it **kids;
    uint32_t nkids;
    js_it **negs; /* AND: excluded */
    uint32_t nnegs;
    uint32_t min_match; /* OR */
    uint32_t *ids;      /* OR: each child's id, during or_next */
    uint32_t *order;    /* OR: children by those ids */
} multi_it;

static void multi_free(js_it *it)
{
    multi_it *m = (multi_it *)it;
    for (uint32_t i = 0; i < m->nkids; i++)
        js_it_free(m->kids[i]);
    for (uint32_t i = 0; i < m->nnegs; i++)
        js_it_free(m->negs[i]);
    free(m->kids);
    free(m->negs);
    free(m->ids);
    free(m->order);
    free(m);
}

static int and_next(js_it *it, uint32_t target)
{
    multi_it *m = (multi_it *)it;
    for (;;) {
        int rc = js_it_next(m->kids[0], target);
        if (rc)
            return rc;
        uint32_t cand = js_it_id(m->kids[0]);
        if (cand == JS_IT_END)
            break;
        uint32_t i;
        for (i = 1; i < m->nkids; i++) {
            if ((rc = js_it_next(m->kids[i], cand)))
                return rc;
            if (js_it_id(m->kids[i]) != cand)
                break;
        }
        if (i < m->nkids) {
            target = js_it_id(m->kids[i]);
            if (target == JS_IT_END)
                break;
            continue;
        }
        for (i = 0; i < m->nnegs; i++) {
            if ((rc = js_it_next(m->negs[i], cand)))
                return rc;
            if (js_it_id(m->negs[i]) == cand)
                break;
        }
        if (i < m->nnegs) {
            if (cand == JS_IT_END - 1)
                break;
            target = cand + 1;
            continue;
        }
        it->id = cand;
        return 0;
    }
    it->id = JS_IT_END;
    return 0;
}

static int and_score(js_it *it, double *out)
{
    multi_it *m = (multi_it *)it;
    double sum = 0;
    for (uint32_t i = 0; i < m->nkids; i++) {
        double s;
        int rc = js_it_score(m->kids[i], &s);
        if (rc)
            return rc;
        sum += s;
    }
    *out = sum;
    return 0;
}

/* AND and OR bound alike: the sum of the children's bounds over the
 * shortest of their ranges. */
static int multi_bound(js_it *it, uint32_t target, double *ub, uint32_t *upto)
{
    multi_it *m = (multi_it *)it;
    double sum = 0;
    uint32_t last = JS_IT_END;
    for (uint32_t i = 0; i < m->nkids; i++) {
        double b;
        uint32_t u;
        int rc = js_it_bound(m->kids[i], target, &b, &u);
        if (rc)
            return rc;
        sum += b;
        if (u < last)
            last = u;
    }
    *ub = sum;
    *upto = last;
    return 0;
}

static const it_ops and_ops = {and_next, and_score, multi_bound, multi_free};

/* Union with a minimum: the first id >= target that at least min_match
 * children hold (WAND's pivot, counting children rather than adding
 * their bounds).  With the children in order of their current ids, no id
 * below the min_match-th smallest can gather min_match of them, so that
 * id is the pivot; while some child stands below it, the rarest of those
 * is moved to it (it jumps furthest, and the common lists, whose moves
 * cost the most decoding, are moved last, often past several pivots at
 * once).  When none stands below, the first min_match stand on it.
 *
 * MaxScore, once the caller's floor is known: the children (sorted by
 * max score, smallest first) whose max scores add up to no more than the
 * floor cannot make a hit on their own ("non-essential"), so a hit also
 * holds one of the others, and the pivot is raised to the smallest id
 * they stand on.  Returns the number of non-essential children. */
static uint32_t or_nonessential(const multi_it *m)
{
    double sum = 0;
    uint32_t n = 0;
    while (n < m->nkids && sum + m->kids[n]->max <= m->it.floor) {
        sum += m->kids[n]->max;
        n++;
    }
    return n;
}

static int or_next(js_it *it, uint32_t target)
{
    multi_it *m = (multi_it *)it;
    const uint32_t n = m->nkids, need = m->min_match ? m->min_match : 1;
    const uint32_t ne = or_nonessential(m);
    if (ne >= n || need > n) { /* nothing left can beat the floor */
        it->id = JS_IT_END;
        return 0;
    }
    uint32_t *ids = m->ids, *ord = m->order;
    for (uint32_t i = 0; i < n; i++) {
        js_it *k = m->kids[i];
        if (!k->started) {
            int rc = js_it_next(k, target);
            if (rc)
                return rc;
        }
        ids[i] = k->id;
    }
    /* insertion sort: the order of the last call, nearly right */
    for (uint32_t i = 1; i < n; i++) {
        uint32_t x = ord[i], j = i;
        for (; j > 0 && ids[ord[j - 1]] > ids[x]; j--)
            ord[j] = ord[j - 1];
        ord[j] = x;
    }
    for (;;) {
        uint32_t pivot = ids[ord[need - 1]];
        if (pivot < target)
            pivot = target;
        if (ne > 0) { /* the smallest id an essential child can hold */
            uint32_t emin = JS_IT_END;
            for (uint32_t i = ne; i < n; i++)
                if (ids[i] < emin)
                    emin = ids[i];
            if (emin > pivot)
                pivot = emin;
        }
        if (pivot == JS_IT_END || ids[ord[0]] >= pivot) {
            /* none below: the first `need` stand on the pivot (and, with
             * a floor, an essential child: the smallest of them is
             * there) */
            it->id = pivot;
            return 0;
        }
        uint32_t bi = 0; /* the rarest child below the pivot */
        for (uint32_t q = 1; q < n && ids[ord[q]] < pivot; q++)
            if (m->kids[ord[q]]->estimate < m->kids[ord[bi]]->estimate)
                bi = q;
        uint32_t b = ord[bi];
        int rc = js_it_next(m->kids[b], pivot);
        if (rc)
            return rc;
        ids[b] = m->kids[b]->id;
        for (; bi + 1 < n && ids[ord[bi + 1]] < ids[b]; bi++)
            ord[bi] = ord[bi + 1];
        ord[bi] = b;
    }
}

static int or_score(js_it *it, double *out)
{
    multi_it *m = (multi_it *)it;
    double sum = 0;
    for (uint32_t i = 0; i < m->nkids; i++) {
        if (js_it_id(m->kids[i]) != it->id)
            continue;
        double s;
        int rc = js_it_score(m->kids[i], &s);
        if (rc)
            return rc;
        sum += s;
    }
    *out = sum;
    return 0;
}

static const it_ops or_ops = {or_next, or_score, multi_bound, multi_free};

static int is_or(const js_it *it) { return it->ops == &or_ops; }

/* The positive child of an AND that has only one (its score is that
 * child's, so the child may use the AND's floor), else NULL. */
static js_it *lone_child(const js_it *it)
{
    const multi_it *m = (const multi_it *)it;
    return it->ops == &and_ops && m->nkids == 1 ? m->kids[0] : NULL;
}

static int multi_new(multi_it **out, const it_ops *ops, uint32_t nkids,
                     uint32_t nnegs)
{
    multi_it *m = calloc(1, sizeof *m);
    if (!m)
        return JS_ENOMEM;
    m->it.ops = ops;
    m->kids = calloc(nkids ? nkids : 1, sizeof *m->kids);
    m->negs = calloc(nnegs ? nnegs : 1, sizeof *m->negs);
    m->ids = calloc(nkids ? nkids : 1, sizeof *m->ids);
    m->order = calloc(nkids ? nkids : 1, sizeof *m->order);
    if (!m->kids || !m->negs || !m->ids || !m->order) {
        free(m->kids);
        free(m->negs);
        free(m->ids);
        free(m->order);
        free(m);
        return JS_ENOMEM;
    }
    for (uint32_t i = 0; i < nkids; i++)
        m->order[i] = i;
    *out = m;
    return 0;
}

static int cmp_estimate(const void *a, const void *b)
{
    double x = (*(js_it *const *)a)->estimate;
    double y = (*(js_it *const *)b)->estimate;
    return (x > y) - (x < y);
}

/* Finishes an AND over an index of n sections: rarest child first,
 * estimates and bounds. */
static void and_finish(multi_it *m, double n)
{
    qsort(m->kids, m->nkids, sizeof *m->kids, cmp_estimate);
    /* matches: as if the parts occurred independently, N * prod(df/N),
     * never above the rarest part's count; top-k reports it as "about"
     * when it pruned (it then also knows the matches it saw) */
    double max = 0, est = m->nkids ? m->kids[0]->estimate : 0;
    if (m->nkids > 1 && n > 0) {
        double p = n;
        for (uint32_t i = 0; i < m->nkids; i++)
            p *= m->kids[i]->estimate / n;
        est = p < est ? p : est;
    }
    int exact = m->nkids == 1 && m->kids[0]->exact && m->nnegs == 0;
    for (uint32_t i = 0; i < m->nkids; i++)
        max += m->kids[i]->max;
    m->it.max = max;
    m->it.estimate = est;
    m->it.exact = exact;
    if (m->nkids && m->kids[0]->started && m->kids[0]->id == JS_IT_END) {
        m->it.started = 1;
        m->it.id = JS_IT_END;
        m->it.max = 0;
        /* a segment of a live snapshot may hold none of a part that
         * others hold: the estimate is the snapshot's */
        if (m->kids[0]->estimate == 0) {
            m->it.estimate = 0;
            m->it.exact = 1;
        }
    }
}

static int cmp_max(const void *a, const void *b)
{
    double x = (*(js_it *const *)a)->max;
    double y = (*(js_it *const *)b)->max;
    return (x > y) - (x < y);
}

/* Finishes an OR: children by max score, smallest first (for MaxScore),
 * estimates and bounds. */
static void or_finish(multi_it *m)
{
    qsort(m->kids, m->nkids, sizeof *m->kids, cmp_max);
    double max = 0, est = 0;
    for (uint32_t i = 0; i < m->nkids; i++) {
        max += m->kids[i]->max;
        est += m->kids[i]->estimate;
    }
    m->it.max = max;
    m->it.estimate = est;
    m->it.exact = m->nkids == 1 && m->kids[0]->exact;
}

static int build(js_it **out, const js_scorer *s, const js_qnode *q,
                 char *err, size_t errlen);

/* A leaf of one unit: a one-term part, or one word a prefix expanded
 * to. */
static int unit_leaf(js_it **out, const js_scorer *s, const js_qunit *u,
                     int heading_only, char *err, size_t errlen)
{
    js_qunit one = *u;
    one.rel = 0;
    return leaf_new(out, s, &one, 1, heading_only, err, errlen);
}

/* A prefix leaf (query.h): the OR of its expansions, each scored as its
 * own term (its own idf, its own BM25F), so a section holding several of
 * them adds their scores, as a query OR-ing the words would.  Without
 * expansions, the prefix as a word, which the index lacks: no match. */
static int build_prefix(js_it **out, const js_scorer *s, const js_qnode *q,
                        char *err, size_t errlen)
{
    if (q->nexp == 0)
        return leaf_new(out, s, q->units, q->nunits, q->heading_only, err,
                        errlen);
    if (q->nexp == 1)
        return unit_leaf(out, s, &q->exp[0], q->heading_only, err, errlen);
    multi_it *m;
    int rc = multi_new(&m, &or_ops, q->nexp, 0);
    if (rc)
        return rc;
    m->min_match = 1;
    for (uint32_t i = 0; i < q->nexp && !rc; i++)
        rc = unit_leaf(&m->kids[m->nkids++], s, &q->exp[i], q->heading_only,
                       err, errlen);
    if (rc) {
        multi_free(&m->it);
        return rc;
    }
    or_finish(m);
    *out = &m->it;
    return 0;
}

static int build_and(js_it **out, const js_scorer *s, const js_qnode *q,
                     char *err, size_t errlen)
{
    uint32_t npos = 0, nneg = 0;
    for (uint32_t i = 0; i < q->nkids; i++)
        q->kids[i]->op == JS_Q_NOT ? nneg++ : npos++;
    multi_it *m;
    int rc = multi_new(&m, &and_ops, npos, nneg);
    if (rc)
        return rc;
    for (uint32_t i = 0; i < q->nkids && !rc; i++) {
        const js_qnode *k = q->kids[i];
        if (k->op == JS_Q_NOT)
            rc = build(&m->negs[m->nnegs++], s, k->kids[0], err, errlen);
        else
            rc = build(&m->kids[m->nkids++], s, k, err, errlen);
    }
    if (rc || m->nkids == 0) {
        multi_free(&m->it);
        if (!rc) {
            snprintf(err, errlen, "the query only excludes");
            rc = JS_EINVALID;
        }
        return rc;
    }
    and_finish(m, s->n);
    *out = &m->it;
    return 0;
}

static int build(js_it **out, const js_scorer *s, const js_qnode *q,
                 char *err, size_t errlen)
{
    switch (q->op) {
    case JS_Q_LEAF:
        if (q->prefix)
            return build_prefix(out, s, q, err, errlen);
        return leaf_new(out, s, q->units, q->nunits, q->heading_only, err,
                        errlen);
    case JS_Q_AND:
        return build_and(out, s, q, err, errlen);
    case JS_Q_OR: {
        multi_it *m;
        int rc = multi_new(&m, &or_ops, q->nkids, 0);
        if (rc)
            return rc;
        m->min_match = 1;
        for (uint32_t i = 0; i < q->nkids && !rc; i++)
            rc = build(&m->kids[m->nkids++], s, q->kids[i], err, errlen);
        if (rc) {
            multi_free(&m->it);
            return rc;
        }
        or_finish(m);
        *out = &m->it;
        return 0;
    }
    case JS_Q_NOT:
    default:
        snprintf(err, errlen, "an exclusion outside AND");
        return JS_EINVALID;
    }
}

static int build_partial(js_it **out, const js_scorer *s, const js_qnode *q,
                         char *err, size_t errlen)
{
    struct {
        js_qgram *g;
        uint32_t n;
    } gl = {NULL, 0};
    int rc = js_query_grams(q, &gl.g, &gl.n);
    multi_it *or = NULL, *and = NULL;
    if (rc)
        goto fail;
    if (gl.n == 0) {
        snprintf(err, errlen, "the query has no searchable terms");
        rc = JS_EINVALID;
        goto fail;
    }
    if (gl.n == 1) { /* the one gram is the query: nothing to add */
        *out = NULL;
        free(gl.g);
        return 0;
    }
    if ((rc = multi_new(&or, &or_ops, gl.n, 0)))
        goto fail;
    for (uint32_t i = 0; i < gl.n && !rc; i++) {
        if (gl.g[i].prefix) /* one gram: any of its words */
            rc = build_prefix(&or->kids[or->nkids++], s, gl.g[i].prefix, err,
                              errlen);
        else
            rc = unit_leaf(&or->kids[or->nkids++], s, gl.g[i].u,
                           gl.g[i].heading, err, errlen);
    }
    if (rc)
        goto fail;
    or->min_match = js_query_partial_need(gl.n);
    or_finish(or);
    /* the root's exclusions still apply */
    uint32_t nneg = 0;
    if (q->op == JS_Q_AND)
        for (uint32_t i = 0; i < q->nkids; i++)
            nneg += q->kids[i]->op == JS_Q_NOT;
    if (nneg == 0) {
        *out = &or->it;
        free(gl.g);
        return 0;
    }
    if ((rc = multi_new(&and, &and_ops, 1, nneg)))
        goto fail;
    and->kids[and->nkids++] = &or->it;
    or = NULL;
    for (uint32_t i = 0; i < q->nkids && !rc; i++)
        if (q->kids[i]->op == JS_Q_NOT)
            rc = build(&and->negs[and->nnegs++], s, q->kids[i]->kids[0], err,
                       errlen);
    if (rc)
        goto fail;
    and_finish(and, s->n);
    *out = &and->it;
    free(gl.g);
    return 0;
fail:
    if (or)
        multi_free(&or->it);
    if (and)
        multi_free(&and->it);
    free(gl.g);
    return rc;
}

int js_match_build(js_it **out, const js_scorer *s, const js_qnode *q,
                   int partial, char *err, size_t errlen)
{
    if (partial)
        return build_partial(out, s, q, err, errlen);
    return build(out, s, q, err, errlen);
}
