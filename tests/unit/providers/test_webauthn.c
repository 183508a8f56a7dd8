/* test_webauthn.c — passkey verification (WebAuthn §7.1/§7.2) on
 * ceremonies recorded from Chromium's virtual authenticator (fixtures) and
 * on a software authenticator built here with OpenSSL + libcbor. */
#include "cmocka_main.h"

#include <cbor.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <strings.h>

#include "authc.h"
#include "authc/adapter.h"
#include "authc/webauthn.h"
#include "core/core_int.h"
#include "providers/webauthn_int.h"
#include "util/util_int.h"
#include "testutil.h"

#include "arena_fixture.h" /* `ar`, fresh per test */
#include "providers/webauthn_helpers.h"


/* Stored-credential view of a verified registration. */
typedef struct stored {
    uint8_t *key;
    size_t key_len;
    int64_t counter;
} stored;

static stored register_ok(json_t *fx, bool uv, authc__wa_registration *out)
{
    rp_holder h;
    json_t *cred = reg_cred(fx);
    const char *why = NULL;
    authc_err e = authc__wa_verify_registration(ar, rp_for(&h, fx, uv), fx_str(fx, "registration.challenge"),
                                                cred, out, &why);
    if (e)
        fail_msg("registration of %s refused: %s", fx_str(fx, "about"), why ? why : authc_strerror(e));
    json_decref(cred);
    stored s = {out->cose_key, out->cose_key_len, out->counter};
    return s;
}

/* A recorded ceremony opened for a test: its fixture (json_decref c.fx when
 * done), a relying party that accepts it (c.rp, editable through c.h; the
 * struct must stay where it is) and its verified registration (c.r, c.s). */
typedef struct ceremony {
    json_t *fx;
    rp_holder h;
    const authc__wa_rp *rp;
    authc__wa_registration r;
    stored s;
} ceremony;

static void ceremony_open(ceremony *c, const char *name, bool uv)
{
    c->fx = fixture(name);
    c->rp = rp_for(&c->h, c->fx, uv);
    c->s = register_ok(c->fx, uv, &c->r);
}

/* cmocka fixture of the tests of one recorded ceremony (its name is the
 * prestate, UV required): the arena, then the ceremony as the state. */
static int ceremony_setup(void **state)
{
    const char *name = *state;
    if (arena_setup(state))
        return -1;
    ceremony *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    ceremony_open(c, name, true);
    *state = c;
    return 0;
}

static int ceremony_teardown(void **state)
{
    ceremony *c = *state;
    json_decref(c->fx);
    free(c);
    return arena_teardown(state);
}

/* Expects a refusal whose reason contains `needle`. */
#define EXPECT_REFUSED(call, needle)                                                   \
    do {                                                                               \
        const char *why_ = NULL;                                                       \
        authc_err e_ = (call);                                                         \
        assert_int_equal(e_, AUTHC_ERR_WEBAUTHN_VERIFICATION);                         \
        assert_non_null(why_);                                                         \
        if (!strstr(why_, (needle)))                                                   \
            fail_msg("reason \"%s\" does not mention \"%s\"", why_, (needle));         \
    } while (0)

static authc_err verify_reg(json_t *fx, const authc__wa_rp *rp, const char *challenge, json_t *cred,
                            const char **why)
{
    (void)fx;
    authc__wa_registration r;
    return authc__wa_verify_registration(ar, rp, challenge, cred, &r, why);
}

/* Verifies cred as a sign-in to challenge with the stored credential s;
 * the result goes to *as. */
static authc_err verify_signin(const authc__wa_rp *rp, const char *challenge, json_t *cred, stored s,
                               authc__wa_assertion *as, const char **why)
{
    return authc__wa_verify_authentication(ar, rp, challenge, cred, s.key, s.key_len, s.counter, as, why);
}

static authc_err verify_auth(json_t *fx, const authc__wa_rp *rp, int i, json_t *cred, stored s,
                             const char **why)
{
    authc__wa_assertion as;
    return verify_signin(rp, auth_challenge(fx, i), cred, s, &as, why);
}

/* ======================================================================
 * Recorded ceremonies that must pass.
 * ==================================================================== */

