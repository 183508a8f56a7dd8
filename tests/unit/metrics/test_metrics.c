/* test_metrics.c — counters under concurrency, histograms, label escaping,
 * the series bound, and the text format checked by promtool when present. */
#include "cmocka_main.h"
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "authc.h"
#include "metrics/metrics_int.h"

#define THREADS 4
#define PER_THREAD 50000

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        authc__metric_inc(AUTHC__M_SIGNIN, "github", "success", NULL);
        authc__metric_observe(AUTHC__M_PROVIDER_DURATION, 0.003, "github", "token");
    }
    return NULL;
}

/* Runs fn on THREADS threads at once and waits for them. */
static void on_threads(void *(*fn)(void *))
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, fn, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
}

static void test_concurrent_counts(void **st)
{
    (void)st;
    on_threads(hammer);
    assert_int_equal(authc_metrics_counter("authc_signin_total", "github", "success", NULL),
                     THREADS * PER_THREAD);
    assert_int_equal(authc_metrics_counter("authc_signin_total", "github", "CredentialsSignin", NULL), 0);
    size_t len;
    char *text = authc_metrics_render(&len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    /* 0.003 s falls in the 0.005 bucket and every one after it. */
    char want[256];
    snprintf(want, sizeof want,
             "authc_provider_request_duration_seconds_bucket{provider=\"github\",endpoint=\"token\",le=\"0.0025\"} 0\n"
             "authc_provider_request_duration_seconds_bucket{provider=\"github\",endpoint=\"token\",le=\"0.005\"} %d\n",
             THREADS * PER_THREAD);
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof want, "authc_provider_request_duration_seconds_count{provider=\"github\",endpoint=\"token\"} %d\n",
             THREADS * PER_THREAD);
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "authc_provider_request_duration_seconds_sum{provider=\"github\",endpoint=\"token\"} 600.000000000\n"));
    free(text);
}

static void test_requests_and_escaping(void **st)
{
    (void)st;
    authc_metrics_request_start();
    authc_metrics_request_start();
    authc_metrics_request_done("session", "GET", 200, 0.0001);
    authc_metrics_request_done("session", "BREW", 418, 0.2);
    authc__metric_inc(AUTHC__M_ADAPTER_ERRORS, "pg\"x\\y\nz", "getUser", NULL);
    char *text = authc_metrics_render(NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "authc_http_requests_total{action=\"session\",method=\"GET\",code=\"200\"} 1\n"));
    assert_non_null(strstr(text, "authc_http_requests_total{action=\"session\",method=\"other\",code=\"418\"} 1\n"));
    assert_non_null(strstr(text, "authc_http_requests_in_flight 0\n"));
    assert_non_null(strstr(text, "authc_adapter_errors_total{adapter=\"pg\\\"x\\\\y\\nz\",op=\"getUser\"} 1\n"));
    assert_non_null(strstr(text, "authc_build_info{version=\"" AUTHC_VERSION "\"} 1\n"));
    assert_non_null(strstr(text, "\nprocess_resident_memory_bytes "));
    assert_non_null(strstr(text, "\nprocess_open_fds "));
    free(text);
}

/* authc_metrics_request_done keeps each thread's series per (action,
 * method, status): counts stay exact under several threads, and a buffer
 * reused for another action name counts under the name it holds. */
#define REQ_ROUNDS 3000
static void *requests(void *arg)
{
    (void)arg;
    char buf[16];
    for (int i = 0; i < REQ_ROUNDS; i++) {
        authc_metrics_request_start();
        authc_metrics_request_done("memo-a", "GET", 200, 0.0001);
        authc_metrics_request_start();
        authc_metrics_request_done("memo-a", i % 2 ? "POST" : "GET", i % 3 ? 302 : 200, 0.02);
        strcpy(buf, i % 2 ? "memo-b" : "memo-c"); /* same address, other name */
        authc_metrics_request_start();
        authc_metrics_request_done(buf, "GET", 1000, 0.3); /* out of range: code "0" */
    }
    return NULL;
}

static unsigned long long histogram_count(const char *text, const char *action)
{
    char want[128];
    snprintf(want, sizeof want, "authc_http_request_duration_seconds_count{action=\"%s\"} ", action);
    const char *p = strstr(text, want);
    return p ? strtoull(p + strlen(want), NULL, 10) : 0;
}

