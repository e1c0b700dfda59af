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
 * Library code: functions return 0 or a negative AGENT_E* code and never print;
 * agent_error() gives the message of the last failure on this thread.
 */
#ifndef RQL_AGENT_H
#define RQL_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <hdf5.h>
#include "../nets/nets.h"

enum { AGENT_OK = 0, AGENT_EINVAL = -1, AGENT_ENOMEM = -2, AGENT_EIO = -3, AGENT_ENAN = -5 };
const char *agent_error(void);
int agent_set_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef enum { AGENT_PARAM_INT, AGENT_PARAM_REAL, AGENT_PARAM_BOOL, AGENT_PARAM_STR } agent_param_type;
typedef struct {
    const char *name;
    agent_param_type type;
    const char *def;         /* default, as text */
    double lo, hi;           /* inclusive range for INT / REAL */
    const char *help;        /* STR params list their choices here */
} agent_param_desc;

typedef struct {
    const char *name;        /* "qtable", "dqn", "drqn" */
    const char *summary;
    const agent_param_desc *params;
    int nparams;
} agent_info;

int agent_type_count(void);
const agent_info *agent_info_at(int i);
const agent_info *agent_info_find(const char *type);

typedef struct agent_cfg agent_cfg;
agent_cfg *agent_cfg_alloc(const char *type);           /* NULL on unknown type */
void agent_cfg_free(agent_cfg *c);
int agent_cfg_set(agent_cfg *c, const char *key, const char *value);
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

/* Everything needed to resume exactly: weights, target weights, optimizer
 * moments, replay contents, counters, RNG state, and the training actor. */
int agent_save(const agent *a, const agent_actor *train_actor, hid_t g);
int agent_load(agent *a, agent_actor *train_actor, hid_t g);

#endif
