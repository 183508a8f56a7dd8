/* jwe.c — the Auth.js session token: HKDF key derivation, compact JWE
 * (dir + A256CBC-HS512, A256GCM on decode) and the JWT claims layer. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "jose/jose_int.h"
#include "util/util_int.h"

#define HDR_PREFIX "{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\",\"kid\":\""
#define HDR_SUFFIX "\"}"
#define INFO_PREFIX "Auth.js Generated Encryption Key ("
/* Longest salt derive() takes: salts are cookie names. */
#define MAX_SALT 1024
/* Longest protected header we look at (b64url chars). Ours is ~172; any
 * header with only alg/enc/kid and a sane kid fits easily. */
#define MAX_HDR_B64 1024
#define CBC_IV 16
#define CBC_TAG 32
#define GCM_IV 12
#define GCM_TAG 16

enum enc { ENC_CBC_HS512, ENC_GCM };

/* ---- process-wide fetched algorithms, per-thread contexts ------------ */

static bool g_ok; /* written under global.c's lock, read after its release */
static EVP_CIPHER *g_cbc, *g_gcm;
static EVP_MD *g_sha512;
static pthread_key_t g_tls_key;

/* Per-thread contexts, reused across calls so the hot path does no
 * provider lookups and no context allocation. */
/* Contexts already keyed: re-keying HMAC costs two SHA-512 blocks and AES
 * a key schedule per call; resetting a keyed context (new IV) costs none.
 * HMAC is RFC 2104 over EVP_MD contexts that have absorbed the key's
 * ipad and opad blocks: a tag copies each once into the thread's work
 * context. EVP_MAC does the same copies plus two layers of dispatch and
 * parameter handling per call (≈ 1.5k instructions per tag on 3.0).
 * A thread sees few keys (one per secret and cookie name), so a small
 * table is enough; the key bytes are kept to tell a reused address from
 * the same key. */
#define KEY_CACHE 8

typedef struct key_slot {
    uint8_t key[64];
    EVP_MD_CTX *ipad, *opad; /* SHA-512 after (key[0,32) ^ ipad / opad) */
    /* ipad having also absorbed the key's own encoded header, the AAD of
     * every token it writes and of nearly every token it reads: that header
     * (≈176 bytes) fills a whole SHA-512 block, compressed here once
     * instead of in every tag. */
    EVP_MD_CTX *ipad_hdr;
    char hdr[192];
    size_t hdr_len;
    EVP_CIPHER_CTX *enc;     /* AES-256-CBC encrypting with key[32,64), no padding */
    EVP_CIPHER_CTX *dec;     /* AES-256-CBC decrypting with key[32,64), no padding */
    uint8_t enc_chain[16];   /* the chaining block each context holds now: */
    uint8_t dec_chain[16];   /* zero, then the last ciphertext block it saw */
} key_slot;

typedef struct jwe_tls {
    EVP_CIPHER_CTX *gcm;
    EVP_MD_CTX *work;        /* a tag's running SHA-512 */
    key_slot ks[KEY_CACHE];
    unsigned next_evict;
} jwe_tls;

static _Thread_local jwe_tls *t_tls;

static void slot_clear(key_slot *sl)
{
    EVP_MD_CTX_free(sl->ipad);
    EVP_MD_CTX_free(sl->opad);
    EVP_MD_CTX_free(sl->ipad_hdr);
    EVP_CIPHER_CTX_free(sl->enc);
    EVP_CIPHER_CTX_free(sl->dec);
    OPENSSL_cleanse(sl, sizeof *sl);
}

static void tls_free(void *p)
{
    jwe_tls *t = p;
    if (!t)
        return;
    EVP_CIPHER_CTX_free(t->gcm);
    EVP_MD_CTX_free(t->work);
    for (int i = 0; i < KEY_CACHE; i++)
        slot_clear(&t->ks[i]);
    OPENSSL_clear_free(t, sizeof *t);
}

/* ctx := SHA-512 having absorbed the 32-byte mac_key, zero-padded to the
 * 128-byte block, XORed with pad (RFC 2104). */
