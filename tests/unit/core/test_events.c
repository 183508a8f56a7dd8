/* test_events.c — what a response says it was about (authc_response_info),
 * the sign-in counters behind it, and authc_ready. */
#include "cmocka_main.h"

#include "authc/metrics.h"
#include "testutil.h"

#define SECRET "secret=unit-test-secret-0123456789abcdefghijkl"

/* POST /callback/credentials with a fresh CSRF token; caller frees. */
static authc_response *credentials(const authc *a, const char *user, const char *password)
{
    tu_csrf csrf = tu_csrf_of(a, "http://h.test/auth/csrf");
    char body[512];
    snprintf(body, sizeof body, "csrfToken=%s&username=%s&password=%s", csrf.token, user, password);
    return tu_req(a, "POST", "http://h.test/auth/callback/credentials", body, csrf.cookie,
                  "Content-Type: application/x-www-form-urlencoded", NULL);
}

static void test_info_of_plain_routes(void **st)
{
    (void)st;
    authc *a = tu_instance(SECRET, "trust_host=1", NULL);
    authc_response *r = tu_req(a, "GET", "http://h.test/auth/csrf", NULL, NULL);
    authc_response_info in;
    authc_response_info_get(r, &in);
    assert_string_equal(in.action, "csrf");
    assert_null(in.event);
    assert_null(in.provider);
    assert_null(in.user_id);
    authc_response_free(r);
    /* Not routed: no action; an unknown provider id never becomes a label. */
    r = tu_req(a, "GET", "http://h.test/auth/nope", NULL, NULL);
    authc_response_info_get(r, &in);
    assert_null(in.action);
    authc_response_free(r);
    r = tu_req(a, "GET", "http://h.test/auth/signin/evil%0d%0aline", NULL, NULL);
    authc_response_info_get(r, &in);
    assert_string_equal(in.action, "signin");
    assert_null(in.provider);
    authc_response_free(r);
    authc_response_info_get(NULL, &in);
    assert_null(in.action);
    authc_free(a);
}

static void test_signin_events_counted(void **st)
{
    (void)st;
    authc *a = tu_instance(SECRET, "trust_host=1", NULL);
    unsigned long long ok0 = authc_metrics_counter("authc_signin_total", "credentials", "success", NULL);
    unsigned long long bad0 = authc_metrics_counter("authc_signin_total", "credentials", "CredentialsSignin", NULL);
    authc_response *r = credentials(a, "alice", "wonderland");
    assert_int_equal(r->status, 302);
    authc_response_info in;
    authc_response_info_get(r, &in);
    assert_string_equal(in.action, "callback");
    assert_string_equal(in.provider, "credentials");
    assert_string_equal(in.event, "signin");
    assert_string_equal(in.result, "success");
    assert_string_equal(in.user_id, "1");
    authc_response_free(r);
    r = credentials(a, "alice", "wrong");
    authc_response_info_get(r, &in);
    assert_string_equal(in.event, "signin");
    assert_string_equal(in.result, "CredentialsSignin");
    assert_null(in.user_id);
    authc_response_free(r);
    assert_int_equal(authc_metrics_counter("authc_signin_total", "credentials", "success", NULL), ok0 + 1);
    assert_int_equal(authc_metrics_counter("authc_signin_total", "credentials", "CredentialsSignin", NULL), bad0 + 1);
    authc_free(a);
}

static void test_ready_without_database(void **st)
{
    (void)st;
    authc *a = tu_instance(SECRET, "trust_host=1", NULL);
    char why[32] = "x";
    /* No adapter; the default store is in memory: ready. */
    assert_true(authc_ready(a, 1000, why, sizeof why));
    assert_string_equal(why, "");
    authc_free(a);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_info_of_plain_routes),
        cmocka_unit_test(test_signin_events_counted),
        cmocka_unit_test(test_ready_without_database))
