/* revoke.c — revocation marks in the shared store (per session, user and
 * provider sid/sub) and their check on every decode, cached for ≤ 2 s. */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle/revoke_int.h"
#include "util/util_int.h"

#define STRIPES 64
#define KEY_MAX 64
/* Longest cached identity: kind, provider, NUL, value. A longer one is
 * not cached (every check asks the store), never truncated. */
#define RAW_MAX 128

/* A cached mark, keyed by the raw identity rather than its store key, so
 * a hit needs no SHA-256: the store keeps only hashes (no user data in its
 * key space); this process already holds the raw values. */
typedef struct slot {
    uint16_t len;       /* of raw; 0: empty */
    char raw[RAW_MAX];
    int64_t value;      /* -1 absent, else the mark (1 or a time in ms) */
    int64_t fetched_ms;
} slot;

/* One mark's identity: the raw bytes the cache compares and, made on a
 * miss only, the store key. */
typedef struct ident {
    char kind;
    const char *provider, *value;
    size_t len;         /* of raw; 0 when too long to cache */
    char raw[RAW_MAX];
} ident;

struct authc__revoker {
    authc_store *st;
    int64_t ttl_ms;
    pthread_mutex_t mu[STRIPES];
    slot slots[AUTHC__REVOKE_CACHE_SLOTS];
};

authc__revoker *authc__revoker_new(authc_store *st, int64_t marks_ttl_ms)
{
    authc__revoker *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->st = st;
    /* A mark must outlive every session it could revoke, plus clock skew. */
    r->ttl_ms = marks_ttl_ms + 60 * 1000;
    if (r->ttl_ms > AUTHC_STORE_MAX_TTL_MS)
        r->ttl_ms = AUTHC_STORE_MAX_TTL_MS;
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&r->mu[i], NULL);
    return r;
}

void authc__revoker_free(authc__revoker *r)
{
    if (!r)
        return;
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&r->mu[i]);
    free(r);
}

/* Fills id for (kind, provider, value); false when value is empty (no
 * mark can exist). provider may be NULL. */
static bool ident_of(ident *id, char kind, const char *provider, const char *value)
{
    if (!value || !*value)
        return false;
    id->kind = kind;
    id->provider = provider;
    id->value = value;
    size_t pl = provider ? strlen(provider) : 0, vl = strlen(value);
    id->len = 0;
    if (pl + vl + 2 <= RAW_MAX) {
        id->raw[0] = kind;
        memcpy(id->raw + 1, provider ? provider : "", pl);
        id->raw[1 + pl] = '\0';
        memcpy(id->raw + 2 + pl, value, vl);
        id->len = pl + vl + 2;
    }
    return true;
}

/* "rev:<kind>:<base64url(SHA-256(kind NUL provider NUL value))[:32]>":
 * fixed length, printable, and no user data in the store's key space. */
static bool mark_key(char out[KEY_MAX], const ident *id)
{
    char k[2] = {id->kind, '\0'}, prefix[8] = {'r', 'e', 'v', ':', id->kind, '\0'};
    const char *parts[3] = {k, id->provider, id->value};
    return authc__digest_key(out, KEY_MAX, prefix, parts, 3);
}

static size_t slot_of(const ident *id)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < id->len; i++)
        h = (h ^ (unsigned char)id->raw[i]) * 1099511628211ull;
    return (size_t)(h % AUTHC__REVOKE_CACHE_SLOTS);
}

/* Cached value of a mark fresher than the cache window; false when not. */
static bool cache_get(authc__revoker *r, const ident *id, int64_t now, int64_t *value)
{
    if (!id->len)
        return false;
    size_t i = slot_of(id);
    pthread_mutex_t *mu = &r->mu[i % STRIPES];
    pthread_mutex_lock(mu);
    slot *s = &r->slots[i];
    bool hit = s->len == id->len && !memcmp(s->raw, id->raw, id->len) &&
               now - s->fetched_ms < AUTHC__REVOKE_CACHE_MS && now >= s->fetched_ms;
    if (hit)
        *value = s->value;
    pthread_mutex_unlock(mu);
    return hit;
}

static void cache_put(authc__revoker *r, const ident *id, int64_t value, int64_t now)
{
    if (!id->len)
        return;
    size_t i = slot_of(id);
    pthread_mutex_t *mu = &r->mu[i % STRIPES];
    pthread_mutex_lock(mu);
    slot *s = &r->slots[i];
    memcpy(s->raw, id->raw, id->len);
    s->len = (uint16_t)id->len;
    s->value = value;
    s->fetched_ms = now;
    pthread_mutex_unlock(mu);
}

