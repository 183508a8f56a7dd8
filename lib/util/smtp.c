/* smtp.c — sends one mail over SMTP with libcurl (STARTTLS required or
 * implicit TLS, timeouts, bounded sizes) and builds its MIME message. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "util/smtp_int.h"

/* ---- settings --------------------------------------------------------- */

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes userinfo into a heap string; NULL on a bad escape, NUL
 * or a control character (they would end up in the AUTH exchange). */
static char *userinfo_decode(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n) {
                authc__wipe(d, k);
                free(d);
                return NULL;
            }
            int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
            if (a < 0 || b < 0) {
                authc__wipe(d, k);
                free(d);
                return NULL;
            }
            c = (unsigned char)(a * 16 + b);
            i += 2;
        }
        if (c < 0x20 || c == 0x7f) {
            authc__wipe(d, k);
            free(d);
            return NULL;
        }
        d[k++] = (char)c;
    }
    d[k] = '\0';
    return d;
}

bool authc__smtp_host_is_loopback(const char *host)
{
    if (!host)
        return false;
    if (!strcasecmp(host, "localhost") || !strcmp(host, "[::1]"))
        return true;
    /* A dotted quad in 127.0.0.0/8. */
    unsigned a, b, c, d;
    char tail;
    if (sscanf(host, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) == 4)
        return a == 127 && b < 256 && c < 256 && d < 256;
    return false;
}

static bool host_chars_ok(const char *h, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    if (h[0] == '[') {
        if (n < 4 || h[n - 1] != ']')
            return false;
        for (size_t i = 1; i + 1 < n; i++)
            if (!isxdigit((unsigned char)h[i]) && h[i] != ':' && h[i] != '.')
                return false;
        return true;
    }
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)h[i]) && h[i] != '.' && h[i] != '-' && h[i] != '_')
            return false;
    return h[0] != '.' && h[0] != '-';
}

void authc__smtp_clear(authc__smtp *s)
{
    if (!s)
        return;
    free(s->curl_url);
    free(s->host);
    free(s->user);
    if (s->password) {
        authc__wipe(s->password, strlen(s->password));
        free(s->password);
    }
    free(s->ca_file);
    memset(s, 0, sizeof *s);
}

