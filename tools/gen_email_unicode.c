/* gen_email_unicode.c — generates lib/providers/email_unicode_tables.h (NFKC
 * and JS toLowerCase data) from the system ICU; not part of the build.
 *
 *   gcc -O2 -o /tmp/gen tools/gen_email_unicode.c $(pkg-config --cflags --libs icu-uc)
 *   /tmp/gen > lib/providers/email_unicode_tables.h
 *
 * V8 (Node) implements String.prototype.normalize and toLowerCase with ICU,
 * so tables taken from ICU reproduce Auth.js's normaliser exactly for every
 * code point of ICU's Unicode version. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/uversion.h>

#define MAXCP 0x10FFFF

static int to_cps(const UChar *s, int32_t n, uint32_t *out, int max)
{
    int k = 0;
    for (int32_t i = 0; i < n;) {
        UChar32 c;
        U16_NEXT(s, i, n, c);
        if (k == max) {
            fprintf(stderr, "mapping too long\n");
            exit(1);
        }
        out[k++] = (uint32_t)c;
    }
    return k;
}

static int from_cp(uint32_t cp, UChar *s)
{
    int32_t i = 0;
    UBool err = 0;
    U16_APPEND((UChar *)s, i, 4, (UChar32)cp, err);
    (void)err;
    return i;
}

static int is_hangul_syllable(uint32_t cp)
{
    return cp >= 0xAC00 && cp <= 0xD7A3;
}

static int is_surrogate(uint32_t cp)
{
    return cp >= 0xD800 && cp <= 0xDFFF;
}

/* A mapping table: entries {cp, offset, len} into a pool, in cp order. */
typedef struct map {
    uint32_t *cp, *off, *len, n, cap;
    uint32_t *pool, pn, pcap;
} map;

static void map_add(map *m, uint32_t cp, const uint32_t *v, int n)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 1024;
        m->cp = realloc(m->cp, m->cap * sizeof *m->cp);
        m->off = realloc(m->off, m->cap * sizeof *m->off);
        m->len = realloc(m->len, m->cap * sizeof *m->len);
    }
    while (m->pn + (uint32_t)n > m->pcap) {
        m->pcap = m->pcap ? m->pcap * 2 : 4096;
        m->pool = realloc(m->pool, m->pcap * sizeof *m->pool);
    }
    if (!m->cp || !m->off || !m->len || !m->pool)
        exit(2);
    m->cp[m->n] = cp;
    m->off[m->n] = m->pn;
    m->len[m->n] = (uint32_t)n;
    m->n++;
    for (int i = 0; i < n; i++)
        m->pool[m->pn++] = v[i];
}

/* Shortest run of one-to-one mappings worth a row of the run table. */
#define MIN_RUN 4

/* The single code point entry i maps to, or UINT32_MAX when it maps to
 * more than one. */
static uint32_t map_single(const map *m, uint32_t i)
{
    return m->len[i] == 1 ? m->pool[m->off[i]] : UINT32_MAX;
}

/* How many entries from i on form a run: single mappings whose code points
 * are `step` apart (1 or 2, nothing mapped between) and whose targets move
 * with them (target - cp constant). */
static uint32_t run_length(const map *m, uint32_t i, uint32_t *step)
{
    uint32_t t = map_single(m, i);
    if (t == UINT32_MAX || i + 1 >= m->n || map_single(m, i + 1) == UINT32_MAX)
        return 1;
    *step = m->cp[i + 1] - m->cp[i];
    if (*step > 2)
        return 1;
    uint32_t k = 1;
    while (i + k < m->n && m->cp[i + k] == m->cp[i] + k * *step &&
           map_single(m, i + k) == t + k * *step)
        k++;
    return k;
}

/* Emits a mapping as two tables: runs {first cp, last cp, step, target of
 * the first} (NAME_RUN, where target = first target + (cp - first cp)), and
 * for the rest, keys into a pool of targets (NAME_KEY, NAME_OFF, NAME_POOL). */
