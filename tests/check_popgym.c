/* check_popgym — POPGym's worlds (envs/popgym.c, envs/cartpole.c) and the
 * prev_action wrapper: every rule played by hand against an oracle that
 * knows only what the observations showed (card games), or against the
 * CartPole equations worked out on paper; the Easy/Medium/Hard presets;
 * every episode's return in [-1, 1] over many random episodes; the chance
 * figure of docs/envs.md (mean return of a uniform random policy); vectors
 * against single instances and 1 thread against 2, bit for bit. */
#include <check.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include "envs/env.h"
#include "experiments/suite.h"
#include "tests/vec_trace.h"

static const char *const LEVELS[3] = {"easy", "medium", "hard"};
static const char *const WORLDS[] = {"repeat_first", "repeat_previous", "autoencode", "count_recall",
                                     "higher_lower", "multiarmed_bandit", "concentration", "minesweeper",
                                     "battleship", "stateless_cartpole", "noisy_stateless_cartpole"};
#define N_WORLDS ((int)(sizeof WORLDS / sizeof WORLDS[0]))

static env_spec *spec(const char *world, const char *level, int prev) {
    env_spec *s = env_spec_alloc(world);
    ck_assert_msg(s != NULL, "%s", rql_error());
    ck_assert_msg(env_spec_set(s, "difficulty", level) == 0, "%s", rql_error());
    if (prev) ck_assert_int_eq(env_spec_set(s, "prev_action", "true"), 0);
    return s;
}

static env *mk(const char *world, const char *level) {
    env_spec *s = spec(world, level, 0);
    env *e = env_make(s);
    ck_assert_msg(e != NULL, "%s", rql_error());
    env_spec_free(s);
    return e;
}

typedef struct { float r; uint8_t term, trunc, succ; } stepres;

static stepres step(env *e, int a, float *obs) {
    stepres s;
    ck_assert_int_eq(env_step(e, a, obs, &s.r, &s.term, &s.trunc, &s.succ), 0);
    return s;
}

/* Index of the single 1 in a one-hot block of n floats (asserts one-hot). */
static int hot(const float *o, int n) {
    int k = -1;
    for (int i = 0; i < n; i++) {
        ck_assert_msg(o[i] == 0 || o[i] == 1, "obs[%d] = %g is not 0/1", i, o[i]);
        if (o[i] == 1) { ck_assert_msg(k < 0, "two hot entries: %d and %d", k, i); k = i; }
    }
    ck_assert_msg(k >= 0, "no hot entry");
    return k;
}

/* ---- repeat_first ------------------------------------------------------------- */
START_TEST(repeat_first_by_hand) {
    static const int decks[3] = {1, 8, 16};
    for (int lv = 0; lv < 3; lv++) {
        env *e = mk("repeat_first", LEVELS[lv]);
        int n = 52 * decks[lv];
        ck_assert_int_eq(env_obs_size(e), 4);
        ck_assert_int_eq(env_num_actions(e), 4);
        ck_assert_str_eq(env_action_name(e, 0), "spades");
        ck_assert_str_eq(env_action_name(e, 3), "hearts");
        float o[4], scale = (float)(1.0 / (n - 1));
        /* Episode 1: always the first suit. Episode 2: wrong at steps 1 and n-1. */
        for (int ep = 0; ep < 2; ep++) {
            env_reset(e, 10 + (uint64_t)ep, o);
            int first = hot(o, 4), seen[4] = {0};
            seen[first]++;
            double ret = 0;
            for (int t = 1; t <= n - 1; t++) {
                int wrong = ep == 1 && (t == 1 || t == n - 1);
                stepres r = step(e, wrong ? (first + 1) % 4 : first, o);
                ck_assert_float_eq(r.r, wrong ? -scale : scale);
                ret += r.r;
                ck_assert(!r.term);
                ck_assert_int_eq(r.trunc, t == n - 1);
                ck_assert_int_eq(r.succ, t == n - 1 && ep == 0);
                seen[hot(o, 4)]++;
            }
            for (int k = 0; k < 4; k++) ck_assert_int_eq(seen[k], 13 * decks[lv]);   /* the whole deck, once */
            ck_assert_double_eq_tol(ret, ep ? (double)(n - 5) / (n - 1) : 1.0, 1e-5);
        }
        env_free(e);
    }
}
END_TEST

/* ---- repeat_previous ----------------------------------------------------------- */
START_TEST(repeat_previous_by_hand) {
    static const int decks[3] = {1, 2, 3}, ks[3] = {4, 32, 64};
    for (int lv = 0; lv < 3; lv++) {
        env *e = mk("repeat_previous", LEVELS[lv]);
        int n = 52 * decks[lv], k = ks[lv];
        ck_assert_int_eq(env_obs_size(e), 4);
        ck_assert_int_eq(env_num_actions(e), 4);
        float o[4], scale = (float)(1.0 / (n - k));
        int hist[156];
        for (int ep = 0; ep < 2; ep++) {
            env_reset(e, 20 + (uint64_t)ep, o);
            hist[0] = hot(o, 4);
            double ret = 0;
            int wrongs = 0;
            for (int t = 1; t <= n - 1; t++) {       /* t cards dealt before this step */
                int want = t >= k ? hist[t - k] : -1;
                int wrong = ep == 1 && t % 7 == 0;
                int a = want < 0 ? (t * 3) % 4 : wrong ? (want + 2) % 4 : want;
                stepres r = step(e, a, o);
                if (want < 0) ck_assert_float_eq(r.r, 0.0f);
                else ck_assert_float_eq(r.r, wrong ? -scale : scale);
                wrongs += want >= 0 && wrong;
                ret += r.r;
                ck_assert(!r.term);
                ck_assert_int_eq(r.trunc, t == n - 1);
                ck_assert_int_eq(r.succ, t == n - 1 && wrongs == 0);
                hist[t] = hot(o, 4);
            }
            int seen[4] = {0};
            for (int t = 0; t < n; t++) seen[hist[t]]++;
            for (int q = 0; q < 4; q++) ck_assert_int_eq(seen[q], 13 * decks[lv]);
            ck_assert_double_eq_tol(ret, (double)(n - k - 2 * wrongs) / (n - k), 1e-5);
            ck_assert(ep == 0 || wrongs > 0);
        }
        env_free(e);
    }
}
END_TEST

