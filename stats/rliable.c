/* rliable — aggregates and stratified bootstrap intervals (rliable.h has the
 * definitions and the rliable source each one follows). */
#include "stats/rliable.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/stats.h"
#include "util/util.h"

const char *rl_aggregate_name(rl_aggregate k) {
    switch (k) {
    case RL_MEAN: return "mean";
    case RL_MEDIAN: return "median";
    case RL_IQM: return "IQM";
    case RL_OPT_GAP: return "optimality gap";
    }
    return "?";
}

double rl_normalise(double raw, double lo, double hi) { return (raw - lo) / (hi - lo); }

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double rl_iqm(const double *x, int n, double *ws) {
    if (n <= 0) return NAN;
    memcpy(ws, x, sizeof(double) * (size_t)n);
    qsort(ws, (size_t)n, sizeof(double), cmp_double);
    int lo = (int)(0.25 * n), hi = n - lo;
    double s = 0;
    for (int i = lo; i < hi; i++) s += ws[i];
    return s / (hi - lo);
}

double rl_aggregate_of(rl_aggregate k, const double *x, int nruns, int ntasks, double *ws) {
    int n = nruns * ntasks;
    if (n <= 0) return NAN;
    if (k == RL_IQM) return rl_iqm(x, n, ws);
    if (k == RL_OPT_GAP) {
        double s = 0;
        for (int i = 0; i < n; i++) s += fmin(x[i], 1.0);
        return 1.0 - s / n;
    }
    double *tm = ws + n;               /* per-task means */
    for (int m = 0; m < ntasks; m++) {
        double s = 0;
        for (int r = 0; r < nruns; r++) s += x[r * ntasks + m];
        tm[m] = s / nruns;
    }
    if (k == RL_MEAN) {
        double s = 0;
        for (int m = 0; m < ntasks; m++) s += tm[m];
        return s / ntasks;
    }
    return stats_quantile(tm, ntasks, 0.5, ws);   /* numpy's median: type 7 at 0.5 */
}

double rl_prob_improvement(const double *x, int nx, const double *y, int ny, int ntasks) {
    if (nx <= 0 || ny <= 0 || ntasks <= 0) return NAN;
    double total = 0;
    for (int m = 0; m < ntasks; m++) {
        int same = nx == ny;
        for (int r = 0; same && r < nx; r++) same = x[r * ntasks + m] == y[r * ntasks + m];
        if (same) { total += 0.5; continue; }
        double u = 0;                   /* Mann-Whitney U of x over y: pairs x > y, ties 1/2 */
        for (int i = 0; i < nx; i++)
            for (int j = 0; j < ny; j++) {
                double a = x[i * ntasks + m], b = y[j * ntasks + m];
                u += a > b ? 1.0 : a == b ? 0.5 : 0.0;
            }
        total += u / ((double)nx * ny);
    }
    return total / ntasks;
}

void rl_profile(const double *x, int n, const double *tau, int ntau, double *out) {
    for (int k = 0; k < ntau; k++) {
        int c = 0;
        for (int i = 0; i < n; i++) c += x[i] > tau[k];
        out[k] = n > 0 ? (double)c / n : NAN;
    }
}

/* One stratified resample of x [nruns x ntasks] into xb: within every task,
 * nruns runs drawn with replacement (rliable's update_indices: one index per
 * cell of the matrix). */
static void resample(const double *x, int nruns, int ntasks, gsl_rng *r, double *xb) {
    for (int i = 0; i < nruns; i++)
        for (int m = 0; m < ntasks; m++) {
            int k = (int)gsl_rng_uniform_int(r, (unsigned long)nruns);
            xb[i * ntasks + m] = x[k * ntasks + m];
        }
}

static void percentile_interval(double *reps_v, int reps, double level, rl_interval *out, double *ws) {
    out->lo = stats_quantile(reps_v, reps, (1.0 - level) / 2.0, ws);
    out->hi = stats_quantile(reps_v, reps, (1.0 + level) / 2.0, ws);
}

