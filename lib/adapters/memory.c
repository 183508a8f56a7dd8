/* memory.c — the "memory:" adapter: every Auth.js model in process memory,
 * deep-copied, behind one mutex. For tests, demos and single-process use. */
#include <pthread.h>
#include <stddef.h>
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

/* A refused write, logged; out (see authc__set_row) = NULL. */
static authc_err violation(authc_adapter *self, const char *op,
                           const char *what, void *out)
{
    authc__set_row(out, NULL);
    authc__adapter_log(self, "error", "memory: %s: %s", op, what);
    return AUTHC_ERR_ADAPTER;
}


typedef enum { P_USER, P_EMAIL, P_SESSION, P_ACCOUNT, P_VT, P_AUTHN } kind;

/* Where each kind of row is stored and what its key enforces. */
static const struct {
    size_t table;              /* offsetof(mem, …) */
    const authc__row_desc *d;
    bool two_part;             /* keyed by key2(a, b) */
    const char *unique;        /* the constraint the key stands for */
} KINDS[] = {
    [P_USER] = {offsetof(mem, users), &authc__user_row, false,
                "UNIQUE constraint failed: user.id"},
    [P_EMAIL] = {offsetof(mem, emails), &authc__user_row, false,
                 "UNIQUE constraint failed: user.email"},
    [P_SESSION] = {offsetof(mem, sessions), &authc__session_row, false,
                   "UNIQUE constraint failed: session.sessionToken"},
    [P_ACCOUNT] = {offsetof(mem, accounts), &authc__account_row, true,
                   "UNIQUE constraint failed: account.provider, "
                   "account.providerAccountId"},
    [P_VT] = {offsetof(mem, vts), &authc__vt_row, true,
              "UNIQUE constraint failed: verificationToken.identifier, "
              "verificationToken.token"},
    [P_AUTHN] = {offsetof(mem, authns), &authc__authn_row, false,
                 "UNIQUE constraint failed: authenticator.credentialID"},
};

static authc__mt *table(mem *m, kind k)
{
    return (authc__mt *)((char *)m + KINDS[k].table);
}

/* *key = the table key of a kind-k row: a, or key2(a, b) for a two-part
 * key (then also in *heap, which the caller frees; else *heap = NULL);
 * *key = NULL when a part is missing. AUTHC_ERR_NOMEM on OOM. */
static authc_err key_of(kind k, const char *a, const char *b,
                        const char **key, char **heap)
{
    *key = NULL;
    *heap = NULL;
    if (!a || (KINDS[k].two_part && !b))
        return AUTHC_OK;
    if (!KINDS[k].two_part) {
        *key = a;
        return AUTHC_OK;
    }
    *key = *heap = authc__mt_key2(a, b);
    return *heap ? AUTHC_OK : AUTHC_ERR_NOMEM;
}

/* Copies into ar the stored row of kind k under key a (or key2(a, b));
 * NULL when absent (also for a missing part) or on failure: then *e is
 * AUTHC_ERR_NOMEM (and *e is AUTHC_OK otherwise). */
static void *find(mem *m, authc_arena *ar, kind k, const char *a,
                  const char *b, authc_err *e)
{
    const char *key;
    char *k2;
    if ((*e = key_of(k, a, b, &key, &k2)) || !key)
        return NULL;
    LOCK(m);
    void *row = authc__mt_get(table(m, k), key);
    void *copy = row ? authc__copy_row(ar, KINDS[k].d, row) : NULL;
    UNLOCK(m);
    free(k2);
    if (row && !copy)
        *e = AUTHC_ERR_NOMEM;
    return copy;
}

/* find() for a method: out is the address of its row pointer (see
 * authc__set_row); an OOM is logged naming op. */
static authc_err find_for(authc_adapter *self, authc_arena *ar,
                          const char *op, kind k, const char *a,
                          const char *b, void *out)
{
    authc_err e;
    authc__set_row(out, find(M(self), ar, k, a, b, &e));
    return e ? nomem(self, op) : AUTHC_OK;
}

