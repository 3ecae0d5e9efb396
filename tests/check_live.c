/*
 * check_live.c — a live index against a model (index/writer.c,
 * src/snapshot.c).
 *
 * In:  random sequences of adds, replaces, deletes and merges through
 *      jiansuo.h's js_writer_*, on documents made of a small alphabet of
 *      Han characters (so that their bigrams overlap), several seeds.
 * Out: after every commit, the hits of a set of queries (ids, ordinals,
 *      scores bit for bit, partial flags, totals) must equal those of a
 *      fresh build of the model's live documents in the model's order;
 *      a full merge must give an index equal to the fresh build but for
 *      its build information.  JIANSUO_LONG_TESTS=1 runs more steps.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jiansuo.h"
#include "testutil.h"

#define MAXDOCS 64

typedef struct model {
    char *name[MAXDOCS];
    char *text[MAXDOCS];
    int n;
} model;

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const char *const alphabet[] = {"工", "匠", "學", "院", "技", "術",
                                       "課", "程", "明", "月", "山", "河"};
#define NALPHA (sizeof alphabet / sizeof *alphabet)

/* A document: a title line, then one to three headed sections. */
static char *make_text(uint64_t *s)
{
    char *t = malloc(4096);
    size_t len = 0;
    int sections = 1 + (int)(rnd(s) % 3);
    for (int k = 0; k < sections; k++) {
        len += (size_t)snprintf(t + len, 4096 - len, "# %s%s\n\n",
                                alphabet[rnd(s) % NALPHA],
                                alphabet[rnd(s) % NALPHA]);
        int chars = 3 + (int)(rnd(s) % 20);
        for (int i = 0; i < chars; i++)
            len += (size_t)snprintf(t + len, 4096 - len, "%s",
                                    alphabet[rnd(s) % NALPHA]);
        len += (size_t)snprintf(t + len, 4096 - len, "\n\n");
    }
    return t;
}

static void model_remove(model *m, int i)
{
    free(m->name[i]);
    free(m->text[i]);
    memmove(m->name + i, m->name + i + 1, (size_t)(m->n - i - 1) * sizeof *m->name);
    memmove(m->text + i, m->text + i + 1, (size_t)(m->n - i - 1) * sizeof *m->text);
    m->n--;
}

static int model_find(const model *m, const char *name)
{
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->name[i], name))
            return i;
    return -1;
}

static const char *const queries[] = {
    "工匠", "學院", "工匠學院", "技術 課程", "明月 OR 山河", "工 -匠",
    "title:工匠", "匠學院技", "山", "\"程明\"", "月山河工",
};

/* The hits of every query as one string, to compare. */
static char *answers(js_index *ix)
{
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    out[0] = 0;
    for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
        for (int flags = 0; flags < 2; flags++) {
            js_search_options o = JS_SEARCH_OPTIONS_INIT;
            o.limit = 20;
            o.flags = JS_SEARCH_NO_SNIPPET |
                      (flags ? JS_SEARCH_EXACT_TOTAL | JS_SEARCH_NO_CHAMPIONS
                             : 0);
            js_results *r = NULL;
            int rc = js_search(&r, ix, queries[q], strlen(queries[q]), &o);
            int exact = 0;
            uint64_t total = rc ? 0 : js_results_total(r, &exact);
            char line[512];
            int n = snprintf(line, sizeof line, "[%s %d] rc %d total %llu%s\n",
                             queries[q], flags, rc, (unsigned long long)total,
                             exact ? "" : "~");
            for (size_t i = 0; !rc && i < js_results_count(r); i++) {
                const js_hit *h = js_results_hit(r, i);
                char hit[256];
                int hn = snprintf(hit, sizeof hit, "  %s#%u %.17g%s\n",
                                  h->source, h->ordinal, h->score,
                                  h->partial ? " p" : "");
                if (len + (size_t)hn + 1 >= cap)
                    out = realloc(out, cap *= 2);
                memcpy(out + len, hit, (size_t)hn + 1);
                len += (size_t)hn;
            }
            if (len + (size_t)n + 1 >= cap)
                out = realloc(out, cap *= 2);
            memcpy(out + len, line, (size_t)n + 1);
            len += (size_t)n;
            js_results_free(r);
        }
    }
    return out;
}

/* A fresh build of m into dir; returns its answers. */
static char *fresh(const model *m, const char *dir)
{
    tu_remove_dir(dir);
    js_builder *b = NULL;
    ck_assert_int_eq(js_builder_open(&b, dir, NULL), 0);
    for (int i = 0; i < m->n; i++)
        ck_assert_int_eq(js_builder_add_memory(b, m->name[i], m->text[i],
                                               strlen(m->text[i])), 0);
    ck_assert_int_eq(js_builder_commit(b), 0);
    js_builder_close(b);
    js_index *ix = NULL;
    ck_assert_msg(js_index_open(&ix, dir) == 0, "%s", js_index_errmsg(ix));
    char *a = answers(ix);
    js_index_close(ix);
    return a;
}

