/* rlog_write — the run log's writer: creation, reopening for resume or for
 * appending recorded episodes, buffered appends, flushes, the status at
 * close (see rlog.h for the design, docs/log-format.md for the schema). The
 * tables and columns come from rlog_schema.c, which the reader shares. */
#define _GNU_SOURCE
#include "log/rlog.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "log/rlog_schema.h"
#include "log/superblock.h"
#include "nets/net_h5.h"
#include "util/util.h"

/* ---- column types ------------------------------------------------------------- */

/* Rows buffered per table before a block is written: few HDF5 calls for the
 * frequent tables, none held back for the rare large snapshots. */
static const int table_block[NTABLES] = {512, 512, 64, 1024, 1};

#define CHUNK_BYTES (64 * 1024)
#define CHUNK_MAX_ROWS 16384
#define DEFLATE_LEVEL 4
#define STATUS_ROOM (32 * 1024)   /* bytes free needed to rewrite the status at close */

static size_t ctype_size(ctype t) {
    switch (t) {
    case C_I64: case C_F64: return 8;
    case C_I32: case C_F32: return 4;
    case C_BOOL: return 1;
    }
    return 0;
}

static hid_t mem_type(ctype t, hid_t boolt) {
    switch (t) {
    case C_I64: return H5T_NATIVE_INT64;
    case C_I32: return H5T_NATIVE_INT32;
    case C_F32: return H5T_NATIVE_FLOAT;
    case C_F64: return H5T_NATIVE_DOUBLE;
    case C_BOOL: return boolt;
    }
    return -1;
}

static hid_t file_type(ctype t, hid_t boolt) {
    switch (t) {
    case C_I64: return H5T_STD_I64LE;
    case C_I32: return H5T_STD_I32LE;
    case C_F32: return H5T_IEEE_F32LE;
    case C_F64: return H5T_IEEE_F64LE;
    case C_BOOL: return boolt;
    }
    return -1;
}

/* ---- writer state ---------------------------------------------------------- */

typedef struct {
    char name[64];
    hid_t ds;                 /* < 0: column absent */
    hid_t mtype;              /* memory type (borrowed) */
    int rank;                 /* 1, 2 or 3 */
    hsize_t inner[2];         /* dims after the row dimension */
    size_t row_bytes;
    unsigned char *buf;       /* [block * row_bytes] */
} rcol;

typedef struct {
    hid_t g;
    int ncols;
    rcol *cols;
    int64_t rows;             /* rows in the file */
    int nbuf, block;          /* rows buffered, capacity */
} rtable;

struct rlog {
    char *path;
    hid_t file;
    int sb_fd;                /* the same file, for superblock_clear_open_mark (-1: none) */
    hid_t boolt;
    rtable t[NTABLES];
    int obs, na, hid;
    int complete;             /* rlog_set_complete was called */
    char *failed;             /* rlog_set_failed's message (NULL: none) */
    int keep_status;          /* rlog_open_append: the run's status is not ours to change */
    int64_t next_step_ep;
};

static void table_close(rtable *t) {
    for (int i = 0; t->cols && i < t->ncols; i++) {
        if (t->cols[i].ds >= 0) H5Dclose(t->cols[i].ds);
        free(t->cols[i].buf);
    }
    free(t->cols);
    if (t->g >= 0) H5Gclose(t->g);
    t->cols = NULL;
    t->g = -1;
}

static void rlog_free(rlog *l) {
    if (!l) return;
    for (int i = 0; i < NTABLES; i++) table_close(&l->t[i]);
    if (l->boolt >= 0) H5Tclose(l->boolt);
    if (l->file >= 0) H5Fclose(l->file);
    if (l->sb_fd >= 0) close(l->sb_fd);
    free(l->path);
    free(l->failed);
    free(l);
}

static rlog *rlog_new(const char *path) {
    rlog *l = calloc(1, sizeof *l);
    if (!l || !(l->path = strdup(path))) {
        free(l);
        rlog_fail("%s: out of memory", path);
        return NULL;
    }
    l->file = l->boolt = -1;
    l->sb_fd = -1;
    for (int i = 0; i < NTABLES; i++) l->t[i].g = -1;
    if ((l->boolt = rlog_bool_type()) < 0) {
        rlog_fail("%s: cannot build the HDF5 bool enum type", path);
        rlog_free(l);
        return NULL;
    }
    return l;
}

