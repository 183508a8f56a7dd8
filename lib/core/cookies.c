/* cookies.c — Cookie header parsing, Set-Cookie serialisation in Auth.js's
 * attribute order, session-cookie chunking, and the sealed check cookies. */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_int.h"
#include "util/parse_int.h"

authc_err authc__cookies_parse(authc__ctx *c, const char *h)
{
    if (!h)
        return AUTHC_OK;
    size_t n = strlen(h);
    if (n > AUTHC__MAX_COOKIE_HDR)
        return authc__fail(c, AUTHC_ERR_LIMIT, "Cookie header of %zu bytes exceeds %d", n, AUTHC__MAX_COOKIE_HDR);
    const char *p = h, *end = h + n;
    size_t count = 0;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *e = semi ? semi : end;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        if (eq) {
            const char *ks = p, *ke = eq, *vs = eq + 1, *ve = e;
            while (ks < ke && isspace((unsigned char)*ks)) ks++;
            while (ke > ks && isspace((unsigned char)ke[-1])) ke--;
            while (vs < ve && isspace((unsigned char)*vs)) vs++;
            while (ve > vs && isspace((unsigned char)ve[-1])) ve--;
            if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"') { vs++; ve--; }
            if (ke > ks) {
                if (++count > AUTHC__MAX_COOKIES)
                    return authc__fail(c, AUTHC_ERR_LIMIT, "more than %d cookies", AUTHC__MAX_COOKIES);
                size_t kl = (size_t)(ke - ks), vl = (size_t)(ve - vs);
                bool pct = memchr(vs, '%', vl) != NULL;
                /* The name and (unless it is to be decoded) the value in one allocation. */
                char *k = authc_arena_alloc(c->ar, kl + 1 + (pct ? 0 : vl + 1)), *v = NULL;
                if (!k)
                    return AUTHC_ERR_NOMEM;
                memcpy(k, ks, kl);
                k[kl] = '\0';
                if (pct) {
                    v = authc__pct_decode(c->ar, vs, vl, false);
                } else {
                    v = memcpy(k + kl + 1, vs, vl);
                    v[vl] = '\0';
                }
                if (!v) /* decode errors are ignored: keep the raw value */
                    v = authc_arena_strndup(c->ar, vs, vl);
                if (!v)
                    return AUTHC_ERR_NOMEM;
                /* First occurrence wins: only add unseen names. */
                if (!authc__map_first(&c->cookies, k)) {
                    authc_err err = authc__map_add(c->ar, &c->cookies, k, v);
                    if (err)
                        return err;
                }
            }
        }
        p = e + 1;
    }
    return AUTHC_OK;
}

authc_err authc__cookie_push_as(authc__ctx *c, authc__cookie_list *l, const char *name,
                                const char *value, int64_t max_age, int64_t expires, unsigned flags)
{
    /* A later write of the same name replaces the earlier one. */
    authc__cookie_out *co = NULL;
    for (size_t i = 0; i < l->n && !co; i++)
        if (!strcmp(l->items[i].name, name))
            co = &l->items[i];
    if (!co) {
        authc__cookie_out *it = authc__arena_grow(c->ar, l->items, l->n, &l->cap, sizeof *it, 8);
        if (!it)
            return AUTHC_ERR_NOMEM;
        l->items = it;
        co = &l->items[l->n++];
        co->name = name;
    }
    co->value = value;
    co->max_age = max_age;
    co->expires = expires;
    co->form_post = flags & AUTHC__CO_FORM_POST;
    co->plain = flags & AUTHC__CO_PLAIN;
    co->at_origin = flags & AUTHC__CO_AT_ORIGIN;
    return AUTHC_OK;
}

authc_err authc__cookie_push(authc__ctx *c, authc__cookie_list *l, const char *name,
                             const char *value, int64_t max_age, int64_t expires)
{
    return authc__cookie_push_as(c, l, name, value, max_age, expires, 0);
}

/* The callback-url cookie naming the origin is a pure function of the
 * instance (name, Domain), the mode (secure) and the origin, and goes out
 * on every answer without one: each thread keeps its last Set-Cookie. */
static _Thread_local struct {
    uint64_t serial; /* the instance's; 0: empty */
    bool secure;
    size_t vl, len;
    char value[272];
    char wire[640];
} at_origin;

#define LIT(lit) lit, sizeof lit - 1

/* Writes n bytes at *at and moves past them. */
static void put(char **at, const char *s, size_t n)
{
    memcpy(*at, s, n);
    *at += n;
}

