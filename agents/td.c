/* td.c — what the Q-network updates share (see td.h). */
#include <math.h>
#include <stdlib.h>
#include "agents/td.h"

int td_argmax(const float *q, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (q[i] > q[best]) best = i;
    return best;
}

float agent_bootstrap_value(const float *q_online, const float *q_target, int n_actions, int double_q) {
    if (double_q) return q_target[td_argmax(q_online, n_actions)];
    return q_target[td_argmax(q_target, n_actions)];
}

float td_loss_grad(const agent *a, float q, float y, float *dq) {
    float d = q - y;
    if (a->p.huber && fabsf(d) > 1.0f) {
        *dq = d > 0 ? 1.0f : -1.0f;
        return fabsf(d) - 0.5f;
    }
    *dq = d;
    return 0.5f * d * d;
}

void td_head_q(const agent *a, float *buf, size_t rows) {
    if (!a->p.dueling) return;
    const int A = a->A;
    /* ascending rows: row r's Q-values land at r * A, below every raw value
     * still to be read (r * (A + 1) + 1 + j, j' >= j) */
    for (size_t r = 0; r < rows; r++) {
        const float *raw = buf + r * (size_t)(A + 1);
        float v = raw[0], s = 0;
        for (int j = 0; j < A; j++) s += raw[1 + j];
        float mean = s / (float)A;
        float *q = buf + r * (size_t)A;
        for (int j = 0; j < A; j++) q[j] = v + raw[1 + j] - mean;
    }
}

void td_head_grad(const agent *a, float *buf, size_t rows) {
    if (!a->p.dueling) return;
    const int A = a->A;
    /* descending rows, and within a row descending j, dV last: every write
     * lands above the dQ values still to be read */
    for (size_t r = rows; r-- > 0;) {
        const float *dq = buf + r * (size_t)A;
        float s = 0;
        for (int j = 0; j < A; j++) s += dq[j];
        float mean = s / (float)A;
        float *g = buf + r * (size_t)(A + 1);
        for (int j = A - 1; j >= 0; j--) g[1 + j] = dq[j] - mean;
        g[0] = s;
    }
}

int td_apply_grads(agent *a) {
    for (size_t i = 0; i < a->online->nparams; i++)
        if (!isfinite(a->online->grads[i]))
            return rql_set_error(AGENT_ENAN, "update %ld: gradient of parameter %zu is %g", a->updates, i,
                                   (double)a->online->grads[i]);
    a->grad_norm = nets_clip_grad_norm(a->online->grads, a->online->nparams, a->p.grad_clip);
    optim_step(a->opt, a->online->params, a->online->grads);
    a->updates++;
    int rc = a->p.tau > 0 ? net_polyak(a->target, a->online, a->p.tau)
             : a->updates % a->p.target_update == 0 ? net_copy(a->target, a->online) : 0;
    if (rc < 0) return rql_set_error(AGENT_EINVAL, "target update: %s", rql_error());
    return 0;
}

/* Chrono initialisation (Tallec & Ollivier 2018, "Can recurrent neural
 * networks warp time?"): the bias of the gate that keeps the state is drawn
 * per unit as log U(1, T - 1), so the units' characteristic forgetting times
 * spread up to T steps and a gradient reaches back that far from the start.
 * LSTM: forget bias b_f, input bias -b_f; GRU (PyTorch's h' = (1 - z) n + z h):
 * the z bias. In bias_ih (bias_hh stays 0), as net_init puts the forget 1. */
static void chrono_init(net *n, int layer, long T, gsl_rng *r) {
    const net_layer *L = &n->layers[layer];
    if (L->kind != LAYER_LSTM && L->kind != LAYER_GRU) return;
    int H = L->units;
    float *b = n->params + L->off_b_ih;
    double hi = T > 2 ? (double)(T - 1) : 1.0 + 1e-6;
    for (int j = 0; j < H; j++) {
        float v = (float)log(1.0 + (hi - 1.0) * gsl_rng_uniform(r));
        b[H + j] = v;                                 /* lstm gates i, f, g, o; gru r, z, n */
        if (L->kind == LAYER_LSTM) b[j] = -v;
    }
}

