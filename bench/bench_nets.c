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
 * LSTM's: the scan cells (mingru, lru) have no matrix product per step. */
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

/* Times the update of dense(D) -> cell(H) -> dense(A) on B x T; reps 0:
 * about one second of updates. Returns 0 or -1 (message in rql_error). */
static int time_update(const char *cell, int B, int T, int In, int D, int H, int A, int reps,
                       double seconds, update_timing *out) {
    char spec[96];
    snprintf(spec, sizeof spec, "dense:%d,%s:%d,dense:%d", D, cell, H, A);
    layer_spec ls[3];
    int nl = net_parse_spec(spec, ls, 3);
    net *n = nl == 3 ? net_alloc(In, ls, nl, B, T) : NULL;
    optim *o = n ? optim_alloc(OPT_ADAM, n->nparams, 1e-3f) : NULL;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    float *x = malloc(sizeof(float) * B * T * In), *y = malloc(sizeof(float) * B * T * A);
    float *dy = malloc(sizeof(float) * B * T * A);
    double *dt = NULL;
    int rc = -1;
    if (!n || !o || !r || !x || !y || !dy || net_init(n, r)) goto out;
    for (int k = 0; k < B * T * In; k++) x[k] = (float)(2.0 * gsl_rng_uniform(r) - 1.0);
    for (int k = 0; k < B * T * A; k++) dy[k] = (float)(1e-2 * (2.0 * gsl_rng_uniform(r) - 1.0));
    update_flops(cell, (double)B * T, In, D, H, A, &out->fwd, &out->bwd);
    out->nparams = n->nparams;
    /* warm up, then size the run to about `seconds` */
    int bad = 0, warm = 0;
    double t0 = rql_now_s();
    while (warm < 5 || rql_now_s() - t0 < 0.2 * seconds) {
        net_zero_grad(n);
        bad |= net_forward(n, x, NULL, B, T, NULL, 1, y, NULL);
        bad |= net_backward(n, dy, NULL);
        optim_step(o, n->params, n->grads);
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
        double s = rql_now_s(), c0 = thread_cpu_s();
        net_zero_grad(n);
        bad |= net_forward(n, x, NULL, B, T, NULL, 1, y, NULL);
        double s1 = rql_now_s();
        bad |= net_backward(n, dy, NULL);
        double s2 = rql_now_s();
        optim_step(o, n->params, n->grads);
        double s3 = rql_now_s();
        dt[k] = s3 - s;
        ct[k] = thread_cpu_s() - c0;
        if (s1 - s < out->part[0]) out->part[0] = s1 - s;
        if (s2 - s1 < out->part[1]) out->part[1] = s2 - s1;
        if (s3 - s2 < out->part[2]) out->part[2] = s3 - s2;
    }
    if (bad) goto out;
    qsort(dt, reps, sizeof *dt, cmp_double);
    qsort(ct, reps, sizeof *ct, cmp_double);
    out->med = dt[reps / 2];
    out->best = dt[0];
    out->cpu_med = ct[reps / 2];
    rc = 0;
out:
    free(dt); net_free(n); optim_free(o); gsl_rng_free(r); free(x); free(y); free(dy);
    return rc;
}

int bench_cells(int argc, char **argv) {
    int B = 32, H = 64;
    const bench_opt opts[] = {{"--batch", &B, NULL, NULL}, {"--hidden", &H, NULL, NULL}};
    int rc = parse_opts("cells", argc, argv, opts, 2,
                        "usage: rql bench cells [--batch 32] [--hidden 64]\n" UPDATE_HELP
                        "for every cell at T = 32 and T = 512, on one thread, with GFLOP/s and the\n"
                        "time relative to the LSTM's.\n");
    if (rc >= 0) return rc;
    openblas_set_num_threads(1);
    static const char *cells[] = {"lstm", "gru", "rnn", "peephole", "mingru", "lru"};
    static const int Ts[] = {32, 512};
    printf("cells: one update of dense(8) -> CELL(%d) -> dense(4), batch %d, one thread (medians of ~1 s);\n"
           "  cpu ms: the thread's CPU time (what the ratios use: it leaves out waits for a core on a\n"
           "  shared machine), wall ms beside it\n", H, B);
    printf("  %-9s %5s %9s %9s %10s %9s %10s %8s\n", "cell", "T", "cpu ms", "wall ms", "MFLOP", "GFLOP/s",
           "params", "vs lstm");
    for (size_t ti = 0; ti < sizeof Ts / sizeof *Ts; ti++) {
        double lstm_ms = 0;
        for (size_t c = 0; c < sizeof cells / sizeof *cells; c++) {
            update_timing u;
            if (time_update(cells[c], B, Ts[ti], 8, 8, H, 4, 0, 1.0, &u)) {
                fprintf(stderr, "rql bench cells: %s: %s\n", cells[c], rql_error());
                return 1;
            }
            if (c == 0) lstm_ms = u.cpu_med;
            double fl = u.fwd + u.bwd;
            printf("  %-9s %5d %9.3f %9.3f %10.2f %9.1f %10zu %7.2fx\n", cells[c], Ts[ti], u.cpu_med * 1e3,
                   u.med * 1e3, fl * 1e-6, fl / u.cpu_med * 1e-9, u.nparams, lstm_ms / u.cpu_med);
            fflush(stdout);
        }
    }
    printf("  (vs lstm: the LSTM's median CPU time over the cell's; > 1 is faster)\n");
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
