/* lru — the Linear Recurrent Unit of Orvieto, Smith, Gu, Fernando,
 * Gulcehre, Pascanu and De (2023), "Resurrecting Recurrent Neural Networks
 * for Long Sequences": a complex diagonal linear recurrence with the paper's
 * stable exponential parametrisation and normalisation.
 *   lambda = exp(-exp(nu_log) + i exp(theta_log))          |lambda| < 1 always
 *   h_t = lambda * h_{t-1} + exp(gamma_log) * (B x_t)        h in C^H
 *   y_t = Re(C h_t) + D x_t
 * with B = B_re + i B_im [H, in], C = C_re + i C_im [H, H] and D [H, in] real.
 * What is implemented is the paper's LRU layer (its Appendix A) with one
 * generalisation and one omission, both for a layer that can change width
 * like nets' other cells: the paper's D is a diagonal skip of a layer whose
 * input and output widths are equal; here D is a full [H, in] matrix (a
 * diagonal D is the special case). The paper's block around the layer
 * (normalisation, the position-wise GELU/GLU projection, the residual skip)
 * is not part of this layer: stack a dense layer after it (drqn's Q head
 * is one) for the position-wise projection.
 * The state row of the layer is Re h [H] then Im h [H]; a learned initial
 * state is h0 [2, H] in the same order. The layer output is y, not h.
 * Initialisation as the paper's code: |lambda| uniform on the ring
 * [r_min, r_max] = [0.9, 0.999] (uniform in area), phase uniform in
 * [0, 2 pi), gamma_log = log sqrt(1 - |lambda|^2), B ~ N(0, 1/(2 in)) per
 * part, C ~ N(0, 1/H) per part, D ~ N(0, 1/in) (the paper: N(0, 1) on its
 * diagonal).
 *
 * Training and acting run the same scan, block by block in time: a block
 * of steps (about LRU_BLOCK_ROWS rows of steps x batch) takes its input side
 * B x and D x from one GEMM each, runs the elementwise recurrence (no matrix
 * product per step, unlike the LSTM's), then Re(C h) of all its steps is one
 * GEMM with [C_re | -C_im] against the state rows [Re h | Im h]. Blocks
 * rather than whole sequences so that the operands of each GEMM are still
 * in cache from the step before (below). Backward, block by block from the
 * last: dL/dh from the block's outputs is one GEMM and its share of dL/dC
 * another, B x is computed again (cheaper than keeping it: a GEMM of depth
 * `in` against a pass over memory), the reverse scan (conjugate lambda)
 * accumulates the gradients of lambda and gamma, then the block's share of
 * the gradient of [B; D] and its input gradient are one GEMM each. */
#include <cblas.h>
#include "nets/nets_internal.h"

/* lambda (real, imaginary) and gamma into lam [3H] */
static void lru_lambda(const net_layer *L, const float *p, float *lam) {
    const int H = L->units;
    for (int j = 0; j < H; j++) {
        double r = exp(-exp((double)p[L->off_nu + j])), ph = exp((double)p[L->off_theta + j]);
        lam[j] = (float)(r * cos(ph));
        lam[H + j] = (float)(r * sin(ph));
        lam[2 * H + j] = (float)exp((double)p[L->off_gamma + j]);
    }
}

/* Time steps per block: about LRU_BLOCK_ROWS rows (steps x batch), so that a
 * block's u, states, outputs and gradients (under 1 MB at H = 64) stay in
 * the core's L2 cache from one GEMM to the scan to the next. Measured at
 * H = 64, batch 32, T = 512 on one Zen 4 core: the same GEMMs over all T*B
 * rows at once ran at 60-67 GFLOP/s (they stream their operands from
 * memory), over blocks of 512 rows at 93-101. */
enum { LRU_BLOCK_ROWS = 512 };

static int lru_block_steps(int B) {
    int s = LRU_BLOCK_ROWS / B;
    return s < 1 ? 1 : s;
}

