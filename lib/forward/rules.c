/* rules.c — forward-auth access rules: parsing the ordered rules file and
 * deciding allow / need a session / forbidden for one forwarded request. */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "forward/rules_int.h"
#include "util/parse_int.h"

/* A comma list, split once at load time. */
typedef struct list {
    char **v;
    size_t n;
} list;

typedef struct rule {
    authc__fwd_policy policy;
    int line;
    list hosts, paths, methods;
    bool has_re;
    regex_t re;
    list users, emails, domains, groups, providers;
} rule;

struct authc__rules {
    rule *v;
    size_t n;
};

static void list_free(list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Splits "a,b , c" into l; false on OOM, an empty item or too many. */
static bool list_parse(const char *s, list *l)
{
    list_free(l);
    l->v = calloc(AUTHC__RULE_LIST_MAX, sizeof *l->v);
    if (!l->v)
        return false;
    const char *p = s;
    for (;;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, ",");
        size_t t = n;
        while (t && p[t - 1] == ' ')
            t--;
        if (!t || l->n == AUTHC__RULE_LIST_MAX || !(l->v[l->n] = strndup(p, t)))
            return false;
        l->n++;
        if (!p[n])
            return true;
        p += n + 1;
    }
}

static bool list_has(const list *l, const char *s, bool nocase)
{
    for (size_t i = 0; s && i < l->n; i++)
        if (nocase ? !strcasecmp(l->v[i], s) : !strcmp(l->v[i], s))
            return true;
    return false;
}

static void rule_free(rule *r)
{
    list *ls[] = {&r->hosts, &r->paths, &r->methods, &r->users, &r->emails,
                  &r->domains, &r->groups, &r->providers};
    for (size_t i = 0; i < sizeof ls / sizeof *ls; i++)
        list_free(ls[i]);
    if (r->has_re)
        regfree(&r->re);
}

void authc__rules_free(authc__rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        rule_free(&r->v[i]);
    free(r->v);
    free(r);
}

size_t authc__rules_count(const authc__rules *r)
{
    return r ? r->n : 0;
}

