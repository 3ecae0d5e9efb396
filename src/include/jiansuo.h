/*
 * jiansuo.h — the public C API of libjiansuo, a full-text search engine for
 * Chinese text.  This is the only header a program embedding jiansuo needs;
 * compile and link with `pkg-config --cflags --libs jiansuo`.
 *
 * Conventions (they hold for every function declared here):
 *
 *  - Names are js_<module>_<verb>.  Handles are opaque and come in
 *    open/close pairs; every close function accepts NULL.
 *  - Functions that can fail return 0 on success or a negative JS_E* code.
 *    Where a function works on a handle, the message of the last error is
 *    kept on that handle until the next call on it; js_strerror() turns any
 *    code into a fixed English sentence.
 *  - `out` parameters come first.  js_index_open, js_index_open_ext,
 *    js_builder_open and js_search set *out even on failure whenever
 *    memory allows, to a handle whose *_errmsg explains the failure:
 *    close or free it either way (only with JS_ENOMEM may *out be NULL).
 *    Every other `out` parameter, js_ingest_open's included (its code
 *    says all there is), is written only on success.
 *  - Option structs start with a `version` field and have a matching
 *    *_INIT initialiser; pass NULL for the defaults.
 *
 * Ownership, stated once for the whole API:
 *
 *  - Strings and buffers passed IN are borrowed: the library copies what it
 *    keeps and never frees them.
 *  - Pointers handed to a callback (a js_token and the bytes it points at)
 *    are valid only during that call; copy what you keep.
 *  - Everything returned through an `out` parameter is owned by the caller
 *    and freed with the matching *_close / *_free function.
 *  - Strings returned by value (js_strerror, js_version, error messages on
 *    a handle) are owned by the library; the handle's message lives until
 *    the next call on that handle or its close.
 *
 * Thread safety: functions without a handle are reentrant.  A handle may be
 * used by one thread at a time unless its documentation says otherwise.
 */
#ifndef JIANSUO_H
#define JIANSUO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define JS_API __attribute__((visibility("default")))
#else
#define JS_API
#endif

/* ---------------------------------------------------------------------
 * Errors and version
 * ------------------------------------------------------------------- */

/* Return codes.  0 is success; every failure is negative. */
enum {
    JS_OK = 0,
    JS_ENOMEM = -1,    /* an allocation failed */
    JS_EIO = -2,       /* reading or writing a file failed (errno kept) */
    JS_ECORRUPT = -3,  /* bytes on disk fail a checksum or an invariant */
    JS_EVERSION = -4,  /* an index written by an unknown format version */
    JS_EINVALID = -5,  /* a bad argument or malformed input */
    JS_ENOTFOUND = -6, /* a file, index or entry does not exist */
    JS_EENCODING = -7, /* text whose encoding cannot be determined */
    JS_ELIMIT = -8,    /* a documented limit was reached */
    JS_EBUSY = -9      /* another writer holds the index */
};

/* Returns a static English sentence for a JS_E* code (never NULL; an
 * unknown code gives "unknown error"). */
JS_API const char *js_strerror(int code);

/* Returns the library version as a static string, e.g. "0.1.0". */
JS_API const char *js_version(void);

/* ---------------------------------------------------------------------
 * Text pipeline: UTF-8 bytes -> normalised terms with positions
 *
 * Every byte of indexed documents and of queries passes through this one
 * function, so both sides agree on terms exactly.  Steps, per code point:
 *
 *  1. Strict UTF-8 decoding.  Invalid, overlong, surrogate or truncated
 *     sequences and NUL bytes never abort: each bad byte acts as a
 *     separator.
 *  2. NFKC with case folding (utf8proc), default-ignorable characters
 *     removed: full-width "ＡＢＣ１２３" -> "abc123", compatibility
 *     ideographs -> unified ideographs.
 *  3. Traditional -> Simplified folding, one character to one character,
 *     from OpenCC's t2s data (see src/chartab.h), unless
 *     JS_ANALYZE_NO_FOLD is set.
 *  4. Segmentation.  A run of CJK characters (Han, Kana, Hangul,
 *     Bopomofo) yields a unigram for every character and a bigram for
 *     every adjacent pair; a run of letters and digits of other scripts
 *     yields one word (split every JS_WORD_MAX_CHARS characters);
 *     punctuation, symbols, white space and bad bytes separate runs, and
 *     no bigram crosses them.
 *
 * Positions: each CJK character and each word takes the next position; a
 * bigram has the position of its first character; any run of separators
 * between two terms adds one empty position, so terms at positions p and
 * p+1 were really adjacent in the text.  "2023年8月" gives 2023@0 年@1
 * 8@2 月@3 — a mixed run is matched by the same adjacency.
 *
 * Byte ranges [start, end) index the ORIGINAL input, always on UTF-8
 * character boundaries, so a caller can highlight exactly what matched.
 * ------------------------------------------------------------------- */

