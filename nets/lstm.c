/* lstm — long short-term memory with a forget gate (Gers et al. 2000), in
 * PyTorch's nn.LSTM form: gates i, f, g, o stacked in that order in
 * weight_ih [4H, I], weight_hh [4H, H], bias_ih [4H], bias_hh [4H]:
 *   i = s(.), f = s(.), g = tanh(.), o = s(.)   of W_ih x + b_ih + W_hh h + b_hh
 *   c' = f * c + i * g,   h' = o * tanh(c')
 * Forward: per step two GEMMs over the running rows (input projection, then
 * the recurrent product continuing the same chains) and one fused pass over
 * the gates. Backward (BPTT): per step one fused pass and one GEMM for dh;
 * the weight gradients of all steps are then two GEMMs over the valid rows.
 *
 * The peephole LSTM (peephole.c) is this layer with three diagonal terms
 * added to the gates: the passes below take its weights as peep (NULL for
 * the plain LSTM) and are written once for both. */
#include <cblas.h>
#include "nets/nets_internal.h"

/* One row of a step's fused gate pass. gt [4H]: the pre-activations without
 * the biases in, the activations i, f, g, o out; bs [4H] the summed biases;
 * cpb [H] the previous cell; writes the cell cb, tanh(cell) tcb and output
 * hb [H]. peep [3, H]: p_i, p_f, p_o, or NULL. One call site passes a
 * literal NULL, so after inlining the plain LSTM's loop carries no peephole
 * terms. Every expression keeps the order it had when the two
 * layers were written apart, and cpb[j] is read where they read it: GCC's
 * choice of which product it fuses into an FMA (c' = f * c + i * g) follows
 * that order, and results are bit for bit those of the separate layers. */
static inline __attribute__((always_inline)) void
lstm_gates_forward(float *gt, float *cb, float *tcb, float *hb, const float *cpb, const float *bs,
                   const float *peep, int H) {
    float *gi = gt, *gf = gi + H, *gg = gf + H, *go = gg + H;
    #pragma GCC ivdep  /* the rows of distinct buffers never overlap */
    for (int j = 0; j < H; j++) {
        float ai = gi[j] + bs[j], af = gf[j] + bs[H + j], ao = go[j] + bs[3 * H + j];
        if (peep) {
            ai += peep[j] * cpb[j];
            af += peep[H + j] * cpb[j];
        }
        float i = nets_sigmoidf(ai);
        float f = nets_sigmoidf(af);
        float g = nets_tanhf(gg[j] + bs[2 * H + j]);
        float cn = f * cpb[j] + i * g;
        if (peep) ao += peep[2 * H + j] * cn;
        float o = nets_sigmoidf(ao);
        float th = nets_tanhf(cn);
        gi[j] = i; gf[j] = f; gg[j] = g; go[j] = o;
        cb[j] = cn; tcb[j] = th; hb[j] = o * th;
    }
}

/* One row of a step's backward pass: from the activations gt [4H], tanh(c')
 * tcb, the previous and new cells cpb, cnb and dL/dh of the output db [H],
 * writes the gate gradients dgb [4H], carries dL/dc in dcb and clears dhb
 * for the recurrent GEMM. With peep, adds the peephole terms and their
 * gradients into gpeep [3, H]. */
static inline __attribute__((always_inline)) void
lstm_gates_backward(float *dgb, float *dhb, float *dcb, float *gpeep, const float *gt, const float *tcb,
                    const float *cpb, const float *cnb, const float *db, const float *peep, int H) {
    const float *gi = gt, *gf = gi + H, *gg = gf + H, *go = gg + H;
    #pragma GCC ivdep  /* the rows of distinct buffers never overlap */
    for (int j = 0; j < H; j++) {
        float i = gi[j], f = gf[j], gg_ = gg[j], o = go[j], th = tcb[j];
        float dhj = dhb[j] + db[j];
        float dop = dhj * th * o * (1.0f - o);
        float dcj = dcb[j] + dhj * o * (1.0f - th * th);
        if (peep) dcj += dop * peep[2 * H + j];
        float dip = dcj * gg_ * i * (1.0f - i);
        float dfp = dcj * cpb[j] * f * (1.0f - f);
        dgb[j] = dip;
        dgb[H + j] = dfp;
        dgb[2 * H + j] = dcj * i * (1.0f - gg_ * gg_);
        dgb[3 * H + j] = dop;
        float dcn = dcj * f;
        if (peep) {
            gpeep[j] += dip * cpb[j];
            gpeep[H + j] += dfp * cpb[j];
            gpeep[2 * H + j] += dop * cnb[j];
            dcn += dip * peep[j];
            dcn += dfp * peep[H + j];
        }
        dcb[j] = dcn;
        dhb[j] = 0.0f;                /* refilled by the GEMM below */
    }
}

