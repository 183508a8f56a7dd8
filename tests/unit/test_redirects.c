/* test_redirects.c — callbackUrl / redirectTo rules: open-redirect payloads
 * must never leave the origin, same-origin targets must survive. */
#include "cmocka_main.h"
#include <strings.h>

#include "core/core_int.h"
#include "testutil.h"

#define ORIGIN "http://app.test:3000"

static const char *PAYLOADS[] = {
    "//evil.com", "//evil.com/", "///evil.com", "////evil.com", "/\\evil.com", "/\\/evil.com",
    "\\\\evil.com", "\\/evil.com", "https:evil.com", "http:evil.com", "https:/evil.com",
    "http://evil.com", "https://evil.com", "HTTPS://EVIL.COM", "//evil.com@app.test:3000",
    "http://app.test:3000@evil.com", "http://app.test:3000.evil.com", "http://evil.com#@app.test:3000",
    "http://evil.com?@app.test:3000", "http://app.test:3000%40evil.com", "http://app.test%3A3000@evil.com",
    "http://evil.com\\@app.test:3000", "http://app.test:3000\\@evil.com", "javascript:alert(1)",
    "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>", "/%2F%2Fevil.com",
    "/%5Cevil.com", "%2F%2Fevil.com", "http://app.test:3001/", "https://app.test:3000/",
    "http://app.test.:3000/", "http:/\\evil.com", "/\t/evil.com", "/\n/evil.com", "\t//evil.com",
    " //evil.com", "http://[::1]:3000/", "http://0x7f.0.0.1:3000/", "//%65vil.com",
    "/.//evil.com", "http://evil.com:80\\@app.test:3000/", "/\r\nSet-Cookie: x=1",
    "http://app.test:3000\r\nLocation: http://evil.com", "ftp://app.test:3000/", "//app.test:3000@evil.com",
    "http:\\\\evil.com", "http://evil.com%2F@app.test:3000", "http://app.test:3000:80@evil.com",
};

/* True when a browser following url stays on ORIGIN. We accept only the
 * origin itself or origin + "/"-path, with no byte a browser would drop
 * or reinterpret. */
static bool stays(const char *url)
{
    size_t ol = strlen(ORIGIN);
    if (strncmp(url, ORIGIN, ol) != 0)
        return false;
    if (url[ol] != '\0' && url[ol] != '/')
        return false;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p < 0x21 || *p == 0x7f || *p == '\\')
            return false;
    return true;
}

static authc *inst(void)
{
    return tu_instance("secret=unit-test-secret-0123456789abcdefghijkl", "trust_host=1", NULL);
}

static void test_resolve_payloads(void **st)
{
    (void)st;
    authc *a = inst();
    authc__ctx c = {.a = a, .ar = authc_arena_new(), .origin = ORIGIN};
    size_t n = sizeof PAYLOADS / sizeof *PAYLOADS;
    assert_true(n >= 30);
    for (size_t i = 0; i < n; i++) {
        const char *r = authc__redirect_resolve(&c, PAYLOADS[i]);
        if (!stays(r))
            fail_msg("payload %zu \"%s\" resolved to \"%s\"", i, PAYLOADS[i], r);
    }
    authc_arena_free(c.ar);
    authc_free(a);
}

static void test_same_origin_kept(void **st)
{
    (void)st;
    authc *a = inst();
    authc__ctx c = {.a = a, .ar = authc_arena_new(), .origin = ORIGIN};
    assert_string_equal(authc__redirect_resolve(&c, "/dashboard?x=1#y"), ORIGIN "/dashboard?x=1#y");
    assert_string_equal(authc__redirect_resolve(&c, ORIGIN "/a/b?c=d"), ORIGIN "/a/b?c=d");
    assert_string_equal(authc__redirect_resolve(&c, "HTTP://APP.TEST:3000/x"), "HTTP://APP.TEST:3000/x");
    assert_string_equal(authc__redirect_resolve(&c, "http://evil.com/x"), ORIGIN);
    assert_string_equal(authc__redirect_resolve(&c, ""), ORIGIN);
    assert_string_equal(authc__redirect_resolve(&c, NULL), ORIGIN);
    /* Auth.js: "//evil" becomes a path on this host. */
    assert_string_equal(authc__redirect_resolve(&c, "//evil.com/x"), ORIGIN "//evil.com/x");
    authc_arena_free(c.ar);
    authc_free(a);
}

