/*
 * fmt_jsonl.c — JSON Lines: one JSON object per line, each its own document.
 *
 * In:  the decoded UTF-8 text from the source, read in chunks rather than
 *      lines because js_source_line cuts lines at JS_LINE_MAX_BYTES and a
 *      record may be far longer (up to JSONL_RECORD_MAX bytes).
 * Out: for each record, js_sink_document (id, title, and the other
 *      top-level fields as metadata), then its body:
 *        {"id": .., "title": .., "text": ".."}
 *            "text" is the body of section 0, whose heading is the title;
 *        {"id": .., "title": .., "sections": [{"heading": .., "text": ..}]}
 *            each element starts a level-1 section under its heading (an
 *            element without one continues the current section).
 *      A record may have both: the text comes first.
 *
 * Bad input never costs more than the record (or sections element) it is
 * in: an unparsable line, a value that is not an object, a field of the
 * wrong type or a line over the size limit is reported with its line
 * number, counted with js_sink_skipped, and reading goes on with the next
 * line.  A JSON null counts as an absent field.  A missing id becomes the
 * line number.  Memory is bounded by one record: a longer line is dropped
 * as it streams past instead of being buffered.
 */
#include "config.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"

/* Longest line accepted as a record, terminator excluded. */
#define JSONL_RECORD_MAX ((size_t)4 * JS_SECTION_MAX_BYTES)

/* A line buffer that grew past this is freed once its record is done, so
 * one huge record does not pin its memory for the rest of the file. */
#define JSONL_KEEP_BUFFER ((size_t)1 << 20)

/* Sniff scores. */
#define SNIFF_SURE 90    /* the first line is a whole JSON object */
#define SNIFF_LIKELY 60  /* a JSON object that runs past the sniffed head */

static const char bom[] = "\xEF\xBB\xBF";

/* The top-level fields with a meaning; every other one is metadata. */
static const char *const reserved_keys[] = {"id", "title", "text",
                                            "sections"};

typedef struct {
    js_sink *k;
    char *buf;           /* the part of the current line seen so far, when
                            it did not fit in one chunk (not NUL-ended) */
    size_t len, cap;
    uint64_t lineno;     /* 1-based number of the current line */
    uint64_t line_off;   /* offset of its first byte in the decoded text */
    int in_line;         /* some byte of the current line has been seen */
    int pending_cr;      /* the last chunk ended in CR: a LF that opens
                            the next one belongs to the same terminator */
    int discarding;      /* the current line is too long (or its buffer
                            could not grow): its bytes are dropped */
    int out_of_memory;   /* ... and the reason is a failed allocation */
    uint64_t discarded;  /* bytes of the current line seen while dropping */
} jsonl_reader;

static int is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Returns an English phrase for the type of v ("an array", ...), for
 * messages; static storage. */
static const char *type_phrase(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "an unknown value";
}

/* Returns 1 if `key` names a field that is not metadata, else 0. */
static int is_reserved(const char *key)
{
    for (size_t i = 0; i < sizeof reserved_keys / sizeof *reserved_keys; i++)
        if (!strcmp(key, reserved_keys[i]))
            return 1;
    return 0;
}

/* Returns the field `key` of object o, or NULL when it is absent or null:
 * exported data often writes null for "no value", which is no reason to
 * drop a record. */
static json_t *get_field(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_null(v) ? NULL : v;
}

/* Returns the fewest significant digits (15..17) with which d prints so
 * that it reads back as the same double.  Jansson always prints 17, which
 * turns 0.1 into 0.10000000000000001 in the metadata a user gets back. */
static int real_digits(double d)
{
    char b[40];
    for (int p = 15; p < 17; p++) {
        snprintf(b, sizeof b, "%.*g", p, d);
        if (strtod(b, NULL) == d)
            return p;
    }
    return 17;
}

/* Returns 1 if d is a whole number that a double holds exactly (its
 * magnitude at most 2^53), else 0. */
