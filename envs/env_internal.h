/* env_internal.h — what a world implements, private to envs/.
 *
 * A world is an env_class: it builds an immutable configuration from a spec
 * (map, lengths, rewards: shared by every instance of a vector) and then acts
 * on a plain mutable state of dims.state_bytes bytes, which the generic layer
 * (env.c) allocates zeroed, copies for checkpoints and, in a vector, lays out
 * contiguously (instance i at states + i * state_bytes). A state therefore
 * holds no pointers and no padding (every field 32-bit), so a checkpoint
 * is a byte copy and two identical runs write identical bytes.
 *
 * step returns ENV_F_* flags; the world handles its own time limit (it
 * counts steps in its state) so truncation is exact in single and vector
 * use. A world may add a step_vec kernel that steps a block of a vector with
 * the bookkeeping inlined (tmaze does: ~ns per step, where an indirect call
 * per step would dominate); env.c uses it only when no wrapper is active.
 */
#ifndef RQL_ENV_INTERNAL_H
#define RQL_ENV_INTERNAL_H

#include <string.h>
#include <gsl/gsl_rng.h>
#include "envs/env.h"

enum { ENV_F_TERM = 1, ENV_F_TRUNC = 2, ENV_F_SUCCESS = 4 };

typedef struct {
    int obs_size, n_actions;
    size_t state_bytes;     /* multiple of 8 */
} env_dims;

/* The rows of a vector a step_vec kernel writes (already offset to lo). */
typedef struct {
    float *obs, *final_obs, *rewards, *ep_return;
    uint8_t *terminated, *truncated, *success, *episode_start;
    int *ep_length;
} env_rows;

typedef struct env_class {
    const env_info *info;
    /* Optional check of one parameter as it is set (a map is read and parsed
     * here, so a bad map fails where the config names it); may store derived
     * data with env_spec_set_aux. */
    int (*check)(env_spec *s, const char *key, const char *value);
    /* *cfg: one malloc'd block (no pointers into other allocations), which
     * the generic layer frees with free(). */
    int (*make)(const env_spec *s, void **cfg, env_dims *d);
    void (*reset)(const void *cfg, void *st, gsl_rng *r, float *obs);
    int (*step)(const void *cfg, void *st, gsl_rng *r, int action, float *obs, float *reward);
    int (*render)(const void *cfg, const void *st, char *buf, size_t cap);
    const char *(*action_name)(const void *cfg, int a);
    int (*signal_bits)(const void *cfg, int *idx, int cap);
    /* Optional: steps instances [0, n) of a block; states, rngs and rows
     * start at the block's first instance. */
    void (*step_vec)(const void *cfg, void *states, gsl_rng *const *rngs, const int *actions, int n,
                     env_rows rows);
} env_class;

extern const env_class tmaze_class, gridworld_class, memory_room_class, sum_class;
extern const env_class memory_chain_class;   /* memory_chain.c */
/* POPGym's worlds (popgym.c, popgym_boards.c, cartpole.c): a "difficulty"
 * parameter, one of POPGYM_LEVELS, picks the preset. */
#define POPGYM_LEVELS "easy|medium|hard"
/* The row of that parameter in a world's table; help says what each level sets. */
#define POPGYM_DIFFICULTY(help) {"difficulty", PARAM_STR, "easy", 0, 0, help, POPGYM_LEVELS}
extern const env_class repeat_first_class, repeat_previous_class, autoencode_class, count_recall_class,
    higher_lower_class, multiarmed_bandit_class, concentration_class, minesweeper_class, battleship_class,
    stateless_cartpole_class, noisy_stateless_cartpole_class;
int popgym_level(const env_spec *s);     /* 0 easy, 1 medium, 2 hard */

/* Rows that every world writes alike: a reward (any value in [-1000, 1000])
 * and the time limit (0: the world's default, which help names). */
#define ENV_REWARD(name, def, help) {name, PARAM_REAL, def, -1000, 1000, help, NULL}
#define ENV_MAX_STEPS(help) {"max_steps", PARAM_INT, "0", 0, 100000, "time limit (truncation); 0 = " help, NULL}

/* Parameter values of a spec, parsed (the spec has validated them). */
long env_param_long(const env_spec *s, const char *key);
double env_param_real(const env_spec *s, const char *key);
/* Derived data a check hook attached to the spec (a map's text), or NULL. */
const char *env_spec_aux(const env_spec *s);
int env_spec_set_aux(env_spec *s, const char *text);

/* o[0 .. n) = the one-hot vector of k. */
static inline void env_one_hot(float *o, int n, int k) {
    memset(o, 0, sizeof(float) * (size_t)n);
    o[k] = 1;
}

/* snprintf into buf at *pos without overflowing; keeps *pos <= cap - 1. */
void env_bufcat(char *buf, size_t cap, size_t *pos, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
