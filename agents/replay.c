/* replay.c — one store for both replays: steps of the n rows of a vector,
 * slot by slot, in a ring. The transition replay (dqn) reads a window of k
 * observations and an n-step return around one step; the sequence replay
 * (drqn) reads a run of steps of one row with burn-in and lookahead. Both are
 * assembled at sampling time from the stored observations (never stored k
 * times) and stop at episode starts, which are flagged per step. An actor's
 * own window of its last k observations (agent_window_push) is kept the same
 * way. */
#include <stdlib.h>
#include <string.h>
#include "agents/agent_internal.h"

agent_replay *agent_replay_alloc(int n, int obs_size, int state_size, long capacity) {
    if (n < 1 || obs_size < 1 || state_size < 0 || capacity < 1) {
        rql_set_error(AGENT_EINVAL, "replay: n %d, obs_size %d, state_size %d, capacity %ld", n, obs_size,
                        state_size, capacity);
        return NULL;
    }
    agent_replay *r = calloc(1, sizeof *r);
    if (!r) goto nomem;
    r->n = n;
    r->obs_size = obs_size;
    r->state_size = state_size;
    /* at least two slots, so a step and its successor are both held */
    r->nslots = capacity / n < 2 ? 2 : capacity / n;
    size_t cells = (size_t)r->nslots * n;
    /* zeroed: checkpoints save whole buffers, slots not yet written and the
     * final observations of steps that did not end included, and malloc'd
     * memory would carry whatever the heap held (it differed between 1 and
     * 2 OpenMP threads) */
    r->obs = calloc(cells * obs_size, sizeof(float));
    r->fin = calloc(cells * obs_size, sizeof(float));
    r->rew = calloc(cells, sizeof(float));
    r->act = calloc(cells, sizeof(int32_t));
    r->flags = calloc(cells, 1);
    if (state_size) r->state = calloc(cells * state_size, sizeof(float));
    if (!r->obs || !r->fin || !r->rew || !r->act || !r->flags || (state_size && !r->state)) goto nomem;
    return r;
nomem:
    agent_replay_free(r);
    rql_set_error(AGENT_ENOMEM, "replay: out of memory for capacity %ld (%d rows of %d floats)", capacity, n,
                    obs_size);
    return NULL;
}

void agent_replay_free(agent_replay *r) {
    if (!r) return;
    free(r->obs); free(r->fin); free(r->rew); free(r->act); free(r->flags); free(r->state);
    free(r);
}

static inline size_t cell(const agent_replay *r, long u, int row) {
    return (size_t)(u % r->nslots) * r->n + row;
}
static inline uint8_t flags_at(const agent_replay *r, long u, int row) { return r->flags[cell(r, u, row)]; }

long agent_replay_lo(const agent_replay *r) { return r->head > r->nslots ? r->head - r->nslots : 0; }

int agent_replay_add(agent_replay *r, const float *obs, const int *act, const float *rew, const uint8_t *term,
                     const uint8_t *trunc, const uint8_t *start, const float *final_obs, const float *state) {
    const int n = r->n, os = r->obs_size;
    size_t c0 = cell(r, r->head, 0);
    memcpy(r->obs + c0 * os, obs, sizeof(float) * n * os);
    for (int i = 0; i < n; i++) {
        size_t c = c0 + i;
        r->act[c] = act[i];
        r->rew[c] = rew[i];
        r->flags[c] = (uint8_t)((term[i] ? REPLAY_TERM : 0) | (trunc[i] ? REPLAY_TRUNC : 0) |
                                (start[i] ? REPLAY_START : 0));
        if (term[i] || trunc[i]) memcpy(r->fin + c * os, final_obs + (size_t)i * os, sizeof(float) * os);
    }
    if (r->state) {
        if (!state) return rql_set_error(AGENT_EINVAL, "replay: this replay stores states, none given");
        memcpy(r->state + c0 * r->state_size, state, sizeof(float) * n * r->state_size);
    }
    r->head++;
    return 0;
}

