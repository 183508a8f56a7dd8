/* email_env.c — turns AUTHC_EMAIL* settings into the email provider; with
 * AUTHC_EMAIL=log the links go to the server log (development only). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authc/email.h"
#include "email_env.h"

#define PROBLEM(...) do { fprintf(stderr, "authc: " __VA_ARGS__); fputc('\n', stderr); problems++; } while (0)

/* AUTHC_* first, then the name Auth.js examples use. */
static const char *get2(const settings *s, const char *a, const char *b)
{
    const char *v = settings_get(s, a);
    if ((!v || !*v) && b)
        v = settings_get(s, b);
    return v && *v ? v : NULL;
}

static bool parse_int(const char *v, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi)
        return false;
    *out = n;
    return true;
}

static int parse_bool(const char *v)
{
    if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
        return 1;
    if (!strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off"))
        return 0;
    return -1;
}

/* "N" (per the default window), "N/SECONDS", or "off". */
static bool parse_limit(const char *v, authc_email_limit *l)
{
    if (!strcasecmp(v, "off") || !strcasecmp(v, "none")) {
        l->max = -1;
        return true;
    }
    char buf[64];
    if (strlen(v) >= sizeof buf)
        return false;
    strcpy(buf, v);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    long long n, w = 0;
    if (!parse_int(buf, 1, 1000000, &n))
        return false;
    if (slash && !parse_int(slash + 1, 1, 366LL * 86400, &w))
        return false;
    l->max = (int)n;
    l->window = w;
    return true;
}

/* True when url's host is localhost, 127.0.0.0/8 or [::1]. */
static bool url_is_loopback(const char *url)
{
    const char *h = strstr(url, "://");
    if (!h)
        return false;
    h += 3;
    size_t n = strcspn(h, "/?#");
    const char *at = memchr(h, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - h);
        h = at + 1;
    }
    char host[256];
    if (n >= sizeof host)
        return false;
    memcpy(host, h, n);
    host[n] = '\0';
    if (host[0] == '[') {
        char *rb = strchr(host, ']');
        if (rb)
            rb[1] = '\0';
        return !strcmp(host, "[::1]");
    }
    char *colon = strchr(host, ':');
    if (colon)
        *colon = '\0';
    if (!strcasecmp(host, "localhost"))
        return true;
    unsigned a, b, c, d;
    char tail;
    return sscanf(host, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 &&
           c < 256 && d < 256;
}

/* AUTHC_EMAIL=log: print the link instead of mailing it. */
static authc_err log_send(void *ud, const authc_email_message *m)
{
    (void)ud;
    char line[8192 + 512];
    snprintf(line, sizeof line,
             "DEVELOPMENT ONLY (AUTHC_EMAIL=log, no mail sent): sign-in link for %s: %s", m->to, m->url);
    prog_log(NULL, "warn", line);
    return AUTHC_OK;
}

int email_env_configure(const settings *s, authc_config *cfg)
{
    int problems = 0;
    const char *mode = settings_get(s, "AUTHC_EMAIL");
    const char *server = get2(s, "AUTHC_EMAIL_SERVER", "EMAIL_SERVER");
    if (mode && !*mode)
        mode = NULL;
    if (!mode)
        mode = server ? "smtp" : "off";
    if (!strcasecmp(mode, "off") || !strcasecmp(mode, "false") || !strcmp(mode, "0"))
        return 0;
    bool log_mode = !strcasecmp(mode, "log");
    if (!log_mode && strcasecmp(mode, "smtp") && strcasecmp(mode, "on") && strcasecmp(mode, "true") &&
        strcmp(mode, "1")) {
        PROBLEM("AUTHC_EMAIL must be smtp, log or off (got \"%s\")", mode);
        return problems;
    }

    authc_email_provider p = {0};
    p.id = get2(s, "AUTHC_EMAIL_ID", NULL);
    p.name = get2(s, "AUTHC_EMAIL_NAME", NULL);
    p.from = get2(s, "AUTHC_EMAIL_FROM", "EMAIL_FROM");
    if (log_mode) {
        if (server)
            PROBLEM("AUTHC_EMAIL=log and an SMTP server (AUTHC_EMAIL_SERVER/EMAIL_SERVER) are both set; "
                    "choose one");
        /* The log is for a developer on this machine: refuse a public URL. */
        const char *url = settings_get(s, "AUTH_URL");
        if (url && *url && !url_is_loopback(url))
            PROBLEM("AUTHC_EMAIL=log writes sign-in links to the log and is for local development only, "
                    "but AUTH_URL is %s; configure AUTHC_EMAIL_SERVER instead", url);
        p.send = log_send;
        if (!p.from)
            p.from = "authc (development) <no-reply@localhost>";
    } else {
        if (!server)
            PROBLEM("AUTHC_EMAIL=smtp needs AUTHC_EMAIL_SERVER, e.g. smtp://user:password@smtp.example.com:587 "
                    "(STARTTLS) or smtps://…:465; for development without a mail server use AUTHC_EMAIL=log");
        p.server = server;
        p.user = get2(s, "AUTHC_EMAIL_USER", NULL);
        p.password = get2(s, "AUTHC_EMAIL_PASSWORD", NULL);
        p.ca_file = get2(s, "AUTHC_EMAIL_CA_FILE", NULL);
        const char *plain = get2(s, "AUTHC_EMAIL_ALLOW_PLAIN", NULL);
        if (plain) {
            int b = parse_bool(plain);
            if (b < 0)
                PROBLEM("AUTHC_EMAIL_ALLOW_PLAIN must be true or false");
            p.allow_plain_loopback = b == 1;
        }
        const char *to = get2(s, "AUTHC_EMAIL_TIMEOUT", NULL);
        long long n;
        if (to) {
            if (!parse_int(to, 1, 600, &n))
                PROBLEM("AUTHC_EMAIL_TIMEOUT must be a number of seconds between 1 and 600");
            else
                p.timeout = (int)n;
        }
    }
    const char *ma = get2(s, "AUTHC_EMAIL_MAX_AGE", NULL);
    long long n;
    if (ma) {
        if (!parse_int(ma, 1, 366LL * 86400, &n))
            PROBLEM("AUTHC_EMAIL_MAX_AGE must be a number of seconds (link lifetime, default 86400)");
        else
            p.max_age = n;
    }
    const char *confirm = get2(s, "AUTHC_EMAIL_CONFIRM", NULL);
    if (confirm) {
        int b = parse_bool(confirm);
        if (b < 0)
            PROBLEM("AUTHC_EMAIL_CONFIRM must be true (a button press signs in; default) or false "
                    "(opening the link signs in, as Auth.js)");
        p.consume_on_get = b == 0;
    }
    const char *la = get2(s, "AUTHC_EMAIL_LIMIT_PER_ADDRESS", NULL);
    if (la && !parse_limit(la, &p.per_address))
        PROBLEM("AUTHC_EMAIL_LIMIT_PER_ADDRESS must be N, N/SECONDS or off (default %d/%d)",
                AUTHC_EMAIL_DEFAULT_PER_ADDRESS, AUTHC_EMAIL_DEFAULT_LIMIT_WINDOW);
    const char *lc = get2(s, "AUTHC_EMAIL_LIMIT_PER_CLIENT", NULL);
    if (lc && !parse_limit(lc, &p.per_client))
        PROBLEM("AUTHC_EMAIL_LIMIT_PER_CLIENT must be N, N/SECONDS or off (default %d/%d)",
                AUTHC_EMAIL_DEFAULT_PER_CLIENT, AUTHC_EMAIL_DEFAULT_LIMIT_WINDOW);
    if (problems)
        return problems;
    if (authc_config_add_email(cfg, &p) != AUTHC_OK) {
        PROBLEM("out of memory adding the email provider");
        return problems;
    }
    if (log_mode)
        prog_log(NULL, "warn",
                 "DEVELOPMENT ONLY: AUTHC_EMAIL=log — email sign-in links are written to this log instead of "
                 "being mailed; anyone who can read the log can sign in as any address");
    return problems;
}
