/*
 * check_store.c — the section text store (index/store.c): STORE and
 * STORE_INDEX written, reopened and read back, and damaged.
 *
 * In:  generated sections (empty, Chinese, with NUL bytes, 5 MB, 10,000 of
 *      them) added through js_store_add at several block sizes and zlib
 *      levels, with and without js_store_drain; hand-made index parts and
 *      blocks; every single-byte change and truncation of both parts of a
 *      small store.
 * Out: every section read back byte for byte, or JS_ENOTFOUND out of
 *      range; damage reported as JS_ECORRUPT (by open, get or verify)
 *      without a crash or an out-of-bounds read (the CI runs this under
 *      ASan and UBSan, and damaged parts live in exact-size allocations).
 *
 * test_figures prints, without asserting, the compression ratio on
 * Chinese text (zh_CN man pages read at run time when installed, else
 * generated text) and the time of a random js_store_get per block size.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "buf.h"
#include "jiansuo.h"
#include "store.h"
#include "testutil.h"

/* ------------------------------------------------------------------
 * Sections to store
 * ---------------------------------------------------------------- */

typedef struct {
    char *path, *body;
    size_t plen, blen;
} sec;

typedef struct {
    sec *v;
    size_t n, cap;
} corpus;

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* Appends a copy of one section. */
static void corpus_add(corpus *c, const char *p, size_t pl, const char *b,
                       size_t bl)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->v = realloc(c->v, c->cap * sizeof *c->v);
        ck_assert_ptr_nonnull(c->v);
    }
    sec *s = &c->v[c->n++];
    s->path = xmalloc(pl);
    s->body = xmalloc(bl);
    if (pl)
        memcpy(s->path, p, pl);
    if (bl)
        memcpy(s->body, b, bl);
    s->plen = pl;
    s->blen = bl;
}

static void corpus_free(corpus *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].path);
        free(c->v[i].body);
    }
    free(c->v);
    memset(c, 0, sizeof *c);
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static const char *const vocab[] = {
    "检索", "索引", "中文", "分词", "文本", "搜索引擎", "倒排", "压缩",
    "数据", "结构", "的", "了", "是", "在", "和", "我们", "系统", "文件",
    "目录", "查询", "结果", "排序", "相关性", "算法", "用户", "命令", "参数",
    "选项", "配置", "默认", "输出", "输入", "程序", "版本", "手册", "内存",
    "磁盘", "网络", "进程", "线程", "错误", "警告", "可以", "需要", "使用",
    "如果", "因为", "所以", "一个", "这个", "那些", "时间", "空间", "字符",
    "编码", "学院", "工匠", "久有归天", "Linux", "zlib", "UTF-8", "2024",
    "，", "。", "、", "；", "：", "（", "）", "“", "”", " ", "\n"};

/* Appends random vocabulary words to b until it holds at least n bytes. */
static void gen_chinese(js_buf *b, size_t n)
{
    size_t stop = b->len + n;
    while (b->len < stop) {
        const char *w = vocab[rnd() % (sizeof vocab / sizeof *vocab)];
        ck_assert_int_eq(js_buf_put(b, w, strlen(w)), 0);
    }
}

/* n sections of every awkward shape, bodies up to max_body bytes. */
static void gen_mixed(corpus *c, size_t n, size_t max_body)
{
    js_buf p = JS_BUF_INIT, b = JS_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        p.len = b.len = 0;
        size_t blen = max_body ? rnd() % (max_body + 1) : 0;
        switch (i % 8) {
        case 0: /* empty path and body */
            break;
        case 1:
            js_buf_put(&p, "概述", strlen("概述"));
            gen_chinese(&b, blen);
            break;
        case 2: /* headings joined by U+001F */
            js_buf_put(&p, "第一章\x1f安装\x1f从源码构建",
                       strlen("第一章\x1f安装\x1f从源码构建"));
            gen_chinese(&b, blen / 2);
            js_buf_put(&b, "make install\n", 13);
            break;
        case 3: /* NUL bytes inside: lengths, not strlen */
            for (size_t k = 0; k < blen; k++)
                js_buf_u8(&b, rnd() % 3 ? 0 : (uint8_t)rnd());
            js_buf_put(&b, "\0中\0", 5);
            break;
        case 4: /* heading, empty body */
            gen_chinese(&p, 1 + rnd() % 40);
            break;
        case 5: /* every byte value in the path */
            for (unsigned k = 0; k < 256; k++)
                js_buf_u8(&p, (uint8_t)(k + i));
            gen_chinese(&b, blen);
            break;
        case 6:
            js_buf_put(&b, "中", strlen("中"));
            break;
        default: /* long path */
            gen_chinese(&p, 300);
            gen_chinese(&b, blen);
            break;
        }
        corpus_add(c, (char *)p.p, p.len, (char *)b.p, b.len);
    }
    js_buf_free(&p);
    js_buf_free(&b);
}

/* n short sections like a large corpus of small documents. */
static void gen_many(corpus *c, size_t n)
{
    js_buf b = JS_BUF_INIT;
    char path[64];
    for (size_t i = 0; i < n; i++) {
        b.len = 0;
        gen_chinese(&b, rnd() % 400);
        int pl = snprintf(path, sizeof path, "文档 %zu\x1f节 %zu", i / 7,
                          i % 7);
        corpus_add(c, path, (size_t)pl, (char *)b.p, b.len);
    }
    js_buf_free(&b);
}

/* ------------------------------------------------------------------
 * Building and reading back
 * ---------------------------------------------------------------- */

typedef struct {
    js_buf blocks, index;
} parts;

static void parts_free(parts *pt)
{
    js_buf_free(&pt->blocks);
    js_buf_free(&pt->index);
}

/* How the finished blocks leave the writer. */
enum {
    KEEP,       /* all at js_store_finish */
    DRAIN_FILE, /* js_store_drain after every section into an emptied
                   buffer that is then "written" (the builder's way) */
    DRAIN_7     /* js_store_drain after every 7th section, appending to
                   the STORE bytes so far */
};

