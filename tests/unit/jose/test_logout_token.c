/* test_logout_token.c — Back-Channel Logout token validation: every claim
 * rule of OIDC BCL 1.0 §2.4 is refused with a reason naming it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "oauth_testutil.h"
#include "jose/logout_token_int.h"

#define ISS "https://idp.example.com"
#define CID "client-1"

static tkey K;
static char *g_jwks;
/* The key set (fetching g_jwks) and the arena every test verifies with;
 * made and freed by main. */
static authc__jwks *g_j;
static authc_arena *g_ar;

static authc_err fetch(void *ud, authc_arena *ar, char **json, size_t *len, char *why, size_t whylen)
{
    (void)ud, (void)why, (void)whylen;
    *json = authc_arena_strdup(ar, g_jwks);
    *len = strlen(*json);
    return AUTHC_OK;
}

static json_t *good_claims(int64_t now)
{
    return json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:{s:{}}}", "iss", ISS, "aud", CID, "sub", "user-42",
                     "iat", (json_int_t)now, "exp", (json_int_t)(now + 120), "jti", "j-1", "sid",
                     "sess-9", "events", AUTHC__BCL_EVENT);
}

/* Verifies claims signed with K; returns the error and the reason. */
static authc_err check(json_t *claims, char *why, size_t whylen, authc__logout_claims *out)
{
    char *tok = tk_sign(&K, claims);
    int64_t now = authc__now_ms() / 1000;
    authc__idtoken_expect x = {.issuer = ISS, .client_id = CID, .algs = AUTHC__ALG_ALL,
                               .now = now, .skew = -1, .nonce = "ignored"};
    authc__logout_claims tmp;
    authc_err e = authc__logout_token_verify(g_j, g_ar, tok, &x, out ? out : &tmp, why, whylen);
    free(tok);
    json_decref(claims);
    return e;
}

static void test_valid(void **st)
{
    (void)st;
    char why[256];
    authc__logout_claims c;
    int64_t now = authc__now_ms() / 1000;
    assert_int_equal(check(good_claims(now), why, sizeof why, &c), AUTHC_OK);
    assert_string_equal(c.sid, "sess-9");
    assert_string_equal(c.sub, "user-42");
    assert_string_equal(c.jti, "j-1");
    assert_int_equal(c.exp, now + 120);
    /* sub alone is enough; so is sid alone. */
    json_t *cl = good_claims(now);
    json_object_del(cl, "sid");
    assert_int_equal(check(cl, why, sizeof why, NULL), AUTHC_OK);
    cl = good_claims(now);
    json_object_del(cl, "sub");
    assert_int_equal(check(cl, why, sizeof why, NULL), AUTHC_OK);
}

static void refused(json_t *cl, const char *reason)
{
    char why[256] = "";
    if (check(cl, why, sizeof why, NULL) == AUTHC_OK)
        fail_msg("accepted a token that should fail: %s", reason);
    if (!strstr(why, reason))
        fail_msg("reason '%s' does not name '%s'", why, reason);
}

static void test_refused(void **st)
{
    (void)st;
    int64_t now = authc__now_ms() / 1000;
    json_t *c;
    c = good_claims(now), json_object_del(c, "events"), refused(c, "events");
    c = good_claims(now), json_object_set_new(c, "events", json_pack("{s:s}", AUTHC__BCL_EVENT, "x")),
    refused(c, "events");
    c = good_claims(now), json_object_set_new(c, "events", json_pack("{s:{}}", "http://other/event")),
    refused(c, "events");
    c = good_claims(now), json_object_del(c, "sub"), json_object_del(c, "sid"), refused(c, "neither sub nor sid");
    c = good_claims(now), json_object_del(c, "jti"), refused(c, "jti");
    c = good_claims(now), json_object_set_new(c, "nonce", json_string("n")), refused(c, "logout_token carries a nonce");
    c = good_claims(now), json_object_set_new(c, "iss", json_string("https://evil")), refused(c, "logout_token iss");
    c = good_claims(now), json_object_set_new(c, "aud", json_string("other")), refused(c, "logout_token aud");
    c = good_claims(now), json_object_del(c, "exp"), refused(c, "exp");
    c = good_claims(now), json_object_set_new(c, "exp", json_integer(now - 3600)), refused(c, "expired");
    c = good_claims(now), json_object_set_new(c, "iat", json_integer(now + 3600)), refused(c, "iat");
}

static void test_bad_signature_and_size(void **st)
{
    (void)st;
    char why[256];
    authc__jwks *j = g_j;
    authc_arena *ar = g_ar;
    int64_t now = authc__now_ms() / 1000;
    json_t *cl = good_claims(now);
    char *tok = tk_sign(&K, cl);
    json_decref(cl);
    tok[strlen(tok) - 2] ^= 1; /* flip a signature bit */
    authc__idtoken_expect x = {.issuer = ISS, .client_id = CID, .algs = AUTHC__ALG_ALL, .now = now, .skew = -1};
    authc__logout_claims out;
    assert_int_not_equal(authc__logout_token_verify(j, ar, tok, &x, &out, why, sizeof why), AUTHC_OK);
    assert_null(out.jti);
    char *big = calloc(1, AUTHC__LOGOUT_TOKEN_MAX + 2);
    memset(big, 'a', AUTHC__LOGOUT_TOKEN_MAX + 1);
    assert_int_equal(authc__logout_token_verify(j, ar, big, &x, &out, why, sizeof why), AUTHC_ERR_INVALID);
    assert_non_null(strstr(why, "longer than"));
    assert_int_equal(authc__logout_token_verify(j, ar, "a.b", &x, &out, why, sizeof why), AUTHC_ERR_INVALID);
    assert_non_null(strstr(why, "logout_token"));
    free(big);
    free(tok);
}

int main(void)
{
    K = tk_new("RS256", "k1");
    g_jwks = tk_jwks(&K, 1);
    g_j = authc__jwks_new(fetch, NULL);
    g_ar = authc_arena_new();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_bad_signature_and_size),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    authc_arena_free(g_ar);
    authc__jwks_free(g_j);
    free(g_jwks);
    EVP_PKEY_free(K.pk);
    return rc;
}