static int col_setup(rlog *l, rtable *t, rcol *c, const char *name, hid_t mtype, size_t esize, int rank,
                     const hsize_t *inner) {
    snprintf(c->name, sizeof c->name, "%s", name);
    c->mtype = mtype;
    c->rank = rank;
    c->row_bytes = esize;
    for (int d = 0; d < rank - 1; d++) {
        c->inner[d] = inner[d];
        c->row_bytes *= inner[d];
    }
    c->buf = malloc(c->row_bytes * (size_t)t->block + 1);
    if (!c->buf) return rlog_fail("%s: out of memory for the buffer of %s", l->path, name);
    return 0;
}

/* ---- creation ----------------------------------------------------------------- */

static int attr_write(hid_t obj, const char *name, hid_t ftype, hid_t mtype, int rank, hsize_t n,
                      const void *data) {
    hid_t sp = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
    hid_t a = sp >= 0 ? H5Acreate2(obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT) : -1;
    int ok = a >= 0 && H5Awrite(a, mtype, data) >= 0;
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    return ok ? 0 : -1;
}

static int attr_str(hid_t obj, const char *name, const char *s) {
    hid_t t = rlog_vlen_str();
    if (!s) s = "";
    int rc = attr_write(obj, name, t, t, 0, 1, &s);
    H5Tclose(t);
    return rc;
}

/* Overwrites an existing string attribute in place (status). */
static int attr_str_set(hid_t obj, const char *name, const char *s) {
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return attr_str(obj, name, s);
    hid_t t = rlog_vlen_str();
    int ok = H5Awrite(a, t, &s) >= 0;
    H5Tclose(t);
    H5Aclose(a);
    return ok ? 0 : -1;
}

static int attr_i64(hid_t obj, const char *name, int64_t v) {
    return attr_write(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 0, 1, &v);
}
static int attr_i32(hid_t obj, const char *name, int v) {
    return attr_write(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT, 0, 1, &v);
}

static hid_t group_create(hid_t file, const char *name) {
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    hid_t g = H5Gcreate2(file, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    return g;
}

/* A chunked, shuffled, deflated dataset of rank 1 + (rank-1) inner dims
 * with 0 rows and an unlimited row dimension. Each chunk carries a
 * Fletcher-32 checksum that HDF5 verifies on every read (deflate's own
 * Adler-32 does not cover a chunk that deflate left uncompressed), so a
 * damaged chunk is an error, never a wrong number; HDF5's metadata (object
 * headers, B-trees, the superblock) has checksums of its own in this format. */
static hid_t dataset_create(hid_t g, const char *name, hid_t ftype, size_t esize, int rank, const hsize_t *inner) {
    hsize_t dims[3] = {0}, maxd[3] = {H5S_UNLIMITED}, chunk[3];
    size_t row = esize;
    for (int d = 1; d < rank; d++) {
        dims[d] = maxd[d] = chunk[d] = inner[d - 1];
        row *= inner[d - 1];
    }
    size_t rows = CHUNK_BYTES / (row ? row : 1);
    chunk[0] = rows < 1 ? 1 : rows > CHUNK_MAX_ROWS ? CHUNK_MAX_ROWS : rows;
    hid_t sp = H5Screate_simple(rank, dims, maxd);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds = -1;
    if (sp >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, rank, chunk) >= 0 && H5Pset_shuffle(dcpl) >= 0 &&
        H5Pset_deflate(dcpl, DEFLATE_LEVEL) >= 0 && H5Pset_fletcher32(dcpl) >= 0)
        ds = H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    return ds;
}

static int width_of(cwidth w, int obs, int na, int hid, int lstm) {
    switch (w) {
    case W_1: return 1;
    case W_OBS: return obs;
    case W_ACT: return na;
    case W_HID: return hid;
    case W_CELL: return lstm ? hid : 0;
    }
    return 0;
}

