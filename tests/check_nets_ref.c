/* check_nets_ref — nets against PyTorch: outputs, final states and every
 * gradient of nn.LSTM, nn.GRU, nn.RNN and nn.Linear stacks, for fixed
 * weights and inputs, match the reference numbers in tests/data/torch_ref.h5
 * (written once by scripts/make_torch_ref.py, so no PyTorch is needed here).
 *
 * Each case group holds a net_parse_spec string, the inputs (with NaN at the
 * masked steps: nets must never read them), per-row lengths (one row empty),
 * the initial state (zero, given per row, or learned h0/c0), dL/dy (random at
 * masked steps too: nets must ignore them), and PyTorch's y, final state,
 * dL/dstate0 and the gradient of every tensor, under the tensor names of
 * nets.h. The weights load through net_load_h5, so the test also proves that
 * a PyTorch state_dict, saved as is, loads into nets. Sizes: B 3, T 5, I 4,
 * H 6 for each cell and initial state, two dense -> cell -> dense stacks,
 * 60-step sequences (BPTT through many steps) and odd sizes (I 7, H 17, B 5:
 * the tails of vector loops and GEMM blocks); for the LRU also B 48, T 24,
 * whose sequence nets/lru.c runs in several blocks of steps, with rows
 * ending at, next to and inside the blocks.
 *
 * Tolerance: |nets - torch| <= 1e-5 * max(1, |torch|) per value, i.e. 1e-5
 * absolute for values of magnitude up to 1 and 1e-5 relative above. The
 * reference was computed in float64 from float32 weights and inputs, so it is
 * the exact answer rounded to float32. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nets/net_h5.h"

#ifndef REF_FILE
#define REF_FILE "tests/data/torch_ref.h5"
#endif
/* The peephole, mingru and lru cases (make_torch_ref.py --cells): modules
 * written in PyTorch from the papers' equations, differentiated by autograd. */
#ifndef CELLS_FILE
#define CELLS_FILE "tests/data/torch_ref_cells.h5"
#endif
/* the file of the case being read, for messages */
static const char *ref_file = REF_FILE;
#define TOL 1e-5

/* ---- reading the reference file --------------------------------------------- */
static hid_t open_ref(void) {
    hid_t f = -1;
    H5E_BEGIN_TRY { f = H5Fopen(ref_file, H5F_ACC_RDONLY, H5P_DEFAULT); } H5E_END_TRY;
    ck_assert_msg(f >= 0, "cannot open %s (run from the repository root; regenerate it with "
                  "/usr/bin/python3 scripts/make_torch_ref.py%s)", ref_file,
                  strcmp(ref_file, CELLS_FILE) ? "" : " --cells");
    return f;
}

static int attr_int(hid_t g, const char *case_name, const char *name) {
    int v = 0;
    hid_t a = H5Aopen(g, name, H5P_DEFAULT);
    ck_assert_msg(a >= 0 && H5Aread(a, H5T_NATIVE_INT, &v) >= 0, "%s:/%s: no int attribute '%s'",
                  ref_file, case_name, name);
    H5Aclose(a);
    return v;
}

/* String attribute, fixed-length (numpy bytes, as the script writes) or
 * variable-length (h5py str). */
static void attr_str(hid_t g, const char *case_name, const char *name, char *out, size_t n) {
    hid_t a = H5Aopen(g, name, H5P_DEFAULT);
    ck_assert_msg(a >= 0, "%s:/%s: no string attribute '%s'", ref_file, case_name, name);
    hid_t ft = H5Aget_type(a);
    int ok = 0;
    if (H5Tis_variable_str(ft) > 0) {
        char *s = NULL;
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        if (H5Aread(a, mt, &s) >= 0 && s) { snprintf(out, n, "%s", s); H5free_memory(s); ok = 1; }
        H5Tclose(mt);
    } else {
        size_t sz = H5Tget_size(ft);
        /* numpy bytes are null-padded without a terminator: one byte more in
         * memory keeps the last character */
        char *buf = calloc(sz + 1, 1);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, sz + 1);
        if (buf && H5Aread(a, mt, buf) >= 0) { snprintf(out, n, "%s", buf); ok = 1; }
        H5Tclose(mt);
        free(buf);
    }
    H5Tclose(ft);
    H5Aclose(a);
    ck_assert_msg(ok, "%s:/%s: cannot read string attribute '%s'", ref_file, case_name, name);
}

static int has(hid_t g, const char *path) { return H5Lexists(g, path, H5P_DEFAULT) > 0; }

/* Reads dataset `path` of group g into a new buffer; its element count must be
 * `count` (the shape the network implies). */
