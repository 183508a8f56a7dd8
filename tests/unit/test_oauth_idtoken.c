/* test_oauth_idtoken.c — ID token verification: signatures for every
 * supported alg with keys made here, the OIDC claim rules, and the JWKS
 * cache (refetch on unknown kid, negative cache, single-flight). */
#include "cmocka_main.h"

#include "oauth_testutil.h"

#define ISS "https://idp.example.com"
#define CID "client-1"

typedef struct fake_jwks {
    pthread_mutex_t mu;
    char *doc;           /* current JWKS text */
    int calls;
    int delay_ms;
    bool fail;
} fake_jwks;

static authc_err fake_fetch(void *ud, authc_arena *ar, char **json, size_t *len, char *why, size_t whylen)
{
    fake_jwks *f = ud;
    if (f->delay_ms)
        usleep((useconds_t)f->delay_ms * 1000);
    pthread_mutex_lock(&f->mu);
    f->calls++;
    bool fail = f->fail;
    *json = fail ? NULL : authc_arena_strdup(ar, f->doc);
    pthread_mutex_unlock(&f->mu);
    if (fail) {
        snprintf(why, whylen, "fake fetch failure");
        return AUTHC_ERR_IO;
    }
    *len = strlen(*json);
    return AUTHC_OK;
}

static tkey K_RS, K_PS, K_ES, K_ED, K_NEW;

static json_t *claims_now(int64_t now)
{
    return json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s}", "iss", ISS, "sub", "user-42", "aud", CID,
                     "iat", (json_int_t)now, "exp", (json_int_t)(now + 300), "nonce", "n-123", "email",
                     "a@example.com");
}

static authc__idtoken_expect expect(int64_t now)
{
    authc__idtoken_expect x = {.issuer = ISS, .client_id = CID, .nonce = "n-123",
                               .algs = AUTHC__ALG_ALL, .now = now, .skew = -1};
    return x;
}

typedef struct fixture {
    fake_jwks f;
    authc__jwks *j;
    authc_arena *ar;
    int64_t now;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    pthread_mutex_init(&fx->f.mu, NULL);
    tkey keys[] = {K_RS, K_PS, K_ES, K_ED};
    fx->f.doc = tk_jwks(keys, 4);
    fx->j = authc__jwks_new(fake_fetch, &fx->f);
    fx->ar = authc_arena_new();
    fx->now = authc__now_ms() / 1000;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    authc__jwks_free(fx->j);
    authc_arena_free(fx->ar);
    free(fx->f.doc);
    pthread_mutex_destroy(&fx->f.mu);
    free(fx);
    return 0;
}

static authc_err verify(fixture *fx, const char *tok, const authc__idtoken_expect *x, char *why)
{
    json_t *c = NULL;
    authc_err e = authc__idtoken_verify(fx->j, fx->ar, tok, x, &c, why, 256);
    if (!e) {
        assert_non_null(c);
        assert_string_equal(json_string_value(json_object_get(c, "sub")), "user-42");
    } else {
        assert_null(c);
    }
    json_decref(c);
    return e;
}

static void good_and_bad_signature_each_alg(void **state)
{
    fixture *fx = *state;
    const tkey *keys[] = {&K_RS, &K_PS, &K_ES, &K_ED};
    char why[256];
    for (size_t i = 0; i < 4; i++) {
        json_t *c = claims_now(fx->now);
        char *tok = tk_sign(keys[i], c);
        authc__idtoken_expect x = expect(fx->now);
        assert_int_equal(verify(fx, tok, &x, why), AUTHC_OK);
        /* Flip one signature bit. */
        size_t l = strlen(tok);
        tok[l - 3] = tok[l - 3] == 'A' ? 'B' : 'A';
        assert_int_equal(verify(fx, tok, &x, why), AUTHC_ERR_CRYPTO);
        free(tok);
        /* A changed payload under the original signature. */
        tok = tk_sign(keys[i], c);
        json_object_set_new(c, "sub", json_string("user-43"));
        char *other = tk_sign(keys[i], c);
        char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
        char *o1 = strchr(other, '.'), *o2 = strrchr(other, '.');
        char forged[8192];
        snprintf(forged, sizeof forged, "%.*s%.*s%s", (int)(d1 - tok), tok, (int)(o2 - o1), o1, d2);
        assert_int_equal(verify(fx, forged, &x, why), AUTHC_ERR_CRYPTO);
        free(tok), free(other);
        json_decref(c);
    }
    /* The JWKS was fetched once for all of that. */
    assert_int_equal(authc__jwks_fetch_count(fx->j), 1);
}