/* Writes the corpus; the parts are left in *pt (parts_free them). */
static void build_drain(const corpus *c, size_t block_bytes, int level,
                        int drain, parts *pt)
{
    js_store_writer *w = NULL;
    js_buf tmp = JS_BUF_INIT;
    memset(pt, 0, sizeof *pt);
    ck_assert_int_eq(js_store_writer_new(&w, block_bytes, level), 0);
    for (size_t i = 0; i < c->n; i++) {
        ck_assert_int_eq(js_store_add(w, c->v[i].path, c->v[i].plen,
                                      c->v[i].body, c->v[i].blen),
                         0);
        if (drain == DRAIN_FILE) {
            tmp.len = 0;
            ck_assert_int_eq(js_store_drain(w, &tmp), 0);
            ck_assert_int_eq(js_buf_put(&pt->blocks, tmp.p, tmp.len), 0);
        } else if (drain == DRAIN_7 && i % 7 == 6) {
            ck_assert_int_eq(js_store_drain(w, &pt->blocks), 0);
        }
    }
    if (drain == DRAIN_FILE) {
        tmp.len = 0;
        ck_assert_int_eq(js_store_finish(w, &tmp, &pt->index), 0);
        ck_assert_int_eq(js_buf_put(&pt->blocks, tmp.p, tmp.len), 0);
    } else {
        ck_assert_int_eq(js_store_finish(w, &pt->blocks, &pt->index), 0);
    }
    /* Nothing is left to drain once finished. */
    size_t len = tmp.len;
    ck_assert_int_eq(js_store_drain(w, &tmp), 0);
    ck_assert_uint_eq(tmp.len, len);
    js_buf_free(&tmp);
    js_store_writer_free(w);
}

static void build(const corpus *c, size_t block_bytes, int level, parts *pt)
{
    build_drain(c, block_bytes, level, KEEP, pt);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* Fields of a well-formed STORE_INDEX. */
static uint32_t idx_count(const uint8_t *idx) { return le32(idx); }
static uint64_t idx_offset(const uint8_t *idx, uint32_t b)
{
    return le64(idx + 4 + 12 * (size_t)b);
}
static uint32_t idx_first(const uint8_t *idx, uint32_t b)
{
    return le32(idx + 4 + 12 * (size_t)b + 8);
}

/* Reads section id and asserts it equals s. */
static void expect_section(const js_store *st, uint32_t id, const sec *s)
{
    char *p = NULL, *b = NULL;
    size_t pl = 7, bl = 7;
    int rc = js_store_get(st, id, &p, &pl, &b, &bl);
    ck_assert_msg(rc == 0, "section %u: rc %d", id, rc);
    ck_assert_msg(pl == s->plen && bl == s->blen,
                  "section %u: lengths %zu/%zu, want %zu/%zu", id, pl, bl,
                  s->plen, s->blen);
    ck_assert_msg(!memcmp(p, s->path, pl) && !memcmp(b, s->body, bl),
                  "section %u: bytes differ", id);
    ck_assert(p[pl] == 0 && b[bl] == 0);
    free(p);
    free(b);
}

/* Opens the parts and checks every section and verify. */
static void expect_all(const parts *pt, const corpus *c)
{
    js_store *st = NULL;
    ck_assert_int_eq(js_store_open(&st, pt->blocks.p, pt->blocks.len,
                                   pt->index.p, pt->index.len,
                                   (uint32_t)c->n),
                     0);
    for (size_t i = 0; i < c->n; i++)
        expect_section(st, (uint32_t)i, &c->v[i]);
    /* js_store_peek through one cache: in id order (a block inflated
     * once), then backwards and jumping (blocks swapped in and out) */
    js_store_cache cache = {0};
    for (int pass = 0; pass < 3; pass++) {
        for (size_t k = 0; k < c->n; k++) {
            size_t i = pass == 0 ? k : pass == 1 ? c->n - 1 - k
                                                 : (k * 7919) % c->n;
            const char *p, *b;
            size_t pl, bl;
            ck_assert_int_eq(js_store_peek(st, &cache, (uint32_t)i, &p, &pl,
                                           &b, &bl), 0);
            ck_assert(pl == c->v[i].plen && bl == c->v[i].blen);
            ck_assert(!memcmp(p, c->v[i].path, pl) &&
                      !memcmp(b, c->v[i].body, bl));
        }
    }
    const char *p, *b;
    size_t pl, bl;
    ck_assert_int_eq(js_store_peek(st, &cache, (uint32_t)c->n, &p, &pl, &b,
                                   &bl), JS_ENOTFOUND);
    ck_assert_int_eq(js_store_peek(st, NULL, 0, &p, &pl, &b, &bl),
                     JS_EINVALID);
    js_store_cache_free(&cache);
    js_store_cache_free(&cache); /* twice is fine */
    js_store_cache_free(NULL);
    uint32_t bad = 12345;
    ck_assert_int_eq(js_store_verify(st, &bad), 0);
    ck_assert_uint_eq(bad, 12345);
    js_store_close(st);
}

/* Size of a section's record in a raw block. */
static size_t record_size(const sec *s)
{
    size_t n = 0;
    for (uint64_t v = s->plen; n++, v >>= 7;)
        ;
    for (uint64_t v = s->blen; n++, v >>= 7;)
        ;
    return n + s->plen + s->blen;
}

/* ------------------------------------------------------------------
 * Round trips
 * ---------------------------------------------------------------- */

enum { MIXED, MANY };

static const struct {
    const char *name;
    int kind;
    size_t n, max_body, block_bytes;
    int level, drain;
} trips[] = {
    {"mixed, 1-byte blocks (one section each)", MIXED, 300, 3000, 1, 6, KEEP},
    {"mixed, 64-byte blocks", MIXED, 300, 3000, 64, 6, KEEP},
    {"mixed, 1 KiB blocks", MIXED, 300, 3000, 1024, 6, KEEP},
    {"mixed, 16 KiB blocks", MIXED, 300, 3000, 16384, 6, KEEP},
    {"mixed, default blocks", MIXED, 300, 3000, JS_STORE_BLOCK_BYTES, 6, KEEP},
    {"mixed, level 0 (stored)", MIXED, 300, 3000, 4096, 0, KEEP},
    {"mixed, level 1", MIXED, 300, 3000, 4096, 1, KEEP},
    {"mixed, level 9", MIXED, 300, 3000, 4096, 9, KEEP},
    {"mixed, empty bodies only", MIXED, 200, 0, 512, 6, KEEP},
    {"one section", MIXED, 1, 3000, JS_STORE_BLOCK_BYTES, 6, KEEP},
    {"two sections", MIXED, 2, 3000, 16, 6, KEEP},
    {"10000 sections, 4 KiB blocks", MANY, 10000, 0, 4096, 6, KEEP},
    {"10000 sections, default blocks", MANY, 10000, 0, JS_STORE_BLOCK_BYTES,
     6, KEEP},
    {"mixed, 64-byte blocks, drained the builder's way", MIXED, 300, 3000,
     64, 6, DRAIN_FILE},
    {"mixed, 1 KiB blocks, drained every 7 sections", MIXED, 300, 3000,
     1024, 6, DRAIN_7},
    {"10000 sections, 4 KiB blocks, drained the builder's way", MANY,
     10000, 0, 4096, 6, DRAIN_FILE},
};

START_TEST(test_round_trip)
{
    rng_state = 0x9E3779B97F4A7C15u + (uint64_t)_i;
    corpus c = {0};
    if (trips[_i].kind == MIXED)
        gen_mixed(&c, trips[_i].n, trips[_i].max_body);
    else
        gen_many(&c, trips[_i].n);
    parts pt;
    build_drain(&c, trips[_i].block_bytes, trips[_i].level, trips[_i].drain,
                &pt);
    expect_all(&pt, &c);
    if (trips[_i].drain != KEEP) { /* draining changes no byte */
        parts kept;
        build(&c, trips[_i].block_bytes, trips[_i].level, &kept);
        ck_assert_uint_eq(kept.blocks.len, pt.blocks.len);
        ck_assert_uint_eq(kept.index.len, pt.index.len);
        ck_assert(!memcmp(kept.blocks.p, pt.blocks.p, pt.blocks.len));
        ck_assert(!memcmp(kept.index.p, pt.index.p, pt.index.len));
        parts_free(&kept);
    }

    /* The blocking rule: blocks tile the ids in order, and a block's raw
     * text stays within block_bytes unless it is one section alone. */
    uint32_t m = idx_count(pt.index.p);
    ck_assert_uint_ge(m, 1);
    size_t raw_total = 0, rec_total = 0;
    for (uint32_t b = 0; b < m; b++) {
        uint32_t first = idx_first(pt.index.p, b);
        uint32_t stop = b + 1 < m ? idx_first(pt.index.p, b + 1)
                                  : (uint32_t)c.n;
        uint32_t raw = le32(pt.blocks.p + idx_offset(pt.index.p, b));
        ck_assert_msg(raw <= trips[_i].block_bytes || stop - first == 1,
                      "%s: block %u holds %u bytes in %u sections",
                      trips[_i].name, b, raw, stop - first);
        raw_total += raw;
    }
    for (size_t i = 0; i < c.n; i++)
        rec_total += record_size(&c.v[i]);
    ck_assert_uint_eq(raw_total, rec_total);
    if (trips[_i].block_bytes <= 4096 && c.n > 2)
        ck_assert_uint_gt(m, 10); /* sections really cross many blocks */
    if (trips[_i].block_bytes == 1)
        ck_assert_uint_eq(m, c.n);
    parts_free(&pt);
    corpus_free(&c);
}
END_TEST

/* A 5 MB body makes a block of its own, between small sections, whether
 * it compresses like text or as far as deflate can go (a run of one
 * byte: about 1000:1, the reader's sanity bound on raw length). */
START_TEST(test_huge_sections)
{
    rng_state = 42;
    const size_t huge = 5u << 20;
    corpus c = {0};
    js_buf b = JS_BUF_INIT;
    gen_chinese(&b, huge);
    corpus_add(&c, "前言", strlen("前言"), "短", strlen("短"));
    corpus_add(&c, "大\x1f文本", strlen("大\x1f文本"), (char *)b.p, b.len);
    corpus_add(&c, "", 0, "小", strlen("小"));
    memset(b.p, 'a', huge);
    corpus_add(&c, "a", 1, (char *)b.p, huge);
    memset(b.p, 0, huge);
    corpus_add(&c, "", 0, (char *)b.p, huge);
    corpus_add(&c, "后记", strlen("后记"), "", 0);
    js_buf_free(&b);

    static const size_t sizes[] = {JS_STORE_BLOCK_BYTES, 16384, 1u << 20};
    for (size_t k = 0; k < 2 * sizeof sizes / sizeof *sizes; k++) {
        parts pt;
        build_drain(&c, sizes[k % 3], 6, k < 3 ? KEEP : DRAIN_FILE, &pt);
        expect_all(&pt, &c);
        ck_assert_uint_eq(idx_count(pt.index.p), 6);
        for (uint32_t i = 0; i < 6; i++)
            ck_assert_uint_eq(idx_first(pt.index.p, i), i);
        uint32_t raw = le32(pt.blocks.p + idx_offset(pt.index.p, 3));
        uint32_t comp = le32(pt.blocks.p + idx_offset(pt.index.p, 3) + 4);
        if (k == 0)
            printf("store: 5 MB run of 'a' compresses %u -> %u bytes "
                   "(%.0f:1)\n",
                   raw, comp, (double)raw / comp);
        parts_free(&pt);
    }
    corpus_free(&c);
}
END_TEST

START_TEST(test_not_found)
{
    rng_state = 7;
    corpus c = {0};
    gen_mixed(&c, 50, 200);
    parts pt;
    build(&c, 256, 6, &pt);
    js_store *st = NULL;
    ck_assert_int_eq(js_store_open(&st, pt.blocks.p, pt.blocks.len,
                                   pt.index.p, pt.index.len, 50),
                     0);
    static const uint32_t ids[] = {50, 51, 1000, UINT32_MAX - 1, UINT32_MAX};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        char *p = (char *)&c, *b = (char *)&c; /* must come back NULL */
        size_t pl = 3, bl = 3;
        ck_assert_int_eq(js_store_get(st, ids[i], &p, &pl, &b, &bl),
                         JS_ENOTFOUND);
        ck_assert_ptr_null(p);
        ck_assert_ptr_null(b);
        ck_assert_int_eq(js_store_get(st, ids[i], NULL, NULL, NULL, NULL),
                         JS_ENOTFOUND);
    }
    /* Either output may be skipped. */
    char *p = NULL, *b = NULL;
    size_t pl = 0, bl = 0;
    ck_assert_int_eq(js_store_get(st, 5, &p, &pl, NULL, NULL), 0);
    ck_assert_uint_eq(pl, c.v[5].plen);
    ck_assert(!memcmp(p, c.v[5].path, pl));
    ck_assert_int_eq(js_store_get(st, 5, NULL, NULL, &b, &bl), 0);
    ck_assert_uint_eq(bl, c.v[5].blen);
    ck_assert(!memcmp(b, c.v[5].body, bl));
    ck_assert_int_eq(js_store_get(st, 49, NULL, NULL, NULL, NULL), 0);
    free(p);
    free(b);
    js_store_close(st);
    parts_free(&pt);
    corpus_free(&c);
}
END_TEST

