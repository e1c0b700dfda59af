/* check_envs — the envs module: hand-computed episodes of every world,
 * seeding, vectors against single instances, thread-count independence,
 * checkpoint round trips, wrappers and every parameter error path. */
#include <check.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gsl/gsl_rng.h>
#include "envs/env.h"
#include "tests/vec_trace.h"

enum { N_ = 0, E_ = 1, S_ = 2, W_ = 3 };

static env *make_env(const char *world, const char *const *kv) {
    env_spec *s = env_spec_alloc(world);
    ck_assert_msg(s != NULL, "%s", rql_error());
    for (int i = 0; kv && kv[i]; i += 2) ck_assert_msg(env_spec_set(s, kv[i], kv[i + 1]) == 0, "%s", rql_error());
    env *e = env_make(s);
    ck_assert_msg(e != NULL, "%s", rql_error());
    env_spec_free(s);
    return e;
}

static void obs_eq(const float *o, const float *want, int n) {
    for (int k = 0; k < n; k++) ck_assert_msg(o[k] == want[k], "obs[%d] = %g, want %g", k, o[k], want[k]);
}

typedef struct { float r; uint8_t term, trunc, succ; } stepres;

static stepres step(env *e, int a, float *obs) {
    stepres s;
    ck_assert_int_eq(env_step(e, a, obs, &s.r, &s.term, &s.trunc, &s.succ), 0);
    return s;
}

/* A seed whose first T-maze episode has the given sign (0 north, 1 south). */
static uint64_t seed_with_sign(env *e, int sign) {
    float o[3];
    for (uint64_t seed = 1; seed < 100; seed++) {
        env_reset(e, seed, o);
        if ((sign == 0 && o[0] == 0) || (sign == 1 && o[0] == 1)) return seed;
    }
    ck_abort_msg("no seed with sign %d", sign);
    return 0;
}

static const float START_N[3] = {0, 1, 1}, START_S[3] = {1, 1, 0}, CORR[3] = {1, 0, 1}, JUNC[3] = {0, 1, 0};

START_TEST(tmaze_episode_by_hand) {
    const char *kv[] = {"length", "3", NULL};
    env *e = make_env("tmaze", kv);
    ck_assert_int_eq(env_obs_size(e), 3);
    ck_assert_int_eq(env_num_actions(e), 4);
    ck_assert_str_eq(env_action_name(e, 0), "N");
    ck_assert_str_eq(env_action_name(e, 3), "W");
    ck_assert_ptr_null(env_action_name(e, 4));
    float o[3];
    env_reset(e, seed_with_sign(e, 0), o);
    obs_eq(o, START_N, 3);
    /* walls at the start: W, N, S stay with -0.1 */
    int walls[] = {W_, N_, S_};
    for (int k = 0; k < 3; k++) {
        stepres r = step(e, walls[k], o);
        ck_assert_float_eq(r.r, -0.1f);
        ck_assert(!r.term && !r.trunc && !r.succ);
        obs_eq(o, START_N, 3);
    }
    stepres r = step(e, E_, o);                      /* x = 1 */
    ck_assert_float_eq(r.r, 0.0f);
    obs_eq(o, CORR, 3);
    r = step(e, N_, o);                              /* wall in the corridor */
    ck_assert_float_eq(r.r, -0.1f);
    obs_eq(o, CORR, 3);
    r = step(e, W_, o);                              /* back to the start: the sign again */
    ck_assert_float_eq(r.r, 0.0f);
    obs_eq(o, START_N, 3);
    step(e, E_, o);
    r = step(e, E_, o);                              /* x = 2 */
    obs_eq(o, CORR, 3);
    r = step(e, E_, o);                              /* x = 3: junction */
    ck_assert_float_eq(r.r, 0.0f);
    obs_eq(o, JUNC, 3);
    r = step(e, E_, o);                              /* wall east of the junction */
    ck_assert_float_eq(r.r, -0.1f);
    obs_eq(o, JUNC, 3);
    ck_assert(!r.term);
    r = step(e, N_, o);                              /* the right arm */
    ck_assert_float_eq(r.r, 4.0f);
    ck_assert(r.term && !r.trunc && r.succ);
    obs_eq(o, JUNC, 3);
    char buf[512];
    ck_assert_int_eq(env_render(e, buf, sizeof buf), 0);
    ck_assert_msg(strstr(buf, "sign 011 (goal north)") != NULL, "%s", buf);
    int idx[4];
    ck_assert_int_eq(env_signal_bits(e, idx, 4), 2);
    ck_assert_int_eq(idx[0], 0);
    ck_assert_int_eq(idx[1], 2);
    env_free(e);
}
END_TEST

START_TEST(tmaze_junction_choices) {
    const char *kv[] = {"length", "1", NULL};
    env *e = make_env("tmaze", kv);
    float o[3];
    for (int sign = 0; sign < 2; sign++)
        for (int a = N_; a <= S_; a += 2) {
            env_reset(e, seed_with_sign(e, sign), o);
            obs_eq(o, sign ? START_S : START_N, 3);
            stepres r = step(e, E_, o);
            obs_eq(o, JUNC, 3);
            r = step(e, a, o);
            int right = (a == N_) == (sign == 0);
            ck_assert_float_eq(r.r, right ? 4.0f : -0.1f);
            ck_assert(r.term && !r.trunc);
            ck_assert_int_eq(r.succ, right);
        }
    env_free(e);
}
END_TEST

START_TEST(tmaze_custom_rewards_and_time_limit) {
    const char *kv[] = {"length", "2", "max_steps", "5", "reward_wall", "-1", "reward_step", "-0.5",
                        "reward_goal", "10", "reward_wrong", "-3", NULL};
    env *e = make_env("tmaze", kv);
    float o[3];
    env_reset(e, 7, o);
    for (int t = 1; t <= 5; t++) {
        stepres r = step(e, W_, o);
        ck_assert_float_eq(r.r, -1.0f);
        ck_assert(!r.term);
        ck_assert_int_eq(r.trunc, t == 5);
    }
    /* an episode ending exactly at the limit is terminated, not truncated */
    env_reset(e, seed_with_sign(e, 1), o);
    step(e, W_, o);
    step(e, W_, o);
    ck_assert_float_eq(step(e, E_, o).r, -0.5f);
    step(e, E_, o);
    stepres r = step(e, N_, o);
    ck_assert(r.term && !r.trunc && !r.succ);
    ck_assert_float_eq(r.r, -3.0f);
    env_free(e);
    /* default limit: 10 (length + 1) */
    const char *kv2[] = {"length", "4", NULL};
    e = make_env("tmaze", kv2);
    env_reset(e, 1, o);
    for (int t = 1; t <= 50; t++) ck_assert_int_eq(step(e, W_, o).trunc, t == 50);
    env_free(e);
}
END_TEST

