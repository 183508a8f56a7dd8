/* pool.c — bounded connection pool (see pool_int.h): slots guarded by one
 * mutex, waits on a CLOCK_MONOTONIC condvar, hooks run outside the lock. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/pool_int.h"

typedef struct pool_slot {
    void *conn;   /* NULL until connected */
    bool busy;    /* held by a thread (or being connected) */
} pool_slot;

struct authc__pool {
    const authc__pool_hooks *hooks;
    void *ud;
    int size;
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* signalled when a slot is released */
    pool_slot slots[];
};

static void set_why(char *why, size_t wlen, const char *msg)
{
    if (why && wlen)
        snprintf(why, wlen, "%s", msg);
}

/* Owned by the caller (authc__pool_free); NULL on bad args or OOM. */
authc__pool *authc__pool_new(const authc__pool_hooks *hooks, void *ud,
                             int size)
{
    if (!hooks || !hooks->connect || !hooks->destroy || size < 1 ||
        size > AUTHC__POOL_MAX)
        return NULL;
    authc__pool *p = calloc(1, sizeof *p + (size_t)size * sizeof(pool_slot));
    if (!p)
        return NULL;
    p->hooks = hooks;
    p->ud = ud;
    p->size = size;
    /* Monotonic: a wall-clock step must not change how long we wait. */
    pthread_condattr_t ca;
    bool cv = false;
    if (pthread_condattr_init(&ca) == 0) {
        cv = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&p->cv, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (cv && pthread_mutex_init(&p->mu, NULL) == 0)
        return p;
    if (cv)
        pthread_cond_destroy(&p->cv);
    free(p);
    return NULL;
}

void authc__pool_free(authc__pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->size; i++)
        if (p->slots[i].conn)
            p->hooks->destroy(p->ud, p->slots[i].conn);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int authc__pool_size(const authc__pool *p)
{
    return p ? p->size : 0;
}

/* Absolute CLOCK_MONOTONIC time timeout_ms from now. */
static struct timespec deadline_in(int64_t timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(timeout_ms / 1000);
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Marks a free slot busy and returns it (connected ones first), or NULL
 * when every slot is held. Called under p->mu. */
static pool_slot *take_free(authc__pool *p)
{
    pool_slot *pick = NULL;
    for (int i = 0; i < p->size; i++) {
        pool_slot *s = &p->slots[i];
        if (s->busy)
            continue;
        if (s->conn) {
            pick = s;
            break;
        }
        if (!pick)
            pick = s;
    }
    if (pick)
        pick->busy = true;
    return pick;
}

/* Frees a slot held by the caller and wakes one waiter. */
static void give_back(authc__pool *p, pool_slot *s)
{
    pthread_mutex_lock(&p->mu);
    s->busy = false;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Sets the conn of a slot the caller holds. Under the lock because
 * take_free reads every slot's conn. */
static void set_conn(authc__pool *p, pool_slot *s, void *conn)
{
    pthread_mutex_lock(&p->mu);
    s->conn = conn;
    pthread_mutex_unlock(&p->mu);
}

/* Detaches conn from the held slot s and destroys it (outside the lock). */
static void drop_conn(authc__pool *p, pool_slot *s)
{
    void *c = s->conn;
    set_conn(p, s, NULL);
    if (c)
        p->hooks->destroy(p->ud, c);
}

/* The held slot whose connection is conn, or NULL. */
static pool_slot *slot_of(authc__pool *p, const void *conn)
{
    pool_slot *found = NULL;
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->size && !found; i++)
        if (p->slots[i].busy && p->slots[i].conn == conn)
            found = &p->slots[i];
    pthread_mutex_unlock(&p->mu);
    return found;
}

/* Makes sure the held slot s has a healthy connection. On failure the
 * slot is released and why set. */
static authc_err ensure_conn(authc__pool *p, pool_slot *s, char *why,
                             size_t wlen)
{
    const authc__pool_hooks *h = p->hooks;
    if (s->conn && h->healthy && !h->healthy(p->ud, s->conn))
        drop_conn(p, s);
    if (s->conn)
        return AUTHC_OK;
    char tmp[256] = "";
    void *c = h->connect(p->ud, tmp, sizeof tmp);
    if (c) {
        set_conn(p, s, c);
        return AUTHC_OK;
    }
    set_why(why, wlen, tmp[0] ? tmp : "cannot connect");
    give_back(p, s);
    return AUTHC_ERR_ADAPTER;
}

authc_err authc__pool_acquire(authc__pool *p, int64_t timeout_ms,
                              void **conn, char *why, size_t wlen)
{
    *conn = NULL;
    if (timeout_ms < 0)
        timeout_ms = 0;
    struct timespec until = deadline_in(timeout_ms);
    pthread_mutex_lock(&p->mu);
    pool_slot *s;
    while (!(s = take_free(p))) {
        int rc = pthread_cond_timedwait(&p->cv, &p->mu, &until);
        if (rc == ETIMEDOUT) {
            /* One last look: a release may have raced the timeout. */
            if ((s = take_free(p)))
                break;
            pthread_mutex_unlock(&p->mu);
            if (why && wlen)
                snprintf(why, wlen,
                         "all %d connections busy for %lld ms", p->size,
                         (long long)timeout_ms);
            return AUTHC_ERR_TIMEOUT;
        }
    }
    pthread_mutex_unlock(&p->mu);
    authc_err e = ensure_conn(p, s, why, wlen);
    if (e == AUTHC_OK)
        *conn = s->conn;
    return e;
}

void authc__pool_release(authc__pool *p, void *conn, bool broken)
{
    if (!p || !conn)
        return;
    pool_slot *s = slot_of(p, conn);
    if (!s)
        return;  /* not ours: a caller bug, but never a crash */
    if (broken || (p->hooks->reset && !p->hooks->reset(p->ud, conn)))
        drop_conn(p, s);
    give_back(p, s);
}

authc_err authc__pool_replace(authc__pool *p, void **conn, char *why,
                              size_t wlen)
{
    pool_slot *s = slot_of(p, *conn);
    *conn = NULL;
    if (!s) {
        set_why(why, wlen, "connection is not held from this pool");
        return AUTHC_ERR_ADAPTER;
    }
    drop_conn(p, s);
    authc_err e = ensure_conn(p, s, why, wlen);
    if (e == AUTHC_OK)
        *conn = s->conn;
    return e;
}
