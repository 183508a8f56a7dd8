/* forward.c — GET|HEAD <base>/forward: forward-auth for nginx auth_request,
 * Traefik forwardAuth and Caddy forward_auth (docs/forward-auth.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_int.h"
#include "core/db_tokens_int.h"
#include "forward/rules_int.h"
#include "forward/target_int.h"
#include "metrics/metrics_int.h"
#include "util/parse_int.h"

#define FWD_GROUPS_MAX AUTHC__JWT_GROUPS_MAX /* entries of a groups claim passed on */
#define FWD_HEADER_MAX 8192        /* longest X-Auth-Request-* value sent */

/* ---- settings ------------------------------------------------------------ */

authc_err authc__forward_config_set(struct authc *a, const char *key, const char *value,
                                    char *err, size_t errlen)
{
    if (!strcmp(key, "forward.rules")) {
        char *f = *value ? strdup(value) : NULL;
        if (*value && !f)
            return AUTHC_ERR_NOMEM;
        free(a->forward_rules_file);
        a->forward_rules_file = f;
        return AUTHC_OK;
    }
    if (!strcmp(key, "forward.pass_access_token")) {
        if (authc__parse_bool(value, &a->forward_pass_access_token)) {
            snprintf(err, errlen, "forward.pass_access_token must be one of " AUTHC__BOOL_WORDS);
            return AUTHC_ERR_INVALID;
        }
        return AUTHC_OK;
    }
    snprintf(err, errlen, "unknown setting \"%s\"", key);
    return AUTHC_ERR_INVALID;
}

void authc__forward_init(struct authc *a, authc__problems *pr)
{
    if (!a->forward_rules_file)
        return;
    char why[AUTHC__EXPLAIN_MAX];
    a->forward_rules = authc__rules_load(a->forward_rules_file, why, sizeof why);
    if (a->forward_rules)
        return;
    if (!strncmp(why, "line ", 5)) /* a parse error: say which file */
        authc__problem(pr, "AUTHC_FORWARD_RULES", "%s %s", a->forward_rules_file, why);
    else
        authc__problem(pr, "AUTHC_FORWARD_RULES", "%s", why);
}

void authc__forward_free(struct authc *a)
{
    authc__rules_free(a->forward_rules);
    a->forward_rules = NULL;
    free(a->forward_rules_file);
    a->forward_rules_file = NULL;
}

/* ---- the subject: who the session belongs to ------------------------------ */

/* A string claim copied into the arena, or NULL. */
static const char *claim_str(authc__ctx *c, json_t *claims, const char *name)
{
    const char *v = json_string_value(json_object_get(claims, name));
    return v ? authc_arena_strdup(c->ar, v) : NULL;
}

/* The groups claim: an array of strings (others skipped) or one string. */
static authc_err claim_groups(authc__ctx *c, json_t *claims, authc__fwd_subject *s)
{
    json_t *g = json_object_get(claims, "groups");
    size_t n = json_is_array(g) ? json_array_size(g) : json_is_string(g) ? 1 : 0;
    if (n > FWD_GROUPS_MAX)
        n = FWD_GROUPS_MAX;
    if (!n)
        return AUTHC_OK;
    const char **v = authc_arena_alloc(c->ar, n * sizeof *v);
    if (!v)
        return AUTHC_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_is_array(g) ? json_array_get(g, i) : g;
        if (json_is_string(e) && !(v[k++] = authc_arena_strdup(c->ar, json_string_value(e))))
            return AUTHC_ERR_NOMEM;
    }
    s->groups = v;
    s->n_groups = k;
    return AUTHC_OK;
}