START_TEST(tmaze_corridor_noise) {
    const char *kv[] = {"length", "3", "corridor_noise", "1", NULL};
    env *e = make_env("tmaze", kv);
    float o[3];
    env_reset(e, seed_with_sign(e, 1), o);
    obs_eq(o, START_S, 3);                           /* start stays clean */
    step(e, E_, o);
    const float flipped[3] = {0, 1, 0};
    obs_eq(o, flipped, 3);                           /* p = 1: every corridor bit flipped */
    step(e, E_, o);
    step(e, E_, o);
    obs_eq(o, JUNC, 3);                              /* junction stays clean */
    env_free(e);
    /* p = 0.25: the flip rate of corridor bits, and the signs are fair */
    const char *kv2[] = {"length", "3", "corridor_noise", "0.25", NULL};
    e = make_env("tmaze", kv2);
    int flips = 0, bits = 0, north = 0;
    for (int ep = 0; ep < 2000; ep++) {
        env_reset(e, 1000 + ep, o);
        north += o[0] == 0;
        step(e, E_, o);
        for (int b = 0; b < 3; b++) flips += o[b] != CORR[b];
        bits += 3;
    }
    ck_assert_msg(fabs((double)flips / bits - 0.25) < 0.02, "flip rate %g", (double)flips / bits);
    ck_assert_msg(north > 900 && north < 1100, "%d of 2000 episodes had the goal north", north);
    env_free(e);
}
END_TEST

START_TEST(same_seed_same_trajectory) {
    const char *worlds[] = {"tmaze", "sum"};
    for (int w = 0; w < 2; w++) {
        const char *kv[] = {"obs_noise", "0.3", "flicker", "0.2", NULL};
        env *a = make_env(worlds[w], kv), *b = make_env(worlds[w], kv), *c = make_env(worlds[w], kv);
        int os = env_obs_size(a), na = env_num_actions(a), differ = 0;
        float oa[64], ob[64], oc[64];
        env_reset(a, 42, oa);
        env_reset(b, 42, ob);
        env_reset(c, 43, oc);
        for (int t = 0; t < 300; t++) {
            ck_assert(!memcmp(oa, ob, sizeof(float) * os));
            differ |= memcmp(oa, oc, sizeof(float) * os) != 0;
            int act = (t * 7 + t / 3) % na;
            stepres ra = step(a, act, oa), rb = step(b, act, ob), rc = step(c, act, oc);
            ck_assert(ra.r == rb.r && ra.term == rb.term && ra.trunc == rb.trunc && ra.succ == rb.succ);
            if (ra.term || ra.trunc) { env_restart(a, oa); env_restart(b, ob); }
            if (rc.term || rc.trunc) env_restart(c, oc);
        }
        ck_assert_msg(differ, "%s: seeds 42 and 43 gave the same observations", worlds[w]);
        env_free(a); env_free(b); env_free(c);
    }
}
END_TEST

/* A vector of n against n single instances, field by field, with random
 * actions; kv holds world and wrapper parameters. */
static void vec_vs_singles(const char *world, const char *const *kv, int n, int steps) {
    env_spec *s = env_spec_alloc(world);
    for (int i = 0; kv && kv[i]; i += 2) ck_assert_msg(env_spec_set(s, kv[i], kv[i + 1]) == 0, "%s", rql_error());
    env_vec *v = env_vec_alloc(s, n, 99);
    ck_assert_msg(v != NULL, "%s", rql_error());
    int os = v->obs_size;
    env **e = calloc(n, sizeof *e);
    float *o = calloc((size_t)n * os, sizeof(float)), *ret = calloc(n, sizeof(float));
    int *len = calloc(n, sizeof(int)), *act = calloc(n, sizeof(int));
    for (int i = 0; i < n; i++) {
        e[i] = env_make(s);
        env_reset(e[i], env_seed(99, i), o + i * os);
        ck_assert(v->episode_start[i]);
    }
    ck_assert(!memcmp(o, v->obs, sizeof(float) * n * os));
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
    gsl_rng_set(r, 5);
    int episodes = 0;
    for (int t = 0; t < steps; t++) {
        for (int i = 0; i < n; i++) act[i] = (int)gsl_rng_uniform_int(r, v->n_actions);
        ck_assert_int_eq(env_vec_step(v, act), 0);
        for (int i = 0; i < n; i++) {
            float *oi = o + i * os;
            stepres x = step(e[i], act[i], oi);
            ret[i] += x.r;
            len[i]++;
            ck_assert(x.r == v->rewards[i]);
            ck_assert_int_eq(x.term, v->terminated[i]);
            ck_assert_int_eq(x.trunc, v->truncated[i]);
            ck_assert_int_eq(x.succ, v->success[i]);
            ck_assert(ret[i] == v->ep_return[i]);
            ck_assert_int_eq(len[i], v->ep_length[i]);
            ck_assert_int_eq(v->episode_start[i], x.term || x.trunc);
            if (x.term || x.trunc) {
                ck_assert(!memcmp(oi, v->final_obs + i * os, sizeof(float) * os));
                env_restart(e[i], oi);
                ret[i] = 0;
                len[i] = 0;
                episodes++;
            }
            ck_assert(!memcmp(oi, v->obs + i * os, sizeof(float) * os));
        }
    }
    ck_assert_msg(episodes > n, "only %d episodes ended", episodes);
    for (int i = 0; i < n; i++) env_free(e[i]);
    free(e); free(o); free(ret); free(len); free(act);
    gsl_rng_free(r);
    env_vec_free(v);
    env_spec_free(s);
}

START_TEST(vec_equals_singles_tmaze) {
    const char *kv[] = {"length", "2", "max_steps", "9", NULL};
    vec_vs_singles("tmaze", kv, 7, 400);
    const char *kv2[] = {"length", "3", "corridor_noise", "0.3", NULL};
    vec_vs_singles("tmaze", kv2, 300, 100);
}
END_TEST

