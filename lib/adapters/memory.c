/* memory.c — the "memory:" adapter: every Auth.js model in process memory,
 * deep-copied, behind one mutex. For tests, demos and single-process use. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/adapters_int.h"
#include "util/util_int.h"

/* Mirrors the constraints of the Drizzle SQL layout so that code tested
 * against memory: behaves the same on SQLite: unique user e-mail (NULLs
 * allowed), primary keys (provider, providerAccountId), sessionToken,
 * (identifier, token), unique credentialID, and foreign keys to user with
 * ON DELETE CASCADE. A violation is AUTHC_ERR_ADAPTER with a log line. */

/* ---- a small string-keyed chained hash table ---------------------------- */

typedef struct node {
    struct node *next;
    char *key;          /* owned */
    void *row;          /* owned; freed by the table's owner */
} node;

typedef struct table {
    node **b;
    size_t nb, n;
} table;

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static node **slot(const table *t, const char *key)
{
    if (!t->nb)
        return NULL;
    node **pp = &t->b[hash(key) % t->nb];
    while (*pp && strcmp((*pp)->key, key) != 0)
        pp = &(*pp)->next;
    return pp;
}

static void *tget(const table *t, const char *key)
{
    node **pp = slot(t, key);
    return pp && *pp ? (*pp)->row : NULL;
}

/* Inserts key (copied) → row. The key must not exist. false on OOM. */
static bool tput(table *t, const char *key, void *row)
{
    if (t->n + 1 > t->nb * 2) {
        size_t nb = t->nb ? t->nb * 2 : 64;
        node **b = calloc(nb, sizeof *b);
        if (!b)
            return false;
        for (size_t i = 0; i < t->nb; i++) {
            node *e = t->b[i];
            while (e) {
                node *next = e->next;
                size_t h = hash(e->key) % nb;
                e->next = b[h];
                b[h] = e;
                e = next;
            }
        }
        free(t->b);
        t->b = b;
        t->nb = nb;
    }
    node *e = malloc(sizeof *e);
    char *k = strdup(key);
    if (!e || !k) {
        free(e);
        free(k);
        return false;
    }
    size_t h = hash(key) % t->nb;
    e->key = k;
    e->row = row;
    e->next = t->b[h];
    t->b[h] = e;
    t->n++;
    return true;
}

/* Unlinks key and returns its row (caller frees), NULL when absent. */
static void *tdel(table *t, const char *key)
{
    node **pp = slot(t, key);
    if (!pp || !*pp)
        return NULL;
    node *e = *pp;
    void *row = e->row;
    *pp = e->next;
    free(e->key);
    free(e);
    t->n--;
    return row;
}

/* Composite key "len:a" + b, so ("ab","c") and ("a","bc") differ.
 * Returns a heap string the caller frees, NULL on OOM. */
static char *key2(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *k = malloc(la + lb + 24);
    if (k)
        snprintf(k, la + lb + 24, "%zu:%s%s", la, a, b);
    return k;
}

/* ---- heap rows ------------------------------------------------------------ */

static void sfree(const char *s) { free((void *)s); }

