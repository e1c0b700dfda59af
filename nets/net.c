/* net — a network as a stack of layer views over flat buffers: allocation,
 * the layer spec parser, initialisation, the recurrent state, the sequence
 * forward / backward (BPTT) and the acting step, target-network helpers and
 * the error facility. The per-layer arithmetic lives in dense.c, rnn.c,
 * lstm.c and gru.c; this file moves data between the caller's batch-major
 * layout and the time-major layout the kernels use (see nets_internal.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <gsl/gsl_randist.h>
#include "nets/nets_internal.h"

enum { NETS_MAX_UNITS = 1 << 16, NETS_MAX_ROWS = 1 << 20 };

struct net_ws {
    void *mem;              /* every float buffer below, one zeroed allocation */
    float *base;            /* mem rounded up to 64 bytes */
    net_lws *lw;            /* [nlayers] sequence buffers (max_batch x max_time) */
    net_lws *sw;            /* [nlayers] acting-step buffers (max_batch x 1) */
    float *xt;              /* [max_time * max_batch, in] time-major input */
    int *len;               /* [max_batch] valid steps of the last forward, in row order */
    int *rows;              /* [max_time * max_batch] the layers' row-list scratch */
    int *perm;              /* [max_batch] row b of the workspace is the caller's row perm[b]:
                               the rows sorted by decreasing len, so that the rows still
                               running at step t are the first ones and each step's products
                               skip the finished ones (nets_rows) */
    int B, T;               /* shape of the last forward */
    int masked;             /* some row of the last forward had len < T */
    int have_fwd;           /* a forward was run since alloc */
    int return_seq;
    int state0_given;       /* the last forward started from a caller's state */
};

const char *layer_kind_str(layer_kind k) {
    switch (k) {
    case LAYER_DENSE: return "dense";
    case LAYER_RNN: return "rnn";
    case LAYER_LSTM: return "lstm";
    case LAYER_GRU: return "gru";
    case LAYER_PEEPHOLE: return "peephole";
    case LAYER_MINGRU: return "mingru";
    case LAYER_LRU: return "lru";
    }
    return "?";
}

const char *layer_gate_order(layer_kind k) {
    switch (k) {
    case LAYER_LSTM: case LAYER_PEEPHOLE: return "ifgo";
    case LAYER_GRU: return "rzn";
    case LAYER_RNN: return "h";
    case LAYER_MINGRU: return "zh";
    case LAYER_LRU: return "ri";
    default: return "";
    }
}

int layer_has_cell(layer_kind k) { return nets_has_cell(k); }

/* ---- spec parser ----------------------------------------------------------- */
static int parse_int(const char *s, size_t n, int *out) {
    if (n == 0 || n > 9) return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int field_is(const char *s, size_t n, const char *word) {
    return strlen(word) == n && !strncmp(s, word, n);
}

int net_parse_spec(const char *s, layer_spec *out, int max) {
    if (!s) return rql_set_error(NETS_EINVAL, "net_parse_spec: spec string is NULL");
    int count = 0;
    const char *p = s;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && (*p == ' ' || *p == '\t')) p++, n--;
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
        if (n == 0)
            return rql_set_error(NETS_EINVAL, "net spec \"%s\": layer %d is empty", s, count);
        if (count >= max)
            return rql_set_error(NETS_EINVAL, "net spec \"%s\": more than %d layers", s, max);
        /* split the item into up to 3 fields at ':' */
        const char *f[4] = {0};
        size_t fl[4] = {0};
        int nf = 0;
        const char *q = p, *qe = p + n;
        while (nf < 4) {
            const char *c = memchr(q, ':', (size_t)(qe - q));
            f[nf] = q;
            fl[nf] = c ? (size_t)(c - q) : (size_t)(qe - q);
            nf++;
            if (!c) break;
            q = c + 1;
        }
        layer_spec L = {LAYER_DENSE, 0, ACT_NONE, 0};
        if (field_is(f[0], fl[0], "dense")) L.kind = LAYER_DENSE;
        else if (field_is(f[0], fl[0], "rnn")) L.kind = LAYER_RNN;
        else if (field_is(f[0], fl[0], "lstm")) L.kind = LAYER_LSTM;
        else if (field_is(f[0], fl[0], "gru")) L.kind = LAYER_GRU;
        else if (field_is(f[0], fl[0], "peephole")) L.kind = LAYER_PEEPHOLE;
        else if (field_is(f[0], fl[0], "mingru")) L.kind = LAYER_MINGRU;
        else if (field_is(f[0], fl[0], "lru")) L.kind = LAYER_LRU;
        else
            return rql_set_error(NETS_EINVAL,
                                  "net spec \"%s\": layer %d \"%.*s\": unknown kind \"%.*s\" "
                                  "(dense, rnn, lstm, gru, peephole, mingru, lru)", s, count, (int)n, p, (int)fl[0], f[0]);
        if (nf < 2 || parse_int(f[1], fl[1], &L.units) || L.units < 1)
            return rql_set_error(NETS_EINVAL,
                                  "net spec \"%s\": layer %d \"%.*s\": units \"%.*s\" is not a "
                                  "positive integer", s, count, (int)n, p,
                                  nf < 2 ? 0 : (int)fl[1], nf < 2 ? "" : f[1]);
        if (nf > 3)
            return rql_set_error(NETS_EINVAL, "net spec \"%s\": layer %d \"%.*s\": too many fields",
                                  s, count, (int)n, p);
        if (nf == 3) {
            if (L.kind == LAYER_DENSE) {
                if (field_is(f[2], fl[2], "none")) L.act = ACT_NONE;
                else if (field_is(f[2], fl[2], "relu")) L.act = ACT_RELU;
                else if (field_is(f[2], fl[2], "tanh")) L.act = ACT_TANH;
                else
                    return rql_set_error(NETS_EINVAL,
                                          "net spec \"%s\": layer %d \"%.*s\": unknown activation "
                                          "\"%.*s\" (none, relu, tanh)", s, count, (int)n, p,
                                          (int)fl[2], f[2]);
            } else {
                if (field_is(f[2], fl[2], "h0")) L.learn_h0 = 1;
                else
                    return rql_set_error(NETS_EINVAL,
                                          "net spec \"%s\": layer %d \"%.*s\": unknown option "
                                          "\"%.*s\" (a recurrent layer takes only \"h0\")", s, count,
                                          (int)n, p, (int)fl[2], f[2]);
            }
        }
        out[count++] = L;
        if (!end) break;
        p = end + 1;
    }
    return count;
}

