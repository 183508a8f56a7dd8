/* alloc.c — allocation-failure injection for the torture test: malloc and
 * friends interposed in the executable, the Nth counted allocation fails. */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "torture.h"

/* Forwarding targets, found with dlsym(RTLD_NEXT): glibc's allocator in a
 * plain build, ASan's in a sanitizer build (so ASan still sees every block
 * and LeakSanitizer still reports leaks). */
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);

/* dlsym may itself call calloc before the pointers are known: serve those
 * few early requests from a static area that is never freed. */
static _Alignas(16) unsigned char g_boot[4096];
static size_t g_boot_used;
static bool g_resolving;

static _Thread_local bool t_armed;  /* only the torture thread's request counts */
static atomic_long g_seen;          /* counted allocations since arming */
static long g_fail_at;              /* 1-based index that fails; 0 = none */
static atomic_bool g_failed;
static atomic_long g_live;          /* blocks handed out and not yet freed */

static void resolve(void)
{
    if (real_free || g_resolving)
        return;
    g_resolving = true;
    real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    g_resolving = false;
    if (!real_malloc || !real_calloc || !real_realloc || !real_free)
        abort();
}

static bool boot_ptr(const void *p)
{
    return (const unsigned char *)p >= g_boot && (const unsigned char *)p < g_boot + sizeof g_boot;
}

static void *boot_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (g_boot_used + n > sizeof g_boot)
        return NULL;
    void *p = g_boot + g_boot_used;
    g_boot_used += n;
    return p;
}

/* True when this allocation is the one that must fail. */
static bool inject(void)
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

void *malloc(size_t n)
{
    resolve();
    if (!real_malloc)
        return boot_alloc(n);
    if (inject())
        return NULL;
    void *p = real_malloc(n);
    if (p)
        atomic_fetch_add(&g_live, 1);

    return p;
}

void *calloc(size_t m, size_t n)
{
    resolve();
    if (!real_calloc)
        return boot_alloc(m * n); /* zeroed: static storage */
    if (inject())
        return NULL;
    void *p = real_calloc(m, n);
    if (p)
        atomic_fetch_add(&g_live, 1);
    return p;
}

void *realloc(void *old, size_t n)
{
    resolve();
    if (!old)
        return malloc(n);
    if (boot_ptr(old)) { /* never happens in practice; keep it simple */
        void *p = malloc(n);
        if (p)
            memcpy(p, old, n);
        return p;
    }
    if (n == 0) {
        free(old);
        return NULL;
    }
    if (inject())
        return NULL;
    return real_realloc(old, n);
}

void free(void *p)
{
    if (!p || boot_ptr(p))
        return;
    resolve();

    atomic_fetch_sub(&g_live, 1);
    real_free(p);
}

/* Aligned allocations are counted (free() sees them) but never failed:
 * only OpenSSL's rare aligned buffers use them. */
int posix_memalign(void **out, size_t align, size_t n)
{
    static int (*real)(void **, size_t, size_t);
    if (!real)
        real = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
    int rc = real(out, align, n);
    if (rc == 0)
        atomic_fetch_add(&g_live, 1);
    return rc;
}

void *aligned_alloc(size_t align, size_t n)
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
