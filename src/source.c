/*
 * source.c — one document's bytes, as a stream of UTF-8 lines or chunks.
 *
 * In:  a file descriptor or a memory buffer, holding text that may be
 *      gzip-compressed and may be in UTF-8 (with or without BOM), UTF-16
 *      (with BOM), GB18030/GBK/GB2312 or Big5.
 * Out: js_source_line / js_source_chunk (ingest.h): UTF-8 text with line
 *      numbers and byte offsets into that UTF-8 text.
 *
 * Layers, each pulling from the one below, 64 KiB at a time so memory
 * stays bounded whatever the file size:
 *   raw      read(2) or memcpy, then zlib inflate when the data starts
 *            with the gzip magic (several members, truncation reported);
 *   convert  iconv to UTF-8, or validation only when already UTF-8;
 *   lines    split on \n, \r\n or \r; lines over JS_LINE_MAX_BYTES come
 *            back in pieces.
 *
 * Encoding detection looks at the first 64 KiB: a BOM; else valid UTF-8
 * (any text that holds non-ASCII characters and decodes as UTF-8 is UTF-8,
 * since legacy Chinese encodings almost never do); else an HTML/XML
 * charset declaration the bytes agree with; else GB18030 and Big5 both
 * tried with iconv, and between two that decode, Big5 when more than a
 * tenth of its two-byte characters have a trail byte in 0x40..0x7E (Big5
 * uses that range for two fifths of its characters, GB2312 never).  Data
 * that fits none is reported and not indexed, rather than indexed as
 * garbage.  A NUL byte in the first 8 KiB means a binary file.
 */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <zlib.h>

#include "ingest.h"
#include "source.h"
#include "utf8.h"

#define BLOCK (64u * 1024)
#define SNIFF BLOCK
#define CHUNK BLOCK

struct js_source {
    char *name;
    js_sink *sink;
    /* raw layer */
    int fd;                  /* -1: memory */
    const unsigned char *mem;
    size_t mem_len, mem_pos;
    uint64_t disk_bytes;     /* bytes read from disk or memory */
    int gzip, z_done, raw_eof;
    z_stream zs;
    unsigned char *zin;      /* compressed input block */
    uint64_t stored;         /* bytes delivered by the raw layer */
    /* convert layer: stored bytes not yet converted */
    unsigned char *pend;
    size_t pend_len, pend_cap;
    uint64_t pend_offset;    /* stored offset of pend[0] */
    iconv_t cd;              /* (iconv_t)-1: UTF-8 passthrough */
    const char *encoding;
    uint64_t bad_count, bad_first;
    int bad_reported;
    /* decoded UTF-8 */
    char *buf;
    size_t len, pos, cap;
    uint64_t buf_offset;     /* decoded offset of buf[0] */
    int eof;                 /* nothing more will be appended to buf */
    /* the last line or chunk returned */
    uint64_t lineno, off, end_off;
    int in_long_line;        /* the last piece did not end the line */
    int long_reported;
    size_t saved_at;         /* where a NUL was written over a byte ... */
    char saved;              /* ... and that byte */
    int have_saved;
};

const char *js_source_name(const js_source *src) { return src->name; }
uint64_t js_source_lineno(const js_source *src) { return src->lineno; }
uint64_t js_source_offset(const js_source *src) { return src->off; }
uint64_t js_source_end_offset(const js_source *src) { return src->end_off; }
const char *js_source_encoding(const js_source *src) { return src->encoding; }
uint64_t js_source_disk_bytes(const js_source *src) { return src->disk_bytes; }

/* Reads up to n bytes of stored data from the file or memory, before
 * gunzip.  Returns the count (0 at the end) or JS_EIO after a warning. */
static long raw_read_disk(js_source *src, unsigned char *out, size_t n)
{
    if (src->fd < 0) {
        size_t k = src->mem_len - src->mem_pos;
        if (k > n)
            k = n;
        memcpy(out, src->mem + src->mem_pos, k);
        src->mem_pos += k;
        src->disk_bytes += k;
        return (long)k;
    }
    for (;;) {
        ssize_t r = read(src->fd, out, n);
        if (r >= 0) {
            src->disk_bytes += (uint64_t)r;
            return (long)r;
        }
        if (errno == EINTR)
            continue;
        js_sink_warn(src->sink, 0, src->disk_bytes, "read error: %s",
                     strerror(errno));
        return JS_EIO;
    }
}

