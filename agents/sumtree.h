/* sumtree — n non-negative leaf weights in a complete binary tree of sums,
 * for prioritized replay: set a leaf in O(log n), draw a leaf with
 * probability weight / total in O(log n), the total in O(1).
 *
 * Leaves sit at node[cap + i] (cap: the power of two >= n); node[k] =
 * node[2k] + node[2k + 1]. A set recomputes the sums on its path from the
 * children (never adds a difference), so every internal node is a pure
 * function of the leaves: no drift after millions of updates, and a tree
 * rebuilt from its saved leaves (sumtree_rebuild) is bit-identical to the
 * one that was saved. Doubles, so a leaf of 1e-6 next to a total of 1e4 is
 * still drawn with its share.
 */
#ifndef RQL_SUMTREE_H
#define RQL_SUMTREE_H

typedef struct {
    long n;                  /* leaves */
    long cap;                /* power of two >= n */
    double *node;            /* [2 cap]: node[1] the total, leaves from node[cap] */
} sumtree;

/* NULL (and rql_error()) when n < 1 or out of memory. All leaves start at 0. */
sumtree *sumtree_alloc(long n);
void sumtree_free(sumtree *t);
/* w must be finite and >= 0 (RQL_EINVAL otherwise, nothing changed). */
int sumtree_set(sumtree *t, long i, double w);
static inline double sumtree_get(const sumtree *t, long i) { return t->node[t->cap + i]; }
static inline double sumtree_total(const sumtree *t) { return t->node[1]; }
static inline const double *sumtree_leaves(const sumtree *t) { return t->node + t->cap; }
/* The leaf whose interval [prefix, prefix + w) holds u, for u in [0, total):
 * with u = total * U(0, 1) a leaf is drawn with probability w / total.
 * Never returns a leaf of weight 0 while total > 0 (a u at or past the total
 * through rounding lands on the last positive leaf); -1 when total is 0. */
long sumtree_find(const sumtree *t, double u);
/* Leaves from w[n] (each finite, >= 0), then every sum: for loading. */
int sumtree_rebuild(sumtree *t, const double *w);

#endif
