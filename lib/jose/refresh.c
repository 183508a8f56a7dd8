/* refresh.c — GET /session's token refresh without a JSON tree: validate the
 * decrypted claims in one pass, read exp/nbf/iat and the user members, and
 * splice fresh iat/exp/jti into the same text. Anything unusual falls back. */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "jose/jose_int.h"
#include "util/parse_int.h"
#include "util/util_int.h"

#define MAX_DEPTH 32

typedef struct span {
    const char *p;
    size_t n;
} span;

typedef struct scan {
    const char *p, *end;
    int depth;
} scan;

static void ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* A string at s->p (which is '"'); sets *esc when it has escapes. Rejects
 * what jansson rejects by default (control bytes, bad UTF-8, \u0000,
 * lone surrogates) by returning false, so the caller falls back. */
static bool string(scan *s, bool *esc)
{
    const unsigned char *p = (const unsigned char *)s->p + 1, *end = (const unsigned char *)s->end;
    *esc = false;
    while (p < end) {
        unsigned char c = *p;
        if (c == '"') {
            s->p = (const char *)p + 1;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c == '\\') {
            *esc = true;
            if (p + 1 >= end)
                return false;
            char e = (char)p[1];
            if (e == 'u') {
                if (end - p < 6)
                    return false;
                int v = 0;
                for (int i = 2; i < 6; i++) {
                    int h = authc__hexval(p[i]);
                    if (h < 0)
                        return false;
                    v = v << 4 | h;
                }
                if (v == 0 || (v >= 0xd800 && v <= 0xdfff))
                    return false; /* the slow path decides about these */
                p += 6;
            } else if (strchr("\"\\/bfnrt", e) && e) {
                p += 2;
            } else {
                return false;
            }
            continue;
        }
        size_t l = authc__utf8_next(p, (size_t)(end - p), NULL);
        if (!l)
            return false;
        p += l;
    }
    return false;
}

static bool digits(scan *s)
{
    const char *b = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return s->p > b;
}

/* JSON number grammar exactly; *integer when it has no fraction/exponent. */
static bool number(scan *s, bool *integer)
{
    *integer = true;
    if (s->p < s->end && *s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (!digits(s))
        return false;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        *integer = false;
        if (!digits(s))
            return false;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        *integer = false;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (!digits(s))
            return false;
    }
    return true;
}

/* jansson rejects a whole document holding an integer outside int64 or a
 * real that overflows a double; so must the fast path, or GET /session and
 * authc_auth() would disagree about the same cookie. */
static bool in_range(const char *p, size_t n, bool integer)
{
    if (integer) {
        int64_t v;
        return authc__parse_i64_n(p, n, INT64_MIN, INT64_MAX, &v) == AUTHC_OK;
    }
    char tmp[64];
    if (n >= sizeof tmp)
        return false; /* long numbers: let jansson decide */
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    errno = 0;
    char *e;
    double d = strtod(tmp, &e);
    return !(errno == ERANGE && d != 0.0) && !*e;
}

static bool value(scan *s, char *kind);

static bool container(scan *s, char open)
{
    char close = open == '{' ? '}' : ']';
    if (++s->depth > MAX_DEPTH)
        return false;
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        s->depth--;
        return true;
    }
    for (;;) {
        char k;
        if (open == '{') {
            bool esc;
            if (s->p >= s->end || *s->p != '"' || !string(s, &esc))
                return false;
            ws(s);
            if (s->p >= s->end || *s->p != ':')
                return false;
            s->p++;
            ws(s);
        }
        if (!value(s, &k))
            return false;
        ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            ws(s);
            continue;
        }
        if (s->p < s->end && *s->p == close) {
            s->p++;
            s->depth--;
            return true;
        }
        return false;
    }
}

