/*
 * check_source.c — source.c: gzip, encoding detection and conversion, the
 * line and chunk readers.
 *
 * GBK, Big5 and UTF-16 inputs are made at test time with iconv(3) from
 * UTF-8 sentences written here, gzip inputs with zlib.
 */
#include "config.h"

#include <check.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "sink.h"
#include "source.h"
#include "testutil.h"

static const char *zh_trad =
    "第一章 總則\n\n這是一個用來測試編碼偵測的段落，內容由我們自己撰寫。"
    "臺灣的書籍與報紙常用繁體字，例如學院、圖書館與電腦。\n";
static const char *zh_simp =
    "第一章 总则\n\n这是一个用来测试编码检测的段落，内容由我们自己撰写。"
    "简体中文的文件常用国标码，例如学院、图书馆与电脑。\n";

/* Converts UTF-8 s to `enc` with iconv; returns a malloc'ed buffer (the
 * caller frees) and its length in *n. */
static char *to_enc(const char *s, const char *enc, size_t *n)
{
    iconv_t cd = iconv_open(enc, "UTF-8");
    ck_assert(cd != (iconv_t)-1);
    size_t inleft = strlen(s), cap = inleft * 4 + 16, outleft = cap;
    char *out = malloc(cap), *o = out, *in = (char *)s;
    ck_assert(iconv(cd, &in, &inleft, &o, &outleft) != (size_t)-1);
    iconv_close(cd);
    *n = cap - outleft;
    return out;
}

/* gzip-compresses data; returns a malloc'ed buffer and its length. */
static unsigned char *gzip_bytes(const char *data, size_t len, size_t *n)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    ck_assert(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8,
                           Z_DEFAULT_STRATEGY) == Z_OK);
    size_t cap = deflateBound(&zs, (uLong)len) + 64;
    unsigned char *out = malloc(cap);
    zs.next_in = (unsigned char *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    ck_assert(deflate(&zs, Z_FINISH) == Z_STREAM_END);
    *n = zs.total_out;
    deflateEnd(&zs);
    return out;
}

typedef struct {
    char log[2048];
    int n;
} warnings;

static void collect(void *ctx, const char *file, uint64_t line,
                    uint64_t offset, const char *msg)
{
    warnings *w = ctx;
    (void)file;
    size_t l = strlen(w->log);
    snprintf(w->log + l, sizeof w->log - l, "%llu:%lld:%s\n",
             (unsigned long long)line,
             offset == UINT64_MAX ? -1LL : (long long)offset, msg);
    w->n++;
}

/* Opens data as a source and reads it all as lines; returns the lines
 * joined by '|' (caller frees) and stores the encoding, open result and
 * warnings. */
static char *read_all(const void *data, size_t len, const char *force,
                      const char **enc, int *rc, warnings *w)
{
    js_ingest_stats st = {0};
    js_sink *k = js_sink_new(collect, w, &st);
    ck_assert_ptr_nonnull(k);
    js_sink_begin_file(k, "mem.txt", NULL, NULL);
    js_source *src = NULL;
    *rc = js_source_open(&src, "mem.txt", -1, data, len, force, k);
    tu_render r = {0};
    tu_appendf(&r, "%s", "");
    if (*rc == 0) {
        *enc = js_source_encoding(src);
        const char *line;
        size_t n;
        int got, first = 1;
        while ((got = js_source_line(src, &line, &n)) == 1) {
            ck_assert_uint_eq(strlen(line), n); /* NUL-terminated */
            tu_appendf(&r, "%s%s", first ? "" : "|", line);
            first = 0;
        }
        ck_assert_int_eq(got, 0);
    }
    js_source_close(src);
    js_sink_free(k);
    return r.buf;
}

START_TEST(test_utf8_plain)
{
    warnings w = {{0}, 0};
    const char *enc = NULL;
    int rc;
    char *got = read_all(zh_trad, strlen(zh_trad), NULL, &enc, &rc, &w);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(enc, "UTF-8");
    ck_assert(strstr(got, "第一章 總則||這是") != NULL);
    ck_assert_int_eq(w.n, 0);
    free(got);
}
END_TEST

