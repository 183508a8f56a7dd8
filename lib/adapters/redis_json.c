/* redis_json.c — the Redis backend's values: rows as upstash-redis-adapter
 * writes them (JSON.stringify byte layout, ISO dates) and reading them back with jansson. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "adapters/redis_int.h"
#include "util/parse_int.h"
#include "util/util_int.h"

/* ---- JSON out (JSON.stringify byte layout) ------------------------------- */

#define RD_JSON_MAX (RD_MAX_VALUE - 1)

/* An object being written: members are separated as they come. */
typedef struct jw {
    authc__buf b;
    bool first;
} jw;

static void jw_open(jw *w, authc_arena *ar)
{
    authc__buf_init(&w->b, ar, RD_JSON_MAX);
    authc__buf_addc(&w->b, '{');
    w->first = true;
}

/* The text, owned by the arena; NULL on OOM or over the limit. */
static const char *jw_close(jw *w)
{
    authc__buf_addc(&w->b, '}');
    return w->b.err ? NULL : w->b.p;
}

static void j_key(jw *w, const char *k)
{
    if (!w->first)
        authc__buf_addc(&w->b, ',');
    w->first = false;
    authc__buf_add_json_str(&w->b, k);
    authc__buf_addc(&w->b, ':');
}

/* "k":"v" or "k":null. */
static void j_str(jw *w, const char *k, const char *v)
{
    j_key(w, k);
    if (v)
        authc__buf_add_json_str(&w->b, v);
    else
        authc__buf_adds(&w->b, "null");
}

/* "k":"v", omitted when v is NULL (JS undefined). */
static void j_str_opt(jw *w, const char *k, const char *v)
{
    if (v)
        j_str(w, k, v);
}

/* "k":"2024-01-02T03:04:05.678Z" (toISOString) or "k":null. */
static void j_date(jw *w, const char *k, int64_t ms)
{
    j_key(w, k);
    if (ms == AUTHC_NO_TIME) {
        authc__buf_adds(&w->b, "null");
        return;
    }
    char iso[32];
    authc__iso8601(iso, ms);
    authc__buf_add_json_str(&w->b, iso);
}

static void j_int(jw *w, const char *k, int64_t v)
{
    j_key(w, k);
    authc__buf_printf(&w->b, "%" PRId64, v);
}

/* One layout a kind: the members (indices into the model tables of
 * model.c) in the order upstash-redis-adapter writes them. */
#define LAYOUT(desc, ...) AUTHC__LAYOUT(desc, NULL, __VA_ARGS__)

static const authc__row_layout LAYOUTS[] = {
    /* Core's OAuth user: {...profile(id,name,email,image), emailVerified}. */
    [RD_USER] = LAYOUT(&authc__user_row, 0, 1, 2, 4, 3),
    /* The upstash example: identity, userId, tokens, then "id". */
    [RD_ACCOUNT] = LAYOUT(&authc__account_row, 3, 4, 2, 1, 6, 7, 10, 5, 8, 9,
                          11, 0),
    /* upstash sessions have no id. */
    [RD_SESSION] = LAYOUT(&authc__session_row, 1, 2, 3),
    [RD_VT] = LAYOUT(&authc__vt_row, 0, 1, 2),
    /* Drizzle's authenticator columns. */
    [RD_AUTH] = LAYOUT(&authc__authn_row, 0, 1, 2, 3, 4, 5, 6, 7),
};

