/* test_rotate.c — refresh-token rotation: one grant for many concurrent
 * callers and two store handles, successors, dead and transient tokens, a
 * crashed lease holder, a slow grant, a store that is down. */
#include "cmocka_main.h"
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "lifecycle/rotate_int.h"
#include "util/util_int.h"
#include "store_fixture.h"

typedef struct fake_idp {
    atomic_int grants;
    int delay_ms;
    authc__grant_result mode;
    char last_rt[64];
    atomic_int presented_twice;
    char seen[16][64];
    int nseen;
    pthread_mutex_t mu;
} fake_idp;

static authc__grant_result grant(void *ud, authc_arena *ar, const authc__tokens *cur, authc__tokens *out)
{
    fake_idp *f = ud;
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < f->nseen; i++)
        if (!strcmp(f->seen[i], cur->refresh_token))
            atomic_fetch_add(&f->presented_twice, 1);
    if (f->nseen < 16)
        snprintf(f->seen[f->nseen++], 64, "%s", cur->refresh_token);
    pthread_mutex_unlock(&f->mu);
    int n = atomic_fetch_add(&f->grants, 1) + 1;
    if (f->delay_ms)
        usleep((useconds_t)f->delay_ms * 1000);
    if (f->mode != AUTHC__GRANT_OK)
        return f->mode;
    out->access_token = authc_arena_printf(ar, "at-%d", n);
    out->refresh_token = authc_arena_printf(ar, "rt-%d", n);
    out->expires_at = authc__now_ms() / 1000 + 3600;
    return AUTHC__GRANT_OK;
}

static authc__tokens expired(const char *rt)
{
    return (authc__tokens){.access_token = "at-0", .refresh_token = rt,
                           .expires_at = authc__now_ms() / 1000 - 5};
}

static const authc__rotate_opts OPTS = {.refresh_before_s = 60};

static void test_not_due(void **s)
{
    authc_store *st = *s;
    fake_idp f = {.mu = PTHREAD_MUTEX_INITIALIZER};
    authc_arena *ar = authc_arena_new();
    authc__tokens cur = {.access_token = "a", .refresh_token = "r",
                         .expires_at = authc__now_ms() / 1000 + 3600}, out;
    authc__rotate_result res;
    assert_int_equal(authc__rotate(st, ar, "idp", &cur, &OPTS, grant, &f, &out, &res), AUTHC_OK);
    assert_int_equal(res, AUTHC__ROTATE_FRESH);
    assert_int_equal(f.grants, 0);
    authc_arena_free(ar);
}

/* A provider that does not rotate (Google): the same refresh token keeps
 * working after its successor record is gone. */
static authc__grant_result same_rt(void *ud, authc_arena *ar, const authc__tokens *cur, authc__tokens *out)
{
    fake_idp *f = ud;
    int n = atomic_fetch_add(&f->grants, 1) + 1;
    out->access_token = authc_arena_printf(ar, "at-%d", n);
    out->refresh_token = n % 2 ? NULL : cur->refresh_token; /* omitted or echoed */
    out->expires_at = authc__now_ms() / 1000 - 1;        /* due again at once */
    return AUTHC__GRANT_OK;
}

static void test_not_rotated(void **s)
{
    authc_store *st = *s;
    fake_idp f = {.mu = PTHREAD_MUTEX_INITIALIZER};
    authc_arena *ar = authc_arena_new();
    char succ[AUTHC__HASHED_KEY_MAX];
    assert_true(authc__hashed_key(succ, "succ", "idp", "rt-keep"));
    for (int round = 1; round <= 3; round++) {
        authc__tokens cur = expired("rt-keep"), out;
        authc__rotate_result res;
        assert_int_equal(authc__rotate(st, ar, "idp", &cur, &OPTS, same_rt, &f, &out, &res), AUTHC_OK);
        assert_int_equal(res, AUTHC__ROTATE_REFRESHED);
        assert_string_equal(out.refresh_token, "rt-keep");
        assert_int_equal(f.grants, round);
        assert_int_equal(authc__store_delete(st, succ, NULL), AUTHC_OK); /* the window passed */
    }
    authc_arena_free(ar);
}

typedef struct racer {
    authc_store *st;
    fake_idp *f;
    authc__rotate_result res;
    char at[32];
    authc_err e;
    const authc__rotate_opts *o; /* NULL = OPTS */
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    authc_arena *ar = authc_arena_new();
    authc__tokens cur = expired("rt-0"), out;
    r->e = authc__rotate(r->st, ar, "idp", &cur, r->o ? r->o : &OPTS, grant, r->f, &out, &r->res);
    snprintf(r->at, sizeof r->at, "%s", out.access_token ? out.access_token : "");
    authc_arena_free(ar);
    return NULL;
}

/* One rotation in this thread; returns its result (also in r). */
static authc__rotate_result rotate_once(racer *r)
{
    race(r);
    return r->res;
}

