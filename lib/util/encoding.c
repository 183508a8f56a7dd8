/* encoding.c — base64url / base64 / hex encoding and decoding with strict
 * input checks; outputs live in the caller's arena. */
#include <pthread.h>
#include <string.h>

#include "util/util_int.h"

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char B64STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t enc(char *out, const uint8_t *in, size_t n, const char *alpha, bool pad)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        out[o++] = alpha[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        if (pad) { out[o++] = '='; out[o++] = '='; }
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        if (pad) out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

/* Decoding tables: value 0..63, or 0xff for a byte outside the alphabet. */
static uint8_t T_URL[256], T_STD[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void)
{
    memset(T_URL, 0xff, sizeof T_URL);
    memset(T_STD, 0xff, sizeof T_STD);
    for (int i = 0; i < 64; i++) {
        T_URL[(unsigned char)B64URL[i]] = (uint8_t)i;
        T_STD[(unsigned char)B64STD[i]] = (uint8_t)i;
    }
}

/* Decodes unpadded input; rejects stray characters and non-canonical
 * trailing bits. Returns bytes written or -1. */
static long dec(uint8_t *out, size_t cap, const char *in, size_t n, bool url)
{
    pthread_once(&tables_once, tables_init);
    const uint8_t *T = url ? T_URL : T_STD;
    const unsigned char *p = (const unsigned char *)in;
    size_t rem = n % 4;
    if (rem == 1)
        return -1;
    size_t need = n / 4 * 3 + (rem ? rem - 1 : 0);
    if (need > cap)
        return -1;
    size_t o = 0, i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t a = T[p[i]], b = T[p[i + 1]], c = T[p[i + 2]], d = T[p[i + 3]];
        if ((a | b | c | d) & 0x80)
            return -1;
        uint32_t v = a << 18 | b << 12 | c << 6 | d;
        out[o++] = (uint8_t)(v >> 16);
        out[o++] = (uint8_t)(v >> 8);
        out[o++] = (uint8_t)v;
    }
    if (rem) {
        uint32_t a = T[p[i]], b = T[p[i + 1]], c = rem == 3 ? T[p[i + 2]] : 0;
        if ((a | b | c) & 0x80)
            return -1;
        uint32_t v = a << 18 | b << 12 | c << 6;
        out[o++] = (uint8_t)(v >> 16);
        if (rem == 3)
            out[o++] = (uint8_t)(v >> 8);
        /* Leftover bits must be zero (canonical encoding). */
        if ((rem == 2 && (v & 0xffff)) || (rem == 3 && (v & 0xff)))
            return -1;
    }
    return (long)o;
}

size_t authc__b64url_encode_to(char *out, const uint8_t *in, size_t n)
{
    return enc(out, in, n, B64URL, false);
}

long authc__b64url_decode_to(uint8_t *out, size_t cap, const char *in, size_t n)
{
    return dec(out, cap, in, n, true);
}

char *authc__b64url_encode(authc_arena *ar, const uint8_t *in, size_t n)
{
    char *out = authc_arena_alloc(ar, (n + 2) / 3 * 4 + 1);
    if (out)
        enc(out, in, n, B64URL, false);
    return out;
}

uint8_t *authc__b64url_decode(authc_arena *ar, const char *in, size_t n, size_t *outlen)
{
    size_t cap = n / 4 * 3 + 3;
    uint8_t *out = authc_arena_alloc(ar, cap + 1);
    if (!out)
        return NULL;
    long r = dec(out, cap, in, n, true);
    if (r < 0)
        return NULL;
    out[r] = 0;
    *outlen = (size_t)r;
    return out;
}

char *authc__b64_encode(authc_arena *ar, const uint8_t *in, size_t n)
{
    char *out = authc_arena_alloc(ar, (n + 2) / 3 * 4 + 1);
    if (out)
        enc(out, in, n, B64STD, true);
    return out;
}

uint8_t *authc__b64_decode(authc_arena *ar, const char *in, size_t n, size_t *outlen)
{
    /* Padding is optional on input but must be well placed. */
    while (n > 0 && in[n - 1] == '=')
        n--;
    size_t cap = n / 4 * 3 + 3;
    uint8_t *out = authc_arena_alloc(ar, cap + 1);
    if (!out)
        return NULL;
    long r = dec(out, cap, in, n, false);
    if (r < 0)
        return NULL;
    out[r] = 0;
    *outlen = (size_t)r;
    return out;
}

void authc__hex(char *out, const uint8_t *in, size_t n)
{
    static const char hexd[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexd[in[i] >> 4];
        out[2 * i + 1] = hexd[in[i] & 15];
    }
    out[2 * n] = '\0';
}
