/*
 * cmd_check.c — `jiansuo check [-d DIR]`.
 *
 * In:  an index directory.
 * Out: "ok" with what was verified, or the first problem found and exit
 *      status 1.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jiansuo.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: jiansuo check [-d DIR] [--backend B]\n"
               "\n"
               "Verifies every checksum and structural invariant of an index\n"
               "(sorted lexicon, increasing ids, positions within section\n"
               "lengths, counts that agree) and names the first problem.  A\n"
               "Xapian index: Xapian's check of every shard, and info.json\n"
               "against the shards.\n"
               "\n"
               "  -d, --index DIR  index directory (default as for 'jiansuo index')\n"
               "  --backend B      native or xapian (default: native, else the\n"
               "                   Xapian index when DIR holds only that)\n"
               "  -h, --help       this text\n");
}

int js_cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"index", required_argument, NULL, 'd'},
        {"backend", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    js_index *ix;
    char *dir;
    int status = js_cli_index_command("check", argc, argv, longopts, usage,
                                      NULL, &ix, &dir);
    if (status >= 0)
        return status;
    if (js_index_check(ix)) {
        js_cli_error("check", "%s", js_index_errmsg(ix));
        js_index_close(ix);
        free(dir);
        return JS_EXIT_FAIL;
    }
    js_index_stats st;
    js_index_get_stats(ix, &st);
    if (st.backend == JS_BACKEND_XAPIAN)
        printf("%s: ok: xapian, %u shard%s, %llu documents, %llu sections "
               "checked\n", dir, st.shards, st.shards == 1 ? "" : "s",
               (unsigned long long)st.documents,
               (unsigned long long)st.sections);
    else
        printf("%s: ok: %llu documents, %llu sections, %llu terms, %llu "
               "postings checked\n",
               dir, (unsigned long long)st.documents,
               (unsigned long long)st.sections, (unsigned long long)st.terms,
               (unsigned long long)st.postings);
    js_index_close(ix);
    free(dir);
    return JS_EXIT_OK;
}
