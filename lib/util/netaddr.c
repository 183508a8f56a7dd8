/* netaddr.c — trusted-proxy networks, the client address behind them and
 * per-client rate keys (IPv6 by /64). One implementation for every user. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "util/netaddr_int.h"

static const uint8_t V4_PREFIX[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* A dotted quad read in place (every request's peer is one): accepts only
 * what inet_pton(AF_INET) accepts — four decimal parts, each at most 255,
 * no leading zeros — and leaves the rest to it. */
static bool v4_quick(const char *s, size_t n, uint8_t out[4])
{
    size_t i = 0;
    for (int k = 0; k < 4; k++) {
        if (k && (i >= n || s[i++] != '.'))
            return false;
        size_t st = i;
        unsigned v = 0;
        while (i < n && i - st < 3 && s[i] >= '0' && s[i] <= '9')
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == st || v > 255 || (s[st] == '0' && i - st > 1))
            return false;
        out[k] = (uint8_t)v;
    }
    return i == n;
}

bool authc__ip_parse(const char *s, size_t n, uint8_t addr[16], bool *v4)
{
    while (n && is_blank(*s))
        s++, n--;
    while (n && is_blank(s[n - 1]))
        n--;
    if (v4_quick(s, n, addr + 12)) {
        memcpy(addr, V4_PREFIX, 12);
        *v4 = true;
        return true;
    }
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']')
        s++, n -= 2;
    char tmp[INET6_ADDRSTRLEN + 1];
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    struct in_addr a4;
    if (inet_pton(AF_INET, tmp, &a4) == 1) {
        memcpy(addr, V4_PREFIX, 12);
        memcpy(addr + 12, &a4, 4);
        *v4 = true;
        return true;
    }
    if (inet_pton(AF_INET6, tmp, addr) == 1) {
        *v4 = !memcmp(addr, V4_PREFIX, 12);
        return true;
    }
    return false;
}

void authc__ip_format(const uint8_t addr[16], char *out, size_t outlen)
{
    char tmp[INET6_ADDRSTRLEN], *t = tmp;
    if (!memcmp(addr, V4_PREFIX, 12)) {
        /* Dotted quad by hand: glibc's inet_ntop formats it with sprintf,
         * and this runs for every request. */
        for (int i = 12; i < 16; i++) {
            unsigned v = addr[i];
            if (v >= 100)
                *t++ = (char)('0' + v / 100);
            if (v >= 10)
                *t++ = (char)('0' + v / 10 % 10);
            *t++ = (char)('0' + v % 10);
            *t++ = i < 15 ? '.' : '\0';
        }
    } else {
        inet_ntop(AF_INET6, addr, tmp, sizeof tmp);
    }
    size_t n = strlen(tmp);
    if (!outlen)
        return;
    n = n < outlen ? n : outlen - 1;
    memcpy(out, tmp, n);
    out[n] = '\0';
}

/* One list entry "addr" or "addr/bits". */
static bool cidr_one(const char *s, size_t n, authc__cidr *c)
{
    const char *slash = memchr(s, '/', n);
    size_t al = slash ? (size_t)(slash - s) : n;
    bool v4;
    if (!authc__ip_parse(s, al, c->addr, &v4))
        return false;
    unsigned max = v4 ? 32 : 128, bits = max;
    if (slash) {
        const char *p = slash + 1, *end = s + n;
        if (p == end || end - p > 3)
            return false;
        bits = 0;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9')
                return false;
            bits = bits * 10 + (unsigned)(*p - '0');
        }
        if (bits > max)
            return false;
    }
    c->bits = (uint8_t)(v4 ? bits + 96 : bits);
    /* Clear host bits so matching is a plain prefix compare. */
    for (unsigned i = c->bits; i < 128; i++)
        c->addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
    return true;
}

