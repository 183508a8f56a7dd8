/* metrics_int.h — how library code counts: one call per event with bounded
 * label values (route names, provider ids, Auth.js error types). */
#ifndef AUTHC_METRICS_INT_H
#define AUTHC_METRICS_INT_H

#include <stdint.h>

#include "authc/metrics.h"

/* Families, in the order they are rendered. Label names are fixed per
 * family (see FAMILIES in metrics.c). */
typedef enum authc__metric {
    AUTHC__M_HTTP_REQUESTS,      /* {action,method,code} */
    AUTHC__M_HTTP_DURATION,      /* histogram {action} */
    AUTHC__M_HTTP_IN_FLIGHT,     /* gauge */
    AUTHC__M_SIGNIN,             /* {provider,result} */
    AUTHC__M_SIGNOUT,            /* {kind} */
    AUTHC__M_FORWARD_AUTH,       /* {decision} */
    AUTHC__M_TOKEN_REFRESH,      /* {provider,result} */
    AUTHC__M_LOGOUT,             /* {kind,result} */
    AUTHC__M_REVOCATIONS,        /* {scope} */
    AUTHC__M_RATELIMIT,          /* {bucket,outcome} */
    AUTHC__M_PROVIDER_DURATION,  /* histogram {provider,endpoint} */
    AUTHC__M_PROVIDER_ERRORS,    /* {provider,endpoint,reason} */
    AUTHC__M_ADAPTER_ERRORS,     /* {adapter,op} */
    AUTHC__M_EMAIL_SENT,         /* {result} */
    AUTHC__M__COUNT
} authc__metric;

/* Adds 1 to a counter series; labels in the family's order (unused ones
 * NULL). Values longer than 64 bytes are cut; the number of series is
 * bounded (past it, increments are counted in a drop counter). */
void authc__metric_inc(authc__metric m, const char *l1, const char *l2, const char *l3);
/* Observes a value (seconds) in a histogram family. */
void authc__metric_observe(authc__metric m, double seconds, const char *l1, const char *l2);
/* Adds d to a gauge family without labels. */
void authc__metric_gauge_add(authc__metric m, int64_t d);

#endif
