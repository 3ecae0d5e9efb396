/*
 * reader.c — opening an index, its statistics, and `jiansuo check`.
 *
 * In:  an index directory.
 * Out: a js_reader handle (reader.h) whose tables have been checked
 *      against the file on open, so later lookups can trust counts and
 *      offsets; js_reader_check walks everything else: every checksum,
 *      every term's postings, every stored block.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "docid.h"
#include "error.h"
#include "fields.h"
#include "reader.h"
#include "utf8.h"

static int fail(js_reader *ix, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(js_reader *ix, int rc, const char *fmt, ...)
{
    /* every message names the file, and damage says so first */
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s/%s: %s", ix->dir ? ix->dir : "",
             ix->file ? ix->file : JS_INDEX_FILE,
             rc == JS_ECORRUPT ? "index is corrupt: " : "");
    va_list ap;
    va_start(ap, fmt);
    js_error_vset(ix->err, sizeof ix->err, rc, prefix, fmt, ap);
    va_end(ap);
    return rc;
}

const char *js_reader_errmsg(const js_reader *ix) { return ix ? ix->err : ""; }

const char *js_index_part_name(unsigned id) { return js_part_name(id); }

int js_reader_section(const js_reader *ix, uint32_t id, js_section_rec *out)
{
    return js_sections_get(&ix->secs, id, out);
}

/* Points out[0..n) at the n NUL-terminated strings that make up exactly
 * s[0..len).  Returns 0 or JS_ECORRUPT. */
static int split_strings(const char *s, uint64_t len, const char **out[],
                         int n)
{
    const char *end = s + len;
    for (int i = 0; i < n; i++) {
        const char *nul = s < end ? memchr(s, 0, (size_t)(end - s)) : NULL;
        if (!nul)
            return JS_ECORRUPT;
        *out[i] = s;
        s = nul + 1;
    }
    return s == end ? 0 : JS_ECORRUPT;
}

/* Reads document id's record (FORMAT.md, part 2): its source index, title
 * and id (an id stored as a UUID spelled out in id_buf, *ident pointing
 * there), and either its metadata (*back 0) or the distance *back to the
 * document whose record holds it (*meta NULL).  Returns 0 or
 * JS_ECORRUPT. */
static int doc_record(const js_reader *ix, uint32_t id, uint64_t *src,
                      const char **title, const char **ident,
                      char id_buf[JS_DOCID_UUID_LEN + 1], uint64_t *back,
                      const char **meta)
{
    uint64_t a = js_le64(ix->doc_offsets + 8 * (size_t)id);
    uint64_t b = js_le64(ix->doc_offsets + 8 * ((size_t)id + 1));
    js_rd r = js_rd_make(ix->doc_strings + a, (size_t)(b - a));
    *src = js_rd_varint(&r);
    if (r.bad || *src >= ix->nsources)
        return JS_ECORRUPT;
    const char *s = (const char *)r.p, *end = s + js_rd_left(&r);
    const char *nul = memchr(s, 0, (size_t)(end - s));
    if (!nul)
        return JS_ECORRUPT;
    *title = s;
    s = nul + 1;
    if (s < end && *s == JS_DOCID_UUID) {
        if (end - s < 17)
            return JS_ECORRUPT;
        js_docid_unpack((const uint8_t *)s + 1, id_buf);
        *ident = id_buf;
        s += 17;
    } else {
        /* an escape only before what would be read as one of the two */
        if (s < end && *s == JS_DOCID_ESCAPE &&
            (++s == end || (*s != JS_DOCID_UUID && *s != JS_DOCID_ESCAPE)))
            return JS_ECORRUPT;
        nul = s < end ? memchr(s, 0, (size_t)(end - s)) : NULL;
        if (!nul)
            return JS_ECORRUPT;
        *ident = s;
        s = nul + 1;
    }
    r = js_rd_make((const uint8_t *)s, (size_t)(end - s));
    *back = js_rd_varint(&r);
    if (r.bad)
        return JS_ECORRUPT;
    *meta = NULL;
    if (*back) /* nothing may follow a reference */
        return js_rd_left(&r) ? JS_ECORRUPT : 0;
    const char **m[1] = {meta};
    return split_strings((const char *)r.p, js_rd_left(&r), m, 1);
}

int js_reader_document(const js_reader *ix, uint32_t id, js_doc_rec *out)
{
    uint64_t src, back;
    int rc = doc_record(ix, id, &src, &out->title, &out->id, out->id_buf,
                        &back, &out->metadata);
    if (rc)
        return rc;
    if (back) {
        /* one step back to a record that holds its metadata: references
         * never chain, so a damaged index cannot make this a walk */
        uint64_t src2, back2;
        const char *t2, *i2;
        char ib2[JS_DOCID_UUID_LEN + 1];
        if (back > id ||
            doc_record(ix, (uint32_t)(id - back), &src2, &t2, &i2, ib2,
                       &back2, &out->metadata) ||
            back2 || !out->metadata[0])
            return JS_ECORRUPT;
    }
    uint64_t a = js_le64(ix->src_offsets + 8 * src);
    uint64_t b = js_le64(ix->src_offsets + 8 * (src + 1));
    const char **f[3] = {&out->source, &out->format, &out->encoding};
    return split_strings((const char *)ix->src_strings + a, b - a, f, 3);
}

