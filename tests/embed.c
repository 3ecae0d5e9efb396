/*
 * embed.c — a back-end embedding libjiansuo, built by `make installcheck`
 * (and so by `make distcheck`) with nothing but the installed jiansuo.h
 * and `pkg-config --cflags --libs jiansuo`.
 *
 * In:  a directory to build a small index in (argv[1]).
 * Out: exit status 0 when a build from memory, an index opened once and
 *      searched from four threads at once all work through the public
 *      API; a message on stderr and status 1 otherwise.
 */
#include <jiansuo.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char corpus[] =
    "{\"id\":\"a\",\"title\":\"后端\",\"text\":\"后端程序通过公共头文件调用检索库。\"}\n"
    "{\"id\":\"b\",\"title\":\"線程\",\"text\":\"多個線程共用一個索引句柄。\"}\n";

static js_index *ix;

/* Searches for 索引 (Simplified; the text says 索引 in a Traditional
 * document) and checks the one hit.  Returns NULL or an error string. */
static void *work(void *arg)
{
    (void)arg;
    for (int i = 0; i < 50; i++) {
        js_results *r = NULL;
        int rc = js_search(&r, ix, "线程 索引", strlen("线程 索引"), NULL);
        const char *bad = NULL;
        if (rc)
            bad = "js_search failed";
        else if (js_results_count(r) != 1)
            bad = "wrong number of hits";
        else if (strcmp(js_results_hit(r, 0)->id, "b"))
            bad = "wrong hit";
        js_results_free(r);
        if (bad)
            return (void *)bad;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: embed DIR\n");
        return 2;
    }
    js_builder *b = NULL;
    int rc = js_builder_open(&b, argv[1], NULL);
    if (!rc)
        rc = js_builder_add_memory(b, "notes.jsonl", corpus, strlen(corpus));
    if (!rc)
        rc = js_builder_commit(b);
    if (rc) {
        fprintf(stderr, "embed: build: %s\n", b ? js_builder_errmsg(b) : js_strerror(rc));
        js_builder_close(b);
        return 1;
    }
    js_builder_close(b);
    if ((rc = js_index_open(&ix, argv[1]))) {
        fprintf(stderr, "embed: open: %s\n", ix ? js_index_errmsg(ix) : js_strerror(rc));
        js_index_close(ix);
        return 1;
    }
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, work, NULL);
    int failed = 0;
    for (int i = 0; i < 4; i++) {
        void *bad;
        pthread_join(t[i], &bad);
        if (bad) {
            fprintf(stderr, "embed: %s\n", (const char *)bad);
            failed = 1;
        }
    }
    js_index_close(ix);
    if (!failed)
        printf("embed: libjiansuo %s: built, opened and searched from 4 threads\n",
               js_version());
    return failed;
}
