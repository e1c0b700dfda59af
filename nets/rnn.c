/* rnn — the Elman network in PyTorch's nn.RNN form (tanh):
 *   h' = tanh(W_ih x + b_ih + W_hh h + b_hh),  weight_ih [H, I], weight_hh [H, H].
 * Same plan as lstm.c: one input GEMM for all steps, one recurrent GEMM per
 * step, weight gradients of all steps in one GEMM each. */
#include <cblas.h>
#include "nets/nets_internal.h"

void rnn_forward(const net_layer *L, const float *p, net_lws *w, const float *in,
                 const int *len, int B, int T) {
    const int In = L->in, H = L->units;
    const float *Wih = p + L->off_w_ih, *Whh = p + L->off_w_hh;
    const float *bih = p + L->off_b_ih, *bhh = p + L->off_b_hh;
    float *bs = w->bsum;
    #pragma GCC ivdep  /* the rows of distinct buffers never overlap */
    for (int j = 0; j < H; j++) bs[j] = bih[j] + bhh[j];
    nets_transpose(w->wiT, Wih, H, In);  /* W^T: read row by row at every step */
    nets_transpose(w->whT, Whh, H, H);
    for (int t = 0; t < T; t++) {
        const float *hp = w->out + (size_t)t * B * H;
        float *h = w->out + (size_t)(t + 1) * B * H, *gt = w->gates + (size_t)t * B * H;
        nets_gemm(CblasNoTrans, CblasNoTrans, nets_rows(len, B, t), H, In, 1.0f,
                  in + (size_t)t * B * In, In, w->wiT, H, 0.0f, gt, H);
        nets_gemm(CblasNoTrans, CblasNoTrans, nets_rows(len, B, t), H, H, 1.0f, hp, H, w->whT, H,
                  1.0f, gt, H);
        for (int b = 0; b < B; b++) {
            const float *hpb = hp + (size_t)b * H, *gb = gt + (size_t)b * H;
            float *hb = h + (size_t)b * H;
            if (len && t >= len[b]) { memcpy(hb, hpb, sizeof(float) * H); continue; }
            #pragma GCC ivdep  /* the rows of distinct buffers never overlap */
            for (int j = 0; j < H; j++) hb[j] = nets_tanhf(gb[j] + bs[j]);
        }
    }
}

void rnn_backward(const net_layer *L, const float *p, float *g, net_lws *w, const float *in,
                  float *din, const int *len, int B, int T) {
    const int In = L->in, H = L->units;
    const float *Wih = p + L->off_w_ih, *Whh = p + L->off_w_hh;
    float *dh = w->dh;
    for (int t = T - 1; t >= 0; t--) {
        const float *h = w->out + (size_t)(t + 1) * B * H, *dout = w->dout + (size_t)t * B * H;
        float *dgt = w->dg + (size_t)t * B * H;
        for (int b = 0; b < B; b++) {
            float *dgb = dgt + (size_t)b * H;
            if (len && t >= len[b]) { memset(dgb, 0, sizeof(float) * H); continue; }
            const float *hb = h + (size_t)b * H, *db = dout + (size_t)b * H;
            float *dhb = dh + (size_t)b * H;
            #pragma GCC ivdep  /* the rows of distinct buffers never overlap */
            for (int j = 0; j < H; j++) {
                dgb[j] = (dhb[j] + db[j]) * (1.0f - hb[j] * hb[j]);
                dhb[j] = 0.0f;            /* refilled by the GEMM below */
            }
        }
        nets_gemm(CblasNoTrans, CblasNoTrans, nets_rows(len, B, t), H, H, 1.0f, dgt, H, Whh, H,
                  1.0f, dh, H);
    }
    const int N = T * B;
    nets_recurrent_weight_grad(L, g, w, in, len, B, T, H);
    if (din)
        nets_gemm(CblasNoTrans, CblasNoTrans, N, In, H, 1.0f, w->dg, H, Wih, In,
                  0.0f, din, In);
}