/* Checks a table of n + 1 u64 offsets into an area of len bytes: from 0,
 * non-decreasing, ending at len.  Returns the first bad index, or -1. */
static int64_t bad_offsets(const uint8_t *offs, uint32_t n, uint64_t len)
{
    uint64_t prev = 0;
    for (uint32_t i = 0; i <= n; i++) {
        uint64_t o = js_le64(offs + 8 * (size_t)i);
        if (o < prev || o > len || (i == 0 && o != 0) || (i == n && o != len))
            return i;
        prev = o;
    }
    return -1;
}

#define CHECKED_PROBES 32

/* Whether the record at offset is in the cache of checked records. */
static int checked_has(const js_reader *ix, uint64_t offset)
{
    if (!ix->checked)
        return 0;
    uint64_t key = offset + 1, h = key * 0x9E3779B97F4A7C15ull;
    uint32_t i = (uint32_t)(h >> 32) & ix->checked_mask;
    for (int k = 0; k < CHECKED_PROBES; k++) {
        uint64_t v = atomic_load_explicit(&ix->checked[i], memory_order_acquire);
        if (v == key)
            return 1;
        if (v == 0)
            return 0;
        i = (i + 1) & ix->checked_mask;
    }
    return 0;
}

/* Enters the record at offset in the cache (silently not, when its
 * neighbourhood is full). */
static void checked_add(const js_reader *ix, uint64_t offset)
{
    if (!ix->checked)
        return;
    uint64_t key = offset + 1, h = key * 0x9E3779B97F4A7C15ull;
    uint32_t i = (uint32_t)(h >> 32) & ix->checked_mask;
    for (int k = 0; k < CHECKED_PROBES; k++) {
        uint64_t v = 0;
        if (atomic_compare_exchange_strong_explicit(
                &ix->checked[i], &v, key, memory_order_acq_rel,
                memory_order_acquire) ||
            v == key)
            return;
        i = (i + 1) & ix->checked_mask;
    }
}

int js_reader_postings(const js_reader *ix, const char *term, size_t len,
                      js_term_info *info, js_postings_cursor *c)
{
    int rc = js_lexicon_lookup(ix->lex, term, len, info);
    return rc ? rc : js_reader_postings_at(ix, info, c);
}

int js_reader_postings_at(const js_reader *ix, const js_term_info *info,
                         js_postings_cursor *c)
{
    int rc;
    const js_part *p = &ix->f.parts[JS_PART_POSTINGS];
    int multi = info->df > ix->st.block_size;
    int known = multi && checked_has(ix, info->offset);
    rc = js_postings_open_ex(c, p->p + info->offset, info->length, info->df,
                             ix->st.block_size,
                             (info->flags & JS_TERM_POSITIONS) != 0,
                             ix->nsections, known);
    if (!rc)
        js_postings_share_checks(c, &ix->checks);
    if (!rc && multi && !known)
        checked_add(ix, info->offset);
    return rc;
}

struct js_cursor_pool {
    pthread_mutex_t mu;
    uint32_t n;
    js_postings_cursor *c[JS_CURSOR_POOL];
};

js_postings_cursor *js_reader_cursor_get(const js_reader *ix)
{
    struct js_cursor_pool *pl = ix->pool;
    js_postings_cursor *c = NULL;
    if (pl) {
        pthread_mutex_lock(&pl->mu);
        if (pl->n)
            c = pl->c[--pl->n];
        pthread_mutex_unlock(&pl->mu);
    }
    /* malloc, not calloc: js_postings_open initialises what it reads */
    if (!c && (c = malloc(sizeof *c))) {
        c->pos = NULL;
        js_postings_close(c);
    }
    return c;
}

void js_reader_cursor_put(const js_reader *ix, js_postings_cursor *c)
{
    if (!c)
        return;
    js_postings_close(c);
    struct js_cursor_pool *pl = ix->pool;
    if (pl) {
        pthread_mutex_lock(&pl->mu);
        if (pl->n < JS_CURSOR_POOL) {
            pl->c[pl->n++] = c;
            c = NULL;
        }
        pthread_mutex_unlock(&pl->mu);
    }
    free(c);
}

static void pool_free(struct js_cursor_pool *pl)
{
    if (!pl)
        return;
    for (uint32_t i = 0; i < pl->n; i++)
        free(pl->c[i]);
    pthread_mutex_destroy(&pl->mu);
    free(pl);
}

