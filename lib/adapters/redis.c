/* redis.c — Redis backend (hiredis) storing the exact @auth/upstash-redis-adapter
 * keys and JSON, without its index bugs; plus WebAuthn authenticators.
 *
 * URL: redis://[user:password@]host[:port][/db][?prefix=P&pool_size=4
 *      &timeout=5000&connect_timeout=5000&ttl_grace=86400]
 *   prefix           upstash's baseKeyPrefix (default ""), percent-decoded
 *   pool_size        connections (1..64, default 4)
 *   timeout          ms per command round trip (default 5000)
 *   connect_timeout  ms (default 5000)
 *   ttl_grace        s a session/token key outlives its expiry (default 86400)
 * Needs Redis >= 6.2 (GETDEL, SET … PXAT). rediss:// (TLS) is not supported.
 *
 * Keys (P = prefix), values byte-compatible with upstash-redis-adapter 2.x
 * (compact JSON.stringify, dates as toISOString, index values unquoted):
 *   P user:{id}                          JSON user
 *   P user:email:{email}                 raw user id
 *   P user:account:{provider}:{paId}     JSON account, "id":"{provider}:{paId}"
 *   P user:account:by-user-id:{userId}   raw full key of the last linked account
 *   P user:session:{sessionToken}        JSON session            (TTL, below)
 *   P user:session:by-user-id:{userId}   raw full key of the last session
 *   P user:token:{identifier}:{token}    JSON verification token (TTL, below)
 * Ours (upstash has no authenticators and only "last" pointers):
 *   P user:authenticator:{credentialID}        JSON authenticator
 *   P authc:accounts-by-user-id:{userId}       SET of "{provider}:{paId}"
 *   P authc:sessions-by-user-id:{userId}       ZSET session token → expires ms
 *   P authc:authenticators-by-user-id:{userId} SET of credentialIDs
 * Deviations from upstash (its bugs, spec §4): no "user:email:undefined" key
 * for users without email; an email change deletes the old index key;
 * unlinkAccount deletes the right keys; deleteUser removes every session,
 * account and authenticator of the user (via our sets, checking each row
 * still belongs to the user); useVerificationToken is one GETDEL; sessions
 * and tokens are SET with PXAT max(expires, now) + ttl_grace so they leave
 * Redis by themselves (core still sees expired rows during the grace).
 * Read-modify-write methods use WATCH/MULTI/EXEC and retry on conflict. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "adapters/adapters_int.h"
#include "util/util_int.h"

#define RD_POOL_DEFAULT 4
#define RD_POOL_MAX 64
#define RD_TIMEOUT_DEFAULT_MS 5000
#define RD_GRACE_DEFAULT_S 86400
/* Largest value we accept from the server and largest key part we build. */
#define RD_MAX_VALUE (1u << 20)
#define RD_MAX_KEYPART 4096
/* Most members of one per-user set we process (delete_user, lists). */
#define RD_MAX_MEMBERS 100000
/* WATCH conflicts tolerated before giving up. */
#define RD_TX_TRIES 8
#define RD_MAX_URL 4096

/* ---- state -------------------------------------------------------------- */

typedef struct rd_conn {
    redisContext *c;     /* NULL until (re)connected */
    bool busy;
} rd_conn;

typedef struct rd_ctx {
    char host[256];
    int port;
    int db;
    char *user;          /* ACL user or NULL */
    char *pass;          /* never logged; wiped on destroy */
    char *prefix;
    int pool_size;
    int timeout_ms;
    int connect_timeout_ms;
    int64_t grace_ms;
    char label[320];     /* "redis host:port/db" for messages */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rd_conn conns[RD_POOL_MAX];
} rd_ctx;

/* SIGPIPE blocked in this thread while we talk to the server: hiredis
 * write()s without MSG_NOSIGNAL, and a server that closed the connection
 * must not kill the process. A SIGPIPE we caused is consumed on unblock
 * (what libpq does). */
typedef struct rd_sigpipe {
    sigset_t oldmask;
    bool was_pending;
} rd_sigpipe;

static void sigpipe_block(rd_sigpipe *sp)
{
    sigset_t pipe, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigpending(&pending);
    sp->was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe, &sp->oldmask);
}

static void sigpipe_unblock(rd_sigpipe *sp)
{
    sigset_t pipe, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    if (!sp->was_pending) {
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE) == 1) {
            struct timespec zero = {0, 0};
            sigtimedwait(&pipe, NULL, &zero);
        }
    }
    pthread_sigmask(SIG_SETMASK, &sp->oldmask, NULL);
}

/* One method call's hold on a pooled connection. */
typedef struct rd_call {
    authc_adapter *self;
    rd_ctx *ctx;
    rd_conn *pc;
    authc_arena *ar;
    rd_sigpipe sp;
    bool watching;       /* a WATCH may be active on pc */
} rd_call;

/* ---- time --------------------------------------------------------------- */

static struct timeval ms_tv(int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

/* ---- connections -------------------------------------------------------- */

static void conn_drop(rd_conn *pc)
{
    if (pc->c)
        redisFree(pc->c);
    pc->c = NULL;
}

/* Reply of a setup command is acceptable (status OK / not an error). */
static bool setup_ok(redisContext *c, redisReply *r, char *why, size_t wlen,
                     const char *what)
{
    if (!r) {
        snprintf(why, wlen, "%s: %s", what,
                 c->errstr[0] ? c->errstr : "connection lost");
        return false;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        /* AUTH errors do not echo the password. */
        snprintf(why, wlen, "%s: %.200s", what, r->str);
        freeReplyObject(r);
        return false;
    }
    freeReplyObject(r);
    return true;
}

/* Connects pc, authenticates and selects the database. Reason in why. */
static authc_err conn_open(rd_ctx *ctx, rd_conn *pc, char *why, size_t wlen)
{
    conn_drop(pc);
    redisContext *c = redisConnectWithTimeout(ctx->host, ctx->port,
                                              ms_tv(ctx->connect_timeout_ms));
    if (!c || c->err) {
        snprintf(why, wlen, "cannot connect: %s",
                 c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return AUTHC_ERR_ADAPTER;
    }
    if (redisSetTimeout(c, ms_tv(ctx->timeout_ms)) != REDIS_OK) {
        snprintf(why, wlen, "cannot set timeout: %s", c->errstr);
        redisFree(c);
        return AUTHC_ERR_ADAPTER;
    }
    if (ctx->pass) {
        const char *argv[3] = {"AUTH", ctx->user, ctx->pass};
        int argc = 3;
        if (!ctx->user) {
            argv[1] = ctx->pass;
            argc = 2;
        }
        if (!setup_ok(c, redisCommandArgv(c, argc, argv, NULL), why, wlen,
                      "AUTH failed")) {
            redisFree(c);
            return AUTHC_ERR_ADAPTER;
        }
    }
    if (ctx->db) {
        char dbs[16];
        snprintf(dbs, sizeof dbs, "%d", ctx->db);
        const char *argv[2] = {"SELECT", dbs};
        if (!setup_ok(c, redisCommandArgv(c, 2, argv, NULL), why, wlen,
                      "SELECT failed")) {
            redisFree(c);
            return AUTHC_ERR_ADAPTER;
        }
    }
    pc->c = c;
    return AUTHC_OK;
}

/* An idle RESP2 connection never has data to read: readable means the
 * server closed it (restart, idle timeout). */
static bool conn_alive(rd_conn *pc)
{
    if (!pc->c || pc->c->err)
        return false;
    struct pollfd pfd = {.fd = pc->c->fd, .events = POLLIN};
    return poll(&pfd, 1, 0) == 0;
}

static authc_err pool_acquire(authc_adapter *self, rd_ctx *ctx,
                              rd_conn **out)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    int64_t wait_ms = (int64_t)ctx->timeout_ms * 2;
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ctx->mu);
    for (;;) {
        rd_conn *pick = NULL;
        for (int i = 0; i < ctx->pool_size; i++) {
            rd_conn *pc = &ctx->conns[i];
            if (pc->busy)
                continue;
            if (pc->c) {
                pick = pc;
                break;
            }
            if (!pick)
                pick = pc;
        }
        if (pick) {
            pick->busy = true;
            pthread_mutex_unlock(&ctx->mu);
            *out = pick;
            return AUTHC_OK;
        }
        if (pthread_cond_timedwait(&ctx->cv, &ctx->mu, &until) == ETIMEDOUT) {
            pthread_mutex_unlock(&ctx->mu);
            authc__adapter_log(self, "error",
                               "%s: all %d connections busy for %" PRId64
                               " ms", ctx->label, ctx->pool_size, wait_ms);
            return AUTHC_ERR_ADAPTER;
        }
    }
}

static void pool_release(rd_ctx *ctx, rd_conn *pc)
{
    if (pc->c && pc->c->err)
        conn_drop(pc);
    pthread_mutex_lock(&ctx->mu);
    pc->busy = false;
    pthread_cond_signal(&ctx->cv);
    pthread_mutex_unlock(&ctx->mu);
}

/* Takes a connection for one method call (SIGPIPE blocked until rd_end,
 * which must be called even when this fails). */
static authc_err rd_begin(authc_adapter *self, authc_arena *ar, rd_call *call)
{
    memset(call, 0, sizeof *call);
    call->self = self;
    call->ctx = self->ctx;
    call->ar = ar;
    authc_err e = pool_acquire(self, call->ctx, &call->pc);
    if (e)
        return e;
    sigpipe_block(&call->sp);
    if (!conn_alive(call->pc)) {
        char why[400];
        e = conn_open(call->ctx, call->pc, why, sizeof why);
        if (e) {
            authc__adapter_log(self, "error", "%s: %s", call->ctx->label,
                               why);
            return e;  /* rd_end still runs */
        }
    }
    return AUTHC_OK;
}

static void rd_unwatch(rd_call *call);

static void rd_end(rd_call *call)
{
    if (!call->pc)
        return;
    /* Never hand back a connection with a WATCH left by an early exit. */
    if (call->watching)
        rd_unwatch(call);
    sigpipe_unblock(&call->sp);
    pool_release(call->ctx, call->pc);
    call->pc = NULL;
}

