/*
 * replay.c — runs a fuzz target on saved inputs, without libFuzzer.
 *
 * In:  files and directories on the command line (directories are read
 *      one level deep, entries in byte order of their names); with no
 *      argument, $FUZZ_CORPUS/TARGET, where TARGET is this program's
 *      name after "replay_" (make check sets FUZZ_CORPUS).
 * Out: LLVMFuzzerTestOneInput called once per file, after
 *      LLVMFuzzerInitialize when the target defines one; a broken
 *      invariant or a sanitizer report aborts the run, so the last line
 *      "fuzz_TARGET: N passed, 0 failed" (summed by scripts/test) means
 *      every input passed.  Exit status 0, or 1 when an input cannot be
 *      read or nothing was found to replay.
 *
 * Linked with gcc and the configured sanitizers by make check, so that
 * every input that once found a bug keeps being tried on every build.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Weak, so that targets without an initialiser link too. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned long passed;
static int failed_read;

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        failed_read = 1;
        return;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            uint8_t *nb = realloc(buf, cap);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "replay: %s: out of memory\n", path);
        exit(1);
    }
    /* An exact-size copy: ASan then catches a read one past the end,
     * as it does under libFuzzer. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact)
        exit(1);
    memcpy(exact, buf, len);
    free(buf);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    passed++;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        failed_read = 1;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        failed_read = 1;
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, cap * sizeof *names);
            if (!nn)
                exit(1);
            names = nn;
        }
        size_t l = strlen(path) + strlen(e->d_name) + 2;
        if (!(names[n] = malloc(l)))
            exit(1);
        snprintf(names[n++], l, "%s/%s", path, e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        stat(names[i], &st);
        if (S_ISREG(st.st_mode))
            run_file(names[i]);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    const char *slash = strrchr(argv[0], '/');
    const char *prog = slash ? slash + 1 : argv[0];
    const char *target = strncmp(prog, "replay_", 7) == 0 ? prog + 7 : prog;
    /* libtool's wrapper runs the real binary as lt-replay_TARGET. */
    if (strncmp(prog, "lt-replay_", 10) == 0)
        target = prog + 10;
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            run_path(argv[i]);
    } else {
        const char *corpus = getenv("FUZZ_CORPUS");
        if (!corpus) {
            fprintf(stderr, "usage: %s FILE|DIR... (or set FUZZ_CORPUS)\n",
                    prog);
            return 2;
        }
        size_t l = strlen(corpus) + strlen(target) + 2;
        char *dir = malloc(l);
        if (!dir)
            return 1;
        snprintf(dir, l, "%s/%s", corpus, target);
        run_path(dir);
        free(dir);
    }
    printf("fuzz_%s: %lu passed, %d failed\n", target, passed, failed_read);
    return failed_read || passed == 0;
}
