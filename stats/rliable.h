/* rliable — aggregate statistics over tasks and runs, as Agarwal et al. 2021
 * ("Deep Reinforcement Learning at the Edge of the Statistical Precipice")
 * define them in google-research/rliable (rliable/metrics.py, library.py).
 *
 * Scores are a matrix [nruns x ntasks] per agent (row-major: x[r * ntasks +
 * m] is run r on task m), normalised so that 0 is random and 1 optimal
 * (stats_normalise). The aggregates:
 *   - mean / median of the per-task means (aggregate_mean, aggregate_median);
 *   - interquartile mean: scipy.stats.trim_mean(x, 0.25, axis=None) over all
 *     runs and tasks: sort, drop int(0.25 N) from each end, average the rest
 *     (aggregate_iqm);
 *   - optimality gap: gamma - mean(min(x, gamma)), gamma = 1;
 *   - probability of improvement P(X > Y): per task the Mann-Whitney U
 *     statistic of X's runs against Y's (ties count 1/2) over nx * ny, 0.5
 *     where the two columns are identical, averaged over tasks;
 *   - score distribution (performance profile) at tau: the fraction of all
 *     runs x tasks scoring above tau (run_score_deviation: strictly above).
 * Confidence intervals are stratified bootstrap percentile intervals
 * (library.py StratifiedBootstrap, method 'percentile'): each replicate draws
 * nruns runs with replacement independently within every task (for P(X > Y),
 * X and Y independently: StratifiedIndependentBootstrap), the statistic is
 * recomputed, and the interval is the (1 - level) / 2 and (1 + level) / 2
 * quantiles (numpy's linear interpolation) of the replicates. A percentile
 * interval never leaves the range the statistic can take on resampled data,
 * so an interval of a bounded score stays inside its bounds. With one run
 * per task a run-bootstrap has nothing to resample: the interval is the
 * point (width 0), which the printers say.
 *
 * Random numbers come from a gsl_rng the caller seeds: the same seed gives
 * the same intervals. Pure functions: no I/O, no allocation beyond what a
 * call documents, errors as -1 with rql_error().
 */
#ifndef RQL_RLIABLE_H
#define RQL_RLIABLE_H

#include <gsl/gsl_rng.h>

typedef enum {
    RL_MEAN,          /* mean of per-task means */
    RL_MEDIAN,        /* median of per-task means */
    RL_IQM,           /* interquartile mean over all runs and tasks */
    RL_OPT_GAP        /* optimality gap at gamma = 1 */
} rl_aggregate;

const char *rl_aggregate_name(rl_aggregate k);

/* (raw - lo) / (hi - lo): 0 at the random agent's score, 1 at the optimum. */
double rl_normalise(double raw, double lo, double hi);

/* scipy.stats.trim_mean(x, 0.25) of x[n] (NaN if n == 0); ws[n] scratch. */
double rl_iqm(const double *x, int n, double *ws);

/* One aggregate of scores [nruns x ntasks]; ws[nruns * ntasks + ntasks] scratch. */
double rl_aggregate_of(rl_aggregate k, const double *x, int nruns, int ntasks, double *ws);

/* P(X > Y) of x [nx x ntasks] over y [ny x ntasks]. */
double rl_prob_improvement(const double *x, int nx, const double *y, int ny, int ntasks);

/* Score distribution at each tau[k] (k < ntau): fraction of x [n] above it. */
void rl_profile(const double *x, int n, const double *tau, int ntau, double *out);

typedef struct {
    double point;     /* the statistic on the data */
    double lo, hi;    /* percentile interval at level */
    double level;
    int reps;
} rl_interval;

/* Stratified bootstrap interval of an aggregate over x [nruns x ntasks]:
 * reps replicates from r. Returns 0, or -1 (bad sizes, out of memory). */
int rl_bootstrap_aggregate(rl_aggregate k, const double *x, int nruns, int ntasks, int reps, double level,
                           gsl_rng *r, rl_interval *out);

/* The same for P(X > Y), X and Y resampled independently within tasks. */
int rl_bootstrap_improvement(const double *x, int nx, const double *y, int ny, int ntasks, int reps,
                             double level, gsl_rng *r, rl_interval *out);

/* Score distributions at tau[ntau] with pointwise bootstrap intervals:
 * out[k] for tau[k]. */
int rl_bootstrap_profile(const double *x, int nruns, int ntasks, const double *tau, int ntau, int reps,
                         double level, gsl_rng *r, rl_interval *out);

#endif
