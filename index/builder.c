/*
 * builder.c — the index builder: sections in, a published index out.
 *
 * In:  paths or in-memory documents, through ingest (src/ingest.c), each
 *      section analysed by the text pipeline (src/text.c).
 * Out: dir/index.jsi (index/FORMAT.md), written as index.jsi.tmp-PID and
 *      published by rename in js_nbuilder_commit.
 *
 * Data flow: each section gets the next id; its heading field (document
 * title and heading path, terms prefixed with 0x01) and body are
 * analysed and every token goes to the accumulator (accum.c, which spills
 * sorted runs under the memory budget); its text goes to the store
 * (store.c), whose finished blocks are written to the file at once; its
 * metadata goes to the document and section tables.  On commit the
 * accumulator's merge yields terms in order, each encoded (codec.c) into
 * the POSTINGS part and entered in the lexicon (lexicon.c); then the
 * small parts and the table of contents are written and the file renamed
 * into place.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accum.h"
#include "builder.h"
#include "buf.h"
#include "champ.h"
#include "codec.h"
#include "docid.h"
#include "error.h"
#include "fields.h"
#include "file.h"
#include "keys.h"
#include "jiansuo.h"
#include "lexicon.h"
#include "sections.h"
#include "spool.h"
#include "store.h"
#include "writer.h"

/* ---- the pipeline: batches handed from the ingest thread to workers ----
 *
 * With more than one thread, the thread that calls js_builder_add_*
 * (ingest, parsing, analysis) no longer inverts or compresses: it appends
 * each section's tokens to a token batch and its text to a store batch,
 * and hands full batches to two workers over channels of CHAN_SLOTS
 * batches each: one feeds the accumulator, the other the store (and
 * writes the STORE part).  Each worker takes its batches in the order
 * they were filled and does exactly what the single-threaded build does
 * in the same order, so the index is byte-identical whatever the number
 * of threads. */

#define CHAN_SLOTS 4

/* zlib level of the stored text.  Measured on chinese-poetry (62.2 MB of
 * body text, one thread): level 6 took 1.8 s more than level 1 (11.6 s
 * against 9.7 s for the whole build) for a STORE 4.8% smaller (36.0 MB
 * against 37.8 MB). */
#define JS_STORE_LEVEL 1

/* Memory outside the accumulator that the budget must cover: the
 * program and its libraries, ingest's buffers, the store's block and
 * zlib, the file and spool buffers. */
#define FIXED_BYTES ((size_t)7 << 20)

typedef struct chan chan;
typedef int (*chan_work)(js_nbuilder *b, const js_buf *batch, char *msg,
                         size_t msglen);

struct chan {
    pthread_mutex_t mu;
    pthread_cond_t can_fill, can_take;
    js_buf slot[CHAN_SLOTS];
    unsigned fill, take; /* ring indexes of the producer and the consumer */
    unsigned full;       /* slots handed over, not yet taken */
    unsigned busy;       /* slots handed over, not yet done with */
    int closed, err, started;
    char msg[512];
    pthread_t th;
    chan_work work;
    js_nbuilder *b;
};

struct js_nbuilder {
    char *dir;
    int lock_fd;
    js_build_options o;
    js_ingest *ing;
    js_accum *acc;
    char *run_dir;
    js_store_writer *store;
    js_buf store_out; /* finished store blocks not yet written */
    js_file_writer *fw;
    /* document table, spooled to temporary files (FORMAT.md, part 2):
     * source offsets and strings, document offsets and strings */
    js_spool src_offsets, src_strings, doc_offsets, doc_strings;
    uint32_t ndocs, nsources;
    char *last_source[3]; /* path, format, encoding of source nsources-1 */
    char *last_meta;      /* the last metadata written out, and the */
    uint32_t last_meta_doc; /* document whose record holds it */
    /* section table (FORMAT.md, part 3): the encoded groups and their
     * u64 offsets spooled, the sections of the group being filled, the
     * last section of the group before; lengths (for BM25, the skip
     * tables and the part's lengths array) in body_lens and head_lens */
    js_spool sections, sec_offsets;
    js_section_rec sec_pend[JS_SECTION_GROUP];
    unsigned sec_npend;
    js_section_rec sec_last;
    js_buf sec_enc;
    /* heading paths, spooled (FORMAT.md, part 9): u32 end offsets and
     * the paths' bytes */
    js_spool head_offsets, head_strings;
    uint64_t head_bytes;
    uint32_t nsections;
    uint32_t *body_lens, *head_lens;
    size_t lens_cap;
    uint64_t body_units, head_units, text_bytes;
    /* analysis of the current section */
    uint32_t cur_id;
    /* pipeline (threads > 1): the batches being filled are
     * tokens.slot[tokens.fill] and texts.slot[texts.fill] */
    int threaded;
    unsigned threads_used;
    size_t batch_bytes;
    chan tokens, texts, terms;
    struct merge_ctx *merge; /* during commit, for the terms worker */
    uint32_t batch_section; /* section of the last token in the batch */
    uint32_t tok_section;   /* the token worker's current section */
    js_buf path;            /* the current section's heading path */
    int rc; /* sticky failure */
    int committed;
    js_build_stats st;
    js_fields_clock clock; /* the build's time and progress reports */
    /* identities (keys.h): the file whose documents are coming (its
     * entry is added when the next file begins or at commit, if it
     * produced any), and the current document's id */
    char *file_name; /* the file written: index.jsi, or a segment's */
    js_nbuilder_hooks hooks;
    js_keys_writer *keys;
    js_key_file cur_file;
    char *cur_path;
    int in_file;
    char *cur_idstr;
    js_key_id cur_idk;
    char err[1024];
};

static int chan_start(chan *ch, js_nbuilder *b, chan_work work);
static int work_tokens(js_nbuilder *b, const js_buf *x, char *msg,
                       size_t msglen);
static int work_texts(js_nbuilder *b, const js_buf *x, char *msg,
                      size_t msglen);
static int work_terms(js_nbuilder *b, const js_buf *x, char *msg,
                      size_t msglen);


/* Keeps the message and the code on b (error.h); returns rc. */
#define fail(b, code, ...) \
    ((b)->rc = js_error_set((b)->err, sizeof (b)->err, (code), __VA_ARGS__))

const char *js_nbuilder_errmsg(const js_nbuilder *b) { return b ? b->err : ""; }

void js_nbuilder_get_stats(const js_nbuilder *b, js_build_stats *out)
{
    if (b && out)
        *out = b->st;
}

static int on_file(void *ctx, const char *name, int fd, const struct stat *st,
                   const void *data, size_t len);

int js_nbuilder_open(js_nbuilder **out, const char *dir,
                    const js_build_options *opts)
{
    return js_nbuilder_open_segment(out, dir, NULL, opts, NULL);
}

