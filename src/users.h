/* users.h — the credentials users file of `authc serve`: one user a line,
 * `id:username:argon2id-hash:email:name`, checked with libargon2. */
#ifndef AUTHC_SRC_USERS_H
#define AUTHC_SRC_USERS_H

#include <stddef.h>

#include "authc.h"

typedef struct users_db users_db;

/* Loads and validates path. Returns a new db owned by the caller
 * (users_free) or NULL with a one-line reason in err (line number named). */
users_db *users_load(const char *path, char *err, size_t errlen);
void users_free(users_db *db);
size_t users_count(const users_db *db);

/* authc_authorize_fn for the credentials provider; ud = users_db*. Takes
 * the same time whether or not the user exists. */
authc_err users_authorize(void *ud, authc_arena *ar, const char *const *names,
                          const char *const *values, size_t n, authc_user *user,
                          const char **code);

/* Hashes password with argon2id (the parameters authc uses). Returns a
 * malloc'd encoded hash owned by the caller, or NULL. */
char *users_hash_password(const char *password);

#endif
