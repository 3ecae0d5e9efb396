/*
 * check_xapian_shim.c — the C shim over Xapian (src/xapian/xapian_shim.h).
 *
 * In:  a small corpus of Chinese sections, analysed by the real text
 *      pipeline into terms with positions (heading terms prefixed with
 *      0x01), written through the shim into a scratch directory.
 * Out: Check results: the round trip (data, stats, over-long terms),
 *      a table of queries with the sections each must match (phrases
 *      whose characters occur apart must not), ranking (heading scale,
 *      BM25 parameters, offset, counts), the error paths (missing,
 *      corrupt, locked databases, bad and refused remote addresses, bad
 *      arguments), and a loopback search of two shards served by
 *      xapian-tcpsrv, compared with one local database (skipped with a
 *      message when xapian-tcpsrv is not installed).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jiansuo.h"
#include "testutil.h"
#include "xapian_shim.h"

/* ---- scratch directory ---- */

static void setup(void) { tu_scratch_make("xshim"); }

static void teardown(void) { tu_scratch_remove(); }

/* ---- documents from text, through the real pipeline ---- */

typedef struct {
    char term[JS_TERM_MAX_BYTES + 2];
    size_t len;
    uint32_t pos[64];
    size_t npos;
} tterm;

typedef struct {
    tterm t[256];
    size_t n;
    int prefix;
} tdoc;

static int collect(void *ctx, const js_token *tok)
{
    tdoc *d = ctx;
    char key[JS_TERM_MAX_BYTES + 2];
    size_t len = 0;
    if (d->prefix)
        key[len++] = 1;
    memcpy(key + len, tok->term, tok->term_len);
    len += tok->term_len;
    size_t i;
    for (i = 0; i < d->n; i++)
        if (d->t[i].len == len && !memcmp(d->t[i].term, key, len))
            break;
    if (i == d->n) {
        ck_assert_uint_lt(d->n, 256);
        memcpy(d->t[i].term, key, len);
        d->t[i].len = len;
        d->t[i].npos = 0;
        d->n++;
    }
    ck_assert_uint_lt(d->t[i].npos, 64);
    d->t[i].pos[d->t[i].npos++] = tok->position;
    return 0;
}

/* Writes a document of heading + body as docid (0: next) into w. */
static void put_doc(js_xw *w, uint32_t docid, const char *heading,
                    const char *body, const char *data)
{
    static tdoc d;
    d.n = 0;
    d.prefix = 1;
    ck_assert_int_eq(js_text_analyze(heading, strlen(heading), NULL, collect, &d), 0);
    d.prefix = 0;
    ck_assert_int_eq(js_text_analyze(body, strlen(body), NULL, collect, &d), 0);
    js_xterm xt[256];
    for (size_t i = 0; i < d.n; i++)
        xt[i] = (js_xterm){d.t[i].term, d.t[i].len, 0, d.t[i].pos, d.t[i].npos};
    int rc = js_xw_put(w, docid, xt, d.n, data, strlen(data), NULL);
    ck_assert_msg(rc == 0, "put: %s", js_xw_errmsg(w));
}

/* The corpus: heading, body.  Section i is docid i + 1. */
static const struct {
    const char *heading, *body;
} corpus[] = {
    {"木工", "工匠学院的木工课程很受欢迎"},
    {"金工", "学院里的工匠很多，个个手艺精湛"},
    {"工匠学院", "课程表与报名方式"},
    {"课程", "河水很干净，适合夏天游泳"},
    {"招生", "学院今年招收木工学徒二十名，学徒跟随工匠学习"},
};
#define NCORPUS (sizeof corpus / sizeof corpus[0])

static char data_of[NCORPUS][64];

/* Writes the corpus into shards (1: one database "db"; 2: "s0", "s1"
 * interleaved as the backend does). */
static void write_corpus(unsigned shards)
{
    js_xw *w[2] = {NULL, NULL};
    for (unsigned s = 0; s < shards; s++) {
        char name[8];
        snprintf(name, sizeof name, shards == 1 ? "db" : "s%u", s);
        int rc = js_xw_open(&w[s], tu_scratch_path(name), JS_XW_CREATE_OR_OVERWRITE);
        ck_assert_msg(rc == 0, "open: %s", js_xw_errmsg(w[s]));
    }
    for (size_t i = 0; i < NCORPUS; i++) {
        snprintf(data_of[i], sizeof data_of[i], "{\"section\":%zu}", i);
        put_doc(w[i % shards], (uint32_t)(i / shards + 1), corpus[i].heading,
                corpus[i].body, data_of[i]);
    }
    for (unsigned s = 0; s < shards; s++) {
        ck_assert_int_eq(js_xw_commit(w[s]), 0);
        js_xw_close(w[s]);
    }
}

