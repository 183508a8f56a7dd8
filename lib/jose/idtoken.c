/* idtoken.c — verifies OpenID Connect ID tokens (RS/PS/ES/EdDSA signatures
 * with OpenSSL 3, then the OIDC claim rules) against a cached JWKS. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jose/idtoken_int.h"
#include "util/util_int.h"

#define KID_MAX 128
#define NEG_SLOTS 32
#define NEG_TTL_MS (60 * 1000)
/* When every negative slot is taken, refetch at most this often. */
#define FLOOD_GAP_MS (10 * 1000)

static const struct {
    const char *name;
    unsigned bit;
} ALGS[] = {
    {"RS256", AUTHC__ALG_RS256}, {"RS384", AUTHC__ALG_RS384}, {"RS512", AUTHC__ALG_RS512},
    {"PS256", AUTHC__ALG_PS256}, {"PS384", AUTHC__ALG_PS384}, {"PS512", AUTHC__ALG_PS512},
    {"ES256", AUTHC__ALG_ES256}, {"ES384", AUTHC__ALG_ES384}, {"ES512", AUTHC__ALG_ES512},
    {"EdDSA", AUTHC__ALG_EDDSA},
};

unsigned authc__alg_bit(const char *name)
{
    for (size_t i = 0; name && i < sizeof ALGS / sizeof *ALGS; i++)
        if (!strcmp(ALGS[i].name, name))
            return ALGS[i].bit;
    return 0;
}

#define RSA_ALGS (AUTHC__ALG_RS256 | AUTHC__ALG_RS384 | AUTHC__ALG_RS512 | \
                  AUTHC__ALG_PS256 | AUTHC__ALG_PS384 | AUTHC__ALG_PS512)

/* ---- keys ------------------------------------------------------------- */

typedef struct jwk {
    char kid[KID_MAX];
    bool has_kid;
    unsigned algs;     /* what this key may verify */
    size_t ec_len;     /* EC field size in bytes (32/48/66) */
    EVP_PKEY *pk;
} jwk;

typedef struct snap {
    int refs;
    size_t n;
    jwk keys[];
} snap;

static void snap_free(snap *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        EVP_PKEY_free(s->keys[i].pk);
    free(s);
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY *pk = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1)
        if (EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
            pk = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pk;
}

