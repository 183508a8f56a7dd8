/* redis_conn.c — Redis connections for the backend: the pool, one call's
 * hold on a connection, command building and running (plain, WATCH/MULTI/EXEC), keys.
 *
 * Concurrency: a pool (lib/util/pool.c) of pool_size connections, each
 * used by one call at a time. A connection the server closed is noticed
 * before use and reopened; one that fails mid-call is replaced before the
 * call's next command (idempotent commands are retried once on it). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/redis_int.h"
#include "util/util_int.h"

static const authc__pool_hooks RD_POOL_HOOKS = {
    authc__rd_conn_open, authc__rd_conn_close, authc__rd_conn_alive,
    authc__rd_conn_reset};

authc_err authc__rd_begin(authc_adapter *self, authc_arena *ar,
                          rd_call *call)
{
    memset(call, 0, sizeof *call);
    call->self = self;
    call->ctx = self->ctx;
    call->ar = ar;
    authc__sigpipe_block(&call->pipe);
    char why[400];
    void *c;
    if (authc__pool_acquire(call->ctx->pool,
                            (int64_t)call->ctx->srv.timeout_ms * 2,
                            &c, why, sizeof why)) {
        authc__adapter_log(self, "error", "%s: %s", call->ctx->label, why);
        authc__rd_end(call);
        return AUTHC_ERR_ADAPTER;
    }
    call->c = c;
    return AUTHC_OK;
}

bool authc__rd_start(authc_adapter *self, authc_arena *ar, bool need,
                     authc_err none, void *out, rd_call *call, authc_err *e)
{
    authc__set_row(out, NULL);
    *e = need ? authc__rd_begin(self, ar, call) : none;
    return need && !*e;
}

authc_err authc__rd_refuse(authc_adapter *self, const char *what, void *out)
{
    authc__set_row(out, NULL);
    authc__adapter_log(self, "error", "%s: %s", ((rd_ctx *)self->ctx)->label,
                       what);
    return AUTHC_ERR_ADAPTER;
}

authc_err authc__rd_commit(rd_call *call, rd_cmd *cmds, int n,
                           const char *what, const authc__row_desc *d,
                           const void *row, void *out)
{
    authc_arena *ar = call->ar;
    int rc = authc__rd_tx(call, cmds, n, what, NULL);
    authc__rd_end(call);
    if (rc != 1)
        return AUTHC_ERR_ADAPTER;
    void *copy = out ? authc__copy_row(ar, d, row) : NULL;
    authc__set_row(out, copy);
    return out && !copy ? AUTHC_ERR_NOMEM : AUTHC_OK;
}

void authc__rd_end(rd_call *call)
{
    if (call->c) {
        /* Never hand back a connection with a WATCH left by an early
         * exit. */
        if (call->watching)
            authc__rd_unwatch(call);
        authc__pool_release(call->ctx->pool, call->c, call->lost);
        call->c = NULL;
    }
    if (call->self) {
        authc__sigpipe_unblock(&call->pipe);
        call->self = NULL;
    }
}

/* Before a command: replaces a connection that failed earlier in this
 * call. false (logged) when none can be had; the slot is then free. */
static bool have_conn(rd_call *call)
{
    if (!call->c)
        return false;
    if (!call->lost)
        return true;
    char why[400];
    void *c = call->c;
    call->lost = false;
    call->watching = false;
    if (authc__pool_replace(call->ctx->pool, &c, why, sizeof why)) {
        authc__adapter_log(call->self, "error", "%s: %s", call->ctx->label,
                           why);
        call->c = NULL;
        return false;
    }
    call->c = c;
    return true;
}

/* ---- commands ----------------------------------------------------------- */

void authc__rd_cmd_init(rd_cmd *cmd, authc_arena *ar)
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

void authc__rd_cmd_add(rd_cmd *cmd, const char *s)
{
    cmd_addn(cmd, s, s ? strlen(s) : 0);
}

void authc__rd_cmdv(rd_cmd *cmd, authc_arena *ar, int n, ...)
{
    authc__rd_cmd_init(cmd, ar);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        authc__rd_cmd_add(cmd, va_arg(ap, const char *));
    va_end(ap);
}

void authc__rd_cmd_addi(rd_cmd *cmd, int64_t v)
{
    char *s = authc_arena_printf(cmd->ar, "%" PRId64, v);
    if (!s && !cmd->err)
        cmd->err = AUTHC_ERR_NOMEM;
    authc__rd_cmd_add(cmd, s);
}

/* Logs a lost/failed connection and marks it for replacement. Returns
 * true when it was a timeout (SO_RCVTIMEO: EAGAIN), not worth a retry. */
