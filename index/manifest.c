/*
 * manifest.c — a live index's manifest in memory and as DIR/manifest.jsm
 * (see manifest.h and index/FORMAT.md, "Live indexes").
 *
 * In:  segments and deletion sets to name (writer); the file's untrusted
 *      bytes (reader).
 * Out: the published file; a manifest in memory whose every field was
 *      checked, or an error naming the damage and its offset.
 *
 * One decoder serves both sides: the writer decodes what it encoded
 * before publishing it, so a manifest no reader would accept is never
 * written, and the rules live in one place.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h" /* js_crc32 */
#include "error.h"
#include "file.h"
#include "jiansuo.h"
#include "manifest.h"

static const uint8_t MAGIC[8] = {0x4A, 0x53, 0x4D, 0x46, 0x0D, 0x0A, 0x1A, 0x0A};
/* magic, version, flags, generation, next segment, a one-byte segment
 * count, crc32 */
#define MIN_SIZE (8 + 4 + 4 + 8 + 8 + 1 + 4)
/* The fewest bytes a segment's entry takes: name length, a one-byte
 * name, sections, documents, deletion set's name length 0, deleted. */
#define MIN_ENTRY 6

int js_manifest_new(js_manifest **out)
{
    js_manifest *m = calloc(1, sizeof *m);
    *out = m;
    if (!m)
        return JS_ENOMEM;
    m->next_segment = 1;
    return 0;
}

void js_manifest_free(js_manifest *m)
{
    if (!m)
        return;
    free(m->segments);
    free(m);
}

long js_manifest_find(const js_manifest *m, const char *name)
{
    for (size_t i = 0; i < m->nsegments; i++)
        if (!strcmp(m->segments[i].name, name))
            return (long)i;
    return -1;
}

void js_manifest_new_segment(js_manifest *m, char out[JS_FILE_NAME_MAX + 1])
{
    snprintf(out, JS_FILE_NAME_MAX + 1, "seg-%06" PRIu64 ".jsi",
             m->next_segment++);
}

int js_manifest_deletes_name(char out[JS_FILE_NAME_MAX + 1],
                             const char *segment, uint64_t generation)
{
    size_t n = strlen(segment);
    if (n >= 4 && !strcmp(segment + n - 4, ".jsi"))
        n -= 4;
    char name[2 * JS_FILE_NAME_MAX];
    int k = snprintf(name, sizeof name, "%.*s.del-%" PRIu64,
                     (int)(n < JS_FILE_NAME_MAX ? n : JS_FILE_NAME_MAX),
                     segment, generation);
    if (k < 0 || (size_t)k > JS_FILE_NAME_MAX || n > JS_FILE_NAME_MAX ||
        js_file_name_check(name))
        return JS_EINVALID;
    memcpy(out, name, (size_t)k + 1);
    return 0;
}

/* Whether name is used by m as a segment or a deletion set. */
static int name_used(const js_manifest *m, const char *name)
{
    for (size_t i = 0; i < m->nsegments; i++)
        if (!strcmp(m->segments[i].name, name) ||
            !strcmp(m->segments[i].deletes, name))
            return 1;
    return 0;
}

/* Appends an entry to m, growing the array.  Returns it, or NULL when
 * memory runs out. */
static js_manifest_segment *append(js_manifest *m)
{
    if (m->nsegments == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 8;
        if (cap > SIZE_MAX / sizeof *m->segments)
            return NULL;
        js_manifest_segment *s = realloc(m->segments, cap * sizeof *s);
        if (!s)
            return NULL;
        m->segments = s;
        m->cap = cap;
    }
    js_manifest_segment *s = &m->segments[m->nsegments++];
    memset(s, 0, sizeof *s);
    return s;
}

