/* replay.c — the replay set: SHA-256 of each value in a fixed open-addressed
 * table (buckets of PROBE slots), expired slots reused, one short lock per call. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "providers/replay_int.h"

/* Slots one value may live in (consecutive, from its hash). */
#define PROBE 8u

typedef struct ent {
    uint8_t h[16];      /* SHA-256 prefix of the value */
    int64_t exp_ms;     /* 0 = never used */
} ent;

struct authc__replay {
    pthread_mutex_t mu;
    int64_t ttl_ms;
    size_t mask;
    ent *slots;
};

authc__replay *authc__replay_new(size_t cap, int64_t ttl_ms)
{
    authc__replay *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    /* Twice the live values, rounded up to a power of two, keeps buckets sparse. */
    size_t n = 64;
    while (n < cap * 2 && n < ((size_t)1 << 24))
        n <<= 1;
    r->slots = calloc(n, sizeof *r->slots);
    if (!r->slots || pthread_mutex_init(&r->mu, NULL)) {
        free(r->slots);
        free(r);
        return NULL;
    }
    r->mask = n - 1;
    r->ttl_ms = ttl_ms;
    return r;
}

void authc__replay_free(authc__replay *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->mu);
    free(r->slots);
    free(r);
}

bool authc__replay_add(authc__replay *r, const void *value, size_t len, int64_t now_ms,
                       bool *evicted_live)
{
    uint8_t d[SHA256_DIGEST_LENGTH];
    SHA256(value, len, d);
    uint64_t idx = 0;
    for (int i = 16; i < 24; i++)
        idx = (idx << 8) | d[i];
    *evicted_live = false;
    pthread_mutex_lock(&r->mu);
    ent *free_slot = NULL, *oldest = NULL;
    bool seen = false;
    for (unsigned k = 0; k < PROBE && !seen; k++) {
        ent *e = &r->slots[(idx + k) & r->mask];
        if (e->exp_ms > now_ms) {
            seen = CRYPTO_memcmp(e->h, d, sizeof e->h) == 0;
            if (!oldest || e->exp_ms < oldest->exp_ms)
                oldest = e;
        } else if (!free_slot) {
            free_slot = e;
        }
    }
    if (!seen) {
        ent *slot = free_slot ? free_slot : oldest;
        *evicted_live = !free_slot;
        memcpy(slot->h, d, sizeof slot->h);
        slot->exp_ms = now_ms + r->ttl_ms;
    }
    pthread_mutex_unlock(&r->mu);
    return !seen;
}
