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
    if (!in->session_token || !in->user_id || in->expires == AUTHC_NO_TIME)
        return authc__rd_refuse(self, "create_session: token, userId and "
                                "expires are required", out);
    authc_session_row s = *in;
    s.id = NULL;
    rd_call call;
    authc_err e;
    if (!authc__rd_start(self, ar, true, AUTHC_OK, out, &call, &e))
        return e;
    rd_cmd cmds[4];
    session_cmds(&call, &s, cmds);
    return authc__rd_commit(&call, cmds, 4, "create_session",
                            &authc__session_row, &s, out);
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
    rd_call call;
    authc_err e;
    if (!authc__rd_start(self, ar, session_token != NULL, AUTHC_OK,
                         user, &call, &e))
        return e;
    authc_session_row *s;
    authc_user *u = NULL;
    e = load_session(&call, session_token, true, &s);
    if (!e && s && s->user_id)
        e = authc__rd_load_user(&call, s->user_id, &u);
    if (!e && s && u) {
        *session = s;
        *user = u;
    }
    authc__rd_end(&call);
    return e;
}

/* update_session's read-modify-write: the patch in, the new row out. */
typedef struct upd_session {
    const authc_session_row *in;
    authc_session_row m;
    bool found;
} upd_session;

static rd_step update_session_step(rd_call *call, void *ud, rd_cmd *cmds,
                                   int *n, authc_err *e)
{
    upd_session *u = ud;
    const authc_session_row *in = u->in;
    authc_session_row *cur;
    authc_err le = load_session(call, in->session_token, false, &cur);
    u->found = false;  /* a retry may find it gone */
    if (le || !cur || !cur->user_id) {
        authc__rd_unwatch(call);
        *e = le;  /* missing: OK with *out = NULL */
        return RD_STEP_DONE;
    }
    u->found = true;
    u->m = *cur;
    u->m.session_token = in->session_token;
    if (in->expires != AUTHC_NO_TIME)
        u->m.expires = in->expires;
    if (in->user_id)
        u->m.user_id = in->user_id;
    session_cmds(call, &u->m, cmds);
    *n = 4;
    if (!authc__rd_streq(u->m.user_id, cur->user_id)) {
        /* Moved to another user: drop it from the old user's set. */
        authc__rd_cmdv(&cmds[3], call->ar, 3,
                       "ZREM", K_SESSIONS(call, cur->user_id),
                       in->session_token);
    }
    return RD_STEP_EXEC;
}

authc_err authc__rd_update_session(authc_adapter *self, authc_arena *ar,
                                   const authc_session_row *in,
                                   authc_session_row **out)
{
    rd_call call;
    authc_err e;
    if (!authc__rd_start(self, ar, in->session_token != NULL, AUTHC_OK,
                         out, &call, &e))
        return e;
    const char *skey = K_SESSION(&call, in->session_token);
    upd_session u = {.in = in};
    if (skey)
        e = authc__rd_retry(&call, &skey, 1, "update_session",
                            update_session_step, &u);
    authc__rd_end(&call);
    authc_session_row *res = NULL;
    if (!e && u.found && !(res = authc__copy_session(ar, &u.m)))
        e = AUTHC_ERR_NOMEM;
    if (out)
        *out = res;
    return e;
}

