/* encoding.c — base64url / base64 / hex encoding and decoding with strict
 * input checks; outputs live in the caller's arena. */
#include <string.h>

#include "util/util_int.h"

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char B64STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encoding tables of character pairs: entry i (12 bits of input) is the
 * two characters at 2i, so three bytes need two loads. Built by the
 * preprocessor from string literals (64 rows of 64 pairs). */
#define P_COLS(c) \
    c "A" c "B" c "C" c "D" c "E" c "F" c "G" c "H" c "I" c "J" c "K" c "L" c "M" c "N" c "O" \
    c "P" c "Q" c "R" c "S" c "T" c "U" c "V" c "W" c "X" c "Y" c "Z" c "a" c "b" c "c" c "d" \
    c "e" c "f" c "g" c "h" c "i" c "j" c "k" c "l" c "m" c "n" c "o" c "p" c "q" c "r" c "s" \
    c "t" c "u" c "v" c "w" c "x" c "y" c "z" c "0" c "1" c "2" c "3" c "4" c "5" c "6" c "7" \
    c "8" c "9"
#define P_URL(c) P_COLS(c) c "-" c "_"
#define P_STD(c) P_COLS(c) c "+" c "/"
/* Rows by first character; the last two differ per alphabet. */
#define P_ROWS(P, a, b) \
    P("A") P("B") P("C") P("D") P("E") P("F") P("G") P("H") P("I") P("J") P("K") P("L") P("M") \
    P("N") P("O") P("P") P("Q") P("R") P("S") P("T") P("U") P("V") P("W") P("X") P("Y") P("Z") \
    P("a") P("b") P("c") P("d") P("e") P("f") P("g") P("h") P("i") P("j") P("k") P("l") P("m") \
    P("n") P("o") P("p") P("q") P("r") P("s") P("t") P("u") P("v") P("w") P("x") P("y") P("z") \
    P("0") P("1") P("2") P("3") P("4") P("5") P("6") P("7") P("8") P("9") P(a) P(b)
static const char PAIRS_URL[64 * 64 * 2 + 1] = P_ROWS(P_URL, "-", "_");
static const char PAIRS_STD[64 * 64 * 2 + 1] = P_ROWS(P_STD, "+", "/");
#undef P_ROWS
#undef P_COLS
#undef P_URL
#undef P_STD

static size_t enc(char *out, const uint8_t *in, size_t n, const char *alpha, bool pad)
{
    const char *pairs = alpha == B64URL ? PAIRS_URL : PAIRS_STD;
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3, o += 4) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        memcpy(out + o, pairs + 2 * (v >> 12), 2);
        memcpy(out + o + 2, pairs + 2 * (v & 0xfff), 2);
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

/* Decoding tables, one per quad position and alphabet: the 6-bit value
 * already shifted to its place, plus a presence bit (24 + position), so a
 * quad decodes with four loads and three ORs, and is good exactly when
 * all four presence bits are set (any other byte is 0 in every table).
 * Constant, so they need no set-up. */
#define B64_COMMON(X)                                                                              \
    X('A', 0) X('B', 1) X('C', 2) X('D', 3) X('E', 4) X('F', 5) X('G', 6) X('H', 7) X('I', 8)     \
    X('J', 9) X('K', 10) X('L', 11) X('M', 12) X('N', 13) X('O', 14) X('P', 15) X('Q', 16)        \
    X('R', 17) X('S', 18) X('T', 19) X('U', 20) X('V', 21) X('W', 22) X('X', 23) X('Y', 24)       \
    X('Z', 25) X('a', 26) X('b', 27) X('c', 28) X('d', 29) X('e', 30) X('f', 31) X('g', 32)       \
    X('h', 33) X('i', 34) X('j', 35) X('k', 36) X('l', 37) X('m', 38) X('n', 39) X('o', 40)       \
    X('p', 41) X('q', 42) X('r', 43) X('s', 44) X('t', 45) X('u', 46) X('v', 47) X('w', 48)       \
    X('x', 49) X('y', 50) X('z', 51) X('0', 52) X('1', 53) X('2', 54) X('3', 55) X('4', 56)       \
    X('5', 57) X('6', 58) X('7', 59) X('8', 60) X('9', 61)
#define B64_URL(X) B64_COMMON(X) X('-', 62) X('_', 63)
#define B64_STD(X) B64_COMMON(X) X('+', 62) X('/', 63)
#define E0(c, v) [c] = (1u << 24) | (uint32_t)(v) << 18,
#define E1(c, v) [c] = (1u << 25) | (uint32_t)(v) << 12,
#define E2(c, v) [c] = (1u << 26) | (uint32_t)(v) << 6,
#define E3(c, v) [c] = (1u << 27) | (uint32_t)(v),
#define ALL_PRESENT (0xfu << 24)
static const uint32_t D_URL[4][256] = {{B64_URL(E0)}, {B64_URL(E1)}, {B64_URL(E2)}, {B64_URL(E3)}};
static const uint32_t D_STD[4][256] = {{B64_STD(E0)}, {B64_STD(E1)}, {B64_STD(E2)}, {B64_STD(E3)}};
#undef E0
#undef E1
#undef E2
#undef E3

/* Decodes unpadded input; rejects stray characters and non-canonical
 * trailing bits. Returns bytes written or -1. */
static long dec(uint8_t *out, size_t cap, const char *in, size_t n, bool url)
{
    const uint32_t(*D)[256] = url ? D_URL : D_STD;
    const unsigned char *p = (const unsigned char *)in;
    size_t rem = n % 4;
    if (rem == 1)
        return -1;
    size_t need = n / 4 * 3 + (rem ? rem - 1 : 0);
    if (need > cap)
        return -1;
    size_t o = 0, i = 0;
    for (; i + 4 <= n; i += 4, o += 3) {
        uint32_t v = D[0][p[i]] | D[1][p[i + 1]] | D[2][p[i + 2]] | D[3][p[i + 3]];
        if ((v & ALL_PRESENT) != ALL_PRESENT)
            return -1;
        out[o] = (uint8_t)(v >> 16);
        out[o + 1] = (uint8_t)(v >> 8);
        out[o + 2] = (uint8_t)v;
    }
    if (rem) {
        /* The missing characters count as present zeros. */
        uint32_t v = D[0][p[i]] | D[1][p[i + 1]] | (rem == 3 ? D[2][p[i + 2]] : 1u << 26) | 1u << 27;
        if ((v & ALL_PRESENT) != ALL_PRESENT)
            return -1;
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

/* The two hex digits of every byte, built from string literals. */
#define HEX_ROW(c)                                                                                 \
    c "0" c "1" c "2" c "3" c "4" c "5" c "6" c "7" c "8" c "9" c "a" c "b" c "c" c "d" c "e" c "f"
static const char HEX_PAIRS[256 * 2 + 1] =
    HEX_ROW("0") HEX_ROW("1") HEX_ROW("2") HEX_ROW("3") HEX_ROW("4") HEX_ROW("5") HEX_ROW("6")
    HEX_ROW("7") HEX_ROW("8") HEX_ROW("9") HEX_ROW("a") HEX_ROW("b") HEX_ROW("c") HEX_ROW("d")
    HEX_ROW("e") HEX_ROW("f");
#undef HEX_ROW

void authc__hex(char *out, const uint8_t *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        memcpy(out + 2 * i, HEX_PAIRS + 2 * in[i], 2);
    out[2 * n] = '\0';
}
