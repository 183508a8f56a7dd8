/* env.c — settings (Auth.js names first, AUTHC_* where Auth.js has none)
 * → an authc_config plus what it borrows (adapter, users file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authc/adapter.h"
#include "authc/log.h"
#include "env_int.h"
#include "util/parse_int.h"

void authc_log_stderr(void *ud, const char *level, const char *msg)
{
    (void)ud;
    authc_log_write(level, msg, NULL, 0); /* escaped centrally (authc/log.h) */
}

const char *authc__env_get(const authc__env *e, const char *name)
{
    const char *v = authc_settings_get(e->s, name);
    return v && *v ? v : NULL;
}

int authc__env_bool(const char *v)
{
    bool b = false;
    if (*v && authc__parse_bool(v, &b) != AUTHC_OK)
        return -1;
    return b;
}

authc_adapter *authc_resources_adapter(const authc_resources *res)
{
    return res ? res->adapter : NULL;
}

const authc_settings *authc_resources_settings(const authc_resources *res)
{
    return res ? res->settings : NULL;
}

size_t authc_resources_users(const authc_resources *res)
{
    return res ? authc__users_count(res->users) : 0;
}

void authc_resources_free(authc_resources *res)
{
    if (!res)
        return;
    authc_adapter_close(res->adapter);
    authc__users_free(res->users);
    authc_settings_free(res->own_settings);
    free(res);
}

/* Settings that map one-to-one to authc_config_set keys. */
static const struct { const char *env, *key; } MAP[] = {
    {"AUTH_URL", "url"},
    {"AUTH_TRUST_HOST", "trust_host"},
    {"AUTHC_SESSION_STRATEGY", "session.strategy"},
    {"AUTHC_SESSION_MAX_AGE", "session.max_age"},
    {"AUTHC_SESSION_UPDATE_AGE", "session.update_age"},
    {"AUTHC_REFRESH_TOKENS", "refresh_tokens"},
    {"AUTHC_REFRESH_BEFORE", "refresh_before"},
    {"AUTHC_TOKEN_ENDPOINT", "token_endpoint"},
    {"AUTHC_FEDERATED_SIGNOUT", "federated_signout"},
    {"AUTHC_USE_SECURE_COOKIES", "use_secure_cookies"},
    {"AUTHC_COOKIE_DOMAIN", "cookie.domain"},
    {"AUTHC_PAGES_SIGNIN", "pages.signIn"},
    {"AUTHC_PAGES_SIGNOUT", "pages.signOut"},
    {"AUTHC_PAGES_ERROR", "pages.error"},
    {"AUTHC_PAGES_VERIFY_REQUEST", "pages.verifyRequest"},
    {"AUTHC_PAGES_NEW_USER", "pages.newUser"},
    {"AUTHC_THEME_COLOR_SCHEME", "theme.colorScheme"},
    {"AUTHC_THEME_BRAND_COLOR", "theme.brandColor"},
    {"AUTHC_THEME_LOGO", "theme.logo"},
    {"AUTHC_THEME_BUTTON_TEXT", "theme.buttonText"},
    {"AUTHC_LANG", "lang"},
    {"AUTHC_TRUSTED_PROXIES", "trusted_proxies"},
    {"AUTHC_ALLOWED_HOSTS", "allowed_hosts"},
    {"AUTHC_REGULATION_MAX_FAILURES", "regulation.max_failures"},
    {"AUTHC_REGULATION_FIND_TIME", "regulation.find_time"},
    {"AUTHC_REGULATION_BAN_TIME", "regulation.ban_time"},
    {"AUTHC_FORWARD_RULES", "forward.rules"},
    {"AUTHC_FORWARD_PASS_ACCESS_TOKEN", "forward.pass_access_token"},
    {"AUTHC_REDIRECT_ALLOWED_HOSTS", "redirect.allowed_hosts"},
};

/* Secrets in Auth.js core order [AUTH_SECRET_3, _2, _1, AUTH_SECRET]: the
 * first encrypts, all decrypt. */
