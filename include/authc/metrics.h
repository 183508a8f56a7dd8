/* authc/metrics.h — the process's Prometheus metrics: libauthc counts
 * sign-ins, refreshes, logouts, ...; a server adds its HTTP figures. */
#ifndef AUTHC_METRICS_H
#define AUTHC_METRICS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Renders every metric of this process in the Prometheus text format
 * 0.0.4 (authc_* families and the standard process_* ones). Returns a
 * NUL-terminated malloc'd string the caller frees, *len its length; NULL
 * on OOM. Safe to call from any thread at any time. */
char *authc_metrics_render(size_t *len);

/* A server's own request accounting (labels are bounded: action is a
 * route name from the library, or "static" / "other"; method is folded to
 * GET/HEAD/POST/OPTIONS/other). */
void authc_metrics_request_start(void);
void authc_metrics_request_done(const char *action, const char *method, int status,
                                double seconds);

/* The value of one counter series, for tests: family name and its label
 * values in order (NULL-terminated list). 0 when absent. */
unsigned long long authc_metrics_counter(const char *family, ...);

#ifdef __cplusplus
}
#endif
#endif
