/* mingru — the minimal GRU of Feng, Tung, Ahmed, Bengio and Hajimirsadeghi
 * (2024), "Were RNNs All We Needed?": gates that read the input only, so the
 * recurrence is linear in h and a whole sequence is a scan.
 *   z = s(W_z x + b_z),  h~ = g(W_h x + b_h),  h' = (1 - z) * h + z * h~
 *   g(a) = a + 0.5 (a >= 0), s(a) (a < 0)  (positive, so log h~ exists)
 * weight_ih [2H, I] stacks W_z over W_h, bias_ih [2H] b_z over b_h (the
 * paper's linear_z and linear_h).
 *
 * Training over a sequence (T > 1) uses the paper's log-space scan
 * (parallel_scan_log): with log a_t = -softplus(k_t) = log(1 - z_t) and
 * log v_t = -softplus(-k_t) + log g(p_t) = log(z_t h~_t),
 *   a*_t = sum_{s<=t} log a_s,   h_t = e^{a*_t} (h_0 + sum_{s<=t} e^{log v_s - a*_s})
 * i.e. h = exp(a* + logcumsumexp(log v - a*)) as the paper computes it. Two
 * prefix sums (a cumsum and a logcumsumexp) replace the recurrence; on one
 * core a prefix sum is one sweep, which is what runs here (the parallel
 * prefix pays on a GPU, not on two CPU cores). Two choices of ours: the
 * prefix sums are kept in double (the paper's float32 version loses about
 * |a*| ulp, which reaches 1e-5 near 100 steps), and h_0 enters as its own
 * term e^{a*_t} h_0 instead of through log h_0, so an initial state of any
 * sign works (the paper assumes h_0 > 0). Acting (T == 1) runs the
 * recurrence itself; tests check that the two give the same outputs.
 *
 * Backward is the reverse of the same linear recurrence (elementwise, no
 * matrix per step): dh_{t-1} = (1 - z_t) dh_t, dk = dh (h~ - h_{t-1}) z (1 - z),
 * dp = dh z g'(p).
 *
 * Both run block by block in time, like nets/lru.c: a block of steps (about
 * MINGRU_BLOCK_ROWS rows of steps x batch) takes its pre-activations from
 * one GEMM into a buffer that stays in cache, runs its part of the scan
 * (forward) or of the reverse recurrence (backward), and the backward then
 * adds the block's share of the weight and bias gradients and writes its
 * input gradient, one GEMM each, while the block's dL/d(pre-activations)
 * are still in cache. The backward computes the pre-activations again (a
 * GEMM of depth `in`) and z, h~, g' from them rather than keeping them
 * from the forward: three [T*B, H] arrays written and read back cost more
 * than two exponentials per entry. The weight gradient is accumulated
 * transposed, [in, 2H] (its product reads whole rows of dg), over the
 * blocks from the last: its sums run in that order of rows. */
#include <cblas.h>
#include "nets/nets_internal.h"

/* Time steps per block: about MINGRU_BLOCK_ROWS rows (steps x batch), so
 * that a block's pre-activations and gate gradients (256 KB each at H = 64)
 * stay in the core's L2 cache from one GEMM through the elementwise pass to
 * the next. With whole-sequence buffers the update streamed about 90 MB
 * through memory at T = 512, batch 32, H = 64. */
enum { MINGRU_BLOCK_ROWS = 512 };

static int mingru_block_steps(int B) {
    int s = MINGRU_BLOCK_ROWS / B;
    return s < 1 ? 1 : s;
}

/* z, h~ and g'(a) from the pre-activations k, a; e = e^-|k| gives s(k) for
 * either sign without overflow */
static inline void gate_values(float k, float a, float *z, float *ht, float *gd) {
    float e = nets_expf(-fabsf(k)), ea = nets_expf(-fabsf(a));
    float sa = ea / (1.0f + ea);                        /* s(a) where a < 0 */
    *z = k >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e);
    *ht = a >= 0 ? a + 0.5f : sa;
    *gd = a >= 0 ? 1.0f : sa * (1.0f - sa);
}

/* One row of the scan at one step: h [H] from the block's pre-activations
 * gz (k) and gh (a) (overwritten), h0 and the row's running sums A, M, S. */
