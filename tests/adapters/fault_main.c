/* fault_main.c — authc_adapter_fault <postgres|redis> <url>: stops, restarts and
 * freezes the server under a live adapter (run it through with-servers.sh).
 *
 * Checks, against one adapter that is never re-created:
 *  F1 all pool connections are in use and work;
 *  F2 server restarted while the pool is idle: the very next calls, writes
 *     included, succeed from 4 threads (stale connections are noticed
 *     before use and reopened, without a single error);
 *  F3 server stopped: every call returns AUTHC_ERR_ADAPTER, fast, no crash;
 *  F4 server started again: calls succeed;
 *  F5 server frozen (SIGSTOP): a call gives up with AUTHC_ERR_ADAPTER within
 *     the configured timeout instead of hanging;
 *  F6 server thawed: calls succeed again.
 * The server is driven by the shell commands with-servers.sh exports in
 * AUTHC_SERVER_STOP / _START / _FREEZE / _THAW. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authc.h"
#include "authc/adapter.h"

#define THREADS 4
/* A refused connection must fail in well under this (ms). */
#define FAST_MS 1500
/* Frozen server: statement/command timeout below plus connect timeout and
 * slack must stay under this (ms). */
#define FROZEN_MAX_MS 8000

static int failures;
static int error_logs;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static void log_cb(void *ud, const char *level, const char *msg)
{
    (void)ud;
    pthread_mutex_lock(&log_mu);
    if (strcmp(level, "error") == 0)
        error_logs++;
    fprintf(stderr, "  [%s] %s\n", level, msg);
    pthread_mutex_unlock(&log_mu);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void check(bool ok, const char *fmt, const char *what, long v)
{
    if (ok) {
        printf("ok   ");
    } else {
        printf("FAIL ");
        failures++;
    }
    printf(fmt, what, v);
    printf("\n");
    fflush(stdout);
}

/* Runs one of AUTHC_SERVER_*; false when unset or it failed. */
static bool server(const char *var)
{
    const char *cmd = getenv(var);
    if (!cmd || !*cmd) {
        fprintf(stderr, "%s is not set (run through with-servers.sh)\n", var);
        return false;
    }
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "%s (%s) exited with %d\n", var, cmd, rc);
    return rc == 0;
}

/* Creates a user with a fresh e-mail; *id owned by ar. */
static authc_err make_user(authc_adapter *ad, authc_arena *ar, const char **id)
{
    static int seq;
    char email[64];
    snprintf(email, sizeof email, "fault-%ld-%d@example.com", (long)time(NULL),
             __atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST));
    authc_user in = {.email = email, .email_verified = AUTHC_NO_TIME}, *u = NULL;
    authc_err e = ad->ops->create_user(ad, ar, &in, &u);
    if (!e && (!u || !u->id))
        e = AUTHC_ERR_INVALID;
    if (!e)
        *id = u->id;
    return e;
}

/* One round of typical calls: user, session, read back, token. */
static authc_err round_trip(authc_adapter *ad)
{
    authc_arena *ar = authc_arena_new();
    if (!ar)
        return AUTHC_ERR_NOMEM;
    const char *uid = NULL;
    authc_err e = make_user(ad, ar, &uid);
    char tok[64];
    snprintf(tok, sizeof tok, "fault-session-%p-%lld", (void *)ar,
             (long long)now_ms());
    authc_session_row s = {.session_token = tok, .user_id = uid,
                           .expires = (int64_t)time(NULL) * 1000 + 3600000};
    authc_session_row *gs = NULL;
    authc_user *gu = NULL;
    if (!e)
        e = ad->ops->create_session(ad, ar, &s, NULL);
    if (!e)
        e = ad->ops->get_session_and_user(ad, ar, tok, &gs, &gu);
    if (!e && (!gs || !gu || strcmp(gu->id, uid) != 0))
        e = AUTHC_ERR_INVALID;
    if (!e)
        e = ad->ops->delete_session(ad, ar, tok, NULL);
    authc_arena_free(ar);
    return e;
}

typedef struct job {
    authc_adapter *ad;
    int rounds;
    int failed;
} job;

static void *worker(void *p)
{
    job *j = p;
    for (int i = 0; i < j->rounds; i++)
        if (round_trip(j->ad) != AUTHC_OK)
            j->failed++;
    return NULL;
}

/* THREADS threads doing `rounds` round trips each; returns failures. */
static int parallel(authc_adapter *ad, int rounds)
{
    pthread_t t[THREADS];
    job jobs[THREADS];
    int started = 0, failed = 0;
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){.ad = ad, .rounds = rounds};
        if (pthread_create(&t[i], NULL, worker, &jobs[i]) != 0)
            break;
        started++;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        failed += jobs[i].failed;
    }
    return failed + (THREADS - started) * rounds;
}

