/* test_webauthn.c — passkey verification and the passkey HTTP flow, on
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

/* ======================================================================
 * Fixtures: tests/unit/fixtures/webauthn/<name>.json, recorded by
 * tests/e2e/lib/passkey-record.mjs.
 * ==================================================================== */

static json_t *fixture(const char *name)
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
static json_t *fx_get(json_t *j, const char *path)
{
    json_t *cur = j;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *t = strtok_r(buf, ".", &save); t && cur; t = strtok_r(NULL, ".", &save))
        cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(t)) : json_object_get(cur, t);
    assert_non_null(cur);
    return cur;
}

static const char *fx_str(json_t *j, const char *path)
{
    return json_string_value(fx_get(j, path));
}

/* A deep copy of the registration / i-th authentication credential. */
static json_t *reg_cred(json_t *fx) { return json_deep_copy(fx_get(fx, "registration.credential")); }
static json_t *auth_cred(json_t *fx, int i)
{
    char p[64];
    snprintf(p, sizeof p, "authentications.%d.credential", i);
    return json_deep_copy(fx_get(fx, p));
}
static const char *auth_challenge(json_t *fx, int i)
{
    char p[64];
    snprintf(p, sizeof p, "authentications.%d.challenge", i);
    return fx_str(fx, p);
}

typedef struct rp_holder {
    const char *origins[2];
    authc__wa_rp rp;
} rp_holder;

static const authc__wa_rp *rp_for(rp_holder *h, json_t *fx, bool uv)
{
    h->origins[0] = fx_str(fx, "origin");
    h->rp.rp_id = "localhost";
    h->rp.origins = h->origins;
    h->rp.norigins = 1;
    h->rp.require_uv = uv;
    return &h->rp;
}

/* Byte-level edits of a base64url member of cred.response. */
static uint8_t *resp_bytes(json_t *cred, const char *key, size_t *n)
{
    const char *s = json_string_value(json_object_get(json_object_get(cred, "response"), key));
    assert_non_null(s);
    uint8_t *p = authc__b64url_decode(ar, s, strlen(s), n);
    assert_non_null(p);
    return p;
}

static void resp_set(json_t *cred, const char *key, const uint8_t *p, size_t n)
{
    char *s = authc__b64url_encode(ar, p, n);
    assert_non_null(s);
    json_object_set_new(json_object_get(cred, "response"), key, json_string(s));
}

/* Rewrites clientDataJSON with one member replaced (value NULL = remove). */
static void client_data_set(json_t *cred, const char *member, json_t *value)
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

static soft soft_new(int alg, int rsa_bits)
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

static void put(cbor_item_t *m, cbor_item_t *k, cbor_item_t *v)
{
    assert_true(cbor_map_add(m, (struct cbor_pair){.key = cbor_move(k), .value = cbor_move(v)}));
}

static cbor_item_t *cbor_int(int64_t v)
{
    if (v >= 0)
        return v < 256 ? cbor_build_uint8((uint8_t)v) : cbor_build_uint16((uint16_t)v);
    uint64_t u = (uint64_t)(-1 - v);
    return u < 256 ? cbor_build_negint8((uint8_t)u) : cbor_build_negint16((uint16_t)u);
}

static uint8_t *serialize(cbor_item_t *it, size_t *n)
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
static uint8_t *soft_cose(const soft *s, size_t *n, bool bad_point)
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

static uint8_t *soft_sign(const soft *s, int alg, const uint8_t *d, size_t dn, size_t *sl)
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

static char *b64u(const uint8_t *p, size_t n)
{
    char *s = authc__b64url_encode(ar, p, n);
    assert_non_null(s);
    return s;
}

static char *client_data(const soft *s, const char *type, const char *challenge)
{
    return authc_arena_printf(ar, "{\"type\":\"%s\",\"challenge\":\"%s\",\"origin\":\"%s\",\"crossOrigin\":false}",
                              type, challenge, s->origin);
}

typedef enum { ATT_NONE, ATT_SELF, ATT_SELF_WRONG_ALG, ATT_NONE_WITH_STMT } att_kind;

