/* settings.c — the `authc` program's settings through the library
 * (authc_settings, authc_config_from_settings), problems on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authc/log.h"
#include "settings.h"

#define ERR_LEN 16384

bool settings_load(settings *s)
{
    s->src = authc_settings_new();
    if (!s->src) {
        fprintf(stderr, "authc: out of memory\n");
        return false;
    }
    char err[512];
    const char *cf = s->config_file ? s->config_file : getenv("AUTHC_CONFIG");
    if (cf && authc_settings_load_file(s->src, cf, err, sizeof err) != AUTHC_OK) {
        fprintf(stderr, "authc: %s\n", err);
        return false;
    }
    return true;
}

void settings_free(settings *s)
{
    authc_settings_free(s->src);
    s->src = NULL;
}

void runtime_free(runtime *rt)
{
    authc_free(rt->auth);
    authc_resources_free(rt->res);
    memset(rt, 0, sizeof *rt);
}

/* Prints each line of a problem list as "authc: <line>". */
static void print_problems(char *err)
{
    for (char *save = NULL, *line = strtok_r(err, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        fprintf(stderr, "authc: %s\n", line);
}

bool runtime_build(const settings *s, runtime *rt, bool migrate)
{
    memset(rt, 0, sizeof *rt);
    char *err = malloc(ERR_LEN);
    if (!err) {
        fprintf(stderr, "authc: out of memory\n");
        return false;
    }
    authc_env_options opts = {.base_path = s->base_path, .migrate = migrate};
    authc_config *cfg = authc_config_from_settings(s->src, &opts, &rt->res, err, ERR_LEN);
    if (cfg) {
        rt->adapter = authc_resources_adapter(rt->res);
        rt->auth = authc_new(cfg, err, ERR_LEN);
    }
    if (!rt->auth) {
        print_problems(err);
        runtime_free(rt);
    }
    free(err);
    return rt->auth != NULL;
}

bool settings_log_format(const settings *s)
{
    const char *f = settings_get(s, "AUTHC_LOG_FORMAT");
    if (f && *f && strcmp(f, "text") && strcmp(f, "json")) {
        fprintf(stderr, "authc: AUTHC_LOG_FORMAT must be text or json (got \"%.32s\")\n", f);
        return false;
    }
    authc_log_set_json(f && !strcmp(f, "json"));
    return true;
}
