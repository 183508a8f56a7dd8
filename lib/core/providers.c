/* providers.c — GET /providers: every configured provider with its sign-in
 * and callback URLs, in configuration order; no cookies. */
#include <string.h>

#include "core/core_int.h"

/* The body is a pure function of the instance (its providers and base
 * path never change after authc_new) and the request's origin, and this
 * answer is served at full request rate: each thread keeps its last one. */
static _Thread_local struct {
    uint64_t serial;            /* the instance's; 0: empty */
    char origin[272];
    size_t len;
    char body[8192];
} memo;

/* The body for c->origin into *body (arena-owned) and *len. */
static authc_err build(authc__ctx *c, const char **body, size_t *len)
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
        char *su = authc__join(c->ar, c->origin, bp, "/signin/", p->id, NULL);
        char *cu = authc__join(c->ar, c->origin, bp, "/callback/", p->id, NULL);
        authc__buf_adds(&b, ",\"signinUrl\":");
        authc__buf_add_json_str(&b, su);
        authc__buf_adds(&b, ",\"callbackUrl\":");
        authc__buf_add_json_str(&b, cu);
        authc__buf_addc(&b, '}');
    }
    authc__buf_addc(&b, '}');
    *body = b.p;
    *len = b.len;
    return b.err;
}

authc_err authc__action_providers(authc__ctx *c)
{
    size_t ol = strlen(c->origin), len;
    const char *body;
    if (memo.serial == c->a->serial && ol < sizeof memo.origin && !memcmp(memo.origin, c->origin, ol + 1)) {
        char *copy = authc_arena_alloc(c->ar, memo.len);
        if (!copy)
            return AUTHC_ERR_NOMEM;
        body = memcpy(copy, memo.body, memo.len);
        len = memo.len;
    } else {
        authc_err e = build(c, &body, &len);
        if (e)
            return e;
        if (len <= sizeof memo.body && ol < sizeof memo.origin) {
            memo.serial = c->a->serial;
            memcpy(memo.origin, c->origin, ol + 1);
            memcpy(memo.body, body, len);
            memo.len = len;
        }
    }
    c->init_cookies.n = 0; /* Auth.js sends no cookies here */
    return authc__res_body(c, 200, "application/json", body, len);
}
