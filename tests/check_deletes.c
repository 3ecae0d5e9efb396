/*
 * check_deletes.c — a segment's deletion set (index/deletes.c).
 *
 * In:  sets over 0, 1, 7, 8, 9, 64 and 1000 sections with none, some or
 *      all of them deleted; hand-made files whose checksum is right but
 *      whose content is not; damaged copies of good files.
 * Out: what is written reads back bit for bit and count for count; set
 *      says whether a bit was new; a copy is independent of its source;
 *      a set read for another section count, a forged or damaged file is
 *      refused with JS_ECORRUPT (naming the damage) or JS_EVERSION, never
 *      accepted, never a crash (the sanitizer build runs this); bad names
 *      are refused, a missing file is JS_ENOTFOUND, no temporary file
 *      survives a write; threads test one set at once.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "deletes.h"
#include "file.h"
#include "jiansuo.h"
#include "testutil.h"

static void setup(void) { tu_scratch_make("deletes"); }
static void teardown(void) { tu_scratch_remove(); }

enum { NONE, SOME, ALL };

/* Whether section id of n is deleted in pattern p: SOME deletes every
 * third and the last. */
static int deleted(int p, uint32_t id, uint32_t n)
{
    return p == ALL || (p == SOME && (id % 3 == 1 || id == n - 1));
}

static js_deletes *make(uint32_t n, int pattern)
{
    js_deletes *d = NULL;
    ck_assert_int_eq(js_deletes_new(&d, n), 0);
    /* backwards, so that ids are set in no particular order */
    for (uint32_t k = n; k-- > 0;)
        if (deleted(pattern, k, n))
            ck_assert_int_eq(js_deletes_set(d, k), 1);
    return d;
}

static void assert_pattern(const js_deletes *d, uint32_t n, int pattern)
{
    uint32_t count = 0;
    ck_assert_uint_eq(d->nsections, n);
    for (uint32_t id = 0; id < n; id++) {
        ck_assert_msg(js_deletes_test(d, id) == deleted(pattern, id, n),
                      "section %u of %u", id, n);
        count += (uint32_t)deleted(pattern, id, n);
    }
    ck_assert_uint_eq(js_deletes_count(d), count);
    /* ids past the end are not deleted, whatever the bits' padding */
    ck_assert_int_eq(js_deletes_test(d, n), 0);
    ck_assert_int_eq(js_deletes_test(d, UINT32_MAX), 0);
}

static const uint32_t sizes[] = {0, 1, 7, 8, 9, 64, 1000};
#define NSIZES (sizeof sizes / sizeof *sizes)

