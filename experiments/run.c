/* run — one (agent, seed) run, resumable; all runs in parallel (see run.h). */
#define _GNU_SOURCE
#include "experiments/run.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log/ckpt.h"
#include "log/rlog.h"
#include "util/util.h"

/* Stream tags hashed with the run seed: the agent's RNG and the evaluation
 * vectors draw from streams that never coincide with the training envs'. */
#define AGENT_STREAM 0x6167656e74ULL   /* "agent" */
#define EVAL_STREAM  0x6576616cULL     /* "eval" */
#define SUCCESS_WINDOW 100             /* episodes in the displayed success rate */
#define EVAL_MAX_STEPS 1000000L        /* an evaluation that never ends is an error */

extern void openblas_set_num_threads(int);



/* ---- greedy evaluation ----------------------------------------------------- */

/* Recorded steps are kept per episode while the vector runs (its episodes
 * end at different steps) and written episode after episode at the end, so
 * each episode is a contiguous block of /steps rows. One row: obs, next_obs,
 * q, hidden, cell, then action, reward, terminated, truncated. */
typedef struct {
    int os, na, hs;
    size_t width;              /* floats per row */
    float **rows;              /* [rec_n] growable [len, width] */
    int *len, *cap;
} rec_buf;

static int rec_alloc(rec_buf *b, int n, int os, int na, int hs) {
    b->os = os; b->na = na; b->hs = hs;
    b->width = (size_t)(2 * os + na + 2 * hs + 4);
    b->rows = calloc((size_t)n, sizeof *b->rows);
    b->len = calloc((size_t)n, sizeof *b->len);
    b->cap = calloc((size_t)n, sizeof *b->cap);
    return b->rows && b->len && b->cap ? 0 : -1;
}

static void rec_free(rec_buf *b, int n) {
    for (int i = 0; b->rows && i < n; i++) free(b->rows[i]);
    free(b->rows);
    free(b->len);
    free(b->cap);
}

static int rec_push(rec_buf *b, int e, const float *obs, const float *next, const float *q, const float *h,
                    const float *c, int action, float reward, int term, int trunc) {
    if (b->len[e] == b->cap[e]) {
        int nc = b->cap[e] ? 2 * b->cap[e] : 64;
        float *r = realloc(b->rows[e], (size_t)nc * b->width * sizeof *r);
        if (!r) return -1;
        b->rows[e] = r;
        b->cap[e] = nc;
    }
    float *r = b->rows[e] + (size_t)b->len[e]++ * b->width;
    memcpy(r, obs, b->os * sizeof *r); r += b->os;
    memcpy(r, next, b->os * sizeof *r); r += b->os;
    memcpy(r, q, b->na * sizeof *r); r += b->na;
    for (int k = 0; k < b->hs; k++) r[k] = h ? h[k] : NAN;
    r += b->hs;
    for (int k = 0; k < b->hs; k++) r[k] = c ? c[k] : NAN;
    r += b->hs;
    r[0] = (float)action; r[1] = reward; r[2] = (float)term; r[3] = (float)trunc;
    return 0;
}

static int rec_write(const rec_buf *b, int n, rlog *log, int64_t base, int has_h, int has_c) {
    for (int e = 0; e < n; e++)
        for (int t = 0; t < b->len[e]; t++) {
            const float *r = b->rows[e] + (size_t)t * b->width;
            const float *x = r + 2 * b->os + b->na + 2 * b->hs;
            rlog_step_row st = {
                .episode = base + e, .t = t, .observation = r, .next_observation = r + b->os,
                .q = r + 2 * b->os, .hidden = has_h ? r + 2 * b->os + b->na : NULL,
                .cell = has_c ? r + 2 * b->os + b->na + b->hs : NULL,
                .action = (int32_t)x[0], .reward = x[1], .terminated = x[2] != 0, .truncated = x[3] != 0,
            };
            if (rlog_append_step(log, &st) < 0) return -1;
        }
    return 0;
}