/* Longest word term, in characters; a longer run is cut into pieces of
 * this many characters, each its own word at the next position. */
#define JS_WORD_MAX_CHARS 64
/* Longest term of any kind, in bytes (a word of JS_WORD_MAX_CHARS
 * characters of up to 4 bytes each). */
#define JS_TERM_MAX_BYTES (4 * JS_WORD_MAX_CHARS)

typedef enum js_token_kind {
    JS_TOKEN_WORD = 1,    /* letters and digits, e.g. "xapian", "2023" */
    JS_TOKEN_UNIGRAM = 2, /* one CJK character */
    JS_TOKEN_BIGRAM = 3   /* two adjacent CJK characters */
} js_token_kind;

typedef struct js_token {
    const char *term;   /* normalised UTF-8 term, NOT NUL-terminated */
    size_t term_len;    /* bytes in term, 1..JS_TERM_MAX_BYTES */
    js_token_kind kind;
    uint32_t position;  /* see "Positions" above */
    size_t start, end;  /* byte range in the original input */
} js_token;

/* Called once per token, in order of position (for one position: the
 * unigram, then the bigram that starts there).  Return 0 to go on; any
 * other value stops the analysis and is returned by js_text_analyze. */
typedef int (*js_token_fn)(void *ctx, const js_token *token);

enum {
    JS_ANALYZE_NO_FOLD = 1u << 0 /* keep Traditional characters apart */
};

typedef struct js_analyze_options {
    unsigned version;        /* JS_ANALYZE_OPTIONS_VERSION */
    unsigned flags;          /* JS_ANALYZE_* bits */
    uint32_t first_position; /* position of the first term (default 0) */
} js_analyze_options;

#define JS_ANALYZE_OPTIONS_VERSION 1
#define JS_ANALYZE_OPTIONS_INIT {JS_ANALYZE_OPTIONS_VERSION, 0, 0}

/* Segments text[0..len) into terms and calls fn for each.  opts may be
 * NULL for the defaults.  Returns 0 when the whole text was analysed, the
 * callback's non-zero value if it stopped early, or JS_EINVALID for a
 * NULL fn, a NULL text with len > 0, or an options version it does not
 * know.  Allocates nothing; safe to call from many threads at once. */
JS_API int js_text_analyze(const char *text, size_t len,
                           const js_analyze_options *opts, js_token_fn fn,
                           void *ctx);

/* Returns the name of a token kind: "word", "unigram", "bigram" (or
 * "unknown"), as printed by `jiansuo analyze`. */
JS_API const char *js_token_kind_name(js_token_kind kind);


/* ---------------------------------------------------------------------
 * Ingest: files -> documents -> sections
 *
 * jiansuo ranks SECTIONS: a heading and the body under it.  Ingest reads
 * files (plain text, Markdown, HTML, man pages, JSON Lines; any of them
 * gzip-compressed; in UTF-8, GB18030/GBK/GB2312 or Big5), converts them
 * to UTF-8 and cuts them into sections.  The text before the first heading
 * is a section of its own whose heading is the document title.
 *
 * Bad input never stops ingest: what can be read is read, each problem is
 * reported to the warning callback with the file and a line or byte
 * offset, and what had to be skipped is counted in js_ingest_stats.
 * Memory is bounded by the size of one section (a longer section is split
 * into several with the same heading, with a warning), not of one file.
 * ------------------------------------------------------------------- */

/* Sections longer than this many bytes of body are split. */
#define JS_SECTION_MAX_BYTES (4u << 20)
/* Lines longer than this are cut into pieces (with a warning). */
#define JS_LINE_MAX_BYTES (1u << 20)

typedef struct js_document {
    const char *source;   /* the file's path, as found or given */
    const char *id;       /* the record's id (JSON Lines), else NULL */
    const char *title;    /* from the file, else the file name */
    const char *format;   /* "text", "markdown", "html", "man", "jsonl" */
    const char *encoding; /* "UTF-8", "GB18030" or "BIG5" */
    const char *metadata; /* JSON object of extra JSON Lines fields, or NULL */
} js_document;

