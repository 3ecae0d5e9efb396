/*
 * xapian_shim.cc — the only C++ file: the C API of xapian_shim.h over
 * libxapian.
 *
 * In:  C calls with terms, positions, document data, database paths or
 *      remote addresses, query parts, BM25 parameters.
 * Out: Xapian databases written; ranked hits and statistics read back;
 *      on failure a JS_E* code and a message kept on a handle.
 *
 * Every extern "C" function runs its body inside guard(), which catches
 * Xapian::Error, std::bad_alloc, any other std::exception and `...`, so
 * no exception ever reaches C code.  Handles js_xw, js_xdb and js_xq are
 * allocated with new (std::nothrow): their members (a default Database,
 * WritableDatabase or Query) allocate nothing, so making them cannot
 * throw; js_xmset holds an MSet, whose constructor allocates, so it is
 * made inside guard().
 */
#include "config.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <xapian.h>

#include "xapian_shim.h"

namespace {

constexpr size_t kErrLen = 1024;

/* Writes "what: detail" into err; returns rc.  Never throws. */
int set_err(char *err, int rc, const char *what, const char *detail)
{
    if (what && what[0])
        std::snprintf(err, kErrLen, "%s: %s", what, detail);
    else
        std::snprintf(err, kErrLen, "%s", detail);
    return rc;
}

/* Maps a Xapian exception to a JS_E* code (table in xapian_shim.h).
 * Xapian::Error has no virtual function, so dynamic_cast cannot tell the
 * classes apart; get_type() names the most derived one. */
int map_error(const Xapian::Error &e)
{
    static const struct {
        const char *type;
        int rc;
    } map[] = {
        {"DatabaseVersionError", JS_EVERSION},
        {"DatabaseNotFoundError", JS_ENOTFOUND},
        {"DatabaseCorruptError", JS_ECORRUPT},
        {"DocNotFoundError", JS_ENOTFOUND},
        {"InvalidArgumentError", JS_EINVALID},
        {"InvalidOperationError", JS_EINVALID},
        {"UnimplementedError", JS_EINVALID},
        {"RangeError", JS_EINVALID},
        /* DatabaseOpeningError, DatabaseLockError, NetworkError,
         * NetworkTimeoutError, DatabaseModifiedError, ...: JS_EIO */
    };
    const char *t = e.get_type();
    for (const auto &m : map)
        if (!std::strcmp(t, m.type))
            return m.rc;
    /* A bare DatabaseError without an errno is an inconsistency glass
     * found in its files ("EOF reading block 0" from a truncated table);
     * with an errno it is the OS failing a read or write. */
    if (!std::strcmp(t, "DatabaseError") && !e.get_error_string())
        return JS_ECORRUPT;
    return JS_EIO;
}

/* Runs f() (which returns 0 or a JS_E* code) and turns any exception
 * into a code and a message in err, prefixed by `what`.  Never throws. */
template <class F> int guard(char *err, const char *what, F f)
{
    try {
        return f();
    } catch (const Xapian::Error &e) {
        int rc = JS_EIO;
        /* get_description() and get_error_string() (in map_error) may
         * allocate: if that fails, fall back to the type and message,
         * which are already stored. */
        try {
            rc = map_error(e);
            std::string d = e.get_description();
            if (!std::strcmp(e.get_type(), "DatabaseLockError"))
                d += " (another writer holds the lock on this database)";
            return set_err(err, rc, what, d.c_str());
        } catch (...) {
            std::snprintf(err, kErrLen, "%s: %s: %s", what, e.get_type(),
                          e.get_msg().c_str());
            return rc;
        }
    } catch (const std::bad_alloc &) {
        return set_err(err, JS_ENOMEM, what, "out of memory");
    } catch (const std::exception &e) {
        return set_err(err, JS_EIO, what, e.what());
    } catch (...) {
        return set_err(err, JS_EIO, what, "unexpected C++ exception");
    }
}

/* FNV-1a, 64 bits: the hash that shortens over-long terms. */
uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Returns the term as stored in Xapian (see "Terms" in xapian_shim.h).
 * May throw std::bad_alloc. */
std::string term_key(const char *t, size_t len)
{
    if (len <= JS_XAPIAN_TERM_MAX)
        return std::string(t, len);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx",
                  (unsigned long long)fnv1a(t, len));
    std::string k(t, 220);
    k += '\x02';
    k.append(hex, 16);
    return k;
}

