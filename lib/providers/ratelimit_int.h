/* ratelimit_int.h — a small in-memory rate limiter (sliding-window counter)
 * with bounded memory and a keyed hash, safe to call from many threads. */
#ifndef AUTHC_RATELIMIT_INT_H
#define AUTHC_RATELIMIT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct authc__ratelimit authc__ratelimit;

/* At most `max` events per key in any `window_sec` (approximated by the
 * sliding-window counter: the previous fixed window weighted by how much
 * of it still overlaps). `slots` bounds memory (rounded up to a power of
 * two, at least 64); when full, the least active key is forgotten.
 * Returns a limiter owned by the caller (authc__ratelimit_free), or NULL
 * on OOM or when max or window_sec is 0. */
authc__ratelimit *authc__ratelimit_new(uint32_t max, int64_t window_sec, size_t slots);
void authc__ratelimit_free(authc__ratelimit *rl);

/* Counts one event for key[0..len) at now_ms when it is allowed and returns
 * true; returns false (nothing counted) when the key is over its limit, with
 * *retry_after_sec (may be NULL) = seconds until one more event fits. */
bool authc__ratelimit_hit(authc__ratelimit *rl, const void *key, size_t len,
                          int64_t now_ms, int64_t *retry_after_sec);

/* Gives back one event counted at now_ms (the action it guarded did not
 * happen, e.g. the mail could not be sent). */
void authc__ratelimit_undo(authc__ratelimit *rl, const void *key, size_t len, int64_t now_ms);

#endif
