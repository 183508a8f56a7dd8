/* settings.c — the settings source: the process environment first, then
 * NAME=value lines read from dotenv-style files. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env_int.h"

#define SETTINGS_MAX 256
#define LINE_MAX_LEN 8192

struct authc_settings {
    char *names[SETTINGS_MAX];
    char *values[SETTINGS_MAX];
    size_t n;
};

authc_settings *authc_settings_new(void)
{
    return calloc(1, sizeof(authc_settings));
}

void authc_settings_free(authc_settings *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->names[i]);
        free(s->values[i]);
    }
    free(s);
}

size_t authc__settings_count(const authc_settings *s)
{
    return s ? s->n : 0;
}

const char *authc__settings_name(const authc_settings *s, size_t i)
{
    return s->names[i];
}

const char *authc_settings_get(const authc_settings *s, const char *name)
{
    const char *v = getenv(name);
    if (v || !s)
        return v;
    for (size_t i = s->n; i-- > 0;)
        if (!strcmp(s->names[i], name))
            return s->values[i];
    return NULL;
}

/* Splits one trimmed, non-comment line into name and value (in place).
 * Returns NULL or what is wrong with it. */
static const char *split_line(char *p, char **name, char **val)
{
    if (!strncmp(p, "export ", 7))
        p += 7;
    char *eq = strchr(p, '=');
    if (!eq || eq == p)
        return "expected NAME=value";
    *eq = '\0';
    char *v = eq + 1;
    for (char *q = eq; q > p && isspace((unsigned char)q[-1]);)
        *--q = '\0';
    if (!*p) /* "export   =x": only blanks before '=' */
        return "expected NAME=value";
    while (isspace((unsigned char)*v))
        v++;
    size_t vl = strlen(v);
    if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
        v[vl - 1] = '\0';
        v++;
    }
    for (char *q = p; *q; q++)
        if (!(isalnum((unsigned char)*q) || *q == '_'))
            return "bad setting name";
    *name = p;
    *val = v;
    return NULL;
}

static authc_err add(authc_settings *s, const char *name, const char *val)
{
    if (s->n >= SETTINGS_MAX)
        return AUTHC_ERR_LIMIT;
    char *n = strdup(name), *v = strdup(val);
    if (!n || !v) {
        free(n);
        free(v);
        return AUTHC_ERR_NOMEM;
    }
    s->names[s->n] = n;
    s->values[s->n] = v;
    s->n++;
    return AUTHC_OK;
}

authc_err authc_settings_load_file(authc_settings *s, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
        return AUTHC_ERR_IO;
    }
    char *line = malloc(LINE_MAX_LEN);
    size_t lineno = 0;
    authc_err rc = line ? AUTHC_OK : AUTHC_ERR_NOMEM;
    while (rc == AUTHC_OK && fgets(line, LINE_MAX_LEN, f)) {
        lineno++;
        size_t l = strlen(line);
        if (l == LINE_MAX_LEN - 1 && line[l - 1] != '\n') {
            snprintf(err, errlen, "%s:%zu: line too long", path, lineno);
            rc = AUTHC_ERR_LIMIT;
            break;
        }
        while (l && isspace((unsigned char)line[l - 1]))
            line[--l] = '\0';
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            continue;
        char *name, *val;
        const char *why = split_line(p, &name, &val);
        if (why) {
            snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
            rc = AUTHC_ERR_INVALID;
        } else if ((rc = add(s, name, val)) == AUTHC_ERR_LIMIT) {
            snprintf(err, errlen, "%s: more than %d settings", path, SETTINGS_MAX);
        }
    }
    if (rc == AUTHC_OK && ferror(f)) {
        snprintf(err, errlen, "error reading %s: %s", path, strerror(errno));
        rc = AUTHC_ERR_IO;
    }
    if (rc == AUTHC_ERR_NOMEM)
        snprintf(err, errlen, "out of memory reading %s", path);
    free(line);
    fclose(f);
    return rc;
}
