/* main.c — the `authc` program's verbs: serve, secret, check, migrate,
 * hash-password; parses flags and reports problems in plain words. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli_forward.h"
#include "serve.h"

int cli_sessions(int argc, char **argv); /* cli_sessions.c */
int cli_bans(int argc, char **argv);     /* cli_bans.c */

static void usage(FILE *f)
{
    fprintf(f,
            "authc %s — Auth.js-compatible authentication server\n\n"
            "usage: authc <command> [options]\n\n"
            "commands:\n"
            "  serve            run the HTTP server (routes under the base path, default /auth)\n"
            "  secret           print a new random AUTH_SECRET\n"
            "  check            validate the configuration and print every problem\n"
            "  migrate          create or update the schema of AUTHC_DATABASE\n"
            "  hash-password    read a password on stdin, print its argon2id hash\n"
            "  bans list|delete KEY   credentials-regulation bans in the shared store\n"
            "  sessions revoke --user ID   end every session of a user on every instance\n"
            "  forward check URL  which AUTHC_FORWARD_RULES rule decides URL, and why\n"
            "  version          print the version\n\n"
            "options (serve, check, migrate):\n"
            "  --listen HOST:PORT   address to listen on (default 127.0.0.1:3000; IPv6: [::1]:3000; env AUTHC_LISTEN)\n"
            "  --base-path PATH     where the Auth.js routes live (default /auth, or AUTH_URL's path)\n"
            "  --static DIR         serve an app's files from DIR beside the API (env AUTHC_STATIC_DIR)\n"
            "  --tls-cert FILE      serve HTTPS with this PEM certificate chain (env AUTHC_TLS_CERT)\n"
            "  --tls-key FILE       and this PEM private key (env AUTHC_TLS_KEY); SIGHUP reloads both\n"
            "  --config FILE        read NAME=value settings from FILE; the environment wins\n\n"
            "settings: AUTH_SECRET (+ AUTH_SECRET_1..3), AUTH_URL, AUTH_TRUST_HOST,\n"
            "  AUTHC_USERS_FILE, AUTHC_DATABASE, AUTHC_SESSION_STRATEGY, ... (see README.md)\n",
            AUTHC_VERSION);
}

