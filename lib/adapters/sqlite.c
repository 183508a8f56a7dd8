/* sqlite.c — the "sqlite:PATH" adapter: Auth.js models in the Drizzle SQLite
 * layout, through a small pool of connections with cached statements. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/adapters_int.h"
#include "adapters/sql/sqlite_schema.h"
#include "util/util_int.h"

/* Connections are opened on demand up to POOL_MAX and reused; a caller
 * waits when all are busy. Each connection is used by one thread at a time
 * (SQLite "multi-thread" mode, SQLITE_OPEN_NOMUTEX). WAL lets readers run
 * beside the one writer; writers queue on busy_timeout. */
#define POOL_MAX 8
#define BUSY_TIMEOUT_MS 5000
#define LIST_MAX 1024 /* authenticators returned for one user, at most */

enum {
    S_CREATE_USER, S_GET_USER, S_GET_USER_BY_EMAIL, S_GET_USER_BY_ACCOUNT,
    S_UPDATE_USER, S_DELETE_USER, S_LINK_ACCOUNT, S_UNLINK_ACCOUNT,
    S_GET_ACCOUNT, S_CREATE_SESSION, S_GET_SESSION_AND_USER,
    S_UPDATE_SESSION, S_DELETE_SESSION, S_CREATE_VT, S_USE_VT, S_GET_AUTHN,
    S_CREATE_AUTHN, S_LIST_AUTHN, S_UPDATE_COUNTER, S__COUNT
};

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
};

typedef struct conn {
    struct conn *next_all;   /* every open connection, for destroy */
    struct conn *next_idle;
    sqlite3 *db;
    sqlite3_stmt *st[S__COUNT]; /* prepared on first use, then reused */
} conn;

typedef struct pool {
    char *path;
    size_t max;              /* 1 for ":memory:" (one private database) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    conn *all, *idle;
    size_t nopen;            /* including ones being opened */
} pool;

static pool *P(const authc_adapter *self) { return self->ctx; }

/* ---- connections ----------------------------------------------------------- */

static void conn_close(conn *c)
{
    if (!c)
        return;
    for (int i = 0; i < S__COUNT; i++)
        sqlite3_finalize(c->st[i]);
    sqlite3_close(c->db);
    free(c);
}

/* Opens and configures one connection. Returns it (owned by the caller) or
 * NULL with the reason in why (why_len bytes). */
static conn *conn_open(const char *path, char *why, size_t why_len)
{
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        authc__set_err(why, why_len, "out of memory");
        return NULL;
    }
    int rc = sqlite3_open_v2(path, &c->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                 SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        authc__set_err(why, why_len, "open: %s",
                       c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        conn_close(c);
        return NULL;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    /* Without this SQLite reads a "quoted" name that is not a column as a
     * string literal, so a wrong table layout would go unnoticed. */
    sqlite3_db_config(c->db, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL);
    sqlite3_db_config(c->db, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL);
    /* foreign_keys: stock SQLite defaults to OFF; the cascades of
     *   delete_user and the FK checks need it on every connection.
     * journal_mode=WAL: readers do not block the writer or each other.
     * synchronous=FULL: every write that reports success is durable. In WAL
     *   mode NORMAL skips the fsync at commit, so a power loss can drop the
     *   last commits (e.g. a session the browser already holds a cookie
     *   for); FULL syncs the WAL on every commit. */
    const char *setup = "PRAGMA foreign_keys = ON;"
                        "PRAGMA journal_mode = WAL;"
                        "PRAGMA synchronous = FULL;";
    char *msg = NULL;
    if (sqlite3_exec(c->db, setup, NULL, NULL, &msg) != SQLITE_OK) {
        authc__set_err(why, why_len, "setup: %s",
                       msg ? msg : sqlite3_errmsg(c->db));
        sqlite3_free(msg);
        conn_close(c);
        return NULL;
    }
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
        conn_close(c);
        return NULL;
    }
    return c;
}

/* Takes a connection for the calling thread (waits while all are busy).
 * NULL when a new one cannot be opened (logged). Give back with release. */
