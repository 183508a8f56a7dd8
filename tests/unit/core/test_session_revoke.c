/* test_session_revoke.c — revocable sessions: the "authc" claim, sign-out
 * killing copies on another instance, /sessions/revoke, fail closed. */
#include "cmocka_main.h"

#include "../testutil.h"

#define SECRET "secret=test-secret-that-is-long-enough-0123456789", "trust_host=1"

/* Signs alice in on a; "authjs.session-token=…" into out. */
static void sign_in(const authc *a, char *out, size_t n)
{
    authc_response *r = tu_sign_in(a, "http://h.test", "");
    assert_int_equal(r->status, 302);
    assert_non_null(tu_session_pair(r, out, n));
    authc_response_free(r);
}

/* GET /session body with cookie (malloc'd). */
static char *session(const authc *a, const char *cookie)
{
    char hdr[8192];
    snprintf(hdr, sizeof hdr, "Cookie: %s", cookie);
    authc_response *r = tu_req(a, "GET", "http://h.test/auth/session", NULL, hdr, NULL);
    char *b = tu_body(r);
    if (!strcmp(b, "null") && strstr(cookie, "session-token"))
        assert_non_null(strstr(tu_cookie_named(r, "authjs.session-token"), "Max-Age=0"));
    authc_response_free(r);
    return b;
}

static bool signed_in(const authc *a, const char *cookie)
{
    char *b = session(a, cookie);
    bool yes = strstr(b, "alice@example.com") != NULL;
    free(b);
    return yes;
}

/* POST path with the session and a fresh CSRF pair; status, and the new
 * session cookie (when one is set) into fresh. */
static int post(const authc *a, const char *path, const char *session_ck, const char *extra,
                bool good_csrf, char *fresh, size_t fn)
{
    authc_response *r = tu_post_csrf(a, "http://h.test", path, session_ck, extra, good_csrf);
    int st = r->status;
    const char *sc = tu_cookie_named(r, "authjs.session-token");
    if (fresh && sc && !strstr(sc, "Max-Age=0"))
        tu_session_pair(r, fresh, fn);
    authc_response_free(r);
    return st;
}

/* Sign-out on one instance kills a copy of the cookie on another. */
static void test_signout_kills_copies(void **st)
{
    (void)st;
    authc *a = tu_instance(SECRET, "store=memory:rev1", NULL);
    authc *b = tu_instance(SECRET, "store=memory:rev1", NULL);
    char ck[8192];
    sign_in(a, ck, sizeof ck);
    assert_true(signed_in(a, ck));
    assert_int_equal(post(a, "signout", ck, "", true, NULL, 0), 302);
    assert_false(signed_in(b, ck));
    assert_false(signed_in(a, ck));
    /* A sign-in afterwards works. */
    char ck2[8192];
    sign_in(a, ck2, sizeof ck2);
    assert_true(signed_in(b, ck2));
    authc_free(a);
    authc_free(b);
}

static void test_sessions_revoke(void **st)
{
    (void)st;
    authc *a = tu_instance(SECRET, "store=memory:rev2", NULL);
    authc *b = tu_instance(SECRET, "store=memory:rev2", NULL);
    char ck[8192], other[8192], fresh[8192] = "";
    assert_int_equal(post(a, "sessions/revoke", "x=y", "&scope=all", true, NULL, 0), 401);
    sign_in(a, ck, sizeof ck);
    sign_in(a, other, sizeof other);
    assert_int_equal(post(a, "sessions/revoke", ck, "&scope=all", false, NULL, 0), 403);
    assert_int_equal(post(a, "sessions/revoke", ck, "&scope=bogus", true, NULL, 0), 400);
    assert_int_equal(post(a, "sessions/revoke", ck, "&scope=others", true, fresh, sizeof fresh), 200);
    assert_non_null(strstr(fresh, "session-token="));
    assert_false(signed_in(b, other));
    assert_false(signed_in(b, ck));
    assert_true(signed_in(b, fresh));
    assert_int_equal(post(a, "sessions/revoke", fresh, "&scope=all", true, NULL, 0), 200);
    assert_false(signed_in(a, fresh));
    assert_int_equal(post(a, "sessions/nope", fresh, "", true, NULL, 0), 404);
    authc_free(a);
    authc_free(b);
}

/* The C API: authc_auth() checks marks; authc_revoke_user() ends them. */
static void test_c_api(void **st)
{
    (void)st;
    authc *a = tu_instance(SECRET, "store=memory:rev3", NULL);
    char ck[8192], hdr[8300];
    sign_in(a, ck, sizeof ck);
    snprintf(hdr, sizeof hdr, "%s", ck);
    authc_header h = {"Cookie", hdr};
    authc_request rq = {.method = "GET", .url = "http://h.test/", .headers = &h, .nheaders = 1};
    authc_session *s = NULL;
    assert_int_equal(authc_auth(a, &rq, &s), AUTHC_OK);
    assert_non_null(s);
    assert_string_equal(s->user.id, "1");
    authc_session_free(s);
    assert_int_equal(authc_revoke_user(a, NULL), AUTHC_ERR_INVALID);
    assert_int_equal(authc_revoke_user(a, "1"), AUTHC_OK);
    assert_int_equal(authc_auth(a, &rq, &s), AUTHC_OK);
    assert_null(s);
    authc_free(a);
}

/* A store that does not answer: no session is valid (fail closed). */
static void test_store_down_fails_closed(void **st)
{
    (void)st;
    authc *a = tu_instance(SECRET, NULL);
    authc *down = tu_instance(SECRET, "store=redis://127.0.0.1:1/?timeout=100&connect_timeout=100", NULL);
    char ck[8192];
    sign_in(a, ck, sizeof ck);
    assert_true(signed_in(a, ck));
    char hdr[8300];
    snprintf(hdr, sizeof hdr, "Cookie: %s", ck);
    authc_response *r = tu_req(down, "GET", "http://h.test/auth/session", NULL, hdr, NULL);
    char *b = tu_body(r);
    assert_string_equal(b, "null");
    /* No session, but the cookie stays for when the store is back. */
    assert_null(tu_cookie_named(r, "authjs.session-token"));
    free(b);
    authc_response_free(r);
    authc_free(a);
    authc_free(down);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_signout_kills_copies),
        cmocka_unit_test(test_sessions_revoke),
        cmocka_unit_test(test_c_api),
        cmocka_unit_test(test_store_down_fails_closed))
