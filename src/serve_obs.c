/* serve_obs.c — what an operator sees of `authc serve`: one log line per
 * request (AUTHC_LOG_FORMAT), X-Request-Id, metrics, /livez and /readyz. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "authc/log.h"
#include "authc/metrics.h"
#include "serve_int.h"

#define REQUEST_ID_MAX 128
#define LOG_PATH_MAX 512
#define READY_TIMEOUT_MS 1000

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A new request id (32 hex digits) into out: a random per-thread prefix
 * and a counter. An id is for correlation only: unique, not secret, so no
 * random draw and no formatting per request: the thread keeps the text of
 * its last id and counts up in it. Returns out. */
static char *new_request_id(char out[33])
{
    static _Thread_local char text[33]; /* 16 digits of prefix, 16 of counter */
    static const char hexd[] = "0123456789abcdef";
    if (!text[0]) {
        unsigned char prefix[8];
        if (RAND_bytes(prefix, sizeof prefix) != 1)
            memset(prefix, 0, sizeof prefix); /* still unique within the thread */
        for (int k = 0; k < 8; k++) {
            text[2 * k] = hexd[prefix[k] >> 4];
            text[2 * k + 1] = hexd[prefix[k] & 15];
        }
        memset(text + 16, '0', 16);
    }
    /* counter + 1: trailing 'f's roll over to '0', the digit before goes up. */
    for (int k = 31; k >= 16; k--) {
        if (text[k] != 'f') {
            text[k] = text[k] == '9' ? 'a' : (char)(text[k] + 1);
            break;
        }
        text[k] = '0';
    }
    return memcpy(out, text, 33);
}

/* An incoming X-Request-Id is kept only when it is a plain token. */
static bool sane_request_id(const char *p, size_t n)
{
    if (n == 0 || n > REQUEST_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              strchr("-_.:+/=~@", ch)))
            return false;
    }
    return true;
}