static void alg_must_be_allowed_and_match_key(void **state)
{
    fixture *fx = *state;
    char why[256];
    json_t *c = claims_now(fx->now);
    /* Default: RS256 only (no id_token_signing_alg_values_supported). */
    authc__idtoken_expect x = expect(fx->now);
    x.algs = 0;
    char *es = tk_sign(&K_ES, c);
    assert_int_equal(verify(fx, es, &x, why), AUTHC_ERR_INVALID);
    char *rs = tk_sign(&K_RS, c);
    assert_int_equal(verify(fx, rs, &x, why), AUTHC_OK);
    /* "none" and HS256 are never accepted. */
    x = expect(fx->now);
    char *none = tk_sign_ex(&K_RS, c, K_RS.kid, "none");
    assert_int_equal(verify(fx, none, &x, why), AUTHC_ERR_INVALID);
    char *hs = tk_sign_ex(&K_RS, c, K_RS.kid, "HS256");
    assert_int_equal(verify(fx, hs, &x, why), AUTHC_ERR_INVALID);
    /* RSA key's kid with an ES256 header: no such key → crypto failure. */
    char *mix = tk_sign_ex(&K_ES, c, K_RS.kid, NULL);
    assert_int_equal(verify(fx, mix, &x, why), AUTHC_ERR_CRYPTO);
    /* PS256 signature presented as RS256 with the same key. */
    char *ps_as_rs = tk_sign_ex(&K_PS, c, K_PS.kid, "RS256");
    assert_int_equal(verify(fx, ps_as_rs, &x, why), AUTHC_ERR_CRYPTO);
    /* No kid in the header: every key of the alg is tried. */
    char *nokid = tk_sign_ex(&K_ES, c, NULL, NULL);
    assert_int_equal(verify(fx, nokid, &x, why), AUTHC_OK);
    free(es), free(rs), free(none), free(hs), free(mix), free(ps_as_rs), free(nokid);
    json_decref(c);
}

