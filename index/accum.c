/*
 * accum.c — the in-memory postings accumulator, its sorted runs on disk,
 * and the k-way merge that turns memory and runs into one sorted stream of
 * terms with their postings.
 *
 * In:  js_accum_add(term, section, position), one call per occurrence, in
 *      non-decreasing section order (the text pipeline's order).
 * Out: js_accum_merge calls back once per term, in memcmp order, with the
 *      term's section ids, frequencies and positions decoded into arrays;
 *      in between, run files "run-NNNNNN" in run_dir, private to this file
 *      and deleted by the merge (or by js_accum_free).
 *
 * ---------------------------------------------------------------------
 * Postings stream — one per term, the same bytes in memory and in runs
 * ---------------------------------------------------------------------
 * All values are LEB128 varints (index/buf.h).  A stream is:
 *
 *     section position                 first entry: both absolute
 *     then, repeated, either
 *       d                (d >= 1)      next position of the current entry:
 *                                      previous position + d
 *       0 s p            (s >= 1)      a new entry for section
 *                                      previous section + s, at absolute
 *                                      position p
 *
 * A term's frequency in a section is not known until the section ends, so
 * the stream does not store it: every occurrence is one token appended
 * at once, and the merge counts them.  Position deltas within a section are
 * >= 1 (positions strictly increase), which frees the value 0 to mark a
 * new section.  Rare terms (most of them) cost "section position"; a
 * frequent term costs about one byte per occurrence.
 *
 * ---------------------------------------------------------------------
 * Memory, and the add path
 * ---------------------------------------------------------------------
 * A hash table (open addressing, linear probing, grown past load 0.7: see
 * below) of 32-byte slots holds each term's hot state: its first 8
 * bytes as an integer (zero-padded: the whole of any unigram or bigram),
 * its length, last section and position, and the write cursor and end of
 * the current slice of its stream.  Applying an occurrence thus touches
 * one slot, compares one integer, and stores a byte or a few where the
 * cursor points.
 *
 * Streams live in an arena of equal blocks (8 KiB .. 2 MiB, by budget)
 * addressed by 32-bit references (block << shift | offset; 0 is never
 * handed out), in chains of slices of 16, 32, ... 1024 bytes (then 1024
 * again); the last 4 bytes of a full slice hold the reference of the next.
 * A term's first allocation is its first slice, preceded for a term longer
 * than 8 bytes by its bytes; the slot's `ref` points at it.  Rare terms
 * (most of them) cost a slot and 16 bytes; frequent ones rarely leave
 * their slice.
 *
 * On a large table the slot of all but the most frequent terms is a cache
 * miss, and that miss was most of the cost of an add.  So js_accum_add
 * validates the call, hashes the term, prefetches its slot, and queues the
 * occurrence; the occurrence queued QUEUE (16) calls earlier is applied
 * in the same call, its slot by then in cache, and the write position of
 * the next one is prefetched.  The merge applies what is left first.
 * Large tables and arena blocks also ask for transparent huge pages (fewer
 * TLB misses).  Measured on the figures of tests/check_accum.c (generated
 * Chinese-like text, unigram and bigram per character, 2.9 M distinct
 * terms in 50 MB; medians of interleaved runs on a noisy 2-core VM, so
 * only the ratios mean much): state behind an 8-byte slot in the arena
 * (two dependent misses) 140 ns per add; 32-byte slots 110; huge pages
 * 100; the queue 57 to 65; the second prefetch stage some 15% less.
 *
 * Budget: the table plus the arena bytes handed out (the memory that a
 * spill frees) must stay under `limit`: the budget less the buffers the
 * merge will need (fan-in + 1 run blocks) when that reserve is under 1/8 of
 * the budget.  Past the limit, applying an occurrence spills after it.
 * The table grows past load 0.7: doubling if the limit allows the new
 * table beside the old one, else to the size it allows (multiply-shift
 * home slots permit any size); when even 1.25 times does not fit it fills
 * up to load 0.85, then spills before the new term goes in.  (Doubling
 * only, batches ended near half the budget.)  Arena blocks are kept across
 * spills and reused (no page faults, no malloc churn);
 * js_accum_peak_bytes counts everything allocated: the accumulator with
 * its queue, arena blocks, table, merge buffers and arrays.  References
 * are 32 bits, so one batch holds at most 4 GiB whatever the budget.
 *
 * A spill sorts the table in place: the used slots are moved to the
 * front with their keys turned big-endian, and sorted by integer compare,
 * falling back to the arena only for ties between terms longer than 8
 * bytes.
 *
 * ---------------------------------------------------------------------
 * Run file, version 1 (little-endian)
 * ---------------------------------------------------------------------
 *     header (20 bytes): magic 4A 53 52 4E 0D 0A 1A 0A ("JSRN" CR LF ^Z
 *                        LF), u32 version 1, u32 B (largest block
 *                        payload, 4096 .. 16 MiB), u32 crc32 of bytes 0..15
 *     blocks:            u32 payload length (1 .. B), u32 crc32 of the
 *                        payload, payload
 *
 * The concatenated payloads form one byte stream of records, cut into
 * blocks without regard to record boundaries (a frequent term's record can
 * be far larger than a block):
 *
 *     term record:  varint term length (1 .. JS_TERM_MAX_BYTES+1), term
 *                   bytes, varint stream length in bytes, varint last
 *                   section of the stream, varint last position, stream
 *     end record:   varint 0, varint number of term records
 *
 * Terms strictly increase in memcmp order.  The end record is followed by
 * the end of its block and of the file.  A reader checks the header, every
 * block's crc32 as it loads the block, the term order, the count, and that
 * each stream decodes to exactly its length and its recorded last section
 * and position; any failure is JS_ECORRUPT.  Each run holds the
 * occurrences of one batch, so the runs, in the order they were written
 * (then memory), hold increasing sections.
 *
 * ---------------------------------------------------------------------
 * Merge
 * ---------------------------------------------------------------------
 * A k-way merge on a binary heap keyed by (current term, source order);
 * each run is read one block at a time (B bytes of buffer per run).  A
 * term's streams are taken in source order; where one ends in the section
 * that the next begins with (a section split by a spill), the two entries
 * become one: frequencies add, positions concatenate.  The output is thus
 * the same whatever the spill points.  More runs than the fan-in (8 .. 128,
 * by budget) are first merged in groups of consecutive runs into longer
 * runs, as often as needed; streams are then spliced without decoding
 * (only the first token of each is rewritten relative to the previous
 * stream's recorded end), which is why records carry the last section and
 * position.
 *
 * The merge decodes each term into reused uint32 arrays for the callback,
 * 4 * (2 df + cf) bytes for the largest term; js_accum_merge_chunks
 * bounds that by handing a large term over in pieces of whole entries
 * (the builder passes 1/32 of its budget).
 *
 * Errors.  js_accum_add refuses at once, changing nothing, a bad
 * argument or a section lower than the last one (JS_EINVALID).  A
 * position that is not after the same term's previous one in the section
 * is seen only when the occurrence is applied: by a later js_accum_add
 * (at most QUEUE calls later), or by js_accum_merge, or, when a spill
 * came in between, by the merge of the runs.  As the call that returns it
 * is not the one at fault, that JS_EINVALID is sticky.  So are JS_ENOMEM,
 * JS_EIO (errno as the failing system call left it; also reported by the
 * add that applied the occurrence whose spill failed) and JS_ECORRUPT:
 * every later call returns the same code, and only js_accum_free remains
 * useful.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "accum.h"
#include "buf.h"
#include "codec.h" /* js_crc32 */
#include "file.h" /* js_test_write_check */
#include "jiansuo.h"

#define TERM_MAX (JS_TERM_MAX_BYTES + 1) /* a heading term has a prefix */
#define TOKEN_MAX 11                     /* 0, then two 5-byte varints */
#define SLICE_FIRST 16u
#define SLICE_TOP 6u /* highest level: 16 << 6 = 1024 bytes */
#define TABLE_FIRST 64u
#define HUGE_PAGE ((size_t)2 << 20)
#define QUEUE 16u /* occurrences between js_accum_add and their apply */
#define RUN_VERSION 1u
#define RUN_HEADER 20
#define RUN_BLOCK_MIN 4096u
#define RUN_BLOCK_MAX (256u << 10)
#define RUN_BLOCK_READ_MAX (16u << 20)
#define FANIN_MIN 8u
#define FANIN_MAX 128u

#if defined(__GNUC__)
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define LIKELY(x) (x)
#define UNLIKELY(x) (x)
#endif

static const uint8_t run_magic[8] = {0x4A, 0x53, 0x52, 0x4E,
                                     0x0D, 0x0A, 0x1A, 0x0A};

/* A term in the table.  Empty slots have len 0. */
typedef struct slot {
    uint64_t key;                /* first 8 bytes as a little-endian number,
                                    zero-padded (big-endian once sorted) */
    uint32_t ref;                /* arena: [bytes if len > 8][first slice] */
    uint32_t cur;                /* where the next stream byte goes */
    uint32_t end;                /* end of the current slice's data */
    uint32_t last_sec, last_pos; /* the latest occurrence */
    uint16_t len;
    uint8_t level; /* of the current slice */
    uint8_t pad;
} slot;

