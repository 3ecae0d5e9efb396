/*
 * ingest.c — the public ingest API: paths -> files -> sections.
 *
 * In:  file and directory paths (or one document in memory) and options.
 * Out: js_section callbacks, warnings, and js_ingest_stats.
 *
 * For each file: open it, let the source (source.c) gunzip it and settle
 * its encoding, pick the format (forced; else by extension, ".gz"
 * stripped; else by sniffing the decoded head; else plain text), run the
 * format's parser into the sink (sink.c).  Directories are walked
 * depth-first in byte order of names, so the order of sections — and the
 * ids a later stage gives them — is stable from run to run.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "ingest.h"
#include "sink.h"
#include "source.h"

#define MAX_WALK_DEPTH 256

struct js_ingest {
    const js_format *forced;
    char *encoding;
    int include_hidden;
    js_ingest_stats stats;
    js_sink *sink;
    js_ingest_file_fn file_fn; /* js_ingest_set_file_hook */
    void *file_ctx;
    char errmsg[1024];
};

void js_ingest_set_file_hook(js_ingest *ing, js_ingest_file_fn fn, void *ctx)
{
    ing->file_fn = fn;
    ing->file_ctx = ctx;
}

static const js_format *const formats[] = {
    &js_format_text, &js_format_markdown, &js_format_html, &js_format_man,
    &js_format_jsonl,
};
#define NFORMATS (sizeof formats / sizeof *formats)

const js_format *js_format_by_name(const char *name)
{
    for (size_t i = 0; i < NFORMATS; i++)
        if (!strcmp(formats[i]->name, name))
            return formats[i];
    return NULL;
}

/* Keeps the message on ing (error.h). */
#define set_error(ing, ...) \
    ((void)js_error_set((ing)->errmsg, sizeof (ing)->errmsg, 0, __VA_ARGS__))

int js_ingest_open(js_ingest **out, const js_ingest_options *opts)
{
    if (!out)
        return JS_EINVALID;
    js_format_html_init();
    js_ingest_options o = JS_INGEST_OPTIONS_INIT;
    if (opts) {
        if (opts->version != JS_INGEST_OPTIONS_VERSION)
            return JS_EINVALID;
        o = *opts;
    }
    const js_format *forced = NULL;
    if (o.format && !(forced = js_format_by_name(o.format)))
        return JS_EINVALID;
    if (o.encoding) {
        const char *enc = js_source_charset(o.encoding, strlen(o.encoding));
        iconv_t cd = iconv_open("UTF-8", enc ? enc : o.encoding);
        if (cd == (iconv_t)-1)
            return JS_EINVALID;
        iconv_close(cd);
    }
    js_ingest *ing = calloc(1, sizeof *ing);
    if (!ing)
        return JS_ENOMEM;
    ing->forced = forced;
    ing->include_hidden = o.include_hidden;
    if ((o.encoding && !(ing->encoding = strdup(o.encoding))) ||
        !(ing->sink = js_sink_new(o.warn, o.warn_ctx, &ing->stats))) {
        js_ingest_close(ing);
        return JS_ENOMEM;
    }
    *out = ing;
    return 0;
}

void js_ingest_close(js_ingest *ing)
{
    if (!ing)
        return;
    js_sink_free(ing->sink);
    free(ing->encoding);
    free(ing);
}

void js_ingest_get_stats(const js_ingest *ing, js_ingest_stats *out)
{
    if (ing && out)
        *out = ing->stats;
}

const char *js_ingest_errmsg(const js_ingest *ing)
{
    return ing ? ing->errmsg : "";
}

/* Returns 1 if ext (lower case) is a man page section such as "1",
 * "3pm", "1ssl", "8x": a digit and up to four letters or digits. */
static int man_section_ext(const char *ext)
{
    if (ext[0] < '1' || ext[0] > '9')
        return 0;
    size_t n = strlen(ext);
    if (n > 5)
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!((ext[i] >= 'a' && ext[i] <= 'z') || (ext[i] >= '0' && ext[i] <= '9')))
            return 0;
    return 1;
}

/* Picks the format of a file by the extension of `name` (".gz"
 * stripped), else by sniffing head[0..len).  Never NULL. */