static void check_chain(const char *name, int alg, const char *fmt, bool uv, const char *transports)
{
    json_t *fx = fixture(name);
    authc__wa_registration r;
    stored s = register_ok(fx, uv, &r);
    assert_int_equal(r.alg, alg);
    assert_string_equal(r.fmt, fmt);
    assert_true(r.cred_id_len > 0);
    size_t idl;
    uint8_t *id = authc__b64url_decode(ar, fx_str(fx, "registration.credential.rawId"),
                                       strlen(fx_str(fx, "registration.credential.rawId")), &idl);
    assert_int_equal(idl, r.cred_id_len);
    assert_memory_equal(id, r.cred_id, idl);
    assert_string_equal(r.device_type, "singleDevice");
    assert_false(r.backed_up);
    if (transports)
        assert_string_equal(r.transports, transports);
    /* Each sign-in moves the counter forward from the stored one. */
    rp_holder h;
    size_t n = json_array_size(json_object_get(fx, "authentications"));
    assert_true(n >= 1);
    for (size_t i = 0; i < n; i++) {
        json_t *cred = auth_cred(fx, (int)i);
        authc__wa_assertion as;
        const char *why = NULL;
        authc_err e = authc__wa_verify_authentication(ar, rp_for(&h, fx, uv), auth_challenge(fx, (int)i), cred,
                                                      s.key, s.key_len, s.counter, &as, &why);
        if (e)
            fail_msg("%s sign-in %zu refused: %s", name, i, why ? why : authc_strerror(e));
        assert_true(as.new_counter > s.counter || (as.new_counter == 0 && s.counter == 0));
        s.counter = as.new_counter;
        json_decref(cred);
    }
    json_decref(fx);
}

static void test_recorded_eddsa(void **st) { (void)st; check_chain("eddsa-none", AUTHC__COSE_EDDSA, "none", true, "internal"); }
static void test_recorded_es256(void **st) { (void)st; check_chain("es256-none", AUTHC__COSE_ES256, "none", true, "internal"); }
static void test_recorded_rs256(void **st) { (void)st; check_chain("rs256-none", AUTHC__COSE_RS256, "none", true, "internal"); }
static void test_recorded_packed_x5c(void **st) { (void)st; check_chain("es256-packed", AUTHC__COSE_ES256, "packed", true, "usb"); }
static void test_recorded_no_uv_allowed(void **st) { (void)st; check_chain("no-uv", AUTHC__COSE_ES256, "none", false, "usb"); }
static void test_recorded_u2f(void **st) { (void)st; check_chain("u2f", AUTHC__COSE_ES256, "fido-u2f", false, "usb"); }

/* ======================================================================
 * Rejection paths on recorded ceremonies.
 * ==================================================================== */

static void test_wrong_origin(void **st)
{
    ceremony *c = *st;
    c->h.origins[0] = "https://evil.example";
    json_t *cred = reg_cred(c->fx);
    EXPECT_REFUSED(verify_reg(c->fx, c->rp, fx_str(c->fx, "registration.challenge"), cred, &why_), "origin");
    json_t *ac = auth_cred(c->fx, 0);
    EXPECT_REFUSED(verify_auth(c->fx, c->rp, 0, ac, c->s, &why_), "origin \"http://localhost");
    json_decref(ac);
    json_decref(cred);
}

static void test_wrong_challenge(void **st)
{
    ceremony *c = *st;
    /* An old response replayed against a newer challenge. */
    json_t *ac = auth_cred(c->fx, 0);
    authc__wa_assertion as;
    EXPECT_REFUSED(verify_signin(c->rp, auth_challenge(c->fx, 1), ac, c->s, &as, &why_), "challenge");
    json_t *cred = reg_cred(c->fx);
    EXPECT_REFUSED(verify_reg(c->fx, c->rp, auth_challenge(c->fx, 0), cred, &why_), "challenge");
    json_decref(cred);
    json_decref(ac);
}

