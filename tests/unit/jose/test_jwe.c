/* test_jwe.c — unit tests of the session JWE/JWT (lib/jose/jwe.c) against
 * the Auth.js vectors (authjs-jwt.json), cjose, and hand-built tokens. */
#include "cmocka_main.h"

#include <cjose/cjose.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>

#include "jose/jose_int.h"
#include "util/util_int.h"

#include "arena_fixture.h" /* `ar`, fresh per test */

static json_t *g_vec;      /* authjs-jwt.json, loaded once */

#define T0 1795590478LL    /* a fixed "now" for our own tokens */

/* ---- fixtures ---------------------------------------------------------- */

static int load_vectors(void **state)
{
    (void)state;
    char path[4096];
    const char *dir = getenv("AUTHC_VECTORS");
    if (dir && *dir) {
        snprintf(path, sizeof path, "%s/authjs-jwt.json", dir);
    } else {
        const char *src = getenv("AUTHC_SOURCE_DIR");
        snprintf(path, sizeof path, "%s/tests/vectors/authjs-jwt.json", src ? src : ".");
    }
    json_error_t e;
    g_vec = json_load_file(path, 0, &e);
    if (!g_vec) {
        fprintf(stderr, "cannot load %s: %s\n", path, e.text);
        return -1;
    }
    return 0;
}

static int free_vectors(void **state)
{
    (void)state;
    json_decref(g_vec);
    return 0;
}

static json_t *cases(void)
{
    json_t *c = json_object_get(g_vec, "cases");
    assert_true(json_is_array(c));
    assert_true(json_array_size(c) > 0);
    return c;
}

static const char *str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static const char *first_secret(json_t *s)
{
    if (json_is_array(s))
        s = json_array_get(s, 0);
    assert_true(json_is_string(s));
    return json_string_value(s);
}

static void derive(authc__jwe_key *k, const char *secret, const char *salt)
{
    assert_int_equal(authc__jwe_derive(k, secret, salt), AUTHC_OK);
}

/* Keys for decodeWith: a string or an array of secrets, in order. */
static size_t derive_set(authc__jwe_key *keys, size_t cap, json_t *dw)
{
    json_t *s = json_object_get(dw, "secret");
    const char *salt = str(dw, "salt");
    if (json_is_string(s)) {
        derive(&keys[0], json_string_value(s), salt);
        return 1;
    }
    assert_true(json_is_array(s));
    size_t n = json_array_size(s);
    assert_true(n > 0 && n <= cap);
    for (size_t i = 0; i < n; i++)
        derive(&keys[i], first_secret(json_array_get(s, i)), salt);
    return n;
}

/* Our error class for the error decode() threw in the vectors. An unknown
 * name fails the test so a new vector gets an explicit mapping. */
static authc_err expected_err(json_t *err)
{
    json_t *code = json_object_get(err, "code");
    const char *msg = str(err, "message");
    if (json_is_string(code)) {
        const char *c = json_string_value(code);
        if (strcmp(c, "ERR_JWT_EXPIRED") == 0)
            return AUTHC_ERR_EXPIRED;
        if (strcmp(c, "ERR_JWE_DECRYPTION_FAILED") == 0)
            return AUTHC_ERR_CRYPTO;
        if (strcmp(c, "ERR_JWE_INVALID") == 0 || strcmp(c, "ERR_JWT_INVALID") == 0 ||
            strcmp(c, "ERR_JWT_CLAIM_VALIDATION_FAILED") == 0 ||
            strcmp(c, "ERR_JOSE_ALG_NOT_ALLOWED") == 0 ||
            strcmp(c, "ERR_JOSE_NOT_SUPPORTED") == 0)
            return AUTHC_ERR_INVALID;
    } else if (strcmp(msg, "no matching decryption secret") == 0) {
        return AUTHC_ERR_CRYPTO;
    }
    fail_msg("no mapping for vector error %s", msg);
    return AUTHC_OK;
}

static authc_err decode_at(const authc__jwe_key *keys, size_t n, const char *tok,
                           int64_t now, json_t **claims)
{
    return authc__jwt_decode(ar, keys, n, tok, strlen(tok), now, claims);
}

/* Decodes and drops the claims; returns the error. */
/* A token for {"sub": sub} under k, valid 60 s from T0 (string in ar). */
static char *sub_token(const authc__jwe_key *k, const char *sub)
{
    json_t *claims = json_pack("{s:s}", "sub", sub);
    char *tok;
    assert_int_equal(authc__jwt_encode(ar, k, claims, 60, T0, &tok), AUTHC_OK);
    json_decref(claims);
    return tok;
}

static authc_err try_decode(const authc__jwe_key *keys, size_t n, const char *tok, int64_t now)
{
    json_t *c = NULL;
    authc_err e = decode_at(keys, n, tok, now, &c);
    if (e == AUTHC_OK)
        assert_non_null(c);
    else
        assert_null(c);
    json_decref(c);
    return e;
}

/* Splits a compact token into 5 segment copies (arena). */
static void split(const char *tok, char *seg[5])
{
    const char *p = tok;
    for (int i = 0; i < 5; i++) {
        const char *d = strchr(p, '.');
        size_t l = d ? (size_t)(d - p) : strlen(p);
        assert_true(i == 4 ? d == NULL : d != NULL);
        seg[i] = authc_arena_strndup(ar, p, l);
        p = d ? d + 1 : p + l;
    }
}

static char *join(char *seg[5])
{
    return authc_arena_printf(ar, "%s.%s.%s.%s.%s", seg[0], seg[1], seg[2], seg[3], seg[4]);
}