static conn *acquire(authc_adapter *self, const char *op)
{
    pool *p = P(self);
    pthread_mutex_lock(&p->mu);
    while (!p->idle && p->nopen >= p->max)
        pthread_cond_wait(&p->cv, &p->mu);
    if (p->idle) {
        conn *c = p->idle;
        p->idle = c->next_idle;
        pthread_mutex_unlock(&p->mu);
        return c;
    }
    p->nopen++; /* reserve the slot, open outside the lock */
    pthread_mutex_unlock(&p->mu);
    char why[256];
    conn *c = conn_open(p->path, why, sizeof why);
    pthread_mutex_lock(&p->mu);
    if (c) {
        c->next_all = p->all;
        p->all = c;
    } else {
        p->nopen--;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    if (!c)
        authc__adapter_log(self, "error", "sqlite %s: %s: %s", p->path, op,
                           why);
    return c;
}

static void release(authc_adapter *self, conn *c)
{
    pool *p = P(self);
    pthread_mutex_lock(&p->mu);
    c->next_idle = p->idle;
    p->idle = c;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* ---- one statement execution --------------------------------------------------- */

typedef struct q {
    authc_adapter *self;
    conn *c;
    sqlite3_stmt *st;
    int id;
} q;

static authc_err q_fail(q *x, const char *what)
{
    const char *msg = x->c ? sqlite3_errmsg(x->c->db) : "?";
    authc__adapter_log(x->self, "error", "sqlite %s: %s: %s%s%s",
                       P(x->self)->path, Q[x->id].op, what, *what ? ": " : "",
                       msg);
    return AUTHC_ERR_ADAPTER;
}

/* Acquires a connection and its cached statement for query id. */
static authc_err q_begin(authc_adapter *self, int id, q *x)
{
    x->self = self;
    x->id = id;
    x->st = NULL;
    x->c = acquire(self, Q[id].op);
    if (!x->c)
        return AUTHC_ERR_ADAPTER;
    if (!x->c->st[id]) {
        int rc = sqlite3_prepare_v3(x->c->db, Q[id].sql, -1,
                                    SQLITE_PREPARE_PERSISTENT, &x->c->st[id],
                                    NULL);
        if (rc != SQLITE_OK) {
            q_fail(x, "prepare (was the schema migrated?)");
            sqlite3_finalize(x->c->st[id]);
            x->c->st[id] = NULL;
            release(self, x->c);
            x->c = NULL;
            return AUTHC_ERR_ADAPTER;
        }
    }
    x->st = x->c->st[id];
    return AUTHC_OK;
}

/* Resets the statement (bindings cleared so no token stays referenced),
 * gives the connection back and returns e. */
static authc_err q_end(q *x, authc_err e)
{
    if (x->st) {
        sqlite3_reset(x->st);
        sqlite3_clear_bindings(x->st);
    }
    if (x->c)
        release(x->self, x->c);
    x->c = NULL;
    x->st = NULL;
    return e;
}

/* First step; *row = true when a row came. The BUSY cases the busy
 * handler does not wait on (a stale WAL snapshot, another connection
 * running WAL recovery) are retried a few times: nothing was written when
 * they are reported. A plain SQLITE_BUSY means busy_timeout ran out. */
static authc_err q_step(q *x, bool *row)
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
    return q_fail(x, "");
}

/* Steps a writing statement to its end so its commit happens (and its
 * error, if any, is seen) before we report success. */
static authc_err q_finish(q *x)
{
    int rc;
    while ((rc = sqlite3_step(x->st)) == SQLITE_ROW)
        ;
    return rc == SQLITE_DONE ? AUTHC_OK : q_fail(x, "commit");
}

/* ---- binding and reading -------------------------------------------------------- */

/* Strings are bound SQLITE_STATIC: the caller's values outlive the step. */
static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_time(sqlite3_stmt *st, int i, int64_t v)
{
    if (v == AUTHC_NO_TIME)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, v);
}

/* Column text copied into ar (NULL for SQL NULL); *ok = false on OOM. */
static const char *col_text(authc_arena *ar, sqlite3_stmt *st, int i, bool *ok)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t) {
        if (sqlite3_column_type(st, i) != SQLITE_NULL)
            *ok = false; /* conversion ran out of memory */
        return NULL;
    }
    char *d = authc_arena_strndup(ar, (const char *)t,
                                  (size_t)sqlite3_column_bytes(st, i));
    if (!d)
        *ok = false;
    return d;
}

