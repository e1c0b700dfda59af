/* agent_loop — a small driver that trains an agent on a vector of envs and
 * evaluates it greedily, for the agents' tests and `rql bench memory`.
 *
 * It is the one file of agents/ that uses envs/ (the agents themselves only
 * see rows of buffers); the full harness with logging, checkpoints and
 * progress is experiments/run.c. */
#ifndef RQL_AGENT_LOOP_H
#define RQL_AGENT_LOOP_H

#include "agents/agent.h"
#include "envs/env.h"

typedef struct {
    long max_env_steps;      /* training budget, env steps summed over envs */
    long eval_every;         /* env steps between greedy evaluations (0: only at the end) */
    int eval_episodes;       /* episodes per evaluation (one per env of an eval vector) */
    int stop_when_solved;    /* stop at the first evaluation with success 1.0 */
} agent_loop_opts;

typedef struct {
    int solved;              /* an evaluation reached success 1.0 */
    long solve_episodes;     /* training episodes finished at that evaluation */
    long solve_steps;        /* env steps at that evaluation */
    double solve_wall_s;     /* wall-clock seconds to that evaluation */
    double final_success;    /* success rate of the last evaluation */
    double final_return;     /* mean return of the last evaluation */
    long episodes, env_steps;/* totals of the training */
    double wall_s;
} agent_loop_result;

/* Greedy evaluation: `episodes` envs seeded from (seed, i), one episode each.
 * Gives up (AGENT_EINVAL) after max_steps vector steps. */
int agent_loop_eval(agent *a, const env_spec *s, int episodes, uint64_t seed, long max_steps,
                    double *success, double *ret);
/* Trains agent a (with its training actor ac) on v until the budget or, if
 * asked, the first solving evaluation. Evaluations use seeds derived from
 * eval_seed, so they never disturb the training streams. */
int agent_loop_train(agent *a, agent_actor *ac, env_vec *v, const env_spec *s, const agent_loop_opts *o,
                     uint64_t eval_seed, agent_loop_result *res);
/* The whole run: builds envs and agent from (cfg, spec, n_envs, seed). */
int agent_loop_run(const agent_cfg *c, const env_spec *s, int n_envs, uint64_t seed, const agent_loop_opts *o,
                   agent_loop_result *res);

#endif