/* kind: 's' string, 'i' integer, 'r' real, 'l' literal, 'c' container. */
static bool value(scan *s, char *kind)
{
    if (s->p >= s->end)
        return false;
    char c = *s->p;
    if (c == '"') {
        bool esc;
        *kind = 's';
        return string(s, &esc);
    }
    if (c == '{' || c == '[') {
        *kind = 'c';
        return container(s, c);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        bool integer;
        const char *b = s->p;
        if (!number(s, &integer) || !in_range(b, (size_t)(s->p - b), integer))
            return false;
        *kind = integer ? 'i' : 'r';
        return true;
    }
    static const char *lits[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(lits[i]);
        if ((size_t)(s->end - s->p) >= l && !memcmp(s->p, lits[i], l)) {
            s->p += l;
            *kind = 'l';
            return true;
        }
    }
    return false;
}

enum { K_IAT, K_EXP, K_JTI, K_NBF, K_NAME, K_EMAIL, K_PICTURE, K__N };
static const char *KEYS[K__N] = {"iat", "exp", "jti", "nbf", "name", "email", "picture"};

typedef struct member {
    span v;
    char kind;
    bool seen;
} member;

/* Validates the top-level object and records the members we care about.
 * false = not for the fast path. */
static bool scan_claims(const char *text, size_t n, member m[K__N], const char **close)
{
    scan s = {text, text + n, 0};
    ws(&s);
    if (s.p >= s.end || *s.p != '{')
        return false;
    s.p++;
    s.depth = 1;
    ws(&s);
    bool first = true;
    while (s.p < s.end && *s.p != '}') {
        if (!first) {
            if (*s.p != ',')
                return false;
            s.p++;
            ws(&s);
        }
        first = false;
        const char *ks = s.p;
        bool esc;
        if (s.p >= s.end || *s.p != '"' || !string(&s, &esc) || esc)
            return false;
        size_t kl = (size_t)(s.p - ks) - 2;
        ws(&s);
        if (s.p >= s.end || *s.p != ':')
            return false;
        s.p++;
        ws(&s);
        const char *vs = s.p;
        char kind;
        if (!value(&s, &kind))
            return false;
        for (int k = 0; k < K__N; k++)
            if (strlen(KEYS[k]) == kl && !memcmp(ks + 1, KEYS[k], kl)) {
                if (m[k].seen)
                    return false; /* duplicates: let jansson's rule apply */
                m[k] = (member){{vs, (size_t)(s.p - vs)}, kind, true};
            }
        ws(&s);
    }
    if (s.p >= s.end)
        return false;
    *close = s.p;
    s.p++;
    ws(&s);
    return s.p == s.end;
}

/* Integer value of a number span; false when out of range (fallback). */
static bool as_i64(const member *m, int64_t *out)
{
    return authc__parse_i64_n(m->v.p, m->v.n, INT64_MIN, INT64_MAX, out) == AUTHC_OK;
}

static bool as_double(const member *m, double *out)
{
    char tmp[64];
    if (m->v.n >= sizeof tmp)
        return false;
    memcpy(tmp, m->v.p, m->v.n);
    tmp[m->v.n] = '\0';
    char *e;
    *out = strtod(tmp, &e);
    return !*e;
}