static EVP_PKEY *rsa_key(const uint8_t *n, size_t nl, const uint8_t *e, size_t el)
{
    BIGNUM *bn = BN_bin2bn(n, (int)nl, NULL), *be = BN_bin2bn(e, (int)el, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pk = NULL;
    if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
        pk = from_params("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return pk;
}

static EVP_PKEY *ec_key(const char *group, const uint8_t *x, const uint8_t *y, size_t flen)
{
    uint8_t pub[1 + 2 * 66];
    pub[0] = 0x04; /* uncompressed point; decoding checks it is on the curve */
    memcpy(pub + 1, x, flen);
    memcpy(pub + 1 + flen, y, flen);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pk = NULL;
    if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * flen))
        pk = from_params("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    return pk;
}

/* base64url member of a JWK into a fresh arena buffer of at most max bytes. */
static uint8_t *member(authc_arena *ar, json_t *k, const char *name, size_t max, size_t *len)
{
    const char *s = json_string_value(json_object_get(k, name));
    if (!s || strlen(s) > (max * 4 + 2) / 3 + 2)
        return NULL;
    uint8_t *b = authc__b64url_decode(ar, s, strlen(s), len);
    return (b && *len > 0 && *len <= max) ? b : NULL;
}

/* Turns one JWK into a key; false = skip it (unusable or not for us). */
static bool parse_jwk(authc_arena *ar, json_t *k, jwk *out)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(k))
        return false;
    const char *kty = json_string_value(json_object_get(k, "kty"));
    const char *use = json_string_value(json_object_get(k, "use"));
    const char *alg = json_string_value(json_object_get(k, "alg"));
    const char *kid = json_string_value(json_object_get(k, "kid"));
    if (!kty || (use && strcmp(use, "sig")))
        return false;
    if (kid) {
        if (strlen(kid) >= KID_MAX)
            return false;
        strcpy(out->kid, kid);
        out->has_kid = true;
    }
    unsigned fam = 0;
    size_t l1 = 0, l2 = 0;
    if (!strcmp(kty, "RSA")) {
        fam = RSA_ALGS;
        uint8_t *n = member(ar, k, "n", 1024, &l1), *e = member(ar, k, "e", 8, &l2);
        size_t nl = l1;
        while (n && nl > 0 && n[l1 - nl] == 0)
            nl--;
        if (!n || !e || nl < 256) /* at least 2048-bit moduli */
            return false;
        out->pk = rsa_key(n, l1, e, l2);
    } else if (!strcmp(kty, "EC")) {
        const char *crv = json_string_value(json_object_get(k, "crv"));
        const char *group = NULL;
        if (crv && !strcmp(crv, "P-256")) { fam = AUTHC__ALG_ES256; out->ec_len = 32; group = "P-256"; }
        else if (crv && !strcmp(crv, "P-384")) { fam = AUTHC__ALG_ES384; out->ec_len = 48; group = "P-384"; }
        else if (crv && !strcmp(crv, "P-521")) { fam = AUTHC__ALG_ES512; out->ec_len = 66; group = "P-521"; }
        else
            return false;
        uint8_t *x = member(ar, k, "x", 66, &l1), *y = member(ar, k, "y", 66, &l2);
        if (!x || !y || l1 != out->ec_len || l2 != out->ec_len)
            return false;
        out->pk = ec_key(group, x, y, out->ec_len);
    } else if (!strcmp(kty, "OKP")) {
        const char *crv = json_string_value(json_object_get(k, "crv"));
        int type;
        size_t want;
        if (crv && !strcmp(crv, "Ed25519")) { type = EVP_PKEY_ED25519; want = 32; }
        else if (crv && !strcmp(crv, "Ed448")) { type = EVP_PKEY_ED448; want = 57; }
        else
            return false;
        fam = AUTHC__ALG_EDDSA;
        uint8_t *x = member(ar, k, "x", 57, &l1);
        if (!x || l1 != want)
            return false;
        out->pk = EVP_PKEY_new_raw_public_key(type, NULL, x, l1);
    } else {
        return false;
    }
    if (!out->pk)
        return false;
    /* A key that names its alg is used for that alg only. */
    out->algs = alg ? (authc__alg_bit(alg) & fam) : fam;
    if (!out->algs) {
        EVP_PKEY_free(out->pk);
        out->pk = NULL;
        return false;
    }
    return true;
}

/* Parses a JWKS document into a new snapshot (refs = 1), or NULL. */
static snap *parse_jwks(const char *txt, size_t len, char *why, size_t whylen)
{
    json_error_t je;
    json_t *doc = json_loadb(txt, len, 0, &je);
    json_t *keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        json_decref(doc);
        snprintf(why, whylen, "JWKS is not a JSON object with a \"keys\" array");
        return NULL;
    }
    size_t n = json_array_size(keys);
    if (n > AUTHC__JWKS_MAX_KEYS)
        n = AUTHC__JWKS_MAX_KEYS;
    snap *s = calloc(1, sizeof *s + n * sizeof(jwk));
    authc_arena *ar = authc_arena_new();
    if (!s || !ar) {
        free(s);
        authc_arena_free(ar);
        json_decref(doc);
        return NULL;
    }
    s->refs = 1;
    for (size_t i = 0; i < n; i++)
        if (parse_jwk(ar, json_array_get(keys, i), &s->keys[s->n]))
            s->n++;
    authc_arena_free(ar);
    json_decref(doc);
    return s;
}

/* ---- the cache -------------------------------------------------------- */

struct authc__jwks {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    snap *cur;               /* immutable once published; refcounted */
    unsigned gen;            /* bumps on every successful swap */
    unsigned attempts;       /* bumps when a fetch finishes */
    authc_err last_err;
    bool fetching;
    unsigned fetches;
    int64_t last_forced_ms;
    authc__jwks_fetch_fn fetch;
    void *ud;
    struct { char kid[KID_MAX]; int64_t until; } neg[NEG_SLOTS];
};

