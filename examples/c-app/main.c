/* main.c — authc-c-app: the seed's "登录与退出" as a server-rendered C app on
 * h2o (libh2o-evloop), using libauthc's auth(), signIn() and signOut(). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <h2o.h>

#include <authc.h>
#include <authc/env.h>

#define MAX_BODY (16 * 1024)   /* the app's own forms are tiny */
#define MAX_AUTH_BODY (64 * 1024)
#define MAX_URI 8192
#define MAX_HEADERS 100 /* h2o's own limit too */
#define MAX_FIELDS 32
#define MAX_PAGE (256 * 1024)

static const authc *g_auth;
/* Where authc's settings came from: the app reads its own there too. */
static const authc_settings *g_settings;

/* ------------------------------------------------------------------ */
/* A bounded string for pages (p malloc'd, the caller frees it). Errors
 * stick: once `bad` is set every later append is a no-op and the page
 * becomes a 500. A page is at most MAX_PAGE, so p is that size from the
 * first append on (short-lived: one response). */
typedef struct sbuf {
    char *p;
    size_t len;
    bool bad;
} sbuf;

static void sb_addn(sbuf *b, const char *s, size_t n)
{
    if (b->bad)
        return;
    if (b->len + n + 1 > MAX_PAGE || (!b->p && !(b->p = malloc(MAX_PAGE)))) {
        b->bad = true;
        return;
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
/* Requests: h2o's strings are not NUL-terminated; libauthc wants C
 * strings, so the request is copied into the request's memory pool. */

static char *pool_str(h2o_req_t *r, const char *s, size_t len)
{
    return h2o_strdup(&r->pool, s, len).base;
}

/* Fills *out from r; everything lives as long as r. */
static void to_authc_request(h2o_req_t *r, authc_request *out)
{
    authc_header *h = h2o_mem_alloc_pool(&r->pool, (MAX_HEADERS + 1) * sizeof *h);
    size_t n = 0;
    /* h2o keeps Host apart, as the authority. */
    if (r->input.authority.base)
        h[n++] = (authc_header){"host", pool_str(r, r->input.authority.base, r->input.authority.len)};
    for (size_t i = 0; i < r->headers.size && n <= MAX_HEADERS; i++) {
        const h2o_header_t *e = r->headers.entries + i;
        h[n++] = (authc_header){pool_str(r, e->name->base, e->name->len),
                                pool_str(r, e->value.base, e->value.len)};
    }
    *out = (authc_request){
        .method = pool_str(r, r->input.method.base, r->input.method.len),
        .url = pool_str(r, r->input.path.base, r->input.path.len),
        .scheme = "http",
        .headers = h,
        .nheaders = n,
        .body = r->entity.base ? pool_str(r, r->entity.base, r->entity.len) : NULL,
        .body_len = r->entity.base ? r->entity.len : 0,
    };
}

static const char *req_header(const authc_request *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (!strcasecmp(r->headers[i].name, name))
            return r->headers[i].value;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Responses. Each send_* answers the request and returns 0 (h2o's
 * "handled"). */

static const char *reason(int status)
{
    static const struct { int code; const char *text; } R[] = {
        {200, "OK"}, {302, "Found"}, {303, "See Other"}, {400, "Bad Request"}, {403, "Forbidden"},
        {404, "Not Found"}, {405, "Method Not Allowed"}, {413, "Payload Too Large"},
        {414, "URI Too Long"}, {500, "Internal Server Error"},
    };
    for (size_t i = 0; i < sizeof R / sizeof *R; i++)
        if (R[i].code == status)
            return R[i].text;
    return "Status";
}

/* Adds a header; name and value are copied into the request's pool. */
static void add_header(h2o_req_t *r, const char *name, const char *value)
{
    size_t nl = strlen(name);
    char *lower = pool_str(r, name, nl);
    for (char *p = lower; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    h2o_add_header_by_str(&r->pool, &r->res.headers, lower, nl, 1, NULL, pool_str(r, value, strlen(value)),
                          strlen(value));
}

static int send_body(h2o_req_t *r, int status, const char *type, const char *body, size_t len)
{
    r->res.status = status;
    r->res.reason = reason(status);
    if (type)
        add_header(r, "Content-Type", type);
    r->res.content_length = len;
    h2o_send_inline(r, body, len);
    return 0;
}

static int send_text(h2o_req_t *r, int status, const char *body)
{
    return send_body(r, status, "text/plain; charset=utf-8", body, strlen(body));
}

static int send_page(h2o_req_t *r, int status, sbuf *page)
{
    if (page->bad) {
        free(page->p);
        return send_body(r, 500, "text/html; charset=utf-8", "<!DOCTYPE html><meta charset=utf-8><h1>500</h1>",
                         strlen("<!DOCTYPE html><meta charset=utf-8><h1>500</h1>"));
    }
    /* Pages depend on the session cookie: never cache them. */
    add_header(r, "Cache-Control", "private, no-store");
    add_header(r, "X-Frame-Options", "DENY");
    add_header(r, "X-Content-Type-Options", "nosniff");
    /* No form-action: CSP applies it to the redirects after a post too,
     * and sign-in redirects go to whatever provider is configured. */
    add_header(r, "Content-Security-Policy",
               "default-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    send_body(r, status, "text/html; charset=utf-8", page->p, page->len);
    free(page->p); /* h2o_send_inline copied it */
    return 0;
}

/* 303 See Other to a path of this app (the browser turns POST into GET). */
static int send_redirect(h2o_req_t *r, const char *location)
{
    add_header(r, "Location", location);
    add_header(r, "Cache-Control", "private, no-store");
    return send_body(r, 303, NULL, "", 0);
}

/* Sends a libauthc response as it is (status, every Set-Cookie, body) and
 * frees it. */
static int send_authc(h2o_req_t *r, authc_response *res)
{
    if (!res)
        return send_text(r, 500, "Internal error.\n");
    for (size_t i = 0; i < res->nheaders; i++)
        if (strcasecmp(res->headers[i].name, "Content-Length")) /* h2o frames the body */
            add_header(r, res->headers[i].name, res->headers[i].value);
    if (res->log_line)
        authc_log_stderr(NULL, "info", res->log_line);
    send_body(r, res->status, NULL, res->body ? res->body : "", res->body_len);
    authc_response_free(res);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Form bodies: libauthc's authc_form_parse decodes them as it decodes its
 * own (the fields live in an arena the handler frees). */

static const char *form_get(const authc_header *f, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(f[i].name, name))
            return f[i].value;
    return NULL;
}

/* The request URL's ?error= code (decoded, owned by ar), or NULL. */
static const char *query_error(authc_arena *ar, const char *url)
{
    const char *q = strchr(url, '?');
    authc_header *f;
    size_t n;
    if (!ar || !q || authc_form_parse(ar, q + 1, strcspn(q + 1, "#"), MAX_FIELDS, &f, &n))
        return NULL;
    return form_get(f, n, "error");
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
    const char *url = authc_settings_get(g_settings, "AUTH_URL");
    if (url && *url) {
        size_t ol = strlen(origin);
        return !strncmp(url, origin, ol) && (url[ol] == '\0' || url[ol] == '/');
    }
    const char *host =
        authc_settings_get(g_settings, "AUTH_TRUST_HOST") ? req_header(req, "X-Forwarded-Host") : NULL;
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
              "(h2o + libauthc): <code>authc_auth()</code>, <code>authc_sign_in()</code>, "
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

/* Opens a form that signs in with provider `key` through /actions/signin
 * and comes back to /dashboard. */
static void signin_form_open(sbuf *b, const char *key)
{
    sb_add(b, "<form method=\"post\" action=\"/actions/signin\">"
              "<input type=\"hidden\" name=\"redirectTo\" value=\"/dashboard\">"
              "<input type=\"hidden\" name=\"provider\" value=\"");
    sb_html(b, key);
    sb_add(b, "\">");
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
                signin_form_open(b, key);
                sb_add(b, "<button type=\"submit\" class=\"secondary\" data-provider=\"");
                sb_html(b, key);
                sb_add(b, "\">使用 ");
                sb_html(b, name ? name : key);
                sb_add(b, " 登录 / Sign in with ");
                sb_html(b, name ? name : key);
                sb_add(b, "</button></form>\n");
            } else if (!strcmp(type, "email")) {
                signin_form_open(b, key);
                sb_add(b, "<label>邮箱 Email</label><input name=\"email\" type=\"email\" required>"
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

static int page_home(h2o_req_t *c, const authc_request *req)
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
        authc_arena *ar = authc_arena_new();
        const char *code = query_error(ar, req->url);
        if (code) {
            sb_add(&b, "<p class=\"error\" id=\"error\">");
            sb_html(&b, error_text(code));
            sb_add(&b, "</p>\n");
        }
        authc_arena_free(ar);
        signin_forms(&b, req);
    }
    sb_add(&b, "</main>\n");
    page_foot(&b);
    authc_session_free(s);
    return send_page(c, 200, &b);
}

static int page_dashboard(h2o_req_t *c, const authc_request *req)
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
        int r = loc.bad ? send_text(c, 500, "Internal error.\n") : send_redirect(c, loc.p);
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

static int action_signin_form(h2o_req_t *c, const authc_request *req, const authc_header *f,
                              size_t nf);

static int action_signin(h2o_req_t *c, const authc_request *req)
{
    authc_arena *ar = authc_arena_new();
    authc_header *f = NULL;
    size_t nf = 0;
    authc_err e = ar ? authc_form_parse(ar, req->body, req->body_len, MAX_FIELDS, &f, &nf)
                     : AUTHC_ERR_NOMEM;
    int r = e ? send_text(c, e == AUTHC_ERR_NOMEM ? 500 : 400, "Bad form.\n")
              : action_signin_form(c, req, f, nf);
    authc_arena_free(ar);
    return r;
}

static int action_signin_form(h2o_req_t *c, const authc_request *req, const authc_header *f,
                              size_t nf)
{
    const char *provider = form_get(f, nf, "provider");
    const char *to = safe_target(form_get(f, nf, "redirectTo"), "/dashboard");
    if (!provider || !*provider) {
        /* signIn() with no provider → the built-in page, then back. */
        sbuf loc = {0};
        const char *bp = authc_base_path(g_auth);
        sb_add(&loc, strcmp(bp, "/") ? bp : "");
        sb_add(&loc, "/signin?callbackUrl=");
        sb_uri(&loc, to);
        int r = loc.bad ? send_text(c, 500, "Internal error.\n") : send_redirect(c, loc.p);
        free(loc.p);
        return r;
    }
    /* Everything else on the form (username, password, email, ...) is
     * handed to the provider, as signIn(provider, formData) does. */
    const char *names[MAX_FIELDS], *values[MAX_FIELDS];
    size_t n = 0;
    for (size_t i = 0; i < nf; i++) {
        if (!strcmp(f[i].name, "provider") || !strcmp(f[i].name, "redirectTo") ||
            !strcmp(f[i].name, "callbackUrl") || !strcmp(f[i].name, "csrfToken"))
            continue;
        names[n] = f[i].name;
        values[n] = f[i].value;
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
            authc_log_stderr(NULL, "info", res->log_line);
        authc_response_free(res);
        return send_redirect(c, target);
    }
    return send_authc(c, res);
}

static int action_signout(h2o_req_t *c, const authc_request *req)
{
    authc_response *res = NULL;
    authc_sign_out(g_auth, req, "/", &res);
    return send_authc(c, res);
}

/* ------------------------------------------------------------------ */
/* ------------------------------------------------------------------ */

static int on_req(h2o_handler_t *self, h2o_req_t *r)
{
    (void)self;
    if (r->input.path.len > MAX_URI)
        return send_text(r, 414, "URI too long.\n");
    authc_request req;
    to_authc_request(r, &req);
    /* The Auth.js routes (built-in pages, /session, /csrf, callbacks...). */
    if (authc_handles_path(g_auth, req.url)) {
        authc_response *res = NULL;
        authc_handle(g_auth, &req, &res);
        return send_authc(r, res);
    }
    const char *path = pool_str(r, req.url, strcspn(req.url, "?#"));
    bool get = !strcmp(req.method, "GET") || !strcmp(req.method, "HEAD");
    bool post = !strcmp(req.method, "POST");
    if (!strcmp(path, "/") && get)
        return page_home(r, &req);
    if (!strcmp(path, "/dashboard") && get)
        return page_dashboard(r, &req);
    if (!strcmp(path, "/actions/signin") || !strcmp(path, "/actions/signout")) {
        if (!post)
            return send_text(r, 405, "Method not allowed.\n");
        if (req.body_len > MAX_BODY)
            return send_text(r, 413, "Request body too large.\n");
        if (!same_origin(&req))
            return send_text(r, 403, "Cross-origin form post refused.\n");
        return !strcmp(path, "/actions/signin") ? action_signin(r, &req) : action_signout(r, &req);
    }
    return send_text(r, 404, "Not found.\n");
}

/* ------------------------------------------------------------------ */
/* One h2o event loop: a listener, and a signalfd for SIGINT/SIGTERM. */

typedef struct server {
    h2o_globalconf_t config;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept;
    h2o_socket_t *listener;
    h2o_socket_t *signals;
    int stop; /* the signal that ends the loop */
} server;

static server g_srv;

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err)
        return;
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (sock)
        h2o_accept(&g_srv.accept, sock);
}

static void on_signal(h2o_socket_t *sock, const char *err)
{
    if (err) {
        g_srv.stop = SIGTERM;
        return;
    }
    struct signalfd_siginfo si; /* copied: the buffer is not aligned for it */
    if (sock->input->size >= sizeof si) {
        memcpy(&si, sock->input->bytes, sizeof si);
        g_srv.stop = (int)si.ssi_signo;
    }
    h2o_buffer_consume(&sock->input, sock->input->size);
}

/* Binds listen (port 0: any free one) and prints the address in use.
 * False with the reason on stderr. */
static bool server_listen(server *sv, struct sockaddr_in *sa, const char *where)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;
    socklen_t sl = sizeof *sa;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) ||
        bind(fd, (struct sockaddr *)sa, sizeof *sa) || listen(fd, SOMAXCONN) ||
        getsockname(fd, (struct sockaddr *)sa, &sl)) {
        fprintf(stderr, "authc-c-app: cannot listen on %s: %s (is the port in use?)\n", where, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    sv->listener = h2o_evloop_socket_create(sv->ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    h2o_socket_read_start(sv->listener, on_accept);
    char ip[INET_ADDRSTRLEN], msg[256];
    inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof ip);
    snprintf(msg, sizeof msg, "authc-c-app listening on http://%s:%u/ (auth routes under %s)", ip,
             (unsigned)ntohs(sa->sin_port), authc_base_path(g_auth));
    authc_log_stderr(NULL, "info", msg);
    return true;
}

/* SIGINT and SIGTERM, blocked in every thread (main blocks them before
 * libauthc starts any) so that only the signalfd sees them. */
static void stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Lets open connections finish (keep-alive ones close after their
 * current answer) for up to a second. */
static void drain(server *sv)
{
    h2o_context_request_shutdown(&sv->ctx);
    for (int i = 0; i < 20 && !h2o_linklist_is_empty(&sv->ctx.http1._conns); i++)
        h2o_evloop_run(sv->ctx.loop, 50);
}

/* Serves until SIGINT or SIGTERM. Returns the exit code. */
static int serve(struct sockaddr_in *sa, const char *where)
{
    server *sv = &g_srv;
    sigset_t set;
    stop_signals(&set);
    h2o_config_init(&sv->config);
    /* Bodies larger than this are refused by h2o with 413. */
    sv->config.max_request_entity_size = MAX_AUTH_BODY;
    h2o_hostconf_t *host = h2o_config_register_host(&sv->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof *handler);
    handler->on_req = on_req;
    h2o_context_init(&sv->ctx, h2o_evloop_create(), &sv->config);
    sv->accept = (h2o_accept_ctx_t){.ctx = &sv->ctx, .hosts = sv->config.hosts};
    int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    int rc = 1;
    if (sfd >= 0 && server_listen(sv, sa, where)) {
        sv->signals = h2o_evloop_socket_create(sv->ctx.loop, sfd, 0);
        h2o_socket_read_start(sv->signals, on_signal);
        while (!sv->stop && h2o_evloop_run(sv->ctx.loop, INT32_MAX) == 0)
            ;
        authc_log_stderr(NULL, "info", sv->stop == SIGINT ? "received SIGINT, shutting down"
                                                          : "received SIGTERM, shutting down");
        h2o_socket_close(sv->listener);
        h2o_socket_close(sv->signals);
        rc = 0;
        drain(sv);
    } else if (sfd < 0) {
        fprintf(stderr, "authc-c-app: signalfd: %s\n", strerror(errno));
    }
    /* The context and its connections are left to the process exit: h2o
     * 2.2 cannot dispose a context while sockets or timers are pending. */
    return rc;
}

int main(int argc, char **argv)
{
    const char *listen = NULL, *config_file = getenv("AUTHC_CONFIG");
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "--listen") || !strcmp(argv[i], "--config")) && i + 1 < argc) {
            if (argv[i][2] == 'l')
                listen = argv[++i];
            else
                config_file = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--listen HOST:PORT] [--config FILE]\n"
                            "  settings as for `authc serve` (AUTH_SECRET, AUTH_TRUST_HOST or AUTH_URL,\n"
                            "  AUTHC_USERS_FILE, AUTHC_DATABASE, ...); listen: AUTHC_APP_LISTEN,\n"
                            "  default 127.0.0.1:3001 (port 0: any free port)\n",
                    argv[0]);
            return 2;
        }
    }
    sigset_t set;
    stop_signals(&set);
    /* The same settings as `authc serve`: the environment, then the file. */
    static char err[16384];
    authc_resources *res = NULL;
    authc_config *cfg = authc_config_from_env(config_file, &(authc_env_options){.migrate = true}, &res,
                                              err, sizeof err);
    authc *a = cfg ? authc_new(cfg, err, sizeof err) : NULL;
    if (!a) {
        for (char *save = NULL, *l = strtok_r(err, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            fprintf(stderr, "authc-c-app: %s\n", l);
        fprintf(stderr, "authc-c-app: refusing to start: fix the problems above\n");
        authc_resources_free(res);
        return 1;
    }
    g_auth = a;
    /* The app's own settings come from the same place. */
    g_settings = authc_resources_settings(res);
    if (!listen)
        listen = authc_settings_get(g_settings, "AUTHC_APP_LISTEN");
    if (!listen)
        listen = "127.0.0.1:3001";
    struct sockaddr_in sa;
    int rc = 2;
    if (!authc_parse_listen(listen, &sa, err, sizeof err))
        fprintf(stderr, "authc-c-app: %s\n", err);
    else
        rc = serve(&sa, listen);
    authc_free(a);
    authc_resources_free(res);
    return rc;
}
