/* revoke_int.h — revocation of sessions across instances: marks in the
 * shared store per session, per user and per provider sid/sub. */
#ifndef AUTHC_REVOKE_INT_H
#define AUTHC_REVOKE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "authc.h"
#include "store/store_int.h"

/* The longest a decision is remembered in process (spec: at most 2 s). */
#define AUTHC__REVOKE_CACHE_MS 2000
#define AUTHC__REVOKE_CACHE_SLOTS 4096

/* What a session says about itself (from authc's own JWT claim, or the
 * database row). Any member may be NULL / 0 when unknown. */
typedef struct authc__session_ident {
    const char *sid;        /* authc's random session id */
    const char *user_id;
    int64_t signed_in_ms;   /* sign-in time; for a foreign cookie its iat */
    const char *provider;   /* provider id of the sign-in */
    const char *psid;       /* the provider's session id (OIDC sid) */
    const char *psub;       /* the provider's subject */
} authc__session_ident;

typedef struct authc__revoker authc__revoker;

/* A revoker over st (not owned; must outlive it). marks_ttl_ms: how long a
 * mark lives — the session max age, after which every session it could
 * revoke has expired anyway. NULL on OOM. */
authc__revoker *authc__revoker_new(authc_store *st, int64_t marks_ttl_ms);
void authc__revoker_free(authc__revoker *r);

/* Is this session revoked? One store round trip (mget of its marks),
 * remembered in process for up to AUTHC__REVOKE_CACHE_MS. A store failure
 * is AUTHC_ERR_ADAPTER: the caller must treat the session as invalid
 * (fail closed). */
authc_err authc__revoked(authc__revoker *r, const authc__session_ident *id, bool *revoked);

/* Revokes one session (its sid). */
authc_err authc__revoke_session(authc__revoker *r, const char *sid);
/* Revokes every session of the user signed in at or before at_ms (so a
 * later sign-in works). */
authc_err authc__revoke_user(authc__revoker *r, const char *user_id, int64_t at_ms);
/* Revokes every session of a provider's session id or subject signed in
 * at or before at_ms (back-channel / front-channel logout). Either of
 * psid / psub may be NULL. */
authc_err authc__revoke_provider(authc__revoker *r, const char *provider, const char *psid,
                                 const char *psub, int64_t at_ms);

#endif
