/*
 * chartab.h — per-code-point character table: one lookup gives a code
 * point's normalised form and its class for segmentation.
 *
 * In:  a Unicode scalar value (0..U+10FFFF) and whether to fold
 *      Traditional -> Simplified.
 * Out: a js_chartab entry: the class, and either the normalised code point
 *      (as a delta from the input) or an index into the expansion list
 *      when one character normalises to several ("㈱" -> "(株)").
 *
 * The table is not written by hand.  src/gen_chartab.c builds it at
 * compile time from the installed libraries and writes chartab.c:
 *
 *  - normalisation is utf8proc's NFKC with case folding and removal of
 *    default-ignorable code points (STABLE|COMPAT|COMPOSE|CASEFOLD|IGNORE),
 *    applied to each code point alone and repeated to a fixed point;
 *  - folding is OpenCC's "t2s.json" conversion applied to every Han code
 *    point alone, kept only where it yields exactly one different code
 *    point, chained to a fixed point, then normalised again;
 *  - classes come from utf8proc's general category plus the CJK block
 *    ranges listed in gen_chartab.c.
 *
 * The generator prints how many code points each step changes; the
 * figures for Debian 12 (utf8proc 2.8.0, OpenCC 1.1.6) are in the README.
 * Storage is a two-stage table (256-entry blocks shared between identical
 * ranges, and between the folding and non-folding variants), so every
 * lookup is two array reads.
 */
#ifndef JS_CHARTAB_H
#define JS_CHARTAB_H

#include <stdint.h>

/* Classes, as stored in bits 24..26 of an entry. */
enum js_char_class {
    JS_CC_SEP = 0,    /* punctuation, symbol, space, control, unassigned */
    JS_CC_WORD = 1,   /* letter or digit outside the CJK ranges */
    JS_CC_CJK = 2,    /* Han, Kana, Hangul, Bopomofo letter */
    JS_CC_MARK = 3,   /* combining mark: part of a word, else ignored */
    JS_CC_IGNORE = 4, /* normalises to nothing (default ignorable) */
    JS_CC_EXPAND = 5  /* normalises to several code points */
};

#define JS_CT_CLASS_SHIFT 24
#define JS_CT_DELTA_MASK 0x3FFFFFu /* 22-bit two's complement delta */

/* Stage 1: code point >> 8 -> first entry of its block in stage 2. */
extern const uint32_t js_chartab_stage1_fold[0x1100];
extern const uint32_t js_chartab_stage1_nofold[0x1100];
extern const uint32_t js_chartab_stage2[];
/* Expansions: at index i, a count n, then n entries whose low 21 bits are
 * a code point and whose class bits are that code point's class. */
extern const uint32_t js_chartab_expand[];

/* Figures recorded by the generator, for documentation and `--version`. */
extern const uint32_t js_chartab_t2s_count;   /* code points folded */
extern const uint32_t js_chartab_norm_count;  /* code points NFKC/case-changed */
extern const char js_chartab_sources[];       /* library versions used */

/* Returns the entry for cp (cp <= 0x10FFFF). */
static inline uint32_t js_chartab_get(uint32_t cp, int fold)
{
    const uint32_t *s1 = fold ? js_chartab_stage1_fold
                              : js_chartab_stage1_nofold;
    return js_chartab_stage2[s1[cp >> 8] + (cp & 0xFF)];
}

static inline unsigned js_chartab_class(uint32_t entry)
{
    return (entry >> JS_CT_CLASS_SHIFT) & 7u;
}

/* For an entry whose class is not JS_CC_EXPAND: the normalised code point
 * of cp. */
static inline uint32_t js_chartab_apply(uint32_t cp, uint32_t entry)
{
    uint32_t d = entry & JS_CT_DELTA_MASK;
    int32_t delta = (d & 0x200000u) ? (int32_t)d - 0x400000 : (int32_t)d;
    return (uint32_t)((int32_t)cp + delta);
}

/* For a JS_CC_EXPAND entry: the index of its count in js_chartab_expand. */
static inline uint32_t js_chartab_expansion(uint32_t entry)
{
    return entry & JS_CT_DELTA_MASK;
}

#endif /* JS_CHARTAB_H */