/* ---- allocation ------------------------------------------------------------ */
static void add_tensor(net *n, int layer, const char *suffix, int ndim, int d0, int d1,
                       size_t *off, size_t *field) {
    net_tensor *t = &n->tensors[n->ntensors++];
    snprintf(t->name, sizeof t->name, "%d.%s", layer, suffix);
    t->ndim = ndim;
    t->shape[0] = d0;
    t->shape[1] = ndim == 2 ? d1 : 1;
    t->size = (size_t)d0 * (ndim == 2 ? (size_t)d1 : 1);
    t->off = *off;
    t->layer = layer;
    *field = *off;
    *off += t->size;
}

/* Lays out (or, with base == NULL, just counts) the workspace of one set of
 * layer buffers for Bm rows and Tm steps. Each buffer starts on a 64-byte
 * boundary so the gate loops vectorise on aligned rows. */
static size_t carve(float *base, size_t at, float **dst, size_t nfloats) {
    at = (at + 15) & ~(size_t)15;
    if (dst) *dst = base ? base + at : NULL;
    return at + nfloats;
}

static size_t layout_lws(const net *n, net_lws *lw, float *base, size_t at, int Bm, int Tm,
                         int backward) {
    for (int l = 0; l < n->nlayers; l++) {
        const net_layer *L = &n->layers[l];
        net_lws *w = &lw[l];
        memset(w, 0, sizeof *w);
        size_t U = (size_t)L->units, BT = (size_t)Bm * Tm, G = (size_t)nets_gates(L->kind) * U;
        if (L->kind == LAYER_DENSE) {
            at = carve(base, at, &w->out, BT * U);
            if (backward) {
                at = carve(base, at, &w->dout, BT * U);
                at = carve(base, at, &w->wiT, U * L->in);
            }
            continue;
        }
        at = carve(base, at, &w->out, BT * U + (size_t)Bm * U);
        at = carve(base, at, &w->gates, L->kind == LAYER_LRU ? 4 * U * L->in : BT * G);
        at = carve(base, at, &w->bsum, L->kind == LAYER_LRU ? 3 * U : G);
        if (nets_has_cell(L->kind)) {
            at = carve(base, at, &w->cs, BT * U + (size_t)Bm * U);
            at = carve(base, at, &w->tc, BT * U);
        }
        if (L->kind != LAYER_MINGRU && L->kind != LAYER_LRU && backward) {
            at = carve(base, at, &w->wiT, G * L->in);
            at = carve(base, at, &w->whT, G * U);
        }
        if (L->kind == LAYER_GRU) {
            at = carve(base, at, &w->hn, BT * U);
            at = carve(base, at, &w->ghh, (size_t)Bm * G);
        }
        if (L->kind == LAYER_MINGRU)          /* scan: 3 doubles per [B, H], 4 [H] rows */
            at = carve(base, at, &w->scan, (size_t)Bm * U * 6 + 4 * U);
        if ((L->kind == LAYER_MINGRU || L->kind == LAYER_LRU) && backward)
            at = carve(base, at, &w->dwT, G * L->in);
        if (L->kind == LAYER_LRU) {           /* cs: the complex state, Re | Im per row (the
                                                 steps lru.c keeps); hb: one block's; cc: C */
            at = carve(base, at, &w->cs, 2 * (BT * U + (size_t)Bm * U));
            at = carve(base, at, &w->hb, lru_block_rows(Bm, Tm) * lru_block_ld((int)U, L->in));
            at = carve(base, at, &w->cc, (size_t)(L->in + 2 * U) * U + 2 * U * U);
            if (backward) at = carve(base, at, &w->scan, (size_t)Bm * U * 2);
        }
        if (!backward) continue;
        at = carve(base, at, &w->dout, BT * U);
        at = carve(base, at, &w->dg, L->kind == LAYER_LRU ? lru_block_rows(Bm, Tm) * 2 * U : BT * G);
        at = carve(base, at, &w->dh, (size_t)Bm * U * (L->kind == LAYER_LRU ? 2 : 1));
        if (nets_has_cell(L->kind)) at = carve(base, at, &w->dc, (size_t)Bm * U);
        if (L->kind == LAYER_GRU) at = carve(base, at, &w->dg2, BT * G);
    }
    return at;
}

