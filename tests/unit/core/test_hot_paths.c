/* test_hot_paths.c — what the per-request shortcuts must not change: the
 * origin reused per (scheme, Host), /providers without init's cookies and its
 * body kept per instance and origin, the callback-url Set-Cookie kept per
 * thread, the client address, one-allocation Set-Cookie. */
#include <ctype.h>
#include <pthread.h>

#include "cmocka_main.h"

#include "testutil.h"
#include "util/netaddr_int.h"

/* A trusting instance with up to two more settings (NULL: none). */
static authc *instance_with(const char *k1, const char *k2)
{
    return tu_instance("secret=unit-test-secret-0123456789abcdefghijkl", "trust_host=1", k1, k2, NULL);
}

static authc *instance(void)
{
    return instance_with("trusted_proxies=127.0.0.1", NULL);
}

/* GET url from peer with up to two "Name: value" headers; the response
 * (the caller frees it). Thread-safe: no shared buffers, no assertions. */
static authc_response *send_at(const authc *a, const char *url, const char *peer, const char *h1,
                               const char *h2)
{
    authc_header hs[2];
    size_t n = 0;
    const char *in[2] = {h1, h2};
    char store[2][256];
    for (int i = 0; i < 2 && in[i]; i++) {
        snprintf(store[i], sizeof store[i], "%s", in[i]);
        char *colon = strchr(store[i], ':');
        *colon = '\0';
        hs[n].name = store[i];
        hs[n++].value = colon + 2;
    }
    authc_request r = {.method = "GET", .url = url, .headers = hs, .nheaders = n, .client_addr = peer};
    authc_response *res = NULL;
    authc_handle(a, &r, &res);
    return res;
}

/* GET url from peer with the given headers; the body (malloc'd) of a 200. */
static char *get_at(const authc *a, const char *url, const char *peer, const char *h1, const char *h2)
{
    authc_response *res = send_at(a, url, peer, h1, h2);
    assert_non_null(res);
    char *body = res->status == 200 ? tu_body(res) : NULL;
    authc_response_free(res);
    return body;
}

/* The Set-Cookie named name of GET url from peer with up to two headers
 * (malloc'd), or NULL when there is none. Thread-safe. */
static char *set_cookie_at(const authc *a, const char *url, const char *name, const char *peer,
                           const char *h1, const char *h2)
{
    authc_response *res = send_at(a, url, peer, h1, h2);
    const char *sc = res ? tu_cookie_named(res, name) : NULL;
    char *out = sc ? strdup(sc) : NULL;
    authc_response_free(res);
    return out;
}

static char *providers(const authc *a, const char *peer, const char *h1, const char *h2)
{
    return get_at(a, "/auth/providers", peer, h1, h2);
}

/* The origin follows each request's own Host, scheme and forwarded
 * headers, in any order, on the one thread that parses them. */
