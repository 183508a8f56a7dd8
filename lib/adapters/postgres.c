/* postgres.c — PostgreSQL backend (libpq) on the exact @auth/pg-adapter schema
 * (+ an "authenticators" table): connection pool, prepared statements, reconnect, timeouts.
 *
 * URL: postgres://user:pass@host:port/db?pool_size=4&statement_timeout=5000&…
 * pool_size (1..64, default 4) and statement_timeout (ms, 100..600000,
 * default 5000) are ours and removed before the URL goes to libpq; every
 * other query parameter is a libpq one (sslmode, connect_timeout, …).
 * connect_timeout defaults to 5 s and application_name to "authc".
 *
 * Concurrency: N connections, each used by one thread at a time (mutex +
 * condvar); statements are prepared lazily once per connection. Every wait
 * on the server has a client-side deadline too (statement_timeout + 2 s),
 * so a frozen server cannot hang a thread; such a connection is dropped. A
 * connection the server closed (restart) is noticed before use and
 * reopened; idempotent reads are retried once after a connection failure. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libpq-fe.h>

#include "adapters/adapters_int.h"
#include "util/util_int.h"

#define PG_POOL_DEFAULT 4
#define PG_POOL_MAX 64
#define PG_STMT_TIMEOUT_DEFAULT_MS 5000
#define PG_CONNECT_TIMEOUT_DEFAULT_S "5"
#define PG_CLIENT_SLACK_MS 2000
/* Largest single column value accepted from the server (an id_token is a
 * few KiB; anything near this is not ours). */
#define PG_MAX_VALUE (1u << 20)
#define PG_MAX_URL 4096
/* Key of the advisory lock that serialises concurrent migrate() calls. */
#define PG_MIGRATE_LOCK "7283946151"

/* ---- SQL ---------------------------------------------------------------- */

/* Timestamps travel as epoch milliseconds (int8 text) both ways, so nothing
 * depends on the session TimeZone/DateStyle. floor() keeps values written
 * with µs by other clients on the same millisecond. */
#define MS(col) "(floor(extract(epoch FROM " col ") * 1000))::int8"
#define TS(p) "(timestamptz 'epoch' + (" p ")::int8 * interval '1 millisecond')"

#define USER_COLS "id::text, name, email, " MS("\"emailVerified\"") ", image"
#define USER_COLS_U                                                          \
    "u.id::text, u.name, u.email, " MS("u.\"emailVerified\"") ", u.image"
#define ACCOUNT_COLS                                                         \
    "id::text, \"userId\"::text, type, provider, \"providerAccountId\", "    \
    "refresh_token, access_token, expires_at, id_token, scope, "             \
    "session_state, token_type"
#define SESSION_COLS                                                         \
    "id::text, \"sessionToken\", \"userId\"::text, " MS("expires")
#define AUTH_COLS                                                            \
    "\"credentialID\", \"userId\"::text, \"providerAccountId\", "            \
    "\"credentialPublicKey\", counter, \"credentialDeviceType\", "           \
    "\"credentialBackedUp\", transports"

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
    ST_GET_SESSION_AND_USER,
    ST_UPDATE_SESSION,
    ST_DELETE_SESSION,
    ST_CREATE_VT,
    ST_USE_VT,
    ST_GET_ACCOUNT,
    ST_GET_AUTH,
    ST_CREATE_AUTH,
    ST_LIST_AUTH,
    ST_UPDATE_AUTH_COUNTER,
    ST__COUNT
};

typedef struct pg_stmt {
    const char *name;   /* server-side prepared statement name */
    const char *sql;
    int nparams;
    bool idempotent;    /* safe to run again after a connection failure */
} pg_stmt;

static const pg_stmt STMTS[ST__COUNT] = {
    [ST_CREATE_USER] = {"authc_create_user",
        "INSERT INTO users (name, email, \"emailVerified\", image) "
        "VALUES ($1, $2, " TS("$3") ", $4) RETURNING " USER_COLS, 4, false},
    [ST_GET_USER] = {"authc_get_user",
        "SELECT " USER_COLS " FROM users WHERE id = $1::int4", 1, true},
    [ST_GET_USER_BY_EMAIL] = {"authc_get_user_by_email",
        "SELECT " USER_COLS " FROM users WHERE email = $1 "
        "ORDER BY id LIMIT 1", 1, true},
    [ST_GET_USER_BY_ACCOUNT] = {"authc_get_user_by_account",
        "SELECT " USER_COLS_U " FROM accounts a JOIN users u "
        "ON u.id = a.\"userId\" WHERE a.provider = $1 "
        "AND a.\"providerAccountId\" = $2 ORDER BY a.id LIMIT 1", 2, true},
    /* $2 is the AUTHC_USER_F_* mask of the members to change. */
    [ST_UPDATE_USER] = {"authc_update_user",
        "UPDATE users SET "
        "name = CASE WHEN $2::int4 & 1 <> 0 THEN $3 ELSE name END, "
        "email = CASE WHEN $2::int4 & 2 <> 0 THEN $4 ELSE email END, "
        "\"emailVerified\" = CASE WHEN $2::int4 & 4 <> 0 THEN " TS("$5")
        " ELSE \"emailVerified\" END, "
        "image = CASE WHEN $2::int4 & 8 <> 0 THEN $6 ELSE image END "
        "WHERE id = $1::int4 RETURNING " USER_COLS, 6, false},
    /* One statement, so the cascade is atomic without a transaction. */
    [ST_DELETE_USER] = {"authc_delete_user",
        "WITH s AS (DELETE FROM sessions WHERE \"userId\" = $1::int4), "
        "a AS (DELETE FROM accounts WHERE \"userId\" = $1::int4), "
        "w AS (DELETE FROM authenticators WHERE \"userId\" = $1::int4) "
        "DELETE FROM users WHERE id = $1::int4", 1, true},
    [ST_LINK_ACCOUNT] = {"authc_link_account",
        "INSERT INTO accounts (\"userId\", type, provider, "
        "\"providerAccountId\", refresh_token, access_token, expires_at, "
        "id_token, scope, session_state, token_type) VALUES ($1::int4, $2, "
        "$3, $4, $5, $6, $7::int8, $8, $9, $10, $11) RETURNING " ACCOUNT_COLS,
        11, false},
    [ST_UNLINK_ACCOUNT] = {"authc_unlink_account",
        "DELETE FROM accounts WHERE provider = $1 "
        "AND \"providerAccountId\" = $2", 2, true},
    [ST_CREATE_SESSION] = {"authc_create_session",
        "INSERT INTO sessions (\"userId\", expires, \"sessionToken\") "
        "VALUES ($1::int4, " TS("$2") ", $3) RETURNING " SESSION_COLS, 3,
        false},
    [ST_GET_SESSION_AND_USER] = {"authc_get_session_and_user",
        "SELECT s.id::text, s.\"sessionToken\", s.\"userId\"::text, "
        MS("s.expires") ", " USER_COLS_U " FROM sessions s JOIN users u "
        "ON u.id = s.\"userId\" WHERE s.\"sessionToken\" = $1 "
        "ORDER BY s.id LIMIT 1", 1, true},
    [ST_UPDATE_SESSION] = {"authc_update_session",
        "UPDATE sessions SET expires = COALESCE(" TS("$2") ", expires), "
        "\"userId\" = COALESCE($3::int4, \"userId\") "
        "WHERE \"sessionToken\" = $1 RETURNING " SESSION_COLS, 3, true},
    [ST_DELETE_SESSION] = {"authc_delete_session",
        "DELETE FROM sessions WHERE \"sessionToken\" = $1 RETURNING "
        SESSION_COLS, 1, true},
    [ST_CREATE_VT] = {"authc_create_vt",
        "INSERT INTO verification_token (identifier, expires, token) "
        "VALUES ($1, " TS("$2") ", $3)", 3, false},
    [ST_USE_VT] = {"authc_use_vt",
        "DELETE FROM verification_token WHERE identifier = $1 AND token = $2 "
        "RETURNING identifier, " MS("expires") ", token", 2, false},
    [ST_GET_ACCOUNT] = {"authc_get_account",
        "SELECT " ACCOUNT_COLS " FROM accounts WHERE "
        "\"providerAccountId\" = $1 AND provider = $2 ORDER BY id LIMIT 1",
        2, true},
    [ST_GET_AUTH] = {"authc_get_authenticator",
        "SELECT " AUTH_COLS " FROM authenticators WHERE \"credentialID\" = $1",
        1, true},
    [ST_CREATE_AUTH] = {"authc_create_authenticator",
        "INSERT INTO authenticators (\"credentialID\", \"userId\", "
        "\"providerAccountId\", \"credentialPublicKey\", counter, "
        "\"credentialDeviceType\", \"credentialBackedUp\", transports) "
        "VALUES ($1, $2::int4, $3, $4, $5::int8, $6, $7::boolean, $8) "
        "RETURNING " AUTH_COLS, 8, false},
    [ST_LIST_AUTH] = {"authc_list_authenticators",
        "SELECT " AUTH_COLS " FROM authenticators WHERE \"userId\" = $1::int4 "
        "ORDER BY \"credentialID\"", 1, true},
    [ST_UPDATE_AUTH_COUNTER] = {"authc_update_authenticator_counter",
        "UPDATE authenticators SET counter = $2::int8 "
        "WHERE \"credentialID\" = $1 RETURNING " AUTH_COLS, 2, true},
};