/* ---- commands ----------------------------------------------------------- */

/* A command line being built; memory from the call's arena. */
typedef struct rd_cmd {
    authc_arena *ar;
    const char **argv;
    size_t *len;
    int argc, cap;
    authc_err err;
} rd_cmd;

static void cmd_init(rd_cmd *cmd, authc_arena *ar)
{
    memset(cmd, 0, sizeof *cmd);
    cmd->ar = ar;
}

static void cmd_addn(rd_cmd *cmd, const char *s, size_t n)
{
    if (cmd->err)
        return;
    if (!s) {
        cmd->err = AUTHC_ERR_INVALID;
        return;
    }
    if (cmd->argc == cmd->cap) {
        if (cmd->cap >= RD_MAX_MEMBERS * 4) {
            cmd->err = AUTHC_ERR_LIMIT;
            return;
        }
        int cap = cmd->cap ? cmd->cap * 2 : 8;
        const char **argv = authc_arena_alloc(cmd->ar, sizeof *argv * (size_t)cap);
        size_t *len = authc_arena_alloc(cmd->ar, sizeof *len * (size_t)cap);
        if (!argv || !len) {
            cmd->err = AUTHC_ERR_NOMEM;
            return;
        }
        if (cmd->argc) {
            memcpy(argv, cmd->argv, sizeof *argv * (size_t)cmd->argc);
            memcpy(len, cmd->len, sizeof *len * (size_t)cmd->argc);
        }
        cmd->argv = argv;
        cmd->len = len;
        cmd->cap = cap;
    }
    cmd->argv[cmd->argc] = s;
    cmd->len[cmd->argc] = n;
    cmd->argc++;
}

static void cmd_add(rd_cmd *cmd, const char *s)
{
    cmd_addn(cmd, s, s ? strlen(s) : 0);
}

static void cmd_addi(rd_cmd *cmd, int64_t v)
{
    char *s = authc_arena_printf(cmd->ar, "%" PRId64, v);
    if (!s && !cmd->err)
        cmd->err = AUTHC_ERR_NOMEM;
    cmd_add(cmd, s);
}

/* Logs a lost/failed connection and drops it. Returns true when it was a
 * timeout (SO_RCVTIMEO: EAGAIN), which is not worth a retry. */
static bool conn_failed(rd_call *call, const char *what)
{
    redisContext *c = call->pc->c;
    bool timeout = c && c->err == REDIS_ERR_IO &&
                   (strstr(c->errstr, "temporarily unavailable") ||
                    strstr(c->errstr, "timed out"));
    if (timeout)
        authc__adapter_log(call->self, "error", "%s: %s: no answer within "
                           "%d ms, dropping the connection",
                           call->ctx->label, what, call->ctx->timeout_ms);
    else
        authc__adapter_log(call->self, "error", "%s: %s: %s",
                           call->ctx->label, what,
                           c && c->errstr[0] ? c->errstr : "connection lost");
    conn_drop(call->pc);
    return timeout;
}

/* Sends one command and returns its reply (caller freeReplyObject), or
 * NULL after logging. An error reply is logged and freed (NULL). With
 * retry (idempotent reads only), a connection failure reconnects and
 * sends it once more. */
static redisReply *rd_run(rd_call *call, const rd_cmd *cmd, bool retry,
                          const char *what)
{
    if (cmd->err) {
        authc__adapter_log(call->self, "error", "%s: %s: %s",
                           call->ctx->label, what, authc_strerror(cmd->err));
        return NULL;
    }
    for (int attempt = 0;; attempt++) {
        if (!call->pc->c) {
            char why[400];
            if (conn_open(call->ctx, call->pc, why, sizeof why)) {
                authc__adapter_log(call->self, "error", "%s: %s",
                                   call->ctx->label, why);
                return NULL;
            }
        }
        redisReply *r = redisCommandArgv(call->pc->c, cmd->argc, cmd->argv,
                                         cmd->len);
        if (!r) {
            if (!conn_failed(call, what) && retry && attempt == 0)
                continue;
            return NULL;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            authc__adapter_log(call->self, "error", "%s: %s: %.200s",
                               call->ctx->label, what, r->str);
            freeReplyObject(r);
            return NULL;
        }
        return r;
    }
}

/* Runs cmds inside MULTI/EXEC in one round trip. Returns 1 and *exec (the
 * EXEC array, caller frees) on commit, 0 when a WATCHed key changed (the
 * caller retries), -1 on failure (logged). */