/* A term argument is usable: non-NULL, 1..JS_TERM_MAX_BYTES + 1 bytes. */
bool term_ok(const char *t, size_t len)
{
    return t && len >= 1 && len <= JS_TERM_MAX_BYTES + 1;
}

} // namespace

struct js_xw {
    Xapian::WritableDatabase db;
    bool open = false;
    bool txn = false; /* a transaction runs (js_xw_begin) */
    char err[kErrLen] = "";
};

struct js_xdb {
    Xapian::Database db;
    char err[kErrLen] = "";
};

struct js_xq {
    Xapian::Query q;
    bool failed = false;
    char err[kErrLen] = "";
};

struct js_xmset {
    /* kept for get_matching_terms (js_xmset_matching) */
    std::unique_ptr<Xapian::Enquire> enq;
    Xapian::MSet mset;
    std::string data; /* the last hit's document data */
    char err[kErrLen] = "";
};

/* Xapian::version_string() returns a static C string: nothing to catch. */
extern "C" const char *js_xapian_version(void) { return Xapian::version_string(); }

/* ---------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------- */

extern "C" int js_xw_open(js_xw **out, const char *path, js_xw_mode mode)
{
    if (!out)
        return JS_EINVALID;
    js_xw *w = new (std::nothrow) js_xw;
    *out = w;
    if (!w)
        return JS_ENOMEM;
    if (!path || !path[0])
        return set_err(w->err, JS_EINVALID, "", "no database path given");
    int action;
    switch (mode) {
    case JS_XW_CREATE_OR_OPEN: action = Xapian::DB_CREATE_OR_OPEN; break;
    case JS_XW_CREATE_OR_OVERWRITE: action = Xapian::DB_CREATE_OR_OVERWRITE; break;
    case JS_XW_OPEN: action = Xapian::DB_OPEN; break;
    default: return set_err(w->err, JS_EINVALID, path, "unknown open mode");
    }
    return guard(w->err, path, [&] {
        w->db = Xapian::WritableDatabase(path, action | Xapian::DB_BACKEND_GLASS);
        w->open = true;
        return 0;
    });
}

extern "C" int js_xw_put(js_xw *w, uint32_t docid, const js_xterm *terms,
                         size_t n, const void *data, size_t data_len,
                         uint32_t *docid_out)
{
    return js_xw_put_values(w, docid, terms, n, NULL, 0, data, data_len,
                            docid_out);
}

extern "C" int js_xw_put_values(js_xw *w, uint32_t docid, const js_xterm *terms,
                                size_t n, const js_xvalue *values,
                                size_t nvalues, const void *data,
                                size_t data_len, uint32_t *docid_out)
{
    if (!w)
        return JS_EINVALID;
    w->err[0] = 0;
    if (!w->open)
        return set_err(w->err, JS_EINVALID, "", "the database is not open");
    if ((!terms && n) || (!data && data_len))
        return set_err(w->err, JS_EINVALID, "", "NULL terms or data with a length");
    for (size_t i = 0; i < n; i++) {
        if (!term_ok(terms[i].term, terms[i].len))
            return set_err(w->err, JS_EINVALID, "",
                           "a term is empty, NULL or too long");
        if (!terms[i].positions && terms[i].npositions)
            return set_err(w->err, JS_EINVALID, "", "NULL positions with a count");
    }
    if (!values && nvalues)
        return set_err(w->err, JS_EINVALID, "", "NULL values with a count");
    for (size_t i = 0; i < nvalues; i++)
        if ((!values[i].data && values[i].len) ||
            values[i].slot == Xapian::BAD_VALUENO)
            return set_err(w->err, JS_EINVALID, "", "a bad value");
    char what[64];
    std::snprintf(what, sizeof what, "writing document %lu",
                  (unsigned long)docid);
    return guard(w->err, what, [&] {
        Xapian::Document doc;
        for (size_t i = 0; i < n; i++) {
            const js_xterm &t = terms[i];
            std::string k = term_key(t.term, t.len);
            for (size_t j = 0; j < t.npositions; j++)
                doc.add_posting(k, t.positions[j], 0);
            Xapian::termcount wdf = t.wdf ? t.wdf : (Xapian::termcount)t.npositions;
            doc.add_term(k, wdf);
        }
        for (size_t i = 0; i < nvalues; i++)
            if (values[i].len)
                doc.add_value(values[i].slot,
                              std::string((const char *)values[i].data,
                                          values[i].len));
        doc.set_data(std::string(data ? (const char *)data : "", data_len));
        Xapian::docid did = docid;
        if (docid)
            w->db.replace_document(did, doc);
        else
            did = w->db.add_document(doc);
        if (docid_out)
            *docid_out = did;
        return 0;
    });
}

