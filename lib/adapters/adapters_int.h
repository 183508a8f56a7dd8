/* adapters_int.h — private helpers shared by the database backends (memory,
 * sqlite, postgres, redis): constructors, model copies, logging, URLs, secrets. */
#ifndef AUTHC_ADAPTERS_INT_H
#define AUTHC_ADAPTERS_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* The Auth.js methods (M1-M19) and the two token methods of a built-in
 * backend whose functions are named <P>_<method>, as designated
 * initializers of authc_adapter_ops. One list for the four backends: one
 * that lacks a method does not compile, instead of leaving NULL in its
 * table. The backend adds .name, .migrate and .destroy. */
#define AUTHC__ADAPTER_METHODS(P)                                          \
    .create_user = P##_create_user,                                        \
    .get_user = P##_get_user,                                              \
    .get_user_by_email = P##_get_user_by_email,                            \
    .get_user_by_account = P##_get_user_by_account,                        \
    .update_user = P##_update_user,                                        \
    .delete_user = P##_delete_user,                                        \
    .link_account = P##_link_account,                                      \
    .unlink_account = P##_unlink_account,                                  \
    .create_session = P##_create_session,                                  \
    .get_session_and_user = P##_get_session_and_user,                      \
    .update_session = P##_update_session,                                  \
    .delete_session = P##_delete_session,                                  \
    .create_verification_token = P##_create_verification_token,            \
    .use_verification_token = P##_use_verification_token,                  \
    .get_account = P##_get_account,                                        \
    .get_authenticator = P##_get_authenticator,                            \
    .create_authenticator = P##_create_authenticator,                      \
    .list_authenticators_by_user_id = P##_list_authenticators_by_user_id,  \
    .update_authenticator_counter = P##_update_authenticator_counter,      \
    .get_account_by_user = P##_get_account_by_user,                        \
    .update_account_tokens = P##_update_account_tokens

/* How many callers at once the backend under ad (through wrappers) serves
 * best, for a server sizing its database workers; 0 = no preference.
 * Only PostgreSQL has one: concurrent session lookups share a statement
 * (postgres_batch.c), so a batch needs that many callers (postgres.c). */
unsigned authc__adapter_callers(const authc_adapter *ad);

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

/* ---- row descriptors ---------------------------------------------------
 * One table per model of its members in struct order: the name Auth.js
 * gives the column / JSON key, where it is and what it holds. Copies,
 * frees and the backends' row readers and writers walk these tables
 * instead of naming every member each time. */
typedef enum authc__fkind {
    AUTHC__F_STR,      /* const char *; NULL = null */
    AUTHC__F_STR_OPT,  /* const char *; NULL = absent (JS undefined) */
    AUTHC__F_TIME,     /* int64 ms; AUTHC_NO_TIME = null */
    AUTHC__F_SECS,     /* int64 s (expires_at); AUTHC_NO_TIME = absent */
    AUTHC__F_INT,      /* int64; 0 when absent (counter) */
    AUTHC__F_BOOL,     /* bool */
} authc__fkind;

typedef struct authc__field {
    const char *name;
    size_t off;
    authc__fkind kind;
} authc__field;

typedef struct authc__row_desc {
    const char *what;       /* row kind for log lines */
    size_t size;            /* sizeof the struct */
    const authc__field *f;
    size_t n;
} authc__row_desc;

extern const authc__row_desc authc__user_row;     /* authc_user */
extern const authc__row_desc authc__account_row;  /* authc_account */
extern const authc__row_desc authc__session_row;  /* authc_session_row */
extern const authc__row_desc authc__vt_row;       /* ..._verification_token */
extern const authc__row_desc authc__authn_row;    /* authc_authenticator */

/* ---- model copies ---------------------------------------------------
 * Deep copies (every string duplicated; NULL strings stay NULL) through an
 * allocator: `alloc` returns zeroed memory or NULL (the authc__copy_*
 * below use the arena; the memory backend keeps rows on the heap with its
 * own). On OOM with a heap allocator, what was allocated before the
 * failure is the caller's to free. */
