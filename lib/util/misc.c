/* misc.c — randomness, UUIDs, clocks and date formats, comparisons and
 * wiping: the small primitives everything else builds on. */
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util/util_int.h"

/* RAND_bytes costs ~0.5 µs a call however few bytes it returns, and a
 * session check needs three small draws (IV, jti, CSRF token): each thread
 * keeps a block of CSPRNG output and hands out bytes that are wiped as they
 * are taken. A forked child must not reuse its parent's block: a fork
 * handler bumps a generation the block is tagged with (getpid() would be a
 * system call on every draw). */
#define RAND_BLOCK 1024

static _Thread_local struct {
    unsigned char buf[RAND_BLOCK];
    size_t left;
    unsigned gen;
} tl_rand;

static _Atomic unsigned g_fork_gen = 1; /* 0 = a thread's block never filled */
static atomic_flag g_atfork = ATOMIC_FLAG_INIT;

static void after_fork_child(void)
{
    g_fork_gen++;
}

authc_err authc__random_global_init(void)
{
    /* Handlers cannot be removed: registered once per process. */
    if (!atomic_flag_test_and_set(&g_atfork) && pthread_atfork(NULL, NULL, after_fork_child)) {
        atomic_flag_clear(&g_atfork);
        return AUTHC_ERR_NOMEM;
    }
    return AUTHC_OK;
}

authc_err authc__random(void *out, size_t n)
{
    if (n > (size_t)1 << 20)
        return AUTHC_ERR_LIMIT;
    if (n > RAND_BLOCK / 4)
        return RAND_bytes(out, (int)n) == 1 ? AUTHC_OK : AUTHC_ERR_CRYPTO;
    unsigned gen = g_fork_gen;
    if (tl_rand.left < n || tl_rand.gen != gen) {
        if (RAND_bytes(tl_rand.buf, RAND_BLOCK) != 1) {
            tl_rand.left = 0;
            return AUTHC_ERR_CRYPTO;
        }
        tl_rand.left = RAND_BLOCK;
        tl_rand.gen = gen;
    }
    unsigned char *src = tl_rand.buf + (RAND_BLOCK - tl_rand.left);
    memcpy(out, src, n);
    OPENSSL_cleanse(src, n); /* never hand out, or keep, the same bytes twice */
    tl_rand.left -= n;
    return AUTHC_OK;
}

authc_err authc__uuid(char out[37])
{
    uint8_t b[16];
    authc_err e = authc__random(b, sizeof b);
    if (e)
        return e;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    static const char hexd[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hexd[b[i] >> 4];
        out[o++] = hexd[b[i] & 15];
    }
    out[o] = '\0';
    return AUTHC_OK;
}

size_t authc__i64_dec(char out[24], int64_t v)
{
    char tmp[24];
    size_t n = 0, o = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        tmp[n++] = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        out[o++] = '-';
    while (n)
        out[o++] = tmp[--n];
    out[o] = '\0';
    return o;
}

int64_t authc__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void authc__iso8601(char out[32], int64_t ms)
{
    int64_t sec = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        sec--;
    }
    /* GET /session writes one per request: format each second once, then
     * only the milliseconds. */
    static _Thread_local int64_t cached_sec = INT64_MIN;
    static _Thread_local char cached[32];
    static _Thread_local size_t cached_len;
    if (sec != cached_sec) {
        time_t t = (time_t)sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        /* JS pads the year to 4 digits and writes ±YYYYYY outside 0..9999. */
        long y = (long)tm.tm_year + 1900;
        int n = snprintf(cached, sizeof cached, y >= 0 && y <= 9999 ? "%04ld-%02d-%02dT%02d:%02d:%02d."
                                                                   : "%+07ld-%02d-%02dT%02d:%02d:%02d.",
                         y, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cached_len = n > 0 && (size_t)n < 27 ? (size_t)n : 0;
        cached_sec = sec;
    }
    memcpy(out, cached, cached_len);
    char *o = out + cached_len;
    o[0] = (char)('0' + rem / 100);
    o[1] = (char)('0' + rem / 10 % 10);
    o[2] = (char)('0' + rem % 10);
    o[3] = 'Z';
    o[4] = '\0';
}

void authc__http_date(char out[40], int64_t sec)
{
    /* Most responses in a second share their dates: format each once. */
    static _Thread_local int64_t cached_sec = -1;
    static _Thread_local char cached[40];
    if (sec == cached_sec) {
        memcpy(out, cached, 40);
        return;
    }
    static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    /* strftime's %a/%b follow the locale; HTTP needs the English names. */
    size_t n = (size_t)snprintf(out, 40, "%s, %02d %s ", days[tm.tm_wday], tm.tm_mday,
                                mons[tm.tm_mon]);
    strftime(out + n, 40 - n, "%Y %H:%M:%S GMT", &tm);
    memcpy(cached, out, 40);
    cached_sec = sec;
}

bool authc__ct_streq(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return false;
    return CRYPTO_memcmp(a, b, la) == 0;
}

bool authc__ct_memeq8(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;
    uint64_t d = 0;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t x, y;
        memcpy(&x, p + i, 8);
        memcpy(&y, q + i, 8);
        d |= x ^ y;
    }
    return d == 0 && n % 8 == 0;
}

bool authc__strieq(const char *a, const char *b)
{
    return a && b && strcasecmp(a, b) == 0;
}

bool authc__starts_with(const char *s, const char *prefix)
{
    return s && prefix && strncmp(s, prefix, strlen(prefix)) == 0;
}

void authc__wipe(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}

void authc__free_secret(char *s)
{
    if (s)
        authc__wipe(s, strlen(s));
    free(s);
}

void authc__logv(authc_log_fn log, void *ud, const char *level, const char *fmt, va_list ap)
{
    if (!log)
        return;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    log(ud, level, msg);
}

bool authc__json_int(const struct json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return true;
    }
    if (!json_is_real(v))
        return false;
    double d = json_real_value(v);
    if (!(d >= -0x1p63 && d < 0x1p63)) /* also false for NaN */
        return false;
    *out = (int64_t)d;
    return true;
}
