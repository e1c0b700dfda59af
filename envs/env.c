/* env.c — the generic layer: errors, the registry of worlds and wrappers,
 * specs (parameters set by name and validated), single instances with the
 * wrappers applied, vectors of instances stepped with OpenMP, seeds and
 * checkpoint state. The worlds themselves live in tmaze.c, grid.c, sum.c,
 * popgym.c, popgym_boards.c and cartpole.c.
 *
 * Wrappers (applied in this order to every observation an instance emits,
 * first ones included, drawing from the instance's own gsl_rng):
 *   obs_noise  adds N(0, std^2) to every observation entry (Gaussian
 *              observation noise, as in the noisy-observation POMDP variants
 *              of e.g. Meng, Gorbet & Kulic 2021, "Memory-based deep RL for
 *              POMDPs"); 0 disables it.
 *   flicker    zeroes the whole observation with probability p, as the
 *              flickering Pong of Hausknecht & Stone 2015, "Deep Recurrent
 *              Q-Learning for Partially Observable MDPs" (they use p = 0.5);
 *              0 disables it.
 *   prev_action appends n_actions + 1 floats after the world's observation
 *              (and after noise and flicker, which touch only the world's
 *              part): the one-hot of the previous action (of action 0, POPGym's
 *              null action, at the first step) and a flag that is 1 on the
 *              first observation of an episode. POPGym trains with this
 *              (popgym/wrappers/previous_action.py + antialias.py, flattened);
 *              false disables it.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include "envs/env_internal.h"

void env_bufcat(char *buf, size_t cap, size_t *pos, const char *fmt, ...) {
    if (*pos + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *pos, cap - *pos, fmt, ap);
    va_end(ap);
    if (k > 0) *pos = *pos + (size_t)k < cap ? *pos + (size_t)k : cap - 1;
}

/* ---- registry ---------------------------------------------------------------- */
static const param_desc flicker_params[] = {
    {"flicker", PARAM_REAL, "0", 0, 1, "probability that an observation is zeroed (DRQN's flickering; 0 = off)", NULL},
};
static const param_desc noise_params[] = {
    {"obs_noise", PARAM_REAL, "0", 0, 100, "std of Gaussian noise added to every observation entry (0 = off)", NULL},
};
static const param_desc prev_action_params[] = {
    {"prev_action", PARAM_BOOL, "false", 0, 1, "append the previous action (one-hot) and a first-step flag", NULL},
};
static const env_info wrapper_infos[] = {
    {"flicker", "zero the whole observation with probability p (Hausknecht & Stone 2015)",
     "Each observation the world emits (the first one of an episode included) is replaced by zeros "
     "with probability flicker, drawn from the instance's own RNG after any noise. Hausknecht & Stone "
     "(2015), 'Deep Recurrent Q-Learning for Partially Observable MDPs', flickering Pong, p = 0.5. "
     "Applies to any world: set flicker = P alongside the world's parameters.",
     flicker_params, 1, 1},
    {"obs_noise", "add Gaussian noise N(0, std^2) to every observation entry",
     "Each entry of each observation the world emits gets independent Gaussian noise of standard "
     "deviation obs_noise (GSL ziggurat sampler, the instance's own RNG), before flicker. Applies to "
     "any world: set obs_noise = STD alongside the world's parameters.",
     noise_params, 1, 1},
    {"prev_action", "append the previous action one-hot and a first-step flag (POPGym's training wrapper)",
     "Appends n_actions + 1 floats to every observation: the one-hot of the action just taken and a flag, "
     "1 on the first observation of an episode and 0 after. At the first step the action part is the "
     "one-hot of action 0 (POPGym's null action). POPGym's PreviousAction and Antialias wrappers, "
     "flattened (popgym/wrappers/previous_action.py, antialias.py; POPGym's flag is a 2-float one-hot, "
     "this is its second float). Noise and flicker apply to the world's part only. Applies to any world: "
     "set prev_action = true alongside the world's parameters.",
     prev_action_params, 1, 1},
};
#define N_WRAPPERS ((int)(sizeof wrapper_infos / sizeof wrapper_infos[0]))

static const env_class *const worlds[] = {
    &tmaze_class, &gridworld_class, &memory_room_class, &sum_class, &memory_chain_class,
    &repeat_first_class, &repeat_previous_class, &autoencode_class, &count_recall_class, &higher_lower_class,
    &multiarmed_bandit_class, &concentration_class, &minesweeper_class, &battleship_class, &stateless_cartpole_class,
    &noisy_stateless_cartpole_class,
};
#define N_WORLDS ((int)(sizeof worlds / sizeof worlds[0]))