static int rd_tx(rd_call *call, rd_cmd *cmds, int n, const char *what,
                 redisReply **exec)
{
    *exec = NULL;
    redisContext *c = call->pc->c;
    if (!c) {
        conn_failed(call, what);
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (cmds[i].err) {
            authc__adapter_log(call->self, "error", "%s: %s: %s",
                               call->ctx->label, what,
                               authc_strerror(cmds[i].err));
            rd_unwatch(call);
            return -1;
        }
    const char *multi = "MULTI", *execs = "EXEC";
    call->watching = false;  /* EXEC (or the dropped connection) ends it */
    if (redisAppendCommandArgv(c, 1, &multi, NULL) != REDIS_OK)
        goto lost;
    for (int i = 0; i < n; i++)
        if (redisAppendCommandArgv(c, cmds[i].argc, cmds[i].argv,
                                   cmds[i].len) != REDIS_OK)
            goto lost;
    if (redisAppendCommandArgv(c, 1, &execs, NULL) != REDIS_OK)
        goto lost;
    bool bad = false;
    char errtext[208] = "";
    for (int i = 0; i < n + 1; i++) {
        void *v = NULL;
        if (redisGetReply(c, &v) != REDIS_OK)
            goto lost;
        redisReply *r = v;
        if (r->type == REDIS_REPLY_ERROR && !bad) {
            bad = true;
            snprintf(errtext, sizeof errtext, "%.200s", r->str);
        }
        freeReplyObject(r);
    }
    void *v = NULL;
    if (redisGetReply(c, &v) != REDIS_OK)
        goto lost;
    redisReply *r = v;
    if (bad || r->type == REDIS_REPLY_ERROR) {
        authc__adapter_log(call->self, "error", "%s: %s: %.200s",
                           call->ctx->label, what,
                           bad ? errtext : r->str);
        freeReplyObject(r);
        return -1;
    }
    if (r->type == REDIS_REPLY_NIL) {
        freeReplyObject(r);
        return 0;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != (size_t)n) {
        authc__adapter_log(call->self, "error", "%s: %s: unexpected EXEC "
                           "reply", call->ctx->label, what);
        freeReplyObject(r);
        return -1;
    }
    *exec = r;
    return 1;
lost:
    conn_failed(call, what);
    return -1;
}

/* Sends UNWATCH (after a WATCH whose transaction we abandon). */
static void rd_unwatch(rd_call *call)
{
    call->watching = false;
    if (!call->pc->c)
        return;
    redisReply *r = redisCommand(call->pc->c, "UNWATCH");
    if (!r)
        conn_drop(call->pc);
    freeReplyObject(r);
}

/* WATCHes the given keys. */
static bool rd_watch(rd_call *call, const char *const *keys, int n)
{
    rd_cmd w;
    cmd_init(&w, call->ar);
    cmd_add(&w, "WATCH");
    for (int i = 0; i < n; i++)
        cmd_add(&w, keys[i]);
    redisReply *r = rd_run(call, &w, false, "WATCH");
    freeReplyObject(r);
    if (r)
        call->watching = true;
    return r != NULL;
}

/* GET key: *val = arena copy or NULL when missing. false on failure. */
static bool rd_get(rd_call *call, const char *key, bool retry,
                   const char *what, char **val)
{
    *val = NULL;
    rd_cmd cmd;
    cmd_init(&cmd, call->ar);
    cmd_add(&cmd, "GET");
    cmd_add(&cmd, key);
    redisReply *r = rd_run(call, &cmd, retry, what);
    if (!r)
        return false;
    bool ok = true;
    if (r->type == REDIS_REPLY_STRING) {
        if (r->len > RD_MAX_VALUE) {
            authc__adapter_log(call->self, "error", "%s: %s: value over %u "
                               "bytes", call->ctx->label, what, RD_MAX_VALUE);
            ok = false;
        } else if (!(*val = authc_arena_strndup(call->ar, r->str, r->len))) {
            ok = false;
        }
    } else if (r->type != REDIS_REPLY_NIL) {
        authc__adapter_log(call->self, "error", "%s: %s: not a string value",
                           call->ctx->label, what);
        ok = false;
    }
    freeReplyObject(r);
    return ok;
}

/* Members of a SET (SMEMBERS) or ZSET (ZRANGE 0 -1) as arena strings. */
static bool rd_members(rd_call *call, const char *key, bool zset, bool retry,
                       char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    rd_cmd cmd;
    cmd_init(&cmd, call->ar);
    cmd_add(&cmd, zset ? "ZRANGE" : "SMEMBERS");
    cmd_add(&cmd, key);
    if (zset) {
        cmd_add(&cmd, "0");
        cmd_add(&cmd, "-1");
    }
    redisReply *r = rd_run(call, &cmd, retry, "read index");
    if (!r)
        return false;
    bool ok = r->type == REDIS_REPLY_ARRAY && r->elements <= RD_MAX_MEMBERS;
    if (ok && r->elements) {
        char **m = authc_arena_alloc(call->ar, sizeof *m * r->elements);
        ok = m != NULL;
        for (size_t i = 0; ok && i < r->elements; i++) {
            redisReply *e = r->element[i];
            ok = e->type == REDIS_REPLY_STRING && e->len <= RD_MAX_KEYPART &&
                 (m[i] = authc_arena_strndup(call->ar, e->str, e->len));
        }
        if (ok) {
            *out = m;
            *n = r->elements;
        }
    }
    if (!ok)
        authc__adapter_log(call->self, "error", "%s: bad index set",
                           call->ctx->label);
    freeReplyObject(r);
    return ok;
}

/* MGET keys: vals[i] = arena copy or NULL. */
static bool rd_mget(rd_call *call, char **keys, size_t n, bool retry,
                    char ***vals)
{
    *vals = NULL;
    if (n == 0)
        return true;
    rd_cmd cmd;
    cmd_init(&cmd, call->ar);
    cmd_add(&cmd, "MGET");
    for (size_t i = 0; i < n; i++)
        cmd_add(&cmd, keys[i]);
    redisReply *r = rd_run(call, &cmd, retry, "MGET");
    if (!r)
        return false;
    bool ok = r->type == REDIS_REPLY_ARRAY && r->elements == n;
    char **v = ok ? authc_arena_alloc(call->ar, sizeof *v * n) : NULL;
    ok = ok && v;
    for (size_t i = 0; ok && i < n; i++) {
        redisReply *e = r->element[i];
        if (e->type == REDIS_REPLY_NIL)
            continue;
        ok = e->type == REDIS_REPLY_STRING && e->len <= RD_MAX_VALUE &&
             (v[i] = authc_arena_strndup(call->ar, e->str, e->len));
    }
    freeReplyObject(r);
    if (ok)
        *vals = v;
    return ok;
}

/* ---- keys --------------------------------------------------------------- */

/* P + a + b [+ ":" + c]; NULL when a part is missing or too long. */
static const char *key3(rd_call *call, const char *a, const char *b,
                        const char *c)
{
    if (!b || strlen(b) > RD_MAX_KEYPART ||
        (c && strlen(c) > RD_MAX_KEYPART))
        return NULL;
    if (c)
        return authc_arena_printf(call->ar, "%s%s%s:%s", call->ctx->prefix,
                                  a, b, c);
    return authc_arena_printf(call->ar, "%s%s%s", call->ctx->prefix, a, b);
}
#define K_USER(call, id) key3(call, "user:", id, NULL)
#define K_EMAIL(call, e) key3(call, "user:email:", e, NULL)
#define K_ACCOUNT(call, p, id) key3(call, "user:account:", p, id)
#define K_ACCOUNT_PTR(call, u) key3(call, "user:account:by-user-id:", u, NULL)
#define K_SESSION(call, t) key3(call, "user:session:", t, NULL)
#define K_SESSION_PTR(call, u) key3(call, "user:session:by-user-id:", u, NULL)
#define K_VT(call, i, t) key3(call, "user:token:", i, t)
#define K_AUTH(call, c) key3(call, "user:authenticator:", c, NULL)
#define K_ACCOUNTS(call, u) key3(call, "authc:accounts-by-user-id:", u, NULL)
#define K_SESSIONS(call, u) key3(call, "authc:sessions-by-user-id:", u, NULL)
#define K_AUTHS(call, u) key3(call, "authc:authenticators-by-user-id:", u, NULL)

/* Absolute PXAT for a row expiring at `expires` (ms): never in the past,
 * plus the grace so core still sees (and reports) an expired row. */
static int64_t ttl_at(rd_ctx *ctx, int64_t expires)
{
    int64_t now = authc__now_ms();
    int64_t base = expires > now ? expires : now;
    return base + ctx->grace_ms;
}

/* ---- JSON out (JSON.stringify byte layout) ------------------------------- */

#define RD_JSON_MAX (RD_MAX_VALUE - 1)

static void j_key(authc__buf *b, const char *k, bool *first)
{
    if (!*first)
        authc__buf_addc(b, ',');
    *first = false;
    authc__buf_add_json_str(b, k);
    authc__buf_addc(b, ':');
}

/* "k":"v" or "k":null. */
static void j_str(authc__buf *b, const char *k, const char *v, bool *first)
{
    j_key(b, k, first);
    if (v)
        authc__buf_add_json_str(b, v);
    else
        authc__buf_adds(b, "null");
}

/* "k":"v", omitted when v is NULL (JS undefined). */
static void j_str_opt(authc__buf *b, const char *k, const char *v,
                      bool *first)
{
    if (v)
        j_str(b, k, v, first);
}

/* "k":"2024-01-02T03:04:05.678Z" (toISOString) or "k":null. */
static void j_date(authc__buf *b, const char *k, int64_t ms, bool *first)
{
    j_key(b, k, first);
    if (ms == AUTHC_NO_TIME) {
        authc__buf_adds(b, "null");
        return;
    }
    char iso[32];
    authc__iso8601(iso, ms);
    authc__buf_add_json_str(b, iso);
}

static void j_int(authc__buf *b, const char *k, int64_t v, bool *first)
{
    j_key(b, k, first);
    authc__buf_printf(b, "%" PRId64, v);
}

/* Key order of core's OAuth user: {...profile(id,name,email,image),
 * emailVerified}. Owned by ar. */
static const char *user_json(authc_arena *ar, const authc_user *u)
{
    authc__buf b;
    bool first = true;
    authc__buf_init(&b, ar, RD_JSON_MAX);
    authc__buf_addc(&b, '{');
    j_str(&b, "id", u->id, &first);
    j_str(&b, "name", u->name, &first);
    j_str(&b, "email", u->email, &first);
    j_str(&b, "image", u->image, &first);
    j_date(&b, "emailVerified", u->email_verified, &first);
    authc__buf_addc(&b, '}');
    return b.err ? NULL : b.p;
}

/* Order of the upstash example: identity, userId, tokens, then "id". */
static const char *account_json(authc_arena *ar, const authc_account *a)
{
    authc__buf b;
    bool first = true;
    authc__buf_init(&b, ar, RD_JSON_MAX);
    authc__buf_addc(&b, '{');
    j_str(&b, "provider", a->provider, &first);
    j_str(&b, "providerAccountId", a->provider_account_id, &first);
    j_str(&b, "type", a->type, &first);
    j_str(&b, "userId", a->user_id, &first);
    j_str_opt(&b, "access_token", a->access_token, &first);
    if (a->expires_at != AUTHC_NO_TIME)
        j_int(&b, "expires_at", a->expires_at, &first);
    j_str_opt(&b, "id_token", a->id_token, &first);
    j_str_opt(&b, "refresh_token", a->refresh_token, &first);
    j_str_opt(&b, "token_type", a->token_type, &first);
    j_str_opt(&b, "scope", a->scope, &first);
    j_str_opt(&b, "session_state", a->session_state, &first);
    j_str(&b, "id", a->id, &first);
    authc__buf_addc(&b, '}');
    return b.err ? NULL : b.p;
}

static const char *session_json(authc_arena *ar, const authc_session_row *s)
{
    authc__buf b;
    bool first = true;
    authc__buf_init(&b, ar, RD_JSON_MAX);
    authc__buf_addc(&b, '{');
    j_str(&b, "sessionToken", s->session_token, &first);
    j_str(&b, "userId", s->user_id, &first);
    j_date(&b, "expires", s->expires, &first);
    authc__buf_addc(&b, '}');
    return b.err ? NULL : b.p;
}

static const char *vt_json(authc_arena *ar, const authc_verification_token *v)
{
    authc__buf b;
    bool first = true;
    authc__buf_init(&b, ar, RD_JSON_MAX);
    authc__buf_addc(&b, '{');
    j_str(&b, "identifier", v->identifier, &first);
    j_str(&b, "token", v->token, &first);
    j_date(&b, "expires", v->expires, &first);
    authc__buf_addc(&b, '}');
    return b.err ? NULL : b.p;
}

/* Drizzle's authenticator columns; transports omitted when absent. */
static const char *auth_json(authc_arena *ar, const authc_authenticator *a)
{
    authc__buf b;
    bool first = true;
    authc__buf_init(&b, ar, RD_JSON_MAX);
    authc__buf_addc(&b, '{');
    j_str(&b, "credentialID", a->credential_id, &first);
    j_str(&b, "userId", a->user_id, &first);
    j_str(&b, "providerAccountId", a->provider_account_id, &first);
    j_str(&b, "credentialPublicKey", a->credential_public_key, &first);
    j_int(&b, "counter", a->counter, &first);
    j_str(&b, "credentialDeviceType", a->credential_device_type, &first);
    j_key(&b, "credentialBackedUp", &first);
    authc__buf_adds(&b, a->credential_backed_up ? "true" : "false");
    j_str_opt(&b, "transports", a->transports, &first);
    authc__buf_addc(&b, '}');
    return b.err ? NULL : b.p;
}

/* ---- JSON in (what upstash, i.e. JSON.stringify, wrote) ------------------ */

/* A stored value parsed; the first conversion failure sticks. */
typedef struct jin {
    authc_arena *ar;
    json_t *o;
    authc_err err;
} jin;

static bool jin_parse(jin *j, authc_arena *ar, const char *s)
{
    j->ar = ar;
    j->err = AUTHC_OK;
    j->o = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
    if (j->o && !json_is_object(j->o)) {
        json_decref(j->o);
        j->o = NULL;
    }
    return j->o != NULL;
}

/* String member as arena copy. Numbers (an id or providerAccountId that
 * JSON.parse turned into a number before a re-save) become their decimal
 * text; null/absent/other → NULL. */
static const char *jin_str(jin *j, const char *k)
{
    json_t *v = json_object_get(j->o, k);
    char *s = NULL;
    if (json_is_string(v))
        s = authc_arena_strndup(j->ar, json_string_value(v),
                                json_string_length(v));
    else if (json_is_integer(v))
        s = authc_arena_printf(j->ar, "%" JSON_INTEGER_FORMAT,
                               json_integer_value(v));
    else if (json_is_real(v))
        s = authc_arena_printf(j->ar, "%.17g", json_real_value(v));
    else
        return NULL;
    if (!s)
        j->err = AUTHC_ERR_NOMEM;
    return s;
}

/* Date member: ISO string (or epoch ms number) → ms; else AUTHC_NO_TIME. */
static int64_t jin_date(jin *j, const char *k)
{
    json_t *v = json_object_get(j->o, k);
    int64_t ms;
    if (json_is_string(v) &&
        authc__iso8601_parse(json_string_value(v), &ms) == AUTHC_OK)
        return ms;
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    return AUTHC_NO_TIME;
}

/* Integer member (number or numeric string) or dflt. */
static int64_t jin_int(jin *j, const char *k, int64_t dflt)
{
    json_t *v = json_object_get(j->o, k);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (!errno && end != s && !*end)
            return (int64_t)x;
    }
    return dflt;
}

