/* tmaze.c — the T-maze of Bakker (2002), "Reinforcement Learning with Long
 * Short-Term Memory", NIPS 14, section 4 (figure 2).
 *
 *            N arm
 *   S - - - - J          cells x = 0 (start S), 1..N-1 (corridor), N (junction J)
 *            S arm
 *
 * Observation, 3 bits: the start cell shows the sign, 011 (goal in the north
 * arm) or 110 (goal in the south arm), drawn uniformly at each reset from the
 * instance's RNG; corridor cells show 101; the junction shows 010. Actions
 * 0..3 = N, E, S, W. E and W move along the corridor; a move into a wall (W
 * at the start, E at the junction, N or S anywhere but the junction) leaves
 * the agent in place and pays reward_wall (-0.1). At the junction N or S ends
 * the episode (terminated): reward_goal (+4) and success for the arm the sign
 * named, reward_wrong (-0.1) for the other. Every other step pays
 * reward_step (0). These are Bakker's values. The optimal episode takes
 * N + 1 steps and returns 4.
 *
 * Time limit (truncation): Bakker gives none. The default max_steps = 0
 * means 10 (N + 1), ten times the optimal episode: short enough that a
 * lost agent costs little, long enough that a random walk (which needs about
 * 2 N^2 steps to cross the corridor when half its actions are E/W and the
 * rest bump) reaches the junction in a fair share of early episodes for
 * N up to ~10-20. Set it explicitly for long corridors.
 *
 * corridor_noise p flips each bit of a corridor observation independently
 * with probability p (start and junction cells stay clean, so the sign and
 * the decision point stay observable); the flips come from the instance's
 * RNG. The observation emitted when the episode terminates (after N or S)
 * is the junction's, 010.
 *
 * The vector kernel (tmaze_step_vec) steps a block of contiguous states
 * branch-free from small tables, with the vector's bookkeeping inlined: the
 * RNG is touched only at resets (and for corridor noise).
 */
#include <stdlib.h>
#include <string.h>
#include "envs/env_internal.h"

enum { TM_N = 0, TM_E = 1, TM_S = 2, TM_W = 3 };

typedef struct {
    int n, max_steps;
    float r_goal, r_wrong, r_wall, r_step;
    double noise;
    float obs[4][4];          /* by cell kind: start sign 0, start sign 1, corridor, junction */
} tmaze_cfg;

typedef struct {
    int32_t x;                /* 0 .. n */
    int32_t t;                /* steps taken this episode */
    int32_t sign;             /* 0: goal north (start 011), 1: goal south (start 110) */
    int32_t pad;
} tmaze_state;

static const param_desc tmaze_params[] = {
    {"length", PARAM_INT, "10", 1, 1000, "corridor length N: the junction is N moves east of the start", NULL},
    ENV_MAX_STEPS("10 (length + 1)"),
    ENV_REWARD("reward_goal", "4", "reward for the arm the sign named (ends the episode)"),
    ENV_REWARD("reward_wrong", "-0.1", "reward for the other arm (ends the episode)"),
    ENV_REWARD("reward_wall", "-0.1", "reward for a move into a wall (agent stays)"),
    ENV_REWARD("reward_step", "0", "reward for any other step"),
    {"corridor_noise", PARAM_REAL, "0", 0, 1, "probability of flipping each bit of a corridor observation", NULL},
};

static const env_info tmaze_info = {
    "tmaze", "Bakker's (2002) T-maze: remember the sign at the start, turn at the junction",
    "Bakker (2002), 'Reinforcement Learning with Long Short-Term Memory'. A corridor of length N "
    "(start x = 0, corridor 1..N-1, junction N). Observation 3 bits: start 011 (goal north) or 110 "
    "(goal south), drawn at random each episode; corridor 101; junction 010. Actions N, E, S, W. "
    "At the junction N or S ends the episode: +4 and success for the arm the sign named, -0.1 for "
    "the other. A move into a wall stays put and pays -0.1; any other step pays 0. Optimal: N+1 "
    "steps, return 4. Time limit 10 (N + 1) steps by default (truncated). corridor_noise flips "
    "corridor bits. Signal bits: 0 and 2.",
    tmaze_params, (int)(sizeof tmaze_params / sizeof tmaze_params[0]), 0};

static int tmaze_make(const env_spec *s, void **out, env_dims *d) {
    tmaze_cfg *c = calloc(1, sizeof *c);
    if (!c) return rql_set_error(ENV_ENOMEM, "tmaze: out of memory");
    c->n = (int)env_param_long(s, "length");
    long ms = env_param_long(s, "max_steps");
    c->max_steps = ms > 0 ? (int)ms : 10 * (c->n + 1);
    c->r_goal = (float)env_param_real(s, "reward_goal");
    c->r_wrong = (float)env_param_real(s, "reward_wrong");
    c->r_wall = (float)env_param_real(s, "reward_wall");
    c->r_step = (float)env_param_real(s, "reward_step");
    c->noise = env_param_real(s, "corridor_noise");
    static const float tab[4][4] = {{0, 1, 1, 0}, {1, 1, 0, 0}, {1, 0, 1, 0}, {0, 1, 0, 0}};
    memcpy(c->obs, tab, sizeof tab);
    *out = c;
    *d = (env_dims){.obs_size = 3, .n_actions = 4, .state_bytes = sizeof(tmaze_state)};
    return 0;
}

static inline int cell_kind(const tmaze_cfg *c, const tmaze_state *s) {
    return s->x == 0 ? s->sign : s->x == c->n ? 3 : 2;
}

