/* fault.c — the store's fault checks: the server stopped, restarted,
 * frozen and thawed under one live handle (run via with-servers.sh).
 *
 * Fail closed: while the server is stopped or frozen every operation
 * returns AUTHC_ERR_ADAPTER (never a value, never "stored") and logs an
 * error naming the store; none hangs (each ends within a generous bound
 * derived from the configured timeouts — a hang check, not a speed one).
 * Recovery: once the server is back, calls succeed again by themselves. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_test.h"

#define TIMEOUT_MS 800
/* A call may connect (connect_timeout) and then wait (timeout), plus
 * slack for a loaded machine: far below "hanging". */
#define HANG_MS (2 * TIMEOUT_MS + 5000)

static authc_store *S;
static authc_arena *ar;
static char url[4200];
static int error_lines, label_lines;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void count_log(void *ud, const char *level, const char *msg)
{
    (void)ud;
    pthread_mutex_lock(&mu);
    if (strcmp(level, "error") == 0) {
        error_lines++;
        if (strstr(msg, authc__store_label(S)))
            label_lines++;
    }
    pthread_mutex_unlock(&mu);
    st_log(NULL, level, msg);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void server(const char *var)
{
    const char *cmd = getenv(var);
    assert_non_null(cmd);
    assert_int_equal(system(cmd), 0);
}

/* Runs every operation once; each must return want (AUTHC_OK or
 * AUTHC_ERR_ADAPTER) and, when failing, say nothing was stored/found. */
static void every_op(authc_err want)
{
    const char *keys[2] = {"f:a", "f:b"};
    authc__store_val v[2] = {{(const uint8_t *)"x", 1}, {0}};
    bool b = true;
    int64_t n = 7;
    authc_err got[10];
    int64_t t0 = mono_ms();
    int64_t worst = 0;
#define TIMED(i, call)                                                       \
    do {                                                                     \
        int64_t s = mono_ms();                                               \
        got[i] = (call);                                                     \
        if (mono_ms() - s > worst)                                           \
            worst = mono_ms() - s;                                           \
    } while (0)
    TIMED(0, authc__store_ping(S));
    TIMED(1, authc__store_set(S, "f:a", "1", 1, 60000));
    TIMED(2, authc__store_get(S, ar, "f:a", &v[0]));
    if (want != AUTHC_OK)
        assert_null(v[0].data);
    TIMED(3, authc__store_mget(S, ar, keys, 2, v));
    TIMED(4, authc__store_set_nx(S, "f:lease", "me", 2, 60000, &b));
    if (want != AUTHC_OK)
        assert_false(b);
    TIMED(5, authc__store_renew_if_owner(S, "f:lease", "me", 60000, &b));
    if (want != AUTHC_OK)
        assert_false(b);
    TIMED(6, authc__store_delete_if_owner(S, "f:lease", "me", &b));
    TIMED(7, authc__store_incr(S, "f:n", 1, 60000, &n));
    if (want != AUTHC_OK)
        assert_int_equal(n, 0);
    TIMED(8, authc__store_delete(S, "f:a", &b));
    TIMED(9, authc__store_sweep(S, &n));
#undef TIMED
    /* Redis expires keys itself: its sweep never talks to the server. */
    if (strcmp(g_kind, "redis") == 0)
        got[9] = got[9] == AUTHC_OK ? want : AUTHC_ERR_INVALID;
    for (int i = 0; i < 10; i++) {
        if (got[i] != want)
            fprintf(stderr, "operation %d returned %d, want %d\n", i,
                    (int)got[i], (int)want);
        assert_int_equal(got[i], want);
    }
    fprintf(stderr, "  every operation answered %d (slowest %lld ms, all "
            "%lld ms)\n", (int)want, (long long)worst,
            (long long)(mono_ms() - t0));
    assert_true(worst < HANG_MS);
}

/* After a restart the first calls may find the old connections dead; the
 * store must heal without the caller doing anything but calling again. */
static void recovers(void)
{
    for (int i = 0; i < 3 && authc__store_ping(S) != AUTHC_OK; i++)
        st_sleep_ms(200);
    every_op(AUTHC_OK);
}

static void test_stop_start(void **state)
{
    (void)state;
    every_op(AUTHC_OK);
    server("AUTHC_SERVER_STOP");
    int before = error_lines;
    every_op(AUTHC_ERR_ADAPTER);
    assert_true(error_lines - before >= 9);
    assert_true(label_lines >= 9);
    server("AUTHC_SERVER_START");
    recovers();
}

static void test_freeze_thaw(void **state)
{
    (void)state;
    every_op(AUTHC_OK);
    server("AUTHC_SERVER_FREEZE");
    every_op(AUTHC_ERR_ADAPTER);
    server("AUTHC_SERVER_THAW");
    recovers();
}

static int setup(void **state)
{
    (void)state;
    snprintf(url, sizeof url, "%s%ctimeout=%d&connect_timeout=%d", g_url,
             strchr(g_url, '?') ? '&' : '?', TIMEOUT_MS, TIMEOUT_MS);
    S = st_open(url, count_log);
    ar = authc_arena_new();
    return S && ar ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    authc__store_close(S);
    authc_arena_free(ar);
    return 0;
}

int st_run_fault_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_start),
        cmocka_unit_test(test_freeze_thaw),
    };
    return cmocka_run_group_tests_name("fault", tests, setup, teardown);
}
