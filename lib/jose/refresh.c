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
        if (c < 0x80) { /* ASCII: most of every claims text */
            p++;
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

enum {
    K_IAT, K_EXP, K_JTI, K_NBF, K_NAME, K_EMAIL, K_PICTURE, K_SUB, K_PROVIDER,
    K_ACCESS_TOKEN, K_GROUPS, K_AUTHC, K__N
};
typedef struct key_name {
    const char *s;
    size_t n;
} key_name;
#define KN(x) {x, sizeof x - 1}
static const key_name KEYS[K__N] = {
    KN("iat"), KN("exp"), KN("jti"), KN("nbf"), KN("name"), KN("email"), KN("picture"),
    KN("sub"), KN("provider"), KN("access_token"), KN("groups"), KN("authc"),
};
/* Members of the "authc" claim (lib/core/session_revoke.c writes them). */
enum { O_SID, O_IAT, O_P, O_PSID, O_PSUB, O__N };
static const key_name OWN_KEYS[O__N] = {KN("sid"), KN("iat"), KN("p"), KN("psid"), KN("psub")};

typedef struct member {
    span v;
    char kind;
    bool seen;
} member;

/* One object's members (s->p at '{', depth already counted by the caller)
 * with the values of the keys in names recorded in m. false = not for the
 * fast path (escaped keys, a duplicate of a recorded key, bad JSON). */
static bool scan_object(scan *s, const key_name *names, int nn, member *m, const char **close)
{
    s->p++;
    ws(s);
    bool first = true;
    while (s->p < s->end && *s->p != '}') {
        if (!first) {
            if (*s->p != ',')
                return false;
            s->p++;
            ws(s);
        }
        first = false;
        const char *ks = s->p;
        bool esc;
        if (s->p >= s->end || *s->p != '"' || !string(s, &esc) || esc)
            return false;
        size_t kl = (size_t)(s->p - ks) - 2;
        ws(s);
        if (s->p >= s->end || *s->p != ':')
            return false;
        s->p++;
        ws(s);
        const char *vs = s->p;
        char kind;
        if (!value(s, &kind))
            return false;
        for (int k = 0; k < nn; k++)
            if (names[k].n == kl && !memcmp(ks + 1, names[k].s, kl)) {
                if (m[k].seen)
                    return false; /* duplicates: let jansson's rule apply */
                m[k] = (member){{vs, (size_t)(s->p - vs)}, kind, true};
                break;
            }
        ws(s);
    }
    if (s->p >= s->end)
        return false;
    *close = s->p;
    s->p++;
    return true;
}

/* Validates the top-level object and records the members we care about.
 * false = not for the fast path. */
static bool scan_claims(const char *text, size_t n, member m[K__N], const char **close)
{
    scan s = {text, text + n, 1};
    ws(&s);
    if (s.p >= s.end || *s.p != '{' || !scan_object(&s, KEYS, K__N, m, close))
        return false;
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

/* ---- the claims the callers read -------------------------------------- */

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    o[0] = (char)(0xe0 | cp >> 12);
    o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
}

/* The value of a string span that string() accepted (so every escape is
 * well formed, and \u escapes are BMP non-surrogates other than NUL), as
 * jansson's json_string_value would give it; arena-owned. NULL when the
 * member is absent or not a string; *oom on allocation failure. */
static const char *unquote(authc_arena *ar, const member *m, bool *oom)
{
    if (!m->seen || m->kind != 's')
        return NULL;
    const char *p = m->v.p + 1, *end = m->v.p + m->v.n - 1;
    char *o = authc_arena_alloc(ar, (size_t)(end - p) + 1); /* never grows */
    if (!o) {
        *oom = true;
        return NULL;
    }
    size_t k = 0;
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t run = (size_t)((bs ? bs : end) - p);
        memcpy(o + k, p, run);
        k += run;
        p += run;
        if (!bs)
            break;
        char e = p[1];
        p += 2;
        switch (e) {
        case 'b': o[k++] = '\b'; break;
        case 'f': o[k++] = '\f'; break;
        case 'n': o[k++] = '\n'; break;
        case 'r': o[k++] = '\r'; break;
        case 't': o[k++] = '\t'; break;
        case 'u': {
            unsigned cp = 0;
            for (int i = 0; i < 4; i++)
                cp = cp << 4 | (unsigned)authc__hexval((unsigned char)p[i]);
            p += 4;
            k += put_utf8(o + k, cp);
            break;
        }
        default: o[k++] = e; /* " \ / */
        }
    }
    o[k] = '\0';
    return o;
}

/* groups: the strings among the first AUTHC__JWT_GROUPS_MAX entries of an
 * array (other entries skipped), or the one string. */
static bool groups_of(authc_arena *ar, const member *m, authc__jwt_fields *f, bool *oom)
{
    if (!m->seen || (m->kind != 's' && (m->kind != 'c' || m->v.p[0] != '[')))
        return true;
    const char **v = authc_arena_alloc(ar, AUTHC__JWT_GROUPS_MAX * sizeof *v);
    if (!v) {
        *oom = true;
        return false;
    }
    f->groups = v;
    if (m->kind == 's') {
        f->n_groups = (v[0] = unquote(ar, m, oom)) != NULL;
        return !*oom;
    }
    scan s = {m->v.p + 1, m->v.p + m->v.n, 1};
    for (size_t i = 0; i < AUTHC__JWT_GROUPS_MAX; i++) {
        ws(&s);
        if (s.p >= s.end || *s.p == ']')
            break;
        const char *es = s.p;
        member e = {.seen = true};
        if (!value(&s, &e.kind))
            return false; /* cannot happen: the span was validated */
        e.v = (span){es, (size_t)(s.p - es)};
        if (e.kind == 's' && !(v[f->n_groups++] = unquote(ar, &e, oom)))
            return false;
        ws(&s);
        if (s.p < s.end && *s.p == ',')
            s.p++;
    }
    return true;
}