char *authc__cookie_serialize(authc__ctx *c, const authc__cookie_out *co)
{
    const char *raw = co->value ? co->value : "", *v = raw;
    size_t rawl = strlen(raw), vl = rawl;
    bool memo = co->at_origin && co->max_age < 0 && co->expires < 0 && !co->form_post;
    if (memo && at_origin.serial == c->a->serial && at_origin.secure == c->secure && at_origin.vl == rawl &&
        !memcmp(at_origin.value, raw, rawl)) {
        char *w = authc_arena_alloc(c->ar, at_origin.len + 1);
        return w ? memcpy(w, at_origin.wire, at_origin.len + 1) : NULL;
    }
    /* A value that may need it is percent-encoded first (encodeURIComponent,
     * as Auth.js's cookie serialiser); tokens the library made (hex, JWTs'
     * base64url and dots) and empty values go as they are. */
    if (!co->plain && vl) {
        authc__buf e;
        authc__buf_init(&e, c->ar, 16 * 1024);
        authc__buf_add_uri_component(&e, v);
        if (e.err)
            return NULL;
        v = e.p;
        vl = e.len;
    }
    /* Attributes in Auth.js's order; the whole value sized first and
     * written in one allocation. */
    char age[24], date[40];
    size_t agel = co->max_age >= 0 ? authc__i64_dec(age, co->max_age) : 0;
    if (co->expires >= 0)
        authc__http_date(date, co->expires);
    size_t datel = co->expires >= 0 ? strlen(date) : 0;
    const char *dom = c->a->cookie_domain && strncmp(co->name, "__Host-", 7) ? c->a->cookie_domain : NULL;
    size_t doml = dom ? strlen(dom) : 0, nl = strlen(co->name);
    const char *tail = co->form_post ? "; HttpOnly; Secure; SameSite=None"
                     : c->secure ? "; HttpOnly; Secure; SameSite=Lax" : "; HttpOnly; SameSite=Lax";
    size_t taill = strlen(tail);
    size_t len = nl + 1 + vl + (agel ? sizeof "; Max-Age=" - 1 + agel : 0) +
                 (dom ? sizeof "; Domain=" - 1 + doml : 0) + sizeof "; Path=/" - 1 +
                 (datel ? sizeof "; Expires=" - 1 + datel : 0) + taill;
    if (len > 16 * 1024)
        return NULL;
    char *out = authc_arena_alloc(c->ar, len + 1), *at = out;
    if (!out)
        return NULL;
    put(&at, co->name, nl);
    *at++ = '=';
    put(&at, v, vl);
    if (agel) {
        put(&at, LIT("; Max-Age="));
        put(&at, age, agel);
    }
    if (dom) {
        put(&at, LIT("; Domain="));
        put(&at, dom, doml);
    }
    put(&at, LIT("; Path=/"));
    if (datel) {
        put(&at, LIT("; Expires="));
        put(&at, date, datel);
    }
    put(&at, tail, taill);
    *at = '\0';
    if (memo && rawl < sizeof at_origin.value && len < sizeof at_origin.wire) {
        at_origin.serial = c->a->serial;
        at_origin.secure = c->secure;
        at_origin.vl = rawl;
        memcpy(at_origin.value, raw, rawl);
        memcpy(at_origin.wire, out, len + 1);
        at_origin.len = len;
    }
    return out;
}
#undef LIT

/* ---- session cookie chunks ------------------------------------------ */

typedef struct chunk_ref {
    const char *name, *value;
    double idx;   /* NaN-like: -1 for the unsuffixed name */
} chunk_ref;

