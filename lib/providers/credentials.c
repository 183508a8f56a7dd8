/* credentials.c — POST /callback/credentials: the app's authorize()
 * decides; success always yields a JWT session cookie, as in Auth.js. */
#include <string.h>

#include "core/core_int.h"

authc_err authc__credentials_callback(authc__ctx *c)
{
    const authc *a = c->a;
    const authc__provider *p = c->provider;
    if (!c->csrf_verified)
        return authc__fail(c, AUTHC_ERR_MISSING_CSRF, "credentials sign-in without a valid csrfToken");
    size_t n = c->body.n;
    const char **names = authc_arena_alloc(c->ar, (n + 1) * sizeof *names);
    const char **values = authc_arena_alloc(c->ar, (n + 1) * sizeof *values);
    if (!names || !values)
        return AUTHC_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        names[i] = c->body.items[i].k;
        values[i] = c->body.items[i].v;
    }
    authc_user *user = authc_arena_alloc(c->ar, sizeof *user);
    if (!user)
        return AUTHC_ERR_NOMEM;
    user->email_verified = AUTHC_NO_TIME;
    const char *code = NULL;
    authc_err e = p->authorize(p->authorize_ud, c->ar, names, values, n, user, &code);
    if (e == AUTHC_ERR_CREDENTIALS_SIGNIN) {
        c->err_code_extra = code;
        return authc__fail(c, e, "CredentialsSignin: authorize() refused the credentials%s%s",
                           code ? ", code " : "", code ? code : "");
    }
    if (e)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: authorize() failed: %s",
                           authc_strerror(e));
    if (!user->id || !*user->id) {
        char id[37];
        if ((e = authc__uuid(id)))
            return e;
        user->id = authc_arena_strdup(c->ar, id);
    }
    authc_account acct = {.type = "credentials", .provider = p->id,
                          .provider_account_id = user->id, .user_id = user->id,
                          .expires_at = AUTHC_NO_TIME};
    const char *target = c->callback_url;
    if (a->cb.sign_in) {
        const char *redir = NULL;
        e = a->cb.sign_in(a->cb.ud, c->ar, user, &acct, &redir);
        if (e)
            return authc__fail(c, AUTHC_ERR_ACCESS_DENIED, "AccessDenied: the signIn callback refused user %s",
                               user->id);
        if (redir)
            target = authc__redirect_resolve(c, redir);
    }
    if ((e = authc__session_issue(c, user, &acct, false)))
        return e;
    if (a->cb.event)
        a->cb.event(a->cb.ud, "signIn", user, p->id);
    c->log_line = authc_arena_printf(c->ar, "signIn provider=%s user=%s", p->id, user->id);
    return authc__res_redirect(c, target);
}