/* Token with one decoded byte of segment si XORed with mask. */
static char *flip(const char *tok, int si, size_t byte, uint8_t mask)
{
    char *seg[5];
    split(tok, seg);
    size_t n;
    uint8_t *b = authc__b64url_decode(ar, seg[si], strlen(seg[si]), &n);
    assert_non_null(b);
    assert_true(byte < n);
    b[byte] ^= mask;
    seg[si] = authc__b64url_encode(ar, b, n);
    return join(seg);
}

static size_t seg_bytes(const char *tok, int si)
{
    char *seg[5];
    split(tok, seg);
    size_t n;
    assert_non_null(authc__b64url_decode(ar, seg[si], strlen(seg[si]), &n));
    return n;
}

/* Independent A256CBC-HS512 encryptor (one-shot OpenSSL calls) so tests
 * can make tokens with any header JSON and any payload bytes; padding 0
 * encrypts a block-aligned payload as it is (a wrong PKCS#7 tail). */
static char *mk_cbc_ex(const uint8_t key[64], const char *hdr, const char *payload, size_t plen,
                       int padding)
{
    uint8_t iv[16], ct[4096 + 16], mac[64], al[8];
    assert_true(plen <= 4096);
    assert_int_equal(RAND_bytes(iv, sizeof iv), 1);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l1 = 0, l2 = 0;
    assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_256_cbc(), NULL, key + 32, iv), 1);
    assert_int_equal(EVP_CIPHER_CTX_set_padding(c, padding), 1);
    assert_int_equal(EVP_EncryptUpdate(c, ct, &l1, (const uint8_t *)payload, (int)plen), 1);
    assert_int_equal(EVP_EncryptFinal_ex(c, ct + l1, &l2), 1);
    EVP_CIPHER_CTX_free(c);
    size_t ctlen = (size_t)(l1 + l2);
    char *h = authc__b64url_encode(ar, (const uint8_t *)hdr, strlen(hdr));
    size_t hl = strlen(h);
    uint64_t bits = hl * 8;
    for (int i = 0; i < 8; i++)
        al[i] = (uint8_t)(bits >> (56 - 8 * i));
    size_t ml = hl + 16 + ctlen + 8;
    uint8_t *m = authc_arena_alloc(ar, ml);
    memcpy(m, h, hl);
    memcpy(m + hl, iv, 16);
    memcpy(m + hl + 16, ct, ctlen);
    memcpy(m + hl + 16 + ctlen, al, 8);
    unsigned mlen = 0;
    assert_non_null(HMAC(EVP_sha512(), key, 32, m, ml, mac, &mlen));
    assert_int_equal(mlen, 64);
    return authc_arena_printf(ar, "%s..%s.%s.%s", h, authc__b64url_encode(ar, iv, 16),
                              authc__b64url_encode(ar, ct, ctlen),
                              authc__b64url_encode(ar, mac, 32));
}

static char *mk_cbc(const uint8_t key[64], const char *hdr, const char *payload, size_t plen)
{
    return mk_cbc_ex(key, hdr, payload, plen, 1);
}

static char *canon_hdr(const authc__jwe_key *k)
{
    return authc_arena_printf(ar, "{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\",\"kid\":\"%s\"}", k->kid);
}

/* cjose-made token (an independent JOSE implementation). kid may be NULL. */
static char *mk_cjose(const uint8_t *key, size_t klen, const char *enc, const char *kid,
                      const char *payload)
{
    cjose_err err;
    cjose_jwk_t *jwk = cjose_jwk_create_oct_spec(key, klen, &err);
    cjose_header_t *h = cjose_header_new(&err);
    assert_non_null(jwk);
    assert_non_null(h);
    assert_true(cjose_header_set(h, CJOSE_HDR_ALG, CJOSE_HDR_ALG_DIR, &err));
    assert_true(cjose_header_set(h, CJOSE_HDR_ENC, enc, &err));
    if (kid)
        assert_true(cjose_header_set(h, CJOSE_HDR_KID, kid, &err));
    cjose_jwe_t *jwe = cjose_jwe_encrypt(jwk, h, (const uint8_t *)payload, strlen(payload), &err);
    assert_non_null(jwe);
    char *s = cjose_jwe_export(jwe, &err);
    assert_non_null(s);
    char *r = authc_arena_strdup(ar, s);
    free(s);
    cjose_jwe_release(jwe);
    cjose_header_release(h);
    cjose_jwk_release(jwk);
    return r;
}

/* Plaintext of tok decrypted by cjose with key (NULL on failure; arena). */
static char *cjose_open(const uint8_t *key, size_t klen, const char *tok)
{
    cjose_err err;
    cjose_jwk_t *jwk = cjose_jwk_create_oct_spec(key, klen, &err);
    cjose_jwe_t *jwe = cjose_jwe_import(tok, strlen(tok), &err);
    assert_non_null(jwk);
    assert_non_null(jwe);
    size_t n = 0;
    uint8_t *p = cjose_jwe_decrypt(jwe, jwk, &n, &err);
    char *r = p ? authc_arena_strndup(ar, (const char *)p, n) : NULL;
    free(p);
    cjose_jwe_release(jwe);
    cjose_jwk_release(jwk);
    return r;
}

/* ---- vectors ----------------------------------------------------------- */

