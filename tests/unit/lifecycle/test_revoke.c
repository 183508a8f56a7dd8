/* test_revoke.c — revocation marks: per session, per user and per provider
 * sid/sub with times (a later sign-in works), seen by a second handle of
 * the same store, the in-process cache bound, and fail-closed errors. */
#include "cmocka_main.h"
#include <unistd.h>

#include "lifecycle/revoke_int.h"
#include "util/util_int.h"
#include "store_fixture.h"

static bool is_revoked(authc__revoker *r, const authc__session_ident *id)
{
    bool rev = false;
    assert_int_equal(authc__revoked(r, id, &rev), AUTHC_OK);
    return rev;
}

static void test_marks(void **s)
{
    (void)s;
    authc_store *st = open_store("memory:");
    authc__revoker *r = authc__revoker_new(st, 3600 * 1000);
    int64_t t0 = authc__now_ms();
    authc__session_ident a = {.sid = "s-a", .user_id = "u-1", .signed_in_ms = t0 - 1000,
                              .provider = "oidc", .psid = "op-sess-1", .psub = "op-sub-1"};
    authc__session_ident b = {.sid = "s-b", .user_id = "u-1", .signed_in_ms = t0 - 500};
    authc__session_ident other = {.sid = "s-c", .user_id = "u-2", .signed_in_ms = t0 - 500};
    assert_false(is_revoked(r, &a));
    /* One session. */
    assert_int_equal(authc__revoke_session(r, "s-a"), AUTHC_OK);
    assert_true(is_revoked(r, &a));
    assert_false(is_revoked(r, &b));
    /* Every session of a user, up to now; a later sign-in works. */
    assert_int_equal(authc__revoke_user(r, "u-1", t0), AUTHC_OK);
    assert_true(is_revoked(r, &b));
    assert_false(is_revoked(r, &other));
    authc__session_ident again = {.sid = "s-d", .user_id = "u-1", .signed_in_ms = t0 + 10};
    assert_false(is_revoked(r, &again));
    /* A foreign (Auth.js) cookie: no sid, judged by its iat. */
    authc__session_ident foreign = {.user_id = "u-1", .signed_in_ms = t0 - 5000};
    assert_true(is_revoked(r, &foreign));
    authc__revoker_free(r);
    authc__store_close(st);
}

/* The cache is keyed by the raw (kind, provider, value): kinds and the
 * provider/value split stay apart, and an identity too long to cache is
 * still checked (against the store, every time). */
static void test_cache_identities(void **s)
{
    authc_store *st = *s; /* the fixture's, closed by it */
    authc__revoker *r = authc__revoker_new(st, 3600 * 1000);
    int64_t t0 = authc__now_ms();
    authc__session_ident a = {.sid = "same", .user_id = "same", .signed_in_ms = t0 - 100,
                              .provider = "ab", .psid = "c", .psub = "c"};
    authc__session_ident b = {.sid = "other", .user_id = "u", .signed_in_ms = t0 - 100,
                              .provider = "a", .psid = "bc", .psub = "bc"};
    assert_false(is_revoked(r, &a));
    assert_false(is_revoked(r, &b));
    assert_int_equal(authc__revoke_provider(r, "ab", "c", NULL, t0), AUTHC_OK);
    assert_true(is_revoked(r, &a));
    assert_false(is_revoked(r, &b));   /* "a" + "bc" is not "ab" + "c" */
    authc__session_ident a_sub = a;
    a_sub.psid = NULL;
    assert_false(is_revoked(r, &a_sub)); /* a sid mark is not a sub mark */
    assert_int_equal(authc__revoke_session(r, "u"), AUTHC_OK);
    assert_false(is_revoked(r, &b));   /* a session mark is not a user mark */

    char longid[300];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    authc__session_ident l = {.sid = longid, .user_id = longid, .signed_in_ms = t0 - 100};
    authc__revoker *r2 = authc__revoker_new(st, 3600 * 1000); /* a second instance */
    assert_false(is_revoked(r, &l));
    assert_false(is_revoked(r2, &l));
    assert_int_equal(authc__revoke_session(r, longid), AUTHC_OK);
    assert_true(is_revoked(r, &l));
    assert_true(is_revoked(r2, &l)); /* not cached: the store answers at once */
    authc__revoker_free(r2);
    authc__revoker_free(r);
}

static void test_provider_and_instances(void **s)
{
    /* Two handles of one store: two instances. */
    const tu_store_pair *p = *s;
    authc_store *sa = p->a, *sb = p->b;
    authc__revoker *ra = authc__revoker_new(sa, 3600 * 1000), *rb = authc__revoker_new(sb, 3600 * 1000);
    int64_t t0 = authc__now_ms();
    authc__session_ident x = {.sid = "s-x", .user_id = "u-9", .signed_in_ms = t0 - 100,
                              .provider = "oidc", .psid = "op-1", .psub = "sub-9"};
    authc__session_ident y = {.sid = "s-y", .user_id = "u-8", .signed_in_ms = t0 - 100,
                              .provider = "oidc", .psub = "sub-8"};
    authc__session_ident same_sid_other_idp = x;
    same_sid_other_idp.provider = "github";
    assert_false(is_revoked(rb, &x));
    /* Back-channel on instance A by sid; B's cache may hold "not revoked"
     * for at most the cache window. */
    assert_int_equal(authc__revoke_provider(ra, "oidc", "op-1", NULL, t0), AUTHC_OK);
    assert_true(is_revoked(ra, &x));
    usleep((AUTHC__REVOKE_CACHE_MS + 100) * 1000);
    assert_true(is_revoked(rb, &x));
    assert_false(is_revoked(rb, &same_sid_other_idp));
    /* By sub alone. */
    assert_false(is_revoked(rb, &y));
    assert_int_equal(authc__revoke_provider(rb, "oidc", NULL, "sub-8", authc__now_ms()), AUTHC_OK);
    assert_true(is_revoked(rb, &y));
    assert_int_equal(authc__revoke_provider(rb, "oidc", NULL, NULL, t0), AUTHC_ERR_INVALID);
    authc__revoker_free(ra);
    authc__revoker_free(rb);
}

static void test_store_down(void **s)
{
    authc_store *st = *s;
    authc__revoker *r = authc__revoker_new(st, 3600 * 1000);
    authc__session_ident a = {.sid = "s-a", .user_id = "u-1", .signed_in_ms = 1};
    bool rev = false;
    assert_int_equal(authc__revoked(r, &a, &rev), AUTHC_ERR_ADAPTER);
    assert_int_not_equal(authc__revoke_session(r, "s-a"), AUTHC_OK);
    authc__revoker_free(r);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_marks),
        cmocka_unit_test_prestate_setup_teardown(test_cache_identities, tu_store_setup, tu_store_teardown, "memory:"),
        cmocka_unit_test_prestate_setup_teardown(test_provider_and_instances, tu_store_pair_setup, tu_store_pair_teardown,
                                                 "memory:rev-two"),
        cmocka_unit_test_prestate_setup_teardown(test_store_down, tu_store_setup, tu_store_teardown, TU_STORE_DOWN))
