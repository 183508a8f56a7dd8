/* users_int.h — the credentials users file (AUTHC_USERS_FILE): one user a
 * line, `id:username:argon2id-hash:email:name`, checked with libargon2. */
#ifndef AUTHC_CONFIG_USERS_INT_H
#define AUTHC_CONFIG_USERS_INT_H

#include <stddef.h>

#include "authc.h"

typedef struct authc__users authc__users;

/* Loads and validates path. Returns a new db owned by the caller
 * (authc__users_free) or NULL with a one-line reason in err (line named). */
authc__users *authc__users_load(const char *path, char *err, size_t errlen);
void authc__users_free(authc__users *db);
size_t authc__users_count(const authc__users *db);

/* authc_authorize_fn for the credentials provider; ud = authc__users*.
 * Takes the same time whether or not the user exists. */
authc_err authc__users_authorize(void *ud, authc_arena *ar, const char *const *names,
                                 const char *const *values, size_t n, authc_user *user,
                                 const char **code);

#endif
