/* ckpt — atomic checkpoint files, and an agent's state in them (see ckpt.h). */
#define _GNU_SOURCE
#include "log/ckpt.h"
#include "nets/net_h5.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ckpt_begin(ckpt_writer *w, const char *path, char *err, size_t cap) {
    w->file = H5I_INVALID_HID;
    if (snprintf(w->path, sizeof w->path, "%s", path) >= (int)sizeof w->path ||
        snprintf(w->tmp, sizeof w->tmp, "%s.tmp", path) >= (int)sizeof w->tmp) {
        snprintf(err, cap, "%s: checkpoint path too long", path);
        return -1;
    }
    H5E_BEGIN_TRY { w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT); } H5E_END_TRY;
    if (w->file < 0) {
        snprintf(err, cap, "%s: cannot create checkpoint file", w->tmp);
        return -1;
    }
    if (ckpt_put_str(w->file, "format", CKPT_FORMAT) || ckpt_put_i64(w->file, "format_version", CKPT_VERSION)) {
        snprintf(err, cap, "%s: cannot write attributes", w->tmp);
        ckpt_abort(w);
        return -1;
    }
    return 0;
}

static int fsync_path(const char *path, int dir) {
    int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int ckpt_commit(ckpt_writer *w, char *err, size_t cap) {
    herr_t rc = H5Fclose(w->file);
    w->file = H5I_INVALID_HID;
    if (rc < 0) {
        snprintf(err, cap, "%s: closing the checkpoint failed", w->tmp);
        unlink(w->tmp);
        return -1;
    }
    /* Data on disk before the rename makes it visible: otherwise a power cut
     * could leave the new name pointing at an empty file. */
    if (fsync_path(w->tmp, 0)) {
        snprintf(err, cap, "%s: fsync: %s", w->tmp, strerror(errno));
        unlink(w->tmp);
        return -1;
    }
    if (rename(w->tmp, w->path)) {
        snprintf(err, cap, "%s -> %s: rename: %s", w->tmp, w->path, strerror(errno));
        unlink(w->tmp);
        return -1;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", w->path);
    fsync_path(dirname(dir), 1);   /* best effort: the rename itself is durable on most filesystems */
    return 0;
}

void ckpt_abort(ckpt_writer *w) {
    if (w->file >= 0) H5E_BEGIN_TRY { H5Fclose(w->file); } H5E_END_TRY;
    w->file = H5I_INVALID_HID;
    unlink(w->tmp);
}

hid_t ckpt_open(const char *path, char *err, size_t cap) {
    if (access(path, R_OK)) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    htri_t is;
    H5E_BEGIN_TRY { is = H5Fis_hdf5(path); } H5E_END_TRY;
    if (is <= 0) {
        snprintf(err, cap, "%s: not an HDF5 file", path);
        return -1;
    }
    hid_t f;
    H5E_BEGIN_TRY { f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT); } H5E_END_TRY;
    if (f < 0) {
        snprintf(err, cap, "%s: cannot open (damaged HDF5 file?)", path);
        return -1;
    }
    char *fmt = ckpt_get_str(f, "format");
    if (!fmt || strcmp(fmt, CKPT_FORMAT)) {
        snprintf(err, cap, "%s: not an rql checkpoint (format attribute is %s%s%s)", path,
                 fmt ? "'" : "", fmt ? fmt : "missing", fmt ? "'" : "");
        free(fmt);
        H5Fclose(f);
        return -1;
    }
    free(fmt);
    int64_t v = 0;
    if (ckpt_get_i64(f, "format_version", &v) || v != CKPT_VERSION) {
        snprintf(err, cap, "%s: checkpoint format version %lld, this rql reads %d", path, (long long)v,
                 CKPT_VERSION);
        H5Fclose(f);
        return -1;
    }
    return f;
}

int ckpt_put_bytes(hid_t loc, const char *name, const void *buf, size_t n) {
    hsize_t dims[1] = {n};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    if (sp < 0) return -1;
    hid_t d = H5Dcreate2(loc, name, H5T_NATIVE_UINT8, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = d < 0 || (n && H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) ? -1 : 0;
    if (d >= 0) H5Dclose(d);
    H5Sclose(sp);
    return rc;
}

int ckpt_get_bytes(hid_t loc, const char *name, void *buf, size_t n) {
    hid_t d;
    H5E_BEGIN_TRY { d = H5Dopen2(loc, name, H5P_DEFAULT); } H5E_END_TRY;
    if (d < 0) return -1;
    hid_t sp = H5Dget_space(d);
    hssize_t got = H5Sget_simple_extent_npoints(sp);
    int rc = got != (hssize_t)n ? -1 : 0;
    if (!rc && n && H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) rc = -1;
    H5Sclose(sp);
    H5Dclose(d);
    return rc;
}

static int put_attr(hid_t obj, const char *name, hid_t type, const void *v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a;
    H5E_BEGIN_TRY {
        if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
        a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    } H5E_END_TRY;
    int rc = a < 0 || H5Awrite(a, type, v) < 0 ? -1 : 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return rc;
}

static int get_attr(hid_t obj, const char *name, hid_t type, void *v) {
    hid_t a;
    H5E_BEGIN_TRY { a = H5Aexists(obj, name) > 0 ? H5Aopen(obj, name, H5P_DEFAULT) : -1; } H5E_END_TRY;
    if (a < 0) return -1;
    int rc = H5Aread(a, type, v) < 0 ? -1 : 0;
    H5Aclose(a);
    return rc;
}

int ckpt_put_i64(hid_t obj, const char *name, int64_t v) { return put_attr(obj, name, H5T_NATIVE_INT64, &v); }
int ckpt_get_i64(hid_t obj, const char *name, int64_t *v) { return get_attr(obj, name, H5T_NATIVE_INT64, v); }
int ckpt_put_f64(hid_t obj, const char *name, double v) { return put_attr(obj, name, H5T_NATIVE_DOUBLE, &v); }
int ckpt_get_f64(hid_t obj, const char *name, double *v) { return get_attr(obj, name, H5T_NATIVE_DOUBLE, v); }

int ckpt_put_str(hid_t obj, const char *name, const char *s) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    int rc = put_attr(obj, name, t, &s);
    H5Tclose(t);
    return rc;
}

char *ckpt_get_str(hid_t obj, const char *name) {
    hid_t a;
    H5E_BEGIN_TRY { a = H5Aexists(obj, name) > 0 ? H5Aopen(obj, name, H5P_DEFAULT) : -1; } H5E_END_TRY;
    if (a < 0) return NULL;
    hid_t ft = H5Aget_type(a);
    char *out = NULL;
    if (H5Tget_class(ft) == H5T_STRING) {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        H5Tset_cset(t, H5Tget_cset(ft));
        char *s = NULL;
        if (H5Tis_variable_str(ft) > 0) {
            if (H5Aread(a, t, &s) >= 0 && s) {
                out = strdup(s);
                hid_t sp = H5Aget_space(a);
                H5Dvlen_reclaim(t, sp, H5P_DEFAULT, &s);
                H5Sclose(sp);
            }
        } else {
            size_t n = H5Tget_size(ft);
            hid_t ct = H5Tcopy(H5T_C_S1);
            H5Tset_size(ct, n + 1);
            out = calloc(1, n + 1);
            if (out && H5Aread(a, ct, out) < 0) { free(out); out = NULL; }
            H5Tclose(ct);
        }
        H5Tclose(t);
    }
    H5Tclose(ft);
    H5Aclose(a);
    return out;
}

/* ---- an agent's state table -------------------------------------------------- */
static hid_t buf_type(agent_buf_type t) {
    switch (t) {
    case AGENT_BUF_U8: return H5T_NATIVE_UINT8;
    case AGENT_BUF_I32: return H5T_NATIVE_INT32;
    case AGENT_BUF_I64: return H5T_NATIVE_INT64;
    case AGENT_BUF_F32: return H5T_NATIVE_FLOAT;
    case AGENT_BUF_F64: return H5T_NATIVE_DOUBLE;
    default: return H5I_INVALID_HID;
    }
}

/* A network: a subgroup written or read by nets' weight I/O. */
static int net_io(hid_t g, const agent_buf *b, int save) {
    hid_t ng = H5I_INVALID_HID;
    H5E_BEGIN_TRY {
        ng = H5Lexists(g, b->name, H5P_DEFAULT) > 0 ? H5Gopen2(g, b->name, H5P_DEFAULT)
             : save ? H5Gcreate2(g, b->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : H5I_INVALID_HID;
    } H5E_END_TRY;
    if (ng < 0) return rql_set_error(RQL_EIO, "agent %s: group %s missing", save ? "save" : "load", b->name);
    int rc = save ? net_save_h5(b->ptr, ng) : net_load_h5(b->ptr, ng);
    H5Gclose(ng);
    return rc < 0 ? rql_set_error(RQL_EIO, "agent %s weights: %s", save ? "save" : "load", rql_error()) : 0;
}

static int put_buf(hid_t g, const agent_buf *b) {
    if (b->type == AGENT_BUF_NET) return net_io(g, b, 1);
    hid_t type = buf_type(b->type);
    if (H5Lexists(g, b->name, H5P_DEFAULT) > 0) H5Ldelete(g, b->name, H5P_DEFAULT);
    hsize_t dim = b->count;
    hid_t sp = H5Screate_simple(1, &dim, NULL);
    hid_t d = sp < 0 ? -1 : H5Dcreate2(g, b->name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t w = d < 0 ? -1 : b->count ? H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, b->ptr) : 0;
    if (d >= 0) H5Dclose(d);
    if (sp >= 0) H5Sclose(sp);
    return w < 0 ? rql_set_error(RQL_EIO, "agent_save: cannot write dataset '%s' (%zu values)", b->name, b->count)
                 : 0;
}

static int get_buf(hid_t g, const agent_buf *b) {
    if (b->type == AGENT_BUF_NET) return net_io(g, b, 0);
    if (H5Lexists(g, b->name, H5P_DEFAULT) <= 0)
        return rql_set_error(RQL_EIO, "agent_load: dataset '%s' is missing", b->name);
    hid_t d = H5Dopen2(g, b->name, H5P_DEFAULT);
    hid_t sp = d < 0 ? -1 : H5Dget_space(d);
    hssize_t have = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    int rc = 0;
    if (have != (hssize_t)b->count)
        rc = rql_set_error(RQL_EIO, "agent_load: dataset '%s' holds %lld values, this agent needs %zu", b->name,
                           (long long)have, b->count);
    else if (b->count && H5Dread(d, buf_type(b->type), H5S_ALL, H5S_ALL, H5P_DEFAULT, b->ptr) < 0)
        rc = rql_set_error(RQL_EIO, "agent_load: cannot read dataset '%s'", b->name);
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
    return rc;
}

int ckpt_put_agent(hid_t g, agent *a, agent_actor *train_actor) {
    if (!a || g < 0) return rql_set_error(RQL_EINVAL, "agent_save: agent is NULL or group invalid");
    agent_buf t[AGENT_STATE_MAX];
    int n = agent_state_table(a, train_actor, t, AGENT_STATE_MAX);
    if (n < 0) return n;
    for (int i = 0; i < n; i++) {
        int rc = put_buf(g, &t[i]);
        if (rc < 0) return rc;
    }
    return 0;
}

int ckpt_get_agent(hid_t g, agent *a, agent_actor *train_actor) {
    if (!a || g < 0) return rql_set_error(RQL_EINVAL, "agent_load: agent is NULL or group invalid");
    agent_buf t[AGENT_STATE_MAX];
    for (int s = 0; s < AGENT_STATE_STAGES; s++) {
        int n = agent_state_table(a, train_actor, t, AGENT_STATE_MAX);
        if (n < 0) return n;
        for (int i = 0; i < n; i++) {
            if (t[i].stage != s) continue;
            int rc = get_buf(g, &t[i]);
            if (rc < 0) return rc;
        }
        int rc = agent_state_restore(a, train_actor, s);
        if (rc < 0) return rc;
    }
    return 0;
}
