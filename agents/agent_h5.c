/* agent_h5.c — everything an agent needs to resume exactly, in one HDF5
 * group: the online and target weights (net_save_h5, PyTorch names), Adam's
 * moments and step count, the replay's filled slots, the qtable's arrays,
 * counters, the RNG state (gsl_rng_state bytes) and the training actor's
 * rows. Plain 1-D datasets, so a checkpoint can be read with h5py too.
 * Loading checks every shape against the agent it loads into and refuses,
 * naming the dataset, when they differ. */
#include <string.h>
#include "agents/agent_internal.h"

static int put(hid_t g, const char *name, hid_t type, const void *buf, size_t n) {
    if (H5Lexists(g, name, H5P_DEFAULT) > 0) H5Ldelete(g, name, H5P_DEFAULT);
    hsize_t dim = n;
    hid_t sp = H5Screate_simple(1, &dim, NULL);
    hid_t d = sp < 0 ? -1 : H5Dcreate2(g, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t w = d < 0 ? -1 : n ? H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) : 0;
    if (d >= 0) H5Dclose(d);
    if (sp >= 0) H5Sclose(sp);
    return w < 0 ? rql_set_error(AGENT_EIO, "agent_save: cannot write dataset '%s' (%zu values)", name, n) : 0;
}

static int get(hid_t g, const char *name, hid_t type, void *buf, size_t n) {
    if (H5Lexists(g, name, H5P_DEFAULT) <= 0)
        return rql_set_error(AGENT_EIO, "agent_load: dataset '%s' is missing", name);
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    hid_t sp = d < 0 ? -1 : H5Dget_space(d);
    hssize_t have = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    int rc = 0;
    if (have != (hssize_t)n)
        rc = rql_set_error(AGENT_EIO, "agent_load: dataset '%s' holds %lld values, this agent needs %zu", name,
                             (long long)have, n);
    else if (n && H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        rc = rql_set_error(AGENT_EIO, "agent_load: cannot read dataset '%s'", name);
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
    return rc;
}

static hid_t subgroup(hid_t g, const char *name, int create) {
    if (H5Lexists(g, name, H5P_DEFAULT) > 0) return H5Gopen2(g, name, H5P_DEFAULT);
    return create ? H5Gcreate2(g, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
}

/* The shape of what is saved; a load into a differently built agent fails. */
static void meta_of(const agent *a, const agent_actor *ac, int64_t *m) {
    m[0] = a->p.type; m[1] = a->obs; m[2] = a->A; m[3] = a->n_envs; m[4] = a->p.k; m[5] = a->S;
    m[6] = ac ? ac->n : 0; m[7] = a->online ? (int64_t)a->online->nparams : 0;
    m[8] = a->rp ? a->rp->nslots : 0; m[9] = a->rp ? a->rp->state_size : 0; m[10] = a->tab.kd;
}
#define NMETA 11

/* Both directions walk the same list, so save and load cannot drift apart. */
static int walk(agent *a, agent_actor *ac, hid_t g, int save) {
#define IO(name, type, ptr, n)                                                                   \
    do {                                                                                         \
        int rc_ = save ? put(g, name, type, ptr, n) : get(g, name, type, ptr, n);                \
        if (rc_ < 0) return rc_;                                                                 \
    } while (0)
    int64_t cnt[3] = {a->env_steps, a->updates, a->rp ? a->rp->head : 0};
    IO("counters", H5T_NATIVE_INT64, cnt, 3);
    a->env_steps = cnt[0];
    a->updates = cnt[1];
    IO("credit", H5T_NATIVE_DOUBLE, &a->credit, 1);
    float st[3] = {a->loss, a->q_mean, a->grad_norm};
    IO("last_stats", H5T_NATIVE_FLOAT, st, 3);
    a->loss = st[0]; a->q_mean = st[1]; a->grad_norm = st[2];
    IO("rng", H5T_NATIVE_UINT8, gsl_rng_state(a->rng), gsl_rng_size(a->rng));
    if (a->p.eps_episodes > 0) {
        int64_t e = a->episodes;
        IO("episodes", H5T_NATIVE_INT64, &e, 1);
        a->episodes = e;
    }
    if (a->prio) {
        /* the leaves; the sums above them are rebuilt bit for bit (sumtree.h) */
        int64_t h = a->prio_head;
        IO("priority_head", H5T_NATIVE_INT64, &h, 1);
        a->prio_head = h;
        IO("priority_max", H5T_NATIVE_DOUBLE, &a->prio->max_prio, 1);
        IO("priority_leaves", H5T_NATIVE_DOUBLE, (double *)sumtree_leaves(a->prio->tree), a->prio->tree->n);
        if (!save && sumtree_rebuild(a->prio->tree, sumtree_leaves(a->prio->tree)) < 0)
            return rql_set_error(AGENT_EIO, "agent_load: priority_leaves: %s", rql_error());
    }
    if (a->online) {
        hid_t on = subgroup(g, "online", save), tg = subgroup(g, "target", save);
        int rc = on < 0 || tg < 0 ? rql_set_error(AGENT_EIO, "agent %s: group online/target missing",
                                                   save ? "save" : "load")
                 : save ? (net_save_h5(a->online, on) < 0 || net_save_h5(a->target, tg) < 0 ? -1 : 0)
                        : (net_load_h5(a->online, on) < 0 || net_load_h5(a->target, tg) < 0 ? -1 : 0);
        if (on >= 0) H5Gclose(on);
        if (tg >= 0) H5Gclose(tg);
        if (rc == -1) return rql_set_error(AGENT_EIO, "agent %s weights: %s", save ? "save" : "load", rql_error());
        if (rc < 0) return rc;
        /* named as torch.optim's state: Adam exp_avg / exp_avg_sq (kept as
         * adam_m / adam_v), SGD momentum_buffer, RMSProp square_avg (and
         * momentum_buffer); a checkpoint of another optimizer is refused as a
         * missing dataset */
        optim *o = a->opt;
        int64_t t = o->t;
        if (o->kind == OPT_ADAM) {
            IO("adam_t", H5T_NATIVE_INT64, &t, 1);
            IO("adam_m", H5T_NATIVE_FLOAT, o->m, o->n);
            IO("adam_v", H5T_NATIVE_FLOAT, o->v, o->n);
        } else {
            const char *kn = o->kind == OPT_SGD ? "sgd" : "rmsprop";
            char name[48];
            snprintf(name, sizeof name, "%s_t", kn);
            IO(name, H5T_NATIVE_INT64, &t, 1);
            if (o->m) { snprintf(name, sizeof name, "%s_momentum_buffer", kn); IO(name, H5T_NATIVE_FLOAT, o->m, o->n); }
            if (o->v) { snprintf(name, sizeof name, "%s_square_avg", kn); IO(name, H5T_NATIVE_FLOAT, o->v, o->n); }
        }
        o->t = t;
    }
    if (a->rp) {
        agent_replay *r = a->rp;
        r->head = cnt[2];
        size_t filled = (size_t)(r->head < r->nslots ? r->head : r->nslots) * r->n;
        IO("replay_obs", H5T_NATIVE_FLOAT, r->obs, filled * r->obs_size);
        IO("replay_final_obs", H5T_NATIVE_FLOAT, r->fin, filled * r->obs_size);
        IO("replay_rewards", H5T_NATIVE_FLOAT, r->rew, filled);
        IO("replay_actions", H5T_NATIVE_INT32, r->act, filled);
        IO("replay_flags", H5T_NATIVE_UINT8, r->flags, filled);
        if (r->state) IO("replay_states", H5T_NATIVE_FLOAT, r->state, filled * r->state_size);
    }
    if (a->tab.keys) {
        /* the table grows as it fills: a load rebuilds it at the saved size */
        int64_t cap = a->tab.cap;
        IO("qtable_cap", H5T_NATIVE_INT64, &cap, 1);
        if (!save && cap != a->tab.cap) {
            if (cap < 16 || (cap & (cap - 1)))
                return rql_set_error(AGENT_EIO, "agent_load: qtable_cap = %lld is not a power of 2 >= 16",
                                       (long long)cap);
            int kd = a->tab.kd;
            qtab_free(&a->tab);
            if (qtab_init(&a->tab, kd, a->A, (long)cap) < 0) return AGENT_ENOMEM;
        }
        int64_t c = a->tab.count;
        IO("qtable_count", H5T_NATIVE_INT64, &c, 1);
        a->tab.count = c;
        IO("qtable_keys", H5T_NATIVE_FLOAT, a->tab.keys, (size_t)a->tab.cap * a->tab.kd);
        IO("qtable_q", H5T_NATIVE_FLOAT, a->tab.q, (size_t)a->tab.cap * a->A);
        IO("qtable_used", H5T_NATIVE_UINT8, a->tab.used, (size_t)a->tab.cap);
    }
    if (ac) {
        actor_priv *pv = ac->priv;
        size_t n = (size_t)ac->n, kd = (size_t)a->p.k * a->obs;
        int32_t acted = pv->acted;
        IO("actor_acted", H5T_NATIVE_INT32, &acted, 1);
        pv->acted = acted;
        IO("actor_obs", H5T_NATIVE_FLOAT, pv->obs, n * a->obs);
        IO("actor_actions", H5T_NATIVE_INT32, pv->act, n);
        IO("actor_start", H5T_NATIVE_UINT8, pv->start, n);
        IO("actor_q", H5T_NATIVE_FLOAT, ac->q, n * a->A);
        if (pv->state) {
            IO("actor_state", H5T_NATIVE_FLOAT, pv->state, n * a->S);
            IO("actor_state_before", H5T_NATIVE_FLOAT, pv->before, n * a->S);
            IO("actor_hidden", H5T_NATIVE_FLOAT, ac->hidden, n * a->H);
            if (ac->cell) IO("actor_cell", H5T_NATIVE_FLOAT, ac->cell, n * a->H);
        } else {
            IO("actor_window", H5T_NATIVE_FLOAT, pv->win, n * kd);
        }
    }
    return 0;
#undef IO
}

int agent_save(const agent *a, const agent_actor *train_actor, hid_t g) {
    if (!a || g < 0) return rql_set_error(AGENT_EINVAL, "agent_save: agent is NULL or group invalid");
    int64_t m[NMETA];
    meta_of(a, train_actor, m);
    int rc = put(g, "agent_meta", H5T_NATIVE_INT64, m, NMETA);
    if (rc < 0) return rc;
    /* walk reads the fields it writes back: nothing changes on save */
    return walk((agent *)a, (agent_actor *)train_actor, g, 1);
}

int agent_load(agent *a, agent_actor *train_actor, hid_t g) {
    if (!a || g < 0) return rql_set_error(AGENT_EINVAL, "agent_load: agent is NULL or group invalid");
    static const char *what[NMETA] = {"agent type", "obs size", "actions", "n_envs", "window k", "state size",
                                      "actor rows", "network parameters", "replay slots", "stored state size",
                                      "qtable key size"};
    int64_t m[NMETA], have[NMETA];
    meta_of(a, train_actor, m);
    int rc = get(g, "agent_meta", H5T_NATIVE_INT64, have, NMETA);
    if (rc < 0) return rc;
    for (int i = 0; i < NMETA; i++)
        if (m[i] != have[i])
            return rql_set_error(AGENT_EINVAL, "agent_load: %s is %lld in the file, %lld in this agent", what[i],
                                   (long long)have[i], (long long)m[i]);
    return walk(a, train_actor, g, 0);
}