int env_count(void) { return N_WORLDS + N_WRAPPERS; }

const env_info *env_info_at(int i) {
    if (i < 0 || i >= env_count()) return NULL;
    return i < N_WORLDS ? worlds[i]->info : &wrapper_infos[i - N_WORLDS];
}

const env_info *env_info_find(const char *name) {
    for (int i = 0; name && i < env_count(); i++)
        if (!strcmp(env_info_at(i)->name, name)) return env_info_at(i);
    return NULL;
}

static const env_class *class_find(const char *name) {
    for (int i = 0; name && i < N_WORLDS; i++)
        if (!strcmp(worlds[i]->info->name, name)) return worlds[i];
    return NULL;
}

/* ---- specs -------------------------------------------------------------------
 * A spec is the world's class plus one param_set (util/param.h): the world's
 * rows, then every wrapper's. Values are parsed once, by param.c; a world's
 * check hook sees a value after it parsed and may still refuse it. */
struct env_spec {
    const env_class *cls;
    param_set ps;
    char *aux;                             /* derived data of a check hook (map text) */
};

void env_spec_free(env_spec *s) {
    if (!s) return;
    param_set_free(&s->ps);
    free(s->aux);
    free(s);
}

env_spec *env_spec_alloc(const char *world) {
    const env_class *c = class_find(world);
    if (!c) {
        char known[256] = "";
        size_t pos = 0;
        for (int i = 0; i < N_WORLDS; i++) env_bufcat(known, sizeof known, &pos, "%s%s", i ? ", " : "", worlds[i]->info->name);
        const env_info *w = env_info_find(world);
        if (w && w->is_wrapper)
            rql_set_error(ENV_EINVAL, "'%s' is a wrapper, not a world: set %s = VALUE on a world (worlds: %s)", world,
                          w->params[0].name, known);
        else
            rql_set_error(ENV_EINVAL, "unknown world '%s' (worlds: %s)", world ? world : "(null)", known);
        return NULL;
    }
    env_spec *s = calloc(1, sizeof *s);
    if (!s) { rql_set_error(ENV_ENOMEM, "env_spec_alloc: out of memory"); return NULL; }
    s->cls = c;
    int rc = param_set_add(&s->ps, c->info->params, c->info->nparams);
    for (int w = 0; w < N_WRAPPERS && !rc; w++) rc = param_set_add(&s->ps, wrapper_infos[w].params, wrapper_infos[w].nparams);
    if (rc) {
        env_spec_free(s);
        return NULL;
    }
    /* Defaults are not run through the check hook: a gridworld loads its
     * default map at env_make, so allocating a spec never touches files. */
    return s;
}

env_spec *env_spec_clone(const env_spec *s) {
    if (!s) return NULL;
    env_spec *d = calloc(1, sizeof *d);
    if (!d) { rql_set_error(ENV_ENOMEM, "env_spec_clone: out of memory"); return NULL; }
    d->cls = s->cls;
    if (param_set_copy(&d->ps, &s->ps) || (s->aux && !(d->aux = strdup(s->aux)))) {
        env_spec_free(d);
        rql_set_error(ENV_ENOMEM, "env_spec_clone: out of memory");
        return NULL;
    }
    return d;
}

/* Runs the world's check hook on the value just stored in slot i; a refusal
 * puts the previous value back. */
static int check_hook(env_spec *s, int i, const char *key, char *old_text, double old_num) {
    int rc = 0;
    if (i < s->cls->info->nparams && s->cls->check) rc = s->cls->check(s, key, s->ps.text[i]);
    if (rc < 0) {
        free(s->ps.text[i]);
        s->ps.text[i] = old_text;
        s->ps.num[i] = old_num;
        return rc;
    }
    free(old_text);
    return 0;
}