/* Kind of the last recurrent layer (whose state /steps records), or -1. */
static int last_recurrent(const net *n) {
    int k = -1;
    for (int i = 0; n && i < n->nlayers; i++)
        if (n->layers[i].kind != LAYER_DENSE) k = n->layers[i].kind;
    return k;
}

/* "dense:32:relu,lstm:64:h0,dense:4" as net_parse_spec reads it. */
static void net_spec_text(const net *n, char *buf, size_t cap) {
    buf[0] = 0;
    size_t len = 0;
    for (int i = 0; n && i < n->nlayers; i++) {
        const net_layer *L = &n->layers[i];
        const char *act = L->act == ACT_RELU ? ":relu" : L->act == ACT_TANH ? ":tanh" : "";
        if (L->kind != LAYER_DENSE) act = L->learn_h0 ? ":h0" : "";
        int w = snprintf(buf + len, len < cap ? cap - len : 0, "%s%s:%d%s", i ? "," : "",
                         layer_kind_str(L->kind), L->units, act);
        if (w > 0) len += (size_t)w;
    }
}

rlog *rlog_create(const char *path, const rlog_meta *m) {
    rlog_quiet();
    if (!path || !m || !m->env || !m->agent || !m->label)
        return rlog_fail("rlog_create: %s: path, env, agent and label are required", path ? path : "(null)"), NULL;
    if (m->obs_size < 1 || m->n_actions < 1 || m->hidden_size < 0)
        return rlog_fail("rlog_create: %s: obs_size %d and n_actions %d must be >= 1, hidden_size %d >= 0", path,
                         m->obs_size, m->n_actions, m->hidden_size), NULL;
    rlog *l = rlog_new(path);
    if (!l) return NULL;
    l->obs = m->obs_size;
    l->na = m->n_actions;
    l->hid = m->hidden_size;
    int lstm = layer_has_cell(last_recurrent(m->net));
    /* The structure is built under a temporary name and renamed over path
     * only once SWMR writing has started (which flushes it): a writer killed
     * while creating never leaves a half-made file at path. The open file
     * keeps working under its new name. */
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.creating", path) < 0) {
        tmp = NULL;
        rlog_fail("%s: out of memory", path);
        goto bad;
    }
    hid_t fapl = rlog_fapl(1);
    errno = 0;
    l->file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (l->file < 0) {
        rlog_fail("%s: cannot create the log (%s)", path, errno ? strerror(errno) : "HDF5 refused");
        goto bad;
    }
    char created[40], spec[1024];
    rql_iso_now(created, sizeof created);
    net_spec_text(m->net, spec, sizeof spec);
    int rk = last_recurrent(m->net);
    const char *cell = rk < 0 ? "none" : layer_kind_str((layer_kind)rk);
    if (attr_str(l->file, "format", RLOG_FORMAT) || attr_i32(l->file, "format_version", RLOG_FORMAT_VERSION) ||
        attr_str(l->file, "rql_version", RQL_VERSION) || attr_i64(l->file, "seed", m->seed) ||
        attr_str(l->file, "env", m->env) || attr_str(l->file, "agent", m->agent) ||
        attr_str(l->file, "label", m->label) || attr_str(l->file, "created", created) ||
        attr_str(l->file, "config", m->config) || attr_i32(l->file, "obs_size", m->obs_size) ||
        attr_i32(l->file, "n_actions", m->n_actions) || attr_i32(l->file, "hidden_size", m->hidden_size) ||
        attr_str(l->file, "cell", cell) || attr_str(l->file, "net_spec", spec) ||
        attr_str(l->file, "q_head", m->q_head ? m->q_head : "linear") ||
        attr_str(l->file, "status", "running") || attr_str(l->file, "error", "") ||
        (m->sweep && m->sweep[0] && attr_str(l->file, "sweep", m->sweep))) {
        rlog_fail("%s: cannot write the root attributes", path);
        goto bad;
    }
    for (int ti = 0; ti < NTABLES; ti++) {
        rtable *t = &l->t[ti];
        t->block = table_block[ti];
        t->g = group_create(l->file, rlog_table_names[ti]);
        if (t->g < 0) { rlog_fail("%s: cannot create group /%s", path, rlog_table_names[ti]); goto bad; }
        int nc = ti == T_WEIGHTS ? 1 + (m->net ? m->net->ntensors : 0) : rlog_table_ncols[ti];
        t->ncols = nc;
        t->cols = calloc((size_t)nc, sizeof *t->cols);
        if (!t->cols) { rlog_fail("%s: out of memory", path); goto bad; }
        for (int i = 0; i < nc; i++) t->cols[i].ds = -1;
        for (int i = 0; i < nc; i++) {
            rcol *c = &t->cols[i];
            const char *name;
            ctype ct;
            int rank;
            hsize_t inner[2] = {0, 0};
            if (ti == T_WEIGHTS) {
                if (i == 0) { name = "at_episode"; ct = C_I64; rank = 1; }
                else {
                    const net_tensor *x = &m->net->tensors[i - 1];
                    name = x->name;
                    ct = C_F32;
                    rank = 1 + x->ndim;
                    inner[0] = (hsize_t)x->shape[0];
                    inner[1] = (hsize_t)x->shape[1];
                }
            } else {
                const col_schema *s = &rlog_table_cols[ti][i];
                int w = width_of(s->width, l->obs, l->na, l->hid, lstm);
                snprintf(c->name, sizeof c->name, "%s", s->name);
                if (w == 0) continue;          /* optional column absent */
                name = s->name;
                ct = s->type;
                rank = s->width == W_1 ? 1 : 2;
                inner[0] = (hsize_t)w;
            }
            if (col_setup(l, t, c, name, mem_type(ct, l->boolt), ctype_size(ct), rank, inner)) goto bad;
            c->ds = dataset_create(t->g, name, file_type(ct, l->boolt), ctype_size(ct), rank, inner);
            if (c->ds < 0) { rlog_fail("%s: cannot create dataset /%s/%s", path, rlog_table_names[ti], name); goto bad; }
        }
    }
    /* the layout attributes of /weights are nets' own (net_h5), so one
     * reader serves a log's snapshots and a checkpoint's networks */
    if (m->net && net_save_h5_attrs(m->net, l->t[T_WEIGHTS].g)) {
        rlog_fail("%s: cannot write the attributes of /weights", path);
        goto bad;
    }
    if (H5Fstart_swmr_write(l->file) < 0) { rlog_fail("%s: cannot start SWMR writing", path); goto bad; }
    l->sb_fd = open(tmp, O_RDWR | O_CLOEXEC);
    superblock_clear_open_mark(l->sb_fd);
    if (rename(tmp, path) != 0) {
        rlog_fail("%s: cannot rename %s to it (%s)", path, tmp, strerror(errno));
        goto bad;
    }
    free(tmp);
    return l;
