/*
 * file.c — the index file container and its directory (see file.h and
 * index/FORMAT.md).
 *
 * In:  parts' bytes (writer); an index directory (reader); a small
 *      file's bytes (the manifest, deletion sets).
 * Out: an atomically published index.jsi; a verified memory map of it;
 *      small files published and read back whole.
 *
 * The writer buffers 1 MiB at a time and keeps a running crc32 per part,
 * so parts can be streamed (the store while ingesting, the postings while
 * merging) without holding them in memory.  Publication is write to a
 * temporary name, fsync, rename, fsync the directory: after a crash at
 * any point the directory holds the old index or the new one.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "codec.h" /* js_crc32 */
#include "error.h"
#include "file.h"
#include "jiansuo.h"

static const uint8_t MAGIC[8] = {0x4A, 0x53, 0x49, 0x58, 0x0D, 0x0A, 0x1A, 0x0A};
static const uint8_t END_MAGIC[8] = {0x4A, 0x53, 0x49, 0x58, 0x45, 0x4E, 0x44, 0x0A};
#define HEADER_SIZE 32
#define TRAILER_SIZE 16
#define WBUF (1u << 20)

static const char *const part_names[] = {
    "?",     "stats",   "documents",     "sections", "store",
    "store index", "lexicon", "lexicon index", "postings", "headings",
    "champions", "postings crc", "keys",
};

const char *js_part_name(uint32_t id)
{
    return id <= JS_PART_MAX ? part_names[id] : "?";
}

/* The message into the caller's err[0..n) (error.h); the code is the
 * caller's to return. */
#define fmt_err(err, n, ...) ((void)js_error_set((err), (n), 0, __VA_ARGS__))

/* Bytes the test hook still lets through: -2 before the environment was
 * read, -1 for no limit (see file.h). */
static _Atomic long long write_room = -2;

int js_test_write_check(size_t n)
{
    long long room = atomic_load_explicit(&write_room, memory_order_relaxed);
    if (room == -2) {
        const char *e = getenv("JIANSUO_TEST_ENOSPC_AFTER");
        long long v = e && *e ? strtoll(e, NULL, 10) : -1;
        room = v < 0 ? -1 : v;
        long long unread = -2;
        if (!atomic_compare_exchange_strong(&write_room, &unread, room))
            room = unread; /* another thread read it first */
    }
    if (room == -1)
        return 0;
    /* Take n bytes of the room; a write that does not fit fails whole. */
    while (room >= 0) {
        if ((unsigned long long)room < n) {
            errno = ENOSPC;
            return -1;
        }
        if (atomic_compare_exchange_weak(&write_room, &room,
                                         room - (long long)n))
            return 0;
    }
    return 0;
}

/* mkdir -p.  Returns 0 or -1 with errno set. */
static int make_dirs(const char *dir)
{
    char *p = strdup(dir);
    if (!p)
        return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0755) != 0 && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

/* Removes a directory of run files (one level deep). */
static void remove_run_dir(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        char f[4096];
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            fmt_err(f, sizeof f, "%s/%s", path, de->d_name);
            unlink(f);
        }
        closedir(d);
    }
    rmdir(path);
}

char *js_index_default_dir(void)
{
    const char *e = getenv("JIANSUO_INDEX");
    if (e && *e)
        return strdup(e);
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    char buf[4096];
    if (xdg && *xdg)
        snprintf(buf, sizeof buf, "%s/jiansuo/index", xdg);
    else if (home && *home)
        snprintf(buf, sizeof buf, "%s/.local/share/jiansuo/index", home);
    else
        return NULL;
    return strdup(buf);
}

int js_dir_lock(const char *dir, char *err, size_t errlen)
{
    return js_dir_lock_wait(dir, 0, err, errlen);
}

