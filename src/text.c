/*
 * text.c — the text pipeline: UTF-8 bytes -> normalised terms.
 *
 * In:  untrusted bytes (a document body, a heading, a query).
 * Out: js_token callbacks — words, CJK unigrams and bigrams — each with a
 *      position and the byte range it came from in the input.
 *
 * One pass, no allocation: decode a code point (utf8.h), look up its
 * normalised form and class (chartab.h), and drive a three-state machine
 * (between runs, inside a CJK run, inside a word).  The rules are stated in
 * jiansuo.h; the comments here say how they are kept.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include <utf8proc.h>

#include "chartab.h"
#include "jiansuo.h"
#include "utf8.h"

enum { ST_NONE, ST_CJK, ST_WORD };

typedef struct seg {
    js_token_fn fn;
    void *ctx;
    uint32_t pos;  /* position the next term takes */
    int gap;       /* a separator was seen since the last term */
    int any;       /* some term was emitted (no gap before the first) */
    int state;
    /* CJK: the previous character (normalised, UTF-8) and its range. */
    char cjk[8];
    size_t cjk_len;
    size_t cjk_start;
    /* Word being built. */
    char word[JS_TERM_MAX_BYTES];
    size_t word_len;
    unsigned word_chars;
    int word_marks; /* the word holds combining marks */
    size_t word_start, word_end;
    uint32_t word_pos;
} seg;

static int emit(seg *s, const char *term, size_t len, js_token_kind kind,
                uint32_t pos, size_t start, size_t end)
{
    js_token t;
    t.term = term;
    t.term_len = len;
    t.kind = kind;
    t.position = pos;
    t.start = start;
    t.end = end;
    s->any = 1;
    return s->fn(s->ctx, &t);
}

/* A separator (or a bad byte) was seen: terms on either side are not
 * adjacent. */
static void take_gap(seg *s)
{
    if (s->any && !s->gap) {
        s->gap = 1;
        s->pos++;
    }
}

/* Per-code-point NFKC cannot compose a base letter with a following
 * combining mark ("cafe" + U+0301), so a word holding marks is composed
 * here, on the stack, to match its precomposed spelling ("café").  Rare
 * in Chinese text, hence out of the per-character loop. */
