/* test_harden.c — regression tests of the hardening issue through
 * authc_handle: allowed hosts, page security headers, session cookie names. */
#include "cmocka_main.h"
#include <strings.h>
#include <unistd.h>


#include "authc/adapter.h"
#include "authc/env.h"
#include "authc/oauth.h"
#include "authc/webauthn.h"
#include "config/users_int.h"
#include "testutil.h"
#include "response_assert.h"

#define SECRET "secret=unit-test-secret-0123456789abcdefghijkl"

static char g_log[8192];
static void capture(void *ud, const char *level, const char *msg)
{
    (void)ud;
    (void)level;
    size_t l = strlen(g_log);
    snprintf(g_log + l, sizeof g_log - l, "%s\n", msg);
}

/* A request from TCP peer `peer` with up to 4 "Name: value" headers. */
static authc_response *send_from(const authc *a, const char *peer, const char *method, const char *url,
                                 const char *h1, const char *h2, const char *h3)
{
    authc_header hs[4];
    char store[3][512];
    size_t n = 0;
    const char *in[3] = {h1, h2, h3};
    for (int i = 0; i < 3; i++) {
        if (!in[i])
            continue;
        snprintf(store[n], sizeof store[n], "%s", in[i]);
        char *colon = strchr(store[n], ':');
        *colon = '\0';
        hs[n].name = store[n];
        hs[n].value = colon + 2;
        n++;
    }
    authc_request r = {.method = method, .url = url, .headers = hs, .nheaders = n, .client_addr = peer};
    authc_response *res = NULL;
    assert_int_equal(authc_handle(a, &r, &res), AUTHC_OK);
    return res;
}

static authc *hosts_instance(void)
{
    authc_config *cfg = authc_config_new();
    char err[512];
    assert_int_equal(authc_config_set(cfg, "secret", SECRET + 7, err, sizeof err), AUTHC_OK);
    assert_int_equal(authc_config_set(cfg, "trust_host", "1", err, sizeof err), AUTHC_OK);
    assert_int_equal(authc_config_set(cfg, "allowed_hosts", "app.example, auth.example:8443", err, sizeof err),
                     AUTHC_OK);
    authc_config_set_logger(cfg, capture, NULL);
    static const authc_credentials_field f[] = {{"username", NULL, NULL}};
    authc_credentials_provider cp = {.fields = f, .nfields = 1, .authorize = tu_authorize};
    authc_config_add_credentials(cfg, &cp);
    authc *a = authc_new(cfg, err, sizeof err);
    assert_non_null(a);
    return a;
}

static void test_allowed_hosts(void **state)
{
    (void)state;
    authc *a = hosts_instance();
    g_log[0] = '\0';
    authc_response *r = send_from(a, "192.0.2.1", "GET", "/auth/providers", "Host: evil.example", NULL, NULL);
    assert_int_equal(r->status, 400);
    assert_non_null(strstr(g_log, "UntrustedHost"));
    authc_response_free(r);
    /* A port must match when the entry names one; a bare entry takes any. */
    tu_expect_status(send_from(a, "192.0.2.1", "GET", "/auth/providers", "Host: auth.example:9999", NULL, NULL), 400);
    tu_expect_status(send_from(a, "192.0.2.1", "GET", "/auth/providers", "Host: APP.example:3000", NULL, NULL), 200);
    /* An absolute request URL is held to the same list. */
    tu_expect_status(send_from(a, "192.0.2.1", "GET", "http://evil.example/auth/providers", NULL, NULL, NULL), 400);
    /* From an untrusted peer X-Forwarded-Host is ignored: Host counts. */
    r = send_from(a, "203.0.113.7", "GET", "/auth/providers", "Host: app.example",
                  "X-Forwarded-Host: evil.example", NULL);
    assert_int_equal(r->status, 200);
    char *b = tu_body(r);
    if (!strstr(b, "http://app.example/auth/signin/credentials"))
        fail_msg("%s", b);
    free(b);
    authc_response_free(r);
    /* From a trusted proxy the right-most value counts, not the client's. */
    r = send_from(a, "127.0.0.1", "GET", "/auth/providers", "Host: internal:3000",
                  "X-Forwarded-Host: evil.example, auth.example:8443", "X-Forwarded-Proto: http, https");
    assert_int_equal(r->status, 200);
    b = tu_body(r);
    assert_non_null(strstr(b, "https://auth.example:8443/auth/signin/credentials"));
    assert_null(strstr(b, "evil"));
    free(b);
    authc_response_free(r);
    tu_expect_status(send_from(a, "127.0.0.1", "GET", "/auth/providers", "Host: app.example",
                               "X-Forwarded-Host: app.example, evil.example", NULL), 400);
    authc_free(a);

    /* Bad lists are refused when set. */
    authc_config *cfg = authc_config_new();
    char err[512];
    assert_int_not_equal(authc_config_set(cfg, "allowed_hosts", "app.example/path", err, sizeof err), AUTHC_OK);
    assert_int_not_equal(authc_config_set(cfg, "allowed_hosts", "a.example:http", err, sizeof err), AUTHC_OK);
    authc_config_free(cfg);
}

