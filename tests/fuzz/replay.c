/* replay.c — runs a fuzz target without libFuzzer (gcc builds, ctest): every
 * file of the corpus directories given, plus deterministic mutations of each.
 * Usage: <target> [-mutations=N] DIR|FILE...   (N per file, default 100) */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define REPLAY_MAX (256 * 1024)

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
    return tu_xorshift64(&g_rng);
}

/* One round of byte-level mutation in place; returns the new length. The
 * same operations libFuzzer starts with: flip, insert a syntax byte, erase,
 * repeat a block, grow. */
static size_t mutate(uint8_t *b, size_t n, size_t cap)
{
    static const char syntax[] = "%;=\n\"\\/:,&{}[]0-.@ \r\x80\xff";
    int muts = 1 + (int)(next() % 6);
    for (int m = 0; m < muts; m++) {
        uint64_t x = next();
        size_t pos = n ? x % n : 0;
        switch ((x >> 32) % 6) {
        case 0: if (n) b[pos] ^= (uint8_t)(1u << ((x >> 40) % 8)); break;
        case 1: if (n) b[pos] = (uint8_t)(x >> 40); break;
        case 2:
            if (n + 1 < cap) {
                memmove(b + pos + 1, b + pos, n - pos);
                b[pos] = (uint8_t)syntax[(x >> 40) % (sizeof syntax - 1)];
                n++;
            }
            break;
        case 3:
            if (n > 1) {
                size_t k = 1 + (x >> 40) % (n - pos < 16 ? n - pos : 16);
                if (pos + k > n) k = n - pos;
                memmove(b + pos, b + pos + k, n - pos - k);
                n -= k;
            }
            break;
        case 4: {
            size_t k = 1 + (x >> 40) % 64;
            if (pos + k <= n && n + k < cap) {
                memmove(b + pos + k, b + pos, n - pos);
                n += k;
            }
            break;
        }
        case 5:
            if (n + 300 < cap) {
                memset(b + n, (int)"A0%9\xc3"[(x >> 40) % 5], 300);
                n += 300;
            }
            break;
        }
    }
    return n;
}

static long g_inputs;

static void run_file(const char *path, long mutations)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        exit(2);
    }
    uint8_t *seed = malloc(REPLAY_MAX), *buf = malloc(REPLAY_MAX);
    if (!seed || !buf)
        exit(2);
    size_t n = fread(seed, 1, REPLAY_MAX / 2, f);
    fclose(f);
    /* Exact copies so ASan sees reads past the end. */
    uint8_t *exact = malloc(n ? n : 1);
    memcpy(exact, seed, n);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    g_inputs++;
    for (long i = 0; i < mutations; i++) {
        memcpy(buf, seed, n);
        size_t m = mutate(buf, n, REPLAY_MAX);
        exact = malloc(m ? m : 1);
        memcpy(exact, buf, m);
        LLVMFuzzerTestOneInput(exact, m);
        free(exact);
        g_inputs++;
    }
    free(seed);
    free(buf);
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path, long mutations)
{
    struct stat st;
    if (stat(path, &st)) {
        fprintf(stderr, "replay: no such corpus %s\n", path);
        exit(2);
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(path, mutations);
        return;
    }
    DIR *d = opendir(path);
    char **names = NULL;
    size_t nn = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (nn + 1) * sizeof *names);
        names[nn++] = strdup(e->d_name);
    }
    if (d)
        closedir(d);
    qsort(names, nn, sizeof *names, cmp); /* same order on every machine */
    for (size_t i = 0; i < nn; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", path, names[i]);
        run_file(p, mutations);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    long mutations = 100;
    int paths = 0;
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "-mutations=", 11)) {
            mutations = atol(argv[i] + 11);
            continue;
        }
        run_path(argv[i], mutations);
        paths++;
    }
    if (!paths) {
        fprintf(stderr, "usage: %s [-mutations=N] CORPUS...\n", argv[0]);
        return 2;
    }
    printf("replay: %ld inputs, every property held\n", g_inputs);
    return 0;
}
