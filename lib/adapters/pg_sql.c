/* pg_sql.c — the SQL of the PostgreSQL backend: one prepared statement per
 * adapter method on the @auth/pg-adapter schema, and the schema itself. */
#include "adapters/postgres_int.h"

/* ---- SQL ---------------------------------------------------------------- */

/* Timestamps travel as epoch milliseconds (int8 text) both ways (but the
 * session lookup's, binary), so nothing depends on the session
 * TimeZone/DateStyle. floor() keeps values written with µs by other
 * clients on the same millisecond. */
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

const pg_stmt authc__pg_stmts[ST__COUNT] = {
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
    /* Every GET /session of a database session runs this, for one token
     * or a batch of them (postgres_batch.c), as binary text[] $1; the
     * result comes in binary format, so the timestamps arrive as int8 µs
     * (exact, converted in C) instead of through numeric arithmetic (~9% of
     * the backend's instructions per lookup). No ORDER BY or LIMIT:
     * "sessionToken" is unique (sessions_sessionToken_key), and each plan
     * node costs PostgreSQL its executor set-up on every execution (a Sort
     * and a Limit were 21% of the backend's instructions per statement).
     * Without that index (an old database with duplicates) the first row
     * PostgreSQL returns for a token is used, as pg-adapter does. */
    [ST_GET_SESSIONS_AND_USERS] = {"authc_get_sessions_and_users",
        "SELECT s.id::text, s.\"sessionToken\", s.\"userId\"::text, "
        "s.expires, u.id::text, u.name, u.email, u.\"emailVerified\", "
        "u.image FROM sessions s JOIN users u ON u.id = s.\"userId\" "
        "WHERE s.\"sessionToken\" = ANY($1::text[])", 1, true},
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
    [ST_ACCOUNT_BY_USER] = {"authc_get_account_by_user",
        "SELECT " ACCOUNT_COLS " FROM accounts WHERE \"userId\" = $1::int4 "
        "AND provider = $2 ORDER BY \"providerAccountId\", id LIMIT 1", 2, true},
    [ST_ACCOUNT_TOKENS] = {"authc_update_account_tokens",
        "UPDATE accounts SET access_token = $3, refresh_token = $4, "
        "expires_at = $5::int8, id_token = COALESCE($6, id_token), "
        "token_type = COALESCE($7, token_type), scope = COALESCE($8, scope) "
        "WHERE provider = $1 AND \"providerAccountId\" = $2 RETURNING "
        ACCOUNT_COLS, 8, true},
};

/* The pg-adapter schema.sql verbatim (made idempotent), then ours. */
const char *const authc__pg_migrate_tables[] = {
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
const char *const authc__pg_migrate_indexes[] = {
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

const size_t authc__pg_migrate_ntables =
    sizeof authc__pg_migrate_tables / sizeof *authc__pg_migrate_tables;
const size_t authc__pg_migrate_nindexes =
    sizeof authc__pg_migrate_indexes / sizeof *authc__pg_migrate_indexes;

_Static_assert(ST__COUNT <= 32, "the prepared bitmask is 32 bits");