int js_nbuilder_open_segment(js_nbuilder **out, const char *dir,
                             const char *file, const js_build_options *opts,
                             const js_nbuilder_hooks *hooks)
{
    if (!out || !dir)
        return JS_EINVALID;
    js_nbuilder *b = calloc(1, sizeof *b);
    if (!b)
        return JS_ENOMEM;
    *out = b;
    b->lock_fd = -1;
    b->src_offsets = b->src_strings = b->doc_offsets = b->doc_strings =
        b->sections = b->sec_offsets = b->head_offsets = b->head_strings =
            (js_spool)JS_SPOOL_INIT; /* fd -1: close must not close fd 0 */
    /* the dispatch (src/backend.c) checked the version */
    js_build_options o = JS_BUILD_OPTIONS_INIT;
    if (opts)
        o = *opts;
    if (o.memory_mib == 0)
        o.memory_mib = 512;
    if (o.block_size == 0)
        o.block_size = JS_BLOCK_SIZE;
    if (o.block_size > JS_BLOCK_SIZE * 8)
        return fail(b, JS_EINVALID, "block size %u is above %u", o.block_size,
                    JS_BLOCK_SIZE * 8);
    if (o.champion_df == 0)
        o.champion_df = JS_CHAMP_MIN_DF;
    b->o = o;
    js_fields_clock_start(&b->clock);
    if (hooks)
        b->hooks = *hooks;
    if (!(b->dir = strdup(dir)) ||
        !(b->file_name = strdup(file ? file : JS_INDEX_FILE)) ||
        !(b->keys = js_keys_writer_new()))
        return fail(b, JS_ENOMEM, "out of memory");
    if (!file) { /* a segment's writer holds the lock already */
        int fd = js_dir_lock(dir, b->err, sizeof b->err);
        if (fd < 0)
            return b->rc = fd;
        b->lock_fd = fd;
    }
    size_t n = strlen(dir) + 32;
    if (!(b->run_dir = malloc(n)))
        return fail(b, JS_ENOMEM, "out of memory");
    snprintf(b->run_dir, n, "%s/runs-%ld", dir, (long)getpid());
    if (mkdir(b->run_dir, 0755) != 0 && errno != EEXIST)
        return fail(b, JS_EIO, "%s: %s", b->run_dir, strerror(errno));
    js_ingest_options io = JS_INGEST_OPTIONS_INIT;
    io.format = o.format;
    io.encoding = o.encoding;
    io.include_hidden = o.include_hidden;
    io.warn = o.warn;
    io.warn_ctx = o.warn_ctx;
    int rc = js_ingest_open(&b->ing, &io);
    if (rc)
        return fail(b, rc, "%s", rc == JS_EINVALID
                                     ? "unknown format or encoding"
                                     : js_strerror(rc));
    js_ingest_set_file_hook(b->ing, on_file, b);
    /* Threads: the ingest thread plus two workers when more than one is
     * asked for (0: one per CPU, and two CPUs are enough to use them
     * all: the workers wait on the ingest thread most of the time). */
    unsigned threads = o.threads;
    if (threads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus > 1 ? 2 : 1;
    }
    b->threads_used = threads > 1 ? 2 : 1;
    /* The budget is the whole process's: the builder's own buffers, the
     * libraries' and the program's (measured: 7 MiB of RSS with
     * --memory 1) are set aside first, a quarter of a small budget at
     * most; the accumulator, told of the section lengths as they grow
     * (grow_lens), gets the rest. */
    size_t budget = o.memory_mib << 20, reserve = FIXED_BYTES;
    if (reserve > budget / 4)
        reserve = budget / 4;
    if (threads > 1) {
        /* batches in flight: CHAN_SLOTS per channel, each filled to
         * batch_bytes and a record beyond; counted against the budget */
        b->batch_bytes = budget / 64;
        if (b->batch_bytes > (1u << 20))
            b->batch_bytes = 1u << 20;
        if (b->batch_bytes < (64u << 10))
            b->batch_bytes = 64u << 10;
        reserve += 2 * CHAN_SLOTS * (b->batch_bytes + 4096);
        if (reserve > budget / 2)
            reserve = budget / 2;
    }
    if ((rc = js_accum_new(&b->acc, budget - reserve, b->run_dir)))
        return fail(b, rc, "cannot start the accumulator: %s", js_strerror(rc));
    if ((rc = js_store_writer_new(&b->store, JS_STORE_BLOCK_BYTES,
                                   JS_STORE_LEVEL)))
        return fail(b, rc, "cannot start the store: %s", js_strerror(rc));
    if ((rc = js_file_create_named(&b->fw, dir, b->file_name, b->err,
                                   sizeof b->err)))
        return b->rc = rc;
    if ((rc = js_file_begin_part(b->fw, JS_PART_STORE)))
        return fail(b, rc, "internal error starting the store part");
    js_spool *sp[8] = {&b->src_offsets, &b->src_strings, &b->doc_offsets,
                       &b->doc_strings, &b->sections, &b->sec_offsets,
                       &b->head_offsets, &b->head_strings};
    for (int i = 0; i < 8; i++)
        if ((rc = js_spool_open(sp[i], b->run_dir)))
            return fail(b, rc, "%s: cannot create a temporary file: %s",
                        b->run_dir, strerror(sp[i]->saved_errno));
    js_spool_u64(&b->src_offsets, 0);
    js_spool_u64(&b->doc_offsets, 0);
    if (b->threads_used > 1) {
        if ((rc = chan_start(&b->tokens, b, work_tokens)) ||
            (rc = chan_start(&b->texts, b, work_texts)))
            return fail(b, rc, "cannot start a thread");
        b->threaded = 1;
    }
    return 0;
}

/* The worker: takes full batches in order and runs ch->work on each;
 * after a failure it only empties batches, so the producer never waits
 * forever, and the producer sees ch->err at its next hand-over. */
static void *chan_main(void *arg)
{
    chan *ch = arg;
    pthread_mutex_lock(&ch->mu);
    for (;;) {
        while (!ch->full && !ch->closed)
            pthread_cond_wait(&ch->can_take, &ch->mu);
        if (!ch->full)
            break; /* closed and drained */
        js_buf *x = &ch->slot[ch->take];
        int err = ch->err;
        pthread_mutex_unlock(&ch->mu);
        char msg[sizeof ch->msg];
        int rc = err ? 0 : ch->work(ch->b, x, msg, sizeof msg);
        x->len = 0;
        pthread_mutex_lock(&ch->mu);
        if (rc && !ch->err) {
            ch->err = rc;
            memcpy(ch->msg, msg, sizeof msg);
        }
        ch->take = (ch->take + 1) % CHAN_SLOTS;
        ch->full--;
        ch->busy--;
        pthread_cond_signal(&ch->can_fill);
    }
    pthread_mutex_unlock(&ch->mu);
    return NULL;
}

/* Starts ch's worker.  Returns 0 or JS_ENOMEM. */
static int chan_start(chan *ch, js_nbuilder *b, chan_work work)
{
    ch->b = b;
    ch->work = work;
    if (pthread_mutex_init(&ch->mu, NULL))
        return JS_ENOMEM;
    if (pthread_cond_init(&ch->can_fill, NULL)) {
        pthread_mutex_destroy(&ch->mu);
        return JS_ENOMEM;
    }
    if (pthread_cond_init(&ch->can_take, NULL)) {
        pthread_cond_destroy(&ch->can_fill);
        pthread_mutex_destroy(&ch->mu);
        return JS_ENOMEM;
    }
    ch->started = 1;
    if (pthread_create(&ch->th, NULL, chan_main, ch)) {
        ch->started = 0;
        pthread_cond_destroy(&ch->can_take);
        pthread_cond_destroy(&ch->can_fill);
        pthread_mutex_destroy(&ch->mu);
        return JS_ENOMEM;
    }
    return 0;
}

/* Hands the batch being filled to the worker (if it holds anything) and
 * waits until the next slot is free.  Returns 0 or the worker's error,
 * with its message in b->err. */
static int chan_submit(js_nbuilder *b, chan *ch)
{
    pthread_mutex_lock(&ch->mu);
    if (ch->slot[ch->fill].len) {
        ch->fill = (ch->fill + 1) % CHAN_SLOTS;
        ch->full++;
        ch->busy++;
        pthread_cond_signal(&ch->can_take);
    }
    while (ch->busy == CHAN_SLOTS)
        pthread_cond_wait(&ch->can_fill, &ch->mu);
    int rc = ch->err;
    if (rc && !b->rc)
        fail(b, rc, "%s", ch->msg);
    pthread_mutex_unlock(&ch->mu);
    return rc;
}

/* Hands over the last batch, waits for the worker to finish and joins it.
 * Returns 0 or the worker's error (message in b->err). */
static int chan_finish(js_nbuilder *b, chan *ch)
{
    if (!ch->started)
        return 0;
    int rc = chan_submit(b, ch);
    pthread_mutex_lock(&ch->mu);
    ch->closed = 1;
    pthread_cond_signal(&ch->can_take);
    pthread_mutex_unlock(&ch->mu);
    pthread_join(ch->th, NULL);
    ch->started = 0;
    if (!rc && ch->err)
        rc = fail(b, ch->err, "%s", ch->msg);
    pthread_cond_destroy(&ch->can_take);
    pthread_cond_destroy(&ch->can_fill);
    pthread_mutex_destroy(&ch->mu);
    return rc;
}

static void chan_free(chan *ch)
{
    for (int i = 0; i < CHAN_SLOTS; i++)
        js_buf_free(&ch->slot[i]);
}

/* Token worker: one batch of token records into the accumulator.  A
 * record is u16 length, term, u32 position; length 0 is followed by the
 * u32 id of the section the next tokens belong to, length EXTERNAL by
 * the u64 figure for js_accum_set_external (the builder's own memory,
 * which the accumulator must leave room for). */
#define EXTERNAL 0xFFFFu
static int work_tokens(js_nbuilder *b, const js_buf *x, char *msg,
                       size_t msglen)
{
    const uint8_t *p = x->p, *end = x->p + x->len;
    uint32_t section = b->tok_section; /* from the previous batch */
    while (p < end) {
        uint16_t len;
        memcpy(&len, p, 2);
        p += 2;
        if (len == 0) {
            memcpy(&section, p, 4);
            p += 4;
            b->tok_section = section;
            continue;
        }
        if (len == EXTERNAL) {
            uint64_t ext;
            memcpy(&ext, p, 8);
            p += 8;
            js_accum_set_external(b->acc, (size_t)ext);
            continue;
        }
        uint32_t pos;
        memcpy(&pos, p + len, 4);
        int rc = js_accum_add(b->acc, (const char *)p, len, section, pos);
        if (rc) {
            snprintf(msg, msglen, "indexing: %s%s%s",
                     rc == JS_EIO ? b->run_dir : "", rc == JS_EIO ? ": " : "",
                     rc == JS_EIO ? strerror(errno) : js_strerror(rc));
            return rc;
        }
        p += len + 4;
    }
    return 0;
}

