/*
 * writeq.c — the write queue: POST /documents and DELETE /documents/ID,
 * committed before they are answered, batched by group commit.
 *
 * In:  jobs from the handler (checked records to add, or an id to
 *      delete), from any request thread.
 * Out: each job's response (200 with the generation that holds it, 404
 *      for an id the index does not hold, 400 or 5xx), through the job's
 *      done() callback, after the commit that holds it is on disk.
 *
 * One thread writes.  It takes every job waiting, applies them in the
 * order they came, commits once, and answers them all: so under load
 * many requests share one commit (and its fsyncs), and a lone request
 * waits for nothing but its own commit.  Between batches the index's
 * lock is released, so `jiansuo add` or `index --update` beside the
 * server waits for a batch at most (the server waits for them in turn).
 *
 * A batch is all or nothing per request: a job that fails (a record the
 * ingest warns about, which the handler's checks should already have
 * refused) is answered with its error and the batch is applied again
 * without it, so no other request loses its records and no request is
 * applied in part.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "serve.h"

/* The writer thread's view of the job being applied, for the warning
 * callback. */
typedef struct wstate {
    js_srv_job *cur;
    char warning[512];
} wstate;

static void on_warning(void *ctx, const char *file, uint64_t line,
                       uint64_t offset, const char *msg)
{
    (void)file;
    (void)line;
    (void)offset;
    wstate *ws = ctx;
    if (ws->cur && !ws->warning[0])
        snprintf(ws->warning, sizeof ws->warning, "%s", msg);
}

static void answer(js_srv_job *job)
{
    if (job->done)
        job->done(job);
}

/* A record's source name: its identity as a file would be, unique per
 * id so that a later request's records never replace this one's by
 * source (a source's documents are replaced together), and not a path,
 * so that `index --update /` never takes it for a file gone. */
static int record_name(char *buf, size_t cap, const char *id)
{
    int n = snprintf(buf, cap, "api:%s", id);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Applies job to w.  Returns 0, 1 when the job failed alone (its
 * response set: the batch is to be applied again without it), or -1
 * when the writer failed (message in w). */
static int apply(js_writer *w, js_srv_job *job, wstate *ws)
{
    ws->cur = job;
    ws->warning[0] = 0;
    if (job->kind == JS_SRV_JOB_DELETE) {
        int rc = js_writer_delete_id(w, job->ids[0]);
        if (rc == JS_ENOTFOUND) {
            js_srv_error(&job->resp, 404, "no document has the id '%s'",
                         job->ids[0]);
            return 0; /* answered; nothing to undo */
        }
        return rc ? -1 : 0;
    }
    char name[1100];
    for (size_t i = 0; i < job->nrecords; i++) {
        if (record_name(name, sizeof name, job->ids[i])) {
            js_srv_error(&job->resp, 400, "record %zu: the id is too long",
                         i + 1);
            return 1;
        }
        int rc = js_writer_add_memory(w, name, job->lines[i],
                                      job->line_lens[i]);
        if (rc)
            return -1;
        if (ws->warning[0]) {
            js_srv_error(&job->resp, 400, "record %zu: %s; nothing was "
                         "applied", i + 1, ws->warning);
            return 1;
        }
    }
    return 0;
}

/* Applies and commits the batch; sets every job's response. */
static void run_batch(js_srv *s, js_srv_job *batch)
{
    const js_srv_config *cfg = s->cfg;
    wstate ws = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        js_writer_options o = cfg->writer;
        o.warn = on_warning;
        o.warn_ctx = &ws;
        o.wait = 1; /* a `jiansuo add` beside the server: wait for it */
        o.format = "jsonl";
        js_writer *w = NULL;
        int rc = js_writer_open(&w, cfg->dir, &o);
        int failed_alone = 0;
        size_t nreq = 0, nrec = 0;
        for (js_srv_job *j = batch; j && !rc; j = j->next) {
            if (j->resp.status)
                continue; /* answered in an earlier try */
            int a = apply(w, j, &ws);
            if (a > 0) {
                failed_alone = 1;
                break;
            }
            if (a < 0)
                rc = -1;
            nreq++;
            nrec += j->kind == JS_SRV_JOB_ADD ? j->nrecords : 0;
        }
        if (failed_alone) {
            js_writer_close(w); /* drops what was applied: try again */
            continue;
        }
        if (!rc)
            rc = js_writer_commit(w);
        js_writer_stats st;
        js_writer_get_stats(w, &st);
        char msg[600];
        snprintf(msg, sizeof msg, "%s", w ? js_writer_errmsg(w)
                                           : js_strerror(rc));
        js_writer_close(w);
        if (!rc)
            js_srv_index_changed(s);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double us = (t1.tv_sec - t0.tv_sec) * 1e6 +
                    (t1.tv_nsec - t0.tv_nsec) / 1e3;
        for (js_srv_job *j = batch; j; j = j->next) {
            if (j->resp.status)
                continue;
            if (rc) {
                js_srv_error(&j->resp, rc == JS_ENOMEM ? 503 : 500,
                             "the write failed, nothing of it was "
                             "applied: %s", msg);
                continue;
            }
            json_t *r = json_object();
            if (j->kind == JS_SRV_JOB_ADD)
                json_object_set_new(r, "records",
                                    json_integer((json_int_t)j->nrecords));
            else
                json_object_set_new(r, "deleted", json_string(j->ids[0]));
            json_object_set_new(r, "generation",
                                json_integer((json_int_t)st.generation));
            /* how the group commit went: this request shared its commit
             * with these others */
            json_t *b = json_object();
            json_object_set_new(b, "requests", json_integer((json_int_t)nreq));
            json_object_set_new(b, "records", json_integer((json_int_t)nrec));
            json_object_set_new(r, "batch", b);
            json_object_set_new(r, "micros", json_integer((json_int_t)(us + 0.5)));
            char *text = json_dumps(r, JSON_COMPACT);
            json_decref(r);
            if (!text) {
                js_srv_error(&j->resp, 503, "committed, but out of memory "
                             "for the answer");
                continue;
            }
            j->resp.status = 200;
            j->resp.content_type = "application/json; charset=utf-8";
            j->resp.body = text;
            j->resp.len = strlen(text);
        }
        return;
    }
}

