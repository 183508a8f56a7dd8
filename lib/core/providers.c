/* providers.c — GET /providers: every configured provider with its sign-in
 * and callback URLs, in configuration order; no cookies. */
#include <string.h>

#include "core/core_int.h"

authc_err authc__action_providers(authc__ctx *c)
{
    const authc *a = c->a;
    const char *bp = strcmp(a->base_path, "/") ? a->base_path : "";
    authc__buf b;
    authc__buf_init(&b, c->ar, 256 * 1024);
    authc__buf_addc(&b, '{');
    for (size_t i = 0; i < a->nproviders; i++) {
        const authc__provider *p = &a->providers[i];
        if (i)
            authc__buf_addc(&b, ',');
        authc__buf_add_json_str(&b, p->id);
        authc__buf_adds(&b, ":{\"id\":");
        authc__buf_add_json_str(&b, p->id);
        authc__buf_adds(&b, ",\"name\":");
        authc__buf_add_json_str(&b, p->name);
        authc__buf_adds(&b, ",\"type\":");
        authc__buf_add_json_str(&b, p->ops->type);
        /* Joined, not formatted: this answer is served at full request rate. */
        char *su = authc__join(c->ar, c->origin, bp, "/signin/", p->id, NULL);
        char *cu = authc__join(c->ar, c->origin, bp, "/callback/", p->id, NULL);
        authc__buf_adds(&b, ",\"signinUrl\":");
        authc__buf_add_json_str(&b, su);
        authc__buf_adds(&b, ",\"callbackUrl\":");
        authc__buf_add_json_str(&b, cu);
        authc__buf_addc(&b, '}');
    }
    authc__buf_addc(&b, '}');
    if (b.err)
        return b.err;
    c->init_cookies.n = 0; /* Auth.js sends no cookies here */
    return authc__res_body(c, 200, "application/json", b.p, b.len);
}
