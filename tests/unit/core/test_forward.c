/* test_forward.c — GET|HEAD <base>/forward through authc_handle: every
 * answer of docs/forward-auth.md, JWT and database sessions, trusted peers,
 * rules, and AUTHC_REDIRECT_ALLOWED_HOSTS on the callbackUrl rule. */
#include "cmocka_main.h"
#include <strings.h>
#include <unistd.h>

#include "authc/adapter.h"
#include "authc/metrics.h"
#include "core/core_int.h"
#include "testutil.h"
#include "response_assert.h"

#define SECRET "unit-test-secret-0123456789abcdefghijkl"
#define NAV "Accept: text/html,application/xhtml+xml"
#define TRAEFIK "X-Forwarded-Proto: https", "X-Forwarded-Host: app.example.com"

/* A GET/HEAD from client_addr; headers "Name: value", NULL-terminated. */
static authc_response *req_from(const authc *a, const char *method, const char *url,
                                const char *client_addr, const char *h1, ...)
{
    va_list ap;
    va_start(ap, h1);
    authc_response *res = tu_vreq(a, method, url, client_addr, NULL, h1, ap);
    va_end(ap);
    assert_non_null(res);
    return res;
}

static const char *hdr(const authc_response *r, const char *name)
{
    return authc_response_header(r, name);
}

/* Fails unless r has this status and this Location (NULL: none), and sets
 * no cookie (a forward answer never does); r stays the caller's. */
static void assert_answer(const authc_response *r, int status, const char *location)
{
    assert_int_equal(r->status, status);
    if (location)
        assert_string_equal(hdr(r, "Location"), location);
    else
        assert_null(hdr(r, "Location"));
    assert_null(tu_set_cookie(r, 0));
}

/* Writes text to a new temporary file; returns its path (static). */
static const char *rules_file(const char *text)
{
    static char path[256];
    tu_temp_file(path, sizeof path, text);
    return path;
}

/* A JWT session cookie holding claims (a JSON object text). */
static const char *jwt_cookie(const authc *a, const char *claims_json)
{
    static char ck[8192];
    json_t *claims = json_loads(claims_json, 0, NULL);
    assert_non_null(claims);
    authc_arena *ar = authc_arena_new();
    char *tok = NULL;
    assert_int_equal(authc__jwt_encode(ar, &a->session_keys[0][0], claims, 3600,
                                       authc__now_ms() / 1000, &tok), AUTHC_OK);
    snprintf(ck, sizeof ck, "Cookie: authjs.session-token=%s", tok);
    json_decref(claims);
    authc_arena_free(ar);
    return ck;
}

#define ALICE_CLAIMS "{\"sub\":\"u-1\",\"name\":\"Alice\",\"email\":\"alice@example.com\"," \
                     "\"groups\":[\"admins\",\"dev\"],\"access_token\":\"at-123\"}"

/* The fixture of the tests with a session: an instance for
 * http://auth.test (trusting the Host header) and the Cookie header of
 * alice's JWT session there (static). */
typedef struct alice {
    authc *a;
    const char *ck;
} alice;

static int alice_setup(void **st)
{
    static alice x;
    x.a = tu_instance("secret=" SECRET, "trust_host=1", NULL);
    x.ck = jwt_cookie(x.a, ALICE_CLAIMS);
    *st = &x;
    return 0;
}

static int alice_teardown(void **st)
{
    authc_free(((alice *)*st)->a);
    return 0;
}

static void test_missing_target_400(void **st)
{
    (void)st;
    authc *a = tu_instance("secret=" SECRET, "trust_host=1", NULL);
    authc_response *r = req_from(a, "GET", "http://auth.test/auth/forward", "127.0.0.1", NULL);
    assert_answer(r, 400, NULL); /* not even the CSRF cookie */
    tu_assert_body(r, "{\"error\":\"MissingForwardedHeaders\"}");
    assert_string_equal(hdr(r, "Cache-Control"), "no-store");
    authc_response_free(r);
    /* A target URL that does not parse is no target either. */
    tu_expect_status(req_from(a, "GET", "http://auth.test/auth/forward", "127.0.0.1", "X-Original-URL: not a url",
                              NULL), 400);
    authc_free(a);
}

