/* rlog_read — the run log's reader: opening a log read-only (SWMR read, so a
 * live log can be read), whole datasets and root attributes with shape
 * checks, verification of every chunk, and the summary `rql info` prints
 * (see rlog.h). The schema it validates against is rlog_schema.c, the
 * writer's own. */
#include "log/rlog.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log/rlog_schema.h"
#include "log/superblock.h"
#include "util/util.h"

/* ---- reading ---------------------------------------------------------------------- */

struct rlog_file {
    char *path;
    hid_t file;
};

rlog_file *rlog_file_open(const char *path) {
    rlog_quiet();
    struct stat st;
    if (!path) return rlog_fail("rlog: no file given"), NULL;
    if (stat(path, &st) != 0) return rlog_fail("%s: %s", path, strerror(errno)), NULL;
    if (S_ISDIR(st.st_mode)) return rlog_fail("%s: is a folder, not a run log", path), NULL;
    if (!S_ISREG(st.st_mode)) return rlog_fail("%s: not a regular file", path), NULL;
    if (H5Fis_hdf5(path) <= 0) return rlog_fail("%s: not an HDF5 file", path), NULL;
    rlog_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return rlog_fail("%s: out of memory", path), NULL;
    }
    /* SWMR read lets us read a log that is still being written; files
     * written without the SWMR-capable format need a plain read-only open. */
    hid_t fapl = rlog_fapl(0);
    f->file = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
    if (f->file < 0) f->file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (fapl >= 0) H5Pclose(fapl);
    if (f->file < 0) {
        if (superblock_open_for_write(path))
            rlog_fail("%s: marked open for writing by a program that has not closed it (HDF5's status flags); "
                      "if no program is writing it, 'h5clear -s %s' clears the mark", path, path);
        else rlog_fail("%s: HDF5 cannot open it (damaged file?)", path);
        rlog_file_close(f);
        return NULL;
    }
    if (rlog_check_format(f->file, path)) {
        rlog_file_close(f);
        return NULL;
    }
    return f;
}

/* Reads one dataset whole: HDF5 checks each chunk's Fletcher-32 (and
 * deflate's Adler-32) on the way. */
static herr_t verify_one(hid_t g, const char *name, const H5L_info_t *info, void *op) {
    const char *path = op;
    H5O_info_t oi;
    if (H5Oget_info_by_name(g, name, &oi, H5P_DEFAULT) < 0) return rlog_fail("%s: cannot read the object %s", path, name), -1;
    if (oi.type != H5O_TYPE_DATASET) return 0;
    hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
    hid_t ft = ds >= 0 ? H5Dget_type(ds) : -1;
    hid_t mt = ft >= 0 ? H5Tget_native_type(ft, H5T_DIR_ASCEND) : -1;
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    size_t es = mt >= 0 ? H5Tget_size(mt) : 0;
    void *buf = n >= 0 && es ? malloc((size_t)n * es + 1) : NULL;
    int ok = buf && (n == 0 || H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    free(buf);
    if (sp >= 0) H5Sclose(sp);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (ds >= 0) H5Dclose(ds);
    (void)info;
    return ok ? 0 : (rlog_fail("%s: damaged: dataset %s cannot be read (a checksum or the compression failed)", path, name), -1);
}

int rlog_verify(const char *path) {
    rlog_file *f = rlog_file_open(path);
    if (!f) return -1;
    int rc = 0;
    for (int ti = 0; !rc && ti < NTABLES; ti++) {
        if (H5Lexists(f->file, rlog_table_names[ti], H5P_DEFAULT) <= 0) continue;
        hid_t g = H5Gopen2(f->file, rlog_table_names[ti], H5P_DEFAULT);
        if (g < 0) rc = rlog_fail("%s: damaged: group /%s cannot be opened", path, rlog_table_names[ti]);
        else {
            char where[1200];
            snprintf(where, sizeof where, "%s: /%s", path, rlog_table_names[ti]);
            if (H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, verify_one, where) < 0) rc = -1;
            H5Gclose(g);
        }
    }
    rlog_file_close(f);
    return rc;
}

