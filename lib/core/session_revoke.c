/* session_revoke.c — revocable sessions (lifecycle.md §3): authc's own
 * "authc" claim, the revocation check on every read, POST /sessions/revoke. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "core/core_int.h"
#include "jose/idtoken_int.h"
#include "lifecycle/revoke_int.h"
#include "store/store_int.h"

/* A fresh random session id: 16 bytes, base64url (22 characters) in out. */
static authc_err new_sid(char out[32])
{
    uint8_t rnd[16];
    authc_err e = authc__random(rnd, sizeof rnd);
    if (!e)
        out[authc__b64url_encode_to(out, rnd, sizeof rnd)] = '\0';
    return e;
}

/* Sets claims.authc = {sid, iat (ms), p, psid, psub}, keeping p/psid/psub
 * of prev (an older "authc" object) when account is NULL. */
static authc_err put_claim(json_t *claims, const authc_account *account, json_t *prev,
                           authc_arena *ar)
{
    char sid[32];
    authc_err e = new_sid(sid);
    json_t *o = json_object();
    if (e || !o) {
        json_decref(o);
        return e ? e : AUTHC_ERR_NOMEM;
    }
    json_object_set_new(o, "sid", json_string(sid));
    json_object_set_new(o, "iat", json_integer(authc__now_ms()));
    if (account && account->provider) {
        json_object_set_new(o, "p", json_string(account->provider));
        /* The id_token was verified by the callback; only read it here. */
        json_t *idt = account->id_token ? authc__jws_peek_claims(ar, account->id_token) : NULL;
        const char *psid = json_string_value(json_object_get(idt, "sid"));
        const char *psub = json_string_value(json_object_get(idt, "sub"));
        if (psid)
            json_object_set_new(o, "psid", json_string(psid));
        if (psub)
            json_object_set_new(o, "psub", json_string(psub));
        json_decref(idt);
    } else if (json_is_object(prev)) {
        static const char *const keep[] = {"p", "psid", "psub"};
        for (size_t i = 0; i < 3; i++) {
            json_t *v = json_object_get(prev, keep[i]);
            if (json_is_string(v))
                json_object_set(o, keep[i], v);
        }
    }
    return json_object_set_new(claims, "authc", o) ? AUTHC_ERR_NOMEM : AUTHC_OK;
}

authc_err authc__session_claim_add(authc__ctx *c, json_t *claims, const authc_account *account)
{
    return put_claim(claims, account, NULL, c->ar);
}

static const char *claim_str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* A foreign cookie's sign-in time: its iat (seconds, any JSON number). */
static int64_t iat_ms(double iat)
{
    double ms = iat * 1000;
    return ms >= 9.2e18 ? INT64_MAX : ms <= -9.2e18 ? INT64_MIN : (int64_t)ms;
}

static authc__sess_state state_of(authc__ctx *c, const authc__session_ident *id)
{
    const authc *a = c->a;
    bool revoked = false;
    authc_err e = authc__revoked(a->revoker, id, &revoked);
    if (e == AUTHC_ERR_NOMEM)
        return AUTHC__SESS_NOMEM;
    if (e) {
        authc__log(a, "error", "[auth][error] SessionRevocationCheck: store %s failed (%s); "
                   "the session is refused", authc__store_label(a->store), authc_strerror(e));
        return AUTHC__SESS_UNKNOWN;
    }
    return revoked ? AUTHC__SESS_REVOKED : AUTHC__SESS_VALID;
}

authc__sess_state authc__session_state(authc__ctx *c, json_t *claims, const char *user_id,
                                       int64_t touched_ms)
{
    authc__session_ident id = {.user_id = user_id, .signed_in_ms = touched_ms};
    if (claims) {
        json_t *own = json_object_get(claims, "authc");
        json_t *iat = json_object_get(own, "iat");
        id.user_id = claim_str(claims, "sub");
        if (json_is_object(own) && json_is_integer(iat)) {
            id.sid = claim_str(own, "sid");
            id.signed_in_ms = json_integer_value(iat);
            id.provider = claim_str(own, "p");
            id.psid = claim_str(own, "psid");
            id.psub = claim_str(own, "psub");
        } else {
            /* A cookie minted by Auth.js: only its iat says when it began. */
            json_t *jiat = json_object_get(claims, "iat");
            id.signed_in_ms = json_is_number(jiat) ? iat_ms(json_number_value(jiat)) : 0;
        }
    }
    return state_of(c, &id);
}

