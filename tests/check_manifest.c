/*
 * check_manifest.c — the live index's manifest (index/manifest.c).
 *
 * In:  manifests built in memory (0, 1 and many segments, names at the
 *      length limit, with and without deletion sets); hand-made files
 *      whose checksum is right but whose content is not; damaged copies
 *      of a good file.
 * Out: what is written reads back field for field; every bad name is
 *      refused before anything is written; every damaged or forged file
 *      is refused with JS_ECORRUPT (naming the damage) or JS_EVERSION,
 *      never accepted, never a crash (the sanitizer build runs this); a
 *      missing one is JS_ENOTFOUND; no temporary file survives a write,
 *      the full-disk hook reaches the write, and a reader reading while
 *      a writer publishes 200 generations sees whole generations only,
 *      never going back.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "file.h"
#include "jiansuo.h"
#include "manifest.h"
#include "testutil.h"

static void setup(void) { tu_scratch_make("manifest"); }
static void teardown(void) { tu_scratch_remove(); }

/* A name of exactly len bytes: prefix, then 'x's, then ".jsi". */
static void long_name(char *out, size_t len, const char *prefix)
{
    size_t p = strlen(prefix);
    memcpy(out, prefix, p);
    memset(out + p, 'x', len - p - 4);
    memcpy(out + len - 4, ".jsi", 5);
}

/* Builds a manifest of n segments: every third one with a deletion set,
 * every fifth name at the length limit. */
static js_manifest *make(size_t n, uint64_t generation)
{
    js_manifest *m = NULL;
    char err[256];
    ck_assert_int_eq(js_manifest_new(&m), 0);
    m->generation = generation;
    for (size_t i = 0; i < n; i++) {
        char name[JS_FILE_NAME_MAX + 1];
        if (i % 5 == 4) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "s%zu-", i);
            long_name(name, JS_FILE_NAME_MAX, prefix);
        } else {
            js_manifest_new_segment(m, name);
        }
        uint32_t sections = (uint32_t)(i * 1000 + 1 + (i == 7 ? UINT32_MAX - 8000 : 0));
        ck_assert_msg(js_manifest_add_segment(m, name, sections,
                                              sections / 2 + 1, err,
                                              sizeof err) == 0, "%s", err);
        if (i % 3 == 1) {
            char del[JS_FILE_NAME_MAX + 1];
            if (i % 5 == 4) { /* too long to derive: a name of the limit */
                char prefix[32];
                snprintf(prefix, sizeof prefix, "d%zu-", i);
                long_name(del, JS_FILE_NAME_MAX, prefix);
            } else {
                ck_assert_int_eq(js_manifest_deletes_name(del, name,
                                                          generation), 0);
            }
            ck_assert_msg(js_manifest_set_deletes(m, name, del,
                                                  (uint32_t)i % sections,
                                                  err, sizeof err) == 0,
                          "%s", err);
        }
    }
    return m;
}

static void assert_same(const js_manifest *a, const js_manifest *b)
{
    ck_assert_uint_eq(a->generation, b->generation);
    ck_assert_uint_eq(a->next_segment, b->next_segment);
    ck_assert_uint_eq(a->nsegments, b->nsegments);
    for (size_t i = 0; i < a->nsegments; i++) {
        const js_manifest_segment *x = &a->segments[i], *y = &b->segments[i];
        ck_assert_str_eq(x->name, y->name);
        ck_assert_uint_eq(x->sections, y->sections);
        ck_assert_uint_eq(x->documents, y->documents);
        ck_assert_str_eq(x->deletes, y->deletes);
        ck_assert_uint_eq(x->deleted, y->deleted);
    }
}

/* The scratch directory holds exactly the files named in want (a
 * NULL-terminated list). */