static int check_args(int nruns, int ntasks, int reps, double level) {
    if (nruns <= 0 || ntasks <= 0 || reps <= 0 || !(level > 0 && level < 1))
        return rql_set_error(RQL_EINVAL, "bootstrap: need runs, tasks and replicates > 0 and 0 < level < 1 "
                                 "(got %d runs, %d tasks, %d reps, level %g)", nruns, ntasks, reps, level);
    return 0;
}

int rl_bootstrap_aggregate(rl_aggregate k, const double *x, int nruns, int ntasks, int reps, double level,
                           gsl_rng *r, rl_interval *out) {
    if (check_args(nruns, ntasks, reps, level)) return -1;
    size_t n = (size_t)nruns * ntasks;
    double *xb = malloc(sizeof(double) * n), *ws = malloc(sizeof(double) * (n + ntasks + reps));
    double *rv = malloc(sizeof(double) * reps);
    if (!xb || !ws || !rv) {
        free(xb); free(ws); free(rv);
        return rql_set_error(RQL_ENOMEM, "bootstrap: out of memory");
    }
    out->point = rl_aggregate_of(k, x, nruns, ntasks, ws);
    for (int b = 0; b < reps; b++) {
        resample(x, nruns, ntasks, r, xb);
        rv[b] = rl_aggregate_of(k, xb, nruns, ntasks, ws);
    }
    out->level = level;
    out->reps = reps;
    percentile_interval(rv, reps, level, out, ws);
    free(xb); free(ws); free(rv);
    return 0;
}

int rl_bootstrap_improvement(const double *x, int nx, const double *y, int ny, int ntasks, int reps,
                             double level, gsl_rng *r, rl_interval *out) {
    if (check_args(nx < ny ? nx : ny, ntasks, reps, level)) return -1;
    double *xb = malloc(sizeof(double) * (size_t)nx * ntasks), *yb = malloc(sizeof(double) * (size_t)ny * ntasks);
    double *rv = malloc(sizeof(double) * reps), *ws = malloc(sizeof(double) * reps);
    if (!xb || !yb || !rv || !ws) {
        free(xb); free(yb); free(rv); free(ws);
        return rql_set_error(RQL_ENOMEM, "bootstrap: out of memory");
    }
    out->point = rl_prob_improvement(x, nx, y, ny, ntasks);
    for (int b = 0; b < reps; b++) {
        resample(x, nx, ntasks, r, xb);
        resample(y, ny, ntasks, r, yb);
        rv[b] = rl_prob_improvement(xb, nx, yb, ny, ntasks);
    }
    out->level = level;
    out->reps = reps;
    percentile_interval(rv, reps, level, out, ws);
    free(xb); free(yb); free(rv); free(ws);
    return 0;
}

int rl_bootstrap_profile(const double *x, int nruns, int ntasks, const double *tau, int ntau, int reps,
                         double level, gsl_rng *r, rl_interval *out) {
    if (check_args(nruns, ntasks, reps, level) || ntau < 0) return -1;
    size_t n = (size_t)nruns * ntasks;
    double *xb = malloc(sizeof(double) * n), *rv = malloc(sizeof(double) * (size_t)reps * (ntau ? ntau : 1));
    double *pt = malloc(sizeof(double) * (ntau ? ntau : 1)), *ws = malloc(sizeof(double) * reps);
    if (!xb || !rv || !pt || !ws) {
        free(xb); free(rv); free(pt); free(ws);
        return rql_set_error(RQL_ENOMEM, "bootstrap: out of memory");
    }
    rl_profile(x, (int)n, tau, ntau, pt);
    for (int b = 0; b < reps; b++) {
        resample(x, nruns, ntasks, r, xb);
        rl_profile(xb, (int)n, tau, ntau, rv + (size_t)b * ntau);
    }
    double *col = malloc(sizeof(double) * reps);
    if (!col) {
        free(xb); free(rv); free(pt); free(ws);
        return rql_set_error(RQL_ENOMEM, "bootstrap: out of memory");
    }
    for (int k = 0; k < ntau; k++) {
        for (int b = 0; b < reps; b++) col[b] = rv[(size_t)b * ntau + k];
        out[k].point = pt[k];
        out[k].level = level;
        out[k].reps = reps;
        percentile_interval(col, reps, level, &out[k], ws);
    }
    free(col); free(xb); free(rv); free(pt); free(ws);
    return 0;
}
