/* agents — Q-learning agents that learn from vectors of envs with the nets.
 *
 *   qtable  tabular Q-learning keyed on the exact observation (or a window of
 *           the last k observations)
 *   dqn     memoryless Q-network: dense layers over the last k observations
 *           concatenated (k = 1: the current observation only)
 *   drqn    dense encoder -> recurrent core (lstm | gru | rnn) -> dense Q head,
 *           sequence replay, burn-in, stored state (R2D2), double Q, n-step
 *
 * Agents know nothing of envs: the caller passes rows of contiguous buffers
 * (observations [N, obs], rewards [N], flags [N]) as an env_vec provides them.
 *
 * An agent_cfg is a type plus hyperparameters set by name (the config layer
 * passes them on); an unknown name or a value out of range is an error that
 * names both. Every parameter has a documented default (agent_info).
 *
 * Acting is batched: an agent_actor holds the per-row acting state of N envs
 * (recurrent state, observation window) and the Q-values, hidden and cell
 * states of the last acted step, so the harness can log them. A training
 * actor and a separate evaluation actor can share one agent.
 *
 * The resumable state (weights, optimizer, replay, table, counters, RNG, the
 * training actor) is exposed as a table of named buffers, as nets expose
 * their tensors; the checkpoint writer in log/ stores it. Nothing here knows
 * HDF5 or envs.
 *
 * Library code: functions return 0 or a negative AGENT_E* code and never print;
 * rql_error() gives the message of the last failure on this thread.
 *
 * Files, top to bottom (each calls only the ones below it): agent.c
 * (parameter tables, cfg, alloc, actors, act, observe, schedule; it reaches
 * what differs by type through a per-type table, agent_ops), state.c (the
 * state table), qtable.c, dqn.c and drqn.c (one agent_ops each: building,
 * Q-values, the updates), td.c (what the updates share: TD loss, bootstrap
 * value, optimizer step, building networks and replay), replay.c (the step
 * store, windows, n-step targets, sequence plans); agent_internal.h and td.h
 * are private. The loop that drives an agent on envs is experiments/run.c's
 * (and experiments/learn.c's, without a log). docs/agents.md describes the
 * algorithms and parameters.
 */
#ifndef RQL_AGENT_H
#define RQL_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include "nets/nets.h"
#include "util/param.h"

enum { AGENT_OK = 0, AGENT_EINVAL = -1, AGENT_ENOMEM = -2, AGENT_EIO = -3, AGENT_ENAN = -5 };


typedef struct {
    const char *name;        /* "qtable", "dqn", "drqn" */
    const char *summary;
    const param_desc *params;
    int nparams;
} agent_info;

int agent_type_count(void);
const agent_info *agent_info_at(int i);
const agent_info *agent_info_find(const char *type);

typedef struct agent_cfg agent_cfg;
agent_cfg *agent_cfg_alloc(const char *type);           /* NULL on unknown type */
void agent_cfg_free(agent_cfg *c);
int agent_cfg_set(agent_cfg *c, const char *key, const char *value);
/* The same from a typed value the config layer read (util/param.h); a
 * refusal's message is the detail alone ("out of range [1, 4096]"). */
int agent_cfg_set_value(agent_cfg *c, const char *key, const param_value *v);
const char *agent_cfg_get(const agent_cfg *c, const char *key);
const char *agent_cfg_type(const agent_cfg *c);

typedef struct agent agent;

/* n_envs: rows of the training vector the agent will observe. */
agent *agent_alloc(const agent_cfg *c, int obs_size, int n_actions, int n_envs, uint64_t seed);
void agent_free(agent *a);

typedef struct {
    int n, n_actions;
    int hidden_size;         /* H of the recurrent core, 0 for memoryless agents */
    float *q;                /* [n, n_actions] Q-values of the last act */
    float *hidden;           /* [n, H] h after the last act, or NULL */
    float *cell;             /* [n, H] c after the last act (lstm), or NULL */
    void *priv;
} agent_actor;

