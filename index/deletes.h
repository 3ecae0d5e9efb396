/*
 * deletes.h — a segment's deletion set: which of its sections are
 * deleted, as a bitmap over its section ids, in an immutable file of its
 * own (format: index/FORMAT.md, "Live indexes: segments, deletion sets
 * and the manifest").
 *
 * In (writer): a segment's section count, then the ids to delete (on a
 *      new set, or on a copy of the last generation's).
 * Out: DIR/NAME (e.g. seg-000001.del-7), published atomically like the
 *      manifest.
 * In (reader): that file's untrusted bytes and the section count the
 *      manifest gives for the segment.
 * Out: the set, every byte checked, to test ids against in O(1); or
 *      JS_ENOTFOUND / JS_ECORRUPT / JS_EVERSION with a message.
 *
 * A set once read or published is never changed, so any number of
 * threads may test it at once without locking; a writer changes only a
 * set of its own (new, or a copy) before writing it under a new name.
 */
#ifndef JS_DELETES_H
#define JS_DELETES_H

#include <stddef.h>
#include <stdint.h>

#define JS_DELETES_VERSION 1

typedef struct js_deletes {
    uint32_t nsections; /* the segment's section count: ids 0..nsections-1 */
    uint32_t count;     /* bits set */
    uint8_t *bits;      /* ceil(nsections / 8) bytes: bit id % 8 of byte
                         * id / 8 is set when section id is deleted */
    uint8_t *mem;       /* what to free (bits may point inside it) */
} js_deletes;

/* A set over nsections sections, none deleted.  Returns 0 and *out, or
 * JS_ENOMEM. */
int js_deletes_new(js_deletes **out, uint32_t nsections);

/* A copy of d to change (the next generation's set).  Returns 0 and
 * *out, or JS_ENOMEM. */
int js_deletes_copy(js_deletes **out, const js_deletes *d);

/* Frees d; NULL is fine. */
void js_deletes_free(js_deletes *d);

/* Marks section id deleted.  Returns 1 when it was not yet, 0 when it
 * was, JS_EINVALID when id >= d->nsections. */
int js_deletes_set(js_deletes *d, uint32_t id);

/* Whether section id is deleted: 0 or 1.  A NULL set (a segment without
 * deletions) and an id out of range give 0.  Reads only. */
static inline int js_deletes_test(const js_deletes *d, uint32_t id)
{
    return d && id < d->nsections && (d->bits[id >> 3] >> (id & 7) & 1);
}

/* The first deleted section id >= from, or UINT32_MAX when none is
 * (and for a NULL set): for walking the deleted ids without testing
 * every live one.  Reads only. */
uint32_t js_deletes_next(const js_deletes *d, uint32_t from);

/* Returns the number of deleted sections (0 for NULL). */
static inline uint32_t js_deletes_count(const js_deletes *d)
{
    return d ? d->count : 0;
}

/* Writes d as dir/name, atomically and durably (js_file_put).  The
 * caller holds dir's lock, and name is new: a published set is never
 * replaced, since readers of the last manifest may be reading it.
 * Returns 0, JS_EINVALID for a bad name (js_file_name_check), JS_ENOMEM
 * or JS_EIO, message in err. */
int js_deletes_write(const char *dir, const char *name, const js_deletes *d,
                     char *err, size_t errlen);

/* Reads dir/name, the set of a segment of nsections sections.  Returns 0
 * and *out (free it with js_deletes_free), or JS_ENOTFOUND, JS_ECORRUPT
 * (the message names the damage and its byte offset; a set for another
 * section count is corrupt), JS_EVERSION, JS_EINVALID (a bad name), JS_EIO
 * or JS_ENOMEM, message in err.  The caller compares (*out)->count with
 * the manifest's count of deleted sections. */
int js_deletes_read(const char *dir, const char *name, uint32_t nsections,
                    js_deletes **out, char *err, size_t errlen);

#endif /* JS_DELETES_H */
