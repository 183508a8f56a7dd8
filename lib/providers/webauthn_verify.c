/* webauthn_verify.c — WebAuthn ceremony verification: client data, authenticator
 * data, attestation (none, packed, fido-u2f) and signatures (libcbor, libfido2, OpenSSL). */
#include <cbor.h>
#include <fido.h>
#include <fido/es256.h>
#include <fido/rs256.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <string.h>

#include "providers/webauthn_int.h"
#include "util/util_int.h"

#define FAIL(msg) (*why = (msg), AUTHC_ERR_WEBAUTHN_VERIFICATION)

/* A verification failure whose reason is formatted into ar; the fixed
 * `fallback` when that runs out of memory. */
static authc_err failf(authc_arena *ar, const char **why, const char *fallback,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static authc_err failf(authc_arena *ar, const char **why, const char *fallback,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = authc__arena_vprintf(ar, fmt, ap);
    va_end(ap);
    *why = msg ? msg : fallback;
    return AUTHC_ERR_WEBAUTHN_VERIFICATION;
}

/* ------------------------------------------------------------------ */
/* CBOR: a well-formedness and depth check on libcbor's streaming decoder,
 * so every item handed to cbor_load is bounded (its decref recurses). */

typedef struct cbor_walk {
    size_t depth;                          /* open containers */
    uint64_t left[AUTHC__WA_MAX_CBOR_DEPTH + 1];
    bool bad, done;
} cbor_walk;

/* One complete item ends: pop every container it completes. */
static void walk_item(cbor_walk *w)
{
    for (;;) {
        if (w->depth == 0) {
            w->done = true;
            return;
        }
        if (--w->left[w->depth] > 0)
            return;
        w->depth--; /* the container itself is one item of its parent */
    }
}

static void walk_open(cbor_walk *w, uint64_t items)
{
    if (items == 0) {
        walk_item(w);
        return;
    }
    if (w->depth >= AUTHC__WA_MAX_CBOR_DEPTH) {
        w->bad = true;
        return;
    }
    w->left[++w->depth] = items;
}

static void w_u8(void *c, uint8_t v) { (void)v; walk_item(c); }
static void w_u16(void *c, uint16_t v) { (void)v; walk_item(c); }
static void w_u32(void *c, uint32_t v) { (void)v; walk_item(c); }
static void w_u64(void *c, uint64_t v) { (void)v; walk_item(c); }
static void w_str(void *c, cbor_data d, size_t n) { (void)d; (void)n; walk_item(c); }
static void w_indef(void *c) { ((cbor_walk *)c)->bad = true; }
static void w_array(void *c, size_t n) { walk_open(c, n); }
static void w_map(void *c, size_t n)
{
    if (n > SIZE_MAX / 2)
        ((cbor_walk *)c)->bad = true;
    else
        walk_open(c, (uint64_t)n * 2);
}
static void w_tag(void *c, uint64_t v) { (void)c; (void)v; /* prefixes the next item */ }
static void w_f4(void *c, float v) { (void)v; walk_item(c); }
static void w_f8(void *c, double v) { (void)v; walk_item(c); }
static void w_simple(void *c) { walk_item(c); }
static void w_bool(void *c, bool v) { (void)v; walk_item(c); }

size_t authc__wa_cbor_item_len(const uint8_t *p, size_t n)
{
    struct cbor_callbacks cb = cbor_empty_callbacks;
    cb.uint8 = w_u8;
    cb.uint16 = w_u16;
    cb.uint32 = w_u32;
    cb.uint64 = w_u64;
    cb.negint8 = w_u8;
    cb.negint16 = w_u16;
    cb.negint32 = w_u32;
    cb.negint64 = w_u64;
    cb.byte_string = w_str;
    cb.string = w_str;
    cb.byte_string_start = w_indef;
    cb.string_start = w_indef;
    cb.indef_array_start = w_indef;
    cb.indef_map_start = w_indef;
    cb.indef_break = w_indef;
    cb.array_start = w_array;
    cb.map_start = w_map;
    cb.tag = w_tag;
    cb.float2 = w_f4;
    cb.float4 = w_f4;
    cb.float8 = w_f8;
    cb.undefined = w_simple;
    cb.null = w_simple;
    cb.boolean = w_bool;
    cbor_walk w = {0};
    size_t off = 0;
    while (!w.done) {
        if (off >= n)
            return 0;
        struct cbor_decoder_result r = cbor_stream_decode(p + off, n - off, &cb, &w);
        if (r.status != CBOR_DECODER_FINISHED || r.read == 0 || w.bad)
            return 0;
        off += r.read;
    }
    return off;
}

/* Loads exactly one item spanning all n bytes; NULL when malformed. */
static cbor_item_t *cbor_exact(const uint8_t *p, size_t n)
{
    if (!n || authc__wa_cbor_item_len(p, n) != n)
        return NULL;
    struct cbor_load_result r;
    cbor_item_t *it = cbor_load(p, n, &r);
    if (!it)
        return NULL;
    if (r.error.code != CBOR_ERR_NONE || r.read != n) {
        cbor_decref(&it);
        return NULL;
    }
    return it;
}

/* Integer value of a uint/negint item (int64 range) or false. */
static bool cbor_int_value(const cbor_item_t *it, int64_t *v)
{
    if (cbor_isa_uint(it)) {
        uint64_t u = cbor_get_int(it);
        if (u > INT64_MAX)
            return false;
        *v = (int64_t)u;
        return true;
    }
    if (cbor_isa_negint(it)) {
        uint64_t u = cbor_get_int(it);
        if (u > INT64_MAX)
            return false;
        *v = -1 - (int64_t)u;
        return true;
    }
    return false;
}

static bool cbor_text_is(const cbor_item_t *it, const char *s)
{
    return cbor_isa_string(it) && cbor_string_is_definite(it) &&
           cbor_string_length(it) == strlen(s) &&
           memcmp(cbor_string_handle(it), s, strlen(s)) == 0;
}

static bool cbor_bytes(const cbor_item_t *it, const uint8_t **p, size_t *n)
{
    if (!cbor_isa_bytestring(it) || !cbor_bytestring_is_definite(it))
        return false;
    *p = cbor_bytestring_handle(it);
    *n = cbor_bytestring_length(it);
    return true;
}

/* ------------------------------------------------------------------ */
/* Authenticator data. */

authc_err authc__wa_parse_authdata(const uint8_t *p, size_t n, authc__wa_authdata *out,
                                   const char **why)
{
    memset(out, 0, sizeof *out);
    if (n < 37)
        return FAIL("authenticator data shorter than 37 bytes");
    if (n > AUTHC__WA_MAX_AUTH_DATA)
        return FAIL("authenticator data too long");
    out->rp_id_hash = p;
    out->flags = p[32];
    out->counter = (uint32_t)p[33] << 24 | (uint32_t)p[34] << 16 | (uint32_t)p[35] << 8 | p[36];
    size_t off = 37;
    if (out->flags & AUTHC__WA_AT) {
        if (n - off < 18)
            return FAIL("attested credential data truncated");
        out->aaguid = p + off;
        off += 16;
        size_t idl = (size_t)p[off] << 8 | p[off + 1];
        off += 2;
        if (idl == 0 || idl > AUTHC__WA_MAX_CRED_ID)
            return FAIL("credential id length out of range");
        if (n - off < idl)
            return FAIL("credential id truncated");
        out->cred_id = p + off;
        out->cred_id_len = idl;
        off += idl;
        size_t kl = authc__wa_cbor_item_len(p + off, n - off);
        if (!kl)
            return FAIL("credential public key is not well-formed CBOR");
        if (kl > AUTHC__WA_MAX_COSE_KEY)
            return FAIL("credential public key too long");
        out->cose_key = p + off;
        out->cose_key_len = kl;
        off += kl;
    }
    if (out->flags & AUTHC__WA_ED) {
        size_t el = authc__wa_cbor_item_len(p + off, n - off);
        if (!el)
            return FAIL("authenticator extensions are not well-formed CBOR");
        cbor_item_t *ext = cbor_exact(p + off, el);
        bool ok = ext && cbor_isa_map(ext);
        if (ext)
            cbor_decref(&ext);
        if (!ok)
            return FAIL("authenticator extensions are not a CBOR map");
        off += el;
    }
    if (off != n)
        return FAIL("leftover bytes after authenticator data");
    return AUTHC_OK;
}

/* ------------------------------------------------------------------ */
/* COSE keys. */

static EVP_PKEY *rsa_from_ne(const uint8_t *n, size_t nl, const uint8_t *e, size_t el)
{
    /* libfido2 holds exactly 2048-bit moduli with a 3-byte exponent. */
    if (nl == 256 && el <= 3) {
        uint8_t raw[259] = {0};
        memcpy(raw, n, 256);
        memcpy(raw + 256 + (3 - el), e, el);
        rs256_pk_t *pk = rs256_pk_new();
        EVP_PKEY *k = NULL;
        if (pk && rs256_pk_from_ptr(pk, raw, sizeof raw) == FIDO_OK)
            k = rs256_pk_to_EVP_PKEY(pk);
        rs256_pk_free(&pk);
        return k;
    }
    BIGNUM *bn = BN_bin2bn(n, (int)nl, NULL), *be = BN_bin2bn(e, (int)el, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *k = NULL;
    if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) &&
        (params = OSSL_PARAM_BLD_to_param(bld)) &&
        (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) != 1)
        k = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return k;
}

