/* env_providers.c — turns AUTH_<ID>_ID/_SECRET/_ISSUER (and AUTHC_<ID>_*
 * extras) from the settings into OAuth/OIDC providers. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "authc/oauth.h"
#include "env_int.h"
#include "util/parse_int.h"

extern char **environ;

#define MAX_GENERIC 32
#define ENV_ID_MAX 64

/* "microsoft-entra-id" → "MICROSOFT_ENTRA_ID" (Auth.js's rule). */
static void env_id(const char *id, char out[ENV_ID_MAX])
{
    size_t i = 0;
    for (; id[i] && i < ENV_ID_MAX - 1; i++)
        out[i] = id[i] == '-' ? '_' : (char)toupper((unsigned char)id[i]);
    out[i] = '\0';
}

static const char *get(const authc__env *e, const char *prefix, const char *eid, const char *suffix)
{
    char name[160];
    snprintf(name, sizeof name, "%.8s%.63s%.60s", prefix, eid, suffix);
    return authc__env_get(e, name);
}

/* An HTTP timeout in milliseconds (unset = 0, the library's default). */
static void timeout_ms(authc__env *e, const char *name, long *out)
{
    const char *v = authc_settings_get(e->s, name);
    int n;
    if (!v)
        return;
    if (authc__parse_int(v, 1, 600000, &n) == AUTHC_OK)
        *out = n;
    else
        authc__env_problem(e, "%s must be a number of milliseconds (1..600000)", name);
}

/* "pkce,state nonce" → AUTHC_CHECK_* bits; -1 on an unknown word. */
static long parse_checks(const char *v)
{
    unsigned bits = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", v);
    for (char *save = NULL, *w = strtok_r(buf, ", ", &save); w; w = strtok_r(NULL, ", ", &save)) {
        if (!strcasecmp(w, "pkce"))
            bits |= AUTHC_CHECK_PKCE;
        else if (!strcasecmp(w, "state"))
            bits |= AUTHC_CHECK_STATE;
        else if (!strcasecmp(w, "nonce"))
            bits |= AUTHC_CHECK_NONCE;
        else
            return -1;
    }
    return bits ? (long)bits : -1;
}

/* Fills the AUTHC_<ID>_* extras into p. Returns how many problems. */
static int extras(authc__env *e, const char *eid, authc_oauth_provider *p, const char *proxy,
                  long cms, long tms)
{
    size_t before = authc__problems_count(&e->problems);
#define X(suffix) get(e, "AUTHC_", eid, suffix)
    p->name = X("_NAME") ? X("_NAME") : p->name;
    p->ca_file = X("_CA_FILE");
    p->base_url = X("_BASE_URL");
    p->scope = X("_SCOPE");
    p->brand_color = X("_BRAND_COLOR");
    p->claim_id = X("_CLAIM_ID");
    p->claim_name = X("_CLAIM_NAME");
    p->claim_email = X("_CLAIM_EMAIL");
    p->claim_image = X("_CLAIM_IMAGE");
    p->authorization_url = X("_AUTHORIZATION_URL");
    p->token_url = X("_TOKEN_URL");
    p->userinfo_url = X("_USERINFO_URL");
    p->redirect_proxy_url = proxy;
    p->connect_timeout_ms = cms;
    p->timeout_ms = tms;
    if (p->ca_file && access(p->ca_file, R_OK) != 0) {
        authc__env_problem(e, "AUTHC_%s_CA_FILE: cannot read %s: %s", eid, p->ca_file, strerror(errno));
    }
    const char *ch = X("_CHECKS");
    if (ch) {
        long bits = parse_checks(ch);
        if (bits < 0) {
            authc__env_problem(e, "AUTHC_%s_CHECKS must list pkce, state and/or nonce (got \"%s\")", eid, ch);
        } else {
            p->checks = (unsigned)bits;
        }
    }
    static const authc__name_val TOKEN_AUTHS[] = {
        {"client_secret_basic", AUTHC_TOKEN_AUTH_CLIENT_SECRET_BASIC},
        {"client_secret_post", AUTHC_TOKEN_AUTH_CLIENT_SECRET_POST},
        {"none", AUTHC_TOKEN_AUTH_NONE},
    };
    const char *ta = X("_TOKEN_AUTH");
    int tav;
    if (ta && authc__name_lookup(TOKEN_AUTHS, sizeof TOKEN_AUTHS / sizeof *TOKEN_AUTHS, ta, &tav))
        p->token_auth = (authc_token_auth)tav;
    else if (ta)
        authc__env_problem(e, "AUTHC_%s_TOKEN_AUTH must be client_secret_basic, client_secret_post or none", eid);
    struct { const char *prefix, *suffix; bool *dst; } flags[] = {
        {"AUTHC_", "_ALLOW_DANGEROUS_EMAIL_ACCOUNT_LINKING", &p->allow_dangerous_email_account_linking},
        {"AUTHC_", "_ALLOW_HTTP", &p->allow_http},
        {"AUTHC_", "_PROFILE_FROM_USERINFO", &p->profile_from_userinfo},
        {"AUTH_", "_FEDERATED_SIGNOUT", &p->federated_signout}, /* lifecycle.md's name */
    };
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
        const char *v = get(e, flags[i].prefix, eid, flags[i].suffix);
        int b = v ? authc__env_bool(v) : 0;
        if (b < 0)
            authc__env_problem(e, "%s%s%s must be true or false", flags[i].prefix, eid, flags[i].suffix);
        else
            *flags[i].dst = b == 1;
    }
