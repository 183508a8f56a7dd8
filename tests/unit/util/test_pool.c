/* test_pool.c — unit tests of the connection pool (lib/util/pool.c) with
 * fake connections: bounds, deadlines, replacement of broken ones, threads. */
#include "cmocka_main.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "util/pool_int.h"

/* ---- fake connections ---------------------------------------------------- */

typedef struct fake_conn {
    int serial;
    atomic_int holders;   /* threads using it right now: must stay <= 1 */
    bool unhealthy;       /* healthy hook answers false */
    bool dirty;           /* reset hook answers false */
} fake_conn;

typedef struct fake_db {
    atomic_int connects, destroys, live, fail_connects;
    atomic_int reset_calls;
} fake_db;

static void *fake_connect(void *ud, char *why, size_t wlen)
{
    fake_db *db = ud;
    if (atomic_load(&db->fail_connects) > 0) {
        atomic_fetch_sub(&db->fail_connects, 1);
        snprintf(why, wlen, "fake: connection refused");
        return NULL;
    }
    fake_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->serial = atomic_fetch_add(&db->connects, 1) + 1;
    atomic_fetch_add(&db->live, 1);
    return c;
}

static void fake_destroy(void *ud, void *conn)
{
    fake_db *db = ud;
    atomic_fetch_add(&db->destroys, 1);
    atomic_fetch_sub(&db->live, 1);
    free(conn);
}

static bool fake_healthy(void *ud, void *conn)
{
    (void)ud;
    return !((fake_conn *)conn)->unhealthy;
}

static bool fake_reset(void *ud, void *conn)
{
    atomic_fetch_add(&((fake_db *)ud)->reset_calls, 1);
    return !((fake_conn *)conn)->dirty;
}

static const authc__pool_hooks HOOKS = {fake_connect, fake_destroy,
                                        fake_healthy, fake_reset};
static const authc__pool_hooks MIN_HOOKS = {fake_connect, fake_destroy, NULL,
                                            NULL};

/* ---- single thread ------------------------------------------------------- */

/* A pool over db with the full hooks (or MIN_HOOKS); the caller frees it. */
static authc__pool *new_pool(const authc__pool_hooks *hooks, fake_db *db, int size)
{
    authc__pool *p = authc__pool_new(hooks, db, size);
    assert_non_null(p);
    return p;
}

/* Acquires a connection with a 1 s deadline; the test must get one. */
static void *acquire_ok(authc__pool *p)
{
    void *conn = NULL;
    assert_int_equal(authc__pool_acquire(p, 1000, &conn, NULL, 0), AUTHC_OK);
    return conn;
}

/* The fixture of the tests on a pool of one slot whose connection a is
 * held; the teardown frees the pool unless the test did (p = NULL). */
typedef struct held {
    fake_db db;
    void *a;
    authc__pool *p;
} held;

static int held_setup(void **st)
{
    static held h;
    memset(&h, 0, sizeof h);
    h.p = new_pool(&HOOKS, &h.db, 1);
    h.a = acquire_ok(h.p);
    *st = &h;
    return 0;
}

static int held_teardown(void **st)
{
    held *h = *st;
    if (h->p)
        authc__pool_free(h->p);
    return 0;
}

/* Acquires a connection that is not the one numbered `old` (a new one). */
static void *acquire_new(authc__pool *p, int old)
{
    void *conn = acquire_ok(p);
    assert_int_not_equal(((fake_conn *)conn)->serial, old);
    return conn;
}

/* Gives conn back, frees the pool and checks nothing is left connected. */
static void release_and_free(authc__pool *p, void *conn, fake_db *db)
{
    authc__pool_release(p, conn, false);
    authc__pool_free(p);
    assert_int_equal(atomic_load(&db->live), 0);
}

