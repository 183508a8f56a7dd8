/* response.c — fills the response value: headers (any number of
 * Set-Cookie), bodies, redirects, and the no-cache header set. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core_int.h"

authc_err authc__res_header(authc__ctx *c, const char *name, const char *value)
{
    authc_response *r = c->res;
    /* Room for the first AUTHC__RES_HEADERS came with the response. */
    authc_header *h = r->nheaders < c->hdr_cap ? r->headers
                    : authc__arena_grow(c->ar, r->headers, r->nheaders, &c->hdr_cap, sizeof *h, 16);
    if (!h)
        return AUTHC_ERR_NOMEM;
    h[r->nheaders++] = (authc_header){.name = name, .value = value};
    r->headers = h;
    return AUTHC_OK;
}

/* Every built-in HTML page: no framing (clickjacking of sign-out), forms
 * only to this origin (and the IdPs of the sign-in page), never cached. */
static authc_err page_headers(authc__ctx *c)
{
    const char *csp = authc_arena_printf(c->ar, "frame-ancestors 'none'; form-action %s; base-uri 'none'; "
                                                "object-src 'none'", c->form_action ? c->form_action : "'self'");
    if (!csp)
        return AUTHC_ERR_NOMEM;
    authc_err e = authc__res_header(c, "Content-Security-Policy", csp);
    if (!e)
        e = authc__res_header(c, "X-Frame-Options", "DENY");
    if (!e)
        e = authc__res_header(c, "X-Content-Type-Options", "nosniff");
    if (!e && !authc_response_header(c->res, "Referrer-Policy"))
        e = authc__res_header(c, "Referrer-Policy", "no-referrer");
    if (!e && !authc_response_header(c->res, "Cache-Control"))
        e = authc__res_header(c, "Cache-Control", "no-store");
    return e;
}

authc_err authc__res_body(authc__ctx *c, int status, const char *ctype,
                          const char *body, size_t len)
{
    c->res->status = status;
    c->res->body = body;
    c->res->body_len = len;
    if (!ctype)
        return AUTHC_OK;
    authc_err e = authc__res_header(c, "Content-Type", ctype);
    if (!e && !strncasecmp(ctype, "text/html", 9))
        e = page_headers(c);
    return e;
}

authc_err authc__res_json(authc__ctx *c, int status, const char *json)
{
    return authc__res_body(c, status, "application/json", json, strlen(json));
}

authc_err authc__res_redirect(authc__ctx *c, const char *location)
{
    c->res->status = 302;
    return authc__res_header(c, "Location", location);
}

authc_err authc__res_nocache(authc__ctx *c)
{
    authc_err e = authc__res_header(c, "Cache-Control", "private, no-cache, no-store");
    if (!e)
        e = authc__res_header(c, "Expires", "0");
    if (!e)
        e = authc__res_header(c, "Pragma", "no-cache");
    return e;
}

void authc_response_free(authc_response *res)
{
    if (!res)
        return;
    if (res->arena)
        authc_arena_free(res->arena); /* res itself lives in the arena */
    else
        free(res);                    /* the static out-of-memory reply */
}

const char *authc_response_header(const authc_response *res, const char *name)
{
    for (size_t i = 0; res && i < res->nheaders; i++)
        if (strcasecmp(res->headers[i].name, name) == 0)
            return res->headers[i].value;
    return NULL;
}