authc_err authc__wa_cose_to_pkey(const uint8_t *cose, size_t n, EVP_PKEY **pkey, int *alg,
                                 const char **why)
{
    *pkey = NULL;
    *alg = 0;
    if (n > AUTHC__WA_MAX_COSE_KEY)
        return FAIL("COSE key too long");
    cbor_item_t *m = cbor_exact(cose, n);
    if (!m)
        return FAIL("COSE key is not well-formed CBOR");
    if (!cbor_isa_map(m) || !cbor_map_is_definite(m)) {
        cbor_decref(&m);
        return FAIL("COSE key is not a CBOR map");
    }
    int64_t kty = 0, a = 0, crv = 0;
    bool has_kty = false, has_alg = false, has_crv = false;
    const uint8_t *x = NULL, *y = NULL, *nn = NULL;
    size_t xl = 0, yl = 0, nl = 0;
    struct cbor_pair *pairs = cbor_map_handle(m);
    size_t np = cbor_map_size(m);
    const char *err = NULL;
    uint64_t seen = 0; /* labels -3..3 seen, for duplicates */
    for (size_t i = 0; i < np && !err; i++) {
        int64_t label, iv;
        if (!cbor_int_value(pairs[i].key, &label))
            continue; /* text labels are not used by WebAuthn keys */
        if (label >= -3 && label <= 3) {
            uint64_t bit = 1u << (label + 3);
            if (seen & bit) {
                err = "COSE key has a duplicate label";
                break;
            }
            seen |= bit;
        }
        const cbor_item_t *v = pairs[i].value;
        switch (label) {
        case 1:
            if (!(has_kty = cbor_int_value(v, &kty)))
                err = "COSE kty is not an integer";
            break;
        case 3:
            if (!(has_alg = cbor_int_value(v, &a)))
                err = "COSE alg is not an integer";
            break;
        case -1:
            /* crv (EC2/OKP) or n (RSA): both kinds are kept until kty is known */
            if (cbor_int_value(v, &iv)) {
                crv = iv;
                has_crv = true;
            } else if (!cbor_bytes(v, &nn, &nl)) {
                err = "COSE label -1 is neither a curve nor a modulus";
            }
            break;
        case -2:
            if (!cbor_bytes(v, &x, &xl))
                err = "COSE label -2 is not a byte string";
            break;
        case -3:
            if (!cbor_bytes(v, &y, &yl))
                err = "COSE label -3 is not a byte string";
            break;
        default:
            break;
        }
    }
    EVP_PKEY *k = NULL;
    if (!err && (!has_kty || !has_alg))
        err = "COSE key lacks kty or alg";
    if (!err) {
        switch (a) {
        case AUTHC__COSE_ES256: {
            if (kty != 2 || !has_crv || crv != 1 || xl != 32 || yl != 32) {
                err = "ES256 key is not an EC2 P-256 key with 32-byte x and y";
                break;
            }
            uint8_t xy[64];
            memcpy(xy, x, 32);
            memcpy(xy + 32, y, 32);
            es256_pk_t *pk = es256_pk_new();
            if (pk && es256_pk_from_ptr(pk, xy, sizeof xy) == FIDO_OK)
                k = es256_pk_to_EVP_PKEY(pk);
            es256_pk_free(&pk);
            if (!k)
                err = "ES256 key is not a point on P-256";
            break;
        }
        case AUTHC__COSE_EDDSA: {
            if (kty != 1 || !has_crv || crv != 6 || xl != 32) {
                err = "EdDSA key is not an OKP Ed25519 key with a 32-byte x";
                break;
            }
            /* What libfido2's eddsa_pk_to_EVP_PKEY does, without the copy. */
            if (!(k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xl)))
                err = "EdDSA key could not be loaded";
            break;
        }
        case AUTHC__COSE_RS256: {
            /* For RSA, -1 is n and -2 is e. */
            const uint8_t *rn = nn, *re = x;
            size_t rnl = nl, rel = xl;
            while (rnl && rn[0] == 0) {
                rn++;
                rnl--;
            }
            if (kty != 3 || !rn || !re || rnl < 256 || rnl > 512 || rel == 0 || rel > 8) {
                err = "RS256 key is not an RSA key of 2048 to 4096 bits";
                break;
            }
            if (!(k = rsa_from_ne(rn, rnl, re, rel)))
                err = "RS256 key could not be loaded";
            break;
        }
        default:
            err = "COSE alg is not one of ES256, EdDSA, RS256";
            break;
        }
    }
    cbor_decref(&m);
    if (err) {
        EVP_PKEY_free(k);
        return FAIL(err);
    }
    *pkey = k;
    *alg = (int)a;
    return AUTHC_OK;
}

