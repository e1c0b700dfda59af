/* state.c — an agent's resumable state as a table of named buffers (see
 * agent.h): what a checkpoint must hold to continue bit for bit. The names
 * are the checkpoint's dataset names; the optimizer's moments are named as
 * torch.optim's state (Adam exp_avg / exp_avg_sq kept as adam_m / adam_v, SGD
 * momentum_buffer, RMSProp square_avg and momentum_buffer), so a checkpoint
 * of another optimizer is refused as a missing buffer. Scalars that live in
 * other types (counters, sizes, flags) are listed through the agent's staging
 * copies (agent_io) and applied by agent_state_restore. */
#include <stdio.h>
#include <string.h>
#include "agents/agent_internal.h"

enum { STAGE_SHAPE, STAGE_SIZES, STAGE_CONTENTS };
#define NMETA ((int)(sizeof((agent_io *)0)->meta / sizeof(int64_t)))

/* The shape of what is saved; a restore into a differently built agent fails. */
static void meta_of(const agent *a, const agent_actor *ac, int64_t *m) {
    m[0] = a->p.type; m[1] = a->obs; m[2] = a->A; m[3] = a->n_envs; m[4] = a->p.k; m[5] = a->S;
    m[6] = ac ? ac->n : 0; m[7] = a->online ? (int64_t)a->online->nparams : 0;
    m[8] = a->rp ? a->rp->nslots : 0; m[9] = a->rp ? a->rp->state_size : 0; m[10] = a->tab.kd;
}

static const char *opt_name(opt_kind k) { return k == OPT_ADAM ? "adam" : k == OPT_SGD ? "sgd" : "rmsprop"; }

typedef struct {
    agent_buf *out;
    int n, cap;
} table;

static void add(table *t, int stage, const char *name, agent_buf_type type, void *ptr, size_t count) {
    if (t->n < t->cap) {
        agent_buf *b = &t->out[t->n];
        snprintf(b->name, sizeof b->name, "%s", name);
        b->type = type;
        b->ptr = ptr;
        b->count = count;
        b->stage = stage;
    }
    t->n++;
}

int agent_state_table(agent *a, agent_actor *ac, agent_buf *out, int cap) {
    if (!a || (!out && cap > 0)) return rql_set_error(AGENT_EINVAL, "agent_state_table: agent or table is NULL");
    agent_io *io = &a->io;
    table t = {out, 0, cap};
    meta_of(a, ac, io->meta);
    add(&t, STAGE_SHAPE, "agent_meta", AGENT_BUF_I64, io->meta, NMETA);
    io->counters[0] = a->env_steps;
    io->counters[1] = a->updates;
    io->counters[2] = a->rp ? a->rp->head : 0;
    add(&t, STAGE_SIZES, "counters", AGENT_BUF_I64, io->counters, 3);
    add(&t, STAGE_CONTENTS, "credit", AGENT_BUF_F64, &a->credit, 1);
    io->last_stats[0] = a->loss;
    io->last_stats[1] = a->q_mean;
    io->last_stats[2] = a->grad_norm;
    add(&t, STAGE_CONTENTS, "last_stats", AGENT_BUF_F32, io->last_stats, 3);
    add(&t, STAGE_CONTENTS, "rng", AGENT_BUF_U8, gsl_rng_state(a->rng), gsl_rng_size(a->rng));
    if (a->p.eps_episodes > 0) {
        io->episodes = a->episodes;
        add(&t, STAGE_CONTENTS, "episodes", AGENT_BUF_I64, &io->episodes, 1);
    }
    if (a->prio) {
        /* the tree's leaves; the sums above them are rebuilt bit for bit (sumtree.h) */
        io->prio_head = a->prio_head;
        add(&t, STAGE_CONTENTS, "priority_head", AGENT_BUF_I64, &io->prio_head, 1);
        add(&t, STAGE_CONTENTS, "priority_max", AGENT_BUF_F64, &a->prio->max_prio, 1);
        add(&t, STAGE_CONTENTS, "priority_leaves", AGENT_BUF_F64, (double *)sumtree_leaves(a->prio->tree),
            (size_t)a->prio->tree->n);
    }
    if (a->online) {
        add(&t, STAGE_CONTENTS, "online", AGENT_BUF_NET, a->online, 0);
        add(&t, STAGE_CONTENTS, "target", AGENT_BUF_NET, a->target, 0);
        optim *o = a->opt;
        const char *kn = opt_name(o->kind);
        char name[48];
        io->opt_t = o->t;
        snprintf(name, sizeof name, "%s_t", kn);
        add(&t, STAGE_CONTENTS, name, AGENT_BUF_I64, &io->opt_t, 1);
        if (o->kind == OPT_ADAM) {
            add(&t, STAGE_CONTENTS, "adam_m", AGENT_BUF_F32, o->m, o->n);
            add(&t, STAGE_CONTENTS, "adam_v", AGENT_BUF_F32, o->v, o->n);
        } else {
            snprintf(name, sizeof name, "%s_momentum_buffer", kn);
            if (o->m) add(&t, STAGE_CONTENTS, name, AGENT_BUF_F32, o->m, o->n);
            snprintf(name, sizeof name, "%s_square_avg", kn);
            if (o->v) add(&t, STAGE_CONTENTS, name, AGENT_BUF_F32, o->v, o->n);
        }
    }
    if (a->rp) {
        agent_replay *r = a->rp;
        size_t filled = (size_t)(r->head < r->nslots ? r->head : r->nslots) * r->n;
        add(&t, STAGE_CONTENTS, "replay_obs", AGENT_BUF_F32, r->obs, filled * r->obs_size);
        add(&t, STAGE_CONTENTS, "replay_final_obs", AGENT_BUF_F32, r->fin, filled * r->obs_size);
        add(&t, STAGE_CONTENTS, "replay_rewards", AGENT_BUF_F32, r->rew, filled);
        add(&t, STAGE_CONTENTS, "replay_actions", AGENT_BUF_I32, r->act, filled);
        add(&t, STAGE_CONTENTS, "replay_flags", AGENT_BUF_U8, r->flags, filled);
        if (r->state) add(&t, STAGE_CONTENTS, "replay_states", AGENT_BUF_F32, r->state, filled * r->state_size);
    }
    if (a->tab.keys) {
        /* the table grows as it fills: a restore rebuilds it at the saved size */
        io->tab_cap = a->tab.cap;
        io->tab_count = a->tab.count;
        add(&t, STAGE_SIZES, "qtable_cap", AGENT_BUF_I64, &io->tab_cap, 1);
        add(&t, STAGE_CONTENTS, "qtable_count", AGENT_BUF_I64, &io->tab_count, 1);
        add(&t, STAGE_CONTENTS, "qtable_keys", AGENT_BUF_F32, a->tab.keys, (size_t)a->tab.cap * a->tab.kd);
        add(&t, STAGE_CONTENTS, "qtable_q", AGENT_BUF_F32, a->tab.q, (size_t)a->tab.cap * a->A);
        add(&t, STAGE_CONTENTS, "qtable_used", AGENT_BUF_U8, a->tab.used, (size_t)a->tab.cap);
    }
    if (ac) {
        actor_priv *pv = ac->priv;
        size_t n = (size_t)ac->n, kd = (size_t)a->p.k * a->obs;
        io->acted = pv->acted;
        add(&t, STAGE_CONTENTS, "actor_acted", AGENT_BUF_I32, &io->acted, 1);
        add(&t, STAGE_CONTENTS, "actor_obs", AGENT_BUF_F32, pv->obs, n * a->obs);
        add(&t, STAGE_CONTENTS, "actor_actions", AGENT_BUF_I32, pv->act, n);
        add(&t, STAGE_CONTENTS, "actor_start", AGENT_BUF_U8, pv->start, n);
        add(&t, STAGE_CONTENTS, "actor_q", AGENT_BUF_F32, ac->q, n * a->A);
        if (pv->state) {
            add(&t, STAGE_CONTENTS, "actor_state", AGENT_BUF_F32, pv->state, n * a->S);
            add(&t, STAGE_CONTENTS, "actor_state_before", AGENT_BUF_F32, pv->before, n * a->S);
            add(&t, STAGE_CONTENTS, "actor_hidden", AGENT_BUF_F32, ac->hidden, n * a->H);
            if (ac->cell) add(&t, STAGE_CONTENTS, "actor_cell", AGENT_BUF_F32, ac->cell, n * a->H);
        } else {
            add(&t, STAGE_CONTENTS, "actor_window", AGENT_BUF_F32, pv->win, n * kd);
        }
    }
    if (t.n > cap)
        return rql_set_error(AGENT_EINVAL, "agent_state_table: %d buffers, the table holds %d", t.n, cap);
    return t.n;
}

