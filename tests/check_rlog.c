/* check_rlog — the HDF5 run log: what rlog writes is checked through the
 * plain HDF5 C API (names, shapes, types, filters, attributes, values), read
 * live in SWMR mode while the writer holds it, survives a SIGKILL of the
 * writer, truncates for resume, and refuses bad files with messages that name
 * the file and dataset.
 *
 * Run with --writer PATH or --fake-runs DIR it is instead the small writer
 * that tests/e2e_logs.sh kills with SIGKILL, or the maker of finished logs
 * that it feeds to rql info / compare / export (see the end of this file). */
#define _GNU_SOURCE
#include <check.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "log/ckpt.h"
#include "log/rlog.h"

static char tmpdir[256], path[320];

static void setup(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_rlog_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(path, sizeof path, "%s/run.h5", tmpdir);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void teardown(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) fprintf(stderr, "cannot remove %s\n", tmpdir);
}

/* ---- fake run data ---------------------------------------------------------------- */

#define OBS 4
#define NA 3
#define HID 6

static net *make_net(const char *spec) {
    layer_spec ls[4];
    int nl = net_parse_spec(spec, ls, 4);
    ck_assert_int_gt(nl, 0);
    net *n = net_alloc(OBS, ls, nl, 1, 1);
    ck_assert_ptr_nonnull(n);
    for (size_t i = 0; i < n->nparams; i++) n->params[i] = 0.001f * (float)i;
    return n;
}

static rlog_meta meta_for(const net *n, int hid) {
    rlog_meta m = {.seed = 42, .env = "tmaze", .agent = "drqn", .label = "drqn_lstm",
                   .config = "env = { type = \"tmaze\"; };\n", .obs_size = OBS, .n_actions = NA,
                   .hidden_size = hid, .net = n};
    return m;
}

static rlog_curve_row curve(int64_t e) {
    rlog_curve_row r = {.episode = e, .env_steps = 7 * (e + 1), .ret = 0.5f * (float)e, .length = (int32_t)(e % 9),
                        .success = (int)(e % 3 == 0), .epsilon = 1.0f / (float)(e + 1), .wall_s = 0.25 * (double)e};
    return r;
}

/* Step t of recorded episode ep: every value derived from (ep, t). */
static void step_values(int64_t ep, int t, float *obs, float *next, float *q, float *h, float *c) {
    for (int j = 0; j < OBS; j++) {
        obs[j] = (float)(100 * ep + 10 * t + j);
        next[j] = (float)(100 * ep + 10 * (t + 1) + j);
    }
    for (int j = 0; j < NA; j++) q[j] = (float)ep + 0.1f * (float)t + 0.01f * (float)j;
    for (int j = 0; j < HID; j++) {
        h[j] = -(float)t - 0.1f * (float)j;
        c[j] = (float)t + 0.1f * (float)j;
    }
}

static int append_step_plain(rlog *l, int64_t ep, int t, int T) {
    float obs[OBS], next[OBS], q[NA], h[HID], c[HID];
    step_values(ep, t, obs, next, q, h, c);
    rlog_step_row s = {.episode = ep, .t = t, .observation = obs, .next_observation = next, .action = (t + (int)ep) % NA,
                       .reward = t == T - 1 ? 1.0f : -0.1f, .terminated = t == T - 1, .truncated = 0,
                       .q = q, .hidden = h, .cell = c};
    return rlog_append_step(l, &s);
}

static void append_step(rlog *l, int64_t ep, int t, int T) {
    ck_assert_msg(append_step_plain(l, ep, t, T) == 0, "%s", rql_error());
}

/* ---- plain HDF5 helpers ------------------------------------------------------------- */

static int dims_of(hid_t f, const char *name, hsize_t *dims, hsize_t *maxd) {
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    ck_assert_msg(ds >= 0, "dataset %s missing", name);
    hid_t sp = H5Dget_space(ds);
    int r = H5Sget_simple_extent_ndims(sp);
    H5Sget_simple_extent_dims(sp, dims, maxd);
    H5Sclose(sp);
    H5Dclose(ds);
    return r;
}

static char *root_str(hid_t f, const char *name) {
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    ck_assert_msg(a >= 0, "attribute %s missing", name);
    hid_t t = H5Aget_type(a);
    ck_assert_int_eq(H5Tget_class(t), H5T_STRING);
    ck_assert_int_gt(H5Tis_variable_str(t), 0);
    ck_assert_int_eq(H5Tget_cset(t), H5T_CSET_UTF8);
    char *s = NULL;
    ck_assert_int_ge(H5Aread(a, t, &s), 0);
    char *out = strdup(s);
    H5free_memory(s);
    H5Tclose(t);
    H5Aclose(a);
    return out;
}

static int64_t root_i64(hid_t f, const char *name) {
    int64_t v = -1;
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    ck_assert_msg(a >= 0, "attribute %s missing", name);
    ck_assert_int_ge(H5Aread(a, H5T_NATIVE_INT64, &v), 0);
    H5Aclose(a);
    return v;
}

static void read_ds(hid_t f, const char *name, hid_t mtype, void *buf) {
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    ck_assert_msg(ds >= 0, "dataset %s missing", name);
    ck_assert_msg(H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0, "cannot read %s", name);
    H5Dclose(ds);
}

static void check_bool_enum(hid_t f, const char *name) {
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    hid_t t = H5Dget_type(ds);
    ck_assert_int_eq(H5Tget_class(t), H5T_ENUM);
    ck_assert_int_eq((int)H5Tget_size(t), 1);
    ck_assert_int_eq(H5Tget_nmembers(t), 2);
    char *m0 = H5Tget_member_name(t, 0), *m1 = H5Tget_member_name(t, 1);
    int8_t v0, v1;
    H5Tget_member_value(t, 0, &v0);
    H5Tget_member_value(t, 1, &v1);
    ck_assert_str_eq(m0, "FALSE");
    ck_assert_str_eq(m1, "TRUE");
    ck_assert(v0 == 0 && v1 == 1);
    H5free_memory(m0);
    H5free_memory(m1);
    H5Tclose(t);
    H5Dclose(ds);
}

