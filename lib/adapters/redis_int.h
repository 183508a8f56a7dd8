/* redis_int.h — what the Redis backend's files share: the instance state and
 * one call's connection (redis_conn.c), the URL (redis_url.c), the JSON codec (redis_json.c). */
#ifndef AUTHC_REDIS_INT_H
#define AUTHC_REDIS_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "adapters/adapters_int.h"
#include "adapters/redis_wire_int.h"
#include "util/pool_int.h"

#define RD_POOL_DEFAULT 4
#define RD_TIMEOUT_DEFAULT_MS 5000
#define RD_GRACE_DEFAULT_S 86400
/* Largest value we accept from the server and largest key part we build. */
#define RD_MAX_VALUE (1u << 20)
#define RD_MAX_KEYPART 4096
/* Most members of one per-user set we process (delete_user, lists). */
#define RD_MAX_MEMBERS 100000
/* WATCH conflicts tolerated before giving up. */
#define RD_TX_TRIES 8

/* ---- state --------------------------------------------------------------- */

/* The instance state (authc_adapter.ctx). */
typedef struct rd_ctx {
    authc__rd_server srv;  /* host, port, db, credentials, timeouts */
    char *prefix;        /* upstash's baseKeyPrefix, "" by default */
    int pool_size;
    int64_t grace_ms;
    char label[320];     /* "redis host:port/db" for messages */
    authc__pool *pool;   /* of redisContext */
} rd_ctx;

/* Fills ctx (host, port, db, user, pass, prefix and the tunables, whose
 * defaults the caller set) from a redis:// URL. The message in err never
 * includes the password. (redis_url.c) */
bool authc__rd_parse_url(rd_ctx *ctx, const char *url, char *err,
                         size_t errlen);

/* Makes the state for url and opens the first connection (checking the
 * server version), so a wrong address, password or server fails here.
 * Returns it (free with authc__rd_ctx_free) or NULL with err set. */
rd_ctx *authc__rd_ctx_new(const char *url, char *err, size_t errlen);
void authc__rd_ctx_free(rd_ctx *ctx);

/* ---- one method call's hold on a pooled connection ------------------------ */

typedef struct rd_call {
    authc_adapter *self;
    rd_ctx *ctx;
    redisContext *c;     /* NULL when none is held */
    authc_arena *ar;
    authc__sigpipe_guard pipe; /* SIGPIPE blocked during the call */
    bool lost;           /* c failed: replaced before the next command */
    bool watching;       /* a WATCH may be active on c */
} rd_call;

/* Takes a connection for one method call (SIGPIPE blocked until
 * authc__rd_end). On failure (logged) nothing is held and authc__rd_end
 * is a no-op; calling it again is harmless either way. */
authc_err authc__rd_begin(authc_adapter *self, authc_arena *ar,
                          rd_call *call);
void authc__rd_end(rd_call *call);
/* Checks the server version (GETDEL and SET PXAT need 6.2) and that it
 * answers; failures logged. */
authc_err authc__rd_check_server(rd_call *call);

/* ---- commands ------------------------------------------------------------- */

/* A command line being built; memory from the call's arena. The first
 * failure sticks in err (then running it fails, logged). */
typedef struct rd_cmd {
    authc_arena *ar;
    const char **argv;
    size_t *len;
    int argc, cap;
    authc_err err;
} rd_cmd;

void authc__rd_cmd_init(rd_cmd *cmd, authc_arena *ar);
/* Appends one argument (NULL s makes the command invalid). */
void authc__rd_cmd_add(rd_cmd *cmd, const char *s);
void authc__rd_cmd_addi(rd_cmd *cmd, int64_t v);
/* init, then n arguments (const char *, NULL makes it invalid). */
void authc__rd_cmdv(rd_cmd *cmd, authc_arena *ar, int n, ...);

/* Sends one command and returns its reply (caller freeReplyObject), or
 * NULL after logging. An error reply is logged and freed (NULL). With
 * retry (idempotent commands only), a connection failure reconnects and
 * sends it once more. */
redisReply *authc__rd_run(rd_call *call, const rd_cmd *cmd, bool retry,
                          const char *what);
/* Runs cmds inside MULTI/EXEC in one round trip. Returns 1 and *exec (the
 * EXEC array, caller frees; exec may be NULL when unwanted) on commit, 0
 * when a WATCHed key changed (the caller retries), -1 on failure (logged). */
int authc__rd_tx(rd_call *call, rd_cmd *cmds, int n, const char *what,
                 redisReply **exec);
/* Starts a method: out (see authc__set_row; NULL for none) = NULL, then
 * authc__rd_begin unless `need` is false (a key argument is missing, so
 * there is nothing to do). false when the method ends here: *e = `none`
 * for !need, else begin's error; the caller returns *e. */
bool authc__rd_start(authc_adapter *self, authc_arena *ar, bool need,
                     authc_err none, void *out, rd_call *call, authc_err *e);