/* ---- autoencode ----------------------------------------------------------------- */
START_TEST(autoencode_by_hand) {
    static const int decks[3] = {1, 2, 3};
    for (int lv = 0; lv < 3; lv++) {
        env *e = mk("autoencode", LEVELS[lv]);
        int n = 52 * decks[lv];
        ck_assert_int_eq(env_obs_size(e), 6);
        ck_assert_int_eq(env_num_actions(e), 4);
        float o[6], scale = (float)(1.0 / n);
        int hist[156];
        for (int ep = 0; ep < 2; ep++) {
            env_reset(e, 30 + (uint64_t)ep, o);
            ck_assert_int_eq(hot(o, 2), 1);                /* watch */
            hist[0] = hot(o + 2, 4);
            for (int t = 1; t <= n - 1; t++) {             /* watch: actions ignored */
                stepres r = step(e, t % 4, o);
                ck_assert(r.r == 0 && !r.term && !r.trunc);
                ck_assert_int_eq(hot(o, 2), t == n - 1 ? 0 : 1);   /* the last card comes with "play" */
                hist[t] = hot(o + 2, 4);
            }
            double ret = 0;
            for (int j = 0; j < n; j++) {                  /* play: recite backwards */
                int want = hist[n - 1 - j], wrong = ep == 1 && j == 5;
                stepres r = step(e, wrong ? (want + 1) % 4 : want, o);
                ck_assert_float_eq(r.r, wrong ? -scale : scale);
                ret += r.r;
                ck_assert_int_eq(r.term, j == n - 1);
                ck_assert(!r.trunc);
                ck_assert_int_eq(r.succ, j == n - 1 && ep == 0);
                const float play0[6] = {1, 0, 1, 0, 0, 0};   /* (play, suit 0) */
                ck_assert(!memcmp(o, play0, sizeof play0));
            }
            ck_assert_double_eq_tol(ret, ep ? (double)(n - 2) / n : 1.0, 1e-5);
            int seen[4] = {0};
            for (int t = 0; t < n; t++) seen[hist[t]]++;
            for (int q = 0; q < 4; q++) ck_assert_int_eq(seen[q], 13 * decks[lv]);
        }
        env_free(e);
    }
}
END_TEST

/* ---- count_recall ----------------------------------------------------------------- */
START_TEST(count_recall_by_hand) {
    static const int decks[3] = {1, 2, 4}, distinct[3] = {2, 4, 13};
    for (int lv = 0; lv < 3; lv++) {
        env *e = mk("count_recall", LEVELS[lv]);
        int n = 52 * decks[lv], m = distinct[lv], maxc = n / m;
        ck_assert_int_eq(env_obs_size(e), 2 * m);
        ck_assert_int_eq(env_num_actions(e), maxc);
        ck_assert_int_eq(maxc, lv == 2 ? 16 : 26);
        float o[26], scale = (float)(1.0 / (n - 1));
        for (int ep = 0; ep < 2; ep++) {
            int counts[13] = {0}, queries[13] = {0};
            env_reset(e, 40 + (uint64_t)ep, o);
            int v = hot(o, m), q = hot(o + m, m);
            counts[v]++; queries[q]++;
            double ret = 0;
            int wrongs = 0;
            for (int t = 1; t <= n - 1; t++) {
                int want = counts[q];                     /* the shown value included */
                int wrong = ep == 1 && t % 5 == 0 && want < maxc;
                int a = wrong ? (want + 1) % maxc : want < maxc ? want : 0;
                stepres r = step(e, a, o);
                int right = a == want;
                ck_assert_float_eq(r.r, right ? scale : -scale);
                wrongs += !right;
                ret += r.r;
                ck_assert_int_eq(r.term, t == n - 1);
                ck_assert(!r.trunc);
                ck_assert_int_eq(r.succ, t == n - 1 && wrongs == 0);
                v = hot(o, m); q = hot(o + m, m);
                counts[v]++; queries[q]++;
            }
            for (int k = 0; k < m; k++) {                 /* both decks dealt whole */
                ck_assert_int_eq(counts[k], maxc);
                ck_assert_int_eq(queries[k], maxc);
            }
            ck_assert_double_eq_tol(ret, (double)(n - 1 - 2 * wrongs) / (n - 1), 1e-5);
        }
        env_free(e);
    }
}
END_TEST

/* ---- higher_lower ----------------------------------------------------------------- */
START_TEST(higher_lower_by_hand) {
    static const int decks[3] = {1, 2, 3};
    for (int lv = 0; lv < 3; lv++) {
        env *e = mk("higher_lower", LEVELS[lv]);
        int n = 52 * decks[lv];
        ck_assert_int_eq(env_obs_size(e), 13);
        ck_assert_int_eq(env_num_actions(e), 2);
        ck_assert_str_eq(env_action_name(e, 0), "higher");
        ck_assert_str_eq(env_action_name(e, 1), "lower");
        float o[13], scale = (float)(1.0 / n);
        env_reset(e, 50, o);
        int cur = hot(o, 13), seen[13] = {0}, pushes = 0, rights = 0, wrongs = 0;
        seen[cur]++;
        double ret = 0;
        for (int t = 1; t <= n - 1; t++) {
            int a = t % 3 == 0;                           /* 0 higher, 1 lower, mixed */
            stepres r = step(e, a, o);
            int next = hot(o, 13);
            float want = next == cur ? 0.0f : ((next > cur) == (a == 0)) ? scale : -scale;
            ck_assert_float_eq(r.r, want);
            pushes += next == cur; rights += want > 0; wrongs += want < 0;
            ret += r.r;
            ck_assert_int_eq(r.term, t == n - 1);
            ck_assert(!r.trunc);
            ck_assert_int_eq(r.succ, t == n - 1 && wrongs == 0);
            seen[next]++;
            cur = next;
        }
        for (int k = 0; k < 13; k++) ck_assert_int_eq(seen[k], 4 * decks[lv]);   /* ace low .. king */
        ck_assert(pushes > 0 && rights > 0 && wrongs > 0);
        ck_assert_double_eq_tol(ret, (double)(rights - wrongs) / n, 1e-5);
        env_free(e);
    }
}
END_TEST