bool authc__wa_verify_sig(EVP_PKEY *pkey, int alg, const uint8_t *data, size_t dn,
                          const uint8_t *sig, size_t sn)
{
    const EVP_MD *md = NULL;
    int want;
    switch (alg) {
    case AUTHC__COSE_ES256: md = EVP_sha256(); want = EVP_PKEY_EC; break;
    case AUTHC__COSE_ES384: md = EVP_sha384(); want = EVP_PKEY_EC; break;
    case AUTHC__COSE_ES512: md = EVP_sha512(); want = EVP_PKEY_EC; break;
    case AUTHC__COSE_RS256: md = EVP_sha256(); want = EVP_PKEY_RSA; break;
    case AUTHC__COSE_RS384: md = EVP_sha384(); want = EVP_PKEY_RSA; break;
    case AUTHC__COSE_RS512: md = EVP_sha512(); want = EVP_PKEY_RSA; break;
    case AUTHC__COSE_EDDSA: md = NULL; want = EVP_PKEY_ED25519; break;
    default: return false;
    }
    if (!pkey || EVP_PKEY_get_base_id(pkey) != want || sn == 0 || sn > AUTHC__WA_MAX_SIG)
        return false;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) == 1 &&
              EVP_DigestVerify(ctx, sig, sn, data, dn) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* ------------------------------------------------------------------ */
