/* oauth_int.h — private types of the OAuth 2.0 / OpenID Connect provider
 * type: frozen settings, preset rows and their hooks, discovery, and the
 * steps (authorize, callback, token, profile), one file each. */
#ifndef AUTHC_OAUTH_INT_H
#define AUTHC_OAUTH_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

#include "authc.h"
#include "authc/oauth.h"
#include "core/provider_api.h"
#include "jose/idtoken_int.h"
#include "util/http_int.h"
#include "util/util_int.h"

/* Limits on what a provider may send us. */
#define AUTHC__OAUTH_MAX_TOKEN_RES  (64 * 1024)
#define AUTHC__OAUTH_MAX_USERINFO   (256 * 1024)
#define AUTHC__OAUTH_MAX_DISCOVERY  (256 * 1024)
#define AUTHC__OAUTH_MAX_PHOTO      (256 * 1024)
#define AUTHC__OAUTH_MAX_PARAMS     32
#define AUTHC__OAUTH_WHY_LEN        512 /* room for one failure reason */

typedef struct authc__oauth authc__oauth;

/* Tokens of a code exchange (arena strings; absent = NULL). */
typedef struct authc__tokens {
    const char *access_token, *token_type, *id_token, *refresh_token, *scope, *session_state;
    int64_t expires_at;         /* AUTHC_NO_TIME when not sent */
} authc__tokens;

/* Code for the presets that need it (presets.c). Every member is
 * optional; a preset without hooks uses none. */
typedef struct authc__oauth_hooks {
    /* Reads the profile instead of one userinfo GET (GitHub: /user/emails). */
    authc_err (*fetch_profile)(authc__ctx *c, const authc__oauth *P, const authc__tokens *t,
                               json_t **profile, char *why, size_t whylen);
    /* Adds callback parameters to the profile (Apple: the `user` field). */
    void (*profile_params)(const authc__map *params, json_t *profile);
    /* Adjusts the user mapped from the claims (images, names). */
    authc_err (*map_user)(authc__ctx *c, const authc__oauth *P, const authc__tokens *t,
                          json_t *profile, authc_user *user);
    /* Normalises the token response before it is read (Twitch's scope). */
    authc_err (*fix_tokens)(authc_arena *ar, json_t *tj);
    /* The issuer an id_token must name (Entra: the user's tenant). Arena string. */
    const char *(*id_token_issuer)(authc_arena *ar, const char *issuer, const char *id_token);
    bool token_body_errors;     /* error bodies of the token endpoint are OAuthCallbackError */
    bool tenant_issuer;         /* discovery's issuer carries "{tenantid}" */
    bool github_api;            /* {api} is GitHub's API base */
} authc__oauth_hooks;

/* oauth_hooks.c: the hook tables presets name. */
extern const authc__oauth_hooks AUTHC__HOOKS_NONE, AUTHC__HOOKS_GITHUB, AUTHC__HOOKS_DISCORD,
    AUTHC__HOOKS_APPLE, AUTHC__HOOKS_ENTRA, AUTHC__HOOKS_TWITCH;

/* One row of the preset table (static data). URLs may contain {base}
 * (base_url, no trailing slash) and {api} (GitHub's API base). */
typedef struct authc__preset {
    const char *id, *name;
    authc_oauth_type type;
    const char *issuer;          /* fixed issuer or NULL */
    bool needs_issuer;           /* issuer must come from configuration */
    const char *default_base;    /* for {base} */
    const char *authorization_url, *token_url, *userinfo_url;
    const char *scope;           /* authorization param, or NULL (OIDC default appended last) */
    const char *params;          /* extra authorization params, "k=v&k=v" (form-encoded) */
    unsigned checks;
    authc_token_auth token_auth;
    const char *claim_id, *claim_name, *claim_email, *claim_image;
    const char *brand_color;
    const authc__oauth_hooks *hooks; /* NULL = none */
} authc__preset;