static void secrets(authc__env *e)
{
    static const char *const names[] = {"AUTH_SECRET_3", "AUTH_SECRET_2", "AUTH_SECRET_1", "AUTH_SECRET"};
    char err[512];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const char *v = authc__env_get(e, names[i]);
        if (!v)
            continue;
        if (strlen(v) < 32)
            authc__env_problem(e, "%s is too short (%zu characters); use at least 32, e.g. from `authc secret`",
                               names[i], strlen(v));
        else if (authc_config_set(e->cfg, "secret", v, err, sizeof err))
            authc__env_problem(e, "%s: %s", names[i], err);
    }
    if (!authc__env_get(e, "AUTH_SECRET"))
        authc__env_problem(e, "AUTH_SECRET is not set; set it to a random value, e.g. `export AUTH_SECRET=$(authc secret)`");
}

static void mapped(authc__env *e, const char *base_path)
{
    char err[512];
    for (size_t i = 0; i < sizeof MAP / sizeof *MAP; i++) {
        const char *v = authc_settings_get(e->s, MAP[i].env);
        if (v && authc_config_set(e->cfg, MAP[i].key, v, err, sizeof err))
            authc__env_problem(e, "%s: %s", MAP[i].env, err);
    }
    const char *bp = base_path ? base_path : authc_settings_get(e->s, "AUTHC_BASE_PATH");
    if (bp && authc_config_set(e->cfg, "base_path", bp, err, sizeof err))
        authc__env_problem(e, "base path: %s", err);
    if (!authc_settings_get(e->s, "AUTH_URL") && !authc_settings_get(e->s, "AUTH_TRUST_HOST"))
        authc__env_problem(e, "neither AUTH_URL nor AUTH_TRUST_HOST is set: every request would fail with "
                              "UntrustedHost; set AUTH_URL to the public URL (e.g. https://app.example.com/auth) "
                              "or AUTH_TRUST_HOST=true");
}

static const authc_credentials_field USER_FIELDS[] = {
    {"username", "Username", "text"},
    {"password", "Password", "password"},
};

static void users(authc__env *e)
{
    const char *path = authc__env_get(e, "AUTHC_USERS_FILE");
    if (!path)
        return;
    char err[1024] = "";
    e->res->users = authc__users_load(path, err, sizeof err);
    if (!e->res->users) {
        authc__env_problem(e, "%s", err);
        return;
    }
    authc_credentials_provider cp = {
        .id = "credentials", .name = "Credentials", .fields = USER_FIELDS,
        .nfields = 2, .authorize = authc__users_authorize, .ud = e->res->users};
    if (authc_config_add_credentials(e->cfg, &cp))
        authc__env_problem(e, "out of memory adding the credentials provider");
}

static void database(authc__env *e, bool migrate)
{
    const char *db = authc__env_get(e, "AUTHC_DATABASE");
    if (!db)
        return;
    char err[1024] = "";
    authc_resources *r = e->res;
    r->adapter = authc_adapter_open(db, r->log, r->log_ud, err, sizeof err);
    if (!r->adapter) {
        authc__env_problem(e, "AUTHC_DATABASE: %s", err);
        return;
    }
    if (migrate && r->adapter->ops->migrate) {
        authc_err x = r->adapter->ops->migrate(r->adapter);
        if (x)
            authc__env_problem(e, "AUTHC_DATABASE: could not create or update the schema (%s)", authc_strerror(x));
        else
            r->log(r->log_ud, "info", "database schema is up to date");
    }
    authc_config_set_adapter(e->cfg, r->adapter);
}

/* The database URL as a store URL: query options the store reads itself
 * (with its own units: libpq's connect_timeout is seconds, the store's
 * milliseconds) are dropped, so they keep the store's defaults; the rest
 * (sslmode, prefix, …) stays. NULL on OOM or when too long. */
