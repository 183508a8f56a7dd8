/* db_sqlite.c — conformance harness for the "sqlite:" backend: the direct
 * readers open their own connection and check the Drizzle storage types. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/adapters_int.h"
#include "conformance.h"
#include "models.h"

/* The file path of a sqlite:/file: URL (same rules as the registry). */
static const char *path_of(const char *url)
{
    const char *p = url;
    if (strncasecmp(p, "sqlite:", 7) == 0)
        p += 7;
    else if (strncasecmp(p, "file:", 5) == 0)
        p += 5;
    if (strncmp(p, "//", 2) == 0)
        p += 2;
    return p;
}

/* Opens the adapter, migrates it (so the file and tables exist), then a
 * second, independent connection: *db is its sqlite3 handle. */
static authc_adapter *sq_open(const char *url, void **db)
{
    *db = NULL;
    authc_adapter *ad = conf_open_adapter("sqlite", url);
    if (!ad) {
        return NULL;
    }
    if (ad->ops->migrate(ad) != AUTHC_OK) {
        authc_adapter_close(ad);
        return NULL;
    }
    sqlite3 *h = NULL;
    if (sqlite3_open_v2(path_of(url), &h, SQLITE_OPEN_READWRITE, NULL) !=
        SQLITE_OK) {
        fprintf(stderr, "sqlite reader: %s\n", h ? sqlite3_errmsg(h) : "?");
        sqlite3_close(h);
        authc_adapter_close(ad);
        return NULL;
    }
    sqlite3_busy_timeout(h, 5000);
    *db = h;
    return ad;
}

static void sq_close(authc_adapter *ad, void *db)
{
    sqlite3_close(db);
    authc_adapter_close(ad);
}

/* Prepares sql, binds the texts a, b (b may be NULL) and steps once.
 * Returns SQLITE_ROW / SQLITE_DONE or an error; *st must be finalized. */
static int query(void *db, const char *sql, const char *a, const char *b,
                 sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "sqlite reader: %s: %s\n", sql, sqlite3_errmsg(db));
        return rc;
    }
    sqlite3_bind_text(*st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(*st, 2, b, -1, SQLITE_STATIC);
    rc = sqlite3_step(*st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        fprintf(stderr, "sqlite reader: %s: %s\n", sql, sqlite3_errmsg(db));
    return rc;
}

/* Text column (NULL stays NULL) copied into ar. */
static const char *txt(authc_arena *ar, void *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? authc_arena_strdup(ar, (const char *)t) : NULL;
}

/* Checks the storage class of column i: the Drizzle layout keeps dates,
 * counters and booleans as INTEGER, strings as TEXT. */
static bool typed(sqlite3_stmt *st, int i, int type, bool nullable,
                  const char *what)
{
    int t = sqlite3_column_type(st, i);
    if (t == type || (nullable && t == SQLITE_NULL))
        return true;
    fprintf(stderr, "sqlite reader: column %s has storage class %d, want %d\n",
            what, t, type);
    return false;
}

/* Integer column (NULL: AUTHC_NO_TIME). */
static int64_t number(void *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? AUTHC_NO_TIME
                                                     : sqlite3_column_int64(st, i);
}

/* Reads the one row of sql (texts a, b bound) as model m, column i being
 * m's member i, checking each column's storage class. Returns the row (in
 * ar), or NULL with *e AUTHC_OK when there is none, or NULL with *e set. */
static void *row(void *db, authc_arena *ar, const char *sql, const char *a, const char *b,
                 const m_model *m, authc_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = query(db, sql, a, b, &st);
    void *r = NULL;
    *e = rc == SQLITE_ROW || rc == SQLITE_DONE ? AUTHC_OK : AUTHC_ERR_ADAPTER;
    for (size_t i = 0; rc == SQLITE_ROW && i < m->n && !*e; i++) {
        const m_field *f = &m->f[i];
        int c = (int)i;
        bool ok = f->kind == M_STR ? typed(st, c, SQLITE_TEXT, true, f->name)
                                   : typed(st, c, SQLITE_INTEGER, f->kind == M_DATE_OPT || f->kind == M_SECS,
                                           f->name);
        int64_t v = sqlite3_column_int64(st, c);
        if (ok && f->kind == M_BOOL && v != 0 && v != 1)
            ok = false;
        if (!ok)
            *e = AUTHC_ERR_INVALID;
    }
    if (rc == SQLITE_ROW && !*e)
        r = m_row(m, ar, st, txt, number);
    sqlite3_finalize(st);
    return r;
}

/* The Drizzle tables have no id column for sessions and accounts: NULL
 * stands in for it, so the columns line up with the models. */
static authc_err sq_user(void *db, authc_arena *ar, const char *id, authc_user **out)
{
    authc_err e;
    *out = row(db, ar, "SELECT id, name, email, emailVerified, image FROM user WHERE id = ?1", id,
               NULL, &m_user, &e);
    if (*out && !(*out)->id) {
        fprintf(stderr, "sqlite reader: user.id is NULL\n");
        *out = NULL;
        e = AUTHC_ERR_INVALID;
    }
    return e;
}

static authc_err sq_session(void *db, authc_arena *ar, const char *token,
                            authc_session_row **out)
{
    authc_err e;
    *out = row(db, ar, "SELECT NULL, sessionToken, userId, expires FROM session "
                       "WHERE sessionToken = ?1", token, NULL, &m_session, &e);
    return e;
}

static authc_err sq_account(void *db, authc_arena *ar, const char *provider,
                            const char *pai, authc_account **out)
{
    authc_err e;
    *out = row(db, ar, "SELECT NULL, userId, type, provider, providerAccountId, "
                       "refresh_token, access_token, expires_at, token_type, "
                       "scope, id_token, session_state FROM account "
                       "WHERE provider = ?1 AND providerAccountId = ?2",
               provider, pai, &m_account, &e);
    return e;
}

static authc_err sq_vt(void *db, authc_arena *ar, const char *identifier,
                       const char *token, authc_verification_token **out)
{
    authc_err e;
    *out = row(db, ar, "SELECT identifier, token, expires FROM "
                       "verificationToken WHERE identifier = ?1 AND token = ?2",
               identifier, token, &m_vt, &e);
    return e;
}

static authc_err sq_authn(void *db, authc_arena *ar, const char *cred,
                          authc_authenticator **out)
{
    authc_err e;
    *out = row(db, ar, "SELECT credentialID, userId, providerAccountId, "
                       "credentialPublicKey, counter, credentialDeviceType, "
                       "credentialBackedUp, transports FROM authenticator "
                       "WHERE credentialID = ?1", cred, NULL, &m_authn, &e);
    return e;
}

CONF_DB(sqlite, sq);
