/* store_int.h — the shared key-value store with TTLs (rotation leases,
 * revocation marks, successor records, replay caches, rate counters).
 *
 * One handle (authc_store) per process and store URL, safe to share between
 * threads. Backends, chosen by URL scheme:
 *   memory:[NAME]   this process only (hash table under a lock). "memory:"
 *                   is a private table per handle; "memory:NAME" is shared
 *                   by every handle of the process opened with that NAME.
 *   sqlite:PATH     one table in a SQLite file (WAL, mode 0600); several
 *                   processes on one host may share it.
 *   postgres://…    one table (postgresql:// too); instances share it.
 *   redis://…       plain keys under ?prefix=P (SET NX PX, Lua, MGET).
 * Query parameters understood by every backend (removed before the rest of
 * the URL reaches the driver):
 *   timeout=MS          how long a call waits for a free connection and
 *                       then for the answer (50..60000, default 2000); a
 *                       store that does not answer within it is an error
 *   connect_timeout=MS  bound of a (re)connection (50..60000, default
 *                       2000). So no call takes longer than
 *                       2 × timeout + connect_timeout (+ one sweep batch
 *                       when one is due, postgres)
 *   pool_size=N         connections, postgres/redis (1..64, default 4)
 *   sweep_interval=MS   how often a call sweeps expired entries
 *                       (memory/sqlite/postgres; 0..86400000, default 60000;
 *                       0 sweeps on every call)
 *   prefix=P            redis key prefix (percent-decoded, default "")
 *   max_entries=N       memory only (default 1000000); beyond it (after a
 *                       sweep) set/incr answer AUTHC_ERR_LIMIT
 * postgres://: every other parameter goes to libpq (sslmode, …).
 *
 * Keys: "<section>:<rest>" — section 1..32 of [a-z0-9_-] ("rl", "rev",
 * "lease", "succ", "replay"; not "user" nor "authc", the Redis adapter's),
 * rest 1+ printable ASCII bytes without space
 * (0x21..0x7e; hash or encode anything else), at most AUTHC_STORE_MAX_KEY
 * bytes in all. Values: bytes, at most AUTHC_STORE_MAX_VALUE. TTLs in ms,
 * 1..AUTHC_STORE_MAX_TTL_MS: every entry expires. Over a bound →
 * AUTHC_ERR_LIMIT; a malformed key or TTL → AUTHC_ERR_INVALID (nothing is
 * sent to the store in either case).
 *
 * Errors: every call returns authc_err. AUTHC_OK is the only success.
 * AUTHC_ERR_ADAPTER means the store failed (down, timed out, refused): the
 * caller must fail closed. Such failures are logged at "error" naming the
 * store by its URL with the password redacted, never a key's secret part
 * nor a value. A connection lost is re-opened on a later call, so the store
 * recovers by itself when the server comes back. */
#ifndef AUTHC_STORE_INT_H
#define AUTHC_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "authc.h"

#define AUTHC_STORE_MAX_KEY 256
#define AUTHC_STORE_MAX_VALUE 65536
#define AUTHC_STORE_MAX_TTL_MS (400LL * 86400 * 1000)
/* Most keys in one authc__store_mget call. */
#define AUTHC_STORE_MAX_MULTI 32
/* Deadline of authc__store_ping (readiness). */
#define AUTHC_STORE_PING_MS 1000

typedef struct authc_store authc_store;

/* A value read from the store. data == NULL: the key is absent (or
 * expired). Otherwise data holds len bytes followed by a NUL (not counted),
 * owned by the arena given to the call. */
typedef struct authc__store_val {
    const uint8_t *data;
    size_t len;
} authc__store_val;

/* Opens the store at url. log (may be NULL) receives "error"/"warn"/"info"
 * lines with log_ud. Connects lazily: a server that is down at open is not
 * an error here (calls fail until it is up; see authc__store_ping). Returns
 * a heap handle owned by the caller (authc__store_close), or NULL with a
 * message in err (password redacted) for a bad URL, an unknown scheme or
 * OOM. */
authc_store *authc__store_open(const char *url, authc_log_fn log,
                               void *log_ud, char *err, size_t errlen);
/* Frees the handle and its connections; NULL is a no-op. No call may be
 * running on it. */
void authc__store_close(authc_store *st);

/* Backend name ("memory", "sqlite", "postgres", "redis") and the URL with
 * the password redacted; both owned by st. */
const char *authc__store_backend_name(const authc_store *st);
const char *authc__store_label(const authc_store *st);

/* Creates the table (sqlite/postgres; no-op elsewhere), idempotently and
 * safely when several instances run it at once. `authc migrate` calls it;
 * operations on a store that was never migrated fail (AUTHC_ERR_ADAPTER). */
authc_err authc__store_migrate(authc_store *st);

/* Readiness: one round trip with a deadline of AUTHC_STORE_PING_MS
 * (reconnecting when needed). AUTHC_OK or AUTHC_ERR_ADAPTER. */
authc_err authc__store_ping(authc_store *st);

/* *out = the value of key (data NULL when absent), owned by ar. */
authc_err authc__store_get(authc_store *st, authc_arena *ar, const char *key,
                           authc__store_val *out);

/* out[i] = value of keys[i] (data NULL when absent), owned by ar; one
 * round trip. n ≤ AUTHC_STORE_MAX_MULTI (n == 0 is a no-op). */
authc_err authc__store_mget(authc_store *st, authc_arena *ar,
                            const char *const *keys, size_t n,
                            authc__store_val *out);

/* Stores (key, value) for ttl_ms, replacing any value and its TTL. */
authc_err authc__store_set(authc_store *st, const char *key,
                           const void *value, size_t len, int64_t ttl_ms);

/* Stores (key, value) for ttl_ms only when key is absent (or expired):
 * *stored tells whether it did. Atomic across every handle of the store:
 * of concurrent callers exactly one stores. A lease is set_nx with the
 * owner id as value (then renew/delete with that owner); a replay cache
 * is set_nx where !*stored means "seen before". */
authc_err authc__store_set_nx(authc_store *st, const char *key,
                              const void *value, size_t len, int64_t ttl_ms,
                              bool *stored);

/* When key's value equals owner (its bytes, without the NUL), sets its TTL
 * to ttl_ms from now (*renewed = true); otherwise changes nothing
 * (*renewed = false: the lease expired or someone else holds it). */
authc_err authc__store_renew_if_owner(authc_store *st, const char *key,
                                      const char *owner, int64_t ttl_ms,
                                      bool *renewed);

/* When key's value equals owner, deletes it (*deleted = true). */
authc_err authc__store_delete_if_owner(authc_store *st, const char *key,
                                       const char *owner, bool *deleted);

/* Deletes key; *deleted (may be NULL) tells whether a live entry was
 * there. */
authc_err authc__store_delete(authc_store *st, const char *key,
                              bool *deleted);

/* Adds `by` to the counter at key and stores the result in *value. An
 * absent key counts from 0 and gets ttl_ms (the window starts with the
 * first increment; later increments keep that expiry). The value is kept
 * as decimal text (get returns e.g. "3"). A key holding something else,
 * or an overflow, is AUTHC_ERR_INVALID. Atomic across every handle. */
authc_err authc__store_incr(authc_store *st, const char *key, int64_t by,
                            int64_t ttl_ms, int64_t *value);

/* Removes expired entries now (calls also do it every sweep_interval);
 * *removed (may be NULL) = how many. Redis expires keys itself: 0. */
authc_err authc__store_sweep(authc_store *st, int64_t *removed);

#endif
