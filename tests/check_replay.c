/* check_replay — prioritized sequence replay and value rescaling (R2D2):
 * the sum tree (set / total / find against a brute-force prefix scan, its
 * sampling frequencies against the weights with a fixed seed, zero leaves
 * never drawn, no drift after many updates, a rebuild bit-identical to the
 * tree it was saved from, every error), the priority mix, the annealed
 * importance-sampling weights, value rescaling h against its closed form and
 * h(h^-1(x)) = x, and the prioritized sampler (new cells at the max
 * priority; alpha = 0 samples uniformly over the cells that start a
 * sequence); in drqn, prioritized replay with alpha = 0 and eta = 0
 * draws the sequences uniform replay draws (episode starts, or any step for
 * chunks) with unit weights, and priorities move only the drawing; with
 * value rescaling the net's junction value of the T-maze converges to h(4).
 * The dueling head (R2D2's): Q = V + a - mean(a) by hand, its gradient the
 * transpose of that map (<g, Q(r)> = <grad(g), r>), in place over packed
 * rows; a dueling drqn learns the junction's values 4 and -0.1. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_rng.h>
#include "agents/agent_internal.h"
#include "agents/r2d2.h"
#include "agents/sumtree.h"
#include "agents/td.h"
#include "envs/env.h"
#include "util/util.h"

/* The leaf a linear scan of the prefix sums gives for u (the definition). */
static long brute_find(const double *w, long n, double u) {
    double acc = 0;
    long last = -1;
    for (long i = 0; i < n; i++) {
        if (w[i] > 0) last = i;
        if (w[i] > 0 && u < acc + w[i]) return i;
        acc += w[i];
    }
    return last;
}

/* Pearson chi-square of counts against n * w / total over the leaves with
 * w > 0; the upper 1e-4 tail bound for their degrees of freedom. */
static void chi_square(const long *count, const double *w, long n, long draws, double *chi, double *bound) {
    double total = 0;
    long k = 0;
    for (long i = 0; i < n; i++) total += w[i];
    *chi = 0;
    for (long i = 0; i < n; i++) {
        if (w[i] <= 0) continue;
        double e = draws * w[i] / total;
        *chi += (count[i] - e) * (count[i] - e) / e;
        k++;
    }
    *bound = gsl_cdf_chisq_Qinv(1e-4, (double)(k - 1));
}

START_TEST(test_sumtree_basics) {
    sumtree *t = sumtree_alloc(5);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->cap, 8);
    ck_assert(sumtree_total(t) == 0.0);
    ck_assert_int_eq(sumtree_find(t, 0.0), -1);
    double w[5] = {1, 0, 2, 0.5, 0};
    for (int i = 0; i < 5; i++) ck_assert_int_eq(sumtree_set(t, i, w[i]), 0);
    ck_assert(sumtree_total(t) == 3.5);
    ck_assert(sumtree_get(t, 2) == 2.0);
    /* intervals: leaf 0 [0, 1), leaf 2 [1, 3), leaf 3 [3, 3.5) */
    const double us[] = {0.0, 0.999, 1.0, 2.5, 2.999, 3.0, 3.49, 3.5, 100.0};
    const long want[] = {0, 0, 2, 2, 2, 3, 3, 3, 3};
    for (int i = 0; i < 9; i++) ck_assert_int_eq(sumtree_find(t, us[i]), want[i]);
    /* changing a leaf changes only its share */
    ck_assert_int_eq(sumtree_set(t, 0, 0.0), 0);
    ck_assert(sumtree_total(t) == 2.5);
    ck_assert_int_eq(sumtree_find(t, 0.0), 2);
    ck_assert_int_eq(sumtree_set(t, 4, 1.0), 0);
    ck_assert_int_eq(sumtree_find(t, 2.6), 4);
    sumtree_free(t);
    sumtree_free(NULL);
    /* one leaf */
    t = sumtree_alloc(1);
    ck_assert_int_eq(t->cap, 1);
    ck_assert_int_eq(sumtree_set(t, 0, 4.0), 0);
    ck_assert(sumtree_total(t) == 4.0);
    ck_assert_int_eq(sumtree_find(t, 3.9), 0);
    sumtree_free(t);
}
END_TEST