/* Writes the store blocks finished so far into the STORE part.  Returns
 * 0 or an error with its message in msg. */
static int drain_store_to(js_nbuilder *b, char *msg, size_t msglen)
{
    int rc = js_store_drain(b->store, &b->store_out);
    if (rc) {
        snprintf(msg, msglen, "store: %s", js_strerror(rc));
        return rc;
    }
    if (b->store_out.len) {
        if ((rc = js_file_write(b->fw, b->store_out.p, b->store_out.len))) {
            snprintf(msg, msglen, "%s", js_file_errmsg(b->fw));
            return rc;
        }
        b->store_out.len = 0;
    }
    return 0;
}

/* Store worker: a batch of (u32 path length, path, u32 body length,
 * body) records into the store, finished blocks into the file. */
static int work_texts(js_nbuilder *b, const js_buf *x, char *msg,
                      size_t msglen)
{
    const uint8_t *p = x->p, *end = x->p + x->len;
    while (p < end) {
        uint32_t pl, bl;
        memcpy(&pl, p, 4);
        const char *path = (const char *)p + 4;
        memcpy(&bl, p + 4 + pl, 4);
        const char *body = (const char *)p + 8 + pl;
        p += 8 + (size_t)pl + bl;
        int rc = js_store_add(b->store, path, pl, body, bl);
        if (rc) {
            snprintf(msg, msglen, "store: %s", js_strerror(rc));
            return rc;
        }
    }
    return drain_store_to(b, msg, msglen);
}

/* Copies a term of len bytes from p to q: with a constant size for the
 * lengths of nearly every term (a CJK unigram or bigram, of the body or
 * with the heading prefix), which the compiler turns into a load and a
 * store instead of a call to memcpy for each of chinese-poetry's 40 M
 * tokens (memmove's samples over a build: 574 -> 329 at 999 Hz). */
static inline void copy_term(uint8_t *q, const char *p, size_t len)
{
    switch (len) {
    case 3: memcpy(q, p, 3); break;
    case 4: memcpy(q, p, 4); break;
    case 6: memcpy(q, p, 6); break;
    case 7: memcpy(q, p, 7); break;
    default: memcpy(q, p, len); break;
    }
}

/* Token callback (fields.h): one occurrence into the accumulator. */
static int on_token(void *ctx, const js_token *t, int heading)
{
    js_nbuilder *b = ctx;
    char term[JS_TERM_MAX_BYTES + 1];
    const char *p = t->term;
    size_t len = t->term_len;
    if (heading) {
        term[0] = 1;
        copy_term((uint8_t *)term + 1, t->term, t->term_len);
        p = term;
        len++;
    }
    if (!b->threaded)
        return js_accum_add(b->acc, p, len, b->cur_id, t->position);
    /* Token record: u16 length, term, u32 position; a new section is
     * announced by length 0 and its u32 id (see work_tokens). */
    js_buf *o = &b->tokens.slot[b->tokens.fill];
    if (js_buf_reserve(o, 2 * 6 + len + 4))
        return JS_ENOMEM;
    uint8_t *q = o->p + o->len;
    uint16_t l16 = 0;
    if (o->len == 0 || b->batch_section != b->cur_id) {
        memcpy(q, &l16, 2);
        memcpy(q + 2, &b->cur_id, 4);
        q += 6;
        b->batch_section = b->cur_id;
    }
    l16 = (uint16_t)len;
    memcpy(q, &l16, 2);
    q += 2;
    copy_term(q, p, len);
    q += len;
    memcpy(q, &t->position, 4);
    o->len = (size_t)(q + 4 - o->p);
    return 0;
}

/* Fails with an error of analysis or of the accumulator, whose JS_EIO
 * (a sorted run could not be written: a full disk) keeps errno; `field`
 * names where it happened (fields.h). */
static int index_failed(js_nbuilder *b, int rc, const char *field)
{
    int e = errno;
    if (rc == JS_EIO)
        return fail(b, rc, "indexing the %s: %s: %s", field, b->run_dir,
                    strerror(e));
    return fail(b, rc, "indexing the %s: %s", field, js_strerror(rc));
}

/* Grows the length arrays (8 bytes a section, kept for the skip tables
 * until the merge) and tells the accumulator, whose budget they share.
 * Returns 0 or JS_ENOMEM. */
static int grow_lens(js_nbuilder *b)
{
    if (b->nsections < b->lens_cap)
        return 0;
    size_t cap = b->lens_cap ? b->lens_cap * 2 : 4096;
    uint32_t *bl = realloc(b->body_lens, cap * sizeof *bl);
    if (!bl)
        return JS_ENOMEM;
    b->body_lens = bl;
    uint32_t *hl = realloc(b->head_lens, cap * sizeof *hl);
    if (!hl)
        return JS_ENOMEM;
    b->head_lens = hl;
    b->lens_cap = cap;
    uint64_t ext = (uint64_t)cap * 2 * sizeof *bl;
    if (!b->threaded) {
        js_accum_set_external(b->acc, (size_t)ext);
        return 0;
    }
    js_buf *o = &b->tokens.slot[b->tokens.fill]; /* see work_tokens */
    uint16_t mark = EXTERNAL;
    if (js_buf_put(o, &mark, 2) || js_buf_put(o, &ext, 8))
        return JS_ENOMEM;
    return 0;
}

static void put_str(js_spool *o, const char *s)
{
    js_spool_write(o, s ? s : "", s ? strlen(s) + 1 : 1);
}

/* Writes a document's id as FORMAT.md part 2 says: a UUID in canonical
 * lowercase form as 16 bytes (chinese-poetry's ids: 11.8 of the 24.2 MB
 * of DOCUMENTS as text), other ids as text, escaped when they begin with
 * the UUID's or the escape's byte. */
static void put_id(js_spool *o, const char *id)
{
    uint8_t u[17];
    if (js_docid_pack(id, u + 1)) {
        u[0] = JS_DOCID_UUID;
        js_spool_write(o, u, sizeof u);
        return;
    }
    if (id[0] == JS_DOCID_UUID || id[0] == JS_DOCID_ESCAPE) {
        static const uint8_t esc = JS_DOCID_ESCAPE;
        js_spool_write(o, &esc, 1);
    }
    put_str(o, id);
}

/* Enters document d in the table: its source (path, format, encoding)
 * once per run of documents from the same source, then its own strings.
 * Returns 0 or an error. */
static int add_document(js_nbuilder *b, const js_document *d)
{
    const char *src[3] = {d->source ? d->source : "",
                          d->format ? d->format : "",
                          d->encoding ? d->encoding : ""};
    int same = b->nsources > 0;
    for (int i = 0; same && i < 3; i++)
        same = !strcmp(src[i], b->last_source[i]);
    if (!same) {
        if (b->nsources == UINT32_MAX)
            return fail(b, JS_ELIMIT, "too many sources");
        for (int i = 0; i < 3; i++) {
            char *c = strdup(src[i]);
            if (!c)
                return fail(b, JS_ENOMEM, "out of memory");
            free(b->last_source[i]);
            b->last_source[i] = c;
            put_str(&b->src_strings, src[i]);
        }
        js_spool_u64(&b->src_offsets, b->src_strings.total);
        b->nsources++;
    }
    js_spool_varint(&b->doc_strings, b->nsources - 1);
    put_str(&b->doc_strings, d->title);
    put_id(&b->doc_strings, d->id ? d->id : "");
    /* Metadata equal to the last written out is a reference back to the
     * document that holds it (FORMAT.md, part 2): records of a JSON Lines
     * file often share theirs (chinese-poetry: 95% the same author as the
     * record before, 6.5 of 30.5 MB). */
    const char *meta = d->metadata ? d->metadata : "";
    if (meta[0] && b->last_meta && !strcmp(meta, b->last_meta)) {
        js_spool_varint(&b->doc_strings, b->ndocs - b->last_meta_doc);
    } else {
        js_spool_varint(&b->doc_strings, 0);
        put_str(&b->doc_strings, meta);
        if (meta[0]) {
            char *c = strdup(meta);
            if (!c)
                return fail(b, JS_ENOMEM, "out of memory");
            free(b->last_meta);
            b->last_meta = c;
            b->last_meta_doc = b->ndocs;
        }
    }
    js_spool_u64(&b->doc_offsets, b->doc_strings.total);
    b->ndocs++;
    return 0;
}