/* A registration response from the soft authenticator. */
static json_t *soft_register(soft *s, const char *challenge, uint8_t flags, att_kind att, bool bad_point)
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

static json_t *soft_assert(soft *s, const char *challenge, uint8_t flags)
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

/* ======================================================================
 * The HTTP flow through authc_handle, with the memory adapter.
 * ==================================================================== */

typedef struct wt_res {
    int status;
    char location[2048];
    char cookies[8192];   /* "name=value; name=value" of non-deleted cookies */
    char session[512];    /* session cookie value, if set */
    bool cleared_challenge;
    char body[16384];
} wt_res;

static authc *wt_instance(authc_adapter *ad, const char *origin, bool enable)
{
    authc_config *cfg = authc_config_new();
    char err[2048];
    assert_int_equal(authc_config_set(cfg, "secret", "unit-test-secret-0123456789abcdefghijkl", err, sizeof err), 0);
    assert_int_equal(authc_config_set(cfg, "trust_host", "true", err, sizeof err), 0);
    assert_int_equal(authc_config_set(cfg, "allowed_hosts", "localhost app.example www.app.example 127.0.0.1",
                                      err, sizeof err), 0);
    const char *origins[] = {origin};
    authc_passkey_provider p = {.enable_webauthn = enable, .origins = origin ? origins : NULL,
                                .norigins = origin ? 1 : 0};
    assert_int_equal(authc_config_add_passkey(cfg, &p), AUTHC_OK);
    if (ad)
        authc_config_set_adapter(cfg, ad);
    err[0] = '\0';
    authc *a = authc_new(cfg, err, sizeof err);
    if (!a)
        fail_msg("authc_new: %s", err);
    return a;
}

static authc_adapter *memory_adapter(void)
{
    char err[256];
    authc_adapter *ad = authc_adapter_open("memory:", NULL, NULL, err, sizeof err);
    assert_non_null(ad);
    if (ad->ops->migrate)
        assert_int_equal(ad->ops->migrate(ad), AUTHC_OK);
    return ad;
}

static void form_add(authc__buf *b, const char *k, const char *v)
{
    if (b->len)
        authc__buf_addc(b, '&');
    authc__buf_add_form_component(b, k);
    authc__buf_addc(b, '=');
    authc__buf_add_form_component(b, v);
}

static wt_res wt_send(const authc *a, const char *method, const char *url, const char *cookie, const char *body)
{
    authc_response *res = tu_send_form(a, method, url, cookie, body);
    assert_non_null(res);
    wt_res r;
    memset(&r, 0, sizeof r);
    r.status = res->status;
    const char *loc = authc_response_header(res, "Location");
    if (loc)
        snprintf(r.location, sizeof r.location, "%s", loc);
    for (size_t i = 0; i < res->nheaders; i++) {
        if (strcasecmp(res->headers[i].name, "Set-Cookie"))
            continue;
        const char *v = res->headers[i].value;
        size_t nl = strcspn(v, ";");
        bool deleted = strstr(v, "Max-Age=0") != NULL;
        if (!strncmp(v, "authjs.challenge=", 17) && deleted)
            r.cleared_challenge = true;
        if (deleted)
            continue;
        if (!strncmp(v, "authjs.session-token=", 21))
            snprintf(r.session, sizeof r.session, "%.*s", (int)(nl - 21), v + 21);
        size_t cl = strlen(r.cookies);
        snprintf(r.cookies + cl, sizeof r.cookies - cl, "%s%.*s", cl ? "; " : "", (int)nl, v);
    }
    if (res->body)
        snprintf(r.body, sizeof r.body, "%.*s", (int)res->body_len, res->body);
    authc_response_free(res);
    return r;
}

/* The challenge cookie the options endpoint would have set for this
 * challenge (§3.4 check cookie around the encodedWebauthnChallenge JWE). */
