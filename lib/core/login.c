/* login.c — what happens after any provider proved who the user is: the
 * signIn callback, account linking or user creation through the adapter
 * (Auth.js handleLoginOrRegister), the session, events, the redirect. */
#include <string.h>

#include "core/core_int.h"

static void fire(authc__ctx *c, const char *name, const authc_user *u)
{
    if (c->a->cb.event)
        c->a->cb.event(c->a->cb.ud, name, u, c->provider ? c->provider->id : NULL);
}

/* A missing adapter method: Auth.js's outcome (Configuration) plus a log
 * line that names the method. */
static authc_err need(authc__ctx *c, const void *fn, const char *name)
{
    if (fn)
        return AUTHC_OK;
    return authc__fail(c, AUTHC_ERR_CONFIGURATION,
                       "MissingAdapterMethods: the %s adapter has no %s, needed for this sign-in",
                       c->a->adapter->ops->name, name);
}

static authc_err adapter_fail(authc__ctx *c, authc_err e, const char *what)
{
    if (e == AUTHC_ERR_NOMEM)
        return e;
    authc__adapter_error(c->a, what);
    return authc__fail(c, AUTHC_ERR_ADAPTER, "AdapterError: %s failed in the %s adapter (%s)", what,
                       c->a->adapter->ops->name, authc_strerror(e));
}

static bool is_email(const authc_account *acct)
{
    return acct->type && !strcmp(acct->type, "email");
}

static bool is_webauthn(const authc_account *acct)
{
    return acct->type && !strcmp(acct->type, "webauthn");
}

/* Passkey account pre-hijacking (stricter than Auth.js): anyone may sign
 * up with a passkey for an address nobody has verified. When the address is
 * first proven (email link, or an OAuth account linked by email), a user
 * that is still unverified and holds passkeys is deleted with them (the
 * adapter cascades), and the owner gets a fresh user. *u becomes NULL then. */
static authc_err drop_unproven_passkey_user(authc__ctx *c, authc_user **u)
{
    authc_adapter *ad = c->a->adapter;
    if (!*u || (*u)->email_verified != AUTHC_NO_TIME || !ad->ops->list_authenticators_by_user_id)
        return AUTHC_OK;
    authc_authenticator *list = NULL;
    size_t n = 0;
    authc_err e = ad->ops->list_authenticators_by_user_id(ad, c->ar, (*u)->id, &list, &n);
    if (e)
        return adapter_fail(c, e, "listAuthenticatorsByUserId");
    if (n == 0)
        return AUTHC_OK;
    if ((e = need(c, ad->ops->delete_user, "deleteUser")))
        return e;
    if ((e = ad->ops->delete_user(ad, c->ar, (*u)->id)))
        return adapter_fail(c, e, "deleteUser");
    authc__log(c->a, "warn", "[auth][warn] user %s had passkeys registered before its address was verified; "
                             "replaced by a new user now that the address is proven", (*u)->id);
    *u = NULL;
    return AUTHC_OK;
}

/* Email sign-in: the user with that address (verified now), else a new
 * one; a session of another user is dropped. */
