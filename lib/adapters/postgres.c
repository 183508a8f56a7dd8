/* postgres.c — PostgreSQL backend (libpq) on the exact @auth/pg-adapter schema
 * (+ an "authenticators" table): the adapter methods, their parameters and columns.
 *
 * Connections, the URL and statement runs are in pg_conn.c, the SQL in
 * pg_sql.c. Timestamps travel as epoch milliseconds (int8 text) both ways,
 * so nothing depends on the session TimeZone/DateStyle. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/postgres_int.h"
#include "util/parse_int.h"
#include "util/util_int.h"

/* Largest single column value accepted from the server (an id_token is a
 * few KiB; anything near this is not ours). */
#define PG_MAX_VALUE (1u << 20)

#define LABEL(self) (((pg_ctx *)(self)->ctx)->label)

/* ---- parameters and columns --------------------------------------------- */

/* True when s is a decimal int4 (what a SERIAL id can be). */
static bool is_int4(const char *s)
{
    int64_t v;
    return authc__parse_i64(s, INT32_MIN, INT32_MAX, &v) == AUTHC_OK;
}

/* Text of an int64 parameter; NULL (SQL NULL) for AUTHC_NO_TIME. */
static const char *i64_param(char buf[24], int64_t v)
{
    if (v == AUTHC_NO_TIME)
        return NULL;
    snprintf(buf, 24, "%" PRId64, v);
    return buf;
}

/* Reads result columns into arena memory; the first failure sticks. */
typedef struct colreader {
    authc_arena *ar;
    const PGresult *r;
    int row;
    authc_err err;
} colreader;

/* authc__row_src over row cr->row of a result. A text column copied
 * into cr->ar (NULL for SQL NULL); false once a column has failed. */
static bool col_str(void *ud, int col, const authc__field *f,
                    const char **out)
{
    (void)f;
    colreader *cr = ud;
    *out = NULL;
    if (cr->err || PQgetisnull(cr->r, cr->row, col))
        return !cr->err;
    int len = PQgetlength(cr->r, cr->row, col);
    if (len < 0 || (unsigned)len > PG_MAX_VALUE) {
        cr->err = AUTHC_ERR_LIMIT;
        return false;
    }
    *out = authc_arena_strndup(cr->ar, PQgetvalue(cr->r, cr->row, col),
                               (size_t)len);
    if (!*out)
        cr->err = AUTHC_ERR_NOMEM;
    return *out != NULL;
}

/* An int8 column (AUTHC_NO_TIME, or 0 for INT, when NULL / unparsable), or
 * a bool one. */
static int64_t col_num(void *ud, int col, const authc__field *f)
{
    colreader *cr = ud;
    int64_t null_value = f->kind == AUTHC__F_INT ? 0 : AUTHC_NO_TIME;
    if (PQgetisnull(cr->r, cr->row, col))
        return f->kind == AUTHC__F_BOOL ? 0 : null_value;
    const char *v = PQgetvalue(cr->r, cr->row, col);
    if (f->kind == AUTHC__F_BOOL)
        return v[0] == 't';
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end)
        return null_value;
    return (int64_t)x;
}

/* Column orders of the statements of pg_sql.c (indices into the tables of
 * model.c). */
static const authc__row_layout USER_L =
    AUTHC__LAYOUT(&authc__user_row, NULL, 0, 1, 2, 3, 4);
static const authc__row_layout ACCOUNT_L = AUTHC__LAYOUT(
    &authc__account_row, NULL, 0, 1, 2, 3, 4, 5, 6, 7, 10, 9, 11, 8);
static const authc__row_layout SESSION_L =
    AUTHC__LAYOUT(&authc__session_row, NULL, 0, 1, 2, 3);
/* A session and its user (ST_GET_SESSION_AND_USER): an authc__row_pair. */
static const authc__row_layout SESSION_USER_L =
    AUTHC__LAYOUT(&authc__session_row, &USER_L, 0, 1, 2, 3);
