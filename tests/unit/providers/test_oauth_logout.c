/* test_oauth_logout.c — the OIDC type's back- and front-channel logout
 * routes: input checks, answers and 404 (validation: jose/test_logout_token). */
#include "cmocka_main.h"

#include "../testutil.h"
#include "authc/oauth.h"
#include "response_assert.h"

#define FORM "Content-Type: application/x-www-form-urlencoded"

/* An OIDC provider whose issuer does not answer (port 1). */
static authc *oidc_instance(void)
{
    authc_config *cfg = authc_config_new();
    char err[512];
    assert_int_equal(authc_config_set(cfg, "secret", "logout-test-secret-0123456789abcdef", err, sizeof err), AUTHC_OK);
    assert_int_equal(authc_config_set(cfg, "trust_host", "1", err, sizeof err), AUTHC_OK);
    authc_oauth_provider p = {.id = "idp", .type = AUTHC_OAUTH_OIDC, .issuer = "http://127.0.0.1:1",
                              .client_id = "c", .client_secret = "s"};
    assert_int_equal(authc_config_add_oauth(cfg, &p, err, sizeof err), AUTHC_OK);
    authc *a = authc_new(cfg, err, sizeof err);
    assert_non_null(a);
    return a;
}

static void expect_400(authc_response *r, const char *check)
{
    assert_int_equal(r->status, 400);
    assert_string_equal(authc_response_header(r, "Cache-Control"), "no-store");
    if (check) {
        char want[256];
        snprintf(want, sizeof want, "{\"error\":\"invalid_request\",\"error_description\":\"%s\"}", check);
        tu_assert_body(r, want);
    } else {
        assert_true(tu_body_has(r, "\"error\":\"invalid_request\""));
    }
    authc_response_free(r);
}

static void test_backchannel_input(void **st)
{
    (void)st;
    authc *a = oidc_instance();
    expect_400(tu_req(a, "POST", "http://h.test/auth/backchannel-logout/idp", "", FORM, NULL),
               "logout_token missing");
    expect_400(tu_req(a, "POST", "http://h.test/auth/backchannel-logout/idp", "other=1", FORM, NULL),
               "logout_token missing");
    char big[9000] = "logout_token=";
    memset(big + 13, 'a', sizeof big - 14);
    big[sizeof big - 1] = '\0';
    expect_400(tu_req(a, "POST", "http://h.test/auth/backchannel-logout/idp", big, FORM, NULL),
               "logout_token too large");
    /* The issuer is down: discovery fails, still a 400 (never 5xx). */
    expect_400(tu_req(a, "POST", "http://h.test/auth/backchannel-logout/idp", "logout_token=a.b.c", FORM, NULL),
               NULL);
    authc_response *r = tu_req(a, "POST", "http://h.test/auth/backchannel-logout/nope", "logout_token=x", FORM, NULL);
    assert_int_equal(r->status, 404);
    authc_response_free(r);
    r = tu_req(a, "GET", "http://h.test/auth/backchannel-logout/idp", NULL, NULL);
    assert_int_not_equal(r->status, 200);
    authc_response_free(r);
    authc_free(a);
}

static void test_frontchannel_input(void **st)
{
    (void)st;
    authc *a = oidc_instance();
    authc_response *r = tu_req(a, "GET", "http://h.test/auth/frontchannel-logout/idp?sid=abc", NULL, NULL);
    assert_int_equal(r->status, 400); /* the issuer is unknown: nothing revoked */
    assert_string_equal(authc_response_header(r, "Cache-Control"), "no-cache, no-store");
    authc_response_free(r);
    tu_expect_status(tu_req(a, "GET", "http://h.test/auth/frontchannel-logout/other?sid=abc", NULL, NULL), 404);
    authc_free(a);
}

/* Instances with only credentials have no such routes. */
static void test_no_oidc_no_route(void **st)
{
    (void)st;
    authc *a = tu_instance("secret=logout-test-secret-0123456789abcdef", "trust_host=1", NULL);
    authc_response *r = tu_req(a, "POST", "http://h.test/auth/backchannel-logout/credentials", "logout_token=x", FORM, NULL);
    assert_int_equal(r->status, 400);
    tu_assert_body(r, "\"Bad request.\"");
    authc_response_free(r);
    authc_free(a);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_backchannel_input),
        cmocka_unit_test(test_frontchannel_input),
        cmocka_unit_test(test_no_oidc_no_route))