static char *challenge_cookie_mode(const authc *a, bool secure, const char *challenge, json_t *register_data)
{
    json_t *claims = json_pack("{s:s}", "challenge", challenge);
    if (register_data)
        json_object_set_new(claims, "registerData", register_data);
    int64_t now = authc__now_ms() / 1000;
    char *inner = NULL, *outer = NULL;
    assert_int_equal(authc__jwt_encode(ar, &a->challenge_keys[0], claims, 900, now, &inner), AUTHC_OK);
    json_decref(claims);
    json_t *o = json_pack("{s:s,s:s}", "value", inner, "provider", "passkey");
    assert_int_equal(authc__jwt_encode(ar, &a->check_keys[secure][AUTHC__CK_CHALLENGE][0], o, 900, now, &outer),
                     AUTHC_OK);
    json_decref(o);
    return authc_arena_printf(ar, "%s=%s", a->cookie_names[secure][AUTHC__CK_CHALLENGE], outer);
}

static char *challenge_cookie(const authc *a, const char *challenge, json_t *register_data)
{
    return challenge_cookie_mode(a, false, challenge, register_data);
}

static wt_res wt_callback(const authc *a, const char *origin, const char *action, json_t *cred,
                          const char *cookies)
{
    char *data = json_dumps(cred, JSON_COMPACT);
    authc__buf b;
    authc__buf_init(&b, ar, 64 * 1024);
    form_add(&b, "action", action);
    form_add(&b, "data", data);
    free(data);
    assert_int_equal(b.err, AUTHC_OK);
    return wt_send(a, "POST", authc_arena_printf(ar, "%s/auth/callback/passkey", origin), cookies, b.p);
}

static const char *join_cookies(const char *x, const char *y)
{
    if (!x || !*x)
        return y;
    if (!y || !*y)
        return x;
    return authc_arena_printf(ar, "%s; %s", x, y);
}

/* A site for the HTTP tests: a recorded ceremony's fixture and origin, a
 * memory adapter and an instance serving passkeys there; site_close frees
 * them all. */
typedef struct site {
    json_t *fx;
    const char *origin;
    authc_adapter *ad;
    authc *a;
} site;

static void site_open(site *w, const char *fixture_name)
{
    w->fx = fixture(fixture_name);
    w->origin = fx_str(w->fx, "origin");
    w->ad = memory_adapter();
    w->a = wt_instance(w->ad, w->origin, true);
}

static void site_close(site *w)
{
    authc_free(w->a);
    authc_adapter_close(w->ad);
    json_decref(w->fx);
}

static bool is_verification_error(const wt_res *r)
{
    return r->status == 302 && strstr(r->location, "/auth/error?error=WebAuthnVerificationError") &&
           !r->session[0] && !r->cookies[0];
}

