/* serve.h — the HTTP server verb of the authc program (h2o's evloop in
 * front of libauthc): its options and its entry point. */
#ifndef AUTHC_SRC_SERVE_H
#define AUTHC_SRC_SERVE_H

#include <stddef.h>

#include "settings.h"

/* Defaults of the settings named beside them. */
#define SERVE_IDLE_TIMEOUT_DEFAULT 60      /* AUTHC_IDLE_TIMEOUT, s */
#define SERVE_HEADER_TIMEOUT_DEFAULT 20    /* AUTHC_HEADER_TIMEOUT, s */
#define SERVE_BODY_TIMEOUT_DEFAULT 30      /* AUTHC_BODY_TIMEOUT, s */
#define SERVE_MAX_CONNECTIONS_DEFAULT 16384 /* AUTHC_MAX_CONNECTIONS */

typedef struct serve_opts {
    const char *listen;          /* HOST:PORT */
    const char *static_dir;      /* NULL: no static files */
    const char *tls_cert;        /* both set: HTTPS */
    const char *tls_key;
    unsigned idle_timeout;       /* s a keep-alive connection may wait for its next request */
    unsigned header_timeout;     /* s from a request's first byte to its last header */
    unsigned body_timeout;       /* s from the end of the headers to the end of the body */
    size_t max_connections;      /* above it new connections are refused */
    size_t max_per_ip;           /* 0 = no per-address cap */
    const char *metrics_listen;  /* AUTHC_METRICS_LISTEN HOST:PORT; NULL = off */
} serve_opts;

/* Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (and threads it
 * starts later): serve_run takes them with sigwait. Call before starting
 * any thread. */
void serve_block_signals(void);

/* Serves until SIGINT/SIGTERM (SIGHUP reloads the TLS certificate).
 * Returns the process exit code. Borrows rt and o for its duration. */
int serve_run(const runtime *rt, const serve_opts *o);

#endif