static void test_request_series_memo(void **st)
{
    (void)st;
    on_threads(requests);
    /* Per thread: i%3==0 → 200 (1,000 rounds: 500 GET, 500 POST), else 302. */
    unsigned long long n = THREADS;
    assert_int_equal(authc_metrics_counter("authc_http_requests_total", "memo-a", "GET", "200", NULL),
                     n * (REQ_ROUNDS + 500));
    assert_int_equal(authc_metrics_counter("authc_http_requests_total", "memo-a", "POST", "200", NULL), n * 500);
    assert_int_equal(authc_metrics_counter("authc_http_requests_total", "memo-a", "GET", "302", NULL), n * 1000);
    assert_int_equal(authc_metrics_counter("authc_http_requests_total", "memo-a", "POST", "302", NULL), n * 1000);
    assert_int_equal(authc_metrics_counter("authc_http_requests_total", "memo-b", "GET", "0", NULL), n * REQ_ROUNDS / 2);
    assert_int_equal(authc_metrics_counter("authc_http_requests_total", "memo-c", "GET", "0", NULL), n * REQ_ROUNDS / 2);
    char *text = authc_metrics_render(NULL);
    assert_non_null(text);
    assert_int_equal(histogram_count(text, "memo-a"), n * 2 * REQ_ROUNDS);
    assert_int_equal(histogram_count(text, "memo-b"), n * REQ_ROUNDS / 2);
    assert_int_equal(histogram_count(text, "memo-c"), n * REQ_ROUNDS / 2);
    char want[160];
    snprintf(want, sizeof want,
             "authc_http_request_duration_seconds_bucket{action=\"memo-b\",le=\"0.25\"} 0\n"
             "authc_http_request_duration_seconds_bucket{action=\"memo-b\",le=\"0.5\"} %llu\n",
             n * REQ_ROUNDS / 2);
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "authc_http_requests_in_flight 0\n"));
    free(text);
}

/* Long labels are cut, and the number of series is bounded. */
static void test_bounds(void **st)
{
    (void)st;
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    authc__metric_inc(AUTHC__M_EMAIL_SENT, big, NULL, NULL);
    big[100] = 'y'; /* differs only past the cut: the same series */
    authc__metric_inc(AUTHC__M_EMAIL_SENT, big, NULL, NULL);
    big[64] = '\0';
    assert_int_equal(authc_metrics_counter("authc_email_sent_total", big, NULL), 2);
    char label[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(label, sizeof label, "p%d", i);
        authc__metric_inc(AUTHC__M_RATELIMIT, label, "allowed", NULL);
    }
    char *text = authc_metrics_render(NULL);
    assert_non_null(text);
    const char *d = strstr(text, "\nauthc_metrics_series_dropped_total ");
    assert_non_null(d);
    unsigned long long dropped = strtoull(d + strlen("\nauthc_metrics_series_dropped_total "), NULL, 10);
    assert_true(dropped > 900);
    free(text);
    /* A request with a new action while the table is full: both of its
     * series are dropped, every time (nothing half-kept is reused). */
    authc_metrics_request_start();
    authc_metrics_request_done("memo-full", "GET", 200, 0.001);
    authc_metrics_request_start();
    authc_metrics_request_done("memo-full", "GET", 200, 0.001);
    text = authc_metrics_render(NULL);
    assert_non_null(text);
    d = strstr(text, "\nauthc_metrics_series_dropped_total ");
    assert_non_null(d);
    assert_int_equal(strtoull(d + strlen("\nauthc_metrics_series_dropped_total "), NULL, 10), dropped + 4);
    assert_non_null(strstr(text, "authc_http_requests_in_flight 0\n"));
    free(text);
}

static void test_promtool(void **st)
{
    (void)st;
    if (access("/usr/bin/promtool", X_OK)) {
        fprintf(stderr, "promtool not installed: format check left to the e2e suite\n");
        skip();
    }
    authc__metric_inc(AUTHC__M_FORWARD_AUTH, "allow", NULL, NULL);
    char *text = authc_metrics_render(NULL);
    assert_non_null(text);
    FILE *p = popen("/usr/bin/promtool check metrics >/dev/null 2>&1", "w");
    assert_non_null(p);
    fputs(text, p);
    int rc = pclose(p);
    free(text);
    assert_true(WIFEXITED(rc));
    assert_int_equal(WEXITSTATUS(rc), 0);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_concurrent_counts),
        cmocka_unit_test(test_requests_and_escaping),
        cmocka_unit_test(test_request_series_memo),
        cmocka_unit_test(test_promtool),
        cmocka_unit_test(test_bounds))
