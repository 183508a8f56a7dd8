/* redis.c — Redis backend (hiredis) storing the exact @auth/upstash-redis-adapter
 * keys and JSON, without its index bugs; plus WebAuthn authenticators. Users and accounts here.
 *
 * Needs Redis >= 6.2 (GETDEL, SET … PXAT). The URL is read in redis_url.c,
 * connections and commands are in redis_conn.c, values in redis_json.c,
 * sessions, verification tokens and authenticators in redis_sessions.c.
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
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/redis_int.h"
#include "util/util_int.h"

/* ---- method bodies ------------------------------------------------------- */

/* GET user:{id} and parse; *out = NULL when absent. */
authc_err authc__rd_load_user(rd_call *call, const char *id, authc_user **out)
{
    authc_err e;
    *out = authc__rd_load(call, K_USER(call, id), RD_USER, id, true, &e);
    return e;
}

authc_err authc__rd_create_user(authc_adapter *self, authc_arena *ar,
                                const authc_user *in, authc_user **out)
{
    char id[37];
    authc_err e = authc__uuid(id);
    authc_user u = *in;  /* in->id is ignored: a new UUID, like upstash */
    u.id = id;
    u.fields = 0;
    rd_call call;
    if (!authc__rd_start(self, ar, e == AUTHC_OK, e, out, &call, &e))
        return e;
    rd_cmd cmds[2];
    int n = 0;
    authc__rd_cmdv(&cmds[n], ar, 3,
                   "SET", K_USER(&call, id), authc__rd_json(ar, RD_USER, &u));
    n++;
    if (u.email) {
        authc__rd_cmdv(&cmds[n], ar, 3, "SET", K_EMAIL(&call, u.email), id);
        n++;
    }
    return authc__rd_commit(&call, cmds, n, "create_user", &authc__user_row,
                            &u, out);
}

authc_err authc__rd_get_user(authc_adapter *self, authc_arena *ar,
                             const char *id, authc_user **out)
{
    return authc__rd_get_row(self, ar, RD_USER, id, NULL, out);
}

authc_err authc__rd_get_user_by_email(authc_adapter *self, authc_arena *ar,
                                      const char *email, authc_user **out)
{
    rd_call call;
    authc_err e;
    if (!authc__rd_start(self, ar, email != NULL, AUTHC_OK, out, &call, &e))
        return e;
    const char *key = K_EMAIL(&call, email);
    char *id = NULL;
    if (key && !authc__rd_get(&call, key, true, "get user by email", &id))
        e = AUTHC_ERR_ADAPTER;
    if (!e && id) {
        authc_user *u;
        e = authc__rd_load_user(&call, authc__rd_index_value(&call, id), &u);
        /* A stale index left by upstash (it never deletes the old
         * email key) must not return a user with another email. */
        if (!e && u && authc__rd_streq(u->email, email))
            *out = u;
    }
    authc__rd_end(&call);
    return e;
}

/* GET the account JSON of (provider, paId); *out NULL when absent. */
authc_err authc__rd_load_account(rd_call *call, const char *provider,
                                 const char *pa_id, authc_account **out)
{
    authc_err e;
    *out = authc__rd_load(call, K_ACCOUNT(call, provider, pa_id), RD_ACCOUNT,
                          NULL, true, &e);
    return e;
}

authc_err authc__rd_get_user_by_account(authc_adapter *self, authc_arena *ar,
                                        const char *provider,
                                        const char *provider_account_id,
                                        authc_user **out)
{
    rd_call call;
    authc_err e;
    if (!authc__rd_start(self, ar, provider && provider_account_id, AUTHC_OK,
                         out, &call, &e))
        return e;
    authc_account *a;
    e = authc__rd_load_account(&call, provider, provider_account_id, &a);
    if (!e && a && a->user_id)
        e = authc__rd_load_user(&call, a->user_id, out);
    authc__rd_end(&call);
    return e;
}

/* update_user's read-modify-write: the patch in, the merged row out. */
typedef struct upd_user {
    const authc_user *in;
    const char *ukey;
    authc_user merged;
} upd_user;

