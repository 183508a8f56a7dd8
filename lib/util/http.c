/* http.c — outbound HTTP for provider calls over libcurl: TLS always
 * verified, connect and total timeouts, bounded responses, no redirects. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "metrics/metrics_int.h"
#include "util/http_int.h"
#include "util/parse_int.h"
#include "util/util_int.h"

CURL *authc__curl_open(const authc__curl_base *b, authc_err *e, char *why, size_t whylen)
{
    if (authc_global_init() != AUTHC_OK) { /* curl_global_init, once */
        snprintf(why, whylen, "libcurl could not be initialised");
        *e = AUTHC_ERR_IO;
        return NULL;
    }
    CURL *h = curl_easy_init();
    CURLcode rc = h ? CURLE_OK : CURLE_OUT_OF_MEMORY;
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, val); } while (0)
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, b->protocols);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (b->ca_file)
        SET(CURLOPT_CAINFO, b->ca_file);
    SET(CURLOPT_CONNECTTIMEOUT_MS, b->connect_ms);
    SET(CURLOPT_TIMEOUT_MS, b->total_ms);
    SET(CURLOPT_ERRORBUFFER, b->errbuf);
#undef SET
    if (rc == CURLE_OK)
        return h;
    snprintf(why, whylen, "libcurl: %s", curl_easy_strerror(rc));
    *e = rc == CURLE_OUT_OF_MEMORY ? AUTHC_ERR_NOMEM : AUTHC_ERR_IO;
    curl_easy_cleanup(h);
    return NULL;
}

typedef struct sink {
    char *p;
    size_t len, cap, max;
    bool over;
} sink;

static size_t on_data(char *data, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    if (s->len + n > s->max) {
        s->over = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        if (cap > s->max + 1)
            cap = s->max + 1;
        char *np = realloc(s->p, cap);
        if (!np)
            return 0;
        s->p = np;
        s->cap = cap;
    }
    memcpy(s->p + s->len, data, n);
    s->len += n;
    s->p[s->len] = '\0';
    return n;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Provider metrics: the duration of every call, and failures by a bounded
 * reason (transport error kind or the status class). */
static void measure(const authc__http_opts *o, const authc__http_req *rq, double secs, authc_err e, long status)
{
    if (!o->provider)
        return;
    const char *ep = rq->endpoint ? rq->endpoint : "other";
    authc__metric_observe(AUTHC__M_PROVIDER_DURATION, secs, o->provider, ep);
    const char *reason = e == AUTHC_ERR_TIMEOUT ? "timeout"
                       : e == AUTHC_ERR_LIMIT ? "too_large"
                       : e ? "transport"
                       : status >= 500 ? "status_5xx"
                       : status >= 400 ? "status_4xx" : NULL;
    if (reason)
        authc__metric_inc(AUTHC__M_PROVIDER_ERRORS, o->provider, ep, reason);
}

authc_err authc__http_do(authc_arena *ar, const authc__http_opts *o,
                         const authc__http_req *rq, authc__http_res *res,
                         char *why, size_t whylen)
{
    static const authc__http_opts none;
    if (!o)
        o = &none;
    memset(res, 0, sizeof *res);
    if (whylen)
        why[0] = '\0';
    if (!rq->url || (!authc__starts_with(rq->url, "https://") && !authc__starts_with(rq->url, "http://"))) {
        snprintf(why, whylen, "only http(s) URLs are allowed");
        return AUTHC_ERR_INVALID;
    }
    if (authc__starts_with(rq->url, "http://") && !o->allow_http && !authc__url_is_loopback(rq->url)) {
        snprintf(why, whylen, "plain http is only allowed to loopback hosts (use https)");
        return AUTHC_ERR_INVALID;
    }
    if (rq->nheaders > AUTHC__HTTP_MAX_HEADERS) {
        snprintf(why, whylen, "too many request headers");
        return AUTHC_ERR_INVALID;
    }
    sink s = {.max = o->max_response ? o->max_response : AUTHC__HTTP_MAX_RESPONSE};
    char cerr[CURL_ERROR_SIZE] = "";
    long tms = o->total_ms > 0 ? o->total_ms : AUTHC__HTTP_TOTAL_MS;
    const authc__curl_base base = {"http,https", o->ca_file,
                                   o->connect_ms > 0 ? o->connect_ms : AUTHC__HTTP_CONNECT_MS, tms, cerr};
    authc_err e = AUTHC_OK;
    CURL *h = authc__curl_open(&base, &e, why, whylen);
    if (!h)
        return e;
    struct curl_slist *hl = NULL;
    for (size_t i = 0; i < rq->nheaders; i++) {
        struct curl_slist *n = curl_slist_append(hl, rq->headers[i]);
        if (!n) {
            curl_slist_free_all(hl);
            curl_easy_cleanup(h);
            return AUTHC_ERR_NOMEM;
        }
        hl = n;
    }
    bool post = rq->method && !strcmp(rq->method, "POST");

    curl_easy_setopt(h, CURLOPT_URL, rq->url);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s.max);
    curl_easy_setopt(h, CURLOPT_USERAGENT, AUTHC__HTTP_USER_AGENT);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* gzip etc.; limit applies after decoding */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    /* Proxies only when the operator set them in the environment (libcurl's
     * default), so a private IdP behind an egress proxy works. */
    if (post) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(rq->body ? rq->body_len : 0));
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }

    double t0 = mono_s();
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        if (s.over || rc == CURLE_FILESIZE_EXCEEDED) {
            snprintf(why, whylen, "response larger than %zu bytes", s.max);
            e = AUTHC_ERR_LIMIT;
        } else if (rc == CURLE_OPERATION_TIMEDOUT) {
            snprintf(why, whylen, "no complete answer within %ld ms", tms);
            e = AUTHC_ERR_TIMEOUT;
        } else {
            /* curl's message names the host and the failure, not content. */
            snprintf(why, whylen, "%s", cerr[0] ? cerr : curl_easy_strerror(rc));
            e = rc == CURLE_OUT_OF_MEMORY ? AUTHC_ERR_NOMEM : AUTHC_ERR_IO;
        }
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
        char *ct = NULL;
        curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
        if (ct) {
            size_t l = strcspn(ct, ";");
            while (l && isspace((unsigned char)ct[l - 1]))
                l--;
            res->content_type = authc_arena_strndup(ar, ct, l);
            if (!res->content_type)
                e = AUTHC_ERR_NOMEM;
            else
                for (char *q = res->content_type; *q; q++)
                    *q = (char)tolower((unsigned char)*q);
        }
        /* Binary-safe copy (a profile photo is binary). */
        res->body = authc_arena_alloc(ar, s.len + 1);
        if (!res->body) {
            e = AUTHC_ERR_NOMEM;
        } else {
            if (s.len)
                memcpy(res->body, s.p, s.len);
            res->len = s.len;
        }
    }
    if (s.p) {
        authc__wipe(s.p, s.len); /* may hold tokens */
        free(s.p);
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    measure(o, rq, mono_s() - t0, e, res->status);
    return e;
}
