/* sqlite_db.c — the SQLite backend's plumbing: statements (Drizzle SQLite
 * layout), a pool of connections, file modes, statement runs, binding and row reading. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "adapters/sqlite_int.h"
#include "adapters/sqlite_wire_int.h"
#include "util/util_int.h"

/* Connections are opened on demand up to POOL_MAX and reused; a caller
 * waits (at most ACQUIRE_MS) when all are busy. Each connection is used by
 * one thread at a time (SQLite "multi-thread" mode, SQLITE_OPEN_NOMUTEX).
 * WAL lets readers run beside the one writer; writers queue on
 * busy_timeout. */
#define POOL_MAX 8
#define BUSY_TIMEOUT_MS 5000
#define ACQUIRE_MS 30000

#define USER_COLS "\"id\", \"name\", \"email\", \"emailVerified\", \"image\""
#define ACCOUNT_COLS                                                        \
    "\"userId\", \"type\", \"provider\", \"providerAccountId\", "           \
    "\"refresh_token\", \"access_token\", \"expires_at\", \"token_type\", " \
    "\"scope\", \"id_token\", \"session_state\""
#define SESSION_COLS "\"sessionToken\", \"userId\", \"expires\""
#define VT_COLS "\"identifier\", \"token\", \"expires\""
#define AUTHN_COLS                                                      \
    "\"credentialID\", \"userId\", \"providerAccountId\", "             \
    "\"credentialPublicKey\", \"counter\", \"credentialDeviceType\", "  \
    "\"credentialBackedUp\", \"transports\""

