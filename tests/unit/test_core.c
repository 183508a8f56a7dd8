/* test_core.c — routing, host handling, cookies and chunking, sessions and
 * the credentials flow through authc_handle, checked against the spec and
 * the Auth.js vectors. */
#include "cmocka_main.h"
#include <strings.h>

#include "core/core_int.h"
#include "testutil.h"
#include "response_assert.h"

#define SECRET "secret=unit-test-secret-0123456789abcdefghijkl"

static authc *inst(void)
{
    return tu_instance(SECRET, "trust_host=1", NULL);
}

static void test_bad_requests(void **st)
{
    (void)st;
    authc *a = inst();
    const char *urls[] = {"http://h.test/auth", "http://h.test/auth/", "http://h.test/auth/nope",
                          "http://h.test/auth/session/x", "http://h.test/auth/csrf/x",
                          "http://h.test/auth/signin/a/b", "http://h.test/other/session",
                          "http://h.test/auth/providers/x"};
    for (size_t i = 0; i < sizeof urls / sizeof *urls; i++) {
        authc_response *r = tu_req(a, "GET", urls[i], NULL, NULL);
        assert_int_equal(r->status, 400);
        tu_assert_body(r, "\"Bad request.\"");
        assert_null(tu_set_cookie(r, 0));
        authc_response_free(r);
    }
    const char *methods[] = {"PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get"};
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
        authc_response *r = tu_req(a, methods[i], "http://h.test/auth/session", NULL, NULL);
        assert_int_equal(r->status, 400);
        authc_response_free(r);
    }
    /* Trailing slashes and empty segments are fine; "undefined" = none. */
    authc_response *r = tu_req(a, "GET", "http://h.test/auth//session/", NULL, NULL);
    assert_int_equal(r->status, 200);
    authc_response_free(r);
    r = tu_req(a, "GET", "http://h.test/auth/signin/undefined", NULL, NULL);
    assert_int_equal(r->status, 200); /* the sign-in page */
    authc_response_free(r);
    /* UnknownAction on valid paths → Configuration redirect. */
    const char *posts[] = {"csrf", "providers", "error", "verify-request"};
    for (size_t i = 0; i < 4; i++) {
        char u[128];
        snprintf(u, sizeof u, "http://h.test/auth/%s", posts[i]);
        r = tu_req(a, "POST", u, NULL, NULL);
        assert_int_equal(r->status, 302);
        assert_string_equal(authc_response_header(r, "Location"), "http://h.test/auth/error?error=Configuration");
        authc_response_free(r);
    }
    tu_expect_location(tu_req(a, "GET", "http://h.test/auth/signin/credentials", NULL, NULL),
                       "http://h.test/auth/error?error=Configuration");
    tu_expect_location(tu_req(a, "GET", "http://h.test/auth/callback/credentials", NULL, NULL),
                       "http://h.test/auth/error?error=Configuration");
    tu_expect_location(tu_req(a, "POST", "http://h.test/auth/signin/nope", NULL, NULL),
                       "http://h.test/auth/error?error=Configuration");
    authc_free(a);
}

static void test_providers(void **st)
{
    (void)st;
    authc *a = inst();
    authc_response *r = tu_req(a, "GET", "http://h.test:8080/auth/providers", NULL, NULL);
    assert_int_equal(r->status, 200);
    tu_assert_body(r, "{\"credentials\":{\"id\":\"credentials\",\"name\":\"Credentials\",\"type\":\"credentials\","
                      "\"signinUrl\":\"http://h.test:8080/auth/signin/credentials\","
                      "\"callbackUrl\":\"http://h.test:8080/auth/callback/credentials\"}}");
    assert_null(tu_set_cookie(r, 0));
    assert_null(authc_response_header(r, "Cache-Control"));
    authc_response_free(r);
    authc_free(a);
}