static const struct {
    const char *text, *enc, *want;
} legacy_cases[] = {
    {NULL, "BIG5", "BIG5"},    /* zh_trad */
    {NULL, "GBK", "GB18030"},  /* zh_simp */
    {NULL, "GB18030", "GB18030"},
    {NULL, "GB2312", "GB18030"},
    {NULL, "UTF-16LE", NULL},  /* no BOM: not detectable */
};

START_TEST(test_legacy_detected)
{
    const char *text = _i == 0 ? zh_trad : zh_simp;
    size_t n;
    char *bytes = to_enc(text, legacy_cases[_i].enc, &n);
    warnings w = {{0}, 0};
    const char *enc = NULL;
    int rc;
    char *got = read_all(bytes, n, NULL, &enc, &rc, &w);
    if (!legacy_cases[_i].want) {
        ck_assert_int_ne(rc, 0); /* binary (NULs) or undetectable */
        ck_assert_int_eq(w.n, 1);
    } else {
        ck_assert_int_eq(rc, 0);
        ck_assert_str_eq(enc, legacy_cases[_i].want);
        /* Converted back to exactly the UTF-8 we started from. */
        char *want = strdup(text);
        for (char *p = want; *p; p++)
            if (*p == '\n')
                *p = '|';
        want[strlen(want) - 1] = 0; /* the final newline ends a line */
        ck_assert_str_eq(got, want);
        free(want);
        ck_assert_int_eq(w.n, 0);
    }
    free(bytes);
    free(got);
}
END_TEST

START_TEST(test_forced_encoding)
{
    size_t n;
    char *bytes = to_enc(zh_simp, "GBK", &n);
    warnings w = {{0}, 0};
    const char *enc = NULL;
    int rc;
    char *got = read_all(bytes, n, "gbk", &enc, &rc, &w);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(enc, "GB18030");
    ck_assert(strstr(got, "总则") != NULL);
    free(got);
    /* Forcing the wrong one: converted with replacements, and reported. */
    memset(&w, 0, sizeof w);
    got = read_all(bytes, n, "utf-8", &enc, &rc, &w);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(w.n, 1);
    ck_assert(strstr(w.log, "invalid UTF-8") != NULL);
    free(got);
    free(bytes);
}
END_TEST

START_TEST(test_boms)
{
    warnings w = {{0}, 0};
    const char *enc;
    int rc;
    char *got = read_all("\xEF\xBB\xBF中文\nabc", 13, NULL, &enc, &rc, &w);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(enc, "UTF-8");
    ck_assert_str_eq(got, "中文|abc");
    free(got);
    size_t n;
    char *u16 = to_enc("\xEF\xBB\xBF中文\n", "UTF-16LE", &n);
    got = read_all(u16, n, NULL, &enc, &rc, &w);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(enc, "UTF-16LE");
    ck_assert_str_eq(got, "中文");
    free(got);
    free(u16);
}
END_TEST

START_TEST(test_html_meta_charset)
{
    /* Big5 bytes that would also decode as GB18030: the declaration
     * decides. */
    char html[512];
    size_t n;
    char *b5 = to_enc("<p>資料</p>", "BIG5", &n);
    int len = snprintf(html, sizeof html,
                       "<html><head><meta charset=\"big5\"></head><body>%.*s",
                       (int)n, b5);
    warnings w = {{0}, 0};
    const char *enc;
    int rc;
    char *got = read_all(html, (size_t)len, NULL, &enc, &rc, &w);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(enc, "BIG5");
    ck_assert(strstr(got, "資料") != NULL);
    free(got);
    free(b5);
}
END_TEST