static void test_new_rejects_bad_arguments(void **state)
{
    (void)state;
    fake_db db = {0};
    authc__pool_hooks no_connect = {NULL, fake_destroy, NULL, NULL};
    assert_null(authc__pool_new(&HOOKS, &db, 0));
    assert_null(authc__pool_new(&HOOKS, &db, AUTHC__POOL_MAX + 1));
    assert_null(authc__pool_new(&no_connect, &db, 2));
    assert_null(authc__pool_new(NULL, &db, 2));
    authc__pool *p = authc__pool_new(&MIN_HOOKS, &db, AUTHC__POOL_MAX);
    assert_non_null(p);
    assert_int_equal(authc__pool_size(p), AUTHC__POOL_MAX);
    authc__pool_free(p);
    assert_int_equal(atomic_load(&db.connects), 0); /* lazy */
}

static void test_reuses_a_connection(void **state)
{
    (void)state;
    fake_db db = {0};
    authc__pool *p = new_pool(&HOOKS, &db, 4);
    void *a = acquire_ok(p), *b;
    assert_non_null(a);
    authc__pool_release(p, a, false);
    assert_int_equal(atomic_load(&db.reset_calls), 1);
    /* A connected idle slot is preferred over an empty one. */
    b = acquire_ok(p);
    assert_ptr_equal(a, b);
    assert_int_equal(atomic_load(&db.connects), 1);
    authc__pool_release(p, b, false);
    authc__pool_free(p);
    assert_int_equal(atomic_load(&db.destroys), 1);
    assert_int_equal(atomic_load(&db.live), 0);
}

static void test_bounded_and_times_out(void **state)
{
    (void)state;
    fake_db db = {0};
    authc__pool *p = new_pool(&HOOKS, &db, 2);
    void *a, *b, *c = (void *)1;
    char why[128] = "";
    a = acquire_ok(p);
    b = acquire_ok(p);
    assert_ptr_not_equal(a, b);
    assert_int_equal(authc__pool_acquire(p, 50, &c, why, sizeof why),
                     AUTHC_ERR_TIMEOUT);
    assert_null(c);
    assert_non_null(strstr(why, "all 2 connections busy"));
    /* timeout 0: no wait at all, same answer */
    assert_int_equal(authc__pool_acquire(p, 0, &c, NULL, 0),
                     AUTHC_ERR_TIMEOUT);
    assert_int_equal(atomic_load(&db.connects), 2);
    authc__pool_release(p, a, false);
    assert_int_equal(authc__pool_acquire(p, 0, &c, NULL, 0), AUTHC_OK);
    assert_ptr_equal(c, a);
    authc__pool_release(p, b, false);
    release_and_free(p, c, &db);
}

/* A connection released as broken (destroyed at once, not reset), or one
 * that went unhealthy while idle (destroyed at the next acquire), is
 * replaced by a new one in the same slot. */
static void check_replaced(held *h, bool broken)
{
    int first = ((fake_conn *)h->a)->serial;
    authc__pool_release(h->p, h->a, broken);
    if (broken) {
        assert_int_equal(atomic_load(&h->db.destroys), 1);
        assert_int_equal(atomic_load(&h->db.reset_calls), 0); /* broken: no reset */
    } else {
        ((fake_conn *)h->a)->unhealthy = true;  /* server restarted while idle */
    }
    void *b = acquire_new(h->p, first);
    assert_int_equal(atomic_load(&h->db.destroys), 1);
    assert_int_equal(atomic_load(&h->db.connects), 2);
    release_and_free(h->p, b, &h->db);
    h->p = NULL;
}

static void test_broken_connection_is_replaced(void **state)
{
    check_replaced(*state, true);
}

static void test_unhealthy_idle_connection_is_replaced(void **state)
{
    check_replaced(*state, false);
}

static void test_failed_reset_destroys(void **state)
{
    held *h = *state;
    ((fake_conn *)h->a)->dirty = true;     /* e.g. left inside a transaction */
    authc__pool_release(h->p, h->a, false);
    assert_int_equal(atomic_load(&h->db.reset_calls), 1);
    assert_int_equal(atomic_load(&h->db.destroys), 1);
    assert_int_equal(atomic_load(&h->db.live), 0);
    authc__pool_free(h->p);
    h->p = NULL;
    assert_int_equal(atomic_load(&h->db.destroys), 1);
}

