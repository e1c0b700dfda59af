/* rlog — the HDF5 run log (see rlog.h for the design, docs/log-format.md for
 * the schema). One schema table below drives creation, reopening, appending
 * and validation, so the writer and the reader cannot drift apart. */
#define _GNU_SOURCE
#include "log/rlog.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

/* ---- errors ------------------------------------------------------------------ */

__attribute__((format(printf, 1, 2)))
static int fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rql_vset_error(-1, fmt, ap);
    va_end(ap);
    return -1;
}

/* Every entry point silences HDF5's own error stack printing: our messages
 * name the file and dataset, HDF5's trace would only confuse a user. */
static void quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* ---- schema ------------------------------------------------------------------ */

typedef enum { C_I64, C_I32, C_F32, C_F64, C_BOOL } ctype;
/* Width of a column after the row dimension: scalar, or a meta size. */
typedef enum { W_1, W_OBS, W_ACT, W_HID, W_CELL } cwidth;

typedef struct {
    const char *name;
    ctype type;
    cwidth width;
} col_schema;

enum { T_CURVES, T_TRAIN, T_EVAL, T_STEPS, T_WEIGHTS, NTABLES };
static const char *const table_names[NTABLES] = {"curves", "train", "eval", "steps", "weights"};

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
/* hidden and cell are optional: present when hidden_size > 0, cell for an
 * LSTM core only. Their indices are fixed (S_HIDDEN, S_CELL); an absent
 * column has ds < 0. */
static const col_schema steps_cols[] = {
    {"episode", C_I64, W_1}, {"t", C_I32, W_1}, {"observations", C_F32, W_OBS},
    {"next_observations", C_F32, W_OBS}, {"actions", C_I32, W_1}, {"rewards", C_F32, W_1},
    {"terminations", C_BOOL, W_1}, {"truncations", C_BOOL, W_1}, {"q_values", C_F32, W_ACT},
    {"hidden", C_F32, W_HID}, {"cell", C_F32, W_CELL},
};
enum { S_EPISODE, S_T, S_OBS, S_NEXT, S_ACT, S_REW, S_TERM, S_TRUNC, S_Q, S_HIDDEN, S_CELL, S_N };

static const col_schema *const table_cols[NTABLES] = {curves_cols, train_cols, eval_cols, steps_cols, NULL};
static const int table_ncols[NTABLES] = {7, 4, 5, S_N, 0};

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

/* The enum h5py maps to numpy bool: int8 base, FALSE = 0, TRUE = 1. */
static hid_t bool_type(void) {
    hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
    if (t < 0) return -1;
    int8_t v = 0;
    H5Tenum_insert(t, "FALSE", &v);
    v = 1;
    H5Tenum_insert(t, "TRUE", &v);
    return t;
}

hid_t rlog_bool_type(void) { return bool_type(); }

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
    int sb_fd;                /* the same file, for unmark_superblock (-1: none) */
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
        fail("%s: out of memory", path);
        return NULL;
    }
    l->file = l->boolt = -1;
    l->sb_fd = -1;
    for (int i = 0; i < NTABLES; i++) l->t[i].g = -1;
    if ((l->boolt = bool_type()) < 0) {
        fail("%s: cannot build the HDF5 bool enum type", path);
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
    if (!c->buf) return fail("%s: out of memory for the buffer of %s", l->path, name);
    return 0;
}

/* ---- the superblock's open-for-write mark ---------------------------------------- *
 *
 * HDF5 1.10 marks a file open for writing in its superblock (version 3
 * status flags, set while a writer holds it, cleared at close) and then
 * refuses every non-SWMR open, read-only included: h5dump, HDFView, MATLAB and
 * a plain h5py.File(path) could not read a live log, nor one whose writer was
 * killed, until `h5clear -s`. After each flush, when everything written is
 * consistent on disk, rlog clears the mark in the on-disk copy of the
 * superblock (HDF5 never reads it back while it holds the file, and writes
 * its own copy again at the next flush or at close). A log killed at any
 * moment then opens in every HDF5 reader, except in the instant between
 * HDF5 rewriting the superblock during a flush and this patch, where it
 * still opens with SWMR readers (h5py swmr=True) and after `h5clear -s`.
 * The price is HDF5's guard against a second writer, which rql never needs:
 * `rql train` refuses an existing output unless resuming, and runs never
 * share a file.
 *
 * Superblock version 3 with 8-byte addresses: signature [0, 8), version [8],
 * sizes [9], [10], status flags [11], four addresses [12, 44), checksum
 * [44, 48): Jenkins' lookup3 hash of bytes [0, 44), as HDF5's
 * H5_checksum_metadata computes it. The stored checksum is verified with our
 * implementation before anything is written, so a layout we do not
 * recognise is left untouched. */

