/* serve_pool.c — worker pools of `authc serve`: requests that may wait (a
 * provider, SMTP, the database, argon2) run here; answers go back to the
 * loop that owns the request through h2o's multithread receivers. */
#include <stdlib.h>
#include <string.h>

#include "serve_int.h"

static void *worker_main(void *arg)
{
    serve_pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->head && !p->stopping) {
            p->idle++;
            pthread_cond_wait(&p->cv, &p->mu);
            p->idle--;
        }
        if (p->stopping) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        serve_job *j = p->head;
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->mu);
        authc_handle(p->auth, &j->areq, &j->res);
        h2o_multithread_send_message(&j->loop->answers, &j->msg);
    }
}

bool serve__pool_start(serve_pool *p, const char *name, const authc *a, size_t threads, size_t max_queue)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->auth = a;
    p->name = name;
    p->max_queue = max_queue;
    p->threads = calloc(threads, sizeof *p->threads);
    if (!p->threads)
        return false;
    for (; p->n < threads; p->n++)
        if (pthread_create(&p->threads[p->n], NULL, worker_main, p))
            break;
    return p->n > 0;
}

serve_job *serve__pool_push_list(serve_pool *p, serve_job *head, size_t n)
{
    pthread_mutex_lock(&p->mu);
    size_t room = p->stopping || p->queued >= p->max_queue ? 0 : p->max_queue - p->queued;
    size_t take = n < room ? n : room;
    serve_job *rest = head;
    if (take) {
        serve_job *last = head;
        for (size_t i = 1; i < take; i++)
            last = last->next;
        rest = last->next;
        last->next = NULL;
        if (p->tail)
            p->tail->next = head;
        else
            p->head = head;
        p->tail = last;
        p->queued += take;
        /* One wake per job at most: a worker already awake takes the
         * next job without one, and waking more only costs switches. */
        for (size_t i = 0; i < take && i < p->idle; i++)
            pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return rest;
}

void serve__pool_stop(serve_pool *p)
{
    if (!p->threads)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    /* The loops have stopped: jobs never started have nobody to answer. */
    for (serve_job *j = p->head, *nx; j; j = nx) {
        nx = j->next;
        free(j);
    }
    p->head = p->tail = NULL;
    free(p->threads);
    p->threads = NULL;
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
}
