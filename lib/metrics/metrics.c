/* metrics.c — process-wide Prometheus counters, gauges and histograms with
 * bounded label sets: lock-free increments, a mutex only to add a series. */
#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "authc.h"
#include "metrics/metrics_int.h"

#define MAX_SERIES   2048
#define LABEL_MAX    64
#define NBUCKETS     14

typedef enum kind { K_COUNTER, K_GAUGE, K_HISTOGRAM } kind;

typedef struct family {
    const char *name, *help;
    kind k;
    const char *labels[3];
} family;

static const family FAMILIES[AUTHC__M__COUNT] = {
    [AUTHC__M_HTTP_REQUESTS] = {"authc_http_requests_total", "HTTP requests answered.", K_COUNTER, {"action", "method", "code"}},
    [AUTHC__M_HTTP_DURATION] = {"authc_http_request_duration_seconds", "Time to answer an HTTP request.", K_HISTOGRAM, {"action"}},
    [AUTHC__M_HTTP_IN_FLIGHT] = {"authc_http_requests_in_flight", "HTTP requests being answered.", K_GAUGE, {0}},
    [AUTHC__M_SIGNIN] = {"authc_signin_total", "Sign-in attempts by provider and result (success or the Auth.js error type).", K_COUNTER, {"provider", "result"}},
    [AUTHC__M_SIGNOUT] = {"authc_signout_total", "Sign-outs.", K_COUNTER, {"kind"}},
    [AUTHC__M_FORWARD_AUTH] = {"authc_forward_auth_total", "Forward-auth decisions.", K_COUNTER, {"decision"}},
    [AUTHC__M_TOKEN_REFRESH] = {"authc_token_refresh_total", "Access-token refreshes.", K_COUNTER, {"provider", "result"}},
    [AUTHC__M_LOGOUT] = {"authc_logout_total", "Federated logouts.", K_COUNTER, {"kind", "result"}},
    [AUTHC__M_REVOCATIONS] = {"authc_session_revocations_total", "Session revocations.", K_COUNTER, {"scope"}},
    [AUTHC__M_RATELIMIT] = {"authc_ratelimit_total", "Rate-limit checks.", K_COUNTER, {"bucket", "outcome"}},
    [AUTHC__M_PROVIDER_DURATION] = {"authc_provider_request_duration_seconds", "Time of requests to identity providers.", K_HISTOGRAM, {"provider", "endpoint"}},
    [AUTHC__M_PROVIDER_ERRORS] = {"authc_provider_errors_total", "Failed requests to identity providers.", K_COUNTER, {"provider", "endpoint", "reason"}},
    [AUTHC__M_ADAPTER_ERRORS] = {"authc_adapter_errors_total", "Database adapter errors.", K_COUNTER, {"adapter", "op"}},
    [AUTHC__M_EMAIL_SENT] = {"authc_email_sent_total", "Sign-in emails sent.", K_COUNTER, {"result"}},
};

static const double BUCKETS[NBUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1, 0.25, 0.5, 1, 2.5, 5, 10};

typedef struct series {
    _Atomic int state; /* 0 empty, 2 ready (set once, under g_add) */
    int fam;
    char lab[3][LABEL_MAX + 1];
    _Atomic uint64_t value;           /* counter; gauge as int64 bits */
    _Atomic uint64_t buckets[NBUCKETS + 1];
    _Atomic uint64_t sum_ns;
} series;

static series g_series[MAX_SERIES];
static pthread_mutex_t g_add = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t g_dropped;

static uint64_t hash_of(int fam, const char *const l[3])
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)fam;
    for (int i = 0; i < 3; i++) {
        for (const char *p = l[i] ? l[i] : ""; *p && p - (l[i] ? l[i] : "") < LABEL_MAX; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;
    }
    return h;
}

/* Labels compare as stored: cut at LABEL_MAX bytes. */
static bool same(const series *s, int fam, const char *const l[3])
{
    if (s->fam != fam)
        return false;
    for (int i = 0; i < 3; i++)
        if (strncmp(s->lab[i], l[i] ? l[i] : "", LABEL_MAX))
            return false;
    return true;
}

/* Probes for (fam, labels): the ready series, or (with *empty) the first
 * empty slot on its probe path; NULL/NULL when the table is full. */
