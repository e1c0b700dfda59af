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

/* y [N, O] = act(in W^T + b) for N contiguous rows; WT = W^T [In, O] */
static void dense_rows(const net_layer *L, const float *p, const float *WT, float *y,
                       const float *in, int N) {
    const int In = L->in, O = L->units;
    const float *b = p + L->off_b_ih;
    nets_gemm(CblasNoTrans, CblasNoTrans, N, O, In, 1.0f, in, In, WT, O, 0.0f, y, O);
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

void dense_forward(const net_layer *L, const float *p, net_lws *w, const float *in, const int *len,
                   int B, int T) {
    nets_transpose(w->wiT, p + L->off_w_ih, L->units, L->in);   /* read row by row */
    if (!len) {
        dense_rows(L, p, w->wiT, w->out, in, T * B);
        return;
    }
    /* the running rows of each step only (see nets_rows); the others keep
     * whatever finite value they held, and nothing reads them */
    for (int t = 0; t < T; t++) {
        int m = nets_rows(len, B, t);
        if (m)
            dense_rows(L, p, w->wiT, w->out + (size_t)t * B * L->units,
                       in + (size_t)t * B * L->in, m);
    }
}

void dense_backward(const net_layer *L, const float *p, float *g, net_lws *w, const float *in,
                    float *din, const int *len, int B, int T) {
    const int In = L->in, O = L->units, N = T * B;
    const float *W = p + L->off_w_ih, *y = w->out;
    float *d = w->dout;
    /* dL/d(pre-activation), in place; the derivative comes from the output */
    if (L->act == ACT_RELU) {
        for (size_t k = 0; k < (size_t)N * O; k++) d[k] = y[k] > 0.0f ? d[k] : 0.0f;
    } else if (L->act == ACT_TANH) {
        for (size_t k = 0; k < (size_t)N * O; k++) d[k] *= 1.0f - y[k] * y[k];
    }
    /* a finished row's dy is zero and its y, whatever it holds, finite */
    nets_weight_grad_seq(g + L->off_w_ih, g + L->off_b_ih, d, in, len, B, T, O, In, w->rows);
    if (din)
        nets_gemm(CblasNoTrans, CblasNoTrans, N, In, O, 1.0f, d, O, W, In, 0.0f, din, In);
}

void nets_weight_grad(float *dw, float *db, const float *dy, const float *x, int N, int M, int K) {
    nets_gemm(CblasTrans, CblasNoTrans, M, K, N, 1.0f, dy, M, x, K, 1.0f, dw, K);
    if (!db) return;
    for (int r = 0; r < N; r++) {
        const float *dr = dy + (size_t)r * M;
        for (int j = 0; j < M; j++) db[j] += dr[j];
    }
}

void nets_weight_grad_seq(float *dw, float *db, const float *dy, const float *x, const int *len,
                          int B, int T, int M, int K, int *rows) {
    int n = T * B;
    if (len) {
        n = 0;
        for (int t = 0; t < T; t++)
            for (int b = 0, bt = nets_rows(len, B, t); b < bt; b++) rows[n++] = t * B + b;
    }
    nets_gemm_k(CblasTrans, CblasNoTrans, M, K, n, len ? rows : NULL, 1.0f, dy, M, x, K, 1.0f, dw,
                K);
    for (int q = 0; db && q < n; q++) {
        const float *dr = dy + (size_t)(len ? rows[q] : q) * M;
        for (int j = 0; j < M; j++) db[j] += dr[j];
    }
}

void nets_recurrent_weight_grad(const net_layer *L, float *g, net_lws *w, const float *in,
                                const int *len, int B, int T, int G) {
    const int N = T * B;
    nets_weight_grad_seq(g + L->off_w_ih, NULL, w->dg, in, len, B, T, G, L->in, w->rows);
    nets_weight_grad_seq(g + L->off_w_hh, NULL, w->dg, w->out, len, B, T, G, L->units, w->rows);
    /* The two biases enter the same sum, so both get the column sums of dg. */
    float *sum = w->bsum, *db1 = g + L->off_b_ih, *db2 = g + L->off_b_hh;
    memset(sum, 0, sizeof(float) * G);
    for (int r = 0; r < N; r++) {
        const float *dr = w->dg + (size_t)r * G;
        for (int j = 0; j < G; j++) sum[j] += dr[j];
    }
    for (int j = 0; j < G; j++) { db1[j] += sum[j]; db2[j] += sum[j]; }
}