/* Chunked, shuffle then deflate then a Fletcher-32 checksum, unlimited rows. */
static void check_layout(hid_t f, const char *name) {
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    hid_t p = H5Dget_create_plist(ds);
    ck_assert_int_eq(H5Pget_layout(p), H5D_CHUNKED);
    ck_assert_int_eq(H5Pget_nfilters(p), 3);
    unsigned flags;
    size_t nv = 0;
    ck_assert_int_eq(H5Pget_filter2(p, 0, &flags, &nv, NULL, 0, NULL, NULL), H5Z_FILTER_SHUFFLE);
    nv = 0;
    ck_assert_int_eq(H5Pget_filter2(p, 1, &flags, &nv, NULL, 0, NULL, NULL), H5Z_FILTER_DEFLATE);
    nv = 0;
    ck_assert_int_eq(H5Pget_filter2(p, 2, &flags, &nv, NULL, 0, NULL, NULL), H5Z_FILTER_FLETCHER32);
    H5Pclose(p);
    H5Dclose(ds);
    hsize_t d[3], m[3];
    dims_of(f, name, d, m);
    ck_assert(m[0] == H5S_UNLIMITED);
}

/* ---- tests ---------------------------------------------------------------------------- */

#define NCURVES 1300                  /* crosses the 512-row block twice */

