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
 * B x from one GEMM, runs the elementwise recurrence (no matrix product per
 * step, unlike the LSTM's), then y = D x + Re(C h) of all its steps is one
 * GEMM of the rows [x | Re h | Im h] against [D^T; C_re^T; -C_im^T]. Blocks
 * rather than whole sequences so that the operands of each GEMM are still
 * in cache from the step before (below). The block's states live in a
 * block buffer (hb); of the states, cs keeps only those before each block
 * and each row's final one: the backward runs each block's scan again from
 * the state kept before it (a pass over data in cache) instead of reading
 * back 2H floats per row and step written to memory by the forward (8 MB
 * at T = 512, batch 32, H = 64: written, read back, and fetched before
 * being written). Backward, block by block from the last: dL/dh from the
 * block's outputs is one GEMM, B x is computed again (cheaper than keeping
 * it: a GEMM of depth `in` against a pass over memory) and the states from
 * it, the reverse scan (conjugate lambda) accumulates the gradients of
 * lambda and gamma, then the block's share of dL/dC is one GEMM and its
 * shares of the gradient of [B; D] and of the input gradient two each (one
 * against dL/du, one against dy: no copy of dy beside dL/du). The gradient of
 * [B; D] is summed transposed, [in, 3H], so that its product reads whole
 * rows of dL/du and dy (with 8 inputs the direct one filled half a vector);
 * its sums, and every other one, run in the same order as in one product
 * with beta 1 per block. */
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

/* a pass of B <= Bm rows has blocks of (LRU_BLOCK_ROWS / B) * B <=
 * LRU_BLOCK_ROWS rows, or of B rows when B is larger, and never more rows
 * than the pass */
size_t lru_block_rows(int Bm, int Tm) {
    size_t r = Bm > LRU_BLOCK_ROWS ? (size_t)Bm : LRU_BLOCK_ROWS, all = (size_t)Bm * Tm;
    return r < all ? r : all;
}

/* The scan over steps t0 .. t1 - 1 of one block: the states after each
 * step into hs [(t1 - t0) * B, 2H] (rows ldh apart) from the state before
 * t0, h_in [B, 2H], and the block's u [(t1 - t0) * B, 2H]. The forward and
 * the backward run this same function on the same operands, so the
 * backward's states are the forward's, bit for bit. pf: rows [(t1 - t0) *
 * B, H] to fetch into cache on the way (the backward's dy, which its dL/dh
 * product reads next and would otherwise wait for), or NULL. */
static void lru_scan_block(const float *lam, const float *u, const float *h_in, float *hs,
                           size_t ldh, const float *pf, const int *len, int B, int H, int t0, int t1) {
    const int H2 = 2 * H;
    const float *lr = lam, *li = lam + H, *gm = lam + 2 * H;
    for (int t = t0; t < t1; t++) {
        float *h = hs + (size_t)(t - t0) * B * ldh;
        const float *ut = u + (size_t)(t - t0) * B * H2;
        for (int b = 0; b < B; b++) {
            const float *hpb = t == t0 ? h_in + (size_t)b * H2
                                       : hs + ((size_t)(t - t0 - 1) * B + b) * ldh;
            const float *ub = ut + (size_t)b * H2;
            float *hrow = h + (size_t)b * ldh;
            if (pf)   /* 64 bytes at a time */
                for (int q = 0; q < H; q += 16)
                    __builtin_prefetch(pf + ((size_t)(t - t0) * B + b) * H + q, 0, 2);
            if (len && t >= len[b]) { memcpy(hrow, hpb, sizeof(float) * H2); continue; }
            #pragma GCC ivdep
            for (int j = 0; j < H; j++) {
                float re = hpb[j], im = hpb[H + j];
                hrow[j] = lr[j] * re - li[j] * im + gm[j] * ub[j];
                hrow[H + j] = lr[j] * im + li[j] * re + gm[j] * ub[H + j];
            }
        }
    }
}

