/* fuzz_webauthn.c — WebAuthn parsing (lib/providers/webauthn_verify.c):
 * CBOR items, authenticator data, COSE keys, and whole ceremonies as the
 * recorded fixtures hold them (registration, then each sign-in). */
#include <jansson.h>

#include "fuzz.h"
#include "providers/webauthn_int.h"

static void binary(const uint8_t *p, size_t n, int mode)
{
    const char *why = NULL;
    if (mode == 0) {
        size_t l = authc__wa_cbor_item_len(p, n);
        FUZZ_CHECK(l <= n, "CBOR item longer than its input");
    } else if (mode == 1) {
        authc__wa_authdata ad;
        if (authc__wa_parse_authdata(p, n, &ad, &why) == AUTHC_OK) {
            FUZZ_CHECK(ad.rp_id_hash == p && n >= 37, "authData shorter than its header");
            if (ad.flags & AUTHC__WA_AT) {
                FUZZ_CHECK(ad.cred_id >= p && ad.cred_id + ad.cred_id_len <= p + n, "cred id out of bounds");
                FUZZ_CHECK(ad.cose_key >= p && ad.cose_key + ad.cose_key_len <= p + n, "COSE key out of bounds");
                FUZZ_CHECK(ad.cred_id_len <= AUTHC__WA_MAX_CRED_ID, "cred id over the limit");
            }
        } else {
            FUZZ_CHECK(why, "refused without a reason");
        }
    } else {
        EVP_PKEY *k = NULL;
        int alg = 0;
        if (authc__wa_cose_to_pkey(p, n, &k, &alg, &why) == AUTHC_OK) {
            FUZZ_CHECK(k, "OK without a key");
            static const uint8_t msg[] = "fuzz", sig[72] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01};
            FUZZ_CHECK(!authc__wa_verify_sig(k, alg, msg, sizeof msg, sig, sizeof sig), "junk signature verified");
            EVP_PKEY_free(k);
        }
    }
}

/* A ceremony in the fixtures' shape: {"origin","rpId","registration":
 * {"challenge","credential"},"authentications":[{"challenge","credential"}]}. */
static void ceremony(const char *txt, size_t n)
{
    json_t *fx = json_loadb(txt, n, 0, NULL);
    if (!json_is_object(fx)) {
        json_decref(fx);
        return;
    }
    const char *origin = json_string_value(json_object_get(fx, "origin"));
    const char *rp_id = json_string_value(json_object_get(fx, "rpId"));
    json_t *reg = json_object_get(fx, "registration");
    const char *ch = json_string_value(json_object_get(reg, "challenge"));
    json_t *cred = json_object_get(reg, "credential");
    if (!origin || !rp_id || !ch || !cred) {
        json_decref(fx);
        return;
    }
    authc__wa_rp rp = {.rp_id = rp_id, .origins = &origin, .norigins = 1, .require_uv = false};
    authc_arena *ar = authc_arena_new();
    authc__wa_registration r;
    const char *why = NULL;
    authc_err e = authc__wa_verify_registration(ar, &rp, ch, cred, &r, &why);
    if (e == AUTHC_OK) {
        FUZZ_CHECK(r.cred_id && r.cred_id_len && r.cred_id_len <= AUTHC__WA_MAX_CRED_ID, "cred id");
        FUZZ_CHECK(r.cose_key && r.cose_key_len && r.fmt && r.device_type, "registration outcome");
        uint32_t counter = r.counter;
        size_t i;
        json_t *au;
        json_array_foreach(json_object_get(fx, "authentications"), i, au) {
            const char *ac = json_string_value(json_object_get(au, "challenge"));
            json_t *acred = json_object_get(au, "credential");
            if (!ac || !acred)
                continue;
            authc__wa_assertion as;
            e = authc__wa_verify_authentication(ar, &rp, ac, acred, r.cose_key, r.cose_key_len,
                                                counter, &as, &why);
            if (e == AUTHC_OK) {
                FUZZ_CHECK(as.device_type, "assertion outcome");
                FUZZ_CHECK(!counter || !as.new_counter || as.new_counter > counter,
                           "counter went back and was accepted");
                counter = as.new_counter;
            } else {
                FUZZ_CHECK(why, "refused without a reason");
            }
        }
    } else {
        FUZZ_CHECK(why, "refused without a reason");
    }
    authc_arena_free(ar);
    json_decref(fx);
}

/* Input: '{' … a ceremony; otherwise byte 0 picks the binary parser
 * (0 CBOR item, 1 authenticator data, 2 COSE key) for the rest. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024)
        return 0;
    if (data[0] == '{') {
        ceremony((const char *)data, size);
        return 0;
    }
    /* Exact-size copy so reads past the end are caught. */
    uint8_t *p = malloc(size - 1 ? size - 1 : 1);
    memcpy(p, data + 1, size - 1);
    binary(p, size - 1, data[0] % 3);
    authc_arena *ar = authc_arena_new();
    size_t l;
    char *s = fuzz_cstr(data + 1, size - 1);
    uint8_t *d = authc__wa_b64any_decode(ar, s, &l);
    FUZZ_CHECK(!d || l <= AUTHC__WA_MAX_CRED_ID, "credential id over the limit");
    free(s);
    authc_arena_free(ar);
    free(p);
    return 0;
}