START_TEST(test_sumtree_errors) {
    ck_assert_ptr_null(sumtree_alloc(0));
    ck_assert(strstr(rql_error(), "0 leaves") != NULL);
    ck_assert_ptr_null(sumtree_alloc(-3));
    sumtree *t = sumtree_alloc(4);
    ck_assert_int_eq(sumtree_set(t, 4, 1.0), RQL_EINVAL);
    ck_assert(strstr(rql_error(), "leaf 4 of 4") != NULL);
    ck_assert_int_eq(sumtree_set(t, -1, 1.0), RQL_EINVAL);
    ck_assert_int_eq(sumtree_set(t, 1, -0.5), RQL_EINVAL);
    ck_assert(strstr(rql_error(), "weight -0.5") != NULL);
    ck_assert_int_eq(sumtree_set(t, 1, NAN), RQL_EINVAL);
    ck_assert_int_eq(sumtree_set(t, 1, INFINITY), RQL_EINVAL);
    ck_assert(sumtree_total(t) == 0.0);      /* nothing was changed */
    double bad[4] = {1, 2, -1, 0};
    ck_assert_int_eq(sumtree_rebuild(t, bad), RQL_EINVAL);
    sumtree_free(t);
}
END_TEST

/* The tree's leaf for many u equals the linear scan's, and its draws follow
 * the weights (fixed seed), over a non-power-of-two size with zero leaves. */
START_TEST(test_sumtree_vs_brute_force) {
    const long n = 1000, draws = 200000;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 12345);
    sumtree *t = sumtree_alloc(n);
    double *w = calloc(n, sizeof *w);
    long *count = calloc(n, sizeof *count);
    for (long i = 0; i < n; i++) {
        /* a wide range of weights, a fifth of them zero */
        w[i] = gsl_rng_uniform(rng) < 0.2 ? 0.0 : pow(10.0, 3.0 * gsl_rng_uniform(rng) - 1.0);
        ck_assert_int_eq(sumtree_set(t, i, w[i]), 0);
    }
    double total = 0;
    for (long i = 0; i < n; i++) total += w[i];
    ck_assert_double_eq_tol(sumtree_total(t), total, 1e-9 * total);
    long mismatch = 0;
    for (long d = 0; d < draws; d++) {
        double u = gsl_rng_uniform(rng) * sumtree_total(t);
        long i = sumtree_find(t, u);
        ck_assert(i >= 0 && i < n && w[i] > 0);
        if (d < 20000 && i != brute_find(w, n, u)) mismatch++;
        count[i]++;
    }
    /* the two sum in different orders: they may differ only within rounding
     * of a boundary, which 20000 uniform draws essentially never hit */
    ck_assert_int_le(mismatch, 1);
    double chi, bound;
    chi_square(count, w, n, draws, &chi, &bound);
    ck_assert_msg(chi < bound, "chi-square %.1f >= %.1f", chi, bound);
    for (long i = 0; i < n; i++)
        if (w[i] == 0) ck_assert_int_eq(count[i], 0);
    /* the last positive leaf takes a u at or past the total */
    long last = n - 1;
    while (w[last] == 0) last--;
    ck_assert_int_eq(sumtree_find(t, sumtree_total(t)), last);
    ck_assert_int_eq(sumtree_find(t, sumtree_total(t) * (1 + 1e-12)), last);
    free(w);
    free(count);
    sumtree_free(t);
    gsl_rng_free(rng);
}
END_TEST

/* 200000 updates: the total is still the sum of the leaves (nodes are
 * recomputed, not accumulated), and a tree rebuilt from the leaves is bit
 * for bit the one updated step by step. */
START_TEST(test_sumtree_updates_rebuild) {
    const long n = 777;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 7);
    sumtree *t = sumtree_alloc(n), *r = sumtree_alloc(n);
    for (long k = 0; k < 200000; k++)
        ck_assert_int_eq(sumtree_set(t, (long)gsl_rng_uniform_int(rng, n), gsl_rng_uniform(rng) * 100.0), 0);
    double total = 0;
    for (long i = 0; i < n; i++) total += sumtree_get(t, i);
    ck_assert_double_eq_tol(sumtree_total(t), total, 1e-12 * total);
    ck_assert_int_eq(sumtree_rebuild(r, sumtree_leaves(t)), 0);
    ck_assert_int_eq(memcmp(r->node + 1, t->node + 1, sizeof(double) * (2 * t->cap - 1)), 0);
    sumtree_free(t);
    sumtree_free(r);
    gsl_rng_free(rng);
}
END_TEST

