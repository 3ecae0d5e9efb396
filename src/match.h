/*
 * match.h — a parsed query over an open index: the sections that match,
 * in id order, each with its BM25F score, and score bounds for skipping
 * (match.c).
 *
 * In:  a query tree (query.h) and an index (index/reader.h).
 * Out: an iterator tree.  Leaves walk the postings of their units in the
 *      body field and in the heading field (terms prefixed with 0x01),
 *      intersect them and keep the sections where the units stand at
 *      their relative positions, counting how often (the part's frequency
 *      in each field); AND, OR and exclusion combine leaves as the tree
 *      says.  Every iterator can also bound its score over a range of ids
 *      from the postings' skip data (block-max top-k, search.c).
 *
 * Scoring (doc/ARCHITECTURE.md, "A query from argv to output"): a part counts as one unit, BM25F over two
 * fields.  For a part with frequency tb in the body (length lb positions)
 * and th in the heading field (length lh):
 *     t     = tb / (1 - b + b lb/avg_lb) + w th / (1 - b + b lh/avg_lh)
 *     score = idf * t (k1 + 1) / (k1 + t)
 *     idf   = ln(1 + (N - df + 0.5) / (df + 0.5))
 * where N is the number of sections, df the number of sections holding the
 * part (exact when cheap to count, else estimated; see js_match_df), w the
 * heading weight.  AND and OR add their children's scores.
 *
 * Iterators are private to one search: a search on another thread builds
 * its own, so one js_reader serves many threads.
 */
#ifndef JS_MATCH_H
#define JS_MATCH_H

#include <stdint.h>

#include "deletes.h"
#include "query.h"
#include "reader.h"
#include "verify.h"

#define JS_IT_END UINT32_MAX

/* The lexicon entries one search has looked up (terms of up to
 * JS_MEMO_TERM_MAX bytes, the first JS_MEMO_TERMS of them): the strict
 * pass, a part's counting and the partial pass open the same terms. */
#define JS_MEMO_TERMS 32
#define JS_MEMO_TERM_MAX 31
typedef struct js_term_memo {
    uint32_t n;
    struct {
        uint8_t len;
        char term[JS_MEMO_TERM_MAX];
        int rc; /* 0 or JS_ENOTFOUND */
        js_term_info info;
    } e[JS_MEMO_TERMS];
} js_term_memo;

typedef struct js_scorer {
    const js_reader *ix;
    js_term_memo *memo;   /* NULL, or one search's (js_scorer_init: NULL) */
    /* NULL, or one search's checker of positions the index leaves out
     * (js_scorer_init: NULL; a phrase that needs one then makes its own) */
    js_verify *verify;
    double k1, b, w;      /* BM25 parameters and the heading weight */
    double avg_b, avg_h;  /* average body and heading lengths */
    double n;             /* sections */
    /* what a postings block's stored norm, made for the segment's own
     * averages, is multiplied by to bound t under avg_b and avg_h: 1
     * after js_scorer_init (js_scorer_norms_for) */
    double norm_scale_b, norm_scale_h;
    /* A live index's snapshot (src/snapshot.c): the scorers of all its
     * segments in order, this one among them, n and the averages those
     * of the live sections of all; a part's df is then counted over
     * all segments' live sections, as a fresh build of them would count
     * it.  NULL (js_scorer_init): this index alone. */
    const struct js_scorer *const *all;
    uint32_t nall;
    const js_deletes *del; /* this segment's deleted sections, or NULL */
    uint64_t live_base;    /* live sections in the segments before */
    /* the parts counted so far by this search (shared by the segments'
     * scorers, which build trees of the same parts): each part is
     * counted over all segments once per search, not once per segment;
     * NULL: no sharing */
    struct js_part_cache *parts;
} js_scorer;

/* A search's parts counted over a live snapshot (js_scorer.parts):
 * create it zeroed, free it with js_part_cache_free. */
typedef struct js_part_cache {
    uint32_t n, cap;
    struct js_part_count {
        char *key;
        size_t len;
        double estimate;
        int exact;
        /* a part counted in full: each segment's matches, replayed by
         * its tree instead of intersecting the postings again (NULL:
         * walk them) */
        struct replay **replays;
        uint32_t nreplays;
    } *e;
} js_part_cache;

void js_part_cache_free(js_part_cache *c);

/* Fills s for index ix with the given parameters. */
void js_scorer_init(js_scorer *s, const js_reader *ix, double k1, double b,
                    double w);

/* Sets s's averages to a live snapshot's (avg_b, avg_h) while its
 * segment's stored norms were made for seg_b and seg_h.  A norm is t =
 * tf / (1 - b + b len / avg); under an average r times the segment's, t
 * grows by at most max(1, r) (the factor (1 - b + b x r) / (1 - b + b x),
 * x = len / avg, rises towards r as x grows when r > 1, and stays at most
 * 1 when r <= 1), so the stored norms times that still bound t. */
