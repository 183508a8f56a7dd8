/* redirects.c — callbackUrl / redirectTo: where a user is sent after a
 * sign-in or sign-out; never off the origin or AUTHC_REDIRECT_ALLOWED_HOSTS. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core_int.h"
#include "forward/rules_int.h"

#define REDIRECT_GLOB_MAX 253   /* a DNS name, plus room for ":port" below */
#define REDIRECT_HOSTS_MAX 64

bool authc__callback_url_acceptable(const char *url)
{
    if (!url)
        return false;
    if (url[0] == '/')
        return true;
    return strncasecmp(url, "http:", 5) == 0 || strncasecmp(url, "https:", 6) == 0;
}

/* True if s has bytes that must never reach a Location header. */
static bool has_ctl(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

authc_err authc__redirect_hosts_set(struct authc *a, const char *value, char *err, size_t errlen)
{
    /* Stored as "glob,glob" without spaces; each glob checked here once. */
    size_t vl = strlen(value), n = 0, items = 0;
    char *out = malloc(vl + 1);
    if (!out)
        return AUTHC_ERR_NOMEM;
    for (const char *p = value;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        size_t l = strcspn(p, ",");
        size_t t = l;
        while (t && (p[t - 1] == ' ' || p[t - 1] == '\t'))
            t--;
        bool ok = t > 0 && t <= REDIRECT_GLOB_MAX + 6 && ++items <= REDIRECT_HOSTS_MAX;
        for (size_t i = 0; ok && i < t; i++) {
            unsigned char ch = (unsigned char)p[i];
            ok = isalnum(ch) || strchr(".-*?:[]_", ch);
        }
        if (!ok && (t || *value)) {
            free(out);
            snprintf(err, errlen, "host globs are comma-separated names with * and ? (e.g. *.example.com), "
                                  "at most %d, got \"%.*s\"", REDIRECT_HOSTS_MAX, (int)(t > 64 ? 64 : t), p);
            return AUTHC_ERR_INVALID;
        }
        if (t) {
            if (n)
                out[n++] = ',';
            memcpy(out + n, p, t);
            n += t;
        }
        if (!p[l])
            break;
        p += l + 1;
    }
    out[n] = '\0';
    free(a->redirect_hosts);
    a->redirect_hosts = n ? out : NULL;
    if (!n)
        free(out);
    return AUTHC_OK;
}

/* A callbackUrl on a host of AUTHC_REDIRECT_ALLOWED_HOSTS: https, or http
 * when authc itself is served over http (so TLS is never downgraded). A
 * glob with a ':' is matched with the port. */
static bool redirect_host_allowed(const authc__ctx *c, const authc__url *u)
{
    const char *list = c->a->redirect_hosts;
    if (!list || (strcmp(u->scheme, "https") && strncmp(c->origin, "http:", 5)))
        return false;
    char hp[REDIRECT_GLOB_MAX + 16], g[REDIRECT_GLOB_MAX + 8];
    snprintf(hp, sizeof hp, "%s%s%s", u->host, u->port ? ":" : "", u->port ? u->port : "");
    for (const char *p = list; *p;) {
        size_t l = strcspn(p, ",");
        snprintf(g, sizeof g, "%.*s", (int)l, p);
        if (authc__glob_match(g, strchr(g, ':') ? hp : u->host))
            return true;
        p += l + (p[l] == ',');
    }
    return false;
}

const char *authc__redirect_resolve(authc__ctx *c, const char *url)
{
    if (!url || !*url || strlen(url) > AUTHC__MAX_URL || has_ctl(url))
        return c->origin;
    /* The origin itself (a browser's callback-url cookie on every request)
     * needs no parse: it is what the parse below would let through. */
    if (!strcmp(url, c->origin))
        return url;
    if (url[0] == '/') {
        /* Prefixing the origin pins the host: "//evil" becomes
         * "http://host//evil", a path on this host. Backslashes are
         * percent-encoded so no browser can read them as a slash. */
        authc__buf b;
        authc__buf_init(&b, c->ar, AUTHC__MAX_URL * 3 + 256);
        authc__buf_adds(&b, c->origin);
        for (const char *p = url; *p; p++) {
            if (*p == '\\')
                authc__buf_adds(&b, "%5C");
            else if (*p == ' ')
                authc__buf_adds(&b, "%20");
            else
                authc__buf_addc(&b, *p);
        }
        return b.err ? c->origin : b.p;
    }
    authc__url u;
    if (authc__url_parse(c->ar, url, &u) == AUTHC_OK &&
        (strcmp(u.origin, c->origin) == 0 || redirect_host_allowed(c, &u)))
        return url;
    return c->origin;
}

authc_err authc__callback_url_init(authc__ctx *c)
{
    const char *body_cb = authc__map_last(&c->body, "callbackUrl");
    const char *query_cb = authc__map_last(&c->query, "callbackUrl");
    const char *cookie_cb = authc__map_first(&c->cookies, c->ck[AUTHC__CK_CALLBACK]);
    if (query_cb && !authc__callback_url_acceptable(query_cb))
        return authc__fail(c, AUTHC_ERR_INVALID_CALLBACK_URL,
                           "InvalidCallbackUrl: the callbackUrl query parameter is neither a path nor an absolute http(s) URL");
    /* Auth.js's redirect callback throws on a body value that is neither a
     * path nor a URL: Configuration. */
    if (body_cb && !authc__callback_url_acceptable(body_cb))
        return authc__fail(c, AUTHC_ERR_CONFIGURATION,
                           "the callbackUrl form field is neither a path nor an absolute http(s) URL");
    /* Stricter than Auth.js: a malformed cookie is ignored and replaced
     * instead of answering 500 on every route. */
    if (cookie_cb && !authc__callback_url_acceptable(cookie_cb))
        cookie_cb = NULL;
    const char *src = body_cb ? body_cb : query_cb ? query_cb : cookie_cb;
    const char *resolved = src ? authc__redirect_resolve(c, src) : c->origin;
    c->callback_url = resolved;
    if (!cookie_cb || strcmp(cookie_cb, resolved) != 0)
        return authc__cookie_push_as(c, &c->init_cookies, c->ck[AUTHC__CK_CALLBACK], resolved, -1, -1,
                                     resolved == c->origin || !strcmp(resolved, c->origin) ? AUTHC__CO_AT_ORIGIN : 0);
    return AUTHC_OK;
}
