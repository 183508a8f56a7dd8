/* idle.c — opens N keep-alive connections to a loopback HTTP server, makes
 * one request on each, then holds them all idle so run.sh can read the
 * server's memory. Part of `make bench`; not built by CMake.
 *
 * Usage: idle PORT COUNT PATH [HOLD_SECONDS]   (hold default 60, max 600)
 * Prints "ready open=N failed=F closed=C" once every connection has had
 * its answer (or failed, or 60 s passed), then holds until HOLD_SECONDS,
 * SIGTERM/SIGINT or EOF on stdin, and prints "done closed=C" (connections
 * the server closed while held). Needs `ulimit -n` above COUNT. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 60000
#define INFLIGHT 256          /* connections being set up at once */
#define HDR_MAX 8192          /* response header bytes we look at */
#define SETUP_LIMIT_S 60

enum st { ST_CONNECTING, ST_SENT, ST_DONE, ST_DEAD };

typedef struct conn {
    int fd;
    enum st st;
    char *hdr;                /* only while the answer is being read */
    size_t hl;
    long body_left;           /* -1 until the header end is seen */
} conn;

static volatile sig_atomic_t g_stop;

static void on_sig(int s)
{
    (void)s;
    g_stop = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Content-Length of a header block (case-insensitive), 0 when absent. */
static long content_length(const char *h)
{
    for (const char *p = h; (p = strchr(p, '\n')); p++)
        if (!strncasecmp(p + 1, "content-length:", 15))
            return strtol(p + 16, NULL, 10);
    return 0;
}

/* Everything the loop shares. */
typedef struct holder {
    conn *cs;
    long count, opened, inflight, done, failed, closed;
    int ep;
    struct sockaddr_in sa;
    char req[1200];
    int rl;
} holder;

/* Starts the next connection (non-blocking connect, watched for EPOLLOUT). */
static void open_next(holder *h)
{
    conn *c = &h->cs[h->opened];
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    h->opened++;
    if (c->fd < 0) {
        c->st = ST_DEAD;
        h->failed++;
        if (errno == EMFILE || errno == ENFILE) {
            fprintf(stderr, "idle: out of file descriptors after %ld (raise ulimit -n)\n", h->opened);
            h->count = h->opened;
        }
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&h->sa, sizeof h->sa) < 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->st = ST_DEAD;
        h->failed++;
        return;
    }
    c->st = ST_CONNECTING;
    c->body_left = -1;
    struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = (uint64_t)(h->opened - 1)};
    epoll_ctl(h->ep, EPOLL_CTL_ADD, c->fd, &ev);
    h->inflight++;
}

static void drop(holder *h, conn *c)
{
    epoll_ctl(h->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->hdr);
    c->hdr = NULL;
    if (c->st == ST_CONNECTING || c->st == ST_SENT) {
        h->inflight--;
        h->failed++;
    }
    c->st = ST_DEAD;
}

/* Reads what arrived on connection `idx`: its answer, or the server closing it. */
static void on_event(holder *h, uint64_t idx)
{
    conn *c = &h->cs[idx];
    if (c->st == ST_CONNECTING) {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err || send(c->fd, h->req, (size_t)h->rl, MSG_NOSIGNAL) != h->rl || !(c->hdr = malloc(HDR_MAX + 1))) {
            drop(h, c);
            return;
        }
        c->st = ST_SENT;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = idx};
        epoll_ctl(h->ep, EPOLL_CTL_MOD, c->fd, &ev);
        return;
    }
    char buf[16384];
    ssize_t r = read(c->fd, buf, sizeof buf);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        if (c->st == ST_DONE) {
            h->closed++;
            c->st = ST_DEAD; /* not in flight: drop counts no failure */
        }
        drop(h, c);
        return;
    }
    if (c->st != ST_SENT)
        return; /* unexpected bytes on an idle connection: ignore */
    size_t off = 0;
    if (c->body_left < 0) {
        size_t take = (size_t)r < HDR_MAX - c->hl ? (size_t)r : HDR_MAX - c->hl;
        memcpy(c->hdr + c->hl, buf, take);
        c->hl += take;
        c->hdr[c->hl] = '\0';
        char *end = strstr(c->hdr, "\r\n\r\n");
        if (!end) {
            if (c->hl == HDR_MAX)
                drop(h, c);
            return;
        }
        if (strncmp(c->hdr, "HTTP/1.1 200", 12) != 0) {
            drop(h, c);
            return;
        }
        size_t hlen = (size_t)(end + 4 - c->hdr);
        c->body_left = content_length(c->hdr);
        off = hlen - (c->hl - take); /* bytes of buf that were header */
    }
    c->body_left -= (long)((size_t)r - off);
    if (c->body_left <= 0) {
        c->st = ST_DONE;
        free(c->hdr);
        c->hdr = NULL;
        h->inflight--;
        h->done++;
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: idle PORT COUNT PATH [HOLD_SECONDS]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    holder h = {.count = atol(argv[2])};
    const char *path = argv[3];
    double hold = argc > 4 ? atof(argv[4]) : 60;
    if (port <= 0 || port > 65535 || h.count <= 0 || h.count > MAX_CONNS || strlen(path) > 1024 ||
        !(hold > 0 && hold <= 600)) {
        fprintf(stderr, "idle: bad arguments\n");
        return 2;
    }
    signal(SIGTERM, on_sig);
    signal(SIGINT, on_sig);
    signal(SIGPIPE, SIG_IGN);
    h.rl = snprintf(h.req, sizeof h.req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: */*\r\n\r\n", path, port);
    h.sa = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &h.sa.sin_addr);
    h.cs = calloc((size_t)h.count, sizeof *h.cs);
    h.ep = epoll_create1(EPOLL_CLOEXEC);
    if (!h.cs || h.ep < 0) {
        fprintf(stderr, "idle: setup failed\n");
        return 2;
    }
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    struct epoll_event sev = {.events = EPOLLIN, .data.u64 = (uint64_t)-1};
    bool watch_stdin = epoll_ctl(h.ep, EPOLL_CTL_ADD, 0, &sev) == 0;

    double t0 = now_s();
    bool ready = false;
    struct epoll_event evs[512];
    while (!g_stop) {
        /* Open more while the in-flight window has room. */
        while (!ready && h.opened < h.count && h.inflight < INFLIGHT)
            open_next(&h);
        if (!ready && (h.done + h.failed >= h.count || now_s() - t0 > SETUP_LIMIT_S)) {
            ready = true;
            printf("ready open=%ld failed=%ld closed=%ld setup_s=%.2f\n", h.done,
                   h.failed + (h.count - h.done - h.failed), h.closed, now_s() - t0);
            fflush(stdout);
            t0 = now_s();
        }
        if (ready && now_s() - t0 > hold)
            break;
        int n = epoll_wait(h.ep, evs, 512, 200);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 != (uint64_t)-1) {
                on_event(&h, evs[i].data.u64);
                continue;
            }
            char b[256];
            if (read(0, b, sizeof b) == 0) {
                if (ready)
                    g_stop = 1;
                else if (watch_stdin) /* EOF early: stop watching, finish setup */
                    epoll_ctl(h.ep, EPOLL_CTL_DEL, 0, NULL), watch_stdin = false;
            }
        }
    }
    printf("done closed=%ld\n", h.closed);
    fflush(stdout);
    for (long i = 0; i < h.opened; i++)
        if (h.cs[i].st != ST_DEAD)
            close(h.cs[i].fd);
    free(h.cs);
    return 0;
}
