/* store_redis.c — the "redis://" store backend (hiredis): plain keys under
 * the URL's ?prefix=, expiry left to Redis, connections from util/pool.
 *
 * URL: redis://[user:password@]host[:port][/db][?prefix=P&…] (options in
 * store_int.h). Operations: MGET; SET … PX [NX]; DEL; Lua scripts for
 * compare-and-pexpire (renew), compare-and-delete and INCRBY + PEXPIRE on
 * the first increment, each atomic on the server. Every command waits at
 * most `timeout` ms (socket timeout): a connection that timed out or
 * failed is dropped and the next call connects again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "adapters/redis_wire_int.h"
#include "store/store_be_int.h"
#include "util/parse_int.h"
#include "util/pool_int.h"
#include "util/util_int.h"

#define MAX_PREFIX 256
#define MAX_ARGS (AUTHC_STORE_MAX_MULTI + 1)

static const char RENEW_LUA[] =
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0";
static const char DELOWN_LUA[] =
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('del', KEYS[1]) end return 0";
/* The TTL starts with the first increment: a key without one (just
 * created, or one that somehow lost it) gets it. */
static const char INCR_LUA[] =
    "local v = redis.call('incrby', KEYS[1], ARGV[1]) "
    "if redis.call('pttl', KEYS[1]) < 0 then "
    "redis.call('pexpire', KEYS[1], ARGV[2]) end return v";

typedef struct rd_ctx {
    authc__rd_server srv;   /* host, port, db, credentials, timeouts */
    char prefix[MAX_PREFIX];
    size_t plen;
    authc__pool *pool;
} rd_ctx;

/* ---- connections (pool hooks) ------------------------------------------------ */

static struct timeval tv_ms(int ms)
{
    return (struct timeval){.tv_sec = ms / 1000,
                            .tv_usec = (ms % 1000) * 1000};
}

static const authc__pool_hooks HOOKS = {authc__rd_conn_open,
                                        authc__rd_conn_close,
                                        authc__rd_conn_alive, NULL};

/* ---- commands ---------------------------------------------------------------- */

/* Runs one command on a pooled connection. AUTHC_OK: *out is the reply
 * (freeReplyObject by the caller), never an error reply. An error reply
 * "not an integer"/"overflow" is AUTHC_ERR_INVALID, others ADAPTER.
 * deadline_ms > 0 shortens this command's socket timeout. */
static authc_err cmd(rd_ctx *x, int argc, const char **argv,
                     const size_t *lens, int deadline_ms, redisReply **out,
                     char *why)
{
    *out = NULL;
    void *conn;
    int wait = deadline_ms > 0 && deadline_ms < x->srv.timeout_ms
                   ? deadline_ms
                   : x->srv.timeout_ms;
    authc_err rc = authc__pool_acquire(x->pool, wait, &conn, why,
                                       AUTHC__STORE_WHY);
    if (rc != AUTHC_OK)
        return AUTHC_ERR_ADAPTER;
    redisContext *c = conn;
    if (wait != x->srv.timeout_ms)
        redisSetTimeout(c, tv_ms(wait));
    authc__sigpipe_guard g;
    authc__sigpipe_block(&g);
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    authc__sigpipe_unblock(&g);
    bool broken = !r || c->err;
    if (!broken && wait != x->srv.timeout_ms)
        broken = redisSetTimeout(c, tv_ms(x->srv.timeout_ms)) != REDIS_OK;
    if (!r) {
        snprintf(why, AUTHC__STORE_WHY, "%s: %s", argv[0],
                 c->err == REDIS_ERR_IO || c->err == REDIS_ERR_EOF
                     ? (c->err == REDIS_ERR_EOF ? "connection closed"
                                                : "no answer (timeout or "
                                                  "connection lost)")
                     : c->errstr);
        rc = AUTHC_ERR_ADAPTER;
    } else if (r->type == REDIS_REPLY_ERROR) {
        bool bad = strstr(r->str, "not an integer") ||
                   strstr(r->str, "overflow");
        snprintf(why, AUTHC__STORE_WHY, "%s", bad ? (strstr(r->str, "overflow")
                                                         ? "counter overflow"
                                                         : "the value is not "
                                                           "a counter")
                                                  : r->str);
        rc = bad ? AUTHC_ERR_INVALID : AUTHC_ERR_ADAPTER;
        freeReplyObject(r);
        r = NULL;
    }
    authc__pool_release(x->pool, conn, broken);
    *out = r;
    return rc;
}