static void test_wrong_type(void **st)
{
    ceremony *c = *st;
    /* A registration's client data presented as a sign-in. */
    json_t *ac = auth_cred(c->fx, 0);
    json_t *rc = reg_cred(c->fx);
    json_object_set(json_object_get(ac, "response"), "clientDataJSON",
                    json_object_get(json_object_get(rc, "response"), "clientDataJSON"));
    authc__wa_assertion as;
    EXPECT_REFUSED(verify_signin(c->rp, fx_str(c->fx, "registration.challenge"), ac, c->s, &as, &why_),
                   "type \"webauthn.create\"");
    /* And the other way round. */
    json_t *rc2 = reg_cred(c->fx);
    client_data_set(rc2, "type", json_string("webauthn.get"));
    EXPECT_REFUSED(verify_reg(c->fx, c->rp, fx_str(c->fx, "registration.challenge"), rc2, &why_), "client data type");
    /* Credential type. */
    json_t *rc3 = reg_cred(c->fx);
    json_object_set_new(rc3, "type", json_string("password"));
    EXPECT_REFUSED(verify_reg(c->fx, c->rp, fx_str(c->fx, "registration.challenge"), rc3, &why_), "public-key");
    json_decref(rc3);
    json_decref(rc2);
    json_decref(rc);
    json_decref(ac);
}

static void test_bad_signature(void **st)
{
    (void)st;
    const char *names[] = {"eddsa-none", "es256-none", "rs256-none", "u2f"};
    for (size_t k = 0; k < 4; k++) {
        bool uv = strcmp(names[k], "u2f") != 0;
        ceremony c;
        ceremony_open(&c, names[k], uv);
        json_t *ac = auth_cred(c.fx, 0);
        size_t n;
        uint8_t *sig = resp_bytes(ac, "signature", &n);
        sig[n / 2] ^= 0x01;
        resp_set(ac, "signature", sig, n);
        EXPECT_REFUSED(verify_auth(c.fx, c.rp, 0, ac, c.s, &why_), "signature does not verify");
        json_decref(ac);
        /* Tampered client data (an extra member): the signed hash changes. */
        ac = auth_cred(c.fx, 0);
        client_data_set(ac, "other_keys_can_be_added_here", json_string("tampered"));
        EXPECT_REFUSED(verify_auth(c.fx, c.rp, 0, ac, c.s, &why_), "signature does not verify");
        json_decref(ac);
        /* Another credential's key. */
        json_t *fx2 = fixture(strcmp(names[k], "es256-none") ? "es256-none" : "eddsa-none");
        authc__wa_registration r2;
        stored other = register_ok(fx2, true, &r2);
        ac = auth_cred(c.fx, 0);
        EXPECT_REFUSED(verify_auth(c.fx, c.rp, 0, ac, other, &why_), "signature does not verify");
        json_decref(ac);
        json_decref(fx2);
        json_decref(c.fx);
    }
}

static void test_counter_going_back(void **st)
{
    ceremony *c = *st;
    authc__wa_assertion as;
    json_t *a2 = auth_cred(c->fx, 2);
    const char *why = NULL;
    assert_int_equal(verify_auth(c->fx, c->rp, 2, a2, c->s, &why), AUTHC_OK);
    authc__wa_assertion last;
    assert_int_equal(verify_signin(c->rp, auth_challenge(c->fx, 2), a2, c->s, &last, &why), AUTHC_OK);
    /* The server saw counter N; an earlier response (N-1, N-2) is a clone. */
    stored after = c->s;
    after.counter = last.new_counter;
    json_t *a0 = auth_cred(c->fx, 0);
    EXPECT_REFUSED(verify_auth(c->fx, c->rp, 0, a0, after, &why_), "cloned");
    /* Equal is not enough either. */
    EXPECT_REFUSED(verify_signin(c->rp, auth_challenge(c->fx, 2), a2, after, &as, &why_), "counter");
    json_decref(a0);
    json_decref(a2);
}