/* Response JSON helpers. */

/* Decodes base64url of at most max bytes (padding tolerated; with std,
 * also the '+' and '/' of standard base64). Arena memory; NULL when s is
 * NULL, empty, malformed or decodes to more than max bytes. */
static uint8_t *b64_decode_max(authc_arena *ar, const char *s, size_t max, bool std, size_t *outlen)
{
    if (!s)
        return NULL;
    size_t l = strlen(s);
    while (l && s[l - 1] == '=')
        l--;
    if (l == 0 || l > (max + 2) / 3 * 4)
        return NULL;
    if (std) {
        char *t = authc_arena_strndup(ar, s, l);
        if (!t)
            return NULL;
        for (char *q = t; *q; q++) {
            if (*q == '+')
                *q = '-';
            else if (*q == '/')
                *q = '_';
        }
        s = t;
    }
    uint8_t *p = authc__b64url_decode(ar, s, l, outlen);
    return p && *outlen <= max ? p : NULL;
}

/* Decodes a required base64url member of obj (padding tolerated). */
static uint8_t *b64url_member(authc_arena *ar, json_t *obj, const char *key, size_t max,
                              size_t *outlen)
{
    return b64_decode_max(ar, json_string_value(json_object_get(obj, key)), max, false, outlen);
}

uint8_t *authc__wa_b64any_decode(authc_arena *ar, const char *s, size_t *outlen)
{
    return b64_decode_max(ar, s, AUTHC__WA_MAX_CRED_ID, true, outlen);
}

/* Common first steps (WebAuthn §7.1/§7.2): id/rawId/type, client data
 * (type, challenge, origin, cross-origin, token binding); *cdh = its hash,
 * *resp = the credential's response object (borrowed from cred). */
static authc_err check_client_data(authc_arena *ar, const authc__wa_rp *rp, const char *challenge,
                                   json_t *cred, const char *want_type, uint8_t cdh[32],
                                   json_t **resp_out, const char **why)
{
    if (!json_is_object(cred))
        return FAIL("credential is not a JSON object");
    const char *id = json_string_value(json_object_get(cred, "id"));
    const char *raw = json_string_value(json_object_get(cred, "rawId"));
    if (!id || !*id)
        return FAIL("credential has no id");
    if (!raw || strcmp(id, raw) != 0)
        return FAIL("credential id and rawId differ (id must be base64url)");
    const char *type = json_string_value(json_object_get(cred, "type"));
    if (!type || strcmp(type, "public-key") != 0)
        return FAIL("credential type is not \"public-key\"");
    json_t *resp = json_object_get(cred, "response");
    if (!json_is_object(resp))
        return FAIL("credential has no response object");
    size_t cdl = 0;
    uint8_t *cd = b64url_member(ar, resp, "clientDataJSON", AUTHC__WA_MAX_CLIENT_DATA, &cdl);
    if (!cd)
        return FAIL("clientDataJSON is missing, not base64url, or too long");
    json_error_t je;
    json_t *j = json_loadb((const char *)cd, cdl, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(j)) {
        json_decref(j);
        return FAIL("clientDataJSON is not a JSON object");
    }
    const char *ct = json_string_value(json_object_get(j, "type"));
    const char *cc = json_string_value(json_object_get(j, "challenge"));
    const char *co = json_string_value(json_object_get(j, "origin"));
    json_t *xo = json_object_get(j, "crossOrigin");
    json_t *tb = json_object_get(j, "tokenBinding");
    const char *tbs = json_is_object(tb) ? json_string_value(json_object_get(tb, "status")) : NULL;
    bool origin_ok = false;
    for (size_t i = 0; co && i < rp->norigins && !origin_ok; i++)
        origin_ok = rp->origins[i] && strcmp(co, rp->origins[i]) == 0;
    const char *err = NULL;
    bool bad = true;
    if (!ct || strcmp(ct, want_type) != 0)
        err = authc_arena_printf(ar, "client data type \"%.40s\" is not \"%s\"", ct ? ct : "(none)",
                                 want_type);
    else if (!cc || !authc__ct_streq(cc, challenge))
        err = "client data challenge does not match the challenge issued (stale, replayed or forged)";
    else if (!co)
        err = "client data has no origin";
    else if (!origin_ok)
        err = authc_arena_printf(ar, "client data origin \"%.120s\" is not allowed (expected %.120s%s)",
                                 co, rp->norigins ? rp->origins[0] : "?",
                                 rp->norigins > 1 ? " or another configured origin" : "");
    else if (json_is_true(xo))
        err = "cross-origin ceremony (from an iframe) refused";
    else if (tb && (!tbs || (strcmp(tbs, "present") && strcmp(tbs, "supported") &&
                             strcmp(tbs, "not-supported"))))
        err = "client data tokenBinding is malformed";
    else
        bad = false;
    json_decref(j);
    if (bad)
        return FAIL(err ? err : "client data rejected");
    SHA256(cd, cdl, cdh);
    *resp_out = resp;
    return AUTHC_OK;
}

