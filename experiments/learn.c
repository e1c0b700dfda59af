/* learn — an agent trained on envs without a log (see learn.h). */
#include "experiments/learn.h"

#include <stdlib.h>
#include <string.h>
#include "experiments/run.h"
#include "util/util.h"

/* Trains a (with its training actor ac) on v; evaluations use seeds derived
 * from eval_seed. */
static int train(agent *a, agent_actor *ac, env_vec *v, const env_spec *s, const learn_opts *o,
                 uint64_t eval_seed, learn_result *res, char *err, size_t cap) {
    const int n = v->n;
    int *act = malloc(sizeof(int) * n);
    float *next = malloc(sizeof(float) * n * v->obs_size);
    int rc = 0, evals = 0;
    if (!act || !next) { rc = rql_failf(err, cap, "train loop: out of memory"); goto out; }
    double t0 = rql_now_s();
    long next_eval = o->eval_every > 0 ? o->eval_every : o->max_env_steps;
    while (res->env_steps < o->max_env_steps) {
        if ((rc = run_step(a, ac, v, act, next, err, cap)) < 0) goto out;
        for (int i = 0; i < n; i++) res->episodes += v->terminated[i] || v->truncated[i];
        res->env_steps += n;
        if (res->env_steps >= next_eval || res->env_steps >= o->max_env_steps) {
            next_eval += o->eval_every > 0 ? o->eval_every : o->max_env_steps;
            uint64_t es = env_seed(eval_seed, (uint64_t)evals++);
            rc = run_evaluate(a, s, o->eval_episodes, es, &res->final_success, &res->final_return, NULL, 0, 0,
                              err, cap);
            if (rc < 0) goto out;
            if (res->final_success >= 1.0 && !res->solved) {
                res->solved = 1;
                res->solve_episodes = res->episodes;
                res->solve_steps = res->env_steps;
                res->solve_wall_s = res->wall_s + rql_now_s() - t0;
                if (o->stop_when_solved) break;
            }
        }
    }
    res->wall_s += rql_now_s() - t0;
out:
    free(next);
    free(act);
    return rc;
}

int learn_run(const agent_cfg *c, const env_spec *s, int n_envs, uint64_t seed, const learn_opts *o,
              learn_result *res, char *err, size_t cap) {
    memset(res, 0, sizeof *res);
    double t0 = rql_now_s();
    env_vec *v = env_vec_alloc(s, n_envs, env_seed(seed, 1));
    agent *a = v ? agent_alloc(c, v->obs_size, v->n_actions, n_envs, env_seed(seed, 2)) : NULL;
    agent_actor *ac = a ? agent_actor_alloc(a, n_envs) : NULL;
    int rc;
    if (!v) rc = rql_failf(err, cap, "envs: %s", rql_error());
    else if (!a || !ac) rc = rql_failf(err, cap, "agent: %s", rql_error());
    else if (env_vec_reset(v) < 0) rc = rql_failf(err, cap, "envs: %s", rql_error());
    else rc = train(a, ac, v, s, o, env_seed(seed, 3), res, err, cap);
    /* wall clock of the whole run, setup included */
    double setup = rql_now_s() - t0 - res->wall_s;
    res->wall_s += setup;
    if (res->solved) res->solve_wall_s += setup;
    agent_actor_free(ac);
    agent_free(a);
    env_vec_free(v);
    return rc;
}