/* Sets slot i by text (value) or by typed value (v). */
static int spec_set(env_spec *s, const char *key, const char *value, const param_value *v) {
    if (!s || !key || (!value && !v)) return rql_set_error(ENV_EINVAL, "env_spec_set: NULL argument");
    int i = param_index(&s->ps, key);
    if (i < 0) return param_unknown(&s->ps, "world", s->cls->info->name, key);
    char *old = strdup(s->ps.text[i]);
    double old_num = s->ps.num[i];
    if (!old) return rql_set_error(ENV_ENOMEM, "env_spec_set: out of memory");
    int rc = value ? param_set_text(&s->ps, i, s->cls->info->name, value) : param_set_value(&s->ps, i, v);
    if (rc < 0) {
        free(old);
        return rc;
    }
    return check_hook(s, i, key, old, old_num);
}

int env_spec_set(env_spec *s, const char *key, const char *value) { return spec_set(s, key, value, NULL); }

int env_spec_set_value(env_spec *s, const char *key, const param_value *v) { return spec_set(s, key, NULL, v); }

const char *env_spec_get(const env_spec *s, const char *key) { return s ? param_text(&s->ps, key) : NULL; }

const char *env_spec_world(const env_spec *s) { return s ? s->cls->info->name : NULL; }

const char *env_spec_aux(const env_spec *s) { return s->aux; }

int env_spec_set_aux(env_spec *s, const char *text) {
    char *t = text ? strdup(text) : NULL;
    if (text && !t) return rql_set_error(ENV_ENOMEM, "env_spec_set_aux: out of memory");
    free(s->aux);
    s->aux = t;
    return 0;
}

long env_param_long(const env_spec *s, const char *key) { return (long)param_num(&s->ps, key); }

double env_param_real(const env_spec *s, const char *key) { return param_num(&s->ps, key); }

/* ---- seeds ------------------------------------------------------------------- */
/* SplitMix64 (Steele, Lea & Flood 2014; Vigna's reference constants): a
 * bijective mixer, so distinct (seed, index) pairs give unrelated streams
 * without any shared generator (GSL has no jump-ahead). */