START_TEST(test_priority_mix) {
    const float d[] = {0.5f, 2.0f, 1.0f, 0.5f};     /* max 2, mean 1 */
    ck_assert_double_eq_tol(r2d2_priority(d, 4, 0.9), 0.9 * 2.0 + 0.1 * 1.0, 1e-12);
    ck_assert_double_eq_tol(r2d2_priority(d, 4, 0.0), 1.0, 1e-12);    /* the mean */
    ck_assert_double_eq_tol(r2d2_priority(d, 4, 1.0), 2.0, 1e-12);    /* the max */
    ck_assert_double_eq_tol(r2d2_priority(d, 1, 0.9), 0.5, 1e-12);
    ck_assert(r2d2_priority(d, 0, 0.9) == 0.0);
}
END_TEST

START_TEST(test_is_weights) {
    /* w = (1/P)^beta / max: with P = {0.1, 0.4, 0.2}, beta 1: {1, 0.25, 0.5} */
    const double p[] = {0.1, 0.4, 0.2};
    float w[3];
    r2d2_is_weights(p, 3, 1.0, w);
    ck_assert_float_eq_tol(w[0], 1.0f, 1e-7f);
    ck_assert_float_eq_tol(w[1], 0.25f, 1e-7f);
    ck_assert_float_eq_tol(w[2], 0.5f, 1e-7f);
    r2d2_is_weights(p, 3, 0.5, w);
    ck_assert_float_eq_tol(w[1], 0.5f, 1e-7f);
    ck_assert_float_eq_tol(w[2], (float)sqrt(0.5), 1e-7f);
    r2d2_is_weights(p, 3, 0.0, w);                 /* beta 0: no correction */
    for (int i = 0; i < 3; i++) ck_assert(w[i] == 1.0f);
    /* tiny probabilities do not overflow */
    const double tiny[] = {1e-300, 1e-200};
    r2d2_is_weights(tiny, 2, 1.0, w);
    ck_assert(w[0] == 1.0f && w[1] == 0.0f);
    /* beta: linear from beta0 to 1 over the steps, then 1 */
    ck_assert(r2d2_beta_at(0.4, 1000, 0) == 0.4);
    ck_assert_double_eq_tol(r2d2_beta_at(0.4, 1000, 250), 0.55, 1e-12);
    ck_assert_double_eq_tol(r2d2_beta_at(0.4, 1000, 500), 0.7, 1e-12);
    ck_assert(r2d2_beta_at(0.4, 1000, 1000) == 1.0);
    ck_assert(r2d2_beta_at(0.4, 1000, 5000) == 1.0);
    ck_assert(r2d2_beta_at(0.4, 0, 0) == 1.0);
}
END_TEST

START_TEST(test_value_rescaling) {
    const double e = R2D2_RESCALE_EPS;
    /* the closed form at hand-picked points: h(3) = sqrt(4) - 1 + 3e = 1.003 */
    ck_assert_double_eq_tol(r2d2_h(3.0, e), 1.003, 1e-12);
    ck_assert_double_eq_tol(r2d2_h(-3.0, e), -1.003, 1e-12);
    ck_assert(r2d2_h(0.0, e) == 0.0);
    ck_assert_double_eq_tol(r2d2_h(8.0, e), 2.008, 1e-12);
    ck_assert_double_eq_tol(r2d2_h(99.0, 0.0), 9.0, 1e-12);
    ck_assert_double_eq_tol(r2d2_h_inv(1.003, e), 3.0, 1e-10);
    ck_assert_double_eq_tol(r2d2_h_inv(9.0, 0.0), 99.0, 1e-10);  /* eps 0: (|y| + 1)^2 - 1 */
    /* h odd, increasing; inverse both ways over 12 decades */
    double prev = -INFINITY;
    for (double x = -1e6; x <= 1e6; x += 1e6 / 997.0) {
        double h = r2d2_h(x, e);
        ck_assert(h > prev);
        prev = h;
        ck_assert_double_eq_tol(r2d2_h(-x, e), -h, 1e-12 * (1 + fabs(h)));
        ck_assert_double_eq_tol(r2d2_h_inv(h, e), x, 1e-9 * (1 + fabs(x)));
        ck_assert_double_eq_tol(r2d2_h(r2d2_h_inv(x, e), e), x, 1e-9 * (1 + fabs(x)));
    }
    for (double x = 1e-9; x < 1e6; x *= 1.7) {
        ck_assert_double_eq_tol(r2d2_h_inv(r2d2_h(x, e), e), x, 1e-12 * (1 + x));
        ck_assert_double_eq_tol(r2d2_h(r2d2_h_inv(-x, e), e), -x, 1e-12 * (1 + x));
        /* the closed form's derivative at 0 is 1/2 + eps: h(x) ~ (0.5 + eps) x */
        if (x < 1e-6) ck_assert_double_eq_tol(r2d2_h(x, e), (0.5 + e) * x, 1e-3 * x);
    }
}
END_TEST

