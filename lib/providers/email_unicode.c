/* email_unicode.c — JS normalize("NFKC"), toLowerCase() and trim() for the
 * email normaliser, from tables generated out of ICU (what V8 itself uses). */
#include <string.h>

#include "providers/email_unicode_int.h"
#include "util/parse_int.h"
#include "providers/email_unicode_tables.h"

/* Hangul syllable arithmetic (Unicode §3.12). */
#define S_BASE 0xAC00u
#define L_BASE 0x1100u
#define V_BASE 0x1161u
#define T_BASE 0x11A7u
#define L_COUNT 19u
#define V_COUNT 21u
#define T_COUNT 28u
#define N_COUNT (V_COUNT * T_COUNT)
#define S_COUNT (L_COUNT * N_COUNT)

/* Longest full compatibility decomposition of one code point (U+FDFA). */
#define MAX_DECOMP 18u
/* Longest full lowercase mapping of one code point (U+0130 → 2). */
#define MAX_LOWER 3u

const char *authc__eu_unicode_version(void)
{
    return EU_UNICODE_VERSION;
}

/* ---- lookups --------------------------------------------------------- */

/* Index of cp in a mapping table's keys, or -1. */
static long map_find(const uint32_t *keys, size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t k = keys[mid] & 0x1FFFFFu;
        if (k == cp)
            return (long)mid;
        if (k < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* The row of a sorted table of disjoint ranges (rows of `width` values,
 * first and last code point first) that holds cp, or NULL. */
static const uint32_t *range_find(const uint32_t *rows, size_t width, size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const uint32_t *r = rows + mid * width;
        if (cp < r[0])
            hi = mid;
        else if (cp > r[1])
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

static bool in_ranges(const uint32_t (*r)[2], size_t n, uint32_t cp)
{
    return range_find(r[0], 2, n, cp) != NULL;
}

static unsigned ccc(uint32_t cp)
{
    const uint32_t *r = range_find(EU_CCC[0], 3, EU_CCC_N, cp);
    return r ? r[2] : 0;
}

/* The one code point cp maps to in a run table ({first, last, step, target
 * of first}), or 0 when cp is in no run. */
static uint32_t run_target(const uint32_t (*runs)[4], size_t n, uint32_t cp)
{
    const uint32_t *r = range_find(runs[0], 4, n, cp);
    if (!r || (cp - r[0]) % r[2])
        return 0;
    return r[3] + (cp - r[0]);
}

/* The primary composite of (a, b), or 0 when there is none. */
static uint32_t compose_pair(uint32_t a, uint32_t b)
{
    if (a >= L_BASE && a < L_BASE + L_COUNT && b >= V_BASE && b < V_BASE + V_COUNT)
        return S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT;
    if (a >= S_BASE && a < S_BASE + S_COUNT && (a - S_BASE) % T_COUNT == 0 &&
        b > T_BASE && b < T_BASE + T_COUNT)
        return a + (b - T_BASE);
    size_t lo = 0, hi = EU_COMP_N;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const uint32_t *e = EU_COMP[mid];
        if (e[0] == a && e[1] == b)
            return e[2];
        if (e[0] < a || (e[0] == a && e[1] < b))
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Writes the full compatibility decomposition of cp into out (when not
 * NULL); returns its length. */
static size_t decompose(uint32_t cp, uint32_t *out)
{
    if (cp >= S_BASE && cp < S_BASE + S_COUNT) {
        uint32_t s = cp - S_BASE;
        uint32_t t = s % T_COUNT;
        if (out) {
            out[0] = L_BASE + s / N_COUNT;
            out[1] = V_BASE + (s % N_COUNT) / T_COUNT;
            if (t)
                out[2] = T_BASE + t;
        }
        return t ? 3 : 2;
    }
    long i = map_find(EU_DECOMP_KEY, EU_DECOMP_N, cp);
    if (i < 0) {
        uint32_t t = run_target(EU_DECOMP_RUN, EU_DECOMP_RUN_N, cp);
        if (out)
            out[0] = t ? t : cp;
        return 1;
    }
    size_t len = EU_DECOMP_KEY[i] >> 21;
    if (out)
        memcpy(out, &EU_DECOMP_POOL[EU_DECOMP_OFF[i]], len * sizeof *out);
    return len;
}

/* ---- UTF-8 ----------------------------------------------------------- */

authc_err authc__eu_utf8_decode(authc_arena *ar, const char *s, size_t len,
                                uint32_t **out, size_t *n)
{
    uint32_t *cp = authc_arena_alloc(ar, (len + 1) * sizeof *cp);
    if (!cp)
        return AUTHC_ERR_NOMEM;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, k = 0;
    while (i < len) {
        /* Strict UTF-8 (parse_int.h); a NUL would cut the address. */
        size_t l = p[i] ? authc__utf8_next(p + i, len - i, &cp[k]) : 0;
        if (!l)
            return AUTHC_ERR_INVALID;
        k++;
        i += l;
    }
    *out = cp;
    *n = k;
    return AUTHC_OK;
}

char *authc__eu_utf8_encode(authc_arena *ar, const uint32_t *cp, size_t n)
{
    char *s = authc_arena_alloc(ar, n * 4 + 1);
    if (!s)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = cp[i];
        if (v < 0x80) {
            s[k++] = (char)v;
        } else if (v < 0x800) {
            s[k++] = (char)(0xC0 | (v >> 6));
            s[k++] = (char)(0x80 | (v & 0x3F));
        } else if (v < 0x10000) {
            s[k++] = (char)(0xE0 | (v >> 12));
            s[k++] = (char)(0x80 | ((v >> 6) & 0x3F));
            s[k++] = (char)(0x80 | (v & 0x3F));
        } else {
            s[k++] = (char)(0xF0 | (v >> 18));
            s[k++] = (char)(0x80 | ((v >> 12) & 0x3F));
            s[k++] = (char)(0x80 | ((v >> 6) & 0x3F));
            s[k++] = (char)(0x80 | (v & 0x3F));
        }
    }
    s[k] = '\0';
    return s;
}

/* ---- NFKC -------------------------------------------------------------- */

authc_err authc__eu_nfkc(authc_arena *ar, const uint32_t *in, size_t n,
                         uint32_t **out, size_t *outn)
{
    /* 1. Full compatibility decomposition (sized exactly in a first pass). */
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += decompose(in[i], NULL);
    uint32_t *buf = authc_arena_alloc(ar, (total + 1) * sizeof *buf);
    if (!buf)
        return AUTHC_ERR_NOMEM;
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += decompose(in[i], buf + len);

    /* 2. Canonical ordering: a stable sort of each run of non-starters by
     * combining class. Runs are short, so insertion sort. */
    for (size_t i = 1; i < len; i++) {
        unsigned ci = ccc(buf[i]);
        if (!ci)
            continue;
        uint32_t v = buf[i];
        size_t j = i;
        while (j > 0) {
            unsigned cj = ccc(buf[j - 1]);
            if (cj <= ci || cj == 0)
                break;
            buf[j] = buf[j - 1];
            j--;
        }
        buf[j] = v;
    }

    /* 3. Canonical composition (UAX #15): a character combines with the
     * last starter unless something between blocks it. */
    if (len > 0) {
        size_t starter = 0, w = 1;
        uint32_t starter_ch = buf[0];
        /* A leading non-starter can never be composed with. */
        unsigned last = ccc(starter_ch) ? 256 : 0;
        for (size_t r = 1; r < len; r++) {
            uint32_t ch = buf[r];
            unsigned cc = ccc(ch);
            uint32_t comp = compose_pair(starter_ch, ch);
            if (comp && (last < cc || last == 0)) {
                buf[starter] = comp;
                starter_ch = comp;
                continue;
            }
            if (cc == 0) {
                starter = w;
                starter_ch = ch;
            }
            last = cc;
            buf[w++] = ch;
        }
        len = w;
    }
    *out = buf;
    *outn = len;
    return AUTHC_OK;
}

/* ---- toLowerCase ------------------------------------------------------- */

static bool cased(uint32_t cp)
{
    return in_ranges(EU_CASED, EU_CASED_N, cp);
}

static bool case_ignorable(uint32_t cp)
{
    return in_ranges(EU_CASE_IGNORABLE, EU_CASE_IGNORABLE_N, cp);
}

/* Final_Sigma (Unicode Table 3-17), scanning as ICU does: case-ignorable
 * characters are skipped even when they are also cased. */
static bool final_sigma(const uint32_t *in, size_t n, size_t i)
{
    bool before = false;
    for (size_t j = i; j-- > 0;) {
        if (case_ignorable(in[j]))
            continue;
        before = cased(in[j]);
        break;
    }
    if (!before)
        return false;
    for (size_t j = i + 1; j < n; j++) {
        if (case_ignorable(in[j]))
            continue;
        return !cased(in[j]);
    }
    return true;
}

/* Writes the full lowercase of in[i] (Final_Sigma looks at its
 * neighbours) to out; returns how many code points, 0 on bad data. */
static size_t lower_one(const uint32_t *in, size_t n, size_t i, uint32_t *out)
{
    uint32_t c = in[i];
    if (c < 0x80) {
        out[0] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
        return 1;
    }
    if (c == 0x3A3) {
        out[0] = final_sigma(in, n, i) ? 0x3C2 : 0x3C3;
        return 1;
    }
    long x = map_find(EU_LOWER_KEY, EU_LOWER_N, c);
    if (x < 0) {
        uint32_t t = run_target(EU_LOWER_RUN, EU_LOWER_RUN_N, c);
        out[0] = t ? t : c;
        return 1;
    }
    size_t len = EU_LOWER_KEY[x] >> 21;
    if (len > MAX_LOWER)
        return 0; /* cannot happen with the generated data */
    memcpy(out, &EU_LOWER_POOL[EU_LOWER_OFF[x]], len * sizeof *out);
    return len;
}

authc_err authc__eu_to_lower(authc_arena *ar, const uint32_t *in, size_t n,
                             uint32_t **out, size_t *outn)
{
    uint32_t *buf = authc_arena_alloc(ar, (n * MAX_LOWER + 1) * sizeof *buf);
    if (!buf)
        return AUTHC_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = lower_one(in, n, i, buf + k);
        if (!len)
            return AUTHC_ERR_INVALID;
        k += len;
    }
    *out = buf;
    *outn = k;
    return AUTHC_OK;
}

/* ---- trim ------------------------------------------------------------ */

/* ECMAScript WhiteSpace (TAB VT FF SP NBSP ZWNBSP + Zs) and LineTerminator. */
static bool js_space(uint32_t c)
{
    switch (c) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20:
    case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F:
    case 0x205F: case 0x3000: case 0xFEFF:
        return true;
    default:
        return c >= 0x2000 && c <= 0x200A;
    }
}

void authc__eu_trim(const uint32_t *in, size_t n, size_t *start, size_t *end)
{
    size_t s = 0, e = n;
    while (s < e && js_space(in[s]))
        s++;
    while (e > s && js_space(in[e - 1]))
        e--;
    *start = s;
    *end = e;
}

authc_err authc__eu_js_fold(authc_arena *ar, const char *s, size_t len, char **out)
{
    uint32_t *cp, *nf, *lo;
    size_t n, nn, ln, a, b;
    authc_err e = authc__eu_utf8_decode(ar, s, len, &cp, &n);
    if (!e)
        e = authc__eu_nfkc(ar, cp, n, &nf, &nn);
    if (!e)
        e = authc__eu_to_lower(ar, nf, nn, &lo, &ln);
    if (e)
        return e;
    authc__eu_trim(lo, ln, &a, &b);
    *out = authc__eu_utf8_encode(ar, lo + a, b - a);
    return *out ? AUTHC_OK : AUTHC_ERR_NOMEM;
}
