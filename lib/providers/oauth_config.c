/* oauth_config.c — adding an OAuth 2.0 / OpenID Connect provider: the
 * preset row and the configuration resolved into one frozen record, validated. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/oauth_int.h"

/* The record lives in its own arena with every setting string; only the
 * client secret is malloc'd apart, to be wiped when it is freed. */
static void oauth_free(void *impl)
{
    authc__oauth *p = impl;
    if (!p)
        return;
    authc__oidc_free(p->oidc);
    authc__free_secret(p->client_secret);
    authc_arena_free(p->ar);
}

/* A copy of s in p's arena (NULL in, NULL out); *oom set on failure. */
static char *xdup(authc__oauth *p, const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = authc_arena_strdup(p->ar, s);
    if (!d)
        *oom = true;
    return d;
}

/* Expands {base} and {api} in a preset template (a string of p's arena). */
static char *expand(authc__oauth *p, const char *t, const char *base, const char *api, bool *oom)
{
    if (!t)
        return NULL;
    size_t cap = strlen(t) + (base ? strlen(base) : 0) * 2 + (api ? strlen(api) : 0) * 2 + 1;
    char *r = authc_arena_alloc(p->ar, cap), *o = r;
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
    char *nv = authc_arena_strdup(p->ar, v);
    if (!nv)
        return AUTHC_ERR_NOMEM;
    /* Later values for the same name replace earlier ones. */
    for (size_t i = 0; i < p->nparams; i++)
        if (!strcmp(p->params[2 * i], k)) {
            p->params[2 * i + 1] = nv;
            return AUTHC_OK;
        }
    if (p->nparams >= AUTHC__OAUTH_MAX_PARAMS)
        return AUTHC_ERR_LIMIT;
    if (!p->params && !(p->params = authc_arena_alloc(p->ar, 2 * AUTHC__OAUTH_MAX_PARAMS * sizeof *p->params)))
        return AUTHC_ERR_NOMEM;
    if (!(p->params[2 * p->nparams] = authc_arena_strdup(p->ar, k)))
        return AUTHC_ERR_NOMEM;
    p->params[2 * p->nparams + 1] = nv;
    p->nparams++;
    return AUTHC_OK;
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
static void check_url(authc__problems *pr, const char *what, const char *u, bool allow_http, const char *id)
{
    if (!u)
        return;
    authc_arena *ar = authc_arena_new();
    authc__url pu;
    bool ok = ar && authc__url_parse(ar, u, &pu) == AUTHC_OK;
    authc_arena_free(ar);
    if (!ok)
        authc__problem(pr, NULL, "provider %s: %s \"%.200s\" is not an absolute http(s) URL", id, what, u);
    else if (authc__starts_with(u, "http://") && !allow_http && !authc__url_is_loopback(u))
        authc__problem(pr, NULL, "provider %s: %s \"%.200s\" uses plain http; use https (or allow http for this provider)",
                       id, what, u);
}


/* The preset's values under the configuration's, {base}/{api} expanded. */
static void resolve(authc__oauth *p, const authc_oauth_provider *in, const authc__preset *pr, bool *oom)
{
    p->type = in->type ? in->type : pr ? pr->type : (in->issuer ? AUTHC_OAUTH_OIDC : AUTHC_OAUTH_OAUTH2);
    p->hooks = pr && pr->hooks ? pr->hooks : &AUTHC__HOOKS_NONE;
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
    if (p->hooks->github_api && in->base_url)
        snprintf(api, sizeof api, "%s/api/v3", base);
    else if (p->hooks->github_api)
        snprintf(api, sizeof api, "https://api.github.com");
    const char *bp = b ? base : NULL, *ap = api[0] ? api : NULL;
#define URL(f) p->f = in->f ? xdup(p, in->f, oom) : pr ? expand(p, pr->f, bp, ap, oom) : NULL
    URL(issuer);
    URL(authorization_url);
    URL(token_url);
    URL(userinfo_url);
#undef URL
    p->api_base = xdup(p, ap, oom);
    p->client_id = xdup(p, in->client_id, oom);
    if (in->client_secret && !(p->client_secret = strdup(in->client_secret)))
        *oom = true;
    p->scope = xdup(p, in->scope ? in->scope : pr ? pr->scope : NULL, oom);
    unsigned dflt = p->type == AUTHC_OAUTH_OIDC ? AUTHC_CHECK_PKCE | AUTHC_CHECK_STATE | AUTHC_CHECK_NONCE
                                                : AUTHC_CHECK_PKCE | AUTHC_CHECK_STATE;
    p->checks = in->checks ? in->checks : pr ? pr->checks : dflt;
    p->token_auth = in->token_auth ? in->token_auth
                  : (pr && pr->token_auth) ? pr->token_auth : AUTHC_TOKEN_AUTH_CLIENT_SECRET_BASIC;
#define CLAIM(f, dflt) p->f = xdup(p, in->f ? in->f : (pr && pr->f) ? pr->f : dflt, oom)
    CLAIM(claim_id, "sub id");
    CLAIM(claim_name, "name nickname preferred_username");
    CLAIM(claim_email, "email");
    CLAIM(claim_image, "picture");
#undef CLAIM
    p->profile_from_userinfo = in->profile_from_userinfo;
    p->federated_signout = in->federated_signout;
    p->brand_color = xdup(p, in->brand_color ? in->brand_color : pr ? pr->brand_color : NULL, oom);
    p->ca_file = xdup(p, in->ca_file, oom);
    p->http.ca_file = p->ca_file;
    p->http.connect_ms = in->connect_timeout_ms;
    p->http.total_ms = in->timeout_ms;
    p->http.allow_http = in->allow_http;
    p->http.provider = p->id;
}

/* Authorization params: the preset's, then the configuration's ("scope"
 * replaces the scope); then what they imply (form_post, the proxy). */
static authc_err resolve_params(authc__oauth *p, const authc_oauth_provider *in, const authc__preset *pr,
                                authc__problems *probs)
{
    authc_err e = AUTHC_OK;
    if (pr && pr->params) {
        authc_arena *ar = authc_arena_new();
        authc__map m = {0};
        e = ar ? authc__parse_form(ar, pr->params, strlen(pr->params), &m, AUTHC__OAUTH_MAX_PARAMS) : AUTHC_ERR_NOMEM;
        for (size_t i = 0; !e && i < m.n; i++)
            e = add_param(p, m.items[i].k, m.items[i].v);
        authc_arena_free(ar);
    }
    for (size_t i = 0; !e && in->params && in->params[i]; i += 2) {
        if (!in->params[i + 1]) {
            authc__problem(probs, NULL, "provider %s: authorization parameter \"%.64s\" has no value", p->id, in->params[i]);
            return AUTHC_ERR_INVALID;
        }
        if (!strcmp(in->params[i], "scope")) {
            e = (p->scope = authc_arena_strdup(p->ar, in->params[i + 1])) ? AUTHC_OK : AUTHC_ERR_NOMEM;
        } else if ((e = add_param(p, in->params[i], in->params[i + 1])) == AUTHC_ERR_LIMIT) {
            authc__problem(probs, NULL, "provider %s: more than %d authorization parameters", p->id, AUTHC__OAUTH_MAX_PARAMS);
            return AUTHC_ERR_INVALID;
        }
    }
    for (size_t i = 0; !e && i < p->nparams; i++)
        if (!strcmp(p->params[2 * i], "response_mode") && !strcmp(p->params[2 * i + 1], "form_post"))
            p->form_post = true;
    /* Auth.js keeps redirect proxies away from form_post providers. */
    if (!e && in->redirect_proxy_url && !p->form_post) {
        size_t l = strlen(in->redirect_proxy_url);
        while (l > 0 && in->redirect_proxy_url[l - 1] == '/')
            l--;
        if (!(p->redirect_proxy_url = authc_arena_strndup(p->ar, in->redirect_proxy_url, l)))
            return AUTHC_ERR_NOMEM;
        p->checks |= AUTHC_CHECK_STATE;
    }
    return e;
}

/* Names every problem a user can fix (with the Auth.js variable: id
 * uppercased, '-' → '_'). */
static void validate(const authc__oauth *p, authc__problems *pr)
{
    const char *id = p->id;
    char env[80];
    size_t el = 0;
    for (; id[el] && el < sizeof env - 1; el++)
        env[el] = id[el] == '-' ? '_' : (char)toupper((unsigned char)id[el]);
    env[el] = '\0';
    char set[96];
    if (!p->client_id || !*p->client_id) {
        snprintf(set, sizeof set, "AUTH_%s_ID", env);
        authc__problem(pr, set, "provider %s: the client id is not set", id);
    }
    if (p->token_auth != AUTHC_TOKEN_AUTH_NONE && (!p->client_secret || !*p->client_secret)) {
        snprintf(set, sizeof set, "AUTH_%s_SECRET", env);
        authc__problem(pr, set, "provider %s: the client secret is not set", id);
    }
    if (p->type == AUTHC_OAUTH_OIDC && !p->issuer) {
        snprintf(set, sizeof set, "AUTH_%s_ISSUER", env);
        authc__problem(pr, set, "provider %s: an OpenID Connect provider needs an issuer", id);
    }
    if (!p->issuer && (!p->authorization_url || !p->token_url || !p->userinfo_url))
        authc__problem(pr, NULL, "InvalidEndpoints: provider %s needs an issuer or all of the authorization, token and "
                           "userinfo URLs", id);
    if (!(p->checks & (AUTHC_CHECK_PKCE | AUTHC_CHECK_STATE | AUTHC_CHECK_NONCE)))
        authc__problem(pr, NULL, "provider %s: at least one of the pkce, state and nonce checks must be on", id);
    bool ah = p->http.allow_http;
    check_url(pr, "issuer", p->issuer, ah, id);
    check_url(pr, "authorization URL", p->authorization_url, ah, id);
    check_url(pr, "token URL", p->token_url, ah, id);
    check_url(pr, "userinfo URL", p->userinfo_url, ah, id);
    check_url(pr, "redirect proxy URL", p->redirect_proxy_url, true, id);
}

/* The IdP's origin: the authorization URL's, else the issuer's (the
 * discovered endpoint lives there in practice). */
static const char *oauth_form_target(authc_arena *ar, const authc__provider *p)
{
    const authc__oauth *P = p->impl;
    return authc__oauth_origin_of(ar, P->authorization_url ? P->authorization_url : P->issuer);
}

/* OAuth 2 and OpenID Connect providers run the same steps; an "oidc"
 * provider also owns the back-channel logout route. */
#define OAUTH_FAMILY_OPS(TYPE, ROUTES, NROUTES)                           \
    {                                                                     \
        .type = TYPE, .page = AUTHC__PART_BUTTON,                         \
        .signin = authc__oauth_authorize,                                 \
        .signin_pool = AUTHC_POOL_NET, /* discovery may run first */      \
        .callback = authc__oauth_callback,                                \
        .callback_methods = AUTHC__GET | AUTHC__POST,                     \
        .callback_pool = AUTHC_POOL_NET,                                  \
        .routes = ROUTES, .nroutes = NROUTES,                             \
        .refresh = authc__oauth_refresh,                                  \
        .end_session = authc__oauth_end_session,                          \
        .free = oauth_free, .form_target = oauth_form_target,             \
    }

const authc__provider_ops AUTHC__OAUTH_OPS = OAUTH_FAMILY_OPS("oauth", NULL, 0);
const authc__provider_ops AUTHC__OIDC_OPS = OAUTH_FAMILY_OPS(
    "oidc", AUTHC__OIDC_ROUTES, sizeof AUTHC__OIDC_ROUTES / sizeof *AUTHC__OIDC_ROUTES);

authc_err authc_config_add_oauth(authc_config *cfg, const authc_oauth_provider *in,
                                 char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    const authc__preset *pr = NULL;
    if (in->preset && !(pr = authc__preset_find(in->preset))) {
        snprintf(err, errlen, "unknown provider preset \"%.64s\"", in->preset);
        return AUTHC_ERR_INVALID;
    }
    const char *id = in->id ? in->id : pr ? pr->id : NULL;
    if (!valid_id(id)) {
        snprintf(err, errlen, "provider id \"%.64s\" is missing or invalid (letters, digits, - _ . only)",
                 id ? id : "");
        return AUTHC_ERR_INVALID;
    }
    authc_arena *ar = NULL;
    authc__oauth *p = authc__record_new(sizeof *p, &ar);
    if (!p)
        return AUTHC_ERR_NOMEM;
    p->ar = ar;
    authc__problems probs = {0};
    bool oom = false;
    p->id = xdup(p, id, &oom);
    resolve(p, in, pr, &oom);
    authc_err e = oom ? AUTHC_ERR_NOMEM : resolve_params(p, in, pr, &probs);
    if (!e) {
        validate(p, &probs);
        e = authc__problems_count(&probs) ? AUTHC_ERR_INVALID : AUTHC_OK;
    }
    if (authc__problems_count(&probs))
        authc__problems_render(&probs, err, errlen);
    authc__problems_clear(&probs);
    /* Discovery is needed for OIDC (jwks_uri, issuer) and for any endpoint
     * left to the issuer's metadata. */
    bool discover = p->issuer && (p->type == AUTHC_OAUTH_OIDC || !p->authorization_url || !p->token_url ||
                                  !p->userinfo_url);
    if (!e && discover && !(p->oidc = authc__oidc_new(p->issuer, &p->http, p->hooks->tenant_issuer)))
        e = AUTHC_ERR_NOMEM;
    authc__provider *slot = e ? NULL : authc__config_add_provider(cfg);
    if (!slot) {
        oauth_free(p);
        return e ? e : AUTHC_ERR_NOMEM;
    }
    slot->ops = p->type == AUTHC_OAUTH_OIDC ? &AUTHC__OIDC_OPS : &AUTHC__OAUTH_OPS;
    slot->impl = p;
    slot->id = strdup(id);
    slot->name = strdup(in->name ? in->name : pr ? pr->name : id);
    slot->brand_color = p->brand_color;
    slot->allow_dangerous_email_linking = in->allow_dangerous_email_account_linking;
    return slot->id && slot->name ? AUTHC_OK : AUTHC_ERR_NOMEM;
}

authc_err authc_config_add_preset(authc_config *cfg, const char *preset, const char *client_id,
                                  const char *client_secret, const char *issuer, char *err, size_t errlen)
{
    authc_oauth_provider p = {.preset = preset, .client_id = client_id,
                              .client_secret = client_secret, .issuer = issuer};
    return authc_config_add_oauth(cfg, &p, err, errlen);
}
