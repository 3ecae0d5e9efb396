/*
 * reader.h — the native backend's open index (reader.c).
 *
 * In:  a js_reader opened with js_reader_open: what js_index_open makes
 *      for a native index (src/backend.c), the js_index_* functions of
 *      jiansuo.h on the native format.
 * Out: sections' metadata and lengths, documents' strings, terms'
 *      postings cursors and stored text, all bounds-checked against the
 *      file.  Every function here is safe to call from many threads at
 *      once on one handle: none of them changes it but for a cache of
 *      postings records already checked, updated atomically.
 */
#ifndef JS_READER_H
#define JS_READER_H

#include <stdatomic.h>
#include <stdint.h>

#include "champ.h"
#include "codec.h"
#include "file.h"
#include "jiansuo.h"
#include "keys.h"
#include "lexicon.h"
#include "sections.h"
#include "store.h"


/* A document as js_reader_document reads it: the strings point into the
 * mapped index, but for an id stored as a UUID (FORMAT.md, part 2),
 * spelled out in id_buf: use id while this record lives. */
typedef struct js_doc_rec {
    const char *source, *title, *format, *encoding, *id, *metadata;
    char id_buf[37];
} js_doc_rec;

typedef struct js_reader js_reader;

/* The native side of jiansuo.h's js_index_open, _preload, _close,
 * _errmsg, _get_stats and _check (their contracts are there);
 * js_reader_search, the native js_search, is in search.h. */
int js_reader_open(js_reader **out, const char *dir);
/* js_reader_open of dir/file (a segment of a live index). */
int js_reader_open_named(js_reader **out, const char *dir, const char *file);
int js_reader_preload(js_reader *ix);
/* Closing drops one reference; the last frees the handle.  A segment of
 * a live index never changes, so the snapshots of several generations
 * (and the writer's) share its open reader: js_reader_ref takes one
 * more reference and returns ix. */
void js_reader_close(js_reader *ix);
js_reader *js_reader_ref(js_reader *ix);
const char *js_reader_errmsg(const js_reader *ix);
int js_reader_get_stats(const js_reader *ix, js_index_stats *out);
int js_reader_check(js_reader *ix);

struct js_reader {
    atomic_int refs; /* js_reader_ref / js_reader_close */
    js_file f;
    char *dir;
    char *file; /* index.jsi, or a segment's file */
    js_index_stats st;
    char *build_info;
    /* STATS bit set: 1 words, 2 unigrams, 4 bigrams; open accepts only
     * JS_FIELDS_POSITIONS_FOR, so a term has positions exactly when
     * js_fields_term_has_positions says so, and otherwise is damage */
    uint32_t positions_for;
    uint32_t ndocs;
    const uint8_t *doc_offsets; /* u64 [ndocs + 1] into doc_strings */
    const uint8_t *doc_strings; /* per document: source index, 3 strings */
    uint64_t doc_strings_len;
    uint32_t nsources;
    const uint8_t *src_offsets; /* u64 [nsources + 1] into src_strings */
    const uint8_t *src_strings; /* per source: path, format, encoding */
    uint64_t src_strings_len;
    uint32_t nsections;
    js_sections secs; /* SECTIONS, its header and sizes checked on open */
    const uint8_t *head_offsets; /* u32 [nsections + 1] into head_strings */
    const uint8_t *head_strings; /* heading paths, U+001F between headings */
    uint64_t head_strings_len;
    js_lexicon *lex;
    js_store *store;
    js_champs champs; /* CHAMPIONS, its table checked on open */
    js_keys keys;     /* KEYS, its layout checked on open */
    /* postings records (offset + 1) whose skip table js_reader_postings
     * has checked: open addressing, written with compare-and-swap, so
     * that many threads may share the handle; a full neighbourhood only
     * means checking again */
    _Atomic uint64_t *checked;
    uint32_t checked_mask;
    struct js_cursor_pool *pool; /* js_reader_cursor_get/put */
    js_block_checks checks;      /* POSTINGS page crcs, and those passed */
    char err[1024];
};

/* Reads section id's record, decoding its group (sections.h).  Returns
 * 0 or JS_ECORRUPT (id out of range, a damaged group). */
int js_reader_section(const js_reader *ix, uint32_t id, js_section_rec *out);

/* Section id's body and heading lengths alone (id < nsections), read
 * directly from the fixed-width array, as scoring needs them for every
 * candidate. */
static inline void js_reader_section_lens(const js_reader *ix, uint32_t id,
                                         uint32_t *body, uint32_t *head)
{
    js_sections_lens(&ix->secs, id, body, head);
}

/* Reads document id's strings (id < ix->ndocs); absent ones are "".
 * Returns 0 or JS_ECORRUPT. */
int js_reader_document(const js_reader *ix, uint32_t id, js_doc_rec *out);

/* Points *path at section id's heading path (headings joined by U+001F,
 * *len bytes, not NUL-terminated, inside the mapped index).  Returns 0 or
 * JS_ECORRUPT (id out of range, offsets that fail their checks). */
int js_reader_headings(const js_reader *ix, uint32_t id, const char **path,
                      size_t *len);

/* The id entries (keys.h) of documents whose record id is `id`:
 * [*lo, *hi) (empty when none).  Returns 0 or JS_ECORRUPT. */
int js_reader_find_id(const js_reader *ix, const char *id, uint32_t *lo,
                      uint32_t *hi);

/* The file entries whose canonical path is `path`: [*lo, *hi).  Returns
 * 0 or JS_ECORRUPT. */
int js_reader_find_file(const js_reader *ix, const char *path, uint32_t *lo,
                        uint32_t *hi);

/* Opens a cursor on a term's postings (the term's lexicon entry in
 * *info).  A record's skip table (crc and structure) is checked the
 * first time the record is opened through this handle only, so opening
 * a long list again is O(1).  Returns 0, JS_ENOTFOUND, JS_ECORRUPT. */
int js_reader_postings(const js_reader *ix, const char *term, size_t len,
                      js_term_info *info, js_postings_cursor *c);

/* js_reader_postings for a term already looked up in ix->lex (*info is
 * its entry).  Returns 0 or JS_ECORRUPT. */
int js_reader_postings_at(const js_reader *ix, const js_term_info *info,
                         js_postings_cursor *c);

/* Cursor memory for searches.  A cursor is 12 KiB of arrays, above what
 * malloc serves from its fast caches, and a query opens a dozen: the
 * handle keeps up to JS_CURSOR_POOL closed cursors for the next ones, so
 * that many threads share it (a mutex guards the pool).  get returns a
 * closed cursor (open it with js_reader_postings or js_postings_open), or
 * NULL without memory; put closes c and keeps or frees it (NULL is
 * fine).  The pool is freed with the handle. */
#define JS_CURSOR_POOL 64
js_postings_cursor *js_reader_cursor_get(const js_reader *ix);
void js_reader_cursor_put(const js_reader *ix, js_postings_cursor *c);

#endif /* JS_READER_H */