agent_actor *agent_actor_alloc(agent *a, int n);
void agent_actor_free(agent_actor *ac);
/* obs [n, obs]; episode_start [n]: 1 where obs begins an episode (state and
 * window of that row reset first). greedy: 0 epsilon-greedy with the agent's
 * current epsilon, 1 greedy. actions [n] out. */
int agent_act(agent *a, agent_actor *ac, const float *obs, const uint8_t *episode_start,
              int greedy, int *actions);

/* The outcome of the step the training actor just acted: rewards [n],
 * terminated [n], truncated [n], next_obs [n, obs] (the final observation where
 * an episode ended). Stores it in replay and runs the updates that are due. */
int agent_observe(agent *a, agent_actor *ac, const float *rewards,
                  const uint8_t *terminated, const uint8_t *truncated,
                  const float *next_obs);

typedef struct {
    long env_steps;          /* steps observed, summed over rows */
    long updates;            /* gradient updates done */
    float epsilon;           /* current exploration rate */
    float loss, q_mean, grad_norm;  /* of the last update (NaN before the first) */
} agent_stats;
void agent_get_stats(const agent *a, agent_stats *s);

/* The online network (NULL for qtable), for weight snapshots. */
const net *agent_net(const agent *a);
/* "dueling" if the net's last layer gives V and the advantages (the dueling
 * key), else "linear": the value of a log's root attribute q_head. */
const char *agent_q_head(const agent *a);

/* ---- resumable state (agents/state.c) -----------------------------------------
 * Everything needed to resume exactly, as a table of named buffers: online
 * and target networks, optimizer moments, replay contents, the qtable,
 * counters, the RNG state and the training actor's rows (train_actor may be
 * NULL: no actor rows). A writer takes the table and stores every entry
 * (log/ckpt.c: one 1-D dataset per buffer, named as the entry, and a group
 * per network through nets/net_h5.h).
 *
 * Some sizes follow from values earlier in the table (the replay's filled
 * rows from the head in "counters", the qtable's arrays from "qtable_cap"),
 * so a reader goes in stages: for stage s = 0 .. AGENT_STATE_STAGES - 1 it
 * takes the table afresh, fills the entries of stage s, then calls
 * agent_state_restore(a, train_actor, s), which checks and applies them.
 * Stage 0 is "agent_meta": the shape of the agent the state was taken from;
 * a state of a differently built agent is refused (AGENT_EINVAL naming what
 * differs) before anything of the agent changes. Entries of scalars kept in
 * other types (counters, sizes, flags) point at staging copies that only
 * agent_state_restore applies. A table is valid until the agent acts,
 * observes or restores. */
typedef enum {
    AGENT_BUF_U8, AGENT_BUF_I32, AGENT_BUF_I64, AGENT_BUF_F32, AGENT_BUF_F64,
    AGENT_BUF_NET            /* ptr is a net *: its tensors (net_tensor), count 0 */
} agent_buf_type;
typedef struct {
    char name[48];           /* "counters", "replay_obs", "online", ... */
    agent_buf_type type;
    void *ptr;               /* count elements of type */
    size_t count;
    int stage;               /* 0 .. AGENT_STATE_STAGES - 1 */
} agent_buf;
enum { AGENT_STATE_STAGES = 3, AGENT_STATE_MAX = 48 };

/* Fills out[0..cap) and returns the number of entries (at most
 * AGENT_STATE_MAX; AGENT_EINVAL if cap is smaller than that number). */
int agent_state_table(agent *a, agent_actor *train_actor, agent_buf *out, int cap);
int agent_state_restore(agent *a, agent_actor *train_actor, int stage);

/* The agent's type ("qtable", "dqn", "drqn") and its configuration. */
const char *agent_type(const agent *a);
/* Epsilon of a schedule after t env steps: linear from start to end over
 * decay steps, or exp (start - end shrinks geometrically to 1% of itself at
 * t = decay, then on), constant end afterwards for linear. */
float agent_epsilon_at(float start, float end, long decay, int exp_shape, long t);

