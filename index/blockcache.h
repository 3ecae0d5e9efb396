/*
 * blockcache.h — inflated store blocks, shared by every reader in the
 * process and kept while they are used often.
 *
 * In:  blocks a store reader has inflated (and checked), under the
 *      reader's owner id and the block's number.
 * Out: the same bytes for the next reader that wants that block, without
 *      inflating it again, until the cache needs the room.
 *
 * Why: a hit's snippet needs its section's text, which lives in a
 * compressed block of about 64 KiB; inflating one costs about 100 µs, ten
 * times what finding the hits costs.  A process that answers many
 * searches (`jiansuo serve`, a back-end linking the library) meets the
 * same blocks again and again.  The cache holds at most
 * JIANSUO_STORE_CACHE_MIB MiB (environment, read once; default 64; 0
 * turns it off), least recently used out first.  An entry in use is
 * pinned: evicting it only unlinks it, and the last release frees it.
 * All calls are thread-safe (one mutex, held for lookups, not for
 * inflating).
 */
#ifndef JS_BLOCKCACHE_H
#define JS_BLOCKCACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct js_bcache_entry js_bcache_entry;

/* A new owner id (one per open store; never reused). */
uint64_t js_bcache_owner(void);

/* The cached block (owner, block): pinned, its bytes in *raw and *len;
 * NULL when not cached. */
js_bcache_entry *js_bcache_get(uint64_t owner, uint32_t block,
                               const uint8_t **raw, size_t *len);

/* Offers raw (malloc'ed, len bytes) as block (owner, block).  Returns the
 * pinned entry that now holds the block, with its bytes in *out (raw
 * itself, or another thread's copy, raw then being freed); or NULL when
 * the cache is off or out of memory, raw staying the caller's. */
js_bcache_entry *js_bcache_put(uint64_t owner, uint32_t block, uint8_t *raw,
                               size_t len, const uint8_t **out);

/* Sets the budget to mib MiB (evicting down to it).  Returns the one
 * before. */
size_t js_bcache_set_budget(size_t mib);

/* Unpins an entry; NULL is fine. */
void js_bcache_release(js_bcache_entry *e);

/* Drops every entry of owner (its store is closing); entries still
 * pinned are freed by their last release. */
void js_bcache_drop(uint64_t owner);

#endif /* JS_BLOCKCACHE_H */
