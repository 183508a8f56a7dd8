/* env_email.c — turns AUTHC_EMAIL* settings into the email provider; with
 * AUTHC_EMAIL=log the links go to the log (development only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authc/email.h"
#include "env_int.h"
#include "util/parse_int.h"

#define PROBLEM(...) authc__env_problem(e, __VA_ARGS__)

/* AUTHC_* first, then the name Auth.js examples use. */
static const char *get2(const authc__env *e, const char *a, const char *b)
{
    const char *v = authc__env_get(e, a);
    return v || !b ? v : authc__env_get(e, b);
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
    int n;
    int64_t w = 0;
    if (authc__parse_int(buf, 1, 1000000, &n) || (slash && authc__parse_seconds(slash + 1, 1, 366LL * 86400, &w)))
        return false;
    l->max = (int)n;
    l->window = w;
    return true;
}

/* AUTHC_EMAIL=log: log the link instead of mailing it; ud = resources. */
static authc_err log_send(void *ud, const authc_email_message *m)
{
    const authc_resources *r = ud;
    char line[8192 + 512];
    snprintf(line, sizeof line,
             "DEVELOPMENT ONLY (AUTHC_EMAIL=log, no mail sent): sign-in link for %s: %s", m->to, m->url);
    r->log(r->log_ud, "warn", line);
    return AUTHC_OK;
}

/* How the mail leaves: the log (development) or an SMTP server. */
static void transport(authc__env *e, authc_email_provider *p, bool log_mode, const char *server)
{
    if (log_mode) {
        if (server)
            PROBLEM("AUTHC_EMAIL=log and an SMTP server (AUTHC_EMAIL_SERVER/EMAIL_SERVER) are both set; "
                    "choose one");
        /* The log is for a developer on this machine: refuse a public URL. */
        const char *url = authc__env_get(e, "AUTH_URL");
        if (url && !authc__url_is_loopback(url))
            PROBLEM("AUTHC_EMAIL=log writes sign-in links to the log and is for local development only, "
                    "but AUTH_URL is %s; configure AUTHC_EMAIL_SERVER instead", url);
        p->send = log_send;
        p->send_ud = e->res;
        if (!p->from)
            p->from = "authc (development) <no-reply@localhost>";
        return;
    }
    if (!server)
        PROBLEM("AUTHC_EMAIL=smtp needs AUTHC_EMAIL_SERVER, e.g. smtp://user:password@smtp.example.com:587 "
                "(STARTTLS) or smtps://…:465; for development without a mail server use AUTHC_EMAIL=log");
    p->server = server;
    p->user = get2(e, "AUTHC_EMAIL_USER", NULL);
    p->password = get2(e, "AUTHC_EMAIL_PASSWORD", NULL);
    p->ca_file = get2(e, "AUTHC_EMAIL_CA_FILE", NULL);
    const char *plain = get2(e, "AUTHC_EMAIL_ALLOW_PLAIN", NULL);
    if (plain) {
        int b = authc__env_bool(plain);
        if (b < 0)
            PROBLEM("AUTHC_EMAIL_ALLOW_PLAIN must be true or false");
        p->allow_plain_loopback = b == 1;
    }
    const char *to = get2(e, "AUTHC_EMAIL_TIMEOUT", NULL);
    if (to && authc__parse_int(to, 1, 600, &p->timeout))
        PROBLEM("AUTHC_EMAIL_TIMEOUT must be a number of seconds between 1 and 600");
}

/* Link lifetime, confirmation step and rate limits. */
static void link_rules(authc__env *e, authc_email_provider *p)
{
    const char *ma = get2(e, "AUTHC_EMAIL_MAX_AGE", NULL);
    if (ma && authc__parse_seconds(ma, 1, 366LL * 86400, &p->max_age))
        PROBLEM("AUTHC_EMAIL_MAX_AGE must be a number of seconds (link lifetime, default 86400)");
    const char *confirm = get2(e, "AUTHC_EMAIL_CONFIRM", NULL);
    if (confirm) {
        int b = authc__env_bool(confirm);
        if (b < 0)
            PROBLEM("AUTHC_EMAIL_CONFIRM must be true (a button press signs in; default) or false "
                    "(opening the link signs in, as Auth.js)");
        p->consume_on_get = b == 0;
    }
    const char *la = get2(e, "AUTHC_EMAIL_LIMIT_PER_ADDRESS", NULL);
    if (la && !parse_limit(la, &p->per_address))
        PROBLEM("AUTHC_EMAIL_LIMIT_PER_ADDRESS must be N, N/SECONDS or off (default %d/%d)",
                AUTHC_EMAIL_DEFAULT_PER_ADDRESS, AUTHC_EMAIL_DEFAULT_LIMIT_WINDOW);
    const char *lc = get2(e, "AUTHC_EMAIL_LIMIT_PER_CLIENT", NULL);
    if (lc && !parse_limit(lc, &p->per_client))
        PROBLEM("AUTHC_EMAIL_LIMIT_PER_CLIENT must be N, N/SECONDS or off (default %d/%d)",
                AUTHC_EMAIL_DEFAULT_PER_CLIENT, AUTHC_EMAIL_DEFAULT_LIMIT_WINDOW);
}

void authc__env_email(authc__env *e)
{
    const char *server = get2(e, "AUTHC_EMAIL_SERVER", "EMAIL_SERVER");
    const char *mode = authc__env_get(e, "AUTHC_EMAIL");
    if (!mode)
        mode = server ? "smtp" : "off";
    if (!strcasecmp(mode, "off") || !strcasecmp(mode, "false") || !strcmp(mode, "0"))
        return;
    bool log_mode = !strcasecmp(mode, "log");
    if (!log_mode && strcasecmp(mode, "smtp") && strcasecmp(mode, "on") && strcasecmp(mode, "true") &&
        strcmp(mode, "1")) {
        PROBLEM("AUTHC_EMAIL must be smtp, log or off (got \"%s\")", mode);
        return;
    }
    size_t before = authc__problems_count(&e->problems);
    authc_email_provider p = {0};
    p.id = get2(e, "AUTHC_EMAIL_ID", NULL);
    p.name = get2(e, "AUTHC_EMAIL_NAME", NULL);
    p.from = get2(e, "AUTHC_EMAIL_FROM", "EMAIL_FROM");
    transport(e, &p, log_mode, server);
    link_rules(e, &p);
    if (authc__problems_count(&e->problems) != before)
        return;
    if (authc_config_add_email(e->cfg, &p) != AUTHC_OK) {
        PROBLEM("out of memory adding the email provider");
        return;
    }
    if (log_mode)
        e->res->log(e->res->log_ud, "warn",
                    "DEVELOPMENT ONLY: AUTHC_EMAIL=log — email sign-in links are written to this log instead of "
                    "being mailed; anyone who can read the log can sign in as any address");
}