#define ROT(x, k) (((x) << (k)) | ((x) >> (32 - (k))))

static uint32_t lookup3(const uint8_t *k, size_t length, uint32_t initval) {
    uint32_t a, b, c;
    a = b = c = 0xdeadbeef + (uint32_t)length + initval;
    while (length > 12) {
        a += k[0] + ((uint32_t)k[1] << 8) + ((uint32_t)k[2] << 16) + ((uint32_t)k[3] << 24);
        b += k[4] + ((uint32_t)k[5] << 8) + ((uint32_t)k[6] << 16) + ((uint32_t)k[7] << 24);
        c += k[8] + ((uint32_t)k[9] << 8) + ((uint32_t)k[10] << 16) + ((uint32_t)k[11] << 24);
        a -= c; a ^= ROT(c, 4);  c += b;
        b -= a; b ^= ROT(a, 6);  a += c;
        c -= b; c ^= ROT(b, 8);  b += a;
        a -= c; a ^= ROT(c, 16); c += b;
        b -= a; b ^= ROT(a, 19); a += c;
        c -= b; c ^= ROT(b, 4);  b += a;
        length -= 12;
        k += 12;
    }
    switch (length) {           /* every case falls through */
    case 12: c += (uint32_t)k[11] << 24; /* fall through */
    case 11: c += (uint32_t)k[10] << 16; /* fall through */
    case 10: c += (uint32_t)k[9] << 8;   /* fall through */
    case 9:  c += k[8];                  /* fall through */
    case 8:  b += (uint32_t)k[7] << 24;  /* fall through */
    case 7:  b += (uint32_t)k[6] << 16;  /* fall through */
    case 6:  b += (uint32_t)k[5] << 8;   /* fall through */
    case 5:  b += k[4];                  /* fall through */
    case 4:  a += (uint32_t)k[3] << 24;  /* fall through */
    case 3:  a += (uint32_t)k[2] << 16;  /* fall through */
    case 2:  a += (uint32_t)k[1] << 8;   /* fall through */
    case 1:  a += k[0]; break;
    case 0:  return c;
    }
    c ^= b; c -= ROT(b, 14);
    a ^= c; a -= ROT(c, 11);
    b ^= a; b -= ROT(a, 25);
    c ^= b; c -= ROT(b, 16);
    a ^= c; a -= ROT(c, 4);
    b ^= a; b -= ROT(a, 14);
    c ^= b; c -= ROT(b, 24);
    return c;
}

static const uint8_t hdf5_sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

