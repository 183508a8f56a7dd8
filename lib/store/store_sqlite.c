/* store_sqlite.c — the "sqlite:PATH" store backend: one table with an
 * expires_at column in a SQLite file (WAL, created with mode 0600).
 *
 * One connection per handle behind a mutex (calls are short; SQLite has
 * one writer anyway). Several processes may share the file: single-row
 * writes are single statements (INSERT … ON CONFLICT), incr is a
 * BEGIN IMMEDIATE transaction; lock waits end after `timeout` ms
 * (busy_timeout), so no call hangs. expires_at is wall-clock epoch ms. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "adapters/sqlite_wire_int.h"
#include "store/store_be_int.h"
#include "util/util_int.h"

#define TABLE "authc_store"

enum {
    Q_GET, Q_SET, Q_SETNX, Q_RENEW, Q_DELOWN, Q_DEL, Q_UPDV, Q_SWEEP, Q_PING,
    Q_BEGIN, Q_COMMIT, Q_ROLLBACK, Q_SCAN, Q__COUNT
};

static const char *const SQL[Q__COUNT] = {
    [Q_GET] = "SELECT v FROM " TABLE " WHERE k = ?1 AND expires_at > ?2",
    [Q_SET] = "INSERT INTO " TABLE " (k, v, expires_at) VALUES (?1, ?2, ?3) "
              "ON CONFLICT (k) DO UPDATE SET v = excluded.v, "
              "expires_at = excluded.expires_at",
    [Q_SETNX] = "INSERT INTO " TABLE " (k, v, expires_at) VALUES (?1, ?2, ?3) "
                "ON CONFLICT (k) DO UPDATE SET v = excluded.v, "
                "expires_at = excluded.expires_at "
                "WHERE " TABLE ".expires_at <= ?4",
    [Q_RENEW] = "UPDATE " TABLE " SET expires_at = ?3 "
                "WHERE k = ?1 AND v = ?2 AND expires_at > ?4",
    [Q_DELOWN] = "DELETE FROM " TABLE " WHERE k = ?1 AND v = ?2 "
                 "AND expires_at > ?3",
    [Q_DEL] = "DELETE FROM " TABLE " WHERE k = ?1 RETURNING expires_at",
    [Q_UPDV] = "UPDATE " TABLE " SET v = ?2 WHERE k = ?1",
    [Q_SWEEP] = "DELETE FROM " TABLE " WHERE expires_at <= ?1",
    [Q_PING] = "SELECT 1 FROM " TABLE " LIMIT 0",
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    /* substr, not LIKE: LIKE is case-insensitive and treats % and _. */
    [Q_SCAN] = "SELECT k FROM " TABLE " WHERE k >= ?1 AND substr(k, 1, length(?1)) = ?1 "
               "AND expires_at > ?2 ORDER BY k LIMIT ?3",
};

static const char MIGRATE_SQL[] =
    "CREATE TABLE IF NOT EXISTS " TABLE " ("
    " k TEXT PRIMARY KEY NOT NULL,"
    " v BLOB NOT NULL,"
    " expires_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS " TABLE "_expires ON " TABLE " (expires_at);";

typedef struct sq_ctx {
    pthread_mutex_t mu;
    sqlite3 *db;
    sqlite3_stmt *stmt[Q__COUNT];   /* prepared on first use */
    int timeout_ms;
    int64_t sweep_interval;
    int64_t last_sweep;             /* monotonic ms */
} sq_ctx;

/* Reason of the last failure on db, in why. */
static authc_err fail(sq_ctx *c, const char *what, char *why)
{
    int code = sqlite3_extended_errcode(c->db);
    const char *msg = sqlite3_errmsg(c->db);
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
        snprintf(why, AUTHC__STORE_WHY, "%s: database locked beyond the "
                 "timeout", what);
    else if (msg && strstr(msg, "no such table"))
        snprintf(why, AUTHC__STORE_WHY, "%s: no table " TABLE
                 " (run authc migrate)", what);
    else
        snprintf(why, AUTHC__STORE_WHY, "%s: %s", what,
                 msg ? msg : "unknown error");
    return AUTHC_ERR_ADAPTER;
}

/* The reset statement q (prepared once), or NULL with why set. */
static sqlite3_stmt *stmt(sq_ctx *c, int q, char *why)
{
    if (!c->stmt[q] &&
        sqlite3_prepare_v3(c->db, SQL[q], -1, SQLITE_PREPARE_PERSISTENT,
                           &c->stmt[q], NULL) != SQLITE_OK) {
        fail(c, "prepare", why);
        return NULL;
    }
    sqlite3_reset(c->stmt[q]);
    sqlite3_clear_bindings(c->stmt[q]);
    return c->stmt[q];
}

