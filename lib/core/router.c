/* router.c — the one entry point: parses a request (origin, path, query,
 * cookies, body), runs Auth.js's init steps, dispatches to an action file,
 * and turns errors into Auth.js's redirects, pages and JSON replies. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/core_int.h"

const char *authc__request_header(const authc_request *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (r->headers[i].name && (r->headers[i].name[0] | 0x20) == (name[0] | 0x20) &&
            strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

/* Fills c->hdr: one pass over the request's headers instead of a search
 * per name; the first header of a name counts, as in authc__request_header. */
static void scan_headers(authc__ctx *c)
{
    static const char *const names[AUTHC__H__COUNT] = {
        [AUTHC__H_HOST] = "Host", [AUTHC__H_COOKIE] = "Cookie", [AUTHC__H_CONTENT_TYPE] = "Content-Type",
        [AUTHC__H_ACCEPT_LANGUAGE] = "Accept-Language", [AUTHC__H_RETURN_REDIRECT] = "X-Auth-Return-Redirect",
        [AUTHC__H_XFF] = "X-Forwarded-For", [AUTHC__H_XFH] = "X-Forwarded-Host",
        [AUTHC__H_XFP] = "X-Forwarded-Proto"};
    const authc_request *r = c->req;
    unsigned found = 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        const char *n = r->headers[i].name;
        if (!n)
            continue;
        for (int k = 0; k < AUTHC__H__COUNT; k++)
            if (!(found & 1u << k) && (names[k][0] | 0x20) == (n[0] | 0x20) && !strcasecmp(n, names[k])) {
                found |= 1u << k;
                c->hdr[k] = r->headers[i].value;
                break;
            }
    }
}

const authc__provider *authc__provider_find(const authc *a, const char *id)
{
    for (size_t i = 0; id && i < a->nproviders; i++)
        if (!strcmp(a->providers[i].id, id))
            return &a->providers[i];
    return NULL;
}

const char *authc__error_url(authc__ctx *c, authc_err e)
{
    const authc *a = c->a;
    bool signin = authc__err_is_signin_kind(e);
    const char *page = signin ? a->pages_signin : a->pages_error;
    authc__buf b;
    authc__buf_init(&b, c->ar, AUTHC__MAX_URL * 2);
    if (page) {
        if (page[0] == '/')
            authc__buf_adds(&b, c->origin);
        authc__buf_adds(&b, page);
    } else {
        authc__buf_adds(&b, c->origin);
        if (strcmp(a->base_path, "/"))
            authc__buf_adds(&b, a->base_path);
        authc__buf_adds(&b, signin ? "/signin" : "/error");
    }
    authc__buf_adds(&b, page && strchr(page, '?') ? "&error=" : "?error=");
    authc__buf_add_uri_component(&b, authc_err_code(e));
    if (e == AUTHC_ERR_CREDENTIALS_SIGNIN) {
        authc__buf_adds(&b, "&code=");
        authc__buf_add_uri_component(&b, c->err_code_extra ? c->err_code_extra : "credentials");
    }
    return b.err ? c->origin : b.p;
}

/* ---- request parsing -------------------------------------------------- */

/* Who is asking: from a trusted proxy, the right-most untrusted
 * X-Forwarded-For hop. A request without client_addr (an embedding app
 * that does not say) keeps Auth.js's behaviour: its headers are believed. */
static void client_identity(authc__ctx *c)
{
    const authc_request *r = c->req;
    if (!r->client_addr) {
        c->peer_trusted = true;
        return;
    }
    authc__peer p; /* parsed once for both questions */
    authc__peer_parse(&c->a->trusted, r->client_addr, &p);
    c->peer_trusted = p.trusted;
    char *ip = authc_arena_alloc(c->ar, AUTHC__IP_STR);
    if (ip) {
        authc__client_ip_of(&c->a->trusted, &p, r->client_addr,
                            p.trusted ? c->hdr[AUTHC__H_XFF] : NULL, ip, AUTHC__IP_STR);
        c->client_ip = ip;
    }
}