/* Parses STATS, DOCUMENTS and SECTIONS and opens the lexicon and store. */
static int load(js_reader *ix)
{
    const js_part *P = ix->f.parts;
    js_rd r = js_rd_make(P[JS_PART_STATS].p, P[JS_PART_STATS].len);
    js_index_stats *st = &ix->st;
    st->format_version = ix->f.version;
    st->documents = js_rd_u64(&r);
    st->sections = js_rd_u64(&r);
    st->terms = js_rd_u64(&r);
    st->postings = js_rd_u64(&r);
    st->positions = js_rd_u64(&r);
    st->body_units = js_rd_u64(&r);
    st->heading_units = js_rd_u64(&r);
    st->source_bytes = js_rd_u64(&r);
    st->text_bytes = js_rd_u64(&r);
    st->block_size = js_rd_u32(&r);
    st->analyze_flags = js_rd_u32(&r);
    ix->positions_for = js_rd_u32(&r);
    uint32_t ilen = js_rd_u32(&r);
    const uint8_t *info = js_rd_bytes(&r, ilen);
    if (r.bad || js_rd_left(&r) != 0)
        return fail(ix, JS_ECORRUPT, "the stats part has a bad size");
    if (st->block_size == 0 || st->block_size > JS_BLOCK_SIZE * 8)
        return fail(ix, JS_ECORRUPT, "block size %u", st->block_size);
    if (ix->positions_for != JS_FIELDS_POSITIONS_FOR)
        return fail(ix, JS_ECORRUPT, "the stats part says positions are "
                    "kept for kinds %u, not %u", ix->positions_for,
                    JS_FIELDS_POSITIONS_FOR);
    if (st->sections > UINT32_MAX || st->documents > UINT32_MAX)
        return fail(ix, JS_ECORRUPT, "section or document count too large");
    if (!(ix->build_info = malloc((size_t)ilen + 1)))
        return fail(ix, JS_ENOMEM, "out of memory");
    memcpy(ix->build_info, info, ilen);
    ix->build_info[ilen] = 0;
    st->build_info = ix->build_info;
    st->file_bytes = ix->f.size;
    for (unsigned i = 1; i <= JS_PART_MAX; i++)
        st->part_bytes[i] = P[i].len;

    /* Documents: counts, source offsets, document offsets, source
     * strings, document strings. */
    r = js_rd_make(P[JS_PART_DOCUMENTS].p, P[JS_PART_DOCUMENTS].len);
    uint32_t nd = js_rd_u32(&r);
    uint32_t nsrc = js_rd_u32(&r);
    if (r.bad || nd != st->documents ||
        js_rd_left(&r) / 8 < (uint64_t)nd + nsrc + 2)
        return fail(ix, JS_ECORRUPT, "the documents part has a bad size");
    ix->ndocs = nd;
    ix->nsources = nsrc;
    ix->src_offsets = js_rd_bytes(&r, 8 * ((size_t)nsrc + 1));
    ix->doc_offsets = js_rd_bytes(&r, 8 * ((size_t)nd + 1));
    ix->src_strings_len = js_le64(ix->src_offsets + 8 * (size_t)nsrc);
    if (ix->src_strings_len > js_rd_left(&r))
        return fail(ix, JS_ECORRUPT, "the documents part has a bad size");
    ix->src_strings = js_rd_bytes(&r, (size_t)ix->src_strings_len);
    ix->doc_strings = r.p;
    ix->doc_strings_len = js_rd_left(&r);
    int64_t bad = bad_offsets(ix->src_offsets, nsrc, ix->src_strings_len);
    if (bad >= 0)
        return fail(ix, JS_ECORRUPT, "source %lld has a bad offset",
                    (long long)bad);
    if ((bad = bad_offsets(ix->doc_offsets, nd, ix->doc_strings_len)) >= 0)
        return fail(ix, JS_ECORRUPT, "document %lld has a bad offset",
                    (long long)bad);

    /* Sections: header and sizes only, so that opening costs nothing
     * per section; a group is checked when read, all of them by
     * `jiansuo check`. */
    char why[256];
    if (js_sections_open(&ix->secs, P[JS_PART_SECTIONS].p,
                         P[JS_PART_SECTIONS].len, st->sections, nd, why,
                         sizeof why))
        return fail(ix, JS_ECORRUPT, "%s", why);
    uint32_t ns = ix->nsections = ix->secs.n;

    /* Heading paths: u32 count, u32 offsets[n + 1], bytes.  The offsets
     * are checked where they are read (js_reader_headings), so opening an
     * index costs nothing per section here. */
    r = js_rd_make(P[JS_PART_HEADINGS].p, P[JS_PART_HEADINGS].len);
    if (js_rd_u32(&r) != ns || r.bad ||
        js_rd_left(&r) / 4 < (uint64_t)ns + 1)
        return fail(ix, JS_ECORRUPT, "the headings part has a bad size");
    ix->head_offsets = js_rd_bytes(&r, 4 * ((size_t)ns + 1));
    ix->head_strings = r.p;
    ix->head_strings_len = js_rd_left(&r);

    int rc = js_lexicon_open(&ix->lex, P[JS_PART_LEXICON].p,
                             P[JS_PART_LEXICON].len,
                             P[JS_PART_LEXICON_INDEX].p,
                             P[JS_PART_LEXICON_INDEX].len,
                             P[JS_PART_POSTINGS].len);
    if (rc)
        return fail(ix, rc, "the lexicon cannot be opened");
    if (js_lexicon_count(ix->lex) != st->terms)
        return fail(ix, JS_ECORRUPT, "the lexicon holds %llu terms, the "
                    "stats say %llu",
                    (unsigned long long)js_lexicon_count(ix->lex),
                    (unsigned long long)st->terms);
    if (js_keys_open(&ix->keys, P[JS_PART_KEYS].p, P[JS_PART_KEYS].len, nd,
                     ns))
        return fail(ix, JS_ECORRUPT, "the keys part has a bad size");
    if ((rc = js_champs_open(&ix->champs, P[JS_PART_CHAMPIONS].p,
                             P[JS_PART_CHAMPIONS].len,
                             P[JS_PART_POSTINGS].len, ix->err,
                             sizeof ix->err)))
        return rc;
    rc = js_store_open(&ix->store, P[JS_PART_STORE].p, P[JS_PART_STORE].len,
                       P[JS_PART_STORE_INDEX].p, P[JS_PART_STORE_INDEX].len,
                       ns);
    if (rc)
        return fail(ix, rc, "the store cannot be opened");
    /* The checked-records cache: a slot per 4 KiB of postings (a record
     * with a skip table is some hundreds of bytes at least), zeroed
     * lazily by the kernel; without memory it is simply not used. */
    uint64_t slots = 1024;
    while (slots < P[JS_PART_POSTINGS].len / 4096 && slots < (1u << 26))
        slots *= 2;
    ix->checked = calloc((size_t)slots, sizeof *ix->checked);
    ix->checked_mask = (uint32_t)slots - 1;
    /* the postings' page crcs, and a bit per page that passed */
    if (js_block_checks_init(&ix->checks, P[JS_PART_POSTINGS].p,
                             (size_t)P[JS_PART_POSTINGS].len,
                             P[JS_PART_POSTINGS_CRC].p,
                             (size_t)P[JS_PART_POSTINGS_CRC].len))
        return fail(ix, JS_ECORRUPT, "the postings crc part is damaged or "
                    "does not fit the postings (%llu bytes)",
                    (unsigned long long)P[JS_PART_POSTINGS].len);
    return 0;
}

