/* seq — supervised memory tasks (binary addition, recall after distractors,
 * next-term prediction, sequence reversal by an encoder-decoder, a digit's
 * pattern) trained with nets; see seq.h. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "experiments/seq.h"
#include "util/util.h"

/* Largest batch of one forward during evaluation; the network's workspace is
 * sized for max(batch, this). */
enum { SEQ_EVAL_CHUNK = 256 };

void seq_config_default(seq_config *c, seq_task task, layer_kind cell, int length) {
    memset(c, 0, sizeof *c);
    c->task = task;
    c->cell = cell;
    c->length = length;
    c->hidden = 64;
    c->batch = 32;
    c->steps = 3000;
    /* measured on recall at T = 50 over seeds 0-9 (hidden 64): 3e-3 solved
     * 10 of 10 within 1000 updates, 1e-3 and 2e-3 9, 1e-2 stalled at chance */
    c->lr = 3e-3f;
    c->clip = 1.0f;
    c->seed = 0;
    c->test_size = 1000;
    c->eval_every = 50;
    c->val_size = 512;
}

static const char *const task_names[] = {"add", "recall", "next", "reverse", "pattern"};

const char *seq_task_str(seq_task t) {
    return (unsigned)t < sizeof task_names / sizeof *task_names ? task_names[t] : "?";
}

int seq_task_parse(const char *s) {
    for (int k = 0; s && k < (int)(sizeof task_names / sizeof *task_names); k++)
        if (!strcmp(s, task_names[k])) return k;
    return -1;
}

int seq_in_size(const seq_config *c) {
    switch (c->task) {
    case SEQ_ADD: return 2;
    case SEQ_RECALL: return SEQ_SYMBOLS + SEQ_DISTRACTORS;
    case SEQ_REVERSE: return SEQ_RSYMBOLS;
    default: return SEQ_DIGITS;
    }
}
int seq_out_size(const seq_config *c) {
    switch (c->task) {
    case SEQ_ADD: case SEQ_PATTERN: return 1;
    case SEQ_RECALL: return SEQ_SYMBOLS;
    case SEQ_REVERSE: return SEQ_RSYMBOLS;
    default: return SEQ_DIGITS;
    }
}
int seq_steps(const seq_config *c) { return c->task == SEQ_ADD || c->task == SEQ_RECALL ? c->length + 1 : c->length; }
int seq_many_to_many(const seq_config *c) { return c->task != SEQ_RECALL; }

static uint64_t splitmix64(uint64_t x);

int seq_pattern_bit(int d, int t) {
    return (int)(splitmix64(((uint64_t)d << 32) ^ (uint64_t)t ^ 0x5eedULL) >> 63);
}

static int is_binary(const seq_config *c) { return c->task == SEQ_ADD || c->task == SEQ_PATTERN; }

void seq_batch(const seq_config *c, gsl_rng *r, int B, float *x, int *target) {
    const int Ts = seq_steps(c), in = seq_in_size(c);
    memset(x, 0, sizeof(float) * (size_t)B * Ts * in);
    for (int b = 0; b < B; b++) {
        float *xb = x + (size_t)b * Ts * in;
        if (c->task == SEQ_ADD) {
            int carry = 0;
            for (int t = 0; t < Ts; t++) {
                /* the last step feeds 0, 0 and asks for the carry out */
                int a = t < c->length ? (int)gsl_rng_uniform_int(r, 2) : 0;
                int bb = t < c->length ? (int)gsl_rng_uniform_int(r, 2) : 0;
                int s = a + bb + carry;
                xb[t * in] = (float)a;
                xb[t * in + 1] = (float)bb;
                target[b * Ts + t] = s & 1;
                carry = s >> 1;
            }
        } else if (c->task == SEQ_RECALL) {
            int sym = (int)gsl_rng_uniform_int(r, SEQ_SYMBOLS);
            xb[sym] = 1;
            for (int t = 1; t < Ts; t++) xb[t * in + SEQ_SYMBOLS + (int)gsl_rng_uniform_int(r, SEQ_DISTRACTORS)] = 1;
            target[b] = sym;
        } else if (c->task == SEQ_NEXT) {
            int a = (int)gsl_rng_uniform_int(r, SEQ_DIGITS), d = (int)gsl_rng_uniform_int(r, SEQ_DIGITS);
            for (int t = 0; t < Ts; t++) {
                xb[t * in + a] = 1;
                a = (a + d) % SEQ_DIGITS;
                target[b * Ts + t] = a;
            }
        } else if (c->task == SEQ_REVERSE) {
            for (int t = 0; t < Ts; t++) {
                int sym = (int)gsl_rng_uniform_int(r, SEQ_RSYMBOLS);
                xb[t * in + sym] = 1;
                target[b * Ts + (Ts - 1 - t)] = sym;
            }
        } else {   /* pattern */
            int d = (int)gsl_rng_uniform_int(r, SEQ_DIGITS);
            xb[d] = 1;
            for (int t = 0; t < Ts; t++) target[b * Ts + t] = seq_pattern_bit(d, t);
        }
    }
}

