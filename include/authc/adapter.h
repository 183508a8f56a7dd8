/* authc/adapter.h — the Auth.js Adapter contract as a const C ops table plus
 * an instance. Backends (memory, sqlite, postgres, redis) and app wrappers implement it. */
#ifndef AUTHC_ADAPTER_H
#define AUTHC_ADAPTER_H

#include "../authc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct authc_verification_token {
    const char *identifier;
    const char *token;        /* sha256 hex of raw token + secret */
    int64_t expires;          /* ms */
} authc_verification_token;

typedef struct authc_authenticator {
    const char *credential_id;          /* standard base64 with padding */
    const char *user_id;
    const char *provider_account_id;
    const char *credential_public_key;  /* base64 of the COSE key */
    int64_t counter;
    const char *credential_device_type;
    bool credential_backed_up;
    const char *transports;             /* "usb,ble,nfc" or NULL */
} authc_authenticator;

/* The Adapter is split in two:
 * - authc_adapter_ops: the methods, one const table per kind of backend
 *   (static const, shared by every instance, never written at run time);
 * - authc_adapter: one open database: `ops` plus the instance data the
 *   methods find through `self` (`ctx`, the log sink).
 *
 * Conventions for every method:
 * - `self` is the adapter the method was called through; `self->ctx` is the
 *   backend state.
 * - Results are allocated from `ar` (strings too) and live as long as it.
 * - "Not found" is AUTHC_OK with *out = NULL (lists: n = 0).
 * - A database failure is AUTHC_ERR_ADAPTER; the backend logs the cause
 *   through self->log naming the database, never a token value.
 * - Methods are called from many threads at once; backends synchronise.
 * - A NULL method means "not supported": core then fails the feature that
 *   needs it with the Auth.js outcome and a log line naming the method.
 *
 * Writing a backend: define `static const authc_adapter_ops MY_OPS = {…}`,
 * allocate an authc_adapter with .ops = &MY_OPS and .ctx = your state, and
 * free both in MY_OPS.destroy (called by authc_adapter_close).
 *
 * Wrapping ("spread and override"): authc_adapter_wrap copies the base's
 * table into yours and the instance into yours; replace single methods,
 * which may call through `self->wrapped`:
 *     static authc_adapter_ops my_ops;   // storage for the copied table
 *     static authc_adapter mine;
 *     authc_adapter_wrap(&mine, &my_ops, base);
 *     my_ops.get_user = my_get_user;     // calls base->ops->get_user(base,…)
 * The wrapper does not own the base: close the base, not the wrapper. */
/* The signatures several methods share, named so that a backend can
 * declare its methods with them (`authc_adapter_get_user_fn my_get_user;`)
 * and the compiler checks each one against the contract. */
/* Reads one user by a key (id, email). */
typedef authc_err authc_adapter_get_user_fn(authc_adapter *self, authc_arena *ar,
                                            const char *key, authc_user **out);
/* Writes the user in; *out = the stored user. */
typedef authc_err authc_adapter_put_user_fn(authc_adapter *self, authc_arena *ar,
                                            const authc_user *in, authc_user **out);
/* Reads one account by two keys (the method says which). */
typedef authc_err authc_adapter_get_account_fn(authc_adapter *self, authc_arena *ar,
                                               const char *a, const char *b,
                                               authc_account **out);
/* Writes the account in; *out = the stored account. */
typedef authc_err authc_adapter_put_account_fn(authc_adapter *self, authc_arena *ar,
                                               const authc_account *in,
                                               authc_account **out);
/* Writes the session in; *out = the stored session. */
typedef authc_err authc_adapter_put_session_fn(authc_adapter *self, authc_arena *ar,
                                               const authc_session_row *in,
                                               authc_session_row **out);

