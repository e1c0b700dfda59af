/* r2d2.c — see r2d2.h. */
#include <math.h>
#include <stdlib.h>
#include "agents/r2d2.h"
#include "util/util.h"

double r2d2_priority(const float *absd, int n, double eta) {
    if (n <= 0) return 0.0;
    double mx = 0, sum = 0;
    for (int i = 0; i < n; i++) {
        if (absd[i] > mx) mx = absd[i];
        sum += absd[i];
    }
    return eta * mx + (1.0 - eta) * (sum / n);
}

double r2d2_beta_at(double beta0, long steps, long t) {
    if (steps <= 0 || t >= steps) return 1.0;
    if (t <= 0) return beta0;
    return beta0 + (1.0 - beta0) * ((double)t / (double)steps);
}

void r2d2_is_weights(const double *prob, int n, double beta, float *w) {
    /* (1/P)^beta / max (1/P)^beta = (P_min / P)^beta: no overflow for tiny P */
    double pmin = INFINITY;
    for (int i = 0; i < n; i++)
        if (prob[i] < pmin) pmin = prob[i];
    for (int i = 0; i < n; i++) w[i] = (float)pow(pmin / prob[i], beta);
}

double r2d2_h(double x, double eps) {
    double s = x < 0 ? -1.0 : 1.0;
    return s * (sqrt(fabs(x) + 1.0) - 1.0) + eps * x;
}

/* Solving y = s (sqrt(|x| + 1) - 1) + eps x for x (Pohlen et al. 2018,
 * proposition A.2): with c = |y| + 1 + eps, sqrt(|x| + 1) = r =
 * (sqrt(1 + 4 eps c) - 1) / (2 eps), written as 2 c / (sqrt(1 + 4 eps c) + 1)
 * to avoid the cancellation of the first form (and to hold at eps = 0). */
double r2d2_h_inv(double y, double eps) {
    double s = y < 0 ? -1.0 : 1.0;
    double c = fabs(y) + 1.0 + eps;
    double r = 2.0 * c / (sqrt(1.0 + 4.0 * eps * c) + 1.0);
    return s * (r * r - 1.0);
}

r2d2_prio *r2d2_prio_alloc(long nleaves, double alpha) {
    if (!(alpha >= 0) || !isfinite(alpha)) {
        rql_set_error(RQL_EINVAL, "prioritized replay: alpha %g (need >= 0)", alpha);
        return NULL;
    }
    r2d2_prio *p = calloc(1, sizeof *p);
    if (!p) {
        rql_set_error(RQL_ENOMEM, "prioritized replay: out of memory");
        return NULL;
    }
    p->tree = sumtree_alloc(nleaves);
    if (!p->tree) {
        free(p);
        return NULL;
    }
    p->alpha = alpha;
    p->max_prio = 1.0;
    return p;
}

void r2d2_prio_free(r2d2_prio *p) {
    if (!p) return;
    sumtree_free(p->tree);
    free(p);
}

int r2d2_prio_insert(r2d2_prio *p, long leaf, int starts) {
    return sumtree_set(p->tree, leaf, starts ? pow(p->max_prio, p->alpha) : 0.0);
}

int r2d2_prio_update(r2d2_prio *p, long leaf, double priority) {
    if (!isfinite(priority) || priority < 0)
        return rql_set_error(RQL_EINVAL, "prioritized replay: priority %g of leaf %ld", priority, leaf);
    if (priority < R2D2_PRIO_MIN) priority = R2D2_PRIO_MIN;
    if (priority > p->max_prio) p->max_prio = priority;
    return sumtree_set(p->tree, leaf, pow(priority, p->alpha));
}

long r2d2_prio_sample(const r2d2_prio *p, double u01, double *prob) {
    double total = sumtree_total(p->tree);
    long i = sumtree_find(p->tree, u01 * total);
    if (i >= 0 && prob) *prob = sumtree_get(p->tree, i) / total;
    return i;
}
