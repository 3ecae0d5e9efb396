/*
 * xapian_shim.h — a small C API over libxapian (C++), for the Xapian
 * backend.  Plain C: no C++ type appears here and no exception crosses it
 * (src/xapian/xapian_shim.cc catches everything at each entry point).
 *
 * In:  terms (bytes, may hold 0x01, the heading-field prefix), positions,
 *      document data; database paths or remote HOST:PORT addresses;
 *      query trees built bottom-up; BM25 parameters.
 * Out: Xapian databases on disk; ranked hits (docid, rank, weight,
 *      document data); database statistics.
 *
 * Handles and errors (the rule of jiansuo.h, made precise for this file):
 *  - Every handle is opaque, comes from a *_open (or query constructor)
 *    and is freed by the matching *_close, which accepts NULL.
 *  - Functions return 0 or a negative JS_E* code.
 *  - A function that makes a handle (js_xw_open, js_xdb_open, every
 *    js_xq_* constructor) sets *out even on failure when memory allows,
 *    to a handle whose *_errmsg explains; close it either way.  Only
 *    with JS_ENOMEM may *out be NULL.
 *  - A function working on a handle keeps its failure's message on that
 *    handle (until the next call on it).
 *  - Xapian errors keep Xapian's own description ("DatabaseLockError:
 *    Unable to get write lock on ...: already locked"), after a few words
 *    saying what was being done.  Their codes:
 *      DatabaseNotFoundError               JS_ENOTFOUND
 *      DatabaseVersionError                JS_EVERSION
 *      other DatabaseOpeningError          JS_EIO
 *      DatabaseCorruptError                JS_ECORRUPT
 *      DatabaseError without errno         JS_ECORRUPT ("EOF reading block")
 *      DatabaseLockError                   JS_EIO (message: another writer)
 *      NetworkError, NetworkTimeoutError   JS_EIO
 *      DocNotFoundError                    JS_ENOTFOUND
 *      InvalidArgumentError, RangeError,
 *      InvalidOperationError, Unimplemented JS_EINVALID
 *      anything else from Xapian           JS_EIO
 *      std::bad_alloc                      JS_ENOMEM
 *      any other exception                 JS_EIO ("unexpected C++ exception")
 *
 * Terms: any bytes, 1..JS_TERM_MAX_BYTES + 1 long.  Xapian's glass
 * backend refuses terms over 245 bytes, which a word of 64 four-byte
 * characters with the heading prefix exceeds; such a term is stored as
 * its first 220 bytes, byte 0x02 and 16 hex digits of its 64-bit FNV-1a
 * hash (237 bytes).  Writer and queries apply the same mapping, so the
 * shim's callers never see it.
 *
 * Docids are Xapian's: 1-based.  A database opened from several shards
 * interleaves them (Xapian's rule): local docid d of shard s (0-based) of
 * n is global docid (d - 1) * n + s + 1.
 *
 * Thread safety: a handle is used by one thread at a time; different
 * handles may be used concurrently.
 */
#ifndef JS_XAPIAN_SHIM_H
#define JS_XAPIAN_SHIM_H

#include <stddef.h>
#include <stdint.h>

#include "jiansuo.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Glass refuses longer terms (see above). */
#define JS_XAPIAN_TERM_MAX 245

/* The first byte of terms that say what a document is rather than what
 * it holds (xapian_build.h, "Identity"): js_xdb_get_stats leaves them
 * out of its count of terms. */
#define JS_XAPIAN_META '\x03'

/* Returns libxapian's version, e.g. "1.4.22" (static). */
const char *js_xapian_version(void);

/* ---------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------- */

typedef struct js_xw js_xw;

typedef enum js_xw_mode {
    JS_XW_CREATE_OR_OPEN = 1,      /* open, or create when missing */
    JS_XW_CREATE_OR_OVERWRITE = 2, /* start empty, replacing what is there */
    JS_XW_OPEN = 3                 /* must exist */
} js_xw_mode;

/* Opens (or creates, by mode) the glass database in directory path for
 * writing, taking Xapian's write lock: a second writer gets JS_EIO with
 * "another writer holds the lock" in its message.  Returns 0 and *out,
 * or a JS_E* code with *out holding the message (see the rule above). */
int js_xw_open(js_xw **out, const char *path, js_xw_mode mode);

/* One term of a document. */
typedef struct js_xterm {
    const char *term;           /* bytes, not NUL-terminated */
    size_t len;                 /* 1..JS_TERM_MAX_BYTES + 1 */
    uint32_t wdf;               /* within-document frequency; 0: npositions */
    const uint32_t *positions;  /* ascending or not, duplicates allowed */
    size_t npositions;          /* 0: a term without positions */
} js_xterm;

