/*
 * reader.h — what the query engine reads of an open index (reader.c).
 *
 * In:  a js_index opened with js_index_open (jiansuo.h).
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
#include "lexicon.h"
#include "sections.h"
#include "store.h"


/* A document as js_index_document reads it: the strings point into the
 * mapped index, but for an id stored as a UUID (FORMAT.md, part 2),
 * spelled out in id_buf: use id while this record lives. */
typedef struct js_doc_rec {
    const char *source, *title, *format, *encoding, *id, *metadata;
    char id_buf[37];
} js_doc_rec;

struct js_index {
    js_file f;
    char *dir;
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
    /* postings records (offset + 1) whose skip table js_index_postings
     * has checked: open addressing, written with compare-and-swap, so
     * that many threads may share the handle; a full neighbourhood only
     * means checking again */
    _Atomic uint64_t *checked;
    uint32_t checked_mask;
    struct js_cursor_pool *pool; /* js_index_cursor_get/put */
    js_block_checks checks;      /* POSTINGS page crcs, and those passed */
    char err[1024];
};

/* Reads section id's record, decoding its group (sections.h).  Returns
 * 0 or JS_ECORRUPT (id out of range, a damaged group). */
int js_index_section(const js_index *ix, uint32_t id, js_section_rec *out);

/* Section id's body and heading lengths alone (id < nsections), read
 * directly from the fixed-width array, as scoring needs them for every
 * candidate. */
static inline void js_index_section_lens(const js_index *ix, uint32_t id,
                                         uint32_t *body, uint32_t *head)
{
    js_sections_lens(&ix->secs, id, body, head);
}

/* Reads document id's strings (id < ix->ndocs); absent ones are "".
 * Returns 0 or JS_ECORRUPT. */
int js_index_document(const js_index *ix, uint32_t id, js_doc_rec *out);

/* Points *path at section id's heading path (headings joined by U+001F,
 * *len bytes, not NUL-terminated, inside the mapped index).  Returns 0 or
 * JS_ECORRUPT (id out of range, offsets that fail their checks). */
int js_index_headings(const js_index *ix, uint32_t id, const char **path,
                      size_t *len);

/* Opens a cursor on a term's postings (the term's lexicon entry in
 * *info).  A record's skip table (crc and structure) is checked the
 * first time the record is opened through this handle only, so opening
 * a long list again is O(1).  Returns 0, JS_ENOTFOUND, JS_ECORRUPT. */
int js_index_postings(const js_index *ix, const char *term, size_t len,
                      js_term_info *info, js_postings_cursor *c);

/* js_index_postings for a term already looked up in ix->lex (*info is
 * its entry).  Returns 0 or JS_ECORRUPT. */
int js_index_postings_at(const js_index *ix, const js_term_info *info,
                         js_postings_cursor *c);

/* Cursor memory for searches.  A cursor is 12 KiB of arrays, above what
 * malloc serves from its fast caches, and a query opens a dozen: the
 * handle keeps up to JS_CURSOR_POOL closed cursors for the next ones, so
 * that many threads share it (a mutex guards the pool).  get returns a
 * closed cursor (open it with js_index_postings or js_postings_open), or
 * NULL without memory; put closes c and keeps or frees it (NULL is
 * fine).  The pool is freed with the handle. */
#define JS_CURSOR_POOL 64
js_postings_cursor *js_index_cursor_get(const js_index *ix);
void js_index_cursor_put(const js_index *ix, js_postings_cursor *c);

#endif /* JS_READER_H */
