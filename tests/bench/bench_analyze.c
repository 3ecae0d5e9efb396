/*
 * bench_analyze.c — throughput of js_text_analyze on real text.
 *
 * In:  FILE... of plain UTF-8 text (scripts/bench hands over a corpus
 *      already decompressed); options --runs N (default 5), --no-fold
 *      (set JS_ANALYZE_NO_FOLD), --json.
 * Out: on stdout, input bytes, tokens by kind, the median, min and max
 *      throughput in MB/s (MB = 10^6 bytes) across the runs, and a hash of
 *      every term, as a human-readable block or as one JSON object on one
 *      line.  Exit 0 on success, 1 when a file cannot be read or the
 *      analysis fails, 2 on a usage error.
 *
 * Every file is read into memory before timing starts, and each file is
 * one js_text_analyze call (one document), so a run measures the text
 * pipeline alone: no I/O, no allocation.  An untimed warm-up pass comes
 * first.  The callback does real but cheap work that the compiler cannot
 * drop — it counts tokens per kind and folds each term into a running
 * FNV-1a-style hash, which is printed — and every run must agree with the
 * warm-up, which catches a pipeline that is not deterministic.
 *
 * Not run by `make check`; built with `make tests/bench/bench_analyze`
 * and driven by scripts/bench.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jiansuo.h"

#include "benchutil.h"

/* One input file, read whole. */
typedef struct input {
    const char *name; /* borrowed from argv */
    char *data;       /* owned; freed by free_inputs() */
    size_t len;
} input;

/* What the callback accumulates during one run. */
typedef struct tally {
    uint64_t kinds[4]; /* indexed by js_token_kind; [0] counts unknowns */
    uint64_t hash;
} tally;

/* Prints the usage text to f.  Returns nothing. */
static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_analyze [--runs N] [--no-fold] [--json] FILE...\n"
            "\n"
            "Reads every FILE (plain UTF-8 text) into memory, then runs\n"
            "js_text_analyze over all of them N times (default %d) and\n"
            "reports the median, min and max throughput in MB/s\n"
            "(MB = 10^6 bytes), tokens by kind and a hash of every term.\n"
            "\n"
            "  --runs N    number of timed runs (1..%d)\n"
            "  --no-fold   keep Traditional characters (JS_ANALYZE_NO_FOLD)\n"
            "  --json      print one JSON object instead of a text block\n"
            "  -h, --help  this text\n",
            DEFAULT_RUNS, MAX_RUNS);
}

/* Reads all of the file at path into *out_data / *out_len (the buffer is
 * malloc'd, owned by the caller and freed with free(); it is never NULL
 * on success, even for an empty file).  Returns 0 on success, or -1 with
 * errno set (EINVAL for a gzip-compressed file, which is not text). */
static int read_file(const char *path, char **out_data, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 1 << 16, len = 0;
    int e;
    char *buf = malloc(cap);
    if (!buf)
        goto fail;
    for (;;) {
        if (len == cap) {
            char *nb = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                errno = ENOMEM;
                goto fail;
            }
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f))
                goto fail;
            break;
        }
    }
    if (fclose(f) != 0) {
        f = NULL;
        goto fail;
    }
    if (len >= 2 && (unsigned char)buf[0] == 0x1f &&
        (unsigned char)buf[1] == 0x8b) {
        free(buf);
        errno = EINVAL;
        return -1;
    }
    *out_data = buf;
    *out_len = len;
    return 0;
fail:
    e = errno;
    free(buf);
    if (f)
        fclose(f);
    errno = e ? e : EIO;
    return -1;
}

/* Frees the data of the n inputs and the array itself (which was
 * malloc'd).  Returns nothing; accepts NULL. */
static void free_inputs(input *in, size_t n)
{
    if (!in)
        return;
    for (size_t i = 0; i < n; i++)
        free(in[i].data);
    free(in);
}

/* The js_token_fn: counts the token by kind and folds its kind, length
 * and bytes into the tally's hash, eight bytes at a time (FNV-1a over
 * 64-bit words: a multiply per word keeps the callback cheap next to the
 * pipeline it measures; a CJK term takes two).  The token is borrowed.
 * Returns 0, so the analysis always goes on. */
static int count_token(void *ctx, const js_token *t)
{
    tally *ty = ctx;
    unsigned k = (unsigned)t->kind;
    ty->kinds[k <= 3 ? k : 0]++;
    uint64_t h = ty->hash;
    h = (h ^ ((uint64_t)t->term_len << 8 | k)) * FNV_PRIME;
    const char *p = t->term;
    size_t n = t->term_len;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * FNV_PRIME;
    }
    if (n)
        h = (h ^ load_short(p, n)) * FNV_PRIME;
    ty->hash = h;
    return 0;
}

/* Analyses the n inputs, one js_text_analyze call each, into *out (which
 * is reset first).  Returns 0, or 1 after printing which input failed. */
