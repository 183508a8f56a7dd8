/* settings.h — the `authc` program's view of its settings: its own options
 * plus the library's settings source (include/authc/env.h). */
#ifndef AUTHC_SRC_SETTINGS_H
#define AUTHC_SRC_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "authc.h"
#include "authc/adapter.h"
#include "authc/env.h"

typedef struct settings {
    authc_settings *src;     /* environment + --config file */
    /* program options */
    const char *listen;      /* host:port */
    const char *static_dir;
    const char *config_file;
    const char *base_path;   /* --base-path overrides */
} settings;

/* Creates s->src and reads the --config / AUTHC_CONFIG file into it. False
 * with the reason printed to stderr. */
bool settings_load(settings *s);
/* A setting's value (environment first, then the file); NULL when unset.
 * Owned by the environment or s. */
static inline const char *settings_get(const settings *s, const char *name)
{
    return authc_settings_get(s->src, name);
}
void settings_free(settings *s);
/* Applies AUTHC_LOG_FORMAT (text or json) to the process's log. False with
 * the reason on stderr for another value. */
bool settings_log_format(const settings *s);

/* Everything built from settings for a running instance. */
typedef struct runtime {
    authc *auth;
    authc_adapter *adapter;  /* owned by res; NULL without AUTHC_DATABASE */
    authc_resources *res;
} runtime;

/* Builds the runtime. On failure prints every problem (one per line, what
 * to set) to stderr and returns false. migrate: create/update the schema. */
bool runtime_build(const settings *s, runtime *rt, bool migrate);
void runtime_free(runtime *rt);

/* The program's log sink (stderr, one line each, timestamped). */
#define prog_log authc_log_stderr

#endif