START_TEST(test_round_trip)
{
    uint32_t n = sizes[_i / 3];
    int pattern = _i % 3;
    js_deletes *d = make(n, pattern), *back = NULL;
    assert_pattern(d, n, pattern);
    char err[512];
    ck_assert_msg(js_deletes_write(tu_scratch(), "seg-000001.del-3", d, err,
                                   sizeof err) == 0, "%s", err);
    /* the file alone: no temporary left */
    DIR *dir = opendir(tu_scratch());
    struct dirent *de;
    int files = 0;
    while ((de = readdir(dir)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            ck_assert_str_eq(de->d_name, "seg-000001.del-3");
            files++;
        }
    closedir(dir);
    ck_assert_int_eq(files, 1);
    size_t len;
    free(tu_slurp(tu_scratch_path("seg-000001.del-3"), &len));
    ck_assert_uint_eq(len, 28 + (n + 7) / 8);
    ck_assert_msg(js_deletes_read(tu_scratch(), "seg-000001.del-3", n, &back,
                                  err, sizeof err) == 0, "%s", err);
    assert_pattern(back, n, pattern);
    /* read for another section count: refused */
    js_deletes *other = (js_deletes *)&other;
    ck_assert_int_eq(js_deletes_read(tu_scratch(), "seg-000001.del-3", n + 1,
                                     &other, err, sizeof err), JS_ECORRUPT);
    ck_assert_ptr_null(other);
    if (n) {
        ck_assert_int_eq(js_deletes_read(tu_scratch(), "seg-000001.del-3",
                                         n - 1, &other, err, sizeof err),
                         JS_ECORRUPT);
        ck_assert_msg(strstr(err, "deletion set is corrupt"), "%s", err);
    }
    js_deletes_free(d);
    js_deletes_free(back);
}
END_TEST

/* js_deletes_next walks exactly the ids js_deletes_test calls deleted,
 * against brute force, for several sizes and patterns. */
START_TEST(test_next)
{
    static const uint32_t ns[] = {1, 7, 8, 9, 64, 1000, 4097};
    for (size_t z = 0; z < sizeof ns / sizeof *ns; z++) {
        uint32_t n = ns[z];
        for (uint32_t step = 1; step <= 13; step += 4) {
            js_deletes *d = NULL;
            ck_assert_int_eq(js_deletes_new(&d, n), 0);
            ck_assert_uint_eq(js_deletes_next(d, 0), UINT32_MAX);
            for (uint32_t id = step / 2; id < n; id += step)
                js_deletes_set(d, id);
            uint32_t want = 0, got = js_deletes_next(d, 0);
            for (;;) {
                while (want < n && !js_deletes_test(d, want))
                    want++;
                if (want == n) {
                    ck_assert_uint_eq(got, UINT32_MAX);
                    break;
                }
                ck_assert_uint_eq(got, want);
                got = js_deletes_next(d, got + 1);
                want++;
            }
            ck_assert_uint_eq(js_deletes_next(d, n), UINT32_MAX);
            js_deletes_free(d);
        }
    }
    ck_assert_uint_eq(js_deletes_next(NULL, 0), UINT32_MAX);
}
END_TEST

START_TEST(test_set_and_copy)
{
    js_deletes *d = NULL, *c = NULL;
    ck_assert_int_eq(js_deletes_new(&d, 20), 0);
    ck_assert_int_eq(js_deletes_set(d, 5), 1);
    ck_assert_int_eq(js_deletes_set(d, 5), 0);
    ck_assert_int_eq(js_deletes_set(d, 19), 1);
    ck_assert_int_eq(js_deletes_set(d, 20), JS_EINVALID);
    ck_assert_int_eq(js_deletes_set(d, UINT32_MAX), JS_EINVALID);
    ck_assert_uint_eq(js_deletes_count(d), 2);
    /* the next generation starts from a copy; the old one stays */
    ck_assert_int_eq(js_deletes_copy(&c, d), 0);
    ck_assert_int_eq(js_deletes_set(c, 0), 1);
    ck_assert_int_eq(js_deletes_set(c, 5), 0);
    ck_assert_uint_eq(js_deletes_count(c), 3);
    ck_assert_uint_eq(js_deletes_count(d), 2);
    ck_assert_int_eq(js_deletes_test(d, 0), 0);
    ck_assert_int_eq(js_deletes_test(c, 0), 1);
    ck_assert_int_eq(js_deletes_test(c, 19), 1);
    /* a segment without a set */
    ck_assert_int_eq(js_deletes_test(NULL, 0), 0);
    ck_assert_uint_eq(js_deletes_count(NULL), 0);
    js_deletes_free(NULL);
    js_deletes_free(d);
    /* a copy of a set read from disk */
    char err[512];
    ck_assert_int_eq(js_deletes_write(tu_scratch(), "a.del-1", c, err,
                                      sizeof err), 0);
    js_deletes *r = NULL, *rc = NULL;
    ck_assert_int_eq(js_deletes_read(tu_scratch(), "a.del-1", 20, &r, err,
                                     sizeof err), 0);
    ck_assert_int_eq(js_deletes_copy(&rc, r), 0);
    ck_assert_int_eq(js_deletes_set(rc, 1), 1);
    ck_assert_int_eq(js_deletes_test(r, 1), 0);
    ck_assert_uint_eq(js_deletes_count(rc), 4);
    js_deletes_free(rc);
    js_deletes_free(r);
    js_deletes_free(c);
}
END_TEST

START_TEST(test_names_and_missing)
{
    static const char *const bad[] = {"", ".del", "../a.del-1", "a/b",
                                      "lock", "manifest.jsm", "a.del-1.tmp-9"};
    js_deletes *d = make(9, SOME), *r = (js_deletes *)&r;
    char err[512];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        ck_assert_int_eq(js_deletes_write(tu_scratch(), bad[i], d, err,
                                          sizeof err), JS_EINVALID);
        ck_assert(err[0]);
        ck_assert_int_eq(js_deletes_read(tu_scratch(), bad[i], 9, &r, err,
                                         sizeof err), JS_EINVALID);
        ck_assert_ptr_null(r);
    }
    DIR *dir = opendir(tu_scratch());
    struct dirent *de;
    while ((de = readdir(dir)))
        ck_assert_msg(!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."),
                      "%s written", de->d_name);
    closedir(dir);
    ck_assert_int_eq(js_deletes_read(tu_scratch(), "seg-1.del-2", 9, &r, err,
                                     sizeof err), JS_ENOTFOUND);
    ck_assert_int_eq(js_deletes_write(tu_scratch_path("nowhere"), "a.del-1",
                                      d, err, sizeof err), JS_EIO);
    js_deletes_free(d);
}
END_TEST