/* An INTEGER epoch-ms (or seconds) column; NULL → AUTHC_NO_TIME. Rows
 * written as ISO text (other ORMs) are read too. */
static int64_t col_time(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        return AUTHC_NO_TIME;
    case SQLITE_TEXT: {
        int64_t ms;
        const char *t = (const char *)sqlite3_column_text(st, i);
        if (t && authc__iso8601_parse(t, &ms) == AUTHC_OK)
            return ms;
        return sqlite3_column_int64(st, i);
    }
    default:
        return sqlite3_column_int64(st, i);
    }
}

static authc_user *read_user(authc_arena *ar, sqlite3_stmt *st, int b)
{
    authc_user *u = authc_arena_alloc(ar, sizeof *u);
    if (!u)
        return NULL;
    bool ok = true;
    u->id = col_text(ar, st, b, &ok);
    u->name = col_text(ar, st, b + 1, &ok);
    u->email = col_text(ar, st, b + 2, &ok);
    u->email_verified = col_time(st, b + 3);
    u->image = col_text(ar, st, b + 4, &ok);
    return ok ? u : NULL;
}

static authc_account *read_account(authc_arena *ar, sqlite3_stmt *st)
{
    authc_account *a = authc_arena_alloc(ar, sizeof *a);
    if (!a)
        return NULL;
    bool ok = true;
    a->id = NULL; /* the Drizzle layout has no account id */
    a->user_id = col_text(ar, st, 0, &ok);
    a->type = col_text(ar, st, 1, &ok);
    a->provider = col_text(ar, st, 2, &ok);
    a->provider_account_id = col_text(ar, st, 3, &ok);
    a->refresh_token = col_text(ar, st, 4, &ok);
    a->access_token = col_text(ar, st, 5, &ok);
    a->expires_at = sqlite3_column_type(st, 6) == SQLITE_NULL
                        ? AUTHC_NO_TIME
                        : sqlite3_column_int64(st, 6);
    a->token_type = col_text(ar, st, 7, &ok);
    a->scope = col_text(ar, st, 8, &ok);
    a->id_token = col_text(ar, st, 9, &ok);
    a->session_state = col_text(ar, st, 10, &ok);
    return ok ? a : NULL;
}

static authc_session_row *read_session(authc_arena *ar, sqlite3_stmt *st)
{
    authc_session_row *s = authc_arena_alloc(ar, sizeof *s);
    if (!s)
        return NULL;
    bool ok = true;
    s->id = NULL;
    s->session_token = col_text(ar, st, 0, &ok);
    s->user_id = col_text(ar, st, 1, &ok);
    s->expires = col_time(st, 2);
    return ok ? s : NULL;
}

static authc_verification_token *read_vt(authc_arena *ar, sqlite3_stmt *st)
{
    authc_verification_token *v = authc_arena_alloc(ar, sizeof *v);
    if (!v)
        return NULL;
    bool ok = true;
    v->identifier = col_text(ar, st, 0, &ok);
    v->token = col_text(ar, st, 1, &ok);
    v->expires = col_time(st, 2);
    return ok ? v : NULL;
}

static bool read_authn_into(authc_arena *ar, sqlite3_stmt *st,
                            authc_authenticator *a)
{
    bool ok = true;
    a->credential_id = col_text(ar, st, 0, &ok);
    a->user_id = col_text(ar, st, 1, &ok);
    a->provider_account_id = col_text(ar, st, 2, &ok);
    a->credential_public_key = col_text(ar, st, 3, &ok);
    a->counter = sqlite3_column_int64(st, 4);
    a->credential_device_type = col_text(ar, st, 5, &ok);
    a->credential_backed_up = sqlite3_column_int64(st, 6) != 0;
    a->transports = col_text(ar, st, 7, &ok);
    return ok;
}

static authc_authenticator *read_authn(authc_arena *ar, sqlite3_stmt *st)
{
    authc_authenticator *a = authc_arena_alloc(ar, sizeof *a);
    if (!a || !read_authn_into(ar, st, a))
        return NULL;
    return a;
}

static authc_err oom(q *x)
{
    authc__adapter_log(x->self, "error", "sqlite %s: %s: out of memory",
                       P(x->self)->path, Q[x->id].op);
    return AUTHC_ERR_NOMEM;
}