static void test_wrong_rp_id_hash(void **st)
{
    ceremony *c = *st;
    /* Another relying party id. */
    c->h.rp.rp_id = "example.com";
    json_t *cred = reg_cred(c->fx);
    EXPECT_REFUSED(verify_reg(c->fx, c->rp, fx_str(c->fx, "registration.challenge"), cred, &why_), "rpIdHash");
    json_t *ac = auth_cred(c->fx, 0);
    EXPECT_REFUSED(verify_auth(c->fx, c->rp, 0, ac, c->s, &why_), "rpIdHash");
    /* A flipped rpIdHash byte. */
    c->h.rp.rp_id = "localhost";
    size_t n;
    uint8_t *ad = resp_bytes(ac, "authenticatorData", &n);
    ad[0] ^= 0x80;
    resp_set(ac, "authenticatorData", ad, n);
    EXPECT_REFUSED(verify_auth(c->fx, c->rp, 0, ac, c->s, &why_), "rpIdHash");
    json_decref(ac);
    json_decref(cred);
}

static void test_flags(void **st)
{
    ceremony *c = *st;
    /* The flags byte of authData with bits set and cleared. */
    const struct {
        uint8_t set, clear;
        const char *why;
    } edits[] = {
        {0, AUTHC__WA_UP, "user presence"},            /* Missing UP. */
        {0, AUTHC__WA_UV, "user verification"},        /* Missing UV when required. */
        {AUTHC__WA_BS, AUTHC__WA_BE, "backup"},        /* BS without BE. */
    };
    for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
        json_t *ac = auth_cred(c->fx, 0);
        size_t n;
        uint8_t *ad = resp_bytes(ac, "authenticatorData", &n);
        ad[32] = (uint8_t)((ad[32] | edits[i].set) & ~edits[i].clear);
        resp_set(ac, "authenticatorData", ad, n);
        EXPECT_REFUSED(verify_auth(c->fx, c->rp, 0, ac, c->s, &why_), edits[i].why);
        json_decref(ac);
    }
    /* A recorded authenticator without UV, under a UV-required policy. */
    json_t *nuv = fixture("no-uv");
    rp_holder h2;
    json_t *cred = reg_cred(nuv);
    EXPECT_REFUSED(verify_reg(nuv, rp_for(&h2, nuv, true), fx_str(nuv, "registration.challenge"), cred, &why_),
                   "user verification");
    json_decref(cred);
    json_decref(nuv);
}

