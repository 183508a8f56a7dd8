/* sqlite_schema.h — the SQLite schema authc migrates to: the Auth.js Drizzle
 * SQLite layout (spec/adapters.md §6), as C string constants. */
#ifndef AUTHC_SQLITE_SCHEMA_H
#define AUTHC_SQLITE_SCHEMA_H

/* PRAGMA user_version written after a successful migration. A Drizzle-made
 * file has 0 and the same tables, so every statement is IF NOT EXISTS and
 * uses Drizzle's index names: migrating such a file changes nothing but
 * adds what is missing (e.g. the authenticator table of older apps). */
#define AUTHC_SQLITE_SCHEMA_VERSION 1

/* Dates (emailVerified, every expires) are INTEGER epoch milliseconds,
 * expires_at INTEGER seconds, credentialBackedUp 0/1, ids TEXT UUIDs. */
static const char AUTHC_SQLITE_SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS \"user\" (\n"
    "  \"id\" TEXT PRIMARY KEY NOT NULL,\n"
    "  \"name\" TEXT,\n"
    "  \"email\" TEXT,\n"
    "  \"emailVerified\" INTEGER,\n"
    "  \"image\" TEXT\n"
    ");\n"
    "CREATE UNIQUE INDEX IF NOT EXISTS \"user_email_unique\" ON \"user\" (\"email\");\n"
    "CREATE TABLE IF NOT EXISTS \"account\" (\n"
    "  \"userId\" TEXT NOT NULL,\n"
    "  \"type\" TEXT NOT NULL,\n"
    "  \"provider\" TEXT NOT NULL,\n"
    "  \"providerAccountId\" TEXT NOT NULL,\n"
    "  \"refresh_token\" TEXT,\n"
    "  \"access_token\" TEXT,\n"
    "  \"expires_at\" INTEGER,\n"
    "  \"token_type\" TEXT,\n"
    "  \"scope\" TEXT,\n"
    "  \"id_token\" TEXT,\n"
    "  \"session_state\" TEXT,\n"
    "  PRIMARY KEY (\"provider\", \"providerAccountId\"),\n"
    "  FOREIGN KEY (\"userId\") REFERENCES \"user\" (\"id\") ON UPDATE NO ACTION ON DELETE CASCADE\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS \"session\" (\n"
    "  \"sessionToken\" TEXT PRIMARY KEY NOT NULL,\n"
    "  \"userId\" TEXT NOT NULL,\n"
    "  \"expires\" INTEGER NOT NULL,\n"
    "  FOREIGN KEY (\"userId\") REFERENCES \"user\" (\"id\") ON UPDATE NO ACTION ON DELETE CASCADE\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS \"verificationToken\" (\n"
    "  \"identifier\" TEXT NOT NULL,\n"
    "  \"token\" TEXT NOT NULL,\n"
    "  \"expires\" INTEGER NOT NULL,\n"
    "  PRIMARY KEY (\"identifier\", \"token\")\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS \"authenticator\" (\n"
    "  \"credentialID\" TEXT NOT NULL,\n"
    "  \"userId\" TEXT NOT NULL,\n"
    "  \"providerAccountId\" TEXT NOT NULL,\n"
    "  \"credentialPublicKey\" TEXT NOT NULL,\n"
    "  \"counter\" INTEGER NOT NULL,\n"
    "  \"credentialDeviceType\" TEXT NOT NULL,\n"
    "  \"credentialBackedUp\" INTEGER NOT NULL,\n"
    "  \"transports\" TEXT,\n"
    "  PRIMARY KEY (\"userId\", \"credentialID\"),\n"
    "  FOREIGN KEY (\"userId\") REFERENCES \"user\" (\"id\") ON UPDATE NO ACTION ON DELETE CASCADE\n"
    ");\n"
    "CREATE UNIQUE INDEX IF NOT EXISTS \"authenticator_credentialID_unique\"\n"
    "  ON \"authenticator\" (\"credentialID\");\n";

/* After migrating, each of these must prepare: it proves an existing file
 * (e.g. one an Auth.js app made) has every column authc reads. */
static const char *const AUTHC_SQLITE_SCHEMA_CHECKS[] = {
    "SELECT \"id\", \"name\", \"email\", \"emailVerified\", \"image\" FROM \"user\" LIMIT 0",
    "SELECT \"userId\", \"type\", \"provider\", \"providerAccountId\", \"refresh_token\", "
    "\"access_token\", \"expires_at\", \"token_type\", \"scope\", \"id_token\", "
    "\"session_state\" FROM \"account\" LIMIT 0",
    "SELECT \"sessionToken\", \"userId\", \"expires\" FROM \"session\" LIMIT 0",
    "SELECT \"identifier\", \"token\", \"expires\" FROM \"verificationToken\" LIMIT 0",
    "SELECT \"credentialID\", \"userId\", \"providerAccountId\", \"credentialPublicKey\", "
    "\"counter\", \"credentialDeviceType\", \"credentialBackedUp\", \"transports\" "
    "FROM \"authenticator\" LIMIT 0",
};

#endif
