/* memory_chain.c — bsuite's memory environment (Osband et al. 2020, "Behaviour
 * Suite for Reinforcement Learning"), reproduced rule for rule from
 * google-deepmind/bsuite, bsuite/environments/memory_chain.py (class
 * MemoryChain); the rules and the source lines they come from are in
 * docs/envs.md. The experiments memory_len (n = 1, L swept) and memory_size
 * (L = 2, n swept) are the suites in experiments/suites/.
 *
 * State: the source's _timestep t, the query index and n context bits.
 * Observation, n + 2 floats, as the source's _get_observation at t:
 *   [0]      1 - t / L                     (every step)
 *   [1]      the query index, as a number  (only when t == L - 1)
 *   [2..n+1] 2 context - 1, i.e. +-1       (only when t == 0)
 * A step first builds the observation at the current t, then increments t
 * (memory_chain.py _step), so the observation returned by a step is the one
 * of the t *before* it: the context is seen at reset and again after the
 * first action, and the query is seen before the last action. An episode is
 * L + 1 actions; the first L get reward 0, the (L + 1)-th is the answer:
 * +1 (success) when it equals context[query], -1 otherwise, and the episode
 * terminates. For L = 1 the query and the context are in the same (first)
 * observation, so the task needs no memory there.
 */
#include <stdio.h>
#include <stdlib.h>
#include "envs/env_internal.h"

#define MC_MAX_BITS 4096

typedef struct {
    int len, bits;
} mc_cfg;

typedef struct {
    int32_t t;          /* bsuite's _timestep: 0 at reset, + 1 per step */
    int32_t query;      /* index of the context bit asked for, 0 .. n - 1 */
    int32_t context[];  /* [n] bits, 0 or 1 (bsuite: binomial(1, 0.5, n)) */
} mc_state;

static const param_desc mc_params[] = {
    {"memory_length", PARAM_INT, "5", 1, 100000,
     "L: steps between the context and the query; an episode is L + 1 actions", NULL},
    {"num_bits", PARAM_INT, "1", 1, MC_MAX_BITS, "n: context bits shown at the start; the query names one", NULL},
};

static const env_info mc_info = {
    "memory_chain", "bsuite's memory chain: n context bits at the start, answer the queried one L steps later",
    "bsuite's memory environment (Osband et al. 2020; bsuite/environments/memory_chain.py), rule for "
    "rule. Observation n + 2 floats: [1 - t/L, query index (only at t = L - 1), n context bits as +-1 "
    "(only at t = 0)], where a step returns the observation of t before incrementing it, so the "
    "context is seen at reset and after the first action. Two actions; L + 1 actions per episode, "
    "reward 0 until the last, then +1 (success) if the action equals context[query], -1 otherwise, "
    "and the episode ends. L = 1 shows query and context together (no memory needed). bsuite's "
    "memory_len is n = 1, L swept; memory_size is L = 2, n swept ('rql suite --list'). Signal bits: "
    "the context (2 .. n + 1).",
    mc_params, (int)(sizeof mc_params / sizeof mc_params[0]), 0};

static size_t mc_state_bytes(int bits) {
    size_t b = sizeof(mc_state) + (size_t)bits * sizeof(int32_t);
    return (b + 7) / 8 * 8;
}

static int mc_make(const env_spec *s, void **out, env_dims *d) {
    mc_cfg *c = calloc(1, sizeof *c);
    if (!c) return rql_set_error(ENV_ENOMEM, "memory_chain: out of memory");
    c->len = (int)env_param_long(s, "memory_length");
    c->bits = (int)env_param_long(s, "num_bits");
    *out = c;
    *d = (env_dims){.obs_size = c->bits + 2, .n_actions = 2, .state_bytes = mc_state_bytes(c->bits)};
    return 0;
}

/* memory_chain.py _get_observation. */
static void put_obs(const mc_cfg *c, const mc_state *s, float *o) {
    o[0] = (float)(1.0 - (double)s->t / c->len);
    o[1] = s->t == c->len - 1 ? (float)s->query : 0.0f;
    for (int k = 0; k < c->bits; k++) o[2 + k] = s->t == 0 ? (float)(2 * s->context[k] - 1) : 0.0f;
}

/* memory_chain.py _reset: the context first (n draws), then the query. */
static void mc_reset(const void *cfg, void *st, gsl_rng *r, float *obs) {
    const mc_cfg *c = cfg;
    mc_state *s = st;
    s->t = 0;
    for (int k = 0; k < c->bits; k++) s->context[k] = (int32_t)gsl_rng_uniform_int(r, 2);
    s->query = (int32_t)gsl_rng_uniform_int(r, (unsigned long)c->bits);
    put_obs(c, s, obs);
}

/* memory_chain.py _step: observation of the current t, then t += 1. */
static int mc_step(const void *cfg, void *st, gsl_rng *r, int a, float *obs, float *rew) {
    const mc_cfg *c = cfg;
    mc_state *s = st;
    put_obs(c, s, obs);
    s->t++;
    if (s->t - 1 < c->len) {
        *rew = 0;
        return 0;
    }
    int ok = a == s->context[s->query];
    *rew = ok ? 1.0f : -1.0f;
    return ENV_F_TERM | (ok ? ENV_F_SUCCESS : 0);
}

/* What the agent holds: the observation of t - 1 (of 0 at reset), per the
 * off-by-one of _step; the answer is due when t == L. */
static int mc_render(const void *cfg, const void *st, char *buf, size_t cap) {
    const mc_cfg *c = cfg;
    const mc_state *s = st;
    int seen = s->t > 0 ? s->t - 1 : 0;
    size_t pos = 0;
    if (s->t > c->len) {
        env_bufcat(buf, cap, &pos, "  answered: the episode is over (context[%d] was %d)\n", s->query,
                   s->context[s->query]);
        return 0;
    }
    env_bufcat(buf, cap, &pos, "  step %d of %d (t = %d, the observation shows t = %d: 1 - t/L = %.3f)\n", s->t + 1,
               c->len + 1, s->t, seen, 1.0 - (double)seen / c->len);
    env_bufcat(buf, cap, &pos, "  context:");
    for (int k = 0; k < c->bits && k < 64; k++) env_bufcat(buf, cap, &pos, " %c", seen == 0 ? '0' + s->context[k] : '?');
    env_bufcat(buf, cap, &pos, "%s%s\n", c->bits > 64 ? " ..." : "", seen == 0 ? "" : "  (shown at t = 0 only)");
    if (seen == c->len - 1) env_bufcat(buf, cap, &pos, "  query: bit %d\n", s->query);
    if (s->t == c->len) env_bufcat(buf, cap, &pos, "  answer now: action = context[query]\n");
    else env_bufcat(buf, cap, &pos, "  (actions do nothing until step %d)\n", c->len + 1);
    return 0;
}

static const char *mc_action_name(const void *cfg, int a) { return a ? "1" : "0"; }

static int mc_signal_bits(const void *cfg, int *idx, int cap) {
    const mc_cfg *c = cfg;
    int k = 0;
    for (; k < c->bits && k < cap; k++) idx[k] = 2 + k;
    return k;
}

const env_class memory_chain_class = {
    .info = &mc_info, .make = mc_make, .reset = mc_reset, .step = mc_step,
    .render = mc_render, .action_name = mc_action_name, .signal_bits = mc_signal_bits,
};
