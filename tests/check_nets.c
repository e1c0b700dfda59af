/* check_nets — the nets module: finite-difference gradients of every layer
 * kind and of a stacked network (every parameter tensor, learned h0/c0, the
 * gradient w.r.t. a given initial state), masking of rows of different
 * lengths, the acting step against the sequence forward, optimizers against
 * hand-computed updates, clipping, target-network helpers, initialisation,
 * HDF5 weight I/O and every error path. */
#include <cblas.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gsl/gsl_rng.h>
#include "nets/nets.h"
#include "nets/nets_internal.h"
#include "nets/net_h5.h"

/* ---- helpers ---------------------------------------------------------------- */
static net *make_net(const char *spec, int in, int max_batch, int max_time, unsigned long seed) {
    layer_spec ls[8];
    int nl = net_parse_spec(spec, ls, 8);
    ck_assert_msg(nl > 0, "spec %s: %s", spec, rql_error());
    net *n = net_alloc(in, ls, nl, max_batch, max_time);
    ck_assert_msg(n != NULL, "net_alloc(%s): %s", spec, rql_error());
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    ck_assert_int_eq(net_init(n, r), 0);
    gsl_rng_free(r);
    return n;
}

static void fill_uniform(float *v, size_t count, double a, gsl_rng *r) {
    for (size_t k = 0; k < count; k++) v[k] = (float)(a * (2.0 * gsl_rng_uniform(r) - 1.0));
}

/* The loss of the gradient checks: sum(y * wy) in double, so dL/dy = wy. */
static double loss_of(net *n, const float *x, const int *len, int B, int T, const float *s0,
                      int seq, const float *wy, float *y) {
    ck_assert_msg(net_forward(n, x, len, B, T, s0, seq, y, NULL) == 0, "%s", rql_error());
    size_t ny = (size_t)B * (seq ? T : 1) * n->out;
    double L = 0;
    for (size_t k = 0; k < ny; k++) L += (double)y[k] * wy[k];
    return L;
}

typedef struct { double max_rel, max_abs; int checked, bad; char worst[128]; } gc_result;

/* Float forward, eps 1e-3: each numeric gradient carries about 1e-4 of
 * rounding noise, so a value passes when |analytic - numeric| <= GC_ATOL +
 * GC_RTOL |numeric|; a wrong formula is off by O(|gradient|). The relative
 * error reported is over the values with |numeric| >= 1e-2. */
#define GC_ATOL 5e-4
#define GC_RTOL 1e-2

static void gc_note(gc_result *g, double a, double num, const char *what, int idx) {
    double d = fabs(a - num);
    if (d > g->max_abs) g->max_abs = d;
    if (fabs(num) >= 1e-2 && d / fabs(num) > g->max_rel) g->max_rel = d / fabs(num);
    if (d > GC_ATOL + GC_RTOL * fabs(num) && !g->bad++)
        snprintf(g->worst, sizeof g->worst, "%s[%d]: analytic %.6g numeric %.6g", what, idx, a, num);
    g->checked++;
}

/* Central differences (eps 1e-3, loss summed in double over the float
 * forward) of every parameter, and of every state0 entry when use_state0,
 * against net_backward. Parameters (including h0/c0) are drawn from
 * U(-0.6, 0.6) so that biases and initial states are not trivially zero. */
static gc_result gradcheck(const char *spec, int in, int B, int T, const int *len, int seq,
                           int use_state0, unsigned long seed) {
    const double eps = 1e-3;
    /* workspaces larger than the pass: the compact B x T layout is used */
    net *n = make_net(spec, in, B + 3, T + 2, seed);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed + 1);
    fill_uniform(n->params, n->nparams, 0.6, r);
    int S = net_state_size(n);
    size_t nx = (size_t)B * T * in, ny = (size_t)B * (seq ? T : 1) * n->out;
    float *x = malloc(sizeof(float) * nx), *wy = malloc(sizeof(float) * ny);
    float *y = malloc(sizeof(float) * ny);
    float *s0 = use_state0 ? malloc(sizeof(float) * B * S) : NULL;
    float *ds0 = use_state0 ? malloc(sizeof(float) * B * S) : NULL;
    fill_uniform(x, nx, 1.0, r);
    fill_uniform(wy, ny, 1.0, r);
    if (s0) fill_uniform(s0, (size_t)B * S, 0.8, r);

    net_zero_grad(n);
    loss_of(n, x, len, B, T, s0, seq, wy, y);
    ck_assert_msg(net_backward(n, wy, ds0) == 0, "%s", rql_error());

    gc_result g = {0, 0, 0, 0, ""};
    for (int ti = 0; ti < n->ntensors; ti++) {
        const net_tensor *t = &n->tensors[ti];
        for (size_t k = 0; k < t->size; k++) {
            float *p = n->params + t->off + k, keep = *p;
            *p = (float)(keep + eps);
            double lp = loss_of(n, x, len, B, T, s0, seq, wy, y);
            *p = (float)(keep - eps);
            double lm = loss_of(n, x, len, B, T, s0, seq, wy, y);
            *p = keep;
            /* divide by the step actually taken in float */
            double num = (lp - lm) / ((double)(float)(keep + eps) - (double)(float)(keep - eps));
            gc_note(&g, n->grads[t->off + k], num, t->name, (int)k);
        }
    }
    for (int k = 0; s0 && k < B * S; k++) {
        float keep = s0[k];
        s0[k] = (float)(keep + eps);
        double lp = loss_of(n, x, len, B, T, s0, seq, wy, y);
        s0[k] = (float)(keep - eps);
        double lm = loss_of(n, x, len, B, T, s0, seq, wy, y);
        s0[k] = keep;
        double num = (lp - lm) / ((double)(float)(keep + eps) - (double)(float)(keep - eps));
        gc_note(&g, ds0[k], num, "state0", k);
    }
    free(x); free(wy); free(y); free(s0); free(ds0);
    gsl_rng_free(r);
    net_free(n);
    return g;
}

static void expect_grads(const char *spec, int in, int B, int T, const int *len, int seq, int s0) {
    gc_result g = gradcheck(spec, in, B, T, len, seq, s0, 1234);
    fprintf(stderr, "gradcheck %-28s seq=%d state0=%d: %4d values, max rel err %.2e, max abs err %.2e\n",
            spec, seq, s0, g.checked, g.max_rel, g.max_abs);
    ck_assert_msg(g.checked > 0, "nothing checked");
    ck_assert_msg(g.bad == 0, "%s seq=%d state0=%d: %d of %d gradients off, first %s", spec, seq,
                  s0, g.bad, g.checked, g.worst);
}

static const int LEN5[4] = {5, 2, 0, 4};   /* ragged rows, one empty */

/* ---- gradient checks -------------------------------------------------------- */
START_TEST(grad_dense) {
    static const char *specs[] = {"dense:5:relu", "dense:5:tanh", "dense:5:none", "dense:4:tanh,dense:3:relu"};
    for (int s = 0; s < 4; s++) {
        expect_grads(specs[s], 3, 4, 5, LEN5, 1, 0);
        expect_grads(specs[s], 3, 4, 5, LEN5, 0, 0);
    }
}
END_TEST

START_TEST(grad_rnn) {
    expect_grads("rnn:4:h0", 3, 4, 5, LEN5, 1, 0);
    expect_grads("rnn:4:h0", 3, 4, 5, LEN5, 0, 0);
    expect_grads("rnn:4", 3, 4, 5, LEN5, 1, 1);
}
END_TEST

START_TEST(grad_lstm) {
    expect_grads("lstm:4:h0", 3, 4, 5, LEN5, 1, 0);
    expect_grads("lstm:4:h0", 3, 4, 5, LEN5, 0, 0);
    expect_grads("lstm:4", 3, 4, 5, LEN5, 1, 1);
    expect_grads("lstm:3", 2, 2, 4, NULL, 0, 1);
}
END_TEST

