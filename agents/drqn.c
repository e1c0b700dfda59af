/* drqn.c — the recurrent Q-network (drqn_ops): a dense encoder, a recurrent
 * core and a dense Q head; acting steps each row's recurrent state, and one
 * update learns from sequence replay.
 *
 * A batch of sequences (whole episodes, or chunks of `chunk` steps) is
 * gathered batch-major with per-row lengths: burn-in steps [p0, u) first,
 * then train steps, up to n_step lookahead steps and the final observation
 * of an episode that ended inside. The start state of a row is the net's
 * initial state (zero or learned h0) where the sequence begins its episode,
 * otherwise zero, h0 or the state stored when the step was acted (R2D2).
 * Burn-in runs as its own forward (no loss, no gradient: it only warms the
 * state); then the target net and the online net each make one whole-sequence
 * pass, n-step double-Q targets are read off both, and BPTT runs once.
 *
 * Prioritized (R2D2): sequences are drawn from a sum tree over the replay
 * cells (one leaf per slot and row; a leaf is nonzero where a sequence may
 * start), new cells enter at the largest priority so far, each sequence's
 * loss is scaled by its importance-sampling weight, and its priority is
 * set from the |TD errors| of its trained steps after the forward pass.
 * Value rescaling: targets h(R + disc h^-1(Q_target)). Both off by default,
 * and then this file computes exactly what it did before them. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agents/td.h"
#include "util/prof.h"

static inline size_t rcell(const agent_replay *r, long u, int row) {
    return (size_t)(u % r->nslots) * r->n + row;
}

/* Rejection tries per batch row before the sampler indexes the episode
 * starts instead. With starts one in q cells, a row needs q tries on
 * average and more than SAMPLE_TRIES with probability (1 - 1/q)^SAMPLE_TRIES:
 * below 1e-8 for episodes up to 200 steps, so every existing config draws
 * exactly what the plain rejection sampler drew. */
#define SAMPLE_TRIES 4096

static int sample_uniform(agent *a) {
    const agent_replay *r = a->rp;
    const agent_params *p = &a->p;
    long lo = agent_replay_lo(r), span = r->head - lo;
    int max_train = p->seq_mode == SEQ_CHUNK ? p->chunk : p->max_len;
    /* The episode starts held, as cell numbers (u - lo) * n + row: built
     * only when a row's rejection tries all missed (starts are rare, or
     * there are none), once per call. */
    long *starts = NULL, nstarts = -1;
    int rc = 0;
    for (int b = 0; b < p->batch && !rc; b++) {
        long u = 0;
        int row = 0, found = p->seq_mode == SEQ_CHUNK;
        /* episode mode: uniform over the episode starts held, by rejection
         * (a start is one step in the episode length, so this is cheap) */
        for (int tries = 0; nstarts != 0 && tries < (found ? 1 : SAMPLE_TRIES); tries++) {
            u = lo + (long)gsl_rng_uniform_int(a->rng, (unsigned long)span);
            row = (int)gsl_rng_uniform_int(a->rng, (unsigned long)r->n);
            if (found || (r->flags[rcell(r, u, row)] & REPLAY_START)) { found = 1; break; }
        }
        if (!found && nstarts < 0) {
            /* still uniform over the starts: a row that reaches this point
             * draws one of them with equal probability */
            size_t cells = (size_t)span * (size_t)r->n;
            starts = malloc((cells ? cells : 1) * sizeof *starts);
            if (!starts) { rc = rql_set_error(AGENT_ENOMEM, "drqn: out of memory indexing %zu replay cells", cells); break; }
            nstarts = 0;
            for (long v = lo; v < r->head; v++)
                for (int k = 0; k < r->n; k++)
                    if (r->flags[rcell(r, v, k)] & REPLAY_START) starts[nstarts++] = (v - lo) * r->n + k;
        }
        if (!found && nstarts > 0) {
            long c = starts[gsl_rng_uniform_int(a->rng, (unsigned long)nstarts)];
            u = lo + c / r->n;
            row = (int)(c % r->n);
        } else if (!found) {
            /* no start held at all (one episode longer than the replay):
             * a uniform cell serves as a chunk start with the state_init
             * start state */
            u = lo + (long)gsl_rng_uniform_int(a->rng, (unsigned long)span);
            row = (int)gsl_rng_uniform_int(a->rng, (unsigned long)r->n);
        }
        if (agent_replay_plan(r, u, row, max_train, p->burn_in, p->n_step, &a->seqs[b]) < 0)
            rc = rql_set_error(AGENT_EINVAL, "drqn: cannot plan a sequence at slot %ld row %d", u, row);
    }
    free(starts);
    return rc;
}

