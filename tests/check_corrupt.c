/*
 * check_corrupt.c — a damaged index is refused or searched safely, and
 * `check` names every damage.
 *
 * In:  a small index built from a generated corpus (several documents,
 *      headings, both scripts, postings that cross 4-entry blocks).
 * Out: for every part, and the header and table of contents, at many
 *      offsets: one byte flipped, the file truncated, a run zero-filled.
 *      Opening then either fails with JS_ECORRUPT / JS_EVERSION, or
 *      succeeds, and then searches return hits or JS_ECORRUPT (never a
 *      crash, a hang or a sanitizer report) and js_reader_check reports
 *      JS_ECORRUPT: no damage goes unnoticed by `check`.  The SECTIONS
 *      part damaged behind a good checksum (a forged group, a bad header)
 *      is refused on open, or the section's read and `check` report it.
 *      And by name:
 *      a byte flipped in a postings record is found by the first load of
 *      its page (search) and by `check`; a damaged POSTINGS_CRC part is
 *      refused on open; a page's crc is checked once per open index and
 *      never recorded as passed when it fails; damage behind recomputed
 *      checksums (a skip table's norm, a champion list) is found by
 *      `check` recomputing what they say.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "file.h"
#include "jiansuo.h"
#include "reader.h"
#include "search.h"
#include "sections.h"
#include "testutil.h"

static const char *const queries[] = {
    "工匠学院", "學院", "山水 -风", "\"江天\" OR 人心", "title:手册",
    "2023年8月", "蚌埠工匠學院在哪裡成立的", "山",
};

/* Builds the corpus into dir (4-entry blocks so lists cross blocks). */
static void build(const char *dir)
{
    tu_render c = {0};
    tu_appendf(&c, "%s", "");
    static const char *const words[] = {"山", "水", "风", "江", "天", "人",
                                        "心", "工匠", "學院", "学院", "2023年8月"};
    uint64_t seed = 12345;
    for (int i = 0; i < 120; i++) {
        /* authors in runs of 10: metadata stored once a run; every
         * fourth id a UUID, stored as 16 bytes */
        if (i % 4 == 0)
            tu_appendf(&c, "{\"id\":\"0f8fad5b-d9cb-469f-a165-%012x\",", i);
        else
            tu_appendf(&c, "{\"id\":\"r%d\",", i);
        tu_appendf(&c, "\"title\":\"手册%d\",\"author\":\"作者%d\","
                       "\"sections\":[", i, i / 10);
        for (int s = 0; s < 3; s++) {
            tu_appendf(&c, "%s{\"heading\":\"第%d节\",\"text\":\"", s ? "," : "", s);
            int n = 3 + (int)(tu_rnd(&seed) % 20);
            for (int k = 0; k < n; k++)
                tu_appendf(&c, "%s", words[tu_rnd(&seed) % 11]);
            tu_appendf(&c, "\"}");
        }
        tu_appendf(&c, "]}\n");
    }
    js_build_options o = JS_BUILD_OPTIONS_INIT;
    o.block_size = 4;
    o.threads = 1;
    js_builder *b = NULL;
    int rc = js_builder_open(&b, dir, &o);
    if (!rc)
        rc = js_builder_add_memory(b, "c.jsonl", c.buf, c.len);
    if (!rc)
        rc = js_builder_commit(b);
    ck_assert_msg(rc == 0, "build: %s", js_builder_errmsg(b));
    js_builder_close(b);
    free(c.buf);
}

/* Little-endian fields of the file. */
static uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Where part id lies in the file buf[0..n), from its table of
 * contents. */
static void part_at(const unsigned char *buf, size_t n, uint32_t id,
                    size_t *off, size_t *len)
{
    size_t toc = (size_t)get_le(buf + n - 16, 8);
    uint32_t parts = (uint32_t)get_le(buf + toc, 4);
    for (uint32_t i = 0; i < parts; i++) {
        const unsigned char *e = buf + toc + 4 + 24 * (size_t)i;
        if (get_le(e, 4) == id) {
            *off = (size_t)get_le(e + 8, 8);
            *len = (size_t)get_le(e + 16, 8);
            return;
        }
    }
    ck_abort_msg("part %u is not in the table", id);
}

/* Recomputes every page crc of POSTINGS_CRC from POSTINGS, and the
 * part's own crc.  (The table of contents' crcs of both parts stay
 * right: a crc32 over bytes followed by their own crc32 is the same
 * whatever those bytes are, so the damage a test makes in a record
 * whose crc it recomputes, or here in the pages' crcs, changes no
 * whole-part crc.) */
static void fix_page_crcs(unsigned char *buf, size_t n)
{
    size_t po, pl, co, cl;
    part_at(buf, n, JS_PART_POSTINGS, &po, &pl);
    part_at(buf, n, JS_PART_POSTINGS_CRC, &co, &cl);
    uint32_t page = (uint32_t)get_le(buf + co, 4);
    uint64_t pages = get_le(buf + co + 4, 8);
    ck_assert_uint_eq(pages, (pl + page - 1) / page);
    for (uint64_t g = 0; g < pages; g++) {
        size_t start = (size_t)g * page, k = pl - start < page ? pl - start : page;
        put_le(buf + co + 12 + 4 * g,
               (uint32_t)crc32(0, buf + po + start, (uInt)k), 4);
    }
    put_le(buf + co + cl - 4, (uint32_t)crc32(0, buf + co, (uInt)(cl - 4)), 4);
}

static int damaged, refused, searched;

