/* db_tokens_int.h — provider tokens of a session beyond the JWT cookie: the
 * grant behind rotation, and database sessions whose tokens live in accounts. */
#ifndef AUTHC_DB_TOKENS_INT_H
#define AUTHC_DB_TOKENS_INT_H

#include "core/core_int.h"
#include "lifecycle/rotate_int.h"

#define AUTHC__REFRESH_ERROR "RefreshTokenError"

/* What authc__provider_grant needs: the request, the provider, and the sub
 * a refreshed id_token must keep (NULL: not checked). Borrowed. */
typedef struct authc__grant_ud {
    authc__ctx *c;
    const authc__provider *p;
    const char *sub;
} authc__grant_ud;

/* An authc__grant_fn over the provider's refresh op (ud: authc__grant_ud).
 * *out holds arena strings of the request. */
authc__grant_result authc__provider_grant(void *ud, authc_arena *ar, const authc__tokens *cur,
                                          authc__tokens *out);

/* 200 answer of GET <base>/token (Cache-Control: no-store): provider,
 * access_token, then token_type, expires_at (> 0) and scope when known. */
authc_err authc__token_answer(authc__ctx *c, const authc__provider *p, const char *access_token,
                              const char *token_type, int64_t expires_at, const char *scope);

/* The database user's account at p, its tokens refreshed first when due
 * (AUTHC_REFRESH_TOKENS; single flight through the store, the new tokens
 * written to the row). *acct (arena) NULL when not linked; *error =
 * AUTHC__REFRESH_ERROR when the refresh token is dead, else NULL. A store
 * failure refreshes nothing (fail closed: the current tokens stay); an
 * adapter failure is AUTHC_ERR_ADAPTER (logged). */
authc_err authc__db_tokens_fresh(authc__ctx *c, const char *user_id, const authc__provider *p,
                                 authc_account **acct, const char **error);

/* GET /session of a database session: refreshes the user's accounts at
 * every provider that can (when AUTHC_REFRESH_TOKENS is on); *error as
 * above (borrowed static string). Failures are logged, never fatal. */
authc_err authc__db_tokens_session(authc__ctx *c, const char *user_id, const char **error);

/* GET <base>/token?provider=ID for database sessions (the provider found). */
authc_err authc__db_action_token(authc__ctx *c, const authc__provider *p);

/* Forward-auth of a database session (AUTHC_FORWARD_PASS_ACCESS_TOKEN):
 * the user's access token at the first provider that has one, refreshed
 * when due (arena string), or NULL. */
const char *authc__db_forward_token(authc__ctx *c, const char *user_id);

/* A database session was just created at sign-in with account: remembers
 * its provider (for RP-initiated logout) and, when rotation or federated
 * sign-out is on, writes the sign-in's fresh tokens to the account row
 * (Auth.js keeps those of the first sign-in). Failures are logged. */
void authc__db_session_begin(authc__ctx *c, const char *session_token, const authc_account *account);

/* POST /signout of database session session_token of user_id: when its
 * provider has federated sign-out on and the account has an id_token,
 * *url = the end_session URL (arena) and the state cookie is set. */
authc_err authc__db_signout_federated(authc__ctx *c, const char *session_token,
                                      const char *user_id, const char **url);

#endif
