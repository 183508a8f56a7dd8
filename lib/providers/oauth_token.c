/* oauth_token.c — the token step: the code exchange at the token endpoint
 * (client authentication, form or JSON answers) and the checks on its tokens. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/oauth_int.h"

static void fe_component(authc__buf *b, const char *s)
{
    /* encodeURIComponent, then %20 → '+' (Auth.js formUrlEncode). */
    authc__buf t;
    authc__buf_init(&t, b->ar, 8192);
    authc__buf_add_uri_component(&t, s);
    if (t.err) {
        b->err = t.err;
        return;
    }
    for (const char *p = t.p; p && *p; p++) {
        if (!strncmp(p, "%20", 3)) {
            authc__buf_addc(b, '+');
            p += 2;
        } else {
            authc__buf_addc(b, *p);
        }
    }
}

char *authc__oauth_basic_auth(authc_arena *ar, const char *id, const char *secret)
{
    authc__buf cred;
    authc__buf_init(&cred, ar, 16384);
    fe_component(&cred, id);
    authc__buf_addc(&cred, ':');
    fe_component(&cred, secret);
    if (cred.err)
        return NULL;
    char *b64 = authc__b64_encode(ar, (const uint8_t *)cred.p, cred.len);
    authc__wipe(cred.p, cred.len);
    char *h = b64 ? authc_arena_printf(ar, "Basic %s", b64) : NULL;
    if (b64)
        authc__wipe(b64, strlen(b64));
    return h;
}

static int64_t num_or_string(json_t *v, bool *ok)
{
    *ok = true;
    int64_t n;
    if (authc__json_int(v, &n))
        return n;
    if (json_is_string(v) && !authc__parse_i64(json_string_value(v), INT64_MIN, INT64_MAX, &n))
        return n;
    *ok = false;
    return 0;
}

authc_err authc__oauth_token_post(authc__ctx *c, const authc__oauth *P, const authc__oidc_meta *meta,
                                  authc__plist *body, long *status, json_t **tj, char *why, size_t whylen)
{
    *tj = NULL;
    *status = 0;
    snprintf(why, whylen, "no answer");
    const char *url = P->token_url ? P->token_url : meta ? meta->token_endpoint : NULL;
    if (!url)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "provider %s: no token endpoint", P->id);
    authc_err e = AUTHC_OK;
    if (P->token_auth != AUTHC_TOKEN_AUTH_CLIENT_SECRET_BASIC)
        e = authc__pl_append(body, "client_id", P->client_id);
    if (!e && P->token_auth == AUTHC_TOKEN_AUTH_CLIENT_SECRET_POST)
        e = authc__pl_append(body, "client_secret", P->client_secret);
    if (e)
        return e;
    authc__buf b;
    authc__buf_init(&b, authc__ctx_arena(c), 64 * 1024);
    authc__pl_serialize(&b, body);
    if (b.err)
        return b.err;
    authc__http_req rq = {.method = "POST", .url = url, .body = b.p, .body_len = b.len,
                          .headers = {"Content-Type: application/x-www-form-urlencoded;charset=UTF-8",
                                      "Accept: application/json"},
                          .nheaders = 2, .endpoint = "token"};
    char *basic = NULL;
    if (P->token_auth == AUTHC_TOKEN_AUTH_CLIENT_SECRET_BASIC) {
        char *v = authc__oauth_basic_auth(authc__ctx_arena(c), P->client_id, P->client_secret);
        basic = v ? authc_arena_printf(authc__ctx_arena(c), "Authorization: %s", v) : NULL;
        if (v)
            authc__wipe(v, strlen(v));
        if (!basic)
            return AUTHC_ERR_NOMEM;
        rq.headers[rq.nheaders++] = basic;
    }
    authc__http_opts ho = P->http;
    ho.max_response = AUTHC__OAUTH_MAX_TOKEN_RES;
    authc__http_res rs;
    e = authc__http_do(authc__ctx_arena(c), &ho, &rq, &rs, why, whylen);
    if (basic)
        authc__wipe(basic, strlen(basic));
    authc__wipe(b.p, b.len);
    if (e)
        return e;
    *status = rs.status;
    /* JSON normally; GitHub answers a form when JSON was not asked for. */
    json_t *j = NULL;
    if (rs.content_type && (!strcmp(rs.content_type, "application/x-www-form-urlencoded") ||
                            !strcmp(rs.content_type, "text/plain"))) {
        authc__map m = {0};
        if (authc__parse_form(authc__ctx_arena(c), rs.body, rs.len, &m, 64) == AUTHC_OK && m.n) {
            j = json_object();
            for (size_t i = 0; j && i < m.n; i++)
                json_object_set_new(j, m.items[i].k, json_string(m.items[i].v));
        }
    } else {
        json_error_t je;
        j = json_loadb(rs.body, rs.len, 0, &je);
    }
    authc__wipe(rs.body, rs.len);
    if (!json_is_object(j)) {
        json_decref(j);
        snprintf(why, whylen, "HTTP %ld without a JSON object", rs.status);
        return AUTHC_OK;
    }
    *tj = j;
    return AUTHC_OK;
}