static void claim_rules(void **state)
{
    fixture *fx = *state;
    char why[256];
    int64_t now = fx->now;
#define CASE(label, stmt, want_err)                                        \
    do {                                                                   \
        json_t *c = claims_now(now);                                       \
        stmt;                                                              \
        char *tok = tk_sign(&K_RS, c);                                     \
        authc__idtoken_expect x = expect(now);                             \
        authc_err got = verify(fx, tok, &x, why);                          \
        if (got != (want_err))                                             \
            fail_msg("%s: got %d want %d (%s)", label, got, want_err, why);\
        free(tok);                                                         \
        json_decref(c);                                                    \
    } while (0)
    CASE("baseline", (void)0, AUTHC_OK);
    CASE("wrong iss", json_object_set_new(c, "iss", json_string("https://evil.example.com")), AUTHC_ERR_INVALID);
    CASE("iss trailing slash", json_object_set_new(c, "iss", json_string(ISS "/")), AUTHC_ERR_INVALID);
    CASE("no iss", json_object_del(c, "iss"), AUTHC_ERR_INVALID);
    CASE("wrong aud", json_object_set_new(c, "aud", json_string("other")), AUTHC_ERR_INVALID);
    CASE("aud array with us + azp", (json_object_set_new(c, "aud", json_pack("[s,s]", "x", CID)),
                                     json_object_set_new(c, "azp", json_string(CID))), AUTHC_OK);
    CASE("aud array without azp", json_object_set_new(c, "aud", json_pack("[s,s]", "x", CID)), AUTHC_ERR_INVALID);
    CASE("aud array, azp other", (json_object_set_new(c, "aud", json_pack("[s,s]", CID, "x")),
                                  json_object_set_new(c, "azp", json_string("x"))), AUTHC_ERR_INVALID);
    CASE("single aud, wrong azp", json_object_set_new(c, "azp", json_string("x")), AUTHC_ERR_INVALID);
    CASE("aud array without us", json_object_set_new(c, "aud", json_pack("[s]", "x")), AUTHC_ERR_INVALID);
    CASE("expired 31s ago", json_object_set_new(c, "exp", json_integer(now - 31)), AUTHC_ERR_EXPIRED);
    CASE("expired 3600s ago", json_object_set_new(c, "exp", json_integer(now - 3600)), AUTHC_ERR_EXPIRED);
    CASE("exp 10s ago within skew", json_object_set_new(c, "exp", json_integer(now - 10)), AUTHC_OK);
    CASE("no exp", json_object_del(c, "exp"), AUTHC_ERR_INVALID);
    CASE("iat 120s in the future", json_object_set_new(c, "iat", json_integer(now + 120)), AUTHC_ERR_INVALID);
    CASE("iat 10s ahead within skew", json_object_set_new(c, "iat", json_integer(now + 10)), AUTHC_OK);
    CASE("no iat", json_object_del(c, "iat"), AUTHC_ERR_INVALID);
    CASE("nbf in the future", json_object_set_new(c, "nbf", json_integer(now + 120)), AUTHC_ERR_INVALID);
    CASE("nonce mismatch", json_object_set_new(c, "nonce", json_string("n-124")), AUTHC_ERR_INVALID);
    CASE("nonce missing", json_object_del(c, "nonce"), AUTHC_ERR_INVALID);
    CASE("no sub", json_object_del(c, "sub"), AUTHC_ERR_INVALID);
#undef CASE
    /* Nonce sent by nobody but present in the token. */
    json_t *c = claims_now(now);
    char *tok = tk_sign(&K_RS, c);
    authc__idtoken_expect x = expect(now);
    x.nonce = NULL;
    assert_int_equal(verify(fx, tok, &x, why), AUTHC_ERR_INVALID);
    json_object_del(c, "nonce");
    free(tok);
    tok = tk_sign(&K_RS, c);
    assert_int_equal(verify(fx, tok, &x, why), AUTHC_OK);
    free(tok);
    json_decref(c);
    /* Malformed tokens. */
    x = expect(now);
    assert_int_equal(verify(fx, "a.b", &x, why), AUTHC_ERR_INVALID);
    assert_int_equal(verify(fx, "a.b.c.d.e", &x, why), AUTHC_ERR_INVALID);
    assert_int_equal(verify(fx, "", &x, why), AUTHC_ERR_INVALID);
    assert_int_equal(verify(fx, "e30.e30.AA", &x, why), AUTHC_ERR_INVALID);
}

static void unknown_kid_refetches_once(void **state)
{
    fixture *fx = *state;
    char why[256];
    json_t *c = claims_now(fx->now);
    authc__idtoken_expect x = expect(fx->now);
    char *old = tk_sign(&K_RS, c);
    assert_int_equal(verify(fx, old, &x, why), AUTHC_OK);
    assert_int_equal(authc__jwks_fetch_count(fx->j), 1);
    /* The IdP rotates: a new key (new kid) signs from now on. */
    char *tok = tk_sign(&K_NEW, c);
    assert_int_equal(verify(fx, tok, &x, why), AUTHC_ERR_CRYPTO); /* not published yet */
    assert_int_equal(authc__jwks_fetch_count(fx->j), 2);
    /* Same unknown kid again soon: no new fetch (negative cache). */
    assert_int_equal(verify(fx, tok, &x, why), AUTHC_ERR_CRYPTO);
    assert_int_equal(authc__jwks_fetch_count(fx->j), 2);
    /* Another unknown kid does refetch; now the JWKS has the new key. */
    tkey rotated = K_NEW;
    snprintf(rotated.kid, sizeof rotated.kid, "rotated-2");
    tkey keys[] = {K_RS, rotated};
    pthread_mutex_lock(&fx->f.mu);
    free(fx->f.doc);
    fx->f.doc = tk_jwks(keys, 2);
    pthread_mutex_unlock(&fx->f.mu);
    char *tok2 = tk_sign(&rotated, c);
    assert_int_equal(verify(fx, tok2, &x, why), AUTHC_OK);
    assert_int_equal(authc__jwks_fetch_count(fx->j), 3);
    /* Known kids keep working without fetching; a removed key stops. */
    assert_int_equal(verify(fx, old, &x, why), AUTHC_OK);
    assert_int_equal(verify(fx, tok2, &x, why), AUTHC_OK);
    assert_int_equal(authc__jwks_fetch_count(fx->j), 3);
    char *es = tk_sign(&K_ES, c);
    assert_int_equal(verify(fx, es, &x, why), AUTHC_ERR_CRYPTO);
    free(old), free(tok), free(tok2), free(es);
    json_decref(c);
}

