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

void authc__mt_cascade(authc__mt *t, const char *uid, const authc__row_desc *d)
{
    size_t off = SIZE_MAX; /* where d's "userId" is */
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->f[i].name, "userId") == 0)
            off = d->f[i].off;
    for (size_t i = 0; off != SIZE_MAX && i < t->nb; i++) {
        authc__mt_node **pp = &t->b[i];
        while (*pp) {
            authc__mt_node *e = *pp;
            const char *owner = *(const char *const *)((char *)e->row + off);
            if (owner && strcmp(owner, uid) == 0) {
                *pp = e->next;
                authc__row_free(d, e->row);
                free(e->key);
                free(e);
                t->n--;
            } else {
                pp = &e->next;
            }
        }
    }
}

void authc__mt_clear(authc__mt *t, const authc__row_desc *d)
{
    for (size_t i = 0; i < t->nb; i++) {
        authc__mt_node *e = t->b[i];
        while (e) {
            authc__mt_node *next = e->next;
            if (d)
                authc__row_free(d, e->row);
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

/* Copies one d-row onto the heap; on failure frees what it allocated. */
static void *heap_dup(const authc__row_desc *d, const void *in)
{
    heap_log h = {.n = 0};
    void *row = authc__row_dup(d, &(authc__alloc){heap_alloc, &h}, in);
    if (!row)
        for (int i = 0; i < h.n; i++)
            free(h.p[i]);
    return row;
}

authc_user *authc__mem_user_heap(const authc_user *in)
{
    authc_user t = *in;
    t.fields = 0;
    return heap_dup(&authc__user_row, &t);
}

authc_account *authc__mem_account_heap(const authc_account *in)
{
    authc_account t = *in;
    t.id = NULL; /* the Drizzle layout has no account id */
    return heap_dup(&authc__account_row, &t);
}

authc_session_row *authc__mem_session_heap(const authc_session_row *in)
{
    authc_session_row t = *in;
    t.id = NULL;
    return heap_dup(&authc__session_row, &t);
}

authc_verification_token *authc__mem_vt_heap(
    const authc_verification_token *in)
{
    return heap_dup(&authc__vt_row, in);
}

authc_authenticator *authc__mem_authn_heap(const authc_authenticator *in)
{
    return heap_dup(&authc__authn_row, in);
}
