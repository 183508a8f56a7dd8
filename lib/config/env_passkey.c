/* env_passkey.c — AUTHC_PASSKEY* settings → the Passkey provider (Auth.js's
 * experimental.enableWebAuthn + Passkey()). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authc/webauthn.h"
#include "env_int.h"

#define MAX_ORIGINS 16

/* AUTHC_PASSKEY_USER_VERIFICATION and _ATTESTATION: one of a few words.
 * Returns how many problems. */
static int enums(authc__env *e)
{
    static const struct { const char *env, *allowed[5], *says; } ENUMS[] = {
        {"AUTHC_PASSKEY_USER_VERIFICATION", {"required", "preferred", "discouraged", NULL},
         "required, preferred or discouraged"},
        {"AUTHC_PASSKEY_ATTESTATION", {"none", "indirect", "direct", "enterprise", NULL},
         "none, indirect, direct or enterprise"},
    };
    size_t before = authc__problems_count(&e->problems);
    for (size_t i = 0; i < sizeof ENUMS / sizeof *ENUMS; i++) {
        const char *v = authc__env_get(e, ENUMS[i].env);
        bool ok = !v;
        for (size_t k = 0; !ok && ENUMS[i].allowed[k]; k++)
            ok = !strcmp(v, ENUMS[i].allowed[k]);
        if (!ok)
            authc__env_problem(e, "%s must be %s, not \"%.40s\"", ENUMS[i].env, ENUMS[i].says, v);
    }
    return (int)(authc__problems_count(&e->problems) - before);
}

/* Adds the "passkey" provider when AUTHC_PASSKEY is on. Optional:
 * AUTHC_PASSKEY_RP_ID, _RP_NAME, _ORIGINS (comma-separated),
 * _USER_VERIFICATION, _ATTESTATION. */
void authc__env_passkey(authc__env *e)
{
    const char *on = authc_settings_get(e->s, "AUTHC_PASSKEY");
    if (!on)
        return;
    int f = authc__env_bool(on);
    if (f < 0) {
        authc__env_problem(e, "AUTHC_PASSKEY must be 1 or 0 (true/false), not \"%.40s\"", on);
        return;
    }
    if (f == 0)
        return;
    if (!authc__env_get(e, "AUTHC_DATABASE")) {
        authc__env_problem(e, "AUTHC_PASSKEY=1 needs a database for the passkeys: set AUTHC_DATABASE "
                              "(e.g. sqlite:authc.db)");
        return;
    }
    if (enums(e))
        return;
    authc_passkey_provider p = {
        .id = "passkey",
        .name = "Passkey",
        .rp_id = authc_settings_get(e->s, "AUTHC_PASSKEY_RP_ID"),
        .rp_name = authc_settings_get(e->s, "AUTHC_PASSKEY_RP_NAME"),
        .user_verification = authc_settings_get(e->s, "AUTHC_PASSKEY_USER_VERIFICATION"),
        .attestation = authc_settings_get(e->s, "AUTHC_PASSKEY_ATTESTATION"),
        .enable_webauthn = true,
    };
    /* Comma-separated origins, split into a local copy. */
    char *copy = NULL;
    const char *origins[MAX_ORIGINS];
    const char *ol = authc__env_get(e, "AUTHC_PASSKEY_ORIGINS");
    if (ol) {
        if (!(copy = strdup(ol))) {
            authc__env_problem(e, "out of memory");
            return;
        }
        size_t n = 0;
        for (char *save = NULL, *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
            if (n == MAX_ORIGINS) {
                free(copy);
                authc__env_problem(e, "AUTHC_PASSKEY_ORIGINS lists more than %d origins", MAX_ORIGINS);
                return;
            }
            origins[n++] = t;
        }
        p.origins = origins;
        p.norigins = n;
    }
    authc_err x = authc_config_add_passkey(e->cfg, &p);
    free(copy);
    if (x)
        authc__env_problem(e, "AUTHC_PASSKEY: could not add the passkey provider (%s)", authc_strerror(x));
}
