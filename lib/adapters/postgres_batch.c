/* postgres_batch.c — batched session lookups of the PostgreSQL backend:
 * threads asking for sessions at the same time share one statement.
 *
 * Why: PostgreSQL spends ~100k instructions per execution of the session
 * lookup, ~70% of them fixed per statement (protocol, snapshot, executor
 * set-up). One statement for N tokens (= ANY($1::text[])) costs per token
 * 64% (N=2), 46% (N=4), 37% (N=8) of one statement each, and the client
 * makes one round trip instead of N.
 *
 * How (like a database's group commit): a caller that finds fewer than
 * max_running batches in flight leads at once: it takes itself plus the
 * queued callers (FIFO, at most PG_BATCH_MAX tokens), runs the statement on
 * one pooled connection, reads every member's row into that member's own
 * arena, and wakes them. A lone caller thus adds no latency. Callers that
 * find max_running batches in flight queue; when a batch ends, the queue's
 * head leads the next one with whoever queued meanwhile. How many batches
 * may run at once is pg_conn.c's default_batches (or the URL's
 * session_batches).
 *
 * Threads and memory: one mutex guards the queue and counters; it is never
 * held while talking to the server, the pool or an arena, nor while
 * waking anyone. A queued caller sleeps on a semaphore of its own, which
 * is posted exactly once: either it is handed the lead (taken out of the
 * queue with a batch slot already counted for it, under the mutex) or it
 * was taken into a batch and that batch is done. So a batch's end wakes
 * exactly its members and the next leader, and a woken thread never
 * blocks again on the mutex its waker holds (with condition variables it
 * did: wake, block, wake again; one CPU paid three switches). A member's
 * answer and arena are written only by its leader, before the post;
 * sem_post/sem_wait order those writes before the member reads them, and
 * the post is the leader's last touch of the member (glibc's sem_post
 * touches the semaphore after the waiter may have returned only through
 * futex_wake, which tolerates that).
 * No wait is timed: a batch ends within the statement's own deadlines
 * (pg_conn.c: statement_timeout + slack, one retry), so a queued caller
 * waits at most for the batches ahead of it. A failed batch gives every
 * member the same error and no rows (fail closed). */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/postgres_int.h"

/* Longest token looked up: a cookie cannot carry more (browsers cap one at
 * 4 KiB), so a longer one is no session, without asking the server. */
#define PG_BATCH_MAX_TOKEN 65536

/* QUEUED -> LEAD (handed a batch slot) or RUNNING (a member) -> DONE. */
typedef enum { W_QUEUED, W_LEAD, W_RUNNING, W_DONE } w_state;

/* One caller of authc__pg_batch_get, on its stack. The answer members are
 * written by its batch's leader. */
typedef struct waiter {
    const char *token;
    size_t len;
    authc_arena *ar;
    authc_session_row *session; /* answer, owned by ar */
    authc_user *user;
    authc_err err;
    w_state state;       /* under pg_batch.mu, but DONE: see the post */
    sem_t wake;          /* posted once: LEAD or DONE */
    struct waiter *next; /* in the queue, then in its batch */
} waiter;

struct pg_batch {
    pthread_mutex_t mu;
    waiter *head, *tail; /* queued callers, oldest first */
    int running;         /* batches in flight */
    int max_running;
    pg_batch_stats stats;
};

pg_batch *authc__pg_batch_new(int max_running)
{
    if (max_running < 1 || max_running > AUTHC__POOL_MAX)
        return NULL;
    pg_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    if (pthread_mutex_init(&b->mu, NULL) != 0) {
        free(b);
        return NULL;
    }
    b->max_running = max_running;
    return b;
}

void authc__pg_batch_free(pg_batch *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->mu);
    free(b);
}

void authc__pg_batch_stats(authc_adapter *self, pg_batch_stats *out)
{
    pg_batch *b = ((pg_ctx *)self->ctx)->batch;
    pthread_mutex_lock(&b->mu);
    *out = b->stats;
    pthread_mutex_unlock(&b->mu);
}

/* When a batch may start and callers are queued, hands the lead to the
 * queue's head: out of the queue, its slot counted now, so no caller
 * arriving meanwhile takes it into another batch or takes its slot.
 * Under b->mu; the one post it owes is made at once. */
static void hand_lead(pg_batch *b)
{
    if (!b->head || b->running >= b->max_running)
        return;
    waiter *w = b->head;
    b->head = w->next;
    if (!b->head)
        b->tail = NULL;
    w->next = NULL;
    w->state = W_LEAD;
    b->running++;
    sem_post(&w->wake);
}

/* Makes `lead` (already out of the queue, its slot in b->running) the
 * first member of a new batch and moves queued callers behind it, up to
 * PG_BATCH_MAX in all. Under b->mu. Returns the number of members. */