_Static_assert(sizeof(slot) == 32, "two slots to a cache line");
_Static_assert((QUEUE & (QUEUE - 1)) == 0, "QUEUE is a power of two");

/* One input of a merge: a run file being read, or the sorted table. */
typedef struct src {
    uint32_t order; /* ties between equal terms go to the lower order */
    int is_mem;
    int done; /* no current term */

    /* current term; tkey: its first 8 bytes big-endian, zero-padded, so
     * that the heap compares integers */
    const uint8_t *term;
    uint32_t tlen;
    uint64_t tkey;
    uint32_t last_sec, last_pos;
    uint64_t slen; /* stream bytes */

    /* the current stream: [p, e) is readable now, `left` bytes follow */
    const uint8_t *p, *e;
    uint64_t left;

    /* run file */
    int fd;
    uint32_t id;
    uint8_t *buf;     /* one block's payload */
    size_t bufcap;
    const uint8_t *be; /* end of the block in buf */
    uint64_t nterms;
    uint8_t tb[2][TERM_MAX]; /* current and previous term */
    int tcur;

    /* sorted table */
    const slot *ms;
    size_t nents, ient;
    uint32_t mcur, mend; /* the term's last slice: write cursor, end */
    uint32_t mnext;      /* next slice to read, 0: none */
    unsigned mlevel;
} src;

struct js_accum {
    size_t budget, limit;
    size_t base_limit; /* limit before js_accum_set_external */
    char *path; /* run_dir + "/run-NNNNNN" buffer */
    size_t dirlen, pathcap;
    size_t run_block; /* payload bytes per run block written */
    uint32_t fanin;

    /* arena */
    uint8_t **blk;
    uint32_t nblk, blk_cap; /* blocks allocated, slots in blk[] */
    uint32_t blk_cur, blk_off, blk_max;
    uint32_t blk_size;
    unsigned shift;
    size_t arena_used; /* bytes handed out since the last reset */

    /* hash table */
    slot *slots;
    uint32_t cap; /* slots; any size (home slots by multiply-shift) */
    size_t nterms;

    uint32_t last_section;

    /* runs, oldest first */
    uint32_t *runs;
    size_t nruns, runs_cap;
    uint32_t next_id, spills;

    /* merge output */
    uint32_t *ids, *tfs, *pos;
    size_t ids_cap, tfs_cap, pos_cap;

    size_t alloc, peak;
    int err;
    int merged;

    /* occurrences added but not yet applied, oldest at qhead */
    struct pend {
        uint64_t key, h;
        uint32_t sec, pos, len;
    } q[QUEUE];
    uint8_t qb[QUEUE][TERM_MAX]; /* bytes of a pending term over 8 bytes */
    unsigned qhead, qn;
};

/* ---------------------------------------------------------------------
 * Accounting allocators: every byte the accumulator holds goes through
 * them, so js_accum_peak_bytes is honest.
 * ------------------------------------------------------------------- */

static void count_alloc(js_accum *a, size_t n)
{
    a->alloc += n;
    if (a->alloc > a->peak)
        a->peak = a->alloc;
}

/* Returns n bytes (caller frees with acc_free and the same n), or NULL. */
static void *acc_malloc(js_accum *a, size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p)
        count_alloc(a, n);
    return p;
}

/* A zeroed hash table of n bytes (free with acc_free).  Large tables
 * (and arena blocks) ask for transparent huge pages: adds touch them at
 * random, and with 4 KiB pages most adds of a rare term would also miss
 * the TLB (measured: 113 -> 100 ns per add). */
static void *table_alloc(js_accum *a, size_t n)
{
    void *p = NULL;
    /* cache-line aligned at least, so that no slot straddles two lines */
    if (posix_memalign(&p, n >= HUGE_PAGE ? HUGE_PAGE : 64, n))
        return NULL;
#if defined(MADV_HUGEPAGE)
    if (n >= HUGE_PAGE)
        madvise(p, n, MADV_HUGEPAGE); /* advice only: failure is fine */
#endif
    memset(p, 0, n);
    count_alloc(a, n);
    return p;
}

/* Resizes p from old to n bytes.  Returns the new pointer, or NULL with
 * p untouched. */
static void *acc_realloc(js_accum *a, void *p, size_t old, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q) {
        a->alloc -= old;
        count_alloc(a, n);
    }
    return q;
}

static void acc_free(js_accum *a, void *p, size_t n)
{
    if (p) {
        free(p);
        a->alloc -= n;
    }
}

/* Records a sticky failure and returns it (JS_EINVALID is sticky only
 * when a caller passes it here: a position found out of order after the
 * call that added it). */
static int fail(js_accum *a, int rc)
{
    if (rc < 0)
        a->err = rc;
    return rc;
}

/* ---------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------- */

