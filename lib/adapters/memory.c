/* memory.c — the "memory:" adapter: every Auth.js model in process memory,
 * deep-copied, behind one mutex. For tests, demos and single-process use. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/memory_int.h"
#include "util/util_int.h"

/* Mirrors the constraints of the Drizzle SQL layout so that code tested
 * against memory: behaves the same on SQLite: unique user e-mail (NULLs
 * allowed), primary keys (provider, providerAccountId), sessionToken,
 * (identifier, token), unique credentialID, and foreign keys to user with
 * ON DELETE CASCADE. A violation is AUTHC_ERR_ADAPTER with a log line. */

/* ---- backend state --------------------------------------------------------- */

typedef struct mem {
    pthread_mutex_t mu;
    authc__mt users;     /* id → authc_user */
    authc__mt emails;    /* email → authc_user (same object as in users) */
    authc__mt accounts;  /* key2(provider, pai) → authc_account */
    authc__mt sessions;  /* token → authc_session_row */
    authc__mt vts;       /* key2(identifier, token) → verification token */
    authc__mt authns;    /* credential_id → authc_authenticator */
} mem;

#define LOCK(m) pthread_mutex_lock(&(m)->mu)
#define UNLOCK(m) pthread_mutex_unlock(&(m)->mu)

static mem *M(authc_adapter *self) { return self->ctx; }

static authc_err nomem(authc_adapter *self, const char *op)
{
    authc__adapter_log(self, "error", "memory: %s: out of memory", op);
    return AUTHC_ERR_NOMEM;
}

static authc_err violation(authc_adapter *self, const char *op,
                           const char *what)
{
    authc__adapter_log(self, "error", "memory: %s: %s", op, what);
    return AUTHC_ERR_ADAPTER;
}


typedef enum { P_USER, P_EMAIL, P_SESSION, P_ACCOUNT, P_VT, P_AUTHN } kind;

/* Copies into ar the stored row of kind k under key a (or key2(a, b) when
 * b is given); NULL when absent (also for a NULL a) or on failure: then
 * *e is AUTHC_ERR_NOMEM (and *e is AUTHC_OK otherwise). */
static void *find(mem *m, authc_arena *ar, kind k, const char *a,
                  const char *b, authc_err *e)
{
    *e = AUTHC_OK;
    if (!a)
        return NULL;
    char *k2 = b ? authc__mt_key2(a, b) : NULL;
    if (b && !k2) {
        *e = AUTHC_ERR_NOMEM;
        return NULL;
    }
    const char *key = b ? k2 : a;
    void *row, *copy = NULL;
    LOCK(m);
    switch (k) {
    case P_USER:
    case P_EMAIL:
        if ((row = authc__mt_get(k == P_USER ? &m->users : &m->emails, key)))
            copy = authc__copy_user(ar, row);
        break;
    case P_SESSION:
        if ((row = authc__mt_get(&m->sessions, key)))
            copy = authc__copy_session(ar, row);
        break;
    case P_ACCOUNT:
        if ((row = authc__mt_get(&m->accounts, key)))
            copy = authc__copy_account(ar, row);
        break;
    case P_VT:
        if ((row = authc__mt_get(&m->vts, key)))
            copy = authc__copy_vt(ar, row);
        break;
    default:
        if ((row = authc__mt_get(&m->authns, key)))
            copy = authc__copy_authenticator(ar, row);
        break;
    }
    UNLOCK(m);
    free(k2);
    if (row && !copy)
        *e = AUTHC_ERR_NOMEM;
    return copy;
}

/* find() for a method: an OOM is logged naming op. */
static void *find_for(authc_adapter *self, authc_arena *ar, const char *op,
                      kind k, const char *a, const char *b, authc_err *e)
{
    void *row = find(M(self), ar, k, a, b, e);
    if (*e)
        nomem(self, op);
    return row;
}

/* ---- users ------------------------------------------------------------------ */

