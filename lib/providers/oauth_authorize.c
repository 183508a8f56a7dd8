/* oauth_authorize.c — the authorization step: POST /signin/:id builds the
 * authorization URL (params, state, PKCE, nonce) and redirects the browser to it. */
#include <string.h>

#include <openssl/sha.h>

#include "providers/oauth_int.h"

#define DEFAULT_SCOPE "openid profile email"

static const char *random_b64url(authc_arena *ar)
{
    uint8_t r[32];
    if (authc__random(r, sizeof r))
        return NULL;
    char *s = authc__b64url_encode(ar, r, sizeof r);
    authc__wipe(r, sizeof r);
    return s;
}

static const char *pkce_challenge(authc_arena *ar, const char *verifier)
{
    uint8_t d[SHA256_DIGEST_LENGTH];
    SHA256((const uint8_t *)verifier, strlen(verifier), d);
    return authc__b64url_encode(ar, d, sizeof d);
}

/* The parameters in Auth.js's order: the endpoint's own query, the
 * configured ones (in the configured URL first, after redirect_uri for
 * discovered endpoints), then every query parameter of the sign-in request. */
static authc_err base_params(authc__ctx *c, const authc__oauth *P, const char *endpoint, bool discovered,
                             const char *redirect_uri, authc__plist *l)
{
    authc_arena *ar = authc__ctx_arena(c);
    authc_err e = AUTHC_OK;
    size_t qpos = strcspn(endpoint, "?#");
    if (endpoint[qpos] == '?') {
        authc__map q = {0};
        const char *qs = endpoint + qpos + 1;
        if ((e = authc__parse_form(ar, qs, strcspn(qs, "#"), &q, AUTHC__MAX_FORM_PAIRS)) ||
            (e = authc__pl_from_map(l, &q)))
            return e;
    }
    authc__plist cfgp = {.ar = ar};
    if (P->scope && (e = authc__pl_set(&cfgp, "scope", P->scope)))
        return e;
    for (size_t i = 0; !e && i < P->nparams; i++)
        e = authc__pl_set(&cfgp, P->params[2 * i], P->params[2 * i + 1]);
    if (!discovered) {
        for (size_t i = 0; !e && i < cfgp.m.n; i++)
            e = authc__pl_set(l, cfgp.m.items[i].k, cfgp.m.items[i].v);
        if (!e && !authc__pl_has(l, "scope"))
            e = authc__pl_set(l, "scope", DEFAULT_SCOPE);
    }
    if (!e) e = authc__pl_set(l, "response_type", "code");
    if (!e) e = authc__pl_set(l, "client_id", P->client_id);
    if (!e) e = authc__pl_set(l, "redirect_uri", redirect_uri);
    for (size_t i = 0; !e && discovered && i < cfgp.m.n; i++)
        e = authc__pl_set(l, cfgp.m.items[i].k, cfgp.m.items[i].v);
    const authc__map *q = authc__ctx_query(c);
    for (size_t i = 0; !e && i < q->n; i++)
        e = authc__pl_set(l, q->items[i].k, q->items[i].v);
    return e;
}

/* state, PKCE and nonce: each a parameter plus its check cookie. The state
 * names this deployment's callback when a redirect proxy forwards it. */
static authc_err add_checks(authc__ctx *c, const authc__oauth *P, unsigned checks, authc__plist *l)
{
    authc_arena *ar = authc__ctx_arena(c);
    authc_err e;
    if (checks & AUTHC_CHECK_STATE) {
        const char *rnd = random_b64url(ar);
        const char *own_cb = authc_arena_printf(ar, "%s%s/callback/%s", authc__ctx_origin(c),
                                                authc__inst_base(authc__ctx_instance(c)), P->id);
        json_t *claims = !rnd || !own_cb ? NULL
                       : authc__oauth_via_proxy(c, P) ? json_pack("{s:s,s:s}", "origin", own_cb, "random", rnd)
                                                      : json_pack("{s:s}", "random", rnd);
        char *state = NULL;
        if (!claims)
            return AUTHC_ERR_NOMEM;
        e = authc__seal_encode(c, AUTHC__SEAL_STATE, claims, &state);
        json_decref(claims);
        if (e || (e = authc__pl_set(l, "state", state)) ||
            (e = authc__check_cookie_set(c, AUTHC__CK_STATE, state, P->form_post)))
            return e;
    }
    if (checks & AUTHC_CHECK_PKCE) {
        const char *verifier = random_b64url(ar);
        const char *challenge = verifier ? pkce_challenge(ar, verifier) : NULL;
        if (!challenge)
            return AUTHC_ERR_NOMEM;
        if ((e = authc__pl_set(l, "code_challenge", challenge)) ||
            (e = authc__pl_set(l, "code_challenge_method", "S256")) ||
            (e = authc__check_cookie_set(c, AUTHC__CK_PKCE, verifier, false)))
            return e;
    }
    if (checks & AUTHC_CHECK_NONCE) {
        const char *nonce = random_b64url(ar);
        if (!nonce)
            return AUTHC_ERR_NOMEM;
        if ((e = authc__pl_set(l, "nonce", nonce)) ||
            (e = authc__check_cookie_set(c, AUTHC__CK_NONCE, nonce, P->form_post)))
            return e;
    }
    return AUTHC_OK;
}

authc_err authc__oauth_authorize(authc__ctx *c)
{
    authc_arena *ar = authc__ctx_arena(c);
    const authc__oauth *P = authc__ctx_provider(c)->impl;
    const authc__oidc_meta *meta;
    authc_err e = authc__oauth_meta(c, P, &meta);
    if (e)
        return e;
    bool discovered = !P->authorization_url;
    const char *endpoint = discovered ? (meta ? meta->authorization_endpoint : NULL) : P->authorization_url;
    if (!endpoint)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION,
                           "provider %s: the issuer's metadata has no authorization_endpoint", P->id);
    const char *redirect_uri = authc__oauth_redirect_uri(c, P);
    const char *ep_base = authc_arena_strndup(ar, endpoint, strcspn(endpoint, "?#"));
    if (!redirect_uri || !ep_base)
        return AUTHC_ERR_NOMEM;
    authc__plist l = {.ar = ar};
    if ((e = base_params(c, P, endpoint, discovered, redirect_uri, &l)) ||
        (e = add_checks(c, P, authc__oauth_checks(P, meta), &l)))
        return e;
    if (P->type == AUTHC_OAUTH_OIDC && !authc__pl_has(&l, "scope") && (e = authc__pl_set(&l, "scope", DEFAULT_SCOPE)))
        return e;
    authc__buf b;
    authc__buf_init(&b, ar, AUTHC__MAX_URL * 2);
    authc__buf_adds(&b, ep_base);
    authc__buf_addc(&b, '?');
    authc__pl_serialize(&b, &l);
    if (b.err)
        return b.err == AUTHC_ERR_LIMIT
                   ? authc__fail(c, AUTHC_ERR_CONFIGURATION, "authorization URL for %s is too long", P->id)
                   : b.err;
    return authc__res_redirect(c, b.p);
}