START_TEST(test_zero_sections)
{
    js_store_writer *w = NULL;
    ck_assert_int_eq(js_store_writer_new(&w, JS_STORE_BLOCK_BYTES, 6), 0);
    parts pt = {JS_BUF_INIT, JS_BUF_INIT};
    ck_assert_int_eq(js_store_finish(w, &pt.blocks, &pt.index), 0);
    js_store_writer_free(w);
    ck_assert_uint_eq(pt.blocks.len, 0);
    ck_assert_uint_eq(pt.index.len, 4);
    ck_assert_uint_eq(idx_count(pt.index.p), 0);

    js_store *st = NULL;
    ck_assert_int_eq(js_store_open(&st, pt.blocks.p, 0, pt.index.p, 4, 0), 0);
    ck_assert_int_eq(js_store_get(st, 0, NULL, NULL, NULL, NULL),
                     JS_ENOTFOUND);
    ck_assert_int_eq(js_store_verify(st, NULL), 0);
    js_store_close(st);
    /* The same parts cannot stand for one section. */
    ck_assert_int_eq(js_store_open(&st, pt.blocks.p, 0, pt.index.p, 4, 1),
                     JS_ECORRUPT);
    ck_assert_ptr_null(st);
    parts_free(&pt);
}
END_TEST