static void test_connect_failure_frees_the_slot(void **state)
{
    (void)state;
    fake_db db = {0};
    authc__pool *p = new_pool(&HOOKS, &db, 1);
    void *a = (void *)1;
    char why[128] = "";
    atomic_store(&db.fail_connects, 1);
    assert_int_equal(authc__pool_acquire(p, 1000, &a, why, sizeof why),
                     AUTHC_ERR_ADAPTER);
    assert_null(a);
    assert_string_equal(why, "fake: connection refused");
    /* The only slot is free again: no wait needed. */
    assert_int_equal(authc__pool_acquire(p, 0, &a, NULL, 0), AUTHC_OK);
    release_and_free(p, a, &db);
}

static void test_replace_keeps_the_slot(void **state)
{
    (void)state;
    fake_db db = {0};
    authc__pool *p = new_pool(&MIN_HOOKS, &db, 1);
    void *a, *b;
    char why[128];
    a = acquire_ok(p);
    int first = ((fake_conn *)a)->serial;
    assert_int_equal(authc__pool_replace(p, &a, why, sizeof why), AUTHC_OK);
    assert_non_null(a);
    assert_int_not_equal(((fake_conn *)a)->serial, first);
    /* still held: nobody else gets the slot */
    assert_int_equal(authc__pool_acquire(p, 0, &b, NULL, 0),
                     AUTHC_ERR_TIMEOUT);
    /* a failed replace frees the slot by itself */
    atomic_store(&db.fail_connects, 1);
    assert_int_equal(authc__pool_replace(p, &a, why, sizeof why),
                     AUTHC_ERR_ADAPTER);
    assert_null(a);
    assert_string_equal(why, "fake: connection refused");
    assert_int_equal(authc__pool_acquire(p, 0, &b, NULL, 0), AUTHC_OK);
    release_and_free(p, b, &db);
    assert_int_equal(atomic_load(&db.connects), 3);
}

static void test_release_of_foreign_pointer_is_ignored(void **state)
{
    (void)state;
    fake_db db = {0};
    authc__pool *p = new_pool(&HOOKS, &db, 1);
    int not_a_conn;
    authc__pool_release(p, &not_a_conn, true);
    authc__pool_release(p, NULL, true);
    assert_int_equal(atomic_load(&db.destroys), 0);
    authc__pool_free(p);
}

/* ---- threads ------------------------------------------------------------- */

/* A waiter with a long deadline must be woken by a release, not by its
 * deadline. Run in a thread so a hang is a failure, not a stuck test. */
typedef struct waiter {
    authc__pool *p;
    int64_t timeout_ms;
    authc_err result;
    void *conn;
    atomic_bool done;
} waiter;

static void *waiter_main(void *arg)
{
    waiter *w = arg;
    w->result = authc__pool_acquire(w->p, w->timeout_ms, &w->conn, NULL, 0);
    atomic_store(&w->done, true);
    return NULL;
}

/* Starts w's acquire in a thread; join it with join_within. */
static pthread_t start_waiter(waiter *w)
{
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, waiter_main, w), 0);
    return t;
}

/* Joins t, failing the test if it has not finished within limit_s. */
static void join_within(pthread_t t, int limit_s)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += limit_s;
    assert_int_equal(pthread_timedjoin_np(t, NULL, &until), 0);
}

static void test_release_wakes_a_waiter(void **state)
{
    held *h = *state;
    waiter w = {.p = h->p, .timeout_ms = 600000};
    pthread_t t = start_waiter(&w);
    struct timespec ms20 = {0, 20 * 1000000L};
    nanosleep(&ms20, NULL);
    assert_false(atomic_load(&w.done)); /* really waiting */
    authc__pool_release(h->p, h->a, false);
    join_within(t, 30);  /* far below the waiter's own 600 s deadline */
    assert_int_equal(w.result, AUTHC_OK);
    assert_ptr_equal(w.conn, h->a);
    authc__pool_release(h->p, w.conn, false);
}