/* The first sticky error of the table spools, reported; 0 if none. */
static int spool_failed(js_nbuilder *b)
{
    js_spool *sp[8] = {&b->src_offsets, &b->src_strings, &b->doc_offsets,
                       &b->doc_strings, &b->sections, &b->sec_offsets,
                       &b->head_offsets, &b->head_strings};
    for (int i = 0; i < 8; i++)
        if (sp[i]->err)
            return fail(b, sp[i]->err, "writing a temporary file in %s: %s",
                        b->run_dir,
                        sp[i]->err == JS_EIO ? strerror(sp[i]->saved_errno)
                                             : "out of memory");
    return 0;
}

/* Writes the store blocks finished so far into the STORE part. */
static int drain_store(js_nbuilder *b)
{
    char msg[sizeof b->err];
    int rc = drain_store_to(b, msg, sizeof msg);
    return rc ? fail(b, rc, "%s", msg) : 0;
}

static void report_progress(js_nbuilder *b, int phase, int force)
{
    js_fields_progress(&b->clock, &b->o, b->ing, b->nsections, phase, force);
}

/* Encodes the sections waiting in sec_pend as a group into the
 * sections spool, its offset into sec_offsets.  Returns 0 or an error
 * (reported). */
static int flush_sections(js_nbuilder *b)
{
    if (b->sec_npend == 0)
        return 0;
    /* the groups written so far, 8 bytes of offset each */
    uint32_t first = (uint32_t)(b->sec_offsets.total / 8) * JS_SECTION_GROUP;
    js_spool_u64(&b->sec_offsets, b->sections.total);
    b->sec_enc.len = 0;
    /* section ids, documents and ordinals come from one counter each, so
     * a record the format cannot hold is a bug here, not bad input */
    int rc = js_sections_put_group(&b->sec_enc, first ? &b->sec_last : NULL,
                                   b->sec_pend, b->sec_npend);
    if (rc == JS_ENOMEM)
        return fail(b, rc, "out of memory");
    if (rc)
        return fail(b, rc, "internal error: sections %u to %u are out of "
                    "order", first, first + b->sec_npend - 1);
    js_spool_write(&b->sections, b->sec_enc.p, b->sec_enc.len);
    b->sec_last = b->sec_pend[b->sec_npend - 1];
    b->sec_npend = 0;
    return spool_failed(b);
}

/* ---- identities (keys.h) ---- */

/* Ends the current document's id entry: its sections are counted. */
static int end_id(js_nbuilder *b)
{
    if (!b->cur_idstr)
        return 0;
    b->cur_idk.nsections = b->nsections - b->cur_idk.first_section;
    int rc = js_keys_add_id(b->keys, b->cur_idstr, &b->cur_idk);
    free(b->cur_idstr);
    b->cur_idstr = NULL;
    return rc ? fail(b, rc, "out of memory") : 0;
}

/* Ends the current file: its entry, when it produced documents; else
 * the hooks hear that it gave nothing (a live index keeps the version
 * it has). */
static int end_file(js_nbuilder *b)
{
    if (!b->in_file)
        return 0;
    b->in_file = 0;
    int rc = end_id(b);
    if (rc)
        return rc;
    js_key_file *f = &b->cur_file;
    f->ndocs = b->ndocs - f->first_doc;
    f->nsections = b->nsections - f->first_section;
    if (f->ndocs == 0) {
        if (b->hooks.unread)
            b->hooks.unread(b->hooks.ctx, f);
        return 0;
    }
    if ((rc = js_keys_add_file(b->keys, f)))
        return fail(b, rc, "out of memory");
    return 0;
}

int js_nbuilder_begin_file(js_nbuilder *b, const js_key_file *f)
{
    if (b->rc)
        return b->rc;
    int rc = end_file(b);
    if (rc)
        return rc;
    char *c = malloc(f->path_len + 1);
    if (!c)
        return fail(b, JS_ENOMEM, "out of memory");
    memcpy(c, f->path, f->path_len);
    c[f->path_len] = 0;
    free(b->cur_path);
    b->cur_path = c;
    b->cur_file = *f;
    b->cur_file.path = c;
    b->cur_file.first_doc = b->ndocs;
    b->cur_file.first_section = b->nsections;
    b->in_file = 1;
    return 0;
}

/* Hashes what fd holds (keys.h), reading it with pread.  Returns 0 or
 * JS_EIO / JS_ENOMEM. */
static int hash_fd(int fd, uint64_t *out)
{
    size_t cap = 1u << 20;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return JS_ENOMEM;
    js_keys_hasher h;
    js_keys_hash_init(&h);
    off_t off = 0;
    for (;;) {
        ssize_t n = pread(fd, buf, cap, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(buf);
            return JS_EIO;
        }
        if (n == 0)
            break;
        js_keys_hash_more(&h, buf, (size_t)n);
        off += n;
    }
    free(buf);
    *out = js_keys_hash_end(&h);
    return 0;
}

/* Ingest's hook before each file: its identity, size, time and hash,
 * asked of the hooks' filter (a live index's update skips files it has
 * unchanged), then noted for the documents that follow. */
static int on_file(void *ctx, const char *name, int fd, const struct stat *st,
                   const void *data, size_t len)
{
    js_nbuilder *b = ctx;
    js_key_file f = {0};
    char *id = fd >= 0 ? js_fields_identity(name) : strdup(name);
    if (!id)
        return fail(b, JS_ENOMEM, "out of memory");
    f.path = id;
    f.path_len = strlen(id);
    if (fd >= 0 && st) {
        f.size = (uint64_t)st->st_size;
        f.mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
                     st->st_mtim.tv_nsec;
    } else if (fd < 0) {
        f.size = len;
    }
    int rc = 0, hashed = 0;
    if (b->hooks.filter && (rc = b->hooks.filter(b->hooks.ctx, &f, 0)) == 2) {
        rc = 0;
        hashed = 1;
    }
    if (rc == 0 || hashed) {
        if (fd >= 0) {
            rc = hash_fd(fd, &f.hash);
            if (rc == JS_EIO)
                rc = 0; /* ingest reads it and says what is wrong */
        } else {
            js_keys_hasher h;
            js_keys_hash_init(&h);
            js_keys_hash_more(&h, data, len);
            f.hash = js_keys_hash_end(&h);
        }
        if (!rc && hashed && b->hooks.filter)
            rc = b->hooks.filter(b->hooks.ctx, &f, 1);
    }
    if (rc == 0)
        rc = js_nbuilder_begin_file(b, &f);
    else if (rc < 0 && !b->rc)
        fail(b, rc, "%s: %s", name, js_strerror(rc));
    free(id);
    return rc;
}