static void assert_dir(const char *const *want)
{
    DIR *d = opendir(tu_scratch());
    ck_assert_ptr_nonnull(d);
    struct dirent *de;
    size_t seen = 0, nwant = 0;
    while (want[nwant])
        nwant++;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        int known = 0;
        for (size_t i = 0; i < nwant; i++)
            known |= !strcmp(de->d_name, want[i]);
        ck_assert_msg(known, "%s left in the directory", de->d_name);
        seen++;
    }
    closedir(d);
    ck_assert_uint_eq(seen, nwant);
}

static const char *const only_manifest[] = {JS_MANIFEST_FILE, NULL};

START_TEST(test_round_trip)
{
    static const size_t sizes[] = {0, 1, 2, 5, 100, 1000};
    size_t n = sizes[_i];
    js_manifest *m = make(n, 42 + n), *back = NULL;
    char err[512];
    ck_assert_msg(js_manifest_write(tu_scratch(), m, err, sizeof err) == 0,
                  "%s", err);
    assert_dir(only_manifest);
    ck_assert_msg(js_manifest_read(tu_scratch(), &back, err, sizeof err) == 0,
                  "%s", err);
    assert_same(m, back);
    /* the read manifest writes the same bytes again */
    size_t len1, len2;
    unsigned char *a = tu_slurp(tu_scratch_path(JS_MANIFEST_FILE), &len1);
    ck_assert_int_eq(js_manifest_write(tu_scratch(), back, err, sizeof err), 0);
    unsigned char *b = tu_slurp(tu_scratch_path(JS_MANIFEST_FILE), &len2);
    ck_assert_uint_eq(len1, len2);
    ck_assert_mem_eq(a, b, len1);
    /* the files it names: each segment, then its set */
    size_t nf = js_manifest_files(back, NULL, 0), k = 0;
    const char **names = malloc((nf + 1) * sizeof *names);
    ck_assert_uint_eq(js_manifest_files(back, names, nf), nf);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(names[k++], back->segments[i].name);
        if (back->segments[i].deletes[0])
            ck_assert_str_eq(names[k++], back->segments[i].deletes);
    }
    ck_assert_uint_eq(k, nf);
    if (nf) /* a short array: filled as far as it goes, the count whole */
        ck_assert_uint_eq(js_manifest_files(back, names, 1), nf);
    free(names);
    free(a);
    free(b);
    js_manifest_free(m);
    js_manifest_free(back);
}
END_TEST

/* Names a manifest may hold, and names it must refuse. */
static const struct {
    const char *name;
    int ok;
} names[] = {
    {"seg-000001.jsi", 1},
    {"index.jsi", 1},
    {"A_z-0.9", 1},
    {"a", 1},
    {"seg-000001.del-7", 1},
    {"", 0},
    {".hidden", 0},
    {".", 0},
    {"..", 0},
    {"a/b", 0},
    {"../seg.jsi", 0},
    {"/etc/passwd", 0},
    {"a b", 0},
    {"a\\b", 0},
    {"段.jsi", 0},
    {"a\nb", 0},
    {"lock", 0},
    {JS_MANIFEST_FILE, 0},
    {"seg-1.jsi.tmp-123", 0},
    {"x:y", 0},
};

START_TEST(test_names)
{
    const char *name = names[_i].name;
    int want = names[_i].ok ? 0 : JS_EINVALID;
    char err[256] = "";
    ck_assert_int_eq(js_file_name_check(name), want);
    js_manifest *m = NULL;
    ck_assert_int_eq(js_manifest_new(&m), 0);
    ck_assert_int_eq(js_manifest_add_segment(m, name, 3, 2, err, sizeof err),
                     want);
    if (want)
        ck_assert_msg(err[0], "no message for '%s'", name);
    js_manifest_free(m);
    /* as a deletion set's name ("" there means none, and a count of 1
     * without a set is refused) */
    ck_assert_int_eq(js_manifest_new(&m), 0);
    ck_assert_int_eq(js_manifest_add_segment(m, "seg-9.jsi", 3, 2, err,
                                             sizeof err), 0);
    ck_assert_int_eq(js_manifest_set_deletes(m, "seg-9.jsi", name, 1, err,
                                             sizeof err), want);
    js_manifest_free(m);
}
END_TEST

