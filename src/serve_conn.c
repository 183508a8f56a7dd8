/* serve_conn.c — connections of `authc serve`: accepting under the
 * connection caps, and the per-loop sweep that enforces header and body
 * deadlines and closes idle connections on shutdown. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>


#include "serve_int.h"

uint64_t serve__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- per-address cap: a small chained hash table behind one lock ------- */

#define IPCAP_BUCKETS 4096

typedef struct ipcap_node {
    struct ipcap_node *next;
    unsigned char key[16];
    size_t count;
} ipcap_node;

struct serve_ipcap {
    pthread_mutex_t mu;
    ipcap_node *b[IPCAP_BUCKETS];
};

bool serve__ipcap_init(serve_server *sv)
{
    if (!sv->o.max_per_ip)
        return true;
    sv->ipcap = calloc(1, sizeof *sv->ipcap);
    if (!sv->ipcap)
        return false;
    pthread_mutex_init(&sv->ipcap->mu, NULL);
    return true;
}

void serve__ipcap_free(serve_server *sv)
{
    if (!sv->ipcap)
        return;
    for (size_t i = 0; i < IPCAP_BUCKETS; i++)
        for (ipcap_node *n = sv->ipcap->b[i], *nx; n; n = nx) {
            nx = n->next;
            free(n);
        }
    pthread_mutex_destroy(&sv->ipcap->mu);
    free(sv->ipcap);
    sv->ipcap = NULL;
}

static size_t ipcap_hash(const unsigned char *k)
{
    size_t h = 1469598103934665603ull;
    for (int i = 0; i < 16; i++)
        h = (h ^ k[i]) * 1099511628211ull;
    return h % IPCAP_BUCKETS;
}

/* Adds one connection for key (delta 1) or removes one (-1). Adding fails
 * at the cap or without memory. */
static bool ipcap_add(serve_server *sv, const unsigned char *key, int delta)
{
    struct serve_ipcap *t = sv->ipcap;
    if (!t)
        return true;
    bool ok = true;
    pthread_mutex_lock(&t->mu);
    ipcap_node **pp = &t->b[ipcap_hash(key)];
    while (*pp && memcmp((*pp)->key, key, 16))
        pp = &(*pp)->next;
    if (delta > 0) {
        if (!*pp && (*pp = calloc(1, sizeof **pp)))
            memcpy((*pp)->key, key, 16);
        if (!*pp || (*pp)->count >= sv->o.max_per_ip)
            ok = false;
        else
            (*pp)->count++;
    } else if (*pp && --(*pp)->count == 0) {
        ipcap_node *n = *pp;
        *pp = n->next;
        free(n);
    }
    pthread_mutex_unlock(&t->mu);
    return ok;
}

/* ---- accepting ----------------------------------------------------------- */

/* Peer address as text, and the cap key: IPv4 as is, IPv6 by its /64. */
static void peer_of(int fd, serve_conn *c)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    memset(c->ipkey, 0, sizeof c->ipkey);
    strcpy(c->addr, "-");
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &s4->sin_addr, c->addr, sizeof c->addr);
        memcpy(c->ipkey + 12, &s4->sin_addr, 4);
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, c->addr, sizeof c->addr);
        memcpy(c->ipkey, &s6->sin6_addr, 8);
        c->ipkey[15] = 6;
    }
}

static void on_conn_close(void *data)
{
    serve_conn *c = data;
    serve_loop *l = c->loop;
    h2o_linklist_unlink(&c->link);
    l->nconns--;
    atomic_fetch_sub(&l->sv->nconns, 1);
    ipcap_add(l->sv, c->ipkey, -1);
    free(c);
}

/* Answers 503 on a plain connection over a cap (best effort, never waits)
 * and closes it; a TLS connection is just closed. */