static void test_trust_host_with_passkeys_needs_a_list(void **state)
{
    (void)state;
    char err[1024];
    authc_adapter *ad = authc_adapter_open("memory:", NULL, NULL, err, sizeof err);
    for (int mode = 0; mode < 3; mode++) {
        authc_config *cfg = authc_config_new();
        authc_config_set(cfg, "secret", SECRET + 7, err, sizeof err);
        authc_config_set(cfg, "trust_host", "1", err, sizeof err);
        if (mode == 1)
            authc_config_set(cfg, "allowed_hosts", "localhost", err, sizeof err);
        if (mode == 2)
            authc_config_set(cfg, "url", "https://app.example/auth", err, sizeof err);
        authc_config_set_adapter(cfg, ad);
        authc_passkey_provider p = {.enable_webauthn = true};
        assert_int_equal(authc_config_add_passkey(cfg, &p), AUTHC_OK);
        authc *a = authc_new(cfg, err, sizeof err);
        if (mode == 0) {
            assert_null(a);
            assert_non_null(strstr(err, "AUTH_URL"));
            assert_non_null(strstr(err, "AUTHC_ALLOWED_HOSTS"));
        } else {
            assert_non_null(a);
        }
        authc_free(a);
    }
    authc_adapter_close(ad);
}

static void expect_page_headers(const authc_response *r)
{
    const char *csp = authc_response_header(r, "Content-Security-Policy");
    assert_non_null(csp);
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    assert_non_null(strstr(csp, "form-action 'self'"));
    assert_string_equal(authc_response_header(r, "X-Frame-Options"), "DENY");
    assert_string_equal(authc_response_header(r, "X-Content-Type-Options"), "nosniff");
    assert_string_equal(authc_response_header(r, "Referrer-Policy"), "no-referrer");
    assert_non_null(strstr(authc_response_header(r, "Cache-Control"), "no-store"));
}

static void test_page_headers(void **state)
{
    (void)state;
    authc *a = tu_instance(SECRET, "trust_host=1", NULL);
    static const char *const pages[] = {"/auth/signin", "/auth/signout", "/auth/error", "/auth/error?error=Verification",
                                        "/auth/verify-request"};
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
        authc_response *r = tu_req(a, "GET", pages[i], NULL, "Host: h.example", NULL);
        assert_true(r->status == 200 || r->status == 403);
        assert_non_null(strstr(authc_response_header(r, "Content-Type"), "text/html"));
        expect_page_headers(r);
        authc_response_free(r);
    }
    /* JSON replies are not pages. */
    authc_response *r = tu_req(a, "GET", "/auth/providers", NULL, "Host: h.example", NULL);
    assert_null(authc_response_header(r, "X-Frame-Options"));
    authc_response_free(r);
    authc_free(a);

    /* The sign-in page lets forms go on to the OAuth IdP, nowhere else. */
    authc_config *cfg = authc_config_new();
    char err[512];
    authc_config_set(cfg, "secret", SECRET + 7, err, sizeof err);
    authc_config_set(cfg, "trust_host", "1", err, sizeof err);
    authc_oauth_provider op = {.id = "idp", .client_id = "c", .client_secret = "s",
                               .authorization_url = "https://idp.example/authorize", .token_url = "https://idp.example/t",
                               .userinfo_url = "https://idp.example/u"};
    assert_int_equal(authc_config_add_oauth(cfg, &op, err, sizeof err), AUTHC_OK);
    a = authc_new(cfg, err, sizeof err);
    assert_non_null(a);
    r = tu_req(a, "GET", "/auth/signin", NULL, "Host: h.example", NULL);
    expect_page_headers(r);
    assert_non_null(strstr(authc_response_header(r, "Content-Security-Policy"), "form-action 'self' https://idp.example;"));
    authc_response_free(r);
    authc_free(a);
}