START_TEST(test_dueling_head) {
    agent a;
    memset(&a, 0, sizeof a);
    a.A = 3;
    a.p.dueling = 1;
    /* two rows of 1 + A: (V, a0, a1, a2) -> packed rows of A Q-values */
    float b[8] = {1, 2, 4, 0, -2, 1, 1, 4};
    td_head_q(&a, b, 2);
    const float q[6] = {1, 3, -1, -3, -3, 0};      /* 1 + (2, 4, 0) - 2; -2 + (1, 1, 4) - 2 */
    for (int j = 0; j < 6; j++) ck_assert_float_eq_tol(b[j], q[j], 1e-6);
    /* the gradient: dV = sum dQ, da_j = dQ_j - mean(dQ), rows expanded in place */
    float g[8] = {1, 0, 2, 0.5f, 0.5f, 2};
    td_head_grad(&a, g, 2);
    const float dg[8] = {3, 0, -1, 1, 3, -0.5f, -0.5f, 1};
    for (int j = 0; j < 8; j++) ck_assert_float_eq_tol(g[j], dg[j], 1e-6);
    /* the transpose over many rows: <g, Q(r)> = <grad(g), r> */
    enum { R = 37, A = 7 };
    a.A = A;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 9);
    float r[R * (A + 1)], qr[R * (A + 1)], gg[R * (A + 1)];
    for (int i = 0; i < R * (A + 1); i++) r[i] = qr[i] = (float)(gsl_rng_uniform(rng) * 2 - 1);
    for (int i = 0; i < R * A; i++) gg[i] = (float)(gsl_rng_uniform(rng) * 2 - 1);
    double lhs = 0, rhs = 0;
    td_head_q(&a, qr, R);
    for (int i = 0; i < R * A; i++) lhs += (double)gg[i] * qr[i];
    /* and row by row against a separate buffer: in place changed nothing */
    for (int row = 0; row < R; row++) {
        const float *raw = r + row * (A + 1);
        double m = 0;
        for (int j = 0; j < A; j++) m += raw[1 + j];
        for (int j = 0; j < A; j++)
            ck_assert_float_eq_tol(qr[row * A + j], raw[0] + raw[1 + j] - m / A, 1e-5);
    }
    td_head_grad(&a, gg, R);
    for (int i = 0; i < R * (A + 1); i++) rhs += (double)gg[i] * r[i];
    ck_assert_msg(fabs(lhs - rhs) < 1e-4 * (1 + fabs(lhs)), "<g, Q(r)> = %.7g, <grad g, r> = %.7g", lhs, rhs);
    /* a plain head leaves the buffer alone */
    a.p.dueling = 0;
    float keep[4] = {1, 2, 3, 4};
    td_head_q(&a, keep, 1);
    td_head_grad(&a, keep, 1);
    ck_assert(keep[0] == 1 && keep[1] == 2 && keep[2] == 3 && keep[3] == 4);
    gsl_rng_free(rng);
}
END_TEST

START_TEST(test_prio_sampler) {
    ck_assert_ptr_null(r2d2_prio_alloc(10, -1.0));
    ck_assert_ptr_null(r2d2_prio_alloc(0, 0.6));
    r2d2_prio *p = r2d2_prio_alloc(6, 0.5);
    ck_assert(p->max_prio == 1.0);
    /* cells 0, 2, 3 start sequences; new ones enter at max priority^alpha */
    ck_assert_int_eq(r2d2_prio_insert(p, 0, 1), 0);
    ck_assert_int_eq(r2d2_prio_insert(p, 1, 0), 0);
    ck_assert_int_eq(r2d2_prio_insert(p, 2, 1), 0);
    ck_assert(sumtree_get(p->tree, 0) == 1.0 && sumtree_get(p->tree, 1) == 0.0);
    ck_assert_int_eq(r2d2_prio_update(p, 2, 4.0), 0);   /* weight 4^0.5 = 2, max 4 */
    ck_assert(sumtree_get(p->tree, 2) == 2.0);
    ck_assert(p->max_prio == 4.0);
    ck_assert_int_eq(r2d2_prio_insert(p, 3, 1), 0);
    ck_assert(sumtree_get(p->tree, 3) == 2.0);
    ck_assert_int_eq(r2d2_prio_update(p, 0, 0.0), 0);   /* floored, still drawable */
    ck_assert_double_eq_tol(sumtree_get(p->tree, 0), sqrt(R2D2_PRIO_MIN), 1e-15);
    ck_assert(p->max_prio == 4.0);
    ck_assert_int_eq(r2d2_prio_update(p, 0, NAN), RQL_EINVAL);
    ck_assert_int_eq(r2d2_prio_update(p, 0, -1.0), RQL_EINVAL);
    double prob;
    long i = r2d2_prio_sample(p, 0.75, &prob);            /* weights ~0.001, 0, 2, 2 */
    ck_assert_int_eq(i, 3);
    ck_assert_double_eq_tol(prob, 2.0 / (4.0 + sqrt(R2D2_PRIO_MIN)), 1e-12);
    r2d2_prio_free(p);
    /* every leaf 0: nothing to draw */
    p = r2d2_prio_alloc(3, 0.6);
    ck_assert_int_eq(r2d2_prio_sample(p, 0.5, &prob), -1);
    r2d2_prio_free(p);
    r2d2_prio_free(NULL);
}
END_TEST

