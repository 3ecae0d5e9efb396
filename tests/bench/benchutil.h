/*
 * benchutil.h — helpers shared by the benchmark programs in tests/bench.
 *
 * In:  run counts as command-line strings, run times in seconds, byte
 *      counts, short byte strings to fold into a hash.
 * Out: the CLOCK_MONOTONIC time, a parsed run count, throughputs in MB/s
 *      (MB = 10^6 bytes) sorted with their median, a packed word for the
 *      FNV-1a-style hashes the benchmarks print, and whether stdout was
 *      written in full.  Nothing here allocates: every buffer is the
 *      caller's.
 *
 * Everything is static inline, so a program includes this header and
 * uses what it needs; it is not part of the library.
 */
#ifndef JS_TESTS_BENCH_BENCHUTIL_H
#define JS_TESTS_BENCH_BENCHUTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_RUNS 5
#define MAX_RUNS 1000

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

/* Returns the CLOCK_MONOTONIC time in seconds. */
static inline double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* qsort comparator for doubles.  Returns <0, 0 or >0. */
static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Parses a run count in 1..MAX_RUNS from s (borrowed).  Returns it, or 0
 * if s is not one. */
static inline int parse_runs(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > MAX_RUNS)
        return 0;
    return (int)v;
}

/* Fills v[0..n) (the caller's array of n >= 1 doubles) with bytes / 10^6 /
 * secs[r] for each run r, 0 for a run that took no time, and sorts it
 * ascending, so v[0] is the min and v[n - 1] the max; secs (borrowed) is
 * left in run order.  Returns the median (the mean of the middle two for
 * an even n). */
static inline double rates(const double *secs, int n, uint64_t bytes,
                           double *v)
{
    for (int r = 0; r < n; r++)
        v[r] = secs[r] > 0 ? (double)bytes / 1e6 / secs[r] : 0.0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Returns the n (1..7) bytes at p (borrowed) packed into one word that
 * depends on every one of them, without a byte-wise copy into a wider
 * variable (a store-forwarding stall that once made a hashing callback
 * cost more than the pipeline it measures): overlapping 4-byte loads for
 * n >= 4, else three single bytes that cover all of 1..3. */
static inline uint64_t load_short(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, u, 4);
        memcpy(&b, u + n - 4, 4);
        return (uint64_t)a << 32 | b;
    }
    return (uint64_t)u[0] << 16 | (uint64_t)u[n >> 1] << 8 | u[n - 1];
}

/* Flushes stdout and checks that all of it was written; on a failure
 * prints "prog: writing stdout: <reason>" to stderr (prog is borrowed).
 * Returns 0 when stdout is fine, else 1 (the exit status to return). */
static inline int finish_stdout(const char *prog)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: writing stdout: %s\n", prog, strerror(errno));
        return 1;
    }
    return 0;
}

#endif /* JS_TESTS_BENCH_BENCHUTIL_H */
