/* cli_forward.c — `authc forward check URL [...]`: which forward-auth rule of
 * AUTHC_FORWARD_RULES decides a URL for a given user, and why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_forward.h"
#include "forward/rules_int.h"
#include "settings.h"
#include "util/util_int.h"

#define CLI_GROUPS_MAX 64

static void usage(FILE *f)
{
    fprintf(f, "usage: authc forward check URL [--email E] [--user U] [--groups a,b] [--provider P]\n"
               "                               [--method M] [--config FILE]\n"
               "Prints the AUTHC_FORWARD_RULES rule that decides URL and why. Without --email,\n"
               "--user or --groups the request is judged as not signed in.\n"
               "Exit status: 0 allowed, 3 not allowed (no session or denied), 1 error, 2 usage.\n");
}

/* Splits a comma list in place into v (at most max entries). */
static size_t split_groups(char *s, const char **v, size_t max)
{
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(s, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save))
        v[n++] = t;
    return n;
}

static const char *result_name(authc__fwd_result r)
{
    return r == AUTHC__FWD_ALLOW ? "allow (200)"
         : r == AUTHC__FWD_FORBIDDEN ? "deny (403 AccessDenied)"
         : "sign-in needed (401, or a redirect to the sign-in page for a browser)";
}

/* Judges one URL; prints to stdout. Returns the exit status. */
static int check(settings *s, const char *url, const authc__fwd_subject *subj, const char *method)
{
    const char *file = settings_get(s, "AUTHC_FORWARD_RULES");
    authc__rules *rules = NULL;
    char why[AUTHC__EXPLAIN_MAX];
    if (file && *file && !(rules = authc__rules_load(file, why, sizeof why))) {
        fprintf(stderr, "authc: AUTHC_FORWARD_RULES: %s%s%s\n", strncmp(why, "line ", 5) ? "" : file,
                strncmp(why, "line ", 5) ? "" : " ", why);
        return 1;
    }
    authc_arena *ar = authc_arena_new();
    authc__url u;
    authc_err e = ar ? authc__url_parse(ar, url, &u) : AUTHC_ERR_NOMEM;
    int rc = 1;
    if (e) {
        fprintf(stderr, "authc: %s is not an absolute http(s) URL\n", url);
    } else {
        const char *host = u.port ? authc__join(ar, u.host, ":", u.port, NULL) : u.host;
        authc__fwd_target t = {.host = host, .path = u.path, .method = method};
        authc__fwd_result r = authc__forward_decide(rules, NULL, &t, subj, why, sizeof why);
        printf("rules:    %s (%zu rules)\n", rules ? file : "none (AUTHC_FORWARD_RULES unset)",
               authc__rules_count(rules));
        printf("request:  %s %s%s%s\n", method, url, subj->signed_in ? " as " : " not signed in",
               subj->signed_in ? (subj->email ? subj->email : subj->user_id ? subj->user_id : "a user") : "");
        printf("decision: %s\n", result_name(r));
        printf("why:      %s\n", why);
        rc = r == AUTHC__FWD_ALLOW ? 0 : 3;
    }
    authc_arena_free(ar);
    authc__rules_free(rules);
    return rc;
}

int cli_forward(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[0], "check")) {
        usage(stderr);
        return 2;
    }
    const char *url = argv[1], *method = "GET";
    authc__fwd_subject subj = {0};
    const char *groups[CLI_GROUPS_MAX];
    settings s = {0};
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "authc: %s needs a value\n", o);
            return 2;
        }
        i++;
        if (!strcmp(o, "--email"))
            subj.email = v;
        else if (!strcmp(o, "--user"))
            subj.user_id = subj.name = v;
        else if (!strcmp(o, "--provider"))
            subj.provider = v;
        else if (!strcmp(o, "--method"))
            method = v;
        else if (!strcmp(o, "--config"))
            s.config_file = v;
        else if (!strcmp(o, "--groups")) {
            subj.groups = groups;
            subj.n_groups = split_groups(argv[i], groups, CLI_GROUPS_MAX);
        } else {
            fprintf(stderr, "authc: unknown option \"%s\"\n", o);
            usage(stderr);
            return 2;
        }
    }
    subj.signed_in = subj.email || subj.user_id || subj.n_groups;
    if (!settings_load(&s)) {
        settings_free(&s);
        return 1;
    }
    int rc = check(&s, url, &subj, method);
    settings_free(&s);
    return rc;
}