net *net_alloc(int in, const layer_spec *layers, int nl, int max_batch, int max_time) {
    nets_blas_one_thread();
    if (in < 1) { rql_set_error(NETS_EINVAL, "net_alloc: input size %d must be >= 1", in); return NULL; }
    if (nl < 1 || !layers) { rql_set_error(NETS_EINVAL, "net_alloc: %d layers (need >= 1)", nl); return NULL; }
    /* the limits keep every row count and offset inside the int arguments
     * of cblas_sgemm */
    if (in > NETS_MAX_UNITS) {
        rql_set_error(NETS_EINVAL, "net_alloc: input size %d above %d", in, NETS_MAX_UNITS);
        return NULL;
    }
    if (max_batch < 1 || max_time < 1 || (long)max_batch * max_time > NETS_MAX_ROWS) {
        rql_set_error(NETS_EINVAL, "net_alloc: max_batch %d and max_time %d must be >= 1, with "
                       "max_batch * max_time <= %d", max_batch, max_time, NETS_MAX_ROWS);
        return NULL;
    }
    for (int l = 0; l < nl; l++) {
        const layer_spec *s = &layers[l];
        if (s->kind < LAYER_DENSE || s->kind > LAYER_LRU) {
            rql_set_error(NETS_EINVAL, "net_alloc: layer %d has unknown kind %d", l, (int)s->kind);
            return NULL;
        }
        if (s->units < 1 || s->units > NETS_MAX_UNITS) {
            rql_set_error(NETS_EINVAL, "net_alloc: layer %d (%s) has %d units (need 1 to %d)", l,
                           layer_kind_str(s->kind), s->units, NETS_MAX_UNITS);
            return NULL;
        }
        if (s->kind == LAYER_DENSE && s->learn_h0) {
            rql_set_error(NETS_EINVAL, "net_alloc: layer %d (dense): learn_h0 applies to "
                           "recurrent layers only", l);
            return NULL;
        }
        if (s->kind == LAYER_DENSE && (s->act < ACT_NONE || s->act > ACT_TANH)) {
            rql_set_error(NETS_EINVAL, "net_alloc: layer %d (dense) has unknown activation %d",
                           l, (int)s->act);
            return NULL;
        }
    }
    net *n = calloc(1, sizeof *n);
    if (!n) goto nomem;
    n->in = in;
    n->nlayers = nl;
    n->max_batch = max_batch;
    n->max_time = max_time;
    n->layers = calloc((size_t)nl, sizeof *n->layers);
    n->tensors = calloc((size_t)nl * 10, sizeof *n->tensors);
    n->ws = calloc(1, sizeof *n->ws);
    if (!n->layers || !n->tensors || !n->ws) goto nomem;

    size_t off = 0;
    int width = in, S = 0;
    for (int l = 0; l < nl; l++) {
        net_layer *L = &n->layers[l];
        const layer_spec *s = &layers[l];
        L->kind = s->kind;
        L->act = s->kind == LAYER_DENSE ? s->act : ACT_NONE;
        L->in = width;
        L->units = s->units;
        L->learn_h0 = s->kind != LAYER_DENSE && s->learn_h0;
        L->state_off = -1;
        int H = s->units, G = nets_gates(s->kind) * H;
        if (L->kind == LAYER_DENSE) {
            add_tensor(n, l, "weight", 2, H, width, &off, &L->off_w_ih);
            add_tensor(n, l, "bias", 1, H, 0, &off, &L->off_b_ih);
        } else {
            if (L->kind == LAYER_LRU) {
                add_tensor(n, l, "nu_log", 1, H, 0, &off, &L->off_nu);
                add_tensor(n, l, "theta_log", 1, H, 0, &off, &L->off_theta);
                add_tensor(n, l, "gamma_log", 1, H, 0, &off, &L->off_gamma);
                /* B_re, B_im, D adjacent: one [3H, in] matrix for lru.c */
                add_tensor(n, l, "B_re", 2, H, width, &off, &L->off_b_re);
                add_tensor(n, l, "B_im", 2, H, width, &off, &L->off_b_im);
                add_tensor(n, l, "D", 2, H, width, &off, &L->off_d);
                add_tensor(n, l, "C_re", 2, H, H, &off, &L->off_c_re);
                add_tensor(n, l, "C_im", 2, H, H, &off, &L->off_c_im);
            } else {
                add_tensor(n, l, "weight_ih_l0", 2, G, width, &off, &L->off_w_ih);
                if (L->kind != LAYER_MINGRU)
                    add_tensor(n, l, "weight_hh_l0", 2, G, H, &off, &L->off_w_hh);
                add_tensor(n, l, "bias_ih_l0", 1, G, 0, &off, &L->off_b_ih);
                if (L->kind != LAYER_MINGRU)
                    add_tensor(n, l, "bias_hh_l0", 1, G, 0, &off, &L->off_b_hh);
                if (L->kind == LAYER_PEEPHOLE)
                    add_tensor(n, l, "weight_peep", 2, 3, H, &off, &L->off_peep);
            }
            /* h0 then c0, adjacent: together the layer's block of a state row */
            if (L->learn_h0) {
                if (L->kind == LAYER_LRU) add_tensor(n, l, "h0", 2, 2, H, &off, &L->off_h0);
                else add_tensor(n, l, "h0", 1, H, 0, &off, &L->off_h0);
                if (nets_has_cell(L->kind)) add_tensor(n, l, "c0", 1, H, 0, &off, &L->off_c0);
            }
            L->state_off = S;
            S += net_layer_state_size(L);
        }
        width = H;
    }
    n->out = width;
    n->nparams = off;
    n->state_size = S;
    n->params = calloc(off, sizeof(float));
    n->grads = calloc(off, sizeof(float));
    if (!n->params || !n->grads) goto nomem;

    net_ws *ws = n->ws;
    ws->lw = calloc((size_t)nl, sizeof *ws->lw);
    ws->sw = calloc((size_t)nl, sizeof *ws->sw);
    ws->len = calloc((size_t)max_batch, sizeof *ws->len);
    ws->perm = calloc((size_t)max_batch, sizeof *ws->perm);
    ws->rows = calloc((size_t)max_batch * max_time, sizeof *ws->rows);
    if (!ws->lw || !ws->sw || !ws->len || !ws->perm || !ws->rows) goto nomem;
    size_t at = carve(NULL, 0, NULL, (size_t)max_time * max_batch * in);
    at = layout_lws(n, ws->lw, NULL, at, max_batch, max_time, 1);
    at = layout_lws(n, ws->sw, NULL, at, max_batch, 1, 0);
    /* calloc, not malloc + memset: the pages of a large block come zeroed
     * from the kernel and are touched only when used (a net sized for
     * 256-step sequences that trains on 20-step ones faults in a tenth) */
    ws->mem = calloc(at * sizeof(float) + 64, 1);
    if (!ws->mem) goto nomem;
    ws->base = (float *)(((uintptr_t)ws->mem + 63) & ~(uintptr_t)63);
    at = carve(ws->base, 0, &ws->xt, (size_t)max_time * max_batch * in);
    at = layout_lws(n, ws->lw, ws->base, at, max_batch, max_time, 1);
    layout_lws(n, ws->sw, ws->base, at, max_batch, 1, 0);
    for (int l = 0; l < nl; l++) {
        ws->sw[l].wiT = ws->lw[l].wiT;
        ws->sw[l].whT = ws->lw[l].whT;
        ws->lw[l].rows = ws->rows;
    }
    return n;
nomem:
    net_free(n);
    rql_set_error(NETS_ENOMEM, "net_alloc: out of memory (%d inputs, %d layers, batch %d x %d steps)",
                   in, nl, max_batch, max_time);
    return NULL;
}