static void run_seed(uint64_t seed, int steps)
{
    uint64_t s = seed;
    model m = {0};
    const char *live = tu_scratch_path("live");
    char freshdir[512];
    snprintf(freshdir, sizeof freshdir, "%s", tu_scratch_path("fresh"));
    js_writer_options wo = JS_WRITER_OPTIONS_INIT;
    wo.merge_factor = 3;
    js_writer *w = NULL;
    ck_assert_int_eq(js_writer_open(&w, live, &wo), 0);
    int next_name = 0;
    for (int step = 0; step < steps; step++) {
        int ops = 1 + (int)(rnd(&s) % 4);
        for (int k = 0; k < ops; k++) {
            unsigned what = (unsigned)(rnd(&s) % 10);
            if (what < 5 || m.n < 2) { /* add new, or replace */
                char name[32];
                int i = m.n && what >= 3 ? (int)(rnd(&s) % (unsigned)m.n) : -1;
                if (i >= 0)
                    snprintf(name, sizeof name, "%s", m.name[i]);
                else if (m.n < MAXDOCS)
                    snprintf(name, sizeof name, "d%d.md", next_name++);
                else
                    continue;
                char *t = make_text(&s);
                ck_assert_msg(js_writer_add_memory(w, name, t, strlen(t)) == 0,
                              "%s", js_writer_errmsg(w));
                int at = model_find(&m, name);
                if (at >= 0)
                    model_remove(&m, at);
                m.name[m.n] = strdup(name);
                m.text[m.n++] = t;
            } else if (what < 8) { /* delete */
                int i = (int)(rnd(&s) % (unsigned)m.n);
                ck_assert_msg(js_writer_delete_path(w, m.name[i]) == 0, "%s",
                              js_writer_errmsg(w));
                model_remove(&m, i);
            } else if (what == 8) { /* delete what is not there */
                ck_assert_int_eq(js_writer_delete_path(w, "nowhere.md"),
                                 JS_ENOTFOUND);
            }
        }
        int rc = (rnd(&s) % 8 == 0) ? js_writer_merge(w, 1 + (unsigned)(rnd(&s) % 3))
                                    : js_writer_commit(w);
        ck_assert_msg(rc == 0, "step %d: %s", step, js_writer_errmsg(w));
        js_index *ix = NULL;
        if (m.n == 0)
            continue;
        ck_assert_msg(js_index_open(&ix, live) == 0, "%s", js_index_errmsg(ix));
        ck_assert_int_eq(js_index_check(ix), 0);
        char *a = answers(ix);
        js_index_stats st;
        js_index_get_stats(ix, &st);
        js_index_close(ix);
        char *b = fresh(&m, freshdir);
        if (strcmp(a, b)) { /* the first line that differs */
            size_t i = 0, l = 0;
            while (a[i] && a[i] == b[i]) {
                if (a[i] == '\n')
                    l = i + 1;
                i++;
            }
            ck_abort_msg("seed %llu step %d (%u segments): live\n%.300s\n"
                         "fresh\n%.300s", (unsigned long long)seed, step,
                         st.segments, a + l, b + l);
        }
        free(a);
        free(b);
    }
    /* fully merged: the same index as the fresh build, part for part but
     * the build information in STATS */
    ck_assert_int_eq(js_writer_merge(w, 1), 0);
    js_writer_close(w);
    if (m.n) {
        js_index *ix = NULL, *fx = NULL;
        char *b = fresh(&m, freshdir);
        free(b);
        ck_assert_int_eq(js_index_open(&ix, live), 0);
        ck_assert_int_eq(js_index_open(&fx, freshdir), 0);
        js_index_stats a, f;
        js_index_get_stats(ix, &a);
        js_index_get_stats(fx, &f);
        ck_assert_uint_eq(a.segments, 1);
        ck_assert_uint_eq(a.deleted_sections, 0);
        for (unsigned p = 2; p <= JS_INDEX_PARTS; p++)
            ck_assert_msg(a.part_bytes[p] == f.part_bytes[p],
                          "part %s: %llu bytes merged, %llu fresh",
                          js_index_part_name(p),
                          (unsigned long long)a.part_bytes[p],
                          (unsigned long long)f.part_bytes[p]);
        js_index_close(ix);
        js_index_close(fx);
    }
    for (int i = 0; i < m.n; i++) {
        free(m.name[i]);
        free(m.text[i]);
    }
}

static int steps(void)
{
    const char *e = getenv("JIANSUO_LONG_TESTS");
    return e && *e == '1' ? 300 : 40;
}

START_TEST(test_against_model)
{
    tu_scratch_make("live");
    run_seed(0x9e3779b97f4a7c15ull + (uint64_t)_i * 7919, steps());
    tu_scratch_remove();
}
END_TEST

START_TEST(test_busy_and_unknown)
{
    tu_scratch_make("live");
    const char *dir = tu_scratch_path("idx");
    js_writer *a = NULL, *b = NULL;
    ck_assert_int_eq(js_writer_open(&a, dir, NULL), 0);
    ck_assert_int_eq(js_writer_open(&b, dir, NULL), JS_EBUSY);
    ck_assert_ptr_nonnull(strstr(js_writer_errmsg(b), "index is locked by process"));
    js_writer_close(b);
    const char *doc = "# 工匠\n\n學院";
    ck_assert_int_eq(js_writer_add_memory(a, "x.md", doc, strlen(doc)), 0);
    ck_assert_int_eq(js_writer_delete_id(a, "nope"), JS_ENOTFOUND);
    ck_assert_int_eq(js_writer_commit(a), 0);
    /* a reader moves to the next generation on refresh */
    js_index *ix = NULL;
    ck_assert_int_eq(js_index_open(&ix, dir), 0);
    ck_assert_int_eq(js_index_refresh(ix), 0);
    ck_assert_int_eq(js_writer_delete_path(a, "x.md"), 0);
    ck_assert_int_eq(js_writer_commit(a), 0);
    ck_assert_int_eq(js_index_refresh(ix), 1);
    js_index_stats st;
    js_index_get_stats(ix, &st);
    ck_assert_uint_eq(st.sections, 0);
    js_index_close(ix);
    js_writer_close(a);
    tu_scratch_remove();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("live");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_against_model, 0, 3);
    tcase_add_test(tc, test_busy_and_unknown);
    suite_add_tcase(s, tc);
    return tu_run(s, 0);
}