typedef struct authc__alloc {
    void *(*alloc)(void *ud, size_t n);
    void *ud;
} authc__alloc;

/* A copy of the d-row in, allocated through al; NULL for NULL in or OOM. */
void *authc__row_dup(const authc__row_desc *d, const authc__alloc *al,
                     const void *in);
/* The same into an existing struct dst (array element); false on OOM. */
bool authc__row_dup_into(const authc__row_desc *d, const authc__alloc *al,
                         void *dst, const void *in);
/* Frees a heap d-row (malloc'd struct and strings); NULL is a no-op. */
void authc__row_free(const authc__row_desc *d, void *row);

/* Stores row through out: the address of a method's row pointer
 * (authc_user **, …; every object pointer has the representation of
 * void *), or NULL when the caller wants no row. */
static inline void authc__set_row(void *out, void *row)
{
    if (out)
        memcpy(out, &row, sizeof row);
}

/* Copies into `ar`; results owned by `ar`. */
void *authc__copy_row(authc_arena *ar, const authc__row_desc *d,
                      const void *in);
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

/* ---- reading rows ------------------------------------------------------
 * How a backend reads one member of its current row (a result column or
 * a JSON member; col counts from the row's first column, f names it). */
typedef struct authc__row_src {
    /* *out = a copy owned by the reader's arena, NULL for null; false on
     * failure (OOM, over a limit). */
    bool (*str)(void *ud, int col, const authc__field *f, const char **out);
    /* TIME and SECS: AUTHC_NO_TIME for null; INT: 0; BOOL: 0 or 1. */
    int64_t (*num)(void *ud, int col, const authc__field *f);
    void *ud;
} authc__row_src;

/* Where a backend's row holds a model row: d's members cols[0..n)
 * (indices into d->f) in column order. `then`, when set, is a second row
 * (a join) in the columns after these: the result is an authc__row_pair. */
typedef struct authc__row_layout {
    const authc__row_desc *d;
    const unsigned char *cols;
    size_t n;
    const struct authc__row_layout *then;
} authc__row_layout;

#define AUTHC__LAYOUT(desc, then, ...)                                        \
    {desc, (const unsigned char[]){__VA_ARGS__},                              \
     sizeof((const unsigned char[]){__VA_ARGS__}), then}

typedef struct authc__row_pair {
    void *first, *second;
} authc__row_pair;

/* Reads the row of layout l starting at column col0 of src: into *into
 * when non-NULL (a layout without `then`), else into a new row owned by
 * ar. Members not in the layout are zero (or left alone in *into).
 * Returns the row, NULL on OOM or when a string could not be read. */
void *authc__layout_read(authc_arena *ar, const authc__row_layout *l, int col0,
                         const authc__row_src *src, void *into);

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
/* The instants an ISO string with a four-digit year can hold
 * (0000-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z): a stored epoch-ms
 * date outside them would be written back as "+0YYYYY-…" and not read again. */
#define AUTHC__ISO_MIN_MS (-62167219200000LL)
#define AUTHC__ISO_MAX_MS 253402300799999LL

/* ---- memory backend test accessor ----------------------------------
 * Reads a row the memory backend stores, bypassing the adapter methods
 * (the conformance suite's `db` readers): of model d (authc__user_row, …)
 * under key a (provider, identifier) and b (providerAccountId, token; NULL
 * for the models with a one-part key). out is the address of a row pointer
 * (authc_user **, …): a copy in ar, or NULL when absent. AUTHC_ERR_INVALID
 * when ad is not from authc__adapter_memory_open or d is no stored model. */
authc_err authc__memory_peek(authc_adapter *ad, authc_arena *ar,
                             const authc__row_desc *d, const char *a,
                             const char *b, void *out);

#endif