/* POSTs a credentials sign-in for user/pass from peer (a CSRF token first). */
static authc_response *cred_post(const authc *a, const char *peer, const char *user, const char *pass, bool json)
{
    authc_response *r = send_from(a, peer, "GET", "/auth/csrf", "Host: h.example", NULL, NULL);
    char *body = tu_body(r);
    json_t *j = json_loads(body, 0, NULL);
    char form[512], ck[1024];
    snprintf(form, sizeof form, "csrfToken=%s&username=%s&password=%s",
             json_string_value(json_object_get(j, "csrfToken")), user, pass);
    char *cv = tu_cookie_value(tu_cookie_named(r, "authjs.csrf-token"));
    snprintf(ck, sizeof ck, "Cookie: authjs.csrf-token=%s", cv);
    free(cv);
    json_decref(j);
    free(body);
    authc_response_free(r);
    authc_header hs[4] = {{"Host", "h.example"}, {"Content-Type", "application/x-www-form-urlencoded"},
                          {"Cookie", ck + 8}, {"X-Auth-Return-Redirect", "1"}};
    authc_request rq = {.method = "POST", .url = "/auth/callback/credentials", .headers = hs,
                        .nheaders = json ? 4 : 3, .body = form, .body_len = strlen(form), .client_addr = peer};
    authc_response *res = NULL;
    assert_int_equal(authc_handle(a, &rq, &res), AUTHC_OK);
    return res;
}

/* Signs alice in; returns the session cookie's value (malloc'd). */
static char *sign_in(const authc *a)
{
    authc_response *r = cred_post(a, NULL, "alice", "wonderland", false);
    const char *sc = tu_cookie_named(r, "authjs.session-token");
    assert_non_null(sc);
    char *v = tu_cookie_value(sc);
    authc_response_free(r);
    return v;
}

static void test_session_cookie_names(void **state)
{
    (void)state;
    authc *a = tu_instance(SECRET, "trust_host=1", NULL);
    char *tok = sign_in(a);
    static const char *const junk[] = {"authjs.session-tokenX=zz", "authjs.session-token.999=zz",
                                       "authjs.session-token.0x=zz", "authjs.session-token.01=zz",
                                       "authjs.session-token.\x01\r\nSet-Cookie: a=zz"};
    char hdr[8192];
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
        snprintf(hdr, sizeof hdr, "Cookie: %s; authjs.session-token=%s", junk[i], tok);
        authc_response *r = tu_req(a, "GET", "/auth/session", NULL, "Host: h.example", hdr, NULL);
        assert_int_equal(r->status, 200);
        char *b = tu_body(r);
        assert_non_null(strstr(b, "alice@example.com")); /* still signed in */
        free(b);
        for (size_t k = 0; tu_set_cookie(r, k); k++) {
            const char *sc = tu_set_cookie(r, k);
            /* Only our own names: never a junk chunk expired or echoed. */
            assert_true(!strncmp(sc, "authjs.session-token=", 21) || !strncmp(sc, "authjs.csrf-token=", 18) ||
                        !strncmp(sc, "authjs.callback-url=", 20));
            for (const char *p = sc; *p; p++)
                assert_true((unsigned char)*p >= 0x20);
        }
        authc_response_free(r);
    }
    free(tok);
    authc_free(a);
}

static bool signed_in(const authc_response *r)
{
    return tu_cookie_named(r, "authjs.session-token") != NULL;
}

/* alice's right password from peer: signed in or not, as expected. */
static void expect_alice(const authc *a, const char *peer, bool ok)
{
    authc_response *r = cred_post(a, peer, "alice", "wonderland", false);
    assert_int_equal(signed_in(r), ok);
    authc_response_free(r);
}