/* Reads up to n bytes of the stored (decompressed) text.  Returns the
 * count, 0 at the end, or a negative JS_E* code.  Damaged gzip data ends
 * the text where the damage starts, with a warning: what came before is
 * kept. */
static long raw_read(js_source *src, unsigned char *out, size_t n)
{
    if (src->raw_eof)
        return 0;
    if (!src->gzip) {
        long r = raw_read_disk(src, out, n);
        if (r <= 0)
            src->raw_eof = 1;
        if (r > 0)
            src->stored += (uint64_t)r;
        return r;
    }
    src->zs.next_out = out;
    src->zs.avail_out = (uInt)n;
    while (src->zs.avail_out == n) {
        if (src->zs.avail_in == 0) {
            long r = raw_read_disk(src, src->zin, BLOCK);
            if (r < 0) {
                src->raw_eof = 1;
                return r;
            }
            if (r == 0) {
                if (!src->z_done)
                    js_sink_warn(src->sink, 0, src->stored,
                                 "truncated gzip data: the text ends at "
                                 "byte %llu of the decompressed data",
                                 (unsigned long long)src->stored);
                src->raw_eof = 1;
                break;
            }
            src->zs.next_in = src->zin;
            src->zs.avail_in = (uInt)r;
        }
        if (src->z_done) {
            /* Another gzip member follows the one that ended. */
            if (inflateReset(&src->zs) != Z_OK)
                return JS_ENOMEM;
            src->z_done = 0;
        }
        int zr = inflate(&src->zs, Z_NO_FLUSH);
        if (zr == Z_STREAM_END) {
            src->z_done = 1;
        } else if (zr == Z_NEED_DICT || zr == Z_DATA_ERROR ||
                   zr == Z_STREAM_ERROR) {
            js_sink_warn(src->sink, 0, src->stored + (n - src->zs.avail_out),
                         "corrupt gzip data (%s): the text ends here",
                         src->zs.msg ? src->zs.msg : "invalid data");
            src->raw_eof = 1;
            break;
        } else if (zr == Z_MEM_ERROR) {
            return JS_ENOMEM;
        }
    }
    size_t got = n - src->zs.avail_out;
    src->stored += got;
    return (long)got;
}

/* Grows a buffer to hold at least `need` bytes.  Returns 0 or JS_ENOMEM. */
static int grow(void *pp, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : BLOCK;
    while (c < need)
        c *= 2;
    char *p = realloc(*(char **)pp, c);
    if (!p)
        return JS_ENOMEM;
    *(char **)pp = p;
    *cap = c;
    return 0;
}

/* Appends up to `want` more stored bytes to pend.  Returns the number
 * added (0 at the end) or a negative JS_E* code. */
static long fill_pend(js_source *src, size_t want)
{
    if (grow(&src->pend, &src->pend_cap, src->pend_len + want))
        return JS_ENOMEM;
    long r = raw_read(src, src->pend + src->pend_len, want);
    if (r > 0)
        src->pend_len += (size_t)r;
    return r;
}

static void note_bad(js_source *src, uint64_t stored_offset, uint64_t n)
{
    if (src->bad_count == 0)
        src->bad_first = stored_offset;
    src->bad_count += n;
}

/* Converts what pend holds into buf.  At the end of the data (`final`),
 * an incomplete trailing sequence counts as invalid.  Returns 0 or
 * JS_ENOMEM. */
