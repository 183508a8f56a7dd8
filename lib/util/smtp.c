/* smtp.c — sends one mail over SMTP with libcurl (STARTTLS required or
 * implicit TLS, timeouts, bounded sizes) and builds its MIME message. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "util/http_int.h"
#include "util/parse_int.h"
#include "util/smtp_int.h"

/* ---- settings --------------------------------------------------------- */

void authc__smtp_clear(authc__smtp *s)
{
    if (!s)
        return;
    authc__wipe(s->block, s->block_len); /* the password is in there */
    free(s->block);
    free(s->ca_file);
    memset(s, 0, sizeof *s);
}

/* Writes libcurl's URL (scheme, host, port and EHLO name, no userinfo) and
 * copies of host, user and password (NULL stays NULL) into one block owned
 * by s; false on OOM. */
static bool pack_strings(authc__smtp *s, const char *host, const char *ehlo, const char *user,
                         const char *password)
{
    const char *src[] = {host, user, password};
    const char **dst[] = {&s->host, &s->user, &s->password};
    size_t ul = strlen(host) + strlen(ehlo) + 32, total = ul;
    for (size_t i = 0; i < 3; i++)
        total += src[i] ? strlen(src[i]) + 1 : 0;
    char *b = malloc(total);
    if (!b)
        return false;
    s->block = b;
    s->block_len = total;
    s->curl_url = b;
    b += snprintf(b, ul, "%s://%s:%u%s%s", s->implicit_tls ? "smtps" : "smtp", host, s->port,
                  *ehlo ? "/" : "", ehlo) + 1;
    for (size_t i = 0; i < 3; i++)
        if (src[i]) {
            size_t n = strlen(src[i]) + 1;
            *dst[i] = memcpy(b, src[i], n);
            b += n;
        }
    return true;
}

authc_err authc__smtp_parse(const char *url, const char *user, const char *password,
                            bool allow_plain, authc__smtp *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    authc__url_parts u;
    memset(&u, 0, sizeof u);
#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); authc__url_parts_clear(&u); authc__smtp_clear(s); \
                      return AUTHC_ERR_INVALID; } while (0)
    if (!url || !*url)
        BAD("no SMTP server URL");
    if (strnlen(url, AUTHC__SMTP_URL_MAX + 1) > AUTHC__SMTP_URL_MAX)
        BAD("SMTP server URL longer than %d characters", AUTHC__SMTP_URL_MAX);
    if (strncasecmp(url, "smtp://", 7) && strncasecmp(url, "smtps://", 8))
        BAD("SMTP server URL must start with smtp:// (STARTTLS) or smtps:// (TLS)");
    authc_err e = authc__url_split(url, &u);
    if (e == AUTHC_ERR_NOMEM)
        BAD("out of memory");
    if (e) {
        /* Say which part is wrong without echoing the URL (it may hold
         * the password). */
        for (size_t i = 0; url[i]; i++)
            if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
                BAD("SMTP server URL contains spaces or control characters");
        BAD("SMTP server URL is not valid: expected smtp[s]://[user[:password]@]host[:port][/ehlo-name], "
            "with the user name and password percent-encoded and a port from 1 to 65535");
    }
    s->implicit_tls = !strcmp(u.scheme, "smtps");
    if (u.query || u.fragment)
        BAD("SMTP server URL must not have a query or fragment (TLS is set by the scheme)");
    if (!u.host)
        BAD("SMTP server URL: missing or invalid host name");
    s->port = u.port > 0 ? (unsigned)u.port : s->implicit_tls ? 465 : 587;
    /* The path, when given, is the name sent with EHLO. */
    const char *ehlo = u.path && u.path[0] == '/' ? u.path + 1 : "";
    for (const char *c = ehlo; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != '[' && *c != ']' && *c != ':')
            BAD("SMTP server URL: the path (EHLO name) may hold only a host name");
    /* The overrides win; an empty user override means none. */
    if (user)
        user = *user ? user : NULL;
    else
        user = u.user;
    if (!password)
        password = u.password;
    if (password && !user)
        BAD("SMTP server URL: a password without a user name");
    if (allow_plain && !s->implicit_tls) {
        if (!authc__host_is_loopback(u.host))
            BAD("SMTP without TLS is allowed only to a loopback host (localhost, 127.0.0.1, [::1]); "
                "%s is not — use smtp:// with STARTTLS or smtps://", u.host);
        s->plain = true;
    }
    if (!pack_strings(s, u.host, ehlo, user, password))
        BAD("out of memory");
    authc__url_parts_clear(&u);
    s->connect_timeout_ms = 10000;
    s->timeout_ms = 30000;
    return AUTHC_OK;
#undef BAD
}

/* ---- addresses ---------------------------------------------------------- */

/* Strict UTF-8 (parse_int.h) without C1 controls or the Unicode line and
 * paragraph separators, which some clients treat as line breaks. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t v;
        size_t l = authc__utf8_next(s + i, n - i, &v);
        if (!l || (v >= 0x80 && v <= 0x9F) || v == 0x2028 || v == 0x2029)
            return false;
        i += l;
    }
    return true;
}

bool authc__mail_addr_ok(const char *addr)
{
    size_t n = authc__len_in(addr, AUTHC__ADDR_MAX);
    if (!n)
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
        *addr = strndup(in, l);
        if (!*addr)
            return AUTHC_ERR_NOMEM;
    } else {
        const char *gt = strchr(lt, '>');
        if (!gt)
            return AUTHC_ERR_INVALID;
        for (const char *q = gt + 1; *q; q++)
            if (*q != ' ')
                return AUTHC_ERR_INVALID;
        *addr = strndup(lt + 1, (size_t)(gt - lt - 1));
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
            *display = strndup(d, (size_t)(e - d));
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
    return authc__buf_take(&b, out, len);
}

/* ---- libcurl -------------------------------------------------------- */

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
    char cerr[CURL_ERROR_SIZE] = "";
    const authc__curl_base base = {s->implicit_tls ? "smtps" : "smtp", s->ca_file, s->connect_timeout_ms,
                                   s->timeout_ms, cerr};
    authc_err e = AUTHC_OK;
    CURL *h = authc__curl_open(&base, &e, err, errlen);
    if (!h)
        return e;
    char env_from[AUTHC__ADDR_MAX + 3], env_to[AUTHC__ADDR_MAX + 3];
    snprintf(env_from, sizeof env_from, "<%s>", from);
    snprintf(env_to, sizeof env_to, "<%s>", to);
    struct curl_slist *rcpt = curl_slist_append(NULL, env_to);
    reader rd = {msg, len};
    CURLcode rc = rcpt ? CURLE_OK : CURLE_OUT_OF_MEMORY;
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, val); } while (0)
    SET(CURLOPT_URL, s->curl_url);
    SET(CURLOPT_PROXY, ""); /* never an all_proxy/socks proxy from the environment */
    SET(CURLOPT_USE_SSL, s->plain ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
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
