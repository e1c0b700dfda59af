/* r2d2 — the pieces Kapturowski et al. (2019), "Recurrent Experience Replay
 * in Distributed Reinforcement Learning" (R2D2), add to sequence replay:
 *
 *   priority   of a replayed sequence from the |TD errors| d_t of its trained
 *              steps: p = eta * max_t d_t + (1 - eta) * mean_t d_t (eta = 0.9
 *              in the paper)
 *   sampling   P(i) = p_i^alpha / sum_j p_j^alpha (Schaul et al. 2016, PER),
 *              through a sum tree (agents/sumtree.h): r2d2_prio holds one
 *              leaf per replay cell; a new sequence enters at the largest
 *              priority assigned so far, so it is replayed at least once soon
 *   weights    importance sampling w_i = (1 / P(i))^beta, divided by the
 *              batch's largest w (as Acme's R2D2 learner and PER do), so
 *              weights only ever scale the loss down; beta anneals linearly
 *              from beta0 to 1 (PER)
 *   rescaling  h(x) = sign(x) (sqrt(|x| + 1) - 1) + eps x (Pohlen et al.
 *              2018, eps = 1e-3 in R2D2) and its exact inverse; the n-step
 *              target becomes h(R + disc * h^-1(Q_target)), the network
 *              learns values in h-space
 *
 * Pure functions and one small sampler; no agent or replay types here.
 */
#ifndef RQL_R2D2_H
#define RQL_R2D2_H

#include <stdint.h>
#include "agents/sumtree.h"

/* eta * max + (1 - eta) * mean of absd[n] (each >= 0); 0 when n = 0. */
double r2d2_priority(const float *absd, int n, double eta);
/* Beta after t of `steps` (linear from beta0 to 1, then 1; steps <= 0: 1). */
double r2d2_beta_at(double beta0, long steps, long t);
/* w[b] = (prob[b])^-beta / max_b' (prob[b'])^-beta for b < n; every prob > 0. */
void r2d2_is_weights(const double *prob, int n, double beta, float *w);

/* Value rescaling with the R2D2 epsilon (or any eps > 0). */
double r2d2_h(double x, double eps);
double r2d2_h_inv(double y, double eps);
#define R2D2_RESCALE_EPS 1e-3

/* Prioritized sampling over nleaves cells. A leaf holds priority^alpha, or 0
 * for a cell that no sequence starts from (or that holds nothing yet). */
typedef struct {
    sumtree *tree;
    double alpha;
    double max_prio;         /* largest priority assigned so far (starts at 1) */
} r2d2_prio;

r2d2_prio *r2d2_prio_alloc(long nleaves, double alpha);
void r2d2_prio_free(r2d2_prio *p);
/* A new cell: at the max priority when it starts a sequence, else weight 0. */
int r2d2_prio_insert(r2d2_prio *p, long leaf, int starts);
/* A replayed sequence's new priority (raised to at least R2D2_PRIO_MIN so it
 * can be drawn again); raises max_prio. */
int r2d2_prio_update(r2d2_prio *p, long leaf, double priority);
#define R2D2_PRIO_MIN 1e-6
/* A leaf drawn with probability leaf / total from u01 in [0, 1), and that
 * probability; -1 when every leaf is 0. */
long r2d2_prio_sample(const r2d2_prio *p, double u01, double *prob);

#endif
