/* main.c — authc-c-app: the seed's "登录与退出" as a server-rendered C app on
 * libmicrohttpd, using libauthc's auth(), signIn() and signOut() from the server. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <authc.h>

/* The `authc serve` settings module: the app reads exactly the same
 * environment (AUTH_SECRET, AUTH_URL / AUTH_TRUST_HOST, AUTHC_USERS_FILE,
 * AUTHC_DATABASE, providers, ...) and gets the same instance. */
#include "settings.h"

#define MAX_BODY (16 * 1024)   /* the app's own forms are tiny */
#define MAX_AUTH_BODY (64 * 1024)
#define MAX_URI 8192
#define MAX_HEADERS 100
#define MAX_FIELDS 32
#define MAX_PAGE (256 * 1024)

static const authc *g_auth;
static const settings *g_settings;

/* ------------------------------------------------------------------ */
/* A bounded growable string for pages. Errors stick: once `bad` is set
 * every later append is a no-op and the page becomes a 500. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool bad;
} sbuf;

static void sb_addn(sbuf *b, const char *s, size_t n)
{
    if (b->bad)
        return;
    if (b->len + n + 1 > MAX_PAGE) {
        b->bad = true;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->bad = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_add(sbuf *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->bad = true;
        return;
    }
    sb_addn(b, tmp, (size_t)n);
}

/* Appends s HTML-escaped (text and attribute values alike). */
static void sb_html(sbuf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': sb_add(b, "&amp;"); break;
        case '<': sb_add(b, "&lt;"); break;
        case '>': sb_add(b, "&gt;"); break;
        case '"': sb_add(b, "&quot;"); break;
        case '\'': sb_add(b, "&#39;"); break;
        default: sb_addn(b, s, 1);
        }
    }
}

