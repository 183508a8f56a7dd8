/* redis_url.c — reads the Redis backend's URL:
 * redis://[user:password@]host[:port][/db][?prefix=P&pool_size=4
 *      &timeout=5000&connect_timeout=5000&ttl_grace=86400]
 *   prefix           upstash's baseKeyPrefix (default ""), percent-decoded
 *   pool_size        connections (1..64, default 4)
 *   timeout          ms per command round trip (default 5000)
 *   connect_timeout  ms (default 5000)
 *   ttl_grace        s a session/token key outlives its expiry (default 86400)
 * rediss:// (TLS) is not supported. No message ever holds the password.
 * The URL is split by the one parsing module (authc__url_split, on
 * libcurl's URL API). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/redis_int.h"
#include "util/parse_int.h"
#include "util/util_int.h"

/* *dst = a heap copy of src (NULL and "" give NULL); false on OOM. */
static bool copy_part(char **dst, const char *src)
{
    *dst = src && *src ? strdup(src) : NULL;
    return *dst || !src || !*src;
}

/* host (IPv6 without brackets), port, database number, user, password (a
 * lone userinfo is the password, as redis-cli reads it). */
static bool read_parts(rd_ctx *ctx, const authc__url_parts *u, char *err,
                       size_t errlen)
{
    const char *h = u->host ? u->host : "";
    size_t hlen = strlen(h);
    if (hlen > 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof ctx->srv.host) {
        authc__set_err(err, errlen, "redis: URL has no usable host");
        return false;
    }
    memcpy(ctx->srv.host, h, hlen);
    ctx->srv.host[hlen] = '\0';
    ctx->srv.port = u->port > 0 ? u->port : 6379;
    const char *db = u->path && u->path[0] == '/' ? u->path + 1 : "";
    if (*db && authc__parse_int(db, 0, 100000, &ctx->srv.db)) {
        authc__set_err(err, errlen, "redis: the URL path must be a "
                       "database number");
        return false;
    }
    if (!copy_part(&ctx->srv.user, u->user) ||
        !copy_part(&ctx->srv.pass, u->password)) {
        authc__set_err(err, errlen, "redis: out of memory");
        return false;
    }
    if (ctx->srv.user && !ctx->srv.pass) {
        ctx->srv.pass = ctx->srv.user;
        ctx->srv.user = NULL;
    }
    return true;
}

/* Reads q->val as an int in [lo, hi] into *out; false (err set) if not. */
static bool param_int(const authc__qparam *q, int lo, int hi, int *out,
                      const char *unit, char *err, size_t errlen)
{
    int64_t v;
    if (authc__parse_i64_n(q->val, q->vlen, lo, hi, &v) == AUTHC_OK) {
        *out = (int)v;
        return true;
    }
    authc__set_err(err, errlen, "redis: %.*s must be %d..%d%s", (int)q->klen,
                   q->key, lo, hi, unit);
    return false;
}

/* One query parameter into ctx. */
static bool read_param(rd_ctx *ctx, const authc__qparam *q, char *err,
                       size_t errlen)
{
    if (authc__qparam_is(q, "prefix")) {
        free(ctx->prefix);
        authc_err pe;
        ctx->prefix = authc__pct_decode_heap(q->val, q->vlen, 0, &pe);
        if (!ctx->prefix || strlen(ctx->prefix) > 256) {
            authc__set_err(err, errlen, "redis: bad prefix");
            return false;
        }
        return true;
    }
    if (authc__qparam_is(q, "pool_size"))
        return param_int(q, 1, AUTHC__POOL_MAX, &ctx->pool_size, "", err,
                         errlen);
    if (authc__qparam_is(q, "timeout"))
        return param_int(q, 10, 600000, &ctx->srv.timeout_ms, " (ms)", err,
                         errlen);
    if (authc__qparam_is(q, "connect_timeout"))
        return param_int(q, 10, 600000, &ctx->srv.connect_timeout_ms, " (ms)",
                         err, errlen);
    if (authc__qparam_is(q, "ttl_grace")) {
        int s;
        if (!param_int(q, 0, 31536000, &s, " (s)", err, errlen))
            return false;
        ctx->grace_ms = (int64_t)s * 1000;
        return true;
    }
    authc__set_err(err, errlen, "redis: unknown URL parameter \"%.*s\" "
                   "(known: prefix, pool_size, timeout, connect_timeout, "
                   "ttl_grace)", (int)(q->klen > 40 ? 40 : q->klen), q->key);
    return false;
}

bool authc__rd_parse_url(rd_ctx *ctx, const char *url, char *err,
                         size_t errlen)
{
    if (strncasecmp(url, "rediss://", 9) == 0) {
        authc__set_err(err, errlen, "redis: rediss:// (TLS) is not supported "
                       "by this build; use redis:// (e.g. through a local "
                       "TLS tunnel)");
        return false;
    }
    if (strncasecmp(url, "redis://", 8) != 0) {
        authc__set_err(err, errlen, "redis: URL must start with redis://");
        return false;
    }
    authc__url_parts u;
    authc_err e = authc__url_split(url, &u);
    bool ok = false;
    if (e == AUTHC_ERR_LIMIT) {
        authc__set_err(err, errlen, "redis: URL longer than %d bytes",
                       AUTHC__URL_MAX);
    } else if (e) {
        /* no detail: it could only quote the URL, password included */
        authc__set_err(err, errlen, "redis: bad URL (host, port, user or "
                       "password)");
    } else if (read_parts(ctx, &u, err, errlen)) {
        const char *p = u.query ? u.query : "";
        authc__qparam q;
        ok = true;
        while (ok && authc__query_next(&p, &q))
            ok = read_param(ctx, &q, err, errlen);
    }
    authc__url_parts_clear(&u);
    return ok;
}