/* Runs a statement whose result is at most one row read by `rd` into
 * *out (owned by ar; NULL when no row). For writes (`write`), the
 * statement is then stepped to its end so the commit is confirmed. */
#define RUN_ONE(x, ar, out, rd, write)                                     \
    do {                                                                   \
        bool row_;                                                         \
        authc_err e_ = q_step(&(x), &row_);                                \
        if (e_ == AUTHC_OK && row_ && !((out) = rd((ar), (x).st)))         \
            e_ = oom(&(x));                                                \
        if (e_ == AUTHC_OK && row_ && (write))                             \
            e_ = q_finish(&(x));                                           \
        if (e_ != AUTHC_OK)                                                \
            (out) = NULL;                                                  \
        return q_end(&(x), e_);                                            \
    } while (0)

static authc_user *read_user0(authc_arena *ar, sqlite3_stmt *st)
{
    return read_user(ar, st, 0);
}

/* ---- users ---------------------------------------------------------------------- */

/* M1: a fresh UUID, in->id ignored. *out owned by ar. */
static authc_err s_create_user(authc_adapter *self, authc_arena *ar,
                               const authc_user *in, authc_user **out)
{
    *out = NULL;
    char id[37];
    if (authc__uuid(id) != AUTHC_OK) {
        authc__adapter_log(self, "error", "sqlite %s: create_user: no "
                           "randomness for the id", P(self)->path);
        return AUTHC_ERR_ADAPTER;
    }
    q x;
    authc_err e = q_begin(self, S_CREATE_USER, &x);
    if (e)
        return e;
    bind_text(x.st, 1, id);
    bind_text(x.st, 2, in->name);
    bind_text(x.st, 3, in->email);
    bind_time(x.st, 4, in->email_verified);
    bind_text(x.st, 5, in->image);
    RUN_ONE(x, ar, *out, read_user0, true);
}

static authc_err s_get_user(authc_adapter *self, authc_arena *ar,
                            const char *id, authc_user **out)
{
    *out = NULL;
    if (!id)
        return AUTHC_OK;
    q x;
    authc_err e = q_begin(self, S_GET_USER, &x);
    if (e)
        return e;
    bind_text(x.st, 1, id);
    RUN_ONE(x, ar, *out, read_user0, false);
}

static authc_err s_get_user_by_email(authc_adapter *self, authc_arena *ar,
                                     const char *email, authc_user **out)
{
    *out = NULL;
    if (!email)
        return AUTHC_OK;
    q x;
    authc_err e = q_begin(self, S_GET_USER_BY_EMAIL, &x);
    if (e)
        return e;
    bind_text(x.st, 1, email);
    RUN_ONE(x, ar, *out, read_user0, false);
}

static authc_err s_get_user_by_account(authc_adapter *self, authc_arena *ar,
                                       const char *provider, const char *pai,
                                       authc_user **out)
{
    *out = NULL;
    if (!provider || !pai)
        return AUTHC_OK;
    q x;
    authc_err e = q_begin(self, S_GET_USER_BY_ACCOUNT, &x);
    if (e)
        return e;
    bind_text(x.st, 1, provider);
    bind_text(x.st, 2, pai);
    RUN_ONE(x, ar, *out, read_user0, false);
}

/* M5: AUTHC_ERR_NOT_FOUND for an unknown id; *out owned by ar. */
static authc_err s_update_user(authc_adapter *self, authc_arena *ar,
                               const authc_user *in, authc_user **out)
{
    *out = NULL;
    if (!in->id)
        return AUTHC_ERR_NOT_FOUND;
    unsigned f = in->fields ? in->fields : ~0u;
    q x;
    authc_err e = q_begin(self, S_UPDATE_USER, &x);
    if (e)
        return e;
    sqlite3_bind_int(x.st, 1, !!(f & AUTHC_USER_F_NAME));
    bind_text(x.st, 2, in->name);
    sqlite3_bind_int(x.st, 3, !!(f & AUTHC_USER_F_EMAIL));
    bind_text(x.st, 4, in->email);
    sqlite3_bind_int(x.st, 5, !!(f & AUTHC_USER_F_EMAIL_VERIFIED));
    bind_time(x.st, 6, in->email_verified);
    sqlite3_bind_int(x.st, 7, !!(f & AUTHC_USER_F_IMAGE));
    bind_text(x.st, 8, in->image);
    bind_text(x.st, 9, in->id);
    bool row;
    e = q_step(&x, &row);
    if (e == AUTHC_OK && !row)
        e = AUTHC_ERR_NOT_FOUND;
    if (e == AUTHC_OK && !(*out = read_user(ar, x.st, 0)))
        e = oom(&x);
    if (e == AUTHC_OK)
        e = q_finish(&x);
    if (e != AUTHC_OK)
        *out = NULL;
    return q_end(&x, e);
}