static bool absorb_pad(EVP_MD_CTX *ctx, const uint8_t *mac_key, uint8_t pad)
{
    uint8_t blk[128];
    for (size_t i = 0; i < sizeof blk; i++)
        blk[i] = (uint8_t)((i < 32 ? mac_key[i] : 0) ^ pad);
    bool ok = EVP_DigestInit_ex2(ctx, g_sha512, NULL) == 1 && EVP_DigestUpdate(ctx, blk, sizeof blk) == 1;
    OPENSSL_cleanse(blk, sizeof blk);
    return ok;
}

/* The thread's slot for k (its 64 key bytes: MAC then AES key; the header
 * is a function of them, through the kid); owned by the thread. NULL on
 * failure (out of memory in OpenSSL). */
static key_slot *keyed(jwe_tls *t, const authc__jwe_key *k)
{
    const uint8_t *key = k->key;
    for (int i = 0; i < KEY_CACHE; i++)
        if (t->ks[i].ipad && authc__ct_memeq8(t->ks[i].key, key, 64))
            return &t->ks[i];
    key_slot *sl = &t->ks[t->next_evict++ % KEY_CACHE];
    slot_clear(sl);
    sl->ipad = EVP_MD_CTX_new();
    sl->opad = EVP_MD_CTX_new();
    sl->ipad_hdr = EVP_MD_CTX_new();
    sl->enc = EVP_CIPHER_CTX_new();
    sl->dec = EVP_CIPHER_CTX_new();
    sl->hdr_len = strnlen(k->hdr, sizeof k->hdr);
    if (sl->hdr_len == sizeof k->hdr)
        sl->hdr_len = 0; /* not made by authc__jwe_derive: no header to absorb */
    memcpy(sl->hdr, k->hdr, sl->hdr_len);
    if (!sl->ipad || !sl->opad || !sl->ipad_hdr || !sl->enc || !sl->dec ||
        !absorb_pad(sl->ipad, key, 0x36) || !absorb_pad(sl->opad, key, 0x5c) ||
        EVP_MD_CTX_copy_ex(sl->ipad_hdr, sl->ipad) != 1 ||
        EVP_DigestUpdate(sl->ipad_hdr, sl->hdr, sl->hdr_len) != 1 ||
        EVP_EncryptInit_ex2(sl->enc, g_cbc, key + 32, sl->enc_chain, NULL) != 1 ||
        EVP_DecryptInit_ex2(sl->dec, g_cbc, key + 32, sl->dec_chain, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(sl->enc, 0) != 1 || EVP_CIPHER_CTX_set_padding(sl->dec, 0) != 1) {
        slot_clear(sl);
        return NULL;
    }
    memcpy(sl->key, key, 64);
    return sl;
}

authc_err authc__jwe_global_init(void)
{
    /* Fetched once, kept until authc_global_cleanup (read-only between). */
    g_cbc = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
    g_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    g_sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
    if (!g_cbc || !g_gcm || !g_sha512 || pthread_key_create(&g_tls_key, tls_free) != 0) {
        EVP_CIPHER_free(g_cbc);
        EVP_CIPHER_free(g_gcm);
        EVP_MD_free(g_sha512);
        g_cbc = g_gcm = NULL;
        g_sha512 = NULL;
        return AUTHC_ERR_CRYPTO;
    }
    g_ok = true;
    return AUTHC_OK;
}

void authc__jwe_global_cleanup(void)
{
    if (!g_ok)
        return;
    /* Other threads' contexts were freed by the key's destructor when they
     * exited; this thread's are freed now, before the key goes away. */
    tls_free(t_tls);
    t_tls = NULL;
    pthread_key_delete(g_tls_key);
    EVP_CIPHER_free(g_cbc);
    EVP_CIPHER_free(g_gcm);
    EVP_MD_free(g_sha512);
    g_cbc = g_gcm = NULL;
    g_sha512 = NULL;
    g_ok = false;
}

/* The calling thread's contexts (owned by the thread, freed at its exit);
 * NULL when OpenSSL is unusable or out of memory. */
static jwe_tls *tls_get(void)
{
    if (t_tls)
        return t_tls;
    if (authc_global_init() != AUTHC_OK || !g_ok)
        return NULL;
    jwe_tls *t = OPENSSL_zalloc(sizeof *t);
    if (!t)
        return NULL;
    t->gcm = EVP_CIPHER_CTX_new();
    t->work = EVP_MD_CTX_new();
    if (!t->gcm || !t->work ||
        pthread_setspecific(g_tls_key, t) != 0) {
        tls_free(t);
        return NULL;
    }
    t_tls = t;
    return t;
}

/* ---- key derivation --------------------------------------------------- */

/* b64url(SHA-<bits>({"k":"<b64url(key)>","kty":"oct"})) into out. */
static bool thumbprint(char *out, size_t cap, const uint8_t *key, size_t n,
                       const EVP_MD *md)
{
    char k[96], json[128];
    uint8_t dg[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    authc__b64url_encode_to(k, key, n);
    int jl = snprintf(json, sizeof json, "{\"k\":\"%s\",\"kty\":\"oct\"}", k);
    bool ok = jl > 0 && (size_t)jl < sizeof json &&
              EVP_Digest(json, (size_t)jl, dg, &dl, md, NULL) == 1 &&
              ((size_t)dl + 2) / 3 * 4 + 1 <= cap;
    if (ok)
        authc__b64url_encode_to(out, dg, dl);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(json, sizeof json);
    return ok;
}

static size_t b64len(size_t n)
{
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

/* The encoded protected header of every token made with k: written once
 * here, copied by each encrypt. */
static bool header_of(authc__jwe_key *k)
{
    char hdr[sizeof HDR_PREFIX + sizeof k->kid + sizeof HDR_SUFFIX];
    int hl = snprintf(hdr, sizeof hdr, HDR_PREFIX "%s" HDR_SUFFIX, k->kid);
    if (hl < 0 || (size_t)hl >= sizeof hdr || b64len((size_t)hl) >= sizeof k->hdr)
        return false;
    authc__b64url_encode_to(k->hdr, (const uint8_t *)hdr, (size_t)hl);
    return true;
}

authc_err authc__jwe_derive(authc__jwe_key *out, const char *secret, const char *salt)
{
    if (!out || !secret || !salt || !*secret)
        return AUTHC_ERR_INVALID;
    memset(out, 0, sizeof *out);
    /* Derivation runs at start-up: set up OpenSSL's one-time state (the
     * random generator, the fetched ciphers) now, where a failure stops
     * the start, rather than in a request that cannot undo it. */
    uint8_t warm[16];
    if (!tls_get() || authc__random(warm, sizeof warm))
        return AUTHC_ERR_CRYPTO;
    size_t sl = strlen(salt);
    if (sl > MAX_SALT)
        return AUTHC_ERR_LIMIT;
    char info[sizeof INFO_PREFIX + MAX_SALT + 2];
    int il = snprintf(info, sizeof info, INFO_PREFIX "%s)", salt);
    if (il < 0 || (size_t)il >= sizeof info)
        return AUTHC_ERR_LIMIT;

    authc_err rc = AUTHC_ERR_CRYPTO;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (kc) {
        OSSL_PARAM p[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, strlen(secret)),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, sl),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, (size_t)il),
            OSSL_PARAM_construct_end(),
        };
        /* One 64-byte output: HKDF-Expand's first block is the same for
         * L=32, so the A256GCM key is simply the first half. */
        if (EVP_KDF_derive(kc, out->key, sizeof out->key, p) == 1 &&
            thumbprint(out->kid, sizeof out->kid, out->key, 64, EVP_sha512()) &&
            thumbprint(out->kid_gcm, sizeof out->kid_gcm, out->key, 32, EVP_sha256()) &&
            header_of(out))
            rc = AUTHC_OK;
    }
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(kdf);
    if (rc != AUTHC_OK)
        OPENSSL_cleanse(out, sizeof *out);
    return rc;
}