static int is_whole(double d)
{
    return d >= -9007199254740992.0 && d <= 9007199254740992.0 &&
           d == (double)(long long)d;
}

/* Returns the most digits any real number inside v needs (see
 * real_digits), at least 15.  Recursion depth is bounded by jansson's
 * parser, which refuses nesting deeper than 2048. */
static int max_real_digits(json_t *v)
{
    int p = 15, q;
    const char *key;
    json_t *e;
    size_t i;
    switch (json_typeof(v)) {
    case JSON_REAL:
        return real_digits(json_real_value(v));
    case JSON_OBJECT:
        json_object_foreach(v, key, e) {
            if ((q = max_real_digits(e)) > p)
                p = q;
        }
        return p;
    case JSON_ARRAY:
        json_array_foreach(v, i, e) {
            if ((q = max_real_digits(e)) > p)
                p = q;
        }
        return p;
    default:
        return p;
    }
}

/* Returns v printed as compact JSON (numbers with the fewest digits that
 * read back exactly, keys in file order), or NULL when out of memory; the
 * caller frees it with free(). */
static char *dump_json(json_t *v)
{
    size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY |
                   JSON_REAL_PRECISION(max_real_digits(v));
    return json_dumps(v, flags);
}

/* Returns the string value of s as a C string for a title:
 * the value itself, or — when it holds NUL characters, which would cut it
 * short — a copy in *copy (caller frees) with each NUL turned into a
 * space.  Returns NULL when that copy cannot be allocated. */
static const char *c_string(const json_t *s, char **copy)
{
    const char *v = json_string_value(s);
    size_t n = json_string_length(s);
    *copy = NULL;
    if (!memchr(v, '\0', n))
        return v;
    if (!(*copy = malloc(n + 1)))
        return NULL;
    for (size_t i = 0; i < n; i++)
        (*copy)[i] = v[i] ? v[i] : ' ';
    (*copy)[n] = '\0';
    return *copy;
}

/* Feeds one body text to the sink on a line of its own (a break before
 * text at the start of a section does nothing).  Returns 0 or the sink's
 * value. */
static int sink_body(js_sink *k, const json_t *text)
{
    size_t n = json_string_length(text);
    int rc;
    if (n == 0)
        return 0;
    if ((rc = js_sink_break(k)))
        return rc;
    return js_sink_text(k, json_string_value(text), n);
}

/* Reports a record or part that is skipped.  Always returns 0, so callers
 * can `return skip(...)`. */
static int skip(jsonl_reader *r, uint64_t off, const char *what,
                const char *field, const json_t *v, const char *want)
{
    js_sink_warn(r->k, r->lineno, off, "%s is %s, not %s; %s skipped", field,
                 type_phrase(v), want, what);
    js_sink_skipped(r->k);
    return 0;
}

/* Returns 1 if v is a string with something besides white space (and
 * NUL) in it — something the sink keeps — else 0. */
static int has_words(const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    for (size_t i = 0; s && i < n; i++)
        if (!is_json_space(s[i]) && s[i] != '\0' && s[i] != '\f' &&
            s[i] != '\v')
            return 1;
    return 0;
}

/* Returns 1 if the record's text or one of its sections elements that
 * will be indexed has words in it, else 0: a record without any would
 * make no section, so it could never be found. */
static int has_content(json_t *text, json_t *sections)
{
    size_t i;
    json_t *e;
    if (text && has_words(text))
        return 1;
    if (sections)
        json_array_foreach(sections, i, e) {
            json_t *heading = get_field(e, "heading");
            json_t *etext = get_field(e, "text");
            if (!json_is_object(e) || (heading && !json_is_string(heading)) ||
                (etext && !json_is_string(etext)))
                continue; /* skipped with a warning of its own */
            if ((heading && has_words(heading)) || (etext && has_words(etext)))
                return 1;
        }
    return 0;
}

/* Sends the sections array to the sink: each element a heading and/or
 * text, a bad element skipped alone.  Returns 0 or the sink's value. */