START_TEST(test_binary_and_garbage)
{
    warnings w = {{0}, 0};
    const char *enc;
    int rc;
    char *got = read_all("abc\0def", 7, NULL, &enc, &rc, &w);
    ck_assert_int_eq(rc, JS_EINVALID);
    ck_assert(strstr(w.log, "0:3:binary file (NUL byte at byte 3)") != NULL);
    free(got);
    /* Bytes that are valid in none of the encodings. */
    unsigned char junk[256];
    for (int i = 0; i < 256; i++)
        junk[i] = (unsigned char)(0x80 | ((i * 37) & 0x7F)) | 1;
    junk[255] = 0xFF;
    memset(&w, 0, sizeof w);
    got = read_all(junk, sizeof junk, NULL, &enc, &rc, &w);
    ck_assert_int_eq(rc, JS_EENCODING);
    ck_assert(strstr(w.log, "cannot determine the text encoding") != NULL);
    free(got);
}
END_TEST

START_TEST(test_line_endings)
{
    warnings w = {{0}, 0};
    const char *enc;
    int rc;
    char *got = read_all("a\r\nb\rc\n\nd", 9, NULL, &enc, &rc, &w);
    ck_assert_str_eq(got, "a|b|c||d");
    free(got);
    got = read_all("", 0, NULL, &enc, &rc, &w);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(got, "");
    free(got);
}
END_TEST

START_TEST(test_gzip_and_truncated)
{
    size_t n;
    unsigned char *gz = gzip_bytes(zh_trad, strlen(zh_trad), &n);
    warnings w = {{0}, 0};
    const char *enc;
    int rc;
    char *got = read_all(gz, n, NULL, &enc, &rc, &w);
    ck_assert_int_eq(rc, 0);
    ck_assert(strstr(got, "第一章 總則") != NULL);
    ck_assert_int_eq(w.n, 0);
    free(got);
    /* Two members in a row (as `cat a.gz b.gz` makes). */
    unsigned char *two = malloc(2 * n);
    memcpy(two, gz, n);
    memcpy(two + n, gz, n);
    got = read_all(two, 2 * n, NULL, &enc, &rc, &w);
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(strstr(strstr(got, "總則") + 1, "總則"));
    free(got);
    free(two);
    /* Truncated: what came before the cut is kept, and reported. */
    got = read_all(gz, n - 12, NULL, &enc, &rc, &w);
    ck_assert_int_eq(rc, 0);
    ck_assert(strstr(w.log, "truncated gzip data") != NULL);
    free(got);
    /* Corrupt deflate data. */
    memset(&w, 0, sizeof w);
    gz[n / 2] ^= 0x55;
    gz[n / 2 + 1] ^= 0xAA;
    got = read_all(gz, n, NULL, &enc, &rc, &w);
    ck_assert_int_ge(w.n, 1);
    free(got);
    free(gz);
}
END_TEST

/* A line longer than JS_LINE_MAX_BYTES comes back in pieces on character
 * boundaries, each piece counted as the same line, with one warning;
 * from memory or from a file (whose buffer can fill to exactly the
 * limit: a line of one-byte characters was then taken for a complete
 * last line, without a warning, and its rest counted as line 2), with a
 * line after it or ending the input. */
typedef struct {
    const char *ch; /* the character repeated */
    int from_file, tail;
    size_t chars;   /* 0: the limit's worth and 1,000 more */
    int pieces;     /* the line comes back in this many */
} long_case;

static const long_case long_cases[] = {
    {"長", 0, 1, 0, 2}, {"長", 1, 1, 0, 2}, {"a", 0, 1, 0, 2},
    {"a", 1, 1, 0, 2},  {"長", 1, 0, 0, 2}, {"a", 1, 0, 0, 2},
    {"a", 0, 0, 0, 2},
    /* exactly the limit: one piece, no warning */
    {"a", 1, 1, JS_LINE_MAX_BYTES, 1}, {"a", 1, 0, JS_LINE_MAX_BYTES, 1},
    {"a", 0, 1, JS_LINE_MAX_BYTES, 1}, {"a", 1, 1, JS_LINE_MAX_BYTES + 1, 2},
};

