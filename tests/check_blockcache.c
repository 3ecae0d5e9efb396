/*
 * check_blockcache.c — the process's cache of inflated store blocks
 * (index/blockcache.c).
 *
 * In:  blocks of made-up bytes under a 1 MiB budget
 *      (JIANSUO_STORE_CACHE_MIB=1, set before the first use).
 * Out: Check results: hits and misses, least recently used out first,
 *      pinned entries outliving eviction and their owner's drop, and
 *      threads sharing the cache (ASan sees any use after free).
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "blockcache.h"

#define KIB 1024u

static uint8_t *block_bytes(size_t len, uint8_t fill)
{
    uint8_t *b = malloc(len);
    ck_assert_ptr_nonnull(b);
    memset(b, fill, len);
    return b;
}

/* Puts a block and releases it at once; returns 1 if the cache took it. */
static int put(uint64_t owner, uint32_t block, size_t len, uint8_t fill)
{
    uint8_t *b = block_bytes(len, fill);
    const uint8_t *raw;
    js_bcache_entry *e = js_bcache_put(owner, block, b, len, &raw);
    if (!e) {
        free(b);
        return 0;
    }
    ck_assert_ptr_eq(raw, b);
    js_bcache_release(e);
    return 1;
}

static int cached(uint64_t owner, uint32_t block, uint8_t fill)
{
    const uint8_t *raw;
    size_t len;
    js_bcache_entry *e = js_bcache_get(owner, block, &raw, &len);
    if (!e)
        return 0;
    ck_assert_uint_eq(raw[0], fill);
    ck_assert_uint_eq(raw[len - 1], fill);
    js_bcache_release(e);
    return 1;
}

START_TEST(test_hit_miss_owner)
{
    uint64_t a = js_bcache_owner(), b = js_bcache_owner();
    ck_assert_uint_ne(a, b);
    ck_assert(!cached(a, 0, 1));
    ck_assert(put(a, 0, 10 * KIB, 1));
    ck_assert(cached(a, 0, 1));
    ck_assert(!cached(b, 0, 1)); /* another owner's block 0 */
    ck_assert(!cached(a, 1, 1));
    js_bcache_drop(a);
    ck_assert(!cached(a, 0, 1));
}
END_TEST

START_TEST(test_lru_and_limits)
{
    uint64_t o = js_bcache_owner();
    /* a block over a quarter of the budget is not kept */
    ck_assert(!put(o, 99, 300 * KIB, 9));
    /* five of 200 KiB in 1 MiB; the sixth pushes out the oldest unused */
    for (uint32_t i = 0; i < 5; i++)
        ck_assert(put(o, i, 200 * KIB, (uint8_t)i));
    ck_assert(cached(o, 0, 0)); /* 0 is now the most recent */
    ck_assert(put(o, 5, 200 * KIB, 5));
    ck_assert(cached(o, 0, 0));
    ck_assert(!cached(o, 1, 1));
    ck_assert(cached(o, 5, 5));
    js_bcache_drop(o);
}
END_TEST

START_TEST(test_pinned)
{
    uint64_t o = js_bcache_owner();
    uint8_t *b = block_bytes(200 * KIB, 7);
    const uint8_t *raw;
    js_bcache_entry *pin = js_bcache_put(o, 0, b, 200 * KIB, &raw);
    ck_assert_ptr_nonnull(pin);
    /* evicted while pinned, and its owner dropped: still readable */
    for (uint32_t i = 1; i < 12; i++)
        ck_assert(put(o, i, 200 * KIB, 1));
    js_bcache_drop(o);
    ck_assert_uint_eq(raw[200 * KIB - 1], 7);
    ck_assert(!cached(o, 0, 7));
    js_bcache_release(pin);
    /* a second put of a block already held keeps the first copy */
    uint8_t *one = block_bytes(KIB, 1), *two = block_bytes(KIB, 2);
    js_bcache_entry *e1 = js_bcache_put(o, 3, one, KIB, &raw);
    js_bcache_entry *e2 = js_bcache_put(o, 3, two, KIB, &raw);
    ck_assert_ptr_eq(e1, e2);
    ck_assert_ptr_eq(raw, one);
    js_bcache_release(e1);
    js_bcache_release(e2);
    js_bcache_drop(o);
}
END_TEST

static void *hammer(void *arg)
{
    uint64_t owner = *(uint64_t *)arg;
    unsigned seed = (unsigned)owner;
    for (int i = 0; i < 4000; i++) {
        uint32_t block = (uint32_t)(rand_r(&seed) % 16);
        const uint8_t *raw;
        size_t len;
        js_bcache_entry *e = js_bcache_get(owner, block, &raw, &len);
        if (!e) {
            uint8_t *b = block_bytes(64 * KIB, (uint8_t)block);
            e = js_bcache_put(owner, block, b, 64 * KIB, &raw);
            if (!e) {
                free(b);
                continue;
            }
            len = 64 * KIB;
        }
        ck_assert_uint_eq(raw[len - 1], (uint8_t)block);
        js_bcache_release(e);
        if (i % 1000 == 999)
            js_bcache_drop(owner);
    }
    return NULL;
}

START_TEST(test_threads)
{
    /* two threads share an owner (the same store searched by both),
     * two have one each; 16 blocks of 64 KiB each do not all fit */
    uint64_t shared = js_bcache_owner();
    uint64_t owners[4] = {shared, shared, js_bcache_owner(), js_bcache_owner()};
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, hammer, &owners[i]), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        js_bcache_drop(owners[i]);
}
END_TEST

int main(void)
{
    setenv("JIANSUO_STORE_CACHE_MIB", "1", 1);
    Suite *s = suite_create("blockcache");
    TCase *tc = tcase_create("cache");
    tcase_add_test(tc, test_hit_miss_owner);
    tcase_add_test(tc, test_lru_and_limits);
    tcase_add_test(tc, test_pinned);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