static void test_malformed_cbor(void **st)
{
    ceremony *c = *st;
    const char *ch = fx_str(c->fx, "registration.challenge");
    size_t n;
    json_t *cred = reg_cred(c->fx);
    uint8_t *ao = resp_bytes(cred, "attestationObject", &n);
    /* Truncated. */
    resp_set(cred, "attestationObject", ao, n - 7);
    EXPECT_REFUSED(verify_reg(c->fx, c->rp, ch, cred, &why_), "CBOR");
    /* Trailing garbage. */
    uint8_t *more = authc_arena_alloc(ar, n + 1);
    memcpy(more, ao, n);
    more[n] = 0x00;
    resp_set(cred, "attestationObject", more, n + 1);
    EXPECT_REFUSED(verify_reg(c->fx, c->rp, ch, cred, &why_), "CBOR");
    /* Reserved major-type byte. */
    uint8_t junk[] = {0xa3, 0x1c, 0x1d, 0x1e};
    resp_set(cred, "attestationObject", junk, sizeof junk);
    EXPECT_REFUSED(verify_reg(c->fx, c->rp, ch, cred, &why_), "CBOR");
    /* Deep nesting (would make libcbor's decref recurse): refused early. */
    uint8_t deep[4000];
    memset(deep, 0x81, sizeof deep - 1);
    deep[sizeof deep - 1] = 0x00;
    resp_set(cred, "attestationObject", deep, sizeof deep);
    EXPECT_REFUSED(verify_reg(c->fx, c->rp, ch, cred, &why_), "CBOR");
    /* Indefinite-length map (not canonical CTAP2 CBOR). */
    uint8_t indef[] = {0xbf, 0x63, 'f', 'm', 't', 0x64, 'n', 'o', 'n', 'e', 0xff};
    resp_set(cred, "attestationObject", indef, sizeof indef);
    EXPECT_REFUSED(verify_reg(c->fx, c->rp, ch, cred, &why_), "CBOR");
    /* Well-formed but not a map. */
    uint8_t arr[] = {0x82, 0x01, 0x02};
    resp_set(cred, "attestationObject", arr, sizeof arr);
    EXPECT_REFUSED(verify_reg(c->fx, c->rp, ch, cred, &why_), "not a CBOR map");
    /* Not base64url at all. */
    json_object_set_new(json_object_get(cred, "response"), "attestationObject", json_string("***"));
    EXPECT_REFUSED(verify_reg(c->fx, c->rp, ch, cred, &why_), "attestationObject");
    json_decref(cred);

    /* Broken COSE key inside authData: the registration's authData with
     * its key's first byte (a map header) turned into a reserved byte. */
    cred = reg_cred(c->fx);
    ao = resp_bytes(cred, "attestationObject", &n);
    uint8_t *kp = NULL;
    for (size_t i = 0; i + c->s.key_len <= n; i++)
        if (!memcmp(ao + i, c->s.key, c->s.key_len)) {
            kp = ao + i;
            break;
        }
    assert_non_null(kp);
    kp[0] = 0x1c;
    resp_set(cred, "attestationObject", ao, n);
    EXPECT_REFUSED(verify_reg(c->fx, c->rp, ch, cred, &why_), "CBOR");
    json_decref(cred);

    /* authData with a byte left over. */
    json_t *ac = auth_cred(c->fx, 0);
    uint8_t *ad = resp_bytes(ac, "authenticatorData", &n);
    uint8_t *ad2 = authc_arena_alloc(ar, n + 1);
    memcpy(ad2, ad, n);
    ad2[n] = 0;
    resp_set(ac, "authenticatorData", ad2, n + 1);
    EXPECT_REFUSED(verify_auth(c->fx, c->rp, 0, ac, c->s, &why_), "leftover");
    resp_set(ac, "authenticatorData", ad, 20);
    EXPECT_REFUSED(verify_auth(c->fx, c->rp, 0, ac, c->s, &why_), "37 bytes");
    json_decref(ac);

    /* Client data that is not JSON. */
    ac = auth_cred(c->fx, 0);
    resp_set(ac, "clientDataJSON", (const uint8_t *)"{nope", 5);
    EXPECT_REFUSED(verify_auth(c->fx, c->rp, 0, ac, c->s, &why_), "clientDataJSON");
    json_decref(ac);
}

static void test_attestation_tampering(void **st)
{
    (void)st;
    size_t n;
    /* packed x5c: a flipped signature byte. */
    json_t *fx = fixture("es256-packed");
    rp_holder h;
    const authc__wa_rp *rp = rp_for(&h, fx, true);
    const char *ch = fx_str(fx, "registration.challenge");
    json_t *cred = reg_cred(fx);
    uint8_t *ao = resp_bytes(cred, "attestationObject", &n);
    uint8_t *sigp = memmem(ao, n, "csig", 4);
    assert_non_null(sigp);
    sigp[4 + 2 + 10] ^= 0x01; /* header 0x58 len, then DER: inside r */
    resp_set(cred, "attestationObject", ao, n);
    EXPECT_REFUSED(verify_reg(fx, rp, ch, cred, &why_), "packed attestation signature");
    json_decref(cred);
    /* Unsupported format name (same length as "packed"). */
    cred = reg_cred(fx);
    ao = resp_bytes(cred, "attestationObject", &n);
    uint8_t *fmt = memmem(ao, n, "packed", 6);
    memcpy(fmt, "tpm-xx", 6);
    resp_set(cred, "attestationObject", ao, n);
    EXPECT_REFUSED(verify_reg(fx, rp, ch, cred, &why_), "not supported");
    json_decref(cred);
    json_decref(fx);
    /* fido-u2f: a flipped signature byte. */
    fx = fixture("u2f");
    rp = rp_for(&h, fx, false);
    cred = reg_cred(fx);
    ao = resp_bytes(cred, "attestationObject", &n);
    sigp = memmem(ao, n, "csig", 4);
    sigp[4 + 2 + 10] ^= 0x01;
    resp_set(cred, "attestationObject", ao, n);
    EXPECT_REFUSED(verify_reg(fx, rp, fx_str(fx, "registration.challenge"), cred, &why_), "fido-u2f");
    json_decref(cred);
    json_decref(fx);
    /* Credential id in authData differs from rawId. */
    fx = fixture("eddsa-none");
    rp = rp_for(&h, fx, true);
    cred = reg_cred(fx);
    json_object_set_new(cred, "id", json_string("AAAAAAAAAAAAAAAAAAAAAA"));
    json_object_set_new(cred, "rawId", json_string("AAAAAAAAAAAAAAAAAAAAAA"));
    EXPECT_REFUSED(verify_reg(fx, rp, fx_str(fx, "registration.challenge"), cred, &why_), "differs from rawId");
    json_object_set_new(cred, "rawId", json_string("AAAAAAAAAAAAAAAAAAAAAB"));
    EXPECT_REFUSED(verify_reg(fx, rp, fx_str(fx, "registration.challenge"), cred, &why_), "rawId");
    json_decref(cred);
    json_decref(fx);
}