authc__jwks *authc__jwks_new(authc__jwks_fetch_fn fetch, void *ud)
{
    authc__jwks *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    j->fetch = fetch;
    j->ud = ud;
    return j;
}

void authc__jwks_free(authc__jwks *j)
{
    if (!j)
        return;
    snap_free(j->cur);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
}

unsigned authc__jwks_fetch_count(authc__jwks *j)
{
    pthread_mutex_lock(&j->mu);
    unsigned n = j->fetches;
    pthread_mutex_unlock(&j->mu);
    return n;
}

static void release(authc__jwks *j, snap *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&j->mu);
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&j->mu);
    if (last)
        snap_free(s);
}

/* Returns a referenced snapshot. refresh: the caller saw generation `seen`
 * and needs newer keys; only one thread fetches, the others wait for its
 * result instead of fetching again. */
static snap *acquire(authc__jwks *j, bool refresh, unsigned seen, unsigned *gen,
                     authc_err *err, char *why, size_t whylen)
{
    *err = AUTHC_OK;
    pthread_mutex_lock(&j->mu);
    bool waited = false;
    unsigned attempt = j->attempts;
    while (j->fetching) {
        waited = true;
        pthread_cond_wait(&j->cv, &j->mu);
    }
    bool fresh_enough = j->cur && (!refresh || j->gen != seen);
    if (fresh_enough || (waited && j->attempts != attempt)) {
        snap *s = j->cur;
        if (s && (fresh_enough || j->gen != seen)) {
            s->refs++;
            *gen = j->gen;
            pthread_mutex_unlock(&j->mu);
            return s;
        }
        if (!s || j->last_err) {
            /* The fetch we waited for failed: report that, don't retry now. */
            *err = j->last_err ? j->last_err : AUTHC_ERR_IO;
            pthread_mutex_unlock(&j->mu);
            snprintf(why, whylen, "fetching the JWKS failed");
            return NULL;
        }
    }
    j->fetching = true;
    j->fetches++;
    pthread_mutex_unlock(&j->mu);

    /* Network and parsing happen outside the lock. */
    authc_arena *ar = authc_arena_new();
    char *txt = NULL;
    size_t len = 0;
    snap *ns = NULL;
    authc_err e = ar ? j->fetch(j->ud, ar, &txt, &len, why, whylen) : AUTHC_ERR_NOMEM;
    if (!e) {
        ns = parse_jwks(txt, len, why, whylen);
        if (!ns)
            e = AUTHC_ERR_INVALID;
    }
    authc_arena_free(ar);

    pthread_mutex_lock(&j->mu);
    snap *old = NULL;
    if (ns) {
        old = j->cur;
        j->cur = ns;
        j->gen++;
        if (old && --old->refs > 0)
            old = NULL; /* still used by a reader; the last release frees it */
    }
    j->last_err = e;
    j->attempts++;
    j->fetching = false;
    pthread_cond_broadcast(&j->cv);
    snap *s = ns ? j->cur : NULL;
    if (s) {
        s->refs++;
        *gen = j->gen;
    }
    pthread_mutex_unlock(&j->mu);
    snap_free(old);
    *err = e;
    return s;
}

/* An unknown kid triggers one refetch; the same unknown kid again within a
 * minute does not, so junk kids cannot make us hammer the IdP. */
static bool may_refetch(authc__jwks *j, const char *kid)
{
    int64_t now = authc__now_ms();
    bool ok = true;
    pthread_mutex_lock(&j->mu);
    int free_slot = -1;
    for (int i = 0; i < NEG_SLOTS; i++) {
        if (j->neg[i].until > now && !strcmp(j->neg[i].kid, kid))
            ok = false;
        if (j->neg[i].until <= now && free_slot < 0)
            free_slot = i;
    }
    if (ok && free_slot < 0 && now - j->last_forced_ms < FLOOD_GAP_MS)
        ok = false;
    if (ok)
        j->last_forced_ms = now;
    pthread_mutex_unlock(&j->mu);
    return ok;
}