/* alpha = 0: whatever the priorities, every cell that starts a sequence is
 * drawn with the same probability and no other cell is: uniform replay. */
START_TEST(test_prio_alpha0_uniform) {
    const long n = 300, draws = 100000;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 99);
    r2d2_prio *p = r2d2_prio_alloc(n, 0.0);
    double *w = calloc(n, sizeof *w);
    long *count = calloc(n, sizeof *count);
    for (long i = 0; i < n; i++) {
        int starts = i % 7 != 3;
        ck_assert_int_eq(r2d2_prio_insert(p, i, starts), 0);
        if (starts) ck_assert_int_eq(r2d2_prio_update(p, i, gsl_rng_uniform(rng) * 50.0), 0);
        w[i] = starts;
    }
    double prob0 = 1.0 / (double)(n - n / 7 - (n % 7 > 3));
    for (long d = 0; d < draws; d++) {
        double prob;
        long i = r2d2_prio_sample(p, gsl_rng_uniform(rng), &prob);
        ck_assert(i >= 0 && w[i] == 1.0);
        ck_assert_double_eq_tol(prob, prob0, 1e-15);
        count[i]++;
    }
    double chi, bound;
    chi_square(count, w, n, draws, &chi, &bound);
    ck_assert_msg(chi < bound, "chi-square %.1f >= %.1f", chi, bound);
    free(w);
    free(count);
    r2d2_prio_free(p);
    gsl_rng_free(rng);
}
END_TEST

/* ---- prioritized replay in drqn ------------------------------------------------ */
static agent_cfg *cfg_of(const char *const *kv) {
    agent_cfg *c = agent_cfg_alloc("drqn");
    ck_assert_msg(c != NULL, "%s", rql_error());
    for (int i = 0; kv && kv[i]; i += 2)
        ck_assert_msg(agent_cfg_set(c, kv[i], kv[i + 1]) == 0, "%s=%s: %s", kv[i], kv[i + 1], rql_error());
    return c;
}

/* k vector steps of a T-maze (4 envs) acted by the agent at eps 1
 * (random walks: episodes of many lengths, time limits included). */
static void fill(agent *a, agent_actor *ac, env_vec *v, int k) {
    int act[8];
    float next[8 * 4];
    const int os = v->obs_size;
    for (int t = 0; t < k; t++) {
        ck_assert_int_eq(agent_act(a, ac, v->obs, v->episode_start, 0, act), 0);
        ck_assert_int_eq(env_vec_step(v, act), 0);
        for (int i = 0; i < v->n; i++)
            memcpy(next + i * os, (v->terminated[i] || v->truncated[i] ? v->final_obs : v->obs) + i * os,
                   sizeof(float) * os);
        ck_assert_msg(agent_observe(a, ac, v->rewards, v->terminated, v->truncated, next) == 0, "%s", rql_error());
    }
}

/* Draws `rounds` batches and counts the start cell (slot * n + row) of
 * each train sequence; every weight must be 1. */
static void draw_counts(agent *a, int rounds, long *count) {
    const agent_replay *r = a->rp;
    for (int k = 0; k < rounds; k++) {
        ck_assert_int_eq(drqn_sample(a), 0);
        for (int b = 0; b < a->p.batch; b++) {
            const agent_seq *s = &a->seqs[b];
            long u = s->p0 + s->burn;
            count[(u % r->nslots) * r->n + s->row]++;
            if (a->prio) ck_assert(a->isw[b] == 1.0f);
        }
    }
}