typedef struct authc_adapter_ops {
    const char *name;       /* "memory", "sqlite", "postgres", "redis" */

    /* M1: stores the user with an id of the adapter's choosing (in->id is
     * ignored); *out = the stored user. */
    authc_adapter_put_user_fn *create_user;
    /* M2: by id */
    authc_adapter_get_user_fn *get_user;
    /* M3: by email, exact match */
    authc_adapter_get_user_fn *get_user_by_email;
    /* M4 */
    authc_err (*get_user_by_account)(authc_adapter *self, authc_arena *ar,
                                     const char *provider,
                                     const char *provider_account_id,
                                     authc_user **out);
    /* M5: in->fields says which members to change (0 = all); *out = the
     * full updated user, or AUTHC_ERR_NOT_FOUND for an unknown id. */
    authc_adapter_put_user_fn *update_user;
    /* M6: deletes the user and cascades to sessions, accounts,
     * authenticators. Unknown id is not an error. */
    authc_err (*delete_user)(authc_adapter *self, authc_arena *ar,
                             const char *id);
    /* M7 */
    authc_adapter_put_account_fn *link_account;
    /* M8 */
    authc_err (*unlink_account)(authc_adapter *self, authc_arena *ar,
                                const char *provider,
                                const char *provider_account_id);
    /* M9 */
    authc_adapter_put_session_fn *create_session;
    /* M10: both or nothing, in one round trip where the backend can. */
    authc_err (*get_session_and_user)(authc_adapter *self, authc_arena *ar,
                                      const char *session_token,
                                      authc_session_row **session,
                                      authc_user **user);
    /* M11: *out may be NULL even on success */
    authc_adapter_put_session_fn *update_session;
    /* M12: missing token is not an error; *out = deleted row or NULL
     * (out itself may be NULL). */
    authc_err (*delete_session)(authc_adapter *self, authc_arena *ar,
                                const char *session_token,
                                authc_session_row **out);
    /* M13 */
    authc_err (*create_verification_token)(authc_adapter *self,
                                           authc_arena *ar,
                                           const authc_verification_token *in);
    /* M14: deletes and returns the row matching BOTH identifier and token
     * (expired rows too); NULL identifier never matches. Atomic. */
    authc_err (*use_verification_token)(authc_adapter *self, authc_arena *ar,
                                        const char *identifier,
                                        const char *token,
                                        authc_verification_token **out);
    /* M15: a = providerAccountId, b = provider (the argument order of
     * Auth.js: id first). */
    authc_adapter_get_account_fn *get_account;
    /* M16 */
    authc_err (*get_authenticator)(authc_adapter *self, authc_arena *ar,
                                   const char *credential_id,
                                   authc_authenticator **out);
    /* M17: fails (AUTHC_ERR_ADAPTER) when it cannot store */
    authc_err (*create_authenticator)(authc_adapter *self, authc_arena *ar,
                                      const authc_authenticator *in,
                                      authc_authenticator **out);
    /* M18: *out = array of *n (n = 0 for an unknown user) */
    authc_err (*list_authenticators_by_user_id)(authc_adapter *self,
                                                authc_arena *ar,
                                                const char *user_id,
                                                authc_authenticator **out,
                                                size_t *n);
    /* M19: AUTHC_ERR_NOT_FOUND for an unknown credential */
    authc_err (*update_authenticator_counter)(authc_adapter *self,
                                              authc_arena *ar,
                                              const char *credential_id,
                                              int64_t counter,
                                              authc_authenticator **out);

    /* Not Auth.js (access-token rotation for database sessions): the
     * user's account at provider (when several, the one with the least
     * providerAccountId, on every backend); *out NULL
     * when none. a = userId, b = provider. NULL method: rotation is off
     * for database sessions. */
    authc_adapter_get_account_fn *get_account_by_user;
    /* Not Auth.js: writes the tokens of in to the account (in->provider,
     * in->provider_account_id): access_token, refresh_token and expires_at
     * always (NULL / AUTHC_NO_TIME clear them); id_token, token_type and
     * scope only when non-NULL. *out (may be NULL) = the updated account;
     * AUTHC_ERR_NOT_FOUND for an unknown account. */
    authc_adapter_put_account_fn *update_account_tokens;

    /* Not Auth.js: create or update the schema (idempotent). */
    authc_err (*migrate)(authc_adapter *self);
    /* Not Auth.js: release the instance and its state (called by
     * authc_adapter_close); NULL for instances that own nothing. */
    void (*destroy)(authc_adapter *self);
} authc_adapter_ops;

struct authc_adapter {
    const authc_adapter_ops *ops; /* methods; never NULL */
    void *ctx;              /* instance state of the backend */
    const authc_adapter *wrapped; /* for wrappers; NULL in backends */
    void *user_data;        /* free for wrappers */

    /* Log sink for backends (set by authc_adapter_open; may be NULL). */
    authc_log_fn log;
    void *log_ud;
};

/* Makes *mine a wrapper of base: *ops = *base->ops with destroy = NULL
 * (the wrapper owns nothing), *mine = *base with ops = ops and
 * wrapped = base. ops and mine are the caller's and must outlive their
 * use; change members of *ops afterwards to override methods. */
void authc_adapter_wrap(authc_adapter *mine, authc_adapter_ops *ops,
                        const authc_adapter *base);

/* Opens the backend named by url's scheme: "memory:", "sqlite:PATH",
 * "postgres://…" / "postgresql://…", "redis://…". Returns a heap adapter
 * owned by the caller (authc_adapter_close), or NULL with a message in err
 * naming the database (never its password). Does not migrate. */
authc_adapter *authc_adapter_open(const char *url, authc_log_fn log,
                                  void *log_ud, char *err, size_t errlen);
/* Calls ad->ops->destroy (NULL is a no-op). */
void authc_adapter_close(authc_adapter *ad);

#ifdef __cplusplus
}
#endif
#endif