static int convert(js_source *src, int final)
{
    size_t used = 0;
    if (src->cd == (iconv_t)-1) {
        /* UTF-8 already: copy what is complete, and count bad bytes (they
         * stay in the text; the text pipeline separates on them). */
        size_t n = src->pend_len, i = 0, keep = 0;
        while (i < n) {
            unsigned char c = src->pend[i];
            if (c < 0x80) {
                i++;
                continue;
            }
            uint32_t cp;
            size_t l = js_utf8_decode(src->pend + i, n - i, &cp);
            if (cp == JS_UTF8_INVALID) {
                /* Could be a sequence cut by the block boundary. */
                size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
                if (!final && n - i < need && c >= 0xC2 && c <= 0xF4) {
                    int ok = 1;
                    for (size_t k = i + 1; k < n; k++)
                        ok &= (src->pend[k] & 0xC0) == 0x80;
                    if (ok) {
                        keep = n - i;
                        break;
                    }
                }
                note_bad(src, src->pend_offset + i, 1);
            }
            i += l;
        }
        used = n - keep;
        if (grow(&src->buf, &src->cap, src->len + used + 1))
            return JS_ENOMEM;
        memcpy(src->buf + src->len, src->pend, used);
        src->len += used;
    } else {
        char *in = (char *)src->pend;
        size_t inleft = src->pend_len;
        while (inleft > 0) {
            if (grow(&src->buf, &src->cap, src->len + inleft * 2 + 8))
                return JS_ENOMEM;
            char *out = src->buf + src->len;
            size_t outleft = src->cap - src->len - 1;
            size_t r = iconv(src->cd, &in, &inleft, &out, &outleft);
            src->len = (size_t)(out - src->buf);
            if (r != (size_t)-1)
                break;
            if (errno == E2BIG)
                continue;
            if (errno == EINVAL && !final)
                break; /* incomplete sequence: wait for more bytes */
            /* EILSEQ, or EINVAL at the end: replace one byte by U+FFFD. */
            note_bad(src, src->pend_offset + (uint64_t)(in - (char *)src->pend),
                     1);
            if (grow(&src->buf, &src->cap, src->len + 4))
                return JS_ENOMEM;
            memcpy(src->buf + src->len, "\xEF\xBF\xBD", 3);
            src->len += 3;
            in++;
            inleft--;
            iconv(src->cd, NULL, NULL, NULL, NULL);
        }
        used = src->pend_len - inleft;
    }
    memmove(src->pend, src->pend + used, src->pend_len - used);
    src->pend_len -= used;
    src->pend_offset += used;
    return 0;
}

/* Makes more decoded text available in buf (after compacting it).
 * Returns 1 if text was added, 0 at the end, or a negative JS_E* code. */
static int fill(js_source *src)
{
    if (src->eof)
        return 0;
    if (src->pos > 0) {
        memmove(src->buf, src->buf + src->pos, src->len - src->pos);
        src->len -= src->pos;
        src->buf_offset += src->pos;
        src->pos = 0;
    }
    size_t before = src->len;
    while (src->len == before) {
        long r = fill_pend(src, BLOCK);
        if (r < 0)
            return (int)r;
        int rc = convert(src, r == 0);
        if (rc)
            return rc;
        if (r == 0) {
            src->eof = 1;
            if (src->bad_count && !src->bad_reported) {
                src->bad_reported = 1;
                if (src->cd == (iconv_t)-1)
                    js_sink_warn(src->sink, 0, src->bad_first,
                                 "%llu bytes of invalid UTF-8 (the first at "
                                 "byte %llu) are treated as separators",
                                 (unsigned long long)src->bad_count,
                                 (unsigned long long)src->bad_first);
                else
                    js_sink_warn(src->sink, 0, src->bad_first,
                                 "%llu bytes invalid in %s (the first at "
                                 "byte %llu) were replaced by U+FFFD",
                                 (unsigned long long)src->bad_count,
                                 src->encoding,
                                 (unsigned long long)src->bad_first);
            }
            break;
        }
    }
    return src->len > before;
}

/* Restores the byte that the last returned line's NUL terminator hid. */
static void unsave(js_source *src)
{
    if (src->have_saved) {
        src->buf[src->saved_at] = src->saved;
        src->have_saved = 0;
    }
}

