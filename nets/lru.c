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
 * Training and acting run the same scan: the input side of all steps, B x
 * and D x, is one GEMM (B_re, B_im and D are adjacent: one [3H, in]
 * matrix), the recurrence is elementwise (no matrix product per step,
 * unlike the LSTM's), and Re(C h) of all steps is one GEMM with [C_re |
 * -C_im] against the state rows [Re h | Im h]. On one core the scan is a
 * single sweep over time. Backward: dL/dh from the outputs of all steps is
 * one GEMM, the reverse scan (conjugate lambda) accumulates the gradients of
 * lambda and gamma, then the gradients of C, of [B; D] and of the input are
 * one GEMM each. */
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

void lru_forward(const net_layer *L, const float *p, net_lws *w, const float *in,
                 const int *len, int B, int T) {
    const int In = L->in, H = L->units, H2 = 2 * H, H3 = 3 * H, N = T * B;
    float *lam = w->bsum;
    lru_lambda(L, p, lam);
    const float *lr = lam, *li = lam + H, *gm = lam + 2 * H;
    /* [u_re, u_im, D x] = x [B_re; B_im; D]^T for all steps */
    nets_gemm(CblasNoTrans, CblasTrans, N, H3, In, 1.0f, in, In,
              p + L->off_b_re, In, 0.0f, w->gates, H3);
    for (int t = 0; t < T; t++) {
        const float *hp = w->cs + (size_t)t * B * H2;
        float *h = w->cs + (size_t)(t + 1) * B * H2;
        const float *ut = w->gates + (size_t)t * B * H3;
        for (int b = 0; b < B; b++) {
            const float *hpb = hp + (size_t)b * H2, *ub = ut + (size_t)b * H3;
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
    /* y = Re(C h) + D x = [C_re | -C_im] [Re h; Im h] + D x, all steps */
    const float *Cre = p + L->off_c_re, *Cim = p + L->off_c_im;
    float *cc = w->cc;
    for (int j = 0; j < H; j++)
        for (int k = 0; k < H; k++) {
            cc[(size_t)j * H2 + k] = Cre[(size_t)j * H + k];
            cc[(size_t)j * H2 + H + k] = -Cim[(size_t)j * H + k];
        }
    const float *hs = w->cs + (size_t)B * H2;
    float *y = w->out + (size_t)B * H;
    for (int r = 0; r < N; r++)
        memcpy(y + (size_t)r * H, w->gates + (size_t)r * H3 + H2, sizeof(float) * H);
    nets_gemm(CblasNoTrans, CblasTrans, N, H, H2, 1.0f, hs, H2, cc, H2, 1.0f, y, H);
}

void lru_backward(const net_layer *L, const float *p, float *g, net_lws *w, const float *in,
                  float *din, const int *len, int B, int T) {
    const int In = L->in, H = L->units, H2 = 2 * H, H3 = 3 * H, N = T * B;
    float *lam = w->bsum;
    lru_lambda(L, p, lam);
    const float *lr = lam, *li = lam + H, *gm = lam + 2 * H;
    const float *hs = w->cs + (size_t)B * H2, *dy = w->dout;
    float *dg = w->dg, *cc = w->cc, *dcc = w->cc + (size_t)H * H2;
    /* dg rows [dL/dRe h, dL/dIm h, dL/d(D x)]: the first two from the outputs,
     * dy [C_re | -C_im]; the reverse scan turns them into dL/du below */
    for (int r = 0; r < N; r++)
        memcpy(dg + (size_t)r * H3 + H2, dy + (size_t)r * H, sizeof(float) * H);
    nets_gemm(CblasNoTrans, CblasNoTrans, N, H2, H, 1.0f, dy, H, cc, H2, 0.0f, dg, H3);
    nets_gemm(CblasTrans, CblasNoTrans, H, H2, N, 1.0f, dy, H, hs, H2, 0.0f, dcc, H2);
    float *gCre = g + L->off_c_re, *gCim = g + L->off_c_im;
    for (int j = 0; j < H; j++)
        for (int k = 0; k < H; k++) {
            gCre[(size_t)j * H + k] += dcc[(size_t)j * H2 + k];
            gCim[(size_t)j * H + k] -= dcc[(size_t)j * H2 + H + k];
        }
    /* reverse scan; per-row sums of dL/dlambda_re, dL/dlambda_im, dL/dgamma.
     * dh arrives holding dL/d(final state) (net.c) */
    const size_t BH = (size_t)B * H;
    float *slr = w->scan, *sli = slr + BH, *sg = sli + BH, *dh = w->dh;
    memset(slr, 0, sizeof(float) * 3 * BH);
    for (int t = T - 1; t >= 0; t--) {
        const float *hp = w->cs + (size_t)t * B * H2, *ut = w->gates + (size_t)t * B * H3;
        float *dgt = dg + (size_t)t * B * H3;
        for (int b = 0; b < B; b++) {
            float *dgb = dgt + (size_t)b * H3;
            if (len && t >= len[b]) { memset(dgb, 0, sizeof(float) * H3); continue; }
            const float *hpb = hp + (size_t)b * H2, *ub = ut + (size_t)b * H3;
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
    /* [B_re; B_im; D] and the input, all steps at once */
    nets_weight_grad(g + L->off_b_re, NULL, dg, in, N, H3, In);
    if (din)
        nets_gemm(CblasNoTrans, CblasNoTrans, N, In, H3, 1.0f, dg, H3,
                  p + L->off_b_re, In, 0.0f, din, In);
}
