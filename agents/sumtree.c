/* sumtree.c — see sumtree.h. */
#include <math.h>
#include <stdlib.h>
#include "agents/sumtree.h"
#include "util/util.h"

sumtree *sumtree_alloc(long n) {
    if (n < 1 || n > (1L << 40)) {
        rql_set_error(RQL_EINVAL, "sumtree: %ld leaves (need 1 .. 2^40)", n);
        return NULL;
    }
    sumtree *t = calloc(1, sizeof *t);
    long cap = 1;
    while (cap < n) cap <<= 1;
    if (t) t->node = calloc((size_t)(2 * cap), sizeof(double));
    if (!t || !t->node) {
        sumtree_free(t);
        rql_set_error(RQL_ENOMEM, "sumtree: out of memory for %ld leaves", n);
        return NULL;
    }
    t->n = n;
    t->cap = cap;
    return t;
}

void sumtree_free(sumtree *t) {
    if (!t) return;
    free(t->node);
    free(t);
}

int sumtree_set(sumtree *t, long i, double w) {
    if (i < 0 || i >= t->n) return rql_set_error(RQL_EINVAL, "sumtree: leaf %ld of %ld", i, t->n);
    if (!(w >= 0) || !isfinite(w)) return rql_set_error(RQL_EINVAL, "sumtree: weight %g of leaf %ld", w, i);
    long k = t->cap + i;
    t->node[k] = w;
    for (k >>= 1; k >= 1; k >>= 1) t->node[k] = t->node[2 * k] + t->node[2 * k + 1];
    return 0;
}

long sumtree_find(const sumtree *t, double u) {
    if (!(t->node[1] > 0)) return -1;
    long k = 1;
    while (k < t->cap) {
        double left = t->node[2 * k];
        /* right when u is past the left sum, unless the right side is empty
         * (u >= total by rounding): then left, which holds all the weight */
        if (u >= left && t->node[2 * k + 1] > 0) {
            u -= left;
            k = 2 * k + 1;
        } else {
            k = 2 * k;
        }
    }
    return k - t->cap;
}

int sumtree_rebuild(sumtree *t, const double *w) {
    for (long i = 0; i < t->n; i++)
        if (!(w[i] >= 0) || !isfinite(w[i]))
            return rql_set_error(RQL_EINVAL, "sumtree: weight %g of leaf %ld", w[i], i);
    for (long i = 0; i < t->cap; i++) t->node[t->cap + i] = i < t->n ? w[i] : 0.0;
    for (long k = t->cap - 1; k >= 1; k--) t->node[k] = t->node[2 * k] + t->node[2 * k + 1];
    return 0;
}
