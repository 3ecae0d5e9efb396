/*
 * ingest.h — the internal interface between ingest's three parts:
 *
 *   source  (source.c)   file or memory -> gunzip -> detect encoding ->
 *                        iconv -> a stream of UTF-8 lines or chunks
 *   format  (fmt_*.c)    one file per format: reads the source and tells
 *                        the sink about titles, headings and body text
 *   sink    (sink.c)     keeps the heading path and the body buffer and
 *                        hands finished js_section records to the caller
 *
 * ingest.c walks paths, picks the format and wires the three together.
 *
 * Conventions for every function here: return 0 on success, a negative
 * JS_E* code on failure, or — from sink calls — the user's callback's
 * non-zero value, which a format parser must return at once, unchanged.
 * Everything a format parser gets from the source is valid until its next
 * call on the source.
 */
#ifndef JS_INGEST_H
#define JS_INGEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "jiansuo.h"

typedef struct js_source js_source;
typedef struct js_sink js_sink;

/* ------------------------------------------------------------------
 * Source: one document's text, decoded to UTF-8, read sequentially.
 * ---------------------------------------------------------------- */

/* Reads the next line without its terminator ("\n", "\r\n" or "\r").  On
 * success returns 1 and points *line / *len at it (NUL-terminated, valid
 * until the next read); returns 0 at the end of the text, or a negative
 * JS_E* code when reading failed (already reported as a warning).  A line
 * longer than JS_LINE_MAX_BYTES comes back in pieces of at most that size,
 * cut on a character boundary, and is reported once.  Invalid UTF-8 left
 * after decoding is passed through (the text pipeline treats it as
 * separators). */
int js_source_line(js_source *src, const char **line, size_t *len);

/* Reads the next chunk of text (at most 64 KiB, ending on a character
 * boundary, any line structure).  Same return convention as
 * js_source_line.  A format uses either lines or chunks, not both. */
int js_source_chunk(js_source *src, const char **data, size_t *len);

/* Returns the 1-based number of the line last returned by
 * js_source_line (for chunks: the line the chunk starts on). */
uint64_t js_source_lineno(const js_source *src);

/* Returns the byte offset, in the decoded UTF-8 text, of the first byte
 * of the line or chunk last returned. */
uint64_t js_source_offset(const js_source *src);

/* Returns the offset just past the line or chunk last returned (its
 * terminator included): where the next one starts. */
uint64_t js_source_end_offset(const js_source *src);

/* Returns the path (or in-memory name) of the document, for messages. */
const char *js_source_name(const js_source *src);

/* ------------------------------------------------------------------
 * Sink: builds sections.  A format parser calls, in document order:
 *   js_sink_title     the document's title, when the format has one
 *   js_sink_heading   each heading: ends the current section
 *   js_sink_text      body text of the current section
 *   js_sink_break     end of a paragraph or block (a line break)
 *   js_sink_document  (JSON Lines) each record starts a new document
 * ---------------------------------------------------------------- */

/* Sets the title of the current document (default: the file name without
 * directories and extensions).  Leading and trailing white space is
 * trimmed; an empty title is ignored.  Later calls replace earlier ones
 * until the first section of the document has been emitted. */
int js_sink_title(js_sink *k, const char *text, size_t len);

/* Starts a section headed `text` at `level` (1 = outermost; deeper levels
 * nest under the nearest shallower heading; levels are clamped to 1..9).
 * `offset` is where the heading starts in the decoded text: the end of
 * the previous section and the start of this one.  The previous section
 * is emitted first — the text before the first heading too, if it has any
 * body.  The heading is trimmed and inner runs of white space become one
 * space. */
int js_sink_heading(js_sink *k, int level, const char *text, size_t len,
                    uint64_t offset);

/* Appends body text to the current section, as is.  When the body reaches
 * JS_SECTION_MAX_BYTES the section is emitted and continued in a new one
 * with the same heading (reported once per document). */
int js_sink_text(js_sink *k, const char *text, size_t len);

/* Ends a line or paragraph: the next body text starts on a new line.
 * Consecutive breaks collapse into one; a break at the start of a body
 * does nothing. */
int js_sink_break(js_sink *k);

/* (JSON Lines) Ends the current document and starts a new one within the
 * same file: `id` (may be NULL) and `title` (may be NULL: then the id,
 * else the file name); `metadata` is a JSON object text or NULL.  Its
 * first section starts at `offset`.  Strings are copied. */
int js_sink_document(js_sink *k, const char *id, const char *title,
                     const char *metadata, uint64_t offset);

/* Reports a problem in the current file at `line` (0: unknown) and byte
 * `offset` (UINT64_MAX: unknown), printf-style.  Counted in the stats. */
void js_sink_warn(js_sink *k, uint64_t line, uint64_t offset,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Counts a record or part that had to be dropped (after warning about it). */
void js_sink_skipped(js_sink *k);

/* ------------------------------------------------------------------
 * A hook before each file (the builders' identities, a live index's
 * update)
 * ---------------------------------------------------------------- */

/* Called before a file or in-memory document is read: name as given;
 * fd open on the file (its offset must be left at 0; use pread) and st
 * its fstat, or fd -1, st NULL and data[0..len) for a document from
 * memory.  Returns 0 to read it, 1 to skip it silently (not counted as
 * a file), or a negative JS_E* code that stops ingest (as a section
 * callback's value does). */
struct stat;
typedef int (*js_ingest_file_fn)(void *ctx, const char *name, int fd,
                                 const struct stat *st, const void *data,
                                 size_t len);

/* Sets (fn NULL: removes) ing's file hook. */
void js_ingest_set_file_hook(js_ingest *ing, js_ingest_file_fn fn, void *ctx);

/* Walks path as js_ingest_path does (a directory's entries in byte order,
 * hidden ones only with include_hidden, symbolic-link loops and too deep
 * nesting warned about and skipped) but hands each regular file's path
 * to file(ctx, path) instead of reading it: for a caller that decides
 * per file (the Xapian writer's update).  Returns 0, JS_ENOMEM, or
 * file's non-zero value, which stops the walk. */
typedef int (*js_ingest_walk_fn)(void *ctx, const char *path);
int js_ingest_walk(js_ingest *ing, const char *path, js_ingest_walk_fn file,
                   void *ctx);

/* ------------------------------------------------------------------
 * Formats
 * ---------------------------------------------------------------- */

typedef struct js_format {
    const char *name;              /* "text", "markdown", ... */
    const char *const *extensions; /* lower case, no dot; NULL-terminated */
    /* Returns how sure it is, 0..100, that `head` (the first bytes of the
     * decoded text, up to 4 KiB) is in this format. */
    int (*sniff)(const char *head, size_t len);
    /* Reads the whole document from src into k.  Returns 0, a negative
     * JS_E* code for a failure that lost the rest of the document (after
     * warning about it), or a sink call's non-zero value. */
    int (*parse)(js_source *src, js_sink *k);
} js_format;

extern const js_format js_format_text;     /* fmt_text.c */
extern const js_format js_format_markdown; /* fmt_markdown.c */
extern const js_format js_format_html;     /* fmt_html.c */
extern const js_format js_format_man;      /* fmt_man.c */
extern const js_format js_format_jsonl;    /* fmt_jsonl.c */

/* Returns the format named `name`, or NULL. */
const js_format *js_format_by_name(const char *name);

/* Sets up libxml2's global state, once per process however often and from
 * however many threads it is called (fmt_html.c).  libxml2 wants that
 * done before threads use it, so js_ingest_open calls it: a program that
 * opens its ingest handles before starting threads is covered. */
void js_format_html_init(void);

#endif /* JS_INGEST_H */