uint64_t env_splitmix64(uint64_t x) {
    uint64_t z = x + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t env_seed(uint64_t seed, uint64_t index) { return env_splitmix64(env_splitmix64(seed) ^ index); }

/* gsl_rng_set takes an unsigned long, but taus2 keeps only 32 bits of it:
 * fold the hash so every bit of the 64-bit seed matters. */
static void rng_seed(gsl_rng *r, uint64_t seed) {
    uint64_t h = env_splitmix64(seed);
    gsl_rng_set(r, (unsigned long)((h ^ (h >> 32)) & 0xffffffffUL));
}

/* taus2 (L'Ecuyer 1999, maximally equidistributed Tausworthe): 24 bytes of
 * state and a few ns per draw; a vector of 4096 instances holds 96 KiB of
 * RNG state instead of 10 MiB for mt19937. */
#define ENV_RNG gsl_rng_taus2

/* ---- instances --------------------------------------------------------------- */
struct env {
    const env_class *cls;
    void *cfg;
    void *st;          /* dims.state_bytes */
    gsl_rng *rng;
    env_dims d;        /* obs_size includes prev_action's part */
    int wobs;          /* the world's part of an observation */
    int prev_action;
    double flicker, noise;
    int owner;         /* frees cfg and st (single instances; a vector owns them otherwise) */
};

/* action: the one just taken, or -1 for the first observation of an episode. */
static void wrap_obs(const env *e, float *o, int action) {
    if (e->noise > 0)
        for (int k = 0; k < e->wobs; k++) o[k] += (float)gsl_ran_gaussian_ziggurat(e->rng, e->noise);
    if (e->flicker > 0 && gsl_rng_uniform(e->rng) < e->flicker) memset(o, 0, sizeof(float) * (size_t)e->wobs);
    if (e->prev_action) {
        float *p = o + e->wobs;
        memset(p, 0, sizeof(float) * (size_t)(e->d.n_actions + 1));
        p[action < 0 ? 0 : action] = 1;
        p[e->d.n_actions] = action < 0;
    }
}

/* The world's dims -> an instance's: prev_action's part is appended. */
static void wrap_dims(env_dims *d, int *wobs, int prev_action) {
    *wobs = d->obs_size;
    if (prev_action) d->obs_size += d->n_actions + 1;
}

env *env_make(const env_spec *s) {
    if (!s) { rql_set_error(ENV_EINVAL, "env_make: NULL spec"); return NULL; }
    env *e = calloc(1, sizeof *e);
    if (!e) { rql_set_error(ENV_ENOMEM, "env_make: out of memory"); return NULL; }
    e->cls = s->cls;
    e->owner = 1;
    if (s->cls->make(s, &e->cfg, &e->d) < 0) { free(e); return NULL; }
    e->st = calloc(1, e->d.state_bytes);
    e->rng = gsl_rng_alloc(ENV_RNG);
    if (!e->st || !e->rng) { env_free(e); rql_set_error(ENV_ENOMEM, "env_make: out of memory"); return NULL; }
    e->flicker = env_param_real(s, "flicker");
    e->noise = env_param_real(s, "obs_noise");
    e->prev_action = env_param_long(s, "prev_action") != 0;
    wrap_dims(&e->d, &e->wobs, e->prev_action);
    return e;
}

void env_free(env *e) {
    if (!e || !e->owner) return;
    free(e->cfg);
    free(e->st);
    gsl_rng_free(e->rng);
    free(e);
}

int env_obs_size(const env *e) { return e->d.obs_size; }
int env_num_actions(const env *e) { return e->d.n_actions; }

const char *env_action_name(const env *e, int a) {
    if (a < 0 || a >= e->d.n_actions) return NULL;
    return e->cls->action_name(e->cfg, a);
}

int env_reset(env *e, uint64_t seed, float *obs) {
    rng_seed(e->rng, seed);
    return env_restart(e, obs);
}

int env_restart(env *e, float *obs) {
    e->cls->reset(e->cfg, e->st, e->rng, obs);
    wrap_obs(e, obs, -1);
    return 0;
}

int env_step(env *e, int action, float *obs, float *reward, uint8_t *terminated, uint8_t *truncated,
             uint8_t *success) {
    if (action < 0 || action >= e->d.n_actions)
        return rql_set_error(ENV_EINVAL, "%s: action %d out of range [0, %d]", e->cls->info->name, action,
                             e->d.n_actions - 1);
    int f = e->cls->step(e->cfg, e->st, e->rng, action, obs, reward);
    wrap_obs(e, obs, action);
    *terminated = (f & ENV_F_TERM) != 0;
    *truncated = (f & ENV_F_TRUNC) != 0;
    *success = (f & ENV_F_SUCCESS) != 0;
    return 0;
}

int env_render(const env *e, char *buf, size_t cap) {
    if (!buf || !cap) return rql_set_error(ENV_EINVAL, "env_render: no buffer");
    buf[0] = 0;
    return e->cls->render(e->cfg, e->st, buf, cap);
}

int env_signal_bits(const env *e, int *idx, int cap) {
    return e->cls->signal_bits ? e->cls->signal_bits(e->cfg, idx, cap) : 0;
}

/* State layout: a header (magic, world state bytes, RNG bytes), the world
 * state, the RNG state (gsl_rng_state: plain words for taus2). */
#define ENV_MAGIC 0x31564e45u   /* "ENV1" */
typedef struct { uint32_t magic, state_bytes, rng_bytes, obs_size; } state_hdr;

size_t env_state_bytes(const env *e) { return sizeof(state_hdr) + e->d.state_bytes + gsl_rng_size(e->rng); }

int env_save_state(const env *e, void *buf) {
    state_hdr h = {ENV_MAGIC, (uint32_t)e->d.state_bytes, (uint32_t)gsl_rng_size(e->rng), (uint32_t)e->d.obs_size};
    unsigned char *p = buf;
    memcpy(p, &h, sizeof h);
    memcpy(p + sizeof h, e->st, e->d.state_bytes);
    memcpy(p + sizeof h + e->d.state_bytes, gsl_rng_state(e->rng), gsl_rng_size(e->rng));
    return 0;
}

static int hdr_check(const state_hdr *h, const env *e, const char *what) {
    if (h->magic != ENV_MAGIC || h->state_bytes != e->d.state_bytes || h->rng_bytes != gsl_rng_size(e->rng) ||
        h->obs_size != (uint32_t)e->d.obs_size)
        return rql_set_error(ENV_EINVAL, "%s: saved state does not fit this %s (saved: magic %08x, %u state bytes, "
                             "%u RNG bytes, obs %u; this env: %zu, %zu, %d)", what, e->cls->info->name, h->magic,
                             h->state_bytes, h->rng_bytes, h->obs_size, e->d.state_bytes, gsl_rng_size(e->rng),
                             e->d.obs_size);
    return 0;
}

int env_load_state(env *e, const void *buf) {
    state_hdr h;
    const unsigned char *p = buf;
    memcpy(&h, p, sizeof h);
    int rc = hdr_check(&h, e, "env_load_state");
    if (rc < 0) return rc;
    memcpy(e->st, p + sizeof h, e->d.state_bytes);
    memcpy(gsl_rng_state(e->rng), p + sizeof h + e->d.state_bytes, gsl_rng_size(e->rng));
    return 0;
}

/* ---- vectors ----------------------------------------------------------------- */
/* Blocks of 256 instances are the unit of OpenMP work: their rows of the
 * uint8 flag arrays span whole cache lines, so threads never share a line.
 * A vector of fewer than ENV_PAR_BLOCKS blocks steps serially: a parallel
 * region costs a wake-up and a barrier (microseconds idle, a scheduler time
 * slice when another process holds a core), more than a few blocks of
 * nanosecond steps gain. */
#define ENV_BLOCK 256
#define ENV_PAR_BLOCKS 4

typedef struct {
    const env_class *cls;
    void *cfg;
    unsigned char *states;   /* [n, state_bytes] */
    env *inst;               /* [n] */
    gsl_rng **rngs;          /* [n] */
    uint64_t seed;
    int wrapped;             /* a wrapper is active: generic path */
} vec_priv;

void env_vec_free(env_vec *v) {
    if (!v) return;
    vec_priv *p = v->priv;
    if (p) {
        for (int i = 0; p->rngs && i < v->n; i++) gsl_rng_free(p->rngs[i]);
        free(p->rngs);
        free(p->cfg);
        free(p->states);
        free(p->inst);
        free(p);
    }
    free(v->envs);
    free(v->obs); free(v->final_obs); free(v->rewards); free(v->terminated); free(v->truncated);
    free(v->success); free(v->episode_start); free(v->ep_return); free(v->ep_length);
    free(v);
}

env_vec *env_vec_alloc(const env_spec *s, int n, uint64_t seed) {
    if (!s) { rql_set_error(ENV_EINVAL, "env_vec_alloc: NULL spec"); return NULL; }
    if (n < 1 || n > (1 << 24)) { rql_set_error(ENV_EINVAL, "env_vec_alloc: n = %d out of range [1, %d]", n, 1 << 24); return NULL; }
    env_vec *v = calloc(1, sizeof *v);
    vec_priv *p = calloc(1, sizeof *p);
    if (!v || !p) { free(v); free(p); rql_set_error(ENV_ENOMEM, "env_vec_alloc: out of memory"); return NULL; }
    v->priv = p;
    v->n = n;
    p->cls = s->cls;
    p->seed = seed;
    env_dims d;
    if (s->cls->make(s, &p->cfg, &d) < 0) { env_vec_free(v); return NULL; }
    int prev_action = env_param_long(s, "prev_action") != 0, wobs;
    wrap_dims(&d, &wobs, prev_action);
    v->obs_size = d.obs_size;
    v->n_actions = d.n_actions;
    size_t os = (size_t)d.obs_size * (size_t)n;
    p->states = calloc((size_t)n, d.state_bytes);
    p->inst = calloc((size_t)n, sizeof *p->inst);
    p->rngs = calloc((size_t)n, sizeof *p->rngs);
    v->envs = calloc((size_t)n, sizeof *v->envs);
    v->obs = calloc(os, sizeof(float));
    v->final_obs = calloc(os, sizeof(float));
    v->rewards = calloc((size_t)n, sizeof(float));
    v->terminated = calloc((size_t)n, 1);
    v->truncated = calloc((size_t)n, 1);
    v->success = calloc((size_t)n, 1);
    v->episode_start = calloc((size_t)n, 1);
    v->ep_return = calloc((size_t)n, sizeof(float));
    v->ep_length = calloc((size_t)n, sizeof(int));
    if (!p->states || !p->inst || !p->rngs || !v->envs || !v->obs || !v->final_obs || !v->rewards ||
        !v->terminated || !v->truncated || !v->success || !v->episode_start || !v->ep_return || !v->ep_length) {
        env_vec_free(v);
        rql_set_error(ENV_ENOMEM, "env_vec_alloc: out of memory for %d instances", n);
        return NULL;
    }
    double flicker = env_param_real(s, "flicker"), noise = env_param_real(s, "obs_noise");
    p->wrapped = flicker > 0 || noise > 0 || prev_action;
    for (int i = 0; i < n; i++) {
        if (!(p->rngs[i] = gsl_rng_alloc(ENV_RNG))) {
            env_vec_free(v);
            rql_set_error(ENV_ENOMEM, "env_vec_alloc: out of memory for %d RNGs", n);
            return NULL;
        }
        env *e = &p->inst[i];
        *e = (env){.cls = s->cls, .cfg = p->cfg, .st = p->states + (size_t)i * d.state_bytes, .rng = p->rngs[i],
                   .d = d, .wobs = wobs, .prev_action = prev_action, .flicker = flicker, .noise = noise,
                   .owner = 0};
        v->envs[i] = e;
    }
    if (env_vec_reset(v) < 0) { env_vec_free(v); return NULL; }
    return v;
}

int env_vec_reset(env_vec *v) {
    vec_priv *p = v->priv;
    size_t os = (size_t)v->obs_size;
    for (int i = 0; i < v->n; i++) {
        env_reset(&p->inst[i], env_seed(p->seed, (uint64_t)i), v->obs + i * os);
        v->rewards[i] = 0;
        v->terminated[i] = v->truncated[i] = v->success[i] = 0;
        v->episode_start[i] = 1;
        v->ep_return[i] = 0;
        v->ep_length[i] = 0;
    }
    return 0;
}

/* Any world, wrappers included: one indirect call per step. */
static void vec_block_generic(env_vec *v, vec_priv *p, const int *actions, int lo, int hi) {
    size_t os = (size_t)v->obs_size;
    for (int i = lo; i < hi; i++) {
        env *e = &p->inst[i];
        float *o = v->obs + i * os;
        if (v->episode_start[i]) { v->ep_return[i] = 0; v->ep_length[i] = 0; }
        float r;
        int f = p->cls->step(p->cfg, e->st, e->rng, actions[i], o, &r);
        wrap_obs(e, o, actions[i]);
        v->rewards[i] = r;
        v->ep_return[i] += r;
        v->ep_length[i]++;
        v->terminated[i] = (f & ENV_F_TERM) != 0;
        v->truncated[i] = (f & ENV_F_TRUNC) != 0;
        v->success[i] = (f & ENV_F_SUCCESS) != 0;
        v->episode_start[i] = (f & (ENV_F_TERM | ENV_F_TRUNC)) != 0;
        if (v->episode_start[i]) {
            memcpy(v->final_obs + i * os, o, os * sizeof(float));
            p->cls->reset(p->cfg, e->st, e->rng, o);
            wrap_obs(e, o, -1);
        }
    }
}

static void vec_block(env_vec *v, vec_priv *p, const int *actions, int lo, int hi) {
    if (p->cls->step_vec && !p->wrapped) {
        size_t os = (size_t)v->obs_size;
        env_rows rows = {v->obs + lo * os, v->final_obs + lo * os, v->rewards + lo, v->ep_return + lo,
                         v->terminated + lo, v->truncated + lo, v->success + lo, v->episode_start + lo,
                         v->ep_length + lo};
        p->cls->step_vec(p->cfg, p->states + (size_t)lo * p->inst[0].d.state_bytes, p->rngs + lo, actions + lo,
                         hi - lo, rows);
    } else {
        vec_block_generic(v, p, actions, lo, hi);
    }
}

int env_vec_step(env_vec *v, const int *actions) {
    vec_priv *p = v->priv;
    /* Check every action before touching any instance: a bad one leaves the
     * vector as it was. The OR-reduction vectorises; the search runs only on
     * failure. */
    unsigned bad = 0, na = (unsigned)v->n_actions;
    for (int i = 0; i < v->n; i++) bad |= (unsigned)actions[i] >= na;
    if (bad)
        for (int i = 0; i < v->n; i++)
            if ((unsigned)actions[i] >= na)
                return rql_set_error(ENV_EINVAL, "env_vec_step: action %d of instance %d out of range [0, %d] (%s)",
                                     actions[i], i, v->n_actions - 1, p->cls->info->name);
    int nb = (v->n + ENV_BLOCK - 1) / ENV_BLOCK;
    /* Instances are independent and each draws only from its own RNG, so the
     * split across threads cannot change any result. Blocks are handed out
     * one at a time (dynamic): when another process holds a core, the thread
     * that runs takes the blocks the preempted one would have waited on. */
#pragma omp parallel for schedule(dynamic, 1) if (nb >= ENV_PAR_BLOCKS)
    for (int b = 0; b < nb; b++) {
        int lo = b * ENV_BLOCK, hi = lo + ENV_BLOCK < v->n ? lo + ENV_BLOCK : v->n;
        vec_block(v, p, actions, lo, hi);
    }
    return 0;
}

/* Vector state: header, world states, RNG states, then every public row. */
typedef struct { uint32_t magic, n, obs_size, state_bytes, rng_bytes, pad; uint64_t seed; } vec_hdr;
#define VEC_MAGIC 0x31434556u   /* "VEC1" */

/* The vector's public rows, in the order its saved state holds them. */
typedef struct { void *p; size_t bytes; } vec_span;
enum { VEC_ROWS = 9 };
static void vec_rows(const env_vec *v, vec_span b[VEC_ROWS]) {
    size_t n = (size_t)v->n, os = (size_t)v->obs_size;
    const vec_span rows[VEC_ROWS] = {
        {v->obs, n * os * sizeof(float)}, {v->final_obs, n * os * sizeof(float)}, {v->rewards, n * sizeof(float)},
        {v->ep_return, n * sizeof(float)}, {v->ep_length, n * sizeof(int)}, {v->terminated, n},
        {v->truncated, n}, {v->success, n}, {v->episode_start, n}};
    memcpy(b, rows, sizeof rows);
}

size_t env_vec_state_bytes(const env_vec *v) {
    const vec_priv *p = v->priv;
    size_t n = (size_t)v->n, bytes = sizeof(vec_hdr) + n * p->inst[0].d.state_bytes + n * gsl_rng_size(p->rngs[0]);
    vec_span rows[VEC_ROWS];
    vec_rows(v, rows);
    for (int k = 0; k < VEC_ROWS; k++) bytes += rows[k].bytes;
    return bytes;
}

/* What follows the header, in order: world states, RNG states, rows;
 * copied into q (save) or out of it (load). */
static void vec_state_copy(const env_vec *v, unsigned char *q, int save) {
    const vec_priv *p = v->priv;
    size_t n = (size_t)v->n, sb = p->inst[0].d.state_bytes, rb = gsl_rng_size(p->rngs[0]);
#define XFER(ptr, bytes) (save ? memcpy(q, (ptr), (bytes)) : memcpy((ptr), q, (bytes)), q += (bytes))
    XFER(p->states, n * sb);
    for (size_t i = 0; i < n; i++) XFER(gsl_rng_state(p->rngs[i]), rb);
    vec_span rows[VEC_ROWS];
    vec_rows(v, rows);
    for (int k = 0; k < VEC_ROWS; k++) XFER(rows[k].p, rows[k].bytes);
#undef XFER
}

int env_vec_save_state(const env_vec *v, void *buf) {
    const vec_priv *p = v->priv;
    size_t n = (size_t)v->n, os = (size_t)v->obs_size, sb = p->inst[0].d.state_bytes, rb = gsl_rng_size(p->rngs[0]);
    vec_hdr h = {VEC_MAGIC, (uint32_t)n, (uint32_t)os, (uint32_t)sb, (uint32_t)rb, 0, p->seed};
    memcpy(buf, &h, sizeof h);
    vec_state_copy(v, (unsigned char *)buf + sizeof h, 1);
    return 0;
}

int env_vec_load_state(env_vec *v, const void *buf) {
    vec_priv *p = v->priv;
    size_t n = (size_t)v->n, os = (size_t)v->obs_size, sb = p->inst[0].d.state_bytes, rb = gsl_rng_size(p->rngs[0]);
    vec_hdr h;
    memcpy(&h, buf, sizeof h);
    if (h.magic != VEC_MAGIC || h.n != n || h.obs_size != os || h.state_bytes != sb || h.rng_bytes != rb)
        return rql_set_error(ENV_EINVAL, "env_vec_load_state: saved state does not fit this vector of %zu %s "
                             "(saved: magic %08x, n %u, obs %u, %u state bytes, %u RNG bytes; this vector: "
                             "obs %zu, %zu, %zu)", n, p->cls->info->name, h.magic, h.n, h.obs_size,
                             h.state_bytes, h.rng_bytes, os, sb, rb);
    p->seed = h.seed;
    vec_state_copy(v, (unsigned char *)buf + sizeof h, 0);   /* reads only: save = 0 */
    return 0;
}
