/* test_netaddr.c — trusted proxies, the client address behind them, rate
 * keys: spoofed X-Forwarded-For parts must never become the client. */
#include "cmocka_main.h"

#include <arpa/inet.h>

#include "util/netaddr_int.h"

static authc__cidrs list(const char *spec)
{
    authc__cidrs l;
    char why[128];
    if (!authc__cidrs_parse(spec, &l, why, sizeof why))
        fail_msg("'%s' refused: %s", spec, why);
    return l;
}

static void test_parse(void **st)
{
    (void)st;
    uint8_t a[16];
    bool v4;
    assert_true(authc__ip_parse("192.0.2.1", 9, a, &v4));
    assert_true(v4);
    assert_true(authc__ip_parse(" [2001:db8::1] ", 15, a, &v4));
    assert_false(v4);
    assert_true(authc__ip_parse("::ffff:10.1.2.3", 15, a, &v4));
    assert_true(v4);
    const char *bad[] = {"", "127.999.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4x", "::g", "1.2.3.4:80", "localhost"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (authc__ip_parse(bad[i], strlen(bad[i]), a, &v4))
            fail_msg("accepted '%s'", bad[i]);

    authc__cidrs l;
    char why[128];
    assert_true(authc__cidrs_parse("", &l, why, sizeof why));
    assert_int_equal(l.n, 0);
    assert_true(authc__cidrs_parse("127.0.0.1, 10.0.0.0/8  fd00::/8,::1", &l, why, sizeof why));
    assert_int_equal(l.n, 4);
    assert_false(authc__cidrs_parse("10.0.0.0/33", &l, why, sizeof why));
    assert_non_null(strstr(why, "10.0.0.0/33"));
    assert_false(authc__cidrs_parse("fd00::/129", &l, why, sizeof why));
    assert_false(authc__cidrs_parse("10.0.0.0/", &l, why, sizeof why));
    assert_false(authc__cidrs_parse("10.0.0.0/8x", &l, why, sizeof why));
    assert_false(authc__cidrs_parse("example.com", &l, why, sizeof why));
}

static void test_match_prefixes(void **st)
{
    (void)st;
    authc__cidrs l = list("10.0.0.0/8 192.168.1.7 2001:db8:a::/48 172.16.0.0/12");
    assert_true(authc__peer_trusted(&l, "10.255.1.2"));
    assert_true(authc__peer_trusted(&l, "192.168.1.7"));
    assert_false(authc__peer_trusted(&l, "192.168.1.8"));
    assert_true(authc__peer_trusted(&l, "172.31.255.255"));
    assert_false(authc__peer_trusted(&l, "172.32.0.1"));
    assert_true(authc__peer_trusted(&l, "2001:db8:a:ffff::1"));
    assert_false(authc__peer_trusted(&l, "2001:db8:b::1"));
    assert_true(authc__peer_trusted(&l, "::ffff:10.0.0.1")); /* mapped = IPv4 */
    assert_false(authc__peer_trusted(&l, "garbage"));
    authc__cidrs none = list("");
    assert_false(authc__peer_trusted(&none, "10.0.0.1"));
    /* Host bits in the setting are ignored, as in nginx's set_real_ip_from. */
    authc__cidrs h = list("10.1.2.3/16");
    assert_true(authc__peer_trusted(&h, "10.1.200.1"));
}

static void client(const authc__cidrs *t, const char *peer, const char *xff, const char *want)
{
    char out[AUTHC__IP_STR];
    authc__client_ip(t, peer, xff, out, sizeof out);
    if (strcmp(out, want))
        fail_msg("peer %s, XFF '%s': got %s, want %s", peer, xff ? xff : "(none)", out, want);
}

static void test_client_ip(void **st)
{
    (void)st;
    authc__cidrs t = list("127.0.0.1 10.0.0.0/8");
    /* Untrusted peer: its header is ignored whatever it says. */
    client(&t, "203.0.113.9", "1.2.3.4", "203.0.113.9");
    /* Trusted peer: the right-most untrusted hop is the client; a client
     * that sends its own X-Forwarded-For only adds hops on the left. */
    client(&t, "127.0.0.1", "198.51.100.7", "198.51.100.7");
    client(&t, "127.0.0.1", "6.6.6.6, 198.51.100.7", "198.51.100.7");
    client(&t, "127.0.0.1", "6.6.6.6, 198.51.100.7, 10.0.0.5", "198.51.100.7");
    /* Everything trusted: the left-most. */
    client(&t, "127.0.0.1", "10.1.1.1, 10.2.2.2", "10.1.1.1");
    /* Garbage hop: stop at the last good one (a trusted proxy). */
    client(&t, "127.0.0.1", "198.51.100.7, nonsense", "127.0.0.1");
    client(&t, "127.0.0.1", "", "127.0.0.1");
    client(&t, "127.0.0.1", NULL, "127.0.0.1");
    client(&t, "::ffff:127.0.0.1", "2001:db8::5", "2001:db8::5");
    /* Hop limit: only AUTHC__MAX_XFF_HOPS are looked at. */
    char many[2048] = "8.8.8.8";
    for (int i = 0; i < AUTHC__MAX_XFF_HOPS + 5; i++)
        strcat(many, ", 10.0.0.1");
    client(&t, "127.0.0.1", many, "10.0.0.1");
}

/* The in-place dotted-quad reader agrees with inet_pton on what it takes
 * and what it gives, for hand-picked edges and generated strings. */
static void same_as_inet_pton(const char *s)
{
    uint8_t a[16], want[16];
    bool v4;
    bool got = authc__ip_parse(s, strlen(s), a, &v4);
    struct in_addr a4;
    bool ok4 = inet_pton(AF_INET, s, &a4) == 1;
    bool ok6 = !ok4 && inet_pton(AF_INET6, s, want) == 1;
    if (got != (ok4 || ok6))
        fail_msg("'%s': parse %d, inet_pton %d", s, got, ok4 || ok6);
    if (ok4) {
        assert_true(v4);
        assert_memory_equal(a + 12, &a4, 4);
        for (int i = 0; i < 10; i++)
            assert_int_equal(a[i], 0);
        assert_int_equal(a[10], 0xff);
        assert_int_equal(a[11], 0xff);
    } else if (ok6) {
        assert_memory_equal(a, want, 16);
    }
}

static void test_parse_matches_inet_pton(void **st)
{
    (void)st;
    const char *edge[] = {"0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3.256", "00.1.1.1", "1.2.3.04",
                          "1.2.3.0", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.1000", "1000.2.3.4", "1.2.3.4.",
                          "127.0.0.1", "10.0.0.255", "9.99.199.249", "1.2.3", "1", "", ".", "...",
                          "1.2.3.4a", "a1.2.3.4", "1.2.3.+4", "1.2.3.-4", "::1", "::ffff:1.2.3.4", "1.2.3.4::"};
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++)
        same_as_inet_pton(edge[i]);
    /* Strings over digits, dots and a colon, up to 15 characters. */
    static const char alpha[] = "0123456789...:2";
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int n = 0; n < 200000; n++) {
        char s[16];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = 1 + x % 15;
        uint64_t y = x;
        for (size_t i = 0; i < len; i++, y = y * 6364136223846793005ull + 1442695040888963407ull)
            s[i] = alpha[(y >> 33) % (sizeof alpha - 1)];
        s[len] = '\0';
        same_as_inet_pton(s);
    }
    /* Dotted quads of random octets, some with a leading zero. */
    for (int n = 0; n < 20000; n++) {
        char s[32];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        snprintf(s, sizeof s, (x & 1) ? "%u.%u.%u.%u" : "%u.%u.%u.%02u", (unsigned)(x >> 8) % 300,
                 (unsigned)(x >> 18) % 256, (unsigned)(x >> 28) % 256, (unsigned)(x >> 38) % 256);
        same_as_inet_pton(s);
    }
}

