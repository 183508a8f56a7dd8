/* postgres_int.h — what the PostgreSQL backend's files share: the statement
 * table (pg_sql.c), connections and statement runs (pg_conn.c), methods
 * (postgres.c), batched session lookups (postgres_batch.c). */
#ifndef AUTHC_POSTGRES_INT_H
#define AUTHC_POSTGRES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "adapters/adapters_int.h"
#include "adapters/pg_wire_int.h"
#include "util/pool_int.h"

#define PG_POOL_DEFAULT 4
#define PG_STMT_TIMEOUT_DEFAULT_MS 5000
/* Client-side slack on top of statement_timeout before we give up on a
 * silent server (the server's own timeout should fire first). */
#define PG_CLIENT_SLACK_MS 2000

/* ---- statements (pg_sql.c) --------------------------------------------- */

enum {
    ST_CREATE_USER,
    ST_GET_USER,
    ST_GET_USER_BY_EMAIL,
    ST_GET_USER_BY_ACCOUNT,
    ST_UPDATE_USER,
    ST_DELETE_USER,
    ST_LINK_ACCOUNT,
    ST_UNLINK_ACCOUNT,
    ST_CREATE_SESSION,
    ST_GET_SESSIONS_AND_USERS, /* binary parameter and result */
    ST_UPDATE_SESSION,
    ST_DELETE_SESSION,
    ST_CREATE_VT,
    ST_USE_VT,
    ST_GET_ACCOUNT,
    ST_GET_AUTH,
    ST_CREATE_AUTH,
    ST_LIST_AUTH,
    ST_UPDATE_AUTH_COUNTER,
    ST_ACCOUNT_BY_USER, ST_ACCOUNT_TOKENS, /* account tokens (rotation) */
    ST__COUNT
};

typedef struct pg_stmt {
    const char *name;   /* server-side prepared statement name */
    const char *sql;
    int nparams;
    bool idempotent;    /* safe to run again after a connection failure */
} pg_stmt;

extern const pg_stmt authc__pg_stmts[ST__COUNT];
/* The schema, run in order by migrate: tables (must succeed), then extra
 * indexes (a failure is a warning: old data may hold duplicates). */
extern const char *const authc__pg_migrate_tables[];
extern const size_t authc__pg_migrate_ntables;
extern const char *const authc__pg_migrate_indexes[];
extern const size_t authc__pg_migrate_nindexes;

/* ---- connections (pg_conn.c) ------------------------------------------- */

/* One pooled connection (bit i of prepared = authc__pg_stmts[i]). */
typedef authc__pg_conn pg_conn;

typedef struct pg_batch pg_batch;

/* The instance state (authc_adapter.ctx). */
typedef struct pg_ctx {
    char *conninfo;      /* libpq URL; contains the password: never logged */
    char label[300];     /* "postgres host:port/dbname" for messages */
    int stmt_timeout_ms;
    authc__pool *pool;
    pg_batch *batch;     /* session lookups in flight (postgres_batch.c) */
} pg_ctx;

/* Parses url (our parameters pool_size and statement_timeout taken out)
 * and makes the pool, without connecting. Returns the state (free with
 * authc__pg_ctx_free) or NULL with a message in err (no password). */
pg_ctx *authc__pg_ctx_new(const char *url, char *err, size_t errlen);
void authc__pg_ctx_free(pg_ctx *ctx);

/* Runs authc__pg_stmts[st] with text parameters vals (NULL = SQL NULL) on
 * a pooled connection. AUTHC_OK: *out is the result (caller PQclear).
 * Failures are logged through self and are AUTHC_ERR_ADAPTER. */
authc_err authc__pg_run(authc_adapter *self, int st, const char *const *vals,
                        PGresult **out);

/* authc__pg_run for a statement with one binary parameter of lens[0]
 * bytes, answering in binary format (ST_GET_SESSIONS_AND_USERS). */
authc_err authc__pg_run_bin(authc_adapter *self, int st,
                            const char *const *vals, const int *lens,
                            PGresult **out);

/* Creates or updates the schema on one connection (then closed, so its
 * session settings never reach the pool). */
authc_err authc__pg_migrate(authc_adapter *self);

/* ---- batched session lookups (postgres_batch.c) ------------------------ */

/* Most tokens one statement looks up. */
#define PG_BATCH_MAX 32

/* Creates the batcher: at most max_running batches run at once (1..64).
 * Returns it (free with authc__pg_batch_free, when no call is running) or
 * NULL when out of memory. */
pg_batch *authc__pg_batch_new(int max_running);
void authc__pg_batch_free(pg_batch *b);

/* get_session_and_user of the adapter: the session of token and its user,
 * both owned by ar, or both NULL when there is none; looked up together
 * with the tokens of other threads asking at the same time. Failures are
 * AUTHC_ERR_ADAPTER (logged), the same for every caller of a batch. */
authc_err authc__pg_batch_get(authc_adapter *self, authc_arena *ar,
                              const char *token, authc_session_row **session,
                              authc_user **user);

/* Counters since creation, for tests and measurements. */
typedef struct pg_batch_stats {
    uint64_t batches;   /* statements run */
    uint64_t lookups;   /* tokens looked up by them */
    int largest;        /* most tokens in one statement */
} pg_batch_stats;
void authc__pg_batch_stats(authc_adapter *self, pg_batch_stats *out);

/* Reads row `row` of an ST_GET_SESSIONS_AND_USERS result into *session
 * and *user, owned by ar (postgres.c). */
authc_err authc__pg_read_session_user(authc_arena *ar, const PGresult *r,
                                      int row, authc_session_row **session,
                                      authc_user **user);

#endif
