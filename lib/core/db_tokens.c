/* db_tokens.c — provider tokens of database sessions (lifecycle.md §1, §2):
 * kept in the accounts row, rotated with the store's single flight. */
#include <stdatomic.h>
#include <string.h>

#include "core/db_tokens_int.h"

authc__grant_result authc__provider_grant(void *ud, authc_arena *ar, const authc__tokens *cur,
                                          authc__tokens *out)
{
    (void)ar;
    authc__grant_ud *g = ud;
    authc__refreshed r;
    authc__refresh_result res = g->p->ops->refresh(g->c, g->p, cur->refresh_token, g->sub, &r);
    if (res != AUTHC__REFRESH_OK)
        return res == AUTHC__REFRESH_DEAD ? AUTHC__GRANT_DEAD : AUTHC__GRANT_TRANSIENT;
    *out = (authc__tokens){.access_token = r.access_token, .refresh_token = r.refresh_token,
                           .id_token = r.id_token, .expires_at = r.expires_at};
    return AUTHC__GRANT_OK;
}

authc_err authc__token_answer(authc__ctx *c, const authc__provider *p, const char *access_token,
                              const char *token_type, int64_t expires_at, const char *scope)
{
    authc__buf b;
    authc__buf_init(&b, c->ar, 32 * 1024);
    authc__buf_adds(&b, "{\"provider\":");
    authc__buf_add_json_str(&b, p->id);
    authc__buf_adds(&b, ",\"access_token\":");
    authc__buf_add_json_str(&b, access_token);
    if (token_type) {
        authc__buf_adds(&b, ",\"token_type\":");
        authc__buf_add_json_str(&b, token_type);
    }
    if (expires_at > 0 && expires_at != AUTHC_NO_TIME)
        authc__buf_adds(&b, authc_arena_printf(c->ar, ",\"expires_at\":%lld", (long long)expires_at));
    if (scope) {
        authc__buf_adds(&b, ",\"scope\":");
        authc__buf_add_json_str(&b, scope);
    }
    authc__buf_addc(&b, '}');
    if (b.err)
        return b.err;
    authc_err e = authc__res_header(c, "Cache-Control", "no-store");
    return e ? e : authc__res_body(c, 200, "application/json", b.p, b.len);
}

static authc_err adapter_failed(authc__ctx *c, const char *op, authc_err e)
{
    authc__adapter_error(c->a, op);
    authc__log(c->a, "error", "[auth][error] %s failed in %s: %s", op, c->a->adapter->ops->name,
               authc_strerror(e));
    return e == AUTHC_ERR_NOMEM ? e : AUTHC_ERR_ADAPTER;
}

/* After the rotation: the row's new state in *row, written when this
 * request ran the grant. */
static void rotated(authc__ctx *c, authc_account *row, const authc__tokens *t, bool write)
{
    authc_adapter *ad = c->a->adapter;
    row->access_token = t->access_token;
    row->refresh_token = t->refresh_token;
    row->expires_at = t->expires_at > 0 ? t->expires_at : AUTHC_NO_TIME;
    if (t->id_token)
        row->id_token = t->id_token;
    authc_err e = write ? ad->ops->update_account_tokens(ad, c->ar, row, NULL) : AUTHC_OK;
    if (e)
        /* The successor record still hands them out for its window. */
        adapter_failed(c, "updateAccountTokens", e);
}

