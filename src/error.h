/*
 * error.h — the one way a handle keeps the message of its last failure
 * (error.c).
 *
 * In:  a JS_E* code and a printf-style message.
 * Out: the message in the handle's buffer (cut to fit, always
 *      NUL-terminated) and the code, returned so that a failing path
 *      reads `return js_error_set(h->err, sizeof h->err, JS_EIO, ...)`.
 *
 * Every handle of jiansuo.h keeps its message in a char array of its
 * own (jiansuo.h's rule: until the next call on the handle), so this
 * works on the array, not on a struct of its own.
 */
#ifndef JS_ERROR_H
#define JS_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* Writes prefix (may be NULL) then the formatted message into
 * buf[0..cap); returns rc. */
int js_error_vset(char *buf, size_t cap, int rc, const char *prefix,
                  const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

/* js_error_vset without a prefix. */
int js_error_set(char *buf, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A file's damage: writes "PATH: WHAT at byte OFF: " then the formatted
 * message (WHAT as "manifest is corrupt"); returns rc. */
int js_error_at(char *buf, size_t cap, int rc, const char *path,
                const char *what, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

#endif /* JS_ERROR_H */
