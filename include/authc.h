/* authc.h — public API of libauthc, the Auth.js HTTP protocol in C.
 * Framework-agnostic: a request value in, a response value out; no sockets. */
#ifndef AUTHC_H
#define AUTHC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AUTHC_VERSION "0.1.0"

/* ------------------------------------------------------------------ */
/* Errors: the first block maps one-to-one to the Auth.js error codes a
 * user can see in `?error=`; the rest are internal and show as
 * `Configuration` on pages. */
typedef enum authc_err {
    AUTHC_OK = 0,
    AUTHC_ERR_CONFIGURATION,        /* Configuration */
    AUTHC_ERR_ACCESS_DENIED,        /* AccessDenied */
    AUTHC_ERR_VERIFICATION,         /* Verification */
    AUTHC_ERR_WEBAUTHN_VERIFICATION,/* WebAuthnVerificationError */
    AUTHC_ERR_CREDENTIALS_SIGNIN,   /* CredentialsSignin */
    AUTHC_ERR_OAUTH_CALLBACK,       /* OAuthCallbackError */
    AUTHC_ERR_OAUTH_ACCOUNT_NOT_LINKED, /* OAuthAccountNotLinked */
    AUTHC_ERR_ACCOUNT_NOT_LINKED,   /* AccountNotLinked */
    AUTHC_ERR_MISSING_CSRF,         /* MissingCSRF */
    /* Internal (logged precisely, shown as Configuration). */
    AUTHC_ERR_NOMEM,
    AUTHC_ERR_IO,
    AUTHC_ERR_TIMEOUT,
    AUTHC_ERR_LIMIT,          /* an input exceeded a hard maximum */
    AUTHC_ERR_INVALID,        /* malformed input */
    AUTHC_ERR_CRYPTO,         /* decryption / MAC / signature failure */
    AUTHC_ERR_EXPIRED,        /* token past exp (+ tolerance) */
    AUTHC_ERR_NOT_FOUND,
    AUTHC_ERR_ADAPTER,        /* database failure (AdapterError) */
    AUTHC_ERR_UNSUPPORTED,    /* adapter method missing */
    AUTHC_ERR_UNTRUSTED_HOST, /* UntrustedHost */
    AUTHC_ERR_INVALID_CHECK,  /* InvalidCheck: state/pkce/nonce/challenge */
    AUTHC_ERR_BAD_REQUEST,    /* 400 "Bad request." */
    AUTHC_ERR_INVALID_CALLBACK_URL,
    AUTHC_ERR__COUNT
} authc_err;

/* Human description of an error. Static string, never NULL. */
const char *authc_strerror(authc_err e);
/* The Auth.js public code shown in `?error=` ("Configuration" for every
 * internal error). Static string, never NULL. */
const char *authc_err_code(authc_err e);

/* ------------------------------------------------------------------ */
/* Arena: everything one request allocates. Adapter methods and callbacks
 * allocate their results from the arena they are given; it is released in
 * one call when the response is done. */