static bool jin_bool(jin *j, const char *k)
{
    json_t *v = json_object_get(j->o, k);
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    if (json_is_string(v))
        return strcmp(json_string_value(v), "true") == 0;
    return false;
}

/* Logs an unreadable stored value (the key names a row, not a secret
 * unless it is a session/token key: those are never passed as `what`). */
static void bad_value(rd_call *call, const char *what)
{
    authc__adapter_log(call->self, "error", "%s: stored %s is not a JSON "
                       "object", call->ctx->label, what);
}

/* Parsers: NULL with *e set on failure; owned by ar. */
static authc_user *parse_user(rd_call *call, const char *s, const char *id,
                              authc_err *e)
{
    jin j;
    if (!jin_parse(&j, call->ar, s)) {
        bad_value(call, "user");
        *e = AUTHC_ERR_ADAPTER;
        return NULL;
    }
    authc_user *u = authc_arena_alloc(call->ar, sizeof *u);
    if (u) {
        u->id = jin_str(&j, "id");
        if (!u->id && id)
            u->id = authc_arena_strdup(call->ar, id);
        u->name = jin_str(&j, "name");
        u->email = jin_str(&j, "email");
        u->email_verified = jin_date(&j, "emailVerified");
        u->image = jin_str(&j, "image");
    }
    json_decref(j.o);
    if (!u || j.err || !u->id) {
        *e = AUTHC_ERR_NOMEM;
        return NULL;
    }
    return u;
}

static authc_account *parse_account(rd_call *call, const char *s,
                                    authc_err *e)
{
    jin j;
    if (!jin_parse(&j, call->ar, s)) {
        bad_value(call, "account");
        *e = AUTHC_ERR_ADAPTER;
        return NULL;
    }
    authc_account *a = authc_arena_alloc(call->ar, sizeof *a);
    if (a) {
        a->id = jin_str(&j, "id");
        a->user_id = jin_str(&j, "userId");
        a->type = jin_str(&j, "type");
        a->provider = jin_str(&j, "provider");
        a->provider_account_id = jin_str(&j, "providerAccountId");
        a->refresh_token = jin_str(&j, "refresh_token");
        a->access_token = jin_str(&j, "access_token");
        a->expires_at = jin_int(&j, "expires_at", AUTHC_NO_TIME);
        a->token_type = jin_str(&j, "token_type");
        a->scope = jin_str(&j, "scope");
        a->id_token = jin_str(&j, "id_token");
        a->session_state = jin_str(&j, "session_state");
    }
    json_decref(j.o);
    if (!a || j.err) {
        *e = AUTHC_ERR_NOMEM;
        return NULL;
    }
    return a;
}

static authc_session_row *parse_session(rd_call *call, const char *s,
                                        authc_err *e)
{
    jin j;
    if (!jin_parse(&j, call->ar, s)) {
        bad_value(call, "session");
        *e = AUTHC_ERR_ADAPTER;
        return NULL;
    }
    authc_session_row *r = authc_arena_alloc(call->ar, sizeof *r);
    if (r) {
        r->id = NULL;  /* upstash sessions have no id */
        r->session_token = jin_str(&j, "sessionToken");
        r->user_id = jin_str(&j, "userId");
        r->expires = jin_date(&j, "expires");
    }
    json_decref(j.o);
    if (!r || j.err) {
        *e = AUTHC_ERR_NOMEM;
        return NULL;
    }
    return r;
}

static authc_verification_token *parse_vt(rd_call *call, const char *s,
                                          authc_err *e)
{
    jin j;
    if (!jin_parse(&j, call->ar, s)) {
        bad_value(call, "verification token");
        *e = AUTHC_ERR_ADAPTER;
        return NULL;
    }
    authc_verification_token *v = authc_arena_alloc(call->ar, sizeof *v);
    if (v) {
        v->identifier = jin_str(&j, "identifier");
        v->token = jin_str(&j, "token");
        v->expires = jin_date(&j, "expires");
    }
    json_decref(j.o);
    if (!v || j.err) {
        *e = AUTHC_ERR_NOMEM;
        return NULL;
    }
    return v;
}

static bool parse_auth_into(rd_call *call, const char *s,
                            authc_authenticator *a, authc_err *e)
{
    jin j;
    if (!jin_parse(&j, call->ar, s)) {
        bad_value(call, "authenticator");
        *e = AUTHC_ERR_ADAPTER;
        return false;
    }
    a->credential_id = jin_str(&j, "credentialID");
    a->user_id = jin_str(&j, "userId");
    a->provider_account_id = jin_str(&j, "providerAccountId");
    a->credential_public_key = jin_str(&j, "credentialPublicKey");
    a->counter = jin_int(&j, "counter", 0);
    a->credential_device_type = jin_str(&j, "credentialDeviceType");
    a->credential_backed_up = jin_bool(&j, "credentialBackedUp");
    a->transports = jin_str(&j, "transports");
    json_decref(j.o);
    if (j.err) {
        *e = AUTHC_ERR_NOMEM;
        return false;
    }
    return true;
}

static authc_authenticator *parse_auth(rd_call *call, const char *s,
                                       authc_err *e)
{
    authc_authenticator *a = authc_arena_alloc(call->ar, sizeof *a);
    if (!a) {
        *e = AUTHC_ERR_NOMEM;
        return NULL;
    }
    return parse_auth_into(call, s, a, e) ? a : NULL;
}

/* An index value as upstash wrote it is the raw string; a client that
 * JSON-encoded it wrote "\"…\"": accept both. Owned by ar. */
static const char *index_value(rd_call *call, const char *v)
{
    size_t n = v ? strlen(v) : 0;
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        json_t *s = json_loads(v, JSON_DECODE_ANY, NULL);
        const char *out = NULL;
        if (json_is_string(s))
            out = authc_arena_strdup(call->ar, json_string_value(s));
        json_decref(s);
        if (out)
            return out;
    }
    return v;
}

static bool streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* ---- method bodies ------------------------------------------------------- */

/* GET user:{id} and parse; *out = NULL when absent. */
static authc_err load_user(rd_call *call, const char *id, authc_user **out)
{
    *out = NULL;
    const char *key = K_USER(call, id);
    if (!key)
        return AUTHC_OK;  /* an id too long to exist */
    char *v;
    if (!rd_get(call, key, true, "get user", &v))
        return AUTHC_ERR_ADAPTER;
    if (!v)
        return AUTHC_OK;
    authc_err e = AUTHC_OK;
    *out = parse_user(call, v, id, &e);
    return e;
}

static authc_err rd_create_user(authc_adapter *self, authc_arena *ar,
                                const authc_user *in, authc_user **out)
{
    if (out)
        *out = NULL;
    char id[37];
    authc_err e = authc__uuid(id);
    if (e)
        return e;
    authc_user u = *in;  /* in->id is ignored: a new UUID, like upstash */
    u.id = id;
    u.fields = 0;
    rd_call call;
    if ((e = rd_begin(self, ar, &call))) {
        rd_end(&call);
        return e;
    }
    rd_cmd cmds[2];
    int n = 0;
    cmd_init(&cmds[n], ar);
    cmd_add(&cmds[n], "SET");
    cmd_add(&cmds[n], K_USER(&call, id));
    cmd_add(&cmds[n], user_json(ar, &u));
    n++;
    if (u.email) {
        cmd_init(&cmds[n], ar);
        cmd_add(&cmds[n], "SET");
        cmd_add(&cmds[n], K_EMAIL(&call, u.email));
        cmd_add(&cmds[n], id);
        n++;
    }
    redisReply *x;
    int rc = rd_tx(&call, cmds, n, "create_user", &x);
    freeReplyObject(x);
    rd_end(&call);
    if (rc != 1)
        return AUTHC_ERR_ADAPTER;
    authc_user *res = authc__copy_user(ar, &u);
    if (!res)
        return AUTHC_ERR_NOMEM;
    if (out)
        *out = res;
    return AUTHC_OK;
}

static authc_err rd_get_user(authc_adapter *self, authc_arena *ar,
                             const char *id, authc_user **out)
{
    *out = NULL;
    if (!id)
        return AUTHC_OK;
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (!e)
        e = load_user(&call, id, out);
    rd_end(&call);
    return e;
}

static authc_err rd_get_user_by_email(authc_adapter *self, authc_arena *ar,
                                      const char *email, authc_user **out)
{
    *out = NULL;
    if (!email)
        return AUTHC_OK;
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (!e) {
        const char *key = K_EMAIL(&call, email);
        char *id = NULL;
        if (key && !rd_get(&call, key, true, "get user by email", &id))
            e = AUTHC_ERR_ADAPTER;
        if (!e && id) {
            authc_user *u;
            e = load_user(&call, index_value(&call, id), &u);
            /* A stale index left by upstash (it never deletes the old
             * email key) must not return a user with another email. */
            if (!e && u && streq(u->email, email))
                *out = u;
        }
    }
    rd_end(&call);
    return e;
}

/* GET the account JSON of (provider, paId); *out NULL when absent. */
static authc_err load_account(rd_call *call, const char *provider,
                              const char *pa_id, authc_account **out)
{
    *out = NULL;
    const char *key = K_ACCOUNT(call, provider, pa_id);
    if (!key)
        return AUTHC_OK;
    char *v;
    if (!rd_get(call, key, true, "get account", &v))
        return AUTHC_ERR_ADAPTER;
    if (!v)
        return AUTHC_OK;
    authc_err e = AUTHC_OK;
    *out = parse_account(call, v, &e);
    return e;
}

