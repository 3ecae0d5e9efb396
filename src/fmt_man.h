/*
 * fmt_man.h — the part of the man page parser that its tests call
 * directly: escape interpretation on its own, without a document
 * (fmt_roff.c).  The parser's files share their internals through
 * fmt_roff.h.
 */
#ifndef JS_FMT_MAN_H
#define JS_FMT_MAN_H

#include <stddef.h>

/* Interprets the roff escapes in s[0..len) as the parser does in a text
 * line of a page that defines no strings of its own (only the predefined
 * \*R, \*(Tm, \*(lq and \*(rq exist).  Stores the resulting UTF-8 text,
 * NUL-terminated, in a new buffer *out that the caller frees, and its
 * length in *out_len.  Returns 0, or JS_ENOMEM with *out set to NULL. */
int js_man_unescape(const char *s, size_t len, char **out, size_t *out_len);

#endif /* JS_FMT_MAN_H */