START_TEST(grad_gru) {
    expect_grads("gru:4:h0", 3, 4, 5, LEN5, 1, 0);
    expect_grads("gru:4:h0", 3, 4, 5, LEN5, 0, 0);
    expect_grads("gru:4", 3, 4, 5, LEN5, 1, 1);
}
END_TEST

START_TEST(grad_stack) {
    expect_grads("dense:6:tanh,lstm:5:h0,dense:3", 3, 4, 5, LEN5, 1, 0);
    expect_grads("dense:6:relu,lstm:5:h0,dense:3", 3, 4, 5, LEN5, 0, 0);
    expect_grads("dense:4:tanh,gru:3,rnn:3:h0,lstm:3,dense:2", 3, 4, 5, LEN5, 1, 1);
}
END_TEST

START_TEST(grad_peephole) {
    expect_grads("peephole:4:h0", 3, 4, 5, LEN5, 1, 0);
    expect_grads("peephole:4:h0", 3, 4, 5, LEN5, 0, 0);
    expect_grads("peephole:4", 3, 4, 5, LEN5, 1, 1);
    expect_grads("peephole:3", 2, 2, 4, NULL, 0, 1);
}
END_TEST

START_TEST(grad_mingru) {
    expect_grads("mingru:4:h0", 3, 4, 5, LEN5, 1, 0);
    expect_grads("mingru:4:h0", 3, 4, 5, LEN5, 0, 0);
    expect_grads("mingru:4", 3, 4, 5, LEN5, 1, 1);
    expect_grads("mingru:3", 2, 2, 1, NULL, 1, 1);       /* T = 1: the step path */
}
END_TEST

START_TEST(grad_lru) {
    expect_grads("lru:4:h0", 3, 4, 5, LEN5, 1, 0);
    expect_grads("lru:4:h0", 3, 4, 5, LEN5, 0, 0);
    expect_grads("lru:4", 3, 4, 5, LEN5, 1, 1);
    expect_grads("lru:3", 5, 2, 4, NULL, 0, 1);
    /* lru.c runs a sequence in blocks of 512 / B steps: B 40, T 30 is
     * blocks of 12 steps, [0,12) [12,24) [24,30), forward and then backward
     * from the last (which runs each block's scan again from the state kept
     * before it); rows end at, next to and inside them */
    static int len40[40];
    static const int ends[] = {30, 29, 24, 23, 25, 18, 17, 19, 12, 11, 13, 6, 5, 7, 1, 0, 15, 27, 9, 3};
    for (int b = 0; b < 40; b++) len40[b] = ends[b % 20];
    expect_grads("dense:3:tanh,lru:3:h0,dense:2", 2, 40, 30, len40, 1, 0);
    expect_grads("lru:3", 2, 40, 30, len40, 0, 1);
}
END_TEST

START_TEST(grad_stack_cells) {
    expect_grads("dense:5:tanh,mingru:4:h0,lru:3:h0,peephole:3,dense:2", 3, 4, 5, LEN5, 1, 0);
    expect_grads("dense:4:relu,lru:4,mingru:3,dense:2", 3, 4, 5, LEN5, 0, 1);
}
END_TEST

/* net_backward_state: a loss on the final state too, L = sum(y * wy) +
 * sum(state_out * ws), with ragged rows (one empty) and a given state0;
 * central differences of every parameter and state0 entry. dy NULL (only
 * the state matters, an encoder's case) is checked on the last spec. */
static double state_loss(net *n, const float *x, const float *s0, const float *wy, const float *ws,
                         float *y, float *so, int B, int T) {
    ck_assert_int_eq(net_forward(n, x, LEN5, B, T, s0, 1, y, so), 0);
    double L = 0;
    for (int k = 0; k < B * T * n->out; k++) L += (double)y[k] * wy[k];
    for (int k = 0; k < B * net_state_size(n); k++) L += (double)so[k] * ws[k];
    return L;
}

static void expect_state_grads(const char *spec, int use_dy) {
    const int B = 4, T = 5, in = 3;
    const double eps = 1e-3;
    net *n = make_net(spec, in, B, T, 77);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 78);
    fill_uniform(n->params, n->nparams, 0.6, r);
    const int S = net_state_size(n);
    float x[4 * 5 * 3], wy[4 * 5 * 8], y[4 * 5 * 8], s0[4 * 64], ws[4 * 64], so[4 * 64], ds0[4 * 64];
    fill_uniform(x, sizeof x / sizeof *x, 1.0, r);
    fill_uniform(wy, sizeof wy / sizeof *wy, use_dy ? 1.0 : 0.0, r);
    fill_uniform(s0, (size_t)B * S, 0.8, r);
    fill_uniform(ws, (size_t)B * S, 1.0, r);
    state_loss(n, x, s0, wy, ws, y, so, B, T);
    net_zero_grad(n);
    ck_assert_msg(net_backward_state(n, use_dy ? wy : NULL, ws, ds0) == 0, "%s", rql_error());
    gc_result g = {0, 0, 0, 0, ""};
    for (size_t k = 0; k < n->nparams; k++) {
        float keep = n->params[k];
        n->params[k] = (float)(keep + eps);
        double lp = state_loss(n, x, s0, wy, ws, y, so, B, T);
        n->params[k] = (float)(keep - eps);
        double lm = state_loss(n, x, s0, wy, ws, y, so, B, T);
        n->params[k] = keep;
        gc_note(&g, n->grads[k], (lp - lm) / ((double)(float)(keep + eps) - (double)(float)(keep - eps)),
                "param", (int)k);
    }
    for (int k = 0; k < B * S; k++) {
        float keep = s0[k];
        s0[k] = (float)(keep + eps);
        double lp = state_loss(n, x, s0, wy, ws, y, so, B, T);
        s0[k] = (float)(keep - eps);
        double lm = state_loss(n, x, s0, wy, ws, y, so, B, T);
        s0[k] = keep;
        gc_note(&g, ds0[k], (lp - lm) / ((double)(float)(keep + eps) - (double)(float)(keep - eps)),
                "state0", k);
    }
    fprintf(stderr, "gradcheck state_out %-34s dy=%d: %4d values, max rel err %.2e\n", spec, use_dy,
            g.checked, g.max_rel);
    ck_assert_msg(g.bad == 0, "%s: %d of %d gradients off, first %s", spec, g.bad, g.checked, g.worst);
    gsl_rng_free(r);
    net_free(n);
}

START_TEST(grad_state_out) {
    static const char *specs[] = {"lstm:3,dense:2", "gru:3", "rnn:3,dense:2", "peephole:3", "mingru:3,dense:2",
                                  "lru:3", "dense:3:tanh,lstm:3,lru:2,mingru:2,dense:2"};
    for (int s = 0; s < 7; s++) expect_state_grads(specs[s], 1);
    expect_state_grads("dense:3:tanh,peephole:3,lru:2,dense:2", 0);
}
END_TEST

/* Scan equals step for the scan cells over a long sequence: mingru's
 * log-space scan and lru's scan (net_forward, T = 200) against 200 calls of
 * net_step (mingru: its recurrence), outputs and states to 1e-5 relative,
 * from a learned initial state with negative entries and with the gates
 * drawn so that the state both decays and holds (|a*| reaches hundreds). */
