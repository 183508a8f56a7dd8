/* oauth_profile.c — the profile step: the verified id_token claims and/or
 * the userinfo document, mapped to the Auth.js user through the claim lists. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "providers/oauth_int.h"

authc_err authc__oauth_get_json(authc__ctx *c, const authc__oauth *P, const char *url,
                                const char *access_token, const char *accept, size_t max,
                                json_t **out, char *why, size_t whylen)
{
    *out = NULL;
    authc__http_opts ho = P->http;
    ho.max_response = max;
    char *auth = authc_arena_printf(authc__ctx_arena(c), "Authorization: Bearer %s", access_token);
    char *acc = authc_arena_printf(authc__ctx_arena(c), "Accept: %s", accept);
    if (!auth || !acc)
        return AUTHC_ERR_NOMEM;
    authc__http_req rq = {.method = "GET", .url = url, .headers = {auth, acc}, .nheaders = 2, .endpoint = "userinfo"};
    authc__http_res rs;
    char w[256];
    authc_err e = authc__http_do(authc__ctx_arena(c), &ho, &rq, &rs, w, sizeof w);
    authc__wipe(auth, strlen(auth));
    if (e) {
        snprintf(why, whylen, "request to %.200s failed: %s", url, w);
        return e;
    }
    if (rs.status < 200 || rs.status > 299) {
        snprintf(why, whylen, "%.200s answered HTTP %ld", url, rs.status);
        return AUTHC_ERR_IO;
    }
    json_error_t je;
    json_t *j = json_loadb(rs.body, rs.len, 0, &je);
    if (!json_is_object(j) && !json_is_array(j)) {
        json_decref(j);
        snprintf(why, whylen, "%.200s did not answer with JSON", url);
        return AUTHC_ERR_INVALID;
    }
    *out = j;
    return AUTHC_OK;
}

/* Looks up a dotted path ("picture.data.url"). Borrowed reference. */
static json_t *path_get(json_t *o, const char *path, size_t len)
{
    char key[128];
    while (o && len) {
        size_t seg = 0;
        while (seg < len && path[seg] != '.')
            seg++;
        if (seg == 0 || seg >= sizeof key)
            return NULL;
        memcpy(key, path, seg);
        key[seg] = '\0';
        o = json_is_object(o) ? json_object_get(o, key) : NULL;
        path += seg;
        len -= seg;
        if (len) {
            path++;
            len--;
        }
    }
    return o;
}

static const char *json_to_str(authc_arena *ar, json_t *v)
{
    if (json_is_string(v))
        return authc_arena_strdup(ar, json_string_value(v));
    if (json_is_integer(v))
        return authc_arena_printf(ar, "%lld", (long long)json_integer_value(v));
    if (json_is_real(v))
        return authc_arena_printf(ar, "%.17g", json_real_value(v));
    if (json_is_boolean(v))
        return json_is_true(v) ? "true" : "false";
    return NULL;
}

/* The first present (non-null) claim of a space-separated fallback list,
 * as a string; NULL when none ("" spec = never). */
static const char *claim(authc_arena *ar, json_t *profile, const char *spec)
{
    for (const char *p = spec; p && *p;) {
        while (*p == ' ')
            p++;
        size_t l = strcspn(p, " ");
        if (!l)
            break;
        json_t *v = path_get(profile, p, l);
        if (v && !json_is_null(v))
            return json_to_str(ar, v);
        p += l;
    }
    return NULL;
}

/* Verifies the id_token and returns its claims (the OIDC profile). */
static authc_err verify_id_token(authc__ctx *c, const authc__oauth *P, const authc__oidc_meta *meta,
                                 const authc__tokens *t, const char *nonce, json_t **claims)
{
    const char *issuer = meta->issuer;
    if (P->hooks->id_token_issuer && !(issuer = P->hooks->id_token_issuer(authc__ctx_arena(c), issuer, t->id_token)))
        return AUTHC_ERR_NOMEM;
    authc__idtoken_expect x = {.issuer = issuer, .client_id = P->client_id, .nonce = nonce,
                               .algs = meta->algs, .now = authc__now_ms() / 1000, .skew = -1};
    char why[AUTHC__OAUTH_WHY_LEN];
    authc_err e = authc__idtoken_verify(authc__oidc_jwks(P->oidc), authc__ctx_arena(c), t->id_token, &x, claims, why, sizeof why);
    if (e == AUTHC_ERR_NOMEM)
        return e;
    if (e)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: invalid id_token from %s: %s", P->id, why);
    return AUTHC_OK;
}

