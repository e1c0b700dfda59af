/* qtable.c — tabular Q-learning (qtable_ops) keyed on the exact window of the
 * last k observations (k = 1: the observation itself). The table is open addressing
 * over the key bytes (FNV-1a, linear probing), doubled when 3/4 full, so the
 * rare growth is the only allocation after alloc. Updates are one-step
 * Watkins Q-learning on every observed step, no replay. */
#include <stdlib.h>
#include <string.h>
#include "agents/td.h"

static uint64_t key_hash(const float *key, int kd) {
    const unsigned char *p = (const unsigned char *)key;
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < (size_t)kd * sizeof(float); i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

int qtab_init(qtab *t, int kd, int A, long cap) {
    long c = 16;
    while (c < cap) c *= 2;
    t->cap = c;
    t->count = 0;
    t->kd = kd;
    /* calloc: free slots stay 0, so a checkpoint holds no uninitialised bytes */
    t->keys = calloc((size_t)c * kd, sizeof(float));
    t->q = calloc((size_t)c * A, sizeof(float));
    t->used = calloc((size_t)c, 1);
    if (!t->keys || !t->q || !t->used) {
        qtab_free(t);
        return rql_set_error(AGENT_ENOMEM, "qtable: out of memory for %ld entries", c);
    }
    return 0;
}

void qtab_free(qtab *t) {
    free(t->keys); free(t->q); free(t->used);
    t->keys = t->q = NULL;
    t->used = NULL;
}

static long probe(const qtab *t, const float *key) {
    long m = t->cap - 1, i = (long)(key_hash(key, t->kd) & (uint64_t)m);
    while (t->used[i] && memcmp(t->keys + (size_t)i * t->kd, key, sizeof(float) * t->kd)) i = (i + 1) & m;
    return i;
}

static const float *qtab_find(const qtab *t, const float *key, int A) {
    long i = probe(t, key);
    return t->used[i] ? t->q + (size_t)i * A : NULL;
}

static int grow(qtab *t, int A) {
    qtab g;
    if (qtab_init(&g, t->kd, A, t->cap * 2) < 0) return -1;
    for (long i = 0; i < t->cap; i++) {
        if (!t->used[i]) continue;
        long j = probe(&g, t->keys + (size_t)i * t->kd);
        g.used[j] = 1;
        memcpy(g.keys + (size_t)j * t->kd, t->keys + (size_t)i * t->kd, sizeof(float) * t->kd);
        memcpy(g.q + (size_t)j * A, t->q + (size_t)i * A, sizeof(float) * A);
    }
    g.count = t->count;
    qtab_free(t);
    *t = g;
    return 0;
}

/* Q row of a key, inserted with q_init when absent (NULL only on ENOMEM). */
static float *qtab_row(qtab *t, const float *key, int A, float q_init) {
    if ((t->count + 1) * 4 > t->cap * 3 && grow(t, A) < 0) return NULL;
    long i = probe(t, key);
    if (!t->used[i]) {
        t->used[i] = 1;
        t->count++;
        memcpy(t->keys + (size_t)i * t->kd, key, sizeof(float) * t->kd);
        for (int j = 0; j < A; j++) t->q[(size_t)i * A + j] = q_init;
    }
    return t->q + (size_t)i * A;
}

static int qtab_update(agent *a, const float *key, int act, float r, int term, const float *key_next) {
    const int A = a->A;
    float boot = 0;
    if (!term) {
        const float *qn = qtab_find(&a->tab, key_next, A);
        boot = qn ? qn[td_argmax(qn, A)] : a->p.q_init;
    }
    float *q = qtab_row(&a->tab, key, A, a->p.q_init);
    if (!q) return AGENT_ENOMEM;
    float y = r + a->p.gamma * boot, d = y - q[act];
    q[act] += a->p.alpha * d;
    a->loss = 0.5f * d * d;
    a->q_mean = q[act];
    a->updates++;
    return 0;
}

static int init(agent *a) { return qtab_init(&a->tab, a->in, a->A, a->p.capacity); }

static int q_values(agent *a, agent_actor *ac, const float *obs, const uint8_t *episode_start) {
    actor_priv *pv = ac->priv;
    const int n = ac->n, os = a->obs, A = a->A, k = a->p.k;
    const size_t kd = (size_t)k * os;
    for (int i = 0; i < n; i++) agent_window_push(pv->win + i * kd, obs + (size_t)i * os, k, os, episode_start[i]);
    for (int i = 0; i < n; i++) {
        const float *row = qtab_find(&a->tab, pv->win + i * kd, A);
        for (int j = 0; j < A; j++) ac->q[(size_t)i * A + j] = row ? row[j] : a->p.q_init;
    }
    return 0;
}

static int observe(agent *a, agent_actor *ac, const float *rewards, const uint8_t *terminated,
                   const float *next_obs) {
    actor_priv *pv = ac->priv;
    const int os = a->obs;
    const size_t kd = (size_t)a->p.k * os;
    for (int i = 0; i < ac->n; i++) {
        float *win = pv->win + i * kd, *nw = pv->before + i * kd;
        /* the next window: this one shifted by next_obs (same episode) */
        memcpy(nw, win, sizeof(float) * kd);
        agent_window_push(nw, next_obs + (size_t)i * os, a->p.k, os, 0);
        int rc = qtab_update(a, win, pv->act[i], rewards[i], terminated[i], nw);
        if (rc < 0) return rc;
    }
    return 0;
}

const agent_ops qtable_ops = {.init = init, .q_values = q_values, .observe = observe};