int js_reader_open(js_reader **out, const char *dir)
{
    return js_reader_open_named(out, dir, JS_INDEX_FILE);
}

int js_reader_open_named(js_reader **out, const char *dir, const char *file)
{
    if (!out || !dir || !file)
        return JS_EINVALID;
    js_reader *ix = calloc(1, sizeof *ix);
    if (!ix)
        return JS_ENOMEM;
    atomic_init(&ix->refs, 1);
    *out = ix;
    if (!(ix->dir = strdup(dir)) || !(ix->file = strdup(file)))
        return fail(ix, JS_ENOMEM, "out of memory");
    /* no pool is no error: cursors are then malloc'ed each time */
    if ((ix->pool = calloc(1, sizeof *ix->pool)) &&
        pthread_mutex_init(&ix->pool->mu, NULL)) {
        free(ix->pool);
        ix->pool = NULL;
    }
    int rc = js_file_open_named(&ix->f, dir, file, ix->err, sizeof ix->err);
    if (rc)
        return rc;
    return load(ix);
}

int js_reader_preload(js_reader *ix)
{
    if (!ix)
        return JS_EINVALID;
    int rc = js_file_preload(&ix->f);
    if (rc)
        snprintf(ix->err, sizeof ix->err,
                 "%s: the index file cannot be read into memory", ix->dir);
    return rc;
}

js_reader *js_reader_ref(js_reader *ix)
{
    atomic_fetch_add(&ix->refs, 1);
    return ix;
}

void js_reader_close(js_reader *ix)
{
    if (!ix || atomic_fetch_sub(&ix->refs, 1) != 1)
        return;
    js_lexicon_close(ix->lex);
    js_store_close(ix->store);
    free((void *)ix->checked);
    pool_free(ix->pool);
    js_block_checks_free(&ix->checks);
    js_file_close(&ix->f);
    free(ix->build_info);
    free(ix->dir);
    free(ix->file);
    free(ix);
}

int js_reader_get_stats(const js_reader *ix, js_index_stats *out)
{
    if (!ix || !out || !ix->lex)
        return JS_EINVALID;
    *out = ix->st;
    out->backend = JS_BACKEND_NATIVE;
    out->shards = 1;
    return 0;
}

/* ---- identities ---- */

/* Compares the id of id entry i with id[0..len): <0, 0, >0, or
 * JS_ECORRUPT in *rc. */