/* The pg-adapter schema.sql verbatim (made idempotent), then ours. */
static const char *const MIGRATE_TABLES[] = {
    "CREATE TABLE IF NOT EXISTS verification_token (identifier TEXT NOT NULL, "
    "expires TIMESTAMPTZ NOT NULL, token TEXT NOT NULL, "
    "PRIMARY KEY (identifier, token))",
    "CREATE TABLE IF NOT EXISTS accounts (id SERIAL, \"userId\" INTEGER NOT "
    "NULL, type VARCHAR(255) NOT NULL, provider VARCHAR(255) NOT NULL, "
    "\"providerAccountId\" VARCHAR(255) NOT NULL, refresh_token TEXT, "
    "access_token TEXT, expires_at BIGINT, id_token TEXT, scope TEXT, "
    "session_state TEXT, token_type TEXT, PRIMARY KEY (id))",
    "CREATE TABLE IF NOT EXISTS sessions (id SERIAL, \"userId\" INTEGER NOT "
    "NULL, expires TIMESTAMPTZ NOT NULL, \"sessionToken\" VARCHAR(255) NOT "
    "NULL, PRIMARY KEY (id))",
    "CREATE TABLE IF NOT EXISTS users (id SERIAL, name VARCHAR(255), email "
    "VARCHAR(255), \"emailVerified\" TIMESTAMPTZ, image TEXT, "
    "PRIMARY KEY (id))",
    /* Not in pg-adapter: WebAuthn, shaped like Drizzle's authenticator. */
    "CREATE TABLE IF NOT EXISTS authenticators (\"credentialID\" TEXT NOT "
    "NULL, \"userId\" INTEGER NOT NULL, \"providerAccountId\" TEXT NOT NULL, "
    "\"credentialPublicKey\" TEXT NOT NULL, counter BIGINT NOT NULL, "
    "\"credentialDeviceType\" TEXT NOT NULL, \"credentialBackedUp\" BOOLEAN "
    "NOT NULL, transports TEXT, PRIMARY KEY (\"userId\", \"credentialID\"))",
    "CREATE UNIQUE INDEX IF NOT EXISTS \"authenticators_credentialID_key\" "
    "ON authenticators (\"credentialID\")",
};

/* Extra indexes. An existing Auth.js database may hold duplicates the
 * UNIQUE ones reject: then we warn and go on (pg-adapter never had them). */
static const char *const MIGRATE_INDEXES[] = {
    "CREATE UNIQUE INDEX IF NOT EXISTS \"sessions_sessionToken_key\" "
    "ON sessions (\"sessionToken\")",
    "CREATE UNIQUE INDEX IF NOT EXISTS "
    "\"accounts_provider_providerAccountId_key\" "
    "ON accounts (provider, \"providerAccountId\")",
    "CREATE INDEX IF NOT EXISTS \"sessions_userId_idx\" ON sessions "
    "(\"userId\")",
    "CREATE INDEX IF NOT EXISTS \"accounts_userId_idx\" ON accounts "
    "(\"userId\")",
    "CREATE INDEX IF NOT EXISTS \"users_email_idx\" ON users (email)",
};

/* ---- state -------------------------------------------------------------- */

typedef struct pg_conn {
    PGconn *c;           /* NULL until (re)connected */
    uint32_t prepared;   /* bit i: STMTS[i] is prepared on c */
    bool busy;           /* handed out to a thread */
} pg_conn;

typedef struct pg_ctx {
    char *conninfo;      /* libpq URL; contains the password: never logged */
    char label[300];     /* "postgres host:port/dbname" for messages */
    int stmt_timeout_ms;
    int pool_size;
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* signalled when a connection is released */
    pg_conn conns[PG_POOL_MAX];
} pg_ctx;

_Static_assert(ST__COUNT <= 32, "prepared bitmask is 32 bits");

