/* store_postgres.c — the "postgres://" store backend (libpq): one table
 * (k, v bytea, expires_at ms), single-statement upserts, util/pool.
 *
 * Every statement is one autocommit INSERT … ON CONFLICT / UPDATE / DELETE,
 * atomic under concurrent instances (row locks). Time is the server's
 * (statement_timestamp()), so instances with skewed clocks agree on expiry.
 * Statements are prepared once per connection. Connecting and every
 * statement wait at most connect_timeout / timeout ms on the client side
 * (poll with a deadline; the server also gets statement_timeout): a
 * connection that timed out or failed is dropped, the next call connects
 * again. Expired rows are swept (at most SWEEP_BATCH a time) by the call
 * that finds sweep_interval passed, and by authc__store_sweep. */
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "adapters/pg_wire_int.h"
#include "store/store_be_int.h"
#include "util/pool_int.h"
#include "util/util_int.h"

#define TABLE "authc_store"
#define NOW "(extract(epoch FROM statement_timestamp()) * 1000)::int8"
#define SWEEP_BATCH "10000"
/* pg_advisory_xact_lock key serialising concurrent migrations. */
#define MIGRATE_LOCK "7283946152"

enum { Q_MGET, Q_SET, Q_SETNX, Q_RENEW, Q_DELOWN, Q_DEL, Q_INCR, Q_SWEEP,
       Q_PING, Q_SCAN, Q__COUNT };

typedef struct pg_stmt {
    const char *name;
    const char *sql;
    int nparams;
    int binary_result;   /* 1: raw bytes (k, v) */
} pg_stmt;

static const pg_stmt STMTS[Q__COUNT] = {
    [Q_MGET] = {"authc_store_mget",
                "SELECT k, v FROM " TABLE " WHERE k = ANY ($1::text[]) "
                "AND expires_at > " NOW, 1, 1},
    [Q_SET] = {"authc_store_set",
               "INSERT INTO " TABLE " (k, v, expires_at) "
               "VALUES ($1, $2, " NOW " + $3::int8) ON CONFLICT (k) DO "
               "UPDATE SET v = excluded.v, expires_at = excluded.expires_at",
               3, 0},
    [Q_SETNX] = {"authc_store_setnx",
                 "INSERT INTO " TABLE " AS s (k, v, expires_at) "
                 "VALUES ($1, $2, " NOW " + $3::int8) ON CONFLICT (k) DO "
                 "UPDATE SET v = excluded.v, expires_at = excluded.expires_at "
                 "WHERE s.expires_at <= " NOW, 3, 0},
    [Q_RENEW] = {"authc_store_renew",
                 "UPDATE " TABLE " SET expires_at = " NOW " + $3::int8 "
                 "WHERE k = $1 AND v = $2 AND expires_at > " NOW, 3, 0},
    [Q_DELOWN] = {"authc_store_delown",
                  "DELETE FROM " TABLE " WHERE k = $1 AND v = $2 "
                  "AND expires_at > " NOW, 2, 0},
    [Q_DEL] = {"authc_store_del",
               "DELETE FROM " TABLE " WHERE k = $1 "
               "RETURNING expires_at > " NOW, 1, 0},
    /* An expired row counts from 0 with a new window; a live one keeps its
     * expiry. A value that is not an int8 raises SQLSTATE class 22. */
    [Q_INCR] = {"authc_store_incr",
                "INSERT INTO " TABLE " AS s (k, v, expires_at) "
                "VALUES ($1, convert_to($2::int8::text, 'UTF8'), "
                NOW " + $3::int8) ON CONFLICT (k) DO UPDATE SET "
                "v = convert_to((CASE WHEN s.expires_at <= " NOW " THEN 0 "
                "ELSE convert_from(s.v, 'UTF8')::int8 END + $2::int8)::text, "
                "'UTF8'), expires_at = CASE WHEN s.expires_at <= " NOW
                " THEN excluded.expires_at ELSE s.expires_at END "
                "RETURNING convert_from(v, 'UTF8')", 3, 0},
    [Q_SWEEP] = {"authc_store_sweep",
                 "DELETE FROM " TABLE " WHERE k IN (SELECT k FROM " TABLE
                 " WHERE expires_at <= " NOW " LIMIT " SWEEP_BATCH ")", 0, 0},
    [Q_PING] = {"authc_store_ping", "SELECT 1 FROM " TABLE " LIMIT 0", 0, 0},
    /* left(), not LIKE: no escaping of % and _ needed. */
    [Q_SCAN] = {"authc_store_scan",
                "SELECT k FROM " TABLE " WHERE k >= $1 AND left(k, length($1)) = $1 "
                "AND expires_at > " NOW " ORDER BY k LIMIT $2::int8", 2, 0},
};

