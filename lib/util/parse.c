/* parse.c — the one parsing module: booleans, integers, durations, percent-
 * decoding, UTF-8, hosts and loopback, colours and URL splitting (libcurl). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "util/parse_int.h"
#include "util/util_int.h"

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ---- booleans ----------------------------------------------------------- */

authc_err authc__parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    if (!s)
        return AUTHC_ERR_INVALID;
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (!strcasecmp(s, yes[i])) {
            *out = true;
            return AUTHC_OK;
        }
        if (!strcasecmp(s, no[i])) {
            *out = false;
            return AUTHC_OK;
        }
    }
    return AUTHC_ERR_INVALID;
}

/* ---- lengths ---------------------------------------------------------------- */

size_t authc__len_in(const char *s, size_t max)
{
    size_t n = s ? strnlen(s, max + 1) : 0;
    return n <= max ? n : 0;
}

/* ---- integers ------------------------------------------------------------ */

authc_err authc__parse_i64_n(const char *s, size_t n, int64_t lo, int64_t hi, int64_t *out)
{
    if (!s || n == 0)
        return AUTHC_ERR_INVALID;
    bool neg = s[0] == '-';
    size_t i = neg ? 1 : 0;
    if (i == n)
        return AUTHC_ERR_INVALID;
    /* Accumulate as a negative number: its range is one larger, so
     * INT64_MIN parses without overflow. Up to 18 digits cannot overflow:
     * no check per digit (JWT times are read this way on every request). */
    int64_t v = 0;
    bool over = false;
    if (n - i <= 18) {
        for (; i < n; i++) {
            if (!is_digit((unsigned char)s[i]))
                return AUTHC_ERR_INVALID;
            v = v * 10 - (s[i] - '0');
        }
    }
    for (; i < n; i++) {
        if (!is_digit((unsigned char)s[i]))
            return AUTHC_ERR_INVALID;
        int d = s[i] - '0';
        if (v < (INT64_MIN + d) / 10)
            over = true; /* keep scanning: trailing junk is still INVALID */
        else
            v = v * 10 - d;
    }
    if (over || (!neg && v == INT64_MIN))
        return AUTHC_ERR_LIMIT;
    if (!neg)
        v = -v;
    if (v < lo || v > hi)
        return AUTHC_ERR_LIMIT;
    *out = v;
    return AUTHC_OK;
}

authc_err authc__parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    return s ? authc__parse_i64_n(s, strlen(s), lo, hi, out) : AUTHC_ERR_INVALID;
}

authc_err authc__parse_int(const char *s, int lo, int hi, int *out)
{
    int64_t v;
    authc_err e = authc__parse_i64(s, lo, hi, &v);
    if (!e)
        *out = (int)v;
    return e;
}

authc_err authc__parse_seconds(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    if (!s || !is_digit((unsigned char)s[0]))
        return AUTHC_ERR_INVALID; /* no sign: a duration is never negative */
    return authc__parse_i64(s, lo < 0 ? 0 : lo, hi, out);
}

/* ---- percent-decoding ---------------------------------------------------- */

int authc__hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

authc_err authc__pct_decode_to(char *out, size_t cap, const char *s, size_t n,
                               unsigned flags, size_t *outlen)
{
    if (!out || cap == 0 || (!s && n))
        return AUTHC_ERR_INVALID;
    authc_err e = AUTHC_OK;
    size_t o = 0;
    for (size_t i = 0; i < n && !e; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int h = i + 2 < n ? authc__hexval((unsigned char)s[i + 1]) : -1;
            int l = h >= 0 ? authc__hexval((unsigned char)s[i + 2]) : -1;
            if (l < 0) {
                e = AUTHC_ERR_INVALID;
                break;
            }
            c = (unsigned char)(h << 4 | l);
            i += 2;
        } else if (c == '+' && (flags & AUTHC__PCT_FORM)) {
            c = ' ';
        }
        if (c == 0 || ((flags & AUTHC__PCT_NO_CTL) && (c < 0x20 || c == 0x7f)))
            e = AUTHC_ERR_INVALID;
        else if (o + 1 >= cap)
            e = AUTHC_ERR_LIMIT;
        else
            out[o++] = (char)c;
    }
    if (!e && (flags & AUTHC__PCT_UTF8) && !authc__utf8_valid(out, o))
        e = AUTHC_ERR_INVALID;
    if (e) {
        authc__wipe(out, o);
        out[0] = '\0';
        return e;
    }
    out[o] = '\0';
    if (outlen)
        *outlen = o;
    return AUTHC_OK;
}