START_TEST(test_arguments)
{
    js_store_writer *w = (js_store_writer *)&w;
    parts pt = {JS_BUF_INIT, JS_BUF_INIT};
    ck_assert_int_eq(js_store_writer_new(&w, 0, 6), JS_EINVALID);
    ck_assert_ptr_null(w);
    ck_assert_int_eq(js_store_writer_new(&w, 4096, -1), JS_EINVALID);
    ck_assert_int_eq(js_store_writer_new(&w, 4096, 10), JS_EINVALID);
    ck_assert_int_eq(js_store_writer_new(NULL, 4096, 6), JS_EINVALID);
    ck_assert_int_eq(js_store_writer_new(&w, 4096, 6), 0);
    ck_assert_int_eq(js_store_add(w, NULL, 1, "", 0), JS_EINVALID);
    ck_assert_int_eq(js_store_add(w, "", 0, NULL, 1), JS_EINVALID);
    ck_assert_int_eq(js_store_drain(w, NULL), JS_EINVALID);
    ck_assert_int_eq(js_store_drain(NULL, &pt.blocks), JS_EINVALID);
    ck_assert_int_eq(js_store_add(w, NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(js_store_add(w, "路径", 6, "正文", 6), 0);

    /* finish appends after what the buffers already hold. */
    js_buf_put(&pt.blocks, "XYZ", 3);
    js_buf_put(&pt.index, "AB", 2);
    ck_assert_int_eq(js_store_finish(w, &pt.blocks, &pt.index), 0);
    ck_assert_int_eq(js_store_add(w, "", 0, "", 0), JS_EINVALID);
    ck_assert_int_eq(js_store_finish(w, &pt.blocks, &pt.index), JS_EINVALID);
    js_store_writer_free(w);
    js_store_writer_free(NULL);
    ck_assert(!memcmp(pt.blocks.p, "XYZ", 3) && !memcmp(pt.index.p, "AB", 2));
    js_store *st = NULL;
    ck_assert_int_eq(js_store_open(&st, pt.blocks.p + 3, pt.blocks.len - 3,
                                   pt.index.p + 2, pt.index.len - 2, 2),
                     0);
    corpus c = {0};
    corpus_add(&c, "", 0, "", 0);
    corpus_add(&c, "路径", 6, "正文", 6);
    expect_section(st, 0, &c.v[0]);
    expect_section(st, 1, &c.v[1]);
    js_store_close(st);
    js_store_close(NULL);
    corpus_free(&c);
    parts_free(&pt);

    ck_assert_int_eq(js_store_open(NULL, NULL, 0, NULL, 0, 0), JS_EINVALID);
    ck_assert_int_eq(js_store_open(&st, NULL, 5, NULL, 0, 0), JS_EINVALID);
    ck_assert_int_eq(js_store_open(&st, NULL, 0, NULL, 4, 0), JS_EINVALID);
}
END_TEST

/* ------------------------------------------------------------------
 * Hand-made index parts over three valid one-section blocks
 * ---------------------------------------------------------------- */

typedef struct {
    uint32_t m;       /* count field */
    uint32_t nent;    /* entries written */
    uint64_t off[3];  /* real offsets to start with */
    uint32_t first[3];
    uint32_t sections;
    size_t store_len; /* real length to start with; more adds zero bytes */
    size_t index_len; /* SIZE_MAX: 4 + 12 * nent */
    size_t extra;     /* bytes appended to the index */
} idx_spec;

static void m_none(idx_spec *s) { (void)s; }
static void m_count_up(idx_spec *s) { s->m++; }
static void m_count_down(idx_spec *s) { s->m--; }
static void m_count_max(idx_spec *s) { s->m = UINT32_MAX; }
static void m_index_empty(idx_spec *s) { s->index_len = 0; }
static void m_index_short(idx_spec *s) { s->index_len = 3; }
static void m_index_trailing(idx_spec *s) { s->extra = 1; }
static void m_first_offset(idx_spec *s) { s->off[0] = 1; }
static void m_offsets_equal(idx_spec *s) { s->off[1] = s->off[0]; }
static void m_offsets_swap(idx_spec *s)
{
    uint64_t t = s->off[1];
    s->off[1] = s->off[2];
    s->off[2] = t;
}
static void m_header_no_room(idx_spec *s) { s->off[1] = s->off[2] - 11; }
static void m_last_header_out(idx_spec *s) { s->off[2] = s->store_len - 11; }
static void m_last_past_end(idx_spec *s) { s->off[2] = s->store_len + 5; }
static void m_offset_huge(idx_spec *s) { s->off[1] = UINT64_MAX; }
static void m_first_id_1(idx_spec *s) { s->first[0] = 1; }
static void m_ids_equal(idx_spec *s) { s->first[2] = 1; }
static void m_ids_down(idx_spec *s)
{
    s->first[1] = 2;
    s->first[2] = 1;
}
static void m_id_at_count(idx_spec *s) { s->first[2] = 3; }
static void m_sections_0(idx_spec *s) { s->sections = 0; }
static void m_sections_2(idx_spec *s) { s->sections = 2; }
static void m_sections_4(idx_spec *s) { s->sections = 4; }
static void m_ids_skip(idx_spec *s)
{
    s->first[1] = 2;
    s->first[2] = 3;
    s->sections = 4;
}
static void m_no_blocks(idx_spec *s) { s->m = s->nent = 0; }
static void m_no_blocks_no_sections(idx_spec *s)
{
    s->m = s->nent = 0;
    s->sections = 0;
}
static void m_store_trailing(idx_spec *s) { s->store_len += 3; }
static void m_store_cut(idx_spec *s) { s->store_len -= 1; }

static const struct {
    const char *name;
    void (*mut)(idx_spec *);
    int want_open, want_verify;
    uint32_t bad_block;
} idx_cases[] = {
    {"valid", m_none, 0, 0, 0},
    {"count above entries", m_count_up, JS_ECORRUPT, 0, 0},
    {"count below entries", m_count_down, JS_ECORRUPT, 0, 0},
    {"count 2^32-1", m_count_max, JS_ECORRUPT, 0, 0},
    {"index empty", m_index_empty, JS_ECORRUPT, 0, 0},
    {"index shorter than its count", m_index_short, JS_ECORRUPT, 0, 0},
    {"index with a trailing byte", m_index_trailing, JS_ECORRUPT, 0, 0},
    {"block 0 not at offset 0", m_first_offset, JS_ECORRUPT, 0, 0},
    {"offsets equal", m_offsets_equal, JS_ECORRUPT, 0, 0},
    {"offsets decrease", m_offsets_swap, JS_ECORRUPT, 0, 0},
    {"no room for a header before the next block", m_header_no_room,
     JS_ECORRUPT, 0, 0},
    {"last header past STORE", m_last_header_out, JS_ECORRUPT, 0, 0},
    {"last offset past STORE", m_last_past_end, JS_ECORRUPT, 0, 0},
    {"offset 2^64-1", m_offset_huge, JS_ECORRUPT, 0, 0},
    {"first id not 0", m_first_id_1, JS_ECORRUPT, 0, 0},
    {"first ids equal", m_ids_equal, JS_ECORRUPT, 0, 0},
    {"first ids decrease", m_ids_down, JS_ECORRUPT, 0, 0},
    {"first id at the section count", m_id_at_count, JS_ECORRUPT, 0, 0},
    {"blocks but no sections", m_sections_0, JS_ECORRUPT, 0, 0},
    {"more blocks than sections", m_sections_2, JS_ECORRUPT, 0, 0},
    {"no blocks for sections", m_no_blocks, JS_ECORRUPT, 0, 0},
    {"no blocks, STORE not empty", m_no_blocks_no_sections, JS_ECORRUPT, 0,
     0},
    /* Geometry that only reading the blocks can refute. */
    {"last block short of a section", m_sections_4, 0, JS_ECORRUPT, 2},
    {"block 0 short of a section", m_ids_skip, 0, JS_ECORRUPT, 0},
    {"bytes after the last block", m_store_trailing, 0, JS_ECORRUPT, 2},
    {"last block cut short", m_store_cut, 0, JS_ECORRUPT, 2},
};

START_TEST(test_index_table)
{
    corpus c = {0};
    corpus_add(&c, "甲", 3, "一二三", 9);
    corpus_add(&c, "乙", 3, "四五六", 9);
    corpus_add(&c, "丙", 3, "七八九", 9);
    parts pt;
    build(&c, 1, 6, &pt);
    ck_assert_uint_eq(idx_count(pt.index.p), 3);

    idx_spec s = {3, 3, {0}, {0}, 3, pt.blocks.len, SIZE_MAX, 0};
    for (uint32_t b = 0; b < 3; b++) {
        s.off[b] = idx_offset(pt.index.p, b);
        s.first[b] = idx_first(pt.index.p, b);
    }
    idx_cases[_i].mut(&s);

    size_t ilen = s.index_len == SIZE_MAX ? 4 + 12 * (size_t)s.nent + s.extra
                                          : s.index_len;
    uint8_t full[4 + 36 + 8] = {0};
    put32(full, s.m);
    for (uint32_t b = 0; b < s.nent; b++) {
        put64(full + 4 + 12 * b, s.off[b]);
        put32(full + 4 + 12 * b + 8, s.first[b]);
    }
    uint8_t *idx = xmalloc(ilen);
    memcpy(idx, full, ilen);
    uint8_t *store = calloc(1, s.store_len ? s.store_len : 1);
    ck_assert_ptr_nonnull(store);
    memcpy(store, pt.blocks.p,
           s.store_len < pt.blocks.len ? s.store_len : pt.blocks.len);

    js_store *st = NULL;
    int rc = js_store_open(&st, store, s.store_len, idx, ilen, s.sections);
    ck_assert_msg(rc == idx_cases[_i].want_open, "%s: open %d",
                  idx_cases[_i].name, rc);
    if (rc == 0) {
        uint32_t bad = UINT32_MAX;
        rc = js_store_verify(st, &bad);
        ck_assert_msg(rc == idx_cases[_i].want_verify, "%s: verify %d",
                      idx_cases[_i].name, rc);
        if (rc)
            ck_assert_uint_eq(bad, idx_cases[_i].bad_block);
        /* get agrees: ids in good blocks read back, the others fail. */
        for (uint32_t id = 0; id < s.sections; id++) {
            char *p = NULL, *b = NULL;
            size_t pl, bl;
            rc = js_store_get(st, id, &p, &pl, &b, &bl);
            int in_bad = idx_cases[_i].want_verify &&
                         (id >= s.first[idx_cases[_i].bad_block]) &&
                         (idx_cases[_i].bad_block == 2 ||
                          id < s.first[idx_cases[_i].bad_block + 1]);
            ck_assert_msg(rc == (in_bad ? JS_ECORRUPT : 0), "%s: get %u: %d",
                          idx_cases[_i].name, id, rc);
            /* Each real block holds one section: the one of its index. */
            uint32_t blk = 0;
            while (blk + 1 < s.nent && s.first[blk + 1] <= id)
                blk++;
            if (!rc)
                expect_section(st, id, &c.v[blk]);
            free(p);
            free(b);
        }
        js_store_close(st);
    } else {
        ck_assert_ptr_null(st);
    }
    free(idx);
    free(store);
    parts_free(&pt);
    corpus_free(&c);
}
END_TEST

/* ------------------------------------------------------------------
 * Hand-made blocks: record structure and header fields that lie
 * ---------------------------------------------------------------- */

enum { RAW_TRUE, RAW_SET, RAW_ADD };

static const struct {
    const char *name;
    const char *raw;
    size_t raw_len;
    uint32_t sections;
    int raw_mode;      /* the raw length field: true, set to, or add */
    int64_t raw_value;
    size_t tail;       /* bytes after the zlib stream (crc kept right) */
    uint32_t crc_xor;
    int clen_delta;    /* compressed length field (extent unchanged) */
    int not_zlib;      /* the compressed bytes are not a zlib stream */
    int want;
    const char *path0, *body0; /* section 0 when want is 0 */
    size_t plen0, blen0;
} blk_cases[] = {
#define R(s) .raw = s, .raw_len = sizeof s - 1
#define GOOD R("\x03" "abc" "\x02" "de"), .sections = 1
#define BAD .want = JS_ECORRUPT
    {"one record", GOOD, .path0 = "abc", .plen0 = 3, .body0 = "de",
     .blen0 = 2},
    {"two empty records", R("\0\0\0\0"), .sections = 2, .path0 = "",
     .body0 = ""},
    {"record with NULs", R("\x01\0\x03\0x\0"), .sections = 1,
     .path0 = "\0", .plen0 = 1, .body0 = "\0x\0", .blen0 = 3},
    {"path runs past the block", R("\x05" "ab"), .sections = 1, BAD},
    {"body runs past the block", R("\x01" "a" "\x09" "bc"), .sections = 1,
     BAD},
    {"body length missing", R("\x01" "a"), .sections = 1, BAD},
    {"varint cut at the end", R("\x01" "a" "\x80"), .sections = 1, BAD},
    {"varint of 11 bytes",
     R("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00\x00"),
     .sections = 1, BAD},
    {"varint above 2^64", R("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f\x00"),
     .sections = 1, BAD},
    {"length 2^63", R("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01\x00"),
     .sections = 1, BAD},
    {"fewer records than ids", R("\x01" "a" "\x01" "b"), .sections = 2, BAD},
    {"more records than ids", R("\x01" "a" "\x01" "b" "\0\0"),
     .sections = 1, BAD},
    {"a byte after the records", R("\0\0\0"), .sections = 1, BAD},
    {"empty block", R(""), .sections = 1, BAD},
    {"raw length one short", GOOD, .raw_mode = RAW_ADD, .raw_value = -1, BAD},
    {"raw length one over", GOOD, .raw_mode = RAW_ADD, .raw_value = 1, BAD},
    {"raw length 0", GOOD, .raw_mode = RAW_SET, .raw_value = 0, BAD},
    {"raw length 1", GOOD, .raw_mode = RAW_SET, .raw_value = 1, BAD},
    {"raw length 2^32-1", GOOD, .raw_mode = RAW_SET,
     .raw_value = UINT32_MAX, BAD},
    {"raw length 73 MiB, past the sane cap", GOOD, .raw_mode = RAW_SET,
     .raw_value = 73 << 20, BAD},
    {"raw length 1 MiB, past inflate's ratio", GOOD, .raw_mode = RAW_SET,
     .raw_value = 1 << 20, BAD},
    {"bytes after the zlib stream", GOOD, .tail = 2, BAD},
    {"crc wrong", GOOD, .crc_xor = 1, BAD},
    {"compressed length short of the extent", GOOD, .clen_delta = -1, BAD},
    {"compressed length past the extent", GOOD, .clen_delta = 1, BAD},
    {"not a zlib stream, crc right", GOOD, .not_zlib = 1, BAD},
#undef BAD
#undef GOOD
#undef R
};

START_TEST(test_block_table)
{
    uLongf clen = compressBound((uLong)blk_cases[_i].raw_len) + 8;
    uint8_t *comp = xmalloc(clen);
    ck_assert_int_eq(compress2(comp, &clen,
                               (const Bytef *)blk_cases[_i].raw,
                               (uLong)blk_cases[_i].raw_len, 6),
                     Z_OK);
    for (size_t k = 0; k < blk_cases[_i].tail; k++)
        comp[clen++] = 0x55;
    if (blk_cases[_i].not_zlib)
        for (size_t k = 0; k < clen; k++)
            comp[k] = (uint8_t)(0xA5 ^ k);
    uint32_t raw = (uint32_t)blk_cases[_i].raw_len;
    if (blk_cases[_i].raw_mode == RAW_SET)
        raw = (uint32_t)blk_cases[_i].raw_value;
    else if (blk_cases[_i].raw_mode == RAW_ADD)
        raw = (uint32_t)(raw + blk_cases[_i].raw_value);

    size_t slen = 12 + clen;
    uint8_t *store = xmalloc(slen);
    put32(store, raw);
    put32(store + 4, (uint32_t)(clen + blk_cases[_i].clen_delta));
    put32(store + 8, (uint32_t)crc32(0, comp, (uInt)clen) ^
                         blk_cases[_i].crc_xor);
    memcpy(store + 12, comp, clen);
    uint8_t *idx = xmalloc(16);
    memset(idx, 0, 16);
    put32(idx, 1);

    js_store *st = NULL;
    ck_assert_int_eq(js_store_open(&st, store, slen, idx, 16,
                                   blk_cases[_i].sections),
                     0);
    uint32_t bad = 99;
    int rc = js_store_verify(st, &bad);
    ck_assert_msg(rc == blk_cases[_i].want, "%s: verify %d",
                  blk_cases[_i].name, rc);
    if (rc)
        ck_assert_uint_eq(bad, 0);
    for (uint32_t id = 0; id < blk_cases[_i].sections; id++) {
        char *p = NULL, *b = NULL;
        size_t pl, bl;
        rc = js_store_get(st, id, &p, &pl, &b, &bl);
        ck_assert_msg(rc == blk_cases[_i].want, "%s: get %u: %d",
                      blk_cases[_i].name, id, rc);
        if (rc) {
            ck_assert_ptr_null(p);
            ck_assert_ptr_null(b);
        } else if (id == 0) {
            ck_assert_uint_eq(pl, blk_cases[_i].plen0);
            ck_assert_uint_eq(bl, blk_cases[_i].blen0);
            ck_assert(!memcmp(p, blk_cases[_i].path0, pl) && p[pl] == 0);
            ck_assert(!memcmp(b, blk_cases[_i].body0, bl) && b[bl] == 0);
        }
        free(p);
        free(b);
    }
    js_store_close(st);
    free(idx);
    free(store);
    free(comp);
}
END_TEST

/* ------------------------------------------------------------------
 * Damage sweeps
 * ---------------------------------------------------------------- */

/* Opens damaged parts (each in an allocation of exactly its size, so ASan
 * sees any read past it) and reads everything.  Asserts: open is 0 or
 * JS_ECORRUPT; after a good open, verify and every get give correct data
 * or JS_ECORRUPT, and the ids in the blocks before verify's bad block read
 * back.  Returns 1 when the damage was reported anywhere. */
static int probe(const uint8_t *store, size_t slen, const uint8_t *idx,
                 size_t ilen, const corpus *c, const char *what, size_t at)
{
    js_store *st = NULL;
    int rc = js_store_open(&st, store, slen, idx, ilen, (uint32_t)c->n);
    ck_assert_msg(rc == 0 || rc == JS_ECORRUPT, "%s %zu: open %d", what, at,
                  rc);
    if (rc)
        return 1;
    uint32_t bad = UINT32_MAX;
    int vrc = js_store_verify(st, &bad);
    ck_assert_msg(vrc == 0 || vrc == JS_ECORRUPT, "%s %zu: verify %d", what,
                  at, vrc);
    /* Ids before the first bad block's first id must read back. */
    uint32_t good_below = vrc ? idx_first(idx, bad) : (uint32_t)c->n;
    int failed = 0;
    for (uint32_t id = 0; id < c->n; id++) {
        char *p = NULL, *b = NULL;
        size_t pl = 0, bl = 0;
        rc = js_store_get(st, id, &p, &pl, &b, &bl);
        ck_assert_msg(rc == 0 || rc == JS_ECORRUPT, "%s %zu: get %u: %d",
                      what, at, id, rc);
        ck_assert_msg(rc == 0 || id >= good_below,
                      "%s %zu: get %u failed before bad block %u", what, at,
                      id, bad);
        if (rc == 0) {
            const sec *s = &c->v[id];
            ck_assert_msg(pl == s->plen && bl == s->blen &&
                              !memcmp(p, s->path, pl) &&
                              !memcmp(b, s->body, bl),
                          "%s %zu: section %u read back wrong", what, at, id);
        } else {
            failed = 1;
        }
        free(p);
        free(b);
    }
    js_store_close(st);
    ck_assert_msg(!vrc == !failed, "%s %zu: verify %d but a get %s", what,
                  at, vrc, failed ? "failed" : "never failed");
    return vrc != 0;
}

/* Returns a malloc'ed copy of n bytes of p, exactly n bytes long. */
static uint8_t *exact_copy(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n);
    ck_assert(d || !n);
    if (n)
        memcpy(d, p, n);
    return d;
}

/* Every single-byte change and every truncation of either part is
 * reported: by open, or else by verify and the gets of the damaged
 * block.  The crc32 catches any change to compressed bytes; the exact
 * geometry, raw length and record counts catch the rest. */
START_TEST(test_damage_sweep)
{
    rng_state = 0xDA3A6E;
    corpus c = {0};
    gen_mixed(&c, 40, 120);
    parts pt;
    build(&c, 300, 6, &pt);
    ck_assert_uint_ge(idx_count(pt.index.p), 8);
    const uint8_t xors[] = {0x01, 0x80, 0xFF};
    size_t cases = 0, reported = 0;

    for (int part = 0; part < 2; part++) {
        const js_buf *src = part ? &pt.index : &pt.blocks;
        const char *name = part ? "STORE_INDEX" : "STORE";
        for (size_t at = 0; at < src->len; at++) {
            for (size_t k = 0; k < sizeof xors; k++) {
                /* The 0x80 and 0xFF flips of STORE's compressed bytes
                 * only exercise the crc again: every fourth offset. */
                if (!part && k && at % 4)
                    continue;
                uint8_t *d = exact_copy(src->p, src->len);
                d[at] ^= xors[k];
                int seen = part ? probe(pt.blocks.p, pt.blocks.len, d,
                                        src->len, &c, name, at)
                                : probe(d, src->len, pt.index.p,
                                        pt.index.len, &c, name, at);
                ck_assert_msg(seen, "%s byte %zu ^ 0x%02x went unnoticed",
                              name, at, xors[k]);
                free(d);
                cases++;
            }
        }
        for (size_t len = 0; len < src->len; len++) {
            uint8_t *d = exact_copy(src->p, len);
            int seen = part ? probe(pt.blocks.p, pt.blocks.len, d, len, &c,
                                    "STORE_INDEX cut at", len)
                            : probe(d, len, pt.index.p, pt.index.len, &c,
                                    "STORE cut at", len);
            ck_assert_msg(seen, "%s cut at %zu went unnoticed", name, len);
            free(d);
            cases++;
        }
    }
    /* Damage in many places at once: safety and correct-or-corrupt only
     * (a crc32 can in principle be fooled by wider damage). */
    for (int iter = 0; iter < 3000; iter++) {
        uint8_t *s = exact_copy(pt.blocks.p, pt.blocks.len);
        uint8_t *x = exact_copy(pt.index.p, pt.index.len);
        int hits = 1 + (int)(rnd() % 4);
        for (int h = 0; h < hits; h++) {
            if (rnd() % 3)
                s[rnd() % pt.blocks.len] = (uint8_t)rnd();
            else
                x[rnd() % pt.index.len] = (uint8_t)rnd();
        }
        if (probe(s, pt.blocks.len, x, pt.index.len, &c, "random", iter))
            reported++;
        free(s);
        free(x);
        cases++;
    }
    printf("store: %zu damaged variants probed (%zu random ones reported)\n",
           cases, reported);
    parts_free(&pt);
    corpus_free(&c);
}
END_TEST

/* Damage in a store of many blocks is pinned to its block by verify. */
START_TEST(test_verify_names_block)
{
    rng_state = 99;
    corpus c = {0};
    gen_many(&c, 2000);
    parts pt;
    build(&c, 2048, 6, &pt);
    uint32_t m = idx_count(pt.index.p);
    ck_assert_uint_gt(m, 50);
    static const uint32_t targets[] = {0, 1, 17, 40};
    for (size_t t = 0; t < sizeof targets / sizeof *targets; t++) {
        uint32_t b = targets[t] < m ? targets[t] : m - 1;
        uint8_t *s = exact_copy(pt.blocks.p, pt.blocks.len);
        s[idx_offset(pt.index.p, b) + 12 + 5] ^= 0x10; /* compressed byte */
        js_store *st = NULL;
        ck_assert_int_eq(js_store_open(&st, s, pt.blocks.len, pt.index.p,
                                       pt.index.len, (uint32_t)c.n),
                         0);
        uint32_t bad = UINT32_MAX;
        ck_assert_int_eq(js_store_verify(st, &bad), JS_ECORRUPT);
        ck_assert_uint_eq(bad, b);
        uint32_t first = idx_first(pt.index.p, b);
        ck_assert_int_eq(js_store_get(st, first, NULL, NULL, NULL, NULL),
                         JS_ECORRUPT);
        if (first > 0)
            expect_section(st, first - 1, &c.v[first - 1]);
        js_store_close(st);
        free(s);
    }
    parts_free(&pt);
    corpus_free(&c);
}
END_TEST

/* ------------------------------------------------------------------
 * Threads: one reader, many threads, no shared mutable state
 * ---------------------------------------------------------------- */

typedef struct {
    const js_store *st;
    const corpus *c;
    unsigned seed;
    int wrong;
} thread_job;

static void *reader_thread(void *arg)
{
    thread_job *j = arg;
    uint64_t x = j->seed * 0x9E3779B97F4A7C15u + 1;
    for (int k = 0; k < 2000; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint32_t id = (uint32_t)(x % j->c->n);
        char *p = NULL, *b = NULL;
        size_t pl, bl;
        const sec *s = &j->c->v[id];
        if (js_store_get(j->st, id, &p, &pl, &b, &bl) || pl != s->plen ||
            bl != s->blen || memcmp(p, s->path, pl) || memcmp(b, s->body, bl))
            j->wrong++;
        free(p);
        free(b);
    }
    return NULL;
}

START_TEST(test_threads)
{
    rng_state = 5;
    corpus c = {0};
    gen_many(&c, 3000);
    parts pt;
    build(&c, 4096, 6, &pt);
    js_store *st = NULL;
    ck_assert_int_eq(js_store_open(&st, pt.blocks.p, pt.blocks.len,
                                   pt.index.p, pt.index.len, (uint32_t)c.n),
                     0);
    enum { NT = 4 };
    pthread_t th[NT];
    thread_job jobs[NT];
    for (unsigned t = 0; t < NT; t++) {
        jobs[t] = (thread_job){st, &c, t + 1, 0};
        ck_assert_int_eq(pthread_create(&th[t], NULL, reader_thread, &jobs[t]),
                         0);
    }
    for (unsigned t = 0; t < NT; t++) {
        pthread_join(th[t], NULL);
        ck_assert_int_eq(jobs[t].wrong, 0);
    }
    js_store_close(st);
    parts_free(&pt);
    corpus_free(&c);
}
END_TEST

/* ------------------------------------------------------------------
 * Figures: compression ratio and random get time per block size
 * ---------------------------------------------------------------- */

#define SAMPLE_BYTES (5u << 20)

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits one man page's source into sections at .SH/.SS requests, keeping
 * text lines (requests and comments dropped), path "page\x1fheading". */
static void split_man(corpus *c, const char *page, const char *src, size_t n,
                      size_t *total)
{
    js_buf body = JS_BUF_INIT, path = JS_BUF_INIT;
    js_buf_put(&path, page, strlen(page));
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(src + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - src) : n;
        const char *l = src + i;
        size_t ll = end - i;
        if (ll >= 3 && (!memcmp(l, ".SH", 3) || !memcmp(l, ".SS", 3))) {
            if (body.len) {
                corpus_add(c, (char *)path.p, path.len, (char *)body.p,
                           body.len);
                *total += body.len;
            }
            body.len = 0;
            path.len = strlen(page);
            js_buf_u8(&path, 0x1f);
            size_t h = 3;
            while (h < ll && (l[h] == ' ' || l[h] == '"'))
                h++;
            size_t he = ll;
            while (he > h && (l[he - 1] == '"' || l[he - 1] == ' '))
                he--;
            js_buf_put(&path, l + h, he - h);
        } else if (ll && l[0] != '.' && l[0] != '\'') {
            js_buf_put(&body, l, ll);
            js_buf_u8(&body, '\n');
        }
        i = end + 1;
    }
    if (body.len) {
        corpus_add(c, (char *)path.p, path.len, (char *)body.p, body.len);
        *total += body.len;
    }
    js_buf_free(&body);
    js_buf_free(&path);
}