int js_dir_lock_wait(const char *dir, int wait, char *err, size_t errlen)
{
    if (make_dirs(dir) != 0) {
        int e = errno;
        fmt_err(err, errlen, "%s: cannot create the index directory: %s",
                dir, strerror(e));
        return e == ENOMEM ? JS_ENOMEM : JS_EIO;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fmt_err(err, errlen, "%s: %s", path, strerror(errno));
        return JS_EIO;
    }
    if (flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        /* the holder wrote its process id into the file (below); read
         * untrusted: a number, or nothing to say */
        char buf[24] = {0};
        ssize_t n = e == EWOULDBLOCK ? pread(fd, buf, sizeof buf - 1, 0) : -1;
        long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
        close(fd);
        if (e == EWOULDBLOCK && pid > 0)
            fmt_err(err, errlen, "%s: index is locked by process %ld "
                    "(another jiansuo writer is using it; --wait waits for it)",
                    dir, pid);
        else if (e == EWOULDBLOCK)
            fmt_err(err, errlen,
                    "%s: another jiansuo writer is using this index", dir);
        else
            fmt_err(err, errlen, "%s: cannot lock: %s", path, strerror(e));
        return e == EWOULDBLOCK ? JS_EBUSY : JS_EIO;
    }
    /* Who holds the lock, for the message above; a failure to say so
     * costs only that message. */
    char pid[24];
    int np = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)np, 0) != np) {
        /* nothing: the lock itself is what matters */
    }
    /* We hold the lock: whatever temporary files are here belong to
     * writers that died (NAME.tmp-PID, a name no index file may have:
     * js_file_name_check), and so do sorted runs.  A Xapian build's
     * temporary directory is not a file (unlink leaves it): its builder
     * removes it. */
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            if (strstr(de->d_name, ".tmp-"))
                unlink(p);
            else if (!strncmp(de->d_name, "runs-", 5))
                remove_run_dir(p);
        }
        closedir(d);
    }
    return fd;
}

/* ---- writer ---- */

struct js_file_writer {
    int fd;
    char *dir, *name, *tmp;
    uint8_t *buf;
    size_t blen;
    uint64_t off; /* bytes handed to js_file_write so far, header included */
    int cur;      /* current part id, 0 when none */
    struct {
        uint64_t off, len;
        uint32_t crc;
        int done;
    } parts[JS_PART_MAX + 1];
    char err[512];
};

const char *js_file_errmsg(const js_file_writer *w) { return w->err; }
uint64_t js_file_length(const js_file_writer *w) { return w->off; }

uint64_t js_file_part_length(const js_file_writer *w, uint32_t id)
{
    return id >= 1 && id <= JS_PART_MAX ? w->parts[id].len : 0;
}