static void test_vectors_derive(void **state)
{
    (void)state;
    json_t *cs = cases(), *c;
    for (size_t i = 0; (c = json_array_get(cs, i)); i++) {
        authc__jwe_key k;
        derive(&k, first_secret(json_object_get(c, "secret")), str(c, "salt"));
        const char *want = str(c, "encryptionKeyHex");
        size_t klen = strlen(want) / 2;
        assert_true(klen == 64 || klen == 32);
        char hex[129];
        authc__hex(hex, k.key, klen);
        if (strcmp(hex, want) != 0)
            fail_msg("%s: derived key differs", str(c, "id"));
        const char *tp = klen == 64 ? k.kid : k.kid_gcm;
        if (strcmp(tp, str(c, "keyThumbprint")) != 0)
            fail_msg("%s: thumbprint %s", str(c, "id"), tp);
        json_t *kid = json_object_get(json_object_get(c, "header"), "kid");
        if (kid)
            assert_string_equal(json_string_value(kid), tp);
        assert_int_equal(strlen(k.kid), 86);
        assert_int_equal(strlen(k.kid_gcm), 43);
    }
}

static void test_vectors_decode(void **state)
{
    (void)state;
    json_t *cs = cases(), *c;
    for (size_t i = 0; (c = json_array_get(cs, i)); i++) {
        const char *id = str(c, "id");
        const char *tok = str(c, "token");
        assert_int_equal(strlen(tok), json_integer_value(json_object_get(c, "tokenLength")));
        authc__jwe_key keys[8];
        size_t nk = derive_set(keys, 8, json_object_get(c, "decodeWith"));
        int64_t now = json_integer_value(json_object_get(c, "verifiedAtUnix"));
        assert_true(now > 0);
        json_t *claims = NULL;
        authc_err e = decode_at(keys, nk, tok, now, &claims);
        const char *expect = str(c, "expect");
        if (strcmp(expect, "ok") == 0) {
            if (e != AUTHC_OK)
                fail_msg("%s: decode failed: %d", id, e);
            if (!json_equal(claims, json_object_get(c, "decoded")))
                fail_msg("%s: decoded claims differ", id);
        } else {
            assert_string_equal(expect, "error");
            authc_err want = expected_err(json_object_get(c, "error"));
            if (e != want)
                fail_msg("%s: got %d want %d", id, e, want);
            assert_null(claims);
        }
        json_decref(claims);

        /* A flipped-byte case must decode once the flip is undone, so the
         * failure above is due to that byte alone. */
        json_t *t = json_object_get(c, "tamper");
        if (t) {
            int si = (int)json_integer_value(json_object_get(t, "segment"));
            size_t bi = (size_t)json_integer_value(json_object_get(t, "byteIndex"));
            uint8_t x = (uint8_t)json_integer_value(json_object_get(t, "xor"));
            assert_true(si >= 2 && si <= 4 && x != 0);
            char *fixed = flip(tok, si, bi, x);
            if (try_decode(keys, nk, fixed, now) != AUTHC_OK)
                fail_msg("%s: untampered token does not decode", id);
        }
    }
}

/* For every vector token we can decrypt: the 15 s tolerance around exp. */
static void test_vectors_tolerance(void **state)
{
    (void)state;
    json_t *cs = cases(), *c;
    size_t checked = 0;
    for (size_t i = 0; (c = json_array_get(cs, i)); i++) {
        const char *tok = str(c, "token");
        authc__jwe_key k;
        derive(&k, first_secret(json_object_get(c, "secret")), str(c, "salt"));
        uint8_t *pt;
        size_t n;
        if (authc__jwe_decrypt(ar, &k, 1, tok, strlen(tok), &pt, &n) != AUTHC_OK)
            continue; /* tampered ones */
        assert_int_equal(strlen((char *)pt), n);
        json_t *p = json_loadb((char *)pt, n, 0, NULL);
        assert_true(json_is_object(p));
        json_t *exp = json_object_get(p, "exp");
        assert_true(json_is_integer(exp));
        int64_t x = json_integer_value(exp);
        json_decref(p);
        assert_int_equal(try_decode(&k, 1, tok, x - 100), AUTHC_OK);
        assert_int_equal(try_decode(&k, 1, tok, x + 10), AUTHC_OK);
        assert_int_equal(try_decode(&k, 1, tok, x + 14), AUTHC_OK);
        assert_int_equal(try_decode(&k, 1, tok, x + 15), AUTHC_ERR_EXPIRED);
        assert_int_equal(try_decode(&k, 1, tok, x + 20), AUTHC_ERR_EXPIRED);
        checked++;
    }
    assert_true(checked >= 10);
}

/* ---- our own tokens ---------------------------------------------------- */