static uint32_t le32(const uint8_t *p) {
    return p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Clears the status flags of the on-disk superblock. Best effort: any
 * surprise (another layout, a short read) leaves the file as HDF5 wrote it. */
static void unmark_superblock(rlog *l) {
    if (l->sb_fd < 0) return;
    uint8_t sb[48];
    if (pread(l->sb_fd, sb, sizeof sb, 0) != (ssize_t)sizeof sb) return;
    if (memcmp(sb, hdf5_sig, 8) || sb[8] != 3 || sb[9] != 8 || sb[10] != 8 || sb[11] == 0) return;
    if (lookup3(sb, 44, 0) != le32(sb + 44)) return;
    sb[11] = 0;
    uint32_t c = lookup3(sb, 44, 0);
    for (int i = 0; i < 4; i++) sb[44 + i] = (uint8_t)(c >> (8 * i));
    if (pwrite(l->sb_fd, sb + 11, 1, 11) == 1) {
        /* flags and checksum must agree: write the checksum right after */
        if (pwrite(l->sb_fd, sb + 44, 4, 44) != 4) return;
    }
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

static hid_t vlen_str(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

static int attr_str(hid_t obj, const char *name, const char *s) {
    hid_t t = vlen_str();
    if (!s) s = "";
    int rc = attr_write(obj, name, t, t, 0, 1, &s);
    H5Tclose(t);
    return rc;
}

/* Overwrites an existing string attribute in place (status). */
static int attr_str_set(hid_t obj, const char *name, const char *s) {
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return attr_str(obj, name, s);
    hid_t t = vlen_str();
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

/* /weights attributes as net_save_h5 writes them, so one reader serves both. */
static int weights_attrs(hid_t g, const net *n) {
    char kinds[512] = "", acts[512] = "", gates[256] = "";
    int L = n->nlayers, in = n->in;
    int *units = malloc((size_t)L * sizeof *units), *h0 = malloc((size_t)L * sizeof *h0);
    if (!units || !h0) { free(units); free(h0); return -1; }
    size_t lk = 0, la = 0, lg = 0;
    for (int i = 0; i < L; i++) {
        const net_layer *y = &n->layers[i];
        units[i] = y->units;
        h0[i] = y->learn_h0;
        const char *a = y->kind != LAYER_DENSE ? "-" : y->act == ACT_RELU ? "relu" : y->act == ACT_TANH ? "tanh" : "none";
        lk += (size_t)snprintf(kinds + lk, sizeof kinds - lk, "%s%s", i ? "," : "", layer_kind_str(y->kind));
        la += (size_t)snprintf(acts + la, sizeof acts - la, "%s%s", i ? "," : "", a);
        if (y->kind != LAYER_DENSE)
            lg += (size_t)snprintf(gates + lg, sizeof gates - lg, "%s%s", lg ? "," : "",
                                   layer_gate_order(y->kind));
        if (lk >= sizeof kinds || la >= sizeof acts || lg >= sizeof gates) break;
    }
    int rc = attr_str(g, "format", "rql-net") || attr_str(g, "layer_kinds", kinds) ||
             attr_str(g, "layer_acts", acts) || attr_str(g, "gate_order", gates) ||
             attr_write(g, "input_size", H5T_STD_I32LE, H5T_NATIVE_INT, 0, 1, &in) ||
             attr_write(g, "layer_units", H5T_STD_I32LE, H5T_NATIVE_INT, 1, (hsize_t)L, units) ||
             attr_write(g, "learn_h0", H5T_STD_I32LE, H5T_NATIVE_INT, 1, (hsize_t)L, h0)
                 ? -1 : 0;
    free(units);
    free(h0);
    return rc;
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

static hid_t latest_fapl(void) { return rlog_fapl(1); }

rlog *rlog_create(const char *path, const rlog_meta *m) {
    quiet();
    if (!path || !m || !m->env || !m->agent || !m->label)
        return fail("rlog_create: %s: path, env, agent and label are required", path ? path : "(null)"), NULL;
    if (m->obs_size < 1 || m->n_actions < 1 || m->hidden_size < 0)
        return fail("rlog_create: %s: obs_size %d and n_actions %d must be >= 1, hidden_size %d >= 0", path,
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
        fail("%s: out of memory", path);
        goto bad;
    }
    hid_t fapl = latest_fapl();
    errno = 0;
    l->file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (l->file < 0) {
        fail("%s: cannot create the log (%s)", path, errno ? strerror(errno) : "HDF5 refused");
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
        attr_str(l->file, "status", "running") || attr_str(l->file, "error", "") ||
        (m->sweep && m->sweep[0] && attr_str(l->file, "sweep", m->sweep))) {
        fail("%s: cannot write the root attributes", path);
        goto bad;
    }
    for (int ti = 0; ti < NTABLES; ti++) {
        rtable *t = &l->t[ti];
        t->block = table_block[ti];
        t->g = group_create(l->file, table_names[ti]);
        if (t->g < 0) { fail("%s: cannot create group /%s", path, table_names[ti]); goto bad; }
        int nc = ti == T_WEIGHTS ? 1 + (m->net ? m->net->ntensors : 0) : table_ncols[ti];
        t->ncols = nc;
        t->cols = calloc((size_t)nc, sizeof *t->cols);
        if (!t->cols) { fail("%s: out of memory", path); goto bad; }
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
                const col_schema *s = &table_cols[ti][i];
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
            if (c->ds < 0) { fail("%s: cannot create dataset /%s/%s", path, table_names[ti], name); goto bad; }
        }
    }
    if (m->net && weights_attrs(l->t[T_WEIGHTS].g, m->net)) {
        fail("%s: cannot write the attributes of /weights", path);
        goto bad;
    }
    if (H5Fstart_swmr_write(l->file) < 0) { fail("%s: cannot start SWMR writing", path); goto bad; }
    l->sb_fd = open(tmp, O_RDWR | O_CLOEXEC);
    unmark_superblock(l);
    if (rename(tmp, path) != 0) {
        fail("%s: cannot rename %s to it (%s)", path, tmp, strerror(errno));
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
    hid_t fapl = latest_fapl();
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, fapl);
    if (f < 0) {
        hbool_t clear = 1;
        if (H5Pexist(fapl, "clear_status_flags") > 0 && H5Pset(fapl, "clear_status_flags", &clear) >= 0)
            f = H5Fopen(path, H5F_ACC_RDWR, fapl);
    }
    H5Pclose(fapl);
    return f;
}

static int attr_read_i64(hid_t obj, const char *name, int64_t *v) {
    if (H5Aexists(obj, name) <= 0) return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    int ok = a >= 0 && H5Aread(a, H5T_NATIVE_INT64, v) >= 0;
    if (a >= 0) H5Aclose(a);
    return ok ? 0 : -1;
}

/* Variable- or fixed-length string attribute, malloc'd. */
static char *attr_read_str(hid_t obj, const char *name) {
    if (H5Aexists(obj, name) <= 0) return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t ft = a >= 0 ? H5Aget_type(a) : -1;
    char *out = NULL;
    if (ft >= 0 && H5Tget_class(ft) == H5T_STRING) {
        if (H5Tis_variable_str(ft) > 0) {
            hid_t mt = vlen_str();
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
static int check_format(hid_t f, const char *path) {
    char *fmt = attr_read_str(f, "format");
    int ok = fmt && !strcmp(fmt, RLOG_FORMAT);
    if (!ok) {
        fail("%s: not an rql run log (root attribute format is %s%s%s, want \"%s\")", path, fmt ? "\"" : "",
             fmt ? fmt : "missing", fmt ? "\"" : "", RLOG_FORMAT);
        free(fmt);
        return -1;
    }
    free(fmt);
    int64_t v;
    if (attr_read_i64(f, "format_version", &v))
        return fail("%s: root attribute format_version is missing or not an integer", path);
    if (v > RLOG_FORMAT_VERSION || v < 1)
        return fail("%s: log format_version %lld is not one this rql knows (1 to %d); use the rql that wrote it",
                    path, (long long)v, RLOG_FORMAT_VERSION);
    return 0;
}

/* Opens the tables of an existing log with the widths found in the file. */
static int open_tables(rlog *l) {
    for (int ti = 0; ti < NTABLES; ti++) {
        rtable *t = &l->t[ti];
        t->block = table_block[ti];
        t->g = H5Gopen2(l->file, table_names[ti], H5P_DEFAULT);
        if (t->g < 0) return fail("%s: group /%s is missing", l->path, table_names[ti]);
        H5G_info_t gi;
        if (H5Gget_info(t->g, &gi) < 0) return fail("%s: cannot list /%s", l->path, table_names[ti]);
        int nc = ti == T_WEIGHTS ? (int)gi.nlinks : table_ncols[ti];
        t->ncols = nc;
        t->cols = calloc((size_t)(nc ? nc : 1), sizeof *t->cols);
        if (!t->cols) return fail("%s: out of memory", l->path);
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
                    return fail("%s: cannot list /weights (link %d)", l->path, i);
                if (i == 0 && strcmp(name, "at_episode"))
                    return fail("%s: /weights/at_episode must be the first dataset of /weights, found %s", l->path,
                                name);
                if (i == 0) ct = C_I64;
            } else {
                const col_schema *s = &table_cols[ti][i];
                snprintf(name, sizeof name, "%s", s->name);
                ct = s->type;
                if ((i == S_HIDDEN || i == S_CELL) && ti == T_STEPS && H5Lexists(t->g, name, H5P_DEFAULT) <= 0) {
                    snprintf(c->name, sizeof c->name, "%s", name);
                    continue;
                }
            }
            c->ds = H5Dopen2(t->g, name, H5P_DEFAULT);
            if (c->ds < 0) return fail("%s: dataset /%s/%s is missing", l->path, table_names[ti], name);
            hid_t sp = H5Dget_space(c->ds);
            hsize_t dims[4] = {0};
            int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
            if (rank >= 1 && rank <= 3) H5Sget_simple_extent_dims(sp, dims, NULL);
            if (sp >= 0) H5Sclose(sp);
            int want = ti == T_WEIGHTS ? (i == 0 ? 1 : -1)
                                       : table_cols[ti][i].width == W_1 ? 1 : 2;
            if (rank < 1 || rank > 3 || (want > 0 && rank != want))
                return fail("%s: dataset /%s/%s has rank %d, expected %d", l->path, table_names[ti], name, rank,
                            want > 0 ? want : 2);
            if (col_setup(l, t, c, name, mem_type(ct, l->boolt), ctype_size(ct), rank, dims + 1)) return -1;
            if (ti == T_STEPS && i == S_OBS) l->obs = (int)dims[1];
            if (ti == T_STEPS && i == S_Q) l->na = (int)dims[1];
            if (ti == T_STEPS && i == S_HIDDEN) l->hid = (int)dims[1];
            if (ti == T_STEPS && (i == S_NEXT || i == S_CELL) && (int)dims[1] != (i == S_NEXT ? l->obs : l->hid))
                return fail("%s: dataset /steps/%s is [.., %d], expected [.., %d]", l->path, name, (int)dims[1],
                            i == S_NEXT ? l->obs : l->hid);
        }
    }
    return 0;
}

static int64_t ds_rows(hid_t ds) {
    hid_t sp = H5Dget_space(ds);
    if (sp < 0) return -1;
    hsize_t dims[4] = {0};
    int r = H5Sget_simple_extent_ndims(sp);
    if (r >= 1 && r <= 4) H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    return r >= 1 ? (int64_t)dims[0] : -1;
}

/* Cuts every column of every table to want[t] rows (or, want NULL, to the
 * shortest column of its table). */
static int truncate_tables(rlog *l, const int64_t *want) {
    for (int ti = 0; ti < NTABLES; ti++) {
        rtable *t = &l->t[ti];
        int64_t shortest = -1;
        for (int i = 0; i < t->ncols; i++) {
            if (t->cols[i].ds < 0) continue;
            int64_t r = ds_rows(t->cols[i].ds);
            if (shortest < 0 || r < shortest) shortest = r;
        }
        if (shortest < 0) shortest = 0;
        int64_t n = want ? want[ti] : shortest;
        if (n < 0 || n > shortest)
            return fail("%s: /%s holds %lld complete rows, fewer than the %lld the checkpoint counted "
                        "(the log is older than the checkpoint)",
                        l->path, table_names[ti], (long long)shortest, (long long)n);
        for (int i = 0; i < t->ncols; i++) {
            rcol *c = &t->cols[i];
            if (c->ds < 0) continue;
            hsize_t dims[3] = {(hsize_t)n, c->inner[0], c->inner[1]};
            if (ds_rows(c->ds) != n && H5Dset_extent(c->ds, dims) < 0)
                return fail("%s: cannot truncate /%s/%s to %lld rows", l->path, table_names[ti], c->name,
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
    if (!ep) return fail("%s: out of memory reading /steps/episode", l->path);
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
    return ok ? 0 : fail("%s: cannot read /steps/episode", l->path);
}

static rlog *reopen(const char *path, const rlog_counts *counts) {
    quiet();
    struct stat st;
    if (stat(path, &st) != 0) return fail("%s: %s", path, strerror(errno)), NULL;
    if (!S_ISREG(st.st_mode)) return fail("%s: not a regular file", path), NULL;
    if (H5Fis_hdf5(path) <= 0) return fail("%s: not an HDF5 file", path), NULL;
    rlog *l = rlog_new(path);
    if (!l) return NULL;
    l->file = open_rdwr(path);
    if (l->file < 0) {
        fail("%s: cannot open the log for writing (is another rql writing it?)", path);
        goto bad;
    }
    if (check_format(l->file, path) || open_tables(l)) goto bad;
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
        fail("%s: cannot write the root attribute status", path);
        goto bad;
    }
    if (H5Fstart_swmr_write(l->file) < 0) { fail("%s: cannot start SWMR writing", path); goto bad; }
    l->sb_fd = open(path, O_RDWR | O_CLOEXEC);
    unmark_superblock(l);
    return l;
bad:
    rlog_free(l);
    return NULL;
}

rlog *rlog_reopen(const char *path, const rlog_counts *counts) {
    if (!counts) return fail("rlog_reopen: %s: no row counts given", path), NULL;
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
            return fail("%s: cannot extend /%s/%s to %llu rows", l->path, table_names[ti], c->name,
                        (unsigned long long)dims[0]);
        hid_t fs = H5Dget_space(c->ds);
        hid_t ms = H5Screate_simple(c->rank, count, NULL);
        int ok = fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
                 H5Dwrite(c->ds, c->mtype, ms, fs, H5P_DEFAULT, c->buf) >= 0;
        if (ms >= 0) H5Sclose(ms);
        if (fs >= 0) H5Sclose(fs);
        if (!ok) return fail("%s: cannot write /%s/%s", l->path, table_names[ti], c->name);
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

int rlog_append_curve(rlog *l, const rlog_curve_row *r) {
    rtable *t = &l->t[T_CURVES];
    int8_t s = r->success != 0;
    put(t, 0, &r->episode);
    put(t, 1, &r->env_steps);
    put(t, 2, &r->ret);
    put(t, 3, &r->length);
    put(t, 4, &s);
    put(t, 5, &r->epsilon);
    put(t, 6, &r->wall_s);
    return row_done(l, T_CURVES);
}

int rlog_append_train(rlog *l, const rlog_train_row *r) {
    rtable *t = &l->t[T_TRAIN];
    put(t, 0, &r->update);
    put(t, 1, &r->loss);
    put(t, 2, &r->q_mean);
    put(t, 3, &r->grad_norm);
    return row_done(l, T_TRAIN);
}

int rlog_append_eval(rlog *l, const rlog_eval_row *r) {
    rtable *t = &l->t[T_EVAL];
    put(t, 0, &r->at_episode);
    put(t, 1, &r->env_steps);
    put(t, 2, &r->return_mean);
    put(t, 3, &r->success_rate);
    put(t, 4, &r->episodes);
    return row_done(l, T_EVAL);
}

int rlog_append_step(rlog *l, const rlog_step_row *r) {
    rtable *t = &l->t[T_STEPS];
    if (!r->observation) return fail("%s: /steps row of episode %lld, t %d: no observation", l->path,
                                     (long long)r->episode, r->t);
    int8_t term = r->terminated != 0, trunc = r->truncated != 0;
    put(t, S_EPISODE, &r->episode);
    put(t, S_T, &r->t);
    put(t, S_OBS, r->observation);
    put(t, S_NEXT, r->next_observation);
    put(t, S_ACT, &r->action);
    put(t, S_REW, &r->reward);
    put(t, S_TERM, &term);
    put(t, S_TRUNC, &trunc);
    put(t, S_Q, r->q);
    put(t, S_HIDDEN, r->hidden);
    put(t, S_CELL, r->cell);
    if (r->episode + 1 > l->next_step_ep) l->next_step_ep = r->episode + 1;
    return row_done(l, T_STEPS);
}

int rlog_append_weights(rlog *l, int64_t at_episode, const net *n) {
    rtable *t = &l->t[T_WEIGHTS];
    if (!n) return fail("%s: weight snapshot without a network", l->path);
    if (n->ntensors != t->ncols - 1)
        return fail("%s: the network has %d tensors, /weights was created for %d", l->path, n->ntensors,
                    t->ncols - 1);
    for (int i = 0; i < n->ntensors; i++) {
        const net_tensor *x = &n->tensors[i];
        const rcol *c = &t->cols[i + 1];
        size_t bytes = x->size * sizeof(float);
        if (strcmp(x->name, c->name) || bytes != c->row_bytes || c->rank != 1 + x->ndim ||
            c->inner[0] != (hsize_t)x->shape[0] || (x->ndim == 2 && c->inner[1] != (hsize_t)x->shape[1]))
            return fail("%s: tensor %d of the network is %s [%d, %d], /weights has %s of another shape", l->path, i,
                        x->name, x->shape[0], x->shape[1], c->name);
    }
    put(t, 0, &at_episode);
    for (int i = 0; i < n->ntensors; i++) put(t, i + 1, n->params + n->tensors[i].off);
    return row_done(l, T_WEIGHTS);
}

int rlog_flush(rlog *l) {
    for (int ti = 0; ti < NTABLES; ti++)
        if (table_write(l, ti)) return -1;
    if (H5Fflush(l->file, H5F_SCOPE_GLOBAL) < 0) return fail("%s: cannot flush the log", l->path);
    unmark_superblock(l);
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
    quiet();
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
        rc = fail("%s: no room left on its filesystem to write its status (%llu bytes free)", l->path,
                  (unsigned long long)vs.f_bavail * vs.f_frsize);
    /* A one-attribute change of an existing scalar in place: the only
     * metadata write after SWMR started, at the very end. */
    if (!rc && (l->complete || l->failed || !l->keep_status) &&
        attr_str_set(l->file, "status", l->complete ? "complete" : l->failed ? "failed" : "stopped"))
        rc = fail("%s: cannot write the root attribute status", l->path);
    /* "error" exists from creation (SWMR allows no new attributes); a log
     * made before it had one keeps only the status */
    if (!rc && !l->complete && l->failed && H5Aexists(l->file, "error") > 0 &&
        attr_str_set(l->file, "error", l->failed))
        rc = fail("%s: cannot write the root attribute error", l->path);
    for (int i = 0; i < NTABLES; i++) table_close(&l->t[i]);
    if (l->file >= 0 && H5Fclose(l->file) < 0 && !rc) rc = fail("%s: cannot close the log", l->path);
    l->file = -1;
    rlog_free(l);
    return rc;
}

/* ---- reading ---------------------------------------------------------------------- */

struct rlog_file {
    char *path;
    hid_t file;
};

/* The superblock's file-consistency flags (byte 11 of a version 2/3
 * superblock, at offset 0 or after a user block of 512, 1024, ... bytes):
 * bit 0 is set while a writer has the file open, and stays set when the
 * writer was killed. HDF5 has no public call that reports it. */
static int superblock_open_for_write(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    int res = 0;
    for (long off = 0; off <= 65536; off = off ? off * 2 : 512) {
        unsigned char b[12];
        if (fseek(fp, off, SEEK_SET) || fread(b, 1, sizeof b, fp) != sizeof b) break;
        if (memcmp(b, hdf5_sig, 8)) continue;
        res = b[8] >= 2 && (b[11] & 0x01);
        break;
    }
    fclose(fp);
    return res;
}

rlog_file *rlog_file_open(const char *path) {
    quiet();
    struct stat st;
    if (!path) return fail("rlog: no file given"), NULL;
    if (stat(path, &st) != 0) return fail("%s: %s", path, strerror(errno)), NULL;
    if (S_ISDIR(st.st_mode)) return fail("%s: is a folder, not a run log", path), NULL;
    if (!S_ISREG(st.st_mode)) return fail("%s: not a regular file", path), NULL;
    if (H5Fis_hdf5(path) <= 0) return fail("%s: not an HDF5 file", path), NULL;
    rlog_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return fail("%s: out of memory", path), NULL;
    }
    /* SWMR read lets us read a log that is still being written; files
     * written without the SWMR-capable format need a plain read-only open. */
    hid_t fapl = rlog_fapl(0);
    f->file = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
    if (f->file < 0) f->file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (fapl >= 0) H5Pclose(fapl);
    if (f->file < 0) {
        if (superblock_open_for_write(path))
            fail("%s: marked open for writing by a program that has not closed it (HDF5's status flags); "
                 "if no program is writing it, 'h5clear -s %s' clears the mark", path, path);
        else fail("%s: HDF5 cannot open it (damaged file?)", path);
        rlog_file_close(f);
        return NULL;
    }
    if (check_format(f->file, path)) {
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
    if (H5Oget_info_by_name(g, name, &oi, H5P_DEFAULT) < 0) return fail("%s: cannot read the object %s", path, name), -1;
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
    return ok ? 0 : (fail("%s: damaged: dataset %s cannot be read (a checksum or the compression failed)", path, name), -1);
}

int rlog_verify(const char *path) {
    rlog_file *f = rlog_file_open(path);
    if (!f) return -1;
    int rc = 0;
    for (int ti = 0; !rc && ti < NTABLES; ti++) {
        if (H5Lexists(f->file, table_names[ti], H5P_DEFAULT) <= 0) continue;
        hid_t g = H5Gopen2(f->file, table_names[ti], H5P_DEFAULT);
        if (g < 0) rc = fail("%s: damaged: group /%s cannot be opened", path, table_names[ti]);
        else {
            char where[1200];
            snprintf(where, sizeof where, "%s: /%s", path, table_names[ti]);
            if (H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, verify_one, where) < 0) rc = -1;
            H5Gclose(g);
        }
    }
    rlog_file_close(f);
    return rc;
}

int rlog_is_foreign(const char *path) {
    quiet();
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
    char *fmt = has > 0 ? attr_read_str(f, "format") : NULL;
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
    quiet();
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
    if (!rlog_file_has(f, dset)) return fail("%s: dataset /%s is missing", f->path, dset), -1;
    hid_t ds = H5Dopen2(f->file, dset, H5P_DEFAULT);
    if (ds < 0) return fail("%s: cannot open dataset /%s", f->path, dset), -1;
    hid_t sp = H5Dget_space(ds);
    int r = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (r == want_rank) H5Sget_simple_extent_dims(sp, dims, NULL);
    if (sp >= 0) H5Sclose(sp);
    if (r != want_rank) {
        H5Dclose(ds);
        return fail("%s: dataset /%s is %d-D, expected %d-D", f->path, dset, r, want_rank), -1;
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
            return fail("%s: dataset /%s is not numeric", f->path, dset);
        }
        ok = H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0;
    }
    if (ft >= 0) H5Tclose(ft);
    return ok ? 0 : fail("%s: cannot read dataset /%s", f->path, dset);
}

static int read_1d(const rlog_file *f, const char *dset, hid_t mtype, size_t es, void **out, int64_t *n,
                   int is_f64) {
    quiet();
    *out = NULL;
    *n = 0;
    hsize_t dims[1];
    hid_t ds = open_shaped(f, dset, 1, dims);
    if (ds < 0) return -1;
    int rc = 0;
    if (dims[0] > 0) {
        *out = malloc(dims[0] * es);
        if (!*out) rc = fail("%s: out of memory reading /%s", f->path, dset);
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
    quiet();
    *out = NULL;
    *rows = 0;
    *cols = 0;
    hsize_t dims[2];
    hid_t ds = open_shaped(f, dset, 2, dims);
    if (ds < 0) return -1;
    int rc = 0;
    if (want_cols > 0 && dims[1] != (hsize_t)want_cols)
        rc = fail("%s: dataset /%s is [%llu, %llu], expected [%llu, %d]", f->path, dset,
                  (unsigned long long)dims[0], (unsigned long long)dims[1], (unsigned long long)dims[0], want_cols);
    else if (dims[0] * dims[1] > 0) {
        *out = malloc(dims[0] * dims[1] * sizeof(float));
        if (!*out) rc = fail("%s: out of memory reading /%s", f->path, dset);
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
    quiet();
    if (!rlog_file_has(f, dset)) return -1;
    hid_t ds = H5Dopen2(f->file, dset, H5P_DEFAULT);
    if (ds < 0) return -1;
    int64_t r = ds_rows(ds);
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
    int64_t r = ds_rows(ds);
    H5Dclose(ds);
    if (r >= 0 && (w->shortest < 0 || r < w->shortest)) w->shortest = r;
    return 0;
}

int64_t rlog_table_rows(const rlog_file *f, const char *group) {
    quiet();
    if (H5Lexists(f->file, group, H5P_DEFAULT) <= 0) return 0;
    rows_walk w = {f, group, -1};
    H5Literate_by_name(f->file, group, H5_INDEX_NAME, H5_ITER_INC, NULL, rows_cb, &w, H5P_DEFAULT);
    return w.shortest < 0 ? 0 : w.shortest;
}

int rlog_attr_str(const rlog_file *f, const char *name, char **out) {
    quiet();
    *out = attr_read_str(f->file, name);
    return *out ? 0 : fail("%s: root attribute %s is missing or not a string", f->path, name);
}

int rlog_attr_i64(const rlog_file *f, const char *name, int64_t *out) {
    quiet();
    return attr_read_i64(f->file, name, out) ? fail("%s: root attribute %s is missing or not an integer",
                                                    f->path, name) : 0;
}

/* ---- summary ------------------------------------------------------------------------ */

/* Every dataset the schema requires, with its rank and width: a log whose
 * tables were damaged or written by something else fails here with the
 * dataset named, before anything trusts it. */
static int validate(const rlog_file *f, int obs, int na, int hid) {
    for (int ti = 0; ti < T_WEIGHTS; ti++) {
        for (int i = 0; i < table_ncols[ti]; i++) {
            const col_schema *s = &table_cols[ti][i];
            char p[128];
            snprintf(p, sizeof p, "%s/%s", table_names[ti], s->name);
            int optional = ti == T_STEPS && (i == S_HIDDEN || i == S_CELL);
            if (!rlog_file_has(f, p)) {
                if (optional && (i == S_CELL || hid == 0)) continue;
                return fail("%s: dataset /%s is missing", f->path, p);
            }
            int rank = s->width == W_1 ? 1 : 2;
            hsize_t dims[2];
            hid_t ds = open_shaped(f, p, rank, dims);
            if (ds < 0) return -1;
            H5Dclose(ds);
            int w = s->width == W_OBS ? obs : s->width == W_ACT ? na : s->width == W_1 ? 0 : hid;
            if (rank == 2 && w > 0 && dims[1] != (hsize_t)w)
                return fail("%s: dataset /%s is [%llu, %llu], expected [%llu, %d]", f->path, p,
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
    return attr_read_i64(f->file, name, &v) ? def : v;
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
    in->rql_version = dup_or_empty(attr_read_str(f->file, "rql_version"));
    in->created = dup_or_empty(attr_read_str(f->file, "created"));
    in->config = dup_or_empty(attr_read_str(f->file, "config"));
    in->status = dup_or_empty(attr_read_str(f->file, "status"));
    in->error = dup_or_empty(attr_read_str(f->file, "error"));
    in->sweep = dup_or_empty(attr_read_str(f->file, "sweep"));
    in->net_spec = dup_or_empty(attr_read_str(f->file, "net_spec"));
    s = attr_read_str(f->file, "cell");
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
        if (rlog_read_i64(f, "curves/episode", &iv, &n)) goto out;
        in->last_episode = iv[nc - 1];
        free(iv);
        iv = NULL;
        if (rlog_read_i64(f, "curves/env_steps", &iv, &n)) goto out;
        in->last_env_steps = iv[nc - 1];
        free(iv);
        iv = NULL;
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
        if (rlog_read_f64(f, "eval/success_rate", &v, &n)) goto out;
        in->final_success = v[ne - 1];
        free(v);
        v = NULL;
        if (rlog_read_f64(f, "eval/return_mean", &v, &n)) goto out;
        in->final_return = v[ne - 1];
        free(v);
        v = NULL;
        if (rlog_read_i64(f, "eval/at_episode", &iv, &n)) goto out;
        in->final_eval_episode = iv[ne - 1];
        free(iv);
        iv = NULL;
    }
    if (in->rows.weights > 0) {
        if (rlog_read_i64(f, "weights/at_episode", &iv, &n)) goto out;
        in->last_snapshot_episode = iv[in->rows.weights - 1];
        free(iv);
        iv = NULL;
    }
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
