/* webauthn_helpers.h — what the passkey unit tests share: the recorded
 * ceremonies (tests/unit/fixtures/webauthn) and a software authenticator.
 * Include after arena_fixture.h (the helpers allocate from `ar`). */
#ifndef AUTHC_WEBAUTHN_HELPERS_H
#define AUTHC_WEBAUTHN_HELPERS_H

/* ======================================================================
 * Fixtures: tests/unit/fixtures/webauthn/<name>.json, recorded by
 * tests/e2e/lib/passkey-record.mjs.
 * ==================================================================== */

static inline json_t *fixture(const char *name)
{
    char path[4096];
    const char *src = getenv("AUTHC_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/unit/fixtures/webauthn/%s.json", src && *src ? src : ".", name);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j)
        fail_msg("cannot load fixture %s: %s (set AUTHC_SOURCE_DIR)", path, e.text);
    return j;
}

/* The member at path: "a.b.0.c" walks objects and arrays. */
static inline json_t *fx_get(json_t *j, const char *path)
{
    json_t *cur = j;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *t = strtok_r(buf, ".", &save); t && cur; t = strtok_r(NULL, ".", &save))
        cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(t)) : json_object_get(cur, t);
    assert_non_null(cur);
    return cur;
}

static inline const char *fx_str(json_t *j, const char *path)
{
    return json_string_value(fx_get(j, path));
}

/* A deep copy of the registration / i-th authentication credential. */
static inline json_t *reg_cred(json_t *fx) { return json_deep_copy(fx_get(fx, "registration.credential")); }
static inline json_t *auth_cred(json_t *fx, int i)
{
    char p[64];
    snprintf(p, sizeof p, "authentications.%d.credential", i);
    return json_deep_copy(fx_get(fx, p));
}
static inline const char *auth_challenge(json_t *fx, int i)
{
    char p[64];
    snprintf(p, sizeof p, "authentications.%d.challenge", i);
    return fx_str(fx, p);
}

typedef struct rp_holder {
    const char *origins[2];
    authc__wa_rp rp;
} rp_holder;

static inline const authc__wa_rp *rp_for(rp_holder *h, json_t *fx, bool uv)
{
    h->origins[0] = fx_str(fx, "origin");
    h->rp.rp_id = "localhost";
    h->rp.origins = h->origins;
    h->rp.norigins = 1;
    h->rp.require_uv = uv;
    return &h->rp;
}

/* Byte-level edits of a base64url member of cred.response. */
static inline uint8_t *resp_bytes(json_t *cred, const char *key, size_t *n)
{
    const char *s = json_string_value(json_object_get(json_object_get(cred, "response"), key));
    assert_non_null(s);
    uint8_t *p = authc__b64url_decode(ar, s, strlen(s), n);
    assert_non_null(p);
    return p;
}

static inline void resp_set(json_t *cred, const char *key, const uint8_t *p, size_t n)
{
    char *s = authc__b64url_encode(ar, p, n);
    assert_non_null(s);
    json_object_set_new(json_object_get(cred, "response"), key, json_string(s));
}

/* Rewrites clientDataJSON with one member replaced (value NULL = remove). */
static inline void client_data_set(json_t *cred, const char *member, json_t *value)
{
    size_t n;
    uint8_t *p = resp_bytes(cred, "clientDataJSON", &n);
    json_error_t e;
    json_t *cd = json_loadb((const char *)p, n, 0, &e);
    assert_non_null(cd);
    if (value)
        json_object_set_new(cd, member, value);
    else
        json_object_del(cd, member);
    char *s = json_dumps(cd, JSON_COMPACT);
    resp_set(cred, "clientDataJSON", (const uint8_t *)s, strlen(s));
    free(s);
    json_decref(cd);
}

/* ======================================================================
 * A software authenticator: keys from OpenSSL, CBOR from libcbor.
 * ==================================================================== */

typedef struct soft {
    EVP_PKEY *k;
    int alg;
    uint8_t id[20];
    uint32_t counter;
    const char *origin;
} soft;