static void test_credentials_regulation(void **state)
{
    (void)state;
    authc *a = tu_instance(SECRET, "trust_host=1", "regulation.max_failures=3", NULL);
    authc_response *wrong = NULL;
    for (int i = 0; i < 3; i++) {
        authc_response_free(wrong);
        wrong = cred_post(a, "192.0.2.10", "alice", "nope", false);
        assert_false(signed_in(wrong));
    }
    /* Banned now: the right password gets the wrong-password answer. */
    authc_response *right = cred_post(a, "192.0.2.11", "alice", "wonderland", false);
    assert_false(signed_in(right));
    assert_int_equal(right->status, wrong->status);
    assert_string_equal(authc_response_header(right, "Location"), authc_response_header(wrong, "Location"));
    assert_int_equal(right->body_len, wrong->body_len);
    assert_int_equal(right->nheaders, wrong->nheaders);
    authc_response_free(right);
    authc_response_free(wrong);
    /* Another name is not banned. */
    authc_response *r = cred_post(a, "192.0.2.12", "bob", "x", false);
    assert_false(signed_in(r));
    authc_response_free(r);
    authc_free(a);

    /* A client is banned after 4x the failures, whatever the names. */
    a = tu_instance(SECRET, "trust_host=1", "regulation.max_failures=2", NULL);
    char name[32];
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof name, "user%d", i);
        authc_response_free(cred_post(a, "2001:db8:5:5::1", name, "x", false));
    }
    expect_alice(a, "2001:db8:5:5::99", false); /* same /64 */
    expect_alice(a, "192.0.2.13", true);
    authc_free(a);

    /* Off: no ban however many failures. */
    a = tu_instance(SECRET, "trust_host=1", "regulation.max_failures=0", NULL);
    for (int i = 0; i < 6; i++)
        authc_response_free(cred_post(a, "192.0.2.14", "alice", "nope", false));
    expect_alice(a, "192.0.2.14", true);
    authc_free(a);
}

static void test_credentials_throttle(void **state)
{
    (void)state;
    authc *a = tu_instance(SECRET, "trust_host=1", "regulation.max_failures=0", NULL);
    int limited = 0;
    authc_response *r;
    for (int i = 0; i < 31; i++) {
        r = cred_post(a, "198.51.100.20", "alice", "wonderland", false);
        limited += r->status == 429;
        if (r->status == 429) {
            assert_true(atoi(authc_response_header(r, "Retry-After")) > 0);
            assert_string_equal(authc_response_header(r, "Cache-Control"), "no-store");
        }
        authc_response_free(r);
    }
    assert_int_equal(limited, 1);
    r = cred_post(a, "198.51.100.20", "alice", "wonderland", true);
    assert_int_equal(r->status, 429);
    tu_assert_body(r, "{\"url\":\"http://h.example/auth/signin?error=CredentialsSignin&code=rate_limited\"}");
    authc_response_free(r);
    /* Another client is not affected. */
    expect_alice(a, "198.51.100.21", true);
    authc_free(a);
}

/* A users file whose hash asks for absurd argon2 costs is refused at load. */
static void test_users_file_argon2_limits(void **state)
{
    (void)state;
    char path[256];
    tu_temp_file(path, sizeof path, "1:eve:$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA:e@x.y:Eve\n");
    char err[512] = "";
    authc__users *db = authc__users_load(path, err, sizeof err);
    assert_null(db);
    assert_non_null(strstr(err, "absurd"));
    char *h = authc_password_hash("pw");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "1:eve:%s:e@x.y:Eve\n", h);
    fclose(f);
    free(h);
    db = authc__users_load(path, err, sizeof err);
    assert_non_null(db);
    authc__users_free(db);
    unlink(path);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_allowed_hosts),
        cmocka_unit_test(test_trust_host_with_passkeys_needs_a_list),
        cmocka_unit_test(test_page_headers),
        cmocka_unit_test(test_session_cookie_names),
        cmocka_unit_test(test_credentials_regulation),
        cmocka_unit_test(test_credentials_throttle),
        cmocka_unit_test(test_users_file_argon2_limits))