/* Runs a statement that returns nothing, binding up to two texts. */
static authc_err exec2(authc_adapter *self, int id, const char *a,
                       const char *b)
{
    q x;
    authc_err e = q_begin(self, id, &x);
    if (e)
        return e;
    bind_text(x.st, 1, a);
    if (b)
        bind_text(x.st, 2, b);
    bool row;
    e = q_step(&x, &row);
    if (e == AUTHC_OK && row)
        e = q_finish(&x);
    return q_end(&x, e);
}

static authc_err s_delete_user(authc_adapter *self, authc_arena *ar,
                               const char *id)
{
    (void)ar;
    return id ? exec2(self, S_DELETE_USER, id, NULL) : AUTHC_OK;
}

/* ---- accounts ----------------------------------------------------------------- */

static authc_err s_link_account(authc_adapter *self, authc_arena *ar,
                                const authc_account *in, authc_account **out)
{
    authc_account *dummy = NULL;
    authc_account **o = out ? out : &dummy;
    *o = NULL;
    q x;
    authc_err e = q_begin(self, S_LINK_ACCOUNT, &x);
    if (e)
        return e;
    bind_text(x.st, 1, in->user_id);
    bind_text(x.st, 2, in->type);
    bind_text(x.st, 3, in->provider);
    bind_text(x.st, 4, in->provider_account_id);
    bind_text(x.st, 5, in->refresh_token);
    bind_text(x.st, 6, in->access_token);
    bind_time(x.st, 7, in->expires_at);
    bind_text(x.st, 8, in->token_type);
    bind_text(x.st, 9, in->scope);
    bind_text(x.st, 10, in->id_token);
    bind_text(x.st, 11, in->session_state);
    RUN_ONE(x, ar, *o, read_account, true);
}

static authc_err s_unlink_account(authc_adapter *self, authc_arena *ar,
                                  const char *provider, const char *pai)
{
    (void)ar;
    if (!provider || !pai)
        return AUTHC_OK;
    return exec2(self, S_UNLINK_ACCOUNT, provider, pai);
}

static authc_err s_get_account(authc_adapter *self, authc_arena *ar,
                               const char *pai, const char *provider,
                               authc_account **out)
{
    *out = NULL;
    if (!provider || !pai)
        return AUTHC_OK;
    q x;
    authc_err e = q_begin(self, S_GET_ACCOUNT, &x);
    if (e)
        return e;
    bind_text(x.st, 1, provider);
    bind_text(x.st, 2, pai);
    RUN_ONE(x, ar, *out, read_account, false);
}

/* ---- sessions ------------------------------------------------------------------ */

static authc_err s_create_session(authc_adapter *self, authc_arena *ar,
                                  const authc_session_row *in,
                                  authc_session_row **out)
{
    authc_session_row *dummy = NULL;
    authc_session_row **o = out ? out : &dummy;
    *o = NULL;
    q x;
    authc_err e = q_begin(self, S_CREATE_SESSION, &x);
    if (e)
        return e;
    bind_text(x.st, 1, in->session_token);
    bind_text(x.st, 2, in->user_id);
    bind_time(x.st, 3, in->expires);
    RUN_ONE(x, ar, *o, read_session, true);
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
    q x;
    authc_err e = q_begin(self, S_GET_SESSION_AND_USER, &x);
    if (e)
        return e;
    bind_text(x.st, 1, token);
    bool row;
    e = q_step(&x, &row);
    if (e == AUTHC_OK && row) {
        *session = read_session(ar, x.st);
        *user = read_user(ar, x.st, 3);
        if (!*session || !*user) {
            *session = NULL;
            *user = NULL;
            e = oom(&x);
        }
    }
    return q_end(&x, e);
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
    q x;
    authc_err e = q_begin(self, S_UPDATE_SESSION, &x);
    if (e)
        return e;
    bind_text(x.st, 1, in->session_token);
    bind_time(x.st, 2, in->expires);
    bind_text(x.st, 3, in->user_id);
    RUN_ONE(x, ar, *o, read_session, true);
}