/* Softmax cross-entropy of one row of K logits against class k; dy (if not
 * NULL) gets the gradient times scale. Sets *arg to the argmax. */
static double softmax_ce(const float *yb, int K, int k, double scale, float *dy, int *arg) {
    int a = 0;
    double m = yb[0], sum = 0;
    for (int j = 1; j < K; j++) if (yb[j] > m) m = yb[j], a = j;
    for (int j = 0; j < K; j++) sum += exp(yb[j] - m);
    for (int j = 0; dy && j < K; j++) dy[j] = (float)((exp(yb[j] - m) / sum - (j == k)) * scale);
    *arg = a;
    return log(sum) + m - yb[k];
}

/* Loss of a forward's outputs y and its gradient dy (mean over the batch, and
 * over the scored steps for the many-to-many tasks); counts the sequences
 * entirely right and (wrong_steps, if not NULL) the scored steps wrong. */
static double seq_loss(const seq_config *c, int B, const float *y, const int *target, float *dy,
                       int *right, long *wrong_steps) {
    const int Ts = seq_steps(c), K = seq_out_size(c);
    double L = 0;
    int ok = 0;
    long wrong = 0;
    if (c->task == SEQ_NEXT || c->task == SEQ_REVERSE) {
        /* per-step softmax; next scores steps 1.. only (step 0 cannot know d) */
        const int t0 = c->task == SEQ_NEXT ? 1 : 0;
        const double scale = 1.0 / ((double)B * (Ts - t0 > 0 ? Ts - t0 : 1));
        if (dy) memset(dy, 0, sizeof(float) * (size_t)B * Ts * K);
        for (int b = 0; b < B; b++) {
            int all = 1;
            for (int t = t0; t < Ts; t++) {
                const size_t k = (size_t)b * Ts + t;
                int arg;
                L += softmax_ce(y + k * K, K, target[k], scale, dy ? dy + k * K : NULL, &arg);
                wrong += arg != target[k];
                all &= arg == target[k];
            }
            ok += all;
        }
        L *= scale;
    } else if (is_binary(c)) {
        const double scale = 1.0 / ((double)B * Ts);
        for (int b = 0; b < B; b++) {
            int all = 1;
            for (int t = 0; t < Ts; t++) {
                const int k = b * Ts + t;
                const double z = y[k], p = 1.0 / (1.0 + exp(-z));
                /* BCE with logits, in the stable form log(1 + e^-|z|) + max(z, 0) - z*t */
                L += log1p(exp(-fabs(z))) + (z > 0 ? z : 0) - z * target[k];
                if (dy) dy[k] = (float)((p - target[k]) * scale);
                wrong += (z > 0) != (target[k] == 1);
                all &= (z > 0) == (target[k] == 1);
            }
            ok += all;
        }
        L *= scale;
    } else {
        for (int b = 0; b < B; b++) {
            const float *yb = y + (size_t)b * K;
            int arg = 0;
            double m = yb[0], sum = 0;
            for (int k = 1; k < K; k++) if (yb[k] > m) m = yb[k], arg = k;
            for (int k = 0; k < K; k++) sum += exp(yb[k] - m);
            L += log(sum) + m - yb[target[b]];
            for (int k = 0; dy && k < K; k++)
                dy[(size_t)b * K + k] = (float)((exp(yb[k] - m) / sum - (k == target[b])) / B);
            ok += arg == target[b];
        }
        L /= B;
    }
    if (right) *right = ok;
    if (wrong_steps) *wrong_steps = wrong;
    return L;
}

static uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static gsl_rng *stream(unsigned long seed, int k) {
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    /* mt19937 takes an unsigned long seed; 0 would be replaced by its default */
    if (r) gsl_rng_set(r, (unsigned long)(splitmix64(splitmix64(seed) + (uint64_t)k) | 1));
    return r;
}

/* The networks and buffers of one run. Every task but reverse uses one
 * network (CELL -> dense); reverse an encoder (CELL) and a decoder (CELL ->
 * dense) whose first state is the encoder's last. */
typedef struct {
    const seq_config *c;
    net *n, *dec;
    optim *o, *od;
    float *x, *y, *dy, *xd, *st, *dst, *ys, *xs;
    int *target;
} seq_ws;

/* Decoder inputs for teacher forcing: step 0 the start symbol, step t the
 * true symbol t-1. xd [B, T, K+1]. */
static void decoder_inputs(const seq_config *c, int B, const int *target, float *xd) {
    const int T = seq_steps(c), K = seq_out_size(c);
    memset(xd, 0, sizeof(float) * (size_t)B * T * (K + 1));
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            xd[((size_t)b * T + t) * (K + 1) + (t ? target[b * T + t - 1] : K)] = 1;
}

/* Forward of B sequences of x into w->y; free running: the decoder fed its
 * own previous argmax one step at a time (reverse at test). */
static int seq_forward(seq_ws *w, int B, int free_run) {
    const seq_config *c = w->c;
    const int T = seq_steps(c), K = seq_out_size(c);
    if (c->task != SEQ_REVERSE) return net_forward(w->n, w->x, NULL, B, T, NULL, seq_many_to_many(c), w->y, NULL);
    if (net_forward(w->n, w->x, NULL, B, T, NULL, 0, w->ys, w->st)) return -1;
    if (!free_run) {
        decoder_inputs(c, B, w->target, w->xd);
        return net_forward(w->dec, w->xd, NULL, B, T, w->st, 1, w->y, NULL);
    }
    memset(w->xs, 0, sizeof(float) * (size_t)B * (K + 1));
    for (int b = 0; b < B; b++) w->xs[(size_t)b * (K + 1) + K] = 1;
    for (int t = 0; t < T; t++) {
        if (net_step(w->dec, w->xs, w->st, B, w->ys)) return -1;
        memset(w->xs, 0, sizeof(float) * (size_t)B * (K + 1));
        for (int b = 0; b < B; b++) {
            const float *yb = w->ys + (size_t)b * K;
            int a = 0;
            for (int j = 1; j < K; j++) if (yb[j] > yb[a]) a = j;
            memcpy(w->y + ((size_t)b * T + t) * K, yb, sizeof(float) * K);
            w->xs[(size_t)b * (K + 1) + a] = 1;
        }
    }
    return 0;
}

/* Accuracy on n sequences drawn from r, in chunks of at most SEQ_EVAL_CHUNK;
 * step_err / trivial (if not NULL) get the fraction of scored steps wrong,
 * of the network and (next) of the trivial predictor a_{t+1} = a_t. */
