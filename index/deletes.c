/*
 * deletes.c — deletion sets in memory and on disk (see deletes.h and
 * index/FORMAT.md, "Live indexes").
 *
 * In:  a section count and ids to delete (writer); a set file's
 *      untrusted bytes (reader).
 * Out: the published file; a checked bitmap to test ids against.
 *
 * A set read from disk keeps the file's bytes and points its bitmap
 * into them: a set of a segment of 2^32 sections is 512 MiB, read once
 * and copied never (unless a writer asks for a copy to change).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h" /* js_crc32 */
#include "deletes.h"
#include "error.h"
#include "file.h"
#include "jiansuo.h"

static const uint8_t MAGIC[8] = {0x4A, 0x53, 0x44, 0x4C, 0x0D, 0x0A, 0x1A, 0x0A};
/* magic, version, flags, sections, count; the bitmap follows */
#define HEAD 24

/* The bitmap's bytes for n sections (no overflow: size_t holds 2^32/8). */
static size_t map_bytes(uint32_t n) { return ((size_t)n + 7) / 8; }

/* A set of n sections whose bitmap is a copy of bits (zeros when NULL). */
static int make(js_deletes **out, uint32_t n, const uint8_t *bits,
                uint32_t count)
{
    js_deletes *d = calloc(1, sizeof *d);
    /* one byte at least, so that malloc(0)'s NULL is never taken for a
     * failure */
    uint8_t *mem = d ? calloc(map_bytes(n) + 1, 1) : NULL;
    if (!mem) {
        free(d);
        *out = NULL;
        return JS_ENOMEM;
    }
    if (bits)
        memcpy(mem, bits, map_bytes(n));
    d->nsections = n;
    d->count = count;
    d->bits = d->mem = mem;
    *out = d;
    return 0;
}

int js_deletes_new(js_deletes **out, uint32_t nsections)
{
    return make(out, nsections, NULL, 0);
}

int js_deletes_copy(js_deletes **out, const js_deletes *d)
{
    return make(out, d->nsections, d->bits, d->count);
}

void js_deletes_free(js_deletes *d)
{
    if (!d)
        return;
    free(d->mem);
    free(d);
}

int js_deletes_set(js_deletes *d, uint32_t id)
{
    if (id >= d->nsections)
        return JS_EINVALID;
    uint8_t bit = (uint8_t)(1u << (id & 7));
    if (d->bits[id >> 3] & bit)
        return 0;
    d->bits[id >> 3] |= bit;
    d->count++;
    return 1;
}

int js_deletes_write(const char *dir, const char *name, const js_deletes *d,
                     char *err, size_t errlen)
{
    if (js_file_name_check(name))
        return js_error_set(err, errlen, JS_EINVALID,
                            "'%s' is not a valid deletion set file name",
                            name);
    js_buf b = JS_BUF_INIT;
    js_buf_put(&b, MAGIC, 8);
    js_buf_u32(&b, JS_DELETES_VERSION);
    js_buf_u32(&b, 0); /* flags */
    js_buf_u32(&b, d->nsections);
    js_buf_u32(&b, d->count);
    js_buf_put(&b, d->bits, map_bytes(d->nsections));
    js_buf_u32(&b, b.oom ? 0 : js_crc32(b.p, b.len));
    int rc = b.oom ? js_error_set(err, errlen, JS_ENOMEM, "out of memory")
                   : js_file_put(dir, name, b.p, b.len, err, errlen);
    js_buf_free(&b);
    return rc;
}

/* What check's failures need: the file's path and where messages go. */
typedef struct {
    const char *path;
    char *err;
    size_t errlen;
} checker;

#define BAD(off, ...)                                                  \
    js_error_at(c->err, c->errlen, JS_ECORRUPT, c->path,               \
                "deletion set is corrupt", (size_t)(off), __VA_ARGS__)

/* Checks the file's bytes p[0..n) as the set of a segment of nsections
 * sections.  Returns 0, or JS_ECORRUPT / JS_EVERSION with a message. */
static int check(const checker *c, const uint8_t *p, size_t n,
                 uint32_t nsections)
{
    size_t want = HEAD + map_bytes(nsections) + 4;
    if (n < 8 || memcmp(p, MAGIC, 8))
        return BAD(0, n < 8 ? "file too short (%zu bytes)"
                     : "not a deletion set (bad magic number, %zu bytes)", n);
    if (n < 12)
        return BAD(8, "file too short (%zu bytes)", n);
    /* the version first: a later version may change all that follows */
    uint32_t version = js_le32(p + 8);
    if (version != JS_DELETES_VERSION)
        return js_error_set(c->err, c->errlen, JS_EVERSION,
                            "%s: deletion set format version %" PRIu32
                            "; this jiansuo reads version %d", c->path, version,
                            JS_DELETES_VERSION);
    if (n != want)
        return BAD(n < want ? n : want, "%zu bytes, where a set of %" PRIu32
            " sections has %zu", n, nsections, want);
    if (js_crc32(p, n - 4) != js_le32(p + n - 4))
        return BAD(n - 4, "checksum mismatch (damaged)");
    if (js_le32(p + 12))
        return BAD(12, "unknown flags %#" PRIx32, js_le32(p + 12));
    if (js_le32(p + 16) != nsections)
        return BAD(16, "a set of %" PRIu32 " sections, for a segment of %" PRIu32,
            js_le32(p + 16), nsections);
    const uint8_t *bits = p + HEAD;
    size_t nb = map_bytes(nsections);
    if (nsections & 7 && bits[nb - 1] >> (nsections & 7))
        return BAD(HEAD + nb - 1, "bits set past the last section");
    uint64_t count = 0;
    for (size_t i = 0; i < nb; i++)
        count += (unsigned)__builtin_popcount(bits[i]);
    if (count != js_le32(p + 20))
        return BAD(20, "%" PRIu32 " sections said deleted, %" PRIu64 " bits set",
            js_le32(p + 20), count);
    return 0;
}

int js_deletes_read(const char *dir, const char *name, uint32_t nsections,
                    js_deletes **out, char *err, size_t errlen)
{
    *out = NULL;
    if (js_file_name_check(name))
        return js_error_set(err, errlen, JS_EINVALID,
                            "'%s' is not a valid deletion set file name",
                            name);
    uint8_t *p;
    size_t n;
    int rc = js_file_slurp(dir, name, HEAD + map_bytes(nsections) + 4, &p,
                           &n, err, errlen);
    if (rc)
        return rc;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    checker c = {path, err, errlen};
    if ((rc = check(&c, p, n, nsections))) {
        free(p);
        return rc;
    }
    js_deletes *d = malloc(sizeof *d);
    if (!d) {
        free(p);
        return js_error_set(err, errlen, JS_ENOMEM, "out of memory");
    }
    d->nsections = nsections;
    d->count = js_le32(p + 20);
    d->mem = p;
    d->bits = p + HEAD;
    *out = d;
    return 0;
}

uint32_t js_deletes_next(const js_deletes *d, uint32_t from)
{
    if (!d || !d->count)
        return UINT32_MAX;
    uint32_t nbytes = (d->nsections + 7) / 8;
    for (uint32_t w = from / 8; w < nbytes; w++) {
        /* the bits of this byte from `from` on (all of the later ones) */
        unsigned bits = d->bits[w];
        if (w == from / 8)
            bits &= 0xFFu << (from % 8);
        if (bits)
            return w * 8 + (uint32_t)__builtin_ctz(bits);
    }
    return UINT32_MAX;
}