static void test_hosts(void **st)
{
    (void)st;
    /* Untrusted: 500 JSON with the Auth.js message. */
    authc *a = tu_instance(SECRET, NULL);
    authc_response *r = tu_req(a, "GET", "/auth/session", NULL, "Host: h.test", NULL);
    assert_int_equal(r->status, 500);
    authc_response_free(r);
    r = tu_req(a, "GET", "/auth/signin", NULL, "Host: h.test", NULL);
    assert_int_equal(r->status, 500);
    assert_non_null(strstr(authc_response_header(r, "Content-Type"), "text/html"));
    authc_response_free(r);
    authc_free(a);
    /* AUTH_URL wins over Host and forwarded headers; its path is the base. */
    a = tu_instance(SECRET, "url=https://pub.example/api/auth", NULL);
    assert_string_equal(authc_base_path(a), "/api/auth");
    r = tu_req(a, "GET", "/api/auth/csrf", NULL, "Host: internal:9000", "X-Forwarded-Host: evil.test", NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(tu_cookie_named(r, "__Host-authjs.csrf-token"));
    assert_non_null(strstr(tu_cookie_named(r, "__Host-authjs.csrf-token"), "; Secure;"));
    assert_non_null(strstr(tu_cookie_named(r, "__Secure-authjs.callback-url"), "https%3A%2F%2Fpub.example"));
    authc_response_free(r);
    authc_free(a);
    /* Trusted host: X-Forwarded-Proto/Host, else Host. */
    a = inst();
    r = tu_req(a, "GET", "/auth/providers", NULL, "Host: inner:3000", "X-Forwarded-Host: app.example",
               "X-Forwarded-Proto: https", NULL);
    char *b = tu_body(r);
    assert_non_null(strstr(b, "\"https://app.example/auth/signin/credentials\""));
    free(b);
    authc_response_free(r);
    r = tu_req(a, "GET", "/auth/providers", NULL, "Host: inner:3000", NULL);
    b = tu_body(r);
    assert_non_null(strstr(b, "\"http://inner:3000/auth/signin/credentials\""));
    free(b);
    authc_response_free(r);
    const char *bad[] = {"Host: evil.com@x", "Host: a b", "Host: x/y", "Host: ", "Host: [::1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tu_expect_status(tu_req(a, "GET", "/auth/providers", NULL, bad[i], NULL), 400);
    }
    authc_free(a);
}

/* Signs alice in at origin; her session's Cookie header into cookie_out.
 * Returns where the callback redirects (static). */
static const char *sign_in(const authc *a, const char *origin, char *cookie_out, size_t n)
{
    authc_response *r = tu_sign_in(a, origin, "&callbackUrl=%2Fdashboard");
    assert_int_equal(r->status, 302);
    static char loc[256];
    snprintf(loc, sizeof loc, "%s", authc_response_header(r, "Location"));
    size_t pl = strlen("Cookie: ");
    assert_true(n > pl);
    memcpy(cookie_out, "Cookie: ", pl);
    assert_non_null(tu_session_pair(r, cookie_out + pl, n - pl));
    authc_response_free(r);
    return loc;
}

/* Same Set-Cookie shape and session body as Auth.js's recorded sign-in. */
static void test_credentials_like_vector(void **st)
{
    (void)st;
    json_t *v = tu_vectors("authjs-jwt.json");
    json_t *cs = json_object_get(v, "cases"), *vc = NULL, *it;
    size_t i;
    json_array_foreach(cs, i, it) if (!strcmp(json_string_value(json_object_get(it, "id")), "auth-credentials-signin")) vc = it;
    assert_non_null(vc);
    char sec[256];
    snprintf(sec, sizeof sec, "secret=%s", json_string_value(json_object_get(vc, "secret")));
    authc *a = tu_instance(sec, "trust_host=1", NULL);
    char cookie[8192];
    const char *loc = sign_in(a, "http://localhost:3000", cookie, sizeof cookie);
    assert_string_equal(loc, "http://localhost:3000/dashboard");
    /* Attributes after the value match Auth.js exactly, modulo the date. */
    const char *want = json_string_value(json_object_get(vc, "setCookie"));
    const char *wattr = strchr(want, ';');
    char *tok = strndup(cookie + strlen("Cookie: authjs.session-token="), 10000);
    assert_true(authc__starts_with(tok, "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoi"));
    /* The header's kid is the vector's thumbprint for this secret. */
    assert_non_null(strstr(want, "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoi"));
    size_t hl = strcspn(tok, ".");
    assert_int_equal(strncmp(tok, strchr(want, '=') + 1, hl), 0);
    free(tok);
    authc_response *r = tu_req(a, "GET", "http://localhost:3000/auth/session", NULL, cookie, NULL);
    char *b = tu_body(r);
    json_t *got = json_loads(b, 0, NULL), *exp = json_object_get(vc, "sessionResponseBody");
    assert_true(json_equal(json_object_get(got, "user"), json_object_get(exp, "user")));
    assert_int_equal(strlen(json_string_value(json_object_get(got, "expires"))), 24);
    const char *sc = tu_cookie_named(r, "authjs.session-token");
    assert_non_null(sc);
    /* "; Path=/; Expires=<date>; HttpOnly; SameSite=Lax" */
    assert_true(authc__starts_with(strchr(sc, ';'), "; Path=/; Expires="));
    assert_string_equal(strstr(sc, " GMT;"), strstr(wattr, " GMT;"));
    assert_string_equal(authc_response_header(r, "Cache-Control"), "private, no-cache, no-store");
    json_decref(got);
    free(b);
    authc_response_free(r);
    authc_free(a);
    json_decref(v);
}

/* GET url with the Cookie header line `cookie`: the body must be `want`. */
static void session_is(const authc *a, const char *url, const char *cookie, const char *want)
{
    authc_response *r = tu_req(a, "GET", url, NULL, cookie, NULL);
    tu_assert_body(r, want);
    authc_response_free(r);
}

static void test_session_states(void **st)
{
    (void)st;
    authc *a = inst();
    char cookie[8192];
    sign_in(a, "http://h.test", cookie, sizeof cookie);
    /* Tampered token: null, cookie cleared. */
    char bad[8192];
    snprintf(bad, sizeof bad, "%s", cookie);
    bad[strlen(bad) - 5] ^= 1;
    authc_response *r = tu_req(a, "GET", "http://h.test/auth/session", NULL, bad, NULL);
    tu_assert_body(r, "null");
    assert_non_null(tu_cookie_named(r, "authjs.session-token"));
    assert_non_null(strstr(tu_cookie_named(r, "authjs.session-token"), "Max-Age=0"));
    authc_response_free(r);
    /* Foreign secret: null. */
    authc *other = tu_instance("secret=another-secret-0123456789abcdefghijklmn", "trust_host=1", NULL);
    session_is(other, "http://h.test/auth/session", cookie, "null");
    /* Rotation: new secret first, old second → old token still valid. */
    authc *rot = tu_instance("secret=another-secret-0123456789abcdefghijklmn", SECRET, "trust_host=1", NULL);
    r = tu_req(rot, "GET", "http://h.test/auth/session", NULL, cookie, NULL);
    char *b = tu_body(r);
    assert_non_null(strstr(b, "\"Alice\""));
    free(b);
    authc_response_free(r);
    authc_free(rot);
    authc_free(other);
    /* Under the https cookie name the http token is unknown. */
    session_is(a, "https://h.test/auth/session", cookie, "null");
    /* POST /session needs CSRF: 400 null without. */
    tu_expect_body(tu_req(a, "POST", "http://h.test/auth/session", "{\"data\":{}}", cookie,
                          "Content-Type: application/json", NULL),
                   400, "null");
    authc_free(a);
}

static void test_chunking(void **st)
{
    (void)st;
    authc *a = inst();
    authc__ctx c = {.a = a, .ar = authc_arena_new(), .origin = "http://h.test"};
    c.ck = (const char *const *)a->cookie_names[0];
    /* 8478 chars → 3936/3936/606 (observed in Auth.js). */
    char *big = authc_arena_alloc(c.ar, 8479);
    memset(big, 'a', 8478);
    assert_int_equal(authc__session_write(&c, big, 1000), AUTHC_OK);
    assert_int_equal(c.cookies_out.n, 3);
    assert_string_equal(c.cookies_out.items[0].name, "authjs.session-token.0");
    assert_int_equal(strlen(c.cookies_out.items[0].value), 3936);
    assert_int_equal(strlen(c.cookies_out.items[1].value), 3936);
    assert_int_equal(strlen(c.cookies_out.items[2].value), 606);
    /* Reading back in any order reassembles. */
    authc__ctx r = c;
    memset(&r.cookies, 0, sizeof r.cookies);
    memset(&r.cookies_out, 0, sizeof r.cookies_out);
    authc__map_add(r.ar, &r.cookies, "authjs.session-token.2", c.cookies_out.items[2].value);
    authc__map_add(r.ar, &r.cookies, "authjs.session-token.0", c.cookies_out.items[0].value);
    authc__map_add(r.ar, &r.cookies, "authjs.session-token.1", c.cookies_out.items[1].value);
    authc__map_add(r.ar, &r.cookies, "authjs.csrf-token", "x");
    const char *back = authc__session_read(&r);
    assert_string_equal(back, big);
    /* Going from 3 chunks to 1: the three chunks expire, plain name set. */
    assert_int_equal(authc__session_write(&r, "small", 1000), AUTHC_OK);
    assert_int_equal(r.cookies_out.n, 4);
    assert_string_equal(r.cookies_out.items[0].name, "authjs.session-token");
    for (int i = 1; i < 4; i++)
        assert_int_equal(r.cookies_out.items[i].max_age, 0);
    /* Clearing expires every collected name. */
    memset(&r.cookies_out, 0, sizeof r.cookies_out);
    assert_int_equal(authc__session_write(&r, NULL, -1), AUTHC_OK);
    assert_int_equal(r.cookies_out.n, 3);
    /* The vector's long token splits as Auth.js did. */
    json_t *v = tu_vectors("authjs-jwt.json"), *it;
    size_t i;
    json_array_foreach(json_object_get(v, "cases"), i, it) {
        json_t *chunks = json_object_get(it, "cookieChunks");
        if (!chunks)
            continue;
        authc__ctx w = c;
        memset(&w.cookies, 0, sizeof w.cookies);
        memset(&w.cookies_out, 0, sizeof w.cookies_out);
        authc__session_write(&w, json_string_value(json_object_get(it, "token")), 1000);
        assert_int_equal(w.cookies_out.n, json_array_size(chunks));
        size_t k;
        json_t *ch;
        json_array_foreach(chunks, k, ch) {
            assert_string_equal(w.cookies_out.items[k].name, json_string_value(json_object_get(ch, "name")));
            assert_int_equal(strlen(w.cookies_out.items[k].value), json_integer_value(json_object_get(ch, "valueLength")));
        }
    }
    json_decref(v);
    authc_arena_free(c.ar);
    authc_free(a);
}

static void test_cookie_parse(void **st)
{
    (void)st;
    authc *a = inst();
    authc__ctx c = {.a = a, .ar = authc_arena_new()};
    assert_int_equal(authc__cookies_parse(&c, " a=1; b=%7C; a=2;c; d=\"q\" ;e=%ZZ; =x;f="), AUTHC_OK);
    assert_string_equal(authc__map_first(&c.cookies, "a"), "1");
    assert_string_equal(authc__map_first(&c.cookies, "b"), "|");
    assert_string_equal(authc__map_first(&c.cookies, "d"), "q");
    assert_string_equal(authc__map_first(&c.cookies, "e"), "%ZZ");
    assert_string_equal(authc__map_first(&c.cookies, "f"), "");
    assert_null(authc__map_first(&c.cookies, "c"));
    /* Hard limits. */
    char *huge = authc_arena_alloc(c.ar, AUTHC__MAX_COOKIE_HDR + 10);
    memset(huge, 'a', AUTHC__MAX_COOKIE_HDR + 2);
    huge[0] = 'k';
    huge[1] = '=';
    authc__ctx d = {.a = a, .ar = c.ar};
    assert_int_equal(authc__cookies_parse(&d, huge), AUTHC_ERR_LIMIT);
    authc__buf b;
    authc__buf_init(&b, c.ar, 1 << 20);
    for (int i = 0; i < AUTHC__MAX_COOKIES + 5; i++)
        authc__buf_printf(&b, "c%d=1; ", i);
    authc__ctx e = {.a = a, .ar = c.ar};
    assert_int_equal(authc__cookies_parse(&e, b.p), AUTHC_ERR_LIMIT);
    authc_arena_free(c.ar);
    authc_free(a);
}

static void test_return_redirect_and_errors(void **st)
{
    (void)st;
    authc *a = inst();
    /* Error path with X-Auth-Return-Redirect: 200 {url}, no cookies. */
    authc_response *r = tu_req(a, "POST", "http://h.test/auth/signout", "csrfToken=x",
                               "X-Auth-Return-Redirect: 1", "Content-Type: application/x-www-form-urlencoded", NULL);
    assert_int_equal(r->status, 200);
    tu_assert_body(r, "{\"url\":\"http://h.test/auth/signin?error=MissingCSRF\"}");
    assert_null(tu_set_cookie(r, 0));
    authc_response_free(r);
    /* Error page statuses. */
    struct { const char *code; int status; } ep[] = {
        {"Configuration", 500}, {"AccessDenied", 403}, {"Verification", 403}, {"Other", 200}, {NULL, 200}};
    for (size_t i = 0; i < 5; i++) {
        char u[128];
        snprintf(u, sizeof u, "http://h.test/auth/error%s%s", ep[i].code ? "?error=" : "", ep[i].code ? ep[i].code : "");
        r = tu_req(a, "GET", u, NULL, NULL);
        assert_int_equal(r->status, ep[i].status);
        assert_string_equal(authc_response_header(r, "Content-Type"), "text/html");
        authc_response_free(r);
    }
    /* authorize() failing hard → Configuration; a code → &code=. */
    tu_csrf csrf = tu_csrf_of(a, "http://h.test/auth/csrf");
    const char *ck = csrf.cookie;
    char body[512];
    snprintf(body, sizeof body, "csrfToken=%s&username=boom&password=x", csrf.token);
    tu_expect_location(tu_req(a, "POST", "http://h.test/auth/callback/credentials", body, ck,
                              "Content-Type: application/x-www-form-urlencoded", NULL),
                       "http://h.test/auth/error?error=Configuration");
    snprintf(body, sizeof body, "csrfToken=%s&username=coded&password=x", csrf.token);
    r = tu_req(a, "POST", "http://h.test/auth/callback/credentials", body, ck,
               "Content-Type: application/x-www-form-urlencoded", "X-Auth-Return-Redirect: 1", NULL);
    tu_assert_body(r, "{\"url\":\"http://h.test/auth/signin?error=CredentialsSignin&code=too_many\"}");
    authc_response_free(r);
    /* Success with X-Auth-Return-Redirect keeps Location and Set-Cookie. */
    snprintf(body, sizeof body, "csrfToken=%s&username=alice&password=wonderland&callbackUrl=/x", csrf.token);
    r = tu_req(a, "POST", "http://h.test/auth/callback/credentials", body, ck,
               "Content-Type: application/x-www-form-urlencoded", "X-Auth-Return-Redirect: 1", NULL);
    assert_int_equal(r->status, 200);
    tu_assert_body(r, "{\"url\":\"http://h.test/x\"}");
    assert_string_equal(authc_response_header(r, "Location"), "http://h.test/x");
    assert_non_null(tu_cookie_named(r, "authjs.session-token"));
    authc_response_free(r);
    authc_free(a);
}

static void test_server_side_helpers(void **st)
{
    (void)st;
    authc *a = inst();
    authc_header h[] = {{"Host", "h.test"}};
    authc_request req = {.method = "POST", .url = "/my/action", .headers = h, .nheaders = 1};
    const char *names[] = {"username", "password"}, *vals[] = {"alice", "wonderland"};
    authc_response *r = NULL;
    assert_int_equal(authc_sign_in(a, &req, "credentials", "/dashboard", names, vals, 2, &r), AUTHC_OK);
    assert_int_equal(r->status, 302);
    assert_string_equal(authc_response_header(r, "Location"), "http://h.test/dashboard");
    const char *sc = tu_cookie_named(r, "authjs.session-token");
    assert_non_null(sc);
    char *v = tu_cookie_value(sc);
    char ck[8192];
    snprintf(ck, sizeof ck, "authjs.session-token=%s", v);
    free(v);
    authc_response_free(r);
    authc_header h2[] = {{"Host", "h.test"}, {"Cookie", ck}};
    authc_request get = {.method = "GET", .url = "/dashboard", .headers = h2, .nheaders = 2};
    authc_session *s = NULL;
    assert_int_equal(authc_auth(a, &get, &s), AUTHC_OK);
    assert_non_null(s);
    assert_string_equal(s->user.name, "Alice");
    assert_string_equal(s->user.id, "1");
    authc_session_free(s);
    assert_int_equal(authc_sign_out(a, &get, "/", &r), AUTHC_OK);
    assert_int_equal(r->status, 302);
    assert_non_null(strstr(tu_cookie_named(r, "authjs.session-token"), "Max-Age=0"));
    authc_response_free(r);
    /* Wrong password through the helper: CredentialsSignin redirect. */
    vals[1] = "nope";
    assert_int_equal(authc_sign_in(a, &req, "credentials", "/dashboard", names, vals, 2, &r), AUTHC_OK);
    assert_string_equal(authc_response_header(r, "Location"),
                        "http://h.test/auth/signin?error=CredentialsSignin&code=credentials");
    authc_response_free(r);
    /* No cookie: no session. */
    assert_int_equal(authc_auth(a, &req, &s), AUTHC_OK);
    assert_null(s);
    authc_free(a);
}

static void test_config_errors(void **st)
{
    (void)st;
    char err[1024];
    authc_config *cfg = authc_config_new();
    assert_null(authc_new(cfg, err, sizeof err));
    assert_non_null(strstr(err, "AUTH_SECRET"));
    cfg = authc_config_new();
    assert_int_equal(authc_config_set(cfg, "session.strategy", "cookie", err, sizeof err), AUTHC_ERR_INVALID);
    assert_int_equal(authc_config_set(cfg, "url", "ftp://x", err, sizeof err), AUTHC_ERR_INVALID);
    assert_int_equal(authc_config_set(cfg, "nope", "1", err, sizeof err), AUTHC_ERR_INVALID);
    assert_int_equal(authc_config_set(cfg, "theme.colorScheme", "pink", err, sizeof err), AUTHC_ERR_INVALID);
    assert_int_equal(authc_config_set(cfg, "secret", "s-0123456789abcdefghijklmnopqrstuvwxyz", err, sizeof err), AUTHC_OK);
    assert_int_equal(authc_config_set(cfg, "session.strategy", "database", err, sizeof err), AUTHC_OK);
    assert_null(authc_new(cfg, err, sizeof err));
    assert_non_null(strstr(err, "MissingAdapter"));
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_bad_requests), cmocka_unit_test(test_providers),
        cmocka_unit_test(test_hosts), cmocka_unit_test(test_credentials_like_vector),
        cmocka_unit_test(test_session_states), cmocka_unit_test(test_chunking),
        cmocka_unit_test(test_cookie_parse), cmocka_unit_test(test_return_redirect_and_errors),
        cmocka_unit_test(test_server_side_helpers), cmocka_unit_test(test_config_errors))
