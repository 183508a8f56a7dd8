/* pg_conn.c — PostgreSQL connections for the backend: URL and pool set-up,
 * one statement run with deadlines and reconnects, and migrate.
 *
 * URL: postgres://user:pass@host:port/db?pool_size=4&statement_timeout=5000&…
 * pool_size (1..64, default 4), statement_timeout (ms, 100..600000,
 * default 5000) and session_batches (1..64, see default_batches) are ours
 * and removed before the URL goes to libpq; every other query parameter is
 * a libpq one (sslmode, connect_timeout, …).
 * connect_timeout defaults to 5 s and application_name to "authc".
 *
 * Concurrency: a pool (lib/util/pool.c) of N connections, each used by one
 * thread at a time; statements are prepared lazily once per connection.
 * Every wait on the server has a client-side deadline too
 * (statement_timeout + 2 s), so a frozen server cannot hang a thread; such
 * a connection is dropped. A connection the server closed (restart) is
 * noticed before use and reopened; idempotent statements are retried once
 * on a fresh connection after a connection failure. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters/postgres_int.h"
#include "util/parse_int.h"
#include "util/util_int.h"

#define PG_CONNECT_TIMEOUT_DEFAULT_S "5"
#define PG_MAX_URL 4096
/* Key of the advisory lock that serialises concurrent migrate() calls. */
#define PG_MIGRATE_LOCK "7283946151"

#define STMTS authc__pg_stmts

/* ---- error text --------------------------------------------------------- */

/* Logs a failed statement: SQLSTATE and primary message only, because the
 * DETAIL of e.g. a unique violation quotes the row (a session token). */
static void log_result_error(authc_adapter *self, pg_ctx *ctx,
                             const char *what, const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *prim = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
                         : NULL;
    char msg[300];
    authc__pg_one_line(msg, sizeof msg, prim ? prim : "unknown error");
    authc__adapter_log(self, "error", "%s: %s failed: %s (SQLSTATE %s)",
                       ctx->label, what, msg, state ? state : "?");
}

static void log_conn_error(authc_adapter *self, pg_ctx *ctx,
                           const char *what, PGconn *c)
{
    char msg[400];
    authc__pg_one_line(msg, sizeof msg, c ? PQerrorMessage(c) : "out of memory");
    authc__adapter_log(self, "error", "%s: %s: %s", ctx->label, what,
                       msg[0] ? msg : "connection lost");
}

/* ---- connections -------------------------------------------------------- */

/* Sends one plain statement (no parameters) and waits; result owned by the
 * caller. Used for session setup and migrations. */
static PGresult *exec_plain(PGconn *c, const char *sql, int64_t timeout_ms,
                            bool *timed_out)
{
    *timed_out = false;
    if (!PQsendQuery(c, sql))
        return NULL;
    return authc__pg_collect(c, authc__pg_mono_ms() + timeout_ms, timed_out);
}

/* Pool hook: opens a connection and sets the session's statement_timeout.
 * Returns a pg_conn owned by the pool, or NULL with the reason (no
 * password in it) in why. */