static void test_untrusted_peer_ignored(void **st)
{
    const alice *x = *st;
    /* Forged headers from a client outside AUTHC_TRUSTED_PROXIES: ignored,
     * even with a valid session. */
    authc_response *r = req_from(x->a, "GET", "http://auth.test/auth/forward", "203.0.113.9",
                                 "X-Original-URL: https://app.example.com/admin", x->ck, NULL);
    assert_answer(r, 400, NULL);
    assert_null(hdr(r, "X-Auth-Request-User"));
    authc_response_free(r);
    tu_expect_status(req_from(x->a, "GET", "http://auth.test/auth/forward", "203.0.113.9", TRAEFIK,
                              "X-Forwarded-Uri: /x", NAV, NULL), 400);
    /* The same from the loopback proxy counts. */
    tu_expect_status(req_from(x->a, "GET", "http://auth.test/auth/forward", "127.0.0.1",
                              "X-Original-URL: https://app.example.com/admin", x->ck, NULL), 200);
}

static void test_no_session_answers(void **st)
{
    (void)st;
    authc *a = tu_instance("secret=" SECRET, "url=https://auth.example.com/auth", NULL);
    /* nginx mode: always 401, with the sign-in URL as a hint. */
    authc_response *r = req_from(a, "GET", "/auth/forward", "127.0.0.1",
                                 "X-Original-URL: https://app.example.com/a?b=1&c=2", NAV, NULL);
    assert_answer(r, 401,
                  "https://auth.example.com/auth/signin?callbackUrl=https%3A%2F%2Fapp.example.com%2Fa%3Fb%3D1%26c%3D2");
    assert_non_null(hdr(r, "WWW-Authenticate"));
    assert_string_equal(hdr(r, "Cache-Control"), "no-store");
    authc_response_free(r);
    /* ... the hint only for a navigation (nginx's error_page must not send
     * a favicon or an XHR to the sign-in page). */
    r = req_from(a, "GET", "/auth/forward", "127.0.0.1", "X-Original-URL: https://app.example.com/favicon.ico",
                 "Accept: image/avif,image/webp,*/*", "Sec-Fetch-Dest: image", NULL);
    assert_answer(r, 401, NULL);
    assert_non_null(hdr(r, "WWW-Authenticate"));
    authc_response_free(r);
    /* Redirect mode, a navigation: 302 for GET, 303 for POST. */
    r = req_from(a, "GET", "/auth/forward", "127.0.0.1", TRAEFIK, "X-Forwarded-Uri: /docs",
                 "X-Forwarded-Method: GET", NAV, NULL);
    assert_answer(r, 302, "https://auth.example.com/auth/signin?callbackUrl=https%3A%2F%2Fapp.example.com%2Fdocs");
    authc_response_free(r);
    tu_expect_status(req_from(a, "GET", "/auth/forward", "127.0.0.1", TRAEFIK, "X-Forwarded-Uri: /form",
                              "X-Forwarded-Method: POST", NAV, NULL), 303);
    /* Not a navigation: XHR, fetch(), an image. */
    const char *not_nav[] = {"X-Requested-With: XMLHttpRequest", "Sec-Fetch-Mode: cors", "Sec-Fetch-Dest: image"};
    for (size_t i = 0; i < 3; i++) {
        r = req_from(a, "GET", "/auth/forward", "127.0.0.1", TRAEFIK, "X-Forwarded-Uri: /api",
                     NAV, not_nav[i], NULL);
        assert_answer(r, 401, NULL);
        tu_assert_body(r, "{\"error\":\"SessionRequired\"}");
        authc_response_free(r);
    }
    tu_expect_status(req_from(a, "GET", "/auth/forward", "127.0.0.1", TRAEFIK, "Accept: application/json", NULL), 401);
    /* A session cookie that does not decrypt: still no cookie set (not
     * even the clearing one /session would send). */
    r = req_from(a, "GET", "/auth/forward", "127.0.0.1", TRAEFIK, NAV,
                 "Cookie: __Secure-authjs.session-token=garbage", NULL);
    assert_int_equal(r->status, 302);
    assert_null(tu_set_cookie(r, 0));
    authc_response_free(r);
    authc_free(a);
}

