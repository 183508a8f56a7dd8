/* test_parse.c — direct unit tests of lib/util/parse.c: every parser's edge
 * cases (overflow, empty, junk, bad escapes, overlong UTF-8, 127.999…). */
#include "cmocka_main.h"

#include "authc.h"
#include "util/parse_int.h"
#include "util/util_int.h"

static void test_bool(void **state)
{
    (void)state;
    static const char *const yes[] = {"1", "true", "TRUE", "True", "yes", "YES", "on", "On"};
    static const char *const no[] = {"0", "false", "FALSE", "no", "No", "off", "OFF"};
    static const char *const bad[] = {"", " 1", "1 ", "2", "-1", "tru", "truex", "y", "n", "enabled", "00", "01"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        bool b = false;
        assert_int_equal(authc__parse_bool(yes[i], &b), AUTHC_OK);
        assert_true(b);
    }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        bool b = true;
        assert_int_equal(authc__parse_bool(no[i], &b), AUTHC_OK);
        assert_false(b);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        bool b = true;
        assert_int_equal(authc__parse_bool(bad[i], &b), AUTHC_ERR_INVALID);
        assert_true(b); /* untouched on failure */
    }
    bool b = false;
    assert_int_equal(authc__parse_bool(NULL, &b), AUTHC_ERR_INVALID);
}

static void test_i64(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(authc__parse_i64("0", 0, 10, &v), AUTHC_OK);
    assert_int_equal(v, 0);
    assert_int_equal(authc__parse_i64("007", 0, 10, &v), AUTHC_OK);
    assert_int_equal(v, 7);
    assert_int_equal(authc__parse_i64("-5", -10, 10, &v), AUTHC_OK);
    assert_int_equal(v, -5);
    assert_int_equal(authc__parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &v), AUTHC_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(authc__parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), AUTHC_OK);
    assert_true(v == INT64_MIN);
    /* The edges of the unchecked (≤ 18 digits) and checked paths. */
    assert_int_equal(authc__parse_i64("999999999999999999", INT64_MIN, INT64_MAX, &v), AUTHC_OK);
    assert_true(v == 999999999999999999LL);
    assert_int_equal(authc__parse_i64("-999999999999999999", INT64_MIN, INT64_MAX, &v), AUTHC_OK);
    assert_true(v == -999999999999999999LL);
    assert_int_equal(authc__parse_i64("1000000000000000000", INT64_MIN, INT64_MAX, &v), AUTHC_OK);
    assert_true(v == 1000000000000000000LL);
    assert_int_equal(authc__parse_i64("00000000000000000000000000001", INT64_MIN, INT64_MAX, &v), AUTHC_OK);
    assert_true(v == 1);
    v = 42;
    /* overflow is LIMIT, never a wrapped value */
    assert_int_equal(authc__parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v), AUTHC_ERR_LIMIT);
    assert_int_equal(authc__parse_i64("-9223372036854775809", INT64_MIN, INT64_MAX, &v), AUTHC_ERR_LIMIT);
    assert_int_equal(authc__parse_i64("99999999999999999999999", INT64_MIN, INT64_MAX, &v), AUTHC_ERR_LIMIT);
    /* range */
    assert_int_equal(authc__parse_i64("11", 0, 10, &v), AUTHC_ERR_LIMIT);
    assert_int_equal(authc__parse_i64("-1", 0, 10, &v), AUTHC_ERR_LIMIT);
    /* malformed */
    static const char *const bad[] = {"", "-", "+1", " 1", "1 ", "1x", "0x10", "1.5", "1e3", "--1", "١"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(authc__parse_i64(bad[i], INT64_MIN, INT64_MAX, &v), AUTHC_ERR_INVALID);
    /* overflow followed by junk is still malformed */
    assert_int_equal(authc__parse_i64("99999999999999999999x", INT64_MIN, INT64_MAX, &v), AUTHC_ERR_INVALID);
    assert_int_equal(authc__parse_i64(NULL, 0, 1, &v), AUTHC_ERR_INVALID);
    assert_int_equal(v, 42);
    /* _n reads exactly n bytes */
    assert_int_equal(authc__parse_i64_n("123abc", 3, 0, 1000, &v), AUTHC_OK);
    assert_int_equal(v, 123);
    assert_int_equal(authc__parse_i64_n("123abc", 4, 0, 1000, &v), AUTHC_ERR_INVALID);
    assert_int_equal(authc__parse_i64_n("123", 0, 0, 1000, &v), AUTHC_ERR_INVALID);

    int i = 0;
    assert_int_equal(authc__parse_int("2147483647", 0, 2147483647, &i), AUTHC_OK);
    assert_int_equal(i, 2147483647);
    assert_int_equal(authc__parse_int("2147483648", 0, 2147483647, &i), AUTHC_ERR_LIMIT);
    assert_int_equal(authc__parse_int("4294967297", -5, 5, &i), AUTHC_ERR_LIMIT);
}

