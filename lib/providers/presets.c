/* presets.c — the built-in providers as one data table (endpoints, scopes,
 * checks, claim names, colours, as Auth.js 0.41.3 defines them); presets
 * that need code name a hook table (oauth_hooks.c). */
#include <string.h>

#include "providers/oauth_int.h"

#define P  AUTHC_CHECK_PKCE
#define S  AUTHC_CHECK_STATE
#define N  AUTHC_CHECK_NONCE
#define PA (AUTHC_CHECK_PKCE | AUTHC_CHECK_PKCE_IF_ADVERTISED)
#define OIDC AUTHC_OAUTH_OIDC
#define OAUTH AUTHC_OAUTH_OAUTH2
#define POST AUTHC_TOKEN_AUTH_CLIENT_SECRET_POST
#define BASIC AUTHC_TOKEN_AUTH_CLIENT_SECRET_BASIC

/* Checks: Auth.js's defaults plus state everywhere and nonce for OIDC
 * (stricter, see docs/compat-oauth.md). PKCE stays where Auth.js sends it;
 * where Auth.js does not (Apple, Slack, LinkedIn), only when the IdP's
 * discovery advertises S256. A NULL claim means the default mapping; ""
 * means "never set". */
static const authc__preset PRESETS[] = {
    {.id = "github", .name = "GitHub", .type = OAUTH,
     .issuer = "{base}/login/oauth", .default_base = "https://github.com",
     .authorization_url = "{base}/login/oauth/authorize",
     .token_url = "{base}/login/oauth/access_token",
     .userinfo_url = "{api}/user",
     .scope = "read:user user:email", .checks = P | S, .token_auth = BASIC,
     .claim_id = "id", .claim_name = "name login", .claim_email = "email", .claim_image = "avatar_url",
     .brand_color = "#24292f", .hooks = &AUTHC__HOOKS_GITHUB},
    {.id = "google", .name = "Google", .type = OIDC,
     .issuer = "https://accounts.google.com", .checks = P | S | N, .brand_color = "#1a73e8"},
    {.id = "gitlab", .name = "GitLab", .type = OAUTH, .default_base = "https://gitlab.com",
     .authorization_url = "{base}/oauth/authorize?scope=read_user",
     .token_url = "{base}/oauth/token", .userinfo_url = "{base}/api/v4/user",
     .checks = P | S, .claim_id = "sub id", .claim_name = "name username", .claim_email = "email",
     .claim_image = "avatar_url", .brand_color = "#FC6D26"},
    {.id = "discord", .name = "Discord", .type = OAUTH,
     .authorization_url = "https://discord.com/api/oauth2/authorize",
     .token_url = "https://discord.com/api/oauth2/token",
     .userinfo_url = "https://discord.com/api/users/@me",
     .scope = "identify email", .checks = P | S,
     .claim_id = "id", .claim_name = "global_name username", .claim_email = "email", .claim_image = "",
     .brand_color = "#5865F2", .hooks = &AUTHC__HOOKS_DISCORD},
    {.id = "microsoft-entra-id", .name = "Microsoft Entra ID", .type = OIDC,
     .issuer = "https://login.microsoftonline.com/common/v2.0",
     .scope = "openid profile email User.Read", .checks = P | S | N,
     .claim_id = "sub", .claim_name = "name", .claim_email = "email", .claim_image = "",
     .brand_color = "#0072c6", .hooks = &AUTHC__HOOKS_ENTRA},
    {.id = "keycloak", .name = "Keycloak", .type = OIDC, .needs_issuer = true,
     .checks = P | S | N, .brand_color = "#428bca"},
    {.id = "auth0", .name = "Auth0", .type = OIDC, .needs_issuer = true,
     .checks = P | S | N, .brand_color = "#EB5424"},
    {.id = "okta", .name = "Okta", .type = OIDC, .needs_issuer = true,
     .checks = P | S | N, .brand_color = "#000"},
    {.id = "authentik", .name = "Authentik", .type = OIDC, .needs_issuer = true,
     .checks = P | S | N},
    {.id = "apple", .name = "Apple", .type = OIDC, .issuer = "https://appleid.apple.com",
     .scope = "name email", .params = "response_mode=form_post",
     .checks = PA | S | N, .token_auth = POST,
     .claim_id = "sub", .claim_email = "email", .claim_image = "",
     .brand_color = "#000", .hooks = &AUTHC__HOOKS_APPLE},
    {.id = "facebook", .name = "Facebook", .type = OAUTH,
     .authorization_url = "https://www.facebook.com/v19.0/dialog/oauth",
     .token_url = "https://graph.facebook.com/oauth/access_token",
     .userinfo_url = "https://graph.facebook.com/me?fields=id,name,email,picture",
     .scope = "email", .checks = P | S,
     .claim_id = "id", .claim_name = "name", .claim_email = "email", .claim_image = "picture.data.url",
     .brand_color = "#006aff"},
    {.id = "slack", .name = "Slack", .type = OIDC, .issuer = "https://slack.com",
     .checks = PA | S | N, .brand_color = "#611f69"},
    {.id = "linkedin", .name = "LinkedIn", .type = OIDC, .issuer = "https://www.linkedin.com/oauth",
     .checks = PA | S | N, .token_auth = POST, .brand_color = "#069"},
    {.id = "twitch", .name = "Twitch", .type = OIDC, .issuer = "https://id.twitch.tv/oauth2",
     .scope = "openid user:read:email",
     .params = "claims=%7B%22id_token%22%3A%7B%22email%22%3Anull%2C%22picture%22%3Anull%2C"
               "%22preferred_username%22%3Anull%7D%7D",
     .checks = P | S | N, .token_auth = POST, .brand_color = "#65459B", .hooks = &AUTHC__HOOKS_TWITCH},
    {.id = "twitter", .name = "Twitter", .type = OAUTH,
     .authorization_url = "https://x.com/i/oauth2/authorize?scope=users.read%20tweet.read%20offline.access",
     .token_url = "https://api.x.com/2/oauth2/token",
     .userinfo_url = "https://api.x.com/2/users/me?user.fields=profile_image_url",
     .checks = P | S, .claim_id = "data.id", .claim_name = "data.name", .claim_email = "data.email",
     .claim_image = "data.profile_image_url", .brand_color = "#1da1f2"},
};

static const char *const IDS[] = {
    "github", "google", "gitlab", "discord", "microsoft-entra-id", "keycloak", "auth0", "okta",
    "authentik", "apple", "facebook", "slack", "linkedin", "twitch", "twitter", NULL,
};

_Static_assert(sizeof IDS / sizeof *IDS == sizeof PRESETS / sizeof *PRESETS + 1,
               "IDS must list every preset");

const authc__preset *authc__preset_find(const char *id)
{
    for (size_t i = 0; id && i < sizeof PRESETS / sizeof *PRESETS; i++)
        if (!strcmp(PRESETS[i].id, id))
            return &PRESETS[i];
    return NULL;
}

const char *const *authc_oauth_presets(void)
{
    return IDS;
}

bool authc_oauth_preset_needs_issuer(const char *preset)
{
    const authc__preset *p = authc__preset_find(preset);
    return p && p->needs_issuer;
}
