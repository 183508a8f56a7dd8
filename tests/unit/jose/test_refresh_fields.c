/* test_refresh_fields.c — the claims the fast scanner hands GET /session's
 * revocation check and forward-auth: unescaped strings, the "authc" claim,
 * groups; what jansson would read, or a fallback when it must decide. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "jose/jose_int.h"
#include "util/util_int.h"

static authc__jwe_key key;
#define NOW 1800000000LL

/* Scans text (sealed as a token) with the subject; returns the rc. */
static authc_err scan(authc_arena *ar, const char *text, authc__jwt_fields *f)
{
    char *tok = NULL, *fresh = NULL;
    assert_int_equal(authc__jwe_encrypt(ar, &key, (const uint8_t *)text, strlen(text), &tok), AUTHC_OK);
    return authc__jwt_refresh_fields(ar, &key, 1, &key, tok, strlen(tok), NOW, 3600, true, &fresh, f);
}

static void test_subject_and_own_claim(void **st)
{
    (void)st;
    authc_arena *ar = authc_arena_new();
    authc__jwt_fields f;
    assert_int_equal(scan(ar, "{\"name\":\"A \\\"B\\\" \\u00e9\\n\",\"email\":\"a@b.c\",\"sub\":\"u-1\","
                              "\"provider\":\"github\",\"access_token\":\"at\\/1\","
                              "\"authc\":{\"sid\":\"s1\",\"iat\":1799999990123,\"p\":\"github\","
                              "\"psid\":\"ps\",\"psub\":\"pu\"},\"iat\":1799999999}", &f),
                     AUTHC_OK);
    assert_string_equal(f.name, "A \"B\" \xc3\xa9\n");
    assert_string_equal(f.user_json[0], "\"A \\\"B\\\" \\u00e9\\n\""); /* raw text for the body */
    assert_string_equal(f.email, "a@b.c");
    assert_string_equal(f.sub, "u-1");
    assert_string_equal(f.provider, "github");
    assert_string_equal(f.access_token, "at/1");
    assert_true(f.own);
    assert_int_equal(f.own_iat, 1799999990123LL);
    assert_string_equal(f.sid, "s1");
    assert_string_equal(f.p, "github");
    assert_string_equal(f.psid, "ps");
    assert_string_equal(f.psub, "pu");
    assert_true(f.has_iat);
    assert_true(f.iat == 1799999999.0);
    assert_int_equal(f.n_groups, 0);
    authc_arena_free(ar);
}

static void test_groups(void **st)
{
    (void)st;
    authc_arena *ar = authc_arena_new();
    authc__jwt_fields f;
    assert_int_equal(scan(ar, "{\"groups\":[\"x\",1,\"y\\u0041\",null,{\"a\":[\"no\"]},\"z\"]}", &f), AUTHC_OK);
    assert_int_equal(f.n_groups, 3);
    assert_string_equal(f.groups[0], "x");
    assert_string_equal(f.groups[1], "yA");
    assert_string_equal(f.groups[2], "z");
    assert_int_equal(scan(ar, "{\"groups\":\"solo\"}", &f), AUTHC_OK);
    assert_int_equal(f.n_groups, 1);
    assert_string_equal(f.groups[0], "solo");
    /* Only the first AUTHC__JWT_GROUPS_MAX entries count, as forward-auth's. */
    authc__buf b;
    authc__buf_init(&b, ar, 64 * 1024);
    authc__buf_adds(&b, "{\"groups\":[");
    for (int i = 0; i < AUTHC__JWT_GROUPS_MAX + 5; i++)
        authc__buf_adds(&b, i ? ",\"g\"" : "\"g\"");
    authc__buf_adds(&b, "]}");
    assert_int_equal(scan(ar, b.p, &f), AUTHC_OK);
    assert_int_equal(f.n_groups, AUTHC__JWT_GROUPS_MAX);
    authc_arena_free(ar);
}

static void test_odd_types_and_fallbacks(void **st)
{
    (void)st;
    authc_arena *ar = authc_arena_new();
    authc__jwt_fields f;
    /* Not strings: absent for the callers, as json_string_value says. */
    assert_int_equal(scan(ar, "{\"sub\":5,\"provider\":null,\"authc\":[1],\"groups\":{\"a\":\"b\"}}", &f),
                     AUTHC_OK);
    assert_null(f.sub);
    assert_null(f.provider);
    assert_false(f.own);
    assert_int_equal(f.n_groups, 0);
    /* "authc" with a real iat is no usable claim: the cookie's iat counts. */
    assert_int_equal(scan(ar, "{\"authc\":{\"sid\":\"a\",\"iat\":1.5},\"iat\":1799999999.25}", &f), AUTHC_OK);
    assert_false(f.own);
    assert_true(f.iat == 1799999999.25);
    /* Duplicate or escaped keys inside "authc": jansson's rules decide. */
    assert_int_equal(scan(ar, "{\"authc\":{\"sid\":\"a\",\"sid\":\"b\",\"iat\":1}}", &f), AUTHC_ERR_UNSUPPORTED);
    assert_int_equal(scan(ar, "{\"authc\":{\"s\\u0069d\":\"a\",\"iat\":1}}", &f), AUTHC_ERR_UNSUPPORTED);
    authc_arena_free(ar);
}

int main(void)
{
    if (authc__jwe_derive(&key, "refresh-fields-test-secret-0123456789abcd", "authjs.session-token"))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subject_and_own_claim),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_odd_types_and_fallbacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
