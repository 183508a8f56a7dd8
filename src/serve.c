/* serve.c — `authc serve`: libmicrohttpd in front of libauthc; bounded
 * request bodies, static files beside the API, clean shutdown on signals. */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve.h"

#define MAX_BODY (64 * 1024)
#define MAX_HEADERS 100
#define MAX_URI 8192

typedef struct req_state {
    char *uri;        /* raw request target incl. query */
    char *body;
    size_t len;
    bool too_big;
    bool started;     /* the first callback only announces the headers */
    /* Offloaded to a worker: request copy and, when done, the response. */
    bool queued;
    authc_response *res;
    authc_header *hdrs;
    size_t nhdrs;
    char addr[64];
    const char *method;
    struct MHD_Connection *con;
    struct req_state *next;
} req_state;

/* Worker pools for requests that may wait on a peer: the connection is
 * suspended, a worker answers, the connection is resumed, so event threads
 * never block. Two pools: database session reads/writes get as many
 * workers as a database pool has connections (more only wake and sleep on
 * its lock); OAuth providers and SMTP get more, since they mostly wait. */
#define NET_WORKERS 16
#define DB_WORKERS 4
#define QUEUE_MAX 4096

typedef struct wpool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    req_state *head, *tail;
    size_t queued;
    bool stopping;
    pthread_t threads[NET_WORKERS];
    size_t n;
    const struct server *sv;
} wpool;

typedef struct server {
    const runtime *rt;
    const char *static_dir;
    char static_real[4096];
    wpool net, db;
} server;

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *con)
{
    (void)cls;
    (void)con;
    req_state *st = calloc(1, sizeof *st);
    if (st && uri)
        st->uri = strndup(uri, MAX_URI + 1);
    return st;
}

static void completed(void *cls, struct MHD_Connection *con, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con;
    (void)toe;
    req_state *st = *con_cls;
    if (st) {
        authc_response_free(st->res);
        free(st->hdrs);
        free(st->uri);
        free(st->body);
        free(st);
    }
    *con_cls = NULL;
}

typedef struct hdr_acc {
    authc_header h[MAX_HEADERS];
    size_t n;
    bool overflow;
} hdr_acc;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    hdr_acc *a = cls;
    if (a->n == MAX_HEADERS) {
        a->overflow = true;
        return MHD_NO;
    }
    a->h[a->n].name = key;
    a->h[a->n].value = value ? value : "";
    a->n++;
    return MHD_YES;
}

static enum MHD_Result send_simple(struct MHD_Connection *con, unsigned status,
                                   const char *ctype, const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    enum MHD_Result ret = MHD_queue_response(con, status, r);
    MHD_destroy_response(r);
    return ret;
}

static const char *mime_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return "application/octet-stream";
    static const struct { const char *ext, *type; } T[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
        {".jpg", "image/jpeg"}, {".ico", "image/x-icon"}, {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"}, {".woff2", "font/woff2"}, {".webp", "image/webp"},
    };
    for (size_t i = 0; i < sizeof T / sizeof *T; i++)
        if (!strcasecmp(dot, T[i].ext))
            return T[i].type;
    return "application/octet-stream";
}

/* Serves a file under the static root; SPA fallback to index.html for
 * paths without an extension. Never follows a path out of the root. */
static enum MHD_Result serve_static(server *sv, struct MHD_Connection *con, const char *method,
                                    const char *url)
{
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return send_simple(con, 405, "text/plain", "Method not allowed\n");
    char rel[4096];
    size_t ul = strcspn(url, "?");
    if (ul >= sizeof rel - 16 || strstr(url, ".."))
        return send_simple(con, 404, "text/plain", "Not found\n");
    memcpy(rel, url, ul);
    rel[ul] = '\0';
    if (rel[ul - 1] == '/')
        strcat(rel, "index.html");
    char path[8192];
    snprintf(path, sizeof path, "%s%s", sv->static_real, rel);
    char real[4096];
    struct stat stt;
    if (!realpath(path, real) || stat(real, &stt) || !S_ISREG(stt.st_mode)) {
        if (strchr(strrchr(rel, '/'), '.'))
            return send_simple(con, 404, "text/plain", "Not found\n");
        snprintf(path, sizeof path, "%s/index.html", sv->static_real);
        if (!realpath(path, real) || stat(real, &stt) || !S_ISREG(stt.st_mode))
            return send_simple(con, 404, "text/plain", "Not found\n");
    }
    size_t rl = strlen(sv->static_real);
    if (strncmp(real, sv->static_real, rl) != 0 || real[rl] != '/')
        return send_simple(con, 404, "text/plain", "Not found\n");
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return send_simple(con, 404, "text/plain", "Not found\n");
    struct MHD_Response *r = MHD_create_response_from_fd((size_t)stt.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", mime_of(real));
    MHD_add_response_header(r, "Cache-Control", strstr(real, "/assets/") ? "public, max-age=31536000, immutable" : "no-cache");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_queue_response(con, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static const char *client_addr(struct MHD_Connection *con, char *buf, size_t n)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return "-";
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)n);
    else
        return "-";
    return buf;
}