/* Writes a document holding terms[0..n) and data[0..data_len) (any
 * bytes) as docid (replacing any document there), or, with docid 0, as
 * the next docid.  *docid_out (may be NULL) gets the docid used.
 * Returns 0, JS_EINVALID (an empty or over-long term, a NULL pointer
 * with a count), JS_ENOMEM, or a Xapian error's code; message on w.
 * Documents are buffered by Xapian and written at the latest on commit. */
int js_xw_put(js_xw *w, uint32_t docid, const js_xterm *terms, size_t n,
              const void *data, size_t data_len, uint32_t *docid_out);

/* One value of a document: bytes in slot (Xapian's value slots). */
typedef struct js_xvalue {
    unsigned slot;
    const void *data;
    size_t len;
} js_xvalue;

/* js_xw_put with values[0..nvalues) set on the document too (a value
 * with len 0 is not set). */
int js_xw_put_values(js_xw *w, uint32_t docid, const js_xterm *terms,
                     size_t n, const js_xvalue *values, size_t nvalues,
                     const void *data, size_t data_len, uint32_t *docid_out);

/* Makes everything written so far durable (fsync'ed); inside a
 * transaction (js_xw_begin), commits the transaction, which ends it.
 * Returns 0 or a JS_E* code; message on w. */
int js_xw_commit(js_xw *w);

/* Starts a (flushed) transaction: nothing written until js_xw_commit
 * reaches the disk, not even by Xapian's automatic commit every 10,000
 * documents, and js_xw_cancel or js_xw_close drops it all.  What it
 * buffers stays in memory until then.  Returns 0 or a JS_E* code
 * (JS_EINVALID: one is already running). */
int js_xw_begin(js_xw *w);

/* Drops the running transaction's changes (nothing when none runs).
 * Returns 0 or a JS_E* code. */
int js_xw_cancel(js_xw *w);

/* Called with the value in the asked slot of each document met (len 0
 * when it has none); a non-zero return stops and is returned. */
typedef int (*js_xvalue_fn)(void *ctx, const char *value, size_t len);

/* Deletes every document indexed by term[0..len) (the changes not yet
 * committed included), first calling fn (may be NULL) with each one's
 * value in slot.  *deleted (may be NULL) gets the number deleted.
 * Returns 0, fn's non-zero value (nothing deleted then), JS_EINVALID, or
 * a Xapian error's code; message on w. */
int js_xw_delete_term(js_xw *w, const char *term, size_t len, unsigned slot,
                      js_xvalue_fn fn, void *ctx, uint64_t *deleted);

/* Reads the value in slot of the first document indexed by term into a
 * malloc'ed buffer *out (NUL-terminated after *outlen bytes; the caller
 * frees).  Returns 1 (found), 0 (no document has the term: *out NULL),
 * or a negative JS_E* code; message on w. */
int js_xw_first_value(js_xw *w, const char *term, size_t len, unsigned slot,
                      char **out, size_t *outlen);

/* Calls fn with the value in slot of the first document of each term
 * that starts with prefix[0..len), in term order.  fn must not change
 * the database (collect, then change).  Returns 0, fn's non-zero value,
 * or a JS_E* code; message on w. */
int js_xw_scan_prefix(js_xw *w, const char *prefix, size_t len,
                      unsigned slot, js_xvalue_fn fn, void *ctx);

/* Returns the message of the last failed call on w ("" if none; owned
 * by w). */
const char *js_xw_errmsg(const js_xw *w);

/* Closes the database, releasing the lock.  Like Xapian, it commits what
 * was not committed yet (Xapian also commits on its own every 10,000
 * documents), so a caller that must not leave half-written work behind
 * writes into a temporary directory and renames it.  NULL is fine. */
void js_xw_close(js_xw *w);

/* ---------------------------------------------------------------------
 * Reading: one database made of local and remote parts
 * ------------------------------------------------------------------- */

typedef struct js_xdb js_xdb;

/* One part: a local database directory (port 0), or a database served
 * by xapian-tcpsrv at host:port. */
typedef struct js_xsource {
    const char *path_or_host;
    unsigned port; /* 0: local; 1..65535: remote */
} js_xsource;

/* Parses "HOST:PORT" (HOST a name, an IPv4 address, or an IPv6 address
 * in brackets, "[::1]:8000") into host (hostlen bytes, NUL-terminated,
 * brackets removed) and *port.  Returns 0, or JS_EINVALID with a message
 * in err (errlen bytes, may be NULL). */
int js_xsource_parse(const char *spec, char *host, size_t hostlen,
                     unsigned *port, char *err, size_t errlen);