static authc_err email_user(authc__ctx *c, const authc_user *profile, const authc_user *current,
                            const char *cur_token, authc_user **user, bool *is_new)
{
    authc_adapter *ad = c->a->adapter;
    authc_user *existing = NULL, *out = NULL;
    authc_err e;
    if ((e = need(c, ad->ops->get_user_by_email, "getUserByEmail")))
        return e;
    if ((e = ad->ops->get_user_by_email(ad, c->ar, profile->email, &existing)))
        return adapter_fail(c, e, "getUserByEmail");
    if ((!current || !existing || strcmp(current->id, existing->id)) &&
        (e = drop_unproven_passkey_user(c, &existing)))
        return e;
    if (existing) {
        if (cur_token && current && strcmp(current->id, existing->id) && ad->ops->delete_session)
            (void)ad->ops->delete_session(ad, c->ar, cur_token, NULL);
        authc_user upd = {.id = existing->id, .email_verified = authc__now_ms(),
                          .fields = AUTHC_USER_F_EMAIL_VERIFIED};
        if ((e = need(c, ad->ops->update_user, "updateUser")))
            return e;
        if ((e = ad->ops->update_user(ad, c->ar, &upd, &out)))
            return adapter_fail(c, e, "updateUser");
        *user = out ? out : existing;
        fire(c, "updateUser", *user);
        return AUTHC_OK;
    }
    authc_user in = {.email = profile->email, .email_verified = authc__now_ms()};
    if ((e = need(c, ad->ops->create_user, "createUser")))
        return e;
    if ((e = ad->ops->create_user(ad, c->ar, &in, &out)) || !out)
        return adapter_fail(c, e ? e : AUTHC_ERR_ADAPTER, "createUser");
    *user = out;
    *is_new = true;
    fire(c, "createUser", *user);
    return AUTHC_OK;
}

/* An unknown account and nobody signed in: link to the user with that
 * email only when the provider allows it, else create a user; then link. */
static authc_err first_account(authc__ctx *c, const authc_user *profile, authc_account *account,
                               authc_user **user, bool *is_new)
{
    authc_adapter *ad = c->a->adapter;
    authc_user *by_email = NULL;
    authc_err e;
    if (profile->email) {
        if ((e = need(c, ad->ops->get_user_by_email, "getUserByEmail")))
            return e;
        if ((e = ad->ops->get_user_by_email(ad, c->ar, profile->email, &by_email)))
            return adapter_fail(c, e, "getUserByEmail");
    }
    if (by_email) {
        if (is_webauthn(account))
            return authc__fail(c, AUTHC_ERR_ACCOUNT_NOT_LINKED,
                               "AccountNotLinked: a user with this email exists; sign in and add the passkey");
        if (!c->provider || !c->provider->allow_dangerous_email_linking)
            return authc__fail(c, AUTHC_ERR_OAUTH_ACCOUNT_NOT_LINKED,
                               "OAuthAccountNotLinked: a user with this email exists but the %s account is not linked "
                               "(set allowDangerousEmailAccountLinking only if the provider verifies emails)",
                               account->provider);
        if ((e = drop_unproven_passkey_user(c, &by_email)))
            return e;
    }
    if (by_email) {
        *user = by_email;
    } else {
        authc_user in = *profile;
        in.id = NULL;
        in.email_verified = AUTHC_NO_TIME;
        authc_user *out = NULL;
        if ((e = need(c, ad->ops->create_user, "createUser")))
            return e;
        if ((e = ad->ops->create_user(ad, c->ar, &in, &out)) || !out)
            return adapter_fail(c, e ? e : AUTHC_ERR_ADAPTER, "createUser");
        *user = out;
        *is_new = true;
    }
    fire(c, "createUser", *user); /* Auth.js fires it for dangerous links too */
    account->user_id = (*user)->id;
    if ((e = need(c, ad->ops->link_account, "linkAccount")))
        return e;
    if ((e = ad->ops->link_account(ad, c->ar, account, NULL)))
        return adapter_fail(c, e, "linkAccount");
    fire(c, "linkAccount", *user);
    return AUTHC_OK;
}

/* With an adapter: who the user is (Auth.js handleLoginOrRegister), then
 * the session (the current one kept when the account joins it). */