int rlog_is_foreign(const char *path) {
    rlog_quiet();
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || H5Fis_hdf5(path) <= 0) return 0;
    hid_t fapl = rlog_fapl(0);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
    if (f < 0) f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (fapl >= 0) H5Pclose(fapl);
    if (f < 0) return 0;
    /* no format attribute at all, or another format: foreign; one that
     * cannot be read: damaged */
    htri_t has = H5Aexists(f, "format");
    char *fmt = has > 0 ? rlog_h5_attr_str(f, "format") : NULL;
    int foreign = has == 0 || (fmt && strcmp(fmt, RLOG_FORMAT) != 0);
    free(fmt);
    H5Fclose(f);
    return foreign;
}

void rlog_file_close(rlog_file *f) {
    if (!f) return;
    if (f->file >= 0) H5Fclose(f->file);
    free(f->path);
    free(f);
}

hid_t rlog_file_id(const rlog_file *f) { return f->file; }
const char *rlog_file_path(const rlog_file *f) { return f->path; }

int rlog_file_has(const rlog_file *f, const char *dset) {
    rlog_quiet();
    /* H5Lexists needs every intermediate link to exist: check the group first. */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", dset);
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash = 0;
        if (H5Lexists(f->file, buf, H5P_DEFAULT) <= 0) return 0;
    }
    if (H5Lexists(f->file, dset, H5P_DEFAULT) <= 0) return 0;
    H5O_info_t oi;
    if (H5Oget_info_by_name(f->file, dset, &oi, H5P_DEFAULT) < 0) return 0;
    return oi.type == H5O_TYPE_DATASET;
}

/* Opens dset, checks its rank, returns its dims. */
static hid_t open_shaped(const rlog_file *f, const char *dset, int want_rank, hsize_t *dims) {
    if (!rlog_file_has(f, dset)) return rlog_fail("%s: dataset /%s is missing", f->path, dset), -1;
    hid_t ds = H5Dopen2(f->file, dset, H5P_DEFAULT);
    if (ds < 0) return rlog_fail("%s: cannot open dataset /%s", f->path, dset), -1;
    hid_t sp = H5Dget_space(ds);
    int r = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (r == want_rank) H5Sget_simple_extent_dims(sp, dims, NULL);
    if (sp >= 0) H5Sclose(sp);
    if (r != want_rank) {
        H5Dclose(ds);
        return rlog_fail("%s: dataset /%s is %d-D, expected %d-D", f->path, dset, r, want_rank), -1;
    }
    return ds;
}

/* Reads a whole dataset of n elements as mtype into out. Enums (bool) have
 * no HDF5 conversion to numbers: they are read in their own integer base
 * type and widened here. */
static int read_all(const rlog_file *f, const char *dset, hid_t ds, hid_t mtype, size_t n, void *out, int is_f64) {
    hid_t ft = H5Dget_type(ds);
    int ok;
    if (ft >= 0 && H5Tget_class(ft) == H5T_ENUM) {
        size_t es = H5Tget_size(ft);
        hid_t bt = H5Tget_super(ft);
        hid_t nt = H5Tget_native_type(bt, H5T_DIR_ASCEND);
        void *tmp = malloc(n * es + 1);
        ok = tmp && nt >= 0 && H5Dread(ds, nt, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp) >= 0;
        for (size_t i = 0; ok && i < n; i++) {
            int64_t v = es == 1 ? ((int8_t *)tmp)[i] : es == 2 ? ((int16_t *)tmp)[i]
                      : es == 4 ? ((int32_t *)tmp)[i] : ((int64_t *)tmp)[i];
            if (is_f64) ((double *)out)[i] = (double)v;
            else ((int64_t *)out)[i] = v;
        }
        free(tmp);
        if (nt >= 0) H5Tclose(nt);
        if (bt >= 0) H5Tclose(bt);
    } else {
        H5T_class_t cl = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
        if (cl != H5T_INTEGER && cl != H5T_FLOAT) {
            if (ft >= 0) H5Tclose(ft);
            return rlog_fail("%s: dataset /%s is not numeric", f->path, dset);
        }
        ok = H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0;
    }
    if (ft >= 0) H5Tclose(ft);
    return ok ? 0 : rlog_fail("%s: cannot read dataset /%s", f->path, dset);
}