static const authc__row_layout VT_L =
    AUTHC__LAYOUT(&authc__vt_row, NULL, 0, 2, 1);
static const authc__row_layout AUTHN_L =
    AUTHC__LAYOUT(&authc__authn_row, NULL, 0, 1, 2, 3, 4, 5, 6, 7);

/* Reads row cr->row by layout l into *into or a new row owned by cr->ar;
 * NULL with cr->err set on failure. */
static void *read_row(colreader *cr, const authc__row_layout *l, void *into)
{
    void *row = authc__layout_read(
        cr->ar, l, 0, &(authc__row_src){col_str, col_num, cr}, into);
    if (!row && !cr->err)
        cr->err = AUTHC_ERR_NOMEM;
    return row;
}

/* Runs STMTS[st]; returns its first row as read by layout l (owned by ar), or
 * NULL when there is none or on failure (then *e says which). */
static void *first_row(authc_adapter *self, authc_arena *ar, int st,
                       const char *const *vals, const authc__row_layout *l,
                       authc_err *e)
{
    PGresult *r;
    void *row = NULL;
    if ((*e = authc__pg_run(self, st, vals, &r)))
        return NULL;
    if (PQntuples(r) > 0) {
        colreader cr = {ar, r, 0, AUTHC_OK};
        row = read_row(&cr, l, NULL);
        *e = cr.err;
    }
    PQclear(r);
    return *e ? NULL : row;
}

/* Runs STMTS[st] for its effect only. */
static authc_err exec_only(authc_adapter *self, int st,
                           const char *const *vals)
{
    PGresult *r;
    authc_err e = authc__pg_run(self, st, vals, &r);
    PQclear(r);
    return e;
}

/* The outcome of a statement that must return a row: e, else `missing`
 * when row is NULL. */
static authc_err need_row(const void *row, authc_err e, authc_err missing)
{
    return e ? e : row ? AUTHC_OK : missing;
}

/* Logs a method refused before reaching the server. */
static authc_err refuse(authc_adapter *self, const char *what)
{
    authc__adapter_log(self, "error", "%s: %s", LABEL(self), what);
    return AUTHC_ERR_ADAPTER;
}

/* ---- methods ------------------------------------------------------------ */

static authc_err pg_create_user(authc_adapter *self, authc_arena *ar,
                                const authc_user *in, authc_user **out)
{
    char ev[24];
    /* in->id is ignored: SERIAL assigns it. */
    const char *vals[4] = {in->name, in->email,
                           i64_param(ev, in->email_verified), in->image};
    authc_err e;
    authc_user *u = first_row(self, ar, ST_CREATE_USER, vals, &USER_L, &e);
    if (out)
        *out = u;
    return need_row(u, e, AUTHC_ERR_ADAPTER);
}

static authc_err pg_get_user(authc_adapter *self, authc_arena *ar,
                             const char *id, authc_user **out)
{
    authc_err e = AUTHC_OK;
    const char *vals[1] = {id};
    /* pg ids are integers: anything else is unknown */
    *out = is_int4(id) ? first_row(self, ar, ST_GET_USER, vals, &USER_L, &e)
                       : NULL;
    return e;
}

static authc_err pg_get_user_by_email(authc_adapter *self, authc_arena *ar,
                                      const char *email, authc_user **out)
{
    authc_err e = AUTHC_OK;
    const char *vals[1] = {email};
    *out = email ? first_row(self, ar, ST_GET_USER_BY_EMAIL, vals, &USER_L,
                             &e)
                 : NULL;
    return e;
}

static authc_err pg_get_user_by_account(authc_adapter *self, authc_arena *ar,
                                        const char *provider,
                                        const char *provider_account_id,
                                        authc_user **out)
{
    authc_err e = AUTHC_OK;
    const char *vals[2] = {provider, provider_account_id};
    *out = provider && provider_account_id
               ? first_row(self, ar, ST_GET_USER_BY_ACCOUNT, vals, &USER_L,
                           &e)
               : NULL;
    return e;
}