authc_err authc__smtp_parse(const char *url, const char *user, const char *password,
                            bool allow_plain, authc__smtp *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); authc__smtp_clear(s); return AUTHC_ERR_INVALID; } while (0)
    if (!url || !*url)
        BAD("no SMTP server URL");
    size_t ul = strlen(url);
    if (ul > AUTHC__SMTP_URL_MAX)
        BAD("SMTP server URL longer than %d characters", AUTHC__SMTP_URL_MAX);
    for (size_t i = 0; i < ul; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
            BAD("SMTP server URL contains spaces or control characters");
    const char *p;
    if (!strncasecmp(url, "smtp://", 7)) {
        p = url + 7;
    } else if (!strncasecmp(url, "smtps://", 8)) {
        p = url + 8;
        s->implicit_tls = true;
    } else {
        BAD("SMTP server URL must start with smtp:// (STARTTLS) or smtps:// (TLS)");
    }
    size_t al = strcspn(p, "/?#");
    const char *rest = p + al;
    if (*rest == '?' || *rest == '#')
        BAD("SMTP server URL must not have a query or fragment (TLS is set by the scheme)");
    const char *at = NULL;
    for (const char *q = p; q < p + al; q++)
        if (*q == '@')
            at = q;
    const char *hp = p;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        size_t ulen = colon ? (size_t)(colon - p) : (size_t)(at - p);
        s->user = userinfo_decode(p, ulen);
        if (colon)
            s->password = userinfo_decode(colon + 1, (size_t)(at - colon - 1));
        if (!s->user || (colon && !s->password))
            BAD("SMTP server URL: the user name or password is not valid percent-encoding");
        if (!*s->user) {
            free(s->user);
            s->user = NULL;
        }
        hp = at + 1;
    }
    size_t hl = (size_t)(p + al - hp);
    const char *port = NULL;
    size_t host_len = hl;
    if (hl && hp[0] == '[') {
        const char *rb = memchr(hp, ']', hl);
        if (!rb)
            BAD("SMTP server URL: unterminated IPv6 address");
        host_len = (size_t)(rb - hp) + 1;
        if (host_len < hl) {
            if (hp[host_len] != ':')
                BAD("SMTP server URL: bad host");
            port = hp + host_len + 1;
        }
    } else {
        const char *colon = memchr(hp, ':', hl);
        if (colon) {
            host_len = (size_t)(colon - hp);
            port = colon + 1;
        }
    }
    if (!host_chars_ok(hp, host_len))
        BAD("SMTP server URL: missing or invalid host name");
    s->host = dup_n(hp, host_len);
    if (!s->host)
        BAD("out of memory");
    for (char *c = s->host; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    s->port = s->implicit_tls ? 465 : 587;
    if (port) {
        size_t pl = (size_t)(p + al - port);
        if (pl == 0 || pl > 5)
            BAD("SMTP server URL: bad port");
        unsigned v = 0;
        for (size_t i = 0; i < pl; i++) {
            if (!isdigit((unsigned char)port[i]))
                BAD("SMTP server URL: bad port");
            v = v * 10 + (unsigned)(port[i] - '0');
        }
        if (v == 0 || v > 65535)
            BAD("SMTP server URL: port out of range");
        s->port = v;
    }
    /* The path, when given, is the name sent with EHLO. */
    const char *ehlo = *rest == '/' ? rest + 1 : "";
    for (const char *c = ehlo; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != '[' && *c != ']' && *c != ':')
            BAD("SMTP server URL: the path (EHLO name) may hold only a host name");
    if (user) {
        free(s->user);
        s->user = *user ? strdup(user) : NULL;
        if (*user && !s->user)
            BAD("out of memory");
    }
    if (password) {
        if (s->password) {
            authc__wipe(s->password, strlen(s->password));
            free(s->password);
        }
        s->password = strdup(password);
        if (!s->password)
            BAD("out of memory");
    }
    if (s->password && !s->user)
        BAD("SMTP server URL: a password without a user name");
    if (allow_plain && !s->implicit_tls) {
        if (!authc__smtp_host_is_loopback(s->host))
            BAD("SMTP without TLS is allowed only to a loopback host (localhost, 127.0.0.1, [::1]); "
                "%s is not — use smtp:// with STARTTLS or smtps://", s->host);
        s->plain = true;
    }
    size_t cl = strlen(s->host) + strlen(ehlo) + 32;
    s->curl_url = malloc(cl);
    if (!s->curl_url)
        BAD("out of memory");
    snprintf(s->curl_url, cl, "%s://%s:%u%s%s", s->implicit_tls ? "smtps" : "smtp", s->host, s->port,
             *ehlo ? "/" : "", ehlo);
    s->connect_timeout_ms = 10000;
    s->timeout_ms = 30000;
    return AUTHC_OK;
#undef BAD
}

/* ---- addresses ---------------------------------------------------------- */

static bool utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t need;
        uint32_t v;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
            v = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            v = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            v = c & 0x07;
        } else {
            return false;
        }
        if (n - i - 1 < need)
            return false;
        for (size_t j = 1; j <= need; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
            v = (v << 6) | (s[i + j] & 0x3F);
        }
        if ((need == 2 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) ||
            (need == 3 && (v < 0x10000 || v > 0x10FFFF)))
            return false;
        /* C1 controls and the Unicode line/paragraph separators. */
        if ((v >= 0x80 && v <= 0x9F) || v == 0x2028 || v == 0x2029)
            return false;
        i += need + 1;
    }
    return true;
}

bool authc__mail_addr_ok(const char *addr)
{
    if (!addr)
        return false;
    size_t n = strnlen(addr, AUTHC__ADDR_MAX + 1);
    if (n == 0 || n > AUTHC__ADDR_MAX)
        return false;
    const char *at = NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)addr[i];
        if (c <= 0x20 || c == 0x7f || strchr("<>()[]\\,;:\"", c))
            return false;
        if (c == '@') {
            if (at)
                return false;
            at = addr + i;
        }
    }
    return at && at != addr && at[1] && utf8_ok((const unsigned char *)addr, n);
}