bad:
    rlog_free(l);
    if (tmp) unlink(tmp);
    free(tmp);
    return NULL;
}

/* ---- reopening ------------------------------------------------------------------ */

/* A writer killed in SWMR mode leaves the superblock marked "open for write",
 * and HDF5 then refuses to open it for writing again. h5clear -s clears the
 * mark through the file-access property "clear_status_flags", which every
 * fapl carries; we set it the same way (only after a plain open failed). */
static hid_t open_rdwr(const char *path) {
    hid_t fapl = rlog_fapl(1);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, fapl);
    if (f < 0) {
        hbool_t clear = 1;
        if (H5Pexist(fapl, "clear_status_flags") > 0 && H5Pset(fapl, "clear_status_flags", &clear) >= 0)
            f = H5Fopen(path, H5F_ACC_RDWR, fapl);
    }
    H5Pclose(fapl);
    return f;
}

/* Opens the tables of an existing log with the widths found in the file. */
static int open_tables(rlog *l) {
    for (int ti = 0; ti < NTABLES; ti++) {
        rtable *t = &l->t[ti];
        t->block = table_block[ti];
        t->g = H5Gopen2(l->file, rlog_table_names[ti], H5P_DEFAULT);
        if (t->g < 0) return rlog_fail("%s: group /%s is missing", l->path, rlog_table_names[ti]);
        H5G_info_t gi;
        if (H5Gget_info(t->g, &gi) < 0) return rlog_fail("%s: cannot list /%s", l->path, rlog_table_names[ti]);
        int nc = ti == T_WEIGHTS ? (int)gi.nlinks : rlog_table_ncols[ti];
        t->ncols = nc;
        t->cols = calloc((size_t)(nc ? nc : 1), sizeof *t->cols);
        if (!t->cols) return rlog_fail("%s: out of memory", l->path);
        for (int i = 0; i < nc; i++) t->cols[i].ds = -1;
        for (int i = 0; i < nc; i++) {
            rcol *c = &t->cols[i];
            char name[64];
            ctype ct = C_F32;
            if (ti == T_WEIGHTS) {
                /* at_episode first, then the tensors in creation order */
                ssize_t n = H5Lget_name_by_idx(t->g, ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, (hsize_t)i, name,
                                               sizeof name, H5P_DEFAULT);
                if (n < 0 || n >= (ssize_t)sizeof name)
                    return rlog_fail("%s: cannot list /weights (link %d)", l->path, i);
                if (i == 0 && strcmp(name, "at_episode"))
                    return rlog_fail("%s: /weights/at_episode must be the first dataset of /weights, found %s", l->path,
                                     name);
                if (i == 0) ct = C_I64;
            } else {
                const col_schema *s = &rlog_table_cols[ti][i];
                snprintf(name, sizeof name, "%s", s->name);
                ct = s->type;
                if ((i == S_HIDDEN || i == S_CELL) && ti == T_STEPS && H5Lexists(t->g, name, H5P_DEFAULT) <= 0) {
                    snprintf(c->name, sizeof c->name, "%s", name);
                    continue;
                }
            }
            c->ds = H5Dopen2(t->g, name, H5P_DEFAULT);
            if (c->ds < 0) return rlog_fail("%s: dataset /%s/%s is missing", l->path, rlog_table_names[ti], name);
            hid_t sp = H5Dget_space(c->ds);
            hsize_t dims[4] = {0};
            int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
            if (rank >= 1 && rank <= 3) H5Sget_simple_extent_dims(sp, dims, NULL);
            if (sp >= 0) H5Sclose(sp);
            int want = ti == T_WEIGHTS ? (i == 0 ? 1 : -1)
                                       : rlog_table_cols[ti][i].width == W_1 ? 1 : 2;
            if (rank < 1 || rank > 3 || (want > 0 && rank != want))
                return rlog_fail("%s: dataset /%s/%s has rank %d, expected %d", l->path, rlog_table_names[ti], name, rank,
                                 want > 0 ? want : 2);
            if (col_setup(l, t, c, name, mem_type(ct, l->boolt), ctype_size(ct), rank, dims + 1)) return -1;
            if (ti == T_STEPS && i == S_OBS) l->obs = (int)dims[1];
            if (ti == T_STEPS && i == S_Q) l->na = (int)dims[1];
            if (ti == T_STEPS && i == S_HIDDEN) l->hid = (int)dims[1];
            if (ti == T_STEPS && (i == S_NEXT || i == S_CELL) && (int)dims[1] != (i == S_NEXT ? l->obs : l->hid))
                return rlog_fail("%s: dataset /steps/%s is [.., %d], expected [.., %d]", l->path, name, (int)dims[1],
                                 i == S_NEXT ? l->obs : l->hid);
        }
    }
    return 0;
}

