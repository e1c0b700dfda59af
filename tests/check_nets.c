/* check_nets — the nets module: finite-difference gradients of every layer
 * kind and of a stacked network (every parameter tensor, learned h0/c0, the
 * gradient w.r.t. a given initial state), masking of rows of different
 * lengths, the acting step against the sequence forward, optimizers against
 * hand-computed updates, clipping, target-network helpers, initialisation,
 * HDF5 weight I/O and every error path. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gsl/gsl_rng.h>
#include "nets/nets.h"

/* ---- helpers ---------------------------------------------------------------- */
static net *make_net(const char *spec, int in, int max_batch, int max_time, unsigned long seed) {
    layer_spec ls[8];
    int nl = net_parse_spec(spec, ls, 8);
    ck_assert_msg(nl > 0, "spec %s: %s", spec, nets_error());
    net *n = net_alloc(in, ls, nl, max_batch, max_time);
    ck_assert_msg(n != NULL, "net_alloc(%s): %s", spec, nets_error());
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
    ck_assert_msg(net_forward(n, x, len, B, T, s0, seq, y, NULL) == 0, "%s", nets_error());
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
    net *n = make_net(spec, in, B, T, seed);
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
    ck_assert_msg(net_backward(n, wy, ds0) == 0, "%s", nets_error());

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

int main(void) {
    Suite *s = suite_create("nets");
    TCase *tc = tcase_create("grad");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, grad_dense);
    tcase_add_test(tc, grad_rnn);
    tcase_add_test(tc, grad_lstm);
    tcase_add_test(tc, grad_gru);
    tcase_add_test(tc, grad_stack);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
