/* pool_int.h — a bounded pool of database connections shared by the
 * PostgreSQL and Redis adapters and the shared store (lib/store).
 *
 * What it does: at most `size` connections exist; a thread takes one with
 * authc__pool_acquire (waiting on a CLOCK_MONOTONIC condvar until a
 * deadline, so a wall-clock jump never stretches or cuts the wait) and
 * gives it back with authc__pool_release. Connections are made lazily by
 * the `connect` hook, outside the pool's lock (connecting is slow). An
 * idle connection that fails the `healthy` hook when handed out, or the
 * `reset` hook when given back, or that the caller reports broken, is
 * destroyed and its slot connects again next time: a restarted server
 * costs one reconnect, not an error.
 *
 * What it does not do: it knows nothing of the protocol. Retrying a
 * command on a fresh connection is the caller's business
 * (authc__pool_replace gives a fresh connection without releasing the
 * slot, so a retry cannot be starved by other threads).
 *
 * Threads: every function except new/free may be called from any number
 * of threads at once. Hooks run in the calling thread, never under the
 * pool's lock, at most once at a time per connection.
 *
 * Typical use:
 *     static const authc__pool_hooks HOOKS = {my_connect, my_destroy,
 *                                             my_healthy, my_reset};
 *     authc__pool *p = authc__pool_new(&HOOKS, my_ctx, 4);
 *     void *conn;
 *     char why[256];
 *     if (authc__pool_acquire(p, 5000, &conn, why, sizeof why) != AUTHC_OK)
 *         log("%s", why);                    // timeout or connect failure
 *     else {
 *         bool broken = !talk(conn);
 *         authc__pool_release(p, conn, broken);
 *     }
 *     authc__pool_free(p);                   // after every release
 */
#ifndef AUTHC_POOL_INT_H
#define AUTHC_POOL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "authc.h"

/* Largest pool size accepted by authc__pool_new. */
#define AUTHC__POOL_MAX 64

typedef struct authc__pool authc__pool;

/* The connection type is the caller's: the pool only stores void *.
 * `ud` is the pointer given to authc__pool_new. */
typedef struct authc__pool_hooks {
    /* Required. Makes a new connection, owned by the pool from then on
     * (freed through destroy). On failure returns NULL and writes a
     * one-line reason into why (wlen bytes; never a password). */
    void *(*connect)(void *ud, char *why, size_t wlen);
    /* Required. Closes and frees a connection made by connect. */
    void (*destroy)(void *ud, void *conn);
    /* Optional (NULL = always healthy). Called on an idle connection
     * before it is handed out; false = the server went away (restart,
     * idle timeout): the pool destroys it and connects again. Must not
     * block (e.g. a zero-timeout poll on the socket). */
    bool (*healthy)(void *ud, void *conn);
    /* Optional (NULL = nothing to do). Called on release (unless the
     * caller said broken) to bring the connection back to a clean state
     * (no open transaction, no WATCH); false = cannot be reused: the pool
     * destroys it. */
    bool (*reset)(void *ud, void *conn);
} authc__pool_hooks;

/* Creates a pool of at most size (1..AUTHC__POOL_MAX) connections; none is
 * made yet. hooks must outlive the pool (typically a static const table);
 * ud is passed to every hook. Returns the pool (caller frees with
 * authc__pool_free) or NULL on a bad argument or out of memory. */
authc__pool *authc__pool_new(const authc__pool_hooks *hooks, void *ud,
                             int size);

/* Destroys every connection and the pool. Every acquired connection must
 * have been released first. NULL is a no-op. */
void authc__pool_free(authc__pool *p);

/* Takes a connection for the calling thread, waiting at most timeout_ms
 * (>= 0; 0 = do not wait) for a free slot. Prefers a slot that is already
 * connected; connects (outside the lock, not counted in the wait) when
 * the slot is empty or its connection is unhealthy.
 * Returns AUTHC_OK with *conn set (the connection stays owned by the
 * pool; hand it back with authc__pool_release exactly once),
 * AUTHC_ERR_TIMEOUT when no slot came free in time, or AUTHC_ERR_ADAPTER
 * when connecting failed (the slot is free again). On error *conn = NULL
 * and why (when non-NULL) holds a one-line reason. */
authc_err authc__pool_acquire(authc__pool *p, int64_t timeout_ms,
                              void **conn, char *why, size_t wlen);

/* Gives conn back. broken = true when the caller saw it fail (I/O error,
 * timeout, unknown protocol state): it is destroyed, not reused.
 * Otherwise the reset hook decides. Wakes one waiting thread. */
void authc__pool_release(authc__pool *p, void *conn, bool broken);

/* Destroys *conn (held by the caller) and connects its slot again without
 * releasing it, so a retry is not starved by other threads. Returns
 * AUTHC_OK with the new connection in *conn (release it as usual), or
 * AUTHC_ERR_ADAPTER with *conn = NULL and why set: then the slot is
 * already free again and the caller must NOT release. */
authc_err authc__pool_replace(authc__pool *p, void **conn, char *why,
                              size_t wlen);

/* Size given to authc__pool_new. */
int authc__pool_size(const authc__pool *p);

#endif