static authc_err parse_origin(authc__ctx *c, const char *url, const char **path, const char **query)
{
    const authc *a = c->a;
    const authc_request *r = c->req;
    authc__url u;
    bool absolute = url[0] != '/';
    if (absolute) {
        if (authc__url_parse(c->ar, url, &u))
            return authc__fail(c, AUTHC_ERR_BAD_REQUEST, "request URL is not a valid absolute http(s) URL");
        *path = u.path;
        *query = u.query;
    } else {
        size_t pl = 0; /* up to '?' or '#' */
        while (url[pl] && url[pl] != '?' && url[pl] != '#')
            pl++;
        *path = authc_arena_strndup(c->ar, url, pl);
        *query = url[pl] == '?' ? authc_arena_strndup(c->ar, url + pl + 1, strcspn(url + pl + 1, "#")) : NULL;
        if (!*path)
            return AUTHC_ERR_NOMEM;
    }
    bool https;
    if (a->url_origin) {
        c->origin = a->url_origin;
        c->host = a->url_host;
        https = a->url_https;
    } else if (!a->trust_host) {
        return authc__fail(c, AUTHC_ERR_UNTRUSTED_HOST,
                           "UntrustedHost: host must be trusted; set AUTH_URL to this site's public URL "
                           "(e.g. https://app.example.com/auth) or AUTH_TRUST_HOST=true behind a proxy you control");
    } else if (absolute) {
        c->origin = u.origin;
        c->host = u.port ? authc__join(c->ar, u.host, ":", u.port, NULL) : u.host;
        https = !strcmp(u.scheme, "https");
    } else {
        /* Forwarded values count only from a trusted proxy, and of a list
         * only the right-most: the one that proxy appended (a client's
         * own X-Forwarded-Host sits further left). */
        char hb[512], pb[16];
        const char *xfh = c->peer_trusted ? authc__forwarded_last(
                              c->hdr[AUTHC__H_XFH], hb, sizeof hb) : NULL;
        const char *xfp = c->peer_trusted ? authc__forwarded_last(
                              c->hdr[AUTHC__H_XFP], pb, sizeof pb) : NULL;
        const char *host = xfh ? xfh : c->hdr[AUTHC__H_HOST];
        const char *scheme = xfp ? xfp : (r->scheme ? r->scheme : "http");
        if (!host || !*host)
            return authc__fail(c, AUTHC_ERR_BAD_REQUEST, "request has no Host header and AUTH_URL is not set");
        size_t hl = strlen(host), sl = strlen(scheme);
        /* A pure function of (scheme, host), which repeat request after
         * request: the thread's last good parse is reused. */
        static _Thread_local struct {
            char key[256], origin[272], host[264];
            size_t sl, hl, ol, hl2; /* key's scheme and host; origin's and host's with the NUL */
            bool https;
        } memo;
        bool fits = sl + 1 + hl < sizeof memo.key;
        if (fits && sl == memo.sl && hl == memo.hl && !memcmp(memo.key, scheme, sl) &&
            !memcmp(memo.key + sl + 1, host, hl)) {
            /* Both copies in one allocation. */
            size_t ol = memo.ol, hl2 = memo.hl2;
            char *m = authc_arena_alloc(c->ar, ol + hl2);
            if (!m)
                return AUTHC_ERR_NOMEM;
            c->origin = memcpy(m, memo.origin, ol);
            c->host = memcpy(m + ol, memo.host, hl2);
            https = memo.https;
        } else {
            char *o = authc_arena_alloc(c->ar, sl + hl + 5);
            if (o) {
                memcpy(o, scheme, sl);
                memcpy(o + sl, "://", 3);
                memcpy(o + sl + 3, host, hl);
                memcpy(o + sl + 3 + hl, "/", 2);
            }
            if (!o || authc__url_parse(c->ar, o, &u) || strcmp(u.path, "/") || u.query ||
                strcspn(o, "#") != strlen(o))
                return authc__fail(c, AUTHC_ERR_BAD_REQUEST, "Host / X-Forwarded-Host / X-Forwarded-Proto do not form a valid origin");
            c->origin = u.origin;
            c->host = u.port ? authc__join(c->ar, u.host, ":", u.port, NULL) : u.host;
            https = !strcmp(u.scheme, "https");
            if (fits && c->host && strlen(c->origin) < sizeof memo.origin && strlen(c->host) < sizeof memo.host) {
                memcpy(memo.key, scheme, sl);
                memo.key[sl] = '\n';
                memcpy(memo.key + sl + 1, host, hl + 1);
                strcpy(memo.origin, c->origin);
                strcpy(memo.host, c->host);
                memo.sl = sl;
                memo.hl = hl;
                memo.ol = strlen(memo.origin) + 1;
                memo.hl2 = strlen(memo.host) + 1;
                memo.https = https;
            }
        }
    }
    if (!a->url_origin && !authc__host_allowed(a->allowed_hosts, c->host)) {
        c->host_refused = true;
        return authc__fail(c, AUTHC_ERR_BAD_REQUEST, "host \"%.128s\" is not on AUTHC_ALLOWED_HOSTS",
                           c->host ? c->host : "");
    }
    c->secure = a->secure_cookies >= 0 ? a->secure_cookies : https;
    c->url_path = *path;
    c->url_query = *query;
    return c->host ? AUTHC_OK : AUTHC_ERR_NOMEM;
}