/* Opens src[0..n) (n >= 1) as one database, in that order (which fixes
 * the docid interleaving).  timeout_ms bounds connecting to and each
 * exchange with a remote part (0: 10000).  Returns 0 and *out, or a JS_E*
 * code with *out holding the message ("127.0.0.1:1: NetworkError: Couldn't
 * connect (Connection refused)"). */
int js_xdb_open(js_xdb **out, const js_xsource *src, size_t n,
                unsigned timeout_ms);

/* Frees the handle and closes its connections; NULL is fine. */
void js_xdb_close(js_xdb *db);

/* Returns the message of the last failed call on db ("" if none). */
const char *js_xdb_errmsg(const js_xdb *db);

/* Moves db to the newest committed revision of each of its local parts
 * (Xapian's Database::reopen).  Returns 1 when it may have moved, 0
 * when it certainly did not, or a JS_E* code; message on db. */
int js_xdb_reopen(js_xdb *db);

typedef struct js_xdb_stats {
    uint64_t doccount;     /* documents */
    uint64_t lastdocid;    /* highest docid in use (interleaved) */
    uint64_t total_length; /* sum of document lengths (sum of wdf) */
    double avlength;       /* total_length / doccount */
    uint64_t terms;        /* distinct terms; only when asked (a scan);
                              terms starting with JS_XAPIAN_META (a
                              document's identity, not its text) are not
                              counted */
    int has_positions;
} js_xdb_stats;

/* Fills *out; counts the distinct terms (by walking the term list: time
 * in proportion to it) only when count_terms is non-zero, else sets
 * terms to 0.  Returns 0 or a JS_E* code; message on db. */
int js_xdb_get_stats(js_xdb *db, int count_terms, js_xdb_stats *out);

/* Called with each term and its document frequency (over all parts). */
typedef int (*js_xterm_df_fn)(void *ctx, const char *term, size_t len,
                              uint64_t df);

/* Calls fn for every term of db that starts with prefix[0..len), in term
 * order, over all its parts (Xapian's allterms_begin(prefix)), for
 * expanding a query's word*.  Returns 0, fn's non-zero value, or a JS_E*
 * code; message on db. */
int js_xdb_terms(js_xdb *db, const char *prefix, size_t len,
                 js_xterm_df_fn fn, void *ctx);

/* ---------------------------------------------------------------------
 * Queries, built bottom-up.  A constructor copies what it needs from its
 * arguments (sub-queries included), so they may be closed at once.
 * ------------------------------------------------------------------- */

typedef struct js_xq js_xq;

/* A term (its bytes as indexed, heading prefix included).  wqf (0 means
 * 1) is the query's within-query frequency, which BM25 with k3 > 0 uses. */
int js_xq_term(js_xq **out, const char *term, size_t len, uint32_t wqf);

/* Terms that must stand at the given positions relative to each other:
 * terms[i] (lens[i] bytes) at rels[i], rels ascending from 0.
 *  - Consecutive rels (0, 1, 2, ...): OP_PHRASE with window n, which is
 *    exact: each term directly after the one before.
 *  - rels with gaps (0, 2, 3): Xapian has no "any term" placeholder, so
 *    this is OP_PHRASE with window = span (last rel + 1): the terms in
 *    this order within span positions.  Every exact occurrence matches;
 *    so do occurrences in order at other distances inside the window
 *    (a superset).  A caller that needs exactness passes every term of
 *    the run at consecutive rels (for a CJK run: all its bigrams, not a
 *    cover of them).
 *  - n == 1: the term itself.
 * Returns 0, JS_EINVALID (n == 0, rels not ascending from 0, a bad
 * term), or JS_ENOMEM; message on *out. */
int js_xq_phrase(js_xq **out, const char *const *terms, const size_t *lens,
                 const uint32_t *rels, size_t n);

typedef enum js_xq_op {
    JS_XQ_AND = 1,    /* all sub-queries match; weights add */
    JS_XQ_OR = 2,     /* any matches; weights add */
    JS_XQ_AND_NOT = 3 /* the first, none of the others; the first's weight */
} js_xq_op;

/* Combines subs[0..n) (n >= 1; AND_NOT needs n >= 2) with op, a js_xq_op
 * (an int: C++ may not even hold an out-of-range enum value).  Returns 0,
 * JS_EINVALID (n == 0, a NULL or failed sub-query, an unknown op), or
 * JS_ENOMEM; message on *out. */
int js_xq_combine(js_xq **out, int op, const js_xq *const *subs, size_t n);