START_TEST(vec_equals_singles_wrapped) {
    const char *kv[] = {"length", "2", "flicker", "0.5", "obs_noise", "0.1", NULL};
    vec_vs_singles("tmaze", kv, 5, 300);
    const char *kv2[] = {"length", "3", "flicker", "0.3", NULL};
    vec_vs_singles("sum", kv2, 5, 300);
}
END_TEST

/* Everything a vector of this world exposes over `steps` steps (vec_trace.h). */
static size_t vec_run(const char *world, const char *const *kv, int n, int steps, int threads, unsigned char **out) {
    env_spec *s = env_spec_alloc(world);
    for (int i = 0; kv && kv[i]; i += 2) ck_assert_msg(env_spec_set(s, kv[i], kv[i + 1]) == 0, "%s", rql_error());
    size_t len = vec_trace(s, n, steps, threads, out);
    env_spec_free(s);
    return len;
}

static void threads_agree(const char *world, const char *const *kv, int n, int steps) {
    unsigned char *a, *b;
    size_t na = vec_run(world, kv, n, steps, 1, &a), nb = vec_run(world, kv, n, steps, 2, &b);
    ck_assert_uint_eq(na, nb);
    ck_assert_msg(!memcmp(a, b, na), "%s: 1 and 2 threads differ", world);
    free(a);
    free(b);
}

START_TEST(threads_bit_identical) {
    const char *kv[] = {"length", "4", NULL};
    threads_agree("tmaze", kv, 1000, 60);
    const char *kv2[] = {"length", "3", "flicker", "0.3", "obs_noise", "0.5", "corridor_noise", "0.1", NULL};
    threads_agree("tmaze", kv2, 777, 40);
    threads_agree("sum", NULL, 600, 40);
}
END_TEST

START_TEST(vec_bookkeeping) {
    /* length 1: E then the arm: every episode lasts 2 steps */
    env_spec *s = env_spec_alloc("tmaze");
    env_spec_set(s, "length", "1");
    env_vec *v = env_vec_alloc(s, 3, 1);
    int e[3] = {E_, E_, E_}, n[3] = {N_, N_, N_};
    ck_assert_int_eq(env_vec_step(v, e), 0);
    for (int i = 0; i < 3; i++) {
        ck_assert(!v->episode_start[i] && v->ep_length[i] == 1 && v->ep_return[i] == 0);
        obs_eq(v->obs + 3 * i, JUNC, 3);
    }
    ck_assert_int_eq(env_vec_step(v, n), 0);
    for (int i = 0; i < 3; i++) {
        ck_assert(v->terminated[i] && v->episode_start[i] && v->ep_length[i] == 2);
        ck_assert(v->ep_return[i] == v->rewards[i]);
        ck_assert(v->success[i] == (v->rewards[i] == 4.0f));
        obs_eq(v->final_obs + 3 * i, JUNC, 3);
        ck_assert(v->obs[3 * i + 1] == 1 && v->obs[3 * i] != v->obs[3 * i + 2]);   /* a start cell */
    }
    ck_assert_int_eq(env_vec_step(v, e), 0);
    for (int i = 0; i < 3; i++) ck_assert(v->ep_length[i] == 1 && v->ep_return[i] == 0 && !v->terminated[i]);
    /* a bad action is refused before any instance moves */
    int bad[3] = {E_, 4, E_};
    ck_assert_int_eq(env_vec_step(v, bad), ENV_EINVAL);
    ck_assert_msg(strstr(rql_error(), "action 4 of instance 1 out of range [0, 3]") != NULL, "%s", rql_error());
    ck_assert_int_eq(v->ep_length[0], 1);
    env_vec_free(v);
    env_spec_free(s);
}
END_TEST

START_TEST(state_round_trip) {
    const char *worlds[] = {"tmaze", "sum"};
    for (int w = 0; w < 2; w++) {
        env_spec *s = env_spec_alloc(worlds[w]);
        env_spec_set(s, "obs_noise", "0.2");
        env_vec *v = env_vec_alloc(s, 33, 8), *u = env_vec_alloc(s, 33, 1234);
        int act[33];
        gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
        for (int t = 0; t < 50; t++) {
            for (int i = 0; i < 33; i++) act[i] = (int)gsl_rng_uniform_int(r, v->n_actions);
            env_vec_step(v, act);
        }
        size_t nb = env_vec_state_bytes(v);
        unsigned char *buf = malloc(nb);
        ck_assert_int_eq(env_vec_save_state(v, buf), 0);
        ck_assert_int_eq(env_vec_load_state(u, buf), 0);
        for (int t = 0; t < 80; t++) {
            for (int i = 0; i < 33; i++) act[i] = (int)gsl_rng_uniform_int(r, v->n_actions);
            env_vec_step(v, act);
            env_vec_step(u, act);
            ck_assert(!memcmp(v->obs, u->obs, sizeof(float) * 33 * v->obs_size));
            ck_assert(!memcmp(v->rewards, u->rewards, sizeof(float) * 33));
            ck_assert(!memcmp(v->ep_length, u->ep_length, sizeof(int) * 33));
            ck_assert(!memcmp(v->episode_start, u->episode_start, 33));
        }
        /* single instance */
        env *a = env_make(s), *b = env_make(s);
        float oa[16], ob[16];
        env_reset(a, 5, oa);
        for (int t = 0; t < 7; t++) step(a, t % env_num_actions(a), oa);
        unsigned char *sb = malloc(env_state_bytes(a));
        env_save_state(a, sb);
        env_reset(b, 77, ob);
        ck_assert_int_eq(env_load_state(b, sb), 0);
        for (int t = 0; t < 60; t++) {
            stepres x = step(a, t % 3, oa), y = step(b, t % 3, ob);
            ck_assert(x.r == y.r && x.term == y.term && !memcmp(oa, ob, sizeof(float) * env_obs_size(a)));
            if (x.term || x.trunc) { env_restart(a, oa); env_restart(b, ob); }
        }
        free(sb);
        env_free(a); env_free(b);
        free(buf);
        gsl_rng_free(r);
        env_vec_free(v); env_vec_free(u);
        env_spec_free(s);
    }
    /* a state of another shape is refused with both shapes named */
    env_spec *s = env_spec_alloc("tmaze");
    env_vec *v = env_vec_alloc(s, 4, 1), *u = env_vec_alloc(s, 5, 1);
    unsigned char *buf = malloc(env_vec_state_bytes(v));
    env_vec_save_state(v, buf);
    ck_assert_int_eq(env_vec_load_state(u, buf), ENV_EINVAL);
    ck_assert_msg(strstr(rql_error(), "n 4") != NULL, "%s", rql_error());
    free(buf);
    env_vec_free(v); env_vec_free(u);
    env_spec_free(s);
}
END_TEST