static int index_sections(jsonl_reader *r, json_t *sections, uint64_t off)
{
    size_t i;
    json_t *e;
    char field[64];
    json_array_foreach(sections, i, e) {
        if (!json_is_object(e)) {
            snprintf(field, sizeof field, "sections[%zu]", i);
            skip(r, off, "section", field, e, "an object");
            continue;
        }
        json_t *heading = get_field(e, "heading");
        json_t *text = get_field(e, "text");
        if (heading && !json_is_string(heading)) {
            snprintf(field, sizeof field, "sections[%zu].heading", i);
            skip(r, off, "section", field, heading, "a string");
            continue;
        }
        if (text && !json_is_string(text)) {
            snprintf(field, sizeof field, "sections[%zu].text", i);
            skip(r, off, "section", field, text, "a string");
            continue;
        }
        /* The sink cleans headings (NUL counts as white space there). */
        int rc;
        if (heading &&
            (rc = js_sink_heading(r->k, 1, json_string_value(heading),
                                  json_string_length(heading), off)))
            return rc;
        if (text && (rc = sink_body(r->k, text)))
            return rc;
    }
    return 0;
}

/* Indexes one parsed record (an object) that starts at `off`.  Every
 * top-level field is checked before the sink hears of the record, so a
 * skipped record leaves no trace but its warning.  Returns 0 or the sink's value
 * (JS_ENOMEM when a copy could not be made). */
static int index_record(jsonl_reader *r, json_t *rec, uint64_t off)
{
    json_t *title = get_field(rec, "title");
    json_t *text = get_field(rec, "text");
    json_t *sections = get_field(rec, "sections");
    json_t *id = get_field(rec, "id");
    if (title && !json_is_string(title))
        return skip(r, off, "record", "\"title\"", title, "a string");
    if (text && !json_is_string(text))
        return skip(r, off, "record", "\"text\"", text, "a string");
    if (sections && !json_is_array(sections))
        return skip(r, off, "record", "\"sections\"", sections, "an array");
    if (!has_content(text, sections)) {
        js_sink_warn(r->k, r->lineno, off,
                     "the record has no text to index; skipped");
        js_sink_skipped(r->k);
        return 0;
    }

    /* The id: a string as is, a number as its JSON text, else (with a
     * warning) the line number, which at least finds the record again. */
    char idbuf[32];
    char *id_dump = NULL, *title_copy = NULL, *meta_text = NULL;
    const char *id_text = idbuf;
    const char *why = NULL;
    if (!id)
        why = "the record has no \"id\"";
    else if (json_is_string(id) && json_string_length(id) == 0)
        why = "\"id\" is empty";
    else if (json_is_string(id) &&
             memchr(json_string_value(id), '\0', json_string_length(id)))
        why = "\"id\" contains a NUL character";
    else if (json_is_string(id))
        id_text = json_string_value(id);
    else if (json_is_integer(id))
        snprintf(idbuf, sizeof idbuf, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(id));
    else if (json_is_real(id) && is_whole(json_real_value(id)))
        /* 7.0 is the id 7: exporters that store ids as floating point
         * (pandas, for one, when a column has gaps) write it so. */
        snprintf(idbuf, sizeof idbuf, "%.0f", json_real_value(id) + 0.0);
    else if (json_is_real(id))
        id_text = id_dump = dump_json(id);
    else
        why = json_is_object(id)  ? "\"id\" is an object"
              : json_is_array(id) ? "\"id\" is an array"
                                  : "\"id\" is a boolean";
    if (why) {
        snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)r->lineno);
        js_sink_warn(r->k, r->lineno, off, "%s; using the line number %s",
                     why, idbuf);
    }

    /* Every other top-level field, in file order, is metadata. */
    json_t *meta = NULL;
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(rec, key, v) {
        if (is_reserved(key))
            continue;
        if ((!meta && !(meta = json_object())) ||
            json_object_set(meta, key, v)) {
            rc = JS_ENOMEM;
            break;
        }
    }
    if (!rc && meta && !(meta_text = dump_json(meta)))
        rc = JS_ENOMEM;
    json_decref(meta);

    const char *title_text = NULL;
    if (!rc && title && json_string_length(title) > 0 &&
        !(title_text = c_string(title, &title_copy)))
        rc = JS_ENOMEM;
    if (!rc && !id_text)
        rc = JS_ENOMEM;
    if (!rc)
        rc = js_sink_document(r->k, id_text, title_text, meta_text, off);
    free(id_dump);
    free(title_copy);
    free(meta_text);
    if (rc)
        return rc;

    if (text && (rc = sink_body(r->k, text)))
        return rc;
    if (sections && (rc = index_sections(r, sections, off)))
        return rc;
    return 0;
}