static authc_err rd_get_user_by_account(authc_adapter *self, authc_arena *ar,
                                        const char *provider,
                                        const char *provider_account_id,
                                        authc_user **out)
{
    *out = NULL;
    if (!provider || !provider_account_id)
        return AUTHC_OK;
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (!e) {
        authc_account *a;
        e = load_account(&call, provider, provider_account_id, &a);
        if (!e && a && a->user_id)
            e = load_user(&call, a->user_id, out);
    }
    rd_end(&call);
    return e;
}

static authc_err rd_update_user(authc_adapter *self, authc_arena *ar,
                                const authc_user *in, authc_user **out)
{
    if (out)
        *out = NULL;
    if (!in->id)
        return AUTHC_ERR_NOT_FOUND;
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (e) {
        rd_end(&call);
        return e;
    }
    const char *ukey = K_USER(&call, in->id);
    if (!ukey) {
        rd_end(&call);
        return AUTHC_ERR_NOT_FOUND;
    }
    authc_user *res = NULL;
    e = AUTHC_ERR_ADAPTER;
    for (int attempt = 0; attempt < RD_TX_TRIES; attempt++) {
        authc_user *cur;
        if (!rd_watch(&call, &ukey, 1))
            break;
        authc_err le = load_user(&call, in->id, &cur);
        if (le || !cur) {
            rd_unwatch(&call);
            e = le ? le : AUTHC_ERR_NOT_FOUND;
            break;
        }
        const char *old_email = cur->email;
        authc_user merged = *cur;
        authc__user_merge(&merged, in);
        merged.id = cur->id;
        rd_cmd cmds[3];
        int n = 0;
        cmd_init(&cmds[n], ar);
        cmd_add(&cmds[n], "SET");
        cmd_add(&cmds[n], ukey);
        cmd_add(&cmds[n], user_json(ar, &merged));
        n++;
        if (old_email && !streq(old_email, merged.email)) {
            /* Delete the old index only if it still names this user. */
            const char *okey = K_EMAIL(&call, old_email);
            char *owner = NULL;
            if (okey && !rd_get(&call, okey, false, "update_user", &owner))
                break;
            if (owner && streq(index_value(&call, owner), cur->id)) {
                cmd_init(&cmds[n], ar);
                cmd_add(&cmds[n], "DEL");
                cmd_add(&cmds[n], okey);
                n++;
            }
        }
        if (merged.email) {
            cmd_init(&cmds[n], ar);
            cmd_add(&cmds[n], "SET");
            cmd_add(&cmds[n], K_EMAIL(&call, merged.email));
            cmd_add(&cmds[n], cur->id);
            n++;
        }
        redisReply *x;
        int rc = rd_tx(&call, cmds, n, "update_user", &x);
        freeReplyObject(x);
        if (rc < 0)
            break;
        if (rc == 1) {
            res = authc__copy_user(ar, &merged);
            e = res ? AUTHC_OK : AUTHC_ERR_NOMEM;
            break;
        }
        /* rc == 0: someone changed the user meanwhile; read again. */
    }
    rd_end(&call);
    if (!e && out)
        *out = res;
    return e;
}

/* Adds to cmd each key of `keys` whose stored JSON still has
 * "userId" == uid (rows re-linked to another user are left alone). */
static bool add_owned(rd_call *call, rd_cmd *del, char **keys, size_t n,
                      const char *uid)
{
    char **vals;
    if (!rd_mget(call, keys, n, false, &vals))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!vals || !vals[i])
            continue;
        jin j;
        if (!jin_parse(&j, call->ar, vals[i]))
            continue;
        const char *owner = jin_str(&j, "userId");
        json_decref(j.o);
        if (streq(owner, uid))
            cmd_add(del, keys[i]);
    }
    return true;
}

/* Keeps a pointer target only when it is one of our own keys of that kind
 * (never DEL an arbitrary key named by a corrupted pointer). */
static char *ptr_target(rd_call *call, const char *v, const char *kind)
{
    if (!v)
        return NULL;
    v = index_value(call, v);
    const char *want = authc_arena_printf(call->ar, "%s%s",
                                          call->ctx->prefix, kind);
    if (!want || !authc__starts_with(v, want))
        return NULL;
    return (char *)v;
}

static authc_err rd_delete_user(authc_adapter *self, authc_arena *ar,
                                const char *id)
{
    if (!id)
        return AUTHC_OK;
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (e) {
        rd_end(&call);
        return e;
    }
    const char *keys[8] = {
        K_USER(&call, id),        K_ACCOUNTS(&call, id),
        K_SESSIONS(&call, id),    K_AUTHS(&call, id),
        K_ACCOUNT_PTR(&call, id), K_SESSION_PTR(&call, id),
    };
    for (int i = 0; i < 6; i++)
        if (!keys[i]) {
            rd_end(&call);
            return AUTHC_OK;  /* an id too long to exist */
        }
    e = AUTHC_ERR_ADAPTER;
    for (int attempt = 0; attempt < RD_TX_TRIES; attempt++) {
        if (!rd_watch(&call, keys, 6))
            break;
        authc_user *u;
        char **acc, **ses, **aut, *aptr, *sptr, *owner = NULL;
        size_t nacc, nses, naut;
        if (load_user(&call, id, &u) ||
            !rd_members(&call, keys[1], false, false, &acc, &nacc) ||
            !rd_members(&call, keys[2], true, false, &ses, &nses) ||
            !rd_members(&call, keys[3], false, false, &aut, &naut) ||
            !rd_get(&call, keys[4], false, "delete_user", &aptr) ||
            !rd_get(&call, keys[5], false, "delete_user", &sptr))
            break;
        const char *ekey = u && u->email ? K_EMAIL(&call, u->email) : NULL;
        if (ekey && !rd_get(&call, ekey, false, "delete_user", &owner))
            break;
        /* Candidate row keys: from our sets plus upstash's pointers. */
        size_t cap = nacc + nses + naut + 2;
        char **cand = authc_arena_alloc(ar, sizeof *cand * cap);
        if (!cand) {
            rd_unwatch(&call);
            e = AUTHC_ERR_NOMEM;
            break;
        }
        size_t nc = 0;
        bool ok = true;
        for (size_t i = 0; i < nacc; i++)
            if (!(cand[nc++] = (char *)key3(&call, "user:account:", acc[i],
                                            NULL)))
                ok = false;
        for (size_t i = 0; i < nses; i++)
            if (!(cand[nc++] = (char *)K_SESSION(&call, ses[i])))
                ok = false;
        for (size_t i = 0; i < naut; i++)
            if (!(cand[nc++] = (char *)K_AUTH(&call, aut[i])))
                ok = false;
        if ((aptr = ptr_target(&call, aptr, "user:account:")))
            cand[nc++] = aptr;
        if ((sptr = ptr_target(&call, sptr, "user:session:")))
            cand[nc++] = sptr;
        if (!ok) {
            rd_unwatch(&call);
            e = AUTHC_ERR_NOMEM;
            break;
        }
        rd_cmd del;
        cmd_init(&del, ar);
        cmd_add(&del, "DEL");
        for (int i = 0; i < 6; i++)
            cmd_add(&del, keys[i]);
        if (ekey && owner && streq(index_value(&call, owner), id))
            cmd_add(&del, ekey);
        if (!add_owned(&call, &del, cand, nc, id))
            break;
        redisReply *x;
        int rc = rd_tx(&call, &del, 1, "delete_user", &x);
        freeReplyObject(x);
        if (rc < 0)
            break;
        if (rc == 1) {
            e = AUTHC_OK;
            break;
        }
    }
    rd_end(&call);
    return e;
}

static authc_err rd_link_account(authc_adapter *self, authc_arena *ar,
                                 const authc_account *in, authc_account **out)
{
    if (out)
        *out = NULL;
    if (!in->provider || !in->provider_account_id || !in->user_id) {
        authc__adapter_log(self, "error", "%s: link_account: provider, "
                           "providerAccountId and userId are required",
                           ((rd_ctx *)self->ctx)->label);
        return AUTHC_ERR_ADAPTER;
    }
    authc_account a = *in;
    a.id = authc_arena_printf(ar, "%s:%s", in->provider,
                              in->provider_account_id);
    if (!a.id)
        return AUTHC_ERR_NOMEM;
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (e) {
        rd_end(&call);
        return e;
    }
    const char *akey = K_ACCOUNT(&call, in->provider, in->provider_account_id);
    rd_cmd cmds[3];
    cmd_init(&cmds[0], ar);
    cmd_add(&cmds[0], "SET");
    cmd_add(&cmds[0], akey);
    cmd_add(&cmds[0], account_json(ar, &a));
    cmd_init(&cmds[1], ar);
    cmd_add(&cmds[1], "SET");
    cmd_add(&cmds[1], K_ACCOUNT_PTR(&call, a.user_id));
    cmd_add(&cmds[1], akey);
    cmd_init(&cmds[2], ar);
    cmd_add(&cmds[2], "SADD");
    cmd_add(&cmds[2], K_ACCOUNTS(&call, a.user_id));
    cmd_add(&cmds[2], a.id);
    redisReply *x;
    int rc = rd_tx(&call, cmds, 3, "link_account", &x);
    freeReplyObject(x);
    rd_end(&call);
    if (rc != 1)
        return AUTHC_ERR_ADAPTER;
    if (out && !(*out = authc__copy_account(ar, &a)))
        return AUTHC_ERR_NOMEM;
    return AUTHC_OK;
}

