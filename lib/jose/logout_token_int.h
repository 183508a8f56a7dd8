/* logout_token_int.h — OpenID Connect Back-Channel Logout 1.0: validating a
 * logout_token (a JWS from the provider naming the sessions to end). */
#ifndef AUTHC_LOGOUT_TOKEN_INT_H
#define AUTHC_LOGOUT_TOKEN_INT_H

#include "jose/idtoken_int.h"

#define AUTHC__LOGOUT_TOKEN_MAX (8 * 1024)
#define AUTHC__BCL_EVENT "http://schemas.openid.net/event/backchannel-logout"

/* What a valid logout token says. Strings owned by the arena given. */
typedef struct authc__logout_claims {
    const char *sid;  /* provider session id, NULL when absent */
    const char *sub;  /* provider subject, NULL when absent */
    const char *jti;  /* never NULL on success */
    int64_t exp;      /* seconds since epoch */
    int64_t iat;
} authc__logout_claims;

/* Validates token against the provider (x: issuer, client id, allowed
 * algs, now, skew; x->nonce is ignored: a logout token must have none).
 * Checks, in order: size, JWS signature with the JWKS (refetching once on
 * an unknown kid; alg never "none"), iss, aud/azp, exp (present, future),
 * iat within the skew, no nonce, `events` holding the back-channel member
 * with an object value, `sub` or `sid`, `jti`. Replay of `jti` is the
 * caller's check (it needs the shared store). On failure why names the
 * check (never the token). */
authc_err authc__logout_token_verify(authc__jwks *jwks, authc_arena *ar, const char *token,
                                     const authc__idtoken_expect *x, authc__logout_claims *out,
                                     char *why, size_t whylen);

#endif
