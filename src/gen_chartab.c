/*
 * gen_chartab.c — build-time generator of the character table (chartab.c).
 *
 * In:  the installed utf8proc (NFKC, case folding, general categories) and
 *      OpenCC's t2s.json conversion.
 * Out: C source on stdout defining the tables declared in chartab.h, and a
 *      summary of what each step changed on stderr.
 *
 * Run once per build by the Makefile; never linked into libjiansuo, so the
 * library itself pays nothing at run time for utf8proc or OpenCC: every
 * decision below is frozen into two array reads per code point.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opencc.h>
#include <utf8proc.h>

#include "chartab.h"
#include "utf8.h"

#define NCP 0x110000u
#define MAXSEQ 32

typedef struct {
    int n;
    uint32_t c[MAXSEQ];
} seq;

/* Ranges whose letters are segmented as CJK characters (unigrams and
 * bigrams) rather than words.  Checked on the normalised code point. */
static const uint32_t cjk_ranges[][2] = {
    {0x1100, 0x11FF},   /* Hangul Jamo */
    {0x2E80, 0x2FDF},   /* CJK radicals, Kangxi radicals */
    {0x3005, 0x3007},   /* 々 〆 〇 */
    {0x3021, 0x3029},   /* Hangzhou numerals */
    {0x3031, 0x3035},   /* kana repeat marks */
    {0x3038, 0x303C},   /* 〸〹〺〻〼 */
    {0x3040, 0x30FF},   /* Hiragana, Katakana */
    {0x3100, 0x312F},   /* Bopomofo */
    {0x3130, 0x318F},   /* Hangul compatibility Jamo */
    {0x31A0, 0x31BF},   /* Bopomofo extended */
    {0x31F0, 0x31FF},   /* Katakana phonetic extensions */
    {0x3400, 0x4DBF},   /* CJK extension A */
    {0x4E00, 0x9FFF},   /* CJK unified ideographs */
    {0xA960, 0xA97F},   /* Hangul Jamo extended A */
    {0xAC00, 0xD7AF},   /* Hangul syllables */
    {0xD7B0, 0xD7FF},   /* Hangul Jamo extended B */
    {0xF900, 0xFAFF},   /* CJK compatibility ideographs */
    {0x16FE0, 0x16FFF}, /* ideographic symbols (Tangut marks etc.) */
    {0x1AFF0, 0x1B16F}, /* Kana extended, supplement */
    {0x20000, 0x3FFFF}, /* SIP and TIP: extensions B..H, compatibility */
};

/* Ranges of Han ideographs offered to OpenCC. */
static const uint32_t han_ranges[][2] = {
    {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xF900, 0xFAFF},
    {0x20000, 0x3FFFF},
};

static int in_ranges(uint32_t c, const uint32_t (*r)[2], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (c >= r[i][0] && c <= r[i][1])
            return 1;
    return 0;
}

static int is_scalar(uint32_t c)
{
    return c < NCP && !(c >= 0xD800 && c <= 0xDFFF);
}

static unsigned classify(uint32_t c)
{
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_NL:
        return in_ranges(c, cjk_ranges, sizeof cjk_ranges / sizeof *cjk_ranges)
                   ? JS_CC_CJK
                   : JS_CC_WORD;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NO:
        return JS_CC_WORD;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return JS_CC_MARK;
    default:
        return JS_CC_SEP;
    }
}

