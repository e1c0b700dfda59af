/* gru — gated recurrent unit in PyTorch's nn.GRU form, gates r, z, n stacked
 * in weight_ih [3H, I], weight_hh [3H, H], bias_ih [3H], bias_hh [3H]:
 *   r = s(W_ir x + b_ir + W_hr h + b_hr),  z = s(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h
 * Because r multiplies only the hidden half of n, the recurrent product is
 * kept apart from the input projection (ghh), and backward has two gate
 * gradients: dg for the input side, dg2 for the hidden side. */
#include <cblas.h>
#include "nets/nets_internal.h"

void gru_forward(const net_layer *L, const float *p, net_lws *w, const float *in,
                 const int *len, int B, int T) {
    const int In = L->in, H = L->units, G = 3 * H;
    const float *Wih = p + L->off_w_ih, *Whh = p + L->off_w_hh;
    const float *bih = p + L->off_b_ih, *bhh = p + L->off_b_hh;
    float *bs = w->bsum;
    for (int j = 0; j < 2 * H; j++) bs[j] = bih[j] + bhh[j];
    for (int j = 2 * H; j < G; j++) bs[j] = bih[j];
    const float *bhn = bhh + 2 * H;
    nets_transpose(w->wiT, Wih, G, In);  /* W^T: read row by row at every step */
    nets_transpose(w->whT, Whh, G, H);
    for (int t = 0; t < T; t++) {
        const float *hp = w->out + (size_t)t * B * H;
        float *h = w->out + (size_t)(t + 1) * B * H, *gt = w->gates + (size_t)t * B * G;
        float *hn = w->hn + (size_t)t * B * H;
        nets_gemm(CblasNoTrans, CblasNoTrans, nets_rows(len, B, t), G, In, 1.0f,
                  in + (size_t)t * B * In, In, w->wiT, G, 0.0f, gt, G);
        nets_gemm(CblasNoTrans, CblasNoTrans, nets_rows(len, B, t), G, H, 1.0f, hp, H, w->whT, G,
                  0.0f, w->ghh, G);
        for (int b = 0; b < B; b++) {
            const float *hpb = hp + (size_t)b * H, *gh = w->ghh + (size_t)b * G;
            float *hb = h + (size_t)b * H, *hnb = hn + (size_t)b * H;
            if (len && t >= len[b]) { memcpy(hb, hpb, sizeof(float) * H); continue; }
            float *gr = gt + (size_t)b * G, *gz = gr + H, *gn = gz + H;
            #pragma GCC ivdep  /* the rows of distinct buffers never overlap */
            for (int j = 0; j < H; j++) {
                float r = nets_sigmoidf(gr[j] + gh[j] + bs[j]);
                float z = nets_sigmoidf(gz[j] + gh[H + j] + bs[H + j]);
                float hh = gh[2 * H + j] + bhn[j];
                float n = nets_tanhf(gn[j] + bs[2 * H + j] + r * hh);
                gr[j] = r; gz[j] = z; gn[j] = n; hnb[j] = hh;
                hb[j] = (1.0f - z) * n + z * hpb[j];
            }
        }
    }
}

void gru_backward(const net_layer *L, const float *p, float *g, net_lws *w, const float *in,
                  float *din, const int *len, int B, int T) {
    const int In = L->in, H = L->units, G = 3 * H;
    const float *Wih = p + L->off_w_ih, *Whh = p + L->off_w_hh;
    float *dh = w->dh;
    for (int t = T - 1; t >= 0; t--) {
        const float *gt = w->gates + (size_t)t * B * G, *hn = w->hn + (size_t)t * B * H;
        const float *hp = w->out + (size_t)t * B * H, *dout = w->dout + (size_t)t * B * H;
        float *dgt = w->dg + (size_t)t * B * G, *dg2t = w->dg2 + (size_t)t * B * G;
        for (int b = 0; b < B; b++) {
            float *dgb = dgt + (size_t)b * G, *dg2b = dg2t + (size_t)b * G;
            if (len && t >= len[b]) {     /* masked: no gradient, dh passes through */
                memset(dgb, 0, sizeof(float) * G);
                memset(dg2b, 0, sizeof(float) * G);
                continue;
            }
            const float *gr = gt + (size_t)b * G, *gz = gr + H, *gn = gz + H;
            const float *hnb = hn + (size_t)b * H, *hpb = hp + (size_t)b * H;
            const float *db = dout + (size_t)b * H;
            float *dhb = dh + (size_t)b * H;
            #pragma GCC ivdep  /* the rows of distinct buffers never overlap */
            for (int j = 0; j < H; j++) {
                float r = gr[j], z = gz[j], n = gn[j];
                float dhj = dhb[j] + db[j];
                float dnp = dhj * (1.0f - z) * (1.0f - n * n);
                float drp = dnp * hnb[j] * r * (1.0f - r);
                float dzp = dhj * (hpb[j] - n) * z * (1.0f - z);
                dgb[j] = drp; dgb[H + j] = dzp; dgb[2 * H + j] = dnp;
                dg2b[j] = drp; dg2b[H + j] = dzp; dg2b[2 * H + j] = dnp * r;
                dhb[j] = dhj * z;         /* the direct path; the GEMM adds the rest */
            }
        }
        nets_gemm(CblasNoTrans, CblasNoTrans, nets_rows(len, B, t), H, G, 1.0f, dg2t, G, Whh, H,
                  1.0f, dh, H);
    }
    const int N = T * B;
    nets_weight_grad_seq(g + L->off_w_ih, g + L->off_b_ih, w->dg, in, len, B, T, G, In, w->rows);
    nets_weight_grad_seq(g + L->off_w_hh, g + L->off_b_hh, w->dg2, w->out, len, B, T, G, H, w->rows);
    if (din)
        nets_gemm(CblasNoTrans, CblasNoTrans, N, In, G, 1.0f, w->dg, G, Wih, In,
                  0.0f, din, In);
}
