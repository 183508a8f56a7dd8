/* db_sqlite.c — conformance harness for the "sqlite:" backend: the direct
 * readers open their own connection and check the Drizzle storage types. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/adapters_int.h"
#include "conformance.h"

static void log_stderr(void *ud, const char *level, const char *msg)
{
    (void)ud;
    fprintf(stderr, "[sqlite %s] %s\n", level, msg);
}

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
    char err[512];
    *db = NULL;
    authc_adapter *ad = authc_adapter_open(url, log_stderr, NULL, err,
                                           sizeof err);
    if (!ad) {
        fprintf(stderr, "sqlite: %s\n", err);
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
static const char *txt(authc_arena *ar, sqlite3_stmt *st, int i)
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

static int64_t time_or_none(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL
               ? AUTHC_NO_TIME
               : sqlite3_column_int64(st, i);
}

static authc_err sq_user(void *db, authc_arena *ar, const char *id,
                         authc_user **out)
{
    sqlite3_stmt *st = NULL;
    *out = NULL;
    int rc = query(db, "SELECT id, name, email, emailVerified, image "
                       "FROM user WHERE id = ?1", id, NULL, &st);
    authc_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? AUTHC_OK
                                                        : AUTHC_ERR_ADAPTER;
    if (rc == SQLITE_ROW) {
        if (!typed(st, 0, SQLITE_TEXT, false, "user.id") ||
            !typed(st, 3, SQLITE_INTEGER, true, "user.emailVerified")) {
            e = AUTHC_ERR_INVALID;
        } else if ((*out = authc_arena_alloc(ar, sizeof **out))) {
            (*out)->id = txt(ar, st, 0);
            (*out)->name = txt(ar, st, 1);
            (*out)->email = txt(ar, st, 2);
            (*out)->email_verified = time_or_none(st, 3);
            (*out)->image = txt(ar, st, 4);
        }
    }
    sqlite3_finalize(st);
    return e;
}

static authc_err sq_session(void *db, authc_arena *ar, const char *token,
                            authc_session_row **out)
{
    sqlite3_stmt *st = NULL;
    *out = NULL;
    int rc = query(db, "SELECT sessionToken, userId, expires FROM session "
                       "WHERE sessionToken = ?1", token, NULL, &st);
    authc_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? AUTHC_OK
                                                        : AUTHC_ERR_ADAPTER;
    if (rc == SQLITE_ROW) {
        if (!typed(st, 2, SQLITE_INTEGER, false, "session.expires")) {
            e = AUTHC_ERR_INVALID;
        } else if ((*out = authc_arena_alloc(ar, sizeof **out))) {
            (*out)->session_token = txt(ar, st, 0);
            (*out)->user_id = txt(ar, st, 1);
            (*out)->expires = sqlite3_column_int64(st, 2);
        }
    }
    sqlite3_finalize(st);
    return e;
}

static authc_err sq_account(void *db, authc_arena *ar, const char *provider,
                            const char *pai, authc_account **out)
{
    sqlite3_stmt *st = NULL;
    *out = NULL;
    int rc = query(db, "SELECT userId, type, provider, providerAccountId, "
                       "refresh_token, access_token, expires_at, token_type, "
                       "scope, id_token, session_state FROM account "
                       "WHERE provider = ?1 AND providerAccountId = ?2",
                   provider, pai, &st);
    authc_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? AUTHC_OK
                                                        : AUTHC_ERR_ADAPTER;
    if (rc == SQLITE_ROW) {
        if (!typed(st, 6, SQLITE_INTEGER, true, "account.expires_at")) {
            e = AUTHC_ERR_INVALID;
        } else if ((*out = authc_arena_alloc(ar, sizeof **out))) {
            authc_account *a = *out;
            a->user_id = txt(ar, st, 0);
            a->type = txt(ar, st, 1);
            a->provider = txt(ar, st, 2);
            a->provider_account_id = txt(ar, st, 3);
            a->refresh_token = txt(ar, st, 4);
            a->access_token = txt(ar, st, 5);
            a->expires_at = time_or_none(st, 6);
            a->token_type = txt(ar, st, 7);
            a->scope = txt(ar, st, 8);
            a->id_token = txt(ar, st, 9);
            a->session_state = txt(ar, st, 10);
        }
    }
    sqlite3_finalize(st);
    return e;
}

static authc_err sq_vt(void *db, authc_arena *ar, const char *identifier,
                       const char *token, authc_verification_token **out)
{
    sqlite3_stmt *st = NULL;
    *out = NULL;
    int rc = query(db, "SELECT identifier, token, expires FROM "
                       "verificationToken WHERE identifier = ?1 AND token = ?2",
                   identifier, token, &st);
    authc_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? AUTHC_OK
                                                        : AUTHC_ERR_ADAPTER;
    if (rc == SQLITE_ROW) {
        if (!typed(st, 2, SQLITE_INTEGER, false, "verificationToken.expires")) {
            e = AUTHC_ERR_INVALID;
        } else if ((*out = authc_arena_alloc(ar, sizeof **out))) {
            (*out)->identifier = txt(ar, st, 0);
            (*out)->token = txt(ar, st, 1);
            (*out)->expires = sqlite3_column_int64(st, 2);
        }
    }
    sqlite3_finalize(st);
    return e;
}

static authc_err sq_authn(void *db, authc_arena *ar, const char *cred,
                          authc_authenticator **out)
{
    sqlite3_stmt *st = NULL;
    *out = NULL;
    int rc = query(db, "SELECT credentialID, userId, providerAccountId, "
                       "credentialPublicKey, counter, credentialDeviceType, "
                       "credentialBackedUp, transports FROM authenticator "
                       "WHERE credentialID = ?1", cred, NULL, &st);
    authc_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? AUTHC_OK
                                                        : AUTHC_ERR_ADAPTER;
    if (rc == SQLITE_ROW) {
        int64_t b = sqlite3_column_int64(st, 6);
        if (!typed(st, 4, SQLITE_INTEGER, false, "authenticator.counter") ||
            !typed(st, 6, SQLITE_INTEGER, false,
                   "authenticator.credentialBackedUp") ||
            (b != 0 && b != 1)) {
            e = AUTHC_ERR_INVALID;
        } else if ((*out = authc_arena_alloc(ar, sizeof **out))) {
            authc_authenticator *a = *out;
            a->credential_id = txt(ar, st, 0);
            a->user_id = txt(ar, st, 1);
            a->provider_account_id = txt(ar, st, 2);
            a->credential_public_key = txt(ar, st, 3);
            a->counter = sqlite3_column_int64(st, 4);
            a->credential_device_type = txt(ar, st, 5);
            a->credential_backed_up = b == 1;
            a->transports = txt(ar, st, 7);
        }
    }
    sqlite3_finalize(st);
    return e;
}

CONF_DB(sqlite, sq);
