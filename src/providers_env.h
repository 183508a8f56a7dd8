/* providers_env.h — OAuth/OIDC providers of the `authc` program from its
 * settings: AUTH_<ID>_ID/_SECRET/_ISSUER as Auth.js reads them, plus
 * AUTHC_<ID>_* extras. */
#ifndef AUTHC_SRC_PROVIDERS_ENV_H
#define AUTHC_SRC_PROVIDERS_ENV_H

#include <stdio.h>

#include "authc.h"
#include "settings.h"

/* Adds every configured preset (AUTH_<ID>_ID set, ID = id uppercased with
 * '-' → '_') and a generic OpenID Connect provider for every
 * AUTH_<X>_ISSUER whose X is no preset (id = x lowercased, '_' → '-';
 * AUTH_OIDC_ISSUER gives provider "oidc"). Each problem is printed to errs
 * as one line saying what to set; returns how many there were. */
int providers_from_env(const settings *s, authc_config *cfg, FILE *errs);

#endif
