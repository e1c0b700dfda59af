/* optim — SGD (momentum), RMSProp and Adam over one flat parameter buffer,
 * with the update rules of torch.optim (PyTorch 1.13, non-fused, non-centred,
 * no Nesterov / amsgrad), and clipping by global norm as in
 * torch.nn.utils.clip_grad_norm_. Weight decay is L2 added to the gradient,
 * as in torch.optim (not AdamW). */
#include <math.h>
#include <stdlib.h>
#include "nets/nets.h"

optim *optim_alloc(opt_kind kind, size_t n, float lr) {
    if (kind != OPT_SGD && kind != OPT_RMSPROP && kind != OPT_ADAM) {
        rql_set_error(NETS_EINVAL, "optim_alloc: unknown optimizer kind %d", (int)kind);
        return NULL;
    }
    if (!(lr >= 0.0f) || n == 0) {
        rql_set_error(NETS_EINVAL, "optim_alloc: lr %g must be >= 0 and n %zu >= 1", (double)lr, n);
        return NULL;
    }
    optim *o = calloc(1, sizeof *o);
    if (!o) goto nomem;
    o->kind = kind;
    o->lr = lr;
    o->momentum = 0.0f;
    o->alpha = 0.99f;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    o->eps = 1e-8f;
    o->n = n;
    /* SGD keeps a momentum buffer even at momentum 0, since a caller may set
     * o->momentum after alloc */
    if (kind != OPT_RMSPROP && !(o->m = calloc(n, sizeof(float)))) goto nomem;
    if (kind != OPT_SGD && !(o->v = calloc(n, sizeof(float)))) goto nomem;
    return o;
nomem:
    optim_free(o);
    rql_set_error(NETS_ENOMEM, "optim_alloc: out of memory for %zu parameters", n);
    return NULL;
}

void optim_free(optim *o) {
    if (!o) return;
    free(o->m);
    free(o->v);
    free(o);
}

void optim_step(optim *o, float *p, const float *g) {
    const size_t n = o->n;
    const float lr = o->lr, wd = o->weight_decay;
    o->t++;
    switch (o->kind) {
    case OPT_SGD: {
        /* buf = momentum * buf + g (torch clones g into buf on the first step,
         * which is the same thing from buf = 0); p -= lr * buf */
        const float mu = o->momentum;
        float *m = o->m;
        for (size_t k = 0; k < n; k++) {
            float gk = g[k] + wd * p[k];
            if (mu != 0.0f) {
                m[k] = mu * m[k] + gk;
                gk = m[k];
            }
            p[k] -= lr * gk;
        }
        break;
    }
    case OPT_RMSPROP: {
        const float a = o->alpha, eps = o->eps;
        float *v = o->v;
        for (size_t k = 0; k < n; k++) {
            float gk = g[k] + wd * p[k];
            v[k] = a * v[k] + (1.0f - a) * gk * gk;
            p[k] -= lr * gk / (sqrtf(v[k]) + eps);
        }
        break;
    }
    case OPT_ADAM: {
        const float b1 = o->beta1, b2 = o->beta2, eps = o->eps;
        /* torch: step_size = lr / bc1; denom = sqrt(v) / sqrt(bc2) + eps */
        const float bc1 = 1.0f - (float)pow(b1, (double)o->t);
        const float bc2s = (float)sqrt(1.0 - pow(b2, (double)o->t));
        const float step = lr / bc1;
        float *m = o->m, *v = o->v;
        for (size_t k = 0; k < n; k++) {
            float gk = g[k] + wd * p[k];
            m[k] = b1 * m[k] + (1.0f - b1) * gk;
            v[k] = b2 * v[k] + (1.0f - b2) * gk * gk;
            p[k] -= step * m[k] / (sqrtf(v[k]) / bc2s + eps);
        }
        break;
    }
    }
}

float nets_clip_grad_norm(float *g, size_t n, float max_norm) {
    double s = 0.0;
    for (size_t k = 0; k < n; k++) s += (double)g[k] * g[k];
    float norm = (float)sqrt(s);
    if (max_norm > 0.0f) {
        float coef = max_norm / (norm + 1e-6f);
        if (coef < 1.0f)
            for (size_t k = 0; k < n; k++) g[k] *= coef;
    }
    return norm;
}
