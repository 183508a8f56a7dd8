/* sqlite_wire_int.h — SQLite plumbing shared by the SQLite adapter
 * (sqlite_db.c) and the SQLite store (lib/store/store_sqlite.c). */
#ifndef AUTHC_SQLITE_WIRE_INT_H
#define AUTHC_SQLITE_WIRE_INT_H

#include <stddef.h>

#include <sqlite3.h>

/* Creates the database file at path with mode 0600 when it does not
 * exist (SQLite would make it 0644 less the umask and gives its -wal and
 * -shm files the database's mode). O_EXCL: an existing file is never
 * opened (closing an fd on it would drop the POSIX locks other SQLite
 * connections of this process hold). Returns 1 when it created the file,
 * 0 when it exists (or path is ":memory:"), -1 on failure (errno). */
int authc__sqlite_create_private(const char *path);

/* Opens path read-write (created if missing; NOMUTEX: one thread at a
 * time per connection) with a busy timeout of busy_ms and runs setup
 * (PRAGMAs). Returns the handle (sqlite3_close by the caller) or NULL
 * with the reason in why (wlen bytes). */
sqlite3 *authc__sqlite_open(const char *path, int busy_ms, const char *setup,
                            char *why, size_t wlen);

/* Finalizes the n statements st[] (NULL ones are skipped) and closes db. */
void authc__sqlite_close(sqlite3 *db, sqlite3_stmt **st, size_t n);

#endif
