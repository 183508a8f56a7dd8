/* redis_sessions.c — the Redis backend's sessions, verification tokens and
 * WebAuthn authenticators (keys and deviations from upstash: see redis.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/redis_int.h"
#include "util/util_int.h"

/* The commands that store session s (JSON with TTL, pointer, our zset). */
static void session_cmds(rd_call *call, const authc_session_row *s,
                         rd_cmd cmds[4])
{
    authc_arena *ar = call->ar;
    const char *skey = K_SESSION(call, s->session_token);
    authc__rd_cmdv(&cmds[0], ar, 4,
                   "SET", skey, authc__rd_json(ar, RD_SESSION, s), "PXAT");
    authc__rd_cmd_addi(&cmds[0], authc__rd_ttl_at(call->ctx, s->expires));
    authc__rd_cmdv(&cmds[1], ar, 3,
                   "SET", K_SESSION_PTR(call, s->user_id), skey);
    authc__rd_cmdv(&cmds[2], ar, 2, "ZADD", K_SESSIONS(call, s->user_id));
    authc__rd_cmd_addi(&cmds[2], s->expires);
    authc__rd_cmd_add(&cmds[2], s->session_token);
    /* Forget tokens whose keys Redis has already expired. */
    authc__rd_cmdv(&cmds[3], ar, 3,
                   "ZREMRANGEBYSCORE", K_SESSIONS(call, s->user_id), "-inf");
    authc__rd_cmd_add(&cmds[3], authc_arena_printf(ar, "(%" PRId64,
                                         authc__now_ms() - call->ctx->grace_ms));
}

authc_err authc__rd_create_session(authc_adapter *self, authc_arena *ar,
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
    authc_err e = authc__rd_begin(self, ar, &call);
    if (e)
        return e;
    rd_cmd cmds[4];
    session_cmds(&call, &s, cmds);
    int rc = authc__rd_tx(&call, cmds, 4, "create_session", NULL);
    authc__rd_end(&call);
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
    authc_err e;
    *out = authc__rd_load(call, K_SESSION(call, token), RD_SESSION, NULL,
                          retry, &e);
    return e;
}

authc_err authc__rd_get_session_and_user(authc_adapter *self, authc_arena *ar,
                                         const char *session_token,
                                         authc_session_row **session,
                                         authc_user **user)
{
    *session = NULL;
    *user = NULL;
    if (!session_token)
        return AUTHC_OK;
    rd_call call;
    authc_err e = authc__rd_begin(self, ar, &call);
    if (!e) {
        authc_session_row *s;
        authc_user *u = NULL;
        e = load_session(&call, session_token, true, &s);
        if (!e && s && s->user_id)
            e = authc__rd_load_user(&call, s->user_id, &u);
        if (!e && s && u) {
            *session = s;
            *user = u;
        }
    }
    authc__rd_end(&call);
    return e;
}