/* NFKC + case fold + drop default ignorables, on a whole sequence. */
static void norm_once(const seq *in, seq *out)
{
    char buf[MAXSEQ * 4 + 1];
    size_t len = 0;
    for (int i = 0; i < in->n; i++)
        len += js_utf8_encode(in->c[i], buf + len);
    utf8proc_uint8_t *res = NULL;
    utf8proc_ssize_t r = utf8proc_map(
        (const utf8proc_uint8_t *)buf, (utf8proc_ssize_t)len, &res,
        UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
            UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
    if (r < 0) { /* unassigned or otherwise unmappable: keep as is */
        *out = *in;
        return;
    }
    out->n = 0;
    size_t i = 0;
    while (i < (size_t)r) {
        uint32_t c;
        i += js_utf8_decode(res + i, (size_t)r - i, &c);
        if (out->n == MAXSEQ) {
            fprintf(stderr, "gen_chartab: expansion longer than %d\n", MAXSEQ);
            exit(1);
        }
        out->c[out->n++] = c;
    }
    free(res);
}

static uint32_t *t2s; /* t2s[c]: OpenCC's one-character simplification */

static void load_t2s(void)
{
    t2s = calloc(NCP, sizeof *t2s);
    if (!t2s) {
        perror("gen_chartab");
        exit(1);
    }
    opencc_t od = opencc_open(OPENCC_DEFAULT_CONFIG_TRAD_TO_SIMP);
    if (od == (opencc_t)-1) {
        fprintf(stderr, "gen_chartab: cannot open OpenCC %s: %s\n",
                OPENCC_DEFAULT_CONFIG_TRAD_TO_SIMP, opencc_error());
        exit(1);
    }
    for (size_t r = 0; r < sizeof han_ranges / sizeof *han_ranges; r++) {
        for (uint32_t c = han_ranges[r][0]; c <= han_ranges[r][1]; c++) {
            if (utf8proc_category((utf8proc_int32_t)c) !=
                UTF8PROC_CATEGORY_LO)
                continue;
            char in[5];
            size_t n = js_utf8_encode(c, in);
            in[n] = 0;
            char *o = opencc_convert_utf8(od, in, n);
            if (!o)
                continue;
            size_t olen = strlen(o);
            uint32_t oc;
            size_t used = olen ? js_utf8_decode((unsigned char *)o, olen, &oc)
                               : 0;
            /* One character to one character only: anything else would
             * move byte offsets, which the whole design relies on. */
            if (used == olen && olen > 0 && oc != JS_UTF8_INVALID && oc != c)
                t2s[c] = oc;
            opencc_convert_utf8_free(o);
        }
    }
    opencc_close(od);
}

static uint32_t t2s_chain(uint32_t c)
{
    for (int i = 0; i < 8 && t2s[c]; i++)
        c = t2s[c];
    return c;
}

static int seq_eq(const seq *a, const seq *b)
{
    return a->n == b->n && !memcmp(a->c, b->c, (size_t)a->n * sizeof *a->c);
}

/* The full per-code-point transformation, iterated to a fixed point so
 * that analysing already-normalised text changes nothing. */
static void transform(uint32_t cp, int fold, seq *out)
{
    seq cur = {1, {cp}}, next;
    for (int iter = 0; iter < 8; iter++) {
        norm_once(&cur, &next);
        if (fold)
            for (int i = 0; i < next.n; i++)
                next.c[i] = t2s_chain(next.c[i]);
        if (seq_eq(&cur, &next))
            break;
        cur = next;
    }
    *out = cur;
}

/* Growable arrays for the output. */
static uint32_t *stage2;
static size_t stage2_len, stage2_cap;
static uint32_t *expand;
static size_t expand_len, expand_cap;

static void push(uint32_t **a, size_t *len, size_t *cap, uint32_t v)
{
    if (*len == *cap) {
        *cap = *cap ? *cap * 2 : 4096;
        *a = realloc(*a, *cap * sizeof **a);
        if (!*a) {
            perror("gen_chartab");
            exit(1);
        }
    }
    (*a)[(*len)++] = v;
}

static uint32_t add_expansion(const seq *s)
{
    /* Share identical expansions (the pool is a few thousand entries). */
    for (size_t i = 0; i < expand_len; i += expand[i] + 1) {
        if (expand[i] != (uint32_t)s->n)
            continue;
        int same = 1;
        for (int k = 0; k < s->n && same; k++)
            same = (expand[i + 1 + k] & 0x1FFFFF) == s->c[k];
        if (same)
            return (uint32_t)i;
    }
    uint32_t at = (uint32_t)expand_len;
    push(&expand, &expand_len, &expand_cap, (uint32_t)s->n);
    for (int k = 0; k < s->n; k++)
        push(&expand, &expand_len, &expand_cap,
             s->c[k] | (classify(s->c[k]) << JS_CT_CLASS_SHIFT));
    return at;
}

static uint32_t make_entry(uint32_t cp, const seq *s)
{
    if (s->n == 0)
        return (uint32_t)JS_CC_IGNORE << JS_CT_CLASS_SHIFT;
    if (s->n > 1)
        return ((uint32_t)JS_CC_EXPAND << JS_CT_CLASS_SHIFT) |
               add_expansion(s);
    int32_t delta = (int32_t)s->c[0] - (int32_t)cp;
    return (classify(s->c[0]) << JS_CT_CLASS_SHIFT) |
           ((uint32_t)delta & JS_CT_DELTA_MASK);
}

/* Block sharing: open-addressing hash of block contents -> offset. */
#define HBITS 14
static uint32_t htab[1u << HBITS];
static unsigned char hused[1u << HBITS];

static uint32_t add_block(const uint32_t *blk)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 256; i++)
        h = (h ^ blk[i]) * 16777619u;
    for (uint32_t k = h & ((1u << HBITS) - 1);; k = (k + 1) & ((1u << HBITS) - 1)) {
        if (!hused[k]) {
            hused[k] = 1;
            htab[k] = (uint32_t)stage2_len;
            for (int i = 0; i < 256; i++)
                push(&stage2, &stage2_len, &stage2_cap, blk[i]);
            return htab[k];
        }
        if (!memcmp(stage2 + htab[k], blk, 256 * sizeof *blk))
            return htab[k];
    }
}