/* Cuts every column of every table to want[t] rows (or, want NULL, to the
 * shortest column of its table). */
static int truncate_tables(rlog *l, const int64_t *want) {
    for (int ti = 0; ti < NTABLES; ti++) {
        rtable *t = &l->t[ti];
        int64_t shortest = -1;
        for (int i = 0; i < t->ncols; i++) {
            if (t->cols[i].ds < 0) continue;
            int64_t r = rlog_ds_rows(t->cols[i].ds);
            if (shortest < 0 || r < shortest) shortest = r;
        }
        if (shortest < 0) shortest = 0;
        int64_t n = want ? want[ti] : shortest;
        if (n < 0 || n > shortest)
            return rlog_fail("%s: /%s holds %lld complete rows, fewer than the %lld the checkpoint counted "
                             "(the log is older than the checkpoint)",
                             l->path, rlog_table_names[ti], (long long)shortest, (long long)n);
        for (int i = 0; i < t->ncols; i++) {
            rcol *c = &t->cols[i];
            if (c->ds < 0) continue;
            hsize_t dims[3] = {(hsize_t)n, c->inner[0], c->inner[1]};
            if (rlog_ds_rows(c->ds) != n && H5Dset_extent(c->ds, dims) < 0)
                return rlog_fail("%s: cannot truncate /%s/%s to %lld rows", l->path, rlog_table_names[ti], c->name,
                                 (long long)n);
        }
        t->rows = n;
    }
    return 0;
}

