/*
 * snippet.h — where a query's parts occur in a text, and a short excerpt
 * around the best cluster of them (snippet.c).
 *
 * In:  a section's stored text (heading or body, UTF-8 that may still hold
 *      invalid bytes), the parsed query (query.h), the index's
 *      JS_ANALYZE_* flags.
 * Out: byte ranges of the matches in that text; then an excerpt of about
 *      N characters, whitespace collapsed, valid UTF-8, with the matches'
 *      ranges in excerpt coordinates, for the CLI to mark (bold on a
 *      terminal, 【】 otherwise) and for JSON output.
 *
 * Finding re-analyses the text with the same pipeline as the index, so a
 * range is exactly what the index matched: a leaf matches where its units
 * stand at their relative positions among the text's tokens.
 */
#ifndef JS_SNIPPET_H
#define JS_SNIPPET_H

#include <stddef.h>

#include "query.h"

typedef struct js_range {
    size_t start, end; /* bytes [start, end) */
} js_range;

enum {
    JS_FIND_HEADING = 1u << 0, /* the text is a heading: title: leaves count */
    JS_FIND_GRAMS = 1u << 1    /* partial hit: match each leaf's grams one by
                                * one instead of whole leaves */
};

/* Finds the matches of q's leaves in text[0..len): leaves under a NOT are
 * ignored, title: leaves only count with JS_FIND_HEADING.  *out gets a
 * malloc'ed array (caller frees; NULL when *n is 0) of ranges sorted by
 * start, overlapping or touching ranges merged, each on UTF-8 character
 * boundaries.  Returns 0, JS_ENOMEM, JS_ELIMIT (more than
 * JS_SECTION_MAX_BYTES * 2 bytes of text), or JS_EINVALID (NULL out or n,
 * NULL text with len > 0); *out and *n are written only on success. */
int js_snippet_find(js_range **out, size_t *n, const char *text, size_t len,
                    const js_qnode *q, unsigned analyze_flags, unsigned flags);

typedef struct js_snippet {
    char *text;    /* malloc'ed, NUL-terminated, valid UTF-8 */
    size_t len;    /* bytes in text */
    js_range *hl;  /* malloc'ed ranges in text, sorted, disjoint (NULL if 0) */
    size_t nhl;
} js_snippet;

/* Makes an excerpt of about `width` characters (>= 10) of text[0..len)
 * around the best cluster of the ranges hl[0..nhl) (sorted, disjoint, from
 * js_snippet_find): the window of that width holding the most distinct
 * matched terms, then the most matches, then the earliest; widened or
 * shifted so that it does not cut a match or a character, and started at
 * a sentence or clause start (after 。！？；.!?; or a line break) when one
 * lies close before the first match.  Runs of white space and control
 * characters become one space; invalid UTF-8 bytes become U+FFFD; "…" marks
 * text cut at either end.  With no ranges it is the text's beginning; a
 * text that fits in the width is shown whole.  A match that would
 * straddle either end of the excerpt is left out rather than cut; ranges
 * that are empty, unsorted, overlapping or past the end are skipped.  A
 * width below 10 counts as 10.  Fills *out (free its members with
 * js_snippet_clear).  Returns 0, JS_ENOMEM (then *out is empty), or
 * JS_EINVALID for a NULL out. */
int js_snippet_make(js_snippet *out, const char *text, size_t len,
                    const js_range *hl, size_t nhl, size_t width);

/* Frees what *s holds and empties it; an empty one is fine. */
void js_snippet_clear(js_snippet *s);

#endif /* JS_SNIPPET_H */
