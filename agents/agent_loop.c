/* agent_loop.c — train / evaluate an agent on an env vector (see agent_loop.h).
 * The only file of agents/ that depends on envs/. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agents/agent_loop.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int agent_loop_eval(agent *a, const env_spec *s, int episodes, uint64_t seed, long max_steps,
                    double *success, double *ret) {
    env_vec *v = env_vec_alloc(s, episodes, seed);
    agent_actor *ac = v ? agent_actor_alloc(a, episodes) : NULL;
    int *act = malloc(sizeof(int) * episodes);
    uint8_t *done = calloc((size_t)episodes, 1);
    int rc = 0, ndone = 0, nsucc = 0;
    double sum = 0;
    if (!v || !ac || !act || !done) {
        rc = rql_set_error(AGENT_ENOMEM, "eval: cannot build %d envs (%s)", episodes, v ? rql_error() : rql_error());
        goto out;
    }
    if (env_vec_reset(v) < 0) { rc = rql_set_error(AGENT_EINVAL, "eval: %s", rql_error()); goto out; }
    for (long t = 0; ndone < episodes; t++) {
        if (t >= max_steps) {
            rc = rql_set_error(AGENT_EINVAL, "eval: %d episodes still running after %ld steps", episodes - ndone, t);
            goto out;
        }
        if ((rc = agent_act(a, ac, v->obs, v->episode_start, 1, act)) < 0) goto out;
        if (env_vec_step(v, act) < 0) { rc = rql_set_error(AGENT_EINVAL, "eval: %s", rql_error()); goto out; }
        for (int i = 0; i < episodes; i++)
            if (!done[i] && (v->terminated[i] || v->truncated[i])) {
                done[i] = 1;
                ndone++;
                nsucc += v->success[i] != 0;
                sum += v->ep_return[i];
            }
    }
    *success = (double)nsucc / episodes;
    *ret = sum / episodes;
out:
    free(done);
    free(act);
    agent_actor_free(ac);
    env_vec_free(v);
    return rc;
}

int agent_loop_train(agent *a, agent_actor *ac, env_vec *v, const env_spec *s, const agent_loop_opts *o,
                     uint64_t eval_seed, agent_loop_result *res) {
    const int n = v->n, os = v->obs_size;
    int *act = malloc(sizeof(int) * n);
    float *next = malloc(sizeof(float) * n * os);
    int rc = 0, evals = 0;
    if (!act || !next) { rc = rql_set_error(AGENT_ENOMEM, "train loop: out of memory"); goto out; }
    double t0 = now_s();
    long next_eval = o->eval_every > 0 ? o->eval_every : o->max_env_steps;
    while (res->env_steps < o->max_env_steps) {
        if ((rc = agent_act(a, ac, v->obs, v->episode_start, 0, act)) < 0) goto out;
        if (env_vec_step(v, act) < 0) { rc = rql_set_error(AGENT_EINVAL, "train: %s", rql_error()); goto out; }
        for (int i = 0; i < n; i++) {
            const float *src = v->terminated[i] || v->truncated[i] ? v->final_obs : v->obs;
            memcpy(next + (size_t)i * os, src + (size_t)i * os, sizeof(float) * os);
            res->episodes += v->terminated[i] || v->truncated[i];
        }
        if ((rc = agent_observe(a, ac, v->rewards, v->terminated, v->truncated, next)) < 0) goto out;
        res->env_steps += n;
        if (res->env_steps >= next_eval || res->env_steps >= o->max_env_steps) {
            next_eval += o->eval_every > 0 ? o->eval_every : o->max_env_steps;
            uint64_t es = env_seed(eval_seed, (uint64_t)evals++);
            rc = agent_loop_eval(a, s, o->eval_episodes, es, 100000, &res->final_success, &res->final_return);
            if (rc < 0) goto out;
            if (res->final_success >= 1.0 && !res->solved) {
                res->solved = 1;
                res->solve_episodes = res->episodes;
                res->solve_steps = res->env_steps;
                res->solve_wall_s = res->wall_s + now_s() - t0;
                if (o->stop_when_solved) break;
            }
        }
    }
    res->wall_s += now_s() - t0;
out:
    free(next);
    free(act);
    return rc;
}

int agent_loop_run(const agent_cfg *c, const env_spec *s, int n_envs, uint64_t seed, const agent_loop_opts *o,
                   agent_loop_result *res) {
    memset(res, 0, sizeof *res);
    double t0 = now_s();
    env_vec *v = env_vec_alloc(s, n_envs, env_seed(seed, 1));
    agent *a = v ? agent_alloc(c, v->obs_size, v->n_actions, n_envs, env_seed(seed, 2)) : NULL;
    agent_actor *ac = a ? agent_actor_alloc(a, n_envs) : NULL;
    int rc;
    if (!v) rc = rql_set_error(AGENT_EINVAL, "envs: %s", rql_error());
    else if (!a || !ac) rc = AGENT_EINVAL;
    else if (env_vec_reset(v) < 0) rc = rql_set_error(AGENT_EINVAL, "envs: %s", rql_error());
    else rc = agent_loop_train(a, ac, v, s, o, env_seed(seed, 3), res);
    /* wall clock of the whole run, setup included */
    double setup = now_s() - t0 - res->wall_s;
    res->wall_s += setup;
    if (res->solved) res->solve_wall_s += setup;
    agent_actor_free(ac);
    agent_free(a);
    env_vec_free(v);
    return rc;
}