static const char MIGRATE_SQL[] =
    "BEGIN;"
    "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ");"
    "CREATE TABLE IF NOT EXISTS " TABLE " ("
    " k text PRIMARY KEY,"
    " v bytea NOT NULL,"
    " expires_at int8 NOT NULL);"
    "CREATE INDEX IF NOT EXISTS " TABLE "_expires_at ON " TABLE
    " (expires_at);"
    "COMMIT";

typedef struct pg_ctx {
    char *conninfo;
    int timeout_ms;
    int connect_timeout_ms;
    int64_t sweep_interval;
    atomic_llong last_sweep;   /* monotonic ms */
    authc__pool *pool;
} pg_ctx;

/* A pooled connection; bit i of prepared = STMTS[i]. */
typedef authc__pg_conn pg_conn;

_Static_assert(Q__COUNT <= 32, "prepared bitmask is 32 bits");

/* ---- libpq messages ---------------------------------------------------------- */

/* One line of a libpq message into why (wlen bytes), after `what: `. */
static void say_pq_n(char *why, size_t wlen, const char *what,
                     const char *msg)
{
    size_t n = (size_t)snprintf(why, wlen, "%s: ", what);
    if (n < wlen)
        authc__pg_one_line(why + n, wlen - n,
                           msg && *msg ? msg : "connection lost");
}

static void say_pq(char *why, const char *what, const char *msg)
{
    say_pq_n(why, AUTHC__STORE_WHY, what, msg);
}

/* Collects the result of what was just sent. Returns it (PQclear by the
 * caller), or NULL with why set: the connection is then unusable. */
static PGresult *collect(PGconn *c, int64_t deadline, const char *what,
                         char *why)
{
    bool timed_out;
    PGresult *r = authc__pg_collect(c, deadline, &timed_out);
    if (!r)
        say_pq(why, what, timed_out ? "no answer within the timeout"
                                    : PQerrorMessage(c));
    return r;
}

/* ---- connections (pool hooks) ----------------------------------------------- */

/* Connects without blocking past connect_timeout, then sets the server's
 * statement_timeout. */
static void *pg_connect(void *ud, char *why, size_t wlen)
{
    pg_ctx *x = ud;
    const char *const keys[] = {"dbname", NULL};
    const char *const vals[] = {x->conninfo, NULL};
    pg_conn *pc = calloc(1, sizeof *pc);
    if (!pc || !(pc->c = PQconnectStartParams(keys, vals, 1))) {
        snprintf(why, wlen, "out of memory");
        free(pc);
        return NULL;
    }
    int64_t deadline = authc__store_mono_ms() + x->connect_timeout_ms;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (PQstatus(pc->c) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
           st != PGRES_POLLING_FAILED) {
        int w = authc__pg_wait(pc->c, st == PGRES_POLLING_READING ? POLLIN
                                                             : POLLOUT,
                          deadline);
        if (w <= 0) {
            say_pq_n(why, wlen, "cannot connect", w == 0 ? "timed out"
                                                 : PQerrorMessage(pc->c));
            authc__pg_conn_close(NULL, pc);
            return NULL;
        }
        st = PQconnectPoll(pc->c);
    }
    if (PQstatus(pc->c) != CONNECTION_OK) {
        say_pq_n(why, wlen, "cannot connect", PQerrorMessage(pc->c));
        authc__pg_conn_close(NULL, pc);
        return NULL;
    }
    PQsetNoticeReceiver(pc->c, authc__pg_no_notice, NULL);
    char sql[64];
    snprintf(sql, sizeof sql, "SET statement_timeout = %d", x->timeout_ms);
    PGresult *r = PQsendQuery(pc->c, sql)
                      ? collect(pc->c, authc__store_mono_ms() + x->timeout_ms,
                                "session setup", why)
                      : NULL;
    bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (r && !ok)
        say_pq_n(why, wlen, "session setup", PQresultErrorMessage(r));
    PQclear(r);
    if (!ok) {
        authc__pg_conn_close(NULL, pc);
        return NULL;
    }
    return pc;
}

static const authc__pool_hooks HOOKS = {pg_connect, authc__pg_conn_close,
                                        authc__pg_conn_alive, NULL};