START_TEST(wrappers) {
    const char *kv[] = {"flicker", "1", NULL};
    env *e = make_env("tmaze", kv);
    float o[3] = {9, 9, 9}, zero[3] = {0, 0, 0};
    env_reset(e, 3, o);
    obs_eq(o, zero, 3);
    step(e, E_, o);
    obs_eq(o, zero, 3);
    env_free(e);
    /* noise: mean and spread over many draws of the corridor observation */
    const char *kv2[] = {"obs_noise", "0.5", "length", "1000", NULL};
    e = make_env("tmaze", kv2);
    env_reset(e, 3, o);
    double sum = 0, sq = 0;
    int m = 0;
    step(e, E_, o);
    for (int t = 0; t < 2000; t++) {
        step(e, t % 2 ? W_ : E_, o);   /* x stays in 1..2: corridor cells */
        for (int k = 0; k < 3; k++) {
            double d = o[k] - CORR[k];
            sum += d; sq += d * d; m++;
        }
    }
    ck_assert_msg(fabs(sum / m) < 0.03, "noise mean %g", sum / m);
    ck_assert_msg(fabs(sqrt(sq / m) - 0.5) < 0.03, "noise std %g", sqrt(sq / m));
    env_free(e);
}
END_TEST

START_TEST(sum_episode_by_hand) {
    const char *kv[] = {"length", "3", "modulo", "4", NULL};
    env *e = make_env("sum", kv);
    ck_assert_int_eq(env_obs_size(e), 11);
    ck_assert_int_eq(env_num_actions(e), 4);
    ck_assert_str_eq(env_action_name(e, 3), "3");
    float o[11];
    for (int right = 0; right < 2; right++) {
        env_reset(e, 10 + right, o);
        int total = 0;
        for (int t = 0; t < 3; t++) {
            int d = -1, ones = 0;
            for (int k = 0; k < 10; k++) if (o[k] == 1) { d = k; ones++; } else ck_assert(o[k] == 0);
            ck_assert_int_eq(ones, 1);
            total += d;
            ck_assert(o[10] == (t == 2));
            int a = t < 2 ? 3 : right ? total % 4 : (total + 1) % 4;
            stepres r = step(e, a, o);
            if (t < 2) { ck_assert(r.r == 0 && !r.term); continue; }
            ck_assert(r.term && !r.trunc);
            ck_assert_int_eq(r.succ, right);
            ck_assert_float_eq(r.r, right ? 1.0f : -1.0f);
            for (int k = 0; k < 11; k++) ck_assert(o[k] == 0);
        }
    }
    env_free(e);
}
END_TEST

/* ---- gridworld ----------------------------------------------------------------- */
static int argmax1(const float *o, int n) {
    int k = -1, ones = 0;
    for (int i = 0; i < n; i++) {
        if (o[i] == 1) { k = i; ones++; }
        else ck_assert_msg(o[i] == 0, "obs[%d] = %g", i, o[i]);
    }
    ck_assert_int_eq(ones, 1);
    return k;
}

START_TEST(gridworld_full_by_hand) {
    const char *kv[] = {"map", "#####|#S.G#|#####", NULL};
    env *e = make_env("gridworld", kv);
    ck_assert_int_eq(env_obs_size(e), 15);
    ck_assert_int_eq(env_num_actions(e), 4);
    ck_assert_str_eq(env_action_name(e, 1), "E");
    float o[15];
    env_reset(e, 1, o);
    ck_assert_int_eq(argmax1(o, 15), 6);             /* row 1, column 1 */
    stepres r = step(e, E_, o);
    ck_assert_int_eq(argmax1(o, 15), 7);
    ck_assert(r.r == 0 && !r.term);
    r = step(e, N_, o);                              /* wall: stays */
    ck_assert_int_eq(argmax1(o, 15), 7);
    ck_assert(r.r == 0 && !r.term);
    r = step(e, E_, o);
    ck_assert_int_eq(argmax1(o, 15), 8);
    ck_assert(r.term && r.succ && !r.trunc);
    ck_assert_float_eq(r.r, 1.0f);
    /* default time limit 4 H W = 60 */
    env_reset(e, 1, o);
    for (int t = 1; t <= 60; t++) ck_assert_int_eq(step(e, W_, o).trunc, t == 60);
    env_free(e);
}
END_TEST

START_TEST(gridworld_keys_doors_lava) {
    const char *kv[] = {"map", "#######|#SKD.G#|#..L..#|#######", "reward_step", "-0.01", NULL};
    env *e = make_env("gridworld", kv);
    int os = 4 * 7 + 1;
    ck_assert_int_eq(env_obs_size(e), os);
    float o[64];
    env_reset(e, 1, o);
    ck_assert(o[os - 1] == 0);
    stepres r = step(e, E_, o);                      /* onto the key */
    ck_assert(o[os - 1] == 1 && o[1 * 7 + 2] == 1);
    ck_assert_float_eq(r.r, -0.01f);
    r = step(e, E_, o);                              /* the door opens */
    ck_assert(o[1 * 7 + 3] == 1);
    step(e, W_, o);
    step(e, E_, o);                                  /* and stays open */
    ck_assert(o[1 * 7 + 3] == 1);
    step(e, E_, o);
    r = step(e, E_, o);
    ck_assert(r.term && r.succ);
    /* the key and door come back at reset; without the key the door blocks */
    env_reset(e, 1, o);
    step(e, S_, o);
    step(e, E_, o);
    step(e, N_, o);                                  /* (1,2): the key again */
    ck_assert(o[os - 1] == 1);
    env_reset(e, 1, o);
    step(e, S_, o);
    step(e, E_, o);
    r = step(e, E_, o);                              /* lava */
    ck_assert(r.term && !r.succ && !r.trunc);
    ck_assert_float_eq(r.r, -1.0f);
    ck_assert_int_eq(argmax1(o, os - 1), 2 * 7 + 3);
    const char *kv2[] = {"map", "#####|#SDG#|#####", NULL};
    env *d = make_env("gridworld", kv2);
    env_reset(d, 1, o);
    step(d, E_, o);
    ck_assert_int_eq(argmax1(o, 15), 6);             /* locked: no key */
    char buf[256];
    env_render(d, buf, sizeof buf);
    ck_assert_msg(strstr(buf, "#@DG#") != NULL, "%s", buf);
    env_free(d);
    env_free(e);
}
END_TEST

