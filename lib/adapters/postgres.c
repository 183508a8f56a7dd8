/* postgres.c — PostgreSQL backend (libpq) on the exact @auth/pg-adapter schema
 * (+ an "authenticators" table): the adapter methods, their parameters and columns.
 *
 * Connections, the URL and statement runs are in pg_conn.c, the SQL in
 * pg_sql.c, the batched session lookup in postgres_batch.c. Timestamps
 * travel as epoch milliseconds (int8 text) both ways, or as binary
 * timestamptz (the session lookup), so nothing depends on the session
 * TimeZone/DateStyle. */
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

/* The type OID of timestamptz (pg_type.h is a server header), and
 * PostgreSQL's epoch (2000-01-01) in Unix epoch ms. */
#define PG_TIMESTAMPTZ_OID 1184
#define PG_EPOCH_2000_MS INT64_C(946684800000)

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

/* A binary-format column of ST_GET_SESSIONS_AND_USERS: a timestamptz
 * (int8 µs since 2000-01-01) as epoch ms, floored as the text statements'
 * MS() does; ±infinity or another type is unparsable (null_value). */
static int64_t bin_time(const PGresult *r, int row, int col,
                        int64_t null_value)
{
    if (PQftype(r, col) != PG_TIMESTAMPTZ_OID ||
        PQgetlength(r, row, col) != 8)
        return null_value;
    const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, col);
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | p[i];
    if (u == (uint64_t)INT64_MAX || u == (uint64_t)INT64_MIN)
        return null_value;
    int64_t us = u > (uint64_t)INT64_MAX ? -(int64_t)(~u) - 1 : (int64_t)u;
    return us / 1000 - (us % 1000 < 0) + PG_EPOCH_2000_MS;
}

/* An int8 column (AUTHC_NO_TIME, or 0 for INT, when NULL / unparsable), or
 * a bool one. */
