/* sqlite.c — the "sqlite:PATH" adapter: Auth.js models in the Drizzle SQLite
 * layout; the methods, migrate and open (plumbing in sqlite_db.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/sql/sqlite_schema.h"
#include "adapters/sqlite_int.h"
#include "util/util_int.h"

#define LIST_MAX 1024 /* authenticators returned for one user, at most */

/* Every method is one statement: authc__sq_row binds, runs and reads it
 * (when run) and sets *out. Results are owned by ar. */
#define ROW(run, id, rd, missing, out, ...)                                \
    authc__sq_row(self, ar, run, id, SQ_ARGS(__VA_ARGS__), rd, missing, out)

/* ---- users ---------------------------------------------------------------------- */

/* M1: a fresh UUID, in->id ignored. */
static authc_err s_create_user(authc_adapter *self, authc_arena *ar,
                               const authc_user *in, authc_user **out)
{
    char id[37];
    if (authc__uuid(id) != AUTHC_OK) {
        *out = NULL;
        authc__adapter_log(self, "error", "sqlite %s: create_user: no "
                           "randomness for the id", SQ_PATH(self));
        return AUTHC_ERR_ADAPTER;
    }
    return ROW(true, S_CREATE_USER, &authc__sq_user, AUTHC_ERR_ADAPTER, out,
               SQ_T(id), SQ_T(in->name), SQ_T(in->email),
               SQ_MS(in->email_verified), SQ_T(in->image));
}

static authc_err s_get_user(authc_adapter *self, authc_arena *ar,
                            const char *id, authc_user **out)
{
    return ROW(id != NULL, S_GET_USER, &authc__sq_user, AUTHC_OK, out,
               SQ_T(id));
}

static authc_err s_get_user_by_email(authc_adapter *self, authc_arena *ar,
                                     const char *email, authc_user **out)
{
    return ROW(email != NULL, S_GET_USER_BY_EMAIL, &authc__sq_user, AUTHC_OK,
               out, SQ_T(email));
}

static authc_err s_get_user_by_account(authc_adapter *self, authc_arena *ar,
                                       const char *provider, const char *pai,
                                       authc_user **out)
{
    return ROW(provider && pai, S_GET_USER_BY_ACCOUNT, &authc__sq_user,
               AUTHC_OK, out, SQ_T(provider), SQ_T(pai));
}

/* M5: AUTHC_ERR_NOT_FOUND for an unknown id. */
static authc_err s_update_user(authc_adapter *self, authc_arena *ar,
                               const authc_user *in, authc_user **out)
{
    unsigned f = authc__user_fields(in);
    return ROW(in->id != NULL, S_UPDATE_USER, &authc__sq_user,
               AUTHC_ERR_NOT_FOUND, out,
               SQ_I(!!(f & AUTHC_USER_F_NAME)), SQ_T(in->name),
               SQ_I(!!(f & AUTHC_USER_F_EMAIL)), SQ_T(in->email),
               SQ_I(!!(f & AUTHC_USER_F_EMAIL_VERIFIED)),
               SQ_MS(in->email_verified), SQ_I(!!(f & AUTHC_USER_F_IMAGE)),
               SQ_T(in->image), SQ_T(in->id));
}

static authc_err s_delete_user(authc_adapter *self, authc_arena *ar,
                               const char *id)
{
    return ROW(id != NULL, S_DELETE_USER, NULL, AUTHC_OK, NULL, SQ_T(id));
}

/* ---- accounts ----------------------------------------------------------------- */

static authc_err s_link_account(authc_adapter *self, authc_arena *ar,
                                const authc_account *in, authc_account **out)
{
    return ROW(true, S_LINK_ACCOUNT, &authc__sq_account, AUTHC_OK, out,
               SQ_T(in->user_id), SQ_T(in->type), SQ_T(in->provider),
               SQ_T(in->provider_account_id), SQ_T(in->refresh_token),
               SQ_T(in->access_token), SQ_MS(in->expires_at),
               SQ_T(in->token_type), SQ_T(in->scope), SQ_T(in->id_token),
               SQ_T(in->session_state));
}

