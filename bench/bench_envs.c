/* rql bench envs — env steps per second, for every world: one instance
 * stepped through env_step, and a vector of N (default 4096) instances
 * stepped through env_vec_step on 1 and on 2 OpenMP threads.
 *
 * Actions are uniform random, drawn ahead of time (a table of 64 vector
 * steps, cycled), so the timing holds only the env. Each figure is the best
 * of --repeats timed runs of about --seconds each: other processes on a
 * shared machine only ever slow a run down. Episodes auto-reset inside the
 * timing (single: env_restart on every end), as in training.
 *
 * The "busy" columns time the vector again while a CPU-bound process that
 * the benchmark starts (and stops; it ends by itself after a bound) holds
 * one core: the 2-thread figure must not fall below the 1-thread one
 * (rql's default OpenMP wait policy is passive, see cli/rql.c). --no-busy
 * skips them. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <gsl/gsl_rng.h>
#include "envs/env.h"
#include "util/util.h"


typedef struct { const char *label, *world; const char *kv[8]; } bench_case;

static const bench_case cases[] = {
    {"tmaze length=10", "tmaze", {"length", "10", NULL}},
    {"tmaze length=10 flicker=0.1", "tmaze", {"length", "10", "flicker", "0.1", NULL}},
    {"gridworld four_rooms full", "gridworld", {"map", "four_rooms", "view", "full", NULL}},
    {"gridworld four_rooms ego 5x5", "gridworld", {"map", "four_rooms", "view", "ego", NULL}},
    {"memory_room length=5", "memory_room", {"length", "5", NULL}},
    {"sum length=5 modulo=10", "sum", {NULL}},
    {"repeat_first easy", "repeat_first", {NULL}},
    {"count_recall easy", "count_recall", {NULL}},
    {"concentration easy", "concentration", {NULL}},
    {"minesweeper easy prev_action", "minesweeper", {"prev_action", "true", NULL}},
    {"stateless_cartpole easy", "stateless_cartpole", {NULL}},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))
#define ACT_ROWS 64

static env_spec *case_spec(const bench_case *c) {
    env_spec *s = env_spec_alloc(c->world);
    for (int i = 0; s && c->kv[i]; i += 2)
        if (env_spec_set(s, c->kv[i], c->kv[i + 1]) < 0) { env_spec_free(s); return NULL; }
    return s;
}

static double bench_single(const env_spec *s, const int *acts, int nact, double secs, int repeats) {
    env *e = env_make(s);
    if (!e) return -1;
    float *o = malloc(sizeof(float) * env_obs_size(e));
    env_reset(e, 1, o);
    double best = 0;
    for (int r = 0; r < repeats; r++) {
        long steps = 0;
        double t0 = rql_now_s(), dt;
        do {
            for (int k = 0; k < 100000; k++) {
                float rew;
                uint8_t te, tr, su;
                env_step(e, acts[(steps + k) % nact], o, &rew, &te, &tr, &su);
                if (te | tr) env_restart(e, o);
            }
            steps += 100000;
        } while ((dt = rql_now_s() - t0) < secs);
        if (steps / dt > best) best = steps / dt;
    }
    free(o);
    env_free(e);
    return best;
}

/* A vector of n instances on 1 and on 2 threads, the two timed in turn
 * (1, 2, 1, 2, ...) so that both see the same load; best of each. */
static int bench_vec(const env_spec *s, int n, const int *acts, double secs, int repeats, double best[2]) {
    env_vec *v = env_vec_alloc(s, n, 1);
    if (!v) return -1;
    best[0] = best[1] = 0;
    for (int r = 0; r < repeats; r++)
        for (int th = 0; th < 2; th++) {
            omp_set_num_threads(th + 1);
            long vsteps = 0;
            double t0 = rql_now_s(), dt;
            do {
                for (int k = 0; k < ACT_ROWS; k++) env_vec_step(v, acts + (size_t)k * n);
                vsteps += ACT_ROWS;
            } while ((dt = rql_now_s() - t0) < secs);
            double sps = (double)vsteps * n / dt;
            if (sps > best[th]) best[th] = sps;
        }
    env_vec_free(v);
    return 0;
}

/* A CPU-bound process for the "busy" columns: a child that spins until
 * killed, and dies by itself after max_s seconds (SIGALRM) should this
 * process end without stopping it. */
static pid_t busy_start(unsigned max_s) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(max_s);
        volatile unsigned long x = 0;
        for (;;) x++;
    }
    return pid;
}