static authc_err rd_unlink_account(authc_adapter *self, authc_arena *ar,
                                   const char *provider,
                                   const char *provider_account_id)
{
    if (!provider || !provider_account_id)
        return AUTHC_OK;
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (e) {
        rd_end(&call);
        return e;
    }
    const char *akey = K_ACCOUNT(&call, provider, provider_account_id);
    const char *id = authc_arena_printf(ar, "%s:%s", provider,
                                        provider_account_id);
    if (!akey || !id) {
        rd_end(&call);
        return AUTHC_OK;
    }
    e = AUTHC_ERR_ADAPTER;
    for (int attempt = 0; attempt < RD_TX_TRIES; attempt++) {
        if (!rd_watch(&call, &akey, 1))
            break;
        authc_account *a;
        if (load_account(&call, provider, provider_account_id, &a))
            break;
        if (!a || !a->user_id) {
            rd_unwatch(&call);
            /* Nothing stored (or no owner to clean up after). */
            if (a) {
                rd_cmd d;
                cmd_init(&d, ar);
                cmd_add(&d, "DEL");
                cmd_add(&d, akey);
                redisReply *r = rd_run(&call, &d, false, "unlink_account");
                if (!r)
                    break;
                freeReplyObject(r);
            }
            e = AUTHC_OK;
            break;
        }
        const char *pkey = K_ACCOUNT_PTR(&call, a->user_id);
        char *ptr = NULL;
        if (!pkey || !rd_get(&call, pkey, false, "unlink_account", &ptr))
            break;
        rd_cmd cmds[3];
        int n = 0;
        cmd_init(&cmds[n], ar);
        cmd_add(&cmds[n], "DEL");
        cmd_add(&cmds[n], akey);
        n++;
        cmd_init(&cmds[n], ar);
        cmd_add(&cmds[n], "SREM");
        cmd_add(&cmds[n], K_ACCOUNTS(&call, a->user_id));
        cmd_add(&cmds[n], id);
        n++;
        if (ptr && streq(index_value(&call, ptr), akey)) {
            cmd_init(&cmds[n], ar);
            cmd_add(&cmds[n], "DEL");
            cmd_add(&cmds[n], pkey);
            n++;
        }
        redisReply *x;
        int rc = rd_tx(&call, cmds, n, "unlink_account", &x);
        freeReplyObject(x);
        if (rc < 0)
            break;
        if (rc == 1) {
            e = AUTHC_OK;
            break;
        }
    }
    rd_end(&call);
    return e;
}

/* The commands that store session s (JSON with TTL, pointer, our zset). */
static void session_cmds(rd_call *call, const authc_session_row *s,
                         rd_cmd cmds[4])
{
    authc_arena *ar = call->ar;
    const char *skey = K_SESSION(call, s->session_token);
    cmd_init(&cmds[0], ar);
    cmd_add(&cmds[0], "SET");
    cmd_add(&cmds[0], skey);
    cmd_add(&cmds[0], session_json(ar, s));
    cmd_add(&cmds[0], "PXAT");
    cmd_addi(&cmds[0], ttl_at(call->ctx, s->expires));
    cmd_init(&cmds[1], ar);
    cmd_add(&cmds[1], "SET");
    cmd_add(&cmds[1], K_SESSION_PTR(call, s->user_id));
    cmd_add(&cmds[1], skey);
    cmd_init(&cmds[2], ar);
    cmd_add(&cmds[2], "ZADD");
    cmd_add(&cmds[2], K_SESSIONS(call, s->user_id));
    cmd_addi(&cmds[2], s->expires);
    cmd_add(&cmds[2], s->session_token);
    /* Forget tokens whose keys Redis has already expired. */
    cmd_init(&cmds[3], ar);
    cmd_add(&cmds[3], "ZREMRANGEBYSCORE");
    cmd_add(&cmds[3], K_SESSIONS(call, s->user_id));
    cmd_add(&cmds[3], "-inf");
    cmd_add(&cmds[3], authc_arena_printf(ar, "(%" PRId64,
                                         authc__now_ms() - call->ctx->grace_ms));
}

static authc_err rd_create_session(authc_adapter *self, authc_arena *ar,
                                   const authc_session_row *in,
                                   authc_session_row **out)
{
    if (out)
        *out = NULL;
    if (!in->session_token || !in->user_id || in->expires == AUTHC_NO_TIME) {
        authc__adapter_log(self, "error", "%s: create_session: token, userId "
                           "and expires are required",
                           ((rd_ctx *)self->ctx)->label);
        return AUTHC_ERR_ADAPTER;
    }
    authc_session_row s = *in;
    s.id = NULL;
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (e) {
        rd_end(&call);
        return e;
    }
    rd_cmd cmds[4];
    session_cmds(&call, &s, cmds);
    redisReply *x;
    int rc = rd_tx(&call, cmds, 4, "create_session", &x);
    freeReplyObject(x);
    rd_end(&call);
    if (rc != 1)
        return AUTHC_ERR_ADAPTER;
    if (out && !(*out = authc__copy_session(ar, &s)))
        return AUTHC_ERR_NOMEM;
    return AUTHC_OK;
}

/* GET and parse a session; *out NULL when absent. */
static authc_err load_session(rd_call *call, const char *token, bool retry,
                              authc_session_row **out)
{
    *out = NULL;
    const char *key = K_SESSION(call, token);
    if (!key)
        return AUTHC_OK;
    char *v;
    if (!rd_get(call, key, retry, "get session", &v))
        return AUTHC_ERR_ADAPTER;
    if (!v)
        return AUTHC_OK;
    authc_err e = AUTHC_OK;
    *out = parse_session(call, v, &e);
    return e;
}

static authc_err rd_get_session_and_user(authc_adapter *self, authc_arena *ar,
                                         const char *session_token,
                                         authc_session_row **session,
                                         authc_user **user)
{
    *session = NULL;
    *user = NULL;
    if (!session_token)
        return AUTHC_OK;
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (!e) {
        authc_session_row *s;
        authc_user *u = NULL;
        e = load_session(&call, session_token, true, &s);
        if (!e && s && s->user_id)
            e = load_user(&call, s->user_id, &u);
        if (!e && s && u) {
            *session = s;
            *user = u;
        }
    }
    rd_end(&call);
    return e;
}

static authc_err rd_update_session(authc_adapter *self, authc_arena *ar,
                                   const authc_session_row *in,
                                   authc_session_row **out)
{
    if (out)
        *out = NULL;
    if (!in->session_token)
        return AUTHC_OK;
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (e) {
        rd_end(&call);
        return e;
    }
    const char *skey = K_SESSION(&call, in->session_token);
    if (!skey) {
        rd_end(&call);
        return AUTHC_OK;
    }
    authc_session_row *res = NULL;
    e = AUTHC_ERR_ADAPTER;
    for (int attempt = 0; attempt < RD_TX_TRIES; attempt++) {
        if (!rd_watch(&call, &skey, 1))
            break;
        authc_session_row *cur;
        authc_err le = load_session(&call, in->session_token, false, &cur);
        if (le || !cur || !cur->user_id) {
            rd_unwatch(&call);
            e = le;  /* missing: OK with *out = NULL */
            break;
        }
        authc_session_row m = *cur;
        m.session_token = in->session_token;
        if (in->expires != AUTHC_NO_TIME)
            m.expires = in->expires;
        if (in->user_id)
            m.user_id = in->user_id;
        rd_cmd cmds[4];
        session_cmds(&call, &m, cmds);
        int n = 4;
        if (!streq(m.user_id, cur->user_id)) {
            /* Moved to another user: drop it from the old user's set. */
            cmd_init(&cmds[3], ar);
            cmd_add(&cmds[3], "ZREM");
            cmd_add(&cmds[3], K_SESSIONS(&call, cur->user_id));
            cmd_add(&cmds[3], in->session_token);
        }
        redisReply *x;
        int rc = rd_tx(&call, cmds, n, "update_session", &x);
        freeReplyObject(x);
        if (rc < 0)
            break;
        if (rc == 1) {
            res = authc__copy_session(ar, &m);
            e = res ? AUTHC_OK : AUTHC_ERR_NOMEM;
            break;
        }
    }
    rd_end(&call);
    if (!e && out)
        *out = res;
    return e;
}

static authc_err rd_delete_session(authc_adapter *self, authc_arena *ar,
                                   const char *session_token,
                                   authc_session_row **out)
{
    if (out)
        *out = NULL;
    if (!session_token)
        return AUTHC_OK;
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (e) {
        rd_end(&call);
        return e;
    }
    const char *skey = K_SESSION(&call, session_token);
    rd_cmd cmd;
    cmd_init(&cmd, ar);
    cmd_add(&cmd, "GETDEL");
    cmd_add(&cmd, skey);
    redisReply *r = skey ? rd_run(&call, &cmd, false, "delete_session")
                         : NULL;
    if (skey && !r) {
        rd_end(&call);
        return AUTHC_ERR_ADAPTER;
    }
    authc_session_row *s = NULL;
    if (r && r->type == REDIS_REPLY_STRING && r->len <= RD_MAX_VALUE) {
        char *v = authc_arena_strndup(ar, r->str, r->len);
        if (v)
            s = parse_session(&call, v, &e);
        e = AUTHC_OK;  /* deleted; an unreadable value is no reason to fail */
    }
    freeReplyObject(r);
    if (s && s->user_id) {
        /* Index cleanup; the session itself is gone already. */
        rd_cmd z;
        cmd_init(&z, ar);
        cmd_add(&z, "ZREM");
        cmd_add(&z, K_SESSIONS(&call, s->user_id));
        cmd_add(&z, session_token);
        freeReplyObject(rd_run(&call, &z, true, "delete_session index"));
    }
    rd_end(&call);
    if (out)
        *out = s;
    return e;
}

static authc_err rd_create_vt(authc_adapter *self, authc_arena *ar,
                              const authc_verification_token *in)
{
    if (!in->identifier || !in->token || in->expires == AUTHC_NO_TIME) {
        authc__adapter_log(self, "error", "%s: create_verification_token: "
                           "incomplete token", ((rd_ctx *)self->ctx)->label);
        return AUTHC_ERR_ADAPTER;
    }
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (!e) {
        rd_cmd cmd;
        cmd_init(&cmd, ar);
        cmd_add(&cmd, "SET");
        cmd_add(&cmd, K_VT(&call, in->identifier, in->token));
        cmd_add(&cmd, vt_json(ar, in));
        cmd_add(&cmd, "PXAT");
        cmd_addi(&cmd, ttl_at(call.ctx, in->expires));
        redisReply *r = rd_run(&call, &cmd, false,
                               "create_verification_token");
        if (!r)
            e = AUTHC_ERR_ADAPTER;
        freeReplyObject(r);
    }
    rd_end(&call);
    return e;
}

