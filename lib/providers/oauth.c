/* oauth.c — the OAuth 2.0 / OpenID Connect provider type: configuration
 * (presets resolved into one frozen record), the authorization request
 * (POST /signin/:id) and the callback (code exchange, id_token, profile). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "core/core_int.h"
#include "providers/oauth_int.h"

#define DEFAULT_SCOPE "openid profile email"
#define WHY_LEN 512

/* ================================================================== */
/* Configuration                                                       */
/* ================================================================== */

static void oauth_free(void *impl)
{
    authc__oauth *p = impl;
    if (!p)
        return;
    authc__oidc_free(p->oidc);
    if (p->client_secret) {
        authc__wipe(p->client_secret, strlen(p->client_secret));
        free(p->client_secret);
    }
    char **strs[] = {&p->id, &p->issuer, &p->client_id, &p->authorization_url, &p->token_url,
                     &p->userinfo_url, &p->scope, &p->claim_id, &p->claim_name, &p->claim_email,
                     &p->claim_image, &p->api_base, &p->brand_color, &p->ca_file, &p->redirect_proxy_url};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        free(*strs[i]);
    for (size_t i = 0; i < 2 * p->nparams; i++)
        free(p->params[i]);
    free(p->params);
    free(p);
}

/* strdup that treats NULL as NULL; *oom set on failure. */
static char *xdup(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

/* Expands {base} and {api} in a preset template (malloc'd). */
static char *expand(const char *t, const char *base, const char *api, bool *oom)
{
    if (!t)
        return NULL;
    size_t cap = strlen(t) + (base ? strlen(base) : 0) * 2 + (api ? strlen(api) : 0) * 2 + 1;
    char *r = malloc(cap), *o = r;
    if (!r) {
        *oom = true;
        return NULL;
    }
    while (*t) {
        if (!strncmp(t, "{base}", 6) && base) {
            o += sprintf(o, "%s", base);
            t += 6;
        } else if (!strncmp(t, "{api}", 5) && api) {
            o += sprintf(o, "%s", api);
            t += 5;
        } else {
            *o++ = *t++;
        }
    }
    *o = '\0';
    return r;
}

static authc_err add_param(authc__oauth *p, const char *k, const char *v)
{
    /* Later values for the same name replace earlier ones. */
    for (size_t i = 0; i < p->nparams; i++)
        if (!strcmp(p->params[2 * i], k)) {
            char *nv = strdup(v);
            if (!nv)
                return AUTHC_ERR_NOMEM;
            free(p->params[2 * i + 1]);
            p->params[2 * i + 1] = nv;
            return AUTHC_OK;
        }
    if (p->nparams >= AUTHC__OAUTH_MAX_PARAMS)
        return AUTHC_ERR_LIMIT;
    char **np = realloc(p->params, (p->nparams + 1) * 2 * sizeof *np);
    if (!np)
        return AUTHC_ERR_NOMEM;
    p->params = np;
    np[2 * p->nparams] = strdup(k);
    np[2 * p->nparams + 1] = strdup(v);
    p->nparams++;
    return np[2 * p->nparams - 2] && np[2 * p->nparams - 1] ? AUTHC_OK : AUTHC_ERR_NOMEM;
}

static bool valid_id(const char *id)
{
    if (!id || !*id || strlen(id) > 64 || !strcmp(id, "undefined"))
        return false;
    for (const char *q = id; *q; q++)
        if (!isalnum((unsigned char)*q) && *q != '-' && *q != '_' && *q != '.')
            return false;
    return true;
}

/* An endpoint must be an absolute http(s) URL; plain http only to loopback
 * unless allow_http. */
static bool check_url(const char *what, const char *u, bool allow_http, const char *id,
                      char *err, size_t errlen)
{
    if (!u)
        return true;
    authc_arena *ar = authc_arena_new();
    authc__url pu;
    bool ok = ar && authc__url_parse(ar, u, &pu) == AUTHC_OK;
    authc_arena_free(ar);
    if (!ok) {
        snprintf(err, errlen, "provider %s: %s \"%.200s\" is not an absolute http(s) URL", id, what, u);
        return false;
    }
    if (authc__starts_with(u, "http://") && !allow_http && !authc__http_is_loopback(u)) {
        snprintf(err, errlen, "provider %s: %s \"%.200s\" uses plain http; use https (or allow http for this provider)",
                 id, what, u);
        return false;
    }
    return true;
}

authc_err authc_config_add_oauth(authc_config *cfg, const authc_oauth_provider *in,
                                 char *err, size_t errlen)
{
#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); oauth_free(p); return AUTHC_ERR_INVALID; } while (0)
    if (errlen)
        err[0] = '\0';
    const authc__preset *pr = NULL;
    if (in->preset && !(pr = authc__preset_find(in->preset))) {
        snprintf(err, errlen, "unknown provider preset \"%.64s\"", in->preset);
        return AUTHC_ERR_INVALID;
    }
    authc__oauth *p = calloc(1, sizeof *p);
    if (!p)
        return AUTHC_ERR_NOMEM;
    bool oom = false;
    const char *id = in->id ? in->id : pr ? pr->id : NULL;
    if (!valid_id(id))
        BAD("provider id \"%.64s\" is missing or invalid (letters, digits, - _ . only)", id ? id : "");
    p->id = xdup(id, &oom);
    const char *name = in->name ? in->name : pr ? pr->name : id;
    p->type = in->type ? in->type : pr ? pr->type
                                      : (in->issuer ? AUTHC_OAUTH_OIDC : AUTHC_OAUTH_OAUTH2);
    /* {base}: enterprise / self-managed installs (no trailing slash). */
    char base[1024] = "";
    const char *b = in->base_url ? in->base_url : pr ? pr->default_base : NULL;
    if (b) {
        snprintf(base, sizeof base, "%s", b);
        size_t l = strlen(base);
        while (l > 0 && base[l - 1] == '/')
            base[--l] = '\0';
    }
    char api[1100] = "";
    if (pr && (pr->hooks & AUTHC__HOOK_GITHUB_EMAILS))
        snprintf(api, sizeof api, "%s", in->base_url ? base : "https://api.github.com");
    if (in->base_url && pr && (pr->hooks & AUTHC__HOOK_GITHUB_EMAILS))
        snprintf(api, sizeof api, "%s/api/v3", base);
    const char *bp = b ? base : NULL, *ap = api[0] ? api : NULL;
    p->issuer = in->issuer ? xdup(in->issuer, &oom) : pr ? expand(pr->issuer, bp, ap, &oom) : NULL;
    p->api_base = xdup(ap, &oom);
    p->client_id = xdup(in->client_id, &oom);
    p->client_secret = xdup(in->client_secret, &oom);
    p->authorization_url = in->authorization_url ? xdup(in->authorization_url, &oom)
                                                  : pr ? expand(pr->authorization_url, bp, ap, &oom) : NULL;
    p->token_url = in->token_url ? xdup(in->token_url, &oom) : pr ? expand(pr->token_url, bp, ap, &oom) : NULL;
    p->userinfo_url = in->userinfo_url ? xdup(in->userinfo_url, &oom)
                                        : pr ? expand(pr->userinfo_url, bp, ap, &oom) : NULL;
    p->scope = xdup(in->scope ? in->scope : pr ? pr->scope : NULL, &oom);
    p->checks = in->checks ? in->checks : pr ? pr->checks
                                              : (p->type == AUTHC_OAUTH_OIDC ? AUTHC_CHECK_PKCE | AUTHC_CHECK_STATE | AUTHC_CHECK_NONCE
                                                                             : AUTHC_CHECK_PKCE | AUTHC_CHECK_STATE);
    p->token_auth = in->token_auth ? in->token_auth
                  : (pr && pr->token_auth) ? pr->token_auth : AUTHC_TOKEN_AUTH_CLIENT_SECRET_BASIC;
#define CLAIM(f, dflt) p->f = xdup(in->f ? in->f : (pr && pr->f) ? pr->f : dflt, &oom)
    CLAIM(claim_id, "sub id");
    CLAIM(claim_name, "name nickname preferred_username");
    CLAIM(claim_email, "email");
    CLAIM(claim_image, "picture");
#undef CLAIM
    p->profile_from_userinfo = in->profile_from_userinfo;
    p->hooks = pr ? pr->hooks : 0;
    p->brand_color = xdup(in->brand_color ? in->brand_color : pr ? pr->brand_color : NULL, &oom);
    p->ca_file = xdup(in->ca_file, &oom);
    p->http.ca_file = p->ca_file;
    p->http.connect_ms = in->connect_timeout_ms;
    p->http.total_ms = in->timeout_ms;
    p->http.allow_http = in->allow_http;
    if (oom) {
        oauth_free(p);
        return AUTHC_ERR_NOMEM;
    }
    /* Authorization params: the preset's, then the configuration's. */
    if (pr && pr->params) {
        authc_arena *ar = authc_arena_new();
        authc__map m = {0};
        authc_err e = ar ? authc__parse_form(ar, pr->params, strlen(pr->params), &m, AUTHC__OAUTH_MAX_PARAMS)
                         : AUTHC_ERR_NOMEM;
        for (size_t i = 0; !e && i < m.n; i++)
            e = add_param(p, m.items[i].k, m.items[i].v);
        authc_arena_free(ar);
        if (e) {
            oauth_free(p);
            return e;
        }
    }
    for (size_t i = 0; in->params && in->params[i]; i += 2) {
        if (!in->params[i + 1])
            BAD("provider %s: authorization parameter \"%.64s\" has no value", id, in->params[i]);
        if (!strcmp(in->params[i], "scope")) {
            free(p->scope);
            if (!(p->scope = strdup(in->params[i + 1]))) {
                oauth_free(p);
                return AUTHC_ERR_NOMEM;
            }
            continue;
        }
        authc_err e = add_param(p, in->params[i], in->params[i + 1]);
        if (e == AUTHC_ERR_LIMIT)
            BAD("provider %s: more than %d authorization parameters", id, AUTHC__OAUTH_MAX_PARAMS);
        if (e) {
            oauth_free(p);
            return e;
        }
    }
    for (size_t i = 0; i < p->nparams; i++)
        if (!strcmp(p->params[2 * i], "response_mode") && !strcmp(p->params[2 * i + 1], "form_post"))
            p->form_post = true;
    /* Auth.js keeps redirect proxies away from form_post providers. */
    if (in->redirect_proxy_url && !p->form_post) {
        size_t l = strlen(in->redirect_proxy_url);
        while (l > 0 && in->redirect_proxy_url[l - 1] == '/')
            l--;
        if (!(p->redirect_proxy_url = strndup(in->redirect_proxy_url, l))) {
            oauth_free(p);
            return AUTHC_ERR_NOMEM;
        }
        p->checks |= AUTHC_CHECK_STATE;
    }

    /* Validation: name every problem a user can fix (with the Auth.js
     * variable: id uppercased, '-' → '_'). */
    char env[80];
    size_t el = 0;
    for (; id[el] && el < sizeof env - 1; el++)
        env[el] = id[el] == '-' ? '_' : (char)toupper((unsigned char)id[el]);
    env[el] = '\0';
    if (!p->client_id || !*p->client_id)
        BAD("provider %s: the client id is not set (AUTH_%s_ID)", id, env);
    if (p->token_auth != AUTHC_TOKEN_AUTH_NONE && (!p->client_secret || !*p->client_secret))
        BAD("provider %s: the client secret is not set (AUTH_%s_SECRET)", id, env);
    if (p->type == AUTHC_OAUTH_OIDC && !p->issuer)
        BAD("provider %s: an OpenID Connect provider needs an issuer (AUTH_%s_ISSUER)", id, env);
    if (!p->issuer && (!p->authorization_url || !p->token_url || !p->userinfo_url))
        BAD("InvalidEndpoints: provider %s needs an issuer or all of the authorization, token and userinfo URLs", id);
    if (!(p->checks & (AUTHC_CHECK_PKCE | AUTHC_CHECK_STATE | AUTHC_CHECK_NONCE)))
        BAD("provider %s: at least one of the pkce, state and nonce checks must be on", id);
    bool ah = p->http.allow_http;
    if (!check_url("issuer", p->issuer, ah, id, err, errlen) ||
        !check_url("authorization URL", p->authorization_url, ah, id, err, errlen) ||
        !check_url("token URL", p->token_url, ah, id, err, errlen) ||
        !check_url("userinfo URL", p->userinfo_url, ah, id, err, errlen) ||
        !check_url("redirect proxy URL", p->redirect_proxy_url, true, id, err, errlen)) {
        oauth_free(p);
        return AUTHC_ERR_INVALID;
    }
    /* Discovery is needed for OIDC (jwks_uri, issuer) and for any endpoint
     * left to the issuer's metadata. */
    if (p->issuer && (p->type == AUTHC_OAUTH_OIDC || !p->authorization_url || !p->token_url ||
                      !p->userinfo_url)) {
        if (!(p->oidc = authc__oidc_new(p->issuer, &p->http, p->hooks))) {
            oauth_free(p);
            return AUTHC_ERR_NOMEM;
        }
    }
    char *pid = strdup(id), *pname = strdup(name);
    authc__provider *slot = (pid && pname) ? authc__config_add_provider(cfg) : NULL;
    if (!slot) {
        free(pid);
        free(pname);
        oauth_free(p);
        return AUTHC_ERR_NOMEM;
    }
    slot->id = pid;
    slot->name = pname;
    slot->type = p->type == AUTHC_OAUTH_OIDC ? AUTHC__P_OIDC : AUTHC__P_OAUTH;
    slot->impl = p;
    slot->impl_free = oauth_free;
    slot->brand_color = p->brand_color;
    slot->allow_dangerous_email_linking = in->allow_dangerous_email_account_linking;
    return AUTHC_OK;
#undef BAD
}

authc_err authc_config_add_preset(authc_config *cfg, const char *preset, const char *client_id,
                                  const char *client_secret, const char *issuer, char *err, size_t errlen)
{
    authc_oauth_provider p = {.preset = preset, .client_id = client_id,
                              .client_secret = client_secret, .issuer = issuer};
    return authc_config_add_oauth(cfg, &p, err, errlen);
}

/* ================================================================== */
/* Small helpers                                                       */
/* ================================================================== */

/* Ordered parameter list with URLSearchParams.set semantics. */
typedef struct plist {
    authc_arena *ar;
    authc__kv *it;
    size_t n, cap;
} plist;

static authc_err pl_append(plist *l, const char *k, const char *v)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        authc__kv *it = authc_arena_alloc(l->ar, cap * sizeof *it);
        if (!it)
            return AUTHC_ERR_NOMEM;
        if (l->n)
            memcpy(it, l->it, l->n * sizeof *it);
        l->it = it;
        l->cap = cap;
    }
    l->it[l->n].k = k;
    l->it[l->n].v = v;
    l->n++;
    return AUTHC_OK;
}