/* ---- A256CBC-HS512 (RFC 7518 §5.2.2) ----------------------------------- */

/* First 32 bytes of HMAC-SHA512(mac_key, AAD || IV || CT || AL) into tag. */
static bool cbc_tag(jwe_tls *t, key_slot *ks, const char *aad, size_t aadlen,
                    const uint8_t *iv, const uint8_t *ct, size_t ctlen,
                    uint8_t tag[CBC_TAG])
{
    uint8_t al[8], inner[64], full[64];
    uint64_t bits = (uint64_t)aadlen * 8;
    for (int i = 0; i < 8; i++)
        al[i] = (uint8_t)(bits >> (56 - 8 * i));
    unsigned il = 0, fl = 0;
    EVP_MD_CTX *w = t->work;
    /* The header is public: an ordinary comparison is fine. */
    bool own = ks->hdr_len && aadlen == ks->hdr_len && memcmp(aad, ks->hdr, aadlen) == 0;
    bool ok = EVP_MD_CTX_copy_ex(w, own ? ks->ipad_hdr : ks->ipad) == 1 &&
              (own || EVP_DigestUpdate(w, aad, aadlen) == 1) &&
              EVP_DigestUpdate(w, iv, CBC_IV) == 1 && EVP_DigestUpdate(w, ct, ctlen) == 1 &&
              EVP_DigestUpdate(w, al, sizeof al) == 1 && EVP_DigestFinal_ex(w, inner, &il) == 1 &&
              il == 64 && EVP_MD_CTX_copy_ex(w, ks->opad) == 1 &&
              EVP_DigestUpdate(w, inner, sizeof inner) == 1 && EVP_DigestFinal_ex(w, full, &fl) == 1 &&
              fl == 64;
    if (ok)
        memcpy(tag, full, CBC_TAG);
    OPENSSL_cleanse(inner, sizeof inner);
    OPENSSL_cleanse(full, sizeof full);
    return ok;
}

