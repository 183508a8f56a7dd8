/* csrf.c — Auth.js's double-submit CSRF token: cookie "<token>|<sha256hex(
 * token + secret)>", token echoed only in the body field csrfToken. */
#include <string.h>

#include "core/core_int.h"

void authc__csrf_hash(const authc *a, const char *token, char out[65])
{
    uint8_t md[32];
    const char *parts[2] = {token, a->csrf_secret};
    if (!authc__sha256_strs(md, parts, 2, false)) {
        /* Never equal to a real hash: verification then fails closed. */
        memset(out, 'x', 64);
        out[64] = '\0';
        return;
    }
    authc__hex(out, md, sizeof md);
}

static bool is_hex64(const char *s, size_t n)
{
    if (n != 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
            return false;
    }
    return true;
}

authc_err authc__csrf_init(authc__ctx *c)
{
    const char *cookie = authc__map_first(&c->cookies, c->ck[AUTHC__CK_CSRF]);
    if (cookie) {
        const char *bar = strchr(cookie, '|');
        if (bar && is_hex64(cookie, (size_t)(bar - cookie))) {
            char *tok = authc_arena_strndup(c->ar, cookie, (size_t)(bar - cookie));
            if (!tok)
                return AUTHC_ERR_NOMEM;
            char want[65];
            authc__csrf_hash(c->a, tok, want);
            if (authc__ct_streq(want, bar + 1)) {
                c->csrf_token = tok;
                const char *sent = authc__map_last(&c->body, "csrfToken");
                c->csrf_verified = c->skip_csrf || (c->post && sent && authc__ct_streq(sent, tok));
                return AUTHC_OK;
            }
        }
    }
    uint8_t rnd[32];
    authc_err e = authc__random(rnd, sizeof rnd);
    if (e)
        return e;
    char *tok = authc_arena_alloc(c->ar, 65);
    /* The cookie's value as it goes on the wire: "<token>|<hash>" with the
     * bar percent-encoded as Auth.js's serialiser writes it, the hex as it is. */
    char *val = authc_arena_alloc(c->ar, 64 + 3 + 64 + 1);
    if (!tok || !val)
        return AUTHC_ERR_NOMEM;
    authc__hex(tok, rnd, sizeof rnd);
    memcpy(val, tok, 64);
    memcpy(val + 64, "%7C", 3);
    authc__csrf_hash(c->a, tok, val + 67);
    c->csrf_token = tok;
    c->csrf_verified = c->skip_csrf;
    return authc__cookie_push_as(c, &c->init_cookies, c->ck[AUTHC__CK_CSRF], val, -1, -1, AUTHC__CO_PLAIN);
}