/* Handles one whole line (without its terminator) that starts at
 * r->line_off.  Returns 0 or the sink's value. */
static int handle_line(jsonl_reader *r, const char *line, size_t len)
{
    uint64_t off = r->line_off;
    if (r->lineno == 1 && len >= 3 && !memcmp(line, bom, 3)) {
        line += 3;
        len -= 3;
        off += 3;
    }
    size_t i = 0;
    while (i < len && is_json_space(line[i]))
        i++;
    if (i == len)
        return 0; /* blank lines separate nothing and mean nothing */

    json_error_t err;
    json_t *rec = json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                             &err);
    if (!rec) {
        js_sink_warn(r->k, r->lineno, off, "invalid JSON: %s (column %d)",
                     err.text, err.column);
        js_sink_skipped(r->k);
        return 0;
    }
    int rc = 0;
    if (!json_is_object(rec)) {
        js_sink_warn(r->k, r->lineno, off,
                     "the record is %s, not a JSON object; skipped",
                     type_phrase(rec));
        js_sink_skipped(r->k);
    } else {
        rc = index_record(r, rec, off);
    }
    json_decref(rec);
    return rc;
}

/* Adds the next bytes of the current line to the buffer, or — once the
 * line is over the limit or the buffer cannot grow — starts or goes on
 * dropping them. */
static void buffer_bytes(jsonl_reader *r, const char *p, size_t n)
{
    if (r->discarding) {
        r->discarded += n;
        return;
    }
    if (n > JSONL_RECORD_MAX - r->len) {
        r->discarding = 1;
        r->discarded = (uint64_t)r->len + n;
        r->len = 0;
        return;
    }
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap : 64 * 1024;
        while (cap < r->len + n)
            cap = cap > JSONL_RECORD_MAX / 2 ? JSONL_RECORD_MAX : cap * 2;
        char *b = realloc(r->buf, cap);
        if (!b) {
            r->discarding = r->out_of_memory = 1;
            r->discarded = (uint64_t)r->len + n;
            r->len = 0;
            return;
        }
        r->buf = b;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, p, n);
    r->len += n;
}

/* Ends the current line: `line` is all of it, or NULL when it is in the
 * buffer (or was dropped).  Returns 0 or the sink's value. */
static int end_line(jsonl_reader *r, const char *line, size_t len)
{
    int rc = 0;
    if (r->discarding) {
        if (r->out_of_memory)
            js_sink_warn(r->k, r->lineno, r->line_off,
                         "out of memory for a record of %llu bytes or more; "
                         "skipped",
                         (unsigned long long)r->discarded);
        else
            js_sink_warn(r->k, r->lineno, r->line_off,
                         "record of %llu bytes is longer than the limit of "
                         "%zu bytes; skipped",
                         (unsigned long long)r->discarded,
                         (size_t)JSONL_RECORD_MAX);
        js_sink_skipped(r->k);
    } else {
        rc = line ? handle_line(r, line, len) : handle_line(r, r->buf, r->len);
    }
    r->lineno++;
    r->in_line = r->discarding = r->out_of_memory = 0;
    r->discarded = 0;
    r->len = 0;
    if (r->cap > JSONL_KEEP_BUFFER) {
        free(r->buf);
        r->buf = NULL;
        r->cap = 0;
    }
    return rc;
}