const authc__preset *authc__preset_find(const char *id);

/* ---- OIDC discovery (oidc.c) ---------------------------------------- */

/* Authorization-server metadata. Immutable once published; a snapshot
 * stays valid until the provider is freed. */
typedef struct authc__oidc_meta {
    authc_arena *ar;     /* owns this snapshot and its strings */
    char *issuer;
    char *authorization_endpoint, *token_endpoint, *userinfo_endpoint, *jwks_uri;
    char *end_session_endpoint; /* RP-initiated logout, or NULL */
    unsigned algs;       /* id_token_signing_alg_values_supported ∩ supported (0 = RS256) */
    bool pkce_s256;      /* code_challenge_methods_supported contains S256 */
    bool iss_param;      /* authorization_response_iss_parameter_supported */
    int64_t fetched_ms;
    struct authc__oidc_meta *older; /* retired snapshots, freed with the cache */
} authc__oidc_meta;

typedef struct authc__oidc authc__oidc;

/* A cache for one issuer (borrowed http options must outlive it). With
 * tenant_issuer, "{tenantid}" in the discovered issuer is replaced (Entra).
 * Owned by the caller; NULL on OOM. */
authc__oidc *authc__oidc_new(const char *issuer, const authc__http_opts *http, bool tenant_issuer);
void authc__oidc_free(authc__oidc *o);
/* The metadata, discovered on first use and then cached (refreshed after
 * a day, single-flight). *m stays valid until authc__oidc_free. */
authc_err authc__oidc_get_meta(authc__oidc *o, const authc__oidc_meta **m, char *why, size_t whylen);
/* The JWKS cache of this issuer (keys from the discovered jwks_uri). */
authc__jwks *authc__oidc_jwks(authc__oidc *o);
/* Compares issuer identifiers the way oauth4webapi does (WHATWG URL href:
 * scheme/host case, default port, empty path → "/"). */
bool authc__issuer_equal(const char *a, const char *b);

/* ---- the frozen provider (impl of an authc__provider) --------------- */

struct authc__oauth {
    authc_arena *ar;             /* owns this record and its strings (not client_secret) */
    char *id;
    authc_oauth_type type;       /* OAUTH2 or OIDC, resolved */
    char *issuer;
    char *client_id;
    char *client_secret;         /* malloc'd, wiped on free */
    char *authorization_url, *token_url, *userinfo_url;
    char *scope;                 /* NULL = none configured */
    char **params;               /* name, value, name, value ... */
    size_t nparams;              /* pairs */
    unsigned checks;
    authc_token_auth token_auth;
    char *claim_id, *claim_name, *claim_email, *claim_image;
    bool profile_from_userinfo;
    bool federated_signout;      /* RP-initiated logout on sign-out */
    bool form_post;              /* response_mode=form_post configured */
    const authc__oauth_hooks *hooks; /* never NULL (an empty table) */
    char *api_base;              /* GitHub API base */
    char *brand_color;
    char *ca_file;
    char *redirect_proxy_url;
    authc__http_opts http;
    authc__oidc *oidc;           /* OIDC only */
};

/* ---- steps (one file each) ------------------------------------------ */

/* oauth_authorize.c: POST /signin/:id, 302 to the authorization URL. */
authc_err authc__oauth_authorize(authc__ctx *c);
/* oauth_callback.c: GET (or form_post POST) /callback/:id. */
authc_err authc__oauth_callback(authc__ctx *c);
/* oauth_token.c: exchanges the code; *t holds arena strings. */
authc_err authc__oauth_token(authc__ctx *c, const authc__oauth *P, const authc__oidc_meta *meta,
                             const char *code, const char *verifier, const char *redirect_uri,
                             authc__tokens *t);
/* oauth_profile.c: the profile (verified id_token claims and/or userinfo)
 * mapped to the user; *user's strings are arena strings. */
