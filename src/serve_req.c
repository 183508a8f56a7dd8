/* serve_req.c — one HTTP request in `authc serve`: framing and target
 * checks, headers in libauthc's shape, inline or on a worker pool, the answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve_int.h"

static const char *reason_of(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Error";
    }
}

static bool is_head(const h2o_req_t *req)
{
    return h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD"));
}

/* Finishes the response whose status, headers and content_length are set. */
static void send_body(h2o_req_t *req, const char *body, size_t len)
{
    static h2o_generator_t generator = {NULL, NULL};
    h2o_iovec_t buf = h2o_iovec_init(body, len);
    h2o_start_response(req, &generator);
    h2o_send(req, &buf, is_head(req) ? 0 : 1, H2O_SEND_STATE_FINAL);
}

void serve__add_header(h2o_req_t *req, h2o_iovec_t *name, const char *value, size_t len)
{
    h2o_vector_reserve(&req->pool, &req->res.headers, req->res.headers.size + 1);
    req->res.headers.entries[req->res.headers.size++] =
        (h2o_header_t){.name = name, .orig_name = NULL, .value = h2o_iovec_init(value, len)};
}

void serve__send_error(h2o_req_t *req, int status, const char *body, bool close)
{
    if (close)
        req->http1_is_persistent = 0;
    req->res.status = status;
    req->res.reason = reason_of(status);
    req->res.content_length = strlen(body);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    send_body(req, body, strlen(body));
}

void serve__respond(h2o_req_t *req, serve_reqref *ref, authc_response *res)
{
    if (!res) {
        serve__send_error(req, 500, "\"Internal error.\"", false);
        return;
    }
    /* The answer's strings are sent from where they are: res lives as long
     * as the request's pool, and goes with ref (on_req_gone), after the
     * request's log line and metrics have read it. */
    ref->res = res;
    serve_conn *c = serve__conn_of(req);
    serve__obs_answer(ref, res);
    if (c && c->loop->stopping)
        req->http1_is_persistent = 0;
    req->res.status = res->status;
    req->res.reason = reason_of(res->status);
    /* One growth of h2o's header vector and one allocation for all the
     * names, entries written in place: h2o_add_header_by_str would
     * allocate each name's iovec apart. Names stay as the library spells
     * them (not h2o's lower-case tokens): the bytes on the wire do not
     * change. */
    h2o_vector_reserve(&req->pool, &req->res.headers, req->res.headers.size + res->nheaders);
    h2o_iovec_t *names = res->nheaders ? h2o_mem_alloc_pool(&req->pool, res->nheaders * sizeof *names) : NULL;
    for (size_t i = 0; i < res->nheaders; i++) {
        const char *n = res->headers[i].name, *v = res->headers[i].value;
        if (!n || !v)
            continue;
        size_t nl = strlen(n);
        if (nl == sizeof "Content-Length" - 1 && !strcasecmp(n, "Content-Length"))
            continue; /* h2o frames the body itself */
        names[i] = h2o_iovec_init(n, nl);
        serve__add_header(req, &names[i], v, strlen(v));
    }
    req->res.content_length = res->body_len;
    send_body(req, res->body, res->body_len);
}

/* h2o takes the first Content-Length and lets Transfer-Encoding win, and
 * drops both from req->headers: look at the raw head (still at the start
 * of the socket's input while the request is handled) so that several of
 * them, or both kinds, are refused instead of guessed at. */
static bool framing_ok(h2o_req_t *req)
{
    h2o_socket_t *sock = req->conn->callbacks->get_socket ? req->conn->callbacks->get_socket(req->conn) : NULL;
    if (!sock || !sock->input)
        return false;
    const char *p = sock->input->bytes, *end = p + sock->input->size;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        return false;
    int n = 0;
    for (p = nl + 1; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return false;
        size_t ll = (size_t)(nl - p);
        if (ll && p[ll - 1] == '\r')
            ll--;
        if (ll == 0)
            break;
        if ((ll >= 15 && !strncasecmp(p, "content-length:", 15)) ||
            (ll >= 18 && !strncasecmp(p, "transfer-encoding:", 18)))
            n++;
    }
    return n == 1;
}

