/* credentials.c — the credentials provider type: POST /callback/:id asks the
 * app's authorize(); success always yields a JWT session cookie, as in Auth.js. */
#include <stdlib.h>
#include <string.h>

#include "abuse/abuse_int.h"
#include "core/provider_api.h"
#include "util/netaddr_int.h"

/* Guesses per client address before 429 (operations.md §3); regulation
 * (bans per name and per client) comes on top, in the shared store. */
#define PER_CLIENT 30
#define PER_CLIENT_WINDOW 60

typedef struct cred_impl {
    authc_authorize_fn authorize;
    void *ud;
} cred_impl;

/* The store did not answer: refuse the sign-in rather than count nothing. */
static authc_err fail_closed(authc__ctx *c, authc_err e)
{
    if (e == AUTHC_ERR_NOMEM)
        return e;
    return authc__fail(c, AUTHC_ERR_ADAPTER, "AdapterError: the store did not answer the credentials "
                                             "regulation (%s); refusing the sign-in", authc_strerror(e));
}

static authc_err credentials_callback(authc__ctx *c)
{
    const authc *a = authc__ctx_instance(c);
    authc_arena *ar = authc__ctx_arena(c);
    const authc__provider *p = authc__ctx_provider(c);
    const cred_impl *ci = p->impl;
    if (!authc__ctx_csrf_verified(c))
        return authc__fail(c, AUTHC_ERR_MISSING_CSRF, "credentials sign-in without a valid csrfToken");
    bool stop;
    authc_err e = authc__throttle(c, "credentials", PER_CLIENT, PER_CLIENT_WINDOW, &stop);
    if (e || stop)
        return e;
    const authc__map *body = authc__ctx_body(c);
    /* Regulation counts per user name; a provider without one relies on
     * the per-client throttle and the per-client ban. */
    const char *uname = authc__map_last(body, "username");
    if (!uname)
        uname = authc__map_last(body, "email");
    char ip[AUTHC__IP_STR];
    authc__ctx_ip_key(c, ip);
    authc_store *st = authc__inst_store(a);
    const authc__regulation *rg = authc__inst_regulation(a);
    bool banned = false;
    if ((e = authc__regulation_banned(st, rg, uname ? uname : ip, ip, &banned)))
        return fail_closed(c, e);
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
    /* A banned name still costs a whole check, then gets the wrong-password
     * answer byte for byte, even for the right password. */
    e = ci->authorize(ci->ud, ar, names, values, n, user, &code);
    if (banned && e != AUTHC_ERR_NOMEM) {
        e = AUTHC_ERR_CREDENTIALS_SIGNIN;
        code = NULL;
    } else if (e == AUTHC_ERR_CREDENTIALS_SIGNIN) {
        bool now = false;
        authc_err re = authc__regulation_failed(st, rg, uname ? uname : ip, ip, &now);
        if (re)
            return fail_closed(c, re);
        if (now)
            authc__log(a, "warn", "[auth][warn] credentials: too many failures; banning the user name and/or "
                                  "client %s for a while (`authc bans list`)", ip[0] ? ip : "-");
    }
    if (e == AUTHC_ERR_CREDENTIALS_SIGNIN) {
        authc__ctx_set_error_code(c, code);
        return authc__fail(c, e, "CredentialsSignin: authorize() refused the credentials%s%s",
                           code ? ", code " : "", code ? code : "");
    }
    if (e)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: authorize() failed: %s",
                           authc_strerror(e));
    if ((e = authc__regulation_succeeded(st, rg, uname ? uname : ip)))
        return fail_closed(c, e);
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