static void *conn_open(void *ud, char *why, size_t wlen)
{
    pg_ctx *ctx = ud;
    PGconn *c = PQconnectdb(ctx->conninfo);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        char msg[400];
        authc__pg_one_line(msg, sizeof msg,
                           c ? PQerrorMessage(c) : "out of memory");
        /* libpq names host and user, not the password; scrub it anyway. */
        authc__scrub_url_secrets(msg, sizeof msg, ctx->conninfo);
        snprintf(why, wlen, "cannot connect: %s", msg);
        if (c)
            PQfinish(c);
        return NULL;
    }
    PQsetNoticeReceiver(c, authc__pg_no_notice, NULL);
    char sql[64];
    snprintf(sql, sizeof sql, "SET statement_timeout = %d",
             ctx->stmt_timeout_ms);
    bool to;
    PGresult *r = exec_plain(c, sql, ctx->stmt_timeout_ms + PG_CLIENT_SLACK_MS,
                             &to);
    pg_conn *pc = NULL;
    if (r && PQresultStatus(r) == PGRES_COMMAND_OK) {
        /* Prepared statements keep one generic plan: PostgreSQL would
         * otherwise plan the batched session lookup (= ANY of an array,
         * postgres_batch.c) anew on every run, since its generic plan
         * guesses 10 elements and looks dearer than a custom plan for 1
         * (6x its CPU). A server older than 12 lacks the setting: then
         * it plans as it likes (slower, same answers). */
        PQclear(r);
        r = exec_plain(c, "SET plan_cache_mode = force_generic_plan",
                       ctx->stmt_timeout_ms + PG_CLIENT_SLACK_MS, &to);
        if (r && PQresultStatus(r) != PGRES_COMMAND_OK &&
            PQstatus(c) == CONNECTION_OK && PQserverVersion(c) < 120000) {
            PQclear(r);
            r = PQmakeEmptyPGresult(c, PGRES_COMMAND_OK);
        }
    }
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        char msg[300];
        const char *prim =
            r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        authc__pg_one_line(msg, sizeof msg,
                           prim ? prim : (to ? "timed out" : PQerrorMessage(c)));
        snprintf(why, wlen, "session setup failed: %s", msg);
    } else if (!(pc = calloc(1, sizeof *pc))) {
        snprintf(why, wlen, "out of memory");
    }
    PQclear(r);
    if (!pc) {
        PQfinish(c);
        return NULL;
    }
    pc->c = c;
    return pc;
}

static const authc__pool_hooks PG_POOL_HOOKS = {
    conn_open, authc__pg_conn_close, authc__pg_conn_alive,
    authc__pg_conn_reset};

/* Takes a pooled connection of self (owned by the pool: give it back with
 * authc__pool_release), waiting at most the statement deadline; NULL on
 * failure (logged: the caller returns AUTHC_ERR_ADAPTER). */
static pg_conn *acquire(authc_adapter *self)
{
    pg_ctx *ctx = self->ctx;
    char why[450];
    void *conn;
    if (authc__pool_acquire(ctx->pool,
                            ctx->stmt_timeout_ms + PG_CLIENT_SLACK_MS, &conn,
                            why, sizeof why) != AUTHC_OK) {
        authc__adapter_log(self, "error", "%s: %s", ctx->label, why);
        return NULL;
    }
    return conn;
}

/* Outcome of one attempt at a statement. */
typedef enum { RUN_OK, RUN_SQL_ERROR, RUN_CONN_ERROR, RUN_TIMEOUT } run_rc;

/* Runs STMTS[st] once on pc (preparing it first if needed). lens NULL:
 * text parameters and result; else binary ones of those lengths, and a
 * binary result. *res gets the result on RUN_OK / RUN_SQL_ERROR (owned by
 * the caller). */