START_TEST(scan_equals_step) {
    static const char *specs[] = {"mingru:8:h0", "lru:8:h0", "dense:6:tanh,mingru:5,lru:4:h0,dense:3"};
    const int B = 3, T = 200, in = 4;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 21);
    for (int s = 0; s < 3; s++) {
        net *n = make_net(specs[s], in, B, T, 31 + s);
        fill_uniform(n->params, n->nparams, 0.8, r);
        int S = net_state_size(n), O = n->out;
        float *x = malloc(sizeof(float) * B * T * in), *y = malloc(sizeof(float) * B * T * O);
        float xs[3 * 4], ys[3 * 8], st[3 * 64], sout[3 * 64];
        fill_uniform(x, (size_t)B * T * in, 1.5, r);
        ck_assert_int_eq(net_forward(n, x, NULL, B, T, NULL, 1, y, sout), 0);
        net_state_reset(n, st, B, NULL);
        double worst = 0;
        for (int t = 0; t < T; t++) {
            for (int b = 0; b < B; b++) memcpy(xs + b * in, x + (b * T + t) * in, sizeof(float) * in);
            ck_assert_int_eq(net_step(n, xs, st, B, ys), 0);
            for (int b = 0; b < B; b++)
                for (int j = 0; j < O; j++) {
                    float a = ys[b * O + j], f = y[(b * T + t) * O + j];
                    double e = fabs(a - f) / (fabs(f) > 1 ? fabs(f) : 1);
                    if (e > worst) worst = e;
                    ck_assert_msg(e < 1e-5, "%s: step %d row %d out %d: step %.9g, scan %.9g",
                                  specs[s], t, b, j, a, f);
                }
        }
        for (int k = 0; k < B * S; k++)
            ck_assert_msg(fabsf(st[k] - sout[k]) <= 1e-5f * fmaxf(1.0f, fabsf(sout[k])),
                          "%s: state[%d] step %.9g scan %.9g", specs[s], k, st[k], sout[k]);
        fprintf(stderr, "scan vs step %-40s T=%d: max rel error %.2e\n", specs[s], T, worst);
        free(x); free(y);
        net_free(n);
    }
    gsl_rng_free(r);
}
END_TEST

/* ---- sequence semantics ----------------------------------------------------- */
/* net_step, fed one step at a time, gives the outputs and the final state of
 * the sequence forward. */
START_TEST(step_equals_forward) {
    static const char *specs[] = {"rnn:5:h0", "lstm:5:h0", "gru:5:h0", "dense:4:relu,lstm:6,gru:3:h0,dense:2",
                                  "peephole:5:h0", "mingru:5:h0", "lru:5:h0"};
    const int B = 3, T = 6, in = 4;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    for (int s = 0; s < 7; s++) {
        net *n = make_net(specs[s], in, B, T, 11 + s);
        fill_uniform(n->params, n->nparams, 0.5, r);
        int S = net_state_size(n), O = n->out;
        float x[3 * 6 * 4], y[3 * 6 * 8], xs[3 * 4], ys[3 * 8], st[3 * 64], sout[3 * 64];
        fill_uniform(x, sizeof x / sizeof *x, 1.0, r);
        ck_assert_int_eq(net_forward(n, x, NULL, B, T, NULL, 1, y, sout), 0);
        net_state_reset(n, st, B, NULL);
        for (int t = 0; t < T; t++) {
            for (int b = 0; b < B; b++) memcpy(xs + b * in, x + (b * T + t) * in, sizeof(float) * in);
            ck_assert_int_eq(net_step(n, xs, st, B, ys), 0);
            for (int b = 0; b < B; b++)
                for (int j = 0; j < O; j++)
                    ck_assert_msg(fabsf(ys[b * O + j] - y[(b * T + t) * O + j]) < 1e-6f,
                                  "%s: step %d row %d out %d: step %g, forward %g", specs[s], t, b, j,
                                  ys[b * O + j], y[(b * T + t) * O + j]);
        }
        for (int k = 0; k < B * S; k++)
            ck_assert_msg(fabsf(st[k] - sout[k]) < 1e-6f, "%s: state[%d] step %g forward %g",
                          specs[s], k, st[k], sout[k]);
        net_free(n);
    }
    gsl_rng_free(r);
}
END_TEST

/* Rows of different lengths: masked steps output zeros, leave the state as
 * it was after the last valid step, and never let their input (here NaN)
 * reach an output or a gradient; the last-output mode picks step len-1. */
START_TEST(masked_rows) {
    const int B = 3, T = 6, in = 3;
    const int len[3] = {6, 3, 0};
    net *n = make_net("dense:3:tanh,lstm:4:h0,gru:3,dense:2", in, B, T, 5);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 9);
    fill_uniform(n->params, n->nparams, 0.5, r);
    int S = net_state_size(n), O = n->out;
    float x[3 * 6 * 3], y[3 * 6 * 2], ylast[3 * 2], sout[3 * 16], s1[16], y1[6 * 2], init[3 * 16];
    fill_uniform(x, sizeof x / sizeof *x, 1.0, r);
    for (int b = 0; b < B; b++)
        for (int t = len[b]; t < T; t++)
            for (int i = 0; i < in; i++) x[(b * T + t) * in + i] = NAN;
    ck_assert_int_eq(net_forward(n, x, len, B, T, NULL, 0, ylast, NULL), 0);
    ck_assert_int_eq(net_forward(n, x, len, B, T, NULL, 1, y, sout), 0);
    net_state_reset(n, init, B, NULL);
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++)
            for (int j = 0; j < O; j++) {
                float v = y[(b * T + t) * O + j];
                ck_assert_msg(isfinite(v), "row %d step %d: y = %g", b, t, v);
                if (t >= len[b]) ck_assert_msg(v == 0.0f, "row %d masked step %d: y = %g", b, t, v);
            }
        for (int j = 0; j < O; j++)
            ck_assert_msg(ylast[b * O + j] == (len[b] ? y[(b * T + len[b] - 1) * O + j] : 0.0f),
                          "row %d: last output %g", b, ylast[b * O + j]);
        if (len[b] == 0) {   /* nothing consumed: the state is the initial one */
            for (int k = 0; k < S; k++) ck_assert(sout[b * S + k] == init[b * S + k]);
            continue;
        }
        /* the same row alone, cut to its length, ends in the same state */
        net *m = make_net("dense:3:tanh,lstm:4:h0,gru:3,dense:2", in, 1, T, 5);
        memcpy(m->params, n->params, sizeof(float) * n->nparams);
        ck_assert_int_eq(net_forward(m, x + b * T * in, NULL, 1, len[b], NULL, 1, y1, s1), 0);
        for (int k = 0; k < S; k++)
            ck_assert_msg(fabsf(s1[k] - sout[b * S + k]) < 1e-6f, "row %d state %d: %g vs %g", b, k,
                          s1[k], sout[b * S + k]);
        net_free(m);
    }
    float dy[3 * 6 * 2];
    fill_uniform(dy, sizeof dy / sizeof *dy, 1.0, r);
    net_zero_grad(n);
    ck_assert_int_eq(net_backward(n, dy, NULL), 0);
    for (size_t k = 0; k < n->nparams; k++) ck_assert_msg(isfinite(n->grads[k]), "grad %zu = %g", k, n->grads[k]);
    gsl_rng_free(r);
    net_free(n);
}
END_TEST

/* net_state_reset: only flagged rows, to the learned h0/c0 where enabled. */
START_TEST(state_reset) {
    net *n = make_net("lstm:3:h0,rnn:2", 2, 2, 2, 1);
    ck_assert_int_eq(net_state_size(n), 3 + 3 + 2);
    ck_assert_int_eq(net_hidden_size(n), 2);
    const net_layer *L = &n->layers[0];
    for (int j = 0; j < 3; j++) {
        n->params[L->off_h0 + j] = 0.5f + j;
        n->params[L->off_c0 + j] = -1.0f - j;
    }
    float st[2 * 8];
    for (int k = 0; k < 16; k++) st[k] = 9.0f;
    uint8_t reset[2] = {0, 1};
    net_state_reset(n, st, 2, reset);
    for (int k = 0; k < 8; k++) ck_assert(st[k] == 9.0f);
    const float want[8] = {0.5f, 1.5f, 2.5f, -1.0f, -2.0f, -3.0f, 0.0f, 0.0f};
    for (int k = 0; k < 8; k++) ck_assert_msg(st[8 + k] == want[k], "state[%d] = %g", k, st[8 + k]);
    net_free(n);
    net *d = make_net("dense:3", 2, 2, 2, 1);
    ck_assert_int_eq(net_state_size(d), 0);
    ck_assert_int_eq(net_hidden_size(d), 0);
    net_free(d);
}
END_TEST