static void *read_ds(hid_t g, const char *case_name, const char *path, hid_t mtype, size_t count) {
    hid_t d = -1;
    H5E_BEGIN_TRY { d = H5Dopen2(g, path, H5P_DEFAULT); } H5E_END_TRY;
    ck_assert_msg(d >= 0, "%s:/%s/%s: missing", ref_file, case_name, path);
    hid_t sp = H5Dget_space(d);
    hssize_t npts = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    ck_assert_msg(npts == (hssize_t)count, "%s:/%s/%s: %lld values, the network implies %zu",
                  ref_file, case_name, path, (long long)npts, count);
    void *buf = malloc(H5Tget_size(mtype) * (count ? count : 1));
    ck_assert(buf != NULL);
    ck_assert_msg(H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0, "%s:/%s/%s: read failed",
                  ref_file, case_name, path);
    H5Dclose(d);
    return buf;
}

/* ---- comparison --------------------------------------------------------------- */
typedef struct { double worst; int checked; } cmp_stats;

static void expect_close(cmp_stats *st, const char *case_name, const char *what, const float *got,
                         const float *ref, size_t count) {
    for (size_t k = 0; k < count; k++) {
        double scale = fabs(ref[k]) > 1 ? fabs(ref[k]) : 1;
        double e = fabs((double)got[k] - ref[k]) / scale;
        ck_assert_msg(isfinite(got[k]) && e <= TOL, "%s: %s[%zu]: nets %.9g, PyTorch %.9g (error %.3g > %g)",
                      case_name, what, k, got[k], ref[k], e, TOL);
        if (e > st->worst) st->worst = e;
        st->checked++;
    }
}

/* Runs one case: load the weights, forward, backward, compare everything. */
static void run_case(const char *case_name) {
    hid_t f = open_ref();
    hid_t g = H5Gopen2(f, case_name, H5P_DEFAULT);
    ck_assert_msg(g >= 0, "%s: no case group /%s", ref_file, case_name);
    char spec[128], init[32];
    attr_str(g, case_name, "spec", spec, sizeof spec);
    attr_str(g, case_name, "init", init, sizeof init);
    int in = attr_int(g, case_name, "input_size"), B = attr_int(g, case_name, "batch");
    int T = attr_int(g, case_name, "time"), seq = attr_int(g, case_name, "return_seq");

    layer_spec ls[8];
    int nl = net_parse_spec(spec, ls, 8);
    ck_assert_msg(nl > 0, "%s: spec \"%s\": %s", case_name, spec, rql_error());
    net *n = net_alloc(in, ls, nl, B, T);
    ck_assert_msg(n != NULL, "%s: net_alloc: %s", case_name, rql_error());
    hid_t wg = H5Gopen2(g, "weights", H5P_DEFAULT);
    ck_assert_msg(net_load_h5(n, wg) == 0, "%s: net_load_h5: %s", case_name, rql_error());
    H5Gclose(wg);

    const int S = net_state_size(n), O = n->out;
    const size_t ny = (size_t)B * (seq ? T : 1) * O;
    float *x = read_ds(g, case_name, "x", H5T_NATIVE_FLOAT, (size_t)B * T * in);
    int *len = read_ds(g, case_name, "len", H5T_NATIVE_INT, B);
    float *dy = read_ds(g, case_name, "dy", H5T_NATIVE_FLOAT, ny);
    float *y_ref = read_ds(g, case_name, "y", H5T_NATIVE_FLOAT, ny);
    float *s_ref = read_ds(g, case_name, "state_out", H5T_NATIVE_FLOAT, (size_t)B * S);
    float *ds_ref = read_ds(g, case_name, "dstate0", H5T_NATIVE_FLOAT, (size_t)B * S);
    float *s0 = !strcmp(init, "state0") ? read_ds(g, case_name, "state0", H5T_NATIVE_FLOAT, (size_t)B * S)
                                        : NULL;
    ck_assert_msg(s0 || !has(g, "state0"), "%s: init \"%s\" but a state0 dataset", case_name, init);

    /* y is written everywhere, masked steps included: fill it with garbage
     * first so that "zeros at masked steps" is really checked */
    float *y = malloc(sizeof(float) * ny), *s_out = malloc(sizeof(float) * B * S);
    float *ds0 = malloc(sizeof(float) * B * S);
    for (size_t k = 0; k < ny; k++) y[k] = 12345.0f;
    cmp_stats st = {0, 0};
    net_zero_grad(n);
    ck_assert_msg(net_forward(n, x, len, B, T, s0, seq, y, s_out) == 0, "%s: net_forward: %s",
                  case_name, rql_error());
    expect_close(&st, case_name, "y", y, y_ref, ny);
    expect_close(&st, case_name, "state_out", s_out, s_ref, (size_t)B * S);
    ck_assert_msg(net_backward(n, dy, ds0) == 0, "%s: net_backward: %s", case_name, rql_error());
    expect_close(&st, case_name, "dstate0", ds0, ds_ref, (size_t)B * S);

    hid_t gg = H5Gopen2(g, "grads", H5P_DEFAULT);
    ck_assert_msg(gg >= 0, "%s: no grads group", case_name);
    hsize_t nlinks = 0;
    H5G_info_t gi;
    if (H5Gget_info(gg, &gi) >= 0) nlinks = gi.nlinks;
    ck_assert_msg(nlinks == (hsize_t)n->ntensors, "%s: %llu reference gradients, the network has %d tensors",
                  case_name, (unsigned long long)nlinks, n->ntensors);
    for (int k = 0; k < n->ntensors; k++) {
        const net_tensor *t = &n->tensors[k];
        float *gref = read_ds(gg, case_name, t->name, H5T_NATIVE_FLOAT, t->size);
        char what[80];
        snprintf(what, sizeof what, "grad %s", t->name);
        expect_close(&st, case_name, what, n->grads + t->off, gref, t->size);
        free(gref);
    }
    H5Gclose(gg);
    fprintf(stderr, "torch ref %-13s %-32s seq=%d init=%-7s %4d values, max error %.2e\n", case_name,
            spec, seq, init, st.checked, st.worst);

    free(x); free(len); free(dy); free(y_ref); free(s_ref); free(ds_ref); free(s0);
    free(y); free(s_out); free(ds0);
    net_free(n);
    H5Gclose(g);
    H5Fclose(f);
}

