/* serve_int.h — what the parts of `authc serve` share: the server, one
 * event loop per CPU, tracked connections, worker pools, TLS, static files. */
#ifndef AUTHC_SRC_SERVE_INT_H
#define AUTHC_SRC_SERVE_INT_H

#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <h2o.h>
#include <openssl/ssl.h>

#include "serve.h"

#define SERVE_MAX_BODY (64 * 1024)     /* request body; above: 413 */
#define SERVE_MAX_HEAD (64 * 1024)     /* request line + headers; above: 431 */
#define SERVE_MAX_TARGET 8192          /* request target; above: 414 */
#define SERVE_SHUTDOWN_GRACE_MS 10000  /* in-flight requests get this long on SIGTERM */

typedef struct serve_server serve_server;
typedef struct serve_loop serve_loop;

/* A control message to one loop: stop, or a new TLS context. */
typedef struct serve_ctl {
    h2o_multithread_message_t msg;
    SSL_CTX *ssl;      /* NULL: stop */
} serve_ctl;

/* One accepted connection, owned by its loop; freed when h2o closes the
 * socket (socket on_close). */
typedef struct serve_conn {
    h2o_linklist_t link;        /* in serve_loop.conns */
    serve_loop *loop;
    h2o_socket_t *sock;
    uint64_t first_byte_at;     /* ms: a request began arriving (0: idle) */
    uint64_t head_done_at;      /* ms: its headers were complete (0: not yet) */
    bool busy;                  /* a request is being answered */
    bool cut;                   /* already shut down by the sweep */
    unsigned char ipkey[16];    /* per-address cap key (IPv4-mapped or IPv6 /64) */
    char addr[46];              /* peer address for logs and rate limits */
} serve_conn;

/* A request handed to a worker: everything it needs is copied into blob,
 * so the worker never touches loop memory. Owned by the pool while queued,
 * by the worker while running, then by the owning loop. */
typedef struct serve_job {
    h2o_multithread_message_t msg;   /* the answer's way back to the loop */
    struct serve_job *next;          /* pool queue */
    serve_loop *loop;
    h2o_req_t *req;                  /* NULL once the request is gone (loop thread only) */
    struct serve_reqref *ref;        /* lives in req's pool; cleared with it */
    authc_request areq;              /* points into blob */
    authc_response *res;             /* the worker's answer */
    char blob[];
} serve_job;

/* Lives in a request's pool: its dispose callback tells the connection and
 * a pending job that the request is gone, and frees the library's answer. */
typedef struct serve_reqref {
    serve_conn *conn;
    serve_job *job;
    authc_response *res;        /* the answer being sent (owned); NULL: none */
    /* For the request's log line and metrics (serve_obs.c); strings live
     * in the request's pool, or in res (action, provider, user_id,
     * client_ip), both until the dispose callback is done. */
    h2o_req_t *req;
    uint64_t t0_ns;
    const char *request_id, *method, *path, *action, *provider, *user_id, *client_ip;
} serve_reqref;

typedef struct serve_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    serve_job *head, *tail;
    size_t queued, max_queue;
    size_t idle;                /* workers waiting for a job */
    bool stopping;
    pthread_t *threads;
    size_t n;
    const authc *auth;
    const char *name;
} serve_pool;

struct serve_loop {
    h2o_context_t ctx;
    h2o_accept_ctx_t accept;
    serve_server *sv;
    pthread_t tid;
    int listen_fd;
    h2o_socket_t *listener;
    h2o_multithread_receiver_t answers;   /* finished jobs */
    /* Jobs of this loop iteration not yet handed to their pool, by
     * authc_pool (serve__flush_jobs). */
    serve_job *pend_head[4], *pend_tail[4];
    size_t npend[4];
    h2o_multithread_receiver_t control;   /* stop, TLS reload */
    h2o_linklist_t conns;
    size_t nconns;
    h2o_timeout_t tick;
    h2o_timeout_entry_t tick_entry;
    bool stopping;
    bool clean;                 /* stopped with no connection left: disposable */
    uint64_t stop_deadline;
    h2o_globalconf_t *config;
    serve_ctl stop_msg;         /* sent once, on shutdown (never allocated) */
    /* The loop thread makes and destroys its own h2o context (see
     * loop_main); these order that against the main thread. */
    sem_t ready;                /* loop → main: the context exists */
    sem_t done;                 /* loop → main: no longer serving */
    sem_t release;              /* main → loop: the workers are gone, dispose */
};