/* ---- statements -------------------------------------------------------------- */

/* Maps a failed result to an error (why set). */
static authc_err result_error(const PGresult *r, int q, char *why)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (state && strcmp(state, "42P01") == 0) {
        snprintf(why, AUTHC__STORE_WHY, "no table " TABLE
                 " (run authc migrate)");
        return AUTHC_ERR_ADAPTER;
    }
    if (q == Q_INCR && state && strncmp(state, "22", 2) == 0) {
        snprintf(why, AUTHC__STORE_WHY, "%s",
                 strcmp(state, "22003") == 0 ? "counter overflow"
                                             : "the value is not a counter");
        return AUTHC_ERR_INVALID;
    }
    char msg[200];
    say_pq_n(msg, sizeof msg, "", PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
    snprintf(why, AUTHC__STORE_WHY, "%s%s (SQLSTATE %s)", STMTS[q].name, msg,
             state ? state : "?");
    return AUTHC_ERR_ADAPTER;
}

/* Sends statement q on pc (preparing it first when new) and collects. */
static PGresult *exec_on(pg_ctx *x, pg_conn *pc, int q,
                         const char *const *vals, const int *lens,
                         const int *fmts, int64_t deadline, char *why)
{
    const pg_stmt *s = &STMTS[q];
    if (!(pc->prepared & (1u << q))) {
        if (!PQsendPrepare(pc->c, s->name, s->sql, s->nparams, NULL)) {
            say_pq(why, "prepare", PQerrorMessage(pc->c));
            return NULL;
        }
        PGresult *r = collect(pc->c, deadline, "prepare", why);
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
            return r;   /* the caller reports the error result */
        PQclear(r);
        pc->prepared |= 1u << q;
    }
    (void)x;
    if (!PQsendQueryPrepared(pc->c, s->name, s->nparams, vals, lens, fmts,
                             s->binary_result)) {
        say_pq(why, s->name, PQerrorMessage(pc->c));
        return NULL;
    }
    return collect(pc->c, deadline, s->name, why);
}

/* Runs statement q on a pooled connection. AUTHC_OK: *out is a successful
 * result (PQclear by the caller). deadline_ms > 0 shortens the wait. */
static authc_err run(pg_ctx *x, int q, const char *const *vals,
                     const int *lens, const int *fmts, int deadline_ms,
                     PGresult **out, char *why)
{
    *out = NULL;
    int wait = deadline_ms > 0 && deadline_ms < x->timeout_ms ? deadline_ms
                                                              : x->timeout_ms;
    void *conn;
    if (authc__pool_acquire(x->pool, wait, &conn, why, AUTHC__STORE_WHY) !=
        AUTHC_OK)
        return AUTHC_ERR_ADAPTER;
    /* The statement's own deadline starts once it has a connection: a
     * call waits at most for a slot, a connect and then the statement. */
    int64_t deadline = authc__store_mono_ms() + wait;
    pg_conn *pc = conn;
    PGresult *r = exec_on(x, pc, q, vals, lens, fmts, deadline, why);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    authc_err rc = AUTHC_OK;
    if (!r)
        rc = AUTHC_ERR_ADAPTER;
    else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = result_error(r, q, why);
    authc__pool_release(x->pool, conn,
                        !r || PQstatus(pc->c) != CONNECTION_OK);
    if (rc != AUTHC_OK)
        PQclear(r);
    else
        *out = r;
    return rc;
}

/* Sweeps a batch of expired rows when sweep_interval has passed (one
 * caller at a time wins the slot; a failed sweep waits for the next). */
static void maybe_sweep(pg_ctx *x)
{
    long long last = atomic_load(&x->last_sweep);
    long long now = authc__store_mono_ms();
    if (now - last < x->sweep_interval ||
        !atomic_compare_exchange_strong(&x->last_sweep, &last, now))
        return;
    char why[AUTHC__STORE_WHY];
    PGresult *r;
    if (run(x, Q_SWEEP, NULL, NULL, NULL, 0, &r, why) == AUTHC_OK)
        PQclear(r);
}

/* Rows changed by a command result. */
static int64_t changed(const PGresult *r)
{
    return strtoll(PQcmdTuples((PGresult *)r), NULL, 10);
}

/* ---- operations ----------------------------------------------------------------- */

