/* pg_batch_main.c — authc_pg_batch postgres <url>: the PostgreSQL adapter's
 * batched session lookups under many threads (run it through with-servers.sh).
 *
 * Checks:
 *  B1 16 threads x 500 lookups (one batch at a time, so batches form) over
 *     existing, expired and deleted sessions, unknown tokens and non-ASCII
 *     ones: every caller gets exactly its own session and user (token, ids,
 *     e-mail, expires and emailVerified to the millisecond, dates before
 *     1970 and 2000 included) or none, and no error; every ASCII lookup
 *     went through a batch of at most PG_BATCH_MAX;
 *  B2 the same with 4 threads and the default number of batches;
 *  B3 16 threads while another connection terminates the adapter's
 *     backends again and again: each answer is right or an error, none
 *     wrong, nobody hangs;
 *  B4 server frozen under 16 waiting threads: every caller of the failed
 *     batches gets AUTHC_ERR_ADAPTER and no rows, none hangs; thawed, a
 *     lookup works again;
 *  P  authc_pool_threads: PG_BATCH_MAX database workers for sessions in
 *     PostgreSQL (through a wrapper too), 4 for JWT sessions or memory.
 * Prints the batch sizes seen. A hang fails through ctest's TIMEOUT. */
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adapters/adapters_int.h"
#include "adapters/postgres_int.h"
#include "authc.h"
#include "authc/adapter.h"

#define USERS 64
#define UNKNOWN 16 /* indices USERS.. are tokens never stored */
#define MAX_THREADS 16

static int failures;

static void check(bool ok, const char *what, long v)
{
    printf("%s %s (%ld)\n", ok ? "ok  " : "FAIL", what, v);
    fflush(stdout);
    if (!ok)
        failures++;
}

static void log_cb(void *ud, const char *level, const char *msg)
{
    (void)ud;
    (void)level;
    (void)msg; /* B3/B4 log many expected errors: keep the output short */
}

static bool server(const char *var)
{
    const char *cmd = getenv(var);
    if (!cmd || !*cmd) {
        fprintf(stderr, "%s is not set (run through with-servers.sh)\n", var);
        return false;
    }
    return system(cmd) == 0;
}

/* What the database holds for index i. */
typedef struct expect {
    char token[48];
    char uid[16];
    char email[48];
    int64_t expires, email_verified;
    bool present; /* false: deleted, or never stored */
} expect;

static expect g_exp[USERS + UNKNOWN];

/* Emailverified values around both epochs, to check the exact ms floor. */
static const int64_t VERIFIED[] = {-1, INT64_C(946684799999),
                                   INT64_C(946684800000),
                                   INT64_C(1700000000123), AUTHC_NO_TIME,
                                   INT64_C(-86400001)};

static bool setup(authc_adapter *ad)
{
    authc_arena *ar = authc_arena_new();
    int64_t now = (int64_t)time(NULL) * 1000;
    bool ok = ar != NULL;
    for (int i = 0; ok && i < USERS + UNKNOWN; i++) {
        expect *x = &g_exp[i];
        snprintf(x->token, sizeof x->token, "batch-%d-%08x", i,
                 (unsigned)(i * 2654435761u));
        if (i >= USERS)
            continue;
        snprintf(x->email, sizeof x->email, "batch-%d@example.com", i);
        x->email_verified = VERIFIED[i % 6];
        /* Every third one expired; distinct odd milliseconds. */
        x->expires = now + (i % 3 == 0 ? -3600000 : 3600000) + i * 1001 + 7;
        authc_user in = {.email = x->email, .name = "B",
                         .email_verified = x->email_verified},
                   *u = NULL;
        ok = ad->ops->create_user(ad, ar, &in, &u) == AUTHC_OK && u;
        if (!ok)
            break;
        snprintf(x->uid, sizeof x->uid, "%s", u->id);
        authc_session_row s = {.session_token = x->token, .user_id = x->uid,
                               .expires = x->expires};
        ok = ad->ops->create_session(ad, ar, &s, NULL) == AUTHC_OK;
        x->present = true;
        if (ok && i % 4 == 3) { /* deleted again: missing */
            ok = ad->ops->delete_session(ad, ar, x->token, NULL) == AUTHC_OK;
            x->present = false;
        }
    }
    authc_arena_free(ar);
    return ok;
}