/* Parses authenticator data p[0..n) into *ad (pointing into p) and checks
 * it is for this relying party with acceptable flags (both ceremonies). */
static authc_err rp_authdata(const authc__wa_rp *rp, const uint8_t *p, size_t n,
                             authc__wa_authdata *ad, const char **why)
{
    authc_err e = authc__wa_parse_authdata(p, n, ad, why);
    if (e)
        return e;
    uint8_t h[32];
    SHA256((const uint8_t *)rp->rp_id, strlen(rp->rp_id), h);
    if (CRYPTO_memcmp(h, ad->rp_id_hash, 32) != 0)
        return FAIL("rpIdHash in authenticator data is not SHA-256 of this relying party id");
    if (!(ad->flags & AUTHC__WA_UP))
        return FAIL("user presence (UP) flag is not set");
    if (rp->require_uv && !(ad->flags & AUTHC__WA_UV))
        return FAIL("user verification (UV) is required but the flag is not set");
    if (!(ad->flags & AUTHC__WA_BE) && (ad->flags & AUTHC__WA_BS))
        return FAIL("backup state (BS) set on a credential that is not backup eligible");
    return AUTHC_OK;
}

/* ------------------------------------------------------------------ */
/* Attestation statements. */

static void x509_text(X509_NAME *nm, int nid, char *buf, int cap)
{
    if (X509_NAME_get_text_by_NID(nm, nid, buf, cap) < 0)
        buf[0] = '\0';
}

/* Packed "full" attestation certificate requirements (WebAuthn §8.2.1). */
static authc_err check_packed_cert(X509 *x, const uint8_t *aaguid, const char **why)
{
    if (X509_get_version(x) != 2)
        return FAIL("packed attestation certificate is not X.509 v3");
    X509_NAME *sn = X509_get_subject_name(x);
    char ou[128], cn[128], o[128], cc[8];
    x509_text(sn, NID_organizationalUnitName, ou, sizeof ou);
    x509_text(sn, NID_commonName, cn, sizeof cn);
    x509_text(sn, NID_organizationName, o, sizeof o);
    x509_text(sn, NID_countryName, cc, sizeof cc);
    if (strcmp(ou, "Authenticator Attestation") != 0)
        return FAIL("packed attestation certificate OU is not \"Authenticator Attestation\"");
    if (!cn[0] || !o[0])
        return FAIL("packed attestation certificate lacks CN or O");
    if (strlen(cc) != 2)
        return FAIL("packed attestation certificate C is not a two-letter country code");
    int crit = -1;
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
    bool ca = bc && bc->ca;
    BASIC_CONSTRAINTS_free(bc);
    if (ca)
        return FAIL("packed attestation certificate is a CA certificate");
    if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0)
        return FAIL("packed attestation certificate is not yet valid");
    if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0)
        return FAIL("packed attestation certificate has expired");
    /* id-fido-gen-ce-aaguid, when present, must name the same AAGUID. */
    ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.4.1.45724.1.1.4", 1);
    if (!oid)
        return AUTHC_ERR_NOMEM;
    int idx = X509_get_ext_by_OBJ(x, oid, -1);
    ASN1_OBJECT_free(oid);
    if (idx >= 0) {
        X509_EXTENSION *ext = X509_get_ext(x, idx);
        if (X509_EXTENSION_get_critical(ext))
            return FAIL("packed attestation certificate AAGUID extension is critical");
        ASN1_OCTET_STRING *outer = X509_EXTENSION_get_data(ext);
        const unsigned char *q = ASN1_STRING_get0_data(outer);
        ASN1_OCTET_STRING *inner = d2i_ASN1_OCTET_STRING(NULL, &q, ASN1_STRING_length(outer));
        bool same = inner && ASN1_STRING_length(inner) == 16 &&
                    memcmp(ASN1_STRING_get0_data(inner), aaguid, 16) == 0;
        ASN1_OCTET_STRING_free(inner);
        if (!same)
            return FAIL("packed attestation certificate AAGUID differs from the authenticator's");
    }
    return AUTHC_OK;
}

/* Finds key in a definite CBOR map with text keys (NULL when absent). */
static cbor_item_t *map_get(const cbor_item_t *m, const char *key)
{
    struct cbor_pair *pp = cbor_map_handle(m);
    for (size_t i = 0; i < cbor_map_size(m); i++)
        if (cbor_text_is(pp[i].key, key))
            return pp[i].value;
    return NULL;
}