/* One parse of the peer answers both questions, as the two calls did. */
static void test_peer_parsed_once(void **st)
{
    (void)st;
    authc__cidrs t = list("127.0.0.1 10.0.0.0/8");
    const char *peers[] = {"127.0.0.1", "10.9.9.9", "203.0.113.9", "::ffff:127.0.0.1", "2001:db8::1", "nonsense", NULL};
    const char *xffs[] = {NULL, "", "198.51.100.7", "6.6.6.6, 10.0.0.5", "bad"};
    for (size_t i = 0; i < sizeof peers / sizeof *peers; i++) {
        authc__peer p;
        bool ok = authc__peer_parse(&t, peers[i], &p);
        assert_int_equal(ok, p.ok);
        assert_int_equal(p.trusted, authc__peer_trusted(&t, peers[i]));
        for (size_t j = 0; j < sizeof xffs / sizeof *xffs; j++) {
            char a[AUTHC__IP_STR], b[AUTHC__IP_STR];
            assert_int_equal(authc__client_ip(&t, peers[i], xffs[j], a, sizeof a), ok);
            authc__client_ip_of(&t, &p, peers[i], xffs[j], b, sizeof b);
            assert_string_equal(a, b);
        }
    }
    authc__peer p;
    authc__peer_parse(&t, "203.0.113.9", &p);
    assert_true(p.ok);
    assert_false(p.trusted);
    char out[AUTHC__IP_STR];
    authc__client_ip_of(&t, &p, "203.0.113.9", "1.2.3.4", out, sizeof out);
    assert_string_equal(out, "203.0.113.9"); /* an untrusted peer's header is ignored */
    authc__peer_parse(&t, "127.0.0.1", &p);
    assert_true(p.trusted);
    authc__client_ip_of(&t, &p, "127.0.0.1", "6.6.6.6, 198.51.100.7", out, sizeof out);
    assert_string_equal(out, "198.51.100.7");
    assert_false(authc__peer_parse(&t, "garbage", &p));
    assert_false(p.trusted);
    authc__client_ip_of(&t, &p, "garbage", "1.2.3.4", out, sizeof out);
    assert_string_equal(out, "garbage");
    assert_false(authc__peer_parse(NULL, NULL, &p));
}

