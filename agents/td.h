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
/* Builds the online and target networks of layers ls[0..nl) (over inputs
 * a->in, batch max(batch, n_envs), a->Tmax steps; sets a->S and a->H), the
 * optimizer, the update workspaces and the replay (which stores each row's
 * recurrent state, a->S floats, if store_states). */
int td_build(agent *a, const layer_spec *ls, int nl, int store_states);

#endif