static const js_format *pick_format(const char *name, const char *head,
                                    size_t len)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    char low[256];
    size_t n = strlen(base);
    if (n >= sizeof low)
        n = sizeof low - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)((base[i] >= 'A' && base[i] <= 'Z') ? base[i] + 32 : base[i]);
    low[n] = 0;
    if (n > 3 && !strcmp(low + n - 3, ".gz"))
        low[n - 3] = 0;
    const char *dot = strrchr(low, '.');
    if (dot && dot != low) {
        const char *ext = dot + 1;
        for (size_t f = 0; f < NFORMATS; f++)
            for (const char *const *e = formats[f]->extensions; e && *e; e++)
                if (!strcmp(*e, ext))
                    return formats[f];
        /* Suffixes like ".3pm" are too many to list, and the same shape
         * names other files (".7z", ".3gp"): ask the content too. */
        if (man_section_ext(ext) && js_format_man.sniff(head, len) > 0)
            return &js_format_man;
    }
    const js_format *best = &js_format_text;
    int best_score = 49; /* below this, plain text */
    for (size_t f = 0; f < NFORMATS; f++) {
        int s = formats[f]->sniff ? formats[f]->sniff(head, len) : 0;
        if (s > best_score) {
            best_score = s;
            best = formats[f];
        }
    }
    return best;
}

/* Reads one document from fd (or data when fd < 0) named `name` into the
 * sink.  Problems with the file are warned about and counted; returns 0,
 * JS_ENOMEM, or the section callback's non-zero value. */
static int ingest_one(js_ingest *ing, const char *name, int fd,
                      const void *data, size_t len, js_section_fn fn,
                      void *ctx)
{
    js_sink *k = ing->sink;
    int rc;
    if (ing->file_fn) {
        struct stat st, *stp = NULL;
        if (fd >= 0 && fstat(fd, &st) == 0)
            stp = &st;
        rc = ing->file_fn(ing->file_ctx, name, fd, stp, data, len);
        if (rc == 1)
            return 0; /* the hook's to skip (unchanged since indexed) */
        if (rc)
            return rc;
    }
    if ((rc = js_sink_begin_file(k, name, fn, ctx)))
        return rc;
    ing->stats.files++;
    js_source *src = NULL;
    rc = js_source_open(&src, name, fd, data, len, ing->encoding, k);
    if (rc) {
        ing->stats.skipped_files++;
        if (rc == JS_ENOMEM)
            return rc;
        return 0; /* reported by the source */
    }
    const char *head = "";
    size_t hlen = 0;
    rc = js_source_peek(src, &head, &hlen);
    const js_format *fmt = ing->forced ? ing->forced
                                       : pick_format(name, head, hlen);
    js_sink_set_kind(k, fmt->name, js_source_encoding(src));
    if (rc == 0)
        rc = fmt->parse(src, k);
    int stop = js_sink_status(k);
    if (!stop)
        stop = js_sink_end_file(k, js_source_end_offset(src));
    ing->stats.bytes_read += js_source_disk_bytes(src);
    js_source_close(src);
    if (stop)
        return stop;
    return rc == JS_ENOMEM ? rc : 0; /* other parse failures were reported */
}

/* Reads the regular file at path.  Returns as ingest_one. */
static int ingest_file(js_ingest *ing, const char *path, js_section_fn fn,
                       void *ctx)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        ing->stats.files++;
        ing->stats.skipped_files++;
        if (js_sink_begin_file(ing->sink, path, fn, ctx))
            return JS_ENOMEM;
        js_sink_warn(ing->sink, 0, UINT64_MAX, "cannot open: %s",
                     strerror(e));
        return 0;
    }
    int rc = ingest_one(ing, path, fd, NULL, 0, fn, ctx);
    close(fd);
    return rc;
}

typedef struct visited {
    dev_t dev;
    ino_t ino;
    const struct visited *up;
} visited;

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What a walk does with each regular file: ingest it (file NULL: into
 * fn, ctx) or hand it to file(fctx, path) (js_ingest_walk). */
typedef struct walker {
    js_section_fn fn;
    void *ctx;
    js_ingest_walk_fn file;
    void *fctx;
} walker;

static int walk(js_ingest *ing, const char *path, const visited *up,
                int depth, const walker *wk);

/* Reads every entry of the directory `path` (identified by st) in byte
 * order.  Returns as ingest_one. */