static inline uint32_t load32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Little-endian loads, whatever the host: keys must not depend on it. */
static inline uint32_t le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static inline uint64_t le64(const uint8_t *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t get_le32(const uint8_t *p)
{
    js_rd r = js_rd_make(p, 4);
    return js_rd_u32(&r);
}

/* The slot key of a term: its first 8 bytes as a little-endian number,
 * zero-padded; built with two loads at most. */
static inline uint64_t term_key(const uint8_t *p, size_t n)
{
    if (n >= 8)
        return le64(p);
    if (n >= 4) { /* two overlapping loads; drop the overlap */
        uint64_t hi = le32(p + n - 4);
        return le32(p) | (hi >> (8 * (8 - n))) << 32;
    }
    uint64_t v = p[0] | (uint64_t)p[n >> 1] << 8 | (uint64_t)p[n - 1] << 16;
    return v & ((1ull << (8 * n)) - 1);
}

static inline uint64_t mix64(uint64_t h)
{
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return h;
}

/* Hash of a term whose key is `key`: the key alone for up to 8 bytes
 * (no second look at the bytes), the rest folded in 8 at a time after. */
static inline uint64_t term_hash(const uint8_t *p, size_t n, uint64_t key)
{
    uint64_t h = mix64(key ^ ((uint64_t)n * 0x9E3779B97F4A7C15ull));
    for (size_t off = 8; off < n; off += 8) {
        size_t at = off + 8 <= n ? off : n - 8; /* last chunk overlaps */
        h = mix64(h ^ le64(p + at));
    }
    return h;
}

/* ---------------------------------------------------------------------
 * Arena
 * ------------------------------------------------------------------- */

/* The address of arena reference ref. */
static inline uint8_t *ptr(const js_accum *a, uint32_t ref)
{
    return a->blk[ref >> a->shift] + (ref & (a->blk_size - 1));
}

/* Bytes of a slice of this level, the 4-byte next reference included. */
static inline uint32_t slice_size(unsigned level)
{
    return SLICE_FIRST << (level < SLICE_TOP ? level : SLICE_TOP);
}

static inline uint32_t pad4(uint32_t n) { return (n + 3) & ~3u; }

/* Forgets every allocation (after a spill); blocks stay for reuse. */
static void arena_reset(js_accum *a)
{
    a->blk_cur = 0;
    a->blk_off = 4; /* reference 0 means "empty slot" */
    a->arena_used = 4;
}

/* Makes block i exist (i <= nblk).  Returns 0 or JS_ENOMEM. */
static int arena_block(js_accum *a, uint32_t i)
{
    if (i < a->nblk)
        return 0;
    if (a->nblk == a->blk_cap) {
        uint32_t cap = a->blk_cap ? a->blk_cap * 2 : 16;
        uint8_t **b = acc_realloc(a, a->blk, a->blk_cap * sizeof *b,
                                  cap * sizeof *b);
        if (!b)
            return JS_ENOMEM;
        a->blk = b;
        a->blk_cap = cap;
    }
#if defined(MADV_HUGEPAGE)
    if (a->blk_size >= HUGE_PAGE) { /* see table_alloc */
        void *p = NULL;
        if (posix_memalign(&p, HUGE_PAGE, a->blk_size))
            return JS_ENOMEM;
        madvise(p, a->blk_size, MADV_HUGEPAGE);
        count_alloc(a, a->blk_size);
        a->blk[i] = p;
    } else
#endif
        a->blk[i] = acc_malloc(a, a->blk_size);
    if (!a->blk[i])
        return JS_ENOMEM;
    a->nblk++;
    return 0;
}

/* Hands out n bytes (4-aligned, n <= blk_size) in *ref.  Returns 0 or
 * JS_ENOMEM (out of memory or of 32-bit references). */
static int arena_alloc(js_accum *a, uint32_t n, uint32_t *ref)
{
    if (UNLIKELY(a->blk_off + n > a->blk_size)) {
        uint32_t next = a->blk_cur + 1;
        if (next >= a->blk_max)
            return JS_ENOMEM;
        a->arena_used += a->blk_size - a->blk_off; /* tail left unused */
        a->blk_cur = next;
        a->blk_off = 0;
    }
    if (UNLIKELY(a->blk_cur >= a->nblk) && arena_block(a, a->blk_cur))
        return JS_ENOMEM;
    *ref = (a->blk_cur << a->shift) | a->blk_off;
    a->blk_off += n;
    a->arena_used += n;
    return 0;
}

/* Frees the blocks beyond the current one (kept for reuse until now). */
static void arena_trim(js_accum *a)
{
    uint32_t keep = a->nblk ? a->blk_cur + 1 : 0;
    for (uint32_t i = keep; i < a->nblk; i++)
        acc_free(a, a->blk[i], a->blk_size);
    a->nblk = keep;
}

/* Frees every arena block. */
static void arena_free(js_accum *a)
{
    for (uint32_t i = 0; i < a->nblk; i++)
        acc_free(a, a->blk[i], a->blk_size);
    acc_free(a, a->blk, a->blk_cap * sizeof *a->blk);
    a->blk = NULL;
    a->nblk = a->blk_cap = 0;
}

/* Arena bytes before a term's first slice: its bytes if over 8. */
static inline uint32_t key_room(uint32_t len)
{
    return len > 8 ? pad4(len) : 0;
}

static inline size_t table_bytes(const js_accum *a)
{
    return (size_t)a->cap * sizeof(slot);
}

/* The home slot of hash h in a table of cap slots: the high 32 bits of h
 * scaled to [0, cap) (multiply-shift), so that the table can have any
 * size and grow to what the budget allows rather than only double. */
static inline uint32_t home(uint64_t h, uint32_t cap)
{
    return (uint32_t)(((h >> 32) * cap) >> 32);
}

/* The memory a spill would free, measured against the limit. */
static inline size_t used_bytes(const js_accum *a)
{
    return a->arena_used + table_bytes(a);
}

/* ---------------------------------------------------------------------
 * Construction
 * ------------------------------------------------------------------- */

static size_t pow2_floor(size_t n)
{
    size_t p = 1;
    while (p <= n / 2)
        p *= 2;
    return p;
}

static size_t clampz(size_t v, size_t lo, size_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* See accum.h.  The run directory is not checked here: a bad one shows
 * as JS_EIO at the first spill. */
int js_accum_new(js_accum **out, size_t budget_bytes, const char *run_dir)
{
    if (!out || !run_dir || !*run_dir || budget_bytes == 0)
        return JS_EINVALID;
    js_accum *a = calloc(1, sizeof *a);
    if (!a)
        return JS_ENOMEM;
    count_alloc(a, sizeof *a);
    a->budget = budget_bytes;

    a->dirlen = strlen(run_dir);
    a->pathcap = a->dirlen + 32;
    a->path = acc_malloc(a, a->pathcap);
    if (!a->path)
        goto nomem;
    memcpy(a->path, run_dir, a->dirlen + 1);

    /* Sizes grow with the budget so that a tiny budget (tests) still
     * works and a large one keeps its buffers under ~1/8 of it. */
    a->blk_size = (uint32_t)clampz(pow2_floor(budget_bytes / 16), 8u << 10,
                                   HUGE_PAGE);
    a->shift = 0;
    while ((1u << a->shift) < a->blk_size)
        a->shift++;
    a->blk_max = (uint32_t)(((uint64_t)1 << 32) >> a->shift);
    a->run_block = clampz(pow2_floor(budget_bytes / 1024), RUN_BLOCK_MIN,
                          RUN_BLOCK_MAX);
    /* fan-in + 1 blocks (readers and a writer) within 1/8 of the budget */
    size_t fit = budget_bytes / 8 / (a->run_block + 8);
    a->fanin = (uint32_t)clampz(fit ? fit - 1 : 0, FANIN_MIN, FANIN_MAX);
    size_t reserve = (a->fanin + 1) * (a->run_block + 8);
    a->limit = budget_bytes / 8 >= reserve ? budget_bytes - reserve
                                           : budget_bytes;
    /* 32-bit references: keep one batch's arena clear of 4 GiB, with room
     * for the overshoot of one add. */
    uint64_t ref_cap = ((uint64_t)1 << 32) - 4 * (uint64_t)a->blk_size;
    if ((uint64_t)a->limit > ref_cap)
        a->limit = (size_t)ref_cap;
    a->base_limit = a->limit;

    a->slots = table_alloc(a, TABLE_FIRST * sizeof(slot));
    if (!a->slots)
        goto nomem;
    a->cap = TABLE_FIRST;
    arena_reset(a);
    *out = a;
    return 0;
nomem:
    acc_free(a, a->path, a->pathcap);
    free(a);
    return JS_ENOMEM;
}

/* ---------------------------------------------------------------------
 * Run files
 * ------------------------------------------------------------------- */

/* Writes run id's path into a->path and returns it (owned by a). */
static const char *run_path(js_accum *a, uint32_t id)
{
    snprintf(a->path + a->dirlen, a->pathcap - a->dirlen, "/run-%06u",
             (unsigned)id);
    return a->path;
}

/* Deletes run id's file, keeping errno (cleanup must not hide the error
 * that caused it). */
static void run_unlink(js_accum *a, uint32_t id)
{
    int e = errno;
    unlink(run_path(a, id));
    errno = e;
}

/* Returns n, fewer at end of file, or -1 (errno set). */
static ssize_t read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Returns 0 or JS_EIO (errno set; a short write says ENOSPC). */
static int write_full(int fd, const void *buf, size_t n)
{
    size_t done = 0;
    if (js_test_write_check(n))
        return JS_EIO;
    while (done < n) {
        ssize_t r = write(fd, (const char *)buf + done, n - done);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return JS_EIO;
        }
        if (r == 0) {
            errno = ENOSPC;
            return JS_EIO;
        }
        done += (size_t)r;
    }
    return 0;
}

/* A run being written: buf holds the 8-byte block header, then up to
 * cap payload bytes. */
typedef struct rwr {
    int fd;
    uint32_t id;
    uint8_t *buf;
    size_t cap, len;
    uint64_t nterms;
} rwr;

/* Writes the buffered block (header, payload) if any.  Returns 0 or
 * JS_EIO. */
static int w_flush(rwr *w)
{
    if (!w->len)
        return 0;
    put_le32(w->buf, (uint32_t)w->len);
    put_le32(w->buf + 4, js_crc32(w->buf + 8, w->len));
    int rc = write_full(w->fd, w->buf, 8 + w->len);
    w->len = 0;
    return rc;
}

/* Appends n bytes to the run, flushing full blocks.  Returns 0 or
 * JS_EIO. */
static int w_put(rwr *w, const void *s, size_t n)
{
    const uint8_t *b = s;
    while (n) {
        if (w->len == w->cap) {
            int rc = w_flush(w);
            if (rc)
                return rc;
        }
        size_t k = w->cap - w->len;
        if (k > n)
            k = n;
        memcpy(w->buf + 8 + w->len, b, k);
        w->len += k;
        b += k;
        n -= k;
    }
    return 0;
}

/* Appends a varint.  Returns 0 or JS_EIO. */
static int w_varint(rwr *w, uint64_t v)
{
    uint8_t x[10];
    return w_put(w, x, js_put_varint(x, v));
}

/* Creates a new run file and writes its header.  Returns 0 with w ready
 * (caller ends it with w_close), JS_ENOMEM or JS_EIO (errno kept). */
static int w_open(js_accum *a, rwr *w)
{
    memset(w, 0, sizeof *w);
    w->fd = -1;
    w->cap = a->run_block;
    w->buf = acc_malloc(a, w->cap + 8);
    if (!w->buf)
        return JS_ENOMEM;
    /* O_EXCL: never overwrite a file of another accumulator sharing the
     * directory; take the next number instead. */
    for (int tries = 0; tries < 1000; tries++) {
        w->id = ++a->next_id;
        w->fd = open(run_path(a, w->id),
                     O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (w->fd >= 0 || errno != EEXIST)
            break;
    }
    if (w->fd < 0) {
        int e = errno;
        acc_free(a, w->buf, w->cap + 8);
        w->buf = NULL;
        errno = e;
        return JS_EIO;
    }
    uint8_t h[RUN_HEADER];
    memcpy(h, run_magic, 8);
    put_le32(h + 8, RUN_VERSION);
    put_le32(h + 12, (uint32_t)w->cap);
    put_le32(h + 16, js_crc32(h, 16));
    return write_full(w->fd, h, sizeof h);
}

/* Finishes (ok: end record, flush, close) or abandons (!ok: close and
 * delete) a run.  Returns 0 or JS_EIO; on failure the file is deleted. */
static int w_close(js_accum *a, rwr *w, int ok)
{
    int rc = 0;
    if (ok && w->fd >= 0) {
        rc = w_varint(w, 0);
        if (!rc)
            rc = w_varint(w, w->nterms);
        if (!rc)
            rc = w_flush(w);
    }
    if (w->fd >= 0) {
        int e = errno;
        if (close(w->fd) && ok && !rc)
            rc = JS_EIO;
        else
            errno = e;
        if (!ok || rc)
            run_unlink(a, w->id);
    }
    w->fd = -1;
    acc_free(a, w->buf, w->cap + 8);
    w->buf = NULL;
    return rc;
}

/* Loads run s's next block.  Returns 1 (loaded), 0 (clean end of file),
 * JS_ECORRUPT or JS_EIO. */
static int rr_block(src *s)
{
    uint8_t h[8];
    ssize_t got = read_full(s->fd, h, 8);
    if (got < 0)
        return JS_EIO;
    if (got == 0)
        return 0;
    if (got < 8)
        return JS_ECORRUPT;
    uint32_t len = get_le32(h), crc = get_le32(h + 4);
    if (len == 0 || len > s->bufcap)
        return JS_ECORRUPT;
    got = read_full(s->fd, s->buf, len);
    if (got < 0)
        return JS_EIO;
    if ((size_t)got != len)
        return JS_ECORRUPT;
    if (js_crc32(s->buf, len) != crc)
        return JS_ECORRUPT;
    s->p = s->buf;
    s->be = s->buf + len;
    return 1;
}

/* Makes at least one byte of run s readable; end of file is damage here. */
static int rr_need(src *s)
{
    if (s->p < s->be)
        return 0;
    int rc = rr_block(s);
    return rc == 1 ? 0 : rc == 0 ? JS_ECORRUPT : rc;
}

/* Reads a varint from run s, across blocks.  Returns 0, JS_ECORRUPT or
 * JS_EIO. */
static int rr_varint(src *s, uint64_t *v)
{
    uint8_t tmp[10];
    const uint8_t *q;
    size_t k;
    if (s->be - s->p >= 10) {
        q = s->p;
        k = (size_t)(s->be - s->p);
    } else {
        for (k = 0;;) {
            if (k == sizeof tmp)
                return JS_ECORRUPT;
            int rc = rr_need(s);
            if (rc)
                return rc;
            tmp[k] = *s->p++;
            if (!(tmp[k++] & 0x80))
                break;
        }
        q = tmp;
    }
    js_rd r = js_rd_make(q, k);
    *v = js_rd_varint(&r);
    if (r.bad)
        return JS_ECORRUPT;
    if (q != tmp)
        s->p = r.p;
    return 0;
}

/* Like rr_varint for a value that must fit 32 bits. */
static int rr_varint32(src *s, uint32_t *v)
{
    uint64_t x;
    int rc = rr_varint(s, &x);
    if (!rc && x > UINT32_MAX)
        rc = JS_ECORRUPT;
    *v = (uint32_t)x;
    return rc;
}

/* Copies the next n bytes of run s to dst.  Returns 0, JS_ECORRUPT or
 * JS_EIO. */
static int rr_read(src *s, uint8_t *dst, size_t n)
{
    while (n) {
        int rc = rr_need(s);
        if (rc)
            return rc;
        size_t k = (size_t)(s->be - s->p);
        if (k > n)
            k = n;
        memcpy(dst, s->p, k);
        s->p += k;
        dst += k;
        n -= k;
    }
    return 0;
}

/* Opens run id as a merge source.  Returns 0 (s ready for src_next),
 * JS_ENOMEM, JS_EIO or JS_ECORRUPT; src_close releases s either way. */
static int rr_open(js_accum *a, src *s, uint32_t id, uint32_t order)
{
    memset(s, 0, sizeof *s);
    s->order = order;
    s->id = id;
    s->fd = open(run_path(a, id), O_RDONLY | O_CLOEXEC);
    if (s->fd < 0)
        return JS_EIO;
    uint8_t h[RUN_HEADER];
    ssize_t got = read_full(s->fd, h, sizeof h);
    if (got < 0)
        return JS_EIO;
    if (got != RUN_HEADER || memcmp(h, run_magic, 8) ||
        get_le32(h + 8) != RUN_VERSION ||
        get_le32(h + 16) != js_crc32(h, 16))
        return JS_ECORRUPT;
    uint32_t cap = get_le32(h + 12);
    if (cap < RUN_BLOCK_MIN || cap > RUN_BLOCK_READ_MAX)
        return JS_ECORRUPT;
    s->buf = acc_malloc(a, cap);
    if (!s->buf)
        return JS_ENOMEM;
    s->bufcap = cap;
    s->p = s->be = s->buf;
    return 0;
}

/* ---------------------------------------------------------------------
 * Merge sources: the current term's stream, read in spans
 * ------------------------------------------------------------------- */

/* Makes the next span of the current stream readable; called when
 * p == e and left > 0.  Returns 0, JS_ECORRUPT or JS_EIO. */
static int st_refill(const js_accum *a, src *s)
{
    if (s->is_mem) {
        if (!s->mnext)
            return JS_ECORRUPT; /* cannot happen: lengths were measured */
        uint32_t start = s->mnext;
        uint32_t data_end = start + slice_size(s->mlevel) - 4;
        uint32_t stop;
        if (data_end == s->mend) {
            stop = s->mcur;
            s->mnext = 0;
        } else {
            stop = data_end;
            s->mnext = load32(ptr(a, data_end));
            if (s->mlevel < SLICE_TOP)
                s->mlevel++;
        }
        s->p = ptr(a, start);
        s->e = s->p + (stop - start);
        s->left -= stop - start;
        return 0;
    }
    if (s->p == s->be) {
        int rc = rr_block(s);
        if (rc != 1)
            return rc ? rc : JS_ECORRUPT;
    }
    size_t avail = (size_t)(s->be - s->p);
    size_t take = s->left < avail ? (size_t)s->left : avail;
    s->e = s->p + take;
    s->left -= take;
    return 0;
}

/* Returns 1 if the current stream has more bytes, 0 at its end, or a
 * negative error. */
static inline int st_more(const js_accum *a, src *s)
{
    while (s->p == s->e) {
        if (!s->left)
            return 0;
        int rc = st_refill(a, s);
        if (rc)
            return rc;
    }
    return 1;
}

/* Reads one varint of at most 32 bits from the current stream. */
static inline int st_varint(const js_accum *a, src *s, uint32_t *v)
{
    if (LIKELY(s->e - s->p >= 10)) {
        js_rd r = js_rd_make(s->p, (size_t)(s->e - s->p));
        uint64_t x = js_rd_varint(&r);
        if (r.bad || x > UINT32_MAX)
            return JS_ECORRUPT;
        s->p = r.p;
        *v = (uint32_t)x;
        return 0;
    }
    uint8_t tmp[10];
    size_t k;
    for (k = 0;;) {
        if (k == sizeof tmp)
            return JS_ECORRUPT;
        int rc = st_more(a, s);
        if (rc <= 0)
            return rc ? rc : JS_ECORRUPT; /* the stream ends inside */
        tmp[k] = *s->p++;
        if (!(tmp[k++] & 0x80))
            break;
    }
    js_rd r = js_rd_make(tmp, k);
    uint64_t x = js_rd_varint(&r);
    if (r.bad || x > UINT32_MAX)
        return JS_ECORRUPT;
    *v = (uint32_t)x;
    return 0;
}

/* Bytes of the current stream read so far. */
static inline uint64_t st_consumed(const src *s)
{
    return s->slen - s->left - (uint64_t)(s->e - s->p);
}

/* How many terms ahead the merge of the table prefetches a stream. */
#define MERGE_AHEAD 16

/* Length in bytes of a stream whose first slice is at `first` and whose
 * last slice has write cursor cur and end `end`. */
static uint64_t mem_stream_len(const js_accum *a, uint32_t first, uint32_t cur,
                               uint32_t end)
{
    uint64_t n = 0;
    uint32_t s = first;
    for (unsigned lv = 0;; lv += lv < SLICE_TOP) {
        uint32_t data_end = s + slice_size(lv) - 4;
        if (data_end == end)
            return n + (cur - s);
        n += data_end - s;
        s = load32(ptr(a, data_end));
    }
}

/* memcmp order of two terms: < 0, 0 or > 0. */
static int term_cmp(const uint8_t *x, size_t xn, const uint8_t *y, size_t yn)
{
    int c = memcmp(x, y, xn < yn ? xn : yn);
    if (c)
        return c;
    return (xn > yn) - (xn < yn);
}

/* Moves s to its next term (the current stream must be consumed).
 * Returns 0 (s->done set at the end), JS_ECORRUPT or JS_EIO. */
static int src_next(const js_accum *a, src *s)
{
    if (s->done)
        return 0;
    if (s->is_mem) {
        if (s->ient == s->nents) {
            s->done = 1;
            return 0;
        }
        const slot *t = &s->ms[s->ient++];
        /* The terms come in sorted order but their streams lie in the
         * arena in order of first occurrence: each first slice is a
         * cache miss, which the decoding would wait for.  Start loading
         * the one MERGE_AHEAD terms on (measured on chinese-poetry, 6
         * interleaved builds: the merge phase 2.04 -> 1.67 s median). */
        if (s->ient + MERGE_AHEAD < s->nents)
            __builtin_prefetch(ptr(a, s->ms[s->ient + MERGE_AHEAD].ref), 0, 0);
        if (t->len > 8) {
            s->term = ptr(a, t->ref);
        } else { /* the bytes are the (big-endian) key */
            for (unsigned b = 0; b < t->len; b++)
                s->tb[0][b] = (uint8_t)(t->key >> (56 - 8 * b));
            s->term = s->tb[0];
        }
        s->tlen = t->len;
        s->tkey = t->key; /* already big-endian: table_sort */
        s->last_sec = t->last_sec;
        s->last_pos = t->last_pos;
        s->mcur = t->cur;
        s->mend = t->end;
        s->mnext = t->ref + key_room(t->len);
        s->mlevel = 0;
        s->slen = mem_stream_len(a, s->mnext, t->cur, t->end);
        s->left = s->slen;
        return st_refill(a, s); /* the first slice: never empty */
    }
    uint64_t tlen;
    int rc = rr_varint(s, &tlen);
    if (rc)
        return rc;
    if (tlen == 0) {
        uint64_t count;
        rc = rr_varint(s, &count);
        if (rc)
            return rc;
        if (count != s->nterms || s->p != s->be)
            return JS_ECORRUPT;
        rc = rr_block(s); /* must be the end of the file */
        if (rc)
            return rc == 1 ? JS_ECORRUPT : rc;
        s->done = 1;
        return 0;
    }
    if (tlen > TERM_MAX)
        return JS_ECORRUPT;
    uint8_t *tb = s->tb[s->tcur ^ 1];
    rc = rr_read(s, tb, (size_t)tlen);
    if (rc)
        return rc;
    if (s->nterms && term_cmp(s->term, s->tlen, tb, (size_t)tlen) >= 0)
        return JS_ECORRUPT;
    s->tcur ^= 1;
    s->term = tb;
    s->tlen = (uint32_t)tlen;
    s->tkey = 0;
    for (unsigned b = 0; b < 8 && b < tlen; b++)
        s->tkey |= (uint64_t)tb[b] << (56 - 8 * b);
    uint64_t slen;
    if ((rc = rr_varint(s, &slen)) || (rc = rr_varint32(s, &s->last_sec)) ||
        (rc = rr_varint32(s, &s->last_pos)))
        return rc;
    if (slen < 2) /* "section position" at least */
        return JS_ECORRUPT;
    s->nterms++;
    s->slen = slen;
    s->left = slen;
    s->e = s->p; /* the stream starts here; st_refill bounds it */
    return 0;
}

/* Closes a run source and frees its buffer (nothing for the table). */
static void src_close(js_accum *a, src *s)
{
    if (!s->is_mem) {
        if (s->fd >= 0) {
            int e = errno;
            close(s->fd);
            errno = e;
        }
        acc_free(a, s->buf, s->bufcap);
    }
    s->fd = -1;
    s->buf = NULL;
}

/* ---------------------------------------------------------------------
 * Heap of sources by (term, order)
 * ------------------------------------------------------------------- */

/* Heap order: by current term, then by source order (runs oldest first,
 * the table last), so that equal terms pop in the order to concatenate. */
static inline int src_less(const src *x, const src *y)
{
    if (x->tkey != y->tkey)
        return x->tkey < y->tkey;
    if (x->tlen > 8 && y->tlen > 8) { /* equal first 8 bytes */
        int c = term_cmp(x->term + 8, x->tlen - 8, y->term + 8, y->tlen - 8);
        if (c)
            return c < 0;
    } else if (x->tlen != y->tlen) { /* one is a prefix of the other */
        return x->tlen < y->tlen;
    }
    return x->order < y->order;
}

/* Whether x and y are at the same term. */
static inline int src_same(const src *x, const src *y)
{
    return x->tkey == y->tkey && x->tlen == y->tlen &&
           (x->tlen <= 8 || !memcmp(x->term + 8, y->term + 8, x->tlen - 8));
}

/* Adds s to the heap h of *n sources. */
static void heap_push(src **h, size_t *n, src *s)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!src_less(s, h[up]))
            break;
        h[i] = h[up];
        i = up;
    }
    h[i] = s;
}