/* True when the answer for g_exp[i] is exactly what the database holds. */
static bool right(int i, const authc_session_row *s, const authc_user *u)
{
    const expect *x = &g_exp[i];
    if (!x->present)
        return !s && !u;
    return s && u && s->session_token && strcmp(s->session_token, x->token) == 0 &&
           s->user_id && strcmp(s->user_id, x->uid) == 0 &&
           s->expires == x->expires && u->id && strcmp(u->id, x->uid) == 0 &&
           u->email && strcmp(u->email, x->email) == 0 &&
           u->email_verified == x->email_verified;
}

typedef struct job {
    authc_adapter *ad;
    int lookups, seed;
    long wrong, errors, batched; /* batched: ASCII lookups made */
} job;

static void *worker(void *p)
{
    job *j = p;
    unsigned seed = (unsigned)j->seed;
    for (int k = 0; k < j->lookups; k++) {
        authc_arena *ar = authc_arena_new();
        authc_session_row *s = NULL;
        authc_user *u = NULL;
        if (!ar) {
            j->errors++;
            continue;
        }
        if (k % 50 == 49) {
            /* Non-ASCII: valid UTF-8 unknown, then bytes invalid in UTF-8
             * (an error is fine for that caller alone). */
            const char *tok = k % 100 == 99 ? "\xff\xfe-bad" : "caf\xc3\xa9";
            authc_err e = j->ad->ops->get_session_and_user(j->ad, ar, tok,
                                                           &s, &u);
            if (s || u)
                j->wrong++;
            else if (e && tok[0] == 'c')
                j->errors++;
        } else {
            int i = (int)(rand_r(&seed) % (USERS + UNKNOWN));
            authc_err e = j->ad->ops->get_session_and_user(
                j->ad, ar, g_exp[i].token, &s, &u);
            j->batched++;
            if (e)
                j->errors++;
            else if (!right(i, s, u))
                j->wrong++;
        }
        authc_arena_free(ar);
    }
    return NULL;
}

/* n threads x lookups; sums into *sum. False when a thread did not start. */
static bool parallel(authc_adapter *ad, int n, int lookups, job *sum)
{
    pthread_t t[MAX_THREADS];
    job jobs[MAX_THREADS];
    int started = 0;
    *sum = (job){0};
    for (int i = 0; i < n; i++) {
        jobs[i] = (job){.ad = ad, .lookups = lookups, .seed = 17 + i};
        if (pthread_create(&t[i], NULL, worker, &jobs[i]) != 0)
            break;
        started++;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        sum->wrong += jobs[i].wrong;
        sum->errors += jobs[i].errors;
        sum->batched += jobs[i].batched;
    }
    return started == n;
}

static authc_adapter *open_with(const char *url, const char *params)
{
    char u[1024], err[512];
    snprintf(u, sizeof u, "%s%c%s", url, strchr(url, '?') ? '&' : '?',
             params);
    authc_adapter *ad = authc_adapter_open(u, log_cb, NULL, err, sizeof err);
    if (!ad)
        fprintf(stderr, "open: %s\n", err);
    return ad;
}

static void report(const char *phase, authc_adapter *ad)
{
    pg_batch_stats st;
    authc__pg_batch_stats(ad, &st);
    printf("     %s: %llu lookups in %llu statements (%.2f a statement, "
           "largest %d)\n", phase, (unsigned long long)st.lookups,
           (unsigned long long)st.batches,
           st.batches ? (double)st.lookups / (double)st.batches : 0.0,
           st.largest);
}

