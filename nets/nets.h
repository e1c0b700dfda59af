/* nets — small neural networks for recurrent RL, trained by BPTT.
 *
 * A network is a stack of layers (dense, Elman rnn, lstm, gru) over ONE flat
 * float buffer of parameters, one of gradients (same layout) and one per
 * optimizer moment, so Adam, clipping, copying to a target network, checksums
 * and weight I/O are each one loop over one buffer. Layers are views (offsets).
 *
 * Data layout is batch-major, as in Keras / PyTorch batch_first:
 *   x  [B, T, in]    inputs of a sequence
 *   y  [B, T, out]   outputs (return_sequences) or [B, out] (last valid step)
 *   len[B]           valid steps per row (NULL: all T); steps t >= len[b]
 *                    output zeros, leave the state untouched, get no gradient
 * The recurrent state of a network is one float row per batch element:
 *   state [B, S], S = net_state_size(); for each recurrent layer in order,
 *   h [H] then (lstm, peephole) c [H]; an lru's block is Re h [H], Im h [H].
 *
 * LSTM: Gers et al. 2000 (forget gate), gate order i, f, g, o and PyTorch's
 * shapes: weight_ih [4H, I], weight_hh [4H, H], bias_ih [4H], bias_hh [4H];
 * forget bias starts at 1. GRU: PyTorch nn.GRU equations, gates r, z, n:
 *   r = s(W_ir x + b_ir + W_hr h + b_hr), z = s(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h
 * Elman: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (PyTorch nn.RNN).
 * Peephole LSTM (Gers, Schraudolph and Schmidhuber 2002): the LSTM with
 *   i = s(. + p_i * c), f = s(. + p_f * c), o = s(. + p_o * c') (diagonal).
 * minGRU (Feng et al. 2024): z = s(W_z x + b_z), h~ = g(W_h x + b_h),
 *   h' = (1 - z) * h + z * h~, g(a) = a + 0.5 (a >= 0), s(a) (a < 0);
 *   trained by the paper's log-space scan, stepped by the recurrence.
 * LRU (Orvieto et al. 2023): complex diagonal h' = lambda * h + gamma *
 *   (B x), lambda = exp(-exp(nu_log) + i exp(theta_log)), gamma =
 *   exp(gamma_log); output Re(C h') + D x. See peephole.c, mingru.c, lru.c.
 *
 * Library code: functions return 0 or a negative NETS_E* code and never print;
 * rql_error() gives the message of the last failure on this thread.
 *
 * Threads: a net (its workspace included) is used by one thread at a time;
 * distinct nets may run concurrently. The matrix work is nets_gemm
 * (gemm.c): rql's own kernels for products up to 2^27 multiply-adds, whose
 * rounding is one FMA chain per element on every CPU, and OpenBLAS's
 * cblas_sgemm above that. OpenBLAS's threaded path rounds differently from
 * its one-thread path and its thread count follows OMP_NUM_THREADS: the
 * first net_alloc pins OpenBLAS to one thread (openblas_set_num_threads(1),
 * once) so that results do not depend on the thread count; do not raise it.
 * Files: net.c (alloc, spec, init, state, forward/backward/step, target nets,
 * errors), dense.c, rnn.c, lstm.c, gru.c, peephole.c, mingru.c, lru.c
 * (kernels, forward and backward side by side), gemm.c (the matrix
 * products), optim.c; net_h5.c with its
 * own header net_h5.h (weights and optimizer state in HDF5: the one place of
 * nets that knows HDF5, so this header does not include it); nets_internal.h
 * is private to the module.
 */
#ifndef RQL_NETS_H
#define RQL_NETS_H

#include <stddef.h>
#include <stdint.h>
#include <gsl/gsl_rng.h>
#include "util/util.h"

enum { NETS_OK = 0, NETS_EINVAL = -1, NETS_ENOMEM = -2, NETS_EIO = -3, NETS_ESHAPE = -4 };

typedef enum { LAYER_DENSE, LAYER_RNN, LAYER_LSTM, LAYER_GRU, LAYER_PEEPHOLE, LAYER_MINGRU,
               LAYER_LRU } layer_kind;
/* "dense", "rnn", "lstm", "gru", "peephole", "mingru", "lru" (the names
 * net_parse_spec reads); "?" otherwise. */
const char *layer_kind_str(layer_kind k);
/* Gate order of a recurrent kind as the weight files name it: "ifgo" lstm
 * and peephole, "rzn" gru, "h" rnn, "zh" mingru, "ri" lru (real, imaginary);
 * "" for dense. */
const char *layer_gate_order(layer_kind k);
/* The kind keeps a cell state c beside h (lstm, peephole). */
int layer_has_cell(layer_kind k);
typedef enum { ACT_NONE, ACT_RELU, ACT_TANH } act_kind;

typedef struct {
    layer_kind kind;
    int units;        /* output size (dense) or hidden size H (recurrent) */
    act_kind act;     /* dense only */
    int learn_h0;     /* recurrent only: h0 (and c0) are learned parameters */
} layer_spec;

