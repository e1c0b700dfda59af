/* prof — where the wall clock of a training loop goes, for `rql bench
 * train`. A benchmark points rql_prof_on (one per thread) at a rql_prof and
 * the code it runs adds the time since a mark to a slot:
 *
 *     double t = rql_prof_mark();
 *     ... sample ...            rql_prof_lap(RQL_PROF_REPLAY, &t);
 *     ... forward ...           rql_prof_lap(RQL_PROF_FORWARD, &t);
 *
 * With no profile set (every run but the benchmark's) a mark and a lap are
 * one thread-local load and a branch, and no clock is read. The marks sit at
 * the boundaries of whole phases (an act, a vector step, an update's
 * sampling, forward, backward and optimizer step), never in inner loops.
 * The clock is the calling thread's CPU time (on a machine shared with other
 * processes the wall clock also counts the time they hold the core), or the
 * wall clock where the profile says so (work spread over several threads). */
#ifndef RQL_PROF_H
#define RQL_PROF_H

#include <time.h>

enum {
    RQL_PROF_ACT,        /* agent_act: the network step for every env, epsilon-greedy */
    RQL_PROF_ENV,        /* env_vec_step and the next observations */
    RQL_PROF_REPLAY,     /* storing a step, sampling and gathering a batch */
    RQL_PROF_FORWARD,    /* an update's forward passes (burn-in, target, online) and TD targets */
    RQL_PROF_BACKWARD,   /* BPTT */
    RQL_PROF_OPTIM,      /* gradient check, clipping, the optimizer step, target update */
    RQL_PROF_LOG,        /* rows appended to the run log */
    RQL_PROF_NSLOTS
};

typedef struct {
    double s[RQL_PROF_NSLOTS];   /* CPU seconds per slot */
    long rows_fwd;               /* batch rows x valid steps of an update's forward passes */
    long rows_bwd;               /* the same for its backward pass */
    int wall;                    /* time by the wall clock instead (for several threads) */
} rql_prof;

extern _Thread_local rql_prof *rql_prof_on;

static inline double rql_prof_now(void) {
    struct timespec ts;
    clock_gettime(rql_prof_on && rql_prof_on->wall ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static inline double rql_prof_mark(void) { return rql_prof_on ? rql_prof_now() : 0.0; }

static inline void rql_prof_lap(int slot, double *t) {
    if (!rql_prof_on) return;
    double now = rql_prof_now();
    rql_prof_on->s[slot] += now - *t;
    *t = now;
}

#endif