static int cmp_id_at(const js_reader *ix, uint32_t i, const char *id,
                     size_t len, int *rc)
{
    js_key_id e;
    js_doc_rec d;
    if ((*rc = js_keys_id(&ix->keys, i, &e)) ||
        (*rc = js_reader_document(ix, e.doc, &d)))
        return 0;
    size_t n = strlen(d.id);
    int c = memcmp(d.id, id, n < len ? n : len);
    return c ? c : (n > len) - (n < len);
}

int js_reader_find_id(const js_reader *ix, const char *id, uint32_t *lo,
                      uint32_t *hi)
{
    size_t len = strlen(id);
    int rc = 0;
    uint32_t a = 0, b = ix->keys.nids;
    while (a < b) { /* the first entry >= id */
        uint32_t m = a + (b - a) / 2;
        int c = cmp_id_at(ix, m, id, len, &rc);
        if (rc)
            return rc;
        if (c < 0)
            a = m + 1;
        else
            b = m;
    }
    uint32_t e = a;
    while (e < ix->keys.nids) {
        int c = cmp_id_at(ix, e, id, len, &rc);
        if (rc)
            return rc;
        if (c != 0)
            break;
        e++;
    }
    *lo = a;
    *hi = e;
    return 0;
}

int js_reader_find_file(const js_reader *ix, const char *path, uint32_t *lo,
                        uint32_t *hi)
{
    size_t len = strlen(path);
    uint32_t a, e;
    int rc = js_keys_file_lower(&ix->keys, path, len, &a);
    if (rc)
        return rc;
    for (e = a; e < ix->keys.nfiles; e++) {
        js_key_file f;
        if ((rc = js_keys_file(&ix->keys, e, &f)))
            return rc;
        if (f.path_len != len || memcmp(f.path, path, len))
            break;
    }
    *lo = a;
    *hi = e;
    return 0;
}

/* Checks the KEYS part: every entry in range and consistent with the
 * sections (an id's document owns its sections, a file's documents own
 * its sections), ids and files sorted. */
static int check_keys(js_reader *ix)
{
    const js_keys *k = &ix->keys;
    uint32_t prev_doc = 0;
    for (uint32_t i = 0; i < k->nids; i++) {
        js_key_id e;
        js_doc_rec d;
        js_section_rec a, z;
        if (js_keys_id(k, i, &e) || js_reader_document(ix, e.doc, &d) ||
            e.nsections == 0 ||
            js_reader_section(ix, e.first_section, &a) ||
            js_reader_section(ix, e.first_section + e.nsections - 1, &z) ||
            a.document != e.doc || z.document != e.doc || a.ordinal != 0 ||
            !d.id[0])
            return fail(ix, JS_ECORRUPT, "keys: id entry %u is out of range "
                        "or names sections of another document", i);
        js_doc_rec pd; /* the entry before, read again (its id may live
                          in the record's own buffer) */
        int c = -1;
        if (i && !js_reader_document(ix, prev_doc, &pd))
            c = strcmp(pd.id, d.id);
        if (c > 0 || (c == 0 && prev_doc >= e.doc))
            return fail(ix, JS_ECORRUPT, "keys: id entry %u is out of order",
                        i);
        prev_doc = e.doc;
    }
    js_key_file pf = {0};
    for (uint32_t i = 0; i < k->nfiles; i++) {
        js_key_file f;
        js_section_rec a;
        if (js_keys_file(k, i, &f) || f.ndocs == 0 || f.nsections == 0 ||
            js_reader_section(ix, f.first_section, &a) ||
            a.document != f.first_doc || a.ordinal != 0)
            return fail(ix, JS_ECORRUPT, "keys: file entry %u is out of "
                        "range", i);
        if (i) {
            size_t n = pf.path_len < f.path_len ? pf.path_len : f.path_len;
            int c = memcmp(pf.path, f.path, n);
            if (!c)
                c = (pf.path_len > f.path_len) - (pf.path_len < f.path_len);
            if (c > 0 || (c == 0 && pf.first_doc >= f.first_doc))
                return fail(ix, JS_ECORRUPT, "keys: file entry %u is out "
                            "of order", i);
        }
        pf = f;
    }
    return 0;
}

/* ---- check ---- */

typedef struct {
    js_reader *ix;
    uint64_t terms, postings, positions, next_offset;
    int rc;
    js_postings_cursor c;
    js_postings_cursor hc;  /* a heading twin, for the champion lists */
    js_champ_ranker rk;
    js_buf list;
    uint32_t champ_next;    /* the next table entry to meet */
} check_ctx;

/* Ranks a body term's sections again as the builder did (champ.c), its
 * heading twin's merged in, and compares the list with the stored one,
 * which must be the table's next entry.  Terms below the header's df
 * must have none.  Returns 0 or JS_ECORRUPT / JS_ENOMEM with the
 * message set. */