static authc_err pg_mget(void *ctx, authc_arena *ar, const char *const *keys,
                         size_t n, authc__store_val *out, char *why)
{
    pg_ctx *x = ctx;
    maybe_sweep(x);
    /* A text[] literal: {"k1","k2"} with " and \ escaped. */
    authc__buf a;
    authc__buf_init(&a, ar, 2 * n * (AUTHC_STORE_MAX_KEY * 2 + 3) + 3);
    authc__buf_addc(&a, '{');
    for (size_t i = 0; i < n; i++) {
        authc__buf_adds(&a, i ? ",\"" : "\"");
        for (const char *k = keys[i]; *k; k++) {
            if (*k == '"' || *k == '\\')
                authc__buf_addc(&a, '\\');
            authc__buf_addc(&a, *k);
        }
        authc__buf_addc(&a, '"');
    }
    authc__buf_addc(&a, '}');
    if (a.err != AUTHC_OK)
        return a.err;
    const char *vals[1] = {a.p};
    PGresult *r;
    authc_err rc = run(x, Q_MGET, vals, NULL, NULL, 0, &r, why);
    for (int row = 0; rc == AUTHC_OK && row < PQntuples(r); row++) {
        const char *k = PQgetvalue(r, row, 0);
        size_t kn = (size_t)PQgetlength(r, row, 0);
        size_t vn = (size_t)PQgetlength(r, row, 1);
        for (size_t i = 0; i < n && rc == AUTHC_OK; i++) {
            if (strlen(keys[i]) != kn || memcmp(keys[i], k, kn) != 0)
                continue;
            if (vn > AUTHC_STORE_MAX_VALUE) {
                snprintf(why, AUTHC__STORE_WHY, "value too large");
                rc = AUTHC_ERR_ADAPTER;
            } else if (!(out[i].data = authc__store_dup(
                             ar, PQgetvalue(r, row, 1), vn))) {
                rc = AUTHC_ERR_NOMEM;
            }
            out[i].len = vn;
        }
    }
    PQclear(r);
    return rc;
}

static authc_err pg_set(void *ctx, const char *key, const void *v, size_t len,
                        int64_t ttl_ms, bool nx, bool *stored, char *why)
{
    pg_ctx *x = ctx;
    maybe_sweep(x);
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", (long long)ttl_ms);
    const char *vals[3] = {key, v, ttl};
    const int lens[3] = {0, (int)len, 0};
    const int fmts[3] = {0, 1, 0};
    PGresult *r;
    authc_err rc = run(x, nx ? Q_SETNX : Q_SET, vals, lens, fmts, 0, &r, why);
    *stored = rc == AUTHC_OK && changed(r) > 0;
    PQclear(r);
    return rc;
}

static authc_err pg_if_owner(void *ctx, const char *key, const char *owner,
                             int64_t ttl_ms, bool *done, char *why)
{
    pg_ctx *x = ctx;
    maybe_sweep(x);
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", (long long)ttl_ms);
    const char *vals[3] = {key, owner, ttl};
    const int lens[3] = {0, (int)strlen(owner), 0};
    const int fmts[3] = {0, 1, 0};
    PGresult *r;
    authc_err rc = run(x, ttl_ms ? Q_RENEW : Q_DELOWN, vals, lens, fmts, 0, &r,
                       why);
    *done = rc == AUTHC_OK && changed(r) > 0;
    PQclear(r);
    return rc;
}

static authc_err pg_del(void *ctx, const char *key, bool *deleted, char *why)
{
    pg_ctx *x = ctx;
    maybe_sweep(x);
    const char *vals[1] = {key};
    PGresult *r;
    authc_err rc = run(x, Q_DEL, vals, NULL, NULL, 0, &r, why);
    *deleted = rc == AUTHC_OK && PQntuples(r) == 1 &&
               strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return rc;
}

static authc_err pg_scan(void *ctx, authc_arena *ar, const char *prefix, size_t max,
                         const char **keys, size_t *n, char *why)
{
    pg_ctx *x = ctx;
    char lim[24];
    snprintf(lim, sizeof lim, "%zu", max);
    const char *vals[2] = {prefix, lim};
    PGresult *r;
    authc_err rc = run(x, Q_SCAN, vals, NULL, NULL, 0, &r, why);
    for (int row = 0; rc == AUTHC_OK && row < PQntuples(r) && *n < max; row++)
        if (!(keys[(*n)++] = authc_arena_strdup(ar, PQgetvalue(r, row, 0))))
            rc = AUTHC_ERR_NOMEM;
    PQclear(r);
    return rc;
}

