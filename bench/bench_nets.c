/* rql bench nets — one DRQN training update against the machine's sgemm.
 *
 * The update (the same one scripts/ times in PyTorch):
 *   network   dense(8, none) -> LSTM(64) -> dense(4, none) on 8 input features,
 *             i.e. nn.Linear(8, 8), nn.LSTM(8, 64, batch_first=True),
 *             nn.Linear(64, 4); no learned h0 (zero initial state)
 *   data      batch 32 x 32 timesteps, every row full length, Q-values of
 *             every step (return_sequences)
 *   update    zero grads, forward, backward through time from a fixed
 *             dL/dy [32, 32, 4], one Adam step (lr 1e-3) over all parameters
 * FLOPs counted: the multiply-adds of the matrix products, 2 per MAC, with
 * N = B*T = 1024 rows, I = 8, D = 8, H = 64, A = 4:
 *   forward   2N (I*D + D*4H + H*4H + H*A)           =  38,404,096
 *   backward  2N (I*D + 2 D*4H + 2 H*4H + 2 H*A)     =  76,677,120
 *             (dW of every layer, dx of every layer but the first)
 *   total                                              115,081,216 (~115 MFLOP)
 * Elementwise work (gates, activations, Adam) is not counted: it is the
 * overhead the benchmark exposes. The reference is cblas_sgemm on 512^3
 * (268 MFLOP, at the kernel's peak) in the same run; both on one OpenBLAS
 * thread. The update's time is the median (and best) of about one second of
 * updates after a warm-up.
 *
 * --cell takes every recurrent kind; the FLOPs counted are then the matrix
 * products of that cell (G = 4 lstm / peephole, 3 gru, 1 rnn):
 *   rnn-like  forward  2N (I*D + D*G*H + H*G*H + H*A)
 *             backward 2N (I*D + 2 D*G*H + 2 H*G*H + 2 H*A)
 *   mingru    forward  2N (I*D + D*2H + H*A)            (no recurrent product)
 *             backward 2N (I*D + 2 D*2H + 2 H*A)
 *   lru       forward  2N (I*D + D*2H + 2 H*H + D*H + H*A)   (B x, Re(C h), D x)
 *             backward 2N (I*D + 2 D*2H + 4 H*H + 2 D*H + 2 H*A)
 *             (nets/lru.c's backward computes B x and the scan again, and
 *             nets/mingru.c's its pre-activations, 2N D*2H more each, which
 *             is not counted: the count is the update's, not the code's)
 *
 * rql bench cells: the same update for every cell at H = 64 and T = 32 and
 * 512 (batch 32), in one table with each cell's time relative to the
 * LSTM's: the scan cells (mingru, lru) have no matrix product per step.
 * The cells' updates run interleaved, one of each per round, and a ratio
 * is the median of the rounds' ratios (time_cells). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gsl/gsl_rng.h>
#include "bench/bench.h"
#include "nets/nets.h"
#include "util/util.h"


enum { SGEMM_N = 512 };

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Best GFLOP/s of 40 n^3 sgemms. n = 512 already runs at the kernel's peak
 * (measured: 124 GFLOP/s, the same as 1024 and 768) and takes about 2 ms,
 * short enough that the best of 40 is rarely cut by another process on a
 * shared machine, unlike a 17 ms 1024^3. */
double bench_sgemm_gflops(int n) {
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n);
    float *c = malloc(sizeof(float) * n * n);
    if (!a || !b || !c) { free(a); free(b); free(c); return 0; }
    for (long k = 0; k < (long)n * n; k++) { a[k] = (float)(k % 7) * 0.1f; b[k] = (float)(k % 5) * 0.1f; }
    double best = 1e30;
    for (int r = 0; r < 41; r++) {
        double t0 = rql_now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double dt = rql_now_s() - t0;
        if (r && dt < best) best = dt;   /* the first run warms caches and pages */
    }
    free(a); free(b); free(c);
    return 2.0 * n * n * (double)n / best * 1e-9;
}

/* An option of bench nets / bench cells: an integer >= 1 (i), or a word
 * that ok accepts (s). */
typedef struct {
    const char *flag;
    int *i;
    const char **s;
    int (*ok)(const char *);
} bench_opt;

