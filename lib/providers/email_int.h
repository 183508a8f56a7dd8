/* email_int.h — pieces of the email provider shared with its tests: the
 * token hash, the link, the client key for limits, the message build. */
#ifndef AUTHC_EMAIL_INT_H
#define AUTHC_EMAIL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "authc.h"
#include "authc/email.h"

/* Longest address accepted from a request before normalising. */
#define AUTHC__EMAIL_INPUT_MAX 1024

/* hex(SHA-256(token + secret)) into out (65 bytes), Auth.js's
 * createHash(`${token}${secret}`). */
void authc__email_token_hash(const char *token, const char *secret, char out[65]);

/* <origin><base>/callback/<id>?callbackUrl=…&token=…&email=… with
 * URLSearchParams encoding (base "" for a base path of "/"). Owned by ar;
 * NULL on OOM. */
char *authc__email_link(authc_arena *ar, const char *origin, const char *base,
                        const char *provider_id, const char *callback_url,
                        const char *token, const char *email);

/* The per-client rate-limit key of an address: 4 bytes for IPv4 (also
 * v4-mapped IPv6), the /64 prefix for IPv6, else the string itself.
 * Writes at most 64 bytes into key and returns the length (0 = no key). */
size_t authc__email_client_key(const char *client_addr, unsigned char key[64]);

#endif