/* Logs a method refused before reaching the server ("label: what");
 * out (see authc__set_row) = NULL. Returns AUTHC_ERR_ADAPTER. */
authc_err authc__rd_refuse(authc_adapter *self, const char *what, void *out);
/* The end of the create methods: runs cmds in one MULTI/EXEC, ends the
 * call and sets out (see authc__set_row) to a copy of the d-row `row` in
 * the call's arena. AUTHC_ERR_ADAPTER when the transaction failed. */
authc_err authc__rd_commit(rd_call *call, rd_cmd *cmds, int n,
                           const char *what, const authc__row_desc *d,
                           const void *row, void *out);
/* WATCHes keys / abandons the WATCH. */
bool authc__rd_watch(rd_call *call, const char *const *keys, int n);
void authc__rd_unwatch(rd_call *call);

/* One try of a read-modify-write (authc__rd_retry), called with the keys
 * WATCHed: reads what it needs and fills cmds[0..*n) (at most
 * RD_STEP_CMDS). RD_STEP_EXEC: run them in MULTI/EXEC; RD_STEP_DONE:
 * nothing to write, *e is the result (the step has sent UNWATCH);
 * RD_STEP_FAIL: a read failed (logged). */
#define RD_STEP_CMDS 4
typedef enum { RD_STEP_EXEC, RD_STEP_DONE, RD_STEP_FAIL } rd_step;
typedef rd_step rd_step_fn(rd_call *call, void *ud, rd_cmd *cmds, int *n,
                           authc_err *e);
/* WATCH keys, step, MULTI/EXEC; again while a watched key changed, at most
 * RD_TX_TRIES times. AUTHC_OK on commit, the step's *e when it wrote
 * nothing, AUTHC_ERR_ADAPTER on failure or too many conflicts. */
authc_err authc__rd_retry(rd_call *call, const char *const *keys, int nkeys,
                          const char *what, rd_step_fn *step, void *ud);
/* op ("GET", "GETDEL") key: *val = the value as a copy in call->ar, NULL
 * when there is none. 1 on success; 0 when the command failed; -1 when it
 * ran but the value is unusable (over RD_MAX_VALUE or not a string, both
 * logged; OOM). */
int authc__rd_fetch(rd_call *call, const char *op, const char *key,
                    bool retry, const char *what, char **val);
/* GET key: *val = arena copy or NULL when missing. false on failure. */
bool authc__rd_get(rd_call *call, const char *key, bool retry,
                   const char *what, char **val);
/* Members of a SET (SMEMBERS) or ZSET (ZRANGE 0 -1) as arena strings. */
bool authc__rd_members(rd_call *call, const char *key, bool zset, bool retry,
                       char ***out, size_t *n);
/* MGET keys: vals[i] = arena copy or NULL. */
bool authc__rd_mget(rd_call *call, char **keys, size_t n, bool retry,
                    char ***vals);

/* ---- keys ------------------------------------------------------------------ */

/* prefix + a + b [+ ":" + c] in the call's arena; NULL when a part is
 * missing or too long. */
const char *authc__rd_key3(rd_call *call, const char *a, const char *b,
                           const char *c);
#define K_USER(call, id) authc__rd_key3(call, "user:", id, NULL)
#define K_EMAIL(call, e) authc__rd_key3(call, "user:email:", e, NULL)
#define K_ACCOUNT(call, p, id) authc__rd_key3(call, "user:account:", p, id)
#define K_ACCOUNT_PTR(call, u)                                             \
    authc__rd_key3(call, "user:account:by-user-id:", u, NULL)
#define K_SESSION(call, t) authc__rd_key3(call, "user:session:", t, NULL)
#define K_SESSION_PTR(call, u)                                             \
    authc__rd_key3(call, "user:session:by-user-id:", u, NULL)
#define K_VT(call, i, t) authc__rd_key3(call, "user:token:", i, t)
#define K_AUTH(call, c) authc__rd_key3(call, "user:authenticator:", c, NULL)
#define K_ACCOUNTS(call, u)                                                \
    authc__rd_key3(call, "authc:accounts-by-user-id:", u, NULL)
#define K_SESSIONS(call, u)                                                \
    authc__rd_key3(call, "authc:sessions-by-user-id:", u, NULL)
#define K_AUTHS(call, u)                                                   \
    authc__rd_key3(call, "authc:authenticators-by-user-id:", u, NULL)

/* Absolute PXAT for a row expiring at `expires` (ms): never in the past,
 * plus the grace so core still sees (and reports) an expired row. */
int64_t authc__rd_ttl_at(const rd_ctx *ctx, int64_t expires);

/* ---- JSON codec (redis_json.c) ----------------------------------------------
 * Kinds of stored rows: authc_user, authc_account, authc_session_row,
 * authc_verification_token, authc_authenticator. */
typedef enum { RD_USER, RD_ACCOUNT, RD_SESSION, RD_VT, RD_AUTH } rd_kind;