static int64_t parse_mark(const authc__store_val *v)
{
    if (!v->data)
        return -1;
    int64_t x = 0;
    for (size_t i = 0; i < v->len; i++) {
        if (v->data[i] < '0' || v->data[i] > '9' || x > (INT64_MAX - 9) / 10)
            return INT64_MAX; /* unreadable mark: treat as revoking everything */
        x = x * 10 + (v->data[i] - '0');
    }
    return v->len ? x : INT64_MAX;
}

authc_err authc__revoked(authc__revoker *r, const authc__session_ident *id, bool *revoked)
{
    *revoked = false;
    ident ids[4];
    char keys[4][KEY_MAX];
    const char *kp[4];
    int64_t vals[4];
    size_t n = 0, miss[4], nmiss = 0;
    if (ident_of(&ids[n], 's', NULL, id->sid))
        n++;
    size_t first_ts = n; /* marks from here on are times */
    if (ident_of(&ids[n], 'u', NULL, id->user_id))
        n++;
    if (id->provider && ident_of(&ids[n], 'p', id->provider, id->psid))
        n++;
    if (id->provider && ident_of(&ids[n], 'b', id->provider, id->psub))
        n++;
    int64_t now = authc__now_ms();
    for (size_t i = 0; i < n; i++)
        if (!cache_get(r, &ids[i], now, &vals[i])) {
            if (!mark_key(keys[nmiss], &ids[i]))
                return AUTHC_ERR_NOMEM; /* SHA-256 failed to run: fail closed */
            miss[nmiss] = i;
            kp[nmiss] = keys[nmiss];
            nmiss++;
        }
    if (nmiss) {
        authc_arena *ar = authc_arena_new();
        authc__store_val got[4];
        authc_err e = ar ? authc__store_mget(r->st, ar, kp, nmiss, got) : AUTHC_ERR_NOMEM;
        if (e) {
            authc_arena_free(ar);
            return e == AUTHC_ERR_NOMEM ? e : AUTHC_ERR_ADAPTER;
        }
        for (size_t j = 0; j < nmiss; j++) {
            vals[miss[j]] = parse_mark(&got[j]);
            cache_put(r, &ids[miss[j]], vals[miss[j]], now);
        }
        authc_arena_free(ar);
    }
    for (size_t i = 0; i < n && !*revoked; i++) {
        if (vals[i] < 0)
            continue;
        /* A session mark revokes outright; a time revokes what signed in
         * at or before it. */
        *revoked = i < first_ts || id->signed_in_ms <= vals[i];
    }
    return AUTHC_OK;
}

/* Writes the mark for (kind, provider, value); AUTHC_ERR_INVALID when
 * value is empty. */
static authc_err put_mark(authc__revoker *r, char kind, const char *provider, const char *value,
                          int64_t mark)
{
    ident id;
    char key[KEY_MAX];
    if (!ident_of(&id, kind, provider, value))
        return AUTHC_ERR_INVALID;
    if (!mark_key(key, &id))
        return AUTHC_ERR_CRYPTO;
    char text[24];
    int len = snprintf(text, sizeof text, "%lld", (long long)mark);
    authc_err e = authc__store_set(r->st, key, text, (size_t)len, r->ttl_ms);
    if (!e)
        cache_put(r, &id, mark, authc__now_ms()); /* this instance knows at once */
    return e;
}

authc_err authc__revoke_session(authc__revoker *r, const char *sid)
{
    return put_mark(r, 's', NULL, sid, 1);
}

authc_err authc__revoke_user(authc__revoker *r, const char *user_id, int64_t at_ms)
{
    return put_mark(r, 'u', NULL, user_id, at_ms);
}

authc_err authc__revoke_provider(authc__revoker *r, const char *provider, const char *psid,
                                 const char *psub, int64_t at_ms)
{
    if (!provider)
        return AUTHC_ERR_INVALID;
    authc_err e = AUTHC_ERR_INVALID;
    if (psid && *psid && (e = put_mark(r, 'p', provider, psid, at_ms)))
        return e;
    if (psub && *psub)
        e = put_mark(r, 'b', provider, psub, at_ms);
    return e;
}