/* Parses argv[1..] against opts[n]: -1 go on, else the exit status: 0 after
 * --help (help printed), 2 bad usage (said on stderr as "rql bench CMD: ..."). */
static int parse_opts(const char *cmd, int argc, char **argv, const bench_opt *opts, int n, const char *help) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(help, stdout);
            return 0;
        }
        const bench_opt *o = NULL;
        for (int k = 0; k < n && !o; k++)
            if (!strcmp(a, opts[k].flag) && (opts[k].i || opts[k].ok(v))) o = &opts[k];
        if (!o) {
            fprintf(stderr, "rql bench %s: unknown or incomplete option \"%s\" (see --help)\n", cmd, a);
            return 2;
        }
        i++;
        if (o->s) {
            *o->s = v;
            continue;
        }
        char *end;
        long x = v ? strtol(v, &end, 10) : 0;
        if (!v || *end || x < 1 || x > 1 << 20) {
            fprintf(stderr, "rql bench %s: %s needs an integer >= 1 (got \"%s\")\n", cmd, a, v ? v : "");
            return 2;
        }
        *o->i = (int)x;
    }
    return -1;
}

/* What bench nets and bench cells time, for their --help. */
#define UPDATE_HELP "Times one training update (forward, BPTT, Adam) of dense(8) -> CELL(H) -> dense(4)\n"

/* FLOPs of one update's matrix products, forward and backward (above). */
static void update_flops(const char *cell, double N, double In, double D, double H, double A,
                         double *fwd, double *bwd) {
    if (!strcmp(cell, "mingru")) {
        *fwd = 2 * N * (In * D + D * 2 * H + H * A);
        *bwd = 2 * N * (In * D + 2 * D * 2 * H + 2 * H * A);
    } else if (!strcmp(cell, "lru")) {
        *fwd = 2 * N * (In * D + D * 2 * H + 2 * H * H + D * H + H * A);
        *bwd = 2 * N * (In * D + 2 * D * 2 * H + 4 * H * H + 2 * D * H + 2 * H * A);
    } else {
        double G = !strcmp(cell, "lstm") || !strcmp(cell, "peephole") ? 4 : !strcmp(cell, "gru") ? 3 : 1;
        *fwd = 2 * N * (In * D + D * G * H + H * G * H + H * A);
        *bwd = 2 * N * (In * D + 2.0 * D * G * H + 2.0 * H * G * H + 2.0 * H * A);
    }
}

static int is_cell(const char *v) {
    for (int k = LAYER_RNN; v && k <= LAYER_LRU; k++)
        if (!strcmp(v, layer_kind_str((layer_kind)k))) return 1;
    return 0;
}

/* cpu_med: median thread CPU time of an update (CLOCK_THREAD_CPUTIME_ID):
 * on a machine shared with other jobs it leaves out the time the thread
 * waited for a core, which wall-clock time does not. */
typedef struct { double med, best, cpu_med, part[3], fwd, bwd; size_t nparams; } update_timing;

static double thread_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One update's operands: dense(D) -> cell(H) -> dense(A) on B x T, its
 * optimizer and a fixed input and dL/dy. */
typedef struct {
    net *n;
    optim *o;
    float *x, *y, *dy;
    int B, T, bad;
} update_setup;

static void update_free(update_setup *s) {
    net_free(s->n); optim_free(s->o); free(s->x); free(s->y); free(s->dy);
    memset(s, 0, sizeof *s);
}

