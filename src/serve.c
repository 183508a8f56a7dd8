/* serve.c — `authc serve`: h2o's evloop in front of libauthc, one event
 * loop per CPU with its own SO_REUSEPORT listener, worker pools for what
 * may wait, TLS reload on SIGHUP, graceful shutdown on SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>


#include "serve_int.h"

#define FD_RESERVE 256 /* descriptors kept for workers, databases, files */

/* A listen address as authc_parse_listen_addr gives it. */
typedef struct listen_addr {
    struct sockaddr_storage ss;
    unsigned len;
} listen_addr;

/* A listening socket; reuseport lets every loop have its own. An IPv6
 * address listens on IPv6 only, as nginx's default ipv6only=on: [::]
 * does not also take IPv4 connections. */
static int open_listener(listen_addr *a, bool reuseport)
{
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) ||
        (a->ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on)) ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on)) ||
        bind(fd, (struct sockaddr *)&a->ss, a->len) || listen(fd, 1024)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Binds one listener per loop. A first bind without SO_REUSEPORT tells a
 * port someone else holds (even with SO_REUSEPORT) from a free one. */
static bool open_listeners(serve_server *sv, listen_addr *sa)
{
    int probe = open_listener(sa, false);
    if (probe < 0)
        return false;
    socklen_t sl = sa->len;
    getsockname(probe, (struct sockaddr *)&sa->ss, &sl); /* port 0: the one we got */
    close(probe);
    for (size_t i = 0; i < sv->nloops; i++)
        if ((sv->loops[i].listen_fd = open_listener(sa, true)) < 0)
            return false;
    return true;
}

static void begin_stop(serve_loop *l)
{
    if (l->stopping)
        return;
    l->stopping = true;
    l->stop_deadline = serve__now_ms() + SERVE_SHUTDOWN_GRACE_MS;
    l->ctx.shutdown_requested = 1; /* answers now say Connection: close */
    if (l->listener) {
        h2o_socket_read_stop(l->listener);
        h2o_socket_close(l->listener);
        l->listener = NULL;
    }
    serve__sweep(l); /* idle connections go now */
}

static void on_control(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages)
{
    serve_loop *l = H2O_STRUCT_FROM_MEMBER(serve_loop, control, rx);
    while (!h2o_linklist_is_empty(messages)) {
        serve_ctl *m = H2O_STRUCT_FROM_MEMBER(serve_ctl, msg.link, messages->next);
        h2o_linklist_unlink(&m->msg.link);
        if (m->ssl) {
            SSL_CTX *old = l->accept.ssl_ctx;
            l->accept.ssl_ctx = m->ssl; /* new handshakes; live ones keep theirs */
            SSL_CTX_free(old);
        } else {
            begin_stop(l);
        }
        if (m != &l->stop_msg)
            free(m);
    }
}

/* A new TLS context for one loop (which takes the reference). */
static bool send_control(serve_loop *l, SSL_CTX *ssl)
{
    serve_ctl *m = calloc(1, sizeof *m);
    if (!m)
        return false;
    m->ssl = ssl;
    h2o_multithread_send_message(&l->control, &m->msg);
    return true;
}

static void setup_loop(serve_loop *l);
static void loop_dispose(serve_loop *l);

/* A loop's thread. h2o 2.2 ties a socket's buffers to the recycler of the
 * thread that created the socket (a per-thread free list without locks), so
 * the context — whose answer queue is a socket read on every wake-up — is
 * made and destroyed here, never on the main thread: made there, every loop
 * shared the main thread's recycler and two loops could take the same
 * buffer (an ASan use-after-free under load). */
static void *loop_main(void *arg)
{
    serve_loop *l = arg;
    setup_loop(l);
    sem_post(&l->ready);
    h2o_evloop_t *loop = l->ctx.loop;
    l->listener = h2o_evloop_socket_create(loop, l->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    l->listen_fd = -1; /* h2o's now: closed with the listener */
    l->listener->data = l;
    h2o_socket_read_start(l->listener, serve__on_accept);
    h2o_timeout_init(loop, &l->tick, 1000);
    l->tick_entry.cb = serve__tick;
    h2o_timeout_link(loop, &l->tick, &l->tick_entry);
    /* On stop: until the last connection closed, or the grace ran out. */
    while (!l->stopping || (l->nconns && serve__now_ms() < l->stop_deadline)) {
        h2o_evloop_run(loop, 1000);
        serve__flush_jobs(l);
    }
    h2o_timeout_unlink(&l->tick_entry);
    h2o_timeout_dispose(loop, &l->tick);
    h2o_context_t *c = &l->ctx;
    h2o_timeout_t *ts[] = {&c->zero_timeout, &c->one_sec_timeout, &c->hundred_ms_timeout, &c->handshake_timeout,
                           &c->http1.req_timeout, &c->http2.idle_timeout, &c->http2.graceful_shutdown_timeout,
                           &c->proxy.io_timeout};
    l->clean = l->nconns == 0;
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++)
        l->clean = l->clean && h2o_linklist_is_empty(&ts[i]->_entries);
    if (l->nconns) {
        char msg[160];
        snprintf(msg, sizeof msg, "shutdown: %zu connection(s) still open after %d s, closed unanswered", l->nconns,
                 SERVE_SHUTDOWN_GRACE_MS / 1000);
        prog_log(NULL, "warn", msg);
    }
    sem_post(&l->done);
    sem_wait(&l->release); /* workers answer into this loop's queue until then */
    loop_dispose(l);
    return NULL;
}