static js_xdb *open_local(const char *name)
{
    js_xsource src = {tu_scratch_path(name), 0};
    js_xdb *db = NULL;
    int rc = js_xdb_open(&db, &src, 1, 0);
    ck_assert_msg(rc == 0, "open %s: %s", name, js_xdb_errmsg(db));
    return db;
}

/* ---- a tiny query language for the table: one query per line ----
 *   t:TERM         body term          h:TERM   heading term (0x01)
 *   p:A@0,B@2      phrase at relative positions
 *   (AND x y) (OR x y) (NOT x y z)  (SCALE f x)
 */

static js_xq *parse_q(const char **s);

static js_xq *parse_leaf(const char **s)
{
    char kind = **s;
    *s += 2;
    const char *e = *s;
    while (*e && *e != ' ' && *e != ')')
        e++;
    js_xq *q = NULL;
    char buf[512];
    size_t n = (size_t)(e - *s);
    ck_assert_uint_lt(n, sizeof buf - 1);
    if (kind == 'p') {
        const char *terms[16];
        size_t lens[16];
        uint32_t rels[16];
        size_t k = 0;
        memcpy(buf, *s, n);
        buf[n] = 0;
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            char *at = strchr(tok, '@');
            ck_assert_ptr_nonnull(at);
            *at = 0;
            terms[k] = tok;
            lens[k] = strlen(tok);
            rels[k] = (uint32_t)atoi(at + 1);
            k++;
        }
        ck_assert_int_eq(js_xq_phrase(&q, terms, lens, rels, k), 0);
    } else {
        size_t off = 0;
        if (kind == 'h')
            buf[off++] = 1;
        memcpy(buf + off, *s, n);
        ck_assert_int_eq(js_xq_term(&q, buf, n + off, 0), 0);
    }
    *s = e;
    return q;
}

static js_xq *parse_q(const char **s)
{
    while (**s == ' ')
        (*s)++;
    if (**s != '(')
        return parse_leaf(s);
    (*s)++;
    const char *e = strchr(*s, ' ');
    ck_assert_ptr_nonnull(e);
    char op[8] = {0};
    memcpy(op, *s, (size_t)(e - *s) < 7 ? (size_t)(e - *s) : 7);
    *s = e;
    double factor = 0;
    if (!strcmp(op, "SCALE")) {
        char *end;
        factor = strtod(*s, &end);
        *s = end;
    }
    js_xq *kids[8];
    size_t n = 0;
    for (;;) {
        while (**s == ' ')
            (*s)++;
        if (**s == ')') {
            (*s)++;
            break;
        }
        ck_assert_uint_lt(n, 8);
        kids[n++] = parse_q(s);
    }
    js_xq *q = NULL;
    if (!strcmp(op, "SCALE")) {
        ck_assert_uint_eq(n, 1);
        ck_assert_int_eq(js_xq_scale(&q, kids[0], factor), 0);
    } else {
        js_xq_op xop = !strcmp(op, "AND") ? JS_XQ_AND
                     : !strcmp(op, "OR")  ? JS_XQ_OR
                                          : JS_XQ_AND_NOT;
        ck_assert_int_eq(js_xq_combine(&q, xop, (const js_xq *const *)kids, n), 0);
    }
    for (size_t i = 0; i < n; i++)
        js_xq_close(kids[i]);
    return q;
}

static js_xq *q_of(const char *text)
{
    const char *s = text;
    return parse_q(&s);
}

/* Runs a query and renders the matching docids, ascending, as "1 3 5". */
static void match_set(js_xdb *db, const char *query, char *out, size_t outlen)
{
    js_xq *q = q_of(query);
    js_xsearch p = JS_XSEARCH_INIT;
    p.count = 100;
    p.check_at_least = 100;
    js_xmset *m = NULL;
    int rc = js_xdb_search(db, q, &p, &m);
    ck_assert_msg(rc == 0, "%s: %s", query, js_xdb_errmsg(db));
    int seen[NCORPUS + 1] = {0};
    for (size_t i = 0; i < js_xmset_size(m); i++) {
        js_xhit h;
        ck_assert_int_eq(js_xmset_hit(m, i, &h), 0);
        ck_assert_uint_ge(h.docid, 1);
        ck_assert_uint_le(h.docid, NCORPUS);
        seen[h.docid] = 1;
    }
    js_xcounts c;
    js_xmset_counts(m, &c);
    ck_assert_uint_eq(c.estimated, js_xmset_size(m)); /* exact: all checked */
    ck_assert_uint_eq(c.lower_bound, c.upper_bound);
    out[0] = 0;
    for (size_t d = 1; d <= NCORPUS; d++)
        if (seen[d])
            snprintf(out + strlen(out), outlen - strlen(out), "%s%zu",
                     out[0] ? " " : "", d);
    js_xmset_close(m);
    js_xq_close(q);
}

/* ---- round trip ---- */

