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

/* ---- users ---------------------------------------------------------------------- */

/* M1: a fresh UUID, in->id ignored. *out owned by ar. */
static authc_err s_create_user(authc_adapter *self, authc_arena *ar,
                               const authc_user *in, authc_user **out)
{
    *out = NULL;
    char id[37];
    if (authc__uuid(id) != AUTHC_OK) {
        authc__adapter_log(self, "error", "sqlite %s: create_user: no "
                           "randomness for the id", SQ_PATH(self));
        return AUTHC_ERR_ADAPTER;
    }
    sq_q x;
    authc_err e = authc__sq_begin(self, S_CREATE_USER, &x);
    if (e)
        return e;
    authc__sq_bind_text(x.st, 1, id);
    authc__sq_bind_text(x.st, 2, in->name);
    authc__sq_bind_text(x.st, 3, in->email);
    authc__sq_bind_time(x.st, 4, in->email_verified);
    authc__sq_bind_text(x.st, 5, in->image);
    SQ_RUN_ONE(x, ar, *out, authc__sq_read_user0, true);
}

static authc_err s_get_user(authc_adapter *self, authc_arena *ar,
                            const char *id, authc_user **out)
{
    *out = NULL;
    if (!id)
        return AUTHC_OK;
    sq_q x;
    authc_err e = authc__sq_begin(self, S_GET_USER, &x);
    if (e)
        return e;
    authc__sq_bind_text(x.st, 1, id);
    SQ_RUN_ONE(x, ar, *out, authc__sq_read_user0, false);
}

static authc_err s_get_user_by_email(authc_adapter *self, authc_arena *ar,
                                     const char *email, authc_user **out)
{
    *out = NULL;
    if (!email)
        return AUTHC_OK;
    sq_q x;
    authc_err e = authc__sq_begin(self, S_GET_USER_BY_EMAIL, &x);
    if (e)
        return e;
    authc__sq_bind_text(x.st, 1, email);
    SQ_RUN_ONE(x, ar, *out, authc__sq_read_user0, false);
}

static authc_err s_get_user_by_account(authc_adapter *self, authc_arena *ar,
                                       const char *provider, const char *pai,
                                       authc_user **out)
{
    *out = NULL;
    if (!provider || !pai)
        return AUTHC_OK;
    sq_q x;
    authc_err e = authc__sq_begin(self, S_GET_USER_BY_ACCOUNT, &x);
    if (e)
        return e;
    authc__sq_bind_text(x.st, 1, provider);
    authc__sq_bind_text(x.st, 2, pai);
    SQ_RUN_ONE(x, ar, *out, authc__sq_read_user0, false);
}

/* M5: AUTHC_ERR_NOT_FOUND for an unknown id; *out owned by ar. */
static authc_err s_update_user(authc_adapter *self, authc_arena *ar,
                               const authc_user *in, authc_user **out)
{
    *out = NULL;
    if (!in->id)
        return AUTHC_ERR_NOT_FOUND;
    unsigned f = in->fields ? in->fields : ~0u;
    sq_q x;
    authc_err e = authc__sq_begin(self, S_UPDATE_USER, &x);
    if (e)
        return e;
    sqlite3_bind_int(x.st, 1, !!(f & AUTHC_USER_F_NAME));
    authc__sq_bind_text(x.st, 2, in->name);
    sqlite3_bind_int(x.st, 3, !!(f & AUTHC_USER_F_EMAIL));
    authc__sq_bind_text(x.st, 4, in->email);
    sqlite3_bind_int(x.st, 5, !!(f & AUTHC_USER_F_EMAIL_VERIFIED));
    authc__sq_bind_time(x.st, 6, in->email_verified);
    sqlite3_bind_int(x.st, 7, !!(f & AUTHC_USER_F_IMAGE));
    authc__sq_bind_text(x.st, 8, in->image);
    authc__sq_bind_text(x.st, 9, in->id);
    bool row;
    e = authc__sq_step(&x, &row);
    if (e == AUTHC_OK && !row)
        e = AUTHC_ERR_NOT_FOUND;
    if (e == AUTHC_OK && !(*out = authc__sq_read_user(ar, x.st, 0)))
        e = authc__sq_oom(&x);
    if (e == AUTHC_OK)
        e = authc__sq_finish(&x);
    if (e != AUTHC_OK)
        *out = NULL;
    return authc__sq_end(&x, e);
}

static authc_err s_delete_user(authc_adapter *self, authc_arena *ar,
                               const char *id)
{
    (void)ar;
    return id ? authc__sq_exec2(self, S_DELETE_USER, id, NULL) : AUTHC_OK;
}

/* ---- accounts ----------------------------------------------------------------- */

