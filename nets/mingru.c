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
 * dp = dh z g'(p); the weight gradient of all steps is then one GEMM. */
#include <cblas.h>
#include "nets/nets_internal.h"

/* log g(a), the paper's log_g */
static inline float log_g(float a) {
    return a >= 0 ? nets_logf(a + 0.5f) : -nets_softplusf(-a);
}

void mingru_forward(const net_layer *L, const float *p, net_lws *w, const float *in,
                    const int *len, int B, int T) {
    const int In = L->in, H = L->units, G = 2 * H;
    const float *Wih = p + L->off_w_ih, *bih = p + L->off_b_ih;
    nets_gemm(CblasNoTrans, CblasTrans, T * B, G, In, 1.0f, in, In, Wih, In,
              0.0f, w->gates, G);
    if (T == 1) {      /* one step: the recurrence h' = (1 - z) h + z h~ */
        for (int b = 0; b < B; b++) {
            const float *hp = w->out + (size_t)b * H;
            float *h = w->out + (size_t)(B + b) * H, *gz = w->gates + (size_t)b * G, *gh = gz + H;
            float *gd = w->tc + (size_t)b * H;
            if (len && len[b] < 1) { memcpy(h, hp, sizeof(float) * H); continue; }
            #pragma GCC ivdep
            for (int j = 0; j < H; j++) {
                float k = gz[j] + bih[j], a = gh[j] + bih[H + j];
                float z = nets_sigmoidf(k), s = nets_sigmoidf(a);
                float ht = a >= 0 ? a + 0.5f : s;
                gz[j] = z; gh[j] = ht; gd[j] = a >= 0 ? 1.0f : s * (1.0f - s);
                h[j] = (1.0f - z) * hp[j] + z * ht;
            }
        }
        return;
    }
    /* the scan: per (row, unit) a* (cumsum), and logcumsumexp(log v - a*)
     * as a running max m and a sum s scaled by e^-m */
    const size_t BH = (size_t)B * H;
    double *A = (double *)w->scan, *M = A + BH, *S = M + BH;
    float *ek = (float *)(S + BH), *ea = ek + H, *lk = ea + H, *lg = lk + H;   /* [H] scratch each */
    /* m starts far below any log v - a* (|a*| < 2^31 steps * 88) yet finite */
    for (size_t k = 0; k < BH; k++) { A[k] = 0; M[k] = -1e30; S[k] = 0; }
    const float *h0 = w->out;
    for (int t = 0; t < T; t++) {
        const float *hp = w->out + (size_t)t * B * H;
        float *h = w->out + (size_t)(t + 1) * B * H;
        float *gt = w->gates + (size_t)t * B * G, *gdt = w->tc + (size_t)t * B * H;
        for (int b = 0; b < B; b++) {
            float *hb = h + (size_t)b * H;
            if (len && t >= len[b]) { memcpy(hb, hp + (size_t)b * H, sizeof(float) * H); continue; }
            float *gz = gt + (size_t)b * G, *gh = gz + H, *gd = gdt + (size_t)b * H;
            const float *h0b = h0 + (size_t)b * H;
            double *Ab = A + (size_t)b * H, *Mb = M + (size_t)b * H, *Sb = S + (size_t)b * H;
            /* three passes over the row, each of which GCC vectorises (one
             * loop that feeds nets_expf into nets_logf it does not) */
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
                float a = gh[j];
                lk[j] = nets_logf(1.0f + ek[j]);
                /* log g(a): log(a + 0.5) for a >= 0, log s(a) = a - log(1 + e^a) below */
                float lp = nets_logf(0.5f * (a + fabsf(a)) + 0.5f), ln = a - nets_logf(1.0f + ea[j]);
                lg[j] = a >= 0 ? lp : ln;
            }
            #pragma GCC ivdep
            for (int j = 0; j < H; j++) {
                /* with e = e^-|k|: softplus(+-k) = max(+-k, 0) + log(1 + e) */
                float k = gz[j], a = gh[j], e = ek[j];
                float sa = ea[j] / (1.0f + ea[j]);              /* s(a) where a < 0 */
                gz[j] = k >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e);
                gh[j] = a >= 0 ? a + 0.5f : sa;
                gd[j] = a >= 0 ? 1.0f : sa * (1.0f - sa);
                ek[j] = -(0.5f * (k + fabsf(k)) + lk[j]);        /* log a = log(1 - z) */
                ea[j] = -(0.5f * (fabsf(k) - k) + lk[j]) + lg[j]; /* log v = log(z h~) */
            }
            /* the prefix sums, in double: a* += log a; running logcumsumexp
             * of x = log v - a* as a scale m and a sum S relative to it */
            #pragma GCC ivdep
            for (int j = 0; j < H; j++) {
                double At = Ab[j] + ek[j], x = ea[j] - At;
                /* m = max(m, x) in a form GCC vectorises; any m works as the
                 * scale as long as S is kept relative to the same m */
                double dm = Mb[j] - x, m = x + (dm > 0 ? dm : 0.0);
                lk[j] = (float)(Mb[j] - m);
                lg[j] = (float)(x - m);
                ek[j] = (float)At;
                ea[j] = (float)(At + m);
                Ab[j] = At;
                Mb[j] = m;
            }
            #pragma GCC ivdep
            for (int j = 0; j < H; j++) {
                lk[j] = nets_expf(lk[j]);
                lg[j] = nets_expf(lg[j]);
                ek[j] = nets_expf(ek[j]);
                ea[j] = nets_expf(ea[j]);
            }
            /* h_t = e^{a*} h_0 + e^{a* + m} S */
            #pragma GCC ivdep
            for (int j = 0; j < H; j++) {
                double St = Sb[j] * lk[j] + lg[j];
                Sb[j] = St;
                hb[j] = ek[j] * h0b[j] + ea[j] * (float)St;
            }
        }
    }
}

void mingru_backward(const net_layer *L, const float *p, float *g, net_lws *w, const float *in,
                     float *din, const int *len, int B, int T) {
    const int In = L->in, H = L->units, G = 2 * H;
    const float *Wih = p + L->off_w_ih;
    float *dh = w->dh;
    for (int t = T - 1; t >= 0; t--) {
        const float *gt = w->gates + (size_t)t * B * G, *gdt = w->tc + (size_t)t * B * H;
        const float *hp = w->out + (size_t)t * B * H, *dout = w->dout + (size_t)t * B * H;
        float *dgt = w->dg + (size_t)t * B * G;
        for (int b = 0; b < B; b++) {
            float *dgb = dgt + (size_t)b * G;
            if (len && t >= len[b]) { memset(dgb, 0, sizeof(float) * G); continue; }
            const float *gz = gt + (size_t)b * G, *gh = gz + H, *gd = gdt + (size_t)b * H;
            const float *hpb = hp + (size_t)b * H, *db = dout + (size_t)b * H;
            float *dhb = dh + (size_t)b * H;
            #pragma GCC ivdep
            for (int j = 0; j < H; j++) {
                float z = gz[j], dhj = dhb[j] + db[j];
                dgb[j] = dhj * (gh[j] - hpb[j]) * z * (1.0f - z);
                dgb[H + j] = dhj * z * gd[j];
                dhb[j] = dhj * (1.0f - z);
            }
        }
    }
    const int N = T * B;
    nets_weight_grad(g + L->off_w_ih, g + L->off_b_ih, w->dg, in, N, G, In);
    if (din)
        nets_gemm(CblasNoTrans, CblasNoTrans, N, In, G, 1.0f, w->dg, G, Wih, In,
                  0.0f, din, In);
}