static authc_err s_unlink_account(authc_adapter *self, authc_arena *ar,
                                  const char *provider, const char *pai)
{
    return ROW(provider && pai, S_UNLINK_ACCOUNT, NULL, AUTHC_OK, NULL,
               SQ_T(provider), SQ_T(pai));
}

static authc_err s_get_account(authc_adapter *self, authc_arena *ar,
                               const char *pai, const char *provider,
                               authc_account **out)
{
    return ROW(provider && pai, S_GET_ACCOUNT, &authc__sq_account, AUTHC_OK,
               out, SQ_T(provider), SQ_T(pai));
}

/* ---- sessions ------------------------------------------------------------------ */

static authc_err s_create_session(authc_adapter *self, authc_arena *ar,
                                  const authc_session_row *in,
                                  authc_session_row **out)
{
    return ROW(true, S_CREATE_SESSION, &authc__sq_session, AUTHC_OK, out,
               SQ_T(in->session_token), SQ_T(in->user_id), SQ_MS(in->expires));
}

static authc_err s_get_session_and_user(authc_adapter *self, authc_arena *ar,
                                        const char *token,
                                        authc_session_row **session,
                                        authc_user **user)
{
    authc__row_pair *su;
    authc_err e = ROW(token != NULL, S_GET_SESSION_AND_USER,
                      &authc__sq_session_user, AUTHC_OK, &su, SQ_T(token));
    *session = su ? su->first : NULL;
    *user = su ? su->second : NULL;
    return e;
}

/* M11: expires unless AUTHC_NO_TIME, user_id unless NULL. *out = the
 * updated row or NULL for an unknown token. */
static authc_err s_update_session(authc_adapter *self, authc_arena *ar,
                                  const authc_session_row *in,
                                  authc_session_row **out)
{
    return ROW(in->session_token != NULL, S_UPDATE_SESSION, &authc__sq_session,
               AUTHC_OK, out, SQ_T(in->session_token), SQ_MS(in->expires),
               SQ_T(in->user_id));
}

static authc_err s_delete_session(authc_adapter *self, authc_arena *ar,
                                  const char *token, authc_session_row **out)
{
    return ROW(token != NULL, S_DELETE_SESSION, &authc__sq_session, AUTHC_OK,
               out, SQ_T(token));
}

/* ---- verification tokens --------------------------------------------------------- */

static authc_err s_create_verification_token(authc_adapter *self, authc_arena *ar,
                                             const authc_verification_token *in)
{
    return ROW(true, S_CREATE_VT, NULL, AUTHC_OK, NULL, SQ_T(in->identifier),
               SQ_T(in->token), SQ_MS(in->expires));
}

static authc_err s_use_verification_token(authc_adapter *self, authc_arena *ar,
                                          const char *identifier, const char *token,
                                          authc_verification_token **out)
{
    /* a missing identifier never matches */
    return ROW(identifier && token, S_USE_VT, &authc__sq_vt, AUTHC_OK, out,
               SQ_T(identifier), SQ_T(token));
}

/* ---- authenticators ----------------------------------------------------------------- */

static authc_err s_get_authenticator(authc_adapter *self, authc_arena *ar,
                                     const char *cred, authc_authenticator **out)
{
    return ROW(cred != NULL, S_GET_AUTHN, &authc__sq_authn, AUTHC_OK, out,
               SQ_T(cred));
}

static authc_err s_create_authenticator(authc_adapter *self, authc_arena *ar,
                                        const authc_authenticator *in,
                                        authc_authenticator **out)
{
    return ROW(true, S_CREATE_AUTHN, &authc__sq_authn, AUTHC_ERR_ADAPTER, out,
               SQ_T(in->credential_id), SQ_T(in->user_id),
               SQ_T(in->provider_account_id), SQ_T(in->credential_public_key),
               SQ_I(in->counter), SQ_T(in->credential_device_type),
               SQ_I(in->credential_backed_up ? 1 : 0), SQ_T(in->transports));
}

