/* store.c — the store's front end: opens a backend by URL scheme, checks
 * every key, value and TTL against the hard limits, and logs failures. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "adapters/adapters_int.h"
#include "store/store_be_int.h"
#include "util/parse_int.h"
#include "util/util_int.h"

#define DEFAULT_TIMEOUT_MS 2000
#define DEFAULT_POOL 4
#define DEFAULT_SWEEP_MS 60000
#define DEFAULT_MAX_ENTRIES 1000000
#define MAX_URL 4096
#define MAX_SECTION 32

struct authc_store {
    const authc__store_backend *be;
    void *ctx;
    authc_log_fn log;
    void *log_ud;
    atomic_bool failing;   /* last call failed: log the recovery once */
    char label[512];
};

static const authc__store_backend *const BACKENDS[] = {
    &authc__store_memory, &authc__store_sqlite, &authc__store_postgres,
    &authc__store_redis,
};

/* ---- shared helpers (store_be_int.h) ------------------------------------ */

int64_t authc__store_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool authc__store_add_i64(int64_t a, int64_t b, int64_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

bool authc__store_parse_i64(const uint8_t *s, size_t len, int64_t *out)
{
    return s && authc__parse_i64_n((const char *)s, len, INT64_MIN,
                                   INT64_MAX, out) == AUTHC_OK;
}

/* Owned by ar; NULL on OOM. */
uint8_t *authc__store_dup(authc_arena *ar, const void *p, size_t len)
{
    uint8_t *d = authc_arena_alloc(ar, len + 1);
    if (d && len)
        memcpy(d, p, len);
    return d;
}

/* ---- logging ------------------------------------------------------------ */

static void say(authc_store *st, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(authc_store *st, const char *level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    authc__logv(st->log, st->log_ud, level, fmt, ap);
    va_end(ap);
}

/* Logs a backend failure (or a recovery after one); passes rc through. */
static authc_err done(authc_store *st, const char *op, authc_err rc,
                      const char *why)
{
    if (rc == AUTHC_ERR_ADAPTER || rc == AUTHC_ERR_NOMEM) {
        atomic_store(&st->failing, true);
        say(st, "error", "store %s: %s failed: %s", st->label, op,
            why[0] ? why : (rc == AUTHC_ERR_NOMEM ? "out of memory"
                                                  : "store unavailable"));
    } else if ((rc == AUTHC_ERR_INVALID || rc == AUTHC_ERR_LIMIT) && why[0]) {
        say(st, "warn", "store %s: %s refused: %s", st->label, op, why);
    } else if (atomic_exchange(&st->failing, false)) {
        say(st, "info", "store %s: reachable again", st->label);
    }
    return rc;
}

/* ---- argument checks ----------------------------------------------------- */

static authc_err check_key(const char *key)
{
    if (!key)
        return AUTHC_ERR_INVALID;
    size_t n = strnlen(key, AUTHC_STORE_MAX_KEY + 1);
    if (n > AUTHC_STORE_MAX_KEY)
        return AUTHC_ERR_LIMIT;
    size_t i = 0;
    for (; i < n && key[i] != ':'; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-'))
            return AUTHC_ERR_INVALID;
    }
    if (i == 0 || i > MAX_SECTION || i + 1 >= n)
        return AUTHC_ERR_INVALID;
    /* The Redis adapter's key sections: a store on the database's URL
     * (the default) shares its prefix, so these stay the adapter's. */
    if ((i == 4 && strncmp(key, "user", 4) == 0) ||
        (i == 5 && strncmp(key, "authc", 5) == 0))
        return AUTHC_ERR_INVALID;
    for (i++; i < n; i++)
        if (key[i] < 0x21 || key[i] > 0x7e)
            return AUTHC_ERR_INVALID;
    return AUTHC_OK;
}

static authc_err check_ttl(int64_t ttl_ms)
{
    if (ttl_ms <= 0)
        return AUTHC_ERR_INVALID;
    return ttl_ms > AUTHC_STORE_MAX_TTL_MS ? AUTHC_ERR_LIMIT : AUTHC_OK;
}

static authc_err check_value(const void *v, size_t len)
{
    if (!v && len)
        return AUTHC_ERR_INVALID;
    return len > AUTHC_STORE_MAX_VALUE ? AUTHC_ERR_LIMIT : AUTHC_OK;
}

static authc_err check_owner(const char *owner)
{
    if (!owner || !*owner)
        return AUTHC_ERR_INVALID;
    return strnlen(owner, AUTHC_STORE_MAX_VALUE + 1) > AUTHC_STORE_MAX_VALUE
               ? AUTHC_ERR_LIMIT
               : AUTHC_OK;
}

/* First failing check of a list (AUTHC_OK when all pass). */
#define FIRST_ERR(a, b) ((a) != AUTHC_OK ? (a) : (b))

/* ---- operations ---------------------------------------------------------- */

authc_err authc__store_mget(authc_store *st, authc_arena *ar,
                            const char *const *keys, size_t n,
                            authc__store_val *out)
{
    if (!st || !ar || (n && (!keys || !out)))
        return AUTHC_ERR_INVALID;
    if (n > AUTHC_STORE_MAX_MULTI)
        return AUTHC_ERR_LIMIT;
    for (size_t i = 0; i < n; i++)
        out[i] = (authc__store_val){0};
    for (size_t i = 0; i < n; i++) {
        authc_err rc = check_key(keys[i]);
        if (rc != AUTHC_OK)
            return rc;
    }
    if (!n)
        return AUTHC_OK;
    char why[AUTHC__STORE_WHY] = "";
    authc_err rc = st->be->mget(st->ctx, ar, keys, n, out, why);
    if (rc != AUTHC_OK)
        for (size_t i = 0; i < n; i++)
            out[i] = (authc__store_val){0};
    return done(st, n == 1 ? "get" : "mget", rc, why);
}

authc_err authc__store_get(authc_store *st, authc_arena *ar, const char *key,
                           authc__store_val *out)
{
    if (!out)
        return AUTHC_ERR_INVALID;
    const char *keys[1] = {key};
    return authc__store_mget(st, ar, keys, 1, out);
}

/* set and set_nx. */
static authc_err put(authc_store *st, const char *key, const void *value,
                     size_t len, int64_t ttl_ms, bool nx, bool *stored)
{
    bool ignored;
    if (!stored)
        stored = &ignored;
    *stored = false;
    if (!st)
        return AUTHC_ERR_INVALID;
    authc_err rc = FIRST_ERR(check_key(key),
                             FIRST_ERR(check_value(value, len),
                                       check_ttl(ttl_ms)));
    if (rc != AUTHC_OK)
        return rc;
    char why[AUTHC__STORE_WHY] = "";
    rc = st->be->set(st->ctx, key, value ? value : "", len, ttl_ms, nx,
                     stored, why);
    if (rc != AUTHC_OK)
        *stored = false;
    return done(st, nx ? "set_nx" : "set", rc, why);
}

authc_err authc__store_set(authc_store *st, const char *key,
                           const void *value, size_t len, int64_t ttl_ms)
{
    return put(st, key, value, len, ttl_ms, false, NULL);
}

authc_err authc__store_set_nx(authc_store *st, const char *key,
                              const void *value, size_t len, int64_t ttl_ms,
                              bool *stored)
{
    if (!stored)
        return AUTHC_ERR_INVALID;
    return put(st, key, value, len, ttl_ms, true, stored);
}

/* renew_if_owner (ttl_ms > 0) and delete_if_owner (ttl_ms == 0). */
static authc_err if_owner(authc_store *st, const char *key, const char *owner,
                          int64_t ttl_ms, bool *done_out)
{
    if (!st || !done_out)
        return AUTHC_ERR_INVALID;
    *done_out = false;
    authc_err rc = FIRST_ERR(check_key(key), check_owner(owner));
    if (rc == AUTHC_OK && ttl_ms)
        rc = check_ttl(ttl_ms);
    if (rc != AUTHC_OK)
        return rc;
    char why[AUTHC__STORE_WHY] = "";
    rc = st->be->if_owner(st->ctx, key, owner, ttl_ms, done_out, why);
    if (rc != AUTHC_OK)
        *done_out = false;
    return done(st, ttl_ms ? "renew_if_owner" : "delete_if_owner", rc, why);
}

authc_err authc__store_renew_if_owner(authc_store *st, const char *key,
                                      const char *owner, int64_t ttl_ms,
                                      bool *renewed)
{
    if (ttl_ms == 0)
        return AUTHC_ERR_INVALID;
    return if_owner(st, key, owner, ttl_ms, renewed);
}

authc_err authc__store_delete_if_owner(authc_store *st, const char *key,
                                       const char *owner, bool *deleted)
{
    return if_owner(st, key, owner, 0, deleted);
}

authc_err authc__store_delete(authc_store *st, const char *key,
                              bool *deleted)
{
    bool ignored;
    if (!deleted)
        deleted = &ignored;
    *deleted = false;
    if (!st)
        return AUTHC_ERR_INVALID;
    authc_err rc = check_key(key);
    if (rc != AUTHC_OK)
        return rc;
    char why[AUTHC__STORE_WHY] = "";
    rc = st->be->del(st->ctx, key, deleted, why);
    if (rc != AUTHC_OK)
        *deleted = false;
    return done(st, "delete", rc, why);
}

authc_err authc__store_scan(authc_store *st, authc_arena *ar, const char *prefix, size_t max,
                            const char **keys, size_t *n)
{
    *n = 0;
    if (!st || !ar || !prefix || !keys || max == 0 || max > AUTHC_STORE_MAX_SCAN ||
        strlen(prefix) >= AUTHC_STORE_MAX_KEY)
        return AUTHC_ERR_INVALID;
    char why[AUTHC__STORE_WHY] = "";
    authc_err rc = st->be->scan(st->ctx, ar, prefix, max, keys, n, why);
    if (rc != AUTHC_OK)
        *n = 0;
    return done(st, "scan", rc, why);
}

authc_err authc__store_incr(authc_store *st, const char *key, int64_t by,
                            int64_t ttl_ms, int64_t *value)
{
    if (!st || !value)
        return AUTHC_ERR_INVALID;
    *value = 0;
    authc_err rc = FIRST_ERR(check_key(key), check_ttl(ttl_ms));
    if (rc != AUTHC_OK)
        return rc;
    char why[AUTHC__STORE_WHY] = "";
    rc = st->be->incr(st->ctx, key, by, ttl_ms, value, why);
    if (rc != AUTHC_OK)
        *value = 0;
    return done(st, "incr", rc, why);
}

authc_err authc__store_sweep(authc_store *st, int64_t *removed)
{
    int64_t ignored;
    if (!removed)
        removed = &ignored;
    *removed = 0;
    if (!st)
        return AUTHC_ERR_INVALID;
    char why[AUTHC__STORE_WHY] = "";
    /* A backend without sweep expires entries itself. */
    authc_err rc = st->be->sweep ? st->be->sweep(st->ctx, removed, why) : AUTHC_OK;
    return done(st, "sweep", rc, why);
}

authc_err authc__store_migrate(authc_store *st)
{
    if (!st)
        return AUTHC_ERR_INVALID;
    char why[AUTHC__STORE_WHY] = "";
    authc_err rc = st->be->migrate ? st->be->migrate(st->ctx, why) : AUTHC_OK;
    return done(st, "migrate", rc, why);
}

authc_err authc__store_ping(authc_store *st)
{
    if (!st)
        return AUTHC_ERR_INVALID;
    char why[AUTHC__STORE_WHY] = "";
    authc_err rc = st->be->ping ? st->be->ping(st->ctx, AUTHC_STORE_PING_MS, why) : AUTHC_OK;
    return done(st, "ping", rc, why);
}

const char *authc__store_backend_name(const authc_store *st)
{
    return st ? st->be->name : NULL;
}

const char *authc__store_label(const authc_store *st)
{
    return st ? st->label : NULL;
}

/* ---- URL options ---------------------------------------------------------- */

/* Takes one "name=value" query pair into o when it is ours (true), else
 * leaves it for the driver (false). *bad is set for a bad value of ours.
 * ar owns the decoded prefix. */
static bool take_option(authc__store_opts *o, authc_arena *ar, const char *p,
                        size_t n, bool *bad)
{
    static const struct {
        const char *name;
        int64_t lo, hi;
    } NUM[] = {
        {"timeout", 50, 60000},
        {"connect_timeout", 50, 60000},
        {"pool_size", 1, 64},
        {"sweep_interval", 0, 86400000},
        {"max_entries", 1, 1000000000},
    };
    const char *eq = memchr(p, '=', n);
    size_t kn = eq ? (size_t)(eq - p) : n;
    const char *v = eq ? eq + 1 : p + n;
    size_t vn = (size_t)(p + n - v);
    if (kn == 6 && strncmp(p, "prefix", 6) == 0) {
        o->prefix = authc__pct_decode(ar, v, vn, false);
        *bad = o->prefix == NULL;
        return true;
    }
    for (size_t i = 0; i < sizeof NUM / sizeof NUM[0]; i++) {
        if (strlen(NUM[i].name) != kn || strncmp(p, NUM[i].name, kn) != 0)
            continue;
        int64_t x = 0;
        *bad = authc__parse_i64_n(v, vn, NUM[i].lo, NUM[i].hi, &x) != AUTHC_OK;
        if (i == 0)
            o->timeout_ms = (int)x;
        else if (i == 1)
            o->connect_timeout_ms = (int)x;
        else if (i == 2)
            o->pool_size = (int)x;
        else if (i == 3)
            o->sweep_interval_ms = x;
        else
            o->max_entries = x;
        return true;
    }
    return false;
}

/* Fills o from url: our query options out, the rest of the URL in o->url
 * (owned by ar). AUTHC_ERR_INVALID names the bad option in err. */
static authc_err parse_opts(const char *url, authc_arena *ar,
                            authc__store_opts *o, char *err, size_t errlen)
{
    *o = (authc__store_opts){
        .timeout_ms = DEFAULT_TIMEOUT_MS,
        .connect_timeout_ms = DEFAULT_TIMEOUT_MS,
        .pool_size = DEFAULT_POOL,
        .sweep_interval_ms = DEFAULT_SWEEP_MS,
        .prefix = "",
        .max_entries = DEFAULT_MAX_ENTRIES,
    };
    const char *q = strchr(url, '?');
    size_t base = q ? (size_t)(q - url) : strlen(url);
    authc__buf rest;
    authc__buf_init(&rest, ar, MAX_URL);
    authc__buf_add(&rest, url, base);
    char sep = '?';
    for (const char *p = q ? q + 1 : NULL; p && *p;) {
        size_t n = strcspn(p, "&");
        bool bad = false;
        if (n && !take_option(o, ar, p, n, &bad)) {
            authc__buf_addc(&rest, sep);
            authc__buf_add(&rest, p, n);
            sep = '&';
        }
        if (bad) {
            authc__set_err(err, errlen, "store: bad option \"%.*s\"",
                           (int)n, p);
            return AUTHC_ERR_INVALID;
        }
        p += n;
        if (*p == '&')
            p++;
    }
    if (rest.err != AUTHC_OK)
        return rest.err;
    o->url = rest.p;
    return AUTHC_OK;
}

/* ---- open / close ---------------------------------------------------------- */

static const authc__store_backend *backend_for(const char *url)
{
    for (size_t i = 0; i < sizeof BACKENDS / sizeof BACKENDS[0]; i++)
        for (const char *const *s = BACKENDS[i]->schemes; *s; s++)
            if (strncasecmp(url, *s, strlen(*s)) == 0)
                return BACKENDS[i];
    return NULL;
}

/* Heap handle owned by the caller (authc__store_close); NULL + err. */
authc_store *authc__store_open(const char *url, authc_log_fn log,
                               void *log_ud, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!url || !*url || strlen(url) > MAX_URL) {
        authc__set_err(err, errlen, "store: %s URL",
                       url && *url ? "too long a" : "empty");
        return NULL;
    }
    authc_store *st = calloc(1, sizeof *st);
    authc_arena *ar = authc_arena_new();
    if (!st || !ar) {
        free(st);
        authc_arena_free(ar);
        authc__set_err(err, errlen, "store: out of memory");
        return NULL;
    }
    authc__url_redact(url, st->label, sizeof st->label);
    st->log = log;
    st->log_ud = log_ud;
    st->be = backend_for(url);
    authc__store_opts o;
    authc_err rc = AUTHC_ERR_INVALID;
    if (!st->be) {
        authc__set_err(err, errlen,
                       "store: unknown URL scheme in \"%s\" (use memory:, "
                       "sqlite:PATH, postgres://, redis://)",
                       st->label);
    } else if ((rc = parse_opts(url, ar, &o, err, errlen)) == AUTHC_OK) {
        char why[AUTHC__STORE_WHY] = "";
        o.label = st->label;
        rc = st->be->open(&o, &st->ctx, why);
        if (rc != AUTHC_OK)
            authc__set_err(err, errlen, "store %s: %s", st->label,
                           why[0] ? why : "cannot open");
    } else if (err && errlen && !err[0]) {
        authc__set_err(err, errlen, "store %s: out of memory", st->label);
    }
    authc_arena_free(ar);
    if (rc != AUTHC_OK) {
        free(st);
        return NULL;
    }
    if (st->be == &authc__store_memory)
        say(st, "info", "store %s: kept in this process only (run a single "
            "instance, or use a shared store)", st->label);
    return st;
}

void authc__store_close(authc_store *st)
{
    if (!st)
        return;
    st->be->close(st->ctx);
    free(st);
}