/* B1/B2: n threads, lookups each, on an adapter opened with params. */
static void run_correct(const char *url, const char *params, int n,
                        int lookups, const char *name)
{
    authc_adapter *ad = open_with(url, params);
    check(ad != NULL, name, 0);
    if (!ad)
        return;
    job sum;
    char what[160];
    bool started = parallel(ad, n, lookups, &sum);
    snprintf(what, sizeof what, "%s: every thread ran", name);
    check(started, what, n);
    snprintf(what, sizeof what, "%s: wrong answers", name);
    check(sum.wrong == 0, what, sum.wrong);
    snprintf(what, sizeof what, "%s: errors", name);
    check(sum.errors == 0, what, sum.errors);
    pg_batch_stats st;
    authc__pg_batch_stats(ad, &st);
    snprintf(what, sizeof what, "%s: every ASCII lookup went through a "
             "batch", name);
    check(st.lookups == (uint64_t)sum.batched, what, (long)st.lookups);
    snprintf(what, sizeof what, "%s: batches of 1..%d", name, PG_BATCH_MAX);
    check(st.largest >= 1 && st.largest <= PG_BATCH_MAX, what, st.largest);
    report(name, ad);
    authc_adapter_close(ad);
}

typedef struct killer {
    const char *url;
    int rounds;
    int killed;
} killer;

/* Terminates the adapter's backends (application_name authc) every 20 ms. */
static void *kill_backends(void *p)
{
    killer *k = p;
    PGconn *c = PQconnectdb(k->url);
    for (int i = 0; PQstatus(c) == CONNECTION_OK && i < k->rounds; i++) {
        PGresult *r = PQexec(c, "SELECT count(pg_terminate_backend(pid)) "
                                "FROM pg_stat_activity WHERE "
                                "application_name = 'authc'");
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            k->killed += atoi(PQgetvalue(r, 0, 0));
        PQclear(r);
        usleep(20000);
    }
    PQfinish(c);
    return NULL;
}

static void run_killed(const char *url)
{
    authc_adapter *ad = open_with(url, "session_batches=2");
    check(ad != NULL, "B3 open", 0);
    if (!ad)
        return;
    killer k = {url, 25, 0};
    pthread_t kt;
    bool kstarted = pthread_create(&kt, NULL, kill_backends, &k) == 0;
    job sum;
    bool started = parallel(ad, 16, 300, &sum);
    if (kstarted)
        pthread_join(kt, NULL);
    check(started && kstarted, "B3 16 threads and the killer ran", 0);
    check(k.killed > 0, "B3 backends terminated", k.killed);
    check(sum.wrong == 0, "B3 wrong answers (errors are fine)", sum.wrong);
    printf("     B3: %ld errors of %ld lookups\n", sum.errors, sum.batched);
    authc_session_row *s = NULL;
    authc_user *u = NULL;
    authc_arena *ar = authc_arena_new();
    authc_err e = ad->ops->get_session_and_user(ad, ar, g_exp[1].token, &s, &u);
    check(e == AUTHC_OK && right(1, s, u), "B3 a lookup works afterwards", e);
    authc_arena_free(ar);
    report("B3", ad);
    authc_adapter_close(ad);
}

typedef struct one {
    authc_adapter *ad;
    int i;
    authc_err e;
    bool rows;
} one;

static void *lookup_once(void *p)
{
    one *o = p;
    authc_arena *ar = authc_arena_new();
    authc_session_row *s = NULL;
    authc_user *u = NULL;
    o->e = ar ? o->ad->ops->get_session_and_user(o->ad, ar, g_exp[o->i].token,
                                                 &s, &u)
              : AUTHC_ERR_NOMEM;
    o->rows = s || u;
    authc_arena_free(ar);
    return NULL;
}