static inline soft soft_new(int alg, int rsa_bits)
{
    soft s = {.alg = alg, .origin = "https://app.example"};
    EVP_PKEY_CTX *ctx = NULL;
    if (alg == AUTHC__COSE_ES256) {
        s.k = EVP_EC_gen("P-256");
    } else if (alg == AUTHC__COSE_EDDSA) {
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "ED25519", NULL);
        assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
        assert_int_equal(EVP_PKEY_keygen(ctx, &s.k), 1);
    } else {
        s.k = EVP_RSA_gen((unsigned)rsa_bits);
    }
    EVP_PKEY_CTX_free(ctx);
    assert_non_null(s.k);
    for (size_t i = 0; i < sizeof s.id; i++)
        s.id[i] = (uint8_t)(0xa0 + i + (unsigned)alg);
    return s;
}

static inline void put(cbor_item_t *m, cbor_item_t *k, cbor_item_t *v)
{
    assert_true(cbor_map_add(m, (struct cbor_pair){.key = cbor_move(k), .value = cbor_move(v)}));
}

static inline cbor_item_t *cbor_int(int64_t v)
{
    if (v >= 0)
        return v < 256 ? cbor_build_uint8((uint8_t)v) : cbor_build_uint16((uint16_t)v);
    uint64_t u = (uint64_t)(-1 - v);
    return u < 256 ? cbor_build_negint8((uint8_t)u) : cbor_build_negint16((uint16_t)u);
}

static inline uint8_t *serialize(cbor_item_t *it, size_t *n)
{
    unsigned char *buf = NULL;
    size_t cap = 0;
    *n = cbor_serialize_alloc(it, &buf, &cap);
    assert_true(*n > 0);
    uint8_t *out = authc_arena_alloc(ar, *n);
    memcpy(out, buf, *n);
    free(buf);
    cbor_decref(&it);
    return out;
}

/* COSE_Key of the soft key; bad_point spoils an EC point. */
static inline uint8_t *soft_cose(const soft *s, size_t *n, bool bad_point)
{
    cbor_item_t *m = cbor_new_definite_map(5);
    if (s->alg == AUTHC__COSE_ES256) {
        uint8_t pt[65];
        size_t l = 0;
        assert_int_equal(EVP_PKEY_get_octet_string_param(s->k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &l), 1);
        if (bad_point)
            pt[64] ^= 0x01;
        put(m, cbor_int(1), cbor_int(2));
        put(m, cbor_int(3), cbor_int(-7));
        put(m, cbor_int(-1), cbor_int(1));
        put(m, cbor_int(-2), cbor_build_bytestring(pt + 1, 32));
        put(m, cbor_int(-3), cbor_build_bytestring(pt + 33, 32));
    } else if (s->alg == AUTHC__COSE_EDDSA) {
        uint8_t x[32];
        size_t l = sizeof x;
        assert_int_equal(EVP_PKEY_get_raw_public_key(s->k, x, &l), 1);
        put(m, cbor_int(1), cbor_int(1));
        put(m, cbor_int(3), cbor_int(-8));
        put(m, cbor_int(-1), cbor_int(6));
        put(m, cbor_int(-2), cbor_build_bytestring(x, 32));
    } else {
        BIGNUM *bn = NULL, *be = NULL;
        assert_int_equal(EVP_PKEY_get_bn_param(s->k, OSSL_PKEY_PARAM_RSA_N, &bn), 1);
        assert_int_equal(EVP_PKEY_get_bn_param(s->k, OSSL_PKEY_PARAM_RSA_E, &be), 1);
        uint8_t nb[1024], eb[16];
        int nl = BN_bn2bin(bn, nb), el = BN_bn2bin(be, eb);
        put(m, cbor_int(1), cbor_int(3));
        put(m, cbor_int(3), cbor_int(-257));
        put(m, cbor_int(-1), cbor_build_bytestring(nb, (size_t)nl));
        put(m, cbor_int(-2), cbor_build_bytestring(eb, (size_t)el));
        BN_free(bn);
        BN_free(be);
    }
    return serialize(m, n);
}

static inline uint8_t *soft_sign(const soft *s, int alg, const uint8_t *d, size_t dn, size_t *sl)
{
    const EVP_MD *md = alg == AUTHC__COSE_EDDSA ? NULL : EVP_sha256();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, s->k), 1);
    size_t cap = 0;
    assert_int_equal(EVP_DigestSign(ctx, NULL, &cap, d, dn), 1);
    uint8_t *sig = authc_arena_alloc(ar, cap);
    *sl = cap;
    assert_int_equal(EVP_DigestSign(ctx, sig, sl, d, dn), 1);
    EVP_MD_CTX_free(ctx);
    return sig;
}

static inline char *b64u(const uint8_t *p, size_t n)
{
    char *s = authc__b64url_encode(ar, p, n);
    assert_non_null(s);
    return s;
}