/* Every method kind fails with AUTHC_ERR_ADAPTER, each within max_ms. */
static void expect_down(authc_adapter *ad, const char *uid, int64_t max_ms,
                        const char *phase)
{
    authc_arena *ar = authc_arena_new();
    authc_user *u = NULL, in = {.email = "down@example.com",
                                .email_verified = AUTHC_NO_TIME};
    authc_session_row *s = NULL;
    authc_verification_token *v = NULL;
    authc_verification_token vt = {.identifier = "down@example.com",
                                   .token = "0123", .expires = 1};
    authc_account acc = {.provider = "p", .provider_account_id = "pa", .access_token = "at",
                         .expires_at = AUTHC_NO_TIME}, *a = NULL;
    struct {
        const char *name;
        authc_err e;
        int64_t ms;
    } r[7];
    int n = 0;
    /* Runs one call, timing it, into r[n++]. */
#define TIMED(nm, call)                                                        \
    do {                                                                       \
        int64_t t0 = now_ms();                                                 \
        r[n].name = nm;                                                        \
        r[n].e = (call);                                                       \
        r[n++].ms = now_ms() - t0;                                             \
    } while (0)
    TIMED("get_user", ad->ops->get_user(ad, ar, uid, &u));
    TIMED("create_user", ad->ops->create_user(ad, ar, &in, &u));
    TIMED("get_session_and_user", ad->ops->get_session_and_user(ad, ar, "some-token", &s, &u));
    TIMED("create_verification_token", ad->ops->create_verification_token(ad, ar, &vt));
    TIMED("use_verification_token",
          ad->ops->use_verification_token(ad, ar, vt.identifier, vt.token, &v));
    TIMED("get_account_by_user", ad->ops->get_account_by_user(ad, ar, uid, "p", &a));
    TIMED("update_account_tokens", ad->ops->update_account_tokens(ad, ar, &acc, &a));
#undef TIMED
    for (int i = 0; i < n; i++) {
        char what[160];
        snprintf(what, sizeof what, "%s: %s -> AUTHC_ERR_ADAPTER (got %d)",
                 phase, r[i].name, (int)r[i].e);
        check(r[i].e == AUTHC_ERR_ADAPTER && r[i].ms <= max_ms,
              "%s in %ld ms", what, (long)r[i].ms);
    }
    authc_arena_free(ar);
}

/* The URL with short timeouts so the frozen-server phase stays short. */
static char *with_timeouts(const char *backend, const char *url)
{
    const char *extra = strcmp(backend, "postgres") == 0
                            ? "statement_timeout=1000&connect_timeout=2"
                            : "timeout=1000&connect_timeout=1000";
    size_t n = strlen(url) + strlen(extra) + 2;
    char *u = malloc(n);
    if (u)
        snprintf(u, n, "%s%c%s", url, strchr(url, '?') ? '&' : '?', extra);
    return u;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "postgres") != 0 &&
                      strcmp(argv[1], "redis") != 0)) {
        fprintf(stderr, "usage: %s postgres|redis <url>   (through "
                "with-servers.sh)\n", argv[0]);
        return 2;
    }
    bool persistent = strcmp(argv[1], "postgres") == 0;
    char *url = with_timeouts(argv[1], argv[2]);
    char err[512];
    authc_adapter *ad = url ? authc_adapter_open(url, log_cb, NULL, err,
                                                 sizeof err)
                            : NULL;
    free(url);
    if (!ad) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    printf("adapter fault test: %s\n", ad->ops->name);
    authc_err e = ad->ops->migrate(ad);
    check(e == AUTHC_OK, "%s (%ld)", "migrate", e);

    /* F1: fill the pool with working connections. */
    authc_arena *ar = authc_arena_new();
    const char *uid = NULL;
    e = make_user(ad, ar, &uid);
    check(e == AUTHC_OK, "%s (%ld)", "F1 create_user", e);
    int f = parallel(ad, 20);
    check(f == 0, "%s: %ld failed round trips", "F1 4 threads x 20", f);
    if (failures) {
        authc_adapter_close(ad);
        return 1;
    }

    /* F2: restarted while idle: every pooled connection is stale, and even
     * calls that are never retried (writes) must succeed at once. */
    if (!server("AUTHC_SERVER_STOP") || !server("AUTHC_SERVER_START"))
        return 1;
    int logs_before = error_logs;
    f = parallel(ad, 3);
    check(f == 0, "%s: %ld failed round trips",
          "F2 after an idle restart, 4 threads x 3", f);
    check(error_logs == logs_before, "%s (%ld error lines)",
          "F2 stale connections replaced without errors",
          error_logs - logs_before);
    if (persistent) {
        authc_user *u = NULL;
        e = ad->ops->get_user(ad, ar, uid, &u);
        check(e == AUTHC_OK && u, "%s (error %ld)",
              "F2 the user survived the restart", e);
    } else {
        e = make_user(ad, ar, &uid);  /* the server kept no data */
        check(e == AUTHC_OK, "%s (%ld)", "F2 create_user", e);
    }

    /* F3: stopped. Connections are refused: errors must come fast. */
    if (!server("AUTHC_SERVER_STOP"))
        return 1;
    logs_before = error_logs;
    expect_down(ad, uid, FAST_MS, "F3 stopped");
    check(error_logs > logs_before, "%s (%ld error lines)",
          "F3 failures are logged", error_logs - logs_before);

    /* F4: started again; the same adapter works at once. */
    if (!server("AUTHC_SERVER_START"))
        return 1;
    if (persistent) {
        authc_user *u = NULL;
        e = ad->ops->get_user(ad, ar, uid, &u);
        check(e == AUTHC_OK && u, "%s (error %ld)",
              "F4 first call after restart finds the old user", e);
    }
    f = parallel(ad, 10);
    check(f == 0, "%s: %ld failed round trips",
          "F4 after restart, 4 threads x 10", f);

    /* F5: frozen. Calls give up after the configured timeout. */
    f = parallel(ad, 2);  /* every pooled connection live again */
    if (!server("AUTHC_SERVER_FREEZE"))
        return 1;
    expect_down(ad, uid, FROZEN_MAX_MS, "F5 frozen");
    if (!server("AUTHC_SERVER_THAW"))
        return 1;

    /* F6: thawed. */
    e = round_trip(ad);
    check(e == AUTHC_OK, "%s (error %ld)", "F6 round trip after thaw", e);
    f = parallel(ad, 10);
    check(f == 0, "%s: %ld failed round trips", "F6 4 threads x 10", f);

    authc_arena_free(ar);
    authc_adapter_close(ad);
    printf("%s\n", failures ? "FAILED" : "all fault checks passed");
    return failures ? 1 : 0;
}