void lru_forward(const net_layer *L, const float *p, net_lws *w, const float *in,
                 const int *len, int B, int T) {
    const int In = L->in, H = L->units, H2 = 2 * H, S = lru_block_steps(B);
    float *lam = w->bsum;
    lru_lambda(L, p, lam);
    /* The block buffer's rows are [x | Re h | Im h] [In + 2H] and
     * dcT = [D^T; C_re^T; -C_im^T] [In + 2H, H], so that y = Re(C h) + D x
     * is one product, [x | Re h | Im h] dcT, whose chain over k is the one
     * of D x continued by Re(C h) (y written once, in one pass), reading
     * dcT's rows as they are (no packing per block) */
    const size_t LD = (size_t)In + H2;
    const float *Cre = p + L->off_c_re, *Cim = p + L->off_c_im, *Wd = p + L->off_b_re + (size_t)H2 * In;
    float *dcT = w->cc;
    nets_transpose(dcT, Wd, H, In);
    for (int k = 0; k < H; k++)
        for (int j = 0; j < H; j++) {
            dcT[(In + (size_t)k) * H + j] = Cre[(size_t)j * H + k];
            dcT[(In + (size_t)H + k) * H + j] = -Cim[(size_t)j * H + k];
        }
    for (int t0 = 0; t0 < T; t0 += S) {
        const int t1 = t0 + S < T ? t0 + S : T, R = (t1 - t0) * B;
        /* u = x [B_re; B_im]^T for the block's steps */
        const float *xb = in + (size_t)t0 * B * In;
        float *u0 = w->gates, *y = w->out + (size_t)(t0 + 1) * B * H, *hb = w->hb, *hs = hb + In;
        nets_gemm(CblasNoTrans, CblasTrans, R, H2, In, 1.0f, xb, In, p + L->off_b_re, In, 0.0f, u0, H2);
        for (int r = 0; r < R; r++) memcpy(hb + r * LD, xb + (size_t)r * In, sizeof(float) * In);
        lru_scan_block(lam, u0, w->cs + (size_t)t0 * B * H2, hs, LD, NULL, len, B, H, t0, t1);
        /* y = [x | Re h | Im h] dcT = D x + Re(C h) */
        nets_gemm(CblasNoTrans, CblasNoTrans, R, H, (int)LD, 1.0f, hb, (int)LD, dcT, H, 0.0f, y, H);
        /* keep the states the rest needs: after the block (where the next
         * block and the backward's pass through this one start) and the
         * final state of each row that ends inside it (net.c's state out) */
        for (int b = 0; b < B; b++)
            memcpy(w->cs + ((size_t)t1 * B + b) * H2, hs + (size_t)(R - B + b) * LD, sizeof(float) * H2);
        for (int b = 0; len && b < B; b++)
            if (len[b] > t0 && len[b] < t1)
                memcpy(w->cs + ((size_t)len[b] * B + b) * H2,
                       hs + ((size_t)(len[b] - t0 - 1) * B + b) * LD, sizeof(float) * H2);
    }
}