START_TEST(write_read_back) {
    net *n = make_net("dense:8:relu,lstm:6,dense:3");
    rlog_meta m = meta_for(n, HID);
    rlog *l = rlog_create(path, &m);
    ck_assert_msg(l != NULL, "%s", rql_error());
    for (int e = 0; e < NCURVES; e++) {
        rlog_curve_row r = curve(e);
        ck_assert_int_eq(rlog_append_curve(l, &r), 0);
    }
    for (int u = 0; u < 20; u++) {
        rlog_train_row r = {.update = 10 * (u + 1), .loss = 1.0f / (float)(u + 1), .q_mean = (float)u, .grad_norm = 2};
        ck_assert_int_eq(rlog_append_train(l, &r), 0);
    }
    for (int i = 0; i < 3; i++) {
        rlog_eval_row r = {.at_episode = 100 * (i + 1), .env_steps = 700 * (i + 1), .return_mean = 0.3 * i,
                           .success_rate = 0.25 * (i + 1), .episodes = 10};
        ck_assert_int_eq(rlog_append_eval(l, &r), 0);
    }
    /* two episodes recorded side by side: rows interleave */
    for (int t = 0; t < 5; t++) {
        append_step(l, 0, t, 5);
        if (t < 3) append_step(l, 1, t, 3);
    }
    ck_assert_int_eq(rlog_next_step_episode(l), 2);
    ck_assert_int_eq(rlog_append_weights(l, 100, n), 0);
    for (size_t i = 0; i < n->nparams; i++) n->params[i] *= -1;
    ck_assert_int_eq(rlog_append_weights(l, 200, n), 0);
    rlog_counts c;
    rlog_get_counts(l, &c);
    ck_assert(c.curves == NCURVES && c.train == 20 && c.eval == 3 && c.steps == 8 && c.weights == 2);
    rlog_set_complete(l);
    ck_assert_msg(rlog_close(l) == 0, "%s", rql_error());

    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    char *s;
    ck_assert_str_eq(s = root_str(f, "format"), "rql-log"); free(s);
    ck_assert_int_eq(root_i64(f, "format_version"), RLOG_FORMAT_VERSION);
    ck_assert_int_eq(root_i64(f, "seed"), 42);
    ck_assert_int_eq(root_i64(f, "obs_size"), OBS);
    ck_assert_int_eq(root_i64(f, "n_actions"), NA);
    ck_assert_int_eq(root_i64(f, "hidden_size"), HID);
    ck_assert_str_eq(s = root_str(f, "env"), "tmaze"); free(s);
    ck_assert_str_eq(s = root_str(f, "agent"), "drqn"); free(s);
    ck_assert_str_eq(s = root_str(f, "label"), "drqn_lstm"); free(s);
    ck_assert_str_eq(s = root_str(f, "config"), m.config); free(s);
    ck_assert_str_eq(s = root_str(f, "cell"), "lstm"); free(s);
    ck_assert_str_eq(s = root_str(f, "net_spec"), "dense:8:relu,lstm:6,dense:3"); free(s);
    ck_assert_str_eq(s = root_str(f, "status"), "complete"); free(s);
    ck_assert_str_eq(s = root_str(f, "rql_version"), RQL_VERSION); free(s);
    s = root_str(f, "created");
    int yy, mo, dd, hh, mi, ss;
    char z;
    ck_assert_msg(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &yy, &mo, &dd, &hh, &mi, &ss, &z) == 7 && z == 'Z' &&
                      strlen(s) == 20, "created = %s", s);
    free(s);

    hsize_t d[3], mx[3];
    static const char *const curves[] = {"episode", "env_steps", "return", "length", "success", "epsilon", "wall_s"};
    char name[64];
    for (int i = 0; i < 7; i++) {
        snprintf(name, sizeof name, "curves/%s", curves[i]);
        ck_assert_int_eq(dims_of(f, name, d, mx), 1);
        ck_assert_int_eq((int)d[0], NCURVES);
        check_layout(f, name);
    }
    check_bool_enum(f, "curves/success");
    check_bool_enum(f, "steps/terminations");
    check_bool_enum(f, "steps/truncations");
    /* column order is creation order, as the schema lists it */
    hid_t g = H5Gopen2(f, "curves", H5P_DEFAULT);
    for (int i = 0; i < 7; i++) {
        ck_assert_int_gt(H5Lget_name_by_idx(g, ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, (hsize_t)i, name, sizeof name,
                                            H5P_DEFAULT), 0);
        ck_assert_str_eq(name, curves[i]);
    }
    H5Gclose(g);
    /* values, with the file types the doc lists */
    int64_t *ep = malloc(NCURVES * sizeof *ep);
    float *ret = malloc(NCURVES * sizeof *ret);
    int8_t *succ = malloc(NCURVES);
    double *wall = malloc(NCURVES * sizeof *wall);
    read_ds(f, "curves/episode", H5T_NATIVE_INT64, ep);
    read_ds(f, "curves/return", H5T_NATIVE_FLOAT, ret);
    read_ds(f, "curves/wall_s", H5T_NATIVE_DOUBLE, wall);
    hid_t bt = rlog_bool_type();
    read_ds(f, "curves/success", bt, succ);
    H5Tclose(bt);
    for (int e = 0; e < NCURVES; e++) {
        rlog_curve_row r = curve(e);
        ck_assert_int_eq(ep[e], e);
        ck_assert_float_eq(ret[e], r.ret);
        ck_assert_int_eq(succ[e], r.success);
        ck_assert_double_eq(wall[e], r.wall_s);
    }
    free(ep); free(ret); free(succ); free(wall);
    hid_t ds = H5Dopen2(f, "curves/return", H5P_DEFAULT);
    hid_t t = H5Dget_type(ds);
    ck_assert(H5Tequal(t, H5T_IEEE_F32LE) > 0);
    H5Tclose(t);
    H5Dclose(ds);
    ds = H5Dopen2(f, "eval/success_rate", H5P_DEFAULT);
    t = H5Dget_type(ds);
    ck_assert(H5Tequal(t, H5T_IEEE_F64LE) > 0);
    H5Tclose(t);
    H5Dclose(ds);

    ck_assert_int_eq(dims_of(f, "train/loss", d, mx), 1);
    ck_assert_int_eq((int)d[0], 20);
    double sr[3];
    read_ds(f, "eval/success_rate", H5T_NATIVE_DOUBLE, sr);
    ck_assert(sr[0] == 0.25 && sr[1] == 0.5 && sr[2] == 0.75);

    /* /steps: 2-D widths and values */
    ck_assert_int_eq(dims_of(f, "steps/observations", d, mx), 2);
    ck_assert(d[0] == 8 && d[1] == OBS && mx[0] == H5S_UNLIMITED && mx[1] == OBS);
    ck_assert_int_eq(dims_of(f, "steps/next_observations", d, mx), 2);
    ck_assert(d[1] == OBS);
    ck_assert_int_eq(dims_of(f, "steps/q_values", d, mx), 2);
    ck_assert(d[1] == NA);
    ck_assert_int_eq(dims_of(f, "steps/hidden", d, mx), 2);
    ck_assert(d[1] == HID);
    ck_assert_int_eq(dims_of(f, "steps/cell", d, mx), 2);
    ck_assert(d[1] == HID);
    float obs[8][OBS], cell[8][HID];
    int64_t sep[8];
    int32_t st[8];
    read_ds(f, "steps/observations", H5T_NATIVE_FLOAT, obs);
    read_ds(f, "steps/cell", H5T_NATIVE_FLOAT, cell);
    read_ds(f, "steps/episode", H5T_NATIVE_INT64, sep);
    read_ds(f, "steps/t", H5T_NATIVE_INT32, st);
    static const int want_ep[8] = {0, 1, 0, 1, 0, 1, 0, 0}, want_t[8] = {0, 0, 1, 1, 2, 2, 3, 4};
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(sep[i], want_ep[i]);
        ck_assert_int_eq(st[i], want_t[i]);
        float o[OBS], nx[OBS], q[NA], h[HID], c2[HID];
        step_values(want_ep[i], want_t[i], o, nx, q, h, c2);
        ck_assert(!memcmp(obs[i], o, sizeof o));
        ck_assert(!memcmp(cell[i], c2, sizeof c2));
    }
    /* /weights: one [K, ...] dataset per tensor, named as in PyTorch */
    ck_assert_int_eq(dims_of(f, "weights/at_episode", d, mx), 1);
    ck_assert_int_eq((int)d[0], 2);
    for (int i = 0; i < n->ntensors; i++) {
        const net_tensor *x = &n->tensors[i];
        snprintf(name, sizeof name, "weights/%s", x->name);
        int r = dims_of(f, name, d, mx);
        ck_assert_int_eq(r, 1 + x->ndim);
        ck_assert_int_eq((int)d[0], 2);
        ck_assert_int_eq((int)d[1], x->shape[0]);
        if (x->ndim == 2) ck_assert_int_eq((int)d[2], x->shape[1]);
        float *w = malloc(2 * x->size * sizeof *w);
        read_ds(f, name, H5T_NATIVE_FLOAT, w);
        for (size_t k = 0; k < x->size; k++) {
            ck_assert_float_eq(w[k], 0.001f * (float)(x->off + k));
            ck_assert_float_eq(w[x->size + k], -0.001f * (float)(x->off + k));
        }
        free(w);
    }
    ck_assert(H5Lexists(f, "weights/1.weight_ih_l0", H5P_DEFAULT) > 0);
    g = H5Gopen2(f, "weights", H5P_DEFAULT);
    s = NULL;
    hid_t a = H5Aopen(g, "gate_order", H5P_DEFAULT);
    hid_t at = H5Aget_type(a);
    H5Aread(a, at, &s);
    ck_assert_str_eq(s, "ifgo");
    H5free_memory(s);
    H5Tclose(at);
    H5Aclose(a);
    H5Gclose(g);
    H5Fclose(f);

    /* The reader API agrees. */
    rlog_info in;
    ck_assert_msg(rlog_read_info(path, &in) == 0, "%s", rql_error());
    ck_assert_int_eq(in.rows.curves, NCURVES);
    ck_assert_int_eq(in.rows.steps, 8);
    ck_assert_int_eq(in.episodes_recorded, 2);
    ck_assert_int_eq(in.last_episode, NCURVES - 1);
    ck_assert_double_eq(in.final_success, 0.75);
    ck_assert_int_eq(in.final_eval_episode, 300);
    ck_assert_int_eq(in.last_snapshot_episode, 200);
    ck_assert_int_eq(in.open_for_write, 0);
    ck_assert_str_eq(in.status, "complete");
    ck_assert_int_eq(in.seed, 42);
    rlog_info_free(&in);
    net_free(n);
}
END_TEST