/* A copy in the request's pool, NUL-terminated; NULL in, NULL out. */
static const char *pool_dup(h2o_req_t *req, const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *d = h2o_mem_alloc_pool(&req->pool, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* The method as a NUL-terminated string: the usual ones without a copy. */
static const char *method_of(h2o_req_t *req)
{
    static const char *const KNOWN[] = {"GET", "POST", "HEAD", "OPTIONS"};
    h2o_iovec_t m = req->input.method;
    for (size_t i = 0; i < sizeof KNOWN / sizeof *KNOWN; i++)
        if (h2o_memis(m.base, m.len, KNOWN[i], strlen(KNOWN[i])))
            return KNOWN[i];
    return pool_dup(req, m.base, m.len < 16 ? m.len : 16);
}

void serve__obs_start(h2o_req_t *req, serve_reqref *ref, const serve_conn *c)
{
    static h2o_iovec_t x_request_id = {H2O_STRLIT("x-request-id")}; /* never written */
    ref->req = req;
    ref->t0_ns = now_ns();
    ref->client_ip = c ? c->addr : NULL; /* replaced by the library's view */
    ref->method = method_of(req);
    /* The path without its query (which may carry codes and tokens), for
     * the JSON request line only. */
    if (authc_log_is_json()) {
        const char *pp = req->input.path.base ? req->input.path.base : "";
        size_t pl = 0;
        while (pl < req->input.path.len && pl < LOG_PATH_MAX && pp[pl] != '?')
            pl++;
        ref->path = pool_dup(req, pp, pl);
    }
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-request-id"), -1);
    size_t il = 32;
    if (i >= 0 && sane_request_id(req->headers.entries[i].value.base, req->headers.entries[i].value.len)) {
        il = req->headers.entries[i].value.len;
        ref->request_id = pool_dup(req, req->headers.entries[i].value.base, il);
    } else {
        ref->request_id = new_request_id(h2o_mem_alloc_pool(&req->pool, 33));
    }
    /* Room for a short answer's headers at once: h2o grows the vector 4,
     * 8, 16, each time a copy, and the answer's come after this one. */
    h2o_vector_reserve(&req->pool, &req->res.headers, 8);
    serve__add_header(req, &x_request_id, ref->request_id, il);
    authc_metrics_request_start();
}

void serve__obs_answer(serve_reqref *ref, const authc_response *res)
{
    authc_response_info in;
    authc_response_info_get(res, &in);
    /* The answer is freed after serve__obs_done: no copies. */
    ref->action = in.action;
    ref->provider = in.provider;
    ref->user_id = in.user_id;
    if (in.client_ip)
        ref->client_ip = in.client_ip;
    if (!res->log_line && !in.event)
        return;
    bool json = authc_log_is_json();
    authc_log_field f[] = {
        {"event", in.event, false},
        {"result", in.result, false},
        {"provider", in.provider, false},
        {"user_id", in.user_id, false},
        {"request_id", ref->request_id, false},
        {"client_ip", ref->client_ip, false},
        {"detail", json ? res->log_line : NULL, false},
    };
    bool failed = in.event && in.result && strcmp(in.result, "success") && strcmp(in.event, "signout");
    authc_log_write(failed ? "warn" : "info", json || !res->log_line ? "auth" : res->log_line, f,
                    sizeof f / sizeof *f);
}

void serve__obs_done(serve_reqref *ref)
{
    h2o_req_t *req = ref->req;
    if (!req)
        return;
    double secs = (double)(now_ns() - ref->t0_ns) / 1e9;
    const char *method = ref->method;
    int status = req->res.status;
    const char *action = ref->action ? ref->action : "other";
    authc_metrics_request_done(action, method, status, secs);
    if (!authc_log_is_json())
        return; /* text logs keep to auth events and problems */
    char st[16], ms[32];
    snprintf(st, sizeof st, "%d", status);
    snprintf(ms, sizeof ms, "%.3f", secs * 1000);
    authc_log_field f[] = {
        {"request_id", ref->request_id, false},
        {"method", method, false},
        {"action", action, false},
        {"provider", ref->provider, false},
        {"path", ref->path, false},
        {"status", st, true},
        {"duration_ms", ms, true},
        {"client_ip", ref->client_ip, false},
        {"user_id", ref->user_id, false},
    };
    authc_log_write(status >= 500 ? "error" : "info", "request", f, sizeof f / sizeof *f);
}

/* ---- the metrics listener --------------------------------------------- */

static void send_text(h2o_req_t *req, int status, const char *type, const char *body, size_t len)
{
    static h2o_generator_t generator = {NULL, NULL};
    req->res.status = status;
    req->res.reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Service Unavailable";
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type, strlen(type));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_iovec_t buf = h2o_iovec_init(body, len);
    h2o_start_response(req, &generator);
    bool head = h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD"));
    h2o_send(req, &buf, head ? 0 : 1, H2O_SEND_STATE_FINAL);
}

static void readyz(serve_server *sv, h2o_req_t *req)
{
    static const char JSON[] = "application/json";
    char why[32] = "";
    if (atomic_load(&sv->draining)) {
        static const char down[] = "{\"status\":\"DOWN\",\"checks\":[{\"name\":\"shutdown\",\"status\":\"DOWN\"}]}";
        send_text(req, 503, JSON, down, sizeof down - 1);
        return;
    }
    if (authc_ready(sv->rt->auth, READY_TIMEOUT_MS, why, sizeof why)) {
        static const char up[] = "{\"status\":\"UP\",\"checks\":[{\"name\":\"database\",\"status\":\"UP\"},"
                                 "{\"name\":\"store\",\"status\":\"UP\"}]}";
        send_text(req, 200, JSON, up, sizeof up - 1);
        return;
    }
    char *body = h2o_mem_alloc_pool(&req->pool, 96);
    int n = snprintf(body, 96, "{\"status\":\"DOWN\",\"checks\":[{\"name\":\"%s\",\"status\":\"DOWN\"}]}",
                     strcmp(why, "store") ? "database" : "store");
    send_text(req, 503, JSON, body, (size_t)n);
}

int serve__on_metrics_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    serve_loop *l = H2O_STRUCT_FROM_MEMBER(serve_loop, ctx, req->conn->ctx);
    h2o_iovec_t p = req->path_normalized;
    if (h2o_memis(p.base, p.len, H2O_STRLIT("/metrics"))) {
        size_t len = 0;
        char *text = authc_metrics_render(&len);
        if (!text) {
            send_text(req, 503, "text/plain", "out of memory\n", 14);
            return 0;
        }
        char *body = h2o_mem_alloc_pool(&req->pool, len + 1);
        memcpy(body, text, len);
        free(text);
        send_text(req, 200, "text/plain; version=0.0.4; charset=utf-8", body, len);
    } else if (h2o_memis(p.base, p.len, H2O_STRLIT("/livez"))) {
        send_text(req, 200, "application/json", "{\"status\":\"UP\"}", 15);
    } else if (h2o_memis(p.base, p.len, H2O_STRLIT("/readyz"))) {
        readyz(l->sv, req);
    } else {
        send_text(req, 404, "application/json", "\"Not found.\"", 12);
    }
    return 0;
}