/* AES-256-CBC on contexts that are never re-initialised (OpenSSL 3.0
 * spends ≈ 1k instructions per IV reset and per final call): PKCS#7
 * padding is done here, the context chains on from the last block it
 * processed (ks->*_chain), and the first block is XORed with chain ^ iv,
 * which gives exactly the bytes of a fresh context started with iv.
 * A failed update leaves the chain unknown: the caller drops the slot. */

/* ct (ctlen = n rounded up past a full block) := CBC(iv, pad(pt)). */
static bool cbc_encrypt(key_slot *ks, const uint8_t iv[CBC_IV], const uint8_t *pt, size_t n,
                        uint8_t *ct, size_t ctlen)
{
    if (n)
        memcpy(ct, pt, n);
    memset(ct + n, (int)(ctlen - n), ctlen - n);
    for (int i = 0; i < CBC_IV; i++)
        ct[i] ^= (uint8_t)(iv[i] ^ ks->enc_chain[i]);
    int l = 0;
    if (EVP_EncryptUpdate(ks->enc, ct, &l, ct, (int)ctlen) != 1 || (size_t)l != ctlen) {
        OPENSSL_cleanse(ct, ctlen);
        return false;
    }
    memcpy(ks->enc_chain, ct + ctlen - CBC_IV, CBC_IV);
    return true;
}

/* buf (ctlen, a positive multiple of 16) decrypted in place under iv.
 * AUTHC_ERR_NOMEM when OpenSSL fails, AUTHC_ERR_CRYPTO on bad padding
 * (unreachable after a good tag); *n is the plaintext's length. */
static authc_err cbc_decrypt(key_slot *ks, const uint8_t iv[CBC_IV], uint8_t *buf, size_t ctlen,
                             size_t *n)
{
    uint8_t prev[CBC_IV];
    memcpy(prev, ks->dec_chain, CBC_IV);
    memcpy(ks->dec_chain, buf + ctlen - CBC_IV, CBC_IV);
    int l = 0;
    if (EVP_DecryptUpdate(ks->dec, buf, &l, buf, (int)ctlen) != 1 || (size_t)l != ctlen) {
        OPENSSL_cleanse(buf, ctlen);
        return AUTHC_ERR_NOMEM;
    }
    for (int i = 0; i < CBC_IV; i++)
        buf[i] ^= (uint8_t)(prev[i] ^ iv[i]);
    uint8_t p = buf[ctlen - 1], bad = (uint8_t)(p == 0 || p > CBC_IV);
    for (size_t i = 0; i < CBC_IV; i++)
        bad |= (uint8_t)((i < p) & (buf[ctlen - 1 - i] != p));
    if (bad) {
        OPENSSL_cleanse(buf, ctlen);
        return AUTHC_ERR_CRYPTO;
    }
    *n = ctlen - p;
    return AUTHC_OK;
}