char *authc__pct_decode_heap(const char *s, size_t n, unsigned flags, authc_err *err)
{
    char *d = n < SIZE_MAX ? malloc(n + 1) : NULL;
    authc_err e = d ? authc__pct_decode_to(d, n + 1, s, n, flags, NULL) : AUTHC_ERR_NOMEM;
    if (err)
        *err = e;
    if (e) {
        free(d);
        return NULL;
    }
    return d;
}

char *authc__pct_decode(authc_arena *ar, const char *s, size_t n, bool form)
{
    char *out = authc_arena_alloc(ar, n + 1);
    if (!out || authc__pct_decode_to(out, n + 1, s, n, form ? AUTHC__PCT_FORM : 0, NULL))
        return NULL;
    return out;
}

/* ---- UTF-8 ------------------------------------------------------------------ */

size_t authc__utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    size_t len;
    uint32_t v;
    if (c < 0x80) {
        if (cp)
            *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) { /* 0xC0, 0xC1 only start overlongs */
        len = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) { /* past 0xF4 is past U+10FFFF */
        len = 4;
        v = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    if ((len == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) ||
        (len == 4 && (v < 0x10000 || v > 0x10FFFF)))
        return 0;
    if (cp)
        *cp = v;
    return len;
}

bool authc__utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) { /* ASCII runs are the common case */
            i++;
            continue;
        }
        size_t l = authc__utf8_next(p + i, n - i, NULL);
        if (!l)
            return false;
        i += l;
    }
    return true;
}

/* ---- hosts ------------------------------------------------------------------ */

bool authc__parse_ipv4(const char *s, size_t n, uint8_t out[4])
{
    uint8_t b[4];
    size_t i = 0;
    if (!s)
        return false;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= n || s[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < n && is_digit((unsigned char)s[i]) && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        size_t len = i - start;
        if (len == 0 || v > 255 || (len > 1 && s[start] == '0'))
            return false;
        b[part] = (uint8_t)v;
    }
    if (i != n)
        return false;
    if (out)
        memcpy(out, b, 4);
    return true;
}

/* s[0..n) without brackets is an IPv6 address (inet_pton is exact). */
static bool ipv6_parse(const char *s, size_t n, struct in6_addr *a)
{
    char tmp[INET6_ADDRSTRLEN + 1];
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return inet_pton(AF_INET6, tmp, a) == 1;
}

bool authc__host_is_loopback(const char *host)
{
    if (!host)
        return false;
    size_t n = strnlen(host, AUTHC__HOST_MAX + 1);
    if (n > AUTHC__HOST_MAX)
        return false;
    if (!strcasecmp(host, "localhost"))
        return true;
    uint8_t q[4];
    if (authc__parse_ipv4(host, n, q))
        return q[0] == 127;
    struct in6_addr a;
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    return ipv6_parse(host, n, &a) && IN6_IS_ADDR_LOOPBACK(&a);
}

bool authc__url_is_loopback(const char *url)
{
    authc_arena *ar = authc_arena_new();
    if (!ar)
        return false;
    authc__url u;
    bool lo = authc__url_parse(ar, url, &u) == AUTHC_OK && authc__host_is_loopback(u.host);
    authc_arena_free(ar);
    return lo;
}

bool authc__host_ok(const char *s, size_t n)
{
    if (!s || n == 0 || n > AUTHC__HOST_MAX)
        return false;
    if (s[0] == '[') {
        struct in6_addr a;
        return n >= 4 && s[n - 1] == ']' && ipv6_parse(s + 1, n - 2, &a);
    }
    if (s[0] == '.' || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_digit(c) && !is_alpha(c) && c != '.' && c != '-' && c != '_')
            return false;
    }
    return true;
}

authc_err authc__parse_port(const char *s, size_t n, int *port)
{
    int64_t v;
    if (!s || n == 0 || !is_digit((unsigned char)s[0]))
        return AUTHC_ERR_INVALID;
    authc_err e = authc__parse_i64_n(s, n, 1, 65535, &v);
    if (!e)
        *port = (int)v;
    return e;
}