/* ---- time --------------------------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- error text --------------------------------------------------------- */

/* Copies a libpq message into out on one line (messages end in '\n' and may
 * span lines). libpq connection messages name host/user, never passwords. */
static void one_line(char *out, size_t outlen, const char *msg)
{
    size_t n = 0;
    if (!outlen)
        return;
    for (const char *p = msg ? msg : ""; *p && n + 1 < outlen; p++)
        out[n++] = (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p;
    while (n && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

/* Logs a failed statement: SQLSTATE and primary message only, because the
 * DETAIL of e.g. a unique violation quotes the row (a session token). */
static void log_result_error(authc_adapter *self, pg_ctx *ctx,
                             const char *what, const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *prim = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
                         : NULL;
    char msg[300];
    one_line(msg, sizeof msg, prim ? prim : "unknown error");
    authc__adapter_log(self, "error", "%s: %s failed: %s (SQLSTATE %s)",
                       ctx->label, what, msg, state ? state : "?");
}

static void log_conn_error(authc_adapter *self, pg_ctx *ctx,
                           const char *what, PGconn *c)
{
    char msg[400];
    one_line(msg, sizeof msg, c ? PQerrorMessage(c) : "out of memory");
    authc__adapter_log(self, "error", "%s: %s: %s", ctx->label, what,
                       msg[0] ? msg : "connection lost");
}

/* ---- connections -------------------------------------------------------- */

static void conn_drop(pg_conn *pc)
{
    if (pc->c)
        PQfinish(pc->c);
    pc->c = NULL;
    pc->prepared = 0;
}

/* Waits until c has a complete result or deadline (monotonic ms) passes.
 * Returns 0 when PQgetResult will not block, -1 on connection failure,
 * -2 on timeout. */
static int wait_ready(PGconn *c, int64_t deadline)
{
    while (PQisBusy(c)) {
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return -2;
        struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
        if (pfd.fd < 0)
            return -1;
        int rc = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return -1;
        if (rc == 0)
            return -2;
        if (!PQconsumeInput(c))
            return -1;
    }
    return 0;
}

/* Collects the results of the query just sent. Returns the first result
 * (owned by the caller, PQclear) or NULL with *timed_out set on timeout;
 * NULL without it means the connection failed. */
static PGresult *collect(PGconn *c, int64_t deadline, bool *timed_out)
{
    PGresult *first = NULL;
    *timed_out = false;
    for (;;) {
        int w = wait_ready(c, deadline);
        if (w != 0) {
            *timed_out = (w == -2);
            PQclear(first);
            return NULL;
        }
        PGresult *r = PQgetResult(c);
        if (!r)
            break;
        if (!first)
            first = r;
        else
            PQclear(r);
    }
    return first;
}

/* Sends one plain statement (no parameters) and waits; result owned by the
 * caller. Used for session setup and migrations. */
static PGresult *exec_plain(PGconn *c, const char *sql, int64_t timeout_ms,
                            bool *timed_out)
{
    *timed_out = false;
    if (!PQsendQuery(c, sql))
        return NULL;
    return collect(c, mono_ms() + timeout_ms, timed_out);
}

/* libpq prints NOTICEs (e.g. "relation … already exists, skipping") to
 * stderr by default; a library must not, so they are dropped. */
static void ignore_notice(void *arg, const PGresult *res)
{
    (void)arg;
    (void)res;
}

/* Opens pc->c and sets the session's statement_timeout. On failure the
 * reason (no password in it) goes to why. */
static authc_err conn_open(pg_ctx *ctx, pg_conn *pc, char *why, size_t wlen)
{
    conn_drop(pc);
    PGconn *c = PQconnectdb(ctx->conninfo);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        char msg[400];
        one_line(msg, sizeof msg, c ? PQerrorMessage(c) : "out of memory");
        snprintf(why, wlen, "cannot connect: %s", msg);
        if (c)
            PQfinish(c);
        return AUTHC_ERR_ADAPTER;
    }
    PQsetNoticeReceiver(c, ignore_notice, NULL);
    char sql[64];
    snprintf(sql, sizeof sql, "SET statement_timeout = %d",
             ctx->stmt_timeout_ms);
    bool to;
    PGresult *r = exec_plain(c, sql, ctx->stmt_timeout_ms + PG_CLIENT_SLACK_MS,
                             &to);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        char msg[300];
        const char *prim =
            r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        one_line(msg, sizeof msg,
                 prim ? prim : (to ? "timed out" : PQerrorMessage(c)));
        snprintf(why, wlen, "session setup failed: %s", msg);
        PQclear(r);
        PQfinish(c);
        return AUTHC_ERR_ADAPTER;
    }
    PQclear(r);
    pc->c = c;
    pc->prepared = 0;
    return AUTHC_OK;
}

/* True when an idle connection is still usable. We never LISTEN nor SET
 * after setup, so an idle connection has nothing to say: if its socket is
 * readable, the server is talking on its own, which after a restart or an
 * idle timeout is a FATAL message followed by EOF. Such a connection is
 * reopened rather than parsed (the FATAL alone leaves libpq's status OK
 * until the next read hits EOF, mid-query). */
static bool conn_alive(pg_conn *pc)
{
    if (!pc->c || PQstatus(pc->c) != CONNECTION_OK ||
        PQtransactionStatus(pc->c) != PQTRANS_IDLE)
        return false;
    struct pollfd pfd = {.fd = PQsocket(pc->c), .events = POLLIN};
    if (pfd.fd < 0)
        return false;
    return poll(&pfd, 1, 0) == 0;
}

/* Takes a free pool slot, waiting at most the statement timeout. */
static authc_err pool_acquire(authc_adapter *self, pg_ctx *ctx,
                              pg_conn **out)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    int64_t wait_ms = ctx->stmt_timeout_ms + PG_CLIENT_SLACK_MS;
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ctx->mu);
    for (;;) {
        /* Prefer a slot that is already connected. */
        pg_conn *pick = NULL;
        for (int i = 0; i < ctx->pool_size; i++) {
            pg_conn *pc = &ctx->conns[i];
            if (pc->busy)
                continue;
            if (pc->c) {
                pick = pc;
                break;
            }
            if (!pick)
                pick = pc;
        }
        if (pick) {
            pick->busy = true;
            pthread_mutex_unlock(&ctx->mu);
            *out = pick;
            return AUTHC_OK;
        }
        int rc = pthread_cond_timedwait(&ctx->cv, &ctx->mu, &until);
        if (rc == ETIMEDOUT) {
            pthread_mutex_unlock(&ctx->mu);
            authc__adapter_log(self, "error",
                               "%s: all %d connections busy for %" PRId64
                               " ms", ctx->label, ctx->pool_size, wait_ms);
            return AUTHC_ERR_ADAPTER;
        }
    }
}