/* Loads the leaf certificate of attStmt.x5c (the rest of the chain is not
 * evaluated: authc makes no trust decision from attestation). */
static authc_err x5c_leaf(const cbor_item_t *x5c, X509 **leaf, const char **why)
{
    *leaf = NULL;
    if (!cbor_isa_array(x5c) || cbor_array_size(x5c) == 0 ||
        cbor_array_size(x5c) > AUTHC__WA_MAX_X5C)
        return FAIL("attestation x5c is not a non-empty array of at most 5 certificates");
    cbor_item_t **certs = cbor_array_handle(x5c);
    for (size_t i = 0; i < cbor_array_size(x5c); i++) {
        const uint8_t *d;
        size_t dl;
        if (!cbor_bytes(certs[i], &d, &dl) || dl == 0 || dl > 8192)
            return FAIL("attestation x5c holds a non-certificate item");
    }
    const uint8_t *d = NULL;
    size_t dl = 0;
    if (!cbor_bytes(certs[0], &d, &dl))
        return FAIL("attestation x5c holds a non-certificate item");
    const unsigned char *q = d;
    X509 *x = d2i_X509(NULL, &q, (long)dl);
    if (!x || q != d + dl) {
        X509_free(x);
        return FAIL("attestation certificate is not DER X.509");
    }
    *leaf = x;
    return AUTHC_OK;
}

static authc_err verify_packed(const cbor_item_t *st, const uint8_t *authdata, size_t adl,
                               const uint8_t cdh[32], const authc__wa_authdata *ad,
                               EVP_PKEY *cred_key, int cred_alg, const char **why)
{
    cbor_item_t *alg_it = map_get(st, "alg"), *sig_it = map_get(st, "sig"),
                *x5c = map_get(st, "x5c");
    int64_t alg;
    const uint8_t *sig;
    size_t sl;
    if (!alg_it || !cbor_int_value(alg_it, &alg))
        return FAIL("packed attestation has no integer alg");
    if (!sig_it || !cbor_bytes(sig_it, &sig, &sl))
        return FAIL("packed attestation has no sig");
    if (map_get(st, "ecdaaKeyId"))
        return FAIL("packed ECDAA attestation is not supported");
    if (adl > SIZE_MAX - 32)
        return AUTHC_ERR_LIMIT;
    uint8_t *tbs = OPENSSL_malloc(adl + 32);
    if (!tbs)
        return AUTHC_ERR_NOMEM;
    memcpy(tbs, authdata, adl);
    memcpy(tbs + adl, cdh, 32);
    authc_err e = AUTHC_OK;
    if (x5c) {
        X509 *leaf = NULL;
        if (!(e = x5c_leaf(x5c, &leaf, why)) && !(e = check_packed_cert(leaf, ad->aaguid, why)) &&
            !authc__wa_verify_sig(X509_get0_pubkey(leaf), (int)alg, tbs, adl + 32, sig, sl))
            e = FAIL("packed attestation signature does not verify with the x5c certificate");
        X509_free(leaf);
    } else {
        if (alg != cred_alg)
            e = FAIL("packed self attestation alg differs from the credential key's alg");
        else if (!authc__wa_verify_sig(cred_key, (int)alg, tbs, adl + 32, sig, sl))
            e = FAIL("packed self attestation signature does not verify with the credential key");
    }
    OPENSSL_free(tbs);
    return e;
}

static authc_err verify_u2f(const cbor_item_t *st, const uint8_t cdh[32],
                            const authc__wa_authdata *ad, EVP_PKEY *cred_key, int cred_alg,
                            const char **why)
{
    cbor_item_t *sig_it = map_get(st, "sig"), *x5c = map_get(st, "x5c");
    const uint8_t *sig;
    size_t sl;
    if (!sig_it || !cbor_bytes(sig_it, &sig, &sl) || !x5c)
        return FAIL("fido-u2f attestation lacks sig or x5c");
    if (cbor_isa_array(x5c) && cbor_array_size(x5c) != 1)
        return FAIL("fido-u2f attestation x5c must hold exactly one certificate");
    if (cred_alg != AUTHC__COSE_ES256)
        return FAIL("fido-u2f credential key is not ES256");
    uint8_t pt[65];
    unsigned char *enc = NULL;
    size_t ptl = EVP_PKEY_get1_encoded_public_key(cred_key, &enc);
    bool pt_ok = ptl == 65 && enc && enc[0] == 0x04;
    if (pt_ok)
        memcpy(pt, enc, 65);
    OPENSSL_free(enc);
    if (!pt_ok)
        return FAIL("fido-u2f credential key could not be encoded");
    X509 *leaf = NULL;
    authc_err e = x5c_leaf(x5c, &leaf, why);
    if (e)
        return e;
    EVP_PKEY *ck = X509_get0_pubkey(leaf);
    char gname[32] = "";
    size_t gl = 0;
    if (!ck || EVP_PKEY_get_base_id(ck) != EVP_PKEY_EC ||
        EVP_PKEY_get_utf8_string_param(ck, OSSL_PKEY_PARAM_GROUP_NAME, gname, sizeof gname, &gl) != 1 ||
        strcmp(gname, "prime256v1") != 0) {
        X509_free(leaf);
        return FAIL("fido-u2f attestation certificate key is not P-256");
    }
    size_t n = 1 + 32 + 32 + ad->cred_id_len + 65;
    uint8_t *v = OPENSSL_malloc(n);
    if (!v) {
        X509_free(leaf);
        return AUTHC_ERR_NOMEM;
    }
    v[0] = 0;
    memcpy(v + 1, ad->rp_id_hash, 32);
    memcpy(v + 33, cdh, 32);
    memcpy(v + 65, ad->cred_id, ad->cred_id_len);
    memcpy(v + 65 + ad->cred_id_len, pt, 65);
    if (!authc__wa_verify_sig(ck, AUTHC__COSE_ES256, v, n, sig, sl))
        e = FAIL("fido-u2f attestation signature does not verify");
    OPENSSL_free(v);
    X509_free(leaf);
    return e;
}