/* Returns 0 or -1 (message in rql_error; s freed). */
static int update_alloc(update_setup *s, const char *cell, int B, int T, int In, int D, int H, int A,
                        update_timing *out) {
    char spec[96];
    snprintf(spec, sizeof spec, "dense:%d,%s:%d,dense:%d", D, cell, H, A);
    layer_spec ls[3];
    int nl = net_parse_spec(spec, ls, 3);
    memset(s, 0, sizeof *s);
    s->B = B;
    s->T = T;
    s->n = nl == 3 ? net_alloc(In, ls, nl, B, T) : NULL;
    s->o = s->n ? optim_alloc(OPT_ADAM, s->n->nparams, 1e-3f) : NULL;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    s->x = malloc(sizeof(float) * B * T * In);
    s->y = malloc(sizeof(float) * B * T * A);
    s->dy = malloc(sizeof(float) * B * T * A);
    if (!s->n || !s->o || !r || !s->x || !s->y || !s->dy || net_init(s->n, r)) {
        gsl_rng_free(r);
        update_free(s);
        return -1;
    }
    for (int k = 0; k < B * T * In; k++) s->x[k] = (float)(2.0 * gsl_rng_uniform(r) - 1.0);
    for (int k = 0; k < B * T * A; k++) s->dy[k] = (float)(1e-2 * (2.0 * gsl_rng_uniform(r) - 1.0));
    gsl_rng_free(r);
    update_flops(cell, (double)B * T, In, D, H, A, &out->fwd, &out->bwd);
    out->nparams = s->n->nparams;
    return 0;
}

/* One update; its thread CPU time into *cpu, wall time of its parts
 * (forward, backward, Adam) into part[3] when part is not NULL. Returns the
 * wall time. */
static double update_once(update_setup *s, double *cpu, double *part) {
    double t = rql_now_s(), c0 = thread_cpu_s();
    net_zero_grad(s->n);
    s->bad |= net_forward(s->n, s->x, NULL, s->B, s->T, NULL, 1, s->y, NULL);
    double t1 = rql_now_s();
    s->bad |= net_backward(s->n, s->dy, NULL);
    double t2 = rql_now_s();
    optim_step(s->o, s->n->params, s->n->grads);
    double t3 = rql_now_s();
    if (cpu) *cpu = thread_cpu_s() - c0;
    if (part) { part[0] = t1 - t; part[1] = t2 - t1; part[2] = t3 - t2; }
    return t3 - t;
}

/* Times the update of dense(D) -> cell(H) -> dense(A) on B x T; reps 0:
 * about one second of updates. Returns 0 or -1 (message in rql_error). */
static int time_update(const char *cell, int B, int T, int In, int D, int H, int A, int reps,
                       double seconds, update_timing *out) {
    update_setup s;
    if (update_alloc(&s, cell, B, T, In, D, H, A, out)) return -1;
    double *dt = NULL;
    int rc = -1;
    /* warm up, then size the run to about `seconds` */
    int warm = 0;
    double t0 = rql_now_s();
    while (warm < 5 || rql_now_s() - t0 < 0.2 * seconds) {
        update_once(&s, NULL, NULL);
        warm++;
    }
    double per = (rql_now_s() - t0) / warm;
    if (!reps) reps = (int)(seconds / per) < 20 ? 20 : (int)(seconds / per);
    dt = malloc(sizeof(double) * 2 * reps);
    if (!dt) goto out;
    double *ct = dt + reps;
    /* the parts, best of the run, to show where the time goes */
    out->part[0] = out->part[1] = out->part[2] = 1e30;
    for (int k = 0; k < reps; k++) {
        double part[3];
        dt[k] = update_once(&s, &ct[k], part);
        for (int q = 0; q < 3; q++)
            if (part[q] < out->part[q]) out->part[q] = part[q];
    }
    if (s.bad) goto out;
    qsort(dt, reps, sizeof *dt, cmp_double);
    qsort(ct, reps, sizeof *ct, cmp_double);
    out->med = dt[reps / 2];
    out->best = dt[0];
    out->cpu_med = ct[reps / 2];
    rc = 0;
out:
    free(dt);
    update_free(&s);
    return rc;
}

/* The cells of bench cells, the LSTM first (the ratios' reference). */
static const char *const bench_cell_names[] = {"lstm", "gru", "rnn", "peephole", "mingru", "lru"};
enum { NCELLS = sizeof bench_cell_names / sizeof *bench_cell_names, CELL_ROUNDS_MAX = 4096 };

/* One T of bench cells: the cells' updates interleaved, one update of each
 * per round (the order turned by one cell each round), for about `seconds`
 * after a warm-up. A cell's time is the median of its updates' thread CPU
 * times; its ratio to the LSTM is the median over the rounds of the LSTM's
 * time in the round over the cell's. Both updates of a pair run within one
 * round, so a change of the machine's speed (another job, the clock) that
 * lasts longer than a round moves both alike: timing each cell for a second
 * in turn, the ratio of one run was a draw from 2.3-2.9x for the LRU at
 * T = 512 on a shared machine. */
