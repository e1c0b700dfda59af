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
 * of steps (about LRU_BLOCK_ROWS rows of steps x batch) runs the
 * recurrence row by row, each row's input side B_norm x (B_norm = gamma B,
 * the paper's code's normalised B) worked out in registers on the way (a
 * product of depth `in`, too shallow for a GEMM to pay: its output would be
 * written and read back), with no matrix product across the state, unlike
 * the LSTM's step; then y = Re(C h) + D x of all its steps is one GEMM of
 * the block rows [Re h | Im h | x] against [C_re^T; -C_im^T; D^T]. Blocks
 * rather than whole sequences so that the operands of each GEMM are still
 * in cache from the scan (below). The block's states live in a block
 * buffer (hb, rows padded to 64 bytes); of the states, cs keeps only those
 * before each block and each row's final one: the backward runs each
 * block's scan again from the state kept before it (a pass over data in
 * cache) instead of reading back 2H floats per row and step written to
 * memory by the forward (8 MB at T = 512, batch 32, H = 64: written, read
 * back, and fetched before being written). Backward, block by block from
 * the last: the block's states again, dL/dh from its outputs as one GEMM,
 * the reverse scan (conjugate lambda) turns it into dL/du (u = B_norm x)
 * and accumulates the gradient of lambda, then the block's share of dL/dC
 * is one GEMM and its shares of the gradient of [B_norm; D] and of the
 * input gradient two each (one against dL/du, one against dy: no copy of
 * dy beside dL/du). The gradient of [B_norm; D] is summed transposed, [in,
 * 3H], so that its product reads whole rows of dL/du and dy (with 8 inputs
 * the direct one filled half a vector); at the end dL/dB = gamma dL/dB_norm
 * and dL/dgamma = sum_k B dL/dB_norm, as autograd through the paper's
 * B_norm gives them (no per-step sum for gamma in the scan). */
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

/* The paper's normalised input matrix B_norm = gamma B (its code's
 * B_norm = (B_re + i B_im) * exp(gamma_log)), into bn [2H, in] (Re rows,
 * then Im rows, as B is stored) and bnT = bn^T [in, 2H] (the scan reads its
 * rows) */
static void lru_bnorm(const net_layer *L, const float *p, const float *lam, float *bn, float *bnT) {
    const int H = L->units, In = L->in;
    const float *Wb = p + L->off_b_re, *gm = lam + 2 * H;
    for (int j = 0; j < 2 * H; j++)
        for (int k = 0; k < In; k++) bn[(size_t)j * In + k] = gm[j % H] * Wb[(size_t)j * In + k];
    nets_transpose(bnT, bn, 2 * H, In);
}

/* Time steps per block: about LRU_BLOCK_ROWS rows (steps x batch), so that a
 * block's states, outputs and gradients (under 1 MB at H = 64) stay in
 * the core's L2 cache from the scan to the GEMMs. Measured at
 * H = 64, batch 32, T = 512 on one Zen 4 core: the same GEMMs over all T*B
 * rows at once ran at 60-67 GFLOP/s (they stream their operands from
 * memory), over blocks of 512 rows at 93-101. */
enum { LRU_BLOCK_ROWS = 512 };

static int lru_block_steps(int B) {
    int s = LRU_BLOCK_ROWS / B;
    return s < 1 ? 1 : s;
}

/* The block buffer's row: [Re h | Im h | x], padded to a multiple of 16
 * floats so that every row's states start on a 64-byte boundary (the
 * scan's vector loads and stores then never straddle two cache lines) */
size_t lru_block_ld(int H, int In) { return ((size_t)2 * H + In + 15) / 16 * 16; }

/* a pass of B <= Bm rows has blocks of (LRU_BLOCK_ROWS / B) * B <=
 * LRU_BLOCK_ROWS rows, or of B rows when B is larger, and never more rows
 * than the pass */
size_t lru_block_rows(int Bm, int Tm) {
    size_t r = Bm > LRU_BLOCK_ROWS ? (size_t)Bm : LRU_BLOCK_ROWS, all = (size_t)Bm * Tm;
    return r < all ? r : all;
}

/* 16 floats (GCC's vector extension: one AVX-512 register where the target
 * has them, two or four narrower ones elsewhere); loads and stores through
 * memcpy, which makes no alignment assumption */
typedef float lru_v16 __attribute__((vector_size(64)));
/* macros, not functions: a function passing such a vector by value has
 * another ABI where the build has no AVX-512 (GCC's -Wpsabi) */
#define LRU_LD(v, p) memcpy(&(v), (p), sizeof(lru_v16))
#define LRU_ST(p, v) memcpy((p), &(v), sizeof(lru_v16))

