/*
 * check_champ.c — champion lists (index/champ.c): the ranker keeps the
 * best sections by t with ties to the smaller id, whatever the order of
 * t's among the sections; records round-trip; the decoder and the part
 * opener refuse every kind of damage; the builder's ranking parameters
 * are the search's defaults.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "champ.h"
#include "codec.h"
#include "jiansuo.h"
#include "testutil.h"

static uint64_t seed = 0x243f6a8885a308d3ull;

/* ---- the ranker against sorting everything ---- */

typedef struct {
    uint32_t id, tb, lb, th, lh;
} sec;

typedef struct {
    const char *name;
    uint32_t size;
    sec s[8];
    uint32_t n;
    uint32_t want[8]; /* the kept ids, in id order */
    uint32_t nwant;
} rank_case;

/* avg 10 for both fields, b 0.75, w 2: t = tb / (0.25 + 0.075 lb) +
 * 2 th / (0.25 + 0.075 lh). */
static const rank_case rank_cases[] = {
    {"fewer than the size", 4, {{3, 1, 10, 0, 5}, {7, 2, 10, 0, 5}}, 2,
     {3, 7}, 2},
    {"higher tf wins", 2,
     {{1, 1, 10, 0, 5}, {2, 3, 10, 0, 5}, {3, 2, 10, 0, 5}}, 3, {2, 3}, 2},
    {"shorter section wins", 1, {{1, 1, 20, 0, 5}, {2, 1, 5, 0, 5}}, 2, {2},
     1},
    {"ties go to the smaller id", 2,
     {{4, 1, 10, 0, 5}, {5, 1, 10, 0, 5}, {6, 1, 10, 0, 5}}, 3, {4, 5}, 2},
    {"a heading match weighs w times", 1,
     {{1, 2, 10, 0, 10}, {2, 0, 10, 1, 10}}, 2, {1}, 1},
    {"a heading-only section can win", 1,
     {{1, 1, 10, 0, 10}, {2, 0, 0, 1, 2}}, 2, {2}, 1},
    {"both fields add up", 1,
     {{1, 2, 10, 0, 10}, {2, 1, 10, 1, 10}}, 2, {2}, 1},
};