/* Removes and returns the smallest source (*n > 0). */
static src *heap_pop(src **h, size_t *n)
{
    src *top = h[0], *last = h[--*n];
    size_t i = 0, m = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m)
            break;
        if (c + 1 < m && src_less(h[c + 1], h[c]))
            c++;
        if (!src_less(h[c], last))
            break;
        h[i] = h[c];
        i = c;
    }
    if (m)
        h[i] = last;
    return top;
}

/* Pops every source whose current term equals the smallest into g[], in
 * source order; returns how many. */
static size_t heap_pop_group(src **h, size_t *n, src **g)
{
    size_t m = 0;
    g[m++] = heap_pop(h, n);
    while (*n && src_same(h[0], g[0]))
        g[m++] = heap_pop(h, n);
    return m;
}

/* ---------------------------------------------------------------------
 * Sorting the table
 * ------------------------------------------------------------------- */

/* Order of sorted slots (keys big-endian): by key, then by the bytes
 * after the 8th, then by length (a prefix first; zero padding makes a
 * term and its extension by zero bytes share a key). */
static inline int slot_less(const js_accum *a, const slot *x, const slot *y)
{
    if (x->key != y->key)
        return x->key < y->key;
    uint32_t m = x->len < y->len ? x->len : y->len;
    if (m > 8) {
        int c = memcmp(ptr(a, x->ref) + 8, ptr(a, y->ref) + 8, m - 8);
        if (c)
            return c < 0;
    }
    return x->len < y->len;
}