static int scan_step_episodes(rlog *l) {
    rtable *t = &l->t[T_STEPS];
    l->next_step_ep = 0;
    if (t->rows == 0) return 0;
    int64_t *ep = malloc((size_t)t->rows * sizeof *ep);
    if (!ep) return rlog_fail("%s: out of memory reading /steps/episode", l->path);
    hsize_t n = (hsize_t)t->rows;
    hid_t ms = H5Screate_simple(1, &n, NULL);
    hid_t fs = H5Dget_space(t->cols[S_EPISODE].ds);
    hsize_t start = 0;
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &n, NULL);
    int ok = H5Dread(t->cols[S_EPISODE].ds, H5T_NATIVE_INT64, ms, fs, H5P_DEFAULT, ep) >= 0;
    H5Sclose(fs);
    H5Sclose(ms);
    for (int64_t i = 0; ok && i < t->rows; i++)
        if (ep[i] + 1 > l->next_step_ep) l->next_step_ep = ep[i] + 1;
    free(ep);
    return ok ? 0 : rlog_fail("%s: cannot read /steps/episode", l->path);
}

static rlog *reopen(const char *path, const rlog_counts *counts) {
    rlog_quiet();
    struct stat st;
    if (stat(path, &st) != 0) return rlog_fail("%s: %s", path, strerror(errno)), NULL;
    if (!S_ISREG(st.st_mode)) return rlog_fail("%s: not a regular file", path), NULL;
    if (H5Fis_hdf5(path) <= 0) return rlog_fail("%s: not an HDF5 file", path), NULL;
    rlog *l = rlog_new(path);
    if (!l) return NULL;
    l->file = open_rdwr(path);
    if (l->file < 0) {
        rlog_fail("%s: cannot open the log for writing (is another rql writing it?)", path);
        goto bad;
    }
    if (rlog_check_format(l->file, path) || open_tables(l)) goto bad;
    int64_t want[NTABLES];
    if (counts) {
        want[T_CURVES] = counts->curves;
        want[T_TRAIN] = counts->train;
        want[T_EVAL] = counts->eval;
        want[T_STEPS] = counts->steps;
        want[T_WEIGHTS] = counts->weights;
    }
    if (truncate_tables(l, counts ? want : NULL) || scan_step_episodes(l)) goto bad;
    /* Resuming makes the run live again; appending recorded episodes to a
     * log (rql eval --record) leaves its run status as it was. */
    l->keep_status = counts == NULL;
    if (!l->keep_status && (attr_str_set(l->file, "status", "running") ||
                            (H5Aexists(l->file, "error") > 0 && attr_str_set(l->file, "error", "")))) {
        rlog_fail("%s: cannot write the root attribute status", path);
        goto bad;
    }
    if (H5Fstart_swmr_write(l->file) < 0) { rlog_fail("%s: cannot start SWMR writing", path); goto bad; }
    l->sb_fd = open(path, O_RDWR | O_CLOEXEC);
    superblock_clear_open_mark(l->sb_fd);
    return l;
bad:
    rlog_free(l);
    return NULL;
}

rlog *rlog_reopen(const char *path, const rlog_counts *counts) {
    if (!counts) return rlog_fail("rlog_reopen: %s: no row counts given", path), NULL;
    return reopen(path, counts);
}

rlog *rlog_open_append(const char *path) { return reopen(path, NULL); }

/* ---- appending ------------------------------------------------------------------ */

