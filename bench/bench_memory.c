/* bench_memory — how far memory reaches: drqn (LSTM) and dqn (k = 1) on the
 * T-maze at corridor lengths N over several seeds. Per (agent, N): seeds
 * solved (a greedy evaluation over 100 episodes with 100% success within the
 * budget), median training episodes and env steps to solve, and the median
 * CPU-seconds a seed cost (its thread's CPU time: to the solving evaluation,
 * or the whole budget when unsolved; wall clock is meaningless on a shared
 * machine); then wall-clock seconds for drqn to solve N = 10 at 2 threads.
 * Seeds run in parallel (OpenMP over runs, each run single-threaded inside).
 *
 * Budget per run, in env steps summed over the envs: 3000 N (at least
 * 30000): N = 100: 300000, 200: 600000, 500: 1500000, 1000: 3000000. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "experiments/learn.h"

#define MAXL 16
#define MAXSET 32

static int cmp_long(const void *x, const void *y) {
    long a = *(const long *)x, b = *(const long *)y;
    return (a > b) - (a < b);
}

static double median_of(long *v, int n) {
    if (n == 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_long);
    return n % 2 ? (double)v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double median_d(double *v, int n) {
    long us[1000];
    for (int i = 0; i < n; i++) us[i] = (long)(v[i] * 1e3);
    return median_of(us, n) / 1e3;
}

static double thread_cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* The recipe's chunk length: the recipe below, the usage and the header name it. */
#define R2D2_CHUNK "64"

static void usage(void) {
    printf("usage: rql bench memory [--agents drqn,dqn] (also drqn-CELL for every core: drqn-gru, drqn-lru, ...; qtable) [--lengths 10,20,50,100] [--seeds S] [--seed0 K]\n"
           "                        [--budget STEPS] [--n-envs N] [--eval-every STEPS] [--set AGENT.KEY=VALUE]...\n"
           "                        [--r2d2] [--per-seed] [--no-wall | --wall-only]\n"
           "  lengths 1 .. 1000 (e.g. --lengths 100,200,500,1000)\n"
           "  --r2d2: drqn replays chunks of " R2D2_CHUNK " steps from stored states (no burn-in), prioritized, "
           "chrono init\n"
           "  for 2 N steps, epsilon over 200 N env steps, gamma 1 - 1/N from N = 50 (the long-corridor\n"
           "  recipe; without it: whole episodes up to 2 (N + 1) steps, uniform, epsilon over 1000 N,\n"
           "  gamma 0.98); --set drqn.KEY=V applies after either\n"
           "  --per-seed: a line per seed (solved, env steps, CPU-s, last greedy success and return)\n"
           "  budget default: 3000 N env steps per run (at least 30000): N = 200: 600000, 500: 1500000,\n"
           "  1000: 3000000; cpu_s = median CPU-seconds per seed (to solving, or the whole budget)\n");
}

/* Agent configs of the benchmark: the defaults, with what the corridor
 * length needs (episodes get longer: replay whole episodes up to twice the
 * optimal length; epsilon decays over 1000 N env steps, the default's 10000
 * at N = 10), then the user's --set overrides. */
/* The long-corridor recipe (--r2d2, docs/agents.md "Long corridors"):
 * chunks of 64 train steps from the state stored when acting, no burn-in,
 * prioritized sequence replay, chrono init for memories of 2 N steps, and
 * epsilon decayed over 200 N env steps, discount 1 - 1/N. An update then
 * costs the same at every N; the per-N values are set in make_cfg. */
static const char *const r2d2_recipe[] = {"seq_mode", "chunk", "chunk", R2D2_CHUNK, "burn_in", "0", "state_init", "stored",
                                          "prioritized", "1", NULL};

