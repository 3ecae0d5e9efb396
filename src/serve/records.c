/*
 * records.c — the body of POST /documents, checked before anything is
 * written.
 *
 * In:  the request body: JSON Lines (one record a line, blank lines
 *      ignored) or one JSON array of records, either way records as
 *      `jiansuo index` reads JSON Lines files: {"id", "title", "text"} or
 *      {"id", "title", "sections": [{"heading", "text"}]}, other
 *      top-level fields kept as metadata.
 * Out: a job holding each record as one line of compact JSON with its id
 *      as a string, or a 400 that names the record (its number, and its
 *      line for JSON Lines) and what is wrong with it.
 *
 * The reader of JSON Lines files skips a bad record with a warning and
 * goes on: right for a file, wrong for an API, where a client that sent
 * a batch must know it was applied whole or not at all.  So the server
 * is stricter than the file reader and refuses the batch instead, and
 * everything the file reader would warn about is refused here first
 * (what still slips through is caught by the writer thread, which drops
 * a job that drew any warning: writeq.c).  Every record needs an id,
 * because a record is replaced and deleted by its id.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "serve.h"

/* Records in one request: a bound on the job's arrays, far above what a
 * batch of any sense holds (the body limit bounds the bytes). */
#define MAX_RECORDS 1000000u
/* Longest id: ids are keys, not documents. */
#define MAX_ID_BYTES 1024u

void js_srv_job_free(js_srv_job *job)
{
    if (!job)
        return;
    for (size_t i = 0; i < job->nrecords; i++) {
        if (job->lines)
            free(job->lines[i]);
        if (job->ids)
            free(job->ids[i]);
    }
    free(job->lines);
    free(job->line_lens);
    free(job->ids);
    js_srv_response_free(&job->resp);
    free(job);
}

/* Where a record is, for messages: "record 3 (line 5)" or "record 3". */
typedef struct where {
    size_t record;    /* 1-based */
    size_t line;      /* 1-based, 0 for a JSON array */
} where;