int js_source_line(js_source *src, const char **line, size_t *len)
{
    unsave(src);
    size_t scan = 0; /* bytes of the current line already scanned */
    for (;;) {
        char *start = src->buf + src->pos;
        size_t avail = src->len - src->pos;
        /* one byte past the limit: a line of exactly the limit ends
         * there */
        size_t lim = avail <= JS_LINE_MAX_BYTES ? avail : JS_LINE_MAX_BYTES + 1;
        size_t i = scan;
        while (i < lim && start[i] != '\n' && start[i] != '\r')
            i++;
        int found = i < lim;
        if (found && start[i] == '\r' && i + 1 == avail && !src->eof) {
            found = 0; /* a \r at the end: \r\n may be split */
            i = i > 0 ? i - 1 : 0;
        }
        if (!found && avail <= JS_LINE_MAX_BYTES && !src->eof) {
            scan = i;
            int r = fill(src);
            if (r < 0)
                return r;
            continue;
        }
        if (avail == 0)
            return 0;
        size_t n, term;
        if (found) {
            n = i;
            term = (start[i] == '\r' && i + 1 < avail && start[i + 1] == '\n')
                       ? 2
                       : 1;
        } else if (avail > JS_LINE_MAX_BYTES) {
            n = js_utf8_floor(start, avail, JS_LINE_MAX_BYTES);
            if (n == 0)
                n = JS_LINE_MAX_BYTES;
            term = 0;
        } else {
            n = avail; /* the last line has no terminator */
            term = 0;
        }
        if (!src->in_long_line)
            src->lineno++;
        /* cut for length: no terminator, and input left after it */
        if (term == 0 && n < avail) {
            if (!src->long_reported) {
                src->long_reported = 1;
                js_sink_warn(src->sink, src->lineno,
                             src->buf_offset + src->pos,
                             "line longer than %u bytes: read in pieces",
                             JS_LINE_MAX_BYTES);
            }
            src->in_long_line = 1;
        } else {
            src->in_long_line = 0;
        }
        src->off = src->buf_offset + src->pos;
        src->end_off = src->off + n + term;
        /* NUL-terminate in place, remembering the byte it hides. */
        if (grow(&src->buf, &src->cap, src->len + 1))
            return JS_ENOMEM;
        start = src->buf + src->pos;
        src->saved_at = src->pos + n;
        src->saved = src->buf[src->saved_at];
        src->have_saved = src->saved_at < src->len;
        start[n] = 0;
        src->pos += n + term;
        *line = start;
        *len = n;
        return 1;
    }
}

int js_source_chunk(js_source *src, const char **data, size_t *len)
{
    unsave(src);
    if (src->len - src->pos < CHUNK && !src->eof) {
        int r = fill(src);
        if (r < 0)
            return r;
    }
    size_t avail = src->len - src->pos;
    if (avail == 0)
        return 0;
    size_t n = avail <= CHUNK ? avail : js_utf8_floor(src->buf + src->pos, avail, CHUNK);
    if (n == 0)
        n = avail < CHUNK ? avail : CHUNK;
    char *start = src->buf + src->pos;
    src->lineno = src->lineno ? src->lineno : 1;
    src->off = src->buf_offset + src->pos;
    src->end_off = src->off + n;
    if (grow(&src->buf, &src->cap, src->len + 1))
        return JS_ENOMEM;
    start = src->buf + src->pos;
    src->saved_at = src->pos + n;
    src->saved = src->buf[src->saved_at];
    src->have_saved = src->saved_at < src->len;
    start[n] = 0;
    for (size_t i = 0; i < n; i++) /* the next chunk's line number */
        if (start[i] == '\n')
            src->lineno++;
    src->pos += n;
    *data = start;
    *len = n;
    return 1;
}

int js_source_peek(js_source *src, const char **head, size_t *len)
{
    unsave(src);
    while (src->len - src->pos < JS_SOURCE_PEEK && !src->eof) {
        int r = fill(src);
        if (r < 0)
            return r;
        if (r == 0)
            break;
    }
    size_t n = src->len - src->pos;
    if (n > JS_SOURCE_PEEK)
        n = js_utf8_floor(src->buf + src->pos, n, JS_SOURCE_PEEK);
    *head = src->buf + src->pos;
    *len = n;
    return 0;
}

/* Maps a charset label (HTML, XML or --encoding) to the iconv name we
 * use, or NULL when we do not support it. */
const char *js_source_charset(const char *label, size_t n)
{
    static const struct {
        const char *label, *name;
    } map[] = {
        {"utf-8", "UTF-8"},       {"utf8", "UTF-8"},
        {"gb18030", "GB18030"},   {"gbk", "GB18030"},
        {"gb2312", "GB18030"},    {"x-gbk", "GB18030"},
        {"euc-cn", "GB18030"},    {"cp936", "GB18030"},
        {"big5", "BIG5"},         {"x-x-big5", "BIG5"},
        {"cp950", "BIG5"},        {"big5-hkscs", "BIG5-HKSCS"},
        {"utf-16le", "UTF-16LE"}, {"utf-16be", "UTF-16BE"},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strlen(map[i].label) == n && !strncasecmp(label, map[i].label, n))
            return map[i].name;
    return NULL;
}

