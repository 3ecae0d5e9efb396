/*
 * file.h — the index file as a container of parts, and its directory
 * (format: index/FORMAT.md, "The index directory" and "The file").
 *
 * In (writer): parts' bytes, streamed in any order, each under its id.
 * Out: index.jsi.tmp-PID with header, parts, table of contents and
 *      trailer, then published atomically as index.jsi.
 * In (reader): the directory of an index.
 * Out: the file memory-mapped, its header, trailer and table of contents
 *      checked, and each part as a (pointer, length) pair; small parts'
 *      checksums checked on open, any part's on request.
 * And for the small files of a live index (manifest.h, deletes.h): bytes
 * in, a file published the same atomic way out; a file's bytes read
 * whole; the rule for the names a manifest may give.
 */
#ifndef JS_FILE_H
#define JS_FILE_H

#include <stddef.h>
#include <stdint.h>

#define JS_FORMAT_VERSION 7
#define JS_INDEX_FILE "index.jsi"

enum {
    JS_PART_STATS = 1,
    JS_PART_DOCUMENTS = 2,
    JS_PART_SECTIONS = 3,
    JS_PART_STORE = 4,
    JS_PART_STORE_INDEX = 5,
    JS_PART_LEXICON = 6,
    JS_PART_LEXICON_INDEX = 7,
    JS_PART_POSTINGS = 8,
    JS_PART_HEADINGS = 9,
    JS_PART_CHAMPIONS = 10,
    JS_PART_POSTINGS_CRC = 11,
    JS_PART_KEYS = 12,
    JS_PART_MAX = 12
};

/* Returns the name of a part id ("stats", "postings", ...), or "?". */
const char *js_part_name(uint32_t id);

/* Test hook for a full disk: with JIANSUO_TEST_ENOSPC_AFTER=BYTES in the
 * environment, once BYTES have been written in all (index file, spools,
 * sorted runs), every write fails with ENOSPC.  Called before each write
 * of n bytes: returns 0, or -1 with errno ENOSPC.  Without the variable
 * it costs one atomic load. */
int js_test_write_check(size_t n);

/* ---- the directory ---- */

/* Creates dir (and its parents) if needed, takes the builder lock on
 * dir/lock (without waiting) and writes this process's id into it (so
 * that a writer refused says "index is locked by process N"), and
 * deletes what interrupted writers left (*.tmp-* files, runs-*
 * directories).  Returns the lock's
 * file descriptor (>= 0; close it to release), or JS_EBUSY (another
 * process holds it), or another negative JS_E* code, with a message in
 * err. */
int js_dir_lock(const char *dir, char *err, size_t errlen);

/* js_dir_lock, but with wait 1 it waits for the holder to release the
 * lock instead of failing with JS_EBUSY. */
int js_dir_lock_wait(const char *dir, int wait, char *err, size_t errlen);

/* ---- writing ---- */

typedef struct js_file_writer js_file_writer;

/* Creates dir/index.jsi.tmp-PID and writes a placeholder header.
 * Returns 0 and *out, or a negative JS_E* code with a message in err. */
int js_file_create(js_file_writer **out, const char *dir, char *err,
                   size_t errlen);

/* js_file_create for dir/name (a segment of a live index), published as
 * dir/name. */
int js_file_create_named(js_file_writer **out, const char *dir,
                         const char *name, char *err, size_t errlen);

/* Starts part `id` (1..JS_PART_MAX, each once) at the current end of the
 * file; the bytes written until js_file_end_part belong to it.  Returns 0
 * or JS_EINVALID. */
int js_file_begin_part(js_file_writer *w, uint32_t id);

/* Appends n bytes to the current part.  Returns 0 or JS_EIO (message in
 * js_file_errmsg). */
int js_file_write(js_file_writer *w, const void *p, size_t n);

/* Ends the current part.  Returns 0 or JS_EINVALID. */
int js_file_end_part(js_file_writer *w);

/* Returns the length of part id written so far (0 if none). */
uint64_t js_file_part_length(const js_file_writer *w, uint32_t id);

/* Returns the bytes written so far (the file's current length). */
uint64_t js_file_length(const js_file_writer *w);

/* Writes the table of contents, trailer and real header, fsyncs, renames
 * the file to dir/index.jsi and fsyncs dir.  Returns 0 or JS_EIO.  Frees
 * the writer either way (on failure the temporary file is removed). */
int js_file_publish(js_file_writer *w, char *err, size_t errlen);

/* Removes the temporary file and frees the writer; NULL is fine. */
void js_file_abort(js_file_writer *w);

/* Returns the last error message of the writer. */
const char *js_file_errmsg(const js_file_writer *w);

/* ---- small whole files (the manifest, deletion sets) ---- */

/* The longest name of a file the manifest can name. */
#define JS_FILE_NAME_MAX 64
/* A live index's manifest (index/manifest.h). */
#define JS_MANIFEST_FILE "manifest.jsm"

/* Returns 0 when name may be a segment or deletion-set file of an index
 * directory, else JS_EINVALID: 1 to JS_FILE_NAME_MAX bytes of
 * [A-Za-z0-9._-], not starting with a dot (no "..", no hidden files, no
 * '/'), not "lock" or JS_MANIFEST_FILE, and without ".tmp-" (the mark of
 * a temporary file, which a writer holding the lock deletes). */
int js_file_name_check(const char *name);

/* Publishes n bytes as dir/name, durably: writes dir/name.tmp-PID
 * (through js_test_write_check, so the full-disk hook reaches it), fsyncs
 * it, renames it over dir/name and fsyncs dir.  A reader opening
 * dir/name sees the old file or the new one, never a mix.  Returns 0, or
 * JS_EIO with a message in err (the temporary file is removed). */
int js_file_put(const char *dir, const char *name, const void *p, size_t n,
                char *err, size_t errlen);

/* Reads dir/name whole, up to max + 1 bytes (so that a caller that knows
 * the longest valid length sees a longer file as such).  Returns 0 with
 * *out (malloc'ed, the caller frees) and *len, or JS_ENOTFOUND (no such
 * file), JS_EIO or JS_ENOMEM with a message in err. */
int js_file_slurp(const char *dir, const char *name, size_t max,
                  uint8_t **out, size_t *len, char *err, size_t errlen);

/* ---- reading ---- */

typedef struct js_part {
    const uint8_t *p;
    uint64_t len;
    uint32_t crc;
    int present;
} js_part;

typedef struct js_file {
    void *map;
    size_t size;
    uint32_t version;
    js_part parts[JS_PART_MAX + 1];
} js_file;

/* Opens and maps dir/index.jsi and checks its header, trailer, table of
 * contents and the checksums of the small parts.  Returns 0, JS_ENOTFOUND
 * (no index there), JS_EIO, JS_EVERSION, JS_ECORRUPT (message in err
 * names the part), or JS_ENOMEM. */
int js_file_open(js_file *f, const char *dir, char *err, size_t errlen);

/* js_file_open of dir/name (a segment of a live index). */
int js_file_open_named(js_file *f, const char *dir, const char *name,
                       char *err, size_t errlen);

/* Checks the whole-part checksum of part id.  Returns 0 or JS_ECORRUPT. */
int js_file_verify_part(const js_file *f, uint32_t id);

/* Reads the whole mapped file into the page cache and maps every page
 * now (MADV_POPULATE_READ, else a read of each page), so that later reads
 * take no page fault.  Returns 0, or JS_EIO when the kernel cannot read
 * some page of the file. */
int js_file_preload(const js_file *f);

/* Unmaps the file; a zeroed js_file is fine. */
void js_file_close(js_file *f);

#endif /* JS_FILE_H */