/* Enters the cells of the slots written since the last sync into the sum
 * tree: a cell that may start a sequence (every step in chunk mode, an
 * episode start in episode mode) at the largest priority so far, any other
 * at 0. A slot the ring overwrote replaces its old leaves. */
static int prio_sync(agent *a) {
    const agent_replay *r = a->rp;
    long u = a->prio_head > r->head - r->nslots ? a->prio_head : r->head - r->nslots;
    for (u = u < 0 ? 0 : u; u < r->head; u++)
        for (int row = 0; row < r->n; row++) {
            size_t c = rcell(r, u, row);
            int rc = r2d2_prio_insert(a->prio, (long)c,
                                      a->p.seq_mode == SEQ_CHUNK || (r->flags[c] & REPLAY_START));
            if (rc < 0) return rc;
        }
    a->prio_head = r->head;
    return 0;
}

int drqn_sample(agent *a) {
    if (!a->prio) return sample_uniform(a);
    const agent_replay *r = a->rp;
    const agent_params *p = &a->p;
    int max_train = p->seq_mode == SEQ_CHUNK ? p->chunk : p->max_len;
    int rc = prio_sync(a);
    if (rc < 0) return rc;
    if (!(sumtree_total(a->prio->tree) > 0)) {
        /* no cell may start a sequence (no episode start held): uniform,
         * unweighted */
        for (int b = 0; b < p->batch; b++) {
            a->leaf[b] = -1;
            a->isw[b] = 1.0f;
        }
        return sample_uniform(a);
    }
    long lo = agent_replay_lo(r);
    for (int b = 0; b < p->batch; b++) {
        /* a leaf is a cell (slot, row); its slot holds the one step u of
         * [lo, head) with u % nslots == slot */
        long leaf = r2d2_prio_sample(a->prio, gsl_rng_uniform(a->rng), &a->prob[b]);
        a->leaf[b] = leaf;
        long slot = leaf / r->n, u = lo + ((slot - lo % r->nslots) + r->nslots) % r->nslots;
        int row = (int)(leaf % r->n);
        if (agent_replay_plan(r, u, row, max_train, p->burn_in, p->n_step, &a->seqs[b]) < 0)
            return rql_set_error(AGENT_EINVAL, "drqn: cannot plan a sequence at slot %ld row %d", u, row);
    }
    r2d2_is_weights(a->prob, p->batch, r2d2_beta_at(p->prio_beta, p->prio_beta_steps, a->env_steps), a->isw);
    return 0;
}

/* Start states of the rows for network n (online or target, each with its
 * own learned h0). */
static void start_states(agent *a, const net *n, float *st) {
    const agent_replay *r = a->rp;
    const int B = a->p.batch, S = a->S;
    memset(st, 0, sizeof(float) * B * S);
    for (int b = 0; b < B; b++) {
        const agent_seq *s = &a->seqs[b];
        a->mask[b] = s->at_start || a->p.state_init == STATE_LEARNED;
        if (!s->at_start && a->p.state_init == STATE_STORED)
            memcpy(st + (size_t)b * S, r->state + rcell(r, s->p0, s->row) * S, sizeof(float) * S);
    }
    net_state_reset(n, st, B, a->mask);
}

/* Multiply-adds of one forward pass of n over `rows` (batch rows x steps). */
#define PAR_MACS 16777216.0
static double forward_macs(const net *n, int rows) {
    double m = 0;
    for (int l = 0; l < n->nlayers; l++) {
        const net_layer *L = &n->layers[l];
        int g = (L->kind == LAYER_LSTM ? 4 : L->kind == LAYER_GRU ? 3 : 1) * L->units;
        m += (double)g * (L->in + (L->kind == LAYER_DENSE ? 0 : L->units));
    }
    return m * rows;
}