static int check_champions(check_ctx *k, const char *term, size_t len,
                           const js_term_info *ti, const char *shown)
{
    js_reader *ix = k->ix;
    const js_champs *ch = &ix->champs;
    uint64_t off = 0;
    const uint8_t *list = NULL;
    size_t list_len = 0;
    int listed = k->champ_next < ch->h.n;
    if (listed)
        js_champs_entry(ch, k->champ_next, &off, &list, &list_len);
    listed = listed && off == ti->offset;
    int want = !(len && term[0] == 1) && ti->df >= ch->h.min_df;
    if (listed != want)
        return fail(ix, JS_ECORRUPT, "champions: '%s' (df %u) %s a list",
                    shown, ti->df, want ? "lacks" : "has");
    if (!want)
        return 0;
    k->champ_next++;
    char twin[JS_TERM_MAX_BYTES + 2];
    js_term_info hi;
    int has_twin = 0, rc;
    if (len <= JS_TERM_MAX_BYTES) {
        twin[0] = 1;
        memcpy(twin + 1, term, len);
        rc = js_lexicon_lookup(ix->lex, twin, len + 1, &hi);
        if (rc && rc != JS_ENOTFOUND)
            return fail(ix, rc, "the lexicon entry of 'heading:%s' is "
                        "damaged", shown);
        has_twin = rc == 0;
    }
    const js_part *p = &ix->f.parts[JS_PART_POSTINGS];
    rc = js_postings_open(&k->c, p->p + ti->offset, ti->length, ti->df,
                          ix->st.block_size,
                          (ti->flags & JS_TERM_POSITIONS) != 0,
                          ix->nsections);
    int hrc = 0;
    if (!rc && has_twin &&
        !(rc = js_postings_open(&k->hc, p->p + hi.offset, hi.length, hi.df,
                                ix->st.block_size,
                                (hi.flags & JS_TERM_POSITIONS) != 0,
                                ix->nsections)))
        hrc = js_postings_next(&k->hc);
    js_champ_ranker_reset(&k->rk);
    int brc = rc ? rc : js_postings_next(&k->c);
    while (brc == 1 || hrc == 1) {
        uint32_t id, tb = 0, th = 0;
        if (hrc == 1 && (brc != 1 || k->hc.id <= k->c.id)) {
            id = k->hc.id;
            th = k->hc.tf;
        } else {
            id = k->c.id;
        }
        if (brc == 1 && k->c.id == id)
            tb = k->c.tf;
        uint32_t lb, lh;
        js_reader_section_lens(ix, id, &lb, &lh);
        js_champ_ranker_add(&k->rk, id, tb, lb, th, lh);
        if (th)
            hrc = js_postings_next(&k->hc);
        if (tb)
            brc = js_postings_next(&k->c);
    }
    js_postings_close(&k->c);
    js_postings_close(&k->hc);
    if (brc < 0 || hrc < 0)
        return fail(ix, JS_ECORRUPT, "postings of '%s' are damaged", shown);
    k->list.len = 0;
    if ((rc = js_champ_ranker_encode(&k->rk, &k->list)))
        return fail(ix, rc, "champions: %s", js_strerror(rc));
    if (k->list.len != list_len || memcmp(k->list.p, list, list_len))
        return fail(ix, JS_ECORRUPT, "champions: the list of '%s' differs "
                    "from its postings' best sections", shown);
    return 0;
}

