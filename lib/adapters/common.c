/* common.c — small helpers every backend shares: log lines, error text,
 * redaction of URL secrets, query parameters, socket checks, ISO dates. */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/adapters_int.h"
#include "util/parse_int.h"
#include "util/util_int.h"

/* Owned by the caller (free it in ops->destroy); NULL on OOM. */
authc_adapter *authc__adapter_new(const authc_adapter_ops *ops, void *ctx,
                                  authc_log_fn log, void *log_ud)
{
    authc_adapter *ad = calloc(1, sizeof *ad);
    if (!ad)
        return NULL;
    ad->ops = ops;
    ad->ctx = ctx;
    ad->log = log;
    ad->log_ud = log_ud;
    return ad;
}

/* ---- logging ---------------------------------------------------------- */

void authc__adapter_log(const authc_adapter *self, const char *level,
                        const char *fmt, ...)
{
    if (!self)
        return;
    va_list ap;
    va_start(ap, fmt);
    authc__logv(self->log, self->log_ud, level, fmt, ap);
    va_end(ap);
}

void authc__set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- URL redaction ------------------------------------------------------ */

/* Appends n bytes of s to out[*len] within outlen (keeps the NUL). */
static void put(char *out, size_t outlen, size_t *len, const char *s, size_t n)
{
    while (n-- && *len + 1 < outlen)
        out[(*len)++] = *s++;
    out[*len] = '\0';
}

void authc__url_redact(const char *url, char *out, size_t outlen)
{
    if (!out || !outlen)
        return;
    out[0] = '\0';
    if (!url)
        return;
    size_t len = 0;
    const char *p = url;
    const char *sep = strstr(p, "://");
    if (sep) {
        const char *auth = sep + 3;
        size_t alen = strcspn(auth, "/?#");
        /* userinfo ends at the LAST '@' of the authority (passwords may
         * contain '@' in sloppy URLs). */
        const char *at = NULL;
        for (size_t i = 0; i < alen; i++)
            if (auth[i] == '@')
                at = auth + i;
        put(out, outlen, &len, p, (size_t)(auth - p));
        if (at) {
            const char *colon = memchr(auth, ':', (size_t)(at - auth));
            if (colon) {
                put(out, outlen, &len, auth, (size_t)(colon - auth));
                put(out, outlen, &len, ":***", 4);
            } else {
                put(out, outlen, &len, auth, (size_t)(at - auth));
            }
            p = at;
        } else {
            p = auth;
        }
    }
    /* Rest: copy, blanking every "password=" value (query or conninfo). */
    while (*p) {
        if (strncasecmp(p, "password=", 9) == 0 &&
            (p == url || p[-1] == '?' || p[-1] == '&' || p[-1] == ' ' ||
             p[-1] == ';')) {
            put(out, outlen, &len, p, 9);
            put(out, outlen, &len, "***", 3);
            p += 9;
            p += strcspn(p, "& ;#");
            continue;
        }
        put(out, outlen, &len, p, 1);
        p++;
    }
}

/* Replaces every occurrence of secret[0..n) in msg with "***" (msg is
 * msglen bytes; the result is truncated to fit, after replacing). */