/* Opens the (damaged) index in dir, searches it, checks it. */
static void try_index(const char *dir, const char *what)
{
    js_reader *ix = NULL;
    int rc = js_reader_open(&ix, dir);
    if (rc) {
        ck_assert_msg(rc == JS_ECORRUPT || rc == JS_EVERSION,
                      "%s: open gave %d (%s)", what, rc,
                      ix ? js_reader_errmsg(ix) : "");
        js_reader_close(ix);
        refused++;
        return;
    }
    for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
        js_results *r = NULL;
        rc = js_reader_search(&r, ix, queries[i], strlen(queries[i]), NULL);
        ck_assert_msg(rc == 0 || rc == JS_ECORRUPT, "%s: search %s gave %d (%s)",
                      what, queries[i], rc, js_results_errmsg(r));
        js_results_free(r);
    }
    searched++;
    rc = js_reader_check(ix);
    ck_assert_msg(rc == JS_ECORRUPT, "%s: check gave %d, damage unnoticed",
                  what, rc);
    js_reader_close(ix);
}

/* Builds the corpus in a new temporary directory (returned; the caller
 * removes and frees it), names its index file in path and returns the
 * file's bytes (n of them, malloc'ed). */
static unsigned char *build_file(const char *name, char **dir,
                                 char path[600], size_t *n)
{
    *dir = tu_temp_dir(name);
    build(*dir);
    snprintf(path, 600, "%s/index.jsi", *dir);
    return tu_slurp(path, n);
}