/* Section callback from ingest: one section into every structure. */
static int on_section(void *ctx, const js_section *s)
{
    js_nbuilder *b = ctx;
    if (b->nsections == UINT32_MAX)
        return fail(b, JS_ELIMIT, "more than %u sections", UINT32_MAX - 1);
    int rc;
    if (s->ordinal == 0) {
        const js_document *d = s->document;
        if (b->ndocs == UINT32_MAX)
            return fail(b, JS_ELIMIT, "too many documents");
        if ((rc = end_id(b)))
            return rc;
        if (d->id && d->id[0]) {
            if (!(b->cur_idstr = strdup(d->id)))
                return fail(b, JS_ENOMEM, "out of memory");
            b->cur_idk.doc = b->ndocs;
            b->cur_idk.first_section = b->nsections;
        }
        if ((rc = add_document(b, d)))
            return rc;
    }
    if ((rc = grow_lens(b)))
        return fail(b, rc, "out of memory");
    b->cur_id = b->nsections;
    uint32_t head_len, body_len;
    const char *field;
    if ((rc = js_fields_analyze(s, b->o.analyze_flags, on_token, b, &head_len,
                                &body_len, &field)))
        return index_failed(b, rc, field);
    b->body_lens[b->nsections] = body_len;
    b->head_lens[b->nsections] = head_len;
    b->body_units += body_len;
    b->head_units += head_len;
    b->text_bytes += s->body_len;
    js_section_rec *rec = &b->sec_pend[b->sec_npend++];
    rec->document = b->ndocs - 1;
    rec->ordinal = s->ordinal;
    rec->start = s->start;
    rec->end = s->end;
    rec->body_len = body_len;
    rec->head_len = head_len;
    if (b->sec_npend == JS_SECTION_GROUP && (rc = flush_sections(b)))
        return rc;
    /* Stored text: the heading path joined by U+001F, and the body. */
    js_buf *path = &b->path;
    path->len = 0;
    for (size_t i = 0; i < s->depth; i++) {
        if (i)
            js_buf_u8(path, 0x1F);
        js_buf_put(path, s->path[i], strlen(s->path[i]));
    }
    if (path->oom)
        return fail(b, JS_ENOMEM, "out of memory");
    /* ... and again in the headings part, where results find it without
     * inflating a store block */
    if (b->head_bytes + path->len > UINT32_MAX)
        return fail(b, JS_ELIMIT, "more than 4 GiB of heading paths");
    b->head_bytes += path->len;
    js_spool_write(&b->head_strings, path->p, path->len);
    js_spool_u32(&b->head_offsets, (uint32_t)b->head_bytes);
    if ((rc = spool_failed(b)))
        return rc;
    if (b->threaded) {
        if (path->len > UINT32_MAX || s->body_len > UINT32_MAX)
            return fail(b, JS_ELIMIT, "a section of over 4 GiB");
        js_buf *o = &b->texts.slot[b->texts.fill];
        js_buf_u32(o, (uint32_t)path->len);
        js_buf_put(o, path->p, path->len);
        js_buf_u32(o, (uint32_t)s->body_len);
        js_buf_put(o, s->body, s->body_len);
        if (o->oom)
            return fail(b, JS_ENOMEM, "out of memory");
        b->nsections++;
        if (o->len >= b->batch_bytes && (rc = chan_submit(b, &b->texts)))
            return rc;
        if (b->tokens.slot[b->tokens.fill].len >= b->batch_bytes &&
            (rc = chan_submit(b, &b->tokens)))
            return rc;
    } else {
        rc = js_store_add(b->store, path->p ? (const char *)path->p : "",
                          path->len, s->body, s->body_len);
        if (rc)
            return fail(b, rc, "store: %s", js_strerror(rc));
        b->nsections++;
        if ((rc = drain_store(b)))
            return rc;
    }
    report_progress(b, 0, 0);
    return 0;
}

int js_nbuilder_add(js_nbuilder *b, const char *path, const char *name,
                    const void *data, size_t len)
{
    int rc = js_fields_feed(b->ing, path, name, data, len, on_section, b,
                            &b->rc, b->err, sizeof b->err);
    int rc2 = end_file(b);
    return rc ? rc : rc2;
}

int js_nbuilder_add_section(js_nbuilder *b, const js_section *s)
{
    if (b->rc)
        return b->rc;
    return on_section(b, s);
}

uint32_t js_nbuilder_documents(const js_nbuilder *b) { return b->ndocs; }

int js_nbuilder_has_key(const js_nbuilder *b, int by_path, const char *key)
{
    if (by_path && b->in_file && !strcmp(b->cur_file.path, key))
        return b->ndocs > b->cur_file.first_doc;
    if (!by_path && b->cur_idstr && !strcmp(b->cur_idstr, key))
        return 1;
    return js_keys_writer_has(b->keys, by_path, key);
}

/* ---- commit ---- */

/* The merge's output side: each term's pieces (js_accum_merge_chunks)
 * encoded block by block into POSTINGS (js_postings_writer), its entry
 * into the lexicon, whose finished blocks go to spools.  Run by the
 * ingest thread, or with threads by a worker fed over the `terms`
 * channel while the ingest thread merges. */
typedef struct merge_ctx {
    js_nbuilder *b;
    js_lexicon_writer *lex;
    js_postings_writer pw;
    js_page_crcs pages; /* POSTINGS_CRC, as POSTINGS is written */
    js_buf enc, lex_out, idx_out, firsts_out;
    js_spool lex_blocks, lex_idx, lex_firsts;
    uint32_t *lens;
    size_t lens_cap;
    uint64_t postings_off; /* where the current term's record starts */
    uint64_t rec_len;      /* its bytes so far */
    uint32_t df;
    int in_term;
    uint64_t terms_seen;   /* by the merging thread, for progress */
    /* Champion lists (champ.h): ranked by the merging thread (cm), written
     * with their table entries by term_piece. */
    js_champ_merge *cm;
    js_spool ch_table, ch_lists;
    uint32_t ch_n, ch_table_crc;
} merge_ctx;

/* Moves the lexicon's finished blocks to the spools. */
static int drain_lexicon(merge_ctx *m, char *msg, size_t msglen)
{
    m->lex_out.len = m->idx_out.len = m->firsts_out.len = 0;
    int rc = js_lexicon_drain(m->lex, &m->lex_out, &m->idx_out,
                              &m->firsts_out);
    if (!rc)
        rc = js_spool_write(&m->lex_blocks, m->lex_out.p, m->lex_out.len);
    if (!rc)
        rc = js_spool_write(&m->lex_idx, m->idx_out.p, m->idx_out.len);
    if (!rc)
        rc = js_spool_write(&m->lex_firsts, m->firsts_out.p,
                            m->firsts_out.len);
    if (rc) { /* a spool's I/O error (a full disk) says why */
        js_spool *sp[3] = {&m->lex_blocks, &m->lex_idx, &m->lex_firsts};
        int e = 0;
        for (int i = 0; i < 3; i++)
            if (sp[i]->err == JS_EIO)
                e = sp[i]->saved_errno;
        if (e)
            snprintf(msg, msglen, "lexicon: %s: %s", m->b->run_dir,
                     strerror(e));
        else
            snprintf(msg, msglen, "lexicon: %s", js_strerror(rc));
    }
    return rc;
}

/* ---- champion lists (champ.h) ---- */

/* A spool's failure as a message: "what: dir: reason". */
static int spool_msg(js_spool *s, const char *what, const char *dir,
                     char *msg, size_t msglen)
{
    snprintf(msg, msglen, "%s: %s: %s", what, dir,
             s->err == JS_EIO ? strerror(s->saved_errno) : "out of memory");
    return s->err ? s->err : JS_EIO;
}

/* Writes a body term's list (ranked on the merging thread) and its table
 * entry: the term's postings record starts at m->postings_off. */
static int finish_list(merge_ctx *m, const uint8_t *list, size_t len,
                       char *msg, size_t msglen)
{
    uint8_t e[16];
    js_put_le64(e, m->postings_off);
    js_put_le64(e + 8, m->ch_lists.total);
    m->ch_table_crc = js_crc32_more(m->ch_table_crc, e, sizeof e);
    if (js_spool_write(&m->ch_table, e, sizeof e))
        return spool_msg(&m->ch_table, "champions", m->b->run_dir, msg,
                         msglen);
    if (js_spool_write(&m->ch_lists, list, len))
        return spool_msg(&m->ch_lists, "champions", m->b->run_dir, msg,
                         msglen);
    m->ch_n++;
    return 0;
}

/* One piece of a term (see js_accum_chunk_fn).  Returns 0 or an error
 * with its message in msg. */
static int term_piece(merge_ctx *m, const char *term, size_t len,
                      const uint32_t *ids, const uint32_t *tfs,
                      const uint32_t *positions, uint32_t n, int last,
                      const uint8_t *list, size_t list_len, char *msg,
                      size_t msglen)
{
    js_nbuilder *b = m->b;
    int rc;
    if (!m->in_term) {
        js_postings_writer_init(&m->pw, b->o.block_size, positions != NULL);
        /* the norms' averages: the scorer's (match.c), bit for bit */
        js_postings_writer_avg(&m->pw,
                               len && term[0] == 1
                                   ? js_norm_avg(b->head_units, b->nsections)
                                   : js_norm_avg(b->body_units, b->nsections));
        m->in_term = 1;
        m->df = 0;
        m->rec_len = 0;
    }
    if (n > m->lens_cap) {
        uint32_t *l = realloc(m->lens, (size_t)n * sizeof *l);
        if (!l) {
            snprintf(msg, msglen, "out of memory");
            return JS_ENOMEM;
        }
        m->lens = l;
        m->lens_cap = n;
    }
    const uint32_t *field = len && term[0] == 1 ? b->head_lens : b->body_lens;
    for (uint32_t i = 0; i < n; i++) {
        if (ids[i] >= b->nsections) {
            snprintf(msg, msglen, "merge produced section %u of %u", ids[i],
                     b->nsections);
            return JS_ECORRUPT;
        }
        m->lens[i] = field[ids[i]];
    }
    m->enc.len = 0;
    rc = js_postings_writer_add(&m->pw, &m->enc, ids, tfs, positions, m->lens,
                                n);
    js_postings_info pi = {0, 0};
    if (!rc && last)
        rc = js_postings_writer_finish(&m->pw, &m->enc, &pi);
    if (rc) {
        snprintf(msg, msglen, "encoding postings: %s", js_strerror(rc));
        return rc;
    }
    m->df += n;
    if (m->enc.len && (rc = js_file_write(b->fw, m->enc.p, m->enc.len))) {
        snprintf(msg, msglen, "%s", js_file_errmsg(b->fw));
        return rc;
    }
    if ((rc = js_page_crcs_add(&m->pages, m->enc.p, m->enc.len))) {
        snprintf(msg, msglen, "out of memory");
        return rc;
    }
    m->rec_len += m->enc.len;
    if (!last)
        return 0;
    js_term_info ti = {m->df, pi.cf, m->postings_off, m->rec_len, pi.max_tf,
                       positions ? JS_TERM_POSITIONS : 0};
    if (list && (rc = finish_list(m, list, list_len, msg, msglen)))
        return rc;
    if ((rc = js_lexicon_add(m->lex, term, len, &ti))) {
        snprintf(msg, msglen, "lexicon: %s", js_strerror(rc));
        return rc;
    }
    m->postings_off += m->rec_len;
    m->in_term = 0;
    b->st.terms++;
    b->st.postings += m->df;
    b->st.positions += positions ? pi.cf : 0;
    if ((b->st.terms & 0xFFF) == 0)
        return drain_lexicon(m, msg, msglen);
    return 0;
}

