/* conformance.h — the adapter conformance suite (spec/adapters.md §5, C01–C22)
 * shared by every backend; each db_<backend>.c supplies a conf_db. */
#ifndef AUTHC_CONFORMANCE_H
#define AUTHC_CONFORMANCE_H

#include <stdio.h>

#include <authc.h>
#include <authc/adapter.h>

/* Direct readers that bypass the adapter (the official suite's `db`).
 * Each reader returns AUTHC_OK with *out = NULL when the row is absent;
 * results are allocated from `ar`. */
typedef struct conf_db {
    const char *name;                         /* "memory", "sqlite", ... */
    /* Opens the adapter under test and a direct reader handle for url. */
    authc_adapter *(*open)(const char *url, void **db);
    void (*close)(authc_adapter *ad, void *db);
    authc_err (*user)(void *db, authc_arena *ar, const char *id, authc_user **out);
    authc_err (*session)(void *db, authc_arena *ar, const char *token, authc_session_row **out);
    authc_err (*account)(void *db, authc_arena *ar, const char *provider, const char *provider_account_id, authc_account **out);
    authc_err (*verification_token)(void *db, authc_arena *ar, const char *identifier, const char *token, authc_verification_token **out);
    authc_err (*authenticator)(void *db, authc_arena *ar, const char *credential_id, authc_authenticator **out); /* NULL = no WebAuthn tests */
} conf_db;
/* Defines conf_db_<name> from the backend file's functions <p>_open,
 * <p>_close, <p>_user, <p>_session, <p>_account, <p>_vt and <p>_authn. */
#define CONF_DB(name, p)                                                        \
    const conf_db conf_db_##name = {#name, p##_open, p##_close, p##_user, p##_session,   \
                                    p##_account, p##_vt, p##_authn}
extern const conf_db conf_db_memory, conf_db_sqlite, conf_db_postgres, conf_db_redis;
/* Logs adapter messages to stderr as "[<ud> level] msg" (ud: the backend's name). */
static inline void conf_log(void *ud, const char *level, const char *msg)
{
    fprintf(stderr, "[%s %s] %s\n", (const char *)ud, level, msg);
}

/* Opens the adapter under test for url, logging through conf_log; NULL
 * (with the reason on stderr) when it cannot. */
static inline authc_adapter *conf_open_adapter(const char *name, const char *url)
{
    char err[512];
    authc_adapter *ad = authc_adapter_open(url, conf_log, (void *)name, err, sizeof err);
    if (!ad)
        fprintf(stderr, "%s: %s\n", name, err);
    return ad;
}

/* X08 (conformance_tokens.c): get_account_by_user / update_account_tokens.
 * false with the reason in why. */
bool conf_x08_account_tokens(authc_adapter *ad, const conf_db *db, void *h, authc_arena *ar,
                             char *why, size_t whylen);

/* Runs C01..C22 (in order, shared state, like the official runBasicTests); returns failures. */
int conf_run(const conf_db *db, const char *url);

#endif