typedef struct authc_arena authc_arena;
/* Returns zeroed memory owned by the arena, or NULL when out of memory. */
void *authc_arena_alloc(authc_arena *ar, size_t n);
/* Copies of s (NULL in → NULL out) owned by the arena. */
char *authc_arena_strdup(authc_arena *ar, const char *s);
char *authc_arena_strndup(authc_arena *ar, const char *s, size_t n);
/* printf into arena memory; NULL on OOM. */
char *authc_arena_printf(authc_arena *ar, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
authc_arena *authc_arena_new(void);
void authc_arena_free(authc_arena *ar);

/* ------------------------------------------------------------------ */
/* Request / response values. */
typedef struct authc_header {
    const char *name;
    const char *value;
} authc_header;

typedef struct authc_request {
    const char *method;       /* "GET", "POST", ... */
    /* Either an absolute URL ("http://host:3000/auth/session?x=1") or a
     * path with query ("/auth/session?x=1"); with a path, the origin comes
     * from AUTH_URL, else (trusted host) X-Forwarded-Proto/Host, else Host
     * and `scheme`. */
    const char *url;
    const char *scheme;       /* "http" or "https" of the connection; NULL = http */
    const authc_header *headers;
    size_t nheaders;
    const char *body;         /* may be NULL */
    size_t body_len;
    const char *client_addr;  /* for logs and rate limits; may be NULL */
} authc_request;

typedef struct authc_response {
    int status;
    authc_header *headers;    /* several may be "Set-Cookie" */
    size_t nheaders;
    const char *body;         /* not NUL-terminated necessarily; body_len counts */
    size_t body_len;
    /* Set when the action did something worth one log line
     * (sign-in, sign-out, error); NULL otherwise. No secrets in it. */
    const char *log_line;
    const void *info;         /* private: read it with authc_response_info_get */
    authc_arena *arena;       /* owns everything above */
} authc_response;

/* Decodes an application/x-www-form-urlencoded body (or a query string)
 * as the library reads request bodies: '+' is a space, pairs that do not
 * decode (bad %-escapes, %00) are dropped. *fields (*n name/value pairs in
 * body order) and its strings are owned by ar. AUTHC_ERR_LIMIT when there
 * are more than max_fields pairs, AUTHC_ERR_NOMEM. */
authc_err authc_form_parse(authc_arena *ar, const char *body, size_t len, size_t max_fields,
                           authc_header **fields, size_t *n);

/* Frees a response and everything it points to. NULL is allowed. */
void authc_response_free(authc_response *res);
/* First header of that name (case-insensitive) or NULL; owned by res. */
const char *authc_response_header(const authc_response *res, const char *name);

/* ------------------------------------------------------------------ */
/* Models (shared with adapters: see authc/adapter.h). Times are Unix
 * milliseconds; AUTHC_NO_TIME means null/absent. */
#define AUTHC_NO_TIME INT64_MIN

typedef struct authc_user {
    const char *id;
    const char *name;          /* NULL = absent */
    const char *email;
    int64_t email_verified;    /* ms, or AUTHC_NO_TIME */
    const char *image;
    /* For update_user: which fields are set (AUTHC_USER_F_*); 0 = all. */
    unsigned fields;
} authc_user;

#define AUTHC_USER_F_NAME           1u
#define AUTHC_USER_F_EMAIL          2u
#define AUTHC_USER_F_EMAIL_VERIFIED 4u
#define AUTHC_USER_F_IMAGE          8u

typedef struct authc_account {
    const char *id;            /* adapter-specific, may be NULL */
    const char *user_id;
    const char *type;          /* "oauth" | "oidc" | "email" | "webauthn" */
    const char *provider;
    const char *provider_account_id;
    const char *refresh_token;
    const char *access_token;
    int64_t expires_at;        /* SECONDS since epoch, or AUTHC_NO_TIME */
    const char *token_type;
    const char *scope;
    const char *id_token;
    const char *session_state;
} authc_account;

typedef struct authc_session_row {
    const char *id;            /* adapter-specific, may be NULL */
    const char *session_token;
    const char *user_id;
    int64_t expires;           /* ms */
} authc_session_row;

/* ------------------------------------------------------------------ */
/* Configuration: build, then freeze into an authc instance. */
typedef struct authc_config authc_config;
typedef struct authc authc;
typedef struct authc_adapter authc_adapter;

/* Credentials check supplied by the app. `fields` are the posted form
 * fields (names[i] = values[i]). Fill *user (strings from `ar`) and return
 * AUTHC_OK, return AUTHC_ERR_CREDENTIALS_SIGNIN for a refusal (optionally
 * setting *code to a short code for `&code=`), any other error for a
 * failure (shown as Configuration). */
typedef authc_err (*authc_authorize_fn)(void *ud, authc_arena *ar,
                                        const char *const *names,
                                        const char *const *values, size_t n,
                                        authc_user *user, const char **code);

typedef struct authc_credentials_field {
    const char *name;   /* form field name, e.g. "username" */
    const char *label;  /* NULL = name */
    const char *type;   /* input type; NULL = "text" */
} authc_credentials_field;

typedef struct authc_credentials_provider {
    const char *id;     /* default "credentials" */
    const char *name;   /* default "Credentials" */
    const authc_credentials_field *fields;
    size_t nfields;
    authc_authorize_fn authorize;
    void *ud;
} authc_credentials_provider;

/* Callbacks (all optional). They run on server threads concurrently, so
 * they must be thread-safe. */
typedef struct authc_callbacks {
    /* Return AUTHC_OK to allow, AUTHC_ERR_ACCESS_DENIED to refuse; may set
     * *redirect (arena string) to send the user elsewhere. */
    authc_err (*sign_in)(void *ud, authc_arena *ar, const authc_user *user,
                         const authc_account *account, const char **redirect);
    /* Optional: called instead of sign_in at the email provider's link
     * *request* step (Auth.js calls signIn there with
     * email.verificationRequest = true); sign_in still runs when the link
     * is used. NULL = sign_in at both steps, as in Auth.js. */
    authc_err (*sign_in_email_request)(void *ud, authc_arena *ar, const authc_user *user,
                                       const authc_account *account, const char **redirect);
    /* Log/event hook: name is "signIn", "signOut", "createUser",
     * "linkAccount", "session", "updateUser". user may be NULL. */
    void (*event)(void *ud, const char *name, const authc_user *user,
                  const char *provider);
    void *ud;
} authc_callbacks;

/* Log sink: level is "error", "warn", "info" or "debug". Messages never
 * contain secrets or tokens. */
typedef void (*authc_log_fn)(void *ud, const char *level, const char *msg);

/* Returns a new empty config owned by the caller (authc_config_free, or
 * pass it to authc_new which consumes it). */
authc_config *authc_config_new(void);
void authc_config_free(authc_config *cfg);

/* Sets one named option from a string, as the env/config file gives it.
 * Keys: "secret" (adds one secret; the first added encrypts), "url"
 * (AUTH_URL), "trust_host", "base_path", "session.strategy" (jwt|database),
 * "session.max_age", "session.update_age", "use_secure_cookies",
 * "pages.signIn", "pages.signOut", "pages.error", "pages.verifyRequest",
 * "pages.newUser", "theme.colorScheme", "theme.brandColor", "theme.logo",
 * "theme.buttonText", "lang" (en | zh-CN | auto), "cookie.domain",
 * "store" (shared store URL: memory:, sqlite:PATH, postgres://, redis://;
 * default memory:), "store.migrate" (create its table at authc_new),
 * "trusted_proxies" (addresses/networks whose X-Forwarded-* headers count;
 * default 127.0.0.0/8,::1/128), "forward.rules" (forward-auth rules file,
 * read at authc_new), "forward.pass_access_token" (bool),
 * "redirect.allowed_hosts" (host globs a callbackUrl may also name).
 * Copies value. Returns AUTHC_ERR_INVALID with a message in err. */
authc_err authc_config_set(authc_config *cfg, const char *key,
                           const char *value, char *err, size_t errlen);
/* Adds a credentials provider (copied). */
authc_err authc_config_add_credentials(authc_config *cfg,
                                       const authc_credentials_provider *p);
/* Uses this adapter (not owned; must outlive the authc instance). */
void authc_config_set_adapter(authc_config *cfg, authc_adapter *ad);
void authc_config_set_callbacks(authc_config *cfg, const authc_callbacks *cb);
void authc_config_set_logger(authc_config *cfg, authc_log_fn fn, void *ud);

/* Process-wide set-up of what every instance shares: libcurl
 * (curl_global_init), OpenSSL, and the algorithms and per-thread context
 * keys fetched once. Idempotent and thread-safe, and authc_new calls it, so
 * calling it is optional; a program that wants start-up failures early, or
 * that calls authc_global_cleanup, calls it first thing in main(). Returns
 * AUTHC_OK, AUTHC_ERR_IO (libcurl) or AUTHC_ERR_CRYPTO (OpenSSL). */
authc_err authc_global_init(void);
/* Frees what authc_global_init made; a later authc_global_init sets it up
 * again. Call it once at the end, after authc_free of every instance and
 * after every other thread that used libauthc has exited (their per-thread
 * contexts are freed when they exit; the calling thread's are freed here).
 * OpenSSL itself is left to free itself at exit: it cannot be set up twice. */
void authc_global_cleanup(void);

/* Creates or updates the shared store's table at url (sqlite:/postgres://;
 * nothing to do for memory: and redis://), idempotently: `authc migrate`.
 * On failure err says why (password redacted). */
authc_err authc_store_migrate_url(const char *url, char *err, size_t errlen);

/* Validates cfg (consumed, even on failure) and derives all keys once.
 * Returns the immutable instance (free with authc_free) or NULL with every
 * problem written to err, one per line. */
authc *authc_new(authc_config *cfg, char *err, size_t errlen);
void authc_free(authc *a);

/* The base path the instance answers under, e.g. "/auth". Owned by a. */
const char *authc_base_path(const authc *a);

/* Answers any request under the base path. *out is always set (even on
 * error, to the response to send) and owned by the caller
 * (authc_response_free). Returns AUTHC_OK or AUTHC_ERR_NOMEM. */
authc_err authc_handle(const authc *a, const authc_request *req,
                       authc_response **out);

/* True when the request's path is under the base path. */
bool authc_handles_path(const authc *a, const char *path);

/* Where a server should run a request (from the route table): inline on
 * its event loop, or on a worker pool because answering may wait. */
typedef enum authc_pool {
    AUTHC_POOL_INLINE = 0, /* cheap: answer on the event loop */
    AUTHC_POOL_NET,        /* may wait on an OAuth provider or SMTP */
    AUTHC_POOL_DB,         /* may wait on the database or the shared store */
    AUTHC_POOL_CPU,        /* CPU-heavy (argon2 password checks) */
} authc_pool;

/* The pool a request needs; AUTHC_POOL_INLINE for paths outside the base
 * path. path may carry a query. */
authc_pool authc_route_pool(const authc *a, const char *method, const char *path);

/* How many worker threads a server should run for a pool (0 for
 * AUTHC_POOL_INLINE): NET 16 (providers and SMTP mostly wait), CPU 2
 * (argon2), DB 4, or 32 when sessions live in PostgreSQL: its concurrent
 * session lookups share one statement, so more waiting callers make
 * larger batches; SQLite works in-process, where more threads contend. */
size_t authc_pool_threads(const authc *a, authc_pool kind);

/* True when answering this request may wait on the network (an OAuth
 * provider, SMTP, or the database): authc_route_pool() != INLINE. */
bool authc_may_block(const authc *a, const char *method, const char *path);

/* What an answer was about, for a server's logs and metrics. Every string
 * is bounded (a route name, a configured provider id, an Auth.js error
 * type) and never a secret; owned by the response; NULL when unknown. */
typedef struct authc_response_info {
    const char *action;   /* route name ("session", "callback", ...) */
    const char *provider; /* a configured provider's id */
    const char *user_id;  /* the user signed in or out, when known */
    const char *event;    /* "signin", "signout" or NULL */
    const char *result;   /* with event: "success" or the Auth.js error type; else the sign-out kind */
    const char *client_ip;/* the client after trusted proxies */
} authc_response_info;
/* Fills *out for res (all NULL for an out-of-memory answer). */
void authc_response_info_get(const authc_response *res, authc_response_info *out);

/* Readiness: true when the database adapter (if any) and the shared store
 * answer within timeout_ms. Otherwise false with the failing check's name
 * ("database" or "store") in why (whylen bytes). A check still running at
 * the deadline finishes on its own thread, so a is not freed under it:
 * call authc_free only after the last caller of this returned plus the
 * adapter's own timeouts (a server stops probing at shutdown). */
bool authc_ready(const authc *a, unsigned timeout_ms, char *why, size_t whylen);

/* ------------------------------------------------------------------ */
/* Server-side helpers for an app's own pages (the seed's auth(),
 * signIn() and signOut()). */
typedef struct authc_session {
    authc_user user;          /* id is the JWT `sub` / the DB user id */
    int64_t expires;          /* ms */
    authc_arena *arena;       /* owns everything */
} authc_session;

/* Reads the session of an incoming request. *out = NULL when there is no
 * valid session. Caller frees with authc_session_free. Read-only: it never
 * sets cookies (use authc_handle for /session to refresh them). */
authc_err authc_auth(const authc *a, const authc_request *req,
                     authc_session **out);
void authc_session_free(authc_session *s);

/* Server-side sign-in, as next-auth's signIn(provider, {redirectTo, ...}):
 * returns the redirect response (with cookies) Auth.js would give.
 * `fields` are extra form fields (e.g. credentials); may be NULL. CSRF is
 * not checked (the app's own endpoint is trusted, as in next-auth). */
authc_err authc_sign_in(const authc *a, const authc_request *req,
                        const char *provider, const char *redirect_to,
                        const char *const *names, const char *const *values,
                        size_t n, authc_response **out);
/* Server-side sign-out: clears the session, redirect to redirect_to
 * (NULL = the request origin). */
authc_err authc_sign_out(const authc *a, const authc_request *req,
                         const char *redirect_to, authc_response **out);

/* Sign out everywhere: revokes every session of user_id signed in until
 * now, on every instance sharing the store (JWT sessions die at their next
 * read; database rows are deleted when next read). A later sign-in works.
 * Nothing is returned to free. AUTHC_ERR_ADAPTER when the store failed. */
authc_err authc_revoke_user(const authc *a, const char *user_id);
/* A provider's access token for a request's session, refreshed first when
 * due (AUTHC_REFRESH_TOKENS), as GET <base>/token?provider=ID answers. */
typedef struct authc_access_token {
    int status;                /* 200, 401 or 404 */
    const char *error;         /* NULL, "SessionRequired", "AccountNotLinked", "RefreshTokenError" */
    const char *access_token;  /* NULL unless status 200 */
    int64_t expires_at;        /* Unix seconds; 0 when unknown */
    /* The whole answer: when the tokens were refreshed its Set-Cookie
     * headers carry the new session cookie; send them to the browser. */
    authc_response *response;
} authc_access_token;

/* Works without AUTHC_TOKEN_ENDPOINT. *out (never NULL on AUTHC_OK) and
 * everything it points to are owned by the caller: authc_access_token_free. */
authc_err authc_access_token_get(const authc *a, const authc_request *req, const char *provider,
                                 authc_access_token **out);
void authc_access_token_free(authc_access_token *t);

/* Random secret for AUTH_SECRET (base64, 32 bytes). Caller frees. */
char *authc_secret_generate(void);

#ifdef __cplusplus
}
#endif
#endif