/* M18: *out = array of *n owned by ar (NULL when empty). */
static authc_err s_list_authenticators_by_user_id(authc_adapter *self, authc_arena *ar,
                                                  const char *uid,
                                                  authc_authenticator **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!uid)
        return AUTHC_OK;
    sq_q x;
    authc_err e = authc__sq_begin(self, S_LIST_AUTHN, &x);
    if (e)
        return e;
    authc__sq_bind_text(x.st, 1, uid);
    authc_authenticator *arr = NULL;
    size_t cnt = 0, cap = 0;
    bool row;
    for (e = authc__sq_step(&x, &row); e == AUTHC_OK && row;) {
        if (cnt == cap) {
            if (cap >= LIST_MAX) {
                authc__adapter_log(self, "error", "sqlite %s: %s: more than "
                                   "%d authenticators for one user",
                                   SQ_PATH(self), authc__sq_op(x.id), LIST_MAX);
                e = AUTHC_ERR_LIMIT;
                break;
            }
            size_t ncap = cap ? cap * 2 : 4;
            authc_authenticator *na = authc_arena_alloc(ar, ncap * sizeof *na);
            if (!na) {
                e = authc__sq_oom(&x);
                break;
            }
            if (cnt)
                memcpy(na, arr, cnt * sizeof *na);
            arr = na;
            cap = ncap;
        }
        if (!authc__sq_read(ar, x.st, &authc__sq_authn, &arr[cnt++])) {
            e = authc__sq_oom(&x);
            break;
        }
        int rc = sqlite3_step(x.st);
        if (rc == SQLITE_DONE)
            row = false;
        else if (rc != SQLITE_ROW)
            e = authc__sq_fail(&x, "");
    }
    if (e == AUTHC_OK && cnt) {
        *out = arr;
        *n = cnt;
    }
    return authc__sq_end(&x, e);
}

/* M19: AUTHC_ERR_NOT_FOUND for an unknown credential. */
static authc_err s_update_authenticator_counter(authc_adapter *self,
                                                authc_arena *ar,
                                                const char *cred,
                                                int64_t counter,
                                                authc_authenticator **out)
{
    return ROW(cred != NULL, S_UPDATE_COUNTER, &authc__sq_authn,
               AUTHC_ERR_NOT_FOUND, out, SQ_T(cred), SQ_I(counter));
}

/* ---- migrate / lifecycle ------------------------------------------------------------- */

/* Creates the Drizzle-layout schema where missing, inside one IMMEDIATE
 * transaction (two processes migrating at once serialise), then checks
 * every column authc uses exists. Idempotent. */
/* Not Auth.js: access-token rotation for database sessions keeps the
 * tokens in the account row. */

/* *out owned by ar; NULL when the user has no account at provider. */
static authc_err s_get_account_by_user(authc_adapter *self, authc_arena *ar,
                                       const char *user_id, const char *provider,
                                       authc_account **out)
{
    return authc__sq_row(self, ar, user_id && provider, S_ACCOUNT_BY_USER,
                         SQ_ARGS(SQ_T(user_id), SQ_T(provider)),
                         &authc__sq_account, AUTHC_OK, out);
}

/* One UPDATE … RETURNING; *out (may be NULL) owned by ar. */
static authc_err s_update_account_tokens(authc_adapter *self, authc_arena *ar,
                                         const authc_account *in, authc_account **out)
{
    return authc__sq_row(
        self, ar, in->provider && in->provider_account_id, S_ACCOUNT_TOKENS,
        SQ_ARGS(SQ_T(in->provider), SQ_T(in->provider_account_id), SQ_T(in->access_token),
                SQ_T(in->refresh_token), SQ_MS(in->expires_at), SQ_T(in->id_token),
                SQ_T(in->token_type), SQ_T(in->scope)),
        &authc__sq_account, AUTHC_ERR_NOT_FOUND, out);
}

