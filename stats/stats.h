/* stats — pure statistics across seeds, with GSL: arrays in, result structs
 * out, no I/O (comparing run logs and printing the comparison are in
 * compare.h; rliable's aggregates in rliable.h; the suites' scores in
 * score.h).
 *   - mean with a confidence interval from Student's t distribution
 *     (half-width t_{(1+level)/2, n-1} * s / sqrt(n), s the sample sd);
 *   - Welch's t test (two-sided, Welch-Satterthwaite degrees of freedom,
 *     p from gsl_cdf_tdist_Q);
 *   - quantiles interpolated as numpy's default (type 7), with +inf allowed
 *     (a seed that never solved), median and interquartile range;
 *   - the normalised area under a learning curve and the first point that
 *     reaches a threshold.
 *
 * Degenerate cases, decided explicitly:
 *   - n = 1: mean is the value; sd and the CI half-width are NaN (printed
 *     "n/a"): one seed gives no spread;
 *   - all values equal (sd = 0, n >= 2): half-width 0;
 *   - Welch with n < 2 in either group: t, df, p NaN (no variance estimate);
 *   - Welch with both variances 0: the groups are constants; equal means give
 *     t = 0, p = 1, different means give t = +-inf, p = 0; df is NaN;
 *   - one variance 0: the ordinary formula (df = n - 1 of the other group).
 */
#ifndef RQL_STATS_H
#define RQL_STATS_H

typedef struct {
    int n;
    double mean, sd;          /* sd: sample standard deviation (n - 1); NaN if n < 2 */
    double half;              /* CI half-width; mean +- half; NaN if n < 2 */
    double level;             /* e.g. 0.95 */
} stats_ci;

/* Mean and t-based confidence interval at level (0 < level < 1) of x[n].
 * n = 0: everything NaN. Returns 0, or -1 for a bad level or n < 0. */
int stats_mean_ci(const double *x, int n, double level, stats_ci *out);

typedef struct {
    double mean_a, mean_b, var_a, var_b;   /* sample variances */
    int n_a, n_b;
    double t;                 /* (mean_a - mean_b) / sqrt(var_a/n_a + var_b/n_b) */
    double df;                /* Welch-Satterthwaite */
    double p;                 /* two-sided */
} stats_welch_result;

/* Welch's unequal-variance t test of a[na] against b[nb] (see the top for
 * the degenerate cases). Returns 0, or -1 if na or nb < 0. */
int stats_welch(const double *a, int na, const double *b, int nb, stats_welch_result *out);

/* Quantile p in [0, 1] of x[n] (n >= 1), interpolated as numpy's default
 * (type 7); +inf values are allowed and sort last (a quantile that touches
 * one is +inf). ws[n] is scratch (no allocation). NaN if n == 0. */
double stats_quantile(const double *x, int n, double p, double *ws);

/* Median and quartiles (q1, q3) of x[n] with stats_quantile. */
void stats_median_iqr(const double *x, int n, double *ws, double *median, double *q1, double *q3);

/* Normalised area under a learning curve y(x) given at k points with
 * increasing x: trapezoidal integral / (x[k-1] - x[0]); k = 1: y[0]; k = 0:
 * NaN. Returns NaN also when x does not increase. */
double stats_auc(const double *x, const double *y, int k);

/* Episodes to solve: x of the first point with y >= threshold, +inf if none. */
double stats_first_reach(const double *x, const double *y, int k, double threshold);

#endif
