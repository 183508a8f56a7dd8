/* errors.c — the one error enum's names, its Auth.js public codes, and the
 * log helpers that say precisely which check failed (never a secret). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core_int.h"

static const struct {
    const char *code, *text;
} ERRS[AUTHC_ERR__COUNT] = {
    [AUTHC_OK] = {"", "success"},
    [AUTHC_ERR_CONFIGURATION] = {"Configuration", "server configuration problem"},
    [AUTHC_ERR_ACCESS_DENIED] = {"AccessDenied", "access denied by the sign-in check"},
    [AUTHC_ERR_VERIFICATION] = {"Verification", "verification token invalid, expired or used"},
    [AUTHC_ERR_WEBAUTHN_VERIFICATION] = {"WebAuthnVerificationError", "passkey verification failed"},
    [AUTHC_ERR_CREDENTIALS_SIGNIN] = {"CredentialsSignin", "credentials rejected"},
    [AUTHC_ERR_OAUTH_CALLBACK] = {"OAuthCallbackError", "the provider returned an error"},
    [AUTHC_ERR_OAUTH_ACCOUNT_NOT_LINKED] = {"OAuthAccountNotLinked", "account belongs to another user"},
    [AUTHC_ERR_ACCOUNT_NOT_LINKED] = {"AccountNotLinked", "account belongs to another user"},
    [AUTHC_ERR_MISSING_CSRF] = {"MissingCSRF", "CSRF token missing or wrong"},
    [AUTHC_ERR_NOMEM] = {"Configuration", "out of memory"},
    [AUTHC_ERR_IO] = {"Configuration", "input/output error"},
    [AUTHC_ERR_TIMEOUT] = {"Configuration", "timed out"},
    [AUTHC_ERR_LIMIT] = {"Configuration", "input exceeds a size limit"},
    [AUTHC_ERR_INVALID] = {"Configuration", "malformed input"},
    [AUTHC_ERR_CRYPTO] = {"Configuration", "cryptographic check failed"},
    [AUTHC_ERR_EXPIRED] = {"Configuration", "token expired"},
    [AUTHC_ERR_NOT_FOUND] = {"Configuration", "not found"},
    [AUTHC_ERR_ADAPTER] = {"Configuration", "database error"},
    [AUTHC_ERR_UNSUPPORTED] = {"Configuration", "not supported by the adapter"},
    [AUTHC_ERR_UNTRUSTED_HOST] = {"Configuration", "untrusted host"},
    [AUTHC_ERR_INVALID_CHECK] = {"Configuration", "state, PKCE, nonce or challenge check failed"},
    [AUTHC_ERR_BAD_REQUEST] = {"Configuration", "bad request"},
    [AUTHC_ERR_INVALID_CALLBACK_URL] = {"Configuration", "invalid callback URL"},
};

const char *authc_strerror(authc_err e)
{
    if ((unsigned)e >= AUTHC_ERR__COUNT || !ERRS[e].text)
        return "unknown error";
    return ERRS[e].text;
}

const char *authc_err_code(authc_err e)
{
    if ((unsigned)e >= AUTHC_ERR__COUNT || e == AUTHC_OK)
        return "Configuration";
    return ERRS[e].code;
}

bool authc__err_is_signin_kind(authc_err e)
{
    return e == AUTHC_ERR_CREDENTIALS_SIGNIN || e == AUTHC_ERR_OAUTH_ACCOUNT_NOT_LINKED ||
           e == AUTHC_ERR_OAUTH_CALLBACK || e == AUTHC_ERR_MISSING_CSRF ||
           e == AUTHC_ERR_ACCOUNT_NOT_LINKED;
}

void authc__log(const authc *a, const char *level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    authc__logv(a->log, a->log_ud, level, fmt, ap);
    va_end(ap);
}

authc_err authc__fail(authc__ctx *c, authc_err e, const char *fmt, ...)
{
    if (!c->err_detail && fmt) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        c->err_detail = authc_arena_strdup(c->ar, msg);
    }
    return e;
}