static void test_roundtrip_header_order(void **state)
{
    (void)state;
    authc__jwe_key k;
    derive(&k, "round-trip-secret", "authjs.session-token");
    json_t *claims = json_pack("{s:i,s:s,s:s,s:n,s:{s:b}}", "iat", 5, "name", "Al", "sub", "1",
                               "picture", "x", "y", true);
    char *tok = NULL;
    assert_int_equal(authc__jwt_encode(ar, &k, claims, 3600, T0, &tok), AUTHC_OK);
    /* The caller's claims are untouched. */
    assert_int_equal(json_integer_value(json_object_get(claims, "iat")), 5);
    assert_null(json_object_get(claims, "exp"));
    assert_null(json_object_get(claims, "jti"));

    /* Exact header, empty key segment, 16-byte iv, 32-byte tag. */
    char *seg[5];
    split(tok, seg);
    size_t n;
    char *h = (char *)authc__b64url_decode(ar, seg[0], strlen(seg[0]), &n);
    assert_non_null(h);
    assert_string_equal(h, canon_hdr(&k));
    assert_string_equal(seg[1], "");
    assert_int_equal(seg_bytes(tok, 2), 16);
    assert_int_equal(seg_bytes(tok, 4), 32);
    assert_int_equal(seg_bytes(tok, 3) % 16, 0);

    /* Plaintext: claims first in their order, iat in place, then exp, jti. */
    uint8_t *pt;
    assert_int_equal(authc__jwe_decrypt(ar, &k, 1, tok, strlen(tok), &pt, &n), AUTHC_OK);
    char *want = authc_arena_printf(ar,
        "{\"iat\":%lld,\"name\":\"Al\",\"sub\":\"1\",\"picture\":null,\"x\":{\"y\":true},\"exp\":%lld,\"jti\":\"",
        T0, T0 + 3600);
    assert_int_equal(n, strlen(want) + 38);
    assert_memory_equal(pt, want, strlen(want));
    const char *jti = (char *)pt + strlen(want);
    assert_string_equal(jti + 36, "\"}");
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(jti[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", jti[i]));
    }
    assert_int_equal(jti[14], '4');
    assert_non_null(strchr("89ab", jti[19]));

    /* An independent implementation reads the same plaintext. */
    char *cj = cjose_open(k.key, 64, tok);
    assert_non_null(cj);
    assert_string_equal(cj, (char *)pt);

    /* decode() gives the same claims. */
    json_t *d = NULL;
    assert_int_equal(decode_at(&k, 1, tok, T0, &d), AUTHC_OK);
    json_t *p = json_loads((char *)pt, 0, NULL);
    assert_true(json_equal(d, p));
    assert_int_equal(json_integer_value(json_object_get(d, "exp")), T0 + 3600);
    assert_int_equal(json_integer_value(json_object_get(d, "iat")), T0);
    json_decref(p);
    json_decref(d);

    /* Two encodes differ (iv, jti). */
    char *tok2 = NULL;
    assert_int_equal(authc__jwt_encode(ar, &k, claims, 3600, T0, &tok2), AUTHC_OK);
    assert_string_not_equal(tok, tok2);
    json_decref(claims);

    /* Non-object claims are refused. */
    json_t *arr = json_array();
    assert_int_equal(authc__jwt_encode(ar, &k, arr, 1, T0, &tok), AUTHC_ERR_INVALID);
    json_decref(arr);
}

/* authc keeps one AES context per key and thread, never re-initialised
 * (the IV goes in through the first block): every token must still be
 * plain CBC under its own IV, whatever came before it on the thread. */
static void test_encrypt_raw(void **state)
{
    (void)state;
    authc__jwe_key k;
    derive(&k, "raw", "x");
    uint8_t in[80];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 37 + 1);
    in[3] = 0;
    for (size_t n = 0; n <= sizeof in; n++) {
        char *tok, *seg[5];
        assert_int_equal(authc__jwe_encrypt(ar, &k, in, n, &tok), AUTHC_OK);
        assert_int_equal(seg_bytes(tok, 3), (n / 16 + 1) * 16);
        /* An independent one-shot decrypt with the token's IV. */
        split(tok, seg);
        size_t ivn, ctn;
        uint8_t *iv = authc__b64url_decode(ar, seg[2], strlen(seg[2]), &ivn);
        uint8_t *ct = authc__b64url_decode(ar, seg[3], strlen(seg[3]), &ctn);
        assert_non_null(iv);
        assert_non_null(ct);
        uint8_t out[128];
        int l1 = 0, l2 = 0;
        EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
        assert_int_equal(EVP_DecryptInit_ex(c, EVP_aes_256_cbc(), NULL, k.key + 32, iv), 1);
        assert_int_equal(EVP_DecryptUpdate(c, out, &l1, ct, (int)ctn), 1);
        assert_int_equal(EVP_DecryptFinal_ex(c, out + l1, &l2), 1);
        EVP_CIPHER_CTX_free(c);
        assert_int_equal((size_t)(l1 + l2), n);
        assert_memory_equal(out, in, n);
        /* authc's own token, after one from another encryptor. */
        const char *both[2] = {mk_cbc(k.key, canon_hdr(&k), (const char *)in, n), tok};
        for (int w = 0; w < 2; w++) {
            uint8_t *pt;
            size_t m;
            assert_int_equal(authc__jwe_decrypt(ar, &k, 1, both[w], strlen(both[w]), &pt, &m), AUTHC_OK);
            assert_int_equal(m, n);
            assert_memory_equal(pt, in, n);
            assert_int_equal(pt[n], 0);
        }
    }
}

/* A wrong PKCS#7 tail under a good tag is refused (authc removes the
 * padding itself). */
static void test_cbc_padding(void **state)
{
    (void)state;
    authc__jwe_key k;
    derive(&k, "chain", "authjs.session-token");
    /* Good tag, bad padding: a 0 tail, a tail over 16, mixed tails. */
    static const uint8_t tails[][4] = {{1, 1, 1, 0}, {1, 1, 1, 17}, {1, 1, 3, 2}, {9, 3, 2, 3}};
    for (size_t t = 0; t < sizeof tails / sizeof *tails; t++) {
        char blk[32];
        memset(blk, 'x', sizeof blk);
        memcpy(blk + 28, tails[t], 4);
        char *bad = mk_cbc_ex(k.key, canon_hdr(&k), blk, sizeof blk, 0);
        uint8_t *pt;
        size_t m;
        assert_int_equal(authc__jwe_decrypt(ar, &k, 1, bad, strlen(bad), &pt, &m), AUTHC_ERR_CRYPTO);
    }
    /* A full block of padding, written by hand, is good. */
    char blk[32];
    memset(blk, 'y', 16);
    memset(blk + 16, 16, 16);
    char *full = mk_cbc_ex(k.key, canon_hdr(&k), blk, sizeof blk, 0);
    uint8_t *pt;
    size_t m;
    assert_int_equal(authc__jwe_decrypt(ar, &k, 1, full, strlen(full), &pt, &m), AUTHC_OK);
    assert_int_equal(m, 16);
    assert_memory_equal(pt, blk, 16);
}

