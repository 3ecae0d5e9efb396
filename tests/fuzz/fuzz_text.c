/*
 * fuzz_text.c — libFuzzer target for the text pipeline (js_text_analyze).
 *
 * In:  arbitrary bytes, analysed as a document body would be, with and
 *      without Traditional -> Simplified folding.
 * Out: nothing; abort() when a token breaks the contract of jiansuo.h:
 *      a byte range outside the input or not made of whole, valid UTF-8
 *      characters, an empty or oversized term, positions that go back,
 *      a bigram whose unigram is missing, or folding that changes
 *      anything but the terms themselves.
 *
 * The UTF-8 check below is written out here on purpose instead of using
 * src/utf8.h: an oracle that shares the decoder would share its bugs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jiansuo.h"
#include "fuzz.h"

typedef struct tok {
    js_token_kind kind;
    uint32_t position;
    size_t start, end;
} tok;

typedef struct run {
    const uint8_t *in;
    size_t len;
    uint32_t first;
    tok *toks;
    size_t n, cap;
    size_t stop_after; /* 0: never stop */
} run;

static int on_token(void *ctx, const js_token *t)
{
    run *r = ctx;
    if (t->start >= t->end || t->end > r->len)
        FUZZ_FAIL("token range [%zu,%zu) outside input of %zu bytes",
                  t->start, t->end, r->len);
    if (!fuzz_utf8_valid(r->in + t->start, t->end - t->start, 0))
        FUZZ_FAIL("token range [%zu,%zu) not on UTF-8 boundaries", t->start,
                  t->end);
    if (t->term_len < 1 || t->term_len > JS_TERM_MAX_BYTES || !t->term)
        FUZZ_FAIL("term of %zu bytes", t->term_len);
    if (!fuzz_utf8_valid((const uint8_t *)t->term, t->term_len, 0))
        FUZZ_FAIL("term is not valid UTF-8");
    if (t->kind < JS_TOKEN_WORD || t->kind > JS_TOKEN_BIGRAM)
        FUZZ_FAIL("token kind %d", (int)t->kind);
    /* Each position is a character, a word or one gap; NFKC expands one
     * character to at most 18 (U+FDFA), so a text cannot use more than
     * 18 positions a byte. */
    if (t->position < r->first || t->position - r->first > 18 * (uint64_t)r->len)
        FUZZ_FAIL("position %u for %zu bytes", t->position, r->len);
    if (r->n) {
        const tok *p = &r->toks[r->n - 1];
        if (t->position < p->position || t->start < p->start)
            FUZZ_FAIL("token goes back: @%u[%zu after @%u[%zu", t->position,
                      t->start, p->position, p->start);
    }
    if (t->kind == JS_TOKEN_BIGRAM) {
        /* The unigram of its first character came just before.  Both
         * may have the same range: NFKC expands some characters to
         * several (U+3301 is four katakana), all from the same bytes. */
        const tok *p = r->n ? &r->toks[r->n - 1] : NULL;
        if (!p || p->kind != JS_TOKEN_UNIGRAM || p->position != t->position ||
            p->start != t->start || p->end > t->end)
            FUZZ_FAIL("bigram @%u without its unigram", t->position);
    }
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->toks = realloc(r->toks, r->cap * sizeof *r->toks);
        if (!r->toks)
            abort();
    }
    r->toks[r->n++] = (tok){t->kind, t->position, t->start, t->end};
    if (r->stop_after && r->n == r->stop_after)
        return 7;
    return 0;
}

static void analyze(run *r, unsigned flags)
{
    js_analyze_options o = JS_ANALYZE_OPTIONS_INIT;
    o.flags = flags;
    o.first_position = r->first;
    int rc = js_text_analyze((const char *)r->in, r->len, &o, on_token, r);
    int want = r->stop_after && r->n == r->stop_after ? 7 : 0;
    if (rc != want)
        FUZZ_FAIL("js_text_analyze returned %d, expected %d", rc, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The first byte picks the first position and an early stop, so that
     * the callback's return value is exercised too; the rest is text. */
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    const uint8_t *text = data + 1;
    size_t len = size - 1;
    /* Copy to a buffer of exactly len bytes so that ASan sees any read
     * past the end (libFuzzer's own buffer is exact too, but the replay
     * driver's need not be). */
    uint8_t *in = malloc(len ? len : 1);
    if (!in)
        abort();
    memcpy(in, text, len);
    static const uint32_t firsts[4] = {0, 1, 1000, 0x7fffffffu};

    run fold = {in, len, firsts[sel & 3], NULL, 0, 0, 0};
    run keep = {in, len, firsts[sel & 3], NULL, 0, 0, 0};
    analyze(&fold, 0);
    analyze(&keep, JS_ANALYZE_NO_FOLD);
    /* Folding maps one character to one character: only terms differ. */
    if (fold.n != keep.n)
        FUZZ_FAIL("%zu tokens folded, %zu not", fold.n, keep.n);
    for (size_t i = 0; i < fold.n; i++)
        if ((fold.toks[i].kind != keep.toks[i].kind ||
             fold.toks[i].position != keep.toks[i].position ||
             fold.toks[i].start != keep.toks[i].start ||
             fold.toks[i].end != keep.toks[i].end))
            FUZZ_FAIL("token %zu differs with folding", i);

    /* Stopping early returns the callback's value after exactly that
     * many tokens. */
    if (fold.n && (sel >> 2)) {
        run stop = {in, len, firsts[sel & 3], NULL, 0, 0,
                    1 + (size_t)(sel >> 2) % fold.n};
        analyze(&stop, 0);
        if (stop.n != stop.stop_after)
            FUZZ_FAIL("stopped after %zu tokens, asked %zu", stop.n,
                      stop.stop_after);
        free(stop.toks);
    }
    free(fold.toks);
    free(keep.toks);
    free(in);
    return 0;
}
