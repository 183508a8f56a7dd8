/* csrf.c — Auth.js's double-submit CSRF token: cookie "<token>|<sha256hex(
 * token + secret)>", token echoed only in the body field csrfToken. */
#include <string.h>

#include "core/core_int.h"

/* sha256(token + csrf secret) into md; false on an OpenSSL failure. */
static bool csrf_md(const authc *a, const char *token, uint8_t md[32])
{
    const char *parts[2] = {token, a->csrf_secret};
    return authc__sha256_strs(md, parts, 2, false);
}

void authc__csrf_hash(const authc *a, const char *token, char out[65])
{
    uint8_t md[32];
    if (!csrf_md(a, token, md)) {
        /* Never equal to a real hash: verification then fails closed. */
        memset(out, 'x', 64);
        out[64] = '\0';
        return;
    }
    authc__hex(out, md, sizeof md);
}

/* 1 + the value of each lower-case hex digit (what authc__hex writes);
 * 0 for every other byte. */
static const unsigned char HEXV[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
    ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

static bool is_hex64(const char *s, size_t n)
{
    if (n != 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!HEXV[(unsigned char)s[i]])
            return false;
    return true;
}

/* Whether hex is exactly the 64 lower-case digits of sha256(token +
 * secret): the digest compared as bytes, in constant time, word by word
 * (no hex of it, no string compare). The cookie's own text is not secret. */
static bool hash_matches(const authc *a, const char *token, const char *hex)
{
    uint8_t want[32], got[32];
    if (strnlen(hex, 65) != 64)
        return false;
    unsigned bad = 0;
    for (int i = 0; i < 32; i++) {
        unsigned hi = HEXV[(unsigned char)hex[2 * i]], lo = HEXV[(unsigned char)hex[2 * i + 1]];
        bad |= !hi | !lo;
        got[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
    }
    return !bad && csrf_md(a, token, want) && authc__ct_memeq8(want, got, sizeof want);
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
            if (hash_matches(c->a, tok, bar + 1)) {
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