START_TEST(test_round_trip)
{
    write_corpus(1);
    js_xdb *db = open_local("db");
    js_xdb_stats st;
    ck_assert_int_eq(js_xdb_get_stats(db, 1, &st), 0);
    ck_assert_uint_eq(st.doccount, NCORPUS);
    ck_assert_uint_eq(st.lastdocid, NCORPUS);
    ck_assert(st.has_positions);
    ck_assert_uint_gt(st.terms, 50);
    ck_assert_uint_gt(st.total_length, 100);
    ck_assert(fabs(st.avlength - (double)st.total_length / NCORPUS) < 1e-9);
    /* Every document's data comes back, with the right docid. */
    js_xq *q = q_of("(OR t:学院 t:河水 h:工匠)");
    js_xsearch p = JS_XSEARCH_INIT;
    js_xmset *m = NULL;
    ck_assert_int_eq(js_xdb_search(db, q, &p, &m), 0);
    ck_assert_uint_eq(js_xmset_size(m), 5);
    for (size_t i = 0; i < js_xmset_size(m); i++) {
        js_xhit h;
        ck_assert_int_eq(js_xmset_hit(m, i, &h), 0);
        ck_assert_uint_eq(h.rank, i);
        ck_assert_str_eq(h.data, data_of[h.docid - 1]);
        ck_assert_uint_eq(h.data_len, strlen(data_of[h.docid - 1]));
        if (i)
            ck_assert(h.weight > 0);
    }
    js_xhit h;
    ck_assert_int_eq(js_xmset_hit(m, 5, &h), JS_EINVALID);
    ck_assert_str_ne(js_xmset_errmsg(m), "");
    js_xmset_close(m);
    js_xq_close(q);
    js_xdb_close(db);
}
END_TEST

/* Data with NUL bytes, terms over Xapian's 245-byte limit, a term
 * without positions, and replacing a document. */
START_TEST(test_odd_documents)
{
    js_xw *w = NULL;
    ck_assert_int_eq(js_xw_open(&w, tu_scratch_path("odd"), JS_XW_CREATE_OR_OPEN), 0);
    char longa[JS_TERM_MAX_BYTES + 1], longb[JS_TERM_MAX_BYTES + 1];
    memset(longa, 'a', sizeof longa);
    memcpy(longb, longa, sizeof longb);
    longb[sizeof longb - 1] = 'b'; /* differs only past the cut */
    uint32_t pos0 = 0, pos1 = 1;
    js_xterm t1[] = {{longa, sizeof longa, 0, &pos0, 1}, {"tag", 3, 0, NULL, 0}};
    js_xterm t2[] = {{longb, sizeof longb, 0, &pos1, 1}};
    uint32_t id = 0;
    ck_assert_int_eq(js_xw_put(w, 0, t1, 2, "a\0b", 3, &id), 0);
    ck_assert_uint_eq(id, 1);
    ck_assert_int_eq(js_xw_put(w, 0, t2, 1, "", 0, &id), 0);
    ck_assert_uint_eq(id, 2);
    ck_assert_int_eq(js_xw_put(w, 7, t2, 1, "seven", 5, &id), 0);
    ck_assert_uint_eq(id, 7);
    ck_assert_int_eq(js_xw_put(w, 7, t1, 1, "seven again", 11, NULL), 0);
    ck_assert_int_eq(js_xw_commit(w), 0);
    js_xw_close(w);

    js_xdb *db = open_local("odd");
    js_xq *q = NULL;
    ck_assert_int_eq(js_xq_term(&q, longa, sizeof longa, 0), 0);
    js_xsearch p = JS_XSEARCH_INIT;
    js_xmset *m = NULL;
    ck_assert_int_eq(js_xdb_search(db, q, &p, &m), 0);
    ck_assert_uint_eq(js_xmset_size(m), 2); /* docids 1 and 7, not 2 */
    js_xhit h;
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(js_xmset_hit(m, i, &h), 0);
        ck_assert(h.docid == 1 || h.docid == 7);
        if (h.docid == 1) {
            ck_assert_uint_eq(h.data_len, 3);
            ck_assert_int_eq(memcmp(h.data, "a\0b", 3), 0);
        } else {
            ck_assert_str_eq(h.data, "seven again");
        }
    }
    js_xmset_close(m);
    js_xq_close(q);
    const char *terms[] = {longa, longb};
    size_t lens[] = {sizeof longa, sizeof longb};
    uint32_t rels[] = {0, 1};
    ck_assert_int_eq(js_xq_phrase(&q, terms, lens, rels, 2), 0);
    ck_assert_int_eq(js_xdb_search(db, q, &p, &m), 0);
    ck_assert_uint_eq(js_xmset_size(m), 0); /* never in one document */
    js_xmset_close(m);
    js_xq_close(q);
    ck_assert_int_eq(js_xq_term(&q, "tag", 3, 0), 0);
    ck_assert_int_eq(js_xdb_search(db, q, &p, &m), 0);
    ck_assert_uint_eq(js_xmset_size(m), 1);
    js_xmset_close(m);
    js_xq_close(q);
    js_xdb_close(db);
}
END_TEST

