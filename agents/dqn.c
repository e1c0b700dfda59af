/* dqn.c — the memoryless Q-network (dqn_ops): dense layers over the window
 * of the last k observations, acting on each row's window, and one update
 * from transition replay: a batch of n-step transitions (windows assembled at
 * sampling time), the bootstrap value from the target net (double Q: of the
 * online net's greedy action), Huber or squared TD loss on the taken action,
 * the optimizer step with clipping.
 * The online net's forward on the bootstrap windows runs before the one that
 * is differentiated, since net_backward uses the last forward. */
#include <math.h>
#include <string.h>
#include "agents/td.h"

/* Draws batch transitions uniformly over the held (slot, row) steps; a draw
 * whose lookahead is not complete yet is drawn again. */
static int sample(agent *a) {
    const agent_replay *r = a->rp;
    const int B = a->p.batch, in = a->in;
    long lo = agent_replay_lo(r), span = r->head - lo;
    for (int b = 0; b < B; b++) {
        for (int tries = 0;; tries++) {
            if (tries > 10000)
                return rql_set_error(AGENT_EINVAL, "dqn: no complete transition in %ld replay slots", span);
            long u = lo + (long)gsl_rng_uniform_int(a->rng, (unsigned long)span);
            int row = (int)gsl_rng_uniform_int(a->rng, (unsigned long)r->n);
            if (agent_replay_transition(r, u, row, a->p.k, a->p.n_step, a->p.gamma, a->x + (size_t)b * in,
                                        &a->acts[b], &a->ret[b], &a->disc[b], a->xn + (size_t)b * in) == 0)
                break;
        }
    }
    return 0;
}

static int update(agent *a) {
    if (a->rp->head < 2) return 0;
    const int B = a->p.batch, A = a->A;
    int rc = sample(a);
    if (rc < 0) return rc;
    if (net_forward(a->target, a->xn, NULL, B, 1, NULL, 0, a->qt, NULL) < 0 ||
        (a->p.double_q && net_forward(a->online, a->xn, NULL, B, 1, NULL, 0, a->qn, NULL) < 0) ||
        net_forward(a->online, a->x, NULL, B, 1, NULL, 0, a->q, NULL) < 0)
        return rql_set_error(AGENT_EINVAL, "dqn update: %s", rql_error());
    td_head_q(a, a->qt, (size_t)B);
    if (a->p.double_q) td_head_q(a, a->qn, (size_t)B);
    td_head_q(a, a->q, (size_t)B);
    memset(a->dy, 0, sizeof(float) * B * A);
    double loss = 0, qsum = 0;
    for (int b = 0; b < B; b++) {
        float v = agent_bootstrap_value(a->p.double_q ? a->qn + b * A : a->qt + b * A, a->qt + b * A, A,
                                        a->p.double_q);
        float y = a->ret[b] + a->disc[b] * v, q = a->q[b * A + a->acts[b]], dq;
        loss += td_loss_grad(a, q, y, &dq);
        a->dy[b * A + a->acts[b]] = dq / B;
        qsum += q;
    }
    td_head_grad(a, a->dy, (size_t)B);
    net_zero_grad(a->online);
    if (net_backward(a->online, a->dy, NULL) < 0) return rql_set_error(AGENT_EINVAL, "dqn update: %s", rql_error());
    a->loss = (float)(loss / B);
    a->q_mean = (float)(qsum / B);
    return td_apply_grads(a);
}

static int init(agent *a) {
    const agent_params *p = &a->p;
    layer_spec ls[12];
    int nl = 0;
    for (int l = 0; l < p->layers; l++) ls[nl++] = (layer_spec){LAYER_DENSE, p->hidden, ACT_RELU, 0};
    ls[nl++] = (layer_spec){LAYER_DENSE, a->out, ACT_NONE, 0};
    a->Tmax = 1;
    return td_build(a, ls, nl, 0);
}

static int q_values(agent *a, agent_actor *ac, const float *obs, const uint8_t *episode_start) {
    actor_priv *pv = ac->priv;
    const int n = ac->n, os = a->obs, k = a->p.k;
    const size_t kd = (size_t)k * os;
    for (int i = 0; i < n; i++) agent_window_push(pv->win + i * kd, obs + (size_t)i * os, k, os, episode_start[i]);
    /* the net's acting workspace holds max_batch rows: step in blocks */
    int mb = a->online->max_batch;
    for (int b0 = 0; b0 < n; b0 += mb) {
        int B = n - b0 < mb ? n - b0 : mb;
        if (net_step(a->online, pv->win + (size_t)b0 * kd, NULL, B, ac->q + (size_t)b0 * a->out) < 0)
            return rql_set_error(AGENT_EINVAL, "agent_act: %s", rql_error());
    }
    td_head_q(a, ac->q, (size_t)n);
    return 0;
}

const agent_ops dqn_ops = {.init = init, .q_values = q_values, .update = update};