static void compose_word(seg *s)
{
    utf8proc_int32_t buf[JS_TERM_MAX_BYTES * 2];
    utf8proc_ssize_t n = utf8proc_decompose(
        (const utf8proc_uint8_t *)s->word, (utf8proc_ssize_t)s->word_len, buf,
        (utf8proc_ssize_t)(sizeof buf / sizeof *buf), UTF8PROC_STABLE);
    if (n < 0 || (size_t)n > sizeof buf / sizeof *buf)
        return; /* cannot happen for table output; keep the word as is */
    n = utf8proc_normalize_utf32(buf, n, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (n < 0)
        return;
    size_t len = 0;
    for (utf8proc_ssize_t i = 0; i < n; i++)
        len += js_utf8_encode((uint32_t)buf[i], s->word + len);
    s->word_len = len; /* composition never lengthens the word */
}

static int flush_word(seg *s)
{
    if (s->state != ST_WORD)
        return 0;
    if (s->word_marks)
        compose_word(s);
    s->state = ST_NONE;
    s->pos = s->word_pos + 1;
    return emit(s, s->word, s->word_len, JS_TOKEN_WORD, s->word_pos,
                s->word_start, s->word_end);
}

/* Feeds one normalised code point c of class cls, which came from input
 * bytes [start, end).  Returns non-zero if the callback asked to stop. */
static int feed(seg *s, uint32_t c, unsigned cls, size_t start, size_t end)
{
    int rc;
    switch (cls) {
    case JS_CC_CJK: {
        if (s->state == ST_WORD && (rc = flush_word(s)))
            return rc;
        char *cur = s->cjk + (s->state == ST_CJK ? s->cjk_len : 0);
        size_t n = js_utf8_encode(c, cur);
        s->gap = 0;
        if (s->state == ST_CJK) {
            /* The bigram starts at the previous character's position. */
            if ((rc = emit(s, s->cjk, s->cjk_len + n, JS_TOKEN_BIGRAM,
                           s->pos - 1, s->cjk_start, end)))
                return rc;
        }
        if ((rc = emit(s, cur, n, JS_TOKEN_UNIGRAM, s->pos, start, end)))
            return rc;
        if (cur != s->cjk)
            memmove(s->cjk, cur, n);
        s->cjk_len = n;
        s->cjk_start = start;
        s->pos++;
        s->state = ST_CJK;
        return 0;
    }
    case JS_CC_WORD:
    case JS_CC_MARK:
        if (s->state == ST_WORD) {
            if (s->word_chars == JS_WORD_MAX_CHARS && (rc = flush_word(s)))
                return rc;
        }
        if (s->state != ST_WORD) {
            if (cls == JS_CC_MARK)
                return 0; /* a mark with no word to attach to */
            s->state = ST_WORD;
            s->gap = 0;
            s->word_len = 0;
            s->word_chars = 0;
            s->word_marks = 0;
            s->word_start = start;
            s->word_pos = s->pos;
        }
        s->word_len += js_utf8_encode(c, s->word + s->word_len);
        s->word_chars++;
        s->word_marks |= cls == JS_CC_MARK;
        s->word_end = end;
        return 0;
    case JS_CC_IGNORE:
        return 0;
    default: /* JS_CC_SEP */
        if (s->state == ST_WORD && (rc = flush_word(s)))
            return rc;
        s->state = ST_NONE;
        take_gap(s);
        return 0;
    }
}

int js_text_analyze(const char *text, size_t len,
                    const js_analyze_options *opts, js_token_fn fn, void *ctx)
{
    if (!fn || (!text && len))
        return JS_EINVALID;
    unsigned flags = 0;
    seg s;
    memset(&s, 0, offsetof(seg, cjk)); /* the buffers need no clearing */
    if (opts) {
        if (opts->version != JS_ANALYZE_OPTIONS_VERSION)
            return JS_EINVALID;
        flags = opts->flags;
        s.pos = opts->first_position;
    }
    s.fn = fn;
    s.ctx = ctx;
    s.state = ST_NONE;
    const int fold = !(flags & JS_ANALYZE_NO_FOLD);
    const uint32_t *stage1 = fold ? js_chartab_stage1_fold
                                  : js_chartab_stage1_nofold;
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;
    int rc;

    while (i < len) {
        uint32_t cp;
        size_t n;
        if (p[i] < 0x80) {
            cp = p[i];
            n = 1;
        } else {
            n = js_utf8_decode(p + i, len - i, &cp);
            if (cp == JS_UTF8_INVALID) {
                /* A bad byte separates, exactly like punctuation. */
                if ((rc = feed(&s, 0, JS_CC_SEP, i, i + 1)))
                    return rc;
                i += 1;
                continue;
            }
        }
        uint32_t e = js_chartab_stage2[stage1[cp >> 8] + (cp & 0xFF)];
        unsigned cls = js_chartab_class(e);
        if (cls != JS_CC_EXPAND) {
            rc = feed(&s, js_chartab_apply(cp, e), cls, i, i + n);
        } else {
            const uint32_t *x = js_chartab_expand + js_chartab_expansion(e);
            rc = 0;
            for (uint32_t k = 1; k <= x[0] && !rc; k++)
                rc = feed(&s, x[k] & 0x1FFFFF, js_chartab_class(x[k]), i,
                          i + n);
        }
        if (rc)
            return rc;
        i += n;
    }
    return flush_word(&s);
}

const char *js_token_kind_name(js_token_kind kind)
{
    switch (kind) {
    case JS_TOKEN_WORD:
        return "word";
    case JS_TOKEN_UNIGRAM:
        return "unigram";
    case JS_TOKEN_BIGRAM:
        return "bigram";
    }
    return "unknown";
}