authc_err authc__rd_update_session(authc_adapter *self, authc_arena *ar,
                                   const authc_session_row *in,
                                   authc_session_row **out)
{
    if (out)
        *out = NULL;
    if (!in->session_token)
        return AUTHC_OK;
    rd_call call;
    authc_err e = authc__rd_begin(self, ar, &call);
    if (e)
        return e;
    const char *skey = K_SESSION(&call, in->session_token);
    if (!skey) {
        authc__rd_end(&call);
        return AUTHC_OK;
    }
    authc_session_row *res = NULL;
    e = AUTHC_ERR_ADAPTER;
    for (int attempt = 0; attempt < RD_TX_TRIES; attempt++) {
        if (!authc__rd_watch(&call, &skey, 1))
            break;
        authc_session_row *cur;
        authc_err le = load_session(&call, in->session_token, false, &cur);
        if (le || !cur || !cur->user_id) {
            authc__rd_unwatch(&call);
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
        if (!authc__rd_streq(m.user_id, cur->user_id)) {
            /* Moved to another user: drop it from the old user's set. */
            authc__rd_cmdv(&cmds[3], ar, 3,
                           "ZREM", K_SESSIONS(&call, cur->user_id),
                           in->session_token);
        }
        int rc = authc__rd_tx(&call, cmds, n, "update_session", NULL);
        if (rc < 0)
            break;
        if (rc == 1) {
            res = authc__copy_session(ar, &m);
            e = res ? AUTHC_OK : AUTHC_ERR_NOMEM;
            break;
        }
    }
    authc__rd_end(&call);
    if (!e && out)
        *out = res;
    return e;
}

authc_err authc__rd_delete_session(authc_adapter *self, authc_arena *ar,
                                   const char *session_token,
                                   authc_session_row **out)
{
    if (out)
        *out = NULL;
    if (!session_token)
        return AUTHC_OK;
    rd_call call;
    authc_err e = authc__rd_begin(self, ar, &call);
    if (e)
        return e;
    const char *skey = K_SESSION(&call, session_token);
    rd_cmd cmd;
    authc__rd_cmdv(&cmd, ar, 2, "GETDEL", skey);
    redisReply *r = skey ? authc__rd_run(&call, &cmd, false, "delete_session")
                         : NULL;
    if (skey && !r) {
        authc__rd_end(&call);
        return AUTHC_ERR_ADAPTER;
    }
    authc_session_row *s = NULL;
    if (r && r->type == REDIS_REPLY_STRING && r->len <= RD_MAX_VALUE) {
        char *v = authc_arena_strndup(ar, r->str, r->len);
        if (v)
            s = authc__rd_parse(&call, RD_SESSION, v, NULL, NULL, &e);
        e = AUTHC_OK;  /* deleted; an unreadable value is no reason to fail */
    }
    freeReplyObject(r);
    if (s && s->user_id) {
        /* Index cleanup; the session itself is gone already. */
        rd_cmd z;
        authc__rd_cmdv(&z, ar, 3,
                       "ZREM", K_SESSIONS(&call, s->user_id), session_token);
        freeReplyObject(authc__rd_run(&call, &z, true, "delete_session index"));
    }
    authc__rd_end(&call);
    if (out)
        *out = s;
    return e;
}

authc_err authc__rd_create_vt(authc_adapter *self, authc_arena *ar,
                              const authc_verification_token *in)
{
    if (!in->identifier || !in->token || in->expires == AUTHC_NO_TIME) {
        authc__adapter_log(self, "error", "%s: create_verification_token: "
                           "incomplete token", ((rd_ctx *)self->ctx)->label);
        return AUTHC_ERR_ADAPTER;
    }
    rd_call call;
    authc_err e = authc__rd_begin(self, ar, &call);
    if (!e) {
        rd_cmd cmd;
        authc__rd_cmdv(&cmd, ar, 4,
                       "SET", K_VT(&call, in->identifier, in->token),
                       authc__rd_json(ar, RD_VT, in), "PXAT");
        authc__rd_cmd_addi(&cmd, authc__rd_ttl_at(call.ctx, in->expires));
        redisReply *r = authc__rd_run(&call, &cmd, false,
                               "create_verification_token");
        if (!r)
            e = AUTHC_ERR_ADAPTER;
        freeReplyObject(r);
    }
    authc__rd_end(&call);
    return e;
}

authc_err authc__rd_use_vt(authc_adapter *self, authc_arena *ar,
                           const char *identifier, const char *token,
                           authc_verification_token **out)
{
    *out = NULL;
    if (!identifier || !token)
        return AUTHC_OK;
    rd_call call;
    authc_err e = authc__rd_begin(self, ar, &call);
    if (!e) {
        const char *key = K_VT(&call, identifier, token);
        if (key) {
            rd_cmd cmd;
            authc__rd_cmd_init(&cmd, ar);
            authc__rd_cmd_add(&cmd, "GETDEL");  /* atomic: one use only */
            authc__rd_cmd_add(&cmd, key);
            redisReply *r = authc__rd_run(&call, &cmd, false,
                                   "use_verification_token");
            if (!r) {
                e = AUTHC_ERR_ADAPTER;
            } else if (r->type == REDIS_REPLY_STRING) {
                char *v = r->len <= RD_MAX_VALUE
                              ? authc_arena_strndup(ar, r->str, r->len)
                              : NULL;
                *out = v ? authc__rd_parse(&call, RD_VT, v, NULL, NULL, &e)
                         : NULL;
                if (!v)
                    e = AUTHC_ERR_ADAPTER;
            }
            freeReplyObject(r);
        }
    }
    authc__rd_end(&call);
    return e;
}

static authc_err load_auth(rd_call *call, const char *cid, bool retry,
                           authc_authenticator **out)
{
    authc_err e;
    *out = authc__rd_load(call, K_AUTH(call, cid), RD_AUTH, NULL, retry, &e);
    return e;
}

authc_err authc__rd_get_authenticator(authc_adapter *self, authc_arena *ar,
                                      const char *credential_id,
                                      authc_authenticator **out)
{
    *out = NULL;
    if (!credential_id)
        return AUTHC_OK;
    rd_call call;
    authc_err e = authc__rd_begin(self, ar, &call);
    if (!e)
        e = load_auth(&call, credential_id, true, out);
    authc__rd_end(&call);
    return e;
}

authc_err authc__rd_create_authenticator(authc_adapter *self, authc_arena *ar,
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
    authc_err e = authc__rd_begin(self, ar, &call);
    if (e)
        return e;
    rd_cmd cmds[2];
    authc__rd_cmdv(&cmds[0], ar, 3,
                   "SET", K_AUTH(&call, in->credential_id),
                   authc__rd_json(ar, RD_AUTH, in));
    authc__rd_cmd_add(&cmds[0], "NX");  /* credentialID is unique */
    authc__rd_cmdv(&cmds[1], ar, 3,
                   "SADD", K_AUTHS(&call, in->user_id), in->credential_id);
    redisReply *x;
    int rc = authc__rd_tx(&call, cmds, 2, "create_authenticator", &x);
    bool created = rc == 1 && x->element[0]->type == REDIS_REPLY_STATUS;
    freeReplyObject(x);
    authc__rd_end(&call);
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

authc_err authc__rd_list_authenticators(authc_adapter *self, authc_arena *ar,
                                        const char *user_id,
                                        authc_authenticator **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!user_id)
        return AUTHC_OK;
    rd_call call;
    authc_err e = authc__rd_begin(self, ar, &call);
    if (e)
        return e;
    const char *skey = K_AUTHS(&call, user_id);
    char **ids = NULL, **keys = NULL, **vals = NULL;
    size_t nids = 0, count = 0;
    authc_authenticator *arr = NULL;
    if (skey && !authc__rd_members(&call, skey, false, true, &ids, &nids))
        e = AUTHC_ERR_ADAPTER;
    if (!e && nids) {
        keys = authc_arena_alloc(ar, sizeof *keys * nids);
        arr = authc_arena_alloc(ar, sizeof *arr * nids);
        if (!keys || !arr)
            e = AUTHC_ERR_NOMEM;
        for (size_t i = 0; !e && i < nids; i++)
            if (!(keys[i] = (char *)K_AUTH(&call, ids[i])))
                e = AUTHC_ERR_NOMEM;
        if (!e && !authc__rd_mget(&call, keys, nids, true, &vals))
            e = AUTHC_ERR_ADAPTER;
        /* Members whose row is gone or now belongs to someone else (a
         * credential re-registered) are skipped. */
        for (size_t i = 0; !e && i < nids; i++) {
            authc_err pe = AUTHC_OK;
            if (vals[i] &&
                authc__rd_parse(&call, RD_AUTH, vals[i], NULL, &arr[count],
                                &pe) &&
                authc__rd_streq(arr[count].user_id, user_id))
                count++;
            else if (pe == AUTHC_ERR_NOMEM)
                e = pe;
        }
    }
    authc__rd_end(&call);
    if (!e && count) {
        *out = arr;
        *n = count;
    }
    return e;
}

authc_err authc__rd_update_authenticator_counter(authc_adapter *self,
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
    authc_err e = authc__rd_begin(self, ar, &call);
    if (e)
        return e;
    const char *key = K_AUTH(&call, credential_id);
    if (!key) {
        authc__rd_end(&call);
        return AUTHC_ERR_NOT_FOUND;
    }
    authc_authenticator *res = NULL;
    e = AUTHC_ERR_ADAPTER;
    for (int attempt = 0; attempt < RD_TX_TRIES; attempt++) {
        if (!authc__rd_watch(&call, &key, 1))
            break;
        authc_authenticator *a;
        authc_err le = load_auth(&call, credential_id, false, &a);
        if (le || !a) {
            authc__rd_unwatch(&call);
            e = le ? le : AUTHC_ERR_NOT_FOUND;
            break;
        }
        a->counter = counter;
        rd_cmd cmd;
        authc__rd_cmdv(&cmd, ar, 3, "SET", key, authc__rd_json(ar, RD_AUTH, a));
        int rc = authc__rd_tx(&call, &cmd, 1, "update_authenticator_counter", NULL);
        if (rc < 0)
            break;
        if (rc == 1) {
            res = a;
            e = AUTHC_OK;
            break;
        }
    }
    authc__rd_end(&call);
    if (!e && out)
        *out = res;
    return e;
}