static int build_nets(agent *a, const layer_spec *ls, int nl) {
    const agent_params *p = &a->p;
    int B = p->batch > a->n_envs ? p->batch : a->n_envs;
    int T = a->Tmax;
    a->online = net_alloc(a->in, ls, nl, B, T);
    a->target = a->online ? net_alloc(a->in, ls, nl, B, T) : NULL;
    if (!a->online || !a->target)
        return rql_set_error(AGENT_ENOMEM, "cannot build the %s network (%d inputs, batch %d x %d steps): %s",
                               a->type_name, a->in, B, T, rql_error());
    if (net_init(a->online, a->rng) < 0)
        return rql_set_error(AGENT_EINVAL, "network init: %s", rql_error());
    for (int l = 0; p->chrono > 0 && l < nl; l++)
        if (ls[l].kind != LAYER_DENSE) chrono_init(a->online, l, p->chrono, a->rng);
    if (net_copy(a->target, a->online) < 0) return rql_set_error(AGENT_EINVAL, "network init: %s", rql_error());
    a->S = net_state_size(a->online);
    a->H = net_hidden_size(a->online);
    a->opt = optim_alloc(p->optimizer, a->online->nparams, p->lr);
    if (!a->opt) return rql_set_error(AGENT_ENOMEM, "cannot allocate the optimizer's moments");
    a->opt->momentum = p->momentum;
    return 0;
}

static int build_workspace(agent *a) {
    const agent_params *p = &a->p;
    size_t B = (size_t)p->batch, T = (size_t)a->Tmax, in = (size_t)a->in, A = (size_t)a->out, S = (size_t)a->S;
    size_t burn = (size_t)(p->burn_in > 0 ? p->burn_in : 1);
    a->x = malloc(sizeof(float) * B * T * in);
    a->xn = malloc(sizeof(float) * B * in);
    a->xb = malloc(sizeof(float) * B * burn * in);
    a->q = malloc(sizeof(float) * B * T * A);
    a->qn = malloc(sizeof(float) * B * T * A);
    a->qt = malloc(sizeof(float) * B * T * A);
    a->dy = malloc(sizeof(float) * B * T * A);
    a->yb = malloc(sizeof(float) * 2 * B * A);   /* burn-in outputs (unused), one half per net */
    a->st0 = malloc(sizeof(float) * B * (S + 1));
    a->st0t = malloc(sizeof(float) * B * (S + 1));
    a->dst0 = malloc(sizeof(float) * B * (S + 1));
    a->len = malloc(sizeof(int) * B);
    a->lenb = malloc(sizeof(int) * B);
    a->acts = malloc(sizeof(int) * B);
    a->mask = malloc(B);
    a->ret = malloc(sizeof(float) * B);
    a->disc = malloc(sizeof(float) * B);
    a->seqs = malloc(sizeof(agent_seq) * B);
    if (!a->x || !a->xn || !a->xb || !a->q || !a->qn || !a->qt || !a->dy || !a->yb || !a->st0 || !a->st0t ||
        !a->dst0 || !a->len || !a->lenb || !a->acts || !a->mask || !a->ret || !a->disc || !a->seqs)
        return rql_set_error(AGENT_ENOMEM, "cannot allocate the update workspace (batch %d x %d steps)",
                               p->batch, a->Tmax);
    return 0;
}

int td_build(agent *a, const layer_spec *ls, int nl, int store_states) {
    int rc = build_nets(a, ls, nl);
    if (rc == 0) rc = build_workspace(a);
    if (rc < 0) return rc;
    a->rp = agent_replay_alloc(a->n_envs, a->obs, store_states ? a->S : 0, a->p.capacity);
    return a->rp ? 0 : AGENT_ENOMEM;
}
