/* dense — a fully connected layer over every step of a sequence at once
 * (nn.Linear semantics: y = act(x W^T + b), W [out, in]). The T*B rows of a
 * sequence are one GEMM; backward adds dW, db and writes dx. */
#include <cblas.h>
#include <pthread.h>
#include "nets/nets_internal.h"

/* OpenBLAS's threaded sgemm rounds differently from its one-thread sgemm
 * (measured: C differs in the last bits for most shapes over ~64^3), and
 * OpenBLAS takes its thread count from OMP_NUM_THREADS, so results would
 * depend on it. rql parallelises over runs and envs instead, and the GEMMs
 * here are small: the first net_alloc pins OpenBLAS to one thread, once, so
 * that concurrent allocations do not race on the setting. */
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static void blas_pin(void) { openblas_set_num_threads(1); }
void nets_blas_one_thread(void) { pthread_once(&blas_once, blas_pin); }

void dense_forward(const net_layer *L, const float *p, net_lws *w, const float *in, int N) {
    const int In = L->in, O = L->units;
    const float *W = p + L->off_w_ih, *b = p + L->off_b_ih;
    float *y = w->out;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, O, In, 1.0f, in, In, W, In, 0.0f, y, O);
    /* bias and activation in one pass over the output */
    for (int r = 0; r < N; r++) {
        float *yr = y + (size_t)r * O;
        switch (L->act) {
        case ACT_RELU:
            for (int j = 0; j < O; j++) { float v = yr[j] + b[j]; yr[j] = v > 0.0f ? v : 0.0f; }
            break;
        case ACT_TANH:
            for (int j = 0; j < O; j++) yr[j] = nets_tanhf(yr[j] + b[j]);
            break;
        default:
            for (int j = 0; j < O; j++) yr[j] += b[j];
        }
    }
}

void dense_backward(const net_layer *L, const float *p, float *g, net_lws *w, const float *in,
                    float *din, int N) {
    const int In = L->in, O = L->units;
    const float *W = p + L->off_w_ih, *y = w->out;
    float *d = w->dout;
    /* dL/d(pre-activation), in place; the derivative comes from the output */
    if (L->act == ACT_RELU) {
        for (size_t k = 0; k < (size_t)N * O; k++) d[k] = y[k] > 0.0f ? d[k] : 0.0f;
    } else if (L->act == ACT_TANH) {
        for (size_t k = 0; k < (size_t)N * O; k++) d[k] *= 1.0f - y[k] * y[k];
    }
    nets_weight_grad(g + L->off_w_ih, g + L->off_b_ih, d, in, N, O, In);
    if (din)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, In, O, 1.0f, d, O, W, In, 0.0f, din, In);
}

void nets_weight_grad(float *dw, float *db, const float *dy, const float *x, int N, int M, int K) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, K, N, 1.0f, dy, M, x, K, 1.0f, dw, K);
    if (!db) return;
    for (int r = 0; r < N; r++) {
        const float *dr = dy + (size_t)r * M;
        for (int j = 0; j < M; j++) db[j] += dr[j];
    }
}

void nets_recurrent_weight_grad(const net_layer *L, float *g, net_lws *w, const float *in, int N, int G) {
    nets_weight_grad(g + L->off_w_ih, NULL, w->dg, in, N, G, L->in);
    nets_weight_grad(g + L->off_w_hh, NULL, w->dg, w->out, N, G, L->units);
    /* The two biases enter the same sum, so both get the column sums of dg. */
    float *sum = w->bsum, *db1 = g + L->off_b_ih, *db2 = g + L->off_b_hh;
    memset(sum, 0, sizeof(float) * G);
    for (int r = 0; r < N; r++) {
        const float *dr = w->dg + (size_t)r * G;
        for (int j = 0; j < G; j++) sum[j] += dr[j];
    }
    for (int j = 0; j < G; j++) { db1[j] += sum[j]; db2[j] += sum[j]; }
}
