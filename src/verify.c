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

void js_verify_init(js_verify *v, const js_index *ix)
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
        free(v->pos[i]);
    free(v->term);
    free(v->len);
    free(v->pos);
    free(v->count);
    free(v->cap);
    v->term = NULL;
    v->len = NULL;
    v->pos = NULL;
    v->count = v->cap = NULL;
    v->slots = 0;
}

/* Makes v's arrays hold n terms.  Returns 0 or JS_ENOMEM (v unchanged
 * but for arrays already grown, which stay valid). */
static int grow_slots(js_verify *v, uint32_t n)
{
    if (n <= v->slots)
        return 0;
    uint32_t want = n < 8 ? 8 : n;
    const char **t = realloc(v->term, want * sizeof *t);
    if (!t)
        return JS_ENOMEM;
    v->term = t;
    size_t *l = realloc(v->len, want * sizeof *l);
    if (!l)
        return JS_ENOMEM;
    v->len = l;
    uint32_t *c = realloc(v->count, want * sizeof *c);
    if (!c)
        return JS_ENOMEM;
    v->count = c;
    uint32_t *cap = realloc(v->cap, want * sizeof *cap);
    if (!cap)
        return JS_ENOMEM;
    v->cap = cap;
    uint32_t **p = realloc(v->pos, want * sizeof *p);
    if (!p)
        return JS_ENOMEM;
    v->pos = p;
    for (uint32_t i = v->slots; i < want; i++) {
        v->pos[i] = NULL;
        v->cap[i] = 0;
    }
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
        /* a byte loop: terms are a few bytes, and most differ at once */
        const char *a = t->term, *b = v->term[i];
        size_t k = 0, n = t->term_len;
        if (n != v->len[i])
            continue;
        while (k < n && a[k] == b[k])
            k++;
        if (k < n)
            continue;
        if (v->count[i] == v->cap[i]) {
            uint32_t cap = v->cap[i] ? v->cap[i] * 2 : 16;
            uint32_t *p = cap > v->cap[i]
                              ? realloc(v->pos[i], (size_t)cap * sizeof *p)
                              : NULL;
            if (!p) {
                v->oom = 1;
                return JS_ENOMEM;
            }
            v->pos[i] = p;
            v->cap[i] = cap;
        }
        /* positions come in increasing order; a phrase may seek one
         * term twice ("山x山"), each copy gets them all */
        v->pos[i][v->count[i]++] = t->position;
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
    const js_index *ix = v->ix;
    v->n = n;
    v->limit = limit;
    v->oom = 0;
    for (uint32_t i = 0; i < n; i++) {
        v->term[i] = terms[i];
        v->len[i] = lens[i];
        v->count[i] = 0;
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
        if ((rc = js_index_section(ix, id, &s)) ||
            (rc = js_index_document(ix, s.document, &d)) ||
            (rc = js_index_headings(ix, id, &path, &path_len)))
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
        pos[i] = v->pos[i];
        count[i] = v->count[i];
    }
    return 0;
}