static void pool_release(pg_ctx *ctx, pg_conn *pc)
{
    /* A connection left mid-transaction or broken is not reused. */
    if (pc->c && (PQstatus(pc->c) != CONNECTION_OK ||
                  PQtransactionStatus(pc->c) != PQTRANS_IDLE))
        conn_drop(pc);
    pthread_mutex_lock(&ctx->mu);
    pc->busy = false;
    pthread_cond_signal(&ctx->cv);
    pthread_mutex_unlock(&ctx->mu);
}

/* Makes sure pc has a live connection (logs why not). */
static authc_err conn_ready(authc_adapter *self, pg_ctx *ctx, pg_conn *pc)
{
    if (conn_alive(pc))
        return AUTHC_OK;
    char why[450];
    authc_err e = conn_open(ctx, pc, why, sizeof why);
    if (e)
        authc__adapter_log(self, "error", "%s: %s", ctx->label, why);
    return e;
}

/* Outcome of one attempt at a statement. */
typedef enum { RUN_OK, RUN_SQL_ERROR, RUN_CONN_ERROR, RUN_TIMEOUT } run_rc;

/* Runs STMTS[st] once on pc (preparing it first if needed). *res gets the
 * result on RUN_OK / RUN_SQL_ERROR (owned by the caller). */
static run_rc run_once(pg_ctx *ctx, pg_conn *pc, int st,
                       const char *const *vals, PGresult **res)
{
    const pg_stmt *s = &STMTS[st];
    int64_t deadline = mono_ms() + ctx->stmt_timeout_ms + PG_CLIENT_SLACK_MS;
    bool to;
    *res = NULL;
    if (!(pc->prepared & (1u << st))) {
        if (!PQsendPrepare(pc->c, s->name, s->sql, s->nparams, NULL))
            return RUN_CONN_ERROR;
        PGresult *r = collect(pc->c, deadline, &to);
        if (!r)
            return to ? RUN_TIMEOUT : RUN_CONN_ERROR;
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            /* 42P05: already prepared (a previous attempt got that far). */
            const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            if (!state || strcmp(state, "42P05") != 0) {
                *res = r;
                return PQstatus(pc->c) == CONNECTION_OK ? RUN_SQL_ERROR
                                                        : RUN_CONN_ERROR;
            }
        }
        PQclear(r);
        pc->prepared |= 1u << st;
    }
    if (!PQsendQueryPrepared(pc->c, s->name, s->nparams, vals, NULL, NULL, 0))
        return RUN_CONN_ERROR;
    PGresult *r = collect(pc->c, deadline, &to);
    if (!r)
        return to ? RUN_TIMEOUT : RUN_CONN_ERROR;
    ExecStatusType es = PQresultStatus(r);
    *res = r;
    if (es == PGRES_TUPLES_OK || es == PGRES_COMMAND_OK)
        return RUN_OK;
    return PQstatus(pc->c) == CONNECTION_OK ? RUN_SQL_ERROR : RUN_CONN_ERROR;
}

/* Runs STMTS[st] with text parameters vals (NULL = SQL NULL) on a pooled
 * connection. On AUTHC_OK *out is the result (caller PQclear). Connection
 * failures of idempotent statements are retried once on a fresh
 * connection; a server that dropped its prepared statements (SQLSTATE
 * 26000, e.g. behind a pooler) gets them prepared again. */
static authc_err pg_run(authc_adapter *self, int st, const char *const *vals,
                        PGresult **out)
{
    pg_ctx *ctx = self->ctx;
    pg_conn *pc;
    *out = NULL;
    authc_err e = pool_acquire(self, ctx, &pc);
    if (e)
        return e;
    for (int attempt = 0;; attempt++) {
        e = conn_ready(self, ctx, pc);
        if (e)
            break;
        PGresult *r;
        run_rc rc = run_once(ctx, pc, st, vals, &r);
        if (rc == RUN_OK) {
            *out = r;
            break;
        }
        if (rc == RUN_SQL_ERROR) {
            const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            if (attempt == 0 && state && strcmp(state, "26000") == 0) {
                PQclear(r);
                pc->prepared = 0;
                continue;
            }
            log_result_error(self, ctx, STMTS[st].name + 6, r);
            PQclear(r);
            e = AUTHC_ERR_ADAPTER;
            break;
        }
        PQclear(r);
        if (rc == RUN_TIMEOUT) {
            /* No PQcancel: it connects without a timeout and would hang on
             * the same frozen server; the server's statement_timeout ends
             * the query on its side. */
            authc__adapter_log(self, "error",
                               "%s: %s: no answer within %d ms, dropping "
                               "the connection", ctx->label,
                               STMTS[st].name + 6,
                               ctx->stmt_timeout_ms + PG_CLIENT_SLACK_MS);
            conn_drop(pc);
            e = AUTHC_ERR_ADAPTER;
            break;
        }
        log_conn_error(self, ctx, STMTS[st].name + 6, pc->c);
        conn_drop(pc);
        if (attempt == 0 && STMTS[st].idempotent)
            continue;
        e = AUTHC_ERR_ADAPTER;
        break;
    }
    pool_release(ctx, pc);
    return e;
}

/* ---- parameters and columns --------------------------------------------- */

/* True when s is a decimal int4 (what a SERIAL id can be). */
static bool is_int4(const char *s)
{
    if (!s || !*s || strlen(s) > 11)
        return false;
    const char *p = s;
    if (*p == '-')
        p++;
    if (!*p)
        return false;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return false;
    long long v = strtoll(s, NULL, 10);
    return v >= INT32_MIN && v <= INT32_MAX;
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

static const char *col_str(colreader *cr, int col)
{
    if (cr->err || PQgetisnull(cr->r, cr->row, col))
        return NULL;
    int len = PQgetlength(cr->r, cr->row, col);
    if (len < 0 || (unsigned)len > PG_MAX_VALUE) {
        cr->err = AUTHC_ERR_LIMIT;
        return NULL;
    }
    char *s = authc_arena_strndup(cr->ar, PQgetvalue(cr->r, cr->row, col),
                                  (size_t)len);
    if (!s)
        cr->err = AUTHC_ERR_NOMEM;
    return s;
}

/* int8 column, or null_value when NULL / unparsable. */
static int64_t col_i64(colreader *cr, int col, int64_t null_value)
{
    if (PQgetisnull(cr->r, cr->row, col))
        return null_value;
    const char *v = PQgetvalue(cr->r, cr->row, col);
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end)
        return null_value;
    return (int64_t)x;
}

