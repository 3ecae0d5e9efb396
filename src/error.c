/*
 * error.c — error codes to sentences, the message a handle keeps
 * (error.h), and the library version.
 *
 * In:  a JS_E* code, a message.  Out: a static string; the message in
 *      the handle's buffer.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "jiansuo.h"

int js_error_vset(char *buf, size_t cap, int rc, const char *prefix,
                  const char *fmt, va_list ap)
{
    if (!buf || cap == 0)
        return rc;
    size_t n = 0;
    if (prefix) {
        n = strlen(prefix);
        if (n >= cap)
            n = cap - 1;
        memcpy(buf, prefix, n);
        buf[n] = 0;
    }
    vsnprintf(buf + n, cap - n, fmt, ap);
    return rc;
}

int js_error_set(char *buf, size_t cap, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    js_error_vset(buf, cap, rc, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

int js_error_at(char *buf, size_t cap, int rc, const char *path,
                const char *what, size_t off, const char *fmt, ...)
{
    char prefix[4200];
    snprintf(prefix, sizeof prefix, "%s: %s at byte %zu: ", path, what, off);
    va_list ap;
    va_start(ap, fmt);
    js_error_vset(buf, cap, rc, prefix, fmt, ap);
    va_end(ap);
    return rc;
}

const char *js_strerror(int code)
{
    switch (code) {
    case JS_OK:
        return "success";
    case JS_ENOMEM:
        return "out of memory";
    case JS_EIO:
        return "input/output error";
    case JS_ECORRUPT:
        return "index is corrupt";
    case JS_EVERSION:
        return "unsupported index format version";
    case JS_EINVALID:
        return "invalid argument";
    case JS_ENOTFOUND:
        return "not found";
    case JS_EENCODING:
        return "unknown text encoding";
    case JS_ELIMIT:
        return "limit exceeded";
    case JS_EBUSY:
        return "index is locked by another writer";
    }
    return "unknown error";
}

const char *js_version(void)
{
    return PACKAGE_VERSION;
}
