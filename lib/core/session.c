/* session.c — GET/POST /session for both strategies (JWT cookie re-issued
 * on every read; database row extended per updateAge), and session issue. */
#include <string.h>

#include "core/core_int.h"
#include "core/db_tokens_int.h"

/* Starts "key": after a comma unless it is the first member. */
static void member_key(authc__buf *b, bool *first, const char *key)
{
    if (!*first)
        authc__buf_addc(b, ',');
    *first = false;
    authc__buf_add_json_str(b, key);
    authc__buf_addc(b, ':');
}

/* Appends "key":<value> for a JSON member that exists in obj (null kept,
 * absent omitted, as JSON.stringify does with undefined). */
static void add_member(authc__buf *b, bool *first, const char *key, json_t *v)
{
    if (!v)
        return;
    member_key(b, first, key);
    if (json_is_string(v)) {
        authc__buf_add_json_str(b, json_string_value(v));
    } else {
        char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        authc__buf_adds(b, d ? d : "null");
        free(d);
    }
}

static void add_str_member(authc__buf *b, bool *first, const char *key, const char *v)
{
    if (!v)
        return;
    member_key(b, first, key);
    authc__buf_add_json_str(b, v);
}

/* The Auth.js refresh guide's session.error ("RefreshTokenError"). */
static void add_error(authc__buf *b, const char *error)
{
    if (error) {
        authc__buf_adds(b, ",\"error\":");
        authc__buf_add_json_str(b, error);
    }
}

static authc_err reply_null(authc__ctx *c)
{
    authc_err e = c->post ? AUTHC_OK : authc__res_nocache(c);
    return e ? e : authc__res_json(c, 200, "null");
}

static authc_err reply_body(authc__ctx *c, authc__buf *b)
{
    if (b->err)
        return b->err;
    authc_err e = c->post ? AUTHC_OK : authc__res_nocache(c);
    return e ? e : authc__res_body(c, 200, "application/json", b->p, b->len);
}

static void fire(authc__ctx *c, const char *name, const authc_user *u, const char *provider)
{
    if (c->a->cb.event)
        c->a->cb.event(c->a->cb.ud, name, u, provider);
}

/* A cookie that decoded to no valid session: cleared, and the answer null. */
static authc_err reject(authc__ctx *c, authc_err why, bool revoked)
{
    authc__log(c->a, "warn", "[auth][error] JWTSessionError: session cookie rejected (%s); cleared",
               revoked ? "revoked" : authc_strerror(why));
    authc_err e = authc__session_write(c, NULL, -1);
    return e ? e : reply_null(c);
}

/* The one decode of the fast path: the scanner's claims answer the
 * revocation check, the body and (for forward-auth) the view; the cookie
 * is re-issued from the same text. AUTHC_ERR_UNSUPPORTED: use the general
 * path. */
static authc_err jwt_session_fast(authc__ctx *c, const char *tok, int64_t now, int64_t exp,
                                  const char *iso)
{
    const authc *a = c->a;
    authc__jwt_fields *f = authc_arena_alloc(c->ar, sizeof *f);
    if (!f)
        return AUTHC_ERR_NOMEM;
    char *fresh = NULL;
    authc_err e = authc__jwt_refresh_fields(c->ar, a->session_keys[c->secure], a->nsecrets,
                                            &a->session_keys[c->secure][0], tok, strlen(tok), now,
                                            a->max_age, c->session_view != NULL, &fresh, f);
    if (e == AUTHC_ERR_UNSUPPORTED || e == AUTHC_ERR_NOMEM)
        return e; /* out of memory is no reason to sign the user out */
    if (e)
        return reject(c, e, false);
    authc__sess_state st = authc__session_state_fields(c, f);
    if (st == AUTHC__SESS_NOMEM)
        return AUTHC_ERR_NOMEM;
    if (st == AUTHC__SESS_UNKNOWN)
        return reply_null(c); /* fail closed, but keep the cookie for when the store is back */
    if (st == AUTHC__SESS_REVOKED)
        return reject(c, AUTHC_OK, true);
    /* {"user":{<members>},"expires":"<iso>"}: the members are the token's
     * own JSON text; one reservation for all of it. */
    static const char *const keys[3] = {"\"name\":", "\"email\":", "\"image\":"};
    size_t ml[3] = {0}, need = 32 + strlen(iso);
    for (int i = 0; i < 3; i++)
        if (f->user_json[i])
            need += 10 + (ml[i] = strlen(f->user_json[i]));
    authc__buf b;
    authc__buf_init(&b, c->ar, 64 * 1024);
    authc__buf_reserve(&b, need);
    bool first = true;
    authc__buf_adds(&b, "{\"user\":{");
    for (int i = 0; i < 3; i++)
        if (f->user_json[i]) {
            if (!first)
                authc__buf_addc(&b, ',');
            first = false;
            authc__buf_adds(&b, keys[i]);
            authc__buf_add(&b, f->user_json[i], ml[i]);
        }
    authc__buf_adds(&b, "},\"expires\":\"");
    authc__buf_adds(&b, iso); /* digits, '-', ':', '.', 'T', 'Z': nothing to escape */
    authc__buf_adds(&b, "\"}");
    if ((e = authc__session_write(c, fresh, exp)))
        return e;
    if (c->session_view)
        c->session_view->fields = f;
    fire(c, "session", NULL, NULL);
    return reply_body(c, &b);
}

