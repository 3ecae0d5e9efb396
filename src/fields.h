/*
 * fields.h — a section's two fields analysed into tokens: the one
 * definition, shared by both index builders (index/builder.c,
 * src/xapian/xapian_build.c), of what the heading field holds and how its
 * positions run (fields.c).
 *
 * In:  a js_section (ingest.h) and the text pipeline's flags.
 * Out: the tokens of the heading field, then of the body, to a callback
 *      that is told which field each belongs to; and the two fields'
 *      lengths in positions.  Also how a builder drives ingest
 *      (js_fields_feed), the other half the two builders share.
 *
 * The heading field is the document's title, then each heading of the
 * section's path except one equal to the title (so a Markdown file whose
 * first heading is its title does not count it twice).  Each of those
 * texts continues two positions after the last one of the text before,
 * so that no phrase matches across two headings.  The body's positions
 * start at 0.  A field's length is its last position + 1 (0 when it has
 * no token): what BM25 normalises by.
 */
#ifndef JS_FIELDS_H
#define JS_FIELDS_H

#include <stdint.h>
#include <time.h>

#include "ingest.h"
#include "jiansuo.h"

/* Called for each token; heading is 1 for the heading field, 0 for the
 * body.  A non-zero return stops the analysis and is passed back. */
typedef int (*js_field_token_fn)(void *ctx, const js_token *t, int heading);

/* Analyses s's heading field, then its body, with the pipeline `flags`
 * (js_analyze_options.flags), handing every token to fn(ctx, ...), and
 * sets *head_len and *body_len.  Returns 0, or fn's non-zero value or the
 * pipeline's error, with *field naming where it happened ("heading" or
 * "body"; a static string). */
int js_fields_analyze(const js_section *s, unsigned flags,
                      js_field_token_fn fn, void *ctx, uint32_t *head_len,
                      uint32_t *body_len, const char **field);

/* The heading field of js_fields_analyze again, from what an index
 * keeps: the document's title and the section's heading path with its
 * headings joined by U+001F (path_len bytes; no heading holds U+001F,
 * which sink.c never lets through).  Tokens go to fn with heading 1,
 * at the positions the builder saw; sets *head_len.  Returns 0, or fn's
 * non-zero value or the pipeline's error. */
int js_fields_analyze_heading(const char *title, const char *path,
                              size_t path_len, unsigned flags,
                              js_field_token_fn fn, void *ctx,
                              uint32_t *head_len);

/* A document's identity for a live index (jiansuo.h, "Keeping an index
 * current"): a file's path made canonical (realpath: absolute, no
 * symbolic links, no "." or ".."), or the path as given when it cannot
 * be (a file gone, a name from memory).  Returns a malloc'ed string or
 * NULL when out of memory. */
char *js_fields_identity(const char *path);

/* What the identity of a file now gone was: its directory's canonical
 * path and its name (so that a relative or indirect path still names
 * it).  Returns a malloc'ed string, or NULL (no such directory, no name,
 * or out of memory). */
char *js_fields_identity_gone(const char *path);

/* Feeds a builder from ingest: the files under path (path not NULL) or
 * one document from memory (name, data, len), each section to fn(ctx,
 * ...).  *sticky is the builder's sticky error: non-zero, nothing runs
 * and it is returned; a failure inside fn (which sets *sticky) or in
 * ingest itself is kept there, as the build cannot go on, except
 * JS_ENOTFOUND and JS_EIO, a path the user must fix, which leave the
 * build usable.  On failure err gets ingest's message unless fn failed.
 * Returns 0 or the negative JS_E* code. */
int js_fields_feed(js_ingest *ing, const char *path, const char *name,
                   const void *data, size_t len, js_section_fn fn, void *ctx,
                   int *sticky, char *err, size_t errlen);

/* A build's clock and its progress reports (js_build_options.progress),
 * the same for both builders: at most four reports a second, but for a
 * forced one (a new phase). */
typedef struct js_fields_clock {
    struct timespec t0;
    double last; /* seconds since t0 of the last report */
} js_fields_clock;

/* Starts the clock now. */
void js_fields_clock_start(js_fields_clock *c);

/* Seconds since the clock started. */
double js_fields_elapsed(const js_fields_clock *c);

/* Calls o->progress (when set) with ingest's counts so far, `sections`
 * and `phase` (js_build_progress), unless the last report was under a
 * quarter of a second ago and force is 0. */
void js_fields_progress(js_fields_clock *c, const js_build_options *o,
                        const js_ingest *ing, uint64_t sections, int phase,
                        int force);

/* Which terms keep their positions in the native index, as a STATS
 * "positions for" bit set (index/FORMAT.md): words 1, bigrams 4, not
 * unigrams 2.  Positions prove adjacency; a CJK run of two or more
 * characters is proved by its bigrams' positions, so a unigram's are used
 * only by a phrase whose CJK run is one character long beside another
 * unit ("5月", "第3章"), which the search verifies against the stored
 * text instead (src/verify.c).  Measured on chinese-poetry: unigram
 * positions were 20.3 M of 37.1 M positions, 25.8 MB of the postings. */
#define JS_FIELDS_POSITIONS_FOR 5u

/* The kind of a term of the index (an optional 0x01 heading prefix, then
 * the text pipeline's bytes): JS_TOKEN_UNIGRAM for one CJK code point,
 * JS_TOKEN_BIGRAM for two, else JS_TOKEN_WORD. */
int js_fields_term_kind(const char *term, size_t len);

/* Whether an index whose STATS "positions for" is `positions_for` stores
 * the positions of term[0..len): the bit of its kind. */
int js_fields_term_has_positions(uint32_t positions_for, const char *term,
                                 size_t len);

#endif /* JS_FIELDS_H */
