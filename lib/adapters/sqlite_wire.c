/* sqlite_wire.c — SQLite plumbing shared by the SQLite adapter and store:
 * the private (0600) database file, opening with PRAGMAs, closing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "adapters/sqlite_wire_int.h"

int authc__sqlite_create_private(const char *path)
{
    if (strcmp(path, ":memory:") == 0)
        return 0;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
        return 1;
    }
    return errno == EEXIST ? 0 : -1;
}

/* Owned by the caller (sqlite3_close). */
sqlite3 *authc__sqlite_open(const char *path, int busy_ms, const char *setup,
                            char *why, size_t wlen)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                 SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        snprintf(why, wlen, "open: %s",
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, busy_ms);
    char *msg = NULL;
    if (sqlite3_exec(db, setup, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(why, wlen, "setup: %s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

void authc__sqlite_close(sqlite3 *db, sqlite3_stmt **st, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sqlite3_finalize(st[i]);
    sqlite3_close(db);
}