static void *writer_main(void *arg)
{
    js_srv *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->qmu);
        while (!s->qhead && !s->qstop)
            pthread_cond_wait(&s->qcv, &s->qmu);
        js_srv_job *batch = s->qhead;
        s->qhead = s->qtail = NULL;
        s->qbytes = 0;
        int stop = s->qstop;
        pthread_mutex_unlock(&s->qmu);
        if (!batch && stop)
            return NULL;
        run_batch(s, batch);
        while (batch) {
            js_srv_job *next = batch->next;
            batch->next = NULL;
            answer(batch); /* done() owns the job from here */
            batch = next;
        }
    }
}

int js_srv_writeq_start(js_srv *s, char *err, size_t errlen)
{
    if (pthread_create(&s->writer, NULL, writer_main, s)) {
        snprintf(err, errlen, "cannot start the writer thread");
        return JS_ENOMEM;
    }
    s->writer_started = 1;
    return 0;
}

void js_srv_writeq_stop(js_srv *s)
{
    if (!s->writer_started)
        return;
    pthread_mutex_lock(&s->qmu);
    s->qstop = 1;
    pthread_cond_signal(&s->qcv);
    pthread_mutex_unlock(&s->qmu);
    pthread_join(s->writer, NULL);
    s->writer_started = 0;
}

int js_srv_submit(js_srv *s, js_srv_job *job)
{
    pthread_mutex_lock(&s->qmu);
    int rc = 0;
    if (s->qstop || !s->writer_started) {
        js_srv_error(&job->resp, 503, "the server is stopping; send the "
                     "write again to its successor");
        rc = -1;
    } else if (s->qbytes + job->bytes > JS_SRV_MAX_QUEUED_BYTES &&
               s->qhead) {
        job->resp.retry_after = 1;
        js_srv_error(&job->resp, 503, "too many writes waiting (%zu bytes "
                     "queued); retry in a second", s->qbytes);
        rc = -1;
    } else {
        job->next = NULL;
        if (s->qtail)
            s->qtail->next = job;
        else
            s->qhead = job;
        s->qtail = job;
        s->qbytes += job->bytes;
        pthread_cond_signal(&s->qcv);
    }
    pthread_mutex_unlock(&s->qmu);
    return rc;
}