authc_err authc__jwe_encrypt(authc_arena *ar, const authc__jwe_key *key,
                             const uint8_t *pt, size_t n, char **out)
{
    if (!ar || !key || (!pt && n) || !out)
        return AUTHC_ERR_INVALID;
    *out = NULL;
    size_t hb = strnlen(key->hdr, sizeof key->hdr);
    if (hb == 0 || hb == sizeof key->hdr)
        return AUTHC_ERR_INVALID; /* not made by authc__jwe_derive */

    /* Size check first: we never write a token we would refuse to read. */
    if (n > AUTHC__JWE_MAX_TOKEN)
        return AUTHC_ERR_LIMIT;
    size_t ctlen = (n / 16 + 1) * 16;
    size_t total = hb + 2 + b64len(CBC_IV) + 1 + b64len(ctlen) + 1 + b64len(CBC_TAG);
    if (total > AUTHC__JWE_MAX_TOKEN)
        return AUTHC_ERR_LIMIT;

    jwe_tls *t = tls_get();
    key_slot *ks = t ? keyed(t, key) : NULL;
    if (!ks)
        return AUTHC_ERR_CRYPTO;
    uint8_t iv[CBC_IV], tag[CBC_TAG];
    authc_err rc = authc__random(iv, sizeof iv);
    if (rc)
        return rc;
    uint8_t *ct = authc_arena_alloc(ar, ctlen);
    char *s = authc_arena_alloc(ar, total + 1);
    if (!ct || !s)
        return AUTHC_ERR_NOMEM;

    if (!cbc_encrypt(ks, iv, pt, n, ct, ctlen)) {
        slot_clear(ks);
        return AUTHC_ERR_CRYPTO;
    }

    memcpy(s, key->hdr, hb);
    size_t o = hb;
    /* The AAD is the ASCII of the encoded header, already in s. */
    if (!cbc_tag(t, ks, s, o, iv, ct, ctlen, tag))
        return AUTHC_ERR_CRYPTO;
    s[o++] = '.';
    s[o++] = '.';
    o += authc__b64url_encode_to(s + o, iv, sizeof iv);
    s[o++] = '.';
    o += authc__b64url_encode_to(s + o, ct, ctlen);
    s[o++] = '.';
    o += authc__b64url_encode_to(s + o, tag, sizeof tag);
    s[o] = '\0';
    *out = s;
    return AUTHC_OK;
}

/* ---- decrypt ------------------------------------------------------------- */

static bool is_b64url_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Parses the decoded protected header: sets *enc and the kid (pointer into
 * hdr or the arena, NULL when absent). Only alg, enc and kid are allowed. */
static authc_err parse_header(authc_arena *ar, const char *hdr, size_t n,
                              enum enc *enc, const char **kid, size_t *kidlen)
{
    *kid = NULL;
    *kidlen = 0;
    /* Fast path: exactly what encode() writes (and nothing else), so no
     * JSON parser on the hot path. A kid of b64url chars only means the
     * middle cannot hide another member. */
    const size_t pl = sizeof HDR_PREFIX - 1, sl = sizeof HDR_SUFFIX - 1;
    if (n > pl + sl && memcmp(hdr, HDR_PREFIX, pl) == 0 &&
        memcmp(hdr + n - sl, HDR_SUFFIX, sl) == 0) {
        size_t kl = n - pl - sl;
        bool clean = true;
        for (size_t i = 0; i < kl && clean; i++)
            clean = is_b64url_char((unsigned char)hdr[pl + i]);
        if (clean) {
            *enc = ENC_CBC_HS512;
            *kid = hdr + pl;
            *kidlen = kl;
            return AUTHC_OK;
        }
    }