/* Size of a request with its headers in libauthc's shape (NUL-terminated
 * copies; Host comes back from h2o's authority). */
static size_t request_size(const h2o_req_t *req, size_t *nheaders)
{
    size_t n = req->headers.size + 1;
    size_t sz = req->input.method.len + 1 + req->input.path.len + 1 + sizeof "host" + req->input.authority.len + 1;
    for (size_t i = 0; i < req->headers.size; i++)
        sz += req->headers.entries[i].name->len + 1 + req->headers.entries[i].value.len + 1;
    sz += req->entity.len + 1;
    *nheaders = n;
    return sz + n * sizeof(authc_header) + _Alignof(authc_header);
}

static char *put(char **at, const char *s, size_t len)
{
    char *d = *at;
    memcpy(d, s, len);
    d[len] = '\0';
    *at += len + 1;
    return d;
}

/* Fills r from req into mem (of request_size() bytes); r points into mem. */
static void request_fill(const h2o_req_t *req, char *mem, size_t nh, const serve_conn *c, authc_request *r)
{
    authc_header *h = (authc_header *)(mem + (_Alignof(authc_header) - (uintptr_t)mem % _Alignof(authc_header)) %
                                                 _Alignof(authc_header));
    char *at = (char *)(h + nh);
    size_t n = 0;
    if (req->input.authority.base) {
        h[n].name = "host";
        h[n++].value = put(&at, req->input.authority.base, req->input.authority.len);
    }
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *e = req->headers.entries + i;
        h[n].name = put(&at, e->name->base, e->name->len);
        h[n++].value = put(&at, e->value.base, e->value.len);
    }
    *r = (authc_request){
        .method = put(&at, req->input.method.base, req->input.method.len),
        .url = put(&at, req->input.path.base, req->input.path.len),
        .scheme = req->input.scheme == &H2O_URL_SCHEME_HTTPS ? "https" : "http",
        .headers = h,
        .nheaders = n,
        .body = req->entity.base ? put(&at, req->entity.base, req->entity.len) : NULL,
        .body_len = req->entity.len,
        .client_addr = c ? c->addr : NULL,
    };
}

/* Dispose callback of a request's pool: the request is over (answered, or
 * its connection closed); a job still running must not answer into it. */
static void on_req_gone(void *p)
{
    serve_reqref *ref = p;
    serve__obs_done(ref);
    if (ref->conn)
        ref->conn->busy = false;
    if (ref->job) {
        ref->job->req = NULL;
        ref->job->ref = NULL;
    }
    authc_response_free(ref->res);
    ref->res = NULL;
}

/* Most jobs of one kind a loop holds until its iteration ends. */
#define SERVE_JOBS_HELD 64

/* Answers 503 to the jobs of a list no pool took, and frees them. */
static void refuse_jobs(serve_job *j)
{
    for (serve_job *next; j; j = next) {
        next = j->next;
        if (j->req) {
            j->ref->job = NULL;
            serve__send_error(j->req, 503, "\"Server busy, try again.\"", false);
        }
        free(j);
    }
}

/* Why jobs wait for the end of the loop iteration: pushed one by one,
 * each woke a worker that preempted the loop before it read the next
 * request (every CPU runs a loop, so workers share the loops' cores), and
 * database workers formed small batches. Collected, the iteration's jobs
 * reach the pool together, with one lock and as many wake-ups as idle
 * workers: db-postgres in `make bench` went from 18.6-19.4k to
 * 20.6-22.1k req/s. The delay is the rest of one iteration, which is
 * short when the loop is idle; SERVE_JOBS_HELD bounds it when busy. */
void serve__flush_jobs(serve_loop *l)
{
    for (size_t k = 0; k < 4; k++) {
        if (!l->npend[k])
            continue;
        /* Requests gone since (client closed) need no work. */
        serve_job **pp = &l->pend_head[k];
        size_t n = 0;
        while (*pp) {
            serve_job *j = *pp;
            if (!j->req) {
                *pp = j->next;
                free(j);
            } else {
                pp = &j->next;
                n++;
            }
        }
        serve_job *head = l->pend_head[k];
        l->pend_head[k] = l->pend_tail[k] = NULL;
        l->npend[k] = 0;
        if (n)
            refuse_jobs(serve__pool_push_list(&l->sv->pools[k], head, n));
    }
}