int run_evaluate(agent *a, const env_spec *s, int episodes, uint64_t seed, double *success_rate,
                 double *return_mean, rlog *rec, int64_t rec_base, int rec_n, char *err, size_t cap) {
    if (rec_n > episodes) rec_n = episodes;
    if (!rec) rec_n = 0;
    env_vec *v = env_vec_alloc(s, episodes, seed);
    agent_actor *ac = v ? agent_actor_alloc(a, episodes) : NULL;
    int *actions = malloc((size_t)episodes * sizeof *actions);
    uint8_t *done = calloc((size_t)episodes, 1);
    size_t os = v ? (size_t)v->obs_size : 0;
    float *prev_obs = rec_n > 0 && v ? malloc((size_t)rec_n * os * sizeof *prev_obs) : NULL;
    rec_buf rb = {0};
    int rc = 0;
    if (!v || !ac || !actions || !done || (rec_n > 0 && (!prev_obs ||
        rec_alloc(&rb, rec_n, v->obs_size, ac->n_actions, ac->hidden_size)))) {
        rc = rql_failf(err, cap, "evaluation: cannot allocate %d envs (%s)", episodes, v ? rql_error() : rql_error());
        goto out;
    }
    if (env_vec_reset(v) < 0) { rc = rql_failf(err, cap, "evaluation: env reset: %s", rql_error()); goto out; }
    double sum_ret = 0;
    int n_done = 0, n_success = 0;
    /* Each env runs exactly one episode; rows that finished keep stepping
     * (their vector auto-resets) but are no longer counted or recorded. */
    for (long step = 0; n_done < episodes; step++) {
        if (step >= EVAL_MAX_STEPS) {
            rc = rql_failf(err, cap, "evaluation: %d of %d episodes still running after %ld steps (no time limit?)",
                       episodes - n_done, episodes, step);
            goto out;
        }
        if (agent_act(a, ac, v->obs, v->episode_start, 1, actions) < 0) {
            rc = rql_failf(err, cap, "evaluation: agent_act: %s", rql_error());
            goto out;
        }
        if (rec_n > 0) memcpy(prev_obs, v->obs, (size_t)rec_n * os * sizeof *prev_obs);
        if (env_vec_step(v, actions) < 0) { rc = rql_failf(err, cap, "evaluation: env step: %s", rql_error()); goto out; }
        for (int i = 0; i < episodes; i++) {
            if (done[i]) continue;
            int end = v->terminated[i] || v->truncated[i];
            if (i < rec_n) {
                size_t hs = (size_t)ac->hidden_size;
                if (rec_push(&rb, i, prev_obs + i * os, (end ? v->final_obs : v->obs) + i * os,
                             ac->q + (size_t)i * ac->n_actions, ac->hidden ? ac->hidden + i * hs : NULL,
                             ac->cell ? ac->cell + i * hs : NULL, actions[i], v->rewards[i],
                             v->terminated[i], v->truncated[i])) {
                    rc = rql_failf(err, cap, "evaluation: out of memory recording episode %d", i);
                    goto out;
                }
            }
            if (end) {
                done[i] = 1;
                n_done++;
                n_success += v->success[i] != 0;
                sum_ret += v->ep_return[i];
            }
        }
    }
    if (rec_n > 0 && rec_write(&rb, rec_n, rec, rec_base, ac->hidden != NULL, ac->cell != NULL)) {
        rc = rql_failf(err, cap, "%s", rql_error());
        goto out;
    }
    *success_rate = (double)n_success / episodes;
    *return_mean = sum_ret / episodes;
out:
    if (rec_n > 0) rec_free(&rb, rec_n);
    free(prev_obs);
    free(done);
    free(actions);
    agent_actor_free(ac);
    env_vec_free(v);
    return rc;
}

/* ---- one run ---------------------------------------------------------------- */

/* Counters of a run, all saved in the checkpoint. Every cadence is decided
 * on these, never on wall time, so a resumed run takes the same decisions. */
typedef struct {
    int64_t vsteps;          /* vector steps */
    int64_t env_steps;
    int64_t episodes;
    int64_t evals;           /* evaluations done */
    int64_t rec_episodes;    /* episodes recorded in /steps so far */
    int64_t next_eval, next_ckpt, next_weights;
    int64_t train_mark;      /* updates / log.train_every at the last /train row */
    double wall_prev;        /* wall seconds spent before this session */
    double final_success, final_return;
} counters;

#define CF(m) {#m, offsetof(counters, m)}
static const struct { const char *name; size_t off; } counter_fields[] = {
    CF(vsteps), CF(env_steps), CF(episodes), CF(evals), CF(rec_episodes),
    CF(next_eval), CF(next_ckpt), CF(next_weights), CF(train_mark),
};
#undef CF
#define NCOUNTERS ((int)(sizeof counter_fields / sizeof counter_fields[0]))
#define COUNTER(k, i) ((int64_t *)((char *)(k) + counter_fields[i].off))