START_TEST(test_long_line_pieces)
{
    const long_case *c = &long_cases[_i];
    size_t cl = strlen(c->ch);
    size_t chars = c->chars ? c->chars : JS_LINE_MAX_BYTES / cl + 1000;
    size_t len = chars * cl + (c->tail ? 4 : 0);
    char *data = malloc(len);
    for (size_t i = 0; i < chars; i++)
        memcpy(data + cl * i, c->ch, cl);
    if (c->tail)
        memcpy(data + chars * cl, "\nok\n", 4);
    int fd = -1;
    if (c->from_file) {
        char path[] = "/tmp/jiansuo-long-XXXXXX";
        fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        unlink(path);
        ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
        ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    }
    js_ingest_stats st = {0};
    warnings w = {{0}, 0};
    js_sink *k = js_sink_new(collect, &w, &st);
    js_sink_begin_file(k, "long.txt", NULL, NULL);
    js_source *src;
    ck_assert_int_eq(js_source_open(&src, "long.txt", fd,
                                    c->from_file ? NULL : data,
                                    c->from_file ? 0 : len, NULL, k),
                     0);
    const char *line;
    size_t n, total = 0;
    int pieces = 0, ok = 0;
    while (js_source_line(src, &line, &n) == 1) {
        if (!strcmp(line, "ok")) {
            ck_assert_uint_eq(js_source_lineno(src), 2);
            ck_assert_uint_eq(js_source_offset(src), chars * cl + 1);
            ok = 1;
            continue;
        }
        ck_assert_msg(js_source_lineno(src) == 1, "case %d: a piece on line "
                      "%llu", _i, (unsigned long long)js_source_lineno(src));
        ck_assert_uint_eq(n % cl, 0);
        ck_assert_uint_le(n, JS_LINE_MAX_BYTES);
        total += n;
        pieces += n > 0;
    }
    ck_assert_uint_eq(total, chars * cl);
    ck_assert_int_eq(pieces, c->pieces);
    ck_assert_int_eq(ok, c->tail);
    ck_assert_msg(w.n == (c->pieces > 1), "case %d: %d warnings", _i, w.n);
    js_source_close(src);
    js_sink_free(k);
    free(data);
    if (fd >= 0)
        close(fd);
}
END_TEST

START_TEST(test_chunks_cover_text)
{
    size_t len = 300000;
    char *data = malloc(len);
    for (size_t i = 0; i < len; i += 3)
        memcpy(data + i, i % 2 ? "字" : "文", 3);
    for (size_t i = 999; i < len; i += 1000)
        data[i - (i % 3)] = '\n', data[i - (i % 3) + 1] = 'a',
                  data[i - (i % 3) + 2] = 'b';
    js_ingest_stats st = {0};
    js_sink *k = js_sink_new(NULL, NULL, &st);
    js_sink_begin_file(k, "c.txt", NULL, NULL);
    js_source *src;
    ck_assert_int_eq(js_source_open(&src, "c.txt", -1, data, len, NULL, k), 0);
    const char *chunk;
    size_t n, at = 0;
    while (js_source_chunk(src, &chunk, &n) == 1) {
        ck_assert_uint_eq(js_source_offset(src), at);
        ck_assert(!memcmp(chunk, data + at, n));
        at += n;
    }
    ck_assert_uint_eq(at, len);
    js_source_close(src);
    js_sink_free(k);
    free(data);
}
END_TEST

static Suite *source_suite(void)
{
    Suite *s = suite_create("source");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_utf8_plain);
    tcase_add_loop_test(tc, test_legacy_detected, 0,
                        sizeof legacy_cases / sizeof *legacy_cases);
    tcase_add_test(tc, test_forced_encoding);
    tcase_add_test(tc, test_boms);
    tcase_add_test(tc, test_html_meta_charset);
    tcase_add_test(tc, test_binary_and_garbage);
    tcase_add_test(tc, test_line_endings);
    tcase_add_test(tc, test_gzip_and_truncated);
    tcase_add_loop_test(tc, test_long_line_pieces, 0,
                        sizeof long_cases / sizeof *long_cases);
    tcase_add_test(tc, test_chunks_cover_text);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(source_suite(), 0);
}
