/* rql bench train — end-to-end DRQN training throughput against the
 * machine's sgemm, and where the wall clock goes.
 *
 * Two fixed configurations (the drqn defaults otherwise: Adam lr 1e-2,
 * gamma 0.98, 3-step double-Q Huber targets, grad clip 10, hard target copy
 * every 100 updates, warmup 500 env steps, replay 50000 env steps, epsilon
 * 1 -> 0.05 over 10000 env steps):
 *   small   T-maze N = 10 (time limit 110), LSTM 32, 8 envs, batch 16 whole
 *           episodes (max_len 256), one update per 8 env steps
 *   large   T-maze N = 50 (time limit 510), LSTM 128, 8 envs, batch 32
 *           chunks of 64 train steps (+ 3 lookahead), one update per 8 env
 *           steps
 * Each trains for a fixed number of env steps on one thread (--threads: more,
 * e.g. 2 to run the target and online forward passes side by side), the way
 * `rql train` does (act, vector step, observe, one /curves row per finished
 * episode and one /train row per 10 updates in an HDF5 log under /tmp), and
 * prints env steps/s, updates/s, the FLOPs of the updates and of acting,
 * the GFLOP/s achieved and their ratio to a 512^3 sgemm measured in the same
 * run, and the share of time in acting, env stepping, replay (storing
 * and sampling), the update's forward, backward and optimizer, and logging.
 *
 * FLOPs are counted as `rql bench nets` counts them: 2 per multiply-add of
 * the matrix products, forward in*G*units (+ units*G*units recurrent) per
 * row and layer, backward dW of every layer, dx of every layer but the
 * first, and dh through time. Rows are the valid steps (batch rows x their
 * lengths; padding is not counted): an update's forward passes are the
 * target's and the online net's (and burn-in), its backward one pass;
 * acting is one row per env per vector step. Timers sit at phase boundaries
 * (util/prof.h) and cost nothing outside this benchmark. Each configuration
 * runs --repeats times (seeds 0, 1, ...); the figures are the median run's
 * with the range over runs. Times are the thread's CPU time (util/prof.h),
 * the wall clock printed beside them: on a shared machine other processes
 * stretch the wall clock, not the CPU time, and the GFLOP/s and shares are
 * of CPU time (on an idle machine the two agree). */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "agents/agent.h"
#include "bench/bench.h"
#include "envs/env.h"
#include "log/rlog.h"
#include "util/prof.h"

typedef struct {
    const char *name, *what;
    const char *env_kv[4];
    const char *agent_kv[16];
    int n_envs;
    long steps;
} train_case;

