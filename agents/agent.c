/* agent.c — the agent types and their parameter tables, configurations,
 * allocation, batched acting, observing (replay + the updates that are due)
 * and the exploration schedule. What differs by type (building, Q-values,
 * learning) is reached through the type's agent_ops (qtable.c, dqn.c,
 * drqn.c); the replay is in replay.c, the resumable state in state.c. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "agents/td.h"
#include "util/prof.h"

/* ---- parameter tables ----------------------------------------------------------
 * Defaults are the ones that solve the T-maze (length 10) fastest in the
 * benchmark (rql bench memory); docs/agents.md explains each. */
#define EXPLORE(decay)                                                                            \
    {"eps_start", PARAM_REAL, "1", 0, 1, "epsilon of epsilon-greedy at step 0", NULL},                \
    {"eps_end", PARAM_REAL, "0.05", 0, 1, "epsilon after eps_decay env steps", NULL},                \
    {"eps_decay", PARAM_INT, decay, 1, 1e12, "env steps (summed over envs) of the epsilon decay", NULL}, \
    {"eps_shape", PARAM_STR, "linear", 0, 0, "linear|exp: linear ramp, or geometric approach to eps_end", \
     "linear|exp"},                                                                                \
    {"eps_episodes", PARAM_INT, "0", 0, 1e12,                                                      \
     "if > 0: the decay runs over this many finished episodes (summed over envs), not eps_decay steps", NULL}, \
    {"eps_alpha", PARAM_REAL, "0", 0, 100,                                                         \
     "per-row epsilons (Ape-X, R2D2): row i of n explores with eps^(1 + eps_alpha i / (n - 1)); 0: eps on every row", NULL}
#define LEARN(lr, gamma, nstep, batch, cap, warm, ups, tu)                                         \
    {"optimizer", PARAM_STR, "adam", 0, 0, "adam|rmsprop|sgd: torch.optim semantics and defaults", "adam|rmsprop|sgd"}, \
    {"lr", PARAM_REAL, lr, 1e-7, 1, "learning rate of the optimizer", NULL},                          \
    {"momentum", PARAM_REAL, "0", 0, 0.999, "momentum of sgd (rmsprop here has none)", NULL},        \
    {"gamma", PARAM_REAL, gamma, 0, 1, "discount", NULL},                                             \
    {"n_step", PARAM_INT, nstep, 1, 64, "steps of the n-step return (cut at episode ends)", NULL},    \
    {"double_q", PARAM_BOOL, "1", 0, 1, "double Q-learning: online net picks, target net values", NULL}, \
    {"loss", PARAM_STR, "huber", 0, 0, "huber|mse: Huber (delta 1) or squared TD error", "huber|mse"}, \
    {"batch", PARAM_INT, batch, 1, 4096, "transitions (dqn) or sequences (drqn) per update", NULL},   \
    {"capacity", PARAM_INT, cap, 1, 1e9, "replay capacity in env steps", NULL},                       \
    {"warmup", PARAM_INT, warm, 0, 1e12, "env steps before the first update", NULL},                  \
    {"updates_per_step", PARAM_REAL, ups, 0, 64, "gradient updates per env step (summed over envs)", NULL}, \
    {"target_update", PARAM_INT, tu, 1, 1e9, "updates between hard target copies (when tau = 0)", NULL}, \
    {"tau", PARAM_REAL, "0", 0, 1, "Polyak factor of a soft target update after every update (0: hard copies)", NULL}, \
    {"grad_clip", PARAM_REAL, "10", 0, 1e9, "clip the global gradient norm (0: off)", NULL},           \
    {"dueling", PARAM_BOOL, "0", 0, 1,                                                                \
     "dueling Q head (Wang et al. 2016): the last layer outputs V and A advantages, Q = V + A - mean(A)", NULL}