static void test_http_register_and_sign_in(void **st)
{
    (void)st;
    site w;
    site_open(&w, "eddsa-none");
    const char *email = "Passkey.User@Example.com"; /* kept as given (trap T12) */

    /* Registration of a new user. */
    json_t *reg = json_pack("{s:s}", "email", email);
    const char *ck = challenge_cookie(w.a, fx_str(w.fx, "registration.challenge"), reg);
    json_t *cred = reg_cred(w.fx);
    wt_res r = wt_callback(w.a, w.origin, "register", cred, ck);
    assert_int_equal(r.status, 302);
    assert_string_equal(r.location, w.origin);
    assert_true(r.session[0] != '\0');
    assert_true(r.cleared_challenge);
    json_decref(cred);

    authc_user *u = NULL;
    assert_int_equal(w.ad->ops->get_user_by_email(w.ad, ar, email, &u), AUTHC_OK);
    assert_non_null(u);
    authc_authenticator *list = NULL;
    size_t n = 0;
    assert_int_equal(w.ad->ops->list_authenticators_by_user_id(w.ad, ar, u->id, &list, &n), AUTHC_OK);
    assert_int_equal(n, 1);
    /* Stored as Auth.js stores it: standard base64 with padding. */
    size_t idl;
    uint8_t *id = authc__b64url_decode(ar, fx_str(w.fx, "registration.credential.rawId"),
                                       strlen(fx_str(w.fx, "registration.credential.rawId")), &idl);
    assert_string_equal(list[0].credential_id, authc__b64_encode(ar, id, idl));
    assert_string_equal(list[0].provider_account_id, list[0].credential_id);
    assert_string_equal(list[0].credential_device_type, "singleDevice");
    assert_false(list[0].credential_backed_up);
    assert_string_equal(list[0].transports, "internal");
    assert_true(strlen(list[0].credential_public_key) % 4 == 0);
    authc_account *acct = NULL;
    assert_int_equal(w.ad->ops->get_account(w.ad, ar, list[0].credential_id, "passkey", &acct), AUTHC_OK);
    assert_non_null(acct);
    assert_string_equal(acct->type, "webauthn");
    assert_string_equal(acct->user_id, u->id);

    /* Sign-ins: every one moves the stored counter. */
    int64_t last = list[0].counter;
    for (int i = 0; i < 3; i++) {
        const char *ack = challenge_cookie(w.a, auth_challenge(w.fx, i), NULL);
        json_t *ac = auth_cred(w.fx, i);
        wt_res s = wt_callback(w.a, w.origin, "authenticate", ac, ack);
        json_decref(ac);
        assert_int_equal(s.status, 302);
        assert_true(s.session[0] != '\0');
        authc_authenticator *row = NULL;
        assert_int_equal(w.ad->ops->get_authenticator(w.ad, ar, list[0].credential_id, &row), AUTHC_OK);
        assert_true(row->counter > last);
        last = row->counter;
        /* /session shows the user. */
        wt_res sess = wt_send(w.a, "GET", authc_arena_printf(ar, "%s/auth/session", w.origin),
                              authc_arena_printf(ar, "authjs.session-token=%s", s.session), NULL);
        assert_int_equal(sess.status, 200);
        assert_non_null(strstr(sess.body, email));
    }

    /* Replayed ceremony (same cookie and response again): refused. */
    const char *ack = challenge_cookie(w.a, auth_challenge(w.fx, 2), NULL);
    json_t *ac = auth_cred(w.fx, 2);
    r = wt_callback(w.a, w.origin, "authenticate", ac, ack);
    assert_true(is_verification_error(&r));
    json_decref(ac);

    /* A fresh instance has no replay memory, but the counter still stops
     * an older response (a cloned authenticator). */
    authc *a2 = wt_instance(w.ad, w.origin, true);
    ack = challenge_cookie(a2, auth_challenge(w.fx, 1), NULL);
    ac = auth_cred(w.fx, 1);
    r = wt_callback(a2, w.origin, "authenticate", ac, ack);
    assert_true(is_verification_error(&r));
    json_decref(ac);
    authc_free(a2);

    /* The same credential cannot be registered twice. */
    ck =
        challenge_cookie(w.a, fx_str(w.fx, "registration.challenge"), json_pack("{s:s}", "email", "other@example.com"));
    authc *a3 = wt_instance(w.ad, w.origin, true);
    cred = reg_cred(w.fx);
    r = wt_callback(a3, w.origin, "register", cred, ck);
    assert_true(is_verification_error(&r));
    json_decref(cred);
    authc_free(a3);

    site_close(&w);
}