/* set(): replaces the first value in place and drops later duplicates;
 * appends when absent. */
static authc_err pl_set(plist *l, const char *k, const char *v)
{
    size_t w = 0;
    bool found = false;
    for (size_t i = 0; i < l->n; i++) {
        if (!strcmp(l->it[i].k, k)) {
            if (found)
                continue;
            found = true;
            l->it[i].v = v;
        }
        l->it[w++] = l->it[i];
    }
    l->n = w;
    return found ? AUTHC_OK : pl_append(l, k, v);
}

static bool pl_has(const plist *l, const char *k)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->it[i].k, k))
            return true;
    return false;
}

static void pl_serialize(authc__buf *b, const plist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            authc__buf_addc(b, '&');
        authc__buf_add_form_component(b, l->it[i].k);
        authc__buf_addc(b, '=');
        authc__buf_add_form_component(b, l->it[i].v);
    }
}

static authc_err pl_from_map(plist *l, const authc__map *m)
{
    authc_err e = AUTHC_OK;
    for (size_t i = 0; !e && i < m->n; i++)
        e = pl_append(l, m->items[i].k, m->items[i].v);
    return e;
}

static void fe_component(authc__buf *b, const char *s)
{
    /* encodeURIComponent, then %20 → '+' (Auth.js formUrlEncode). */
    authc__buf t;
    authc__buf_init(&t, b->ar, 8192);
    authc__buf_add_uri_component(&t, s);
    if (t.err) {
        b->err = t.err;
        return;
    }
    for (const char *p = t.p; p && *p; p++) {
        if (!strncmp(p, "%20", 3)) {
            authc__buf_addc(b, '+');
            p += 2;
        } else {
            authc__buf_addc(b, *p);
        }
    }
}