typedef struct {
    uint32_t n;
} read_ctx;

static int read_set(void *ctx, char *err, size_t errlen)
{
    const read_ctx *c = ctx;
    js_deletes *d = NULL;
    int rc = js_deletes_read(tu_scratch(), "s.del-1", c->n, &d, err, errlen);
    ck_assert(rc != 0 || d != NULL);
    ck_assert(rc == 0 || d == NULL);
    js_deletes_free(d);
    return rc;
}

/* Every byte flipped, every length cut: refused. */
START_TEST(test_damage)
{
    static const struct {
        uint32_t n;
        int pattern;
    } cases[] = {{0, NONE}, {13, SOME}, {64, ALL}, {1000, SOME}};
    js_deletes *d = make(cases[_i].n, cases[_i].pattern);
    char err[512];
    ck_assert_int_eq(js_deletes_write(tu_scratch(), "s.del-1", d, err,
                                      sizeof err), 0);
    read_ctx c = {cases[_i].n};
    tu_damage_file(tu_scratch_path("s.del-1"), 8, read_set, &c, "deletes");
    js_deletes_free(d);
}
END_TEST

/* ---- forged files: the checksum right, the content not ---- */

static const struct {
    const char *what;
    uint32_t version, flags, sections, count;
    const char *bits; /* the bitmap's bytes, as many as 13 sections need */
    uint32_t expect;  /* the section count the reader expects */
    int rc;
    const char *needle;
} forged[] = {
    {"good", 1, 0, 13, 3, "\x05\x10", 13, 0, ""},
    {"good, none", 1, 0, 13, 0, "\x00\x00", 13, 0, ""},
    {"version 2", 2, 0, 13, 3, "\x05\x10", 13, JS_EVERSION, "version 2"},
    {"flags", 1, 1, 13, 3, "\x05\x10", 13, JS_ECORRUPT, "at byte 12: unknown flags"},
    {"count low", 1, 0, 13, 2, "\x05\x10", 13, JS_ECORRUPT, "at byte 20: 2 sections said deleted, 3 bits set"},
    {"count high", 1, 0, 13, 4, "\x05\x10", 13, JS_ECORRUPT, "4 sections said deleted"},
    {"bit past the end", 1, 0, 13, 3, "\x05\x20", 13, JS_ECORRUPT, "at byte 25: bits set past the last section"},
    {"top bit", 1, 0, 13, 3, "\x05\x80", 13, JS_ECORRUPT, "bits set past"},
    {"other sections", 1, 0, 12, 3, "\x05\x08", 13, JS_ECORRUPT, "at byte 16: a set of 12 sections, for a segment of 13"},
    {"other sections, same size", 1, 0, 14, 3, "\x05\x10", 13, JS_ECORRUPT, "a set of 14 sections"},
};