void net_free(net *n) {
    if (!n) return;
    if (n->ws) {
        free(n->ws->mem);
        free(n->ws->lw);
        free(n->ws->sw);
        free(n->ws->len);
        free(n->ws->perm);
        free(n->ws->rows);
        free(n->ws);
    }
    free(n->layers);
    free(n->tensors);
    free(n->params);
    free(n->grads);
    free(n);
}

/* ---- initialisation -------------------------------------------------------- */
/* The LRU as the paper's code initialises it (see lru.c); draws in tensor
 * order: the ring (u1, u2 per unit), then B, C and D. */
static int lru_init(const net_layer *L, float *p, gsl_rng *r) {
    const int H = L->units, In = L->in;
    const double rmin = 0.9, rmax = 0.999, max_phase = 2 * M_PI;
    for (int j = 0; j < H; j++) {
        double u1 = gsl_rng_uniform_pos(r), u2 = gsl_rng_uniform_pos(r);
        double nu = -0.5 * log(u1 * (rmax * rmax - rmin * rmin) + rmin * rmin);
        p[L->off_nu + j] = (float)log(nu);
        p[L->off_theta + j] = (float)log(max_phase * u2);
        /* gamma from the rounded nu, so that it normalises the lambda used */
        double mag = exp(-exp((double)p[L->off_nu + j]));
        p[L->off_gamma + j] = (float)log(sqrt(1.0 - mag * mag));
    }
    for (size_t k = 0; k < (size_t)2 * H * In; k++)   /* B_re, B_im */
        p[L->off_b_re + k] = (float)gsl_ran_gaussian(r, sqrt(1.0 / (2.0 * In)));
    for (size_t k = 0; k < (size_t)2 * H * H; k++)    /* C_re, C_im */
        p[L->off_c_re + k] = (float)gsl_ran_gaussian(r, sqrt(1.0 / H));
    for (size_t k = 0; k < (size_t)H * In; k++)
        p[L->off_d + k] = (float)gsl_ran_gaussian(r, sqrt(1.0 / In));
    if (L->learn_h0) memset(p + L->off_h0, 0, sizeof(float) * 2 * H);
    return 0;
}

static void glorot_uniform(float *w, size_t count, int fan_in, int fan_out, gsl_rng *r) {
    double a = sqrt(6.0 / (fan_in + fan_out));
    for (size_t k = 0; k < count; k++) w[k] = (float)(a * (2.0 * gsl_rng_uniform(r) - 1.0));
}

/* A random H x H orthogonal matrix (Haar measure): Gram-Schmidt on the
 * columns of a Gaussian matrix, which is QR with R's diagonal made positive.
 * Each column is orthogonalised twice ("twice is enough") for float-level
 * orthogonality at any H. */