/* Looks for charset=NAME (HTML meta, XML declaration's encoding="NAME")
 * in the head.  Returns our iconv name or NULL. */
static const char *declared_charset(const unsigned char *h, size_t n)
{
    static const char *const keys[] = {"charset=", "encoding="};
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 2; k++) {
            size_t kl = strlen(keys[k]);
            if (n - i < kl || strncasecmp((const char *)h + i, keys[k], kl))
                continue;
            size_t j = i + kl;
            while (j < n && (h[j] == '"' || h[j] == '\'' || h[j] == ' '))
                j++;
            size_t e = j;
            while (e < n && (h[e] == '-' || h[e] == '_' ||
                             (h[e] >= '0' && h[e] <= '9') ||
                             ((h[e] | 0x20) >= 'a' && (h[e] | 0x20) <= 'z')))
                e++;
            const char *cs = js_source_charset((const char *)h + j, e - j);
            if (cs)
                return cs;
        }
    }
    return NULL;
}

/* Returns 1 if iconv decodes h[0..n) from `enc` without error (ignoring
 * an incomplete sequence at the very end when `partial`). */
static int decodes_as(const char *enc, const unsigned char *h, size_t n,
                      int partial)
{
    iconv_t cd = iconv_open("UTF-8", enc);
    if (cd == (iconv_t)-1)
        return 0;
    char out[4096];
    char *in = (char *)h;
    size_t inleft = n;
    int ok = 1;
    while (inleft > 0) {
        char *o = out;
        size_t ol = sizeof out;
        if (iconv(cd, &in, &inleft, &o, &ol) != (size_t)-1)
            break;
        if (errno == E2BIG)
            continue;
        ok = errno == EINVAL && partial;
        break;
    }
    iconv_close(cd);
    return ok;
}

/* Share of Big5-style trail bytes (0x40..0x7E) among two-byte characters
 * of the head, scanned as a double-byte encoding. */
static double low_trail_share(const unsigned char *h, size_t n)
{
    size_t pairs = 0, low = 0;
    for (size_t i = 0; i + 1 < n;) {
        if (h[i] < 0x81) {
            i++;
            continue;
        }
        pairs++;
        low += h[i + 1] >= 0x40 && h[i + 1] <= 0x7E;
        i += 2;
    }
    return pairs ? (double)low / (double)pairs : 0.0;
}

/* Decides the encoding of the head of the stored data.  Returns the iconv
 * name, or NULL when none fits. */
static const char *detect(const unsigned char *h, size_t n, int partial,
                          size_t *bom)
{
    *bom = 0;
    if (n >= 3 && h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF) {
        *bom = 3;
        return "UTF-8";
    }
    if (n >= 2 && h[0] == 0xFF && h[1] == 0xFE) {
        *bom = 2;
        return "UTF-16LE";
    }
    if (n >= 2 && h[0] == 0xFE && h[1] == 0xFF) {
        *bom = 2;
        return "UTF-16BE";
    }
    /* Valid UTF-8 (allowing a sequence cut at the end of the window). */
    size_t i = 0, bad = 0, nonascii = 0;
    while (i < n) {
        uint32_t cp;
        size_t l = js_utf8_decode(h + i, n - i, &cp);
        if (cp == JS_UTF8_INVALID) {
            /* A sequence cut at the end of the window, or of a truncated
             * file, says nothing against UTF-8. */
            if (n - i >= 4)
                bad++;
        } else if (cp >= 0x80) {
            nonascii++;
        }
        i += l;
    }
    if (bad == 0)
        return "UTF-8"; /* includes pure ASCII */
    /* Mostly UTF-8 with a few bad bytes is UTF-8 (reported later): UTF-8
     * Chinese text often also "decodes" as GB18030 pair by pair. */
    if (nonascii > 0 && bad * 100 < nonascii)
        return "UTF-8";
    const char *decl = declared_charset(h, n < 4096 ? n : 4096);
    if (decl && strcmp(decl, "UTF-8") && decodes_as(decl, h, n, partial))
        return decl;
    int gb = decodes_as("GB18030", h, n, partial);
    int b5 = decodes_as("BIG5", h, n, partial);
    if (gb && b5)
        return low_trail_share(h, n) > 0.10 ? "BIG5" : "GB18030";
    if (b5)
        return "BIG5";
    if (gb)
        return "GB18030";
    return NULL;
}

