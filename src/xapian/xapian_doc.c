/*
 * xapian_doc.c — one section as one Xapian document (layout:
 * xapian_doc.h), shared by the builder and the live writer.
 *
 * In:  a js_section, flags, its section id, shards, a file stamp.
 * Out: the shim's terms, values and data in scratch buffers the next
 *      call reuses.
 *
 * Data flow per section: every token of the heading field (prefixed with
 * 0x01) and of the body is appended to a scratch list (term bytes in one
 * buffer, (offset, length, position) records beside it); the list is
 * sorted by term then position, so each term's positions come out
 * together and ascending; those groups become the shim's js_xterm array,
 * followed by the identity and file terms; the section's metadata and
 * text become the JSON document data.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "fields.h"
#include "utf8.h"
#include "xapian_doc.h"

/* One token of the current section: term bytes at off in the scratch
 * buffer. */
typedef struct {
    uint32_t off, len, pos;
} xtok;

struct js_xdoc {
    /* the current section's tokens */
    js_buf bytes;
    xtok *toks;
    size_t ntoks, toks_cap;
    /* what the shim gets for it */
    js_xterm *xt;
    size_t xt_cap;
    uint32_t *pos;
    size_t pos_cap;
    char *data;
    /* the last document's source, its canonical path and terms: a JSON
     * Lines file's records share one source, made canonical once */
    char *source, *canonical;
    char ident[JS_XDOC_TERM_MAX], file[JS_XDOC_TERM_MAX];
    size_t ident_len, file_len;
    unsigned shard;
    char section_be[4], counts[96];
};

uint64_t js_xdoc_fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

size_t js_xdoc_term(char kind, const char *key, size_t len, char *out)
{
    out[0] = JS_XAPIAN_META;
    out[1] = kind;
    if (len <= JS_XDOC_KEY_MAX) {
        memcpy(out + 2, key, len);
        return 2 + len;
    }
    memcpy(out + 2, key, JS_XDOC_KEY_KEEP);
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, js_xdoc_fnv(JS_FNV_INIT, key, len));
    out[2 + JS_XDOC_KEY_KEEP] = 0x02;
    memcpy(out + 3 + JS_XDOC_KEY_KEEP, hex, 16);
    return JS_XDOC_TERM_MAX;
}

unsigned js_xdoc_shard(char kind, const char *key, size_t len, unsigned shards)
{
    if (shards <= 1)
        return 0;
    char k[2] = {JS_XAPIAN_META, kind};
    uint64_t h = js_xdoc_fnv(js_xdoc_fnv(JS_FNV_INIT, k, 2), key, len);
    return (unsigned)(h % shards);
}

char *js_xdoc_stamp(const char *path, const struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return NULL;
    uint64_t h = JS_FNV_INIT;
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        h = js_xdoc_fnv(h, buf, (size_t)n);
    int e = errno;
    close(fd);
    if (n < 0) {
        errno = e;
        return NULL;
    }
    int64_t ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    size_t len = strlen(path) + 80;
    char *s = malloc(len);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    snprintf(s, len, "%" PRIu64 " %" PRId64 " %016" PRIx64 " %s",
             (uint64_t)st->st_size, ns, h, path);
    return s;
}

char *js_xdoc_stamp_file(const char *path)
{
    char *c = js_fields_identity(path);
    struct stat st;
    char *s = NULL;
    if (c && stat(c, &st) == 0 && S_ISREG(st.st_mode))
        s = js_xdoc_stamp(c, &st);
    free(c);
    return s;
}

int js_xdoc_stamp_parse(const char *stamp, size_t len, uint64_t *size,
                        int64_t *mtime_ns, uint64_t *hash, const char **path)
{
    if (!stamp || !len || memchr(stamp, 0, len))
        return -1; /* values are NUL-terminated by the shim */
    char *end;
    errno = 0;
    unsigned long long sz = strtoull(stamp, &end, 10);
    if (end == stamp || *end != ' ' || errno)
        return -1;
    const char *p = end + 1;
    long long mt = strtoll(p, &end, 10);
    if (end == p || *end != ' ' || errno)
        return -1;
    p = end + 1;
    unsigned long long hv = strtoull(p, &end, 16);
    if (end != p + 16 || *end != ' ' || errno)
        return -1;
    *size = sz;
    *mtime_ns = mt;
    *hash = hv;
    *path = end + 1;
    return 0;
}

js_xdoc *js_xdoc_new(void) { return calloc(1, sizeof(js_xdoc)); }

void js_xdoc_free(js_xdoc *x)
{
    if (!x)
        return;
    js_buf_free(&x->bytes);
    free(x->toks);
    free(x->xt);
    free(x->pos);
    free(x->data);
    free(x->source);
    free(x->canonical);
    free(x);
}