typedef struct js_section {
    const js_document *document; /* valid during the callback; ordinal 0
                                    marks the first section of a document */
    uint32_t ordinal;        /* 0, 1, 2, ... within the document */
    const char *heading;     /* this section's heading (section 0 before
                                any heading: the document title) */
    const char *const *path; /* headings from the outermost down to this
                                one; path[depth-1] is heading (depth 0 for
                                the text before the first heading) */
    size_t depth;
    const char *body; /* body text, NUL-terminated: UTF-8, except that
                         bytes of invalid UTF-8 in a UTF-8 source are
                         passed through unchanged (a warning names their
                         offset; the text pipeline treats them as
                         separators) */
    size_t body_len;
    uint64_t start, end; /* byte range of the section in the document's
                            decoded (UTF-8) text */
} js_section;

typedef struct js_ingest_stats {
    uint64_t files;         /* files opened */
    uint64_t documents;     /* documents read (a JSON Lines record is one) */
    uint64_t sections;      /* sections produced */
    uint64_t skipped_files; /* files that could not be read at all */
    uint64_t skipped_records; /* records or parts dropped (bad JSON lines) */
    uint64_t warnings;      /* every problem reported, skipped or not */
    uint64_t bytes_read;    /* bytes read from disk (before gunzip) */
} js_ingest_stats;

/* Called for each problem.  file is the path; line is 1-based (0 when
 * unknown); offset is a byte offset (UINT64_MAX when unknown): into the
 * file's bytes after gunzip for encoding and compression problems, into
 * the decoded UTF-8 text for problems a format parser finds. */
typedef void (*js_warning_fn)(void *ctx, const char *file, uint64_t line,
                              uint64_t offset, const char *message);

/* Called for each section, in document order.  Return 0 to go on; any
 * other value stops ingest and is returned by js_ingest_path. */
typedef int (*js_section_fn)(void *ctx, const js_section *section);

typedef struct js_ingest_options {
    unsigned version;      /* JS_INGEST_OPTIONS_VERSION */
    const char *format;    /* force a format by name; NULL: detect */
    const char *encoding;  /* force an encoding (iconv name); NULL: detect */
    int include_hidden;    /* walk into hidden files and directories */
    js_warning_fn warn;    /* NULL: warnings are only counted */
    void *warn_ctx;
} js_ingest_options;

#define JS_INGEST_OPTIONS_VERSION 1
#define JS_INGEST_OPTIONS_INIT {JS_INGEST_OPTIONS_VERSION, NULL, NULL, 0, NULL, NULL}

typedef struct js_ingest js_ingest;

/* Creates an ingest handle in *out (close with js_ingest_close).  opts may
 * be NULL.  Returns 0, JS_ENOMEM, or JS_EINVALID for an unknown format or
 * encoding name or options version. */
JS_API int js_ingest_open(js_ingest **out, const js_ingest_options *opts);

/* Frees the handle; NULL is fine. */
JS_API void js_ingest_close(js_ingest *ing);

/* Reads a file or, recursively, a directory (entries in byte order of
 * their names; hidden ones skipped unless asked; symbolic-link loops
 * detected) and calls fn for every section.  Files that cannot be read are
 * reported and counted, and ingest goes on.  Returns 0, the callback's
 * non-zero value, JS_ENOTFOUND / JS_EIO when `path` itself cannot be
 * read, or JS_ENOMEM; the message is in js_ingest_errmsg. */
JS_API int js_ingest_path(js_ingest *ing, const char *path, js_section_fn fn,
                          void *ctx);

/* Like js_ingest_path for a document already in memory; `name` gives its
 * source (and, by its extension, its format unless forced).  The data is
 * borrowed for the duration of the call. */
JS_API int js_ingest_memory(js_ingest *ing, const char *name, const void *data,
                            size_t len, js_section_fn fn, void *ctx);

/* Copies the running totals of this handle into *out. */
JS_API void js_ingest_get_stats(const js_ingest *ing, js_ingest_stats *out);

/* Returns the message of the last failed call on ing ("" if none); owned
 * by the handle. */
JS_API const char *js_ingest_errmsg(const js_ingest *ing);

/* ---------------------------------------------------------------------
 * The index: one API over two backends
 *
 * An index lives in a directory (see js_index_default_dir).  Every
 * function below works on either backend; the handle keeps a table of
 * its backend's operations, so callers never branch on the backend:
 *
 *  - native (JS_BACKEND_NATIVE): one file, DIR/index.jsi, jiansuo's own
 *    format (index/FORMAT.md);
 *  - Xapian (JS_BACKEND_XAPIAN): Xapian databases in DIR/xapian, one per
 *    shard, searched locally or served by xapian-tcpsrv from other
 *    machines (README "Serving from several machines").  Optional: a
 *    library configured --without-xapian has only the native backend
 *    (js_backend_available tells).
 *
 * A build is written beside the old index and published by an atomic
 * rename: readers see the old index or the new one, never a mix, and an
 * interrupted build leaves the old one intact.
 * ------------------------------------------------------------------- */