static int orthogonal(float *w, int H, gsl_rng *r) {
    double *a = malloc(sizeof(double) * H * H);
    if (!a) return rql_set_error(NETS_ENOMEM, "net_init: out of memory for a %dx%d orthogonal block", H, H);
    for (int k = 0; k < H * H; k++) a[k] = gsl_ran_gaussian(r, 1.0);
    for (int j = 0; j < H; j++) {
        for (int pass = 0; pass < 2; pass++)
            for (int k = 0; k < j; k++) {
                double d = 0;
                for (int i = 0; i < H; i++) d += a[i * H + k] * a[i * H + j];
                for (int i = 0; i < H; i++) a[i * H + j] -= d * a[i * H + k];
            }
        double nrm = 0;
        for (int i = 0; i < H; i++) nrm += a[i * H + j] * a[i * H + j];
        nrm = sqrt(nrm);
        if (nrm < 1e-12) { /* probability zero for Gaussian draws */
            free(a);
            return rql_set_error(NETS_EINVAL, "net_init: degenerate %dx%d Gaussian draw", H, H);
        }
        for (int i = 0; i < H; i++) a[i * H + j] /= nrm;
    }
    for (int k = 0; k < H * H; k++) w[k] = (float)a[k];
    free(a);
    return 0;
}

int net_init_layer(net *n, int layer, gsl_rng *r) {
    if (!n || !r) return rql_set_error(NETS_EINVAL, "net_init_layer: network or rng is NULL");
    if (layer < 0 || layer >= n->nlayers)
        return rql_set_error(NETS_EINVAL, "net_init_layer: layer %d out of range [0, %d)", layer,
                              n->nlayers);
    const net_layer *L = &n->layers[layer];
    float *p = n->params;
    int H = L->units, G = nets_gates(L->kind) * H;
    if (L->kind == LAYER_DENSE) {
        glorot_uniform(p + L->off_w_ih, (size_t)H * L->in, L->in, H, r);
        memset(p + L->off_b_ih, 0, sizeof(float) * H);
        return 0;
    }
    if (L->kind == LAYER_LRU) return lru_init(L, p, r);
    /* Keras' view: the input kernel is one [I, G*H] matrix for Glorot's fan */
    glorot_uniform(p + L->off_w_ih, (size_t)G * L->in, L->in, G, r);
    if (L->kind == LAYER_MINGRU) {
        /* update-gate bias -2: the state starts by keeping 1 - s(-2) = 0.88
         * of itself per step. With bias 0 (z = 1/2) it halves every step
         * and the gradient of recall over 50 steps (2^-50) never starts:
         * measured, seed 0, recall T = 50: bias 0 and -1 stay at chance
         * after 1000 updates, -2 and -3 solve it in 350. The LSTM's forget
         * bias 1 plays the same part. */
        memset(p + L->off_b_ih, 0, sizeof(float) * G);
        for (int j = 0; j < H; j++) p[L->off_b_ih + j] = -2.0f;
        if (L->learn_h0) memset(p + L->off_h0, 0, sizeof(float) * H);
        return 0;
    }
    for (int k = 0; k < nets_gates(L->kind); k++) {
        int rc = orthogonal(p + L->off_w_hh + (size_t)k * H * H, H, r);
        if (rc) return rc;
    }
    memset(p + L->off_b_ih, 0, sizeof(float) * G);
    memset(p + L->off_b_hh, 0, sizeof(float) * G);
    /* forget bias 1 (Gers et al.; Jozefowicz et al. 2015): PyTorch adds b_ih
     * and b_hh, so the 1 goes in b_ih only and the sum is 1 as in Keras */
    if (nets_has_cell(L->kind))
        for (int j = H; j < 2 * H; j++) p[L->off_b_ih + j] = 1.0f;
    /* peepholes start at 0: the plain LSTM, which they then refine */
    if (L->kind == LAYER_PEEPHOLE) memset(p + L->off_peep, 0, sizeof(float) * 3 * H);
    if (L->learn_h0) memset(p + L->off_h0, 0, sizeof(float) * net_layer_state_size(L));
    return 0;
}

int net_init(net *n, gsl_rng *r) {
    if (!n || !r) return rql_set_error(NETS_EINVAL, "net_init: network or rng is NULL");
    for (int l = 0; l < n->nlayers; l++) {
        int rc = net_init_layer(n, l, r);
        if (rc) return rc;
    }
    return 0;
}

/* ---- recurrent state ------------------------------------------------------- */
int net_state_size(const net *n) { return n->state_size; }

int net_hidden_size(const net *n) {
    for (int l = n->nlayers - 1; l >= 0; l--)
        if (n->layers[l].kind != LAYER_DENSE) return n->layers[l].units;
    return 0;
}

int net_layer_state_size(const net_layer *L) {
    switch (L->kind) {
    case LAYER_DENSE: return 0;
    case LAYER_LSTM: case LAYER_PEEPHOLE: case LAYER_LRU: return 2 * L->units;
    default: return L->units;
    }
}

/* Row b of block k of a layer's state in its workspace, as the two parts of
 * its state-row block: part 0 (h [H], or the lru's Re h | Im h [2H]) and,
 * for lstm / peephole, part 1 (c [H]). */
typedef struct { float *p0, *p1; size_t n0; } ws_row;

static ws_row state_row(const net_layer *L, const net_lws *w, size_t block, int B, int b) {
    const size_t H = (size_t)L->units, at = block * B + (size_t)b;
    if (L->kind == LAYER_LRU) return (ws_row){w->cs + at * 2 * H, NULL, 2 * H};
    return (ws_row){w->out + at * H, nets_has_cell(L->kind) ? w->cs + at * H : NULL, H};
}

/* The same for dL/d(initial state) after backward (dh, dc). */
static ws_row dstate_row(const net_layer *L, const net_lws *w, int b) {
    const size_t H = (size_t)L->units;
    if (L->kind == LAYER_LRU) return (ws_row){w->dh + (size_t)b * 2 * H, NULL, 2 * H};
    return (ws_row){w->dh + (size_t)b * H, nets_has_cell(L->kind) ? w->dc + (size_t)b * H : NULL, H};
}

