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
 * updates after a warm-up. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gsl/gsl_rng.h>
#include "bench/bench.h"
#include "cli/cmd.h"
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

static int arg_int(const char *flag, const char *v, int lo, int *out) {
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || x < lo || x > 1 << 20) {
        fprintf(stderr, "rql bench nets: %s needs an integer >= %d (got \"%s\")\n", flag, lo, v ? v : "");
        return -1;
    }
    *out = (int)x;
    return 0;
}

int bench_nets(int argc, char **argv) {
    int B = 32, T = 32, In = 8, D = 8, H = 64, A = 4, reps = 0;
    const char *cell = "lstm";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!strcmp(a, "--batch")) rc = arg_int(a, v, 1, &B), i++;
        else if (!strcmp(a, "--steps")) rc = arg_int(a, v, 1, &T), i++;
        else if (!strcmp(a, "--hidden")) rc = arg_int(a, v, 1, &H), i++;
        else if (!strcmp(a, "--reps")) rc = arg_int(a, v, 1, &reps), i++;
        else if (!strcmp(a, "--cell") && v && (!strcmp(v, "lstm") || !strcmp(v, "gru") || !strcmp(v, "rnn")))
            cell = v, i++;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: rql bench nets [--batch 32] [--steps 32] [--hidden 64] [--cell lstm|gru|rnn] [--reps N]\n"
                   "Times one training update (forward, BPTT, Adam) of dense(8) -> CELL(H) -> dense(4)\n"
                   "on one thread and compares its GFLOP/s with a 512^3 cblas_sgemm.\n");
            return 0;
        } else {
            fprintf(stderr, "rql bench nets: unknown or incomplete option \"%s\" (see --help)\n", a);
            return 2;
        }
        if (rc) return 2;
    }
    openblas_set_num_threads(1);

    char spec[96];
    snprintf(spec, sizeof spec, "dense:%d,%s:%d,dense:%d", D, cell, H, A);
    layer_spec ls[3];
    int nl = net_parse_spec(spec, ls, 3);
    net *n = nl == 3 ? net_alloc(In, ls, nl, B, T) : NULL;
    optim *o = n ? optim_alloc(OPT_ADAM, n->nparams, 1e-3f) : NULL;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    float *x = malloc(sizeof(float) * B * T * In), *y = malloc(sizeof(float) * B * T * A);
    float *dy = malloc(sizeof(float) * B * T * A);
    if (!n || !o || !r || !x || !y || !dy || net_init(n, r)) {
        fprintf(stderr, "rql bench nets: %s\n", rql_error());
        net_free(n); optim_free(o); gsl_rng_free(r); free(x); free(y); free(dy);
        return 1;
    }
    for (int k = 0; k < B * T * In; k++) x[k] = (float)(2.0 * gsl_rng_uniform(r) - 1.0);
    for (int k = 0; k < B * T * A; k++) dy[k] = (float)(1e-2 * (2.0 * gsl_rng_uniform(r) - 1.0));

    const int G = !strcmp(cell, "lstm") ? 4 : !strcmp(cell, "gru") ? 3 : 1;
    const double N = (double)B * T;
    const double fwd = 2 * N * ((double)In * D + (double)D * G * H + (double)H * G * H + (double)H * A);
    const double bwd = 2 * N * ((double)In * D + 2.0 * D * G * H + 2.0 * H * G * H + 2.0 * H * A);
    const double flop = fwd + bwd;

    /* the reference is measured before and after the update and the better
     * figure kept, so that a burst of load from other processes does not
     * inflate the ratio */
    double gemm = bench_sgemm_gflops(SGEMM_N);

    /* warm up, then size the run to about one second */
    int rc = 0;
    double t0 = rql_now_s();
    int warm = 0;
    while (warm < 20 || rql_now_s() - t0 < 0.2) {
        net_zero_grad(n);
        rc |= net_forward(n, x, NULL, B, T, NULL, 1, y, NULL);
        rc |= net_backward(n, dy, NULL);
        optim_step(o, n->params, n->grads);
        warm++;
    }
    double per = (rql_now_s() - t0) / warm;
    if (!reps) reps = (int)(1.0 / per) < 50 ? 50 : (int)(1.0 / per);
    double *dt = malloc(sizeof(double) * reps);
    /* the parts, best of the run, to show where the time goes */
    double part[3] = {1e30, 1e30, 1e30};
    for (int k = 0; k < reps && dt; k++) {
        double s = rql_now_s();
        net_zero_grad(n);
        rc |= net_forward(n, x, NULL, B, T, NULL, 1, y, NULL);
        double s1 = rql_now_s();
        rc |= net_backward(n, dy, NULL);
        double s2 = rql_now_s();
        optim_step(o, n->params, n->grads);
        double s3 = rql_now_s();
        dt[k] = s3 - s;
        if (s1 - s < part[0]) part[0] = s1 - s;
        if (s2 - s1 < part[1]) part[1] = s2 - s1;
        if (s3 - s2 < part[2]) part[2] = s3 - s2;
    }
    if (rc || !dt) {
        fprintf(stderr, "rql bench nets: %s\n", rc ? rql_error() : "out of memory");
        free(dt); net_free(n); optim_free(o); gsl_rng_free(r); free(x); free(y); free(dy);
        return 1;
    }
    double gemm2 = bench_sgemm_gflops(SGEMM_N);
    if (gemm2 > gemm) gemm = gemm2;
    qsort(dt, reps, sizeof *dt, cmp_double);
    double med = dt[reps / 2], best = dt[0];
    double gf = flop / med * 1e-9;
    printf("nets: dense(%d) -> %s(%d) -> dense(%d), %d inputs, batch %d x %d steps, %zu parameters\n",
           D, cell, H, A, In, B, T, n->nparams);
    printf("  update (forward + BPTT + Adam): %.3f ms median, %.3f ms best of %d; %.2f MFLOP (fwd %.2f + bwd %.2f)\n",
           med * 1e3, best * 1e3, reps, flop * 1e-6, fwd * 1e-6, bwd * 1e-6);
    printf("  update: %6.1f GFLOP/s (median), %6.1f GFLOP/s (best)\n", gf, flop / best * 1e-9);
    printf("  parts (best): forward %.3f ms (%.1f GFLOP/s), backward %.3f ms (%.1f GFLOP/s), Adam %.3f ms\n",
           part[0] * 1e3, fwd / part[0] * 1e-9, part[1] * 1e3, bwd / part[1] * 1e-9, part[2] * 1e3);
    printf("  sgemm %d^3:     %6.1f GFLOP/s (best of 80, before and after), one thread\n", SGEMM_N, gemm);
    printf("  ratio: %.0f%% of sgemm (median), %.0f%% (best); target >= 50%%\n", 100 * gf / gemm,
           100 * flop / best * 1e-9 / gemm);
    free(dt); net_free(n); optim_free(o); gsl_rng_free(r); free(x); free(y); free(dy);
    return 0;
}