/* Appends s percent-encoded for a query component. */
static void sb_uri(sbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            sb_addn(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            sb_addn(b, e, 3);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Per-connection state: the raw request target (with its query, which
 * libmicrohttpd's url argument lacks) and the body, both bounded. */
typedef struct conn {
    char *uri;
    char *body;
    size_t len;
    bool too_big;
    bool started;
} conn;

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    conn *st = calloc(1, sizeof *st);
    if (st && uri)
        st->uri = strndup(uri, MAX_URI + 1);
    return st;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn *st = *con_cls;
    if (st) {
        free(st->uri);
        free(st->body);
        free(st);
    }
    *con_cls = NULL;
}

typedef struct hdrs {
    authc_header h[MAX_HEADERS];
    size_t n;
    bool overflow;
} hdrs;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    hdrs *a = cls;
    if (a->n == MAX_HEADERS) {
        a->overflow = true;
        return MHD_NO;
    }
    a->h[a->n].name = key;
    a->h[a->n].value = value ? value : "";
    a->n++;
    return MHD_YES;
}

static const char *req_header(const authc_request *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (!strcasecmp(r->headers[i].name, name))
            return r->headers[i].value;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Responses. */

static enum MHD_Result send_page(struct MHD_Connection *c, unsigned status, sbuf *page)
{
    if (page->bad) {
        free(page->p);
        page->p = NULL;
        page->len = 0;
        page->bad = false;
        sb_add(page, "<!DOCTYPE html><meta charset=utf-8><h1>500</h1>");
        status = 500;
        if (page->bad)
            return MHD_NO;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(page->len, page->p, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(page->p);
        return MHD_NO;
    }
    page->p = NULL;
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    /* Pages depend on the session cookie: never cache them. */
    MHD_add_response_header(r, "Cache-Control", "private, no-store");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    /* No form-action: CSP applies it to the redirects after a post too,
     * and sign-in redirects go to whatever provider is configured. */
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* 303 See Other to a path of this app (the browser turns POST into GET). */
static enum MHD_Result send_redirect(struct MHD_Connection *c, const char *location)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Location", location);
    MHD_add_response_header(r, "Cache-Control", "private, no-store");
    enum MHD_Result ret = MHD_queue_response(c, 303, r);
    MHD_destroy_response(r);
    return ret;
}

/* Sends a libauthc response as it is (status, every Set-Cookie, body) and
 * frees it. */
static enum MHD_Result send_authc(struct MHD_Connection *c, authc_response *res)
{
    if (!res)
        return send_text(c, 500, "Internal error.\n");
    struct MHD_Response *r =
        MHD_create_response_from_buffer(res->body_len, (void *)res->body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_NO;
    if (r) {
        for (size_t i = 0; i < res->nheaders; i++)
            MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
        if (res->log_line)
            prog_log(NULL, "info", res->log_line);
        ret = MHD_queue_response(c, (unsigned)res->status, r);
        MHD_destroy_response(r);
    }
    authc_response_free(res);
    return ret;
}

/* ------------------------------------------------------------------ */
/* Form bodies (application/x-www-form-urlencoded), decoded in place. */
typedef struct form {
    const char *names[MAX_FIELDS];
    const char *values[MAX_FIELDS];
    size_t n;
} form;

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static void form_decode(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        int h, l;
        if (*p == '+') {
            *o++ = ' ';
        } else if (*p == '%' && (h = hexval(p[1])) >= 0 && (l = hexval(p[2])) >= 0) {
            *o++ = (char)(h * 16 + l);
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

/* Splits body (NUL-terminated, modified) into fields. False when there are
 * more than MAX_FIELDS or a value holds a NUL byte. */
static bool form_parse(char *body, size_t len, form *f)
{
    f->n = 0;
    if (!body || !len)
        return true;
    if (memchr(body, '\0', len))
        return false;
    for (char *save = NULL, *pair = strtok_r(body, "&", &save); pair;
         pair = strtok_r(NULL, "&", &save)) {
        if (f->n == MAX_FIELDS)
            return false;
        char *eq = strchr(pair, '=');
        if (eq)
            *eq++ = '\0';
        form_decode(pair);
        if (eq)
            form_decode(eq);
        f->names[f->n] = pair;
        f->values[f->n] = eq ? eq : "";
        f->n++;
    }
    return true;
}

static const char *form_get(const form *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->names[i], name))
            return f->values[i];
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Helpers on top of libauthc. */

/* The app's own POST handlers change the session, so (like Next.js server
 * actions) they only accept browser posts from this origin. A missing
 * Origin (curl, old browsers) is allowed; a foreign or "null" one is not. */
static bool same_origin(const authc_request *req)
{
    const char *origin = req_header(req, "Origin");
    if (!origin)
        return true;
    const char *url = settings_get(g_settings, "AUTH_URL");
    if (url && *url) {
        size_t ol = strlen(origin);
        return !strncmp(url, origin, ol) && (url[ol] == '\0' || url[ol] == '/');
    }
    const char *host =
        settings_get(g_settings, "AUTH_TRUST_HOST") ? req_header(req, "X-Forwarded-Host") : NULL;
    if (!host)
        host = req_header(req, "Host");
    if (!host)
        return false;
    size_t hl = strcspn(host, ",");
    const char *rest = !strncmp(origin, "http://", 7) ? origin + 7
                       : !strncmp(origin, "https://", 8) ? origin + 8 : NULL;
    return rest && strlen(rest) == hl && !strncasecmp(rest, host, hl);
}

/* Only paths of this app are accepted as redirect targets from forms. */
static const char *safe_target(const char *t, const char *dflt)
{
    if (!t || t[0] != '/' || t[1] == '/' || t[1] == '\\' || strlen(t) > 1024 ||
        strpbrk(t, "\r\n"))
        return dflt;
    return t;
}

/* True when an absolute or relative URL points at authc's sign-in or
 * error page (where a refused sign-in is sent). */
static bool is_auth_page(const char *loc)
{
    const char *p = loc;
    const char *sch = strstr(loc, "://");
    if (sch)
        p = strchr(sch + 3, '/');
    if (!p)
        return false;
    const char *bp = authc_base_path(g_auth);
    size_t bl = strcmp(bp, "/") ? strlen(bp) : 0;
    if (strncmp(p, bp, bl))
        return false;
    p += bl;
    return !strncmp(p, "/signin?", 8) || !strncmp(p, "/error?", 7);
}

/* The providers authc is configured with, as the JSON object of GET
 * <base>/providers. Returned value owned by the caller (json_decref);
 * NULL when it could not be read. */
static json_t *list_providers(const authc_request *orig)
{
    char url[512];
    const char *bp = authc_base_path(g_auth);
    snprintf(url, sizeof url, "%s/providers", strcmp(bp, "/") ? bp : "");
    authc_request r = *orig;
    r.method = "GET";
    r.url = url;
    r.body = NULL;
    r.body_len = 0;
    authc_response *res = NULL;
    authc_handle(g_auth, &r, &res);
    json_t *j = NULL;
    if (res && res->status == 200)
        j = json_loadb(res->body, res->body_len, 0, NULL);
    authc_response_free(res);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* ------------------------------------------------------------------ */
/* Pages. */

static void page_head(sbuf *b, const char *title)
{
    sb_add(b, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    sb_html(b, title);
    sb_add(b, "</title>\n<style>\n"
              "body{font-family:system-ui,'WenQuanYi Micro Hei',sans-serif;max-width:38rem;margin:3rem auto;padding:0 1rem;color:#1f2328}\n"
              "header{display:flex;justify-content:space-between;align-items:center;margin-bottom:1.5rem}\n"
              "header a{color:#346df1;text-decoration:none;margin-left:1rem}\n"
              ".card{border:1px solid #d0d7de;border-radius:10px;padding:1.5rem 1.75rem;box-shadow:0 1px 3px rgba(0,0,0,.06)}\n"
              "h1{margin-top:0}\n"
              "label{display:block;margin:.6rem 0 .2rem;font-size:.9rem;color:#57606a}\n"
              "input{font:inherit;padding:.45rem .6rem;border:1px solid #d0d7de;border-radius:6px;width:100%;box-sizing:border-box}\n"
              "button{font:inherit;padding:.5rem 1.1rem;border-radius:6px;border:1px solid #346df1;background:#346df1;color:#fff;cursor:pointer;margin-top:.9rem}\n"
              "button.secondary{background:#fff;color:#346df1}\n"
              ".error{background:#ffebe9;border:1px solid #ff8182;border-radius:6px;padding:.5rem .75rem}\n"
              "dl{display:grid;grid-template-columns:auto 1fr;gap:.3rem 1rem}dt{color:#57606a}dd{margin:0}\n"
              ".muted{color:#57606a;font-size:.85rem}\n"
              "form.inline{display:inline}\n"
              "</style>\n</head>\n<body>\n<header><strong>authc · C app</strong><nav>"
              "<a href=\"/\">首页 Home</a><a href=\"/dashboard\">仪表盘 Dashboard</a></nav></header>\n");
}

static void page_foot(sbuf *b)
{
    sb_add(b, "<p class=\"muted\">Rendered on the server by <code>authc-c-app</code> "
              "(libmicrohttpd + libauthc): <code>authc_auth()</code>, <code>authc_sign_in()</code>, "
              "<code>authc_sign_out()</code>.</p>\n</body>\n</html>\n");
}

static void signout_form(sbuf *b)
{
    sb_add(b, "<form method=\"post\" action=\"/actions/signout\" class=\"inline\">"
              "<button type=\"submit\" id=\"signout\" class=\"secondary\">退出 / Sign out</button></form>\n");
}

static void session_details(sbuf *b, const authc_session *s)
{
    sb_add(b, "<dl>");
    sb_add(b, "<dt>name</dt><dd id=\"user-name\">");
    sb_html(b, s->user.name ? s->user.name : "");
    sb_add(b, "</dd><dt>email</dt><dd id=\"user-email\">");
    sb_html(b, s->user.email ? s->user.email : "");
    sb_add(b, "</dd><dt>id</dt><dd>");
    sb_html(b, s->user.id ? s->user.id : "");
    sb_add(b, "</dd>");
    if (s->expires != AUTHC_NO_TIME) {
        time_t t = (time_t)(s->expires / 1000);
        struct tm tm;
        char ts[40];
        gmtime_r(&t, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        sb_printf(b, "<dt>expires</dt><dd>%s</dd>", ts);
    }
    sb_add(b, "</dl>\n");
}

static const char *display_name(const authc_session *s)
{
    if (s->user.name && *s->user.name)
        return s->user.name;
    if (s->user.email && *s->user.email)
        return s->user.email;
    return s->user.id ? s->user.id : "";
}

/* The sign-in forms: credentials fields, one button per other provider,
 * all posting to this app's own /actions/signin. */
static void signin_forms(sbuf *b, const authc_request *req)
{
    json_t *providers = list_providers(req);
    const char *key;
    json_t *p;
    bool any_other = false;
    if (providers) {
        json_object_foreach(providers, key, p) {
            const char *type = json_string_value(json_object_get(p, "type"));
            if (!type || strcmp(type, "credentials"))
                continue;
            sb_add(b, "<form method=\"post\" action=\"/actions/signin\" id=\"credentials-form\">\n"
                      "<input type=\"hidden\" name=\"provider\" value=\"");
            sb_html(b, key);
            sb_add(b, "\"><input type=\"hidden\" name=\"redirectTo\" value=\"/dashboard\">\n"
                      "<label for=\"username\">用户名 Username</label>"
                      "<input id=\"username\" name=\"username\" autocomplete=\"username\" required>\n"
                      "<label for=\"password\">密码 Password</label>"
                      "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\n"
                      "<button type=\"submit\" id=\"signin\">登录 / Sign in</button>\n</form>\n");
        }
        json_object_foreach(providers, key, p) {
            const char *type = json_string_value(json_object_get(p, "type"));
            const char *name = json_string_value(json_object_get(p, "name"));
            if (!type || !strcmp(type, "credentials"))
                continue;
            if (!any_other)
                sb_add(b, "<hr>\n");
            any_other = true;
            if (!strcmp(type, "oauth") || !strcmp(type, "oidc")) {
                sb_add(b, "<form method=\"post\" action=\"/actions/signin\">"
                          "<input type=\"hidden\" name=\"redirectTo\" value=\"/dashboard\">"
                          "<input type=\"hidden\" name=\"provider\" value=\"");
                sb_html(b, key);
                sb_add(b, "\"><button type=\"submit\" class=\"secondary\" data-provider=\"");
                sb_html(b, key);
                sb_add(b, "\">使用 ");
                sb_html(b, name ? name : key);
                sb_add(b, " 登录 / Sign in with ");
                sb_html(b, name ? name : key);
                sb_add(b, "</button></form>\n");
            } else if (!strcmp(type, "email")) {
                sb_add(b, "<form method=\"post\" action=\"/actions/signin\">"
                          "<input type=\"hidden\" name=\"redirectTo\" value=\"/dashboard\">"
                          "<input type=\"hidden\" name=\"provider\" value=\"");
                sb_html(b, key);
                sb_add(b, "\"><label>邮箱 Email</label><input name=\"email\" type=\"email\" required>"
                          "<button type=\"submit\" class=\"secondary\" data-provider=\"");
                sb_html(b, key);
                sb_add(b, "\">发送登录链接 / Email me a link</button></form>\n");
            } else {
                /* Passkeys need the browser's WebAuthn ceremony: the
                 * built-in page has the script for it. */
                sb_add(b, "<p class=\"muted\">");
                sb_html(b, name ? name : key);
                sb_add(b, ": use the built-in page below.</p>\n");
            }
        }
        json_decref(providers);
    }
    /* signIn() without a provider: the built-in page lists them all. */
    sb_add(b, "<form method=\"post\" action=\"/actions/signin\">"
              "<input type=\"hidden\" name=\"redirectTo\" value=\"/dashboard\">"
              "<button type=\"submit\" id=\"signin-page\" class=\"secondary\">内置登录页 / Built-in sign-in page</button>"
              "</form>\n");
}

static const char *error_text(const char *code)
{
    if (!strcmp(code, "CredentialsSignin"))
        return "用户名或密码错误 / Wrong username or password.";
    if (!strcmp(code, "AccessDenied"))
        return "拒绝访问 / Access denied.";
    return "登录失败 / Sign-in failed.";
}

static enum MHD_Result page_home(struct MHD_Connection *c, const authc_request *req)
{
    authc_session *s = NULL;
    authc_err e = authc_auth(g_auth, req, &s);
    if (e)
        return send_text(c, 500, "Could not read the session.\n");
    sbuf b = {0};
    page_head(&b, "authc C app");
    sb_add(&b, "<main class=\"card\">\n");
    if (s) {
        sb_add(&b, "<h1 id=\"greeting\">欢迎, ");
        sb_html(&b, display_name(s));
        sb_add(&b, "</h1>\n<p id=\"status\">已登录 / signed in</p>\n");
        session_details(&b, s);
        sb_add(&b, "<p><a href=\"/dashboard\">前往仪表盘 / Go to the dashboard →</a></p>\n");
        signout_form(&b);
    } else {
        sb_add(&b, "<h1 id=\"greeting\">未登录</h1>\n<p id=\"status\">Not signed in.</p>\n");
        const char *q = strchr(req->url, '?');
        const char *err = q ? strstr(q, "error=") : NULL;
        if (err && (err[-1] == '?' || err[-1] == '&')) {
            char code[64];
            size_t n = strcspn(err + 6, "&#");
            snprintf(code, sizeof code, "%.*s", (int)(n < sizeof code ? n : sizeof code - 1), err + 6);
            sb_add(&b, "<p class=\"error\" id=\"error\">");
            sb_html(&b, error_text(code));
            sb_add(&b, "</p>\n");
        }
        signin_forms(&b, req);
    }
    sb_add(&b, "</main>\n");
    page_foot(&b);
    authc_session_free(s);
    return send_page(c, 200, &b);
}

static enum MHD_Result page_dashboard(struct MHD_Connection *c, const authc_request *req)
{
    authc_session *s = NULL;
    if (authc_auth(g_auth, req, &s))
        return send_text(c, 500, "Could not read the session.\n");
    if (!s) {
        /* Anonymous: to the sign-in page, and back here afterwards. */
        sbuf loc = {0};
        const char *bp = authc_base_path(g_auth);
        sb_add(&loc, strcmp(bp, "/") ? bp : "");
        sb_add(&loc, "/signin?callbackUrl=");
        sb_uri(&loc, "/dashboard");
        enum MHD_Result r = loc.bad ? send_text(c, 500, "Internal error.\n") : send_redirect(c, loc.p);
        free(loc.p);
        return r;
    }
    sbuf b = {0};
    page_head(&b, "仪表盘 · authc C app");
    sb_add(&b, "<main class=\"card\">\n<h1 id=\"title\">仪表盘 Dashboard</h1>\n<p id=\"greeting\">欢迎, ");
    sb_html(&b, display_name(s));
    sb_add(&b, "</p>\n<p class=\"muted\">Only signed-in visitors see this page; "
               "anonymous ones are sent to sign in with <code>callbackUrl=/dashboard</code>.</p>\n");
    session_details(&b, s);
    signout_form(&b);
    sb_add(&b, "</main>\n");
    page_foot(&b);
    authc_session_free(s);
    return send_page(c, 200, &b);
}

/* ------------------------------------------------------------------ */
/* Actions: the seed's server-side signIn(provider, {redirectTo}) and
 * signOut({redirectTo}). */

static enum MHD_Result action_signin(struct MHD_Connection *c, const authc_request *req,
                                     conn *st)
{
    form f;
    if (!form_parse(st->body, st->len, &f))
        return send_text(c, 400, "Bad form.\n");
    const char *provider = form_get(&f, "provider");
    const char *to = safe_target(form_get(&f, "redirectTo"), "/dashboard");
    if (!provider || !*provider) {
        /* signIn() with no provider → the built-in page, then back. */
        sbuf loc = {0};
        const char *bp = authc_base_path(g_auth);
        sb_add(&loc, strcmp(bp, "/") ? bp : "");
        sb_add(&loc, "/signin?callbackUrl=");
        sb_uri(&loc, to);
        enum MHD_Result r = loc.bad ? send_text(c, 500, "Internal error.\n") : send_redirect(c, loc.p);
        free(loc.p);
        return r;
    }
    /* Everything else on the form (username, password, email, ...) is
     * handed to the provider, as signIn(provider, formData) does. */
    const char *names[MAX_FIELDS], *values[MAX_FIELDS];
    size_t n = 0;
    for (size_t i = 0; i < f.n; i++) {
        if (!strcmp(f.names[i], "provider") || !strcmp(f.names[i], "redirectTo") ||
            !strcmp(f.names[i], "callbackUrl") || !strcmp(f.names[i], "csrfToken"))
            continue;
        names[n] = f.names[i];
        values[n] = f.values[i];
        n++;
    }
    authc_response *res = NULL;
    authc_sign_in(g_auth, req, provider, to, names, values, n, &res);
    /* A refused sign-in comes back as a redirect to an error page; this
     * app shows the error on its own home page instead. */
    const char *loc = res ? authc_response_header(res, "Location") : NULL;
    const char *err = loc && is_auth_page(loc) ? strstr(loc, "?error=") : NULL;
    if (!err && loc && is_auth_page(loc))
        err = strstr(loc, "&error=");
    if (err) {
        err++;
        char target[128];
        size_t len = strcspn(err + 6, "&#");
        if (len > 64)
            len = 64;
        snprintf(target, sizeof target, "/?error=%.*s", (int)len, err + 6);
        if (res->log_line)
            prog_log(NULL, "info", res->log_line);
        authc_response_free(res);
        return send_redirect(c, target);
    }
    return send_authc(c, res);
}

static enum MHD_Result action_signout(struct MHD_Connection *c, const authc_request *req)
{
    authc_response *res = NULL;
    authc_sign_out(g_auth, req, "/", &res);
    return send_authc(c, res);
}

/* ------------------------------------------------------------------ */

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    conn *st = *con_cls;
    if (!st)
        return MHD_NO;
    if (!st->started) {
        st->started = true;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!st->too_big) {
            if (st->len + *upload_size > MAX_AUTH_BODY) {
                st->too_big = true;
                free(st->body);
                st->body = NULL;
                st->len = 0;
            } else {
                char *nb = realloc(st->body, st->len + *upload_size + 1);
                if (!nb)
                    return MHD_NO;
                memcpy(nb + st->len, upload, *upload_size);
                st->body = nb;
                st->len += *upload_size;
                st->body[st->len] = '\0';
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (st->too_big)
        return send_text(c, 413, "Request body too large.\n");
    if (!st->uri || strlen(st->uri) > MAX_URI)
        return send_text(c, 414, "URI too long.\n");
    hdrs hs = {.n = 0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &hs);
    if (hs.overflow)
        return send_text(c, 431, "Too many headers.\n");
    authc_request req = {
        .method = method, .url = st->uri, .scheme = "http", .headers = hs.h,
        .nheaders = hs.n, .body = st->body, .body_len = st->len,
    };
    /* The Auth.js routes (built-in pages, /session, /csrf, callbacks...). */
    if (authc_handles_path(g_auth, st->uri)) {
        authc_response *res = NULL;
        authc_handle(g_auth, &req, &res);
        return send_authc(c, res);
    }
    char path[MAX_URI + 2];
    snprintf(path, sizeof path, "%.*s", (int)strcspn(st->uri, "?#"), st->uri);
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    bool post = !strcmp(method, "POST");
    if (!strcmp(path, "/") && get)
        return page_home(c, &req);
    if (!strcmp(path, "/dashboard") && get)
        return page_dashboard(c, &req);
    if (!strcmp(path, "/actions/signin") || !strcmp(path, "/actions/signout")) {
        if (!post)
            return send_text(c, 405, "Method not allowed.\n");
        if (st->len > MAX_BODY)
            return send_text(c, 413, "Request body too large.\n");
        if (!same_origin(&req))
            return send_text(c, 403, "Cross-origin form post refused.\n");
        return !strcmp(path, "/actions/signin") ? action_signin(c, &req, st)
                                                : action_signout(c, &req);
    }
    return send_text(c, 404, "Not found.\n");
}

static bool parse_listen(const char *listen, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof host)
        return false;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535)
        return false;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (!strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1;
}

int main(int argc, char **argv)
{
    settings s = {0};
    const char *listen = getenv("AUTHC_APP_LISTEN");
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "--listen") || !strcmp(argv[i], "--config")) && i + 1 < argc) {
            if (argv[i][2] == 'l')
                listen = argv[++i];
            else
                s.config_file = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--listen HOST:PORT] [--config FILE]\n"
                            "  settings as for `authc serve` (AUTH_SECRET, AUTH_TRUST_HOST or AUTH_URL,\n"
                            "  AUTHC_USERS_FILE, AUTHC_DATABASE, ...); default listen 127.0.0.1:3001\n",
                    argv[0]);
            return 2;
        }
    }
    if (!listen)
        listen = "127.0.0.1:3001";
    char err[512];
    const char *cf = s.config_file ? s.config_file : getenv("AUTHC_CONFIG");
    if (cf && !settings_load_file(&s, cf, err, sizeof err)) {
        fprintf(stderr, "authc-c-app: %s\n", err);
        return 1;
    }
    struct sockaddr_in sa;
    if (!parse_listen(listen, &sa)) {
        fprintf(stderr, "authc-c-app: --listen must be IPv4-HOST:PORT, got \"%s\"\n", listen);
        settings_free(&s);
        return 2;
    }
    runtime rt;
    if (!runtime_build(&s, &rt, true, false)) {
        fprintf(stderr, "authc-c-app: refusing to start: fix the problems above\n");
        settings_free(&s);
        return 1;
    }
    g_auth = rt.auth;
    g_settings = &s;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* A thread per connection: handlers may wait on the database or an
     * OAuth provider without stalling other visitors. */
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, handler, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)512,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "authc-c-app: cannot listen on %s: %s (is the port in use?)\n", listen,
                strerror(errno));
        runtime_free(&rt);
        settings_free(&s);
        return 1;
    }
    char msg[256];
    snprintf(msg, sizeof msg, "authc-c-app listening on http://%s/ (auth routes under %s)", listen,
             authc_base_path(rt.auth));
    prog_log(NULL, "info", msg);
    int sig = 0;
    sigwait(&set, &sig);
    prog_log(NULL, "info", sig == SIGTERM ? "received SIGTERM, shutting down"
                                          : "received SIGINT, shutting down");
    MHD_stop_daemon(d);
    runtime_free(&rt);
    settings_free(&s);
    return 0;
}