static authc_err s_link_account(authc_adapter *self, authc_arena *ar,
                                const authc_account *in, authc_account **out)
{
    authc_account *dummy = NULL;
    authc_account **o = out ? out : &dummy;
    *o = NULL;
    sq_q x;
    authc_err e = authc__sq_begin(self, S_LINK_ACCOUNT, &x);
    if (e)
        return e;
    authc__sq_bind_text(x.st, 1, in->user_id);
    authc__sq_bind_text(x.st, 2, in->type);
    authc__sq_bind_text(x.st, 3, in->provider);
    authc__sq_bind_text(x.st, 4, in->provider_account_id);
    authc__sq_bind_text(x.st, 5, in->refresh_token);
    authc__sq_bind_text(x.st, 6, in->access_token);
    authc__sq_bind_time(x.st, 7, in->expires_at);
    authc__sq_bind_text(x.st, 8, in->token_type);
    authc__sq_bind_text(x.st, 9, in->scope);
    authc__sq_bind_text(x.st, 10, in->id_token);
    authc__sq_bind_text(x.st, 11, in->session_state);
    SQ_RUN_ONE(x, ar, *o, authc__sq_read_account, true);
}

static authc_err s_unlink_account(authc_adapter *self, authc_arena *ar,
                                  const char *provider, const char *pai)
{
    (void)ar;
    if (!provider || !pai)
        return AUTHC_OK;
    return authc__sq_exec2(self, S_UNLINK_ACCOUNT, provider, pai);
}

static authc_err s_get_account(authc_adapter *self, authc_arena *ar,
                               const char *pai, const char *provider,
                               authc_account **out)
{
    *out = NULL;
    if (!provider || !pai)
        return AUTHC_OK;
    sq_q x;
    authc_err e = authc__sq_begin(self, S_GET_ACCOUNT, &x);
    if (e)
        return e;
    authc__sq_bind_text(x.st, 1, provider);
    authc__sq_bind_text(x.st, 2, pai);
    SQ_RUN_ONE(x, ar, *out, authc__sq_read_account, false);
}

/* ---- sessions ------------------------------------------------------------------ */

static authc_err s_create_session(authc_adapter *self, authc_arena *ar,
                                  const authc_session_row *in,
                                  authc_session_row **out)
{
    authc_session_row *dummy = NULL;
    authc_session_row **o = out ? out : &dummy;
    *o = NULL;
    sq_q x;
    authc_err e = authc__sq_begin(self, S_CREATE_SESSION, &x);
    if (e)
        return e;
    authc__sq_bind_text(x.st, 1, in->session_token);
    authc__sq_bind_text(x.st, 2, in->user_id);
    authc__sq_bind_time(x.st, 3, in->expires);
    SQ_RUN_ONE(x, ar, *o, authc__sq_read_session, true);
}

static authc_err s_get_session_and_user(authc_adapter *self, authc_arena *ar,
                                        const char *token,
                                        authc_session_row **session,
                                        authc_user **user)
{
    *session = NULL;
    *user = NULL;
    if (!token)
        return AUTHC_OK;
    sq_q x;
    authc_err e = authc__sq_begin(self, S_GET_SESSION_AND_USER, &x);
    if (e)
        return e;
    authc__sq_bind_text(x.st, 1, token);
    bool row;
    e = authc__sq_step(&x, &row);
    if (e == AUTHC_OK && row) {
        *session = authc__sq_read_session(ar, x.st);
        *user = authc__sq_read_user(ar, x.st, 3);
        if (!*session || !*user) {
            *session = NULL;
            *user = NULL;
            e = authc__sq_oom(&x);
        }
    }
    return authc__sq_end(&x, e);
}

/* M11: expires unless AUTHC_NO_TIME, user_id unless NULL. *out = the
 * updated row (owned by ar) or NULL for an unknown token. */
static authc_err s_update_session(authc_adapter *self, authc_arena *ar,
                                  const authc_session_row *in,
                                  authc_session_row **out)
{
    authc_session_row *dummy = NULL;
    authc_session_row **o = out ? out : &dummy;
    *o = NULL;
    if (!in->session_token)
        return AUTHC_OK;
    sq_q x;
    authc_err e = authc__sq_begin(self, S_UPDATE_SESSION, &x);
    if (e)
        return e;
    authc__sq_bind_text(x.st, 1, in->session_token);
    authc__sq_bind_time(x.st, 2, in->expires);
    authc__sq_bind_text(x.st, 3, in->user_id);
    SQ_RUN_ONE(x, ar, *o, authc__sq_read_session, true);
}

static authc_err s_delete_session(authc_adapter *self, authc_arena *ar,
                                  const char *token, authc_session_row **out)
{
    authc_session_row *dummy = NULL;
    authc_session_row **o = out ? out : &dummy;
    *o = NULL;
    if (!token)
        return AUTHC_OK;
    sq_q x;
    authc_err e = authc__sq_begin(self, S_DELETE_SESSION, &x);
    if (e)
        return e;
    authc__sq_bind_text(x.st, 1, token);
    SQ_RUN_ONE(x, ar, *o, authc__sq_read_session, true);
}

/* ---- verification tokens --------------------------------------------------------- */

static authc_err s_create_vt(authc_adapter *self, authc_arena *ar,
                             const authc_verification_token *in)
{
    (void)ar;
    sq_q x;
    authc_err e = authc__sq_begin(self, S_CREATE_VT, &x);
    if (e)
        return e;
    authc__sq_bind_text(x.st, 1, in->identifier);
    authc__sq_bind_text(x.st, 2, in->token);
    authc__sq_bind_time(x.st, 3, in->expires);
    bool row;
    e = authc__sq_step(&x, &row);
    return authc__sq_end(&x, e);
}

