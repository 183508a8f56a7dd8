/* ratelimit.c — in-memory sliding-window-counter rate limiter: a fixed table
 * of slots found by a secret-keyed SipHash, one mutex, no allocation per hit. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "providers/ratelimit_int.h"
#include "util/util_int.h"

/* Slots looked at for one key; a key lives in one of them. */
#define PROBE 8u
#define MIN_SLOTS 64u
#define MAX_SLOTS (1u << 22)

typedef struct slot {
    uint64_t fp;      /* full keyed hash of the key; 0 = empty */
    int64_t win;      /* index of the current fixed window */
    uint32_t cur;     /* events in window `win` */
    uint32_t prev;    /* events in window `win - 1` */
} slot;

struct authc__ratelimit {
    pthread_mutex_t mu;
    uint64_t k0, k1;  /* SipHash key: slots cannot be targeted from outside */
    uint32_t max;
    int64_t window_ms;
    size_t mask;
    slot *slots;
};

/* ---- SipHash-2-4 (Aumasson & Bernstein) ------------------------------ */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                            \
    do {                                                                    \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);           \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                              \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                              \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);           \
    } while (0)

static uint64_t siphash(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len)
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    uint64_t b = (uint64_t)len << 56;
    size_t full = len - len % 8;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = 0;
        for (int j = 7; j >= 0; j--)
            m = (m << 8) | in[i + (size_t)j];
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t j = 0; j < len % 8; j++)
        b |= (uint64_t)in[full + j] << (8 * j);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- table ----------------------------------------------------------- */

authc__ratelimit *authc__ratelimit_new(uint32_t max, int64_t window_sec, size_t slots)
{
    if (max == 0 || window_sec <= 0 || window_sec > (int64_t)1 << 40)
        return NULL;
    size_t n = MIN_SLOTS;
    while (n < slots && n < MAX_SLOTS)
        n <<= 1;
    authc__ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    rl->slots = calloc(n, sizeof *rl->slots);
    uint64_t key[2];
    if (!rl->slots || authc__random(key, sizeof key) || pthread_mutex_init(&rl->mu, NULL)) {
        free(rl->slots);
        free(rl);
        return NULL;
    }
    rl->k0 = key[0];
    rl->k1 = key[1];
    rl->max = max;
    rl->window_ms = window_sec * 1000;
    rl->mask = n - 1;
    return rl;
}

void authc__ratelimit_free(authc__ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl->slots);
    authc__wipe(rl, sizeof *rl);
    free(rl);
}

/* Moves a slot's counters forward to window w. */
static void roll(slot *s, int64_t w)
{
    if (s->win == w)
        return;
    s->prev = s->win == w - 1 ? s->cur : 0;
    s->cur = 0;
    s->win = w;
}

/* Events counted in the sliding window ending at now, scaled by window_ms
 * so the arithmetic stays in integers: prev * (time of the previous window
 * still covered) + cur * window. */
static uint64_t weighted(const authc__ratelimit *rl, const slot *s, int64_t now)
{
    int64_t into = now - s->win * rl->window_ms;
    return (uint64_t)s->prev * (uint64_t)(rl->window_ms - into) + (uint64_t)s->cur * (uint64_t)rl->window_ms;
}

/* The slot holding fp, or NULL. Caller holds the lock. */
static slot *lookup(authc__ratelimit *rl, uint64_t fp)
{
    for (size_t i = 0; i < PROBE; i++) {
        slot *s = &rl->slots[(fp + i) & rl->mask];
        if (s->fp == fp)
            return s;
    }
    return NULL;
}

/* A slot for a new key: an empty or idle one, else the least active of the
 * probe window (forgetting it can only let that key send sooner). */
static slot *claim(authc__ratelimit *rl, uint64_t fp, int64_t w, int64_t now)
{
    slot *best = NULL;
    uint64_t best_load = UINT64_MAX;
    for (size_t i = 0; i < PROBE; i++) {
        slot *s = &rl->slots[(fp + i) & rl->mask];
        if (s->fp == 0 || s->win < w - 1) {
            best = s;
            break;
        }
        slot tmp = *s;
        roll(&tmp, w);
        uint64_t load = weighted(rl, &tmp, now);
        if (load < best_load) {
            best_load = load;
            best = s;
        }
    }
    memset(best, 0, sizeof *best);
    best->fp = fp;
    best->win = w;
    return best;
}

static uint64_t fingerprint(const authc__ratelimit *rl, const void *key, size_t len)
{
    uint64_t fp = siphash(rl->k0, rl->k1, key, len);
    return fp ? fp : 1;
}

bool authc__ratelimit_hit(authc__ratelimit *rl, const void *key, size_t len,
                          int64_t now_ms, int64_t *retry_after_sec)
{
    if (!rl)
        return true;
    if (now_ms < 0)
        now_ms = 0;
    uint64_t fp = fingerprint(rl, key, len);
    int64_t w = now_ms / rl->window_ms;
    bool ok;
    pthread_mutex_lock(&rl->mu);
    slot *s = lookup(rl, fp);
    if (!s)
        s = claim(rl, fp, w, now_ms);
    roll(s, w);
    uint64_t W = (uint64_t)rl->window_ms;
    uint64_t load = weighted(rl, s, now_ms);
    ok = load + W <= (uint64_t)rl->max * W;
    if (ok) {
        s->cur++;
    } else if (retry_after_sec) {
        /* When does load + W fit again? In this window only prev decays:
         * prev * (window - t) + cur * W + W <= max * W. */
        int64_t into = now_ms - w * rl->window_ms;
        int64_t wait_ms;
        if ((uint64_t)s->cur + 1 <= rl->max && s->prev > 0) {
            uint64_t room = ((uint64_t)rl->max - s->cur - 1) * W; /* prev*(window - t) <= room */
            int64_t t = rl->window_ms - (int64_t)(room / s->prev);
            wait_ms = t - into;
        } else {
            /* Next window: cur becomes prev at full weight and decays. */
            uint64_t c = s->cur;
            uint64_t room = rl->max > 0 ? ((uint64_t)rl->max - 1) * W : 0;
            int64_t t = c ? rl->window_ms - (int64_t)(room / c) : 0;
            wait_ms = (rl->window_ms - into) + (t > 0 ? t : 0);
        }
        if (wait_ms < 1000)
            wait_ms = 1000;
        *retry_after_sec = (wait_ms + 999) / 1000;
    }
    pthread_mutex_unlock(&rl->mu);
    return ok;
}

void authc__ratelimit_undo(authc__ratelimit *rl, const void *key, size_t len, int64_t now_ms)
{
    if (!rl)
        return;
    uint64_t fp = fingerprint(rl, key, len);
    int64_t w = now_ms / rl->window_ms;
    pthread_mutex_lock(&rl->mu);
    slot *s = lookup(rl, fp);
    if (s) {
        roll(s, w);
        if (s->cur)
            s->cur--;
        else if (s->prev)
            s->prev--;
    }
    pthread_mutex_unlock(&rl->mu);
}