static int64_t sat(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

/* Compares a number member with a bound: >0 when above, 0 equal, <0 below;
 * returns false when the number is not usable here. */
static bool cmp_num(const member *m, int64_t bound, int *cmp)
{
    if (m->kind == 'i') {
        int64_t v;
        if (!as_i64(m, &v))
            return false;
        *cmp = (v > bound) - (v < bound);
        return true;
    }
    double d;
    if (!as_double(m, &d))
        return false;
    *cmp = (d > (double)bound) - (d < (double)bound);
    return true;
}

authc_err authc__jwt_refresh(authc_arena *ar, const authc__jwe_key *keys, size_t nkeys,
                             const authc__jwe_key *enc_key, const char *token, size_t len,
                             int64_t now, int64_t max_age, char **fresh,
                             const char *user_json[3])
{
    *fresh = NULL;
    user_json[0] = user_json[1] = user_json[2] = NULL;
    uint8_t *pt;
    size_t n;
    authc_err rc = authc__jwe_decrypt(ar, keys, nkeys, token, len, &pt, &n);
    if (rc)
        return rc;
    member m[K__N];
    memset(m, 0, sizeof m);
    const char *close = NULL;
    const char *text = (const char *)pt;
    if (!scan_claims(text, n, m, &close)) {
        OPENSSL_cleanse(pt, n);
        return AUTHC_ERR_UNSUPPORTED;
    }
    /* The checks of authc__jwt_decode, in its order. */
    const int64_t hi = sat(now, AUTHC__JWT_CLOCK_TOLERANCE), lo = sat(now, -AUTHC__JWT_CLOCK_TOLERANCE);
    bool isnum[K__N];
    for (int k = 0; k < K__N; k++)
        isnum[k] = m[k].kind == 'i' || m[k].kind == 'r';
    int cmp;
    if (m[K_IAT].seen && !isnum[K_IAT])
        rc = AUTHC_ERR_INVALID;
    else if (m[K_NBF].seen && !isnum[K_NBF])
        rc = AUTHC_ERR_INVALID;
    else if (m[K_NBF].seen && !cmp_num(&m[K_NBF], hi, &cmp))
        rc = AUTHC_ERR_UNSUPPORTED;
    else if (m[K_NBF].seen && cmp > 0)
        rc = AUTHC_ERR_INVALID;
    else if (m[K_EXP].seen && !isnum[K_EXP])
        rc = AUTHC_ERR_INVALID;
    else if (m[K_EXP].seen && !cmp_num(&m[K_EXP], lo, &cmp))
        rc = AUTHC_ERR_UNSUPPORTED;
    else if (m[K_EXP].seen && cmp <= 0)
        rc = AUTHC_ERR_EXPIRED;
    if (rc) {
        OPENSSL_cleanse(pt, n);
        return rc;
    }
    /* New text: iat/exp/jti replaced where they stand, appended in that
     * order where missing (a JS spread followed by assignments). */
    int64_t exp;
    char jti[37];
    if (__builtin_add_overflow(now, max_age, &exp) || (rc = authc__uuid(jti))) {
        OPENSSL_cleanse(pt, n);
        return rc ? rc : AUTHC_ERR_INVALID;
    }
    char vi[24], ve[24], vj[40];
    snprintf(vi, sizeof vi, "%lld", (long long)now);
    snprintf(ve, sizeof ve, "%lld", (long long)exp);
    snprintf(vj, sizeof vj, "\"%s\"", jti);
    const char *newv[3] = {vi, ve, vj};
    authc__buf b;
    authc__buf_init(&b, ar, AUTHC__JWE_MAX_TOKEN);
    const char *cur = text;
    /* Replace in text order. */
    for (;;) {
        int next = -1;
        for (int k = 0; k < 3; k++)
            if (m[k].seen && m[k].v.p >= cur && (next < 0 || m[k].v.p < m[next].v.p))
                next = k;
        if (next < 0)
            break;
        authc__buf_add(&b, cur, (size_t)(m[next].v.p - cur));
        authc__buf_adds(&b, newv[next]);
        cur = m[next].v.p + m[next].v.n;
    }
    authc__buf_add(&b, cur, (size_t)(close - cur));
    /* Is the object empty up to here? Then no leading comma. */
    bool empty = true;
    for (const char *q = text; q < close; q++)
        if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r' && *q != '{') {
            empty = false;
            break;
        }
    static const char *names[3] = {"\"iat\":", "\"exp\":", "\"jti\":"};
    for (int k = 0; k < 3; k++)
        if (!m[k].seen) {
            if (!empty)
                authc__buf_addc(&b, ',');
            empty = false;
            authc__buf_adds(&b, names[k]);
            authc__buf_adds(&b, newv[k]);
        }
    authc__buf_addc(&b, '}');
    if (b.err) {
        OPENSSL_cleanse(pt, n);
        return b.err;
    }
    for (int k = 0; k < 3; k++) {
        const member *u = &m[K_NAME + k];
        if (u->seen)
            user_json[k] = authc_arena_strndup(ar, u->v.p, u->v.n);
    }
    OPENSSL_cleanse(pt, n);
    rc = authc__jwe_encrypt(ar, enc_key, (const uint8_t *)b.p, b.len, fresh);
    OPENSSL_cleanse(b.p, b.len);
    /* Encrypting can only fail inside OpenSSL: never the token's fault. */
    return rc == AUTHC_ERR_CRYPTO ? AUTHC_ERR_NOMEM : rc;
}
