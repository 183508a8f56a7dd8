/* sqlite_int.h — what the SQLite backend's files share: statements,
 * connections and row readers (sqlite_db.c) used by the methods (sqlite.c). */
#ifndef AUTHC_SQLITE_INT_H
#define AUTHC_SQLITE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "adapters/adapters_int.h"
#include "util/pool_int.h"

enum {
    S_CREATE_USER, S_GET_USER, S_GET_USER_BY_EMAIL, S_GET_USER_BY_ACCOUNT,
    S_UPDATE_USER, S_DELETE_USER, S_LINK_ACCOUNT, S_UNLINK_ACCOUNT,
    S_GET_ACCOUNT, S_CREATE_SESSION, S_GET_SESSION_AND_USER,
    S_UPDATE_SESSION, S_DELETE_SESSION, S_CREATE_VT, S_USE_VT, S_GET_AUTHN,
    S_CREATE_AUTHN, S_LIST_AUTHN, S_UPDATE_COUNTER,
    S_ACCOUNT_BY_USER, S_ACCOUNT_TOKENS, /* not Auth.js: token rotation */
    S__COUNT
};

/* One pooled connection with its statements, prepared on first use. */
typedef struct sq_conn {
    sqlite3 *db;
    sqlite3_stmt *st[S__COUNT];
} sq_conn;

/* The instance state (authc_adapter.ctx). */
typedef struct sq_ctx {
    char *path;
    authc__pool *pool;   /* of sq_conn; one connection for ":memory:" */
} sq_ctx;

#define SQ_PATH(self) (((sq_ctx *)(self)->ctx)->path)

/* Method name (for log lines) of statement id. */
const char *authc__sq_op(int id);

/* Opens the instance state for path: makes the file 0600 when it creates
 * it, warns through self when an existing one is readable by others, and
 * opens the first connection so a bad path fails here. NULL with err set. */
sq_ctx *authc__sq_ctx_new(authc_adapter *self, const char *path, char *err,
                          size_t errlen);
void authc__sq_ctx_free(sq_ctx *ctx);

/* Takes / gives back a pooled connection (failures logged, NULL). */
sq_conn *authc__sq_acquire(authc_adapter *self, const char *op);
void authc__sq_release(authc_adapter *self, sq_conn *c);

/* ---- one statement execution ---------------------------------------------- */

typedef struct sq_q {
    authc_adapter *self;
    sq_conn *c;
    sqlite3_stmt *st;
    int id;
} sq_q;

/* Acquires a connection and its cached statement for query id. */
authc_err authc__sq_begin(authc_adapter *self, int id, sq_q *x);
/* Resets the statement, gives the connection back and returns e. */
authc_err authc__sq_end(sq_q *x, authc_err e);
/* First step; *row = true when a row came (failures logged). */
authc_err authc__sq_step(sq_q *x, bool *row);
/* Steps a writing statement to its end so its commit is confirmed. */
authc_err authc__sq_finish(sq_q *x);
/* Logs that x's statement failed (what, then SQLite's message);
 * AUTHC_ERR_ADAPTER. */
authc_err authc__sq_fail(sq_q *x, const char *what);
/* Logs x's statement ran out of memory; AUTHC_ERR_NOMEM. */
authc_err authc__sq_oom(sq_q *x);
/* ---- binding and reading ---------------------------------------------------
 * Texts are bound SQLITE_STATIC (the caller's values outlive the step);
 * NULL binds SQL NULL, as does AUTHC_NO_TIME. */
void authc__sq_bind_text(sqlite3_stmt *st, int i, const char *s);
void authc__sq_bind_time(sqlite3_stmt *st, int i, int64_t v);
/* The rows of the Drizzle SQLite layout as the statements return them
 * (sqlite_db.c); authc__sq_session_user is a session and its user, read as an
 * authc__row_pair. */
extern const authc__row_layout authc__sq_user, authc__sq_account,
    authc__sq_session, authc__sq_session_user, authc__sq_vt, authc__sq_authn;
/* Reads the current row of st by layout l into *into or (into NULL) a new
 * row owned by ar; NULL on OOM. */
void *authc__sq_read(authc_arena *ar, sqlite3_stmt *st,
                     const authc__row_layout *l, void *into);

/* One statement parameter: text (NULL = SQL NULL), a time (AUTHC_NO_TIME
 * = SQL NULL) or an integer. */
typedef struct sq_arg {
    enum { SQ_TEXT, SQ_TIME, SQ_INT } kind;
    const char *s;
    int64_t i;
} sq_arg;
#define SQ_T(v) {SQ_TEXT, (v), 0}
#define SQ_MS(v) {SQ_TIME, NULL, (v)}
#define SQ_I(v) {SQ_INT, NULL, (int64_t)(v)}
/* An sq_arg array literal and its length, for authc__sq_row. */
#define SQ_ARGS(...)                                                       \
    (const sq_arg[]){__VA_ARGS__},                                         \
        (int)(sizeof((const sq_arg[]){__VA_ARGS__}) / sizeof(sq_arg))

/* The body of a method: when run (false: a key argument is missing, so
 * there is no row), runs statement id with args bound to ?1..?n; out (see
 * authc__set_row) = its first row as read by layout rd (owned by ar), or
 * NULL when there is none or on failure. Returns the failure, else
 * `missing` when there is no row (AUTHC_OK when that is fine). A
 * statement that writes is stepped to its end so its commit is confirmed
 * before success is reported. rd NULL: run for the effect only. */
authc_err authc__sq_row(authc_adapter *self, authc_arena *ar, bool run,
                        int id, const sq_arg *args, int n,
                        const authc__row_layout *rd, authc_err missing,
                        void *out);

#endif