/* ---- multiarmed_bandit ----------------------------------------------------------- */
START_TEST(multiarmed_bandit_by_hand) {
    static const int arms[3] = {10, 20, 30}, lens[3] = {200, 400, 600};
    for (int lv = 0; lv < 3; lv++) {
        env *e = mk("multiarmed_bandit", LEVELS[lv]);
        int len = lens[lv];
        ck_assert_int_eq(env_obs_size(e), 2);
        ck_assert_int_eq(env_num_actions(e), arms[lv]);
        ck_assert_str_eq(env_action_name(e, 1), "arm1");
        float o[2], scale = (float)(1.0 / len);
        /* One arm pulled all episode: its payout rate estimates its p ~ U[0, 1):
         * over episodes, mean 1/2 and variance 1/12 + E[p(1-p)]/L = 1/12 + 1/(6L). */
        int eps = 200;
        double s1 = 0, s2 = 0;
        for (int ep = 0; ep < eps; ep++) {
            env_reset(e, 1000 + (uint64_t)ep, o);
            ck_assert(o[0] == 1 && o[1] == 0);
            int pays = 0;
            double ret = 0;
            int bad = 0;                                  /* one assertion per episode: cheap under ASan */
            for (int t = 1; t <= len; t++) {
                stepres r = step(e, ep % arms[lv], o);
                int paid = o[1] == 1;
                bad += o[0] + o[1] != 1 || r.r != (paid ? scale : -scale) || r.term || r.succ || r.trunc != (t == len);
                pays += paid;
                ret += r.r;
            }
            ck_assert_msg(!bad, "%s episode %d: %d steps break the rules", LEVELS[lv], ep, bad);
            ck_assert_double_eq_tol(ret, (2.0 * pays - len) / len, 1e-5);
            double f = (double)pays / len;
            s1 += f; s2 += f * f;
        }
        double mean = s1 / eps, var = s2 / eps - mean * mean, want = 1.0 / 12 + 1.0 / (6.0 * len);
        ck_assert_msg(fabs(mean - 0.5) < 0.06, "%s: mean payout rate %g", LEVELS[lv], mean);   /* 3 SE */
        ck_assert_msg(fabs(var / want - 1) < 0.3, "%s: payout rate variance %g, want %g", LEVELS[lv], var, want);
        env_free(e);
    }
}
END_TEST

/* ---- cartpole ---------------------------------------------------------------------- */
/* An instance's saved state is a 16-byte header, then the world's state:
 * for the CartPoles (x, x_dot, theta, theta_dot) as doubles, then t. */
enum { HDR = 16 };

static void cp_set(env *e, double x, double xd, double th, double thd, int t) {
    unsigned char *b = malloc(env_state_bytes(e));
    env_save_state(e, b);
    double q[4] = {x, xd, th, thd};
    memcpy(b + HDR, q, sizeof q);
    memcpy(b + HDR + sizeof q, &t, sizeof t);
    ck_assert_int_eq(env_load_state(e, b), 0);
    free(b);
}

static void cp_get(const env *e, double q[4]) {
    unsigned char *b = malloc(env_state_bytes(e));
    env_save_state(e, b);
    memcpy(q, b + HDR, 4 * sizeof(double));
    free(b);
}

START_TEST(stateless_cartpole_by_hand) {
    env *e = mk("stateless_cartpole", "easy");
    ck_assert_int_eq(env_obs_size(e), 2);
    ck_assert_int_eq(env_num_actions(e), 2);
    ck_assert_str_eq(env_action_name(e, 0), "left");
    ck_assert_str_eq(env_action_name(e, 1), "right");
    float o[2];
    env_reset(e, 3, o);
    double q[4];
    cp_get(e, q);
    for (int k = 0; k < 4; k++) ck_assert(q[k] >= -0.05 && q[k] < 0.05);
    ck_assert(o[0] == (float)q[0] && o[1] == (float)q[2]);          /* x and theta only */
    /* From rest, push right. On paper: temp = F/M = 10/1.1; theta_acc =
     * -temp / (l (4/3 - m/M)) = -600/41; x_acc = temp - m l theta_acc / M =
     * 400/41. Euler: x_dot = 0.02 * 400/41 = 8/41, theta_dot = -12/41, while
     * x and theta move only on the next step: x = 0.16/41, theta = -0.24/41. */
    cp_set(e, 0, 0, 0, 0, 0);
    stepres r = step(e, 1, o);
    ck_assert_float_eq(r.r, 1.0f / 200);
    ck_assert(!r.term && !r.trunc && !r.succ);
    ck_assert(o[0] == 0 && o[1] == 0);
    cp_get(e, q);
    ck_assert_double_eq_tol(q[1], 8.0 / 41, 1e-12);
    ck_assert_double_eq_tol(q[3], -12.0 / 41, 1e-12);
    step(e, 1, o);
    ck_assert_float_eq_tol(o[0], 0.16 / 41, 1e-8);
    ck_assert_float_eq_tol(o[1], -0.24 / 41, 1e-8);
    /* Leaning at 0.2094 rad (12 degrees is 0.20944) turning at 1 rad/s: the
     * next step passes the limit: terminated, and gymnasium still pays 1 (1/L). */
    cp_set(e, 0, 0, 0.2094, 1, 5);
    r = step(e, 0, o);
    ck_assert(r.term && !r.trunc && !r.succ);
    ck_assert_float_eq(r.r, 1.0f / 200);
    ck_assert_float_eq_tol(o[1], 0.2294, 1e-6);
    cp_set(e, 2.39, 1, 0, 0, 0);                     /* the cart leaves the track */
    r = step(e, 1, o);
    ck_assert(r.term && !r.trunc);
    cp_set(e, -2.39, -1, 0, 0, 0);
    ck_assert(step(e, 0, o).term);
    /* At step L (here 199 already taken) the episode is truncated, with success. */
    cp_set(e, 0, 0, 0, 0, 199);
    r = step(e, 1, o);
    ck_assert(!r.term && r.trunc && r.succ);
    env_free(e);
}
END_TEST

/* Balancing from observations alone: the two velocities are finite
 * differences of consecutive observations, so one step of memory suffices. */
static int balance(const float *o, const float *prev, int first) {
    double th = o[1], thd = first ? 0 : (o[1] - prev[1]) / 0.02, x = o[0], xd = first ? 0 : (o[0] - prev[0]) / 0.02;
    return th + 0.3 * thd + 0.01 * x + 0.05 * xd > 0;
}

START_TEST(stateless_cartpole_presets) {
    static const int lens[3] = {200, 400, 600};
    for (int lv = 0; lv < 3; lv++) {
        env *e = mk("stateless_cartpole", LEVELS[lv]);
        float o[2], prev[2];
        for (int ep = 0; ep < 3; ep++) {
            env_reset(e, 60 + (uint64_t)ep, o);
            double ret = 0;
            for (int t = 1;; t++) {
                int a = balance(o, prev, t == 1);
                memcpy(prev, o, sizeof o);
                stepres r = step(e, a, o);
                ck_assert_float_eq(r.r, (float)(1.0 / lens[lv]));
                ret += r.r;
                ck_assert_msg(!r.term, "%s: the balancing controller fell at step %d", LEVELS[lv], t);
                if (r.trunc) { ck_assert_int_eq(t, lens[lv]); ck_assert(r.succ); break; }
            }
            ck_assert_double_eq_tol(ret, 1.0, 1e-4);
        }
        env_free(e);
    }
}
END_TEST