const char *authc__full_url(authc__ctx *c)
{
    if (!c->full_url && c->origin && c->url_path)
        c->full_url = c->url_query ? authc__join(c->ar, c->origin, c->url_path, "?", c->url_query, NULL)
                                   : authc__join(c->ar, c->origin, c->url_path, NULL);
    return c->full_url;
}

static bool parse_route(authc__ctx *c, const char *path)
{
    const authc *a = c->a;
    size_t bl = a->base_len;
    /* Auth.js matches ^<basePath>(.+) without escaping; reproduce that. */
    if (strncmp(path, a->base_path, bl) != 0 || path[bl] == '\0')
        return false;
    const char *rest = path + bl;
    const char *seg[3];
    size_t segl[3], n = 0;
    for (const char *p = rest; *p;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        size_t l = (size_t)(strchrnul(p, '/') - p);
        if (n == 3)
            return false;
        seg[n] = p;
        segl[n] = l;
        n++;
        p += l;
    }
    if (n < 1)
        return false;
    bool owned;
    const authc__route *r = authc__route_find(a, seg[0], segl[0], &owned);
    if (!r)
        return false;
    if (n == 3) { /* <name>/callback/<id> */
        if (!(r->flags & AUTHC__R_SUB_CALLBACK) || segl[1] != 8 || memcmp(seg[1], "callback", 8))
            return false;
        c->sub_callback = true;
        seg[1] = seg[2];
        segl[1] = segl[2];
        n = 2;
    }
    c->route = r;
    c->route_owned = owned;
    c->action = r->name;
    if (n == 2) {
        if (!owned && !(r->flags & (AUTHC__R_PROVIDER | AUTHC__R_SUBPATH)) && !c->sub_callback)
            return false;
        char *pid = authc__pct_decode(c->ar, seg[1], segl[1], false);
        if (!pid)
            return false;
        if (r->flags & AUTHC__R_SUBPATH)
            return (c->subpath = pid), true;
        c->provider_id = strcmp(pid, "undefined") ? pid : NULL;
    }
    return true;
}

static authc_err parse_body(authc__ctx *c)
{
    const authc_request *r = c->req;
    if (!c->post || !r->body || r->body_len == 0)
        return AUTHC_OK;
    if (r->body_len > AUTHC__MAX_BODY)
        return authc__fail(c, AUTHC_ERR_LIMIT, "request body of %zu bytes exceeds %d", r->body_len, AUTHC__MAX_BODY);
    const char *ct = c->hdr[AUTHC__H_CONTENT_TYPE];
    if (!ct)
        return AUTHC_OK;
    if (strstr(ct, "application/json")) {
        json_error_t je;
        json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
        if (!j && json_error_code(&je) == json_error_out_of_memory)
            return AUTHC_ERR_NOMEM; /* not the client's fault: no 400 */
        if (!json_is_object(j)) {
            json_decref(j);
            return AUTHC_OK; /* treated as no body: CSRF then fails where required */
        }
        c->body_json = j;
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
            if (json_is_string(v)) {
                authc_err e = authc__map_add(c->ar, &c->body, k, json_string_value(v));
                if (e)
                    return e;
            }
        }
        return AUTHC_OK;
    }
    if (strstr(ct, "application/x-www-form-urlencoded")) {
        authc_err e = authc__parse_form(c->ar, r->body, r->body_len, &c->body, AUTHC__MAX_FORM_PAIRS);
        if (e)
            return authc__fail(c, e, "form body has more than %d fields", AUTHC__MAX_FORM_PAIRS);
    }
    return AUTHC_OK;
}

/* ---- response finishing ---------------------------------------------- */