typedef struct {
    const rql_config *c;
    const rql_run_spec *r;
    const run_opts *o;
    char *text;              /* resolved config of this run */
    env_vec *v;
    agent *ag;
    agent_actor *ac;
    rlog *log;
    int *actions;            /* [n] */
    float *next_obs;         /* [n, obs] */
    uint8_t *recent;         /* [SUCCESS_WINDOW] successes for the display */
    void *block;             /* actions, next_obs and recent: one allocation */
    int nrecent, recent_pos;
    counters k;
    double t0;               /* start of this session */
    double last_flush, last_prog;
    int64_t steps_at_prog;
} run_state;

static int save_ckpt(run_state *s, int done, char *err, size_t cap) {
    if (rlog_flush(s->log) < 0) return rql_failf(err, cap, "%s", rql_error());
    ckpt_writer w;
    if (ckpt_begin(&w, s->r->ckpt_path, err, cap)) return -1;
    int rc = 0;
    hid_t run = H5Gcreate2(w.file, "run", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t ag = H5Gcreate2(w.file, "agent", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (run < 0 || ag < 0) rc = rql_failf(err, cap, "%s: cannot create groups", w.tmp);
    for (int i = 0; !rc && i < NCOUNTERS; i++)
        if (ckpt_put_i64(run, counter_fields[i].name, *COUNTER(&s->k, i))) rc = rql_failf(err, cap, "%s: cannot write /run", w.tmp);
    double wall = s->k.wall_prev + (rql_now_s() - s->t0);
    if (!rc && (ckpt_put_f64(run, "wall_s", wall) || ckpt_put_f64(run, "final_success", s->k.final_success) ||
                ckpt_put_f64(run, "final_return", s->k.final_return) || ckpt_put_i64(run, "done", done) ||
                ckpt_put_i64(run, "seed", s->r->seed) || ckpt_put_str(run, "label", s->c->agents[s->r->agent].label) ||
                ckpt_put_str(run, "config", s->text)))
        rc = rql_failf(err, cap, "%s: cannot write /run attributes", w.tmp);
    if (!rc) {
        rlog_counts n;
        rlog_get_counts(s->log, &n);
        if (ckpt_put_bytes(run, "log_counts", &n, sizeof n)) rc = rql_failf(err, cap, "%s: cannot write log counts", w.tmp);
    }
    if (!rc) {
        size_t nb = env_vec_state_bytes(s->v);
        void *buf = malloc(nb ? nb : 1);
        if (!buf || env_vec_save_state(s->v, buf) < 0 || ckpt_put_bytes(run, "env_vec", buf, nb))
            rc = rql_failf(err, cap, "%s: cannot save the env vector: %s", w.tmp, buf ? rql_error() : "out of memory");
        free(buf);
    }
    if (!rc && ckpt_put_agent(ag, s->ag, s->ac) < 0)
        rc = rql_failf(err, cap, "%s: cannot save the agent: %s", w.tmp, rql_error());
    if (ag >= 0) H5Gclose(ag);
    if (run >= 0) H5Gclose(run);
    if (rc) { ckpt_abort(&w); return rc; }
    return ckpt_commit(&w, err, cap);
}

/* Restore from the checkpoint; the log is reopened truncated to the rows it
 * had when the checkpoint was written. *done is set for a finished run.
 * Returns 0, -1, or LOG_UNUSABLE: the checkpoint is good but the log cannot
 * be cut back to it (missing, or torn by a kill past what HDF5 can repair). */
enum { LOG_UNUSABLE = -2 };
static int load_ckpt(run_state *s, int *done, char *err, size_t cap) {
    hid_t f = ckpt_open(s->r->ckpt_path, err, cap);
    if (f < 0) return -1;
    int rc = 0;
    hid_t run = -1, ag = -1;
    H5E_BEGIN_TRY {
        run = H5Gopen2(f, "run", H5P_DEFAULT);
        ag = H5Gopen2(f, "agent", H5P_DEFAULT);
    } H5E_END_TRY;
    char *text = run >= 0 ? ckpt_get_str(run, "config") : NULL;
    int64_t d = 0;
    if (run < 0 || ag < 0 || !text) rc = rql_failf(err, cap, "%s: checkpoint lacks /run or /agent", s->r->ckpt_path);
    else if (strcmp(text, s->text))
        rc = rql_failf(err, cap, "%s: the checkpoint was written with a different config; "
                             "rerun without --resume (with --force) or restore the config", s->r->ckpt_path);
    for (int i = 0; !rc && i < NCOUNTERS; i++)
        if (ckpt_get_i64(run, counter_fields[i].name, COUNTER(&s->k, i)))
            rc = rql_failf(err, cap, "%s: /run lacks '%s'", s->r->ckpt_path, counter_fields[i].name);
    if (!rc && (ckpt_get_f64(run, "wall_s", &s->k.wall_prev) || ckpt_get_i64(run, "done", &d) ||
                ckpt_get_f64(run, "final_success", &s->k.final_success) ||
                ckpt_get_f64(run, "final_return", &s->k.final_return)))
        rc = rql_failf(err, cap, "%s: /run lacks wall_s, done or final results", s->r->ckpt_path);
    rlog_counts n;
    if (!rc && ckpt_get_bytes(run, "log_counts", &n, sizeof n))
        rc = rql_failf(err, cap, "%s: /run/log_counts missing or of another size", s->r->ckpt_path);
    if (!rc) {
        size_t nb = env_vec_state_bytes(s->v);
        void *buf = malloc(nb ? nb : 1);
        if (!buf || ckpt_get_bytes(run, "env_vec", buf, nb))
            rc = rql_failf(err, cap, "%s: /run/env_vec missing or not %zu bytes", s->r->ckpt_path, nb);
        else if (env_vec_load_state(s->v, buf) < 0)
            rc = rql_failf(err, cap, "%s: env state: %s", s->r->ckpt_path, rql_error());
        free(buf);
    }
    if (!rc && ckpt_get_agent(ag, s->ag, s->ac) < 0)
        rc = rql_failf(err, cap, "%s: agent: %s", s->r->ckpt_path, rql_error());
    free(text);
    if (ag >= 0) H5Gclose(ag);
    if (run >= 0) H5Gclose(run);
    H5Fclose(f);
    if (rc) return rc;
    *done = (int)d;
    if (*done) return 0;
    s->log = rlog_reopen(s->r->log_path, &n);
    if (!s->log) return rql_failf(err, cap, "%s", rql_error()), LOG_UNUSABLE;
    return 0;
}

static void report(run_state *s, progress_state st, int force) {
    if (!s->o->prog || !s->ag) return;
    double t = rql_now_s();
    if (!force && t - s->last_prog < 0.25) return;
    agent_stats as;
    agent_get_stats(s->ag, &as);
    progress_row row = {
        .state = st, .episodes = s->k.episodes, .env_steps = s->k.env_steps,
        .epsilon = as.epsilon, .eval_success = s->k.evals ? s->k.final_success : NAN,
    };
    double f1 = s->c->train_episodes ? (double)s->k.episodes / s->c->train_episodes : 0;
    double f2 = s->c->train_steps ? (double)s->k.env_steps / s->c->train_steps : 0;
    row.frac = fmin(1.0, fmax(f1, f2));
    int ns = 0;
    for (int i = 0; i < s->nrecent; i++) ns += s->recent[i];
    row.success = s->nrecent ? (double)ns / s->nrecent : 0;
    if (t > s->last_prog && s->last_prog > 0) row.steps_per_s = (s->k.env_steps - s->steps_at_prog) / (t - s->last_prog);
    s->last_prog = t;
    s->steps_at_prog = s->k.env_steps;
    progress_update(s->o->prog, s->o->prog_index, &row);
}

static int eval_now(run_state *s, int final, char *err, size_t cap) {
    const rql_config *c = s->c;
    /* Record when the cadence says so, and always at the final evaluation
     * when record_every is 0. */
    int rec = 0;
    if (c->eval_record > 0) {
        if (c->eval_record_every > 0) rec = s->k.evals % c->eval_record_every == 0;
        else rec = final;
    }
    uint64_t seed = env_seed(env_seed((uint64_t)s->r->seed, EVAL_STREAM), (uint64_t)s->k.evals);
    double sr, rm;
    if (run_evaluate(s->ag, c->env, c->eval_episodes, seed, &sr, &rm, s->log, s->k.rec_episodes,
                     rec ? c->eval_record : 0, err, cap))
        return -1;
    if (rec) s->k.rec_episodes += c->eval_record;
    rlog_eval_row e = {.at_episode = s->k.episodes, .env_steps = s->k.env_steps, .return_mean = rm,
                       .success_rate = sr, .episodes = c->eval_episodes};
    if (rlog_append_eval(s->log, &e) < 0) return rql_failf(err, cap, "%s", rql_error());
    s->k.evals++;
    s->k.final_success = sr;
    s->k.final_return = rm;
    return 0;
}

static int snapshot(run_state *s, char *err, size_t cap) {
    const net *n = agent_net(s->ag);
    if (!n) return 0;              /* qtable: no network to snapshot */
    if (rlog_append_weights(s->log, s->k.episodes, n) < 0) return rql_failf(err, cap, "%s", rql_error());
    return 0;
}

static int budget_left(const run_state *s) {
    const rql_config *c = s->c;
    if (c->train_steps && s->k.env_steps >= c->train_steps) return 0;
    if (c->train_episodes && s->k.episodes >= c->train_episodes) return 0;
    return 1;
}

int run_step(agent *a, agent_actor *ac, env_vec *v, int *actions, float *next_obs, char *err, size_t cap) {
    if (agent_act(a, ac, v->obs, v->episode_start, 0, actions) < 0)
        return rql_failf(err, cap, "agent_act: %s", rql_error());
    if (env_vec_step(v, actions) < 0) return rql_failf(err, cap, "env step: %s", rql_error());
    /* The agent learns from the true next observation: the final one where an
     * episode ended (obs already holds the next episode's first). */
    size_t os = (size_t)v->obs_size;
    for (int i = 0; i < v->n; i++) {
        const float *src = v->terminated[i] || v->truncated[i] ? v->final_obs : v->obs;
        memcpy(next_obs + i * os, src + i * os, os * sizeof(float));
    }
    if (agent_observe(a, ac, v->rewards, v->terminated, v->truncated, next_obs) < 0)
        return rql_failf(err, cap, "agent_observe: %s", rql_error());
    return 0;
}

/* One vector step of training and everything due after it. */
static int train_step(run_state *s, char *err, size_t cap) {
    const rql_config *c = s->c;
    env_vec *v = s->v;
    if (run_step(s->ag, s->ac, v, s->actions, s->next_obs, err, cap)) return -1;
    s->k.vsteps++;
    s->k.env_steps += v->n;
    agent_stats as;
    agent_get_stats(s->ag, &as);
    if (!isfinite(as.loss) && as.updates > 0)
        return rql_failf(err, cap, "training diverged: loss is %g after %ld updates", as.loss, as.updates);
    double wall = s->k.wall_prev + (rql_now_s() - s->t0);
    for (int i = 0; i < v->n; i++) {
        if (!v->terminated[i] && !v->truncated[i]) continue;
        rlog_curve_row row = {.episode = s->k.episodes, .env_steps = s->k.env_steps, .ret = v->ep_return[i],
                              .length = v->ep_length[i], .success = v->success[i] != 0,
                              .epsilon = as.epsilon, .wall_s = wall};
        if (rlog_append_curve(s->log, &row) < 0) return rql_failf(err, cap, "%s", rql_error());
        s->k.episodes++;
        s->recent[s->recent_pos] = v->success[i] != 0;
        s->recent_pos = (s->recent_pos + 1) % SUCCESS_WINDOW;
        if (s->nrecent < SUCCESS_WINDOW) s->nrecent++;
    }
    if (c->log_train_every > 0 && as.updates / c->log_train_every > s->k.train_mark) {
        s->k.train_mark = as.updates / c->log_train_every;
        rlog_train_row row = {.update = as.updates, .loss = as.loss, .q_mean = as.q_mean, .grad_norm = as.grad_norm};
        if (rlog_append_train(s->log, &row) < 0) return rql_failf(err, cap, "%s", rql_error());
    }
    /* The step that exhausts the budget always evaluates (the final,
     * recorded evaluation) and snapshots the final weights. */
    int last = !budget_left(s);
    int due = c->eval_every > 0 && s->k.episodes >= s->k.next_eval;
    while (c->eval_every > 0 && s->k.next_eval <= s->k.episodes) s->k.next_eval += c->eval_every;
    if ((due || last) && eval_now(s, last, err, cap)) return -1;
    due = c->log_weights_every > 0 && s->k.episodes >= s->k.next_weights;
    while (c->log_weights_every > 0 && s->k.next_weights <= s->k.episodes) s->k.next_weights += c->log_weights_every;
    if ((due || last) && snapshot(s, err, cap)) return -1;
    return 0;
}

static void free_state(run_state *s) {
    if (s->log) rlog_close(s->log);
    agent_actor_free(s->ac);
    agent_free(s->ag);
    env_vec_free(s->v);
    free(s->block);
    free(s->text);
}

/* ---- whose log, and who writes it -------------------------------------------- */

int run_log_replaceable(const char *log_path, const char *text, long seed, char *err, size_t cap) {
    struct stat st;
    if (lstat(log_path, &st) != 0) return errno == ENOENT ? 1 : rql_failf(err, cap, "%s: %s", log_path, strerror(errno)) + 1;
    rlog_file *f = rlog_file_open(log_path);
    if (!f)
        return rql_failf(err, cap, "%s exists and cannot be read to check that it is a log of this run (%s); "
                         "--force starts it over", log_path, rql_error()) + 1;
    char *config = NULL;
    int64_t sd = 0;
    int rc = 1;
    if (rlog_attr_str(f, "config", &config) || rlog_attr_i64(f, "seed", &sd))
        rc = rql_failf(err, cap, "%s exists and has no config or seed attribute to check it against this run; "
                       "--force starts it over", log_path) + 1;
    else if (strcmp(config, text) || sd != seed)
        rc = rql_failf(err, cap, "%s is a log of another %s; it is not replaced: --force starts it over, or "
                       "restore the config it was made with", log_path, sd != seed ? "seed" : "config") + 1;
    free(config);
    rlog_file_close(f);
    return rc;
}

int run_lock(const char *log_path, char *err, size_t cap) {
    char *path = NULL;
    if (asprintf(&path, "%s.lock", log_path) < 0) return rql_failf(err, cap, "%s: out of memory", log_path);
    int fd = -1;
    /* Lock, then check that the name still leads to the locked file: a
     * holder that finished may have unlinked it between our open and flock. */
    for (int tries = 0; tries < 8; tries++) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) break;
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            char pid[32] = {0};
            ssize_t k = pread(fd, pid, sizeof pid - 1, 0);
            close(fd);
            free(path);
            if (e == EWOULDBLOCK) {
                long who = k > 0 ? strtol(pid, NULL, 10) : 0;
                if (who > 0)
                    return rql_failf(err, cap, "%s is in use by process %ld (another rql writing this run)", log_path, who);
                return rql_failf(err, cap, "%s is in use by another process (another rql writing this run)", log_path);
            }
            return rql_failf(err, cap, "%s.lock: flock: %s", log_path, strerror(e));
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            char pid[32];
            int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) { /* the pid is only a courtesy */ }
            free(path);
            return fd;
        }
        close(fd);
        fd = -1;
    }
    int e = errno;
    free(path);
    return rql_failf(err, cap, "%s.lock: cannot create the lock file: %s", log_path, e ? strerror(e) : "it keeps changing");
}