static void test_tamper(void **state)
{
    (void)state;
    authc__jwe_key k;
    derive(&k, "tamper-secret", "authjs.session-token");
    char *tok = sub_token(&k, "42");
    assert_int_equal(try_decode(&k, 1, tok, T0), AUTHC_OK);

    /* Every byte of iv, ciphertext and tag. */
    for (int si = 2; si <= 4; si++) {
        size_t n = seg_bytes(tok, si);
        for (size_t b = 0; b < n; b++)
            for (int bit = 0; bit < 8; bit += 7)
                assert_int_equal(try_decode(&k, 1, flip(tok, si, b, (uint8_t)(1u << bit)), T0),
                                 AUTHC_ERR_CRYPTO);
    }
    /* Every character of the token replaced by another one. */
    size_t len = strlen(tok);
    char *t = authc_arena_strdup(ar, tok);
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '.')
            continue;
        char o = t[i];
        t[i] = o == 'A' ? 'B' : 'A';
        assert_int_not_equal(try_decode(&k, 1, t, T0), AUTHC_OK);
        t[i] = o;
    }
    assert_int_equal(try_decode(&k, 1, t, T0), AUTHC_OK);

    /* Same header meaning, other bytes: the AAD binds the exact segment. */
    char *seg[5], *seg2[5];
    split(tok, seg);
    split(mk_cbc(k.key, canon_hdr(&k), "{}", 2), seg2);
    char *spaced = authc_arena_printf(ar, "{\"alg\":\"dir\", \"enc\":\"A256CBC-HS512\",\"kid\":\"%s\"}", k.kid);
    seg[0] = authc__b64url_encode(ar, (uint8_t *)spaced, strlen(spaced));
    assert_int_equal(try_decode(&k, 1, join(seg), T0), AUTHC_ERR_CRYPTO);
    /* Pieces of two valid tokens do not make a valid one. */
    split(tok, seg);
    seg[4] = seg2[4];
    assert_int_equal(try_decode(&k, 1, join(seg), T0), AUTHC_ERR_CRYPTO);
    split(tok, seg);
    seg[2] = seg2[2];
    assert_int_equal(try_decode(&k, 1, join(seg), T0), AUTHC_ERR_CRYPTO);
}

static void test_keys_salt_rotation(void **state)
{
    (void)state;
    authc__jwe_key http, https, k[3];
    derive(&http, "s3cret", "authjs.session-token");
    derive(&https, "s3cret", "__Secure-authjs.session-token");
    assert_memory_not_equal(http.key, https.key, 64);
    char *tok = sub_token(&http, "1");
    assert_int_equal(try_decode(&https, 1, tok, T0), AUTHC_ERR_CRYPTO);
    assert_int_equal(try_decode(&http, 1, tok, T0), AUTHC_OK);
    /* Same salt, another secret. */
    derive(&k[0], "other", "authjs.session-token");
    assert_int_equal(try_decode(&k[0], 1, tok, T0), AUTHC_ERR_CRYPTO);

    /* kid picks the key anywhere in the list. */
    derive(&k[0], "new", "authjs.session-token");
    derive(&k[1], "mid", "authjs.session-token");
    derive(&k[2], "old", "authjs.session-token");
    char *old = sub_token(&k[2], "1");
    assert_int_equal(try_decode(k, 3, old, T0), AUTHC_OK);
    assert_int_equal(try_decode(k, 2, old, T0), AUTHC_ERR_CRYPTO);
    assert_int_equal(try_decode(k, 0, old, T0), AUTHC_ERR_CRYPTO);

    /* No kid: the first key only. */
    const char *nokid = "{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\"}";
    char *t1 = mk_cbc(k[2].key, nokid, "{\"a\":1}", 7);
    assert_int_equal(try_decode(k, 3, t1, T0), AUTHC_ERR_CRYPTO);
    assert_int_equal(try_decode(&k[2], 1, t1, T0), AUTHC_OK);
    char *t0 = mk_cbc(k[0].key, nokid, "{\"a\":1}", 7);
    json_t *d = NULL;
    assert_int_equal(decode_at(k, 3, t0, T0, &d), AUTHC_OK);
    assert_int_equal(json_integer_value(json_object_get(d, "a")), 1);
    json_decref(d);

    /* Empty secret refused; derive is deterministic. */
    assert_int_equal(authc__jwe_derive(&k[0], "", "x"), AUTHC_ERR_INVALID);
    derive(&k[0], "s3cret", "authjs.session-token");
    assert_memory_equal(k[0].key, http.key, 64);
    assert_string_equal(k[0].kid, http.kid);
}