/* prefix + key into buf (MAX_PREFIX + AUTHC_STORE_MAX_KEY + 1 bytes). */
static const char *full_key(rd_ctx *x, char *buf, const char *key,
                            size_t *len)
{
    size_t kn = strlen(key);
    memcpy(buf, x->prefix, x->plen);
    memcpy(buf + x->plen, key, kn + 1);
    *len = x->plen + kn;
    return buf;
}

typedef char keybuf[MAX_PREFIX + AUTHC_STORE_MAX_KEY + 1];

static authc_err rd_mget(void *ctx, authc_arena *ar, const char *const *keys,
                         size_t n, authc__store_val *out, char *why)
{
    rd_ctx *x = ctx;
    const char *argv[MAX_ARGS];
    size_t lens[MAX_ARGS];
    keybuf *kb = authc_arena_alloc(ar, n * sizeof *kb);
    if (!kb)
        return AUTHC_ERR_NOMEM;
    argv[0] = "MGET";
    lens[0] = 4;
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = full_key(x, kb[i], keys[i], &lens[i + 1]);
    redisReply *r;
    authc_err rc = cmd(x, (int)n + 1, argv, lens, 0, &r, why);
    if (rc != AUTHC_OK)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
        snprintf(why, AUTHC__STORE_WHY, "MGET: unexpected reply");
        rc = AUTHC_ERR_ADAPTER;
    }
    for (size_t i = 0; i < n && rc == AUTHC_OK; i++) {
        redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_STRING)
            continue;
        if (e->len > AUTHC_STORE_MAX_VALUE) {
            snprintf(why, AUTHC__STORE_WHY, "MGET: value too large");
            rc = AUTHC_ERR_ADAPTER;
            break;
        }
        out[i].data = authc__store_dup(ar, e->str, e->len);
        out[i].len = e->len;
        if (!out[i].data)
            rc = AUTHC_ERR_NOMEM;
    }
    freeReplyObject(r);
    return rc;
}

static authc_err rd_set(void *ctx, const char *key, const void *v, size_t len,
                        int64_t ttl_ms, bool nx, bool *stored, char *why)
{
    rd_ctx *x = ctx;
    keybuf kb;
    char ttl[24];
    size_t lens[6] = {3, 0, len, 2, 0, 2};
    const char *argv[6] = {"SET", full_key(x, kb, key, &lens[1]), v, "PX",
                           ttl, "NX"};
    lens[4] = (size_t)snprintf(ttl, sizeof ttl, "%lld", (long long)ttl_ms);
    redisReply *r;
    authc_err rc = cmd(x, nx ? 6 : 5, argv, lens, 0, &r, why);
    if (rc == AUTHC_OK)
        *stored = r->type == REDIS_REPLY_STATUS;   /* +OK; nil when NX lost */
    freeReplyObject(r);
    return rc;
}

/* EVAL script 1 key args… → integer reply in *out. */
static authc_err eval_int(rd_ctx *x, const char *script, const char *key,
                          const char *a1, size_t a1len, const char *a2,
                          int64_t *out, char *why)
{
    keybuf kb;
    size_t lens[6] = {4, strlen(script), 1, 0, a1len, a2 ? strlen(a2) : 0};
    const char *argv[6] = {"EVAL", script, "1", full_key(x, kb, key, &lens[3]),
                           a1, a2};
    redisReply *r;
    authc_err rc = cmd(x, a2 ? 6 : 5, argv, lens, 0, &r, why);
    if (rc == AUTHC_OK && r->type != REDIS_REPLY_INTEGER) {
        snprintf(why, AUTHC__STORE_WHY, "EVAL: unexpected reply");
        rc = AUTHC_ERR_ADAPTER;
    }
    if (rc == AUTHC_OK)
        *out = r->integer;
    freeReplyObject(r);
    return rc;
}