void run_unlock(const char *log_path, int fd) {
    if (fd < 0) return;
    char *path = NULL;
    if (asprintf(&path, "%s.lock", log_path) >= 0) {
        unlink(path);            /* while still held: see run_lock */
        free(path);
    }
    close(fd);
}

/* run_attempt's answer when --resume found a checkpoint whose log cannot be
 * cut back to it: the run's files are removed, res->err says why, and
 * run_execute starts the run over. */
enum { RUN_RESTART = -2 };

static int run_attempt(const rql_config *c, const rql_run_spec *r, const run_opts *o, run_result *res);

int run_execute(const rql_config *c, const rql_run_spec *r, const run_opts *o, run_result *res) {
    memset(res, 0, sizeof *res);
    res->status = RUN_FAILED;
    int fd = run_lock(r->log_path, res->err, sizeof res->err);
    if (fd < 0) return res->status;
    int st = run_attempt(c, r, o, res);
    if (st == RUN_RESTART) {
        char why[sizeof res->restart_why];
        snprintf(why, sizeof why, "%s", res->err);
        run_opts fresh = *o;
        fresh.resume = 0;
        st = run_attempt(c, r, &fresh, res);
        res->restarted = 1;
        snprintf(res->restart_why, sizeof res->restart_why, "%s", why);
    }
    run_unlock(r->log_path, fd);
    return st;
}