/* Fills s (and the access token) from what the /session read found. */
static authc_err subject_of(authc__ctx *c, const authc__session_view *v, authc__fwd_subject *s,
                            const char **access_token)
{
    memset(s, 0, sizeof *s);
    *access_token = NULL;
    if (v->fields) { /* the fast scanner's copies, arena-owned already */
        const authc__jwt_fields *f = v->fields;
        s->signed_in = true;
        s->user_id = f->sub;
        s->email = f->email;
        s->name = f->name;
        s->provider = f->provider;
        s->groups = f->groups;
        s->n_groups = f->n_groups;
        *access_token = f->access_token;
        return AUTHC_OK;
    }
    if (v->claims) {
        s->signed_in = true;
        s->user_id = claim_str(c, v->claims, "sub");
        s->email = claim_str(c, v->claims, "email");
        s->name = claim_str(c, v->claims, "name");
        s->provider = claim_str(c, v->claims, "provider");
        *access_token = claim_str(c, v->claims, "access_token");
        return claim_groups(c, v->claims, s);
    }
    if (v->user) {
        s->signed_in = true;
        s->user_id = v->user->id;
        s->email = v->user->email;
        s->name = v->user->name;
        *access_token = authc__db_forward_token(c, v->user->id); /* rotation: db_tokens.c */
    }
    return AUTHC_OK;
}

/* ---- answers --------------------------------------------------------------- */

/* A header value is sent only when it cannot split the response. */
static authc_err safe_header(authc__ctx *c, const char *name, const char *value)
{
    if (!value || !*value || strlen(value) > FWD_HEADER_MAX)
        return AUTHC_OK;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return AUTHC_OK;
    return authc__res_header(c, name, value);
}

static authc_err identity_headers(authc__ctx *c, const authc__fwd_subject *s, const char *access_token)
{
    authc__buf g;
    authc__buf_init(&g, c->ar, FWD_HEADER_MAX);
    for (size_t i = 0; i < s->n_groups; i++) {
        if (i)
            authc__buf_addc(&g, ',');
        authc__buf_adds(&g, s->groups[i]);
    }
    authc_err e = safe_header(c, "X-Auth-Request-User", s->user_id);
    if (!e)
        e = safe_header(c, "X-Auth-Request-Email", s->email);
    if (!e)
        e = safe_header(c, "X-Auth-Request-Preferred-Username", s->name);
    if (!e && s->n_groups && !g.err)
        e = safe_header(c, "X-Auth-Request-Groups", g.p);
    if (!e && c->a->forward_pass_access_token)
        e = safe_header(c, "X-Auth-Request-Access-Token", access_token);
    return e;
}

/* <origin><base>/signin (or pages.signIn) ?callbackUrl=<target>, arena. */
static const char *signin_url(authc__ctx *c, const char *target)
{
    const authc *a = c->a;
    const char *page = a->pages_signin;
    authc__buf b;
    authc__buf_init(&b, c->ar, AUTHC__MAX_URL * 4);
    if (!page || page[0] == '/')
        authc__buf_adds(&b, c->origin);
    if (page) {
        authc__buf_adds(&b, page);
    } else {
        if (strcmp(a->base_path, "/"))
            authc__buf_adds(&b, a->base_path);
        authc__buf_adds(&b, "/signin");
    }
    authc__buf_adds(&b, page && strchr(page, '?') ? "&callbackUrl=" : "?callbackUrl=");
    authc__buf_add_uri_component(&b, target);
    return b.err ? NULL : b.p;
}

static authc_err answer_json(authc__ctx *c, int status, const char *json)
{
    authc_err e = authc__res_header(c, "Cache-Control", "no-store");
    return e ? e : authc__res_json(c, status, json);
}

/* No session where one is needed. A browser navigating through
 * Traefik/Caddy gets the redirect; nginx always a 401 (anything else is a
 * 500 to auth_request), whose Location names the sign-in page for its
 * error_page only when the browser is navigating: a favicon or XHR sent
 * there would overwrite the callback-url cookie of the page itself. */
static authc_err need_session(authc__ctx *c, const authc__fwd_req *t)
{
    bool nav = authc__forward_is_navigation(c->req);
    const char *url = nav ? signin_url(c, t->url) : NULL;
    if (nav && !url)
        return AUTHC_ERR_NOMEM;
    authc_err e = authc__res_header(c, "Cache-Control", "no-store");
    if (e)
        return e;
    if (t->mode == AUTHC__FWD_MODE_REDIRECT && nav) {
        c->res->status = authc__forward_redirect_status(t->method);
        return authc__res_header(c, "Location", url);
    }
    if (t->mode == AUTHC__FWD_MODE_NGINX) {
        if ((e = authc__res_header(c, "WWW-Authenticate", "Bearer realm=\"authc\"")) ||
            (nav && (e = authc__res_header(c, "Location", url))))
            return e;
    }
    return authc__res_json(c, 401, "{\"error\":\"SessionRequired\"}");
}