/* ---- the table of queries ---- */

static const struct {
    const char *query;
    const char *docs; /* matching docids, ascending */
} match_cases[] = {
    {"t:工匠", "1 2 5"},
    {"h:工匠", "3"},
    {"t:课程", "1 3"},
    /* 工匠学院: the cover (gaps) and every bigram (exact) */
    {"p:工匠@0,学院@2", "1"},
    {"p:工匠@0,匠学@1,学院@2", "1"},
    /* 学院 and 工匠 are both in 2 and 5, never as 学院工匠 */
    {"(AND t:学院 t:工匠)", "1 2 5"},
    {"p:学院@0,院工@1,工匠@2", ""},
    {"p:学@0,院@1,工@2,匠@3", ""},
    {"p:工@0,匠@1", "1 2 5"},
    {"p:匠@0,学@1", "1 5"},      /* 5: 工匠学习 */
    {"p:木工@0,学徒@2", "5"},
    {"p:木@0,工@1,课@2", "1"},    /* 5 has 木工 and 学 but 木工学徒 */
    {"p:h:工匠@0", ""},          /* "h:" is not special inside p: */
    {"(OR t:河水 h:金工)", "2 4"},
    {"(NOT t:学院 t:木工)", "2"},
    {"(NOT t:学院 t:木工 t:很多)", ""},
    {"(AND (OR t:木工 t:金工 h:金工) (NOT t:学院 t:课程))", "2 5"},
    {"(SCALE 2.5 (OR t:河水 t:报名))", "3 4"},
    {"(SCALE 0 t:河水)", "4"},
    {"t:不存在", ""},
};

START_TEST(test_match_table)
{
    write_corpus(1);
    js_xdb *db = open_local("db");
    for (size_t i = 0; i < sizeof match_cases / sizeof match_cases[0]; i++) {
        char got[64];
        match_set(db, match_cases[i].query, got, sizeof got);
        ck_assert_msg(!strcmp(got, match_cases[i].docs), "%s: got [%s], want [%s]",
                      match_cases[i].query, got, match_cases[i].docs);
    }
    js_xdb_close(db);
}
END_TEST

/* Returns the docid ranked first for query with params p. */
static uint32_t top(js_xdb *db, const char *query, const js_xsearch *p,
                    double *weights, size_t nweights)
{
    js_xq *q = q_of(query);
    js_xmset *m = NULL;
    ck_assert_int_eq(js_xdb_search(db, q, p, &m), 0);
    ck_assert_uint_ge(js_xmset_size(m), 1);
    js_xhit h;
    uint32_t first = 0;
    for (size_t i = 0; i < js_xmset_size(m); i++) {
        ck_assert_int_eq(js_xmset_hit(m, i, &h), 0);
        if (i == 0)
            first = h.docid;
        if (i < nweights)
            weights[i] = h.weight;
    }
    js_xmset_close(m);
    js_xq_close(q);
    return first;
}

START_TEST(test_ranking)
{
    write_corpus(1);
    js_xdb *db = open_local("db");
    js_xsearch p = JS_XSEARCH_INIT;
    double w[8];
    /* The heading weight decides whether the heading hit (3) leads. */
    ck_assert_uint_eq(top(db, "(OR t:学院 (SCALE 10 h:学院))", &p, w, 1), 3);
    ck_assert_uint_ne(top(db, "(OR t:学院 (SCALE 0.01 h:学院))", &p, w, 1), 3);
    /* k1 = 0: BM25 ignores wdf and length, every hit weighs the same. */
    js_xsearch flat = p;
    flat.k1 = 0;
    top(db, "t:学", &flat, w, 3);
    ck_assert(fabs(w[0] - w[1]) < 1e-9 && fabs(w[1] - w[2]) < 1e-9);
    /* k1 = 1.2: 5 holds 学 four times and wins. */
    ck_assert_uint_eq(top(db, "t:学", &p, w, 3), 5);
    ck_assert(w[0] > w[1] + 1e-6);
    /* b changes the weights (length normalisation). */
    js_xsearch b0 = p, b1 = p;
    b0.b = 0;
    b1.b = 1;
    double w0[1], w1[1];
    top(db, "t:工匠", &b0, w0, 1);
    top(db, "t:工匠", &b1, w1, 1);
    ck_assert(fabs(w0[0] - w1[0]) > 1e-6);
    /* offset and count: the second hit alone, rank 1. */
    js_xq *q = q_of("t:工匠");
    js_xsearch page = p;
    page.offset = 1;
    page.count = 1;
    js_xmset *m = NULL;
    ck_assert_int_eq(js_xdb_search(db, q, &page, &m), 0);
    ck_assert_uint_eq(js_xmset_size(m), 1);
    js_xhit h;
    ck_assert_int_eq(js_xmset_hit(m, 0, &h), 0);
    ck_assert_uint_eq(h.rank, 1);
    js_xcounts c;
    js_xmset_counts(m, &c);
    ck_assert_uint_ge(c.upper_bound, 3);
    ck_assert_uint_le(c.lower_bound, 3);
    js_xmset_close(m);
    /* Bad parameters. */
    js_xsearch bad = p;
    bad.b = 2;
    ck_assert_int_eq(js_xdb_search(db, q, &bad, &m), JS_EINVALID);
    ck_assert_ptr_nonnull(strstr(js_xdb_errmsg(db), "BM25"));
    bad = p;
    bad.k1 = NAN;
    ck_assert_int_eq(js_xdb_search(db, q, &bad, &m), JS_EINVALID);
    js_xq_close(q);
    js_xdb_close(db);
}
END_TEST

