/*
 * verify.h — positions the index does not keep, from its stored text.
 *
 * In:  an open index, a section id, a field (body or heading), and terms
 *      whose positions the index leaves out (CJK unigrams: fields.h).
 * Out: each term's positions in that field, exactly as the builder's
 *      analysis numbered them: what a phrase check (match.c) needs for a
 *      unit whose postings carry no positions.
 *
 * The body comes from the stored text, each store block inflated once
 * however many of its sections a search checks (they come in id order);
 * the heading field is analysed again from the document's title and the
 * HEADINGS part (fields.c says how).  One js_verify serves one search on
 * one thread.
 */
#ifndef JS_VERIFY_H
#define JS_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "reader.h"
#include "store.h"

/* A term sought during a call, and the positions found for it (pos
 * keeps its capacity, cap, from call to call). */
typedef struct js_verify_term {
    const char *term;
    size_t len;
    uint32_t *pos;
    uint32_t count, cap;
} js_verify_term;

typedef struct js_verify {
    const js_reader *ix;
    js_store_cache cache; /* the store block of the last body read */
    /* during a call: n terms in an array of `slots` grown as calls need */
    uint32_t n, slots;
    js_verify_term *t;
    uint32_t limit; /* the last position of interest */
    int oom;
} js_verify;

/* Prepares v (any memory) for searches of ix; holds nothing yet. */
void js_verify_init(js_verify *v, const js_reader *ix);

/* Finds terms[0..n) (lens in bytes, no field prefix) in section id's heading field (heading 1) or body (0), at
 * positions up to `limit` (the analysis stops past it; UINT32_MAX for
 * all).  On 0, pos[i] points at count[i] increasing positions of
 * terms[i] (count 0: absent), valid until the next call on v or
 * js_verify_free.  Returns 0, JS_ENOMEM, or JS_ECORRUPT (stored text or
 * heading record damaged). */
int js_verify_positions(js_verify *v, uint32_t id, int heading,
                        const char *const *terms, const size_t *lens,
                        uint32_t n, uint32_t limit, const uint32_t **pos,
                        uint32_t *count);

/* Frees what v holds (not v); a zeroed or initialised v is fine. */
void js_verify_free(js_verify *v);

#endif /* JS_VERIFY_H */