/* The same matches as q with every weight multiplied by factor (>= 0;
 * OP_SCALE_WEIGHT), e.g. a heading weight.  Returns 0 or JS_EINVALID
 * (a negative or non-finite factor, a failed q), JS_ENOMEM. */
int js_xq_scale(js_xq **out, const js_xq *q, double factor);

/* Not provided: "any of these terms, at least M of them".  Xapian 1.4 has
 * no such operator (OP_ELITE_SET keeps the M best terms, which is not
 * the same), and an OR of the ANDs of every M-subset grows
 * combinatorially; a caller can ask OR and count matched terms itself.
 *
 * Returns the message of the failure that made q ("" if none). */
const char *js_xq_errmsg(const js_xq *q);

/* Writes Xapian's description of the query ("Query((a OR b))") into buf (NUL-terminated,
 * cut to buflen).  Returns 0, JS_EINVALID for a failed query. */
int js_xq_describe(const js_xq *q, char *buf, size_t buflen);

/* Frees q; NULL is fine. */
void js_xq_close(js_xq *q);

/* ---------------------------------------------------------------------
 * Searching
 * ------------------------------------------------------------------- */

typedef struct js_xsearch {
    double k1, b;         /* BM25 (k2 = 0, k3 = 1 are fixed) */
    double min_normlen;   /* BM25's floor on length / average length */
    uint32_t offset;      /* hits to skip */
    uint32_t count;       /* hits to return at most */
    uint32_t check_at_least; /* documents to examine before stopping;
                                >= the doccount makes the counts exact */
    unsigned tie_slot;    /* 0: equal weights rank by docid; n: by the
                             bytes of value slot n - 1, then docid */
} js_xsearch;

#define JS_XSEARCH_INIT {1.2, 0.75, 0.5, 0, 10, 0, 0}

typedef struct js_xmset js_xmset;

/* Runs q on db with BM25Weight(k1, 0, 1, b, min_normlen).  Returns 0 and
 * *out (close with js_xmset_close), or JS_EINVALID (a failed query, bad
 * parameters), or a Xapian error's code; message on db. */
int js_xdb_search(js_xdb *db, const js_xq *q, const js_xsearch *params,
                  js_xmset **out);

typedef struct js_xcounts {
    uint64_t estimated, lower_bound, upper_bound;
} js_xcounts;

/* Number of hits held (<= params->count). */
size_t js_xmset_size(const js_xmset *m);

/* Matching documents: Xapian's estimate and its bounds (all equal when
 * the search examined every match). */
void js_xmset_counts(const js_xmset *m, js_xcounts *out);

typedef struct js_xhit {
    uint32_t docid;  /* global (interleaved) docid */
    uint32_t rank;   /* 0-based, counting from the first hit overall */
    double weight;
    const char *data; /* the document data, owned by m, valid until the
                         next js_xmset_hit on m or its close; NUL after
                         data_len for convenience */
    size_t data_len;
} js_xhit;

/* Fills *out for hit i (< js_xmset_size).  Fetching the data may need
 * the database (or network): returns 0, JS_EINVALID (i out of range), or
 * a Xapian error's code; message in js_xmset_errmsg. */
int js_xmset_hit(js_xmset *m, size_t i, js_xhit *out);

/* Called once per matching term; a non-zero return stops the walk and is
 * returned. */
typedef int (*js_xterm_fn)(void *ctx, const char *term, size_t len);

/* Calls fn with each term of the query that hit i (< js_xmset_size)
 * holds (as indexed: heading terms with their 0x01 prefix, a term over
 * JS_XAPIAN_TERM_MAX bytes in its hashed form), in term order, each
 * once.  Reads the document's term list (remote: one exchange).
 * Returns 0, fn's non-zero value, JS_EINVALID, or a Xapian error's code;
 * message in js_xmset_errmsg. */
int js_xmset_matching(js_xmset *m, size_t i, js_xterm_fn fn, void *ctx);

/* Runs Xapian::Database::check on the (local) database at path: every
 * table's structure and, as far as Xapian checks them, the consistency
 * between tables.  *errors (may be NULL) gets the number of problems.
 * Returns 0, JS_ECORRUPT when problems were found (or a table cannot be
 * read as one), JS_ENOTFOUND, JS_EIO, JS_EINVALID; err (errlen bytes)
 * gets a message. */
int js_xdb_check_path(const char *path, uint64_t *errors, char *err,
                      size_t errlen);

/* Returns the message of the last failed call on m ("" if none). */
const char *js_xmset_errmsg(const js_xmset *m);

/* Frees m; NULL is fine. */
void js_xmset_close(js_xmset *m);

#ifdef __cplusplus
}
#endif

#endif /* JS_XAPIAN_SHIM_H */