/* One attempt at run r under its lock: from the checkpoint (o->resume) or
 * from the start, to the end of its budget. Returns res->status, or
 * RUN_RESTART. */
static int run_attempt(const rql_config *c, const rql_run_spec *r, const run_opts *o, run_result *res) {
    memset(res, 0, sizeof *res);
    res->status = RUN_FAILED;
    /* Error stacks are per thread in a thread-safe HDF5: silence this one;
     * every failure is reported through err with the file at fault. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    char *err = res->err;
    size_t cap = sizeof res->err;
    run_state s = {.c = c, .r = r, .o = o, .t0 = rql_now_s()};
    s.k.final_success = s.k.final_return = NAN;
    s.k.next_eval = c->eval_every;
    s.k.next_ckpt = c->ckpt_every;
    s.k.next_weights = c->log_weights_every;
    const rql_agent_def *ad = &c->agents[r->agent];
    uint64_t seed = (uint64_t)r->seed;
    int rc = 0, done = 0;

    s.text = rql_config_run_text(c, r->agent, r->seed);
    s.v = env_vec_alloc(c->env, c->n_envs, seed);
    if (!s.text || !s.v) { rql_failf(err, cap, "%s: cannot create the env: %s", r->log_path, rql_error()); goto out; }
    s.ag = agent_alloc(ad->cfg, s.v->obs_size, s.v->n_actions, c->n_envs, env_seed(seed, AGENT_STREAM));
    s.ac = s.ag ? agent_actor_alloc(s.ag, c->n_envs) : NULL;
    if (!s.ag || !s.ac) { rql_failf(err, cap, "%s: cannot create agent %s: %s", r->log_path, ad->label, rql_error()); goto out; }
    const size_t bytes[] = {(size_t)c->n_envs * sizeof *s.actions,
                            (size_t)c->n_envs * s.v->obs_size * sizeof *s.next_obs, SUCCESS_WINDOW};
    void *v[3];
    if (!(s.block = rql_alloc_views(3, bytes, v))) { rql_failf(err, cap, "out of memory"); goto out; }
    s.actions = v[0], s.next_obs = v[1], s.recent = v[2];

    struct stat st;
    if (o->resume && stat(r->ckpt_path, &st) == 0) {
        int lc = load_ckpt(&s, &done, err, cap);
        if (lc == LOG_UNUSABLE) {
            /* A run is a function of its config and seed, so starting it
             * over gives the log an uninterrupted run writes; only the work
             * since the start is lost, not the run. */
            char why[sizeof res->err];
            snprintf(why, sizeof why, "%s", err);
            /* The checkpoint (its digest verified, its config this run's)
             * vouches for a log too torn to open; a log that opens must
             * itself be of this config and seed to be replaced. */
            rlog_file *lf = rlog_file_open(r->log_path);
            rlog_file_close(lf);
            if (lf && run_log_replaceable(r->log_path, s.text, r->seed, err, cap) != 1) goto out;
            free_state(&s);
            unlink(r->log_path);
            unlink(r->ckpt_path);
            snprintf(err, cap, "%s", why);
            return RUN_RESTART;
        }
        if (lc) goto out;
        if (done) {
            /* A writer killed between its final checkpoint and closing the
             * log leaves every row flushed but the status "running": mark it. */
            int k = run_log_complete(r->log_path, s.text, err, cap);
            if (k < 0) goto out;           /* damaged, or another config's: said in err */
            if (k == 0) {
                s.log = rlog_open_append(r->log_path);
                if (!s.log) { rql_failf(err, cap, "%s", rql_error()); goto out; }
                rlog_set_complete(s.log);
            }
            err[0] = 0;
            res->status = RUN_SKIPPED;
            goto finish;
        }
        res->resumed = 1;
    } else {
        /* --resume without a checkpoint starts the run over, but never over
         * a log of another config or seed, nor one it cannot read. */
        if (o->resume && run_log_replaceable(r->log_path, s.text, r->seed, err, cap) != 1) goto out;
        if (env_vec_reset(s.v) < 0) { rql_failf(err, cap, "env reset: %s", rql_error()); goto out; }
        rlog_meta m = {.seed = r->seed, .env = env_spec_world(c->env), .agent = agent_cfg_type(ad->cfg),
                       .label = ad->label, .config = s.text, .sweep = c->cell, .obs_size = s.v->obs_size,
                       .n_actions = s.v->n_actions, .hidden_size = s.ac->hidden_size, .net = agent_net(s.ag),
                       .q_head = agent_q_head(s.ag)};
        unlink(r->ckpt_path);       /* a fresh start must not leave an older run's checkpoint beside it */
        s.log = rlog_create(r->log_path, &m);
        if (!s.log) { rql_failf(err, cap, "%s", rql_error()); goto out; }
    }
    report(&s, PROG_RUNNING, 1);
    s.last_flush = rql_now_s();
    while (budget_left(&s)) {
        if ((o->stop && *o->stop) || (o->stop_after_steps && s.k.vsteps >= o->stop_after_steps)) {
            if (save_ckpt(&s, 0, err, cap)) goto out;
            res->status = RUN_STOPPED;
            goto finish;
        }
        if (train_step(&s, err, cap)) goto out;
        if (c->ckpt_every > 0 && s.k.episodes >= s.k.next_ckpt && budget_left(&s)) {
            while (s.k.next_ckpt <= s.k.episodes) s.k.next_ckpt += c->ckpt_every;
            if (save_ckpt(&s, 0, err, cap)) goto out;
        }
        double t = rql_now_s();
        if (t - s.last_flush >= c->log_flush_s) {
            if (rlog_flush(s.log) < 0) { rql_failf(err, cap, "%s", rql_error()); goto out; }
            s.last_flush = t;
        }
        report(&s, PROG_RUNNING, 0);
        if (o->poll) o->poll(o->poll_arg);
    }
    /* The last step ran the final evaluation and snapshot; the checkpoint
     * marked done is what `rql eval` loads and --resume skips. */
    if (save_ckpt(&s, 1, err, cap)) goto out;
    rlog_set_complete(s.log);
    res->status = RUN_FINISHED;