/* A given state0 is used instead of h0, learned h0 then gets no gradient. */
START_TEST(state0_overrides_h0) {
    net *n = make_net("gru:3:h0", 2, 2, 3, 2);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 3);
    fill_uniform(n->params, n->nparams, 0.5, r);
    float x[2 * 3 * 2], y[2 * 3], y2[2 * 3], s0[2 * 3], dy[2 * 3], ds0[2 * 3];
    fill_uniform(x, 12, 1.0, r);
    fill_uniform(dy, 6, 1.0, r);
    net_state_reset(n, s0, 2, NULL);
    ck_assert_int_eq(net_forward(n, x, NULL, 2, 3, NULL, 0, y, NULL), 0);
    ck_assert_int_eq(net_forward(n, x, NULL, 2, 3, s0, 0, y2, NULL), 0);
    for (int k = 0; k < 6; k++) ck_assert(y[k] == y2[k]);
    net_zero_grad(n);
    ck_assert_int_eq(net_backward(n, dy, ds0), 0);
    const net_layer *L = &n->layers[0];
    for (int j = 0; j < 3; j++) ck_assert(n->grads[L->off_h0 + j] == 0.0f);
    /* the same backward without state0 puts sum_b dstate0 into h0 */
    ck_assert_int_eq(net_forward(n, x, NULL, 2, 3, NULL, 0, y, NULL), 0);
    net_zero_grad(n);
    ck_assert_int_eq(net_backward(n, dy, NULL), 0);
    for (int j = 0; j < 3; j++)
        ck_assert_msg(fabsf(n->grads[L->off_h0 + j] - (ds0[j] + ds0[3 + j])) < 1e-6f, "h0[%d]", j);
    gsl_rng_free(r);
    net_free(n);
}
END_TEST

/* net_state0_grad_accumulate: rows whose given state0 was the learned h0
 * pass dL/dstate0 on to h0 / c0 of every learned layer, and for all rows it
 * gives what a backward without state0 gives; net_state_hidden reads the
 * last recurrent layer's h and c out of state rows. */
START_TEST(state0_grad_accumulate) {
    const int B = 3, T = 4, in = 2;
    net *n = make_net("dense:3:tanh,lstm:4:h0,gru:3:h0,dense:2", in, B, T, 6);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 6);
    fill_uniform(n->params, n->nparams, 0.5, r);
    const int S = net_state_size(n);
    ck_assert_int_eq(S, 4 + 4 + 3);
    float x[3 * 4 * 2], y[3 * 2], dy[3 * 2], s0[3 * 11], ds0[3 * 11];
    fill_uniform(x, sizeof x / sizeof *x, 1.0, r);
    fill_uniform(dy, sizeof dy / sizeof *dy, 1.0, r);
    net_state_reset(n, s0, B, NULL);
    ck_assert_int_eq(net_forward(n, x, NULL, B, T, s0, 0, y, NULL), 0);
    net_zero_grad(n);
    ck_assert_int_eq(net_backward(n, dy, ds0), 0);
    const net_layer *lstm = &n->layers[1], *gru = &n->layers[2];
    const uint8_t rows[3] = {1, 0, 1};
    net_state0_grad_accumulate(n, ds0, B, rows);
    for (int j = 0; j < 4; j++) {
        float h = ds0[lstm->state_off + j] + ds0[2 * S + lstm->state_off + j];
        float c = ds0[lstm->state_off + 4 + j] + ds0[2 * S + lstm->state_off + 4 + j];
        ck_assert_msg(n->grads[lstm->off_h0 + j] == h, "lstm h0[%d]: %g, want %g", j, n->grads[lstm->off_h0 + j], h);
        ck_assert_msg(n->grads[lstm->off_c0 + j] == c, "lstm c0[%d]: %g, want %g", j, n->grads[lstm->off_c0 + j], c);
    }
    for (int j = 0; j < 3; j++) {
        float h = ds0[gru->state_off + j] + ds0[2 * S + gru->state_off + j];
        ck_assert_msg(n->grads[gru->off_h0 + j] == h, "gru h0[%d]: %g, want %g", j, n->grads[gru->off_h0 + j], h);
    }
    /* all rows: the gradient a backward without state0 leaves in h0 / c0 */
    float *g = malloc(sizeof(float) * n->nparams);
    net_zero_grad(n);
    ck_assert_int_eq(net_backward(n, dy, ds0), 0);
    net_state0_grad_accumulate(n, ds0, B, NULL);
    memcpy(g, n->grads, sizeof(float) * n->nparams);
    ck_assert_int_eq(net_forward(n, x, NULL, B, T, NULL, 0, y, NULL), 0);
    net_zero_grad(n);
    ck_assert_int_eq(net_backward(n, dy, NULL), 0);
    int nonzero = 0;
    for (size_t k = 0; k < n->nparams; k++) {
        ck_assert_msg(fabsf(g[k] - n->grads[k]) <= 1e-6f * (1 + fabsf(g[k])), "grad %zu: %g vs %g", k, g[k],
                      n->grads[k]);
        nonzero += k >= lstm->off_h0 && k < lstm->off_h0 + 4 && g[k] != 0.0f;
    }
    ck_assert_int_gt(nonzero, 0);
    /* a net without learned state is left alone */
    net *d = make_net("lstm:2", in, 1, 1, 1);
    float dd[4] = {1, 2, 3, 4};
    net_zero_grad(d);
    net_state0_grad_accumulate(d, dd, 1, NULL);
    for (size_t k = 0; k < d->nparams; k++) ck_assert(d->grads[k] == 0.0f);
    net_free(d);
    /* net_state_hidden: the last recurrent layer (gru: no cell) */
    float st[2 * 11], hid[2 * 3], cell[2 * 3] = {-7, -7, -7, -7, -7, -7};
    for (int k = 0; k < 22; k++) st[k] = (float)k;
    net_state_hidden(n, st, 2, hid, cell);
    for (int b = 0; b < 2; b++)
        for (int j = 0; j < 3; j++) {
            ck_assert(hid[b * 3 + j] == st[b * 11 + 8 + j]);
            ck_assert(cell[b * 3 + j] == -7);
        }
    net *m = make_net("gru:2,lstm:3,dense:2", in, 2, 1, 1);
    float st2[2 * 8], h2[2 * 3], c2[2 * 3];
    for (int k = 0; k < 16; k++) st2[k] = (float)k;
    net_state_hidden(m, st2, 2, h2, c2);
    for (int b = 0; b < 2; b++)
        for (int j = 0; j < 3; j++) {
            ck_assert(h2[b * 3 + j] == st2[b * 8 + 2 + j]);
            ck_assert(c2[b * 3 + j] == st2[b * 8 + 5 + j]);
        }
    net_free(m);
    free(g);
    gsl_rng_free(r);
    net_free(n);
}
END_TEST

/* Backward adds into grads: two backwards give twice one. */
START_TEST(backward_accumulates) {
    net *n = make_net("dense:3:tanh,lstm:4", 2, 2, 3, 4);
    float x[12], y[2 * 3 * 4], dy[2 * 3 * 4];
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 4);
    fill_uniform(x, 12, 1.0, r);
    fill_uniform(dy, 24, 1.0, r);
    ck_assert_int_eq(net_forward(n, x, NULL, 2, 3, NULL, 1, y, NULL), 0);
    net_zero_grad(n);
    ck_assert_int_eq(net_backward(n, dy, NULL), 0);
    float *g1 = malloc(sizeof(float) * n->nparams);
    memcpy(g1, n->grads, sizeof(float) * n->nparams);
    ck_assert_int_eq(net_backward(n, dy, NULL), 0);
    int nonzero = 0;
    for (size_t k = 0; k < n->nparams; k++) {
        /* bias sums accumulate row by row into grads: rounding, not 2x exactly */
        ck_assert_msg(fabsf(n->grads[k] - 2 * g1[k]) <= 1e-5f * fabsf(g1[k]) + 1e-6f, "grad %zu: %g vs 2 x %g",
                      k, n->grads[k], g1[k]);
        nonzero += g1[k] != 0.0f;
    }
    ck_assert_int_gt(nonzero, (int)n->nparams / 2);
    net_zero_grad(n);
    for (size_t k = 0; k < n->nparams; k++) ck_assert(n->grads[k] == 0.0f);
    free(g1);
    gsl_rng_free(r);
    net_free(n);
}
END_TEST