typedef enum js_backend {
    JS_BACKEND_AUTO = 0,   /* opening: whichever index DIR holds (the
                              native one if both); building: native */
    JS_BACKEND_NATIVE = 1,
    JS_BACKEND_XAPIAN = 2
} js_backend;

/* Returns 1 when this library was built with the backend (AUTO and
 * NATIVE always), else 0. */
JS_API int js_backend_available(js_backend backend);

/* Returns "native", "xapian" or "auto" ("unknown" for other values). */
JS_API const char *js_backend_name(js_backend backend);

/* Most shards a Xapian index is built with or opened from. */
#define JS_MAX_SHARDS 1024

/* Returns the default index directory as a malloc'ed string the caller
 * frees: $JIANSUO_INDEX if set, else $XDG_DATA_HOME/jiansuo/index, else
 * $HOME/.local/share/jiansuo/index; NULL when none of them is set. */
JS_API char *js_index_default_dir(void);

/* Called now and then during a build (at most a few times a second). */
typedef struct js_build_progress {
    uint64_t files, sections, bytes_read;
    double seconds;
    int phase; /* 0 reading, 1 merging, 2 writing */
} js_build_progress;
typedef void (*js_progress_fn)(void *ctx, const js_build_progress *p);

typedef struct js_build_options {
    unsigned version;     /* JS_BUILD_OPTIONS_VERSION (2 is still read:
                             the fields up to champion_df) */
    size_t memory_mib;    /* native: postings held in memory before
                             spilling: 512 */
    unsigned threads;     /* native: 0: one per core (at most 2 used) */
    const char *format;   /* force a format (see js_ingest_options) */
    const char *encoding; /* force an encoding */
    int include_hidden;
    unsigned analyze_flags;  /* JS_ANALYZE_NO_FOLD, recorded in the index */
    uint32_t block_size;     /* native: postings per block; 0: 128 (tests:
                                less) */
    js_warning_fn warn;      /* ingest warnings; NULL: only counted */
    void *warn_ctx;
    js_progress_fn progress; /* NULL: none */
    void *progress_ctx;
    uint32_t champion_df;    /* native: terms in at least this many
                                sections get a ranked list of their best
                                sections for one-term queries; 0: 128
                                (tests: less) */
    /* since version 3 */
    js_backend backend;      /* AUTO or NATIVE: native; XAPIAN: Xapian */
    unsigned shards;         /* Xapian: databases to spread sections
                                over, 1..JS_MAX_SHARDS; 0: 1.  Native:
                                0 or 1 */
} js_build_options;

#define JS_BUILD_OPTIONS_VERSION 3
#define JS_BUILD_OPTIONS_INIT {JS_BUILD_OPTIONS_VERSION, 512, 0, NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0, JS_BACKEND_AUTO, 0}

typedef struct js_build_stats {
    js_ingest_stats ingest;  /* files, documents, sections, skips, warnings */
    uint64_t terms;          /* distinct terms (Xapian: over all shards) */
    uint64_t postings;       /* term-section pairs */
    uint64_t positions;      /* positions stored */
    uint64_t text_bytes;     /* UTF-8 bytes of section bodies */
    uint64_t index_bytes;    /* size of the published index on disk */
    uint32_t runs;           /* native: sorted runs spilled to disk */
    size_t peak_memory;      /* native: the accumulator's peak, bytes */
    double seconds;
} js_build_stats;

typedef struct js_builder js_builder;

/* Starts a build of the index in `dir` (created if needed) with the
 * backend opts->backend: takes the directory's build lock (failing with
 * JS_EBUSY if another writer of either backend holds it) and removes what
 * interrupted builds left.  opts may be NULL.  Returns 0 and *out, or
 * JS_EINVALID (bad options, a backend this library lacks), JS_EIO,
 * JS_ENOMEM; *out as the conventions above say. */
JS_API int js_builder_open(js_builder **out, const char *dir,
                           const js_build_options *opts);

/* Adds the files under path (see js_ingest_path).  Returns 0, or a
 * negative JS_E* code (message in js_builder_errmsg); files that could
 * not be read are counted in the stats, not errors. */
JS_API int js_builder_add_path(js_builder *b, const char *path);

