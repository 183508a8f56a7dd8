/* logout_token.c — Back-Channel Logout: a logout_token is verified like an
 * ID token (signature, iss, aud, exp, iat) plus its own claim rules. */
#include <stdio.h>
#include <string.h>

#include "jose/logout_token_int.h"
#include "util/util_int.h"

static const char *str_claim(authc_arena *ar, json_t *c, const char *name)
{
    json_t *v = json_object_get(c, name);
    return json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= 1024
               ? authc_arena_strdup(ar, json_string_value(v)) : NULL;
}

/* The shared verifier words its reasons for ID tokens; say logout_token. */
static void reword(char *why, size_t whylen)
{
    static const char ID[] = "id_token", LT[] = "logout_token";
    if (strncmp(why, ID, sizeof ID - 1))
        return;
    char rest[512];
    snprintf(rest, sizeof rest, "%s", why + sizeof ID - 1);
    snprintf(why, whylen, "%s%s", LT, rest);
}

authc_err authc__logout_token_verify(authc__jwks *jwks, authc_arena *ar, const char *token,
                                     const authc__idtoken_expect *x, authc__logout_claims *out,
                                     char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (!token || !*token || strlen(token) > AUTHC__LOGOUT_TOKEN_MAX) {
        snprintf(why, whylen, "logout_token missing or longer than %d bytes", AUTHC__LOGOUT_TOKEN_MAX);
        return AUTHC_ERR_INVALID;
    }
    authc__idtoken_expect ex = *x;
    ex.nonce = NULL; /* a nonce in a logout token is an error (spec 2.4) */
    ex.sub_optional = true;
    json_t *c = NULL;
    authc_err e = authc__idtoken_verify(jwks, ar, token, &ex, &c, why, whylen);
    if (e) {
        reword(why, whylen);
        return e;
    }
    json_t *events = json_object_get(c, "events");
    json_t *bcl = json_is_object(events) ? json_object_get(events, AUTHC__BCL_EVENT) : NULL;
    if (!json_is_object(bcl)) {
        snprintf(why, whylen, "logout_token events has no %s member with an object value",
                 AUTHC__BCL_EVENT);
        e = AUTHC_ERR_INVALID;
        goto done;
    }
    out->sid = str_claim(ar, c, "sid");
    out->sub = str_claim(ar, c, "sub");
    out->jti = str_claim(ar, c, "jti");
    if (!out->sid && !out->sub) {
        snprintf(why, whylen, "logout_token has neither sub nor sid");
        e = AUTHC_ERR_INVALID;
    } else if (!out->jti) {
        snprintf(why, whylen, "logout_token has no jti");
        e = AUTHC_ERR_INVALID;
    } else {
        if (!authc__json_int(json_object_get(c, "exp"), &out->exp))
            out->exp = 0;
        out->iat = (int64_t)json_integer_value(json_object_get(c, "iat"));
    }
done:
    json_decref(c);
    if (e)
        memset(out, 0, sizeof *out);
    return e;
}
