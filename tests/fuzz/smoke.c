/* smoke.c — runs the fuzz target without libFuzzer: the seed corpus plus a
 * bounded number of deterministic mutations, so `make test` (and ASan)
 * exercise the same code on every run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *SEEDS[] = {
    "GET\n/auth/session\nCookie: authjs.session-token=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIn0..AAAA.BBBB.CCCC\nHost: h\n\n",
    "POST\n/auth/callback/credentials\nContent-Type: application/x-www-form-urlencoded\nHost: h\n\ncsrfToken=%zz&username=a&password=b",
    "POST\n/auth/session\nContent-Type: application/json\nHost: h\n\n{\"csrfToken\":1,\"data\":{\"a\":[1,2,{\"b\":null}]}}",
    "GET\nhttp://h/auth/signin?callbackUrl=%2F%2Fevil&error=<script>\nAccept-Language: zh-CN;q=0.9,en;q=0.1\n\n",
    "POST\n/auth/signout\nX-Auth-Return-Redirect: 1\nCookie: authjs.csrf-token=aa%7Cbb; authjs.session-token.0=x; authjs.session-token.1=y\nHost: [::1]:80\n\ncsrfToken=aa",
    "GET\n/auth/error?error=Verification\nX-Forwarded-Host: a.b, c.d\nX-Forwarded-Proto: https\nHost: x\n\n",
    "GET\n/auth//providers//\nHost: h\n\n",
    "DELETE\n/auth/session\nHost: h\n\n",
    "POST\n/auth/signin/credentials\nContent-Type: application/json\nHost: h\n\n{\"a\":\"\\u0000\",\"a\":2}",
};

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 20000;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    size_t nseeds = sizeof SEEDS / sizeof *SEEDS;
    static uint8_t buf[8192];
    for (size_t i = 0; i < nseeds; i++)
        LLVMFuzzerTestOneInput((const uint8_t *)SEEDS[i], strlen(SEEDS[i]));
    for (long it = 0; it < iters; it++) {
        const char *s = SEEDS[it % nseeds];
        size_t n = strlen(s);
        memcpy(buf, s, n);
        int muts = 1 + (int)(x % 8);
        for (int m = 0; m < muts; m++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            size_t pos = n ? x % n : 0;
            switch ((x >> 32) % 4) {
            case 0: buf[pos] = (uint8_t)(x >> 40); break;                 /* flip a byte */
            case 1: if (n < sizeof buf - 64) { memmove(buf + pos + 1, buf + pos, n - pos); buf[pos] = "%;=\n\"\\/:,&"[x % 11]; n++; } break;
            case 2: if (n > 1) { memmove(buf + pos, buf + pos + 1, n - pos - 1); n--; } break;
            case 3: if (n < sizeof buf - 600) { memset(buf + n, 'A' + (int)(x % 26), 512); n += 512; } break;
            }
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("fuzz smoke: %ld inputs, no crash, no session\n", iters + (long)nseeds);
    return 0;
}
