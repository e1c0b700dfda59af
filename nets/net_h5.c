/* net_h5 — a network's weights in an HDF5 group: one float32 dataset per
 * tensor of the tensor table, named and shaped as in a PyTorch state_dict
 * ("1.weight_ih_l0" [4H, I], ...), so h5py + torch.from_numpy loads them
 * into an nn.ModuleList with no reshuffling. Attributes on the group describe
 * the architecture: format "rql-net", input_size, layer_kinds
 * ("dense,lstm,dense"), layer_units, layer_acts, learn_h0 and gate_order (the
 * gate orders of the recurrent layers, comma-joined: "ifgo" lstm and
 * peephole, "rzn" gru, "h" rnn, "zh" mingru, "ri" lru: real, imaginary);
 * each recurrent weight dataset carries its own gate_order too.
 * optim_save_h5 / optim_load_h5 do the same for an optimizer's moments, so
 * that HDF5 stays in this one file of nets/ (declared in net_h5.h).
 * Strings are variable-length UTF-8 as h5py writes them. HDF5's automatic
 * error printing is suspended around every call: library code never prints. */
#include <stdio.h>
#include <stdlib.h>
#include "nets/net_h5.h"
#include "nets/nets_internal.h"

static const char *kind_str(layer_kind k) { return layer_kind_str(k); }
static const char *gate_str(layer_kind k) { return layer_gate_order(k); }
static const char *act_str(act_kind a) {
    return a == ACT_RELU ? "relu" : a == ACT_TANH ? "tanh" : "none";
}

static void group_name(hid_t g, char *buf, size_t n) {
    ssize_t k = -1;
    H5E_BEGIN_TRY { k = H5Iget_name(g, buf, n); } H5E_END_TRY;
    if (k <= 0) snprintf(buf, n, "(unnamed group)");
}

/* "group/tensor" for messages, without a double slash under the root */
static const char *path_of(char *buf, size_t n, const char *gname, const char *tname) {
    size_t k = strlen(gname);
    snprintf(buf, n, "%s%s%s", gname, k && gname[k - 1] == '/' ? "" : "/", tname);
    return buf;
}

static int attr_write(hid_t obj, const char *name, hid_t ftype, hid_t mtype, int ndim,
                      hsize_t count, const void *data) {
    int ok = 0;
    H5E_BEGIN_TRY {
        if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
        hid_t sp = ndim ? H5Screate_simple(1, &count, NULL) : H5Screate(H5S_SCALAR);
        hid_t a = sp >= 0 ? H5Acreate2(obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT) : -1;
        ok = a >= 0 && H5Awrite(a, mtype, data) >= 0;
        if (a >= 0) H5Aclose(a);
        if (sp >= 0) H5Sclose(sp);
    } H5E_END_TRY;
    return ok ? 0 : -1;
}

static int attr_str(hid_t obj, const char *name, const char *s) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    int rc = attr_write(obj, name, t, t, 0, 1, &s);
    H5Tclose(t);
    return rc;
}

int net_save_h5_attrs(const net *n, hid_t g) {
    if (!n) return rql_set_error(NETS_EINVAL, "net_save_h5: network is NULL");
    char gname[256];
    group_name(g, gname, sizeof gname);
    char kinds[512] = "", acts[512] = "", gates[512] = "";
    int units[256], h0[256], L = n->nlayers < 256 ? n->nlayers : 256;
    for (int l = 0; l < L; l++) {
        const net_layer *ly = &n->layers[l];
        size_t k = strlen(kinds), a = strlen(acts), q = strlen(gates);
        snprintf(kinds + k, sizeof kinds - k, "%s%s", l ? "," : "", kind_str(ly->kind));
        snprintf(acts + a, sizeof acts - a, "%s%s", l ? "," : "",
                 ly->kind == LAYER_DENSE ? act_str(ly->act) : "-");
        if (ly->kind != LAYER_DENSE)
            snprintf(gates + q, sizeof gates - q, "%s%s", q ? "," : "", gate_str(ly->kind));
        units[l] = ly->units;
        h0[l] = ly->learn_h0;
    }
    int in = n->in;
    if (attr_str(g, "format", "rql-net") || attr_str(g, "layer_kinds", kinds) ||
        attr_str(g, "layer_acts", acts) || attr_str(g, "gate_order", gates) ||
        attr_write(g, "input_size", H5T_STD_I32LE, H5T_NATIVE_INT, 0, 1, &in) ||
        attr_write(g, "layer_units", H5T_STD_I32LE, H5T_NATIVE_INT, 1, (hsize_t)L, units) ||
        attr_write(g, "learn_h0", H5T_STD_I32LE, H5T_NATIVE_INT, 1, (hsize_t)L, h0))
        return rql_set_error(NETS_EIO, "net_save_h5: cannot write the attributes of %s", gname);
    return 0;
}