void js_scorer_norms_for(js_scorer *s, double avg_b, double avg_h,
                         double seg_b, double seg_h);

/* The BM25F score of a part (see above) with the given idf. */
double js_scorer_score(const js_scorer *s, double idf, uint32_t tb,
                       uint32_t lb, uint32_t th, uint32_t lh);

/* idf for a part held by df sections. */
double js_scorer_idf(const js_scorer *s, double df);

typedef struct js_it js_it;

/* Builds the iterator tree for q.  partial: instead of q itself, match
 * sections holding at least js_query_partial_need of the grams of q's
 * positive leaves (leaves under NOT stay excluded where they are children of the
 * root AND); *out is NULL when q has one gram, its partial matches being
 * its strict ones.  *out is freed with js_it_free.  Returns 0, JS_ENOMEM,
 * JS_ECORRUPT (a postings record fails its checks), JS_EINVALID (the
 * index lacks positions a part needs); err gets a message. */
int js_match_build(js_it **out, const js_scorer *s, const js_qnode *q,
                   int partial, char *err, size_t errlen);

/* Moves to the first matching section with id >= target.  Returns 0 with
 * js_it_id giving the id (JS_IT_END when none is left), or a negative
 * JS_E* code (corrupt postings, no memory). */
int js_it_next(js_it *it, uint32_t target);

/* The current section id (JS_IT_END at the end). */
uint32_t js_it_id(const js_it *it);

/* The score of the current section (after js_it_next found one).  Returns
 * 0 or JS_ECORRUPT (a section record out of range). */
int js_it_score(js_it *it, double *score);

/* An upper bound on the score of any match with id in [target, *upto],
 * from the skip data of the postings blocks that hold target; *upto >=
 * target (JS_IT_END when the bound holds to the end).  Moves cursors
 * forward (dense lists without decoding, a part's sparser field to its
 * next match), so call it only with targets that do not go back.
 * Returns 0 or a negative JS_E* code. */
int js_it_bound(js_it *it, uint32_t target, double *ub, uint32_t *upto);

/* An upper bound on any score the iterator can give. */
double js_it_max(const js_it *it);

/* Tells the iterator that only scores above `floor` matter from now on
 * (top-k's k-th score); an OR then skips sections that only its
 * low-scoring children hold (MaxScore).  Floors only rise.  Returns 1
 * when the iterator may now skip matches (so counting them is no longer
 * exact), else 0. */
int js_it_floor(js_it *it, double floor);

/* The estimated number of matching sections, and whether it is exact
 * (a single part counted in full). */
double js_it_estimate(const js_it *it, int *exact);

/* A ranked section. */
typedef struct js_scored {
    double score;
    uint32_t id;
} js_scored;

/* Whether a ranks before b: a higher score, or the same and a smaller
 * id (results never depend on the order sections were met). */
static inline int js_scored_before(const js_scored *a, const js_scored *b)
{
    return a->score > b->score || (a->score == b->score && a->id < b->id);
}

/* The best k sections of a one-term query from the index's champion list
 * (index/champ.h), without walking postings.  It answers when `it` is a
 * part of one unit in both fields (not title:, not replayed), its body
 * term has a list ranked for the scorer's b and heading weight, k1 > 0
 * (so that scores follow t), and the list decides the top k: it holds
 * every section of the term, or its k-th best score is above any score
 * a section outside it could have.  Then out[0..*n) gets them best
 * first, ties by smaller id, with exactly the scores js_it_score gives,
 * *n = min(k, sections holding the part), *total those sections
 * (exact), and it returns 1.  Returns 0 when the postings must be
 * walked, or JS_ECORRUPT / JS_ENOMEM. */
int js_match_champions(js_it *it, uint32_t k, js_scored *out, uint32_t *n,
                       uint64_t *total);

/* js_match_champions for one segment of a live snapshot (s->all): the
 * sections of the term's champion list in this segment, deleted ones
 * too, in out[0..*n) (room for JS_CHAMP_MAX_SIZE), local ids, with
 * their exact scores under the snapshot's statistics, and in *outside a
 * bound on the score of any section of the term not in the list
 * (-INFINITY when the list holds them all).  Returns 1, 0 when this
 * segment has no list for the part (walk it), or JS_ECORRUPT /
 * JS_ENOMEM. */
int js_match_champions_seg(js_it *it, js_scored *out, uint32_t *n,
                           double *outside);

/* Frees the tree; NULL is fine. */
void js_it_free(js_it *it);

#endif /* JS_MATCH_H */
