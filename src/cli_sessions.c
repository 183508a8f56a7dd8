/* cli_sessions.c — `authc sessions revoke --user ID`: ends every session of
 * a user on every instance sharing the store (the settings serve reads). */
#include <stdio.h>
#include <string.h>

#include "authc.h"
#include "settings.h"

int cli_sessions(int argc, char **argv);

static int usage(void)
{
    fprintf(stderr, "usage: authc sessions revoke --user ID [--config FILE]\n");
    return 2;
}

int cli_sessions(int argc, char **argv)
{
    settings s = {0};
    const char *user = NULL;
    if (argc < 3 || strcmp(argv[2], "revoke"))
        return usage();
    for (int i = 3; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--user"))
            user = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--config"))
            s.config_file = argv[++i];
        else
            return usage();
    }
    if (!user || !*user)
        return usage();
    /* The instance as `authc serve` builds it (settings.c). */
    runtime rt;
    if (!settings_load(&s) || !runtime_build(&s, &rt, false)) {
        settings_free(&s);
        return 1;
    }
    authc_err e = authc_revoke_user(rt.auth, user);
    runtime_free(&rt);
    settings_free(&s);
    if (e) {
        fprintf(stderr, "authc: could not revoke the sessions: %s\n", authc_strerror(e));
        return 1;
    }
    printf("authc: every session of user %s signed in until now is revoked\n", user);
    return 0;
}