static void run_frozen(const char *url)
{
    authc_adapter *ad =
        open_with(url, "session_batches=1&statement_timeout=500&connect_timeout=2");
    check(ad != NULL, "B4 open", 0);
    if (!ad)
        return;
    check(server("AUTHC_SERVER_FREEZE"), "B4 server frozen", 0);
    pthread_t t[MAX_THREADS];
    one o[MAX_THREADS];
    int started = 0;
    for (int i = 0; i < MAX_THREADS; i++) {
        o[i] = (one){ad, i % 8, AUTHC_OK, false};
        if (pthread_create(&t[i], NULL, lookup_once, &o[i]) != 0)
            break;
        started++;
    }
    int failed = 0, rows = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        failed += o[i].e == AUTHC_ERR_ADAPTER;
        rows += o[i].rows;
    }
    check(started == MAX_THREADS && failed == started,
          "B4 every caller got AUTHC_ERR_ADAPTER", failed);
    check(rows == 0, "B4 no rows with an error", rows);
    pg_batch_stats st;
    authc__pg_batch_stats(ad, &st);
    check(st.largest >= 2, "B4 a failed batch had several callers",
          st.largest);
    report("B4", ad);
    check(server("AUTHC_SERVER_THAW"), "B4 server thawed", 0);
    authc_arena *ar = authc_arena_new();
    authc_session_row *s = NULL;
    authc_user *u = NULL;
    authc_err e = ad->ops->get_session_and_user(ad, ar, g_exp[1].token, &s, &u);
    check(e == AUTHC_OK && right(1, s, u), "B4 a lookup works after the thaw",
          e);
    authc_arena_free(ar);
    authc_adapter_close(ad);
}

/* The worker threads a server runs for an instance whose sessions live in
 * ad (strategy "database" or "jwt"). */
static size_t db_threads(authc_adapter *ad, const char *strategy)
{
    char err[512];
    authc_config *cfg = authc_config_new();
    authc_config_set(cfg, "secret", "pg-batch-test-secret-0123456789abcdef", err, sizeof err);
    authc_config_set(cfg, "trust_host", "1", err, sizeof err);
    authc_config_set(cfg, "session.strategy", strategy, err, sizeof err);
    authc_config_set_adapter(cfg, ad);
    authc *a = authc_new(cfg, err, sizeof err);
    if (!a) {
        fprintf(stderr, "authc_new: %s\n", err);
        return 0;
    }
    size_t n = authc_pool_threads(a, AUTHC_POOL_DB);
    check(authc_pool_threads(a, AUTHC_POOL_INLINE) == 0 && authc_pool_threads(a, AUTHC_POOL_NET) == 16 &&
              authc_pool_threads(a, AUTHC_POOL_CPU) == 2,
          "P other pools keep their sizes", 0);
    authc_free(a);
    return n;
}

/* P: a server runs enough database workers for a whole batch when
 * sessions live in PostgreSQL (through a wrapper too), and 4 otherwise. */
static void run_pool_threads(authc_adapter *ad)
{
    check(authc__adapter_callers(ad) == PG_BATCH_MAX, "P callers: a batch's worth",
          (long)authc__adapter_callers(ad));
    authc_adapter_ops wops;
    authc_adapter w;
    authc_adapter_wrap(&w, &wops, ad);
    check(authc__adapter_callers(&w) == PG_BATCH_MAX, "P callers through a wrapper",
          (long)authc__adapter_callers(&w));
    size_t n = db_threads(ad, "database");
    check(n == PG_BATCH_MAX, "P database sessions: PG_BATCH_MAX workers", (long)n);
    n = db_threads(ad, "jwt");
    check(n == 4, "P JWT sessions: 4 workers", (long)n);
    char err[256];
    authc_adapter *mem = authc_adapter_open("memory:", NULL, NULL, err, sizeof err);
    check(mem && authc__adapter_callers(mem) == 0, "P memory: no preference", 0);
    if (mem) {
        n = db_threads(mem, "database");
        check(n == 4, "P memory database sessions: 4 workers", (long)n);
        authc_adapter_close(mem);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "postgres") != 0) {
        fprintf(stderr, "usage: %s postgres <url>   (through "
                "with-servers.sh)\n", argv[0]);
        return 2;
    }
    const char *url = argv[2];
    authc_adapter *ad = open_with(url, "pool_size=2");
    if (!ad)
        return 1;
    check(ad->ops->migrate(ad) == AUTHC_OK, "migrate", 0);
    check(setup(ad), "users and sessions stored", USERS);
    run_pool_threads(ad);
    authc_adapter_close(ad);

    run_correct(url, "pool_size=4&session_batches=1", 16, 500, "B1");
    run_correct(url, "pool_size=4", 4, 500, "B2");
    run_killed(url);
    run_frozen(url);
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