/* ------------------------------------------------------------------ */
/* Transports: SimpleWebAuthn stores response.transports comma-joined. */

static const char *transports_of(authc_arena *ar, json_t *resp)
{
    json_t *t = json_object_get(resp, "transports");
    if (!json_is_array(t) || json_array_size(t) == 0)
        return NULL;
    authc__buf b;
    authc__buf_init(&b, ar, 256);
    size_t i, kept = 0;
    json_t *v;
    json_array_foreach(t, i, v) {
        const char *s = json_string_value(v);
        if (!s || !*s || strlen(s) > 16 || kept >= AUTHC__WA_MAX_TRANSPORTS)
            continue;
        bool ok = true;
        for (const char *q = s; *q && ok; q++)
            ok = (*q >= 'a' && *q <= 'z') || *q == '-';
        if (!ok)
            continue;
        if (kept++)
            authc__buf_addc(&b, ',');
        authc__buf_adds(&b, s);
    }
    return kept && !b.err ? b.p : NULL;
}

/* The backup flags as SimpleWebAuthn reports them: BE makes the credential
 * "multiDevice", BS says it is backed up now. */
static void backup_state(uint8_t flags, const char **device_type, bool *backed_up)
{
    *device_type = (flags & AUTHC__WA_BE) ? "multiDevice" : "singleDevice";
    *backed_up = (flags & AUTHC__WA_BS) != 0;
}

/* ------------------------------------------------------------------ */
/* Registration (WebAuthn §7.1). */

authc_err authc__wa_verify_registration(authc_arena *ar, const authc__wa_rp *rp,
                                        const char *challenge, json_t *cred,
                                        authc__wa_registration *out, const char **why)
{
    memset(out, 0, sizeof *out);
    uint8_t cdh[32];
    json_t *resp;
    authc_err e = check_client_data(ar, rp, challenge, cred, "webauthn.create", cdh, &resp, why);
    if (e)
        return e;
    size_t raw_len = 0, aol = 0;
    uint8_t *raw = authc__wa_b64any_decode(ar, json_string_value(json_object_get(cred, "rawId")), &raw_len);
    if (!raw)
        return FAIL("rawId is not base64url or longer than 1023 bytes");
    uint8_t *ao = b64url_member(ar, resp, "attestationObject", AUTHC__WA_MAX_ATT_OBJ, &aol);
    if (!ao)
        return FAIL("attestationObject is missing, not base64url, or too long");
    cbor_item_t *att = cbor_exact(ao, aol);
    if (!att)
        return FAIL("attestationObject is not well-formed CBOR");
    const char *err = NULL;
    cbor_item_t *fmt = NULL, *st = NULL, *adi = NULL;
    if (!cbor_isa_map(att) || !cbor_map_is_definite(att)) {
        err = "attestationObject is not a CBOR map";
    } else {
        fmt = map_get(att, "fmt");
        st = map_get(att, "attStmt");
        adi = map_get(att, "authData");
        if (!fmt || !cbor_isa_string(fmt) || !cbor_string_is_definite(fmt))
            err = "attestationObject has no text fmt";
        else if (!st || !cbor_isa_map(st) || !cbor_map_is_definite(st))
            err = "attestationObject has no attStmt map";
        else if (!adi || !cbor_isa_bytestring(adi) || !cbor_bytestring_is_definite(adi))
            err = "attestationObject has no authData byte string";
    }
    if (err) {
        cbor_decref(&att);
        return FAIL(err);
    }
    const uint8_t *adp = cbor_bytestring_handle(adi);
    size_t adl = cbor_bytestring_length(adi);
    authc__wa_authdata ad;
    EVP_PKEY *pk = NULL;
    int alg = 0;
    if ((e = rp_authdata(rp, adp, adl, &ad, why)))
        goto done;
    if (!(ad.flags & AUTHC__WA_AT) || !ad.cred_id) {
        e = FAIL("registration authenticator data has no attested credential (AT flag)");
        goto done;
    }
    if (ad.cred_id_len != raw_len || CRYPTO_memcmp(ad.cred_id, raw, raw_len) != 0) {
        e = FAIL("credential id in authenticator data differs from rawId");
        goto done;
    }
    if ((e = authc__wa_cose_to_pkey(ad.cose_key, ad.cose_key_len, &pk, &alg, why)))
        goto done;
    if (cbor_text_is(fmt, "none")) {
        if (cbor_map_size(st) != 0)
            e = FAIL("\"none\" attestation with a non-empty statement");
        out->fmt = "none";
    } else if (cbor_text_is(fmt, "packed")) {
        e = verify_packed(st, adp, adl, cdh, &ad, pk, alg, why);
        out->fmt = "packed";
    } else if (cbor_text_is(fmt, "fido-u2f")) {
        e = verify_u2f(st, cdh, &ad, pk, alg, why);
        out->fmt = "fido-u2f";
    } else {
        size_t fl = cbor_string_length(fmt);
        e = failf(ar, why, "attestation format is not supported",
                  "attestation format \"%.*s\" is not supported (none, packed, fido-u2f are)",
                  (int)(fl > 32 ? 32 : fl), (const char *)cbor_string_handle(fmt));
    }
    if (e)
        goto done;
    out->cred_id = authc_arena_alloc(ar, ad.cred_id_len);
    out->cose_key = authc_arena_alloc(ar, ad.cose_key_len);
    if (!out->cred_id || !out->cose_key) {
        e = AUTHC_ERR_NOMEM;
        goto done;
    }
    memcpy(out->cred_id, ad.cred_id, ad.cred_id_len);
    out->cred_id_len = ad.cred_id_len;
    memcpy(out->cose_key, ad.cose_key, ad.cose_key_len);
    out->cose_key_len = ad.cose_key_len;
    out->alg = alg;
    out->counter = ad.counter;
    out->flags = ad.flags;
    backup_state(ad.flags, &out->device_type, &out->backed_up);
    out->transports = transports_of(ar, resp);
done:
    EVP_PKEY_free(pk);
    cbor_decref(&att);
    return e;
}