static void test_http_second_device_and_options(void **st)
{
    (void)st;
    site w;
    site_open(&w, "eddsa-none");
    json_t *f2 = fixture("es256-none");
    assert_string_equal(w.origin, fx_str(f2, "origin"));
    const char *email = "two@example.com";
    json_t *cred = reg_cred(w.fx);
    wt_res r =
        wt_callback(w.a, w.origin, "register", cred,
                    challenge_cookie(w.a, fx_str(w.fx, "registration.challenge"), json_pack("{s:s}", "email", email)));
    json_decref(cred);
    assert_int_equal(r.status, 302);
    const char *session = authc_arena_printf(ar, "authjs.session-token=%s", r.session);
    authc_user *u = NULL;
    assert_int_equal(w.ad->ops->get_user_by_email(w.ad, ar, email, &u), AUTHC_OK);

    /* Options while signed in: explicit register is allowed, with the
     * first passkey excluded; no action is refused (Auth.js). */
    wt_res o = wt_send(w.a, "GET", authc_arena_printf(ar, "%s/auth/webauthn-options/passkey?action=register", w.origin),
                       session, NULL);
    assert_int_equal(o.status, 200);
    json_t *j = json_loads(o.body, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "action")), "register");
    json_t *opt = json_object_get(j, "options");
    assert_string_equal(json_string_value(json_object_get(json_object_get(opt, "rp"), "id")), "localhost");
    assert_int_equal(json_integer_value(json_object_get(opt, "timeout")), 300000);
    assert_int_equal(strlen(json_string_value(json_object_get(json_object_get(opt, "user"), "id"))), 64);
    assert_string_equal(json_string_value(json_object_get(json_object_get(opt, "user"), "name")), email);
    json_t *ex = json_object_get(opt, "excludeCredentials");
    assert_int_equal(json_array_size(ex), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ex, 0), "id")),
                        fx_str(w.fx, "registration.credential.rawId"));
    assert_true(strstr(o.cookies, "authjs.challenge=") != NULL);
    json_decref(j);
    o = wt_send(w.a, "GET", authc_arena_printf(ar, "%s/auth/webauthn-options/passkey", w.origin), session, NULL);
    assert_int_equal(o.status, 400);
    assert_string_equal(o.body, "{\"error\":\"Invalid request\"}");

    /* Second device, added by the signed-in user. */
    json_t *regdata = json_pack("{s:s,s:s}", "id", u->id, "email", email);
    cred = reg_cred(f2);
    r = wt_callback(w.a, w.origin, "register", cred,
                    join_cookies(session, challenge_cookie(w.a, fx_str(f2, "registration.challenge"), regdata)));
    json_decref(cred);
    assert_int_equal(r.status, 302);
    authc_authenticator *list = NULL;
    size_t n = 0;
    assert_int_equal(w.ad->ops->list_authenticators_by_user_id(w.ad, ar, u->id, &list, &n), AUTHC_OK);
    assert_int_equal(n, 2);

    /* Not signed in, by email: authenticate with both allowed. */
    o = wt_send(w.a, "GET",
                authc_arena_printf(ar, "%s/auth/webauthn-options/passkey?email=two%%40example.com", w.origin), NULL,
                NULL);
    assert_int_equal(o.status, 200);
    j = json_loads(o.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "action")), "authenticate");
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "options"), "allowCredentials")), 2);
    json_decref(j);
    /* Register with an existing email while signed out: refused. */
    o = wt_send(
        w.a, "GET",
        authc_arena_printf(ar, "%s/auth/webauthn-options/passkey?action=register&email=two%%40example.com", w.origin),
        NULL, NULL);
    assert_int_equal(o.status, 400);
    /* A new email with no action: register. */
    o = wt_send(w.a, "GET",
                authc_arena_printf(ar, "%s/auth/webauthn-options/passkey?email=new%%40example.com", w.origin), NULL,
                NULL);
    j = json_loads(o.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "action")), "register");
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "options"), "excludeCredentials")), 0);
    json_decref(j);
    /* Nothing given: discoverable sign-in, no allowCredentials at all. */
    o = wt_send(w.a, "GET", authc_arena_printf(ar, "%s/auth/webauthn-options/passkey", w.origin), NULL, NULL);
    j = json_loads(o.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "action")), "authenticate");
    assert_null(json_object_get(json_object_get(j, "options"), "allowCredentials"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "options"), "userVerification")),
                        "required");
    json_decref(j);
    o = wt_send(w.a, "GET", authc_arena_printf(ar, "%s/auth/webauthn-options/passkey?action=nope", w.origin), NULL,
                NULL);
    assert_int_equal(o.status, 400);
    assert_string_equal(o.body, "{\"error\":\"Invalid action\"}");

    /* Both devices sign in to the same user. */
    for (int k = 0; k < 2; k++) {
        json_t *fx = k ? f2 : w.fx;
        json_t *ac = auth_cred(fx, 0);
        wt_res s = wt_callback(w.a, w.origin, "authenticate", ac, challenge_cookie(w.a, auth_challenge(fx, 0), NULL));
        json_decref(ac);
        assert_int_equal(s.status, 302);
        wt_res sess = wt_send(w.a, "GET", authc_arena_printf(ar, "%s/auth/session", w.origin),
                              authc_arena_printf(ar, "authjs.session-token=%s", s.session), NULL);
        assert_non_null(strstr(sess.body, email));
    }

    /* Registering a new account with the email of an existing user, not
     * signed in: AccountNotLinked (Auth.js). */
    json_t *f3 = fixture("rs256-none");
    cred = reg_cred(f3);
    r = wt_callback(w.a, w.origin, "register", cred,
                    challenge_cookie(w.a, fx_str(f3, "registration.challenge"), json_pack("{s:s}", "email", email)));
    json_decref(cred);
    assert_int_equal(r.status, 302);
    assert_non_null(strstr(r.location, "/auth/signin?error=AccountNotLinked"));
    json_decref(f3);

    site_close(&w);
    json_decref(f2);
}