/* ---- optimizers ------------------------------------------------------------- */
/* Updates worked out by hand from torch.optim's rules for gradients
 * g1 = (0.5, -2), g2 = (-0.25, 1) from p0 = (1, -1), lr 0.1. */
static void two_steps(optim *o, float *p) {
    const float g1[2] = {0.5f, -2.0f}, g2[2] = {-0.25f, 1.0f};
    optim_step(o, p, g1);
    optim_step(o, p, g2);
}

START_TEST(opt_sgd) {
    float p[2] = {1.0f, -1.0f};
    optim *o = optim_alloc(OPT_SGD, 2, 0.1f);
    two_steps(o, p);               /* no momentum: p0 - lr (g1 + g2) */
    ck_assert_float_eq_tol(p[0], 1.0f - 0.1f * 0.25f, 1e-7f);
    ck_assert_float_eq_tol(p[1], -1.0f - 0.1f * -1.0f, 1e-7f);
    optim_free(o);
    float q[2] = {1.0f, -1.0f};
    o = optim_alloc(OPT_SGD, 2, 0.1f);
    o->momentum = 0.9f;            /* buf1 = g1; buf2 = 0.9 g1 + g2 */
    two_steps(o, q);
    ck_assert_float_eq_tol(q[0], 1.0f - 0.1f * 0.5f - 0.1f * (0.45f - 0.25f), 1e-6f);   /* 0.93 */
    ck_assert_float_eq_tol(q[1], -1.0f + 0.2f - 0.1f * (-1.8f + 1.0f), 1e-6f);       /* -0.72 */
    ck_assert_float_eq_tol(q[0], 0.93f, 1e-6f);
    ck_assert_float_eq_tol(q[1], -0.72f, 1e-6f);
    optim_free(o);
    float w[1] = {2.0f}, gw[1] = {0.0f};
    o = optim_alloc(OPT_SGD, 1, 0.1f);
    o->weight_decay = 0.5f;        /* g + wd p = 1: p = 2 - 0.1 */
    optim_step(o, w, gw);
    ck_assert_float_eq_tol(w[0], 1.9f, 1e-6f);
    optim_free(o);
}
END_TEST

START_TEST(opt_rmsprop) {
    float p[2] = {1.0f, -1.0f};
    optim *o = optim_alloc(OPT_RMSPROP, 2, 0.1f);
    ck_assert_float_eq(o->alpha, 0.99f);
    ck_assert_ptr_null(o->m);
    two_steps(o, p);
    /* v1 = 0.01 g1^2 -> step 1 = lr g1 / (0.1 |g1|) = 1 * sign(g1)
     * v2 = 0.99 v1 + 0.01 g2^2: for x: 0.0099*0.25 + 0.01*0.0625 = 0.003100
     * step 2 = 0.1 * -0.25 / sqrt(0.0031) = -0.449013 */
    ck_assert_float_eq_tol(p[0], 1.0f - 1.0f + 0.4490133f, 1e-5f);
    /* y: v2 = 0.0099*4 + 0.01*1 = 0.0496, step2 = 0.1 / sqrt(0.0496) = 0.449013 */
    ck_assert_float_eq_tol(p[1], -1.0f + 1.0f - 0.4490133f, 1e-5f);
    optim_free(o);
}
END_TEST

START_TEST(opt_adam) {
    float p[2] = {1.0f, -1.0f};
    optim *o = optim_alloc(OPT_ADAM, 2, 0.1f);
    const float g1[2] = {0.5f, -2.0f}, g2[2] = {-0.25f, 1.0f};
    optim_step(o, p, g1);
    /* bias-corrected first step: m^ = g, v^ = g^2, so p -= lr sign(g) */
    ck_assert_float_eq_tol(p[0], 0.9f, 1e-6f);
    ck_assert_float_eq_tol(p[1], -0.9f, 1e-6f);
    optim_step(o, p, g2);
    /* x: m = 0.9*0.05 + 0.1*-0.25 = 0.02, v = 0.999*0.00025 + 0.001*0.0625 = 0.00031225
     * m^ = 0.02 / 0.19 = 0.105263, v^ = 0.00031225 / 0.001999 = 0.156203
     * step = 0.1 * 0.105263 / 0.395225 = 0.0266337 */
    ck_assert_float_eq_tol(p[0], 0.9f - 0.0266337f, 2e-6f);
    /* y: m = 0.9*-0.2 + 0.1*1 = -0.08, v = 0.999*0.004 + 0.001 = 0.004996
     * m^ = -0.421053, v^ = 2.499250, step = 0.1 * -0.421053 / 1.580902 = -0.0266337 */
    ck_assert_float_eq_tol(p[1], -0.9f + 0.0266337f, 2e-6f);
    ck_assert_int_eq(o->t, 2);
    optim_free(o);
}
END_TEST

START_TEST(clip_norm) {
    float g[2] = {3.0f, 4.0f};
    ck_assert_float_eq_tol(nets_clip_grad_norm(g, 2, 10.0f), 5.0f, 1e-6f);
    ck_assert(g[0] == 3.0f && g[1] == 4.0f);
    ck_assert_float_eq_tol(nets_clip_grad_norm(g, 2, 0.0f), 5.0f, 1e-6f);
    ck_assert(g[0] == 3.0f && g[1] == 4.0f);
    ck_assert_float_eq_tol(nets_clip_grad_norm(g, 2, 1.0f), 5.0f, 1e-6f);
    ck_assert_float_eq_tol(g[0], 0.6f, 1e-6f);
    ck_assert_float_eq_tol(g[1], 0.8f, 1e-6f);
    ck_assert_float_eq_tol(nets_clip_grad_norm(g, 2, 1.0f), 1.0f, 1e-6f);
}
END_TEST

/* ---- target networks -------------------------------------------------------- */
START_TEST(copy_polyak_checksum) {
    net *a = make_net("dense:4:relu,lstm:5", 3, 2, 2, 1), *b = make_net("dense:4:relu,lstm:5", 3, 2, 2, 2);
    ck_assert(net_checksum(a) != net_checksum(b));
    float *pb = malloc(sizeof(float) * b->nparams);
    memcpy(pb, b->params, sizeof(float) * b->nparams);
    ck_assert_int_eq(net_polyak(b, a, 0.25f), 0);
    for (size_t k = 0; k < a->nparams; k++)
        ck_assert_float_eq_tol(b->params[k], 0.25f * a->params[k] + 0.75f * pb[k], 1e-7f);
    ck_assert_int_eq(net_copy(b, a), 0);
    ck_assert(net_checksum(a) == net_checksum(b));
    ck_assert(memcmp(a->params, b->params, sizeof(float) * a->nparams) == 0);
    a->params[3] += 1.0f;
    ck_assert(net_checksum(a) != net_checksum(b));
    ck_assert_int_eq(net_polyak(b, a, 1.5f), NETS_EINVAL);
    ck_assert_ptr_nonnull(strstr(rql_error(), "tau"));
    net *c = make_net("dense:4:relu,gru:5", 3, 2, 2, 1);
    ck_assert_int_eq(net_copy(c, a), NETS_ESHAPE);
    ck_assert_ptr_nonnull(strstr(rql_error(), "layer 1"));
    ck_assert_int_eq(net_polyak(c, a, 0.5f), NETS_ESHAPE);
    free(pb);
    net_free(a); net_free(b); net_free(c);
}
END_TEST