int js_manifest_add_segment(js_manifest *m, const char *name,
                            uint32_t sections, uint32_t documents,
                            char *err, size_t errlen)
{
    if (js_file_name_check(name))
        return js_error_set(err, errlen, JS_EINVALID,
                            "'%s' is not a valid segment file name", name);
    if (name_used(m, name))
        return js_error_set(err, errlen, JS_EINVALID,
                            "the manifest already names '%s'", name);
    if (documents > sections || (sections && !documents))
        return js_error_set(err, errlen, JS_EINVALID,
                            "segment '%s': %" PRIu32 " documents in %" PRIu32
                            " sections", name, documents, sections);
    js_manifest_segment *s = append(m);
    if (!s)
        return js_error_set(err, errlen, JS_ENOMEM, "out of memory");
    memcpy(s->name, name, strlen(name) + 1);
    s->sections = sections;
    s->documents = documents;
    return 0;
}

int js_manifest_remove_segment(js_manifest *m, const char *name)
{
    long i = js_manifest_find(m, name);
    if (i < 0)
        return JS_ENOTFOUND;
    memmove(&m->segments[i], &m->segments[i + 1],
            (m->nsegments - (size_t)i - 1) * sizeof *m->segments);
    m->nsegments--;
    return 0;
}

int js_manifest_set_deletes(js_manifest *m, const char *segment,
                            const char *deletes, uint32_t deleted,
                            char *err, size_t errlen)
{
    long i = js_manifest_find(m, segment);
    if (i < 0)
        return js_error_set(err, errlen, JS_ENOTFOUND,
                            "the manifest has no segment '%s'", segment);
    js_manifest_segment *s = &m->segments[i];
    if (!deletes || !*deletes) {
        if (deleted)
            return js_error_set(err, errlen, JS_EINVALID,
                                "segment '%s': %" PRIu32 " deleted sections "
                                "without a deletion set", segment, deleted);
        s->deletes[0] = 0;
        s->deleted = 0;
        return 0;
    }
    if (js_file_name_check(deletes))
        return js_error_set(err, errlen, JS_EINVALID,
                            "'%s' is not a valid deletion set file name",
                            deletes);
    if (strcmp(s->deletes, deletes) && name_used(m, deletes))
        return js_error_set(err, errlen, JS_EINVALID,
                            "the manifest already names '%s'", deletes);
    if (deleted > s->sections)
        return js_error_set(err, errlen, JS_EINVALID,
                            "segment '%s': %" PRIu32 " deleted of %" PRIu32
                            " sections", segment, deleted, s->sections);
    memcpy(s->deletes, deletes, strlen(deletes) + 1);
    s->deleted = deleted;
    return 0;
}

size_t js_manifest_files(const js_manifest *m, const char **names,
                         size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nsegments; i++) {
        if (n < cap)
            names[n] = m->segments[i].name;
        n++;
        if (m->segments[i].deletes[0]) {
            if (n < cap)
                names[n] = m->segments[i].deletes;
            n++;
        }
    }
    return n;
}

/* ---- encoding ---- */

static void encode_name(js_buf *b, const char *name)
{
    size_t n = strlen(name);
    js_buf_varint(b, n);
    js_buf_put(b, name, n);
}

/* Encodes m into b (b->oom says whether memory ran out). */
static void encode(js_buf *b, const js_manifest *m)
{
    js_buf_put(b, MAGIC, 8);
    js_buf_u32(b, JS_MANIFEST_VERSION);
    js_buf_u32(b, 0); /* flags */
    js_buf_u64(b, m->generation);
    js_buf_u64(b, m->next_segment);
    js_buf_varint(b, m->nsegments);
    for (size_t i = 0; i < m->nsegments; i++) {
        const js_manifest_segment *s = &m->segments[i];
        encode_name(b, s->name);
        js_buf_varint(b, s->sections);
        js_buf_varint(b, s->documents);
        encode_name(b, s->deletes);
        js_buf_varint(b, s->deleted);
    }
    js_buf_u32(b, b->oom ? 0 : js_crc32(b->p, b->len));
}

/* ---- decoding ---- */

/* What the decoder's steps share: the bytes, where messages go, and
 * what a failure is called (corruption when reading, an invalid
 * manifest when the writer checks its own). */
typedef struct {
    const uint8_t *p;
    size_t n;
    const char *path;
    const char *kind; /* "manifest is corrupt" or the like */
    int code;         /* JS_ECORRUPT or JS_EINVALID */
    char *err;
    size_t errlen;
} decoder;

