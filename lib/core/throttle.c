/* throttle.c — endpoint throttles per client, counted in the shared store
 * (so instances count together), and the one 429 answer they give. */
#include <stdio.h>
#include <string.h>

#include "core/core_int.h"

void authc__ctx_ip_key(const authc__ctx *c, char *out)
{
    const char *ip = authc__ctx_client_addr(c);
    if (!ip || !*ip || !strcmp(ip, "-")) {
        out[0] = '\0';
        return;
    }
    authc__ip_rate_key(ip, out, AUTHC__IP_STR);
}

static authc_err too_many(authc__ctx *c, const char *bucket, int64_t retry_after)
{
    const char *ra = authc_arena_printf(c->ar, "%lld", (long long)(retry_after > 0 ? retry_after : 1));
    if (!ra)
        return AUTHC_ERR_NOMEM;
    c->log_line = authc_arena_printf(c->ar, "rate limit bucket=%s", bucket);
    authc_err e = authc__res_header(c, "Retry-After", ra);
    if (!e)
        e = authc__res_header(c, "Cache-Control", "no-store");
    if (e)
        return e;
    if (c->return_redirect) {
        /* The unmodified signIn() turns this into {error, code:"rate_limited"}. */
        c->err_code_extra = "rate_limited";
        const char *url = authc__error_url(c, AUTHC_ERR_CREDENTIALS_SIGNIN);
        authc__buf b;
        authc__buf_init(&b, c->ar, AUTHC__MAX_URL * 4);
        authc__buf_adds(&b, "{\"url\":");
        authc__buf_add_json_str(&b, url);
        authc__buf_addc(&b, '}');
        return b.err ? b.err : authc__res_body(c, 429, "application/json", b.p, b.len);
    }
    return authc__res_body(c, 429, "text/plain; charset=utf-8", "Too many requests. Try again later.\n", 36);
}

authc_err authc__throttle(authc__ctx *c, const char *bucket, int64_t limit, int64_t window_s, bool *stop)
{
    *stop = false;
    char key[AUTHC__IP_STR];
    authc__ctx_ip_key(c, key);
    if (!key[0])
        return AUTHC_OK; /* an embedding app that does not say who asks */
    bool allowed;
    int64_t retry = 0;
    authc_err e = authc__throttle_hit(c->a->store, bucket, key, limit, window_s, &allowed, &retry);
    if (e == AUTHC_ERR_NOMEM)
        return e;
    if (e)
        return authc__fail(c, AUTHC_ERR_ADAPTER, "AdapterError: the store (%s) did not answer the %s throttle; "
                           "refusing (fail closed)", authc__store_label(c->a->store), bucket);
    if (allowed)
        return AUTHC_OK;
    authc__log(c->a, "warn", "[auth][warn] %s: per-client limit reached for %s (retry in %llds)", bucket, key,
               (long long)retry);
    *stop = true;
    return too_many(c, bucket, retry);
}