static authc_err emit_cookies(authc__ctx *c, const authc__cookie_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        char *v = authc__cookie_serialize(c, &l->items[i]);
        if (!v)
            return AUTHC_ERR_NOMEM;
        authc_err e = authc__res_header(c, "Set-Cookie", v);
        if (e)
            return e;
    }
    return AUTHC_OK;
}

static authc_err json_url_body(authc__ctx *c, const char *url)
{
    authc__buf b;
    authc__buf_init(&b, c->ar, AUTHC__MAX_URL * 4);
    authc__buf_adds(&b, "{\"url\":");
    authc__buf_add_json_str(&b, url);
    authc__buf_addc(&b, '}');
    if (b.err)
        return b.err;
    return authc__res_body(c, 200, "application/json", b.p, b.len);
}

/* The Auth.js error type named in logs (finer than the URL's code). */
static const char *error_type(authc_err e)
{
    return e == AUTHC_ERR_UNTRUSTED_HOST ? "UntrustedHost"
         : e == AUTHC_ERR_INVALID_CALLBACK_URL ? "InvalidCallbackUrl"
         : e == AUTHC_ERR_INVALID_CHECK ? "InvalidCheck"
         : e == AUTHC_ERR_ADAPTER ? "AdapterError"
         : authc_err_code(e);
}

static void log_error(authc__ctx *c, authc_err e)
{
    const char *type = error_type(e);
    authc__log(c->a, authc__err_is_signin_kind(e) || e == AUTHC_ERR_ACCESS_DENIED ||
                     e == AUTHC_ERR_VERIFICATION ? "warn" : "error",
               "[auth][error] %s: %s (%s %s)", type,
               c->err_detail ? c->err_detail : authc_strerror(e),
               c->req->method ? c->req->method : "?", c->action ? c->action : "?");
    c->log_line = authc_arena_printf(c->ar, "error %s action=%s%s%s", type,
                                     c->action ? c->action : "-", c->provider_id ? " provider=" : "",
                                     c->provider_id ? c->provider_id : "");
}

/* Assertion failures (§1.4 step 1): HTML Configuration page for the GET
 * pages, JSON 500 otherwise. */
static authc_err assertion_response(authc__ctx *c, authc_err e)
{
    log_error(c, e);
    c->res->nheaders = 0;
    bool page = c->route && (c->route->flags & AUTHC__R_PAGE) && !c->post;
    if (page) {
        if (c->a->pages_error && c->origin) {
            const char *u = authc_arena_printf(c->ar, "%s%s%s%s", c->a->pages_error[0] == '/' ? c->origin : "",
                                               c->a->pages_error,
                                               strchr(c->a->pages_error, '?') ? "&" : "?", "error=Configuration");
            return u ? authc__res_redirect(c, u) : AUTHC_ERR_NOMEM;
        }
        char *html;
        size_t len;
        int status;
        authc_err pe = authc__page_error(c->ar, &c->a->theme, authc__ctx_lang(c), "Configuration",
                                         c->origin ? c->origin : "/", c->origin ? c->origin : "/",
                                         &html, &len, &status);
        if (pe)
            return pe;
        return authc__res_body(c, 500, "text/html", html, len);
    }
    return authc__res_json(c, 500, "{\"message\":\"There was a problem with the server configuration. "
                                   "Check the server logs for more information.\"}");
}

static authc_err error_response(authc__ctx *c, authc_err e)
{
    log_error(c, e);
    if (c->provider && (!strcmp(c->action, "callback") || (!strcmp(c->action, "signin") && c->post)))
        authc__event_signin(c, error_type(e), NULL);
    c->res->nheaders = 0;
    c->res->body = NULL;
    c->res->body_len = 0;
    if (!strcmp(c->action, "session") && c->post)
        return authc__res_json(c, 400, "null");
    const char *url = authc__error_url(c, e);
    if (c->return_redirect)
        return json_url_body(c, url);
    return authc__res_redirect(c, url);
}

static authc_err dispatch(authc__ctx *c)
{
    const authc__route *r = c->route;
    /* A provider route runs only for a provider whose type owns it. */
    if (c->route_owned)
        r = c->provider ? authc__route_of_type(c->provider->ops, c->action, strlen(c->action)) : NULL;
    if (!r || !(r->methods & (c->post ? AUTHC__POST : AUTHC__GET)))
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "UnknownAction: %s %s is not supported",
                           c->post ? "POST" : "GET", c->action);
    return r->handler(c);
}

