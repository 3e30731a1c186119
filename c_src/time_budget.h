/*
 * time_budget: how long one call of a front-end may hold its scheduler,
 * and what it tells the scheduler about the time it used.
 *
 * A NIF or a driver callback that parses or serializes a big input works
 * in slices. After each one it reads the clock and reports the share of a
 * whole timeslice it used since its last report (enif_consume_timeslice,
 * erl_drv_consume_timeslice); it gives the scheduler back (yields) when
 * the scheduler says the timeslice is spent or when the budget, the
 * wall-clock time counted as a whole timeslice, is used up.
 *
 * Pure arithmetic over nanoseconds: the front-end reads its own clock and
 * passes its own report function, so this file needs no BEAM header.
 */
#ifndef STANZA_TIME_BUDGET_H
#define STANZA_TIME_BUDGET_H

/* Reports percent (1..100) more of a timeslice used; non-zero when the
 * timeslice is spent, as enif_consume_timeslice answers. */
typedef int (*time_budget_report)(void *ctx, int percent);

typedef struct time_budget {
    long long budget_ns;  /* counted as one whole timeslice  */
    long long started_ns; /* when the call began              */
    int reported;         /* percent reported so far, 0..100 */
} time_budget;

void time_budget_start(time_budget *t, long long budget_ns, long long now_ns);

/*
 * Reports the time used since the start (what was not reported yet) and
 * returns non-zero when the call should yield: the scheduler's timeslice
 * is spent, or budget_ns has passed.
 */
int time_budget_check(time_budget *t, long long now_ns,
                      time_budget_report report, void *ctx);

/*
 * The percentage of a timeslice to charge a call that never yields for
 * used_ns of work: rounded up, at least 1 (so that a loop of short calls
 * is still preempted after about budget_ns of them), at most 100.
 */
int time_budget_charge(long long used_ns, long long budget_ns);

#endif