bool authc__cidrs_parse(const char *spec, authc__cidrs *out, char *why, size_t whylen)
{
    out->n = 0;
    const char *p = spec ? spec : "";
    while (*p) {
        while (*p == ',' || is_blank(*p))
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, ", \t");
        if (out->n == AUTHC__MAX_CIDRS) {
            snprintf(why, whylen, "more than %d entries", AUTHC__MAX_CIDRS);
            return false;
        }
        if (!cidr_one(p, n, &out->v[out->n])) {
            snprintf(why, whylen, "'%.*s' is not an IP address or network (a.b.c.d[/n], x::y[/n])",
                     (int)(n > 64 ? 64 : n), p);
            return false;
        }
        out->n++;
        p += n;
    }
    return true;
}

bool authc__cidrs_match(const authc__cidrs *l, const uint8_t addr[16])
{
    for (size_t i = 0; l && i < l->n; i++) {
        const authc__cidr *c = &l->v[i];
        unsigned full = c->bits / 8, rest = c->bits % 8;
        if (memcmp(addr, c->addr, full))
            continue;
        if (rest) {
            uint8_t mask = (uint8_t)(0xff00u >> rest);
            if ((addr[full] & mask) != c->addr[full])
                continue;
        }
        return true;
    }
    return false;
}

bool authc__peer_parse(const authc__cidrs *trusted, const char *peer, authc__peer *p)
{
    bool v4;
    p->ok = peer && authc__ip_parse(peer, strlen(peer), p->addr, &v4);
    p->trusted = p->ok && trusted && trusted->n && authc__cidrs_match(trusted, p->addr);
    return p->ok;
}

bool authc__peer_trusted(const authc__cidrs *trusted, const char *peer)
{
    authc__peer p;
    authc__peer_parse(trusted, peer, &p);
    return p.trusted;
}

void authc__client_ip_of(const authc__cidrs *trusted, const authc__peer *p, const char *peer,
                         const char *xff, char *out, size_t outlen)
{
    if (!p->ok) {
        snprintf(out, outlen, "%s", peer ? peer : "");
        return;
    }
    uint8_t a[16];
    memcpy(a, p->addr, 16);
    if (xff && p->trusted) {
        /* Walk right to left over at most AUTHC__MAX_XFF_HOPS hops. */
        const char *end = xff + strlen(xff);
        for (int hops = 0; end > xff && hops < AUTHC__MAX_XFF_HOPS; hops++) {
            const char *b = end;
            while (b > xff && b[-1] != ',')
                b--;
            uint8_t h[16];
            bool v4;
            if (!authc__ip_parse(b, (size_t)(end - b), h, &v4))
                break; /* garbage: keep the last good (trusted) hop */
            memcpy(a, h, 16);
            if (!authc__cidrs_match(trusted, h))
                break;
            end = b > xff ? b - 1 : b;
        }
    }
    authc__ip_format(a, out, outlen);
}

bool authc__client_ip(const authc__cidrs *trusted, const char *peer, const char *xff,
                      char *out, size_t outlen)
{
    authc__peer p;
    authc__peer_parse(trusted, peer, &p);
    authc__client_ip_of(trusted, &p, peer, xff, out, outlen);
    return p.ok;
}

const char *authc__forwarded_last(const char *value, char *out, size_t outlen)
{
    if (!value)
        return NULL;
    const char *b = strrchr(value, ',');
    b = b ? b + 1 : value;
    while (is_blank(*b))
        b++;
    size_t n = strlen(b);
    while (n && is_blank(b[n - 1]))
        n--;
    if (n == 0 || n >= outlen)
        return NULL;
    memcpy(out, b, n);
    out[n] = '\0';
    return out;
}

void authc__ip_rate_key(const char *ip, char *out, size_t outlen)
{
    uint8_t a[16];
    bool v4;
    if (!ip || !authc__ip_parse(ip, strlen(ip), a, &v4)) {
        snprintf(out, outlen, "%s", ip ? ip : "");
        return;
    }
    if (v4) {
        authc__ip_format(a, out, outlen);
        return;
    }
    memset(a + 8, 0, 8);
    char tmp[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, a, tmp, sizeof tmp);
    snprintf(out, outlen, "%s/64", tmp);
}