    json_error_t jerr;
    json_t *h = json_loadb(hdr, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!h)
        return AUTHC_ERR_INVALID;
    authc_err rc = AUTHC_ERR_INVALID;
    const char *k;
    json_t *v;
    bool have_alg = false, have_enc = false;
    json_object_foreach(h, k, v) {
        if (strcmp(k, "alg") == 0) {
            if (!json_is_string(v) || strcmp(json_string_value(v), "dir") != 0)
                goto out;
            have_alg = true;
        } else if (strcmp(k, "enc") == 0) {
            const char *e = json_is_string(v) ? json_string_value(v) : "";
            if (strcmp(e, "A256CBC-HS512") == 0)
                *enc = ENC_CBC_HS512;
            else if (strcmp(e, "A256GCM") == 0)
                *enc = ENC_GCM;
            else
                goto out;
            have_enc = true;
        } else if (strcmp(k, "kid") == 0) {
            if (!json_is_string(v))
                goto out;
            size_t kl = json_string_length(v);
            char *c = authc_arena_strndup(ar, json_string_value(v), kl);
            if (!c) {
                rc = AUTHC_ERR_NOMEM;
                goto out;
            }
            *kid = c;
            *kidlen = kl;
        } else {
            goto out; /* zip, crit, typ, cty, …: nothing Auth.js writes */
        }
    }
    if (have_alg && have_enc)
        rc = AUTHC_OK;
out:
    json_decref(h);
    return rc;
}

/* Splits token into exactly 5 '.'-separated segments (memchr: a token is
 * hundreds of bytes and is split on every session read). */
static bool split5(const char *tok, size_t len, const char *seg[5], size_t sl[5])
{
    const char *p = tok, *end = tok + len;
    for (int k = 0; k < 4; k++) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        if (!dot)
            return false;
        seg[k] = p;
        sl[k] = (size_t)(dot - p);
        p = dot + 1;
    }
    if (memchr(p, '.', (size_t)(end - p)))
        return false;
    seg[4] = p;
    sl[4] = (size_t)(end - p);
    return true;
}

/* The protected header (b64url, n chars) → *enc and the key it names
 * (no kid: the first key; a kid: the key whose thumbprint for enc's key
 * length equals it). AUTHC_ERR_INVALID for a bad header, AUTHC_ERR_CRYPTO
 * for no matching key ("no matching decryption secret"). */
static authc_err select_key(authc_arena *ar, const authc__jwe_key *keys, size_t nkeys,
                            const char *b64, size_t n, enum enc *enc, const authc__jwe_key **key)
{
    if (n == 0 || n > MAX_HDR_B64)
        return AUTHC_ERR_INVALID;
    /* Nearly every token carries, byte for byte, the header one of our keys
     * writes: that names the key without decoding or parsing. */
    for (size_t i = 0; keys && i < nkeys; i++)
        if (strnlen(keys[i].hdr, sizeof keys[i].hdr) == n && memcmp(keys[i].hdr, b64, n) == 0) {
            *enc = ENC_CBC_HS512;
            *key = &keys[i];
            return AUTHC_OK;
        }
    char hdr[MAX_HDR_B64 / 4 * 3 + 3];
    long hn = authc__b64url_decode_to((uint8_t *)hdr, sizeof hdr, b64, n);
    if (hn <= 0)
        return AUTHC_ERR_INVALID;
    const char *kid;
    size_t kidlen;
    authc_err rc = parse_header(ar, hdr, (size_t)hn, enc, &kid, &kidlen);
    if (rc)
        return rc;
    if (!keys || nkeys == 0)
        return AUTHC_ERR_CRYPTO;
    if (!kid) {
        *key = &keys[0];
        return AUTHC_OK;
    }
    for (size_t i = 0; i < nkeys; i++) {
        const char *tp = *enc == ENC_GCM ? keys[i].kid_gcm : keys[i].kid;
        size_t tl = strnlen(tp, *enc == ENC_GCM ? sizeof keys[i].kid_gcm : sizeof keys[i].kid);
        if (tl == kidlen && memcmp(tp, kid, tl) == 0) {
            *key = &keys[i];
            return AUTHC_OK;
        }
    }
    return AUTHC_ERR_CRYPTO;
}

