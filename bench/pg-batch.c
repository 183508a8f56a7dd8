/* pg-batch.c — measures PostgreSQL backend CPU and client CPU per session
 * lookup for variants of ST_GET_SESSION_AND_USER (one token, N tokens).
 *
 * Not built by CMake (a measuring tool, run by hand):
 *   cc -O2 -o /tmp/pg-batch bench/pg-batch.c -I$(pg_config --includedir) -lpq
 *   /tmp/pg-batch 'postgres://postgres@127.0.0.1:PORT/db' VARIANT N LOOKUPS
 * VARIANT: cur  (the statement as in lib/adapters/pg_sql.c before batching)
 *          any  (= ANY($1::text[]), epoch ms by numeric arithmetic, text)
 *          bin  (= ANY($1::text[]), timestamptz in binary result format)
 * The database needs the pg-adapter sessions/users tables filled with
 * tokens 'tok-%08d-aaaaaaaa-bbbb-cccc-dddddddddddd' for 1..10000 (see the
 * report of issue #14). Backend CPU is read from /proc/<pid>/schedstat
 * (ns), so run this on the machine of the server, as a user that may read
 * it. Prints ns of backend and client CPU per lookup. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#define MS(col) "(floor(extract(epoch FROM " col ") * 1000))::int8"
#define USER_TAIL "u.id::text, u.name, u.email, "
#define FROM_ANY                                                             \
    " FROM sessions s JOIN users u ON u.id = s.\"userId\" "                  \
    "WHERE s.\"sessionToken\" = ANY($1::text[])"

static const char *SQL_CUR =
    "SELECT s.id::text, s.\"sessionToken\", s.\"userId\"::text, "
    MS("s.expires") ", " USER_TAIL MS("u.\"emailVerified\"") ", u.image "
    "FROM sessions s JOIN users u ON u.id = s.\"userId\" "
    "WHERE s.\"sessionToken\" = $1";
static const char *SQL_ANY =
    "SELECT s.id::text, s.\"sessionToken\", s.\"userId\"::text, "
    MS("s.expires") ", " USER_TAIL MS("u.\"emailVerified\"") ", u.image"
    FROM_ANY;
static const char *SQL_BIN =
    "SELECT s.id::text, s.\"sessionToken\", s.\"userId\"::text, s.expires, "
    USER_TAIL "u.\"emailVerified\", u.image" FROM_ANY;

static int64_t backend_ns(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/schedstat", pid);
    FILE *f = fopen(path, "r");
    long long ns = -1;
    if (f) {
        if (fscanf(f, "%lld", &ns) != 1)
            ns = -1;
        fclose(f);
    }
    return ns;
}

static int64_t thread_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

/* A binary text[] of n tokens into buf; returns its length. */
static int text_array(unsigned char *buf, char tok[][64], int n)
{
    unsigned char *p = buf;
    put32(p, 1), put32(p + 4, 0), put32(p + 8, 25), put32(p + 12, n),
        put32(p + 16, 1);
    p += 20;
    for (int i = 0; i < n; i++) {
        uint32_t len = (uint32_t)strlen(tok[i]);
        put32(p, len);
        memcpy(p + 4, tok[i], len);
        p += 4 + len;
    }
    return (int)(p - buf);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s URL cur|any|bin N LOOKUPS\n", argv[0]);
        return 2;
    }
    const char *var = argv[2];
    int n = atoi(argv[3]), lookups = atoi(argv[4]);
    if (n < 1 || n > 64 || lookups < n)
        return 2;
    bool cur = strcmp(var, "cur") == 0, bin = strcmp(var, "bin") == 0;
    if (cur && n != 1)
        return 2;
    const char *sql = cur ? SQL_CUR : bin ? SQL_BIN : SQL_ANY;
    PGconn *c = PQconnectdb(argv[1]);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "%s", PQerrorMessage(c));
        return 1;
    }
    Oid types[1] = {cur ? 0 : 1009};
    PGresult *r = PQprepare(c, "q", sql, 1, types);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "%s", PQerrorMessage(c));
        return 1;
    }
    PQclear(r);
    int pid = PQbackendPID(c);
    char tok[64][64];
    unsigned char arr[64 * 70 + 32];
    long rows = 0, sink = 0;
    srand(7);
    int64_t b0 = 0, t0 = 0;
    int warm = 50; /* fixed, so totals of two runs differ by lookups only */
    for (int it = -warm; it < lookups / n; it++) {
        if (it == 0) {
            b0 = backend_ns(pid);
            t0 = thread_ns();
        }
        for (int i = 0; i < n; i++)
            snprintf(tok[i], sizeof tok[i],
                     "tok-%08d-aaaaaaaa-bbbb-cccc-dddddddddddd",
                     1 + rand() % 10000);
        const char *vals[1];
        int lens[1], fmts[1];
        if (cur) {
            vals[0] = tok[0];
            lens[0] = 0;
            fmts[0] = 0;
        } else {
            lens[0] = text_array(arr, tok, n);
            vals[0] = (const char *)arr;
            fmts[0] = 1;
        }
        r = PQexecPrepared(c, "q", 1, vals, lens, fmts, bin ? 1 : 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            fprintf(stderr, "%s", PQerrorMessage(c));
            return 1;
        }
        for (int i = 0; i < PQntuples(r); i++)
            for (int j = 0; j < PQnfields(r); j++)
                sink += PQgetvalue(r, i, j)[0];
        if (it >= 0)
            rows += PQntuples(r);
        PQclear(r);
    }
    int64_t b1 = backend_ns(pid), t1 = thread_ns();
    int done = lookups / n * n;
    printf("pid=%d %s N=%d lookups=%d rows=%ld backend %.0f ns/lookup client "
           "%.0f ns/lookup (%ld)\n",
           pid, var, n, done, rows, (double)(b1 - b0) / done,
           (double)(t1 - t0) / done, sink & 1);
    PQfinish(c);
    return 0;
}