static void test_jwt_session_allowed(void **st)
{
    const alice *x = *st;
    authc_response *r = req_from(x->a, "GET", "http://auth.test/auth/forward", "127.0.0.1",
                                 "X-Original-URL: https://app.example.com/", x->ck, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->body_len, 0);
    assert_string_equal(hdr(r, "Cache-Control"), "no-store");
    assert_string_equal(hdr(r, "X-Auth-Request-User"), "u-1");
    assert_string_equal(hdr(r, "X-Auth-Request-Email"), "alice@example.com");
    assert_string_equal(hdr(r, "X-Auth-Request-Preferred-Username"), "Alice");
    assert_string_equal(hdr(r, "X-Auth-Request-Groups"), "admins,dev");
    assert_null(hdr(r, "X-Auth-Request-Access-Token")); /* not asked for */
    /* The re-issued session cookie, and nothing else (no CSRF cookie). */
    assert_true(authc__starts_with(tu_set_cookie(r, 0), "authjs.session-token="));
    assert_null(tu_set_cookie(r, 1));
    authc_response_free(r);
    /* HEAD is answered like GET; HEAD on other routes stays a 400. */
    tu_expect_status(req_from(x->a, "HEAD", "http://auth.test/auth/forward", "127.0.0.1",
                              "X-Original-URL: https://app.example.com/", x->ck, NULL), 200);
    tu_expect_status(req_from(x->a, "HEAD", "http://auth.test/auth/session", "127.0.0.1", x->ck, NULL), 400);
    /* A POST is not a forward-auth request. */
    r = req_from(x->a, "POST", "http://auth.test/auth/forward", "127.0.0.1",
                 "X-Original-URL: https://app.example.com/", x->ck, NULL);
    assert_int_not_equal(r->status, 200);
    authc_response_free(r);
}

