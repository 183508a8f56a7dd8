/* db_postgres.c — conformance harness for the "postgres://" backend: direct
 * readers on their own libpq connection, plus a check of the exact pg-adapter schema. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/adapters_int.h"
#include "conformance.h"
#include "models.h"

typedef struct pgdb {
    PGconn *c;
    bool schema_ok;    /* the column check passed once */
} pgdb;

/* The URL without the adapter's own parameters (libpq rejects them).
 * Heap copy, caller frees. */
static char *libpq_url(const char *url)
{
    char *u = malloc(strlen(url) + 1);
    if (!u)
        return NULL;
    const char *q = strchr(url, '?');
    size_t n = q ? (size_t)(q - url) : strlen(url);
    memcpy(u, url, n);
    char sep = '?';
    for (const char *p = q ? q + 1 : ""; *p;) {
        size_t len = strcspn(p, "&");
        if (len && strncmp(p, "pool_size=", 10) != 0 &&
            strncmp(p, "statement_timeout=", 18) != 0) {
            u[n++] = sep;
            sep = '&';
            memcpy(u + n, p, len);
            n += len;
        }
        p += len;
        if (*p)
            p++;
    }
    u[n] = '\0';
    return u;
}

static authc_adapter *pg_open(const char *url, void **db)
{
    *db = NULL;
    authc_adapter *ad = conf_open_adapter("postgres", url);
    if (!ad) {
        return NULL;
    }
    pgdb *h = calloc(1, sizeof *h);
    char *u = libpq_url(url);
    if (h && u)
        h->c = PQconnectdb(u);
    free(u);
    if (!h || !h->c || PQstatus(h->c) != CONNECTION_OK) {
        fprintf(stderr, "postgres reader: %s",
                h && h->c ? PQerrorMessage(h->c) : "out of memory\n");
        if (h)
            PQfinish(h->c);
        free(h);
        authc_adapter_close(ad);
        return NULL;
    }
    *db = h;
    return ad;
}

static void pg_close(authc_adapter *ad, void *db)
{
    pgdb *h = db;
    if (h) {
        PQfinish(h->c);
        free(h);
    }
    authc_adapter_close(ad);
}

/* The @auth/pg-adapter schema.sql columns, plus our authenticators table,
 * as "table.column:data_type", sorted like the query below sorts them. */
static const char *const WANT_COLUMNS[] = {
    "accounts.access_token:text",
    "accounts.expires_at:bigint",
    "accounts.id:integer",
    "accounts.id_token:text",
    "accounts.provider:character varying",
    "accounts.providerAccountId:character varying",
    "accounts.refresh_token:text",
    "accounts.scope:text",
    "accounts.session_state:text",
    "accounts.token_type:text",
    "accounts.type:character varying",
    "accounts.userId:integer",
    "authenticators.counter:bigint",
    "authenticators.credentialBackedUp:boolean",
    "authenticators.credentialDeviceType:text",
    "authenticators.credentialID:text",
    "authenticators.credentialPublicKey:text",
    "authenticators.providerAccountId:text",
    "authenticators.transports:text",
    "authenticators.userId:integer",
    "sessions.expires:timestamp with time zone",
    "sessions.id:integer",
    "sessions.sessionToken:character varying",
    "sessions.userId:integer",
    "users.email:character varying",
    "users.emailVerified:timestamp with time zone",
    "users.id:integer",
    "users.image:text",
    "users.name:character varying",
    "verification_token.expires:timestamp with time zone",
    "verification_token.identifier:text",
    "verification_token.token:text",
};

/* Checks once that the tables have exactly the pg-adapter columns. */
static bool schema_check(pgdb *h)
{
    if (h->schema_ok)
        return true;
    PGresult *r = PQexec(
        h->c,
        "SELECT c FROM (SELECT table_name || '.' || column_name || ':' || "
        "data_type AS c FROM information_schema.columns WHERE table_schema "
        "= current_schema() AND table_name IN ('users', 'accounts', "
        "'sessions', 'verification_token', 'authenticators')) t "
        "ORDER BY c COLLATE \"C\"");
    size_t want = sizeof WANT_COLUMNS / sizeof WANT_COLUMNS[0];
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "postgres reader: schema query: %s",
                PQresultErrorMessage(r));
    for (size_t i = 0; ok && i < want; i++) {
        const char *got = (int)i < PQntuples(r) ? PQgetvalue(r, (int)i, 0)
                                                : "(none)";
        if (strcmp(got, WANT_COLUMNS[i]) != 0) {
            fprintf(stderr, "postgres reader: schema differs from "
                    "pg-adapter: column %zu is %s, want %s\n", i, got,
                    WANT_COLUMNS[i]);
            ok = false;
        }
    }
    if (ok && PQntuples(r) != (int)want) {
        fprintf(stderr, "postgres reader: %d columns, want %zu\n",
                PQntuples(r), want);
        ok = false;
    }
    PQclear(r);
    h->schema_ok = ok;
    return ok;
}

