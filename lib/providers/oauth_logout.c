/* oauth_logout.c — OpenID Connect Back-Channel and Front-Channel Logout:
 * the routes the OIDC provider type owns to end sessions the IdP names. */
#include <string.h>

#include "core/provider_api.h"
#include "jose/logout_token_int.h"
#include "providers/oauth_int.h"
#include "store/store_int.h"

/* 400 naming the failed check (the spec allows only 200 and 400). */
static authc_err bcl_fail(authc__ctx *c, const char *check)
{
    authc_arena *ar = authc__ctx_arena(c);
    authc__buf b;
    authc__buf_init(&b, ar, 1024);
    authc__buf_adds(&b, "{\"error\":\"invalid_request\",\"error_description\":");
    authc__buf_add_json_str(&b, check);
    authc__buf_addc(&b, '}');
    authc__ctx_set_log_line(c, authc_arena_printf(ar, "backchannel-logout provider=%s refused: %s",
                                                  authc__ctx_provider(c)->id, check));
    authc__log(authc__ctx_instance(c), "warn", "backchannel-logout from %s refused: %s",
               authc__ctx_provider(c)->id, check);
    if (b.err)
        return b.err;
    return authc__res_body(c, 400, "application/json", b.p, b.len);
}

/* The issuer this provider's tokens must name (Entra: the tenant's). */
static const char *issuer_of(authc__ctx *c, const authc__oauth *P, const char *token,
                             const authc__oidc_meta **meta, char *why, size_t whylen)
{
    if (authc__oidc_get_meta(P->oidc, meta, why, whylen))
        return NULL;
    const char *iss = (*meta)->issuer;
    if (P->hooks->id_token_issuer && token)
        iss = P->hooks->id_token_issuer(authc__ctx_arena(c), iss, token);
    return iss;
}

/* POST <base>/backchannel-logout/<ID>, form body logout_token=<JWT>. */
static authc_err backchannel(authc__ctx *c)
{
    const authc__oauth *P = authc__ctx_provider(c)->impl;
    authc_err e = authc__res_header(c, "Cache-Control", "no-store");
    if (e)
        return e;
    const char *tok = authc__map_last(authc__ctx_body(c), "logout_token");
    if (!tok || !*tok)
        return bcl_fail(c, "logout_token missing");
    if (strlen(tok) > AUTHC__LOGOUT_TOKEN_MAX)
        return bcl_fail(c, "logout_token too large");
    char why[256] = "";
    const authc__oidc_meta *meta = NULL;
    const char *iss = issuer_of(c, P, tok, &meta, why, sizeof why);
    if (!iss)
        return bcl_fail(c, *why ? why : "issuer unknown");
    authc__idtoken_expect x = {.issuer = iss, .client_id = P->client_id, .algs = meta->algs,
                               .now = authc__now_ms() / 1000, .skew = -1, .sub_optional = true};
    authc__logout_claims lc;
    e = authc__logout_token_verify(authc__oidc_jwks(P->oidc), authc__ctx_arena(c), tok, &x, &lc,
                                   why, sizeof why);
    if (e == AUTHC_ERR_NOMEM)
        return e;
    if (e)
        return bcl_fail(c, *why ? why : "invalid logout_token");
    /* jti replay: remembered in the shared store until the token expires. */
    char key[AUTHC__HASHED_KEY_MAX];
    int64_t ttl = (lc.exp - x.now) * 1000;
    bool fresh = false;
    if (!authc__hashed_key(key, "replay", P->id, lc.jti))
        return AUTHC_ERR_CRYPTO;
    e = authc__store_set_nx(authc__inst_store(authc__ctx_instance(c)), key, "1", 1,
                            ttl < 1000 ? 1000 : ttl, &fresh);
    if (e)
        return bcl_fail(c, "store unavailable");
    if (!fresh)
        return bcl_fail(c, "jti replayed");
    if (authc__end_provider_sessions(c, lc.sid, lc.sub, false))
        return bcl_fail(c, "store unavailable");
    authc__ctx_set_log_line(c, authc_arena_printf(authc__ctx_arena(c), "backchannel-logout provider=%s by=%s",
                                                  P->id, lc.sid ? "sid" : "sub"));
    return authc__res_body(c, 200, "text/plain", "", 0);
}

/* GET <base>/frontchannel-logout/<ID>?iss=…&sid=… (in an IdP's iframe). */
static authc_err frontchannel(authc__ctx *c)
{
    const authc__oauth *P = authc__ctx_provider(c)->impl;
    authc_err e = authc__res_header(c, "Cache-Control", "no-cache, no-store");
    if (e)
        return e;
    char why[256] = "";
    const authc__oidc_meta *meta = NULL;
    const char *iss = issuer_of(c, P, NULL, &meta, why, sizeof why);
    const char *qiss = authc__map_last(authc__ctx_query(c), "iss");
    const char *sid = authc__map_last(authc__ctx_query(c), "sid");
    if (!iss || !sid || !*sid || (qiss && !authc__issuer_equal(qiss, iss))) {
        authc__log(authc__ctx_instance(c), "warn", "frontchannel-logout from %s refused: %s", P->id,
                   !iss ? "issuer unknown" : !sid || !*sid ? "sid missing" : "iss mismatch");
        return authc__res_body(c, 400, "text/plain", "", 0);
    }
    /* The IdP frames this page: admit its origin only. */
    authc__url u;
    const char *fa = authc__url_parse(authc__ctx_arena(c), iss, &u) == AUTHC_OK
                         ? authc_arena_printf(authc__ctx_arena(c), "frame-ancestors %s", u.origin)
                         : "frame-ancestors 'none'";
    if ((e = authc__res_header(c, "Content-Security-Policy", fa)))
        return e;
    if ((e = authc__end_provider_sessions(c, sid, NULL, true)))
        return e == AUTHC_ERR_NOMEM ? e : authc__res_body(c, 503, "text/plain", "", 0);
    return authc__res_body(c, 200, "text/html", "<!DOCTYPE html><title>Signed out</title>", 40);
}

const authc__route AUTHC__OIDC_ROUTES[2] = {
    {"backchannel-logout", AUTHC__POST, backchannel, AUTHC_POOL_NET, AUTHC__R_JSON404},
    {"frontchannel-logout", AUTHC__GET, frontchannel, AUTHC_POOL_NET, AUTHC__R_JSON404},
};