static int analyze_all(const input *in, size_t n,
                       const js_analyze_options *opts, tally *out)
{
    *out = (tally){{0}, FNV_OFFSET};
    for (size_t i = 0; i < n; i++) {
        int rc = js_text_analyze(in[i].data, in[i].len, opts, count_token,
                                 out);
        if (rc != 0) {
            fprintf(stderr, "bench_analyze: %s: %s\n", in[i].name,
                    js_strerror(rc));
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"runs", required_argument, NULL, 'r'},
        {"no-fold", no_argument, NULL, 'F'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int runs = DEFAULT_RUNS, fold = 1, json = 0, c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (!(runs = parse_runs(optarg))) {
                fprintf(stderr, "bench_analyze: --runs wants 1..%d, not "
                                "'%s'\n",
                        MAX_RUNS, optarg);
                return 2;
            }
            break;
        case 'F':
            fold = 0;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }

    /* Read everything first: timing covers analysis only. */
    size_t nin = (size_t)(argc - optind);
    input *in = calloc(nin, sizeof *in);
    if (!in) {
        fprintf(stderr, "bench_analyze: out of memory\n");
        return 1;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < nin; i++) {
        in[i].name = argv[optind + (int)i];
        if (read_file(in[i].name, &in[i].data, &in[i].len) != 0) {
            fprintf(stderr, "bench_analyze: %s: %s\n", in[i].name,
                    errno == EINVAL ? "gzip-compressed; decompress it first"
                                    : strerror(errno));
            free_inputs(in, nin);
            return 1;
        }
        total += in[i].len;
    }

    double *secs = malloc((size_t)runs * sizeof *secs);
    double *mbps = malloc((size_t)runs * sizeof *mbps);
    if (!secs || !mbps) {
        fprintf(stderr, "bench_analyze: out of memory\n");
        free(secs);
        free(mbps);
        free_inputs(in, nin);
        return 1;
    }
    js_analyze_options opts = JS_ANALYZE_OPTIONS_INIT;
    if (!fold)
        opts.flags |= JS_ANALYZE_NO_FOLD;

    /* An untimed warm-up pass faults in the character table and gives
     * the tally every timed run must reproduce. */
    tally first;
    int status = analyze_all(in, nin, &opts, &first);
    for (int r = 0; r < runs && !status; r++) {
        tally ty;
        double t0 = now();
        status = analyze_all(in, nin, &opts, &ty);
        secs[r] = now() - t0;
        if (!status && memcmp(&ty, &first, sizeof ty) != 0) {
            fprintf(stderr, "bench_analyze: run %d gave other tokens than "
                            "the warm-up run\n",
                    r + 1);
            status = 1;
        }
    }
    if (status) {
        free(secs);
        free(mbps);
        free_inputs(in, nin);
        return status;
    }

    double *sorted = mbps; /* secs stays in run order for the report */
    double median = rates(secs, runs, total, sorted);
    uint64_t ntok = first.kinds[0] + first.kinds[1] + first.kinds[2] +
                    first.kinds[3];

    if (json) {
        printf("{\"library\":\"%s\",\"fold\":%s,\"files\":%zu,"
               "\"bytes\":%" PRIu64 ",\"runs\":%d,"
               "\"tokens\":{\"word\":%" PRIu64 ",\"unigram\":%" PRIu64
               ",\"bigram\":%" PRIu64 ",\"total\":%" PRIu64 "},"
               "\"mb_per_s\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f},"
               "\"seconds\":[",
               js_version(), fold ? "true" : "false", nin, total, runs,
               first.kinds[JS_TOKEN_WORD], first.kinds[JS_TOKEN_UNIGRAM],
               first.kinds[JS_TOKEN_BIGRAM], ntok, median, sorted[0],
               sorted[runs - 1]);
        for (int r = 0; r < runs; r++)
            printf("%s%.9f", r ? "," : "", secs[r]);
        printf("],\"hash\":\"%016" PRIx64 "\"}\n", first.hash);
    } else {
        printf("analyze (libjiansuo %s), folding %s\n", js_version(),
               fold ? "on" : "off");
        printf("  input     %zu file%s, %" PRIu64 " bytes (%.2f MB)\n", nin,
               nin == 1 ? "" : "s", total, (double)total / 1e6);
        printf("  tokens    %" PRIu64 " (word %" PRIu64 ", unigram %" PRIu64
               ", bigram %" PRIu64 ")\n",
               ntok, first.kinds[JS_TOKEN_WORD],
               first.kinds[JS_TOKEN_UNIGRAM], first.kinds[JS_TOKEN_BIGRAM]);
        printf("  runs      %d\n", runs);
        printf("  MB/s      median %.1f  min %.1f  max %.1f\n", median,
               sorted[0], sorted[runs - 1]);
        printf("  hash      %016" PRIx64 "\n", first.hash);
    }
    free(secs);
    free(mbps);
    free_inputs(in, nin);
    return finish_stdout("bench_analyze");
}
