/* callback.c — /callback/:provider: dispatches to the provider type's
 * callback step (credentials here; OAuth, email and passkeys in theirs). */
#include <string.h>

#include "core/core_int.h"

authc_err authc__action_callback(authc__ctx *c)
{
    if (!c->provider)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "callback without a provider");
    switch (c->provider->type) {
    case AUTHC__P_CREDENTIALS:
        if (!c->post)
            return authc__fail(c, AUTHC_ERR_CONFIGURATION,
                               "InvalidProvider: credentials callback must be a POST");
        return authc__credentials_callback(c);
    case AUTHC__P_OAUTH:
    case AUTHC__P_OIDC:
        return authc__oauth_callback(c);
    case AUTHC__P_EMAIL:
        return authc__email_callback(c);
    case AUTHC__P_WEBAUTHN:
        return authc__webauthn_callback(c);
    default:
        return authc__fail(c, AUTHC_ERR_CONFIGURATION,
                           "provider type %s is not available in this build",
                           authc__ptype_name(c->provider->type));
    }
}