static void busy_stop(pid_t pid) {
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

int bench_envs(int argc, char **argv) {
    int n = 4096, repeats = 3, busy = 1;
    double secs = 0.3;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc) n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) secs = atof(argv[++i]);
        else if (!strcmp(argv[i], "--repeats") && i + 1 < argc) repeats = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--no-busy")) busy = 0;
        else {
            fprintf(stderr, "rql bench envs: unknown option '%s' (--n N, --seconds S, --repeats R, --only TEXT, --no-busy)\n",
                    argv[i]);
            return 2;
        }
    }
    if (n < 1 || n > 1 << 20 || secs <= 0 || secs > 60 || repeats < 1 || repeats > 100) {
        fprintf(stderr, "rql bench envs: --n %d must be in [1, 1048576], --seconds %g in (0, 60], --repeats %d in [1, 100]\n",
                n, secs, repeats);
        return 2;
    }
    printf("env steps per second (best of %d runs of %.2f s; random actions drawn ahead; auto-reset included)\n",
           repeats, secs);
    const char *wp = getenv("OMP_WAIT_POLICY"), *sc = getenv("GOMP_SPINCOUNT");
    printf("OpenMP wait policy: OMP_WAIT_POLICY=%s GOMP_SPINCOUNT=%s%s\n", wp ? wp : "(unset)", sc ? sc : "(unset)",
           busy ? "; busy: beside one CPU-bound process the benchmark starts" : "");
    printf("%-30s %11s %12s %12s %7s", "world", "single", "vec 1t", "vec 2t", "2t/1t");
    if (busy) printf(" %12s %12s %7s", "busy vec 1t", "busy vec 2t", "2t/1t");
    printf("\n");
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
    int rc = 0;
    for (int c = 0; c < NCASES; c++) {
        if (only && !strstr(cases[c].label, only)) continue;
        env_spec *s = case_spec(&cases[c]);
        env *probe = s ? env_make(s) : NULL;
        if (!probe) {
            fprintf(stderr, "rql bench envs: %s: %s\n", cases[c].label, rql_error());
            env_spec_free(s);
            rc = 1;
            continue;
        }
        int na = env_num_actions(probe);
        env_free(probe);
        size_t nact = (size_t)ACT_ROWS * n;
        int *acts = malloc(sizeof(int) * nact);
        for (size_t k = 0; k < nact; k++) acts[k] = (int)gsl_rng_uniform_int(r, na);
        double s1 = bench_single(s, acts, (int)(nact < 65536 ? nact : 65536), secs, repeats);
        double v[2], b[2] = {0, 0};
        int bad = bench_vec(s, n, acts, secs, repeats, v);
        if (!bad && busy) {
            pid_t pid = busy_start((unsigned)(4 * secs * repeats) + 5);
            bad = bench_vec(s, n, acts, secs, repeats, b);
            busy_stop(pid);
        }
        if (bad) {
            fprintf(stderr, "rql bench envs: %s: %s\n", cases[c].label, rql_error());
            rc = 1;
        } else if (busy) {
            printf("%-30s %9.2fM/s %10.2fM/s %10.2fM/s %6.2fx %10.2fM/s %10.2fM/s %6.2fx\n", cases[c].label,
                   s1 * 1e-6, v[0] * 1e-6, v[1] * 1e-6, v[1] / v[0], b[0] * 1e-6, b[1] * 1e-6, b[1] / b[0]);
        } else {
            printf("%-30s %9.2fM/s %10.2fM/s %10.2fM/s %6.2fx\n", cases[c].label, s1 * 1e-6, v[0] * 1e-6,
                   v[1] * 1e-6, v[1] / v[0]);
        }
        fflush(stdout);
        free(acts);
        env_spec_free(s);
    }
    gsl_rng_free(r);
    printf("(N = %d instances per vector; tmaze target: 50M/s on one thread, 1.7x that on two)\n", n);
    /* Other processes on the cores stall the barrier that ends every vector
     * step whenever they preempt one of its threads: with libgomp's spinning
     * wait a 2-thread step can then lose two orders of magnitude. Say how
     * busy the machine was next to the figures. */
    double load[1];
    if (getloadavg(load, 1) == 1)
        printf("load average %.2f on %ld online cores%s\n", load[0], sysconf(_SC_NPROCESSORS_ONLN),
               load[0] > 1.5 ? ": the machine is busy, the 2-thread figures understate" : "");
    return rc;
}
