/* target.c — forward-auth's view of the proxied request: the protected URL
 * from nginx's X-Original-* or Traefik/Caddy's X-Forwarded-* headers. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "forward/target_int.h"

#define FWD_METHOD_MAX 16

static const char *hdr(const authc_request *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (r->headers[i].name && !strcasecmp(r->headers[i].name, name))
            return r->headers[i].value;
    return NULL;
}

/* An HTTP method token, upper-cased into the arena; NULL when invalid. */
static const char *method_token(authc_arena *ar, const char *m)
{
    size_t n = m ? strlen(m) : 0;
    if (n == 0 || n > FWD_METHOD_MAX)
        return NULL;
    char *out = authc_arena_strndup(ar, m, n);
    for (size_t i = 0; out && i < n; i++) {
        if (!isalpha((unsigned char)out[i]))
            return NULL;
        out[i] = (char)toupper((unsigned char)out[i]);
    }
    return out;
}

static authc_err from_url(authc_arena *ar, const char *url, authc__fwd_req *out)
{
    authc__url u;
    authc_err e = authc__url_parse(ar, url, &u);
    if (e == AUTHC_ERR_NOMEM)
        return e;
    if (e) {
        out->mode = AUTHC__FWD_MODE_NONE;
        out->why = "the forwarded URL is not a valid absolute http(s) URL";
        return AUTHC_OK;
    }
    out->url = url;
    out->origin = u.origin;
    out->host = u.port ? authc__join(ar, u.host, ":", u.port, NULL) : u.host;
    out->path = u.path;
    return out->host ? AUTHC_OK : AUTHC_ERR_NOMEM;
}

authc_err authc__forward_target(authc_arena *ar, const authc_request *req, bool peer_trusted,
                                authc__fwd_req *out)
{
    *out = (authc__fwd_req){.mode = AUTHC__FWD_MODE_NONE, .method = "GET"};
    if (!peer_trusted) {
        out->why = "forwarded headers from a peer outside AUTHC_TRUSTED_PROXIES are ignored";
        return AUTHC_OK;
    }
    const char *orig = hdr(req, "X-Original-URL");
    const char *m;
    if (orig) {
        out->mode = AUTHC__FWD_MODE_NGINX;
        m = hdr(req, "X-Original-Method");
    } else {
        const char *proto = hdr(req, "X-Forwarded-Proto"), *host = hdr(req, "X-Forwarded-Host");
        const char *uri = hdr(req, "X-Forwarded-Uri");
        if (!proto || !host) {
            out->why = "neither X-Original-URL nor X-Forwarded-Proto and X-Forwarded-Host";
            return AUTHC_OK;
        }
        /* A proxy chain appends: the right-most values are the ones our
         * trusted proxy wrote. */
        char pbuf[16], hbuf[512];
        const char *p = authc__forwarded_last(proto, pbuf, sizeof pbuf);
        const char *h = authc__forwarded_last(host, hbuf, sizeof hbuf);
        if (!p || !h || (strcasecmp(p, "http") && strcasecmp(p, "https"))) {
            out->why = "X-Forwarded-Proto or X-Forwarded-Host is not usable";
            return AUTHC_OK;
        }
        if (!uri || !*uri)
            uri = "/";
        if (uri[0] != '/') {
            out->why = "X-Forwarded-Uri does not start with /";
            return AUTHC_OK;
        }
        orig = authc__join(ar, p, "://", h, uri, NULL);
        if (!orig)
            return AUTHC_ERR_NOMEM;
        for (char *c = (char *)orig; *c && *c != ':'; c++)
            *c = (char)tolower((unsigned char)*c);
        out->mode = AUTHC__FWD_MODE_REDIRECT;
        m = hdr(req, "X-Forwarded-Method");
    }
    if (m) {
        out->method = method_token(ar, m);
        if (!out->method) {
            out->mode = AUTHC__FWD_MODE_NONE;
            out->why = "the forwarded method is not a valid HTTP method";
            return AUTHC_OK;
        }
    }
    return from_url(ar, orig, out);
}

/* True when a comma list header has the token (case-insensitive), ignoring
 * parameters such as ";q=0.9". */
static bool list_has_token(const char *v, const char *tok)
{
    size_t tl = strlen(tok);
    for (const char *p = v; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",;");
        size_t t = n;
        while (t && p[t - 1] == ' ')
            t--;
        if (t == tl && !strncasecmp(p, tok, tl))
            return true;
        p += n;
        p += strcspn(p, ",");
    }
    return false;
}

bool authc__forward_is_navigation(const authc_request *req)
{
    const char *xrw = hdr(req, "X-Requested-With");
    if (xrw && !strcasecmp(xrw, "XMLHttpRequest"))
        return false;
    const char *mode = hdr(req, "Sec-Fetch-Mode");
    if (mode && strcasecmp(mode, "navigate"))
        return false;
    const char *dest = hdr(req, "Sec-Fetch-Dest");
    if (dest && strcasecmp(dest, "document") && strcasecmp(dest, "iframe"))
        return false;
    const char *acc = hdr(req, "Accept");
    return acc && (list_has_token(acc, "text/html") || list_has_token(acc, "application/xhtml+xml") ||
                   list_has_token(acc, "*/*"));
}

int authc__forward_redirect_status(const char *method)
{
    return method && (!strcmp(method, "GET") || !strcmp(method, "HEAD") ||
                      !strcmp(method, "OPTIONS")) ? 302 : 303;
}
