/* db_redis.c — conformance harness for the "redis://" backend: direct readers
 * on their own hiredis connection that also check the upstash byte format. */
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/adapters_int.h"
#include "conformance.h"

typedef struct rdb {
    redisContext *c;
    char prefix[260];
    regex_t iso;       /* toISOString: YYYY-MM-DDTHH:mm:ss.sssZ */
} rdb;

static void log_stderr(void *ud, const char *level, const char *msg)
{
    (void)ud;
    fprintf(stderr, "[redis %s] %s\n", level, msg);
}

/* Minimal redis://host:port[/db][?prefix=P] parser for the test URLs
 * (no password, prefix not percent-encoded). */
static bool parse(const char *url, char *host, size_t hlen, int *port,
                  int *dbn, char *prefix, size_t plen)
{
    if (strncasecmp(url, "redis://", 8) != 0)
        return false;
    const char *p = url + 8;
    size_t n = strcspn(p, ":/?");
    if (!n || n >= hlen)
        return false;
    memcpy(host, p, n);
    host[n] = '\0';
    p += n;
    *port = 6379;
    *dbn = 0;
    if (*p == ':') {
        *port = atoi(p + 1);
        p += 1 + strspn(p + 1, "0123456789");
    }
    if (*p == '/') {
        *dbn = atoi(p + 1);
        p += 1 + strspn(p + 1, "0123456789");
    }
    prefix[0] = '\0';
    const char *q = strstr(p, "prefix=");
    if (q) {
        q += 7;
        size_t m = strcspn(q, "&");
        if (m >= plen)
            return false;
        memcpy(prefix, q, m);
        prefix[m] = '\0';
    }
    return true;
}

static authc_adapter *rd_open(const char *url, void **db)
{
    char err[512], host[256];
    int port, dbn;
    *db = NULL;
    rdb *h = calloc(1, sizeof *h);
    if (!h || !parse(url, host, sizeof host, &port, &dbn, h->prefix,
                     sizeof h->prefix)) {
        fprintf(stderr, "redis reader: cannot parse %s\n", url);
        free(h);
        return NULL;
    }
    authc_adapter *ad = authc_adapter_open(url, log_stderr, NULL, err,
                                           sizeof err);
    if (!ad) {
        fprintf(stderr, "redis: %s\n", err);
        free(h);
        return NULL;
    }
    struct timeval tv = {5, 0};
    h->c = redisConnectWithTimeout(host, port, tv);
    redisReply *r = h->c && !h->c->err
                        ? redisCommand(h->c, "SELECT %d", dbn)
                        : NULL;
    if (!r || r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "redis reader: cannot connect to %s:%d\n", host,
                port);
        freeReplyObject(r);
        if (h->c)
            redisFree(h->c);
        free(h);
        authc_adapter_close(ad);
        return NULL;
    }
    freeReplyObject(r);
    regcomp(&h->iso,
            "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
            REG_EXTENDED | REG_NOSUB);
    *db = h;
    return ad;
}

static void rd_close(authc_adapter *ad, void *db)
{
    rdb *h = db;
    if (h) {
        redisFree(h->c);
        regfree(&h->iso);
        free(h);
    }
    authc_adapter_close(ad);
}

/* GET prefix+key; *val = heap copy (caller frees) or NULL when absent. */
static authc_err get(rdb *h, const char *key, char **val)
{
    *val = NULL;
    redisReply *r = redisCommand(h->c, "GET %s%s", h->prefix, key);
    if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)) {
        fprintf(stderr, "redis reader: GET %s failed\n", key);
        freeReplyObject(r);
        return AUTHC_ERR_ADAPTER;
    }
    if (r->type == REDIS_REPLY_STRING)
        *val = strndup(r->str, r->len);
    freeReplyObject(r);
    return AUTHC_OK;
}

/* PTTL of prefix+key (-1: no TTL, -2: missing). */
static long long pttl(rdb *h, const char *key)
{
    redisReply *r = redisCommand(h->c, "PTTL %s%s", h->prefix, key);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -3;
    freeReplyObject(r);
    return v;
}

/* Parses a stored value and checks it is byte-for-byte what
 * JSON.stringify writes (compact, in order; the test values are ASCII so
 * jansson's compact dump is the same text). */