/* Columns as in USER_COLS starting at col; owned by ar. */
static authc_user *read_user(colreader *cr, int col)
{
    authc_user *u = authc_arena_alloc(cr->ar, sizeof *u);
    if (!u) {
        cr->err = AUTHC_ERR_NOMEM;
        return NULL;
    }
    u->id = col_str(cr, col);
    u->name = col_str(cr, col + 1);
    u->email = col_str(cr, col + 2);
    u->email_verified = col_i64(cr, col + 3, AUTHC_NO_TIME);
    u->image = col_str(cr, col + 4);
    return cr->err ? NULL : u;
}

static authc_account *read_account(colreader *cr)
{
    authc_account *a = authc_arena_alloc(cr->ar, sizeof *a);
    if (!a) {
        cr->err = AUTHC_ERR_NOMEM;
        return NULL;
    }
    a->id = col_str(cr, 0);
    a->user_id = col_str(cr, 1);
    a->type = col_str(cr, 2);
    a->provider = col_str(cr, 3);
    a->provider_account_id = col_str(cr, 4);
    a->refresh_token = col_str(cr, 5);
    a->access_token = col_str(cr, 6);
    a->expires_at = col_i64(cr, 7, AUTHC_NO_TIME);
    a->id_token = col_str(cr, 8);
    a->scope = col_str(cr, 9);
    a->session_state = col_str(cr, 10);
    a->token_type = col_str(cr, 11);
    return cr->err ? NULL : a;
}

static authc_session_row *read_session(colreader *cr)
{
    authc_session_row *s = authc_arena_alloc(cr->ar, sizeof *s);
    if (!s) {
        cr->err = AUTHC_ERR_NOMEM;
        return NULL;
    }
    s->id = col_str(cr, 0);
    s->session_token = col_str(cr, 1);
    s->user_id = col_str(cr, 2);
    s->expires = col_i64(cr, 3, AUTHC_NO_TIME);
    return cr->err ? NULL : s;
}

static void read_auth_into(colreader *cr, authc_authenticator *a)
{
    a->credential_id = col_str(cr, 0);
    a->user_id = col_str(cr, 1);
    a->provider_account_id = col_str(cr, 2);
    a->credential_public_key = col_str(cr, 3);
    a->counter = col_i64(cr, 4, 0);
    a->credential_device_type = col_str(cr, 5);
    a->credential_backed_up =
        !PQgetisnull(cr->r, cr->row, 6) &&
        PQgetvalue(cr->r, cr->row, 6)[0] == 't';
    a->transports = col_str(cr, 7);
}

static authc_authenticator *read_auth(colreader *cr)
{
    authc_authenticator *a = authc_arena_alloc(cr->ar, sizeof *a);
    if (!a) {
        cr->err = AUTHC_ERR_NOMEM;
        return NULL;
    }
    read_auth_into(cr, a);
    return cr->err ? NULL : a;
}

/* Runs a statement that returns user columns at 0; *out = NULL when none. */
static authc_err user_query(authc_adapter *self, authc_arena *ar, int st,
                            const char *const *vals, authc_user **out)
{
    *out = NULL;
    PGresult *r;
    authc_err e = pg_run(self, st, vals, &r);
    if (e)
        return e;
    if (PQntuples(r) > 0) {
        colreader cr = {ar, r, 0, AUTHC_OK};
        *out = read_user(&cr, 0);
        e = cr.err;
    }
    PQclear(r);
    return e;
}

/* ---- methods ------------------------------------------------------------ */

static authc_err pg_create_user(authc_adapter *self, authc_arena *ar,
                                const authc_user *in, authc_user **out)
{
    char ev[24];
    /* in->id is ignored: SERIAL assigns it. */
    const char *vals[4] = {in->name, in->email,
                           i64_param(ev, in->email_verified), in->image};
    authc_user *u = NULL;
    authc_err e = user_query(self, ar, ST_CREATE_USER, vals, &u);
    if (!e && !u)
        e = AUTHC_ERR_ADAPTER;
    if (out)
        *out = e ? NULL : u;
    return e;
}

static authc_err pg_get_user(authc_adapter *self, authc_arena *ar,
                             const char *id, authc_user **out)
{
    *out = NULL;
    if (!is_int4(id))
        return AUTHC_OK;  /* pg ids are integers: anything else is unknown */
    const char *vals[1] = {id};
    return user_query(self, ar, ST_GET_USER, vals, out);
}

static authc_err pg_get_user_by_email(authc_adapter *self, authc_arena *ar,
                                      const char *email, authc_user **out)
{
    *out = NULL;
    if (!email)
        return AUTHC_OK;
    const char *vals[1] = {email};
    return user_query(self, ar, ST_GET_USER_BY_EMAIL, vals, out);
}

static authc_err pg_get_user_by_account(authc_adapter *self, authc_arena *ar,
                                        const char *provider,
                                        const char *provider_account_id,
                                        authc_user **out)
{
    *out = NULL;
    if (!provider || !provider_account_id)
        return AUTHC_OK;
    const char *vals[2] = {provider, provider_account_id};
    return user_query(self, ar, ST_GET_USER_BY_ACCOUNT, vals, out);
}

static authc_err pg_update_user(authc_adapter *self, authc_arena *ar,
                                const authc_user *in, authc_user **out)
{
    if (out)
        *out = NULL;
    if (!is_int4(in->id))
        return AUTHC_ERR_NOT_FOUND;
    unsigned f = in->fields ? in->fields
                            : (AUTHC_USER_F_NAME | AUTHC_USER_F_EMAIL |
                               AUTHC_USER_F_EMAIL_VERIFIED |
                               AUTHC_USER_F_IMAGE);
    char mask[12], ev[24];
    snprintf(mask, sizeof mask, "%u", f & 15u);
    const char *vals[6] = {in->id, mask, in->name, in->email,
                           i64_param(ev, in->email_verified), in->image};
    authc_user *u = NULL;
    authc_err e = user_query(self, ar, ST_UPDATE_USER, vals, &u);
    if (!e && !u)
        e = AUTHC_ERR_NOT_FOUND;
    if (out)
        *out = e ? NULL : u;
    return e;
}

static authc_err pg_delete_user(authc_adapter *self, authc_arena *ar,
                                const char *id)
{
    (void)ar;
    if (!is_int4(id))
        return AUTHC_OK;
    const char *vals[1] = {id};
    PGresult *r;
    authc_err e = pg_run(self, ST_DELETE_USER, vals, &r);
    PQclear(r);
    return e;
}