/* Through the whole handler: sign-out redirect and the callback cookie. */
static void test_via_handler(void **st)
{
    (void)st;
    authc *a = inst();
    tu_csrf csrf = tu_csrf_of(a, ORIGIN "/auth/csrf");
    const char *tok = csrf.token, *ck = csrf.cookie;
    authc_response *r;
    for (size_t i = 0; i < sizeof PAYLOADS / sizeof *PAYLOADS; i++) {
        authc_arena *ar = authc_arena_new();
        authc__buf b;
        authc__buf_init(&b, ar, 4096);
        authc__buf_printf(&b, "csrfToken=%s&callbackUrl=", tok);
        authc__buf_add_form_component(&b, PAYLOADS[i]);
        r = tu_req(a, "POST", ORIGIN "/auth/signout", b.p, ck,
                   "Content-Type: application/x-www-form-urlencoded", NULL);
        const char *loc = authc_response_header(r, "Location");
        assert_non_null(loc);
        if (!stays(loc))
            fail_msg("signout payload \"%s\" → Location \"%s\"", PAYLOADS[i], loc);
        /* And as a query callbackUrl on a GET: either refused (500) or the
         * cookie it sets stays on the origin. */
        authc__buf q;
        authc__buf_init(&q, ar, 4096);
        authc__buf_adds(&q, ORIGIN "/auth/signin?callbackUrl=");
        authc__buf_add_uri_component(&q, PAYLOADS[i]);
        authc_response *g = tu_req(a, "GET", q.p, NULL, NULL);
        const char *cb = tu_cookie_named(g, "authjs.callback-url");
        if (g->status == 200) {
            assert_non_null(cb);
            char *v = tu_cookie_value(cb);
            char *dec = authc__pct_decode(ar, v, strlen(v), false);
            if (!dec || !stays(dec))
                fail_msg("query payload \"%s\" → cookie \"%s\"", PAYLOADS[i], v);
            free(v);
        } else {
            assert_int_equal(g->status, 500);
            assert_null(cb);
        }
        authc_response_free(g);
        authc_response_free(r);
        authc_arena_free(ar);
    }
    authc_free(a);
}

/* A malformed callback-url cookie must not lock the browser out. */
static void test_bad_cookie_replaced(void **st)
{
    (void)st;
    authc *a = inst();
    authc_response *r = tu_req(a, "GET", ORIGIN "/auth/session", NULL,
                               "Cookie: authjs.callback-url=javascript%3Aalert(1)", NULL);
    assert_int_equal(r->status, 200);
    const char *cb = tu_cookie_named(r, "authjs.callback-url");
    assert_non_null(cb);
    assert_true(authc__starts_with(cb, "authjs.callback-url=http%3A%2F%2Fapp.test%3A3000;"));
    authc_response_free(r);
    /* Invalid query callbackUrl: JSON 500 for API routes, HTML page for pages. */
    r = tu_req(a, "GET", ORIGIN "/auth/session?callbackUrl=foo", NULL, NULL);
    assert_int_equal(r->status, 500);
    char *b = tu_body(r);
    assert_non_null(strstr(b, "server configuration"));
    free(b);
    authc_response_free(r);
    r = tu_req(a, "GET", ORIGIN "/auth/signin?callbackUrl=javascript:alert(1)", NULL, NULL);
    assert_int_equal(r->status, 500);
    assert_non_null(strstr(authc_response_header(r, "Content-Type"), "text/html"));
    authc_response_free(r);
    authc_free(a);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_resolve_payloads),
        cmocka_unit_test(test_same_origin_kept),
        cmocka_unit_test(test_via_handler),
        cmocka_unit_test(test_bad_cookie_replaced))
