/* store_be_int.h — what a store backend (memory, sqlite, postgres, redis)
 * implements: a const vtable picked by URL scheme in store.c. */
#ifndef AUTHC_STORE_BE_INT_H
#define AUTHC_STORE_BE_INT_H

#include "store/store_int.h"

/* Size of the `why` buffer every backend call may write a reason into
 * (one line, no password, no value, no key). */
#define AUTHC__STORE_WHY 256

/* Options common to every backend, parsed by store.c from the URL. The
 * strings live only during open: a backend copies what it keeps. */
typedef struct authc__store_opts {
    const char *url;         /* the URL without the options below */
    const char *label;       /* redacted URL, for reasons and logs */
    int timeout_ms;
    int connect_timeout_ms;
    int pool_size;
    int64_t sweep_interval_ms;
    const char *prefix;      /* redis key prefix, decoded ("" default) */
    int64_t max_entries;     /* memory */
} authc__store_opts;

/* Every function returns AUTHC_OK, AUTHC_ERR_ADAPTER (reason in why),
 * AUTHC_ERR_INVALID (incr on a non-counter, reason in why),
 * AUTHC_ERR_LIMIT or AUTHC_ERR_NOMEM. Arguments are already validated.
 * ctx is what open returned; every function may be called from several
 * threads at once. */
typedef struct authc__store_backend {
    const char *name;
    /* URL prefixes this backend takes (ASCII case-insensitive), NULL-ended. */
    const char *const *schemes;
    /* *ctx: heap state freed by close. Network backends connect lazily
     * (a server down at open is not an error). */
    authc_err (*open)(const authc__store_opts *o, void **ctx, char *why);
    void (*close)(void *ctx);
    /* Optional (NULL: nothing to create, and always reachable). */
    authc_err (*migrate)(void *ctx, char *why);
    authc_err (*ping)(void *ctx, int deadline_ms, char *why);
    /* out[i].data NULL when absent; values copied into ar. */
    authc_err (*mget)(void *ctx, authc_arena *ar, const char *const *keys,
                      size_t n, authc__store_val *out, char *why);
    authc_err (*set)(void *ctx, const char *key, const void *v, size_t len,
                     int64_t ttl_ms, bool nx, bool *stored, char *why);
    /* If key's value == owner: ttl_ms > 0 renews, ttl_ms == 0 deletes. */
    authc_err (*if_owner)(void *ctx, const char *key, const char *owner,
                          int64_t ttl_ms, bool *done, char *why);
    authc_err (*del)(void *ctx, const char *key, bool *deleted, char *why);
    authc_err (*incr)(void *ctx, const char *key, int64_t by, int64_t ttl_ms,
                      int64_t *value, char *why);
    /* Optional (NULL: the backend expires entries itself). */
    authc_err (*sweep)(void *ctx, int64_t *removed, char *why);
    /* Up to max live keys starting with prefix into keys[] (copied into
     * ar), *n of them; order unspecified. */
    authc_err (*scan)(void *ctx, authc_arena *ar, const char *prefix, size_t max,
                      const char **keys, size_t *n, char *why);
} authc__store_backend;

extern const authc__store_backend authc__store_memory;
extern const authc__store_backend authc__store_sqlite;
extern const authc__store_backend authc__store_postgres;
extern const authc__store_backend authc__store_redis;

/* Monotonic milliseconds (deadlines, memory expiry). */
int64_t authc__store_mono_ms(void);

/* Parses a decimal counter value of len bytes; false when it is not one
 * (empty, sign only, other bytes, out of int64 range). */
bool authc__store_parse_i64(const uint8_t *s, size_t len, int64_t *out);

/* a + b into *out; false on int64 overflow. */
bool authc__store_add_i64(int64_t a, int64_t b, int64_t *out);

/* Copies len bytes of p into ar with a trailing NUL; NULL on OOM. */
uint8_t *authc__store_dup(authc_arena *ar, const void *p, size_t len);

#endif