static authc_err pg_update_user(authc_adapter *self, authc_arena *ar,
                                const authc_user *in, authc_user **out)
{
    if (out)
        *out = NULL;
    if (!is_int4(in->id))
        return AUTHC_ERR_NOT_FOUND;
    /* The fields rule of authc__user_merge, applied by the UPDATE. */
    unsigned f = authc__user_fields(in);
    char mask[12], ev[24];
    snprintf(mask, sizeof mask, "%u", f);
    const char *vals[6] = {in->id, mask, in->name, in->email,
                           i64_param(ev, in->email_verified), in->image};
    authc_err e;
    authc_user *u = first_row(self, ar, ST_UPDATE_USER, vals, &USER_L, &e);
    if (out)
        *out = u;
    return need_row(u, e, AUTHC_ERR_NOT_FOUND);
}

static authc_err pg_delete_user(authc_adapter *self, authc_arena *ar,
                                const char *id)
{
    (void)ar;
    const char *vals[1] = {id};
    return is_int4(id) ? exec_only(self, ST_DELETE_USER, vals) : AUTHC_OK;
}

static authc_err pg_link_account(authc_adapter *self, authc_arena *ar,
                                 const authc_account *in, authc_account **out)
{
    if (out)
        *out = NULL;
    if (!is_int4(in->user_id))
        return refuse(self, "link_account: userId is not an integer id");
    char exp[24];
    const char *vals[11] = {in->user_id, in->type, in->provider,
                            in->provider_account_id, in->refresh_token,
                            in->access_token, i64_param(exp, in->expires_at),
                            in->id_token, in->scope, in->session_state,
                            in->token_type};
    authc_err e;
    authc_account *a =
        first_row(self, ar, ST_LINK_ACCOUNT, vals, &ACCOUNT_L, &e);
    if (out)
        *out = a;
    return e;
}

static authc_err pg_unlink_account(authc_adapter *self, authc_arena *ar,
                                   const char *provider,
                                   const char *provider_account_id)
{
    (void)ar;
    const char *vals[2] = {provider, provider_account_id};
    return provider && provider_account_id
               ? exec_only(self, ST_UNLINK_ACCOUNT, vals)
               : AUTHC_OK;
}

static authc_err pg_create_session(authc_adapter *self, authc_arena *ar,
                                   const authc_session_row *in,
                                   authc_session_row **out)
{
    if (out)
        *out = NULL;
    if (!is_int4(in->user_id) || !in->session_token ||
        in->expires == AUTHC_NO_TIME)
        return refuse(self, "create_session: needs an integer userId, a "
                            "token and expires");
    char exp[24];
    const char *vals[3] = {in->user_id, i64_param(exp, in->expires),
                           in->session_token};
    authc_err e;
    authc_session_row *s =
        first_row(self, ar, ST_CREATE_SESSION, vals, &SESSION_L, &e);
    if (out)
        *out = s;
    return need_row(s, e, AUTHC_ERR_ADAPTER);
}

static authc_err pg_get_session_and_user(authc_adapter *self, authc_arena *ar,
                                         const char *session_token,
                                         authc_session_row **session,
                                         authc_user **user)
{
    authc_err e = AUTHC_OK;
    const char *vals[1] = {session_token};
    authc__row_pair *su =
        session_token ? first_row(self, ar, ST_GET_SESSION_AND_USER, vals,
                                  &SESSION_USER_L, &e)
                      : NULL;
    *session = su ? su->first : NULL;
    *user = su ? su->second : NULL;
    return e;
}