#undef X
    return (int)(authc__problems_count(&e->problems) - before);
}

/* Adds p unless its extras had a problem. */
static void add(authc__env *e, const char *eid, authc_oauth_provider *p, const char *proxy, long cms, long tms)
{
    if (extras(e, eid, p, proxy, cms, tms))
        return;
    char err[512];
    authc_err x = authc_config_add_oauth(e->cfg, p, err, sizeof err);
    if (x != AUTHC_OK)
        authc__env_problem(e, "%s", x == AUTHC_ERR_NOMEM ? "out of memory" : err);
}

static bool is_preset_env(const char *eid)
{
    char pe[ENV_ID_MAX];
    for (const char *const *ids = authc_oauth_presets(); *ids; ids++) {
        env_id(*ids, pe);
        if (!strcmp(pe, eid))
            return true;
    }
    return false;
}

/* Collects X of every AUTH_X_ISSUER name (environment and file). */
static size_t generic_ids(const authc__env *e, char out[][ENV_ID_MAX], size_t max)
{
    size_t n = 0;
    size_t nenv = 0;
    while (environ && environ[nenv])
        nenv++;
    for (size_t i = 0; i < nenv + authc__settings_count(e->s); i++) {
        const char *name = i < nenv ? environ[i] : authc__settings_name(e->s, i - nenv);
        size_t len = i < nenv ? strcspn(name, "=") : strlen(name);
        if (len <= 5 + 7 || strncmp(name, "AUTH_", 5) || strncmp(name + len - 7, "_ISSUER", 7))
            continue;
        size_t il = len - 12;
        if (il >= ENV_ID_MAX)
            continue;
        char eid[ENV_ID_MAX];
        memcpy(eid, name + 5, il);
        eid[il] = '\0';
        bool ok = true;
        for (char *q = eid; *q; q++)
            if (!isupper((unsigned char)*q) && !isdigit((unsigned char)*q) && *q != '_')
                ok = false;
        if (!ok || is_preset_env(eid) || !get(e, "AUTH_", eid, "_ISSUER"))
            continue;
        bool dup = false;
        for (size_t j = 0; j < n; j++)
            if (!strcmp(out[j], eid))
                dup = true;
        if (!dup && n < max)
            strcpy(out[n++], eid);
    }
    /* Stable order: alphabetical (environment order is arbitrary). */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(out[j - 1], out[j]) > 0; j--) {
            char t[ENV_ID_MAX];
            strcpy(t, out[j]);
            strcpy(out[j], out[j - 1]);
            strcpy(out[j - 1], t);
        }
    return n;
}

/* The presets with AUTH_<ID>_ID/_SECRET set. */
static void presets(authc__env *e, const char *proxy, long cms, long tms)
{
    for (const char *const *ids = authc_oauth_presets(); *ids; ids++) {
        char eid[ENV_ID_MAX];
        env_id(*ids, eid);
        const char *cid = get(e, "AUTH_", eid, "_ID");
        const char *sec = get(e, "AUTH_", eid, "_SECRET");
        const char *iss = get(e, "AUTH_", eid, "_ISSUER");
        if (!cid && !sec)
            continue;
        if (!cid || !sec) {
            authc__env_problem(e, "%s sign-in needs both AUTH_%s_ID and AUTH_%s_SECRET (only %s is set)",
                               *ids, eid, eid, cid ? "the ID" : "the SECRET");
            continue;
        }
        if (!iss && authc_oauth_preset_needs_issuer(*ids)) {
            authc__env_problem(e, "%s sign-in needs AUTH_%s_ISSUER (your %s issuer URL)", *ids, eid, *ids);
            continue;
        }
        authc_oauth_provider p = {.preset = *ids, .client_id = cid, .client_secret = sec, .issuer = iss};
        add(e, eid, &p, proxy, cms, tms);
    }
}

void authc__env_oauth(authc__env *e)
{
    long cms = 0, tms = 0;
    timeout_ms(e, "AUTHC_HTTP_CONNECT_TIMEOUT_MS", &cms);
    timeout_ms(e, "AUTHC_HTTP_TIMEOUT_MS", &tms);
    const char *proxy = authc__env_get(e, "AUTH_REDIRECT_PROXY_URL");
    presets(e, proxy, cms, tms);

    char gen[MAX_GENERIC][ENV_ID_MAX];
    size_t n = generic_ids(e, gen, MAX_GENERIC);
    for (size_t i = 0; i < n; i++) {
        const char *eid = gen[i];
        char id[ENV_ID_MAX];
        size_t k = 0;
        for (; eid[k]; k++)
            id[k] = eid[k] == '_' ? '-' : (char)tolower((unsigned char)eid[k]);
        id[k] = '\0';
        const char *cid = get(e, "AUTH_", eid, "_ID");
        if (!cid) {
            authc__env_problem(e, "AUTH_%s_ISSUER defines OpenID Connect provider \"%s\"; set AUTH_%s_ID (and AUTH_%s_SECRET)",
                               eid, id, eid, eid);
            continue;
        }
        authc_oauth_provider p = {.id = id, .type = AUTHC_OAUTH_OIDC, .client_id = cid,
                                  .client_secret = get(e, "AUTH_", eid, "_SECRET"),
                                  .issuer = get(e, "AUTH_", eid, "_ISSUER"),
                                  .name = !strcmp(id, "oidc") ? "OpenID Connect" : id};
        add(e, eid, &p, proxy, cms, tms);
    }
}