static inline void scan_row(const float *bih, float *gz, float *gh, const float *h0, double *Ab,
                            double *Mb, double *Sb, float *ek, float *ea, float *lk, float *lg,
                            float *h, int H) {
    /* five passes over the row, each of which GCC vectorises (it does not
     * one loop that feeds nets_expf into nets_logf, or selects between the
     * results of several nets_expf) */
    #pragma GCC ivdep
    for (int j = 0; j < H; j++) {
        float k = gz[j] + bih[j], a = gh[j] + bih[H + j];
        gz[j] = k;
        gh[j] = a;
        ek[j] = nets_expf(-fabsf(k));
        ea[j] = nets_expf(-fabsf(a));
    }
    #pragma GCC ivdep
    for (int j = 0; j < H; j++) {
        /* with e = e^-|k|: softplus(+-k) = max(+-k, 0) + log(1 + e); log g(a)
         * is log(a + 0.5) for a >= 0 and log s(a) = a - log(1 + e^a) below:
         * one logarithm of either argument */
        float k = gz[j], a = gh[j], l1 = nets_logf(1.0f + ek[j]);
        float la = nets_logf(a >= 0 ? a + 0.5f : 1.0f + ea[j]);
        float lgv = a >= 0 ? la : a - la;
        ek[j] = -(0.5f * (k + fabsf(k)) + l1);             /* log a = log(1 - z) */
        ea[j] = -(0.5f * (fabsf(k) - k) + l1) + lgv;       /* log v = log(z h~) */
    }
    /* the prefix sums, in double: a* += log a; the running logcumsumexp of
     * x = log v - a* as a scale m = max(m, x) and a sum S relative to it.
     * One of the two rescalings is e^0: the other is e^-|m - x| */
    #pragma GCC ivdep
    for (int j = 0; j < H; j++) {
        double At = Ab[j] + ek[j], x = ea[j] - At, d = Mb[j] - x;
        int keep = d >= 0;                                  /* m stays */
        double m = keep ? Mb[j] : x;
        lk[j] = (float)-fabs(d);
        lg[j] = keep ? 1.0f : 0.0f;
        ek[j] = (float)At;
        ea[j] = (float)(At + m);
        Ab[j] = At;
        Mb[j] = m;
    }
    #pragma GCC ivdep
    for (int j = 0; j < H; j++) {
        lk[j] = nets_expf(lk[j]);
        ek[j] = nets_expf(ek[j]);
        ea[j] = nets_expf(ea[j]);
    }
    /* S = S e^{m_old - m} + e^{x - m};  h_t = e^{a*} h_0 + e^{a* + m} S */
    #pragma GCC ivdep
    for (int j = 0; j < H; j++) {
        float e = lk[j], ka = lg[j] != 0.0f ? 1.0f : e, kx = lg[j] != 0.0f ? e : 1.0f;
        double St = Sb[j] * ka + kx;
        Sb[j] = St;
        h[j] = ek[j] * h0[j] + ea[j] * (float)St;
    }
}

void mingru_forward(const net_layer *L, const float *p, net_lws *w, const float *in,
                    const int *len, int B, int T) {
    const int In = L->in, H = L->units, G = 2 * H;
    const float *Wih = p + L->off_w_ih, *bih = p + L->off_b_ih;
    if (T == 1) {      /* one step: the recurrence h' = (1 - z) h + z h~ */
        nets_gemm(CblasNoTrans, CblasTrans, B, G, In, 1.0f, in, In, Wih, In, 0.0f, w->gates, G);
        for (int b = 0; b < B; b++) {
            const float *hp = w->out + (size_t)b * H, *gz = w->gates + (size_t)b * G, *gh = gz + H;
            float *h = w->out + (size_t)(B + b) * H;
            if (len && len[b] < 1) { memcpy(h, hp, sizeof(float) * H); continue; }
            #pragma GCC ivdep
            for (int j = 0; j < H; j++) {
                float k = gz[j] + bih[j], a = gh[j] + bih[H + j];
                float z = nets_sigmoidf(k), ht = a >= 0 ? a + 0.5f : nets_sigmoidf(a);
                h[j] = (1.0f - z) * hp[j] + z * ht;
            }
        }
        return;
    }
    /* the scan: per (row, unit) a* (cumsum), and logcumsumexp(log v - a*)
     * as a running max m and a sum S scaled by e^-m */
    const size_t BH = (size_t)B * H;
    double *A = (double *)w->scan, *M = A + BH, *S = M + BH;
    float *ek = (float *)(S + BH), *ea = ek + H, *lk = ea + H, *lg = lk + H;   /* [H] scratch each */
    /* m starts far below any log v - a* (|a*| < 2^31 steps * 88) yet finite */
    for (size_t k = 0; k < BH; k++) { A[k] = 0; M[k] = -1e30; S[k] = 0; }
    const float *h0 = w->out;
    const int St = mingru_block_steps(B);
    for (int t0 = 0; t0 < T; t0 += St) {
        const int t1 = t0 + St < T ? t0 + St : T;
        float *pre = w->gates;   /* [(t1 - t0) * B, 2H], this block's */
        nets_gemm(CblasNoTrans, CblasTrans, (t1 - t0) * B, G, In, 1.0f, in + (size_t)t0 * B * In, In,
                  Wih, In, 0.0f, pre, G);
        for (int t = t0; t < t1; t++) {
            const float *hp = w->out + (size_t)t * B * H;
            float *h = w->out + (size_t)(t + 1) * B * H, *pt = pre + (size_t)(t - t0) * B * G;
            for (int b = 0; b < B; b++) {
                float *hb = h + (size_t)b * H;
                if (len && t >= len[b]) { memcpy(hb, hp + (size_t)b * H, sizeof(float) * H); continue; }
                float *gz = pt + (size_t)b * G;
                scan_row(bih, gz, gz + H, h0 + (size_t)b * H, A + (size_t)b * H, M + (size_t)b * H,
                         S + (size_t)b * H, ek, ea, lk, lg, hb, H);
            }
        }
    }
}

