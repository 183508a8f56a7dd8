/* store_fixture.h — what the unit tests of store users share: open a store
 * by URL ("memory:name" for one shared between handles) or fail the test. */
#ifndef AUTHC_STORE_FIXTURE_H
#define AUTHC_STORE_FIXTURE_H

#include "cmocka_main.h"
#include "store/store_int.h"

/* Opens url; the caller owns the store (authc__store_close). */
static inline authc_store *open_store(const char *url)
{
    char err[256];
    authc_store *st = authc__store_open(url, NULL, NULL, err, sizeof err);
    if (!st)
        fail_msg("store %s: %s", url, err);
    return st;
}

/* A cmocka setup: opens the URL the test was given as its initial state
 * (cmocka_unit_test_prestate_setup_teardown), or a fresh "memory:" store,
 * into *state; tu_store_teardown closes it. */
static inline int tu_store_setup(void **state)
{
    *state = open_store(*state ? (const char *)*state : "memory:");
    return 0;
}

static inline int tu_store_teardown(void **state)
{
    authc__store_close(*state);
    return 0;
}

/* Two handles of one shared store: two instances of a program. */
typedef struct tu_store_pair {
    authc_store *a, *b;
} tu_store_pair;

/* A cmocka setup: two handles of the shared store the test was given as
 * its initial state ("memory:name"), as a tu_store_pair in *state;
 * tu_store_pair_teardown closes them. */
static inline int tu_store_pair_setup(void **state)
{
    static tu_store_pair p;
    const char *url = *state;
    p.a = open_store(url);
    p.b = open_store(url);
    *state = &p;
    return 0;
}

static inline int tu_store_pair_teardown(void **state)
{
    tu_store_pair *p = *state;
    authc__store_close(p->a);
    authc__store_close(p->b);
    return 0;
}

/* A store whose server does not answer (nothing listens on port 1), for
 * the fail-closed tests; fails fast. */
#define TU_STORE_DOWN "postgres://127.0.0.1:1/none?timeout=200&connect_timeout=200"

#endif