authc_err authc__db_tokens_fresh(authc__ctx *c, const char *user_id, const authc__provider *p,
                                 authc_account **acct, const char **error)
{
    const authc *a = c->a;
    authc_adapter *ad = a->adapter;
    *acct = NULL;
    *error = NULL;
    if (!ad || !ad->ops->get_account_by_user) {
        static atomic_bool said; /* once per process: it holds for every request */
        if (!atomic_exchange(&said, true))
            authc__log(a, "warn", "[auth][warn] the %s adapter has no getAccountByUser: database "
                       "sessions carry no provider tokens", ad ? ad->ops->name : "(none)");
        return AUTHC_OK;
    }
    authc_account *row = NULL;
    authc_err e = ad->ops->get_account_by_user(ad, c->ar, user_id, p->id, &row);
    if (e)
        return adapter_failed(c, "getAccountByUser", e);
    *acct = row;
    if (!row || !a->refresh_tokens || !p->ops->refresh || !row->refresh_token ||
        !ad->ops->update_account_tokens)
        return AUTHC_OK;
    authc__tokens cur = {.access_token = row->access_token, .refresh_token = row->refresh_token,
                         .id_token = row->id_token,
                         .expires_at = row->expires_at == AUTHC_NO_TIME ? 0 : row->expires_at},
                  out;
    authc__grant_ud ud = {c, p, row->provider_account_id};
    authc__rotate_opts opts = {.refresh_before_s = a->refresh_before};
    authc__rotate_result res;
    e = authc__rotate(a->store, c->ar, p->id, &cur, &opts, authc__provider_grant, &ud, &out, &res);
    if (e) {
        authc__log(a, "error", "[auth][error] token refresh of %s skipped: the shared store failed (%s)",
                   p->id, authc_strerror(e));
        return e == AUTHC_ERR_NOMEM ? e : AUTHC_OK;
    }
    if (res == AUTHC__ROTATE_REFRESHED || res == AUTHC__ROTATE_SUCCESSOR) {
        rotated(c, row, &out, res == AUTHC__ROTATE_REFRESHED);
    } else if (res == AUTHC__ROTATE_DEAD) {
        /* Read again: a row rotated long ago (successor gone) is not dead. */
        authc_account *now = NULL;
        if ((e = ad->ops->get_account_by_user(ad, c->ar, user_id, p->id, &now)))
            return adapter_failed(c, "getAccountByUser", e);
        if (now && now->refresh_token && strcmp(now->refresh_token, cur.refresh_token))
            *acct = now;
        else
            *error = AUTHC__REFRESH_ERROR;
    }
    return AUTHC_OK;
}

authc_err authc__db_tokens_session(authc__ctx *c, const char *user_id, const char **error)
{
    const authc *a = c->a;
    *error = NULL;
    if (!a->refresh_tokens)
        return AUTHC_OK;
    for (size_t i = 0; i < a->nproviders; i++) {
        const authc__provider *p = &a->providers[i];
        authc_account *acct;
        const char *err;
        if (!p->ops->refresh)
            continue;
        authc_err e = authc__db_tokens_fresh(c, user_id, p, &acct, &err);
        if (e == AUTHC_ERR_NOMEM)
            return e;
        if (err)
            *error = err;
    }
    return AUTHC_OK;
}

authc_err authc__db_action_token(authc__ctx *c, const authc__provider *p)
{
    authc_user *u = NULL;
    authc_err e = authc__session_current(c, &u, NULL, NULL);
    if (e == AUTHC_ERR_NOMEM)
        return e;
    if (e || !u || !u->id) {
        e = authc__res_header(c, "Cache-Control", "no-store");
        return e ? e : authc__res_json(c, 401, "{\"error\":\"SessionRequired\"}");
    }
    authc_account *acct = NULL;
    const char *error = NULL;
    if ((e = authc__db_tokens_fresh(c, u->id, p, &acct, &error)) == AUTHC_ERR_NOMEM)
        return e;
    if (!e && !error && acct && acct->access_token)
        return authc__token_answer(c, p, acct->access_token, acct->token_type, acct->expires_at,
                                   acct->scope);
    int status = e ? 503 : error ? 401 : 404;
    const char *body = e ? "{\"error\":\"AdapterError\"}"
                       : error ? "{\"error\":\"" AUTHC__REFRESH_ERROR "\"}"
                               : "{\"error\":\"AccountNotLinked\"}";
    if ((e = authc__res_header(c, "Cache-Control", "no-store")))
        return e;
    return authc__res_json(c, status, body);
}

/* The store key naming the provider of a database session. */
static bool provider_key(char key[AUTHC__HASHED_KEY_MAX], const char *session_token)
{
    return authc__hashed_key(key, "dbsp", "session", session_token);
}