static inline char *client_data(const soft *s, const char *type, const char *challenge)
{
    return authc_arena_printf(ar, "{\"type\":\"%s\",\"challenge\":\"%s\",\"origin\":\"%s\",\"crossOrigin\":false}",
                              type, challenge, s->origin);
}

typedef enum { ATT_NONE, ATT_SELF, ATT_SELF_WRONG_ALG, ATT_NONE_WITH_STMT } att_kind;

/* A registration response from the soft authenticator. */
static inline json_t *soft_register(soft *s, const char *challenge, uint8_t flags, att_kind att, bool bad_point)
{
    size_t kl;
    uint8_t *key = soft_cose(s, &kl, bad_point);
    size_t adl = 37 + 16 + 2 + sizeof s->id + kl;
    uint8_t *ad = authc_arena_alloc(ar, adl);
    SHA256((const uint8_t *)"app.example", strlen("app.example"), ad);
    ad[32] = flags | AUTHC__WA_AT;
    ad[33] = (uint8_t)(s->counter >> 24);
    ad[34] = (uint8_t)(s->counter >> 16);
    ad[35] = (uint8_t)(s->counter >> 8);
    ad[36] = (uint8_t)s->counter;
    memset(ad + 37, 0x42, 16);
    ad[53] = 0;
    ad[54] = sizeof s->id;
    memcpy(ad + 55, s->id, sizeof s->id);
    memcpy(ad + 55 + sizeof s->id, key, kl);
    char *cd = client_data(s, "webauthn.create", challenge);
    uint8_t cdh[32];
    SHA256((const uint8_t *)cd, strlen(cd), cdh);
    cbor_item_t *st = cbor_new_definite_map(2);
    if (att == ATT_SELF || att == ATT_SELF_WRONG_ALG) {
        uint8_t *tbs = authc_arena_alloc(ar, adl + 32);
        memcpy(tbs, ad, adl);
        memcpy(tbs + adl, cdh, 32);
        size_t sl;
        uint8_t *sig = soft_sign(s, s->alg, tbs, adl + 32, &sl);
        put(st, cbor_build_string("alg"), cbor_int(att == ATT_SELF ? s->alg : -36));
        put(st, cbor_build_string("sig"), cbor_build_bytestring(sig, sl));
    } else if (att == ATT_NONE_WITH_STMT) {
        put(st, cbor_build_string("alg"), cbor_int(-7));
    }
    cbor_item_t *ao = cbor_new_definite_map(3);
    put(ao, cbor_build_string("fmt"), cbor_build_string(att == ATT_NONE || att == ATT_NONE_WITH_STMT ? "none" : "packed"));
    put(ao, cbor_build_string("attStmt"), st);
    put(ao, cbor_build_string("authData"), cbor_build_bytestring(ad, adl));
    size_t aol;
    uint8_t *aob = serialize(ao, &aol);
    char *id = b64u(s->id, sizeof s->id);
    return json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:[s,s]},s:{}}", "id", id, "rawId", id, "type", "public-key",
                     "response", "clientDataJSON", b64u((const uint8_t *)cd, strlen(cd)), "attestationObject",
                     b64u(aob, aol), "transports", "internal", "hybrid", "clientExtensionResults");
}

static inline json_t *soft_assert(soft *s, const char *challenge, uint8_t flags)
{
    uint8_t ad[37];
    SHA256((const uint8_t *)"app.example", strlen("app.example"), ad);
    ad[32] = flags;
    ad[33] = (uint8_t)(s->counter >> 24);
    ad[34] = (uint8_t)(s->counter >> 16);
    ad[35] = (uint8_t)(s->counter >> 8);
    ad[36] = (uint8_t)s->counter;
    char *cd = client_data(s, "webauthn.get", challenge);
    uint8_t tbs[37 + 32];
    memcpy(tbs, ad, 37);
    SHA256((const uint8_t *)cd, strlen(cd), tbs + 37);
    size_t sl;
    uint8_t *sig = soft_sign(s, s->alg, tbs, sizeof tbs, &sl);
    char *id = b64u(s->id, sizeof s->id);
    return json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s}}", "id", id, "rawId", id, "type", "public-key", "response",
                     "clientDataJSON", b64u((const uint8_t *)cd, strlen(cd)), "authenticatorData", b64u(ad, 37),
                     "signature", b64u(sig, sl));
}

#endif
