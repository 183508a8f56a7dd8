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
#include "models.h"

typedef struct rdb {
    redisContext *c;
    char prefix[260];
    regex_t iso;       /* toISOString: YYYY-MM-DDTHH:mm:ss.sssZ */
} rdb;

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
    char host[256];
    int port, dbn;
    *db = NULL;
    rdb *h = calloc(1, sizeof *h);
    if (!h || !parse(url, host, sizeof host, &port, &dbn, h->prefix,
                     sizeof h->prefix)) {
        fprintf(stderr, "redis reader: cannot parse %s\n", url);
        free(h);
        return NULL;
    }
    authc_adapter *ad = conf_open_adapter("redis", url);
    if (!ad) {
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

/* Reads every member of model m from o into row, strictly: strings (copied
 * to ar), Dates as toISOString text, expires_at and counter numbers,
 * credentialBackedUp a boolean; *ok false on anything else. */
static void fill(rdb *h, authc_arena *ar, json_t *o, const m_model *m, void *row,
                 bool *ok)
{
    for (size_t i = 0; i < m->n; i++) {
        const m_field *f = &m->f[i];
        json_t *v = json_object_get(o, f->name);
        bool typed = true;
        if (f->kind == M_STR) {
            *M_AT(row, f, const char *) = str(ar, o, f->name, ok);
        } else if (f->kind == M_DATE || f->kind == M_DATE_OPT) {
            *M_AT(row, f, int64_t) = date(h, o, f->name, ok);
        } else if (f->kind == M_BOOL) {
            typed = json_is_boolean(v);
            *M_AT(row, f, bool) = json_is_true(v);
        } else {
            typed = json_is_integer(v) || (f->kind == M_SECS && !v);
            *M_AT(row, f, int64_t) = v ? json_integer_value(v) : AUTHC_NO_TIME;
        }
        if (!typed) {
            fprintf(stderr, "redis reader: \"%s\" must be a %s\n", f->name,
                    f->kind == M_BOOL ? "boolean" : "number");
            *ok = false;
        }
    }
}

/* How one model is stored: its name in messages, its members, the exact
 * member list when upstash fixes it (NULL: not checked), and whether the
 * key must expire (sessions and tokens leave Redis by themselves). */
typedef struct stored {
    const char *what;
    const m_model *m;
    const char *const *keys;
    size_t nkeys;
    bool ttl;
} stored;

static const char *const session_keys[] = {"sessionToken", "userId", "expires"};
static const char *const vt_keys[] = {"identifier", "token", "expires"};
static const stored st_user = {"user", &m_user, NULL, 0, false};
static const stored st_account = {"account", &m_account, NULL, 0, false};
static const stored st_session = {"session", &m_session, session_keys, 3, true};
static const stored st_vt = {"verification token", &m_vt, vt_keys, 3, true};
static const stored st_authn = {"authenticator", &m_authn, NULL, 0, false};

/* GETs key and reads it as a row of sd->m; returns the row (owned by ar),
 * or NULL with *e AUTHC_OK when absent, or NULL with *e set. */
static void *load(rdb *h, authc_arena *ar, const char *key, const stored *sd,
                  authc_err *e)
{
    char *v;
    json_t *obj = NULL;
    void *row = NULL;
    *e = get(h, key, &v);
    if (!*e && v) {
        obj = parse_json(sd->what, v);
        free(v);
        bool ok = obj && (!sd->keys || keys_are(sd->what, obj, sd->keys, sd->nkeys));
        row = ok ? authc_arena_alloc(ar, sd->m->size) : NULL;
        if (row)
            fill(h, ar, obj, sd->m, row, &ok);
        if (ok && row && sd->ttl && pttl(h, key) <= 0) {
            fprintf(stderr, "redis reader: %s key has no TTL\n", sd->what);
            ok = false;
        }
        if (!ok || !row) {
            row = NULL;
            *e = AUTHC_ERR_INVALID;
        }
    }
    json_decref(obj);
    return row;
}

static authc_err rd_user(void *db, authc_arena *ar, const char *id,
                        authc_user **out)
{
    rdb *h = db;
    authc_err e;
    authc_user *u = load(h, ar, authc_arena_printf(ar, "user:%s", id), &st_user, &e);
    bool ok = !u || (u->id && strcmp(u->id, id) == 0);
    if (ok && u && u->email) {
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
    *out = ok && !e ? u : NULL;
    return e ? e : ok ? AUTHC_OK : AUTHC_ERR_INVALID;
}

static authc_err rd_session(void *db, authc_arena *ar, const char *token,
                           authc_session_row **out)
{
    authc_err e;
    *out = load(db, ar, authc_arena_printf(ar, "user:session:%s", token), &st_session, &e);
    return e;
}

static authc_err rd_account(void *db, authc_arena *ar, const char *provider,
                           const char *pai, authc_account **out)
{
    authc_err e;
    authc_account *a = load(db, ar, authc_arena_printf(ar, "user:account:%s:%s", provider, pai),
                            &st_account, &e);
    /* upstash: "id" is "{provider}:{providerAccountId}" */
    char *want = authc_arena_printf(ar, "%s:%s", provider, pai);
    if (a && (!a->id || strcmp(a->id, want) != 0)) {
        fprintf(stderr, "redis reader: account id is %s, want %s\n",
                a->id ? a->id : "(none)", want);
        a = NULL;
        e = AUTHC_ERR_INVALID;
    }
    *out = a;
    return e;
}

static authc_err rd_vt(void *db, authc_arena *ar, const char *identifier,
                      const char *token, authc_verification_token **out)
{
    authc_err e;
    *out = load(db, ar, authc_arena_printf(ar, "user:token:%s:%s", identifier, token), &st_vt, &e);
    return e;
}

static authc_err rd_authn(void *db, authc_arena *ar, const char *cred,
                         authc_authenticator **out)
{
    authc_err e;
    *out = load(db, ar, authc_arena_printf(ar, "user:authenticator:%s", cred), &st_authn, &e);
    return e;
}

CONF_DB(redis, rd);
