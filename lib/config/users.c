/* users.c — loads the users file (AUTHC_USERS_FILE) once at start-up and
 * verifies passwords with argon2id, spending the same work for unknown users. */
#include <argon2.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authc/env.h"
#include "users_int.h"

/* OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. */
#define HASH_T 2
#define HASH_M (19 * 1024)
#define HASH_P 1
#define MAX_LINE 4096
#define MAX_USERS 100000
#define MAX_PASSWORD 1024

typedef struct user_rec {
    char *id, *username, *hash, *email, *name;
} user_rec;

struct authc__users {
    user_rec *u;
    size_t n;
    char *dummy_hash; /* verified against when the user is unknown */
};

char *authc_password_hash(const char *password)
{
    unsigned char salt[16];
    if (RAND_bytes(salt, sizeof salt) != 1)
        return NULL;
    size_t plen = strlen(password);
    size_t len = argon2_encodedlen(HASH_T, HASH_M, HASH_P, sizeof salt, 32, Argon2_id);
    char *enc = malloc(len);
    if (!enc)
        return NULL;
    if (argon2id_hash_encoded(HASH_T, HASH_M, HASH_P, password, plen, salt, sizeof salt, 32,
                              enc, len) != ARGON2_OK) {
        free(enc);
        return NULL;
    }
    return enc;
}

void authc__users_free(authc__users *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->n; i++) {
        free(db->u[i].id); /* one allocation per line, id points at its start */
    }
    free(db->u);
    free(db->dummy_hash);
    free(db);
}

size_t authc__users_count(const authc__users *db)
{
    return db ? db->n : 0;
}

authc__users *authc__users_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read users file %s: %s (set AUTHC_USERS_FILE to a readable file)",
                 path, strerror(errno));
        return NULL;
    }
    authc__users *db = calloc(1, sizeof *db);
    char *line = malloc(MAX_LINE + 2);
    size_t cap = 0, lineno = 0;
    bool ok = db && line;
    while (ok && fgets(line, MAX_LINE + 2, f)) {
        lineno++;
        size_t l = strlen(line);
        if (l > MAX_LINE) {
            snprintf(err, errlen, "%s:%zu: line longer than %d bytes", path, lineno, MAX_LINE);
            ok = false;
            break;
        }
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
            line[--l] = '\0';
        if (l == 0 || line[0] == '#')
            continue;
        /* id:username:hash:email:name — the argon2 hash contains '$' but no
         * ':', and the name is last so it may contain ':'. */
        char *rec = strdup(line);
        char *f_[5] = {0};
        char *p = rec;
        for (int i = 0; p && i < 4; i++) {
            f_[i] = p;
            char *c = strchr(p, ':');
            if (c)
                *c++ = '\0';
            p = c;
        }
        f_[4] = p;
        if (!rec || !f_[4] || !*f_[0] || !*f_[1] || strncmp(f_[2], "$argon2id$", 10) != 0) {
            snprintf(err, errlen, "%s:%zu: expected id:username:argon2id-hash:email:name "
                     "(make a hash with `authc hash-password`)", path, lineno);
            free(rec);
            ok = false;
            break;
        }
        for (size_t i = 0; i < db->n; i++)
            if (!strcmp(db->u[i].username, f_[1]) || !strcmp(db->u[i].id, f_[0])) {
                snprintf(err, errlen, "%s:%zu: duplicate user id or username", path, lineno);
                free(rec);
                ok = false;
                break;
            }
        if (!ok)
            break;
        if (db->n == cap) {
            if (cap >= MAX_USERS) {
                snprintf(err, errlen, "%s: more than %d users", path, MAX_USERS);
                free(rec);
                ok = false;
                break;
            }
            cap = cap ? cap * 2 : 16;
            user_rec *nu = realloc(db->u, cap * sizeof *nu);
            if (!nu) {
                free(rec);
                ok = false;
                break;
            }
            db->u = nu;
        }
        db->u[db->n++] = (user_rec){f_[0], f_[1], f_[2], *f_[3] ? f_[3] : NULL,
                                    *f_[4] ? f_[4] : NULL};
    }
    if (ok && ferror(f)) {
        snprintf(err, errlen, "error reading %s: %s", path, strerror(errno));
        ok = false;
    }
    fclose(f);
    free(line);
    if (ok && !(db->dummy_hash = authc_password_hash("authc-timing-equaliser"))) {
        snprintf(err, errlen, "could not prepare password hashing");
        ok = false;
    }
    if (!ok) {
        if (db && !err[0])
            snprintf(err, errlen, "out of memory reading %s", path);
        authc__users_free(db);
        return NULL;
    }
    return db;
}

authc_err authc__users_authorize(void *ud, authc_arena *ar, const char *const *names,
                                 const char *const *values, size_t n, authc_user *user,
                                 const char **code)
{
    const authc__users *db = ud;
    const char *username = NULL, *password = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(names[i], "username"))
            username = values[i];
        else if (!strcmp(names[i], "password"))
            password = values[i];
    }
    (void)code;
    if (!username || !password || strlen(password) > MAX_PASSWORD || strlen(username) > 256) {
        /* Still pay for one verification so absence is not observable. */
        argon2id_verify(db->dummy_hash, "x", 1);
        return AUTHC_ERR_CREDENTIALS_SIGNIN;
    }
    const user_rec *hit = NULL;
    for (size_t i = 0; i < db->n; i++) {
        const char *u = db->u[i].username;
        size_t a = strlen(u), b = strlen(username);
        /* Compare every record the same way so the scan does not tell
         * where (or whether) the name matched. */
        if (a == b && CRYPTO_memcmp(u, username, a) == 0 && !hit)
            hit = &db->u[i];
    }
    int r = argon2id_verify(hit ? hit->hash : db->dummy_hash, password, strlen(password));
    if (!hit || r != ARGON2_OK)
        return AUTHC_ERR_CREDENTIALS_SIGNIN;
    user->id = authc_arena_strdup(ar, hit->id);
    user->name = authc_arena_strdup(ar, hit->name);
    user->email = authc_arena_strdup(ar, hit->email);
    user->image = NULL;
    user->email_verified = AUTHC_NO_TIME;
    return AUTHC_OK;
}