static authc_err pg_update_session(authc_adapter *self, authc_arena *ar,
                                   const authc_session_row *in,
                                   authc_session_row **out)
{
    if (out)
        *out = NULL;
    if (!in->session_token)
        return AUTHC_OK;
    if (in->user_id && !is_int4(in->user_id))
        return refuse(self, "update_session: userId is not an integer id");
    char exp[24];
    const char *vals[3] = {in->session_token, i64_param(exp, in->expires),
                           in->user_id};
    authc_err e;
    authc_session_row *s =
        first_row(self, ar, ST_UPDATE_SESSION, vals, &SESSION_L, &e);
    if (out)
        *out = s;
    return e;
}

static authc_err pg_delete_session(authc_adapter *self, authc_arena *ar,
                                   const char *session_token,
                                   authc_session_row **out)
{
    authc_err e = AUTHC_OK;
    const char *vals[1] = {session_token};
    authc_session_row *s =
        session_token ? first_row(self, ar, ST_DELETE_SESSION, vals,
                                  &SESSION_L, &e)
                      : NULL;
    if (out)
        *out = s;
    return e;
}

static authc_err pg_create_vt(authc_adapter *self, authc_arena *ar,
                              const authc_verification_token *in)
{
    (void)ar;
    if (!in->identifier || !in->token || in->expires == AUTHC_NO_TIME)
        return refuse(self, "create_verification_token: incomplete token");
    char exp[24];
    const char *vals[3] = {in->identifier, i64_param(exp, in->expires),
                           in->token};
    return exec_only(self, ST_CREATE_VT, vals);
}

static authc_err pg_use_vt(authc_adapter *self, authc_arena *ar,
                           const char *identifier, const char *token,
                           authc_verification_token **out)
{
    authc_err e = AUTHC_OK;
    const char *vals[2] = {identifier, token};
    /* SQL: a missing identifier never matches */
    *out = identifier && token
               ? first_row(self, ar, ST_USE_VT, vals, &VT_L, &e)
               : NULL;
    return e;
}

static authc_err pg_get_account(authc_adapter *self, authc_arena *ar,
                                const char *provider_account_id,
                                const char *provider, authc_account **out)
{
    authc_err e = AUTHC_OK;
    const char *vals[2] = {provider_account_id, provider};
    *out = provider && provider_account_id
               ? first_row(self, ar, ST_GET_ACCOUNT, vals, &ACCOUNT_L, &e)
               : NULL;
    return e;
}

static authc_err pg_get_authenticator(authc_adapter *self, authc_arena *ar,
                                      const char *credential_id,
                                      authc_authenticator **out)
{
    authc_err e = AUTHC_OK;
    const char *vals[1] = {credential_id};
    *out = credential_id
               ? first_row(self, ar, ST_GET_AUTH, vals, &AUTHN_L, &e)
               : NULL;
    return e;
}

static authc_err pg_create_authenticator(authc_adapter *self, authc_arena *ar,
                                         const authc_authenticator *in,
                                         authc_authenticator **out)
{
    if (out)
        *out = NULL;
    if (!is_int4(in->user_id) || !in->credential_id ||
        !in->provider_account_id || !in->credential_public_key ||
        !in->credential_device_type)
        return refuse(self, "create_authenticator: needs an integer userId "
                            "and all credential fields");
    char ctr[24];
    const char *vals[8] = {in->credential_id, in->user_id,
                           in->provider_account_id, in->credential_public_key,
                           i64_param(ctr, in->counter),
                           in->credential_device_type,
                           in->credential_backed_up ? "true" : "false",
                           in->transports};
    authc_err e;
    authc_authenticator *a =
        first_row(self, ar, ST_CREATE_AUTH, vals, &AUTHN_L, &e);
    if (out)
        *out = a;
    return need_row(a, e, AUTHC_ERR_ADAPTER);
}