/* One step of one row for the units j0 .. j0 + 16 NV - 1: h = lambda hp +
 * B_norm x, with the input side B_norm x worked out here, in registers, from
 * x [In] and bnT [In, 2H] (each entry's chain: k = 0 .. In - 1 from zero)
 * rather than written by a GEMM and read back. NV (1 .. 4) vectors of Re
 * and as many of Im: 2 NV independent chains over k. */
static inline __attribute__((always_inline)) void
lru_step_vec(const int NV, const float *lam, const float *bnT, const float *x, const float *hp,
             float *h, int H, int In, int j0) {
    const int H2 = 2 * H;
    lru_v16 ur[4], ui[4];
    for (int v = 0; v < NV; v++) ur[v] = ui[v] = (lru_v16){0};
    for (int k = 0; k < In; k++) {
        const lru_v16 xk = (lru_v16){0} + x[k];
        const float *bk = bnT + (size_t)k * H2 + j0;
        for (int v = 0; v < NV; v++) {
            lru_v16 br, bi;
            LRU_LD(br, bk + 16 * v);
            LRU_LD(bi, bk + H + 16 * v);
            ur[v] += xk * br;
            ui[v] += xk * bi;
        }
    }
    for (int v = 0; v < NV; v++) {
        const int j = j0 + 16 * v;
        lru_v16 re, im, a, c;
        LRU_LD(re, hp + j);
        LRU_LD(im, hp + H + j);
        LRU_LD(a, lam + j);
        LRU_LD(c, lam + H + j);
        const lru_v16 hr = a * re - c * im + ur[v], hi = a * im + c * re + ui[v];
        LRU_ST(h + j, hr);
        LRU_ST(h + H + j, hi);
    }
}

/* One step of one row, every unit: groups of 4 vectors, then 1-3, then the
 * last H % 16 units one at a time */
static void lru_step_row(const float *lam, const float *bnT, const float *x, const float *hp,
                         float *h, int H, int In) {
    const int H2 = 2 * H;
    int j = 0;
    for (; j + 64 <= H; j += 64) lru_step_vec(4, lam, bnT, x, hp, h, H, In, j);
    switch ((H - j) / 16) {
    case 3: lru_step_vec(3, lam, bnT, x, hp, h, H, In, j); break;
    case 2: lru_step_vec(2, lam, bnT, x, hp, h, H, In, j); break;
    case 1: lru_step_vec(1, lam, bnT, x, hp, h, H, In, j); break;
    default: break;
    }
    j += (H - j) / 16 * 16;
    const float *lr = lam, *li = lam + H;
    for (; j < H; j++) {
        float ur = 0.0f, ui = 0.0f;
        for (int k = 0; k < In; k++) {
            ur += x[k] * bnT[(size_t)k * H2 + j];
            ui += x[k] * bnT[(size_t)k * H2 + H + j];
        }
        const float re = hp[j], im = hp[H + j];
        h[j] = lr[j] * re - li[j] * im + ur;
        h[H + j] = lr[j] * im + li[j] * re + ui;
    }
}

/* The scan over steps t0 .. t1 - 1 of one block: the states after each
 * step into hs [(t1 - t0) * B, 2H] (rows ldh apart) from the state before
 * t0, h_in [B, 2H], and the block's inputs xb [(t1 - t0) * B, In]. xc: where
 * to copy each input row (rows ldh apart: the x part of the forward's block
 * rows [Re h | Im h | x]), or NULL. The forward and the backward run this same function
 * on the same operands, so the backward's states are the forward's, bit for
 * bit. pf: rows [(t1 - t0) * B, H] to fetch into cache on the way (the
 * backward's dy, which its dL/dh product reads next and would otherwise
 * wait for), or NULL. */
static void lru_scan_block(const float *lam, const float *bnT, const float *xb, float *xc,
                           const float *h_in, float *hs, size_t ldh, const float *pf, const int *len,
                           int B, int H, int In, int t0, int t1) {
    const int H2 = 2 * H;
    for (int t = t0; t < t1; t++) {
        const size_t r0 = (size_t)(t - t0) * B;
        for (int b = 0; b < B; b++) {
            const size_t r = r0 + (size_t)b;
            const float *hpb = t == t0 ? h_in + (size_t)b * H2 : hs + (r - (size_t)B) * ldh;
            const float *x = xb + r * In;
            float *hrow = hs + r * ldh;
            if (xc) nets_copy_row(xc + r * ldh, x, (size_t)In);
            if (pf)   /* 64 bytes at a time */
                for (int q = 0; q < H; q += 16) __builtin_prefetch(pf + r * H + q, 0, 2);
            if (len && t >= len[b]) { memcpy(hrow, hpb, sizeof(float) * H2); continue; }
            lru_step_row(lam, bnT, x, hpb, hrow, H, In);
        }
    }
}