extern "C" int js_xw_commit(js_xw *w)
{
    if (!w)
        return JS_EINVALID;
    w->err[0] = 0;
    if (!w->open)
        return set_err(w->err, JS_EINVALID, "", "the database is not open");
    return guard(w->err, "committing", [&] {
        if (w->txn) {
            /* commit_transaction ends the transaction even when it
             * throws: no transaction runs afterwards either way */
            w->txn = false;
            w->db.commit_transaction();
        } else {
            w->db.commit();
        }
        return 0;
    });
}

extern "C" int js_xw_begin(js_xw *w)
{
    if (!w)
        return JS_EINVALID;
    w->err[0] = 0;
    if (!w->open || w->txn)
        return set_err(w->err, JS_EINVALID, "",
                       w->open ? "a transaction is already running"
                               : "the database is not open");
    return guard(w->err, "starting a transaction", [&] {
        w->db.begin_transaction(true);
        w->txn = true;
        return 0;
    });
}

extern "C" int js_xw_cancel(js_xw *w)
{
    if (!w)
        return JS_EINVALID;
    w->err[0] = 0;
    if (!w->open || !w->txn)
        return 0;
    return guard(w->err, "dropping the changes", [&] {
        w->txn = false; /* ended even when cancel_transaction throws */
        w->db.cancel_transaction();
        return 0;
    });
}

extern "C" int js_xw_delete_term(js_xw *w, const char *term, size_t len,
                                 unsigned slot, js_xvalue_fn fn, void *ctx,
                                 uint64_t *deleted)
{
    if (!w)
        return JS_EINVALID;
    w->err[0] = 0;
    if (deleted)
        *deleted = 0;
    if (!w->open)
        return set_err(w->err, JS_EINVALID, "", "the database is not open");
    if (!term_ok(term, len))
        return set_err(w->err, JS_EINVALID, "", "a term is empty, NULL or too long");
    return guard(w->err, "deleting documents", [&] {
        std::string k = term_key(term, len);
        uint64_t n = 0;
        /* a writable database's posting lists include what is not
         * committed yet: the documents this writer added count too */
        for (auto p = w->db.postlist_begin(k); p != w->db.postlist_end(k); ++p) {
            n++;
            if (fn) {
                std::string v = w->db.get_document(*p).get_value(slot);
                int r = fn(ctx, v.data(), v.size());
                if (r)
                    return r;
            }
        }
        if (n)
            w->db.delete_document(k);
        if (deleted)
            *deleted = n;
        return 0;
    });
}

extern "C" int js_xw_first_value(js_xw *w, const char *term, size_t len,
                                 unsigned slot, char **out, size_t *outlen)
{
    if (!w)
        return JS_EINVALID;
    w->err[0] = 0;
    if (!out || !outlen)
        return set_err(w->err, JS_EINVALID, "", "no result pointer");
    *out = nullptr;
    *outlen = 0;
    if (!w->open)
        return set_err(w->err, JS_EINVALID, "", "the database is not open");
    if (!term_ok(term, len))
        return set_err(w->err, JS_EINVALID, "", "a term is empty, NULL or too long");
    return guard(w->err, "reading a value", [&] {
        std::string k = term_key(term, len);
        auto p = w->db.postlist_begin(k);
        if (p == w->db.postlist_end(k))
            return 0;
        std::string v = w->db.get_document(*p).get_value(slot);
        char *c = static_cast<char *>(std::malloc(v.size() + 1));
        if (!c)
            throw std::bad_alloc();
        std::memcpy(c, v.data(), v.size());
        c[v.size()] = 0;
        *out = c;
        *outlen = v.size();
        return 1;
    });
}