/* Writes all of p[0..n) at the current position of fd. */
static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *s = p;
    if (js_test_write_check(n))
        return -1;
    while (n) {
        ssize_t r = write(fd, s, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        s += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Makes the temporary file fd (named tmp) the file final, durably:
 * fsync, rename, fsync the directory dir.  After a crash at any point
 * dir holds the old final or the new one, whole.  Returns 0, or JS_EIO
 * with a message in msg (fd stays open either way: the caller closes it
 * and, on failure, removes tmp). */
static int sync_rename(int fd, const char *tmp, const char *dir,
                       const char *final, char *msg, size_t msglen)
{
    if (fsync(fd) != 0) {
        fmt_err(msg, msglen, "%s: fsync failed: %s", tmp, strerror(errno));
        return JS_EIO;
    }
    if (rename(tmp, final) != 0) {
        fmt_err(msg, msglen, "%s: cannot rename to %s: %s", tmp, final,
                strerror(errno));
        return JS_EIO;
    }
    /* The rename is durable once the directory is synced. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

static int flush_buf(js_file_writer *w)
{
    if (w->blen && write_all(w->fd, w->buf, w->blen) != 0) {
        snprintf(w->err, sizeof w->err, "%s: write failed: %s", w->tmp,
                 strerror(errno));
        return JS_EIO;
    }
    w->blen = 0;
    return 0;
}

/* Appends raw bytes (any part or none) to the file. */
static int put_raw(js_file_writer *w, const void *p, size_t n)
{
    const uint8_t *s = p;
    w->off += n;
    while (n) {
        size_t k = WBUF - w->blen;
        if (k > n)
            k = n;
        memcpy(w->buf + w->blen, s, k);
        w->blen += k;
        s += k;
        n -= k;
        if (w->blen == WBUF && flush_buf(w))
            return JS_EIO;
    }
    return 0;
}

int js_file_create(js_file_writer **out, const char *dir, char *err,
                   size_t errlen)
{
    return js_file_create_named(out, dir, JS_INDEX_FILE, err, errlen);
}

int js_file_create_named(js_file_writer **out, const char *dir,
                         const char *name, char *err, size_t errlen)
{
    js_file_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->buf = malloc(WBUF)) || !(w->dir = strdup(dir)) ||
        !(w->name = strdup(name))) {
        if (w) {
            free(w->buf);
            free(w->dir);
        }
        free(w);
        fmt_err(err, errlen, "out of memory");
        return JS_ENOMEM;
    }
    size_t n = strlen(dir) + strlen(name) + 32;
    if (!(w->tmp = malloc(n))) {
        free(w->name);
        free(w->dir);
        free(w->buf);
        free(w);
        fmt_err(err, errlen, "out of memory");
        return JS_ENOMEM;
    }
    snprintf(w->tmp, n, "%s/%s.tmp-%ld", dir, name, (long)getpid());
    w->fd = open(w->tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        fmt_err(err, errlen, "%s: %s", w->tmp, strerror(errno));
        free(w->tmp);
        free(w->name);
        free(w->dir);
        free(w->buf);
        free(w);
        return JS_EIO;
    }
    uint8_t zero[HEADER_SIZE] = {0};
    put_raw(w, zero, sizeof zero); /* the real header comes last */
    *out = w;
    return 0;
}

int js_file_begin_part(js_file_writer *w, uint32_t id)
{
    if (w->cur || id < 1 || id > JS_PART_MAX || w->parts[id].done)
        return JS_EINVALID;
    w->cur = (int)id;
    w->parts[id].off = w->off;
    w->parts[id].len = 0;
    w->parts[id].crc = 0;
    return 0;
}

int js_file_write(js_file_writer *w, const void *p, size_t n)
{
    if (!w->cur)
        return JS_EINVALID;
    w->parts[w->cur].crc = js_crc32_more(w->parts[w->cur].crc, p, n);
    w->parts[w->cur].len += n;
    return put_raw(w, p, n);
}

int js_file_end_part(js_file_writer *w)
{
    if (!w->cur)
        return JS_EINVALID;
    w->parts[w->cur].done = 1;
    w->cur = 0;
    return 0;
}

static void free_writer(js_file_writer *w)
{
    free(w->buf);
    free(w->dir);
    free(w->name);
    free(w->tmp);
    free(w);
}

void js_file_abort(js_file_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0) {
        close(w->fd);
        unlink(w->tmp);
    }
    free_writer(w);
}

int js_file_publish(js_file_writer *w, char *err, size_t errlen)
{
    if (w->cur) {
        fmt_err(err, errlen, "internal error: part %d not ended", w->cur);
        js_file_abort(w);
        return JS_EINVALID;
    }
    js_buf toc = JS_BUF_INIT;
    uint32_t n = 0;
    for (uint32_t id = 1; id <= JS_PART_MAX; id++)
        n += w->parts[id].done;
    uint64_t toc_off = w->off;
    js_buf_u32(&toc, n);
    for (uint32_t id = 1; id <= JS_PART_MAX; id++) {
        if (!w->parts[id].done)
            continue;
        js_buf_u32(&toc, id);
        js_buf_u32(&toc, w->parts[id].crc);
        js_buf_u64(&toc, w->parts[id].off);
        js_buf_u64(&toc, w->parts[id].len);
    }
    js_buf_u32(&toc, toc.oom ? 0 : js_crc32(toc.p, toc.len));
    js_buf_u64(&toc, toc_off);
    js_buf_put(&toc, END_MAGIC, 8);
    if (toc.oom) {
        js_buf_free(&toc);
        js_file_abort(w);
        fmt_err(err, errlen, "out of memory");
        return JS_ENOMEM;
    }
    int rc = put_raw(w, toc.p, toc.len);
    js_buf_free(&toc);
    if (!rc)
        rc = flush_buf(w);
    if (!rc) {
        js_buf h = JS_BUF_INIT;
        js_buf_put(&h, MAGIC, 8);
        js_buf_u32(&h, JS_FORMAT_VERSION);
        js_buf_u32(&h, 0);
        js_buf_u64(&h, w->off);
        js_buf_u32(&h, 0);
        js_buf_u32(&h, h.oom ? 0 : js_crc32(h.p, 28));
        if (h.oom) {
            snprintf(w->err, sizeof w->err, "out of memory");
            rc = JS_ENOMEM;
        } else if (js_test_write_check(HEADER_SIZE) ||
                   pwrite(w->fd, h.p, HEADER_SIZE, 0) != HEADER_SIZE) {
            snprintf(w->err, sizeof w->err, "%s: write failed: %s", w->tmp,
                     strerror(errno));
            rc = JS_EIO;
        }
        js_buf_free(&h);
    }
    if (!rc) {
        char final[4096];
        snprintf(final, sizeof final, "%s/%s", w->dir, w->name);
        rc = sync_rename(w->fd, w->tmp, w->dir, final, w->err, sizeof w->err);
        if (!rc) {
            close(w->fd);
            w->fd = -1;
        }
    }
    if (rc) {
        fmt_err(err, errlen, "%s", w->err);
        js_file_abort(w);
        return rc;
    }
    free_writer(w);
    return 0;
}

