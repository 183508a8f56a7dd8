/* test_url.c — direct unit tests of lib/util/url.c: the strict http(s) URL
 * parser (origin normalisation, ports, IPv6, and what it must refuse). */
#include "cmocka_main.h"

#include "util/util_int.h"

#include "arena_fixture.h"

static void test_parts(void **state)
{
    (void)state;
    authc__url u;
    assert_int_equal(authc__url_parse(ar, "HTTPS://App.Example.COM:8443/auth/x?y=1&z#frag", &u), AUTHC_OK);
    assert_string_equal(u.scheme, "https");
    assert_string_equal(u.host, "app.example.com");
    assert_string_equal(u.port, "8443");
    assert_string_equal(u.origin, "https://app.example.com:8443");
    assert_string_equal(u.path, "/auth/x");
    assert_string_equal(u.query, "y=1&z");

    assert_int_equal(authc__url_parse(ar, "http://h.test", &u), AUTHC_OK);
    assert_string_equal(u.path, "/");
    assert_null(u.port);
    assert_null(u.query);
    assert_string_equal(u.origin, "http://h.test");

    /* an empty query is present but empty */
    assert_int_equal(authc__url_parse(ar, "http://h.test/p?", &u), AUTHC_OK);
    assert_non_null(u.query);
    assert_string_equal(u.query, "");
    assert_int_equal(authc__url_parse(ar, "http://h.test?q", &u), AUTHC_OK);
    assert_string_equal(u.path, "/");
    assert_string_equal(u.query, "q");
}

static void test_ports(void **state)
{
    (void)state;
    authc__url u;
    /* default ports vanish from the origin, per scheme */
    assert_int_equal(authc__url_parse(ar, "http://h.test:80/", &u), AUTHC_OK);
    assert_null(u.port);
    assert_string_equal(u.origin, "http://h.test");
    assert_int_equal(authc__url_parse(ar, "https://h.test:443/", &u), AUTHC_OK);
    assert_null(u.port);
    assert_int_equal(authc__url_parse(ar, "http://h.test:443/", &u), AUTHC_OK);
    assert_string_equal(u.port, "443");
    assert_int_equal(authc__url_parse(ar, "https://h.test:80/", &u), AUTHC_OK);
    assert_string_equal(u.origin, "https://h.test:80");
    /* leading zeros normalise (as WHATWG), so origins compare equal */
    assert_int_equal(authc__url_parse(ar, "http://h.test:03000/", &u), AUTHC_OK);
    assert_string_equal(u.origin, "http://h.test:3000");
    assert_int_equal(authc__url_parse(ar, "http://h.test:0080/", &u), AUTHC_OK);
    assert_null(u.port);
    assert_int_equal(authc__url_parse(ar, "http://h.test:65535/", &u), AUTHC_OK);
    assert_string_equal(u.port, "65535");
    /* "h:" is "h" */
    assert_int_equal(authc__url_parse(ar, "http://h.test:/", &u), AUTHC_OK);
    assert_null(u.port);
    static const char *const bad[] = {"http://h.test:65536/", "http://h.test:99999999999999999999/",
                                      "http://h.test:-1/", "http://h.test:+80/", "http://h.test:8a/",
                                      "http://h.test:0x50/"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(authc__url_parse(ar, bad[i], &u), AUTHC_ERR_INVALID);
}

static void test_ipv6(void **state)
{
    (void)state;
    authc__url u;
    assert_int_equal(authc__url_parse(ar, "http://[::1]:3000/cb", &u), AUTHC_OK);
    assert_string_equal(u.host, "[::1]");
    assert_string_equal(u.origin, "http://[::1]:3000");
    assert_int_equal(authc__url_parse(ar, "https://[2001:DB8::1]/", &u), AUTHC_OK);
    assert_string_equal(u.host, "[2001:db8::1]");
    static const char *const bad[] = {"http://[::1/", "http://[::1]x/", "http://[]/", "http://[:::1]/",
                                      "http://[1::2::3]/", "http://[12345::1]/", "http://[::1%25eth0]/"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(authc__url_parse(ar, bad[i], &u), AUTHC_ERR_INVALID);
}

static void test_refused(void **state)
{
    (void)state;
    authc__url u;
    static const char *const bad[] = {
        "", "h.test", "/relative", "//h.test/", "ftp://h.test/", "javascript:alert(1)", "http:/h.test",
        "http:///path", "http://", "http://?x", "http://#x",
        "http://user@h.test/", "http://h.test@evil.test/", "http://user:pw@h.test/", /* userinfo confusion */
        "http://h.test\\@evil.test/", "http:\\\\h.test/",                          /* backslashes */
        "http://h.te st/", "http://h.test/a b", "http://h.test/\t", "http://h\n.test/", "http://h.test/\x7f",
        "http://h%2etest/",                                                        /* escapes in host */
        "http://h.test./",                                                         /* trailing dot */
        "http://h.test:80:80/", "http://h<t>/",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (authc__url_parse(ar, bad[i], &u) != AUTHC_ERR_INVALID) {
            fprintf(stderr, "accepted: %s\n", bad[i]);
            fail();
        }
    }
    assert_int_equal(authc__url_parse(ar, NULL, &u), AUTHC_ERR_INVALID);
    /* length limit */
    size_t n = 9000;
    char *longu = malloc(n + 1);
    memcpy(longu, "http://h.test/", 14);
    memset(longu + 14, 'a', n - 14);
    longu[n] = '\0';
    assert_int_equal(authc__url_parse(ar, longu, &u), AUTHC_ERR_INVALID);
    longu[8000] = '\0';
    assert_int_equal(authc__url_parse(ar, longu, &u), AUTHC_OK);
    free(longu);
}

TU_MAIN(arena_setup, arena_teardown,
        cmocka_unit_test(test_parts), cmocka_unit_test(test_ports),
        cmocka_unit_test(test_ipv6), cmocka_unit_test(test_refused))
