/* td — what the Q-network updates share, below them (dqn.c, drqn.c and
 * qtable.c call it; it calls only replay.c and nets): the greedy action, the
 * TD loss and its gradient, the optimizer step with its checks, clipping and
 * target-network update, and building the networks, update workspaces and
 * replay of a Q-network agent. agent_bootstrap_value (agent.h) lives here
 * too. Private to agents/.
 *
 * Files: td.c.
 */
#ifndef RQL_AGENT_TD_H
#define RQL_AGENT_TD_H

#include "agents/agent_internal.h"

/* Index of the largest of q[0..n) (ties: the lowest index). */
int td_argmax(const float *q, int n);
/* The loss of Q-value q against target y (Huber with delta 1 or squared, as
 * configured); *dq receives dloss/dq. */
float td_loss_grad(const agent *a, float q, float y, float *dq);
/* After net_backward: refuses non-finite gradients (AGENT_ENAN), clips by
 * global norm, takes the optimizer step, counts the update and updates the
 * target network (Polyak every update, or a copy every target_update). */
int td_apply_grads(agent *a);
/* The dueling head (Wang et al. 2016, "Dueling network architectures"; R2D2
 * uses it): a net row of 1 + A outputs (V, then the advantages a_0..a_{A-1})
 * gives Q_j = V + a_j - mean(a). td_head_q turns `rows` rows of a->out floats
 * into rows of A Q-values, in place and packed (row r at r * A); without a
 * dueling head it does nothing. td_head_grad is its transpose: rows of dL/dQ
 * (A floats, packed) become rows of dL/d(net output) (a->out floats) in
 * place: dV = sum_j dQ_j, da_j = dQ_j - mean(dQ). */
void td_head_q(const agent *a, float *buf, size_t rows);
void td_head_grad(const agent *a, float *buf, size_t rows);
/* Builds the online and target networks of layers ls[0..nl) (over inputs
 * a->in, batch max(batch, n_envs), a->Tmax steps; sets a->S and a->H), the
 * optimizer, the update workspaces and the replay (which stores each row's
 * recurrent state, a->S floats, if store_states). */
int td_build(agent *a, const layer_spec *ls, int nl, int store_states);

#endif