static authc_err pg_incr(void *ctx, const char *key, int64_t by,
                         int64_t ttl_ms, int64_t *value, char *why)
{
    pg_ctx *x = ctx;
    maybe_sweep(x);
    char byv[24], ttl[24];
    snprintf(byv, sizeof byv, "%lld", (long long)by);
    snprintf(ttl, sizeof ttl, "%lld", (long long)ttl_ms);
    const char *vals[3] = {key, byv, ttl};
    PGresult *r;
    authc_err rc = run(x, Q_INCR, vals, NULL, NULL, 0, &r, why);
    if (rc == AUTHC_OK &&
        (PQntuples(r) != 1 ||
         !authc__store_parse_i64((const uint8_t *)PQgetvalue(r, 0, 0),
                                 (size_t)PQgetlength(r, 0, 0), value))) {
        snprintf(why, AUTHC__STORE_WHY, "incr: unexpected result");
        rc = AUTHC_ERR_ADAPTER;
    }
    PQclear(r);
    return rc;
}

static authc_err pg_sweep(void *ctx, int64_t *removed, char *why)
{
    pg_ctx *x = ctx;
    PGresult *r;
    authc_err rc = run(x, Q_SWEEP, NULL, NULL, NULL, 0, &r, why);
    *removed = rc == AUTHC_OK ? changed(r) : 0;
    PQclear(r);
    if (rc == AUTHC_OK)
        atomic_store(&x->last_sweep, authc__store_mono_ms());
    return rc;
}

static authc_err pg_ping(void *ctx, int deadline_ms, char *why)
{
    PGresult *r;
    authc_err rc = run(ctx, Q_PING, NULL, NULL, NULL, deadline_ms, &r, why);
    PQclear(r);
    return rc;
}

/* Plain multi-statement SQL on a pooled connection (migrations). */
static authc_err pg_migrate(void *ctx, char *why)
{
    pg_ctx *x = ctx;
    void *conn;
    if (authc__pool_acquire(x->pool, x->timeout_ms, &conn, why,
                            AUTHC__STORE_WHY) != AUTHC_OK)
        return AUTHC_ERR_ADAPTER;
    pg_conn *pc = conn;
    PGresult *r = PQsendQuery(pc->c, MIGRATE_SQL)
                      ? collect(pc->c, authc__store_mono_ms() +
                                           x->timeout_ms * 4LL,
                                "migrate", why)
                      : NULL;
    authc_err rc = r && PQresultStatus(r) == PGRES_COMMAND_OK
                       ? AUTHC_OK
                       : AUTHC_ERR_ADAPTER;
    if (r && rc != AUTHC_OK)
        say_pq(why, "migrate", PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
    else if (!r)
        say_pq(why, "migrate", PQerrorMessage(pc->c));
    bool broken = !r || PQtransactionStatus(pc->c) != PQTRANS_IDLE;
    PQclear(r);
    authc__pool_release(x->pool, conn, broken);
    return rc;
}

/* ---- open / close ------------------------------------------------------------------ */

static void pg_close(void *ctx)
{
    pg_ctx *x = ctx;
    if (x)
        authc__pg_wire_free(x->pool, x->conninfo);
    free(x);
}

static authc_err pg_open(const authc__store_opts *o, void **ctx, char *why)
{
    (void)why;
    pg_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return AUTHC_ERR_NOMEM;
    x->timeout_ms = o->timeout_ms;
    x->connect_timeout_ms = o->connect_timeout_ms;
    x->sweep_interval = o->sweep_interval_ms;
    atomic_init(&x->last_sweep, authc__store_mono_ms());
    x->conninfo = strdup(o->url);
    x->pool = authc__pool_new(&HOOKS, x, o->pool_size);
    if (!x->conninfo || !x->pool) {
        pg_close(x);
        return AUTHC_ERR_NOMEM;
    }
    *ctx = x;
    return AUTHC_OK;
}

static const char *const SCHEMES[] = {"postgres://", "postgresql://", NULL};

const authc__store_backend authc__store_postgres = {
    .name = "postgres",
    .schemes = SCHEMES,
    .open = pg_open,
    .close = pg_close,
    .migrate = pg_migrate,
    .ping = pg_ping,
    .mget = pg_mget,
    .set = pg_set,
    .if_owner = pg_if_owner,
    .del = pg_del,
    .incr = pg_incr,
    .sweep = pg_sweep,
    .scan = pg_scan,
};