int net_save_h5(const net *n, hid_t g) {
    if (!n) return rql_set_error(NETS_EINVAL, "net_save_h5: network is NULL");
    char gname[256], pbuf[320];
    group_name(g, gname, sizeof gname);
    for (int k = 0; k < n->ntensors; k++) {
        const net_tensor *t = &n->tensors[k];
        hsize_t dims[2] = {(hsize_t)t->shape[0], (hsize_t)t->shape[1]};
        int ok = 0;
        H5E_BEGIN_TRY {
            hid_t d = -1;
            if (H5Lexists(g, t->name, H5P_DEFAULT) > 0) {
                /* overwrite in place, but only a dataset of the same shape */
                d = H5Dopen2(g, t->name, H5P_DEFAULT);
                hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
                hsize_t fd[2] = {0, 0};
                int nd = sp >= 0 ? H5Sget_simple_extent_dims(sp, fd, NULL) : -1;
                if (sp >= 0) H5Sclose(sp);
                if (nd != t->ndim || fd[0] != dims[0] || (nd == 2 && fd[1] != dims[1])) {
                    if (d >= 0) H5Dclose(d);
                    d = -2;
                }
            } else {
                hid_t sp = H5Screate_simple(t->ndim, dims, NULL);
                d = sp >= 0 ? H5Dcreate2(g, t->name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                                         H5P_DEFAULT) : -1;
                if (sp >= 0) H5Sclose(sp);
            }
            if (d == -2) {
                ok = -2;
            } else if (d >= 0) {
                ok = H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                              n->params + t->off) >= 0;
                if (ok && n->layers[t->layer].kind != LAYER_DENSE && strstr(t->name, "weight_"))
                    ok = attr_str(d, "gate_order", gate_str(n->layers[t->layer].kind)) == 0;
                H5Dclose(d);
            }
        } H5E_END_TRY;
        if (ok == -2)
            return rql_set_error(NETS_ESHAPE, "net_save_h5: %s exists with another shape",
                                  path_of(pbuf, sizeof pbuf, gname, t->name));
        if (!ok) return rql_set_error(NETS_EIO, "net_save_h5: cannot write %s",
                                 path_of(pbuf, sizeof pbuf, gname, t->name));
    }
    return net_save_h5_attrs(n, g);
}

/* H5Literate callback: the first dataset whose name is not a tensor */
typedef struct { const net *n; char extra[256]; } extra_ctx;

