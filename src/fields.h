/*
 * fields.h — a section's two fields analysed into tokens: the one
 * definition, shared by both index builders (index/builder.c,
 * src/xapian_build.c), of what the heading field holds and how its
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

#endif /* JS_FIELDS_H */