/* A named tensor: a view into the flat buffers, named and shaped as in a
 * PyTorch state_dict where layer i is module i of a ModuleList:
 *   dense      "i.weight" [out, in], "i.bias" [out]          (nn.Linear)
 *   rnn/lstm/gru "i.weight_ih_l0" [G*H, in], "i.weight_hh_l0" [G*H, H],
 *              "i.bias_ih_l0" [G*H], "i.bias_hh_l0" [G*H]    (G = 1, 4, 3)
 *   learned initial state "i.h0" [H] and (lstm) "i.c0" [H].
 *   peephole   as lstm (G = 4), then "i.weight_peep" [3, H]: the diagonal
 *              peephole weights into i, f, o (rows in that order)
 *   mingru     "i.weight_ih_l0" [2H, in] (rows z then h~), "i.bias_ih_l0" [2H]
 *   lru        "i.nu_log" [H], "i.theta_log" [H], "i.gamma_log" [H],
 *              "i.B_re" [H, in], "i.B_im" [H, in], "i.D" [H, in],
 *              "i.C_re" [H, H], "i.C_im" [H, H]; learned state "i.h0" [2, H]
 *              (real part, imaginary part)
 * Learned initial states (h0, then c0) follow a layer's weights and, taken
 * together, are laid out as the layer's block of a state row.
 * Tensors are laid out in the flat buffer in this order, layer by layer. */
typedef struct {
    char name[48];
    int ndim;
    int shape[2];     /* 1-D tensors: shape[1] == 1 */
    size_t off;       /* offset into params / grads (floats) */
    size_t size;      /* number of floats */
    int layer;        /* index of the owning layer */
} net_tensor;

typedef struct {
    layer_kind kind;
    act_kind act;
    int in, units;
    int learn_h0;
    size_t off_w_ih, off_w_hh, off_b_ih, off_b_hh; /* dense: w_ih = weight [units,in], b_ih = bias */
    size_t off_h0, off_c0;                         /* learned initial state, if learn_h0 */
    size_t off_peep;                               /* peephole: weight_peep [3, H] */
    /* lru: nu_log, theta_log, gamma_log [H]; B_re, B_im, D [H, in] (adjacent); C_re, C_im [H, H] */
    size_t off_nu, off_theta, off_gamma, off_b_re, off_b_im, off_c_re, off_c_im, off_d;
    int state_off;                                 /* offset of this layer's h in a state row */
} net_layer;

/* Floats of a layer's block in a state row: 2H for lstm / peephole (h, c)
 * and lru (Re h, Im h), H for rnn / gru / mingru, 0 for dense. */
int net_layer_state_size(const net_layer *L);

typedef struct net_ws net_ws;                      /* private activations / scratch */

typedef struct {
    int in, out;                  /* input features, output features */
    int nlayers;
    net_layer *layers;
    int ntensors;
    net_tensor *tensors;
    size_t nparams;
    float *params;                /* [nparams] */
    float *grads;                 /* [nparams], accumulated by net_backward */
    int state_size;               /* S: floats of recurrent state per batch row */
    int max_batch, max_time;      /* workspace capacity fixed at alloc */
    net_ws *ws;
} net;

/* Build a network of nl layers on inputs of size in, with workspaces for up to
 * max_batch rows of max_time steps. Parameters start at zero: call net_init.
 * Limits: in and units <= 65536, max_batch * max_time <= 2^20. All memory is
 * allocated here; forward, backward and step allocate nothing. */
net *net_alloc(int in, const layer_spec *layers, int nl, int max_batch, int max_time);
void net_free(net *n);                         /* NULL is a no-op */
/* Parse "dense:32:relu,lstm:64,dense:4" (kinds dense, rnn, lstm, gru,
 * peephole, mingru, lru; act none|relu|tanh; recurrent layers accept ":h0"
 * to learn the initial state) into specs; returns count. */
int net_parse_spec(const char *s, layer_spec *out, int max);

/* Glorot uniform for input weights, orthogonal for recurrent weights, zero
 * biases except the LSTM forget gate (1). Only this net's tensors are touched.
 * Details: dense weight [out, in] ~ U(+-sqrt(6 / (in + out))); recurrent
 * weight_ih [G*H, I] ~ U(+-sqrt(6 / (I + G*H))) (Keras' fans of the [I, G*H]
 * kernel); weight_hh: each [H, H] gate block an independent random orthogonal
 * matrix; the forget bias 1 sits in bias_ih (bias_hh stays 0, so the sum that
 * PyTorch uses is 1); learned h0 / c0 start at 0. Peephole: as the LSTM,
 * peephole weights 0. minGRU: weight_ih Glorot over [I, 2H], the update-gate
 * bias -2 (the state keeps 0.88 of itself per step at first; see net.c),
 * b_h 0. LRU: the paper's ring initialisation (lru.c). net_init_layer
 * touches only the tensors of that layer. Draws come from r only, in tensor
 * order. */