static const struct {
    const char *op;   /* method name for log lines */
    const char *sql;
} Q[S__COUNT] = {
    [S_CREATE_USER] = {"create_user",
        "INSERT INTO \"user\" (" USER_COLS ") VALUES (?1, ?2, ?3, ?4, ?5) "
        "RETURNING " USER_COLS},
    [S_GET_USER] = {"get_user",
        "SELECT " USER_COLS " FROM \"user\" WHERE \"id\" = ?1"},
    [S_GET_USER_BY_EMAIL] = {"get_user_by_email",
        "SELECT " USER_COLS " FROM \"user\" WHERE \"email\" = ?1"},
    [S_GET_USER_BY_ACCOUNT] = {"get_user_by_account",
        "SELECT u.\"id\", u.\"name\", u.\"email\", u.\"emailVerified\", "
        "u.\"image\" FROM \"account\" a JOIN \"user\" u ON u.\"id\" = a.\"userId\" "
        "WHERE a.\"provider\" = ?1 AND a.\"providerAccountId\" = ?2"},
    /* One statement for every field mask: ?odd = "set this field?". */
    [S_UPDATE_USER] = {"update_user",
        "UPDATE \"user\" SET "
        "\"name\" = CASE WHEN ?1 THEN ?2 ELSE \"name\" END, "
        "\"email\" = CASE WHEN ?3 THEN ?4 ELSE \"email\" END, "
        "\"emailVerified\" = CASE WHEN ?5 THEN ?6 ELSE \"emailVerified\" END, "
        "\"image\" = CASE WHEN ?7 THEN ?8 ELSE \"image\" END "
        "WHERE \"id\" = ?9 RETURNING " USER_COLS},
    /* Sessions, accounts and authenticators go by ON DELETE CASCADE. */
    [S_DELETE_USER] = {"delete_user",
        "DELETE FROM \"user\" WHERE \"id\" = ?1"},
    [S_LINK_ACCOUNT] = {"link_account",
        "INSERT INTO \"account\" (" ACCOUNT_COLS ") VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING " ACCOUNT_COLS},
    [S_UNLINK_ACCOUNT] = {"unlink_account",
        "DELETE FROM \"account\" WHERE \"provider\" = ?1 AND "
        "\"providerAccountId\" = ?2"},
    [S_GET_ACCOUNT] = {"get_account",
        "SELECT " ACCOUNT_COLS " FROM \"account\" WHERE \"provider\" = ?1 AND "
        "\"providerAccountId\" = ?2"},
    [S_CREATE_SESSION] = {"create_session",
        "INSERT INTO \"session\" (" SESSION_COLS ") VALUES (?1, ?2, ?3) "
        "RETURNING " SESSION_COLS},
    /* M10 in one round trip. */
    [S_GET_SESSION_AND_USER] = {"get_session_and_user",
        "SELECT s.\"sessionToken\", s.\"userId\", s.\"expires\", u.\"id\", "
        "u.\"name\", u.\"email\", u.\"emailVerified\", u.\"image\" "
        "FROM \"session\" s JOIN \"user\" u ON u.\"id\" = s.\"userId\" "
        "WHERE s.\"sessionToken\" = ?1"},
    [S_UPDATE_SESSION] = {"update_session",
        "UPDATE \"session\" SET \"expires\" = coalesce(?2, \"expires\"), "
        "\"userId\" = coalesce(?3, \"userId\") WHERE \"sessionToken\" = ?1 "
        "RETURNING " SESSION_COLS},
    [S_DELETE_SESSION] = {"delete_session",
        "DELETE FROM \"session\" WHERE \"sessionToken\" = ?1 RETURNING "
        SESSION_COLS},
    [S_CREATE_VT] = {"create_verification_token",
        "INSERT INTO \"verificationToken\" (" VT_COLS ") VALUES (?1, ?2, ?3)"},
    /* Atomic: one statement finds, deletes and returns the row. */
    [S_USE_VT] = {"use_verification_token",
        "DELETE FROM \"verificationToken\" WHERE \"identifier\" = ?1 AND "
        "\"token\" = ?2 RETURNING " VT_COLS},
    [S_GET_AUTHN] = {"get_authenticator",
        "SELECT " AUTHN_COLS " FROM \"authenticator\" WHERE \"credentialID\" = ?1"},
    [S_CREATE_AUTHN] = {"create_authenticator",
        "INSERT INTO \"authenticator\" (" AUTHN_COLS ") VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING " AUTHN_COLS},
    [S_LIST_AUTHN] = {"list_authenticators_by_user_id",
        "SELECT " AUTHN_COLS " FROM \"authenticator\" WHERE \"userId\" = ?1 "
        "ORDER BY rowid"},
    [S_UPDATE_COUNTER] = {"update_authenticator_counter",
        "UPDATE \"authenticator\" SET \"counter\" = ?2 WHERE "
        "\"credentialID\" = ?1 RETURNING " AUTHN_COLS},
    [S_ACCOUNT_BY_USER] = {"get_account_by_user",
        "SELECT " ACCOUNT_COLS " FROM \"account\" WHERE \"userId\" = ?1 AND "
        "\"provider\" = ?2 ORDER BY \"providerAccountId\" LIMIT 1"},
    [S_ACCOUNT_TOKENS] = {"update_account_tokens",
        "UPDATE \"account\" SET \"access_token\" = ?3, \"refresh_token\" = ?4, "
        "\"expires_at\" = ?5, \"id_token\" = coalesce(?6, \"id_token\"), "
        "\"token_type\" = coalesce(?7, \"token_type\"), "
        "\"scope\" = coalesce(?8, \"scope\") WHERE \"provider\" = ?1 AND "
        "\"providerAccountId\" = ?2 RETURNING " ACCOUNT_COLS},
};

const char *authc__sq_op(int id)
{
    return Q[id].op;
}

/* ---- connections ----------------------------------------------------------- */

/* Pool hook: finalizes the statements and closes. */
static void conn_close(void *ud, void *conn)
{
    (void)ud;
    sq_conn *c = conn;
    if (c)
        authc__sqlite_close(c->db, c->st, S__COUNT);
    free(c);
}

/* Pool hook: opens and configures one connection. Returns it (owned by the
 * pool) or NULL with the reason in why (why_len bytes). */
