/* store_memory.c — the "memory:" store backend: a chained hash table under
 * one mutex, entries expiring on a monotonic clock, swept periodically.
 *
 * "memory:" gives each handle its own table; "memory:NAME" tables are
 * shared by every handle of the process with that NAME (reference
 * counted), which is how tests simulate two instances. Expired entries are
 * invisible at once and freed by the sweep (every sweep_interval, on the
 * call that notices it is due) or when their key is touched. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_be_int.h"

#define INITIAL_BUCKETS 64
#define MAX_NAME 128

typedef struct entry {
    struct entry *next;
    uint64_t hash;
    int64_t expires;     /* monotonic ms */
    size_t len;
    uint8_t *val;        /* len bytes + NUL, heap */
    char key[];          /* NUL-terminated */
} entry;

typedef struct table {
    pthread_mutex_t mu;
    entry **buckets;
    size_t nbuckets;     /* power of two */
    size_t count;
    int64_t max_entries;
    int64_t sweep_interval;
    int64_t last_sweep;
    /* Named tables: registry link, name and handles holding it. */
    struct table *next;
    char name[MAX_NAME];
    int refs;
} table;

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static table *registry;

static uint64_t hash_key(const char *k)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (; *k; k++)
        h = (h ^ (uint8_t)*k) * 1099511628211ULL;
    return h;
}

static void entry_free(entry *e)
{
    free(e->val);
    free(e);
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->nbuckets; i++)
        for (entry *e = t->buckets[i], *n; e; e = n) {
            n = e->next;
            entry_free(e);
        }
    free(t->buckets);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* ---- table operations (t->mu held) -------------------------------------- */

/* Unlinks and frees expired entries; returns how many. */
static int64_t sweep_locked(table *t, int64_t now)
{
    int64_t n = 0;
    for (size_t i = 0; i < t->nbuckets; i++) {
        entry **pp = &t->buckets[i];
        while (*pp) {
            entry *e = *pp;
            if (e->expires <= now) {
                *pp = e->next;
                entry_free(e);
                t->count--;
                n++;
            } else {
                pp = &e->next;
            }
        }
    }
    t->last_sweep = now;
    return n;
}

static void maybe_sweep(table *t, int64_t now)
{
    if (now - t->last_sweep >= t->sweep_interval)
        sweep_locked(t, now);
}

/* Slot holding key (live or expired) or the empty slot at the chain end. */
static entry **slot(table *t, const char *key, uint64_t h)
{
    entry **pp = &t->buckets[h & (t->nbuckets - 1)];
    while (*pp && ((*pp)->hash != h || strcmp((*pp)->key, key) != 0))
        pp = &(*pp)->next;
    return pp;
}

/* Live entry of key or NULL; an expired one is freed on the way. */
static entry *find(table *t, const char *key, int64_t now)
{
    entry **pp = slot(t, key, hash_key(key));
    entry *e = *pp;
    if (e && e->expires <= now) {
        *pp = e->next;
        entry_free(e);
        t->count--;
        return NULL;
    }
    return e;
}

static void remove_entry(table *t, entry *e)
{
    entry **pp = slot(t, e->key, e->hash);
    *pp = e->next;
    entry_free(e);
    t->count--;
}

/* Doubles the bucket array when the chains grow long; failure to grow is
 * harmless (chains just get longer). */