static bool fail(char *why, size_t whylen, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool fail(char *why, size_t whylen, int line, const char *fmt, ...)
{
    int k = snprintf(why, whylen, "line %d: ", line);
    va_list ap;
    va_start(ap, fmt);
    if (k >= 0 && (size_t)k < whylen)
        vsnprintf(why + k, whylen - (size_t)k, fmt, ap);
    va_end(ap);
    return false;
}

/* One key=value (or path~=regex) token of a rule line. */
static bool rule_token(rule *r, char *tok, int line, char *why, size_t whylen)
{
    char *eq = strchr(tok, '=');
    if (!eq || eq == tok || !eq[1])
        return fail(why, whylen, line, "'%.80s' is not key=value", tok);
    *eq = '\0';
    const char *key = tok, *val = eq + 1;
    if (!strcmp(key, "path~")) {
        if (r->has_re)
            return fail(why, whylen, line, "path~ given twice");
        const char *costly = authc__regex_cost_check(val);
        if (costly)
            return fail(why, whylen, line, "regular expression '%.80s' refused: %s", val, costly);
        int rc = regcomp(&r->re, val, REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char msg[128];
            regerror(rc, &r->re, msg, sizeof msg);
            return fail(why, whylen, line, "bad regular expression '%.80s': %s", val, msg);
        }
        r->has_re = true;
        return true;
    }
    static const struct { const char *name; size_t off; bool subject; } KEYS[] = {
        {"host", offsetof(rule, hosts), false},   {"path", offsetof(rule, paths), false},
        {"methods", offsetof(rule, methods), false}, {"users", offsetof(rule, users), true},
        {"emails", offsetof(rule, emails), true}, {"domains", offsetof(rule, domains), true},
        {"groups", offsetof(rule, groups), true}, {"providers", offsetof(rule, providers), true},
    };
    for (size_t i = 0; i < sizeof KEYS / sizeof *KEYS; i++) {
        if (strcmp(key, KEYS[i].name))
            continue;
        list *l = (list *)((char *)r + KEYS[i].off);
        if (l->n)
            return fail(why, whylen, line, "%s given twice", key);
        if (KEYS[i].subject && r->policy != AUTHC__FWD_AUTHENTICATED)
            return fail(why, whylen, line, "%s= only goes with 'authenticated'", key);
        if (!list_parse(val, l))
            return fail(why, whylen, line, "%s: empty entry or more than %d entries", key,
                        AUTHC__RULE_LIST_MAX);
        if (l == &r->paths)
            for (size_t j = 0; j < l->n; j++)
                if (l->v[j][0] != '/')
                    return fail(why, whylen, line, "path '%.80s' must start with /", l->v[j]);
        return true;
    }
    return fail(why, whylen, line, "unknown key '%.40s' (host, path, path~, methods, users, "
                                   "emails, domains, groups, providers)", key);
}

static bool rule_parse(rule *r, char *s, int line, char *why, size_t whylen)
{
    char *save = NULL;
    char *pol = strtok_r(s, " \t", &save);
    static const authc__name_val POLICIES[] = {
        {"bypass", AUTHC__FWD_BYPASS},
        {"deny", AUTHC__FWD_DENY},
        {"authenticated", AUTHC__FWD_AUTHENTICATED},
    };
    int policy;
    if (!authc__name_lookup(POLICIES, sizeof POLICIES / sizeof *POLICIES, pol, &policy))
        return fail(why, whylen, line, "'%.40s' is not a policy (bypass, deny, authenticated)", pol);
    r->policy = (authc__fwd_policy)policy;
    r->line = line;
    for (char *tok; (tok = strtok_r(NULL, " \t", &save));)
        if (!rule_token(r, tok, line, why, whylen))
            return false;
    return true;
}

authc__rules *authc__rules_parse(const char *text, size_t len, char *why, size_t whylen)
{
    authc__rules *rs = calloc(1, sizeof *rs);
    if (!rs || !(rs->v = calloc(AUTHC__RULES_MAX, sizeof *rs->v))) {
        free(rs);
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    char buf[AUTHC__RULE_LINE_MAX];
    int line = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        line++;
        bool ok = true;
        if (n >= sizeof buf)
            ok = fail(why, whylen, line, "longer than %d bytes", AUTHC__RULE_LINE_MAX - 1);
        else if (memchr(text + pos, '\0', n))
            ok = fail(why, whylen, line, "contains a NUL byte");
        if (ok) {
            memcpy(buf, text + pos, n);
            buf[n] = '\0';
            char *hash = strchr(buf, '#');
            if (hash)
                *hash = '\0';
            char *s = buf;
            while (*s == ' ' || *s == '\t' || *s == '\r')
                s++;
            for (size_t t = strlen(s); t && isspace((unsigned char)s[t - 1]);)
                s[--t] = '\0';
            if (*s) {
                if (rs->n == AUTHC__RULES_MAX)
                    ok = fail(why, whylen, line, "more than %d rules", AUTHC__RULES_MAX);
                else
                    ok = rule_parse(&rs->v[rs->n++], s, line, why, whylen);
            }
        }
        if (!ok) {
            authc__rules_free(rs);
            return NULL;
        }
        pos += n + 1;
    }
    return rs;
}

authc__rules *authc__rules_load(const char *file, char *why, size_t whylen)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        snprintf(why, whylen, "cannot open %s: %s", file, strerror(errno));
        return NULL;
    }
    char *text = malloc(AUTHC__RULES_FILE_MAX + 1);
    size_t n = text ? fread(text, 1, AUTHC__RULES_FILE_MAX + 1, f) : 0;
    bool err = ferror(f);
    fclose(f);
    authc__rules *r = NULL;
    if (!text)
        snprintf(why, whylen, "out of memory");
    else if (err)
        snprintf(why, whylen, "cannot read %s", file);
    else if (n > AUTHC__RULES_FILE_MAX)
        snprintf(why, whylen, "%s is larger than %d bytes", file, AUTHC__RULES_FILE_MAX);
    else
        r = authc__rules_parse(text, n, why, whylen);
    free(text);
    return r;
}