static void test_seconds(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(authc__parse_seconds("2592000", 0, INT64_MAX, &v), AUTHC_OK);
    assert_int_equal(v, 2592000);
    assert_int_equal(authc__parse_seconds("0", 0, 10, &v), AUTHC_OK);
    assert_int_equal(v, 0);
    assert_int_equal(authc__parse_seconds("0", 1, 10, &v), AUTHC_ERR_LIMIT);
    assert_int_equal(authc__parse_seconds("-1", -10, 10, &v), AUTHC_ERR_INVALID);
    assert_int_equal(authc__parse_seconds("30d", 0, INT64_MAX, &v), AUTHC_ERR_INVALID);
    assert_int_equal(authc__parse_seconds("30s", 0, INT64_MAX, &v), AUTHC_ERR_INVALID);
    assert_int_equal(authc__parse_seconds("", 0, INT64_MAX, &v), AUTHC_ERR_INVALID);
    assert_int_equal(authc__parse_seconds("99999999999999999999", 0, INT64_MAX, &v), AUTHC_ERR_LIMIT);
}

static void test_pct(void **state)
{
    (void)state;
    char out[16];
    size_t n = 99;
    assert_int_equal(authc__pct_decode_to(out, sizeof out, "a%20b+c", 7, 0, &n), AUTHC_OK);
    assert_string_equal(out, "a b+c");
    assert_int_equal(n, 5);
    assert_int_equal(authc__pct_decode_to(out, sizeof out, "a%20b+c", 7, AUTHC__PCT_FORM, &n), AUTHC_OK);
    assert_string_equal(out, "a b c");
    /* %2B is a literal '+' even in form mode */
    assert_int_equal(authc__pct_decode_to(out, sizeof out, "%2b%2B", 6, AUTHC__PCT_FORM, &n), AUTHC_OK);
    assert_string_equal(out, "++");
    assert_int_equal(authc__pct_decode_to(out, sizeof out, "", 0, 0, &n), AUTHC_OK);
    assert_string_equal(out, "");
    assert_int_equal(n, 0);
    /* invalid escapes: one rule, always an error */
    static const char *const bad[] = {"%", "%4", "a%", "%zz", "%4g", "%g4", "%%41", "%00", "ab%0"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(out, 'X', sizeof out);
        assert_int_equal(authc__pct_decode_to(out, sizeof out, bad[i], strlen(bad[i]), 0, &n), AUTHC_ERR_INVALID);
        assert_int_equal(out[0], '\0'); /* nothing half-decoded left behind */
    }
    /* "%41" exactly at the end of the input is complete */
    assert_int_equal(authc__pct_decode_to(out, sizeof out, "x%41", 4, 0, &n), AUTHC_OK);
    assert_string_equal(out, "xA");
    /* n bounds the input: the escape past n is not read */
    assert_int_equal(authc__pct_decode_to(out, sizeof out, "x%41", 3, 0, &n), AUTHC_ERR_INVALID);
    /* controls only when asked */
    assert_int_equal(authc__pct_decode_to(out, sizeof out, "a%0Ab", 5, 0, &n), AUTHC_OK);
    assert_int_equal(authc__pct_decode_to(out, sizeof out, "a%0Ab", 5, AUTHC__PCT_NO_CTL, &n), AUTHC_ERR_INVALID);
    assert_int_equal(authc__pct_decode_to(out, sizeof out, "a%7Fb", 5, AUTHC__PCT_NO_CTL, &n), AUTHC_ERR_INVALID);
    assert_int_equal(authc__pct_decode_to(out, sizeof out, "a\tb", 3, AUTHC__PCT_NO_CTL, &n), AUTHC_ERR_INVALID);
    /* UTF-8 only when asked */
    assert_int_equal(authc__pct_decode_to(out, sizeof out, "%C3%A9", 6, AUTHC__PCT_UTF8, &n), AUTHC_OK);
    assert_string_equal(out, "\xc3\xa9");
    assert_int_equal(authc__pct_decode_to(out, sizeof out, "%C0%AF", 6, 0, &n), AUTHC_OK);
    assert_int_equal(authc__pct_decode_to(out, sizeof out, "%C0%AF", 6, AUTHC__PCT_UTF8, &n), AUTHC_ERR_INVALID);
    assert_int_equal(authc__pct_decode_to(out, sizeof out, "%E9", 3, AUTHC__PCT_UTF8, &n), AUTHC_ERR_INVALID);
    /* output bounded: cap counts the NUL */
    char small[4];
    assert_int_equal(authc__pct_decode_to(small, sizeof small, "abc", 3, 0, &n), AUTHC_OK);
    assert_int_equal(authc__pct_decode_to(small, sizeof small, "abcd", 4, 0, &n), AUTHC_ERR_LIMIT);
    assert_int_equal(small[0], '\0');
    assert_int_equal(authc__pct_decode_to(small, sizeof small, "%41%42%43", 9, 0, &n), AUTHC_OK);
    assert_string_equal(small, "ABC");
    assert_int_equal(authc__pct_decode_to(small, 0, "a", 1, 0, &n), AUTHC_ERR_INVALID);

    authc_err e = AUTHC_OK;
    char *h = authc__pct_decode_heap("p%3Ass%25", 9, AUTHC__PCT_NO_CTL, &e);
    assert_int_equal(e, AUTHC_OK);
    assert_string_equal(h, "p:ss%");
    free(h);
    assert_null(authc__pct_decode_heap("%zz", 3, 0, &e));
    assert_int_equal(e, AUTHC_ERR_INVALID);

    /* the arena form follows the same rule */
    authc_arena *ar = authc_arena_new();
    assert_string_equal(authc__pct_decode(ar, "a+b%21", 6, true), "a b!");
    assert_string_equal(authc__pct_decode(ar, "a+b%21", 6, false), "a+b!");
    assert_null(authc__pct_decode(ar, "%2", 2, false));
    assert_null(authc__pct_decode(ar, "%00", 3, false));
    authc_arena_free(ar);
    assert_int_equal(authc__hexval('f'), 15);
    assert_int_equal(authc__hexval('F'), 15);
    assert_int_equal(authc__hexval('g'), -1);
    assert_int_equal(authc__hexval(0x100 + '1'), -1);
}

