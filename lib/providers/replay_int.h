/* replay_int.h — a bounded in-process set of recently accepted one-time
 * values (passkey challenges) that forgets each one when it expires. */
#ifndef AUTHC_REPLAY_INT_H
#define AUTHC_REPLAY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct authc__replay authc__replay;

/* A set for about cap live values, each kept ttl_ms. Owned by the caller
 * (authc__replay_free); NULL on OOM. */
authc__replay *authc__replay_new(size_t cap, int64_t ttl_ms);
void authc__replay_free(authc__replay *r);

/* Records value (len bytes); false when it is already recorded and not
 * expired (a replay). When the value's bucket is full of live entries the
 * one expiring first is dropped and *evicted_live is set. Thread-safe;
 * constant work per call. */
bool authc__replay_add(authc__replay *r, const void *value, size_t len, int64_t now_ms,
                       bool *evicted_live);

#endif