static void *conn_open(void *ud, char *why, size_t why_len)
{
    const char *path = ((sq_ctx *)ud)->path;
    sq_conn *c = calloc(1, sizeof *c);
    if (!c) {
        authc__set_err(why, why_len, "out of memory");
        return NULL;
    }
    /* foreign_keys: stock SQLite defaults to OFF; the cascades of
     *   delete_user and the FK checks need it on every connection.
     * journal_mode=WAL: readers do not block the writer or each other.
     * synchronous=FULL: every write that reports success is durable. In WAL
     *   mode NORMAL skips the fsync at commit, so a power loss can drop the
     *   last commits (e.g. a session the browser already holds a cookie
     *   for); FULL syncs the WAL on every commit. */
    if (!(c->db = authc__sqlite_open(path, BUSY_TIMEOUT_MS,
                                     "PRAGMA foreign_keys = ON;"
                                     "PRAGMA journal_mode = WAL;"
                                     "PRAGMA synchronous = FULL;",
                                     why, why_len))) {
        free(c);
        return NULL;
    }
    sqlite3_extended_result_codes(c->db, 1);
    /* Without this SQLite reads a "quoted" name that is not a column as a
     * string literal, so a wrong table layout would go unnoticed. */
    sqlite3_db_config(c->db, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL);
    sqlite3_db_config(c->db, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL);
    /* A build without FK support would silently accept the PRAGMA. */
    sqlite3_stmt *st = NULL;
    int fk = 0;
    if (sqlite3_prepare_v2(c->db, "PRAGMA foreign_keys", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        fk = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (fk != 1) {
        authc__set_err(why, why_len, "foreign keys cannot be enabled");
        conn_close(NULL, c);
        return NULL;
    }
    return c;
}

static const authc__pool_hooks SQ_POOL_HOOKS = {conn_open, conn_close, NULL,
                                                NULL};

/* Warns when the file at path exists and group or others may read it. */
static void warn_if_readable(authc_adapter *self, const char *path,
                             const char *what)
{
    struct stat st;
    if (stat(path, &st) != 0 || !(st.st_mode & (S_IRWXG | S_IRWXO)))
        return;
    authc__adapter_log(self, "warn",
                       "sqlite %s: the %s is readable by other users (mode "
                       "%04o) and holds session and OAuth tokens; make it "
                       "0600 (chmod 600)",
                       path, what, (unsigned)(st.st_mode & 07777));
}

/* The database holds session and OAuth tokens: a missing file is created
 * 0600 here, an existing one readable by others is warned about. A
 * failure to create is left to SQLite to report. */
static void secure_file(authc_adapter *self, const char *path)
{
    if (strcmp(path, ":memory:") == 0 ||
        authc__sqlite_create_private(path) != 0)
        return;
    static const char *const SIDE[][2] = {
        {"", "database file"}, {"-wal", "WAL file"}, {"-shm", "shm file"}};
    for (size_t i = 0; i < sizeof SIDE / sizeof *SIDE; i++) {
        char p[4096];
        if ((size_t)snprintf(p, sizeof p, "%s%s", path, SIDE[i][0]) <
            sizeof p)
            warn_if_readable(self, p, SIDE[i][1]);
    }
}

void authc__sq_ctx_free(sq_ctx *ctx)
{
    if (!ctx)
        return;
    authc__pool_free(ctx->pool);
    free(ctx->path);
    free(ctx);
}

/* Owned by the caller (authc__sq_ctx_free); NULL with err set. */
sq_ctx *authc__sq_ctx_new(authc_adapter *self, const char *path, char *err,
                          size_t errlen)
{
    sq_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx || !(ctx->path = strdup(path)) ||
        !(ctx->pool = authc__pool_new(&SQ_POOL_HOOKS, ctx,
                                      strcmp(path, ":memory:") == 0
                                          ? 1
                                          : POOL_MAX))) {
        authc__set_err(err, errlen, "sqlite %s: out of memory", path);
        authc__sq_ctx_free(ctx);
        return NULL;
    }
    secure_file(self, path);
    char why[256];
    void *c;
    if (authc__pool_acquire(ctx->pool, 0, &c, why, sizeof why) != AUTHC_OK) {
        authc__set_err(err, errlen, "sqlite %s: %s", path, why);
        authc__sq_ctx_free(ctx);
        return NULL;
    }
    authc__pool_release(ctx->pool, c, false);
    return ctx;
}

/* Takes a connection for the calling thread. NULL when none came free in
 * time or a new one cannot be opened (logged). Give back with release. */
sq_conn *authc__sq_acquire(authc_adapter *self, const char *op)
{
    sq_ctx *ctx = self->ctx;
    char why[256];
    void *c;
    if (authc__pool_acquire(ctx->pool, ACQUIRE_MS, &c, why, sizeof why)) {
        authc__adapter_log(self, "error", "sqlite %s: %s: %s", ctx->path, op,
                           why);
        return NULL;
    }
    return c;
}

void authc__sq_release(authc_adapter *self, sq_conn *c)
{
    authc__pool_release(((sq_ctx *)self->ctx)->pool, c, false);
}

/* ---- one statement execution --------------------------------------------------- */

authc_err authc__sq_fail(sq_q *x, const char *what)
{
    const char *msg = x->c ? sqlite3_errmsg(x->c->db) : "?";
    authc__adapter_log(x->self, "error", "sqlite %s: %s: %s%s%s",
                       SQ_PATH(x->self), Q[x->id].op, what, *what ? ": " : "",
                       msg);
    return AUTHC_ERR_ADAPTER;
}

/* Acquires a connection and its cached statement for query id. */
authc_err authc__sq_begin(authc_adapter *self, int id, sq_q *x)
{
    x->self = self;
    x->id = id;
    x->st = NULL;
    x->c = authc__sq_acquire(self, Q[id].op);
    if (!x->c)
        return AUTHC_ERR_ADAPTER;
    if (!x->c->st[id]) {
        int rc = sqlite3_prepare_v3(x->c->db, Q[id].sql, -1,
                                    SQLITE_PREPARE_PERSISTENT, &x->c->st[id],
                                    NULL);
        if (rc != SQLITE_OK) {
            authc__sq_fail(x, "prepare (was the schema migrated?)");
            sqlite3_finalize(x->c->st[id]);
            x->c->st[id] = NULL;
            authc__sq_release(self, x->c);
            x->c = NULL;
            return AUTHC_ERR_ADAPTER;
        }
    }
    x->st = x->c->st[id];
    return AUTHC_OK;
}

/* Resets the statement (bindings cleared so no token stays referenced),
 * gives the connection back and returns e. */
authc_err authc__sq_end(sq_q *x, authc_err e)
{
    if (x->st) {
        sqlite3_reset(x->st);
        sqlite3_clear_bindings(x->st);
    }
    if (x->c)
        authc__sq_release(x->self, x->c);
    x->c = NULL;
    x->st = NULL;
    return e;
}

/* First step; *row = true when a row came. The BUSY cases the busy
 * handler does not wait on (a stale WAL snapshot, another connection
 * running WAL recovery) are retried a few times: nothing was written when
 * they are reported. A plain SQLITE_BUSY means busy_timeout ran out. */
authc_err authc__sq_step(sq_q *x, bool *row)
{
    int rc;
    for (int i = 0;; i++) {
        rc = sqlite3_step(x->st);
        if ((rc == SQLITE_BUSY_SNAPSHOT || rc == SQLITE_BUSY_RECOVERY) &&
            i < 3) {
            sqlite3_reset(x->st);
            continue;
        }
        break;
    }
    if (rc == SQLITE_ROW) {
        *row = true;
        return AUTHC_OK;
    }
    *row = false;
    if (rc == SQLITE_DONE)
        return AUTHC_OK;
    return authc__sq_fail(x, "");
}

/* Steps a writing statement to its end so its commit happens (and its
 * error, if any, is seen) before we report success. */
authc_err authc__sq_finish(sq_q *x)
{
    int rc;
    while ((rc = sqlite3_step(x->st)) == SQLITE_ROW)
        ;
    return rc == SQLITE_DONE ? AUTHC_OK : authc__sq_fail(x, "commit");
}

/* ---- binding and reading -------------------------------------------------------- */

/* Strings are bound SQLITE_STATIC: the caller's values outlive the step. */
void authc__sq_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

void authc__sq_bind_time(sqlite3_stmt *st, int i, int64_t v)
{
    if (v == AUTHC_NO_TIME)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, v);
}