static void maybe_grow(table *t)
{
    if (t->count < t->nbuckets * 2 || t->nbuckets > (SIZE_MAX >> 2))
        return;
    size_t nb = t->nbuckets * 2;
    entry **b = calloc(nb, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < t->nbuckets; i++)
        for (entry *e = t->buckets[i], *n; e; e = n) {
            n = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
}

/* Replaces e's value with a copy of v (len bytes + NUL). */
static authc_err put_value(entry *e, const void *v, size_t len)
{
    uint8_t *nv = malloc(len + 1);
    if (!nv)
        return AUTHC_ERR_NOMEM;
    if (len)
        memcpy(nv, v, len);
    nv[len] = 0;
    free(e->val);
    e->val = nv;
    e->len = len;
    return AUTHC_OK;
}

/* Inserts a new entry for key (known absent); *out = it. */
static authc_err insert(table *t, const char *key, const void *v, size_t len,
                        int64_t expires, entry **out, char *why)
{
    if ((int64_t)t->count >= t->max_entries) {
        sweep_locked(t, authc__store_mono_ms());
        if ((int64_t)t->count >= t->max_entries) {
            snprintf(why, AUTHC__STORE_WHY, "full (max_entries=%lld)",
                     (long long)t->max_entries);
            return AUTHC_ERR_LIMIT;
        }
    }
    size_t kn = strlen(key);
    entry *e = calloc(1, sizeof *e + kn + 1);
    if (!e || put_value(e, v, len) != AUTHC_OK) {
        free(e);
        return AUTHC_ERR_NOMEM;
    }
    memcpy(e->key, key, kn + 1);
    e->hash = hash_key(key);
    e->expires = expires;
    entry **pp = slot(t, key, e->hash);
    *pp = e;
    t->count++;
    maybe_grow(t);
    *out = e;
    return AUTHC_OK;
}

/* ---- backend functions --------------------------------------------------- */

/* Locks t and sweeps when due; returns now. */
static int64_t enter(table *t)
{
    pthread_mutex_lock(&t->mu);
    int64_t now = authc__store_mono_ms();
    maybe_sweep(t, now);
    return now;
}

static authc_err mem_mget(void *ctx, authc_arena *ar, const char *const *keys,
                          size_t n, authc__store_val *out, char *why)
{
    (void)why;
    table *t = ctx;
    authc_err rc = AUTHC_OK;
    int64_t now = enter(t);
    for (size_t i = 0; i < n && rc == AUTHC_OK; i++) {
        entry *e = find(t, keys[i], now);
        if (!e)
            continue;
        out[i].data = authc__store_dup(ar, e->val, e->len);
        out[i].len = e->len;
        if (!out[i].data)
            rc = AUTHC_ERR_NOMEM;
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

static authc_err mem_set(void *ctx, const char *key, const void *v,
                         size_t len, int64_t ttl_ms, bool nx, bool *stored,
                         char *why)
{
    table *t = ctx;
    authc_err rc = AUTHC_OK;
    int64_t now = enter(t);
    entry *e = find(t, key, now);
    bool held = e && nx;
    if (held) {
        /* a live entry: set_nx stores nothing */
    } else if (e) {
        rc = put_value(e, v, len);
        if (rc == AUTHC_OK)
            e->expires = now + ttl_ms;
    } else {
        rc = insert(t, key, v, len, now + ttl_ms, &e, why);
    }
    *stored = !held && rc == AUTHC_OK;
    pthread_mutex_unlock(&t->mu);
    return rc;
}

static authc_err mem_if_owner(void *ctx, const char *key, const char *owner,
                              int64_t ttl_ms, bool *done, char *why)
{
    (void)why;
    table *t = ctx;
    int64_t now = enter(t);
    entry *e = find(t, key, now);
    size_t on = strlen(owner);
    *done = e && e->len == on && memcmp(e->val, owner, on) == 0;
    if (*done && ttl_ms)
        e->expires = now + ttl_ms;
    else if (*done)
        remove_entry(t, e);
    pthread_mutex_unlock(&t->mu);
    return AUTHC_OK;
}

static authc_err mem_del(void *ctx, const char *key, bool *deleted, char *why)
{
    (void)why;
    table *t = ctx;
    int64_t now = enter(t);
    entry *e = find(t, key, now);
    *deleted = e != NULL;
    if (e)
        remove_entry(t, e);
    pthread_mutex_unlock(&t->mu);
    return AUTHC_OK;
}

static authc_err mem_incr(void *ctx, const char *key, int64_t by,
                          int64_t ttl_ms, int64_t *value, char *why)
{
    table *t = ctx;
    authc_err rc = AUTHC_OK;
    int64_t now = enter(t);
    entry *e = find(t, key, now);
    int64_t cur = 0;
    if (e && !authc__store_parse_i64(e->val, e->len, &cur)) {
        snprintf(why, AUTHC__STORE_WHY, "the value is not a counter");
        rc = AUTHC_ERR_INVALID;
    } else if (!authc__store_add_i64(cur, by, value)) {
        snprintf(why, AUTHC__STORE_WHY, "counter overflow");
        rc = AUTHC_ERR_INVALID;
    } else {
        char num[24];
        int n = snprintf(num, sizeof num, "%lld", (long long)*value);
        rc = e ? put_value(e, num, (size_t)n)
               : insert(t, key, num, (size_t)n, now + ttl_ms, &e, why);
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

static authc_err mem_scan(void *ctx, authc_arena *ar, const char *prefix, size_t max,
                          const char **keys, size_t *n, char *why)
{
    (void)why;
    table *t = ctx;
    int64_t now = enter(t);
    size_t pl = strlen(prefix);
    authc_err rc = AUTHC_OK;
    for (size_t i = 0; i < t->nbuckets && *n < max && rc == AUTHC_OK; i++)
        for (entry *e = t->buckets[i]; e && *n < max; e = e->next) {
            if (e->expires <= now || strncmp(e->key, prefix, pl) != 0)
                continue;
            if (!(keys[*n] = authc_arena_strdup(ar, e->key))) {
                rc = AUTHC_ERR_NOMEM;
                break;
            }
            (*n)++;
        }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

static authc_err mem_sweep(void *ctx, int64_t *removed, char *why)
{
    (void)why;
    table *t = ctx;
    pthread_mutex_lock(&t->mu);
    *removed = sweep_locked(t, authc__store_mono_ms());
    pthread_mutex_unlock(&t->mu);
    return AUTHC_OK;
}

/* ---- open / close ------------------------------------------------------------ */

static table *table_new(const authc__store_opts *o, const char *name)
{
    table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->buckets = calloc(INITIAL_BUCKETS, sizeof *t->buckets);
    if (!t->buckets || pthread_mutex_init(&t->mu, NULL) != 0) {
        free(t->buckets);
        free(t);
        return NULL;
    }
    t->nbuckets = INITIAL_BUCKETS;
    t->max_entries = o->max_entries;
    t->sweep_interval = o->sweep_interval_ms;
    t->last_sweep = authc__store_mono_ms();
    snprintf(t->name, sizeof t->name, "%s", name);
    t->refs = 1;
    return t;
}

/* "memory:" → a private table; "memory:NAME" → the shared one. */
static authc_err mem_open(const authc__store_opts *o, void **ctx, char *why)
{
    const char *name = o->url + strlen("memory:");
    if (strncmp(name, "//", 2) == 0)
        name += 2;
    if (strlen(name) >= MAX_NAME) {
        snprintf(why, AUTHC__STORE_WHY, "memory store name too long");
        return AUTHC_ERR_LIMIT;
    }
    if (!*name) {
        *ctx = table_new(o, "");
        return *ctx ? AUTHC_OK : AUTHC_ERR_NOMEM;
    }
    pthread_mutex_lock(&registry_mu);
    table *t = registry;
    while (t && strcmp(t->name, name) != 0)
        t = t->next;
    if (t) {
        t->refs++;
    } else if ((t = table_new(o, name)) != NULL) {
        t->next = registry;
        registry = t;
    }
    pthread_mutex_unlock(&registry_mu);
    *ctx = t;
    return t ? AUTHC_OK : AUTHC_ERR_NOMEM;
}

static void mem_close(void *ctx)
{
    table *t = ctx;
    if (!t)
        return;
    if (!t->name[0]) {
        table_free(t);
        return;
    }
    pthread_mutex_lock(&registry_mu);
    bool last = --t->refs == 0;
    if (last)
        for (table **pp = &registry; *pp; pp = &(*pp)->next)
            if (*pp == t) {
                *pp = t->next;
                break;
            }
    pthread_mutex_unlock(&registry_mu);
    if (last)
        table_free(t);
}

static const char *const SCHEMES[] = {"memory:", NULL};

/* Nothing to create and always reachable: no migrate, no ping. */
const authc__store_backend authc__store_memory = {
    .name = "memory",
    .schemes = SCHEMES,
    .open = mem_open,
    .close = mem_close,
    .mget = mem_mget,
    .set = mem_set,
    .if_owner = mem_if_owner,
    .del = mem_del,
    .incr = mem_incr,
    .sweep = mem_sweep,
    .scan = mem_scan,
};