static authc_err pg_link_account(authc_adapter *self, authc_arena *ar,
                                 const authc_account *in, authc_account **out)
{
    if (out)
        *out = NULL;
    if (!is_int4(in->user_id)) {
        authc__adapter_log(self, "error",
                           "%s: link_account: userId is not an integer id",
                           ((pg_ctx *)self->ctx)->label);
        return AUTHC_ERR_ADAPTER;
    }
    char exp[24];
    const char *vals[11] = {in->user_id, in->type, in->provider,
                            in->provider_account_id, in->refresh_token,
                            in->access_token, i64_param(exp, in->expires_at),
                            in->id_token, in->scope, in->session_state,
                            in->token_type};
    PGresult *r;
    authc_err e = pg_run(self, ST_LINK_ACCOUNT, vals, &r);
    if (e)
        return e;
    if (PQntuples(r) > 0 && out) {
        colreader cr = {ar, r, 0, AUTHC_OK};
        *out = read_account(&cr);
        e = cr.err;
    }
    PQclear(r);
    return e;
}

static authc_err pg_unlink_account(authc_adapter *self, authc_arena *ar,
                                   const char *provider,
                                   const char *provider_account_id)
{
    (void)ar;
    if (!provider || !provider_account_id)
        return AUTHC_OK;
    const char *vals[2] = {provider, provider_account_id};
    PGresult *r;
    authc_err e = pg_run(self, ST_UNLINK_ACCOUNT, vals, &r);
    PQclear(r);
    return e;
}

/* Runs a statement returning SESSION_COLS; *out = first row or NULL. */
static authc_err session_query(authc_adapter *self, authc_arena *ar, int st,
                               const char *const *vals,
                               authc_session_row **out)
{
    PGresult *r;
    authc_err e = pg_run(self, st, vals, &r);
    if (e)
        return e;
    if (PQntuples(r) > 0 && out) {
        colreader cr = {ar, r, 0, AUTHC_OK};
        *out = read_session(&cr);
        e = cr.err;
    }
    PQclear(r);
    return e;
}

static authc_err pg_create_session(authc_adapter *self, authc_arena *ar,
                                   const authc_session_row *in,
                                   authc_session_row **out)
{
    if (out)
        *out = NULL;
    if (!is_int4(in->user_id) || !in->session_token ||
        in->expires == AUTHC_NO_TIME) {
        authc__adapter_log(self, "error",
                           "%s: create_session: needs an integer userId, a "
                           "token and expires", ((pg_ctx *)self->ctx)->label);
        return AUTHC_ERR_ADAPTER;
    }
    char exp[24];
    const char *vals[3] = {in->user_id, i64_param(exp, in->expires),
                           in->session_token};
    authc_session_row *s = NULL;
    authc_err e = session_query(self, ar, ST_CREATE_SESSION, vals, &s);
    if (!e && !s)
        e = AUTHC_ERR_ADAPTER;
    if (out)
        *out = e ? NULL : s;
    return e;
}

static authc_err pg_get_session_and_user(authc_adapter *self, authc_arena *ar,
                                         const char *session_token,
                                         authc_session_row **session,
                                         authc_user **user)
{
    *session = NULL;
    *user = NULL;
    if (!session_token)
        return AUTHC_OK;
    const char *vals[1] = {session_token};
    PGresult *r;
    authc_err e = pg_run(self, ST_GET_SESSION_AND_USER, vals, &r);
    if (e)
        return e;
    if (PQntuples(r) > 0) {
        colreader cr = {ar, r, 0, AUTHC_OK};
        authc_session_row *s = read_session(&cr);
        authc_user *u = read_user(&cr, 4);
        if (!cr.err) {
            *session = s;
            *user = u;
        }
        e = cr.err;
    }
    PQclear(r);
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
    if (in->user_id && !is_int4(in->user_id)) {
        authc__adapter_log(self, "error",
                           "%s: update_session: userId is not an integer id",
                           ((pg_ctx *)self->ctx)->label);
        return AUTHC_ERR_ADAPTER;
    }
    char exp[24];
    const char *vals[3] = {in->session_token, i64_param(exp, in->expires),
                           in->user_id};
    return session_query(self, ar, ST_UPDATE_SESSION, vals, out);
}

static authc_err pg_delete_session(authc_adapter *self, authc_arena *ar,
                                   const char *session_token,
                                   authc_session_row **out)
{
    if (out)
        *out = NULL;
    if (!session_token)
        return AUTHC_OK;
    const char *vals[1] = {session_token};
    return session_query(self, ar, ST_DELETE_SESSION, vals, out);
}

static authc_err pg_create_vt(authc_adapter *self, authc_arena *ar,
                              const authc_verification_token *in)
{
    (void)ar;
    if (!in->identifier || !in->token || in->expires == AUTHC_NO_TIME) {
        authc__adapter_log(self, "error",
                           "%s: create_verification_token: incomplete token",
                           ((pg_ctx *)self->ctx)->label);
        return AUTHC_ERR_ADAPTER;
    }
    char exp[24];
    const char *vals[3] = {in->identifier, i64_param(exp, in->expires),
                           in->token};
    PGresult *r;
    authc_err e = pg_run(self, ST_CREATE_VT, vals, &r);
    PQclear(r);
    return e;
}

static authc_err pg_use_vt(authc_adapter *self, authc_arena *ar,
                           const char *identifier, const char *token,
                           authc_verification_token **out)
{
    *out = NULL;
    if (!identifier || !token)
        return AUTHC_OK;  /* SQL: a missing identifier never matches */
    const char *vals[2] = {identifier, token};
    PGresult *r;
    authc_err e = pg_run(self, ST_USE_VT, vals, &r);
    if (e)
        return e;
    if (PQntuples(r) > 0) {
        colreader cr = {ar, r, 0, AUTHC_OK};
        authc_verification_token *v = authc_arena_alloc(ar, sizeof *v);
        if (!v) {
            cr.err = AUTHC_ERR_NOMEM;
        } else {
            v->identifier = col_str(&cr, 0);
            v->expires = col_i64(&cr, 1, AUTHC_NO_TIME);
            v->token = col_str(&cr, 2);
        }
        if (!cr.err)
            *out = v;
        e = cr.err;
    }
    PQclear(r);
    return e;
}

static authc_err pg_get_account(authc_adapter *self, authc_arena *ar,
                                const char *provider_account_id,
                                const char *provider, authc_account **out)
{
    *out = NULL;
    if (!provider || !provider_account_id)
        return AUTHC_OK;
    const char *vals[2] = {provider_account_id, provider};
    PGresult *r;
    authc_err e = pg_run(self, ST_GET_ACCOUNT, vals, &r);
    if (e)
        return e;
    if (PQntuples(r) > 0) {
        colreader cr = {ar, r, 0, AUTHC_OK};
        *out = read_account(&cr);
        e = cr.err;
    }
    PQclear(r);
    return e;
}