static void test_utf8(void **state)
{
    (void)state;
    static const char *const good[] = {
        "", "plain ascii", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
        "\xc2\x80",                    /* U+0080, smallest 2-byte */
        "\xe0\xa0\x80",                /* U+0800, smallest 3-byte */
        "\xed\x9f\xbf",                /* U+D7FF, just below surrogates */
        "\xee\x80\x80",                /* U+E000, just above surrogates */
        "\xef\xbf\xbf",                /* U+FFFF */
        "\xf0\x90\x80\x80",            /* U+10000 */
        "\xf4\x8f\xbf\xbf",            /* U+10FFFF, the last */
    };
    static const char *const bad[] = {
        "\x80",                        /* lone continuation */
        "\xc0\xaf", "\xc1\xbf",        /* overlong 2-byte */
        "\xe0\x80\xaf", "\xe0\x9f\xbf",/* overlong 3-byte */
        "\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf", /* overlong 4-byte */
        "\xed\xa0\x80", "\xed\xbf\xbf",/* surrogates */
        "\xf4\x90\x80\x80",            /* U+110000 */
        "\xf5\x80\x80\x80", "\xff", "\xfe",
        "\xc3", "\xe2\x82", "\xf0\x9f\x98", /* truncated */
        "\xc3\x28", "a\xe2\x28\xa1",   /* bad continuation */
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_true(authc__utf8_valid(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(authc__utf8_valid(bad[i], strlen(bad[i])));
    uint32_t cp = 0;
    assert_int_equal(authc__utf8_next((const unsigned char *)"\xf4\x8f\xbf\xbf", 4, &cp), 4);
    assert_int_equal(cp, 0x10FFFF);
    assert_int_equal(authc__utf8_next((const unsigned char *)"\xe2\x82\xac", 3, &cp), 3);
    assert_int_equal(cp, 0x20AC);
    /* n bounds the read: a complete sequence cut by n is invalid */
    assert_int_equal(authc__utf8_next((const unsigned char *)"\xe2\x82\xac", 2, &cp), 0);
    assert_int_equal(authc__utf8_next((const unsigned char *)"a", 0, &cp), 0);
    /* embedded NUL is valid UTF-8 (U+0000); n decides the length */
    assert_true(authc__utf8_valid("a\0b", 3));
}

static void test_ipv4_loopback(void **state)
{
    (void)state;
    uint8_t q[4];
    assert_true(authc__parse_ipv4("127.0.0.1", 9, q));
    assert_int_equal(q[0], 127);
    assert_int_equal(q[3], 1);
    assert_true(authc__parse_ipv4("255.255.255.255", 15, NULL));
    assert_true(authc__parse_ipv4("0.0.0.0", 7, NULL));
    static const char *const bad[] = {"127.999.0.1", "256.0.0.1", "127.0.0", "127.0.0.1.", "127.0.0.1.5",
                                      "127..0.1", ".127.0.0.1", "127.0.0.01", "0177.0.0.1", "127.1",
                                      "127.0.0.1a", "1270.0.0.1", "127.0.0.-1", "", "127.0.0.1 ", "0x7f.0.0.1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(authc__parse_ipv4(bad[i], strlen(bad[i]), NULL));

    static const char *const lo[] = {"localhost", "LocalHost", "127.0.0.1", "127.255.255.254", "127.1.2.3",
                                     "[::1]", "::1", "[0:0:0:0:0:0:0:1]", "[::0001]"};
    static const char *const not_lo[] = {"127.999.0.1", "127.0.0.01", "127.1", "128.0.0.1", "10.0.0.1",
                                         "localhost.", "localhost.example.com", "mylocalhost", "[::2]",
                                         "[::ffff:127.0.0.1]", "[::1", "::1]", "", "127.0.0.1:80",
                                         "0.0.0.0", "[::]", "example.com", "127.0.0.1x",
                                         "127.0.0.256"};
    for (size_t i = 0; i < sizeof lo / sizeof *lo; i++)
        assert_true(authc__host_is_loopback(lo[i]));
    for (size_t i = 0; i < sizeof not_lo / sizeof *not_lo; i++)
        assert_false(authc__host_is_loopback(not_lo[i]));
    assert_false(authc__host_is_loopback(NULL));

    assert_true(authc__url_is_loopback("http://127.0.0.1:3000/x"));
    assert_true(authc__url_is_loopback("http://LOCALHOST/"));
    assert_true(authc__url_is_loopback("http://[::1]:8080/cb"));
    assert_false(authc__url_is_loopback("http://127.999.0.1/"));
    assert_false(authc__url_is_loopback("http://127.0.0.1.evil.com/"));
    assert_false(authc__url_is_loopback("http://evil.com/127.0.0.1"));
    assert_false(authc__url_is_loopback("http://localhost@evil.com/"));
    assert_false(authc__url_is_loopback("ftp://127.0.0.1/"));
    assert_false(authc__url_is_loopback(NULL));
}

static void test_hosts(void **state)
{
    (void)state;
    static const char *const ok[] = {"example.com", "a", "my_host-1.example", "127.0.0.1", "[::1]",
                                     "[2001:db8::1]", "[::ffff:1.2.3.4]", "EXAMPLE.COM"};
    static const char *const bad[] = {"", ".example.com", "-x.com", "ex ample.com", "ex/ample", "a:b",
                                      "[::1", "[]", "[zz::1]", "[::1]x", "exa%6dple", "\xc3\xa9.com"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        assert_true(authc__host_ok(ok[i], strlen(ok[i])));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(authc__host_ok(bad[i], strlen(bad[i])));
    char longh[300];
    memset(longh, 'a', sizeof longh);
    assert_true(authc__host_ok(longh, 253));
    assert_false(authc__host_ok(longh, 254));

    int port = 0;
    assert_int_equal(authc__parse_port("1", 1, &port), AUTHC_OK);
    assert_int_equal(port, 1);
    assert_int_equal(authc__parse_port("65535", 5, &port), AUTHC_OK);
    assert_int_equal(port, 65535);
    assert_int_equal(authc__parse_port("0", 1, &port), AUTHC_ERR_LIMIT);
    assert_int_equal(authc__parse_port("65536", 5, &port), AUTHC_ERR_LIMIT);
    assert_int_equal(authc__parse_port("-1", 2, &port), AUTHC_ERR_INVALID);
    assert_int_equal(authc__parse_port("80a", 3, &port), AUTHC_ERR_INVALID);
    assert_int_equal(authc__parse_port("", 0, &port), AUTHC_ERR_INVALID);

    char host[64];
    assert_int_equal(authc__parse_hostport("127.0.0.1:3000", true, host, sizeof host, &port), AUTHC_OK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 3000);
    assert_int_equal(authc__parse_hostport("[::1]:443", true, host, sizeof host, &port), AUTHC_OK);
    assert_string_equal(host, "[::1]");
    assert_int_equal(port, 443);
    assert_int_equal(authc__parse_hostport("example.com", false, host, sizeof host, &port), AUTHC_OK);
    assert_string_equal(host, "example.com");
    assert_int_equal(port, -1);
    assert_int_equal(authc__parse_hostport("example.com", true, host, sizeof host, &port), AUTHC_ERR_INVALID);
    assert_int_equal(authc__parse_hostport("example.com:", false, host, sizeof host, &port), AUTHC_ERR_INVALID);
    assert_int_equal(authc__parse_hostport(":3000", true, host, sizeof host, &port), AUTHC_ERR_INVALID);
    assert_int_equal(authc__parse_hostport("h:0", true, host, sizeof host, &port), AUTHC_ERR_LIMIT);
    assert_int_equal(authc__parse_hostport("h:70000", true, host, sizeof host, &port), AUTHC_ERR_LIMIT);
    assert_int_equal(authc__parse_hostport("h:1:2", true, host, sizeof host, &port), AUTHC_ERR_INVALID);
    assert_int_equal(authc__parse_hostport("[::1]3000", true, host, sizeof host, &port), AUTHC_ERR_INVALID);
    assert_int_equal(authc__parse_hostport("::1:3000", true, host, sizeof host, &port), AUTHC_ERR_INVALID);
    char tiny[4];
    assert_int_equal(authc__parse_hostport("abcd:1", true, tiny, sizeof tiny, &port), AUTHC_ERR_LIMIT);
    assert_int_equal(authc__parse_hostport("abc:1", true, tiny, sizeof tiny, &port), AUTHC_OK);
    assert_string_equal(tiny, "abc");
}

static void test_colors(void **state)
{
    (void)state;
    static const char *const ok[] = {"#fff", "#FFFF", "#346df1", "#346DF1aa", "red", "RebeccaPurple",
                                     "transparent", "rgb(0, 0, 0)", "RGBA(1,2,3,.5)", "hsl(120 50% 50%)",
                                     "hsla(120, 50%, 50%, 0.3)", "rgb(1 2 3 / 50%)"};
    static const char *const bad[] = {"", "#", "#ff", "#fffff", "#fffffff", "#fffffffff", "#ggg", "fff;",
                                      "red;background:url(x)", "rgb()", "rgb(1,2,3", "rgb(a,b,c)",
                                      "rgb(1,2,3);x", "rgb(1,2)3)", "hsl(120deg,1%,1%)", "url(x)",
                                      "red blue", "\"red\"", "var(--x)", "#fff\n", "re\xc3\xa9"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        assert_true(authc__color_ok(ok[i]));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(authc__color_ok(bad[i]));
    assert_false(authc__color_ok(NULL));
    char longc[80];
    memset(longc, 'a', sizeof longc);
    longc[64] = '\0';
    assert_true(authc__color_ok(longc));
    longc[64] = 'a';
    longc[65] = '\0';
    assert_false(authc__color_ok(longc));
}

static void test_url_split(void **state)
{
    (void)state;
    authc__url_parts u;
    assert_int_equal(authc__url_split("REDIS://us%40er:p%3As%25s@Cache.Example.com:6380/2?x=1#f", &u), AUTHC_OK);
    assert_string_equal(u.scheme, "redis");
    assert_string_equal(u.user, "us@er");
    assert_string_equal(u.password, "p:s%s");
    assert_string_equal(u.host, "cache.example.com");
    assert_int_equal(u.port, 6380);
    assert_string_equal(u.path, "/2");
    assert_string_equal(u.query, "x=1");
    assert_string_equal(u.fragment, "f");
    authc__url_parts_clear(&u);
    assert_null(u.scheme);
    assert_int_equal(u.port, -1);

    assert_int_equal(authc__url_split("redis://:secret@[::1]", &u), AUTHC_OK);
    assert_null(u.user); /* empty user = none */
    assert_string_equal(u.password, "secret");
    assert_string_equal(u.host, "[::1]");
    assert_int_equal(u.port, -1);
    assert_null(u.query);
    authc__url_parts_clear(&u);

    assert_int_equal(authc__url_split("postgres://localhost/db", &u), AUTHC_OK);
    assert_null(u.user);
    assert_null(u.password);
    assert_string_equal(u.path, "/db");
    authc__url_parts_clear(&u);

    /* libcurl decodes the host as it would connect to it; the host rule
     * then applies to the decoded name */
    assert_int_equal(authc__url_split("smtp://EX%41MPLE.com", &u), AUTHC_OK);
    assert_string_equal(u.host, "example.com");
    authc__url_parts_clear(&u);

    /* malformed or unsafe */
    static const char *const bad[] = {"", "no-scheme", "redis://h:0/", "redis://h:99999/", "redis://h:x/",
                                      "redis://us%0Aer@h/", "redis://u:p%00@h/", "redis://u:%zz@h/",
                                      "redis://h ost/", "redis://h/\x01", "redis://[zz::1]/",
                                      "redis://ex%2Fmple.com/"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_not_equal(authc__url_split(bad[i], &u), AUTHC_OK);
        assert_null(u.scheme); /* cleared after a failure */
        assert_null(u.password);
        authc__url_parts_clear(&u);
    }
    assert_int_equal(authc__url_split(NULL, &u), AUTHC_ERR_INVALID);
    char *longu = malloc(AUTHC__URL_MAX + 20);
    memcpy(longu, "redis://h/", 10);
    memset(longu + 10, 'a', AUTHC__URL_MAX);
    longu[AUTHC__URL_MAX + 10] = '\0';
    assert_int_equal(authc__url_split(longu, &u), AUTHC_ERR_LIMIT);
    free(longu);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_bool), cmocka_unit_test(test_i64), cmocka_unit_test(test_seconds),
        cmocka_unit_test(test_pct), cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_ipv4_loopback), cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_colors), cmocka_unit_test(test_url_split))