static const param_desc qtable_params[] = {
    {"k", PARAM_INT, "1", 1, 64, "window: the table is keyed on the last k observations", NULL},
    {"alpha", PARAM_REAL, "0.1", 1e-6, 1, "learning rate of the tabular update", NULL},
    {"gamma", PARAM_REAL, "0.98", 0, 1, "discount", NULL},
    {"q_init", PARAM_REAL, "0", -1e6, 1e6, "initial Q-value of a new entry", NULL},
    {"capacity", PARAM_INT, "65536", 16, 1e9, "initial table size in entries (grows by doubling)", NULL},
    EXPLORE("20000"),
};
static const param_desc dqn_params[] = {
    {"k", PARAM_INT, "1", 1, 64, "window: input is the last k observations, zero-padded at episode start", NULL},
    {"hidden", PARAM_INT, "64", 1, 4096, "units of each hidden dense layer", NULL},
    {"layers", PARAM_INT, "2", 1, 8, "hidden dense layers (relu)", NULL},
    LEARN("1e-3", "0.98", "3", "64", "50000", "1000", "0.25", "100"),
    EXPLORE("20000"),
};
static const param_desc drqn_params[] = {
    {"cell", PARAM_STR, "lstm", 0, 0, "lstm|gru|rnn|peephole|mingru|lru: the recurrent core",
     "lstm|gru|rnn|peephole|mingru|lru"},
    {"hidden", PARAM_INT, "32", 1, 4096, "units of the recurrent core", NULL},
    {"encoder", PARAM_INT, "0", 0, 4096, "units of a dense relu encoder before the core (0: none)", NULL},
    {"learn_h0", PARAM_BOOL, "0", 0, 1, "the initial state (h0, c0) is a learned parameter", NULL},
    {"chrono", PARAM_INT, "0", 0, 1e6,
     "chrono init (Tallec & Ollivier 2018) for memories up to T steps: keep-gate biases ~ log U(1, T-1) "
     "(lstm forget, input = minus it; gru z); 0: off (lstm forget bias 1)", NULL},
    {"seq_mode", PARAM_STR, "episode", 0, 0, "episode|chunk: replay whole episodes or chunks of `chunk` steps",
     "episode|chunk"},
    {"chunk", PARAM_INT, "16", 1, 4096, "train steps of a replayed chunk (seq_mode chunk)", NULL},
    {"max_len", PARAM_INT, "256", 1, 65536, "most train steps of a replayed episode (seq_mode episode)", NULL},
    {"burn_in", PARAM_INT, "0", 0, 4096, "steps before a chunk that only warm the state (no loss)", NULL},
    {"state_init", PARAM_STR, "zero", 0, 0,
     "zero|learned|stored: start state of a sequence not starting its episode (stored: as acted, R2D2)",
     "zero|learned|stored"},
    LEARN("1e-2", "0.98", "3", "16", "50000", "500", "0.125", "100"),
    EXPLORE("10000"),
    /* R2D2 (Kapturowski et al. 2019): prioritized sequence replay, value rescaling */
    {"prioritized", PARAM_BOOL, "0", 0, 1, "prioritized sequence replay: P(sequence) ~ priority^priority_alpha (R2D2)",
     NULL},
    {"priority_alpha", PARAM_REAL, "0.9", 0, 10, "exponent of the priorities in the sampling probability", NULL},
    {"priority_eta", PARAM_REAL, "0.9", 0, 1,
     "a sequence's priority: eta max abs(TD) + (1 - eta) mean abs(TD) over its trained steps", NULL},
    {"priority_beta", PARAM_REAL, "0.6", 0, 1, "importance-sampling exponent at step 0, annealed linearly to 1", NULL},
    {"priority_beta_steps", PARAM_INT, "100000", 0, 1e12, "env steps over which beta anneals to 1 (0: 1 throughout)",
     NULL},
    {"value_rescale", PARAM_BOOL, "0", 0, 1,
     "n-step targets h(R + disc h^-1(Q)), h(x) = sign(x) (sqrt(abs(x) + 1) - 1) + 1e-3 x (R2D2)", NULL},
};
#define NP(t) ((int)(sizeof t / sizeof t[0]))
static const agent_info infos[] = {
    {"qtable", "tabular Q-learning on the exact observation (or a window of k)", qtable_params, NP(qtable_params)},
    {"dqn", "memoryless Q-network over the last k observations, transition replay", dqn_params, NP(dqn_params)},
    {"drqn", "encoder -> lstm/gru/rnn core -> Q head, sequence replay, burn-in, stored state", drqn_params,
     NP(drqn_params)},
};

