/* test_refresh.c — the no-tree refresh of GET /session must agree with the
 * general decode + encode on every claims text: same checks, same claims
 * after re-encoding, same user members; unusual input must fall back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "jose/jose_int.h"
#include "util/util_int.h"

static authc__jwe_key key;
#define NOW 1800000000LL

/* Encrypts raw claims text as a token (bypassing the JSON layer). */
static char *seal(authc_arena *ar, const char *text)
{
    char *tok = NULL;
    assert_int_equal(authc__jwe_encrypt(ar, &key, (const uint8_t *)text, strlen(text), &tok), AUTHC_OK);
    return tok;
}

/* Runs both paths on text; checks they agree. Returns the fast rc. */
static authc_err agree(const char *text)
{
    authc_arena *ar = authc_arena_new();
    char *tok = seal(ar, text);
    char *fresh = NULL;
    const char *uj[3];
    authc_err fast = authc__jwt_refresh(ar, &key, 1, &key, tok, strlen(tok), NOW, 3600, &fresh, uj);
    json_t *slow = NULL;
    authc_err srr = authc__jwt_decode(ar, &key, 1, tok, strlen(tok), NOW, &slow);
    if (fast == AUTHC_ERR_UNSUPPORTED) {
        json_decref(slow);
        authc_arena_free(ar);
        return fast;
    }
    if (fast != srr)
        fail_msg("\"%s\": fast %d, slow %d", text, fast, srr);
    if (fast == AUTHC_OK) {
        /* Re-encoded claims = slow claims with the new iat/exp and some jti. */
        json_t *back = NULL;
        assert_int_equal(authc__jwt_decode(ar, &key, 1, fresh, strlen(fresh), NOW, &back), AUTHC_OK);
        assert_int_equal(json_integer_value(json_object_get(back, "iat")), NOW);
        assert_int_equal(json_integer_value(json_object_get(back, "exp")), NOW + 3600);
        const char *jti = json_string_value(json_object_get(back, "jti"));
        assert_non_null(jti);
        assert_int_equal(strlen(jti), 36);
        json_t *want = json_copy(slow);
        json_object_set_new(want, "iat", json_integer(NOW));
        json_object_set_new(want, "exp", json_integer(NOW + 3600));
        json_object_set_new(want, "jti", json_string(jti));
        if (!json_equal(want, back))
            fail_msg("\"%s\": re-encoded claims differ", text);
        /* Key order: existing members keep their place (like the slow path). */
        const char *k1, *k2;
        void *i1 = json_object_iter(want), *i2 = json_object_iter(back);
        while (i1 && i2) {
            k1 = json_object_iter_key(i1);
            k2 = json_object_iter_key(i2);
            assert_string_equal(k1, k2);
            i1 = json_object_iter_next(want, i1);
            i2 = json_object_iter_next(back, i2);
        }
        assert_null(i1);
        assert_null(i2);
        static const char *names[3] = {"name", "email", "picture"};
        for (int i = 0; i < 3; i++) {
            json_t *sv = json_object_get(slow, names[i]);
            if (!sv) {
                assert_null(uj[i]);
                continue;
            }
            assert_non_null(uj[i]);
            json_t *fv = json_loads(uj[i], JSON_DECODE_ANY, NULL);
            assert_non_null(fv);
            assert_true(json_equal(sv, fv));
            json_decref(fv);
        }
        json_decref(want);
        json_decref(back);
    }
    json_decref(slow);
    authc_arena_free(ar);
    return fast;
}

static void test_agrees(void **st)
{
    (void)st;
    const char *ok[] = {
        "{\"name\":\"Alice\",\"email\":\"a@x\",\"sub\":\"1\",\"iat\":1,\"exp\":1900000000,\"jti\":\"x\"}",
        "{}",
        "{\"sub\":\"1\"}",
        " { \"name\" : \"A\" , \"exp\" : 1800000100 } ",
        "{\"exp\":1800000100,\"name\":null,\"picture\":\"https://x/y.png\",\"email\":\"e\"}",
        "{\"name\":\"\\u00e9l\\u00e8ve \\\"q\\\" \\\\ \\/ \\n\",\"roles\":[1,2.5,-3e2,{\"a\":[true,false,null]}]}",
        "{\"name\":\"张伟\",\"email\":\"zw@例子.中国\",\"emoji\":\"🔑\"}",
        "{\"exp\":1799999990}",                 /* 10 s past: within tolerance */
        "{\"exp\":1799999985.5}",
        "{\"iat\":2000000000,\"nbf\":1800000015}", /* nbf at the edge, future iat ok */
        "{\"jti\":\"old\",\"iat\":5,\"exp\":1800000500,\"z\":0}",
        "{\"a\":{\"b\":{\"c\":{\"d\":[[[[]]]]}}}}",
        "{\"a\":9223372036854775807,\"b\":-9223372036854775808}", /* int64 edges */
        "{\"a\":[1e-400]}",                   /* underflow is fine for jansson */
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (agree(ok[i]) != AUTHC_OK)
            fail_msg("expected the fast path to accept %s", ok[i]);
    const char *bad[] = {
        "{\"exp\":1799999980}",   /* expired */
        "{\"exp\":1799999985}",   /* exactly now-15: expired */
        "{\"exp\":\"1900000000\"}",
        "{\"iat\":\"x\"}",
        "{\"nbf\":1800000016}",
        "{\"nbf\":true}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        authc_err e = agree(bad[i]);
        if (e == AUTHC_OK)
            fail_msg("fast path accepted %s", bad[i]);
    }
}

static void test_falls_back(void **st)
{
    (void)st;
    /* Not for the fast path: the slow path decides. */
    const char *odd[] = {
        "[1]", "\"s\"", "{\"a\":1,}", "{\"a\" 1}", "{\"name\":\"a\",\"name\":\"b\"}",
        "{\"n\\u0061me\":\"x\"}", "{\"a\":\"\\u0000\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\xff\"}",
        "{\"a\":\"\xc3\"}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":tru}", "{\"a\":\"x\"} x",
        "{\"exp\":123456789012345678901234567890}", "{\"a\":\"tab\there\"}",
        /* Numbers jansson refuses: the fast path must not accept them. */
        "{\"a\":9223372036854775808}", "{\"a\":-9223372036854775809}",
        "{\"n\":{\"x\":[99999999999999999999]}}", "{\"a\":[1e400]}", "{\"a\":-1E+999}",
        "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
    };
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        authc_err e = agree(odd[i]);
        if (e != AUTHC_ERR_UNSUPPORTED && e != AUTHC_ERR_INVALID)
            fail_msg("%s: fast path gave %d", odd[i], e);
    }
}

static void test_tampered(void **st)
{
    (void)st;
    authc_arena *ar = authc_arena_new();
    char *tok = seal(ar, "{\"name\":\"A\"}");
    /* Change one tag character to another valid base64url character (a
     * bit flip could make it '-'^1 = ',' and test the decoder instead). */
    char *c = &tok[strlen(tok) - 3];
    *c = *c == 'A' ? 'B' : 'A';
    char *fresh;
    const char *uj[3];
    assert_int_equal(authc__jwt_refresh(ar, &key, 1, &key, tok, strlen(tok), NOW, 60, &fresh, uj),
                     AUTHC_ERR_CRYPTO);
    assert_null(fresh);
    authc_arena_free(ar);
}

int main(void)
{
    authc__jwe_derive(&key, "refresh-test-secret-0123456789abcdefghij", "authjs.session-token");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agrees),
        cmocka_unit_test(test_falls_back),
        cmocka_unit_test(test_tampered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