/* Frees a stopped loop once its workers are gone: answers that came too
 * late, control messages, the h2o context and the event loop. A loop that
 * still had connections is left as it is (the process is exiting). Runs on
 * the loop's own thread. */
static void loop_dispose(serve_loop *l)
{
    if (!l->clean)
        return;
    while (!h2o_linklist_is_empty(&l->answers._messages)) {
        serve_job *j = H2O_STRUCT_FROM_MEMBER(serve_job, msg.link, l->answers._messages.next);
        h2o_linklist_unlink(&j->msg.link);
        authc_response_free(j->res);
        free(j);
    }
    while (!h2o_linklist_is_empty(&l->control._messages)) {
        serve_ctl *m = H2O_STRUCT_FROM_MEMBER(serve_ctl, msg.link, l->control._messages.next);
        h2o_linklist_unlink(&m->msg.link);
        SSL_CTX_free(m->ssl);
        if (m != &l->stop_msg)
            free(m);
    }
    h2o_multithread_unregister_receiver(l->ctx.queue, &l->answers);
    h2o_multithread_unregister_receiver(l->ctx.queue, &l->control);
    h2o_evloop_t *loop = l->ctx.loop;
    h2o_multithread_queue_t *queue = l->ctx.queue;
    h2o_context_dispose(&l->ctx);
    h2o_evloop_destroy(loop);
    free(queue); /* h2o 2.2's destroy_queue leaves the evloop queue itself */
    SSL_CTX_free(l->accept.ssl_ctx);
    l->accept.ssl_ctx = NULL;
}

/* On the loop's thread (loop_main). */
static void setup_loop(serve_loop *l)
{
    h2o_context_init(&l->ctx, h2o_evloop_create(), l->config);
    l->accept.ctx = &l->ctx;
    l->accept.hosts = l->config->hosts;
    h2o_linklist_init_anchor(&l->conns);
    h2o_multithread_register_receiver(l->ctx.queue, &l->answers, serve__on_answers);
    h2o_multithread_register_receiver(l->ctx.queue, &l->control, on_control);
}

/* Starts a loop's thread and waits until its context exists (control
 * messages may be sent from then on). False when no thread could start. */
static bool start_loop(serve_server *sv, serve_loop *l, SSL_CTX *ssl, h2o_globalconf_t *config)
{
    l->sv = sv;
    l->config = config;
    l->accept.ssl_ctx = ssl;
    if (ssl)
        SSL_CTX_up_ref(ssl);
    sem_init(&l->ready, 0, 0);
    sem_init(&l->done, 0, 0);
    sem_init(&l->release, 0, 0);
    if (pthread_create(&l->tid, NULL, loop_main, l)) {
        SSL_CTX_free(l->accept.ssl_ctx);
        l->accept.ssl_ctx = NULL;
        return false;
    }
    sem_wait(&l->ready);
    return true;
}

/* Stops started loops: they finish their requests in flight (bounded);
 * then the worker pools of workers_of (when not NULL) stop, and only then
 * do the loops dispose of their contexts and exit. */
static void stop_loops(serve_loop *ls, size_t n, serve_server *workers_of)
{
    for (size_t i = 0; i < n; i++) /* the stop message is the loop's own: it cannot fail */
        h2o_multithread_send_message(&ls[i].control, &ls[i].stop_msg.msg);
    for (size_t i = 0; i < n; i++)
        sem_wait(&ls[i].done);
    if (workers_of)
        for (size_t i = 0; i < 4; i++)
            serve__pool_stop(&workers_of->pools[i]);
    for (size_t i = 0; i < n; i++) {
        sem_post(&ls[i].release);
        pthread_join(ls[i].tid, NULL);
        sem_destroy(&ls[i].ready);
        sem_destroy(&ls[i].done);
        sem_destroy(&ls[i].release);
    }
}

