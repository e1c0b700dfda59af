/* agent_internal.h — what the agent files share; not part of the public
 * interface. One struct agent serves the three types: the memoryless ones use
 * a window of k observations per actor row, the recurrent one a state row of
 * the network; qtable has a hash table instead of networks and no replay.
 *
 * The files, top to bottom (each calls only the ones below it):
 *   agent.c    parameter tables, cfg, alloc, actors, act and observe; it
 *              dispatches what differs by type through the type's agent_ops
 *   state.c    the resumable state as a table of named buffers
 *   qtable.c, dqn.c, drqn.c   one agent_ops each: build, Q-values, learning
 *   td.c (td.h)  what the Q-network types share: greedy action, bootstrap
 *              value, TD loss, the optimizer and target-net step, building
 *              the networks, workspaces and replay
 *   replay.c   the step store, windows, n-step targets, sequence plans
 */
#ifndef RQL_AGENT_INTERNAL_H
#define RQL_AGENT_INTERNAL_H

#include <gsl/gsl_rng.h>
#include "agents/agent.h"
#include "agents/r2d2.h"

enum { AGENT_QTABLE, AGENT_DQN, AGENT_DRQN };
enum { SEQ_EPISODE, SEQ_CHUNK };
enum { STATE_ZERO, STATE_LEARNED, STATE_STORED };

/* Parameters parsed once at alloc (the cfg keeps them as text). */
typedef struct {
    int type;
    /* networks */
    int hidden, layers, encoder, learn_h0;
    long chrono;                    /* drqn: chrono init for memories of this many steps (0: off) */
    layer_kind cell;
    int k;                          /* window (qtable, dqn) */
    /* learning */
    float lr, gamma, grad_clip, tau, alpha, q_init;
    opt_kind optimizer;      /* adam (default), rmsprop, sgd */
    float momentum;          /* sgd */
    int n_step, double_q, huber, batch, target_update;
    int dueling;                    /* dqn, drqn: the net outputs V and A advantages (Wang et al. 2016) */
    long capacity, warmup;
    float updates_per_step;
    /* sequences */
    int seq_mode, chunk, max_len, burn_in, state_init;
    /* exploration */
    float eps_start, eps_end;
    long eps_decay;
    int eps_exp;
    long eps_episodes;              /* > 0: the decay counts finished episodes */
    double eps_alpha;               /* > 0: row i of n explores with eps^(1 + eps_alpha i / (n - 1)) */
    /* R2D2 (drqn): prioritized sequence replay, value rescaling */
    int prioritized, value_rescale;
    double prio_alpha, prio_eta, prio_beta;
    long prio_beta_steps;
} agent_params;

/* qtable: open addressing on the window bytes; keys [cap, kd], q [cap, A]. */
typedef struct {
    long cap, count;
    int kd;                         /* key floats: k * obs */
    float *keys;
    float *q;
    uint8_t *used;
} qtab;

/* What differs by agent type; agent.c calls these and nothing else of the
 * type's file. Every function returns 0 or a negative AGENT_E* code. */
typedef struct agent_ops {
    /* builds what the type needs (networks or table, workspaces, replay) */
    int (*init)(agent *a);
    /* Q-values of the actor's n rows for obs into ac->q (and ac->hidden /
     * cell), advancing the rows' acting state (windows, recurrent state);
     * rows with episode_start[i] begin afresh */
    int (*q_values)(agent *a, agent_actor *ac, const float *obs, const uint8_t *episode_start);
    /* learns from the step the actor just acted, without replay (qtable);
     * NULL: agent.c stores the step in the replay and runs `update` as due */
    int (*observe)(agent *a, agent_actor *ac, const float *rewards, const uint8_t *terminated,
                   const float *next_obs);
    int (*update)(agent *a);        /* one gradient update from replay (NULL: none) */
} agent_ops;
extern const agent_ops qtable_ops, dqn_ops, drqn_ops;

/* Staging for the parts of the resumable state that are not buffers of
 * their own (counters, sizes), so that state.c can list them as buffers. */
typedef struct {
    int64_t meta[11];               /* agent_meta: what the state was built for */
    int64_t counters[3];            /* env_steps, updates, replay head */
    float last_stats[3];            /* loss, q_mean, grad_norm */
    int64_t opt_t;                  /* optimizer steps */
    int64_t tab_cap, tab_count;     /* qtable size */
    int32_t acted;                  /* the training actor awaits its observe */
    int64_t episodes;               /* finished episodes (eps_episodes > 0) */
    int64_t prio_head;              /* replay slots entered in the sum tree (prioritized) */
} agent_io;

struct agent {
    agent_params p;
    const agent_ops *ops;
    const char *type_name;
    int obs, A, n_envs;
    int out;                        /* the Q-network's outputs: A, or 1 + A with a dueling head */
    int in;                         /* network input: k * obs (dqn) or obs */
    int S, H;                       /* state floats, hidden size (drqn) */
    gsl_rng *rng;                   /* exploration, replay sampling, init */
    net *online, *target;
    optim *opt;
    agent_replay *rp;
    qtab tab;                       /* qtable */
    /* counters */
    long env_steps, updates;
    double credit;                  /* fractional updates owed */
    float loss, q_mean, grad_norm;
    /* update workspaces, sized at alloc */
    float *x, *xn, *xb;             /* inputs: [B, T, in] and burn [B, burn, in] */
    float *q, *qn, *qt, *dy, *yb;   /* net outputs and gradient: rows of a->out floats, of A once
                                     * td_head_q has turned them into Q-values */
    float *st0, *st0t, *dst0;       /* [B, S] */
    int *len, *lenb, *acts;         /* [B] */
    uint8_t *mask;                  /* [B] */
    float *ret, *disc;              /* [B] */
    agent_seq *seqs;                /* [B] */
    int Tmax;                       /* sequence capacity */
    agent_io io;                    /* state.c's staging */
    long episodes;                  /* finished training episodes, summed over rows */
    /* prioritized sequence replay (drqn, p.prioritized): one leaf per replay
     * cell (slot * n + row), the cells of slots [.., prio_head) entered */
    r2d2_prio *prio;
    long prio_head;
    long *leaf;                     /* [B] the leaf each sequence was drawn from (-1: uniform) */
    double *prob;                   /* [B] its sampling probability */
    float *isw;                     /* [B] importance-sampling weights */
    float *absd;                    /* [Tmax] |TD| of one sequence's trained steps */
};

/* Per-row acting state of an actor. */
typedef struct {
    float *state;                   /* [n, S] recurrent state (drqn) */
    float *before;                  /* [n, S] state before the last acted obs */
    float *win;                     /* [n, k*obs] window incl. the last acted obs */
    float *obs;                     /* [n, obs] last acted observation */
    int *act;                       /* [n] last actions */
    uint8_t *start;                 /* [n] episode_start of the last act */
    float *fin;                     /* [n, obs] scratch: final obs for replay */
    int acted;                      /* an act is waiting for its observe */
} actor_priv;

/* qtable.c: the table, also used by state.c */
int qtab_init(qtab *t, int kd, int A, long cap);
void qtab_free(qtab *t);

/* replay.c: pushes obs into a row's window win [k * os] (oldest first),
 * after zeroing it at an episode start, so a window never mixes episodes. */
void agent_window_push(float *win, const float *obs, int k, int os, int start);

/* drqn.c: draws a batch of sequences into a->seqs (and, prioritized, a->leaf,
 * a->prob, a->isw); exposed for tests/check_replay.c */
int drqn_sample(agent *a);

#endif