/* Ranks a piece for the champion lists on the merging thread (champ.h);
 * *list is the term's list at its last piece, or NULL.  Returns 0 or the
 * builder's error. */
static int champ_piece(merge_ctx *m, const char *term, size_t len,
                       const uint32_t *ids, const uint32_t *tfs, uint32_t n,
                       int last, const uint8_t **list, size_t *list_len)
{
    int rc = js_champ_merge_piece(m->cm, term, len, ids, tfs, n, last, list,
                                  list_len);
    return rc ? fail(m->b, rc, "%s", js_champ_merge_errmsg(m->cm)) : 0;
}

/* Piece callback of the one-thread merge. */
static int on_piece(void *ctx, const char *term, size_t len,
                    const uint32_t *ids, const uint32_t *tfs,
                    const uint32_t *positions, uint32_t n, int last)
{
    merge_ctx *m = ctx;
    js_nbuilder *b = m->b;
    char msg[sizeof b->err];
    const uint8_t *list;
    size_t list_len;
    if (!js_fields_term_has_positions(JS_FIELDS_POSITIONS_FOR, term, len))
        positions = NULL;
    int rc = champ_piece(m, term, len, ids, tfs, n, last, &list, &list_len);
    if (rc)
        return rc;
    rc = term_piece(m, term, len, ids, tfs, positions, n, last, list,
                    list_len, msg, sizeof msg);
    if (rc)
        return fail(b, rc, "%s", msg);
    if (last && (++m->terms_seen & 0xFFFF) == 0)
        report_progress(b, 1, 0);
    return 0;
}

/* Piece callback of the threaded merge: the piece is ranked for the
 * champion lists here, on the merging thread, and copied into the batch
 * for the terms worker (record: u32 term length, u32 n, u32 positions
 * count, u32 flags (1 last, 2 has positions), u32 length of the term's
 * champion list (0: none), the term padded to 4 bytes, ids, tfs,
 * positions, the list padded to 4 bytes: the arrays stay 4-aligned). */
static int on_piece_queued(void *ctx, const char *term, size_t len,
                           const uint32_t *ids, const uint32_t *tfs,
                           const uint32_t *positions, uint32_t n, int last)
{
    merge_ctx *m = ctx;
    js_nbuilder *b = m->b;
    const uint8_t *list;
    size_t list_len;
    /* positions the index does not keep are not even copied */
    if (!js_fields_term_has_positions(JS_FIELDS_POSITIONS_FOR, term, len))
        positions = NULL;
    int rc = champ_piece(m, term, len, ids, tfs, n, last, &list, &list_len);
    if (rc)
        return rc;
    uint64_t np = 0;
    if (positions)
        for (uint32_t i = 0; i < n; i++)
            np += tfs[i];
    js_buf *o = &b->terms.slot[b->terms.fill];
    size_t tpad = (len + 3) & ~(size_t)3, lpad = (list_len + 3) & ~(size_t)3;
    size_t need = 20 + tpad + ((size_t)2 * n + (size_t)np) * 4 + lpad;
    if (np > UINT32_MAX || list_len > UINT32_MAX || js_buf_reserve(o, need))
        return fail(b, JS_ENOMEM, "out of memory");
    uint32_t head[5] = {(uint32_t)len, n, (uint32_t)np,
                        (last ? 1u : 0u) | (positions ? 2u : 0u),
                        (uint32_t)list_len};
    static const uint8_t zero[4] = {0};
    js_buf_put(o, head, sizeof head);
    js_buf_put(o, term, len);
    js_buf_put(o, zero, tpad - len);
    js_buf_put(o, ids, (size_t)n * 4);
    js_buf_put(o, tfs, (size_t)n * 4);
    if (np)
        js_buf_put(o, positions, (size_t)np * 4);
    if (list_len) {
        js_buf_put(o, list, list_len);
        js_buf_put(o, zero, lpad - list_len);
    }
    if (last && (++m->terms_seen & 0xFFFF) == 0)
        report_progress(b, 1, 0);
    if (o->len >= b->batch_bytes)
        return chan_submit(b, &b->terms);
    return 0;
}

/* Terms worker: a batch of pieces (see on_piece_queued) through
 * term_piece. */
static int work_terms(js_nbuilder *b, const js_buf *x, char *msg, size_t msglen)
{
    merge_ctx *m = b->merge;
    const uint8_t *p = x->p, *end = x->p + x->len;
    while (p < end) {
        /* 4-aligned: the buffer is malloc'ed, every record a multiple */
        const uint32_t *head = (const uint32_t *)(const void *)p;
        uint32_t len = head[0], n = head[1], np = head[2], flags = head[3];
        uint32_t list_len = head[4];
        const char *term = (const char *)p + 20;
        p += 20 + ((len + 3) & ~3u);
        const uint32_t *ids = (const uint32_t *)(const void *)p;
        p += ((size_t)2 * n + np) * 4;
        const uint8_t *list = list_len ? p : NULL;
        p += ((size_t)list_len + 3) & ~(size_t)3;
        int rc = term_piece(m, term, len, ids, ids + n,
                            (flags & 2) ? ids + 2 * (size_t)n : NULL, n,
                            flags & 1, list, list_len, msg, msglen);
        if (rc)
            return rc;
    }
    return 0;
}

/* Writes a whole part from a buffer. */
static int write_part(js_nbuilder *b, uint32_t id, const js_buf *data)
{
    if (data->oom)
        return fail(b, JS_ENOMEM, "out of memory");
    int rc = js_file_begin_part(b->fw, id);
    if (!rc)
        rc = js_file_write(b->fw, data->p ? data->p : (const uint8_t *)"",
                           data->len);
    if (!rc)
        rc = js_file_end_part(b->fw);
    if (rc)
        return fail(b, rc, "writing the %s part: %s", js_part_name(id),
                    js_file_errmsg(b->fw));
    return 0;
}

/* Writes a part: head, then the spools' bytes in order. */
static int copy_part(js_nbuilder *b, uint32_t id, const js_buf *head,
                     js_spool **spools, int n)
{
    if (head->oom)
        return fail(b, JS_ENOMEM, "out of memory");
    int rc = js_file_begin_part(b->fw, id);
    if (!rc)
        rc = js_file_write(b->fw, head->p, head->len);
    for (int i = 0; !rc && i < n; i++)
        if ((rc = js_spool_copy(spools[i], b->fw)) && spools[i]->err)
            return spool_failed(b);
    if (!rc)
        rc = js_file_end_part(b->fw);
    if (rc)
        return fail(b, rc, "writing the %s part: %s", js_part_name(id),
                    js_file_errmsg(b->fw));
    return 0;
}

/* Writes the SECTIONS part (FORMAT.md): header, the lengths from
 * body_lens and head_lens, the group offsets (from the spool's u64, as
 * u32 when the groups take less than 4 GiB), the groups.  Returns 0 or
 * an error (reported). */