/* ---- replay (agents/replay.c), exposed for tests and tools ------------------
 * Steps of n rows (the envs of a vector) are stored per vector step in a ring
 * of slots: slot u holds, for every row, the observation acted on, action,
 * reward, flags, the final observation where the episode ended, and (if
 * state_size > 0) the recurrent state BEFORE consuming the observation. A
 * slot is addressed by its absolute index u (0, 1, ...); the ring keeps the
 * last nslots = capacity / n of them. Windows and n-step targets are built at
 * sampling time, never stored. */
enum { REPLAY_TERM = 1, REPLAY_TRUNC = 2, REPLAY_START = 4 };
typedef struct {
    int n, obs_size, state_size;
    long nslots;             /* ring size in vector steps */
    long head;               /* slots written so far (absolute index of the next) */
    float *obs;              /* [nslots, n, obs] */
    float *fin;              /* [nslots, n, obs] final observation where done */
    float *rew;              /* [nslots, n] */
    int32_t *act;            /* [nslots, n] */
    uint8_t *flags;          /* [nslots, n] REPLAY_* */
    float *state;            /* [nslots, n, S] or NULL */
} agent_replay;

agent_replay *agent_replay_alloc(int n, int obs_size, int state_size, long capacity);
void agent_replay_free(agent_replay *r);
/* One vector step: obs [n, obs], act [n], rew [n], term/trunc/start [n],
 * final_obs [n, obs] (read where term or trunc), state [n, S] or NULL. */
int agent_replay_add(agent_replay *r, const float *obs, const int *act, const float *rew,
                     const uint8_t *term, const uint8_t *trunc, const uint8_t *start,
                     const float *final_obs, const float *state);
long agent_replay_lo(const agent_replay *r);   /* oldest slot still held */
/* The window of the k observations ending at step (u, row), oldest first,
 * zero-padded before the episode's start; with_final: the last entry is the
 * final observation of step (u, row) and the k-1 before it are steps u, u-1...
 * out [k * obs]. Returns -1 when the window would need steps no longer held. */
int agent_replay_window(const agent_replay *r, long u, int row, int k, int with_final, float *out);
/* The n-step transition starting at step (u, row): x [k*obs] its window, *a,
 * *ret = sum_j gamma^j r_{u+j} up to n steps or the episode's end, *disc the
 * factor of the bootstrap value (0 when the episode terminated within the n
 * steps; gamma^m when it was truncated after m steps or ran n steps), xn
 * [k*obs] the window to bootstrap from (the final observation on truncation).
 * Returns -1 if the steps it needs are not (or no longer) held. */
int agent_replay_transition(const agent_replay *r, long u, int row, int k, int n, float gamma,
                            float *x, int *a, float *ret, float *disc, float *xn);

/* A sequence to replay from step (u, row): burn steps [p0, u) warm the state,
 * train steps [u, u + train) get a loss, then up to n_step lookahead steps
 * provide bootstrap values, then the final observation if the episode ended
 * within them. Never crosses an episode start. */
typedef struct {
    long p0;                 /* first step (burn-in start) */
    int row, burn, train, look;
    int has_final;           /* the last step ended its episode: final obs appended */
    int at_start;            /* p0 is the first step of its episode */
} agent_seq;
int agent_replay_plan(const agent_replay *r, long u, int row, int max_train, int burn_in, int n_step,
                      agent_seq *s);
/* Target of train step i of a planned sequence: *ret and *disc as in
 * agent_replay_transition, *boot the sequence index (counted from u) whose
 * value bootstraps. Returns -1 if the lookahead it needs is missing. */
int agent_seq_target(const agent_replay *r, const agent_seq *s, int i, int n, float gamma,
                     float *ret, float *disc, int *boot);
/* Double Q: the target net's value of the online net's greedy action
 * (ties: lowest index); plain: the target's max. (td.c) */
float agent_bootstrap_value(const float *q_online, const float *q_target, int n_actions, int double_q);

#endif
