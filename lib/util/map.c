/* map.c — tiny ordered string maps for query, form and cookie values, and
 * the x-www-form-urlencoded parser that fills them. */
#include <string.h>

#include "util/util_int.h"

authc_err authc__map_add(authc_arena *ar, authc__map *m, const char *k, const char *v)
{
    authc__kv *items = authc__arena_grow(ar, m->items, m->n, &m->cap, sizeof *items, 8);
    if (!items)
        return AUTHC_ERR_NOMEM;
    m->items = items;
    m->items[m->n].k = k;
    m->items[m->n].v = v;
    m->n++;
    return AUTHC_OK;
}

const char *authc__map_last(const authc__map *m, const char *k)
{
    for (size_t i = m->n; i-- > 0;)
        if (strcmp(m->items[i].k, k) == 0)
            return m->items[i].v;
    return NULL;
}

const char *authc__map_first(const authc__map *m, const char *k)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->items[i].k, k) == 0)
            return m->items[i].v;
    return NULL;
}

authc_err authc__parse_form(authc_arena *ar, const char *s, size_t n,
                            authc__map *m, size_t max_pairs)
{
    size_t i = 0, pairs = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '&')
            j++;
        if (j > i) {
            const char *eq = memchr(s + i, '=', j - i);
            size_t klen = eq ? (size_t)(eq - (s + i)) : j - i;
            const char *vs = eq ? eq + 1 : s + j;
            size_t vlen = eq ? (size_t)(s + j - vs) : 0;
            char *k = authc__pct_decode(ar, s + i, klen, true);
            char *v = authc__pct_decode(ar, vs, vlen, true);
            /* URLSearchParams keeps undecodable pairs; we drop them, which
             * only ever removes attacker-supplied noise. */
            if (k && v) {
                if (++pairs > max_pairs)
                    return AUTHC_ERR_LIMIT;
                authc_err e = authc__map_add(ar, m, k, v);
                if (e)
                    return e;
            }
        }
        i = j + 1;
    }
    return AUTHC_OK;
}

authc_err authc_form_parse(authc_arena *ar, const char *body, size_t len, size_t max_fields,
                           authc_header **fields, size_t *n)
{
    if (!ar || (!body && len) || !fields || !n)
        return AUTHC_ERR_INVALID;
    authc__map m = {0};
    authc_err e = authc__parse_form(ar, body, len, &m, max_fields);
    if (e)
        return e;
    authc_header *f = authc_arena_alloc(ar, (m.n ? m.n : 1) * sizeof *f);
    if (!f)
        return AUTHC_ERR_NOMEM;
    for (size_t i = 0; i < m.n; i++)
        f[i] = (authc_header){m.items[i].k, m.items[i].v};
    *fields = f;
    *n = m.n;
    return AUTHC_OK;
}