/* Adds one document from memory (see js_ingest_memory). */
JS_API int js_builder_add_memory(js_builder *b, const char *name,
                                 const void *data, size_t len);

/* Merges, writes and publishes the index.  Returns 0 or a negative JS_E*
 * code; on failure the previous index is untouched. */
JS_API int js_builder_commit(js_builder *b);

/* Copies the build's figures into *out. */
JS_API void js_builder_get_stats(const js_builder *b, js_build_stats *out);

/* Returns the message of the last failed call ("" if none). */
JS_API const char *js_builder_errmsg(const js_builder *b);

/* Releases the lock and frees the builder; an uncommitted build is
 * abandoned and its temporary files removed.  NULL is fine. */
JS_API void js_builder_close(js_builder *b);

/* ---------------------------------------------------------------------
 * Keeping an index current: the writer
 *
 * A writer adds, replaces and deletes documents in an index while other
 * processes and threads search it (README "Keeping an index current";
 * index/FORMAT.md, "Live indexes").  A document's identity is its
 * record id for a JSON Lines record that has one, else its canonical
 * source path (for a document added from memory: its name); adding a
 * document whose identity the index holds replaces it, every section.
 * Nothing a writer does is visible before js_writer_commit, which
 * publishes everything since the last commit atomically: a searcher sees
 * the index before the commit or after it, never a part of it.
 *
 * One writer at a time holds an index (the directory's lock, shared with
 * js_builder); searchers never wait for it.
 * ------------------------------------------------------------------- */

typedef struct js_writer js_writer;

typedef struct js_writer_options {
    unsigned version;        /* JS_WRITER_OPTIONS_VERSION */
    size_t memory_mib;       /* native: memory for a new segment's
                                postings before they spill, as
                                js_build_options: 512 */
    unsigned threads;        /* native: as js_build_options */
    const char *format;      /* force a format (see js_ingest_options) */
    const char *encoding;    /* force an encoding */
    int include_hidden;
    js_warning_fn warn;      /* ingest warnings and notices; NULL: counted */
    void *warn_ctx;
    js_progress_fn progress; /* NULL: none */
    void *progress_ctx;
    int wait;                /* 1: wait for another writer's lock rather
                                than fail with JS_EBUSY */
    js_backend backend;      /* AUTO: what dir holds (native if empty) */
    unsigned merge_factor;   /* native: this many segments of one size
                                tier are merged into one at commit; 0:
                                10; 1: never merge by itself */
    unsigned analyze_flags;  /* a new index: JS_ANALYZE_NO_FOLD; an
                                existing one keeps its own */
} js_writer_options;

#define JS_WRITER_OPTIONS_VERSION 1
#define JS_WRITER_OPTIONS_INIT {JS_WRITER_OPTIONS_VERSION, 512, 0, NULL, NULL, 0, NULL, NULL, NULL, NULL, 0, JS_BACKEND_AUTO, 0, 0}

typedef struct js_writer_stats {
    js_ingest_stats ingest;  /* of the files read by this writer */
    uint64_t added;          /* documents new to the index */
    uint64_t replaced;       /* documents that replaced an older version */
    uint64_t deleted;        /* documents deleted (by delete or update) */
    uint64_t unchanged;      /* update: files found unchanged, not read */
    uint64_t kept;           /* replacements that could not be read: the
                                old version stays */
    uint64_t sections_added, sections_deleted;
    uint32_t segments;       /* native: segments after the last commit */
    uint32_t merges;         /* native: merges done */
    uint64_t generation;     /* of the last commit */
    double seconds;
} js_writer_stats;

/* Opens the index in dir for writing (creating an empty native one when
 * dir holds none), taking the directory's lock: with opts->wait it waits
 * for another writer to finish, else fails with JS_EBUSY and a message
 * naming that writer's process.  Removes what interrupted writers left.
 * opts may be NULL.  Returns 0 and *out, or JS_EBUSY, JS_EIO,
 * JS_ECORRUPT, JS_EVERSION, JS_EINVALID (bad options; an index this
 * library cannot write), JS_ENOMEM; *out as js_builder_open sets it. */
JS_API int js_writer_open(js_writer **out, const char *dir,
                          const js_writer_options *opts);

/* Adds or replaces the documents in the files under path.  A file whose
 * new version cannot be read leaves its old version in the index (said
 * through opts->warn and counted in stats.kept).  Returns 0 or a
 * negative JS_E* code; an unreadable file is counted, not an error. */
JS_API int js_writer_add_path(js_writer *w, const char *path);

