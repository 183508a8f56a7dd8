/* session_tokens.c — provider tokens kept with a JWT session
 * (AUTHC_REFRESH_TOKENS): claims at sign-in, rotation when due, GET /token. */
#include <string.h>

#include "core/core_int.h"
#include "core/db_tokens_int.h"

/* The claim names of the Auth.js refresh-token guide, plus whose they are. */
#define C_ACCESS  "access_token"
#define C_EXPIRES "expires_at"
#define C_REFRESH "refresh_token"
#define C_IDTOKEN "id_token"
#define C_PROV    "provider"
#define C_PSUB    "providerAccountId"
#define C_ERROR   "error"
#define REFRESH_ERROR AUTHC__REFRESH_ERROR

bool authc__federated_on(authc__ctx *c, const authc__provider *p, authc__end_session *es)
{
    authc__end_session tmp;
    if (!es)
        es = &tmp;
    memset(es, 0, sizeof *es);
    if (!p || !p->ops->end_session || !p->ops->end_session(c, p, es))
        return false;
    return es->enabled || c->a->federated_signout;
}

static void set_str(json_t *claims, const char *k, const char *v)
{
    if (v && strlen(v) <= AUTHC__TOKEN_MAX)
        json_object_set_new(claims, k, json_string(v));
}

authc_err authc__tokens_claims(authc__ctx *c, const authc_account *acct, json_t *claims)
{
    const authc *a = c->a;
    if (!acct || !acct->provider || !acct->access_token)
        return AUTHC_OK;
    const authc__provider *p = authc__provider_find(a, acct->provider);
    bool fed = acct->id_token && authc__federated_on(c, p, NULL);
    if (!a->refresh_tokens && !fed)
        return AUTHC_OK;
    set_str(claims, C_PROV, acct->provider);
    set_str(claims, C_PSUB, acct->provider_account_id);
    if (a->refresh_tokens) {
        set_str(claims, C_ACCESS, acct->access_token);
        if (acct->expires_at != AUTHC_NO_TIME && acct->expires_at > 0)
            json_object_set_new(claims, C_EXPIRES, json_integer(acct->expires_at));
        set_str(claims, C_REFRESH, acct->refresh_token);
    }
    if (fed) /* id_token_hint for RP-initiated logout, only when it is on */
        set_str(claims, C_IDTOKEN, acct->id_token);
    return AUTHC_OK;
}

static const char *claim(json_t *claims, const char *k)
{
    return json_string_value(json_object_get(claims, k));
}

authc_err authc__tokens_rotate(authc__ctx *c, json_t *claims, bool *changed, const char **error)
{
    const authc *a = c->a;
    *changed = false;
    *error = claim(claims, C_ERROR);
    if (*error && strcmp(*error, REFRESH_ERROR))
        *error = NULL;
    const char *rt = claim(claims, C_REFRESH), *pid = claim(claims, C_PROV);
    const authc__provider *p = pid ? authc__provider_find(a, pid) : NULL;
    if (!a->refresh_tokens || !rt || !p || !p->ops->refresh)
        return AUTHC_OK;
    json_t *ex = json_object_get(claims, C_EXPIRES);
    authc__tokens cur = {.access_token = claim(claims, C_ACCESS), .refresh_token = rt,
                         .id_token = claim(claims, C_IDTOKEN),
                         .expires_at = json_is_integer(ex) ? (int64_t)json_integer_value(ex) : 0};
    authc__grant_ud ud = {c, p, claim(claims, C_PSUB)};
    authc__rotate_opts opts = {.refresh_before_s = a->refresh_before};
    authc__tokens out;
    authc__rotate_result res;
    authc_err e = authc__rotate(a->store, c->ar, pid, &cur, &opts, authc__provider_grant, &ud, &out,
                                &res);
    if (e) {
        /* Fail closed: without the store no refresh token is sent. */
        authc__log(a, "error", "[auth][error] token refresh of %s skipped: the shared store failed (%s)",
                   pid, authc_strerror(e));
        return e == AUTHC_ERR_NOMEM ? e : AUTHC_OK;
    }
    switch (res) {
    case AUTHC__ROTATE_REFRESHED:
    case AUTHC__ROTATE_SUCCESSOR:
        set_str(claims, C_ACCESS, out.access_token);
        set_str(claims, C_REFRESH, out.refresh_token);
        if (out.expires_at > 0)
            json_object_set_new(claims, C_EXPIRES, json_integer(out.expires_at));
        else
            json_object_del(claims, C_EXPIRES);
        if (cur.id_token && out.id_token)
            set_str(claims, C_IDTOKEN, out.id_token);
        json_object_del(claims, C_ERROR);
        *error = NULL;
        *changed = true;
        break;
    case AUTHC__ROTATE_DEAD:
        /* The guide's contract; the dead token is never presented again. */
        json_object_set_new(claims, C_ERROR, json_string(REFRESH_ERROR));
        json_object_del(claims, C_REFRESH);
        *error = REFRESH_ERROR;
        *changed = true;
        break;
    default: /* fresh, or transient: keep the current tokens */
        break;
    }
    return AUTHC_OK;
}