static authc_err adapter_login(authc__ctx *c, const authc_user *profile, authc_account *account,
                               authc_user *by_account, authc_user **user, bool *is_new)
{
    const authc *a = c->a;
    authc_adapter *ad = a->adapter;
    authc_user *current = NULL;
    const char *cur_token = NULL;
    authc_err e;
    if ((e = authc__session_current(c, &current, NULL, &cur_token)))
        return e;
    if (current && a->strategy == AUTHC__JWT && current->id) {
        /* The JWT only carries the id: load the stored user. */
        authc_user *stored = NULL;
        if (ad->ops->get_user && (e = ad->ops->get_user(ad, c->ar, current->id, &stored)))
            return adapter_fail(c, e, "getUser");
        current = stored;
    }
    bool keep_session = false;
    if (is_email(account)) {
        e = email_user(c, profile, current, cur_token, user, is_new);
    } else if (by_account) {
        if (current && strcmp(current->id, by_account->id) != 0)
            return authc__fail(c, AUTHC_ERR_OAUTH_ACCOUNT_NOT_LINKED,
                               "OAuthAccountNotLinked: this %s account belongs to another user than the one signed in",
                               account->provider);
        *user = by_account;
        keep_session = current != NULL;
    } else if (current) {
        account->user_id = current->id;
        if ((e = need(c, ad->ops->link_account, "linkAccount")))
            return e;
        if ((e = ad->ops->link_account(ad, c->ar, account, NULL)))
            return adapter_fail(c, e, "linkAccount");
        fire(c, "linkAccount", current);
        *user = current;
        keep_session = true;
    } else {
        e = first_account(c, profile, account, user, is_new);
    }
    if (e)
        return e;
    if (keep_session && a->strategy == AUTHC__DATABASE && cur_token)
        /* Same session: re-send its cookie unchanged in value. */
        return authc__cookie_push(c, &c->cookies_out, c->ck[AUTHC__CK_SESSION], cur_token, -1,
                                  authc__now_ms() / 1000 + a->max_age);
    return authc__session_issue(c, *user, account, *is_new);
}

authc_err authc__login(authc__ctx *c, const authc_user *profile, authc_account *account)
{
    const authc *a = c->a;
    authc_adapter *ad = a->adapter;
    authc_err e;
    authc_user *user = authc_arena_alloc(c->ar, sizeof *user);
    if (!user)
        return AUTHC_ERR_NOMEM;
    *user = *profile;
    bool is_new = false;

    /* signIn callback sees the stored user when the account is known. */
    authc_user *by_account = NULL;
    if (ad && !is_email(account)) {
        if ((e = need(c, ad->ops->get_user_by_account, "getUserByAccount")))
            return e;
        e = ad->ops->get_user_by_account(ad, c->ar, account->provider, account->provider_account_id, &by_account);
        if (e)
            return adapter_fail(c, e, "getUserByAccount");
    }
    const char *target = c->callback_url;
    if (a->cb.sign_in) {
        const char *redir = NULL;
        e = a->cb.sign_in(a->cb.ud, c->ar, by_account ? by_account : user, account, &redir);
        if (e)
            return authc__fail(c, AUTHC_ERR_ACCESS_DENIED, "AccessDenied: the signIn callback refused the sign-in");
        if (redir)
            target = authc__redirect_resolve(c, redir);
    }
    if (ad) {
        e = adapter_login(c, profile, account, by_account, &user, &is_new);
    } else {
        /* Auth.js without an adapter: the user lives only in the JWT and
         * gets a fresh random id on every sign-in. */
        char id[37];
        if (!(e = authc__uuid(id)))
            user->id = authc_arena_strdup(c->ar, id);
        if (!e)
            e = authc__session_issue(c, user, account, false);
    }
    if (e)
        return e;
    c->login_user = user;
    authc__event_signin(c, "success", user->id);
    fire(c, "signIn", user);
    c->log_line = authc_arena_printf(c->ar, "signIn provider=%s user=%s%s", account->provider,
                                     user->id ? user->id : "-", is_new ? " new" : "");
    if (is_new && a->pages_new_user) {
        authc__buf b;
        authc__buf_init(&b, c->ar, AUTHC__MAX_URL * 4);
        authc__buf_add_url_param(&b, a->pages_new_user, "callbackUrl", target);
        return b.err ? b.err : authc__res_redirect(c, b.p);
    }
    return authc__res_redirect(c, target);
}
