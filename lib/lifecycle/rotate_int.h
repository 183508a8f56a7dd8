/* rotate_int.h — access-token rotation with single flight across instances:
 * a renewed lease, read-after-lock, successor records, spent tokens. */
#ifndef AUTHC_ROTATE_INT_H
#define AUTHC_ROTATE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "authc.h"
#include "store/store_int.h"

#define AUTHC__LEASE_TTL_MS      10000 /* renewed every third of it while a grant runs */
#define AUTHC__SUCCESSOR_TTL_MS  60000 /* old token → new tokens, without a grant */
#define AUTHC__ROTATE_WAIT_MS    30000 /* longest a caller waits for another's grant */
#define AUTHC__TOKEN_MAX         8192  /* bytes of one token we keep */

/* The provider tokens kept with a session. Strings owned by the arena of
 * the call that filled them. */
typedef struct authc__tokens {
    const char *access_token;
    const char *refresh_token;
    const char *id_token;     /* may be NULL */
    int64_t expires_at;       /* Unix seconds; 0 = unknown */
} authc__tokens;

/* How a grant went. */
typedef enum authc__grant_result {
    AUTHC__GRANT_OK,
    AUTHC__GRANT_DEAD,       /* invalid_grant & co: the refresh token is dead */
    AUTHC__GRANT_TRANSIENT,  /* timeout, 5xx, network: try again later */
} authc__grant_result;

/* Performs the refresh_token grant at the provider (the refresh token is
 * presented exactly once per call). Fills *out (strings from ar); a
 * response without a new refresh token keeps the old one. */
typedef authc__grant_result (*authc__grant_fn)(void *ud, authc_arena *ar,
                                               const authc__tokens *cur, authc__tokens *out);

typedef enum authc__rotate_result {
    AUTHC__ROTATE_FRESH,      /* not due: *out = cur */
    AUTHC__ROTATE_REFRESHED,  /* this call ran the grant: *out = new tokens */
    AUTHC__ROTATE_SUCCESSOR,  /* another caller did: *out = its tokens */
    AUTHC__ROTATE_DEAD,       /* RefreshTokenError: the session must say so */
    AUTHC__ROTATE_RETRY,      /* transient: keep *cur, try on a later request */
} authc__rotate_result;

/* Timing of a rotation; 0 members take the defaults above. */
typedef struct authc__rotate_opts {
    int64_t refresh_before_s;  /* refresh when expires_at - now < this */
    int64_t lease_ttl_ms;      /* AUTHC__LEASE_TTL_MS */
    int64_t wait_ms;           /* AUTHC__ROTATE_WAIT_MS */
} authc__rotate_opts;

/* Refreshes cur when expires_at - now < opts->refresh_before_s. `scope` names
 * whose tokens these are (provider id); the lease and records are keyed
 * by a hash of the refresh token, so every instance holding the same
 * token meets at the same lease. Returns AUTHC_ERR_ADAPTER when the store
 * fails (the caller fails closed: no refresh token is ever sent without
 * the lease), else AUTHC_OK with *res. */
authc_err authc__rotate(authc_store *st, authc_arena *ar, const char *scope,
                        const authc__tokens *cur, const authc__rotate_opts *opts,
                        authc__grant_fn grant, void *ud, authc__tokens *out,
                        authc__rotate_result *res);

#endif