START_TEST(noisy_stateless_cartpole_by_hand) {
    static const double sig[3] = {0.1, 0.2, 0.3};
    for (int lv = 0; lv < 3; lv++) {
        env *e = mk("noisy_stateless_cartpole", LEVELS[lv]);
        ck_assert_int_eq(env_obs_size(e), 2);
        float o[2];
        double s1[2] = {0}, s2[2] = {0}, q[4];
        int m[2] = {0}, clipped = 0;
        for (int ep = 0; ep < 40; ep++) {
            env_reset(e, 70 + (uint64_t)ep, o);
            for (int t = 0; t < 20; t++) {
                cp_get(e, q);
                double d0 = o[0] - q[0], d1 = o[1] - q[2];
                s1[0] += d0; s2[0] += d0 * d0; m[0]++;              /* x: the clip at 4.8 is far */
                if (fabs(q[2]) + 4 * sig[lv] < 0.4188) { s1[1] += d1; s2[1] += d1 * d1; m[1]++; }
                stepres r = step(e, t % 2, o);
                ck_assert_float_eq(r.r, 1.0f / 200);
                if (r.term || r.trunc) break;
            }
        }
        ck_assert(m[0] > 300 && (lv > 0 || m[1] > 100));   /* theta only where no clip is near: easy */
        for (int k = 0; k < 2; k++) {
            if (m[k] < 100) continue;
            double sd = sqrt(s2[k] / m[k] - (s1[k] / m[k]) * (s1[k] / m[k]));
            ck_assert_msg(fabs(sd / sig[lv] - 1) < 0.12, "%s: noise sd %g, want %g", LEVELS[lv], sd, sig[lv]);
            ck_assert_msg(fabs(s1[k] / m[k]) < 4 * sig[lv] / sqrt(m[k]), "%s: noise mean %g", LEVELS[lv], s1[k] / m[k]);
        }
        /* clipped to the observation box: 4.8 and 24 degrees, as float32 */
        float hi0 = (float)(2.4 * 2), hi1 = (float)(12 * 2 * M_PI / 360 * 2);
        for (int k = 0; k < 200; k++) {
            cp_set(e, 4.8, 0, 0.4189, 0, 0);
            step(e, 1, o);
            ck_assert(o[0] <= hi0 && o[1] <= hi1);
            clipped += o[0] == hi0;
        }
        ck_assert_msg(clipped > 60 && clipped < 140, "%d of 200 clipped at 4.8", clipped);
        env_free(e);
    }
    /* same seed, same noise; the length is 200 at every level */
    env *e = mk("noisy_stateless_cartpole", "hard");
    float o[2], p[2];
    cp_set(e, 0, 0, 0, 0, 199);
    ck_assert(step(e, 1, o).trunc);
    env_reset(e, 5, o);
    env_reset(e, 5, p);
    ck_assert(!memcmp(o, p, sizeof o));
    env_free(e);
}
END_TEST

/* ---- concentration ----------------------------------------------------------------- */
/* The value shown at position p (F = face down), asserting a one-hot block. */
static int cc_shown(const float *o, int p, int f) { return hot(o + p * (f + 1), f + 1); }

START_TEST(concentration_by_hand) {
    static const int decks[3] = {1, 2, 1}, values[3] = {2, 2, 13}, lens[3] = {104, 208, 104};
    for (int lv = 0; lv < 3; lv++) {
        env *e = mk("concentration", LEVELS[lv]);
        int n = 52 * decks[lv], f = values[lv], len = lens[lv];
        ck_assert_int_eq(env_obs_size(e), n * (f + 1));
        ck_assert_int_eq(env_num_actions(e), n);
        float *o = malloc(sizeof(float) * (size_t)n * (f + 1));
        float win = (float)(1.0 / (n / 2)), fail = (float)(-1.0 / len);
        env_reset(e, 80, o);
        for (int p = 0; p < n; p++) ck_assert_int_eq(cc_shown(o, p, f), f);   /* all face down */
        /* the same card twice: shown, then no match */
        stepres r = step(e, 0, o);
        int v0 = cc_shown(o, 0, f);
        ck_assert(v0 < f && r.r == 0 && !r.term && !r.trunc);
        r = step(e, 0, o);
        ck_assert_int_eq(cc_shown(o, 0, f), v0);
        ck_assert_float_eq(r.r, 2 * fail);
        int t = 2;
        if (lv == 2) {                       /* hard: ranks, 4 of each */
            int seen[13] = {0};
            for (int p = 0; p < n; p += 2) {
                step(e, p, o);
                r = step(e, p + 1, o);
                t += 2;
                int a = cc_shown(o, p, f), b = cc_shown(o, p + 1, f);
                ck_assert(a < 13 && b < 13);
                seen[a]++; seen[b]++;
                ck_assert_float_eq(r.r, a == b ? win : 2 * fail);
            }
            for (int k = 0; k < 13; k++) ck_assert_int_eq(seen[k], 4);
            free(o);
            env_free(e);
            continue;
        }
        /* easy, medium: a player with perfect memory. Scan pairs (p, p+1),
         * then match what is left by the values seen. */
        int *val = malloc(sizeof(int) * n), *up = calloc((size_t)n, sizeof(int)), fails = 1, wins = 0;
        double ret = 2 * fail;
        for (int p = 0; p < n; p += 2) {
            r = step(e, p, o);
            ck_assert(r.r == 0);
            val[p] = cc_shown(o, p, f);
            r = step(e, p + 1, o);
            t += 2;
            val[p + 1] = cc_shown(o, p + 1, f);
            ck_assert_int_eq(cc_shown(o, p, f), val[p]);          /* both shown while the turn resolves */
            int match = val[p] == val[p + 1];
            ck_assert_float_eq(r.r, match ? win : 2 * fail);
            ret += r.r;
            if (match) { up[p] = up[p + 1] = 1; wins++; } else fails++;
            ck_assert(!r.term && !r.trunc);
        }
        /* a matched card turned again: -1/L, the turn ends */
        int u = -1;
        for (int p = 0; p < n && u < 0; p++) if (up[p]) u = p;
        ck_assert(u >= 0);
        r = step(e, u, o);
        ck_assert_float_eq(r.r, fail);
        ret += r.r;
        t++;
        int h = -1;                          /* a face-down card, then a face-up one: -2/L */
        for (int p = 0; p < n && h < 0; p++) if (!up[p]) h = p;
        step(e, h, o);
        r = step(e, u, o);
        ck_assert_float_eq(r.r, 2 * fail);
        ck_assert_int_eq(cc_shown(o, h, f), val[h]);
        ret += r.r;
        t += 2;
        r = step(e, h, o);                   /* turned back: h shows face down in the next step's */
        ck_assert(r.r == 0);                 /* view of another card */
        r = step(e, h, o);
        ret += r.r;                          /* (h, h): no match */
        t += 2;
        for (int p = 0; p < n; p++) if (!up[p] && p != h) ck_assert_int_eq(cc_shown(o, p, f), f);
        for (int p = 0; p < n; p++) {
            if (up[p]) continue;
            int q = p + 1;
            while (up[q] || val[q] != val[p]) q++;
            step(e, p, o);
            r = step(e, q, o);
            t += 2;
            ck_assert_float_eq(r.r, win);
            ret += r.r;
            up[p] = up[q] = 1;
            wins++;
            ck_assert_int_eq(r.trunc, t >= len);
            ck_assert_int_eq(r.term, wins == n / 2);
            if (r.term) ck_assert(r.succ);
        }
        ck_assert_int_eq(wins, n / 2);
        ck_assert(t <= len);
        ck_assert_double_eq_tol(ret, 1.0 + (double)(2 * fails + 1 + 2 + 2) * fail, 1e-5);
        free(val); free(up); free(o);
        env_free(e);
    }
    /* truncation after L steps */
    env *e = mk("concentration", "easy");
    float o[156];
    env_reset(e, 81, o);
    for (int t = 1; t <= 104; t++) ck_assert_int_eq(step(e, 0, o).trunc, t == 104);
    env_free(e);
}
END_TEST

