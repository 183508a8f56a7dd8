/* env_int.h — private interface of lib/config: the state one
 * authc_config_from_settings run shares with the per-provider readers. */
#ifndef AUTHC_CONFIG_ENV_INT_H
#define AUTHC_CONFIG_ENV_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "authc.h"
#include "authc/env.h"
#include "users_int.h"
#include "util/problems_int.h"

/* What the config borrows (the public authc_resources). */
struct authc_resources {
    const authc_settings *settings; /* what the config was read from */
    authc_settings *own_settings;   /* the same when res owns it (from_env) */
    authc_adapter *adapter;
    authc__users *users;
    authc_log_fn log; /* for AUTHC_EMAIL=log links; never NULL */
    void *log_ud;
};

/* One run of authc_config_from_settings. */
typedef struct authc__env {
    const authc_settings *s;
    authc_config *cfg;
    authc_resources *res;
    authc__problems problems; /* every problem, rendered once at the end */
} authc__env;

/* Records one configuration problem: the text names the setting and says
 * what to set. */
#define authc__env_problem(e, ...) authc__problem(&(e)->problems, NULL, __VA_ARGS__)

/* The setting's value, NULL when unset or empty. Owned as authc_settings_get. */
const char *authc__env_get(const authc__env *e, const char *name);

/* A boolean setting by the parsing module's rule (authc__parse_bool), ""
 * being false: 1 or 0, -1 when it is no boolean. */
int authc__env_bool(const char *v);

/* The i-th NAME held by the files of s (i < authc__settings_count(s)). */
size_t authc__settings_count(const authc_settings *s);
const char *authc__settings_name(const authc_settings *s, size_t i);

/* The provider readers: each adds what its settings ask for to e->cfg and
 * records each problem with authc__env_problem. */
void authc__env_oauth(authc__env *e);
void authc__env_email(authc__env *e);
void authc__env_passkey(authc__env *e);

#endif