#define BAD(d, off, ...)                                                \
    js_error_at((d)->err, (d)->errlen, (d)->code, (d)->path, (d)->kind, \
                (off), __VA_ARGS__)

static size_t at(const decoder *d, const js_rd *r)
{
    return (size_t)(r->p - d->p);
}

/* Reads a name of min..JS_FILE_NAME_MAX bytes into out (NUL-terminated)
 * and checks it.  Returns 0 or the decoder's failure. */
static int decode_name(const decoder *d, js_rd *r, size_t min,
                       char out[JS_FILE_NAME_MAX + 1], const char *what,
                       size_t seg)
{
    size_t off = at(d, r);
    uint64_t len = js_rd_varint(r);
    if (r->bad || len < min || len > JS_FILE_NAME_MAX)
        return BAD(d, off, "segment %zu: bad %s name length", seg, what);
    const uint8_t *s = js_rd_bytes(r, (size_t)len);
    if (!s)
        return BAD(d, off, "segment %zu: %s name runs past the end", seg,
                   what);
    memcpy(out, s, (size_t)len);
    out[len] = 0;
    /* strlen catches a NUL inside, which would cut the name short */
    if (len && (strlen(out) != len || js_file_name_check(out)))
        return BAD(d, off + 1, "segment %zu: %s name is not a valid file "
                   "name", seg, what);
    return 0;
}

/* Reads a varint that must fit in 32 bits.  Returns 0 or the decoder's
 * failure. */
static int decode_u32(const decoder *d, js_rd *r, uint32_t *v,
                      const char *what, size_t seg)
{
    size_t off = at(d, r);
    *v = js_rd_varint32(r);
    return r->bad ? BAD(d, off, "segment %zu: bad %s count", seg, what) : 0;
}

/* Reads one segment's entry into s and checks its counts. */
static int decode_segment(const decoder *d, js_rd *r, size_t i,
                          js_manifest_segment *s)
{
    size_t off = at(d, r);
    int rc;
    if ((rc = decode_name(d, r, 1, s->name, "segment", i)) ||
        (rc = decode_u32(d, r, &s->sections, "section", i)) ||
        (rc = decode_u32(d, r, &s->documents, "document", i)) ||
        (rc = decode_name(d, r, 0, s->deletes, "deletion set", i)) ||
        (rc = decode_u32(d, r, &s->deleted, "deleted section", i)))
        return rc;
    if (s->documents > s->sections || (s->sections && !s->documents))
        return BAD(d, off, "segment %zu: %" PRIu32 " documents in %" PRIu32
                   " sections", i, s->documents, s->sections);
    if (s->deleted > s->sections)
        return BAD(d, off, "segment %zu: %" PRIu32 " deleted of %" PRIu32
                   " sections", i, s->deleted, s->sections);
    if (!s->deletes[0] && s->deleted)
        return BAD(d, off, "segment %zu: deleted sections without a "
                   "deletion set", i);
    return 0;
}

typedef struct {
    const char *name;
    size_t seg;
} named;

static int cmp_named(const void *a, const void *b)
{
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

/* Checks that no file is named twice (a segment twice, a deletion set
 * twice, or one file as both), in O(n log n) so that a long forged list
 * costs no quadratic time. */
static int check_unique(const decoder *d, const js_manifest *m)
{
    size_t n = js_manifest_files(m, NULL, 0);
    if (n < 2)
        return 0;
    named *v = malloc(n * sizeof *v);
    if (!v)
        return js_error_set(d->err, d->errlen, JS_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < m->nsegments; i++) {
        v[k++] = (named){m->segments[i].name, i};
        if (m->segments[i].deletes[0])
            v[k++] = (named){m->segments[i].deletes, i};
    }
    qsort(v, n, sizeof *v, cmp_named);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(v[i - 1].name, v[i].name)) {
            size_t a = v[i - 1].seg, b = v[i].seg;
            int rc = js_error_set(d->err, d->errlen, d->code,
                                  "%s: %s: '%s' is named twice (segments "
                                  "%zu and %zu)", d->path, d->kind, v[i].name,
                                  a < b ? a : b, a < b ? b : a);
            free(v);
            return rc;
        }
    free(v);
    return 0;
}