/* Runs one request; the response is always filled. */
static authc_err run(authc__ctx *c, bool *no_init_cookies)
{
    const authc_request *r = c->req;
    const char *url = r->url ? r->url : "";
    if (strlen(url) > AUTHC__MAX_URL) {
        authc__fail(c, AUTHC_ERR_LIMIT, "request URL longer than %d", AUTHC__MAX_URL);
        return authc__res_json(c, 414, "\"URI too long.\"");
    }
    const char *m = r->method ? r->method : "";
    c->post = m[0] == 'P' && !strcmp(m, "POST");
    bool get = m[0] == 'G' && !strcmp(m, "GET");
    const char *path = NULL, *query = NULL;
    client_identity(c);
    authc_err e = parse_origin(c, url, &path, &query);
    if (e == AUTHC_ERR_NOMEM)
        return e;
    bool routed = path && parse_route(c, path);
    if (routed && m[0] == 'H' && !strcmp(m, "HEAD") && (c->route->methods & AUTHC__HEAD))
        get = true; /* a route that takes HEAD answers it as GET; the server drops the body */
    if ((!c->post && !get) || !routed || e == AUTHC_ERR_BAD_REQUEST) {
        if (!c->err_detail)
            authc__fail(c, AUTHC_ERR_BAD_REQUEST, "no such route: %s %s", r->method ? r->method : "?", path ? path : "?");
        c->action = NULL;
        c->route = NULL;
        *no_init_cookies = true;
        if (c->host_refused)
            log_error(c, AUTHC_ERR_UNTRUSTED_HOST);
        return authc__res_json(c, 400, "\"Bad request.\"");
    }
    if (e) { /* untrusted host */
        *no_init_cookies = true;
        return assertion_response(c, e);
    }
    c->ck = (const char *const *)c->a->cookie_names[c->secure];
    c->accept_language = c->hdr[AUTHC__H_ACCEPT_LANGUAGE];
    c->return_redirect = c->hdr[AUTHC__H_RETURN_REDIRECT] != NULL;
    if (query && (e = authc__parse_form(c->ar, query, strlen(query), &c->query, AUTHC__MAX_FORM_PAIRS)))
        return e == AUTHC_ERR_NOMEM ? e : (*no_init_cookies = true, authc__res_json(c, 400, "\"Bad request.\""));
    if ((e = authc__cookies_parse(c, c->hdr[AUTHC__H_COOKIE])) ||
        (e = parse_body(c))) {
        if (e == AUTHC_ERR_NOMEM)
            return e;
        *no_init_cookies = true;
        log_error(c, e);
        return authc__res_json(c, 413, "\"Request too large.\"");
    }
    /* Auth.js asserts the query callbackUrl before init mints anything. */
    const char *qcb = authc__map_last(&c->query, "callbackUrl");
    if (qcb && !authc__callback_url_acceptable(qcb)) {
        *no_init_cookies = true;
        return assertion_response(c, authc__fail(c, AUTHC_ERR_INVALID_CALLBACK_URL,
            "InvalidCallbackUrl: the callbackUrl query parameter is neither a path nor an absolute http(s) URL"));
    }
    /* /providers sends no cookies (Auth.js drops init's): skip the work. */
    bool no_init = c->route && (c->route->flags & AUTHC__R_NO_INIT) && !c->post;
    if (!no_init && ((e = authc__csrf_init(c)) || (e = authc__callback_url_init(c)))) {
        *no_init_cookies = true;
        return e == AUTHC_ERR_NOMEM ? e : error_response(c, e);
    }
    if (c->provider_id) {
        c->provider = authc__provider_find(c->a, c->provider_id);
        if (!c->provider && c->sub_callback) {
            *no_init_cookies = true;
            return authc__res_json(c, 404, "{\"error\":\"NotFound\"}");
        }
        if (!c->provider) {
            *no_init_cookies = true;
            if (c->route->flags & AUTHC__R_JSON404)
                return authc__res_json(c, 404, "{\"error\":\"NotFound\"}");
            return error_response(c, authc__fail(c, AUTHC_ERR_CONFIGURATION,
                                                 "unknown provider \"%.64s\"", c->provider_id));
        }
    }
    e = dispatch(c);
    if (e) {
        *no_init_cookies = true;
        c->cookies_out.n = 0;
        return e == AUTHC_ERR_NOMEM ? e : error_response(c, e);
    }
    return AUTHC_OK;
}