/* ---- argument errors ---- */

START_TEST(test_bad_arguments)
{
    js_xq *q = NULL, *ok = NULL;
    ck_assert_int_eq(js_xq_term(&q, "", 0, 0), JS_EINVALID);
    ck_assert_str_ne(js_xq_errmsg(q), "");
    js_xq *failed = q;
    ck_assert_int_eq(js_xq_term(&ok, "a", 1, 0), 0);
    ck_assert_str_eq(js_xq_errmsg(ok), "");
    char desc[128];
    ck_assert_int_eq(js_xq_describe(ok, desc, sizeof desc), 0);
    ck_assert_str_eq(desc, "Query(a)");
    ck_assert_int_eq(js_xq_describe(failed, desc, sizeof desc), JS_EINVALID);

    const char *terms[] = {"a", "b"};
    size_t lens[] = {1, 1};
    uint32_t back[] = {0, 0}, late[] = {1, 2}, gap[] = {0, 3};
    ck_assert_int_eq(js_xq_phrase(&q, terms, lens, back, 2), JS_EINVALID);
    js_xq_close(q);
    ck_assert_int_eq(js_xq_phrase(&q, terms, lens, late, 2), JS_EINVALID);
    js_xq_close(q);
    ck_assert_int_eq(js_xq_phrase(&q, terms, lens, gap, 0), JS_EINVALID);
    js_xq_close(q);
    ck_assert_int_eq(js_xq_phrase(&q, terms, lens, gap, 2), 0);
    ck_assert_int_eq(js_xq_describe(q, desc, sizeof desc), 0);
    ck_assert_msg(strstr(desc, "PHRASE 4") != NULL, "%s", desc); /* window = span */
    js_xq_close(q);

    const js_xq *one[] = {ok}, *bad[] = {ok, failed}, *null[] = {ok, NULL};
    ck_assert_int_eq(js_xq_combine(&q, JS_XQ_AND, bad, 2), JS_EINVALID);
    js_xq_close(q);
    ck_assert_int_eq(js_xq_combine(&q, JS_XQ_OR, null, 2), JS_EINVALID);
    js_xq_close(q);
    ck_assert_int_eq(js_xq_combine(&q, JS_XQ_AND_NOT, one, 1), JS_EINVALID);
    js_xq_close(q);
    ck_assert_int_eq(js_xq_combine(&q, 42, one, 1), JS_EINVALID);
    js_xq_close(q);
    ck_assert_int_eq(js_xq_combine(&q, JS_XQ_OR, one, 0), JS_EINVALID);
    js_xq_close(q);
    ck_assert_int_eq(js_xq_scale(&q, ok, -1), JS_EINVALID);
    js_xq_close(q);
    ck_assert_int_eq(js_xq_scale(&q, ok, INFINITY), JS_EINVALID);
    js_xq_close(q);
    ck_assert_int_eq(js_xq_scale(&q, failed, 2), JS_EINVALID);
    js_xq_close(q);

    js_xw *w = NULL;
    ck_assert_int_eq(js_xw_open(&w, "", JS_XW_CREATE_OR_OPEN), JS_EINVALID);
    js_xw_close(w);
    ck_assert_int_eq(js_xw_open(&w, tu_scratch_path("x"), (js_xw_mode)9), JS_EINVALID);
    js_xw_close(w);
    ck_assert_int_eq(js_xw_open(&w, tu_scratch_path("w"), JS_XW_CREATE_OR_OPEN), 0);
    js_xterm empty = {"", 0, 1, NULL, 0}, nopos = {"a", 1, 0, NULL, 3};
    ck_assert_int_eq(js_xw_put(w, 0, &empty, 1, "", 0, NULL), JS_EINVALID);
    ck_assert_str_ne(js_xw_errmsg(w), "");
    ck_assert_int_eq(js_xw_put(w, 0, &nopos, 1, "", 0, NULL), JS_EINVALID);
    ck_assert_int_eq(js_xw_put(w, 0, NULL, 1, "", 0, NULL), JS_EINVALID);
    js_xw_close(w);

    js_xdb *db = NULL;
    ck_assert_int_eq(js_xdb_open(&db, NULL, 0, 0), JS_EINVALID);
    ck_assert_str_ne(js_xdb_errmsg(db), "");
    ck_assert_int_eq(js_xdb_search(db, failed, NULL, NULL), JS_EINVALID);
    js_xdb_close(db);

    /* Every close takes NULL. */
    js_xw_close(NULL);
    js_xdb_close(NULL);
    js_xq_close(NULL);
    js_xmset_close(NULL);
    js_xq_close(failed);
    js_xq_close(ok);
}
END_TEST