char *authc__oauth_basic_auth(authc_arena *ar, const char *id, const char *secret)
{
    authc__buf cred;
    authc__buf_init(&cred, ar, 16384);
    fe_component(&cred, id);
    authc__buf_addc(&cred, ':');
    fe_component(&cred, secret);
    if (cred.err)
        return NULL;
    char *b64 = authc__b64_encode(ar, (const uint8_t *)cred.p, cred.len);
    authc__wipe(cred.p, cred.len);
    char *h = b64 ? authc_arena_printf(ar, "Basic %s", b64) : NULL;
    if (b64)
        authc__wipe(b64, strlen(b64));
    return h;
}

static const char *bp_of(const authc *a)
{
    return strcmp(a->base_path, "/") ? a->base_path : "";
}

/* An IdP-supplied string safe for one log line: [A-Za-z0-9_.-], ≤ 64. */
static const char *log_safe(authc_arena *ar, const char *s)
{
    if (!s)
        return "(none)";
    char out[65];
    size_t n = 0;
    for (; *s && n < 64; s++)
        out[n++] = (isalnum((unsigned char)*s) || strchr("_.-", *s)) ? *s : '?';
    out[n] = '\0';
    return authc_arena_strdup(ar, out);
}

static const char *random_b64url(authc_arena *ar)
{
    uint8_t r[32];
    if (authc__random(r, sizeof r))
        return NULL;
    char *s = authc__b64url_encode(ar, r, sizeof r);
    authc__wipe(r, sizeof r);
    return s;
}

static const char *pkce_challenge(authc_arena *ar, const char *verifier)
{
    uint8_t d[SHA256_DIGEST_LENGTH];
    SHA256((const uint8_t *)verifier, strlen(verifier), d);
    return authc__b64url_encode(ar, d, sizeof d);
}

static unsigned effective_checks(const authc__oauth *P, const authc__oidc_meta *meta)
{
    unsigned ch = P->checks;
    if ((ch & AUTHC_CHECK_PKCE_IF_ADVERTISED) && !(meta && meta->pkce_s256))
        ch &= ~(unsigned)AUTHC_CHECK_PKCE;
    return ch;
}

/* Origin of an absolute URL (arena) or NULL. */
static const char *origin_of(authc_arena *ar, const char *url)
{
    authc__url u;
    return authc__url_parse(ar, url, &u) == AUTHC_OK ? u.origin : NULL;
}

/* True when this deployment should send the IdP to the redirect proxy. */
static bool via_proxy(authc__ctx *c, const authc__oauth *P)
{
    if (!P->redirect_proxy_url)
        return false;
    const char *po = origin_of(c->ar, P->redirect_proxy_url);
    return !po || strcmp(po, c->origin) != 0;
}