START_TEST(test_damage_everywhere)
{
    char *dir, path[600];
    size_t n;
    unsigned char *orig = build_file("corrupt", &dir, path, &n);
    unsigned char *buf = malloc(n);

    /* the regions: header, each part, table of contents and trailer */
    js_reader *ix = NULL;
    ck_assert_int_eq(js_reader_open(&ix, dir), 0);
    uint64_t start[JS_PART_MAX + 2], len[JS_PART_MAX + 2];
    const char *name[JS_PART_MAX + 2];
    int nreg = 0;
    start[nreg] = 0, len[nreg] = 32, name[nreg++] = "header";
    uint64_t end_parts = 32;
    for (unsigned id = 1; id <= JS_PART_MAX; id++) {
        const js_part *p = &ix->f.parts[id];
        start[nreg] = (uint64_t)(p->p - (const uint8_t *)ix->f.map);
        len[nreg] = p->len;
        name[nreg++] = js_index_part_name(id);
        if (start[nreg - 1] + p->len > end_parts)
            end_parts = start[nreg - 1] + p->len;
    }
    start[nreg] = end_parts, len[nreg] = n - end_parts, name[nreg++] = "table";
    js_reader_close(ix);

    uint64_t seed = 99;
    for (int r = 0; r < nreg; r++) {
        if (len[r] == 0)
            continue;
        int tries = len[r] < 150 ? (int)len[r] : 150;
        for (int t = 0; t < tries; t++) {
            char what[128];
            uint64_t off = start[r] + (tries == (int)len[r] ? (uint64_t)t
                                                            : tu_rnd(&seed) % len[r]);
            /* a flipped byte */
            memcpy(buf, orig, n);
            buf[off] ^= (unsigned char)(1u << (tu_rnd(&seed) % 8));
            tu_spit(path, buf, n);
            snprintf(what, sizeof what, "%s: bit flipped at %llu", name[r],
                     (unsigned long long)off);
            try_index(dir, what);
            damaged++;
            /* a zero-filled run of up to 64 bytes */
            if (t % 4 == 0) {
                memcpy(buf, orig, n);
                size_t z = 1 + tu_rnd(&seed) % 64;
                if (off + z > n)
                    z = n - off;
                int changed = 0;
                for (size_t k = 0; k < z; k++)
                    changed |= buf[off + k] != 0;
                memset(buf + off, 0, z);
                if (changed) {
                    tu_spit(path, buf, n);
                    snprintf(what, sizeof what, "%s: %zu bytes zeroed at %llu",
                             name[r], z, (unsigned long long)off);
                    try_index(dir, what);
                    damaged++;
                }
            }
        }
    }
    /* truncations at many lengths */
    for (int t = 0; t < 40; t++) {
        size_t cut = t == 0 ? 0 : tu_rnd(&seed) % n;
        tu_spit(path, orig, cut);
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu bytes", cut);
        try_index(dir, what);
        damaged++;
    }
    tu_spit(path, orig, n);
    fprintf(stderr, "corrupt: %d damaged copies, %d refused on open, %d opened, "
                    "searched and caught by check\n",
            damaged, refused, searched);
    free(buf);
    free(orig);
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

/* build_file, then opens the index (*ix) and checks it is clean. */
static unsigned char *build_clean(const char *name, char **dir,
                                  char path[600], size_t *n, js_reader **ix)
{
    unsigned char *buf = build_file(name, dir, path, n);
    *ix = NULL;
    ck_assert_int_eq(js_reader_open(ix, *dir), 0);
    ck_assert_int_eq(js_reader_check(*ix), 0);
    return buf;
}

/* Writes the damaged buf (n bytes) over the index at path; it must
 * still open and search (hits or JS_ECORRUPT), and `check` must fail
 * with a message holding `needle`.  Frees buf and removes dir. */
static void expect_check_fails(char *dir, const char *path,
                               unsigned char *buf, size_t n,
                               const char *needle)
{
    tu_spit(path, buf, n);
    js_reader *ix = NULL;
    ck_assert_int_eq(js_reader_open(&ix, dir), 0);
    js_results *r = NULL;
    int rc = js_reader_search(&r, ix, "山", strlen("山"), NULL);
    ck_assert(rc == 0 || rc == JS_ECORRUPT);
    js_results_free(r);
    ck_assert_int_eq(js_reader_check(ix), JS_ECORRUPT);
    ck_assert_msg(strstr(js_reader_errmsg(ix), needle) != NULL, "%s",
                  js_reader_errmsg(ix));
    js_reader_close(ix);
    free(buf);
    tu_remove_dir(dir);
    free(dir);
}

/* A skip table norm set too low, its crc made right again: nothing on
 * the way to the bytes notices, and block-max search could skip the
 * block's best hit; `check` must recompute the norm and say so. */
START_TEST(test_low_norm)
{
    char *dir, path[600];
    size_t n;
    js_reader *ix;
    unsigned char *buf = build_clean("lownorm", &dir, path, &n, &ix);
    js_postings_cursor c;
    js_term_info info;
    ck_assert_int_eq(js_reader_postings(ix, "山", strlen("山"), &info, &c), 0);
    ck_assert_uint_gt(c.nblocks, 1); /* 4-entry blocks: it has a table */
    ck_assert(c.block_max_norm > 0);
    /* open points c.data at the table */
    size_t table = (size_t)(c.data - (const uint8_t *)ix->f.map);
    size_t tlen = (size_t)c.nblocks * 16;
    js_postings_close(&c);
    js_reader_close(ix);

    float low = 1e-6f;
    memcpy(buf + table + 12, &low, 4); /* block 0's norm (little-endian) */
    uint32_t crc = (uint32_t)crc32(0, buf + table, (uInt)tlen);
    for (int i = 0; i < 4; i++)
        buf[table + tlen + i] = (unsigned char)(crc >> (8 * i));
    fix_page_crcs(buf, n);
    expect_check_fails(dir, path, buf, n, "score bound");
}
END_TEST

/* A champion list with a wrong section count, its crc made right again:
 * the reader's checks pass it, so `check` must rank the term again and
 * say that its list differs. */
START_TEST(test_wrong_champion)
{
    char *dir, path[600];
    size_t n;
    js_reader *ix;
    unsigned char *buf = build_clean("champ", &dir, path, &n, &ix);
    js_term_info info;
    ck_assert_int_eq(js_lexicon_lookup(ix->lex, "山", strlen("山"), &info), 0);
    ck_assert_uint_ge(info.df, JS_CHAMP_MIN_DF); /* the corpus gives it one */
    const uint8_t *list;
    size_t len;
    ck_assert_int_eq(js_champs_find(&ix->champs, info.offset, &list, &len), 1);
    size_t at = (size_t)(list - (const uint8_t *)ix->f.map);
    js_reader_close(ix);

    uint32_t sections = (uint32_t)buf[at] | (uint32_t)buf[at + 1] << 8;
    sections--;
    buf[at] = (unsigned char)sections;
    buf[at + 1] = (unsigned char)(sections >> 8);
    uint32_t dlen = (uint32_t)buf[at + 8] | (uint32_t)buf[at + 9] << 8;
    uint32_t crc = (uint32_t)crc32(0, buf + at, 12);
    crc = (uint32_t)crc32(crc, buf + at + 16, dlen);
    for (int i = 0; i < 4; i++)
        buf[at + 12 + i] = (unsigned char)(crc >> (8 * i));
    expect_check_fails(dir, path, buf, n, "champions");
}
END_TEST

/* Walks every entry (and its positions) of term's postings through ix,
 * so that every block is loaded with ix's shared page checks.  Returns 0
 * or the error. */
static int walk_term(const js_reader *ix, const char *term)
{
    js_term_info ti;
    js_postings_cursor c;
    int rc = js_reader_postings(ix, term, strlen(term), &ti, &c);
    if (rc)
        return rc;
    uint32_t n = 0;
    while ((rc = js_postings_next(&c)) == 1) {
        const uint32_t *pos;
        if ((ti.flags & JS_TERM_POSITIONS) &&
            (rc = js_postings_positions(&c, &pos)))
            break;
        n++;
    }
    js_postings_close(&c);
    if (rc == 0)
        ck_assert_uint_eq(n, ti.df);
    return rc;
}

/* How many pages of ix's postings are recorded as passed. */
static uint64_t pages_passed(const js_reader *ix)
{
    uint64_t k = 0;
    for (uint64_t g = 0; g < ix->checks.npages; g++)
        k += (ix->checks.bits[g / 64] >> (g % 64)) & 1;
    return k;
}

/* The first lexicon entry of one block (df <= 4, the corpus' block
 * size: here a title's number, in a document's 3 sections). */
static int first_small(void *ctx, const char *term, size_t len,
                       const js_term_info *info)
{
    char *out = ctx;
    if (info->df > 4 || len >= 64)
        return 0;
    memcpy(out, term, len);
    out[len] = 0;
    return 1; /* stop */
}

/* A byte flipped in a record of POSTINGS, one with a skip table and one
 * of a single block (varints alone): nothing about the bytes need look wrong, but the
 * first load of the block through an open index finds its page's crc
 * wrong, a search says so, and so does `check`, naming the page. */
static const struct {
    const char *name;
    int df1; /* 1: the first term of one block; 0: 山 */
    int at;  /* the byte flipped: 0 the record's first, 1 its last */
} flips[] = {
    {"山, first byte", 0, 0},
    {"山, last byte (the skip table's crc)", 0, 1},
    {"a one-block record, first byte", 1, 0},
    {"a one-block record, last byte", 1, 1},
};

START_TEST(test_postings_flip)
{
    char *dir, path[600];
    size_t n;
    js_reader *ix;
    unsigned char *buf = build_clean("flip", &dir, path, &n, &ix);
    char term[64] = "山";
    if (flips[_i].df1)
        ck_assert_int_eq(js_lexicon_iter(ix->lex, first_small, term), 1);
    js_term_info info;
    ck_assert_int_eq(js_lexicon_lookup(ix->lex, term, strlen(term), &info), 0);
    ck_assert(flips[_i].df1 ? info.df <= 4 : info.df > 4 * 4);
    size_t po = (size_t)(ix->f.parts[JS_PART_POSTINGS].p -
                         (const uint8_t *)ix->f.map);
    js_reader_close(ix);
    size_t at = po + (size_t)info.offset + (flips[_i].at ? info.length - 1 : 0);
    buf[at] ^= 0x01;
    tu_spit(path, buf, n);
    ix = NULL;
    ck_assert_int_eq(js_reader_open(&ix, dir), 0);
    ck_assert_msg(walk_term(ix, term) == JS_ECORRUPT, "%s: walked",
                  flips[_i].name);
    ck_assert_int_eq(walk_term(ix, term), JS_ECORRUPT); /* not recorded */
    if (!flips[_i].df1) { /* a search that reads the list */
        js_results *r = NULL;
        const char *q = "山 水";
        ck_assert_int_eq(js_reader_search(&r, ix, q, strlen(q), NULL), JS_ECORRUPT);
        js_results_free(r);
    }
    ck_assert_int_eq(js_reader_check(ix), JS_ECORRUPT);
    ck_assert_msg(strstr(js_reader_errmsg(ix), "postings page") != NULL, "%s",
                  js_reader_errmsg(ix));
    js_reader_close(ix);
    free(buf);
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

/* POSTINGS_CRC damaged: a flipped byte anywhere fails its own crc and
 * the index is refused on open; with that crc made right again, a page
 * size or count that does not fit the postings is refused too, and a
 * wrong page crc is found by `check` (and by a load of that page). */
static const struct {
    const char *name;
    int field;      /* 0 page size, 1 page count, 2 page 0's crc, 3 the
                     * part's crc */
    int64_t add;    /* to the field */
    int fix;        /* recompute the part's crc afterwards */
    int opens;      /* whether js_reader_open accepts it */
} crc_damage[] = {
    {"page size flipped", 0, 1, 0, 0},
    {"page count + 1", 1, 1, 0, 0},
    {"page 0's crc flipped", 2, 1, 0, 0},
    {"the part's crc flipped", 3, 1, 0, 0},
    {"page size 1025, crc right", 0, 1, 1, 0},
    {"page size 512, crc right", 0, -512, 1, 0},
    {"page count - 1, crc right", 1, -1, 1, 0},
    {"page 0's crc wrong, part crc right", 2, 1, 1, 1},
};

START_TEST(test_postings_crc_damaged)
{
    char *dir, path[600];
    size_t n;
    js_reader *ix;
    unsigned char *buf = build_clean("pcrc", &dir, path, &n, &ix);
    js_reader_close(ix);
    size_t co, cl;
    part_at(buf, n, JS_PART_POSTINGS_CRC, &co, &cl);
    ck_assert_uint_eq(get_le(buf + co, 4), JS_PAGE_SIZE);
    ck_assert_uint_ge(get_le(buf + co + 4, 8), 2);
    static const size_t where[4] = {0, 4, 12, 0}, width[4] = {4, 8, 4, 4};
    int f = crc_damage[_i].field;
    size_t at = co + (f == 3 ? cl - 4 : where[f]);
    put_le(buf + at, get_le(buf + at, (int)width[f]) + (uint64_t)crc_damage[_i].add,
           (int)width[f]);
    if (crc_damage[_i].fix)
        put_le(buf + co + cl - 4, (uint32_t)crc32(0, buf + co, (uInt)(cl - 4)),
               4);
    tu_spit(path, buf, n);
    ix = NULL;
    int rc = js_reader_open(&ix, dir);
    if (!crc_damage[_i].opens) {
        ck_assert_msg(rc == JS_ECORRUPT, "%s: open gave %d", crc_damage[_i].name,
                      rc);
        ck_assert_msg(strstr(js_reader_errmsg(ix), "postings crc") != NULL,
                      "%s: %s", crc_damage[_i].name, js_reader_errmsg(ix));
    } else {
        ck_assert_int_eq(rc, 0);
        ck_assert_int_eq(js_reader_check(ix), JS_ECORRUPT);
        ck_assert_msg(strstr(js_reader_errmsg(ix), "postings page 0 ") != NULL,
                      "%s", js_reader_errmsg(ix));
    }
    js_reader_close(ix);
    free(buf);
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

/* Writes one byte of the index file in place: an open index's mapping
 * (MAP_SHARED) sees it, as it would see damage on the disk. */
static void poke(const char *path, size_t at, unsigned char v)
{
    int fd = open(path, O_WRONLY);
    ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
    ck_assert_int_eq(pwrite(fd, &v, 1, (off_t)at), 1);
    close(fd);
}

/* The page bits are shared by an index's cursors: a page is crc'd on its
 * first load and not again (damage made after that goes unseen by that
 * handle, as a page that passed is trusted), a fresh handle finds the
 * damage, and a page that fails is never recorded as passed. */
START_TEST(test_page_bits_shared)
{
    char *dir, path[600];
    size_t n;
    js_reader *ix;
    unsigned char *buf = build_clean("bits", &dir, path, &n, &ix);
    js_reader_close(ix);
    ck_assert_int_eq(js_reader_open(&ix, dir), 0);
    ck_assert_ptr_nonnull(ix->checks.bits);
    ck_assert_uint_eq(pages_passed(ix), 0);
    const char *term = "山";
    ck_assert_int_eq(walk_term(ix, term), 0);
    uint64_t passed = pages_passed(ix);
    ck_assert_uint_ge(passed, 1);
    ck_assert_int_eq(walk_term(ix, term), 0);
    ck_assert_uint_eq(pages_passed(ix), passed);

    /* a byte of another term in the page where 山's record starts */
    js_term_info info;
    ck_assert_int_eq(js_lexicon_lookup(ix->lex, term, strlen(term), &info), 0);
    uint64_t page = info.offset / JS_PAGE_SIZE;
    ck_assert_msg(info.offset % JS_PAGE_SIZE != 0, "山's record starts a page");
    size_t po = (size_t)(ix->f.parts[JS_PART_POSTINGS].p -
                         (const uint8_t *)ix->f.map);
    size_t at = po + (size_t)page * JS_PAGE_SIZE;
    ck_assert_uint_eq((ix->checks.bits[page / 64] >> (page % 64)) & 1, 1);
    poke(path, at, (unsigned char)(buf[at] ^ 0x40));
    /* this handle trusts the page: 山 reads as before */
    ck_assert_int_eq(walk_term(ix, term), 0);
    js_reader *fresh = NULL;
    ck_assert_int_eq(js_reader_open(&fresh, dir), 0);
    ck_assert_int_eq(walk_term(fresh, term), JS_ECORRUPT);
    ck_assert_uint_eq((fresh->checks.bits[page / 64] >> (page % 64)) & 1, 0);
    ck_assert_int_eq(walk_term(fresh, term), JS_ECORRUPT);
    ck_assert_uint_eq((fresh->checks.bits[page / 64] >> (page % 64)) & 1, 0);
    poke(path, at, buf[at]);
    ck_assert_int_eq(walk_term(fresh, term), 0);
    ck_assert_uint_eq((fresh->checks.bits[page / 64] >> (page % 64)) & 1, 1);
    ck_assert_int_eq(js_reader_check(fresh), 0);
    ck_assert_uint_eq(pages_passed(fresh), fresh->checks.npages);
    js_reader_close(fresh);
    js_reader_close(ix);
    free(buf);
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

/* Returns a copy of the index file f (n bytes) in which part id is
 * replaced by p[0..len): the new part goes after the old parts, where the
 * table of contents was, and the table, trailer and header are written
 * again with their checksums (the old part's bytes stay, unused).  Sets
 * *out_n; the caller frees the copy. */
static unsigned char *replace_part(const unsigned char *f, size_t n,
                                   uint32_t id, const uint8_t *p, size_t len,
                                   size_t *out_n)
{
    uint64_t toc = js_le64(f + n - 16);
    uint32_t parts = js_le32(f + toc);
    js_buf o = JS_BUF_INIT;
    js_buf_put(&o, f, (size_t)toc);
    uint64_t at = o.len;
    js_buf_put(&o, p, len);
    uint64_t new_toc = o.len;
    js_buf_u32(&o, parts);
    for (uint32_t i = 0; i < parts; i++) {
        const unsigned char *e = f + toc + 4 + 24 * (size_t)i;
        uint32_t pid = js_le32(e);
        js_buf_u32(&o, pid);
        if (pid == id) {
            js_buf_u32(&o, (uint32_t)crc32(0, p, (uInt)len));
            js_buf_u64(&o, at);
            js_buf_u64(&o, len);
        } else {
            js_buf_put(&o, e + 4, 20);
        }
    }
    js_buf_u32(&o, (uint32_t)crc32(0, o.p + new_toc,
                                   (uInt)(o.len - new_toc)));
    js_buf_u64(&o, new_toc);
    js_buf_put(&o, f + n - 8, 8);
    ck_assert(!o.oom);
    js_put_le64(o.p + 16, o.len);
    js_put_le32(o.p + 28, (uint32_t)crc32(0, o.p, 28));
    *out_n = o.len;
    return o.p;
}

/* STATS saying positions are kept for every kind of term (as format 4
 * did), its crcs made right again: the search would then take the
 * unigrams' missing positions for damage, so open refuses it. */
START_TEST(test_positions_for)
{
    char *dir, path[600];
    size_t n;
    js_reader *ix;
    unsigned char *orig = build_clean("posfor", &dir, path, &n, &ix);
    js_reader_close(ix);
    size_t off, len, m;
    part_at(orig, n, JS_PART_STATS, &off, &len);
    unsigned char *stats = malloc(len);
    ck_assert_ptr_nonnull(stats);
    memcpy(stats, orig + off, len);
    ck_assert_uint_eq(js_le32(stats + 80), 5); /* positions for */
    js_put_le32(stats + 80, 7);
    unsigned char *buf = replace_part(orig, n, JS_PART_STATS, stats, len, &m);
    free(stats);
    free(orig);
    tu_spit(path, buf, m);
    ix = NULL;
    ck_assert_int_eq(js_reader_open(&ix, dir), JS_ECORRUPT);
    ck_assert_msg(strstr(js_reader_errmsg(ix), "positions are kept for kinds 7"),
                  "%s", js_reader_errmsg(ix));
    js_reader_close(ix);
    free(buf);
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

/* ---- the SECTIONS part, damaged behind a good checksum ---- */


/* Runs every query on ix, damaged as `what` says: each must give hits
 * or JS_ECORRUPT. */
static void search_all(js_reader *ix, const char *what)
{
    for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
        js_results *res = NULL;
        int rc = js_reader_search(&res, ix, queries[q], strlen(queries[q]), NULL);
        ck_assert_msg(rc == 0 || rc == JS_ECORRUPT, "%s: search %s gave %d",
                      what, queries[q], rc);
        js_results_free(res);
    }
}

/* The damage done to a SECTIONS part. */
enum {
    SD_NONE,
    SD_BAD_VARINT,  /* group 1's last section: a gap varint cut short */
    SD_DOC_RANGE,   /* group 1's first document past the last document */
    SD_END_WRAPS,   /* section 17's end - start is 2^64 - 1: the end wraps
                       below its start */
    SD_WIDTH_9,     /* group 1's length width 9 */
    SD_STRAY_BIT,   /* group 1's new-document bit 0 set */
    SD_TRAILING,    /* a byte after group 1's last section */
    SD_OFFSETS,     /* group 1's offset after group 2's */
    SD_HEAD_WIDTH,  /* the part's length width 3 */
    SD_HEAD_COUNT,  /* the part's count one short */
    SD_HEAD_SPAN,   /* the last group offset one past the groups */
    SD_SKIP_DOC,    /* group 1 begins two documents after group 0's last */
};

/* Appends sections r[0..k) as a group, as FORMAT.md lays it out and
 * checking nothing, with the damage to a group. */
static void forge_group(js_buf *o, const js_section_rec *r, unsigned k,
                        int damage, uint32_t ndocs)
{
    uint32_t newdoc = 0, gap = 0;
    uint64_t len[JS_SECTION_GROUP], end = 0, longest = 0;
    for (unsigned i = 0; i < k; i++) {
        if (i && r[i].document != r[i - 1].document)
            newdoc |= 1u << i;
        if (r[i].start != end)
            gap |= 1u << i;
        len[i] = r[i].end - r[i].start;
        end = r[i].end;
    }
    if (damage == SD_END_WRAPS)
        len[1] = UINT64_MAX;
    if (damage == SD_BAD_VARINT)
        gap |= 1u << (k - 1);
    if (damage == SD_STRAY_BIT)
        newdoc |= 1;
    for (unsigned i = 0; i < k; i++)
        longest = len[i] > longest ? len[i] : longest;
    unsigned w = 0;
    while (w < 8 && longest >> 8 * w)
        w++;
    uint64_t doc = r[0].document;
    if (damage == SD_DOC_RANGE)
        doc = ndocs + 80;
    if (damage == SD_SKIP_DOC)
        doc++;
    js_buf_varint(o, doc);
    js_buf_varint(o, r[0].ordinal);
    js_buf_u16(o, (uint16_t)newdoc);
    js_buf_u16(o, (uint16_t)gap);
    js_buf_u8(o, (uint8_t)(damage == SD_WIDTH_9 ? 9 : w));
    for (unsigned i = 0; i < k; i++)
        for (unsigned b = 0; b < w; b++)
            js_buf_u8(o, (uint8_t)(len[i] >> 8 * b));
    end = 0;
    for (unsigned i = 0; i < k; i++) {
        if (damage == SD_BAD_VARINT && i == k - 1) {
            js_buf_u8(o, 0x80); /* a continuation, then the group ends */
            break;
        }
        if (gap >> i & 1) {
            uint64_t d = r[i].start - end;
            js_buf_varint(o, d << 1 ^ (0 - (d >> 63)));
        }
        end = r[i].end;
    }
    if (damage == SD_TRAILING)
        js_buf_u8(o, 0);
}

/* The SECTIONS part of the n sections r (of ndocs documents), group 1
 * forged with the damage, the others encoded by sections.c. */
static void sections_part(js_buf *o, const js_section_rec *r, uint32_t n,
                          uint32_t ndocs, int damage)
{
    js_buf groups = JS_BUF_INIT;
    uint64_t offs[64];
    uint32_t ng = (n + JS_SECTION_GROUP - 1) / JS_SECTION_GROUP;
    ck_assert_uint_lt(ng, 64);
    for (uint32_t g = 0; g < ng; g++) {
        uint32_t first = g * JS_SECTION_GROUP;
        unsigned k = n - first < JS_SECTION_GROUP ? n - first
                                                  : JS_SECTION_GROUP;
        offs[g] = groups.len;
        if (g == 1)
            forge_group(&groups, &r[first], k, damage, ndocs);
        else
            ck_assert_int_eq(js_sections_put_group(&groups,
                                                   first ? &r[first - 1] : NULL,
                                                   &r[first], k), 0);
    }
    offs[ng] = groups.len;
    if (damage == SD_OFFSETS)
        offs[1] = offs[2] + 1;
    if (damage == SD_HEAD_SPAN)
        offs[ng]++;
    js_sections_put_header(o, damage == SD_HEAD_COUNT ? n - 1 : n,
                           damage == SD_HEAD_WIDTH ? 3 : 2, 4);
    for (uint32_t i = 0; i < n; i++)
        js_sections_put_lens(o, r[i].body_len, r[i].head_len, 2);
    for (uint32_t g = 0; g <= ng; g++)
        js_buf_u32(o, (uint32_t)offs[g]);
    js_buf_put(o, groups.p, groups.len);
    ck_assert(!o->oom && !groups.oom);
    js_buf_free(&groups);
}

/* Each damage to SECTIONS, its checksum made right: the index is refused
 * on open, or it opens, the damaged section's read reports corrupt,
 * searches give hits or JS_ECORRUPT, and `check` names the problem. */
START_TEST(test_damaged_sections)
{
    static const struct {
        const char *name;
        int damage;
        int refused;        /* open fails */
        const char *needle; /* in open's message, else check's */
        uint32_t bad_id;    /* a section whose read fails, or UINT32_MAX */
    } cases[] = {
        {"nothing", SD_NONE, 0, NULL, UINT32_MAX},
        {"a gap varint cut short", SD_BAD_VARINT, 0,
         "section 31 has a bad varint", 31},
        {"a document out of range", SD_DOC_RANGE, 0,
         "section 16 is in document 200 of 120", 16},
        {"an end past 2^64 - 1, below its start", SD_END_WRAPS, 0,
         "section 17 ends past 2^64 - 1", 17},
        {"a group length width of 9", SD_WIDTH_9, 0,
         "group 1 (section 16 on) has bad offsets or a bad header", 20},
        {"a stray new-document bit", SD_STRAY_BIT, 0,
         "group 1 (section 16 on) has bits set for no section", UINT32_MAX},
        {"a byte after a group", SD_TRAILING, 0,
         "group 1 (section 16 on) has 1 bytes after its last section",
         UINT32_MAX},
        {"group offsets out of order", SD_OFFSETS, 0, "group", 16},
        {"a document skipped between groups", SD_SKIP_DOC, 0,
         "section 16 (document 6, ordinal 1) does not follow section 15 "
         "(document 5, ordinal 0)", UINT32_MAX},
        {"a bad length width", SD_HEAD_WIDTH, 1, "bad length or offset width",
         UINT32_MAX},
        {"a wrong count", SD_HEAD_COUNT, 1,
         "holds 359 sections, the stats say 360", UINT32_MAX},
        {"offsets that do not span the groups", SD_HEAD_SPAN, 1,
         "do not span", UINT32_MAX},
    };
    char *dir, path[600];
    size_t n;
    js_reader *ix;
    unsigned char *orig = build_clean("sections", &dir, path, &n, &ix);
    uint32_t ns = ix->nsections, nd = ix->ndocs;
    ck_assert_uint_eq(ns, 360); /* 120 records of 3 sections */
    js_section_rec *r = calloc(ns, sizeof *r);
    for (uint32_t i = 0; i < ns; i++)
        ck_assert_int_eq(js_reader_section(ix, i, &r[i]), 0);
    /* the damages above assume these: section 15 begins document 5 */
    ck_assert_uint_eq(r[15].document, 5);
    ck_assert_uint_eq(r[15].ordinal, 0);
    ck_assert_uint_eq(r[16].ordinal, 1);
    js_reader_close(ix);

    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        js_buf part = JS_BUF_INIT;
        sections_part(&part, r, ns, nd, cases[t].damage);
        size_t m;
        unsigned char *buf = replace_part(orig, n, JS_PART_SECTIONS, part.p,
                                          part.len, &m);
        js_buf_free(&part);
        tu_spit(path, buf, m);
        free(buf);
        int rc = js_reader_open(&ix, dir);
        if (cases[t].refused) {
            ck_assert_msg(rc == JS_ECORRUPT, "%s: open gave %d", cases[t].name,
                          rc);
            ck_assert_msg(strstr(js_reader_errmsg(ix), cases[t].needle),
                          "%s: %s", cases[t].name, js_reader_errmsg(ix));
            js_reader_close(ix);
            continue;
        }
        ck_assert_msg(rc == 0, "%s: open: %s", cases[t].name,
                      js_reader_errmsg(ix));
        js_section_rec s;
        if (cases[t].bad_id != UINT32_MAX)
            ck_assert_msg(js_reader_section(ix, cases[t].bad_id, &s) ==
                              JS_ECORRUPT,
                          "%s: section %u reads", cases[t].name,
                          cases[t].bad_id);
        /* the other groups read as before */
        for (uint32_t i = 0; i < JS_SECTION_GROUP; i++) {
            ck_assert_int_eq(js_reader_section(ix, i, &s), 0);
            ck_assert(s.document == r[i].document && s.start == r[i].start &&
                      s.end == r[i].end);
        }
        search_all(ix, cases[t].name);
        rc = js_reader_check(ix);
        if (!cases[t].needle) {
            ck_assert_msg(rc == 0, "%s: %s", cases[t].name,
                          js_reader_errmsg(ix));
        } else {
            ck_assert_msg(rc == JS_ECORRUPT, "%s: check gave %d",
                          cases[t].name, rc);
            ck_assert_msg(strstr(js_reader_errmsg(ix), cases[t].needle),
                          "%s: %s", cases[t].name, js_reader_errmsg(ix));
        }
        js_reader_close(ix);
    }
    free(r);
    free(orig);
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

/* ---- the DOCUMENTS part, damaged behind a good checksum ---- */

/* A document record of FORMAT.md part 2, taken apart. */
typedef struct {
    uint64_t src, back;
    const char *title, *meta; /* meta NULL when back > 0 */
    const uint8_t *id;        /* the id as stored, idn bytes */
    size_t idn;
} doc_parts;

/* The damage done to the DOCUMENTS part's records. */
enum {
    DD_NONE,
    DD_BEFORE_FIRST, /* document 3 refers 5 back */
    DD_CHAIN,        /* document 12 refers to document 11, a reference */
    DD_TO_EMPTY,     /* document 20 holds empty metadata, 21 refers to it */
    DD_TRAILING,     /* a byte after document 13's reference */
    DD_CUT_VARINT,   /* document 14's reference varint cut short */
    DD_UUID_CUT,     /* document 16's record ends inside its UUID */
    DD_BAD_ESCAPE,   /* document 17's id "r17" behind the escape byte */
};

/* Writes the DOCUMENTS part of an index whose part is p[0..len) again
 * into o, as FORMAT.md lays it out, with one damage to its records. */
static void documents_part(js_buf *o, const uint8_t *p, size_t len,
                           int damage)
{
    uint32_t nd = js_le32(p), ns = js_le32(p + 4);
    const uint8_t *soff = p + 8, *doff = soff + 8 * ((size_t)ns + 1);
    const uint8_t *sstr = doff + 8 * ((size_t)nd + 1);
    const uint8_t *dstr = sstr + js_le64(soff + 8 * (size_t)ns);
    ck_assert(dstr + js_le64(doff + 8 * (size_t)nd) == p + len);
    js_buf recs = JS_BUF_INIT;
    js_buf_u32(o, nd);
    js_buf_u32(o, ns);
    js_buf_put(o, soff, 8 * ((size_t)ns + 1));
    size_t at = o->len;
    for (uint32_t i = 0; i <= nd; i++)
        js_buf_u64(o, 0); /* filled in below */
    js_buf_put(o, sstr, (size_t)(dstr - sstr));
    for (uint32_t i = 0; i < nd; i++) {
        const uint8_t *r = dstr + js_le64(doff + 8 * (size_t)i);
        const uint8_t *e = dstr + js_le64(doff + 8 * ((size_t)i + 1));
        js_rd rd = js_rd_make(r, (size_t)(e - r));
        doc_parts d = {0};
        d.src = js_rd_varint(&rd);
        d.title = (const char *)rd.p;
        d.id = (const uint8_t *)d.title + strlen(d.title) + 1;
        d.idn = d.id[0] == 1 ? 17 : strlen((const char *)d.id) + 1;
        rd = js_rd_make(d.id + d.idn, (size_t)(e - (d.id + d.idn)));
        d.back = js_rd_varint(&rd);
        d.meta = d.back ? NULL : (const char *)rd.p;
        ck_assert(!rd.bad);
        if ((damage == DD_BEFORE_FIRST && i == 3) ||
            (damage == DD_CHAIN && i == 12) || (damage == DD_TO_EMPTY && i == 21)) {
            d.back = damage == DD_BEFORE_FIRST ? 5 : 1;
            d.meta = NULL;
        }
        if (damage == DD_TO_EMPTY && i == 20) {
            d.back = 0;
            d.meta = "";
        }
        js_buf_varint(&recs, d.src);
        js_buf_put(&recs, d.title, strlen(d.title) + 1);
        if (damage == DD_UUID_CUT && i == 16) {
            ck_assert_uint_eq(d.id[0], 1);
            js_buf_put(&recs, d.id, 6);
            js_put_le64(o->p + at + 8 * ((size_t)i + 1), recs.len);
            continue;
        }
        if (damage == DD_BAD_ESCAPE && i == 17)
            js_buf_u8(&recs, 2);
        js_buf_put(&recs, d.id, d.idn);
        if (damage == DD_CUT_VARINT && i == 14) {
            js_buf_u8(&recs, 0x80);
        } else {
            js_buf_varint(&recs, d.back);
            if (!d.back)
                js_buf_put(&recs, d.meta, strlen(d.meta) + 1);
        }
        if (damage == DD_TRAILING && i == 13)
            js_buf_u8(&recs, 'x');
        js_put_le64(o->p + at + 8 * ((size_t)i + 1), recs.len);
    }
    js_buf_put(o, recs.p, recs.len);
    ck_assert(!o->oom && !recs.oom);
    js_buf_free(&recs);
}

/* A document's metadata reference damaged, the part's crcs right: open
 * and search go on (a result's document read fails as JS_ECORRUPT), and
 * `check` names the document. */
START_TEST(test_damaged_documents)
{
    static const struct {
        const char *name;
        int damage;
        uint32_t bad; /* the document `check` names, or UINT32_MAX */
    } cases[] = {
        {"nothing", DD_NONE, UINT32_MAX},
        {"a reference before document 0", DD_BEFORE_FIRST, 3},
        {"a chain of references", DD_CHAIN, 12},
        {"a reference to empty metadata", DD_TO_EMPTY, 21},
        {"a byte after a reference", DD_TRAILING, 13},
        {"a reference varint cut short", DD_CUT_VARINT, 14},
        {"a record that ends inside its UUID", DD_UUID_CUT, 16},
        {"an escape before an id that needs none", DD_BAD_ESCAPE, 17},
    };
    char *dir, path[600];
    size_t n;
    js_reader *ix;
    unsigned char *orig = build_clean("documents", &dir, path, &n, &ix);
    /* the damages above assume these: document 11 refers to 10, and 15
     * reads its run's metadata through its reference */
    js_doc_rec d;
    ck_assert_int_eq(js_reader_document(ix, 15, &d), 0);
    ck_assert_str_eq(d.metadata, "{\"author\":\"作者1\"}");
    ck_assert_int_eq(js_reader_document(ix, 16, &d), 0);
    ck_assert_str_eq(d.id, "0f8fad5b-d9cb-469f-a165-000000000010");
    size_t off, len;
    part_at(orig, n, JS_PART_DOCUMENTS, &off, &len);
    js_reader_close(ix);
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        js_buf part = JS_BUF_INIT;
        documents_part(&part, orig + off, len, cases[t].damage);
        size_t m;
        unsigned char *buf = replace_part(orig, n, JS_PART_DOCUMENTS, part.p,
                                          part.len, &m);
        js_buf_free(&part);
        tu_spit(path, buf, m);
        free(buf);
        ck_assert_int_eq(js_reader_open(&ix, dir), 0);
        if (cases[t].bad != UINT32_MAX)
            ck_assert_msg(js_reader_document(ix, cases[t].bad, &d) ==
                              JS_ECORRUPT,
                          "%s: document %u reads", cases[t].name,
                          cases[t].bad);
        ck_assert_int_eq(js_reader_document(ix, 15, &d), 0);
        ck_assert_str_eq(d.metadata, "{\"author\":\"作者1\"}");
        search_all(ix, cases[t].name);
        int rc = js_reader_check(ix);
        if (cases[t].bad == UINT32_MAX) {
            ck_assert_msg(rc == 0, "%s: %s", cases[t].name,
                          js_reader_errmsg(ix));
        } else {
            char want[64];
            snprintf(want, sizeof want, "document %u is malformed",
                     cases[t].bad);
            ck_assert_msg(rc == JS_ECORRUPT && strstr(js_reader_errmsg(ix), want),
                          "%s: check gave %d: %s", cases[t].name, rc,
                          js_reader_errmsg(ix));
        }
        js_reader_close(ix);
    }
    free(orig);
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

static Suite *corrupt_suite(void)
{
    Suite *s = suite_create("corrupt");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_damage_everywhere);
    tcase_add_test(tc, test_low_norm);
    tcase_add_test(tc, test_wrong_champion);
    tcase_add_loop_test(tc, test_postings_flip, 0, sizeof flips / sizeof *flips);
    tcase_add_loop_test(tc, test_postings_crc_damaged, 0,
                        sizeof crc_damage / sizeof *crc_damage);
    tcase_add_test(tc, test_page_bits_shared);
    tcase_add_test(tc, test_positions_for);
    tcase_add_test(tc, test_damaged_sections);
    tcase_add_test(tc, test_damaged_documents);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(corrupt_suite(), 0);
}