START_TEST(memoryless_and_gru_layouts) {
    /* qtable: no net, no recurrent state */
    rlog_meta m = meta_for(NULL, 0);
    m.agent = "qtable";
    rlog *l = rlog_create(path, &m);
    ck_assert_msg(l != NULL, "%s", rql_error());
    float o[OBS] = {1, 2, 3, 4}, q[NA] = {0};
    rlog_step_row s = {.episode = 0, .t = 0, .observation = o, .next_observation = NULL, .q = q};
    ck_assert_int_eq(rlog_append_step(l, &s), 0);
    ck_assert_int_eq(rlog_close(l), 0);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert(H5Lexists(f, "steps/hidden", H5P_DEFAULT) == 0 && H5Lexists(f, "steps/cell", H5P_DEFAULT) == 0);
    H5G_info_t gi;
    hid_t g = H5Gopen2(f, "weights", H5P_DEFAULT);
    H5Gget_info(g, &gi);
    ck_assert_int_eq((int)gi.nlinks, 1);                       /* at_episode only */
    H5Gclose(g);
    float nx[OBS];
    read_ds(f, "steps/next_observations", H5T_NATIVE_FLOAT, nx);
    ck_assert(isnan(nx[0]) && isnan(nx[3]));                   /* not given: NaN */
    char *st = root_str(f, "status");
    ck_assert_str_eq(st, "stopped");                           /* closed without rlog_set_complete */
    free(st);
    st = root_str(f, "cell");
    ck_assert_str_eq(st, "none");
    free(st);
    H5Fclose(f);
    rlog_info in;
    ck_assert_msg(rlog_read_info(path, &in) == 0, "%s", rql_error());
    rlog_info_free(&in);

    /* GRU: hidden but no cell */
    net *n = make_net("gru:6,dense:3");
    m = meta_for(n, HID);
    l = rlog_create(path, &m);
    ck_assert_msg(l != NULL, "%s", rql_error());
    ck_assert_int_eq(rlog_close(l), 0);
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert(H5Lexists(f, "steps/hidden", H5P_DEFAULT) > 0 && H5Lexists(f, "steps/cell", H5P_DEFAULT) == 0);
    ck_assert(H5Lexists(f, "weights/0.weight_hh_l0", H5P_DEFAULT) > 0);
    st = root_str(f, "cell");
    ck_assert_str_eq(st, "gru");
    free(st);
    H5Fclose(f);
    net_free(n);
}
END_TEST

/* The writer runs in a child so that reader and writer are separate HDF5
 * instances, as a user's h5py beside a running rql. Handshake over pipes. */
START_TEST(swmr_live_reader) {
    int up[2], down[2];
    ck_assert_int_eq(pipe(up), 0);
    ck_assert_int_eq(pipe(down), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char c = 0;
        rlog_meta m = meta_for(NULL, 0);
        rlog *l = rlog_create(path, &m);
        if (!l) _exit(3);
        for (int e = 0; e < 100; e++) {
            rlog_curve_row r = curve(e);
            rlog_append_curve(l, &r);
        }
        if (rlog_flush(l)) _exit(4);
        if (write(up[1], "a", 1) != 1 || read(down[0], &c, 1) != 1) _exit(5);
        for (int e = 100; e < 700; e++) {
            rlog_curve_row r = curve(e);
            rlog_append_curve(l, &r);
        }
        if (rlog_flush(l)) _exit(6);
        if (write(up[1], "b", 1) != 1 || read(down[0], &c, 1) != 1) _exit(7);
        _exit(rlog_close(l) ? 8 : 0);
    }
    char c;
    ck_assert_int_eq(read(up[0], &c, 1), 1);
    /* plain HDF5 in SWMR read mode, while the writer holds the file */
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    hid_t ds = H5Dopen2(f, "curves/episode", H5P_DEFAULT);
    hsize_t d[1];
    hid_t sp = H5Dget_space(ds);
    H5Sget_simple_extent_dims(sp, d, NULL);
    H5Sclose(sp);
    ck_assert_int_eq((int)d[0], 100);
    ck_assert_int_eq(write(down[1], "x", 1), 1);
    ck_assert_int_eq(read(up[0], &c, 1), 1);
    ck_assert_int_ge(H5Drefresh(ds), 0);
    sp = H5Dget_space(ds);
    H5Sget_simple_extent_dims(sp, d, NULL);
    H5Sclose(sp);
    ck_assert_int_eq((int)d[0], 700);
    int64_t *ep = malloc(700 * sizeof *ep);
    ck_assert_int_ge(H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ep), 0);
    for (int i = 0; i < 700; i++) ck_assert_int_eq(ep[i], i);
    free(ep);
    H5Dclose(ds);
    H5Fclose(f);
    /* a plain read-only open (h5dump, MATLAB) works on the live file too */
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_msg(f >= 0, "plain HDF5 open of the live log failed");
    hsize_t d2[1];
    dims_of(f, "curves/episode", d2, NULL);
    ck_assert_int_eq((int)d2[0], 700);
    H5Fclose(f);
    /* and the summary reader, still live */
    rlog_info in;
    ck_assert_msg(rlog_read_info(path, &in) == 0, "%s", rql_error());
    ck_assert_int_eq(in.rows.curves, 700);
    ck_assert_int_eq(in.open_for_write, 0);     /* the mark is cleared after each flush */
    ck_assert_str_eq(in.status, "running");
    rlog_info_free(&in);
    ck_assert_int_eq(write(down[1], "y", 1), 1);
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* A writer killed by SIGKILL after a flush: every flushed row is readable,
 * and rlog_reopen continues the file (clearing the open-for-write mark). */