authc_err authc__mailbox_parse(const char *in, char **display, char **addr)
{
    *display = NULL;
    *addr = NULL;
    if (!in)
        return AUTHC_ERR_INVALID;
    size_t n = strnlen(in, 1024 + 1);
    if (n > 1024)
        return AUTHC_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)in[i] < 0x20 || in[i] == 0x7f)
            return AUTHC_ERR_INVALID;
    if (!utf8_ok((const unsigned char *)in, n))
        return AUTHC_ERR_INVALID;
    const char *lt = strrchr(in, '<');
    if (!lt) {
        while (*in == ' ')
            in++;
        size_t l = strlen(in);
        while (l && in[l - 1] == ' ')
            l--;
        *addr = dup_n(in, l);
        if (!*addr)
            return AUTHC_ERR_NOMEM;
    } else {
        const char *gt = strchr(lt, '>');
        if (!gt)
            return AUTHC_ERR_INVALID;
        for (const char *q = gt + 1; *q; q++)
            if (*q != ' ')
                return AUTHC_ERR_INVALID;
        *addr = dup_n(lt + 1, (size_t)(gt - lt - 1));
        const char *d = in, *e = lt;
        while (d < e && *d == ' ')
            d++;
        while (e > d && e[-1] == ' ')
            e--;
        /* A quoted display name loses its quotes (we re-quote on output). */
        if (e - d >= 2 && *d == '"' && e[-1] == '"') {
            d++;
            e--;
        }
        /* Quoted and escaped it must fit one header line (RFC 5322: 998). */
        if (e - d > 200) {
            free(*addr);
            *addr = NULL;
            return AUTHC_ERR_INVALID;
        }
        if (e > d) {
            *display = dup_n(d, (size_t)(e - d));
            if (!*display) {
                free(*addr);
                *addr = NULL;
                return AUTHC_ERR_NOMEM;
            }
        }
        if (!*addr)
            return AUTHC_ERR_NOMEM;
    }
    if (!authc__mail_addr_ok(*addr)) {
        free(*addr);
        free(*display);
        *addr = *display = NULL;
        return AUTHC_ERR_INVALID;
    }
    return AUTHC_OK;
}

/* ---- MIME ------------------------------------------------------------ */

static const char HEXU[] = "0123456789ABCDEF";

void authc__mime_qp(authc__buf *b, const char *text)
{
    size_t col = 0;
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    while (*p) {
        if (*p == '\r' && p[1] == '\n') {
            p++;
            continue;
        }
        if (*p == '\n') {
            authc__buf_adds(b, "\r\n");
            col = 0;
            p++;
            continue;
        }
        unsigned char c = *p;
        bool at_eol = p[1] == '\0' || p[1] == '\n' || (p[1] == '\r' && p[2] == '\n');
        bool lit = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_eol);
        if (c == '.' && col == 0)
            lit = false; /* a lone "." line would end the SMTP DATA */
        size_t w = lit ? 1 : 3;
        /* 76 characters per line, the soft break "=" included. */
        if (col + w > 75 && !(at_eol && col + w <= 76)) {
            authc__buf_adds(b, "=\r\n");
            col = 0;
            if (c == '.')
                lit = false, w = 3;
        }
        if (lit) {
            authc__buf_addc(b, (char)c);
        } else {
            char e[3] = {'=', HEXU[c >> 4], HEXU[c & 15]};
            authc__buf_add(b, e, 3);
        }
        col += w;
        p++;
    }
}

static bool plain_ascii(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return false;
    return !strstr(s, "=?");
}