static int update(agent *a) {
    const agent_replay *r = a->rp;
    const agent_params *p = &a->p;
    const int B = p->batch, A = a->A, os = a->obs;
    if (r->head < 1) return 0;
    double tp = rql_prof_mark();
    int rc = drqn_sample(a);
    if (rc < 0) return rc;
    int Tm = 1, Bm = 0;
    for (int b = 0; b < B; b++) {
        const agent_seq *s = &a->seqs[b];
        a->len[b] = s->train + s->look + s->has_final;
        a->lenb[b] = s->burn;
        if (a->len[b] > Tm) Tm = a->len[b];
        if (s->burn > Bm) Bm = s->burn;
    }
    /* gather: x [B, Tm, obs], xb [B, Bm, obs] */
    for (int b = 0; b < B; b++) {
        const agent_seq *s = &a->seqs[b];
        const long u = s->p0 + s->burn;
        for (int t = 0; t < s->burn; t++)
            memcpy(a->xb + ((size_t)b * Bm + t) * os, r->obs + rcell(r, s->p0 + t, s->row) * os, sizeof(float) * os);
        int held = s->train + s->look;
        for (int t = 0; t < held; t++)
            memcpy(a->x + ((size_t)b * Tm + t) * os, r->obs + rcell(r, u + t, s->row) * os, sizeof(float) * os);
        if (s->has_final)
            memcpy(a->x + ((size_t)b * Tm + held) * os, r->fin + rcell(r, u + held - 1, s->row) * os,
                   sizeof(float) * os);
    }
    start_states(a, a->target, a->st0t);
    start_states(a, a->online, a->st0);
    if (rql_prof_on) {
        rql_prof_lap(RQL_PROF_REPLAY, &tp);
        for (int b = 0; b < B; b++) {
            rql_prof_on->rows_fwd += 2L * (a->len[b] + a->lenb[b]);
            rql_prof_on->rows_bwd += a->len[b];
        }
    }
    /* The target and the online net each run burn-in and the sequence on
     * their own workspace: on two threads when there are two and a pass is
     * large enough to pay for waking the second (each net's arithmetic is
     * the same either way, so the results do not depend on it). Below
     * PAR_MACS a pass is a millisecond or two, about what waiting for a
     * thread that another process preempted costs on a busy machine. A
     * failure's message is thread-local: it is carried back. */
    int rcn[2] = {0, 0};
    char why[2][256] = {"", ""};
    int par = omp_get_max_threads() > 1 && !omp_in_parallel() && forward_macs(a->online, B * (Tm + Bm)) >= PAR_MACS;
    #pragma omp parallel for num_threads(2) schedule(static, 1) if (par)
    for (int k = 0; k < 2; k++) {
        net *nk = k ? a->online : a->target;
        float *st = k ? a->st0 : a->st0t, *q = k ? a->q : a->qt;
        float *yb = k ? a->yb : a->yb + (size_t)B * a->out;
        if (Bm > 0 && net_forward(nk, a->xb, a->lenb, B, Bm, st, 0, yb, st) < 0) rcn[k] = -1;
        else if (net_forward(nk, a->x, a->len, B, Tm, st, 1, q, NULL) < 0) rcn[k] = -2;
        else td_head_q(a, q, (size_t)B * Tm);
        if (rcn[k]) snprintf(why[k], sizeof why[k], "%s", rql_error());
    }
    for (int k = 0; k < 2; k++)
        if (rcn[k])
            return rql_set_error(AGENT_EINVAL, "drqn %s: %s", rcn[k] == -1 ? "burn-in" : "forward", why[k]);
    memset(a->dy, 0, sizeof(float) * B * Tm * A);
    double loss = 0, qsum = 0;
    long count = 0;
    for (int b = 0; b < B; b++) {
        const agent_seq *s = &a->seqs[b];
        const long u = s->p0 + s->burn;
        int nd = 0;
        for (int i = 0; i < s->train; i++) {
            float ret, disc;
            int boot;
            if (agent_seq_target(r, s, i, p->n_step, p->gamma, &ret, &disc, &boot) < 0) continue;
            const float *qb = a->q + ((size_t)b * Tm + boot) * A, *qtb = a->qt + ((size_t)b * Tm + boot) * A;
            float y;
            if (p->value_rescale) {
                /* the net's values live in h-space: back to returns, add, forward again */
                double v = disc > 0 ? disc * r2d2_h_inv(agent_bootstrap_value(qb, qtb, A, p->double_q),
                                                        R2D2_RESCALE_EPS) : 0.0;
                y = (float)r2d2_h(ret + v, R2D2_RESCALE_EPS);
            } else {
                y = ret + (disc > 0 ? disc * agent_bootstrap_value(qb, qtb, A, p->double_q) : 0.0f);
            }
            int act = r->act[rcell(r, u + i, s->row)];
            size_t at = ((size_t)b * Tm + i) * A + act;
            float dq, l = td_loss_grad(a, a->q[at], y, &dq);
            if (a->prio) {
                a->absd[nd++] = fabsf(a->q[at] - y);
                l *= a->isw[b];
                dq *= a->isw[b];
            }
            loss += l;
            a->dy[at] = dq;
            qsum += a->q[at];
            count++;
        }
        /* R2D2: the sequence's new priority from this pass's TD errors */
        if (a->prio && a->leaf[b] >= 0 && nd > 0) {
            int rc = r2d2_prio_update(a->prio, a->leaf[b], r2d2_priority(a->absd, nd, p->prio_eta));
            if (rc < 0) return rc;
        }
    }
    if (!count) return 0;               /* nothing with a complete target yet */
    rql_prof_lap(RQL_PROF_FORWARD, &tp);
    float scale = 1.0f / (float)count;
    for (size_t i = 0; i < (size_t)B * Tm * A; i++) a->dy[i] *= scale;
    td_head_grad(a, a->dy, (size_t)B * Tm);
    net_zero_grad(a->online);
    if (net_backward(a->online, a->dy, p->learn_h0 ? a->dst0 : NULL) < 0)
        return rql_set_error(AGENT_EINVAL, "drqn backward: %s", rql_error());
    if (p->learn_h0) {
        /* rows that started from h0 (and were not burnt in) pass their
         * dL/dstate0 on to it: net_backward does not, as a state0 was given */
        for (int b = 0; b < B; b++) a->mask[b] = a->mask[b] && !a->seqs[b].burn;
        net_state0_grad_accumulate(a->online, a->dst0, B, a->mask);
    }
    a->loss = (float)(loss / count);
    a->q_mean = (float)(qsum / count);
    rql_prof_lap(RQL_PROF_BACKWARD, &tp);
    rc = td_apply_grads(a);
    rql_prof_lap(RQL_PROF_OPTIM, &tp);
    return rc;
}