/* Fills f from the scanned members (subject: also what forward-auth
 * reads). AUTHC_ERR_UNSUPPORTED when the "authc" claim needs jansson's
 * rules (escaped keys, duplicates). */
static authc_err fields_of(authc_arena *ar, const member m[K__N], bool subject, authc__jwt_fields *f)
{
    bool oom = false;
    memset(f, 0, sizeof *f);
    for (int k = 0; k < 3; k++) {
        const member *u = &m[K_NAME + k];
        if (u->seen && !(f->user_json[k] = authc_arena_strndup(ar, u->v.p, u->v.n)))
            oom = true;
    }
    f->sub = unquote(ar, &m[K_SUB], &oom);
    if (m[K_IAT].kind == 'i' || m[K_IAT].kind == 'r') {
        int64_t i;
        f->has_iat = m[K_IAT].kind == 'i' ? as_i64(&m[K_IAT], &i) : as_double(&m[K_IAT], &f->iat);
        if (m[K_IAT].kind == 'i')
            f->iat = (double)i;
    }
    const member *own = &m[K_AUTHC];
    if (own->seen && own->kind == 'c' && own->v.p[0] == '{') {
        member o[O__N];
        memset(o, 0, sizeof o);
        const char *close;
        scan s = {own->v.p, own->v.p + own->v.n, 1};
        if (!scan_object(&s, OWN_KEYS, O__N, o, &close))
            return AUTHC_ERR_UNSUPPORTED;
        f->own = o[O_IAT].kind == 'i' && as_i64(&o[O_IAT], &f->own_iat);
        f->sid = unquote(ar, &o[O_SID], &oom);
        f->p = unquote(ar, &o[O_P], &oom);
        f->psid = unquote(ar, &o[O_PSID], &oom);
        f->psub = unquote(ar, &o[O_PSUB], &oom);
    }
    if (subject) {
        f->subject = true;
        f->name = unquote(ar, &m[K_NAME], &oom);
        f->email = unquote(ar, &m[K_EMAIL], &oom);
        f->provider = unquote(ar, &m[K_PROVIDER], &oom);
        f->access_token = unquote(ar, &m[K_ACCESS_TOKEN], &oom);
        if (!groups_of(ar, &m[K_GROUPS], f, &oom) && !oom)
            return AUTHC_ERR_UNSUPPORTED;
    }
    return oom ? AUTHC_ERR_NOMEM : AUTHC_OK;
}

authc_err authc__jwt_refresh_fields(authc_arena *ar, const authc__jwe_key *keys, size_t nkeys,
                                    const authc__jwe_key *enc_key, const char *token, size_t len,
                                    int64_t now, int64_t max_age, bool subject, char **fresh,
                                    authc__jwt_fields *f)
{
    *fresh = NULL;
    memset(f, 0, sizeof *f);
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
    if (!rc)
        rc = fields_of(ar, m, subject, f);
    if (rc) {
        OPENSSL_cleanse(pt, n);
        return rc;
    }
    /* New text: iat/exp/jti replaced where they stand, appended in that
     * order where missing (a JS spread followed by assignments). */
    int64_t exp;
    char vi[24], ve[24], vj[40];
    if (__builtin_add_overflow(now, max_age, &exp)) {
        OPENSSL_cleanse(pt, n);
        return AUTHC_ERR_INVALID;
    }
    /* authc__random serves both draws (jti, IV) from one per-thread block. */
    if (authc__uuid(vj + 1)) {
        OPENSSL_cleanse(pt, n);
        return AUTHC_ERR_NOMEM;
    }
    authc__i64_dec(vi, now);
    authc__i64_dec(ve, exp);
    vj[0] = '"';
    vj[37] = '"';
    vj[38] = '\0';
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
    OPENSSL_cleanse(pt, n);
    if (b.err)
        return AUTHC_ERR_NOMEM;
    rc = authc__jwe_encrypt(ar, enc_key, (const uint8_t *)b.p, b.len, fresh);
    OPENSSL_cleanse(b.p, b.len);
    /* Failing here is never the token's fault (it was accepted above). */
    return rc ? AUTHC_ERR_NOMEM : AUTHC_OK;
}

authc_err authc__jwt_refresh(authc_arena *ar, const authc__jwe_key *keys, size_t nkeys,
                             const authc__jwe_key *enc_key, const char *token, size_t len,
                             int64_t now, int64_t max_age, char **fresh,
                             const char *user_json[3])
{
    authc__jwt_fields f;
    authc_err rc = authc__jwt_refresh_fields(ar, keys, nkeys, enc_key, token, len, now, max_age,
                                             false, fresh, &f);
    for (int k = 0; k < 3; k++)
        user_json[k] = f.user_json[k];
    return rc;
}
