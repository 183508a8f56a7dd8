/* redis_url.c — reads the Redis backend's URL with libcurl's URL API:
 * redis://[user:password@]host[:port][/db][?prefix=P&pool_size=4
 *      &timeout=5000&connect_timeout=5000&ttl_grace=86400]
 *   prefix           upstash's baseKeyPrefix (default ""), percent-decoded
 *   pool_size        connections (1..64, default 4)
 *   timeout          ms per command round trip (default 5000)
 *   connect_timeout  ms (default 5000)
 *   ttl_grace        s a session/token key outlives its expiry (default 86400)
 * rediss:// (TLS) is not supported. No message ever holds the password. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "adapters/redis_int.h"
#include "util/util_int.h"

#define RD_MAX_URL 4096

/* A part of the URL as a heap string (caller curl_free), or NULL when
 * absent. *bad is set when present but undecodable (e.g. "%00"). */
static char *part(CURLU *u, CURLUPart what, unsigned flags, bool *bad)
{
    char *s = NULL;
    CURLUcode rc = curl_url_get(u, what, &s, flags);
    if (rc == CURLUE_OK)
        return s;
    if (rc != CURLUE_NO_USER && rc != CURLUE_NO_PASSWORD &&
        rc != CURLUE_NO_PORT && rc != CURLUE_NO_QUERY &&
        rc != CURLUE_NO_HOST)
        *bad = true;
    return NULL;
}

/* Heap copy of a curl string (NULL stays NULL); *ok false on OOM. */
static char *own(char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    authc__wipe(s, strlen(s));
    curl_free(s);
    return d;
}

/* user, password (a lone userinfo is the password, as redis-cli reads it;
 * an empty one is none). */
static bool read_auth(rd_ctx *ctx, CURLU *u, char *err, size_t errlen)
{
    bool bad = false, ok = true;
    char *user = part(u, CURLUPART_USER, CURLU_URLDECODE, &bad);
    char *pass = part(u, CURLUPART_PASSWORD, CURLU_URLDECODE, &bad);
    if (user && !*user) {
        curl_free(user);
        user = NULL;
    }
    if (pass && !*pass) {
        curl_free(pass);
        pass = NULL;
    }
    if (user && !pass) {
        pass = user;
        user = NULL;
    }
    ctx->user = own(user, &ok);
    ctx->pass = own(pass, &ok);
    if (bad || !ok) {
        authc__set_err(err, errlen, bad ? "redis: bad user/password "
                                          "encoding in URL"
                                        : "redis: out of memory");
        return false;
    }
    return true;
}

/* host (IPv6 without brackets), port, database number. */
static bool read_place(rd_ctx *ctx, CURLU *u, char *err, size_t errlen)
{
    bool bad = false;
    char *host = part(u, CURLUPART_HOST, 0, &bad);
    const char *h = host ? host : "";
    size_t hlen = strlen(h);
    if (hlen > 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    bool ok = hlen > 0 && hlen < sizeof ctx->host;
    if (ok) {
        memcpy(ctx->host, h, hlen);
        ctx->host[hlen] = '\0';
    }
    curl_free(host);
    if (!ok) {
        authc__set_err(err, errlen, "redis: URL has no usable host");
        return false;
    }
    char *port = part(u, CURLUPART_PORT, 0, &bad);
    long v = 6379;
    ok = !port || authc__parse_long(port, strlen(port), 1, 65535, &v);
    curl_free(port);
    if (!ok || bad) {
        authc__set_err(err, errlen, "redis: bad port in URL");
        return false;
    }
    ctx->port = (int)v;
    char *path = part(u, CURLUPART_PATH, 0, &bad);
    const char *db = path && path[0] == '/' ? path + 1 : "";
    v = 0;
    ok = !*db || authc__parse_long(db, strlen(db), 0, 100000, &v);
    curl_free(path);
    if (!ok) {
        authc__set_err(err, errlen, "redis: the URL path must be a "
                       "database number");
        return false;
    }
    ctx->db = (int)v;
    return true;
}

/* One query parameter into ctx. */
static bool read_param(rd_ctx *ctx, const authc__qparam *q, char *err,
                       size_t errlen)
{
    long x;
    if (authc__qparam_is(q, "prefix")) {
        free(ctx->prefix);
        ctx->prefix = NULL;
        authc_arena *ar = authc_arena_new();
        char *dec = ar && q->vlen <= 3 * 256
                        ? authc__pct_decode(ar, q->val, q->vlen, false)
                        : NULL;
        if (dec && strlen(dec) <= 256)
            ctx->prefix = strdup(dec);
        authc_arena_free(ar);
        if (!ctx->prefix) {
            authc__set_err(err, errlen, "redis: bad prefix");
            return false;
        }
    } else if (authc__qparam_is(q, "pool_size")) {
        if (!authc__parse_long(q->val, q->vlen, 1, AUTHC__POOL_MAX, &x)) {
            authc__set_err(err, errlen, "redis: pool_size must be 1..%d",
                           AUTHC__POOL_MAX);
            return false;
        }
        ctx->pool_size = (int)x;
    } else if (authc__qparam_is(q, "timeout") ||
               authc__qparam_is(q, "connect_timeout")) {
        if (!authc__parse_long(q->val, q->vlen, 10, 600000, &x)) {
            authc__set_err(err, errlen, "redis: %.*s must be 10..600000 (ms)",
                           (int)q->klen, q->key);
            return false;
        }
        *(authc__qparam_is(q, "timeout") ? &ctx->timeout_ms
                                         : &ctx->connect_timeout_ms) = (int)x;
    } else if (authc__qparam_is(q, "ttl_grace")) {
        if (!authc__parse_long(q->val, q->vlen, 0, 31536000, &x)) {
            authc__set_err(err, errlen,
                           "redis: ttl_grace must be 0..31536000 (s)");
            return false;
        }
        ctx->grace_ms = (int64_t)x * 1000;
    } else {
        authc__set_err(err, errlen, "redis: unknown URL parameter \"%.*s\" "
                       "(known: prefix, pool_size, timeout, connect_timeout, "
                       "ttl_grace)", (int)(q->klen > 40 ? 40 : q->klen),
                       q->key);
        return false;
    }
    return true;
}

bool authc__rd_parse_url(rd_ctx *ctx, const char *url, char *err,
                         size_t errlen)
{
    if (strlen(url) > RD_MAX_URL) {
        authc__set_err(err, errlen, "redis: URL longer than %d bytes",
                       RD_MAX_URL);
        return false;
    }
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
    CURLU *u = curl_url();
    if (!u) {
        authc__set_err(err, errlen, "redis: out of memory");
        return false;
    }
    bool ok = false;
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, url,
                                CURLU_NON_SUPPORT_SCHEME);
    if (rc != CURLUE_OK) {
        /* curl's messages name the problem, never a part of the URL */
        authc__set_err(err, errlen, "redis: bad URL: %s",
                       curl_url_strerror(rc));
    } else if (read_auth(ctx, u, err, errlen) &&
               read_place(ctx, u, err, errlen)) {
        bool bad = false;
        char *query = part(u, CURLUPART_QUERY, 0, &bad);
        const char *p = query ? query : "";
        authc__qparam q;
        ok = true;
        while (ok && authc__query_next(&p, &q))
            ok = read_param(ctx, &q, err, errlen);
        curl_free(query);
    }
    curl_url_cleanup(u);
    return ok;
}