static int time_cells(int B, int T, int H, double seconds, update_timing *u, double *ratio,
                      int *rounds_out) {
    update_setup s[NCELLS];
    double *ct = malloc(sizeof(double) * NCELLS * CELL_ROUNDS_MAX), *rt = malloc(sizeof(double) * CELL_ROUNDS_MAX);
    int n = 0, rc = -1, made = 0;
    if (!ct || !rt) goto out;
    for (; made < NCELLS; made++) {
        memset(&u[made], 0, sizeof u[made]);
        if (update_alloc(&s[made], bench_cell_names[made], B, T, 8, 8, H, 4, &u[made])) {
            rql_set_error(NETS_EINVAL, "%s: %s", bench_cell_names[made], rql_error());
            goto out;
        }
    }
    double t0 = rql_now_s();
    for (int w = 0; w < 3 || rql_now_s() - t0 < 0.1 * seconds; w++)
        for (int c = 0; c < NCELLS; c++) update_once(&s[c], NULL, NULL);
    t0 = rql_now_s();
    while (n < CELL_ROUNDS_MAX && (n < 11 || rql_now_s() - t0 < seconds)) {
        for (int q = 0; q < NCELLS; q++) {
            const int c = (q + n) % NCELLS;
            double cpu;
            update_once(&s[c], &cpu, NULL);
            ct[(size_t)c * CELL_ROUNDS_MAX + n] = cpu;
        }
        n++;
    }
    for (int c = 0; c < NCELLS; c++) {
        if (s[c].bad) {
            rql_set_error(NETS_EINVAL, "%s: an update failed", bench_cell_names[c]);
            goto out;
        }
        double *cc = ct + (size_t)c * CELL_ROUNDS_MAX;
        for (int k = 0; k < n; k++) rt[k] = ct[k] / cc[k];   /* the LSTM's (row 0) over the cell's */
        qsort(rt, n, sizeof *rt, cmp_double);
        ratio[c] = rt[n / 2];
    }
    for (int c = 0; c < NCELLS; c++) {
        double *cc = ct + (size_t)c * CELL_ROUNDS_MAX;
        qsort(cc, n, sizeof *cc, cmp_double);
        u[c].cpu_med = cc[n / 2];
        u[c].best = cc[0];
    }
    *rounds_out = n;
    rc = 0;
out:
    for (int c = 0; c < made; c++) update_free(&s[c]);
    free(ct);
    free(rt);
    return rc;
}

int bench_cells(int argc, char **argv) {
    int B = 32, H = 64;
    const bench_opt opts[] = {{"--batch", &B, NULL, NULL}, {"--hidden", &H, NULL, NULL}};
    int rc = parse_opts("cells", argc, argv, opts, 2,
                        "usage: rql bench cells [--batch 32] [--hidden 64]\n" UPDATE_HELP
                        "for every cell at T = 32 and T = 512, on one thread, with GFLOP/s and the\n"
                        "time relative to the LSTM's. The cells' updates run interleaved, one of\n"
                        "each per round, so that the ratios compare updates run side by side.\n");
    if (rc >= 0) return rc;
    openblas_set_num_threads(1);
    static const int Ts[] = {32, 512};
    static const double secs[] = {2.0, 4.0};
    printf("cells: one update of dense(8) -> CELL(%d) -> dense(4), batch %d, one thread; the cells'\n"
           "  updates interleaved, one of each per round (~%.0f s of rounds at T = %d, ~%.0f s at %d)\n"
           "  cpu ms: median thread CPU time of the cell's updates (it leaves out waits for a core on\n"
           "  a shared machine), best beside it\n", H, B, secs[0], Ts[0], secs[1], Ts[1]);
    printf("  %-9s %5s %9s %9s %10s %9s %10s %8s\n", "cell", "T", "cpu ms", "best ms", "MFLOP", "GFLOP/s",
           "params", "vs lstm");
    for (size_t ti = 0; ti < sizeof Ts / sizeof *Ts; ti++) {
        update_timing u[NCELLS];
        double ratio[NCELLS];
        int rounds = 0;
        if (time_cells(B, Ts[ti], H, secs[ti], u, ratio, &rounds)) {
            fprintf(stderr, "rql bench cells: T = %d: %s\n", Ts[ti], rql_error());
            return 1;
        }
        for (int c = 0; c < NCELLS; c++) {
            double fl = u[c].fwd + u[c].bwd;
            printf("  %-9s %5d %9.3f %9.3f %10.2f %9.1f %10zu %7.2fx\n", bench_cell_names[c], Ts[ti],
                   u[c].cpu_med * 1e3, u[c].best * 1e3, fl * 1e-6, fl / u[c].cpu_med * 1e-9, u[c].nparams,
                   ratio[c]);
        }
        printf("  (T = %d: %d rounds)\n", Ts[ti], rounds);
        fflush(stdout);
    }
    printf("  (vs lstm: the median over the rounds of the LSTM's CPU time over the cell's; > 1 is faster)\n");
    return 0;
}

