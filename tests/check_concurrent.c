/*
 * check_concurrent.c — readers see the old index or the new one, never a
 * mix, while it is rebuilt and republished.
 *
 * In:  two corpora, A and B, whose results differ for every query (other
 *      documents, other sections, other scores).
 * Out: the index is republished from A and B in turn, READ_ROUNDS times,
 *      while THREADS threads (one js_index each, opened again and again)
 *      and PROCS processes (`$JIANSUO search --queries` in a loop) search
 *      it.  Every open must succeed, every search too, and all the
 *      results of one opened index must be exactly A's or exactly B's
 *      (whole result lists: sources, ordinals, scores, totals).  Without
 *      $JIANSUO (the suite run by hand) only the threads run.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jiansuo.h"
#include "testutil.h"

#define THREADS 4
#define PROCS 3
#define READ_ROUNDS 20

/* "星" and "河边": one-term queries, answered from champion lists */
static const char *const queries[] = {
    "图书馆", "春风 柳树", "工匠 OR 星空", "读书 -夏夜", "title:手册",
    "小城的星空", "星", "河边",
};
#define NQ (sizeof queries / sizeof *queries)

static const char *const words[] = {
    "图书馆", "春风", "柳树", "工匠", "星空", "读书", "夏夜", "小城",
    "木头", "桌子", "河边", "新芽", "学生", "安静",
};

/* Corpus `which` (0: A, 1: B): different documents and sections. */
static void corpus(tu_render *r, int which)
{
    uint64_t seed = which ? 777 : 333;
    int docs = which ? 40 : 30;
    for (int d = 0; d < docs; d++) {
        tu_appendf(r, "# 手册%c%d\n\n", which ? 'B' : 'A', d);
        int secs = 1 + (int)(tu_rnd(&seed) % 4);
        for (int s = 0; s < secs; s++) {
            tu_appendf(r, "## 第%d节\n\n", s);
            int n = 5 + (int)(tu_rnd(&seed) % 30);
            for (int k = 0; k < n; k++)
                tu_appendf(r, "%s", words[tu_rnd(&seed) % 14]);
            tu_appendf(r, "。\n\n");
        }
    }
}

static void build(const char *dir, const tu_render *c, int which)
{
    js_build_options o = JS_BUILD_OPTIONS_INIT;
    o.threads = 1;
    o.champion_df = 4; /* small corpora: lists for their common terms */
    js_builder *b = NULL;
    int rc = js_builder_open(&b, dir, &o);
    if (!rc)
        rc = js_builder_add_memory(b, which ? "b.md" : "a.md", c->buf, c->len);
    if (!rc)
        rc = js_builder_commit(b);
    ck_assert_msg(rc == 0, "build: %s", js_builder_errmsg(b));
    js_builder_close(b);
}

/* The results of query q on ix as one string (caller frees); NULL with
 * *rc set when the search fails. */
static char *signature(js_index *ix, const char *q, int *rc)
{
    js_search_options o = JS_SEARCH_OPTIONS_INIT;
    o.flags = JS_SEARCH_NO_SNIPPET;
    o.limit = 50;
    js_results *r = NULL;
    *rc = js_search(&r, ix, q, strlen(q), &o);
    if (*rc) {
        js_results_free(r);
        return NULL;
    }
    tu_render s = {0};
    int exact;
    tu_appendf(&s, "total %llu", (unsigned long long)js_results_total(r, &exact));
    for (size_t i = 0; i < js_results_count(r); i++) {
        const js_hit *h = js_results_hit(r, i);
        tu_appendf(&s, "|%s %s %u %.9g %d", h->source, h->title, h->ordinal,
                   h->score, h->partial);
    }
    js_results_free(r);
    return s.buf;
}

static char *want[2][NQ];
static char live[600];
static atomic_int stop;

typedef struct {
    long opens, searches, as_a, as_b;
    char problem[512];
} reader;

static void *read_loop(void *arg)
{
    reader *rd = arg;
    while (!atomic_load(&stop) && !rd->problem[0]) {
        js_index *ix = NULL;
        int rc = js_index_open(&ix, live);
        if (rc) {
            snprintf(rd->problem, sizeof rd->problem, "open: %s",
                     ix ? js_index_errmsg(ix) : js_strerror(rc));
            js_index_close(ix);
            break;
        }
        rd->opens++;
        /* which: the index this handle turned out to be, from its first
         * result; every later one must agree */
        int which = -1;
        for (size_t q = 0; q < NQ && !rd->problem[0]; q++) {
            char *got = signature(ix, queries[q], &rc);
            rd->searches++;
            if (!got) {
                snprintf(rd->problem, sizeof rd->problem, "search %s: %s",
                         queries[q], js_strerror(rc));
                break;
            }
            int is = !strcmp(got, want[0][q]) ? 0
                     : !strcmp(got, want[1][q]) ? 1 : -1;
            if (is < 0 || (which >= 0 && is != which))
                snprintf(rd->problem, sizeof rd->problem,
                         "query %s on a handle of index %c: %s", queries[q],
                         which < 0 ? '?' : "AB"[which], got);
            which = is;
            free(got);
        }
        if (which == 0)
            rd->as_a++;
        else if (which == 1)
            rd->as_b++;
        js_index_close(ix);
    }
    return NULL;
}

