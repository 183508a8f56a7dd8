/* pg_wire_int.h — libpq plumbing shared by the PostgreSQL adapter
 * (pg_conn.c) and the PostgreSQL store (lib/store/store_postgres.c). */
#ifndef AUTHC_PG_WIRE_INT_H
#define AUTHC_PG_WIRE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>
#include "util/pool_int.h"

/* One pooled connection: the libpq handle and which statements it has
 * prepared (bit i = statement i of its user's table). Owned by the pool. */
typedef struct authc__pg_conn {
    PGconn *c;
    uint32_t prepared;
} authc__pg_conn;

/* Monotonic milliseconds, the clock of every deadline below. */
int64_t authc__pg_mono_ms(void);

/* Polls c's socket for ev (POLLIN / POLLOUT) until deadline: 1 ready,
 * 0 timed out, -1 failed. */
int authc__pg_wait(PGconn *c, short ev, int64_t deadline);

/* Collects the results of what was just sent on c: the first (owned by
 * the caller, PQclear), the others dropped. NULL when none came: then
 * *timed_out says whether deadline passed, else the connection failed. */
PGresult *authc__pg_collect(PGconn *c, int64_t deadline, bool *timed_out);

/* Copies a libpq message into out on one line (messages end in '\n' and
 * may span lines; no trailing blanks). */
void authc__pg_one_line(char *out, size_t outlen, const char *msg);

/* A notice receiver that drops NOTICEs: libpq prints them to stderr by
 * default (e.g. "relation … already exists, skipping"); a library must not. */
void authc__pg_no_notice(void *arg, const PGresult *r);

/* Pool hooks (util/pool_int.h) over authc__pg_conn:
 * close: PQfinish and free (NULL is a no-op);
 * alive: an idle connection is still usable. Nobody LISTENs nor SETs
 *   after setup, so an idle connection has nothing to say: a readable
 *   socket means the server talks on its own, which after a restart or an
 *   idle timeout is a FATAL message followed by EOF. Such a connection is
 *   reopened rather than parsed (the FATAL alone leaves libpq's status OK
 *   until the next read hits EOF, mid-query);
 * reset: a connection left mid-transaction or broken is not reused. */
void authc__pg_conn_close(void *ud, void *conn);
bool authc__pg_conn_alive(void *ud, void *conn);
bool authc__pg_conn_reset(void *ud, void *conn);

/* Frees what an adapter or store holds to reach its server: the pool
 * (closing its connections) and the conninfo, wiped first (it may hold
 * the password). Either may be NULL. */
void authc__pg_wire_free(authc__pool *pool, char *conninfo);

#endif