static authc_err need_meta(authc__ctx *c, const authc__oauth *P, const authc__oidc_meta **meta)
{
    *meta = NULL;
    if (!P->oidc)
        return AUTHC_OK;
    char why[WHY_LEN];
    authc_err e = authc__oidc_get_meta(P->oidc, meta, why, sizeof why);
    if (e == AUTHC_ERR_NOMEM)
        return e;
    if (e)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "OIDC discovery for provider %s failed: %s", P->id, why);
    return AUTHC_OK;
}

/* ================================================================== */
/* POST /signin/:id                                                    */
/* ================================================================== */

authc_err authc__oauth_signin(authc__ctx *c)
{
    const authc *a = c->a;
    const authc__oauth *P = c->provider->impl;
    const authc__oidc_meta *meta;
    authc_err e = need_meta(c, P, &meta);
    if (e)
        return e;
    bool discovered = !P->authorization_url;
    const char *endpoint = discovered ? (meta ? meta->authorization_endpoint : NULL) : P->authorization_url;
    if (!endpoint)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION,
                           "provider %s: the issuer's metadata has no authorization_endpoint", P->id);
    unsigned checks = effective_checks(P, meta);
    bool proxy = via_proxy(c, P);
    const char *own_cb = authc_arena_printf(c->ar, "%s%s/callback/%s", c->origin, bp_of(a), P->id);
    const char *redirect_uri = proxy ? authc_arena_printf(c->ar, "%s/callback/%s", P->redirect_proxy_url, P->id)
                                     : own_cb;
    if (!own_cb || !redirect_uri)
        return AUTHC_ERR_NOMEM;

    /* Split the endpoint into its base and its own query. */
    size_t qpos = strcspn(endpoint, "?#");
    const char *ep_base = authc_arena_strndup(c->ar, endpoint, qpos);
    plist l = {.ar = c->ar};
    if (!ep_base)
        return AUTHC_ERR_NOMEM;
    if (endpoint[qpos] == '?') {
        authc__map q = {0};
        const char *qs = endpoint + qpos + 1;
        if ((e = authc__parse_form(c->ar, qs, strcspn(qs, "#"), &q, AUTHC__MAX_FORM_PAIRS)) ||
            (e = pl_from_map(&l, &q)))
            return e;
    }
    /* Configured params: in the configured URL first (Auth.js puts them
     * there at start-up), after redirect_uri for discovered endpoints. */
    plist cfgp = {.ar = c->ar};
    if (P->scope && (e = pl_set(&cfgp, "scope", P->scope)))
        return e;
    for (size_t i = 0; !e && i < P->nparams; i++)
        e = pl_set(&cfgp, P->params[2 * i], P->params[2 * i + 1]);
    if (!discovered) {
        for (size_t i = 0; !e && i < cfgp.n; i++)
            e = pl_set(&l, cfgp.it[i].k, cfgp.it[i].v);
        if (!e && !pl_has(&l, "scope"))
            e = pl_set(&l, "scope", DEFAULT_SCOPE);
    }
    if (!e) e = pl_set(&l, "response_type", "code");
    if (!e) e = pl_set(&l, "client_id", P->client_id);
    if (!e) e = pl_set(&l, "redirect_uri", redirect_uri);
    for (size_t i = 0; !e && discovered && i < cfgp.n; i++)
        e = pl_set(&l, cfgp.it[i].k, cfgp.it[i].v);
    /* Every query parameter of the sign-in request (prompt, login_hint…). */
    for (size_t i = 0; !e && i < c->query.n; i++)
        e = pl_set(&l, c->query.items[i].k, c->query.items[i].v);
    if (e)
        return e;

    if (checks & AUTHC_CHECK_STATE) {
        const char *rnd = random_b64url(c->ar);
        json_t *claims = proxy ? json_pack("{s:s,s:s}", "origin", own_cb, "random", rnd ? rnd : "")
                               : json_pack("{s:s}", "random", rnd ? rnd : "");
        char *state = NULL;
        if (!rnd || !claims) {
            json_decref(claims);
            return AUTHC_ERR_NOMEM;
        }
        e = authc__jwt_encode(c->ar, &a->state_keys[0], claims, AUTHC__CHECK_MAX_AGE,
                              authc__now_ms() / 1000, &state);
        json_decref(claims);
        if (e || (e = pl_set(&l, "state", state)) ||
            (e = authc__check_cookie_set(c, AUTHC__CK_STATE, state, P->form_post)))
            return e;
    }
    if (checks & AUTHC_CHECK_PKCE) {
        const char *verifier = random_b64url(c->ar);
        const char *challenge = verifier ? pkce_challenge(c->ar, verifier) : NULL;
        if (!challenge)
            return AUTHC_ERR_NOMEM;
        if ((e = pl_set(&l, "code_challenge", challenge)) ||
            (e = pl_set(&l, "code_challenge_method", "S256")) ||
            (e = authc__check_cookie_set(c, AUTHC__CK_PKCE, verifier, false)))
            return e;
    }
    if (checks & AUTHC_CHECK_NONCE) {
        const char *nonce = random_b64url(c->ar);
        if (!nonce)
            return AUTHC_ERR_NOMEM;
        if ((e = pl_set(&l, "nonce", nonce)) ||
            (e = authc__check_cookie_set(c, AUTHC__CK_NONCE, nonce, P->form_post)))
            return e;
    }
    if (P->type == AUTHC_OAUTH_OIDC && !pl_has(&l, "scope") && (e = pl_set(&l, "scope", DEFAULT_SCOPE)))
        return e;

    authc__buf b;
    authc__buf_init(&b, c->ar, AUTHC__MAX_URL * 2);
    authc__buf_adds(&b, ep_base);
    authc__buf_addc(&b, '?');
    pl_serialize(&b, &l);
    if (b.err)
        return b.err == AUTHC_ERR_LIMIT
                   ? authc__fail(c, AUTHC_ERR_CONFIGURATION, "authorization URL for %s is too long", P->id)
                   : b.err;
    return authc__res_redirect(c, b.p);
}

/* ================================================================== */
/* Callback                                                            */
/* ================================================================== */

typedef struct tokens {
    const char *access_token, *token_type, *id_token, *refresh_token, *scope, *session_state;
    int64_t expires_at;
} tokens;

/* GET a JSON document with the access token (userinfo-style). *out is a new
 * reference (object or array) on success. */
