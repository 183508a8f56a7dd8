/* events.c — auth events (sign-in, sign-out, adapter failures) counted in
 * the metrics and kept for the server's log line; readiness probes. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authc/adapter.h"
#include "core/core_int.h"
#include "metrics/metrics_int.h"
#include "store/store_int.h"

/* A bounded label: the configured provider's id, never the raw path. */
static const char *provider_label(const authc__ctx *c)
{
    return c->provider ? c->provider->id : "unknown";
}

void authc__event_signin(authc__ctx *c, const char *result, const char *user_id)
{
    authc__metric_inc(AUTHC__M_SIGNIN, provider_label(c), result, NULL);
    c->ev_kind = "signin";
    c->ev_result = result;
    c->ev_user = user_id;
}

void authc__event_signout(authc__ctx *c, const char *kind, const char *user_id)
{
    authc__metric_inc(AUTHC__M_SIGNOUT, kind, NULL, NULL);
    c->ev_kind = "signout";
    c->ev_result = kind;
    c->ev_user = user_id;
}

void authc__adapter_error(const authc *a, const char *op)
{
    authc__metric_inc(AUTHC__M_ADAPTER_ERRORS, a->adapter ? a->adapter->ops->name : "none", op, NULL);
}

/* ---- response info ------------------------------------------------------ */

void authc__response_info_set(authc__ctx *c)
{
    authc_response_info *i = authc_arena_alloc(c->ar, sizeof *i);
    if (!i)
        return; /* the info is optional: a server then logs without it */
    i->action = c->action;
    i->provider = c->provider ? c->provider->id : NULL;
    i->user_id = c->ev_user ? c->ev_user : c->login_user ? c->login_user->id : NULL;
    i->event = c->ev_kind;
    i->result = c->ev_result;
    i->client_ip = c->client_ip;
    c->res->info = i;
}

void authc_response_info_get(const authc_response *res, authc_response_info *out)
{
    memset(out, 0, sizeof *out);
    if (res && res->info)
        *out = *(const authc_response_info *)res->info;
}

/* ---- readiness ---------------------------------------------------------- */

/* Shared by a caller and its probe thread; the last one out frees it. */
typedef struct probe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;
    bool done, ok;
    const char *failed; /* static string */
    const authc *a;
} probe;

static void probe_release(probe *p)
{
    pthread_mutex_lock(&p->mu);
    bool last = --p->refs == 0;
    pthread_mutex_unlock(&p->mu);
    if (last) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p);
    }
}

static bool adapter_answers(authc_adapter *ad)
{
    if (!ad || !ad->ops->get_session_and_user)
        return true;
    authc_arena *ar = authc_arena_new();
    if (!ar)
        return false;
    authc_session_row *s = NULL;
    authc_user *u = NULL;
    /* A token no session has: one indexed lookup, nothing written. */
    authc_err e = ad->ops->get_session_and_user(ad, ar, "authc-readiness-probe", &s, &u);
    authc_arena_free(ar);
    return e == AUTHC_OK || e == AUTHC_ERR_NOT_FOUND;
}

static void *probe_main(void *arg)
{
    probe *p = arg;
    const char *failed = NULL;
    if (!adapter_answers(p->a->adapter))
        failed = "database";
    else if (p->a->store && authc__store_ping(p->a->store) != AUTHC_OK)
        failed = "store";
    pthread_mutex_lock(&p->mu);
    p->done = true;
    p->ok = failed == NULL;
    p->failed = failed;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    probe_release(p);
    return NULL;
}

bool authc_ready(const authc *a, unsigned timeout_ms, char *why, size_t whylen)
{
    if (whylen)
        why[0] = '\0';
    probe *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(why, whylen, "memory");
        return false;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    p->refs = 2;
    p->a = a;
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    bool started = pthread_create(&t, &at, probe_main, p) == 0;
    pthread_attr_destroy(&at);
    if (!started) {
        p->refs = 1;
        probe_release(p);
        snprintf(why, whylen, "database");
        return false;
    }
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    while (!p->done && pthread_cond_timedwait(&p->cv, &p->mu, &dl) == 0)
        ;
    bool ok = p->done && p->ok;
    const char *failed = p->done ? p->failed : a->adapter ? "database" : "store";
    pthread_mutex_unlock(&p->mu);
    probe_release(p);
    if (!ok)
        snprintf(why, whylen, "%s", failed ? failed : "database");
    return ok;
}