static authc_err s_delete_session(authc_adapter *self, authc_arena *ar,
                                  const char *token, authc_session_row **out)
{
    authc_session_row *dummy = NULL;
    authc_session_row **o = out ? out : &dummy;
    *o = NULL;
    if (!token)
        return AUTHC_OK;
    q x;
    authc_err e = q_begin(self, S_DELETE_SESSION, &x);
    if (e)
        return e;
    bind_text(x.st, 1, token);
    RUN_ONE(x, ar, *o, read_session, true);
}

/* ---- verification tokens --------------------------------------------------------- */

static authc_err s_create_vt(authc_adapter *self, authc_arena *ar,
                             const authc_verification_token *in)
{
    (void)ar;
    q x;
    authc_err e = q_begin(self, S_CREATE_VT, &x);
    if (e)
        return e;
    bind_text(x.st, 1, in->identifier);
    bind_text(x.st, 2, in->token);
    bind_time(x.st, 3, in->expires);
    bool row;
    e = q_step(&x, &row);
    return q_end(&x, e);
}

static authc_err s_use_vt(authc_adapter *self, authc_arena *ar,
                          const char *identifier, const char *token,
                          authc_verification_token **out)
{
    *out = NULL;
    if (!identifier || !token)
        return AUTHC_OK; /* a missing identifier never matches */
    q x;
    authc_err e = q_begin(self, S_USE_VT, &x);
    if (e)
        return e;
    bind_text(x.st, 1, identifier);
    bind_text(x.st, 2, token);
    RUN_ONE(x, ar, *out, read_vt, true);
}

/* ---- authenticators ----------------------------------------------------------------- */

static authc_err s_get_authenticator(authc_adapter *self, authc_arena *ar,
                                     const char *cred, authc_authenticator **out)
{
    *out = NULL;
    if (!cred)
        return AUTHC_OK;
    q x;
    authc_err e = q_begin(self, S_GET_AUTHN, &x);
    if (e)
        return e;
    bind_text(x.st, 1, cred);
    RUN_ONE(x, ar, *out, read_authn, false);
}

static authc_err s_create_authenticator(authc_adapter *self, authc_arena *ar,
                                        const authc_authenticator *in,
                                        authc_authenticator **out)
{
    authc_authenticator *dummy = NULL;
    authc_authenticator **o = out ? out : &dummy;
    *o = NULL;
    q x;
    authc_err e = q_begin(self, S_CREATE_AUTHN, &x);
    if (e)
        return e;
    bind_text(x.st, 1, in->credential_id);
    bind_text(x.st, 2, in->user_id);
    bind_text(x.st, 3, in->provider_account_id);
    bind_text(x.st, 4, in->credential_public_key);
    sqlite3_bind_int64(x.st, 5, in->counter);
    bind_text(x.st, 6, in->credential_device_type);
    sqlite3_bind_int(x.st, 7, in->credential_backed_up ? 1 : 0);
    bind_text(x.st, 8, in->transports);
    bool row;
    e = q_step(&x, &row);
    if (e == AUTHC_OK && !row)
        e = q_fail(&x, "no row returned");
    if (e == AUTHC_OK && !(*o = read_authn(ar, x.st)))
        e = oom(&x);
    if (e == AUTHC_OK)
        e = q_finish(&x);
    if (e != AUTHC_OK)
        *o = NULL;
    return q_end(&x, e);
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
    q x;
    authc_err e = q_begin(self, S_LIST_AUTHN, &x);
    if (e)
        return e;
    bind_text(x.st, 1, uid);
    authc_authenticator *arr = NULL;
    size_t cnt = 0, cap = 0;
    bool row;
    for (e = q_step(&x, &row); e == AUTHC_OK && row;) {
        if (cnt == cap) {
            if (cap >= LIST_MAX) {
                authc__adapter_log(self, "error", "sqlite %s: %s: more than "
                                   "%d authenticators for one user",
                                   P(self)->path, Q[x.id].op, LIST_MAX);
                e = AUTHC_ERR_LIMIT;
                break;
            }
            size_t ncap = cap ? cap * 2 : 4;
            authc_authenticator *na = authc_arena_alloc(ar, ncap * sizeof *na);
            if (!na) {
                e = oom(&x);
                break;
            }
            if (cnt)
                memcpy(na, arr, cnt * sizeof *na);
            arr = na;
            cap = ncap;
        }
        if (!read_authn_into(ar, x.st, &arr[cnt++])) {
            e = oom(&x);
            break;
        }
        int rc = sqlite3_step(x.st);
        if (rc == SQLITE_DONE)
            row = false;
        else if (rc != SQLITE_ROW)
            e = q_fail(&x, "");
    }
    if (e == AUTHC_OK && cnt) {
        *out = arr;
        *n = cnt;
    }
    return q_end(&x, e);
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
    q x;
    authc_err e = q_begin(self, S_UPDATE_COUNTER, &x);
    if (e)
        return e;
    bind_text(x.st, 1, cred);
    sqlite3_bind_int64(x.st, 2, counter);
    bool row;
    e = q_step(&x, &row);
    if (e == AUTHC_OK && !row)
        e = AUTHC_ERR_NOT_FOUND;
    if (e == AUTHC_OK && !(*o = read_authn(ar, x.st)))
        e = oom(&x);
    if (e == AUTHC_OK)
        e = q_finish(&x);
    if (e != AUTHC_OK)
        *o = NULL;
    return q_end(&x, e);
}