static void check_uniform_equivalence(const char *mode) {
    const int n = 4;
    /* T-maze N = 2; capacity 800 env steps = 200 slots: the ring wraps during the fill;
     * no updates (warmup), so both agents act the same random walks */
    const char *const base[] = {"seq_mode", mode, "chunk", "5", "batch", "8", "capacity", "800", "warmup", "100000",
                                "eps_decay", "1000000", "burn_in", "2", NULL};
    const char *const prio[] = {"seq_mode", mode, "chunk", "5", "batch", "8", "capacity", "800", "warmup", "100000",
                                "eps_decay", "1000000", "burn_in", "2",
                                "prioritized", "1", "priority_alpha", "0", "priority_eta", "0", NULL};
    env_spec *s = env_spec_alloc("tmaze");
    ck_assert_int_eq(env_spec_set(s, "length", "2"), 0);
    long *cnt[2];
    agent *ag[2];
    for (int k = 0; k < 2; k++) {
        agent_cfg *c = cfg_of(k ? prio : base);
        env_vec *v = env_vec_alloc(s, n, 5);
        ck_assert_int_eq(env_vec_reset(v), 0);
        agent *a = agent_alloc(c, v->obs_size, v->n_actions, n, 3);
        ck_assert_ptr_nonnull(a);
        agent_actor *ac = agent_actor_alloc(a, n);
        fill(a, ac, v, 320);
        if (k) {
            /* spread the priorities over four decades: alpha = 0 ignores them */
            ck_assert_int_eq(drqn_sample(a), 0);
            gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
            for (long i = 0; i < a->prio->tree->n; i++)
                if (sumtree_get(a->prio->tree, i) > 0)
                    ck_assert_int_eq(r2d2_prio_update(a->prio, i, pow(10.0, 4.0 * gsl_rng_uniform(g) - 2.0)), 0);
            gsl_rng_free(g);
        }
        cnt[k] = calloc((size_t)a->rp->nslots * n, sizeof(long));
        draw_counts(a, 20000, cnt[k]);
        ag[k] = a;
        agent_actor_free(ac);
        env_vec_free(v);
        agent_cfg_free(c);
    }
    /* the same replay contents: the same cells can start a sequence */
    const agent_replay *r = ag[0]->rp;
    ck_assert_int_eq(r->head, ag[1]->rp->head);
    ck_assert_int_gt(r->head, r->nslots);
    ck_assert_int_eq(memcmp(r->flags, ag[1]->rp->flags, (size_t)r->nslots * n), 0);
    long ncell = r->nslots * n;
    double *w = calloc((size_t)ncell, sizeof *w);
    long starts = 0;
    for (long u = agent_replay_lo(r); u < r->head; u++)
        for (int row = 0; row < n; row++) {
            long c = (u % r->nslots) * n + row;
            w[c] = !strcmp(mode, "chunk") || (r->flags[c] & REPLAY_START);
            starts += w[c] > 0;
        }
    ck_assert_int_gt(starts, 20);
    for (int k = 0; k < 2; k++) {
        long total = 0;
        for (long c = 0; c < ncell; c++) {
            if (w[c] == 0) ck_assert_msg(cnt[k][c] == 0, "%s %s: cell %ld drawn but starts nothing", mode,
                                         k ? "prioritized" : "uniform", c);
            total += cnt[k][c];
        }
        double chi, bound;
        chi_square(cnt[k], w, ncell, total, &chi, &bound);
        ck_assert_msg(chi < bound, "%s %s: chi-square %.1f >= %.1f over %ld cells", mode,
                      k ? "prioritized" : "uniform", chi, bound, starts);
    }
    /* the two samplers against each other, cell by cell (two-sample chi-square) */
    double chi2 = 0;
    for (long c = 0; c < ncell; c++)
        if (cnt[0][c] + cnt[1][c] > 0)
            chi2 += (double)(cnt[0][c] - cnt[1][c]) * (cnt[0][c] - cnt[1][c]) / (double)(cnt[0][c] + cnt[1][c]);
    ck_assert_msg(chi2 < gsl_cdf_chisq_Qinv(1e-4, (double)(starts - 1)), "%s: uniform vs prioritized chi2 %.1f",
                  mode, chi2);
    free(w);
    for (int k = 0; k < 2; k++) {
        free(cnt[k]);
        agent_free(ag[k]);
    }
    env_spec_free(s);
}

START_TEST(test_drqn_alpha0_is_uniform) {
    check_uniform_equivalence("episode");
    check_uniform_equivalence("chunk");
}
END_TEST

/* alpha = 1, eta = 1: leaves hold the largest |TD| of their sequence's last
 * replay; a batch's weights are (P_min / P)^beta at the annealed beta; an
 * update changes the leaves it drew and no other; a new episode start enters
 * at the largest priority so far. */