/* Reads up to SAMPLE_BYTES of section text from the zh_CN man pages.
 * Returns 0 when they are not installed. */
static int load_man_sample(corpus *c)
{
    static const char *const root = "/usr/share/man/zh_CN";
    size_t total = 0;
    char *buf = xmalloc(1u << 20);
    for (int sect = 1; sect <= 8 && total < SAMPLE_BYTES; sect++) {
        char dir[256];
        snprintf(dir, sizeof dir, "%s/man%d", root, sect);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        char **names = NULL;
        size_t nn = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t l = strlen(e->d_name);
            if (l < 4 || strcmp(e->d_name + l - 3, ".gz"))
                continue;
            names = realloc(names, (nn + 1) * sizeof *names);
            ck_assert_ptr_nonnull(names);
            names[nn++] = strdup(e->d_name);
        }
        closedir(d);
        qsort(names, nn, sizeof *names, cmp_str); /* same sample each run */
        for (size_t k = 0; k < nn; k++) {
            char file[512];
            snprintf(file, sizeof file, "%s/%s", dir, names[k]);
            gzFile gz = total < SAMPLE_BYTES ? gzopen(file, "rb") : NULL;
            if (gz) {
                int got = gzread(gz, buf, (1u << 20) - 1);
                gzclose(gz);
                if (got > 0) {
                    names[k][strlen(names[k]) - 3] = 0;
                    split_man(c, names[k], buf, (size_t)got, &total);
                }
            }
            free(names[k]);
        }
        free(names);
    }
    free(buf);
    return total > 0;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