static authc_err new_ctx(const authc *a, const authc_request *req, authc__ctx *c)
{
    /* The rooms at the end are written before they are read: not zeroed. */
    memset(c, 0, offsetof(authc__ctx, init_room));
#define ROOM(r) .items = c->r, .cap = sizeof c->r / sizeof *c->r
    c->init_cookies = (authc__cookie_list){ROOM(init_room)};
    c->cookies_out = (authc__cookie_list){ROOM(out_room)};
    c->cookies = (authc__map){ROOM(cookie_room)};
#undef ROOM
    authc_arena *ar = authc_arena_new();
    if (!ar)
        return AUTHC_ERR_NOMEM;
    c->a = a;
    c->ar = ar;
    c->req = req;
    scan_headers(c);
    /* The response and room for its usual headers in one allocation. */
    struct res_with_headers {
        authc_response res;
        authc_header h[AUTHC__RES_HEADERS];
    } *rh = authc_arena_alloc(ar, sizeof *rh);
    if (!rh) {
        authc_arena_free(ar);
        return AUTHC_ERR_NOMEM;
    }
    c->res = &rh->res;
    c->res->arena = ar;
    c->res->status = 200;
    c->res->headers = rh->h;
    c->hdr_cap = AUTHC__RES_HEADERS;
    return AUTHC_OK;
}

static authc_response *oom_response(void)
{
    /* Static so an out-of-memory answer needs no allocation. */
    static authc_header none[1];
    static const char body[] = "\"Internal error.\"";
    authc_response *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->status = 500;
    r->headers = none;
    r->body = body;
    r->body_len = sizeof body - 1;
    return r;
}

static authc_err handle(const authc *a, const authc_request *req, bool skip_csrf,
                        authc_response **out)
{
    authc__ctx c;
    *out = NULL;
    if (new_ctx(a, req, &c)) {
        *out = oom_response();
        return AUTHC_ERR_NOMEM;
    }
    c.skip_csrf = skip_csrf;
    bool no_init = false;
    authc_err e = run(&c, &no_init);
    if (!e && !no_init)
        e = emit_cookies(&c, &c.init_cookies);
    if (!e)
        e = emit_cookies(&c, &c.cookies_out);
    if (!e && c.return_redirect && c.res->status == 302) {
        /* The client reads {url}; Location and Set-Cookie stay as they are. */
        const char *loc = authc_response_header(c.res, "Location");
        e = json_url_body(&c, loc ? loc : c.origin);
    }
    json_decref(c.body_json);
    if (e) {
        authc_arena_free(c.ar);
        *out = oom_response();
        return AUTHC_ERR_NOMEM;
    }
    c.res->log_line = c.log_line;
    authc__response_info_set(&c);
    *out = c.res;
    return AUTHC_OK;
}

authc_err authc_handle(const authc *a, const authc_request *req, authc_response **out)
{
    return handle(a, req, false, out);
}

/* ---- server-side helpers ---------------------------------------------- */

static authc_err sub_request(const authc *a, const authc_request *orig, const char *path,
                             const char *body, authc_response **out)
{
    /* Same headers minus the ones that would change the reply's shape. */
    authc_header *h = calloc(orig->nheaders + 2, sizeof *h);
    if (!h) {
        *out = oom_response();
        return AUTHC_ERR_NOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < orig->nheaders; i++) {
        const char *nm = orig->headers[i].name;
        if (!nm || !strcasecmp(nm, "Content-Type") || !strcasecmp(nm, "X-Auth-Return-Redirect") ||
            !strcasecmp(nm, "Content-Length"))
            continue;
        h[n++] = orig->headers[i];
    }
    h[n].name = "Content-Type";
    h[n++].value = "application/x-www-form-urlencoded";
    authc_request r = *orig;
    r.method = "POST";
    r.headers = h;
    r.nheaders = n;
    r.body = body;
    r.body_len = strlen(body);
    /* Keep the caller's origin: absolute URL → swap the path. */
    char *url = NULL;
    if (orig->url && orig->url[0] != '/') {
        authc_arena *ar = authc_arena_new();
        authc__url u;
        char *abs = NULL;
        if (ar && authc__url_parse(ar, orig->url, &u) == AUTHC_OK)
            abs = authc_arena_printf(ar, "%s%s", u.origin, path);
        char *copy = abs ? strdup(abs) : NULL;
        authc_arena_free(ar);
        url = copy;
        r.url = url ? url : path;
    } else {
        r.url = path;
    }
    authc_err e = handle(a, &r, true, out);
    free(url);
    free(h);
    return e;
}