void lru_forward(const net_layer *L, const float *p, net_lws *w, const float *in,
                 const int *len, int B, int T) {
    const int In = L->in, H = L->units, H2 = 2 * H, S = lru_block_steps(B);
    float *lam = w->bsum;
    lru_lambda(L, p, lam);
    const float *lr = lam, *li = lam + H, *gm = lam + 2 * H;
    /* cc = [C_re | -C_im] [H, 2H]: Re(C h) = cc [Re h; Im h] */
    const float *Cre = p + L->off_c_re, *Cim = p + L->off_c_im;
    float *cc = w->cc;
    for (int j = 0; j < H; j++)
        for (int k = 0; k < H; k++) {
            cc[(size_t)j * H2 + k] = Cre[(size_t)j * H + k];
            cc[(size_t)j * H2 + H + k] = -Cim[(size_t)j * H + k];
        }
    for (int t0 = 0; t0 < T; t0 += S) {
        const int t1 = t0 + S < T ? t0 + S : T, R = (t1 - t0) * B;
        /* u = x [B_re; B_im]^T for the block's steps, y = x D^T */
        const float *xb = in + (size_t)t0 * B * In;
        float *u0 = w->gates, *y = w->out + (size_t)(t0 + 1) * B * H;
        nets_gemm(CblasNoTrans, CblasTrans, R, H2, In, 1.0f, xb, In, p + L->off_b_re, In, 0.0f, u0, H2);
        nets_gemm(CblasNoTrans, CblasTrans, R, H, In, 1.0f, xb, In, p + L->off_b_re + (size_t)H2 * In, In, 0.0f, y, H);
        for (int t = t0; t < t1; t++) {
            const float *hp = w->cs + (size_t)t * B * H2;
            float *h = w->cs + (size_t)(t + 1) * B * H2;
            const float *ut = u0 + (size_t)(t - t0) * B * H2;
            for (int b = 0; b < B; b++) {
                const float *hpb = hp + (size_t)b * H2, *ub = ut + (size_t)b * H2;
                float *hb = h + (size_t)b * H2;
                if (len && t >= len[b]) { memcpy(hb, hpb, sizeof(float) * H2); continue; }
                #pragma GCC ivdep
                for (int j = 0; j < H; j++) {
                    float re = hpb[j], im = hpb[H + j];
                    hb[j] = lr[j] * re - li[j] * im + gm[j] * ub[j];
                    hb[H + j] = lr[j] * im + li[j] * re + gm[j] * ub[H + j];
                }
            }
        }
        /* y = Re(C h) + D x = [C_re | -C_im] [Re h; Im h] + D x */
        nets_gemm(CblasNoTrans, CblasTrans, R, H, H2, 1.0f, w->cs + (size_t)(t0 + 1) * B * H2,
                  H2, cc, H2, 1.0f, y, H);
    }
}

