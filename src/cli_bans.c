/* cli_bans.c — `authc bans list` / `authc bans delete KEY`: the operator's
 * view of credentials-regulation bans in the shared store (AUTHC_STORE). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "settings.h"
#include "store/store_int.h"

int cli_bans(int argc, char **argv);

static void quiet_log(void *ud, const char *level, const char *msg)
{
    (void)ud;
    fprintf(stderr, "authc: [%s] %s\n", level, msg);
}

/* The store every instance shares: AUTHC_STORE, else AUTHC_DATABASE.
 * Returns the handle (caller closes) or NULL with the reason printed. */
static authc_store *open_shared(const settings *s)
{
    const char *url = settings_get(s, "AUTHC_STORE");
    if (!url || !*url)
        url = settings_get(s, "AUTHC_DATABASE");
    if (!url || !*url || !strncmp(url, "memory:", 7)) {
        fprintf(stderr, "authc: bans live in the shared store; set AUTHC_STORE (or AUTHC_DATABASE) as the "
                        "server has it (a memory: store is private to the running server)\n");
        return NULL;
    }
    char err[512];
    authc_store *st = authc__store_open(url, quiet_log, NULL, err, sizeof err);
    if (!st)
        fprintf(stderr, "authc: AUTHC_STORE: %s\n", err);
    return st;
}

static int list(authc_store *st)
{
    authc_arena *ar = authc_arena_new();
    const char **keys = ar ? authc_arena_alloc(ar, AUTHC_STORE_MAX_SCAN * sizeof *keys) : NULL;
    size_t n = 0;
    authc_err e = keys ? authc__store_scan(st, ar, "ban:", AUTHC_STORE_MAX_SCAN, keys, &n) : AUTHC_ERR_NOMEM;
    for (size_t i = 0; !e && i < n; i++) {
        authc__store_val v;
        if (authc__store_get(st, ar, keys[i], &v) || !v.data)
            continue; /* expired in between */
        time_t until = (time_t)strtoll((const char *)v.data, NULL, 10);
        char when[32] = "?";
        struct tm tm;
        if (gmtime_r(&until, &tm))
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("%s\tuntil %s\n", keys[i], when);
    }
    if (!e && n == 0)
        printf("no bans\n");
    authc_arena_free(ar);
    if (e)
        fprintf(stderr, "authc: could not list the bans: %s\n", authc_strerror(e));
    return e ? 1 : 0;
}

/* Lifts a ban and forgets its failures and repeat count, so the next ban
 * starts from the base time again. */
static int lift(authc_store *st, const char *key)
{
    if (strncmp(key, "ban:u:", 6) && strncmp(key, "ban:i:", 6)) {
        fprintf(stderr, "authc: a ban key looks like ban:u:<name> or ban:i:<address> (see `authc bans list`)\n");
        return 2;
    }
    char related[2][AUTHC_STORE_MAX_KEY + 8];
    snprintf(related[0], sizeof related[0], "bans:%s", key + 4);
    snprintf(related[1], sizeof related[1], "fail:%s", key + 4);
    bool deleted = false;
    authc_err e = authc__store_delete(st, key, &deleted);
    for (int i = 0; !e && i < 2; i++)
        if (strlen(related[i]) < AUTHC_STORE_MAX_KEY)
            e = authc__store_delete(st, related[i], NULL);
    if (e) {
        fprintf(stderr, "authc: could not delete %s: %s\n", key, authc_strerror(e));
        return 1;
    }
    printf(deleted ? "deleted %s\n" : "no such ban: %s\n", key);
    return deleted ? 0 : 1;
}

int cli_bans(int argc, char **argv)
{
    settings s = {0};
    const char *verb = argc > 2 ? argv[2] : NULL;
    int i = 3;
    const char *key = NULL;
    if (verb && !strcmp(verb, "delete") && argc > 3)
        key = argv[i++];
    if (i + 1 < argc && !strcmp(argv[i], "--config")) {
        s.config_file = argv[i + 1];
        i += 2;
    }
    if (!verb || i != argc || (strcmp(verb, "list") && strcmp(verb, "delete")) || (!strcmp(verb, "delete") && !key)) {
        fprintf(stderr, "usage: authc bans list [--config FILE]\n       authc bans delete KEY [--config FILE]\n");
        return 2;
    }
    if (!settings_load(&s))
        return 1;
    authc_store *st = open_shared(&s);
    int rc = !st ? 1 : key ? lift(st, key) : list(st);
    authc__store_close(st);
    settings_free(&s);
    return rc;
}