static const struct {
    const char *spec;
    int rc;
    const char *host;
    unsigned port;
} parse_cases[] = {
    {"localhost:8000", 0, "localhost", 8000},
    {"127.0.0.1:1", 0, "127.0.0.1", 1},
    {"[::1]:65535", 0, "::1", 65535},
    {"nonsense", JS_EINVALID, NULL, 0},
    {"host:", JS_EINVALID, NULL, 0},
    {":80", JS_EINVALID, NULL, 0},
    {"host:0", JS_EINVALID, NULL, 0},
    {"host:65536", JS_EINVALID, NULL, 0},
    {"host:99999999999999999999", JS_EINVALID, NULL, 0},
    {"host:8o", JS_EINVALID, NULL, 0},
    {"[::1]80", JS_EINVALID, NULL, 0},
    {"[::1", JS_EINVALID, NULL, 0},
};

START_TEST(test_parse_source)
{
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        char host[64] = "", err[128] = "";
        unsigned port = 0;
        int rc = js_xsource_parse(parse_cases[i].spec, host, sizeof host, &port,
                                  err, sizeof err);
        ck_assert_msg(rc == parse_cases[i].rc, "%s: %d", parse_cases[i].spec, rc);
        if (rc == 0) {
            ck_assert_str_eq(host, parse_cases[i].host);
            ck_assert_uint_eq(port, parse_cases[i].port);
        } else {
            ck_assert_msg(err[0], "%s: no message", parse_cases[i].spec);
        }
    }
    char tiny[4];
    unsigned port;
    ck_assert_int_eq(js_xsource_parse("longhost:80", tiny, sizeof tiny, &port,
                                      NULL, 0), JS_EINVALID);
}
END_TEST

/* ---- database errors ---- */

/* Opens src and expects rc, with a message holding `want`. */
static void expect_open(const js_xsource *src, int rc, const char *want)
{
    js_xdb *db = NULL;
    int got = js_xdb_open(&db, src, 1, 3000);
    ck_assert_ptr_nonnull(db);
    ck_assert_msg(got == rc, "%s: rc %d (%s), want %d", src->path_or_host, got,
                  js_xdb_errmsg(db), rc);
    ck_assert_msg(strstr(js_xdb_errmsg(db), want) != NULL, "%s: message '%s' lacks '%s'",
                  src->path_or_host, js_xdb_errmsg(db), want);
    js_xdb_close(db);
}

START_TEST(test_missing_database)
{
    js_xsource src = {tu_scratch_path("none"), 0};
    expect_open(&src, JS_ENOTFOUND, tu_scratch_path("none"));
    js_xw *w = NULL;
    ck_assert_int_eq(js_xw_open(&w, tu_scratch_path("none"), JS_XW_OPEN), JS_ENOTFOUND);
    ck_assert_str_ne(js_xw_errmsg(w), "");
    js_xw_close(w);
    /* A directory that holds no database. */
    mkdir(tu_scratch_path("empty"), 0755);
    js_xsource e = {tu_scratch_path("empty"), 0};
    expect_open(&e, JS_ENOTFOUND, "empty");
}
END_TEST

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    fclose(f);
}

/* Searches every term of the corpus; returns the first failure's code
 * (0 if none), with db's message. */
static int search_all(js_xdb *db)
{
    js_xq *q = q_of("(OR t:学院 t:工匠 t:课程 t:河水 h:工匠 p:工匠@0,学院@2)");
    js_xsearch p = JS_XSEARCH_INIT;
    js_xmset *m = NULL;
    int rc = js_xdb_search(db, q, &p, &m);
    for (size_t i = 0; !rc && i < js_xmset_size(m); i++) {
        js_xhit h;
        if ((rc = js_xmset_hit(m, i, &h)))
            break;
    }
    js_xmset_close(m);
    js_xq_close(q);
    return rc;
}