/* strdup that tolerates NULL and reports failure through *ok. */
static const char *hdup(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

static void user_free(authc_user *u)
{
    if (!u)
        return;
    sfree(u->id); sfree(u->name); sfree(u->email); sfree(u->image);
    free(u);
}

/* Heap copy (caller frees with user_free), NULL on OOM. */
static authc_user *user_heap(const authc_user *in)
{
    authc_user *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    bool ok = true;
    u->id = hdup(in->id, &ok);
    u->name = hdup(in->name, &ok);
    u->email = hdup(in->email, &ok);
    u->email_verified = in->email_verified;
    u->image = hdup(in->image, &ok);
    u->fields = 0;
    if (!ok) {
        user_free(u);
        return NULL;
    }
    return u;
}

static void account_free(authc_account *a)
{
    if (!a)
        return;
    sfree(a->id); sfree(a->user_id); sfree(a->type); sfree(a->provider);
    sfree(a->provider_account_id); sfree(a->refresh_token);
    sfree(a->access_token); sfree(a->token_type); sfree(a->scope);
    sfree(a->id_token); sfree(a->session_state);
    free(a);
}

/* Heap copy without id (the Drizzle layout has none). */
static authc_account *account_heap(const authc_account *in)
{
    authc_account *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    bool ok = true;
    a->user_id = hdup(in->user_id, &ok);
    a->type = hdup(in->type, &ok);
    a->provider = hdup(in->provider, &ok);
    a->provider_account_id = hdup(in->provider_account_id, &ok);
    a->refresh_token = hdup(in->refresh_token, &ok);
    a->access_token = hdup(in->access_token, &ok);
    a->expires_at = in->expires_at;
    a->token_type = hdup(in->token_type, &ok);
    a->scope = hdup(in->scope, &ok);
    a->id_token = hdup(in->id_token, &ok);
    a->session_state = hdup(in->session_state, &ok);
    if (!ok) {
        account_free(a);
        return NULL;
    }
    return a;
}

static void session_free(authc_session_row *s)
{
    if (!s)
        return;
    sfree(s->id); sfree(s->session_token); sfree(s->user_id);
    free(s);
}

static authc_session_row *session_heap(const authc_session_row *in)
{
    authc_session_row *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    bool ok = true;
    s->session_token = hdup(in->session_token, &ok);
    s->user_id = hdup(in->user_id, &ok);
    s->expires = in->expires;
    if (!ok) {
        session_free(s);
        return NULL;
    }
    return s;
}

static void vt_free(authc_verification_token *v)
{
    if (!v)
        return;
    sfree(v->identifier); sfree(v->token);
    free(v);
}

static authc_verification_token *vt_heap(const authc_verification_token *in)
{
    authc_verification_token *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    bool ok = true;
    v->identifier = hdup(in->identifier, &ok);
    v->token = hdup(in->token, &ok);
    v->expires = in->expires;
    if (!ok) {
        vt_free(v);
        return NULL;
    }
    return v;
}

static void authn_free(authc_authenticator *a)
{
    if (!a)
        return;
    sfree(a->credential_id); sfree(a->user_id); sfree(a->provider_account_id);
    sfree(a->credential_public_key); sfree(a->credential_device_type);
    sfree(a->transports);
    free(a);
}

static authc_authenticator *authn_heap(const authc_authenticator *in)
{
    authc_authenticator *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    bool ok = true;
    a->credential_id = hdup(in->credential_id, &ok);
    a->user_id = hdup(in->user_id, &ok);
    a->provider_account_id = hdup(in->provider_account_id, &ok);
    a->credential_public_key = hdup(in->credential_public_key, &ok);
    a->counter = in->counter;
    a->credential_device_type = hdup(in->credential_device_type, &ok);
    a->credential_backed_up = in->credential_backed_up;
    a->transports = hdup(in->transports, &ok);
    if (!ok) {
        authn_free(a);
        return NULL;
    }
    return a;
}

/* ---- backend state --------------------------------------------------------- */

typedef struct mem {
    pthread_mutex_t mu;
    table users;     /* id → authc_user */
    table emails;    /* email → authc_user (same object as in users) */
    table accounts;  /* key2(provider, pai) → authc_account */
    table sessions;  /* token → authc_session_row */
    table vts;       /* key2(identifier, token) → authc_verification_token */
    table authns;    /* credential_id → authc_authenticator */
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

/* Deletes every row of t whose user_id (read by get) equals uid, freeing
 * it with fr; rows of tables with a secondary index are not handled here. */
static void cascade(table *t, const char *uid,
                    const char *(*get)(const void *), void (*fr)(void *))
{
    for (size_t i = 0; i < t->nb; i++) {
        node **pp = &t->b[i];
        while (*pp) {
            node *e = *pp;
            if (strcmp(get(e->row), uid) == 0) {
                *pp = e->next;
                fr(e->row);
                free(e->key);
                free(e);
                t->n--;
            } else {
                pp = &e->next;
            }
        }
    }
}

static const char *acc_uid(const void *r) { return ((const authc_account *)r)->user_id; }
static const char *ses_uid(const void *r) { return ((const authc_session_row *)r)->user_id; }
static const char *aut_uid(const void *r) { return ((const authc_authenticator *)r)->user_id; }
static void acc_fr(void *r) { account_free(r); }
static void ses_fr(void *r) { session_free(r); }
static void aut_fr(void *r) { authn_free(r); }
static void vt_fr(void *r) { vt_free(r); }
static void user_fr(void *r) { user_free(r); }

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
    if (in->email && tget(&m->emails, in->email)) {
        e = violation(self, "create_user", "UNIQUE constraint failed: user.email");
        goto done;
    }
    authc_user *u = user_heap(&tmp);
    if (!u || !tput(&m->users, u->id, u)) {
        user_free(u);
        e = nomem(self, "create_user");
        goto done;
    }
    if (u->email && !tput(&m->emails, u->email, u)) {
        user_free(tdel(&m->users, u->id));
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
    *out = NULL;
    if (!id)
        return AUTHC_OK;
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    authc_user *u = tget(&m->users, id);
    if (u && !(*out = authc__copy_user(ar, u)))
        e = nomem(self, "get_user");
    UNLOCK(m);
    return e;
}

/* M3: *out owned by ar. */
static authc_err m_get_user_by_email(authc_adapter *self, authc_arena *ar,
                                     const char *email, authc_user **out)
{
    *out = NULL;
    if (!email)
        return AUTHC_OK;
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    authc_user *u = tget(&m->emails, email);
    if (u && !(*out = authc__copy_user(ar, u)))
        e = nomem(self, "get_user_by_email");
    UNLOCK(m);
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
    char *k = key2(provider, pai);
    if (!k)
        return nomem(self, "get_user_by_account");
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    authc_account *a = tget(&m->accounts, k);
    authc_user *u = a ? tget(&m->users, a->user_id) : NULL;
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
    authc_user *cur = tget(&m->users, in->id);
    if (!cur) {
        e = AUTHC_ERR_NOT_FOUND;
        goto done;
    }
    authc_user merged = *cur;
    authc__user_merge(&merged, in);
    merged.fields = 0;
    if (merged.email && (!cur->email || strcmp(merged.email, cur->email)) &&
        tget(&m->emails, merged.email)) {
        e = violation(self, "update_user", "UNIQUE constraint failed: user.email");
        goto done;
    }
    authc_user *nu = user_heap(&merged);
    if (!nu) {
        e = nomem(self, "update_user");
        goto done;
    }
    /* Swap the new row in for the old one in both indexes. Reserve the
     * index slots first so a failed insert leaves the old state intact. */
    if (cur->email)
        tdel(&m->emails, cur->email);
    if (nu->email && !tput(&m->emails, nu->email, nu)) {
        if (cur->email)
            tput(&m->emails, cur->email, cur); /* best effort restore */
        user_free(nu);
        e = nomem(self, "update_user");
        goto done;
    }
    node **pp = slot(&m->users, in->id);
    (*pp)->row = nu;
    user_free(cur);
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
    authc_user *u = tdel(&m->users, id);
    if (u) {
        if (u->email)
            tdel(&m->emails, u->email);
        cascade(&m->sessions, id, ses_uid, ses_fr);
        cascade(&m->accounts, id, acc_uid, acc_fr);
        cascade(&m->authns, id, aut_uid, aut_fr);
        user_free(u);
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
    char *k = key2(in->provider, in->provider_account_id);
    if (!k)
        return nomem(self, "link_account");
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    if (!tget(&m->users, in->user_id)) {
        e = violation(self, "link_account", "FOREIGN KEY constraint failed");
        goto done;
    }
    if (tget(&m->accounts, k)) {
        e = violation(self, "link_account",
                      "UNIQUE constraint failed: account.provider, "
                      "account.providerAccountId");
        goto done;
    }
    authc_account *a = account_heap(in);
    if (!a || !tput(&m->accounts, k, a)) {
        account_free(a);
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
    char *k = key2(provider, pai);
    if (!k)
        return nomem(self, "unlink_account");
    mem *m = M(self);
    LOCK(m);
    account_free(tdel(&m->accounts, k));
    UNLOCK(m);
    free(k);
    return AUTHC_OK;
}

/* M15: argument order as Auth.js (id first). *out owned by ar. */
static authc_err m_get_account(authc_adapter *self, authc_arena *ar,
                               const char *pai, const char *provider,
                               authc_account **out)
{
    *out = NULL;
    if (!provider || !pai)
        return AUTHC_OK;
    char *k = key2(provider, pai);
    if (!k)
        return nomem(self, "get_account");
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    authc_account *a = tget(&m->accounts, k);
    if (a && !(*out = authc__copy_account(ar, a)))
        e = nomem(self, "get_account");
    UNLOCK(m);
    free(k);
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
    if (!tget(&m->users, in->user_id)) {
        e = violation(self, "create_session", "FOREIGN KEY constraint failed");
        goto done;
    }
    if (tget(&m->sessions, in->session_token)) {
        e = violation(self, "create_session",
                      "UNIQUE constraint failed: session.sessionToken");
        goto done;
    }
    authc_session_row *s = session_heap(in);
    if (!s || !tput(&m->sessions, s->session_token, s)) {
        session_free(s);
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
    authc_session_row *s = tget(&m->sessions, token);
    authc_user *u = s ? tget(&m->users, s->user_id) : NULL;
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
    authc_session_row *s = tget(&m->sessions, in->session_token);
    if (!s)
        goto done;
    if (in->user_id && strcmp(in->user_id, s->user_id) != 0) {
        if (!tget(&m->users, in->user_id)) {
            e = violation(self, "update_session", "FOREIGN KEY constraint failed");
            goto done;
        }
        char *uid = strdup(in->user_id);
        if (!uid) {
            e = nomem(self, "update_session");
            goto done;
        }
        sfree(s->user_id);
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
    authc_session_row *s = tdel(&m->sessions, token);
    UNLOCK(m);
    if (s && out && !(*out = authc__copy_session(ar, s)))
        e = nomem(self, "delete_session");
    session_free(s);
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
    char *k = key2(in->identifier, in->token);
    if (!k)
        return nomem(self, "create_verification_token");
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    if (tget(&m->vts, k)) {
        e = violation(self, "create_verification_token",
                      "UNIQUE constraint failed: verificationToken.identifier, "
                      "verificationToken.token");
        goto done;
    }
    authc_verification_token *v = vt_heap(in);
    if (!v || !tput(&m->vts, k, v)) {
        vt_free(v);
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
    char *k = key2(identifier, token);
    if (!k)
        return nomem(self, "use_verification_token");
    mem *m = M(self);
    LOCK(m);
    authc_verification_token *v = tdel(&m->vts, k);
    UNLOCK(m);
    free(k);
    authc_err e = AUTHC_OK;
    if (v && !(*out = authc__copy_vt(ar, v)))
        e = nomem(self, "use_verification_token");
    vt_free(v);
    return e;
}

/* ---- authenticators --------------------------------------------------------------- */

/* M16: *out owned by ar. */
static authc_err m_get_authenticator(authc_adapter *self, authc_arena *ar,
                                     const char *cred, authc_authenticator **out)
{
    *out = NULL;
    if (!cred)
        return AUTHC_OK;
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    authc_authenticator *a = tget(&m->authns, cred);
    if (a && !(*out = authc__copy_authenticator(ar, a)))
        e = nomem(self, "get_authenticator");
    UNLOCK(m);
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
    if (!tget(&m->users, in->user_id)) {
        e = violation(self, "create_authenticator",
                      "FOREIGN KEY constraint failed");
        goto done;
    }
    if (tget(&m->authns, in->credential_id)) {
        e = violation(self, "create_authenticator",
                      "UNIQUE constraint failed: authenticator.credentialID");
        goto done;
    }
    authc_authenticator *a = authn_heap(in);
    if (!a || !tput(&m->authns, a->credential_id, a)) {
        authn_free(a);
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
        for (node *x = m->authns.b[i]; x; x = x->next)
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
            for (node *x = m->authns.b[i]; x && e == AUTHC_OK; x = x->next) {
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
    if (out)
        *out = NULL;
    if (!cred)
        return AUTHC_ERR_NOT_FOUND;
    mem *m = M(self);
    authc_err e = AUTHC_OK;
    LOCK(m);
    authc_authenticator *a = tget(&m->authns, cred);
    if (!a) {
        e = AUTHC_ERR_NOT_FOUND;
    } else {
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

static void tclear(table *t, void (*fr)(void *))
{
    for (size_t i = 0; i < t->nb; i++) {
        node *e = t->b[i];
        while (e) {
            node *next = e->next;
            if (fr)
                fr(e->row);
            free(e->key);
            free(e);
            e = next;
        }
    }
    free(t->b);
    memset(t, 0, sizeof *t);
}

static void m_destroy(authc_adapter *self)
{
    if (!self)
        return;
    mem *m = self->ctx;
    if (m) {
        tclear(&m->emails, NULL); /* rows belong to users */
        tclear(&m->users, user_fr);
        tclear(&m->accounts, acc_fr);
        tclear(&m->sessions, ses_fr);
        tclear(&m->vts, vt_fr);
        tclear(&m->authns, aut_fr);
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
authc_adapter *authc__adapter_memory_open(char *err, size_t errlen)
{
    authc_adapter *ad = calloc(1, sizeof *ad);
    mem *m = calloc(1, sizeof *m);
    if (!ad || !m || pthread_mutex_init(&m->mu, NULL) != 0) {
        free(ad);
        free(m);
        authc__set_err(err, errlen, "memory: out of memory");
        return NULL;
    }
    ad->ops = &MEMORY_OPS;
    ad->ctx = m;
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
    mem *m = peek_ctx(ad);
    *out = NULL;
    if (!m)
        return AUTHC_ERR_INVALID;
    authc_err e = AUTHC_OK;
    LOCK(m);
    authc_user *u = tget(&m->users, id);
    if (u && !(*out = authc__copy_user(ar, u)))
        e = AUTHC_ERR_NOMEM;
    UNLOCK(m);
    return e;
}

authc_err authc__memory_peek_session(authc_adapter *ad, authc_arena *ar,
                                     const char *token, authc_session_row **out)
{
    mem *m = peek_ctx(ad);
    *out = NULL;
    if (!m)
        return AUTHC_ERR_INVALID;
    authc_err e = AUTHC_OK;
    LOCK(m);
    authc_session_row *s = tget(&m->sessions, token);
    if (s && !(*out = authc__copy_session(ar, s)))
        e = AUTHC_ERR_NOMEM;
    UNLOCK(m);
    return e;
}

authc_err authc__memory_peek_account(authc_adapter *ad, authc_arena *ar,
                                     const char *provider, const char *pai,
                                     authc_account **out)
{
    mem *m = peek_ctx(ad);
    *out = NULL;
    if (!m)
        return AUTHC_ERR_INVALID;
    char *k = key2(provider, pai);
    if (!k)
        return AUTHC_ERR_NOMEM;
    authc_err e = AUTHC_OK;
    LOCK(m);
    authc_account *a = tget(&m->accounts, k);
    if (a && !(*out = authc__copy_account(ar, a)))
        e = AUTHC_ERR_NOMEM;
    UNLOCK(m);
    free(k);
    return e;
}

authc_err authc__memory_peek_vt(authc_adapter *ad, authc_arena *ar,
                                const char *identifier, const char *token,
                                authc_verification_token **out)
{
    mem *m = peek_ctx(ad);
    *out = NULL;
    if (!m)
        return AUTHC_ERR_INVALID;
    char *k = key2(identifier, token);
    if (!k)
        return AUTHC_ERR_NOMEM;
    authc_err e = AUTHC_OK;
    LOCK(m);
    authc_verification_token *v = tget(&m->vts, k);
    if (v && !(*out = authc__copy_vt(ar, v)))
        e = AUTHC_ERR_NOMEM;
    UNLOCK(m);
    free(k);
    return e;
}

authc_err authc__memory_peek_authenticator(authc_adapter *ad, authc_arena *ar,
                                           const char *credential_id,
                                           authc_authenticator **out)
{
    mem *m = peek_ctx(ad);
    *out = NULL;
    if (!m)
        return AUTHC_ERR_INVALID;
    authc_err e = AUTHC_OK;
    LOCK(m);
    authc_authenticator *a = tget(&m->authns, credential_id);
    if (a && !(*out = authc__copy_authenticator(ar, a)))
        e = AUTHC_ERR_NOMEM;
    UNLOCK(m);
    return e;
}