static authc_err get_json(authc__ctx *c, const authc__oauth *P, const char *url, const char *access_token,
                          const char *accept, size_t max, json_t **out, long *status, char *why, size_t whylen)
{
    *out = NULL;
    authc__http_opts ho = P->http;
    ho.max_response = max;
    char *auth = authc_arena_printf(c->ar, "Authorization: Bearer %s", access_token);
    char *acc = authc_arena_printf(c->ar, "Accept: %s", accept);
    if (!auth || !acc)
        return AUTHC_ERR_NOMEM;
    authc__http_req rq = {.method = "GET", .url = url, .headers = {auth, acc}, .nheaders = 2};
    authc__http_res rs;
    char w[256];
    authc_err e = authc__http_do(c->ar, &ho, &rq, &rs, w, sizeof w);
    authc__wipe(auth, strlen(auth));
    if (e) {
        snprintf(why, whylen, "request to %.200s failed: %s", url, w);
        return e;
    }
    *status = rs.status;
    if (rs.status < 200 || rs.status > 299) {
        snprintf(why, whylen, "%.200s answered HTTP %ld", url, rs.status);
        return AUTHC_ERR_IO;
    }
    json_error_t je;
    json_t *j = json_loadb(rs.body, rs.len, 0, &je);
    if (!json_is_object(j) && !json_is_array(j)) {
        json_decref(j);
        snprintf(why, whylen, "%.200s did not answer with JSON", url);
        return AUTHC_ERR_INVALID;
    }
    *out = j;
    return AUTHC_OK;
}

static int64_t num_or_string(json_t *v, bool *ok)
{
    *ok = true;
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    if (json_is_string(v)) {
        char *end;
        long long n = strtoll(json_string_value(v), &end, 10);
        if (end != json_string_value(v) && !*end)
            return n;
    }
    *ok = false;
    return 0;
}

/* Token endpoint: exchanges the code. On success *tj is the parsed body. */
static authc_err token_request(authc__ctx *c, const authc__oauth *P, const authc__oidc_meta *meta,
                               const char *code, const char *verifier, const char *redirect_uri,
                               json_t **tj)
{
    *tj = NULL;
    const char *url = P->token_url ? P->token_url : meta ? meta->token_endpoint : NULL;
    if (!url)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "provider %s: no token endpoint", P->id);
    plist body = {.ar = c->ar};
    authc_err e = pl_append(&body, "redirect_uri", redirect_uri);
    if (!e) e = pl_append(&body, "code", code);
    if (!e && verifier) e = pl_append(&body, "code_verifier", verifier);
    if (!e) e = pl_append(&body, "grant_type", "authorization_code");
    if (!e && P->token_auth != AUTHC_TOKEN_AUTH_CLIENT_SECRET_BASIC)
        e = pl_append(&body, "client_id", P->client_id);
    if (!e && P->token_auth == AUTHC_TOKEN_AUTH_CLIENT_SECRET_POST)
        e = pl_append(&body, "client_secret", P->client_secret);
    if (e)
        return e;
    authc__buf b;
    authc__buf_init(&b, c->ar, 64 * 1024);
    pl_serialize(&b, &body);
    if (b.err)
        return b.err;
    authc__http_req rq = {.method = "POST", .url = url, .body = b.p, .body_len = b.len,
                          .headers = {"Content-Type: application/x-www-form-urlencoded;charset=UTF-8",
                                      "Accept: application/json"},
                          .nheaders = 2};
    char *basic = NULL;
    if (P->token_auth == AUTHC_TOKEN_AUTH_CLIENT_SECRET_BASIC) {
        char *v = authc__oauth_basic_auth(c->ar, P->client_id, P->client_secret);
        basic = v ? authc_arena_printf(c->ar, "Authorization: %s", v) : NULL;
        if (v)
            authc__wipe(v, strlen(v));
        if (!basic)
            return AUTHC_ERR_NOMEM;
        rq.headers[rq.nheaders++] = basic;
    }
    authc__http_opts ho = P->http;
    ho.max_response = AUTHC__OAUTH_MAX_TOKEN_RES;
    authc__http_res rs;
    char w[256];
    e = authc__http_do(c->ar, &ho, &rq, &rs, w, sizeof w);
    if (basic)
        authc__wipe(basic, strlen(basic));
    authc__wipe(b.p, b.len);
    if (e == AUTHC_ERR_NOMEM)
        return e;
    if (e)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: token request to %.200s for %s failed: %s",
                           url, P->id, w);
    /* JSON normally; GitHub answers a form when JSON was not asked for. */
    json_t *j = NULL;
    if (rs.content_type && (!strcmp(rs.content_type, "application/x-www-form-urlencoded") ||
                            !strcmp(rs.content_type, "text/plain"))) {
        authc__map m = {0};
        if (authc__parse_form(c->ar, rs.body, rs.len, &m, 64) == AUTHC_OK && m.n) {
            j = json_object();
            for (size_t i = 0; j && i < m.n; i++)
                json_object_set_new(j, m.items[i].k, json_string(m.items[i].v));
        }
    } else {
        json_error_t je;
        j = json_loadb(rs.body, rs.len, 0, &je);
    }
    authc__wipe(rs.body, rs.len);
    if (!json_is_object(j)) {
        json_decref(j);
        return authc__fail(c, AUTHC_ERR_CONFIGURATION,
                           "CallbackRouteError: token endpoint of %s answered HTTP %ld without a JSON object",
                           P->id, rs.status);
    }
    const char *err = log_safe(c->ar, json_string_value(json_object_get(j, "error")));
    bool has_err = json_object_get(j, "error") != NULL;
    if (rs.status != 200 || has_err) {
        bool entra = (P->hooks & AUTHC__HOOK_ENTRA) && has_err;
        json_decref(j);
        /* Entra reports user-side failures in the token body (Auth.js
         * turns those into OAuthCallbackError). */
        return authc__fail(c, entra ? AUTHC_ERR_OAUTH_CALLBACK : AUTHC_ERR_CONFIGURATION,
                           "%s: token endpoint of %s answered HTTP %ld, error=%s",
                           entra ? "OAuthCallbackError" : "CallbackRouteError", P->id, rs.status, err);
    }
    *tj = j;
    return AUTHC_OK;
}