int agent_state_restore(agent *a, agent_actor *ac, int stage) {
    if (!a) return rql_set_error(AGENT_EINVAL, "agent_state_restore: agent is NULL");
    agent_io *io = &a->io;
    if (stage == STAGE_SHAPE) {
        static const char *what[NMETA] = {"agent type", "obs size", "actions", "n_envs", "window k", "state size",
                                          "actor rows", "network parameters", "replay slots",
                                          "stored state size", "qtable key size"};
        int64_t m[NMETA];
        meta_of(a, ac, m);
        for (int i = 0; i < NMETA; i++)
            if (m[i] != io->meta[i])
                return rql_set_error(AGENT_EINVAL, "agent state: %s is %lld in the saved state, %lld in this agent",
                                       what[i], (long long)io->meta[i], (long long)m[i]);
    } else if (stage == STAGE_SIZES) {
        a->env_steps = io->counters[0];
        a->updates = io->counters[1];
        if (a->rp) a->rp->head = io->counters[2];
        if (a->tab.keys && io->tab_cap != a->tab.cap) {
            int64_t cap = io->tab_cap;
            if (cap < 16 || (cap & (cap - 1)))
                return rql_set_error(AGENT_EIO, "agent state: qtable_cap = %lld is not a power of 2 >= 16",
                                       (long long)cap);
            int kd = a->tab.kd;
            qtab_free(&a->tab);
            if (qtab_init(&a->tab, kd, a->A, (long)cap) < 0) return AGENT_ENOMEM;
        }
    } else if (stage == STAGE_CONTENTS) {
        a->loss = io->last_stats[0];
        a->q_mean = io->last_stats[1];
        a->grad_norm = io->last_stats[2];
        if (a->opt) a->opt->t = io->opt_t;
        if (a->tab.keys) a->tab.count = io->tab_count;
        if (ac) ((actor_priv *)ac->priv)->acted = io->acted;
        if (a->p.eps_episodes > 0) a->episodes = io->episodes;
        if (a->prio) {
            a->prio_head = io->prio_head;
            if (sumtree_rebuild(a->prio->tree, sumtree_leaves(a->prio->tree)) < 0)
                return rql_set_error(AGENT_EIO, "agent state: priority_leaves: %s", rql_error());
        }
    } else {
        return rql_set_error(AGENT_EINVAL, "agent_state_restore: stage %d (0..%d)", stage, AGENT_STATE_STAGES - 1);
    }
    return 0;
}