static series *probe(uint64_t h, int fam, const char *const l[3], series **empty)
{
    *empty = NULL;
    for (size_t i = 0; i < MAX_SERIES; i++) {
        series *s = &g_series[(h + i) % MAX_SERIES];
        int st = atomic_load_explicit(&s->state, memory_order_acquire);
        if (st == 2 && same(s, fam, l))
            return s;
        if (st == 0) {
            *empty = s;
            return NULL;
        }
    }
    return NULL;
}

/* The series for (fam, labels), created on first use; NULL when full.
 * Slots are only ever added, so readers need no lock. */
static series *find(int fam, const char *const l[3])
{
    uint64_t h = hash_of(fam, l);
    series *empty, *s = probe(h, fam, l, &empty);
    if (s)
        return s;
    pthread_mutex_lock(&g_add);
    s = probe(h, fam, l, &empty); /* someone may have added it meanwhile */
    if (!s && empty) {
        empty->fam = fam;
        for (int k = 0; k < 3; k++)
            snprintf(empty->lab[k], sizeof empty->lab[k], "%.*s", LABEL_MAX, l[k] ? l[k] : "");
        atomic_store_explicit(&empty->state, 2, memory_order_release);
        s = empty;
    }
    pthread_mutex_unlock(&g_add);
    if (!s)
        atomic_fetch_add(&g_dropped, 1);
    return s;
}

void authc__metric_inc(authc__metric m, const char *l1, const char *l2, const char *l3)
{
    if ((unsigned)m >= AUTHC__M__COUNT)
        return;
    const char *l[3] = {l1, l2, l3};
    series *s = find((int)m, l);
    if (s)
        atomic_fetch_add_explicit(&s->value, 1, memory_order_relaxed);
}

/* One observation into a histogram series. */
static void observe_in(series *s, double seconds)
{
    if (!(seconds >= 0))
        seconds = 0;
    size_t b = 0;
    while (b < NBUCKETS && seconds > BUCKETS[b])
        b++;
    atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
    double ns = seconds * 1e9;
    atomic_fetch_add_explicit(&s->sum_ns, ns > 1.8e19 ? (uint64_t)1.8e19 : (uint64_t)ns,
                              memory_order_relaxed);
}

void authc__metric_observe(authc__metric m, double seconds, const char *l1, const char *l2)
{
    if ((unsigned)m >= AUTHC__M__COUNT || FAMILIES[m].k != K_HISTOGRAM)
        return;
    const char *l[3] = {l1, l2, NULL};
    series *s = find((int)m, l);
    if (s)
        observe_in(s, seconds);
}

/* The one series of a family without labels (the in-flight gauge, twice
 * per request): found once, then read from here. */
static series *_Atomic g_unlabelled[AUTHC__M__COUNT];

void authc__metric_gauge_add(authc__metric m, int64_t d)
{
    if ((unsigned)m >= AUTHC__M__COUNT)
        return;
    series *s = atomic_load_explicit(&g_unlabelled[m], memory_order_acquire);
    if (!s) {
        const char *l[3] = {NULL, NULL, NULL};
        s = find((int)m, l);
        atomic_store_explicit(&g_unlabelled[m], s, memory_order_release);
    }
    if (s)
        atomic_fetch_add_explicit(&s->value, (uint64_t)d, memory_order_relaxed);
}

void authc_metrics_request_start(void)
{
    authc__metric_gauge_add(AUTHC__M_HTTP_IN_FLIGHT, 1);
}

static const char *fold_method(const char *m)
{
    static const char *KNOWN[] = {"GET", "HEAD", "POST", "OPTIONS"};
    for (size_t i = 0; m && i < sizeof KNOWN / sizeof *KNOWN; i++)
        if (!strcmp(m, KNOWN[i]))
            return KNOWN[i];
    return "other";
}

/* The two series of a request (count by action/method/code, duration by
 * action) for the (action, method, status) triples this thread saw last:
 * every request would otherwise hash and probe the shared table for both.
 * Keyed by the action's text (a server may pass a fresh copy each time).
 * Series are never removed, so a kept pointer stays valid; thread-local,
 * so no lock. */
#define MEMO_SLOTS 32

typedef struct req_memo {
    series *count, *duration;   /* NULL: empty slot */
    const char *method;         /* folded: a static string */
    int status;
    char name[LABEL_MAX + 1];   /* the action */
} req_memo;