typedef struct tharg {
    fixture *fx;
    const char *tok;
    authc_err e;
} tharg;

static void *th_verify(void *p)
{
    tharg *t = p;
    authc_arena *ar = authc_arena_new();
    authc__idtoken_expect x = expect(t->fx->now);
    json_t *c = NULL;
    char why[256];
    t->e = authc__idtoken_verify(t->fx->j, ar, t->tok, &x, &c, why, sizeof why);
    json_decref(c);
    authc_arena_free(ar);
    return NULL;
}

static void single_flight_fetch(void **state)
{
    fixture *fx = *state;
    fx->f.delay_ms = 200;
    json_t *c = claims_now(fx->now);
    char *tok = tk_sign(&K_ES, c);
    pthread_t th[8];
    tharg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (tharg){.fx = fx, .tok = tok, .e = -1};
        pthread_create(&th[i], NULL, th_verify, &args[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].e, AUTHC_OK);
    }
    assert_int_equal(authc__jwks_fetch_count(fx->j), 1);
    free(tok);
    json_decref(c);
}

static void fetch_failure_is_an_error_not_a_crash(void **state)
{
    fixture *fx = *state;
    fx->f.fail = true;
    json_t *c = claims_now(fx->now);
    char *tok = tk_sign(&K_RS, c);
    authc__idtoken_expect x = expect(fx->now);
    char why[256];
    assert_int_equal(verify(fx, tok, &x, why), AUTHC_ERR_IO);
    /* A JWKS that is not JSON, and one with a weak RSA key only. */
    fx->f.fail = false;
    free(fx->f.doc);
    fx->f.doc = strdup("<html>");
    assert_int_not_equal(verify(fx, tok, &x, why), AUTHC_OK);
    tkey weak = {.pk = tk_gen("RS256", 1024), .alg = "RS256"};
    snprintf(weak.kid, sizeof weak.kid, "%s", K_RS.kid);
    free(fx->f.doc);
    fx->f.doc = tk_jwks(&weak, 1);
    char *wt = tk_sign(&weak, c);
    assert_int_equal(verify(fx, wt, &x, why), AUTHC_ERR_CRYPTO);
    EVP_PKEY_free(weak.pk);
    free(tok), free(wt);
    json_decref(c);
}

static void peek_claims(void **state)
{
    fixture *fx = *state;
    json_t *c = claims_now(fx->now);
    json_object_set_new(c, "tid", json_string("tenant-1"));
    char *tok = tk_sign(&K_RS, c);
    json_t *p = authc__jws_peek_claims(fx->ar, tok);
    assert_string_equal(json_string_value(json_object_get(p, "tid")), "tenant-1");
    json_decref(p);
    assert_null(authc__jws_peek_claims(fx->ar, "x.y"));
    free(tok);
    json_decref(c);
}

/* The signing keys, made once for the whole group. */
static int keys_new(void **state)
{
    (void)state;
    K_RS = tk_new("RS256", "rs-1");
    K_PS = tk_new("PS256", "ps-1");
    K_ES = tk_new("ES256", "es-1");
    K_ED = tk_new("EdDSA", "ed-1");
    K_NEW = tk_new("RS256", "rotated-1");
    return 0;
}

static int keys_free(void **state)
{
    (void)state;
    EVP_PKEY_free(K_RS.pk);
    EVP_PKEY_free(K_PS.pk);
    EVP_PKEY_free(K_ES.pk);
    EVP_PKEY_free(K_ED.pk);
    EVP_PKEY_free(K_NEW.pk);
    return 0;
}

/* Each test with a fresh fixture. */
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
TU_MAIN(keys_new, keys_free,
        T(good_and_bad_signature_each_alg), T(alg_must_be_allowed_and_match_key), T(claim_rules),
        T(unknown_kid_refetches_once), T(single_flight_fetch),
        T(fetch_failure_is_an_error_not_a_crash), T(peek_claims))