static void origin_per_request(void **st)
{
    (void)st;
    authc *a = instance();
    static const struct {
        const char *peer, *h1, *h2, *want; /* want NULL: refused */
    } cases[] = {
        {"203.0.113.1", "Host: a.test:8080", NULL, "\"http://a.test:8080/auth/signin/credentials\""},
        {"203.0.113.1", "Host: b.test", NULL, "\"http://b.test/auth/signin/credentials\""},
        {"203.0.113.1", "Host: c.test", NULL, "\"http://c.test/auth/signin/credentials\""}, /* same length */
        {"203.0.113.1", "Host: a.test:8080", NULL, "\"http://a.test:8080/auth/signin/credentials\""},
        {"203.0.113.1", "Host: A.TEST:80", NULL, "\"http://a.test/auth/signin/credentials\""},
        {"203.0.113.1", "Host: a.test:8080", NULL, "\"http://a.test:8080/auth/signin/credentials\""},
        {"203.0.113.1", "Host: bad host", NULL, NULL},
        {"203.0.113.1", "Host: a.test:8080/x", NULL, NULL},
        /* A trusted proxy's forwarded scheme makes another origin from
         * the same Host; an untrusted peer's is ignored. */
        {"127.0.0.1", "Host: a.test:8080", "X-Forwarded-Proto: https",
         "\"https://a.test:8080/auth/signin/credentials\""},
        {"203.0.113.1", "Host: a.test:8080", "X-Forwarded-Proto: https",
         "\"http://a.test:8080/auth/signin/credentials\""},
        {"127.0.0.1", "Host: a.test", "X-Forwarded-Host: c.test:9",
         "\"http://c.test:9/auth/signin/credentials\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *body = providers(a, cases[i].peer, cases[i].h1, cases[i].h2);
        if (!cases[i].want) {
            if (body)
                fail_msg("case %zu (%s) answered 200: %s", i, cases[i].h1, body);
            continue;
        }
        if (!body || !strstr(body, cases[i].want))
            fail_msg("case %zu (%s, %s): want %s in %s", i, cases[i].h1, cases[i].h2 ? cases[i].h2 : "-",
                     cases[i].want, body ? body : "(not 200)");
        free(body);
    }
    authc_free(a);
}

/* The /providers body kept per thread belongs to one instance and one
 * origin: two instances (other base paths) answered in turn on this
 * thread, and a new instance in a freed one's place, each get their own. */
static void providers_body_per_instance(void **st)
{
    (void)st;
    static const char want_a[] =
        "{\"credentials\":{\"id\":\"credentials\",\"name\":\"Credentials\",\"type\":\"credentials\","
        "\"signinUrl\":\"http://h.test/auth/signin/credentials\","
        "\"callbackUrl\":\"http://h.test/auth/callback/credentials\"}}";
    static const char want_b[] =
        "{\"credentials\":{\"id\":\"credentials\",\"name\":\"Credentials\",\"type\":\"credentials\","
        "\"signinUrl\":\"http://h.test/api/auth/signin/credentials\","
        "\"callbackUrl\":\"http://h.test/api/auth/callback/credentials\"}}";
    authc *a = instance();
    authc *b = instance_with("base_path=/api/auth", NULL);
    for (int i = 0; i < 3; i++) {
        char *x = get_at(a, "/auth/providers", "203.0.113.1", "Host: h.test", NULL);
        char *y = get_at(b, "/api/auth/providers", "203.0.113.1", "Host: h.test", NULL);
        char *z = get_at(a, "/auth/providers", "203.0.113.1", "Host: other.test", NULL);
        assert_non_null(x);
        assert_non_null(y);
        assert_non_null(z);
        assert_string_equal(x, want_a);
        assert_string_equal(y, want_b);
        assert_non_null(strstr(z, "\"http://other.test/auth/callback/credentials\""));
        assert_null(strstr(z, "h.test"));
        free(x);
        free(y);
        free(z);
    }
    authc_free(a);
    authc_free(b);
    for (int i = 0; i < 3; i++) { /* likely at a freed one's address */
        authc *c = instance_with(i % 2 ? "base_path=/one" : "base_path=/two", NULL);
        char *x = get_at(c, i % 2 ? "/one/providers" : "/two/providers", "203.0.113.1", "Host: h.test", NULL);
        assert_non_null(x);
        assert_non_null(strstr(x, i % 2 ? "\"http://h.test/one/signin/credentials\""
                                        : "\"http://h.test/two/signin/credentials\""));
        free(x);
        authc_free(c);
    }
}

/* /providers sends no cookie, whatever CSRF or callback-url cookie came
 * in; /csrf right after still mints and sets them. */
static void providers_sets_no_cookie(void **st)
{
    (void)st;
    authc *a = instance();
    authc_response *r = tu_req(a, "GET", "/auth/providers", NULL, "Host: a.test",
                               "Cookie: authjs.csrf-token=bogus; authjs.callback-url=http%3A%2F%2Fa.test", NULL);
    assert_non_null(r);
    assert_int_equal(r->status, 200);
    assert_null(tu_set_cookie(r, 0));
    authc_response_free(r);
    r = tu_req(a, "GET", "/auth/csrf", NULL, "Host: a.test", "Cookie: authjs.csrf-token=bogus", NULL);
    assert_non_null(r);
    assert_int_equal(r->status, 200);
    assert_non_null(tu_cookie_named(r, "authjs.csrf-token"));
    assert_non_null(tu_cookie_named(r, "authjs.callback-url"));
    authc_response_free(r);
    authc_free(a);
}

#define CB "authjs.callback-url"
#define CB_SECURE "__Secure-authjs.callback-url"
#define LAX "; Path=/; HttpOnly; SameSite=Lax"
#define SECURE_LAX "; Path=/; HttpOnly; Secure; SameSite=Lax"

static void expect_cookie(const authc *a, const char *url, const char *name, const char *peer, const char *h1,
                          const char *h2, const char *want)
{
    char *got = set_cookie_at(a, url, name, peer, h1, h2);
    if (!got || strcmp(got, want))
        fail_msg("%s %s (%s, %s): want %s, got %s", url, name, h1, h2 ? h2 : "-", want, got ? got : "(none)");
    free(got);
}

/* The callback-url Set-Cookie naming the origin is kept per thread: it
 * follows the instance (name, Domain), the origin and the mode, a value
 * other than the origin is encoded afresh, and a new instance at a freed
 * one's address gets its own. */
static void callback_cookie_per_origin(void **st)
{
    (void)st;
    authc *a = instance();
    authc *b = instance_with("base_path=/api/auth", "cookie.domain=example.test");
    for (int i = 0; i < 3; i++) {
        expect_cookie(a, "/auth/csrf", CB, "203.0.113.1", "Host: h.test", NULL, CB "=http%3A%2F%2Fh.test" LAX);
        expect_cookie(b, "/api/auth/csrf", CB, "203.0.113.1", "Host: h.test", NULL,
                      CB "=http%3A%2F%2Fh.test; Domain=example.test" LAX);
        expect_cookie(a, "/auth/session", CB, "203.0.113.1", "Host: other.test:8080", NULL,
                      CB "=http%3A%2F%2Fother.test%3A8080" LAX);
        /* Same Host, https from a trusted proxy: the secure name and Secure. */
        expect_cookie(a, "/auth/session", CB_SECURE, "127.0.0.1", "Host: h.test", "X-Forwarded-Proto: https",
                      CB_SECURE "=https%3A%2F%2Fh.test" SECURE_LAX);
        expect_cookie(a, "/auth/session", CB, "203.0.113.1", "Host: h.test", "X-Forwarded-Proto: https",
                      CB "=http%3A%2F%2Fh.test" LAX);
        /* Not the origin: encoded as it is, and the next origin answer is
         * still the origin's. */
        expect_cookie(a, "/auth/session?callbackUrl=%2Fa%20b%7Cc%3Fd%3D1", CB, "203.0.113.1", "Host: h.test",
                      NULL, CB "=http%3A%2F%2Fh.test%2Fa%2520b%7Cc%3Fd%3D1" LAX);
        expect_cookie(a, "/auth/csrf", CB, "203.0.113.1", "Host: h.test", NULL, CB "=http%3A%2F%2Fh.test" LAX);
        /* A browser that already holds the origin's cookie gets none. */
        char *none = set_cookie_at(a, "/auth/session", CB, "203.0.113.1", "Host: h.test",
                                   "Cookie: authjs.callback-url=http%3A%2F%2Fh.test");
        assert_null(none);
    }
    authc_free(a);
    authc_free(b);
    for (int i = 0; i < 4; i++) { /* likely at a freed one's address */
        authc *c = instance_with(i % 2 ? "cookie.domain=one.test" : "use_secure_cookies=true", NULL);
        if (i % 2)
            expect_cookie(c, "/auth/csrf", CB, "203.0.113.1", "Host: h.test", NULL,
                          CB "=http%3A%2F%2Fh.test; Domain=one.test" LAX);
        else
            expect_cookie(c, "/auth/csrf", CB_SECURE, "203.0.113.1", "Host: h.test", NULL,
                          CB_SECURE "=http%3A%2F%2Fh.test" SECURE_LAX);
        authc_free(c);
    }
}

typedef struct cb_job {
    const authc *a, *b;
    int n;
    int bad;
} cb_job;

/* Each thread answers its own origins of two instances in turn. */
static void *cb_worker(void *p)
{
    cb_job *j = p;
    char host[64], want_a[160], want_b[200];
    for (int i = 0; i < j->n; i++) {
        snprintf(host, sizeof host, "Host: t%d-%d.test", j->n, i % 3);
        snprintf(want_a, sizeof want_a, CB "=http%%3A%%2F%%2Ft%d-%d.test" LAX, j->n, i % 3);
        snprintf(want_b, sizeof want_b, CB "=http%%3A%%2F%%2Ft%d-%d.test; Domain=example.test" LAX, j->n, i % 3);
        char *x = set_cookie_at(j->a, "/auth/session", CB, "203.0.113.1", host, NULL);
        char *y = set_cookie_at(j->b, "/api/auth/csrf", CB, "203.0.113.1", host, NULL);
        j->bad += !x || strcmp(x, want_a);
        j->bad += !y || strcmp(y, want_b);
        free(x);
        free(y);
    }
    return NULL;
}

static void callback_cookie_threads(void **st)
{
    (void)st;
    authc *a = instance();
    authc *b = instance_with("base_path=/api/auth", "cookie.domain=example.test");
    pthread_t t[4];
    cb_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (cb_job){.a = a, .b = b, .n = 40 + i};
        assert_int_equal(pthread_create(&t[i], NULL, cb_worker, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(jobs[i].bad, 0);
    }
    authc_free(a);
    authc_free(b);
}

/* The CSRF cookie is written as it goes on the wire ("<token>%7C<hash>",
 * the hex as it is) and reads back as the same token. */
static void csrf_cookie_bytes(void **st)
{
    (void)st;
    authc *a = instance();
    char *sc = set_cookie_at(a, "/auth/csrf", "authjs.csrf-token", "203.0.113.1", "Host: h.test", NULL);
    assert_non_null(sc);
    const char *v = sc + strlen("authjs.csrf-token=");
    assert_int_equal(strspn(v, "0123456789abcdef"), 64);
    assert_memory_equal(v + 64, "%7C", 3);
    assert_int_equal(strspn(v + 67, "0123456789abcdef"), 64);
    assert_string_equal(v + 131, LAX);
    /* Sent back (the browser decodes nothing: the server does), it is valid:
     * the same token, no new cookie. */
    char cookie[256], want[96];
    snprintf(cookie, sizeof cookie, "Cookie: authjs.csrf-token=%.131s", v);
    snprintf(want, sizeof want, "{\"csrfToken\":\"%.64s\"}", v);
    char *again = set_cookie_at(a, "/auth/csrf", "authjs.csrf-token", "203.0.113.1", "Host: h.test", cookie);
    assert_null(again);
    char *body = get_at(a, "/auth/csrf", "203.0.113.1", "Host: h.test", cookie);
    assert_non_null(body);
    assert_string_equal(body, want);
    free(body);
    /* Anything but the exact lower-case hash (as "|", decoded) mints anew:
     * upper case, one digit off, one short, one more, a non-hex byte. */
    char tok[65], hash[65];
    snprintf(tok, sizeof tok, "%.64s", v);
    snprintf(hash, sizeof hash, "%.64s", v + 67);
    for (int k = 0; k < 5; k++) {
        char bad[80];
        snprintf(bad, sizeof bad, "%s", hash);
        if (k == 0)
            for (char *p = bad; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        if (k == 1)
            bad[63] = bad[63] == '0' ? '1' : '0';
        if (k == 2)
            bad[63] = '\0';
        if (k == 3)
            strcat(bad, "0");
        if (k == 4)
            bad[10] = 'g';
        if (k == 0 && !strcmp(bad, hash))
            continue; /* all digits: no letter to change */
        snprintf(cookie, sizeof cookie, "Cookie: authjs.csrf-token=%s%%7C%s", tok, bad);
        char *fresh = set_cookie_at(a, "/auth/csrf", "authjs.csrf-token", "203.0.113.1", "Host: h.test", cookie);
        if (!fresh || !strncmp(fresh + strlen("authjs.csrf-token="), tok, 64))
            fail_msg("case %d: %s kept the token", k, bad);
        free(fresh);
    }
    free(sc);
    authc_free(a);
}

/* GET url with one header: its body (whatever the status) holds want. */
static void expect_in_page(const authc *a, const char *url, const char *h1, const char *want)
{
    authc_response *r = send_at(a, url, NULL, h1, NULL);
    assert_non_null(r);
    char *body = tu_body(r);
    if (!strstr(body, want))
        fail_msg("%s: want %s in %s", url, want, body);
    free(body);
    authc_response_free(r);
}

/* The full request URL, joined only where it is read, is the request's
 * own: origin, path and query, on each of its readers. */
static void full_url_where_read(void **st)
{
    (void)st;
    authc *a = instance();
    authc *v = instance_with("pages.verifyRequest=/check", NULL);
    for (int i = 0; i < 2; i++) {
        const char *host = i ? "Host: h.test" : "Host: other.test:8080";
        const char *o = i ? "http://h.test" : "http://other.test:8080";
        char want[256];
        snprintf(want, sizeof want, "href=\"%s/auth/error?error=Verification/signin\"", o);
        expect_in_page(a, "/auth/error?error=Verification", host, want);
        snprintf(want, sizeof want, "action=\"%s/auth/signout?x=1\"", o);
        expect_in_page(a, "/auth/signout?x=1", host, want);
        authc_response *r = tu_req(v, "GET", "/auth/verify-request?provider=email&type=email", NULL, host, NULL);
        assert_non_null(r);
        assert_int_equal(r->status, 302);
        assert_string_equal(authc_response_header(r, "Location"), "/check?provider=email&type=email");
        authc_response_free(r);
    }
    authc_free(a);
    authc_free(v);
}

/* The router's headers, found in one pass: names in any case, the first
 * of a name counts, a header without a name is skipped. */
static void headers_one_pass(void **st)
{
    (void)st;
    authc *a = instance();
    authc_header hs[] = {{NULL, "x"},
                         {"hOsT", "a.test"},
                         {"Host", "b.test"},
                         {"COOKIE", "authjs.callback-url=http%3A%2F%2Fa.test"},
                         {"Cookie", "authjs.callback-url=http%3A%2F%2Fb.test"},
                         {"x-forwarded-proto", "https"},
                         {"X-Forwarded-Proto", "http"}};
    authc_request r = {.method = "GET", .url = "/auth/session", .headers = hs,
                       .nheaders = sizeof hs / sizeof *hs, .client_addr = "127.0.0.1"};
    authc_response *res = NULL;
    authc_handle(a, &r, &res);
    assert_non_null(res);
    assert_int_equal(res->status, 200);
    /* https from the first X-Forwarded-Proto: the secure cookie names, and
     * the origin's cookie (http://a.test) no longer matches it. */
    const char *cb = tu_cookie_named(res, "__Secure-authjs.callback-url");
    assert_non_null(cb);
    assert_string_equal(cb, CB_SECURE "=https%3A%2F%2Fa.test" SECURE_LAX);
    authc_response_free(res);
    hs[5].name = "X-Other";
    authc_handle(a, &r, &res);
    assert_non_null(res);
    /* http: the first Cookie header's callback-url is the origin's, so none is set. */
    assert_null(tu_cookie_named(res, CB));
    assert_non_null(tu_cookie_named(res, "authjs.csrf-token"));
    authc_response_free(res);
    authc_free(a);
}

/* Dotted quads at every width, and the cut to a short buffer. */
static void client_ip_format(void **st)
{
    (void)st;
    static const char *const v4[] = {"0.0.0.0", "1.22.255.9", "255.255.255.255", "10.100.0.99",
                                     "192.0.2.200"};
    authc__cidrs none = {0};
    for (size_t i = 0; i < sizeof v4 / sizeof *v4; i++) {
        char out[AUTHC__IP_STR];
        assert_true(authc__client_ip(&none, v4[i], NULL, out, sizeof out));
        assert_string_equal(out, v4[i]);
    }
    char out[AUTHC__IP_STR];
    assert_true(authc__client_ip(&none, "::ffff:198.51.100.7", NULL, out, sizeof out));
    assert_string_equal(out, "198.51.100.7");
    assert_true(authc__client_ip(&none, "2001:DB8::1", NULL, out, sizeof out));
    assert_string_equal(out, "2001:db8::1");
    char small[8];
    assert_true(authc__client_ip(&none, "203.0.113.77", NULL, small, sizeof small));
    assert_string_equal(small, "203.0.1");
}

/* A session token's Set-Cookie (one reserved allocation) equals the
 * cookie the request carried, attributes in Auth.js's order. */
static void session_cookie_whole(void **st)
{
    (void)st;
    authc *a = instance();
    authc_response *r = tu_sign_in(a, "http://a.test", "");
    assert_non_null(r);
    const char *sc = tu_cookie_named(r, "authjs.session-token");
    assert_non_null(sc);
    char *tok = tu_cookie_value(sc);
    assert_true(strlen(tok) > 300);
    TU_HAS_ALL(sc, "; Path=/; Expires=", "; HttpOnly; SameSite=Lax");
    free(tok);
    authc_response_free(r);
    authc_free(a);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(origin_per_request),
        cmocka_unit_test(providers_body_per_instance),
        cmocka_unit_test(providers_sets_no_cookie),
        cmocka_unit_test(callback_cookie_per_origin),
        cmocka_unit_test(callback_cookie_threads),
        cmocka_unit_test(csrf_cookie_bytes),
        cmocka_unit_test(full_url_where_read),
        cmocka_unit_test(headers_one_pass),
        cmocka_unit_test(client_ip_format),
        cmocka_unit_test(session_cookie_whole))