static void test_header_variants(void **state)
{
    (void)state;
    authc__jwe_key k;
    derive(&k, "hdr-secret", "authjs.session-token");
    const char *pl = "{\"sub\":\"1\"}";
    size_t pn = strlen(pl);
    /* Accepted through the general parser: other order, whitespace. */
    char *h = authc_arena_printf(ar, " { \"kid\" : \"%s\", \"enc\":\"A256CBC-HS512\",\"alg\":\"dir\" }", k.kid);
    assert_int_equal(try_decode(&k, 1, mk_cbc(k.key, h, pl, pn), T0), AUTHC_OK);
    /* The canonical header through the fast path. */
    assert_int_equal(try_decode(&k, 1, mk_cbc(k.key, canon_hdr(&k), pl, pn), T0), AUTHC_OK);
    /* The tag covers the header as sent: swapping a variant and the
     * canonical header (whose MAC prefix is precomputed) either way fails. */
    /* (Same length as the canonical header, so only its bytes differ.) */
    h = authc_arena_printf(ar, "{\"kid\":\"%s\",\"enc\":\"A256CBC-HS512\",\"alg\":\"dir\"}", k.kid);
    assert_int_equal(strlen(h), strlen(canon_hdr(&k)));
    char *tv = mk_cbc(k.key, h, pl, pn), *tc = mk_cbc(k.key, canon_hdr(&k), pl, pn);
    assert_int_equal(try_decode(&k, 1, tv, T0), AUTHC_OK);
    char *dv = strchr(tv, '.'), *dc = strchr(tc, '.');
    char *swap1 = authc_arena_printf(ar, "%.*s%s", (int)(dc - tc), tc, dv);
    char *swap2 = authc_arena_printf(ar, "%.*s%s", (int)(dv - tv), tv, dc);
    assert_int_equal(try_decode(&k, 1, swap1, T0), AUTHC_ERR_CRYPTO);
    assert_int_equal(try_decode(&k, 1, swap2, T0), AUTHC_ERR_CRYPTO);

    /* Rejected headers (the token is otherwise valid for k, so a MAC error
     * would show as CRYPTO, not INVALID). */
    const char *bad[] = {
        "{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\",\"kid\":\"%s\",\"zip\":\"DEF\"}",
        "{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\",\"kid\":\"%s\",\"crit\":[\"exp\"]}",
        "{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\",\"kid\":\"%s\",\"typ\":\"JWT\"}",
        "{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\",\"kid\":\"%s\",\"kid\":\"%s\"}",
        "{\"alg\":\"A256KW\",\"enc\":\"A256CBC-HS512\",\"kid\":\"%s\"}",
        "{\"alg\":\"none\",\"enc\":\"A256CBC-HS512\",\"kid\":\"%s\"}",
        "{\"alg\":\"dir\",\"enc\":\"A128CBC-HS256\",\"kid\":\"%s\"}",
        "{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\",\"kid\":\"%s\"",
        "{\"enc\":\"A256CBC-HS512\",\"kid\":\"%s\"}",
        "{\"alg\":\"dir\",\"kid\":\"%s\"}",
        "[\"%s\"]",
        "{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\",\"kid\":\"%s\",\"zip\":\"\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *hb = authc_arena_printf(ar, bad[i], k.kid, k.kid);
        if (try_decode(&k, 1, mk_cbc(k.key, hb, pl, pn), T0) != AUTHC_ERR_INVALID)
            fail_msg("header %zu accepted or misclassified", i);
    }
    /* A non-string or unknown kid. */
    h = "{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\",\"kid\":7}";
    assert_int_equal(try_decode(&k, 1, mk_cbc(k.key, h, pl, pn), T0), AUTHC_ERR_INVALID);
    h = "{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\",\"kid\":\"nope\"}";
    assert_int_equal(try_decode(&k, 1, mk_cbc(k.key, h, pl, pn), T0), AUTHC_ERR_CRYPTO);
    /* Our kid plus a quote: valid JSON, another kid (not our key). */
    h = authc_arena_printf(ar, "{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\",\"kid\":\"%s\\\"\"}", k.kid);
    assert_int_equal(try_decode(&k, 1, mk_cbc(k.key, h, pl, pn), T0), AUTHC_ERR_CRYPTO);
    /* The GCM thumbprint does not select a CBC key. */
    h = authc_arena_printf(ar, "{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\",\"kid\":\"%s\"}", k.kid_gcm);
    assert_int_equal(try_decode(&k, 1, mk_cbc(k.key, h, pl, pn), T0), AUTHC_ERR_CRYPTO);
}

static void test_gcm(void **state)
{
    (void)state;
    authc__jwe_key k[2];
    derive(&k[0], "gcm-new", "authjs.session-token");
    derive(&k[1], "gcm-old", "authjs.session-token");
    const char *pl = "{\"sub\":\"g\",\"exp\":1795590500}";
    char *t = mk_cjose(k[1].key, 32, CJOSE_HDR_ENC_A256GCM, k[1].kid_gcm, pl);
    assert_int_equal(seg_bytes(t, 2), 12);
    assert_int_equal(seg_bytes(t, 4), 16);
    json_t *d = NULL;
    assert_int_equal(decode_at(k, 2, t, T0, &d), AUTHC_OK);
    assert_string_equal(json_string_value(json_object_get(d, "sub")), "g");
    json_decref(d);
    /* Tampering every byte of iv, ciphertext, tag. */
    for (int si = 2; si <= 4; si++) {
        size_t n = seg_bytes(t, si);
        for (size_t b = 0; b < n; b++)
            assert_int_equal(try_decode(k, 2, flip(t, si, b, 0x80), T0), AUTHC_ERR_CRYPTO);
    }
    /* The SHA-512 kid does not select a GCM key. */
    t = mk_cjose(k[1].key, 32, CJOSE_HDR_ENC_A256GCM, k[1].kid, pl);
    assert_int_equal(try_decode(k, 2, t, T0), AUTHC_ERR_CRYPTO);
    /* No kid: first key only. */
    t = mk_cjose(k[0].key, 32, CJOSE_HDR_ENC_A256GCM, NULL, pl);
    assert_int_equal(try_decode(k, 2, t, T0), AUTHC_OK);
    t = mk_cjose(k[1].key, 32, CJOSE_HDR_ENC_A256GCM, NULL, pl);
    assert_int_equal(try_decode(k, 2, t, T0), AUTHC_ERR_CRYPTO);
    /* cjose-made A256CBC-HS512 with our kid also decodes. */
    t = mk_cjose(k[1].key, 64, CJOSE_HDR_ENC_A256CBC_HS512, k[1].kid, pl);
    assert_int_equal(try_decode(k, 2, t, T0), AUTHC_OK);
    /* Expiry applies to GCM tokens too. */
    t = mk_cjose(k[0].key, 32, CJOSE_HDR_ENC_A256GCM, k[0].kid_gcm, pl);
    assert_int_equal(try_decode(k, 2, t, 1795590500 + 15), AUTHC_ERR_EXPIRED);
    assert_int_equal(try_decode(k, 2, t, 1795590500 + 14), AUTHC_OK);
}

