/* nets_internal.h — what the layer kernels (dense.c, rnn.c, lstm.c, gru.c)
 * share with the network code (net.c). Every matrix product is nets_gemm
 * (gemm.h). Not part of the public interface.
 *
 * Inside a network every sequence is TIME-major: row t*B + b of a [T*B, F]
 * buffer is step t of batch row b. The caller's batch-major x is transposed
 * once on the way in (and y on the way out), so that the per-step recurrent
 * GEMM reads and writes one contiguous [B, F] block; the weight gradients of
 * all steps are one product over the T*B rows (their valid ones).
 *
 * Row b of the workspace is not the caller's row b: net_forward orders the
 * rows by decreasing len (ws->perm maps them back), so that the rows still
 * running at step t are rows 0 .. nets_rows(len, B, t) - 1 and every
 * per-step product covers those only. No row's arithmetic depends on the
 * others (nets_gemm computes each element alone), so the order changes no
 * row's numbers; only sums over rows (weight and bias gradients) follow it.
 *
 * A recurrent layer keeps its hidden states as hs [(T+1)*B, H]: block 0 is the
 * initial state, block t+1 the state after step t, and doubles as the
 * layer's output at step t. A row's final state is block len[b] (net.c reads
 * it there): at a masked step (t >= len[b]) the LSTM and peephole skip the
 * row, whose later blocks keep whatever finite value they held; the other
 * layers copy the state through. Either way masked steps of inner layers
 * carry a finite, ignored value; the network output is zeroed there.
 */
#ifndef RQL_NETS_INTERNAL_H
#define RQL_NETS_INTERNAL_H

#include <math.h>
#include <string.h>
#include "nets/nets.h"
#include "nets/gemm.h"

/* Per-layer views into the workspace. Sizes are for B rows and T steps; the
 * buffers are allocated for max_batch * max_time and used compactly. */
typedef struct {
    float *out;    /* dense [T*B, units]; recurrent hs [(T+1)*B, H] (output = hs + B*H) */
    float *cs;     /* lstm: cell states [(T+1)*B, H], same blocks as hs */
    float *tc;     /* lstm: tanh(c_t) [T*B, H] */
    float *gates;  /* recurrent: [T*B, G*H], pre-activations in, activations out;
                      mingru: one block of steps' pre-activations (see mingru.c);
                      lru: B_norm = gamma B [2H, in] and its transpose [in, 2H] */
    float *hn;     /* gru: W_hn h + b_hn [T*B, H] (needed by dr) */
    float *dout;   /* [T*B, units]: dL/d(output) of this layer, consumed by backward */
    float *dg;     /* recurrent: dL/d(gate pre-activations) [T*B, G*H]; mingru, lru:
                      one block of steps' */
    float *dg2;    /* gru: dL/d(W_hh h + b_hh) [T*B, 3H] (differs from dg in n) */
    float *dh, *dc;/* recurrent: running dL/dh, dL/dc [B, H]; dL/dstate0 at the end */
    float *bsum;   /* lstm/rnn: b_ih + b_hh [G*H]; gru: b_ih + b_hh for r,z, b_ih for n;
                      backward reuses it as scratch for the bias column sums */
    float *ghh;    /* gru: W_hh h for one step [B, 3H] */
    int *rows;     /* recurrent: [T*B] scratch for nets_weight_grad_seq (shared) */
    float *wiT, *whT; /* rnn, lstm, gru, peephole: W_ih^T [in, G*H], W_hh^T [H, G*H]; dense:
                      wiT = W^T [in, units]. Made by the layer's forward once per
                      sequence so that the per-step products read them row by row;
                      shared by a net's sequence and acting-step buffers */
    float *dwT;    /* mingru, lru: the gradient of the input weights transposed,
                      [in, G*H], summed over the blocks of steps (backward) */
    float *hb;     /* lru: one block of steps' states and inputs [lru_block_rows,
                      lru_block_ld], rows [Re h | Im h | x]; cs keeps only the states before each
                      block and each row's final one */
    float *cc;     /* lru: forward [C_re^T; -C_im^T; D^T] [2H + in, H]; backward
                      [C_re | -C_im] [H, 2H], then its gradient [H, 2H] */
    float *scan;   /* mingru: the log-space scan's running sums, 3 doubles per
                      [B, H] entry; lru: per-row sums of dL/dlambda (Re, Im) [2, B, H] */
} net_lws;