static void bad(js_srv_response *resp, const where *w, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void bad(js_srv_response *resp, const where *w, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (w->line)
        js_srv_error(resp, 400, "record %zu (line %zu): %s; nothing was "
                     "applied", w->record, w->line, msg);
    else
        js_srv_error(resp, 400, "record %zu: %s; nothing was applied",
                     w->record, msg);
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* A field, with JSON null taken for absent (as the file reader does). */
static json_t *field(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    return json_is_null(v) ? NULL : v;
}

static int has_words(const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    for (size_t i = 0; s && i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' &&
            s[i] != '\0' && s[i] != '\f' && s[i] != '\v')
            return 1;
    return 0;
}

/* Checks one record; sets its id text in idbuf (or *id_str).  Returns 0,
 * or -1 after filling resp. */
static int check_record(json_t *rec, const where *w, char *idbuf,
                        size_t idcap, js_srv_response *resp)
{
    if (!json_is_object(rec)) {
        bad(resp, w, "a record is a JSON object, not %s", type_name(rec));
        return -1;
    }
    json_t *id = field(rec, "id");
    if (!id) {
        bad(resp, w, "no \"id\": every record sent to /documents needs "
            "one, by which it is replaced and deleted");
        return -1;
    }
    if (json_is_string(id)) {
        size_t n = json_string_length(id);
        if (!n || n > MAX_ID_BYTES ||
            memchr(json_string_value(id), '\0', n)) {
            bad(resp, w, "\"id\" must be 1 to %u bytes without NUL",
                MAX_ID_BYTES);
            return -1;
        }
        memcpy(idbuf, json_string_value(id), n);
        idbuf[n] = 0;
    } else if (json_is_integer(id)) {
        snprintf(idbuf, idcap, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(id));
        /* the writer reads the id as the file reader does: a string */
        json_object_set_new(rec, "id", json_string(idbuf));
    } else {
        bad(resp, w, "\"id\" is %s, not a string or an integer",
            type_name(id));
        return -1;
    }
    json_t *title = field(rec, "title"), *text = field(rec, "text");
    json_t *sections = field(rec, "sections");
    if (title && !json_is_string(title)) {
        bad(resp, w, "\"title\" is %s, not a string", type_name(title));
        return -1;
    }
    if (text && !json_is_string(text)) {
        bad(resp, w, "\"text\" is %s, not a string", type_name(text));
        return -1;
    }
    if (sections && !json_is_array(sections)) {
        bad(resp, w, "\"sections\" is %s, not an array", type_name(sections));
        return -1;
    }
    int words = text && has_words(text);
    size_t i;
    json_t *e;
    json_array_foreach(sections, i, e) {
        if (!json_is_object(e)) {
            bad(resp, w, "sections[%zu] is %s, not an object", i,
                type_name(e));
            return -1;
        }
        json_t *h = field(e, "heading"), *t = field(e, "text");
        if (h && !json_is_string(h)) {
            bad(resp, w, "sections[%zu].heading is %s, not a string", i,
                type_name(h));
            return -1;
        }
        if (t && !json_is_string(t)) {
            bad(resp, w, "sections[%zu].text is %s, not a string", i,
                type_name(t));
            return -1;
        }
        words |= (h && has_words(h)) || (t && has_words(t));
    }
    if (!words) {
        bad(resp, w, "no text to index (\"text\", or \"sections\" with a "
            "heading or text)");
        return -1;
    }
    return 0;
}

/* Appends a checked record to the job.  Returns 0 or -1 (out of memory,
 * resp filled). */
static int append(js_srv_job *job, size_t *cap, json_t *rec, const char *id,
                  js_srv_response *resp)
{
    if (job->nrecords == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        char **l = realloc(job->lines, c * sizeof *l);
        if (l)
            job->lines = l;
        size_t *ll = l ? realloc(job->line_lens, c * sizeof *ll) : NULL;
        if (ll)
            job->line_lens = ll;
        char **ids = ll ? realloc(job->ids, c * sizeof *ids) : NULL;
        if (!ids) {
            js_srv_error(resp, 500, "out of memory");
            return -1;
        }
        job->ids = ids;
        *cap = c;
    }
    char *line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *idc = strdup(id);
    if (!line || !idc) {
        free(line);
        free(idc);
        js_srv_error(resp, 500, "out of memory");
        return -1;
    }
    size_t n = job->nrecords++;
    job->lines[n] = line;
    job->line_lens[n] = strlen(line);
    job->ids[n] = idc;
    job->bytes += job->line_lens[n];
    return 0;
}

/* One record, parsed: checked and appended.  Returns 0 or -1. */
static int take(js_srv_job *job, size_t *cap, json_t *rec, const where *w,
                js_srv_response *resp)
{
    char id[MAX_ID_BYTES + 1];
    if (job->nrecords >= MAX_RECORDS) {
        js_srv_error(resp, 413, "more than %u records in one request; send "
                     "them in several", MAX_RECORDS);
        return -1;
    }
    if (check_record(rec, w, id, sizeof id, resp))
        return -1;
    return append(job, cap, rec, id, resp);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int from_array(const char *body, size_t len, js_srv_job *job,
                      js_srv_response *resp)
{
    json_error_t e;
    json_t *a = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
    if (!a) {
        js_srv_error(resp, 400, "invalid JSON at line %d, column %d: %s; "
                     "nothing was applied", e.line, e.column, e.text);
        return -1;
    }
    size_t cap = 0, i;
    json_t *rec;
    int rc = 0;
    json_array_foreach(a, i, rec) {
        where w = {i + 1, 0};
        if ((rc = take(job, &cap, rec, &w, resp)))
            break;
    }
    json_decref(a);
    return rc;
}

static int from_lines(const char *body, size_t len, js_srv_job *job,
                      js_srv_response *resp)
{
    size_t cap = 0, line = 0, at = 0;
    while (at < len) {
        const char *nl = memchr(body + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - body) : len;
        line++;
        size_t s = at;
        while (s < end && is_space(body[s]))
            s++;
        if (s < end) {
            where w = {job->nrecords + 1, line};
            json_error_t e;
            json_t *rec = json_loadb(body + s, end - s,
                                     JSON_REJECT_DUPLICATES, &e);
            if (!rec) {
                bad(resp, &w, "invalid JSON at column %d: %s",
                    e.column + (int)(s - at), e.text);
                return -1;
            }
            int rc = take(job, &cap, rec, &w, resp);
            json_decref(rec);
            if (rc)
                return -1;
        }
        at = end + 1;
    }
    return 0;
}

int js_srv_records(const char *body, size_t len, js_srv_job **out,
                   js_srv_response *resp)
{
    *out = NULL;
    js_srv_job *job = calloc(1, sizeof *job);
    if (!job) {
        js_srv_error(resp, 500, "out of memory");
        return -1;
    }
    job->kind = JS_SRV_JOB_ADD;
    size_t s = 0;
    while (s < len && is_space(body[s]))
        s++;
    /* a UTF-8 byte order mark, as editors write one */
    if (len - s >= 3 && !memcmp(body + s, "\xEF\xBB\xBF", 3))
        s += 3;
    int rc = s < len && body[s] == '['
                 ? from_array(body + s, len - s, job, resp)
                 : from_lines(body + s, len - s, job, resp);
    if (!rc && !job->nrecords) {
        js_srv_error(resp, 400, "no records in the body (JSON Lines, or a "
                     "JSON array of records)");
        rc = -1;
    }
    if (rc) {
        js_srv_job_free(job);
        return -1;
    }
    *out = job;
    return 0;
}