authc_err authc__jwe_decrypt(authc_arena *ar, const authc__jwe_key *keys,
                             size_t nkeys, const char *token, size_t len,
                             uint8_t **pt, size_t *ptlen)
{
    if (!ar || !token || !pt || !ptlen)
        return AUTHC_ERR_INVALID;
    *pt = NULL;
    *ptlen = 0;
    if (len > AUTHC__JWE_MAX_TOKEN)
        return AUTHC_ERR_LIMIT;
    const char *seg[5];
    size_t sl[5];
    if (!split5(token, len, seg, sl))
        return AUTHC_ERR_INVALID;

    enum enc enc = ENC_CBC_HS512;
    const authc__jwe_key *key = NULL;
    authc_err rc = select_key(ar, keys, nkeys, seg[0], sl[0], &enc, &key);
    if (rc)
        return rc;
    /* alg "dir": the encrypted key must be empty. */
    if (sl[1] != 0)
        return AUTHC_ERR_INVALID;

    /* IV and tag, fixed sizes per enc. */
    const size_t ivn = enc == ENC_GCM ? GCM_IV : CBC_IV;
    const size_t tagn = enc == ENC_GCM ? GCM_TAG : CBC_TAG;
    uint8_t iv[CBC_IV], tag[CBC_TAG];
    if (authc__b64url_decode_to(iv, sizeof iv, seg[2], sl[2]) != (long)ivn ||
        authc__b64url_decode_to(tag, sizeof tag, seg[4], sl[4]) != (long)tagn)
        return AUTHC_ERR_INVALID;

    /* Ciphertext, decoded into the buffer that becomes the plaintext
     * (decrypted in place; the MAC is checked before). */
    size_t cap = sl[3] / 4 * 3 + 3;
    uint8_t *buf = authc_arena_alloc(ar, cap + 1);
    if (!buf)
        return AUTHC_ERR_NOMEM;
    long cn = authc__b64url_decode_to(buf, cap, seg[3], sl[3]);
    if (cn < 0)
        return AUTHC_ERR_INVALID;
    size_t ctlen = (size_t)cn;
    if (ctlen > INT32_MAX)
        return AUTHC_ERR_LIMIT;

    jwe_tls *t = tls_get();
    if (!t)
        return AUTHC_ERR_NOMEM;
    int l1 = 0, l2 = 0;
    if (enc == ENC_CBC_HS512) {
        if (ctlen == 0 || ctlen % 16 != 0)
            return AUTHC_ERR_CRYPTO;
        uint8_t want[CBC_TAG];
        /* HMAC failing to run is OpenSSL out of memory, not tampering:
         * the caller must not treat the token as forged. */
        key_slot *ks = keyed(t, key);
        if (!ks || !cbc_tag(t, ks, seg[0], sl[0], iv, buf, ctlen, want))
            return AUTHC_ERR_NOMEM;
        bool same = CRYPTO_memcmp(want, tag, CBC_TAG) == 0;
        OPENSSL_cleanse(want, sizeof want);
        if (!same)
            return AUTHC_ERR_CRYPTO;
        size_t n = 0;
        rc = cbc_decrypt(ks, iv, buf, ctlen, &n);
        if (rc == AUTHC_ERR_NOMEM)
            slot_clear(ks); /* the MAC held: an internal failure */
        if (rc)
            return rc;
        l1 = (int)n;
    } else {
        if (EVP_DecryptInit_ex2(t->gcm, g_gcm, key->key, iv, NULL) != 1 ||
            EVP_DecryptUpdate(t->gcm, NULL, &l1, (const uint8_t *)seg[0], (int)sl[0]) != 1 ||
            EVP_DecryptUpdate(t->gcm, buf, &l1, buf, (int)ctlen) != 1 ||
            EVP_CIPHER_CTX_ctrl(t->gcm, EVP_CTRL_AEAD_SET_TAG, GCM_TAG, tag) != 1 ||
            EVP_DecryptFinal_ex(t->gcm, buf + l1, &l2) != 1) {
            /* GCM releases plaintext before the tag check: wipe it. */
            OPENSSL_cleanse(buf, cap);
            return AUTHC_ERR_CRYPTO;
        }
    }
    size_t n = (size_t)l1 + (size_t)l2;
    buf[n] = 0;
    *pt = buf;
    *ptlen = n;
    return AUTHC_OK;
}

/* ---- JWT claims ------------------------------------------------------- */

static int dump_cb(const char *s, size_t n, void *ud)
{
    authc__buf *b = ud;
    authc__buf_add(b, s, n);
    return b->err ? -1 : 0;
}

