/* jose_int.h — the session JWE of Auth.js (dir + A256CBC-HS512, HKDF keys,
 * SHA-512 thumbprint kid) and the JWT claims layer on top of it. */
#ifndef AUTHC_JOSE_INT_H
#define AUTHC_JOSE_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "authc.h"

/* The JWE module's share of authc_global_init/cleanup (lib/core/global.c
 * calls them, under its lock): fetch the ciphers and the HMAC once and
 * create the per-thread context key; cleanup frees them and the calling
 * thread's contexts. */
authc_err authc__jwe_global_init(void);
void authc__jwe_global_cleanup(void);

/* Hard maximum of a token we accept (a chunked cookie can reach this). */
#define AUTHC__JWE_MAX_TOKEN (64 * 1024)
/* Clock tolerance of decode(), seconds. */
#define AUTHC__JWT_CLOCK_TOLERANCE 15

/* Key material derived once per (secret, salt) at start-up. */
typedef struct authc__jwe_key {
    uint8_t key[64];    /* A256CBC-HS512: MAC = [0,32), AES = [32,64); A256GCM key = [0,32) */
    char kid[96];       /* SHA-512 JWK thumbprint of the 64-byte key, b64url (86 chars) */
    char kid_gcm[48];   /* SHA-256 JWK thumbprint of the 32-byte key, b64url (43 chars) */
    char hdr[192];      /* b64url of the protected header encrypt writes (176 chars) */
} authc__jwe_key;

/* HKDF-SHA256(ikm=secret, salt=salt, info="Auth.js Generated Encryption
 * Key (<salt>)", 64) and both kids. Caller owns *out (wipe when done). */
authc_err authc__jwe_derive(authc__jwe_key *out, const char *secret, const char *salt);

/* Compact JWE of pt with header {"alg":"dir","enc":"A256CBC-HS512","kid":…}.
 * *out is owned by ar (NUL-terminated). */
authc_err authc__jwe_encrypt(authc_arena *ar, const authc__jwe_key *key,
                             const uint8_t *pt, size_t n, char **out);

/* Decrypts a compact JWE with the keys in order (Auth.js rules: no kid →
 * keys[0] only; kid → the key whose thumbprint matches, else error;
 * enc A256CBC-HS512 or A256GCM; alg dir only). *pt is owned by ar and
 * NUL-terminated. AUTHC_ERR_CRYPTO on any tampering, AUTHC_ERR_INVALID on
 * malformed input, AUTHC_ERR_LIMIT when len > AUTHC__JWE_MAX_TOKEN. */
authc_err authc__jwe_decrypt(authc_arena *ar, const authc__jwe_key *keys,
                             size_t nkeys, const char *token, size_t len,
                             uint8_t **pt, size_t *ptlen);

/* Auth.js encode(): sets iat=now, exp=now+max_age, jti=UUIDv4 on a copy of
 * claims (claims is borrowed) and encrypts with key. *out owned by ar. */
authc_err authc__jwt_encode(authc_arena *ar, const authc__jwe_key *key,
                            json_t *claims, int64_t max_age, int64_t now,
                            char **out);

/* Auth.js decode(): decrypt, parse a JSON object, reject exp <= now-15,
 * nbf > now+15 (when present), non-numeric iat. *claims is a new
 * reference owned by the caller (json_decref). AUTHC_ERR_EXPIRED when
 * expired. */
authc_err authc__jwt_decode(authc_arena *ar, const authc__jwe_key *keys,
                            size_t nkeys, const char *token, size_t len,
                            int64_t now, json_t **claims);

/* Entries of a "groups" claim the scanner reads (forward-auth's limit). */
#define AUTHC__JWT_GROUPS_MAX 64

/* The claims GET /session, the revocation check and forward-auth read, as
 * authc__jwt_refresh_fields found them. Strings are the claims' values
 * (unescaped, as json_string_value gives them), arena-owned; NULL when the
 * claim is absent or not a string. */
typedef struct authc__jwt_fields {
    const char *user_json[3];   /* raw JSON text of name, email, picture */
    const char *sub;
    bool has_iat;               /* top-level iat is a number: */
    double iat;                 /*   its value (seconds) */
    bool own;                   /* "authc" is an object with an integer iat: */
    int64_t own_iat;            /*   that iat (ms) */
    const char *sid, *p, *psid, *psub; /* "authc" members */
    bool subject;               /* the members below were read (subject=true) */
    const char *name, *email, *provider, *access_token;
    const char **groups;        /* strings among the first AUTHC__JWT_GROUPS_MAX
                                 * entries of a "groups" array, or its one string */
    size_t n_groups;
} authc__jwt_fields;

/* authc__jwt_refresh below, also returning the claims in *f (with the
 * forward-auth subject when subject is true). Same errors, and
 * AUTHC_ERR_UNSUPPORTED when the "authc" claim needs the general path; a
 * failure after the claims were accepted (random source, out of memory)
 * is AUTHC_ERR_NOMEM, never the token's fault. *f is filled on AUTHC_OK. */
authc_err authc__jwt_refresh_fields(authc_arena *ar, const authc__jwe_key *keys, size_t nkeys,
                                    const authc__jwe_key *enc_key, const char *token, size_t len,
                                    int64_t now, int64_t max_age, bool subject, char **fresh,
                                    authc__jwt_fields *f);

/* GET /session's refresh: decrypt and check like authc__jwt_decode, then
 * re-encrypt the same claims with enc_key and fresh iat/exp/jti (existing
 * members keep their place, missing ones are appended in that order) —
 * without building a JSON tree. user_json[0..2] receive the raw JSON text
 * of "name", "email", "picture" (NULL when absent). Everything is owned by
 * ar. AUTHC_ERR_UNSUPPORTED when the claims need the general path (escaped
 * keys, duplicates, numbers out of range, ...): then use jwt_decode/encode. */
authc_err authc__jwt_refresh(authc_arena *ar, const authc__jwe_key *keys, size_t nkeys,
                             const authc__jwe_key *enc_key, const char *token, size_t len,
                             int64_t now, int64_t max_age, char **fresh,
                             const char *user_json[3]);

#endif