void lru_backward(const net_layer *L, const float *p, float *g, net_lws *w, const float *in,
                  float *din, const int *len, int B, int T) {
    const int In = L->in, H = L->units, H2 = 2 * H, H3 = 3 * H, S = lru_block_steps(B);
    const size_t LD = (size_t)In + H2;
    float *lam = w->bsum;
    lru_lambda(L, p, lam);
    const float *lr = lam, *li = lam + H, *gm = lam + 2 * H;
    const float *Wb = p + L->off_b_re, *Wd = Wb + (size_t)H2 * In;
    /* dg [S*B, 2H], one block's rows, reused by every block; cc = [C_re |
     * -C_im] [H, 2H], made here (the forward leaves its own operand,
     * [D^T; C_re^T; -C_im^T], in the same place) */
    float *dg = w->dg, *cc = w->cc, *dcc = w->cc + (size_t)H * H2, *dwT = w->dwT;
    const float *Cre = p + L->off_c_re, *Cim = p + L->off_c_im;
    for (int j = 0; j < H; j++)
        for (int k = 0; k < H; k++) {
            cc[(size_t)j * H2 + k] = Cre[(size_t)j * H + k];
            cc[(size_t)j * H2 + H + k] = -Cim[(size_t)j * H + k];
        }
    /* per-row sums of dL/dlambda_re, dL/dlambda_im, dL/dgamma over the steps.
     * dh arrives holding dL/d(final state) (net.c) */
    const size_t BH = (size_t)B * H;
    float *slr = w->scan, *sli = slr + BH, *sg = sli + BH, *dh = w->dh;
    memset(slr, 0, sizeof(float) * 3 * BH);
    /* d[B; D]^T [In, 3H] starts from the gradient so far: its sums then
     * continue from it */
    nets_transpose(dwT, g + L->off_b_re, H3, In);
    /* blocks from the last; each: dL/dh from its outputs, the reverse scan
     * through its steps, then its share of every weight gradient */
    for (int t0 = (T - 1) / S * S; t0 >= 0; t0 -= S) {
        const int t1 = t0 + S < T ? t0 + S : T, R = (t1 - t0) * B;
        float *dy = w->dout + (size_t)t0 * B * H;
        float *hs = w->hb + In;   /* the block's states, rows LD apart (forward) */
        const float *h_in = w->cs + (size_t)t0 * B * H2;
        const float *xb = in + (size_t)t0 * B * In;
        nets_gemm(CblasNoTrans, CblasTrans, R, H2, In, 1.0f, xb, In, Wb, In, 0.0f, w->gates, H2);
        /* the block's states again, from the one kept before it, fetching
         * the block's dy meanwhile */
        lru_scan_block(lam, w->gates, h_in, hs, LD, dy, len, B, H, t0, t1);
        /* dg rows [dL/dRe h, dL/dIm h] from the outputs, dy [C_re | -C_im];
         * the reverse scan turns them into dL/du */
        nets_gemm(CblasNoTrans, CblasNoTrans, R, H2, H, 1.0f, dy, H, cc, H2, 0.0f, dg, H2);
        for (int t = t1 - 1; t >= t0; t--) {
            const float *hp = t == t0 ? h_in : hs + (size_t)(t - t0 - 1) * B * LD;
            const float *ut = w->gates + (size_t)(t - t0) * B * H2;
            float *dgt = dg + (size_t)(t - t0) * B * H2;
            for (int b = 0; b < B; b++) {
                float *dgb = dgt + (size_t)b * H2;
                if (len && t >= len[b]) {
                    /* a finished row adds nothing, through dy either */
                    memset(dgb, 0, sizeof(float) * H2);
                    memset(dy + ((size_t)(t - t0) * B + b) * H, 0, sizeof(float) * H);
                    continue;
                }
                const float *hpb = hp + (size_t)b * (t == t0 ? (size_t)H2 : LD), *ub = ut + (size_t)b * H2;
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
        /* dL/d[C_re | -C_im] += dy^T [Re h | Im h] */
        nets_gemm(CblasTrans, CblasNoTrans, H, H2, R, 1.0f, dy, H, hs, (int)LD,
                  t1 == T ? 0.0f : 1.0f, dcc, H2);
        /* d[B; D]^T += x^T [dL/du | dy]; din = dL/du B + dy D (one chain
         * over k in 0 .. 3H - 1, stored and reloaded between the two) */
        nets_gemm(CblasTrans, CblasNoTrans, In, H2, R, 1.0f, xb, In, dg, H2, 1.0f, dwT, H3);
        nets_gemm(CblasTrans, CblasNoTrans, In, H, R, 1.0f, xb, In, dy, H, 1.0f, dwT + H2, H3);
        if (din) {
            float *db = din + (size_t)t0 * B * In;
            nets_gemm(CblasNoTrans, CblasNoTrans, R, In, H2, 1.0f, dg, H2, Wb, In, 0.0f, db, In);
            nets_gemm(CblasNoTrans, CblasNoTrans, R, In, H, 1.0f, dy, H, Wd, In, 1.0f, db, In);
        }
    }
    nets_transpose(g + L->off_b_re, dwT, In, H3);
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