static void test_waiter_times_out_in_a_thread(void **state)
{
    held *h = *state;
    waiter w = {.p = h->p, .timeout_ms = 100};
    pthread_t t = start_waiter(&w);
    join_within(t, 30);  /* a deadline that is not honoured hangs here */
    assert_int_equal(w.result, AUTHC_ERR_TIMEOUT);
    assert_null(w.conn);
    authc__pool_release(h->p, h->a, false);
}

#define WORKERS 8
#define ROUNDS 3000
#define POOL 3

typedef struct contend {
    authc__pool *p;
    atomic_int in_use, max_in_use, violations, timeouts;
} contend;

typedef struct worker_arg {
    contend *c;
    unsigned seed;
} worker_arg;

static void *worker_main(void *arg)
{
    worker_arg *wa = arg;
    contend *c = wa->c;
    for (int i = 0; i < ROUNDS; i++) {
        void *conn;
        authc_err e = authc__pool_acquire(c->p, 60000, &conn, NULL, 0);
        if (e != AUTHC_OK) {
            atomic_fetch_add(&c->timeouts, 1);
            continue;
        }
        fake_conn *fc = conn;
        if (atomic_fetch_add(&fc->holders, 1) != 0)
            atomic_fetch_add(&c->violations, 1); /* shared connection */
        int now = atomic_fetch_add(&c->in_use, 1) + 1;
        int max = atomic_load(&c->max_in_use);
        while (now > max &&
               !atomic_compare_exchange_weak(&c->max_in_use, &max, now))
            ;
        if (rand_r(&wa->seed) % 7 == 0)
            sched_yield();
        atomic_fetch_sub(&c->in_use, 1);
        atomic_fetch_sub(&fc->holders, 1);
        /* every 50th use reports the connection broken */
        authc__pool_release(c->p, conn, rand_r(&wa->seed) % 50 == 0);
    }
    return NULL;
}

static void test_threads_contend(void **state)
{
    (void)state;
    fake_db db = {0};
    contend c = {.p = authc__pool_new(&HOOKS, &db, POOL)};
    assert_non_null(c.p);
    pthread_t t[WORKERS];
    worker_arg args[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        args[i] = (worker_arg){&c, (unsigned)i * 7919u + 1};
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &args[i]),
                         0);
    }
    for (int i = 0; i < WORKERS; i++)
        join_within(t[i], 120);
    assert_int_equal(atomic_load(&c.violations), 0);
    assert_int_equal(atomic_load(&c.timeouts), 0);
    assert_true(atomic_load(&c.max_in_use) <= POOL);
    assert_true(atomic_load(&c.max_in_use) >= 1);
    /* Never more live connections than slots; broken ones were replaced. */
    assert_true(atomic_load(&db.live) <= POOL);
    assert_true(atomic_load(&db.connects) > POOL);
    authc__pool_free(c.p);
    assert_int_equal(atomic_load(&db.live), 0);
    assert_int_equal(atomic_load(&db.connects), atomic_load(&db.destroys));
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_new_rejects_bad_arguments),
        cmocka_unit_test(test_reuses_a_connection), cmocka_unit_test(test_bounded_and_times_out),
        cmocka_unit_test_setup_teardown(test_broken_connection_is_replaced, held_setup, held_teardown),
        cmocka_unit_test_setup_teardown(test_unhealthy_idle_connection_is_replaced, held_setup, held_teardown),
        cmocka_unit_test_setup_teardown(test_failed_reset_destroys, held_setup, held_teardown),
        cmocka_unit_test(test_connect_failure_frees_the_slot),
        cmocka_unit_test(test_replace_keeps_the_slot),
        cmocka_unit_test(test_release_of_foreign_pointer_is_ignored),
        cmocka_unit_test_setup_teardown(test_release_wakes_a_waiter, held_setup, held_teardown),
        cmocka_unit_test_setup_teardown(test_waiter_times_out_in_a_thread, held_setup, held_teardown), cmocka_unit_test(test_threads_contend))
