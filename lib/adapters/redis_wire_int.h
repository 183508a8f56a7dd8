/* redis_wire_int.h — hiredis plumbing shared by the Redis adapter
 * (redis_conn.c) and the Redis store (lib/store/store_redis.c). */
#ifndef AUTHC_REDIS_WIRE_INT_H
#define AUTHC_REDIS_WIRE_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include "util/pool_int.h"

/* Where a Redis server is and how to talk to it (parsed from the URL). */
typedef struct authc__rd_server {
    char host[256];
    int port;
    int db;
    char *user;              /* ACL user or NULL */
    char *pass;              /* NULL when none; never logged; wiped on close */
    int timeout_ms;          /* socket timeout of every command */
    int connect_timeout_ms;
} authc__rd_server;

/* ---- SIGPIPE ----------------------------------------------------------------
 * hiredis write()s without MSG_NOSIGNAL: a server gone mid-call must not
 * kill the process. SIGPIPE is blocked in this thread while we talk to the
 * server, and one we caused is consumed before unblocking (as libpq does). */
typedef struct authc__sigpipe_guard {
    sigset_t old;
    bool was_pending;
} authc__sigpipe_guard;

void authc__sigpipe_block(authc__sigpipe_guard *g);
void authc__sigpipe_unblock(const authc__sigpipe_guard *g);

/* ---- pool hooks (util/pool_int.h); the pool's ud is the authc__rd_server
 * open: connects, sets the timeout, authenticates and selects the
 *   database; the redisContext (owned by the pool) or NULL with the
 *   reason in why (never the password);
 * close: redisFree;
 * alive: an idle RESP2 connection never has data to read: readable means
 *   the server closed it (restart, idle timeout);
 * reset: a connection with an I/O or protocol error is not reused. */
void *authc__rd_conn_open(void *ud, char *why, size_t wlen);
void authc__rd_conn_close(void *ud, void *conn);
bool authc__rd_conn_alive(void *ud, void *conn);
bool authc__rd_conn_reset(void *ud, void *conn);

/* Frees what an adapter or store holds to reach its server: the pool
 * (closing its connections; its ud is srv) and srv's credentials, the
 * password wiped first. pool may be NULL. */
void authc__rd_wire_free(authc__pool *pool, authc__rd_server *srv);

#endif