static void slot_swap(slot *x, slot *y)
{
    slot t = *x;
    *x = *y;
    *y = t;
}

static void sift_down(const js_accum *a, slot *v, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && slot_less(a, &v[c], &v[c + 1]))
            c++;
        if (!slot_less(a, &v[i], &v[c]))
            return;
        slot_swap(&v[i], &v[c]);
        i = c;
    }
}

static void slot_heapsort(const js_accum *a, slot *v, size_t n)
{
    for (size_t k = n / 2; k-- > 0;)
        sift_down(a, v, k, n);
    for (size_t end = n; end-- > 1;) {
        slot_swap(&v[0], &v[end]);
        sift_down(a, v, 0, end);
    }
}

/* Introsort: quicksort (median of three), insertion sort for small
 * ranges, heapsort when recursion gets too deep. */
static void slot_sort(const js_accum *a, slot *v, size_t n, unsigned depth)
{
    while (n > 16) {
        if (depth-- == 0) {
            slot_heapsort(a, v, n);
            return;
        }
        size_t mid = n / 2;
        if (slot_less(a, &v[mid], &v[0]))
            slot_swap(&v[mid], &v[0]);
        if (slot_less(a, &v[n - 1], &v[0]))
            slot_swap(&v[n - 1], &v[0]);
        if (slot_less(a, &v[n - 1], &v[mid]))
            slot_swap(&v[n - 1], &v[mid]);
        slot pivot = v[mid];
        size_t i = 0, j = n - 1;
        for (;;) {
            while (slot_less(a, &v[i], &pivot))
                i++;
            while (slot_less(a, &pivot, &v[j]))
                j--;
            if (i >= j)
                break;
            slot_swap(&v[i], &v[j]);
            i++;
            j--;
        }
        /* [0, j] <= pivot <= [j+1, n); recurse on the smaller side */
        size_t left = j + 1;
        if (left < n - left) {
            slot_sort(a, v, left, depth);
            v += left;
            n -= left;
        } else {
            slot_sort(a, v + left, n - left, depth);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        slot x = v[i];
        size_t k = i;
        while (k > 0 && slot_less(a, &x, &v[k - 1])) {
            v[k] = v[k - 1];
            k--;
        }
        v[k] = x;
    }
}

/* Sorts the table's terms in place: its first nterms slots become the
 * terms in memcmp order, keys big-endian (the table is unusable until
 * cleared).  Returns the slots. */
static const slot *table_sort(js_accum *a)
{
    size_t cap = a->cap, n = 0;
    slot *v = a->slots;
    for (size_t i = 0; i < cap; i++) { /* n <= i: never ahead */
        if (!v[i].len)
            continue;
        slot t = v[i];
        t.key = __builtin_bswap64(t.key);
        v[n++] = t;
    }
    unsigned depth = 0;
    for (size_t m = n; m > 1; m >>= 1)
        depth += 2;
    slot_sort(a, v, n, depth);
    return v;
}

/* Empties the table, keeping its size. */
static void table_clear(js_accum *a)
{
    memset(a->slots, 0, table_bytes(a));
    a->nterms = 0;
}

/* ---------------------------------------------------------------------
 * Merging into a run: streams spliced, not decoded
 * ------------------------------------------------------------------- */

/* Merges the k sources (already at their first terms) into a new run
 * whose id goes to *id.  Returns 0, JS_ENOMEM, JS_EIO, JS_ECORRUPT, or
 * JS_EINVALID (positions out of order across a spill); on failure no
 * output file remains. */
static int merge_to_run(js_accum *a, src **srcs, size_t k, uint32_t *id)
{
    size_t hn = 0;
    src **heap = acc_malloc(a, 2 * k * sizeof *heap);
    uint8_t *toks = acc_malloc(a, k * TOKEN_MAX);
    unsigned *tokn = acc_malloc(a, k * sizeof *tokn);
    rwr w;
    int rc = JS_ENOMEM;
    memset(&w, 0, sizeof w);
    w.fd = -1;
    if (!heap || !toks || !tokn)
        goto out;
    src **g = heap + k;
    rc = w_open(a, &w);
    if (rc)
        goto out;
    for (size_t i = 0; i < k; i++)
        if (!srcs[i]->done)
            heap_push(heap, &hn, srcs[i]);
    while (hn) {
        size_t m = heap_pop_group(heap, &hn, g);
        uint64_t total = 0;
        for (size_t j = 0; j < m; j++) {
            src *s = g[j];
            uint32_t sec, p;
            if ((rc = st_varint(a, s, &sec)) || (rc = st_varint(a, s, &p)))
                goto out;
            uint8_t *t = toks + j * TOKEN_MAX;
            unsigned n = 0;
            if (j == 0) {
                n = js_put_varint(t, sec);
                n += js_put_varint(t + n, p);
            } else {
                const src *prev = g[j - 1];
                if (sec < prev->last_sec) {
                    rc = JS_ECORRUPT;
                    goto out;
                }
                if (sec == prev->last_sec) {
                    if (p <= prev->last_pos) {
                        rc = JS_EINVALID;
                        goto out;
                    }
                    n = js_put_varint(t, p - prev->last_pos);
                } else {
                    t[n++] = 0;
                    n += js_put_varint(t + n, sec - prev->last_sec);
                    n += js_put_varint(t + n, p);
                }
            }
            tokn[j] = n;
            total += s->slen - st_consumed(s) + n;
        }
        const src *last = g[m - 1];
        if ((rc = w_varint(&w, g[0]->tlen)) ||
            (rc = w_put(&w, g[0]->term, g[0]->tlen)) ||
            (rc = w_varint(&w, total)) ||
            (rc = w_varint(&w, last->last_sec)) ||
            (rc = w_varint(&w, last->last_pos)))
            goto out;
        for (size_t j = 0; j < m; j++) {
            src *s = g[j];
            if ((rc = w_put(&w, toks + j * TOKEN_MAX, tokn[j])))
                goto out;
            while ((rc = st_more(a, s)) == 1) {
                if ((rc = w_put(&w, s->p, (size_t)(s->e - s->p))))
                    goto out;
                s->p = s->e;
            }
            if (rc)
                goto out;
        }
        w.nterms++;
        for (size_t j = 0; j < m; j++) {
            if ((rc = src_next(a, g[j])))
                goto out;
            if (!g[j]->done)
                heap_push(heap, &hn, g[j]);
        }
    }
    rc = 0;
out:
    if (w.buf || w.fd >= 0) {
        int rc2 = w_close(a, &w, rc == 0);
        if (!rc)
            rc = rc2;
    }
    if (!rc)
        *id = w.id;
    acc_free(a, heap, 2 * k * sizeof *heap);
    acc_free(a, toks, k * TOKEN_MAX);
    acc_free(a, tokn, k * sizeof *tokn);
    return rc;
}

/* Makes room for one more run in the list. */
static int runs_reserve(js_accum *a)
{
    if (a->nruns < a->runs_cap)
        return 0;
    size_t cap = a->runs_cap ? a->runs_cap * 2 : 16;
    uint32_t *r = acc_realloc(a, a->runs, a->runs_cap * sizeof *r,
                              cap * sizeof *r);
    if (!r)
        return JS_ENOMEM;
    a->runs = r;
    a->runs_cap = cap;
    return 0;
}

/* Writes the table as a run and empties memory.  Returns 0 or a sticky
 * JS_ENOMEM / JS_EIO. */
static int spill(js_accum *a)
{
    if (!a->nterms)
        return 0;
    int rc = runs_reserve(a);
    if (rc)
        return fail(a, rc);
    src m;
    memset(&m, 0, sizeof m);
    m.is_mem = 1;
    m.fd = -1;
    m.ms = table_sort(a);
    m.nents = a->nterms;
    src *mp = &m;
    uint32_t id = 0;
    rc = src_next(a, &m);
    if (!rc)
        rc = merge_to_run(a, &mp, 1, &id);
    if (rc)
        return fail(a, rc == JS_EINVALID ? JS_ECORRUPT : rc);
    a->runs[a->nruns++] = id;
    a->spills++;
    if (table_bytes(a) > a->limit / 2 && a->cap > TABLE_FIRST) {
        /* the limit came down (js_accum_set_external) below what the
         * table grew to: a table that fills the limit alone would spill
         * at every add */
        size_t want = a->limit / 4 / sizeof(slot);
        uint32_t ncap = want > TABLE_FIRST ? (uint32_t)want : TABLE_FIRST;
        slot *ns = table_alloc(a, (size_t)ncap * sizeof *ns);
        if (!ns)
            return fail(a, JS_ENOMEM);
        acc_free(a, a->slots, table_bytes(a));
        a->slots = ns;
        a->cap = ncap;
        a->nterms = 0;
    } else {
        table_clear(a);
    }
    arena_reset(a);
    return 0;
}

/* ---------------------------------------------------------------------
 * Adding
 * ------------------------------------------------------------------- */

/* Hash of the term in slot t (its bytes from the arena if over 8). */
static inline uint64_t slot_hash(const js_accum *a, const slot *t)
{
    return term_hash(t->len > 8 ? ptr(a, t->ref) : NULL, t->len, t->key);
}

/* Rehashes the table into ncap slots (ncap > nterms).  Returns 0 or
 * JS_ENOMEM (the table unchanged). */
static int table_grow(js_accum *a, uint32_t ncap)
{
    slot *ns = table_alloc(a, (size_t)ncap * sizeof *ns);
    if (!ns)
        return JS_ENOMEM;
    for (uint32_t i = 0; i < a->cap; i++) {
        const slot *t = &a->slots[i];
        if (!t->len)
            continue;
        uint32_t j = home(slot_hash(a, t), ncap);
        while (ns[j].len)
            j = j + 1 == ncap ? 0 : j + 1;
        ns[j] = *t;
    }
    acc_free(a, a->slots, table_bytes(a));
    a->slots = ns;
    a->cap = ncap;
    return 0;
}

/* Appends n token bytes to t's stream across slices.  Returns 0 or
 * JS_ENOMEM. */
static int append_slow(js_accum *a, slot *t, const uint8_t *b, unsigned n)
{
    while (n) {
        if (t->cur == t->end) {
            unsigned lv = t->level < SLICE_TOP ? t->level + 1u : SLICE_TOP;
            uint32_t size = slice_size(lv), ref;
            int rc = arena_alloc(a, size, &ref);
            if (rc)
                return rc;
            memcpy(ptr(a, t->end), &ref, 4);
            t->cur = ref;
            t->end = ref + size - 4;
            t->level = (uint8_t)lv;
        }
        uint32_t k = t->end - t->cur;
        if (k > n)
            k = n;
        memcpy(ptr(a, t->cur), b, k);
        t->cur += k;
        b += k;
        n -= k;
    }
    return 0;
}

/* Inserts a new term at its first occurrence; i is the empty slot the
 * probe stopped at, h the term's hash.  Returns 0 or a sticky error. */
static int add_new(js_accum *a, const uint8_t *term, size_t len, uint64_t key,
                   uint64_t h, uint32_t i, uint32_t section,
                   uint32_t position)
{
    uint64_t cap = a->cap, want = a->nterms + 1;
    if (want * 10 > cap * 7) {
        /* Past load 0.7, grow: double if the budget allows the new table
         * beside the old one (both exist while rehashing), else to what it
         * allows if that is worth it (x1.25).  Else fill up to load 0.85
         * and spill: probing gets long beyond. */
        size_t used = used_bytes(a);
        uint64_t room = a->limit > used ? (a->limit - used) / sizeof(slot) : 0;
        uint64_t ncap = 2 * cap < room ? 2 * cap : room;
        if (ncap > UINT32_MAX)
            ncap = UINT32_MAX;
        if (ncap >= cap + cap / 4) {
            if (table_grow(a, (uint32_t)ncap))
                return fail(a, JS_ENOMEM);
        } else if (want * 20 > cap * 17) {
            int rc = spill(a);
            if (rc)
                return rc;
        }
        i = home(h, a->cap);
        while (a->slots[i].len)
            i = i + 1 == a->cap ? 0 : i + 1;
    }
    uint32_t room = key_room((uint32_t)len), ref;
    if (arena_alloc(a, room + SLICE_FIRST, &ref))
        return fail(a, JS_ENOMEM);
    uint8_t *p = ptr(a, ref);
    if (room)
        memcpy(p, term, len);
    p += room;
    unsigned n = js_put_varint(p, section);
    n += js_put_varint(p + n, position);
    slot *t = &a->slots[i];
    t->key = key;
    t->ref = ref;
    t->cur = ref + room + n;
    t->end = ref + room + SLICE_FIRST - 4;
    t->last_sec = section;
    t->last_pos = position;
    t->len = (uint16_t)len;
    t->level = 0;
    a->nterms++;
    return 0;
}

/* Applies one occurrence to the table: appends it to its term's stream
 * (k: the term's bytes, needed only over 8 bytes).  Returns 0 or a sticky
 * error: JS_ENOMEM, JS_EIO (a spill failed), JS_EINVALID (position not
 * after the term's previous one in the section). */
static int apply(js_accum *a, const uint8_t *k, size_t len, uint64_t key,
                 uint64_t h, uint32_t section, uint32_t position)
{
    uint32_t i = home(h, a->cap);
    slot *t;
    for (;;) {
        t = &a->slots[i];
        if (t->key == key && t->len == len &&
            (len <= 8 || !memcmp(ptr(a, t->ref) + 8, k + 8, len - 8)))
            break;
        if (!t->len) {
            int rc = add_new(a, k, len, key, h, i, section, position);
            if (rc)
                return rc;
            goto added;
        }
        i = i + 1 == a->cap ? 0 : i + 1;
    }

    uint8_t *p = ptr(a, t->cur);
    uint32_t room = t->end - t->cur;
    if (t->last_sec == section) {
        if (UNLIKELY(position <= t->last_pos))
            return fail(a, JS_EINVALID);
        uint32_t d = position - t->last_pos;
        if (LIKELY(d < 0x80 && room)) { /* the most common add of all */
            *p = (uint8_t)d;
            t->cur++;
        } else if (room >= 5) {
            t->cur += js_put_varint(p, d);
        } else {
            uint8_t tok[TOKEN_MAX];
            if (append_slow(a, t, tok, js_put_varint(tok, d)))
                return fail(a, JS_ENOMEM);
        }
    } else {
        uint8_t tok[TOKEN_MAX];
        uint8_t *q = room >= TOKEN_MAX ? p : tok;
        unsigned n = 1;
        q[0] = 0;
        n += js_put_varint(q + n, section - t->last_sec);
        n += js_put_varint(q + n, position);
        if (q == p)
            t->cur += n;
        else if (append_slow(a, t, tok, n))
            return fail(a, JS_ENOMEM);
    }
    t->last_sec = section;
    t->last_pos = position;
added:
    if (UNLIKELY(used_bytes(a) > a->limit))
        return spill(a);
    return 0;
}

/* Applies the oldest pending occurrence.  Returns what apply returns. */
static int apply_oldest(js_accum *a)
{
    unsigned x = a->qhead;
    const struct pend *e = &a->q[x];
    a->qhead = (x + 1) & (QUEUE - 1);
    a->qn--;
    return apply(a, a->qb[x], e->len, e->key, e->h, e->sec, e->pos);
}

/* The second stage of the prefetch: the next occurrence to apply had its
 * slot prefetched QUEUE calls ago; find the slot (a few probes, key and
 * length only: a wrong guess costs nothing) and prefetch the place its
 * token will be written, so that applying it next call stalls on
 * neither (measured: 107 -> 88 ns per add). */
static inline void peek_next(const js_accum *a)
{
#if defined(__GNUC__)
    const struct pend *e = &a->q[a->qhead];
    uint32_t j = home(e->h, a->cap);
    for (int k = 0; k < 4; k++) {
        const slot *t = &a->slots[j];
        if (t->key == e->key && t->len == e->len) {
            const uint8_t *w = ptr(a, t->cur);
            /* GCC treats a prefetch as removable, and with it the loads
             * that compute its address: the empty volatile asm keeps
             * them (without it, gcc 12 -O2 dropped this whole loop). */
            __asm__ volatile("" : "+r"(w));
            __builtin_prefetch(w, 1, 3);
            return;
        }
        if (!t->len)
            return;
        j = j + 1 == a->cap ? 0 : j + 1;
    }
#else
    (void)a;
#endif
}

/* Applies every pending occurrence, oldest first. */
static int drain(js_accum *a)
{
    while (a->qn) {
        int rc = apply_oldest(a);
        if (rc)
            return rc;
    }
    return 0;
}

/* See accum.h, and "Errors" above for when errors are reported. */
int js_accum_add(js_accum *a, const char *term, size_t len, uint32_t section,
                 uint32_t position)
{
    if (UNLIKELY(!a || !term || len == 0 || len > TERM_MAX))
        return JS_EINVALID;
    if (UNLIKELY(a->err))
        return a->err;
    if (UNLIKELY(a->merged || section < a->last_section))
        return JS_EINVALID;
    a->last_section = section;
    const uint8_t *k = (const uint8_t *)term;
    uint64_t key = term_key(k, len);
    uint64_t h = term_hash(k, len, key);
    /* Ask for this term's slot now, use it QUEUE calls later: the miss
     * overlaps with the work of the calls in between. */
#if defined(__GNUC__)
    __builtin_prefetch(&a->slots[home(h, a->cap)], 1, 3);
#endif
    int rc = 0;
    if (a->qn == QUEUE) {
        rc = apply_oldest(a);
        peek_next(a);
    }
    unsigned x = (a->qhead + a->qn++) & (QUEUE - 1);
    struct pend *e = &a->q[x];
    e->key = key;
    e->h = h;
    e->sec = section;
    e->pos = position;
    e->len = (uint32_t)len;
    if (len > 8)
        memcpy(a->qb[x], k, len);
    return rc;
}

/* ---------------------------------------------------------------------
 * Merging into the callback
 * ------------------------------------------------------------------- */

/* Makes *v hold at least need values (doubling).  Returns 0 or
 * JS_ENOMEM (*v unchanged). */
static int grow_u32(js_accum *a, uint32_t **v, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    uint32_t *n = acc_realloc(a, *v, *cap * sizeof **v, c * sizeof **v);
    if (!n)
        return JS_ENOMEM;
    *v = n;
    *cap = c;
    return 0;
}

/* Makes room for need entries in ids and tfs. */
static int grow_entries(js_accum *a, size_t need)
{
    int rc = grow_u32(a, &a->ids, &a->ids_cap, need);
    return rc ? rc : grow_u32(a, &a->tfs, &a->tfs_cap, need);
}

/* Where the decoded entries of the current term go: fn, in pieces of at
 * most about max_bytes of arrays. */
typedef struct out_fn {
    js_accum_chunk_fn fn;
    void *ctx;
    const src *term; /* the group's first source, for the term's bytes */
    size_t max_bytes;
} out_fn;

/* Before a new entry (a higher section) goes in: if the arrays hold
 * max_bytes or more, hands the n complete entries to fn as a piece that
 * is not the term's last and empties the arrays.  Returns 0 or fn's
 * value. */
static inline int maybe_flush(js_accum *a, const out_fn *o, size_t *n,
                              size_t *np)
{
    if (LIKELY((*n * 2 + *np) * sizeof(uint32_t) < o->max_bytes))
        return 0;
    int rc = o->fn(o->ctx, (const char *)o->term->term, o->term->tlen, a->ids,
                   a->tfs, a->pos, (uint32_t)*n, 0);
    *n = *np = 0;
    return rc;
}

/* Decodes the current stream of s onto the arrays (n entries, np
 * positions so far), joining a section split by a spill, and handing
 * full pieces to o.  Returns 0, fn's value, JS_ENOMEM, JS_ECORRUPT,
 * JS_EIO, or JS_EINVALID (a position that does not increase across a
 * spill). */
static int decode_stream(js_accum *a, src *s, size_t *pn, size_t *pnp,
                         const out_fn *o)
{
    size_t n = *pn, np = *pnp;
    uint32_t sec, p;
    int rc;
    if ((rc = st_varint(a, s, &sec)) || (rc = st_varint(a, s, &p)))
        return rc;
    /* n >= 1 between streams of a term: a flush leaves the new entry */
    if (n && sec <= a->ids[n - 1]) {
        if (sec < a->ids[n - 1])
            return JS_ECORRUPT;
        if (p <= a->pos[np - 1])
            return JS_EINVALID;
        if (a->tfs[n - 1] == UINT32_MAX)
            return JS_ECORRUPT;
        a->tfs[n - 1]++;
    } else {
        if (n && (rc = maybe_flush(a, o, &n, &np)))
            return rc;
        if (n == a->ids_cap && (rc = grow_entries(a, n + 1)))
            return rc;
        a->ids[n] = sec;
        a->tfs[n++] = 1;
    }
    if (np == a->pos_cap && (rc = grow_u32(a, &a->pos, &a->pos_cap, np + 1)))
        return rc;
    a->pos[np++] = p;
    for (;;) {
        /* Decode straight from the span while a whole token fits. */
        while (s->e - s->p >= TOKEN_MAX) {
            js_rd r = js_rd_make(s->p, (size_t)(s->e - s->p));
            uint64_t v = js_rd_varint(&r);
            if (v == 0) {
                uint64_t d = js_rd_varint(&r);
                uint64_t q = js_rd_varint(&r);
                if (r.bad || d == 0 || d > UINT32_MAX - sec || q > UINT32_MAX)
                    return JS_ECORRUPT;
                if ((rc = maybe_flush(a, o, &n, &np)))
                    return rc;
                if (n == a->ids_cap && (rc = grow_entries(a, n + 1)))
                    return rc;
                sec += (uint32_t)d;
                p = (uint32_t)q;
                a->ids[n] = sec;
                a->tfs[n++] = 1;
            } else {
                if (r.bad || v > UINT32_MAX - p)
                    return JS_ECORRUPT;
                p += (uint32_t)v;
                a->tfs[n - 1]++; /* cannot wrap: positions < 2^32 */
            }
            if (np == a->pos_cap &&
                (rc = grow_u32(a, &a->pos, &a->pos_cap, np + 1)))
                return rc;
            a->pos[np++] = p;
            s->p = r.p;
        }
        rc = st_more(a, s);
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
        /* Near a span's end: one token the slow way. */
        uint32_t v;
        if ((rc = st_varint(a, s, &v)))
            return rc;
        if (v == 0) {
            uint32_t d, q;
            if ((rc = st_varint(a, s, &d)) || (rc = st_varint(a, s, &q)))
                return rc;
            if (d == 0 || d > UINT32_MAX - sec)
                return JS_ECORRUPT;
            if ((rc = maybe_flush(a, o, &n, &np)))
                return rc;
            if (n == a->ids_cap && (rc = grow_entries(a, n + 1)))
                return rc;
            sec += d;
            p = q;
            a->ids[n] = sec;
            a->tfs[n++] = 1;
        } else {
            if (v > UINT32_MAX - p)
                return JS_ECORRUPT;
            p += v;
            a->tfs[n - 1]++;
        }
        if (np == a->pos_cap &&
            (rc = grow_u32(a, &a->pos, &a->pos_cap, np + 1)))
            return rc;
        a->pos[np++] = p;
    }
    if (sec != s->last_sec || p != s->last_pos)
        return JS_ECORRUPT;
    *pn = n;
    *pnp = np;
    return 0;
}

/* The final merge of the k sources into fn, in pieces of at most about
 * max_bytes.  Returns 0, fn's value, or an error. */
static int merge_to_fn(js_accum *a, src **srcs, size_t k, js_accum_chunk_fn fn,
                       void *ctx, size_t max_bytes)
{
    size_t hn = 0;
    src **heap = acc_malloc(a, 2 * k * sizeof *heap);
    if (!heap)
        return JS_ENOMEM;
    src **g = heap + k;
    int rc = 0;
    for (size_t i = 0; i < k; i++)
        if (!srcs[i]->done)
            heap_push(heap, &hn, srcs[i]);
    while (hn) {
        size_t m = heap_pop_group(heap, &hn, g);
        size_t n = 0, np = 0;
        out_fn o = {fn, ctx, g[0], max_bytes};
        for (size_t j = 0; j < m; j++)
            if ((rc = decode_stream(a, g[j], &n, &np, &o)))
                goto out;
        if (n > UINT32_MAX) {
            rc = JS_ECORRUPT;
            goto out;
        }
        rc = fn(ctx, (const char *)g[0]->term, g[0]->tlen, a->ids, a->tfs,
                a->pos, (uint32_t)n, 1);
        if (rc)
            goto out;
        for (size_t j = 0; j < m; j++) {
            if ((rc = src_next(a, g[j])))
                goto out;
            if (!g[j]->done)
                heap_push(heap, &hn, g[j]);
        }
    }
out:
    acc_free(a, heap, 2 * k * sizeof *heap);
    return rc;
}

/* Opens runs[first .. first+k) as sources s[0..k) at their first terms.
 * Returns 0 or an error; the caller closes all k sources either way. */
static int open_runs(js_accum *a, src *s, size_t first, size_t k)
{
    memset(s, 0, k * sizeof *s);
    for (size_t i = 0; i < k; i++)
        s[i].fd = -1;
    for (size_t i = 0; i < k; i++) {
        int rc = rr_open(a, &s[i], a->runs[first + i], (uint32_t)i);
        if (!rc)
            rc = src_next(a, &s[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* Merges runs in groups of consecutive ones until at most fan-in are
 * left.  Returns 0 or an error; a->runs always lists exactly the run
 * files that exist. */
static int reduce_runs(js_accum *a)
{
    size_t k = a->fanin;
    src *s = acc_malloc(a, k * sizeof *s);
    src **sp = acc_malloc(a, k * sizeof *sp);
    int rc = 0;
    if (!s || !sp) {
        rc = JS_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < k; i++)
        sp[i] = &s[i];
    while (a->nruns > k) {
        size_t out = 0, g = 0;
        while (g < a->nruns) {
            size_t cnt = a->nruns - g < k ? a->nruns - g : k;
            uint32_t id = a->runs[g];
            if (cnt > 1) {
                rc = open_runs(a, s, g, cnt);
                if (!rc)
                    rc = merge_to_run(a, sp, cnt, &id);
                for (size_t i = 0; i < cnt; i++)
                    src_close(a, &s[i]);
                if (rc) {
                    memmove(a->runs + out, a->runs + g,
                            (a->nruns - g) * sizeof *a->runs);
                    a->nruns = out + a->nruns - g;
                    goto out;
                }
                for (size_t i = 0; i < cnt; i++)
                    run_unlink(a, a->runs[g + i]);
            }
            a->runs[out++] = id;
            g += cnt;
        }
        a->nruns = out;
    }
out:
    acc_free(a, s, k * sizeof *s);
    acc_free(a, sp, k * sizeof *sp);
    return rc;
}

/* Deletes every run file still listed. */
static void delete_runs(js_accum *a)
{
    for (size_t i = 0; i < a->nruns; i++)
        run_unlink(a, a->runs[i]);
    a->nruns = 0;
}

/* See accum.h.  Applies the queued occurrences, reduces the runs to the
 * fan-in, merges them with the table into fn, and deletes every run file
 * whatever the outcome.  Besides the codes of accum.h, returns
 * JS_EINVALID for positions found out of order (see "Errors"). */
/* js_accum_merge's callback, called with whole terms only. */
typedef struct whole_fn {
    js_accum_term_fn fn;
    void *ctx;
} whole_fn;

static int call_whole(void *ctx, const char *term, size_t len,
                      const uint32_t *ids, const uint32_t *tfs,
                      const uint32_t *positions, uint32_t n, int last)
{
    const whole_fn *w = ctx;
    (void)last; /* always 1: pieces are never cut (max_bytes SIZE_MAX) */
    return w->fn(w->ctx, term, len, ids, tfs, positions, n);
}

int js_accum_merge(js_accum *a, js_accum_term_fn fn, void *ctx)
{
    if (!fn)
        return JS_EINVALID;
    whole_fn w = {fn, ctx};
    return js_accum_merge_chunks(a, call_whole, &w, SIZE_MAX);
}

int js_accum_merge_chunks(js_accum *a, js_accum_chunk_fn fn, void *ctx,
                          size_t max_bytes)
{
    if (!a || !fn)
        return JS_EINVALID;
    if (a->err)
        return a->err;
    if (a->merged)
        return JS_EINVALID;
    int rc = drain(a);
    if (rc)
        return rc;
    a->merged = 1;
    arena_trim(a);
    rc = reduce_runs(a);
    size_t k = a->nruns + (a->nterms ? 1 : 0);
    src *s = NULL;
    src **sp = NULL;
    if (!rc && k) {
        s = acc_malloc(a, k * sizeof *s);
        sp = acc_malloc(a, k * sizeof *sp);
        if (!s || !sp)
            rc = JS_ENOMEM;
    }
    if (s && sp) {
        for (size_t i = 0; i < k; i++)
            sp[i] = &s[i];
        rc = open_runs(a, s, 0, a->nruns);
        if (!rc && a->nterms) {
            src *m = &s[a->nruns];
            memset(m, 0, sizeof *m);
            m->is_mem = 1;
            m->fd = -1;
            m->order = (uint32_t)a->nruns;
            m->ms = table_sort(a);
            m->nents = a->nterms;
            rc = src_next(a, m);
        }
        if (!rc)
            rc = merge_to_fn(a, sp, k, fn, ctx, max_bytes);
        for (size_t i = 0; i < a->nruns; i++)
            src_close(a, &s[i]);
    }
    acc_free(a, s, k * sizeof *s);
    acc_free(a, sp, k * sizeof *sp);
    delete_runs(a);
    if (rc < 0)
        fail(a, rc);
    return rc;
}

/* See accum.h.  The limit keeps at least 1/8 of what it was, so that a
 * batch is never tiny (the caller's memory is then over the budget, and
 * the caller is told so by nothing here: it knows its own size). */
void js_accum_set_external(js_accum *a, size_t bytes)
{
    if (!a)
        return;
    size_t floor = a->base_limit / 8;
    a->limit = a->base_limit > bytes && a->base_limit - bytes > floor
                   ? a->base_limit - bytes
                   : floor;
}

uint32_t js_accum_runs(const js_accum *a) { return a ? a->spills : 0; }

size_t js_accum_peak_bytes(const js_accum *a) { return a ? a->peak : 0; }

/* See accum.h: deletes the remaining run files, frees everything. */
void js_accum_free(js_accum *a)
{
    if (!a)
        return;
    delete_runs(a);
    arena_free(a);
    free(a->slots);
    free(a->runs);
    free(a->ids);
    free(a->tfs);
    free(a->pos);
    free(a->path);
    free(a);
}