int agent_type_count(void) { return NP(infos); }
const agent_info *agent_info_at(int i) { return i >= 0 && i < NP(infos) ? &infos[i] : NULL; }
const agent_info *agent_info_find(const char *type) {
    for (int i = 0; type && i < NP(infos); i++)
        if (!strcmp(infos[i].name, type)) return &infos[i];
    return NULL;
}

/* ---- configurations ------------------------------------------------------------
 * A cfg is the type's row of the registry plus one param_set (util/param.h)
 * holding its values, parsed once by param.c. */
struct agent_cfg {
    const agent_info *info;
    param_set ps;
};

agent_cfg *agent_cfg_alloc(const char *type) {
    const agent_info *t = agent_info_find(type);
    if (!t) {
        rql_set_error(AGENT_EINVAL, "unknown agent type '%s' (qtable, dqn, drqn)", type ? type : "(null)");
        return NULL;
    }
    agent_cfg *c = calloc(1, sizeof *c);
    if (!c) {
        rql_set_error(AGENT_ENOMEM, "agent_cfg_alloc: out of memory");
        return NULL;
    }
    c->info = t;
    if (param_set_add(&c->ps, t->params, t->nparams)) {
        agent_cfg_free(c);
        return NULL;
    }
    return c;
}

void agent_cfg_free(agent_cfg *c) {
    if (!c) return;
    param_set_free(&c->ps);
    free(c);
}

static int cfg_set(agent_cfg *c, const char *key, const char *value, const param_value *v) {
    if (!c || !key || (!value && !v)) return rql_set_error(AGENT_EINVAL, "agent_cfg_set: NULL argument");
    int i = param_index(&c->ps, key);
    if (i < 0) return param_unknown(&c->ps, "agent", c->info->name, key);
    return value ? param_set_text(&c->ps, i, c->info->name, value) : param_set_value(&c->ps, i, v);
}

int agent_cfg_set(agent_cfg *c, const char *key, const char *value) { return cfg_set(c, key, value, NULL); }

int agent_cfg_set_value(agent_cfg *c, const char *key, const param_value *v) { return cfg_set(c, key, NULL, v); }

const char *agent_cfg_get(const agent_cfg *c, const char *key) { return c ? param_text(&c->ps, key) : NULL; }
const char *agent_cfg_type(const agent_cfg *c) { return c ? c->info->name : NULL; }

/* The typed parameters. A key the type has no row for stays 0: that type's
 * code never reads it (each default is written once, in the tables above). */
