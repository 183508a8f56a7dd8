/* memory_table.c — storage of the memory backend: a chained hash table
 * keyed by strings, and heap copies of the rows it holds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/memory_int.h"

/* ---- hash table ------------------------------------------------------------ */

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static authc__mt_node **slot(const authc__mt *t, const char *key)
{
    if (!t->nb)
        return NULL;
    authc__mt_node **pp = &t->b[hash(key) % t->nb];
    while (*pp && strcmp((*pp)->key, key) != 0)
        pp = &(*pp)->next;
    return pp;
}

void *authc__mt_get(const authc__mt *t, const char *key)
{
    authc__mt_node **pp = slot(t, key);
    return pp && *pp ? (*pp)->row : NULL;
}

bool authc__mt_put(authc__mt *t, const char *key, void *row)
{
    if (t->n + 1 > t->nb * 2) {
        size_t nb = t->nb ? t->nb * 2 : 64;
        authc__mt_node **b = calloc(nb, sizeof *b);
        if (!b)
            return false;
        for (size_t i = 0; i < t->nb; i++) {
            authc__mt_node *e = t->b[i];
            while (e) {
                authc__mt_node *next = e->next;
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
    authc__mt_node *e = malloc(sizeof *e);
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

void authc__mt_replace(const authc__mt *t, const char *key, void *row)
{
    authc__mt_node **pp = slot(t, key);
    if (pp && *pp)
        (*pp)->row = row;
}

void *authc__mt_del(authc__mt *t, const char *key)
{
    authc__mt_node **pp = slot(t, key);
    if (!pp || !*pp)
        return NULL;
    authc__mt_node *e = *pp;
    void *row = e->row;
    *pp = e->next;
    free(e->key);
    free(e);
    t->n--;
    return row;
}

char *authc__mt_key2(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *k = malloc(la + lb + 24);
    if (k)
        snprintf(k, la + lb + 24, "%zu:%s%s", la, a, b);
    return k;
}

void authc__mt_cascade(authc__mt *t, const char *uid,
                    const char *(*get)(const void *), void (*fr)(void *))
{
    for (size_t i = 0; i < t->nb; i++) {
        authc__mt_node **pp = &t->b[i];
        while (*pp) {
            authc__mt_node *e = *pp;
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

void authc__mt_clear(authc__mt *t, void (*fr)(void *))
{
    for (size_t i = 0; i < t->nb; i++) {
        authc__mt_node *e = t->b[i];
        while (e) {
            authc__mt_node *next = e->next;
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

/* ---- heap rows ------------------------------------------------------------ */

/* Remembers what one copy allocated so a failed copy can be undone (a row
 * holds at most a dozen allocations). */
typedef struct heap_log {
    void *p[16];
    int n;
} heap_log;

static void *heap_alloc(void *ud, size_t n)
{
    heap_log *h = ud;
    if (h->n == (int)(sizeof h->p / sizeof *h->p))
        return NULL;
    void *m = calloc(1, n);
    if (m)
        h->p[h->n++] = m;
    return m;
}

typedef void *(*dup_fn)(const authc__alloc *al, const void *in);

/* Runs one model copy on the heap; on failure frees what it allocated. */
static void *heap_dup(dup_fn fn, const void *in)
{
    heap_log h = {.n = 0};
    void *row = fn(&(authc__alloc){heap_alloc, &h}, in);
    if (!row)
        for (int i = 0; i < h.n; i++)
            free(h.p[i]);
    return row;
}

static void *user_dup(const authc__alloc *al, const void *in)
{
    return authc__user_dup(al, in);
}
static void *account_dup(const authc__alloc *al, const void *in)
{
    return authc__account_dup(al, in);
}
static void *session_dup(const authc__alloc *al, const void *in)
{
    return authc__session_dup(al, in);
}
static void *vt_dup(const authc__alloc *al, const void *in)
{
    return authc__vt_dup(al, in);
}
static void *authn_dup(const authc__alloc *al, const void *in)
{
    return authc__authenticator_dup(al, in);
}

authc_user *authc__mem_user_heap(const authc_user *in)
{
    authc_user t = *in;
    t.fields = 0;
    return heap_dup(user_dup, &t);
}

authc_account *authc__mem_account_heap(const authc_account *in)
{
    authc_account t = *in;
    t.id = NULL; /* the Drizzle layout has no account id */
    return heap_dup(account_dup, &t);
}

authc_session_row *authc__mem_session_heap(const authc_session_row *in)
{
    authc_session_row t = *in;
    t.id = NULL;
    return heap_dup(session_dup, &t);
}

authc_verification_token *authc__mem_vt_heap(
    const authc_verification_token *in)
{
    return heap_dup(vt_dup, in);
}

authc_authenticator *authc__mem_authn_heap(const authc_authenticator *in)
{
    return heap_dup(authn_dup, in);
}

static void sfree(const char *s) { free((void *)s); }

void authc__mem_user_free(void *row)
{
    authc_user *u = row;
    if (!u)
        return;
    sfree(u->id); sfree(u->name); sfree(u->email); sfree(u->image);
    free(u);
}

void authc__mem_account_free(void *row)
{
    authc_account *a = row;
    if (!a)
        return;
    sfree(a->id); sfree(a->user_id); sfree(a->type); sfree(a->provider);
    sfree(a->provider_account_id); sfree(a->refresh_token);
    sfree(a->access_token); sfree(a->token_type); sfree(a->scope);
    sfree(a->id_token); sfree(a->session_state);
    free(a);
}

void authc__mem_session_free(void *row)
{
    authc_session_row *s = row;
    if (!s)
        return;
    sfree(s->id); sfree(s->session_token); sfree(s->user_id);
    free(s);
}

void authc__mem_vt_free(void *row)
{
    authc_verification_token *v = row;
    if (!v)
        return;
    sfree(v->identifier); sfree(v->token);
    free(v);
}

void authc__mem_authn_free(void *row)
{
    authc_authenticator *a = row;
    if (!a)
        return;
    sfree(a->credential_id); sfree(a->user_id); sfree(a->provider_account_id);
    sfree(a->credential_public_key); sfree(a->credential_device_type);
    sfree(a->transports);
    free(a);
}
