/* db_files.h — removing a test's SQLite database: the file and the WAL/SHM
 * companions SQLite leaves beside it (shared by adapter and store tests). */
#ifndef AUTHC_TEST_DB_FILES_H
#define AUTHC_TEST_DB_FILES_H

#include <stdio.h>
#include <unistd.h>

static inline void db_files_remove(const char *path)
{
    char side[1100];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

#endif