static authc_err rd_use_vt(authc_adapter *self, authc_arena *ar,
                           const char *identifier, const char *token,
                           authc_verification_token **out)
{
    *out = NULL;
    if (!identifier || !token)
        return AUTHC_OK;
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (!e) {
        const char *key = K_VT(&call, identifier, token);
        if (key) {
            rd_cmd cmd;
            cmd_init(&cmd, ar);
            cmd_add(&cmd, "GETDEL");  /* atomic: one use only */
            cmd_add(&cmd, key);
            redisReply *r = rd_run(&call, &cmd, false,
                                   "use_verification_token");
            if (!r) {
                e = AUTHC_ERR_ADAPTER;
            } else if (r->type == REDIS_REPLY_STRING) {
                char *v = r->len <= RD_MAX_VALUE
                              ? authc_arena_strndup(ar, r->str, r->len)
                              : NULL;
                *out = v ? parse_vt(&call, v, &e) : NULL;
                if (!v)
                    e = AUTHC_ERR_ADAPTER;
            }
            freeReplyObject(r);
        }
    }
    rd_end(&call);
    return e;
}

static authc_err rd_get_account(authc_adapter *self, authc_arena *ar,
                                const char *provider_account_id,
                                const char *provider, authc_account **out)
{
    *out = NULL;
    if (!provider || !provider_account_id)
        return AUTHC_OK;
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (!e)
        e = load_account(&call, provider, provider_account_id, out);
    rd_end(&call);
    return e;
}

static authc_err load_auth(rd_call *call, const char *cid, bool retry,
                           authc_authenticator **out)
{
    *out = NULL;
    const char *key = K_AUTH(call, cid);
    if (!key)
        return AUTHC_OK;
    char *v;
    if (!rd_get(call, key, retry, "get authenticator", &v))
        return AUTHC_ERR_ADAPTER;
    if (!v)
        return AUTHC_OK;
    authc_err e = AUTHC_OK;
    *out = parse_auth(call, v, &e);
    return e;
}

static authc_err rd_get_authenticator(authc_adapter *self, authc_arena *ar,
                                      const char *credential_id,
                                      authc_authenticator **out)
{
    *out = NULL;
    if (!credential_id)
        return AUTHC_OK;
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (!e)
        e = load_auth(&call, credential_id, true, out);
    rd_end(&call);
    return e;
}

static authc_err rd_create_authenticator(authc_adapter *self, authc_arena *ar,
                                         const authc_authenticator *in,
                                         authc_authenticator **out)
{
    if (out)
        *out = NULL;
    if (!in->credential_id || !in->user_id || !in->provider_account_id ||
        !in->credential_public_key || !in->credential_device_type) {
        authc__adapter_log(self, "error", "%s: create_authenticator: "
                           "missing fields", ((rd_ctx *)self->ctx)->label);
        return AUTHC_ERR_ADAPTER;
    }
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (e) {
        rd_end(&call);
        return e;
    }
    rd_cmd cmds[2];
    cmd_init(&cmds[0], ar);
    cmd_add(&cmds[0], "SET");
    cmd_add(&cmds[0], K_AUTH(&call, in->credential_id));
    cmd_add(&cmds[0], auth_json(ar, in));
    cmd_add(&cmds[0], "NX");  /* credentialID is unique */
    cmd_init(&cmds[1], ar);
    cmd_add(&cmds[1], "SADD");
    cmd_add(&cmds[1], K_AUTHS(&call, in->user_id));
    cmd_add(&cmds[1], in->credential_id);
    redisReply *x;
    int rc = rd_tx(&call, cmds, 2, "create_authenticator", &x);
    bool created = rc == 1 && x->element[0]->type == REDIS_REPLY_STATUS;
    freeReplyObject(x);
    rd_end(&call);
    if (rc != 1)
        return AUTHC_ERR_ADAPTER;
    if (!created) {
        authc__adapter_log(self, "error", "%s: create_authenticator: the "
                           "credential is already registered",
                           ((rd_ctx *)self->ctx)->label);
        return AUTHC_ERR_ADAPTER;
    }
    if (out && !(*out = authc__copy_authenticator(ar, in)))
        return AUTHC_ERR_NOMEM;
    return AUTHC_OK;
}

static authc_err rd_list_authenticators(authc_adapter *self, authc_arena *ar,
                                        const char *user_id,
                                        authc_authenticator **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!user_id)
        return AUTHC_OK;
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (e) {
        rd_end(&call);
        return e;
    }
    const char *skey = K_AUTHS(&call, user_id);
    char **ids = NULL, **keys = NULL, **vals = NULL;
    size_t nids = 0, count = 0;
    authc_authenticator *arr = NULL;
    if (skey && !rd_members(&call, skey, false, true, &ids, &nids))
        e = AUTHC_ERR_ADAPTER;
    if (!e && nids) {
        keys = authc_arena_alloc(ar, sizeof *keys * nids);
        arr = authc_arena_alloc(ar, sizeof *arr * nids);
        if (!keys || !arr)
            e = AUTHC_ERR_NOMEM;
        for (size_t i = 0; !e && i < nids; i++)
            if (!(keys[i] = (char *)K_AUTH(&call, ids[i])))
                e = AUTHC_ERR_NOMEM;
        if (!e && !rd_mget(&call, keys, nids, true, &vals))
            e = AUTHC_ERR_ADAPTER;
        /* Members whose row is gone or now belongs to someone else (a
         * credential re-registered) are skipped. */
        for (size_t i = 0; !e && i < nids; i++) {
            authc_err pe = AUTHC_OK;
            if (vals[i] && parse_auth_into(&call, vals[i], &arr[count], &pe) &&
                streq(arr[count].user_id, user_id))
                count++;
            else if (pe == AUTHC_ERR_NOMEM)
                e = pe;
        }
    }
    rd_end(&call);
    if (!e && count) {
        *out = arr;
        *n = count;
    }
    return e;
}

static authc_err rd_update_authenticator_counter(authc_adapter *self,
                                                 authc_arena *ar,
                                                 const char *credential_id,
                                                 int64_t counter,
                                                 authc_authenticator **out)
{
    if (out)
        *out = NULL;
    if (!credential_id)
        return AUTHC_ERR_NOT_FOUND;
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (e) {
        rd_end(&call);
        return e;
    }
    const char *key = K_AUTH(&call, credential_id);
    if (!key) {
        rd_end(&call);
        return AUTHC_ERR_NOT_FOUND;
    }
    authc_authenticator *res = NULL;
    e = AUTHC_ERR_ADAPTER;
    for (int attempt = 0; attempt < RD_TX_TRIES; attempt++) {
        if (!rd_watch(&call, &key, 1))
            break;
        authc_authenticator *a;
        authc_err le = load_auth(&call, credential_id, false, &a);
        if (le || !a) {
            rd_unwatch(&call);
            e = le ? le : AUTHC_ERR_NOT_FOUND;
            break;
        }
        a->counter = counter;
        rd_cmd cmd;
        cmd_init(&cmd, ar);
        cmd_add(&cmd, "SET");
        cmd_add(&cmd, key);
        cmd_add(&cmd, auth_json(ar, a));
        redisReply *x;
        int rc = rd_tx(&call, &cmd, 1, "update_authenticator_counter", &x);
        freeReplyObject(x);
        if (rc < 0)
            break;
        if (rc == 1) {
            res = a;
            e = AUTHC_OK;
            break;
        }
    }
    rd_end(&call);
    if (!e && out)
        *out = res;
    return e;
}

/* ---- migrate / open / destroy ------------------------------------------- */

/* Parses "x.y.z" into a comparable number (x*10000 + y*100 + z). */
static long version_num(const char *v)
{
    long x = 0, y = 0, z = 0;
    if (sscanf(v, "%ld.%ld.%ld", &x, &y, &z) < 2)
        return -1;
    return x * 10000 + y * 100 + z;
}

/* Checks the server version (GETDEL and SET PXAT need 6.2). Returns false
 * with why set when too old; a server hiding INFO passes. */
static bool version_ok(redisContext *c, char *why, size_t wlen)
{
    redisReply *r = redisCommand(c, "INFO server");
    if (!r)
        return true;  /* the caller's next command reports the failure */
    bool ok = true;
    if (r->type == REDIS_REPLY_STRING) {
        const char *p = strstr(r->str, "redis_version:");
        if (p) {
            long v = version_num(p + 14);
            if (v >= 0 && v < 60200) {
                char ver[32];
                sscanf(p + 14, "%31[0-9.]", ver);
                snprintf(why, wlen, "Redis %s is too old: GETDEL and SET "
                         "PXAT need 6.2 or later", ver);
                ok = false;
            }
        }
    }
    freeReplyObject(r);
    return ok;
}

/* No schema in Redis: migrate checks that the server is reachable and new
 * enough, so a misconfiguration shows at startup. */
static authc_err rd_migrate(authc_adapter *self)
{
    authc_arena *ar = authc_arena_new();
    if (!ar)
        return AUTHC_ERR_NOMEM;
    rd_call call;
    authc_err e = rd_begin(self, ar, &call);
    if (!e) {
        char why[200];
        if (!version_ok(call.pc->c, why, sizeof why)) {
            authc__adapter_log(self, "error", "%s: %s", call.ctx->label, why);
            e = AUTHC_ERR_ADAPTER;
        } else {
            rd_cmd ping;
            cmd_init(&ping, ar);
            cmd_add(&ping, "PING");
            redisReply *r = rd_run(&call, &ping, true, "PING");
            if (!r)
                e = AUTHC_ERR_ADAPTER;
            freeReplyObject(r);
        }
    }
    rd_end(&call);
    authc_arena_free(ar);
    return e;
}

static void rd_destroy(authc_adapter *self)
{
    if (!self)
        return;
    rd_ctx *ctx = self->ctx;
    if (ctx) {
        for (int i = 0; i < RD_POOL_MAX; i++)
            conn_drop(&ctx->conns[i]);
        if (ctx->pass) {
            authc__wipe(ctx->pass, strlen(ctx->pass));
            free(ctx->pass);
        }
        free(ctx->user);
        free(ctx->prefix);
        pthread_cond_destroy(&ctx->cv);
        pthread_mutex_destroy(&ctx->mu);
        free(ctx);
    }
    free(self);
}

