/*
 * env_reaper: frees big process-independent environments off the
 * schedulers.
 *
 * A parser closed, reset or dropped in the middle of a 10 MB stanza holds
 * about 100 MB of terms in its keep environment, in tens of thousands of
 * heap fragments: enif_free_env takes about 10 ms there (measured), ten
 * times what a NIF call may hold a scheduler. Such an environment is
 * handed to one thread per loaded library that frees it in the background;
 * the call returns at once. Small environments are freed in place: a
 * queue node costs more than their free.
 *
 * The reaper holds no per-connection state: only a queue of environments
 * nobody references any more.
 */
#ifndef STANZA_ENV_REAPER_H
#define STANZA_ENV_REAPER_H

#include <erl_nif.h>

typedef struct env_reaper env_reaper;

/* Starts the thread. NULL when out of memory or threads: the caller then
 * frees in place (env_reaper_give accepts NULL). */
env_reaper *env_reaper_start(void);

/* Frees env (a process-independent environment that nothing references)
 * on the reaper's thread; in place when r is NULL or no queue node can be
 * allocated. */
void env_reaper_give(env_reaper *r, ErlNifEnv *env);

/* How many environments were handed over so far (for tests). */
unsigned long env_reaper_given(env_reaper *r);

/* Frees whatever is still queued, stops and joins the thread. */
void env_reaper_stop(env_reaper *r);

#endif
