/* peephole — the LSTM with peephole connections of Gers, Schraudolph and
 * Schmidhuber (2002), "Learning precise timing with LSTM recurrent
 * networks": the cell state looks into the gates through diagonal weights,
 * c_{t-1} into the input and forget gates, c_t into the output gate. In
 * nets' PyTorch-like layout (gates i, f, g, o as in lstm.c):
 *   i = s(a_i + p_i * c),  f = s(a_f + p_f * c),  g = tanh(a_g)
 *   c' = f * c + i * g,    o = s(a_o + p_o * c'),  h' = o * tanh(c')
 * where a = W_ih x + b_ih + W_hh h + b_hh and weight_peep [3, H] holds
 * p_i, p_f, p_o (rows in that order). Output squashing is tanh, as in the
 * "vanilla LSTM" of Greff et al. (2017) which includes the peepholes.
 * Forward and backward are lstm.c's with the peephole terms added: the input
 * projection of all steps is one GEMM, the recurrent product one GEMM per
 * step, the weight gradients two GEMMs at the end; the peephole gradients
 * are summed over rows inside the step pass. */
#include <cblas.h>
#include "nets/nets_internal.h"

void peephole_forward(const net_layer *L, const float *p, net_lws *w, const float *in,
                      const int *len, int B, int T) {
    const int In = L->in, H = L->units, G = 4 * H;
    const float *Wih = p + L->off_w_ih, *Whh = p + L->off_w_hh;
    const float *bih = p + L->off_b_ih, *bhh = p + L->off_b_hh;
    const float *pi = p + L->off_peep, *pf = pi + H, *po = pf + H;
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
                float cpj = cpb[j];
                float i = nets_sigmoidf(gi[j] + bs[j] + pi[j] * cpj);
                float f = nets_sigmoidf(gf[j] + bs[H + j] + pf[j] * cpj);
                float g = nets_tanhf(gg[j] + bs[2 * H + j]);
                float cn = f * cpj + i * g;
                float o = nets_sigmoidf(go[j] + bs[3 * H + j] + po[j] * cn);
                float th = nets_tanhf(cn);
                gi[j] = i; gf[j] = f; gg[j] = g; go[j] = o;
                cb[j] = cn; tcb[j] = th; hb[j] = o * th;
            }
        }
    }
}

void peephole_backward(const net_layer *L, const float *p, float *g, net_lws *w, const float *in,
                       float *din, const int *len, int B, int T) {
    const int In = L->in, H = L->units, G = 4 * H;
    const float *Wih = p + L->off_w_ih, *Whh = p + L->off_w_hh;
    const float *pi = p + L->off_peep, *pf = pi + H, *po = pf + H;
    float *gpi = g + L->off_peep, *gpf = gpi + H, *gpo = gpf + H;
    float *dh = w->dh, *dc = w->dc;
    for (int t = T - 1; t >= 0; t--) {
        const float *gt = w->gates + (size_t)t * B * G, *tc = w->tc + (size_t)t * B * H;
        const float *cp = w->cs + (size_t)t * B * H, *cn = w->cs + (size_t)(t + 1) * B * H;
        const float *dout = w->dout + (size_t)t * B * H;
        float *dgt = w->dg + (size_t)t * B * G;
        for (int b = 0; b < B; b++) {
            float *dgb = dgt + (size_t)b * G;
            if (len && t >= len[b]) {     /* masked: no gradient, dh and dc pass through */
                memset(dgb, 0, sizeof(float) * G);
                continue;
            }
            const float *gi = gt + (size_t)b * G, *gf = gi + H, *gg = gf + H, *go = gg + H;
            const float *tcb = tc + (size_t)b * H, *cpb = cp + (size_t)b * H, *cnb = cn + (size_t)b * H;
            const float *db = dout + (size_t)b * H;
            float *dhb = dh + (size_t)b * H, *dcb = dc + (size_t)b * H;
            #pragma GCC ivdep  /* the rows of distinct buffers never overlap */
            for (int j = 0; j < H; j++) {
                float i = gi[j], f = gf[j], gg_ = gg[j], o = go[j], th = tcb[j];
                float dhj = dhb[j] + db[j];
                float dop = dhj * th * o * (1.0f - o);
                float dcj = dcb[j] + dhj * o * (1.0f - th * th) + dop * po[j];
                float dip = dcj * gg_ * i * (1.0f - i);
                float dfp = dcj * cpb[j] * f * (1.0f - f);
                dgb[j] = dip;
                dgb[H + j] = dfp;
                dgb[2 * H + j] = dcj * i * (1.0f - gg_ * gg_);
                dgb[3 * H + j] = dop;
                gpi[j] += dip * cpb[j];
                gpf[j] += dfp * cpb[j];
                gpo[j] += dop * cnb[j];
                dcb[j] = dcj * f + dip * pi[j] + dfp * pf[j];
                dhb[j] = 0.0f;            /* refilled by the GEMM below */
            }
        }
        nets_gemm(CblasNoTrans, CblasNoTrans, nets_rows(len, B, t), H, G, 1.0f, dgt, G, Whh, H,
                  1.0f, dh, H);
    }
    const int N = T * B;
    nets_weight_grad_seq(g + L->off_w_ih, NULL, w->dg, in, len, B, T, G, In, w->rows);
    nets_weight_grad_seq(g + L->off_w_hh, NULL, w->dg, w->out, len, B, T, G, H, w->rows);
    nets_bias_grad2(g + L->off_b_ih, g + L->off_b_hh, w->bsum, w->dg, N, G);
    if (din)
        nets_gemm(CblasNoTrans, CblasNoTrans, N, In, G, 1.0f, w->dg, G, Wih, In,
                  0.0f, din, In);
}