/* Deterministic mutation of recorded ceremonies: whatever the bytes, the
 * verifier answers OK or WebAuthnVerificationError (never crashes, never
 * another error), and a mutated signature input is never accepted. */
static uint64_t rng_state = 0x2545f491u;
static uint32_t rng(void)
{
    return (uint32_t)(tu_xorshift64(&rng_state) >> 32);
}

static void mutate(json_t *cred, const char *key)
{
    size_t n;
    uint8_t *p = resp_bytes(cred, key, &n);
    int kind = (int)(rng() % 4);
    if (kind == 0 || n < 2) {
        p[rng() % n] ^= (uint8_t)(1u << (rng() % 8));
    } else if (kind == 1) {
        n = rng() % n; /* truncate */
    } else if (kind == 2) {
        p[rng() % n] = (uint8_t)rng();
        p[rng() % n] = (uint8_t)rng();
    } else {
        uint8_t *q = authc_arena_alloc(ar, n + 4);
        memcpy(q, p, n);
        for (int i = 0; i < 4; i++)
            q[n + i] = (uint8_t)rng();
        p = q;
        n += 1 + rng() % 4;
    }
    resp_set(cred, key, p, n ? n : 1);
}

static void test_mutation_robustness(void **st)
{
    (void)st;
    const char *names[] = {"eddsa-none", "es256-none", "rs256-none", "es256-packed", "no-uv", "u2f"};
    const char *reg_keys[] = {"attestationObject", "clientDataJSON"};
    const char *auth_keys[] = {"authenticatorData", "clientDataJSON", "signature"};
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        ceremony c;
        ceremony_open(&c, names[k], false);
        for (int i = 0; i < 400; i++) {
            json_t *rc = reg_cred(c.fx);
            mutate(rc, reg_keys[rng() % 2]);
            const char *why = NULL;
            authc_err e = verify_reg(c.fx, c.rp, fx_str(c.fx, "registration.challenge"), rc, &why);
            assert_true(e == AUTHC_OK || e == AUTHC_ERR_WEBAUTHN_VERIFICATION);
            json_decref(rc);
            json_t *ac = auth_cred(c.fx, 0);
            mutate(ac, auth_keys[rng() % 3]);
            e = verify_auth(c.fx, c.rp, 0, ac, c.s, &why);
            /* Everything in an assertion is signed: no mutation passes. */
            assert_int_equal(e, AUTHC_ERR_WEBAUTHN_VERIFICATION);
            json_decref(ac);
        }
        json_decref(c.fx);
    }
}

static const authc__wa_rp *soft_rp(rp_holder *h, bool uv)
{
    h->origins[0] = "https://app.example";
    h->rp.rp_id = "app.example";
    h->rp.origins = h->origins;
    h->rp.norigins = 1;
    h->rp.require_uv = uv;
    return &h->rp;
}

#define UPUV (AUTHC__WA_UP | AUTHC__WA_UV)

