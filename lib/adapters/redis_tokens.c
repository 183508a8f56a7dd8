/* redis_tokens.c — the Redis backend's account-token methods (not Auth.js:
 * access-token rotation for database sessions keeps tokens in the account). */
#include <string.h>

#include "adapters/redis_int.h"

/* Keeps *best as the account with the least providerAccountId of user at
 * provider, after loading key (a NULL key is skipped). */
static authc_err consider(rd_call *call, const char *key, const char *user_id,
                          const char *provider, authc_account **best)
{
    authc_err e = AUTHC_OK;
    authc_account *a = key ? authc__rd_load(call, key, RD_ACCOUNT, NULL, true, &e) : NULL;
    if (!e && a && authc__rd_streq(a->user_id, user_id) && authc__rd_streq(a->provider, provider) &&
        a->provider_account_id &&
        (!*best || strcmp(a->provider_account_id, (*best)->provider_account_id) < 0))
        *best = a;
    return e;
}

/* Candidates: our per-user set, then upstash's "last linked" pointer (an
 * account linked by Auth.js itself is only there). *out owned by ar. */
authc_err authc__rd_get_account_by_user(authc_adapter *self, authc_arena *ar,
                                        const char *user_id, const char *provider,
                                        authc_account **out)
{
    *out = NULL;
    if (!user_id || !provider)
        return AUTHC_OK;
    rd_call call;
    authc_err e = authc__rd_begin(self, ar, &call);
    if (e)
        return e;
    char **ids = NULL, *ptr = NULL;
    size_t n = 0, plen = strlen(provider);
    const char *pkey = K_ACCOUNT_PTR(&call, user_id);
    if (!authc__rd_members(&call, K_ACCOUNTS(&call, user_id), false, true, &ids, &n) ||
        (pkey && !authc__rd_get(&call, pkey, true, "get_account_by_user", &ptr)))
        e = AUTHC_ERR_ADAPTER;
    for (size_t i = 0; !e && i < n; i++)
        if (!strncmp(ids[i], provider, plen) && ids[i][plen] == ':')
            e = consider(&call, authc__rd_key3(&call, "user:account:", ids[i], NULL), user_id,
                         provider, out);
    if (!e && ptr)
        e = consider(&call, authc__rd_index_value(&call, ptr), user_id, provider, out);
    authc__rd_end(&call);
    return e;
}

/* Read, merge, write under WATCH (retried on a conflict). *out (may be
 * NULL) owned by ar. */
authc_err authc__rd_update_account_tokens(authc_adapter *self, authc_arena *ar,
                                          const authc_account *in, authc_account **out)
{
    if (out)
        *out = NULL;
    if (!in->provider || !in->provider_account_id)
        return AUTHC_ERR_NOT_FOUND;
    rd_call call;
    authc_err e = authc__rd_begin(self, ar, &call);
    if (e)
        return e;
    const char *akey = K_ACCOUNT(&call, in->provider, in->provider_account_id);
    e = akey ? AUTHC_ERR_ADAPTER : AUTHC_ERR_NOT_FOUND;
    for (int attempt = 0; akey && attempt < RD_TX_TRIES; attempt++) {
        authc_account *cur;
        if (!authc__rd_watch(&call, &akey, 1))
            break;
        authc_err le = authc__rd_load_account(&call, in->provider, in->provider_account_id, &cur);
        if (le || !cur) {
            authc__rd_unwatch(&call);
            e = le ? le : AUTHC_ERR_NOT_FOUND;
            break;
        }
        authc__account_tokens_merge(cur, in);
        rd_cmd set;
        authc__rd_cmdv(&set, ar, 3, "SET", akey, authc__rd_json(ar, RD_ACCOUNT, cur));
        int rc = authc__rd_tx(&call, &set, 1, "update_account_tokens", NULL);
        if (rc < 0)
            break;
        if (rc == 1) {
            e = out && !(*out = authc__copy_account(ar, cur)) ? AUTHC_ERR_NOMEM : AUTHC_OK;
            break;
        }
    }
    authc__rd_end(&call);
    return e;
}
