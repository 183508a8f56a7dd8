/* csrf_action.c — GET /csrf: the token for the double-submit check, with
 * the cookie when it was just minted. */
#include "core/core_int.h"

authc_err authc__action_csrf(authc__ctx *c)
{
    authc_err e = authc__res_nocache(c);
    if (e)
        return e;
    /* The token is 64 hex digits: no escaping, and no printf per request. */
    char *body = authc__join(c->ar, "{\"csrfToken\":\"", c->csrf_token, "\"}", NULL);
    return body ? authc__res_json(c, 200, body) : AUTHC_ERR_NOMEM;
}