authc_err authc__jwt_encode(authc_arena *ar, const authc__jwe_key *key,
                            json_t *claims, int64_t max_age, int64_t now,
                            char **out)
{
    if (!ar || !key || !out || !json_is_object(claims))
        return AUTHC_ERR_INVALID;
    *out = NULL;
    int64_t exp;
    if (__builtin_add_overflow(now, max_age, &exp))
        return AUTHC_ERR_INVALID;
    char jti[37];
    authc_err rc = authc__uuid(jti);
    if (rc)
        return rc;
    /* Shallow copy: we only add/replace top-level members. jansson keeps
     * insertion order and replaces in place, like a JS object spread
     * followed by assignments: claims first, then iat, exp, jti. */
    json_t *c = json_copy(claims);
    /* jansson's copy skips members it cannot add: a short copy is OOM. */
    if (!c || json_object_size(c) != json_object_size(claims)) {
        json_decref(c);
        return AUTHC_ERR_NOMEM;
    }
    if (json_object_set_new(c, "iat", json_integer(now)) != 0 ||
        json_object_set_new(c, "exp", json_integer(exp)) != 0 ||
        json_object_set_new(c, "jti", json_string(jti)) != 0) {
        json_decref(c);
        return AUTHC_ERR_NOMEM;
    }
    authc__buf b;
    authc__buf_init(&b, ar, AUTHC__JWE_MAX_TOKEN);
    int dr = json_dump_callback(c, dump_cb, &b, JSON_COMPACT);
    json_decref(c);
    if (b.err)
        return b.err;
    if (dr != 0 || !b.p)
        return AUTHC_ERR_NOMEM;
    rc = authc__jwe_encrypt(ar, key, (const uint8_t *)b.p, b.len, out);
    OPENSSL_cleanse(b.p, b.len);
    return rc;
}

/* a + b clamped to the int64 range (now comes from the caller). */
static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

/* Numeric value of a JSON number as double (only for comparisons where
 * the integer path does not apply). */
static double num(const json_t *v)
{
    return json_is_integer(v) ? (double)json_integer_value(v) : json_real_value(v);
}

authc_err authc__jwt_decode(authc_arena *ar, const authc__jwe_key *keys,
                            size_t nkeys, const char *token, size_t len,
                            int64_t now, json_t **claims)
{
    if (!claims)
        return AUTHC_ERR_INVALID;
    *claims = NULL;
    uint8_t *pt;
    size_t n;
    authc_err rc = authc__jwe_decrypt(ar, keys, nkeys, token, len, &pt, &n);
    if (rc)
        return rc;
    json_error_t jerr;
    json_t *c = json_loadb((const char *)pt, n, 0, &jerr);
    OPENSSL_cleanse(pt, n);
    if (!c)
        return json_error_code(&jerr) == json_error_out_of_memory ? AUTHC_ERR_NOMEM : AUTHC_ERR_INVALID;
    if (!json_is_object(c)) {
        json_decref(c);
        return AUTHC_ERR_INVALID;
    }
    /* Same checks and order as jose's claim validation (clockTolerance 15). */
    const int64_t hi = sat_add(now, AUTHC__JWT_CLOCK_TOLERANCE);
    const int64_t lo = sat_add(now, -AUTHC__JWT_CLOCK_TOLERANCE);
    json_t *iat = json_object_get(c, "iat");
    json_t *nbf = json_object_get(c, "nbf");
    json_t *exp = json_object_get(c, "exp");
    rc = AUTHC_OK;
    if (iat && !json_is_number(iat)) {
        rc = AUTHC_ERR_INVALID;
    } else if (nbf && !json_is_number(nbf)) {
        rc = AUTHC_ERR_INVALID;
    } else if (nbf && (json_is_integer(nbf) ? json_integer_value(nbf) > hi
                                            : num(nbf) > (double)hi)) {
        rc = AUTHC_ERR_INVALID;
    } else if (exp && !json_is_number(exp)) {
        rc = AUTHC_ERR_INVALID;
    } else if (exp && (json_is_integer(exp) ? json_integer_value(exp) <= lo
                                            : num(exp) <= (double)lo)) {
        rc = AUTHC_ERR_EXPIRED;
    }
    if (rc) {
        json_decref(c);
        return rc;
    }
    *claims = c;
    return AUTHC_OK;
}