static int table_write(rlog *l, int ti) {
    rtable *t = &l->t[ti];
    if (t->nbuf == 0) return 0;
    hsize_t start[3] = {(hsize_t)t->rows, 0, 0};
    for (int i = 0; i < t->ncols; i++) {
        rcol *c = &t->cols[i];
        if (c->ds < 0) continue;
        hsize_t dims[3] = {(hsize_t)(t->rows + t->nbuf), c->inner[0], c->inner[1]};
        hsize_t count[3] = {(hsize_t)t->nbuf, c->inner[0], c->inner[1]};
        if (H5Dset_extent(c->ds, dims) < 0)
            return rlog_fail("%s: cannot extend /%s/%s to %llu rows", l->path, rlog_table_names[ti], c->name,
                             (unsigned long long)dims[0]);
        hid_t fs = H5Dget_space(c->ds);
        hid_t ms = H5Screate_simple(c->rank, count, NULL);
        int ok = fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
                 H5Dwrite(c->ds, c->mtype, ms, fs, H5P_DEFAULT, c->buf) >= 0;
        if (ms >= 0) H5Sclose(ms);
        if (fs >= 0) H5Sclose(fs);
        if (!ok) return rlog_fail("%s: cannot write /%s/%s", l->path, rlog_table_names[ti], c->name);
    }
    t->rows += t->nbuf;
    t->nbuf = 0;
    return 0;
}

/* Copies one row of column i from src (NULL: NaN floats). */
static void put(rtable *t, int i, const void *src) {
    rcol *c = &t->cols[i];
    if (c->ds < 0) return;
    unsigned char *dst = c->buf + (size_t)t->nbuf * c->row_bytes;
    if (src) memcpy(dst, src, c->row_bytes);
    else {
        float *f = (float *)dst;
        for (size_t k = 0; k < c->row_bytes / sizeof(float); k++) f[k] = NAN;
    }
}

static int row_done(rlog *l, int ti) {
    rtable *t = &l->t[ti];
    if (++t->nbuf >= t->block) return table_write(l, ti);
    return 0;
}

/* One row of table ti: src[i] is column i's value, in the schema's order. */
static int append_row(rlog *l, int ti, const void *const *src) {
    for (int i = 0; i < rlog_table_ncols[ti]; i++) put(&l->t[ti], i, src[i]);
    return row_done(l, ti);
}

int rlog_append_curve(rlog *l, const rlog_curve_row *r) {
    int8_t s = r->success != 0;
    const void *src[] = {&r->episode, &r->env_steps, &r->ret, &r->length, &s, &r->epsilon, &r->wall_s};
    return append_row(l, T_CURVES, src);
}

int rlog_append_train(rlog *l, const rlog_train_row *r) {
    const void *src[] = {&r->update, &r->loss, &r->q_mean, &r->grad_norm};
    return append_row(l, T_TRAIN, src);
}

int rlog_append_eval(rlog *l, const rlog_eval_row *r) {
    const void *src[] = {&r->at_episode, &r->env_steps, &r->return_mean, &r->success_rate, &r->episodes};
    return append_row(l, T_EVAL, src);
}

int rlog_append_step(rlog *l, const rlog_step_row *r) {
    if (!r->observation) return rlog_fail("%s: /steps row of episode %lld, t %d: no observation", l->path,
                                          (long long)r->episode, r->t);
    int8_t term = r->terminated != 0, trunc = r->truncated != 0;
    /* in the order of the columns S_EPISODE .. S_CELL */
    const void *src[S_N] = {&r->episode, &r->t, r->observation, r->next_observation, &r->action, &r->reward,
                            &term, &trunc, r->q, r->hidden, r->cell};
    if (r->episode + 1 > l->next_step_ep) l->next_step_ep = r->episode + 1;
    return append_row(l, T_STEPS, src);
}

