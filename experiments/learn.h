/* learn — an agent trained on a vector of envs without a log, for the
 * agents' learning tests and `rql bench memory`: run.c's training step
 * (run_step) on an env-step budget, with run.c's greedy evaluation
 * (run_evaluate) every eval_every env steps, stopping at the first solving
 * evaluation if asked. There is one act / step / observe loop in rql, and
 * this is run_execute's minus the log, checkpoints and progress.
 *
 * Seeds: envs from (seed, 1), the agent from (seed, 2), evaluation i from
 * ((seed, 3), i), all through env_seed, so evaluations never disturb the
 * training streams.
 *
 * Files: learn.c.
 */
#ifndef RQL_LEARN_H
#define RQL_LEARN_H

#include <stddef.h>
#include <stdint.h>
#include "agents/agent.h"
#include "envs/env.h"

typedef struct {
    long max_env_steps;      /* training budget, env steps summed over envs */
    long eval_every;         /* env steps between greedy evaluations (0: only at the end) */
    int eval_episodes;       /* episodes per evaluation (one per env of an eval vector) */
    int stop_when_solved;    /* stop at the first evaluation with success 1.0 */
} learn_opts;

typedef struct {
    int solved;              /* an evaluation reached success 1.0 */
    long solve_episodes;     /* training episodes finished at that evaluation */
    long solve_steps;        /* env steps at that evaluation */
    double solve_wall_s;     /* wall-clock seconds to that evaluation (setup included) */
    double final_success;    /* success rate of the last evaluation */
    double final_return;     /* mean return of the last evaluation */
    long episodes, env_steps;/* totals of the training */
    double wall_s;           /* the whole run, setup included */
} learn_result;

/* Builds n_envs envs of s and an agent of c, trains it until the budget (or
 * the first solving evaluation) and fills res. Returns 0, or -1 with the
 * reason in err. */
int learn_run(const agent_cfg *c, const env_spec *s, int n_envs, uint64_t seed, const learn_opts *o,
              learn_result *res, char *err, size_t cap);

#endif
