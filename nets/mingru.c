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
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T * B, G, In, 1.0f, in, In, Wih, In,
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
    for (size_t k = 0; k < BH; k++) { A[k] = 0; M[k] = -1e300; S[k] = 0; }
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
            #pragma GCC ivdep
            for (int j = 0; j < H; j++) {
                float k = gz[j] + bih[j], a = gh[j] + bih[H + j];
                float z = nets_sigmoidf(k), s = nets_sigmoidf(a);
                float la = -nets_softplusf(k);                  /* log(1 - z) */
                float lv = -nets_softplusf(-k) + log_g(a);      /* log(z h~) */
                double At = Ab[j] + la, x = lv - At;
                double m = Mb[j] > x ? Mb[j] : x;
                double St = Sb[j] * nets_expf((float)(Mb[j] - m)) + nets_expf((float)(x - m));
                Ab[j] = At; Mb[j] = m; Sb[j] = St;
                gz[j] = z;
                gh[j] = a >= 0 ? a + 0.5f : s;
                gd[j] = a >= 0 ? 1.0f : s * (1.0f - s);
                hb[j] = nets_expf((float)At) * h0b[j] + nets_expf((float)(At + m)) * (float)St;
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
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, In, G, 1.0f, w->dg, G, Wih, In,
                    0.0f, din, In);
}