static void setup_config(serve_server *sv, h2o_globalconf_t *config, int (*on_req)(h2o_handler_t *, h2o_req_t *))
{
    h2o_config_init(config);
    config->server_name = h2o_iovec_init("", 0); /* no Server header */
    config->max_request_entity_size = SERVE_MAX_BODY; /* 413 on the Content-Length alone */
    config->http1.req_timeout = (uint64_t)sv->o.idle_timeout * 1000;
    config->http1.upgrade_to_http2 = 0;
    h2o_hostconf_t *host = h2o_config_register_host(config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pc = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *h = h2o_create_handler(pc, sizeof *h);
    h->on_req = on_req;
}

/* AUTHC_METRICS_LISTEN: one more loop, plain HTTP, its own handler; it
 * keeps answering (/readyz 503) while the main loops drain. */
static bool open_metrics(serve_server *sv)
{
    char err[512];
    listen_addr sa;
    if (!sv->o.metrics_listen)
        return true;
    if (!authc_parse_listen_addr(sv->o.metrics_listen, &sa.ss, &sa.len, err, sizeof err)) {
        fprintf(stderr, "authc: AUTHC_METRICS_LISTEN: %s\n", err);
        return false;
    }
    if (!(sv->mloop = calloc(1, sizeof *sv->mloop))) {
        fprintf(stderr, "authc: out of memory\n");
        return false;
    }
    if ((sv->mloop->listen_fd = open_listener(&sa, false)) < 0) {
        fprintf(stderr, "authc: cannot listen on %s (AUTHC_METRICS_LISTEN): %s\n", sv->o.metrics_listen,
                strerror(errno));
        return false;
    }
    return true;
}

/* Raises the descriptor limit to its hard limit and keeps the connection
 * cap below it, so accept() never fails for lack of descriptors. */
static size_t connection_cap(size_t wanted)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return wanted;
    if (rl.rlim_cur != rl.rlim_max) {
        rlim_t want = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;
        struct rlimit up = {want, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl.rlim_cur = want;
    }
    size_t fds = rl.rlim_cur == RLIM_INFINITY ? 1048576 : (size_t)rl.rlim_cur;
    size_t room = fds > 2 * FD_RESERVE ? fds - FD_RESERVE : fds / 2;
    if (wanted > room) {
        char msg[200];
        snprintf(msg, sizeof msg, "AUTHC_MAX_CONNECTIONS %zu is above what %zu descriptors allow: using %zu",
                 wanted, fds, room);
        prog_log(NULL, "warn", msg);
        return room;
    }
    return wanted;
}

static size_t cpu_count(void)
{
    cpu_set_t cs;
    if (sched_getaffinity(0, sizeof cs, &cs) == 0 && CPU_COUNT(&cs) > 0)
        return (size_t)CPU_COUNT(&cs);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

static void reload_tls(serve_server *sv)
{
    char err[512], msg[640];
    if (!sv->o.tls_cert) {
        prog_log(NULL, "info", "SIGHUP: no TLS certificate to reload");
        return;
    }
    SSL_CTX *ssl = serve__tls_load(sv->o.tls_cert, sv->o.tls_key, err, sizeof err);
    if (!ssl) {
        snprintf(msg, sizeof msg, "SIGHUP: keeping the old certificate: %s", err);
        prog_log(NULL, "error", msg);
        return;
    }
    for (size_t i = 0; i < sv->nloops; i++) {
        SSL_CTX_up_ref(ssl); /* each loop drops its own reference */
        if (!send_control(&sv->loops[i], ssl))
            SSL_CTX_free(ssl);
    }
    SSL_CTX_free(ssl);
    prog_log(NULL, "info", "SIGHUP: TLS certificate reloaded");
}

/* Everything that is started, then waits for signals; stops in order:
 * loops (listeners closed, in-flight requests answered), then workers. */
static int run(serve_server *sv, SSL_CTX *ssl, sigset_t *set)
{
    /* Thread counts from the library (authc_pool_threads); argon2 is CPU:
     * a short queue that answers 503 when full. */
    static const struct { authc_pool kind; const char *name; size_t queue; } P[] = {
        {AUTHC_POOL_NET, "net", 4096}, {AUTHC_POOL_DB, "db", 4096}, {AUTHC_POOL_CPU, "cpu", 32},
    };
    for (size_t i = 0; i < sizeof P / sizeof *P; i++)
        if (!serve__pool_start(&sv->pools[P[i].kind], P[i].name, sv->rt->auth,
                               authc_pool_threads(sv->rt->auth, P[i].kind), P[i].queue)) {
            fprintf(stderr, "authc: cannot start the %s worker pool\n", P[i].name);
            for (size_t k = 0; k < 4; k++)
                serve__pool_stop(&sv->pools[k]);
            return 1;
        }
    size_t started = 0;
    while (started < sv->nloops && start_loop(sv, &sv->loops[started], ssl, &sv->config))
        started++;
    bool mstarted = sv->mloop && start_loop(sv, sv->mloop, NULL, &sv->mconfig);
    char msg[600];
    snprintf(msg, sizeof msg, "authc %s listening on %s://%s%s (%zu event loop%s, up to %zu connections)%s%s",
             AUTHC_VERSION, ssl ? "https" : "http", sv->o.listen, authc_base_path(sv->rt->auth), started,
             started == 1 ? "" : "s", sv->max_conns, sv->o.static_dir ? ", static files from " : "",
             sv->o.static_dir ? sv->o.static_dir : "");
    prog_log(NULL, "info", msg);
    if (mstarted) {
        snprintf(msg, sizeof msg, "metrics and health on http://%s (/metrics, /livez, /readyz)", sv->o.metrics_listen);
        prog_log(NULL, "info", msg);
    }
    int sig = started && (mstarted || !sv->mloop) ? 0 : SIGTERM;
    while (!sig || sig == SIGHUP) {
        if (sig == SIGHUP)
            reload_tls(sv);
        sigwait(set, &sig);
    }
    snprintf(msg, sizeof msg, "received %s, finishing requests in flight", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    prog_log(NULL, "info", msg);
    atomic_store(&sv->draining, true); /* /readyz: 503 from now on */
    /* The metrics loop keeps answering (/readyz 503) until the others are
     * done; no worker answers into it. */
    stop_loops(sv->loops, started, sv);
    if (mstarted) {
        stop_loops(sv->mloop, 1, NULL);
        if (sv->mloop->clean)
            h2o_config_dispose(&sv->mconfig);
    }
    bool clean = started == sv->nloops;
    for (size_t i = 0; i < started; i++)
        clean = clean && sv->loops[i].clean;
    if (clean)
        h2o_config_dispose(&sv->config);
    prog_log(NULL, "info", "stopped");
    return started == sv->nloops ? 0 : 1;
}

static void serve_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
}

void serve_block_signals(void)
{
    sigset_t set;
    serve_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int serve_run(const runtime *rt, const serve_opts *o)
{
    serve_server *sv = calloc(1, sizeof *sv);
    if (!sv)
        return 1;
    sv->rt = rt;
    sv->o = *o;
    int rc = 1;
    SSL_CTX *ssl = NULL;
    char err[512];
    listen_addr sa;
    if (o->static_dir && !realpath(o->static_dir, sv->static_real)) {
        fprintf(stderr, "authc: --static %s: %s\n", o->static_dir, strerror(errno));
        goto out;
    }
    if (!authc_parse_listen_addr(o->listen, &sa.ss, &sa.len, err, sizeof err)) {
        fprintf(stderr, "authc: %s\n", err);
        goto out;
    }
    if (o->tls_cert && !(ssl = serve__tls_load(o->tls_cert, o->tls_key, err, sizeof err))) {
        fprintf(stderr, "authc: TLS: %s\n", err);
        goto out;
    }
    sv->max_conns = connection_cap(o->max_connections);
    sv->nloops = cpu_count();
    sv->loops = calloc(sv->nloops, sizeof *sv->loops);
    if (!sv->loops || !serve__ipcap_init(sv)) {
        fprintf(stderr, "authc: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < sv->nloops; i++)
        sv->loops[i].listen_fd = -1;
    if (!open_listeners(sv, &sa)) {
        fprintf(stderr, "authc: cannot listen on %s: %s (is the port in use?)\n", o->listen, strerror(errno));
        goto out;
    }
    if (!open_metrics(sv))
        goto out;
    /* Signals are taken by sigwait in this thread: block them in all. */
    sigset_t set;
    serve_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    setup_config(sv, &sv->config, serve__on_req);
    if (sv->mloop)
        setup_config(sv, &sv->mconfig, serve__on_metrics_req);
    rc = run(sv, ssl, &set);
out:
    if (ssl)
        SSL_CTX_free(ssl);
    if (sv->loops) /* listeners no loop took over */
        for (size_t i = 0; i < sv->nloops; i++)
            if (sv->loops[i].listen_fd >= 0)
                close(sv->loops[i].listen_fd);
    if (sv->mloop && sv->mloop->listen_fd >= 0)
        close(sv->mloop->listen_fd);
    free(sv->mloop);
    serve__ipcap_free(sv);
    free(sv->loops);
    free(sv);
    return rc;
}
