/* providers_env.c — turns AUTH_<ID>_ID/_SECRET/_ISSUER (and AUTHC_<ID>_*
 * extras) from the environment or config file into OAuth/OIDC providers. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "authc/oauth.h"
#include "providers_env.h"

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

static const char *get(const settings *s, const char *prefix, const char *eid, const char *suffix)
{
    char name[160];
    snprintf(name, sizeof name, "%.8s%.63s%.60s", prefix, eid, suffix);
    const char *v = settings_get(s, name);
    return v && *v ? v : NULL;
}

static int parse_bool(const char *v)
{
    if (!v)
        return 0;
    if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
        return 1;
    if (!strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off"))
        return 0;
    return -1;
}

static bool parse_ms(const char *v, long *out)
{
    if (!v)
        return true;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n <= 0 || n > 600000)
        return false;
    *out = n;
    return true;
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

/* Fills the AUTHC_<ID>_* extras into p; prints problems. */
static int extras(const settings *s, const char *eid, authc_oauth_provider *p, const char *proxy,
                  long cms, long tms, FILE *errs)
{
    int problems = 0;
#define X(suffix) get(s, "AUTHC_", eid, suffix)
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
        fprintf(errs, "authc: AUTHC_%s_CA_FILE: cannot read %s: %s\n", eid, p->ca_file, strerror(errno));
        problems++;
    }
    const char *ch = X("_CHECKS");
    if (ch) {
        long bits = parse_checks(ch);
        if (bits < 0) {
            fprintf(errs, "authc: AUTHC_%s_CHECKS must list pkce, state and/or nonce (got \"%s\")\n", eid, ch);
            problems++;
        } else {
            p->checks = (unsigned)bits;
        }
    }
    const char *ta = X("_TOKEN_AUTH");
    if (ta) {
        if (!strcmp(ta, "client_secret_basic"))
            p->token_auth = AUTHC_TOKEN_AUTH_CLIENT_SECRET_BASIC;
        else if (!strcmp(ta, "client_secret_post"))
            p->token_auth = AUTHC_TOKEN_AUTH_CLIENT_SECRET_POST;
        else if (!strcmp(ta, "none"))
            p->token_auth = AUTHC_TOKEN_AUTH_NONE;
        else {
            fprintf(errs, "authc: AUTHC_%s_TOKEN_AUTH must be client_secret_basic, client_secret_post or none\n", eid);
            problems++;
        }
    }
    struct { const char *suffix; bool *dst; } flags[] = {
        {"_ALLOW_DANGEROUS_EMAIL_ACCOUNT_LINKING", &p->allow_dangerous_email_account_linking},
        {"_ALLOW_HTTP", &p->allow_http},
        {"_PROFILE_FROM_USERINFO", &p->profile_from_userinfo},
    };
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
        const char *v = X(flags[i].suffix);
        int b = parse_bool(v);
        if (b < 0) {
            fprintf(errs, "authc: AUTHC_%s%s must be true or false\n", eid, flags[i].suffix);
            problems++;
        } else {
            *flags[i].dst = b == 1;
        }
    }
#undef X
    return problems;
}

static int add(authc_config *cfg, authc_oauth_provider *p, FILE *errs)
{
    char err[512];
    authc_err e = authc_config_add_oauth(cfg, p, err, sizeof err);
    if (e == AUTHC_OK)
        return 0;
    fprintf(errs, "authc: %s\n", e == AUTHC_ERR_NOMEM ? "out of memory" : err);
    return 1;
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
static size_t generic_ids(const settings *s, char out[][ENV_ID_MAX], size_t max)
{
    size_t n = 0;
    size_t nenv = 0;
    while (environ && environ[nenv])
        nenv++;
    for (size_t i = 0; i < nenv + s->n; i++) {
        const char *name = i < nenv ? environ[i] : s->names[i - nenv];
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
        if (!ok || is_preset_env(eid) || !get(s, "AUTH_", eid, "_ISSUER"))
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

int providers_from_env(const settings *s, authc_config *cfg, FILE *errs)
{
    int problems = 0;
    long cms = 0, tms = 0;
    const char *v;
    if (!parse_ms((v = settings_get(s, "AUTHC_HTTP_CONNECT_TIMEOUT_MS")), &cms)) {
        fprintf(errs, "authc: AUTHC_HTTP_CONNECT_TIMEOUT_MS must be a number of milliseconds (1..600000)\n");
        problems++;
    }
    if (!parse_ms((v = settings_get(s, "AUTHC_HTTP_TIMEOUT_MS")), &tms)) {
        fprintf(errs, "authc: AUTHC_HTTP_TIMEOUT_MS must be a number of milliseconds (1..600000)\n");
        problems++;
    }
    const char *proxy = settings_get(s, "AUTH_REDIRECT_PROXY_URL");
    if (proxy && !*proxy)
        proxy = NULL;

    for (const char *const *ids = authc_oauth_presets(); *ids; ids++) {
        char eid[ENV_ID_MAX];
        env_id(*ids, eid);
        const char *cid = get(s, "AUTH_", eid, "_ID");
        const char *sec = get(s, "AUTH_", eid, "_SECRET");
        const char *iss = get(s, "AUTH_", eid, "_ISSUER");
        if (!cid && !sec)
            continue;
        if (!cid || !sec) {
            fprintf(errs, "authc: %s sign-in needs both AUTH_%s_ID and AUTH_%s_SECRET (only %s is set)\n",
                    *ids, eid, eid, cid ? "the ID" : "the SECRET");
            problems++;
            continue;
        }
        if (!iss && authc_oauth_preset_needs_issuer(*ids)) {
            fprintf(errs, "authc: %s sign-in needs AUTH_%s_ISSUER (your %s issuer URL)\n", *ids, eid, *ids);
            problems++;
            continue;
        }
        authc_oauth_provider p = {.preset = *ids, .client_id = cid, .client_secret = sec, .issuer = iss};
        int pr = extras(s, eid, &p, proxy, cms, tms, errs);
        problems += pr ? pr : add(cfg, &p, errs);
    }

    char gen[MAX_GENERIC][ENV_ID_MAX];
    size_t n = generic_ids(s, gen, MAX_GENERIC);
    for (size_t i = 0; i < n; i++) {
        const char *eid = gen[i];
        char id[ENV_ID_MAX];
        size_t k = 0;
        for (; eid[k]; k++)
            id[k] = eid[k] == '_' ? '-' : (char)tolower((unsigned char)eid[k]);
        id[k] = '\0';
        const char *cid = get(s, "AUTH_", eid, "_ID");
        const char *sec = get(s, "AUTH_", eid, "_SECRET");
        if (!cid) {
            fprintf(errs, "authc: AUTH_%s_ISSUER defines OpenID Connect provider \"%s\"; set AUTH_%s_ID (and AUTH_%s_SECRET)\n",
                    eid, id, eid, eid);
            problems++;
            continue;
        }
        authc_oauth_provider p = {.id = id, .type = AUTHC_OAUTH_OIDC, .client_id = cid, .client_secret = sec,
                                  .issuer = get(s, "AUTH_", eid, "_ISSUER"),
                                  .name = !strcmp(id, "oidc") ? "OpenID Connect" : id};
        int pr = extras(s, eid, &p, proxy, cms, tms, errs);
        problems += pr ? pr : add(cfg, &p, errs);
    }
    return problems;
}
