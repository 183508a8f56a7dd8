/* oauth_callback.c — the callback step: redirect-proxy forwarding, the
 * authorization response's checks (state, iss, PKCE, nonce), then token and profile. */
#include <string.h>

#include "providers/oauth_int.h"

/* Callback parameters: the form body for form_post providers. */
static const authc__map *callback_params(authc__ctx *c, const authc__oauth *P)
{
    return (authc__ctx_is_post(c) && P->form_post) ? authc__ctx_body(c) : authc__ctx_query(c);
}

/* Auth.js redirect proxy: the proxy deployment forwards the IdP's answer to
 * the deployment that started the flow (its callback URL is in the state).
 * *done is true when it answered. */
static authc_err proxy_forward(authc__ctx *c, const authc__oauth *P, const authc__map *params, bool *done)
{
    authc_arena *ar = authc__ctx_arena(c);
    *done = false;
    if (!P->redirect_proxy_url)
        return AUTHC_OK;
    const char *po = authc__oauth_origin_of(ar, P->redirect_proxy_url);
    const char *state = authc__map_last(params, "state");
    if (!po || strcmp(po, authc__ctx_origin(c)) || !state)
        return AUTHC_OK;
    json_t *claims = NULL;
    if (authc__seal_decode(c, AUTHC__SEAL_STATE, state, &claims))
        return authc__fail(c, AUTHC_ERR_INVALID_CHECK, "state could not be decoded");
    const char *target = authc_arena_strdup(ar, json_string_value(json_object_get(claims, "origin")));
    json_decref(claims);
    const char *to = target ? authc__oauth_origin_of(ar, target) : NULL;
    if (!target || !to || !strcmp(to, authc__ctx_origin(c)))
        return AUTHC_OK;
    authc__buf b;
    authc__buf_init(&b, ar, AUTHC__MAX_URL * 2);
    authc__buf_adds(&b, target);
    authc__buf_addc(&b, '?');
    authc__plist l = {.ar = ar};
    authc_err e = authc__pl_from_map(&l, params);
    if (e)
        return e;
    authc__pl_serialize(&b, &l);
    if (b.err)
        return b.err;
    *done = true;
    return authc__res_redirect(c, b.p);
}

/* Reads (and clears) one check cookie the checks require; *value NULL when
 * the check is off. Fails with InvalidCheck naming it when it is missing. */
static authc_err use_check(authc__ctx *c, const authc__oauth *P, unsigned checks, unsigned check,
                           authc__ck key, const char *what, const char **value)
{
    *value = NULL;
    if (!(checks & check))
        return AUTHC_OK;
    authc_err e = authc__check_cookie_use(c, key, value);
    if (e)
        return e;
    if (!*value)
        return authc__fail(c, AUTHC_ERR_INVALID_CHECK, "%s missing or invalid (provider %s)", what, P->id);
    return AUTHC_OK;
}

/* The authorization response in Auth.js's order: iss, state, then error and
 * code. *code is the authorization code. */
static authc_err check_response(authc__ctx *c, const authc__oauth *P, const authc__oidc_meta *meta,
                                const authc__map *params, unsigned checks, const char *state_cookie,
                                const char **code)
{
    const char *iss = authc__map_last(params, "iss");
    const char *expected_iss = meta ? meta->issuer : P->issuer;
    if (iss && expected_iss && strcmp(iss, expected_iss))
        return authc__fail(c, AUTHC_ERR_CONFIGURATION,
                           "CallbackRouteError: the iss parameter does not match the issuer of %s", P->id);
    if (!iss && meta && meta->iss_param)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION,
                           "CallbackRouteError: the iss parameter is missing (%s advertises it)", P->id);
    if (checks & AUTHC_CHECK_STATE) {
        const char *st = authc__map_last(params, "state");
        if (!st || !authc__ct_streq(st, state_cookie))
            return authc__fail(c, AUTHC_ERR_INVALID_CHECK, "state parameter %s (provider %s)",
                               st ? "does not match the state cookie" : "is missing", P->id);
    }
    const char *perr = authc__map_last(params, "error");
    if (perr)
        return authc__fail(c, AUTHC_ERR_OAUTH_CALLBACK, "provider %s returned error=%s", P->id,
                           authc__oauth_log_safe(authc__ctx_arena(c), perr));
    *code = authc__map_last(params, "code");
    if (!*code || !**code)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: no code in the callback of %s", P->id);
    return AUTHC_OK;
}

/* The Auth.js account for the tokens (arena). NULL on OOM. */
static authc_account *account_of(authc__ctx *c, const authc__oauth *P, const authc__tokens *t,
                                 const char *provider_account_id)
{
    authc_account *acct = authc_arena_alloc(authc__ctx_arena(c), sizeof *acct);
    if (!acct)
        return NULL;
    *acct = (authc_account){
        .type = P->type == AUTHC_OAUTH_OIDC ? "oidc" : "oauth",
        .provider = P->id,
        .provider_account_id = provider_account_id,
        .access_token = t->access_token,
        .refresh_token = t->refresh_token,
        .expires_at = t->expires_at,
        .token_type = t->token_type,
        .scope = t->scope,
        .id_token = t->id_token,
        .session_state = t->session_state,
    };
    return acct;
}

authc_err authc__oauth_callback(authc__ctx *c)
{
    const authc__oauth *P = authc__ctx_provider(c)->impl;
    const authc__map *params = callback_params(c, P);
    bool done;
    authc_err e = proxy_forward(c, P, params, &done);
    if (e || done)
        return e;
    const authc__oidc_meta *meta;
    if ((e = authc__oauth_meta(c, P, &meta)))
        return e;
    unsigned checks = authc__oauth_checks(P, meta);
    /* The state cookie is read and cleared first, as Auth.js does. */
    const char *state_cookie, *code = NULL, *verifier, *nonce;
    if ((e = use_check(c, P, checks, AUTHC_CHECK_STATE, AUTHC__CK_STATE, "state cookie", &state_cookie)) ||
        (e = check_response(c, P, meta, params, checks, state_cookie, &code)) ||
        (e = use_check(c, P, checks, AUTHC_CHECK_PKCE, AUTHC__CK_PKCE, "PKCE code_verifier cookie", &verifier)) ||
        (e = use_check(c, P, checks, AUTHC_CHECK_NONCE, AUTHC__CK_NONCE, "nonce cookie", &nonce)))
        return e;
    const char *redirect_uri = authc__oauth_redirect_uri(c, P);
    if (!redirect_uri)
        return AUTHC_ERR_NOMEM;
    authc__tokens t;
    authc_user user;
    if ((e = authc__oauth_token(c, P, meta, code, verifier, redirect_uri, &t)) ||
        (e = authc__oauth_profile(c, P, meta, params, &t, nonce, &user)))
        return e;
    const char *pid = user.id;
    if (!pid) {
        char uuid[37];
        if ((e = authc__uuid(uuid)))
            return e;
        pid = authc_arena_strdup(authc__ctx_arena(c), uuid);
    }
    authc_account *acct = pid ? account_of(c, P, &t, pid) : NULL;
    if (!acct)
        return AUTHC_ERR_NOMEM;
    user.id = pid;
    return authc__login(c, &user, acct);
}