static void scrub_one(char *msg, size_t msglen, const char *secret, size_t n)
{
    if (n == 0 || msglen < 4)
        return;
    size_t len = strlen(msg);
    char *out = malloc(len * 3 + 1); /* worst case: 1-byte secrets */
    if (!out) {
        /* Cannot rewrite: never leave the secret. */
        snprintf(msg, msglen, "(message withheld: it named a secret)");
        return;
    }
    size_t o = 0;
    for (const char *p = msg; *p;) {
        if (strncmp(p, secret, n) == 0) {
            memcpy(out + o, "***", 3);
            o += 3;
            p += n;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    snprintf(msg, msglen, "%s", out);
    free(out);
}

/* Scrubs one secret as written in the URL and percent-decoded. */
static void scrub_both(char *msg, size_t msglen, const char *s, size_t n)
{
    char dec[4096];
    size_t dlen;
    scrub_one(msg, msglen, s, n);
    /* A password that does not decode is printed as written, if at all. */
    if (authc__pct_decode_to(dec, sizeof dec, s, n, 0, &dlen) == AUTHC_OK)
        scrub_one(msg, msglen, dec, dlen);
    authc__wipe(dec, sizeof dec);
}

void authc__scrub_url_secrets(char *msg, size_t msglen, const char *url)
{
    if (!msg || !msglen || !url)
        return;
    const char *sep = strstr(url, "://");
    const char *rest = url;
    if (sep) {
        const char *auth = sep + 3;
        size_t alen = strcspn(auth, "/?#");
        /* userinfo ends at the last '@' of the authority; in a sloppy URL
         * whose password holds '/', '?' or '#', at the last '@' at all. */
        const char *at = memrchr(auth, '@', alen);
        bool sloppy = !at;
        if (sloppy)
            at = strrchr(auth, '@');
        if (at) {
            const char *colon = memchr(auth, ':', (size_t)(at - auth));
            if (colon)
                scrub_both(msg, msglen, colon + 1, (size_t)(at - colon - 1));
            /* A parser that stops at the '/' reads its first piece as a
             * port or a host: hide that piece too. */
            if (colon && sloppy)
                scrub_both(msg, msglen, colon + 1, strcspn(colon + 1, "/?#@"));
            else if (strncasecmp(url, "redis", 5) == 0)
                /* redis://secret@host: a lone userinfo is the password */
                scrub_both(msg, msglen, auth, (size_t)(at - auth));
            rest = at;
        }
    }
    for (const char *p = rest; (p = strcasestr(p, "password=")); p += 9) {
        const char *v = p + 9;
        scrub_both(msg, msglen, v, strcspn(v, "& ;#"));
    }
}

/* ---- query parameters --------------------------------------------------- */

bool authc__query_next(const char **p, authc__qparam *out)
{
    const char *s = *p;
    for (;;) {
        if (!*s || *s == '#')
            return false;
        size_t plen = strcspn(s, "&#");
        if (plen) {
            const char *eq = memchr(s, '=', plen);
            out->raw = out->key = s;
            out->rawlen = plen;
            out->klen = eq ? (size_t)(eq - s) : plen;
            out->val = eq ? eq + 1 : s + plen;
            out->vlen = (size_t)(s + plen - out->val);
            s += plen;
            *p = *s == '&' ? s + 1 : s;
            return true;
        }
        s += *s == '&';
    }
}

bool authc__qparam_is(const authc__qparam *q, const char *key)
{
    return q->klen == strlen(key) && strncmp(q->key, key, q->klen) == 0;
}

/* ---- sockets ------------------------------------------------------------ */

bool authc__fd_idle(int fd)
{
    if (fd < 0)
        return false;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    return poll(&pfd, 1, 0) == 0;
}

/* ---- dates -------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Reads exactly n digits at *s; -1 when not digits. */
static int digits(const char **s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*s)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *s += n;
    return v;
}

authc_err authc__iso8601_parse(const char *s, int64_t *ms)
{
    if (!s || !ms)
        return AUTHC_ERR_INVALID;
    int y = digits(&s, 4);
    if (y < 0 || *s++ != '-')
        return AUTHC_ERR_INVALID;
    int mo = digits(&s, 2);
    if (mo < 1 || mo > 12 || *s++ != '-')
        return AUTHC_ERR_INVALID;
    int d = digits(&s, 2);
    if (d < 1 || d > 31 || (*s != 'T' && *s != ' '))
        return AUTHC_ERR_INVALID;
    s++;
    int h = digits(&s, 2);
    if (h < 0 || h > 23 || *s++ != ':')
        return AUTHC_ERR_INVALID;
    int mi = digits(&s, 2);
    if (mi < 0 || mi > 59 || *s++ != ':')
        return AUTHC_ERR_INVALID;
    int se = digits(&s, 2);
    if (se < 0 || se > 60)
        return AUTHC_ERR_INVALID;
    int frac = 0;
    if (*s == '.') {
        s++;
        int nd = 0;
        while (*s >= '0' && *s <= '9') {
            if (nd < 3)
                frac = frac * 10 + (*s - '0');
            nd++;
            s++;
        }
        if (nd == 0 || nd > 9)
            return AUTHC_ERR_INVALID;
        for (; nd < 3; nd++)
            frac *= 10;
    }
    if (!(strcmp(s, "Z") == 0 || strcmp(s, "+00:00") == 0 ||
          strcmp(s, "+00") == 0))
        return AUTHC_ERR_INVALID;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)se * 1000 + frac;
    /* A leap second or a rolled-over day may land past 9999-12-31T23:59:59.999Z,
     * which toISOString would print as "+010000-…": refuse it. */
    if (*ms > AUTHC__ISO_MAX_MS)
        return AUTHC_ERR_INVALID;
    return AUTHC_OK;
}