/* ---- GET <base>/token?provider=ID ------------------------------------- */

static authc_err token_reply(authc__ctx *c, int status, const char *json)
{
    authc_err e = authc__res_header(c, "Cache-Control", "no-store");
    return e ? e : authc__res_json(c, status, json);
}

authc_err authc__action_token(authc__ctx *c)
{
    const authc *a = c->a;
    if (!a->token_endpoint && !c->skip_csrf) /* the C call needs no setting */
        return token_reply(c, 404, "{\"error\":\"NotFound\"}");
    const char *sfs = authc__ctx_header(c, "Sec-Fetch-Site");
    if (sfs && strcmp(sfs, "same-origin") && strcmp(sfs, "none"))
        return token_reply(c, 403, "{\"error\":\"Forbidden\"}");
    const char *pid = authc__map_first(&c->query, "provider");
    const authc__provider *p = pid ? authc__provider_find(a, pid) : NULL;
    if (!p)
        return token_reply(c, 404, "{\"error\":\"AccountNotLinked\"}");
    if (a->strategy != AUTHC__JWT) /* tokens in the accounts row */
        return authc__db_action_token(c, p);
    const char *tok = authc__session_read(c);
    int64_t now = authc__now_ms() / 1000;
    json_t *claims = NULL;
    if (!tok || authc__jwt_decode(c->ar, a->session_keys[c->secure], a->nsecrets, tok, strlen(tok), now,
                                  &claims))
        return token_reply(c, 401, "{\"error\":\"SessionRequired\"}");
    bool changed;
    const char *error;
    authc_err e = authc__tokens_rotate(c, claims, &changed, &error);
    const char *cp = claim(claims, C_PROV), *at = claim(claims, C_ACCESS);
    char *fresh = NULL;
    if (!e && changed && !(e = authc__jwt_encode(c->ar, &a->session_keys[c->secure][0], claims, a->max_age,
                                                now, &fresh)))
        e = authc__session_write(c, fresh, now + a->max_age);
    json_t *ex = json_object_get(claims, C_EXPIRES);
    int64_t exp = json_is_integer(ex) ? (int64_t)json_integer_value(ex) : 0;
    bool linked = cp && !strcmp(cp, p->id) && at, dead = error != NULL;
    if (!e && !dead && linked) /* at lives in claims: answer before the decref */
        e = authc__token_answer(c, p, at, NULL, exp, NULL);
    json_decref(claims);
    if (e || (!dead && linked))
        return e;
    return dead ? token_reply(c, 401, "{\"error\":\"" REFRESH_ERROR "\"}")
                 : token_reply(c, 404, "{\"error\":\"AccountNotLinked\"}");
}
