/* progress — what the runs of `rql train` are doing, while they do it.
 *
 * On a terminal: a block of lines redrawn in place, one per active run
 * (episodes, recent success rate, epsilon, steps/s) and an overall line with
 * the runs done and the ETA. Elsewhere (a pipe, a log file, CI): one plain
 * line per active run every interval, and one line whenever a run ends.
 *
 * Run threads call progress_update with their own row as often as they like;
 * the update is cheap and thread-safe, and printing is rate-limited inside.
 */
#ifndef RQL_PROGRESS_H
#define RQL_PROGRESS_H

#include <stdio.h>

typedef enum { PROG_PENDING, PROG_RUNNING, PROG_DONE, PROG_SKIPPED, PROG_STOPPED, PROG_FAILED } progress_state;

typedef struct {
    progress_state state;
    long episodes, env_steps;
    double frac;            /* of the budget done, 0..1 */
    double success;         /* success rate of the last episodes (up to 100) */
    double epsilon;
    double steps_per_s;
    double eval_success;    /* of the last greedy evaluation, NaN before one */
} progress_row;

typedef struct progress progress;

/* names[i]: "label/seed" of run i (copied). tty: redraw in place. */
progress *progress_alloc(int nruns, const char *const *names, FILE *out, int tty, double interval_s);
void progress_free(progress *p);
void progress_update(progress *p, int run, const progress_row *row);
/* Final redraw / summary line; call once all runs have returned. */
void progress_finish(progress *p);

#endif
