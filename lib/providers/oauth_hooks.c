/* oauth_hooks.c — the code a few presets need beyond their data rows
 * (GitHub, Discord, Apple, Microsoft Entra ID, Twitch), as hook tables. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/oauth_int.h"

/* GitHub: /user, then /user/emails when the email is private (the
 * primary entry, else the first). */
static authc_err github_profile(authc__ctx *c, const authc__oauth *P, const authc__tokens *t,
                                json_t **profile, char *why, size_t whylen)
{
    authc_arena *ar = authc__ctx_arena(c);
    authc_err e = authc__oauth_get_json(c, P, P->userinfo_url, t->access_token, "application/json",
                                        AUTHC__OAUTH_MAX_USERINFO, profile, why, whylen);
    if (e)
        return e;
    if (!json_is_object(*profile)) {
        snprintf(why, whylen, "GitHub /user is not a JSON object");
        return AUTHC_ERR_INVALID;
    }
    json_t *em = json_object_get(*profile, "email");
    if (json_is_string(em) && *json_string_value(em))
        return AUTHC_OK;
    const char *url = authc_arena_printf(ar, "%s/user/emails", P->api_base);
    json_t *list = NULL;
    char w[AUTHC__OAUTH_WHY_LEN];
    if (!url)
        return AUTHC_ERR_NOMEM;
    e = authc__oauth_get_json(c, P, url, t->access_token, "application/json", AUTHC__OAUTH_MAX_USERINFO,
                              &list, w, sizeof w);
    if (e == AUTHC_ERR_NOMEM)
        return e;
    /* Auth.js ignores a failed lookup (the token may lack user:email). */
    if (!e && json_is_array(list) && json_array_size(list) > 0) {
        json_t *pick = NULL, *v;
        size_t i;
        json_array_foreach(list, i, v)
            if (!pick && json_is_true(json_object_get(v, "primary")))
                pick = v;
        if (!pick)
            pick = json_array_get(list, 0);
        json_t *addr = json_object_get(pick, "email");
        if (json_is_string(addr))
            json_object_set(*profile, "email", addr);
    } else if (e) {
        authc__log(authc__ctx_instance(c), "warn", "[auth][warn] github: /user/emails lookup failed: %s", w);
    }
    json_decref(list);
    return AUTHC_OK;
}

/* Discord's avatar URL (CDN, or the default avatar). */
static authc_err discord_user(authc__ctx *c, const authc__oauth *P, const authc__tokens *t,
                              json_t *pr, authc_user *user)
{
    (void)P;
    (void)t;
    authc_arena *ar = authc__ctx_arena(c);
    const char *id = json_string_value(json_object_get(pr, "id"));
    const char *av = json_string_value(json_object_get(pr, "avatar"));
    user->image = NULL;
    if (!id)
        return AUTHC_OK;
    if (av) {
        user->image = authc_arena_printf(ar, "https://cdn.discordapp.com/avatars/%s/%s.%s", id, av,
                                         authc__starts_with(av, "a_") ? "gif" : "png");
        return AUTHC_OK;
    }
    const char *disc = json_string_value(json_object_get(pr, "discriminator"));
    unsigned n;
    if (!disc || !strcmp(disc, "0"))
        n = (unsigned)((strtoull(id, NULL, 10) >> 22) % 6);
    else
        n = (unsigned)(strtoul(disc, NULL, 10) % 5);
    user->image = authc_arena_printf(ar, "https://cdn.discordapp.com/embed/avatars/%u.png", n);
    return AUTHC_OK;
}

/* Apple, first consent only: the name arrives as a `user` form field. */
static void apple_params(const authc__map *params, json_t *profile)
{
    const char *u = authc__map_last(params, "user");
    json_error_t je;
    json_t *uj = u && strlen(u) < 4096 ? json_loads(u, 0, &je) : NULL;
    if (json_is_object(uj))
        json_object_set(profile, "user", uj);
    json_decref(uj);
}

