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
 * Forward and backward are lstm.c's passes, given the peephole weights
 * (the same GEMMs); the peephole gradients are summed over rows inside the
 * step pass. */
#include "nets/nets_internal.h"

void peephole_forward(const net_layer *L, const float *p, net_lws *w, const float *in,
                      const int *len, int B, int T) {
    lstm_forward_peep(L, p, w, in, len, B, T, p + L->off_peep);
}

void peephole_backward(const net_layer *L, const float *p, float *g, net_lws *w, const float *in,
                       float *din, const int *len, int B, int T) {
    lstm_backward_peep(L, p, g, w, in, din, len, B, T, p + L->off_peep, g + L->off_peep);
}
