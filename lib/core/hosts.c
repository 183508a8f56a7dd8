/* hosts.c — AUTHC_ALLOWED_HOSTS: the host[:port] values a trust-host
 * instance answers for, so a forged Host / X-Forwarded-Host cannot poison links. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/core_int.h"

#define MAX_HOSTS 64
#define MAX_HOST_LEN 262 /* 255 name + ":65535" */

/* Length of the host part of "host[:port]" / "[v6][:port]" (s[0..n)). */
static size_t host_part(const char *s, size_t n)
{
    if (n && s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        return rb ? (size_t)(rb - s) + 1 : n;
    }
    const char *colon = memchr(s, ':', n);
    return colon ? (size_t)(colon - s) : n;
}

static bool entry_valid(const char *s, size_t n)
{
    if (n == 0 || n > MAX_HOST_LEN)
        return false;
    size_t h = host_part(s, n);
    if (h == 0)
        return false;
    for (size_t i = 0; i < h; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!(isalnum(ch) || ch == '.' || ch == '-' || (s[0] == '[' && (ch == ':' || ch == '[' || ch == ']'))))
            return false;
    }
    if (h == n)
        return true;
    if (s[h] != ':' || n - h < 2 || n - h > 6)
        return false;
    for (size_t i = h + 1; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

bool authc__hosts_valid(const char *list, char *why, size_t whylen)
{
    size_t count = 0;
    for (const char *p = list; *p;) {
        p += strspn(p, ", \t");
        size_t n = strcspn(p, ", \t");
        if (!n)
            break;
        if (++count > MAX_HOSTS) {
            snprintf(why, whylen, "more than %d hosts", MAX_HOSTS);
            return false;
        }
        if (!entry_valid(p, n)) {
            snprintf(why, whylen, "\"%.*s\" is not host[:port]", (int)(n > 64 ? 64 : n), p);
            return false;
        }
        p += n;
    }
    return true;
}

/* An entry with a port matches exactly; one without matches that host on
 * any port. Host names compare case-insensitively. */
bool authc__host_allowed(const char *list, const char *host)
{
    if (!list)
        return true;
    if (!host)
        return false;
    size_t hl = strlen(host), hh = host_part(host, hl);
    for (const char *p = list; *p;) {
        p += strspn(p, ", \t");
        size_t n = strcspn(p, ", \t");
        if (!n)
            break;
        size_t eh = host_part(p, n);
        bool match = eh == n ? (eh == hh && !strncasecmp(p, host, hh))
                             : (n == hl && !strncasecmp(p, host, hl));
        if (match)
            return true;
        p += n;
    }
    return false;
}

/* Passkey RP ids and mailed links come from the request's host: with
 * trust-host and neither AUTH_URL nor an allow-list, anyone could choose it. */
void authc__hosts_check(const authc *a, authc__problems *pr)
{
    if (!a->trust_host || a->url || a->allowed_hosts)
        return;
    for (size_t i = 0; i < a->nproviders; i++) {
        const char *t = a->providers[i].ops->type;
        if (!strcmp(t, "email") || !strcmp(t, "webauthn")) {
            authc__problem(pr, "AUTHC_ALLOWED_HOSTS",
                           "AUTH_TRUST_HOST with %s sign-in builds links and passkey ids from the request's "
                           "Host header; set AUTH_URL to the public URL or AUTHC_ALLOWED_HOSTS to the "
                           "host[:port] names this server answers for",
                           !strcmp(t, "email") ? "email" : "passkey");
            return;
        }
    }
}
