/* abuse.c — throttles and credentials regulation over the shared store:
 * counters with TTLs (INCR + PEXPIRE) and ban marks whose TTL doubles. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "abuse/abuse_int.h"
#include "metrics/metrics_int.h"
#include "util/util_int.h"

/* The readable part of a key: printable ASCII except space and '%' kept,
 * the rest %-encoded; too long → "h:" + base64url(SHA-256). */
static void key_part(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (o + 4 >= cap || o > 96) {
            /* parts {s} hash s itself; on a failure the key stays empty,
             * so the caller's store call fails closed. */
            const char *parts[1] = {s};
            if (!authc__digest_key(out, cap, "h", parts, 1))
                *out = '\0';
            return;
        }
        if (*p > 0x20 && *p < 0x7f && *p != '%')
            out[o++] = (char)*p;
        else
            o += (size_t)snprintf(out + o, cap - o, "%%%02X", *p);
    }
    out[o] = '\0';
}

bool authc__ban_key(char *out, char kind, const char *who)
{
    char part[160];
    key_part(part, sizeof part, who && *who ? who : "-");
    snprintf(out, AUTHC_STORE_MAX_KEY, "ban:%c:%s", kind, part);
    return strncmp(part, "h:", 2) != 0;
}

authc_err authc__throttle_hit(authc_store *st, const char *bucket, const char *key, int64_t limit,
                              int64_t window_s, bool *allowed, int64_t *retry_after_s)
{
    *allowed = true;
    if (retry_after_s)
        *retry_after_s = 0;
    if (limit <= 0)
        return AUTHC_OK;
    char part[160], k[AUTHC_STORE_MAX_KEY];
    key_part(part, sizeof part, key && *key ? key : "-");
    snprintf(k, sizeof k, "rl:%s:%s", bucket, part);
    int64_t n;
    authc_err e = authc__store_incr(st, k, 1, window_s * 1000, &n);
    if (e)
        return e;
    authc__metric_inc(AUTHC__M_RATELIMIT, bucket, n > limit ? "limited" : "allowed", NULL);
    if (n > limit) {
        *allowed = false;
        if (retry_after_s)
            *retry_after_s = window_s; /* upper bound: the window is fixed */
    }
    return AUTHC_OK;
}

authc_err authc__regulation_banned(authc_store *st, const authc__regulation *rg, const char *user,
                                   const char *ip_key, bool *banned)
{
    *banned = false;
    if (!rg->max_failures)
        return AUTHC_OK;
    char ku[AUTHC_STORE_MAX_KEY], ki[AUTHC_STORE_MAX_KEY];
    authc__ban_key(ku, 'u', user);
    authc__ban_key(ki, 'i', ip_key);
    const char *keys[2] = {ku, ki};
    authc__store_val v[2];
    authc_arena *ar = authc_arena_new();
    if (!ar)
        return AUTHC_ERR_NOMEM;
    authc_err e = authc__store_mget(st, ar, keys, ip_key && *ip_key ? 2 : 1, v);
    if (!e)
        *banned = v[0].data || (ip_key && *ip_key && v[1].data);
    authc_arena_free(ar);
    return e;
}

/* Bans kind/who: the TTL doubles with each ban within a day, up to 1 h. */
static authc_err ban(authc_store *st, const authc__regulation *rg, char kind, const char *who)
{
    char part[160], kc[AUTHC_STORE_MAX_KEY], kb[AUTHC_STORE_MAX_KEY];
    key_part(part, sizeof part, who);
    snprintf(kc, sizeof kc, "bans:%c:%s", kind, part);
    int64_t nth;
    authc_err e = authc__store_incr(st, kc, 1, 86400 * 1000, &nth);
    if (e)
        return e;
    int64_t t = rg->ban_time_s;
    for (int64_t i = 1; i < nth && t < AUTHC__BAN_MAX_S; i++)
        t *= 2;
    if (t > AUTHC__BAN_MAX_S)
        t = AUTHC__BAN_MAX_S;
    authc__ban_key(kb, kind, who);
    char until[24];
    int len = snprintf(until, sizeof until, "%lld", (long long)(authc__now_ms() / 1000 + t));
    return authc__store_set(st, kb, until, (size_t)len, t * 1000);
}

authc_err authc__regulation_failed(authc_store *st, const authc__regulation *rg, const char *user,
                                   const char *ip_key, bool *banned_now)
{
    *banned_now = false;
    if (!rg->max_failures)
        return AUTHC_OK;
    char part[160], k[AUTHC_STORE_MAX_KEY];
    int64_t n;
    key_part(part, sizeof part, user && *user ? user : "-");
    snprintf(k, sizeof k, "fail:u:%s", part);
    authc_err e = authc__store_incr(st, k, 1, rg->find_time_s * 1000, &n);
    if (e)
        return e;
    if (n == rg->max_failures) {
        if ((e = ban(st, rg, 'u', user && *user ? user : "-")))
            return e;
        authc__store_delete(st, k, NULL); /* the next ban needs a new run */
        *banned_now = true;
    }
    if (ip_key && *ip_key) {
        key_part(part, sizeof part, ip_key);
        snprintf(k, sizeof k, "fail:i:%s", part);
        if ((e = authc__store_incr(st, k, 1, rg->find_time_s * 1000, &n)))
            return e;
        if (n == 4 * rg->max_failures) {
            if ((e = ban(st, rg, 'i', ip_key)))
                return e;
            authc__store_delete(st, k, NULL);
            *banned_now = true;
        }
    }
    return AUTHC_OK;
}

authc_err authc__regulation_succeeded(authc_store *st, const authc__regulation *rg, const char *user)
{
    if (!rg->max_failures)
        return AUTHC_OK;
    char part[160], k[AUTHC_STORE_MAX_KEY];
    key_part(part, sizeof part, user && *user ? user : "-");
    snprintf(k, sizeof k, "fail:u:%s", part);
    return authc__store_delete(st, k, NULL);
}