/* Channel ch (0 wall, 1 goal, ...) of view cell (i, j) in a k x k ego view. */
static float view(const float *o, int k, int i, int j, int ch) { return o[(i * k + j) * 7 + ch]; }

START_TEST(gridworld_ego_by_hand) {
    const char *kv[] = {"map", "#####|#S.G#|#####", "view", "ego", "view_size", "3", NULL};
    env *e = make_env("gridworld", kv);
    ck_assert_int_eq(env_obs_size(e), 9 * 7 + 4);
    ck_assert_int_eq(env_num_actions(e), 3);
    ck_assert_str_eq(env_action_name(e, 0), "left");
    ck_assert_str_eq(env_action_name(e, 2), "forward");
    float o[67];
    env_reset(e, 1, o);                              /* at (1,1) facing east */
    /* far row (2 ahead): wall, goal, wall; middle: wall, floor, wall; own row: wall, floor, wall */
    ck_assert(view(o, 3, 0, 0, 0) == 1 && view(o, 3, 0, 1, 1) == 1 && view(o, 3, 0, 2, 0) == 1);
    ck_assert(view(o, 3, 1, 0, 0) == 1 && view(o, 3, 1, 2, 0) == 1);
    ck_assert(view(o, 3, 2, 0, 0) == 1 && view(o, 3, 2, 2, 0) == 1);
    float sum = 0;
    for (int k = 0; k < 63; k++) sum += o[k];
    ck_assert_float_eq(sum, 7.0f);                   /* 6 walls and the goal, floors are zero */
    ck_assert(o[63 + 1] == 1 && o[63] == 0 && o[65] == 0 && o[66] == 0);
    stepres r = step(e, 0, o);                       /* left: facing north */
    ck_assert(o[63] == 1 && r.r == 0 && !r.term);
    /* own row: west wall, floor, east floor; both rows ahead are wall (outside reads as wall) */
    ck_assert(view(o, 3, 2, 0, 0) == 1 && view(o, 3, 2, 1, 0) == 0 && view(o, 3, 2, 2, 0) == 0);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) ck_assert(view(o, 3, i, j, 0) == 1);
    r = step(e, 2, o);                               /* forward into the wall */
    ck_assert(o[63] == 1 && !r.term);
    step(e, 1, o);                                   /* right: east again */
    ck_assert(o[64] == 1);
    step(e, 2, o);
    ck_assert(view(o, 3, 1, 1, 1) == 1);             /* the goal one ahead */
    r = step(e, 2, o);
    ck_assert(r.term && r.succ);
    ck_assert_float_eq(r.r, 1.0f);
    env_free(e);
}
END_TEST

START_TEST(gridworld_shipped_maps) {
    const char *names[] = {"open_room", "four_rooms", "long_corridor"};
    const int cells[] = {81, 169, 96};
    for (int m = 0; m < 3; m++) {
        const char *kv[] = {"map", names[m], NULL};
        env *e = make_env("gridworld", kv);
        ck_assert_int_eq(env_obs_size(e), cells[m]);
        env_free(e);
    }
    /* open_room: 6 E then 6 S reach the goal on the 12th step */
    env *e = make_env("gridworld", NULL);            /* default map: open_room */
    float o[81];
    env_reset(e, 1, o);
    ck_assert_int_eq(argmax1(o, 81), 10);
    for (int t = 0; t < 12; t++) {
        stepres r = step(e, t < 6 ? E_ : S_, o);
        ck_assert_int_eq(r.term, t == 11);
        ck_assert_int_eq(r.succ, t == 11);
    }
    ck_assert_int_eq(argmax1(o, 81), 7 * 9 + 7);
    char buf[512];
    env_render(e, buf, sizeof buf);
    ck_assert_msg(strstr(buf, "#......@#") != NULL, "%s", buf);
    env_free(e);
    /* a map file by path, relative to the working directory */
    char path[] = "/tmp/check_envs_mapXXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    const char *txt = "; a comment\n#####\n#S.G#\n#####\n\n";
    ck_assert(write(fd, txt, strlen(txt)) == (ssize_t)strlen(txt));
    close(fd);
    const char *kv[] = {"map", path, NULL};
    e = make_env("gridworld", kv);
    ck_assert_int_eq(env_obs_size(e), 15);
    env_free(e);
    unlink(path);
    /* a bare name is looked up as NAME.txt in $RQL_MAPS first */
    char dir[] = "/tmp/check_envs_mapsXXXXXX";
    ck_assert(mkdtemp(dir) != NULL);
    char file[64];
    snprintf(file, sizeof file, "%s/tiny_room.txt", dir);
    FILE *f = fopen(file, "w");
    ck_assert(f != NULL);
    fputs("####\n#SG#\n####\n", f);
    fclose(f);
    setenv("RQL_MAPS", dir, 1);
    const char *kv3[] = {"map", "tiny_room", NULL};
    e = make_env("gridworld", kv3);
    ck_assert_int_eq(env_obs_size(e), 12);
    env_free(e);
    unlink(file);
    rmdir(dir);
}
END_TEST

static void expect_map_error(const char *text, const char *want_fmt) {
    char path[] = "/tmp/check_envs_badXXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    char want[256];
    snprintf(want, sizeof want, want_fmt, path);
    env_spec *s = env_spec_alloc("gridworld");
    ck_assert_int_eq(env_spec_set(s, "map", path), ENV_EPARSE);
    ck_assert_msg(strstr(rql_error(), want) != NULL, "expected '%s' in '%s'", want, rql_error());
    ck_assert_str_eq(env_spec_get(s, "map"), "open_room");   /* refused: unchanged */
    env_spec_free(s);
    unlink(path);
}