/* The update methods: locks m and returns the stored kind-k row under the
 * one-part key (NULL when absent or key is NULL), to change in place. The
 * caller unlocks. */
static void *lock_row(mem *m, kind k, const char *key)
{
    LOCK(m);
    return key ? authc__mt_get(table(m, k), key) : NULL;
}

/* The create methods: stores the heap row `row` (taken over: freed when
 * refused; NULL = OOM) as a kind-k row under key a (or key2(a, b)), and
 * under `email` in the e-mail index when non-NULL. Refused, logged as op,
 * when `owner` is non-NULL and names no user, or a key is taken. out
 * (see authc__set_row) = an arena copy of the stored row, else NULL. */
static authc_err insert(authc_adapter *self, authc_arena *ar, const char *op,
                        kind k, const char *a, const char *b,
                        const char *owner, const char *email, void *row,
                        void *out)
{
    authc__set_row(out, NULL);
    const char *key;
    char *k2 = NULL;
    if (!row || key_of(k, a, b, &key, &k2)) {
        authc__row_free(KINDS[k].d, row);
        return nomem(self, op);
    }
    mem *m = M(self);
    authc__mt *t = table(m, k);
    authc_err e = AUTHC_OK;
    LOCK(m);
    if (owner && !authc__mt_get(&m->users, owner))
        e = violation(self, op, "FOREIGN KEY constraint failed", NULL);
    else if (authc__mt_get(t, key))
        e = violation(self, op, KINDS[k].unique, NULL);
    else if (email && authc__mt_get(&m->emails, email))
        e = violation(self, op, KINDS[P_EMAIL].unique, NULL);
    else if (!authc__mt_put(t, key, row))
        e = nomem(self, op);
    else if (email && !authc__mt_put(&m->emails, email, row)) {
        authc__mt_del(t, key);
        e = nomem(self, op);
    }
    void *copy = NULL;
    if (e)
        authc__row_free(KINDS[k].d, row);
    else if (out && !(copy = authc__copy_row(ar, KINDS[k].d, row)))
        e = nomem(self, op);
    UNLOCK(m);
    authc__set_row(out, copy);
    free(k2);
    return e;
}

/* The delete methods: removes (and frees) the kind-k row under key a (or
 * key2(a, b)); out (see authc__set_row) = an arena copy of it, NULL when
 * there was none (also for a missing part). */
static authc_err take(authc_adapter *self, authc_arena *ar, const char *op,
                      kind k, const char *a, const char *b, void *out)
{
    authc__set_row(out, NULL);
    const char *key;
    char *k2;
    if (key_of(k, a, b, &key, &k2))
        return nomem(self, op);
    if (!key)
        return AUTHC_OK;
    mem *m = M(self);
    LOCK(m);
    void *row = authc__mt_del(table(m, k), key);
    UNLOCK(m);
    free(k2);
    void *copy = row && out ? authc__copy_row(ar, KINDS[k].d, row) : NULL;
    authc__set_row(out, copy);
    authc__row_free(KINDS[k].d, row);
    return row && out && !copy ? nomem(self, op) : AUTHC_OK;
}

/* ---- users ------------------------------------------------------------------ */

/* M1: *out owned by ar. */
static authc_err m_create_user(authc_adapter *self, authc_arena *ar,
                               const authc_user *in, authc_user **out)
{
    char id[37];
    if (authc__uuid(id) != AUTHC_OK)
        return violation(self, "create_user", "no randomness for the id",
                         out);
    authc_user tmp = *in;
    tmp.id = id;
    return insert(self, ar, "create_user", P_USER, id, NULL, NULL, in->email,
                  authc__mem_user_heap(&tmp), out);
}

/* M2: *out owned by ar. */
static authc_err m_get_user(authc_adapter *self, authc_arena *ar,
                            const char *id, authc_user **out)
{
    return find_for(self, ar, "get_user", P_USER, id, NULL, out);
}

