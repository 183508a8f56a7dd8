/* main.c — the `authc` program's verbs: serve, secret, check, migrate,
 * hash-password; parses flags and reports problems in plain words. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "serve.h"

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
            "  version          print the version\n\n"
            "options (serve, check, migrate):\n"
            "  --listen HOST:PORT   address to listen on (default 127.0.0.1:3000, env AUTHC_LISTEN)\n"
            "  --base-path PATH     where the Auth.js routes live (default /auth, or AUTH_URL's path)\n"
            "  --static DIR         serve an app's files from DIR beside the API (env AUTHC_STATIC_DIR)\n"
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
    if (strcmp(cmd, "serve") && strcmp(cmd, "check") && strcmp(cmd, "migrate")) {
        fprintf(stderr, "authc: unknown command \"%s\"\n\n", cmd);
        usage(stderr);
        return 2;
    }
    settings s = {0};
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if ((!strcmp(o, "--listen") || !strcmp(o, "--static") || !strcmp(o, "--config") ||
             !strcmp(o, "--base-path")) && !v) {
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
        else {
            fprintf(stderr, "authc: unknown option \"%s\"\n", o);
            return 2;
        }
    }
    char err[512];
    if (!settings_load(&s)) {
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
    if (!strcmp(cmd, "migrate")) {
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
        settings_free(&s);
        if (e) {
            fprintf(stderr, "authc: migration failed: %s\n", authc_strerror(e));
            return 1;
        }
        printf("authc: schema of the database is up to date\n");
        return 0;
    }
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
        size_t mem = SERVE_CONN_MEMORY_DEFAULT;
        const char *m = settings_get(&s, "AUTHC_CONNECTION_MEMORY");
        if (m && *m) {
            char *end;
            unsigned long long v = strtoull(m, &end, 10);
            if (*end || v < SERVE_CONN_MEMORY_MIN || v > SERVE_CONN_MEMORY_MAX) {
                fprintf(stderr, "authc: AUTHC_CONNECTION_MEMORY must be a number of bytes from %d to %d\n",
                        SERVE_CONN_MEMORY_MIN, SERVE_CONN_MEMORY_MAX);
                runtime_free(&rt);
                settings_free(&s);
                return 1;
            }
            mem = (size_t)v;
        }
        rc = serve_run(&rt, s.listen, s.static_dir, mem);
    }
    runtime_free(&rt);
    settings_free(&s);
    return rc;
}