/* Layer kernels. p / g: the network's flat params / grads. in [T*B, L->in].
 * len [B] or NULL (all T). Backward ADDS into g, writes din [T*B, L->in] (if
 * din != NULL) and consumes w->dout. Recurrent forward expects hs block 0 (and
 * cs block 0) filled with the initial state; recurrent backward expects w->dh
 * (and w->dc) filled with dL/d(final state) (zero when only the outputs
 * matter) and leaves dL/dstate0 there. */
void dense_forward(const net_layer *L, const float *p, net_lws *w, const float *in, const int *len,
                   int B, int T);
void dense_backward(const net_layer *L, const float *p, float *g, net_lws *w, const float *in,
                    float *din, const int *len, int B, int T);
/* The kernels of a recurrent layer kind, one signature for all: rnn.c,
 * lstm.c, gru.c, peephole.c, mingru.c and lru.c each define a pair. mingru
 * and lru: T == 1 runs the one-step recurrence (the acting path), T > 1 the
 * sequence scan; both compute the same function. */
/* lru: the most rows of one block of steps, for Bm rows and Tm steps */
size_t lru_block_rows(int Bm, int Tm);
/* lru: the floats of one row of the block buffer hb, [Re h | Im h | x] and padding */
size_t lru_block_ld(int H, int In);
typedef void nets_seq_forward_fn(const net_layer *L, const float *p, net_lws *w, const float *in,
                                 const int *len, int B, int T);
typedef void nets_seq_backward_fn(const net_layer *L, const float *p, float *g, net_lws *w,
                                  const float *in, float *din, const int *len, int B, int T);
nets_seq_forward_fn rnn_forward, lstm_forward, gru_forward, peephole_forward, mingru_forward,
    lru_forward;
nets_seq_backward_fn rnn_backward, lstm_backward, gru_backward, peephole_backward, mingru_backward,
    lru_backward;


/* The LSTM's passes with peephole weights peep [3, H] (p_i, p_f, p_o) and
 * their gradient gpeep [3, H], or NULL for none: lstm.c's and peephole.c's
 * kernels are these two. */
void lstm_forward_peep(const net_layer *L, const float *p, net_lws *w, const float *in,
                       const int *len, int B, int T, const float *peep);
void lstm_backward_peep(const net_layer *L, const float *p, float *g, net_lws *w, const float *in,
                        float *din, const int *len, int B, int T, const float *peep, float *gpeep);

/* Rows 0 .. nets_rows(len, B, t) - 1 hold every row still running at step t
 * (len[b] > t; len NULL: all B): net.c orders a batch's rows by decreasing
 * len, so that each step's products skip the finished rows at the end. */
static inline int nets_rows(const int *len, int B, int t) {
    if (!len) return B;
    while (B > 0 && len[B - 1] <= t) B--;
    return B;
}

/* Pins OpenBLAS to one thread, once per process (see dense.c). */
void nets_blas_one_thread(void);

/* Copies a short row of n floats (a step's input or output row, a few to a
 * few hundred): inline 8-float moves and a tail, where memcpy with a size
 * known only at run time is a call into libc per row (16384 calls a pass at
 * batch 32, T = 512: about 2% of an LRU update). The empty asms keep GCC
 * from turning the loops back into such a call. */
static inline void nets_copy_row(float *restrict d, const float *restrict s, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(d + i, s + i, 8 * sizeof(float));
        __asm__("" : "+r"(i));
    }
    for (; i < n; i++) {
        d[i] = s[i];
        __asm__("" : "+r"(i));
    }
}

/* Rows per unit of a recurrent layer's input weight: 1 (dense, rnn),
 * 4 (lstm, peephole), 3 (gru; lru: B_re, B_im, D), 2 (mingru: z, h~). */
static inline int nets_gates(layer_kind k) {
    return k == LAYER_LSTM || k == LAYER_PEEPHOLE ? 4 : k == LAYER_GRU || k == LAYER_LRU ? 3
         : k == LAYER_MINGRU ? 2 : 1;
}
/* The layer carries a cell state (lstm, peephole: c beside h). */
static inline int nets_has_cell(layer_kind k) { return k == LAYER_LSTM || k == LAYER_PEEPHOLE; }

/* dW [M, K] += dY^T X, db [M] += column sums of dY, over N rows: the weight
 * gradient of every step of a sequence in one GEMM. */
void nets_weight_grad(float *dw, float *db, const float *dy, const float *x, int N, int M, int K);
/* The same for a recurrent layer's [T*B] rows, over the rows still running
 * at their step only (len NULL: all; the others' dy is zero): one chain per
 * element over the valid rows of all steps, skipping a padded batch's
 * zeros. rows [T*B] is scratch. */