static json_t *parse_json(const char *what, const char *v)
{
    json_error_t je;
    json_t *o = json_loads(v, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        fprintf(stderr, "redis reader: %s is not a JSON object: %s\n", what,
                v);
        json_decref(o);
        return NULL;
    }
    char *again = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    bool same = again && strcmp(again, v) == 0;
    if (!same)
        fprintf(stderr, "redis reader: %s is not JSON.stringify output:\n"
                "  stored: %s\n  expect: %s\n", what, v, again ? again : "?");
    free(again);
    if (!same) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Checks the exact member names and order of o. */
static bool keys_are(const char *what, json_t *o, const char *const *keys,
                     size_t n)
{
    size_t i = 0;
    for (void *it = json_object_iter(o); it;
         it = json_object_iter_next(o, it), i++) {
        if (i >= n || strcmp(json_object_iter_key(it), keys[i]) != 0) {
            fprintf(stderr, "redis reader: %s: member %zu is \"%s\", want "
                    "\"%s\"\n", what, i, json_object_iter_key(it),
                    i < n ? keys[i] : "(end)");
            return false;
        }
    }
    if (i != n) {
        fprintf(stderr, "redis reader: %s: %zu members, want %zu\n", what, i,
                n);
        return false;
    }
    return true;
}

/* String member (NULL for null/absent) copied to ar; *ok false for other
 * types. */
static const char *str(authc_arena *ar, json_t *o, const char *k, bool *ok)
{
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        fprintf(stderr, "redis reader: \"%s\" is not a string\n", k);
        *ok = false;
        return NULL;
    }
    return authc_arena_strdup(ar, json_string_value(v));
}

/* Date member: null → AUTHC_NO_TIME; must be toISOString text. */
static int64_t date(rdb *h, json_t *o, const char *k, bool *ok)
{
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v))
        return AUTHC_NO_TIME;
    int64_t ms;
    if (!json_is_string(v) ||
        regexec(&h->iso, json_string_value(v), 0, NULL, 0) != 0 ||
        authc__iso8601_parse(json_string_value(v), &ms) != AUTHC_OK) {
        fprintf(stderr, "redis reader: \"%s\" is not a toISOString date\n",
                k);
        *ok = false;
        return AUTHC_NO_TIME;
    }
    return ms;
}

static authc_err r_user(void *db, authc_arena *ar, const char *id,
                        authc_user **out)
{
    rdb *h = db;
    char *key = authc_arena_printf(ar, "user:%s", id), *v;
    *out = NULL;
    authc_err e = get(h, key, &v);
    if (e || !v)
        return e;
    json_t *o = parse_json("user", v);
    bool ok = o != NULL;
    authc_user *u = authc_arena_alloc(ar, sizeof *u);
    if (ok && u) {
        u->id = str(ar, o, "id", &ok);
        u->name = str(ar, o, "name", &ok);
        u->email = str(ar, o, "email", &ok);
        u->email_verified = date(h, o, "emailVerified", &ok);
        u->image = str(ar, o, "image", &ok);
        ok = ok && u->id && strcmp(u->id, id) == 0;
    }
    if (ok && u->email) {
        /* The email index holds the raw id, not a JSON string. */
        char *idx = NULL;
        e = get(h, authc_arena_printf(ar, "user:email:%s", u->email), &idx);
        if (!e && (!idx || strcmp(idx, id) != 0)) {
            fprintf(stderr, "redis reader: user:email:%s = %s, want %s\n",
                    u->email, idx ? idx : "(missing)", id);
            ok = false;
        }
        free(idx);
    }
    json_decref(o);
    free(v);
    if (e)
        return e;
    if (!ok || !u)
        return AUTHC_ERR_INVALID;
    *out = u;
    return AUTHC_OK;
}

static authc_err r_session(void *db, authc_arena *ar, const char *token,
                           authc_session_row **out)
{
    rdb *h = db;
    char *key = authc_arena_printf(ar, "user:session:%s", token), *v;
    *out = NULL;
    authc_err e = get(h, key, &v);
    if (e || !v)
        return e;
    static const char *const keys[] = {"sessionToken", "userId", "expires"};
    json_t *o = parse_json("session", v);
    bool ok = o && keys_are("session", o, keys, 3);
    authc_session_row *s = authc_arena_alloc(ar, sizeof *s);
    if (ok && s) {
        s->session_token = str(ar, o, "sessionToken", &ok);
        s->user_id = str(ar, o, "userId", &ok);
        s->expires = date(h, o, "expires", &ok);
    }
    /* Sessions leave Redis by themselves. */
    if (ok && pttl(h, key) <= 0) {
        fprintf(stderr, "redis reader: session key has no TTL\n");
        ok = false;
    }
    json_decref(o);
    free(v);
    if (!ok || !s)
        return AUTHC_ERR_INVALID;
    *out = s;
    return AUTHC_OK;
}

