/* problems.c — the configuration problem list: collects every problem with
 * its setting, renders them one per line for authc_new, `authc check` and env. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/problems_int.h"

static char *dup_s(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

/* Adds an item whose strings are already formatted; takes nothing over. */
static void add(authc__problems *p, const char *setting, const char *text)
{
    if (p->n >= AUTHC__PROBLEMS_MAX) {
        p->dropped++;
        return;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        authc__problem_item *it = realloc(p->items, cap * sizeof *it);
        if (!it) {
            p->dropped++;
            return;
        }
        p->items = it;
        p->cap = cap;
    }
    char *s = setting ? dup_s(setting) : NULL, *t = dup_s(text);
    if (!t || (setting && !s)) {
        free(s);
        free(t);
        p->dropped++;
        return;
    }
    p->items[p->n].setting = s;
    p->items[p->n].text = t;
    p->n++;
}

void authc__problem(authc__problems *p, const char *setting, const char *fmt, ...)
{
    if (!p)
        return;
    char text[AUTHC__PROBLEM_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (r < 0)
        snprintf(text, sizeof text, "(unprintable problem)");
    /* One problem, one line: a value quoted in the text may hold newlines
     * or other controls. */
    for (char *c = text; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    add(p, setting, text);
}

void authc__problems_merge(authc__problems *dst, const authc__problems *src)
{
    if (!dst || !src)
        return;
    for (size_t i = 0; i < src->n; i++)
        add(dst, src->items[i].setting, src->items[i].text);
    dst->dropped += src->dropped;
}

size_t authc__problems_count(const authc__problems *p)
{
    return p ? p->n + p->dropped : 0;
}

const authc__problem_item *authc__problems_at(const authc__problems *p, size_t i)
{
    return p && i < p->n ? &p->items[i] : NULL;
}

/* Line i (i == p->n: the "more problems" line) into line; its length. */
static size_t line_of(const authc__problems *p, size_t i, char *line, size_t cap)
{
    int r;
    if (i == p->n)
        r = snprintf(line, cap, "%zu more problem%s not shown (out of memory or too many)",
                     p->dropped, p->dropped == 1 ? "" : "s");
    else if (p->items[i].setting)
        r = snprintf(line, cap, "%s: %s", p->items[i].setting, p->items[i].text);
    else
        r = snprintf(line, cap, "%s", p->items[i].text);
    return r < 0 ? 0 : (size_t)r;
}

size_t authc__problems_render(const authc__problems *p, char *out, size_t cap)
{
    static const char ELL[] = "…";
    size_t need = 0, o = 0;
    bool cut = false;
    if (cap)
        out[0] = '\0';
    size_t lines = p ? p->n + (p->dropped ? 1 : 0) : 0;
    for (size_t i = 0; i < lines; i++) {
        char line[AUTHC__PROBLEM_TEXT_MAX + 256];
        size_t l = line_of(p, i, line, sizeof line);
        if (l >= sizeof line)
            l = sizeof line - 1;
        size_t sep = i ? 1 : 0;
        need += sep + l;
        if (cut || !cap)
            continue;
        if (o + sep + l < cap) {
            if (sep)
                out[o++] = '\n';
            memcpy(out + o, line, l);
            o += l;
            out[o] = '\0';
            continue;
        }
        /* Does not fit: end with "…" in place of what is lost (on the
         * current line when nothing fits yet, else after the last whole
         * line). */
        cut = true;
        if (o == 0) {
            size_t room = cap - 1 >= sizeof ELL - 1 ? cap - 1 - (sizeof ELL - 1) : 0;
            memcpy(out, line, room < l ? room : l);
            o = room < l ? room : l;
        }
        if (o + sizeof ELL - 1 < cap) {
            memcpy(out + o, ELL, sizeof ELL - 1);
            o += sizeof ELL - 1;
        }
        out[o] = '\0';
    }
    return need;
}

void authc__problems_print(const authc__problems *p, FILE *f, const char *prefix)
{
    if (!p || !f)
        return;
    size_t lines = p->n + (p->dropped ? 1 : 0);
    for (size_t i = 0; i < lines; i++) {
        char line[AUTHC__PROBLEM_TEXT_MAX + 256];
        line_of(p, i, line, sizeof line);
        fprintf(f, "%s%s\n", prefix ? prefix : "", line);
    }
}

void authc__problems_clear(authc__problems *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->items[i].setting);
        free(p->items[i].text);
    }
    free(p->items);
    memset(p, 0, sizeof *p);
}
