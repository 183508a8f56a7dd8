/* test_email_ratelimit.c — unit tests of the in-memory rate limiter: counts,
 * the sliding window, retry hints, bounded memory and concurrent use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <cmocka.h>

#include "providers/ratelimit_int.h"

#define HIT(rl, k, t, ra) authc__ratelimit_hit((rl), (k), strlen(k), (t), (ra))

static void test_basic(void **state)
{
    (void)state;
    assert_null(authc__ratelimit_new(0, 60, 64));
    assert_null(authc__ratelimit_new(3, 0, 64));
    /* NULL limiter = no limit. */
    assert_true(HIT(NULL, "x", 0, NULL));

    authc__ratelimit *rl = authc__ratelimit_new(3, 60, 64);
    int64_t t0 = 1000LL * 60 * 1000; /* at the start of a window */
    for (int i = 0; i < 3; i++)
        assert_true(HIT(rl, "a@b.c", t0 + i, NULL));
    int64_t ra = 0;
    assert_false(HIT(rl, "a@b.c", t0 + 10, &ra));
    /* Refused hits are not counted; the hint is within the next window. */
    assert_true(ra >= 60 && ra <= 120);
    assert_false(HIT(rl, "a@b.c", t0 + 20, NULL));
    /* Keys are independent. */
    assert_true(HIT(rl, "other@b.c", t0 + 20, NULL));
    /* Undo gives one back. */
    authc__ratelimit_undo(rl, "a@b.c", strlen("a@b.c"), t0 + 30);
    assert_true(HIT(rl, "a@b.c", t0 + 40, NULL));
    assert_false(HIT(rl, "a@b.c", t0 + 50, NULL));
    authc__ratelimit_free(rl);
}

static void test_sliding(void **state)
{
    (void)state;
    authc__ratelimit *rl = authc__ratelimit_new(4, 100, 64);
    int64_t W = 100 * 1000, t0 = 50 * W;
    for (int i = 0; i < 4; i++)
        assert_true(HIT(rl, "k", t0 + 90 * 1000, NULL));
    /* Just into the next window the previous one still weighs ~90 %. */
    int64_t ra = 0;
    assert_false(HIT(rl, "k", t0 + W + 10 * 1000, &ra));
    /* 4 * (1 - f) + 1 <= 4  ⇔ f >= 1/4 → 25 s into the window: 15 s. */
    assert_int_equal(ra, 15);
    assert_false(HIT(rl, "k", t0 + W + 24 * 1000, NULL));
    assert_true(HIT(rl, "k", t0 + W + 25 * 1000, NULL));
    /* Two windows later it is all forgotten. */
    for (int i = 0; i < 4; i++)
        assert_true(HIT(rl, "k", t0 + 3 * W, NULL));
    assert_false(HIT(rl, "k", t0 + 3 * W, NULL));
    authc__ratelimit_free(rl);
}

static void test_bounded(void **state)
{
    (void)state;
    /* 64 slots; 10000 keys fit without growing and without refusing new
     * keys (old ones are forgotten, which can only be lenient). */
    authc__ratelimit *rl = authc__ratelimit_new(1, 3600, 1);
    char k[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(k, sizeof k, "key-%d", i);
        assert_true(HIT(rl, k, 5000, NULL));
    }
    /* A key hammered repeatedly stays tracked while others churn around
     * it: it is the most active one in its probe window. */
    authc__ratelimit *r2 = authc__ratelimit_new(2, 3600, 4096);
    assert_true(HIT(r2, "victim", 5000, NULL));
    assert_true(HIT(r2, "victim", 5000, NULL));
    for (int i = 0; i < 3000; i++) {
        snprintf(k, sizeof k, "spray-%d", i);
        HIT(r2, k, 5000, NULL);
        assert_false(HIT(r2, "victim", 5000, NULL));
    }
    authc__ratelimit_free(rl);
    authc__ratelimit_free(r2);
}

typedef struct worker {
    authc__ratelimit *rl;
    int allowed;
} worker;

static void *hammer(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 20000; i++)
        if (HIT(w->rl, "shared", 7000, NULL))
            w->allowed++;
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    authc__ratelimit *rl = authc__ratelimit_new(500, 60, 64);
    pthread_t th[8];
    worker w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (worker){rl, 0};
        pthread_create(&th[i], NULL, hammer, &w[i]);
    }
    int total = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        total += w[i].allowed;
    }
    assert_int_equal(total, 500);
    authc__ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_sliding),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