static void soft_roundtrip(int alg, int bits, att_kind att, const char *fmt)
{
    soft s = soft_new(alg, bits);
    rp_holder h;
    const authc__wa_rp *rp = soft_rp(&h, true);
    json_t *cred = soft_register(&s, "c1", UPUV | AUTHC__WA_BE | AUTHC__WA_BS, att, false);
    authc__wa_registration r;
    const char *why = NULL;
    authc_err e = authc__wa_verify_registration(ar, rp, "c1", cred, &r, &why);
    if (e)
        fail_msg("soft registration (alg %d) refused: %s", alg, why);
    assert_string_equal(r.fmt, fmt);
    assert_int_equal(r.alg, alg);
    assert_string_equal(r.device_type, "multiDevice");
    assert_true(r.backed_up);
    assert_string_equal(r.transports, "internal,hybrid");
    json_decref(cred);
    s.counter = 7;
    json_t *a = soft_assert(&s, "c2", UPUV);
    authc__wa_assertion as;
    e = authc__wa_verify_authentication(ar, rp, "c2", a, r.cose_key, r.cose_key_len, 0, &as, &why);
    if (e)
        fail_msg("soft sign-in (alg %d) refused: %s", alg, why);
    assert_int_equal(as.new_counter, 7);
    json_decref(a);
    EVP_PKEY_free(s.k);
}

static void test_soft_algorithms(void **st)
{
    (void)st;
    soft_roundtrip(AUTHC__COSE_ES256, 0, ATT_NONE, "none");
    soft_roundtrip(AUTHC__COSE_EDDSA, 0, ATT_NONE, "none");
    soft_roundtrip(AUTHC__COSE_RS256, 2048, ATT_NONE, "none");
    soft_roundtrip(AUTHC__COSE_RS256, 3072, ATT_NONE, "none"); /* OpenSSL path, not libfido2 */
    soft_roundtrip(AUTHC__COSE_ES256, 0, ATT_SELF, "packed");
    soft_roundtrip(AUTHC__COSE_EDDSA, 0, ATT_SELF, "packed");
    soft_roundtrip(AUTHC__COSE_RS256, 2048, ATT_SELF, "packed");
}

/* A registration by s (flags, attestation, a spoiled EC point or not) is
 * refused for a reason mentioning needle. */
static void soft_register_refused(soft *s, const authc__wa_rp *rp, uint8_t flags, att_kind att, bool bad_point,
                                  const char *needle)
{
    json_t *c = soft_register(s, "c", flags, att, bad_point);
    EXPECT_REFUSED(authc__wa_verify_registration(ar, rp, "c", c, &(authc__wa_registration){0}, &why_), needle);
    json_decref(c);
}

static void test_soft_rejections(void **st)
{
    (void)st;
    rp_holder h;
    const authc__wa_rp *rp = soft_rp(&h, true);
    soft s = soft_new(AUTHC__COSE_ES256, 0);
    json_t *c;
    /* packed self attestation whose alg is not the key's */
    soft_register_refused(&s, rp, UPUV, ATT_SELF_WRONG_ALG, false, "alg differs");
    /* "none" with a statement */
    soft_register_refused(&s, rp, UPUV, ATT_NONE_WITH_STMT, false, "non-empty");
    /* an EC point that is not on the curve */
    soft_register_refused(&s, rp, UPUV, ATT_NONE, true, "P-256");
    /* no UP at registration */
    soft_register_refused(&s, rp, AUTHC__WA_UV, ATT_NONE, false, "presence");
    /* RSA below 2048 bits */
    soft small = soft_new(AUTHC__COSE_RS256, 1024);
    soft_register_refused(&small, rp, UPUV, ATT_NONE, false, "2048");
    EVP_PKEY_free(small.k);
    /* Counters: 0/0 passes (no counter kept), 5 after 9 is a clone. */
    c = soft_register(&s, "c", UPUV, ATT_NONE, false);
    authc__wa_registration r;
    const char *why = NULL;
    assert_int_equal(authc__wa_verify_registration(ar, rp, "c", c, &r, &why), AUTHC_OK);
    json_decref(c);
    s.counter = 0;
    c = soft_assert(&s, "d", UPUV);
    authc__wa_assertion as;
    assert_int_equal(authc__wa_verify_authentication(ar, rp, "d", c, r.cose_key, r.cose_key_len, 0, &as, &why),
                     AUTHC_OK);
    json_decref(c);
    s.counter = 5;
    c = soft_assert(&s, "d", UPUV);
    EXPECT_REFUSED(authc__wa_verify_authentication(ar, rp, "d", c, r.cose_key, r.cose_key_len, 9, &as, &why_),
                   "cloned");
    /* a cross-origin (iframe) ceremony */
    json_t *c2 = json_deep_copy(c);
    client_data_set(c2, "crossOrigin", json_true());
    EXPECT_REFUSED(authc__wa_verify_authentication(ar, rp, "d", c2, r.cose_key, r.cose_key_len, 0, &as, &why_),
                   "cross-origin");
    json_decref(c2);
    json_decref(c);
    EVP_PKEY_free(s.k);
}

