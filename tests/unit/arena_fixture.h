/* arena_fixture.h — the cmocka fixture most unit tests share: one arena,
 * `ar`, made before the group (or each test) and freed after it. */
#ifndef AUTHC_ARENA_FIXTURE_H
#define AUTHC_ARENA_FIXTURE_H

#include "authc.h"

static authc_arena *ar;

static int arena_setup(void **state)
{
    (void)state;
    ar = authc_arena_new();
    return ar ? 0 : -1;
}

static int arena_teardown(void **state)
{
    (void)state;
    authc_arena_free(ar);
    ar = NULL;
    return 0;
}

#endif
