/* sum.c — the "arithmetical sum" memory task: T random digits (0..9) are
 * shown one per step; at the last of them the agent must answer the sum of
 * all T digits modulo m, choosing one of m actions. The classic form is the
 * adding/sum problems used to test long-term memory in recurrent nets
 * (Hochreiter & Schmidhuber 1997, "Long Short-Term Memory", experiment 4,
 * the adding problem); here it is a plain episodic RL task.
 *
 * Observation, 11 floats: one-hot of the digit shown (10) and a flag that is
 * 1 on the last digit, the step where the action is the answer. Steps
 * t = 0 .. T-2: the action is ignored, reward 0, the next digit is shown.
 * Step T-1: the action is the answer; reward_right (+1) and success if it
 * equals (d_0 + ... + d_{T-1}) mod m, reward_wrong (-1) otherwise; the
 * episode terminates and the observation emitted is all zeros. Every episode
 * lasts exactly T steps, so there is no separate time limit. Digits are
 * drawn uniformly from the instance's RNG, one per step (the running sum is
 * the state: no digit history is kept). A memoryless agent can do no better
 * than 1/m when T > 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include "envs/env_internal.h"

typedef struct {
    int len, mod;
    float r_right, r_wrong;
    char names[1000][12];  /* action names "0" .. "999" */
} sum_cfg;

typedef struct {
    int32_t t;        /* index of the digit shown */
    int32_t sum;      /* sum of the digits shown so far, shown one included */
    int32_t digit;    /* digit shown; -1 after the answer */
    int32_t pad;
} sum_state;

static const param_desc sum_params[] = {
    {"length", PARAM_INT, "5", 1, 100000, "T, digits per episode (the answer is due at the last)", NULL},
    {"modulo", PARAM_INT, "10", 2, 1000, "m: the answer is the sum mod m, one action per residue", NULL},
    ENV_REWARD("reward_right", "1", "reward for the right answer"),
    ENV_REWARD("reward_wrong", "-1", "reward for a wrong answer"),
};

static const env_info sum_info = {
    "sum", "T digits one per step; answer their sum mod m at the last one",
    "The arithmetical sum memory task (cf. Hochreiter & Schmidhuber 1997, experiment 4). Digits 0..9 "
    "are shown one per step as a one-hot vector plus a last-digit flag (11 floats). On the last of "
    "the T digits the action (0..m-1) is the answer: +1 and success if it is the sum of all T digits "
    "mod m, -1 otherwise; the episode ends there. Earlier actions are ignored (reward 0). Episodes "
    "last exactly T steps. Signal bits: 0..9 (the digit).",
    sum_params, (int)(sizeof sum_params / sizeof sum_params[0]), 0};

static int sum_make(const env_spec *s, void **out, env_dims *d) {
    sum_cfg *c = calloc(1, sizeof *c);
    if (!c) return rql_set_error(ENV_ENOMEM, "sum: out of memory");
    c->len = (int)env_param_long(s, "length");
    c->mod = (int)env_param_long(s, "modulo");
    c->r_right = (float)env_param_real(s, "reward_right");
    c->r_wrong = (float)env_param_real(s, "reward_wrong");
    for (int a = 0; a < c->mod; a++) snprintf(c->names[a], sizeof c->names[a], "%d", a);
    *out = c;
    *d = (env_dims){.obs_size = 11, .n_actions = c->mod, .state_bytes = sizeof(sum_state)};
    return 0;
}

static void put_obs(const sum_cfg *c, const sum_state *s, float *o) {
    for (int k = 0; k < 11; k++) o[k] = 0;
    if (s->digit < 0) return;
    o[s->digit] = 1;
    o[10] = s->t == c->len - 1;
}

static void sum_reset(const void *cfg, void *st, gsl_rng *r, float *obs) {
    sum_state *s = st;
    s->t = 0;
    s->digit = (int32_t)gsl_rng_uniform_int(r, 10);
    s->sum = s->digit;
    put_obs(cfg, s, obs);
}

static int sum_step(const void *cfg, void *st, gsl_rng *r, int a, float *obs, float *rew) {
    const sum_cfg *c = cfg;
    sum_state *s = st;
    if (s->t < c->len - 1) {
        s->t++;
        s->digit = (int32_t)gsl_rng_uniform_int(r, 10);
        s->sum += s->digit;
        *rew = 0;
        put_obs(c, s, obs);
        return 0;
    }
    int ok = a == s->sum % c->mod;
    *rew = ok ? c->r_right : c->r_wrong;
    s->digit = -1;
    put_obs(c, s, obs);
    return ENV_F_TERM | (ok ? ENV_F_SUCCESS : 0);
}

static int sum_render(const void *cfg, const void *st, char *buf, size_t cap) {
    const sum_cfg *c = cfg;
    const sum_state *s = st;
    size_t pos = 0;
    if (s->digit < 0)
        env_bufcat(buf, cap, &pos, "  answered; the sum of the %d digits was %d, mod %d = %d\n", c->len, s->sum,
                   c->mod, s->sum % c->mod);
    else
        env_bufcat(buf, cap, &pos, "  digit %d of %d: [ %d ]%s\n  (sum so far %d, mod %d = %d)\n", s->t + 1, c->len,
                   s->digit, s->t == c->len - 1 ? "  <- answer now: the sum mod m" : "", s->sum, c->mod,
                   s->sum % c->mod);
    return 0;
}

static const char *sum_action_name(const void *cfg, int a) {
    return ((const sum_cfg *)cfg)->names[a];
}

static int sum_signal_bits(const void *cfg, int *idx, int cap) {
    int k = 0;
    for (; k < 10 && k < cap; k++) idx[k] = k;
    return k;
}

const env_class sum_class = {
    .info = &sum_info, .make = sum_make, .reset = sum_reset, .step = sum_step,
    .render = sum_render, .action_name = sum_action_name, .signal_bits = sum_signal_bits,
};