/* authc__row_src over the current row of a statement. */
typedef struct sq_src {
    authc_arena *ar;
    sqlite3_stmt *st;
} sq_src;

/* Column text copied into ar (NULL for SQL NULL); false on OOM. */
static bool col_text(void *ud, int i, const authc__field *f, const char **out)
{
    (void)f;
    sq_src *x = ud;
    const unsigned char *t = sqlite3_column_text(x->st, i);
    if (!t) {
        *out = NULL;
        /* not NULL: the conversion ran out of memory */
        return sqlite3_column_type(x->st, i) == SQLITE_NULL;
    }
    *out = authc_arena_strndup(x->ar, (const char *)t,
                               (size_t)sqlite3_column_bytes(x->st, i));
    return *out != NULL;
}

/* TIME: an INTEGER epoch-ms column, or ISO text (rows other ORMs wrote);
 * SECS: INTEGER; both AUTHC_NO_TIME for NULL. INT and BOOL: 0 for NULL. */
static int64_t col_num(void *ud, int i, const authc__field *f)
{
    sqlite3_stmt *st = ((sq_src *)ud)->st;
    int type = sqlite3_column_type(st, i);
    bool time = f->kind == AUTHC__F_TIME || f->kind == AUTHC__F_SECS;
    if (time && type == SQLITE_NULL)
        return AUTHC_NO_TIME;
    if (f->kind == AUTHC__F_TIME && type == SQLITE_TEXT) {
        int64_t ms;
        const char *t = (const char *)sqlite3_column_text(st, i);
        if (t && authc__iso8601_parse(t, &ms) == AUTHC_OK)
            return ms;
    }
    int64_t v = sqlite3_column_int64(st, i);
    return f->kind == AUTHC__F_BOOL ? v != 0 : v;
}