authc_err authc__oauth_profile(authc__ctx *c, const authc__oauth *P, const authc__oidc_meta *meta,
                               const authc__map *params, const authc__tokens *t, const char *nonce,
                               authc_user *user);
/* oauth_profile.c: GET a JSON document with the access token. *out is a
 * new reference (object or array) on success; *why says what failed. */
authc_err authc__oauth_get_json(authc__ctx *c, const authc__oauth *P, const char *url,
                                const char *access_token, const char *accept, size_t max,
                                json_t **out, char *why, size_t whylen);
/* oauth_logout.c: back- and front-channel logout, routes of the oidc type. */
extern const authc__route AUTHC__OIDC_ROUTES[2];
/* oauth_config.c: the type's ops tables (oauth and oidc). */
extern const authc__provider_ops AUTHC__OAUTH_OPS, AUTHC__OIDC_OPS;

/* ---- shared helpers (oauth_common.c) --------------------------------- */

/* Ordered parameter list with URLSearchParams semantics (arena). */
typedef struct authc__plist {
    authc_arena *ar;
    authc__map m;               /* in order; duplicates allowed until set() */
} authc__plist;
authc_err authc__pl_append(authc__plist *l, const char *k, const char *v);
/* set(): replaces the first value, drops later duplicates, appends when absent. */
authc_err authc__pl_set(authc__plist *l, const char *k, const char *v);
bool authc__pl_has(const authc__plist *l, const char *k);
authc_err authc__pl_from_map(authc__plist *l, const authc__map *m);
void authc__pl_serialize(authc__buf *b, const authc__plist *l);

/* An IdP-supplied string safe for one log line: [A-Za-z0-9_.-], ≤ 64. */
const char *authc__oauth_log_safe(authc_arena *ar, const char *s);
/* Origin of an absolute URL (arena) or NULL. */
const char *authc__oauth_origin_of(authc_arena *ar, const char *url);
/* The discovered metadata (NULL without discovery); failures are logged
 * through authc__fail. */
authc_err authc__oauth_meta(authc__ctx *c, const authc__oauth *P, const authc__oidc_meta **meta);
/* The configured checks minus PKCE when it depends on discovery. */
unsigned authc__oauth_checks(const authc__oauth *P, const authc__oidc_meta *meta);
/* True when this deployment sends the IdP to the redirect proxy. */
bool authc__oauth_via_proxy(authc__ctx *c, const authc__oauth *P);
/* The redirect_uri of this request (own callback or the proxy's). Arena. */
const char *authc__oauth_redirect_uri(authc__ctx *c, const authc__oauth *P);

/* "Basic " + base64(fe(id) ":" fe(secret)) where fe is encodeURIComponent
 * with %20 → '+', as Auth.js sends client_secret_basic. Arena string. */
char *authc__oauth_basic_auth(authc_arena *ar, const char *id, const char *secret);

/* oauth_refresh.c: the refresh_token grant and RP-initiated logout (ops). */
authc__refresh_result authc__oauth_refresh(authc__ctx *c, const authc__provider *p, const char *rt,
                                           const char *expected_sub, authc__refreshed *out);
bool authc__oauth_end_session(authc__ctx *c, const authc__provider *p, authc__end_session *out);
/* oauth_token.c: POSTs a grant (client authentication added) to the token
 * endpoint. *status is the HTTP status (0 when none came); *tj the JSON
 * object answered (new reference) or NULL; why says what failed. */
authc_err authc__oauth_token_post(authc__ctx *c, const authc__oauth *P, const authc__oidc_meta *meta,
                                  authc__plist *body, long *status, json_t **tj, char *why, size_t whylen);
/* oauth_token.c: reads a token response into *t (fix_tokens hook applied);
 * need_id_token: an OIDC code exchange must carry one. */
authc_err authc__oauth_parse_tokens(authc__ctx *c, const authc__oauth *P, json_t *tj, bool need_id_token,
                                    authc__tokens *t);

#endif