struct serve_server {
    const runtime *rt;
    serve_opts o;
    char static_real[PATH_MAX];
    h2o_globalconf_t config;
    serve_loop *loops;
    size_t nloops;
    serve_pool pools[4];              /* by authc_pool; [INLINE] unused */
    atomic_size_t nconns;
    size_t max_conns;
    struct serve_ipcap *ipcap;        /* NULL: no per-address cap */
    /* AUTHC_METRICS_LISTEN: its own loop and handler (serve_obs.c). */
    h2o_globalconf_t mconfig;
    serve_loop *mloop;                /* NULL: off */
    atomic_bool draining;             /* a graceful shutdown began: /readyz 503 */
};

/* serve_req.c: the h2o handler for every request. */
int serve__on_req(h2o_handler_t *self, h2o_req_t *req);
/* Adds a response header as h2o_add_header_by_str(..., 0, NULL, ...) does,
 * without allocating: name (spelled as it goes on the wire) must live as
 * long as the request, value too. */
void serve__add_header(h2o_req_t *req, h2o_iovec_t *name, const char *value, size_t len);
/* Sends a library answer; res then belongs to ref (freed with the request). */
void serve__respond(h2o_req_t *req, serve_reqref *ref, authc_response *res);
/* Receiver callback: answers of finished jobs on the owning loop. */
void serve__on_answers(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages);
/* Hands the jobs this loop collected to their pools (see dispatch in
 * serve_req.c); called after every loop iteration and on shutdown. */
void serve__flush_jobs(serve_loop *l);

/* serve_pool.c: worker pools. */
bool serve__pool_start(serve_pool *p, const char *name, const authc *a, size_t threads, size_t max_queue);
/* Queues the n jobs of the list head (linked by next) with one lock and
 * wakes as many idle workers as jobs were taken. Returns the jobs that did
 * not fit (the queue is full or the pool stopping; the caller answers
 * them 503), NULL when all were taken. */
serve_job *serve__pool_push_list(serve_pool *p, serve_job *head, size_t n);
/* Stops taking work, joins the workers, frees jobs never started. */
void serve__pool_stop(serve_pool *p);

/* serve_static.c: a file under the static root (path is origin-form). */
void serve__static(serve_server *sv, h2o_req_t *req, const char *path, size_t len);

/* serve_tls.c: a server TLS context (TLS 1.2+, small idle buffers) from
 * PEM files; NULL with a message in err. Caller owns the reference. */
SSL_CTX *serve__tls_load(const char *cert, const char *key, char *err, size_t errlen);

/* serve_conn.c: connection accounting and deadlines. */
uint64_t serve__now_ms(void);
void serve__on_accept(h2o_socket_t *listener, const char *err);
void serve__tick(h2o_timeout_entry_t *entry);
/* Applies the deadlines (and on shutdown closes idle connections) now. */
void serve__sweep(serve_loop *l);
/* Shuts a connection's socket so h2o closes it on its next read. */
void serve__cut(serve_conn *c);
/* The tracked connection of a request. */
serve_conn *serve__conn_of(h2o_req_t *req);
bool serve__ipcap_init(serve_server *sv);
void serve__ipcap_free(serve_server *sv);

/* serve_obs.c: per-request logs (AUTHC_LOG_FORMAT), X-Request-Id and
 * metrics; the metrics listener's handler. */
/* At a request's start: request id (echoed), timer, in-flight gauge. */
void serve__obs_start(h2o_req_t *req, serve_reqref *ref, const serve_conn *c);
/* A library answer (ref->res, which outlives serve__obs_done): notes what
 * the log line needs, logs its auth event. */
void serve__obs_answer(serve_reqref *ref, const authc_response *res);
/* The request is over (from its pool's dispose): metrics and log line. */
void serve__obs_done(serve_reqref *ref);
/* The handler of /metrics, /livez and /readyz. */
int serve__on_metrics_req(h2o_handler_t *self, h2o_req_t *req);

/* Minimal error answers (plain JSON string bodies, as before). */
void serve__send_error(h2o_req_t *req, int status, const char *body, bool close);

#endif