static agent_cfg *make_cfg(const char *name, int N, int r2d2, int nset, char **sets, int *err) {
    /* drqn-gru, drqn-rnn: drqn with that core */
    const char *type = !strncmp(name, "drqn-", 5) ? "drqn" : name;
    agent_cfg *c = agent_cfg_alloc(type);
    if (!c) { *err = 1; return NULL; }
    if (type != name && agent_cfg_set(c, "cell", name + 5) < 0) {
        fprintf(stderr, "rql bench memory: %s: %s\n", name, rql_error());
        *err = 2;
        return c;
    }
    char v[32];
    if (!strcmp(type, "drqn")) {
        snprintf(v, sizeof v, "%d", 2 * (N + 1) < 256 ? 256 : 2 * (N + 1));
        agent_cfg_set(c, "max_len", v);
        for (int i = 0; r2d2 && r2d2_recipe[i]; i += 2) agent_cfg_set(c, r2d2_recipe[i], r2d2_recipe[i + 1]);
    }
    int recipe = r2d2 && !strcmp(type, "drqn");
    /* exploration long enough to cross the corridor: 1000 env steps per cell
     * (200 with --r2d2, whose chunks learn the corridor sooner) */
    snprintf(v, sizeof v, "%d", (recipe ? 200 : 1000) * N);
    agent_cfg_set(c, "eps_decay", v);
    if (recipe) {
        snprintf(v, sizeof v, "%d", 2 * N);
        agent_cfg_set(c, "chrono", v);
        /* a horizon as long as the corridor: gamma = 1 - 1/N (0.98 below
         * N = 50); at 0.98 the goal's value is 4 * 0.98^N at the start,
         * 7e-9 at N = 1000 */
        snprintf(v, sizeof v, "%.17g", N >= 50 ? 1.0 - 1.0 / N : 0.98);
        agent_cfg_set(c, "gamma", v);
    }
    size_t tl = strlen(type);
    for (int i = 0; i < nset; i++) {
        if (strncmp(sets[i], type, tl) || sets[i][tl] != '.') continue;
        char kv[256];
        snprintf(kv, sizeof kv, "%s", sets[i] + tl + 1);
        char *eq = strchr(kv, '=');
        if (!eq) { fprintf(stderr, "rql bench memory: --set %s: expected AGENT.KEY=VALUE\n", sets[i]); *err = 2; break; }
        *eq = 0;
        if (agent_cfg_set(c, kv, eq + 1) < 0) {
            fprintf(stderr, "rql bench memory: --set %s: %s\n", sets[i], rql_error());
            *err = 2;
            break;
        }
    }
    return c;
}

static env_spec *tmaze_spec(int N) {
    env_spec *s = env_spec_alloc("tmaze");
    char v[32];
    snprintf(v, sizeof v, "%d", N);
    if (s && env_spec_set(s, "length", v) < 0) { env_spec_free(s); return NULL; }
    return s;
}

