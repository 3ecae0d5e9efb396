/*
 * fuzz_index.h — the fixed small index the query and reader targets use.
 *
 * In:  nothing but the sentences below (written for these tests): a
 *      Markdown manual, a plain-text note in Traditional characters and
 *      JSON Lines records generated from a fixed list of phrases, with
 *      4-entry postings blocks so that lists cross blocks and skips.
 * Out: fuzz_index_build() builds it once into a fresh temporary
 *      directory (removed at exit) and returns that directory;
 *      fuzz_xindex_build() the same documents with the Xapian backend.
 */
#ifndef JS_FUZZ_INDEX_H
#define JS_FUZZ_INDEX_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "jiansuo.h"

static char fuzz_index_dir[256];

static inline int fuzz_rm_one(const char *path, const struct stat *st, int type,
                       struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    remove(path);
    return 0;
}

static inline void fuzz_index_remove(void)
{
    if (fuzz_index_dir[0])
        nftw(fuzz_index_dir, fuzz_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static const char fuzz_manual_md[] =
    "# 竹林書屋使用手冊\n\n"
    "本手冊說明竹林書屋的借書規則。開放時間為每天上午九點到晚上八點。\n\n"
    "## 借書\n\n每位讀者一次最多借五本書，借期兩週，可以續借一次。\n"
    "Overdue books cost 5 yuan per day; the librarian keeps a ledger.\n\n"
    "## 還書\n\n還書請放在門口的木箱裡，工作人員會在隔天處理。\n\n"
    "### 遺失\n\n遺失的書要照價賠償，絕版書另外商量。\n\n"
    "## 2023年8月的公告\n\n書屋在2023年8月整修，期間暫停開放。\n";

static const char fuzz_note_txt[] =
    "舊城散步記\n\n"
    "從車站往北走十分鐘，就是舊城的城門。城門邊有一家賣豆花的小店，"
    "老闆說他在這裡開店已經三十年了。\n\n"
    "沿著河邊的步道往東，可以看到一座石橋。橋下的水很清，"
    "看得見魚在游。Walking further east, the old tea house opens at dawn.\n";

static const char *const fuzz_phrases[] = {
    "山水", "江天一色", "人心", "工匠學院", "工匠学院", "蚌埠", "書架",
    "雨停了", "search engine", "Xapian", "2023年8月", "茶館", "豆花",
    "石橋", "城門", "ＡＢＣ全形", "かな", "한글", "café", "借書",
};

/* The JSON Lines records: 30 records of 2-3 sections, phrases picked by a
 * fixed linear congruential sequence so the index is the same every run.
 * Returns a malloc'ed buffer of *len bytes. */
static inline char *fuzz_index_records(size_t *len_out)
{
    size_t cap = 64 * 1024, len = 0;
    char *jl = malloc(cap);
    if (!jl)
        abort();
    uint32_t seed = 2026;
    const size_t nph = sizeof fuzz_phrases / sizeof *fuzz_phrases;
    for (int r = 0; r < 30; r++) {
        /* every third id a UUID (index format 6 stores those as 16
         * bytes) */
        if (r % 3 == 0)
            len += (size_t)snprintf(jl + len, cap - len,
                                    "{\"id\":\"9b2d4c1e-7a3f-4e8b-b5c6-%012d\",",
                                    r);
        else
            len += (size_t)snprintf(jl + len, cap - len, "{\"id\":\"rec%d\",",
                                    r);
        len += (size_t)snprintf(jl + len, cap - len,
                                "\"title\":\"紀錄%d\","
                                "\"lang\":\"zh\",\"sections\":[",
                                r);
        int ns = 2 + r % 2;
        for (int s = 0; s < ns; s++) {
            len += (size_t)snprintf(jl + len, cap - len,
                                    "%s{\"heading\":\"第%d節 %s\",\"text\":\"",
                                    s ? "," : "", s,
                                    fuzz_phrases[(r + s) % nph]);
            int nw = 3 + (int)(seed % 9);
            for (int w = 0; w < nw; w++) {
                seed = seed * 1103515245u + 12345u;
                len += (size_t)snprintf(jl + len, cap - len, "%s%s",
                                        w ? (seed & 0x100 ? "，" : " ") : "",
                                        fuzz_phrases[(seed >> 16) % nph]);
            }
            len += (size_t)snprintf(jl + len, cap - len, "\"}");
        }
        len += (size_t)snprintf(jl + len, cap - len, "]}\n");
        if (len + 2048 > cap)
            FUZZ_FAIL("fixture buffer too small");
    }

    *len_out = len;
    return jl;
}

/* A fresh temporary directory in buf (removed at exit by remove_fn). */
static inline void fuzz_index_mkdir(char *buf, size_t size, void (*remove_fn)(void))
{
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, size, "%s/jiansuo-fuzzix-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(buf))
        FUZZ_FAIL("mkdtemp %s", buf);
    atexit(remove_fn);
}

/* Builds the fixture documents with backend (and shards, for Xapian)
 * into a fresh temporary directory in dir (removed at exit by
 * remove_fn): the same documents whichever backend, through the one
 * builder API. */
static inline void fuzz_build(char *dir, size_t size, void (*remove_fn)(void),
                              js_backend backend, unsigned shards)
{
    fuzz_index_mkdir(dir, size, remove_fn);
    size_t len;
    char *jl = fuzz_index_records(&len);

    js_build_options o = JS_BUILD_OPTIONS_INIT;
    o.block_size = 4;
    o.champion_df = 3; /* lists for most terms: one-term queries use them */
    o.threads = 1;
    o.memory_mib = 16;
    o.backend = backend;
    o.shards = shards;
    js_builder *b = NULL;
    int rc = js_builder_open(&b, dir, &o);
    if (!rc)
        rc = js_builder_add_memory(b, "manual.md", fuzz_manual_md,
                                   sizeof fuzz_manual_md - 1);
    if (!rc)
        rc = js_builder_add_memory(b, "note.txt", fuzz_note_txt,
                                   sizeof fuzz_note_txt - 1);
    if (!rc)
        rc = js_builder_add_memory(b, "records.jsonl", jl, len);
    if (!rc)
        rc = js_builder_commit(b);
    if (rc)
        FUZZ_FAIL("building the %s fixture index: %s", js_backend_name(backend),
                  js_builder_errmsg(b));
    js_builder_close(b);
    free(jl);
}

/* Builds the native index; returns its directory (static storage). */
static inline const char *fuzz_index_build(void)
{
    fuzz_build(fuzz_index_dir, sizeof fuzz_index_dir, fuzz_index_remove,
               JS_BACKEND_NATIVE, 0);
    return fuzz_index_dir;
}

static char fuzz_xindex_dir[256];

static inline void fuzz_xindex_remove(void)
{
    if (fuzz_xindex_dir[0])
        nftw(fuzz_xindex_dir, fuzz_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* The same documents in a Xapian index of two shards (so that searches
 * merge shard statistics); returns its directory (static storage). */
static inline const char *fuzz_xindex_build(void)
{
    fuzz_build(fuzz_xindex_dir, sizeof fuzz_xindex_dir, fuzz_xindex_remove,
               JS_BACKEND_XAPIAN, 2);
    return fuzz_xindex_dir;
}

#endif /* JS_FUZZ_INDEX_H */