/* M1: *out owned by ar. */
static authc_err m_create_user(authc_adapter *self, authc_arena *ar,
                               const authc_user *in, authc_user **out)
{
    *out = NULL;
    char id[37];
    if (authc__uuid(id) != AUTHC_OK)
        return violation(self, "create_user", "no randomness for the id");
    authc_user tmp = *in;
    tmp.id = id;
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    if (in->email && authc__mt_get(&m->emails, in->email)) {
        e = violation(self, "create_user", "UNIQUE constraint failed: user.email");
        goto done;
    }
    authc_user *u = authc__mem_user_heap(&tmp);
    if (!u || !authc__mt_put(&m->users, u->id, u)) {
        authc__row_free(&authc__user_row, u);
        e = nomem(self, "create_user");
        goto done;
    }
    if (u->email && !authc__mt_put(&m->emails, u->email, u)) {
        authc__row_free(&authc__user_row, authc__mt_del(&m->users, u->id));
        e = nomem(self, "create_user");
        goto done;
    }
    if (!(*out = authc__copy_user(ar, u)))
        e = nomem(self, "create_user");
done:
    UNLOCK(m);
    return e;
}

/* M2: *out owned by ar. */
static authc_err m_get_user(authc_adapter *self, authc_arena *ar,
                            const char *id, authc_user **out)
{
    authc_err e;
    *out = find_for(self, ar, "get_user", P_USER, id, NULL, &e);
    return e;
}

/* M3: *out owned by ar. */
static authc_err m_get_user_by_email(authc_adapter *self, authc_arena *ar,
                                     const char *email, authc_user **out)
{
    authc_err e;
    *out = find_for(self, ar, "get_user_by_email", P_EMAIL, email, NULL, &e);
    return e;
}

/* M4: *out owned by ar. */
static authc_err m_get_user_by_account(authc_adapter *self, authc_arena *ar,
                                       const char *provider, const char *pai,
                                       authc_user **out)
{
    *out = NULL;
    if (!provider || !pai)
        return AUTHC_OK;
    char *k = authc__mt_key2(provider, pai);
    if (!k)
        return nomem(self, "get_user_by_account");
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    authc_account *a = authc__mt_get(&m->accounts, k);
    authc_user *u = a ? authc__mt_get(&m->users, a->user_id) : NULL;
    if (u && !(*out = authc__copy_user(ar, u)))
        e = nomem(self, "get_user_by_account");
    UNLOCK(m);
    free(k);
    return e;
}

/* M5: *out owned by ar; AUTHC_ERR_NOT_FOUND for an unknown id. */
static authc_err m_update_user(authc_adapter *self, authc_arena *ar,
                               const authc_user *in, authc_user **out)
{
    *out = NULL;
    if (!in->id)
        return AUTHC_ERR_NOT_FOUND;
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    authc_user *cur = authc__mt_get(&m->users, in->id);
    if (!cur) {
        e = AUTHC_ERR_NOT_FOUND;
        goto done;
    }
    authc_user merged = *cur;
    authc__user_merge(&merged, in);
    merged.fields = 0;
    if (merged.email && (!cur->email || strcmp(merged.email, cur->email)) &&
        authc__mt_get(&m->emails, merged.email)) {
        e = violation(self, "update_user", "UNIQUE constraint failed: user.email");
        goto done;
    }
    authc_user *nu = authc__mem_user_heap(&merged);
    if (!nu) {
        e = nomem(self, "update_user");
        goto done;
    }
    /* Swap the new row in for the old one in both indexes. Reserve the
     * index slots first so a failed insert leaves the old state intact. */
    if (cur->email)
        authc__mt_del(&m->emails, cur->email);
    if (nu->email && !authc__mt_put(&m->emails, nu->email, nu)) {
        if (cur->email)
            authc__mt_put(&m->emails, cur->email, cur); /* best effort restore */
        authc__row_free(&authc__user_row, nu);
        e = nomem(self, "update_user");
        goto done;
    }
    authc__mt_replace(&m->users, in->id, nu);
    authc__row_free(&authc__user_row, cur);
    if (!(*out = authc__copy_user(ar, nu)))
        e = nomem(self, "update_user");
done:
    UNLOCK(m);
    return e;
}

