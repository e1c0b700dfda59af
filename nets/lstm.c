/* lstm — long short-term memory with a forget gate (Gers et al. 2000), in
 * PyTorch's nn.LSTM form: gates i, f, g, o stacked in that order in
 * weight_ih [4H, I], weight_hh [4H, H], bias_ih [4H], bias_hh [4H]:
 *   i = s(.), f = s(.), g = tanh(.), o = s(.)   of W_ih x + b_ih + W_hh h + b_hh
 *   c' = f * c + i * g,   h' = o * tanh(c')
 * Forward: per step two GEMMs over the running rows (input projection, then
 * the recurrent product continuing the same chains) and one fused pass over
 * the gates. Backward (BPTT): per step one fused pass and one GEMM for dh;
 * the weight gradients of all steps are then two GEMMs over the valid rows. */
#include <cblas.h>
#include "nets/nets_internal.h"

void lstm_forward(const net_layer *L, const float *p, net_lws *w, const float *in,
                  const int *len, int B, int T) {
    const int In = L->in, H = L->units, G = 4 * H;
    const float *Wih = p + L->off_w_ih, *Whh = p + L->off_w_hh;
    const float *bih = p + L->off_b_ih, *bhh = p + L->off_b_hh;
    float *bs = w->bsum;
    for (int j = 0; j < G; j++) bs[j] = bih[j] + bhh[j];
    nets_transpose(w->wiT, Wih, G, In);  /* W^T: read row by row at every step */
    nets_transpose(w->whT, Whh, G, H);
    for (int t = 0; t < T; t++) {
        const float *hp = w->out + (size_t)t * B * H, *cp = w->cs + (size_t)t * B * H;
        float *h = w->out + (size_t)(t + 1) * B * H, *c = w->cs + (size_t)(t + 1) * B * H;
        float *gt = w->gates + (size_t)t * B * G, *tc = w->tc + (size_t)t * B * H;
        nets_gemm(CblasNoTrans, CblasNoTrans, nets_rows(len, B, t), G, In, 1.0f,
                  in + (size_t)t * B * In, In, w->wiT, G, 0.0f, gt, G);
        nets_gemm(CblasNoTrans, CblasNoTrans, nets_rows(len, B, t), G, H, 1.0f, hp, H, w->whT, G,
                  1.0f, gt, G);
        for (int b = 0; b < B; b++) {
            const float *hpb = hp + (size_t)b * H, *cpb = cp + (size_t)b * H;
            float *hb = h + (size_t)b * H, *cb = c + (size_t)b * H;
            if (len && t >= len[b]) {     /* masked: the state passes through */
                memcpy(hb, hpb, sizeof(float) * H);
                memcpy(cb, cpb, sizeof(float) * H);
                continue;
            }
            float *gi = gt + (size_t)b * G, *gf = gi + H, *gg = gf + H, *go = gg + H;
            float *tcb = tc + (size_t)b * H;
            #pragma GCC ivdep  /* the rows of distinct buffers never overlap */
            for (int j = 0; j < H; j++) {
                float i = nets_sigmoidf(gi[j] + bs[j]);
                float f = nets_sigmoidf(gf[j] + bs[H + j]);
                float g = nets_tanhf(gg[j] + bs[2 * H + j]);
                float o = nets_sigmoidf(go[j] + bs[3 * H + j]);
                float cn = f * cpb[j] + i * g;
                float th = nets_tanhf(cn);
                gi[j] = i; gf[j] = f; gg[j] = g; go[j] = o;
                cb[j] = cn; tcb[j] = th; hb[j] = o * th;
            }
        }
    }
}

void lstm_backward(const net_layer *L, const float *p, float *g, net_lws *w, const float *in,
                   float *din, const int *len, int B, int T) {
    const int In = L->in, H = L->units, G = 4 * H;
    const float *Wih = p + L->off_w_ih, *Whh = p + L->off_w_hh;
    float *dh = w->dh, *dc = w->dc;
    for (int t = T - 1; t >= 0; t--) {
        const float *gt = w->gates + (size_t)t * B * G, *tc = w->tc + (size_t)t * B * H;
        const float *cp = w->cs + (size_t)t * B * H, *dout = w->dout + (size_t)t * B * H;
        float *dgt = w->dg + (size_t)t * B * G;
        for (int b = 0; b < B; b++) {
            float *dgb = dgt + (size_t)b * G;
            if (len && t >= len[b]) {     /* masked: no gradient, dh and dc pass through */
                memset(dgb, 0, sizeof(float) * G);
                continue;
            }
            const float *gi = gt + (size_t)b * G, *gf = gi + H, *gg = gf + H, *go = gg + H;
            const float *tcb = tc + (size_t)b * H, *cpb = cp + (size_t)b * H;
            const float *db = dout + (size_t)b * H;
            float *dhb = dh + (size_t)b * H, *dcb = dc + (size_t)b * H;
            #pragma GCC ivdep  /* the rows of distinct buffers never overlap */
            for (int j = 0; j < H; j++) {
                float i = gi[j], f = gf[j], gg_ = gg[j], o = go[j], th = tcb[j];
                float dhj = dhb[j] + db[j];
                float dcj = dcb[j] + dhj * o * (1.0f - th * th);
                dgb[j] = dcj * gg_ * i * (1.0f - i);
                dgb[H + j] = dcj * cpb[j] * f * (1.0f - f);
                dgb[2 * H + j] = dcj * i * (1.0f - gg_ * gg_);
                dgb[3 * H + j] = dhj * th * o * (1.0f - o);
                dcb[j] = dcj * f;
                dhb[j] = 0.0f;            /* refilled by the GEMM below */
            }
        }
        nets_gemm(CblasNoTrans, CblasNoTrans, nets_rows(len, B, t), H, G, 1.0f, dgt, G, Whh, H,
                  1.0f, dh, H);
    }
    /* weight gradients of all steps at once; the h fed to step t is hs block t */
    const int N = T * B;
    nets_weight_grad_seq(g + L->off_w_ih, NULL, w->dg, in, len, B, T, G, In, w->rows);
    nets_weight_grad_seq(g + L->off_w_hh, NULL, w->dg, w->out, len, B, T, G, H, w->rows);
    nets_bias_grad2(g + L->off_b_ih, g + L->off_b_hh, w->bsum, w->dg, N, G);
    if (din)
        nets_gemm(CblasNoTrans, CblasNoTrans, N, In, G, 1.0f, w->dg, G, Wih, In,
                  0.0f, din, In);
}
