/*
 * sink.h — creating and driving the section sink (sink.c); what
 * format parsers call on it is in ingest.h.
 *
 * In:  one file at a time: its path, format and encoding, then the
 *      parser's titles, headings and text.
 * Out: js_section records to the user's callback; warnings to the user's
 *      warning callback; counts into a js_ingest_stats.
 */
#ifndef JS_SECTION_H
#define JS_SECTION_H

#include "ingest.h"

/* Creates a sink that reports warnings to warn(warn_ctx, ...) (may be
 * NULL) and counts into *stats (borrowed; must outlive the sink).
 * Returns the sink or NULL when out of memory; free with js_sink_free. */
js_sink *js_sink_new(js_warning_fn warn, void *warn_ctx,
                     js_ingest_stats *stats);

/* Frees the sink; NULL is fine. */
void js_sink_free(js_sink *k);

/* Starts a file: `path` is copied; sections go to fn(ctx, ...).  The
 * format and encoding may be set later with js_sink_set_kind (they are
 * unknown until the source has sniffed the file).  Returns 0 or
 * JS_ENOMEM. */
int js_sink_begin_file(js_sink *k, const char *path, js_section_fn fn,
                       void *ctx);

/* Names the format and encoding of the current file (static strings). */
void js_sink_set_kind(js_sink *k, const char *format, const char *encoding);

/* Ends the file whose decoded text was `end` bytes long: emits the
 * pending section.  Returns 0, JS_ENOMEM, or the callback's non-zero
 * value. */
int js_sink_end_file(js_sink *k, uint64_t end);

/* Returns the sticky stop code: the section callback's non-zero value or
 * JS_ENOMEM once either happened, else 0. */
int js_sink_status(const js_sink *k);

#endif /* JS_SECTION_H */