static void dispatch(serve_loop *l, h2o_req_t *req, serve_conn *c, serve_reqref *ref, authc_pool kind)
{
    size_t nh, sz = request_size(req, &nh);
    serve_job *j = malloc(sizeof *j + sz);
    if (!j) {
        serve__send_error(req, 503, "\"Server busy, try again.\"", false);
        return;
    }
    memset(j, 0, sizeof *j);
    j->loop = l;
    j->req = req;
    j->ref = ref;
    request_fill(req, j->blob, nh, c, &j->areq);
    ref->job = j;
    if (l->pend_tail[kind])
        l->pend_tail[kind]->next = j;
    else
        l->pend_head[kind] = j;
    l->pend_tail[kind] = j;
    if (++l->npend[kind] >= SERVE_JOBS_HELD)
        serve__flush_jobs(l);
}

void serve__on_answers(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages)
{
    (void)rx;
    while (!h2o_linklist_is_empty(messages)) {
        serve_job *j = H2O_STRUCT_FROM_MEMBER(serve_job, msg.link, messages->next);
        h2o_linklist_unlink(&j->msg.link);
        if (j->req) {
            j->ref->job = NULL;
            serve__respond(j->req, j->ref, j->res);
        } else {
            authc_response_free(j->res);
        }
        free(j);
    }
}

int serve__on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    serve_loop *l = H2O_STRUCT_FROM_MEMBER(serve_loop, ctx, req->conn->ctx);
    serve_server *sv = l->sv;
    serve_conn *c = serve__conn_of(req);
    serve_reqref *ref = h2o_mem_alloc_shared(&req->pool, sizeof *ref, on_req_gone);
    memset(ref, 0, sizeof *ref);
    ref->conn = c;
    serve__obs_start(req, ref, c);
    if (c)
        c->busy = true;
    /* A body arrived: exactly one Content-Length or Transfer-Encoding. */
    if (req->entity.base && !framing_ok(req)) {
        serve__send_error(req, 400, "\"Conflicting Content-Length / Transfer-Encoding.\"", true);
        return 0;
    }
    h2o_iovec_t path = req->input.path;
    /* Only origin-form targets ("/..."): never "*", "foo", "?x" or a URL. */
    if (path.len == 0 || path.base[0] != '/') {
        serve__send_error(req, 400, "\"Bad request target.\"", true);
        return 0;
    }
    if (path.len > SERVE_MAX_TARGET) {
        serve__send_error(req, 414, "\"URI too long.\"", false);
        return 0;
    }
    size_t head = path.len + req->input.authority.len;
    for (size_t i = 0; i < req->headers.size; i++)
        head += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
    if (head > SERVE_MAX_HEAD) {
        serve__send_error(req, 431, "\"Request headers too large.\"", true);
        return 0;
    }
    const authc *a = sv->rt->auth;
    /* The library wants NUL-terminated strings: the path is copied once. */
    char *target = h2o_mem_alloc_pool(&req->pool, path.len + 1);
    memcpy(target, path.base, path.len);
    target[path.len] = '\0';
    if (!authc_handles_path(a, target)) {
        ref->action = sv->o.static_dir ? "static" : "other";
        if (sv->o.static_dir)
            serve__static(sv, req, target, path.len);
        else
            serve__send_error(req, 404, "\"Not found.\"", false);
        return 0;
    }
    char method[16];
    size_t ml = req->input.method.len < sizeof method - 1 ? req->input.method.len : sizeof method - 1;
    memcpy(method, req->input.method.base, ml);
    method[ml] = '\0';
    authc_pool kind = authc_route_pool(a, method, target);
    if (kind != AUTHC_POOL_INLINE && kind < 4 && sv->pools[kind].n) {
        dispatch(l, req, c, ref, kind);
        return 0;
    }
    size_t nh, sz = request_size(req, &nh);
    char *mem = h2o_mem_alloc_pool(&req->pool, sz);
    authc_request r;
    request_fill(req, mem, nh, c, &r);
    authc_response *res = NULL;
    authc_handle(a, &r, &res);
    serve__respond(req, ref, res);
    return 0;
}
