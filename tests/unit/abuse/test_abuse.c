/* test_abuse.c — throttles and regulation count across store handles (two
 * instances), bans double up to their cap, success clears a name. */
#include "cmocka_main.h"

#include "abuse/abuse_int.h"
#include "util/util_int.h"
#include "store_fixture.h"

static void test_throttle_two_instances(void **s)
{
    const tu_store_pair *p = *s;
    authc_store *a = p->a, *b = p->b;
    bool ok;
    int64_t retry;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(authc__throttle_hit(i % 2 ? a : b, "credentials", "192.0.2.1", 6, 60, &ok, &retry), AUTHC_OK);
        assert_true(ok);
    }
    assert_int_equal(authc__throttle_hit(a, "credentials", "192.0.2.1", 6, 60, &ok, &retry), AUTHC_OK);
    assert_false(ok);
    assert_true(retry > 0 && retry <= 60);
    /* Another client and another bucket are not affected. */
    assert_int_equal(authc__throttle_hit(a, "credentials", "192.0.2.2", 6, 60, &ok, &retry), AUTHC_OK);
    assert_true(ok);
    assert_int_equal(authc__throttle_hit(a, "passkey-options", "192.0.2.1", 6, 60, &ok, &retry), AUTHC_OK);
    assert_true(ok);
    /* Odd keys are encoded, never refused by the store's key rules. */
    assert_int_equal(authc__throttle_hit(a, "email", "a b%c\x01\xff@x", 1, 60, &ok, &retry), AUTHC_OK);
    assert_true(ok);
}

static void test_regulation(void **s)
{
    const tu_store_pair *p = *s;
    authc_store *a = p->a, *b = p->b;
    authc__regulation rg = {.max_failures = 3, .find_time_s = 600, .ban_time_s = 300};
    bool banned, now;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(authc__regulation_failed(i ? a : b, &rg, "alice", "198.51.100.1", &now), AUTHC_OK);
        assert_false(now);
    }
    assert_int_equal(authc__regulation_banned(a, &rg, "alice", "198.51.100.1", &banned), AUTHC_OK);
    assert_false(banned);
    assert_int_equal(authc__regulation_failed(a, &rg, "alice", "198.51.100.7", &now), AUTHC_OK);
    assert_true(now);
    /* Banned on both instances, from any address. */
    assert_int_equal(authc__regulation_banned(b, &rg, "alice", "203.0.113.5", &banned), AUTHC_OK);
    assert_true(banned);
    assert_int_equal(authc__regulation_banned(b, &rg, "bob", "203.0.113.5", &banned), AUTHC_OK);
    assert_false(banned);
    /* The ban key is what `authc bans` shows and deletes. */
    char key[AUTHC_STORE_MAX_KEY];
    assert_true(authc__ban_key(key, 'u', "alice"));
    assert_string_equal(key, "ban:u:alice");
    authc_arena *ar = authc_arena_new();
    authc__store_val v;
    assert_int_equal(authc__store_get(a, ar, key, &v), AUTHC_OK);
    assert_non_null(v.data);
    int64_t until = strtoll((const char *)v.data, NULL, 10);
    int64_t t = authc__now_ms() / 1000;
    assert_true(until > t + 290 && until <= t + 300);
    /* A second ban of the same name lasts twice as long. */
    assert_int_equal(authc__store_delete(a, key, NULL), AUTHC_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(authc__regulation_failed(a, &rg, "alice", NULL, &now), AUTHC_OK);
    assert_true(now);
    assert_int_equal(authc__store_get(a, ar, key, &v), AUTHC_OK);
    until = strtoll((const char *)v.data, NULL, 10);
    assert_true(until > t + 590 && until <= t + 601);
    /* Per IP: 4x the per-name limit, across names. */
    for (int i = 0; i < 11; i++) {
        char name[16];
        snprintf(name, sizeof name, "u%d", i);
        assert_int_equal(authc__regulation_failed(a, &rg, name, "192.0.2.99", &now), AUTHC_OK);
        assert_false(now);
    }
    assert_int_equal(authc__regulation_failed(a, &rg, "u-last", "192.0.2.99", &now), AUTHC_OK);
    assert_true(now);
    assert_int_equal(authc__regulation_banned(a, &rg, "someone-else", "192.0.2.99", &banned), AUTHC_OK);
    assert_true(banned);
    /* Success clears a name's count. */
    assert_int_equal(authc__regulation_failed(a, &rg, "carol", NULL, &now), AUTHC_OK);
    assert_int_equal(authc__regulation_failed(a, &rg, "carol", NULL, &now), AUTHC_OK);
    assert_int_equal(authc__regulation_succeeded(a, &rg, "carol"), AUTHC_OK);
    assert_int_equal(authc__regulation_failed(a, &rg, "carol", NULL, &now), AUTHC_OK);
    assert_false(now);
    /* Off. */
    authc__regulation off = {0, 600, 300};
    assert_int_equal(authc__regulation_banned(a, &off, "alice", NULL, &banned), AUTHC_OK);
    assert_false(banned);
    authc_arena_free(ar);
}

static void test_store_down(void **s)
{
    authc_store *st = *s;
    authc__regulation rg = {3, 600, 300};
    bool b;
    assert_int_equal(authc__regulation_banned(st, &rg, "alice", "192.0.2.1", &b), AUTHC_ERR_ADAPTER);
    int64_t r;
    assert_int_equal(authc__throttle_hit(st, "credentials", "192.0.2.1", 5, 60, &b, &r), AUTHC_ERR_ADAPTER);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test_prestate_setup_teardown(test_throttle_two_instances, tu_store_pair_setup, tu_store_pair_teardown,
                                                 "memory:abuse-t"),
        cmocka_unit_test_prestate_setup_teardown(test_regulation, tu_store_pair_setup, tu_store_pair_teardown,
                                                 "memory:abuse-r"),
        cmocka_unit_test_prestate_setup_teardown(test_store_down, tu_store_setup, tu_store_teardown, TU_STORE_DOWN))
