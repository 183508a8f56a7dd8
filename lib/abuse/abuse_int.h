/* abuse_int.h — abuse protection counted in the shared store, so every
 * instance counts together: endpoint throttles and credentials regulation. */
#ifndef AUTHC_ABUSE_INT_H
#define AUTHC_ABUSE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "authc.h"
#include "store/store_int.h"

/* ---- throttles: at most `limit` events per `window_s` per key ---------- */

/* Counts one event of bucket ("credentials", "passkey-options", …) for key
 * (a client IP rate key or an address; hashed when not printable). *allowed
 * false when over the limit, with *retry_after_s until the window ends.
 * A store failure is AUTHC_ERR_ADAPTER: the caller refuses (fail closed). */
authc_err authc__throttle_hit(authc_store *st, const char *bucket, const char *key, int64_t limit,
                              int64_t window_s, bool *allowed, int64_t *retry_after_s);

/* ---- regulation of credentials sign-in (Authelia-style) ------------------ */

typedef struct authc__regulation {
    int64_t max_failures;  /* per user name; 4x per client IP; 0 = off */
    int64_t find_time_s;   /* window in which failures count */
    int64_t ban_time_s;    /* first ban; doubles on each repeat up to 1 h */
} authc__regulation;

#define AUTHC__REGULATION_DEFAULT {5, 600, 300}
#define AUTHC__BAN_MAX_S 3600

/* Is the user name or the client banned? One store round trip. */
authc_err authc__regulation_banned(authc_store *st, const authc__regulation *rg, const char *user,
                                   const char *ip_key, bool *banned);
/* Counts a failed sign-in; bans the name / the client once over the limit.
 * *banned_now tells whether this failure started a ban (for the log). */
authc_err authc__regulation_failed(authc_store *st, const authc__regulation *rg, const char *user,
                                   const char *ip_key, bool *banned_now);
/* A successful sign-in clears the name's failure count. */
authc_err authc__regulation_succeeded(authc_store *st, const authc__regulation *rg, const char *user);

/* Store key of a ban: "ban:u:<name %-encoded>" or "ban:i:<ip key>", as
 * `authc bans list` prints them. out has AUTHC_STORE_MAX_KEY bytes; false
 * when the name is too long to form a key (then it is hashed). */
bool authc__ban_key(char *out, char kind, const char *who);

#endif