START_TEST(test_name_lengths)
{
    char name[2 * JS_FILE_NAME_MAX];
    long_name(name, JS_FILE_NAME_MAX, "s");
    ck_assert_int_eq(js_file_name_check(name), 0);
    long_name(name, JS_FILE_NAME_MAX + 1, "s");
    ck_assert_int_eq(js_file_name_check(name), JS_EINVALID);
}
END_TEST

/* Derived names: the next segment's, and a deletion set's. */
START_TEST(test_derived_names)
{
    js_manifest *m = NULL;
    char out[JS_FILE_NAME_MAX + 1];
    ck_assert_int_eq(js_manifest_new(&m), 0);
    ck_assert_uint_eq(m->next_segment, 1);
    js_manifest_new_segment(m, out);
    ck_assert_str_eq(out, "seg-000001.jsi");
    js_manifest_new_segment(m, out);
    ck_assert_str_eq(out, "seg-000002.jsi");
    m->next_segment = 1234567;
    js_manifest_new_segment(m, out);
    ck_assert_str_eq(out, "seg-1234567.jsi");
    ck_assert_uint_eq(m->next_segment, 1234568);
    m->next_segment = UINT64_MAX;
    js_manifest_new_segment(m, out);
    ck_assert_str_eq(out, "seg-18446744073709551615.jsi");
    ck_assert_int_eq(js_file_name_check(out), 0);
    js_manifest_free(m);

    static const struct {
        const char *segment;
        uint64_t gen;
        const char *want; /* NULL: refused */
    } cases[] = {
        {"seg-000001.jsi", 7, "seg-000001.del-7"},
        {"index.jsi", 1, "index.del-1"},
        {"abc", 2, "abc.del-2"},
        {"a.jsi.jsi", 3, "a.jsi.del-3"},
        {"seg-000001.jsi", UINT64_MAX, "seg-000001.del-18446744073709551615"},
        {"seg.jsi", 0, "seg.del-0"},
        /* a stem of 58 bytes: ".del-9" takes it to the limit, 64 */
        {"0123456789012345678901234567890123456789012345678901234567.jsi", 9,
         "0123456789012345678901234567890123456789012345678901234567.del-9"},
        {"0123456789012345678901234567890123456789012345678901234567.jsi", 10,
         NULL},
        {"", 1, NULL},
        {".jsi", 1, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int rc = js_manifest_deletes_name(out, cases[i].segment, cases[i].gen);
        if (cases[i].want) {
            ck_assert_msg(rc == 0, "%s: %d", cases[i].segment, rc);
            ck_assert_str_eq(out, cases[i].want);
        } else {
            ck_assert_msg(rc == JS_EINVALID, "%s, %" PRIu64 ": %d (%s)",
                          cases[i].segment, cases[i].gen, rc, out);
        }
    }
}
END_TEST

/* What building a manifest refuses, and removing segments. */
START_TEST(test_building)
{
    js_manifest *m = NULL;
    char err[256];
    ck_assert_int_eq(js_manifest_new(&m), 0);
    ck_assert_int_eq(js_manifest_add_segment(m, "a.jsi", 10, 4, err, sizeof err), 0);
    ck_assert_int_eq(js_manifest_add_segment(m, "b.jsi", 0, 0, err, sizeof err), 0);
    ck_assert_int_eq(js_manifest_add_segment(m, "c.jsi", 5, 5, err, sizeof err), 0);
    /* a name twice; more documents than sections; sections without one */
    ck_assert_int_eq(js_manifest_add_segment(m, "a.jsi", 1, 1, err, sizeof err), JS_EINVALID);
    ck_assert_ptr_nonnull(strstr(err, "already"));
    ck_assert_int_eq(js_manifest_add_segment(m, "d.jsi", 1, 2, err, sizeof err), JS_EINVALID);
    ck_assert_int_eq(js_manifest_add_segment(m, "d.jsi", 1, 0, err, sizeof err), JS_EINVALID);
    /* deletion sets: of a segment it has; one name each; counts */
    ck_assert_int_eq(js_manifest_set_deletes(m, "x.jsi", "a.del-1", 1, err, sizeof err), JS_ENOTFOUND);
    ck_assert_int_eq(js_manifest_set_deletes(m, "a.jsi", "a.del-1", 11, err, sizeof err), JS_EINVALID);
    ck_assert_int_eq(js_manifest_set_deletes(m, "a.jsi", "b.jsi", 1, err, sizeof err), JS_EINVALID);
    ck_assert_int_eq(js_manifest_set_deletes(m, "a.jsi", NULL, 1, err, sizeof err), JS_EINVALID);
    ck_assert_int_eq(js_manifest_set_deletes(m, "a.jsi", "a.del-1", 10, err, sizeof err), 0);
    ck_assert_int_eq(js_manifest_set_deletes(m, "a.jsi", "a.del-1", 3, err, sizeof err), 0);
    ck_assert_int_eq(js_manifest_set_deletes(m, "c.jsi", "a.del-1", 1, err, sizeof err), JS_EINVALID);
    ck_assert_int_eq(js_manifest_add_segment(m, "a.del-1", 1, 1, err, sizeof err), JS_EINVALID);
    ck_assert_uint_eq(m->segments[0].deleted, 3);
    ck_assert_str_eq(m->segments[0].deletes, "a.del-1");
    ck_assert_int_eq(js_manifest_set_deletes(m, "a.jsi", "", 0, err, sizeof err), 0);
    ck_assert_str_eq(m->segments[0].deletes, "");
    ck_assert_uint_eq(m->segments[0].deleted, 0);
    /* removal keeps the order of the rest */
    ck_assert_int_eq(js_manifest_remove_segment(m, "x.jsi"), JS_ENOTFOUND);
    ck_assert_int_eq(js_manifest_remove_segment(m, "a.jsi"), 0);
    ck_assert_uint_eq(m->nsegments, 2);
    ck_assert_str_eq(m->segments[0].name, "b.jsi");
    ck_assert_str_eq(m->segments[1].name, "c.jsi");
    ck_assert_int_eq(js_manifest_find(m, "c.jsi"), 1);
    ck_assert_int_eq(js_manifest_find(m, "a.jsi"), -1);
    ck_assert_int_eq(js_manifest_add_segment(m, "a.jsi", 1, 1, err, sizeof err), 0);
    ck_assert_str_eq(m->segments[2].name, "a.jsi");
    js_manifest_free(m);
}
END_TEST

/* A manifest changed behind the API's back is refused by the write, and
 * nothing is written. */
START_TEST(test_write_refuses)
{
    static const char *const bad_names[] = {"../x", "", "a b", "lock"};
    char err[512];
    for (size_t i = 0; i < 6; i++) {
        js_manifest *m = make(3, 1);
        if (i < 4)
            snprintf(m->segments[1].name, sizeof m->segments[1].name, "%s",
                     bad_names[i]);
        else if (i == 4)
            m->segments[2].documents = m->segments[2].sections + 1;
        else
            snprintf(m->segments[2].name, sizeof m->segments[2].name, "%s",
                     m->segments[0].name);
        err[0] = 0;
        ck_assert_int_eq(js_manifest_write(tu_scratch(), m, err, sizeof err),
                         JS_EINVALID);
        ck_assert_msg(strstr(err, "invalid manifest"), "%s", err);
        static const char *const none[] = {NULL};
        assert_dir(none);
        js_manifest_free(m);
    }
}
END_TEST

START_TEST(test_missing)
{
    js_manifest *m = (js_manifest *)&m;
    char err[512] = "";
    ck_assert_int_eq(js_manifest_read(tu_scratch(), &m, err, sizeof err),
                     JS_ENOTFOUND);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(err, "no manifest"));
    ck_assert_int_eq(js_manifest_read(tu_scratch_path("nowhere"), &m, err,
                                      sizeof err), JS_ENOTFOUND);
    /* a directory that cannot be written to */
    js_manifest *w = make(1, 1);
    ck_assert_int_eq(js_manifest_write(tu_scratch_path("nowhere"), w, err,
                                       sizeof err), JS_EIO);
    js_manifest_free(w);
}
END_TEST