START_TEST(test_corrupt_database)
{
    /* Garbage files with glass's names. */
    mkdir(tu_scratch_path("junk"), 0755);
    write_file(tu_scratch_path("junk/iamglass"), "not a version file\n", 19);
    write_file(tu_scratch_path("junk/postlist.glass"), "garbage", 7);
    js_xsource src = {tu_scratch_path("junk"), 0};
    js_xdb *db = NULL;
    int rc = js_xdb_open(&db, &src, 1, 0);
    ck_assert_msg(rc == JS_ECORRUPT || rc == JS_EVERSION, "junk: %d %s", rc,
                  js_xdb_errmsg(db));
    ck_assert_str_ne(js_xdb_errmsg(db), "");
    js_xdb_close(db);

    /* A real database with its postlist table cut in half. */
    write_corpus(1);
    struct stat st;
    ck_assert_int_eq(stat(tu_scratch_path("db/postlist.glass"), &st), 0);
    ck_assert_int_eq(truncate(tu_scratch_path("db/postlist.glass"), st.st_size / 2), 0);
    js_xsource s2 = {tu_scratch_path("db"), 0};
    rc = js_xdb_open(&db, &s2, 1, 0);
    if (rc == 0)
        rc = search_all(db);
    ck_assert_msg(rc == JS_ECORRUPT, "truncated: %d %s", rc, js_xdb_errmsg(db));
    ck_assert_ptr_nonnull(strstr(js_xdb_errmsg(db), tu_scratch_path("db")));
    js_xdb_close(db);

    /* A table overwritten with garbage from its first block. */
    tu_remove_dir(tu_scratch_path("db"));
    write_corpus(1);
    ck_assert_int_eq(stat(tu_scratch_path("db/termlist.glass"), &st), 0);
    int fd = open(tu_scratch_path("db/termlist.glass"), O_WRONLY);
    ck_assert_int_ge(fd, 0);
    char junk[8192];
    memset(junk, 0x5A, sizeof junk);
    ck_assert_int_eq(pwrite(fd, junk, sizeof junk, 0), (ssize_t)sizeof junk);
    close(fd);
    rc = js_xdb_open(&db, &s2, 1, 0);
    if (rc == 0) {
        js_xdb_stats xs;
        rc = js_xdb_get_stats(db, 1, &xs);
    }
    if (rc == 0)
        rc = search_all(db);
    /* Xapian 1.4 reports this one while opening, as a DatabaseOpeningError
     * (it reads the mangled table as a stub file): JS_EIO, message kept. */
    ck_assert_msg(rc == JS_ECORRUPT || rc == JS_EIO, "overwritten: %d %s", rc,
                  js_xdb_errmsg(db));
    ck_assert_ptr_nonnull(strstr(js_xdb_errmsg(db), tu_scratch_path("db")));
    js_xdb_close(db);
}
END_TEST

START_TEST(test_locked_database)
{
    js_xw *a = NULL, *b = NULL;
    ck_assert_int_eq(js_xw_open(&a, tu_scratch_path("lk"), JS_XW_CREATE_OR_OPEN), 0);
    int rc = js_xw_open(&b, tu_scratch_path("lk"), JS_XW_CREATE_OR_OPEN);
    ck_assert_int_eq(rc, JS_EIO);
    ck_assert_ptr_nonnull(b);
    ck_assert_msg(strstr(js_xw_errmsg(b), "DatabaseLockError") &&
                      strstr(js_xw_errmsg(b), "another writer"),
                  "%s", js_xw_errmsg(b));
    ck_assert_int_eq(js_xw_put(b, 0, NULL, 0, "", 0, NULL), JS_EINVALID);
    js_xw_close(b);
    js_xw_close(a);
    /* Released on close. */
    ck_assert_int_eq(js_xw_open(&b, tu_scratch_path("lk"), JS_XW_OPEN), 0);
    js_xw_close(b);
}
END_TEST

START_TEST(test_bad_remote)
{
    js_xsource refused = {"127.0.0.1", 1};
    expect_open(&refused, JS_EIO, "127.0.0.1:1: NetworkError");
    js_xsource nonsense = {"nonsense.invalid", 8000};
    expect_open(&nonsense, JS_EIO, "nonsense.invalid:8000");
    js_xsource empty = {"", 8000};
    expect_open(&empty, JS_EINVALID, "empty");
}
END_TEST

/* ---- remote: two shards on loopback through xapian-tcpsrv ---- */

static int find_tcpsrv(char *out, size_t outlen)
{
    const char *path = getenv("PATH");
    if (!path)
        return 0;
    char *copy = strdup(path);
    ck_assert_ptr_nonnull(copy);
    int found = 0;
    for (char *save, *d = strtok_r(copy, ":", &save); d && !found;
         d = strtok_r(NULL, ":", &save)) {
        snprintf(out, outlen, "%s/xapian-tcpsrv", d);
        found = access(out, X_OK) == 0;
    }
    free(copy);
    return found;
}