static run_rc run_once(pg_ctx *ctx, pg_conn *pc, int st,
                       const char *const *vals, const int *lens,
                       PGresult **res)
{
    const pg_stmt *s = &STMTS[st];
    int64_t deadline = authc__pg_mono_ms() + ctx->stmt_timeout_ms + PG_CLIENT_SLACK_MS;
    bool to;
    *res = NULL;
    if (!(pc->prepared & (1u << st))) {
        if (!PQsendPrepare(pc->c, s->name, s->sql, s->nparams, NULL))
            return RUN_CONN_ERROR;
        PGresult *r = authc__pg_collect(pc->c, deadline, &to);
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
    static const int BINARY[1] = {1}; /* binary runs have 1 parameter */
    if (lens && s->nparams != 1)
        return RUN_SQL_ERROR;
    if (!PQsendQueryPrepared(pc->c, s->name, s->nparams, vals, lens,
                             lens ? BINARY : NULL, lens ? 1 : 0))
        return RUN_CONN_ERROR;
    PGresult *r = authc__pg_collect(pc->c, deadline, &to);
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
authc_err authc__pg_run_bin(authc_adapter *self, int st,
                            const char *const *vals, const int *lens,
                            PGresult **out)
{
    pg_ctx *ctx = self->ctx;
    pg_conn *pc = acquire(self);
    *out = NULL;
    if (!pc)
        return AUTHC_ERR_ADAPTER;
    authc_err e = AUTHC_OK;
    bool broken = false;
    for (int attempt = 0;; attempt++) {
        PGresult *r;
        run_rc rc = run_once(ctx, pc, st, vals, lens, &r);
        if (rc == RUN_OK) {
            *out = r;
            break;
        }
        e = AUTHC_ERR_ADAPTER;
        if (rc == RUN_SQL_ERROR) {
            const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            if (attempt == 0 && state && strcmp(state, "26000") == 0) {
                PQclear(r);
                pc->prepared = 0;
                continue;
            }
            log_result_error(self, ctx, STMTS[st].name + 6, r);
            PQclear(r);
            break;
        }
        PQclear(r);
        broken = true;
        if (rc == RUN_TIMEOUT) {
            /* No PQcancel: it connects without a timeout and would hang on
             * the same frozen server; the server's statement_timeout ends
             * the query on its side. */
            authc__adapter_log(self, "error",
                               "%s: %s: no answer within %d ms, dropping "
                               "the connection", ctx->label,
                               STMTS[st].name + 6,
                               ctx->stmt_timeout_ms + PG_CLIENT_SLACK_MS);
            break;
        }
        log_conn_error(self, ctx, STMTS[st].name + 6, pc->c);
        if (attempt > 0 || !STMTS[st].idempotent)
            break;
        char why[450];
        void *conn = pc;
        if (authc__pool_replace(ctx->pool, &conn, why, sizeof why)) {
            authc__adapter_log(self, "error", "%s: %s", ctx->label, why);
            return AUTHC_ERR_ADAPTER; /* the slot is already free */
        }
        pc = conn;
        broken = false;
        e = AUTHC_OK;
    }
    authc__pool_release(ctx->pool, pc, broken);
    return e;
}

authc_err authc__pg_run(authc_adapter *self, int st, const char *const *vals,
                        PGresult **out)
{
    return authc__pg_run_bin(self, st, vals, NULL, out);
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

authc_err authc__pg_migrate(authc_adapter *self)
{
    pg_ctx *ctx = self->ctx;
    pg_conn *pc = acquire(self);
    if (!pc)
        return AUTHC_ERR_ADAPTER;
    bool lost = false;
    authc_err e;
    /* No statement timeout while migrating; one migrator at a time (two
     * concurrent CREATE TABLE IF NOT EXISTS can still collide). */
    e = migrate_one(self, ctx, pc->c, "SET statement_timeout = 0", &lost);
    if (!e)
        e = migrate_one(self, ctx, pc->c,
                        "SELECT pg_advisory_lock(" PG_MIGRATE_LOCK ")", &lost);
    for (size_t i = 0; !e && i < authc__pg_migrate_ntables; i++)
        e = migrate_one(self, ctx, pc->c, authc__pg_migrate_tables[i], &lost);
    for (size_t i = 0; !e && i < authc__pg_migrate_nindexes; i++) {
        if (migrate_one(self, ctx, pc->c, authc__pg_migrate_indexes[i],
                        &lost) &&
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
    authc__pool_release(ctx->pool, pc, true);
    if (!e)
        authc__adapter_log(self, "info", "%s: schema is up to date",
                           ctx->label);
    return e;
}


/* ---- URL and state ------------------------------------------------------ */

/* Our own URL parameters. */
typedef struct pg_params {
    int pool, stmt_ms;
    int batches; /* session_batches; 0 = not given */
} pg_params;

/* Reads our integer parameter `name` (lo..hi) from qp into *out: 1 taken,
 * 0 another one, -1 a bad value (err says so; unit follows the range). */
static int own_param(const authc__qparam *qp, const char *name, int lo,
                     int hi, const char *unit, int *out, char *err,
                     size_t errlen)
{
    int64_t x;
    if (!authc__qparam_is(qp, name))
        return 0;
    if (authc__parse_i64_n(qp->val, qp->vlen, lo, hi, &x)) {
        authc__set_err(err, errlen, "postgres: %s must be %d..%d%s", name,
                       lo, hi, unit);
        return -1;
    }
    *out = (int)x;
    return 1;
}

/* Splits our own query parameters out of url: writes the libpq URL to
 * `out` (heap, caller frees) and fills *pp. */
static bool split_url(const char *url, char **out, pg_params *pp,
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
    size_t n = q ? (size_t)(q - url) : len;
    memcpy(u, url, n);
    bool have_ct = false, have_app = false;
    char sep = '?';
    authc__qparam qp;
    const char *p = q ? q + 1 : "";
    while (authc__query_next(&p, &qp)) {
        int rc = own_param(&qp, "pool_size", 1, AUTHC__POOL_MAX, "",
                           &pp->pool, err, errlen);
        if (!rc)
            rc = own_param(&qp, "statement_timeout", 100, 600000, " (ms)",
                           &pp->stmt_ms, err, errlen);
        if (!rc)
            rc = own_param(&qp, "session_batches", 1, AUTHC__POOL_MAX, "",
                           &pp->batches, err, errlen);
        if (rc < 0) {
            free(u);
            return false;
        }
        if (!rc) {
            have_ct |= authc__qparam_is(&qp, "connect_timeout");
            have_app |= authc__qparam_is(&qp, "application_name");
            u[n++] = sep;
            sep = '&';
            memcpy(u + n, qp.raw, qp.rawlen);
            n += qp.rawlen;
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

/* Fills label with "postgres host:port/dbname" from the parsed conninfo.
 * libpq's parse errors may quote a piece of the URL (a badly
 * percent-encoded password): the message is scrubbed of its secrets. */
static bool make_label(const char *conninfo, char *label, size_t len,
                       char *err, size_t errlen)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    if (!opts) {
        /* Scrubbed whole, before any truncation could cut a password. */
        const char *why = perr ? perr : "out of memory";
        size_t n = strlen(why) + 1;
        char *msg = malloc(n);
        if (msg) {
            authc__pg_one_line(msg, n, why);
            authc__scrub_url_secrets(msg, n, conninfo);
        }
        authc__set_err(err, errlen, "postgres: bad URL: %s",
                       msg ? msg : "out of memory");
        free(msg);
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

void authc__pg_ctx_free(pg_ctx *ctx)
{
    if (ctx) {
        authc__pg_batch_free(ctx->batch);
        authc__pg_wire_free(ctx->pool, ctx->conninfo);
    }
    free(ctx);
}

/* How many batched session lookups may run at once when the URL does not
 * say (session_batches): half the CPUs this process may run on, at least
 * 1, at most the pool. Every thread beyond that waits for the next batch,
 * and that is the point: one statement for several tokens costs the
 * server 40-65% less CPU per token than one each (PostgreSQL 15). On a
 * machine of 1-3 CPUs, which authc and a local PostgreSQL share, CPU is
 * what limits throughput, so one batch at a time is best; with more CPUs
 * the server can run several statements in parallel, and a single
 * connection would cap it at one core. */
static int default_batches(int pool)
{
    cpu_set_t cs;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (sched_getaffinity(0, sizeof cs, &cs) == 0 && CPU_COUNT(&cs) > 0)
        n = CPU_COUNT(&cs);
    n /= 2;
    return n < 1 ? 1 : n > pool ? pool : (int)n;
}

/* Owned by the caller (authc__pg_ctx_free); NULL with err set. */
pg_ctx *authc__pg_ctx_new(const char *url, char *err, size_t errlen)
{
    pg_params pp = {PG_POOL_DEFAULT, PG_STMT_TIMEOUT_DEFAULT_MS, 0};
    char *conninfo = NULL;
    if (!split_url(url, &conninfo, &pp, err, errlen))
        return NULL;
    char label[300];
    if (!make_label(conninfo, label, sizeof label, err, errlen)) {
        authc__free_secret(conninfo);
        return NULL;
    }
    pg_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        authc__free_secret(conninfo);
        authc__set_err(err, errlen, "%s: out of memory", label);
        return NULL;
    }
    ctx->conninfo = conninfo;
    snprintf(ctx->label, sizeof ctx->label, "%s", label);
    ctx->stmt_timeout_ms = pp.stmt_ms;
    int batches = pp.batches ? pp.batches : default_batches(pp.pool);
    if (batches > pp.pool)
        batches = pp.pool; /* more would only wait for a connection */
    if (!(ctx->pool = authc__pool_new(&PG_POOL_HOOKS, ctx, pp.pool)) ||
        !(ctx->batch = authc__pg_batch_new(batches))) {
        authc__set_err(err, errlen, "%s: out of memory", label);
        authc__pg_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}