int js_source_open(js_source **out, const char *name, int fd,
                   const void *data, size_t len, const char *encoding,
                   js_sink *sink)
{
    js_source *src = calloc(1, sizeof *src);
    if (!src || !(src->name = strdup(name))) {
        free(src);
        return JS_ENOMEM;
    }
    src->sink = sink;
    src->fd = fd;
    src->mem = data;
    src->mem_len = len;
    src->cd = (iconv_t)-1;
    int rc;
    /* buf is never NULL, even for an empty file: the readers compute
     * buf + pos, and NULL + 0 is undefined behaviour. */
    if (grow(&src->buf, &src->cap, 1)) {
        rc = JS_ENOMEM;
        goto fail;
    }

    /* gzip? Look at the first two stored bytes. */
    unsigned char magic[2];
    long r = raw_read_disk(src, magic, 2);
    if (r < 0) {
        rc = (int)r;
        goto fail;
    }
    if (r == 2 && magic[0] == 0x1F && magic[1] == 0x8B) {
        src->gzip = 1;
        if (!(src->zin = malloc(BLOCK)) ||
            inflateInit2(&src->zs, 15 + 16) != Z_OK) {
            free(src->zin);
            src->zin = NULL;
            rc = JS_ENOMEM;
            goto fail;
        }
        memcpy(src->zin, magic, 2);
        src->zs.next_in = src->zin;
        src->zs.avail_in = 2;
    } else if (r > 0) {
        if (grow(&src->pend, &src->pend_cap, BLOCK)) {
            rc = JS_ENOMEM;
            goto fail;
        }
        memcpy(src->pend, magic, (size_t)r);
        src->pend_len = (size_t)r;
        src->stored = (uint64_t)r;
    }
    /* Sniff the first 64 KiB. */
    while (src->pend_len < SNIFF && !src->raw_eof) {
        r = fill_pend(src, SNIFF - src->pend_len);
        if (r < 0) {
            rc = (int)r;
            goto fail;
        }
        if (r == 0)
            break;
    }
    size_t bom = 0;
    const char *enc;
    if (encoding) {
        enc = js_source_charset(encoding, strlen(encoding));
        if (!enc)
            enc = encoding; /* any name iconv knows */
    } else {
        enc = detect(src->pend, src->pend_len, !src->raw_eof, &bom);
        if (!enc) {
            js_sink_warn(src->sink, 0, UINT64_MAX,
                         "cannot determine the text encoding (not UTF-8, "
                         "GB18030/GBK or Big5): not indexed; use --encoding "
                         "to force one");
            rc = JS_EENCODING;
            goto fail;
        }
    }
    if (strncmp(enc, "UTF-16", 6)) {
        size_t scan = src->pend_len < 8192 ? src->pend_len : 8192;
        const unsigned char *nul = memchr(src->pend, 0, scan);
        if (nul) {
            js_sink_warn(src->sink, 0, (uint64_t)(nul - src->pend),
                         "binary file (NUL byte at byte %llu): not indexed",
                         (unsigned long long)(nul - src->pend));
            rc = JS_EINVALID;
            goto fail;
        }
    }
    if (!encoding && !bom && src->pend_len >= 3 && src->pend[0] == 0xEF &&
        src->pend[1] == 0xBB && src->pend[2] == 0xBF)
        bom = 3;
    if (bom) { /* the BOM is not text: offsets start after it */
        memmove(src->pend, src->pend + bom, src->pend_len - bom);
        src->pend_len -= bom;
        src->pend_offset = bom;
    }
    if (strcmp(enc, "UTF-8")) {
        src->cd = iconv_open("UTF-8", enc);
        if (src->cd == (iconv_t)-1) {
            js_sink_warn(src->sink, 0, UINT64_MAX,
                         "unknown encoding '%s': not indexed", enc);
            rc = JS_EINVALID;
            goto fail;
        }
    }
    src->encoding = enc;
    *out = src;
    return 0;
fail:
    js_source_close(src);
    return rc;
}

void js_source_close(js_source *src)
{
    if (!src)
        return;
    if (src->gzip)
        inflateEnd(&src->zs);
    if (src->cd != (iconv_t)-1)
        iconv_close(src->cd);
    free(src->zin);
    free(src->pend);
    free(src->buf);
    free(src->name);
    free(src);
}