static int check_term(void *ctx, const char *term, size_t len,
                      const js_term_info *ti)
{
    check_ctx *k = ctx;
    js_reader *ix = k->ix;
    char shown[80];
    size_t sl = js_utf8_floor(term, len, 60);
    snprintf(shown, sizeof shown, "%s%.*s", len && term[0] == 1 ? "heading:" : "",
             (int)(len && term[0] == 1 ? sl - 1 : sl),
             len && term[0] == 1 ? term + 1 : term);
    int heading = len && term[0] == 1;
    if (!js_utf8_valid(term + heading, len - (size_t)heading, NULL))
        return k->rc = fail(ix, JS_ECORRUPT, "lexicon: a term is not UTF-8");
    if (ti->offset != k->next_offset)
        return k->rc = fail(ix, JS_ECORRUPT,
                            "postings of '%s' do not follow the previous "
                            "term's", shown);
    k->next_offset = ti->offset + ti->length;
    /* The search treats such a term as damage too (match.c). */
    int want_pos = js_fields_term_has_positions(ix->positions_for, term, len);
    if (!(ti->flags & JS_TERM_POSITIONS) != !want_pos)
        return k->rc = fail(ix, JS_ECORRUPT, "lexicon: '%s' %s positions, "
                            "though the index keeps them for %s kind",
                            shown, want_pos ? "has no" : "has",
                            want_pos ? "its" : "no term of its");
    const js_part *p = &ix->f.parts[JS_PART_POSTINGS];
    int rc = js_postings_open(&k->c, p->p + ti->offset, ti->length, ti->df,
                              ix->st.block_size,
                              (ti->flags & JS_TERM_POSITIONS) != 0,
                              ix->nsections);
    uint32_t n = 0, max_tf = 0;
    uint64_t cf = 0;
    /* the skip table's norms, recomputed block by block (a norm too low
     * would make block-max search skip a hit) */
    const double avg = heading ? js_norm_avg(ix->st.heading_units, ix->nsections)
                               : js_norm_avg(ix->st.body_units, ix->nsections);
    uint32_t nblock = UINT32_MAX;
    float want_norm = 0, got_norm = 0;
    while (!rc && (rc = js_postings_next(&k->c)) == 1) {
        rc = 0;
        if (k->c.nblocks > 1 && k->c.block != nblock) {
            if (nblock != UINT32_MAX && want_norm != got_norm)
                break;
            nblock = k->c.block;
            want_norm = k->c.block_max_norm;
            got_norm = 0;
        }
        n++;
        cf += k->c.tf;
        if (k->c.tf > max_tf)
            max_tf = k->c.tf;
        uint32_t lb, lh;
        js_reader_section_lens(ix, k->c.id, &lb, &lh);
        uint32_t flen = heading ? lh : lb;
        float t = js_norm_bound(k->c.tf, flen, avg);
        if (t > got_norm)
            got_norm = t;
        if (k->c.tf > flen) {
            rc = fail(ix, JS_ECORRUPT, "postings of '%s': frequency %u in "
                      "section %u of length %u", shown, k->c.tf, k->c.id, flen);
            break;
        }
        if (ti->flags & JS_TERM_POSITIONS) {
            const uint32_t *pos;
            if ((rc = js_postings_positions(&k->c, &pos)))
                break;
            if (pos[k->c.tf - 1] >= flen) {
                rc = fail(ix, JS_ECORRUPT, "postings of '%s': position %u "
                          "beyond section %u's length %u", shown,
                          pos[k->c.tf - 1], k->c.id, flen);
                break;
            }
        }
    }
    js_postings_close(&k->c);
    if (rc >= 0 && nblock != UINT32_MAX && want_norm != got_norm)
        return k->rc = fail(ix, JS_ECORRUPT,
                            "postings of '%s': block %u's score bound %g "
                            "differs from its entries' %g",
                            shown, nblock, (double)want_norm,
                            (double)got_norm);
    if (rc < 0) {
        if (!ix->err[0] || rc != JS_ECORRUPT)
            fail(ix, rc, "postings of '%s' are damaged", shown);
        return k->rc = rc;
    }
    if (n != ti->df || cf != ti->cf || max_tf != ti->max_tf)
        return k->rc = fail(ix, JS_ECORRUPT,
                            "postings of '%s' disagree with the lexicon "
                            "(df %u/%u, cf %llu/%llu)",
                            shown, n, ti->df, (unsigned long long)cf,
                            (unsigned long long)ti->cf);
    k->terms++;
    k->postings += n;
    if (ti->flags & JS_TERM_POSITIONS)
        k->positions += cf;
    if ((rc = check_champions(k, term, len, ti, shown)))
        return k->rc = rc;
    return 0;
}

int js_reader_headings(const js_reader *ix, uint32_t id, const char **path,
                      size_t *len)
{
    *path = "";
    *len = 0;
    if (id >= ix->nsections)
        return JS_ECORRUPT;
    uint32_t a = js_le32(ix->head_offsets + 4 * (size_t)id);
    uint32_t b = js_le32(ix->head_offsets + 4 * ((size_t)id + 1));
    if (a > b || b > ix->head_strings_len)
        return JS_ECORRUPT;
    *path = (const char *)ix->head_strings + a;
    *len = b - a;
    return 0;
}

/* Whether section id's heading path equals the stored one (path). */
static int same_heading(void *ctx, uint32_t id, const char *path, size_t len)
{
    js_reader *ix = ctx;
    const char *h;
    size_t hl;
    if (js_reader_headings(ix, id, &h, &hl))
        return fail(ix, JS_ECORRUPT, "section %u has a bad heading offset",
                    id);
    if (hl != len || (hl && memcmp(path, h, hl)))
        return fail(ix, JS_ECORRUPT, "section %u's heading path differs "
                    "from its stored text", id);
    return 0;
}

/* Checks the headings part: offsets from 0, non-decreasing, ending at the
 * end of the part, and each path equal to the one in the stored text;
 * and so every block of the stored text (js_store_each_path).
 * Returns 0 or JS_ECORRUPT / JS_ENOMEM with the message set. */
static int check_headings(js_reader *ix)
{
    if (ix->nsections == 0 || js_le32(ix->head_offsets) != 0 ||
        js_le32(ix->head_offsets + 4 * (size_t)ix->nsections) !=
            ix->head_strings_len)
        return fail(ix, JS_ECORRUPT, "the headings part's offsets do not "
                    "span it");
    /* A block inflated once for all its sections, not once per section
     * (that took minutes for a million sections). */
    uint32_t bad = 0;
    int rc = js_store_each_path(ix->store, same_heading, ix, &bad);
    if (rc == JS_ECORRUPT && !ix->err[0])
        return fail(ix, rc, "stored text block %u is damaged", bad);
    if (rc && !ix->err[0])
        return fail(ix, rc, "stored text block %u: %s", bad, js_strerror(rc));
    return rc;
}