static rd_step update_user_step(rd_call *call, void *ud, rd_cmd *cmds, int *n,
                                authc_err *e)
{
    upd_user *u = ud;
    authc_user *cur;
    authc_err le = authc__rd_load_user(call, u->in->id, &cur);
    if (le || !cur) {
        authc__rd_unwatch(call);
        *e = le ? le : AUTHC_ERR_NOT_FOUND;
        return RD_STEP_DONE;
    }
    const char *old_email = cur->email;
    u->merged = *cur;
    authc__user_merge(&u->merged, u->in);
    u->merged.id = cur->id;
    authc__rd_cmdv(&cmds[(*n)++], call->ar, 3, "SET", u->ukey,
                   authc__rd_json(call->ar, RD_USER, &u->merged));
    if (old_email && !authc__rd_streq(old_email, u->merged.email)) {
        /* Delete the old index only if it still names this user. */
        const char *okey = K_EMAIL(call, old_email);
        char *owner = NULL;
        if (okey && !authc__rd_get(call, okey, false, "update_user", &owner))
            return RD_STEP_FAIL;
        if (owner && authc__rd_streq(authc__rd_index_value(call, owner), cur->id))
            authc__rd_cmdv(&cmds[(*n)++], call->ar, 2, "DEL", okey);
    }
    if (u->merged.email)
        authc__rd_cmdv(&cmds[(*n)++], call->ar, 3,
                       "SET", K_EMAIL(call, u->merged.email), cur->id);
    return RD_STEP_EXEC;
}

authc_err authc__rd_update_user(authc_adapter *self, authc_arena *ar,
                                const authc_user *in, authc_user **out)
{
    rd_call call;
    authc_err e;
    if (!authc__rd_start(self, ar, in->id != NULL, AUTHC_ERR_NOT_FOUND,
                         out, &call, &e))
        return e;
    upd_user u = {.in = in, .ukey = K_USER(&call, in->id)};
    e = u.ukey ? authc__rd_retry(&call, &u.ukey, 1, "update_user",
                                 update_user_step, &u)
               : AUTHC_ERR_NOT_FOUND;
    authc__rd_end(&call);
    authc_user *res = e ? NULL : authc__copy_user(ar, &u.merged);
    if (!e && !res)
        e = AUTHC_ERR_NOMEM;
    if (out)
        *out = res;
    return e;
}

/* Adds to cmd each key of `keys` whose stored JSON still has
 * "userId" == uid (rows re-linked to another user are left alone). */
static bool add_owned(rd_call *call, rd_cmd *del, char **keys, size_t n,
                      const char *uid)
{
    char **vals;
    if (!authc__rd_mget(call, keys, n, false, &vals))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!vals || !vals[i])
            continue;
        const char *owner = authc__rd_json_user_id(call, vals[i]);
        if (owner && strcmp(owner, uid) == 0)
            authc__rd_cmd_add(del, keys[i]);
    }
    return true;
}

/* Keeps a pointer target only when it is one of our own keys of that kind
 * (never DEL an arbitrary key named by a corrupted pointer). */
static char *ptr_target(rd_call *call, const char *v, const char *kind)
{
    if (!v)
        return NULL;
    v = authc__rd_index_value(call, v);
    const char *want = authc_arena_printf(call->ar, "%s%s",
                                          call->ctx->prefix, kind);
    if (!want || !authc__starts_with(v, want))
        return NULL;
    return (char *)v;
}

/* delete_user's transaction: DEL of the user's keys (keys[0..6)), its
 * e-mail index and every row of our sets and upstash's pointers that
 * still belongs to it. */
typedef struct del_user {
    const char *id;
    const char *keys[6];
} del_user;

