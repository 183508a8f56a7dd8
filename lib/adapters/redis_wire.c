/* redis_wire.c — hiredis plumbing shared by the Redis adapter and store:
 * the SIGPIPE guard and the connection pool hooks (connect, AUTH, SELECT). */
#include <pthread.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "adapters/adapters_int.h"
#include "adapters/redis_wire_int.h"
#include "util/util_int.h"

/* ---- SIGPIPE ------------------------------------------------------------- */

void authc__sigpipe_block(authc__sigpipe_guard *g)
{
    sigset_t pipe, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe, &g->old);
}

void authc__sigpipe_unblock(const authc__sigpipe_guard *g)
{
    sigset_t pipe, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    if (!g->was_pending) {
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE) == 1) {
            struct timespec zero = {0, 0};
            sigtimedwait(&pipe, NULL, &zero);
        }
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- connections ----------------------------------------------------------- */

static struct timeval ms_tv(int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

/* One setup command (AUTH, SELECT); false with why on failure. */
static bool setup_cmd(redisContext *c, int argc, const char **argv,
                      char *why, size_t wlen)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    bool ok = r && r->type != REDIS_REPLY_ERROR;
    if (!ok) /* an AUTH error never echoes the password */
        snprintf(why, wlen, "%s failed: %.200s", argv[0],
                 r ? r->str : c->errstr[0] ? c->errstr : "connection lost");
    freeReplyObject(r);
    return ok;
}

/* Owned by the pool. */
void *authc__rd_conn_open(void *ud, char *why, size_t wlen)
{
    const authc__rd_server *s = ud;
    redisContext *c = redisConnectWithTimeout(s->host, s->port,
                                              ms_tv(s->connect_timeout_ms));
    if (!c || c->err) {
        snprintf(why, wlen, "cannot connect: %s",
                 c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    bool ok = redisSetTimeout(c, ms_tv(s->timeout_ms)) == REDIS_OK;
    if (!ok)
        snprintf(why, wlen, "cannot set timeout: %s", c->errstr);
    authc__sigpipe_guard g;
    authc__sigpipe_block(&g);
    if (ok && s->pass) {
        const char *argv[3] = {"AUTH", s->user ? s->user : s->pass, s->pass};
        ok = setup_cmd(c, s->user ? 3 : 2, argv, why, wlen);
    }
    if (ok && s->db) {
        char db[16];
        snprintf(db, sizeof db, "%d", s->db);
        const char *argv[2] = {"SELECT", db};
        ok = setup_cmd(c, 2, argv, why, wlen);
    }
    authc__sigpipe_unblock(&g);
    if (!ok) {
        redisFree(c);
        return NULL;
    }
    return c;
}

void authc__rd_conn_close(void *ud, void *conn)
{
    (void)ud;
    redisFree(conn);
}

bool authc__rd_conn_alive(void *ud, void *conn)
{
    (void)ud;
    redisContext *c = conn;
    return !c->err && authc__fd_idle(c->fd);
}

bool authc__rd_conn_reset(void *ud, void *conn)
{
    (void)ud;
    return !((redisContext *)conn)->err;
}

void authc__rd_wire_free(authc__pool *pool, authc__rd_server *srv)
{
    authc__pool_free(pool);
    authc__free_secret(srv->pass);
    free(srv->user);
}