/* Returns a TCP port on 127.0.0.1 that was free a moment ago. */
static unsigned free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(s, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

/* Starts xapian-tcpsrv on port for db; it dies with this process.
 * Waits (up to 10 s) until it accepts connections.  Returns its pid. */
static pid_t start_server(const char *exe, unsigned port, const char *db)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* xapian-tcpsrv answers SIGTERM by signalling its whole process
         * group: give it a group of its own.  And let it die with us. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(1);
        /* Quiet: the readiness probes below make it complain of broken
         * pipes. */
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        char p[16];
        snprintf(p, sizeof p, "%u", port);
        execl(exe, exe, "--port", p, "--interface", "127.0.0.1", "--quiet",
              db, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons((uint16_t)port);
        int ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
        close(s);
        if (ok)
            return pid;
        int status;
        ck_assert_msg(waitpid(pid, &status, WNOHANG) == 0,
                      "xapian-tcpsrv exited at once");
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGTERM);
    ck_abort_msg("xapian-tcpsrv did not start listening on port %u", port);
    return -1;
}

/* Renders a ranking as "docid:weight:data" lines. */
static void ranking(js_xdb *db, const char *query, char *out, size_t outlen)
{
    js_xq *q = q_of(query);
    js_xsearch p = JS_XSEARCH_INIT;
    p.count = 100;
    js_xmset *m = NULL;
    int rc = js_xdb_search(db, q, &p, &m);
    ck_assert_msg(rc == 0, "%s: %s", query, js_xdb_errmsg(db));
    out[0] = 0;
    for (size_t i = 0; i < js_xmset_size(m); i++) {
        js_xhit h;
        rc = js_xmset_hit(m, i, &h);
        ck_assert_msg(rc == 0, "%s", js_xmset_errmsg(m));
        snprintf(out + strlen(out), outlen - strlen(out), "%u:%.9f:%s\n", h.docid,
                 h.weight, h.data);
    }
    js_xmset_close(m);
    js_xq_close(q);
}

START_TEST(test_remote_loopback)
{
    char exe[512];
    if (!find_tcpsrv(exe, sizeof exe)) {
        fprintf(stderr, "check_xapian_shim: xapian-tcpsrv not found "
                        "(apt-get install xapian-tools): remote test skipped\n");
        return;
    }
    write_corpus(1); /* "db": every section, docid i + 1 */
    write_corpus(2); /* "s0", "s1": interleaved */
    unsigned p0 = free_port();
    pid_t s0 = start_server(exe, p0, tu_scratch_path("s0"));
    unsigned p1 = free_port();
    while (p1 == p0)
        p1 = free_port();
    pid_t s1 = start_server(exe, p1, tu_scratch_path("s1"));

    js_xsource remote[] = {{"127.0.0.1", p0}, {"127.0.0.1", p1}};
    js_xsource local2[] = {{tu_scratch_path("s0"), 0}, {tu_scratch_path("s1"), 0}};
    js_xdb *r = NULL, *l2 = NULL;
    int rc = js_xdb_open(&r, remote, 2, 5000);
    ck_assert_msg(rc == 0, "remote: %s", js_xdb_errmsg(r));
    ck_assert_int_eq(js_xdb_open(&l2, local2, 2, 0), 0);
    js_xdb *one = open_local("db");
    js_xdb_stats a, b;
    ck_assert_int_eq(js_xdb_get_stats(r, 1, &a), 0);
    ck_assert_int_eq(js_xdb_get_stats(one, 1, &b), 0);
    ck_assert_uint_eq(a.doccount, b.doccount);
    ck_assert_uint_eq(a.total_length, b.total_length);
    ck_assert_uint_eq(a.terms, b.terms);
    static const char *queries[] = {
        "t:工匠", "(OR t:学院 (SCALE 2 h:学院))", "p:工匠@0,学院@2",
        "(NOT t:学院 t:木工)", "(AND t:学 t:工)",
    };
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        char x[2048], y[2048], z[2048];
        ranking(r, queries[i], x, sizeof x);
        ranking(l2, queries[i], y, sizeof y);
        ranking(one, queries[i], z, sizeof z);
        ck_assert_msg(x[0], "%s: no hit", queries[i]);
        ck_assert_msg(!strcmp(x, z), "%s: remote\n%sone database\n%s", queries[i], x, z);
        ck_assert_msg(!strcmp(y, z), "%s: local shards\n%sone database\n%s", queries[i], y, z);
    }
    js_xdb_close(r);
    js_xdb_close(l2);
    js_xdb_close(one);
    kill(s0, SIGTERM);
    kill(s1, SIGTERM);
    waitpid(s0, NULL, 0);
    waitpid(s1, NULL, 0);
    /* The server is gone: a clear error, not a hang or a crash. */
    js_xsource gone = {"127.0.0.1", p0};
    expect_open(&gone, JS_EIO, "NetworkError");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xapian_shim");
    TCase *tc = tcase_create("shim");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_odd_documents);
    tcase_add_test(tc, test_match_table);
    tcase_add_test(tc, test_ranking);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_parse_source);
    tcase_add_test(tc, test_missing_database);
    tcase_add_test(tc, test_corrupt_database);
    tcase_add_test(tc, test_locked_database);
    tcase_add_test(tc, test_bad_remote);
    tcase_add_test(tc, test_remote_loopback);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(suite(), 0);
}