static int write_sections(js_nbuilder *b)
{
    int rc = flush_sections(b);
    if (rc)
        return rc;
    js_spool_u64(&b->sec_offsets, b->sections.total);
    if ((rc = spool_failed(b)))
        return rc;
    unsigned lw = js_sections_len_width(b->body_lens, b->head_lens,
                                        b->nsections);
    unsigned ow = b->sections.total > UINT32_MAX ? 8 : 4;
    js_buf out = JS_BUF_INIT;
    js_sections_put_header(&out, b->nsections, lw, ow);
    rc = js_file_begin_part(b->fw, JS_PART_SECTIONS);
    /* the lengths and offsets in pieces of some 64 KiB */
    for (uint32_t i = 0; !rc && i < b->nsections;) {
        for (; i < b->nsections && out.len < 65536; i++)
            js_sections_put_lens(&out, b->body_lens[i], b->head_lens[i], lw);
        rc = out.oom ? JS_ENOMEM : js_file_write(b->fw, out.p, out.len);
        out.len = 0;
    }
    uint64_t noffs = b->sec_offsets.total / 8;
    uint8_t piece[8 * 1024];
    for (uint64_t i = 0; !rc && i < noffs;) {
        size_t k = noffs - i < 1024 ? (size_t)(noffs - i) : 1024;
        if ((rc = js_spool_read_at(&b->sec_offsets, 8 * i, piece, 8 * k))) {
            js_buf_free(&out);
            int rc2 = spool_failed(b);
            return rc2 ? rc2 : fail(b, rc, "internal error reading the "
                                    "section offsets back");
        }
        for (size_t j = 0; j < k; j++) {
            uint64_t o = js_le64(piece + 8 * j);
            if (ow == 4)
                js_buf_u32(&out, (uint32_t)o);
            else
                js_buf_u64(&out, o);
        }
        rc = out.oom ? JS_ENOMEM : js_file_write(b->fw, out.p, out.len);
        out.len = 0;
        i += k;
    }
    js_buf_free(&out);
    if (!rc && (rc = js_spool_copy(&b->sections, b->fw)) && b->sections.err)
        return spool_failed(b);
    if (!rc)
        rc = js_file_end_part(b->fw);
    if (rc == JS_ENOMEM)
        return fail(b, rc, "out of memory");
    if (rc)
        return fail(b, rc, "writing the %s part: %s",
                    js_part_name(JS_PART_SECTIONS), js_file_errmsg(b->fw));
    return 0;
}

/* Writes the CHAMPIONS part: header, the table and its crc, the lists
 * (FORMAT.md). */
static int write_champions(js_nbuilder *b, merge_ctx *m)
{
    js_champ_header h = {m->ch_n, JS_CHAMP_SIZE, b->o.champion_df, JS_NORM_B,
                         JS_CHAMP_W};
    js_buf head = JS_BUF_INIT, tail = JS_BUF_INIT;
    js_champ_put_header(&head, &tail, &h, m->ch_table_crc,
                        (uint64_t)m->ch_n * 16);
    int rc = head.oom || tail.oom ? JS_ENOMEM : 0;
    if (!rc)
        rc = js_file_begin_part(b->fw, JS_PART_CHAMPIONS);
    if (!rc)
        rc = js_file_write(b->fw, head.p, head.len);
    if (!rc && (rc = js_spool_copy(&m->ch_table, b->fw)) && m->ch_table.err)
        rc = JS_EIO;
    if (!rc)
        rc = js_file_write(b->fw, tail.p, tail.len);
    if (!rc && (rc = js_spool_copy(&m->ch_lists, b->fw)) && m->ch_lists.err)
        rc = JS_EIO;
    if (!rc)
        rc = js_file_end_part(b->fw);
    js_buf_free(&head);
    js_buf_free(&tail);
    if (rc == JS_ENOMEM)
        return fail(b, rc, "out of memory");
    if (rc) {
        js_spool *s = m->ch_table.err ? &m->ch_table : &m->ch_lists;
        if (s->err == JS_EIO)
            return fail(b, rc, "champions: %s: %s", b->run_dir,
                        strerror(s->saved_errno));
        return fail(b, rc, "writing the %s part: %s",
                    js_part_name(JS_PART_CHAMPIONS), js_file_errmsg(b->fw));
    }
    return 0;
}

/* Commit, phase 1: the ingest workers' last batches, then the store's
 * last block, written; *store_index gets the store's index part (the
 * caller frees it).  Returns 0 or b->rc. */
static int finish_ingest(js_nbuilder *b, js_buf *store_index)
{
    int rc;
    if (b->threaded) {
        b->threaded = 0;
        int r1 = chan_finish(b, &b->tokens), r2 = chan_finish(b, &b->texts);
        if (r1 || r2)
            return b->rc;
    }
    if ((rc = js_store_finish(b->store, &b->store_out, store_index)))
        return fail(b, rc, "store: %s", js_strerror(rc));
    if (b->store_out.len &&
        (rc = js_file_write(b->fw, b->store_out.p, b->store_out.len)))
        return fail(b, rc, "%s", js_file_errmsg(b->fw));
    js_file_end_part(b->fw);
    return 0;
}

/* The merge's five spools, for opening and closing them together. */
static void merge_spools(merge_ctx *m, js_spool *ls[5])
{
    ls[0] = &m->lex_blocks;
    ls[1] = &m->lex_idx;
    ls[2] = &m->lex_firsts;
    ls[3] = &m->ch_table;
    ls[4] = &m->ch_lists;
}

/* Commit, phase 2: the merge's context (lexicon writer, champion lists,
 * spools) and the postings part begun.  Returns the context, which
 * merge_close frees, also when b->rc says a step failed; NULL only when
 * it cannot be allocated (b->rc set). */
static merge_ctx *merge_open(js_nbuilder *b)
{
    int rc;
    merge_ctx *m = calloc(1, sizeof *m);
    if (!m) {
        fail(b, JS_ENOMEM, "out of memory");
        return NULL;
    }
    m->b = b;
    b->merge = m;
    m->lex_blocks = m->lex_idx = m->lex_firsts = m->ch_table = m->ch_lists =
        (js_spool)JS_SPOOL_INIT;
    if ((rc = js_lexicon_writer_new(&m->lex, JS_LEXICON_BLOCK_TERMS)))
        fail(b, rc, "lexicon: %s", js_strerror(rc));
    if (!b->rc &&
        (rc = js_champ_merge_new(&m->cm, b->run_dir, b->o.champion_df,
                                 JS_CHAMP_SIZE, b->body_lens, b->head_lens,
                                 b->nsections,
                                 js_norm_avg(b->body_units, b->nsections),
                                 js_norm_avg(b->head_units, b->nsections))))
        fail(b, rc, "%s", js_champ_merge_errmsg(m->cm));
    js_spool *ls[5];
    merge_spools(m, ls);
    for (int i = 0; !b->rc && i < 5; i++)
        if ((rc = js_spool_open(ls[i], b->run_dir)))
            fail(b, rc, "%s: cannot create a temporary file: %s", b->run_dir,
                 rc == JS_ENOMEM ? "out of memory"
                                 : strerror(ls[i]->saved_errno));
    if (!b->rc) {
        js_page_crcs_init(&m->pages, JS_PAGE_SIZE);
        js_file_begin_part(b->fw, JS_PART_POSTINGS);
    }
    return m;
}

static void merge_close(js_nbuilder *b, merge_ctx *m)
{
    if (!m)
        return;
    b->merge = NULL;
    js_lexicon_writer_free(m->lex);
    js_postings_writer_free(&m->pw);
    js_page_crcs_free(&m->pages);
    js_champ_merge_free(m->cm);
    js_buf_free(&m->enc);
    js_buf_free(&m->lex_out);
    js_buf_free(&m->idx_out);
    js_buf_free(&m->firsts_out);
    js_spool *ls[5];
    merge_spools(m, ls);
    for (int i = 0; i < 5; i++)
        js_spool_close(ls[i]);
    free(m->lens);
    free(m);
}

/* Commit, phase 3: the postings.  The merge hands terms over in pieces
 * of at most 1/32 of the budget; they are encoded and written block by
 * block (by a second thread when there is one), and the lexicon's
 * blocks are spooled; then the pages' crcs part. */
static void merge_postings(js_nbuilder *b, merge_ctx *m)
{
    int rc = 0;
    size_t piece = (b->o.memory_mib << 20) / 32; /* arrays grow to 2x */
    int merge_errno = 0;
    if (!b->rc && b->threads_used > 1) {
        if ((rc = chan_start(&b->terms, b, work_terms))) {
            fail(b, rc, "cannot start a thread");
        } else {
            b->threaded = 1;
            rc = js_accum_merge_chunks(b->acc, on_piece_queued, m, piece);
            merge_errno = errno;
            b->threaded = 0;
            int rc2 = chan_finish(b, &b->terms);
            if (!rc)
                rc = rc2;
        }
    } else if (!b->rc) {
        rc = js_accum_merge_chunks(b->acc, on_piece, m, piece);
        merge_errno = errno;
    }
    chan_free(&b->terms);
    js_file_end_part(b->fw);
    if (!rc && !b->rc) { /* the pages' crcs, 4 bytes a KiB: in memory */
        js_buf part = JS_BUF_INIT;
        if (js_page_crcs_finish(&m->pages, &part))
            fail(b, JS_ENOMEM, "out of memory");
        else
            write_part(b, JS_PART_POSTINGS_CRC, &part);
        js_buf_free(&part);
    }
    b->st.runs = js_accum_runs(b->acc);
    b->st.peak_memory = js_accum_peak_bytes(b->acc);
    if (rc && !b->rc) {
        errno = merge_errno; /* the runs' I/O error, if that is what it was */
        index_failed(b, rc, "merging postings");
    }
}