/* Column orders of USER_COLS … AUTHN_COLS (indices into the tables of
 * model.c). The Drizzle layout has no account or session id. */
const authc__row_layout authc__sq_user =
    AUTHC__LAYOUT(&authc__user_row, NULL, 0, 1, 2, 3, 4);
const authc__row_layout authc__sq_account = AUTHC__LAYOUT(
    &authc__account_row, NULL, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
const authc__row_layout authc__sq_session =
    AUTHC__LAYOUT(&authc__session_row, NULL, 1, 2, 3);
const authc__row_layout authc__sq_session_user =
    AUTHC__LAYOUT(&authc__session_row, &authc__sq_user, 1, 2, 3);
const authc__row_layout authc__sq_vt =
    AUTHC__LAYOUT(&authc__vt_row, NULL, 0, 1, 2);
const authc__row_layout authc__sq_authn =
    AUTHC__LAYOUT(&authc__authn_row, NULL, 0, 1, 2, 3, 4, 5, 6, 7);

/* Owned by ar (or *into). */
void *authc__sq_read(authc_arena *ar, sqlite3_stmt *st,
                     const authc__row_layout *l, void *into)
{
    return authc__layout_read(ar, l, 0,
                              &(authc__row_src){col_text, col_num,
                                                &(sq_src){ar, st}},
                              into);
}

authc_err authc__sq_oom(sq_q *x)
{
    authc__adapter_log(x->self, "error", "sqlite %s: %s: out of memory",
                       SQ_PATH(x->self), Q[x->id].op);
    return AUTHC_ERR_NOMEM;
}


static void bind_args(sqlite3_stmt *st, const sq_arg *args, int n)
{
    for (int i = 0; i < n; i++) {
        const sq_arg *a = &args[i];
        if (a->kind == SQ_TEXT)
            authc__sq_bind_text(st, i + 1, a->s);
        else if (a->kind == SQ_TIME)
            authc__sq_bind_time(st, i + 1, a->i);
        else
            sqlite3_bind_int64(st, i + 1, a->i);
    }
}

authc_err authc__sq_row(authc_adapter *self, authc_arena *ar, bool run,
                        int id, const sq_arg *args, int n,
                        const authc__row_layout *rd, authc_err missing,
                        void *out)
{
    sq_q x;
    void *res = NULL;
    authc_err e = AUTHC_OK;
    authc__set_row(out, NULL);
    if (!run)
        return missing;
    if ((e = authc__sq_begin(self, id, &x)))
        return e;
    bind_args(x.st, args, n);
    bool row;
    e = authc__sq_step(&x, &row);
    if (e == AUTHC_OK && !row && missing == AUTHC_ERR_ADAPTER)
        e = authc__sq_fail(&x, "no row returned");
    else if (e == AUTHC_OK && !row)
        e = missing;
    if (e == AUTHC_OK && row && rd &&
        !(res = authc__sq_read(ar, x.st, rd, NULL)))
        e = authc__sq_oom(&x);
    if (e == AUTHC_OK && row && !sqlite3_stmt_readonly(x.st))
        e = authc__sq_finish(&x);
    authc__sq_end(&x, e);
    if (!e)
        authc__set_row(out, res);
    return e;
}