/* ------------------------------------------------------------------ */
/* Authentication (WebAuthn §7.2). */

authc_err authc__wa_verify_authentication(authc_arena *ar, const authc__wa_rp *rp,
                                          const char *challenge, json_t *cred,
                                          const uint8_t *cose, size_t cose_len,
                                          int64_t stored_counter,
                                          authc__wa_assertion *out, const char **why)
{
    memset(out, 0, sizeof *out);
    uint8_t cdh[32];
    json_t *resp;
    authc_err e = check_client_data(ar, rp, challenge, cred, "webauthn.get", cdh, &resp, why);
    if (e)
        return e;
    size_t adl = 0, sl = 0;
    uint8_t *adp = b64url_member(ar, resp, "authenticatorData", AUTHC__WA_MAX_AUTH_DATA, &adl);
    if (!adp)
        return FAIL("authenticatorData is missing, not base64url, or too long");
    uint8_t *sig = b64url_member(ar, resp, "signature", AUTHC__WA_MAX_SIG, &sl);
    if (!sig)
        return FAIL("signature is missing, not base64url, or too long");
    json_t *uh = json_object_get(resp, "userHandle");
    if (uh && !json_is_string(uh) && !json_is_null(uh))
        return FAIL("userHandle is not a string");
    authc__wa_authdata ad;
    if ((e = rp_authdata(rp, adp, adl, &ad, why)))
        return e;
    /* A clone shows itself by a counter that does not move forward
     * (0/0 means the authenticator keeps no counter). */
    if ((ad.counter > 0 || stored_counter > 0) && (int64_t)ad.counter <= stored_counter)
        return failf(ar, why, "signature counter did not increase (possible cloned authenticator)",
                     "signature counter %u is not above the stored %lld (possible cloned authenticator)",
                     ad.counter, (long long)stored_counter);
    EVP_PKEY *pk = NULL;
    int alg = 0;
    if ((e = authc__wa_cose_to_pkey(cose, cose_len, &pk, &alg, why))) {
        if (e == AUTHC_ERR_WEBAUTHN_VERIFICATION)
            *why = authc_arena_printf(ar, "stored credential key is unusable: %s", *why);
        if (!*why)
            *why = "stored credential key is unusable";
        return e;
    }
    uint8_t *tbs = authc_arena_alloc(ar, adl + 32);
    if (!tbs) {
        EVP_PKEY_free(pk);
        return AUTHC_ERR_NOMEM;
    }
    memcpy(tbs, adp, adl);
    memcpy(tbs + adl, cdh, 32);
    bool ok = authc__wa_verify_sig(pk, alg, tbs, adl + 32, sig, sl);
    EVP_PKEY_free(pk);
    if (!ok)
        return FAIL("assertion signature does not verify with the stored credential key");
    out->new_counter = ad.counter;
    out->flags = ad.flags;
    backup_state(ad.flags, &out->device_type, &out->backed_up);
    return AUTHC_OK;
}