static void test_http_bad_ceremonies(void **st)
{
    (void)st;
    site w;
    site_open(&w, "es256-none");
    wt_res r;

    /* Unknown credential. */
    json_t *ac = auth_cred(w.fx, 0);
    r = wt_callback(w.a, w.origin, "authenticate", ac, challenge_cookie(w.a, auth_challenge(w.fx, 0), NULL));
    assert_true(is_verification_error(&r));
    json_decref(ac);

    json_t *cred = reg_cred(w.fx);
    /* No challenge cookie. */
    r = wt_callback(w.a, w.origin, "register", cred, NULL);
    assert_true(is_verification_error(&r));
    /* A sign-in challenge used for a registration. */
    r = wt_callback(w.a, w.origin, "register", cred,
                    challenge_cookie(w.a, fx_str(w.fx, "registration.challenge"), NULL));
    assert_true(is_verification_error(&r));
    /* Another challenge. */
    r = wt_callback(w.a, w.origin, "register", cred,
                    challenge_cookie(w.a, auth_challenge(w.fx, 0), json_pack("{s:s}", "email", "x@example.com")));
    assert_true(is_verification_error(&r));
    /* Garbage data field. */
    wt_res g = wt_send(w.a, "POST", authc_arena_printf(ar, "%s/auth/callback/passkey", w.origin), NULL,
                       "action=authenticate&data=%7Bnot-json");
    assert_true(is_verification_error(&g));
    g = wt_send(w.a, "POST", authc_arena_printf(ar, "%s/auth/callback/passkey", w.origin), NULL, "action=authenticate");
    assert_true(is_verification_error(&g));
    /* Bad action: Configuration, as Auth.js. */
    g = wt_send(w.a, "POST", authc_arena_printf(ar, "%s/auth/callback/passkey", w.origin), NULL,
                "action=hack&data=%7B%7D");
    assert_int_equal(g.status, 302);
    assert_non_null(strstr(g.location, "error=Configuration"));
    /* GET callback: Configuration. */
    g = wt_send(w.a, "GET", authc_arena_printf(ar, "%s/auth/callback/passkey", w.origin), NULL, NULL);
    assert_non_null(strstr(g.location, "error=Configuration"));

    /* Served on another origin (rpId 127.0.0.1): origin and rpIdHash differ. */
    authc *other = wt_instance(w.ad, NULL, true);
    const char *ip_origin = "http://127.0.0.1:4999";
    r = wt_callback(
        other, ip_origin, "register", cred,
        challenge_cookie(other, fx_str(w.fx, "registration.challenge"), json_pack("{s:s}", "email", "x@example.com")));
    assert_true(is_verification_error(&r));
    authc_free(other);

    /* The real one still works afterwards (failures burn nothing). */
    r = wt_callback(
        w.a, w.origin, "register", cred,
        challenge_cookie(w.a, fx_str(w.fx, "registration.challenge"), json_pack("{s:s}", "email", "x@example.com")));
    assert_int_equal(r.status, 302);
    assert_true(r.session[0] != '\0');
    json_decref(cred);

    /* With X-Auth-Return-Redirect (next-auth/webauthn): {url} of the error. */
    ac = auth_cred(w.fx, 0);
    size_t n;
    uint8_t *sig = resp_bytes(ac, "signature", &n);
    sig[8] ^= 0x40;
    resp_set(ac, "signature", sig, n);
    char *data = json_dumps(ac, JSON_COMPACT);
    authc__buf b;
    authc__buf_init(&b, ar, 64 * 1024);
    form_add(&b, "action", "authenticate");
    form_add(&b, "data", data);
    free(data);
    const char *ck = challenge_cookie(w.a, auth_challenge(w.fx, 0), NULL);
    authc_header h[] = {{"Cookie", ck}, {"Content-Type", "application/x-www-form-urlencoded"},
                        {"X-Auth-Return-Redirect", "1"}};
    authc_request req = {.method = "POST",
                         .url = authc_arena_printf(ar, "%s/auth/callback/passkey", w.origin),
                         .headers = h,
                         .nheaders = 3,
                         .body = b.p,
                         .body_len = b.len};
    authc_response *res = NULL;
    assert_int_equal(authc_handle(w.a, &req, &res), AUTHC_OK);
    assert_int_equal(res->status, 200);
    char *rb = authc_arena_strndup(ar, res->body, res->body_len);
    assert_non_null(strstr(rb, "error=WebAuthnVerificationError"));
    assert_null(authc_response_header(res, "Set-Cookie"));
    authc_response_free(res);
    json_decref(ac);

    site_close(&w);
}

