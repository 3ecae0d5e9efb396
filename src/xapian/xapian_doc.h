/*
 * xapian_doc.h — one section as one Xapian document: the one definition
 * of what the builder (xapian_build.c) and the live writer
 * (xapian_writer.c) store, so that a document the writer replaces looks
 * exactly like one a build wrote.
 *
 * In:  a js_section from ingest, the text pipeline's flags, its section
 *      id, the number of shards, and (for a section read from a file)
 *      the file's stamp.
 * Out: the shim's terms (text terms, then the identity terms below),
 *      value slots and document data; the shard the section belongs on.
 *
 * Identity (jiansuo.h, "Keeping an index current"): a document is its
 * JSON Lines record id when it has one, else its canonical source path
 * (js_fields_identity).  Every section carries, with wdf 0 (so that no
 * length, no BM25 and no `total_length` changes), two terms that start
 * with JS_XAPIAN_META (0x03), a byte the text pipeline never produces:
 *   0x03 'i' ID     or   0x03 'p' PATH    the identity (replace, delete)
 *   0x03 'f' PATH                         the source file: deleting a
 *                                         path deletes a JSON Lines
 *                                         file's records too; update
 *                                         lists the files it holds
 * A key longer than JS_XDOC_KEY_MAX bytes is stored as its first
 * JS_XDOC_KEY_KEEP bytes, 0x02 and 16 hex digits of its FNV-1a hash.
 *
 * Placement: a section goes to shard FNV-1a(identity term before
 * shortening) % shards, so that every version of a document lands on
 * the same shard and a replacement finds the old one there (info.json
 * "placement": "identity").
 *
 * Values:
 *   slot 0  the section id, 4 bytes big-endian: equal weights rank by it
 *           (js_xsearch.tie_slot), as natively, whatever shard and docid
 *           the section got
 *   slot 1  "POSTINGS POSITIONS TEXT_BYTES FIRST IDENTITY" (decimal;
 *           FIRST 1 on a document's first section; IDENTITY 16 hex
 *           digits of FNV-1a of the identity term): what a deletion takes
 *           off info.json's counts, and which document it was
 *   slot 2  the source file's stamp, "SIZE MTIME_NS HASH PATH" (HASH 16
 *           hex digits of FNV-1a over the file's bytes, PATH canonical):
 *           what update compares; absent for documents from memory
 */
#ifndef JS_XAPIAN_DOC_H
#define JS_XAPIAN_DOC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "ingest.h"
#include "jiansuo.h"
#include "xapian_shim.h"

#define JS_XSLOT_SECTION 0u
#define JS_XSLOT_COUNTS 1u
#define JS_XSLOT_STAMP 2u

#define JS_XDOC_KEY_MAX 200
#define JS_XDOC_KEY_KEEP 180
/* the longest identity or file term: 0x03, kind, kept bytes, 0x02, hex */
#define JS_XDOC_TERM_MAX (2 + JS_XDOC_KEY_KEEP + 1 + 16)

/* FNV-1a, 64 bits, continuing from h (start: JS_FNV_INIT). */
#define JS_FNV_INIT 0xcbf29ce484222325ull
uint64_t js_xdoc_fnv(uint64_t h, const void *p, size_t n);

/* Writes the meta term of kind ('i', 'p' or 'f') for key[0..len) into
 * out (JS_XDOC_TERM_MAX bytes); returns its length. */
size_t js_xdoc_term(char kind, const char *key, size_t len, char *out);

/* The shard of the identity (kind, key) among shards (>= 1). */
unsigned js_xdoc_shard(char kind, const char *key, size_t len, unsigned shards);

/* A file's stamp (slot 2) for path, whose stat is st: reads the file to
 * hash it.  Returns a malloc'ed string, or NULL with errno set (a file
 * that cannot be read; ENOMEM). */
char *js_xdoc_stamp(const char *path, const struct stat *st);

/* The stamp of the regular file at path (made canonical first), or NULL
 * when it is none or cannot be read. */
char *js_xdoc_stamp_file(const char *path);

/* Parses a stamp: size, mtime (nanoseconds), hash and a pointer to the
 * path within it.  Returns 0, or -1 for a malformed one. */
int js_xdoc_stamp_parse(const char *stamp, size_t len, uint64_t *size,
                        int64_t *mtime_ns, uint64_t *hash, const char **path);

/* One section made into a document, valid until the next js_xdoc_make
 * on the same scratch. */
typedef struct js_xdoc_out {
    const js_xterm *terms;
    size_t nterms;           /* text terms, then the two meta terms */
    js_xvalue values[3];
    size_t nvalues;
    const char *data;        /* compact JSON (xapian_build.h) */
    size_t data_len;
    uint64_t postings;       /* text terms */
    uint64_t positions;      /* tokens */
    uint64_t text_bytes;     /* the body's bytes */
    const char *identity;    /* the identity term */
    size_t identity_len;
    const char *file;        /* the source file's term */
    size_t file_len;
    const char *canonical;   /* the canonical source path (NUL-ended) */
    unsigned shard;          /* where it goes */
} js_xdoc_out;

typedef struct js_xdoc js_xdoc;

/* A scratch for making documents, or NULL when out of memory. */
js_xdoc *js_xdoc_new(void);
void js_xdoc_free(js_xdoc *x);

/* Makes section s (section id `id`, pipeline flags, `shards` shards;
 * stamp NULL or slot 2's text) into *out.  Returns 0 or a JS_E* code,
 * with *what naming the step that failed (a static string). */
int js_xdoc_make(js_xdoc *x, const js_section *s, unsigned flags, uint32_t id,
                 unsigned shards, const char *stamp, js_xdoc_out *out,
                 const char **what);

#endif /* JS_XAPIAN_DOC_H */