/* Apple: the name from that field, else the email. */
static authc_err apple_user(authc__ctx *c, const authc__oauth *P, const authc__tokens *t,
                            json_t *profile, authc_user *user)
{
    (void)P;
    (void)t;
    json_t *nm = json_object_get(json_object_get(profile, "user"), "name");
    if (!json_is_object(nm)) {
        user->name = user->email;
        return AUTHC_OK;
    }
    const char *f = json_string_value(json_object_get(nm, "firstName"));
    const char *l = json_string_value(json_object_get(nm, "lastName"));
    user->name = authc_arena_printf(authc__ctx_arena(c), "%s%s%s", f ? f : "", f && l ? " " : "", l ? l : "");
    return AUTHC_OK;
}

/* Entra: the Graph profile photo as a data URL (Auth.js), else no image. */
static authc_err entra_user(authc__ctx *c, const authc__oauth *P, const authc__tokens *t,
                            json_t *profile, authc_user *user)
{
    (void)profile;
    authc_arena *ar = authc__ctx_arena(c);
    user->image = NULL;
    authc__http_opts ho = P->http;
    ho.max_response = AUTHC__OAUTH_MAX_PHOTO;
    char *auth = authc_arena_printf(ar, "Authorization: Bearer %s", t->access_token);
    if (!auth)
        return AUTHC_OK;
    authc__http_req rq = {.method = "GET", .url = "https://graph.microsoft.com/v1.0/me/photos/48x48/$value",
                          .headers = {auth}, .nheaders = 1};
    authc__http_res rs;
    char w[256];
    authc_err e = authc__http_do(ar, &ho, &rq, &rs, w, sizeof w);
    authc__wipe(auth, strlen(auth));
    if (e || rs.status < 200 || rs.status > 299 || rs.len == 0)
        return AUTHC_OK;
    char *b64 = authc__b64_encode(ar, (const uint8_t *)rs.body, rs.len);
    user->image = b64 ? authc_arena_printf(ar, "data:image/jpeg;base64, %s", b64) : NULL;
    return AUTHC_OK;
}

/* Entra multi-tenant endpoints: the token's issuer names the user's tenant
 * (tid), as Auth.js re-discovers it. */
static const char *entra_issuer(authc_arena *ar, const char *issuer, const char *id_token)
{
    json_t *peek = authc__jws_peek_claims(ar, id_token);
    const char *tid = json_string_value(json_object_get(peek, "tid"));
    const char *seg = strstr(issuer, "microsoftonline.com/");
    if (tid && seg && strlen(tid) < 64) {
        bool ok = true;
        for (const char *q = tid; *q; q++)
            if (!isalnum((unsigned char)*q) && *q != '-')
                ok = false;
        seg += strlen("microsoftonline.com/");
        size_t l = strcspn(seg, "/");
        if (ok)
            issuer = authc_arena_printf(ar, "%.*s%s%s", (int)(seg - issuer), issuer, tid, seg + l);
    }
    json_decref(peek);
    return issuer;
}

/* Twitch sends scope as an array. */
static authc_err twitch_tokens(authc_arena *ar, json_t *tj)
{
    json_t *sc = json_object_get(tj, "scope");
    if (json_is_array(sc)) {
        authc__buf b;
        authc__buf_init(&b, ar, 4096);
        size_t i;
        json_t *v;
        json_array_foreach(sc, i, v) {
            if (i)
                authc__buf_addc(&b, ' ');
            authc__buf_adds(&b, json_string_value(v) ? json_string_value(v) : "");
        }
        if (b.err)
            return b.err;
        json_object_set_new(tj, "scope", json_string(b.p));
    } else if (sc && !json_is_string(sc)) {
        json_object_del(tj, "scope");
    }
    return AUTHC_OK;
}

const authc__oauth_hooks AUTHC__HOOKS_NONE = {0};
const authc__oauth_hooks AUTHC__HOOKS_GITHUB = {.fetch_profile = github_profile, .github_api = true};
const authc__oauth_hooks AUTHC__HOOKS_DISCORD = {.map_user = discord_user};
const authc__oauth_hooks AUTHC__HOOKS_APPLE = {.profile_params = apple_params, .map_user = apple_user};
const authc__oauth_hooks AUTHC__HOOKS_ENTRA = {.map_user = entra_user, .id_token_issuer = entra_issuer,
                                               .token_body_errors = true, .tenant_issuer = true};
const authc__oauth_hooks AUTHC__HOOKS_TWITCH = {.fix_tokens = twitch_tokens};