static int init(agent *a) {
    const agent_params *p = &a->p;
    if (p->state_init == STATE_LEARNED && !p->learn_h0)
        return rql_set_error(AGENT_EINVAL, "state_init = learned needs learn_h0 = true");
    int train = p->seq_mode == SEQ_CHUNK ? p->chunk : p->max_len;
    a->Tmax = train + p->n_step + 1;
    layer_spec ls[3];
    int nl = 0;
    if (p->encoder > 0) ls[nl++] = (layer_spec){LAYER_DENSE, p->encoder, ACT_RELU, 0};
    ls[nl++] = (layer_spec){p->cell, p->hidden, ACT_NONE, p->learn_h0};
    ls[nl++] = (layer_spec){LAYER_DENSE, a->out, ACT_NONE, 0};
    int rc = td_build(a, ls, nl, p->state_init == STATE_STORED);
    if (rc < 0 || !p->prioritized) return rc;
    a->prio = r2d2_prio_alloc(a->rp->nslots * a->n_envs, p->prio_alpha);
    a->leaf = malloc(sizeof(long) * p->batch);
    a->prob = malloc(sizeof(double) * p->batch);
    a->isw = malloc(sizeof(float) * p->batch);
    a->absd = malloc(sizeof(float) * a->Tmax);
    if (!a->prio || !a->leaf || !a->prob || !a->isw || !a->absd)
        return a->prio ? rql_set_error(AGENT_ENOMEM, "drqn: out of memory for prioritized replay") : AGENT_ENOMEM;
    return 0;
}

static int q_values(agent *a, agent_actor *ac, const float *obs, const uint8_t *episode_start) {
    actor_priv *pv = ac->priv;
    const int n = ac->n, os = a->obs, S = a->S;
    net_state_reset(a->online, pv->state, n, episode_start);
    /* R2D2 stores the state BEFORE the observation is consumed (Acme #259) */
    memcpy(pv->before, pv->state, sizeof(float) * n * S);
    /* the net's acting workspace holds max_batch rows: step in blocks */
    int mb = a->online->max_batch;
    for (int b0 = 0; b0 < n; b0 += mb) {
        int B = n - b0 < mb ? n - b0 : mb;
        if (net_step(a->online, obs + (size_t)b0 * os, pv->state + (size_t)b0 * S, B, ac->q + (size_t)b0 * a->out) < 0)
            return rql_set_error(AGENT_EINVAL, "agent_act: %s", rql_error());
    }
    td_head_q(a, ac->q, (size_t)n);
    net_state_hidden(a->online, pv->state, n, ac->hidden, ac->cell);
    return 0;
}

const agent_ops drqn_ops = {.init = init, .q_values = q_values, .update = update};