/* ---- migrate / lifecycle ------------------------------------------------------------- */

/* Creates the Drizzle-layout schema where missing, inside one IMMEDIATE
 * transaction (two processes migrating at once serialise), then checks
 * every column authc uses exists. Idempotent. */
static authc_err s_migrate(authc_adapter *self)
{
    pool *p = P(self);
    conn *c = acquire(self, "migrate");
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
                           p->path, ver, AUTHC_SQLITE_SCHEMA_VERSION);
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
    release(self, c);
    return AUTHC_OK;
fail:
    authc__adapter_log(self, "error", "sqlite %s: migrate: %s: %s", p->path,
                       step, msg ? msg : sqlite3_errmsg(c->db));
    e = AUTHC_ERR_ADAPTER;
rollback:
    sqlite3_free(msg);
    sqlite3_finalize(st);
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    release(self, c);
    return e;
}

/* Closes every connection; no method may be running. */
static void s_destroy(authc_adapter *self)
{
    if (!self)
        return;
    pool *p = self->ctx;
    if (p) {
        conn *c = p->all;
        while (c) {
            conn *n = c->next_all;
            conn_close(c);
            c = n;
        }
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        free(p->path);
        free(p);
    }
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
 * one connection now so a bad path fails here. */
authc_adapter *authc__adapter_sqlite_open(const char *path, char *err,
                                          size_t errlen)
{
    if (!path || !*path) {
        authc__set_err(err, errlen, "sqlite: empty file path");
        return NULL;
    }
    if (!sqlite3_threadsafe()) {
        authc__set_err(err, errlen, "sqlite %s: the SQLite library was "
                       "built without thread support", path);
        return NULL;
    }
    authc_adapter *ad = calloc(1, sizeof *ad);
    pool *p = calloc(1, sizeof *p);
    char *dup = strdup(path);
    if (!ad || !p || !dup) {
        free(ad);
        free(p);
        free(dup);
        authc__set_err(err, errlen, "sqlite %s: out of memory", path);
        return NULL;
    }
    p->path = dup;
    p->max = (strcmp(path, ":memory:") == 0) ? 1 : POOL_MAX;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    ad->ops = &SQLITE_OPS;
    ad->ctx = p;

    char why[256];
    conn *c = conn_open(path, why, sizeof why);
    if (!c) {
        authc__set_err(err, errlen, "sqlite %s: %s", path, why);
        s_destroy(ad);
        return NULL;
    }
    c->next_all = p->all;
    p->all = c;
    p->idle = c;
    p->nopen = 1;

    return ad;
}