int bench_nets(int argc, char **argv) {
    int B = 32, T = 32, In = 8, D = 8, H = 64, A = 4, reps = 0;
    const char *cell = "lstm";
    const bench_opt opts[] = {{"--batch", &B, NULL, NULL}, {"--steps", &T, NULL, NULL},
                              {"--hidden", &H, NULL, NULL}, {"--reps", &reps, NULL, NULL},
                              {"--cell", NULL, &cell, is_cell}};
    int rc = parse_opts("nets", argc, argv, opts, 5,
                        "usage: rql bench nets [--batch 32] [--steps 32] [--hidden 64]\n"
                        "                      [--cell lstm|gru|rnn|peephole|mingru|lru] [--reps N]\n" UPDATE_HELP
                        "on one thread and compares its GFLOP/s with a 512^3 cblas_sgemm.\n");
    if (rc >= 0) return rc;
    openblas_set_num_threads(1);
    /* the reference is measured before and after the update and the better
     * figure kept, so that a burst of load from other processes does not
     * inflate the ratio */
    double gemm = bench_sgemm_gflops(SGEMM_N);
    update_timing u;
    if (time_update(cell, B, T, In, D, H, A, reps, 1.0, &u)) {
        fprintf(stderr, "rql bench nets: %s\n", rql_error());
        return 1;
    }
    const double fwd = u.fwd, bwd = u.bwd, flop = fwd + bwd, med = u.med, best = u.best;
    const double *part = u.part;
    if (!reps) reps = -1;   /* printed as "of ~1 s" below */
    double gemm2 = bench_sgemm_gflops(SGEMM_N);
    if (gemm2 > gemm) gemm = gemm2;
    double gf = flop / med * 1e-9;
    printf("nets: dense(%d) -> %s(%d) -> dense(%d), %d inputs, batch %d x %d steps, %zu parameters\n",
           D, cell, H, A, In, B, T, u.nparams);
    printf("  update (forward + BPTT + Adam): %.3f ms median, %.3f ms best%s; %.2f MFLOP (fwd %.2f + bwd %.2f)\n",
           med * 1e3, best * 1e3, reps > 0 ? "" : " of ~1 s", flop * 1e-6, fwd * 1e-6, bwd * 1e-6);
    printf("  update: %6.1f GFLOP/s (median), %6.1f GFLOP/s (best)\n", gf, flop / best * 1e-9);
    printf("  parts (best): forward %.3f ms (%.1f GFLOP/s), backward %.3f ms (%.1f GFLOP/s), Adam %.3f ms\n",
           part[0] * 1e3, fwd / part[0] * 1e-9, part[1] * 1e3, bwd / part[1] * 1e-9, part[2] * 1e3);
    printf("  sgemm %d^3:     %6.1f GFLOP/s (best of 80, before and after), one thread\n", SGEMM_N, gemm);
    printf("  ratio: %.0f%% of sgemm (median), %.0f%% (best); target >= 50%%\n", 100 * gf / gemm,
           100 * flop / best * 1e-9 / gemm);
    return 0;
}
