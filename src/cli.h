/*
 * cli.h — what the `jiansuo` subcommands share.
 *
 * In:  argv of one subcommand.  Out: its exit status: 0 success, 1 a
 *      failure the user must look at, 2 a usage error.
 *
 * The CLI is a thin client: everything it does goes through jiansuo.h.
 */
#ifndef JS_CLI_H
#define JS_CLI_H

#include <stddef.h>
#include <stdio.h>

#define JS_EXIT_OK 0
#define JS_EXIT_FAIL 1
#define JS_EXIT_USAGE 2

/* Each subcommand: argv[0] is the subcommand's name. */
int js_cmd_analyze(int argc, char **argv);
int js_cmd_sections(int argc, char **argv);

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
