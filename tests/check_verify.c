/*
 * check_verify.c — positions found again in the stored text
 * (src/verify.c) against the builder's own analysis of the same sections.
 *
 * In:  Markdown and JSON Lines documents written here, indexed in memory.
 * Out: Check results: for every section, both fields and a set of terms
 *      (kept twice, absent, of every kind), js_verify_positions gives the
 *      positions js_fields_analyze gave while indexing; errors for bad
 *      arguments and ids.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "ingest.h"
#include "reader.h"
#include "search.h"
#include "testutil.h"
#include "verify.h"

static const char markdown[] =
    "# 工匠手册\n\n前言：工匠。\n\n"
    "## 学院\n\n工匠学院在5月成立，学生学习。\n\n"
    "## 工匠 > 学\n\n工人与匠人。\n\n"
    "### 深\n\nlinux 学 5 月\n";
static const char jsonl[] =
    "{\"id\":\"a\",\"title\":\"學院新聞\",\"text\":\"2023年8月，學院成立。\"}\n"
    "{\"id\":\"b\",\"title\":\"\",\"text\":\"\"}\n"
    "{\"id\":\"c\",\"title\":\"工\",\"text\":\"工工工 匠\"}\n";

/* The terms sought: unigrams, one twice, a bigram, a word, an absent one. */
static const char *const terms[] = {"工", "匠", "学", "月", "工", "学院",
                                    "linux", "鱼"};
#define NTERMS (sizeof terms / sizeof *terms)

typedef struct {
    uint32_t n[2][NTERMS];    /* per field (0 body, 1 heading), per term */
    uint32_t pos[2][NTERMS][32];
} want_sec;

typedef struct {
    want_sec v[16];
    uint32_t n;
} want;

static int on_token(void *ctx, const js_token *t, int heading)
{
    want_sec *w = ctx;
    for (size_t i = 0; i < NTERMS; i++)
        if (t->term_len == strlen(terms[i]) &&
            !memcmp(t->term, terms[i], t->term_len))
            w->pos[heading][i][w->n[heading][i]++] = t->position;
    return 0;
}

static int on_section(void *ctx, const js_section *s)
{
    want *w = ctx;
    ck_assert_uint_lt(w->n, 16);
    uint32_t hl, bl;
    const char *field;
    ck_assert_int_eq(js_fields_analyze(s, 0, on_token, &w->v[w->n++], &hl,
                                       &bl, &field), 0);
    return 0;
}

START_TEST(test_positions_as_indexed)
{
    /* what the builder saw */
    want w;
    memset(&w, 0, sizeof w);
    js_ingest *ing;
    ck_assert_int_eq(js_ingest_open(&ing, NULL), 0);
    ck_assert_int_eq(js_ingest_memory(ing, "手册.md", markdown,
                                      strlen(markdown), on_section, &w), 0);
    ck_assert_int_eq(js_ingest_memory(ing, "news.jsonl", jsonl, strlen(jsonl),
                                      on_section, &w), 0);
    js_ingest_close(ing);
    ck_assert_uint_ge(w.n, 6);

    /* the index (check_store covers a cache over many store blocks) */
    char *dir = tu_temp_dir("verify");
    js_build_options o = JS_BUILD_OPTIONS_INIT;
    js_builder *b = NULL;
    ck_assert_int_eq(js_builder_open(&b, dir, &o), 0);
    ck_assert_int_eq(js_builder_add_memory(b, "手册.md", markdown,
                                           strlen(markdown)), 0);
    ck_assert_int_eq(js_builder_add_memory(b, "news.jsonl", jsonl,
                                           strlen(jsonl)), 0);
    ck_assert_int_eq(js_builder_commit(b), 0);
    js_builder_close(b);
    js_reader *ix;
    ck_assert_int_eq(js_reader_open(&ix, dir), 0);
    ck_assert_uint_eq(ix->nsections, w.n);

    size_t lens[NTERMS];
    for (size_t i = 0; i < NTERMS; i++)
        lens[i] = strlen(terms[i]);
    js_verify v;
    js_verify_init(&v, ix);
    int found = 0;
    /* in id order, backwards, then heading and body alternating; with
     * a limit, the positions up to it and no others */
    static const uint32_t limits[] = {UINT32_MAX, 0, 3, 8};
    for (int pass = 0; pass < 2 * 4; pass++) {
        uint32_t limit = limits[pass / 2];
        for (uint32_t k = 0; k < w.n; k++) {
            uint32_t id = pass % 2 ? w.n - 1 - k : k;
            for (int field = 0; field < 2; field++) {
                const uint32_t *pos[NTERMS];
                uint32_t cnt[NTERMS];
                ck_assert_int_eq(js_verify_positions(&v, id, field, terms,
                                                     lens, NTERMS, limit, pos,
                                                     cnt),
                                 0);
                for (size_t i = 0; i < NTERMS; i++) {
                    uint32_t expect = 0;
                    while (expect < w.v[id].n[field][i] &&
                           w.v[id].pos[field][i][expect] <= limit)
                        expect++;
                    ck_assert_msg(cnt[i] == expect,
                                  "section %u field %d %s limit %u: %u "
                                  "positions, expect %u", id, field, terms[i],
                                  limit, cnt[i], expect);
                    for (uint32_t j = 0; j < cnt[i]; j++)
                        ck_assert_uint_eq(pos[i][j], w.v[id].pos[field][i][j]);
                    found += limit == UINT32_MAX ? (int)cnt[i] : 0;
                }
            }
        }
    }
    ck_assert_int_gt(found, 40);

    /* many terms at once (arrays grow), and ids out of range */
    enum { MANY = 40 };
    const char *many[MANY];
    size_t ml[MANY];
    const uint32_t *pos[MANY];
    uint32_t cnt[MANY];
    for (int i = 0; i < MANY; i++) {
        many[i] = i % 2 ? "工" : "学";
        ml[i] = strlen(many[i]);
    }
    ck_assert_int_eq(js_verify_positions(&v, 0, 0, many, ml, MANY,
                                         UINT32_MAX, pos, cnt), 0);
    ck_assert_uint_eq(cnt[MANY - 1], w.v[0].n[0][0]); /* 工 */
    ck_assert_uint_eq(cnt[MANY - 2], w.v[0].n[0][2]); /* 学 */
    ck_assert_int_eq(js_verify_positions(&v, w.n, 0, many, ml, 1, UINT32_MAX,
                                         pos, cnt), JS_ECORRUPT);
    ck_assert_int_eq(js_verify_positions(&v, w.n, 1, many, ml, 1, UINT32_MAX,
                                         pos, cnt), JS_ECORRUPT);
    js_verify_free(&v);
    js_verify_free(&v); /* twice is fine */
    js_reader_close(ix);
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

static Suite *verify_suite(void)
{
    return TU_SUITE("verify", 0,
        test_positions_as_indexed);
}

int main(void)
{
    return tu_run(verify_suite(), 0);
}