static rd_step delete_user_step(rd_call *call, void *ud, rd_cmd *cmds, int *n,
                                authc_err *e)
{
    del_user *d = ud;
    const char *id = d->id, *const *keys = d->keys;
    authc_user *u;
    char **acc, **ses, **aut, *aptr, *sptr, *owner = NULL;
    size_t nacc, nses, naut;
    if (authc__rd_load_user(call, id, &u) ||
        !authc__rd_members(call, keys[1], false, false, &acc, &nacc) ||
        !authc__rd_members(call, keys[2], true, false, &ses, &nses) ||
        !authc__rd_members(call, keys[3], false, false, &aut, &naut) ||
        !authc__rd_get(call, keys[4], false, "delete_user", &aptr) ||
        !authc__rd_get(call, keys[5], false, "delete_user", &sptr))
        return RD_STEP_FAIL;
    const char *ekey = u && u->email ? K_EMAIL(call, u->email) : NULL;
    if (ekey && !authc__rd_get(call, ekey, false, "delete_user", &owner))
        return RD_STEP_FAIL;
    /* Candidate row keys: from our sets plus upstash's pointers. */
    size_t cap = nacc + nses + naut + 2;
    char **cand = authc_arena_alloc(call->ar, sizeof *cand * cap);
    size_t nc = 0;
    bool ok = cand != NULL;
    for (size_t i = 0; ok && i < nacc; i++)
        if (!(cand[nc++] = (char *)authc__rd_key3(call, "user:account:", acc[i],
                                                  NULL)))
            ok = false;
    for (size_t i = 0; ok && i < nses; i++)
        if (!(cand[nc++] = (char *)K_SESSION(call, ses[i])))
            ok = false;
    for (size_t i = 0; ok && i < naut; i++)
        if (!(cand[nc++] = (char *)K_AUTH(call, aut[i])))
            ok = false;
    if (!ok) {
        authc__rd_unwatch(call);
        *e = AUTHC_ERR_NOMEM;
        return RD_STEP_DONE;
    }
    if ((aptr = ptr_target(call, aptr, "user:account:")))
        cand[nc++] = aptr;
    if ((sptr = ptr_target(call, sptr, "user:session:")))
        cand[nc++] = sptr;
    rd_cmd *del = &cmds[(*n)++];
    authc__rd_cmdv(del, call->ar, 1, "DEL");
    for (int i = 0; i < 6; i++)
        authc__rd_cmd_add(del, keys[i]);
    if (ekey && owner && authc__rd_streq(authc__rd_index_value(call, owner), id))
        authc__rd_cmd_add(del, ekey);
    return add_owned(call, del, cand, nc, id) ? RD_STEP_EXEC : RD_STEP_FAIL;
}

authc_err authc__rd_delete_user(authc_adapter *self, authc_arena *ar,
                                const char *id)
{
    rd_call call;
    authc_err e;
    if (!authc__rd_start(self, ar, id != NULL, AUTHC_OK, NULL, &call, &e))
        return e;
    del_user d = {.id = id,
                  .keys = {K_USER(&call, id), K_ACCOUNTS(&call, id),
                           K_SESSIONS(&call, id), K_AUTHS(&call, id),
                           K_ACCOUNT_PTR(&call, id), K_SESSION_PTR(&call, id)}};
    bool all = true;  /* else an id too long to exist */
    for (int i = 0; i < 6; i++)
        all = all && d.keys[i];
    if (all)
        e = authc__rd_retry(&call, d.keys, 6, "delete_user", delete_user_step,
                            &d);
    authc__rd_end(&call);
    return e;
}

authc_err authc__rd_link_account(authc_adapter *self, authc_arena *ar,
                                 const authc_account *in, authc_account **out)
{
    if (!in->provider || !in->provider_account_id || !in->user_id)
        return authc__rd_refuse(self, "link_account: provider, "
                                "providerAccountId and userId are required",
                                out);
    authc_account a = *in;
    a.id = authc_arena_printf(ar, "%s:%s", in->provider,
                              in->provider_account_id);
    rd_call call;
    authc_err e;
    if (!authc__rd_start(self, ar, a.id != NULL, AUTHC_ERR_NOMEM, out, &call,
                         &e))
        return e;
    const char *akey = K_ACCOUNT(&call, in->provider, in->provider_account_id);
    rd_cmd cmds[3];
    authc__rd_cmdv(&cmds[0], ar, 3,
                   "SET", akey, authc__rd_json(ar, RD_ACCOUNT, &a));
    authc__rd_cmdv(&cmds[1], ar, 3,
                   "SET", K_ACCOUNT_PTR(&call, a.user_id), akey);
    authc__rd_cmdv(&cmds[2], ar, 3,
                   "SADD", K_ACCOUNTS(&call, a.user_id), a.id);
    return authc__rd_commit(&call, cmds, 3, "link_account",
                            &authc__account_row, &a, out);
}

/* unlink_account's transaction: DEL of the account, its member of the
 * user's set and upstash's pointer when it still names it. */
typedef struct unl_account {
    const char *provider, *pai, *akey, *id;
} unl_account;