/* Bounded decimal in [lo, hi]. */
static bool parse_long(const char *s, size_t n, long lo, long hi, long *out)
{
    if (n == 0 || n > 9)
        return false;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Percent-decoded heap copy of s[0..n) (caller frees), NULL on bad input. */
static char *pct_dup(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi, lo;
            if (i + 2 >= n) {
                free(out);
                return NULL;
            }
            char h = s[i + 1], l = s[i + 2];
            hi = (h >= '0' && h <= '9') ? h - '0'
                 : (h | 32) >= 'a' && (h | 32) <= 'f' ? (h | 32) - 'a' + 10
                                                      : -1;
            lo = (l >= '0' && l <= '9') ? l - '0'
                 : (l | 32) >= 'a' && (l | 32) <= 'f' ? (l | 32) - 'a' + 10
                                                      : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* Fills ctx from a redis:// URL. The message in err never includes the
 * password. */
static bool parse_url(rd_ctx *ctx, const char *url, char *err, size_t errlen)
{
    size_t len = strlen(url);
    if (len > RD_MAX_URL) {
        authc__set_err(err, errlen, "redis: URL longer than %d bytes",
                       RD_MAX_URL);
        return false;
    }
    if (strncasecmp(url, "rediss://", 9) == 0) {
        authc__set_err(err, errlen, "redis: rediss:// (TLS) is not supported "
                       "by this build; use redis:// (e.g. through a local "
                       "TLS tunnel)");
        return false;
    }
    if (strncasecmp(url, "redis://", 8) != 0) {
        authc__set_err(err, errlen, "redis: URL must start with redis://");
        return false;
    }
    const char *p = url + 8;
    size_t alen = strcspn(p, "/?#");
    const char *auth_end = p + alen;
    /* userinfo ends at the last '@' of the authority. */
    const char *at = NULL;
    for (const char *q = p; q < auth_end; q++)
        if (*q == '@')
            at = q;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            if (colon > p && !(ctx->user = pct_dup(p, (size_t)(colon - p))))
                goto bad_auth;
            if (!(ctx->pass = pct_dup(colon + 1, (size_t)(at - colon - 1))))
                goto bad_auth;
            if (!ctx->pass[0]) {
                free(ctx->pass);
                ctx->pass = NULL;
            }
        } else if (at > p) {
            /* redis://secret@host: a lone userinfo is the password. */
            if (!(ctx->pass = pct_dup(p, (size_t)(at - p))))
                goto bad_auth;
        }
        p = at + 1;
    }
    const char *hs = p, *he, *port = NULL;
    if (*p == '[') {
        he = memchr(p, ']', (size_t)(auth_end - p));
        if (!he) {
            authc__set_err(err, errlen, "redis: bad IPv6 host in URL");
            return false;
        }
        hs = p + 1;
        if (he + 1 < auth_end && he[1] == ':')
            port = he + 2;
    } else {
        he = memchr(p, ':', (size_t)(auth_end - p));
        if (he)
            port = he + 1;
        else
            he = auth_end;
    }
    size_t hlen = (size_t)(he - hs);
    if (hlen == 0 || hlen >= sizeof ctx->host) {
        authc__set_err(err, errlen, "redis: URL has no usable host");
        return false;
    }
    memcpy(ctx->host, hs, hlen);
    ctx->host[hlen] = '\0';
    ctx->port = 6379;
    if (port && port < auth_end) {
        long v;
        if (!parse_long(port, (size_t)(auth_end - port), 1, 65535, &v)) {
            authc__set_err(err, errlen, "redis: bad port in URL");
            return false;
        }
        ctx->port = (int)v;
    }
    p = auth_end;
    if (*p == '/') {
        p++;
        size_t dlen = strcspn(p, "?#");
        long v = 0;
        if (dlen && !parse_long(p, dlen, 0, 100000, &v)) {
            authc__set_err(err, errlen, "redis: the URL path must be a "
                           "database number");
            return false;
        }
        ctx->db = (int)v;
        p += dlen;
    }
    if (*p == '?') {
        p++;
        while (*p && *p != '#') {
            size_t plen = strcspn(p, "&#");
            const char *eq = memchr(p, '=', plen);
            size_t klen = eq ? (size_t)(eq - p) : plen;
            const char *v = eq ? eq + 1 : p + plen;
            size_t vlen = (size_t)(p + plen - v);
            long x;
#define KEY_IS(k) (klen == sizeof k - 1 && strncmp(p, k, klen) == 0)
            if (KEY_IS("prefix")) {
                free(ctx->prefix);
                if (!(ctx->prefix = pct_dup(v, vlen)) ||
                    strlen(ctx->prefix) > 256) {
                    authc__set_err(err, errlen, "redis: bad prefix");
                    return false;
                }
            } else if (KEY_IS("pool_size")) {
                if (!parse_long(v, vlen, 1, RD_POOL_MAX, &x)) {
                    authc__set_err(err, errlen, "redis: pool_size must be "
                                   "1..%d", RD_POOL_MAX);
                    return false;
                }
                ctx->pool_size = (int)x;
            } else if (KEY_IS("timeout") || KEY_IS("connect_timeout")) {
                if (!parse_long(v, vlen, 10, 600000, &x)) {
                    authc__set_err(err, errlen, "redis: %.*s must be "
                                   "10..600000 (ms)", (int)klen, p);
                    return false;
                }
                if (KEY_IS("timeout"))
                    ctx->timeout_ms = (int)x;
                else
                    ctx->connect_timeout_ms = (int)x;
            } else if (KEY_IS("ttl_grace")) {
                if (!parse_long(v, vlen, 0, 31536000, &x)) {
                    authc__set_err(err, errlen, "redis: ttl_grace must be "
                                   "0..31536000 (s)");
                    return false;
                }
                ctx->grace_ms = (int64_t)x * 1000;
            } else if (plen) {
                authc__set_err(err, errlen, "redis: unknown URL parameter "
                               "\"%.*s\" (known: prefix, pool_size, timeout, "
                               "connect_timeout, ttl_grace)",
                               (int)(klen > 40 ? 40 : klen), p);
                return false;
            }
#undef KEY_IS
            p += plen;
            if (*p == '&')
                p++;
        }
    }
    return true;
bad_auth:
    authc__set_err(err, errlen, "redis: bad user/password encoding in URL");
    return false;
}

static const authc_adapter_ops REDIS_OPS = {
    .name = "redis",
    .destroy = rd_destroy,
    .create_user = rd_create_user,
    .get_user = rd_get_user,
    .get_user_by_email = rd_get_user_by_email,
    .get_user_by_account = rd_get_user_by_account,
    .update_user = rd_update_user,
    .delete_user = rd_delete_user,
    .link_account = rd_link_account,
    .unlink_account = rd_unlink_account,
    .create_session = rd_create_session,
    .get_session_and_user = rd_get_session_and_user,
    .update_session = rd_update_session,
    .delete_session = rd_delete_session,
    .create_verification_token = rd_create_vt,
    .use_verification_token = rd_use_vt,
    .get_account = rd_get_account,
    .get_authenticator = rd_get_authenticator,
    .create_authenticator = rd_create_authenticator,
    .list_authenticators_by_user_id = rd_list_authenticators,
    .update_authenticator_counter = rd_update_authenticator_counter,
    .migrate = rd_migrate,
};

/* Returns a heap adapter (destroy() frees it) or NULL with err set. */
authc_adapter *authc__adapter_redis_open(const char *url, char *err,
                                         size_t errlen)
{
    if (!url) {
        authc__set_err(err, errlen, "redis: no URL");
        return NULL;
    }
    authc_adapter *ad = calloc(1, sizeof *ad);
    rd_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ad || !ctx) {
        free(ad);
        free(ctx);
        authc__set_err(err, errlen, "redis: out of memory");
        return NULL;
    }
    pthread_condattr_t ca;
    bool sync_ok = pthread_condattr_init(&ca) == 0;
    if (sync_ok) {
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        sync_ok = pthread_cond_init(&ctx->cv, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (sync_ok && pthread_mutex_init(&ctx->mu, NULL) != 0) {
        pthread_cond_destroy(&ctx->cv);
        sync_ok = false;
    }
    if (!sync_ok) {
        free(ad);
        free(ctx);
        authc__set_err(err, errlen, "redis: out of memory");
        return NULL;
    }
    ad->ops = &REDIS_OPS;
    ad->ctx = ctx;
    ctx->pool_size = RD_POOL_DEFAULT;
    ctx->timeout_ms = RD_TIMEOUT_DEFAULT_MS;
    ctx->connect_timeout_ms = RD_TIMEOUT_DEFAULT_MS;
    ctx->grace_ms = (int64_t)RD_GRACE_DEFAULT_S * 1000;
    if (!parse_url(ctx, url, err, errlen)) {
        rd_destroy(ad);
        return NULL;
    }
    if (!ctx->prefix && !(ctx->prefix = calloc(1, 1))) {
        authc__set_err(err, errlen, "redis: out of memory");
        rd_destroy(ad);
        return NULL;
    }
    snprintf(ctx->label, sizeof ctx->label, "redis %s%s%s:%d/%d",
             strchr(ctx->host, ':') ? "[" : "", ctx->host,
             strchr(ctx->host, ':') ? "]" : "", ctx->port, ctx->db);


    /* Fail fast on a wrong address/password/version: first connection now
     * (log is not set yet, so the reason goes to err). */
    char why[400];
    rd_sigpipe sp;
    sigpipe_block(&sp);
    bool ok = conn_open(ctx, &ctx->conns[0], why, sizeof why) == AUTHC_OK &&
              version_ok(ctx->conns[0].c, why, sizeof why);
    sigpipe_unblock(&sp);
    if (!ok) {
        authc__set_err(err, errlen, "%s: %s", ctx->label, why);
        rd_destroy(ad);
        return NULL;
    }
    return ad;
}