static authc_err r_account(void *db, authc_arena *ar, const char *provider,
                           const char *pai, authc_account **out)
{
    rdb *h = db;
    char *key = authc_arena_printf(ar, "user:account:%s:%s", provider, pai);
    char *v;
    *out = NULL;
    authc_err e = get(h, key, &v);
    if (e || !v)
        return e;
    json_t *o = parse_json("account", v);
    bool ok = o != NULL;
    authc_account *a = authc_arena_alloc(ar, sizeof *a);
    if (ok && a) {
        a->id = str(ar, o, "id", &ok);
        a->user_id = str(ar, o, "userId", &ok);
        a->type = str(ar, o, "type", &ok);
        a->provider = str(ar, o, "provider", &ok);
        a->provider_account_id = str(ar, o, "providerAccountId", &ok);
        a->refresh_token = str(ar, o, "refresh_token", &ok);
        a->access_token = str(ar, o, "access_token", &ok);
        a->token_type = str(ar, o, "token_type", &ok);
        a->scope = str(ar, o, "scope", &ok);
        a->id_token = str(ar, o, "id_token", &ok);
        a->session_state = str(ar, o, "session_state", &ok);
        json_t *x = json_object_get(o, "expires_at");
        a->expires_at = AUTHC_NO_TIME;
        if (x && !json_is_integer(x)) {
            fprintf(stderr, "redis reader: expires_at is not a number\n");
            ok = false;
        } else if (x) {
            a->expires_at = json_integer_value(x);
        }
        /* upstash: "id" is "{provider}:{providerAccountId}" */
        char *want = authc_arena_printf(ar, "%s:%s", provider, pai);
        if (ok && (!a->id || strcmp(a->id, want) != 0)) {
            fprintf(stderr, "redis reader: account id is %s, want %s\n",
                    a->id ? a->id : "(none)", want);
            ok = false;
        }
    }
    json_decref(o);
    free(v);
    if (!ok || !a)
        return AUTHC_ERR_INVALID;
    *out = a;
    return AUTHC_OK;
}

static authc_err r_vt(void *db, authc_arena *ar, const char *identifier,
                      const char *token, authc_verification_token **out)
{
    rdb *h = db;
    char *key = authc_arena_printf(ar, "user:token:%s:%s", identifier, token);
    char *v;
    *out = NULL;
    authc_err e = get(h, key, &v);
    if (e || !v)
        return e;
    static const char *const keys[] = {"identifier", "token", "expires"};
    json_t *o = parse_json("verification token", v);
    bool ok = o && keys_are("verification token", o, keys, 3);
    authc_verification_token *t = authc_arena_alloc(ar, sizeof *t);
    if (ok && t) {
        t->identifier = str(ar, o, "identifier", &ok);
        t->token = str(ar, o, "token", &ok);
        t->expires = date(h, o, "expires", &ok);
    }
    if (ok && pttl(h, key) <= 0) {
        fprintf(stderr, "redis reader: token key has no TTL\n");
        ok = false;
    }
    json_decref(o);
    free(v);
    if (!ok || !t)
        return AUTHC_ERR_INVALID;
    *out = t;
    return AUTHC_OK;
}

static authc_err r_authn(void *db, authc_arena *ar, const char *cred,
                         authc_authenticator **out)
{
    rdb *h = db;
    char *key = authc_arena_printf(ar, "user:authenticator:%s", cred), *v;
    *out = NULL;
    authc_err e = get(h, key, &v);
    if (e || !v)
        return e;
    json_t *o = parse_json("authenticator", v);
    bool ok = o != NULL;
    authc_authenticator *a = authc_arena_alloc(ar, sizeof *a);
    if (ok && a) {
        a->credential_id = str(ar, o, "credentialID", &ok);
        a->user_id = str(ar, o, "userId", &ok);
        a->provider_account_id = str(ar, o, "providerAccountId", &ok);
        a->credential_public_key = str(ar, o, "credentialPublicKey", &ok);
        a->credential_device_type = str(ar, o, "credentialDeviceType", &ok);
        a->transports = str(ar, o, "transports", &ok);
        json_t *c = json_object_get(o, "counter");
        json_t *b = json_object_get(o, "credentialBackedUp");
        if (!json_is_integer(c) || !json_is_boolean(b)) {
            fprintf(stderr, "redis reader: counter must be a number and "
                    "credentialBackedUp a boolean\n");
            ok = false;
        } else {
            a->counter = json_integer_value(c);
            a->credential_backed_up = json_is_true(b);
        }
    }
    json_decref(o);
    free(v);
    if (!ok || !a)
        return AUTHC_ERR_INVALID;
    *out = a;
    return AUTHC_OK;
}

const conf_db conf_db_redis = {
    .name = "redis",
    .open = rd_open,
    .close = rd_close,
    .user = r_user,
    .session = r_session,
    .account = r_account,
    .verification_token = r_vt,
    .authenticator = r_authn,
};