static void remember_unknown(authc__jwks *j, const char *kid)
{
    int64_t now = authc__now_ms();
    pthread_mutex_lock(&j->mu);
    for (int i = 0; i < NEG_SLOTS; i++)
        if (j->neg[i].until <= now) {
            snprintf(j->neg[i].kid, KID_MAX, "%s", kid);
            j->neg[i].until = now + NEG_TTL_MS;
            break;
        }
    pthread_mutex_unlock(&j->mu);
}

/* ---- JWS -------------------------------------------------------------- */

static const EVP_MD *alg_md(unsigned alg)
{
    if (alg & (AUTHC__ALG_RS256 | AUTHC__ALG_PS256 | AUTHC__ALG_ES256))
        return EVP_sha256();
    if (alg & (AUTHC__ALG_RS384 | AUTHC__ALG_PS384 | AUTHC__ALG_ES384))
        return EVP_sha384();
    if (alg & (AUTHC__ALG_RS512 | AUTHC__ALG_PS512 | AUTHC__ALG_ES512))
        return EVP_sha512();
    return NULL; /* EdDSA: the signature scheme hashes itself */
}

static bool verify_sig(const jwk *k, unsigned alg, const uint8_t *msg, size_t ml,
                       const uint8_t *sig, size_t sl)
{
    const EVP_MD *md = alg_md(alg);
    uint8_t *der = NULL;
    int derlen = 0;
    if (alg & (AUTHC__ALG_ES256 | AUTHC__ALG_ES384 | AUTHC__ALG_ES512)) {
        /* JWS carries r||s; OpenSSL wants a DER ECDSA-Sig-Value. */
        if (sl != 2 * k->ec_len)
            return false;
        ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(sig, (int)k->ec_len, NULL);
        BIGNUM *s = BN_bin2bn(sig + k->ec_len, (int)k->ec_len, NULL);
        if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
            BN_free(r);
            BN_free(s);
            ECDSA_SIG_free(es);
            return false;
        }
        derlen = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
        if (derlen <= 0)
            return false;
        sig = der;
        sl = (size_t)derlen;
    }
    bool ok = false;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    if (m && EVP_DigestVerifyInit(m, &pctx, md, NULL, k->pk) == 1) {
        bool setup = true;
        if (alg & (AUTHC__ALG_PS256 | AUTHC__ALG_PS384 | AUTHC__ALG_PS512))
            setup = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
                    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
                    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) > 0;
        else if (alg & RSA_ALGS)
            setup = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
        ok = setup && EVP_DigestVerify(m, sig, sl, msg, ml) == 1;
    }
    EVP_MD_CTX_free(m);
    OPENSSL_free(der);
    return ok;
}

