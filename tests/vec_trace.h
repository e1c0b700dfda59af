/* vec_trace.h — a test helper of check_envs and check_popgym: everything an
 * env vector exposes over `steps` steps of seeded random actions, as one
 * byte string, so that two runs (1 and 2 threads) can be compared with
 * memcmp. Per step: obs, final_obs (zeroed where no episode ended: only
 * defined there), rewards, ep_return, ep_length, terminated, truncated,
 * success, episode_start; after the last step the vector's whole saved
 * state (env_vec_save_state: every instance's state and RNG). */
#ifndef RQL_TESTS_VEC_TRACE_H
#define RQL_TESTS_VEC_TRACE_H

#include <check.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include "envs/env.h"

static inline size_t vec_trace(const env_spec *s, int n, int steps, int threads, unsigned char **out) {
    omp_set_num_threads(threads);
    env_vec *v = env_vec_alloc(s, n, 2024);
    ck_assert_msg(v != NULL, "%s", rql_error());
    int *act = malloc(sizeof(int) * n);
    size_t ob = sizeof(float) * n * v->obs_size, per = 2 * ob + (size_t)n * (2 * sizeof(float) + sizeof(int) + 4);
    size_t st = env_vec_state_bytes(v);
    unsigned char *buf = malloc(per * steps + st), *q = buf;
    ck_assert(act && buf);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
    for (int t = 0; t < steps; t++) {
        for (int i = 0; i < n; i++) act[i] = (int)gsl_rng_uniform_int(r, v->n_actions);
        ck_assert_int_eq(env_vec_step(v, act), 0);
        for (int i = 0; i < n; i++)
            if (!v->terminated[i] && !v->truncated[i]) memset(v->final_obs + i * v->obs_size, 0, sizeof(float) * v->obs_size);
        memcpy(q, v->obs, ob); q += ob;
        memcpy(q, v->final_obs, ob); q += ob;
        memcpy(q, v->rewards, sizeof(float) * n); q += sizeof(float) * n;
        memcpy(q, v->ep_return, sizeof(float) * n); q += sizeof(float) * n;
        memcpy(q, v->ep_length, sizeof(int) * n); q += sizeof(int) * n;
        memcpy(q, v->terminated, n); q += n;
        memcpy(q, v->truncated, n); q += n;
        memcpy(q, v->success, n); q += n;
        memcpy(q, v->episode_start, n); q += n;
    }
    memset(q, 0, st);
    ck_assert_int_eq(env_vec_save_state(v, q), 0);
    gsl_rng_free(r);
    free(act);
    env_vec_free(v);
    *out = buf;
    return per * steps + st;
}

#endif