extern "C" int js_xw_scan_prefix(js_xw *w, const char *prefix, size_t len,
                                 unsigned slot, js_xvalue_fn fn, void *ctx)
{
    if (!w)
        return JS_EINVALID;
    w->err[0] = 0;
    if (!w->open || !fn || (!prefix && len))
        return set_err(w->err, JS_EINVALID, "", "no open database or no callback");
    return guard(w->err, "listing terms", [&] {
        std::string pre(prefix ? prefix : "", len);
        for (auto t = w->db.allterms_begin(pre); t != w->db.allterms_end(pre); ++t) {
            const std::string &term = *t;
            auto p = w->db.postlist_begin(term);
            if (p == w->db.postlist_end(term))
                continue;
            std::string v = w->db.get_document(*p).get_value(slot);
            int r = fn(ctx, v.data(), v.size());
            if (r)
                return r;
        }
        return 0;
    });
}

extern "C" const char *js_xw_errmsg(const js_xw *w) { return w ? w->err : ""; }

extern "C" void js_xw_close(js_xw *w)
{
    if (!w)
        return;
    /* close() commits what no transaction holds (a transaction's
     * changes are dropped first); a failure there has nobody left to
     * tell. */
    guard(w->err, "closing", [&] {
        if (w->open && w->txn) {
            w->txn = false;
            w->db.cancel_transaction();
        }
        if (w->open)
            w->db.close();
        return 0;
    });
    delete w; /* ~WritableDatabase does not throw after close() */
}

/* ---------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------- */

extern "C" int js_xsource_parse(const char *spec, char *host, size_t hostlen,
                                unsigned *port, char *err, size_t errlen)
{
    char dummy[1];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (errlen)
        err[0] = 0;
    if (!spec || !host || !hostlen || !port) {
        std::snprintf(err, errlen, "no address given");
        return JS_EINVALID;
    }
    const char *h = spec, *colon;
    size_t hl;
    if (spec[0] == '[') { /* [IPv6]:port */
        const char *close = std::strchr(spec, ']');
        if (!close || close[1] != ':') {
            std::snprintf(err, errlen, "'%s': expected [ADDRESS]:PORT", spec);
            return JS_EINVALID;
        }
        h = spec + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = std::strrchr(spec, ':');
        if (!colon) {
            std::snprintf(err, errlen, "'%s': expected HOST:PORT", spec);
            return JS_EINVALID;
        }
        hl = (size_t)(colon - spec);
    }
    if (hl == 0 || hl >= hostlen) {
        std::snprintf(err, errlen, "'%s': the host is %s", spec,
                      hl ? "too long" : "missing");
        return JS_EINVALID;
    }
    unsigned long v = 0;
    const char *p = colon + 1;
    if (!*p) {
        std::snprintf(err, errlen, "'%s': the port is missing", spec);
        return JS_EINVALID;
    }
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > 65535) {
            v = 0;
            break;
        }
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v == 0 || v > 65535) {
        std::snprintf(err, errlen, "'%s': the port must be 1 to 65535", spec);
        return JS_EINVALID;
    }
    std::memcpy(host, h, hl);
    host[hl] = 0;
    *port = (unsigned)v;
    return 0;
}

extern "C" int js_xdb_open(js_xdb **out, const js_xsource *src, size_t n,
                           unsigned timeout_ms)
{
    if (!out)
        return JS_EINVALID;
    js_xdb *db = new (std::nothrow) js_xdb;
    *out = db;
    if (!db)
        return JS_ENOMEM;
    if (!src || n == 0)
        return set_err(db->err, JS_EINVALID, "", "no database given");
    for (size_t i = 0; i < n; i++)
        if (!src[i].path_or_host || !src[i].path_or_host[0] ||
            src[i].port > 65535)
            return set_err(db->err, JS_EINVALID, "",
                           "an empty database path or host, or a bad port");
    if (timeout_ms == 0)
        timeout_ms = 10000;
    for (size_t i = 0; i < n; i++) {
        char what[512];
        if (src[i].port)
            std::snprintf(what, sizeof what, "%s:%u", src[i].path_or_host,
                          src[i].port);
        else
            std::snprintf(what, sizeof what, "%s", src[i].path_or_host);
        int rc = guard(db->err, what, [&] {
            if (src[i].port)
                db->db.add_database(Xapian::Remote::open(
                    src[i].path_or_host, src[i].port, timeout_ms, timeout_ms));
            else
                db->db.add_database(Xapian::Database(src[i].path_or_host));
            return 0;
        });
        if (rc)
            return rc;
    }
    return 0;
}

