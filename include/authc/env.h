/* authc/env.h — configuration from settings: the process environment and a
 * dotenv-style NAME=value file, read the same way by `authc serve` and apps. */
#ifndef AUTHC_ENV_H
#define AUTHC_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "../authc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* A settings source: the environment first, then NAME=value lines loaded
 * from files (later files and later lines win among themselves). A program
 * reads its own settings (a listen address, say) through the same handle. */
typedef struct authc_settings authc_settings;

/* Returns a new source holding no file yet (only the environment), owned by
 * the caller (authc_settings_free), or NULL when out of memory. */
authc_settings *authc_settings_new(void);

/* Reads a dotenv-style file into s: `NAME=value` lines, `#` comments, blank
 * lines, an optional `export ` prefix and one pair of surrounding quotes.
 * Returns AUTHC_OK, or AUTHC_ERR_IO / AUTHC_ERR_INVALID / AUTHC_ERR_LIMIT
 * with one line in err naming the file and line; s keeps what it read. */
authc_err authc_settings_load_file(authc_settings *s, const char *path, char *err, size_t errlen);

/* The value of a setting: the environment first, then the files; NULL when
 * unset. Owned by the environment or by s (valid until authc_settings_free
 * or a change of the environment). s may be NULL (environment only). */
const char *authc_settings_get(const authc_settings *s, const char *name);
/* The shared store's URL: AUTHC_STORE, else AUTHC_DATABASE without the
 * query options the store reads itself (timeouts, pool size), else NULL
 * (memory: is then used). malloc'd; the caller frees. */
char *authc_settings_store_url(const authc_settings *s);

void authc_settings_free(authc_settings *s);

/* A program's listen address into *ss and *len (the length bind() takes):
 * "HOST:PORT" with an IPv4 address or localhost (127.0.0.1), or
 * "[IPv6]:PORT" (e.g. [::1]:3000, [::]:3000); port 0-65535. Returns true,
 * or false with one line in err naming what is wrong. */
struct sockaddr_storage;
bool authc_parse_listen_addr(const char *listen, struct sockaddr_storage *ss, unsigned *len, char *err,
                             size_t errlen);
/* The same for programs that take IPv4 only (e.g. AUTHC_APP_LISTEN in the
 * example app): an IPv6 address is refused with a clear error. */
struct sockaddr_in;
bool authc_parse_listen(const char *listen, struct sockaddr_in *sa, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Building a config from settings. Every setting of the README's tables is
 * read: secrets, AUTH_URL / AUTH_TRUST_HOST, session, pages, theme, cookies,
 * AUTHC_USERS_FILE (credentials users, argon2id), AUTHC_DATABASE (adapter),
 * OAuth/OIDC providers (AUTH_<ID>_*), email (AUTHC_EMAIL*), passkeys
 * (AUTHC_PASSKEY*). */

/* What a config built from settings borrows: the database adapter opened
 * from AUTHC_DATABASE, the users file, and the settings it was read from.
 * Owned by the caller; free it with authc_resources_free only after
 * authc_free of the instance using it. */
typedef struct authc_resources authc_resources;

typedef struct authc_env_options {
    /* Overrides AUTHC_BASE_PATH (e.g. a --base-path flag); NULL = setting. */
    const char *base_path;
    /* Create or update the database schema (as `authc migrate`). */
    bool migrate;
    /* Log sink set on the config, also used for AUTHC_EMAIL=log links and
     * start-up notes; NULL = authc_log_stderr. */
    authc_log_fn log;
    void *log_ud;
} authc_env_options;

/* Builds a config from s (opts may be NULL: defaults). On success returns
 * the config (owned by the caller: add your own callbacks or providers,
 * then authc_new) and sets *res (owned by the caller, see above; it
 * borrows s, which must outlive it). On any problem returns NULL, *res =
 * NULL, and writes every problem to err, one per line, each naming the
 * setting and what to set. */
authc_config *authc_config_from_settings(const authc_settings *s, const authc_env_options *opts,
                                         authc_resources **res, char *err, size_t errlen);

/* The same from the environment plus, when file is not NULL, that
 * NAME=value file (the environment wins). Ownership as above; *res owns
 * the settings it read (authc_resources_settings). */
authc_config *authc_config_from_env(const char *file, const authc_env_options *opts,
                                    authc_resources **res, char *err, size_t errlen);

/* The adapter opened from AUTHC_DATABASE, or NULL when none is set. Owned
 * by res (closed by authc_resources_free). */
authc_adapter *authc_resources_adapter(const authc_resources *res);
/* The settings the config was read from, for the program's own settings
 * (authc_settings_get). Owned by res or, after
 * authc_config_from_settings, by that call's caller. */
const authc_settings *authc_resources_settings(const authc_resources *res);
/* How many users the AUTHC_USERS_FILE holds (0 without one). */
size_t authc_resources_users(const authc_resources *res);
/* Closes the adapter and frees the users. NULL is allowed. */
void authc_resources_free(authc_resources *res);

/* ------------------------------------------------------------------ */
/* The default log sink: one line on stderr, "<UTC time> <level> <msg>". */
void authc_log_stderr(void *ud, const char *level, const char *msg);

/* Hashes a password with argon2id (the parameters the users file expects,
 * as `authc hash-password`). Returns a malloc'd encoded hash owned by the
 * caller, or NULL on failure. */
char *authc_password_hash(const char *password);

#ifdef __cplusplus
}
#endif
#endif