void nets_weight_grad_seq(float *dw, float *db, const float *dy, const float *x, const int *len,
                          int B, int T, int M, int K, int *rows);
/* The weight and bias gradients of all steps of a recurrent layer whose
 * gate pre-activations are W_ih x + b_ih + W_hh h + b_hh (rnn, lstm,
 * peephole), from w->dg [T*B, G] (the h fed to step t is hs block t):
 * dW_ih and dW_hh as two GEMMs over the valid rows, and both biases the
 * column sums of dg. w->bsum is scratch. */
void nets_recurrent_weight_grad(const net_layer *L, float *g, net_lws *w, const float *in,
                                const int *len, int B, int T, int G);

/* ---- elementwise math ------------------------------------------------------
 * libm's expf/tanhf are scalar calls that GCC cannot vectorise without
 * -ffast-math; these are plain float arithmetic it does vectorise (AVX2 /
 * AVX-512 under -march=native), which makes the gate loops of an LSTM step
 * several times faster. Accuracy: nets_expf within 2 ulp of expf over
 * [-87, 88] (Cephes minimax polynomial after Cody-Waite reduction);
 * sigmoid and tanh within 1e-7 absolute, tanh within a few ulp relative
 * (tested in check_nets against libm in double). */
static inline float nets_expf(float x) {
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    /* k = round(x / ln 2) by the 1.5 * 2^23 trick (floorf does not
     * vectorise here); k is then also the low bits of t */
    float t = x * 1.44269504088896341f + 12582912.0f;
    float k = t - 12582912.0f;
    float r = x - k * 0.693359375f + k * 2.12194440e-4f;
    float r2 = r * r;
    float q = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r
                + 4.1665795894e-2f) * r + 1.6666665459e-1f) * r + 5.0000001201e-1f;
    float e = q * r2 + r + 1.0f;
    int32_t ti, bits;
    memcpy(&ti, &t, sizeof ti);
    bits = (ti - 0x4B400000 + 127) << 23;
    float s;
    memcpy(&s, &bits, sizeof s);
    return e * s;
}
/* Natural log for x >= 0.5 (normal floats; not for 0, negatives, inf or
 * NaN), vectorisable: Cephes' logf polynomial on the mantissa in
 * [sqrt(1/2), sqrt(2)), within 2 ulp of logf. */
static inline float nets_logf(float x) {
    int32_t bits;
    memcpy(&bits, &x, sizeof bits);
    int32_t e = ((bits >> 23) & 0xff) - 126;           /* x = m * 2^e, m in [0.5, 1) */
    bits = (bits & 0x807fffff) | 0x3f000000;
    float m;
    memcpy(&m, &bits, sizeof m);
    float fe = (float)e;
    int small = m < 0.707106781186547524f;
    fe = small ? fe - 1.0f : fe;
    m = small ? m + m - 1.0f : m - 1.0f;
    float z = m * m;
    float y = ((((((((7.0376836292e-2f * m - 1.1514610310e-1f) * m + 1.1676998740e-1f) * m
                   - 1.2420140846e-1f) * m + 1.4249322787e-1f) * m - 1.6668057665e-1f) * m
                 + 2.0000714765e-1f) * m - 2.4999993993e-1f) * m + 3.3333331174e-1f) * m * z;
    y += -2.12194440e-4f * fe;
    y += -0.5f * z;
    return m + y + 0.693359375f * fe;
}
/* softplus(x) = log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), never overflowing */
static inline float nets_softplusf(float x) {
    return (x > 0 ? x : 0.0f) + nets_logf(1.0f + nets_expf(-fabsf(x)));
}
static inline float nets_sigmoidf(float x) { return 1.0f / (1.0f + nets_expf(-x)); }
static inline float nets_tanhf(float x) {
    float ax = fabsf(x), e = nets_expf(-2.0f * ax);
    float t = (1.0f - e) / (1.0f + e);
    /* (1 - e) cancels near 0: there the Taylor series to x^11 instead
     * (truncation below 1e-10 at |x| = 0.25) keeps the relative error small */
    float x2 = ax * ax;
    float ts = ax * (1.0f + x2 * (-0.333333333f + x2 * (0.133333333f + x2 * (-0.0539682540f +
                     x2 * (0.0218694885f + x2 * -0.00886323552f)))));
    t = ax < 0.25f ? ts : t;
    return x < 0 ? -t : t;
}

#endif