static authc_err jwt_session(authc__ctx *c)
{
    const authc *a = c->a;
    const char *tok = authc__session_read(c);
    if (!tok)
        return reply_null(c);
    int64_t now_ms = authc__now_ms(), now = now_ms / 1000;
    int64_t exp = now + a->max_age;
    char iso[32];
    authc__iso8601(iso, now_ms + a->max_age * 1000); /* JS Date keeps ms */
    /* The answer and the new cookie come from the fast path (no JSON tree:
     * jansson may corrupt strings when an allocation fails); the general
     * path for tokens it does not handle and for token rotation. */
    authc_err e = a->refresh_tokens ? AUTHC_ERR_UNSUPPORTED : jwt_session_fast(c, tok, now, exp, iso);
    if (e != AUTHC_ERR_UNSUPPORTED)
        return e;
    authc__buf b;
    authc__buf_init(&b, c->ar, 64 * 1024);
    bool first = true;
    char *fresh = NULL;
    json_t *claims = NULL;
    e = authc__jwt_decode(c->ar, a->session_keys[c->secure], a->nsecrets, tok, strlen(tok), now,
                          &claims);
    /* jansson reports some allocation failures as syntax errors: decode
     * once more before clearing a cookie that may be perfectly valid. */
    if (e == AUTHC_ERR_INVALID)
        e = authc__jwt_decode(c->ar, a->session_keys[c->secure], a->nsecrets, tok, strlen(tok),
                              now, &claims);
    if (e == AUTHC_ERR_NOMEM)
        return e; /* out of memory is no reason to sign the user out */
    if (e)
        return reject(c, e, false);
    authc__sess_state st = authc__session_state(c, claims, NULL, 0);
    if (st != AUTHC__SESS_VALID) {
        json_decref(claims);
        /* Fail closed, but keep the cookie for when the store is back. */
        return st == AUTHC__SESS_NOMEM ? AUTHC_ERR_NOMEM
             : st == AUTHC__SESS_UNKNOWN ? reply_null(c) : reject(c, AUTHC_OK, true);
    }
    bool changed;
    const char *tok_error = NULL;
    if ((e = authc__tokens_rotate(c, claims, &changed, &tok_error))) {
        json_decref(claims);
        return e;
    }
    authc__buf_adds(&b, "{\"user\":{");
    add_member(&b, &first, "name", json_object_get(claims, "name"));
    add_member(&b, &first, "email", json_object_get(claims, "email"));
    add_member(&b, &first, "image", json_object_get(claims, "picture"));
    authc__buf_adds(&b, "},\"expires\":");
    authc__buf_add_json_str(&b, iso);
    add_error(&b, tok_error);
    authc__buf_addc(&b, '}');
    e = authc__jwt_encode(c->ar, &a->session_keys[c->secure][0], claims, a->max_age, now, &fresh);
    if (!e)
        e = authc__session_write(c, fresh, exp);
    if (!e && c->session_view)
        c->session_view->claims = json_incref(claims);
    json_decref(claims);
    if (e)
        return e;
    fire(c, "session", NULL, NULL);
    return reply_body(c, &b);
}