static void parse_params(const agent_cfg *c, agent_params *p) {
    memset(p, 0, sizeof *p);
    const param_set *ps = &c->ps;
    const char *t = c->info->name;
    p->type = !strcmp(t, "qtable") ? AGENT_QTABLE : !strcmp(t, "dqn") ? AGENT_DQN : AGENT_DRQN;
    p->hidden = (int)param_num(ps, "hidden");
    p->layers = (int)param_num(ps, "layers");
    p->encoder = (int)param_num(ps, "encoder");
    p->learn_h0 = (int)param_num(ps, "learn_h0");
    p->chrono = (long)param_num(ps, "chrono");
    static const layer_kind cells[] = {LAYER_LSTM, LAYER_GRU, LAYER_RNN,       /* "lstm|gru|rnn|peephole|mingru|lru" */
                                       LAYER_PEEPHOLE, LAYER_MINGRU, LAYER_LRU};
    p->cell = cells[param_choice(ps, "cell") > 0 ? param_choice(ps, "cell") : 0];
    p->k = p->type == AGENT_DRQN ? 1 : (int)param_num(ps, "k");
    p->lr = (float)param_num(ps, "lr");
    static const opt_kind opts[] = {OPT_ADAM, OPT_RMSPROP, OPT_SGD};          /* "adam|rmsprop|sgd" */
    p->optimizer = opts[param_choice(ps, "optimizer") > 0 ? param_choice(ps, "optimizer") : 0];
    p->momentum = (float)param_num(ps, "momentum");
    p->gamma = (float)param_num(ps, "gamma");
    p->grad_clip = (float)param_num(ps, "grad_clip");
    p->tau = (float)param_num(ps, "tau");
    p->alpha = (float)param_num(ps, "alpha");
    p->q_init = (float)param_num(ps, "q_init");
    p->n_step = (int)param_num(ps, "n_step");
    p->double_q = (int)param_num(ps, "double_q");
    p->dueling = (int)param_num(ps, "dueling");
    p->huber = param_choice(ps, "loss") == 0;                                 /* "huber|mse" */
    p->batch = (int)param_num(ps, "batch");
    p->target_update = (int)param_num(ps, "target_update");
    p->capacity = (long)param_num(ps, "capacity");
    p->warmup = (long)param_num(ps, "warmup");
    p->updates_per_step = (float)param_num(ps, "updates_per_step");
    p->seq_mode = param_choice(ps, "seq_mode") == 1 ? SEQ_CHUNK : SEQ_EPISODE; /* "episode|chunk" */
    p->chunk = (int)param_num(ps, "chunk");
    p->max_len = (int)param_num(ps, "max_len");
    p->burn_in = (int)param_num(ps, "burn_in");
    static const int inits[] = {STATE_ZERO, STATE_LEARNED, STATE_STORED};     /* "zero|learned|stored" */
    p->state_init = inits[param_choice(ps, "state_init") > 0 ? param_choice(ps, "state_init") : 0];
    p->eps_start = (float)param_num(ps, "eps_start");
    p->eps_end = (float)param_num(ps, "eps_end");
    p->eps_decay = (long)param_num(ps, "eps_decay");
    p->eps_exp = param_choice(ps, "eps_shape") == 1;                         /* "linear|exp" */
    p->eps_episodes = (long)param_num(ps, "eps_episodes");
    p->eps_alpha = param_num(ps, "eps_alpha");
    p->prioritized = (int)param_num(ps, "prioritized");
    p->prio_alpha = param_num(ps, "priority_alpha");
    p->prio_eta = param_num(ps, "priority_eta");
    p->prio_beta = param_num(ps, "priority_beta");
    p->prio_beta_steps = (long)param_num(ps, "priority_beta_steps");
    p->value_rescale = (int)param_num(ps, "value_rescale");
}

/* ---- allocation ------------------------------------------------------------------ */
static const agent_ops *const ops_of[] = {[AGENT_QTABLE] = &qtable_ops, [AGENT_DQN] = &dqn_ops,
                                          [AGENT_DRQN] = &drqn_ops};

agent *agent_alloc(const agent_cfg *c, int obs_size, int n_actions, int n_envs, uint64_t seed) {
    if (!c) { rql_set_error(AGENT_EINVAL, "agent_alloc: cfg is NULL"); return NULL; }
    if (obs_size < 1 || n_actions < 1 || n_envs < 1) {
        rql_set_error(AGENT_EINVAL, "agent_alloc: obs_size %d, n_actions %d, n_envs %d (each must be >= 1)",
                        obs_size, n_actions, n_envs);
        return NULL;
    }
    agent *a = calloc(1, sizeof *a);
    if (!a) { rql_set_error(AGENT_ENOMEM, "agent_alloc: out of memory"); return NULL; }
    parse_params(c, &a->p);
    agent_params *p = &a->p;
    a->ops = ops_of[p->type];
    a->type_name = c->info->name;
    a->obs = obs_size;
    a->A = n_actions;
    a->out = n_actions + (p->dueling ? 1 : 0);
    a->n_envs = n_envs;
    a->loss = a->q_mean = a->grad_norm = NAN;
    a->in = p->type == AGENT_DRQN ? obs_size : p->k * obs_size;
    a->rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!a->rng) { rql_set_error(AGENT_ENOMEM, "agent_alloc: cannot allocate the RNG"); goto fail; }
    gsl_rng_set(a->rng, (unsigned long)(seed ^ (seed >> 32)) ^ 0x5eedUL);
    if (a->ops->init(a) < 0) goto fail;
    return a;
