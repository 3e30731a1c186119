/*
 * time_budget: see time_budget.h.
 */
#include "time_budget.h"

void time_budget_start(time_budget *t, long long budget_ns, long long now_ns)
{
    t->budget_ns = budget_ns;
    t->started_ns = now_ns;
    t->reported = 0;
}

int time_budget_check(time_budget *t, long long now_ns,
                      time_budget_report report, void *ctx)
{
    long long used = now_ns - t->started_ns;
    long long share = used * 100 / t->budget_ns;
    int percent = share > 100 ? 100 : (int)share;
    int spent = 0;
    if (percent > t->reported) {
        spent = report(ctx, percent - t->reported);
        t->reported = percent;
    }
    return spent || used >= t->budget_ns;
}

int time_budget_charge(long long used_ns, long long budget_ns)
{
    long long percent = (used_ns * 100 + budget_ns - 1) / budget_ns;
    if (percent < 1)
        percent = 1;
    if (percent > 100)
        percent = 100;
    return (int)percent;
}