/* M6: cascades to sessions, accounts and authenticators. */
static authc_err m_delete_user(authc_adapter *self, authc_arena *ar,
                               const char *id)
{
    (void)ar;
    if (!id)
        return AUTHC_OK;
    mem *m = M(self);
    LOCK(m);
    authc_user *u = authc__mt_del(&m->users, id);
    if (u) {
        if (u->email)
            authc__mt_del(&m->emails, u->email);
        authc__mt_cascade(&m->sessions, id, &authc__session_row);
        authc__mt_cascade(&m->accounts, id, &authc__account_row);
        authc__mt_cascade(&m->authns, id, &authc__authn_row);
        authc__row_free(&authc__user_row, u);
    }
    UNLOCK(m);
    return AUTHC_OK;
}

/* ---- accounts ------------------------------------------------------------------ */

/* M7: *out (may be NULL) owned by ar. */
static authc_err m_link_account(authc_adapter *self, authc_arena *ar,
                                const authc_account *in, authc_account **out)
{
    if (out)
        *out = NULL;
    if (!in->user_id || !in->type || !in->provider || !in->provider_account_id)
        return violation(self, "link_account", "NOT NULL constraint failed");
    char *k = authc__mt_key2(in->provider, in->provider_account_id);
    if (!k)
        return nomem(self, "link_account");
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    if (!authc__mt_get(&m->users, in->user_id)) {
        e = violation(self, "link_account", "FOREIGN KEY constraint failed");
        goto done;
    }
    if (authc__mt_get(&m->accounts, k)) {
        e = violation(self, "link_account",
                      "UNIQUE constraint failed: account.provider, "
                      "account.providerAccountId");
        goto done;
    }
    authc_account *a = authc__mem_account_heap(in);
    if (!a || !authc__mt_put(&m->accounts, k, a)) {
        authc__row_free(&authc__account_row, a);
        e = nomem(self, "link_account");
        goto done;
    }
    if (out && !(*out = authc__copy_account(ar, a)))
        e = nomem(self, "link_account");
done:
    UNLOCK(m);
    free(k);
    return e;
}

/* M8 */
static authc_err m_unlink_account(authc_adapter *self, authc_arena *ar,
                                  const char *provider, const char *pai)
{
    (void)ar;
    if (!provider || !pai)
        return AUTHC_OK;
    char *k = authc__mt_key2(provider, pai);
    if (!k)
        return nomem(self, "unlink_account");
    mem *m = M(self);
    LOCK(m);
    authc__row_free(&authc__account_row, authc__mt_del(&m->accounts, k));
    UNLOCK(m);
    free(k);
    return AUTHC_OK;
}

/* M15: argument order as Auth.js (id first). *out owned by ar. */
static authc_err m_get_account(authc_adapter *self, authc_arena *ar,
                               const char *pai, const char *provider,
                               authc_account **out)
{
    authc_err e = AUTHC_OK;
    *out = pai ? find_for(self, ar, "get_account", P_ACCOUNT, provider, pai, &e)
               : NULL;
    return e;
}

/* ---- sessions ------------------------------------------------------------------ */

/* M9: *out owned by ar. */
static authc_err m_create_session(authc_adapter *self, authc_arena *ar,
                                  const authc_session_row *in,
                                  authc_session_row **out)
{
    if (out)
        *out = NULL;
    if (!in->session_token || !in->user_id || in->expires == AUTHC_NO_TIME)
        return violation(self, "create_session", "NOT NULL constraint failed");
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    if (!authc__mt_get(&m->users, in->user_id)) {
        e = violation(self, "create_session", "FOREIGN KEY constraint failed");
        goto done;
    }
    if (authc__mt_get(&m->sessions, in->session_token)) {
        e = violation(self, "create_session",
                      "UNIQUE constraint failed: session.sessionToken");
        goto done;
    }
    authc_session_row *s = authc__mem_session_heap(in);
    if (!s || !authc__mt_put(&m->sessions, s->session_token, s)) {
        authc__row_free(&authc__session_row, s);
        e = nomem(self, "create_session");
        goto done;
    }
    if (out && !(*out = authc__copy_session(ar, s)))
        e = nomem(self, "create_session");
done:
    UNLOCK(m);
    return e;
}

