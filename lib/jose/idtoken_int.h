/* idtoken_int.h — OpenID Connect ID token verification (JWS signature with
 * a provider's JWKS, then the iss/aud/azp/exp/iat/nbf/nonce claims) and the
 * shared JWKS cache (refresh on unknown kid, single-flight, snapshot swap). */
#ifndef AUTHC_IDTOKEN_INT_H
#define AUTHC_IDTOKEN_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "authc.h"

/* Signature algorithms (bit mask). */
#define AUTHC__ALG_RS256 (1u << 0)
#define AUTHC__ALG_RS384 (1u << 1)
#define AUTHC__ALG_RS512 (1u << 2)
#define AUTHC__ALG_PS256 (1u << 3)
#define AUTHC__ALG_PS384 (1u << 4)
#define AUTHC__ALG_PS512 (1u << 5)
#define AUTHC__ALG_ES256 (1u << 6)
#define AUTHC__ALG_ES384 (1u << 7)
#define AUTHC__ALG_ES512 (1u << 8)
#define AUTHC__ALG_EDDSA (1u << 9)
#define AUTHC__ALG_ALL   ((1u << 10) - 1)

/* Hard limits on what a provider may send. */
#define AUTHC__IDTOKEN_MAX      (16 * 1024)
#define AUTHC__JWKS_MAX_KEYS    64
#define AUTHC__JWKS_MAX_BYTES   (256 * 1024)
/* Default clock skew allowed for exp/iat/nbf, seconds (as Auth.js). */
#define AUTHC__IDTOKEN_SKEW     30

/* The bit of an alg name ("RS256"), 0 when unsupported. */
unsigned authc__alg_bit(const char *name);

/* Fetches the JWKS document: *json is owned by ar. Returns AUTHC_OK or an
 * error with a reason in why (no secrets). */
typedef authc_err (*authc__jwks_fetch_fn)(void *ud, authc_arena *ar, char **json,
                                          size_t *len, char *why, size_t whylen);

typedef struct authc__jwks authc__jwks;

/* A new, empty cache that loads keys through fetch on first use. The
 * caller owns it (authc__jwks_free). NULL on OOM. */
authc__jwks *authc__jwks_new(authc__jwks_fetch_fn fetch, void *ud);
void authc__jwks_free(authc__jwks *j);
/* How many times the cache has fetched (for tests and logs). */
unsigned authc__jwks_fetch_count(authc__jwks *j);

/* What the ID token must satisfy. */
typedef struct authc__idtoken_expect {
    const char *issuer;      /* exact `iss` */
    const char *client_id;   /* in `aud`; `azp` must equal it when present */
    const char *nonce;       /* required value, or NULL: no `nonce` allowed */
    unsigned algs;           /* allowed algs (0 = RS256 only) */
    int64_t now;             /* seconds since epoch */
    int64_t skew;            /* seconds tolerated for exp/iat/nbf (<0 = default) */
    bool sub_optional;       /* logout tokens: `sub` may be absent (never empty) */
} authc__idtoken_expect;

/* Verifies a compact JWS ID token: the signature with a key of the cache
 * (refetching once when the kid is unknown), then the claims. On success
 * *claims is a new reference the caller owns (json_decref). Errors:
 * AUTHC_ERR_CRYPTO (signature / no usable key), AUTHC_ERR_EXPIRED (exp),
 * AUTHC_ERR_INVALID (format or a claim check), or the fetch error; why
 * names the failed check (never the token). */
authc_err authc__idtoken_verify(authc__jwks *jwks, authc_arena *ar, const char *token,
                                const authc__idtoken_expect *x, json_t **claims,
                                char *why, size_t whylen);

/* Decodes the payload of a compact JWS without verifying anything (to read
 * `tid` before choosing the issuer). New reference or NULL. */
json_t *authc__jws_peek_claims(authc_arena *ar, const char *token);

#endif
