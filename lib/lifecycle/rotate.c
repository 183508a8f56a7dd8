/* rotate.c — refresh-token rotation that presents a refresh token at most
 * once across every instance: lease, read-after-lock, spent mark, successor. */
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lifecycle/rotate_int.h"
#include "util/util_int.h"

#define SPENT_TTL_MS (30LL * 86400 * 1000)
#define POLL_MS 50

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}

/* Successor record: {"a":…,"r":…,"i":…,"e":…} or {"dead":true}. */
static authc_err succ_encode(authc_arena *ar, const authc__tokens *t, bool dead, char **text)
{
    json_t *j = dead ? json_pack("{s:b}", "dead", 1)
                     : json_pack("{s:s?,s:s?,s:s?,s:I}", "a", t->access_token, "r", t->refresh_token,
                                 "i", t->id_token, "e", (json_int_t)t->expires_at);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    *text = s ? authc_arena_strdup(ar, s) : NULL;
    free(s);
    return *text ? AUTHC_OK : AUTHC_ERR_NOMEM;
}

static const char *jstr(authc_arena *ar, json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? authc_arena_strdup(ar, v) : NULL;
}

/* Reads the successor record: *found, and *dead or *out. */
static authc_err succ_read(authc_store *st, authc_arena *ar, const char *key, bool *found,
                           bool *dead, authc__tokens *out)
{
    authc__store_val v;
    authc_err e = authc__store_get(st, ar, key, &v);
    *found = *dead = false; /* callers read *dead on an error too */
    if (e || !v.data)
        return e;
    json_t *j = json_loadb((const char *)v.data, v.len, 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        *found = *dead = true; /* unreadable: never fall back to the old token */
        return AUTHC_OK;
    }
    *found = true;
    *dead = json_is_true(json_object_get(j, "dead"));
    if (!*dead) {
        out->access_token = jstr(ar, j, "a");
        out->refresh_token = jstr(ar, j, "r");
        out->id_token = jstr(ar, j, "i");
        out->expires_at = (int64_t)json_integer_value(json_object_get(j, "e"));
    }
    json_decref(j);
    return AUTHC_OK;
}

/* Keeps the lease alive while a grant runs, so a slow provider never lets
 * a second caller in. */
typedef struct renewer {
    authc_store *st;
    const char *key, *owner;
    int64_t ttl;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
} renewer;

static void *renew_loop(void *arg)
{
    renewer *rn = arg;
    pthread_mutex_lock(&rn->mu);
    while (!rn->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (rn->ttl / 3 % 1000) * 1000000L;
        ts.tv_sec += rn->ttl / 3 / 1000 + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        if (pthread_cond_timedwait(&rn->cv, &rn->mu, &ts) == ETIMEDOUT && !rn->stop) {
            pthread_mutex_unlock(&rn->mu);
            bool renewed;
            authc__store_renew_if_owner(rn->st, rn->key, rn->owner, rn->ttl, &renewed);
            pthread_mutex_lock(&rn->mu);
        }
    }
    pthread_mutex_unlock(&rn->mu);
    return NULL;
}

