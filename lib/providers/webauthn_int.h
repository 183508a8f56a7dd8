/* webauthn_int.h — WebAuthn ceremony verification (client data, authenticator
 * data, attestation, COSE keys, signatures) used by the passkey provider. */
#ifndef AUTHC_WEBAUTHN_INT_H
#define AUTHC_WEBAUTHN_INT_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>

#include "authc.h"

/* Hard limits on what a ceremony may carry. */
#define AUTHC__WA_MAX_CRED_ID     1023        /* WebAuthn §5.8.3 */
#define AUTHC__WA_MAX_CLIENT_DATA 4096
#define AUTHC__WA_MAX_AUTH_DATA   4096
#define AUTHC__WA_MAX_ATT_OBJ     (24 * 1024)
#define AUTHC__WA_MAX_SIG         1024
#define AUTHC__WA_MAX_COSE_KEY    1024
#define AUTHC__WA_MAX_CBOR_DEPTH  8
#define AUTHC__WA_MAX_X5C         5
#define AUTHC__WA_MAX_TRANSPORTS  8

/* COSE algorithm ids. */
#define AUTHC__COSE_ES256 (-7)
#define AUTHC__COSE_EDDSA (-8)
#define AUTHC__COSE_ES384 (-35)
#define AUTHC__COSE_ES512 (-36)
#define AUTHC__COSE_RS256 (-257)
#define AUTHC__COSE_RS384 (-258)
#define AUTHC__COSE_RS512 (-259)

/* Authenticator data flags. */
#define AUTHC__WA_UP 0x01
#define AUTHC__WA_UV 0x04
#define AUTHC__WA_BE 0x08
#define AUTHC__WA_BS 0x10
#define AUTHC__WA_AT 0x40
#define AUTHC__WA_ED 0x80

/* What the relying party expects of a ceremony. */
typedef struct authc__wa_rp {
    const char *rp_id;              /* its SHA-256 must be the rpIdHash */
    const char *const *origins;     /* allowed client data origins */
    size_t norigins;
    bool require_uv;
} authc__wa_rp;

/* Parsed authenticator data: pointers into the caller's buffer. */
typedef struct authc__wa_authdata {
    const uint8_t *rp_id_hash;      /* 32 bytes */
    uint8_t flags;
    uint32_t counter;
    const uint8_t *aaguid;          /* 16 bytes, AT only */
    const uint8_t *cred_id;         /* AT only */
    size_t cred_id_len;
    const uint8_t *cose_key;        /* AT only: the exact CBOR bytes */
    size_t cose_key_len;
} authc__wa_authdata;

/* Outcome of a verified registration (buffers owned by the arena). */
typedef struct authc__wa_registration {
    uint8_t *cred_id;
    size_t cred_id_len;
    uint8_t *cose_key;
    size_t cose_key_len;
    int alg;
    uint32_t counter;
    uint8_t flags;
    const char *fmt;                /* "none", "packed", "fido-u2f" */
    const char *transports;         /* "internal,hybrid" or NULL */
    const char *device_type;        /* "singleDevice" | "multiDevice" */
    bool backed_up;
} authc__wa_registration;

/* Outcome of a verified authentication. */
typedef struct authc__wa_assertion {
    uint32_t new_counter;
    uint8_t flags;
    const char *device_type;
    bool backed_up;
} authc__wa_assertion;

/* Every verifier returns AUTHC_OK, AUTHC_ERR_NOMEM, or
 * AUTHC_ERR_WEBAUTHN_VERIFICATION with *why = a precise reason for the log
 * (static or arena string, never a secret). */

/* Length in bytes of the first well-formed CBOR item of p (definite
 * lengths only, nesting at most AUTHC__WA_MAX_CBOR_DEPTH). Uses libcbor's
 * streaming decoder. 0 when malformed or truncated. */
size_t authc__wa_cbor_item_len(const uint8_t *p, size_t n);

/* Parses authenticator data (rpIdHash, flags, counter, attested credential
 * data, extensions; no bytes may be left over). */
authc_err authc__wa_parse_authdata(const uint8_t *p, size_t n, authc__wa_authdata *out,
                                   const char **why);

/* COSE_Key → public key. Supports ES256 (P-256), EdDSA (Ed25519) and
 * RS256 (2048–4096 bits) through libfido2's key types (OpenSSL for RSA
 * sizes libfido2 does not hold). *pkey is owned by the caller
 * (EVP_PKEY_free); *alg = the key's COSE alg. */
authc_err authc__wa_cose_to_pkey(const uint8_t *cose, size_t n, EVP_PKEY **pkey, int *alg,
                                 const char **why);

/* Verifies sig over data with pkey under COSE algorithm alg (the key type
 * must fit the algorithm). True only for a valid signature. */
bool authc__wa_verify_sig(EVP_PKEY *pkey, int alg, const uint8_t *data, size_t dn,
                          const uint8_t *sig, size_t sn);

/* Verifies a registration response (SimpleWebAuthn RegistrationResponseJSON
 * object `cred`) against the expected challenge (base64url string). */
authc_err authc__wa_verify_registration(authc_arena *ar, const authc__wa_rp *rp,
                                        const char *challenge, json_t *cred,
                                        authc__wa_registration *out, const char **why);

/* Verifies an authentication response `cred` for the stored credential
 * (its COSE key and counter). The id/rawId match is checked by the caller
 * that looked the credential up. */
authc_err authc__wa_verify_authentication(authc_arena *ar, const authc__wa_rp *rp,
                                          const char *challenge, json_t *cred,
                                          const uint8_t *cose, size_t cose_len,
                                          int64_t stored_counter,
                                          authc__wa_assertion *out, const char **why);

/* Lenient credential-id decoding (base64url or standard base64, padding
 * optional), as Node's Buffer.from(id, "base64") is. NULL when invalid or
 * longer than AUTHC__WA_MAX_CRED_ID. Arena-owned. */
uint8_t *authc__wa_b64any_decode(authc_arena *ar, const char *s, size_t *outlen);

#endif