extern "C" void js_xdb_close(js_xdb *db)
{
    if (!db)
        return;
    guard(db->err, "closing", [&] {
        db->db.close();
        return 0;
    });
    delete db;
}

extern "C" const char *js_xdb_errmsg(const js_xdb *db) { return db ? db->err : ""; }

extern "C" int js_xdb_reopen(js_xdb *db)
{
    if (!db)
        return JS_EINVALID;
    db->err[0] = 0;
    return guard(db->err, "reopening", [&] { return db->db.reopen() ? 1 : 0; });
}

extern "C" int js_xdb_get_stats(js_xdb *db, int count_terms, js_xdb_stats *out)
{
    if (!db || !out)
        return JS_EINVALID;
    db->err[0] = 0;
    return guard(db->err, "reading the statistics", [&] {
        js_xdb_stats s{};
        s.doccount = db->db.get_doccount();
        s.lastdocid = db->db.get_lastdocid();
        s.total_length = db->db.get_total_length();
        s.avlength = db->db.get_avlength();
        s.has_positions = db->db.has_positions();
        if (count_terms)
            for (auto t = db->db.allterms_begin(); t != db->db.allterms_end(); ++t)
                if ((*t)[0] != JS_XAPIAN_META) /* terms are never empty */
                    s.terms++;
        *out = s;
        return 0;
    });
}

extern "C" int js_xdb_terms(js_xdb *db, const char *prefix, size_t len,
                            js_xterm_df_fn fn, void *ctx)
{
    if (!db || !fn || (!prefix && len))
        return JS_EINVALID;
    db->err[0] = 0;
    return guard(db->err, "listing terms", [&] {
        std::string p(prefix ? prefix : "", len);
        /* a database of several shards merges their term lists and sums
         * their frequencies */
        for (auto t = db->db.allterms_begin(p); t != db->db.allterms_end(p);
             ++t) {
            const std::string &term = *t;
            int rc = fn(ctx, term.data(), term.size(), t.get_termfreq());
            if (rc)
                return rc;
        }
        return 0;
    });
}

/* ---------------------------------------------------------------------
 * Queries
 * ------------------------------------------------------------------- */

namespace {

/* Allocates a query handle into *out and runs make(q) on it: the shape
 * of every constructor.  Returns make's code (JS_ENOMEM without a
 * handle). */
template <class F> int new_query(js_xq **out, const char *what, F make)
{
    if (!out)
        return JS_EINVALID;
    js_xq *q = new (std::nothrow) js_xq;
    *out = q;
    if (!q)
        return JS_ENOMEM;
    int rc = guard(q->err, what, [&] { return make(q); });
    q->failed = rc != 0;
    return rc;
}

bool usable(const js_xq *q) { return q && !q->failed; }

} // namespace

extern "C" int js_xq_term(js_xq **out, const char *term, size_t len,
                          uint32_t wqf)
{
    return new_query(out, "term query", [&](js_xq *q) {
        if (!term_ok(term, len))
            return set_err(q->err, JS_EINVALID, "", "a term is empty, NULL or too long");
        q->q = Xapian::Query(term_key(term, len), wqf ? wqf : 1);
        return 0;
    });
}