authc__sess_state authc__session_state_fields(authc__ctx *c, const authc__jwt_fields *f)
{
    authc__session_ident id = {.user_id = f->sub};
    if (f->own) {
        id.sid = f->sid;
        id.signed_in_ms = f->own_iat;
        id.provider = f->p;
        id.psid = f->psid;
        id.psub = f->psub;
    } else {
        id.signed_in_ms = f->has_iat ? iat_ms(f->iat) : 0;
    }
    return state_of(c, &id);
}

void authc__session_revoke_claims(authc__ctx *c, json_t *claims)
{
    const char *sid = claim_str(json_object_get(claims, "authc"), "sid");
    if (!sid)
        return; /* an Auth.js cookie: nothing names this copy alone */
    authc_err e = authc__revoke_session(c->a->revoker, sid);
    if (e)
        authc__log(c->a, "error", "[auth][error] SignOutError: could not revoke the session in "
                   "store %s (%s)", authc__store_label(c->a->store), authc_strerror(e));
}

authc_err authc_revoke_user(const authc *a, const char *user_id)
{
    if (!a || !user_id || !*user_id)
        return AUTHC_ERR_INVALID;
    authc_err e = authc__revoke_user(a->revoker, user_id, authc__now_ms());
    if (e)
        authc__log(a, "error", "[auth][error] could not revoke the sessions of a user in store %s (%s)",
                   authc__store_label(a->store), authc_strerror(e));
    return e;
}

/* "others": a fresh session for this browser, signed in after the mark. */
static authc_err reissue(authc__ctx *c, const authc_user *u, const char *db_token, int64_t mark)
{
    const authc *a = c->a;
    while (authc__now_ms() <= mark)
        ; /* at most a millisecond: the new session must postdate the mark */
    int64_t now = authc__now_ms() / 1000;
    if (a->strategy == AUTHC__DATABASE && db_token) {
        (void)a->adapter->ops->delete_session(a->adapter, c->ar, db_token, NULL);
        return authc__session_issue(c, u, NULL, false);
    }
    const char *tok = authc__session_read(c);
    json_t *claims = NULL;
    authc_err e = tok ? authc__jwt_decode(c->ar, a->session_keys[c->secure], a->nsecrets, tok,
                                          strlen(tok), now, &claims)
                      : AUTHC_ERR_INVALID;
    if (e)
        return e;
    json_t *prev = json_incref(json_object_get(claims, "authc"));
    char *fresh = NULL;
    e = put_claim(claims, NULL, prev, c->ar);
    if (!e)
        e = authc__jwt_encode(c->ar, &a->session_keys[c->secure][0], claims, a->max_age, now, &fresh);
    json_decref(prev);
    json_decref(claims);
    return e ? e : authc__session_write(c, fresh, now + a->max_age);
}

authc_err authc__action_sessions(authc__ctx *c)
{
    const authc *a = c->a;
    authc_err e = authc__res_header(c, "Cache-Control", "no-store");
    if (e)
        return e;
    if (!c->subpath || strcmp(c->subpath, "revoke"))
        return authc__res_json(c, 404, "{\"error\":\"not_found\"}");
    if (!c->csrf_verified)
        return authc__res_json(c, 403, "{\"error\":\"MissingCSRF\"}");
    const char *scope = authc__map_last(&c->body, "scope");
    bool others = scope && !strcmp(scope, "others");
    if (scope && !others && strcmp(scope, "all"))
        return authc__res_json(c, 400, "{\"error\":\"InvalidScope\"}");
    authc_user *u = NULL;
    const char *db_token = NULL;
    e = authc__session_current(c, &u, NULL, &db_token);
    if (e == AUTHC_ERR_NOMEM)
        return e;
    if (e || !u || !u->id)
        return authc__res_json(c, 401, "{\"error\":\"SessionRequired\"}");
    int64_t mark = authc__now_ms();
    if ((e = authc__revoke_user(a->revoker, u->id, mark))) {
        authc__log(a, "error", "[auth][error] sessions/revoke: store %s failed (%s)",
                   authc__store_label(a->store), authc_strerror(e));
        return authc__res_json(c, 503, "{\"error\":\"StoreUnavailable\"}");
    }
    c->log_line = authc_arena_printf(c->ar, "sessions revoke scope=%s user=%s",
                                     others ? "others" : "all", u->id);
    if (!others) {
        if (db_token)
            (void)a->adapter->ops->delete_session(a->adapter, c->ar, db_token, NULL);
        e = authc__session_write(c, NULL, -1);
        if (!e && a->strategy == AUTHC__DATABASE)
            e = authc__cookie_push(c, &c->cookies_out, c->ck[AUTHC__CK_SESSION], "", 0, -1);
        return e ? e : authc__res_json(c, 200, "{\"revoked\":\"all\"}");
    }
    e = reissue(c, u, db_token, mark);
    return e ? e : authc__res_json(c, 200, "{\"revoked\":\"others\"}");
}

