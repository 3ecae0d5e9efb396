/*
 * source.h — opening and closing sources (source.c); what format parsers
 * call on an open source is in ingest.h.
 *
 * In:  a file descriptor or memory, an optional forced encoding.
 * Out: a js_source ready for js_source_line / js_source_chunk.
 */
#ifndef JS_SOURCE_H
#define JS_SOURCE_H

#include "ingest.h"

/* How much decoded text js_source_peek shows: what format sniffing sees. */
#define JS_SOURCE_PEEK 4096

/* Opens a source on `fd` (read from its current position; not closed by
 * the source) or, when fd < 0, on data[0..len) (borrowed until close).
 * `name` is copied and used in messages.  `encoding` forces an encoding
 * (a label such as "gbk" or any iconv name); NULL detects it.  Problems
 * are reported through js_sink_warn on `sink`.  Returns 0 and the source
 * in *out (free with js_source_close), or JS_EENCODING (undetectable
 * encoding), JS_EINVALID (binary data, unknown encoding), JS_EIO or
 * JS_ENOMEM — all but JS_ENOMEM already reported as a warning. */
int js_source_open(js_source **out, const char *name, int fd,
                   const void *data, size_t len, const char *encoding,
                   js_sink *sink);

/* Frees the source; NULL is fine. */
void js_source_close(js_source *src);

/* Points *head at the first bytes of the decoded text not yet read (up
 * to JS_SOURCE_PEEK, cut on a character boundary) without consuming them.
 * Returns 0 or a negative JS_E* code. */
int js_source_peek(js_source *src, const char **head, size_t *len);

/* Returns the encoding in use ("UTF-8", "GB18030", "BIG5", ...), a
 * static string. */
const char *js_source_encoding(const js_source *src);

/* Returns the bytes read so far from the file or memory (before gunzip). */
uint64_t js_source_disk_bytes(const js_source *src);

/* Maps a charset label ("gbk", "Big5", "utf-8", ...) of n bytes to the
 * iconv name jiansuo uses, or returns NULL if it is not one we know. */
const char *js_source_charset(const char *label, size_t n);

#endif /* JS_SOURCE_H */