static void map_emit(const map *m, const char *name)
{
    map rest = {0};
    uint32_t nrun = 0;
    printf("static const uint32_t %s_RUN[][4] = {", name);
    for (uint32_t i = 0; i < m->n;) {
        uint32_t step = 1, k = run_length(m, i, &step);
        if (k >= MIN_RUN) {
            printf("%s{0x%x,0x%x,%u,0x%x},", nrun % 4 ? "" : "\n", m->cp[i],
                   m->cp[i + k - 1], step, map_single(m, i));
            nrun++;
            i += k;
            continue;
        }
        for (uint32_t j = i; j < i + k; j++)
            map_add(&rest, m->cp[j], m->pool + m->off[j], (int)m->len[j]);
        i += k;
    }
    printf("\n};\n#define %s_RUN_N %uu\n", name, nrun);
    printf("static const uint32_t %s_POOL[%u] = {", name, rest.pn);
    for (uint32_t i = 0; i < rest.pn; i++)
        printf("%s0x%x,", i % 12 ? "" : "\n", rest.pool[i]);
    printf("\n};\n");
    /* cp in the low 21 bits, length in the top 11; offset separate. */
    printf("static const uint32_t %s_KEY[%u] = {", name, rest.n);
    for (uint32_t i = 0; i < rest.n; i++)
        printf("%s0x%x,", i % 10 ? "" : "\n", rest.cp[i] | (rest.len[i] << 21));
    printf("\n};\n");
    printf("static const uint16_t %s_OFF[%u] = {", name, rest.n);
    for (uint32_t i = 0; i < rest.n; i++)
        printf("%s%u,", i % 14 ? "" : "\n", rest.off[i]);
    printf("\n};\n#define %s_N %uu\n\n", name, rest.n);
    if (rest.pn > 0xFFFF) {
        fprintf(stderr, "pool too large for uint16 offsets\n");
        exit(1);
    }
}

/* Emits ranges [start,end] where pred(cp) is true, with an optional value. */
static void ranges_emit(const char *name, int (*val)(uint32_t), int with_value)
{
    uint32_t n = 0;
    printf("static const uint32_t %s[][%d] = {", name, with_value ? 3 : 2);
    for (uint32_t cp = 0; cp <= MAXCP;) {
        int v = val(cp);
        if (!v) {
            cp++;
            continue;
        }
        uint32_t start = cp;
        while (cp + 1 <= MAXCP && val(cp + 1) == v)
            cp++;
        if (with_value)
            printf("%s{0x%x,0x%x,%d},", n % 5 ? "" : "\n", start, cp, v);
        else
            printf("%s{0x%x,0x%x},", n % 6 ? "" : "\n", start, cp);
        n++;
        cp++;
    }
    printf("\n};\n#define %s_N %uu\n\n", name, n);
}

/* Stops the generator when ICU failed on cp. */
static void check(UErrorCode st, const char *what, uint32_t cp)
{
    if (U_FAILURE(st)) {
        fprintf(stderr, "%s %x: %s\n", what, cp, u_errorName(st));
        exit(1);
    }
}

/* Adds cp -> the code points of s[0..len) to m unless that is cp itself. */
static void map_add_changed(map *m, uint32_t cp, const UChar *s, int32_t len)
{
    uint32_t v[32];
    int n = to_cps(s, len, v, 32);
    if (!(n == 1 && v[0] == cp))
        map_add(m, cp, v, n);
}

static int ccc_of(uint32_t cp)
{
    return u_getCombiningClass((UChar32)cp);
}

static int cased(uint32_t cp)
{
    return u_hasBinaryProperty((UChar32)cp, UCHAR_CASED) ? 1 : 0;
}

static int case_ignorable(uint32_t cp)
{
    return u_hasBinaryProperty((UChar32)cp, UCHAR_CASE_IGNORABLE) ? 1 : 0;
}

