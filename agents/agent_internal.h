/* agent_internal.h — what the agent files share (agent.c: parameters, cfg,
 * acting, observing, schedules; replay.c; qtable.c; dqn.c and drqn.c: the
 * updates; agent_h5.c: save / load). Not part of the public interface.
 *
 * One struct agent serves the three types: the memoryless ones use a window
 * of k observations per actor row, the recurrent one a state row of the
 * network; qtable has a hash table instead of networks and no replay. */
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
    layer_kind cell;
    int k;                          /* window (qtable, dqn) */
    /* learning */
    float lr, gamma, grad_clip, tau, alpha, q_init;
    opt_kind optimizer;      /* adam (default), rmsprop, sgd */
    float momentum;          /* sgd */
    int n_step, double_q, huber, batch, target_update;
    long capacity, warmup;
    float updates_per_step;
    /* sequences */
    int seq_mode, chunk, max_len, burn_in, state_init;
    /* exploration */
    float eps_start, eps_end;
    long eps_decay;
    int eps_exp;
    long eps_episodes;              /* > 0: the decay counts finished episodes */
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

struct agent {
    agent_params p;
    const char *type_name;
    int obs, A, n_envs;
    int in;                         /* network input: k * obs (dqn) or obs */
    int S, H;                       /* state floats, hidden size (drqn) */
    int rec_layer;                  /* index of the recurrent layer (drqn) */
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
    float *q, *qn, *qt, *dy, *yb;   /* net outputs and gradient */
    float *st0, *st0t, *dst0;       /* [B, S] */
    int *len, *lenb, *acts;         /* [B] */
    uint8_t *mask;                  /* [B] */
    float *ret, *disc;              /* [B] */
    agent_seq *seqs;                /* [B] */
    int Tmax;                       /* sequence capacity */
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

float agent_epsilon(const agent *a);
int agent_argmax(const float *q, int n);

/* qtable.c */
int qtab_init(qtab *t, int kd, int A, long cap);
void qtab_free(qtab *t);
/* Q row of a key, inserted with q_init when absent (NULL only on ENOMEM). */
float *qtab_row(qtab *t, const float *key, int A, float q_init);
const float *qtab_find(const qtab *t, const float *key, int A);
int qtab_update(agent *a, const float *key, int act, float r, int term, const float *key_next);

/* dqn.c, drqn.c: one gradient update from replay */
int dqn_update(agent *a);
int drqn_update(agent *a);
/* drqn.c: draws a batch of sequences into a->seqs (and, prioritized, a->leaf,
 * a->prob, a->isw); exposed for tests/check_replay.c */
int drqn_sample(agent *a);
/* shared by both: loss, its gradient and the optimizer step */
float agent_td_grad(const agent *a, float q, float y, float *dq);
int agent_apply_grads(agent *a);

#endif