static void emit_array(const char *type, const char *name, const uint32_t *a,
                       size_t n)
{
    printf("%s %s[%zu] = {", type, name, n);
    for (size_t i = 0; i < n; i++)
        printf("%s0x%x,", i % 8 ? "" : "\n    ", a[i]);
    printf("\n};\n\n");
}

int main(void)
{
    static uint32_t stage1[2][0x1100];
    uint32_t blk[256];
    unsigned long t2s_count = 0, norm_count = 0, sep = 0, word = 0, cjk = 0;

    load_t2s();
    for (uint32_t c = 0; c < NCP; c++)
        if (t2s[c] && t2s_chain(c) != c)
            t2s_count++;

    for (int fold = 0; fold < 2; fold++) {
        for (uint32_t b = 0; b < 0x1100; b++) {
            for (uint32_t i = 0; i < 256; i++) {
                uint32_t cp = (b << 8) | i;
                seq s;
                if (!is_scalar(cp)) {
                    blk[i] = (uint32_t)JS_CC_SEP << JS_CT_CLASS_SHIFT;
                    continue;
                }
                transform(cp, fold, &s);
                /* Every output code point must map to itself: the table
                 * is idempotent, so documents and queries that went
                 * through it once agree with ones that went through twice. */
                for (int k = 0; k < s.n; k++) {
                    seq again;
                    transform(s.c[k], fold, &again);
                    if (again.n != 1 || again.c[0] != s.c[k]) {
                        fprintf(stderr,
                                "gen_chartab: U+%04X -> U+%04X is not a "
                                "fixed point\n",
                                cp, s.c[k]);
                        return 1;
                    }
                }
                if (!fold) {
                    if (!(s.n == 1 && s.c[0] == cp))
                        norm_count++;
                    unsigned cls = s.n == 1 ? classify(s.c[0]) : JS_CC_EXPAND;
                    sep += cls == JS_CC_SEP;
                    word += cls == JS_CC_WORD;
                    cjk += cls == JS_CC_CJK;
                }
                blk[i] = make_entry(cp, &s);
            }
            stage1[fold][b] = add_block(blk);
        }
    }

    printf("/* Generated by gen_chartab from %s, OpenCC %s (t2s.json).\n"
           " * Do not edit; see chartab.h.  %lu code points folded T->S,\n"
           " * %lu changed by NFKC/case folding. */\n",
           utf8proc_version(), JS_OPENCC_VERSION, t2s_count, norm_count);
    printf("#include \"chartab.h\"\n\n");
    emit_array("const uint32_t", "js_chartab_stage1_nofold", stage1[0], 0x1100);
    emit_array("const uint32_t", "js_chartab_stage1_fold", stage1[1], 0x1100);
    emit_array("const uint32_t", "js_chartab_stage2", stage2, stage2_len);
    emit_array("const uint32_t", "js_chartab_expand", expand,
               expand_len ? expand_len : 1);
    printf("const uint32_t js_chartab_t2s_count = %lu;\n", t2s_count);
    printf("const uint32_t js_chartab_norm_count = %lu;\n", norm_count);
    printf("const char js_chartab_sources[] = \"utf8proc %s (Unicode %s), "
           "OpenCC %s t2s.json\";\n",
           utf8proc_version(), utf8proc_unicode_version(), JS_OPENCC_VERSION);

    fprintf(stderr,
            "gen_chartab: utf8proc %s (Unicode %s), OpenCC %s: %lu code "
            "points folded T->S, %lu changed by NFKC/case folding; classes: "
            "%lu CJK, %lu word, %lu separator; %zu blocks (%zu KiB), %zu "
            "expansion words\n",
            utf8proc_version(), utf8proc_unicode_version(), JS_OPENCC_VERSION,
            t2s_count, norm_count, cjk, word, sep, stage2_len / 256,
            stage2_len * 4 / 1024, expand_len);
    free(t2s);
    free(stage2);
    free(expand);
    return 0;
}