static authc_err parse_tokens(authc__ctx *c, const authc__oauth *P, json_t *tj, tokens *t)
{
    memset(t, 0, sizeof *t);
    t->expires_at = AUTHC_NO_TIME;
    if (P->hooks & AUTHC__HOOK_TWITCH) {
        /* Twitch sends scope as an array. */
        json_t *sc = json_object_get(tj, "scope");
        if (json_is_array(sc)) {
            authc__buf b;
            authc__buf_init(&b, c->ar, 4096);
            size_t i;
            json_t *v;
            json_array_foreach(sc, i, v) {
                if (i)
                    authc__buf_addc(&b, ' ');
                authc__buf_adds(&b, json_string_value(v) ? json_string_value(v) : "");
            }
            if (b.err)
                return b.err;
            json_object_set_new(tj, "scope", json_string(b.p));
        } else if (sc && !json_is_string(sc)) {
            json_object_del(tj, "scope");
        }
    }
#define STR(f) (t->f = authc_arena_strdup(c->ar, json_string_value(json_object_get(tj, #f))))
    STR(access_token);
    STR(token_type);
    STR(id_token);
    STR(refresh_token);
    STR(scope);
    STR(session_state);
#undef STR
    if (!t->access_token || !*t->access_token)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: token response of %s has no access_token", P->id);
    if (!t->token_type)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: token response of %s has no token_type", P->id);
    for (char *q = (char *)t->token_type; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    if (strcmp(t->token_type, "bearer") && strcmp(t->token_type, "dpop"))
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: unsupported token_type %s from %s",
                           log_safe(c->ar, t->token_type), P->id);
    json_t *ei = json_object_get(tj, "expires_in");
    if (ei) {
        bool ok;
        int64_t n = num_or_string(ei, &ok);
        if (!ok || n < 0 || n > 100LL * 365 * 86400)
            return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: bad expires_in from %s", P->id);
        t->expires_at = authc__now_ms() / 1000 + n;
    }
    if (P->type == AUTHC_OAUTH_OIDC && (!t->id_token || !*t->id_token))
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: token response of %s has no id_token", P->id);
    return AUTHC_OK;
}

/* Looks up a dotted path ("picture.data.url"). Borrowed reference. */
static json_t *path_get(json_t *o, const char *path, size_t len)
{
    char key[128];
    while (o && len) {
        size_t seg = 0;
        while (seg < len && path[seg] != '.')
            seg++;
        if (seg == 0 || seg >= sizeof key)
            return NULL;
        memcpy(key, path, seg);
        key[seg] = '\0';
        o = json_is_object(o) ? json_object_get(o, key) : NULL;
        path += seg;
        len -= seg;
        if (len) {
            path++;
            len--;
        }
    }
    return o;
}

static const char *json_to_str(authc_arena *ar, json_t *v)
{
    if (json_is_string(v))
        return authc_arena_strdup(ar, json_string_value(v));
    if (json_is_integer(v))
        return authc_arena_printf(ar, "%lld", (long long)json_integer_value(v));
    if (json_is_real(v))
        return authc_arena_printf(ar, "%.17g", json_real_value(v));
    if (json_is_boolean(v))
        return json_is_true(v) ? "true" : "false";
    return NULL;
}

/* The first present (non-null) claim of a space-separated fallback list,
 * as a string; NULL when none ("" spec = never). */
static const char *claim(authc_arena *ar, json_t *profile, const char *spec)
{
    for (const char *p = spec; p && *p;) {
        while (*p == ' ')
            p++;
        size_t l = strcspn(p, " ");
        if (!l)
            break;
        json_t *v = path_get(profile, p, l);
        if (v && !json_is_null(v))
            return json_to_str(ar, v);
        p += l;
    }
    return NULL;
}

/* GitHub: /user, then /user/emails when the email is private (the
 * primary entry, else the first). */
static authc_err github_profile(authc__ctx *c, const authc__oauth *P, const tokens *t, json_t **profile,
                                char *why, size_t whylen)
{
    long st = 0;
    authc_err e = get_json(c, P, P->userinfo_url, t->access_token, "application/json", AUTHC__OAUTH_MAX_USERINFO,
                           profile, &st, why, whylen);
    if (e)
        return e;
    if (!json_is_object(*profile)) {
        snprintf(why, whylen, "GitHub /user is not a JSON object");
        return AUTHC_ERR_INVALID;
    }
    json_t *em = json_object_get(*profile, "email");
    if (json_is_string(em) && *json_string_value(em))
        return AUTHC_OK;
    const char *url = authc_arena_printf(c->ar, "%s/user/emails", P->api_base);
    json_t *list = NULL;
    char w[WHY_LEN];
    if (!url)
        return AUTHC_ERR_NOMEM;
    e = get_json(c, P, url, t->access_token, "application/json", AUTHC__OAUTH_MAX_USERINFO, &list, &st, w, sizeof w);
    if (e == AUTHC_ERR_NOMEM)
        return e;
    /* Auth.js ignores a failed lookup (the token may lack user:email). */
    if (!e && json_is_array(list) && json_array_size(list) > 0) {
        json_t *pick = NULL, *v;
        size_t i;
        json_array_foreach(list, i, v)
            if (!pick && json_is_true(json_object_get(v, "primary")))
                pick = v;
        if (!pick)
            pick = json_array_get(list, 0);
        json_t *addr = json_object_get(pick, "email");
        if (json_is_string(addr))
            json_object_set(*profile, "email", addr);
    } else if (e) {
        authc__log(c->a, "warn", "[auth][warn] github: /user/emails lookup failed: %s", w);
    }
    json_decref(list);
    return AUTHC_OK;
}

/* Discord's avatar URL (CDN, or the default avatar). */
static const char *discord_image(authc_arena *ar, json_t *pr)
{
    const char *id = json_string_value(json_object_get(pr, "id"));
    const char *av = json_string_value(json_object_get(pr, "avatar"));
    if (!id)
        return NULL;
    if (av)
        return authc_arena_printf(ar, "https://cdn.discordapp.com/avatars/%s/%s.%s", id, av,
                                  authc__starts_with(av, "a_") ? "gif" : "png");
    const char *disc = json_string_value(json_object_get(pr, "discriminator"));
    unsigned n;
    if (!disc || !strcmp(disc, "0"))
        n = (unsigned)((strtoull(id, NULL, 10) >> 22) % 6);
    else
        n = (unsigned)(strtoul(disc, NULL, 10) % 5);
    return authc_arena_printf(ar, "https://cdn.discordapp.com/embed/avatars/%u.png", n);
}