authc_err authc__parse_hostport(const char *s, bool port_required, char *host,
                                size_t hostcap, int *port)
{
    if (!s || !host || hostcap == 0)
        return AUTHC_ERR_INVALID;
    size_t n = strnlen(s, AUTHC__HOST_MAX + 8);
    if (n > AUTHC__HOST_MAX + 6)
        return AUTHC_ERR_LIMIT;
    size_t hl;
    const char *colon;
    if (s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        if (!rb)
            return AUTHC_ERR_INVALID;
        hl = (size_t)(rb - s) + 1;
        colon = hl < n ? s + hl : NULL;
        if (colon && *colon != ':')
            return AUTHC_ERR_INVALID;
    } else {
        colon = memchr(s, ':', n);
        hl = colon ? (size_t)(colon - s) : n;
    }
    if (!authc__host_ok(s, hl))
        return AUTHC_ERR_INVALID;
    int p = -1;
    if (colon) {
        authc_err e = authc__parse_port(colon + 1, n - hl - 1, &p);
        if (e)
            return e;
    } else if (port_required) {
        return AUTHC_ERR_INVALID;
    }
    if (hl >= hostcap)
        return AUTHC_ERR_LIMIT;
    memcpy(host, s, hl);
    host[hl] = '\0';
    *port = p;
    return AUTHC_OK;
}

/* ---- colours ------------------------------------------------------------------ */

static bool prefix_ci(const char *s, const char *pre)
{
    for (; *pre; s++, pre++)
        if (lower(*s) != *pre)
            return false;
    return true;
}

bool authc__color_ok(const char *s)
{
    size_t n = authc__len_in(s, AUTHC__COLOR_MAX);
    if (!n)
        return false;
    if (s[0] == '#') {
        size_t d = n - 1;
        if (d != 3 && d != 4 && d != 6 && d != 8)
            return false;
        for (size_t i = 1; i < n; i++)
            if (authc__hexval((unsigned char)s[i]) < 0)
                return false;
        return true;
    }
    static const char *const fns[] = {"rgba(", "rgb(", "hsla(", "hsl("};
    for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
        size_t fl = strlen(fns[f]);
        if (!prefix_ci(s, fns[f]))
            continue;
        if (n < fl + 2 || s[n - 1] != ')')
            return false;
        bool digit = false;
        for (size_t i = fl; i < n - 1; i++) {
            if (is_digit((unsigned char)s[i]))
                digit = true;
            else if (!strchr(" .,%/-+", s[i]))
                return false;
        }
        return digit;
    }
    for (size_t i = 0; i < n; i++)
        if (!is_alpha((unsigned char)s[i]))
            return false;
    return true;
}

/* ---- names ------------------------------------------------------------------ */

bool authc__name_lookup(const authc__name_val *t, size_t n, const char *s, int *out)
{
    for (size_t i = 0; s && i < n; i++)
        if (!strcmp(t[i].name, s)) {
            *out = t[i].val;
            return true;
        }
    return false;
}

/* ---- URLs ------------------------------------------------------------------------ */

void authc__url_parts_clear(authc__url_parts *p)
{
    if (!p)
        return;
    authc__wipe(p->block, p->block_len); /* the password is in there */
    free(p->block);
    memset(p, 0, sizeof *p);
    p->port = -1;
}

/* One part as a heap copy in *dst (NULL when absent). decode: percent-
 * decode it with the module's own rule, rejecting controls. */
static authc_err get_part(CURLU *h, CURLUPart what, bool decode, char **dst)
{
    char *v = NULL;
    CURLUcode rc = curl_url_get(h, what, &v, 0);
    if (rc == CURLUE_OUT_OF_MEMORY)
        return AUTHC_ERR_NOMEM;
    if (rc != CURLUE_OK || !v) /* CURLUE_NO_USER, _NO_QUERY, …: absent */
        return AUTHC_OK;
    authc_err e = AUTHC_OK;
    size_t n = strlen(v);
    *dst = decode ? authc__pct_decode_heap(v, n, AUTHC__PCT_NO_CTL, &e) : strdup(v);
    if (!e && !*dst)
        e = AUTHC_ERR_NOMEM;
    authc__wipe(v, n);
    curl_free(v);
    return e;
}

