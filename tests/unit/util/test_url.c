/* test_url.c — direct unit tests of lib/util/url.c: the strict http(s) URL
 * parser (origin normalisation, ports, IPv6, and what it must refuse). */
#include "cmocka_main.h"

#include "util/util_int.h"

#include "arena_fixture.h"

/* Every part of each accepted URL, NULL where a part is absent. */
static const struct {
    const char *in, *scheme, *host, *port, *origin, *path, *query;
} good[] = {
    {"HTTPS://App.Example.COM:8443/auth/x?y=1&z#frag", "https", "app.example.com", "8443",
     "https://app.example.com:8443", "/auth/x", "y=1&z"},
    {"http://h.test", "http", "h.test", NULL, "http://h.test", "/", NULL},
    /* an empty query is present but empty */
    {"http://h.test/p?", "http", "h.test", NULL, "http://h.test", "/p", ""},
    {"http://h.test?q", "http", "h.test", NULL, "http://h.test", "/", "q"},
    /* default ports vanish from the origin, per scheme */
    {"http://h.test:80/", "http", "h.test", NULL, "http://h.test", "/", NULL},
    {"https://h.test:443/", "https", "h.test", NULL, "https://h.test", "/", NULL},
    {"http://h.test:443/", "http", "h.test", "443", "http://h.test:443", "/", NULL},
    {"https://h.test:80/", "https", "h.test", "80", "https://h.test:80", "/", NULL},
    /* leading zeros normalise (as WHATWG), so origins compare equal */
    {"http://h.test:03000/", "http", "h.test", "3000", "http://h.test:3000", "/", NULL},
    {"http://h.test:0080/", "http", "h.test", NULL, "http://h.test", "/", NULL},
    {"http://h.test:65535/", "http", "h.test", "65535", "http://h.test:65535", "/", NULL},
    /* "h:" is "h" */
    {"http://h.test:/", "http", "h.test", NULL, "http://h.test", "/", NULL},
    {"http://[::1]:3000/cb", "http", "[::1]", "3000", "http://[::1]:3000", "/cb", NULL},
    {"https://[2001:DB8::1]/", "https", "[2001:db8::1]", NULL, "https://[2001:db8::1]", "/", NULL},
};

static void part_is(const char *in, const char *part, const char *got, const char *want)
{
    if (got == want || (got && want && !strcmp(got, want)))
        return;
    fail_msg("%s: %s is %s, want %s", in, part, got ? got : "(null)", want ? want : "(null)");
}

static void test_accepted(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        authc__url u;
        assert_int_equal(authc__url_parse(ar, good[i].in, &u), AUTHC_OK);
        part_is(good[i].in, "scheme", u.scheme, good[i].scheme);
        part_is(good[i].in, "host", u.host, good[i].host);
        part_is(good[i].in, "port", u.port, good[i].port);
        part_is(good[i].in, "origin", u.origin, good[i].origin);
        part_is(good[i].in, "path", u.path, good[i].path);
        part_is(good[i].in, "query", u.query, good[i].query);
    }
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
        /* ports out of range or not decimal */
        "http://h.test:65536/", "http://h.test:99999999999999999999/", "http://h.test:-1/",
        "http://h.test:+80/", "http://h.test:8a/", "http://h.test:0x50/",
        /* IPv6 literals */
        "http://[::1/", "http://[::1]x/", "http://[]/", "http://[:::1]/", "http://[1::2::3]/",
        "http://[12345::1]/", "http://[::1%25eth0]/",
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
        cmocka_unit_test(test_accepted), cmocka_unit_test(test_refused))
