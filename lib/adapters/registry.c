/* registry.c — authc_adapter_open/close/wrap: the one table that maps a
 * database URL scheme to the backend that opens it. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "adapters/adapters_int.h"

typedef struct backend {
    const char *prefix;   /* URL start, ASCII case-insensitive */
    bool whole;           /* the URL must be exactly prefix */
    authc__backend_open_fn *open;
} backend;

static const backend BACKENDS[] = {
    {"memory:", true, authc__adapter_memory_open},
    {"memory://", false, authc__adapter_memory_open},
    {"sqlite:", false, authc__adapter_sqlite_open},
    {"file:", false, authc__adapter_sqlite_open},
    {"postgres://", false, authc__adapter_postgres_open},
    {"postgresql://", false, authc__adapter_postgres_open},
    {"redis://", false, authc__adapter_redis_open},
    {"rediss://", false, authc__adapter_redis_open},
};

static const backend *find(const char *url)
{
    for (size_t i = 0; i < sizeof BACKENDS / sizeof *BACKENDS; i++) {
        const backend *b = &BACKENDS[i];
        if (b->whole ? strcasecmp(url, b->prefix) == 0
                     : strncasecmp(url, b->prefix, strlen(b->prefix)) == 0)
            return b;
    }
    return NULL;
}

/* Returns a heap adapter owned by the caller (authc_adapter_close). */
authc_adapter *authc_adapter_open(const char *url, authc_log_fn log,
                                  void *log_ud, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!url || !*url) {
        authc__set_err(err, errlen, "adapter: empty database URL");
        return NULL;
    }
    char safe[256];
    authc__url_redact(url, safe, sizeof safe);
    const backend *b = find(url);
    if (!b) {
        authc__set_err(err, errlen,
                       "adapter: unknown database URL scheme in \"%s\" "
                       "(use memory:, sqlite:PATH, postgres://, redis://)",
                       safe);
        return NULL;
    }
    authc_adapter *ad = b->open(url, log, log_ud, err, errlen);
    if (!ad && err && errlen && !err[0])
        authc__set_err(err, errlen, "adapter: cannot open %s", safe);
    /* Backends never format a password, but the libraries under them may
     * quote a piece of the URL: the last line of defence. */
    if (!ad)
        authc__scrub_url_secrets(err, errlen, url);
    return ad;
}

void authc_adapter_close(authc_adapter *ad)
{
    if (ad && ad->ops && ad->ops->destroy)
        ad->ops->destroy(ad);
}

void authc_adapter_wrap(authc_adapter *mine, authc_adapter_ops *ops,
                        const authc_adapter *base)
{
    *ops = *base->ops;
    ops->destroy = NULL; /* the wrapper owns nothing; close the base */
    *mine = *base;
    mine->ops = ops;
    mine->wrapped = base;
}