/* M3: *out owned by ar. */
static authc_err m_get_user_by_email(authc_adapter *self, authc_arena *ar,
                                     const char *email, authc_user **out)
{
    return find_for(self, ar, "get_user_by_email", P_EMAIL, email, NULL, out);
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
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    authc_user *cur = lock_row(m, P_USER, in->id);
    if (!cur) {
        e = AUTHC_ERR_NOT_FOUND;
        goto done;
    }
    authc_user merged = *cur;
    authc__user_merge(&merged, in);
    merged.fields = 0;
    if (merged.email && (!cur->email || strcmp(merged.email, cur->email)) &&
        authc__mt_get(&m->emails, merged.email)) {
        e = violation(self, "update_user", KINDS[P_EMAIL].unique, NULL);
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
    if (!in->user_id || !in->type || !in->provider || !in->provider_account_id)
        return violation(self, "link_account", "NOT NULL constraint failed",
                         out);
    return insert(self, ar, "link_account", P_ACCOUNT, in->provider,
                  in->provider_account_id, in->user_id, NULL,
                  authc__mem_account_heap(in), out);
}

/* M8 */
static authc_err m_unlink_account(authc_adapter *self, authc_arena *ar,
                                  const char *provider, const char *pai)
{
    return take(self, ar, "unlink_account", P_ACCOUNT, provider, pai, NULL);
}

/* M15: argument order as Auth.js (id first). *out owned by ar. */
static authc_err m_get_account(authc_adapter *self, authc_arena *ar,
                               const char *pai, const char *provider,
                               authc_account **out)
{
    return find_for(self, ar, "get_account", P_ACCOUNT, provider, pai, out);
}

/* ---- sessions ------------------------------------------------------------------ */

/* M9: *out owned by ar. */
static authc_err m_create_session(authc_adapter *self, authc_arena *ar,
                                  const authc_session_row *in,
                                  authc_session_row **out)
{
    if (!in->session_token || !in->user_id || in->expires == AUTHC_NO_TIME)
        return violation(self, "create_session", "NOT NULL constraint failed",
                         out);
    return insert(self, ar, "create_session", P_SESSION, in->session_token,
                  NULL, in->user_id, NULL, authc__mem_session_heap(in), out);
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
    authc__set_row(out, NULL);
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    authc_session_row *s = lock_row(m, P_SESSION, in->session_token);
    if (!s)
        goto done;
    if (in->user_id && strcmp(in->user_id, s->user_id) != 0) {
        if (!authc__mt_get(&m->users, in->user_id)) {
            e = violation(self, "update_session",
                          "FOREIGN KEY constraint failed", NULL);
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
    return take(self, ar, "delete_session", P_SESSION, token, NULL, out);
}

/* ---- verification tokens ------------------------------------------------------- */

/* M13 */
static authc_err m_create_verification_token(authc_adapter *self, authc_arena *ar,
                                             const authc_verification_token *in)
{
    if (!in->identifier || !in->token || in->expires == AUTHC_NO_TIME)
        return violation(self, "create_verification_token",
                         "NOT NULL constraint failed", NULL);
    return insert(self, ar, "create_verification_token", P_VT, in->identifier,
                  in->token, NULL, NULL, authc__mem_vt_heap(in), NULL);
}

/* M14: atomic under the mutex. *out = the deleted row (owned by ar). */
static authc_err m_use_verification_token(authc_adapter *self, authc_arena *ar,
                                          const char *identifier, const char *token,
                                          authc_verification_token **out)
{
    return take(self, ar, "use_verification_token", P_VT, identifier, token,
                out);
}

/* ---- authenticators --------------------------------------------------------------- */

/* M16: *out owned by ar. */
static authc_err m_get_authenticator(authc_adapter *self, authc_arena *ar,
                                     const char *cred, authc_authenticator **out)
{
    return find_for(self, ar, "get_authenticator", P_AUTHN, cred, NULL, out);
}

/* M17: *out owned by ar. */
static authc_err m_create_authenticator(authc_adapter *self, authc_arena *ar,
                                        const authc_authenticator *in,
                                        authc_authenticator **out)
{
    if (!in->credential_id || !in->user_id || !in->provider_account_id ||
        !in->credential_public_key || !in->credential_device_type)
        return violation(self, "create_authenticator",
                         "NOT NULL constraint failed", out);
    return insert(self, ar, "create_authenticator", P_AUTHN,
                  in->credential_id, NULL, in->user_id, NULL,
                  authc__mem_authn_heap(in), out);
}

/* M18: *out = array of *n owned by ar (NULL when n = 0). */
static authc_err m_list_authenticators_by_user_id(authc_adapter *self, authc_arena *ar,
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
    authc__set_row(out, NULL);
    authc_authenticator *a = lock_row(m, P_AUTHN, cred);
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

/* ---- account tokens (not Auth.js: rotation for database sessions) ------- */

/* *out owned by ar: the account of (user_id, provider) with the least
 * providerAccountId. A scan: the memory backend holds few accounts. */
static authc_err m_get_account_by_user(authc_adapter *self, authc_arena *ar,
                                       const char *user_id, const char *provider,
                                       authc_account **out)
{
    *out = NULL;
    if (!user_id || !provider)
        return AUTHC_OK;
    mem *m = M(self);
    const authc_account *best = NULL;
    LOCK(m);
    for (size_t i = 0; i < m->accounts.nb; i++)
        for (const authc__mt_node *n = m->accounts.b[i]; n; n = n->next) {
            const authc_account *a = n->row;
            if (!strcmp(a->user_id, user_id) && !strcmp(a->provider, provider) &&
                (!best || strcmp(a->provider_account_id, best->provider_account_id) < 0))
                best = a;
        }
    authc_err e = best && !(*out = authc__copy_account(ar, best)) ? nomem(self, "get_account_by_user")
                                                                  : AUTHC_OK;
    UNLOCK(m);
    return e;
}

/* *out (may be NULL) owned by ar. The row is replaced by a new heap copy,
 * so a failed copy leaves the old one in place. */
static authc_err m_update_account_tokens(authc_adapter *self, authc_arena *ar,
                                         const authc_account *in, authc_account **out)
{
    if (out)
        *out = NULL;
    if (!in->provider || !in->provider_account_id)
        return AUTHC_ERR_NOT_FOUND;
    char *k = authc__mt_key2(in->provider, in->provider_account_id);
    if (!k)
        return nomem(self, "update_account_tokens");
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    authc_account *old = authc__mt_get(&m->accounts, k), *fresh = NULL;
    if (old) {
        authc_account merged = *old;
        authc__account_tokens_merge(&merged, in);
        if (!(fresh = authc__mem_account_heap(&merged)))
            e = nomem(self, "update_account_tokens");
    } else {
        e = AUTHC_ERR_NOT_FOUND;
    }
    if (fresh) {
        authc__mt_replace(&m->accounts, k, fresh);
        authc__row_free(&authc__account_row, old);
        if (out && !(*out = authc__copy_account(ar, fresh)))
            e = nomem(self, "update_account_tokens");
    }
    UNLOCK(m);
    free(k);
    return e;
}

static const authc_adapter_ops MEMORY_OPS = {
    .name = "memory",
    AUTHC__ADAPTER_METHODS(m),
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

/* The kind stored by d (users by id); P_EMAIL when d is no stored model. */
static kind kind_of(const authc__row_desc *d)
{
    for (kind k = P_USER; k <= P_AUTHN; k++)
        if (k != P_EMAIL && KINDS[k].d == d)
            return k;
    return P_EMAIL;
}

authc_err authc__memory_peek(authc_adapter *ad, authc_arena *ar,
                             const authc__row_desc *d, const char *a,
                             const char *b, void *out)
{
    authc_err e = AUTHC_ERR_INVALID;
    mem *m = peek_ctx(ad);
    kind k = kind_of(d);
    authc__set_row(out, m && k != P_EMAIL ? find(m, ar, k, a, b, &e) : NULL);
    return e;
}