/* M10: both owned by ar; both NULL unless session and user exist. */
static authc_err m_get_session_and_user(authc_adapter *self, authc_arena *ar,
                                        const char *token,
                                        authc_session_row **session,
                                        authc_user **user)
{
    *session = NULL;
    *user = NULL;
    if (!token)
        return AUTHC_OK;
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    authc_session_row *s = authc__mt_get(&m->sessions, token);
    authc_user *u = s ? authc__mt_get(&m->users, s->user_id) : NULL;
    if (s && u) {
        *session = authc__copy_session(ar, s);
        *user = authc__copy_user(ar, u);
        if (!*session || !*user) {
            *session = NULL;
            *user = NULL;
            e = nomem(self, "get_session_and_user");
        }
    }
    UNLOCK(m);
    return e;
}

/* M11: changes expires (unless AUTHC_NO_TIME) and user_id (unless NULL);
 * *out = the updated row (owned by ar) or NULL when the token is unknown. */
static authc_err m_update_session(authc_adapter *self, authc_arena *ar,
                                  const authc_session_row *in,
                                  authc_session_row **out)
{
    if (out)
        *out = NULL;
    if (!in->session_token)
        return AUTHC_OK;
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    authc_session_row *s = authc__mt_get(&m->sessions, in->session_token);
    if (!s)
        goto done;
    if (in->user_id && strcmp(in->user_id, s->user_id) != 0) {
        if (!authc__mt_get(&m->users, in->user_id)) {
            e = violation(self, "update_session", "FOREIGN KEY constraint failed");
            goto done;
        }
        char *uid = strdup(in->user_id);
        if (!uid) {
            e = nomem(self, "update_session");
            goto done;
        }
        free((void *)s->user_id);
        s->user_id = uid;
    }
    if (in->expires != AUTHC_NO_TIME)
        s->expires = in->expires;
    if (out && !(*out = authc__copy_session(ar, s)))
        e = nomem(self, "update_session");
done:
    UNLOCK(m);
    return e;
}

/* M12: *out (when out != NULL) = the deleted row owned by ar, or NULL. */
static authc_err m_delete_session(authc_adapter *self, authc_arena *ar,
                                  const char *token, authc_session_row **out)
{
    if (out)
        *out = NULL;
    if (!token)
        return AUTHC_OK;
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    authc_session_row *s = authc__mt_del(&m->sessions, token);
    UNLOCK(m);
    if (s && out && !(*out = authc__copy_session(ar, s)))
        e = nomem(self, "delete_session");
    authc__row_free(&authc__session_row, s);
    return e;
}

/* ---- verification tokens ------------------------------------------------------- */

/* M13 */
static authc_err m_create_vt(authc_adapter *self, authc_arena *ar,
                             const authc_verification_token *in)
{
    (void)ar;
    if (!in->identifier || !in->token || in->expires == AUTHC_NO_TIME)
        return violation(self, "create_verification_token",
                         "NOT NULL constraint failed");
    char *k = authc__mt_key2(in->identifier, in->token);
    if (!k)
        return nomem(self, "create_verification_token");
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    if (authc__mt_get(&m->vts, k)) {
        e = violation(self, "create_verification_token",
                      "UNIQUE constraint failed: verificationToken.identifier, "
                      "verificationToken.token");
        goto done;
    }
    authc_verification_token *v = authc__mem_vt_heap(in);
    if (!v || !authc__mt_put(&m->vts, k, v)) {
        authc__row_free(&authc__vt_row, v);
        e = nomem(self, "create_verification_token");
    }
done:
    UNLOCK(m);
    free(k);
    return e;
}

/* M14: atomic under the mutex. *out = the deleted row (owned by ar). */
static authc_err m_use_vt(authc_adapter *self, authc_arena *ar,
                          const char *identifier, const char *token,
                          authc_verification_token **out)
{
    *out = NULL;
    if (!identifier || !token)
        return AUTHC_OK;
    char *k = authc__mt_key2(identifier, token);
    if (!k)
        return nomem(self, "use_verification_token");
    mem *m = M(self);
    LOCK(m);
    authc_verification_token *v = authc__mt_del(&m->vts, k);
    UNLOCK(m);
    free(k);
    authc_err e = AUTHC_OK;
    if (v && !(*out = authc__copy_vt(ar, v)))
        e = nomem(self, "use_verification_token");
    authc__row_free(&authc__vt_row, v);
    return e;
}

