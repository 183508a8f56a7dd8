/* test_csrf.c — the CSRF double-submit token against Auth.js's recorded
 * vectors: hash format, cookie name/attributes, reuse and replacement. */
#include "cmocka_main.h"
#include <strings.h>

#include "core/core_int.h"
#include "response_assert.h"
#include "testutil.h"

static authc *instance_for(json_t *secret, const char *url)
{
    authc_config *cfg = authc_config_new();
    char err[256];
    if (json_is_array(secret)) {
        size_t i;
        json_t *s;
        json_array_foreach(secret, i, s) authc_config_set(cfg, "secret", json_string_value(s), err, sizeof err);
    } else {
        authc_config_set(cfg, "secret", json_string_value(secret), err, sizeof err);
    }
    authc_config_set(cfg, "trust_host", "1", err, sizeof err);
    (void)url;
    authc *a = authc_new(cfg, err, sizeof err);
    assert_non_null(a);
    return a;
}

static void test_vectors(void **st)
{
    (void)st;
    json_t *v = tu_vectors("authjs-csrf.json");
    json_t *cases = json_object_get(v, "cases");
    assert_true(json_array_size(cases) >= 5);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const char *id = json_string_value(json_object_get(c, "id"));
        const char *url = json_string_value(json_object_get(c, "url"));
        authc *a = instance_for(json_object_get(c, "secret"), url);
        /* 1. Our hash of their token is their hash. */
        char h[65];
        authc__csrf_hash(a, json_string_value(json_object_get(c, "token")), h);
        const char *cv = json_string_value(json_object_get(c, "cookieValue"));
        assert_non_null(cv);
        assert_string_equal(h, strchr(cv, '|') + 1);
        if (json_object_get(c, "hash"))
            assert_string_equal(h, json_string_value(json_object_get(c, "hash")));
        /* 2. A fresh token: same cookie name and attributes, valid hash. */
        authc_response *r = tu_req(a, "GET", url, NULL, NULL);
        assert_int_equal(r->status, 200);
        const char *name = json_string_value(json_object_get(c, "cookieName"));
        const char *sc = tu_cookie_named(r, name);
        assert_non_null(sc);
        const char *want = json_string_value(json_object_get(c, "setCookie"));
        assert_string_equal(strchr(sc, ';'), strchr(want, ';'));
        char *val = tu_cookie_value(sc);
        assert_int_equal(strlen(val), 64 + 3 + 64);
        assert_memory_equal(val + 64, "%7C", 3);
        char tok[65];
        memcpy(tok, val, 64);
        tok[64] = 0;
        authc__csrf_hash(a, tok, h);
        assert_string_equal(val + 67, h);
        char *body = tu_body(r);
        char expect[128];
        snprintf(expect, sizeof expect, "{\"csrfToken\":\"%s\"}", tok);
        assert_string_equal(body, expect);
        free(body);
        free(val);
        authc_response_free(r);
        /* 3. Reuse: their cookie is accepted, token kept, no new cookie. */
        json_t *reuse = json_object_get(c, "reuse");
        if (reuse) {
            char ck[1024];
            snprintf(ck, sizeof ck, "Cookie: %s", json_string_value(json_object_get(reuse, "requestCookie")));
            r = tu_req(a, "GET", url, NULL, ck, NULL);
            body = tu_body(r);
            snprintf(expect, sizeof expect, "{\"csrfToken\":\"%s\"}",
                     json_string_value(json_object_get(reuse, "responseCsrfToken")));
            assert_string_equal(body, expect);
            assert_null(tu_cookie_named(r, name));
            free(body);
            authc_response_free(r);
        }
        /* 4. A cookie hashed with another secret is replaced. */
        if (!strcmp(id, "bad-hash-replaced")) {
            char ck[1024];
            snprintf(ck, sizeof ck, "Cookie: %s", json_string_value(json_object_get(c, "requestCookie")));
            r = tu_req(a, "GET", url, NULL, ck, NULL);
            assert_non_null(tu_cookie_named(r, name));
            body = tu_body(r);
            const char *rv = json_string_value(json_object_get(c, "requestCookieValue"));
            char *old = strndup(rv, 64);
            assert_null(strstr(body, old));
            free(old);
            free(body);
            authc_response_free(r);
        }
        authc_free(a);
    }
    json_decref(v);
}

/* POST with the cookie but a wrong or missing body token must fail. */
static void test_enforced(void **st)
{
    (void)st;
    authc *a = tu_instance("secret=unit-test-secret-0123456789abcdefghijkl", "trust_host=1", NULL);
    tu_csrf csrf = tu_csrf_of(a, "http://h.test/auth/csrf");
    const char *tok = csrf.token, *ck = csrf.cookie;
    authc_response *r;
    char body[512];
    const char *cases[] = {"username=alice&password=wonderland",
                           "csrfToken=&username=alice&password=wonderland",
                           "csrfToken=0000000000000000000000000000000000000000000000000000000000000000&username=alice&password=wonderland"};
    for (size_t i = 0; i < 3; i++) {
        r = tu_req(a, "POST", "http://h.test/auth/callback/credentials", cases[i], ck,
                   "Content-Type: application/x-www-form-urlencoded", NULL);
        assert_int_equal(r->status, 302);
        assert_string_equal(authc_response_header(r, "Location"), "http://h.test/auth/signin?error=MissingCSRF");
        assert_null(tu_set_cookie(r, 0));
        authc_response_free(r);
    }
    /* Token in a header only: Auth.js reads the body field alone. */
    tu_expect_location(tu_req(a, "POST", "http://h.test/auth/callback/credentials",
                              "username=alice&password=wonderland", ck, "X-CSRF-Token: x",
                              "Content-Type: application/x-www-form-urlencoded", NULL),
                       "http://h.test/auth/signin?error=MissingCSRF");
    /* Body token without the cookie fails too (double submit). */
    snprintf(body, sizeof body, "csrfToken=%s&username=alice&password=wonderland", tok);
    tu_expect_location(tu_req(a, "POST", "http://h.test/auth/callback/credentials", body,
                              "Content-Type: application/x-www-form-urlencoded", NULL),
                       "http://h.test/auth/signin?error=MissingCSRF");
    /* Right token (form and JSON) passes. */
    tu_expect_location(tu_req(a, "POST", "http://h.test/auth/callback/credentials", body, ck,
                              "Content-Type: application/x-www-form-urlencoded", NULL),
                       "http://h.test");
    snprintf(body, sizeof body, "{\"csrfToken\":\"%s\",\"username\":\"alice\",\"password\":\"wonderland\"}", tok);
    r = tu_req(a, "POST", "http://h.test/auth/callback/credentials", body, ck,
               "Content-Type: application/json", NULL);
    assert_string_equal(authc_response_header(r, "Location"), "http://h.test");
    assert_non_null(tu_cookie_named(r, "authjs.session-token"));
    authc_response_free(r);
    /* Another content type: no body, so CSRF fails. */
    snprintf(body, sizeof body, "csrfToken=%s&username=alice&password=wonderland", tok);
    tu_expect_location(
        tu_req(a, "POST", "http://h.test/auth/callback/credentials", body, ck, "Content-Type: text/plain", NULL),
        "http://h.test/auth/signin?error=MissingCSRF");
    authc_free(a);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_vectors), cmocka_unit_test(test_enforced))