static void test_config_refusals(void **st)
{
    (void)st;
    authc_config *cfg;
    char err[2048];
    authc_passkey_provider p = {.enable_webauthn = true};
    /* No adapter. */
    cfg = authc_config_new();
    authc_config_set(cfg, "secret", "unit-test-secret-0123456789abcdefghijkl", err, sizeof err);
    assert_int_equal(authc_config_add_passkey(cfg, &p), AUTHC_OK);
    err[0] = '\0';
    assert_null(authc_new(cfg, err, sizeof err));
    assert_non_null(strstr(err, "MissingAdapter"));
    /* Not opted in. */
    authc_adapter *ad = memory_adapter();
    cfg = authc_config_new();
    authc_config_set(cfg, "secret", "unit-test-secret-0123456789abcdefghijkl", err, sizeof err);
    authc_passkey_provider off = {0};
    authc_config_add_passkey(cfg, &off);
    authc_config_set_adapter(cfg, ad);
    err[0] = '\0';
    assert_null(authc_new(cfg, err, sizeof err));
    assert_non_null(strstr(err, "ExperimentalFeatureNotEnabled"));
    /* An adapter without the authenticator methods. */
    authc_adapter thin;
    authc_adapter_ops thin_ops;
    authc_adapter_wrap(&thin, &thin_ops, ad);
    thin_ops.get_authenticator = NULL;
    thin_ops.update_authenticator_counter = NULL;
    cfg = authc_config_new();
    authc_config_set(cfg, "secret", "unit-test-secret-0123456789abcdefghijkl", err, sizeof err);
    authc_config_add_passkey(cfg, &p);
    authc_config_set_adapter(cfg, &thin);
    err[0] = '\0';
    assert_null(authc_new(cfg, err, sizeof err));
    assert_non_null(strstr(err, "MissingAdapterMethods"));
    assert_non_null(strstr(err, "getAuthenticator, updateAuthenticatorCounter"));
    /* Bad values. */
    const char *bad_origin[] = {"https://app.example/path"};
    authc_passkey_provider bad = {.enable_webauthn = true, .user_verification = "always", .origins = bad_origin,
                                  .norigins = 1};
    cfg = authc_config_new();
    authc_config_set(cfg, "secret", "unit-test-secret-0123456789abcdefghijkl", err, sizeof err);
    authc_config_add_passkey(cfg, &bad);
    authc_config_set_adapter(cfg, ad);
    err[0] = '\0';
    assert_null(authc_new(cfg, err, sizeof err));
    assert_non_null(strstr(err, "user_verification"));
    /* rp_id and origins override the request's. */
    const char *origins[] = {"https://app.example", "https://www.app.example"};
    authc_passkey_provider good = {.enable_webauthn = true, .rp_id = "app.example", .rp_name = "App",
                                   .origins = origins, .norigins = 2, .user_verification = "preferred",
                                   .attestation = "direct", .timeout_ms = 60000};
    cfg = authc_config_new();
    authc_config_set(cfg, "secret", "unit-test-secret-0123456789abcdefghijkl", err, sizeof err);
    authc_config_set(cfg, "trust_host", "true", err, sizeof err);
    authc_config_set(cfg, "allowed_hosts", "app.example,www.app.example", err, sizeof err);
    authc_config_add_passkey(cfg, &good);
    authc_config_set_adapter(cfg, ad);
    err[0] = '\0';
    authc *a = authc_new(cfg, err, sizeof err);
    if (!a)
        fail_msg("%s", err);
    wt_res o = wt_send(a, "GET", "https://www.app.example/auth/webauthn-options/passkey?email=z%40app.example", NULL,
                       NULL);
    json_t *j = json_loads(o.body, 0, NULL);
    json_t *opt = json_object_get(j, "options");
    assert_string_equal(json_string_value(json_object_get(json_object_get(opt, "rp"), "id")), "app.example");
    assert_string_equal(json_string_value(json_object_get(json_object_get(opt, "rp"), "name")), "App");
    assert_string_equal(json_string_value(json_object_get(opt, "attestation")), "direct");
    assert_int_equal(json_integer_value(json_object_get(opt, "timeout")), 60000);
    assert_string_equal(json_string_value(json_object_get(json_object_get(opt, "authenticatorSelection"),
                                                          "userVerification")),
                        "preferred");
    json_decref(j);
    /* The soft authenticator (rp app.example) registers through HTTP in
     * secure mode (https: __Secure- cookie names), UV not required. */
    soft s = soft_new(AUTHC__COSE_ES256, 0);
    s.origin = "https://www.app.example";
    json_t *cred = soft_register(&s, "soft-challenge", AUTHC__WA_UP, ATT_SELF, false);
    char *ck = challenge_cookie_mode(a, true, "soft-challenge", json_pack("{s:s}", "email", "z@app.example"));
    assert_non_null(strstr(ck, "__Secure-authjs.challenge="));
    wt_res r = wt_callback(a, "https://app.example", "register", cred, ck);
    assert_int_equal(r.status, 302);
    assert_string_equal(r.location, "https://app.example");
    /* An authenticator that keeps no counter (0/0): the replay memory is
     * what refuses the same ceremony twice. */
    s.counter = 0;
    json_t *as = soft_assert(&s, "soft-signin", AUTHC__WA_UP);
    ck = challenge_cookie_mode(a, true, "soft-signin", NULL);
    r = wt_callback(a, "https://app.example", "authenticate", as, ck);
    assert_int_equal(r.status, 302);
    assert_string_equal(r.location, "https://app.example");
    r = wt_callback(a, "https://app.example", "authenticate", as, ck);
    assert_int_equal(r.status, 302);
    assert_non_null(strstr(r.location, "error=WebAuthnVerificationError"));
    json_decref(as);
    json_decref(cred);
    EVP_PKEY_free(s.k);
    authc_free(a);
    authc_adapter_close(ad);
}