static void row_from(ws_row r, const float *src) {
    memcpy(r.p0, src, sizeof(float) * r.n0);
    if (r.p1) memcpy(r.p1, src + r.n0, sizeof(float) * r.n0);
}

static void row_to(ws_row r, float *dst) {
    memcpy(dst, r.p0, sizeof(float) * r.n0);
    if (r.p1) memcpy(dst + r.n0, r.p1, sizeof(float) * r.n0);
}

/* The initial state of layer L (learned h0/c0, or zero) into one row of
 * its state block: learned tensors are adjacent and in state-row order. */
static void initial_row(const net *n, const net_layer *L, float *row) {
    size_t bytes = sizeof(float) * net_layer_state_size(L);
    if (L->learn_h0) memcpy(row, n->params + L->off_h0, bytes);
    else memset(row, 0, bytes);
}

void net_state_reset(const net *n, float *state, int B, const uint8_t *reset) {
    const size_t S = (size_t)n->state_size;
    for (int l = 0; l < n->nlayers; l++) {
        const net_layer *L = &n->layers[l];
        if (L->kind == LAYER_DENSE) continue;
        for (int b = 0; b < B; b++)
            if (!reset || reset[b]) initial_row(n, L, state + b * S + L->state_off);
    }
}

void net_state_hidden(const net *n, const float *state, int B, float *hidden, float *cell) {
    for (int l = n->nlayers - 1; l >= 0; l--) {
        const net_layer *L = &n->layers[l];
        if (L->kind == LAYER_DENSE) continue;
        const size_t S = (size_t)n->state_size, H = (size_t)L->units;
        for (int b = 0; b < B; b++) {
            const float *st = state + b * S + L->state_off;
            memcpy(hidden + b * H, st, sizeof(float) * H);
            if (cell && nets_has_cell(L->kind)) memcpy(cell + b * H, st + H, sizeof(float) * H);
        }
        return;
    }
}

void net_state0_grad_accumulate(net *n, const float *dstate0, int B, const uint8_t *rows) {
    const size_t S = (size_t)n->state_size;
    for (int l = 0; l < n->nlayers; l++) {
        const net_layer *L = &n->layers[l];
        if (L->kind == LAYER_DENSE || !L->learn_h0) continue;
        /* the learned tensors are adjacent and in state-row order */
        const int W = net_layer_state_size(L);
        float *g = n->grads + L->off_h0;
        for (int b = 0; b < B; b++) {
            if (rows && !rows[b]) continue;
            const float *d = dstate0 + b * S + L->state_off;
            for (int j = 0; j < W; j++) g[j] += d[j];
        }
    }
}

/* Block 0 of a layer's workspace state from the initial state */
static void initial_state(const net *n, const net_layer *L, net_lws *w, int B) {
    for (int b = 0; b < B; b++) {
        ws_row r = state_row(L, w, 0, B, b);
        if (!L->learn_h0) {
            memset(r.p0, 0, sizeof(float) * r.n0);
            if (r.p1) memset(r.p1, 0, sizeof(float) * r.n0);
        } else {
            row_from(r, n->params + L->off_h0);
        }
    }
}

/* state rows [B, S] <-> block 0 / block k of the layer's workspace state;
 * workspace row b is state row perm[b] (perm NULL: b) */
static void state_get(const net *n, const net_layer *L, const float *state, net_lws *w, int B,
                      const int *perm) {
    size_t S = (size_t)n->state_size;
    for (int b = 0; b < B; b++)
        row_from(state_row(L, w, 0, B, b), state + (perm ? perm[b] : b) * S + L->state_off);
}

static void state_put(const net *n, const net_layer *L, float *state, const net_lws *w, size_t block,
                      const int *len, int B, const int *perm) {
    size_t S = (size_t)n->state_size;
    for (int b = 0; b < B; b++)
        row_to(state_row(L, w, len ? (size_t)len[b] : block, B, b),
               state + (perm ? perm[b] : b) * S + L->state_off);
}

/* The output rows of layer l for a B x T pass: step t at row t*B + b. */
static float *layer_output(const net_layer *L, const net_lws *w, int B) {
    return L->kind == LAYER_DENSE ? w->out : w->out + (size_t)B * L->units;
}

/* ---- forward / backward ---------------------------------------------------- */
static void run_layer_forward(const net *n, int l, net_lws *w, const float *in, const int *len,
                              int B, int T) {
    const net_layer *L = &n->layers[l];
    switch (L->kind) {
    case LAYER_DENSE: dense_forward(L, n->params, w, in, len, B, T); break;
    case LAYER_RNN: rnn_forward(L, n->params, w, in, len, B, T); break;
    case LAYER_LSTM: lstm_forward(L, n->params, w, in, len, B, T); break;
    case LAYER_GRU: gru_forward(L, n->params, w, in, len, B, T); break;
    case LAYER_PEEPHOLE: peephole_forward(L, n->params, w, in, len, B, T); break;
    case LAYER_MINGRU: mingru_forward(L, n->params, w, in, len, B, T); break;
    case LAYER_LRU: lru_forward(L, n->params, w, in, len, B, T); break;
    }
}