/* Steps s to completion (it must return no rows), leaving it reset. */
static authc_err run(sq_ctx *c, sqlite3_stmt *s, const char *what, char *why)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? AUTHC_OK : fail(c, what, why);
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static void bind_blob(sqlite3_stmt *s, int i, const void *v, size_t n)
{
    sqlite3_bind_blob64(s, i, n ? v : "", n, SQLITE_STATIC);
}

/* Deletes expired rows; *removed = how many. c->mu held. */
static authc_err sweep_locked(sq_ctx *c, int64_t *removed, char *why)
{
    sqlite3_stmt *s = stmt(c, Q_SWEEP, why);
    if (!s)
        return AUTHC_ERR_ADAPTER;
    sqlite3_bind_int64(s, 1, authc__now_ms());
    authc_err rc = run(c, s, "sweep", why);
    *removed = rc == AUTHC_OK ? sqlite3_changes64(c->db) : 0;
    c->last_sweep = authc__store_mono_ms();
    return rc;
}

/* Takes c->mu, waiting at most the call timeout (threads queue here while
 * one waits on another process's lock): false with why on timeout. The
 * deadline is on CLOCK_REALTIME (pthread_mutex_timedlock: sanitizers know
 * it, unlike clocklock); a clock step only stretches or cuts one wait. */
static bool lock(sq_ctx *c, char *why)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += c->timeout_ms / 1000;
    until.tv_nsec += (long)(c->timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    if (pthread_mutex_timedlock(&c->mu, &until) == 0)
        return true;
    snprintf(why, AUTHC__STORE_WHY, "busy beyond the timeout");
    return false;
}

/* Starts a call: locks c, sweeps when due (a failed sweep is retried next
 * time and does not fail the call), *now = the wall-clock time. Returns
 * statement q with key bound to ?1 (unless key is NULL), or NULL with why
 * set and c unlocked. */
static sqlite3_stmt *enter(sq_ctx *c, int q, const char *key, int64_t *now,
                           char *why)
{
    if (!lock(c, why))
        return NULL;
    if (authc__store_mono_ms() - c->last_sweep >= c->sweep_interval) {
        char ignored[AUTHC__STORE_WHY];
        int64_t n;
        sweep_locked(c, &n, ignored);
    }
    *now = authc__now_ms();
    sqlite3_stmt *s = stmt(c, q, why);
    if (!s)
        pthread_mutex_unlock(&c->mu);
    else if (key)
        bind_text(s, 1, key);
    return s;
}

/* Ends a call begun by enter(): resets s, unlocks c; returns rc. */
static authc_err leave(sq_ctx *c, sqlite3_stmt *s, authc_err rc)
{
    sqlite3_reset(s);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Steps Q_GET (s) for key as of now: SQLITE_ROW with *v, *len = the live
 * value (valid until s is reset), SQLITE_DONE when there is none, else
 * SQLite's error. */
static int read_value(sqlite3_stmt *s, const char *key, int64_t now,
                      const void **v, size_t *len)
{
    sqlite3_reset(s);
    bind_text(s, 1, key);
    sqlite3_bind_int64(s, 2, now);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        *v = sqlite3_column_blob(s, 0);  /* before _bytes, as SQLite asks */
        *len = (size_t)sqlite3_column_bytes(s, 0);
    }
    return r;
}

static authc_err sq_mget(void *ctx, authc_arena *ar, const char *const *keys,
                         size_t n, authc__store_val *out, char *why)
{
    sq_ctx *c = ctx;
    int64_t now;
    sqlite3_stmt *s = enter(c, Q_GET, NULL, &now, why);
    if (!s)
        return AUTHC_ERR_ADAPTER;
    authc_err rc = AUTHC_OK;
    for (size_t i = 0; i < n && rc == AUTHC_OK; i++) {
        const void *v;
        size_t len;
        int r = read_value(s, keys[i], now, &v, &len);
        if (r == SQLITE_ROW) {
            out[i].data = authc__store_dup(ar, v, len);
            out[i].len = len;
            if (!out[i].data)
                rc = AUTHC_ERR_NOMEM;
        } else if (r != SQLITE_DONE) {
            rc = fail(c, "select", why);
        }
    }
    return leave(c, s, rc);
}

