/*
 * query.h — the query language: a query string -> a tree of parts
 * (query.c).
 *
 * In:  the query as the user typed it (UTF-8, untrusted), and the
 *      JS_ANALYZE_* flags the index was built with.
 * Out: a tree of AND / OR / NOT nodes whose leaves are parts already
 *      passed through the text pipeline: each leaf carries the terms the
 *      matcher must find at fixed relative positions (its "units"), and
 *      the terms a partial match may count (its "grams").
 *
 * The language (README "The query language"):
 *   - whitespace-separated parts are ANDed;
 *   - a part matches where its terms stand at consecutive positions, so a
 *     CJK run is a chain of bigrams and `2023年8月` is word, unigram, word,
 *     unigram at positions 0..3;
 *   - "..." (also “...” and 「...」) is one part across spaces and scripts;
 *   - OR between parts (upper case, a word of its own) binds tighter than
 *     the implicit AND: `a b OR c` is a AND (b OR c);
 *   - -part excludes (before a part, a phrase or a group);
 *   - ( ) group (full-width （ ） too);
 *   - title:part (also 标题: and 標題:) restricts a part, phrase or group
 *     to headings and document titles;
 *   - word* (a '*' or '＊' right after a word, outside quotes) matches
 *     every indexed word that starts with the word as the query
 *     normalises it (NFKC, case folding): `xapi*` finds "Xapian".  It
 *     expands, once the index is known (js_query_expand), into at most
 *     JS_PREFIX_MAX_TERMS = 50 words, the most frequent (by df), each
 *     scored as its own term, OR'd; a prefix that expands to nothing
 *     matches nothing, like an absent word.  A prefix must be at least
 *     JS_PREFIX_MIN_CHARS = 2 characters (`x*` is an error rather than
 *     the 50 most frequent words starting with x, or the word x, neither
 *     of which is what someone typing "x..." is heading for).  A '*'
 *     after a CJK run or punctuation is dropped (CJK runs already match
 *     as n-grams: `工匠学*` is `工匠学`); in a part of several terms the
 *     last word before the '*' is the prefix and the rest is ANDed as a
 *     part of its own (`数据库xapi*` is `数据库 xapi*`); inside "..." a
 *     '*' is punctuation like any other; a lone `*` is no term.
 * Malformed input gets a sensible reading where one exists (an unclosed
 * quote or parenthesis closes at the end, a stray ')' or a lone '-' is
 * ignored, OR at the start or end is the word "or") and a clear message
 * where none does (no searchable term, only exclusions, too long).
 * The readings in detail:
 *   - parts are cut at white space (ASCII, U+3000 and the other Unicode
 *     spaces), NUL and other control characters, parentheses and quotes;
 *     invalid UTF-8 stays inside its part, where the pipeline makes it a
 *     separator (`工匠ÿ學院` is 工匠@0 学院@3);
 *   - a phrase ends at its own closing quote (" ", ＂ ＂, “ ”, 「 」,
 *     『 』); a closing quote with no phrase open separates parts;
 *   - '-' (or '－') excludes when it starts a part and an operand follows
 *     at once; excluding is idempotent: `--x`, `-(-x)`, `-(-x -y)` exclude
 *     what the inner exclusions do;
 *   - a field prefix applies to the next operand, even after white space;
 *     with nothing after it (end, ')') it is ignored;
 *   - OR is an operator only between two operands: at the start or end of
 *     the query or a group, next to another OR, or quoted, it is the word
 *     "or";
 *   - an excluded operand as an alternative of OR (`-a OR b`) is an error.
 */
#ifndef JS_QUERY_H
#define JS_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "jiansuo.h"

#define JS_QUERY_MAX_BYTES 4096 /* longer queries fail with JS_ELIMIT */
#define JS_QUERY_MAX_DEPTH 32   /* parentheses nested deeper: JS_ELIMIT */
#define JS_PREFIX_MAX_TERMS 50  /* words a prefix expands to, at most */
#define JS_PREFIX_MIN_CHARS 2   /* characters of a prefix, at least */

typedef enum js_qop {
    JS_Q_LEAF = 1,
    JS_Q_AND = 2, /* every child matches; NOT children exclude */
    JS_Q_OR = 3,  /* any child matches */
    JS_Q_NOT = 4  /* one child, excluded; only ever a child of AND */
} js_qop;

/* One term of a leaf, at a position relative to the leaf's first term. */
typedef struct js_qunit {
    char *term;   /* normalised term, NUL-terminated, no field prefix */
    uint32_t len; /* bytes in term */
    uint32_t rel; /* position relative to the leaf's first position */
    js_token_kind kind;
} js_qunit;

typedef struct js_qnode js_qnode;
struct js_qnode {
    js_qop op;
    /* JS_Q_LEAF */
    int heading_only;      /* under title: */
    int quoted;            /* typed as "..." */
    char *text;            /* the part as typed (without quotes), NUL-terminated */
    js_qunit *units;       /* the cover: every word; for each CJK run of
                            * one character its unigram, of more its
                            * bigrams at rel r, r+2, ... and the run's last
                            * bigram; sorted by rel, then kind */
    uint32_t nunits;       /* >= 1 */
    uint32_t span;         /* positions the part takes (last rel + 1, or
                            * + 2 when the last unit is a bigram) */
    js_qunit *grams;       /* for partial matching: every word, every
                            * bigram, and the unigram of every one-character
                            * CJK run, in position order, no duplicates */
    uint32_t ngrams;       /* >= 1 */
    int prefix;            /* typed as word*: units[0], the only unit (and
                            * gram), is the prefix, a word */
    js_qunit *exp;         /* a prefix after js_query_expand: the indexed
                            * words that start with it, at most
                            * JS_PREFIX_MAX_TERMS, in byte order, rel 0,
                            * kind word; the leaf matches where any does.
                            * NULL (nexp 0) when none does: the leaf is
                            * then its prefix as a word, which the index
                            * lacks (else it would have expanded to it) */
    uint32_t nexp;
    int expanded;          /* js_query_expand has filled exp */
    /* JS_Q_AND, JS_Q_OR (>= 2 children), JS_Q_NOT (1 child) */
    js_qnode **kids;
    uint32_t nkids;
};