START_TEST(test_drqn_priorities_follow_td) {
    const int n = 4;
    env_spec *s = env_spec_alloc("tmaze");
    ck_assert_int_eq(env_spec_set(s, "length", "6"), 0);
    agent_cfg *c = cfg_of((const char *const[]){"batch", "8", "capacity", "400", "warmup", "200", "updates_per_step",
                                                "0.25", "prioritized", "1", "priority_alpha", "1", "priority_eta",
                                                "1", "priority_beta", "0.5", "priority_beta_steps", "2000", NULL});
    env_vec *v = env_vec_alloc(s, n, 5);
    ck_assert_int_eq(env_vec_reset(v), 0);
    agent *a = agent_alloc(c, v->obs_size, v->n_actions, n, 3);
    agent_actor *ac = agent_actor_alloc(a, n);
    fill(a, ac, v, 250);
    const r2d2_prio *p = a->prio;
    const agent_replay *r = a->rp;
    /* every held episode start has a leaf, nothing else does */
    for (long u = agent_replay_lo(r); u < a->prio_head; u++)
        for (int row = 0; row < n; row++) {
            long cl = (u % r->nslots) * n + row;
            ck_assert_int_eq(sumtree_get(p->tree, cl) > 0, (r->flags[cl] & REPLAY_START) != 0);
        }
    /* a batch: probabilities from the tree, weights (P_min / P)^beta */
    ck_assert_int_eq(drqn_sample(a), 0);
    double beta = r2d2_beta_at(0.5, 2000, a->env_steps);
    ck_assert(beta > 0.5 && beta < 1.0);
    double pmin = 1;
    for (int b = 0; b < a->p.batch; b++) {
        ck_assert_int_ge(a->leaf[b], 0);
        ck_assert_double_eq_tol(a->prob[b], sumtree_get(p->tree, a->leaf[b]) / sumtree_total(p->tree), 1e-12);
        if (a->prob[b] < pmin) pmin = a->prob[b];
    }
    for (int b = 0; b < a->p.batch; b++)
        ck_assert_float_eq_tol(a->isw[b], (float)pow(pmin / a->prob[b], beta), 1e-6f);
    /* one update: only the leaves it drew change */
    long nl = p->tree->n;
    double *before = malloc(sizeof(double) * nl);
    memcpy(before, sumtree_leaves(p->tree), sizeof(double) * nl);
    ck_assert_int_eq(a->ops->update(a), 0);
    int changed = 0;
    for (long i = 0; i < nl; i++) {
        int drawn = 0;
        for (int b = 0; b < a->p.batch; b++) drawn |= a->leaf[b] == i;
        if (!drawn) ck_assert(sumtree_get(p->tree, i) == before[i]);
        changed += drawn && sumtree_get(p->tree, i) != before[i];
        ck_assert(sumtree_get(p->tree, i) <= p->max_prio);
    }
    ck_assert_int_gt(changed, 0);
    /* a slot of episode starts enters at max_prio (alpha 1: the weight) */
    float obs[4 * 3] = {0}, rew[4] = {0};
    int act[4] = {0};
    uint8_t no[4] = {0}, yes[4] = {1, 1, 1, 1};
    ck_assert_int_eq(agent_replay_add(a->rp, obs, act, rew, no, no, yes, obs, NULL), 0);
    ck_assert_int_eq(drqn_sample(a), 0);
    for (int row = 0; row < n; row++)
        ck_assert(sumtree_get(p->tree, ((r->head - 1) % r->nslots) * n + row) == p->max_prio);
    free(before);
    agent_actor_free(ac);
    agent_free(a);
    env_vec_free(v);
    agent_cfg_free(c);
    env_spec_free(s);
}
END_TEST

/* Value rescaling in drqn: the net learns values in h-space. On a T-maze of
 * length 2 the correct arm's value at the junction is the terminal reward 4,
 * so the greedy Q there converges to h(4) = sqrt(5) - 1 + 0.004 = 1.2401
 * (and to 4 without rescaling); the wrong arm's to h(-0.1) = -0.0489. */