/* The JSON.stringify byte layout of upstash-redis-adapter of a row of
 * kind; NULL on OOM or over RD_MAX_VALUE. Owned by ar. */
const char *authc__rd_json(authc_arena *ar, rd_kind kind, const void *row);

/* Reads a stored value as a row of kind: into *into when non-NULL, else
 * a new row owned by call->ar; returns it, or NULL with *e set on failure
 * (AUTHC_ERR_ADAPTER for a value that is not a JSON object, logged;
 * AUTHC_ERR_NOMEM). For RD_USER, id is used when the stored JSON has none. */
void *authc__rd_parse(rd_call *call, rd_kind kind, const char *s,
                      const char *id, void *into, authc_err *e);

/* GETs key and parses its value as a row of kind (id: the user id for
 * RD_USER, used when the stored JSON has none). Returns the row, owned by
 * call->ar, or NULL when absent (also for a NULL key: a key part too long
 * to exist) or on failure (*e says). */
void *authc__rd_load(rd_call *call, const char *key, rd_kind kind,
                     const char *id, bool retry, authc_err *e);
/* The body of the methods that read one stored row by its key: out, the
 * address of the method's row pointer (authc_user **, …), = the row of
 * kind under key parts a and b (b for accounts and verification tokens,
 * as in the K_* macros), owned by ar; NULL when absent or a part is NULL. */
authc_err authc__rd_get_row(authc_adapter *self, authc_arena *ar,
                            rd_kind kind, const char *a, const char *b,
                            void *out);
/* The "userId" member of a stored JSON value, or NULL (unparsable too). */
const char *authc__rd_json_user_id(rd_call *call, const char *s);
/* An index value as upstash wrote it is the raw string; a client that
 * JSON-encoded it wrote "\"…\"": accept both. Owned by call->ar. */
const char *authc__rd_index_value(rd_call *call, const char *v);

/* ---- methods shared between redis.c and redis_sessions.c ------------------- */

/* Both non-NULL and equal. */
static inline bool authc__rd_streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* Loads user id (*out = NULL when missing). */
authc_err authc__rd_load_user(rd_call *call, const char *id,
                              authc_user **out);
/* Loads the account of (provider, provider_account_id). */
authc_err authc__rd_load_account(rd_call *call, const char *provider,
                                 const char *pai, authc_account **out);

/* Methods of redis.c (the adapter contract's signatures). */
authc_adapter_put_user_fn authc__rd_create_user;
authc_adapter_get_user_fn authc__rd_get_user;
authc_adapter_get_user_fn authc__rd_get_user_by_email;
authc_err authc__rd_get_user_by_account(authc_adapter *self, authc_arena *ar,
                                        const char *provider,
                                        const char *provider_account_id,
                                        authc_user **out);
authc_adapter_put_user_fn authc__rd_update_user;
authc_err authc__rd_delete_user(authc_adapter *self, authc_arena *ar,
                                const char *id);
authc_adapter_put_account_fn authc__rd_link_account;
authc_err authc__rd_unlink_account(authc_adapter *self, authc_arena *ar,
                                   const char *provider,
                                   const char *provider_account_id);
authc_adapter_get_account_fn authc__rd_get_account;

/* Methods of redis_sessions.c (the adapter contract's signatures). */
authc_adapter_put_session_fn authc__rd_create_session;
authc_err authc__rd_get_session_and_user(authc_adapter *self,
                                         authc_arena *ar,
                                         const char *session_token,
                                         authc_session_row **session,
                                         authc_user **user);
authc_adapter_put_session_fn authc__rd_update_session;
authc_err authc__rd_delete_session(authc_adapter *self, authc_arena *ar,
                                   const char *session_token,
                                   authc_session_row **out);
authc_err authc__rd_create_verification_token(authc_adapter *self, authc_arena *ar,
                                              const authc_verification_token *in);
authc_err authc__rd_use_verification_token(authc_adapter *self, authc_arena *ar,
                                           const char *identifier, const char *token,
                                           authc_verification_token **out);
authc_err authc__rd_get_authenticator(authc_adapter *self, authc_arena *ar,
                                      const char *credential_id,
                                      authc_authenticator **out);
authc_err authc__rd_create_authenticator(authc_adapter *self,
                                         authc_arena *ar,
                                         const authc_authenticator *in,
                                         authc_authenticator **out);
authc_err authc__rd_list_authenticators_by_user_id(authc_adapter *self, authc_arena *ar,
                                                   const char *user_id,
                                                   authc_authenticator **out,
                                                   size_t *n);
authc_err authc__rd_update_authenticator_counter(authc_adapter *self,
                                                 authc_arena *ar,
                                                 const char *credential_id,
                                                 int64_t counter,
                                                 authc_authenticator **out);

/* Methods of redis_tokens.c (the adapter contract's signatures). */
authc_adapter_get_account_fn authc__rd_get_account_by_user;
authc_adapter_put_account_fn authc__rd_update_account_tokens;

#endif
