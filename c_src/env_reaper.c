/*
 * env_reaper: see env_reaper.h.
 */
#include "env_reaper.h"

typedef struct reap_node {
    ErlNifEnv *env;
    struct reap_node *next;
} reap_node;

struct env_reaper {
    ErlNifMutex *lock;
    ErlNifCond *wake;
    ErlNifTid thread;
    reap_node *head; /* oldest first */
    reap_node *tail;
    int stopping;
    unsigned long given;
};

/* Takes the whole queue under the lock and frees it outside, so a parser
 * handing over an environment never waits for a free in progress. */
static void *reap_loop(void *arg)
{
    env_reaper *r = arg;
    for (;;) {
        enif_mutex_lock(r->lock);
        while (!r->head && !r->stopping)
            enif_cond_wait(r->wake, r->lock);
        reap_node *batch = r->head;
        int stopping = r->stopping;
        r->head = r->tail = NULL;
        enif_mutex_unlock(r->lock);
        while (batch) {
            reap_node *next = batch->next;
            enif_free_env(batch->env);
            enif_free(batch);
            batch = next;
        }
        if (stopping)
            return NULL;
    }
}

env_reaper *env_reaper_start(void)
{
    env_reaper *r = enif_alloc(sizeof *r);
    if (!r)
        return NULL;
    r->head = r->tail = NULL;
    r->stopping = 0;
    r->given = 0;
    r->lock = enif_mutex_create("stanza_env_reaper");
    r->wake = enif_cond_create("stanza_env_reaper");
    if (r->lock && r->wake &&
        enif_thread_create("stanza_env_reaper", &r->thread, reap_loop, r,
                           NULL) == 0)
        return r;
    if (r->lock)
        enif_mutex_destroy(r->lock);
    if (r->wake)
        enif_cond_destroy(r->wake);
    enif_free(r);
    return NULL;
}

void env_reaper_give(env_reaper *r, ErlNifEnv *env)
{
    reap_node *node = r ? enif_alloc(sizeof *node) : NULL;
    if (!node) {
        enif_free_env(env);
        return;
    }
    node->env = env;
    node->next = NULL;
    enif_mutex_lock(r->lock);
    if (r->tail)
        r->tail->next = node;
    else
        r->head = node;
    r->tail = node;
    r->given++;
    enif_cond_signal(r->wake);
    enif_mutex_unlock(r->lock);
}

unsigned long env_reaper_given(env_reaper *r)
{
    if (!r)
        return 0;
    enif_mutex_lock(r->lock);
    unsigned long n = r->given;
    enif_mutex_unlock(r->lock);
    return n;
}

void env_reaper_stop(env_reaper *r)
{
    if (!r)
        return;
    enif_mutex_lock(r->lock);
    r->stopping = 1;
    enif_cond_signal(r->wake);
    enif_mutex_unlock(r->lock);
    (void)enif_thread_join(r->thread, NULL);
    enif_cond_destroy(r->wake);
    enif_mutex_destroy(r->lock);
    enif_free(r);
}