/* ---- minesweeper, battleship: the hidden boards read from the saved state --------- */
enum { HDR_ = 16 };

static void board_of(const env *e, int8_t *grid, int cells, int skip) {
    unsigned char *b = malloc(env_state_bytes(e));
    env_save_state(e, b);
    memcpy(grid, b + HDR_ + 16 + skip, (size_t)cells);
    free(b);
}

START_TEST(minesweeper_by_hand) {
    static const int side[3] = {4, 6, 8}, mines[3] = {2, 6, 10};
    for (int lv = 0; lv < 3; lv++) {
        env *e = mk("minesweeper", LEVELS[lv]);
        int w = side[lv], cells = w * w, len = cells - mines[lv], no = mines[lv] + 1 < 10 ? mines[lv] + 1 : 10;
        ck_assert_int_eq(env_obs_size(e), no);
        ck_assert_int_eq(env_num_actions(e), cells);
        ck_assert_str_eq(env_action_name(e, w + 2), "r1c2");
        float o[10], win = (float)(1.0 / len), boom = (float)(-0.5 - 1.0 / len), bad = (float)(-0.5 / (len - 2));
        int8_t g[64];
        /* Episode 1: every clear cell once; the count shown is the mines in
         * the 3 x 3 block around it (counted here from the board). */
        env_reset(e, 90, o);
        ck_assert_int_eq(hot(o, no), 0);
        board_of(e, g, cells, 0);
        int nm = 0;
        for (int k = 0; k < cells; k++) { ck_assert(g[k] == 0 || g[k] == 1); nm += g[k]; }
        ck_assert_int_eq(nm, mines[lv]);
        int done = 0;
        double ret = 0;
        for (int k = 0; k < cells; k++) {
            if (g[k]) continue;
            stepres r = step(e, k, o);
            int near = 0;
            for (int di = -1; di <= 1; di++)
                for (int dj = -1; dj <= 1; dj++) {
                    int y = k / w + di, x = k % w + dj;
                    near += y >= 0 && y < w && x >= 0 && x < w && g[y * w + x];
                }
            ck_assert_int_eq(hot(o, no), near);
            ck_assert_float_eq(r.r, win);
            ret += r.r;
            done++;
            ck_assert_int_eq(r.term, done == len);
            ck_assert_int_eq(r.succ, done == len);
            ck_assert(!r.trunc);
        }
        ck_assert_double_eq_tol(ret, 1.0, 1e-5);
        /* Episode 2: a clear cell twice, then a mine (its count includes itself). */
        env_reset(e, 91, o);
        board_of(e, g, cells, 0);
        int c0 = 0, m0 = 0;
        while (g[c0]) c0++;
        while (!g[m0]) m0++;
        ck_assert_float_eq(step(e, c0, o).r, win);
        stepres r = step(e, c0, o);
        ck_assert_float_eq(r.r, bad);
        ck_assert(!r.term && !r.trunc);
        r = step(e, m0, o);
        ck_assert_float_eq(r.r, boom);
        ck_assert(r.term && !r.succ && !r.trunc);
        ck_assert_int_ge(hot(o, no), 1);
        /* Episode 3, POPGym's worst case: one clear cell, L - 1 repeats of it, and
         * at step L + 1 (truncated there: timestep == L is checked before it
         * counts) a mine: the return is -1 - 0.5/(L-2). */
        env_reset(e, 92, o);
        board_of(e, g, cells, 0);
        c0 = 0; m0 = 0;
        while (g[c0]) c0++;
        while (!g[m0]) m0++;
        ret = step(e, c0, o).r;
        for (int t = 2; t <= len; t++) {
            r = step(e, c0, o);
            ck_assert(!r.term && !r.trunc);
            ret += r.r;
        }
        r = step(e, m0, o);
        ck_assert(r.term && r.trunc);
        ret += r.r;
        ck_assert_double_eq_tol(ret, -1 - 0.5 / (len - 2), 1e-5);
        env_free(e);
    }
}
END_TEST

