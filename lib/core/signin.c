/* signin.c — GET /signin (the page, or the app's page), POST /signin and
 * POST /signin/:provider (start of the OAuth / email flows). */
#include <string.h>

#include "core/core_int.h"

static authc_err signin_page(authc__ctx *c)
{
    const authc *a = c->a;
    const char *error = authc__map_last(&c->query, "error");
    if (a->pages_signin) {
        authc__buf b;
        authc__buf_init(&b, c->ar, AUTHC__MAX_URL * 4);
        authc__buf_add_url_param(&b, a->pages_signin, "callbackUrl", c->callback_url);
        if (error) {
            authc__buf_adds(&b, "&error=");
            authc__buf_add_uri_component(&b, error);
        }
        return b.err ? b.err : authc__res_redirect(c, b.p);
    }
    const char *bp = strcmp(a->base_path, "/") ? a->base_path : "";
    authc__page_provider *pp = authc_arena_alloc(c->ar, (a->nproviders + 1) * sizeof *pp);
    if (!pp)
        return AUTHC_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < a->nproviders; i++) {
        const authc__provider *p = &a->providers[i];
        authc__page_provider *q = &pp[n++];
        q->id = p->id;
        q->name = p->name;
        q->part = p->ops->page;
        q->signin_url = authc_arena_printf(c->ar, "%s%s/signin/%s", c->origin, bp, p->id);
        q->callback_url = authc_arena_printf(c->ar, "%s%s/callback/%s", c->origin, bp, p->id);
        q->fields = p->fields;
        q->nfields = p->nfields;
        q->brand_color = p->brand_color;
        if (!q->signin_url || !q->callback_url)
            return AUTHC_ERR_NOMEM;
    }
    /* Stricter than Auth.js: hidden fields carry our resolved callbackUrl,
     * never the raw query value. */
    authc__signin_page page = {
        .theme = &a->theme,
        .lang = authc__ctx_lang(c),
        .csrf_token = c->csrf_token,
        .callback_url = c->callback_url,
        .error = error,
        .email = authc__map_last(&c->query, "email"),
        .providers = pp,
        .nproviders = n,
    };
    /* The OAuth buttons post here, then go on to the IdP: CSP form-action
     * applies to that redirect too. */
    const char *fa = "'self'";
    for (size_t i = 0; fa && i < a->nproviders; i++) {
        const authc__provider *p = &a->providers[i];
        const char *t = p->ops->form_target ? p->ops->form_target(c->ar, p) : NULL;
        if (t && !strpbrk(t, " ;,'"))
            fa = authc__join(c->ar, fa, " ", t, NULL);
    }
    if (!fa)
        return AUTHC_ERR_NOMEM;
    c->form_action = fa;
    char *html;
    size_t len;
    authc_err e = authc__page_signin(c->ar, &page, &html, &len);
    return e ? e : authc__res_body(c, 200, "text/html", html, len);
}

authc_err authc__action_signin(authc__ctx *c)
{
    if (!c->provider_id && !c->post)
        return signin_page(c);
    if (!c->post)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "UnknownAction: GET signin/%s", c->provider_id);
    if (!c->csrf_verified)
        return authc__fail(c, AUTHC_ERR_MISSING_CSRF, "POST /signin without a valid csrfToken");
    /* Types without a sign-in step (credentials, passkeys) start on the page. */
    if (c->provider && c->provider->ops->signin)
        return c->provider->ops->signin(c);
    const char *back = authc_arena_printf(c->ar, "%s%s/signin", c->origin, authc__inst_base(c->a));
    return back ? authc__res_redirect(c, back) : AUTHC_ERR_NOMEM;
}