static int64_t col_num(void *ud, int col, const authc__field *f)
{
    colreader *cr = ud;
    int64_t null_value = f->kind == AUTHC__F_INT ? 0 : AUTHC_NO_TIME;
    if (PQgetisnull(cr->r, cr->row, col))
        return f->kind == AUTHC__F_BOOL ? 0 : null_value;
    if (PQfformat(cr->r, col) == 1)
        return bin_time(cr->r, cr->row, col, null_value);
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
/* A session and its user (ST_GET_SESSIONS_AND_USERS): an authc__row_pair. */
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

/* The body of a method answering with one row: runs STMTS[st] with vals
 * when `run` (else there is no row); out (see authc__set_row) = the
 * first row owned by ar, or NULL. Returns the failure, else `missing` when
 * there is no row (AUTHC_OK where none is an answer). */
static authc_err one_row(authc_adapter *self, authc_arena *ar, bool run,
                         int st, const char *const *vals,
                         const authc__row_layout *l, authc_err missing,
                         void *out)
{
    authc_err e = AUTHC_OK;
    void *row = run ? first_row(self, ar, st, vals, l, &e) : NULL;
    authc__set_row(out, row);
    return need_row(row, e, missing);
}

/* one_row for a lookup by one key (no key, no row). */
static authc_err by_key(authc_adapter *self, authc_arena *ar, int st,
                        const char *key, const authc__row_layout *l,
                        void *out)
{
    return one_row(self, ar, key != NULL, st, &key, l, AUTHC_OK, out);
}

/* Logs a method refused before reaching the server; out (see
 * authc__set_row) = NULL. */
static authc_err refuse(authc_adapter *self, const char *what, void *out)
{
    authc__set_row(out, NULL);
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
    return one_row(self, ar, true, ST_CREATE_USER, vals, &USER_L,
                   AUTHC_ERR_ADAPTER, out);
}

static authc_err pg_get_user(authc_adapter *self, authc_arena *ar,
                             const char *id, authc_user **out)
{
    /* pg ids are integers: anything else is unknown */
    return one_row(self, ar, is_int4(id), ST_GET_USER, &id, &USER_L,
                   AUTHC_OK, out);
}

static authc_err pg_get_user_by_email(authc_adapter *self, authc_arena *ar,
                                      const char *email, authc_user **out)
{
    return by_key(self, ar, ST_GET_USER_BY_EMAIL, email, &USER_L, out);
}

static authc_err pg_get_user_by_account(authc_adapter *self, authc_arena *ar,
                                        const char *provider,
                                        const char *provider_account_id,
                                        authc_user **out)
{
    const char *vals[2] = {provider, provider_account_id};
    return one_row(self, ar, provider && provider_account_id,
                   ST_GET_USER_BY_ACCOUNT, vals, &USER_L, AUTHC_OK, out);
}

static authc_err pg_update_user(authc_adapter *self, authc_arena *ar,
                                const authc_user *in, authc_user **out)
{
    /* The fields rule of authc__user_merge, applied by the UPDATE. */
    char mask[12], ev[24];
    snprintf(mask, sizeof mask, "%u", authc__user_fields(in));
    const char *vals[6] = {in->id, mask, in->name, in->email,
                           i64_param(ev, in->email_verified), in->image};
    return one_row(self, ar, is_int4(in->id), ST_UPDATE_USER, vals, &USER_L,
                   AUTHC_ERR_NOT_FOUND, out);
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
    if (!is_int4(in->user_id))
        return refuse(self, "link_account: userId is not an integer id", out);
    char exp[24];
    const char *vals[11] = {in->user_id, in->type, in->provider,
                            in->provider_account_id, in->refresh_token,
                            in->access_token, i64_param(exp, in->expires_at),
                            in->id_token, in->scope, in->session_state,
                            in->token_type};
    return one_row(self, ar, true, ST_LINK_ACCOUNT, vals, &ACCOUNT_L,
                   AUTHC_OK, out);
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

static authc_err pg_get_account(authc_adapter *self, authc_arena *ar,
                                const char *provider_account_id,
                                const char *provider, authc_account **out)
{
    const char *vals[2] = {provider_account_id, provider};
    return one_row(self, ar, provider && provider_account_id, ST_GET_ACCOUNT,
                   vals, &ACCOUNT_L, AUTHC_OK, out);
}

static authc_err pg_create_session(authc_adapter *self, authc_arena *ar,
                                   const authc_session_row *in,
                                   authc_session_row **out)
{
    if (!is_int4(in->user_id) || !in->session_token ||
        in->expires == AUTHC_NO_TIME)
        return refuse(self, "create_session: needs an integer userId, a "
                            "token and expires", out);
    char exp[24];
    const char *vals[3] = {in->user_id, i64_param(exp, in->expires),
                           in->session_token};
    return one_row(self, ar, true, ST_CREATE_SESSION, vals, &SESSION_L,
                   AUTHC_ERR_ADAPTER, out);
}

authc_err authc__pg_read_session_user(authc_arena *ar, const PGresult *r,
                                      int row, authc_session_row **session,
                                      authc_user **user)
{
    colreader cr = {ar, r, row, AUTHC_OK};
    authc__row_pair *su = read_row(&cr, &SESSION_USER_L, NULL);
    *session = su ? su->first : NULL;
    *user = su ? su->second : NULL;
    return cr.err;
}

static authc_err pg_get_session_and_user(authc_adapter *self, authc_arena *ar,
                                         const char *session_token,
                                         authc_session_row **session,
                                         authc_user **user)
{
    *session = NULL;
    *user = NULL;
    return session_token ? authc__pg_batch_get(self, ar, session_token,
                                               session, user)
                         : AUTHC_OK;
}

static authc_err pg_update_session(authc_adapter *self, authc_arena *ar,
                                   const authc_session_row *in,
                                   authc_session_row **out)
{
    if (in->session_token && in->user_id && !is_int4(in->user_id))
        return refuse(self, "update_session: userId is not an integer id",
                      out);
    char exp[24];
    const char *vals[3] = {in->session_token, i64_param(exp, in->expires),
                           in->user_id};
    return one_row(self, ar, in->session_token != NULL, ST_UPDATE_SESSION,
                   vals, &SESSION_L, AUTHC_OK, out);
}

static authc_err pg_delete_session(authc_adapter *self, authc_arena *ar,
                                   const char *session_token,
                                   authc_session_row **out)
{
    return by_key(self, ar, ST_DELETE_SESSION, session_token, &SESSION_L, out);
}

static authc_err pg_create_verification_token(authc_adapter *self, authc_arena *ar,
                                              const authc_verification_token *in)
{
    (void)ar;
    if (!in->identifier || !in->token || in->expires == AUTHC_NO_TIME)
        return refuse(self, "create_verification_token: incomplete token",
                      NULL);
    char exp[24];
    const char *vals[3] = {in->identifier, i64_param(exp, in->expires),
                           in->token};
    return exec_only(self, ST_CREATE_VT, vals);
}

static authc_err pg_use_verification_token(authc_adapter *self, authc_arena *ar,
                                           const char *identifier, const char *token,
                                           authc_verification_token **out)
{
    const char *vals[2] = {identifier, token};
    /* SQL: a missing identifier never matches */
    return one_row(self, ar, identifier && token, ST_USE_VT, vals, &VT_L,
                   AUTHC_OK, out);
}

/* ---- account tokens (not Auth.js: rotation for database sessions) ---- */

static authc_err pg_get_account_by_user(authc_adapter *self, authc_arena *ar,
                                        const char *user_id,
                                        const char *provider,
                                        authc_account **out)
{
    const char *vals[2] = {user_id, provider};
    return one_row(self, ar, is_int4(user_id) && provider, ST_ACCOUNT_BY_USER,
                   vals, &ACCOUNT_L, AUTHC_OK, out);
}

/* *out (may be NULL) owned by ar; the same values written twice are
 * harmless, so the statement is idempotent (retried on a lost link). */
static authc_err pg_update_account_tokens(authc_adapter *self,
                                          authc_arena *ar,
                                          const authc_account *in,
                                          authc_account **out)
{
    char exp[24];
    const char *vals[8] = {in->provider, in->provider_account_id,
                           in->access_token, in->refresh_token,
                           i64_param(exp, in->expires_at), in->id_token,
                           in->token_type, in->scope};
    return one_row(self, ar, in->provider && in->provider_account_id,
                   ST_ACCOUNT_TOKENS, vals, &ACCOUNT_L, AUTHC_ERR_NOT_FOUND,
                   out);
}

static authc_err pg_get_authenticator(authc_adapter *self, authc_arena *ar,
                                      const char *credential_id,
                                      authc_authenticator **out)
{
    return by_key(self, ar, ST_GET_AUTH, credential_id, &AUTHN_L, out);
}

static authc_err pg_create_authenticator(authc_adapter *self, authc_arena *ar,
                                         const authc_authenticator *in,
                                         authc_authenticator **out)
{
    if (!is_int4(in->user_id) || !in->credential_id ||
        !in->provider_account_id || !in->credential_public_key ||
        !in->credential_device_type)
        return refuse(self, "create_authenticator: needs an integer userId "
                            "and all credential fields", out);
    char ctr[24];
    const char *vals[8] = {in->credential_id, in->user_id,
                           in->provider_account_id, in->credential_public_key,
                           i64_param(ctr, in->counter),
                           in->credential_device_type,
                           in->credential_backed_up ? "true" : "false",
                           in->transports};
    return one_row(self, ar, true, ST_CREATE_AUTH, vals, &AUTHN_L,
                   AUTHC_ERR_ADAPTER, out);
}

static authc_err pg_list_authenticators_by_user_id(authc_adapter *self, authc_arena *ar,
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
    return one_row(self, ar, credential_id != NULL, ST_UPDATE_AUTH_COUNTER,
                   vals, &AUTHN_L, AUTHC_ERR_NOT_FOUND, out);
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
    AUTHC__ADAPTER_METHODS(pg),
    .migrate = authc__pg_migrate,
    .destroy = pg_destroy,
};

unsigned authc__adapter_callers(const authc_adapter *ad)
{
    while (ad && ad->wrapped)
        ad = ad->wrapped;
    return ad && ad->ops == &PG_OPS ? PG_BATCH_MAX : 0;
}

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