void lstm_forward_peep(const net_layer *L, const float *p, net_lws *w, const float *in,
                       const int *len, int B, int T, const float *peep) {
    const int In = L->in, H = L->units, G = 4 * H;
    const float *Wih = p + L->off_w_ih, *Whh = p + L->off_w_hh;
    const float *bih = p + L->off_b_ih, *bhh = p + L->off_b_hh;
    float *bs = w->bsum;
    for (int j = 0; j < G; j++) bs[j] = bih[j] + bhh[j];
    nets_transpose(w->wiT, Wih, G, In);  /* W^T: read row by row at every step */
    nets_transpose(w->whT, Whh, G, H);
    for (int t = 0; t < T; t++) {
        const int m = nets_rows(len, B, t);
        const float *hp = w->out + (size_t)t * B * H, *cp = w->cs + (size_t)t * B * H;
        float *h = w->out + (size_t)(t + 1) * B * H, *c = w->cs + (size_t)(t + 1) * B * H;
        float *gt = w->gates + (size_t)t * B * G, *tc = w->tc + (size_t)t * B * H;
        nets_gemm(CblasNoTrans, CblasNoTrans, m, G, In, 1.0f, in + (size_t)t * B * In, In, w->wiT,
                  G, 0.0f, gt, G);
        nets_gemm(CblasNoTrans, CblasNoTrans, m, G, H, 1.0f, hp, H, w->whT, G, 1.0f, gt, G);
        /* the running rows only: a finished row's state stays in block len[b] */
        for (int b = 0; b < m; b++) {
            const float *cpb = cp + (size_t)b * H;
            float *hb = h + (size_t)b * H, *cb = c + (size_t)b * H;
            float *gtb = gt + (size_t)b * G, *tcb = tc + (size_t)b * H;
            if (peep) lstm_gates_forward(gtb, cb, tcb, hb, cpb, bs, peep, H);
            else lstm_gates_forward(gtb, cb, tcb, hb, cpb, bs, NULL, H);
        }
    }
}

void lstm_backward_peep(const net_layer *L, const float *p, float *g, net_lws *w, const float *in,
                        float *din, const int *len, int B, int T, const float *peep, float *gpeep) {
    const int In = L->in, H = L->units, G = 4 * H;
    const float *Wih = p + L->off_w_ih, *Whh = p + L->off_w_hh;
    float *dh = w->dh, *dc = w->dc;
    for (int t = T - 1; t >= 0; t--) {
        const float *gt = w->gates + (size_t)t * B * G, *tc = w->tc + (size_t)t * B * H;
        const float *cp = w->cs + (size_t)t * B * H, *cn = w->cs + (size_t)(t + 1) * B * H;
        const float *dout = w->dout + (size_t)t * B * H;
        float *dgt = w->dg + (size_t)t * B * G;
        /* the finished rows, the last ones: no gradient, dh and dc pass through */
        const int m = nets_rows(len, B, t);
        memset(dgt + (size_t)m * G, 0, sizeof(float) * G * (B - m));
        for (int b = 0; b < m; b++) {
            float *dgb = dgt + (size_t)b * G;
            const float *gtb = gt + (size_t)b * G, *tcb = tc + (size_t)b * H;
            const float *cpb = cp + (size_t)b * H, *cnb = cn + (size_t)b * H, *db = dout + (size_t)b * H;
            float *dhb = dh + (size_t)b * H, *dcb = dc + (size_t)b * H;
            if (peep) lstm_gates_backward(dgb, dhb, dcb, gpeep, gtb, tcb, cpb, cnb, db, peep, H);
            else lstm_gates_backward(dgb, dhb, dcb, NULL, gtb, tcb, cpb, cnb, db, NULL, H);
        }
        nets_gemm(CblasNoTrans, CblasNoTrans, m, H, G, 1.0f, dgt, G, Whh, H, 1.0f, dh, H);
    }
    /* weight gradients of all steps at once; the h fed to step t is hs block t */
    const int N = T * B;
    nets_recurrent_weight_grad(L, g, w, in, len, B, T, G);
    if (din)
        nets_gemm(CblasNoTrans, CblasNoTrans, N, In, G, 1.0f, w->dg, G, Wih, In,
                  0.0f, din, In);
}

void lstm_forward(const net_layer *L, const float *p, net_lws *w, const float *in,
                  const int *len, int B, int T) {
    lstm_forward_peep(L, p, w, in, len, B, T, NULL);
}

void lstm_backward(const net_layer *L, const float *p, float *g, net_lws *w, const float *in,
                   float *din, const int *len, int B, int T) {
    lstm_backward_peep(L, p, g, w, in, din, len, B, T, NULL, NULL);
}