#define REF_TEST(name) \
    START_TEST(name) { ref_file = REF_FILE; run_case(#name); } END_TEST
#define CELL_TEST(name) \
    START_TEST(name) { ref_file = CELLS_FILE; run_case(#name); } END_TEST

REF_TEST(lstm_zero)
REF_TEST(lstm_state0)
REF_TEST(lstm_learned)
REF_TEST(gru_zero)
REF_TEST(gru_state0)
REF_TEST(gru_learned)
REF_TEST(rnn_zero)
REF_TEST(rnn_state0)
REF_TEST(rnn_learned)
REF_TEST(stack_lstm)
REF_TEST(stack_gru)
REF_TEST(lstm_long)
REF_TEST(gru_long)
REF_TEST(rnn_long)
REF_TEST(lstm_odd)
REF_TEST(gru_odd)
CELL_TEST(peephole_zero)
CELL_TEST(peephole_state0)
CELL_TEST(peephole_learned)
CELL_TEST(mingru_zero)
CELL_TEST(mingru_state0)
CELL_TEST(mingru_learned)
CELL_TEST(lru_zero)
CELL_TEST(lru_state0)
CELL_TEST(lru_learned)
CELL_TEST(stack_cells)
CELL_TEST(stack_cells_state0)
CELL_TEST(peephole_long)
CELL_TEST(mingru_long)
CELL_TEST(lru_long)
CELL_TEST(peephole_odd)
CELL_TEST(mingru_odd)
CELL_TEST(lru_odd)
CELL_TEST(lru_blocks)
CELL_TEST(lru_blocks_state0)
CELL_TEST(lru_wide)
CELL_TEST(lru_wide_state0)

/* The reference file holds exactly the cases above: a case added to the
 * script but not to this list would otherwise go unchecked. */
static void expect_listed(const char *file, const char **listed, int nlisted) {
    ref_file = file;
    hid_t f = open_ref();
    H5G_info_t gi;
    ck_assert(H5Gget_info(f, &gi) >= 0);
    ck_assert_msg(gi.nlinks == (hsize_t)nlisted, "%s has %llu cases, the suite lists %d", ref_file,
                  (unsigned long long)gi.nlinks, nlisted);
    for (int k = 0; k < nlisted; k++)
        ck_assert_msg(has(f, listed[k]), "%s lacks case /%s", ref_file, listed[k]);
    H5Fclose(f);
}

START_TEST(all_cases_listed) {
    static const char *listed[] = {"lstm_zero", "lstm_state0", "lstm_learned", "gru_zero", "gru_state0",
                                   "gru_learned", "rnn_zero", "rnn_state0", "rnn_learned",
                                   "stack_lstm", "stack_gru", "lstm_long", "gru_long", "rnn_long",
                                   "lstm_odd", "gru_odd"};
    expect_listed(REF_FILE, listed, (int)(sizeof listed / sizeof *listed));
    static const char *cells[] = {"peephole_zero", "peephole_state0", "peephole_learned", "mingru_zero", "mingru_state0", "mingru_learned", "lru_zero", "lru_state0", "lru_learned", "stack_cells", "stack_cells_state0", "peephole_long", "mingru_long", "lru_long", "peephole_odd", "mingru_odd", "lru_odd", "lru_blocks", "lru_blocks_state0", "lru_wide", "lru_wide_state0"};
    expect_listed(CELLS_FILE, cells, (int)(sizeof cells / sizeof *cells));
}
END_TEST

/* Backward does not consume the forward (nets.h): a second backward adds the
 * same gradients again, so twice the PyTorch gradient must come out. */
START_TEST(backward_twice_doubles) {
    const char *case_name = "lstm_learned";
    ref_file = REF_FILE;
    hid_t f = open_ref();
    hid_t g = H5Gopen2(f, case_name, H5P_DEFAULT);
    char spec[128];
    attr_str(g, case_name, "spec", spec, sizeof spec);
    int in = attr_int(g, case_name, "input_size"), B = attr_int(g, case_name, "batch");
    int T = attr_int(g, case_name, "time");
    layer_spec ls[8];
    int nl = net_parse_spec(spec, ls, 8);
    net *n = nl > 0 ? net_alloc(in, ls, nl, B, T) : NULL;
    ck_assert_msg(n != NULL, "%s", rql_error());
    hid_t wg = H5Gopen2(g, "weights", H5P_DEFAULT);
    ck_assert_msg(net_load_h5(n, wg) == 0, "%s", rql_error());
    H5Gclose(wg);
    size_t ny = (size_t)B * T * n->out;
    float *x = read_ds(g, case_name, "x", H5T_NATIVE_FLOAT, (size_t)B * T * in);
    int *len = read_ds(g, case_name, "len", H5T_NATIVE_INT, B);
    float *dy = read_ds(g, case_name, "dy", H5T_NATIVE_FLOAT, ny);
    float *y = malloc(sizeof(float) * ny);
    net_zero_grad(n);
    ck_assert(net_forward(n, x, len, B, T, NULL, 1, y, NULL) == 0);
    ck_assert(net_backward(n, dy, NULL) == 0);
    ck_assert(net_backward(n, dy, NULL) == 0);
    hid_t gg = H5Gopen2(g, "grads", H5P_DEFAULT);
    cmp_stats st = {0, 0};
    for (int k = 0; k < n->ntensors; k++) {
        const net_tensor *t = &n->tensors[k];
        float *gref = read_ds(gg, case_name, t->name, H5T_NATIVE_FLOAT, t->size);
        for (size_t j = 0; j < t->size; j++) gref[j] *= 2;
        expect_close(&st, case_name, t->name, n->grads + t->off, gref, t->size);
        free(gref);
    }
    H5Gclose(gg);
    free(x); free(len); free(dy); free(y);
    net_free(n);
    H5Gclose(g);
    H5Fclose(f);
}
END_TEST

static Suite *ref_suite(void) {
    Suite *s = suite_create("nets_ref");
    TCase *tc = tcase_create("torch");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, all_cases_listed);
    tcase_add_test(tc, lstm_zero);
    tcase_add_test(tc, lstm_state0);
    tcase_add_test(tc, lstm_learned);
    tcase_add_test(tc, gru_zero);
    tcase_add_test(tc, gru_state0);
    tcase_add_test(tc, gru_learned);
    tcase_add_test(tc, rnn_zero);
    tcase_add_test(tc, rnn_state0);
    tcase_add_test(tc, rnn_learned);
    tcase_add_test(tc, stack_lstm);
    tcase_add_test(tc, stack_gru);
    tcase_add_test(tc, lstm_long);
    tcase_add_test(tc, gru_long);
    tcase_add_test(tc, rnn_long);
    tcase_add_test(tc, lstm_odd);
    tcase_add_test(tc, gru_odd);
    tcase_add_test(tc, backward_twice_doubles);
    tcase_add_test(tc, peephole_zero);
    tcase_add_test(tc, peephole_state0);
    tcase_add_test(tc, peephole_learned);
    tcase_add_test(tc, mingru_zero);
    tcase_add_test(tc, mingru_state0);
    tcase_add_test(tc, mingru_learned);
    tcase_add_test(tc, lru_zero);
    tcase_add_test(tc, lru_state0);
    tcase_add_test(tc, lru_learned);
    tcase_add_test(tc, stack_cells);
    tcase_add_test(tc, stack_cells_state0);
    tcase_add_test(tc, peephole_long);
    tcase_add_test(tc, mingru_long);
    tcase_add_test(tc, lru_long);
    tcase_add_test(tc, peephole_odd);
    tcase_add_test(tc, mingru_odd);
    tcase_add_test(tc, lru_odd);
    tcase_add_test(tc, lru_blocks);
    tcase_add_test(tc, lru_blocks_state0);
    tcase_add_test(tc, lru_wide);
    tcase_add_test(tc, lru_wide_state0);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(ref_suite());
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