authc_err authc__rd_delete_session(authc_adapter *self, authc_arena *ar,
                                   const char *session_token,
                                   authc_session_row **out)
{
    rd_call call;
    authc_err e;
    if (!authc__rd_start(self, ar, session_token != NULL, AUTHC_OK,
                         out, &call, &e))
        return e;
    const char *skey = K_SESSION(&call, session_token);
    char *v = NULL;
    if (skey && !authc__rd_fetch(&call, "GETDEL", skey, false, "delete_session", &v)) {
        authc__rd_end(&call);
        return AUTHC_ERR_ADAPTER;
    }
    authc_session_row *s = v ? authc__rd_parse(&call, RD_SESSION, v, NULL, NULL, &e) : NULL;
    e = AUTHC_OK;  /* deleted; an unreadable value is no reason to fail */
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

authc_err authc__rd_create_verification_token(authc_adapter *self, authc_arena *ar,
                                              const authc_verification_token *in)
{
    if (!in->identifier || !in->token || in->expires == AUTHC_NO_TIME)
        return authc__rd_refuse(self, "create_verification_token: "
                                "incomplete token", NULL);
    rd_call call;
    authc_err e;
    if (!authc__rd_start(self, ar, true, AUTHC_OK, NULL, &call, &e))
        return e;
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
    authc__rd_end(&call);
    return e;
}

authc_err authc__rd_use_verification_token(authc_adapter *self, authc_arena *ar,
                                           const char *identifier, const char *token,
                                           authc_verification_token **out)
{
    rd_call call;
    authc_err e;
    if (!authc__rd_start(self, ar, identifier && token, AUTHC_OK,
                         out, &call, &e))
        return e;
    const char *key = K_VT(&call, identifier, token);
    char *v = NULL;
    /* GETDEL: atomic, so a token is used once at most */
    if (key && authc__rd_fetch(&call, "GETDEL", key, false,
                               "use_verification_token", &v) <= 0)
        e = AUTHC_ERR_ADAPTER;
    else if (v)
        *out = authc__rd_parse(&call, RD_VT, v, NULL, NULL, &e);
    authc__rd_end(&call);
    return e;
}

authc_err authc__rd_get_authenticator(authc_adapter *self, authc_arena *ar,
                                      const char *credential_id,
                                      authc_authenticator **out)
{
    return authc__rd_get_row(self, ar, RD_AUTH, credential_id, NULL, out);
}

authc_err authc__rd_create_authenticator(authc_adapter *self, authc_arena *ar,
                                         const authc_authenticator *in,
                                         authc_authenticator **out)
{
    if (!in->credential_id || !in->user_id || !in->provider_account_id ||
        !in->credential_public_key || !in->credential_device_type)
        return authc__rd_refuse(self, "create_authenticator: missing fields",
                                out);
    rd_call call;
    authc_err e;
    if (!authc__rd_start(self, ar, true, AUTHC_OK, out, &call, &e))
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
    if (!created)
        return authc__rd_refuse(self, "create_authenticator: the credential "
                                "is already registered", NULL);
    if (out && !(*out = authc__copy_authenticator(ar, in)))
        return AUTHC_ERR_NOMEM;
    return AUTHC_OK;
}

authc_err authc__rd_list_authenticators_by_user_id(authc_adapter *self, authc_arena *ar,
                                                   const char *user_id,
                                                   authc_authenticator **out, size_t *n)
{
    *n = 0;
    rd_call call;
    authc_err e;
    if (!authc__rd_start(self, ar, user_id != NULL, AUTHC_OK, out, &call, &e))
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

/* update_authenticator_counter's read-modify-write. */
typedef struct upd_counter {
    const char *cid, *key;
    int64_t counter;
    authc_authenticator *a;
} upd_counter;

static rd_step counter_step(rd_call *call, void *ud, rd_cmd *cmds, int *n,
                            authc_err *e)
{
    upd_counter *u = ud;
    authc_err le;
    u->a = authc__rd_load(call, K_AUTH(call, u->cid), RD_AUTH, NULL, false,
                          &le);
    if (le || !u->a) {
        authc__rd_unwatch(call);
        *e = le ? le : AUTHC_ERR_NOT_FOUND;
        return RD_STEP_DONE;
    }
    u->a->counter = u->counter;
    authc__rd_cmdv(&cmds[(*n)++], call->ar, 3, "SET", u->key,
                   authc__rd_json(call->ar, RD_AUTH, u->a));
    return RD_STEP_EXEC;
}

authc_err authc__rd_update_authenticator_counter(authc_adapter *self,
                                                 authc_arena *ar,
                                                 const char *credential_id,
                                                 int64_t counter,
                                                 authc_authenticator **out)
{
    rd_call call;
    authc_err e;
    if (!authc__rd_start(self, ar, credential_id != NULL, AUTHC_ERR_NOT_FOUND,
                         out, &call, &e))
        return e;
    upd_counter u = {credential_id, K_AUTH(&call, credential_id), counter, NULL};
    e = u.key ? authc__rd_retry(&call, &u.key, 1,
                                "update_authenticator_counter", counter_step, &u)
              : AUTHC_ERR_NOT_FOUND;
    authc__rd_end(&call);
    if (!e && out)
        *out = u.a;
    return e;
}