START_TEST(sigkill_then_resume) {
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        net *n = make_net("dense:8:relu,lstm:6,dense:3");
        rlog_meta m = meta_for(n, HID);
        rlog *l = rlog_create(path, &m);
        if (!l) _exit(3);
        for (int e = 0; e < 600; e++) {
            rlog_curve_row r = curve(e);
            rlog_append_curve(l, &r);
        }
        for (int t = 0; t < 4; t++) append_step(l, 0, t, 4);
        rlog_append_weights(l, 600, n);
        if (rlog_flush(l)) _exit(4);
        for (int e = 600; e < 2000; e++) {          /* two more blocks reach the file, unflushed */
            rlog_curve_row r = curve(e);
            rlog_append_curve(l, &r);
        }
        kill(getpid(), SIGKILL);
        _exit(5);
    }
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    rlog_info in;
    ck_assert_msg(rlog_read_info(path, &in) == 0, "%s", rql_error());
    ck_assert_int_ge(in.rows.curves, 600);
    ck_assert_int_le(in.rows.curves, 2000);
    ck_assert_int_eq(in.rows.steps, 4);
    ck_assert_int_eq(in.rows.weights, 1);
    ck_assert_str_eq(in.status, "running");
    rlog_info_free(&in);
    /* A plain (non-SWMR) read-only open works too: the open-for-write mark
     * was cleared at the flush, as h5dump and MATLAB need. */
    hid_t pf = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_msg(pf >= 0, "plain HDF5 open of the killed log failed");
    hsize_t d[1];
    dims_of(pf, "curves/episode", d, NULL);
    ck_assert_int_ge((int)d[0], 600);
    H5Fclose(pf);
    rlog_file *f = rlog_file_open(path);
    ck_assert_ptr_nonnull(f);
    double *ret;
    int64_t n;
    ck_assert_int_eq(rlog_read_f64(f, "curves/return", &ret, &n), 0);
    for (int e = 0; e < 600; e++) ck_assert_double_eq(ret[e], 0.5 * e);
    free(ret);
    rlog_file_close(f);

    rlog_counts c = {.curves = 600, .train = 0, .eval = 0, .steps = 4, .weights = 1};
    rlog *l = rlog_reopen(path, &c);
    ck_assert_msg(l != NULL, "%s", rql_error());
    rlog_counts got;
    rlog_get_counts(l, &got);
    ck_assert(!memcmp(&got, &c, sizeof c));
    ck_assert_int_eq(rlog_next_step_episode(l), 1);
    for (int e = 600; e < 610; e++) {
        rlog_curve_row r = curve(e);
        ck_assert_int_eq(rlog_append_curve(l, &r), 0);
    }
    rlog_set_complete(l);
    ck_assert_msg(rlog_close(l) == 0, "%s", rql_error());
    ck_assert_msg(rlog_read_info(path, &in) == 0, "%s", rql_error());
    ck_assert_int_eq(in.rows.curves, 610);
    ck_assert_int_eq(in.last_episode, 609);
    ck_assert_int_eq(in.open_for_write, 0);
    ck_assert_str_eq(in.status, "complete");
    rlog_info_free(&in);
}
END_TEST

START_TEST(truncate_for_resume) {
    net *n = make_net("dense:8:relu,lstm:6,dense:3");
    rlog_meta m = meta_for(n, HID);
    rlog *l = rlog_create(path, &m);
    for (int e = 0; e < 100; e++) {
        rlog_curve_row r = curve(e);
        rlog_append_curve(l, &r);
    }
    rlog_eval_row ev = {.at_episode = 100, .success_rate = 0.5, .episodes = 10};
    rlog_append_eval(l, &ev);
    for (int t = 0; t < 3; t++) append_step(l, 0, t, 3);
    rlog_append_weights(l, 100, n);
    ck_assert_int_eq(rlog_flush(l), 0);
    rlog_counts ck;
    rlog_get_counts(l, &ck);                              /* what a checkpoint saves */
    for (int e = 100; e < 150; e++) {
        rlog_curve_row r = curve(e);
        r.ret = -1;                                       /* rows the resumed run must drop */
        rlog_append_curve(l, &r);
    }
    rlog_append_eval(l, &ev);
    for (int t = 0; t < 3; t++) append_step(l, 1, t, 3);
    rlog_train_row tr = {.update = 5};
    rlog_append_train(l, &tr);
    rlog_append_weights(l, 150, n);
    ck_assert_int_eq(rlog_close(l), 0);

    l = rlog_reopen(path, &ck);
    ck_assert_msg(l != NULL, "%s", rql_error());
    ck_assert_int_eq(rlog_next_step_episode(l), 1);
    for (int e = 100; e < 120; e++) {
        rlog_curve_row r = curve(e);
        rlog_append_curve(l, &r);
    }
    rlog_set_complete(l);
    ck_assert_int_eq(rlog_close(l), 0);
    rlog_file *f = rlog_file_open(path);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(rlog_table_rows(f, "curves"), 120);
    ck_assert_int_eq(rlog_table_rows(f, "eval"), 1);
    ck_assert_int_eq(rlog_table_rows(f, "steps"), 3);
    ck_assert_int_eq(rlog_table_rows(f, "train"), 0);
    ck_assert_int_eq(rlog_table_rows(f, "weights"), 1);
    ck_assert_int_eq(rlog_rows(f, "weights/1.weight_hh_l0"), 1);
    double *ret;
    int64_t nr;
    ck_assert_int_eq(rlog_read_f64(f, "curves/return", &ret, &nr), 0);
    ck_assert_int_eq(nr, 120);
    for (int e = 0; e < 120; e++) ck_assert_double_eq(ret[e], 0.5 * e);
    free(ret);
    rlog_file_close(f);

    /* A checkpoint newer than the log: refused, naming table and counts. */
    rlog_counts big = ck;
    big.curves = 500;
    ck_assert_ptr_null(rlog_reopen(path, &big));
    ck_assert_msg(strstr(rql_error(), "run.h5: /curves holds 120 complete rows, fewer than the 500"), "%s",
                  rql_error());
    /* open for append: continues at the end */
    l = rlog_open_append(path);
    ck_assert_msg(l != NULL, "%s", rql_error());
    rlog_get_counts(l, &ck);
    ck_assert_int_eq(ck.curves, 120);
    ck_assert_int_eq(rlog_next_step_episode(l), 1);
    append_step(l, 1, 0, 1);
    ck_assert_int_eq(rlog_next_step_episode(l), 2);
    ck_assert_int_eq(rlog_close(l), 0);
    /* appending recorded episodes keeps the run's status */
    rlog_info in;
    ck_assert_int_eq(rlog_read_info(path, &in), 0);
    ck_assert_str_eq(in.status, "complete");
    rlog_info_free(&in);
    /* snapshots of another network are refused */
    net *other = make_net("dense:8:relu,gru:6,dense:3");
    l = rlog_open_append(path);
    ck_assert_int_eq(rlog_append_weights(l, 1, other), -1);
    ck_assert_msg(strstr(rql_error(), "/weights has"), "%s", rql_error());
    rlog_close(l);
    net_free(other);
    net_free(n);
}
END_TEST