int rlog_append_weights(rlog *l, int64_t at_episode, const net *n) {
    rtable *t = &l->t[T_WEIGHTS];
    if (!n) return rlog_fail("%s: weight snapshot without a network", l->path);
    if (n->ntensors != t->ncols - 1)
        return rlog_fail("%s: the network has %d tensors, /weights was created for %d", l->path, n->ntensors,
                         t->ncols - 1);
    for (int i = 0; i < n->ntensors; i++) {
        const net_tensor *x = &n->tensors[i];
        const rcol *c = &t->cols[i + 1];
        size_t bytes = x->size * sizeof(float);
        if (strcmp(x->name, c->name) || bytes != c->row_bytes || c->rank != 1 + x->ndim ||
            c->inner[0] != (hsize_t)x->shape[0] || (x->ndim == 2 && c->inner[1] != (hsize_t)x->shape[1]))
            return rlog_fail("%s: tensor %d of the network is %s [%d, %d], /weights has %s of another shape", l->path, i,
                             x->name, x->shape[0], x->shape[1], c->name);
    }
    put(t, 0, &at_episode);
    for (int i = 0; i < n->ntensors; i++) put(t, i + 1, n->params + n->tensors[i].off);
    return row_done(l, T_WEIGHTS);
}

int rlog_flush(rlog *l) {
    for (int ti = 0; ti < NTABLES; ti++)
        if (table_write(l, ti)) return -1;
    if (H5Fflush(l->file, H5F_SCOPE_GLOBAL) < 0) return rlog_fail("%s: cannot flush the log", l->path);
    superblock_clear_open_mark(l->sb_fd);
    return 0;
}

void rlog_get_counts(const rlog *l, rlog_counts *c) {
    c->curves = l->t[T_CURVES].rows + l->t[T_CURVES].nbuf;
    c->train = l->t[T_TRAIN].rows + l->t[T_TRAIN].nbuf;
    c->eval = l->t[T_EVAL].rows + l->t[T_EVAL].nbuf;
    c->steps = l->t[T_STEPS].rows + l->t[T_STEPS].nbuf;
    c->weights = l->t[T_WEIGHTS].rows + l->t[T_WEIGHTS].nbuf;
}

int64_t rlog_next_step_episode(const rlog *l) { return l->next_step_ep; }

void rlog_set_complete(rlog *l) { l->complete = 1; }

void rlog_set_failed(rlog *l, const char *msg) {
    if (!l || l->failed) return;
    l->failed = strdup(msg && msg[0] ? msg : "failed");
}

int rlog_close(rlog *l) {
    if (!l) return 0;
    rlog_quiet();
    /* Rows that cannot be written (a full disk, an I/O error) leave the log
     * as its last good flush made it: once HDF5 failed a write, writing the
     * status too was tried on a full tmpfs and lost the attribute, then
     * crashed HDF5 at exit. */
    int rc = rlog_flush(l);
    /* The status is a variable-length string: rewriting it takes new room in
     * the file, and a write that fails for lack of room loses the attribute
     * (tried on a full tmpfs). With less than STATUS_ROOM bytes free the log
     * is left as its last flush made it ("running", every row flushed). */
    struct statvfs vs;
    if (!rc && (l->complete || l->failed || !l->keep_status) && l->sb_fd >= 0 && fstatvfs(l->sb_fd, &vs) == 0 &&
        (uint64_t)vs.f_bavail * vs.f_frsize < STATUS_ROOM)
        rc = rlog_fail("%s: no room left on its filesystem to write its status (%llu bytes free)", l->path,
                       (unsigned long long)vs.f_bavail * vs.f_frsize);
    /* A one-attribute change of an existing scalar in place: the only
     * metadata write after SWMR started, at the very end. */
    if (!rc && (l->complete || l->failed || !l->keep_status) &&
        attr_str_set(l->file, "status", l->complete ? "complete" : l->failed ? "failed" : "stopped"))
        rc = rlog_fail("%s: cannot write the root attribute status", l->path);
    /* "error" exists from creation (SWMR allows no new attributes); a log
     * made before it had one keeps only the status */
    if (!rc && !l->complete && l->failed && H5Aexists(l->file, "error") > 0 &&
        attr_str_set(l->file, "error", l->failed))
        rc = rlog_fail("%s: cannot write the root attribute error", l->path);
    for (int i = 0; i < NTABLES; i++) table_close(&l->t[i]);
    if (l->file >= 0 && H5Fclose(l->file) < 0 && !rc) rc = rlog_fail("%s: cannot close the log", l->path);
    l->file = -1;
    rlog_free(l);
    return rc;
}