static void junction_q(int rescale, int dueling, double *q_best, double *q_worst, double *success) {
    const int n = 8;
    env_spec *s = env_spec_alloc("tmaze");
    ck_assert_int_eq(env_spec_set(s, "length", "2"), 0);
    agent_cfg *c = cfg_of((const char *const[]){"value_rescale", rescale ? "1" : "0", "dueling", dueling ? "1" : "0",
                                                "eps_decay", "4000", "warmup", "200", NULL});
    env_vec *v = env_vec_alloc(s, n, 11);
    ck_assert_int_eq(env_vec_reset(v), 0);
    agent *a = agent_alloc(c, v->obs_size, v->n_actions, n, 4);
    agent_actor *ac = agent_actor_alloc(a, n);
    fill(a, ac, v, 2500);
    /* greedy episodes on fresh envs: the Q-values where the junction (010) shows */
    env_vec *e = env_vec_alloc(s, n, 99);
    agent_actor *ec = agent_actor_alloc(a, n);
    ck_assert_int_eq(env_vec_reset(e), 0);
    uint8_t done[8] = {0};
    int act[8], wins = 0, seen = 0;
    *q_best = *q_worst = 0;
    for (int t = 0; t < 30; t++) {
        ck_assert_int_eq(agent_act(a, ec, e->obs, e->episode_start, 1, act), 0);
        for (int i = 0; i < n; i++) {
            const float *o = e->obs + i * e->obs_size, *q = ec->q + i * e->n_actions;
            if (done[i] || !(o[0] == 0 && o[1] == 1 && o[2] == 0)) continue;
            double hi = q[0] > q[2] ? q[0] : q[2], lo = q[0] > q[2] ? q[2] : q[0];
            *q_best += hi;
            *q_worst += lo;
            seen++;
        }
        ck_assert_int_eq(env_vec_step(e, act), 0);
        for (int i = 0; i < n; i++)
            if (!done[i] && (e->terminated[i] || e->truncated[i])) {
                done[i] = 1;
                wins += e->rewards[i] > 1;
            }
    }
    ck_assert_int_gt(seen, 0);
    *q_best /= seen;
    *q_worst /= seen;
    *success = wins / (double)n;
    agent_actor_free(ec);
    env_vec_free(e);
    agent_actor_free(ac);
    agent_free(a);
    env_vec_free(v);
    agent_cfg_free(c);
    env_spec_free(s);
}

START_TEST(test_drqn_value_rescaling) {
    double best, worst, success;
    junction_q(1, 0, &best, &worst, &success);
    ck_assert_msg(success == 1.0, "rescaled: greedy success %.2f", success);
    ck_assert_msg(fabs(best - r2d2_h(4.0, R2D2_RESCALE_EPS)) < 0.1, "rescaled: Q at the junction %.3f, h(4) = %.3f",
                  best, r2d2_h(4.0, R2D2_RESCALE_EPS));
    ck_assert_msg(fabs(worst - r2d2_h(-0.1, R2D2_RESCALE_EPS)) < 0.2, "rescaled: wrong arm %.3f", worst);
    junction_q(0, 0, &best, &worst, &success);
    ck_assert_msg(success == 1.0, "plain: greedy success %.2f", success);
    ck_assert_msg(fabs(best - 4.0) < 0.3, "plain: Q at the junction %.3f, reward 4", best);
}
END_TEST

/* The dueling head learns the same values: the junction's right arm 4 (the
 * terminal reward), the wrong one -0.1, through V + a - mean(a). */
START_TEST(test_drqn_dueling) {
    double best, worst, success;
    junction_q(0, 1, &best, &worst, &success);
    ck_assert_msg(success == 1.0, "dueling: greedy success %.2f", success);
    ck_assert_msg(fabs(best - 4.0) < 0.3, "dueling: Q at the junction %.3f, reward 4", best);
    ck_assert_msg(fabs(worst + 0.1) < 0.5, "dueling: wrong arm %.3f, reward -0.1", worst);
}
END_TEST

int main(void) {
    Suite *s = suite_create("replay");
    TCase *u = tcase_create("unit");
    tcase_set_timeout(u, 300);
    tcase_add_test(u, test_sumtree_basics);
    tcase_add_test(u, test_sumtree_errors);
    tcase_add_test(u, test_sumtree_vs_brute_force);
    tcase_add_test(u, test_sumtree_updates_rebuild);
    tcase_add_test(u, test_priority_mix);
    tcase_add_test(u, test_is_weights);
    tcase_add_test(u, test_value_rescaling);
    tcase_add_test(u, test_dueling_head);
    tcase_add_test(u, test_prio_sampler);
    tcase_add_test(u, test_prio_alpha0_uniform);
    suite_add_tcase(s, u);
    TCase *d = tcase_create("drqn");
    tcase_set_timeout(d, 600);
    tcase_add_test(d, test_drqn_alpha0_is_uniform);
    tcase_add_test(d, test_drqn_priorities_follow_td);
    tcase_add_test(d, test_drqn_value_rescaling);
    tcase_add_test(d, test_drqn_dueling);
    suite_add_tcase(s, d);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