int net_forward(net *n, const float *x, const int *len, int B, int T,
                const float *state0, int return_seq, float *y, float *state_out) {
    if (!n || !x || !y) return rql_set_error(NETS_EINVAL, "net_forward: network, x or y is NULL");
    if (B < 1 || B > n->max_batch)
        return rql_set_error(NETS_EINVAL, "net_forward: batch %d outside [1, max_batch %d]", B,
                              n->max_batch);
    if (T < 1 || T > n->max_time)
        return rql_set_error(NETS_EINVAL, "net_forward: %d steps outside [1, max_time %d]", T,
                              n->max_time);
    net_ws *ws = n->ws;
    for (int b = 0; len && b < B; b++)   /* validate before touching the kept forward */
        if (len[b] < 0 || len[b] > T)
            return rql_set_error(NETS_EINVAL, "net_forward: len[%d] = %d outside [0, %d]", b,
                                  len[b], T);
    /* rows by decreasing len, ties in the caller's order (insertion sort:
     * B is a batch of sequences, tens of rows) */
    int *perm = ws->perm;
    ws->masked = 0;
    for (int b = 0; b < B; b++) {
        int lb = len ? len[b] : T, i = b;
        for (; i > 0 && ws->len[i - 1] < lb; i--) {
            ws->len[i] = ws->len[i - 1];
            perm[i] = perm[i - 1];
        }
        ws->len[i] = lb;
        perm[i] = b;
        ws->masked |= lb < T;
    }
    ws->B = B;
    ws->T = T;
    ws->return_seq = return_seq;
    ws->state0_given = state0 != NULL;
    const int *lens = ws->masked ? ws->len : NULL;

    /* batch-major x -> time-major, zeros at masked steps so that whatever the
     * caller left there (even NaN) cannot reach a gradient */
    const int In = n->in;
    for (int t = 0; t < T; t++) {
        const int m = nets_rows(ws->len, B, t);   /* the finished rows are the last ones */
        float *xt = ws->xt + (size_t)t * B * In;
        for (int b = 0; b < m; b++)
            nets_copy_row(xt + (size_t)b * In, x + ((size_t)perm[b] * T + t) * In, (size_t)In);
        memset(xt + (size_t)m * In, 0, sizeof(float) * In * (B - m));
    }

    const float *in = ws->xt;
    for (int l = 0; l < n->nlayers; l++) {
        const net_layer *L = &n->layers[l];
        net_lws *w = &ws->lw[l];
        if (L->kind != LAYER_DENSE) {
            if (state0) state_get(n, L, state0, w, B, perm);
            else initial_state(n, L, w, B);
        }
        run_layer_forward(n, l, w, in, lens, B, T);
        in = layer_output(L, w, B);
    }

    const int O = n->out;
    size_t ob = sizeof(float) * O;
    for (int b = 0; b < B; b++) {
        int lb = ws->len[b];
        const size_t yb = (size_t)perm[b];
        if (return_seq) {
            for (int t = 0; t < lb; t++) nets_copy_row(y + (yb * T + t) * O, in + ((size_t)t * B + b) * O, (size_t)O);
            memset(y + (yb * T + lb) * O, 0, ob * (T - lb));
        } else if (lb > 0) {
            memcpy(y + yb * O, in + ((size_t)(lb - 1) * B + b) * O, ob);
        } else {
            memset(y + yb * O, 0, ob);
        }
    }
    if (state_out)
        for (int l = 0; l < n->nlayers; l++) {
            const net_layer *L = &n->layers[l];
            if (L->kind == LAYER_DENSE) continue;
            state_put(n, L, state_out, &ws->lw[l], (size_t)T, lens, B, perm);
        }
    ws->have_fwd = 1;
    return 0;
}

int net_backward(net *n, const float *dy, float *dstate0) {
    if (!n || !dy) return rql_set_error(NETS_EINVAL, "net_backward: network or dy is NULL");
    return net_backward_state(n, dy, NULL, dstate0);
}