/* Runs a statement returning AUTH_COLS; *out = first row or NULL. */
static authc_err auth_query(authc_adapter *self, authc_arena *ar, int st,
                            const char *const *vals,
                            authc_authenticator **out)
{
    *out = NULL;
    PGresult *r;
    authc_err e = pg_run(self, st, vals, &r);
    if (e)
        return e;
    if (PQntuples(r) > 0) {
        colreader cr = {ar, r, 0, AUTHC_OK};
        *out = read_auth(&cr);
        e = cr.err;
    }
    PQclear(r);
    return e;
}

static authc_err pg_get_authenticator(authc_adapter *self, authc_arena *ar,
                                      const char *credential_id,
                                      authc_authenticator **out)
{
    *out = NULL;
    if (!credential_id)
        return AUTHC_OK;
    const char *vals[1] = {credential_id};
    return auth_query(self, ar, ST_GET_AUTH, vals, out);
}

static authc_err pg_create_authenticator(authc_adapter *self, authc_arena *ar,
                                         const authc_authenticator *in,
                                         authc_authenticator **out)
{
    authc_authenticator *a = NULL;
    if (out)
        *out = NULL;
    if (!is_int4(in->user_id) || !in->credential_id ||
        !in->provider_account_id || !in->credential_public_key ||
        !in->credential_device_type) {
        authc__adapter_log(self, "error",
                           "%s: create_authenticator: needs an integer "
                           "userId and all credential fields",
                           ((pg_ctx *)self->ctx)->label);
        return AUTHC_ERR_ADAPTER;
    }
    char ctr[24];
    const char *vals[8] = {in->credential_id, in->user_id,
                           in->provider_account_id, in->credential_public_key,
                           i64_param(ctr, in->counter),
                           in->credential_device_type,
                           in->credential_backed_up ? "true" : "false",
                           in->transports};
    authc_err e = auth_query(self, ar, ST_CREATE_AUTH, vals, &a);
    if (!e && !a)
        e = AUTHC_ERR_ADAPTER;
    if (out)
        *out = e ? NULL : a;
    return e;
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
    authc_err e = pg_run(self, ST_LIST_AUTH, vals, &r);
    if (e)
        return e;
    int rows = PQntuples(r);
    if (rows > 0) {
        authc_authenticator *arr =
            authc_arena_alloc(ar, sizeof *arr * (size_t)rows);
        colreader cr = {ar, r, 0, arr ? AUTHC_OK : AUTHC_ERR_NOMEM};
        for (int i = 0; i < rows && !cr.err; i++) {
            cr.row = i;
            read_auth_into(&cr, &arr[i]);
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
    authc_authenticator *a = NULL;
    if (out)
        *out = NULL;
    if (!credential_id)
        return AUTHC_ERR_NOT_FOUND;
    char ctr[24];
    snprintf(ctr, sizeof ctr, "%" PRId64, counter);
    const char *vals[2] = {credential_id, ctr};
    authc_err e = auth_query(self, ar, ST_UPDATE_AUTH_COUNTER, vals, &a);
    if (!e && !a)
        e = AUTHC_ERR_NOT_FOUND;
    if (out)
        *out = e ? NULL : a;
    return e;
}

/* ---- migrate ------------------------------------------------------------ */

/* Runs one DDL statement; the result is logged on failure. */
static authc_err migrate_one(authc_adapter *self, pg_ctx *ctx, PGconn *c,
                             const char *sql, bool *conn_lost)
{
    bool to;
    /* DDL on a big existing table may take long: a generous deadline. */
    PGresult *r = exec_plain(c, sql, 600000, &to);
    if (!r || (PQresultStatus(r) != PGRES_COMMAND_OK &&
               PQresultStatus(r) != PGRES_TUPLES_OK)) {
        if (r && PQstatus(c) == CONNECTION_OK)
            log_result_error(self, ctx, "migrate", r);
        else {
            log_conn_error(self, ctx, to ? "migrate timed out" : "migrate",
                           c);
            *conn_lost = true;
        }
        PQclear(r);
        return AUTHC_ERR_ADAPTER;
    }
    PQclear(r);
    return AUTHC_OK;
}

static authc_err pg_migrate(authc_adapter *self)
{
    pg_ctx *ctx = self->ctx;
    pg_conn *pc;
    authc_err e = pool_acquire(self, ctx, &pc);
    if (e)
        return e;
    e = conn_ready(self, ctx, pc);
    if (e) {
        pool_release(ctx, pc);
        return e;
    }
    bool lost = false;
    /* No statement timeout while migrating; one migrator at a time (two
     * concurrent CREATE TABLE IF NOT EXISTS can still collide). */
    e = migrate_one(self, ctx, pc->c, "SET statement_timeout = 0", &lost);
    if (!e)
        e = migrate_one(self, ctx, pc->c,
                        "SELECT pg_advisory_lock(" PG_MIGRATE_LOCK ")", &lost);
    for (size_t i = 0; !e && i < sizeof MIGRATE_TABLES / sizeof *MIGRATE_TABLES;
         i++)
        e = migrate_one(self, ctx, pc->c, MIGRATE_TABLES[i], &lost);
    for (size_t i = 0;
         !e && i < sizeof MIGRATE_INDEXES / sizeof *MIGRATE_INDEXES; i++) {
        if (migrate_one(self, ctx, pc->c, MIGRATE_INDEXES[i], &lost) &&
            !lost)
            authc__adapter_log(self, "warn",
                               "%s: migrate: could not create an index "
                               "(duplicate rows in an existing database?); "
                               "continuing without it", ctx->label);
        if (lost)
            e = AUTHC_ERR_ADAPTER;
    }
    /* Whatever happened, this session's settings and lock must not leak
     * into the pool: close it (the next use reconnects). */
    conn_drop(pc);
    pool_release(ctx, pc);
    if (!e)
        authc__adapter_log(self, "info", "%s: schema is up to date",
                           ctx->label);
    return e;
}

/* ---- open / destroy ----------------------------------------------------- */

static void pg_destroy(authc_adapter *self)
{
    if (!self)
        return;
    pg_ctx *ctx = self->ctx;
    if (ctx) {
        for (int i = 0; i < PG_POOL_MAX; i++)
            conn_drop(&ctx->conns[i]);
        if (ctx->conninfo) {
            authc__wipe(ctx->conninfo, strlen(ctx->conninfo));
            free(ctx->conninfo);
        }
        pthread_cond_destroy(&ctx->cv);
        pthread_mutex_destroy(&ctx->mu);
        free(ctx);
    }
    free(self);
}

/* Parses a bounded positive decimal; false when not one in [lo, hi]. */
static bool parse_int(const char *s, size_t n, long lo, long hi, long *out)
{
    if (n == 0 || n > 9)
        return false;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Splits our own query parameters out of url: writes the libpq URL to
 * `out` (heap, caller frees) and sets pool/timeout. */
static bool split_url(const char *url, char **out, int *pool, int *stmt_ms,
                      char *err, size_t errlen)
{
    size_t len = strlen(url);
    if (len > PG_MAX_URL) {
        authc__set_err(err, errlen, "postgres: URL longer than %d bytes",
                       PG_MAX_URL);
        return false;
    }
    /* Room for the URL plus the defaults we may append. */
    size_t cap = len + 64;
    char *u = malloc(cap);
    if (!u) {
        authc__set_err(err, errlen, "postgres: out of memory");
        return false;
    }
    const char *q = strchr(url, '?');
    size_t base = q ? (size_t)(q - url) : len;
    memcpy(u, url, base);
    size_t n = base;
    bool have_ct = false, have_app = false;
    char sep = '?';
    if (q) {
        const char *p = q + 1;
        while (*p) {
            size_t plen = strcspn(p, "&");
            const char *eq = memchr(p, '=', plen);
            size_t klen = eq ? (size_t)(eq - p) : plen;
            const char *v = eq ? eq + 1 : p + plen;
            size_t vlen = (size_t)(p + plen - v);
            long x;
            if (klen == 9 && strncmp(p, "pool_size", 9) == 0) {
                if (!parse_int(v, vlen, 1, PG_POOL_MAX, &x)) {
                    authc__set_err(err, errlen,
                                   "postgres: pool_size must be 1..%d",
                                   PG_POOL_MAX);
                    free(u);
                    return false;
                }
                *pool = (int)x;
            } else if (klen == 17 && strncmp(p, "statement_timeout", 17) == 0) {
                if (!parse_int(v, vlen, 100, 600000, &x)) {
                    authc__set_err(err, errlen,
                                   "postgres: statement_timeout must be "
                                   "100..600000 (ms)");
                    free(u);
                    return false;
                }
                *stmt_ms = (int)x;
            } else if (plen) {
                if (klen == 15 && strncmp(p, "connect_timeout", 15) == 0)
                    have_ct = true;
                if (klen == 16 && strncmp(p, "application_name", 16) == 0)
                    have_app = true;
                u[n++] = sep;
                sep = '&';
                memcpy(u + n, p, plen);
                n += plen;
            }
            p += plen;
            if (*p == '&')
                p++;
        }
    }
    u[n] = '\0';
    if (!have_ct) {
        n += (size_t)snprintf(u + n, cap - n,
                              "%cconnect_timeout=" PG_CONNECT_TIMEOUT_DEFAULT_S,
                              sep);
        sep = '&';
    }
    if (!have_app)
        snprintf(u + n, cap - n, "%capplication_name=authc", sep);
    *out = u;
    return true;
}

/* Fills label with "postgres host:port/dbname" from the parsed conninfo. */
static bool make_label(const char *conninfo, char *label, size_t len,
                       char *err, size_t errlen)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    if (!opts) {
        char msg[200];
        one_line(msg, sizeof msg, perr ? perr : "out of memory");
        authc__set_err(err, errlen, "postgres: bad URL: %s", msg);
        if (perr)
            PQfreemem(perr);
        return false;
    }
    const char *host = NULL, *port = NULL, *db = NULL, *user = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !*o->val)
            continue;
        if (strcmp(o->keyword, "host") == 0)
            host = o->val;
        else if (strcmp(o->keyword, "hostaddr") == 0 && !host)
            host = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        else if (strcmp(o->keyword, "dbname") == 0)
            db = o->val;
        else if (strcmp(o->keyword, "user") == 0)
            user = o->val;
    }
    snprintf(label, len, "postgres %s:%s/%s", host ? host : "localhost",
             port ? port : "5432", db ? db : (user ? user : "(default)"));
    PQconninfoFree(opts);
    return true;
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
    .migrate = pg_migrate,
    .destroy = pg_destroy,
};

