/* csrf_action.c — GET /csrf: the token for the double-submit check, with
 * the cookie when it was just minted. */
#include <string.h>

#include "core/core_int.h"

authc_err authc__action_csrf(authc__ctx *c)
{
    authc_err e = authc__res_nocache(c);
    if (e)
        return e;
    /* The token is 64 hex digits: no escaping; the body written in place. */
    static const char pre[] = "{\"csrfToken\":\"", post[] = "\"}";
    size_t tl = strlen(c->csrf_token), len = sizeof pre - 1 + tl + sizeof post - 1;
    char *body = authc_arena_alloc(c->ar, len + 1);
    if (!body)
        return AUTHC_ERR_NOMEM;
    memcpy(body, pre, sizeof pre - 1);
    memcpy(body + sizeof pre - 1, c->csrf_token, tl);
    memcpy(body + sizeof pre - 1 + tl, post, sizeof post);
    return authc__res_body(c, 200, "application/json", body, len);
}