static herr_t find_extra(hid_t g, const char *name, const H5L_info_t *info, void *op) {
    extra_ctx *c = op;
    H5O_info_t oi;
    if (H5Oget_info_by_name(g, name, &oi, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_DATASET) return 0;
    for (int k = 0; k < c->n->ntensors; k++)
        if (!strcmp(c->n->tensors[k].name, name)) return 0;
    snprintf(c->extra, sizeof c->extra, "%s", name);
    return 1;
}

static void shape_str(char *buf, size_t n, int ndim, const hsize_t *d) {
    if (ndim == 1) snprintf(buf, n, "[%llu]", (unsigned long long)d[0]);
    else if (ndim == 2) snprintf(buf, n, "[%llu, %llu]", (unsigned long long)d[0], (unsigned long long)d[1]);
    else snprintf(buf, n, "(%d dimensions)", ndim);
}

int net_load_h5(net *n, hid_t g) {
    if (!n) return rql_set_error(NETS_EINVAL, "net_load_h5: network is NULL");
    char gname[256], pbuf[320];
    group_name(g, gname, sizeof gname);
    /* check every name and shape before reading anything: a refused group
     * leaves the network as it was */
    for (int k = 0; k < n->ntensors; k++) {
        const net_tensor *t = &n->tensors[k];
        hsize_t want[2] = {(hsize_t)t->shape[0], (hsize_t)t->shape[1]}, got[32] = {0};
        int nd = -1, exists = 0;
        H5E_BEGIN_TRY {
            exists = H5Lexists(g, t->name, H5P_DEFAULT) > 0;
            hid_t d = exists ? H5Dopen2(g, t->name, H5P_DEFAULT) : -1;
            hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
            if (sp >= 0 && H5Sget_simple_extent_ndims(sp) <= 32)
                nd = H5Sget_simple_extent_dims(sp, got, NULL);
            if (sp >= 0) H5Sclose(sp);
            if (d >= 0) H5Dclose(d);
        } H5E_END_TRY;
        if (!exists)
            return rql_set_error(NETS_ESHAPE, "net_load_h5: %s has no tensor '%s' (the network "
                                  "has %d tensors; was it saved from another architecture?)",
                                  gname, t->name, n->ntensors);
        if (nd < 0)
            return rql_set_error(NETS_EIO, "net_load_h5: cannot read the shape of %s",
                                  path_of(pbuf, sizeof pbuf, gname, t->name));
        if (nd != t->ndim || got[0] != want[0] || (nd == 2 && got[1] != want[1])) {
            char a[64], b[64];
            shape_str(a, sizeof a, nd, got);
            shape_str(b, sizeof b, t->ndim, want);
            return rql_set_error(NETS_ESHAPE, "net_load_h5: tensor '%s' in %s has shape %s, the "
                                  "network expects %s", t->name, gname, a, b);
        }
    }
    extra_ctx c = {n, ""};
    herr_t it = 0;
    H5E_BEGIN_TRY { it = H5Literate(g, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, find_extra, &c); } H5E_END_TRY;
    if (it < 0) return rql_set_error(NETS_EIO, "net_load_h5: cannot list %s", gname);
    if (it > 0)
        return rql_set_error(NETS_ESHAPE, "net_load_h5: %s holds a tensor '%s' that the network "
                              "does not have", gname, c.extra);
    for (int k = 0; k < n->ntensors; k++) {
        const net_tensor *t = &n->tensors[k];
        int ok = 0;
        H5E_BEGIN_TRY {
            hid_t d = H5Dopen2(g, t->name, H5P_DEFAULT);
            if (d >= 0) {
                ok = H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, n->params + t->off) >= 0;
                H5Dclose(d);
            }
        } H5E_END_TRY;
        if (!ok) return rql_set_error(NETS_EIO, "net_load_h5: cannot read %s",
                                 path_of(pbuf, sizeof pbuf, gname, t->name));
    }
    return 0;
}

/* ---- optimizer state ------------------------------------------------------- */
static const char *opt_str(opt_kind k) {
    return k == OPT_SGD ? "sgd" : k == OPT_RMSPROP ? "rmsprop" : "adam";
}

/* Writes (or overwrites, same length required) a 1-D float32 dataset. */
static int vec_write(hid_t g, const char *name, const float *v, size_t n) {
    int ok = 0;
    hsize_t dim = n;
    H5E_BEGIN_TRY {
        hid_t d = -1;
        if (H5Lexists(g, name, H5P_DEFAULT) > 0) {
            d = H5Dopen2(g, name, H5P_DEFAULT);
            hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
            hsize_t fd = 0;
            int nd = sp >= 0 ? H5Sget_simple_extent_dims(sp, &fd, NULL) : -1;
            if (sp >= 0) H5Sclose(sp);
            if (nd != 1 || fd != dim) { if (d >= 0) H5Dclose(d); d = -1; }
        } else {
            hid_t sp = H5Screate_simple(1, &dim, NULL);
            d = sp >= 0 ? H5Dcreate2(g, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                                     H5P_DEFAULT) : -1;
            if (sp >= 0) H5Sclose(sp);
        }
        if (d >= 0) {
            ok = H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
            H5Dclose(d);
        }
    } H5E_END_TRY;
    return ok ? 0 : -1;
}

int optim_save_h5(const optim *o, hid_t g) {
    if (!o) return rql_set_error(NETS_EINVAL, "optim_save_h5: optimizer is NULL");
    char gname[256];
    group_name(g, gname, sizeof gname);
    long long n = (long long)o->n, t = o->t;
    float hp[7] = {o->lr, o->momentum, o->alpha, o->beta1, o->beta2, o->eps, o->weight_decay};
    const char *hpn[7] = {"lr", "momentum", "alpha", "beta1", "beta2", "eps", "weight_decay"};
    if ((o->m && vec_write(g, "m", o->m, o->n)) || (o->v && vec_write(g, "v", o->v, o->n)))
        return rql_set_error(NETS_EIO, "optim_save_h5: cannot write the moments in %s", gname);
    int bad = attr_str(g, "kind", opt_str(o->kind)) ||
              attr_write(g, "n", H5T_STD_I64LE, H5T_NATIVE_LLONG, 0, 1, &n) ||
              attr_write(g, "t", H5T_STD_I64LE, H5T_NATIVE_LLONG, 0, 1, &t);
    for (int k = 0; k < 7 && !bad; k++)
        bad = attr_write(g, hpn[k], H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 0, 1, &hp[k]);
    if (bad) return rql_set_error(NETS_EIO, "optim_save_h5: cannot write the attributes of %s", gname);
    return 0;
}