/* Token callback: one token into the scratch list. */
static int on_token(void *ctx, const js_token *t, int heading)
{
    js_xdoc *b = ctx;
    if (b->ntoks == b->toks_cap) {
        size_t cap = b->toks_cap ? b->toks_cap * 2 : 1024;
        xtok *n = realloc(b->toks, cap * sizeof *n);
        if (!n)
            return JS_ENOMEM;
        b->toks = n;
        b->toks_cap = cap;
    }
    if (b->bytes.len > UINT32_MAX - JS_TERM_MAX_BYTES - 1)
        return JS_ELIMIT; /* cannot happen below JS_SECTION_MAX_BYTES */
    xtok *k = &b->toks[b->ntoks++];
    k->off = (uint32_t)b->bytes.len;
    k->len = (uint32_t)t->term_len + (heading ? 1 : 0);
    k->pos = t->position;
    if (heading)
        js_buf_u8(&b->bytes, 1);
    if (js_buf_put(&b->bytes, t->term, t->term_len))
        return JS_ENOMEM;
    return 0;
}

/* Orders tokens by term bytes, then position (qsort_r context: the
 * scratch bytes). */
static int tok_cmp(const void *x, const void *y, void *ctx)
{
    const xtok *a = x, *c = y;
    const uint8_t *base = ctx;
    size_t n = a->len < c->len ? a->len : c->len;
    int r = memcmp(base + a->off, base + c->off, n);
    if (r)
        return r;
    if (a->len != c->len)
        return a->len < c->len ? -1 : 1;
    return a->pos < c->pos ? -1 : a->pos > c->pos;
}

/* Returns a new JSON string of s[0..n), with U+FFFD for any ill-formed
 * byte (jansson refuses ill-formed UTF-8), or NULL when out of memory. */
static json_t *json_text(const char *s, size_t n)
{
    if (!s)
        return json_null();
    if (js_utf8_valid(s, n, NULL))
        return json_stringn(s, n);
    js_buf o = JS_BUF_INIT;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = js_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (cp == JS_UTF8_INVALID || cp == 0)
            js_buf_put(&o, "\xEF\xBF\xBD", 3);
        else
            js_buf_put(&o, s + i, k);
        i += k;
    }
    json_t *j = o.oom ? NULL : json_stringn(o.p ? (const char *)o.p : "", o.len);
    js_buf_free(&o);
    return j;
}

/* Returns the document data of section s (id, field lengths) as a
 * malloc'ed compact JSON text the caller frees, or NULL when out of
 * memory. */
static char *section_data(const js_section *s, uint32_t id, uint32_t head_len,
                          uint32_t body_len)
{
    const js_document *d = s->document;
    json_t *o = json_object(), *path = json_array();
    if (!o || !path) {
        json_decref(o);
        json_decref(path);
        return NULL;
    }
    json_t *meta = NULL;
    if (d->metadata)
        meta = json_loads(d->metadata, 0, NULL);
    if (d->metadata && !meta)
        meta = json_text(d->metadata, strlen(d->metadata)); /* keep it as text */
    for (size_t i = 0; i < s->depth; i++)
        json_array_append_new(path, json_text(s->path[i], strlen(s->path[i])));
    int bad = 0;
#define SET(k, v) bad |= json_object_set_new(o, k, v)
#define STR(x) json_text((x), (x) ? strlen(x) : 0)
    SET("section", json_integer(id));
    SET("source", STR(d->source));
    SET("title", STR(d->title));
    SET("format", STR(d->format));
    SET("encoding", STR(d->encoding));
    SET("id", STR(d->id));
    SET("metadata", meta ? meta : json_null());
    SET("path", path);
    SET("ordinal", json_integer(s->ordinal));
    SET("start", json_integer((json_int_t)s->start));
    SET("end", json_integer((json_int_t)s->end));
    SET("head_len", json_integer(head_len));
    SET("body_len", json_integer(body_len));
    SET("body", json_text(s->body, s->body_len));
#undef SET
#undef STR
    char *text = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}

/* Groups the sorted tokens into the shim's terms.  Returns 0 and the
 * number of terms in *nterms, or JS_ENOMEM. */