static authc_err db_session(authc__ctx *c)
{
    const authc *a = c->a;
    authc_adapter *ad = a->adapter;
    const char *tok = authc__map_first(&c->cookies, c->ck[AUTHC__CK_SESSION]);
    if (!tok || !*tok)
        return reply_null(c);
    authc_session_row *s = NULL;
    authc_user *u = NULL;
    authc_err e = ad->ops->get_session_and_user(ad, c->ar, tok, &s, &u);
    if (e) {
        /* Adapter failure: no session now, but keep the cookie for when the
         * database is back (Auth.js SessionTokenError). */
        authc__adapter_error(a, "getSessionAndUser");
        authc__log(a, "error", "[auth][error] SessionTokenError: %s adapter: %s", ad->ops->name,
                   authc_strerror(e));
        return reply_null(c);
    }
    int64_t now = authc__now_ms();
    authc__sess_state st = s && u ? authc__session_state(c, NULL, u->id, s->expires - a->max_age * 1000)
                                  : AUTHC__SESS_VALID;
    if (st == AUTHC__SESS_NOMEM)
        return AUTHC_ERR_NOMEM;
    if (st == AUTHC__SESS_UNKNOWN)
        return reply_null(c); /* fail closed, but keep the cookie */
    if (!s || !u || s->expires < now || st == AUTHC__SESS_REVOKED) {
        if (s && ad->ops->delete_session)
            (void)ad->ops->delete_session(ad, c->ar, tok, NULL);
        e = authc__session_write(c, NULL, -1);
        return e ? e : reply_null(c);
    }
    int64_t stored = s->expires;
    if (stored - a->max_age * 1000 + a->update_age * 1000 <= now) {
        authc_session_row upd = {.session_token = tok, .user_id = s->user_id,
                                 .expires = now + a->max_age * 1000};
        authc_session_row *out = NULL;
        e = ad->ops->update_session(ad, c->ar, &upd, &out);
        if (e)
            authc__adapter_error(a, "updateSession");
        if (e)
            authc__log(a, "error", "[auth][error] SessionTokenError: could not extend session in %s: %s",
                       ad->ops->name, authc_strerror(e));
    }
    const char *tok_error = NULL; /* provider tokens refreshed when due */
    if ((e = authc__db_tokens_session(c, u->id, &tok_error)))
        return e;
    char iso[32];
    authc__iso8601(iso, stored); /* Auth.js shows the pre-extension expiry */
    authc__buf b;
    authc__buf_init(&b, c->ar, 64 * 1024);
    bool first = true;
    authc__buf_adds(&b, "{\"user\":{");
    /* Database users have every column: a missing value is JSON null, as
     * Auth.js prints the row it read. */
    json_t *jn = json_null();
    u->name ? add_str_member(&b, &first, "name", u->name) : add_member(&b, &first, "name", jn);
    u->email ? add_str_member(&b, &first, "email", u->email) : add_member(&b, &first, "email", jn);
    u->image ? add_str_member(&b, &first, "image", u->image) : add_member(&b, &first, "image", jn);
    authc__buf_adds(&b, "},\"expires\":");
    authc__buf_add_json_str(&b, iso);
    add_error(&b, tok_error);
    authc__buf_addc(&b, '}');
    e = authc__cookie_push(c, &c->cookies_out, c->ck[AUTHC__CK_SESSION], tok, -1,
                           now / 1000 + a->max_age);
    if (e)
        return e;
    if (c->session_view)
        c->session_view->user = u;
    fire(c, "session", u, NULL);
    return reply_body(c, &b);
}

authc_err authc__action_session(authc__ctx *c)
{
    if (c->post && !c->csrf_verified)
        return authc__fail(c, AUTHC_ERR_MISSING_CSRF, "POST /session without a valid csrfToken");
    return c->a->strategy == AUTHC__JWT ? jwt_session(c) : db_session(c);
}