static void test_malformed(void **state)
{
    (void)state;
    authc__jwe_key k;
    derive(&k, "malformed", "authjs.session-token");
    char *tok = sub_token(&k, "1");
    char *seg[5];
    split(tok, seg);

    const char *bad[] = {
        "",
        ".",
        "....",
        "......",
        authc_arena_printf(ar, "%s.%s.%s.%s", seg[0], seg[1], seg[2], seg[3]),
        authc_arena_printf(ar, "%s.%s.%s.%s.%s.", seg[0], seg[1], seg[2], seg[3], seg[4]),
        authc_arena_printf(ar, "%s.%s.%s.%s.%s.%s", seg[0], seg[1], seg[2], seg[3], seg[4], seg[4]),
        authc_arena_printf(ar, ".%s.%s.%s.%s", seg[0], seg[2], seg[3], seg[4]),
        authc_arena_printf(ar, "%s.AAAA.%s.%s.%s", seg[0], seg[2], seg[3], seg[4]),
        authc_arena_printf(ar, "%s=.%s.%s.%s.%s", seg[0], seg[1], seg[2], seg[3], seg[4]),
        authc_arena_printf(ar, "%s..%s=.%s.%s", seg[0], seg[2], seg[3], seg[4]),
        authc_arena_printf(ar, "%s..%s.%s.%s+", seg[0], seg[2], seg[3], seg[4]),
        authc_arena_printf(ar, "%s..%sAA.%s.%s", seg[0], seg[2], seg[3], seg[4]),
        authc_arena_printf(ar, "%s..%s.%s.%sAA", seg[0], seg[2], seg[3], seg[4]),
        authc_arena_printf(ar, "%s...%s.%s", seg[0], seg[3], seg[4]),
        authc_arena_printf(ar, "%s..%s.%s.", seg[0], seg[2], seg[3]),
        authc_arena_printf(ar, "eyJhbGciOiJkaXIi..%s.%s.%s", seg[2], seg[3], seg[4]),
        authc_arena_printf(ar, "bm90IGpzb24..%s.%s.%s", seg[2], seg[3], seg[4]),
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        authc_err e = try_decode(&k, 1, bad[i], T0);
        if (e != AUTHC_ERR_INVALID)
            fail_msg("malformed %zu: %d", i, e);
    }
    /* An empty ciphertext or one not a block multiple: the MAC cannot
     * match (jose would say decryption failed). */
    char *t = authc_arena_printf(ar, "%s..%s..%s", seg[0], seg[2], seg[4]);
    assert_int_equal(try_decode(&k, 1, t, T0), AUTHC_ERR_CRYPTO);

    /* Size limit: one over → LIMIT before any parsing; at the limit → parsed. */
    size_t big = AUTHC__JWE_MAX_TOKEN + 1;
    char *b = authc_arena_alloc(ar, big + 1);
    memset(b, 'A', big);
    json_t *c = (json_t *)1;
    assert_int_equal(authc__jwt_decode(ar, &k, 1, b, big, T0, &c), AUTHC_ERR_LIMIT);
    assert_null(c);
    assert_int_equal(authc__jwt_decode(ar, &k, 1, b, big - 1, T0, &c), AUTHC_ERR_INVALID);
    /* A valid token padded past the limit inside the ciphertext segment. */
    size_t tl = strlen(tok);
    memcpy(b, tok, tl);
    assert_int_equal(authc__jwt_decode(ar, &k, 1, b, big, T0, &c), AUTHC_ERR_LIMIT);
    /* len is honoured: a valid token followed by junk bytes not counted. */
    assert_int_equal(authc__jwt_decode(ar, &k, 1, b, tl, T0, &c), AUTHC_OK);
    json_decref(c);

    /* Encoding refuses a token it could not read back. */
    char *huge = authc_arena_alloc(ar, AUTHC__JWE_MAX_TOKEN);
    memset(huge, 'x', AUTHC__JWE_MAX_TOKEN - 1);
    json_t *hc = json_pack("{s:s}", "big", huge);
    assert_int_equal(authc__jwt_encode(ar, &k, hc, 60, T0, &tok), AUTHC_ERR_LIMIT);
    json_decref(hc);
    assert_int_equal(authc__jwe_encrypt(ar, &k, (uint8_t *)huge, 50000, &tok), AUTHC_ERR_LIMIT);
    assert_int_equal(authc__jwe_encrypt(ar, &k, (uint8_t *)huge, 48000, &tok), AUTHC_OK);
    assert_true(strlen(tok) <= AUTHC__JWE_MAX_TOKEN);
    uint8_t *pt;
    size_t n;
    assert_int_equal(authc__jwe_decrypt(ar, &k, 1, tok, strlen(tok), &pt, &n), AUTHC_OK);
    assert_int_equal(n, 48000);
}