static void good_log(const char *p);

/* A file left marked "open for write" by a killed non-rlog writer (HDF5 sets
 * the mark at open): the reader explains it, and reopening for append clears
 * the mark as h5clear -s does. */
START_TEST(marked_open_for_write) {
    good_log(path);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
        H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
        hid_t f = H5Fopen(path, H5F_ACC_RDWR, fapl);
        if (f < 0 || H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) _exit(3);
        kill(getpid(), SIGKILL);
        _exit(4);
    }
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFSIGNALED(status));
    rlog_info in;
    ck_assert_int_eq(rlog_read_info(path, &in), -1);
    ck_assert_msg(strstr(rql_error(), "run.h5: marked open for writing") && strstr(rql_error(), "h5clear -s"), "%s",
                  rql_error());
    rlog *l = rlog_open_append(path);
    ck_assert_msg(l != NULL, "%s", rql_error());
    append_step(l, 1, 0, 1);
    ck_assert_int_eq(rlog_close(l), 0);
    ck_assert_msg(rlog_read_info(path, &in) == 0, "%s", rql_error());
    ck_assert_int_eq(in.rows.steps, 4);
    ck_assert_int_eq(in.open_for_write, 0);
    rlog_info_free(&in);
}
END_TEST

/* Several runs write their own logs from several threads at once. */
START_TEST(threads_write_own_logs) {
    char paths[4][340];
    int fails = 0;
#pragma omp parallel for num_threads(2) reduction(+ : fails)
    for (int k = 0; k < 4; k++) {
        snprintf(paths[k], sizeof paths[k], "%s/run%d.h5", tmpdir, k);
        rlog_meta m = meta_for(NULL, 0);
        m.seed = k;
        rlog *l = rlog_create(paths[k], &m);
        if (!l) { fails++; continue; }
        for (int e = 0; e < 1500 + 100 * k; e++) {
            rlog_curve_row r = curve(e);
            fails += rlog_append_curve(l, &r) != 0;
            if (e % 400 == 0) fails += rlog_flush(l) != 0;
        }
        fails += rlog_close(l) != 0;
    }
    ck_assert_int_eq(fails, 0);
    for (int k = 0; k < 4; k++) {
        rlog_info in;
        ck_assert_msg(rlog_read_info(paths[k], &in) == 0, "%s", rql_error());
        ck_assert_int_eq(in.rows.curves, 1500 + 100 * k);
        ck_assert_int_eq(in.seed, k);
        rlog_info_free(&in);
    }
}
END_TEST

/* ---- bad files --------------------------------------------------------------------------- */

static void expect_info_error(const char *p, const char *want) {
    rlog_info in;
    ck_assert_int_eq(rlog_read_info(p, &in), -1);
    ck_assert_msg(strstr(rql_error(), want), "got \"%s\", want \"%s\"", rql_error(), want);
    ck_assert_msg(strstr(rql_error(), p) || !strncmp(p, "/nonexistent", 12), "message does not name %s: %s", p,
                  rql_error());
}

static void good_log(const char *p) {
    net *n = make_net("dense:8:relu,lstm:6,dense:3");
    rlog_meta m = meta_for(n, HID);
    rlog *l = rlog_create(p, &m);
    ck_assert_msg(l != NULL, "%s", rql_error());
    for (int t = 0; t < 3; t++) append_step(l, 0, t, 3);
    ck_assert_int_eq(rlog_close(l), 0);
    net_free(n);
}

static void flip_byte(const char *p, long off) {
    FILE *fp = fopen(p, "r+b");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, off, SEEK_SET);
    int c = fgetc(fp);
    fseek(fp, off, SEEK_SET);
    fputc(c ^ 0x5a, fp);
    fclose(fp);
}

/* XXH64 against the reference vectors of xxHash; a checkpoint with any byte
 * flipped or cut is refused with its name, before HDF5 reads it. */
START_TEST(checkpoint_digest) {
    ck_assert(ckpt_xxh64("", 0) == 0xef46db3751d8e999ULL);
    ck_assert(ckpt_xxh64("a", 1) == 0xd24ec4f1a98c6e5bULL);
    ck_assert(ckpt_xxh64("abc", 3) == 0x44bc2cf5ad770999ULL);
    const char *s = "Nobody inspects the spammish repetition";
    ck_assert(ckpt_xxh64(s, strlen(s)) == 0xfbcea83c8a378bf1ULL);
    char p[400], err[1024];
    snprintf(p, sizeof p, "%s/c.ckpt", tmpdir);
    ckpt_writer w;
    ck_assert_int_eq(ckpt_begin(&w, p, err, sizeof err), 0);
    float x[300];
    for (int i = 0; i < 300; i++) x[i] = (float)i;
    ck_assert_int_eq(ckpt_put_bytes(w.file, "x", x, sizeof x), 0);
    ck_assert_int_eq(ckpt_put_i64(w.file, "n", 7), 0);
    ck_assert_int_eq(ckpt_commit(&w, err, sizeof err), 0);
    ck_assert_int_eq(ckpt_verify(p, err, sizeof err), 0);
    hid_t f = ckpt_open(p, err, sizeof err);
    ck_assert_msg(f >= 0, "%s", err);
    float y[300];
    int64_t n = 0;
    ck_assert_int_eq(ckpt_get_bytes(f, "x", y, sizeof y), 0);
    ck_assert_int_eq(ckpt_get_i64(f, "n", &n), 0);
    ck_assert(n == 7 && !memcmp(x, y, sizeof x));
    H5Fclose(f);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    char q[420], cmd[900];
    snprintf(q, sizeof q, "%s/d.ckpt", tmpdir);
    /* every 97th byte, the user block's padding included */
    for (long off = 0; off < st.st_size; off += 97) {
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", p, q);
        ck_assert_int_eq(system(cmd), 0);
        flip_byte(q, off);
        ck_assert_msg(ckpt_open(q, err, sizeof err) < 0, "byte %ld flipped and accepted", off);
        ck_assert_msg(strstr(err, q) && (strstr(err, "damaged") || strstr(err, "not an HDF5")), "%s", err);
    }
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", p, q);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(truncate(q, st.st_size - 1), 0);
    ck_assert_int_lt(ckpt_open(q, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "truncated or extended"), "%s", err);
}
END_TEST