static authc_err pg_list_authenticators(authc_adapter *self, authc_arena *ar,
                                        const char *user_id,
                                        authc_authenticator **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!is_int4(user_id))
        return AUTHC_OK;
    const char *vals[1] = {user_id};
    PGresult *r;
    authc_err e = authc__pg_run(self, ST_LIST_AUTH, vals, &r);
    if (e)
        return e;
    int rows = PQntuples(r);
    if (rows > 0) {
        authc_authenticator *arr =
            authc_arena_alloc(ar, sizeof *arr * (size_t)rows);
        colreader cr = {ar, r, 0, arr ? AUTHC_OK : AUTHC_ERR_NOMEM};
        for (int i = 0; i < rows && !cr.err; i++) {
            cr.row = i;
            read_row(&cr, &AUTHN_L, &arr[i]);
        }
        if (!cr.err) {
            *out = arr;
            *n = (size_t)rows;
        }
        e = cr.err;
    }
    PQclear(r);
    return e;
}

static authc_err pg_update_authenticator_counter(authc_adapter *self,
                                                 authc_arena *ar,
                                                 const char *credential_id,
                                                 int64_t counter,
                                                 authc_authenticator **out)
{
    char ctr[24];
    snprintf(ctr, sizeof ctr, "%" PRId64, counter);
    const char *vals[2] = {credential_id, ctr};
    authc_err e = AUTHC_OK;
    authc_authenticator *a =
        credential_id ? first_row(self, ar, ST_UPDATE_AUTH_COUNTER, vals,
                                  &AUTHN_L, &e)
                      : NULL;
    if (out)
        *out = a;
    return need_row(a, e, AUTHC_ERR_NOT_FOUND);
}

/* ---- open / destroy ----------------------------------------------------- */

static void pg_destroy(authc_adapter *self)
{
    if (!self)
        return;
    authc__pg_ctx_free(self->ctx);
    free(self);
}

static const authc_adapter_ops PG_OPS = {
    .name = "postgres",
    .create_user = pg_create_user,
    .get_user = pg_get_user,
    .get_user_by_email = pg_get_user_by_email,
    .get_user_by_account = pg_get_user_by_account,
    .update_user = pg_update_user,
    .delete_user = pg_delete_user,
    .link_account = pg_link_account,
    .unlink_account = pg_unlink_account,
    .create_session = pg_create_session,
    .get_session_and_user = pg_get_session_and_user,
    .update_session = pg_update_session,
    .delete_session = pg_delete_session,
    .create_verification_token = pg_create_vt,
    .use_verification_token = pg_use_vt,
    .get_account = pg_get_account,
    .get_authenticator = pg_get_authenticator,
    .create_authenticator = pg_create_authenticator,
    .list_authenticators_by_user_id = pg_list_authenticators,
    .update_authenticator_counter = pg_update_authenticator_counter,
    .migrate = authc__pg_migrate,
    .destroy = pg_destroy,
};

/* Returns a heap adapter (destroy() frees it) or NULL with err set. */

/* Returns a heap adapter (destroy() frees it) or NULL with err set. */
authc_adapter *authc__adapter_postgres_open(const char *url, authc_log_fn log,
                                            void *log_ud, char *err,
                                            size_t errlen)
{
    pg_ctx *ctx = authc__pg_ctx_new(url, err, errlen);
    if (!ctx)
        return NULL;
    authc_adapter *ad = authc__adapter_new(&PG_OPS, ctx, log, log_ud);
    if (!ad) {
        authc__set_err(err, errlen, "%s: out of memory", ctx->label);
        authc__pg_ctx_free(ctx);
        return NULL;
    }
    /* Fail fast on a wrong URL or password: open the first connection now
     * (the reason goes to err). */
    char why[450];
    void *conn;
    if (authc__pool_acquire(ctx->pool, 0, &conn, why, sizeof why)) {
        authc__set_err(err, errlen, "%s: %s", ctx->label, why);
        pg_destroy(ad);
        return NULL;
    }
    authc__pool_release(ctx->pool, conn, false);
    return ad;
}