static void test_claims_checks(void **state)
{
    (void)state;
    authc__jwe_key k;
    derive(&k, "claims", "authjs.session-token");
    const char *h = canon_hdr(&k);
    struct {
        const char *payload;
        authc_err want;
    } cs[] = {
        {"{}", AUTHC_OK},                                        /* missing exp */
        {"{\"iat\":1795590999}", AUTHC_OK},                      /* future iat */
        {"{\"iat\":1.5}", AUTHC_OK},
        {"{\"iat\":\"1\"}", AUTHC_ERR_INVALID},
        {"{\"iat\":null}", AUTHC_ERR_INVALID},
        {"{\"nbf\":1795590493}", AUTHC_OK},                      /* now+15 */
        {"{\"nbf\":1795590494}", AUTHC_ERR_INVALID},             /* now+16 */
        {"{\"nbf\":1795590493.5}", AUTHC_ERR_INVALID},
        {"{\"nbf\":\"0\"}", AUTHC_ERR_INVALID},
        {"{\"exp\":1795590464}", AUTHC_OK},                      /* now-14 */
        {"{\"exp\":1795590463}", AUTHC_ERR_EXPIRED},             /* now-15 */
        {"{\"exp\":1795590463.5}", AUTHC_OK},
        {"{\"exp\":1795590462.5}", AUTHC_ERR_EXPIRED},
        {"{\"exp\":\"9999999999\"}", AUTHC_ERR_INVALID},
        {"{\"exp\":true}", AUTHC_ERR_INVALID},
        {"[1,2]", AUTHC_ERR_INVALID},
        {"\"str\"", AUTHC_ERR_INVALID},
        {"not json", AUTHC_ERR_INVALID},
        {"{\"a\":1} x", AUTHC_ERR_INVALID},
        {"", AUTHC_ERR_INVALID},
        {"{\"a\":\"\xff\"}", AUTHC_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
        char *t = mk_cbc(k.key, h, cs[i].payload, strlen(cs[i].payload));
        authc_err e = try_decode(&k, 1, t, T0);
        if (e != cs[i].want)
            fail_msg("claims %s: got %d want %d", cs[i].payload, e, cs[i].want);
    }
    /* Claims come back as parsed, unicode included. */
    const char *u = "{\"name\":\"Zoë 日本\",\"n\":null,\"arr\":[1,{\"x\":2}]}";
    json_t *d = NULL;
    assert_int_equal(decode_at(&k, 1, mk_cbc(k.key, h, u, strlen(u)), T0, &d), AUTHC_OK);
    json_t *w = json_loads(u, 0, NULL);
    assert_true(json_equal(d, w));
    json_decref(w);
    json_decref(d);
}

/* Our encode's exp and the decode tolerance. */
static void test_tolerance_own(void **state)
{
    (void)state;
    authc__jwe_key k;
    derive(&k, "tol", "authjs.session-token");
    json_t *claims = json_object();
    char *tok;
    assert_int_equal(authc__jwt_encode(ar, &k, claims, 100, T0, &tok), AUTHC_OK);
    assert_int_equal(try_decode(&k, 1, tok, T0 + 100 + 10), AUTHC_OK);
    assert_int_equal(try_decode(&k, 1, tok, T0 + 100 + 14), AUTHC_OK);
    assert_int_equal(try_decode(&k, 1, tok, T0 + 100 + 15), AUTHC_ERR_EXPIRED);
    assert_int_equal(try_decode(&k, 1, tok, T0 + 100 + 20), AUTHC_ERR_EXPIRED);
    /* Negative maxAge (like the "expired" vector). */
    assert_int_equal(authc__jwt_encode(ar, &k, claims, -3600, T0, &tok), AUTHC_OK);
    assert_int_equal(try_decode(&k, 1, tok, T0), AUTHC_ERR_EXPIRED);
    assert_int_equal(authc__jwt_encode(ar, &k, claims, INT64_MAX, T0, &tok), AUTHC_ERR_INVALID);
    json_decref(claims);
}

/* Many threads encode and decode at once (per-thread contexts). */
static void *worker(void *arg)
{
    const authc__jwe_key *k = arg;
    authc_arena *mine = authc_arena_new();
    intptr_t bad = 0;
    for (int i = 0; i < 300 && mine; i++) {
        json_t *c = json_pack("{s:i}", "i", i);
        char *tok = NULL;
        json_t *d = NULL;
        if (authc__jwt_encode(mine, k, c, 60, T0, &tok) != AUTHC_OK ||
            authc__jwt_decode(mine, k, 1, tok, strlen(tok), T0, &d) != AUTHC_OK ||
            json_integer_value(json_object_get(d, "i")) != i)
            bad++;
        json_decref(c);
        json_decref(d);
    }
    authc_arena_free(mine);
    return (void *)bad;
}

static void test_threads(void **state)
{
    (void)state;
    authc__jwe_key k;
    derive(&k, "threads", "authjs.session-token");
    pthread_t th[6];
    for (int i = 0; i < 6; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker, &k), 0);
    for (int i = 0; i < 6; i++) {
        void *r;
        assert_int_equal(pthread_join(th[i], &r), 0);
        assert_int_equal((intptr_t)r, 0);
    }
}

/* Each test with a fresh fixture. */
#define T(f) cmocka_unit_test_setup_teardown(f, arena_setup, arena_teardown)
TU_MAIN(load_vectors, free_vectors,
        T(test_vectors_derive), T(test_vectors_decode), T(test_vectors_tolerance),
        T(test_roundtrip_header_order), T(test_encrypt_raw), T(test_cbc_padding), T(test_tamper),
        T(test_keys_salt_rotation), T(test_header_variants), T(test_gcm), T(test_malformed),
        T(test_claims_checks), T(test_tolerance_own), T(test_threads))
