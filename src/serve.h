/* serve.h — the HTTP server verb of the authc program. */
#ifndef AUTHC_SRC_SERVE_H
#define AUTHC_SRC_SERVE_H

#include <pthread.h>
#include <strings.h>

#include "settings.h"

/* Serves until SIGINT/SIGTERM. Returns the process exit code. */
int serve_run(const runtime *rt, const char *listen, const char *static_dir);

#endif