static _Thread_local req_memo t_memo[MEMO_SLOTS];

/* Both series of a request, from the memo or found (and kept when both
 * exist); either is NULL when the table is full (the drop counter has it). */
static void request_series(const char *act, const char *method, int status, const char code[4],
                           series **count, series **duration)
{
    size_t al = strnlen(act, LABEL_MAX + 1);
    req_memo *e = NULL;
    if (al <= LABEL_MAX) { /* longer names are cut in the label: not kept */
        uint32_t h = 2166136261u ^ (uint32_t)status ^ (uint32_t)((uintptr_t)method >> 3);
        for (size_t i = 0; i < al; i++)
            h = (h ^ (unsigned char)act[i]) * 16777619u;
        e = &t_memo[h % MEMO_SLOTS];
        if (e->count && e->method == method && e->status == status && !memcmp(e->name, act, al + 1)) {
            *count = e->count;
            *duration = e->duration;
            return;
        }
    }
    const char *lc[3] = {act, method, code}, *ld[3] = {act, NULL, NULL};
    *count = find(AUTHC__M_HTTP_REQUESTS, lc);
    *duration = find(AUTHC__M_HTTP_DURATION, ld);
    if (e && *count && *duration) {
        e->count = *count;
        e->duration = *duration;
        e->method = method;
        e->status = status;
        memcpy(e->name, act, al + 1);
    }
}

void authc_metrics_request_done(const char *action, const char *method, int status, double seconds)
{
    /* Three digits (or "0"), without printf: this runs for every request. */
    char code[4] = "0";
    if (status >= 100 && status <= 599) {
        code[0] = (char)('0' + status / 100);
        code[1] = (char)('0' + status / 10 % 10);
        code[2] = (char)('0' + status % 10);
        code[3] = '\0';
    } else {
        status = 0; /* every such status is the one series "0" */
    }
    const char *act = action && *action ? action : "other";
    series *count, *duration;
    request_series(act, fold_method(method), status, code, &count, &duration);
    if (count)
        atomic_fetch_add_explicit(&count->value, 1, memory_order_relaxed);
    if (duration)
        observe_in(duration, seconds);
    authc__metric_gauge_add(AUTHC__M_HTTP_IN_FLIGHT, -1);
}

unsigned long long authc_metrics_counter(const char *fam_name, ...)
{
    const char *l[3] = {NULL, NULL, NULL};
    va_list ap;
    va_start(ap, fam_name);
    for (int i = 0; i < 3; i++) {
        l[i] = va_arg(ap, const char *);
        if (!l[i])
            break;
    }
    va_end(ap);
    for (int f = 0; f < AUTHC__M__COUNT; f++) {
        if (strcmp(FAMILIES[f].name, fam_name))
            continue;
        for (size_t i = 0; i < MAX_SERIES; i++) {
            series *s = &g_series[i];
            if (atomic_load_explicit(&s->state, memory_order_acquire) == 2 && same(s, f, l))
                return atomic_load_explicit(&s->value, memory_order_relaxed);
        }
    }
    return 0;
}

/* ---- rendering ---------------------------------------------------------- */

typedef struct out {
    char *p;
    size_t len, cap;
    bool oom;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...)
{
    for (int tries = 0; tries < 2 && !o->oom; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->p ? o->p + o->len : NULL, o->p ? o->cap - o->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->oom = true;
            return;
        }
        if (o->p && o->len + (size_t)n < o->cap) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = (o->cap ? o->cap * 2 : 16384) + (size_t)n;
        char *np = realloc(o->p, cap);
        if (!np) {
            o->oom = true;
            return;
        }
        o->p = np;
        o->cap = cap;
    }
}

/* Label value escaped as the text format wants (\\, \", \n). */
static void put_labels(out *o, const family *f, const series *s, const char *extra)
{
    bool any = false;
    for (int i = 0; i < 3 && f->labels[i]; i++) {
        put(o, "%s%s=\"", any ? "," : "{", f->labels[i]);
        for (const char *p = s->lab[i]; *p; p++) {
            if (*p == '\\' || *p == '"')
                put(o, "\\%c", *p);
            else if (*p == '\n')
                put(o, "\\n");
            else
                put(o, "%c", *p);
        }
        put(o, "\"");
        any = true;
    }
    if (extra)
        put(o, "%s%s", any ? "," : "{", extra);
    if (any || extra)
        put(o, "}");
}