START_TEST(test_rank_table)
{
    const rank_case *c = &rank_cases[_i];
    js_champ_ranker r;
    ck_assert_int_eq(js_champ_ranker_init(&r, c->size, 0.75, 2.0, 10, 10), 0);
    js_champ_ranker_reset(&r);
    for (uint32_t i = 0; i < c->n; i++)
        ck_assert_int_eq(js_champ_ranker_add(&r, c->s[i].id, c->s[i].tb,
                                             c->s[i].lb, c->s[i].th,
                                             c->s[i].lh),
                         0);
    js_buf out = JS_BUF_INIT;
    ck_assert_int_eq(js_champ_ranker_encode(&r, &out), 0);
    js_champ_list *l = malloc(sizeof *l);
    ck_assert_int_eq(js_champ_decode(out.p, out.len, out.len, c->size, 100, l),
                     0);
    ck_assert_msg(l->n == c->nwant, "%s: %u kept", c->name, l->n);
    ck_assert_uint_eq(l->sections, c->n);
    for (uint32_t i = 0; i < l->n; i++)
        ck_assert_msg(l->id[i] == c->want[i], "%s: entry %u is %u", c->name, i,
                      l->id[i]);
    free(l);
    js_buf_free(&out);
    js_champ_ranker_free(&r);
}
END_TEST

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int by_t(const void *a, const void *b)
{
    const js_champ_item *x = a, *y = b;
    if (x->t != y->t)
        return x->t > y->t ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

START_TEST(test_rank_random)
{
    enum { N = 3000, SIZE = 32 };
    static js_champ_item all[N];
    static uint32_t lb[N], lh[N];
    for (int round = 0; round < 20; round++) {
        js_champ_ranker r;
        ck_assert_int_eq(js_champ_ranker_init(&r, SIZE, 0.75, 2.0, 30, 4), 0);
        js_champ_ranker_reset(&r);
        uint32_t n = 1 + tu_rnd(&seed) % N, id = 0;
        for (uint32_t i = 0; i < n; i++) {
            id += 1 + tu_rnd(&seed) % 5;
            uint32_t tb = tu_rnd(&seed) % 4, th = tu_rnd(&seed) % 2;
            if (tb + th == 0)
                tb = 1;
            lb[i] = tb + tu_rnd(&seed) % 60; /* few distinct: many ties */
            lh[i] = th + tu_rnd(&seed) % 6;
            all[i] = (js_champ_item){
                js_bm25f_t(0.75, 2.0, 30, 4, tb, lb[i], th, lh[i]), id, tb, th};
            ck_assert_int_eq(js_champ_ranker_add(&r, id, tb, lb[i], th, lh[i]),
                             0);
        }
        qsort(all, n, sizeof *all, by_t);
        uint32_t keep = n < SIZE ? n : SIZE;
        static uint32_t want[SIZE];
        for (uint32_t i = 0; i < keep; i++)
            want[i] = all[i].id;
        qsort(want, keep, sizeof *want, cmp_u32);
        js_buf out = JS_BUF_INIT;
        ck_assert_int_eq(js_champ_ranker_encode(&r, &out), 0);
        js_champ_list *l = malloc(sizeof *l);
        ck_assert_int_eq(
            js_champ_decode(out.p, out.len, out.len, SIZE, UINT32_MAX, l), 0);
        ck_assert_uint_eq(l->n, keep);
        ck_assert_uint_eq(l->sections, n);
        for (uint32_t i = 0; i < keep; i++)
            ck_assert_uint_eq(l->id[i], want[i]);
        free(l);
        js_buf_free(&out);
        js_champ_ranker_free(&r);
    }
}
END_TEST

START_TEST(test_rank_rules)
{
    js_champ_ranker r;
    ck_assert_int_eq(js_champ_ranker_init(&r, 0, 0.75, 2, 1, 1), JS_EINVALID);
    ck_assert_int_eq(js_champ_ranker_init(&r, JS_CHAMP_MAX_SIZE + 1, 0.75, 2,
                                          1, 1),
                     JS_EINVALID);
    ck_assert_int_eq(js_champ_ranker_init(&r, 4, 0.75, 2, 1, 1), 0);
    js_champ_ranker_reset(&r);
    js_buf out = JS_BUF_INIT;
    ck_assert_int_eq(js_champ_ranker_encode(&r, &out), JS_EINVALID);
    ck_assert_int_eq(js_champ_ranker_add(&r, 5, 1, 3, 0, 0), 0);
    ck_assert_int_eq(js_champ_ranker_add(&r, 5, 1, 3, 0, 0), JS_EINVALID);
    ck_assert_int_eq(js_champ_ranker_add(&r, 4, 1, 3, 0, 0), JS_EINVALID);
    js_buf_free(&out);
    js_champ_ranker_free(&r);
    /* the builder ranks for the search's defaults */
    js_search_options o = JS_SEARCH_OPTIONS_INIT;
    ck_assert(o.heading_weight == JS_CHAMP_W);
    ck_assert(o.b == JS_NORM_B);
}
END_TEST

/* ---- damaged records ---- */

/* A list of 3 sections of 5, size 3: ids 2, 9, 40. */
static void good_list(js_buf *out)
{
    js_champ_ranker r;
    ck_assert_int_eq(js_champ_ranker_init(&r, 3, 0.75, 2, 10, 10), 0);
    js_champ_ranker_reset(&r);
    static const uint32_t ids[5] = {2, 5, 9, 11, 40}, tb[5] = {3, 1, 2, 1, 4};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(js_champ_ranker_add(&r, ids[i], tb[i], 10, 0, 0), 0);
    ck_assert_int_eq(js_champ_ranker_encode(&r, out), 0);
    js_champ_ranker_free(&r);
}

static void fix_crc(uint8_t *p)
{
    uint32_t dlen = js_le32(p + 8);
    uint32_t crc = (uint32_t)crc32(0L, p, 12);
    js_put_le32(p + 12, (uint32_t)crc32(crc, p + 16, dlen));
}

typedef struct {
    const char *name;
    int field;     /* 0 sections, 1 n, 2 data length, 3 crc; -1 data byte */
    uint32_t value;
    int recrc;
    int ok;        /* still a valid list */
} damage_case;

static const damage_case damage_cases[] = {
    {"fewer sections than entries", 0, 2, 1, 0},
    {"a full list may stand for more sections", 0, 99, 1, 1},
    {"sections changed under the crc", 0, 99, 0, 0},
    {"no entries", 1, 0, 1, 0},
    {"more entries than the size", 1, 4, 1, 0},
    {"fewer entries than size and sections", 1, 2, 1, 0},
    {"a data length past the record", 2, 200, 0, 0},
    {"a wrong crc", 3, 12345, 0, 0},
    {"an id beyond the sections", -1, 0x7F, 1, 0},
};

START_TEST(test_decode_damage)
{
    const damage_case *c = &damage_cases[_i];
    js_buf b = JS_BUF_INIT;
    good_list(&b);
    js_champ_list *l = malloc(sizeof *l);
    ck_assert_int_eq(js_champ_decode(b.p, b.len, b.len, 3, 100, l), 0);
    ck_assert_uint_eq(l->n, 3);
    ck_assert_uint_eq(l->id[0], 2);
    ck_assert_uint_eq(l->id[1], 9);
    ck_assert_uint_eq(l->id[2], 40);
    if (c->field >= 0)
        js_put_le32(b.p + 4 * c->field, c->value);
    else
        b.p[16 + 1] = (uint8_t)c->value; /* the first id's data byte */
    if (c->recrc)
        fix_crc(b.p);
    int want = c->ok ? 0 : JS_ECORRUPT;
    ck_assert_msg(js_champ_decode(b.p, b.len, b.len, 3, 100, l) == want, "%s",
                  c->name);
    /* every truncation fails */
    for (size_t n = 0; n < b.len && !want; n++)
        ck_assert_int_eq(js_champ_decode(b.p, n, b.len, 3, 100, l),
                         JS_ECORRUPT);
    free(l);
    js_buf_free(&b);
}
END_TEST

/* ---- the part ---- */

/* A part of two lists for postings offsets 10 and 50. */
static void good_part(js_buf *part)
{
    js_buf l1 = JS_BUF_INIT, l2 = JS_BUF_INIT, table = JS_BUF_INIT,
           tail = JS_BUF_INIT;
    good_list(&l1);
    good_list(&l2);
    js_buf_u64(&table, 10);
    js_buf_u64(&table, 0);
    js_buf_u64(&table, 50);
    js_buf_u64(&table, l1.len);
    js_champ_header h = {2, 3, 5, 0.75, 2.0};
    js_champ_put_header(part, &tail, &h,
                        (uint32_t)crc32(0L, table.p, (uInt)table.len),
                        table.len);
    js_buf_put(part, table.p, table.len);
    js_buf_put(part, tail.p, tail.len);
    js_buf_put(part, l1.p, l1.len);
    js_buf_put(part, l2.p, l2.len);
    js_buf_free(&l1);
    js_buf_free(&l2);
    js_buf_free(&table);
    js_buf_free(&tail);
}

START_TEST(test_part)
{
    js_buf p = JS_BUF_INIT;
    good_part(&p);
    js_champs c;
    char err[200];
    ck_assert_int_eq(js_champs_open(&c, p.p, p.len, 100, err, sizeof err), 0);
    ck_assert_uint_eq(c.h.n, 2);
    ck_assert_uint_eq(c.h.size, 3);
    ck_assert_uint_eq(c.h.min_df, 5);
    ck_assert(c.h.b == 0.75 && c.h.w == 2.0);
    const uint8_t *l;
    size_t len;
    ck_assert_int_eq(js_champs_find(&c, 50, &l, &len), 1);
    js_champ_list *cl = malloc(sizeof *cl);
    ck_assert_int_eq(js_champ_decode(l, len, len, 3, 100, cl), 0);
    ck_assert_int_eq(js_champs_find(&c, 10, &l, &len), 1);
    ck_assert_int_eq(js_champ_decode(l, len, len, 3, 100, cl), 0);
    ck_assert_int_eq(js_champs_find(&c, 11, &l, &len), 0);
    ck_assert_int_eq(js_champs_find(&c, 0, &l, &len), 0);
    /* postings offsets beyond the part */
    ck_assert_int_eq(js_champs_open(&c, p.p, p.len, 50, err, sizeof err),
                     JS_ECORRUPT);
    /* every byte of header and table is under the crc */
    for (size_t i = 0; i < JS_CHAMP_HEADER + 32 + 4; i++) {
        p.p[i] ^= 0x40;
        ck_assert_msg(js_champs_open(&c, p.p, p.len, 100, err, sizeof err) ==
                          JS_ECORRUPT,
                      "byte %zu", i);
        p.p[i] ^= 0x40;
    }
    /* truncated anywhere in header, table and crc */
    for (size_t n = 0; n < JS_CHAMP_HEADER + 32 + 4; n++)
        ck_assert_int_eq(js_champs_open(&c, p.p, n, 100, err, sizeof err),
                         JS_ECORRUPT);
    free(cl);
    js_buf_free(&p);
    /* an empty part is a header and its crc */
    js_buf e = JS_BUF_INIT, tail = JS_BUF_INIT;
    js_champ_header h = {0, 32, 128, 0.75, 2.0};
    js_champ_put_header(&e, &tail, &h, 0, 0);
    js_buf_put(&e, tail.p, tail.len);
    ck_assert_int_eq(js_champs_open(&c, e.p, e.len, 0, err, sizeof err), 0);
    ck_assert_int_eq(js_champs_find(&c, 0, &l, &len), 0);
    js_buf_u8(&e, 0);
    ck_assert_int_eq(js_champs_open(&c, e.p, e.len, 0, err, sizeof err),
                     JS_ECORRUPT);
    js_buf_free(&e);
    js_buf_free(&tail);
}
END_TEST

static Suite *champ_suite(void)
{
    Suite *s = suite_create("champ");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_rank_table, 0,
                        sizeof rank_cases / sizeof *rank_cases);
    tcase_add_test(tc, test_rank_random);
    tcase_add_test(tc, test_rank_rules);
    tcase_add_loop_test(tc, test_decode_damage, 0,
                        sizeof damage_cases / sizeof *damage_cases);
    tcase_add_test(tc, test_part);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(champ_suite(), 0);
}