/* Starts a process running the CLI over the live index until the file
 * `stopfile` exists; it exits 0, or 1 at the first output that is
 * neither A's nor B's (left in bad.PID). */
static pid_t start_cli(const char *jiansuo, const char *dir)
{
    char script[4096];
    snprintf(script, sizeof script,
             "cd '%s' || exit 2; n=0; while [ ! -e stop ]; do "
             "'%s' search -d index --no-snippet --limit 50 --queries q.txt "
             ">out.$$ 2>&1; "
             "if ! cmp -s out.$$ want.a && ! cmp -s out.$$ want.b; then "
             "mv out.$$ bad.$$; exit 1; fi; n=$((n + 1)); done; "
             "rm -f out.$$; echo $n >runs.$$",
             dir, jiansuo);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", script, (char *)NULL);
        _exit(127);
    }
    return pid;
}

START_TEST(test_republish)
{
    char *dir = tu_temp_dir("concurrent");
    tu_render c[2] = {{0}, {0}};
    char d[2][600];
    for (int w = 0; w < 2; w++) {
        tu_appendf(&c[w], "%s", "");
        corpus(&c[w], w);
        snprintf(d[w], sizeof d[w], "%s/%c", dir, "ab"[w]);
        build(d[w], &c[w], w);
        js_index *ix = NULL;
        ck_assert_int_eq(js_index_open(&ix, d[w]), 0);
        for (size_t q = 0; q < NQ; q++) {
            int rc;
            want[w][q] = signature(ix, queries[q], &rc);
            ck_assert_msg(want[w][q] != NULL, "%s: %s", queries[q],
                          js_strerror(rc));
        }
        js_index_close(ix);
    }
    for (size_t q = 0; q < NQ; q++)
        ck_assert_msg(strcmp(want[0][q], want[1][q]) != 0,
                      "%s: A and B agree", queries[q]);
    snprintf(live, sizeof live, "%s/index", dir);
    build(live, &c[0], 0);

    /* The processes: their expected outputs first, from A and B. */
    const char *jiansuo = getenv("JIANSUO");
    pid_t pids[PROCS];
    int nprocs = 0;
    if (jiansuo && *jiansuo) {
        char p[800];
        snprintf(p, sizeof p, "%s/q.txt", dir);
        FILE *f = fopen(p, "w");
        ck_assert_ptr_nonnull(f);
        for (size_t q = 0; q < NQ; q++)
            fprintf(f, "%s\n", queries[q]);
        fclose(f);
        for (int w = 0; w < 2; w++) {
            char cmd[2048];
            snprintf(cmd, sizeof cmd,
                     "'%s' search -d '%s' --no-snippet --limit 50 --queries "
                     "'%s/q.txt' >'%s/want.%c'",
                     jiansuo, d[w], dir, dir, "ab"[w]);
            ck_assert_int_eq(system(cmd), 0);
        }
        for (; nprocs < PROCS; nprocs++)
            pids[nprocs] = start_cli(jiansuo, dir);
    }

    atomic_store(&stop, 0);
    pthread_t th[THREADS];
    reader rd[THREADS];
    memset(rd, 0, sizeof rd);
    for (int t = 0; t < THREADS; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, read_loop, &rd[t]), 0);
    for (int round = 1; round <= READ_ROUNDS; round++) {
        struct timespec pause = {0, 150 * 1000 * 1000};
        nanosleep(&pause, NULL);
        build(live, &c[round % 2], round % 2);
    }
    struct timespec pause = {0, 150 * 1000 * 1000};
    nanosleep(&pause, NULL);
    atomic_store(&stop, 1);
    long opens = 0, searches = 0, as_a = 0, as_b = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        ck_assert_msg(!rd[t].problem[0], "thread %d: %s", t, rd[t].problem);
        opens += rd[t].opens;
        searches += rd[t].searches;
        as_a += rd[t].as_a;
        as_b += rd[t].as_b;
    }
    ck_assert_msg(as_a > 0 && as_b > 0, "the threads saw A %ld and B %ld "
                  "times", as_a, as_b);

    char p[800];
    snprintf(p, sizeof p, "%s/stop", dir);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    long runs = 0;
    for (int i = 0; i < nprocs; i++) {
        int st;
        ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                      "process %d: a result that is neither A's nor B's "
                      "(see bad.%d in %s)", (int)pids[i], (int)pids[i], dir);
        snprintf(p, sizeof p, "%s/runs.%d", dir, (int)pids[i]);
        FILE *rf = fopen(p, "r");
        long n = 0;
        if (rf) {
            if (fscanf(rf, "%ld", &n) != 1)
                n = 0;
            fclose(rf);
        }
        runs += n;
    }
    fprintf(stderr, "concurrent: %d republications; %d threads: %ld opens "
            "(%ld of A, %ld of B), %ld searches; %d processes: %ld runs of "
            "%zu queries\n", READ_ROUNDS, THREADS, opens, as_a, as_b,
            searches, nprocs, runs, NQ);
    for (int w = 0; w < 2; w++) {
        for (size_t q = 0; q < NQ; q++)
            free(want[w][q]);
        free(c[w].buf);
    }
    tu_remove_dir(dir);
    free(dir);
}
END_TEST

static Suite *concurrent_suite(void)
{
    return TU_SUITE("concurrent", 120,
        test_republish);
}

int main(void)
{
    return tu_run(concurrent_suite(), 0);
}