/* 30 callers over two handles of one store (two "instances"): one grant. */
static void test_single_flight(void **s)
{
    const tu_store_pair *p = *s;
    authc_store *a = p->a, *b = p->b;
    fake_idp f = {.delay_ms = 200, .mu = PTHREAD_MUTEX_INITIALIZER};
    racer r[30];
    pthread_t t[30];
    for (int i = 0; i < 30; i++) {
        r[i] = (racer){.st = i % 2 ? a : b, .f = &f};
        pthread_create(&t[i], NULL, race, &r[i]);
    }
    int refreshed = 0;
    for (int i = 0; i < 30; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(r[i].e, AUTHC_OK);
        assert_string_equal(r[i].at, "at-1");
        refreshed += r[i].res == AUTHC__ROTATE_REFRESHED;
        assert_true(r[i].res == AUTHC__ROTATE_REFRESHED || r[i].res == AUTHC__ROTATE_SUCCESSOR);
    }
    assert_int_equal(f.grants, 1);
    assert_int_equal(refreshed, 1);
    /* An old cookie later: the successor, no grant. */
    racer late = {.st = a, .f = &f};
    assert_int_equal(rotate_once(&late), AUTHC__ROTATE_SUCCESSOR);
    assert_string_equal(late.at, "at-1");
    assert_int_equal(f.grants, 1);
    /* Successor gone (window over): the old token is spent, never sent again. */
    char key[AUTHC__HASHED_KEY_MAX];
    assert_true(authc__hashed_key(key, "succ", "idp", "rt-0"));
    assert_int_equal(authc__store_delete(a, key, NULL), AUTHC_OK);
    assert_int_equal(rotate_once(&late), AUTHC__ROTATE_DEAD);
    assert_int_equal(f.grants, 1);
    assert_int_equal(f.presented_twice, 0);
}

static void test_dead_and_transient(void **s)
{
    authc_store *st = *s;
    fake_idp f = {.mode = AUTHC__GRANT_DEAD, .mu = PTHREAD_MUTEX_INITIALIZER};
    racer r = {.st = st, .f = &f};
    assert_int_equal(rotate_once(&r), AUTHC__ROTATE_DEAD);
    assert_int_equal(rotate_once(&r), AUTHC__ROTATE_DEAD); /* recorded: no second grant */
    assert_int_equal(f.grants, 1);

    authc_store *st2 = open_store("memory:");
    fake_idp g = {.mode = AUTHC__GRANT_TRANSIENT, .mu = PTHREAD_MUTEX_INITIALIZER};
    racer q = {.st = st2, .f = &g};
    assert_int_equal(rotate_once(&q), AUTHC__ROTATE_RETRY);
    assert_string_equal(q.at, "at-0"); /* the session keeps its tokens */
    g.mode = AUTHC__GRANT_OK;
    assert_int_equal(rotate_once(&q), AUTHC__ROTATE_REFRESHED);
    assert_int_equal(g.grants, 2);
    authc__store_close(st2);
}

/* A holder that died (lease never released) blocks others no longer than
 * its TTL; a slow grant keeps its lease renewed, so nobody else grants. */
static void test_leases(void **s)
{
    authc_store *st = *s;
    char lease[AUTHC__HASHED_KEY_MAX];
    assert_true(authc__hashed_key(lease, "lease", "idp", "rt-0"));
    bool got;
    assert_int_equal(authc__store_set_nx(st, lease, "dead-owner", 10, 300, &got), AUTHC_OK);
    assert_true(got);
    fake_idp f = {.mu = PTHREAD_MUTEX_INITIALIZER};
    authc_arena *ar = authc_arena_new();
    authc__tokens cur = expired("rt-0"), out;
    authc__rotate_result res;
    authc__rotate_opts o = {.refresh_before_s = 60, .lease_ttl_ms = 300, .wait_ms = 5000};
    assert_int_equal(authc__rotate(st, ar, "idp", &cur, &o, grant, &f, &out, &res), AUTHC_OK);
    assert_int_equal(res, AUTHC__ROTATE_REFRESHED);
    assert_int_equal(f.grants, 1);
    authc_arena_free(ar);

    /* Slow grant (3 lease lifetimes) against a second caller. */
    authc_store *st2 = open_store("memory:");
    /* The renewer runs every ttl/3: a 1 s lease tolerates 0.6 s of
     * scheduling delay on a loaded machine (a lapsed lease makes the
     * second caller answer "dead", by design: never present twice). */
    fake_idp slow = {.delay_ms = 3000, .mu = PTHREAD_MUTEX_INITIALIZER};
    authc__rotate_opts short_lease = {.refresh_before_s = 60, .lease_ttl_ms = 1000, .wait_ms = 10000};
    racer r1 = {.st = st2, .f = &slow, .o = &short_lease}, r2 = {.st = st2, .f = &slow, .o = &short_lease};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, race, &r1);
    usleep(100 * 1000);
    pthread_create(&t2, NULL, race, &r2);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    assert_int_equal(slow.grants, 1);
    assert_int_equal(slow.presented_twice, 0);
    assert_string_equal(r1.at, "at-1");
    assert_string_equal(r2.at, "at-1");
    authc__store_close(st2);
}

static void test_store_down(void **s)
{
    authc_store *st = *s;
    fake_idp f = {.mu = PTHREAD_MUTEX_INITIALIZER};
    racer r = {.st = st, .f = &f};
    race(&r);
    assert_int_equal(r.e, AUTHC_ERR_ADAPTER);
    assert_int_equal(f.grants, 0); /* fail closed: nothing presented */
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test_setup_teardown(test_not_due, tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(test_not_rotated, tu_store_setup, tu_store_teardown),
        cmocka_unit_test_prestate_setup_teardown(test_single_flight, tu_store_pair_setup, tu_store_pair_teardown,
                                                 "memory:rot-sf"),
        cmocka_unit_test_setup_teardown(test_dead_and_transient, tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(test_leases, tu_store_setup, tu_store_teardown),
        cmocka_unit_test_prestate_setup_teardown(test_store_down, tu_store_setup, tu_store_teardown, TU_STORE_DOWN))
