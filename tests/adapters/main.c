/* main.c — authc_conformance <backend> <url>: runs the adapter conformance
 * suite against one backend; exit 0 only when every check passed. */
#include <stdio.h>
#include <string.h>

#include "conformance.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s memory|sqlite|postgres|redis <url>\n"
                "  e.g. %s memory memory:\n"
                "       %s sqlite sqlite:/tmp/test.db\n",
                argv[0], argv[0], argv[0]);
        return 2;
    }
    const conf_db *db = NULL;
    if (strcmp(argv[1], "memory") == 0)
        db = &conf_db_memory;
    else if (strcmp(argv[1], "sqlite") == 0)
        db = &conf_db_sqlite;
#ifdef CONF_HAVE_POSTGRES
    else if (strcmp(argv[1], "postgres") == 0)
        db = &conf_db_postgres;
#endif
#ifdef CONF_HAVE_REDIS
    else if (strcmp(argv[1], "redis") == 0)
        db = &conf_db_redis;
#endif
    if (!db) {
        fprintf(stderr, "%s: unknown or not built backend \"%s\"\n", argv[0],
                argv[1]);
        return 2;
    }
    printf("adapter conformance: %s\n", db->name);
    return conf_run(db, argv[2]) == 0 ? 0 : 1;
}
