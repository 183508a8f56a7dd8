/* settings.h — what the `authc` program reads from its environment and an
 * optional dotenv-style config file, and how it turns that into a config. */
#ifndef AUTHC_SRC_SETTINGS_H
#define AUTHC_SRC_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "authc.h"
#include "authc/adapter.h"
#include "users.h"

#define SETTINGS_MAX 256

typedef struct settings {
    /* name=value pairs from the config file; the environment wins. */
    char *names[SETTINGS_MAX];
    char *values[SETTINGS_MAX];
    size_t n;
    /* program options */
    const char *listen;      /* host:port */
    const char *static_dir;
    const char *config_file;
    const char *base_path;   /* --base-path overrides */
} settings;

/* Reads a dotenv-style file (KEY=VALUE, # comments, optional quotes) into
 * s. Returns false with a message naming the line. */
bool settings_load_file(settings *s, const char *path, char *err, size_t errlen);
/* Value of a setting: environment first, then the file; NULL when unset.
 * Owned by the environment or s. */
const char *settings_get(const settings *s, const char *name);
void settings_free(settings *s);

/* Everything built from settings for a running instance. */
typedef struct runtime {
    authc *auth;
    authc_adapter *adapter;
    users_db *users;
} runtime;

/* Builds the runtime. On failure prints every problem (one per line, what
 * to set) to stderr and returns false. check_only: validate, don't migrate. */
bool runtime_build(const settings *s, runtime *rt, bool migrate, bool verbose);
void runtime_free(runtime *rt);

/* The program's log sink (stderr, one line each, timestamped). */
void prog_log(void *ud, const char *level, const char *msg);

#endif
