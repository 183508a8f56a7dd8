/* sqlite_tokens.c — the SQLite backend's account-token methods (not Auth.js:
 * access-token rotation for database sessions keeps tokens in the row). */
#include "adapters/sqlite_int.h"

/* *out owned by ar; NULL when the user has no account at provider. */
authc_err authc__sq_get_account_by_user(authc_adapter *self, authc_arena *ar,
                                        const char *user_id, const char *provider,
                                        authc_account **out)
{
    return authc__sq_row(self, ar, user_id && provider, S_ACCOUNT_BY_USER,
                         SQ_ARGS(SQ_T(user_id), SQ_T(provider)),
                         &authc__sq_account, AUTHC_OK, out);
}

/* One UPDATE … RETURNING; *out (may be NULL) owned by ar. */
authc_err authc__sq_update_account_tokens(authc_adapter *self, authc_arena *ar,
                                          const authc_account *in, authc_account **out)
{
    return authc__sq_row(
        self, ar, in->provider && in->provider_account_id, S_ACCOUNT_TOKENS,
        SQ_ARGS(SQ_T(in->provider), SQ_T(in->provider_account_id), SQ_T(in->access_token),
                SQ_T(in->refresh_token), SQ_MS(in->expires_at), SQ_T(in->id_token),
                SQ_T(in->token_type), SQ_T(in->scope)),
        &authc__sq_account, AUTHC_ERR_NOT_FOUND, out);
}