/* ---- matching ----------------------------------------------------------- */

bool authc__glob_match(const char *g, const char *s)
{
    const char *star = NULL, *back = NULL;
    while (*s) {
        if (*g == '*') {
            star = g++;
            back = s;
        } else if (*g == '?' || (*g && tolower((unsigned char)*g) == tolower((unsigned char)*s))) {
            g++;
            s++;
        } else if (star) {
            g = star + 1;
            s = ++back;
        } else {
            return false;
        }
    }
    while (*g == '*')
        g++;
    return !*g;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

bool authc__path_normalize(const char *path, char *out, size_t outlen)
{
    size_t o = 0;
    if (!path || path[0] != '/' || outlen < 2)
        return false;
    for (const char *p = path; *p; p++) {
        char c = *p;
        if (c == '%') {
            int h = hexval(p[1]), l = h < 0 ? -1 : hexval(p[2]);
            if (l < 0)
                return false;
            c = (char)(h * 16 + l);
            if (c == '/' || c == '\\' || c == '\0')
                return false; /* would change the path's shape: refuse */
            if (!(isalnum((unsigned char)c) || strchr("-._~", c))) {
                if (o + 3 >= outlen)
                    return false;
                out[o++] = '%';
                out[o++] = "0123456789ABCDEF"[h];
                out[o++] = "0123456789ABCDEF"[l];
                p += 2;
                continue;
            }
            p += 2;
        } else if (c == '\\') {
            return false;
        }
        if (c == '/' && o && out[o - 1] == '/')
            continue; /* "//" → "/" */
        if (o + 1 >= outlen)
            return false;
        out[o++] = c;
        out[o] = '\0';
        /* Resolve "/." and "/.." once the segment is complete. */
        bool seg_end = p[1] == '\0' || p[1] == '/';
        if (!seg_end)
            continue;
        if (o >= 2 && !strcmp(out + o - 2, "/.")) {
            o -= 1;
        } else if (o >= 3 && !strcmp(out + o - 3, "/..")) {
            o -= 3;
            while (o && out[o - 1] != '/')
                o--;
            if (!o)
                out[o++] = '/';
        }
        out[o] = '\0';
    }
    out[o] = '\0';
    return true;
}

static bool path_prefix(const char *prefix, const char *path)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n))
        return false;
    /* "/admin" covers "/admin" and "/admin/…", not "/administrator". */
    return prefix[n - 1] == '/' || path[n] == '\0' || path[n] == '/';
}

static bool host_match(const list *globs, const char *host)
{
    char bare[256];
    size_t hl = strcspn(host, ":");
    if (host[0] == '[')
        hl = strcspn(host, "]") + 1;
    snprintf(bare, sizeof bare, "%.*s", (int)(hl < sizeof bare ? hl : sizeof bare - 1), host);
    for (size_t i = 0; i < globs->n; i++)
        if (authc__glob_match(globs->v[i], strchr(globs->v[i], ':') ? host : bare))
            return true;
    return false;
}

static bool rule_matches(const rule *r, const authc__fwd_target *t, const char *npath)
{
    if (r->hosts.n && !host_match(&r->hosts, t->host))
        return false;
    if (r->methods.n && !list_has(&r->methods, t->method, true))
        return false;
    if (r->paths.n) {
        bool any = false;
        for (size_t i = 0; i < r->paths.n && !any; i++)
            any = path_prefix(r->paths.v[i], npath);
        if (!any)
            return false;
    }
    return !r->has_re || regexec(&r->re, npath, 0, NULL, 0) == 0;
}

static const char *email_domain(const char *email)
{
    const char *at = email ? strrchr(email, '@') : NULL;
    return at ? at + 1 : NULL;
}

static bool any_glob(const list *l, const char *s)
{
    for (size_t i = 0; s && i < l->n; i++)
        if (authc__glob_match(l->v[i], s))
            return true;
    return false;
}