START_TEST(gridworld_map_errors) {
    expect_map_error("#####\n#S.G#\n#.x.#\n#####\n", "%s:3:3: unknown map character 'x'");
    expect_map_error("; c\n#####\n#S.G#\n#..#\n#####\n", "%s:4:5: row has 4 columns, expected 5");
    expect_map_error("#####\n#S.G#\n#..S#\n#####\n", "%s:3:4: second start 'S' (the first is at line 2, column 2)");
    expect_map_error("#####\n#S..#\n#####\n", "%s: no goal 'G' in the map");
    expect_map_error("#####\n#..G#\n#####\n", "%s: no start");
    expect_map_error("#####\n\n#S.G#\n", "%s:2:1: empty row inside the map");
    expect_map_error("; only comments\n", "%s: the map has no rows");
    env_spec *s = env_spec_alloc("gridworld");
    ck_assert_int_eq(env_spec_set(s, "map", "#####|#S.G#|##?##"), ENV_EPARSE);
    ck_assert_msg(strstr(rql_error(), "inline map:3:3: unknown map character '?'") != NULL, "%s", rql_error());
    ck_assert_int_eq(env_spec_set(s, "map", "no_such_map"), ENV_EIO);
    ck_assert_msg(strstr(rql_error(), "gridworld: map = 'no_such_map': no such file") != NULL, "%s", rql_error());
    ck_assert_int_eq(env_spec_set(s, "map", "/nonexistent/x.txt"), ENV_EIO);
    ck_assert_msg(strstr(rql_error(), "gridworld: map = '/nonexistent/x.txt': cannot open it") != NULL, "%s", rql_error());
    ck_assert_int_eq(env_spec_set(s, "view", "side"), ENV_EINVAL);
    ck_assert_msg(strstr(rql_error(), "gridworld: view = 'side' must be full or ego") != NULL, "%s", rql_error());
    ck_assert_int_eq(env_spec_set(s, "view_size", "4"), ENV_EINVAL);
    ck_assert_msg(strstr(rql_error(), "gridworld: view_size = 4 must be odd") != NULL, "%s", rql_error());
    ck_assert_int_eq(env_spec_set(s, "view_size", "17"), ENV_EINVAL);
    ck_assert_msg(strstr(rql_error(), "gridworld: view_size = 17 out of range [3, 15]") != NULL, "%s", rql_error());
    env_spec_free(s);
    s = env_spec_alloc("memory_room");
    ck_assert_int_eq(env_spec_set(s, "length", "0"), ENV_EINVAL);
    ck_assert_msg(strstr(rql_error(), "memory_room: length = 0 out of range [1, 58]") != NULL, "%s", rql_error());
    env_spec_free(s);
}
END_TEST

/* ---- memory_room ------------------------------------------------------------- */
START_TEST(memory_room_by_hand) {
    const char *kv[] = {"length", "2", NULL};
    env *e = make_env("memory_room", kv);
    ck_assert_int_eq(env_obs_size(e), 67);
    ck_assert_int_eq(env_num_actions(e), 3);
    float o[67];
    int seen[2] = {0, 0};
    for (uint64_t seed = 1; seed <= 12; seed++)
        for (int pick_right = 0; pick_right < 2; pick_right++) {
            env_reset(e, seed, o);
            /* facing west at the cue: it is two ahead (far row, middle column) */
            ck_assert(o[63 + 3] == 1);
            int cue = view(o, 3, 0, 1, 5) == 1 ? 5 : 6;
            ck_assert(view(o, 3, 0, 1, cue) == 1 && view(o, 3, 0, 1, 11 - cue) == 0);
            seen[cue - 5] = 1;
            step(e, 1, o);
            step(e, 1, o);                               /* facing east: the cue is out of view */
            for (int k = 0; k < 63; k++) ck_assert(k % 7 < 5 || o[k] == 0);
            for (int t = 0; t < 3; t++) ck_assert(!step(e, 2, o).term);   /* to the split */
            /* the split objects: north on the left of the own row, south on the right */
            int north = view(o, 3, 2, 0, 5) == 1 ? 5 : 6;
            ck_assert(view(o, 3, 2, 0, north) == 1 && view(o, 3, 2, 2, 11 - north) == 1);
            int go_north = (north == cue) == pick_right;
            step(e, go_north ? 0 : 1, o);
            stepres r = step(e, 2, o);
            ck_assert(r.term && !r.trunc);
            ck_assert_int_eq(r.succ, pick_right);
            ck_assert_float_eq(r.r, pick_right ? 1.0f : 0.0f);
        }
    ck_assert_msg(seen[0] && seen[1], "12 seeds showed only one kind of cue");
    char buf[512];
    env_reset(e, 3, o);
    env_render(e, buf, sizeof buf);
    ck_assert_msg(strstr(buf, "<") != NULL && strstr(buf, "cue ") != NULL, "%s", buf);
    int idx[32];
    ck_assert_int_eq(env_signal_bits(e, idx, 32), 18);
    ck_assert_int_eq(idx[0], 5);
    ck_assert_int_eq(idx[1], 6);
    /* default time limit 5 H W = 5 * 5 * 8 */
    env_reset(e, 3, o);
    for (int t = 1; t <= 200; t++) ck_assert_int_eq(step(e, 0, o).trunc, t == 200);
    env_free(e);
}
END_TEST

START_TEST(vec_equals_singles_grid) {
    const char *kv[] = {"map", "#######|#SKD.G#|#..L..#|#######", "view", "ego", "max_steps", "20", NULL};
    vec_vs_singles("gridworld", kv, 6, 300);
    const char *kv2[] = {"length", "1", "max_steps", "15", NULL};
    vec_vs_singles("memory_room", kv2, 6, 300);
    const char *kv3[] = {"map", "#####|#S.G#|#####", NULL};
    threads_agree("gridworld", kv3, 600, 30);
    threads_agree("memory_room", kv2, 600, 30);
}
END_TEST

static void expect_set_error(const char *world, const char *key, const char *value, const char *want) {
    env_spec *s = env_spec_alloc(world);
    ck_assert(s != NULL);
    ck_assert_int_eq(env_spec_set(s, key, value), ENV_EINVAL);
    ck_assert_msg(strstr(rql_error(), want) != NULL, "expected '%s' in '%s'", want, rql_error());
    env_spec_free(s);
}