/* ---- the action ------------------------------------------------------------ */

/* authc_forward_auth_total{decision}: allow, deny, unauthenticated, error. */
static void count(const char *decision)
{
    authc__metric_inc(AUTHC__M_FORWARD_AUTH, decision, NULL, NULL);
}

/* Reads the session through GET /session's own code, then throws its
 * reply away: only the view and the re-issued cookie are kept. */
static authc_err read_session(authc__ctx *c, authc__session_view *v)
{
    c->session_view = v;
    authc_err e = authc__action_session(c);
    c->session_view = NULL;
    c->res->status = 200;
    c->res->nheaders = 0;
    c->res->body = NULL;
    c->res->body_len = 0;
    return e;
}

static authc_err decide_and_answer(authc__ctx *c, const authc__fwd_req *t, const authc__session_view *v)
{
    authc__fwd_subject s;
    const char *access_token;
    authc_err e = subject_of(c, v, &s, &access_token);
    if (e)
        return e;
    const authc__map *q = &c->query;
    authc__fwd_query fq = {
        .allowed_emails = authc__map_last(q, "allowed_emails"),
        .allowed_email_domains = authc__map_last(q, "allowed_email_domains"),
        .allowed_users = authc__map_last(q, "allowed_users"),
        .allowed_groups = authc__map_last(q, "allowed_groups"),
    };
    authc__fwd_target ft = {.host = t->host, .path = t->path, .method = t->method};
    char why[AUTHC__EXPLAIN_MAX];
    authc__fwd_result r = authc__forward_decide(c->a->forward_rules, &fq, &ft, &s, why, sizeof why);
    if (r != AUTHC__FWD_ALLOW || !s.signed_in)
        c->cookies_out.n = 0; /* only a 200 with a session carries a cookie */
    if (s.signed_in)
        c->ev_user = s.user_id; /* the request log's user_id */
    count(r == AUTHC__FWD_ALLOW ? "allow" : r == AUTHC__FWD_FORBIDDEN ? "deny" : "unauthenticated");
    if (r == AUTHC__FWD_NEED_SESSION)
        return need_session(c, t);
    if (r == AUTHC__FWD_FORBIDDEN) {
        /* The reason names a rule line and a condition, never the user. */
        c->log_line = authc_arena_printf(c->ar, "forward denied: %s", why);
        return answer_json(c, 403, "{\"error\":\"AccessDenied\"}");
    }
    if ((e = authc__res_header(c, "Cache-Control", "no-store")) ||
        (s.signed_in && (e = identity_headers(c, &s, access_token))))
        return e;
    return authc__res_body(c, 200, NULL, "", 0);
}

authc_err authc__action_forward(authc__ctx *c)
{
    authc__fwd_req t;
    authc_err e = authc__forward_target(c->ar, c->req, c->peer_trusted, &t);
    if (e)
        return e;
    if (t.mode == AUTHC__FWD_MODE_NONE) {
        c->log_line = authc_arena_printf(c->ar, "forward 400: %s", t.why);
        count("error");
        return answer_json(c, 400, "{\"error\":\"MissingForwardedHeaders\"}");
    }
    authc__session_view v = {0};
    e = read_session(c, &v);
    if (!e)
        e = decide_and_answer(c, &t, &v);
    json_decref(v.claims);
    if (e && e != AUTHC_ERR_NOMEM) {
        /* Fail closed with an answer every proxy treats as "not allowed";
         * never the error-page redirect other routes use. */
        authc__log(c->a, "error", "[auth][error] forward: %s",
                   c->err_detail ? c->err_detail : authc_strerror(e));
        c->cookies_out.n = 0;
        c->res->nheaders = 0;
        count("error");
        return answer_json(c, 500, "{\"error\":\"InternalError\"}");
    }
    return e;
}
