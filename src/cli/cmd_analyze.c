/*
 * cmd_analyze.c — `jiansuo analyze [--json] [--no-fold] [TEXT...]`.
 *
 * In:  TEXT arguments joined by single spaces, or all of standard input.
 * Out: one line per term: position, kind, normalised term, byte range in
 *      the input and the input bytes it came from — as tab-separated
 *      columns under a header, or as one JSON object per line.
 *
 * The tool a user reaches for when a search does not match what they
 * expected: it shows exactly what js_text_analyze makes of a text.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "jiansuo.h"

typedef struct {
    const char *text;
    int json;
    int failed; /* writing stdout failed */
} printer;

static int print_token(void *ctx, const js_token *t)
{
    printer *p = ctx;
    const char *kind = js_token_kind_name(t->kind);
    if (p->json) {
        json_t *o = json_object();
        if (!o)
            return JS_ENOMEM;
        json_object_set_new(o, "position", json_integer(t->position));
        json_object_set_new(o, "kind", json_string(kind));
        json_object_set_new(o, "term", json_stringn(t->term, t->term_len));
        json_object_set_new(o, "start", json_integer((json_int_t)t->start));
        json_object_set_new(o, "end", json_integer((json_int_t)t->end));
        json_object_set_new(o, "source", json_stringn(p->text + t->start,
                                                      t->end - t->start));
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (!s)
            return JS_ENOMEM;
        if (puts(s) == EOF)
            p->failed = 1;
        free(s);
    } else {
        if (printf("%u\t%s\t%.*s\t%zu-%zu\t%.*s\n", t->position, kind,
                   (int)t->term_len, t->term, t->start, t->end,
                   (int)(t->end - t->start), p->text + t->start) < 0)
            p->failed = 1;
    }
    return p->failed ? JS_EIO : 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: jiansuo analyze [--json] [--no-fold] [TEXT...]\n"
            "\n"
            "Shows the terms jiansuo makes of TEXT (or of standard input):\n"
            "position, kind (word, unigram, bigram), normalised term, byte\n"
            "range in the input, and the input it came from.\n"
            "\n"
            "  --json      one JSON object per term and line\n"
            "  --no-fold   keep Traditional characters (no T->S folding)\n"
            "  -h, --help  this text\n");
}

int js_cmd_analyze(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"no-fold", no_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    printer p = {NULL, 0, 0};
    js_analyze_options opts = JS_ANALYZE_OPTIONS_INIT;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            p.json = 1;
            break;
        case 'F':
            opts.flags |= JS_ANALYZE_NO_FOLD;
            break;
        case 'h':
        default:
            return js_cli_usage(usage, c);
        }
    }

    size_t len;
    char *text;
    if (optind < argc) {
        text = js_cli_join(argc - optind, argv + optind, &len);
        if (!text) {
            js_cli_error("analyze", "out of memory");
            return JS_EXIT_FAIL;
        }
    } else {
        text = js_cli_slurp(stdin, &len);
        if (!text) {
            js_cli_error("analyze", "cannot read standard input: %s",
                         strerror(errno));
            return JS_EXIT_FAIL;
        }
    }
    p.text = text;
    if (!p.json && puts("position\tkind\tterm\tbytes\tsource") == EOF)
        p.failed = 1;
    int rc = p.failed ? JS_EIO : js_text_analyze(text, len, &opts,
                                                 print_token, &p);
    free(text);
    if (fflush(stdout) == EOF || p.failed) {
        js_cli_error("analyze", "cannot write standard output: %s",
                     strerror(errno));
        return JS_EXIT_FAIL;
    }
    if (rc) {
        js_cli_error("analyze", "%s", js_strerror(rc));
        return JS_EXIT_FAIL;
    }
    return JS_EXIT_OK;
}
