/*
 * cli.h — what the `jiansuo` subcommands share.
 *
 * In:  argv of one subcommand.  Out: its exit status: 0 success, 1 a
 *      failure the user must look at, 2 a usage error.
 *
 * The CLI is a thin client: everything it does goes through jiansuo.h,
 * the only header on its include path (Makefile.am), so the compiler
 * holds it to that.
 */
#ifndef JS_CLI_H
#define JS_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "jiansuo.h"

#define JS_EXIT_OK 0
#define JS_EXIT_FAIL 1
#define JS_EXIT_USAGE 2

/* Each subcommand: argv[0] is the subcommand's name. */
int js_cmd_analyze(int argc, char **argv);
int js_cmd_sections(int argc, char **argv);
int js_cmd_index(int argc, char **argv);
int js_cmd_add(int argc, char **argv);
int js_cmd_delete(int argc, char **argv);
int js_cmd_merge(int argc, char **argv);

/* `jiansuo index --update` (cmd_write.c): brings the index in dir in line
 * with the trees paths[0..n).  Returns the exit status. */
int js_cli_update(const char *dir, js_writer_options *o, int n, char **paths);
int js_cmd_search(int argc, char **argv);
int js_cmd_stats(int argc, char **argv);
int js_cmd_check(int argc, char **argv);
int js_cmd_serve(int argc, char **argv);

#include <stdint.h>

/* A js_warning_fn that prints "jiansuo CMD: FILE:LINE: MESSAGE" (or with
 * "byte N", or neither) to stderr; ctx is the command name (a string).
 * When stderr is a terminal showing a progress line, the line is cleared
 * first (see js_cli_progress_clear). */
void js_cli_warning(void *ctx, const char *file, uint64_t line,
                    uint64_t offset, const char *msg);

/* Clears a progress line on stderr if one is showing. */
void js_cli_progress_clear(void);

/* Shows a progress line on stderr (a terminal only): printf-style, no
 * newline; the next call or js_cli_progress_clear replaces it. */
void js_cli_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* For getopt's 'h' and its errors (any other c): prints the command's
 * usage, to standard output for -h and to standard error otherwise, and
 * returns the exit status (0 or 2). */
int js_cli_usage(void (*print_usage)(FILE *), int c);

/* For the commands that only read an index (check, stats): reads
 * -d/--index DIR, --backend B, -h and, when json is not NULL, --json
 * (into *json) from argv with getopt and longopts, which name 'd', 'b',
 * 'h' and 'j'; then opens the index as js_cli_open_index does.  Returns
 * -1 with *ix and *dir (the caller closes and frees them) to go on, or
 * the exit status to return: 0 after --help, else after an error was
 * printed (*ix and *dir NULL). */
int js_cli_index_command(const char *cmd, int argc, char **argv,
                         const struct option *longopts,
                         void (*print_usage)(FILE *), int *json,
                         js_index **ix, char **dir);

/* Reads a --backend argument into *out (native or xapian).  Returns 0,
 * or -1 after printing an error for `cmd`. */
int js_cli_backend(const char *cmd, const char *arg, js_backend *out);

/* Returns the index directory to use: `given` if not NULL, else the
 * default (js_index_default_dir), as a malloc'ed string the caller frees;
 * prints an error for `cmd` and returns NULL when there is none. */
char *js_cli_index_dir(const char *cmd, const char *given);

/* Parses a count option's value: 1 to max, digits only.  Returns 0 and
 * *out, or -1. */
int js_cli_count(const char *s, unsigned long max, unsigned long *out);

/* For the commands that read an index: refuses arguments left in
 * argv[first..argc), finds the directory (as js_cli_index_dir; none
 * with opts->remote) and opens the index with opts (NULL: the backend
 * the directory holds).  Returns 0 with *ix and *dir set (the caller
 * closes and frees them; *dir is NULL for a remote index), or the exit
 * status to return after an error was printed. */
int js_cli_open_index(const char *cmd, int argc, char **argv, int first,
                      const char *given, const js_open_options *opts,
                      js_index **ix, char **dir);

/* Prints "jiansuo CMD: message" to stderr, printf-style. */
void js_cli_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reads all of `f` into a malloc'ed buffer (NUL-terminated for
 * convenience; *len excludes the NUL).  Returns the buffer, which the
 * caller frees, or NULL with errno set. */
char *js_cli_slurp(FILE *f, size_t *len);

/* Joins argv[0..argc) with single spaces into a malloc'ed string the
 * caller frees; NULL when out of memory. */
char *js_cli_join(int argc, char **argv, size_t *len);

#endif /* JS_CLI_H */