/* Adds or replaces one document (or, for JSON Lines, its records) read
 * from memory; `name` is its source name and identity. */
JS_API int js_writer_add_memory(js_writer *w, const char *name,
                                const void *data, size_t len);

/* Deletes the documents whose identity is the JSON Lines record id `id`
 * (js_writer_delete_id) or whose source is `path` (js_writer_delete_path:
 * the file's documents, a JSON Lines file's records too; the path is
 * made canonical, and a file already gone is found by its directory's
 * canonical path and its name).  Returns 0, or
 * JS_ENOTFOUND when the index holds no such document (nothing else
 * changes), or another negative code. */
JS_API int js_writer_delete_id(js_writer *w, const char *id);
JS_API int js_writer_delete_path(js_writer *w, const char *path);

/* Brings the index in line with the tree at path: files new or changed
 * since they were indexed (size, modification time, then a content hash)
 * are read again, files under path that the index holds but that are
 * gone are deleted, and unchanged files are not read past their hash.
 * Returns as js_writer_add_path. */
JS_API int js_writer_update(js_writer *w, const char *path);

/* Publishes everything since the last commit as the index's next
 * generation, then (native) merges segments as the merge factor says.
 * The writer stays open for more.  Returns 0 or a negative JS_E* code;
 * on failure the index is as it was at the last commit and the changes
 * since are dropped. */
JS_API int js_writer_commit(js_writer *w);

/* Commits, then merges the index down to at most `segments` segments (1:
 * fully merged, with no deleted sections left).  Xapian: compacts
 * nothing and returns 0 (Xapian merges its own tables).  Returns as
 * js_writer_commit. */
JS_API int js_writer_merge(js_writer *w, unsigned segments);

/* Copies the writer's figures into *out. */
JS_API void js_writer_get_stats(const js_writer *w, js_writer_stats *out);

/* Returns the message of the last failed call ("" if none). */
JS_API const char *js_writer_errmsg(const js_writer *w);

/* Drops what was not committed, releases the lock and frees the writer.
 * NULL is fine. */
JS_API void js_writer_close(js_writer *w);

typedef struct js_index js_index;

typedef struct js_open_options {
    unsigned version;        /* JS_OPEN_OPTIONS_VERSION */
    js_backend backend;      /* AUTO: the index dir holds */
    const char *remote;      /* Xapian only: "HOST:PORT" items separated
                                by commas, in shard order ("[::1]:8000"
                                for IPv6), each served by xapian-tcpsrv;
                                dir is then not read (may be NULL) */
    unsigned analyze_flags;  /* with remote: the JS_ANALYZE_* flags the
                                index was built with (info.json, which
                                says so for a local index, is not
                                served) */
} js_open_options;

#define JS_OPEN_OPTIONS_VERSION 1
#define JS_OPEN_OPTIONS_INIT {JS_OPEN_OPTIONS_VERSION, JS_BACKEND_AUTO, NULL, 0}

/* Opens the index in dir for reading: js_index_open_ext with the
 * defaults (the backend dir holds). */
JS_API int js_index_open(js_index **out, const char *dir);

/* Opens an index for reading and checks what opening can check cheaply
 * (native: header, table of contents and small parts; Xapian: info.json
 * and every shard).  opts may be NULL.  Returns 0 and *out, or
 * JS_ENOTFOUND (no index there), JS_EIO (also: a remote server cannot be
 * reached), JS_EVERSION, JS_ECORRUPT, JS_EINVALID (bad options, a
 * malformed remote address, a backend this library lacks), JS_ENOMEM;
 * *out as the conventions above say. */
JS_API int js_index_open_ext(js_index **out, const char *dir,
                             const js_open_options *opts);

/* The backend of an open index (NATIVE or XAPIAN). */
JS_API js_backend js_index_backend(const js_index *ix);

/* Reads the whole index into memory now: the page cache and this
 * process's page tables (Linux MADV_POPULATE_READ), so that the first
 * searches wait neither for the disk nor for page faults.  For processes
 * that answer many queries; it takes about 15 ms for a 240 MB native
 * index already in the page cache, and longer from disk.  The memory
 * stays the kernel's page cache, shared, and reclaimable.  A Xapian
 * index has nothing to preload (0).  Returns 0, or JS_EIO (a page cannot
 * be read), or JS_EINVALID for a NULL ix. */
JS_API int js_index_preload(js_index *ix);

/* Sets how much memory (MiB) the process may keep of inflated stored
 * text, shared by every open native index: a hit's snippet reads its
 * section from a compressed block of about 64 KiB, and a process that
 * answers many searches meets the same blocks again.  Least recently
 * used blocks go first; 0 keeps none.  The default is 64, or
 * $JIANSUO_STORE_CACHE_MIB when set.  Returns the limit before. */