START_TEST(battleship_by_hand) {
    static const int side[3] = {8, 10, 12};
    for (int lv = 0; lv < 3; lv++) {
        env *e = mk("battleship", LEVELS[lv]);
        int b = side[lv], cells = b * b;
        ck_assert_int_eq(env_obs_size(e), 2);
        ck_assert_int_eq(env_num_actions(e), cells);
        float o[2], hit = 1.0f / 12, miss = (float)(-1.0 / (cells - 12));
        int8_t g[144];
        /* Episode 1: every ship cell: 12 hits, return 1, terminated. */
        env_reset(e, 100, o);
        ck_assert_int_eq(hot(o, 2), 0);
        board_of(e, g, cells, 0);
        int ships = 0;
        for (int k = 0; k < cells; k++) ships += g[k];
        ck_assert_int_eq(ships, 12);
        int hits = 0;
        double ret = 0;
        for (int k = 0; k < cells; k++) {
            if (!g[k]) continue;
            stepres r = step(e, k, o);
            ck_assert_int_eq(hot(o, 2), 1);
            ck_assert_float_eq(r.r, hit);
            ret += r.r;
            hits++;
            ck_assert_int_eq(r.term, hits == 12);
            ck_assert_int_eq(r.succ, hits == 12);
            ck_assert(!r.trunc);
        }
        ck_assert_double_eq_tol(ret, 1.0, 1e-5);
        /* Episode 2: water misses, a ship cell twice (the second is a miss), and
         * misses only until truncation at B^2 steps: -B^2/(B^2-12) at worst. */
        env_reset(e, 101, o);
        board_of(e, g, cells, 0);
        int w0 = 0, s0 = 0;
        while (g[w0]) w0++;
        while (!g[s0]) s0++;
        stepres r = step(e, w0, o);
        ck_assert(hot(o, 2) == 0 && r.r == miss);
        r = step(e, s0, o);
        ck_assert(hot(o, 2) == 1 && r.r == hit);
        r = step(e, s0, o);
        ck_assert(hot(o, 2) == 0 && r.r == miss);
        env_reset(e, 102, o);
        ret = 0;
        board_of(e, g, cells, 0);
        w0 = 0;
        while (g[w0]) w0++;
        for (int t = 1; t <= cells; t++) {
            r = step(e, w0, o);
            ret += r.r;
            ck_assert(!r.term);
            ck_assert_int_eq(r.trunc, t == cells);
        }
        ck_assert_double_eq_tol(ret, -(double)cells / (cells - 12), 1e-4);
        env_free(e);
    }
    /* Placement: 12 ship cells (no overlaps), none isolated (each ship is a
     * straight run of at least 2 cells); an edge allows fewer placements
     * than the middle, so corners are covered less often than the centre. */
    env *e = mk("battleship", "easy");
    float o[2];
    int8_t g[64];
    long corner = 0, centre = 0;
    for (int k = 0; k < 2000; k++) {
        env_reset(e, 2000 + (uint64_t)k, o);
        board_of(e, g, 64, 0);
        int ships = 0;
        for (int c = 0; c < 64; c++) {
            if (!g[c]) continue;
            ships++;
            int i = c / 8, j = c % 8;
            int nb = (i > 0 && g[c - 8]) + (i < 7 && g[c + 8]) + (j > 0 && g[c - 1]) + (j < 7 && g[c + 1]);
            ck_assert_msg(nb > 0, "isolated ship cell %d", c);
        }
        ck_assert_int_eq(ships, 12);
        corner += g[0] + g[7] + g[56] + g[63];
        centre += g[27] + g[28] + g[35] + g[36];
    }
    ck_assert_msg(corner < centre, "corner %ld, centre %ld", corner, centre);
    env_free(e);
}
END_TEST

/* ---- every world: presets, bounds, chance, vectors, threads ---------------------- */
/* Episode lengths as POPGym sets them: fixed for the card games and the
 * bandit, at most L for the CartPoles. */
static int fixed_len(const char *w, int lv) {
    static const int rf[3] = {51, 415, 831}, rp[3] = {51, 103, 155}, ae[3] = {103, 207, 311},
                     cr[3] = {51, 103, 207}, hl[3] = {51, 103, 155}, mab[3] = {200, 400, 600};
    if (!strcmp(w, "repeat_first")) return rf[lv];
    if (!strcmp(w, "repeat_previous")) return rp[lv];
    if (!strcmp(w, "autoencode")) return ae[lv];
    if (!strcmp(w, "count_recall")) return cr[lv];
    if (!strcmp(w, "higher_lower")) return hl[lv];
    if (!strcmp(w, "multiarmed_bandit")) return mab[lv];
    return 0;
}

static int max_len(const char *w, int lv) {
    static const int cc[3] = {104, 208, 104}, ms[3] = {15, 31, 55}, bs[3] = {64, 100, 144};
    if (!strcmp(w, "stateless_cartpole")) return 200 * (lv + 1);
    if (!strcmp(w, "noisy_stateless_cartpole")) return 200;
    if (!strcmp(w, "concentration")) return cc[lv];
    if (!strcmp(w, "minesweeper")) return ms[lv];        /* L + 1: POPGym's truncation check */
    if (!strcmp(w, "battleship")) return bs[lv];
    return fixed_len(w, lv);
}

/* The lowest return POPGym's scaling allows: -1, except minesweeper (one
 * step past L: -1 - 0.5/(L-2)) and battleship (all misses: -B^2/(B^2-12)). */
static double min_return(const char *w, int lv) {
    static const int ms[3] = {14, 30, 54}, bs[3] = {64, 100, 144};
    if (!strcmp(w, "minesweeper")) return -1 - 0.5 / (ms[lv] - 2);
    if (!strcmp(w, "battleship")) return -(double)bs[lv] / (bs[lv] - 12);
    return -1;
}

/* Mean return of a uniform random policy over `episodes` episodes (a vector
 * of 64); every episode's return is checked against [-1, 1] and its length
 * against the preset. */
static double last_sd;   /* standard deviation of the returns of the last call */

static double random_returns(const char *world, int lv, int episodes) {
    env_spec *s = spec(world, LEVELS[lv], 0);
    env_vec *v = env_vec_alloc(s, 64, 777);
    ck_assert_msg(v != NULL, "%s", rql_error());
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
    gsl_rng_set(r, 11);
    int act[64], done = 0, fl = fixed_len(world, lv), ml = max_len(world, lv);
    double sum = 0, sq = 0;
    float lo = (float)min_return(world, lv);
    while (done < episodes) {
        for (int i = 0; i < 64; i++) act[i] = (int)gsl_rng_uniform_int(r, v->n_actions);
        ck_assert_int_eq(env_vec_step(v, act), 0);
        for (int i = 0; i < 64 && done < episodes; i++) {
            if (!v->terminated[i] && !v->truncated[i]) continue;
            float g = v->ep_return[i];
            ck_assert_msg(g >= lo - 1e-5f && g <= 1.0f + 1e-5f, "%s %s: return %g", world, LEVELS[lv], g);
            if (fl) ck_assert_int_eq(v->ep_length[i], fl);
            else ck_assert(v->ep_length[i] >= 1 && v->ep_length[i] <= ml);
            sum += g;
            sq += (double)g * g;
            done++;
        }
    }
    gsl_rng_free(r);
    env_vec_free(v);
    env_spec_free(s);
    last_sd = sqrt(sq / episodes - (sum / episodes) * (sum / episodes));
    return sum / episodes;
}

START_TEST(bounds_and_lengths_every_preset) {
    for (int w = 0; w < N_WORLDS; w++)
        for (int lv = 0; lv < 3; lv++) random_returns(WORLDS[w], lv, lv ? 64 : 256);
}
END_TEST