/* Database sessions know no provider sid: remember whose it is, so a
 * back-channel logout naming only the sid finds the user. */
void authc__session_note_provider(authc__ctx *c, const authc_account *account, const char *user_id)
{
    json_t *idt = account && account->id_token && user_id
                      ? authc__jws_peek_claims(c->ar, account->id_token) : NULL;
    const char *psid = json_string_value(json_object_get(idt, "sid"));
    char key[AUTHC__HASHED_KEY_MAX];
    if (psid && authc__hashed_key(key, "bcls", account->provider, psid)) {
        authc_err e = authc__store_set(c->a->store, key, user_id, strlen(user_id),
                                       c->a->max_age * 1000);
        if (e)
            authc__log(c->a, "error", "[auth][error] could not record the provider session in "
                       "store %s (%s); back-channel logout by sid will miss it",
                       authc__store_label(c->a->store), authc_strerror(e));
    }
    json_decref(idt);
}

/* The database user a provider sid (recorded at sign-in) or sub names. */
static authc_err provider_user(authc__ctx *c, const char *psid, const char *psub, const char **uid)
{
    const authc *a = c->a;
    const char *prov = c->provider->id;
    *uid = NULL;
    if (psid) {
        char key[AUTHC__HASHED_KEY_MAX];
        authc__store_val v = {0};
        if (!authc__hashed_key(key, "bcls", prov, psid))
            return AUTHC_ERR_CRYPTO;
        authc_err e = authc__store_get(a->store, c->ar, key, &v);
        *uid = (const char *)v.data;
        return e;
    }
    authc_user *u = NULL;
    authc_err e = a->adapter->ops->get_user_by_account(a->adapter, c->ar, prov, psub, &u);
    *uid = u ? u->id : NULL;
    return e;
}

authc_err authc__end_provider_sessions(authc__ctx *c, const char *psid, const char *psub,
                                       bool clear_here)
{
    const authc *a = c->a;
    const char *prov = c->provider->id;
    int64_t now = authc__now_ms();
    /* The sid names one provider session; the sub only without it. */
    authc_err e = authc__revoke_provider(a->revoker, prov, psid, psid ? NULL : psub, now);
    if (!e && a->adapter && a->strategy == AUTHC__DATABASE) {
        const char *uid = NULL;
        e = provider_user(c, psid, psub, &uid);
        if (!e && uid)
            e = authc__revoke_user(a->revoker, uid, now);
    }
    if (e) {
        authc__log(a, "error", "[auth][error] provider logout for %s: store %s or adapter failed (%s)",
                   prov, authc__store_label(a->store), authc_strerror(e));
        return AUTHC_ERR_ADAPTER;
    }
    const char *tok = clear_here && a->strategy == AUTHC__JWT ? authc__session_read(c) : NULL;
    json_t *claims = NULL;
    if (tok && !authc__jwt_decode(c->ar, a->session_keys[c->secure], a->nsecrets, tok,
                                  strlen(tok), now / 1000, &claims)) {
        json_t *own = json_object_get(claims, "authc");
        const char *p = claim_str(own, "p"), *mine = claim_str(own, psid ? "psid" : "psub");
        const char *want = psid ? psid : psub;
        if (p && !strcmp(p, prov) && mine && want && !strcmp(mine, want))
            e = authc__session_write(c, NULL, -1);
        json_decref(claims);
    }
    return e;
}
