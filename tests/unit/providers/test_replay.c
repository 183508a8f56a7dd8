/* test_replay.c — the passkey replay set: a value is accepted once until it
 * expires, buckets evict the soonest-expiring entry, threads agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "providers/replay_int.h"

static void once_until_expiry(void **st)
{
    (void)st;
    authc__replay *r = authc__replay_new(16, 1000);
    assert_non_null(r);
    bool ev;
    assert_true(authc__replay_add(r, "abc", 3, 5000, &ev));
    assert_false(ev);
    assert_false(authc__replay_add(r, "abc", 3, 5000, &ev));
    assert_false(authc__replay_add(r, "abc", 3, 5999, &ev));
    assert_true(authc__replay_add(r, "abd", 3, 5999, &ev)); /* another value */
    /* Expired: accepted again (the sealed challenge has expired by then too). */
    assert_true(authc__replay_add(r, "abc", 3, 6000, &ev));
    assert_false(authc__replay_add(r, "abc", 3, 6001, &ev));
    authc__replay_free(r);
}

static void full_table_evicts_and_says_so(void **st)
{
    (void)st;
    /* 64 slots (the minimum): more live values than that must evict. */
    authc__replay *r = authc__replay_new(1, 1000000);
    bool ev, any = false;
    char v[32];
    for (int i = 0; i < 200; i++) {
        snprintf(v, sizeof v, "value-%d", i);
        assert_true(authc__replay_add(r, v, strlen(v), 10 + i, &ev));
        any |= ev;
    }
    assert_true(any);
    /* The newest value is always remembered. */
    assert_false(authc__replay_add(r, v, strlen(v), 300, &ev));
    authc__replay_free(r);
}

static authc__replay *g_r;
static int g_accepted;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static void *racer(void *arg)
{
    (void)arg;
    char v[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(v, sizeof v, "challenge-%d", i);
        bool ev;
        if (authc__replay_add(g_r, v, strlen(v), 1, &ev)) {
            pthread_mutex_lock(&g_mu);
            g_accepted++;
            pthread_mutex_unlock(&g_mu);
        }
    }
    return NULL;
}

/* Four threads offer the same 1,000 values: each is accepted exactly once. */
static void concurrent_adds_accept_once(void **st)
{
    (void)st;
    g_r = authc__replay_new(16384, 1000000);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, racer, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(g_accepted, 1000);
    authc__replay_free(g_r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(once_until_expiry),
        cmocka_unit_test(full_table_evicts_and_says_so),
        cmocka_unit_test(concurrent_adds_accept_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