static int cmd_hash_password(void)
{
    char buf[1100];
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fprintf(stderr, "password: ");
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    char *got = fgets(buf, sizeof buf, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fputc('\n', stderr);
    }
    if (!got) {
        fprintf(stderr, "authc: no password on standard input\n");
        return 1;
    }
    size_t l = strlen(buf);
    while (l && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
        buf[--l] = '\0';
    if (l == 0 || l > 1024) {
        fprintf(stderr, "authc: the password must be 1 to 1024 characters\n");
        return 1;
    }
    char *h = authc_password_hash(buf);
    memset(buf, 0, sizeof buf);
    if (!h) {
        fprintf(stderr, "authc: hashing failed\n");
        return 1;
    }
    printf("%s\n", h);
    free(h);
    return 0;
}

/* `authc migrate`: the database's schema, then the shared store's table. */
static int cmd_migrate(settings *sp)
{
    settings s = *sp;
    char err[512];
    const char *db = settings_get(&s, "AUTHC_DATABASE");
    if (!db || !*db) {
        fprintf(stderr, "authc: AUTHC_DATABASE is not set (e.g. sqlite:./authc.db, postgres://…, redis://…)\n");
        settings_free(&s);
        return 1;
    }
    authc_adapter *ad = authc_adapter_open(db, prog_log, NULL, err, sizeof err);
    if (!ad) {
        fprintf(stderr, "authc: AUTHC_DATABASE: %s\n", err);
        settings_free(&s);
        return 1;
    }
    authc_err e = ad->ops->migrate ? ad->ops->migrate(ad) : AUTHC_OK;
    authc_adapter_close(ad);
    if (e) {
        settings_free(&s);
        fprintf(stderr, "authc: migration failed: %s\n", authc_strerror(e));
        return 1;
    }
    /* The shared store lives in the same database unless AUTHC_STORE
     * names another one. */
    char *st = authc_settings_store_url(s.src);
    e = st ? authc_store_migrate_url(st, err, sizeof err) : AUTHC_ERR_NOMEM;
    if (!st)
        snprintf(err, sizeof err, "out of memory");
    free(st);
    settings_free(&s);
    if (e) {
        fprintf(stderr, "authc: AUTHC_STORE: %s\n", err);
        return 1;
    }
    printf("authc: schema of the database and the store is up to date\n");
    return 0;
}

/* The serve verb's own settings into *so: numbers in range, TLS files in
 * pairs, else 1 (refuse to start) with the reason printed. */
static int serve_options(settings *sp, serve_opts *sop)
{
    settings s = *sp;
    serve_opts so = *sop;
    int rc = 0;
    /* Server options: numbers in range, else refuse to start. */
    static const struct { const char *name; size_t off, def, min, max; } N[] = {
        {"AUTHC_IDLE_TIMEOUT", offsetof(serve_opts, idle_timeout), SERVE_IDLE_TIMEOUT_DEFAULT, 1, 86400},
        {"AUTHC_HEADER_TIMEOUT", offsetof(serve_opts, header_timeout), SERVE_HEADER_TIMEOUT_DEFAULT, 1, 3600},
        {"AUTHC_BODY_TIMEOUT", offsetof(serve_opts, body_timeout), SERVE_BODY_TIMEOUT_DEFAULT, 1, 3600},
        {"AUTHC_MAX_CONNECTIONS", offsetof(serve_opts, max_connections), SERVE_MAX_CONNECTIONS_DEFAULT, 1, 1048576},
        {"AUTHC_MAX_CONNECTIONS_PER_IP", offsetof(serve_opts, max_per_ip), 0, 0, 1048576},
    };
    for (size_t i = 0; i < sizeof N / sizeof *N && !rc; i++) {
        const char *m = settings_get(&s, N[i].name);
        unsigned long long v = N[i].def;
        char *end = NULL;
        if (m && *m && ((v = strtoull(m, &end, 10)), *end || v < N[i].min || v > N[i].max)) {
            fprintf(stderr, "authc: %s must be a whole number from %zu to %zu\n", N[i].name, N[i].min, N[i].max);
            rc = 1;
        } else if (N[i].off == offsetof(serve_opts, max_connections) || N[i].off == offsetof(serve_opts, max_per_ip)) {
            *(size_t *)((char *)&so + N[i].off) = (size_t)v;
        } else {
            *(unsigned *)((char *)&so + N[i].off) = (unsigned)v;
        }
    }
    if (!so.tls_cert)
        so.tls_cert = settings_get(&s, "AUTHC_TLS_CERT");
    if (!so.tls_key)
        so.tls_key = settings_get(&s, "AUTHC_TLS_KEY");
    if (so.tls_cert && !*so.tls_cert)
        so.tls_cert = NULL;
    if (so.tls_key && !*so.tls_key)
        so.tls_key = NULL;
    if (!rc && !so.tls_cert != !so.tls_key) {
        fprintf(stderr, "authc: HTTPS needs both --tls-cert and --tls-key (or AUTHC_TLS_CERT and AUTHC_TLS_KEY)\n");
        rc = 1;
    }
    if (settings_get(&s, "AUTHC_CONNECTION_MEMORY"))
        fprintf(stderr, "authc: AUTHC_CONNECTION_MEMORY is ignored (removed with libmicrohttpd)\n");
    so.listen = s.listen;
    so.static_dir = s.static_dir;
    so.metrics_listen = settings_get(&s, "AUTHC_METRICS_LISTEN");
    if (so.metrics_listen && !*so.metrics_listen)
        so.metrics_listen = NULL;
    *sop = so;
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("authc %s\n", AUTHC_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "secret")) {
        char *s = authc_secret_generate();
        if (!s)
            return 1;
        printf("%s\n", s);
        free(s);
        return 0;
    }
    if (!strcmp(cmd, "hash-password"))
        return cmd_hash_password();
    if (!strcmp(cmd, "bans"))
        return cli_bans(argc, argv); /* cli_bans.c */
    if (!strcmp(cmd, "sessions"))
        return cli_sessions(argc, argv); /* cli_sessions.c */
    if (!strcmp(cmd, "forward"))
        return cli_forward(argc - 2, argv + 2);
    if (strcmp(cmd, "serve") && strcmp(cmd, "check") && strcmp(cmd, "migrate")) {
        fprintf(stderr, "authc: unknown command \"%s\"\n\n", cmd);
        usage(stderr);
        return 2;
    }
    settings s = {0};
    serve_opts so = {0};
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if ((!strcmp(o, "--listen") || !strcmp(o, "--static") || !strcmp(o, "--config") ||
             !strcmp(o, "--base-path") || !strcmp(o, "--tls-cert") || !strcmp(o, "--tls-key")) && !v) {
            fprintf(stderr, "authc: %s needs a value\n", o);
            return 2;
        }
        if (!strcmp(o, "--listen"))
            s.listen = argv[++i];
        else if (!strcmp(o, "--static"))
            s.static_dir = argv[++i];
        else if (!strcmp(o, "--config"))
            s.config_file = argv[++i];
        else if (!strcmp(o, "--base-path"))
            s.base_path = argv[++i];
        else if (!strcmp(o, "--tls-cert"))
            so.tls_cert = argv[++i];
        else if (!strcmp(o, "--tls-key"))
            so.tls_key = argv[++i];
        else {
            fprintf(stderr, "authc: unknown option \"%s\"\n", o);
            return 2;
        }
    }
    if (!settings_load(&s)) {
        settings_free(&s);
        return 1;
    }
    if (!settings_log_format(&s)) {
        settings_free(&s);
        return 1;
    }
    if (!s.listen)
        s.listen = settings_get(&s, "AUTHC_LISTEN");
    if (!s.listen)
        s.listen = "127.0.0.1:3000";
    if (!s.static_dir)
        s.static_dir = settings_get(&s, "AUTHC_STATIC_DIR");
    runtime rt;
    bool is_check = !strcmp(cmd, "check");
    if (!strcmp(cmd, "migrate"))
        return cmd_migrate(&s);
    if (!strcmp(cmd, "serve"))
        serve_block_signals(); /* before any thread exists, so all inherit it */
    if (!runtime_build(&s, &rt, !is_check)) {
        fprintf(stderr, "authc: refusing to start: fix the problems above\n");
        settings_free(&s);
        return 1;
    }
    int rc = 0;
    if (is_check) {
        printf("authc: configuration OK (base path %s, %zu credentials users%s)\n",
               authc_base_path(rt.auth), authc_resources_users(rt.res),
               rt.adapter ? ", database reachable" : ", JWT sessions without a database");
    } else {
        rc = serve_options(&s, &so);
        if (!rc)
            rc = serve_run(&rt, &so);
    }
    runtime_free(&rt);
    settings_free(&s);
    return rc;
}