static authc_err sq_set(void *ctx, const char *key, const void *v, size_t len,
                        int64_t ttl_ms, bool nx, bool *stored, char *why)
{
    sq_ctx *c = ctx;
    int64_t now;
    sqlite3_stmt *s = enter(c, nx ? Q_SETNX : Q_SET, key, &now, why);
    if (!s)
        return AUTHC_ERR_ADAPTER;
    bind_blob(s, 2, v, len);
    sqlite3_bind_int64(s, 3, now + ttl_ms);
    if (nx)
        sqlite3_bind_int64(s, 4, now);
    authc_err rc = run(c, s, "insert", why);
    *stored = rc == AUTHC_OK && sqlite3_changes64(c->db) > 0;
    return leave(c, s, rc);
}

static authc_err sq_if_owner(void *ctx, const char *key, const char *owner,
                             int64_t ttl_ms, bool *done, char *why)
{
    sq_ctx *c = ctx;
    int64_t now;
    sqlite3_stmt *s = enter(c, ttl_ms ? Q_RENEW : Q_DELOWN, key, &now, why);
    if (!s)
        return AUTHC_ERR_ADAPTER;
    bind_blob(s, 2, owner, strlen(owner));
    if (ttl_ms) {
        sqlite3_bind_int64(s, 3, now + ttl_ms);
        sqlite3_bind_int64(s, 4, now);
    } else {
        sqlite3_bind_int64(s, 3, now);
    }
    authc_err rc = run(c, s, ttl_ms ? "renew" : "delete", why);
    *done = rc == AUTHC_OK && sqlite3_changes64(c->db) > 0;
    return leave(c, s, rc);
}

static authc_err sq_del(void *ctx, const char *key, bool *deleted, char *why)
{
    sq_ctx *c = ctx;
    int64_t now;
    sqlite3_stmt *s = enter(c, Q_DEL, key, &now, why);
    if (!s)
        return AUTHC_ERR_ADAPTER;
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        *deleted = sqlite3_column_int64(s, 0) > now;
        r = sqlite3_step(s);
    }
    return leave(c, s, r == SQLITE_DONE ? AUTHC_OK : fail(c, "delete", why));
}

static authc_err sq_scan(void *ctx, authc_arena *ar, const char *prefix, size_t max,
                         const char **keys, size_t *n, char *why)
{
    sq_ctx *c = ctx;
    int64_t now;
    sqlite3_stmt *s = enter(c, Q_SCAN, prefix, &now, why);
    if (!s)
        return AUTHC_ERR_ADAPTER;
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)max);
    int r;
    authc_err rc = AUTHC_OK;
    while (rc == AUTHC_OK && *n < max && (r = sqlite3_step(s)) == SQLITE_ROW)
        if (!(keys[(*n)++] = authc_arena_strdup(ar, (const char *)sqlite3_column_text(s, 0))))
            rc = AUTHC_ERR_NOMEM;
    if (rc == AUTHC_OK && *n < max && r != SQLITE_DONE)
        rc = fail(c, "scan", why);
    return leave(c, s, rc);
}

