/* pg_wire.c — libpq plumbing shared by the PostgreSQL adapter and store:
 * waits with deadlines, result collection, one-line messages, pool hooks. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>

#include "adapters/adapters_int.h"
#include "adapters/pg_wire_int.h"
#include "util/util_int.h"

int64_t authc__pg_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int authc__pg_wait(PGconn *c, short ev, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - authc__pg_mono_ms();
        struct pollfd p = {.fd = PQsocket(c), .events = ev};
        if (left <= 0)
            return 0;
        if (p.fd < 0)
            return -1;
        int rc = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        return rc < 0 ? -1 : rc > 0;
    }
}

/* Owned by the caller (PQclear). */
PGresult *authc__pg_collect(PGconn *c, int64_t deadline, bool *timed_out)
{
    PGresult *first = NULL;
    *timed_out = false;
    for (;;) {
        while (PQisBusy(c)) {
            int w = authc__pg_wait(c, POLLIN, deadline);
            if (w <= 0 || !PQconsumeInput(c)) {
                *timed_out = w == 0;
                PQclear(first);
                return NULL;
            }
        }
        PGresult *r = PQgetResult(c);
        if (!r)
            break;
        if (!first)
            first = r;
        else
            PQclear(r);
    }
    return first;
}

void authc__pg_one_line(char *out, size_t outlen, const char *msg)
{
    size_t n = 0;
    if (!outlen)
        return;
    for (const char *p = msg ? msg : ""; *p && n + 1 < outlen; p++)
        out[n++] = (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p;
    while (n && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

void authc__pg_no_notice(void *arg, const PGresult *r)
{
    (void)arg;
    (void)r;
}

/* ---- pool hooks ------------------------------------------------------------ */

void authc__pg_conn_close(void *ud, void *conn)
{
    (void)ud;
    authc__pg_conn *pc = conn;
    if (pc)
        PQfinish(pc->c);
    free(pc);
}

bool authc__pg_conn_reset(void *ud, void *conn)
{
    (void)ud;
    authc__pg_conn *pc = conn;
    return PQstatus(pc->c) == CONNECTION_OK &&
           PQtransactionStatus(pc->c) == PQTRANS_IDLE;
}

bool authc__pg_conn_alive(void *ud, void *conn)
{
    return authc__pg_conn_reset(ud, conn) &&
           authc__fd_idle(PQsocket(((authc__pg_conn *)conn)->c));
}

void authc__pg_wire_free(authc__pool *pool, char *conninfo)
{
    authc__pool_free(pool);
    authc__free_secret(conninfo);
}