void lru_backward(const net_layer *L, const float *p, float *g, net_lws *w, const float *in,
                  float *din, const int *len, int B, int T) {
    const int In = L->in, H = L->units, H2 = 2 * H, H3 = 3 * H, S = lru_block_steps(B);
    float *lam = w->bsum;
    lru_lambda(L, p, lam);
    const float *lr = lam, *li = lam + H, *gm = lam + 2 * H;
    const float *Wbd = p + L->off_b_re;
    /* dg [S*B, 3H], one block's rows, reused by every block */
    float *dg = w->dg, *cc = w->cc, *dcc = w->cc + (size_t)H * H2;
    /* per-row sums of dL/dlambda_re, dL/dlambda_im, dL/dgamma over the steps.
     * dh arrives holding dL/d(final state) (net.c) */
    const size_t BH = (size_t)B * H;
    float *slr = w->scan, *sli = slr + BH, *sg = sli + BH, *dh = w->dh;
    memset(slr, 0, sizeof(float) * 3 * BH);
    /* blocks from the last; each: dL/dh from its outputs, the reverse scan
     * through its steps, then its share of every weight gradient */
    for (int t1 = T; t1 > 0;) {
        const int t0 = t1 - S > 0 ? t1 - S : 0, R = (t1 - t0) * B;
        const float *dy = w->dout + (size_t)t0 * B * H, *hs = w->cs + (size_t)(t0 + 1) * B * H2;
        /* dg rows [dL/dRe h, dL/dIm h, dL/d(D x)]: the first two from the
         * outputs, dy [C_re | -C_im]; the reverse scan turns them into dL/du */
        for (int r = 0; r < R; r++)
            memcpy(dg + (size_t)r * H3 + H2, dy + (size_t)r * H, sizeof(float) * H);
        nets_gemm(CblasNoTrans, CblasNoTrans, R, H2, H, 1.0f, dy, H, cc, H2, 0.0f, dg, H3);
        nets_gemm(CblasTrans, CblasNoTrans, H, H2, R, 1.0f, dy, H, hs, H2,
                  t1 == T ? 0.0f : 1.0f, dcc, H2);
        const float *xb = in + (size_t)t0 * B * In;
        nets_gemm(CblasNoTrans, CblasTrans, R, H2, In, 1.0f, xb, In, Wbd, In, 0.0f, w->gates, H2);
        for (int t = t1 - 1; t >= t0; t--) {
            const float *hp = w->cs + (size_t)t * B * H2, *ut = w->gates + (size_t)(t - t0) * B * H2;
            float *dgt = dg + (size_t)(t - t0) * B * H3;
            for (int b = 0; b < B; b++) {
                float *dgb = dgt + (size_t)b * H3;
                if (len && t >= len[b]) { memset(dgb, 0, sizeof(float) * H3); continue; }
                const float *hpb = hp + (size_t)b * H2, *ub = ut + (size_t)b * H2;
                float *dhb = dh + (size_t)b * H2;
                float *slb = slr + (size_t)b * H, *sib = sli + (size_t)b * H, *sgb = sg + (size_t)b * H;
                #pragma GCC ivdep
                for (int j = 0; j < H; j++) {
                    float gr = dhb[j] + dgb[j], gi = dhb[H + j] + dgb[H + j];
                    float re = hpb[j], im = hpb[H + j];
                    slb[j] += gr * re + gi * im;
                    sib[j] += gi * re - gr * im;
                    sgb[j] += gr * ub[j] + gi * ub[H + j];
                    dgb[j] = gm[j] * gr;
                    dgb[H + j] = gm[j] * gi;
                    dhb[j] = lr[j] * gr + li[j] * gi;
                    dhb[H + j] = lr[j] * gi - li[j] * gr;
                }
            }
        }
        /* [B_re; B_im; D] and the input */
        nets_weight_grad(g + L->off_b_re, NULL, dg, xb, R, H3, In);
        if (din)
            nets_gemm(CblasNoTrans, CblasNoTrans, R, In, H3, 1.0f, dg, H3, Wbd, In, 0.0f,
                      din + (size_t)t0 * B * In, In);
        t1 = t0;
    }
    float *gCre = g + L->off_c_re, *gCim = g + L->off_c_im;
    for (int j = 0; j < H; j++)
        for (int k = 0; k < H; k++) {
            gCre[(size_t)j * H + k] += dcc[(size_t)j * H2 + k];
            gCim[(size_t)j * H + k] -= dcc[(size_t)j * H2 + H + k];
        }
    /* lambda = r e^{i phi}, r = exp(-exp(nu_log)), phi = exp(theta_log) */
    for (int j = 0; j < H; j++) {
        double dlr = 0, dli = 0, dgm = 0;
        for (int b = 0; b < B; b++) {
            dlr += slr[(size_t)b * H + j];
            dli += sli[(size_t)b * H + j];
            dgm += sg[(size_t)b * H + j];
        }
        double enu = exp((double)p[L->off_nu + j]), r = exp(-enu), ph = exp((double)p[L->off_theta + j]);
        double c = cos(ph), s = sin(ph);
        double dr = dlr * c + dli * s, dph = (-dlr * s + dli * c) * r;
        g[L->off_nu + j] += (float)(dr * r * -enu);
        g[L->off_theta + j] += (float)(dph * ph);
        g[L->off_gamma + j] += (float)(dgm * gm[j]);
    }
}
