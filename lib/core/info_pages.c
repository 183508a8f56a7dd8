/* info_pages.c — GET /error and GET /verify-request: the built-in pages, or
 * redirects to the app's own pages when configured. */
#include <string.h>

#include "core/core_int.h"

authc_err authc__action_error_page(authc__ctx *c)
{
    const authc *a = c->a;
    const char *code = authc__map_last(&c->query, "error");
    if (a->pages_error) {
        authc__buf b;
        authc__buf_init(&b, c->ar, AUTHC__MAX_URL * 2);
        /* A missing code reads "undefined", as JS prints it. */
        authc__buf_add_url_param(&b, a->pages_error, "error", code ? code : "undefined");
        return b.err ? b.err : authc__res_redirect(c, b.p);
    }
    /* Auth.js quirk kept: the "Sign in" link is <full request URL>/signin. */
    const char *full = authc__full_url(c);
    const char *signin = full ? authc_arena_printf(c->ar, "%s/signin", full) : NULL;
    if (!signin)
        return AUTHC_ERR_NOMEM;
    char *html;
    size_t len;
    int status;
    authc_err e = authc__page_error(c->ar, &a->theme, authc__ctx_lang(c), code, c->origin,
                                    signin, &html, &len, &status);
    return e ? e : authc__res_body(c, status, "text/html", html, len);
}

authc_err authc__action_verify_request(authc__ctx *c)
{
    const authc *a = c->a;
    if (a->pages_verify) {
        const char *full = authc__full_url(c);
        if (!full)
            return AUTHC_ERR_NOMEM;
        const char *q = strchr(full, '?');
        char *u = authc_arena_printf(c->ar, "%s%s", a->pages_verify, q ? q : "");
        return u ? authc__res_redirect(c, u) : AUTHC_ERR_NOMEM;
    }
    char *html;
    size_t len;
    authc_err e = authc__page_verify_request(c->ar, &a->theme, authc__ctx_lang(c), c->origin,
                                             c->host, &html, &len);
    return e ? e : authc__res_body(c, 200, "text/html", html, len);
}
