/*
 * manifest.h — the manifest of a live index: which segments, with which
 * deletion sets, make up one generation of it (format: index/FORMAT.md,
 * "Live indexes: segments, deletion sets and the manifest").
 *
 * In (writer): a manifest built in memory (or read and then changed):
 *      its generation, the next segment number, the segments in order,
 *      each with its section and document counts and its deletion set.
 * Out: DIR/manifest.jsm, published atomically (temporary file, fsync,
 *      rename, fsync of the directory).
 * In (reader): DIR/manifest.jsm's bytes, untrusted.
 * Out: the manifest in memory, every length, count and name checked, or
 *      JS_ENOTFOUND / JS_ECORRUPT (naming the damage and its byte
 *      offset) / JS_EVERSION; and the list of the files it names, for the
 *      cleanup of the files no manifest names any more.
 *
 * A manifest is a snapshot: a reader reads one and keeps it; the one
 * writer (holding js_dir_lock) reads the current one, changes its own
 * copy, increases the generation and writes it.  Nothing here takes the
 * lock or opens a segment: that is the caller's.
 */
#ifndef JS_MANIFEST_H
#define JS_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "file.h" /* JS_FILE_NAME_MAX, JS_MANIFEST_FILE */

#define JS_MANIFEST_VERSION 1

typedef struct js_manifest_segment {
    char name[JS_FILE_NAME_MAX + 1];    /* the segment file, e.g. seg-000001.jsi */
    uint32_t sections;                  /* its section count (ids 0..sections-1) */
    uint32_t documents;                 /* its document count, <= sections */
    char deletes[JS_FILE_NAME_MAX + 1]; /* its deletion set's file, "" for none */
    uint32_t deleted;                   /* sections that set marks deleted; 0 without one */
} js_manifest_segment;

typedef struct js_manifest {
    uint64_t generation;   /* +1 per published manifest; 0 in a new one */
    uint64_t next_segment; /* the number js_manifest_new_segment hands out next */
    size_t nsegments;
    js_manifest_segment *segments; /* in order: a segment's sections come
                                    * after those of the segments before it */
    size_t cap;
} js_manifest;

/* A new, empty manifest: generation 0, next segment 1, no segments.
 * Returns 0 and *out, or JS_ENOMEM. */
int js_manifest_new(js_manifest **out);

/* Frees m; NULL is fine. */
void js_manifest_free(js_manifest *m);

/* Returns the index of the segment called name, or -1. */
long js_manifest_find(const js_manifest *m, const char *name);

/* Writes the next segment name, "seg-NNNNNN.jsi" (at least six digits)
 * from m->next_segment, into out and increases m->next_segment, so that
 * no name is handed out twice in the life of the index. */
void js_manifest_new_segment(js_manifest *m, char out[JS_FILE_NAME_MAX + 1]);

/* Writes the name of segment's deletion set of the given generation into
 * out: the segment's name without a final ".jsi", then ".del-GEN" (so
 * seg-000001.jsi, 7 gives seg-000001.del-7).  A set is immutable; the
 * generation in its name keeps the old set, which readers of the last
 * manifest may be using, apart from the new one.  Returns 0, or
 * JS_EINVALID when the name would not be a valid one. */
int js_manifest_deletes_name(char out[JS_FILE_NAME_MAX + 1],
                             const char *segment, uint64_t generation);

/* Appends a segment without deletions.  Returns 0, JS_ENOMEM, or
 * JS_EINVALID (message in err) for a bad name (js_file_name_check), a
 * name the manifest already holds, or documents > sections or documents
 * 0 with sections > 0 (a document has at least one section). */
int js_manifest_add_segment(js_manifest *m, const char *name,
                            uint32_t sections, uint32_t documents,
                            char *err, size_t errlen);

/* Removes the segment called name (a merge replaced it): the segments
 * after it move up one place.  Returns 0 or JS_ENOTFOUND. */
int js_manifest_remove_segment(js_manifest *m, const char *name);

/* Gives the segment called segment the deletion set in file deletes
 * marking `deleted` of its sections; deletes NULL or "" (and deleted 0)
 * removes it.  Returns 0, JS_ENOTFOUND (no such segment), or JS_EINVALID
 * (message in err) for a bad or already used name, or deleted above the
 * segment's sections, or a count without a set. */
int js_manifest_set_deletes(js_manifest *m, const char *segment,
                            const char *deletes, uint32_t deleted,
                            char *err, size_t errlen);

/* Writes m as dir/manifest.jsm, atomically and durably (js_file_put).
 * The caller holds dir's lock and has set m->generation to the last
 * one's + 1.  Returns 0, JS_EINVALID (an impossible manifest: it is
 * checked as a reader would), JS_ENOMEM or JS_EIO, message in err. */
int js_manifest_write(const char *dir, const js_manifest *m, char *err,
                      size_t errlen);

/* Reads dir/manifest.jsm.  Returns 0 and *out (free it with
 * js_manifest_free), or JS_ENOTFOUND (no manifest: not a live index),
 * JS_ECORRUPT (the message names the damage and its byte offset),
 * JS_EVERSION, JS_EIO or JS_ENOMEM, message in err. */
int js_manifest_read(const char *dir, js_manifest **out, char *err,
                     size_t errlen);

/* Lists the files m names: each segment, then its deletion set if any,
 * in segment order.  Stores up to cap pointers (into m: valid while m
 * is, unchanged) in names and returns how many there are, so that a
 * call with cap 0 sizes the array. */
size_t js_manifest_files(const js_manifest *m, const char **names,
                         size_t cap);

#endif /* JS_MANIFEST_H */
