/* passkey_env.c — AUTHC_PASSKEY* settings of the authc program → the Passkey
 * provider (Auth.js's experimental.enableWebAuthn + Passkey()). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authc/webauthn.h"
#include "passkey_env.h"

#define MAX_ORIGINS 16

static int problem(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "authc: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 1;
}

/* -1 = not a boolean. */
static int flag(const char *v)
{
    static const char *const on[] = {"1", "true", "yes", "on"}, *const off[] = {"0", "false", "no", "off", ""};
    for (size_t i = 0; i < sizeof on / sizeof *on; i++)
        if (!strcasecmp(v, on[i]))
            return 1;
    for (size_t i = 0; i < sizeof off / sizeof *off; i++)
        if (!strcasecmp(v, off[i]))
            return 0;
    return -1;
}

int passkey_env_apply(const settings *s, authc_config *cfg)
{
    const char *on = settings_get(s, "AUTHC_PASSKEY");
    if (!on)
        return 0;
    int f = flag(on);
    if (f < 0)
        return problem("AUTHC_PASSKEY must be 1 or 0 (true/false), not \"%.40s\"%s", on, "");
    if (f == 0)
        return 0;
    const char *db = settings_get(s, "AUTHC_DATABASE");
    if (!db || !*db)
        return problem("AUTHC_PASSKEY=1 needs a database for the passkeys: set AUTHC_DATABASE "
                       "(e.g. sqlite:authc.db)%s%s", "", "");
    static const struct { const char *env, *allowed[5]; } ENUMS[] = {
        {"AUTHC_PASSKEY_USER_VERIFICATION", {"required", "preferred", "discouraged", NULL}},
        {"AUTHC_PASSKEY_ATTESTATION", {"none", "indirect", "direct", "enterprise", NULL}},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof ENUMS / sizeof *ENUMS; i++) {
        const char *v = settings_get(s, ENUMS[i].env);
        bool ok = !v || !*v;
        for (size_t k = 0; !ok && ENUMS[i].allowed[k]; k++)
            ok = !strcmp(v, ENUMS[i].allowed[k]);
        if (!ok)
            bad += problem(i ? "%s must be none, indirect, direct or enterprise, not \"%.40s\""
                             : "%s must be required, preferred or discouraged, not \"%.40s\"",
                           ENUMS[i].env, v);
    }
    if (bad)
        return bad;
    authc_passkey_provider p = {
        .id = "passkey",
        .name = "Passkey",
        .rp_id = settings_get(s, "AUTHC_PASSKEY_RP_ID"),
        .rp_name = settings_get(s, "AUTHC_PASSKEY_RP_NAME"),
        .user_verification = settings_get(s, "AUTHC_PASSKEY_USER_VERIFICATION"),
        .attestation = settings_get(s, "AUTHC_PASSKEY_ATTESTATION"),
        .enable_webauthn = true,
    };
    /* Comma-separated origins, split into a local copy. */
    char *copy = NULL;
    const char *origins[MAX_ORIGINS];
    const char *ol = settings_get(s, "AUTHC_PASSKEY_ORIGINS");
    if (ol && *ol) {
        if (!(copy = strdup(ol)))
            return problem("out of memory%s%s", "", "");
        size_t n = 0;
        for (char *save = NULL, *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
            if (n == MAX_ORIGINS) {
                free(copy);
                return problem("AUTHC_PASSKEY_ORIGINS lists more than 16 origins%s%s", "", "");
            }
            origins[n++] = t;
        }
        p.origins = origins;
        p.norigins = n;
    }
    authc_err e = authc_config_add_passkey(cfg, &p);
    free(copy);
    if (e)
        return problem("AUTHC_PASSKEY: could not add the passkey provider (%s)%s", authc_strerror(e), "");
    return 0;
}