int net_init(net *n, gsl_rng *r);
int net_init_layer(net *n, int layer, gsl_rng *r);

int net_state_size(const net *n);
int net_hidden_size(const net *n);             /* H of the last recurrent layer, 0 if none */
/* Set the state rows where reset[b] != 0 (all rows if reset == NULL) to the
 * initial state: learned h0/c0 where enabled, zero otherwise. */
void net_state_reset(const net *n, float *state, int B, const uint8_t *reset);
/* The h (and, lstm only, c) of the last recurrent layer in B state rows:
 * hidden [B, H] and cell [B, H] (cell NULL or a non-lstm layer: not written),
 * H = net_hidden_size(). Nothing is written by a net without recurrence. */
void net_state_hidden(const net *n, const float *state, int B, float *hidden, float *cell);

/* Sequence forward, keeping activations for net_backward.
 *   x [B, T, in]; len [B] or NULL; state0 [B, S] or NULL (NULL: the initial
 *   state, learned or zero); y [B, T, out] if return_seq else [B, out] taken at
 *   step len[b]-1; state_out [B, S] or NULL receives the state after the last
 *   valid step of each row. B <= max_batch, T <= max_time.
 * 0 <= len[b] <= T; a row of length 0 outputs zeros and keeps its state0.
 * Inputs at masked steps are never read (NaN there is harmless). state_out
 * may be the state0 buffer itself. */
int net_forward(net *n, const float *x, const int *len, int B, int T,
                const float *state0, int return_seq, float *y, float *state_out);

/* Backpropagation through time of the last net_forward. dy has y's shape.
 * Gradients are ADDED into n->grads (zero them with net_zero_grad). If
 * dstate0 != NULL it receives dL/dstate0 [B, S] (when state0 was given) -
 * learned h0/c0 get their gradient in n->grads either way.
 * Precisely: dstate0, when not NULL, receives dL/d(initial state) of every
 * row whether or not state0 was given; when no state0 was given, learned
 * h0/c0 receive its sum over rows; when one was given, they receive nothing
 * (they were not used). Backward does not consume the forward: it may run
 * again (gradients add up), and net_step in between disturbs nothing. */
int net_backward(net *n, const float *dy, float *dstate0);
/* For a backward whose state0 was given: rows whose state0 was the learned
 * initial state (net_state_reset) pass their dL/dstate0 on to it. Adds rows
 * b with rows[b] != 0 (all rows if rows == NULL) of dstate0 [B, S] into the
 * gradient of every learned h0 / c0, as net_backward does itself when no
 * state0 was given. A net without learned initial state is left alone. */
void net_state0_grad_accumulate(net *n, const float *dstate0, int B, const uint8_t *rows);
/* net_backward with a gradient on the final state as well: dstate_out
 * [B, S] is dL/d(state_out of the last forward) (NULL: zero), and dy may be
 * NULL (no loss on the outputs). This is how an encoder's final state that
 * starts a decoder receives the decoder's dstate0 (sequence-to-sequence). */
int net_backward_state(net *n, const float *dy, const float *dstate_out, float *dstate0);
void net_zero_grad(net *n);

/* One step for acting: x [B, in], state [B, S] read and overwritten, y [B, out].
 * Keeps no activations; uses no workspace beyond what alloc sized. The same
 * kernels as net_forward with T = 1: stepping through a sequence reproduces
 * net_forward's outputs and final state (to float rounding of the GEMMs). */
int net_step(net *n, const float *x, float *state, int B, float *y);

/* Target networks: same architecture required (else NETS_ESHAPE naming the
 * first layer that differs). Only params are copied or averaged. */
int net_copy(net *dst, const net *src);
int net_polyak(net *dst, const net *src, float tau);   /* dst = tau*src + (1-tau)*dst */
uint64_t net_checksum(const net *n);                   /* FNV-1a over the param bytes */

/* ---- optimizers over the flat buffers -------------------------------------- */
typedef enum { OPT_SGD, OPT_RMSPROP, OPT_ADAM } opt_kind;
typedef struct {
    opt_kind kind;
    float lr;
    float momentum;          /* sgd */
    float alpha;             /* rmsprop decay (PyTorch default 0.99) */
    float beta1, beta2;      /* adam (0.9, 0.999) */
    float eps;               /* rmsprop / adam (1e-8) */
    float weight_decay;
    long t;                  /* steps taken (adam bias correction) */
    size_t n;
    float *m, *v;            /* moments, [n] each (NULL where unused) */
} optim;

optim *optim_alloc(opt_kind kind, size_t n, float lr);  /* PyTorch defaults for the rest */
void optim_free(optim *o);
/* Update p in place from g, PyTorch semantics (torch.optim.SGD/RMSprop/Adam). */
void optim_step(optim *o, float *p, const float *g);
/* Scale g so that its global L2 norm is at most max_norm (if max_norm > 0);
 * returns the norm before clipping (torch.nn.utils.clip_grad_norm_). */
float nets_clip_grad_norm(float *g, size_t n, float max_norm);

#endif