void mingru_backward(const net_layer *L, const float *p, float *g, net_lws *w, const float *in,
                     float *din, const int *len, int B, int T) {
    const int In = L->in, H = L->units, G = 2 * H, St = mingru_block_steps(B);
    const float *Wih = p + L->off_w_ih, *bih = p + L->off_b_ih;
    float *dh = w->dh, *pre = w->gates, *dg = w->dg, *dwT = w->dwT;
    float *gw = g + L->off_w_ih, *gb = g + L->off_b_ih;
    /* dW^T [In, G] starts from the gradient so far: its sums then continue
     * from it, as a product with beta 1 would */
    nets_transpose(dwT, gw, G, In);
    for (int t1 = T; t1 > 0;) {
        const int t0 = t1 - St > 0 ? t1 - St : 0, R = (t1 - t0) * B;
        const float *xb = in + (size_t)t0 * B * In;
        nets_gemm(CblasNoTrans, CblasTrans, R, G, In, 1.0f, xb, In, Wih, In, 0.0f, pre, G);
        for (int t = t1 - 1; t >= t0; t--) {
            const float *hp = w->out + (size_t)t * B * H, *dout = w->dout + (size_t)t * B * H;
            const float *pt = pre + (size_t)(t - t0) * B * G;
            float *dgt = dg + (size_t)(t - t0) * B * G;
            for (int b = 0; b < B; b++) {
                float *dgb = dgt + (size_t)b * G;
                if (len && t >= len[b]) { memset(dgb, 0, sizeof(float) * G); continue; }
                const float *gz = pt + (size_t)b * G, *gh = gz + H;
                const float *hpb = hp + (size_t)b * H, *db = dout + (size_t)b * H;
                float *dhb = dh + (size_t)b * H;
                #pragma GCC ivdep
                for (int j = 0; j < H; j++) {
                    float z, ht, gd;
                    gate_values(gz[j] + bih[j], gh[j] + bih[H + j], &z, &ht, &gd);
                    float dhj = dhb[j] + db[j];
                    dgb[j] = dhj * (ht - hpb[j]) * z * (1.0f - z);
                    dgb[H + j] = dhj * z * gd;
                    dhb[j] = dhj * (1.0f - z);
                }
            }
        }
        /* the block's share: dW^T += x^T dg, db += column sums, din = dg W */
        nets_gemm(CblasTrans, CblasNoTrans, In, G, R, 1.0f, xb, In, dg, G, 1.0f, dwT, G);
        for (int r = 0; r < R; r++) {
            const float *restrict dr = dg + (size_t)r * G;
            float *restrict sb = gb;
            #pragma GCC ivdep
            for (int j = 0; j < G; j++) sb[j] += dr[j];
        }
        if (din)
            nets_gemm(CblasNoTrans, CblasNoTrans, R, In, G, 1.0f, dg, G, Wih, In, 0.0f,
                      din + (size_t)t0 * B * In, In);
        t1 = t0;
    }
    nets_transpose(gw, dwT, In, G);
}