/* Entra: the Graph profile photo as a data URL (Auth.js), else NULL. */
static const char *entra_photo(authc__ctx *c, const authc__oauth *P, const tokens *t)
{
    authc__http_opts ho = P->http;
    ho.max_response = AUTHC__OAUTH_MAX_PHOTO;
    char *auth = authc_arena_printf(c->ar, "Authorization: Bearer %s", t->access_token);
    if (!auth)
        return NULL;
    authc__http_req rq = {.method = "GET", .url = "https://graph.microsoft.com/v1.0/me/photos/48x48/$value",
                          .headers = {auth}, .nheaders = 1};
    authc__http_res rs;
    char w[256];
    authc_err e = authc__http_do(c->ar, &ho, &rq, &rs, w, sizeof w);
    authc__wipe(auth, strlen(auth));
    if (e || rs.status < 200 || rs.status > 299 || rs.len == 0)
        return NULL;
    char *b64 = authc__b64_encode(c->ar, (const uint8_t *)rs.body, rs.len);
    return b64 ? authc_arena_printf(c->ar, "data:image/jpeg;base64, %s", b64) : NULL;
}

/* Verifies the id_token and returns its claims (the OIDC profile). */
static authc_err verify_id_token(authc__ctx *c, const authc__oauth *P, const authc__oidc_meta *meta,
                                 const tokens *t, const char *nonce, json_t **claims)
{
    const char *issuer = meta->issuer;
    if (P->hooks & AUTHC__HOOK_ENTRA) {
        /* Multi-tenant endpoints: the token's issuer names the user's
         * tenant (tid), as Auth.js re-discovers it. */
        json_t *peek = authc__jws_peek_claims(c->ar, t->id_token);
        const char *tid = json_string_value(json_object_get(peek, "tid"));
        const char *seg = strstr(issuer, "microsoftonline.com/");
        if (tid && seg && strlen(tid) < 64) {
            bool ok = true;
            for (const char *q = tid; *q; q++)
                if (!isalnum((unsigned char)*q) && *q != '-')
                    ok = false;
            seg += strlen("microsoftonline.com/");
            size_t l = strcspn(seg, "/");
            if (ok)
                issuer = authc_arena_printf(c->ar, "%.*s%s%s", (int)(seg - issuer), issuer, tid, seg + l);
        }
        json_decref(peek);
        if (!issuer)
            return AUTHC_ERR_NOMEM;
    }
    authc__idtoken_expect x = {.issuer = issuer, .client_id = P->client_id, .nonce = nonce,
                               .algs = meta->algs, .now = authc__now_ms() / 1000, .skew = -1};
    char why[WHY_LEN];
    authc_err e = authc__idtoken_verify(authc__oidc_jwks(P->oidc), c->ar, t->id_token, &x, claims, why, sizeof why);
    if (e == AUTHC_ERR_NOMEM)
        return e;
    if (e)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: invalid id_token from %s: %s", P->id, why);
    return AUTHC_OK;
}

/* Callback parameters: the form body for form_post providers. */
static const authc__map *callback_params(authc__ctx *c, const authc__oauth *P)
{
    return (c->post && P->form_post) ? &c->body : &c->query;
}

/* Auth.js redirect proxy: the proxy deployment forwards the IdP's answer to
 * the deployment that started the flow (its callback URL is in the state).
 * Returns true when it answered. */
static authc_err proxy_forward(authc__ctx *c, const authc__oauth *P, const authc__map *params, bool *done)
{
    *done = false;
    if (!P->redirect_proxy_url)
        return AUTHC_OK;
    const char *po = origin_of(c->ar, P->redirect_proxy_url);
    const char *state = authc__map_last(params, "state");
    if (!po || strcmp(po, c->origin) || !state)
        return AUTHC_OK;
    json_t *claims = NULL;
    if (authc__jwt_decode(c->ar, c->a->state_keys, c->a->nsecrets, state, strlen(state),
                          authc__now_ms() / 1000, &claims))
        return authc__fail(c, AUTHC_ERR_INVALID_CHECK, "state could not be decoded");
    const char *target = authc_arena_strdup(c->ar, json_string_value(json_object_get(claims, "origin")));
    json_decref(claims);
    const char *to = target ? origin_of(c->ar, target) : NULL;
    if (!target || !to || !strcmp(to, c->origin))
        return AUTHC_OK;
    authc__buf b;
    authc__buf_init(&b, c->ar, AUTHC__MAX_URL * 2);
    authc__buf_adds(&b, target);
    authc__buf_addc(&b, '?');
    plist l = {.ar = c->ar};
    authc_err e = pl_from_map(&l, params);
    if (e)
        return e;
    pl_serialize(&b, &l);
    if (b.err)
        return b.err;
    *done = true;
    return authc__res_redirect(c, b.p);
}

