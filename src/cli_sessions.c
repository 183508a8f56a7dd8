/* cli_sessions.c — `authc sessions revoke --user ID`: ends every session of
 * a user on every instance sharing the store (the settings serve reads). */
#include <stdio.h>
#include <string.h>

#include "authc.h"
#include "authc/env.h"

int cli_sessions(int argc, char **argv);

static int usage(void)
{
    fprintf(stderr, "usage: authc sessions revoke --user ID [--config FILE]\n");
    return 2;
}

int cli_sessions(int argc, char **argv)
{
    const char *user = NULL, *file = NULL;
    if (argc < 3 || strcmp(argv[2], "revoke"))
        return usage();
    for (int i = 3; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--user"))
            user = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--config"))
            file = argv[++i];
        else
            return usage();
    }
    if (!user || !*user)
        return usage();
    char err[2048];
    authc_resources *res = NULL;
    authc_config *cfg = authc_config_from_env(file, NULL, &res, err, sizeof err);
    authc *a = cfg ? authc_new(cfg, err, sizeof err) : NULL;
    if (!a) {
        fprintf(stderr, "authc: %s\n", err);
        authc_resources_free(res);
        return 1;
    }
    authc_err e = authc_revoke_user(a, user);
    authc_free(a);
    authc_resources_free(res);
    if (e) {
        fprintf(stderr, "authc: could not revoke the sessions: %s\n", authc_strerror(e));
        return 1;
    }
    printf("authc: every session of user %s signed in until now is revoked\n", user);
    return 0;
}