static void render_family(out *o, int fi)
{
    const family *f = &FAMILIES[fi];
    /* Declared even before a first event, so dashboards and alerts see
     * every family from the start. */
    put(o, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
        f->k == K_COUNTER ? "counter" : f->k == K_GAUGE ? "gauge" : "histogram");
    for (size_t i = 0; i < MAX_SERIES; i++) {
        const series *s = &g_series[i];
        if (atomic_load_explicit(&s->state, memory_order_acquire) != 2 || s->fam != fi)
            continue;
        if (f->k != K_HISTOGRAM) {
            uint64_t v = atomic_load_explicit(&s->value, memory_order_relaxed);
            put(o, "%s", f->name);
            put_labels(o, f, s, NULL);
            if (f->k == K_GAUGE)
                put(o, " %lld\n", (long long)(int64_t)v);
            else
                put(o, " %llu\n", (unsigned long long)v);
            continue;
        }
        uint64_t cum = 0;
        char le[40];
        for (size_t b = 0; b <= NBUCKETS; b++) {
            cum += atomic_load_explicit(&s->buckets[b], memory_order_relaxed);
            if (b < NBUCKETS)
                snprintf(le, sizeof le, "le=\"%g\"", BUCKETS[b]);
            else
                snprintf(le, sizeof le, "le=\"+Inf\"");
            put(o, "%s_bucket", f->name);
            put_labels(o, f, s, le);
            put(o, " %llu\n", (unsigned long long)cum);
        }
        put(o, "%s_sum", f->name);
        put_labels(o, f, s, NULL);
        put(o, " %.9f\n", (double)atomic_load_explicit(&s->sum_ns, memory_order_relaxed) / 1e9);
        put(o, "%s_count", f->name);
        put_labels(o, f, s, NULL);
        put(o, " %llu\n", (unsigned long long)cum);
    }
}

/* process_* as the Prometheus client libraries define them (Linux /proc). */
static void render_process(out *o)
{
    long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    unsigned long utime = 0, stime = 0, vsize = 0;
    unsigned long long start = 0;
    long rss = 0;
    FILE *f = fopen("/proc/self/stat", "r");
    if (f) {
        char buf[1024];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
        const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d "
                               "%*d %*d %llu %lu %ld", &utime, &stime, &start, &vsize, &rss) != 5)
            utime = stime = 0;
    }
    unsigned long long btime = 0;
    if ((f = fopen("/proc/stat", "r"))) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "btime %llu", &btime) == 1)
                break;
        fclose(f);
    }
    size_t fds = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        for (struct dirent *e; (e = readdir(d));)
            fds += e->d_name[0] != '.';
        closedir(d);
        fds = fds ? fds - 1 : 0; /* the directory handle itself */
    }
    struct rlimit rl = {0};
    getrlimit(RLIMIT_NOFILE, &rl);
    put(o, "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
           "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.2f\n",
        tick > 0 ? (double)(utime + stime) / (double)tick : 0.0);
    put(o, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
           "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %lld\n",
        (long long)rss * page);
    put(o, "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
           "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %lu\n", vsize);
    put(o, "# HELP process_open_fds Number of open file descriptors.\n"
           "# TYPE process_open_fds gauge\nprocess_open_fds %zu\n", fds);
    put(o, "# HELP process_max_fds Maximum number of open file descriptors.\n"
           "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
    put(o, "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
           "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.2f\n",
        tick > 0 ? (double)btime + (double)start / (double)tick : 0.0);
}

char *authc_metrics_render(size_t *len)
{
    out o = {0};
    put(&o, "# HELP authc_build_info authc version.\n# TYPE authc_build_info gauge\n"
            "authc_build_info{version=\"%s\"} 1\n", AUTHC_VERSION);
    for (int f = 0; f < AUTHC__M__COUNT; f++)
        render_family(&o, f);
    put(&o, "# HELP authc_metrics_series_dropped_total Increments dropped because the series "
            "table was full.\n# TYPE authc_metrics_series_dropped_total counter\n"
            "authc_metrics_series_dropped_total %llu\n",
        (unsigned long long)atomic_load(&g_dropped));
    render_process(&o);
    if (o.oom) {
        free(o.p);
        return NULL;
    }
    if (len)
        *len = o.len;
    return o.p;
}