authc_err authc_sign_in(const authc *a, const authc_request *req, const char *provider,
                        const char *redirect_to, const char *const *names,
                        const char *const *values, size_t n, authc_response **out)
{
    authc_arena *ar = authc_arena_new();
    if (!ar) {
        *out = oom_response();
        return AUTHC_ERR_NOMEM;
    }
    authc__buf b;
    authc__buf_init(&b, ar, AUTHC__MAX_BODY);
    authc__buf_adds(&b, "callbackUrl=");
    authc__buf_add_form_component(&b, redirect_to ? redirect_to : "/");
    for (size_t i = 0; i < n; i++) {
        authc__buf_addc(&b, '&');
        authc__buf_add_form_component(&b, names[i]);
        authc__buf_addc(&b, '=');
        authc__buf_add_form_component(&b, values[i]);
    }
    const authc__provider *p = authc__provider_find(a, provider);
    const char *bp = strcmp(a->base_path, "/") ? a->base_path : "";
    authc__buf pb;
    authc__buf_init(&pb, ar, AUTHC__MAX_URL);
    authc__buf_adds(&pb, bp);
    authc__buf_adds(&pb, p && p->ops->signin_at_callback ? "/callback/" : "/signin/");
    authc__buf_add_uri_component(&pb, provider ? provider : "undefined");
    authc_err e;
    if (b.err || pb.err) {
        *out = oom_response();
        e = AUTHC_ERR_NOMEM;
    } else {
        e = sub_request(a, req, pb.p, b.p, out);
    }
    authc_arena_free(ar);
    return e;
}

authc_err authc_sign_out(const authc *a, const authc_request *req, const char *redirect_to,
                         authc_response **out)
{
    authc_arena *ar = authc_arena_new();
    if (!ar) {
        *out = oom_response();
        return AUTHC_ERR_NOMEM;
    }
    authc__buf b;
    authc__buf_init(&b, ar, AUTHC__MAX_BODY);
    if (redirect_to) {
        authc__buf_adds(&b, "callbackUrl=");
        authc__buf_add_form_component(&b, redirect_to);
    }
    char *path = authc_arena_printf(ar, "%s/signout", strcmp(a->base_path, "/") ? a->base_path : "");
    authc_err e;
    if (b.err || !path) {
        *out = oom_response();
        e = AUTHC_ERR_NOMEM;
    } else {
        e = sub_request(a, req, path, b.p ? b.p : "", out);
    }
    authc_arena_free(ar);
    return e;
}

authc_err authc__handle_internal(const authc *a, const authc_request *req, authc_response **out)
{
    return handle(a, req, true, out);
}

authc_err authc_auth(const authc *a, const authc_request *req, authc_session **out)
{
    *out = NULL;
    authc__ctx c;
    if (new_ctx(a, req, &c))
        return AUTHC_ERR_NOMEM;
    const char *path = NULL, *query = NULL;
    authc_err e = parse_origin(&c, req->url ? req->url : "/", &path, &query);
    if (!e) {
        c.ck = (const char *const *)a->cookie_names[c.secure];
        e = authc__cookies_parse(&c, c.hdr[AUTHC__H_COOKIE]);
    }
    authc_user *u = NULL;
    int64_t exp = AUTHC_NO_TIME;
    if (!e)
        e = authc__session_current(&c, &u, &exp, NULL);
    if (e || !u) {
        if (e && e != AUTHC_ERR_NOMEM)
            authc__log(a, "warn", "auth(): no session: %s", c.err_detail ? c.err_detail : authc_strerror(e));
        authc_arena_free(c.ar);
        return e == AUTHC_ERR_NOMEM || e == AUTHC_ERR_ADAPTER ? e : AUTHC_OK;
    }
    authc_session *s = authc_arena_alloc(c.ar, sizeof *s);
    if (!s) {
        authc_arena_free(c.ar);
        return AUTHC_ERR_NOMEM;
    }
    s->user = *u;
    s->expires = exp;
    s->arena = c.ar;
    *out = s;
    return AUTHC_OK;
}

void authc_session_free(authc_session *s)
{
    if (s)
        authc_arena_free(s->arena);
}