/* Each test with a fresh fixture. */
#define T(f) cmocka_unit_test_setup_teardown(f, arena_setup, arena_teardown)
/* ... or with a recorded ceremony opened (ceremony_setup). */
#define TC(f, name) cmocka_unit_test_prestate_setup_teardown(f, ceremony_setup, ceremony_teardown, (void *)name)
TU_MAIN(NULL, NULL,
        T(test_recorded_eddsa), T(test_recorded_es256), T(test_recorded_rs256),
        T(test_recorded_packed_x5c), T(test_recorded_no_uv_allowed), T(test_recorded_u2f),
        TC(test_wrong_origin, "es256-none"), TC(test_wrong_challenge, "es256-none"),
        TC(test_wrong_type, "eddsa-none"), T(test_bad_signature), TC(test_counter_going_back, "eddsa-none"),
        TC(test_wrong_rp_id_hash, "es256-none"), TC(test_flags, "es256-none"), TC(test_malformed_cbor, "es256-none"),
        T(test_attestation_tampering), T(test_mutation_robustness), T(test_soft_algorithms),
        T(test_soft_rejections), T(test_cose_and_cbor_helpers), T(test_http_register_and_sign_in),
        T(test_http_second_device_and_options), T(test_http_bad_ceremonies),
        T(test_config_refusals))
