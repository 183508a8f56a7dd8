/* authc/oauth.h — adds OAuth 2.0 and OpenID Connect providers (generic, or
 * one of the built-in presets such as GitHub or Google) to a configuration. */
#ifndef AUTHC_OAUTH_H
#define AUTHC_OAUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "authc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum authc_oauth_type {
    AUTHC_OAUTH_DEFAULT = 0, /* the preset's type; "oidc" when an issuer is set, else "oauth" */
    AUTHC_OAUTH_OAUTH2,      /* "oauth": token + userinfo endpoints */
    AUTHC_OAUTH_OIDC,        /* "oidc": discovery, verified id_token */
} authc_oauth_type;

/* Checks on the authorization response (Auth.js `checks`). */
#define AUTHC_CHECK_PKCE  1u
#define AUTHC_CHECK_STATE 2u
#define AUTHC_CHECK_NONCE 4u
/* With PKCE: send it only when discovery lists S256 in
 * code_challenge_methods_supported (for IdPs that may reject it). */
#define AUTHC_CHECK_PKCE_IF_ADVERTISED 8u

typedef enum authc_token_auth {
    AUTHC_TOKEN_AUTH_DEFAULT = 0,       /* the preset's, else client_secret_basic */
    AUTHC_TOKEN_AUTH_CLIENT_SECRET_BASIC,
    AUTHC_TOKEN_AUTH_CLIENT_SECRET_POST,
    AUTHC_TOKEN_AUTH_NONE,              /* public client: client_id in the body only */
} authc_token_auth;

/* One provider. Every pointer is borrowed (copied by authc_config_add_oauth)
 * and may be NULL, meaning "the preset's value", else the default given. */
typedef struct authc_oauth_provider {
    const char *preset;        /* "github", "google", ... (see authc_oauth_presets) or NULL */
    const char *id;            /* required unless preset (default: the preset id) */
    const char *name;          /* button text "Sign in with <name>"; default preset name or id */
    authc_oauth_type type;
    const char *issuer;        /* OIDC issuer (discovery at <issuer>/.well-known/openid-configuration) */
    const char *client_id;     /* required */
    const char *client_secret; /* required unless token_auth is NONE */
    /* Endpoints; for OIDC each one missing comes from discovery. The
     * authorization URL may carry its own query parameters. */
    const char *authorization_url;
    const char *token_url;
    const char *userinfo_url;
    /* GitHub Enterprise / self-managed GitLab: the base URL every preset
     * endpoint is derived from (e.g. "https://github.example.com"). */
    const char *base_url;
    const char *scope;         /* default: the preset's, else "openid profile email" */
    /* Extra authorization parameters: name/value pairs, NULL-terminated
     * (e.g. {"prompt", "consent", "access_type", "offline", NULL}). */
    const char *const *params;
    unsigned checks;           /* AUTHC_CHECK_*; 0 = default (oidc: pkce+state+nonce, oauth: pkce+state) */
    authc_token_auth token_auth;
    /* Profile mapping: where the user's id, name, email and image are in
     * the profile (ID token claims or userinfo JSON). Each is a space-
     * separated list of fallbacks; each entry a dotted path, e.g.
     * "picture.data.url". Default: "sub id" / "name nickname
     * preferred_username" / "email" / "picture". */
    const char *claim_id, *claim_name, *claim_email, *claim_image;
    /* OIDC: take the profile from the userinfo endpoint instead of the
     * ID token (Auth.js idToken:false); its sub must match. */
    bool profile_from_userinfo;
    /* RP-initiated logout at sign-out (AUTH_<ID>_FEDERATED_SIGNOUT). */
    bool federated_signout;
    bool allow_dangerous_email_account_linking;
    const char *brand_color;   /* button colour, e.g. "#24292f" */
    const char *ca_file;       /* PEM CA bundle for a private IdP */
    long connect_timeout_ms;   /* 0 = 5000 */
    long timeout_ms;           /* whole request; 0 = 10000 */
    bool allow_http;           /* plain http to non-loopback hosts (never by default) */
    /* Auth.js redirectProxyUrl: "<url of the proxy deployment><basePath>". */
    const char *redirect_proxy_url;
} authc_oauth_provider;

/* Adds a provider (copied). Problems (missing client id, unknown preset,
 * bad URL, missing issuer where one is needed) are written to err and
 * give AUTHC_ERR_INVALID. */
authc_err authc_config_add_oauth(authc_config *cfg, const authc_oauth_provider *p,
                                 char *err, size_t errlen);

/* Shorthand: a preset with its defaults. issuer may be NULL except for
 * presets without a fixed one (keycloak, auth0, okta, authentik). */
authc_err authc_config_add_preset(authc_config *cfg, const char *preset,
                                  const char *client_id, const char *client_secret,
                                  const char *issuer, char *err, size_t errlen);

/* The preset ids, NULL-terminated, in table order. Static. */
const char *const *authc_oauth_presets(void);
/* True when the preset needs an issuer from configuration. */
bool authc_oauth_preset_needs_issuer(const char *preset);

#ifdef __cplusplus
}
#endif
#endif
