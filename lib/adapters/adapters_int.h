/* adapters_int.h — private helpers shared by the database backends (memory,
 * sqlite, postgres, redis): constructors, model copies, logging, URLs, secrets. */
#ifndef AUTHC_ADAPTERS_INT_H
#define AUTHC_ADAPTERS_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "authc.h"
#include "authc/adapter.h"

/* ---- backend constructors (picked by registry.c) ---------------------
 * Each takes the whole database URL and the log sink (stored in the
 * adapter before anything can log; may be NULL) and returns a heap adapter
 * whose ops->destroy frees everything, or NULL with a message in err
 * (naming the database, never a password). None of them migrates. */
typedef authc_adapter *authc__backend_open_fn(const char *url,
                                              authc_log_fn log, void *log_ud,
                                              char *err, size_t errlen);
authc__backend_open_fn authc__adapter_memory_open;
/* "sqlite:PATH", "sqlite://PATH", "file:PATH". ":memory:" is allowed, but
 * each pooled connection would see its own database, so the pool is one
 * connection then (single-thread tests only). */
authc__backend_open_fn authc__adapter_sqlite_open;
/* "postgres://…" / "postgresql://…" */
authc__backend_open_fn authc__adapter_postgres_open;
/* "redis://…" */
authc__backend_open_fn authc__adapter_redis_open;

/* A zeroed heap adapter with ops, ctx and the log sink set; the caller
 * owns it (free() it in ops->destroy). NULL on OOM. */
authc_adapter *authc__adapter_new(const authc_adapter_ops *ops, void *ctx,
                                  authc_log_fn log, void *log_ud);

/* ---- logging --------------------------------------------------------
 * printf into a bounded stack buffer (truncated at 1 KiB) and hand it to
 * self->log (no-op when NULL). Callers must never format a token,
 * password or secret into it. */
void authc__adapter_log(const authc_adapter *self, const char *level,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- model copies ---------------------------------------------------
 * Deep copies (every string duplicated; NULL strings stay NULL) through an
 * allocator: `alloc` returns zeroed memory or NULL. The arena one is
 * authc__arena_alloc_of(ar); the memory backend keeps rows on the heap
 * with its own. Return NULL for a NULL input or on OOM (with a heap
 * allocator, what was allocated before the failure is the caller's to
 * free with the matching *_free of memory.c, as for any row). */
typedef struct authc__alloc {
    void *(*alloc)(void *ud, size_t n);
    void *ud;
} authc__alloc;

authc_user *authc__user_dup(const authc__alloc *al, const authc_user *in);
authc_account *authc__account_dup(const authc__alloc *al,
                                  const authc_account *in);
authc_session_row *authc__session_dup(const authc__alloc *al,
                                      const authc_session_row *in);
authc_verification_token *authc__vt_dup(const authc__alloc *al,
                                        const authc_verification_token *in);
/* Into an existing struct (array element); false on OOM. */
bool authc__authenticator_dup_into(const authc__alloc *al,
                                   authc_authenticator *dst,
                                   const authc_authenticator *in);
authc_authenticator *authc__authenticator_dup(const authc__alloc *al,
                                              const authc_authenticator *in);

/* The same into `ar`; results owned by `ar`. */
authc_user *authc__copy_user(authc_arena *ar, const authc_user *in);
authc_account *authc__copy_account(authc_arena *ar, const authc_account *in);
authc_session_row *authc__copy_session(authc_arena *ar,
                                       const authc_session_row *in);
authc_verification_token *authc__copy_vt(authc_arena *ar,
                                         const authc_verification_token *in);
/* Copies into an existing struct *dst (array element); AUTHC_ERR_NOMEM on
 * failure. Strings owned by `ar`. */
authc_err authc__copy_authenticator_into(authc_arena *ar,
                                         authc_authenticator *dst,
                                         const authc_authenticator *in);
authc_authenticator *authc__copy_authenticator(authc_arena *ar,
                                               const authc_authenticator *in);

/* The AUTHC_USER_F_* members update_user changes: patch->fields, or all
 * four when 0. */
unsigned authc__user_fields(const authc_user *patch);

/* Applies the fields of `patch` selected by patch->fields (0 = all four)
 * onto *dst, pointer-wise (no copying): the merge rule of update_user. */
void authc__user_merge(authc_user *dst, const authc_user *patch);

/* The merge rule of update_account_tokens (account_tokens.c): the token
 * members of patch onto *dst, pointer-wise. */
void authc__account_tokens_merge(authc_account *dst, const authc_account *patch);

/* ---- URLs and errors -------------------------------------------------
 * Writes into out (outlen bytes, always NUL-terminated, truncated if
 * needed) a copy of url fit for logs and error messages: the password of
 * "scheme://user:password@host" and any "password=" query value are
 * replaced by "***". */
void authc__url_redact(const char *url, char *out, size_t outlen);

/* Replaces, in msg (msglen bytes, NUL-terminated), every occurrence of
 * the secrets of url with "***": the userinfo password (as written and
 * percent-decoded) and any "password=" query value. For messages of
 * libraries (libpq, hiredis) that may quote a piece of the URL. */
void authc__scrub_url_secrets(char *msg, size_t msglen, const char *url);

/* snprintf into err (when err && errlen); convenience for *_open. */
void authc__set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- URL query parameters ---------------------------------------------
 * One "key=value" of a query string; raw/rawlen is the whole pair. */
typedef struct authc__qparam {
    const char *key, *val, *raw;
    size_t klen, vlen, rawlen;
} authc__qparam;

/* Reads the next non-empty pair of "k=v&k2=v2" at *p (stops at NUL or
 * '#') and advances *p; false at the end. Nothing is decoded. */
bool authc__query_next(const char **p, authc__qparam *out);
/* True when the pair's key is exactly key. */
bool authc__qparam_is(const authc__qparam *q, const char *key);

/* ---- sockets -----------------------------------------------------------
 * True when an idle connection's socket fd has nothing to read. Database
 * protocols never speak unasked, so readable means closed or a FATAL
 * message (server restart, idle timeout): the connection is not reused. */
bool authc__fd_idle(int fd);

/* ---- dates ----------------------------------------------------------
 * Parses an ISO-8601 UTC timestamp as JS toISOString writes it
 * ("YYYY-MM-DDTHH:MM:SS[.fff]Z", also accepts a "+00:00" suffix and a
 * space instead of 'T'), into epoch ms. AUTHC_ERR_INVALID on bad input. */
authc_err authc__iso8601_parse(const char *s, int64_t *ms);

/* ---- memory backend test accessors ----------------------------------
 * Read the memory backend's stored rows directly, bypassing the adapter
 * methods (the conformance suite's `db` readers). ad must come from
 * authc__adapter_memory_open. Copies in `ar`; *out = NULL when absent. */
authc_err authc__memory_peek_user(authc_adapter *ad, authc_arena *ar,
                                  const char *id, authc_user **out);
authc_err authc__memory_peek_session(authc_adapter *ad, authc_arena *ar,
                                     const char *token,
                                     authc_session_row **out);
authc_err authc__memory_peek_account(authc_adapter *ad, authc_arena *ar,
                                     const char *provider,
                                     const char *provider_account_id,
                                     authc_account **out);
authc_err authc__memory_peek_vt(authc_adapter *ad, authc_arena *ar,
                                const char *identifier, const char *token,
                                authc_verification_token **out);
authc_err authc__memory_peek_authenticator(authc_adapter *ad, authc_arena *ar,
                                           const char *credential_id,
                                           authc_authenticator **out);

#endif