START_TEST(test_forged)
{
    static const unsigned char magic[8] = {0x4A, 0x53, 0x44, 0x4C,
                                           0x0D, 0x0A, 0x1A, 0x0A};
    unsigned char b[64];
    memcpy(b, magic, 8);
    uint32_t head[4] = {forged[_i].version, forged[_i].flags,
                        forged[_i].sections, forged[_i].count};
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 4; k++)
            b[8 + 4 * i + k] = (unsigned char)(head[i] >> (8 * k));
    memcpy(b + 24, forged[_i].bits, 2);
    uint32_t crc = (uint32_t)crc32(0, b, 26);
    for (int k = 0; k < 4; k++)
        b[26 + k] = (unsigned char)(crc >> (8 * k));
    tu_spit(tu_scratch_path("s.del-1"), b, 30);
    read_ctx c = {forged[_i].expect};
    tu_expect_read(tu_scratch_path("s.del-1"), read_set, &c, forged[_i].rc,
                   forged[_i].needle, forged[_i].what);
}
END_TEST

/* Files too short for their header, or of another kind. */
START_TEST(test_not_a_set)
{
    static const tu_file_case cases[] = {
        {"", 0, JS_ECORRUPT, "at byte 0: file too short (0 bytes)"},
        {"JSDL\r\n\x1a", 7, JS_ECORRUPT, "file too short"},
        {"JSMF\r\n\x1a\n\x01\0\0\0", 12, JS_ECORRUPT, "bad magic number"},
        {"JSDL\r\n\x1a\n\x01\0", 10, JS_ECORRUPT, "at byte 8: file too short"},
        {"JSDL\r\n\x1a\n\x01\0\0\0", 12, JS_ECORRUPT, "12 bytes, where a set of 13 sections has 30"},
        {"JSDL\r\n\x1a\n\x07\0\0\0", 12, JS_EVERSION, "version 7"},
    };
    read_ctx c = {13};
    tu_read_cases(tu_scratch_path("s.del-1"), cases,
                  sizeof cases / sizeof *cases, read_set, &c);
}
END_TEST

/* Readers share one set: test() only reads. */
static void *tester(void *arg)
{
    const js_deletes *d = arg;
    long bad = 0;
    for (int round = 0; round < 50; round++)
        for (uint32_t id = 0; id < d->nsections; id++)
            bad += js_deletes_test(d, id) != deleted(SOME, id, d->nsections);
    return (void *)bad;
}

START_TEST(test_shared_readers)
{
    js_deletes *d = make(10007, SOME), *r = NULL;
    char err[512];
    ck_assert_int_eq(js_deletes_write(tu_scratch(), "s.del-1", d, err,
                                      sizeof err), 0);
    ck_assert_int_eq(js_deletes_read(tu_scratch(), "s.del-1", 10007, &r, err,
                                     sizeof err), 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, tester, r), 0);
    for (int i = 0; i < 4; i++) {
        void *bad;
        ck_assert_int_eq(pthread_join(t[i], &bad), 0);
        ck_assert_ptr_null(bad);
    }
    js_deletes_free(r);
    js_deletes_free(d);
}
END_TEST

static Suite *deletes_suite(void)
{
    Suite *s = suite_create("deletes");
    TCase *tc = tcase_create("deletes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_round_trip, 0, 3 * NSIZES);
    tcase_add_test(tc, test_set_and_copy);
    tcase_add_test(tc, test_next);
    tcase_add_test(tc, test_names_and_missing);
    tcase_add_loop_test(tc, test_damage, 0, 4);
    tcase_add_loop_test(tc, test_forged, 0, sizeof forged / sizeof *forged);
    tcase_add_test(tc, test_not_a_set);
    tcase_add_test(tc, test_shared_readers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(deletes_suite(), 0);
}
