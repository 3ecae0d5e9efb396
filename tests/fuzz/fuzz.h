/*
 * fuzz.h — what the fuzz targets share.
 *
 * In:  nothing.  Out: the libFuzzer entry points' prototypes (so that
 *      -Wmissing-prototypes is satisfied and replay.c calls the same
 *      functions) and FUZZ_FAIL, which reports a broken invariant and
 *      aborts: abort() rather than assert(), which NDEBUG would drop.
 */
#ifndef JS_FUZZ_H
#define JS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_FAIL(...)                                                      \
    do {                                                                    \
        fprintf(stderr, "%s:%d: invariant broken: ", __FILE__, __LINE__);   \
        fprintf(stderr, __VA_ARGS__);                                       \
        fputc('\n', stderr);                                                \
        abort();                                                            \
    } while (0)

#endif /* JS_FUZZ_H */