authc_err authc__session_issue(authc__ctx *c, const authc_user *user,
                               const authc_account *account, bool is_new_user)
{
    const authc *a = c->a;
    (void)is_new_user;
    bool jwt = a->strategy == AUTHC__JWT || (account && account->type &&
                                             !strcmp(account->type, "credentials"));
    int64_t now_ms = authc__now_ms(), now = now_ms / 1000;
    if (jwt) {
        json_t *claims = json_object();
        if (!claims)
            return AUTHC_ERR_NOMEM;
        /* A user read from the database has null columns where Auth.js
         * keeps null; a credentials or adapter-less profile omits them. */
        bool db_user = a->adapter && !(account && account->type && !strcmp(account->type, "credentials"));
        const char *vals[3] = {user->name, user->email, user->image};
        const char *keys[3] = {"name", "email", "picture"};
        /* Any member that fails to set is OOM: never mint a token without it. */
        bool bad = false;
        for (int i = 0; i < 3; i++) {
            if (vals[i])
                bad |= json_object_set_new(claims, keys[i], json_string(vals[i])) != 0;
            else if (db_user)
                bad |= json_object_set_new(claims, keys[i], json_null()) != 0;
        }
        if (user->id)
            bad |= json_object_set_new(claims, "sub", json_string(user->id)) != 0;
        if (bad) {
            json_decref(claims);
            return AUTHC_ERR_NOMEM;
        }
        char *tok = NULL;
        authc_err e = authc__session_claim_add(c, claims, account);
        if (!e)
            e = authc__tokens_claims(c, account, claims);
        if (!e)
            e = authc__jwt_encode(c->ar, &a->session_keys[c->secure][0], claims, a->max_age, now, &tok);
        json_decref(claims);
        return e ? e : authc__session_write(c, tok, now + a->max_age);
    }
    authc_adapter *ad = a->adapter;
    char token[37];
    authc_err e = authc__uuid(token);
    if (e)
        return e;
    authc_session_row in = {.session_token = token, .user_id = user->id,
                            .expires = now_ms + a->max_age * 1000};
    authc_session_row *out = NULL;
    e = ad->ops->create_session(ad, c->ar, &in, &out);
    if (e)
        return authc__fail(c, e, "AdapterError: create_session failed in %s", ad->ops->name);
    authc__session_note_provider(c, account, user->id);
    const char *t = out && out->session_token ? out->session_token : authc_arena_strdup(c->ar, token);
    authc__db_session_begin(c, t, account); /* provider tokens into the row */
    int64_t exp = out ? out->expires : in.expires;
    return authc__cookie_push(c, &c->cookies_out, c->ck[AUTHC__CK_SESSION], t, -1, exp / 1000);
}

authc_err authc__session_current(authc__ctx *c, authc_user **user, int64_t *expires_ms,
                                 const char **db_token)
{
    const authc *a = c->a;
    *user = NULL;
    if (db_token)
        *db_token = NULL;
    if (a->strategy == AUTHC__JWT) {
        const char *tok = authc__session_read(c);
        if (!tok)
            return AUTHC_OK;
        json_t *claims = NULL;
        if (authc__jwt_decode(c->ar, a->session_keys[c->secure], a->nsecrets, tok, strlen(tok),
                              authc__now_ms() / 1000, &claims))
            return AUTHC_OK;
        authc__sess_state st = authc__session_state(c, claims, NULL, 0);
        if (st != AUTHC__SESS_VALID) {
            json_decref(claims);
            return st == AUTHC__SESS_NOMEM ? AUTHC_ERR_NOMEM : AUTHC_OK;
        }
        authc_user *u = authc_arena_alloc(c->ar, sizeof *u);
        if (!u) {
            json_decref(claims);
            return AUTHC_ERR_NOMEM;
        }
        u->id = authc_arena_strdup(c->ar, json_string_value(json_object_get(claims, "sub")));
        u->name = authc_arena_strdup(c->ar, json_string_value(json_object_get(claims, "name")));
        u->email = authc_arena_strdup(c->ar, json_string_value(json_object_get(claims, "email")));
        u->image = authc_arena_strdup(c->ar, json_string_value(json_object_get(claims, "picture")));
        u->email_verified = AUTHC_NO_TIME;
        json_t *exp = json_object_get(claims, "exp");
        int64_t sec; /* exp was checked to be in the future, not to be small */
        if (expires_ms)
            *expires_ms = authc__json_int(exp, &sec) && sec < INT64_MAX / 1000 ? sec * 1000 : AUTHC_NO_TIME;
        json_decref(claims);
        *user = u;
        return AUTHC_OK;
    }
    authc_adapter *ad = a->adapter;
    const char *tok = authc__map_first(&c->cookies, c->ck[AUTHC__CK_SESSION]);
    if (!tok || !*tok)
        return AUTHC_OK;
    authc_session_row *s = NULL;
    authc_user *u = NULL;
    authc_err e = ad->ops->get_session_and_user(ad, c->ar, tok, &s, &u);
    if (e)
        return authc__fail(c, e, "AdapterError: get_session_and_user failed in %s", ad->ops->name);
    if (!s || !u || s->expires < authc__now_ms())
        return AUTHC_OK;
    authc__sess_state st = authc__session_state(c, NULL, u->id, s->expires - a->max_age * 1000);
    if (st != AUTHC__SESS_VALID)
        return st == AUTHC__SESS_NOMEM ? AUTHC_ERR_NOMEM : AUTHC_OK;
    if (expires_ms)
        *expires_ms = s->expires;
    if (db_token)
        *db_token = tok;
    *user = u;
    return AUTHC_OK;
}
