/* test_target.c — forward-auth targets: nginx and redirect modes, headers
 * from untrusted peers ignored, navigation detection. */
#include "cmocka_main.h"

#include "forward/target_int.h"

#define REQ(...)                                                                 \
    (authc_request)                                                              \
    {                                                                            \
        .method = "GET", .url = "/auth/forward",                                 \
        .headers = (authc_header[]){__VA_ARGS__},                                \
        .nheaders = sizeof((authc_header[]){__VA_ARGS__}) / sizeof(authc_header) \
    }

/* r (from a trusted peer) names no usable target. */
static void assert_no_target(authc_arena *ar, const authc_request *r)
{
    authc__fwd_req t;
    assert_int_equal(authc__forward_target(ar, r, true, &t), AUTHC_OK);
    assert_int_equal(t.mode, AUTHC__FWD_MODE_NONE);
}

static void test_nginx_mode(void **st)
{
    (void)st;
    authc_arena *ar = authc_arena_new();
    authc_request r = REQ({"X-Original-URL", "https://App.Example.com:8443/a/b?x=1"},
                          {"X-Original-Method", "post"});
    authc__fwd_req t;
    assert_int_equal(authc__forward_target(ar, &r, true, &t), AUTHC_OK);
    assert_int_equal(t.mode, AUTHC__FWD_MODE_NGINX);
    assert_string_equal(t.origin, "https://app.example.com:8443");
    assert_string_equal(t.host, "app.example.com:8443");
    assert_string_equal(t.path, "/a/b");
    assert_string_equal(t.method, "POST");
    /* The same headers from an untrusted peer count for nothing. */
    assert_int_equal(authc__forward_target(ar, &r, false, &t), AUTHC_OK);
    assert_int_equal(t.mode, AUTHC__FWD_MODE_NONE);
    assert_non_null(strstr(t.why, "AUTHC_TRUSTED_PROXIES"));
    /* Unusable targets. */
    const char *bad[] = {"/relative", "ftp://x/", "https://user@evil/", "https://a b/", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        authc_request b = REQ({"X-Original-URL", bad[i]});
        assert_int_equal(authc__forward_target(ar, &b, true, &t), AUTHC_OK);
        if (t.mode != AUTHC__FWD_MODE_NONE)
            fail_msg("accepted target '%s'", bad[i]);
    }
    assert_no_target(ar, &REQ({"X-Original-URL", "http://a/"}, {"X-Original-Method", "G\r\nX"}));
    authc_arena_free(ar);
}

static void test_redirect_mode(void **st)
{
    (void)st;
    authc_arena *ar = authc_arena_new();
    authc__fwd_req t;
    /* Traefik / Caddy; a client-supplied left part of an appended header
     * never wins over what the trusted proxy appended. */
    authc_request r = REQ({"X-Forwarded-Proto", "https"},
                          {"X-Forwarded-Host", "evil.example, app.example.com"},
                          {"X-Forwarded-Uri", "/dash?tab=1"}, {"X-Forwarded-Method", "DELETE"});
    assert_int_equal(authc__forward_target(ar, &r, true, &t), AUTHC_OK);
    assert_int_equal(t.mode, AUTHC__FWD_MODE_REDIRECT);
    assert_string_equal(t.url, "https://app.example.com/dash?tab=1");
    assert_string_equal(t.path, "/dash");
    assert_string_equal(t.method, "DELETE");
    authc_request noun = REQ({"X-Forwarded-Proto", "HTTP"}, {"X-Forwarded-Host", "a.test"});
    assert_int_equal(authc__forward_target(ar, &noun, true, &t), AUTHC_OK);
    assert_string_equal(t.url, "http://a.test/");
    /* No host, a bad scheme, a URI that is not a path, a host with a user. */
    assert_no_target(ar, &REQ({"X-Forwarded-Proto", "https"}, {"X-Forwarded-Uri", "/"}));
    assert_no_target(ar, &REQ({"X-Forwarded-Proto", "gopher"}, {"X-Forwarded-Host", "a"}));
    assert_no_target(ar, &REQ({"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "a"}, {"X-Forwarded-Uri", "@evil/"}));
    assert_no_target(ar, &REQ({"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "a@evil"}));
    authc_arena_free(ar);
}

static void test_navigation(void **st)
{
    (void)st;
    authc_request page = REQ({"Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"},
                             {"Sec-Fetch-Mode", "navigate"}, {"Sec-Fetch-Dest", "document"});
    assert_true(authc__forward_is_navigation(&page));
    authc_request curl = REQ({"Accept", "*/*"});
    assert_true(authc__forward_is_navigation(&curl));
    authc_request xhr = REQ({"Accept", "text/html"}, {"X-Requested-With", "XMLHttpRequest"});
    assert_false(authc__forward_is_navigation(&xhr));
    authc_request fetchapi = REQ({"Accept", "*/*"}, {"Sec-Fetch-Mode", "cors"});
    assert_false(authc__forward_is_navigation(&fetchapi));
    authc_request img = REQ({"Accept", "image/avif,*/*"}, {"Sec-Fetch-Dest", "image"});
    assert_false(authc__forward_is_navigation(&img));
    authc_request json = REQ({"Accept", "application/json"});
    assert_false(authc__forward_is_navigation(&json));
    authc_request none = REQ({"X-Other", "1"});
    assert_false(authc__forward_is_navigation(&none));
    authc_request frame = REQ({"Accept", "text/html"}, {"Sec-Fetch-Dest", "iframe"});
    assert_true(authc__forward_is_navigation(&frame));
    authc_request htmlish = REQ({"Accept", "text/htmlx"});
    assert_false(authc__forward_is_navigation(&htmlish));
    assert_int_equal(authc__forward_redirect_status("GET"), 302);
    assert_int_equal(authc__forward_redirect_status("HEAD"), 302);
    assert_int_equal(authc__forward_redirect_status("OPTIONS"), 302);
    assert_int_equal(authc__forward_redirect_status("POST"), 303);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_nginx_mode),
        cmocka_unit_test(test_redirect_mode),
        cmocka_unit_test(test_navigation))