static void test_rate_key(void **st)
{
    (void)st;
    char k[AUTHC__IP_STR];
    authc__ip_rate_key("192.0.2.1", k, sizeof k);
    assert_string_equal(k, "192.0.2.1");
    authc__ip_rate_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", k, sizeof k);
    assert_string_equal(k, "2001:db8:1:2::/64");
    char k2[AUTHC__IP_STR];
    authc__ip_rate_key("2001:db8:1:2::ffff", k2, sizeof k2);
    assert_string_equal(k, k2);
    authc__ip_rate_key("::ffff:192.0.2.1", k, sizeof k);
    assert_string_equal(k, "192.0.2.1");
}

static void test_forwarded_last(void **st)
{
    (void)st;
    char out[64];
    assert_string_equal(authc__forwarded_last("evil.example, app.example.com ", out, sizeof out),
                        "app.example.com");
    assert_string_equal(authc__forwarded_last("https", out, sizeof out), "https");
    assert_null(authc__forwarded_last("a, ", out, sizeof out));
    assert_null(authc__forwarded_last(NULL, out, sizeof out));
    char longv[200];
    memset(longv, 'a', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    assert_null(authc__forwarded_last(longv, out, sizeof out));
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_parse), cmocka_unit_test(test_match_prefixes),
        cmocka_unit_test(test_client_ip), cmocka_unit_test(test_rate_key),
        cmocka_unit_test(test_forwarded_last), cmocka_unit_test(test_parse_matches_inet_pton),
        cmocka_unit_test(test_peer_parsed_once))