static authc_err rd_if_owner(void *ctx, const char *key, const char *owner,
                             int64_t ttl_ms, bool *done, char *why)
{
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", (long long)ttl_ms);
    int64_t n = 0;
    authc_err rc = eval_int(ctx, ttl_ms ? RENEW_LUA : DELOWN_LUA, key, owner,
                            strlen(owner), ttl_ms ? ttl : NULL, &n, why);
    *done = rc == AUTHC_OK && n == 1;
    return rc;
}

static authc_err rd_incr(void *ctx, const char *key, int64_t by,
                         int64_t ttl_ms, int64_t *value, char *why)
{
    char byv[24], ttl[24];
    size_t bn = (size_t)snprintf(byv, sizeof byv, "%lld", (long long)by);
    snprintf(ttl, sizeof ttl, "%lld", (long long)ttl_ms);
    return eval_int(ctx, INCR_LUA, key, byv, bn, ttl, value, why);
}

static authc_err rd_del(void *ctx, const char *key, bool *deleted, char *why)
{
    rd_ctx *x = ctx;
    keybuf kb;
    size_t lens[2] = {3, 0};
    const char *argv[2] = {"DEL", full_key(x, kb, key, &lens[1])};
    redisReply *r;
    authc_err rc = cmd(x, 2, argv, lens, 0, &r, why);
    if (rc == AUTHC_OK)
        *deleted = r->type == REDIS_REPLY_INTEGER && r->integer > 0;
    freeReplyObject(r);
    return rc;
}

/* SCAN MATCH <prefix><key prefix, glob-escaped>*; the store's own prefix
 * is removed from what is returned. */
static authc_err rd_scan(void *ctx, authc_arena *ar, const char *prefix, size_t max,
                         const char **keys, size_t *n, char *why)
{
    rd_ctx *x = ctx;
    char pat[2 * (MAX_PREFIX + AUTHC_STORE_MAX_KEY) + 2];
    size_t o = 0;
    keybuf kb;
    size_t fl;
    const char *full = full_key(x, kb, prefix, &fl);
    for (size_t i = 0; i < fl; i++) {
        if (strchr("*?[]\\^-", full[i]))
            pat[o++] = '\\';
        pat[o++] = full[i];
    }
    pat[o++] = '*';
    pat[o] = '\0';
    char cursor[32] = "0";
    authc_err rc = AUTHC_OK;
    do {
        const char *argv[6] = {"SCAN", cursor, "MATCH", pat, "COUNT", "500"};
        size_t lens[6] = {4, strlen(cursor), 5, o, 5, 3};
        redisReply *r;
        if ((rc = cmd(x, 6, argv, lens, 0, &r, why)) != AUTHC_OK)
            return rc;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY || r->element[0]->len >= sizeof cursor) {
            snprintf(why, AUTHC__STORE_WHY, "SCAN: unexpected reply");
            freeReplyObject(r);
            return AUTHC_ERR_ADAPTER;
        }
        memcpy(cursor, r->element[0]->str, r->element[0]->len + 1);
        redisReply *ks = r->element[1];
        for (size_t i = 0; i < ks->elements && *n < max && rc == AUTHC_OK; i++) {
            redisReply *k = ks->element[i];
            if (k->type != REDIS_REPLY_STRING || k->len < x->plen)
                continue;
            char *s = authc_arena_strndup(ar, k->str + x->plen, k->len - x->plen);
            if (!s)
                rc = AUTHC_ERR_NOMEM;
            else
                keys[(*n)++] = s;
        }
        freeReplyObject(r);
    } while (rc == AUTHC_OK && *n < max && strcmp(cursor, "0") != 0);
    return rc;
}

