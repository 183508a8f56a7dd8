/* encoding.c — base64url / base64 / hex encoding and decoding with strict
 * input checks; outputs live in the caller's arena. */
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

/* Decoding table shared by both alphabets: VALID | value for the common
 * characters, plus URL_ONLY or STD_ONLY for the two that differ; 0 for
 * any other byte. Constant, so it needs no set-up. */
enum { VALID = 0x40, URL_ONLY = 0x80, STD_ONLY = 0x100 };
#define OK(v) (VALID | (v))
#define URL(v) (VALID | URL_ONLY | (v))
#define STD(v) (VALID | STD_ONLY | (v))
static const uint16_t T_B64[256] = {
    ['A'] = OK(0), ['B'] = OK(1), ['C'] = OK(2), ['D'] = OK(3), ['E'] = OK(4), ['F'] = OK(5),
    ['G'] = OK(6), ['H'] = OK(7), ['I'] = OK(8), ['J'] = OK(9), ['K'] = OK(10), ['L'] = OK(11),
    ['M'] = OK(12), ['N'] = OK(13), ['O'] = OK(14), ['P'] = OK(15), ['Q'] = OK(16), ['R'] = OK(17),
    ['S'] = OK(18), ['T'] = OK(19), ['U'] = OK(20), ['V'] = OK(21), ['W'] = OK(22), ['X'] = OK(23),
    ['Y'] = OK(24), ['Z'] = OK(25), ['a'] = OK(26), ['b'] = OK(27), ['c'] = OK(28), ['d'] = OK(29),
    ['e'] = OK(30), ['f'] = OK(31), ['g'] = OK(32), ['h'] = OK(33), ['i'] = OK(34), ['j'] = OK(35),
    ['k'] = OK(36), ['l'] = OK(37), ['m'] = OK(38), ['n'] = OK(39), ['o'] = OK(40), ['p'] = OK(41),
    ['q'] = OK(42), ['r'] = OK(43), ['s'] = OK(44), ['t'] = OK(45), ['u'] = OK(46), ['v'] = OK(47),
    ['w'] = OK(48), ['x'] = OK(49), ['y'] = OK(50), ['z'] = OK(51), ['0'] = OK(52), ['1'] = OK(53),
    ['2'] = OK(54), ['3'] = OK(55), ['4'] = OK(56), ['5'] = OK(57), ['6'] = OK(58), ['7'] = OK(59),
    ['8'] = OK(60), ['9'] = OK(61), ['-'] = URL(62), ['_'] = URL(63), ['+'] = STD(62), ['/'] = STD(63),
};
#undef OK
#undef URL
#undef STD

/* Decodes unpadded input; rejects stray characters and non-canonical
 * trailing bits. Returns bytes written or -1. */
static long dec(uint8_t *out, size_t cap, const char *in, size_t n, bool url)
{
    /* A quad is good when every entry has VALID and none has the other
     * alphabet's bit: two tests per quad, no branch per character. */
    const uint16_t *T = T_B64, reject = url ? STD_ONLY : URL_ONLY;
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
        if (!(a & b & c & d & VALID) || ((a | b | c | d) & reject))
            return -1;
        uint32_t v = (a & 63) << 18 | (b & 63) << 12 | (c & 63) << 6 | (d & 63);
        out[o++] = (uint8_t)(v >> 16);
        out[o++] = (uint8_t)(v >> 8);
        out[o++] = (uint8_t)v;
    }
    if (rem) {
        uint32_t a = T[p[i]], b = T[p[i + 1]], c = rem == 3 ? T[p[i + 2]] : VALID;
        if (!(a & b & c & VALID) || ((a | b | c) & reject))
            return -1;
        uint32_t v = (a & 63) << 18 | (b & 63) << 12 | (c & 63) << 6;
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

/* Encodes into arena memory (NUL-terminated); NULL on OOM. */
static char *enc_arena(authc_arena *ar, const uint8_t *in, size_t n, const char *alphabet, bool pad)
{
    char *out = authc_arena_alloc(ar, (n + 2) / 3 * 4 + 1);
    if (out)
        enc(out, in, n, alphabet, pad);
    return out;
}

char *authc__b64url_encode(authc_arena *ar, const uint8_t *in, size_t n)
{
    return enc_arena(ar, in, n, B64URL, false);
}

/* Decodes into arena memory (NUL-terminated for convenience). */
static uint8_t *dec_arena(authc_arena *ar, const char *in, size_t n, bool url, size_t *outlen)
{
    size_t cap = n / 4 * 3 + 3;
    uint8_t *out = authc_arena_alloc(ar, cap + 1);
    long r = out ? dec(out, cap, in, n, url) : -1;
    if (r < 0)
        return NULL;
    out[r] = 0;
    *outlen = (size_t)r;
    return out;
}

uint8_t *authc__b64url_decode(authc_arena *ar, const char *in, size_t n, size_t *outlen)
{
    return dec_arena(ar, in, n, true, outlen);
}

char *authc__b64_encode(authc_arena *ar, const uint8_t *in, size_t n)
{
    return enc_arena(ar, in, n, B64STD, true);
}

uint8_t *authc__b64_decode(authc_arena *ar, const char *in, size_t n, size_t *outlen)
{
    /* Padding is optional on input; when present it must complete the
     * last quad exactly ("QQ==", "QUI="), never more or less. */
    size_t pad = 0;
    while (n > 0 && in[n - 1] == '=' && pad < 3)
        n--, pad++;
    if (pad && (pad > 2 || (n + pad) % 4 != 0))
        return NULL;
    return dec_arena(ar, in, n, false, outlen);
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