static void refuse(serve_loop *l, h2o_socket_t *sock)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                               "Content-Type: application/json\r\nContent-Length: 26\r\nRetry-After: 1\r\n\r\n"
                               "\"Too many connections.\"\r\n\r\n";
    if (!l->accept.ssl_ctx) {
        ssize_t w = send(h2o_socket_get_fd(sock), busy, sizeof busy - 5, MSG_DONTWAIT | MSG_NOSIGNAL);
        (void)w;
    }
    h2o_socket_close(sock);
}

void serve__on_accept(h2o_socket_t *listener, const char *err)
{
    serve_loop *l = listener->data;
    if (err || l->stopping)
        return;
    /* A few per wake-up, so one loop does not take every connection. */
    for (int i = 0; i < 16; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (!sock)
            return;
        serve_server *sv = l->sv;
        serve_conn *c = calloc(1, sizeof *c);
        if (!c || atomic_fetch_add(&sv->nconns, 1) >= sv->max_conns) {
            if (c)
                atomic_fetch_sub(&sv->nconns, 1);
            free(c);
            refuse(l, sock);
            continue;
        }
        peer_of(h2o_socket_get_fd(sock), c);
        if (!ipcap_add(sv, c->ipkey, 1)) {
            atomic_fetch_sub(&sv->nconns, 1);
            free(c);
            refuse(l, sock);
            continue;
        }
        c->loop = l;
        c->sock = sock;
        h2o_linklist_insert(&l->conns, &c->link);
        l->nconns++;
        sock->on_close.cb = on_conn_close;
        sock->on_close.data = c;
        h2o_accept(&l->accept, sock);
    }
}

serve_conn *serve__conn_of(h2o_req_t *req)
{
    h2o_socket_t *sock = req->conn->callbacks->get_socket ? req->conn->callbacks->get_socket(req->conn) : NULL;
    return sock && sock->on_close.cb == on_conn_close ? sock->on_close.data : NULL;
}

void serve__cut(serve_conn *c)
{
    if (c->cut)
        return;
    c->cut = true;
    shutdown(h2o_socket_get_fd(c->sock), SHUT_RDWR);
}

/* ---- the sweep (once a second per loop) --------------------------------- */

static bool head_complete(const h2o_buffer_t *in)
{
    return memmem(in->bytes, in->size, "\r\n\r\n", 4) || memmem(in->bytes, in->size, "\n\n", 2);
}

/* h2o's own request timer runs from the end of one answer to the end of
 * the next request (the idle timeout). Within it, a request must finish its
 * headers within header_timeout of its first byte, and its body within
 * body_timeout of the headers, so a client trickling bytes is cut off. */
static void sweep_conn(serve_loop *l, serve_conn *c, uint64_t now)
{
    const serve_opts *o = &l->sv->o;
    h2o_buffer_t *in = c->sock->input;
    if (c->busy)
        return;
    if (!in || in->size == 0) {
        c->first_byte_at = c->head_done_at = 0;
        if (l->stopping)
            serve__cut(c); /* idle keep-alive: nothing in flight */
        return;
    }
    if (!c->first_byte_at)
        c->first_byte_at = now;
    if (!c->head_done_at && head_complete(in))
        c->head_done_at = now;
    if (!c->head_done_at) {
        if (in->size > SERVE_MAX_HEAD + 1024 || now - c->first_byte_at >= (uint64_t)o->header_timeout * 1000)
            serve__cut(c);
    } else if (now - c->head_done_at >= (uint64_t)o->body_timeout * 1000) {
        serve__cut(c);
    }
}

void serve__sweep(serve_loop *l)
{
    uint64_t now = serve__now_ms();
    for (h2o_linklist_t *n = l->conns.next; n != &l->conns; n = n->next)
        sweep_conn(l, H2O_STRUCT_FROM_MEMBER(serve_conn, link, n), now);
}

void serve__tick(h2o_timeout_entry_t *entry)
{
    serve_loop *l = H2O_STRUCT_FROM_MEMBER(serve_loop, tick_entry, entry);
    serve__sweep(l);
    h2o_timeout_link(l->ctx.loop, &l->tick, &l->tick_entry);
}