static authc_err s_migrate(authc_adapter *self)
{
    sq_conn *c = authc__sq_acquire(self, "migrate");
    if (!c)
        return AUTHC_ERR_ADAPTER;
    const char *step = "begin";
    char *msg = NULL;
    authc_err e = AUTHC_OK;
    sqlite3_stmt *st = NULL;
    if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    step = "read user_version";
    int ver = -1;
    if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto fail;
    ver = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (ver > AUTHC_SQLITE_SCHEMA_VERSION) {
        authc__adapter_log(self, "error", "sqlite %s: migrate: schema "
                           "version %d is newer than this authc knows (%d)",
                           SQ_PATH(self), ver, AUTHC_SQLITE_SCHEMA_VERSION);
        e = AUTHC_ERR_ADAPTER;
        goto rollback;
    }
    step = "create schema";
    if (sqlite3_exec(c->db, AUTHC_SQLITE_SCHEMA, NULL, NULL, &msg) !=
        SQLITE_OK)
        goto fail;
    step = "check layout (not the Auth.js Drizzle layout?)";
    for (size_t i = 0; i < sizeof AUTHC_SQLITE_SCHEMA_CHECKS /
                               sizeof AUTHC_SQLITE_SCHEMA_CHECKS[0];
         i++) {
        if (sqlite3_prepare_v2(c->db, AUTHC_SQLITE_SCHEMA_CHECKS[i], -1, &st,
                               NULL) != SQLITE_OK)
            goto fail;
        sqlite3_finalize(st);
        st = NULL;
    }
    step = "set user_version";
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d",
             AUTHC_SQLITE_SCHEMA_VERSION);
    if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    step = "commit";
    if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    authc__sq_release(self, c);
    return AUTHC_OK;
fail:
    authc__adapter_log(self, "error", "sqlite %s: migrate: %s: %s", SQ_PATH(self),
                       step, msg ? msg : sqlite3_errmsg(c->db));
    e = AUTHC_ERR_ADAPTER;
rollback:
    sqlite3_free(msg);
    sqlite3_finalize(st);
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    authc__sq_release(self, c);
    return e;
}

/* Closes every connection; no method may be running. */
static void s_destroy(authc_adapter *self)
{
    if (!self)
        return;
    authc__sq_ctx_free(self->ctx);
    free(self);
}

static const authc_adapter_ops SQLITE_OPS = {
    .name = "sqlite",
    AUTHC__ADAPTER_METHODS(s),
    .migrate = s_migrate,
    .destroy = s_destroy,
};

/* Returns a heap adapter owned by the caller (authc_adapter_close); opens
 * one connection now so a bad path fails here. url is "sqlite:PATH",
 * "sqlite://PATH" (so sqlite:///abs/path is /abs/path) or "file:PATH". */
authc_adapter *authc__adapter_sqlite_open(const char *url, authc_log_fn log,
                                          void *log_ud, char *err,
                                          size_t errlen)
{
    const char *path = url + (strncasecmp(url, "file:", 5) == 0 ? 5 : 7);
    if (strncmp(path, "//", 2) == 0)
        path += 2;
    if (!*path) {
        authc__set_err(err, errlen, "sqlite: missing file path in %s", url);
        return NULL;
    }
    if (!sqlite3_threadsafe()) {
        authc__set_err(err, errlen, "sqlite %s: the SQLite library was "
                       "built without thread support", path);
        return NULL;
    }
    authc_adapter *ad = authc__adapter_new(&SQLITE_OPS, NULL, log, log_ud);
    if (!ad) {
        authc__set_err(err, errlen, "sqlite %s: out of memory", path);
        return NULL;
    }
    if (!(ad->ctx = authc__sq_ctx_new(ad, path, err, errlen))) {
        free(ad);
        return NULL;
    }
    return ad;
}