authc_err authc__oauth_callback(authc__ctx *c)
{
    const authc *a = c->a;
    const authc__oauth *P = c->provider->impl;
    const authc__map *params = callback_params(c, P);
    bool done;
    authc_err e = proxy_forward(c, P, params, &done);
    if (e || done)
        return e;
    const authc__oidc_meta *meta;
    if ((e = need_meta(c, P, &meta)))
        return e;
    unsigned checks = effective_checks(P, meta);

    /* 1. state (read and cleared first, as Auth.js). */
    const char *state_cookie = NULL;
    if (checks & AUTHC_CHECK_STATE) {
        if ((e = authc__check_cookie_use(c, AUTHC__CK_STATE, &state_cookie)))
            return e;
        if (!state_cookie)
            return authc__fail(c, AUTHC_ERR_INVALID_CHECK, "state cookie missing or invalid (provider %s)", P->id);
    }
    /* 2. The authorization response: iss, state, then error. */
    const char *iss = authc__map_last(params, "iss");
    const char *expected_iss = meta ? meta->issuer : P->issuer;
    if (iss && expected_iss && strcmp(iss, expected_iss))
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: the iss parameter does not match the issuer of %s", P->id);
    if (!iss && meta && meta->iss_param)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: the iss parameter is missing (%s advertises it)", P->id);
    if (checks & AUTHC_CHECK_STATE) {
        const char *st = authc__map_last(params, "state");
        if (!st || !authc__ct_streq(st, state_cookie))
            return authc__fail(c, AUTHC_ERR_INVALID_CHECK, "state parameter %s (provider %s)",
                               st ? "does not match the state cookie" : "is missing", P->id);
    }
    const char *perr = authc__map_last(params, "error");
    if (perr)
        return authc__fail(c, AUTHC_ERR_OAUTH_CALLBACK, "provider %s returned error=%s", P->id,
                           log_safe(c->ar, perr));
    const char *code = authc__map_last(params, "code");
    if (!code || !*code)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: no code in the callback of %s", P->id);
    /* 3. PKCE and nonce cookies. */
    const char *verifier = NULL, *nonce = NULL;
    if (checks & AUTHC_CHECK_PKCE) {
        if ((e = authc__check_cookie_use(c, AUTHC__CK_PKCE, &verifier)))
            return e;
        if (!verifier)
            return authc__fail(c, AUTHC_ERR_INVALID_CHECK, "PKCE code_verifier cookie missing or invalid (provider %s)", P->id);
    }
    if (checks & AUTHC_CHECK_NONCE) {
        if ((e = authc__check_cookie_use(c, AUTHC__CK_NONCE, &nonce)))
            return e;
        if (!nonce)
            return authc__fail(c, AUTHC_ERR_INVALID_CHECK, "nonce cookie missing or invalid (provider %s)", P->id);
    }
    /* 4. Code for tokens. */
    const char *redirect_uri = via_proxy(c, P)
        ? authc_arena_printf(c->ar, "%s/callback/%s", P->redirect_proxy_url, P->id)
        : authc_arena_printf(c->ar, "%s%s/callback/%s", c->origin, bp_of(a), P->id);
    if (!redirect_uri)
        return AUTHC_ERR_NOMEM;
    json_t *tj = NULL;
    if ((e = token_request(c, P, meta, code, verifier, redirect_uri, &tj)))
        return e;
    tokens t;
    e = parse_tokens(c, P, tj, &t);
    json_decref(tj);
    if (e)
        return e;

    /* 5. The profile. */
    json_t *profile = NULL;
    char why[WHY_LEN];
    if (P->type == AUTHC_OAUTH_OIDC) {
        if ((e = verify_id_token(c, P, meta, &t, nonce, &profile)))
            return e;
        if (P->profile_from_userinfo) {
            const char *ui = P->userinfo_url ? P->userinfo_url : meta->userinfo_endpoint;
            json_t *info = NULL;
            long st;
            e = ui ? get_json(c, P, ui, t.access_token, "application/json, application/jwt",
                              AUTHC__OAUTH_MAX_USERINFO, &info, &st, why, sizeof why)
                   : (snprintf(why, sizeof why, "no userinfo endpoint"), AUTHC_ERR_INVALID);
            const char *s1 = json_string_value(json_object_get(profile, "sub"));
            const char *s2 = json_string_value(json_object_get(info, "sub"));
            bool same = s1 && s2 && !strcmp(s1, s2);
            json_decref(profile);
            profile = info;
            if (e == AUTHC_ERR_NOMEM)
                return e;
            if (!e && (!json_is_object(info) || !same)) {
                snprintf(why, sizeof why, "userinfo sub does not match the id_token sub");
                e = AUTHC_ERR_INVALID;
            }
            if (e) {
                json_decref(profile);
                return authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: userinfo of %s: %s", P->id, why);
            }
        }
        if (P->hooks & AUTHC__HOOK_APPLE) {
            /* First consent only: Apple posts the name as a `user` field. */
            const char *u = authc__map_last(params, "user");
            json_error_t je;
            json_t *uj = u && strlen(u) < 4096 ? json_loads(u, 0, &je) : NULL;
            if (json_is_object(uj))
                json_object_set(profile, "user", uj);
            json_decref(uj);
        }
    } else {
        long st = 0;
        if (P->hooks & AUTHC__HOOK_GITHUB_EMAILS)
            e = github_profile(c, P, &t, &profile, why, sizeof why);
        else
            e = get_json(c, P, P->userinfo_url ? P->userinfo_url : meta ? meta->userinfo_endpoint : "",
                         t.access_token, "application/json", AUTHC__OAUTH_MAX_USERINFO, &profile, &st, why, sizeof why);
        if (!e && !json_is_object(profile)) {
            snprintf(why, sizeof why, "the userinfo answer is not a JSON object");
            e = AUTHC_ERR_INVALID;
        }
        if (e) {
            json_decref(profile);
            return e == AUTHC_ERR_NOMEM ? e
                   : authc__fail(c, AUTHC_ERR_CONFIGURATION, "CallbackRouteError: userinfo of %s: %s", P->id, why);
        }
    }

    /* 6. Mapping to the Auth.js user and account. */
    authc_user user = {.email_verified = AUTHC_NO_TIME};
    user.id = claim(c->ar, profile, P->claim_id);
    user.name = claim(c->ar, profile, P->claim_name);
    user.email = claim(c->ar, profile, P->claim_email);
    user.image = claim(c->ar, profile, P->claim_image);
    if (P->hooks & AUTHC__HOOK_DISCORD)
        user.image = discord_image(c->ar, profile);
    if (P->hooks & AUTHC__HOOK_APPLE) {
        json_t *nm = json_object_get(json_object_get(profile, "user"), "name");
        if (json_is_object(nm)) {
            const char *f = json_string_value(json_object_get(nm, "firstName"));
            const char *l = json_string_value(json_object_get(nm, "lastName"));
            user.name = authc_arena_printf(c->ar, "%s%s%s", f ? f : "", f && l ? " " : "", l ? l : "");
        } else {
            user.name = user.email;
        }
    }
    json_decref(profile);
    if (P->hooks & AUTHC__HOOK_ENTRA)
        user.image = entra_photo(c, P, &t);
    if (user.email) {
        char *lc = authc_arena_strdup(c->ar, user.email);
        if (!lc)
            return AUTHC_ERR_NOMEM;
        for (char *q = lc; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        user.email = lc;
    }
    char uuid[37];
    const char *pid = user.id;
    if (!pid) {
        if ((e = authc__uuid(uuid)))
            return e;
        pid = authc_arena_strdup(c->ar, uuid);
    }
    authc_account *acct = authc_arena_alloc(c->ar, sizeof *acct);
    if (!acct || !pid)
        return AUTHC_ERR_NOMEM;
    acct->type = P->type == AUTHC_OAUTH_OIDC ? "oidc" : "oauth";
    acct->provider = P->id;
    acct->provider_account_id = pid;
    acct->access_token = t.access_token;
    acct->refresh_token = t.refresh_token;
    acct->expires_at = t.expires_at;
    acct->token_type = t.token_type;
    acct->scope = t.scope;
    acct->id_token = t.id_token;
    acct->session_state = t.session_state;
    user.id = pid;
    return authc__login(c, &user, acct);
}