extern "C" int js_xq_phrase(js_xq **out, const char *const *terms,
                            const size_t *lens, const uint32_t *rels, size_t n)
{
    return new_query(out, "phrase query", [&](js_xq *q) {
        if (!terms || !lens || !rels || n == 0)
            return set_err(q->err, JS_EINVALID, "", "a phrase needs at least one term");
        if (rels[0] != 0)
            return set_err(q->err, JS_EINVALID, "", "a phrase's first position must be 0");
        for (size_t i = 0; i < n; i++) {
            if (!term_ok(terms[i], lens[i]))
                return set_err(q->err, JS_EINVALID, "", "a term is empty, NULL or too long");
            if (i && rels[i] <= rels[i - 1])
                return set_err(q->err, JS_EINVALID, "",
                               "a phrase's positions must ascend");
        }
        if (n == 1) {
            q->q = Xapian::Query(term_key(terms[0], lens[0]));
            return 0;
        }
        std::vector<Xapian::Query> sub;
        sub.reserve(n);
        for (size_t i = 0; i < n; i++)
            sub.emplace_back(term_key(terms[i], lens[i]));
        /* window = span: n when rels are 0..n-1 (exact), more with gaps. */
        Xapian::termcount window = (Xapian::termcount)rels[n - 1] + 1;
        q->q = Xapian::Query(Xapian::Query::OP_PHRASE, sub.begin(), sub.end(),
                             window);
        return 0;
    });
}

extern "C" int js_xq_combine(js_xq **out, int op, const js_xq *const *subs,
                             size_t n)
{
    return new_query(out, "combining queries", [&](js_xq *q) {
        Xapian::Query::op xop;
        switch (op) {
        case JS_XQ_AND: xop = Xapian::Query::OP_AND; break;
        case JS_XQ_OR: xop = Xapian::Query::OP_OR; break;
        case JS_XQ_AND_NOT: xop = Xapian::Query::OP_AND_NOT; break;
        default: return set_err(q->err, JS_EINVALID, "", "unknown query operator");
        }
        if (!subs || n == 0 || (op == JS_XQ_AND_NOT && n < 2))
            return set_err(q->err, JS_EINVALID, "",
                           op == JS_XQ_AND_NOT ? "AND_NOT needs two or more sub-queries"
                                               : "no sub-query given");
        std::vector<Xapian::Query> sub;
        sub.reserve(n);
        for (size_t i = 0; i < n; i++) {
            if (!usable(subs[i]))
                return set_err(q->err, JS_EINVALID, "", "a sub-query is missing or failed");
            sub.push_back(subs[i]->q);
        }
        if (op == JS_XQ_AND_NOT && n > 2) {
            /* a AND_NOT (b OR c ...): Xapian's AND_NOT also takes a list,
             * but this spelling says what it means. */
            Xapian::Query rest(Xapian::Query::OP_OR, sub.begin() + 1, sub.end());
            q->q = Xapian::Query(Xapian::Query::OP_AND_NOT, sub[0], rest);
        } else {
            q->q = Xapian::Query(xop, sub.begin(), sub.end());
        }
        return 0;
    });
}

extern "C" int js_xq_scale(js_xq **out, const js_xq *sub, double factor)
{
    return new_query(out, "scaling a query", [&](js_xq *q) {
        if (!usable(sub))
            return set_err(q->err, JS_EINVALID, "", "the sub-query is missing or failed");
        if (!std::isfinite(factor) || factor < 0)
            return set_err(q->err, JS_EINVALID, "",
                           "a weight factor must be finite and not negative");
        q->q = Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, sub->q, factor);
        return 0;
    });
}

extern "C" const char *js_xq_errmsg(const js_xq *q) { return q ? q->err : ""; }

extern "C" int js_xq_describe(const js_xq *q, char *buf, size_t buflen)
{
    if (!buf || !buflen)
        return JS_EINVALID;
    buf[0] = 0;
    if (!usable(q))
        return JS_EINVALID;
    char err[kErrLen];
    return guard(err, "", [&] {
        std::snprintf(buf, buflen, "%s", q->q.get_description().c_str());
        return 0;
    });
}

extern "C" void js_xq_close(js_xq *q) { delete q; }

/* ---------------------------------------------------------------------
 * Searching
 * ------------------------------------------------------------------- */