int js_reader_check(js_reader *ix)
{
    if (!ix || !ix->lex)
        return JS_EINVALID;
    ix->err[0] = 0;
    /* every page of the postings against its crc, first, so that damage
     * there is named by place (a search checks only the pages it reads) */
    uint64_t bad_page = 0;
    if (js_block_checks_verify(&ix->checks, &bad_page))
        return fail(ix, JS_ECORRUPT, "postings page %llu (from byte %llu of "
                    "the part) fails its checksum",
                    (unsigned long long)bad_page,
                    (unsigned long long)(bad_page << ix->checks.shift));
    for (uint32_t id = 1; id <= JS_PART_MAX; id++)
        if (js_file_verify_part(&ix->f, id))
            return fail(ix, JS_ECORRUPT, "the %s part fails its checksum",
                        js_part_name(id));

    /* Sources: three strings each, each one used, in runs; documents: a
     * source and three strings each. */
    uint32_t next_src = 0;
    for (uint32_t i = 0; i < ix->nsources; i++) {
        const char *a, *b, *c;
        const char **f[3] = {&a, &b, &c};
        uint64_t o = js_le64(ix->src_offsets + 8 * (size_t)i);
        if (split_strings((const char *)ix->src_strings + o,
                          js_le64(ix->src_offsets + 8 * ((size_t)i + 1)) - o, f,
                          3))
            return fail(ix, JS_ECORRUPT, "source %u is malformed", i);
    }
    for (uint32_t i = 0; i < ix->ndocs; i++) {
        js_doc_rec d;
        if (js_reader_document(ix, i, &d))
            return fail(ix, JS_ECORRUPT, "document %u is malformed", i);
        uint64_t a = js_le64(ix->doc_offsets + 8 * (size_t)i);
        js_rd r = js_rd_make(ix->doc_strings + a,
                             js_le64(ix->doc_offsets + 8 * ((size_t)i + 1)) - a);
        uint64_t src = js_rd_varint(&r);
        if (src != next_src && src + 1 != next_src)
            return fail(ix, JS_ECORRUPT, "document %u refers to source %llu "
                        "out of order", i, (unsigned long long)src);
        next_src = (uint32_t)src + 1;
    }
    if (next_src != ix->nsources)
        return fail(ix, JS_ECORRUPT, "sources no document refers to");
    /* Sections: every group decoded, documents in order, ordinals from
     * 0, lengths summed. */
    uint64_t body = 0, head = 0;
    char why[256];
    if (js_sections_verify(&ix->secs, &body, &head, why, sizeof why))
        return fail(ix, JS_ECORRUPT, "%s", why);
    if (body != ix->st.body_units || head != ix->st.heading_units)
        return fail(ix, JS_ECORRUPT, "section lengths do not add up to the "
                    "stats");
    /* the store's blocks: checked by the headings' walk, which inflates
     * each once, or on their own when there is no section */
    uint32_t bad_block = 0;
    int rc = ix->nsections ? check_headings(ix)
                           : js_store_verify(ix->store, &bad_block);
    if (rc && !ix->err[0])
        return fail(ix, rc, "stored text block %u is damaged", bad_block);
    if (rc)
        return rc;
    check_ctx k;
    memset(&k, 0, sizeof k);
    k.ix = ix;
    const js_champs *ch = &ix->champs;
    if ((rc = js_champ_ranker_init(
             &k.rk, ch->h.size, ch->h.b, ch->h.w,
             js_norm_avg(ix->st.body_units, ix->nsections),
             js_norm_avg(ix->st.heading_units, ix->nsections))))
        return fail(ix, rc, "out of memory");
    rc = js_lexicon_iter(ix->lex, check_term, &k);
    js_champ_ranker_free(&k.rk);
    js_buf_free(&k.list);
    if (rc)
        return ix->err[0] ? rc : fail(ix, rc, "the lexicon is damaged");
    if (k.champ_next != ch->h.n)
        return fail(ix, JS_ECORRUPT, "champions: table entry %u names no "
                    "term", k.champ_next);
    if (k.next_offset != ix->f.parts[JS_PART_POSTINGS].len)
        return fail(ix, JS_ECORRUPT, "the postings part has %llu bytes no "
                    "term uses",
                    (unsigned long long)(ix->f.parts[JS_PART_POSTINGS].len -
                                         k.next_offset));
    if (k.terms != ix->st.terms || k.postings != ix->st.postings ||
        k.positions != ix->st.positions)
        return fail(ix, JS_ECORRUPT, "term, posting or position counts "
                    "disagree with the stats");
    return check_keys(ix);
}
