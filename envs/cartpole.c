/* cartpole.c — POPGym's position-only CartPoles (Morad et al. 2023, POPGym):
 *
 *   stateless_cartpole        popgym/envs/stateless_cartpole.py
 *   noisy_stateless_cartpole  popgym/envs/noisy_stateless_cartpole.py
 *
 * The physics is gymnasium's classic-control CartPoleEnv
 * (gymnasium/envs/classic_control/cartpole.py, after Barto, Sutton & Anderson
 * 1983), in double precision as there: gravity 9.8, cart mass 1.0, pole mass
 * 0.1, half pole length 0.5, force 10 (action 1 pushes right, 0 left), tau
 * 0.02 s, explicit Euler. The state (x, x_dot, theta, theta_dot) starts
 * uniform in [-0.05, 0.05]^4; the episode terminates when |x| > 2.4 or
 * |theta| > 12 degrees (12 * 2 pi / 360 rad). POPGym drops the two velocities:
 * the observation is (x, theta) as float32.
 *
 * Rewards: gymnasium pays 1 for every step up to and including the one that
 * terminates; POPGym maps a reward of 1 to 1/L (and 0, which gymnasium pays
 * only for a step after termination, to -1: never reached here, an episode
 * that ends is reset). The episode is truncated after L steps, so the return
 * is (steps survived) / L in (0, 1]. success marks an episode that reached L.
 *
 * The noisy variant adds N(0, sigma^2) noise (float32) to each observed
 * entry, reset included, and clips to the observation box
 * [-4.8, 4.8] x [-24, 24] degrees (float32 of 2 x the thresholds).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include "envs/env_internal.h"

#define CP_GRAVITY 9.8
#define CP_MASSCART 1.0
#define CP_MASSPOLE 0.1
#define CP_TOTAL (CP_MASSPOLE + CP_MASSCART)
#define CP_LENGTH 0.5
#define CP_POLEMASS_LENGTH (CP_MASSPOLE * CP_LENGTH)
#define CP_FORCE 10.0
#define CP_TAU 0.02
#define CP_THETA_LIMIT (12 * 2 * M_PI / 360)
#define CP_X_LIMIT 2.4

typedef struct {
    int len;            /* L, the time limit */
    float scale;        /* 1 / L */
    double sigma;       /* observation noise; 0 for the plain world */
    float hi[2];        /* the observation box: 2 x the thresholds, float32 */
} cp_cfg;

typedef struct {
    double x, x_dot, theta, theta_dot;
    int32_t t, pad;
} cp_state;

static const param_desc cp_params[] = {
    POPGYM_DIFFICULTY("easy: 200 steps; medium: 400; hard: 600"),
};
static const param_desc ncp_params[] = {
    POPGYM_DIFFICULTY("easy: noise sigma 0.1; medium: 0.2; hard: 0.3 (200 steps)"),
};

static const env_info cp_info = {
    "stateless_cartpole", "POPGym StatelessCartPole: CartPole seen through position and angle only",
    "POPGym's StatelessCartPole (popgym/envs/stateless_cartpole.py) on gymnasium's CartPole physics "
    "(classic_control/cartpole.py: Euler, tau 0.02, force 10, start uniform in [-0.05, 0.05]^4). "
    "Observation 2 floats: cart position x and pole angle theta (the velocities are hidden). Actions: "
    "0 push left, 1 push right. Reward 1/L per step, the failing step included; terminates when |x| > 2.4 "
    "or |theta| > 12 degrees, truncated after L steps (success). Return in (0, 1]. Presets: easy L = 200, "
    "medium 400, hard 600. Signal bits: none.",
    cp_params, 1, 0};

static const env_info ncp_info = {
    "noisy_stateless_cartpole", "POPGym NoisyStatelessCartPole: position-only CartPole with Gaussian noise",
    "POPGym's NoisyStatelessCartPole (popgym/envs/noisy_stateless_cartpole.py): stateless_cartpole with "
    "L = 200 whose observation (x, theta) gets N(0, sigma^2) noise per entry at every step and at reset, "
    "clipped to [-4.8, 4.8] x [-0.419, 0.419]. Reward 1/L per step; return in (0, 1]. Presets: easy "
    "sigma = 0.1, medium 0.2, hard 0.3. Signal bits: none.",
    ncp_params, 1, 0};

static int cp_new(void **out, env_dims *d, int len, double sigma) {
    cp_cfg *c = calloc(1, sizeof *c);
    if (!c) return rql_set_error(ENV_ENOMEM, "cartpole: out of memory");
    c->len = len;
    c->scale = (float)(1.0 / len);
    c->sigma = sigma;
    c->hi[0] = (float)(CP_X_LIMIT * 2);
    c->hi[1] = (float)(CP_THETA_LIMIT * 2);
    *out = c;
    *d = (env_dims){.obs_size = 2, .n_actions = 2, .state_bytes = sizeof(cp_state)};
    return 0;
}