static double seq_accuracy(seq_ws *w, gsl_rng *r, int n_seq, int *err, double *step_err, double *trivial) {
    const seq_config *c = w->c;
    const int T = seq_steps(c);
    int right = 0;
    long wrong = 0, triv = 0, scored = 0;
    for (int done = 0; done < n_seq;) {
        int B = n_seq - done < SEQ_EVAL_CHUNK ? n_seq - done : SEQ_EVAL_CHUNK, ok = 0;
        long wr = 0;
        seq_batch(c, r, B, w->x, w->target);
        if (seq_forward(w, B, 1)) { *err = 1; return 0; }
        seq_loss(c, B, w->y, w->target, NULL, &ok, &wr);
        right += ok;
        wrong += wr;
        scored += (long)B * (c->task == SEQ_NEXT ? T - 1 : c->task == SEQ_RECALL ? 1 : T);
        if (c->task == SEQ_NEXT)
            for (int b = 0; b < B; b++)
                for (int t = 1; t < T; t++)
                    triv += w->x[((size_t)b * T + t) * SEQ_DIGITS + w->target[b * T + t]] != 1.0f;
        done += B;
    }
    if (step_err) *step_err = scored ? (double)wrong / scored : 0;
    if (trivial) *trivial = c->task == SEQ_NEXT && scored ? (double)triv / scored : -1;
    return (double)right / n_seq;
}

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...) {
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Global-norm clipping over the encoder's and the decoder's gradients
 * together, as one model. */
static void clip_both(net *a, net *b, float clip) {
    if (!b) { nets_clip_grad_norm(a->grads, a->nparams, clip); return; }
    if (!(clip > 0)) return;
    double na = nets_clip_grad_norm(a->grads, a->nparams, 0), nb = b ? nets_clip_grad_norm(b->grads, b->nparams, 0) : 0;
    double norm = sqrt(na * na + nb * nb);
    if (norm <= clip) return;
    float s = (float)(clip / (norm + 1e-6));
    for (size_t k = 0; k < a->nparams; k++) a->grads[k] *= s;
    for (size_t k = 0; b && k < b->nparams; k++) b->grads[k] *= s;
}

/* One update on a fresh batch; returns the loss (NAN with *err set on a
 * network error). */
static double seq_update(seq_ws *w, gsl_rng *r, int *err) {
    const seq_config *c = w->c;
    const int B = c->batch;
    seq_batch(c, r, B, w->x, w->target);
    net_zero_grad(w->n);
    if (w->dec) net_zero_grad(w->dec);
    if (seq_forward(w, B, 0)) { *err = 1; return NAN; }
    double L = seq_loss(c, B, w->y, w->target, w->dy, NULL, NULL);
    if (!w->dec) {
        if (net_backward(w->n, w->dy, NULL)) { *err = 1; return NAN; }
    } else if (net_backward(w->dec, w->dy, w->dst) || net_backward_state(w->n, NULL, w->dst, NULL)) {
        *err = 1;
        return NAN;
    }
    clip_both(w->n, w->dec, c->clip);
    optim_step(w->o, w->n->params, w->n->grads);
    if (w->dec) optim_step(w->od, w->dec->params, w->dec->grads);
    return L;
}

int seq_run(const seq_config *c, seq_result *res, FILE *log, char *err, size_t errlen) {
    if (seq_task_str(c->task)[0] == '?') return fail(err, errlen, "task %d is not a sequence task", (int)c->task);
    if (c->length < 1 || c->length > 100000)
        return fail(err, errlen, "--length %d: must be between 1 and 100000", c->length);
    if (c->task == SEQ_NEXT && c->length < 2)
        return fail(err, errlen, "--length %d: next needs at least 2 terms", c->length);
    if (c->hidden < 1 || c->hidden > 4096)
        return fail(err, errlen, "--hidden %d: must be between 1 and 4096", c->hidden);
    if (c->batch < 1 || c->batch > 4096) return fail(err, errlen, "--batch %d: must be between 1 and 4096", c->batch);
    if (c->steps < 0) return fail(err, errlen, "--steps %d: must be >= 0", c->steps);
    if (!(c->lr > 0) || !isfinite(c->lr)) return fail(err, errlen, "--lr %g: must be a positive number", c->lr);
    if (!(c->clip >= 0)) return fail(err, errlen, "--clip %g: must be >= 0", c->clip);
    if (c->test_size < 1 || c->val_size < 1 || c->eval_every < 1)
        return fail(err, errlen, "test_size %d, val_size %d, eval_every %d: each must be >= 1",
                    c->test_size, c->val_size, c->eval_every);
    if (c->cell == LAYER_DENSE || layer_kind_str(c->cell)[0] == '?')
        return fail(err, errlen, "cell kind %d is not recurrent", (int)c->cell);

    const double t0 = rql_now_s();
    const int Ts = seq_steps(c), in = seq_in_size(c), K = seq_out_size(c), m2m = seq_many_to_many(c);
    const int rev = c->task == SEQ_REVERSE;
    const int cap = c->batch > SEQ_EVAL_CHUNK ? c->batch : SEQ_EVAL_CHUNK;
    if ((long)cap * Ts > (1L << 20))
        return fail(err, errlen, "--length %d with batch %d: %ld rows x steps, more than nets' 2^20",
                    c->length, c->batch, (long)cap * Ts);
    layer_spec ls[2] = {{c->cell, c->hidden, ACT_NONE, 0}, {LAYER_DENSE, K, ACT_NONE, 0}};
    seq_ws w = {.c = c};
    w.n = rev ? net_alloc(in, ls, 1, cap, Ts) : net_alloc(in, ls, 2, cap, Ts);
    w.dec = rev && w.n ? net_alloc(K + 1, ls, 2, cap, Ts) : NULL;
    w.o = w.n ? optim_alloc(OPT_ADAM, w.n->nparams, c->lr) : NULL;
    w.od = w.dec ? optim_alloc(OPT_ADAM, w.dec->nparams, c->lr) : NULL;
    gsl_rng *r_init = stream(c->seed, 0), *r_data = stream(c->seed, 1);
    gsl_rng *r_val = stream(c->seed, 2), *r_test = stream(c->seed, 3);
    const size_t S = w.n ? (size_t)net_state_size(w.n) : 0;
    w.x = malloc(sizeof(float) * (size_t)cap * Ts * in);
    w.y = malloc(sizeof(float) * (size_t)cap * (m2m ? Ts : 1) * K);
    w.dy = malloc(sizeof(float) * (size_t)cap * (m2m ? Ts : 1) * K);
    w.target = malloc(sizeof(int) * (size_t)cap * Ts);
    if (rev) {
        w.xd = malloc(sizeof(float) * (size_t)cap * Ts * (K + 1));
        w.st = malloc(sizeof(float) * (size_t)cap * S);
        w.dst = malloc(sizeof(float) * (size_t)cap * S);
        w.ys = malloc(sizeof(float) * (size_t)cap * (K > c->hidden ? K : c->hidden));
        w.xs = malloc(sizeof(float) * (size_t)cap * (K + 1));
    }
    /* the validation set is the same sequences at every check */
    unsigned long val_seed = r_val ? gsl_rng_get(r_val) : 0;
    int rc = 0, neterr = 0;
    if (!w.n || (rev && !w.dec) || !w.o || (rev && !w.od) || !r_init || !r_data || !r_val || !r_test || !w.x ||
        !w.y || !w.dy || !w.target || (rev && (!w.xd || !w.st || !w.dst || !w.ys || !w.xs))) {
        rc = fail(err, errlen, "cannot build the network: %s", w.n && (!rev || w.dec) ? "out of memory" : rql_error());
        goto out;
    }
    if (net_init(w.n, r_init) || (w.dec && net_init(w.dec, r_init))) {
        rc = fail(err, errlen, "net_init: %s", rql_error());
        goto out;
    }

    memset(res, 0, sizeof *res);
    res->solved_at = -1;
    for (int u = 1; u <= c->steps; u++) {
        res->loss = seq_update(&w, r_data, &neterr);
        if (neterr) { rc = fail(err, errlen, "nets: %s", rql_error()); goto out; }
        res->updates = u;
        if (!isfinite(res->loss)) {
            rc = fail(err, errlen, "training diverged at update %d (loss %g): lower --lr (%g)", u,
                      res->loss, c->lr);
            goto out;
        }
        if (u % c->eval_every == 0 || u == c->steps) {
            gsl_rng_set(r_val, val_seed);
            res->val_accuracy = seq_accuracy(&w, r_val, c->val_size, &neterr, NULL, NULL);
            if (neterr) { rc = fail(err, errlen, "nets: %s", rql_error()); goto out; }
            if (log) fprintf(log, "update %5d  loss %.4f  validation accuracy %.4f\n", u, res->loss,
                             res->val_accuracy);
            /* solved: every validation sequence right at two checks in a
             * row (one check stopped a few runs on a lucky draw of their
             * boundary, 99.9% on the test set); the test set decides */
            if (res->val_accuracy < 1.0) res->solved_at = -1;
            else if (res->solved_at < 0) res->solved_at = u;
            else break;
        }
    }
    res->accuracy = seq_accuracy(&w, r_test, c->test_size, &neterr, &res->step_error, &res->trivial_error);
    if (neterr) { rc = fail(err, errlen, "nets: %s", rql_error()); goto out; }
    res->seconds = rql_now_s() - t0;
out:
    net_free(w.n);
    net_free(w.dec);
    optim_free(w.o);
    optim_free(w.od);
    gsl_rng_free(r_init); gsl_rng_free(r_data); gsl_rng_free(r_val); gsl_rng_free(r_test);
    free(w.x); free(w.y); free(w.dy); free(w.target);
    free(w.xd); free(w.st); free(w.dst); free(w.ys); free(w.xs);
    return rc;
}