/* ---- authenticators --------------------------------------------------------------- */

/* M16: *out owned by ar. */
static authc_err m_get_authenticator(authc_adapter *self, authc_arena *ar,
                                     const char *cred, authc_authenticator **out)
{
    authc_err e;
    *out = find_for(self, ar, "get_authenticator", P_AUTHN, cred, NULL, &e);
    return e;
}

/* M17: *out owned by ar. */
static authc_err m_create_authenticator(authc_adapter *self, authc_arena *ar,
                                        const authc_authenticator *in,
                                        authc_authenticator **out)
{
    if (out)
        *out = NULL;
    if (!in->credential_id || !in->user_id || !in->provider_account_id ||
        !in->credential_public_key || !in->credential_device_type)
        return violation(self, "create_authenticator",
                         "NOT NULL constraint failed");
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    if (!authc__mt_get(&m->users, in->user_id)) {
        e = violation(self, "create_authenticator",
                      "FOREIGN KEY constraint failed");
        goto done;
    }
    if (authc__mt_get(&m->authns, in->credential_id)) {
        e = violation(self, "create_authenticator",
                      "UNIQUE constraint failed: authenticator.credentialID");
        goto done;
    }
    authc_authenticator *a = authc__mem_authn_heap(in);
    if (!a || !authc__mt_put(&m->authns, a->credential_id, a)) {
        authc__row_free(&authc__authn_row, a);
        e = nomem(self, "create_authenticator");
        goto done;
    }
    if (out && !(*out = authc__copy_authenticator(ar, a)))
        e = nomem(self, "create_authenticator");
done:
    UNLOCK(m);
    return e;
}

/* M18: *out = array of *n owned by ar (NULL when n = 0). */
static authc_err m_list_authenticators(authc_adapter *self, authc_arena *ar,
                                       const char *uid,
                                       authc_authenticator **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!uid)
        return AUTHC_OK;
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    size_t cnt = 0;
    for (size_t i = 0; i < m->authns.nb; i++)
        for (authc__mt_node *x = m->authns.b[i]; x; x = x->next)
            if (strcmp(((authc_authenticator *)x->row)->user_id, uid) == 0)
                cnt++;
    if (cnt) {
        authc_authenticator *arr = authc_arena_alloc(ar, cnt * sizeof *arr);
        size_t k = 0;
        if (!arr) {
            e = nomem(self, "list_authenticators_by_user_id");
            goto done;
        }
        for (size_t i = 0; i < m->authns.nb && e == AUTHC_OK; i++)
            for (authc__mt_node *x = m->authns.b[i]; x && e == AUTHC_OK; x = x->next) {
                authc_authenticator *a = x->row;
                if (strcmp(a->user_id, uid) != 0)
                    continue;
                if (authc__copy_authenticator_into(ar, &arr[k++], a))
                    e = nomem(self, "list_authenticators_by_user_id");
            }
        if (e == AUTHC_OK) {
            *out = arr;
            *n = cnt;
        }
    }
done:
    UNLOCK(m);
    return e;
}