/* The code exchange. On success *tj is the parsed body (a new reference). */
static authc_err token_request(authc__ctx *c, const authc__oauth *P, const authc__oidc_meta *meta,
                               const char *code, const char *verifier, const char *redirect_uri,
                               json_t **tj)
{
    authc__plist body = {.ar = authc__ctx_arena(c)};
    authc_err e = authc__pl_append(&body, "redirect_uri", redirect_uri);
    if (!e) e = authc__pl_append(&body, "code", code);
    if (!e && verifier) e = authc__pl_append(&body, "code_verifier", verifier);
    if (!e) e = authc__pl_append(&body, "grant_type", "authorization_code");
    if (e)
        return e;
    long status;
    json_t *j;
    char w[256];
    e = authc__oauth_token_post(c, P, meta, &body, &status, &j, w, sizeof w);
    if (e == AUTHC_ERR_NOMEM || e == AUTHC_ERR_CONFIGURATION)
        return e;
    if (e)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: token request for %s failed: %s",
                           P->id, w);
    if (!j)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: token endpoint of %s answered %s",
                           P->id, w);
    const char *err = authc__oauth_log_safe(authc__ctx_arena(c), json_string_value(json_object_get(j, "error")));
    bool has_err = json_object_get(j, "error") != NULL;
    if (status != 200 || has_err) {
        /* Entra reports user-side failures in the token body (Auth.js
         * turns those into OAuthCallbackError). */
        bool entra = P->hooks->token_body_errors && has_err;
        json_decref(j);
        return authc__fail(c, entra ? AUTHC_ERR_OAUTH_CALLBACK : AUTHC_ERR_CONFIGURATION,
                           "%s: token endpoint of %s answered HTTP %ld, error=%s",
                           entra ? "OAuthCallbackError" : "CallbackRouteError", P->id, status, err);
    }
    *tj = j;
    return AUTHC_OK;
}

authc_err authc__oauth_parse_tokens(authc__ctx *c, const authc__oauth *P, json_t *tj, bool need_id_token,
                                    authc__tokens *t)
{
    memset(t, 0, sizeof *t);
    t->expires_at = AUTHC_NO_TIME;
    authc_err e = P->hooks->fix_tokens ? P->hooks->fix_tokens(authc__ctx_arena(c), tj) : AUTHC_OK;
    if (e)
        return e;
#define STR(f) (t->f = authc_arena_strdup(authc__ctx_arena(c), json_string_value(json_object_get(tj, #f))))
    STR(access_token);
    STR(token_type);
    STR(id_token);
    STR(refresh_token);
    STR(scope);
    STR(session_state);
#undef STR
    if (!t->access_token || !*t->access_token)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: token response of %s has no access_token", P->id);
    if (!t->token_type)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: token response of %s has no token_type", P->id);
    for (char *q = (char *)t->token_type; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    if (strcmp(t->token_type, "bearer") && strcmp(t->token_type, "dpop"))
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: unsupported token_type %s from %s",
                           authc__oauth_log_safe(authc__ctx_arena(c), t->token_type), P->id);
    json_t *ei = json_object_get(tj, "expires_in");
    if (ei) {
        bool ok;
        int64_t n = num_or_string(ei, &ok);
        if (!ok || n < 0 || n > 100LL * 365 * 86400)
            return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: bad expires_in from %s", P->id);
        t->expires_at = authc__now_ms() / 1000 + n;
    }
    if (need_id_token && P->type == AUTHC_OAUTH_OIDC && (!t->id_token || !*t->id_token))
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: token response of %s has no id_token", P->id);
    return AUTHC_OK;
}

authc_err authc__oauth_token(authc__ctx *c, const authc__oauth *P, const authc__oidc_meta *meta,
                             const char *code, const char *verifier, const char *redirect_uri,
                             authc__tokens *t)
{
    json_t *tj = NULL;
    authc_err e = token_request(c, P, meta, code, verifier, redirect_uri, &tj);
    if (e)
        return e;
    e = authc__oauth_parse_tokens(c, P, tj, true, t);
    json_decref(tj);
    return e;
}