static bool any_group(const list *l, const authc__fwd_subject *s)
{
    for (size_t i = 0; i < s->n_groups; i++)
        if (list_has(l, s->groups[i], false))
            return true;
    return false;
}

/* Conditions of one kind each: every kind given must hold (AND); within a
 * list any entry suffices (OR). Returns the failing kind or NULL. */
static const char *subject_fails(const list *users, const list *emails, const list *domains,
                                 const list *groups, const list *providers,
                                 const authc__fwd_subject *s)
{
    if (users->n && !list_has(users, s->user_id, false) && !list_has(users, s->name, false))
        return "users";
    if (emails->n && !list_has(emails, s->email, true))
        return "emails";
    if (domains->n && !any_glob(domains, email_domain(s->email)))
        return "domains";
    if (groups->n && !any_group(groups, s))
        return "groups";
    if (providers->n && !list_has(providers, s->provider, false))
        return "providers";
    return NULL;
}

static const char *query_fails(const authc__fwd_query *q, const authc__fwd_subject *s)
{
    const char *specs[4] = {q->allowed_users, q->allowed_emails, q->allowed_email_domains,
                            q->allowed_groups};
    list l[4] = {{0}};
    const char *bad = NULL;
    static const char *NAMES[4] = {"allowed_users", "allowed_emails", "allowed_email_domains",
                                   "allowed_groups"};
    for (int i = 0; i < 4 && !bad; i++)
        if (specs[i] && *specs[i] && !list_parse(specs[i], &l[i]))
            bad = NAMES[i]; /* malformed or too long: fail closed */
    list none = {0};
    if (!bad) {
        const char *k = subject_fails(&l[0], &l[1], &l[2], &l[3], &none, s);
        if (k)
            bad = !strcmp(k, "users") ? NAMES[0] : !strcmp(k, "emails") ? NAMES[1]
                : !strcmp(k, "domains") ? NAMES[2] : NAMES[3];
    }
    for (int i = 0; i < 4; i++)
        list_free(&l[i]);
    return bad;
}

authc__fwd_result authc__forward_decide(const authc__rules *rules, const authc__fwd_query *q,
                                        const authc__fwd_target *t, const authc__fwd_subject *s,
                                        char *explain, size_t explainlen)
{
    char npath[4096], dummy[1];
    if (!explain)
        explain = dummy, explainlen = sizeof dummy;
    if (!authc__path_normalize(t->path, npath, sizeof npath)) {
        snprintf(explain, explainlen, "target path cannot be normalised safely: denied");
        return AUTHC__FWD_FORBIDDEN;
    }
    const rule *r = NULL;
    for (size_t i = 0; rules && i < rules->n && !r; i++)
        if (rule_matches(&rules->v[i], t, npath))
            r = &rules->v[i];
    char which[64];
    if (r)
        snprintf(which, sizeof which, "rule at line %d", r->line);
    else
        snprintf(which, sizeof which, "no rule matches (default: authenticated)");
    if (r && r->policy == AUTHC__FWD_BYPASS) {
        snprintf(explain, explainlen, "%s: bypass, no session needed", which);
        return AUTHC__FWD_ALLOW;
    }
    if (r && r->policy == AUTHC__FWD_DENY) {
        snprintf(explain, explainlen, "%s: deny", which);
        return AUTHC__FWD_FORBIDDEN;
    }
    if (!s || !s->signed_in) {
        snprintf(explain, explainlen, "%s: a session is required", which);
        return AUTHC__FWD_NEED_SESSION;
    }
    const char *k = r ? subject_fails(&r->users, &r->emails, &r->domains, &r->groups,
                                      &r->providers, s)
                      : NULL;
    if (k) {
        snprintf(explain, explainlen, "%s: the user does not meet %s=", which, k);
        return AUTHC__FWD_FORBIDDEN;
    }
    if (q && (k = query_fails(q, s))) {
        snprintf(explain, explainlen, "%s: allowed, but the request's %s does not match", which, k);
        return AUTHC__FWD_FORBIDDEN;
    }
    snprintf(explain, explainlen, "%s: allowed", which);
    return AUTHC__FWD_ALLOW;
}