/* ---- small whole files (the manifest, deletion sets) ---- */

int js_file_name_check(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > JS_FILE_NAME_MAX || name[0] == '.')
        return JS_EINVALID;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return JS_EINVALID;
    }
    /* The directory's own names, and temporaries, which a writer holding
     * the lock may delete as leftovers. */
    if (!strcmp(name, "lock") || !strcmp(name, JS_MANIFEST_FILE) ||
        strstr(name, ".tmp-"))
        return JS_EINVALID;
    return 0;
}

int js_file_put(const char *dir, const char *name, const void *p, size_t n,
                char *err, size_t errlen)
{
    char tmp[4096], final[4096];
    snprintf(final, sizeof final, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/%s.tmp-%ld", dir, name, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fmt_err(err, errlen, "%s: %s", tmp, strerror(errno));
        return JS_EIO;
    }
    int rc = 0;
    if (write_all(fd, p, n) != 0) {
        fmt_err(err, errlen, "%s: write failed: %s", tmp, strerror(errno));
        rc = JS_EIO;
    }
    if (!rc)
        rc = sync_rename(fd, tmp, dir, final, err, errlen);
    close(fd);
    if (rc)
        unlink(tmp);
    return rc;
}

int js_file_slurp(const char *dir, const char *name, size_t max,
                  uint8_t **out, size_t *len, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        fmt_err(err, errlen, "%s: %s", path, strerror(e));
        return e == ENOENT ? JS_ENOTFOUND : JS_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        fmt_err(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return JS_EIO;
    }
    /* Read one byte more than max so that the caller sees a file that is
     * too long; a file that changed size under us is read as it is now
     * (the files read so are replaced by rename, never rewritten). */
    size_t want = max;
    if ((uint64_t)st.st_size < (uint64_t)max)
        want = (size_t)st.st_size;
    if (want < SIZE_MAX)
        want++;
    uint8_t *p = malloc(want);
    if (!p) {
        fmt_err(err, errlen, "out of memory");
        close(fd);
        return JS_ENOMEM;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t r = read(fd, p + got, want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            fmt_err(err, errlen, "%s: read failed: %s", path, strerror(errno));
            free(p);
            close(fd);
            return JS_EIO;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    *out = p;
    *len = got;
    return 0;
}

/* ---- reader ---- */

int js_file_verify_part(const js_file *f, uint32_t id)
{
    if (id < 1 || id > JS_PART_MAX || !f->parts[id].present)
        return JS_ECORRUPT;
    const js_part *pt = &f->parts[id];
    return js_crc32(pt->p, (size_t)pt->len) == pt->crc ? 0 : JS_ECORRUPT;
}

/* Linux 5.14's MADV_POPULATE_READ, for older C libraries' headers. */
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

int js_file_preload(const js_file *f)
{
    if (!f->map)
        return 0;
    if (madvise(f->map, f->size, MADV_POPULATE_READ) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return JS_EIO; /* EFAULT, EHWPOISON: the file cannot be read */
    /* an older kernel: read ahead, then touch every page */
    madvise(f->map, f->size, MADV_WILLNEED); /* advice: failure is fine */
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        page = 4096;
    const volatile uint8_t *m = f->map;
    uint8_t sum = 0;
    for (size_t i = 0; i < f->size; i += (size_t)page)
        sum ^= m[i];
    (void)sum;
    return 0;
}

void js_file_close(js_file *f)
{
    if (f->map)
        munmap(f->map, f->size);
    memset(f, 0, sizeof *f);
}

/* What js_file_open's phases share: the file being opened, its path for
 * messages, and where the message goes. */
typedef struct {
    js_file *f;
    const char *path;
    char *err;
    size_t errlen;
    uint64_t toc_off, toc_len; /* the table of contents' bytes */
} opener;

/* Writes "PATH: index is corrupt: " and the message.  Returns
 * JS_ECORRUPT. */
static int corrupt(const opener *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int corrupt(const opener *o, const char *fmt, ...)
{
    char prefix[4200];
    snprintf(prefix, sizeof prefix, "%s: index is corrupt: ", o->path);
    va_list ap;
    va_start(ap, fmt);
    js_error_vset(o->err, o->errlen, JS_ECORRUPT, prefix, fmt, ap);
    va_end(ap);
    return JS_ECORRUPT;
}

/* Opens the file and maps it whole.  Returns 0 or a JS_E* code with a
 * message (nothing to close then). */
static int map_file(const opener *o)
{
    js_file *f = o->f;
    int fd = open(o->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        fmt_err(o->err, o->errlen, "%s: %s", o->path,
                e == ENOENT ? "no index here (build one with 'jiansuo index')"
                            : strerror(e));
        return e == ENOENT ? JS_ENOTFOUND : JS_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        fmt_err(o->err, o->errlen, "%s: %s", o->path, strerror(errno));
        close(fd);
        return JS_EIO;
    }
    if ((uint64_t)st.st_size < HEADER_SIZE + TRAILER_SIZE + 8) {
        fmt_err(o->err, o->errlen,
                "%s: index is corrupt: file too short (%lld bytes)", o->path,
                (long long)st.st_size);
        close(fd);
        return JS_ECORRUPT;
    }
    f->size = (size_t)st.st_size;
    f->map = mmap(NULL, f->size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd); /* the mapping keeps the file alive, even after a rename */
    if (f->map == MAP_FAILED) {
        f->map = NULL;
        fmt_err(o->err, o->errlen, "%s: cannot map: %s", o->path,
                strerror(errno));
        return JS_EIO;
    }
    return 0;
}

/* Checks the header: magic number, checksum, format version, length.
 * Sets f->version.  Returns 0 or a JS_E* code with a message. */
static int check_header(const opener *o)
{
    js_file *f = o->f;
    const uint8_t *m = f->map;
    js_rd h = js_rd_make(m, HEADER_SIZE);
    const uint8_t *magic = js_rd_bytes(&h, 8);
    uint32_t version = js_rd_u32(&h);
    js_rd_u32(&h); /* flags */
    uint64_t flen = js_rd_u64(&h);
    js_rd_u32(&h);
    uint32_t hcrc = js_rd_u32(&h);
    if (memcmp(magic, MAGIC, 8))
        return corrupt(o, "not a jiansuo index (bad magic number)");
    if (hcrc != js_crc32(m, 28))
        return corrupt(o, "header checksum mismatch");
    if (version != JS_FORMAT_VERSION) {
        fmt_err(o->err, o->errlen,
                "%s: index format version %u; this jiansuo reads version %u "
                "(rebuild the index)",
                o->path, version, JS_FORMAT_VERSION);
        return JS_EVERSION;
    }
    if (flen != f->size)
        return corrupt(o, "file length differs from the header's (truncated?)");
    f->version = version;
    return 0;
}

/* Finds the table of contents from the trailer and checks its size and
 * checksum; sets o->toc_off and o->toc_len.  Returns 0 or JS_ECORRUPT
 * with a message. */
static int find_toc(opener *o)
{
    const js_file *f = o->f;
    const uint8_t *m = f->map;
    js_rd t = js_rd_make(m + f->size - TRAILER_SIZE, TRAILER_SIZE);
    uint64_t toc_off = js_rd_u64(&t);
    if (memcmp(js_rd_bytes(&t, 8), END_MAGIC, 8))
        return corrupt(o, "bad trailer");
    if (toc_off < HEADER_SIZE || toc_off > f->size - TRAILER_SIZE - 8)
        return corrupt(o, "table of contents out of bounds");
    uint64_t toc_len = f->size - TRAILER_SIZE - toc_off;
    js_rd r = js_rd_make(m + toc_off, toc_len);
    uint32_t n = js_rd_u32(&r);
    if ((uint64_t)n * 24 + 8 != toc_len || n > JS_PART_MAX)
        return corrupt(o, "table of contents has a bad size");
    js_rd c = js_rd_make(m + toc_off + toc_len - 4, 4);
    if (js_crc32(m + toc_off, (size_t)(toc_len - 4)) != js_rd_u32(&c))
        return corrupt(o, "table of contents checksum mismatch");
    o->toc_off = toc_off;
    o->toc_len = toc_len;
    return 0;
}

/* Reads the table of contents' entries into f->parts: ids ascending, each
 * part between the header and the table.  Returns 0 or JS_ECORRUPT with a
 * message. */
static int read_toc(const opener *o)
{
    js_file *f = o->f;
    const uint8_t *m = f->map;
    js_rd r = js_rd_make(m + o->toc_off, o->toc_len);
    uint32_t n = js_rd_u32(&r), last_id = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t id = js_rd_u32(&r), crc = js_rd_u32(&r);
        uint64_t off = js_rd_u64(&r), len = js_rd_u64(&r);
        if (id <= last_id || id > JS_PART_MAX)
            return corrupt(o, "table of contents: part ids out of order");
        if (off < HEADER_SIZE || off > o->toc_off || len > o->toc_off - off)
            return corrupt(o, "table of contents: part out of bounds");
        last_id = id;
        f->parts[id].p = m + off;
        f->parts[id].len = len;
        f->parts[id].crc = crc;
        f->parts[id].present = 1;
    }
    return 0;
}

/* Checks the parts: none overlapping, every one present, the small ones'
 * checksums.  Returns 0 or JS_ECORRUPT with a message. */
static int check_parts(const opener *o)
{
    const js_file *f = o->f;
    for (uint32_t a = 1; a <= JS_PART_MAX; a++)
        for (uint32_t b = a + 1; b <= JS_PART_MAX; b++)
            if (f->parts[a].present && f->parts[b].present &&
                f->parts[a].len && f->parts[b].len &&
                f->parts[a].p < f->parts[b].p + f->parts[b].len &&
                f->parts[b].p < f->parts[a].p + f->parts[a].len)
                return corrupt(o, "table of contents: parts overlap");
    for (uint32_t id = 1; id <= JS_PART_MAX; id++)
        if (!f->parts[id].present)
            return corrupt(o, "the %s part is missing", js_part_name(id));
    static const uint32_t small[] = {JS_PART_STATS, JS_PART_DOCUMENTS,
                                     JS_PART_SECTIONS, JS_PART_STORE_INDEX,
                                     JS_PART_LEXICON_INDEX};
    for (size_t i = 0; i < sizeof small / sizeof *small; i++)
        if (js_file_verify_part(f, small[i]))
            return corrupt(o, "the %s part fails its checksum",
                           js_part_name(small[i]));
    return 0;
}

int js_file_open(js_file *f, const char *dir, char *err, size_t errlen)
{
    return js_file_open_named(f, dir, JS_INDEX_FILE, err, errlen);
}

int js_file_open_named(js_file *f, const char *dir, const char *name,
                       char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    opener o = {f, path, err, errlen, 0, 0};
    int rc = map_file(&o);
    if (rc)
        return rc;
    if ((rc = check_header(&o)) || (rc = find_toc(&o)) ||
        (rc = read_toc(&o)) || (rc = check_parts(&o))) {
        js_file_close(f);
        return rc;
    }
    return 0;
}
