/*
 * spool.c — anonymous temporary files for parts written at commit
 * (spool.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jiansuo.h"
#include "spool.h"

int js_spool_open(js_spool *s, const char *dir)
{
    *s = (js_spool)JS_SPOOL_INIT;
    size_t n = strlen(dir) + 32;
    char *path = malloc(n);
    if (!path || !(s->buf = malloc(JS_SPOOL_BUF))) {
        free(path);
        return s->err = JS_ENOMEM;
    }
    snprintf(path, n, "%s/spool-XXXXXX", dir);
    s->fd = mkstemp(path);
    if (s->fd < 0) {
        s->saved_errno = errno;
        free(path);
        return s->err = JS_EIO;
    }
    unlink(path);
    free(path);
    return 0;
}

static int flush(js_spool *s)
{
    const uint8_t *p = s->buf;
    size_t n = s->len;
    if (js_test_write_check(n)) {
        s->saved_errno = errno;
        return s->err = JS_EIO;
    }
    while (n) {
        ssize_t r = write(s->fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            s->saved_errno = r < 0 ? errno : ENOSPC;
            return s->err = JS_EIO;
        }
        p += r;
        n -= (size_t)r;
    }
    s->len = 0;
    return 0;
}

int js_spool_write(js_spool *s, const void *p, size_t n)
{
    if (s->err)
        return s->err;
    const uint8_t *b = p;
    s->total += n;
    while (n) {
        if (s->len == JS_SPOOL_BUF && flush(s))
            return s->err;
        size_t k = JS_SPOOL_BUF - s->len;
        if (k > n)
            k = n;
        memcpy(s->buf + s->len, b, k);
        s->len += k;
        b += k;
        n -= k;
    }
    return 0;
}

/* Reads n bytes at offset off of fd (all of them, or fails). */
static int pread_all(int fd, uint64_t off, void *p, size_t n)
{
    uint8_t *d = p;
    while (n) {
        ssize_t r = pread(fd, d, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;
            return -1;
        }
        d += r;
        off += (uint64_t)r;
        n -= (size_t)r;
    }
    return 0;
}

int js_spool_read_at(js_spool *s, uint64_t off, void *p, size_t n)
{
    if (s->err)
        return s->err;
    if (off > s->total || n > s->total - off)
        return JS_EINVALID;
    if (off + n > s->total - s->len && flush(s))
        return s->err;
    if (pread_all(s->fd, off, p, n)) {
        s->saved_errno = errno;
        return s->err = JS_EIO;
    }
    return 0;
}

int js_spool_u32(js_spool *s, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 24)};
    return js_spool_write(s, b, 4);
}

int js_spool_u64(js_spool *s, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return js_spool_write(s, b, 8);
}

int js_spool_varint(js_spool *s, uint64_t v)
{
    uint8_t b[10];
    unsigned n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    return js_spool_write(s, b, n);
}

int js_spool_copy(js_spool *s, js_file_writer *w)
{
    if (s->err || flush(s))
        return s->err;
    if (lseek(s->fd, 0, SEEK_SET) != 0) {
        s->saved_errno = errno;
        return s->err = JS_EIO;
    }
    uint64_t left = s->total;
    while (left) {
        size_t want = left < JS_SPOOL_BUF ? (size_t)left : JS_SPOOL_BUF;
        ssize_t r = read(s->fd, s->buf, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            s->saved_errno = r < 0 ? errno : EIO;
            return s->err = JS_EIO;
        }
        int rc = js_file_write(w, s->buf, (size_t)r);
        if (rc)
            return rc;
        left -= (uint64_t)r;
    }
    return 0;
}

void js_spool_close(js_spool *s)
{
    if (s->fd >= 0)
        close(s->fd);
    free(s->buf);
    s->fd = -1;
    s->buf = NULL;
}