/* Length of the UTF-8 sequence starting with c (1 for stray bytes). */
static size_t u8len(unsigned char c)
{
    return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

void authc__mime_header_text(authc__buf *b, const char *text, size_t used)
{
    if (!text)
        return;
    size_t n = strlen(text);
    if (plain_ascii(text) && used + n <= 998) {
        authc__buf_add(b, text, n);
        return;
    }
    /* "=?UTF-8?B?" + base64 + "?=" ≤ 75: at most 45 bytes (60 base64
     * characters) per word. */
    const size_t max_raw = 45;
    size_t i = 0;
    bool first = true;
    while (i < n) {
        size_t take = 0;
        while (i + take < n) {
            size_t l = u8len((unsigned char)text[i + take]);
            if (i + take + l > n)
                l = n - i - take;
            if (take + l > max_raw)
                break;
            take += l;
        }
        if (take == 0)
            take = 1;
        if (!first)
            authc__buf_adds(b, "\r\n ");
        first = false;
        char *enc = authc__b64_encode(b->ar, (const uint8_t *)text + i, take);
        if (!enc) {
            if (!b->err)
                b->err = AUTHC_ERR_NOMEM;
            return;
        }
        authc__buf_adds(b, "=?UTF-8?B?");
        authc__buf_adds(b, enc);
        authc__buf_adds(b, "?=");
        i += take;
    }
}

/* RFC 5322 phrase: an atom-safe or quoted ASCII name, else encoded words. */
static void add_display_name(authc__buf *b, const char *name, size_t used)
{
    if (!plain_ascii(name)) {
        authc__mime_header_text(b, name, used);
        return;
    }
    authc__buf_addc(b, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\')
            authc__buf_addc(b, '\\');
        authc__buf_addc(b, *p);
    }
    authc__buf_addc(b, '"');
}

static void rfc5322_date(char out[40], int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    static const char *const D[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const M[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", D[tm.tm_wday % 7], tm.tm_mday,
             M[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static const char *random_hex(authc_arena *ar, size_t bytes)
{
    uint8_t r[32];
    if (bytes > sizeof r || authc__random(r, bytes))
        return NULL;
    char *h = authc_arena_alloc(ar, bytes * 2 + 1);
    if (h)
        authc__hex(h, r, bytes);
    return h;
}

authc_err authc__mime_build(authc_arena *ar, const authc__mail *m, char **out, size_t *len)
{
    if (!authc__mail_addr_ok(m->to) || !authc__mail_addr_ok(m->from_addr))
        return AUTHC_ERR_INVALID;
    const char *boundary = m->boundary ? m->boundary : NULL;
    if (!boundary) {
        const char *r = random_hex(ar, 16);
        boundary = r ? authc_arena_printf(ar, "authc-%s", r) : NULL;
    }
    const char *mid = m->message_id;
    if (!mid) {
        const char *r = random_hex(ar, 16);
        mid = r ? authc_arena_printf(ar, "%s%s", r, strchr(m->from_addr, '@')) : NULL;
    }
    if (!boundary || !mid)
        return AUTHC_ERR_NOMEM;
    char date[40];
    rfc5322_date(date, m->date_ms);
    authc__buf b;
    authc__buf_init(&b, ar, AUTHC__MAIL_MAX);
    authc__buf_adds(&b, "From: ");
    if (m->from_display && *m->from_display) {
        add_display_name(&b, m->from_display, 6);
        authc__buf_adds(&b, " ");
    }
    authc__buf_printf(&b, "<%s>\r\nTo: <%s>\r\nSubject: ", m->from_addr, m->to);
    authc__mime_header_text(&b, m->subject ? m->subject : "", 9);
    authc__buf_printf(&b, "\r\nDate: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n"
                          "Auto-Submitted: auto-generated\r\n"
                          "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n",
                      date, mid, boundary);
    authc__buf_printf(&b, "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                          "Content-Transfer-Encoding: quoted-printable\r\n\r\n", boundary);
    authc__mime_qp(&b, m->text);
    authc__buf_printf(&b, "\r\n--%s\r\nContent-Type: text/html; charset=UTF-8\r\n"
                          "Content-Transfer-Encoding: quoted-printable\r\n\r\n", boundary);
    authc__mime_qp(&b, m->html);
    authc__buf_printf(&b, "\r\n--%s--\r\n", boundary);
    if (b.err)
        return b.err;
    *out = b.p;
    *len = b.len;
    return AUTHC_OK;
}

/* ---- libcurl -------------------------------------------------------- */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CURLcode g_init = CURLE_FAILED_INIT;

static void global_init(void)
{
    g_init = curl_global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct reader {
    const char *p;
    size_t left;
} reader;

static size_t on_read(char *dst, size_t size, size_t nmemb, void *ud)
{
    reader *r = ud;
    size_t n = size * nmemb;
    if (n > r->left)
        n = r->left;
    memcpy(dst, r->p, n);
    r->p += n;
    r->left -= n;
    return n;
}

/* SMTP replies are read by libcurl with its own bounded buffer; we only
 * discard anything handed to the write callback. */
static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    (void)data;
    (void)ud;
    return size * nmemb;
}

authc_err authc__smtp_send(const authc__smtp *s, const char *from, const char *to,
                           const char *msg, size_t len, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    if (!authc__mail_addr_ok(from) || !authc__mail_addr_ok(to) || len > AUTHC__MAIL_MAX) {
        snprintf(err, errlen, "refused to send: bad address or message too large");
        return AUTHC_ERR_INVALID;
    }
    pthread_once(&g_once, global_init);
    if (g_init != CURLE_OK) {
        snprintf(err, errlen, "libcurl could not be initialised");
        return AUTHC_ERR_IO;
    }
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(err, errlen, "libcurl: out of memory");
        return AUTHC_ERR_NOMEM;
    }
    char env_from[AUTHC__ADDR_MAX + 3], env_to[AUTHC__ADDR_MAX + 3];
    snprintf(env_from, sizeof env_from, "<%s>", from);
    snprintf(env_to, sizeof env_to, "<%s>", to);
    struct curl_slist *rcpt = curl_slist_append(NULL, env_to);
    char cerr[CURL_ERROR_SIZE] = "";
    reader rd = {msg, len};
    CURLcode rc = rcpt ? CURLE_OK : CURLE_OUT_OF_MEMORY;
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, val); } while (0)
    SET(CURLOPT_URL, s->curl_url);
    SET(CURLOPT_PROTOCOLS_STR, s->implicit_tls ? "smtps" : "smtp");
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROXY, ""); /* never an all_proxy/socks proxy from the environment */
    SET(CURLOPT_ERRORBUFFER, cerr);
    SET(CURLOPT_CONNECTTIMEOUT_MS, s->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, s->timeout_ms);
    SET(CURLOPT_USE_SSL, s->plain ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (s->ca_file)
        SET(CURLOPT_CAINFO, s->ca_file);
    if (s->user) {
        SET(CURLOPT_USERNAME, s->user);
        SET(CURLOPT_PASSWORD, s->password ? s->password : "");
        /* Never hand the password to a server that has not proven itself
         * over TLS: plain SMTP is loopback-only, so AUTH is allowed there. */
    }
    SET(CURLOPT_MAIL_FROM, env_from);
    SET(CURLOPT_MAIL_RCPT, rcpt);
    SET(CURLOPT_READFUNCTION, on_read);
    SET(CURLOPT_READDATA, &rd);
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_UPLOAD, 1L);
    SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
#undef SET
    if (rc == CURLE_OK)
        rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    authc_err e = AUTHC_OK;
    if (rc != CURLE_OK) {
        e = rc == CURLE_OPERATION_TIMEDOUT ? AUTHC_ERR_TIMEOUT
          : rc == CURLE_OUT_OF_MEMORY ? AUTHC_ERR_NOMEM : AUTHC_ERR_IO;
        snprintf(err, errlen, "SMTP %s:%u: %s%s%s (last reply %ld)", s->host, s->port,
                 curl_easy_strerror(rc), cerr[0] ? ": " : "", cerr, code);
        /* libcurl's message is one line; keep the log line one line too. */
        for (char *c = err; *c; c++)
            if (*c == '\r' || *c == '\n')
                *c = ' ';
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(h);
    return e;
}