static void test_cose_and_cbor_helpers(void **st)
{
    (void)st;
    /* item length: a map of two small ints, followed by junk */
    uint8_t m[] = {0xa1, 0x01, 0x02, 0xff, 0xff};
    assert_int_equal(authc__wa_cbor_item_len(m, sizeof m), 3);
    assert_int_equal(authc__wa_cbor_item_len(m, 2), 0);        /* truncated */
    uint8_t deep[AUTHC__WA_MAX_CBOR_DEPTH + 2];
    memset(deep, 0x81, sizeof deep);
    deep[sizeof deep - 1] = 0x00;
    assert_int_equal(authc__wa_cbor_item_len(deep, sizeof deep), 0); /* too deep */
    assert_int_equal(authc__wa_cbor_item_len(deep + 2, sizeof deep - 2), sizeof deep - 2);
    /* COSE keys */
    EVP_PKEY *pk = NULL;
    int alg = 0;
    const char *why = NULL;
    uint8_t notmap[] = {0x01};
    assert_int_equal(authc__wa_cose_to_pkey(notmap, 1, &pk, &alg, &why), AUTHC_ERR_WEBAUTHN_VERIFICATION);
    assert_null(pk);
    uint8_t es384[] = {0xa2, 0x01, 0x02, 0x03, 0x38, 0x22}; /* kty 2, alg -35 */
    assert_int_equal(authc__wa_cose_to_pkey(es384, sizeof es384, &pk, &alg, &why), AUTHC_ERR_WEBAUTHN_VERIFICATION);
    assert_non_null(strstr(why, "not one of"));
    uint8_t dup[] = {0xa3, 0x01, 0x02, 0x01, 0x02, 0x03, 0x26};
    assert_int_equal(authc__wa_cose_to_pkey(dup, sizeof dup, &pk, &alg, &why), AUTHC_ERR_WEBAUTHN_VERIFICATION);
    assert_non_null(strstr(why, "duplicate"));
    /* credential ids in either base64 alphabet */
    size_t n;
    uint8_t *a = authc__wa_b64any_decode(ar, "+/8=", &n);
    uint8_t *b = authc__wa_b64any_decode(ar, "-_8", &n);
    assert_non_null(a);
    assert_non_null(b);
    assert_memory_equal(a, b, 2);
    assert_null(authc__wa_b64any_decode(ar, "a b", &n));
}

/* Each test with a fresh fixture. */
#define T(f) cmocka_unit_test_setup_teardown(f, arena_setup, arena_teardown)
/* ... or with a recorded ceremony opened (ceremony_setup). */
#define TC(f, name) cmocka_unit_test_prestate_setup_teardown(f, ceremony_setup, ceremony_teardown, (void *)name)
TU_MAIN(NULL, NULL,
        T(test_recorded_eddsa), T(test_recorded_es256), T(test_recorded_rs256), T(test_recorded_packed_x5c),
        T(test_recorded_no_uv_allowed), T(test_recorded_u2f), TC(test_wrong_origin, "es256-none"),
        TC(test_wrong_challenge, "es256-none"), TC(test_wrong_type, "eddsa-none"), T(test_bad_signature),
        TC(test_counter_going_back, "eddsa-none"), TC(test_wrong_rp_id_hash, "es256-none"),
        TC(test_flags, "es256-none"), TC(test_malformed_cbor, "es256-none"), T(test_attestation_tampering),
        T(test_mutation_robustness), T(test_soft_algorithms), T(test_soft_rejections),
        T(test_cose_and_cbor_helpers))