int agent_replay_window(const agent_replay *r, long u, int row, int k, int with_final, float *out) {
    const int os = r->obs_size;
    long lo = agent_replay_lo(r);
    if (u < lo || u >= r->head) return -1;
    int pos = k - 1;
    if (with_final) memcpy(out + (size_t)pos-- * os, r->fin + cell(r, u, row) * os, sizeof(float) * os);
    for (long v = u; pos >= 0; v--) {
        if (v < lo) return -1;          /* the episode began before what is held */
        memcpy(out + (size_t)pos-- * os, r->obs + cell(r, v, row) * os, sizeof(float) * os);
        if (flags_at(r, v, row) & REPLAY_START) break;
    }
    if (pos >= 0) memset(out, 0, sizeof(float) * (size_t)(pos + 1) * os);
    return 0;
}

int agent_replay_transition(const agent_replay *r, long u, int row, int k, int n, float gamma, float *x,
                            int *a, float *ret, float *disc, float *xn) {
    if (u < agent_replay_lo(r)) return -1;
    float R = 0, g = 1;
    long v = u;
    for (int j = 0; j < n; j++, v++) {
        if (v >= r->head) return -1;                                  /* not yet observed */
        uint8_t f = flags_at(r, v, row);
        if (j > 0 && (f & REPLAY_START)) return -1;                   /* cut without an end flag */
        R += g * r->rew[cell(r, v, row)];
        g *= gamma;
        if (f & (REPLAY_TERM | REPLAY_TRUNC)) {
            /* terminated: no bootstrap; truncated: bootstrap from the final obs */
            *disc = (f & REPLAY_TERM) ? 0.0f : g;
            if (agent_replay_window(r, v, row, k, 1, xn) < 0) return -1;
            goto done;
        }
    }
    if (v >= r->head || (flags_at(r, v, row) & REPLAY_START)) return -1;
    *disc = g;
    if (agent_replay_window(r, v, row, k, 0, xn) < 0) return -1;
done:
    if (agent_replay_window(r, u, row, k, 0, x) < 0) return -1;
    *a = r->act[cell(r, u, row)];
    *ret = R;
    return 0;
}

int agent_replay_plan(const agent_replay *r, long u, int row, int max_train, int burn_in, int n_step,
                      agent_seq *s) {
    long lo = agent_replay_lo(r);
    if (u < lo || u >= r->head) return -1;
    memset(s, 0, sizeof *s);
    s->row = row;
    long p0 = u;
    while (s->burn < burn_in && !(flags_at(r, p0, row) & REPLAY_START) && p0 - 1 >= lo) {
        p0--;
        s->burn++;
    }
    s->p0 = p0;
    s->at_start = (flags_at(r, p0, row) & REPLAY_START) != 0;
    long v = u;
    int ended = 0;
    for (; s->train < max_train && v < r->head; v++) {
        if (v > u && (flags_at(r, v, row) & REPLAY_START)) break;
        s->train++;
        if (flags_at(r, v, row) & (REPLAY_TERM | REPLAY_TRUNC)) { ended = 1; v++; break; }
    }
    for (; !ended && s->look < n_step && v < r->head; v++) {
        if (flags_at(r, v, row) & REPLAY_START) break;
        s->look++;
        if (flags_at(r, v, row) & (REPLAY_TERM | REPLAY_TRUNC)) ended = 1;
    }
    s->has_final = ended;
    return 0;
}

int agent_seq_target(const agent_replay *r, const agent_seq *s, int i, int n, float gamma, float *ret,
                     float *disc, int *boot) {
    const long u = s->p0 + s->burn;
    const int held = s->train + s->look;   /* steps of the sequence after burn-in */
    float R = 0, g = 1;
    for (int j = 0; j < n; j++) {
        int t = i + j;
        if (t >= held) return -1;
        uint8_t f = flags_at(r, u + t, s->row);
        R += g * r->rew[cell(r, u + t, s->row)];
        g *= gamma;
        if (f & (REPLAY_TERM | REPLAY_TRUNC)) {
            *ret = R;
            *disc = (f & REPLAY_TERM) ? 0.0f : g;
            *boot = held;                  /* the appended final observation */
            return 0;
        }
    }
    if (i + n >= held) return -1;
    *ret = R;
    *disc = g;
    *boot = i + n;
    return 0;
}

void agent_window_push(float *win, const float *obs, int k, int os, int start) {
    size_t kd = (size_t)k * os;
    if (start) memset(win, 0, kd * sizeof(float));
    else memmove(win, win + os, (kd - os) * sizeof(float));
    memcpy(win + kd - os, obs, (size_t)os * sizeof(float));
}