static rd_step unlink_step(rd_call *call, void *ud, rd_cmd *cmds, int *n,
                           authc_err *e)
{
    unl_account *u = ud;
    authc_account *a;
    if (authc__rd_load_account(call, u->provider, u->pai, &a))
        return RD_STEP_FAIL;
    if (!a || !a->user_id) {
        authc__rd_unwatch(call);
        /* Nothing stored (or no owner to clean up after). */
        if (a) {
            rd_cmd d;
            authc__rd_cmdv(&d, call->ar, 2, "DEL", u->akey);
            redisReply *r = authc__rd_run(call, &d, false, "unlink_account");
            if (!r)
                return RD_STEP_FAIL;
            freeReplyObject(r);
        }
        *e = AUTHC_OK;
        return RD_STEP_DONE;
    }
    const char *pkey = K_ACCOUNT_PTR(call, a->user_id);
    char *ptr = NULL;
    if (!pkey || !authc__rd_get(call, pkey, false, "unlink_account", &ptr))
        return RD_STEP_FAIL;
    authc__rd_cmdv(&cmds[(*n)++], call->ar, 2, "DEL", u->akey);
    authc__rd_cmdv(&cmds[(*n)++], call->ar, 3,
                   "SREM", K_ACCOUNTS(call, a->user_id), u->id);
    if (ptr && authc__rd_streq(authc__rd_index_value(call, ptr), u->akey))
        authc__rd_cmdv(&cmds[(*n)++], call->ar, 2, "DEL", pkey);
    return RD_STEP_EXEC;
}

authc_err authc__rd_unlink_account(authc_adapter *self, authc_arena *ar,
                                   const char *provider,
                                   const char *provider_account_id)
{
    rd_call call;
    authc_err e;
    if (!authc__rd_start(self, ar, provider && provider_account_id, AUTHC_OK,
                         NULL, &call, &e))
        return e;
    const char *akey = K_ACCOUNT(&call, provider, provider_account_id);
    const char *id = authc_arena_printf(ar, "%s:%s", provider,
                                        provider_account_id);
    if (!akey || !id) {
        authc__rd_end(&call);
        return AUTHC_OK;
    }
    unl_account u = {provider, provider_account_id, akey, id};
    e = authc__rd_retry(&call, &akey, 1, "unlink_account", unlink_step, &u);
    authc__rd_end(&call);
    return e;
}

authc_err authc__rd_get_account(authc_adapter *self, authc_arena *ar,
                                const char *provider_account_id,
                                const char *provider, authc_account **out)
{
    return authc__rd_get_row(self, ar, RD_ACCOUNT, provider,
                             provider_account_id, out);
}

/* ---- migrate / open / destroy ------------------------------------------- */

/* No schema in Redis: migrate checks that the server is reachable and new
 * enough, so a misconfiguration shows at startup. */
static authc_err rd_migrate(authc_adapter *self)
{
    authc_arena *ar = authc_arena_new();
    if (!ar)
        return AUTHC_ERR_NOMEM;
    rd_call call;
    authc_err e = authc__rd_begin(self, ar, &call);
    if (!e)
        e = authc__rd_check_server(&call);
    authc__rd_end(&call);
    authc_arena_free(ar);
    return e;
}

static void rd_destroy(authc_adapter *self)
{
    if (!self)
        return;
    authc__rd_ctx_free(self->ctx);
    free(self);
}

static const authc_adapter_ops REDIS_OPS = {
    .name = "redis",
    AUTHC__ADAPTER_METHODS(authc__rd),
    .migrate = rd_migrate,
    .destroy = rd_destroy,
};

/* Returns a heap adapter (destroy() frees it) or NULL with err set. */
authc_adapter *authc__adapter_redis_open(const char *url, authc_log_fn log,
                                         void *log_ud, char *err,
                                         size_t errlen)
{
    rd_ctx *ctx = authc__rd_ctx_new(url, err, errlen);
    if (!ctx)
        return NULL;
    authc_adapter *ad = authc__adapter_new(&REDIS_OPS, ctx, log, log_ud);
    if (!ad) {
        authc__set_err(err, errlen, "%s: out of memory", ctx->label);
        authc__rd_ctx_free(ctx);
    }
    return ad;
}