static int read_1d(const rlog_file *f, const char *dset, hid_t mtype, size_t es, void **out, int64_t *n,
                   int is_f64) {
    rlog_quiet();
    *out = NULL;
    *n = 0;
    hsize_t dims[1];
    hid_t ds = open_shaped(f, dset, 1, dims);
    if (ds < 0) return -1;
    int rc = 0;
    if (dims[0] > 0) {
        *out = malloc(dims[0] * es);
        if (!*out) rc = rlog_fail("%s: out of memory reading /%s", f->path, dset);
        else rc = read_all(f, dset, ds, mtype, dims[0], *out, is_f64);
        if (rc) { free(*out); *out = NULL; }
    }
    H5Dclose(ds);
    if (!rc) *n = (int64_t)dims[0];
    return rc;
}

int rlog_read_f64(const rlog_file *f, const char *dset, double **out, int64_t *n) {
    return read_1d(f, dset, H5T_NATIVE_DOUBLE, sizeof(double), (void **)out, n, 1);
}

int rlog_read_i64(const rlog_file *f, const char *dset, int64_t **out, int64_t *n) {
    return read_1d(f, dset, H5T_NATIVE_INT64, sizeof(int64_t), (void **)out, n, 0);
}

int rlog_read_f32_2d(const rlog_file *f, const char *dset, int want_cols, float **out, int64_t *rows, int *cols) {
    rlog_quiet();
    *out = NULL;
    *rows = 0;
    *cols = 0;
    hsize_t dims[2];
    hid_t ds = open_shaped(f, dset, 2, dims);
    if (ds < 0) return -1;
    int rc = 0;
    if (want_cols > 0 && dims[1] != (hsize_t)want_cols)
        rc = rlog_fail("%s: dataset /%s is [%llu, %llu], expected [%llu, %d]", f->path, dset,
                       (unsigned long long)dims[0], (unsigned long long)dims[1], (unsigned long long)dims[0], want_cols);
    else if (dims[0] * dims[1] > 0) {
        *out = malloc(dims[0] * dims[1] * sizeof(float));
        if (!*out) rc = rlog_fail("%s: out of memory reading /%s", f->path, dset);
        else rc = read_all(f, dset, ds, H5T_NATIVE_FLOAT, dims[0] * dims[1], *out, 0);
        if (rc) { free(*out); *out = NULL; }
    }
    H5Dclose(ds);
    if (!rc) {
        *rows = (int64_t)dims[0];
        *cols = (int)dims[1];
    }
    return rc;
}

int64_t rlog_rows(const rlog_file *f, const char *dset) {
    rlog_quiet();
    if (!rlog_file_has(f, dset)) return -1;
    hid_t ds = H5Dopen2(f->file, dset, H5P_DEFAULT);
    if (ds < 0) return -1;
    int64_t r = rlog_ds_rows(ds);
    H5Dclose(ds);
    return r;
}

typedef struct { const rlog_file *f; const char *group; int64_t shortest; } rows_walk;