int net_backward_state(net *n, const float *dy, const float *dstate_out, float *dstate0) {
    if (!n) return rql_set_error(NETS_EINVAL, "net_backward: network is NULL");
    net_ws *ws = n->ws;
    if (!ws->have_fwd)
        return rql_set_error(NETS_EINVAL, "net_backward: no net_forward to differentiate");
    const int B = ws->B, T = ws->T, O = n->out;
    const int *lens = ws->masked ? ws->len : NULL, *perm = ws->perm;
    net_lws *top = &ws->lw[n->nlayers - 1];
    size_t ob = sizeof(float) * O;
    /* dy (batch-major, all steps or the last valid one) -> time-major dout */
    if (!ws->return_seq || !dy) memset(top->dout, 0, ob * T * B);
    if (dy && ws->return_seq)
        for (int t = 0; t < T; t++) {
            const int m = nets_rows(ws->len, B, t);   /* the finished rows are the last ones */
            float *dst = top->dout + (size_t)t * B * O;
            for (int b = 0; b < m; b++) nets_copy_row(dst + (size_t)b * O, dy + ((size_t)perm[b] * T + t) * O, (size_t)O);
            memset(dst + (size_t)m * O, 0, ob * (B - m));
        }
    for (int b = 0; dy && !ws->return_seq && b < B; b++) {
        int lb = ws->len[b];
        if (lb > 0) memcpy(top->dout + ((size_t)(lb - 1) * B + b) * O, dy + (size_t)perm[b] * O, ob);
    }
    for (int l = n->nlayers - 1; l >= 0; l--) {
        const net_layer *L = &n->layers[l];
        net_lws *w = &ws->lw[l];
        const float *in = l ? layer_output(&n->layers[l - 1], &ws->lw[l - 1], B) : ws->xt;
        float *din = l ? ws->lw[l - 1].dout : NULL;
        if (L->kind != LAYER_DENSE)   /* the running dL/dh (dc) starts at dL/d(final state) */
            for (int b = 0; b < B; b++) {
                ws_row r = dstate_row(L, w, b);
                if (dstate_out) {
                    row_from(r, dstate_out + (size_t)perm[b] * n->state_size + L->state_off);
                } else {
                    memset(r.p0, 0, sizeof(float) * r.n0);
                    if (r.p1) memset(r.p1, 0, sizeof(float) * r.n0);
                }
            }
        switch (L->kind) {
        case LAYER_DENSE: dense_backward(L, n->params, n->grads, w, in, din, lens, B, T); break;
        case LAYER_RNN: rnn_backward(L, n->params, n->grads, w, in, din, lens, B, T); break;
        case LAYER_LSTM: lstm_backward(L, n->params, n->grads, w, in, din, lens, B, T); break;
        case LAYER_GRU: gru_backward(L, n->params, n->grads, w, in, din, lens, B, T); break;
        case LAYER_PEEPHOLE: peephole_backward(L, n->params, n->grads, w, in, din, lens, B, T); break;
        case LAYER_MINGRU: mingru_backward(L, n->params, n->grads, w, in, din, lens, B, T); break;
        case LAYER_LRU: lru_backward(L, n->params, n->grads, w, in, din, lens, B, T); break;
        }
        if (L->kind == LAYER_DENSE) continue;
        const size_t S = (size_t)n->state_size;
        if (dstate0)
            for (int b = 0; b < B; b++)
                row_to(dstate_row(L, w, b), dstate0 + (size_t)perm[b] * S + L->state_off);
        if (L->learn_h0 && !ws->state0_given) {
            /* h0 (and c0) are adjacent, in the order of the state block */
            float *gh = n->grads + L->off_h0;
            for (int b = 0; b < B; b++) {
                ws_row r = dstate_row(L, w, b);
                for (size_t j = 0; j < r.n0; j++) gh[j] += r.p0[j];
                for (size_t j = 0; r.p1 && j < r.n0; j++) gh[r.n0 + j] += r.p1[j];
            }
        }
    }
    return 0;
}

void net_zero_grad(net *n) { memset(n->grads, 0, sizeof(float) * n->nparams); }

int net_step(net *n, const float *x, float *state, int B, float *y) {
    if (!n || !x || !y || (!state && n->state_size))
        return rql_set_error(NETS_EINVAL, "net_step: network, x, state or y is NULL");
    if (B < 1 || B > n->max_batch)
        return rql_set_error(NETS_EINVAL, "net_step: batch %d outside [1, max_batch %d]", B,
                              n->max_batch);
    const float *in = x;
    for (int l = 0; l < n->nlayers; l++) {
        const net_layer *L = &n->layers[l];
        net_lws *w = &n->ws->sw[l];
        if (L->kind != LAYER_DENSE) state_get(n, L, state, w, B, NULL);
        run_layer_forward(n, l, w, in, NULL, B, 1);
        in = layer_output(L, w, B);
        if (L->kind != LAYER_DENSE) state_put(n, L, state, w, 1, NULL, B, NULL);
    }
    memcpy(y, in, sizeof(float) * B * n->out);
    return 0;
}

/* ---- target networks ------------------------------------------------------- */
static int same_arch(const net *a, const net *b, const char *who) {
    for (int l = 0; l < a->nlayers && l < b->nlayers; l++) {
        const net_layer *x = &a->layers[l], *y = &b->layers[l];
        if (x->kind != y->kind || x->units != y->units || x->in != y->in || x->act != y->act ||
            x->learn_h0 != y->learn_h0)
            return rql_set_error(NETS_ESHAPE, "%s: layer %d differs (%s %d -> %d vs %s %d -> %d)",
                                  who, l, layer_kind_str(x->kind), x->in, x->units, layer_kind_str(y->kind),
                                  y->in, y->units);
    }
    if (a->nlayers != b->nlayers || a->nparams != b->nparams)
        return rql_set_error(NETS_ESHAPE, "%s: networks differ (%d layers, %zu params vs %d, %zu)",
                              who, a->nlayers, a->nparams, b->nlayers, b->nparams);
    return 0;
}

int net_copy(net *dst, const net *src) {
    if (!dst || !src) return rql_set_error(NETS_EINVAL, "net_copy: network is NULL");
    int rc = same_arch(dst, src, "net_copy");
    if (rc) return rc;
    memcpy(dst->params, src->params, sizeof(float) * src->nparams);
    return 0;
}

int net_polyak(net *dst, const net *src, float tau) {
    if (!dst || !src) return rql_set_error(NETS_EINVAL, "net_polyak: network is NULL");
    if (!(tau >= 0.0f && tau <= 1.0f))
        return rql_set_error(NETS_EINVAL, "net_polyak: tau %g outside [0, 1]", (double)tau);
    int rc = same_arch(dst, src, "net_polyak");
    if (rc) return rc;
    for (size_t k = 0; k < src->nparams; k++)
        dst->params[k] = tau * src->params[k] + (1.0f - tau) * dst->params[k];
    return 0;
}

uint64_t net_checksum(const net *n) {
    uint64_t h = 14695981039346656037ULL;
    const unsigned char *p = (const unsigned char *)n->params;
    for (size_t k = 0; k < n->nparams * sizeof(float); k++) {
        h ^= p[k];
        h *= 1099511628211ULL;
    }
    return h;
}
