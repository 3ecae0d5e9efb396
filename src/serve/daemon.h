/*
 * daemon.h — `jiansuo serve`'s entry point (daemon.c), for cmd_serve.c.
 *
 * In:  the options, as a js_srv_config.
 * Out: the exit status after SIGTERM or SIGINT (0), or a failure to
 *      start (1, said on stderr; 2: a bad --listen).
 */
#ifndef JS_SERVE_DAEMON_H
#define JS_SERVE_DAEMON_H

#include <sys/socket.h>

#include "serve.h"

/* Serves cfg->dir until SIGTERM or SIGINT; SIGHUP reopens the index. */
int js_serve_run(js_srv_config *cfg);

/* Parses "ADDR:PORT" or "[ADDR]:PORT" (numeric addresses) into *ss.
 * Returns 0 or -1. */
int js_serve_parse_listen(const char *s, struct sockaddr_storage *ss,
                          socklen_t *len);

/* "jiansuo serve: MESSAGE" on stderr. */
void js_serve_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* JS_SERVE_DAEMON_H */