/* A log whose superblock is damaged fails at once (it blocked a SWMR open
 * for hours with HDF5's default read attempts); so does a FIFO. */
START_TEST(damaged_superblock_bounded) {
    good_log(path);
    char p[400];
    snprintf(p, sizeof p, "%s/cut.h5", tmpdir);
    char cmd[900];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, p);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(truncate(p, 16), 0);
    double t0 = (double)time(NULL);
    rlog_file *f = rlog_file_open(p);
    ck_assert_ptr_null(f);
    ck_assert_msg(strstr(rql_error(), p), "%s", rql_error());
    ck_assert_ptr_null(rlog_open_append(p));
    ck_assert_msg((double)time(NULL) - t0 < 20, "took %.0f s", (double)time(NULL) - t0);
    ck_assert_int_eq(rlog_verify(path), 0);
    snprintf(p, sizeof p, "%s/fifo.h5", tmpdir);
    ck_assert_int_eq(mkfifo(p, 0644), 0);
    ck_assert_ptr_null(rlog_file_open(p));
    ck_assert_msg(strstr(rql_error(), "not a regular file"), "%s", rql_error());
}
END_TEST

START_TEST(bad_files) {
    char p[400];
    expect_info_error("/nonexistent/run.h5", "/nonexistent/run.h5: No such file or directory");
    ck_assert_ptr_null(rlog_reopen("/nonexistent/run.h5", &(rlog_counts){0}));
    ck_assert_msg(strstr(rql_error(), "No such file"), "%s", rql_error());
    expect_info_error(tmpdir, "is a folder");

    snprintf(p, sizeof p, "%s/text.h5", tmpdir);
    FILE *fp = fopen(p, "w");
    fputs("this is not HDF5\n", fp);
    fclose(fp);
    expect_info_error(p, "not an HDF5 file");
    ck_assert_ptr_null(rlog_open_append(p));
    ck_assert_msg(strstr(rql_error(), "not an HDF5 file"), "%s", rql_error());

    snprintf(p, sizeof p, "%s/plain.h5", tmpdir);
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(f);
    expect_info_error(p, "not an rql run log (root attribute format is missing");

    /* newer format_version */
    good_log(path);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    int v = RLOG_FORMAT_VERSION + 1;
    hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT, &v);
    H5Aclose(a);
    H5Fclose(f);
    expect_info_error(path, "format_version 2 is not one this rql knows");
    ck_assert_ptr_null(rlog_open_append(path));
    ck_assert_msg(strstr(rql_error(), "format_version 2"), "%s", rql_error());

    /* missing dataset */
    good_log(path);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(H5Ldelete(f, "curves/return", H5P_DEFAULT), 0);
    H5Fclose(f);
    expect_info_error(path, "run.h5: dataset /curves/return is missing");
    ck_assert_ptr_null(rlog_open_append(path));
    ck_assert_msg(strstr(rql_error(), "dataset /curves/return is missing"), "%s", rql_error());

    /* missing group */
    good_log(path);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(H5Ldelete(f, "eval", H5P_DEFAULT), 0);
    H5Fclose(f);
    expect_info_error(path, "dataset /eval/at_episode is missing");

    /* misshapen: a 2-D column, and a vector of the wrong width */
    good_log(path);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "curves/length", H5P_DEFAULT);
    hsize_t d2[2] = {3, 2};
    hid_t sp = H5Screate_simple(2, d2, NULL);
    hid_t ds = H5Dcreate2(f, "curves/length", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Fclose(f);
    expect_info_error(path, "run.h5: dataset /curves/length is 2-D, expected 1-D");

    good_log(path);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "steps/observations", H5P_DEFAULT);
    hsize_t d3[2] = {3, OBS + 1};
    sp = H5Screate_simple(2, d3, NULL);
    ds = H5Dcreate2(f, "steps/observations", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Fclose(f);
    expect_info_error(path, "dataset /steps/observations is [3, 5], expected [3, 4]");

    /* a string where numbers belong */
    good_log(path);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "eval/success_rate", H5P_DEFAULT);
    hsize_t d1 = 2;
    sp = H5Screate_simple(1, &d1, NULL);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 8);
    ds = H5Dcreate2(f, "eval/success_rate", st, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(ds);
    H5Tclose(st);
    H5Sclose(sp);
    H5Fclose(f);
    rlog_file *rf = rlog_file_open(path);
    ck_assert_ptr_nonnull(rf);
    double *x;
    int64_t n;
    ck_assert_int_eq(rlog_read_f64(rf, "eval/success_rate", &x, &n), -1);
    ck_assert_msg(strstr(rql_error(), "run.h5: dataset /eval/success_rate is not numeric"), "%s", rql_error());
    ck_assert_int_eq(rlog_read_f64(rf, "eval/nothing", &x, &n), -1);
    ck_assert_msg(strstr(rql_error(), "dataset /eval/nothing is missing"), "%s", rql_error());
    float *y;
    int64_t rows;
    int cols;
    ck_assert_int_eq(rlog_read_f32_2d(rf, "steps/observations", OBS + 2, &y, &rows, &cols), -1);
    ck_assert_msg(strstr(rql_error(), "[3, 4], expected [3, 6]"), "%s", rql_error());
    ck_assert_int_eq(rlog_read_f32_2d(rf, "steps/observations", OBS, &y, &rows, &cols), 0);
    ck_assert(rows == 3 && cols == OBS && y[OBS] == 10.0f);
    free(y);
    char *s;
    ck_assert_int_eq(rlog_attr_str(rf, "nothing", &s), -1);
    ck_assert_msg(strstr(rql_error(), "root attribute nothing is missing"), "%s", rql_error());
    rlog_file_close(rf);

    /* creation errors */
    rlog_meta m = meta_for(NULL, 0);
    ck_assert_ptr_null(rlog_create("/nonexistent/dir/run.h5", &m));
    ck_assert_msg(strstr(rql_error(), "/nonexistent/dir/run.h5: cannot create the log"), "%s", rql_error());
    m.obs_size = 0;
    ck_assert_ptr_null(rlog_create(path, &m));
    ck_assert_msg(strstr(rql_error(), "obs_size 0"), "%s", rql_error());
}
END_TEST