static const train_case cases[] = {
    {"small", "T-maze N=10, LSTM 32, 8 envs, batch 16 episodes, 1 update / 8 env steps",
     {"length", "10", NULL},
     {"cell", "lstm", "hidden", "32", "batch", "16", "seq_mode", "episode", "updates_per_step", "0.125", NULL},
     8, 40000},
    {"large", "T-maze N=50, LSTM 128, 8 envs, batch 32 x 64-step chunks, 1 update / 8 env steps",
     {"length", "50", NULL},
     {"cell", "lstm", "hidden", "128", "batch", "32", "seq_mode", "chunk", "chunk", "64", "updates_per_step",
      "0.125", NULL},
     8, 2000},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

/* FLOPs per row of a forward and of a backward pass of net n. */
static void net_flops(const net *n, double *fwd, double *bwd) {
    *fwd = *bwd = 0;
    for (int l = 0; l < n->nlayers; l++) {
        const net_layer *L = &n->layers[l];
        int gu = (L->kind == LAYER_LSTM ? 4 : L->kind == LAYER_GRU ? 3 : 1) * L->units;
        double in = (double)L->in * gu, rec = L->kind == LAYER_DENSE ? 0 : (double)L->units * gu;
        *fwd += 2 * (in + rec);
        *bwd += 2 * (in + (l > 0 ? in : 0) + 2 * rec);
    }
}

typedef struct {
    double wall, cpu, sps, sps_cpu, ups, flop_upd, flop_act;
    long env_steps, updates, episodes;
    rql_prof prof;
} train_result;

static int train_once(const train_case *tc, uint64_t seed, long steps, int log_on, int wall, train_result *res) {
    memset(res, 0, sizeof *res);
    res->prof.wall = wall;
    env_spec *s = env_spec_alloc("tmaze");
    agent_cfg *c = agent_cfg_alloc("drqn");
    int rc = s && c ? 0 : -1;
    for (int i = 0; !rc && tc->env_kv[i]; i += 2) rc = env_spec_set(s, tc->env_kv[i], tc->env_kv[i + 1]);
    for (int i = 0; !rc && tc->agent_kv[i]; i += 2) rc = agent_cfg_set(c, tc->agent_kv[i], tc->agent_kv[i + 1]);
    env_vec *v = rc ? NULL : env_vec_alloc(s, tc->n_envs, env_seed(seed, 1));
    agent *a = v ? agent_alloc(c, v->obs_size, v->n_actions, v->n, env_seed(seed, 2)) : NULL;
    agent_actor *ac = a ? agent_actor_alloc(a, v->n) : NULL;
    int *act = v ? malloc(sizeof(int) * v->n) : NULL;
    float *next = v ? malloc(sizeof(float) * v->n * v->obs_size) : NULL;
    char dir[] = "/tmp/rql_bench_train.XXXXXX", path[64] = "";
    rlog *log = NULL;
    if (!ac || !act || !next) { rc = -1; goto out; }
    if (log_on) {
        if (!mkdtemp(dir)) { rc = rql_set_error(-1, "cannot make a folder under /tmp"); goto out; }
        snprintf(path, sizeof path, "%s/run.h5", dir);
        rlog_meta m = {.seed = (int64_t)seed, .env = "tmaze", .agent = "drqn", .label = tc->name,
                       .obs_size = v->obs_size, .n_actions = v->n_actions,
                       .hidden_size = ac->hidden_size, .net = agent_net(a),
                       .q_head = agent_q_head(a)};
        if (!(log = rlog_create(path, &m))) { rc = -1; goto out; }
    }
    const int n = v->n;
    const size_t os = (size_t)v->obs_size;
    long train_mark = 0;
    rql_prof_on = &res->prof;
    double t0 = rql_now_s(), c0 = rql_prof_now(), t = c0;
    while (!rc && res->env_steps < steps) {
        if ((rc = agent_act(a, ac, v->obs, v->episode_start, 0, act)) < 0) break;
        rql_prof_lap(RQL_PROF_ACT, &t);
        if ((rc = env_vec_step(v, act)) < 0) break;
        for (int i = 0; i < n; i++) {
            const float *src = v->terminated[i] || v->truncated[i] ? v->final_obs : v->obs;
            memcpy(next + i * os, src + i * os, os * sizeof(float));
        }
        rql_prof_lap(RQL_PROF_ENV, &t);
        if ((rc = agent_observe(a, ac, v->rewards, v->terminated, v->truncated, next)) < 0) break;
        res->env_steps += n;
        t = rql_prof_now();        /* the observe's own parts are in the slots already */
        agent_stats as;
        agent_get_stats(a, &as);
        for (int i = 0; i < n; i++) {
            if (!v->terminated[i] && !v->truncated[i]) continue;
            rlog_curve_row row = {.episode = res->episodes, .env_steps = res->env_steps, .ret = v->ep_return[i],
                                  .length = v->ep_length[i], .success = v->success[i] != 0,
                                  .epsilon = as.epsilon, .wall_s = rql_now_s() - t0};
            if (log && rlog_append_curve(log, &row) < 0) rc = -1;
            res->episodes++;
        }
        if (as.updates / 10 > train_mark) {
            train_mark = as.updates / 10;
            rlog_train_row row = {.update = as.updates, .loss = as.loss, .q_mean = as.q_mean, .grad_norm = as.grad_norm};
            if (log && rlog_append_train(log, &row) < 0) rc = -1;
        }
        rql_prof_lap(RQL_PROF_LOG, &t);
    }
    res->wall = rql_now_s() - t0;
    res->cpu = rql_prof_now() - c0;
    rql_prof_on = NULL;
    if (rc) goto out;
    agent_stats as;
    agent_get_stats(a, &as);
    res->updates = as.updates;
    double fwd, bwd;
    net_flops(agent_net(a), &fwd, &bwd);
    res->flop_upd = fwd * res->prof.rows_fwd + bwd * res->prof.rows_bwd;
    res->flop_act = fwd * res->env_steps;
    res->sps = res->env_steps / res->wall;
    res->sps_cpu = res->env_steps / res->cpu;
    res->ups = res->updates / res->wall;
out:
    if (rc) fprintf(stderr, "rql bench train: %s: %s\n", tc->name, rql_error());
    if (log && rlog_close(log) < 0 && !rc) rc = -1;
    if (path[0]) unlink(path);
    if (log_on && strcmp(dir + strlen(dir) - 6, "XXXXXX")) rmdir(dir);
    free(act);
    free(next);
    agent_actor_free(ac);
    agent_free(a);
    env_vec_free(v);
    agent_cfg_free(c);
    env_spec_free(s);
    return rc ? -1 : 0;
}

static int cmp_sps(const void *x, const void *y) {
    double a = ((const train_result *)x)->sps, b = ((const train_result *)y)->sps;
    return (a > b) - (a < b);
}

static void report(const train_case *tc, train_result *r, int reps, double gemm) {
    qsort(r, (size_t)reps, sizeof *r, cmp_sps);
    const train_result *m = &r[reps / 2];
    const rql_prof *p = &m->prof;
    double upd_s = p->s[RQL_PROF_FORWARD] + p->s[RQL_PROF_BACKWARD] + p->s[RQL_PROF_OPTIM];
    double gf_upd = m->flop_upd / upd_s * 1e-9, gf_act = m->flop_act / p->s[RQL_PROF_ACT] * 1e-9;
    double gf_all = (m->flop_upd + m->flop_act) / m->cpu * 1e-9;
    printf("%s: %s\n", tc->name, tc->what);
    printf("  %ld env steps, %ld updates, %ld episodes; median of %d runs: %.3f s wall, %.3f s CPU\n", m->env_steps,
           m->updates, m->episodes, reps, m->wall, m->cpu);
    printf("  env steps/s %10.0f  (runs: %.0f .. %.0f); per CPU second %.0f\n", m->sps, r[0].sps, r[reps - 1].sps,
           m->sps_cpu);
    printf("  updates/s   %10.1f  per CPU second %.1f\n", m->ups, m->updates / m->cpu);
    printf("  FLOPs: updates %.3f GFLOP (%.2f MFLOP each), acting %.3f GFLOP\n", m->flop_upd * 1e-9,
           m->updates ? m->flop_upd / m->updates * 1e-6 : 0, m->flop_act * 1e-9);
    printf("  GFLOP/s: updates %.1f (%.0f%% of sgemm), acting %.2f (%.1f%%), whole run %.1f (%.1f%%)\n", gf_upd,
           100 * gf_upd / gemm, gf_act, 100 * gf_act / gemm, gf_all, 100 * gf_all / gemm);
    static const char *names[RQL_PROF_NSLOTS] = {"acting", "env stepping", "replay store + sample", "update forward",
                                                 "update backward", "update optimizer", "logging"};
    double acc = 0;
    printf("  CPU time:");
    for (int k = 0; k < RQL_PROF_NSLOTS; k++) {
        acc += p->s[k];
        printf(" %s %.1f%%%s", names[k], 100 * p->s[k] / m->cpu, k + 1 < RQL_PROF_NSLOTS ? "," : "");
        if (k == 2) printf("\n           ");
    }
    printf(", other %.1f%%\n", 100 * (m->cpu - acc) / m->cpu);
}

int bench_train(int argc, char **argv) {
    int reps = 3, log_on = 1, which = -1, threads = 1;
    long steps = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            printf("usage: rql bench train [--config small|large] [--steps N] [--repeats R] [--threads 1] [--no-log]\n"
                   "Trains fixed DRQN configs (on one thread unless --threads) for a fixed number of env steps and prints\n"
                   "env steps/s, updates/s, FLOPs, GFLOP/s vs a 512^3 sgemm, and where the time goes.\n");
            return 0;
        }
        if (!strcmp(o, "--no-log")) { log_on = 0; continue; }
        if (!v) { fprintf(stderr, "rql bench train: %s needs a value (see --help)\n", o); return 2; }
        i++;
        if (!strcmp(o, "--config")) {
            which = !strcmp(v, "small") ? 0 : !strcmp(v, "large") ? 1 : -2;
            if (which == -2) { fprintf(stderr, "rql bench train: --config small|large, not '%s'\n", v); return 2; }
        } else if (!strcmp(o, "--steps")) {
            steps = atol(v);
            if (steps < 8 || steps > 100000000) { fprintf(stderr, "rql bench train: --steps %s out of range\n", v); return 2; }
        } else if (!strcmp(o, "--threads")) {
            threads = atoi(v);
            if (threads < 1 || threads > 1024) { fprintf(stderr, "rql bench train: --threads %s out of [1, 1024]\n", v); return 2; }
        } else if (!strcmp(o, "--repeats")) {
            reps = atoi(v);
            if (reps < 1 || reps > 100) { fprintf(stderr, "rql bench train: --repeats %s out of [1, 100]\n", v); return 2; }
        } else {
            fprintf(stderr, "rql bench train: unknown option %s (see --help)\n", o);
            return 2;
        }
    }
    openblas_set_num_threads(1);
    omp_set_num_threads(threads);
    double gemm = bench_sgemm_gflops(512);
    train_result *res = calloc((size_t)reps, sizeof *res);
    int rc = res ? 0 : 1;
    for (int k = 0; !rc && k < NCASES; k++) {
        if (which >= 0 && which != k) continue;
        for (int r = 0; !rc && r < reps; r++)
            rc = train_once(&cases[k], (uint64_t)r, steps ? steps : cases[k].steps, log_on, threads > 1, &res[r]) < 0;
        double g2 = bench_sgemm_gflops(512);
        if (g2 > gemm) gemm = g2;
        if (!rc) report(&cases[k], res, reps, gemm);
        fflush(stdout);
    }
    printf("sgemm 512^3: %.1f GFLOP/s, one thread (best of 40, before and after each config); training on %d "
           "thread%s\n", gemm, threads, threads > 1 ? "s (CPU time of all, wall clock shorter)" : "");
    double load[1];
    if (getloadavg(load, 1) == 1)
        printf("load average %.2f on %ld online cores\n", load[0], sysconf(_SC_NPROCESSORS_ONLN));
    free(res);
    return rc;
}