/* incr's read-modify-write, inside BEGIN IMMEDIATE (c->mu held). */
static authc_err incr_tx(sq_ctx *c, const char *key, int64_t by,
                         int64_t ttl_ms, int64_t now, int64_t *value,
                         char *why)
{
    sqlite3_stmt *s = stmt(c, Q_GET, why);
    if (!s)
        return AUTHC_ERR_ADAPTER;
    const void *v;
    size_t len;
    int r = read_value(s, key, now, &v, &len);
    bool found = r == SQLITE_ROW;
    int64_t cur = 0;
    bool counter = !found || authc__store_parse_i64(v, len, &cur);
    sqlite3_reset(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return fail(c, "select", why);
    if (!counter || !authc__store_add_i64(cur, by, value)) {
        snprintf(why, AUTHC__STORE_WHY, "%s",
                 counter ? "counter overflow" : "the value is not a counter");
        return AUTHC_ERR_INVALID;
    }
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", (long long)*value);
    s = stmt(c, found ? Q_UPDV : Q_SET, why);
    if (!s)
        return AUTHC_ERR_ADAPTER;
    bind_text(s, 1, key);
    bind_blob(s, 2, num, (size_t)n);
    if (!found)
        sqlite3_bind_int64(s, 3, now + ttl_ms);
    return run(c, s, "incr", why);
}

static authc_err sq_incr(void *ctx, const char *key, int64_t by,
                         int64_t ttl_ms, int64_t *value, char *why)
{
    sq_ctx *c = ctx;
    int64_t now;
    sqlite3_stmt *b = enter(c, Q_BEGIN, NULL, &now, why);
    if (!b)
        return AUTHC_ERR_ADAPTER;
    authc_err rc = AUTHC_ERR_ADAPTER;
    if (run(c, b, "begin", why) == AUTHC_OK) {
        rc = incr_tx(c, key, by, ttl_ms, now, value, why);
        sqlite3_stmt *e = stmt(c, rc == AUTHC_OK ? Q_COMMIT : Q_ROLLBACK, why);
        if (!e || run(c, e, rc == AUTHC_OK ? "commit" : "rollback", why) !=
                      AUTHC_OK) {
            if (sqlite3_get_autocommit(c->db) == 0)
                sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            rc = AUTHC_ERR_ADAPTER;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static authc_err sq_sweep(void *ctx, int64_t *removed, char *why)
{
    sq_ctx *c = ctx;
    if (!lock(c, why))
        return AUTHC_ERR_ADAPTER;
    authc_err rc = sweep_locked(c, removed, why);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static authc_err sq_ping(void *ctx, int deadline_ms, char *why)
{
    (void)deadline_ms;   /* bounded by busy_timeout ≤ the call timeout */
    sq_ctx *c = ctx;
    if (!lock(c, why))
        return AUTHC_ERR_ADAPTER;
    sqlite3_stmt *s = stmt(c, Q_PING, why);
    authc_err rc = s ? run(c, s, "ping", why) : AUTHC_ERR_ADAPTER;
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static authc_err sq_migrate(void *ctx, char *why)
{
    sq_ctx *c = ctx;
    if (!lock(c, why))
        return AUTHC_ERR_ADAPTER;
    authc_err rc = sqlite3_exec(c->db, MIGRATE_SQL, NULL, NULL, NULL) ==
                           SQLITE_OK
                       ? AUTHC_OK
                       : fail(c, "migrate", why);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static void sq_close(void *ctx)
{
    sq_ctx *c = ctx;
    if (!c)
        return;
    authc__sqlite_close(c->db, c->stmt, Q__COUNT);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* sqlite:PATH, sqlite://PATH (so sqlite:///abs is /abs), file:PATH. */
static authc_err sq_open(const authc__store_opts *o, void **ctx, char *why)
{
    const char *path = strchr(o->url, ':') + 1;
    if (strncmp(path, "//", 2) == 0)
        path += 2;
    if (!*path) {
        snprintf(why, AUTHC__STORE_WHY, "missing file path");
        return AUTHC_ERR_INVALID;
    }
    sq_ctx *c = calloc(1, sizeof *c);
    if (!c || pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return AUTHC_ERR_NOMEM;
    }
    c->timeout_ms = o->timeout_ms;
    c->sweep_interval = o->sweep_interval_ms;
    c->last_sweep = authc__store_mono_ms();
    /* Created 0600 here; an existing file keeps its mode (it may be the
     * adapter's database). */
    if (authc__sqlite_create_private(path) < 0) {
        snprintf(why, AUTHC__STORE_WHY, "cannot create the file: %m");
        sq_close(c);
        return AUTHC_ERR_ADAPTER;
    }
    /* WAL: readers never wait on the writer; NORMAL is durable enough for
     * TTL'd entries and much faster. */
    char msg[AUTHC__STORE_WHY - 16];
    c->db = authc__sqlite_open(path, o->timeout_ms,
                               "PRAGMA journal_mode = WAL;"
                               "PRAGMA synchronous = NORMAL;",
                               msg, sizeof msg);
    if (!c->db) {
        snprintf(why, AUTHC__STORE_WHY, "cannot %s", msg);
        sq_close(c);
        return AUTHC_ERR_ADAPTER;
    }
    *ctx = c;
    return AUTHC_OK;
}

static const char *const SCHEMES[] = {"sqlite:", "file:", NULL};

const authc__store_backend authc__store_sqlite = {
    .name = "sqlite",
    .schemes = SCHEMES,
    .open = sq_open,
    .close = sq_close,
    .migrate = sq_migrate,
    .ping = sq_ping,
    .mget = sq_mget,
    .set = sq_set,
    .if_owner = sq_if_owner,
    .del = sq_del,
    .incr = sq_incr,
    .sweep = sq_sweep,
    .scan = sq_scan,
};