/* Commit, phase 4: the lexicon's last block, its two parts from the
 * spools, and the champion lists. */
static void write_lexicon(js_nbuilder *b, merge_ctx *m)
{
    int rc;
    uint32_t lex_blocks = 0;
    uint64_t lex_terms = 0;
    char msg[sizeof b->err];
    if (!b->rc && (rc = js_lexicon_end(m->lex, &lex_blocks, &lex_terms)))
        fail(b, rc, "lexicon: %s", js_strerror(rc));
    if (!b->rc && (rc = drain_lexicon(m, msg, sizeof msg)))
        fail(b, rc, "%s", msg);
    if (!b->rc) {
        js_buf none = JS_BUF_INIT;
        js_spool *parts[1] = {&m->lex_blocks};
        copy_part(b, JS_PART_LEXICON, &none, parts, 1);
    }
    if (!b->rc) {
        js_buf head = JS_BUF_INIT;
        js_buf_u32(&head, lex_blocks);
        js_buf_u64(&head, lex_terms);
        js_spool *parts[2] = {&m->lex_idx, &m->lex_firsts};
        copy_part(b, JS_PART_LEXICON_INDEX, &head, parts, 2);
        js_buf_free(&head);
    }
    if (!b->rc)
        write_champions(b, m);
}

/* Commit, phase 5: documents (count, offsets, strings), sections and
 * heading paths, from their spools. */
static void write_documents(js_nbuilder *b)
{
    if (!b->rc) {
        js_buf d = JS_BUF_INIT;
        js_buf_u32(&d, b->ndocs);
        js_buf_u32(&d, b->nsources);
        js_spool *parts[4] = {&b->src_offsets, &b->doc_offsets,
                              &b->src_strings, &b->doc_strings};
        copy_part(b, JS_PART_DOCUMENTS, &d, parts, 4);
        js_buf_free(&d);
    }
    if (!b->rc)
        write_sections(b);
    if (!b->rc) {
        js_buf h = JS_BUF_INIT;
        js_buf_u32(&h, b->nsections);
        js_buf_u32(&h, 0);
        js_spool *parts[2] = {&b->head_offsets, &b->head_strings};
        copy_part(b, JS_PART_HEADINGS, &h, parts, 2);
        js_buf_free(&h);
    }
}

/* Commit, phase 6: the STATS part, with the build's parameters as a
 * JSON object (is: the ingest's totals). */
static void write_stats(js_nbuilder *b, const js_ingest_stats *is)
{
    if (b->rc)
        return;
    js_buf st = JS_BUF_INIT;
    js_buf_u64(&st, b->ndocs);
    js_buf_u64(&st, b->nsections);
    js_buf_u64(&st, b->st.terms);
    js_buf_u64(&st, b->st.postings);
    js_buf_u64(&st, b->st.positions);
    js_buf_u64(&st, b->body_units);
    js_buf_u64(&st, b->head_units);
    js_buf_u64(&st, is->bytes_read);
    js_buf_u64(&st, b->text_bytes);
    js_buf_u32(&st, b->o.block_size);
    js_buf_u32(&st, b->o.analyze_flags);
    js_buf_u32(&st, JS_FIELDS_POSITIONS_FOR);
    char info[512];
    int n = snprintf(info, sizeof info,
                     "{\"memory_mib\":%zu,\"threads\":%u,\"runs\":%u,"
                     "\"seconds\":%.3f,\"created\":%lld,"
                     "\"jiansuo\":\"%s\"}",
                     b->o.memory_mib, b->threads_used,
                     b->st.runs, b->st.seconds, (long long)time(NULL),
                     js_version());
    js_buf_u32(&st, (uint32_t)n);
    js_buf_put(&st, info, (size_t)n);
    write_part(b, JS_PART_STATS, &st);
    js_buf_free(&st);
}

/* Commit, phase 7: the file published by rename, and its size. */
static int publish(js_nbuilder *b)
{
    int rc = js_file_publish(b->fw, b->err, sizeof b->err);
    b->fw = NULL;
    if (rc)
        return b->rc = rc;
    char path[4096];
    struct stat fst;
    snprintf(path, sizeof path, "%s/%s", b->dir, b->file_name);
    if (stat(path, &fst) == 0)
        b->st.index_bytes = (uint64_t)fst.st_size;
    b->committed = 1;
    b->st.seconds = js_fields_elapsed(&b->clock);
    if (b->lock_fd >= 0) /* a full build: the directory is no longer live */
        js_lwriter_drop_live(b->dir);
    return 0;
}

int js_nbuilder_commit(js_nbuilder *b)
{
    if (!b)
        return JS_EINVALID;
    if (b->rc)
        return b->rc;
    if (end_file(b) || end_id(b))
        return b->rc;
    js_buf store_index = JS_BUF_INIT;
    if (finish_ingest(b, &store_index)) {
        js_buf_free(&store_index);
        return b->rc;
    }
    report_progress(b, 1, 1);
    chan_free(&b->tokens); /* the ingest batches' memory, for the merge */
    chan_free(&b->texts);
    merge_ctx *m = merge_open(b);
    if (m) {
        merge_postings(b, m);
        report_progress(b, 2, 1);
        write_lexicon(b, m);
    }
    merge_close(b, m);
    if (!b->rc)
        write_part(b, JS_PART_STORE_INDEX, &store_index);
    js_buf_free(&store_index);
    if (b->rc)
        return b->rc;

    js_ingest_stats is;
    js_ingest_get_stats(b->ing, &is);
    b->st.ingest = is;
    write_documents(b);
    if (!b->rc) {
        js_buf kb = JS_BUF_INIT;
        if (js_keys_encode(b->keys, &kb))
            fail(b, JS_ENOMEM, "out of memory");
        else
            write_part(b, JS_PART_KEYS, &kb);
        js_buf_free(&kb);
    }
    b->st.text_bytes = b->text_bytes;
    b->st.seconds = js_fields_elapsed(&b->clock);
    write_stats(b, &is);
    return b->rc ? b->rc : publish(b);
}

void js_nbuilder_close(js_nbuilder *b)
{
    if (!b)
        return;
    if (b->threaded) { /* abandoned mid-build: stop the workers first */
        b->threaded = 0;
        b->rc = b->rc ? b->rc : JS_EINVALID;
        chan *chs[2] = {&b->tokens, &b->texts};
        for (int i = 0; i < 2; i++) {
            /* Nothing more is worth doing, and the batch being filled
             * may end in half a record (a failed append): drop it, and
             * have the worker skip what it was handed. */
            pthread_mutex_lock(&chs[i]->mu);
            chs[i]->slot[chs[i]->fill].len = 0;
            if (!chs[i]->err)
                chs[i]->err = b->rc;
            pthread_mutex_unlock(&chs[i]->mu);
            chan_finish(b, chs[i]);
        }
    }
    chan_free(&b->tokens);
    chan_free(&b->texts);
    js_buf_free(&b->path);
    js_file_abort(b->fw); /* removes an unpublished temporary file */
    js_accum_free(b->acc);
    if (b->run_dir)
        rmdir(b->run_dir);
    js_store_writer_free(b->store);
    js_ingest_close(b->ing);
    js_buf_free(&b->store_out);
    js_spool_close(&b->src_offsets);
    js_spool_close(&b->src_strings);
    js_spool_close(&b->doc_offsets);
    js_spool_close(&b->doc_strings);
    js_spool_close(&b->sections);
    js_spool_close(&b->sec_offsets);
    js_buf_free(&b->sec_enc);
    js_spool_close(&b->head_offsets);
    js_spool_close(&b->head_strings);
    for (int i = 0; i < 3; i++)
        free(b->last_source[i]);
    free(b->last_meta);
    free(b->body_lens);
    free(b->head_lens);
    free(b->run_dir);
    free(b->dir);
    free(b->file_name);
    js_keys_writer_free(b->keys);
    free(b->cur_path);
    free(b->cur_idstr);
    if (b->lock_fd >= 0)
        close(b->lock_fd);
    free(b);
}