static int cmp_chunk(const void *x, const void *y)
{
    const chunk_ref *a = x, *b = y;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* Chunk index of a session cookie name: -1 for the name itself, 0..N-1
 * for "name.<digits>" (canonical, bounded), -2 for anything else — a
 * "…tokenX" or "….0x" is not ours and must not be read, wiped or echoed. */
#define MAX_CHUNKS 64
static int chunk_index(const char *k, const char *base, size_t bl)
{
    if (strncmp(k, base, bl) != 0)
        return -2;
    if (!k[bl])
        return -1;
    const char *d = k + bl + 1;
    size_t dl = strlen(d);
    if (k[bl] != '.' || dl == 0 || dl > 2 || strspn(d, "0123456789") != dl || (dl > 1 && d[0] == '0'))
        return -2;
    int v = atoi(d);
    return v < MAX_CHUNKS ? v : -2;
}

/* Collects the session cookie and its chunks that have a value (Auth.js
 * SessionStore, names checked strictly). Returns count; *out arena array. */
static size_t collect(authc__ctx *c, chunk_ref **out)
{
    *out = NULL;
    if (!c->cookies.n)
        return 0;
    const char *base = c->ck[AUTHC__CK_SESSION];
    size_t bl = strlen(base), n = 0;
    chunk_ref *r = authc_arena_alloc(c->ar, (c->cookies.n + 1) * sizeof *r);
    if (!r)
        return 0;
    for (size_t i = 0; i < c->cookies.n; i++) {
        const authc__kv *kv = &c->cookies.items[i];
        /* Only the name or name.<digits>: never a look-alike, so no
         * attacker-chosen name (control bytes…) is expired or echoed. */
        int idx = chunk_index(kv->k, base, bl);
        if (idx == -2 || !kv->v[0])
            continue;
        r[n].name = kv->k;
        r[n].value = kv->v;
        r[n].idx = idx;
        n++;
    }
    if (n > 1)
        qsort(r, n, sizeof *r, cmp_chunk);
    *out = r;
    return n;
}

const char *authc__session_read(authc__ctx *c)
{
    chunk_ref *r;
    size_t n = collect(c, &r);
    if (n == 0)
        return NULL;
    if (n == 1)
        return r[0].value;
    authc__buf b;
    authc__buf_init(&b, c->ar, AUTHC__JWE_MAX_TOKEN);
    for (size_t i = 0; i < n; i++)
        authc__buf_adds(&b, r[i].value);
    return b.err ? NULL : b.p;
}

authc_err authc__session_write(authc__ctx *c, const char *value, int64_t exp_sec)
{
    const char *base = c->ck[AUTHC__CK_SESSION];
    chunk_ref *r = NULL;
    size_t have = collect(c, &r);
    size_t len = value ? strlen(value) : 0;
    size_t n = (len + AUTHC__CHUNK_SIZE - 1) / AUTHC__CHUNK_SIZE;
    authc_err e = AUTHC_OK;
    /* The value is a JWT (base64url and dots): every chunk goes as it is. */
    if (n == 1) {
        e = authc__cookie_push_as(c, &c->cookies_out, base, value, -1, exp_sec, AUTHC__CO_PLAIN);
    } else {
        for (size_t i = 0; !e && i < n; i++) {
            char *name = authc_arena_printf(c->ar, "%s.%zu", base, i);
            size_t l = len - i * AUTHC__CHUNK_SIZE;
            char *v = authc_arena_strndup(c->ar, value + i * AUTHC__CHUNK_SIZE,
                                          l < AUTHC__CHUNK_SIZE ? l : AUTHC__CHUNK_SIZE);
            e = (name && v) ? authc__cookie_push_as(c, &c->cookies_out, name, v, -1, exp_sec, AUTHC__CO_PLAIN)
                            : AUTHC_ERR_NOMEM;
        }
    }
    /* Expire what the browser holds that the new set does not overwrite. */
    for (size_t i = 0; !e && i < have; i++) {
        bool kept = false;
        for (size_t j = 0; j < c->cookies_out.n; j++)
            if (!strcmp(c->cookies_out.items[j].name, r[i].name) && c->cookies_out.items[j].max_age != 0)
                kept = true;
        if (!kept)
            e = authc__cookie_push(c, &c->cookies_out, r[i].name, "", 0, -1);
    }
    return e;
}

/* ---- check cookies (pkce, state, nonce, challenge) ------------------- */

authc_err authc__check_cookie_set(authc__ctx *c, authc__ck key, const char *value,
                                  bool form_post)
{
    const authc *a = c->a;
    json_t *claims = json_pack("{s:s,s:s}", "value", value, "provider",
                               c->provider ? c->provider->id : "");
    if (!claims)
        return AUTHC_ERR_NOMEM;
    int64_t now = authc__now_ms() / 1000;
    char *tok = NULL;
    authc_err e = authc__jwt_encode(c->ar, &a->check_keys[c->secure][key][0], claims,
                                    AUTHC__CHECK_MAX_AGE, now, &tok);
    json_decref(claims);
    if (e)
        return e;
    /* The nonce cookie carries only Expires (Auth.js quirk). */
    int64_t max_age = key == AUTHC__CK_NONCE ? -1 : AUTHC__CHECK_MAX_AGE;
    /* The token is a JWT: base64url and dots, sent as it is. */
    unsigned flags = AUTHC__CO_PLAIN |
                     (form_post && (key == AUTHC__CK_STATE || key == AUTHC__CK_NONCE) ? AUTHC__CO_FORM_POST : 0);
    return authc__cookie_push_as(c, &c->cookies_out, c->ck[key], tok, max_age, now + AUTHC__CHECK_MAX_AGE, flags);
}

authc_err authc__check_cookie_use(authc__ctx *c, authc__ck key, const char **value)
{
    *value = NULL;
    const char *raw = authc__map_first(&c->cookies, c->ck[key]);
    if (!raw)
        return AUTHC_OK;
    json_t *claims = NULL;
    authc_err e = authc__jwt_decode(c->ar, c->a->check_keys[c->secure][key], c->a->nsecrets,
                                    raw, strlen(raw), authc__now_ms() / 1000, &claims);
    /* Cleared whether or not it was good: a check value is single use. */
    authc_err e2 = authc__cookie_push(c, &c->cookies_out, c->ck[key], "", 0, -1);
    if (e2) {
        json_decref(claims);
        return e2;
    }
    if (e)
        return AUTHC_OK;
    const char *v = json_string_value(json_object_get(claims, "value"));
    const char *p = json_string_value(json_object_get(claims, "provider"));
    if (v && *v && p && c->provider && !strcmp(p, c->provider->id))
        *value = authc_arena_strdup(c->ar, v);
    json_decref(claims);
    return AUTHC_OK;
}
