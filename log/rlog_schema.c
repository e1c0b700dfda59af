/* rlog_schema — the run log's tables and the helpers its writer
 * (rlog_write.c) and reader (rlog_read.c) share (see rlog_schema.h). */
#include "log/rlog_schema.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log/rlog.h"
#include "util/util.h"

/* ---- schema ------------------------------------------------------------------ */

const char *const rlog_table_names[NTABLES] = {"curves", "train", "eval", "steps", "weights"};

static const col_schema curves_cols[] = {
    {"episode", C_I64, W_1}, {"env_steps", C_I64, W_1}, {"return", C_F32, W_1}, {"length", C_I32, W_1},
    {"success", C_BOOL, W_1}, {"epsilon", C_F32, W_1}, {"wall_s", C_F64, W_1},
};
static const col_schema train_cols[] = {
    {"update", C_I64, W_1}, {"loss", C_F32, W_1}, {"q_mean", C_F32, W_1}, {"grad_norm", C_F32, W_1},
};
static const col_schema eval_cols[] = {
    {"at_episode", C_I64, W_1}, {"env_steps", C_I64, W_1}, {"return_mean", C_F64, W_1},
    {"success_rate", C_F64, W_1}, {"episodes", C_I32, W_1},
};
static const col_schema steps_cols[] = {
    {"episode", C_I64, W_1}, {"t", C_I32, W_1}, {"observations", C_F32, W_OBS},
    {"next_observations", C_F32, W_OBS}, {"actions", C_I32, W_1}, {"rewards", C_F32, W_1},
    {"terminations", C_BOOL, W_1}, {"truncations", C_BOOL, W_1}, {"q_values", C_F32, W_ACT},
    {"hidden", C_F32, W_HID}, {"cell", C_F32, W_CELL},
};
const col_schema *const rlog_table_cols[NTABLES] = {curves_cols, train_cols, eval_cols, steps_cols, NULL};
const int rlog_table_ncols[NTABLES] = {7, 4, 5, S_N, 0};

/* ---- errors ------------------------------------------------------------------ */

int rlog_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rql_vset_error(-1, fmt, ap);
    va_end(ap);
    return -1;
}

void rlog_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* ---- HDF5 helpers ------------------------------------------------------------- */

/* The enum h5py maps to numpy bool: int8 base, FALSE = 0, TRUE = 1. */
hid_t rlog_bool_type(void) {
    hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
    if (t < 0) return -1;
    int8_t v = 0;
    H5Tenum_insert(t, "FALSE", &v);
    v = 1;
    H5Tenum_insert(t, "TRUE", &v);
    return t;
}

hid_t rlog_fapl(int latest) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    if (latest) H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    /* HDF5 retries a metadata read whose checksum fails (a SWMR reader may
     * catch the writer mid-update) with an exponentially growing sleep, 100
     * times by default for SWMR opens: a damaged superblock then blocks for
     * hours, and SIGTERM cannot stop it. RLOG_READ_ATTEMPTS tries take
     * under 0.1 s in all (measured: 20 tries 14 ms, 26 tries 80 ms, 28 tries
     * 0.3 s, 50 tries did not end in 60 s). */
    H5Pset_metadata_read_attempts(fapl, RLOG_READ_ATTEMPTS);
    return fapl;
}

hid_t rlog_vlen_str(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

int rlog_h5_attr_i64(hid_t obj, const char *name, int64_t *v) {
    if (H5Aexists(obj, name) <= 0) return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    int ok = a >= 0 && H5Aread(a, H5T_NATIVE_INT64, v) >= 0;
    if (a >= 0) H5Aclose(a);
    return ok ? 0 : -1;
}

/* Variable- or fixed-length string attribute, malloc'd. */
char *rlog_h5_attr_str(hid_t obj, const char *name) {
    if (H5Aexists(obj, name) <= 0) return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t ft = a >= 0 ? H5Aget_type(a) : -1;
    char *out = NULL;
    if (ft >= 0 && H5Tget_class(ft) == H5T_STRING) {
        if (H5Tis_variable_str(ft) > 0) {
            hid_t mt = rlog_vlen_str();
            char *s = NULL;
            if (H5Aread(a, mt, &s) >= 0 && s) {
                out = strdup(s);
                H5free_memory(s);
            }
            H5Tclose(mt);
        } else {
            size_t n = H5Tget_size(ft);
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, n + 1);
            out = calloc(n + 2, 1);
            if (out && H5Aread(a, mt, out) < 0) { free(out); out = NULL; }
            H5Tclose(mt);
        }
    }
    if (ft >= 0) H5Tclose(ft);
    if (a >= 0) H5Aclose(a);
    return out;
}

/* Checks format and version of an open file; names the file on failure. */
int rlog_check_format(hid_t f, const char *path) {
    char *fmt = rlog_h5_attr_str(f, "format");
    int ok = fmt && !strcmp(fmt, RLOG_FORMAT);
    if (!ok) {
        rlog_fail("%s: not an rql run log (root attribute format is %s%s%s, want \"%s\")", path, fmt ? "\"" : "",
                  fmt ? fmt : "missing", fmt ? "\"" : "", RLOG_FORMAT);
        free(fmt);
        return -1;
    }
    free(fmt);
    int64_t v;
    if (rlog_h5_attr_i64(f, "format_version", &v))
        return rlog_fail("%s: root attribute format_version is missing or not an integer", path);
    if (v > RLOG_FORMAT_VERSION || v < 1)
        return rlog_fail("%s: log format_version %lld is not one this rql knows (1 to %d); use the rql that wrote it",
                         path, (long long)v, RLOG_FORMAT_VERSION);
    return 0;
}

int64_t rlog_ds_rows(hid_t ds) {
    hid_t sp = H5Dget_space(ds);
    if (sp < 0) return -1;
    hsize_t dims[4] = {0};
    int r = H5Sget_simple_extent_ndims(sp);
    if (r >= 1 && r <= 4) H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    return r >= 1 ? (int64_t)dims[0] : -1;
}
