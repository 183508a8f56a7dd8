/* signout.c — GET /signout (confirmation page) and POST /signout: end the
 * session (JWT cookie or database row), clear its cookies, redirect. */
#include <string.h>

#include "core/core_int.h"
#include "core/db_tokens_int.h"

authc_err authc__action_signout(authc__ctx *c)
{
    const authc *a = c->a;
    if (c->sub_callback)
        return authc__signout_callback(c);
    if (!c->post) {
        if (a->pages_signout)
            return authc__res_redirect(c, a->pages_signout);
        const char *full = authc__full_url(c);
        if (!full)
            return AUTHC_ERR_NOMEM;
        char *html;
        size_t len;
        authc_err e = authc__page_signout(c->ar, &a->theme, authc__ctx_lang(c), c->csrf_token,
                                          full, &html, &len);
        return e ? e : authc__res_body(c, 200, "text/html", html, len);
    }
    if (!c->csrf_verified)
        return authc__fail(c, AUTHC_ERR_MISSING_CSRF, "POST /signout without a valid csrfToken");
    const char *tok = a->strategy == AUTHC__JWT
                          ? authc__session_read(c)
                          : authc__map_first(&c->cookies, c->ck[AUTHC__CK_SESSION]);
    if (!tok)
        return authc__res_redirect(c, c->callback_url);
    const char *who = NULL, *fed = NULL;
    if (a->strategy == AUTHC__JWT) {
        json_t *claims = NULL;
        if (authc__jwt_decode(c->ar, a->session_keys[c->secure], a->nsecrets, tok, strlen(tok),
                              authc__now_ms() / 1000, &claims) == AUTHC_OK) {
            who = authc_arena_strdup(c->ar, json_string_value(json_object_get(claims, "sub")));
            authc__session_revoke_claims(c, claims); /* copies of the cookie die too */
            authc_err fe = authc__signout_federated(c, claims, &fed);
            json_decref(claims);
            if (fe)
                return fe;
        }
    } else {
        authc_session_row *old = NULL;
        authc_err e = a->adapter->ops->delete_session(a->adapter, c->ar, tok, &old);
        /* Auth.js swallows this (SignOutError) and still clears the cookie;
         * the row then expires on its own. Say so loudly. */
        if (e)
            authc__adapter_error(a, "deleteSession");
        if (e)
            authc__log(a, "error", "[auth][error] SignOutError: could not delete the session in %s: %s",
                       a->adapter->ops->name, authc_strerror(e));
        else if (old)
            who = old->user_id;
        if (old && (e = authc__db_signout_federated(c, tok, old->user_id, &fed)))
            return e;
    }
    if (a->cb.event) {
        authc_user u = {.id = who, .email_verified = AUTHC_NO_TIME};
        a->cb.event(a->cb.ud, "signOut", &u, NULL);
    }
    c->log_line = authc_arena_printf(c->ar, "signOut user=%s", who ? who : "-");
    authc__event_signout(c, "session", who);
    authc_err e = authc__session_write(c, NULL, -1);
    if (!e && a->strategy == AUTHC__DATABASE)
        e = authc__cookie_push(c, &c->cookies_out, c->ck[AUTHC__CK_SESSION], "", 0, -1);
    return e ? e : authc__res_redirect(c, fed ? fed : c->callback_url);
}