/* Allocation for query.c and snippet.c: realloc and calloc (never
 * returning NULL for a zero size unless failing) that fail when the
 * tests' js_query_failpoint counts down to zero; the caller frees with
 * free().  js_q_grow grows *pp (an array of elsize-byte elements with room
 * for *cap) to hold at least need, doubling; returns 0, or JS_ENOMEM
 * leaving *pp as it was for the caller to free. */
void *js_q_realloc(void *p, size_t n);
void *js_q_calloc(size_t n, size_t size);
int js_q_grow(void *pp, size_t *cap, size_t need, size_t elsize);

/* Parses query[0..len) into *out, analysing parts with analyze_flags.
 * The tree is normalised: AND and OR have at least two children and no
 * child of the same operator (nested ones are flattened), a group of one
 * part is that part, the root is never a NOT, every NOT is a child of an
 * AND that has at least one child that is not a NOT, parts without any
 * term (punctuation only) are dropped.
 * Returns 0 and *out (free with js_query_free), or:
 *   JS_EINVALID  no searchable term, only exclusions, an exclusion inside
 *                OR, and the like; a message in err
 *   JS_ELIMIT    over JS_QUERY_MAX_BYTES or JS_QUERY_MAX_DEPTH; message
 *   JS_ENOMEM
 * err (errlen bytes, may be NULL) gets a NUL-terminated English sentence
 * on failure, e.g. "the query has no searchable terms". */
int js_query_parse(js_qnode **out, const char *query, size_t len,
                   unsigned analyze_flags, char *err, size_t errlen);

/* A gram of a positive leaf, for partial matching. */
typedef struct js_qgram {
    const js_qunit *u; /* points into the tree */
    int heading;       /* the leaf is title: only */
    /* NULL, or the prefix leaf u is the prefix of: the gram is then held
     * where any of its expansions (prefix->exp) is, one gram however
     * many words it expands to */
    const js_qnode *prefix;
} js_qgram;

/* Collects the grams of q's leaves that are not under a NOT, without
 * duplicates (same bytes and field), in tree order.  *out gets a malloc'ed
 * array the caller frees (NULL when *n is 0).  Returns 0 or JS_ENOMEM. */
int js_query_grams(const js_qnode *q, js_qgram **out, uint32_t *n);

/* Share of a query's grams a partial hit must hold. */
#define JS_PARTIAL_SHARE 0.4

/* How many of n grams a partial hit must hold: JS_PARTIAL_SHARE of them
 * rounded up, and at least two once there are two (one shared bigram
 * says little about a longer query: for 蚌埠工 a section holding 蚌埠
 * somewhere and 埠工 elsewhere is a fair partial hit, one holding only 蚌埠
 * is not); 1 for n <= 1. */
uint32_t js_query_partial_need(uint32_t n);

/* The words a backend offers for one prefix leaf (js_query_expand). */
typedef struct js_qexpansion js_qexpansion;

/* Offers term[0..len) (a word starting with the prefix, without any
 * field prefix) held by df sections; the same term offered again (by
 * another field or segment) adds its df.  Returns 0 or JS_ENOMEM. */
int js_qexpansion_add(js_qexpansion *x, const char *term, size_t len,
                      double df);

/* A backend's lister: offers to x every indexed word that starts with
 * leaf->units[0].term, in the fields the leaf searches (headings only
 * under title:, else body and headings), over all of the index's
 * segments or shards.  Returns 0 or a JS_E* code. */
typedef int (*js_qexpand_fn)(void *ctx, const js_qnode *leaf,
                             js_qexpansion *x);

/* Expands every prefix leaf of q (under NOT too): fn lists the words, and
 * the JS_PREFIX_MAX_TERMS with the largest df (summed over the offers;
 * ties by byte order) become the leaf's exp, in byte order.  Expanding
 * twice replaces the first expansion.  Returns 0, JS_ENOMEM, or fn's
 * code. */
int js_query_expand(js_qnode *q, js_qexpand_fn fn, void *ctx);

/* Whether q holds a prefix leaf. */
int js_query_has_prefix(const js_qnode *q);

/* Frees a tree from js_query_parse; NULL is fine. */
void js_query_free(js_qnode *q);

/* Writes the tree in a compact, stable text form for tests and `jiansuo
 * search --explain`, as a malloc'ed NUL-terminated string the caller
 * frees (NULL when out of memory):
 *   leaf   "工匠@0 学院@2"   units as term@rel, space-separated, quoted;
 *          prefixed with title: when heading_only; a prefix leaf is
 *          "xapi*@0", followed once expanded by its words in braces:
 *          "xapi*@0"{xapian xapians} ({} when it expanded to none)
 *   nodes  (AND x y ...) (OR x y ...) (NOT x)
 * e.g. `工匠學院 -(a OR b)` gives (AND "工匠@0 学院@2" (NOT (OR "a@0" "b@0"))). */
char *js_query_format(const js_qnode *q);

/* Fault injection for the test suites, not part of the library's API:
 * while non-zero, every allocation made by query.c and snippet.c counts it
 * down, and the one that brings it to zero fails as if memory had run out.
 * Programs leave it at 0 (then it is only read, so threads may parse and
 * find at once).  Defined in query.c. */
extern unsigned long js_query_failpoint;

#endif /* JS_QUERY_H */