static herr_t rows_cb(hid_t g, const char *name, const H5L_info_t *info, void *op) {
    (void)info;
    rows_walk *w = op;
    H5O_info_t oi;
    if (H5Oget_info_by_name(g, name, &oi, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_DATASET) return 0;
    hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
    if (ds < 0) return 0;
    int64_t r = rlog_ds_rows(ds);
    H5Dclose(ds);
    if (r >= 0 && (w->shortest < 0 || r < w->shortest)) w->shortest = r;
    return 0;
}

int64_t rlog_table_rows(const rlog_file *f, const char *group) {
    rlog_quiet();
    if (H5Lexists(f->file, group, H5P_DEFAULT) <= 0) return 0;
    rows_walk w = {f, group, -1};
    H5Literate_by_name(f->file, group, H5_INDEX_NAME, H5_ITER_INC, NULL, rows_cb, &w, H5P_DEFAULT);
    return w.shortest < 0 ? 0 : w.shortest;
}

int rlog_attr_str(const rlog_file *f, const char *name, char **out) {
    rlog_quiet();
    *out = rlog_h5_attr_str(f->file, name);
    return *out ? 0 : rlog_fail("%s: root attribute %s is missing or not a string", f->path, name);
}

int rlog_attr_i64(const rlog_file *f, const char *name, int64_t *out) {
    rlog_quiet();
    return rlog_h5_attr_i64(f->file, name, out) ? rlog_fail("%s: root attribute %s is missing or not an integer",
                                                    f->path, name) : 0;
}

/* ---- summary ------------------------------------------------------------------------ */

/* Every dataset the schema requires, with its rank and width: a log whose
 * tables were damaged or written by something else fails here with the
 * dataset named, before anything trusts it. */
static int validate(const rlog_file *f, int obs, int na, int hid) {
    for (int ti = 0; ti < T_WEIGHTS; ti++) {
        for (int i = 0; i < rlog_table_ncols[ti]; i++) {
            const col_schema *s = &rlog_table_cols[ti][i];
            char p[128];
            snprintf(p, sizeof p, "%s/%s", rlog_table_names[ti], s->name);
            int optional = ti == T_STEPS && (i == S_HIDDEN || i == S_CELL);
            if (!rlog_file_has(f, p)) {
                if (optional && (i == S_CELL || hid == 0)) continue;
                return rlog_fail("%s: dataset /%s is missing", f->path, p);
            }
            int rank = s->width == W_1 ? 1 : 2;
            hsize_t dims[2];
            hid_t ds = open_shaped(f, p, rank, dims);
            if (ds < 0) return -1;
            H5Dclose(ds);
            int w = s->width == W_OBS ? obs : s->width == W_ACT ? na : s->width == W_1 ? 0 : hid;
            if (rank == 2 && w > 0 && dims[1] != (hsize_t)w)
                return rlog_fail("%s: dataset /%s is [%llu, %llu], expected [%llu, %d]", f->path, p,
                                 (unsigned long long)dims[0], (unsigned long long)dims[1], (unsigned long long)dims[0], w);
        }
    }
    hsize_t d1[1];
    hid_t ds = open_shaped(f, "weights/at_episode", 1, d1);
    if (ds < 0) return -1;
    H5Dclose(ds);
    return 0;
}

static char *dup_or_empty(char *s) { return s ? s : strdup(""); }

static int64_t attr_or(const rlog_file *f, const char *name, int64_t def) {
    int64_t v;
    return rlog_h5_attr_i64(f->file, name, &v) ? def : v;
}

/* Width (second dimension) of a 2-D dataset, 0 if absent or not 2-D. */
static int64_t width_of_ds(const rlog_file *f, const char *dset) {
    if (!rlog_file_has(f, dset)) return 0;
    hid_t ds = H5Dopen2(f->file, dset, H5P_DEFAULT);
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    hsize_t dims[2] = {0, 0};
    int64_t w = sp >= 0 && H5Sget_simple_extent_ndims(sp) == 2 && H5Sget_simple_extent_dims(sp, dims, NULL) >= 0
                    ? (int64_t)dims[1] : 0;
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    return w;
}

/* Value `rows - 1` of a 1-D dataset (rows: the table's rows, its shortest
 * column, which a killed writer may leave one block shorter than this one). */
static int last_i64(const rlog_file *f, const char *dset, int64_t rows, int64_t *out) {
    int64_t *v, n;
    if (rlog_read_i64(f, dset, &v, &n)) return -1;
    *out = v[rows - 1];
    free(v);
    return 0;
}

static int last_f64(const rlog_file *f, const char *dset, int64_t rows, double *out) {
    double *v;
    int64_t n;
    if (rlog_read_f64(f, dset, &v, &n)) return -1;
    *out = v[rows - 1];
    free(v);
    return 0;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int rlog_read_info(const char *path, rlog_info *in) {
    memset(in, 0, sizeof *in);
    rlog_file *f = rlog_file_open(path);
    if (!f) return -1;
    int rc = -1;
    double *v = NULL;
    int64_t *iv = NULL, n = 0;
    int64_t fv = 0, seed = 0;
    char *s;
    in->path = strdup(path);
    rlog_attr_i64(f, "format_version", &fv);
    in->format_version = (int)fv;
    static const char *const req[] = {"env", "agent", "label"};
    char **dst[] = {&in->env, &in->agent, &in->label};
    for (int i = 0; i < 3; i++)
        if (rlog_attr_str(f, req[i], dst[i])) goto out;
    if (rlog_attr_i64(f, "seed", &seed)) goto out;
    in->seed = (long)seed;
    in->rql_version = dup_or_empty(rlog_h5_attr_str(f->file, "rql_version"));
    in->created = dup_or_empty(rlog_h5_attr_str(f->file, "created"));
    in->config = dup_or_empty(rlog_h5_attr_str(f->file, "config"));
    in->status = dup_or_empty(rlog_h5_attr_str(f->file, "status"));
    in->error = dup_or_empty(rlog_h5_attr_str(f->file, "error"));
    in->sweep = dup_or_empty(rlog_h5_attr_str(f->file, "sweep"));
    in->net_spec = dup_or_empty(rlog_h5_attr_str(f->file, "net_spec"));
    s = rlog_h5_attr_str(f->file, "cell");
    in->cell = s ? s : strdup("none");
    /* Widths: the attributes when present, else whatever the datasets say. */
    in->obs_size = (int)attr_or(f, "obs_size", width_of_ds(f, "steps/observations"));
    in->n_actions = (int)attr_or(f, "n_actions", width_of_ds(f, "steps/q_values"));
    in->hidden_size = (int)attr_or(f, "hidden_size", width_of_ds(f, "steps/hidden"));
    if (validate(f, in->obs_size, in->n_actions, in->hidden_size)) goto out;
    in->rows.curves = rlog_table_rows(f, "curves");
    in->rows.train = rlog_table_rows(f, "train");
    in->rows.eval = rlog_table_rows(f, "eval");
    in->rows.steps = rlog_table_rows(f, "steps");
    in->rows.weights = rlog_table_rows(f, "weights");
    in->last_episode = -1;
    in->final_eval_episode = -1;
    in->last_snapshot_episode = -1;
    in->final_success = in->final_return = in->recent_success = NAN;
    if (in->rows.curves > 0) {
        int64_t nc = in->rows.curves;
        if (last_i64(f, "curves/episode", nc, &in->last_episode) ||
            last_i64(f, "curves/env_steps", nc, &in->last_env_steps))
            goto out;
        if (rlog_read_f64(f, "curves/success", &v, &n)) goto out;
        int64_t k = nc / 10 > 0 ? nc / 10 : 1;
        double sum = 0;
        for (int64_t i = nc - k; i < nc; i++) sum += v[i];
        in->recent_success = sum / (double)k;
        free(v);
        v = NULL;
    }
    if (in->rows.eval > 0) {
        int64_t ne = in->rows.eval;
        if (last_f64(f, "eval/success_rate", ne, &in->final_success) ||
            last_f64(f, "eval/return_mean", ne, &in->final_return) ||
            last_i64(f, "eval/at_episode", ne, &in->final_eval_episode))
            goto out;
    }
    if (in->rows.weights > 0 && last_i64(f, "weights/at_episode", in->rows.weights, &in->last_snapshot_episode))
        goto out;
    if (in->rows.steps > 0) {
        if (rlog_read_i64(f, "steps/episode", &iv, &n)) goto out;
        qsort(iv, (size_t)in->rows.steps, sizeof *iv, cmp_i64);
        for (int64_t i = 0; i < in->rows.steps; i++) in->episodes_recorded += i == 0 || iv[i] != iv[i - 1];
        free(iv);
        iv = NULL;
    }
    in->open_for_write = superblock_open_for_write(path);
    rc = 0;
out:
    free(v);
    free(iv);
    rlog_file_close(f);
    if (rc) {
        char keep[2048];
        snprintf(keep, sizeof keep, "%s", rql_error());
        rlog_info_free(in);
        rql_set_error(-1, "%s", keep);
    }
    return rc;
}

void rlog_info_free(rlog_info *in) {
    if (!in) return;
    char **s[] = {&in->path, &in->rql_version, &in->env, &in->agent, &in->label, &in->created,
                  &in->config, &in->status, &in->net_spec, &in->cell, &in->sweep, &in->error};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) free(*s[i]);
    memset(in, 0, sizeof *in);
}
