/* adapters_int.h — private helpers shared by the database backends (memory,
 * sqlite, postgres, redis): backend constructors, model copies, logging, URLs. */
#ifndef AUTHC_ADAPTERS_INT_H
#define AUTHC_ADAPTERS_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "authc.h"
#include "authc/adapter.h"

/* ---- backend constructors (called by authc_adapter_open) -------------
 * Each returns a heap adapter whose destroy() frees everything, or NULL
 * with a message in err (naming the database, never a password). The
 * registry sets ->log/->log_ud afterwards; backends must tolerate
 * log == NULL. None of them migrates. */
authc_adapter *authc__adapter_memory_open(char *err, size_t errlen);
/* path: a file name (":memory:" allowed, but each connection of the pool
 * would see its own database, so use it only for single-thread tests). */
authc_adapter *authc__adapter_sqlite_open(const char *path, char *err,
                                          size_t errlen);
/* url: the full "postgres://…"/"postgresql://…" URL. */
authc_adapter *authc__adapter_postgres_open(const char *url, char *err,
                                            size_t errlen);
/* url: the full "redis://…" URL. */
authc_adapter *authc__adapter_redis_open(const char *url, char *err,
                                         size_t errlen);

/* ---- logging --------------------------------------------------------
 * printf into a bounded stack buffer (truncated at 1 KiB) and hand it to
 * self->log (no-op when NULL). Callers must never format a token,
 * password or secret into it. */
void authc__adapter_log(const authc_adapter *self, const char *level,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- model copies ---------------------------------------------------
 * Deep copies into `ar` (every string duplicated; NULL strings stay NULL).
 * Return NULL for a NULL input or on OOM. The result is owned by `ar`. */
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

/* Applies the fields of `patch` selected by patch->fields (0 = all four)
 * onto *dst, pointer-wise (no copying): the merge rule of update_user. */
void authc__user_merge(authc_user *dst, const authc_user *patch);

/* ---- URLs and errors -------------------------------------------------
 * Writes into out (outlen bytes, always NUL-terminated, truncated if
 * needed) a copy of url fit for logs and error messages: the password of
 * "scheme://user:password@host" and any "password=" query value are
 * replaced by "***". */
void authc__url_redact(const char *url, char *out, size_t outlen);

/* snprintf into err (when err && errlen); convenience for *_open. */
void authc__set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

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
