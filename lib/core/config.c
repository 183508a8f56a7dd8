/* config.c — builds the configuration and freezes it into an immutable
 * instance, deriving every key and cookie name once at start-up. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "core/core_int.h"
#include "lifecycle/revoke_int.h"
#include "store/store_int.h"
#include "util/parse_int.h"

/* Longest session lifetime accepted (seconds; far beyond any real use,
 * small enough that milliseconds never overflow). */
#define MAX_AGE_LIMIT ((int64_t)1 << 40)

struct authc_config {
    struct authc a;
};

static const char *CK_BASE[AUTHC__CK__COUNT] = {
    "authjs.session-token", "authjs.callback-url", "authjs.csrf-token",
    "authjs.pkce.code_verifier", "authjs.state", "authjs.nonce", "authjs.challenge",
};

authc_config *authc_config_new(void)
{
    authc_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return NULL;
    struct authc *a = &cfg->a;
    a->strategy_set = -1;
    a->max_age = 2592000;
    a->update_age = 86400;
    a->refresh_before = 60;
    a->secure_cookies = -1;
    a->regulation = (authc__regulation)AUTHC__REGULATION_DEFAULT;
    if (!(a->strs = authc_arena_new()) || !(a->base_path = authc_arena_strdup(a->strs, "/auth")) ||
        !(a->lang = authc_arena_strdup(a->strs, "auto"))) {
        authc_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* Wipes and frees n derived keys (derive_all's array; NULL is fine). */
static void keys_free(authc__jwe_key *keys, size_t n)
{
    if (keys) {
        authc__wipe(keys, sizeof *keys * n);
        free(keys);
    }
}

static void free_instance(struct authc *a)
{
    for (size_t i = 0; i < a->nsecrets; i++)
        authc__free_secret(a->secrets[i]);
    authc__free_secret(a->csrf_secret);
    authc_arena_free(a->strs);
    for (size_t i = 0; i < a->nproviders; i++) {
        authc__provider *p = &a->providers[i];
        free(p->id);
        free(p->name);
        for (size_t j = 0; j < p->nfields; j++) {
            free((char *)p->fields[j].name);
            free((char *)p->fields[j].label);
            free((char *)p->fields[j].type);
        }
        free(p->fields);
        if (p->ops && p->ops->free)
            p->ops->free(p->impl);
    }
    free(a->providers);
    for (int s = 0; s < 2; s++) {
        for (int k = 0; k < AUTHC__CK__COUNT; k++)
            keys_free(a->check_keys[s][k], a->nsecrets ? a->nsecrets : 1);
        keys_free(a->session_keys[s], a->nsecrets);
    }
    keys_free(a->state_keys, a->nsecrets);
    keys_free(a->challenge_keys, a->nsecrets);
    authc__revoker_free(a->revoker);
    authc__store_close(a->store);
    authc__forward_free(a);
    free(a->redirect_hosts);
}

void authc_config_free(authc_config *cfg)
{
    if (!cfg)
        return;
    free_instance(&cfg->a);
    free(cfg);
}

/* *dst = a copy of v (or NULL) in a->strs. A value it replaces stays in
 * the arena until the instance is freed: settings are set a few times at
 * start-up, not per request. */
static authc_err set_str(struct authc *a, char **dst, const char *v)
{
    char *n = v ? authc_arena_strdup(a->strs, v) : NULL;
    if (v && !n)
        return AUTHC_ERR_NOMEM;
    *dst = n;
    return AUTHC_OK;
}

/* a->base_path = path (starting with '/') without its trailing slashes;
 * "/" stays "/". */
static authc_err set_base_path(struct authc *a, const char *path)
{
    size_t l = strlen(path);
    while (l > 1 && path[l - 1] == '/')
        l--;
    char *bp = authc_arena_strndup(a->strs, path, l);
    if (!bp)
        return AUTHC_ERR_NOMEM;
    a->base_path = bp;
    return AUTHC_OK;
}

/* The keys of the session lifecycle, operations and hardening settings
 * (shared store, proxies and hosts, rotation, forward-auth, regulation).
 * *handled is false for any other key. */
static authc_err set_ops_key(struct authc *a, const char *key, const char *value, char *err,
                             size_t errlen, bool *handled)
{
#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return AUTHC_ERR_INVALID; } while (0)
    *handled = true;
    struct { const char *key; bool *dst; } flags[] = {
        {"refresh_tokens", &a->refresh_tokens},
        {"token_endpoint", &a->token_endpoint},
        {"federated_signout", &a->federated_signout},
    };
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
        if (!strcmp(key, flags[i].key)) {
            if (authc__parse_bool(value, flags[i].dst))
                BAD("%s must be one of " AUTHC__BOOL_WORDS, key);
            return AUTHC_OK;
        }
    if (!strcmp(key, "refresh_before")) {
        if (authc__parse_seconds(value, 0, 86400, &a->refresh_before))
            BAD("refresh_before must be a number of seconds up to a day");
        return AUTHC_OK;
    }
    if (!strcmp(key, "store"))
        return set_str(a, &a->store_url, *value ? value : NULL);
    if (!strcmp(key, "store.migrate")) {
        if (authc__parse_bool(value, &a->store_migrate))
            BAD("store.migrate must be one of " AUTHC__BOOL_WORDS);
        return AUTHC_OK;
    }
    if (!strncmp(key, "regulation.", 11)) {
        int64_t *dst = !strcmp(key + 11, "max_failures") ? &a->regulation.max_failures
                     : !strcmp(key + 11, "find_time") ? &a->regulation.find_time_s
                     : !strcmp(key + 11, "ban_time") ? &a->regulation.ban_time_s : NULL;
        if (!dst)
            BAD("unknown setting %s", key);
        bool count = dst == &a->regulation.max_failures;
        if (authc__parse_seconds(value, count ? 0 : 1, count ? 1000000 : 86400, dst))
            BAD("%s must be %s", key, count ? "a number from 0 (off) to 1000000" : "1 to 86400 seconds");
        return AUTHC_OK;
    }
    if (!strcmp(key, "allowed_hosts")) {
        char why[160];
        if (!authc__hosts_valid(value, why, sizeof why))
            BAD("allowed hosts: %s", why);
        return set_str(a, &a->allowed_hosts, value[strspn(value, ", \t")] ? value : NULL);
    }
    if (!strcmp(key, "trusted_proxies")) {
        char why[160];
        if (!authc__cidrs_parse(value, &a->trusted, why, sizeof why))
            BAD("trusted proxies: %s", why);
        a->trusted_set = true;
        return AUTHC_OK;
    }
    if (!strncmp(key, "forward.", 8))
        return authc__forward_config_set(a, key, value, err, errlen);
    if (!strcmp(key, "redirect.allowed_hosts"))
        return authc__redirect_hosts_set(a, value, err, errlen);
    *handled = false;
    return AUTHC_OK;
#undef BAD
}

authc_err authc_config_set(authc_config *cfg, const char *key, const char *value,
                           char *err, size_t errlen)
{
    struct authc *a = &cfg->a;
    if (!key || !value) {
        snprintf(err, errlen, "missing key or value");
        return AUTHC_ERR_INVALID;
    }
#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return AUTHC_ERR_INVALID; } while (0)
    if (!strcmp(key, "secret")) {
        if (a->nsecrets >= AUTHC__MAX_SECRETS)
            BAD("too many secrets (at most %d)", AUTHC__MAX_SECRETS);
        if (!*value)
            BAD("secret is empty");
        if (!(a->secrets[a->nsecrets] = strdup(value)))
            return AUTHC_ERR_NOMEM;
        a->nsecrets++;
        return AUTHC_OK;
    }
    if (!strcmp(key, "url")) {
        if (!*value)
            return set_str(a, &a->url, NULL);
        authc_arena *ar = authc_arena_new();
        authc__url u;
        authc_err e = ar ? authc__url_parse(ar, value, &u) : AUTHC_ERR_NOMEM;
        if (!e) {
            e = set_str(a, &a->url, value);
            if (!e)
                e = set_str(a, &a->url_origin, u.origin);
            if (!e) {
                char hp[600];
                snprintf(hp, sizeof hp, "%.512s%s%.8s", u.host, u.port ? ":" : "", u.port ? u.port : "");
                e = set_str(a, &a->url_host, hp);
                a->url_https = !strcmp(u.scheme, "https");
            }
            /* next-auth rule: AUTH_URL's path becomes the base path unless
             * it is "/". */
            if (!e && strcmp(u.path, "/") != 0)
                e = set_base_path(a, u.path);
        }
        authc_arena_free(ar);
        if (e == AUTHC_ERR_INVALID)
            BAD("AUTH_URL must be an absolute http(s) URL, got an invalid value");
        return e;
    }
    if (!strcmp(key, "trust_host")) {
        /* Auth.js: any non-empty value means trusted, even "false". */
        a->trust_host = *value != '\0';
        return AUTHC_OK;
    }
    if (!strcmp(key, "base_path")) {
        if (value[0] != '/')
            BAD("base path must start with '/'");
        return set_base_path(a, value);
    }
    if (!strcmp(key, "session.strategy")) {
        if (!strcmp(value, "jwt"))
            a->strategy_set = AUTHC__JWT;
        else if (!strcmp(value, "database"))
            a->strategy_set = AUTHC__DATABASE;
        else
            BAD("session strategy must be \"jwt\" or \"database\"");
        return AUTHC_OK;
    }
    if (!strcmp(key, "session.max_age")) {
        if (authc__parse_seconds(value, 1, MAX_AGE_LIMIT, &a->max_age))
            BAD("session max age must be a positive number of seconds");
        return AUTHC_OK;
    }
    if (!strcmp(key, "session.update_age")) {
        if (authc__parse_seconds(value, 0, MAX_AGE_LIMIT, &a->update_age))
            BAD("session update age must be a number of seconds");
        return AUTHC_OK;
    }
    if (!strcmp(key, "use_secure_cookies")) {
        bool b;
        if (authc__parse_bool(value, &b))
            BAD("use_secure_cookies must be one of " AUTHC__BOOL_WORDS);
        a->secure_cookies = b;
        return AUTHC_OK;
    }
    if (!strcmp(key, "cookie.domain"))
        return set_str(a, &a->cookie_domain, *value ? value : NULL);
    bool handled = false;
    authc_err oe = set_ops_key(a, key, value, err, errlen, &handled);
    if (handled)
        return oe;
    struct { const char *k; char **dst; } pages[] = {
        {"pages.signIn", &a->pages_signin}, {"pages.signOut", &a->pages_signout},
        {"pages.error", &a->pages_error}, {"pages.verifyRequest", &a->pages_verify},
        {"pages.newUser", &a->pages_new_user},
    };
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++)
        if (!strcmp(key, pages[i].k)) {
            if (*value && value[0] != '/' && !authc__starts_with(value, "http://") &&
                !authc__starts_with(value, "https://"))
                BAD("%s must be a path starting with '/' or an absolute URL", key);
            return set_str(a, pages[i].dst, *value ? value : NULL);
        }
    const char *themes[] = {"theme.colorScheme", "theme.brandColor", "theme.logo", "theme.buttonText"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(key, themes[i])) {
            if (i == 0 && strcmp(value, "auto") && strcmp(value, "light") && strcmp(value, "dark"))
                BAD("theme.colorScheme must be auto, light or dark");
            return set_str(a, &a->theme_strs[i], *value ? value : NULL);
        }
    if (!strcmp(key, "lang")) {
        if (strcmp(value, "auto") && strcmp(value, "en") && strcmp(value, "zh-CN") && strcmp(value, "zh"))
            BAD("lang must be auto, en or zh-CN");
        return set_str(a, &a->lang, value);
    }
#undef BAD
    snprintf(err, errlen, "unknown setting \"%s\"", key);
    return AUTHC_ERR_INVALID;
}

/* The shared store: AUTHC_STORE, or this process's memory (one instance
 * only: say so). Trusted proxies default to loopback, as the spec says. */
static void open_store(authc *a, authc__problems *pr)
{
    if (!a->trusted_set) {
        char why[160];
        authc__cidrs_parse("127.0.0.0/8,::1/128", &a->trusted, why, sizeof why);
    }
    char err[512];
    const char *url = a->store_url ? a->store_url : "memory:";
    a->store = authc__store_open(url, a->log, a->log_ud, err, sizeof err);
    if (!a->store) {
        authc__problem(pr, "AUTHC_STORE", "%s", err);
        return;
    }
    if (!(a->revoker = authc__revoker_new(a->store, a->max_age * 1000)))
        authc__problem(pr, NULL, "out of memory");
    if (a->store_migrate) {
        authc_err e = authc__store_migrate(a->store);
        if (e)
            authc__problem(pr, "AUTHC_STORE", "could not create the store's table in %s (%s)",
                           authc__store_label(a->store), authc_strerror(e));
    }
}

authc_err authc_store_migrate_url(const char *url, char *err, size_t errlen)
{
    authc_store *st = authc__store_open(url, NULL, NULL, err, errlen);
    if (!st)
        return AUTHC_ERR_INVALID;
    authc_err e = authc__store_migrate(st);
    if (e)
        snprintf(err, errlen, "could not create the store's table in %s (%s)",
                 authc__store_label(st), authc_strerror(e));
    authc__store_close(st);
    return e;
}

authc__provider *authc__config_add_provider(authc_config *cfg)
{
    struct authc *a = &cfg->a;
    authc__provider *np = realloc(a->providers, (a->nproviders + 1) * sizeof *np);
    if (!np)
        return NULL;
    a->providers = np;
    authc__provider *p = &np[a->nproviders++];
    memset(p, 0, sizeof *p);
    return p;
}

void authc_config_set_adapter(authc_config *cfg, authc_adapter *ad)
{
    cfg->a.adapter = ad;
}

void authc_config_set_callbacks(authc_config *cfg, const authc_callbacks *cb)
{
    cfg->a.cb = *cb;
}

void authc_config_set_logger(authc_config *cfg, authc_log_fn fn, void *ud)
{
    cfg->a.log = fn;
    cfg->a.log_ud = ud;
}

static authc__jwe_key *derive_all(const struct authc *a, const char *salt, authc_err *e)
{
    authc__jwe_key *keys = calloc(a->nsecrets, sizeof *keys);
    if (!keys) {
        *e = AUTHC_ERR_NOMEM;
        return NULL;
    }
    for (size_t i = 0; i < a->nsecrets; i++) {
        *e = authc__jwe_derive(&keys[i], a->secrets[i], salt);
        if (*e) {
            free(keys);
            return NULL;
        }
    }
    return keys;
}

authc *authc_new(authc_config *cfg, char *err, size_t errlen)
{
    if (!cfg)
        return NULL;
    if (errlen)
        err[0] = '\0';
    if (authc_global_init() != AUTHC_OK) {
        authc_config_free(cfg);
        snprintf(err, errlen, "libcurl or OpenSSL could not be set up (authc_global_init)");
        return NULL;
    }
    struct authc *a = calloc(1, sizeof *a);
    if (!a) {
        authc_config_free(cfg);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *a = cfg->a;
    free(cfg);
    static _Atomic uint64_t instances;
    a->serial = atomic_fetch_add(&instances, 1) + 1;
    authc__problems pr = {0};
    if (a->nsecrets == 0)
        authc__problem(&pr, NULL, "MissingSecret: no secret configured; set AUTH_SECRET (make one with `authc secret`)");
    a->strategy = a->strategy_set >= 0 ? (authc__strategy)a->strategy_set
                                       : (a->adapter ? AUTHC__DATABASE : AUTHC__JWT);
    if (a->strategy == AUTHC__DATABASE && !a->adapter)
        authc__problem(&pr, NULL, "MissingAdapter: session strategy \"database\" needs a database; set AUTHC_DATABASE");
    if (a->strategy == AUTHC__DATABASE && a->adapter) {
        const authc_adapter *ad = a->adapter;
        if (!ad->ops->create_user || !ad->ops->get_user || !ad->ops->get_user_by_email || !ad->ops->get_user_by_account ||
            !ad->ops->update_user || !ad->ops->link_account || !ad->ops->create_session ||
            !ad->ops->get_session_and_user || !ad->ops->update_session || !ad->ops->delete_session)
            authc__problem(&pr, NULL, "MissingAdapterMethods: the adapter lacks methods the database session strategy needs");
    }
    if (a->strategy == AUTHC__DATABASE && a->nproviders > 0) {
        bool all_jwt = true;
        for (size_t i = 0; i < a->nproviders; i++)
            if (!a->providers[i].ops->jwt_only)
                all_jwt = false;
        if (all_jwt)
            authc__problem(&pr, NULL, "UnsupportedStrategy: credentials sign-in issues JWT sessions only; set session strategy \"jwt\" (AUTHC_SESSION_STRATEGY=jwt) or add another provider");
    }
    for (size_t i = 0; i < a->nproviders; i++) {
        const authc__provider *p = &a->providers[i];
        size_t before = authc__problems_count(&pr);
        if (p->ops->check && !p->ops->check(a, p, &pr) && authc__problems_count(&pr) == before)
            authc__problem(&pr, NULL, "provider \"%.64s\" is misconfigured", p->id);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(a->providers[j].id, p->id))
                authc__problem(&pr, NULL, "duplicate provider id \"%.64s\"", p->id);
    }
    authc__hosts_check(a, &pr);
    open_store(a, &pr);
    authc__forward_init(a, &pr);
    if (authc__problems_count(&pr)) {
        authc__problems_render(&pr, err, errlen);
        authc__problems_clear(&pr);
        authc_free(a);
        return NULL;
    }
    authc__problems_clear(&pr);
    /* Read on every request's routing. */
    a->base_len = strcmp(a->base_path, "/") ? strlen(a->base_path) : 0;
    a->store_remote = a->store && strcmp(authc__store_backend_name(a->store), "memory");
    /* CSRF secret: JS String([s1, s2]) joins with commas. */
    size_t tot = 0;
    for (size_t i = 0; i < a->nsecrets; i++)
        tot += strlen(a->secrets[i]) + 1;
    a->csrf_secret = calloc(1, tot + 1);
    authc_err e = a->csrf_secret ? AUTHC_OK : AUTHC_ERR_NOMEM;
    for (size_t i = 0; !e && i < a->nsecrets; i++) {
        if (i)
            strcat(a->csrf_secret, ",");
        strcat(a->csrf_secret, a->secrets[i]);
    }
    for (int s = 0; !e && s < 2; s++)
        for (int k = 0; !e && k < AUTHC__CK__COUNT; k++) {
            const char *prefix = s ? (k == AUTHC__CK_CSRF ? "__Host-" : "__Secure-") : "";
            if (!(a->cookie_names[s][k] = authc_arena_printf(a->strs, "%s%s", prefix, CK_BASE[k]))) {
                e = AUTHC_ERR_NOMEM;
                break;
            }
            if (k == AUTHC__CK_SESSION)
                a->session_keys[s] = derive_all(a, a->cookie_names[s][k], &e);
            else if (k >= AUTHC__CK_PKCE)
                a->check_keys[s][k] = derive_all(a, a->cookie_names[s][k], &e);
        }
    if (!e)
        a->state_keys = derive_all(a, "encodedState", &e);
    if (!e)
        a->challenge_keys = derive_all(a, "encodedWebauthnChallenge", &e);
    a->theme.color_scheme = a->theme_strs[0] ? a->theme_strs[0] : "auto";
    a->theme.brand_color = a->theme_strs[1];
    a->theme.logo = a->theme_strs[2];
    a->theme.button_text = a->theme_strs[3];
    if (e) {
        snprintf(err, errlen, "could not derive keys: %s", authc_strerror(e));
        authc_free(a);
        return NULL;
    }
    return a;
}

void authc_free(authc *a)
{
    if (!a)
        return;
    free_instance(a);
    free(a);
}

const char *authc_base_path(const authc *a)
{
    return a->base_path;
}

char *authc_secret_generate(void)
{
    uint8_t b[32];
    if (authc__random(b, sizeof b))
        return NULL;
    authc_arena *ar = authc_arena_new();
    char *s = NULL;
    if (ar) {
        /* Standard base64 like `npx auth secret` (openssl rand -base64 32). */
        char *t = authc__b64_encode(ar, b, sizeof b);
        s = t ? strdup(t) : NULL;
        authc_arena_free(ar);
    }
    authc__wipe(b, sizeof b);
    return s;
}
