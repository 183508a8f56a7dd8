/* alloc.c — allocation-failure injection for the torture test: malloc and
 * friends interposed in the executable, the Nth counted allocation fails. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "torture.h"

/* Forwarding targets: glibc's own entry points. In an ASan build these
 * bypass ASan's allocator (heap redzones are lost for this one test, the
 * stack, globals and UBSan still hold), which keeps ASan's start-up, when
 * nothing is resolved yet, out of the way; leaks are counted here. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

/* ASan's start-up calls malloc before its shadow memory exists: the
 * allocator entry points must not be instrumented. */
#define NOSAN __attribute__((no_sanitize_address, no_sanitize("undefined")))

static _Thread_local bool t_armed;  /* only the torture thread's request counts */
static atomic_long g_seen;          /* counted allocations since arming */
static long g_fail_at;              /* 1-based index that fails; 0 = none */
static atomic_bool g_failed;
static atomic_long g_live;          /* blocks handed out and not yet freed */

/* True when this allocation is the one that must fail. */
NOSAN static bool inject(void)
{
    if (!t_armed)
        return false;
    long k = atomic_fetch_add(&g_seen, 1) + 1;
    if (g_fail_at && k == g_fail_at) {
        atomic_store(&g_failed, true);
        return true;
    }
    return false;
}

NOSAN void *malloc(size_t n)
{
    if (inject())
        return NULL;
    void *p = __libc_malloc(n);
    if (p)
        atomic_fetch_add(&g_live, 1);

    return p;
}

NOSAN void *calloc(size_t m, size_t n)
{
    if (inject())
        return NULL;
    void *p = __libc_calloc(m, n);
    if (p)
        atomic_fetch_add(&g_live, 1);
    return p;
}

NOSAN void *realloc(void *old, size_t n)
{
    if (!old)
        return malloc(n);
    if (n == 0) {
        free(old);
        return NULL;
    }
    if (inject())
        return NULL;
    return __libc_realloc(old, n);
}

NOSAN void free(void *p)
{
    if (!p)
        return;
    atomic_fetch_sub(&g_live, 1);
    __libc_free(p);
}

/* Aligned allocations are counted (free() sees them) but never failed:
 * only OpenSSL's rare aligned buffers use them. */
NOSAN int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return 22; /* EINVAL */
    void *p = __libc_memalign(align, n);
    if (!p)
        return 12; /* ENOMEM */
    atomic_fetch_add(&g_live, 1);
    *out = p;
    return 0;
}

NOSAN void *aligned_alloc(size_t align, size_t n)
{
    void *p = NULL;
    return posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, n) ? NULL : p;
}

char *strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    return p ? memcpy(p, s, n) : NULL;
}

char *strndup(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void torture_arm(long fail_at)
{
    atomic_store(&g_seen, 0);
    atomic_store(&g_failed, false);
    g_fail_at = fail_at;
    t_armed = true;
}

bool torture_disarm(long *seen)
{
    t_armed = false;
    if (seen)
        *seen = atomic_load(&g_seen);
    return atomic_load(&g_failed);
}

long torture_live(void)
{
    return atomic_load(&g_live);
}