START_TEST(test_figures)
{
    rng_state = 2024;
    corpus c = {0};
    const char *sample = "zh_CN man pages (/usr/share/man/zh_CN)";
    if (!load_man_sample(&c)) {
        sample = "generated Chinese text";
        js_buf b = JS_BUF_INIT;
        for (size_t total = 0; total < SAMPLE_BYTES;) {
            b.len = 0;
            gen_chinese(&b, 200 + rnd() % 4000);
            corpus_add(&c, "手册\x1f描述", strlen("手册\x1f描述"),
                       (char *)b.p, b.len);
            total += b.len;
        }
        js_buf_free(&b);
    }
    size_t raw = 0;
    for (size_t i = 0; i < c.n; i++)
        raw += c.v[i].plen + c.v[i].blen;
    printf("store figures: %s, %zu sections, %.2f MB of path+body text\n",
           sample, c.n, raw / 1e6);
#ifdef __SANITIZE_ADDRESS__
    printf("store figures: (this build has sanitizers: times are inflated)\n");
#endif
    static const struct {
        size_t block;
        int level;
    } runs[] = {{4096, 6},  {16384, 6}, {32768, 6}, {65536, 6},
                {131072, 6}, {16384, 9}, {65536, 9}, {65536, 1}};
    for (size_t r = 0; r < sizeof runs / sizeof *runs; r++) {
        double t0 = now_us();
        parts pt;
        build(&c, runs[r].block, runs[r].level, &pt);
        double t1 = now_us();
        js_store *st = NULL;
        ck_assert_int_eq(js_store_open(&st, pt.blocks.p, pt.blocks.len,
                                       pt.index.p, pt.index.len,
                                       (uint32_t)c.n),
                         0);
        enum { GETS = 3000 };
        uint64_t x = 77;
        double t2 = now_us();
        for (int k = 0; k < GETS; k++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            uint32_t id = (uint32_t)((x >> 33) % c.n);
            char *p, *b;
            size_t pl, bl;
            ck_assert_int_eq(js_store_get(st, id, &p, &pl, &b, &bl), 0);
            free(p);
            free(b);
        }
        double t3 = now_us();
        ck_assert_int_eq(js_store_verify(st, NULL), 0);
        double t4 = now_us();
        size_t stored = pt.blocks.len + pt.index.len;
        printf("store figures: block %6zu level %d: %u blocks, %zu -> %zu "
               "bytes, ratio %.2f (%.1f%%), build %.0f ms, random get "
               "%.1f us, verify all %.0f ms\n",
               runs[r].block, runs[r].level, idx_count(pt.index.p), raw,
               stored, (double)raw / stored, 100.0 * stored / raw,
               (t1 - t0) / 1e3, (t3 - t2) / GETS, (t4 - t3) / 1e3);
        js_store_close(st);
        parts_free(&pt);
    }
    fflush(stdout);
    corpus_free(&c);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("round trip");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_round_trip, 0, sizeof trips / sizeof *trips);
    tcase_add_test(tc, test_huge_sections);
    tcase_add_test(tc, test_not_found);
    tcase_add_test(tc, test_zero_sections);
    tcase_add_test(tc, test_arguments);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);

    tc = tcase_create("damage");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_index_table, 0,
                        sizeof idx_cases / sizeof *idx_cases);
    tcase_add_loop_test(tc, test_block_table, 0,
                        sizeof blk_cases / sizeof *blk_cases);
    tcase_add_test(tc, test_damage_sweep);
    tcase_add_test(tc, test_verify_names_block);
    suite_add_tcase(s, tc);

    tc = tcase_create("figures");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_figures);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(store_suite(), 0);
}