JS_API size_t js_cache_set_limit(size_t mib);

/* Moves ix to the index's newest committed generation, if it is not
 * there yet.  Searches already running on other threads finish on the
 * snapshot they started with; results already returned stay valid.
 * Returns 1 when ix moved, 0 when it was already the newest, or a
 * negative JS_E* code (ix then still serves its old snapshot). */
JS_API int js_index_refresh(js_index *ix);

/* Frees the handle; NULL is fine. */
JS_API void js_index_close(js_index *ix);

/* Returns the message of the last failed call on ix ("" if none). */
JS_API const char *js_index_errmsg(const js_index *ix);

/* One database of a Xapian index. */
typedef struct js_index_shard {
    uint64_t sections;     /* documents in the shard, read from Xapian */
    uint64_t total_length; /* sum of its documents' lengths */
    uint64_t bytes;        /* bytes of its files on disk (0: remote) */
} js_index_shard;

/* One segment of a native index (a live index has several; an index
 * built once and never changed has one). */
typedef struct js_index_segment {
    const char *name;      /* its file in the index directory */
    uint64_t sections;     /* sections it holds, deleted ones too */
    uint64_t deleted;      /* of those, deleted */
    uint64_t documents;    /* documents it holds, deleted ones too */
    uint64_t bytes;        /* its file's size, with its deletion set */
} js_index_segment;

typedef struct js_index_stats {
    uint32_t format_version; /* of the backend's own format */
    uint64_t documents, sections, terms, postings, positions;
    uint64_t body_units, heading_units; /* native: positions used, all
                                           sections */
    uint64_t source_bytes, text_bytes;
    uint32_t block_size;         /* native */
    unsigned analyze_flags;
    uint64_t file_bytes;         /* the whole index on disk */
    uint64_t part_bytes[16];     /* native: by part id 1..JS_INDEX_PARTS,
                                    see js_index_part_name */
    const char *build_info;      /* JSON object text, owned by ix */
    js_backend backend;
    unsigned shards;             /* Xapian: databases; native: 1 */
    const js_index_shard *shard; /* Xapian: [shards], owned by ix; native:
                                    NULL */
    uint64_t total_length;       /* Xapian: sum of document lengths
                                    (Xapian's); native: 0 */
    /* native: documents and sections above count live ones only */
    uint64_t generation;         /* a live index's commit count; 0 for an
                                    index built once */
    unsigned segments;           /* native: 1 or more; Xapian: 0 */
    const js_index_segment *segment; /* native: [segments], owned by ix,
                                        valid until its next refresh */
    uint64_t deleted_sections;   /* native: held but deleted */
} js_index_stats;

/* Fills *out (pointers owned by ix, valid until its close).  Returns 0,
 * or JS_EINVALID for a NULL argument. */
JS_API int js_index_get_stats(const js_index *ix, js_index_stats *out);

/* The parts of a native index file (index/FORMAT.md). */
#define JS_INDEX_PARTS 12

/* Returns the name of part id 1..JS_INDEX_PARTS ("stats", "documents",
 * "sections", "store", "store index", "lexicon", "lexicon index",
 * "postings", "headings", "champions", "postings crc", "keys"). */
JS_API const char *js_index_part_name(unsigned id);

/* Verifies the whole index and names the first problem.  Native: every
 * checksum and structural invariant (sorted lexicon, increasing ids,
 * positions within section lengths, counts that agree).  Xapian:
 * Xapian's own check of every shard, then info.json against the shards
 * (sections, total length, docids without holes); a remote index
 * cannot be checked (JS_EINVALID).  Returns 0, or JS_ECORRUPT with
 * js_index_errmsg naming the problem, or JS_EIO, JS_ENOMEM. */
JS_API int js_index_check(js_index *ix);


