/*
 * error.c — error codes to sentences, and the library version.
 *
 * In:  a JS_E* code.  Out: a static string.
 */
#include "config.h"

#include "jiansuo.h"

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
    }
    return "unknown error";
}

const char *js_version(void)
{
    return PACKAGE_VERSION;
}