static char *store_url_from_database(const char *db)
{
    static const char *const OWN[] = {"timeout", "connect_timeout", "pool_size",
                                      "sweep_interval", "max_entries",
                                      /* the adapters' own, meaningless to the store */
                                      "statement_timeout", "session_batches",
                                      "ttl_grace"};
    size_t n = strlen(db);
    char *out = n < 4096 ? malloc(n + 1) : NULL;
    if (!out)
        return NULL;
    const char *q = strchr(db, '?');
    size_t o = q ? (size_t)(q - db) : n;
    memcpy(out, db, o);
    char sep = '?';
    for (const char *p = q ? q + 1 : NULL; p && *p;) {
        size_t l = strcspn(p, "&"), kl = strcspn(p, "=&");
        bool own = false;
        for (size_t i = 0; i < sizeof OWN / sizeof *OWN; i++)
            own |= strlen(OWN[i]) == kl && !strncmp(p, OWN[i], kl);
        if (!own && l) {
            out[o++] = sep;
            memcpy(out + o, p, l);
            o += l;
            sep = '&';
        }
        p += l + (p[l] == '&');
    }
    out[o] = '\0';
    return out;
}

char *authc_settings_store_url(const authc_settings *s)
{
    const char *v = authc_settings_get(s, "AUTHC_STORE");
    if (v && *v)
        return strdup(v);
    v = authc_settings_get(s, "AUTHC_DATABASE");
    return v && *v ? store_url_from_database(v) : NULL;
}

/* The shared store: AUTHC_STORE, else the database's URL, else memory:. */
static void store(authc__env *e, bool migrate)
{
    char *url = authc_settings_store_url(e->s);
    if (!url && (authc__env_get(e, "AUTHC_STORE") || authc__env_get(e, "AUTHC_DATABASE")))
        authc__env_problem(e, "AUTHC_STORE: out of memory or longer than 4 KiB");
    char err[512];
    if (url && authc_config_set(e->cfg, "store", url, err, sizeof err))
        authc__env_problem(e, "AUTHC_STORE: %s", err);
    free(url);
    if (migrate && authc_config_set(e->cfg, "store.migrate", "1", err, sizeof err))
        authc__env_problem(e, "AUTHC_STORE: %s", err);
}

authc_config *authc_config_from_settings(const authc_settings *s, const authc_env_options *opts,
                                         authc_resources **res, char *err, size_t errlen)
{
    static const authc_env_options none = {0};
    if (!opts)
        opts = &none;
    *res = NULL;
    if (errlen)
        err[0] = '\0';
    authc__env e = {.s = s};
    e.cfg = authc_config_new();
    e.res = calloc(1, sizeof *e.res);
    if (!e.cfg || !e.res) {
        authc_config_free(e.cfg);
        free(e.res);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e.res->settings = s;
    e.res->log = opts->log ? opts->log : authc_log_stderr;
    e.res->log_ud = opts->log ? opts->log_ud : NULL;
    authc_config_set_logger(e.cfg, e.res->log, e.res->log_ud);
    secrets(&e);
    mapped(&e, opts->base_path);
    users(&e);
    authc__env_email(&e);
    authc__env_passkey(&e);
    authc__env_oauth(&e);
    database(&e, opts->migrate);
    store(&e, opts->migrate);
    if (authc__problems_count(&e.problems)) {
        authc__problems_render(&e.problems, err, errlen);
        authc__problems_clear(&e.problems);
        authc_config_free(e.cfg);
        authc_resources_free(e.res);
        return NULL;
    }
    *res = e.res;
    return e.cfg;
}

authc_config *authc_config_from_env(const char *file, const authc_env_options *opts,
                                    authc_resources **res, char *err, size_t errlen)
{
    *res = NULL;
    authc_settings *s = authc_settings_new();
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    authc_config *cfg = NULL;
    if (!file || authc_settings_load_file(s, file, err, errlen) == AUTHC_OK)
        cfg = authc_config_from_settings(s, opts, res, err, errlen);
    if (cfg)
        (*res)->own_settings = s;
    else
        authc_settings_free(s);
    return cfg;
}
