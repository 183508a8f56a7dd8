/* callback.c — /callback/:provider: runs the provider type's callback step
 * (each type's ops table names it and the methods it accepts). */
#include <string.h>

#include "core/core_int.h"

authc_err authc__action_callback(authc__ctx *c)
{
    if (!c->provider)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "callback without a provider");
    const authc__provider_ops *ops = c->provider->ops;
    if (!(ops->callback_methods & (c->post ? AUTHC__POST : AUTHC__GET)))
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "InvalidProvider: %s callback must be a %s",
                           ops->type, c->post ? "GET" : "POST");
    return ops->callback(c);
}