static int read_manifest(void *ctx, char *err, size_t errlen)
{
    (void)ctx;
    js_manifest *m = NULL;
    int rc = js_manifest_read(tu_scratch(), &m, err, errlen);
    ck_assert(rc != 0 || m != NULL);
    ck_assert(rc == 0 || m == NULL);
    js_manifest_free(m);
    return rc;
}

/* Every byte flipped, every length cut: refused. */
START_TEST(test_damage)
{
    js_manifest *m = make(_i ? 12 : 0, 7);
    char err[512];
    ck_assert_int_eq(js_manifest_write(tu_scratch(), m, err, sizeof err), 0);
    tu_damage_file(tu_scratch_path(JS_MANIFEST_FILE), 8, read_manifest, NULL,
                   "manifest");
    js_manifest_free(m);
}
END_TEST

/* ---- forged files: the checksum right, the content not ---- */

typedef struct {
    unsigned char p[512];
    size_t n;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    ck_assert_uint_le(b->n + n, sizeof b->p);
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put_le(bytes *b, uint64_t v, int width)
{
    for (int i = 0; i < width; i++) {
        unsigned char c = (unsigned char)(v >> (8 * i));
        put(b, &c, 1);
    }
}

static void put_varint(bytes *b, uint64_t v)
{
    while (v >= 0x80) {
        put_le(b, (v & 0x7F) | 0x80, 1);
        v >>= 7;
    }
    put_le(b, v, 1);
}

static void put_name(bytes *b, const char *s)
{
    put_varint(b, strlen(s));
    put(b, s, strlen(s));
}

/* One segment's entry. */
typedef struct {
    const char *name;
    uint64_t sections, documents;
    const char *deletes;
    uint64_t deleted;
} entry;

/* A whole file: header fields, count (or the entries' number when
 * count is -1), entries, extra bytes; crc32 appended. */
static void forge(bytes *b, uint32_t version, uint32_t flags, long long count,
                  const entry *e, size_t ne, const char *extra)
{
    static const unsigned char magic[8] = {0x4A, 0x53, 0x4D, 0x46,
                                           0x0D, 0x0A, 0x1A, 0x0A};
    b->n = 0;
    put(b, magic, 8);
    put_le(b, version, 4);
    put_le(b, flags, 4);
    put_le(b, 5, 8); /* generation */
    put_le(b, 9, 8); /* next segment */
    put_varint(b, count < 0 ? ne : (uint64_t)count);
    for (size_t i = 0; i < ne; i++) {
        put_name(b, e[i].name);
        put_varint(b, e[i].sections);
        put_varint(b, e[i].documents);
        put_name(b, e[i].deletes);
        put_varint(b, e[i].deleted);
    }
    put(b, extra, strlen(extra));
    put_le(b, crc32(0, b->p, (uInt)b->n), 4);
}

static const struct {
    const char *what;
    uint32_t version, flags;
    long long count;
    entry e[2];
    size_t ne;
    const char *extra;
    int rc;
    const char *needle; /* in the message */
} forged[] = {
    {"good", 1, 0, -1, {{"seg-1.jsi", 10, 3, "seg-1.del-4", 2}}, 1, "", 0, ""},
    {"good, two", 1, 0, -1, {{"a", 1, 1, "", 0}, {"b", 0, 0, "c", 0}}, 2, "", 0, ""},
    {"version 2", 2, 0, -1, {{"seg-1.jsi", 10, 3, "", 0}}, 1, "", JS_EVERSION, "version 2"},
    {"version 0", 0, 0, -1, {{"seg-1.jsi", 10, 3, "", 0}}, 1, "", JS_EVERSION, "version 0"},
    {"flags", 1, 4, -1, {{"seg-1.jsi", 10, 3, "", 0}}, 1, "", JS_ECORRUPT, "at byte 12: unknown flags"},
    {"count too large", 1, 0, 3, {{"seg-1.jsi", 10, 3, "", 0}}, 1, "", JS_ECORRUPT, "at byte 32: bad segment count"},
    {"count huge", 1, 0, 1LL << 62, {{"seg-1.jsi", 10, 3, "", 0}}, 1, "", JS_ECORRUPT, "bad segment count"},
    {"count short", 1, 0, 0, {{"seg-1.jsi", 10, 3, "", 0}}, 1, "", JS_ECORRUPT, "after the last segment"},
    {"trailing", 1, 0, -1, {{"seg-1.jsi", 10, 3, "", 0}}, 1, "z", JS_ECORRUPT, "1 bytes after"},
    /* (a byte more, or the entry is shorter than any valid one) */
    {"empty name", 1, 0, -1, {{"", 10, 3, "", 0}}, 1, "z", JS_ECORRUPT, "at byte 33: segment 0: bad segment name length"},
    {"name 65", 1, 0, -1, {{"a123456789012345678901234567890123456789012345678901234567890.jsi", 1, 1, "", 0}}, 1, "", JS_ECORRUPT, "bad segment name length"},
    {"slash", 1, 0, -1, {{"../x.jsi", 1, 1, "", 0}}, 1, "", JS_ECORRUPT, "at byte 34: segment 0: segment name is not a valid"},
    {"dot", 1, 0, -1, {{".x", 1, 1, "", 0}}, 1, "", JS_ECORRUPT, "not a valid"},
    {"lock", 1, 0, -1, {{"lock", 1, 1, "", 0}}, 1, "", JS_ECORRUPT, "not a valid"},
    {"bad set name", 1, 0, -1, {{"a", 1, 1, "x/y", 1}}, 1, "", JS_ECORRUPT, "deletion set name is not a valid"},
    {"sections > u32", 1, 0, -1, {{"a", 1ULL << 32, 1, "", 0}}, 1, "", JS_ECORRUPT, "bad section count"},
    {"documents > sections", 1, 0, -1, {{"a", 2, 3, "", 0}}, 1, "", JS_ECORRUPT, "3 documents in 2 sections"},
    {"no documents", 1, 0, -1, {{"a", 2, 0, "", 0}}, 1, "", JS_ECORRUPT, "0 documents in 2 sections"},
    {"deleted > sections", 1, 0, -1, {{"a", 2, 1, "d", 3}}, 1, "", JS_ECORRUPT, "3 deleted of 2"},
    {"deleted, no set", 1, 0, -1, {{"a", 2, 1, "", 1}}, 1, "", JS_ECORRUPT, "without a deletion set"},
    {"segment twice", 1, 0, -1, {{"a", 2, 1, "", 0}, {"a", 1, 1, "", 0}}, 2, "", JS_ECORRUPT, "'a' is named twice (segments 0 and 1)"},
    {"set twice", 1, 0, -1, {{"a", 2, 1, "d", 0}, {"b", 1, 1, "d", 0}}, 2, "", JS_ECORRUPT, "'d' is named twice"},
    {"set is a segment", 1, 0, -1, {{"a", 2, 1, "b", 0}, {"b", 1, 1, "", 0}}, 2, "", JS_ECORRUPT, "'b' is named twice"},
    {"own set", 1, 0, -1, {{"a", 2, 1, "a", 0}}, 1, "", JS_ECORRUPT, "'a' is named twice (segments 0 and 0)"},
    {"cut entry", 1, 0, 2, {{"a", 2, 1, "", 0}}, 1, "bbbbbbbbbbbbbbbbbbbbbb", JS_ECORRUPT, "segment 1"},
};

START_TEST(test_forged)
{
    bytes b;
    forge(&b, forged[_i].version, forged[_i].flags, forged[_i].count,
          forged[_i].e, forged[_i].ne, forged[_i].extra);
    tu_spit(tu_scratch_path(JS_MANIFEST_FILE), b.p, b.n);
    tu_expect_read(tu_scratch_path(JS_MANIFEST_FILE), read_manifest, NULL,
                   forged[_i].rc, forged[_i].needle, forged[_i].what);
    if (forged[_i].rc)
        return;
    js_manifest *m = NULL;
    char err[512];
    ck_assert_int_eq(js_manifest_read(tu_scratch(), &m, err, sizeof err), 0);
    ck_assert_uint_eq(m->generation, 5);
    ck_assert_uint_eq(m->next_segment, 9);
    ck_assert_uint_eq(m->nsegments, forged[_i].ne);
    ck_assert_str_eq(m->segments[0].name, forged[_i].e[0].name);
    js_manifest_free(m);
}
END_TEST

/* Files too short to hold the header, or another kind of file. */
START_TEST(test_not_a_manifest)
{
    static const tu_file_case cases[] = {
        {"", 0, JS_ECORRUPT, "file too short (0 bytes)"},
        {"JSMF\r\n\x1a", 7, JS_ECORRUPT, "at byte 0: file too short"},
        {"JSIX\r\n\x1a\n\x06\0\0\0", 12, JS_ECORRUPT, "bad magic number"},
        {"JSMF\r\n\x1a\n\x01\0\0", 11, JS_ECORRUPT, "at byte 8: file too short"},
        {"JSMF\r\n\x1a\n\x01\0\0\0", 12, JS_ECORRUPT, "at byte 12: file too short"},
        {"JSMF\r\n\x1a\n\x02\0\0\0", 12, JS_EVERSION, "version 2"},
    };
    tu_read_cases(tu_scratch_path(JS_MANIFEST_FILE), cases,
                  sizeof cases / sizeof *cases, read_manifest, NULL);
}
END_TEST

/* The full-disk hook reaches the write: it fails with JS_EIO, leaving
 * the last manifest and no temporary file. */
START_TEST(test_full_disk)
{
    /* The hook reads the environment at its first call in the process:
     * this test's own process, when Check forks one per test. */
    const char *ck_fork = getenv("CK_FORK");
    if (ck_fork && !strcmp(ck_fork, "no"))
        return;
    js_manifest *m = make(3, 1), *big = make(40, 2), *back = NULL;
    char err[512];
    /* room for the small manifest (about 100 bytes), not for the big one
     * after it (about 1,500) */
    setenv("JIANSUO_TEST_ENOSPC_AFTER", "600", 1);
    ck_assert_int_eq(js_manifest_write(tu_scratch(), m, err, sizeof err), 0);
    size_t n;
    free(tu_slurp(tu_scratch_path(JS_MANIFEST_FILE), &n));
    ck_assert_uint_lt(n, 600);
    ck_assert_int_eq(js_manifest_write(tu_scratch(), big, err, sizeof err),
                     JS_EIO);
    ck_assert_msg(strstr(err, "write failed"), "%s", err);
    assert_dir(only_manifest);
    ck_assert_int_eq(js_manifest_read(tu_scratch(), &back, err, sizeof err), 0);
    assert_same(m, back);
    unsetenv("JIANSUO_TEST_ENOSPC_AFTER");
    js_manifest_free(back);
    js_manifest_free(big);
    js_manifest_free(m);
}
END_TEST

/* ---- a reader during writes ---- */

#define GENERATIONS 200

/* Generation g's manifest: g % 9 segments whose names and counts say g. */
static js_manifest *generation(uint64_t g)
{
    js_manifest *m = NULL;
    char err[256], name[JS_FILE_NAME_MAX + 1];
    ck_assert_int_eq(js_manifest_new(&m), 0);
    m->generation = g;
    m->next_segment = 1000 + g;
    for (uint64_t i = 0; i < g % 9; i++) {
        snprintf(name, sizeof name, "g%" PRIu64 "-s%" PRIu64 ".jsi", g, i);
        ck_assert_int_eq(js_manifest_add_segment(m, name, (uint32_t)(g + i),
                                                 1, err, sizeof err), 0);
    }
    return m;
}

typedef struct {
    atomic_int done, failed;
    long reads, changes;
    char failure[600];
} watch;

static void *reader(void *arg)
{
    watch *w = arg;
    uint64_t last = 0;
    while (!atomic_load(&w->done) && !atomic_load(&w->failed)) {
        js_manifest *m = NULL;
        char err[512];
        int rc = js_manifest_read(tu_scratch(), &m, err, sizeof err);
        if (rc) {
            snprintf(w->failure, sizeof w->failure, "read %ld: %s", w->reads,
                     err);
            atomic_store(&w->failed, 1);
            break;
        }
        js_manifest *want = generation(m->generation);
        int same = m->generation >= last &&
                   m->next_segment == want->next_segment &&
                   m->nsegments == want->nsegments;
        for (size_t i = 0; same && i < m->nsegments; i++)
            same = !strcmp(m->segments[i].name, want->segments[i].name) &&
                   m->segments[i].sections == want->segments[i].sections;
        if (!same) {
            snprintf(w->failure, sizeof w->failure, "read %ld: generation "
                     "%" PRIu64 " after %" PRIu64 ", or not as written",
                     w->reads, m->generation, last);
            atomic_store(&w->failed, 1);
        }
        w->changes += m->generation != last;
        last = m->generation;
        w->reads++;
        js_manifest_free(want);
        js_manifest_free(m);
    }
    return NULL;
}

START_TEST(test_atomic_replace)
{
    char err[512];
    js_manifest *m = generation(0);
    ck_assert_int_eq(js_manifest_write(tu_scratch(), m, err, sizeof err), 0);
    js_manifest_free(m);
    watch w = {0};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, reader, &w), 0);
    for (uint64_t g = 1; g <= GENERATIONS && !atomic_load(&w.failed); g++) {
        m = generation(g);
        ck_assert_msg(js_manifest_write(tu_scratch(), m, err, sizeof err) == 0,
                      "%s", err);
        js_manifest_free(m);
    }
    atomic_store(&w.done, 1);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_msg(!w.failure[0], "%s", w.failure);
    ck_assert_int_gt(w.reads, 0);
    assert_dir(only_manifest);
    fprintf(stderr, "manifest: %ld reads during %d writes saw %ld changes\n",
            w.reads, GENERATIONS, w.changes);
}
END_TEST

static Suite *manifest_suite(void)
{
    Suite *s = suite_create("manifest");
    TCase *tc = tcase_create("manifest");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_round_trip, 0, 6);
    tcase_add_loop_test(tc, test_names, 0, sizeof names / sizeof *names);
    tcase_add_test(tc, test_name_lengths);
    tcase_add_test(tc, test_derived_names);
    tcase_add_test(tc, test_building);
    tcase_add_test(tc, test_write_refuses);
    tcase_add_test(tc, test_missing);
    tcase_add_loop_test(tc, test_damage, 0, 2);
    tcase_add_loop_test(tc, test_forged, 0, sizeof forged / sizeof *forged);
    tcase_add_test(tc, test_not_a_manifest);
    tcase_add_test(tc, test_full_disk);
    tcase_add_test(tc, test_atomic_replace);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(manifest_suite(), 0);
}
