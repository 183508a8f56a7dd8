/* buf.c — bounded string builder on an arena, plus the escaping appenders
 * (HTML, JSON, URI component, form) that pages and responses use. */
#include <stdio.h>
#include <string.h>

#include "util/util_int.h"

void authc__buf_init(authc__buf *b, authc_arena *ar, size_t max)
{
    memset(b, 0, sizeof *b);
    b->ar = ar;
    b->max = max;
}

authc_err authc__buf_take(const authc__buf *b, char **out, size_t *len)
{
    if (b->err)
        return b->err;
    *out = b->p;
    if (len)
        *len = b->len;
    return AUTHC_OK;
}

static bool grow(authc__buf *b, size_t extra)
{
    if (b->err)
        return false;
    if (extra > b->max || b->len > b->max - extra) {
        b->err = AUTHC_ERR_LIMIT;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = authc_arena_alloc(b->ar, cap);
    if (!p) {
        b->err = AUTHC_ERR_NOMEM;
        return false;
    }
    if (b->len)
        memcpy(p, b->p, b->len);
    p[b->len] = '\0';
    b->p = p;
    b->cap = cap;
    return true;
}

void authc__buf_reserve(authc__buf *b, size_t n)
{
    if (!b->err)
        grow(b, n < b->max - b->len ? n : b->max - b->len);
}

void authc__buf_add(authc__buf *b, const void *data, size_t n)
{
    if (!grow(b, n))
        return;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void authc__buf_adds(authc__buf *b, const char *s)
{
    if (s)
        authc__buf_add(b, s, strlen(s));
}

void authc__buf_addc(authc__buf *b, char c)
{
    authc__buf_add(b, &c, 1);
}

void authc__buf_printf(authc__buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->err = AUTHC_ERR_INVALID;
        return;
    }
    if ((size_t)n < sizeof tmp) {
        authc__buf_add(b, tmp, (size_t)n);
        return;
    }
    if (!grow(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Appends s with each byte that rep() replaces swapped for its
 * replacement, copying the runs between in one go. rep returns NULL for a
 * byte that passes through; tmp is room for a replacement it builds. */
static void add_escaped(authc__buf *b, const char *s,
                        const char *(*rep)(unsigned char c, char tmp[7]))
{
    const char *run = s;
    for (const char *p = s; *p; p++) {
        char tmp[7];
        const char *r = rep((unsigned char)*p, tmp);
        if (!r)
            continue;
        authc__buf_add(b, run, (size_t)(p - run));
        authc__buf_adds(b, r);
        run = p + 1;
    }
    authc__buf_adds(b, run);
}

static const char *html_rep(unsigned char c, char tmp[7])
{
    (void)tmp;
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    default: return NULL;
    }
}

void authc__buf_add_html(authc__buf *b, const char *s)
{
    if (s)
        add_escaped(b, s, html_rep);
}

static const char *json_rep(unsigned char c, char tmp[7])
{
    static const char hexd[] = "0123456789abcdef";
    switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\b': return "\\b";
    case '\f': return "\\f";
    default:
        if (c >= 0x20)
            return NULL;
        tmp[0] = '\\'; tmp[1] = 'u'; tmp[2] = '0'; tmp[3] = '0';
        tmp[4] = hexd[c >> 4]; tmp[5] = hexd[c & 15]; tmp[6] = 0;
        return tmp;
    }
}

void authc__buf_add_json_str(authc__buf *b, const char *s)
{
    authc__buf_addc(b, '"');
    if (s)
        add_escaped(b, s, json_rep);
    authc__buf_addc(b, '"');
}

/* Bytes each encoder passes through unchanged (bit 1: encodeURIComponent
 * keeps A-Z a-z 0-9 - _ . ! ~ * ' ( ); bit 2: URLSearchParams keeps A-Z
 * a-z 0-9 * - . _; test_buf checks every byte). A byte table, so a run
 * (a whole session token) is scanned at a few instructions per byte. */
static const unsigned char KEEP[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 3, 0, 0, 3, 3, 0,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0,
    0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 3,
    0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 1, 0,
};
#define KEEP_URI 1
#define KEEP_FORM 2

static void add_pct(authc__buf *b, const char *s, bool form)
{
    static const char hexd[] = "0123456789ABCDEF";
    if (!s)
        return;
    const unsigned char keep = form ? KEEP_FORM : KEEP_URI;
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    while (p < end) {
        /* Copy runs of pass-through bytes in one go (tokens are all run):
         * eight table entries ANDed, one branch per eight bytes. */
        const unsigned char *run = p;
        while (end - p >= 8 && (KEEP[p[0]] & KEEP[p[1]] & KEEP[p[2]] & KEEP[p[3]] & KEEP[p[4]] &
                                KEEP[p[5]] & KEEP[p[6]] & KEEP[p[7]] & keep))
            p += 8;
        while (p < end && (KEEP[*p] & keep))
            p++;
        if (p > run)
            authc__buf_add(b, run, (size_t)(p - run));
        if (p == end)
            break;
        if (form && *p == ' ') {
            authc__buf_addc(b, '+');
        } else {
            char e[3] = {'%', hexd[*p >> 4], hexd[*p & 15]};
            authc__buf_add(b, e, 3);
        }
        p++;
    }
}

void authc__buf_add_uri_component(authc__buf *b, const char *s)
{
    add_pct(b, s, false);
}

void authc__buf_add_form_component(authc__buf *b, const char *s)
{
    add_pct(b, s, true);
}

char *authc__join(authc_arena *ar, ...)
{
    va_list ap;
    size_t n = 0;
    va_start(ap, ar);
    for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *))
        n += strlen(s);
    va_end(ap);
    char *out = authc_arena_alloc(ar, n + 1);
    if (!out)
        return NULL;
    char *o = out;
    va_start(ap, ar);
    for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *)) {
        size_t l = strlen(s);
        memcpy(o, s, l);
        o += l;
    }
    va_end(ap);
    *o = '\0';
    return out;
}

void authc__buf_add_url_param(authc__buf *b, const char *url, const char *name, const char *value)
{
    authc__buf_adds(b, url);
    authc__buf_addc(b, strchr(url, '?') ? '&' : '?');
    authc__buf_adds(b, name);
    authc__buf_addc(b, '=');
    authc__buf_add_uri_component(b, value);
}