static bool conn_failed(rd_call *call, const char *what)
{
    redisContext *c = call->c;
    bool timeout = c && c->err == REDIS_ERR_IO &&
                   (strstr(c->errstr, "temporarily unavailable") ||
                    strstr(c->errstr, "timed out"));
    if (timeout)
        authc__adapter_log(call->self, "error", "%s: %s: no answer within "
                           "%d ms, dropping the connection",
                           call->ctx->label, what, call->ctx->srv.timeout_ms);
    else
        authc__adapter_log(call->self, "error", "%s: %s: %s",
                           call->ctx->label, what,
                           c && c->errstr[0] ? c->errstr : "connection lost");
    call->lost = true;
    return timeout;
}

redisReply *authc__rd_run(rd_call *call, const rd_cmd *cmd, bool retry,
                          const char *what)
{
    if (cmd->err) {
        authc__adapter_log(call->self, "error", "%s: %s: %s",
                           call->ctx->label, what, authc_strerror(cmd->err));
        return NULL;
    }
    for (int attempt = 0;; attempt++) {
        if (!have_conn(call))
            return NULL;
        redisReply *r = redisCommandArgv(call->c, cmd->argc, cmd->argv,
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
int authc__rd_tx(rd_call *call, rd_cmd *cmds, int n, const char *what,
                 redisReply **exec)
{
    if (exec)
        *exec = NULL;
    if (!have_conn(call))
        return -1;
    redisContext *c = call->c;
    for (int i = 0; i < n; i++)
        if (cmds[i].err) {
            authc__adapter_log(call->self, "error", "%s: %s: %s",
                               call->ctx->label, what,
                               authc_strerror(cmds[i].err));
            authc__rd_unwatch(call);
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
    if (exec)
        *exec = r;
    else
        freeReplyObject(r);
    return 1;
lost:
    conn_failed(call, what);
    return -1;
}

/* Sends UNWATCH (after a WATCH whose transaction we abandon). */
void authc__rd_unwatch(rd_call *call)
{
    call->watching = false;
    if (!call->c || call->lost)
        return;
    redisReply *r = redisCommand(call->c, "UNWATCH");
    if (!r)
        call->lost = true;
    freeReplyObject(r);
}

authc_err authc__rd_retry(rd_call *call, const char *const *keys, int nkeys,
                          const char *what, rd_step_fn *step, void *ud)
{
    for (int attempt = 0; attempt < RD_TX_TRIES; attempt++) {
        if (!authc__rd_watch(call, keys, nkeys))
            break;
        rd_cmd cmds[RD_STEP_CMDS];
        int n = 0;
        authc_err e = AUTHC_OK;
        rd_step s = step(call, ud, cmds, &n, &e);
        if (s == RD_STEP_DONE)
            return e;
        if (s == RD_STEP_FAIL)
            break;
        int rc = authc__rd_tx(call, cmds, n, what, NULL);
        if (rc != 0)
            return rc > 0 ? AUTHC_OK : AUTHC_ERR_ADAPTER;
        /* rc == 0: a watched key changed meanwhile; read again. */
    }
    return AUTHC_ERR_ADAPTER;
}

/* WATCHes the given keys. */
bool authc__rd_watch(rd_call *call, const char *const *keys, int n)
{
    rd_cmd w;
    authc__rd_cmdv(&w, call->ar, 1, "WATCH");
    for (int i = 0; i < n; i++)
        authc__rd_cmd_add(&w, keys[i]);
    redisReply *r = authc__rd_run(call, &w, false, "WATCH");
    freeReplyObject(r);
    if (r)
        call->watching = true;
    return r != NULL;
}

int authc__rd_fetch(rd_call *call, const char *op, const char *key,
                    bool retry, const char *what, char **val)
{
    *val = NULL;
    rd_cmd cmd;
    authc__rd_cmdv(&cmd, call->ar, 2, op, key);
    redisReply *r = authc__rd_run(call, &cmd, retry, what);
    if (!r)
        return 0;
    int ok = 1;
    if (r->type == REDIS_REPLY_STRING) {
        if (r->len > RD_MAX_VALUE) {
            authc__adapter_log(call->self, "error", "%s: %s: value over %u "
                               "bytes", call->ctx->label, what, RD_MAX_VALUE);
            ok = -1;
        } else if (!(*val = authc_arena_strndup(call->ar, r->str, r->len))) {
            ok = -1;
        }
    } else if (r->type != REDIS_REPLY_NIL) {
        authc__adapter_log(call->self, "error", "%s: %s: not a string value",
                           call->ctx->label, what);
        ok = -1;
    }
    freeReplyObject(r);
    return ok;
}

bool authc__rd_get(rd_call *call, const char *key, bool retry,
                   const char *what, char **val)
{
    return authc__rd_fetch(call, "GET", key, retry, what, val) > 0;
}

/* Members of a SET (SMEMBERS) or ZSET (ZRANGE 0 -1) as arena strings. */
bool authc__rd_members(rd_call *call, const char *key, bool zset, bool retry,
                       char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    rd_cmd cmd;
    authc__rd_cmdv(&cmd, call->ar, 2, zset ? "ZRANGE" : "SMEMBERS", key);
    if (zset) {
        authc__rd_cmd_add(&cmd, "0");
        authc__rd_cmd_add(&cmd, "-1");
    }
    redisReply *r = authc__rd_run(call, &cmd, retry, "read index");
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
bool authc__rd_mget(rd_call *call, char **keys, size_t n, bool retry,
                    char ***vals)
{
    *vals = NULL;
    if (n == 0)
        return true;
    rd_cmd cmd;
    authc__rd_cmdv(&cmd, call->ar, 1, "MGET");
    for (size_t i = 0; i < n; i++)
        authc__rd_cmd_add(&cmd, keys[i]);
    redisReply *r = authc__rd_run(call, &cmd, retry, "MGET");
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

const char *authc__rd_key3(rd_call *call, const char *a, const char *b,
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

int64_t authc__rd_ttl_at(const rd_ctx *ctx, int64_t expires)
{
    int64_t now = authc__now_ms();
    int64_t base = expires > now ? expires : now;
    return base + ctx->grace_ms;
}

/* ---- server check and state --------------------------------------------- */

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

authc_err authc__rd_check_server(rd_call *call)
{
    char why[200];
    if (!have_conn(call))
        return AUTHC_ERR_ADAPTER;
    if (!version_ok(call->c, why, sizeof why)) {
        authc__adapter_log(call->self, "error", "%s: %s", call->ctx->label,
                           why);
        return AUTHC_ERR_ADAPTER;
    }
    rd_cmd ping;
    authc__rd_cmdv(&ping, call->ar, 1, "PING");
    redisReply *r = authc__rd_run(call, &ping, true, "PING");
    freeReplyObject(r);
    return r ? AUTHC_OK : AUTHC_ERR_ADAPTER;
}

void authc__rd_ctx_free(rd_ctx *ctx)
{
    if (ctx) {
        authc__rd_wire_free(ctx->pool, &ctx->srv);
        free(ctx->prefix);
    }
    free(ctx);
}

/* Fail fast on a wrong address, password or version: the first connection
 * now, the reason in err. */
static bool first_conn(rd_ctx *ctx, char *err, size_t errlen)
{
    char why[400];
    authc__sigpipe_guard pipe;
    bool ok;
    void *c;
    authc__sigpipe_block(&pipe);
    ok = authc__pool_acquire(ctx->pool, 0, &c, why, sizeof why) == AUTHC_OK;
    if (ok) {
        ok = version_ok(c, why, sizeof why);
        authc__pool_release(ctx->pool, c, false);
    }
    authc__sigpipe_unblock(&pipe);
    if (!ok)
        authc__set_err(err, errlen, "%s: %s", ctx->label, why);
    return ok;
}

/* Owned by the caller (authc__rd_ctx_free); NULL with err set. */
rd_ctx *authc__rd_ctx_new(const char *url, char *err, size_t errlen)
{
    rd_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        authc__set_err(err, errlen, "redis: out of memory");
        return NULL;
    }
    ctx->pool_size = RD_POOL_DEFAULT;
    ctx->srv.timeout_ms = RD_TIMEOUT_DEFAULT_MS;
    ctx->srv.connect_timeout_ms = RD_TIMEOUT_DEFAULT_MS;
    ctx->grace_ms = (int64_t)RD_GRACE_DEFAULT_S * 1000;
    if (!authc__rd_parse_url(ctx, url, err, errlen)) {
        authc__rd_ctx_free(ctx);
        return NULL;
    }
    bool v6 = strchr(ctx->srv.host, ':') != NULL;
    snprintf(ctx->label, sizeof ctx->label, "redis %s%s%s:%d/%d",
             v6 ? "[" : "", ctx->srv.host, v6 ? "]" : "", ctx->srv.port,
             ctx->srv.db);
    if ((!ctx->prefix && !(ctx->prefix = calloc(1, 1))) ||
        !(ctx->pool = authc__pool_new(&RD_POOL_HOOKS, &ctx->srv, ctx->pool_size))) {
        authc__set_err(err, errlen, "%s: out of memory", ctx->label);
        authc__rd_ctx_free(ctx);
        return NULL;
    }
    if (!first_conn(ctx, err, errlen)) {
        authc__rd_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}