/* Owned by ar. Optional members are omitted when absent (JS undefined). */
const char *authc__rd_json(authc_arena *ar, rd_kind kind, const void *row)
{
    const authc__row_layout *l = &LAYOUTS[kind];
    jw w;
    jw_open(&w, ar);
    for (size_t i = 0; i < l->n; i++) {
        const authc__field *f = &l->d->f[l->cols[i]];
        const void *at = (const char *)row + f->off;
        switch (f->kind) {
        case AUTHC__F_STR:
            j_str(&w, f->name, *(const char *const *)at);
            break;
        case AUTHC__F_STR_OPT:
            j_str_opt(&w, f->name, *(const char *const *)at);
            break;
        case AUTHC__F_TIME:
            j_date(&w, f->name, *(const int64_t *)at);
            break;
        case AUTHC__F_SECS:
            if (*(const int64_t *)at != AUTHC_NO_TIME)
                j_int(&w, f->name, *(const int64_t *)at);
            break;
        case AUTHC__F_INT:
            j_int(&w, f->name, *(const int64_t *)at);
            break;
        case AUTHC__F_BOOL:
            j_key(&w, f->name);
            authc__buf_adds(&w.b, *(const bool *)at ? "true" : "false");
            break;
        }
    }
    return jw_close(&w);
}

/* ---- JSON in (what upstash, i.e. JSON.stringify, wrote) ------------------ */

/* A stored value parsed; the first conversion failure sticks. */
typedef struct jin {
    authc_arena *ar;
    json_t *o;
    authc_err err;
} jin;

/* Parses a stored value into j (release with json_decref(j->o)); false
 * when it is not a JSON object. */
static bool jin_parse(jin *j, authc_arena *ar, const char *s)
{
    j->ar = ar;
    j->err = AUTHC_OK;
    j->o = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
    if (j->o && !json_is_object(j->o)) {
        json_decref(j->o);
        j->o = NULL;
    }
    return j->o != NULL;
}

/* String member as arena copy. Numbers (an id or providerAccountId that
 * JSON.parse turned into a number before a re-save) become their decimal
 * text; null/absent/other → NULL. */
static const char *jin_str(jin *j, const char *k)
{
    json_t *v = json_object_get(j->o, k);
    char *s = NULL;
    if (json_is_string(v))
        s = authc_arena_strndup(j->ar, json_string_value(v),
                                json_string_length(v));
    else if (json_is_integer(v))
        s = authc_arena_printf(j->ar, "%" JSON_INTEGER_FORMAT,
                               json_integer_value(v));
    else if (json_is_real(v))
        s = authc_arena_printf(j->ar, "%.17g", json_real_value(v));
    else
        return NULL;
    if (!s)
        j->err = AUTHC_ERR_NOMEM;
    return s;
}

/* Date member: ISO string (or epoch ms number in ISO's range) → ms; else
 * AUTHC_NO_TIME. */
static int64_t jin_date(jin *j, const char *k)
{
    json_t *v = json_object_get(j->o, k);
    int64_t ms;
    if (json_is_string(v) &&
        authc__iso8601_parse(json_string_value(v), &ms) == AUTHC_OK)
        return ms;
    if (json_is_integer(v) && json_integer_value(v) >= AUTHC__ISO_MIN_MS &&
        json_integer_value(v) <= AUTHC__ISO_MAX_MS)
        return (int64_t)json_integer_value(v);
    return AUTHC_NO_TIME;
}

/* Integer member (number or numeric string) or dflt. */
static int64_t jin_int(jin *j, const char *k, int64_t dflt)
{
    json_t *v = json_object_get(j->o, k);
    int64_t x;
    if (authc__json_int(v, &x))
        return x;
    if (json_is_string(v) &&
        authc__parse_i64(json_string_value(v), INT64_MIN, INT64_MAX, &x) ==
            AUTHC_OK)
        return x;
    return dflt;
}

static bool jin_bool(jin *j, const char *k)
{
    json_t *v = json_object_get(j->o, k);
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    if (json_is_string(v))
        return strcmp(json_string_value(v), "true") == 0;
    return false;
}

/* authc__row_src over the members of a parsed value (by name). */
static bool src_str(void *ud, int col, const authc__field *f,
                    const char **out)
{
    (void)col;
    jin *j = ud;
    *out = jin_str(j, f->name);
    return !j->err;
}