static int walk_dir(js_ingest *ing, const char *path, const struct stat *st,
                    const visited *up, int depth, const walker *wk)
{
    for (const visited *v = up; v; v = v->up) {
        if (v->dev == st->st_dev && v->ino == st->st_ino) {
            if (js_sink_begin_file(ing->sink, path, wk->fn, wk->ctx))
                return JS_ENOMEM;
            js_sink_warn(ing->sink, 0, UINT64_MAX,
                         "directory already being read (symbolic link "
                         "loop): skipped");
            return 0;
        }
    }
    if (depth >= MAX_WALK_DEPTH) {
        if (js_sink_begin_file(ing->sink, path, wk->fn, wk->ctx))
            return JS_ENOMEM;
        js_sink_warn(ing->sink, 0, UINT64_MAX,
                     "directories nested deeper than %d: skipped",
                     MAX_WALK_DEPTH);
        return 0;
    }
    DIR *d = opendir(path);
    if (!d) {
        int e = errno;
        ing->stats.skipped_files++;
        if (js_sink_begin_file(ing->sink, path, wk->fn, wk->ctx))
            return JS_ENOMEM;
        js_sink_warn(ing->sink, 0, UINT64_MAX, "cannot read directory: %s",
                     strerror(e));
        return 0;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, ".."))
            continue;
        if (nm[0] == '.' && !ing->include_hidden)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *names);
            if (!nn) {
                rc = JS_ENOMEM;
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(nm))) {
            rc = JS_ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (!rc && n) /* an empty directory has no array at all */
        qsort(names, n, sizeof *names, cmp_names);
    visited me = {st->st_dev, st->st_ino, up};
    size_t plen = strlen(path);
    for (size_t i = 0; i < n && !rc; i++) {
        size_t len = plen + 1 + strlen(names[i]) + 1;
        char *child = malloc(len);
        if (!child) {
            rc = JS_ENOMEM;
            break;
        }
        snprintf(child, len, "%s%s%s", path,
                 plen && path[plen - 1] == '/' ? "" : "/", names[i]);
        rc = walk(ing, child, &me, depth + 1, wk);
        free(child);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* Reads a file or a directory tree found during a walk. */
static int walk(js_ingest *ing, const char *path, const visited *up,
                int depth, const walker *wk)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        ing->stats.skipped_files++;
        if (js_sink_begin_file(ing->sink, path, wk->fn, wk->ctx))
            return JS_ENOMEM;
        js_sink_warn(ing->sink, 0, UINT64_MAX, "cannot read: %s",
                     strerror(e));
        return 0;
    }
    if (S_ISDIR(st.st_mode))
        return walk_dir(ing, path, &st, up, depth, wk);
    if (!S_ISREG(st.st_mode)) {
        if (js_sink_begin_file(ing->sink, path, wk->fn, wk->ctx))
            return JS_ENOMEM;
        js_sink_warn(ing->sink, 0, UINT64_MAX,
                     "not a regular file or directory: skipped");
        return 0;
    }
    if (wk->file)
        return wk->file(wk->fctx, path);
    return ingest_file(ing, path, wk->fn, wk->ctx);
}

/* A walk's warnings start a "file" in the sink; with a file callback no
 * section ever comes. */
static int no_sections(void *ctx, const js_section *s)
{
    (void)ctx;
    (void)s;
    return 0;
}

int js_ingest_walk(js_ingest *ing, const char *path, js_ingest_walk_fn file,
                   void *ctx)
{
    walker wk = {no_sections, NULL, file, ctx};
    return walk(ing, path, NULL, 0, &wk);
}

int js_ingest_path(js_ingest *ing, const char *path, js_section_fn fn,
                   void *ctx)
{
    if (!ing || !path || !fn)
        return JS_EINVALID;
    ing->errmsg[0] = 0;
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        set_error(ing, "%s: %s", path, strerror(e));
        return e == ENOENT || e == ENOTDIR ? JS_ENOTFOUND : JS_EIO;
    }
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) {
            set_error(ing, "%s: %s", path, strerror(errno));
            return JS_EIO;
        }
        closedir(d);
    } else if (access(path, R_OK) != 0) {
        set_error(ing, "%s: %s", path, strerror(errno));
        return JS_EIO;
    }
    walker wk = {fn, ctx, NULL, NULL};
    int rc = walk(ing, path, NULL, 0, &wk);
    if (rc == JS_ENOMEM)
        set_error(ing, "%s: out of memory", path);
    else if (rc)
        set_error(ing, "%s: stopped by the section callback (%d)", path, rc);
    return rc;
}

int js_ingest_memory(js_ingest *ing, const char *name, const void *data,
                     size_t len, js_section_fn fn, void *ctx)
{
    if (!ing || !name || !fn || (!data && len))
        return JS_EINVALID;
    ing->errmsg[0] = 0;
    int rc = ingest_one(ing, name, -1, data ? data : "", len, fn, ctx);
    if (rc == JS_ENOMEM)
        set_error(ing, "%s: out of memory", name);
    else if (rc)
        set_error(ing, "%s: stopped by the section callback (%d)", name, rc);
    return rc;
}