static int form_batch(pg_batch *b, waiter *lead)
{
    int n = 1;
    waiter *last = lead;
    lead->state = W_RUNNING;
    while (b->head && n < PG_BATCH_MAX) {
        waiter *w = b->head;
        b->head = w->next;
        w->state = W_RUNNING;
        last->next = w;
        last = w;
        n++;
    }
    if (!b->head)
        b->tail = NULL;
    last->next = NULL;
    b->stats.batches++;
    b->stats.lookups += (uint64_t)n;
    if (n > b->stats.largest)
        b->stats.largest = n;
    return n;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* The binary form of a one-dimensional text[] of the members' tokens (the
 * wire format of array_recv: ndim, has-nulls, element type, then length
 * and lower bound, then each element as length + bytes). Heap, caller
 * frees; NULL when out of memory. */
static unsigned char *token_array(const waiter *batch, int n, int *len)
{
    size_t size = 20;
    for (const waiter *w = batch; w; w = w->next)
        size += 4 + w->len;
    unsigned char *buf = malloc(size), *p = buf;
    if (!buf)
        return NULL;
    put_be32(p, 1);
    put_be32(p + 4, 0);
    put_be32(p + 8, 25); /* text */
    put_be32(p + 12, (uint32_t)n);
    put_be32(p + 16, 1);
    p += 20;
    for (const waiter *w = batch; w; w = w->next) {
        put_be32(p, (uint32_t)w->len);
        memcpy(p + 4, w->token, w->len);
        p += 4 + w->len;
    }
    *len = (int)size; /* <= 20 + PG_BATCH_MAX * (4 + PG_BATCH_MAX_TOKEN) */
    return buf;
}

/* Gives w its row of r (the first whose sessionToken is exactly w's
 * token), read into w's arena, or none. */
static void answer(waiter *w, const PGresult *r)
{
    int rows = PQntuples(r);
    for (int i = 0; i < rows; i++) {
        if ((size_t)PQgetlength(r, i, 1) == w->len &&
            memcmp(PQgetvalue(r, i, 1), w->token, w->len) == 0) {
            w->err = authc__pg_read_session_user(w->ar, r, i, &w->session,
                                                 &w->user);
            if (w->err)
                w->session = NULL, w->user = NULL;
            return;
        }
    }
}

/* Runs the statement for the n members of batch (no lock held) and fills
 * in every member's answer. */
static void run_batch(authc_adapter *self, waiter *batch, int n)
{
    int len = 0;
    unsigned char *arr = token_array(batch, n, &len);
    PGresult *r = NULL;
    authc_err e = AUTHC_ERR_NOMEM;
    if (arr) {
        const char *vals[1] = {(const char *)arr};
        e = authc__pg_run_bin(self, ST_GET_SESSIONS_AND_USERS, vals, &len,
                              &r);
        free(arr);
    }
    for (waiter *w = batch; w; w = w->next) {
        w->err = e;
        if (!e)
            answer(w, r);
    }
    PQclear(r);
}

/* Leads a batch: me is out of the queue with its slot counted, b->mu is
 * held on entry and released on return. Afterwards every member but me
 * is done and woken. */
static void lead(authc_adapter *self, pg_batch *b, waiter *me)
{
    int n = form_batch(b, me);
    /* Room for one more batch and callers left: let the next one start. */
    hand_lead(b);
    pthread_mutex_unlock(&b->mu);
    run_batch(self, me, n);
    for (waiter *w = me->next; w;) {
        waiter *next = w->next; /* w may be gone once posted */
        w->state = W_DONE;
        sem_post(&w->wake);
        w = next;
    }
    pthread_mutex_lock(&b->mu);
    b->running--;
    hand_lead(b);
    pthread_mutex_unlock(&b->mu);
}

/* True when every byte of s is ASCII. Only such tokens share a batch:
 * the server refuses a whole statement over one parameter byte sequence
 * that is invalid in its encoding, and one caller's bad cookie must not
 * fail the others' lookups. (Auth.js tokens are UUIDs or hex.) */
static bool ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

authc_err authc__pg_batch_get(authc_adapter *self, authc_arena *ar,
                              const char *token, authc_session_row **session,
                              authc_user **user)
{
    pg_batch *b = ((pg_ctx *)self->ctx)->batch;
    waiter me = {.token = token, .len = strlen(token), .ar = ar};
    *session = NULL;
    *user = NULL;
    if (me.len > PG_BATCH_MAX_TOKEN)
        return AUTHC_OK;
    if (!ascii(token, me.len)) {
        run_batch(self, &me, 1); /* alone, so it fails alone */
        *session = me.session;
        *user = me.user;
        return me.err;
    }
    if (sem_init(&me.wake, 0, 0) != 0)
        return AUTHC_ERR_NOMEM;
    pthread_mutex_lock(&b->mu);
    if (b->running < b->max_running && !b->head) {
        b->running++;
        lead(self, b, &me);
    } else {
        me.state = W_QUEUED;
        if (b->tail)
            b->tail->next = &me;
        else
            b->head = &me;
        b->tail = &me;
        hand_lead(b); /* a no-op while every slot runs; never a queue with a free slot */
        pthread_mutex_unlock(&b->mu);
        /* One post: handed the lead, or my batch is done. */
        while (sem_wait(&me.wake) != 0 && errno == EINTR)
            ;
        if (me.state == W_LEAD) {
            pthread_mutex_lock(&b->mu);
            lead(self, b, &me);
        }
    }
    sem_destroy(&me.wake);
    *session = me.session;
    *user = me.user;
    return me.err;
}