static inline void put_obs(const tmaze_cfg *c, const tmaze_state *s, gsl_rng *r, float *o) {
    int k = cell_kind(c, s);
    o[0] = c->obs[k][0];
    o[1] = c->obs[k][1];
    o[2] = c->obs[k][2];
    if (k == 2 && c->noise > 0)
        for (int b = 0; b < 3; b++)
            if (gsl_rng_uniform(r) < c->noise) o[b] = 1.0f - o[b];
}

static inline void reset_state(tmaze_state *s, gsl_rng *r) {
    s->x = 0;
    s->t = 0;
    s->sign = (int32_t)gsl_rng_uniform_int(r, 2);
}

static void tmaze_reset(const void *cfg, void *st, gsl_rng *r, float *obs) {
    reset_state(st, r);
    put_obs(cfg, st, r, obs);
}

/* One step without the observation; returns ENV_F_* flags. Written with
 * selects rather than a switch so the vector loop compiles to few branches
 * (random actions would mispredict a switch half the time). */
static inline int step_core(const tmaze_cfg *c, tmaze_state *s, int a, float *rew) {
    int x = s->x;
    int dx = (a == TM_E) - (a == TM_W);
    int nx = x + dx;
    int moved = dx != 0 && (unsigned)nx <= (unsigned)c->n;
    int term = !(a & 1) && x == c->n;                 /* N or S at the junction */
    int succ = term && (a >> 1) == s->sign;          /* N (a>>1 = 0) matches sign 0 */
    s->x = moved ? nx : x;
    float rw = moved ? c->r_step : c->r_wall;
    float rt = succ ? c->r_goal : c->r_wrong;
    *rew = term ? rt : rw;
    int t = ++s->t;
    int trunc = !term && t >= c->max_steps;
    return term * ENV_F_TERM | trunc * ENV_F_TRUNC | succ * ENV_F_SUCCESS;
}

static int tmaze_step(const void *cfg, void *st, gsl_rng *r, int a, float *obs, float *rew) {
    int f = step_core(cfg, st, a, rew);
    put_obs(cfg, st, r, obs);
    return f;
}

static void tmaze_step_vec(const void *cfg, void *states, gsl_rng *const *rngs, const int *actions, int n,
                           env_rows w) {
    const tmaze_cfg *c = cfg;
    tmaze_state *st = states;
    for (int i = 0; i < n; i++) {
        tmaze_state *s = &st[i];
        float r;
        int start = w.episode_start[i];
        int f = step_core(c, s, actions[i], &r);
        float *o = w.obs + 3 * i;
        put_obs(c, s, rngs[i], o);
        w.rewards[i] = r;
        /* Counters restart on the step after an episode ended, so the ended
         * episode's totals stay visible for one step. */
        w.ep_return[i] = (start ? 0.0f : w.ep_return[i]) + r;
        w.ep_length[i] = (start ? 0 : w.ep_length[i]) + 1;
        w.terminated[i] = f & ENV_F_TERM;
        w.truncated[i] = (f >> 1) & 1;
        w.success[i] = (f >> 2) & 1;
        int done = f & (ENV_F_TERM | ENV_F_TRUNC);
        w.episode_start[i] = done != 0;
        if (done) {                                   /* rare: once per episode */
            float *fo = w.final_obs + 3 * i;
            fo[0] = o[0]; fo[1] = o[1]; fo[2] = o[2];
            reset_state(s, rngs[i]);
            put_obs(c, s, rngs[i], o);
        }
    }
}

static int tmaze_render(const void *cfg, const void *st, char *buf, size_t cap) {
    const tmaze_cfg *c = cfg;
    const tmaze_state *s = st;
    size_t pos = 0;
    if (c->n <= 60) {
        for (int row = 0; row < 3; row++) {
            env_bufcat(buf, cap, &pos, "  ");
            for (int x = 0; x <= c->n; x++) {
                char ch = ' ';
                if (row == 1) ch = x == s->x ? '@' : x == 0 ? 'S' : x == c->n ? 'T' : '-';
                else if (x == c->n) ch = (row == 0) == (s->sign == 0) ? 'G' : 'x';
                env_bufcat(buf, cap, &pos, "%c", ch);
            }
            env_bufcat(buf, cap, &pos, "\n");
        }
    } else {   /* too long for a terminal line: counts instead of cells */
        env_bufcat(buf, cap, &pos, "  S [%d cells] @ [%d cells] T, north arm %c, south arm %c\n", s->x,
                   c->n - s->x, s->sign == 0 ? 'G' : 'x', s->sign == 1 ? 'G' : 'x');
    }
    env_bufcat(buf, cap, &pos, "  x = %d of %d, t = %d of %d, sign %s (goal %s)\n", s->x, c->n, s->t, c->max_steps,
               s->sign ? "110" : "011", s->sign ? "south" : "north");
    return 0;
}

static const char *tmaze_action_name(const void *cfg, int a) {
    static const char *const names[] = {"N", "E", "S", "W"};
    return names[a];
}

static int tmaze_signal_bits(const void *cfg, int *idx, int cap) {
    static const int bits[] = {0, 2};
    int k = 0;
    for (; k < 2 && k < cap; k++) idx[k] = bits[k];
    return k;
}

const env_class tmaze_class = {
    .info = &tmaze_info, .make = tmaze_make, .reset = tmaze_reset,
    .step = tmaze_step, .render = tmaze_render, .action_name = tmaze_action_name,
    .signal_bits = tmaze_signal_bits, .step_vec = tmaze_step_vec,
};