void lru_forward(const net_layer *L, const float *p, net_lws *w, const float *in,
                 const int *len, int B, int T) {
    const int In = L->in, H = L->units, H2 = 2 * H, S = lru_block_steps(B);
    float *lam = w->bsum, *bn = w->gates, *bnT = bn + (size_t)H2 * In;
    lru_lambda(L, p, lam);
    lru_bnorm(L, p, lam, bn, bnT);
    /* The block buffer's rows are [Re h | Im h | x] (lru_block_ld floats
     * apart) and dcT = [C_re^T; -C_im^T; D^T] [2H + In, H], so that
     * y = Re(C h) + D x is one product, [Re h | Im h | x] dcT, whose chain
     * over k is the one of Re(C h) continued by D x (y written once, in one
     * pass), reading dcT's rows as they are (no packing per block) */
    const size_t LD = lru_block_ld(H, In);
    const float *Cre = p + L->off_c_re, *Cim = p + L->off_c_im, *Wd = p + L->off_b_re + (size_t)H2 * In;
    float *dcT = w->cc;
    for (int k = 0; k < H; k++)
        for (int j = 0; j < H; j++) {
            dcT[(size_t)k * H + j] = Cre[(size_t)j * H + k];
            dcT[((size_t)H + k) * H + j] = -Cim[(size_t)j * H + k];
        }
    nets_transpose(dcT + (size_t)H2 * H, Wd, H, In);
    for (int t0 = 0; t0 < T; t0 += S) {
        const int t1 = t0 + S < T ? t0 + S : T, R = (t1 - t0) * B;
        const float *xb = in + (size_t)t0 * B * In;
        float *y = w->out + (size_t)(t0 + 1) * B * H, *hs = w->hb;
        lru_scan_block(lam, bnT, xb, hs + H2, w->cs + (size_t)t0 * B * H2, hs, LD, NULL, len, B, H, In, t0, t1);
        /* y = [Re h | Im h | x] dcT = Re(C h) + D x */
        nets_gemm(CblasNoTrans, CblasNoTrans, R, H, H2 + In, 1.0f, hs, (int)LD, dcT, H, 0.0f, y, H);
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
    const size_t LD = lru_block_ld(H, In);
    float *lam = w->bsum, *bn = w->gates, *bnT = bn + (size_t)H2 * In;
    lru_lambda(L, p, lam);
    lru_bnorm(L, p, lam, bn, bnT);
    const float *lr = lam, *li = lam + H, *gm = lam + 2 * H;
    const float *Wb = p + L->off_b_re, *Wd = Wb + (size_t)H2 * In;
    /* dg [S*B, 2H], one block's rows, reused by every block; cc = [C_re |
     * -C_im] [H, 2H], made here (the forward leaves its own operand,
     * [C_re^T; -C_im^T; D^T], in the same place) */
    float *dg = w->dg, *cc = w->cc, *dcc = w->cc + (size_t)H * H2, *dwT = w->dwT;
    const float *Cre = p + L->off_c_re, *Cim = p + L->off_c_im;
    for (int j = 0; j < H; j++)
        for (int k = 0; k < H; k++) {
            cc[(size_t)j * H2 + k] = Cre[(size_t)j * H + k];
            cc[(size_t)j * H2 + H + k] = -Cim[(size_t)j * H + k];
        }
    /* per-row sums of dL/dlambda_re, dL/dlambda_im over the steps.
     * dh arrives holding dL/d(final state) (net.c) */
    const size_t BH = (size_t)B * H;
    float *slr = w->scan, *sli = slr + BH, *dh = w->dh;
    memset(slr, 0, sizeof(float) * 2 * BH);
    /* [dL/dB_norm; dL/dD]^T [In, 3H], summed over the blocks */
    memset(dwT, 0, sizeof(float) * (size_t)In * H3);
    /* blocks from the last; each: dL/dh from its outputs, the reverse scan
     * through its steps, then its share of every weight gradient */
    for (int t0 = (T - 1) / S * S; t0 >= 0; t0 -= S) {
        const int t1 = t0 + S < T ? t0 + S : T, R = (t1 - t0) * B;
        float *dy = w->dout + (size_t)t0 * B * H;
        float *hs = w->hb;   /* the block's states, rows LD apart (forward) */
        const float *h_in = w->cs + (size_t)t0 * B * H2;
        const float *xb = in + (size_t)t0 * B * In;
        /* the block's states again, from the one kept before it, fetching
         * the block's dy meanwhile */
        lru_scan_block(lam, bnT, xb, NULL, h_in, hs, LD, dy, len, B, H, In, t0, t1);
        /* dg rows [dL/dRe h, dL/dIm h] from the outputs, dy [C_re | -C_im];
         * the reverse scan turns them into dL/du (u = B_norm x) */
        nets_gemm(CblasNoTrans, CblasNoTrans, R, H2, H, 1.0f, dy, H, cc, H2, 0.0f, dg, H2);
        for (int t = t1 - 1; t >= t0; t--) {
            const float *hp = t == t0 ? h_in : hs + (size_t)(t - t0 - 1) * B * LD;
            float *dgt = dg + (size_t)(t - t0) * B * H2;
            for (int b = 0; b < B; b++) {
                float *dgb = dgt + (size_t)b * H2;
                if (len && t >= len[b]) {
                    /* a finished row adds nothing, through dy either */
                    memset(dgb, 0, sizeof(float) * H2);
                    memset(dy + ((size_t)(t - t0) * B + b) * H, 0, sizeof(float) * H);
                    continue;
                }
                const float *hpb = hp + (size_t)b * (t == t0 ? (size_t)H2 : LD);
                float *dhb = dh + (size_t)b * H2;
                float *slb = slr + (size_t)b * H, *sib = sli + (size_t)b * H;
                #pragma GCC ivdep
                for (int j = 0; j < H; j++) {
                    float gr = dhb[j] + dgb[j], gi = dhb[H + j] + dgb[H + j];
                    float re = hpb[j], im = hpb[H + j];
                    slb[j] += gr * re + gi * im;
                    sib[j] += gi * re - gr * im;
                    dgb[j] = gr;
                    dgb[H + j] = gi;
                    dhb[j] = lr[j] * gr + li[j] * gi;
                    dhb[H + j] = lr[j] * gi - li[j] * gr;
                }
            }
        }
        /* dL/d[C_re | -C_im] += dy^T [Re h | Im h] */
        nets_gemm(CblasTrans, CblasNoTrans, H, H2, R, 1.0f, dy, H, hs, (int)LD,
                  t1 == T ? 0.0f : 1.0f, dcc, H2);
        /* [dL/dB_norm; dL/dD]^T += x^T [dL/du | dy]; din = dL/du B_norm + dy D
         * (one chain over k in 0 .. 3H - 1, stored and reloaded between the two) */
        nets_gemm(CblasTrans, CblasNoTrans, In, H2, R, 1.0f, xb, In, dg, H2, 1.0f, dwT, H3);
        nets_gemm(CblasTrans, CblasNoTrans, In, H, R, 1.0f, xb, In, dy, H, 1.0f, dwT + H2, H3);
        if (din) {
            float *db = din + (size_t)t0 * B * In;
            nets_gemm(CblasNoTrans, CblasNoTrans, R, In, H2, 1.0f, dg, H2, bn, In, 0.0f, db, In);
            nets_gemm(CblasNoTrans, CblasNoTrans, R, In, H, 1.0f, dy, H, Wd, In, 1.0f, db, In);
        }
    }
    /* B_norm = gamma B: dL/dB = gamma dL/dB_norm, and gamma's share is
     * sum_k B dL/dB_norm over both parts (what the paper's autograd
     * computes through its B_norm); D directly */
    float *gB = g + L->off_b_re;
    for (int j = 0; j < H; j++) {
        double sgam = 0;
        for (int part = 0; part < 2; part++) {
            const size_t row = (size_t)part * H + j;
            for (int k = 0; k < In; k++) {
                const float d = dwT[(size_t)k * H3 + row];
                sgam += (double)Wb[row * In + k] * d;
                gB[row * In + k] += gm[j] * d;
            }
        }
        g[L->off_gamma + j] += (float)(sgam * gm[j]);
    }
    for (int j = 0; j < H; j++)
        for (int k = 0; k < In; k++) gB[((size_t)H2 + j) * In + k] += dwT[(size_t)k * H3 + H2 + j];
    float *gCre = g + L->off_c_re, *gCim = g + L->off_c_im;
    for (int j = 0; j < H; j++)
        for (int k = 0; k < H; k++) {
            gCre[(size_t)j * H + k] += dcc[(size_t)j * H2 + k];
            gCim[(size_t)j * H + k] -= dcc[(size_t)j * H2 + H + k];
        }
    /* lambda = r e^{i phi}, r = exp(-exp(nu_log)), phi = exp(theta_log) */
    for (int j = 0; j < H; j++) {
        double dlr = 0, dli = 0;
        for (int b = 0; b < B; b++) {
            dlr += slr[(size_t)b * H + j];
            dli += sli[(size_t)b * H + j];
        }
        double enu = exp((double)p[L->off_nu + j]), r = exp(-enu), ph = exp((double)p[L->off_theta + j]);
        double c = cos(ph), s = sin(ph);
        double dr = dlr * c + dli * s, dph = (-dlr * s + dli * c) * r;
        g[L->off_nu + j] += (float)(dr * r * -enu);
        g[L->off_theta + j] += (float)(dph * ph);
    }
}