static int cp_make(const env_spec *s, void **out, env_dims *d) {
    static const int lens[3] = {200, 400, 600};
    return cp_new(out, d, lens[popgym_level(s)], 0);
}

static int ncp_make(const env_spec *s, void **out, env_dims *d) {
    static const double sig[3] = {0.1, 0.2, 0.3};
    return cp_new(out, d, 200, sig[popgym_level(s)]);
}

static void cp_obs(const cp_cfg *c, const cp_state *s, gsl_rng *r, float *o) {
    o[0] = (float)s->x;
    o[1] = (float)s->theta;
    if (c->sigma > 0)
        for (int k = 0; k < 2; k++) {
            float v = o[k] + (float)gsl_ran_gaussian_ziggurat(r, c->sigma);
            o[k] = v < -c->hi[k] ? -c->hi[k] : v > c->hi[k] ? c->hi[k] : v;
        }
}

static void cp_reset(const void *cfg, void *st, gsl_rng *r, float *obs) {
    cp_state *s = st;
    s->x = -0.05 + 0.1 * gsl_rng_uniform(r);
    s->x_dot = -0.05 + 0.1 * gsl_rng_uniform(r);
    s->theta = -0.05 + 0.1 * gsl_rng_uniform(r);
    s->theta_dot = -0.05 + 0.1 * gsl_rng_uniform(r);
    s->t = 0;
    cp_obs(cfg, s, r, obs);
}

/* One step of gymnasium's CartPoleEnv.step (euler), in double. */
static void cartpole_physics(double st[4], int action) {
    double x = st[0], x_dot = st[1], theta = st[2], theta_dot = st[3];
    double force = action == 1 ? CP_FORCE : -CP_FORCE;
    double ct = cos(theta), sn = sin(theta);
    double temp = (force + CP_POLEMASS_LENGTH * theta_dot * theta_dot * sn) / CP_TOTAL;
    double thetaacc = (CP_GRAVITY * sn - ct * temp) / (CP_LENGTH * (4.0 / 3.0 - CP_MASSPOLE * ct * ct / CP_TOTAL));
    double xacc = temp - CP_POLEMASS_LENGTH * thetaacc * ct / CP_TOTAL;
    st[0] = x + CP_TAU * x_dot;
    st[1] = x_dot + CP_TAU * xacc;
    st[2] = theta + CP_TAU * theta_dot;
    st[3] = theta_dot + CP_TAU * thetaacc;
}

static int cp_step(const void *cfg, void *st, gsl_rng *r, int a, float *obs, float *rew) {
    const cp_cfg *c = cfg;
    cp_state *s = st;
    double q[4] = {s->x, s->x_dot, s->theta, s->theta_dot};
    cartpole_physics(q, a);
    s->x = q[0]; s->x_dot = q[1]; s->theta = q[2]; s->theta_dot = q[3];
    int term = s->x < -CP_X_LIMIT || s->x > CP_X_LIMIT || s->theta < -CP_THETA_LIMIT || s->theta > CP_THETA_LIMIT;
    s->t++;
    int trunc = s->t >= c->len;
    *rew = c->scale;
    cp_obs(c, s, r, obs);
    return (term ? ENV_F_TERM : 0) | (trunc ? ENV_F_TRUNC : 0) | (trunc && !term ? ENV_F_SUCCESS : 0);
}

static int cp_render(const void *cfg, const void *st, char *buf, size_t cap) {
    const cp_cfg *c = cfg;
    const cp_state *s = st;
    size_t pos = 0;
    /* a 49-column track for x in [-2.4, 2.4]; the pole leans by theta */
    char track[52];
    memset(track, '-', 49);
    track[49] = 0;
    double fx = (s->x + CP_X_LIMIT) / (2 * CP_X_LIMIT) * 48;
    int col = fx < 0 ? 0 : fx > 48 ? 48 : (int)lround(fx);
    track[col] = s->theta > 0.02 ? '/' : s->theta < -0.02 ? '\\' : '|';
    env_bufcat(buf, cap, &pos, "  [%s]\n  step %d of %d: x = %+.3f (v %+.3f), theta = %+.2f deg (w %+.3f)%s\n", track,
               s->t, c->len, s->x, s->x_dot, s->theta * 180 / M_PI, s->theta_dot,
               c->sigma > 0 ? "  (observed with noise)" : "");
    return 0;
}

static const char *cp_action_name(const void *cfg, int a) { return a ? "right" : "left"; }

const env_class stateless_cartpole_class = {
    .info = &cp_info, .make = cp_make, .reset = cp_reset,
    .step = cp_step, .render = cp_render, .action_name = cp_action_name,
};

const env_class noisy_stateless_cartpole_class = {
    .info = &ncp_info, .make = ncp_make, .reset = cp_reset,
    .step = cp_step, .render = cp_render, .action_name = cp_action_name,
};