static authc_err s_use_vt(authc_adapter *self, authc_arena *ar,
                          const char *identifier, const char *token,
                          authc_verification_token **out)
{
    *out = NULL;
    if (!identifier || !token)
        return AUTHC_OK; /* a missing identifier never matches */
    sq_q x;
    authc_err e = authc__sq_begin(self, S_USE_VT, &x);
    if (e)
        return e;
    authc__sq_bind_text(x.st, 1, identifier);
    authc__sq_bind_text(x.st, 2, token);
    SQ_RUN_ONE(x, ar, *out, authc__sq_read_vt, true);
}

/* ---- authenticators ----------------------------------------------------------------- */

static authc_err s_get_authenticator(authc_adapter *self, authc_arena *ar,
                                     const char *cred, authc_authenticator **out)
{
    *out = NULL;
    if (!cred)
        return AUTHC_OK;
    sq_q x;
    authc_err e = authc__sq_begin(self, S_GET_AUTHN, &x);
    if (e)
        return e;
    authc__sq_bind_text(x.st, 1, cred);
    SQ_RUN_ONE(x, ar, *out, authc__sq_read_authn, false);
}

static authc_err s_create_authenticator(authc_adapter *self, authc_arena *ar,
                                        const authc_authenticator *in,
                                        authc_authenticator **out)
{
    authc_authenticator *dummy = NULL;
    authc_authenticator **o = out ? out : &dummy;
    *o = NULL;
    sq_q x;
    authc_err e = authc__sq_begin(self, S_CREATE_AUTHN, &x);
    if (e)
        return e;
    authc__sq_bind_text(x.st, 1, in->credential_id);
    authc__sq_bind_text(x.st, 2, in->user_id);
    authc__sq_bind_text(x.st, 3, in->provider_account_id);
    authc__sq_bind_text(x.st, 4, in->credential_public_key);
    sqlite3_bind_int64(x.st, 5, in->counter);
    authc__sq_bind_text(x.st, 6, in->credential_device_type);
    sqlite3_bind_int(x.st, 7, in->credential_backed_up ? 1 : 0);
    authc__sq_bind_text(x.st, 8, in->transports);
    bool row;
    e = authc__sq_step(&x, &row);
    if (e == AUTHC_OK && !row)
        e = authc__sq_fail(&x, "no row returned");
    if (e == AUTHC_OK && !(*o = authc__sq_read_authn(ar, x.st)))
        e = authc__sq_oom(&x);
    if (e == AUTHC_OK)
        e = authc__sq_finish(&x);
    if (e != AUTHC_OK)
        *o = NULL;
    return authc__sq_end(&x, e);
}

/* M18: *out = array of *n owned by ar (NULL when empty). */
static authc_err s_list_authenticators(authc_adapter *self, authc_arena *ar,
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
        if (!authc__sq_read_authn_into(ar, x.st, &arr[cnt++])) {
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
    authc_authenticator *dummy = NULL;
    authc_authenticator **o = out ? out : &dummy;
    *o = NULL;
    if (!cred)
        return AUTHC_ERR_NOT_FOUND;
    sq_q x;
    authc_err e = authc__sq_begin(self, S_UPDATE_COUNTER, &x);
    if (e)
        return e;
    authc__sq_bind_text(x.st, 1, cred);
    sqlite3_bind_int64(x.st, 2, counter);
    bool row;
    e = authc__sq_step(&x, &row);
    if (e == AUTHC_OK && !row)
        e = AUTHC_ERR_NOT_FOUND;
    if (e == AUTHC_OK && !(*o = authc__sq_read_authn(ar, x.st)))
        e = authc__sq_oom(&x);
    if (e == AUTHC_OK)
        e = authc__sq_finish(&x);
    if (e != AUTHC_OK)
        *o = NULL;
    return authc__sq_end(&x, e);
}

/* ---- migrate / lifecycle ------------------------------------------------------------- */

/* Creates the Drizzle-layout schema where missing, inside one IMMEDIATE
 * transaction (two processes migrating at once serialise), then checks
 * every column authc uses exists. Idempotent. */
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
    .destroy = s_destroy,
    .create_user = s_create_user,
    .get_user = s_get_user,
    .get_user_by_email = s_get_user_by_email,
    .get_user_by_account = s_get_user_by_account,
    .update_user = s_update_user,
    .delete_user = s_delete_user,
    .link_account = s_link_account,
    .unlink_account = s_unlink_account,
    .create_session = s_create_session,
    .get_session_and_user = s_get_session_and_user,
    .update_session = s_update_session,
    .delete_session = s_delete_session,
    .create_verification_token = s_create_vt,
    .use_verification_token = s_use_vt,
    .get_account = s_get_account,
    .get_authenticator = s_get_authenticator,
    .create_authenticator = s_create_authenticator,
    .list_authenticators_by_user_id = s_list_authenticators,
    .update_authenticator_counter = s_update_authenticator_counter,
    .migrate = s_migrate,
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