static int attr_read(hid_t g, const char *name, hid_t mtype, void *out) {
    int ok = 0;
    H5E_BEGIN_TRY {
        hid_t a = H5Aexists(g, name) > 0 ? H5Aopen(g, name, H5P_DEFAULT) : -1;
        if (a >= 0) {
            ok = H5Aread(a, mtype, out) >= 0;
            H5Aclose(a);
        }
    } H5E_END_TRY;
    return ok ? 0 : -1;
}

static int vec_read(hid_t g, const char *name, float *v, size_t n, const char *gname) {
    int nd = -1, ok = 0;
    hsize_t dim = 0;
    H5E_BEGIN_TRY {
        hid_t d = H5Lexists(g, name, H5P_DEFAULT) > 0 ? H5Dopen2(g, name, H5P_DEFAULT) : -1;
        hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
        if (sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1) nd = H5Sget_simple_extent_dims(sp, &dim, NULL);
        if (sp >= 0) H5Sclose(sp);
        if (nd == 1 && dim == n)   /* v == NULL: only check the shape */
            ok = !v || H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
        if (d >= 0) H5Dclose(d);
    } H5E_END_TRY;
    if (nd == 1 && dim != n)
        return rql_set_error(NETS_ESHAPE, "optim_load_h5: %s/%s has %llu values, the optimizer %zu",
                              gname, name, (unsigned long long)dim, n);
    if (!ok) return rql_set_error(NETS_EIO, "optim_load_h5: cannot read %s/%s", gname, name);
    return 0;
}

int optim_load_h5(optim *o, hid_t g) {
    if (!o) return rql_set_error(NETS_EINVAL, "optim_load_h5: optimizer is NULL");
    char gname[256], *kind = NULL;
    group_name(g, gname, sizeof gname);
    long long n = -1, t = -1;
    int rc = -1;
    H5E_BEGIN_TRY {   /* read with the file's own string type (UTF-8 or ASCII) */
        hid_t a = H5Aexists(g, "kind") > 0 ? H5Aopen(g, "kind", H5P_DEFAULT) : -1;
        hid_t ty = a >= 0 ? H5Aget_type(a) : -1;
        if (ty >= 0 && H5Tis_variable_str(ty) > 0 && H5Aread(a, ty, &kind) >= 0) rc = 0;
        if (ty >= 0) H5Tclose(ty);
        if (a >= 0) H5Aclose(a);
    } H5E_END_TRY;
    if (rc || attr_read(g, "n", H5T_NATIVE_LLONG, &n) || attr_read(g, "t", H5T_NATIVE_LLONG, &t)) {
        if (kind) H5free_memory(kind);
        return rql_set_error(NETS_EIO, "optim_load_h5: %s lacks the kind, n or t attribute", gname);
    }
    int same = !strcmp(kind, opt_str(o->kind));
    char kbuf[32];
    snprintf(kbuf, sizeof kbuf, "%s", kind);
    H5free_memory(kind);
    if (!same)
        return rql_set_error(NETS_ESHAPE, "optim_load_h5: %s holds %s state, the optimizer is %s",
                              gname, kbuf, opt_str(o->kind));
    if (n != (long long)o->n)
        return rql_set_error(NETS_ESHAPE, "optim_load_h5: %s is for %lld parameters, the optimizer "
                              "has %zu", gname, n, o->n);
    if (t < 0) return rql_set_error(NETS_EINVAL, "optim_load_h5: %s has step count t = %lld", gname, t);
    /* check both moments before reading either: a refusal changes nothing */
    if (o->m && (rc = vec_read(g, "m", NULL, o->n, gname))) return rc;
    if (o->v && (rc = vec_read(g, "v", NULL, o->n, gname))) return rc;
    if (o->m && (rc = vec_read(g, "m", o->m, o->n, gname))) return rc;
    if (o->v && (rc = vec_read(g, "v", o->v, o->n, gname))) return rc;
    o->t = (long)t;
    return 0;
}
