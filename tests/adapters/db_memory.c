/* db_memory.c — conformance harness for the "memory:" backend: the direct
 * readers peek at the backend's tables through adapters_int.h accessors. */
#include <stdio.h>

#include "adapters/adapters_int.h"
#include "conformance.h"

/* The reader handle is the adapter itself. */
static authc_adapter *mem_open(const char *url, void **db)
{
    authc_adapter *ad = conf_open_adapter("memory", url);
    *db = ad;
    return ad;
}

static void mem_close(authc_adapter *ad, void *db)
{
    (void)db;
    authc_adapter_close(ad);
}

static authc_err mem_user(void *db, authc_arena *ar, const char *id,
                          authc_user **out)
{
    return authc__memory_peek(db, ar, &authc__user_row, id, NULL, out);
}

static authc_err mem_session(void *db, authc_arena *ar, const char *token,
                             authc_session_row **out)
{
    return authc__memory_peek(db, ar, &authc__session_row, token, NULL, out);
}

static authc_err mem_account(void *db, authc_arena *ar, const char *provider,
                             const char *pai, authc_account **out)
{
    return authc__memory_peek(db, ar, &authc__account_row, provider, pai, out);
}

static authc_err mem_vt(void *db, authc_arena *ar, const char *identifier,
                        const char *token, authc_verification_token **out)
{
    return authc__memory_peek(db, ar, &authc__vt_row, identifier, token,
                              out);
}

static authc_err mem_authn(void *db, authc_arena *ar, const char *cred,
                           authc_authenticator **out)
{
    return authc__memory_peek(db, ar, &authc__authn_row, cred, NULL, out);
}

CONF_DB(memory, mem);