int bench_memory(int argc, char **argv) {
    char agents_s[128] = "drqn,dqn";
    int lengths[MAXL] = {10, 20, 50, 100}, nl = 4, seeds = 10, seed0 = 0, n_envs = 16, wall = 1, sweep = 1, r2d2 = 0;
    int per_seed = 0;
    long budget = 0, eval_every = 0;
    char *sets[MAXSET];
    int nset = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) { usage(); return 0; }
        if (!strcmp(o, "--no-wall")) { wall = 0; continue; }
        if (!strcmp(o, "--r2d2")) { r2d2 = 1; continue; }
        if (!strcmp(o, "--per-seed")) { per_seed = 1; continue; }
        if (!strcmp(o, "--wall-only")) { sweep = 0; continue; }
        if (!v) { fprintf(stderr, "rql bench memory: %s needs a value\n", o); return 2; }
        i++;
        if (!strcmp(o, "--agents")) snprintf(agents_s, sizeof agents_s, "%s", v);
        else if (!strcmp(o, "--lengths")) {
            nl = 0;
            for (const char *p = v; *p && nl < MAXL;) {
                char *end;
                long x = strtol(p, &end, 10);
                if (end == p || x < 1 || x > 1000) { fprintf(stderr, "rql bench memory: --lengths %s: bad length\n", v); return 2; }
                lengths[nl++] = (int)x;
                p = *end == ',' ? end + 1 : end;
                if (*end && *end != ',') { fprintf(stderr, "rql bench memory: --lengths %s: bad list\n", v); return 2; }
            }
        } else if (!strcmp(o, "--seeds")) seeds = atoi(v);
        else if (!strcmp(o, "--seed0")) seed0 = atoi(v);
        else if (!strcmp(o, "--budget")) budget = atol(v);
        else if (!strcmp(o, "--n-envs")) n_envs = atoi(v);
        else if (!strcmp(o, "--eval-every")) eval_every = atol(v);
        else if (!strcmp(o, "--set")) {
            if (nset == MAXSET) { fprintf(stderr, "rql bench memory: too many --set\n"); return 2; }
            sets[nset++] = (char *)v;
        } else { fprintf(stderr, "rql bench memory: unknown option %s\n", o); usage(); return 2; }
    }
    if (seeds < 1 || seeds > 1000 || n_envs < 1 || n_envs > 4096) {
        fprintf(stderr, "rql bench memory: --seeds %d / --n-envs %d out of range\n", seeds, n_envs);
        return 2;
    }
    printf("T-maze memory benchmark: %d seeds per cell, %d envs, budget %s env steps, solved = 100%% greedy "
           "success over 100 episodes%s\n", seeds, n_envs, budget ? "fixed" : "3000*N",
           r2d2 ? "; drqn: chunks " R2D2_CHUNK ", no burn-in, stored state, prioritized, chrono 2N, epsilon over 200N steps, gamma 1-1/N" : "");
    printf("%-9s %5s %8s %14s %14s %10s %10s\n", "agent", "N", "solved", "median_eps", "median_steps", "cpu_s",
           "wall_s");
    char list[128];
    snprintf(list, sizeof list, "%s", agents_s);
    int rc = 0;
    for (char *save = NULL, *type = sweep ? strtok_r(list, ",", &save) : NULL; type; type = strtok_r(NULL, ",", &save)) {
        for (int li = 0; li < nl; li++) {
            int N = lengths[li], err = 0;
            agent_cfg *c = make_cfg(type, N, r2d2, nset, sets, &err);
            env_spec *s = tmaze_spec(N);
            if (!c || !s || err) {
                fprintf(stderr, "rql bench memory: %s\n", !c ? rql_error() : !s ? rql_error() : "bad --set");
                agent_cfg_free(c);
                env_spec_free(s);
                return 2;
            }
            learn_opts o = {.max_env_steps = budget ? budget : (30000L * N / 10 > 30000 ? 30000L * N / 10 : 30000),
                            .eval_every = eval_every ? eval_every : 1000L * (N / 10 > 0 ? N / 10 : 1),
                            .eval_episodes = 100, .stop_when_solved = 1};
            learn_result *res = calloc((size_t)seeds, sizeof *res);
            int *fail = calloc((size_t)seeds, sizeof(int));
            double *cpu = calloc((size_t)seeds, sizeof(double));
            double t0 = omp_get_wtime();
            #pragma omp parallel for schedule(dynamic, 1)
            for (int k = 0; k < seeds; k++) {
                double c0 = thread_cpu_s();
                char why[512];
                fail[k] = learn_run(c, s, n_envs, (uint64_t)(seed0 + k), &o, &res[k], why, sizeof why) < 0;
                if (fail[k]) fprintf(stderr, "seed %d: %s\n", seed0 + k, why);
                cpu[k] = thread_cpu_s() - c0;
            }
            double t1 = omp_get_wtime();
            int ns = 0;
            long se[1000], ss[1000];
            for (int k = 0; k < seeds && per_seed; k++)
                printf("  seed %-4d %-9s N %-5d %-8s env_steps %9ld cpu_s %8.1f last_success %.2f last_return %.3f\n",
                       seed0 + k, type, N, fail[k] ? "failed" : res[k].solved ? "solved" : "unsolved", res[k].env_steps,
                       cpu[k], res[k].final_success, res[k].final_return);
            for (int k = 0; k < seeds; k++) {
                rc |= fail[k];
                if (res[k].solved) { se[ns] = res[k].solve_episodes; ss[ns] = res[k].solve_steps; ns++; }
            }
            printf("%-9s %5d %5d/%-2d %14.0f %14.0f %10.1f %10.1f\n", type, N, ns, seeds, median_of(se, ns),
                   median_of(ss, ns), median_d(cpu, seeds), t1 - t0);
            fflush(stdout);
            free(res); free(fail); free(cpu);
            agent_cfg_free(c);
            env_spec_free(s);
        }
    }
    if (wall) {
        /* one drqn run on N = 10 at 2 threads, wall clock to the solving evaluation */
        int err = 0;
        agent_cfg *c = make_cfg("drqn", 10, r2d2, nset, sets, &err);
        env_spec *s = tmaze_spec(10);
        omp_set_num_threads(2);
        learn_opts o = {.max_env_steps = 300000, .eval_every = 1000, .eval_episodes = 100, .stop_when_solved = 1};
        int solved = 0;
        long nsolve[1000], ncpu[1000];   /* microseconds, for the medians */
        for (int k = 0; k < seeds && c && s && !err; k++) {
            learn_result r;
            char why[512];
            struct timespec c0, c1;
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
            if (learn_run(c, s, n_envs, (uint64_t)(seed0 + k), &o, &r, why, sizeof why) < 0) {
                fprintf(stderr, "seed %d: %s\n", seed0 + k, why);
                rc = 1;
                break;
            }
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
            if (r.solved) {
                ncpu[solved] = (long)(1e6 * (c1.tv_sec - c0.tv_sec) + 1e-3 * (c1.tv_nsec - c0.tv_nsec));
                nsolve[solved++] = (long)(r.solve_wall_s * 1e6);
            }
        }
        /* the CPU time (both threads) of a whole solved run, which stops at
         * its solving evaluation: on a busy machine the wall clock also
         * counts other processes' time */
        printf("drqn lstm, N = 10, 2 threads: solved %d/%d, median wall-clock to solve %.3f s (median CPU time of a "
               "solved run %.3f s)\n", solved, seeds, solved ? median_of(nsolve, solved) / 1e6 : NAN,
               solved ? median_of(ncpu, solved) / 1e6 : NAN);
        agent_cfg_free(c);
        env_spec_free(s);
    }
    return rc ? 1 : 0;
}