fail:
    agent_free(a);
    return NULL;
}

void agent_free(agent *a) {
    if (!a) return;
    gsl_rng_free(a->rng);
    net_free(a->online);
    net_free(a->target);
    optim_free(a->opt);
    agent_replay_free(a->rp);
    qtab_free(&a->tab);
    free(a->x); free(a->xn); free(a->xb); free(a->q); free(a->qn); free(a->qt); free(a->dy); free(a->yb);
    free(a->st0); free(a->st0t); free(a->dst0); free(a->len); free(a->lenb); free(a->acts); free(a->mask);
    free(a->ret); free(a->disc); free(a->seqs);
    r2d2_prio_free(a->prio);
    free(a->leaf); free(a->prob); free(a->isw); free(a->absd);
    free(a);
}

const char *agent_type(const agent *a) { return a ? a->type_name : NULL; }
const net *agent_net(const agent *a) { return a ? a->online : NULL; }
const char *agent_q_head(const agent *a) { return a && a->p.dueling ? "dueling" : "linear"; }

/* ---- exploration -------------------------------------------------------------------- */
float agent_epsilon_at(float start, float end, long decay, int exp_shape, long t) {
    double f = (double)t / (double)(decay > 0 ? decay : 1);
    if (exp_shape) return (float)(end + (start - end) * pow(0.01, f));
    return f >= 1 ? end : (float)(start + (end - start) * f);
}
static float agent_epsilon(const agent *a) {
    if (a->p.eps_episodes > 0)
        return agent_epsilon_at(a->p.eps_start, a->p.eps_end, a->p.eps_episodes, a->p.eps_exp, a->episodes);
    return agent_epsilon_at(a->p.eps_start, a->p.eps_end, a->p.eps_decay, a->p.eps_exp, a->env_steps);
}

void agent_get_stats(const agent *a, agent_stats *s) {
    s->env_steps = a->env_steps;
    s->updates = a->updates;
    s->epsilon = agent_epsilon(a);
    s->loss = a->loss;
    s->q_mean = a->q_mean;
    s->grad_norm = a->grad_norm;
}

/* ---- actors ----------------------------------------------------------------------------- */
agent_actor *agent_actor_alloc(agent *a, int n) {
    if (!a || n < 1) {
        rql_set_error(AGENT_EINVAL, "agent_actor_alloc: %s, n = %d (need >= 1)", a ? "agent" : "agent is NULL", n);
        return NULL;
    }
    agent_actor *ac = calloc(1, sizeof *ac);
    actor_priv *pv = calloc(1, sizeof *pv);
    if (!ac || !pv) goto nomem;
    ac->priv = pv;
    ac->n = n;
    ac->n_actions = a->A;
    ac->hidden_size = a->H;
    size_t N = (size_t)n, S = (size_t)a->S, kd = (size_t)a->p.k * a->obs;
    ac->q = calloc(N * a->out, sizeof(float));   /* net rows of a->out, packed to A by td_head_q */
    pv->obs = calloc(N * a->obs, sizeof(float));
    pv->fin = calloc(N * a->obs, sizeof(float));
    pv->act = calloc(N, sizeof(int));
    pv->start = calloc(N, 1);
    if (!ac->q || !pv->obs || !pv->fin || !pv->act || !pv->start) goto nomem;
    if (S) {
        /* recurrent: a state row per actor row */
        pv->state = calloc(N * S, sizeof(float));
        pv->before = calloc(N * S, sizeof(float));
        ac->hidden = calloc(N * a->H, sizeof(float));
        if (layer_has_cell(a->p.cell)) ac->cell = calloc(N * a->H, sizeof(float));
        if (!pv->state || !pv->before || !ac->hidden || (layer_has_cell(a->p.cell) && !ac->cell)) goto nomem;
        net_state_reset(a->online, pv->state, n, NULL);
    } else {
        pv->win = calloc(N * kd, sizeof(float));
        pv->before = calloc(N * kd, sizeof(float));   /* qtable: the next window */
        if (!pv->win || !pv->before) goto nomem;
    }
    return ac;
nomem:
    agent_actor_free(ac);
    rql_set_error(AGENT_ENOMEM, "agent_actor_alloc: out of memory for %d rows", n);
    return NULL;
}