/* OIDC: the id_token claims, or the userinfo document when configured (its
 * sub must be the id_token's). *profile is a new reference. */
static authc_err oidc_profile(authc__ctx *c, const authc__oauth *P, const authc__oidc_meta *meta,
                              const authc__tokens *t, const char *nonce, json_t **profile)
{
    authc_err e = verify_id_token(c, P, meta, t, nonce, profile);
    if (e || !P->profile_from_userinfo)
        return e;
    char why[AUTHC__OAUTH_WHY_LEN];
    const char *ui = P->userinfo_url ? P->userinfo_url : meta->userinfo_endpoint;
    json_t *info = NULL;
    e = ui ? authc__oauth_get_json(c, P, ui, t->access_token, "application/json, application/jwt",
                                   AUTHC__OAUTH_MAX_USERINFO, &info, why, sizeof why)
           : (snprintf(why, sizeof why, "no userinfo endpoint"), AUTHC_ERR_INVALID);
    const char *s1 = json_string_value(json_object_get(*profile, "sub"));
    const char *s2 = json_string_value(json_object_get(info, "sub"));
    bool same = s1 && s2 && !strcmp(s1, s2);
    json_decref(*profile);
    *profile = info;
    if (e == AUTHC_ERR_NOMEM)
        return e;
    if (!e && (!json_is_object(info) || !same)) {
        snprintf(why, sizeof why, "userinfo sub does not match the id_token sub");
        e = AUTHC_ERR_INVALID;
    }
    if (e) {
        json_decref(*profile);
        *profile = NULL;
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: userinfo of %s: %s", P->id, why);
    }
    return AUTHC_OK;
}

/* OAuth 2: the userinfo document (or the preset's own fetch). */
static authc_err oauth2_profile(authc__ctx *c, const authc__oauth *P, const authc__oidc_meta *meta,
                                const authc__tokens *t, json_t **profile)
{
    char why[AUTHC__OAUTH_WHY_LEN];
    authc_err e;
    if (P->hooks->fetch_profile)
        e = P->hooks->fetch_profile(c, P, t, profile, why, sizeof why);
    else
        e = authc__oauth_get_json(c, P, P->userinfo_url ? P->userinfo_url : meta ? meta->userinfo_endpoint : "",
                                  t->access_token, "application/json", AUTHC__OAUTH_MAX_USERINFO, profile,
                                  why, sizeof why);
    if (!e && !json_is_object(*profile)) {
        snprintf(why, sizeof why, "the userinfo answer is not a JSON object");
        e = AUTHC_ERR_INVALID;
    }
    if (e) {
        json_decref(*profile);
        *profile = NULL;
        return e == AUTHC_ERR_NOMEM ? e
               : authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: userinfo of %s: %s", P->id, why);
    }
    return AUTHC_OK;
}

authc_err authc__oauth_profile(authc__ctx *c, const authc__oauth *P, const authc__oidc_meta *meta,
                               const authc__map *params, const authc__tokens *t, const char *nonce,
                               authc_user *user)
{
    authc_arena *ar = authc__ctx_arena(c);
    json_t *profile = NULL;
    authc_err e = P->type == AUTHC_OAUTH_OIDC ? oidc_profile(c, P, meta, t, nonce, &profile)
                                              : oauth2_profile(c, P, meta, t, &profile);
    if (e)
        return e;
    if (P->hooks->profile_params)
        P->hooks->profile_params(params, profile);
    *user = (authc_user){.email_verified = AUTHC_NO_TIME};
    user->id = claim(ar, profile, P->claim_id);
    user->name = claim(ar, profile, P->claim_name);
    user->email = claim(ar, profile, P->claim_email);
    user->image = claim(ar, profile, P->claim_image);
    if (P->hooks->map_user)
        e = P->hooks->map_user(c, P, t, profile, user);
    json_decref(profile);
    if (e || !user->email)
        return e;
    char *lc = authc_arena_strdup(ar, user->email);
    if (!lc)
        return AUTHC_ERR_NOMEM;
    for (char *q = lc; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    user->email = lc;
    return AUTHC_OK;
}