void authc__db_session_begin(authc__ctx *c, const char *session_token, const authc_account *account)
{
    const authc *a = c->a;
    authc_adapter *ad = a->adapter;
    const authc__provider *p = account && account->provider ? authc__provider_find(a, account->provider)
                                                            : NULL;
    if (!p || !account->access_token || !(a->refresh_tokens || authc__federated_on(c, p, NULL)))
        return;
    char key[AUTHC__HASHED_KEY_MAX];
    authc_err e = provider_key(key, session_token)
                      ? authc__store_set(a->store, key, p->id, strlen(p->id), a->max_age * 1000)
                      : AUTHC_ERR_CRYPTO;
    if (e)
        authc__log(a, "error", "[auth][error] could not record the provider of a session in store "
                   "%s (%s); federated sign-out will look it up", authc__store_label(a->store),
                   authc_strerror(e));
    if (!ad->ops->update_account_tokens)
        return;
    authc_account patch = *account, *stored = NULL;
    if (!patch.refresh_token && ad->ops->get_account &&
        !ad->ops->get_account(ad, c->ar, account->provider_account_id, account->provider, &stored) &&
        stored)
        patch.refresh_token = stored->refresh_token; /* Google sends one at first consent only */
    if ((e = ad->ops->update_account_tokens(ad, c->ar, &patch, NULL)))
        adapter_failed(c, "updateAccountTokens", e);
}

/* The provider the session signed in with (recorded at sign-in), else the
 * first one with federated sign-out on where the user has an id_token. */
static authc_err signout_account(authc__ctx *c, const char *session_token, const char *user_id,
                                 const authc__provider **prov, authc_account **acct)
{
    const authc *a = c->a;
    authc_adapter *ad = a->adapter;
    char key[AUTHC__HASHED_KEY_MAX];
    authc__store_val v = {0};
    *prov = NULL;
    *acct = NULL;
    if (provider_key(key, session_token) && !authc__store_get(a->store, c->ar, key, &v) && v.data)
        (void)authc__store_delete(a->store, key, NULL);
    const char *pid = v.data ? authc_arena_strndup(c->ar, (const char *)v.data, v.len) : NULL;
    for (size_t i = 0; i < a->nproviders && !*acct; i++) {
        const authc__provider *p = &a->providers[i];
        if ((pid && strcmp(p->id, pid)) || !authc__federated_on(c, p, NULL))
            continue;
        authc_err e = ad->ops->get_account_by_user(ad, c->ar, user_id, p->id, acct);
        if (e)
            return adapter_failed(c, "getAccountByUser", e);
        if (*acct && !(*acct)->id_token)
            *acct = NULL;
        *prov = p;
    }
    return AUTHC_OK;
}

authc_err authc__db_signout_federated(authc__ctx *c, const char *session_token,
                                      const char *user_id, const char **url)
{
    *url = NULL;
    const authc__provider *p;
    authc_account *acct;
    if (!user_id || !c->a->adapter->ops->get_account_by_user)
        return AUTHC_OK;
    authc_err e = signout_account(c, session_token, user_id, &p, &acct);
    if (e == AUTHC_ERR_NOMEM)
        return e;
    /* An adapter failure: sign out locally, as Auth.js would. */
    return e || !acct ? AUTHC_OK : authc__signout_federated_to(c, p, acct->id_token, url);
}

const char *authc__db_forward_token(authc__ctx *c, const char *user_id)
{
    const authc *a = c->a;
    if (!a->forward_pass_access_token || !a->adapter || !user_id)
        return NULL;
    for (size_t i = 0; i < a->nproviders; i++) {
        const authc__provider *p = &a->providers[i];
        authc_account *acct;
        const char *error;
        /* /session just refreshed what was due: usually one adapter read. */
        if (p->ops->refresh && !authc__db_tokens_fresh(c, user_id, p, &acct, &error) && !error &&
            acct && acct->access_token)
            return acct->access_token;
    }
    return NULL;
}