START_TEST(parameter_errors) {
    ck_assert_ptr_null(env_spec_alloc("tmaz"));
    ck_assert_msg(strstr(rql_error(), "unknown world 'tmaz' (worlds: tmaze, ") != NULL, "%s", rql_error());
    ck_assert_ptr_null(env_spec_alloc("flicker"));
    ck_assert_msg(strstr(rql_error(), "'flicker' is a wrapper, not a world") != NULL, "%s", rql_error());
    expect_set_error("tmaze", "lenght", "6", "unknown parameter 'lenght' for world 'tmaze'");
    expect_set_error("tmaze", "length", "0", "tmaze: length = 0 out of range [1, 1000]");
    expect_set_error("tmaze", "length", "1001", "tmaze: length = 1001 out of range [1, 1000]");
    expect_set_error("tmaze", "length", "six", "tmaze: length = 'six' is not an integer");
    expect_set_error("tmaze", "length", "6.5", "tmaze: length = '6.5' is not an integer");
    expect_set_error("tmaze", "corridor_noise", "1.5", "tmaze: corridor_noise = 1.5 out of range [0, 1]");
    expect_set_error("tmaze", "reward_goal", "nan", "tmaze: reward_goal = 'nan' is not a finite number");
    expect_set_error("tmaze", "flicker", "-0.1", "tmaze: flicker = -0.1 out of range [0, 1]");
    expect_set_error("sum", "modulo", "1", "sum: modulo = 1 out of range [2, 1000]");
    /* a refused value leaves the previous one */
    env_spec *s = env_spec_alloc("tmaze");
    ck_assert_int_eq(env_spec_set(s, "length", "6"), 0);
    ck_assert_int_eq(env_spec_set(s, "length", "0"), ENV_EINVAL);
    ck_assert_str_eq(env_spec_get(s, "length"), "6");
    ck_assert_str_eq(env_spec_get(s, "flicker"), "0");
    ck_assert_ptr_null(env_spec_get(s, "nope"));
    env_spec *c = env_spec_clone(s);
    env_spec_set(s, "length", "8");
    ck_assert_str_eq(env_spec_get(c, "length"), "6");
    ck_assert_str_eq(env_spec_world(c), "tmaze");
    env_spec_free(c);
    env *e = env_make(s);
    float o[3], r;
    uint8_t a, b, d;
    ck_assert_int_eq(env_step(e, 4, o, &r, &a, &b, &d), ENV_EINVAL);
    ck_assert_msg(strstr(rql_error(), "tmaze: action 4 out of range [0, 3]") != NULL, "%s", rql_error());
    ck_assert_int_eq(env_step(e, -1, o, &r, &a, &b, &d), ENV_EINVAL);
    env_free(e);
    ck_assert_ptr_null(env_vec_alloc(s, 0, 1));
    ck_assert_msg(strstr(rql_error(), "env_vec_alloc: n = 0 out of range") != NULL, "%s", rql_error());
    env_spec_free(s);
    env_spec_free(NULL);
    env_free(NULL);
    env_vec_free(NULL);
}
END_TEST

START_TEST(registry) {
    ck_assert_int_ge(env_count(), 4);
    int wrappers = 0;
    for (int i = 0; i < env_count(); i++) {
        const env_info *x = env_info_at(i);
        ck_assert(x && x->name && x->summary && x->doc && x->nparams >= 1);
        ck_assert_ptr_eq(env_info_find(x->name), x);
        wrappers += x->is_wrapper;
        /* every default is valid */
        if (!x->is_wrapper) {
            env_spec *s = env_spec_alloc(x->name);
            for (int k = 0; k < x->nparams; k++)
                ck_assert_msg(env_spec_set(s, x->params[k].name, x->params[k].def) == 0, "%s", rql_error());
            env_spec_free(s);
        }
    }
    ck_assert_int_eq(wrappers, 3);   /* flicker, obs_noise, prev_action */
    ck_assert_ptr_null(env_info_at(-1));
    ck_assert_ptr_null(env_info_find("nope"));
    ck_assert(env_seed(1, 0) != env_seed(1, 1) && env_seed(1, 0) != env_seed(2, 0));
    ck_assert(env_splitmix64(0) == 0xe220a8397b1dcdafULL);   /* Vigna's reference output for state 0 */
}
END_TEST


/* ---- memory_chain (bsuite) --------------------------------------------------------- */
/* bsuite/environments/memory_chain.py by hand: _get_observation at t is
 * [1 - t/L, query if t == L-1, 2 context - 1 if t == 0]; _step returns the
 * observation of t, then t += 1; rewards 0 while t - 1 < L, then +-1. */
static float mc_time(int t, int L) { return (float)(1.0 - (double)t / L); }   /* numpy: float64, stored as float32 */

/* Plays one episode of memory_chain(L, n) from seed: answers right or
 * wrong; checks every observation, reward and flag against the rules. */
static void mc_episode(int L, int n, uint64_t seed, int right) {
    char Ls[16], ns[16];
    snprintf(Ls, sizeof Ls, "%d", L);
    snprintf(ns, sizeof ns, "%d", n);
    const char *kv[] = {"memory_length", Ls, "num_bits", ns, NULL};
    env *e = make_env("memory_chain", kv);
    ck_assert_int_eq(env_obs_size(e), n + 2);
    ck_assert_int_eq(env_num_actions(e), 2);
    float o[64], want[64];
    env_reset(e, seed, o);
    int ctx[64];
    /* reset: t = 0; the context as +-1; the query only if L == 1 */
    ck_assert(o[0] == 1.0f);
    for (int k = 0; k < n; k++) {
        ck_assert_msg(o[2 + k] == 1.0f || o[2 + k] == -1.0f, "context bit %d = %g", k, o[2 + k]);
        ctx[k] = o[2 + k] > 0;
    }
    int query = -1;
    if (L == 1) query = (int)o[1];
    else ck_assert(o[1] == 0.0f);
    float first[64];
    memcpy(first, o, sizeof(float) * (n + 2));
    for (int k_ = 1; k_ <= L + 1; k_++) {
        /* the observation the agent holds before action k_ is o(k_ - 2)
         * (o(0) for the first two): the query is in it before the last action */
        int a = 0;
        if (k_ == L + 1) {
            ck_assert_int_ge(query, 0);
            ck_assert_int_lt(query, n);
            a = right ? ctx[query] : 1 - ctx[query];
        }
        stepres r = step(e, a, o);
        int t = k_ - 1;                       /* the t whose observation this step returns */
        want[0] = mc_time(t, L);
        want[1] = t == L - 1 ? (float)query : 0.0f;
        for (int k = 0; k < n; k++) want[2 + k] = t == 0 ? (float)(2 * ctx[k] - 1) : 0.0f;
        if (t == L - 1 && L > 1) {
            query = (int)o[1];                  /* first seen here: check it is an index, then the rest */
            ck_assert_int_ge(query, 0);
            ck_assert_int_lt(query, n);
            want[1] = (float)query;
        }
        obs_eq(o, want, n + 2);
        if (t == 0) obs_eq(o, first, n + 2);    /* the off-by-one: the reset observation again */
        if (k_ <= L) {
            ck_assert_msg(r.r == 0 && !r.term && !r.trunc && !r.succ, "step %d of L = %d", k_, L);
        } else {
            ck_assert(r.term && !r.trunc);
            ck_assert_int_eq(r.succ, right);
            ck_assert_float_eq(r.r, right ? 1.0f : -1.0f);
        }
    }
    env_free(e);
}