int main(void)
{
    UErrorCode st = U_ZERO_ERROR;
    const UNormalizer2 *nfkd = unorm2_getNFKDInstance(&st);
    const UNormalizer2 *nfc = unorm2_getNFCInstance(&st);
    if (U_FAILURE(st)) {
        fprintf(stderr, "ICU: %s\n", u_errorName(st));
        return 1;
    }
    UVersionInfo uv;
    u_getUnicodeVersion(uv);
    char uvs[U_MAX_VERSION_STRING_LENGTH];
    u_versionToString(uv, uvs);

    printf("/* email_unicode_tables.h — GENERATED by tools/gen_email_unicode.c from ICU %s\n"
           " * (Unicode %s); do not edit. NFKC and JS toLowerCase data for the email\n"
           " * address normaliser (lib/providers/email_unicode.c). */\n"
           "#ifndef AUTHC_EMAIL_UNICODE_TABLES_H\n#define AUTHC_EMAIL_UNICODE_TABLES_H\n\n"
           "#include <stdint.h>\n\n#define EU_UNICODE_VERSION \"%s\"\n\n",
           U_ICU_VERSION, uvs, uvs);

    map decomp = {0}, lower = {0};
    uint32_t comp_n = 0;
    static uint32_t comp[4096][3];
    for (uint32_t cp = 0; cp <= MAXCP; cp++) {
        if (is_surrogate(cp))
            continue;
        UChar src[4], dst[64];
        int sl = from_cp(cp, src);
        /* Full compatibility decomposition (Hangul is algorithmic). */
        if (!is_hangul_syllable(cp)) {
            st = U_ZERO_ERROR;
            int32_t dl = unorm2_normalize(nfkd, src, sl, dst, 64, &st);
            check(st, "nfkd", cp);
            map_add_changed(&decomp, cp, dst, dl);
        }
        /* Primary composites: raw canonical decomposition of two code
         * points that composePair puts back together (exclusions fail). */
        if (!is_hangul_syllable(cp)) {
            st = U_ZERO_ERROR;
            int32_t dl = unorm2_getRawDecomposition(nfc, (UChar32)cp, dst, 64, &st);
            if (dl > 0 && U_SUCCESS(st)) {
                uint32_t v[32];
                int n = to_cps(dst, dl, v, 32);
                if (n == 2 && unorm2_composePair(nfc, (UChar32)v[0], (UChar32)v[1]) == (UChar32)cp) {
                    if (comp_n == 4096)
                        return 3;
                    comp[comp_n][0] = v[0];
                    comp[comp_n][1] = v[1];
                    comp[comp_n][2] = cp;
                    comp_n++;
                }
            }
        }
        /* Full lowercase mapping of the root locale (what V8 uses); the
         * context-dependent final sigma is handled in code. */
        st = U_ZERO_ERROR;
        int32_t ll = u_strToLower(dst, 64, src, sl, "", &st);
        check(st, "lower", cp);
        map_add_changed(&lower, cp, dst, ll);
    }
    map_emit(&decomp, "EU_DECOMP");
    map_emit(&lower, "EU_LOWER");
    /* Sorted by (first, second) for binary search. */
    for (uint32_t i = 1; i < comp_n; i++)
        for (uint32_t j = i; j > 0 && (comp[j - 1][0] > comp[j][0] ||
                                       (comp[j - 1][0] == comp[j][0] && comp[j - 1][1] > comp[j][1])); j--) {
            uint32_t t[3] = {comp[j][0], comp[j][1], comp[j][2]};
            for (int k = 0; k < 3; k++) {
                comp[j][k] = comp[j - 1][k];
                comp[j - 1][k] = t[k];
            }
        }
    printf("static const uint32_t EU_COMP[%u][3] = {", comp_n);
    for (uint32_t i = 0; i < comp_n; i++)
        printf("%s{0x%x,0x%x,0x%x},", i % 4 ? "" : "\n", comp[i][0], comp[i][1], comp[i][2]);
    printf("\n};\n#define EU_COMP_N %uu\n\n", comp_n);
    ranges_emit("EU_CCC", ccc_of, 1);
    ranges_emit("EU_CASED", cased, 0);
    ranges_emit("EU_CASE_IGNORABLE", case_ignorable, 0);
    printf("#endif\n");
    return 0;
}
