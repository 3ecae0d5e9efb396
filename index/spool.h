/*
 * spool.h — an anonymous temporary file written sequentially and copied
 * into a part of the index file at commit.
 *
 * In:  bytes appended in order (a part whose size the builder does not
 *      know until the end: documents, sections, the lexicon).
 * Out: the same bytes, copied into the open part of a js_file_writer.
 *
 * The file is created in the build's run directory and unlinked at once,
 * so nothing is left behind whatever happens; only a small write buffer
 * stays in memory, which keeps the builder's memory bounded however
 * large the corpus is.
 */
#ifndef JS_SPOOL_H
#define JS_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "file.h"

#define JS_SPOOL_BUF (64u * 1024)

typedef struct js_spool {
    int fd;
    uint8_t *buf;
    size_t len;
    uint64_t total; /* bytes appended so far */
    int err;        /* sticky: JS_EIO or JS_ENOMEM */
    int saved_errno;
} js_spool;

#define JS_SPOOL_INIT {-1, NULL, 0, 0, 0, 0}

/* Creates the (already unlinked) file in dir.  Returns 0, JS_ENOMEM or
 * JS_EIO (errno kept). */
int js_spool_open(js_spool *s, const char *dir);

/* Appends n bytes.  Returns 0 or the sticky error. */
int js_spool_write(js_spool *s, const void *p, size_t n);

/* Appends v little-endian (u32, u64) or as a varint. */
int js_spool_u32(js_spool *s, uint32_t v);
int js_spool_u64(js_spool *s, uint64_t v);
int js_spool_varint(js_spool *s, uint64_t v);

/* Reads back n bytes at offset off of what was appended (off + n <=
 * the total), writing out the buffer first if they reach into it; the
 * spool can be appended to afterwards.  Returns 0, JS_EINVALID for a
 * range past the end, or the sticky JS_EIO (errno kept). */
int js_spool_read_at(js_spool *s, uint64_t off, void *p, size_t n);

/* Copies everything appended into the current part of w.  Returns 0,
 * JS_EIO (reading the spool or writing w) or the sticky error. */
int js_spool_copy(js_spool *s, js_file_writer *w);

/* Closes the file and frees the buffer; a JS_SPOOL_INIT spool is fine. */
void js_spool_close(js_spool *s);

#endif /* JS_SPOOL_H */
