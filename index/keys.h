/*
 * keys.h — a segment's identities (index/FORMAT.md, part 12 "keys").
 *
 * In (builder): as documents are added, each document's record id (if
 *      it has one) and each source file's canonical path, size,
 *      modification time and content hash, with the documents and
 *      sections they hold.
 * Out: the KEYS part: the ids sorted by id string, the files sorted by
 *      path; a live index's writer finds by them what an added document
 *      replaces and what `delete` and `index --update` remove.
 * In (reader): the part's bytes, untrusted.
 * Out: entries by position, each checked against the part's bounds and
 *      the segment's document and section counts before it is returned.
 *
 * The ids are not stored twice: an id entry names its document, whose
 * record (part 2) holds the string; the sort compares those strings.
 */
#ifndef JS_KEYS_H
#define JS_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "jiansuo.h"

/* A source file as the index saw it.  For a document added from memory:
 * path is its name, size its length, mtime_ns 0. */
typedef struct js_key_file {
    const char *path; /* canonical (js_fields_identity), NUL-terminated */
    size_t path_len;
    uint64_t size;
    int64_t mtime_ns;
    uint64_t hash;    /* js_keys_hash of its bytes (after nothing: raw) */
    uint32_t first_doc, ndocs, first_section, nsections;
} js_key_file;

/* A record id's document. */
typedef struct js_key_id {
    uint32_t doc, first_section, nsections;
} js_key_id;

/* The 64-bit content hash of a file: crc32 and adler32 of its bytes. */
typedef struct js_keys_hasher {
    uint32_t crc, adler;
} js_keys_hasher;
void js_keys_hash_init(js_keys_hasher *h);
void js_keys_hash_more(js_keys_hasher *h, const void *p, size_t n);
uint64_t js_keys_hash_end(const js_keys_hasher *h);

/* ---- writing ---- */

typedef struct js_keys_writer js_keys_writer;

/* Returns a new writer or NULL when out of memory. */
js_keys_writer *js_keys_writer_new(void);
void js_keys_writer_free(js_keys_writer *w);

/* Adds document doc's id (copied) and its sections.  Returns 0 or
 * JS_ENOMEM. */
int js_keys_add_id(js_keys_writer *w, const char *id, const js_key_id *e);

/* Adds a file (path copied).  Returns 0 or JS_ENOMEM. */
int js_keys_add_file(js_keys_writer *w, const js_key_file *f);

/* Whether w holds the record id (by_path 0) or file path key: a linear
 * search, for a writer's deletes before commit. */
int js_keys_writer_has(const js_keys_writer *w, int by_path, const char *key);

/* Appends the KEYS part to out: ids sorted by (id, document), files by
 * (path, first document), so that the same documents give the same
 * bytes in whatever order they were added.  Returns 0 or JS_ENOMEM. */
int js_keys_encode(js_keys_writer *w, js_buf *out);

/* ---- reading ---- */

typedef struct js_keys {
    uint32_t nids, nfiles;
    const uint8_t *ids;   /* nids x 12 bytes */
    const uint8_t *files; /* nfiles x 56 bytes */
    const uint8_t *strs;  /* the files' paths */
    uint64_t strs_len;
    uint32_t ndocs, nsections; /* of the segment, for the checks */
} js_keys;

/* Reads the part's layout (counts and table sizes agree with its
 * length).  Returns 0 or JS_ECORRUPT. */
int js_keys_open(js_keys *k, const uint8_t *p, uint64_t len, uint32_t ndocs,
                 uint32_t nsections);

/* Id entry i (< nids).  Returns 0 or JS_ECORRUPT (a document or section
 * range outside the segment). */
int js_keys_id(const js_keys *k, uint32_t i, js_key_id *out);

/* File entry i (< nfiles); out->path points into the part and is not
 * NUL-terminated (path_len bytes).  Returns 0 or JS_ECORRUPT. */
int js_keys_file(const js_keys *k, uint32_t i, js_key_file *out);

/* The first file entry whose path is >= path[0..len) (nfiles if none),
 * by binary search.  Returns 0 or JS_ECORRUPT. */
int js_keys_file_lower(const js_keys *k, const char *path, size_t len,
                       uint32_t *out);

#endif /* JS_KEYS_H */