/* ---------------------------------------------------------------------
 * Searching: query -> ranked sections
 *
 * The query language (README "The query language", man jiansuo):
 * parts separated by spaces are ANDed; a part matches only where its
 * characters stand together (a CJK run is a chain of adjacent bigrams);
 * "..." is an exact phrase; OR
 * between parts; -part excludes; ( ) group; title:part matches headings
 * and document titles only.  The query passes through the same text
 * pipeline as the documents, so Simplified finds Traditional.
 *
 * Sections are ranked by BM25F (a part counts as one unit; a match in a
 * heading weighs heading_weight times a body match), ties broken by
 * section id.  When the strict query matches fewer sections than asked
 * for, sections holding enough of the query's bigrams follow, marked
 * partial.
 *
 * Both backends run the same query language.  On a Xapian index strict
 * matches are the native engine's, except that a phrase spanning a
 * separator ("工匠 学院" in quotes) also matches where its sides stand
 * closer; scores are Xapian's BM25 (doc/ARCHITECTURE.md, "src/xapian/").
 *
 * Thread safety: js_search may be called from many threads at once on
 * one js_index; each call's js_results belongs to its caller.  On a
 * native index the searches run in parallel; on a Xapian index they run
 * one at a time (a Xapian database handle is not thread-safe, so the
 * handle holds a mutex): threads that must search a Xapian index in
 * parallel open one js_index each.
 * ------------------------------------------------------------------- */

enum {
    JS_SEARCH_NO_SNIPPET = 1u << 0, /* skip snippets (faster) */
    JS_SEARCH_NO_PARTIAL = 1u << 1, /* strict matches only */
    JS_SEARCH_EXACT_TOTAL = 1u << 2, /* count every match (slower) */
    JS_SEARCH_NO_CHAMPIONS = 1u << 3 /* rank a one-term query by walking
                                        its postings, not by the list the
                                        index keeps (same hits; tests) */
};

typedef struct js_search_options {
    unsigned version;        /* JS_SEARCH_OPTIONS_VERSION */
    uint32_t limit;          /* hits to return (0: none, only the total) */
    uint32_t offset;         /* best hits to skip (paging) */
    unsigned flags;          /* JS_SEARCH_* */
    double k1, b;            /* BM25; defaults 1.2 and 0.75 */
    double heading_weight;   /* default 2.0 */
    uint32_t snippet_chars;  /* about this many characters; default 80 */
} js_search_options;

#define JS_SEARCH_OPTIONS_VERSION 1
#define JS_SEARCH_OPTIONS_INIT {JS_SEARCH_OPTIONS_VERSION, 10, 0, 0, 1.2, 0.75, 2.0, 80}
/* Largest offset + limit. */
#define JS_SEARCH_MAX_HITS 100000u

typedef struct js_hit {
    uint32_t section;          /* section id in the index */
    uint32_t ordinal;          /* the section's number in its document */
    double score;
    int partial;               /* 1: holds only some of the query's bigrams */
    const char *source;        /* document: file it came from */
    const char *title;         /* document title ("" if none) */
    const char *format, *encoding;
    const char *id;            /* JSON Lines record id ("" if none) */
    const char *metadata;      /* JSON object text ("" if none) */
    const char *const *headings; /* heading path, outermost first */
    size_t depth;              /* entries in headings */
    uint64_t start, end;       /* byte range in the document's text */
    const char *snippet;       /* excerpt, UTF-8 ("" with NO_SNIPPET) */
    size_t snippet_len;
    const size_t *highlights;  /* nhighlights pairs: [start, end) bytes
                                * of snippet that matched */
    size_t nhighlights;
} js_hit;

typedef struct js_results js_results;

/* Runs query[0..len) on ix.  Returns 0 and *out, or JS_EINVALID (a query
 * without searchable terms, or an impossible one; see the message),
 * JS_ELIMIT (a query over 4096 bytes or nested too deep), JS_ECORRUPT,
 * JS_ENOMEM, or JS_EIO (a remote Xapian server lost).  On failure *out
 * is set when memory allows, to results whose js_results_errmsg
 * explains (free them either way). */
JS_API int js_search(js_results **out, js_index *ix, const char *query,
                     size_t len, const js_search_options *opts);

/* Hits returned (at most limit). */
JS_API size_t js_results_count(const js_results *r);

/* Hit i (0-based, best first), or NULL when i is out of range.  Valid
 * until js_results_free. */
JS_API const js_hit *js_results_hit(const js_results *r, size_t i);

/* Sections the strict query matches (partial hits not counted); *exact
 * (may be NULL) gets 1 when every match was counted, 0 when the figure
 * is an estimate (top-k search skipped blocks that could not rank). */
JS_API uint64_t js_results_total(const js_results *r, int *exact);

/* The parsed query in a compact form, e.g. (AND "工匠@0 学院@2" "x@0"). */
JS_API const char *js_results_query(const js_results *r);

/* The message of a failed js_search ("" if none). */
JS_API const char *js_results_errmsg(const js_results *r);

/* Frees results; NULL is fine. */
JS_API void js_results_free(js_results *r);

#ifdef __cplusplus
}
#endif

#endif /* JIANSUO_H */