/* Returns a heap adapter (destroy() frees it) or NULL with err set. */
authc_adapter *authc__adapter_postgres_open(const char *url, char *err,
                                            size_t errlen)
{
    if (!url) {
        authc__set_err(err, errlen, "postgres: no URL");
        return NULL;
    }
    int pool = PG_POOL_DEFAULT, stmt_ms = PG_STMT_TIMEOUT_DEFAULT_MS;
    char *conninfo = NULL;
    if (!split_url(url, &conninfo, &pool, &stmt_ms, err, errlen))
        return NULL;
    char label[300];
    if (!make_label(conninfo, label, sizeof label, err, errlen)) {
        authc__wipe(conninfo, strlen(conninfo));
        free(conninfo);
        return NULL;
    }
    authc_adapter *ad = calloc(1, sizeof *ad);
    pg_ctx *ctx = calloc(1, sizeof *ctx);
    pthread_condattr_t ca;
    bool cv_ok = false, mu_ok = false;
    if (ad && ctx && pthread_condattr_init(&ca) == 0) {
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        cv_ok = pthread_cond_init(&ctx->cv, &ca) == 0;
        pthread_condattr_destroy(&ca);
        mu_ok = pthread_mutex_init(&ctx->mu, NULL) == 0;
    }
    if (!cv_ok || !mu_ok) {
        authc__set_err(err, errlen, "%s: out of memory", label);
        if (cv_ok)
            pthread_cond_destroy(&ctx->cv);
        if (mu_ok)
            pthread_mutex_destroy(&ctx->mu);
        free(ctx);
        free(ad);
        authc__wipe(conninfo, strlen(conninfo));
        free(conninfo);
        return NULL;
    }
    ctx->conninfo = conninfo;
    snprintf(ctx->label, sizeof ctx->label, "%s", label);
    ctx->pool_size = pool;
    ctx->stmt_timeout_ms = stmt_ms;

    ad->ops = &PG_OPS;
    ad->ctx = ctx;

    /* Fail fast on a wrong URL or password: open the first pool connection
     * now (log is not set yet, so the reason goes to err). */
    char why[450];
    if (conn_open(ctx, &ctx->conns[0], why, sizeof why)) {
        authc__set_err(err, errlen, "%s: %s", label, why);
        pg_destroy(ad);
        return NULL;
    }
    return ad;
}