/* ---- helper modes for tests/e2e_logs.sh ------------------------------------------------ */

/* --writer PATH: writes a log forever (until killed, or 60 s), flushing
 * often and printing after each flush the row counts the file must then
 * hold ("flushed CURVES TRAIN EVAL STEPS WEIGHTS"); between flushes it also
 * appends rows that stay unflushed, some crossing a block boundary so that
 * unflushed blocks reach the file too. */
static int writer_main(const char *p) {
    layer_spec ls[3];
    int nl = net_parse_spec("dense:8:relu,lstm:6,dense:3", ls, 3);
    net *n = nl > 0 ? net_alloc(OBS, ls, nl, 1, 1) : NULL;
    if (!n) return 3;
    rlog_meta m = meta_for(n, HID);
    rlog *l = rlog_create(p, &m);
    if (!l) {
        fprintf(stderr, "writer: %s\n", rql_error());
        return 3;
    }
    printf("created\n");
    fflush(stdout);
    int64_t e = 0, u = 0, ep = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int it = 0;; it++) {
        int burst = it % 7 == 3 ? 600 : 37;
        for (int k = 0; k < burst; k++) {
            rlog_curve_row r = curve(e++);
            if (rlog_append_curve(l, &r)) return 4;
        }
        rlog_train_row tr = {.update = ++u, .loss = 1.0f / (float)u, .q_mean = 0.5f, .grad_norm = 1};
        if (rlog_append_train(l, &tr)) return 4;
        if (it % 4 == 0) {
            for (int t = 0; t < 6; t++) append_step_plain(l, ep, t, 6);
            ep++;
            rlog_eval_row ev = {.at_episode = e, .env_steps = 7 * e, .return_mean = 1, .success_rate = 0.5,
                                .episodes = 4};
            if (rlog_append_eval(l, &ev) || rlog_append_weights(l, e, n)) return 4;
        }
        if (it % 3 != 2) {              /* some rounds end unflushed */
            if (rlog_flush(l)) return 5;
            rlog_counts c;
            rlog_get_counts(l, &c);
            printf("flushed %lld %lld %lld %lld %lld\n", (long long)c.curves, (long long)c.train, (long long)c.eval,
                   (long long)c.steps, (long long)c.weights);
            fflush(stdout);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec > 60) break;
    }
    rlog_set_complete(l);
    int rc = rlog_close(l);
    net_free(n);
    return rc ? 6 : 0;
}

/* --fake-runs DIR: finished logs of three agents x three seeds whose final
 * greedy successes are known (DIR/LABEL_sSEED.h5), for rql info / compare /
 * export. */
static int fake_main(const char *dir) {
    static const char *const labels[3] = {"drqn_lstm", "dqn_k1", "dqn_k4"};
    static const char *const agents[3] = {"drqn", "dqn", "dqn"};
    static const double final_succ[3][3] = {{1.0, 1.0, 0.9}, {0.5, 0.6, 0.5}, {0.8, 0.9, 1.0}};
    layer_spec ls[3];
    int nl = net_parse_spec("dense:8:relu,lstm:6,dense:3", ls, 3);
    net *n = nl > 0 ? net_alloc(OBS, ls, nl, 1, 1) : NULL;
    if (!n) return 3;
    for (int a = 0; a < 3; a++)
        for (int sd = 0; sd < 3; sd++) {
            char p[512];
            snprintf(p, sizeof p, "%s/%s_s%d.h5", dir, labels[a], sd);
            rlog_meta m = meta_for(a == 0 ? n : NULL, a == 0 ? HID : 0);
            m.label = labels[a];
            m.agent = agents[a];
            m.seed = sd;
            rlog *l = rlog_create(p, &m);
            if (!l) {
                fprintf(stderr, "fake: %s\n", rql_error());
                return 3;
            }
            for (int e = 0; e < 200; e++) {
                rlog_curve_row r = curve(e);
                rlog_append_curve(l, &r);
                if ((e + 1) % 50 == 0) {
                    /* a curve rising linearly to the final success */
                    int k = (e + 1) / 50;
                    rlog_eval_row ev = {.at_episode = e + 1, .env_steps = 7 * (e + 1),
                                        .return_mean = 4 * final_succ[a][sd] * k / 4.0 - 1,
                                        .success_rate = final_succ[a][sd] * k / 4.0, .episodes = 10};
                    rlog_append_eval(l, &ev);
                }
            }
            for (int ep = 0; ep < 3; ep++)
                for (int t = 0; t < 4 + ep; t++) append_step_plain(l, ep, t, 4 + ep);
            if (a == 0) rlog_append_weights(l, 200, n);
            rlog_set_complete(l);
            if (rlog_close(l)) {
                fprintf(stderr, "fake: %s\n", rql_error());
                return 4;
            }
        }
    net_free(n);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--writer")) return writer_main(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "--fake-runs")) return fake_main(argv[2]);
    Suite *s = suite_create("rlog");
    TCase *tc = tcase_create("rlog");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, write_read_back);
    tcase_add_test(tc, memoryless_and_gru_layouts);
    tcase_add_test(tc, swmr_live_reader);
    tcase_add_test(tc, sigkill_then_resume);
    tcase_add_test(tc, truncate_for_resume);
    tcase_add_test(tc, marked_open_for_write);
    tcase_add_test(tc, threads_write_own_logs);
    tcase_add_test(tc, bad_files);
    tcase_add_test(tc, checkpoint_digest);
    tcase_add_test(tc, damaged_superblock_bounded);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int nf = srunner_ntests_failed(r);
    srunner_free(r);
    return nf ? 1 : 0;
}