/* The chance figures (uniform random policy) at Easy, Medium and Hard: the
 * popgym suite's table (experiments/suite.c, suite_setting_params), which
 * normalises the scorecard and which docs/envs.md prints. Exact where the
 * rules fix them (-1/2, 0; count_recall's from the hypergeometric law,
 * docs/envs.md), otherwise measured once over 200,000 episodes and written to
 * 3 decimals. Each is measured here again over 2000 episodes, or more where
 * the returns spread so much that the standard error would exceed 0.0025
 * (minesweeper, battleship, the bandit at Easy), and held within 0.01: at
 * least 4 standard errors. */
START_TEST(chance_figures) {
    const suite_def *suite = suite_find("popgym");
    ck_assert_ptr_nonnull(suite);
    const score_params none = suite_score_params(suite);
    for (int k = 0; k < N_WORLDS; k++)
        for (int lv = 0; lv < 3; lv++) {
            score_params par = none;
            par.random = NAN;                         /* NaN unless the suite lists this world at this level */
            double want = suite_setting_params(suite, par, WORLDS[k], LEVELS[lv]).random;
            ck_assert_msg(!isnan(want), "the popgym suite has no chance figure for %s at %s", WORLDS[k], LEVELS[lv]);
            int n = 2000;
            double m = random_returns(WORLDS[k], lv, n);
            if (last_sd / sqrt(n) > 0.0025) {        /* enough episodes for 0.01 to be 4 standard errors */
                n = 1000 * (int)ceil((last_sd / 0.0025) * (last_sd / 0.0025) / 1000);
                m = random_returns(WORLDS[k], lv, n);
            }
            double se = last_sd / sqrt(n);
            printf("chance %-26s %-6s %+.4f (%5d episodes, standard error %.4f; the suite's %+.3f)\n", WORLDS[k],
                   LEVELS[lv], m, n, se, want);
            ck_assert_msg(se <= 0.0025, "%s %s: standard error %g", WORLDS[k], LEVELS[lv], se);
            ck_assert_msg(fabs(m - want) < 0.01, "%s %s: random policy returns %g, the suite's chance %g", WORLDS[k],
                          LEVELS[lv], m, want);
        }
}
END_TEST

/* A vector of n against n single instances, with random actions. */
static void vec_vs_singles(const char *world, const char *level, int prev, int n, int steps) {
    env_spec *s = spec(world, level, prev);
    env_vec *v = env_vec_alloc(s, n, 99);
    ck_assert_msg(v != NULL, "%s", rql_error());
    int os = v->obs_size;
    env **e = calloc((size_t)n, sizeof *e);
    float *o = calloc((size_t)n * os, sizeof(float));
    int *act = calloc((size_t)n, sizeof(int));
    for (int i = 0; i < n; i++) {
        e[i] = env_make(s);
        env_reset(e[i], env_seed(99, (uint64_t)i), o + i * os);
    }
    ck_assert(!memcmp(o, v->obs, sizeof(float) * n * os));
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
    int ends = 0;
    for (int t = 0; t < steps; t++) {
        for (int i = 0; i < n; i++) act[i] = (int)gsl_rng_uniform_int(r, v->n_actions);
        ck_assert_int_eq(env_vec_step(v, act), 0);
        for (int i = 0; i < n; i++) {
            float *oi = o + i * os;
            stepres x = step(e[i], act[i], oi);
            ck_assert(x.r == v->rewards[i]);
            ck_assert(x.term == v->terminated[i] && x.trunc == v->truncated[i] && x.succ == v->success[i]);
            if (x.term || x.trunc) {
                ck_assert(!memcmp(oi, v->final_obs + i * os, sizeof(float) * os));
                env_restart(e[i], oi);
                ends++;
            }
            ck_assert(!memcmp(oi, v->obs + i * os, sizeof(float) * os));
        }
    }
    ck_assert_msg(ends > 0, "%s: no episode ended in %d steps", world, steps);
    for (int i = 0; i < n; i++) env_free(e[i]);
    free(e); free(o); free(act);
    gsl_rng_free(r);
    env_vec_free(v);
    env_spec_free(s);
}

START_TEST(vectors_equal_singles) {
    for (int w = 0; w < N_WORLDS; w++) {
        vec_vs_singles(WORLDS[w], "easy", 0, 5, fixed_len(WORLDS[w], 0) ? fixed_len(WORLDS[w], 0) + 30 : 250);
        vec_vs_singles(WORLDS[w], "easy", 1, 3, fixed_len(WORLDS[w], 0) ? fixed_len(WORLDS[w], 0) + 30 : 250);
    }
}
END_TEST

/* Everything a vector of this world exposes over `steps` steps (vec_trace.h). */
static size_t vec_run(const char *world, int prev, int n, int steps, int threads, unsigned char **out) {
    env_spec *s = spec(world, "easy", prev);
    size_t len = vec_trace(s, n, steps, threads, out);
    env_spec_free(s);
    return len;
}

START_TEST(threads_bit_identical) {
    for (int w = 0; w < N_WORLDS; w++)
        for (int prev = 0; prev < 2; prev++) {
            int steps = fixed_len(WORLDS[w], 0) ? fixed_len(WORLDS[w], 0) + 10 : 120;
            unsigned char *a, *b;
            /* 300 instances: two blocks of the vector, one per thread */
            size_t na = vec_run(WORLDS[w], prev, 300, steps, 1, &a), nb = vec_run(WORLDS[w], prev, 300, steps, 2, &b);
            ck_assert_uint_eq(na, nb);
            ck_assert_msg(!memcmp(a, b, na), "%s (prev_action %d): 1 and 2 threads differ", WORLDS[w], prev);
            free(a);
            free(b);
        }
}
END_TEST

START_TEST(state_round_trip) {
    for (int w = 0; w < N_WORLDS; w++) {
        env_spec *s = spec(WORLDS[w], "medium", 1);
        env_vec *v = env_vec_alloc(s, 9, 8), *u = env_vec_alloc(s, 9, 1234);
        int act[9];
        gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
        for (int t = 0; t < 70; t++) {
            for (int i = 0; i < 9; i++) act[i] = (int)gsl_rng_uniform_int(r, v->n_actions);
            env_vec_step(v, act);
        }
        unsigned char *buf = malloc(env_vec_state_bytes(v));
        ck_assert_int_eq(env_vec_save_state(v, buf), 0);
        ck_assert_int_eq(env_vec_load_state(u, buf), 0);
        for (int t = 0; t < 500; t++) {
            for (int i = 0; i < 9; i++) act[i] = (int)gsl_rng_uniform_int(r, v->n_actions);
            env_vec_step(v, act);
            env_vec_step(u, act);
            ck_assert(!memcmp(v->obs, u->obs, sizeof(float) * 9 * v->obs_size));
            ck_assert(!memcmp(v->rewards, u->rewards, sizeof(float) * 9));
            ck_assert(!memcmp(v->episode_start, u->episode_start, 9));
        }
        free(buf);
        gsl_rng_free(r);
        env_vec_free(v); env_vec_free(u);
        env_spec_free(s);
    }
}
END_TEST

