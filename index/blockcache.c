/*
 * blockcache.c — the process's cache of inflated store blocks (see
 * blockcache.h).
 *
 * In:  blocks, keyed by (owner, block number).
 * Out: pinned entries.
 *
 * A hash table of chains over the entries, and a doubly linked list in
 * order of use (most recent first); bytes counts what the table holds.
 * An entry leaves the table when evicted or dropped, and is freed when it
 * is out of the table and no longer pinned.
 */
#include "config.h"

#include "blockcache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define NBUCKETS 4096u
#define DEFAULT_MIB 64u

struct js_bcache_entry {
    uint64_t owner;
    uint32_t block;
    uint8_t *raw;
    size_t len;
    unsigned refs;
    int in_table;
    js_bcache_entry *chain;       /* hash bucket */
    js_bcache_entry *prev, *next; /* use order */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Atomic size_t budget;
static size_t bytes;
static js_bcache_entry *buckets[NBUCKETS];
static js_bcache_entry *newest, *oldest;
static atomic_uint_fast64_t next_owner = 1;

static void read_budget(void)
{
    const char *s = getenv("JIANSUO_STORE_CACHE_MIB");
    char *end;
    unsigned long v = s ? strtoul(s, &end, 10) : DEFAULT_MIB;
    if (s && (end == s || *end || v > (1ul << 20)))
        v = DEFAULT_MIB;
    budget = (size_t)v << 20;
}

uint64_t js_bcache_owner(void)
{
    return atomic_fetch_add(&next_owner, 1);
}

static size_t bucket_of(uint64_t owner, uint32_t block)
{
    uint64_t h = owner * 0x9E3779B97F4A7C15ull ^ block * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h >> 32) % NBUCKETS;
}

static void unlink_use(js_bcache_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        newest = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        oldest = e->prev;
    e->prev = e->next = NULL;
}

static void push_use(js_bcache_entry *e)
{
    e->next = newest;
    e->prev = NULL;
    if (newest)
        newest->prev = e;
    newest = e;
    if (!oldest)
        oldest = e;
}

/* Takes e out of the table (mu held); frees it when unpinned. */
static void remove_entry(js_bcache_entry *e)
{
    js_bcache_entry **p = &buckets[bucket_of(e->owner, e->block)];
    while (*p != e)
        p = &(*p)->chain;
    *p = e->chain;
    unlink_use(e);
    e->in_table = 0;
    bytes -= e->len;
    if (!e->refs) {
        free(e->raw);
        free(e);
    }
}

js_bcache_entry *js_bcache_get(uint64_t owner, uint32_t block,
                               const uint8_t **raw, size_t *len)
{
    pthread_once(&once, read_budget);
    if (!budget)
        return NULL;
    pthread_mutex_lock(&mu);
    js_bcache_entry *e = buckets[bucket_of(owner, block)];
    while (e && (e->owner != owner || e->block != block))
        e = e->chain;
    if (e) {
        e->refs++;
        unlink_use(e);
        push_use(e);
        *raw = e->raw;
        *len = e->len;
    }
    pthread_mutex_unlock(&mu);
    return e;
}

js_bcache_entry *js_bcache_put(uint64_t owner, uint32_t block, uint8_t *raw,
                               size_t len, const uint8_t **out)
{
    pthread_once(&once, read_budget);
    if (!budget || len > budget / 4)
        return NULL; /* one block must not flush the whole cache */
    js_bcache_entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    pthread_mutex_lock(&mu);
    size_t b = bucket_of(owner, block);
    js_bcache_entry *had = buckets[b];
    while (had && (had->owner != owner || had->block != block))
        had = had->chain;
    if (had) { /* another thread inflated it meanwhile */
        had->refs++;
        *out = had->raw;
        pthread_mutex_unlock(&mu);
        free(e);
        free(raw);
        return had;
    }
    e->owner = owner;
    e->block = block;
    e->raw = raw;
    e->len = len;
    e->refs = 1;
    e->in_table = 1;
    e->chain = buckets[b];
    buckets[b] = e;
    push_use(e);
    bytes += len;
    while (bytes > budget && oldest && oldest != e)
        remove_entry(oldest);
    pthread_mutex_unlock(&mu);
    *out = raw;
    return e;
}

size_t js_bcache_set_budget(size_t mib)
{
    pthread_once(&once, read_budget);
    pthread_mutex_lock(&mu);
    size_t before = budget >> 20;
    budget = mib > (SIZE_MAX >> 21) ? SIZE_MAX >> 1 : mib << 20;
    while (bytes > budget && oldest)
        remove_entry(oldest);
    pthread_mutex_unlock(&mu);
    return before;
}

void js_bcache_release(js_bcache_entry *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&mu);
    int gone = --e->refs == 0 && !e->in_table;
    pthread_mutex_unlock(&mu);
    if (gone) {
        free(e->raw);
        free(e);
    }
}

void js_bcache_drop(uint64_t owner)
{
    pthread_once(&once, read_budget);
    if (!budget)
        return;
    pthread_mutex_lock(&mu);
    js_bcache_entry *e = newest;
    while (e) {
        js_bcache_entry *next = e->next;
        if (e->owner == owner)
            remove_entry(e);
        e = next;
    }
    pthread_mutex_unlock(&mu);
}