extern "C" int js_xdb_search(js_xdb *db, const js_xq *q, const js_xsearch *p,
                             js_xmset **out)
{
    if (!db)
        return JS_EINVALID;
    db->err[0] = 0;
    if (!out || !p)
        return set_err(db->err, JS_EINVALID, "", "no parameters or result pointer");
    if (!usable(q))
        return set_err(db->err, JS_EINVALID, "", "the query is missing or failed");
    if (!std::isfinite(p->k1) || p->k1 < 0 || !std::isfinite(p->b) || p->b < 0 ||
        p->b > 1 || !std::isfinite(p->min_normlen) || p->min_normlen < 0)
        return set_err(db->err, JS_EINVALID, "",
                       "BM25 needs k1 >= 0, 0 <= b <= 1 and min_normlen >= 0");
    js_xmset *m = nullptr;
    int rc = guard(db->err, "searching", [&] {
        /* MSet's constructor allocates, so the handle is made in here. */
        m = new js_xmset;
        m->enq.reset(new Xapian::Enquire(db->db));
        Xapian::Enquire &enq = *m->enq;
        enq.set_query(q->q);
        enq.set_weighting_scheme(Xapian::BM25Weight(p->k1, 0, 1, p->b, p->min_normlen));
        if (p->tie_slot) /* ascending: the lower section id first */
            enq.set_sort_by_relevance_then_value(p->tie_slot - 1, false);
        m->mset = enq.get_mset(p->offset, p->count, p->check_at_least);
        /* One pipelined fetch of every hit's document (remote: one round
         * trip instead of one per hit). */
        m->mset.fetch(m->mset.begin(), m->mset.end());
        return 0;
    });
    if (rc) {
        delete m;
        return rc;
    }
    *out = m;
    return 0;
}

extern "C" size_t js_xmset_size(const js_xmset *m) { return m ? m->mset.size() : 0; }

extern "C" void js_xmset_counts(const js_xmset *m, js_xcounts *out)
{
    if (!out)
        return;
    *out = js_xcounts{};
    if (m) /* these getters only read members: they do not throw */
        *out = js_xcounts{m->mset.get_matches_estimated(),
                          m->mset.get_matches_lower_bound(),
                          m->mset.get_matches_upper_bound()};
}

extern "C" int js_xmset_hit(js_xmset *m, size_t i, js_xhit *out)
{
    if (!m)
        return JS_EINVALID;
    m->err[0] = 0;
    if (!out || i >= m->mset.size())
        return set_err(m->err, JS_EINVALID, "", "no such hit");
    return guard(m->err, "reading a hit", [&] {
        Xapian::MSetIterator it = m->mset[(Xapian::doccount)i];
        js_xhit h{};
        h.docid = *it;
        h.rank = it.get_rank();
        h.weight = it.get_weight();
        m->data = it.get_document().get_data();
        h.data = m->data.c_str();
        h.data_len = m->data.size();
        *out = h;
        return 0;
    });
}

extern "C" const char *js_xmset_errmsg(const js_xmset *m) { return m ? m->err : ""; }

extern "C" void js_xmset_close(js_xmset *m) { delete m; }

extern "C" int js_xmset_matching(js_xmset *m, size_t i, js_xterm_fn fn, void *ctx)
{
    if (!m)
        return JS_EINVALID;
    m->err[0] = 0;
    if (!fn || !m->enq || i >= m->mset.size())
        return set_err(m->err, JS_EINVALID, "", "no such hit");
    return guard(m->err, "reading a hit's matching terms", [&] {
        Xapian::MSetIterator it = m->mset[(Xapian::doccount)i];
        for (auto t = m->enq->get_matching_terms_begin(it);
             t != m->enq->get_matching_terms_end(it); ++t) {
            const std::string &s = *t;
            int r = fn(ctx, s.data(), s.size());
            if (r)
                return r;
        }
        return 0;
    });
}

extern "C" int js_xdb_check_path(const char *path, uint64_t *errors, char *err,
                                 size_t errlen)
{
    char buf[kErrLen] = "";
    if (errors)
        *errors = 0;
    if (!path || !path[0]) {
        if (err && errlen)
            std::snprintf(err, errlen, "no database path");
        return JS_EINVALID;
    }
    int rc = guard(buf, path, [&]() -> int {
        /* no output stream: Xapian only counts the problems it finds */
        size_t n = Xapian::Database::check(std::string(path), 0, nullptr);
        if (errors)
            *errors = n;
        if (n) {
            std::snprintf(buf, kErrLen, "%s: Xapian's check found %zu problem%s",
                          path, n, n == 1 ? "" : "s");
            return JS_ECORRUPT;
        }
        return 0;
    });
    if (err && errlen)
        std::snprintf(err, errlen, "%s", buf);
    return rc;
}
