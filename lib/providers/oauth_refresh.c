/* oauth_refresh.c — the OAuth provider's lifecycle ops: the refresh_token
 * grant (RFC 6749 §6) and the RP-initiated logout endpoint (OIDC). */
#include <stdio.h>
#include <string.h>

#include "providers/oauth_int.h"

/* The `sub` of a JWT's payload (arena), or NULL. The id_token comes from
 * the token endpoint over the TLS connection we opened (OIDC Core
 * 3.1.3.7), so only its subject is compared here. */
static const char *jwt_sub(authc_arena *ar, const char *jwt)
{
    const char *p = jwt ? strchr(jwt, '.') : NULL;
    const char *q = p ? strchr(p + 1, '.') : NULL;
    if (!q || q - p - 1 > 16384)
        return NULL;
    size_t n;
    uint8_t *pl = authc__b64url_decode(ar, p + 1, (size_t)(q - p - 1), &n);
    if (!pl)
        return NULL;
    json_error_t je;
    json_t *j = json_loadb((const char *)pl, n, 0, &je);
    const char *sub = authc_arena_strdup(ar, json_string_value(json_object_get(j, "sub")));
    json_decref(j);
    return sub;
}

/* Errors of RFC 6749 §5.2 that mean this refresh token will never work. */
static bool dead_error(const char *err)
{
    return err && (!strcmp(err, "invalid_grant") || !strcmp(err, "unauthorized_client"));
}

authc__refresh_result authc__oauth_refresh(authc__ctx *c, const authc__provider *p, const char *rt,
                                           const char *expected_sub, authc__refreshed *out)
{
    const authc__oauth *P = p->impl;
    authc_arena *ar = authc__ctx_arena(c);
    memset(out, 0, sizeof *out);
    const authc__oidc_meta *meta = NULL;
    if (P->oidc && authc__oauth_meta(c, P, &meta))
        return AUTHC__REFRESH_TRANSIENT;
    authc__plist body = {.ar = ar};
    if (authc__pl_append(&body, "grant_type", "refresh_token") ||
        authc__pl_append(&body, "refresh_token", rt))
        return AUTHC__REFRESH_TRANSIENT;
    long status;
    json_t *tj;
    char why[256];
    authc_err e = authc__oauth_token_post(c, P, meta, &body, &status, &tj, why, sizeof why);
    if (e || !tj) {
        authc__log(authc__ctx_instance(c), "warn", "[auth][warn] refresh grant of %s failed: %s; retried later",
                   P->id, why);
        return AUTHC__REFRESH_TRANSIENT;
    }
    const char *err = json_string_value(json_object_get(tj, "error"));
    if (status != 200 || err) {
        bool dead = status >= 400 && status < 500 && dead_error(err);
        authc__log(authc__ctx_instance(c), dead ? "warn" : "error",
                   "[auth][%s] refresh grant of %s: HTTP %ld, error=%s%s", dead ? "warn" : "error", P->id,
                   status, authc__oauth_log_safe(ar, err), dead ? " (RefreshTokenError)" : "; retried later");
        json_decref(tj);
        return dead ? AUTHC__REFRESH_DEAD : AUTHC__REFRESH_TRANSIENT;
    }
    authc__tokens t;
    e = authc__oauth_parse_tokens(c, P, tj, false, &t);
    json_decref(tj);
    if (e)
        return AUTHC__REFRESH_TRANSIENT;
    if (t.id_token && expected_sub) {
        const char *sub = jwt_sub(ar, t.id_token);
        if (!sub || strcmp(sub, expected_sub)) {
            authc__log(authc__ctx_instance(c), "warn",
                       "[auth][warn] refresh grant of %s: the new id_token names another sub (RefreshTokenError)",
                       P->id);
            return AUTHC__REFRESH_DEAD;
        }
    }
    *out = (authc__refreshed){.access_token = t.access_token, .refresh_token = t.refresh_token,
                              .id_token = t.id_token, .token_type = t.token_type, .scope = t.scope,
                              .expires_at = t.expires_at == AUTHC_NO_TIME ? 0 : t.expires_at};
    return AUTHC__REFRESH_OK;
}

bool authc__oauth_end_session(authc__ctx *c, const authc__provider *p, authc__end_session *out)
{
    const authc__oauth *P = p->impl;
    const authc__oidc_meta *meta = NULL;
    if (!P->oidc || authc__oauth_meta(c, P, &meta) || !meta || !meta->end_session_endpoint)
        return false;
    out->endpoint = authc_arena_strdup(authc__ctx_arena(c), meta->end_session_endpoint);
    out->client_id = P->client_id;
    out->enabled = P->federated_signout;
    return out->endpoint != NULL;
}
