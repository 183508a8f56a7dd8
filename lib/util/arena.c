/* arena.c — per-request bump allocator: everything a request allocates is
 * released in one call. Chunks grow geometrically; big blocks get their own. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authc.h"

#define ARENA_FIRST 4096
#define ARENA_ALIGN 16

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} chunk;

struct authc_arena {
    chunk *head;
    size_t next_cap;
};

/* Each thread keeps one freed arena with its first chunk for the next
 * authc_arena_new: a request then makes no malloc/free pair for its
 * arena (≈ 1k instructions of glibc's 4 KiB path). Freed with the thread. */
static pthread_key_t g_spare_key;
static pthread_once_t g_spare_once = PTHREAD_ONCE_INIT;
static bool g_spare_ok;
static _Thread_local authc_arena *t_spare;

static void free_all(authc_arena *ar)
{
    chunk *c = ar->head;
    while (c) {
        chunk *n = c->next;
        free(c);
        c = n;
    }
    free(ar);
}

static void spare_dtor(void *p)
{
    free_all(p);
}

/* Not under AddressSanitizer: a recycled chunk would hide a use after
 * authc_arena_free from it. */
static void spare_init(void)
{
#if defined(__SANITIZE_ADDRESS__)
    (void)spare_dtor;
    g_spare_ok = false;
#else
    g_spare_ok = pthread_key_create(&g_spare_key, spare_dtor) == 0;
#endif
}

/* Returns a new arena owned by the caller (authc_arena_free), NULL on OOM. */
authc_arena *authc_arena_new(void)
{
    authc_arena *ar = t_spare;
    if (ar) {
        t_spare = NULL;
        pthread_setspecific(g_spare_key, NULL);
        return ar;
    }
    ar = calloc(1, sizeof *ar);
    if (ar)
        ar->next_cap = ARENA_FIRST;
    return ar;
}

void authc_arena_free(authc_arena *ar)
{
    if (!ar)
        return;
    /* The first chunk is the list's last (later ones go in front of it or
     * behind the head). Keep it, emptied, when this thread has no spare. */
    chunk *last = ar->head;
    while (last && last->next)
        last = last->next;
    pthread_once(&g_spare_once, spare_init);
    if (t_spare || !g_spare_ok || !last || last->cap != ARENA_FIRST ||
        pthread_setspecific(g_spare_key, ar) != 0) {
        free_all(ar);
        return;
    }
    for (chunk *c = ar->head; c != last;) {
        chunk *n = c->next;
        free(c);
        c = n;
    }
    last->used = 0;
    ar->head = last;
    ar->next_cap = ARENA_FIRST * 2; /* as after the first chunk's allocation */
    t_spare = ar;
}

/* Zeroed memory owned by ar; NULL on OOM or overflow. */
void *authc_arena_alloc(authc_arena *ar, size_t n)
{
    if (!ar)
        return NULL;
    if (n == 0)
        n = 1;
    if (n > ((size_t)1 << 40))
        return NULL;
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    chunk *c = ar->head;
    if (!c || c->cap - c->used < need) {
        size_t cap = ar->next_cap;
        while (cap < need)
            cap *= 2;
        chunk *nc = malloc(sizeof *nc + cap);
        if (!nc)
            return NULL;
        nc->used = 0;
        nc->cap = cap;
        /* A block larger than the growth step goes behind the head so the
         * head's free space stays usable. */
        if (c && cap > ar->next_cap) {
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            ar->head = nc;
            if (ar->next_cap < 256 * 1024)
                ar->next_cap *= 2;
        }
        c = nc;
    }
    void *p = c->data + c->used;
    c->used += need;
    memset(p, 0, n);
    return p;
}

char *authc_arena_strndup(authc_arena *ar, const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *p = authc_arena_alloc(ar, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *authc_arena_strdup(authc_arena *ar, const char *s)
{
    return s ? authc_arena_strndup(ar, s, strlen(s)) : NULL;
}

void *authc__arena_grow(authc_arena *ar, void *items, size_t n, size_t *cap, size_t size,
                        size_t first)
{
    if (n < *cap)
        return items;
    size_t nc = *cap ? *cap * 2 : first;
    if (nc < n + 1 || nc > SIZE_MAX / size)
        return NULL;
    void *p = authc_arena_alloc(ar, nc * size);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, items, n * size);
    *cap = nc;
    return p;
}

char *authc__arena_vprintf(authc_arena *ar, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *p = authc_arena_alloc(ar, (size_t)n + 1);
    if (p)
        vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *authc_arena_printf(authc_arena *ar, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = authc__arena_vprintf(ar, fmt, ap);
    va_end(ap);
    return p;
}