/* The parts libcurl is asked for, in this order. */
enum { U_SCHEME, U_USER, U_PASSWORD, U_HOST, U_PORT, U_PATH, U_QUERY, U_FRAGMENT, U_N };
static const struct {
    CURLUPart part;
    bool decode;
} URL_PARTS[U_N] = {
    [U_SCHEME] = {CURLUPART_SCHEME, false}, [U_USER] = {CURLUPART_USER, true},
    [U_PASSWORD] = {CURLUPART_PASSWORD, true}, [U_HOST] = {CURLUPART_HOST, false},
    [U_PORT] = {CURLUPART_PORT, false}, [U_PATH] = {CURLUPART_PATH, false},
    [U_QUERY] = {CURLUPART_QUERY, false}, [U_FRAGMENT] = {CURLUPART_FRAGMENT, false},
};

/* Copies the string parts of v (the port is parsed, not kept) into one
 * block owned by out. */
static authc_err pack_parts(char *const v[U_N], authc__url_parts *out)
{
    const char **dst[U_N] = {&out->scheme, &out->user, &out->password, &out->host,
                             NULL, &out->path, &out->query, &out->fragment};
    size_t total = 0;
    for (int i = 0; i < U_N; i++)
        if (dst[i] && v[i])
            total += strlen(v[i]) + 1;
    if (!(out->block = malloc(total ? total : 1)))
        return AUTHC_ERR_NOMEM;
    out->block_len = total;
    char *w = out->block;
    for (int i = 0; i < U_N; i++)
        if (dst[i] && v[i]) {
            size_t n = strlen(v[i]) + 1;
            *dst[i] = memcpy(w, v[i], n);
            w += n;
        }
    return AUTHC_OK;
}

/* Checks and normalises the parts libcurl gave (v, heap strings): a scheme,
 * a valid port, an empty user or host as absent, lowercase scheme and host. */
static authc_err check_parts(char *v[U_N], int *port)
{
    if (!v[U_SCHEME])
        return AUTHC_ERR_INVALID;
    if (v[U_PORT] && authc__parse_port(v[U_PORT], strlen(v[U_PORT]), port))
        return AUTHC_ERR_INVALID;
    if (v[U_USER] && !*v[U_USER]) {
        free(v[U_USER]);
        v[U_USER] = NULL;
    }
    for (char *c = v[U_SCHEME]; *c; c++)
        *c = lower(*c);
    if (v[U_HOST] && !*v[U_HOST]) {
        free(v[U_HOST]);
        v[U_HOST] = NULL;
    }
    for (char *c = v[U_HOST]; c && *c; c++)
        *c = lower(*c);
    if (v[U_HOST] && !authc__host_ok(v[U_HOST], strlen(v[U_HOST])))
        return AUTHC_ERR_INVALID;
    return AUTHC_OK;
}

authc_err authc__url_split(const char *url, authc__url_parts *out)
{
    memset(out, 0, sizeof *out);
    out->port = -1;
    if (!url || !*url)
        return AUTHC_ERR_INVALID;
    size_t n = strnlen(url, AUTHC__URL_MAX + 1);
    if (n > AUTHC__URL_MAX)
        return AUTHC_ERR_LIMIT;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
            return AUTHC_ERR_INVALID;
    CURLU *h = curl_url();
    if (!h)
        return AUTHC_ERR_NOMEM;
    CURLUcode rc = curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    authc_err e = rc == CURLUE_OK ? AUTHC_OK : rc == CURLUE_OUT_OF_MEMORY ? AUTHC_ERR_NOMEM : AUTHC_ERR_INVALID;
    char *v[U_N] = {NULL};
    for (int i = 0; !e && i < U_N; i++)
        e = get_part(h, URL_PARTS[i].part, URL_PARTS[i].decode, &v[i]);
    curl_url_cleanup(h);
    if (!e)
        e = check_parts(v, &out->port);
    if (!e)
        e = pack_parts(v, out);
    for (int i = 0; i < U_N; i++)
        authc__free_secret(v[i]);
    if (e)
        authc__url_parts_clear(out);
    return e;
}