finish:
    if (s.log) {
        rc = rlog_close(s.log);
        s.log = NULL;
        if (rc < 0) { rql_failf(err, cap, "%s", rql_error()); res->status = RUN_FAILED; }
    }
out:
    if (res->status == RUN_FAILED && !err[0]) rql_failf(err, cap, "%s: failed", r->log_path);
    if (res->status == RUN_FAILED) rlog_set_failed(s.log, err);   /* status "failed" at close */
    res->episodes = s.k.episodes;
    res->env_steps = s.k.env_steps;
    res->wall_s = s.k.wall_prev + (rql_now_s() - s.t0);
    res->final_success = s.k.final_success;
    res->final_return = s.k.final_return;
    if (s.ag) {
        agent_stats as;
        agent_get_stats(s.ag, &as);
        res->updates = as.updates;
    }
    report(&s, res->status == RUN_FINISHED ? PROG_DONE : res->status == RUN_SKIPPED ? PROG_SKIPPED
                 : res->status == RUN_STOPPED ? PROG_STOPPED : PROG_FAILED, 1);
    free_state(&s);
    return res->status;
}

int run_log_complete(const char *log_path, const char *text, char *err, size_t cap) {
    struct stat st;
    if (stat(log_path, &st) != 0) return 0;
    rlog_file *f = rlog_file_open(log_path);
    if (!f) return 0;                  /* torn or foreign: the run starts over */
    char *status = NULL, *config = NULL;
    int rc = 0;
    if (rlog_attr_str(f, "status", &status) == 0 && !strcmp(status, "complete")) {
        rc = 1;
        if (rlog_attr_str(f, "config", &config) || strcmp(config, text))
            rc = rql_failf(err, cap, "%s: a finished run of another config; remove it (or use --force) to run this "
                                 "config, or restore the config it was made with", log_path);
        /* a finished run is kept only if every row of it still reads back */
        else if (rlog_verify(log_path))
            rc = rql_failf(err, cap, "%s; --force starts the run over", rql_error());
    }
    free(status);
    free(config);
    rlog_file_close(f);
    return rc;
}

int run_all(const rql_config *c, const rql_run_spec *runs, int n, int threads, const run_opts *o,
            run_result *res) {
    if (threads <= 0) threads = omp_get_max_threads();
    if (threads > n) threads = n;
    /* One run per thread, each run's envs stepped on that thread: OpenBLAS
     * single-threaded and no nested OpenMP, so the pools never fight. */
    openblas_set_num_threads(1);
    int nested = omp_get_max_active_levels();
    if (threads > 1) omp_set_max_active_levels(1);
    int failed = 0;
    #pragma omp parallel for num_threads(threads) schedule(dynamic, 1) reduction(+ : failed)
    for (int i = 0; i < n; i++) {
        run_opts mine = *o;
        mine.prog_index = i;
        if (o->stop && *o->stop) {
            memset(&res[i], 0, sizeof res[i]);
            res[i].status = RUN_STOPPED;
            snprintf(res[i].err, sizeof res[i].err, "not started");
            continue;
        }
        failed += run_execute(c, &runs[i], &mine, &res[i]) == RUN_FAILED;
    }
    omp_set_max_active_levels(nested);
    return failed;
}