/* Runs sql with text params; *r owned by the caller. AUTHC_OK when the
 * query ran (rows or not). */
static authc_err query(pgdb *h, const char *sql, int n,
                       const char *const *vals, PGresult **r)
{
    *r = NULL;
    if (!schema_check(h))
        return AUTHC_ERR_INVALID;
    *r = PQexecParams(h->c, sql, n, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(*r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "postgres reader: %s", PQresultErrorMessage(*r));
        return AUTHC_ERR_ADAPTER;
    }
    return AUTHC_OK;
}

static const char *txt(authc_arena *ar, void *r, int col)
{
    return PQgetisnull(r, 0, col) ? NULL
                                  : authc_arena_strdup(ar, PQgetvalue(r, 0, col));
}

/* Number column (NULL: AUTHC_NO_TIME; a boolean's t / f: 1 / 0). */
static int64_t num(void *r, int col)
{
    if (PQgetisnull(r, 0, col))
        return AUTHC_NO_TIME;
    const char *v = PQgetvalue(r, 0, col);
    return *v == 't' ? 1 : *v == 'f' ? 0 : strtoll(v, NULL, 10);
}

/* A SERIAL id is a decimal int4; anything else cannot be a row. */
static bool int_id(const char *s)
{
    if (!s || !*s || strlen(s) > 9)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* Epoch ms of a timestamptz, computed independently of the adapter. */
#define EPOCH_MS(c) "(extract(epoch FROM " c ") * 1000)::int8"

/* Runs sql (n text params) and reads its row as model m, column i being
 * m's member i: out (see authc__set_row) = the row owned by ar, NULL when
 * there is none. More than one row is AUTHC_ERR_INVALID (the keys read by
 * are unique). `run` false (a key that cannot exist here) reads nothing. */
static authc_err row(void *db, authc_arena *ar, bool run, const char *sql, int n,
                     const char *const *vals, const m_model *m, void *out)
{
    PGresult *r;
    void *res = NULL;
    authc_err e = run ? query(db, sql, n, vals, &r) : AUTHC_OK;
    if (!run || e) {
        authc__set_row(out, NULL);
        return e;
    }
    if (PQntuples(r) > 1) {
        fprintf(stderr, "postgres reader: %d rows share a key: %s\n", PQntuples(r), sql);
        e = AUTHC_ERR_INVALID;
    }
    if (!e && PQntuples(r) == 1)
        res = m_row(m, ar, r, txt, num);
    PQclear(r);
    authc__set_row(out, res);
    return e;
}

static authc_err pg_user(void *db, authc_arena *ar, const char *id, authc_user **out)
{
    return row(db, ar, int_id(id),
               "SELECT id::text, name, email, " EPOCH_MS("\"emailVerified\"")
               ", image FROM users WHERE id = $1::int4",
               1, &id, &m_user, out);
}

static authc_err pg_session(void *db, authc_arena *ar, const char *token,
                            authc_session_row **out)
{
    return row(db, ar, true,
               "SELECT id::text, \"sessionToken\", \"userId\"::text, "
               EPOCH_MS("expires") " FROM sessions WHERE \"sessionToken\" = $1",
               1, &token, &m_session, out);
}

static authc_err pg_account(void *db, authc_arena *ar, const char *provider,
                            const char *pai, authc_account **out)
{
    const char *v[2] = {provider, pai};
    return row(db, ar, true,
               "SELECT id::text, \"userId\"::text, type, provider, "
               "\"providerAccountId\", refresh_token, access_token, "
               "expires_at, token_type, scope, id_token, session_state "
               "FROM accounts WHERE provider = $1 AND \"providerAccountId\" = $2",
               2, v, &m_account, out);
}

static authc_err pg_vt(void *db, authc_arena *ar, const char *identifier,
                       const char *token, authc_verification_token **out)
{
    const char *v[2] = {identifier, token};
    return row(db, ar, true,
               "SELECT identifier, token, " EPOCH_MS("expires")
               " FROM verification_token WHERE identifier = $1 AND token = $2",
               2, v, &m_vt, out);
}

static authc_err pg_authn(void *db, authc_arena *ar, const char *cred,
                          authc_authenticator **out)
{
    return row(db, ar, true,
               "SELECT \"credentialID\", \"userId\"::text, "
               "\"providerAccountId\", \"credentialPublicKey\", counter, "
               "\"credentialDeviceType\", \"credentialBackedUp\", transports "
               "FROM authenticators WHERE \"credentialID\" = $1",
               1, &cred, &m_authn, out);
}

CONF_DB(postgres, pg);
