/* settings.c — environment + config-file settings (Auth.js names first,
 * AUTHC_* for what Auth.js has no variable for) → an authc instance. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "email_env.h"
#include "passkey_env.h"
#include "providers_env.h"
#include "settings.h"

void prog_log(void *ud, const char *level, const char *msg)
{
    (void)ud;
    char ts[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s %-5s %s\n", ts, level, msg);
}

bool settings_load_file(settings *s, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
        return false;
    }
    char line[8192];
    size_t lineno = 0;
    bool ok = true;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t l = strlen(line);
        if (l == sizeof line - 1 && line[l - 1] != '\n') {
            snprintf(err, errlen, "%s:%zu: line too long", path, lineno);
            ok = false;
            break;
        }
        while (l && isspace((unsigned char)line[l - 1]))
            line[--l] = '\0';
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            continue;
        if (!strncmp(p, "export ", 7))
            p += 7;
        char *eq = strchr(p, '=');
        if (!eq || eq == p) {
            snprintf(err, errlen, "%s:%zu: expected NAME=value", path, lineno);
            ok = false;
            break;
        }
        *eq = '\0';
        char *name = p, *val = eq + 1;
        for (char *q = name + strlen(name); q > name && isspace((unsigned char)q[-1]);)
            *--q = '\0';
        while (isspace((unsigned char)*val))
            val++;
        size_t vl = strlen(val);
        if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
            val[vl - 1] = '\0';
            val++;
        }
        for (char *q = name; *q; q++)
            if (!(isalnum((unsigned char)*q) || *q == '_')) {
                snprintf(err, errlen, "%s:%zu: bad setting name", path, lineno);
                ok = false;
                break;
            }
        if (!ok)
            break;
        if (s->n >= SETTINGS_MAX) {
            snprintf(err, errlen, "%s: more than %d settings", path, SETTINGS_MAX);
            ok = false;
            break;
        }
        s->names[s->n] = strdup(name);
        s->values[s->n] = strdup(val);
        s->n++;
    }
    fclose(f);
    return ok;
}

const char *settings_get(const settings *s, const char *name)
{
    const char *v = getenv(name);
    if (v)
        return v;
    for (size_t i = s->n; i-- > 0;)
        if (!strcmp(s->names[i], name))
            return s->values[i];
    return NULL;
}

void settings_free(settings *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->names[i]);
        free(s->values[i]);
    }
    s->n = 0;
}

void runtime_free(runtime *rt)
{
    authc_free(rt->auth);
    authc_adapter_close(rt->adapter);
    users_free(rt->users);
    memset(rt, 0, sizeof *rt);
}

static const authc_credentials_field USER_FIELDS[] = {
    {"username", "Username", "text"},
    {"password", "Password", "password"},
};

/* Maps program settings to config keys. */
static const struct { const char *env, *key; } MAP[] = {
    {"AUTH_URL", "url"},
    {"AUTH_TRUST_HOST", "trust_host"},
    {"AUTHC_SESSION_STRATEGY", "session.strategy"},
    {"AUTHC_SESSION_MAX_AGE", "session.max_age"},
    {"AUTHC_SESSION_UPDATE_AGE", "session.update_age"},
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
};

bool runtime_build(const settings *s, runtime *rt, bool migrate, bool verbose)
{
    memset(rt, 0, sizeof *rt);
    char err[2048];
    int problems = 0;
#define PROBLEM(...) do { fprintf(stderr, "authc: " __VA_ARGS__); fputc('\n', stderr); problems++; } while (0)
    authc_config *cfg = authc_config_new();
    if (!cfg) {
        PROBLEM("out of memory");
        return false;
    }
    authc_config_set_logger(cfg, prog_log, NULL);
    /* Auth.js core order: [AUTH_SECRET_3, _2, _1, AUTH_SECRET]; the first
     * encrypts, all decrypt. */
    const char *sec_names[] = {"AUTH_SECRET_3", "AUTH_SECRET_2", "AUTH_SECRET_1", "AUTH_SECRET"};
    int nsec = 0;
    for (int i = 0; i < 4; i++) {
        const char *v = settings_get(s, sec_names[i]);
        if (!v || !*v)
            continue;
        if (strlen(v) < 32) {
            PROBLEM("%s is too short (%zu characters); use at least 32, e.g. from `authc secret`",
                    sec_names[i], strlen(v));
            continue;
        }
        authc_config_set(cfg, "secret", v, err, sizeof err);
        nsec++;
    }
    if (!settings_get(s, "AUTH_SECRET") || !*settings_get(s, "AUTH_SECRET"))
        PROBLEM("AUTH_SECRET is not set; set it to a random value, e.g. `export AUTH_SECRET=$(authc secret)`");
    (void)nsec;
    for (size_t i = 0; i < sizeof MAP / sizeof *MAP; i++) {
        const char *v = settings_get(s, MAP[i].env);
        if (!v)
            continue;
        if (authc_config_set(cfg, MAP[i].key, v, err, sizeof err))
            PROBLEM("%s: %s", MAP[i].env, err);
    }
    const char *bp = s->base_path ? s->base_path : settings_get(s, "AUTHC_BASE_PATH");
    if (bp && authc_config_set(cfg, "base_path", bp, err, sizeof err))
        PROBLEM("base path: %s", err);
    const char *users = settings_get(s, "AUTHC_USERS_FILE");
    if (users && *users) {
        err[0] = '\0';
        rt->users = users_load(users, err, sizeof err);
        if (!rt->users) {
            PROBLEM("%s", err);
        } else {
            authc_credentials_provider cp = {
                .id = "credentials", .name = "Credentials", .fields = USER_FIELDS,
                .nfields = 2, .authorize = users_authorize, .ud = rt->users};
            authc_config_add_credentials(cfg, &cp);
        }
    }
    /* The other provider types, each from its own settings. */
    problems += email_env_configure(s, cfg);
    problems += passkey_env_apply(s, cfg);
    problems += providers_from_env(s, cfg, stderr);
    const char *db = settings_get(s, "AUTHC_DATABASE");
    if (db && *db) {
        err[0] = '\0';
        rt->adapter = authc_adapter_open(db, prog_log, NULL, err, sizeof err);
        if (!rt->adapter) {
            PROBLEM("AUTHC_DATABASE: %s", err);
        } else if (migrate && rt->adapter->ops->migrate) {
            authc_err e = rt->adapter->ops->migrate(rt->adapter);
            if (e)
                PROBLEM("AUTHC_DATABASE: could not create or update the schema (%s)", authc_strerror(e));
            else if (verbose)
                prog_log(NULL, "info", "database schema is up to date");
        }
        if (rt->adapter)
            authc_config_set_adapter(cfg, rt->adapter);
    }
    if (!settings_get(s, "AUTH_URL") && !settings_get(s, "AUTH_TRUST_HOST"))
        PROBLEM("neither AUTH_URL nor AUTH_TRUST_HOST is set: every request would fail with UntrustedHost; "
                "set AUTH_URL to the public URL (e.g. https://app.example.com/auth) or AUTH_TRUST_HOST=true");
    if (problems) {
        authc_config_free(cfg);
        runtime_free(rt);
        return false;
    }
    err[0] = '\0';
    rt->auth = authc_new(cfg, err, sizeof err);
    if (!rt->auth) {
        for (char *line = strtok(err, "\n"); line; line = strtok(NULL, "\n"))
            PROBLEM("%s", line);
        runtime_free(rt);
        return false;
    }
#undef PROBLEM
    return true;
}
