/* pg-batch-adapter.c — CPU per session lookup through the PostgreSQL
 * adapter (libauthc) from T threads: this process and the server's backends.
 *
 * Not built by CMake (a measuring tool, run by hand against a release
 * library, e.g. the one bench/run.sh builds):
 *   gcc -std=c17 -O2 -D_GNU_SOURCE -Iinclude -Ilib bench/pg-batch-adapter.c \
 *     build-release/libauthc.a $(pkg-config --libs openssl jansson libcurl \
 *     sqlite3 libpq hiredis libargon2 libcbor libfido2) -lpthread -lm \
 *     -o /tmp/pg-batch-adapter
 *   /tmp/pg-batch-adapter 'postgres://…/db' THREADS LOOKUPS_PER_THREAD
 * The database is the one bench/pg-batch.c describes (tokens
 * tok-%08d-aaaaaaaa-bbbb-cccc-dddddddddddd, 1..10000). Backend CPU is the
 * sum of /proc/<pid>/schedstat of the adapter's connections
 * (application_name authc), so run it on the server's machine. Built
 * against a library without batches, it measures one statement a lookup. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <libpq-fe.h>

#include "authc.h"
#include "authc/adapter.h"

/* postgres_int.h's counters, when the library has them. */
typedef struct stats {
    uint64_t batches, lookups;
    int largest;
} stats;
void authc__pg_batch_stats(authc_adapter *self, stats *out)
    __attribute__((weak));

typedef struct job {
    authc_adapter *ad;
    int lookups;
    unsigned seed;
    long errors, found;
} job;

static void *worker(void *p)
{
    job *j = p;
    char tok[64];
    for (int k = 0; k < j->lookups; k++) {
        authc_arena *ar = authc_arena_new();
        authc_session_row *s = NULL;
        authc_user *u = NULL;
        snprintf(tok, sizeof tok, "tok-%08d-aaaaaaaa-bbbb-cccc-dddddddddddd",
                 1 + (int)(rand_r(&j->seed) % 10000));
        if (j->ad->ops->get_session_and_user(j->ad, ar, tok, &s, &u))
            j->errors++;
        else
            j->found += s != NULL;
        authc_arena_free(ar);
    }
    return NULL;
}

static int64_t self_cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* Sum of the schedstat run time of the authc backends; their pids to pids. */
static int64_t backends_ns(PGconn *c, char *pids, size_t plen)
{
    PGresult *r = PQexec(c, "SELECT pid FROM pg_stat_activity WHERE "
                            "application_name = 'authc'");
    int64_t sum = 0;
    size_t n = 0;
    pids[0] = '\0';
    for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r);
         i++) {
        char path[64];
        long long ns = 0;
        snprintf(path, sizeof path, "/proc/%s/schedstat", PQgetvalue(r, i, 0));
        FILE *f = fopen(path, "r");
        if (f) {
            if (fscanf(f, "%lld", &ns) != 1)
                ns = 0;
            fclose(f);
        }
        sum += ns;
        if (n < plen)
            n += (size_t)snprintf(pids + n, plen - n, "%s%s", n ? "," : "",
                                  PQgetvalue(r, i, 0));
    }
    PQclear(r);
    return sum;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s URL THREADS LOOKUPS_PER_THREAD\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[2]), lookups = atoi(argv[3]);
    if (threads < 1 || threads > 256 || lookups < 1)
        return 2;
    char err[512];
    authc_adapter *ad = authc_adapter_open(argv[1], NULL, NULL, err, sizeof err);
    /* Our own connection: the URL without the adapter's parameters. */
    char plain[1024];
    snprintf(plain, sizeof plain, "%.*s", (int)strcspn(argv[1], "?"), argv[1]);
    PGconn *c = PQconnectdb(plain);
    if (!ad || PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "open: %s %s\n", ad ? "" : err, PQerrorMessage(c));
        return 1;
    }
    pthread_t *t = calloc((size_t)threads, sizeof *t);
    job *jobs = calloc((size_t)threads, sizeof *jobs);
    if (!t || !jobs)
        return 1;
    /* Warm-up: every pool connection opened and its statement prepared. */
    for (int round = 0; round < 2; round++) {
        int64_t b0 = 0, c0 = 0;
        char pids[256];
        stats s0 = {0}, s1 = {0};
        if (round == 1) {
            b0 = backends_ns(c, pids, sizeof pids);
            c0 = self_cpu_ns();
            if (authc__pg_batch_stats)
                authc__pg_batch_stats(ad, &s0);
        }
        int n = round ? lookups : 200;
        for (int i = 0; i < threads; i++) {
            jobs[i] = (job){ad, n, 7u + (unsigned)i, 0, 0};
            pthread_create(&t[i], NULL, worker, &jobs[i]);
        }
        long errors = 0, found = 0;
        for (int i = 0; i < threads; i++) {
            pthread_join(t[i], NULL);
            errors += jobs[i].errors;
            found += jobs[i].found;
        }
        if (round == 0)
            continue;
        int64_t c1 = self_cpu_ns(), b1 = backends_ns(c, pids, sizeof pids);
        double total = (double)threads * lookups;
        printf("threads=%d lookups=%.0f found=%ld errors=%ld client %.0f "
               "ns/lookup backend %.0f ns/lookup (backends %s)", threads,
               total, found, errors, (double)(c1 - c0) / total,
               (double)(b1 - b0) / total, pids);
        if (authc__pg_batch_stats) {
            authc__pg_batch_stats(ad, &s1);
            uint64_t b = s1.batches - s0.batches, l = s1.lookups - s0.lookups;
            printf(" batches %.2f tokens each (largest %d)",
                   b ? (double)l / (double)b : 0.0, s1.largest);
        }
        printf("\n");
    }
    PQfinish(c);
    authc_adapter_close(ad);
    free(t);
    free(jobs);
    return 0;
}