/* M19: AUTHC_ERR_NOT_FOUND for an unknown credential; *out owned by ar. */
static authc_err m_update_authenticator_counter(authc_adapter *self,
                                                authc_arena *ar,
                                                const char *cred,
                                                int64_t counter,
                                                authc_authenticator **out)
{
    mem *m = M(self);
    authc_err e = AUTHC_ERR_NOT_FOUND;
    if (out)
        *out = NULL;
    LOCK(m);
    authc_authenticator *a = cred ? authc__mt_get(&m->authns, cred) : NULL;
    if (a) {
        e = AUTHC_OK;
        a->counter = counter;
        if (out && !(*out = authc__copy_authenticator(ar, a)))
            e = nomem(self, "update_authenticator_counter");
    }
    UNLOCK(m);
    return e;
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static authc_err m_migrate(authc_adapter *self)
{
    (void)self;
    return AUTHC_OK; /* nothing to create */
}


static void m_destroy(authc_adapter *self)
{
    if (!self)
        return;
    mem *m = self->ctx;
    if (m) {
        authc__mt_clear(&m->emails, NULL); /* rows belong to users */
        authc__mt_clear(&m->users, &authc__user_row);
        authc__mt_clear(&m->accounts, &authc__account_row);
        authc__mt_clear(&m->sessions, &authc__session_row);
        authc__mt_clear(&m->vts, &authc__vt_row);
        authc__mt_clear(&m->authns, &authc__authn_row);
        pthread_mutex_destroy(&m->mu);
        free(m);
    }
    free(self);
}

static const authc_adapter_ops MEMORY_OPS = {
    .name = "memory",
    .create_user = m_create_user,
    .get_user = m_get_user,
    .get_user_by_email = m_get_user_by_email,
    .get_user_by_account = m_get_user_by_account,
    .update_user = m_update_user,
    .delete_user = m_delete_user,
    .link_account = m_link_account,
    .unlink_account = m_unlink_account,
    .create_session = m_create_session,
    .get_session_and_user = m_get_session_and_user,
    .update_session = m_update_session,
    .delete_session = m_delete_session,
    .create_verification_token = m_create_vt,
    .use_verification_token = m_use_vt,
    .get_account = m_get_account,
    .get_authenticator = m_get_authenticator,
    .create_authenticator = m_create_authenticator,
    .list_authenticators_by_user_id = m_list_authenticators,
    .update_authenticator_counter = m_update_authenticator_counter,
    .migrate = m_migrate,
    .destroy = m_destroy,
};

/* Returns a heap adapter owned by the caller (authc_adapter_close). */
authc_adapter *authc__adapter_memory_open(const char *url, authc_log_fn log,
                                          void *log_ud, char *err,
                                          size_t errlen)
{
    (void)url; /* "memory:" has nothing to configure */
    mem *m = calloc(1, sizeof *m);
    if (!m || pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        authc__set_err(err, errlen, "memory: out of memory");
        return NULL;
    }
    authc_adapter *ad = authc__adapter_new(&MEMORY_OPS, m, log, log_ud);
    if (!ad) {
        pthread_mutex_destroy(&m->mu);
        free(m);
        authc__set_err(err, errlen, "memory: out of memory");
        return NULL;
    }
    return ad;
}

/* ---- direct readers for the conformance suite ------------------------------------------ */

/* The adapter must be the memory backend itself (not a wrapper). */
static mem *peek_ctx(authc_adapter *ad)
{
    return ad && ad->ops == &MEMORY_OPS ? ad->ctx : NULL;
}

authc_err authc__memory_peek_user(authc_adapter *ad, authc_arena *ar,
                                  const char *id, authc_user **out)
{
    authc_err e = AUTHC_ERR_INVALID;
    mem *m = peek_ctx(ad);
    *out = m ? find(m, ar, P_USER, id, NULL, &e) : NULL;
    return e;
}

authc_err authc__memory_peek_session(authc_adapter *ad, authc_arena *ar,
                                     const char *token, authc_session_row **out)
{
    authc_err e = AUTHC_ERR_INVALID;
    mem *m = peek_ctx(ad);
    *out = m ? find(m, ar, P_SESSION, token, NULL, &e) : NULL;
    return e;
}

authc_err authc__memory_peek_account(authc_adapter *ad, authc_arena *ar,
                                     const char *provider, const char *pai,
                                     authc_account **out)
{
    authc_err e = AUTHC_ERR_INVALID;
    mem *m = peek_ctx(ad);
    *out = m ? find(m, ar, P_ACCOUNT, provider, pai, &e) : NULL;
    return e;
}

authc_err authc__memory_peek_vt(authc_adapter *ad, authc_arena *ar,
                                const char *identifier, const char *token,
                                authc_verification_token **out)
{
    authc_err e = AUTHC_ERR_INVALID;
    mem *m = peek_ctx(ad);
    *out = m ? find(m, ar, P_VT, identifier, token, &e) : NULL;
    return e;
}

authc_err authc__memory_peek_authenticator(authc_adapter *ad, authc_arena *ar,
                                           const char *credential_id,
                                           authc_authenticator **out)
{
    authc_err e = AUTHC_ERR_INVALID;
    mem *m = peek_ctx(ad);
    *out = m ? find(m, ar, P_AUTHN, credential_id, NULL, &e) : NULL;
    return e;
}
