/* url.c — a deliberately strict parser for absolute http(s) URLs: enough to
 * compare origins safely; anything a browser might read differently fails. */
#include <ctype.h>
#include <string.h>

#include "util/parse_int.h"
#include "util/util_int.h"

#define URL_MAX 8192

bool authc__url_text_ok(const char *s, size_t max)
{
    size_t n = authc__len_in(s, max);
    if (!n)
        return false;
    /* Browsers silently drop tabs/newlines and treat '\\' as '/', which is
     * how parsers get confused about the host: refuse all of them. */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f || c == '\\')
            return false;
    }
    return true;
}

authc_err authc__url_parse(authc_arena *ar, const char *s, authc__url *u)
{
    memset(u, 0, sizeof *u);
    if (!authc__url_text_ok(s, URL_MAX))
        return AUTHC_ERR_INVALID;
    const char *p = s;
    size_t slen;
    if (strncasecmp(p, "https://", 8) == 0) {
        u->scheme = "https";
        slen = 8;
    } else if (strncasecmp(p, "http://", 7) == 0) {
        u->scheme = "http";
        slen = 7;
    } else {
        return AUTHC_ERR_INVALID;
    }
    p += slen;
    size_t alen = strcspn(p, "/?#");
    if (alen == 0)
        return AUTHC_ERR_INVALID;
    const char *auth = p;
    if (memchr(auth, '@', alen) || memchr(auth, '%', alen))
        return AUTHC_ERR_INVALID;
    const char *host_end = auth + alen;
    const char *port = NULL;
    size_t hostlen;
    if (auth[0] == '[') {
        const char *rb = memchr(auth, ']', alen);
        if (!rb)
            return AUTHC_ERR_INVALID;
        hostlen = (size_t)(rb - auth) + 1;
        if (rb + 1 < host_end) {
            if (rb[1] != ':')
                return AUTHC_ERR_INVALID;
            port = rb + 2;
        }
        if (!authc__host_ok(auth, hostlen)) /* a real IPv6 address */
            return AUTHC_ERR_INVALID;
    } else {
        const char *colon = memchr(auth, ':', alen);
        hostlen = colon ? (size_t)(colon - auth) : alen;
        if (colon)
            port = colon + 1;
        if (hostlen == 0)
            return AUTHC_ERR_INVALID;
        for (size_t i = 0; i < hostlen; i++) {
            unsigned char c = (unsigned char)auth[i];
            if (!(isalnum(c) || c == '-' || c == '.' || c == '_' || c >= 0x80))
                return AUTHC_ERR_INVALID;
        }
    }
    char *host = authc_arena_strndup(ar, auth, hostlen);
    if (!host)
        return AUTHC_ERR_NOMEM;
    for (char *q = host; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    /* A trailing dot names the same host for DNS but not for origins. */
    if (hostlen > 1 && host[hostlen - 1] == '.')
        return AUTHC_ERR_INVALID;
    u->host = host;
    if (port) {
        size_t plen = (size_t)(host_end - port);
        if (plen == 0) {
            port = NULL;
        } else {
            int64_t pv; /* WHATWG: digits only, 0..65535 */
            if (!isdigit((unsigned char)port[0]) || authc__parse_i64_n(port, plen, 0, 65535, &pv))
                return AUTHC_ERR_INVALID;
            bool dflt = (pv == 80 && u->scheme[4] == '\0') || (pv == 443 && u->scheme[4] == 's');
            char pd[24]; /* no printf: every request's Host is parsed */
            u->port = dflt ? NULL : authc_arena_strndup(ar, pd, authc__i64_dec(pd, pv));
        }
    }
    u->origin = u->port ? authc__join(ar, u->scheme, "://", host, ":", u->port, NULL)
                        : authc__join(ar, u->scheme, "://", host, NULL);
    p = host_end;
    size_t plen = strcspn(p, "?#");
    u->path = plen ? authc_arena_strndup(ar, p, plen) : "/";
    p += plen;
    if (*p == '?') {
        p++;
        u->query = authc_arena_strndup(ar, p, strcspn(p, "#"));
    }
    if (!u->origin || !u->path || (*p && !u->query && p[-1] == '?'))
        return AUTHC_ERR_NOMEM;
    return AUTHC_OK;
}