/* With AUTHC_FORWARD_PASS_ACCESS_TOKEN=1 the token goes along. */
static void test_pass_access_token(void **st)
{
    (void)st;
    authc *a = tu_instance("secret=" SECRET, "trust_host=1", "forward.pass_access_token=1", NULL);
    const char *ck = jwt_cookie(a, ALICE_CLAIMS);
    authc_response *r = req_from(a, "GET", "http://auth.test/auth/forward", "127.0.0.1", TRAEFIK, ck, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(hdr(r, "X-Auth-Request-Access-Token"), "at-123");
    authc_response_free(r);
    /* A claim with a line break never reaches a header. */
    ck = jwt_cookie(a, "{\"sub\":\"u-2\",\"name\":\"Eve\\r\\nX-Evil: 1\",\"email\":\"eve@example.com\"}");
    r = req_from(a, "GET", "http://auth.test/auth/forward", "127.0.0.1", TRAEFIK, ck, NULL);
    assert_int_equal(r->status, 200);
    assert_null(hdr(r, "X-Auth-Request-Preferred-Username"));
    assert_null(hdr(r, "X-Evil"));
    assert_null(hdr(r, "X-Auth-Request-Access-Token"));
    assert_string_equal(hdr(r, "X-Auth-Request-Email"), "eve@example.com");
    authc_response_free(r);
    authc_free(a);
}

static void test_query_conditions(void **st)
{
    const alice *x = *st;
    unsigned long long allow0 = authc_metrics_counter("authc_forward_auth_total", "allow", NULL);
    unsigned long long deny0 = authc_metrics_counter("authc_forward_auth_total", "deny", NULL);
    static const struct { const char *q; int status; } cases[] = {
        {"allowed_groups=admins", 200},
        {"allowed_groups=ops", 403},
        {"allowed_emails=alice%40example.com", 200},
        {"allowed_emails=bob%40example.com", 403},
        {"allowed_email_domains=*.example.org,example.com", 200},
        {"allowed_users=u-1&allowed_groups=dev", 200},
        {"allowed_users=Alice&allowed_groups=ops", 403},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char url[256];
        snprintf(url, sizeof url, "http://auth.test/auth/forward?%s", cases[i].q);
        authc_response *r = req_from(x->a, "GET", url, "127.0.0.1", TRAEFIK, x->ck, NULL);
        if (r->status != cases[i].status)
            fail_msg("%s: %d", cases[i].q, r->status);
        if (r->status == 403) {
            tu_assert_body(r, "{\"error\":\"AccessDenied\"}");
            assert_null(tu_set_cookie(r, 0));
        }
        authc_response_free(r);
    }
    /* Each decision is counted once: 4 allowed, 3 denied. */
    assert_int_equal(authc_metrics_counter("authc_forward_auth_total", "allow", NULL) - allow0, 4);
    assert_int_equal(authc_metrics_counter("authc_forward_auth_total", "deny", NULL) - deny0, 3);
}

static void test_rules_file(void **st)
{
    (void)st;
    const char *file = rules_file("# test rules\n"
                                  "bypass path=/public/ methods=GET,HEAD\n"
                                  "deny path~=^/internal(/|$)\n"
                                  "authenticated path=/admin groups=admins\n"
                                  "authenticated path=/mail domains=corp.example\n");
    char kv[300];
    snprintf(kv, sizeof kv, "forward.rules=%s", file);
    authc *a = tu_instance("secret=" SECRET, "trust_host=1", kv, NULL);
    const char *ck = jwt_cookie(a, ALICE_CLAIMS);
    static const struct { const char *uri; bool session; int status; } cases[] = {
        {"/public/logo.png", false, 200},
        {"/internal/x", true, 403},
        {"/internal/x", false, 403},
        {"/public/../internal/x", true, 403},
        {"/admin/users", true, 200},
        {"/admin/users", false, 401},
        {"/mail", true, 403},
        {"/other", true, 200},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char uri[128];
        snprintf(uri, sizeof uri, "X-Forwarded-Uri: %s", cases[i].uri);
        authc_response *r = req_from(a, "GET", "http://auth.test/auth/forward", "127.0.0.1", TRAEFIK,
                                     uri, cases[i].session ? ck : "Accept: application/json", NULL);
        if (r->status != cases[i].status)
            fail_msg("%s (session %d): %d", cases[i].uri, cases[i].session, r->status);
        if (!cases[i].session)
            assert_null(tu_set_cookie(r, 0));
        authc_response_free(r);
    }
    authc_free(a);
    /* An error in the file stops authc_new, naming the line. */
    unlink(file);
    file = rules_file("bypass path=/ok\nauthenticated path=admin\n");
    authc_config *cfg = authc_config_new();
    char err[512];
    assert_int_equal(authc_config_set(cfg, "secret", SECRET, err, sizeof err), AUTHC_OK);
    assert_int_equal(authc_config_set(cfg, "forward.rules", file, err, sizeof err), AUTHC_OK);
    assert_null(authc_new(cfg, err, sizeof err));
    assert_non_null(strstr(err, "AUTHC_FORWARD_RULES"));
    assert_non_null(strstr(err, "line 2"));
    unlink(file);
    cfg = authc_config_new();
    assert_int_equal(authc_config_set(cfg, "secret", SECRET, err, sizeof err), AUTHC_OK);
    assert_int_equal(authc_config_set(cfg, "forward.rules", "/nonexistent/rules", err, sizeof err), AUTHC_OK);
    assert_null(authc_new(cfg, err, sizeof err));
    assert_non_null(strstr(err, "cannot open"));
    cfg = authc_config_new();
    assert_int_equal(authc_config_set(cfg, "forward.pass_access_token", "perhaps", err, sizeof err),
                     AUTHC_ERR_INVALID);
    authc_config_free(cfg);
}

/* Database sessions on the memory adapter. */
static void test_database_session(void **st)
{
    (void)st;
    char err[256];
    authc_adapter *ad = authc_adapter_open("memory:", NULL, NULL, err, sizeof err);
    assert_non_null(ad);
    authc_config *cfg = authc_config_new();
    authc_config_set(cfg, "secret", SECRET, err, sizeof err);
    authc_config_set(cfg, "trust_host", "1", err, sizeof err);
    authc_config_set_adapter(cfg, ad);
    authc *a = authc_new(cfg, err, sizeof err);
    assert_non_null(a);
    assert_int_equal(authc_route_pool(a, "GET", "/auth/forward"), AUTHC_POOL_DB);
    authc_arena *ar = authc_arena_new();
    authc_user in = {.name = "Dee", .email = "dee@example.com", .email_verified = AUTHC_NO_TIME};
    authc_user *u = NULL;
    assert_int_equal(ad->ops->create_user(ad, ar, &in, &u), AUTHC_OK);
    authc_session_row s = {.session_token = "tok-live", .user_id = u->id,
                           .expires = authc__now_ms() + 86400000};
    assert_int_equal(ad->ops->create_session(ad, ar, &s, NULL), AUTHC_OK);
    authc_session_row old = {.session_token = "tok-old", .user_id = u->id, .expires = authc__now_ms() - 1000};
    assert_int_equal(ad->ops->create_session(ad, ar, &old, NULL), AUTHC_OK);
    authc_response *r = req_from(a, "GET", "http://auth.test/auth/forward", "127.0.0.1", TRAEFIK,
                                 "Cookie: authjs.session-token=tok-live", NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(hdr(r, "X-Auth-Request-User"), u->id);
    assert_string_equal(hdr(r, "X-Auth-Request-Email"), "dee@example.com");
    assert_string_equal(hdr(r, "X-Auth-Request-Preferred-Username"), "Dee");
    assert_null(hdr(r, "X-Auth-Request-Groups"));
    assert_true(authc__starts_with(tu_set_cookie(r, 0), "authjs.session-token=tok-live;"));
    authc_response_free(r);
    r = req_from(a, "GET", "http://auth.test/auth/forward", "127.0.0.1", TRAEFIK, NAV,
                 "Cookie: authjs.session-token=tok-old", NULL);
    assert_int_equal(r->status, 302);
    assert_null(tu_set_cookie(r, 0)); /* no clearing cookie either */
    authc_response_free(r);
    authc_arena_free(ar);
    authc_free(a);
    authc_adapter_close(ad);
}

static void test_jwt_pool_inline(void **st)
{
    (void)st;
    authc *a = tu_instance("secret=" SECRET, "trust_host=1", NULL);
    assert_int_equal(authc_route_pool(a, "GET", "/auth/forward"), AUTHC_POOL_INLINE);
    authc_free(a);
}

/* The callback-url cookie the sign-in page sets for callbackUrl=cb. */
static char *callback_cookie(const authc *a, const char *cb)
{
    char url[512];
    snprintf(url, sizeof url, "http://auth.example.com/auth/signin?callbackUrl=%s", cb);
    authc_response *r = tu_req(a, "GET", url, NULL, NULL);
    const char *sc = tu_cookie_named(r, "authjs.callback-url");
    char *v = sc ? tu_cookie_value(sc) : NULL;
    authc_response_free(r);
    return v;
}

static void test_redirect_allowed_hosts(void **st)
{
    (void)st;
    authc *a = tu_instance("secret=" SECRET, "url=http://auth.example.com/auth", NULL);
    char *v = callback_cookie(a, "http%3A%2F%2Fapp.example.com%2Fx");
    assert_string_equal(v, "http%3A%2F%2Fauth.example.com"); /* Auth.js: origin only */
    free(v);
    authc_free(a);
    a = tu_instance("secret=" SECRET, "url=http://auth.example.com/auth",
                    "redirect.allowed_hosts=*.example.com, docs.example.org:8443", NULL);
    v = callback_cookie(a, "http%3A%2F%2Fapp.example.com%2Fx");
    assert_string_equal(v, "http%3A%2F%2Fapp.example.com%2Fx");
    free(v);
    v = callback_cookie(a, "https%3A%2F%2Fdocs.example.org%3A8443%2F");
    assert_string_equal(v, "https%3A%2F%2Fdocs.example.org%3A8443%2F");
    free(v);
    static const char *const refused[] = {
        "https%3A%2F%2Fdocs.example.org%2F",           /* the glob names a port */
        "https%3A%2F%2Fevil.com%2F",
        "https%3A%2F%2Fexample.com.evil.com%2F",
        "https%3A%2F%2Fevil.com%2F.example.com",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        v = callback_cookie(a, refused[i]);
        assert_string_equal(v, "http%3A%2F%2Fauth.example.com");
        free(v);
    }
    authc_free(a);
    /* Served over https: an http callbackUrl is never a sibling. */
    a = tu_instance("secret=" SECRET, "url=https://auth.example.com/auth",
                    "redirect.allowed_hosts=*.example.com", NULL);
    authc_response *r = tu_req(a, "GET", "https://auth.example.com/auth/signin?callbackUrl=http%3A%2F%2Fapp.example.com%2F",
                               NULL, NULL);
    char *got = tu_cookie_value(tu_cookie_named(r, "__Secure-authjs.callback-url"));
    assert_string_equal(got, "https%3A%2F%2Fauth.example.com");
    free(got);
    authc_response_free(r);
    authc_free(a);
    authc_config *cfg = authc_config_new();
    char err[256];
    assert_int_equal(authc_config_set(cfg, "redirect.allowed_hosts", "a.com,,b.com", err, sizeof err),
                     AUTHC_ERR_INVALID);
    assert_int_equal(authc_config_set(cfg, "redirect.allowed_hosts", "a b.com", err, sizeof err),
                     AUTHC_ERR_INVALID);
    authc_config_free(cfg);
}

static void test_custom_signin_page(void **st)
{
    (void)st;
    authc *a = tu_instance("secret=" SECRET, "url=https://auth.example.com/auth",
                           "pages.signIn=/login?x=1", NULL);
    authc_response *r = req_from(a, "GET", "/auth/forward", "127.0.0.1", TRAEFIK, NAV, NULL);
    assert_int_equal(r->status, 302);
    assert_string_equal(hdr(r, "Location"),
                        "https://auth.example.com/login?x=1&callbackUrl=https%3A%2F%2Fapp.example.com%2F");
    authc_response_free(r);
    authc_free(a);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_missing_target_400),
        cmocka_unit_test_setup_teardown(test_untrusted_peer_ignored, alice_setup, alice_teardown),
        cmocka_unit_test(test_no_session_answers),
        cmocka_unit_test_setup_teardown(test_jwt_session_allowed, alice_setup, alice_teardown),
        cmocka_unit_test(test_pass_access_token),
        cmocka_unit_test_setup_teardown(test_query_conditions, alice_setup, alice_teardown),
        cmocka_unit_test(test_rules_file),
        cmocka_unit_test(test_database_session),
        cmocka_unit_test(test_jwt_pool_inline),
        cmocka_unit_test(test_redirect_allowed_hosts),
        cmocka_unit_test(test_custom_signin_page))
