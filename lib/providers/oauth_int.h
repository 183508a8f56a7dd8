/* oauth_int.h — private types of the OAuth 2.0 / OpenID Connect provider
 * type: the frozen per-provider settings, the preset table rows, the
 * discovery cache (oidc.c) and the hooks for providers that need code. */
#ifndef AUTHC_OAUTH_INT_H
#define AUTHC_OAUTH_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

#include "authc.h"
#include "authc/oauth.h"
#include "jose/idtoken_int.h"
#include "util/http_int.h"
#include "util/util_int.h"

/* Hooks for the odd presets (bit mask in a table row). */
#define AUTHC__HOOK_GITHUB_EMAILS 1u  /* /user/emails when the profile email is private */
#define AUTHC__HOOK_DISCORD       2u  /* CDN avatar or default avatar */
#define AUTHC__HOOK_APPLE         4u  /* `user` form field; name from it or the email */
#define AUTHC__HOOK_ENTRA         8u  /* {tenantid}, tid issuer, body errors, Graph photo */
#define AUTHC__HOOK_TWITCH        16u /* scope array in the token response */

/* Limits on what a provider may send us. */
#define AUTHC__OAUTH_MAX_TOKEN_RES  (64 * 1024)
#define AUTHC__OAUTH_MAX_USERINFO   (256 * 1024)
#define AUTHC__OAUTH_MAX_DISCOVERY  (256 * 1024)
#define AUTHC__OAUTH_MAX_PHOTO      (256 * 1024)
#define AUTHC__OAUTH_MAX_PARAMS     32

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
    unsigned hooks;
} authc__preset;

const authc__preset *authc__preset_find(const char *id);

/* ---- OIDC discovery (oidc.c) ---------------------------------------- */

/* Authorization-server metadata. Immutable once published; a snapshot
 * stays valid until the provider is freed. */
typedef struct authc__oidc_meta {
    char *issuer;
    char *authorization_endpoint, *token_endpoint, *userinfo_endpoint, *jwks_uri;
    unsigned algs;       /* id_token_signing_alg_values_supported ∩ supported (0 = RS256) */
    bool pkce_s256;      /* code_challenge_methods_supported contains S256 */
    bool iss_param;      /* authorization_response_iss_parameter_supported */
    int64_t fetched_ms;
    struct authc__oidc_meta *older; /* retired snapshots, freed with the cache */
} authc__oidc_meta;

typedef struct authc__oidc authc__oidc;

/* A cache for one issuer (borrowed http options must outlive it). The
 * Entra hook replaces "{tenantid}" in the discovered issuer. Owned by the
 * caller; NULL on OOM. */
authc__oidc *authc__oidc_new(const char *issuer, const authc__http_opts *http, unsigned hooks);
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

typedef struct authc__oauth {
    char *id;
    authc_oauth_type type;       /* OAUTH2 or OIDC, resolved */
    char *issuer;
    char *client_id, *client_secret;
    char *authorization_url, *token_url, *userinfo_url;
    char *scope;                 /* NULL = none configured */
    char **params;               /* name, value, name, value ... */
    size_t nparams;              /* pairs */
    unsigned checks;
    authc_token_auth token_auth;
    char *claim_id, *claim_name, *claim_email, *claim_image;
    bool profile_from_userinfo;
    bool form_post;              /* response_mode=form_post configured */
    unsigned hooks;
    char *api_base;              /* GitHub API base */
    char *brand_color;
    char *ca_file;
    char *redirect_proxy_url;
    authc__http_opts http;
    authc__oidc *oidc;           /* OIDC only */
} authc__oauth;

/* "Basic " + base64(fe(id) ":" fe(secret)) where fe is encodeURIComponent
 * with %20 → '+', as Auth.js sends client_secret_basic. Arena string. */
char *authc__oauth_basic_auth(authc_arena *ar, const char *id, const char *secret);

#endif
