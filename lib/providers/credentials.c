/* credentials.c — the credentials provider type: POST /callback/:id asks the
 * app's authorize(); success always yields a JWT session cookie, as in Auth.js. */
#include <stdlib.h>
#include <string.h>

#include "core/provider_api.h"

typedef struct cred_impl {
    authc_authorize_fn authorize;
    void *ud;
} cred_impl;

static authc_err credentials_callback(authc__ctx *c)
{
    const authc *a = authc__ctx_instance(c);
    authc_arena *ar = authc__ctx_arena(c);
    const authc__provider *p = authc__ctx_provider(c);
    const cred_impl *ci = p->impl;
    if (!authc__ctx_csrf_verified(c))
        return authc__fail(c, AUTHC_ERR_MISSING_CSRF, "credentials sign-in without a valid csrfToken");
    const authc__map *body = authc__ctx_body(c);
    size_t n = body->n;
    const char **names = authc_arena_alloc(ar, (n + 1) * sizeof *names);
    const char **values = authc_arena_alloc(ar, (n + 1) * sizeof *values);
    if (!names || !values)
        return AUTHC_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        names[i] = body->items[i].k;
        values[i] = body->items[i].v;
    }
    authc_user *user = authc_arena_alloc(ar, sizeof *user);
    if (!user)
        return AUTHC_ERR_NOMEM;
    user->email_verified = AUTHC_NO_TIME;
    const char *code = NULL;
    authc_err e = ci->authorize(ci->ud, ar, names, values, n, user, &code);
    if (e == AUTHC_ERR_CREDENTIALS_SIGNIN) {
        authc__ctx_set_error_code(c, code);
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
        user->id = authc_arena_strdup(ar, id);
    }
    authc_account acct = {.type = "credentials", .provider = p->id,
                          .provider_account_id = user->id, .user_id = user->id,
                          .expires_at = AUTHC_NO_TIME};
    const char *target = authc__ctx_callback_url(c);
    const authc_callbacks *cb = authc__inst_callbacks(a);
    if (cb->sign_in) {
        const char *redir = NULL;
        e = cb->sign_in(cb->ud, ar, user, &acct, &redir);
        if (e)
            return authc__fail(c, AUTHC_ERR_ACCESS_DENIED, "AccessDenied: the signIn callback refused user %s",
                               user->id);
        if (redir)
            target = authc__redirect_resolve(c, redir);
    }
    if ((e = authc__session_issue(c, user, &acct, false)))
        return e;
    authc__event_signin(c, "success", user->id);
    if (cb->event)
        cb->event(cb->ud, "signIn", user, p->id);
    authc__ctx_set_log_line(c, authc_arena_printf(ar, "signIn provider=%s user=%s", p->id, user->id));
    return authc__res_redirect(c, target);
}

static bool credentials_check(const authc *a, const authc__provider *p, authc__problems *pr)
{
    (void)a;
    const cred_impl *ci = p->impl;
    if (ci->authorize)
        return true;
    authc__problem(pr, NULL, "MissingAuthorize: a credentials provider needs an authorize function");
    return false;
}

static const authc__provider_ops CREDENTIALS_OPS = {
    .type = "credentials",
    .page = AUTHC__PART_FIELDS,
    .callback = credentials_callback,
    .callback_methods = AUTHC__POST,
    .callback_pool = AUTHC_POOL_CPU, /* authorize() usually hashes a password */
    .check = credentials_check,
    .free = free,
    .jwt_only = true,
    .signin_at_callback = true,
};

authc_err authc_config_add_credentials(authc_config *cfg, const authc_credentials_provider *cp)
{
    cred_impl *ci = calloc(1, sizeof *ci);
    authc__provider *p = ci ? authc__config_add_provider(cfg) : NULL;
    if (!p) {
        free(ci);
        return AUTHC_ERR_NOMEM;
    }
    ci->authorize = cp->authorize;
    ci->ud = cp->ud;
    p->ops = &CREDENTIALS_OPS;
    p->impl = ci;
    p->id = strdup(cp->id ? cp->id : "credentials");
    p->name = strdup(cp->name ? cp->name : "Credentials");
    if (cp->nfields && !(p->fields = calloc(cp->nfields, sizeof *p->fields)))
        return AUTHC_ERR_NOMEM;
    bool oom = false;
    for (size_t i = 0; i < cp->nfields; i++) {
        const authc_credentials_field *f = &cp->fields[i];
        p->fields[i].name = f->name ? strdup(f->name) : NULL;
        p->fields[i].label = f->label ? strdup(f->label) : NULL;
        p->fields[i].type = f->type ? strdup(f->type) : NULL;
        oom |= (f->name && !p->fields[i].name) || (f->label && !p->fields[i].label) ||
               (f->type && !p->fields[i].type);
    }
    p->nfields = cp->nfields;
    return (p->id && p->name && !oom) ? AUTHC_OK : AUTHC_ERR_NOMEM;
}