/* ---- prev_action ------------------------------------------------------------------ */
START_TEST(prev_action_wrapper) {
    /* The world's part is untouched (the wrapper draws nothing); the tail is
     * the one-hot of the action taken and the first-step flag. */
    for (int w = 0; w < N_WORLDS; w++) {
        env_spec *a = spec(WORLDS[w], "easy", 0), *b = spec(WORLDS[w], "easy", 1);
        env_vec *va = env_vec_alloc(a, 4, 5), *vb = env_vec_alloc(b, 4, 5);
        int wo = va->obs_size, na = va->n_actions, os = vb->obs_size;
        ck_assert_int_eq(os, wo + na + 1);
        ck_assert_int_eq(vb->n_actions, na);
        for (int i = 0; i < 4; i++) {
            const float *tail = vb->obs + i * os + wo;
            ck_assert_int_eq(hot(tail, na), 0);                 /* POPGym's null action */
            ck_assert(tail[na] == 1);
        }
        gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
        int act[4], starts = 0;
        for (int t = 0; t < 700; t++) {
            for (int i = 0; i < 4; i++) act[i] = (int)gsl_rng_uniform_int(r, na);
            env_vec_step(va, act);
            env_vec_step(vb, act);
            for (int i = 0; i < 4; i++) {
                const float *ob = vb->obs + i * os, *tail = ob + wo;
                ck_assert(!memcmp(va->obs + i * wo, ob, sizeof(float) * wo));
                ck_assert(va->rewards[i] == vb->rewards[i] && va->episode_start[i] == vb->episode_start[i]);
                if (vb->episode_start[i]) {                        /* auto-reset: a first observation */
                    ck_assert_int_eq(hot(tail, na), 0);
                    ck_assert(tail[na] == 1);
                    ck_assert_int_eq(hot(vb->final_obs + i * os + wo, na), act[i]);
                    ck_assert(vb->final_obs[i * os + wo + na] == 0);
                    starts++;
                } else {
                    ck_assert_int_eq(hot(tail, na), act[i]);
                    ck_assert(tail[na] == 0);
                }
            }
        }
        ck_assert(starts > 0);
        gsl_rng_free(r);
        env_vec_free(va); env_vec_free(vb);
        env_spec_free(a); env_spec_free(b);
    }
    /* any world, with flicker: the world's part is zeroed, the tail stays */
    env_spec *s = env_spec_alloc("tmaze");
    ck_assert_int_eq(env_spec_set(s, "prev_action", "true"), 0);
    ck_assert_int_eq(env_spec_set(s, "flicker", "1"), 0);
    env *e = env_make(s);
    ck_assert_int_eq(env_obs_size(e), 3 + 4 + 1);
    float o[8];
    env_reset(e, 1, o);
    const float first[8] = {0, 0, 0, 1, 0, 0, 0, 1};
    ck_assert(!memcmp(o, first, sizeof o));
    step(e, 2, o);
    const float after[8] = {0, 0, 0, 0, 0, 1, 0, 0};
    ck_assert(!memcmp(o, after, sizeof o));
    env_free(e);
    ck_assert_int_eq(env_spec_set(s, "prev_action", "maybe"), ENV_EINVAL);
    env_spec_free(s);
    const env_info *x = env_info_find("prev_action");
    ck_assert(x && x->is_wrapper);
}
END_TEST

START_TEST(difficulty_errors_and_registry) {
    for (int w = 0; w < N_WORLDS; w++) {
        const env_info *x = env_info_find(WORLDS[w]);
        ck_assert_msg(x && !x->is_wrapper, "%s not registered", WORLDS[w]);
        ck_assert_str_eq(x->params[0].name, "difficulty");
        ck_assert_str_eq(x->params[0].def, "easy");
        env_spec *s = env_spec_alloc(WORLDS[w]);
        ck_assert_int_eq(env_spec_set(s, "difficulty", "extreme"), ENV_EINVAL);
        char want[128];
        snprintf(want, sizeof want, "%s: difficulty = 'extreme' is not one of easy|medium|hard", WORLDS[w]);
        ck_assert_msg(strstr(rql_error(), want) != NULL, "%s", rql_error());
        ck_assert_str_eq(env_spec_get(s, "difficulty"), "easy");
        for (int lv = 0; lv < 3; lv++) ck_assert_int_eq(env_spec_set(s, "difficulty", LEVELS[lv]), 0);
        env *e = env_make(s);
        char buf[4096];
        float *o = malloc(sizeof(float) * (size_t)env_obs_size(e));
        env_reset(e, 1, o);
        ck_assert_int_eq(env_render(e, buf, sizeof buf), 0);
        ck_assert(strlen(buf) > 10);
        free(o);
        env_free(e);
        env_spec_free(s);
    }
}
END_TEST

static Suite *popgym_suite(void) {
    Suite *s = suite_create("popgym");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);   /* the sanitizer build on a busy 2-core machine */
    tcase_add_test(tc, repeat_first_by_hand);
    tcase_add_test(tc, repeat_previous_by_hand);
    tcase_add_test(tc, autoencode_by_hand);
    tcase_add_test(tc, count_recall_by_hand);
    tcase_add_test(tc, higher_lower_by_hand);
    tcase_add_test(tc, multiarmed_bandit_by_hand);
    tcase_add_test(tc, concentration_by_hand);
    tcase_add_test(tc, minesweeper_by_hand);
    tcase_add_test(tc, battleship_by_hand);
    tcase_add_test(tc, stateless_cartpole_by_hand);
    tcase_add_test(tc, stateless_cartpole_presets);
    tcase_add_test(tc, noisy_stateless_cartpole_by_hand);
    tcase_add_test(tc, bounds_and_lengths_every_preset);
    tcase_add_test(tc, chance_figures);
    tcase_add_test(tc, vectors_equal_singles);
    tcase_add_test(tc, threads_bit_identical);
    tcase_add_test(tc, state_round_trip);
    tcase_add_test(tc, prev_action_wrapper);
    tcase_add_test(tc, difficulty_errors_and_registry);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(popgym_suite());
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf != 0;
}