/* Splits one chunk (at offset `base` of the text) into lines: a line that
 * lies wholly inside the chunk is parsed where it is; the rest of a line
 * is buffered until a later chunk ends it.  Lines end at LF, CRLF or CR,
 * as js_source_line counts them, so line numbers agree.  Returns 0 or the
 * sink's value. */
static int feed_chunk(jsonl_reader *r, const char *p, size_t n, uint64_t base)
{
    size_t i = 0;
    if (r->pending_cr && n > 0) {
        r->pending_cr = 0;
        if (p[0] == '\n')
            i = 1;
    }
    while (i < n) {
        size_t j = i;
        while (j < n && p[j] != '\n' && p[j] != '\r')
            j++;
        if (!r->in_line) {
            r->in_line = 1;
            r->line_off = base + i;
        }
        if (j == n) {
            buffer_bytes(r, p + i, n - i);
            return 0;
        }
        int rc;
        if (r->len == 0 && !r->discarding) {
            rc = end_line(r, p + i, j - i);
        } else {
            buffer_bytes(r, p + i, j - i);
            rc = end_line(r, NULL, 0);
        }
        if (rc)
            return rc;
        if (p[j] == '\r') {
            if (j + 1 == n)
                r->pending_cr = 1;
            else if (p[j + 1] == '\n')
                j++;
        }
        i = j + 1;
    }
    return 0;
}

/* Reads the whole source.  Returns 0, the source's negative code when
 * reading failed (the rest of the file is lost; already reported), or
 * the sink's value. */
static int jsonl_parse(js_source *src, js_sink *k)
{
    jsonl_reader r = {0};
    const char *data;
    size_t n;
    int rc;
    r.k = k;
    r.lineno = 1;
    while ((rc = js_source_chunk(src, &data, &n)) == 1)
        if ((rc = feed_chunk(&r, data, n, js_source_offset(src))))
            break;
    if (rc == 0 && r.in_line) /* a last line without a terminator */
        rc = end_line(&r, NULL, 0);
    free(r.buf);
    return rc;
}

/* Returns the length of the longest prefix of s[0..n) that does not end
 * inside a UTF-8 sequence: n minus a trailing incomplete sequence. */
static size_t whole_chars(const char *s, size_t n)
{
    size_t k = n;
    while (k > 0 && n - k < 4 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
        k--;
    if (k == 0)
        return n;
    unsigned char lead = (unsigned char)s[k - 1];
    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return n - (k - 1) < want ? k - 1 : n;
}

/* Returns SNIFF_SURE when the first non-blank line of head is a whole
 * JSON object, SNIFF_LIKELY when it is the valid start of one that the
 * head cuts off (a long first record), else 0. */
static int jsonl_sniff(const char *head, size_t len)
{
    size_t i = 0;
    if (len >= 3 && !memcmp(head, bom, 3))
        i = 3;
    while (i < len && is_json_space(head[i]))
        i++;
    if (i == len || head[i] != '{')
        return 0;
    size_t end = i;
    while (end < len && head[end] != '\n' && head[end] != '\r')
        end++;
    int cut = end == len;
    if (cut) /* the head may end inside a character: parse whole ones */
        end = i + whole_chars(head + i, end - i);
    json_error_t err;
    json_t *v = json_loadb(head + i, end - i, JSON_ALLOW_NUL, &err);
    if (v) {
        json_decref(v);
        return SNIFF_SURE;
    }
    if (cut && json_error_code(&err) == json_error_premature_end_of_input)
        return SNIFF_LIKELY;
    return 0;
}

static const char *const jsonl_extensions[] = {"jsonl", "ndjson", NULL};

const js_format js_format_jsonl = {"jsonl", jsonl_extensions, jsonl_sniff,
                                   jsonl_parse};