static int make_terms(js_xdoc *b, size_t *nterms)
{
    if (b->ntoks > b->pos_cap) {
        uint32_t *p = realloc(b->pos, b->ntoks * sizeof *p);
        if (!p)
            return JS_ENOMEM;
        b->pos = p;
        b->pos_cap = b->ntoks;
    }
    size_t n = 0;
    for (size_t i = 0; i < b->ntoks;) {
        size_t j = i;
        while (j < b->ntoks && b->toks[j].len == b->toks[i].len &&
               !memcmp(b->bytes.p + b->toks[j].off, b->bytes.p + b->toks[i].off,
                       b->toks[i].len)) {
            b->pos[j] = b->toks[j].pos;
            j++;
        }
        if (n == b->xt_cap) {
            size_t cap = b->xt_cap ? b->xt_cap * 2 : 256;
            js_xterm *x = realloc(b->xt, cap * sizeof *x);
            if (!x)
                return JS_ENOMEM;
            b->xt = x;
            b->xt_cap = cap;
        }
        b->xt[n++] = (js_xterm){(const char *)b->bytes.p + b->toks[i].off,
                                b->toks[i].len, (uint32_t)(j - i), b->pos + i,
                                j - i};
        i = j;
    }
    *nterms = n;
    return 0;
}

/* Sets x's identity and file terms and shard for document d (its
 * canonical source remembered from the last call when d shares it).
 * Returns 0 or JS_ENOMEM. */
static int identify(js_xdoc *x, const js_document *d, unsigned shards)
{
    const char *src = d->source ? d->source : "";
    if (!x->source || strcmp(x->source, src)) {
        free(x->source);
        free(x->canonical);
        x->source = strdup(src);
        x->canonical = js_fields_identity(src);
        if (!x->source || !x->canonical) {
            free(x->source);
            free(x->canonical);
            x->source = x->canonical = NULL;
            return JS_ENOMEM;
        }
        x->file_len = js_xdoc_term('f', x->canonical, strlen(x->canonical),
                                   x->file);
    }
    char kind = d->id ? 'i' : 'p';
    const char *key = d->id ? d->id : x->canonical;
    size_t klen = strlen(key);
    x->ident_len = js_xdoc_term(kind, key, klen, x->ident);
    x->shard = js_xdoc_shard(kind, key, klen, shards);
    return 0;
}

int js_xdoc_make(js_xdoc *x, const js_section *s, unsigned flags, uint32_t id,
                 unsigned shards, const char *stamp, js_xdoc_out *out,
                 const char **what)
{
    int rc;
    *what = "identity";
    if (s->ordinal == 0 || !x->source)
        if ((rc = identify(x, s->document, shards)))
            return rc;
    x->ntoks = 0;
    x->bytes.len = 0;
    uint32_t head_len, body_len;
    const char *field;
    if ((rc = js_fields_analyze(s, flags, on_token, x, &head_len, &body_len,
                                &field))) {
        *what = field;
        return rc;
    }
    *what = "terms";
    if (x->bytes.oom)
        return JS_ENOMEM;
    if (x->ntoks)
        qsort_r(x->toks, x->ntoks, sizeof *x->toks, tok_cmp, x->bytes.p);
    size_t nterms;
    if ((rc = make_terms(x, &nterms)))
        return rc;
    /* the identity and file terms, wdf 0, no positions */
    if (nterms + 2 > x->xt_cap) {
        size_t cap = nterms + 2;
        js_xterm *n = realloc(x->xt, cap * sizeof *n);
        if (!n)
            return JS_ENOMEM;
        x->xt = n;
        x->xt_cap = cap;
    }
    x->xt[nterms] = (js_xterm){x->ident, x->ident_len, 0, NULL, 0};
    x->xt[nterms + 1] = (js_xterm){x->file, x->file_len, 0, NULL, 0};
    *what = "data";
    free(x->data);
    if (!(x->data = section_data(s, id, head_len, body_len)))
        return JS_ENOMEM;
    x->section_be[0] = (char)(id >> 24);
    x->section_be[1] = (char)(id >> 16);
    x->section_be[2] = (char)(id >> 8);
    x->section_be[3] = (char)id;
    snprintf(x->counts, sizeof x->counts, "%zu %zu %zu %d %016" PRIx64, nterms,
             x->ntoks, s->body_len, s->ordinal == 0,
             js_xdoc_fnv(JS_FNV_INIT, x->ident, x->ident_len));
    *out = (js_xdoc_out){
        .terms = x->xt, .nterms = nterms + 2,
        .values = {{JS_XSLOT_SECTION, x->section_be, 4},
                   {JS_XSLOT_COUNTS, x->counts, strlen(x->counts)},
                   {JS_XSLOT_STAMP, stamp, stamp ? strlen(stamp) : 0}},
        .nvalues = 3,
        .data = x->data, .data_len = strlen(x->data),
        .postings = nterms, .positions = x->ntoks, .text_bytes = s->body_len,
        .identity = x->ident, .identity_len = x->ident_len,
        .file = x->file, .file_len = x->file_len,
        .canonical = x->canonical, .shard = x->shard,
    };
    return 0;
}
