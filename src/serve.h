/* serve.h — the HTTP server verb of the authc program. */
#ifndef AUTHC_SRC_SERVE_H
#define AUTHC_SRC_SERVE_H

#include <pthread.h>
#include <strings.h>

#include "settings.h"

/* Per-connection memory (libmicrohttpd's pool: request headers plus
 * response headers). It is touched in full once a connection has served a
 * request, so it is what an idle keep-alive connection costs. 32 KiB fits
 * a session of three cookie chunks; 8 KiB fits one (see docs). */
#define SERVE_CONN_MEMORY_DEFAULT (32 * 1024)
#define SERVE_CONN_MEMORY_MIN (8 * 1024)
#define SERVE_CONN_MEMORY_MAX (1024 * 1024)

/* Serves until SIGINT/SIGTERM. Returns the process exit code. */
int serve_run(const runtime *rt, const char *listen, const char *static_dir, size_t conn_memory);

#endif