/* Decodes and checks the whole file.  Returns 0 and *out, or a JS_E*
 * code with a message. */
static int decode(const decoder *d, js_manifest **out)
{
    *out = NULL;
    if (d->n < 8 || memcmp(d->p, MAGIC, 8))
        return BAD(d, 0, d->n < 8 ? "file too short (%zu bytes)"
                                  : "not a manifest (bad magic number, "
                                    "%zu bytes)", d->n);
    js_rd r = js_rd_make(d->p + 8, d->n - 8);
    uint32_t version = js_rd_u32(&r);
    if (r.bad)
        return BAD(d, 8, "file too short (%zu bytes)", d->n);
    /* The version comes before anything else is read, so that a later
     * version may change everything after it. */
    if (version != JS_MANIFEST_VERSION)
        return js_error_set(d->err, d->errlen, JS_EVERSION,
                            "%s: manifest format version %" PRIu32 "; this "
                            "jiansuo reads version %d", d->path, version,
                            JS_MANIFEST_VERSION);
    if (d->n < MIN_SIZE)
        return BAD(d, d->n, "file too short (%zu bytes)", d->n);
    if (js_crc32(d->p, d->n - 4) != js_le32(d->p + d->n - 4))
        return BAD(d, d->n - 4, "checksum mismatch (truncated or damaged)");

    r = js_rd_make(d->p, d->n - 4);
    js_rd_bytes(&r, 12);
    uint32_t flags = js_rd_u32(&r);
    if (flags)
        return BAD(d, 12, "unknown flags %#" PRIx32, flags);
    js_manifest *m;
    if (js_manifest_new(&m))
        return js_error_set(d->err, d->errlen, JS_ENOMEM, "out of memory");
    m->generation = js_rd_u64(&r);
    m->next_segment = js_rd_u64(&r);
    size_t off = at(d, &r);
    uint64_t n = js_rd_varint(&r);
    int rc = 0;
    if (r.bad || n > js_rd_left(&r) / MIN_ENTRY)
        rc = BAD(d, off, "bad segment count");
    else if (n && !(m->segments = calloc((size_t)n, sizeof *m->segments)))
        rc = js_error_set(d->err, d->errlen, JS_ENOMEM, "out of memory");
    m->cap = rc ? 0 : (size_t)n;
    for (size_t i = 0; !rc && i < n; i++) {
        rc = decode_segment(d, &r, i, &m->segments[i]);
        m->nsegments = i + 1;
    }
    if (!rc && js_rd_left(&r))
        rc = BAD(d, at(d, &r), "%zu bytes after the last segment",
                 js_rd_left(&r));
    if (!rc)
        rc = check_unique(d, m);
    if (rc) {
        js_manifest_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int js_manifest_write(const char *dir, const js_manifest *m, char *err,
                      size_t errlen)
{
    js_buf b = JS_BUF_INIT;
    encode(&b, m);
    if (b.oom) {
        js_buf_free(&b);
        return js_error_set(err, errlen, JS_ENOMEM, "out of memory");
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, JS_MANIFEST_FILE);
    decoder d = {b.p, b.len, path, "refusing to write an invalid manifest",
                 JS_EINVALID, err, errlen};
    js_manifest *back = NULL;
    int rc = decode(&d, &back);
    js_manifest_free(back);
    if (!rc)
        rc = js_file_put(dir, JS_MANIFEST_FILE, b.p, b.len, err, errlen);
    js_buf_free(&b);
    return rc;
}

int js_manifest_read(const char *dir, js_manifest **out, char *err,
                     size_t errlen)
{
    *out = NULL;
    uint8_t *p;
    size_t n;
    int rc = js_file_slurp(dir, JS_MANIFEST_FILE, SIZE_MAX - 1, &p, &n, err,
                           errlen);
    if (rc == JS_ENOTFOUND)
        return js_error_set(err, errlen, rc, "%s/%s: no manifest (not a live "
                            "index)", dir, JS_MANIFEST_FILE);
    if (rc)
        return rc;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, JS_MANIFEST_FILE);
    decoder d = {p, n, path, "manifest is corrupt", JS_ECORRUPT, err, errlen};
    rc = decode(&d, out);
    free(p);
    return rc;
}