static int64_t src_num(void *ud, int col, const authc__field *f)
{
    (void)col;
    switch (f->kind) {
    case AUTHC__F_TIME:
        return jin_date(ud, f->name);
    case AUTHC__F_SECS:
        return jin_int(ud, f->name, AUTHC_NO_TIME);
    case AUTHC__F_BOOL:
        return jin_bool(ud, f->name);
    default:
        return jin_int(ud, f->name, 0);
    }
}

void *authc__rd_parse(rd_call *call, rd_kind kind, const char *s,
                      const char *id, void *into, authc_err *e)
{
    const authc__row_layout *l = &LAYOUTS[kind];
    jin j;
    if (!jin_parse(&j, call->ar, s)) {
        /* The name is of a row kind, never a key (which may hold a token). */
        authc__adapter_log(call->self, "error", "%s: stored %s is not a "
                           "JSON object", call->ctx->label, l->d->what);
        *e = AUTHC_ERR_ADAPTER;
        return NULL;
    }
    void *row = authc__layout_read(call->ar, l, 0,
                                   &(authc__row_src){src_str, src_num, &j},
                                   into);
    bool ok = row != NULL;
    if (ok && kind == RD_USER) {
        authc_user *u = row;
        if (!u->id && id)
            u->id = authc_arena_strdup(call->ar, id);
        ok = u->id != NULL;
    }
    json_decref(j.o);
    if (!ok) {
        *e = AUTHC_ERR_NOMEM;
        return NULL;
    }
    return row;
}

const char *authc__rd_json_user_id(rd_call *call, const char *s)
{
    jin j;
    if (!jin_parse(&j, call->ar, s))
        return NULL;
    const char *owner = jin_str(&j, "userId");
    json_decref(j.o);
    return owner;
}

const char *authc__rd_index_value(rd_call *call, const char *v)
{
    size_t n = v ? strlen(v) : 0;
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        json_t *s = json_loads(v, JSON_DECODE_ANY, NULL);
        const char *out = NULL;
        if (json_is_string(s))
            out = authc_arena_strdup(call->ar, json_string_value(s));
        json_decref(s);
        if (out)
            return out;
    }
    return v;
}

void *authc__rd_load(rd_call *call, const char *key, rd_kind kind,
                     const char *id, bool retry, authc_err *e)
{
    *e = AUTHC_OK;
    if (!key)
        return NULL; /* a key part too long to exist */
    char what[40], *v;
    snprintf(what, sizeof what, "get %s", LAYOUTS[kind].d->what);
    if (!authc__rd_get(call, key, retry, what, &v)) {
        *e = AUTHC_ERR_ADAPTER;
        return NULL;
    }
    return v ? authc__rd_parse(call, kind, v, id, NULL, e) : NULL;
}

/* The key of the row of kind under a (and b for the two-part keys). */
static const char *row_key(rd_call *call, rd_kind kind, const char *a,
                           const char *b)
{
    switch (kind) {
    case RD_USER:
        return K_USER(call, a);
    case RD_ACCOUNT:
        return K_ACCOUNT(call, a, b);
    case RD_SESSION:
        return K_SESSION(call, a);
    case RD_VT:
        return K_VT(call, a, b);
    default:
        return K_AUTH(call, a);
    }
}

authc_err authc__rd_get_row(authc_adapter *self, authc_arena *ar,
                            rd_kind kind, const char *a, const char *b,
                            void *out)
{
    bool two_part = kind == RD_ACCOUNT || kind == RD_VT;
    void *row = NULL;
    authc_err e = AUTHC_OK;
    if (a && (b || !two_part)) {
        rd_call call;
        if (!(e = authc__rd_begin(self, ar, &call)))
            row = authc__rd_load(&call, row_key(&call, kind, a, b), kind,
                                 kind == RD_USER ? a : NULL, true, &e);
        authc__rd_end(&call);
    }
    authc__set_row(out, row);
    return e;
}