static json_t *b64_json_object(authc_arena *ar, const char *s, size_t n)
{
    size_t len;
    uint8_t *raw = authc__b64url_decode(ar, s, n, &len);
    if (!raw)
        return NULL;
    json_error_t je;
    json_t *j = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

json_t *authc__jws_peek_claims(authc_arena *ar, const char *token)
{
    if (!token || strlen(token) > AUTHC__IDTOKEN_MAX)
        return NULL;
    const char *d1 = strchr(token, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2 || strchr(d2 + 1, '.'))
        return NULL;
    return b64_json_object(ar, d1 + 1, (size_t)(d2 - d1 - 1));
}

/* Verifies against the keys of s; returns 1 verified, 0 bad signature with
 * a matching key, -1 no candidate key. */
static int try_keys(const snap *s, const char *kid, unsigned alg, const uint8_t *msg,
                    size_t ml, const uint8_t *sig, size_t sl)
{
    int cands = 0;
    for (size_t i = 0; s && i < s->n; i++) {
        const jwk *k = &s->keys[i];
        if (!(k->algs & alg))
            continue;
        if (kid && (!k->has_kid || strcmp(k->kid, kid)))
            continue;
        cands++;
        if (verify_sig(k, alg, msg, ml, sig, sl))
            return 1;
    }
    return cands ? 0 : -1;
}

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

static bool num_claim(json_t *c, const char *name, int64_t *v)
{
    json_t *x = json_object_get(c, name);
    if (!json_is_number(x))
        return false;
    double d = json_number_value(x);
    if (d != d || d > 9e15 || d < -9e15)
        return false;
    *v = (int64_t)d;
    return true;
}

static authc_err check_claims(json_t *c, const authc__idtoken_expect *x, char *why, size_t whylen)
{
    int64_t skew = x->skew >= 0 ? x->skew : AUTHC__IDTOKEN_SKEW;
    const char *iss = json_string_value(json_object_get(c, "iss"));
    if (!iss || !x->issuer || strcmp(iss, x->issuer)) {
        WHY("id_token iss does not match the issuer %s", x->issuer ? x->issuer : "(none)");
        return AUTHC_ERR_INVALID;
    }
    json_t *subj = json_object_get(c, "sub");
    const char *sub = json_string_value(subj);
    if (x->sub_optional && !subj) {
        /* a logout token may name only a session (sid) */
    } else if (!sub || !*sub) {
        WHY("id_token has no sub");
        return AUTHC_ERR_INVALID;
    }
    json_t *aud = json_object_get(c, "aud");
    bool in_aud = false;
    size_t naud = 0;
    if (json_is_string(aud)) {
        naud = 1;
        in_aud = !strcmp(json_string_value(aud), x->client_id);
    } else if (json_is_array(aud)) {
        size_t i;
        json_t *v;
        json_array_foreach(aud, i, v) {
            naud++;
            if (json_is_string(v) && !strcmp(json_string_value(v), x->client_id))
                in_aud = true;
        }
    }
    if (!in_aud) {
        WHY("id_token aud does not contain this client_id");
        return AUTHC_ERR_INVALID;
    }
    json_t *azp = json_object_get(c, "azp");
    if ((naud > 1 && !azp) || (azp && (!json_is_string(azp) || strcmp(json_string_value(azp), x->client_id)))) {
        WHY("id_token azp is %s", azp ? "not this client_id" : "missing with several audiences");
        return AUTHC_ERR_INVALID;
    }
    int64_t exp, iat, nbf;
    if (!num_claim(c, "exp", &exp)) {
        WHY("id_token has no numeric exp");
        return AUTHC_ERR_INVALID;
    }
    if (exp <= x->now - skew) {
        WHY("id_token expired %lld s ago", (long long)(x->now - exp));
        return AUTHC_ERR_EXPIRED;
    }
    if (!num_claim(c, "iat", &iat)) {
        WHY("id_token has no numeric iat");
        return AUTHC_ERR_INVALID;
    }
    if (iat > x->now + skew) {
        WHY("id_token iat is %lld s in the future", (long long)(iat - x->now));
        return AUTHC_ERR_INVALID;
    }
    if (json_object_get(c, "nbf")) {
        if (!num_claim(c, "nbf", &nbf) || nbf > x->now + skew) {
            WHY("id_token is not valid yet (nbf)");
            return AUTHC_ERR_INVALID;
        }
    }
    json_t *nonce = json_object_get(c, "nonce");
    if (x->nonce) {
        if (!json_is_string(nonce) || !authc__ct_streq(json_string_value(nonce), x->nonce)) {
            WHY("id_token nonce %s", nonce ? "does not match the nonce cookie" : "is missing");
            return AUTHC_ERR_INVALID;
        }
    } else if (nonce) {
        WHY("id_token carries a nonce although none was sent");
        return AUTHC_ERR_INVALID;
    }
    return AUTHC_OK;
}

authc_err authc__idtoken_verify(authc__jwks *jwks, authc_arena *ar, const char *token,
                                const authc__idtoken_expect *x, json_t **claims,
                                char *why, size_t whylen)
{
    *claims = NULL;
    if (whylen)
        why[0] = '\0';
    size_t tl = token ? strlen(token) : 0;
    if (tl == 0 || tl > AUTHC__IDTOKEN_MAX) {
        WHY("id_token missing or longer than %d bytes", AUTHC__IDTOKEN_MAX);
        return AUTHC_ERR_INVALID;
    }
    const char *d1 = strchr(token, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2 || strchr(d2 + 1, '.')) {
        WHY("id_token is not a compact JWS (encrypted id_tokens are not supported)");
        return AUTHC_ERR_INVALID;
    }
    json_t *hdr = b64_json_object(ar, token, (size_t)(d1 - token));
    if (!hdr) {
        WHY("id_token header is not a base64url JSON object");
        return AUTHC_ERR_INVALID;
    }
    /* Copies: hdr is released before the names are used in messages. */
    char algname[16];
    snprintf(algname, sizeof algname, "%s",
             json_string_value(json_object_get(hdr, "alg")) ? json_string_value(json_object_get(hdr, "alg")) : "(none)");
    json_t *kidj = json_object_get(hdr, "kid");
    unsigned alg = authc__alg_bit(algname);
    unsigned allowed = x->algs ? x->algs : AUTHC__ALG_RS256;
    char kid[KID_MAX];
    bool has_kid = json_is_string(kidj) && strlen(json_string_value(kidj)) < KID_MAX;
    if (has_kid)
        strcpy(kid, json_string_value(kidj));
    bool crit = json_object_get(hdr, "crit") != NULL;
    bool bad_kid = kidj && !has_kid;
    json_decref(hdr);
    if (!alg || !(alg & allowed)) {
        WHY("id_token alg %s is not allowed for this provider", algname);
        return AUTHC_ERR_INVALID;
    }
    if (crit || bad_kid) {
        WHY("id_token header has %s", crit ? "unsupported crit extensions" : "a malformed kid");
        return AUTHC_ERR_INVALID;
    }
    size_t sl;
    uint8_t *sig = authc__b64url_decode(ar, d2 + 1, tl - (size_t)(d2 + 1 - token), &sl);
    if (!sig || sl == 0) {
        WHY("id_token signature is not base64url");
        return AUTHC_ERR_INVALID;
    }
    const uint8_t *msg = (const uint8_t *)token;
    size_t ml = (size_t)(d2 - token);

    unsigned gen = 0;
    authc_err e;
    snap *s = acquire(jwks, false, 0, &gen, &e, why, whylen);
    if (!s)
        return e ? e : AUTHC_ERR_IO;
    int r = try_keys(s, has_kid ? kid : NULL, alg, msg, ml, sig, sl);
    if (r < 0) {
        /* Unknown kid (or no key for this alg): the IdP may have rotated. */
        const char *nk = has_kid ? kid : "";
        if (may_refetch(jwks, nk)) {
            release(jwks, s);
            s = acquire(jwks, true, gen, &gen, &e, why, whylen);
            if (!s)
                return e ? e : AUTHC_ERR_IO;
            r = try_keys(s, has_kid ? kid : NULL, alg, msg, ml, sig, sl);
        }
        if (r < 0)
            remember_unknown(jwks, nk);
    }
    release(jwks, s);
    if (r < 0) {
        WHY("no %s key%s%.64s%s in the provider's JWKS", algname, has_kid ? " with kid \"" : "",
            has_kid ? kid : "", has_kid ? "\"" : "");
        return AUTHC_ERR_CRYPTO;
    }
    if (r == 0) {
        WHY("id_token signature (%s) does not verify", algname);
        return AUTHC_ERR_CRYPTO;
    }
    json_t *c = b64_json_object(ar, d1 + 1, (size_t)(d2 - d1 - 1));
    if (!c) {
        WHY("id_token payload is not a JSON object");
        return AUTHC_ERR_INVALID;
    }
    e = check_claims(c, x, why, whylen);
    if (e) {
        json_decref(c);
        return e;
    }
    *claims = c;
    return AUTHC_OK;
}