START_TEST(memory_chain_by_hand) {
    /* L = 1: the context and the query (0) share the first observation,
     * [1, 0, c]; two actions; after the first, the same [1, 0, c] again;
     * after the second, [0, 0, 0] and +-1. */
    for (int right = 0; right < 2; right++) mc_episode(1, 1, 7 + right, right);
    {
        const char *kv[] = {"memory_length", "1", "num_bits", "1", NULL};
        env *e = make_env("memory_chain", kv);
        float o[3], o1[3];
        env_reset(e, 3, o);
        float c = o[2];
        const float w0[3] = {1, 0, c}, wend[3] = {0, 0, 0};
        obs_eq(o, w0, 3);
        stepres r = step(e, 0, o1);
        obs_eq(o1, w0, 3);
        ck_assert(r.r == 0 && !r.term);
        r = step(e, c > 0, o1);                 /* action = context[0] */
        obs_eq(o1, wend, 3);
        ck_assert(r.term && r.succ && r.r == 1.0f);
        env_free(e);
    }
    /* L = 2, n = 3: [1, 0, c0 c1 c2] at reset and after action 1; [0.5, q, 0 0 0]
     * after action 2; [0, 0, 0 0 0] and +-1 after action 3 */
    for (int right = 0; right < 2; right++)
        for (uint64_t seed = 1; seed < 6; seed++) mc_episode(2, 3, seed * 11 + right, right);
    {
        const char *kv[] = {"memory_length", "2", "num_bits", "3", NULL};
        env *e = make_env("memory_chain", kv);
        float o[5];
        env_reset(e, 99, o);
        step(e, 1, o);
        stepres r = step(e, 1, o);
        ck_assert(o[0] == 0.5f && o[2] == 0 && o[3] == 0 && o[4] == 0 && r.r == 0);
        ck_assert(o[1] == 0 || o[1] == 1 || o[1] == 2);
        env_free(e);
    }
    /* L = 5, n = 1: times 1, 1, 0.8, 0.6, 0.4, 0.2 (query 0 there), then 0 */
    for (int right = 0; right < 2; right++) mc_episode(5, 1, 40 + right, right);
    ck_assert(mc_time(1, 5) == 0.8f && mc_time(4, 5) == 0.2f && mc_time(5, 5) == 0.0f);
    /* L = 5, n = 3 and a long chain */
    for (int right = 0; right < 2; right++) mc_episode(5, 3, 50 + right, right);
    mc_episode(30, 17, 5, 1);
}
END_TEST

/* Context bits are fair coins and the query is uniform (binomial(1, 0.5, n),
 * randint(n)); episodes follow each other from one stream (env_restart). */
START_TEST(memory_chain_draws) {
    const char *kv[] = {"memory_length", "1", "num_bits", "3", NULL};
    env *e = make_env("memory_chain", kv);
    float o[5];
    int ones[3] = {0}, q[3] = {0};
    const int N = 6000;
    env_reset(e, 1, o);
    for (int i = 0; i < N; i++) {
        if (i) env_restart(e, o);
        for (int k = 0; k < 3; k++) ones[k] += o[2 + k] > 0;
        q[(int)o[1]]++;
    }
    for (int k = 0; k < 3; k++) {
        ck_assert_msg(fabs(ones[k] / (double)N - 0.5) < 0.03, "bit %d: %d of %d", k, ones[k], N);
        ck_assert_msg(fabs(q[k] / (double)N - 1.0 / 3) < 0.03, "query %d: %d of %d", k, q[k], N);
    }
    char buf[512];
    ck_assert_int_eq(env_render(e, buf, sizeof buf), 0);     /* L = 1: the query at once, the answer next step */
    ck_assert_msg(strstr(buf, "query: bit") != NULL && strstr(buf, "answer now") == NULL, "%s", buf);
    stepres r = step(e, 0, o);
    ck_assert(!r.term);
    ck_assert_int_eq(env_render(e, buf, sizeof buf), 0);
    ck_assert_msg(strstr(buf, "query: bit") != NULL && strstr(buf, "answer now") != NULL, "%s", buf);
    int idx[8];
    ck_assert_int_eq(env_signal_bits(e, idx, 8), 3);
    ck_assert_int_eq(idx[0], 2);
    env_free(e);
    const char *kv2[] = {"memory_length", "4", "num_bits", "5", NULL};
    vec_vs_singles("memory_chain", kv2, 9, 200);
    threads_agree("memory_chain", kv2, 500, 30);
    expect_set_error("memory_chain", "memory_length", "0", "memory_chain: memory_length = 0 out of range [1, 100000]");
    expect_set_error("memory_chain", "num_bits", "0", "memory_chain: num_bits = 0 out of range [1, 4096]");
}
END_TEST

static Suite *envs_suite(void) {
    Suite *s = suite_create("envs");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tmaze_episode_by_hand);
    tcase_add_test(tc, tmaze_junction_choices);
    tcase_add_test(tc, tmaze_custom_rewards_and_time_limit);
    tcase_add_test(tc, tmaze_corridor_noise);
    tcase_add_test(tc, same_seed_same_trajectory);
    tcase_add_test(tc, vec_equals_singles_tmaze);
    tcase_add_test(tc, vec_equals_singles_wrapped);
    tcase_add_test(tc, threads_bit_identical);
    tcase_add_test(tc, vec_bookkeeping);
    tcase_add_test(tc, state_round_trip);
    tcase_add_test(tc, wrappers);
    tcase_add_test(tc, sum_episode_by_hand);
    tcase_add_test(tc, gridworld_full_by_hand);
    tcase_add_test(tc, gridworld_keys_doors_lava);
    tcase_add_test(tc, gridworld_ego_by_hand);
    tcase_add_test(tc, gridworld_shipped_maps);
    tcase_add_test(tc, gridworld_map_errors);
    tcase_add_test(tc, memory_room_by_hand);
    tcase_add_test(tc, vec_equals_singles_grid);
    tcase_add_test(tc, parameter_errors);
    tcase_add_test(tc, registry);
    tcase_add_test(tc, memory_chain_by_hand);
    tcase_add_test(tc, memory_chain_draws);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(envs_suite());
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf != 0;
}