/* ---- initialisation --------------------------------------------------------- */
START_TEST(init_stats) {
    net *n = make_net("dense:64:relu,lstm:64,gru:32,rnn:16", 32, 1, 1, 42);
    for (int ti = 0; ti < n->ntensors; ti++) {
        const net_tensor *t = &n->tensors[ti];
        const net_layer *L = &n->layers[t->layer];
        const float *w = n->params + t->off;
        int H = L->units;
        if (strstr(t->name, "weight_hh")) {
            int G = t->shape[0] / H;
            for (int k = 0; k < G; k++) {   /* each gate block is orthogonal */
                const float *q = w + (size_t)k * H * H;
                double worst = 0;
                for (int i = 0; i < H; i++)
                    for (int j = 0; j < H; j++) {
                        double d = 0;
                        for (int r = 0; r < H; r++) d += (double)q[r * H + i] * q[r * H + j];
                        worst = fmax(worst, fabs(d - (i == j)));
                    }
                ck_assert_msg(worst < 1e-5, "%s block %d: |W^T W - I| = %g", t->name, k, worst);
            }
        } else if (t->ndim == 2) {          /* Glorot uniform, Keras fans */
            int fan_out = L->kind == LAYER_DENSE ? H : t->shape[0];
            double a = sqrt(6.0 / (t->shape[1] + fan_out)), mx = 0, m = 0, v = 0;
            for (size_t k = 0; k < t->size; k++) {
                mx = fmax(mx, fabs(w[k]));
                m += w[k];
                v += (double)w[k] * w[k];
            }
            m /= t->size;
            v = v / t->size - m * m;
            ck_assert_msg(mx <= a && mx > 0.95 * a, "%s: max |w| %g, bound %g", t->name, mx, a);
            ck_assert_msg(fabs(m) < 0.05 * a, "%s: mean %g", t->name, m);
            ck_assert_msg(fabs(v / (a * a / 3) - 1) < 0.1, "%s: var %g, want %g", t->name, v, a * a / 3);
        } else {                            /* biases: zero but the LSTM forget gate of b_ih */
            for (size_t k = 0; k < t->size; k++) {
                float want = L->kind == LAYER_LSTM && strstr(t->name, "bias_ih") &&
                             (int)k >= H && (int)k < 2 * H ? 1.0f : 0.0f;
                ck_assert_msg(w[k] == want, "%s[%zu] = %g, want %g", t->name, k, w[k], want);
            }
        }
    }
    /* net_init_layer draws from the given rng and touches its layer only */
    float *before = malloc(sizeof(float) * n->nparams);
    memcpy(before, n->params, sizeof(float) * n->nparams);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 99);
    ck_assert_int_eq(net_init_layer(n, 2, r), 0);
    int changed = 0;
    for (int ti = 0; ti < n->ntensors; ti++) {
        const net_tensor *t = &n->tensors[ti];
        int diff = memcmp(before + t->off, n->params + t->off, sizeof(float) * t->size) != 0;
        if (t->layer != 2) ck_assert_msg(!diff, "net_init_layer(2) changed %s", t->name);
        else changed += diff;
    }
    ck_assert_int_eq(changed, 2);          /* both weight matrices; biases stay zero */
    /* same seed, same weights */
    net *m = make_net("dense:64:relu,lstm:64,gru:32,rnn:16", 32, 1, 1, 42);
    net *o = make_net("dense:64:relu,lstm:64,gru:32,rnn:16", 32, 1, 1, 43);
    ck_assert(memcmp(m->params, before, sizeof(float) * m->nparams) == 0);
    ck_assert(net_checksum(m) != net_checksum(o));
    free(before);
    gsl_rng_free(r);
    net_free(n); net_free(m); net_free(o);
}
END_TEST

