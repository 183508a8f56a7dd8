/* fuzz_idtoken.c — OpenID Connect ID tokens, logout tokens and JWKS
 * documents (lib/jose/idtoken.c, logout_token.c): the JWKS a provider serves
 * and the token it signs are attacker data. Accepted means every check held. */
#include <jansson.h>

#include "fuzz.h"
#include "jose/idtoken_int.h"
#include "jose/logout_token_int.h"
#include "util/util_int.h"

#define NOW 1800000000LL

typedef struct doc {
    const char *p;
    size_t n;
} doc;

static authc_err fetch(void *ud, authc_arena *ar, char **json, size_t *len, char *why, size_t wl)
{
    const doc *d = ud;
    (void)why; (void)wl;
    *json = authc_arena_strndup(ar, d->p, d->n);
    *len = d->n;
    return *json ? AUTHC_OK : AUTHC_ERR_NOMEM;
}

static bool aud_has(json_t *aud, const char *id)
{
    if (json_is_string(aud))
        return !strcmp(json_string_value(aud), id);
    size_t i;
    json_t *v;
    json_array_foreach(aud, i, v)
        if (json_is_string(v) && !strcmp(json_string_value(v), id))
            return true;
    return false;
}

/* Input: the JWKS document, a line "--", then the compact token. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    char *s = fuzz_cstr(data, size);
    char *tok = s ? fuzz_cut(s, "\n--\n") : NULL;
    if (!tok) {
        free(s);
        return 0;
    }
    tok[strcspn(tok, "\r\n")] = '\0';
    doc d = {s, strlen(s)};
    authc__jwks *j = authc__jwks_new(fetch, &d);
    authc_arena *ar = authc_arena_new();
    if (!j || !ar)
        abort();
    json_t *peek = authc__jws_peek_claims(ar, tok);
    json_decref(peek);
    authc__idtoken_expect x = {.issuer = "https://issuer.example", .client_id = "fuzz-client",
                               .nonce = "fuzz-nonce", .algs = AUTHC__ALG_ALL, .now = NOW, .skew = -1};
    json_t *claims = NULL;
    char why[256];
    authc_err e = authc__idtoken_verify(j, ar, tok, &x, &claims, why, sizeof why);
    if (e == AUTHC_OK) {
        FUZZ_CHECK(claims, "OK without claims");
        json_t *iss = json_object_get(claims, "iss");
        FUZZ_CHECK(json_is_string(iss) && !strcmp(json_string_value(iss), x.issuer), "wrong iss accepted");
        FUZZ_CHECK(aud_has(json_object_get(claims, "aud"), x.client_id), "wrong aud accepted");
        json_t *nonce = json_object_get(claims, "nonce");
        FUZZ_CHECK(json_is_string(nonce) && !strcmp(json_string_value(nonce), x.nonce), "wrong nonce accepted");
        json_t *exp = json_object_get(claims, "exp");
        FUZZ_CHECK(json_is_number(exp) && json_number_value(exp) > (double)(NOW - AUTHC__IDTOKEN_SKEW),
                   "expired token accepted");
        /* The header names a public-key algorithm, never none or HS*. */
        const char *dot = strchr(tok, '.');
        FUZZ_CHECK(dot, "no header");
        size_t hl;
        uint8_t *h = authc__b64url_decode(ar, tok, (size_t)(dot - tok), &hl);
        json_t *hj = h ? json_loadb((const char *)h, hl, 0, NULL) : NULL;
        const char *alg = json_string_value(json_object_get(hj, "alg"));
        FUZZ_CHECK(alg && authc__alg_bit(alg), "accepted alg %s", alg ? alg : "(none)");
        json_decref(hj);
        json_decref(claims);
    } else {
        FUZZ_CHECK(!claims, "claims on failure");
        FUZZ_CHECK(memchr(why, '\0', sizeof why), "why not terminated");
    }
    authc__jwks_free(j);
    /* The same input as a Back-Channel Logout token (fresh key cache). */
    j = authc__jwks_new(fetch, &d);
    authc__logout_claims lc;
    x.nonce = NULL;
    if (authc__logout_token_verify(j, ar, tok, &x, &lc, why, sizeof why) == AUTHC_OK) {
        FUZZ_CHECK(lc.jti && (lc.sub || lc.sid), "logout token without jti or sub/sid");
        FUZZ_CHECK(lc.exp > NOW - AUTHC__IDTOKEN_SKEW, "expired logout token accepted");
    }
    authc__jwks_free(j);
    authc_arena_free(ar);
    free(s);
    return 0;
}