/* Sends an authc response and writes its log line. res is freed with the
 * request state (or here when it was not stored there). */
static enum MHD_Result respond(struct MHD_Connection *con, req_state *st, authc_response *res)
{
    if (!res)
        return send_simple(con, 500, "application/json", "\"Internal error.\"");
    struct MHD_Response *r = MHD_create_response_from_buffer(res->body_len, (void *)res->body,
                                                             MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_NO;
    if (r) {
        for (size_t i = 0; i < res->nheaders; i++)
            MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
        if (res->log_line) {
            char line[1200];
            snprintf(line, sizeof line, "%s client=%s", res->log_line, st->addr);
            prog_log(NULL, "info", line);
        }
        ret = MHD_queue_response(con, (unsigned)res->status, r);
        MHD_destroy_response(r);
    }
    if (st->res == res)
        st->res = NULL;
    authc_response_free(res);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *con, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)version;
    server *sv = cls;
    req_state *st = *con_cls;
    (void)url;
    if (!st)
        return MHD_NO;
    if (!st->started) {
        st->started = true;
        return MHD_YES;
    }
    if (*upload_size) {
        /* Count everything; keep at most MAX_BODY, then answer 413. */
        if (!st->too_big) {
            if (st->len + *upload_size > MAX_BODY) {
                st->too_big = true;
                free(st->body);
                st->body = NULL;
            } else {
                char *nb = realloc(st->body, st->len + *upload_size + 1);
                if (!nb)
                    return MHD_NO;
                memcpy(nb + st->len, upload, *upload_size);
                st->body = nb;
                st->len += *upload_size;
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (st->too_big)
        return send_simple(con, 413, "application/json", "\"Request body too large.\"");
    if (!st->uri || strlen(st->uri) > MAX_URI)
        return send_simple(con, 414, "application/json", "\"URI too long.\"");
    const authc *a = sv->rt->auth;
    if (st->res)
        return respond(con, st, st->res);
    if (st->queued)
        return MHD_YES; /* spurious wake-up while the worker runs */
    if (!authc_handles_path(a, st->uri)) {
        if (sv->static_dir)
            return serve_static(sv, con, method, st->uri);
        return send_simple(con, 404, "text/plain", "Not found\n");
    }
    hdr_acc hs = {.n = 0};
    MHD_get_connection_values(con, MHD_HEADER_KIND, collect_header, &hs);
    if (hs.overflow)
        return send_simple(con, 431, "application/json", "\"Too many headers.\"");
    client_addr(con, st->addr, sizeof st->addr);
    st->method = method;
    if (authc_may_block(a, method, st->uri)) {
        /* Header values live as long as the request; copy the array only. */
        st->hdrs = malloc(hs.n * sizeof *st->hdrs + 1);
        if (!st->hdrs)
            return send_simple(con, 503, "application/json", "\"Busy.\"");
        memcpy(st->hdrs, hs.h, hs.n * sizeof *st->hdrs);
        st->nhdrs = hs.n;
        st->con = con;
        /* Only session and sign-out block on the database alone. */
        size_t pl = strcspn(st->uri, "?");
        bool db = (pl >= 8 && !memcmp(st->uri + pl - 8, "/session", 8)) ||
                  (pl >= 8 && !memcmp(st->uri + pl - 8, "/signout", 8));
        wpool *wp = db ? &sv->db : &sv->net;
        pthread_mutex_lock(&wp->mu);
        bool full = wp->queued >= QUEUE_MAX;
        if (!full) {
            st->queued = true;
            st->next = NULL;
            if (wp->tail)
                wp->tail->next = st;
            else
                wp->head = st;
            wp->tail = st;
            wp->queued++;
            MHD_suspend_connection(con);
            pthread_cond_signal(&wp->cv);
        }
        pthread_mutex_unlock(&wp->mu);
        if (full)
            return send_simple(con, 503, "application/json", "\"Server busy, try again.\"");
        return MHD_YES;
    }
    authc_request req = {
        .method = method, .url = st->uri, .scheme = "http", .headers = hs.h,
        .nheaders = hs.n, .body = st->body, .body_len = st->len, .client_addr = st->addr,
    };
    authc_response *res = NULL;
    authc_handle(a, &req, &res);
    return respond(con, st, res);
}

static void *worker_main(void *arg)
{
    wpool *wp = arg;
    const server *sv = wp->sv;
    for (;;) {
        pthread_mutex_lock(&wp->mu);
        while (!wp->head && !wp->stopping)
            pthread_cond_wait(&wp->cv, &wp->mu);
        if (!wp->head) {
            pthread_mutex_unlock(&wp->mu);
            return NULL;
        }
        req_state *st = wp->head;
        wp->head = st->next;
        if (!wp->head)
            wp->tail = NULL;
        wp->queued--;
        pthread_mutex_unlock(&wp->mu);
        authc_request req = {
            .method = st->method, .url = st->uri, .scheme = "http", .headers = st->hdrs,
            .nheaders = st->nhdrs, .body = st->body, .body_len = st->len, .client_addr = st->addr,
        };
        authc_response *res = NULL;
        authc_handle(sv->rt->auth, &req, &res);
        st->res = res;
        MHD_resume_connection(st->con);
    }
}

static void pool_start(wpool *wp, const server *sv, size_t n)
{
    pthread_mutex_init(&wp->mu, NULL);
    pthread_cond_init(&wp->cv, NULL);
    wp->sv = sv;
    for (; wp->n < n; wp->n++)
        if (pthread_create(&wp->threads[wp->n], NULL, worker_main, wp))
            break;
}

/* Lets queued work finish, then joins the workers. */
static void pool_stop(wpool *wp)
{
    pthread_mutex_lock(&wp->mu);
    wp->stopping = true;
    pthread_cond_broadcast(&wp->cv);
    pthread_mutex_unlock(&wp->mu);
    for (size_t i = 0; i < wp->n; i++)
        pthread_join(wp->threads[i], NULL);
}

static bool parse_listen(const char *listen, struct sockaddr_in *sa, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof host) {
        snprintf(err, errlen, "--listen must be HOST:PORT, e.g. 127.0.0.1:3000");
        return false;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535) {
        snprintf(err, errlen, "--listen: bad port in \"%s\"", listen);
        return false;
    }
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (!strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        snprintf(err, errlen, "--listen: \"%.64s\" is not an IPv4 address", host);
        return false;
    }
    return true;
}

int serve_run(const runtime *rt, const char *listen, const char *static_dir, size_t conn_memory)
{
    static server sv; /* workers outlive nothing: joined before return */
    memset(&sv, 0, sizeof sv);
    sv.rt = rt;
    sv.static_dir = static_dir;
    if (static_dir && !realpath(static_dir, sv.static_real)) {
        fprintf(stderr, "authc: --static %s: %s\n", static_dir, strerror(errno));
        return 1;
    }
    struct sockaddr_in sa;
    char err[256];
    if (!parse_listen(listen, &sa, err, sizeof err)) {
        fprintf(stderr, "authc: %s\n", err);
        return 1;
    }
    /* One event thread per core we may run on (taskset/cgroups count). */
    cpu_set_t cs;
    long ncpu = sched_getaffinity(0, sizeof cs, &cs) == 0 ? CPU_COUNT(&cs) : sysconf(_SC_NPROCESSORS_ONLN);
    /* At least two: libmicrohttpd without a thread pool (size 1) stalls
     * most connections beyond a few hundred in this epoll mode. */
    unsigned threads = ncpu > 2 ? (unsigned)ncpu : 2;
    /* Signals are taken by sigwait below, so block them in every thread. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME,
        0, NULL, NULL, handler, &sv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_URI_LOG_CALLBACK, uri_logger, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, conn_memory,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)20000,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "authc: cannot listen on %s: %s (is the port in use?)\n", listen, strerror(errno));
        return 1;
    }
    pool_start(&sv.net, &sv, NET_WORKERS);
    pool_start(&sv.db, &sv, DB_WORKERS);
    char msg[512];
    snprintf(msg, sizeof msg, "authc %s listening on http://%s%s (%u threads)%s%s", AUTHC_VERSION,
             listen, authc_base_path(rt->auth), threads, static_dir ? ", static files from " : "",
             static_dir ? static_dir : "");
    prog_log(NULL, "info", msg);
    int sig = 0;
    sigwait(&set, &sig);
    snprintf(msg, sizeof msg, "received %s, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    prog_log(NULL, "info", msg);
    pool_stop(&sv.net);
    pool_stop(&sv.db);
    MHD_stop_daemon(d);
    return 0;
}
