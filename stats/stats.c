/* stats — pure statistics across seeds (see stats.h for the definitions and
 * the degenerate cases): arrays in, numbers out; no I/O. */
#include "stats/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>

int stats_mean_ci(const double *x, int n, double level, stats_ci *o) {
    if (n < 0 || !(level > 0 && level < 1)) return -1;
    o->n = n;
    o->level = level;
    o->mean = o->sd = o->half = NAN;
    if (n == 0) return 0;
    o->mean = gsl_stats_mean(x, 1, (size_t)n);
    if (n < 2) return 0;                          /* one seed: no spread to estimate */
    o->sd = gsl_stats_sd_m(x, 1, (size_t)n, o->mean);
    double tq = gsl_cdf_tdist_Pinv(1 - (1 - level) / 2, n - 1);
    o->half = o->sd == 0 ? 0 : tq * o->sd / sqrt((double)n);
    return 0;
}

int stats_welch(const double *a, int na, const double *b, int nb, stats_welch_result *o) {
    if (na < 0 || nb < 0) return -1;
    o->n_a = na;
    o->n_b = nb;
    o->mean_a = na ? gsl_stats_mean(a, 1, (size_t)na) : NAN;
    o->mean_b = nb ? gsl_stats_mean(b, 1, (size_t)nb) : NAN;
    o->var_a = na > 1 ? gsl_stats_variance_m(a, 1, (size_t)na, o->mean_a) : NAN;
    o->var_b = nb > 1 ? gsl_stats_variance_m(b, 1, (size_t)nb, o->mean_b) : NAN;
    o->t = o->df = o->p = NAN;
    if (na < 2 || nb < 2) return 0;               /* no variance estimate for a group */
    double sa = o->var_a / na, sb = o->var_b / nb, se2 = sa + sb;
    double diff = o->mean_a - o->mean_b;
    if (se2 == 0) {
        /* Both groups constant: the difference (or its absence) is exact. */
        o->t = diff == 0 ? 0 : diff > 0 ? INFINITY : -INFINITY;
        o->p = diff == 0 ? 1 : 0;
        return 0;
    }
    o->t = diff / sqrt(se2);
    o->df = se2 * se2 / (sa * sa / (na - 1) + sb * sb / (nb - 1));
    o->p = 2 * gsl_cdf_tdist_Q(fabs(o->t), o->df);
    if (o->p > 1) o->p = 1;
    return 0;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

double stats_quantile(const double *x, int n, double p, double *ws) {
    if (n <= 0) return NAN;
    memcpy(ws, x, (size_t)n * sizeof *ws);
    qsort(ws, (size_t)n, sizeof *ws, cmp_double);
    double h = (n - 1) * p;
    int lo = (int)floor(h);
    if (lo >= n - 1) return ws[n - 1];
    double frac = h - lo;
    /* gsl_stats_quantile_from_sorted_data computes (1-f)*a + f*b, which is
     * NaN for f = 0 and b = inf: "never solved" seeds need the exact rule. */
    if (frac == 0) return ws[lo];
    if (isinf(ws[lo + 1]) || isinf(ws[lo])) return INFINITY;
    return ws[lo] + frac * (ws[lo + 1] - ws[lo]);
}

void stats_median_iqr(const double *x, int n, double *ws, double *median, double *q1, double *q3) {
    *median = stats_quantile(x, n, 0.5, ws);
    *q1 = stats_quantile(x, n, 0.25, ws);
    *q3 = stats_quantile(x, n, 0.75, ws);
}

double stats_auc(const double *x, const double *y, int k) {
    if (k <= 0) return NAN;
    if (k == 1) return y[0];
    double area = 0;
    for (int i = 1; i < k; i++) {
        if (!(x[i] > x[i - 1])) return NAN;
        area += 0.5 * (y[i] + y[i - 1]) * (x[i] - x[i - 1]);
    }
    return area / (x[k - 1] - x[0]);
}

double stats_first_reach(const double *x, const double *y, int k, double threshold) {
    for (int i = 0; i < k; i++)
        if (y[i] >= threshold) return x[i];
    return INFINITY;
}