/* ---- HDF5 weight I/O -------------------------------------------------------- */
static hid_t temp_h5(char *path) {
    strcpy(path, "/tmp/check_nets_XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    return f;
}

static void read_str_attr(hid_t g, const char *name, char *buf, size_t n) {
    hid_t a = H5Aopen(g, name, H5P_DEFAULT);
    ck_assert_int_ge(a, 0);
    hid_t t = H5Aget_type(a);
    ck_assert(H5Tis_variable_str(t) > 0);
    char *v = NULL;
    ck_assert_int_ge(H5Aread(a, t, &v), 0);
    snprintf(buf, n, "%s", v);
    H5free_memory(v);
    H5Tclose(t);
    H5Aclose(a);
}

START_TEST(h5_round_trip) {
    char path[64];
    hid_t f = temp_h5(path);
    hid_t g = H5Gcreate2(f, "net", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    net *a = make_net("dense:4:relu,lstm:5:h0,gru:3,dense:2", 3, 2, 2, 1);
    for (size_t k = 0; k < a->nparams; k++) a->params[k] += 0.001f * (float)k;  /* h0 nonzero too */
    ck_assert_int_eq(net_save_h5(a, g), 0);
    ck_assert_int_eq(net_save_h5(a, g), 0);          /* saving again overwrites in place */
    char buf[128];
    read_str_attr(g, "gate_order", buf, sizeof buf);
    ck_assert_str_eq(buf, "ifgo,rzn");
    read_str_attr(g, "layer_kinds", buf, sizeof buf);
    ck_assert_str_eq(buf, "dense,lstm,gru,dense");
    /* PyTorch names and shapes */
    hid_t d = H5Dopen2(g, "1.weight_hh_l0", H5P_DEFAULT);
    ck_assert_int_ge(d, 0);
    hsize_t dims[2];
    hid_t sp = H5Dget_space(d);
    ck_assert_int_eq(H5Sget_simple_extent_dims(sp, dims, NULL), 2);
    ck_assert(dims[0] == 20 && dims[1] == 5);
    hid_t ty = H5Dget_type(d);
    ck_assert(H5Tequal(ty, H5T_IEEE_F32LE) > 0);
    H5Tclose(ty); H5Sclose(sp); H5Dclose(d);
    ck_assert(H5Lexists(g, "1.c0", H5P_DEFAULT) > 0);
    ck_assert(H5Lexists(g, "3.bias", H5P_DEFAULT) > 0);

    net *b = make_net("dense:4:relu,lstm:5:h0,gru:3,dense:2", 3, 2, 2, 2);
    ck_assert_int_eq(net_load_h5(b, g), 0);
    ck_assert(memcmp(a->params, b->params, sizeof(float) * a->nparams) == 0);

    /* another architecture is refused, naming the tensor and both shapes,
     * and the network is left as it was */
    net *c = make_net("dense:4:relu,lstm:6:h0,gru:3,dense:2", 3, 2, 2, 3);
    uint64_t before = net_checksum(c);
    ck_assert_int_eq(net_load_h5(c, g), NETS_ESHAPE);
    ck_assert_msg(strstr(rql_error(), "'1.weight_ih_l0'") && strstr(rql_error(), "[20, 4]") &&
                  strstr(rql_error(), "[24, 4]"), "%s", rql_error());
    ck_assert(net_checksum(c) == before);
    net *e = make_net("dense:4:relu,lstm:5,gru:3,dense:2", 3, 2, 2, 3);   /* no h0 */
    ck_assert_int_eq(net_load_h5(e, g), NETS_ESHAPE);
    ck_assert_msg(strstr(rql_error(), "'1.c0' that the network does not have"), "%s", rql_error());
    net *m = make_net("dense:4:relu,lstm:5:h0,gru:3,dense:2,dense:2", 3, 2, 2, 3);  /* missing */
    ck_assert_int_eq(net_load_h5(m, g), NETS_ESHAPE);
    ck_assert_msg(strstr(rql_error(), "no tensor '4.weight'"), "%s", rql_error());
    H5Gclose(g);
    H5Fclose(f);
    /* a read-only file cannot take weights: NETS_EIO naming the dataset */
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    g = H5Gopen2(f, "/", H5P_DEFAULT);
    ck_assert_int_eq(net_save_h5(a, g), NETS_EIO);
    ck_assert_msg(strstr(rql_error(), "cannot write /0.weight"), "%s", rql_error());
    H5Gclose(g);
    H5Fclose(f);
    unlink(path);
    net_free(a); net_free(b); net_free(c); net_free(e); net_free(m);
}
END_TEST

/* Optimizer state round trip: a resumed Adam continues bit-exactly. */
START_TEST(h5_optim_round_trip) {
    char path[64];
    hid_t f = temp_h5(path);
    hid_t g = H5Gcreate2(f, "opt", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    float p[5] = {1, -2, 3, -4, 5}, q[5], gr[5] = {0.1f, -0.3f, 0.2f, 0.5f, -0.05f};
    optim *a = optim_alloc(OPT_ADAM, 5, 0.01f);
    for (int k = 0; k < 3; k++) optim_step(a, p, gr);
    ck_assert_int_eq(optim_save_h5(a, g), 0);
    ck_assert_int_eq(optim_save_h5(a, g), 0);         /* overwrite in place */
    optim *b = optim_alloc(OPT_ADAM, 5, 0.01f);
    ck_assert_int_eq(optim_load_h5(b, g), 0);
    ck_assert_int_eq(b->t, 3);
    memcpy(q, p, sizeof p);
    optim_step(a, p, gr);
    optim_step(b, q, gr);
    ck_assert(memcmp(p, q, sizeof p) == 0);
    optim *c = optim_alloc(OPT_RMSPROP, 5, 0.01f);
    ck_assert_int_eq(optim_load_h5(c, g), NETS_ESHAPE);
    ck_assert_msg(strstr(rql_error(), "holds adam state, the optimizer is rmsprop"), "%s", rql_error());
    optim *d = optim_alloc(OPT_ADAM, 6, 0.01f);
    ck_assert_int_eq(optim_load_h5(d, g), NETS_ESHAPE);
    ck_assert_msg(strstr(rql_error(), "for 5 parameters, the optimizer has 6"), "%s", rql_error());
    ck_assert_int_eq(d->t, 0);
    hid_t e = H5Gcreate2(f, "empty", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_eq(optim_load_h5(b, e), NETS_EIO);
    ck_assert_msg(strstr(rql_error(), "/empty lacks"), "%s", rql_error());
    H5Gclose(e);
    H5Gclose(g);
    H5Fclose(f);
    unlink(path);
    optim_free(a); optim_free(b); optim_free(c); optim_free(d);
}
END_TEST

/* ---- error paths ------------------------------------------------------------ */
START_TEST(spec_parse) {
    layer_spec ls[4];
    ck_assert_int_eq(net_parse_spec("dense:32:relu, lstm:64:h0,dense:4", ls, 4), 3);
    ck_assert(ls[0].kind == LAYER_DENSE && ls[0].units == 32 && ls[0].act == ACT_RELU);
    ck_assert(ls[1].kind == LAYER_LSTM && ls[1].units == 64 && ls[1].learn_h0);
    ck_assert(ls[2].kind == LAYER_DENSE && ls[2].units == 4 && ls[2].act == ACT_NONE);
    ck_assert_int_eq(net_parse_spec("gru:8,rnn:3:h0,dense:2:tanh", ls, 4), 3);
    ck_assert(ls[0].kind == LAYER_GRU && !ls[0].learn_h0 && ls[1].kind == LAYER_RNN && ls[2].act == ACT_TANH);
    ck_assert_int_eq(net_parse_spec("peephole:8:h0,mingru:3,lru:5:h0", ls, 4), 3);
    ck_assert(ls[0].kind == LAYER_PEEPHOLE && ls[0].learn_h0 && ls[1].kind == LAYER_MINGRU &&
              !ls[1].learn_h0 && ls[2].kind == LAYER_LRU && ls[2].units == 5 && ls[2].learn_h0);
    static const struct { const char *spec, *msg; } bad[] = {
        {"conv:3", "unknown kind \"conv\""},
        {"dense:x", "units \"x\""},
        {"dense:0", "units \"0\""},
        {"dense", "units \"\""},
        {"dense:3:sigmoid", "unknown activation \"sigmoid\""},
        {"dense:3:h0", "unknown activation \"h0\""},
        {"lstm:3:relu", "unknown option \"relu\""},
        {"lstm:3:h0:x", "too many fields"},
        {"dense:3,,dense:2", "layer 1 is empty"},
        {"", "layer 0 is empty"},
        {"dense:1,dense:1,dense:1,dense:1,dense:1", "more than 4 layers"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        ck_assert_msg(net_parse_spec(bad[k].spec, ls, 4) == NETS_EINVAL, "\"%s\" accepted", bad[k].spec);
        ck_assert_msg(strstr(rql_error(), bad[k].msg) != NULL, "\"%s\": message \"%s\" lacks \"%s\"",
                      bad[k].spec, rql_error(), bad[k].msg);
    }
    ck_assert_int_eq(net_parse_spec(NULL, ls, 4), NETS_EINVAL);
}
END_TEST

START_TEST(call_errors) {
    layer_spec ls[2] = {{LAYER_LSTM, 4, ACT_NONE, 0}, {LAYER_DENSE, 2, ACT_NONE, 0}};
    ck_assert_ptr_null(net_alloc(0, ls, 2, 4, 4));
    ck_assert_ptr_nonnull(strstr(rql_error(), "input size 0"));
    ck_assert_ptr_null(net_alloc(3, ls, 2, 0, 4));
    ck_assert_ptr_nonnull(strstr(rql_error(), "max_batch 0"));
    ck_assert_ptr_null(net_alloc(3, ls, 0, 4, 4));
    layer_spec bad = {LAYER_DENSE, 3, ACT_NONE, 1};
    ck_assert_ptr_null(net_alloc(3, &bad, 1, 4, 4));
    ck_assert_ptr_nonnull(strstr(rql_error(), "learn_h0"));
    bad.learn_h0 = 0; bad.units = -1;
    ck_assert_ptr_null(net_alloc(3, &bad, 1, 4, 4));
    ck_assert_ptr_nonnull(strstr(rql_error(), "-1 units"));
    bad.units = 100000;
    ck_assert_ptr_null(net_alloc(3, &bad, 1, 4, 4));
    ck_assert_ptr_nonnull(strstr(rql_error(), "100000 units"));
    ck_assert_ptr_null(net_alloc(3, ls, 2, 4096, 4096));
    ck_assert_ptr_nonnull(strstr(rql_error(), "max_batch * max_time"));
    net_free(NULL);
    optim_free(NULL);

    net *n = net_alloc(3, ls, 2, 4, 5);
    ck_assert_ptr_nonnull(n);
    float x[6 * 5 * 3] = {0}, y[6 * 5 * 2], st[6 * 8];
    ck_assert_int_eq(net_backward(n, y, NULL), NETS_EINVAL);
    ck_assert_ptr_nonnull(strstr(rql_error(), "no net_forward"));
    ck_assert_int_eq(net_forward(n, x, NULL, 5, 5, NULL, 1, y, NULL), NETS_EINVAL);
    ck_assert_ptr_nonnull(strstr(rql_error(), "batch 5 outside [1, max_batch 4]"));
    ck_assert_int_eq(net_forward(n, x, NULL, 2, 6, NULL, 1, y, NULL), NETS_EINVAL);
    ck_assert_ptr_nonnull(strstr(rql_error(), "6 steps outside [1, max_time 5]"));
    int len[2] = {3, 6};
    ck_assert_int_eq(net_forward(n, x, len, 2, 5, NULL, 1, y, NULL), NETS_EINVAL);
    ck_assert_ptr_nonnull(strstr(rql_error(), "len[1] = 6"));
    len[1] = -1;
    ck_assert_int_eq(net_forward(n, x, len, 2, 5, NULL, 1, y, NULL), NETS_EINVAL);
    ck_assert_int_eq(net_forward(n, NULL, NULL, 2, 5, NULL, 1, y, NULL), NETS_EINVAL);
    ck_assert_int_eq(net_step(n, x, st, 5, y), NETS_EINVAL);
    ck_assert_ptr_nonnull(strstr(rql_error(), "batch 5"));
    ck_assert_int_eq(net_step(n, x, NULL, 2, y), NETS_EINVAL);
    ck_assert_int_eq(net_init_layer(n, 2, NULL), NETS_EINVAL);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    ck_assert_int_eq(net_init_layer(n, 2, r), NETS_EINVAL);
    ck_assert_ptr_nonnull(strstr(rql_error(), "layer 2 out of range"));
    gsl_rng_free(r);
    ck_assert_ptr_null(optim_alloc((opt_kind)7, 10, 0.1f));
    ck_assert_ptr_nonnull(strstr(rql_error(), "kind 7"));
    ck_assert_ptr_null(optim_alloc(OPT_ADAM, 10, -1.0f));
    ck_assert_ptr_nonnull(strstr(rql_error(), "lr -1"));
    net_free(n);
}
END_TEST

/* The vectorisable exp / sigmoid / tanh of nets_internal.h against libm in
 * double, over the whole range the gates see. */
START_TEST(fast_math_accuracy) {
    double me = 0, ms = 0, mt = 0, mtr = 0;
    for (double x = -87.0; x <= 88.0; x += 1.7e-4) {
        float xf = (float)x;
        double e = exp((double)xf);
        me = fmax(me, fabs(nets_expf(xf) - e) / e);
        if (fabs(x) > 40) continue;
        ms = fmax(ms, fabs(nets_sigmoidf(xf) - 1.0 / (1.0 + exp(-(double)xf))));
        double t = tanh((double)xf);
        mt = fmax(mt, fabs(nets_tanhf(xf) - t));
        if (t != 0) mtr = fmax(mtr, fabs(nets_tanhf(xf) - t) / fabs(t));
    }
    for (double x = 1e-30; x < 1; x *= 1.1) {   /* tiny arguments: relative accuracy */
        double t = tanh((double)(float)x);
        mtr = fmax(mtr, fabs(nets_tanhf((float)x) - t) / t);
    }
    ck_assert_msg(me < 2.5e-7, "exp: max rel err %g", me);
    ck_assert_msg(ms < 1.5e-7, "sigmoid: max abs err %g", ms);
    ck_assert_msg(mt < 1.5e-7, "tanh: max abs err %g", mt);
    ck_assert_msg(mtr < 3e-7, "tanh: max rel err %g", mtr);
    ck_assert(nets_expf(-1000.0f) >= 0.0f && isfinite(nets_expf(1000.0f)));
    ck_assert(nets_sigmoidf(-1000.0f) == 0.0f || nets_sigmoidf(-1000.0f) < 1e-37f);
    ck_assert(nets_sigmoidf(1000.0f) == 1.0f && nets_tanhf(1000.0f) == 1.0f && nets_tanhf(-1000.0f) == -1.0f);
}
END_TEST

/* Acting between a forward and its backward changes nothing, and state_out
 * may be the state0 buffer itself. */
START_TEST(step_keeps_activations) {
    net *n = make_net("dense:3:relu,gru:4:h0,dense:2", 3, 2, 4, 8);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 8);
    float x[2 * 4 * 3], y[2 * 4 * 2], dy[2 * 4 * 2], st[2 * 4], ys[2 * 2], s0[2 * 4], s1[2 * 4];
    fill_uniform(x, 24, 1.0, r);
    fill_uniform(dy, 16, 1.0, r);
    ck_assert_int_eq(net_forward(n, x, NULL, 2, 4, NULL, 1, y, NULL), 0);
    net_zero_grad(n);
    ck_assert_int_eq(net_backward(n, dy, NULL), 0);
    float *g1 = malloc(sizeof(float) * n->nparams);
    memcpy(g1, n->grads, sizeof(float) * n->nparams);
    ck_assert_int_eq(net_forward(n, x, NULL, 2, 4, NULL, 1, y, NULL), 0);
    net_state_reset(n, st, 2, NULL);
    for (int k = 0; k < 3; k++) ck_assert_int_eq(net_step(n, x + 6 * k, st, 2, ys), 0);
    net_zero_grad(n);
    ck_assert_int_eq(net_backward(n, dy, NULL), 0);
    ck_assert(memcmp(g1, n->grads, sizeof(float) * n->nparams) == 0);
    fill_uniform(s0, 8, 1.0, r);
    memcpy(s1, s0, sizeof s0);
    float y2[16];
    ck_assert_int_eq(net_forward(n, x, NULL, 2, 4, s0, 1, y, s0), 0);   /* in place */
    ck_assert_int_eq(net_forward(n, x, NULL, 2, 4, s1, 1, y2, st), 0);
    ck_assert(memcmp(y, y2, sizeof y) == 0 && memcmp(s0, st, sizeof s0) == 0);
    free(g1);
    gsl_rng_free(r);
    net_free(n);
}
END_TEST

/* A refused forward leaves the kept forward intact for net_backward. */
START_TEST(refused_forward_keeps_state) {
    net *n = make_net("lstm:3,dense:2", 2, 2, 4, 6);
    const int len[2] = {4, 2}, bad[2] = {1, 9};
    float x[16], y[16], dy[16];
    for (int k = 0; k < 16; k++) { x[k] = 0.1f * k - 0.7f; dy[k] = 0.05f * k - 0.3f; }
    ck_assert_int_eq(net_forward(n, x, len, 2, 4, NULL, 1, y, NULL), 0);
    net_zero_grad(n);
    ck_assert_int_eq(net_backward(n, dy, NULL), 0);
    float *g1 = malloc(sizeof(float) * n->nparams);
    memcpy(g1, n->grads, sizeof(float) * n->nparams);
    ck_assert_int_eq(net_forward(n, x, bad, 2, 4, NULL, 1, y, NULL), NETS_EINVAL);
    ck_assert_ptr_nonnull(strstr(rql_error(), "len[1] = 9 outside [0, 4]"));
    net_zero_grad(n);
    ck_assert_int_eq(net_backward(n, dy, NULL), 0);
    ck_assert(memcmp(g1, n->grads, sizeof(float) * n->nparams) == 0);
    free(g1);
    net_free(n);
}
END_TEST

/* Results must not depend on OMP_NUM_THREADS, which OpenBLAS also reads
 * and whose threaded sgemm rounds differently: net_alloc pins OpenBLAS to
 * one thread. */
START_TEST(blas_single_thread) {
    openblas_set_num_threads(2);
    ck_assert_int_eq(openblas_get_num_threads(), 2);
    net *n = make_net("dense:16:relu,lstm:64,dense:4", 8, 32, 24, 3);
    ck_assert_int_eq(openblas_get_num_threads(), 1);
    net_free(n);
}
END_TEST

int main(void) {
    Suite *s = suite_create("nets");
    TCase *tc = tcase_create("grad");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, grad_dense);
    tcase_add_test(tc, grad_rnn);
    tcase_add_test(tc, grad_lstm);
    tcase_add_test(tc, grad_gru);
    tcase_add_test(tc, grad_stack);
    tcase_add_test(tc, grad_peephole);
    tcase_add_test(tc, grad_mingru);
    tcase_add_test(tc, grad_lru);
    tcase_add_test(tc, grad_stack_cells);
    tcase_add_test(tc, scan_equals_step);
    tcase_add_test(tc, grad_state_out);
    suite_add_tcase(s, tc);
    TCase *tm = tcase_create("semantics");
    tcase_add_test(tm, step_equals_forward);
    tcase_add_test(tm, masked_rows);
    tcase_add_test(tm, state_reset);
    tcase_add_test(tm, state0_overrides_h0);
    tcase_add_test(tm, state0_grad_accumulate);
    tcase_add_test(tm, backward_accumulates);
    tcase_add_test(tm, opt_sgd);
    tcase_add_test(tm, opt_rmsprop);
    tcase_add_test(tm, opt_adam);
    tcase_add_test(tm, clip_norm);
    tcase_add_test(tm, copy_polyak_checksum);
    tcase_add_test(tm, init_stats);
    tcase_add_test(tm, fast_math_accuracy);
    tcase_add_test(tm, step_keeps_activations);
    tcase_add_test(tm, blas_single_thread);
    suite_add_tcase(s, tm);
    TCase *te = tcase_create("io_errors");
    tcase_add_test(te, h5_round_trip);
    tcase_add_test(te, h5_optim_round_trip);
    tcase_add_test(te, spec_parse);
    tcase_add_test(te, call_errors);
    tcase_add_test(te, refused_forward_keeps_state);
    suite_add_tcase(s, te);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
