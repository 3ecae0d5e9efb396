/*
 * verify.c — a section field's text analysed again, keeping the positions
 * of a few terms (see verify.h).
 *
 * In:  section id, field, terms.
 * Out: each term's positions in the field.
 */
#include "config.h"

#include "verify.h"

#include <stdlib.h>
#include <string.h>

#include "fields.h"

void js_verify_init(js_verify *v, const js_reader *ix)
{
    memset(v, 0, sizeof *v);
    v->ix = ix;
}

void js_verify_free(js_verify *v)
{
    if (!v)
        return;
    js_store_cache_free(&v->cache);
    for (uint32_t i = 0; i < v->slots; i++)
        free(v->t[i].pos);
    free(v->t);
    v->t = NULL;
    v->slots = 0;
}

/* Makes v's array hold n terms.  Returns 0 or JS_ENOMEM (v unchanged). */
static int grow_slots(js_verify *v, uint32_t n)
{
    if (n <= v->slots)
        return 0;
    uint32_t want = n < 8 ? 8 : n;
    js_verify_term *t = realloc(v->t, want * sizeof *t);
    if (!t)
        return JS_ENOMEM;
    memset(t + v->slots, 0, (want - v->slots) * sizeof *t);
    v->t = t;
    v->slots = want;
    return 0;
}

/* What on_token returns to stop the analysis once past v->limit: not an
 * error code of the pipeline (those are negative). */
#define VERIFY_DONE 1

static int on_token(void *ctx, const js_token *t, int heading)
{
    js_verify *v = ctx;
    (void)heading;
    if (t->position > v->limit)
        return VERIFY_DONE;
    for (uint32_t i = 0; i < v->n; i++) {
        js_verify_term *s = &v->t[i];
        /* a byte loop: terms are a few bytes, and most differ at once */
        const char *a = t->term, *b = s->term;
        size_t k = 0, n = t->term_len;
        if (n != s->len)
            continue;
        while (k < n && a[k] == b[k])
            k++;
        if (k < n)
            continue;
        if (s->count == s->cap) {
            uint32_t cap = s->cap ? s->cap * 2 : 16;
            uint32_t *p = cap > s->cap
                              ? realloc(s->pos, (size_t)cap * sizeof *p)
                              : NULL;
            if (!p) {
                v->oom = 1;
                return JS_ENOMEM;
            }
            s->pos = p;
            s->cap = cap;
        }
        /* positions come in increasing order; a phrase may seek one
         * term twice ("山x山"), each copy gets them all */
        s->pos[s->count++] = t->position;
    }
    return 0;
}

static int analyze_body(void *ctx, const js_token *t)
{
    return on_token(ctx, t, 0);
}

int js_verify_positions(js_verify *v, uint32_t id, int heading,
                        const char *const *terms, const size_t *lens,
                        uint32_t n, uint32_t limit, const uint32_t **pos,
                        uint32_t *count)
{
    if (grow_slots(v, n))
        return JS_ENOMEM;
    const js_reader *ix = v->ix;
    v->n = n;
    v->limit = limit;
    v->oom = 0;
    for (uint32_t i = 0; i < n; i++) {
        v->t[i].term = terms[i];
        v->t[i].len = lens[i];
        v->t[i].count = 0;
    }
    int rc;
    if (heading) {
        js_section_rec s;
        js_doc_rec d;
        const char *path;
        size_t path_len;
        uint32_t head_len;
        if (id >= ix->nsections)
            return JS_ECORRUPT;
        if ((rc = js_reader_section(ix, id, &s)) ||
            (rc = js_reader_document(ix, s.document, &d)) ||
            (rc = js_reader_headings(ix, id, &path, &path_len)))
            return rc;
        rc = js_fields_analyze_heading(d.title, path, path_len,
                                       ix->st.analyze_flags, on_token, v,
                                       &head_len);
    } else {
        const char *path, *body;
        size_t path_len, body_len;
        if ((rc = js_store_peek(ix->store, &v->cache, id, &path, &path_len,
                                &body, &body_len)))
            return rc == JS_ENOTFOUND ? JS_ECORRUPT : rc;
        js_analyze_options o = JS_ANALYZE_OPTIONS_INIT;
        o.flags = ix->st.analyze_flags;
        rc = js_text_analyze(body, body_len, &o, analyze_body, v);
    }
    if (rc && rc != VERIFY_DONE)
        return v->oom ? JS_ENOMEM : rc;
    for (uint32_t i = 0; i < n; i++) {
        pos[i] = v->t[i].pos;
        count[i] = v->t[i].count;
    }
    return 0;
}