static authc_err rd_ping(void *ctx, int deadline_ms, char *why)
{
    const char *argv[1] = {"PING"};
    size_t lens[1] = {4};
    redisReply *r;
    authc_err rc = cmd(ctx, 1, argv, lens, deadline_ms, &r, why);
    freeReplyObject(r);
    return rc;
}

/* ---- open / close ---------------------------------------------------------------- */

static void rd_close(void *ctx)
{
    rd_ctx *x = ctx;
    if (x)
        authc__rd_wire_free(x->pool, &x->srv);
    free(x);
}

/* Fills host/port/db/user/pass from the URL (util/parse's splitter). */
static authc_err parse_url(rd_ctx *x, const char *url, char *why)
{
    authc__url_parts u;
    authc_err rc = authc__url_split(url, &u);
    int64_t db = 0;
    const char *path = u.path && u.path[0] == '/' ? u.path + 1 : "";
    if (rc == AUTHC_OK &&
        (!u.host || !*u.host || strlen(u.host) >= sizeof x->srv.host ||
         (*path && authc__parse_i64(path, 0, 1000, &db) != AUTHC_OK)))
        rc = AUTHC_ERR_INVALID;
    if (rc != AUTHC_OK) {
        snprintf(why, AUTHC__STORE_WHY, "bad host, port or database in the "
                 "redis URL");
        authc__url_parts_clear(&u);
        return rc == AUTHC_ERR_NOMEM ? rc : AUTHC_ERR_INVALID;
    }
    /* IPv6 literals come bracketed; hiredis wants them bare. */
    size_t hn = strlen(u.host);
    if (u.host[0] == '[' && hn > 2)
        snprintf(x->srv.host, sizeof x->srv.host, "%.*s", (int)(hn - 2), u.host + 1);
    else
        snprintf(x->srv.host, sizeof x->srv.host, "%s", u.host);
    x->srv.port = u.port > 0 ? u.port : 6379;
    x->srv.db = (int)db;
    if ((u.user && *u.user && !(x->srv.user = strdup(u.user))) ||
        (u.password && *u.password && !(x->srv.pass = strdup(u.password))))
        rc = AUTHC_ERR_NOMEM;
    authc__url_parts_clear(&u);
    return rc;
}

static authc_err rd_open(const authc__store_opts *o, void **ctx, char *why)
{
    if (strncasecmp(o->url, "rediss:", 7) == 0) {
        snprintf(why, AUTHC__STORE_WHY, "rediss:// (TLS) is not supported");
        return AUTHC_ERR_INVALID;
    }
    rd_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return AUTHC_ERR_NOMEM;
    x->srv.timeout_ms = o->timeout_ms;
    x->srv.connect_timeout_ms = o->connect_timeout_ms;
    x->plen = strlen(o->prefix);
    authc_err rc = AUTHC_ERR_LIMIT;
    if (x->plen >= MAX_PREFIX)
        snprintf(why, AUTHC__STORE_WHY, "prefix too long");
    else if ((rc = parse_url(x, o->url, why)) == AUTHC_OK &&
             !(x->pool = authc__pool_new(&HOOKS, &x->srv, o->pool_size)))
        rc = AUTHC_ERR_NOMEM;
    if (rc != AUTHC_OK) {
        rd_close(x);
        return rc;
    }
    memcpy(x->prefix, o->prefix, x->plen + 1);
    *ctx = x;
    return AUTHC_OK;
}

static const char *const SCHEMES[] = {"redis://", "rediss://", NULL};

/* Redis expires keys itself and has no table to create: no sweep, no migrate. */
const authc__store_backend authc__store_redis = {
    .name = "redis",
    .schemes = SCHEMES,
    .open = rd_open,
    .close = rd_close,
    .ping = rd_ping,
    .mget = rd_mget,
    .set = rd_set,
    .if_owner = rd_if_owner,
    .del = rd_del,
    .incr = rd_incr,
    .scan = rd_scan,
};