static authc__grant_result grant_renewed(authc_store *st, const char *lease, const char *owner,
                                         int64_t ttl, authc__grant_fn grant, void *ud, authc_arena *ar,
                                         const authc__tokens *cur, authc__tokens *out)
{
    renewer rn = {.st = st, .key = lease, .owner = owner, .ttl = ttl};
    pthread_mutex_init(&rn.mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rn.cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_t th;
    bool started = pthread_create(&th, NULL, renew_loop, &rn) == 0;
    authc__grant_result g = grant(ud, ar, cur, out);
    if (started) {
        pthread_mutex_lock(&rn.mu);
        rn.stop = true;
        pthread_cond_signal(&rn.cv);
        pthread_mutex_unlock(&rn.mu);
        pthread_join(th, NULL);
    }
    pthread_cond_destroy(&rn.cv);
    pthread_mutex_destroy(&rn.mu);
    return g;
}

/* Holding the lease: read again, mark spent, grant, record the outcome. */
static authc_err as_owner(authc_store *st, authc_arena *ar, const char *keys[3], const char *owner,
                          int64_t ttl, const authc__tokens *cur, authc__grant_fn grant, void *ud,
                          authc__tokens *out, authc__rotate_result *res)
{
    const char *lease = keys[0], *succ = keys[1], *spent = keys[2];
    bool found, dead;
    authc_err e = succ_read(st, ar, succ, &found, &dead, out);
    if (e || found) {
        *res = dead ? AUTHC__ROTATE_DEAD : AUTHC__ROTATE_SUCCESSOR;
        return e;
    }
    bool fresh_mark;
    if ((e = authc__store_set_nx(st, spent, "1", 1, SPENT_TTL_MS, &fresh_mark)))
        return e;
    if (!fresh_mark) {
        *res = AUTHC__ROTATE_DEAD; /* used before, and its successor is gone */
        return AUTHC_OK;
    }
    authc__tokens got = {0};
    authc__grant_result g = grant_renewed(st, lease, owner, ttl, grant, ud, ar, cur, &got);
    if (g == AUTHC__GRANT_TRANSIENT) {
        /* Not presented successfully: allow a retry, unless we cannot
         * unmark it (then the token counts as used: fail closed). */
        *res = authc__store_delete(st, spent, NULL) ? AUTHC__ROTATE_DEAD : AUTHC__ROTATE_RETRY;
        return AUTHC_OK;
    }
    char *rec;
    if (g == AUTHC__GRANT_DEAD) {
        if (succ_encode(ar, NULL, true, &rec) == AUTHC_OK)
            authc__store_set(st, succ, rec, strlen(rec), AUTHC__SUCCESSOR_TTL_MS);
        *res = AUTHC__ROTATE_DEAD;
        return AUTHC_OK;
    }
    if (!got.refresh_token || !strcmp(got.refresh_token, cur->refresh_token)) {
        /* The provider does not rotate (Google): the token stays live. */
        got.refresh_token = cur->refresh_token;
        authc__store_delete(st, spent, NULL);
    }
    if (!got.id_token)
        got.id_token = cur->id_token;
    *out = got;
    if (succ_encode(ar, &got, false, &rec) == AUTHC_OK)
        authc__store_set(st, succ, rec, strlen(rec), AUTHC__SUCCESSOR_TTL_MS);
    *res = AUTHC__ROTATE_REFRESHED;
    return AUTHC_OK;
}

authc_err authc__rotate(authc_store *st, authc_arena *ar, const char *scope,
                        const authc__tokens *cur, const authc__rotate_opts *opts,
                        authc__grant_fn grant, void *ud, authc__tokens *out,
                        authc__rotate_result *res)
{
    *out = *cur;
    *res = AUTHC__ROTATE_FRESH;
    int64_t refresh_before_s = opts ? opts->refresh_before_s : 0;
    int64_t ttl = opts && opts->lease_ttl_ms > 0 ? opts->lease_ttl_ms : AUTHC__LEASE_TTL_MS;
    int64_t wait = opts && opts->wait_ms > 0 ? opts->wait_ms : AUTHC__ROTATE_WAIT_MS;
    int64_t now = authc__now_ms() / 1000;
    if (!cur->refresh_token || !*cur->refresh_token || !cur->expires_at ||
        cur->expires_at - now >= refresh_before_s)
        return AUTHC_OK;
    if (strlen(cur->refresh_token) > AUTHC__TOKEN_MAX)
        return AUTHC_ERR_LIMIT;
    char lease[AUTHC__HASHED_KEY_MAX], succ[AUTHC__HASHED_KEY_MAX],
        spent[AUTHC__HASHED_KEY_MAX], owner[37];
    if (!authc__hashed_key(lease, "lease", scope, cur->refresh_token) ||
        !authc__hashed_key(succ, "succ", scope, cur->refresh_token) ||
        !authc__hashed_key(spent, "spent", scope, cur->refresh_token) || authc__uuid(owner))
        return AUTHC_ERR_NOMEM;
    const char *keys[3] = {lease, succ, spent};
    /* An old cookie inside the window: the successor, without a grant. */
    bool found, dead;
    authc_err e = succ_read(st, ar, succ, &found, &dead, out);
    if (e || found) {
        *res = dead ? AUTHC__ROTATE_DEAD : AUTHC__ROTATE_SUCCESSOR;
        return e;
    }
    for (int64_t waited = 0;; waited += POLL_MS) {
        bool got;
        if ((e = authc__store_set_nx(st, lease, owner, strlen(owner), ttl, &got)))
            return e;
        if (got) {
            e = as_owner(st, ar, keys, owner, ttl, cur, grant, ud, out, res);
            bool deleted;
            authc__store_delete_if_owner(st, lease, owner, &deleted);
            return e;
        }
        if (waited >= wait) {
            *res = AUTHC__ROTATE_RETRY;
            return AUTHC_OK;
        }
        sleep_ms(POLL_MS);
        if ((e = succ_read(st, ar, succ, &found, &dead, out)))
            return e;
        if (found) {
            *res = dead ? AUTHC__ROTATE_DEAD : AUTHC__ROTATE_SUCCESSOR;
            return AUTHC_OK;
        }
    }
}