void agent_actor_free(agent_actor *ac) {
    if (!ac) return;
    actor_priv *pv = ac->priv;
    if (pv) {
        free(pv->state); free(pv->before); free(pv->win); free(pv->obs); free(pv->act);
        free(pv->start); free(pv->fin);
        free(pv);
    }
    free(ac->q); free(ac->hidden); free(ac->cell);
    free(ac);
}

int agent_act(agent *a, agent_actor *ac, const float *obs, const uint8_t *episode_start, int greedy,
              int *actions) {
    if (!a || !ac || !obs || !episode_start || !actions)
        return rql_set_error(AGENT_EINVAL, "agent_act: NULL argument");
    actor_priv *pv = ac->priv;
    const int n = ac->n, A = a->A;
    memcpy(pv->obs, obs, sizeof(float) * n * a->obs);
    memcpy(pv->start, episode_start, (size_t)n);
    int rc = a->ops->q_values(a, ac, obs, episode_start);
    if (rc < 0) return rc;
    double eps = greedy ? 0.0 : agent_epsilon(a);
    for (int i = 0; i < n; i++) {
        int act = td_argmax(ac->q + (size_t)i * A, A);
        /* Ape-X's per-actor epsilons, one per row: eps^(1 + alpha i / (n - 1)) */
        double ei = eps > 0 && a->p.eps_alpha > 0 && n > 1 ? pow(eps, 1.0 + a->p.eps_alpha * i / (n - 1)) : eps;
        /* draws only when exploring, so greedy evaluation leaves the stream alone */
        if (ei > 0 && gsl_rng_uniform(a->rng) < ei) act = (int)gsl_rng_uniform_int(a->rng, (unsigned long)A);
        actions[i] = act;
    }
    memcpy(pv->act, actions, sizeof(int) * n);
    pv->acted = 1;
    return 0;
}

int agent_observe(agent *a, agent_actor *ac, const float *rewards, const uint8_t *terminated,
                  const uint8_t *truncated, const float *next_obs) {
    if (!a || !ac || !rewards || !terminated || !truncated || !next_obs)
        return rql_set_error(AGENT_EINVAL, "agent_observe: NULL argument");
    actor_priv *pv = ac->priv;
    if (!pv->acted) return rql_set_error(AGENT_EINVAL, "agent_observe: no agent_act before it");
    if (ac->n != a->n_envs)
        return rql_set_error(AGENT_EINVAL, "agent_observe: actor has %d rows, the agent was built for n_envs %d",
                               ac->n, a->n_envs);
    pv->acted = 0;
    const int n = ac->n;
    a->env_steps += n;
    for (int i = 0; i < n; i++) a->episodes += terminated[i] || truncated[i];
    if (a->ops->observe) return a->ops->observe(a, ac, rewards, terminated, next_obs);
    double t = rql_prof_mark();
    int rc = agent_replay_add(a->rp, pv->obs, pv->act, rewards, terminated, truncated, pv->start, next_obs,
                              a->rp->state_size ? pv->before : NULL);
    rql_prof_lap(RQL_PROF_REPLAY, &t);
    if (rc < 0) return rc;
    if (a->env_steps < a->p.warmup) return 0;
    a->credit += (double)n * a->p.updates_per_step;
    while (a->credit >= 1.0) {
        a->credit -= 1.0;
        rc = a->ops->update(a);
        if (rc < 0) return rc;
    }
    return 0;
}
