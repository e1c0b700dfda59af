/* envs — worlds that need memory, behind one interface, stepped as vectors.
 *
 * A world (tmaze, gridworld, memory_room, sum, bsuite's memory_chain, and POPGym's repeat_first,
 * repeat_previous, autoencode, count_recall, higher_lower, multiarmed_bandit,
 * concentration, minesweeper, battleship, stateless_cartpole,
 * noisy_stateless_cartpole) is a class: a name, a table
 * describing every parameter (type, default, range, help) and functions to
 * create an instance, reset it, step it, render it and free it. Wrappers
 * (flicker, obs_noise, prev_action) apply to any world and have parameters
 * of their own.
 *
 * An env_spec is a world name plus parameter values set by name, as the
 * config layer passes them on. An unknown name or a value out of range is an
 * error whose message names both.
 *
 * An env_vec is N instances stepped in one call (OpenMP over instances):
 * observations, rewards and flags are rows of contiguous buffers; an episode
 * that ends is reset at once (obs then holds the first observation of the
 * next episode; final_obs keeps the last observation of the one that ended).
 * Instance i owns its own gsl_rng seeded from splitmix64(seed, i), so results
 * are identical for any thread count.
 *
 * Library code: functions return 0 or a negative ENV_E* code, never print;
 * rql_error() gives the message of the last failure on this thread.
 *
 * Files: env.c (errors, registry, specs, instances, wrappers, vectors,
 * seeds, state I/O), tmaze.c, grid.c (gridworld, memory_room, map files),
 * sum.c, memory_chain.c (bsuite), popgym.c (POPGym's card games and bandit), popgym_boards.c
 * (minesweeper, battleship), cartpole.c (POPGym's
 * position-only CartPoles); env_internal.h is what a world implements. docs/envs.md defines
 * every world exactly; envs/maps/ holds the shipped maps.
 */
#ifndef RQL_ENV_H
#define RQL_ENV_H

#include <stddef.h>
#include <stdint.h>
#include "util/param.h"
#include "util/util.h"

enum { ENV_OK = 0, ENV_EINVAL = -1, ENV_ENOMEM = -2, ENV_EIO = -3, ENV_EPARSE = -4 };

/* Registry of worlds and wrappers (for `rql envs`). */
typedef struct {
    const char *name;
    const char *summary;    /* one line */
    const char *doc;        /* paragraph: dynamics, observation, rewards, source */
    const param_desc *params;
    int nparams;
    int is_wrapper;
} env_info;

int env_count(void);
const env_info *env_info_at(int i);
const env_info *env_info_find(const char *name);

/* ---- specs ----------------------------------------------------------------- */
typedef struct env_spec env_spec;
env_spec *env_spec_alloc(const char *world);          /* NULL on unknown world */
void env_spec_free(env_spec *s);
env_spec *env_spec_clone(const env_spec *s);
/* key is a world parameter ("length") or a wrapper parameter ("flicker",
 * "obs_noise", ...); value is text parsed by the parameter's type. */
int env_spec_set(env_spec *s, const char *key, const char *value);
/* The same from a typed value the config layer read (util/param.h): checked
 * as env_spec_set checks text, never turned into text and parsed again; the
 * message of a refusal is the detail alone ("out of range [1, 1000]"), or the
 * world's own for a value its check refuses. */
int env_spec_set_value(env_spec *s, const char *key, const param_value *v);
const char *env_spec_get(const env_spec *s, const char *key); /* current value as text */
const char *env_spec_world(const env_spec *s);

/* ---- one instance ------------------------------------------------------------ */
typedef struct env env;
env *env_make(const env_spec *s);                     /* NULL on error (e.g. bad map) */
void env_free(env *e);
int env_obs_size(const env *e);
int env_num_actions(const env *e);
const char *env_action_name(const env *e, int a);     /* "N", "E", "left", ... */
/* obs [obs_size] receives the first observation. The instance's RNG is
 * re-seeded from seed (hashed with SplitMix64: any 64-bit value is fine). */
int env_reset(env *e, uint64_t seed, float *obs);
/* Starts a new episode drawing from the RNG where it is, without re-seeding:
 * what a vector's auto-reset does, so N single instances driven with
 * env_reset(e_i, env_seed(seed, i)) then env_restart after each episode
 * reproduce a vector bit for bit. */
int env_restart(env *e, float *obs);
/* Steps one action; terminated/truncated as in Gymnasium; success is set
 * when the episode ends in the world's goal (T-maze: the right arm). */
int env_step(env *e, int action, float *obs, float *reward,
             uint8_t *terminated, uint8_t *truncated, uint8_t *success);
/* Text render of the current state into buf (always NUL-terminated). */
int env_render(const env *e, char *buf, size_t cap);
/* Indices of the observation bits that carry the signal to remember (T-maze
 * sign), for analysis; returns how many were written (<= cap). */
int env_signal_bits(const env *e, int *idx, int cap);
/* Serialise the whole state (RNG included) for checkpoints. */
size_t env_state_bytes(const env *e);
int env_save_state(const env *e, void *buf);
int env_load_state(env *e, const void *buf);

/* ---- vector of N instances ------------------------------------------------- */
typedef struct {
    int n, obs_size, n_actions;
    float *obs;            /* [n, obs_size] current observation (after auto-reset) */
    float *final_obs;      /* [n, obs_size] last observation of an episode that just ended
                              (rows where terminated or truncated; stale elsewhere) */
    float *rewards;        /* [n] */
    uint8_t *terminated;   /* [n] */
    uint8_t *truncated;    /* [n] */
    uint8_t *success;      /* [n] set with terminated/truncated */
    uint8_t *episode_start;/* [n] 1 where obs is the first observation of an episode */
    float *ep_return;      /* [n] return of the episode so far (of the ended one when done) */
    int *ep_length;        /* [n] likewise, steps */
    env **envs;            /* [n] the instances (render, signal bits); owned by the vector */
    void *priv;
} env_vec;

/* Allocates and resets: instance i is seeded with env_seed(seed, i). */
env_vec *env_vec_alloc(const env_spec *s, int n, uint64_t seed);
void env_vec_free(env_vec *v);
int env_vec_reset(env_vec *v);                        /* restarts every stream from (seed, i) */
/* actions [n]; all are checked before any instance moves (ENV_EINVAL). */
int env_vec_step(env_vec *v, const int *actions);     /* OpenMP over instances */
size_t env_vec_state_bytes(const env_vec *v);
int env_vec_save_state(const env_vec *v, void *buf);
int env_vec_load_state(env_vec *v, const void *buf);

uint64_t env_splitmix64(uint64_t x);                  /* the seed hash */
uint64_t env_seed(uint64_t seed, uint64_t index);     /* stream seed of (seed, index) */

#endif
