/* check_run — the run loop: a short run written and read back through the
 * HDF5 C API (names, shapes, attributes, values consistent with the run),
 * a run stopped at exact steps and resumed equal to an uninterrupted one bit
 * for bit, 1 and 2 threads equal, a changed config refused on resume, and a
 * finished run skipped. Runs are tiny (T-maze of length 3, tens of episodes). */
#define _GNU_SOURCE
#include <check.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log/ckpt.h"
#include "experiments/config.h"
#include "log/rlog.h"
#include "experiments/run.h"

static char err[2048];

static const char *tiny =
    "env = { name = \"tmaze\"; length = 3; };\n"
    "agents = ( { label = \"q\"; type = \"dqn\"; }, { label = \"r\"; type = \"drqn\"; } );\n"
    "seeds = [5];\n"
    "train = { episodes = 40; n_envs = 4; };\n"
    "eval = { every = 16; episodes = 6; record = 2; };\n"
    "log = { train_every = 3; weights_every = 20; flush_s = 0.0; };\n"
    "checkpoint = { every = 12; };\n";

static char dir[256];

static void mkdirs_for(const rql_run_spec *r, int n, const rql_config *c, const char *d) {
    for (int i = 0; i < n; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", d, c->agents[r[i].agent].label);
        mkdir(d, 0777);
        mkdir(p, 0777);
    }
}

static rql_config *cfg(const char *const *sets, int n) {
    rql_config *c = rql_config_parse(tiny, "tiny", sets, n, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    return c;
}

static void setup(void) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    snprintf(dir, sizeof dir, "/tmp/check_run.XXXXXX");
    ck_assert(mkdtemp(dir) != NULL);
}

static void teardown(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) {}
}

/* The runs of c with their logs under dir/sub (folders made); *n of them. */
static rql_run_spec *specs_in(const rql_config *c, const char *sub, int *n) {
    char out[512];
    snprintf(out, sizeof out, "%s/%s", dir, sub);
    rql_run_spec *r;
    ck_assert_int_eq(rql_config_expand(c, out, &r, n, err, sizeof err), 0);
    mkdirs_for(r, *n, c, out);
    return r;
}

/* Runs all runs of c under dir/sub; returns the specs. */
static rql_run_spec *run_into(const rql_config *c, const char *sub, int threads, run_result *res, int *n) {
    rql_run_spec *r = specs_in(c, sub, n);
    run_opts o = {0};
    ck_assert_int_eq(run_all(c, r, *n, threads, &o, res), 0);
    return r;
}

/* Reads go through the log module's reader: booleans (HDF5 enums) come
 * back as 0 / 1, shapes are checked. */
static long long ds_len(rlog_file *f, const char *name) {
    int64_t n = rlog_rows(f, name);
    ck_assert_msg(n >= 0, "%s missing: %s", name, rql_error());
    return (long long)n;
}

static double *ds_read(rlog_file *f, const char *name, long long *n) {
    double *v = NULL;
    int64_t m = 0;
    ck_assert_msg(rlog_read_f64(f, name, &v, &m) == 0, "%s", rql_error());
    *n = (long long)m;
    return v;
}

static char *attr_str(rlog_file *f, const char *name) {
    char *s = NULL;
    ck_assert_msg(rlog_attr_str(f, name, &s) == 0, "%s", rql_error());
    return s;
}

START_TEST(test_short_run_log) {
    rql_config *c = cfg(NULL, 0);
    run_result res[2];
    int n;
    rql_run_spec *r = run_into(c, "a", 1, res, &n);
    ck_assert_int_eq(n, 2);
    for (int k = 0; k < n; k++) {
        ck_assert_msg(res[k].status == RUN_FINISHED, "%s", res[k].err);
        ck_assert_int_ge(res[k].episodes, 40);
        ck_assert_int_lt(res[k].episodes, 40 + c->n_envs);
        rlog_file *f = rlog_file_open(r[k].log_path);
        ck_assert_msg(f != NULL, "%s", rql_error());
        /* root attributes */
        char *fmt = attr_str(f, "format"), *label = attr_str(f, "label"), *text = attr_str(f, "config");
        ck_assert_str_eq(fmt, "rql-log");
        ck_assert_str_eq(label, c->agents[r[k].agent].label);
        char *want = rql_config_run_text(c, r[k].agent, r[k].seed);
        ck_assert_str_eq(text, want);
        free(want);
        free(fmt);
        free(label);
        free(text);
        int64_t seed = -1;
        ck_assert(rlog_attr_i64(f, "seed", &seed) == 0);
        ck_assert_int_eq(seed, 5);
        /* /curves: one row per finished episode, columns of one length */
        long long ne;
        double *ep = ds_read(f, "curves/episode", &ne);
        ck_assert_int_eq(ne, res[k].episodes);
        double *st = ds_read(f, "curves/env_steps", &ne);
        double *len = ds_read(f, "curves/length", &ne);
        double *suc = ds_read(f, "curves/success", &ne);
        double *ret = ds_read(f, "curves/return", &ne);
        const char *more[] = {"curves/epsilon", "curves/wall_s"};
        for (int i = 0; i < 2; i++) ck_assert_int_eq(ds_len(f, more[i]), ne);
        double lensum = 0;
        for (long long i = 0; i < ne; i++) {
            ck_assert(ep[i] == (double)i);
            ck_assert(i == 0 || st[i] >= st[i - 1]);
            ck_assert(((long long)st[i]) % c->n_envs == 0);   /* counted at vector-step ends */
            ck_assert(len[i] >= 3 && st[i] <= res[k].env_steps);
            ck_assert(suc[i] == 0 || suc[i] == 1);
            /* +4 at the right arm, otherwise penalties only */
            ck_assert(suc[i] == 1 ? ret[i] > 0 : ret[i] <= 0);
            lensum += len[i];
        }
        ck_assert(lensum <= res[k].env_steps && lensum > res[k].env_steps - c->n_envs * 200.0);
        ck_assert(st[ne - 1] == res[k].env_steps);
        free(ep); free(st); free(len); free(suc); free(ret);
        /* /eval: at 16, 32 and the final one at the end of the budget */
        long long nv;
        double *at = ds_read(f, "eval/at_episode", &nv);
        double *sr = ds_read(f, "eval/success_rate", &nv);
        double *eps = ds_read(f, "eval/episodes", &nv);
        ck_assert_int_eq(nv, 3);
        ck_assert(at[0] >= 16 && at[0] < 16 + c->n_envs && at[1] >= 32 && at[2] == res[k].episodes);
        for (int i = 0; i < nv; i++) ck_assert(sr[i] >= 0 && sr[i] <= 1 && eps[i] == 6);
        ck_assert(sr[2] == res[k].final_success);
        free(at); free(sr); free(eps);
        /* /steps: the final evaluation's first 2 episodes, step by step */
        long long ns;
        double *sep = ds_read(f, "steps/episode", &ns);
        double *stt = ds_read(f, "steps/t", &ns);
        double *term = ds_read(f, "steps/terminations", &ns);
        double *trunc = ds_read(f, "steps/truncations", &ns);
        ck_assert_int_ge(ns, 2 * 4);   /* at least 4 steps per episode on a corridor of 3 */
        int episodes_seen = 0;
        for (long long i = 0; i < ns; i++) {
            int first = i == 0 || sep[i] != sep[i - 1];
            ck_assert(first ? stt[i] == 0 : stt[i] == stt[i - 1] + 1);
            int lastrow = i == ns - 1 || sep[i + 1] != sep[i];
            ck_assert((term[i] + trunc[i] > 0) == lastrow);
            episodes_seen += first;
        }
        ck_assert_int_eq(episodes_seen, 2);
        float *m = NULL;
        int64_t rows;
        int cols;
        ck_assert_msg(rlog_read_f32_2d(f, "steps/observations", 3, &m, &rows, &cols) == 0, "%s", rql_error());
        ck_assert(rows == ns && cols == 3);
        free(m);
        ck_assert_msg(rlog_read_f32_2d(f, "steps/q_values", 4, &m, &rows, &cols) == 0, "%s", rql_error());
        ck_assert(rows == ns && cols == 4);
        free(m);
        ck_assert_int_eq(ds_len(f, "steps/actions"), ns);
        free(sep); free(stt); free(term); free(trunc);
        /* /train: rows every 3 updates, update numbers increasing */
        long long nt;
        double *up = ds_read(f, "train/update", &nt);
        ck_assert_int_eq(nt, (long long)(res[k].updates / 3));
        for (long long i = 1; i < nt; i++) ck_assert(up[i] > up[i - 1]);
        free(up);
        /* /weights: snapshots at 20 and at the end */
        long long nw;
        double *wa = ds_read(f, "weights/at_episode", &nw);
        ck_assert_int_eq(nw, 2);
        ck_assert(wa[1] == res[k].episodes);
        free(wa);
        rlog_file_close(f);
        struct stat sb;
        ck_assert_int_eq(stat(r[k].ckpt_path, &sb), 0);
    }
    free(r);
    rql_config_free(c);
}
END_TEST

/* Every dataset of two logs, byte for byte, except the wall-time column. */
typedef struct { hid_t other; int ndiff, nsets; char first[256]; } cmp_ctx;

static herr_t cmp_visit(hid_t obj, const char *name, const H5O_info_t *info, void *p) {
    cmp_ctx *c = p;
    if (info->type != H5O_TYPE_DATASET || strstr(name, "wall_s")) return 0;
    c->nsets++;
    hid_t a = H5Dopen2(obj, name, H5P_DEFAULT), b = -1;
    H5E_BEGIN_TRY { b = H5Dopen2(c->other, name, H5P_DEFAULT); } H5E_END_TRY;
    int same = b >= 0;
    if (same) {
        hid_t sa = H5Dget_space(a), sb = H5Dget_space(b);
        hssize_t na = H5Sget_simple_extent_npoints(sa), nb = H5Sget_simple_extent_npoints(sb);
        hid_t ta = H5Dget_type(a), tb = H5Dget_type(b);
        same = na == nb && H5Tequal(ta, tb) > 0;
        if (same && na > 0 && H5Tis_variable_str(ta) <= 0) {
            size_t sz = H5Tget_size(ta) * (size_t)na;
            char *ba = malloc(sz), *bb = malloc(sz);
            same = H5Dread(a, ta, H5S_ALL, H5S_ALL, H5P_DEFAULT, ba) >= 0 &&
                   H5Dread(b, tb, H5S_ALL, H5S_ALL, H5P_DEFAULT, bb) >= 0 && !memcmp(ba, bb, sz);
            free(ba);
            free(bb);
        }
        H5Tclose(ta); H5Tclose(tb); H5Sclose(sa); H5Sclose(sb);
        H5Dclose(b);
    }
    H5Dclose(a);
    if (!same && !c->ndiff++) snprintf(c->first, sizeof c->first, "%s", name);
    return 0;
}

static void assert_same_logs(const char *pa, const char *pb) {
    hid_t fa = H5Fopen(pa, H5F_ACC_RDONLY, H5P_DEFAULT), fb = H5Fopen(pb, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_msg(fa >= 0 && fb >= 0, "%s / %s", pa, pb);
    cmp_ctx c = {fb, 0, 0, ""};
    ck_assert(H5Ovisit(fa, H5_INDEX_NAME, H5_ITER_NATIVE, cmp_visit, &c) >= 0);
    cmp_ctx d = {fa, 0, 0, ""};
    ck_assert(H5Ovisit(fb, H5_INDEX_NAME, H5_ITER_NATIVE, cmp_visit, &d) >= 0);
    ck_assert_msg(c.ndiff == 0 && d.ndiff == 0, "%s vs %s: %d datasets differ, first %s%s", pa, pb,
                  c.ndiff + d.ndiff, c.first, d.first);
    ck_assert_int_ge(c.nsets, 10);
    H5Fclose(fa);
    H5Fclose(fb);
}

START_TEST(test_resume_bit_identical) {
    rql_config *c = cfg(NULL, 0);
    run_result res[2];
    int n;
    rql_run_spec *full = run_into(c, "full", 1, res, &n);
    rql_run_spec *r = specs_in(c, "cut", &n);
    /* Stop at vector steps 3 (before any checkpoint by cadence), 17 and 30,
     * resuming each time, then finish. */
    const long stops[] = {3, 17, 30};
    for (int k = 0; k < n; k++) {
        run_result rr;
        for (int s = 0; s < 3; s++) {
            run_opts o = {.resume = s > 0, .stop_after_steps = stops[s]};
            ck_assert_int_eq(run_execute(c, &r[k], &o, &rr), RUN_STOPPED);
        }
        run_opts o = {.resume = 1};
        ck_assert_msg(run_execute(c, &r[k], &o, &rr) == RUN_FINISHED, "%s", rr.err);
        ck_assert_int_eq(rr.resumed, 1);
        ck_assert_int_eq(rr.restarted, 0);
        ck_assert_int_eq(rr.episodes, res[k].episodes);
        ck_assert_int_eq(rr.env_steps, res[k].env_steps);
        ck_assert_int_eq(rr.updates, res[k].updates);
        assert_same_logs(full[k].log_path, r[k].log_path);
        /* a finished run is skipped by --resume and its log left as it is */
        ck_assert_int_eq(run_execute(c, &r[k], &o, &rr), RUN_SKIPPED);
        assert_same_logs(full[k].log_path, r[k].log_path);
    }
    free(r);
    free(full);
    rql_config_free(c);
}
END_TEST

/* A checkpoint whose log cannot be cut back to it (torn past what HDF5 can
 * repair by a SIGKILL, or gone): --resume starts the run over, and the run
 * still ends equal to an uninterrupted one. */
START_TEST(test_unusable_log_restarts) {
    rql_config *c = cfg(NULL, 0);
    run_result full[2];
    int n;
    rql_run_spec *f = run_into(c, "full", 1, full, &n);
    rql_run_spec *r = specs_in(c, "torn_log", &n);
    for (int k = 0; k < 2; k++) {
        run_result rr;
        run_opts o = {.stop_after_steps = 17};
        ck_assert_int_eq(run_execute(c, &r[k], &o, &rr), RUN_STOPPED);
        if (k == 0) {                       /* torn: a file HDF5 cannot open */
            FILE *t = fopen(r[k].log_path, "r+");
            ck_assert_ptr_nonnull(t);
            fputs("a log torn by a kill", t);
            fclose(t);
        } else ck_assert_int_eq(unlink(r[k].log_path), 0);   /* gone */
        run_opts o2 = {.resume = 1};
        ck_assert_msg(run_execute(c, &r[k], &o2, &rr) == RUN_FINISHED, "%s", rr.err);
        ck_assert_int_eq(rr.restarted, 1);
        ck_assert_int_eq(rr.resumed, 0);
        ck_assert_int_eq(rr.episodes, full[k].episodes);
        assert_same_logs(f[k].log_path, r[k].log_path);
    }
    free(r);
    free(f);
    rql_config_free(c);
}
END_TEST

START_TEST(test_threads_identical) {
    const char *sets[] = {"seeds=[1,2]"};
    rql_config *c = cfg(sets, 1);
    run_result r1[4], r2[4];
    int n;
    rql_run_spec *a = run_into(c, "j1", 1, r1, &n);
    rql_run_spec *b = run_into(c, "j2", 2, r2, &n);
    ck_assert_int_eq(n, 4);
    for (int k = 0; k < n; k++) {
        ck_assert_int_eq(r1[k].env_steps, r2[k].env_steps);
        assert_same_logs(a[k].log_path, b[k].log_path);
    }
    free(a);
    free(b);
    rql_config_free(c);
}
END_TEST

START_TEST(test_changed_config_refused) {
    rql_config *c = cfg(NULL, 0);
    int n;
    rql_run_spec *r = specs_in(c, "chg", &n);
    run_result rr;
    run_opts o = {.stop_after_steps = 5};
    ck_assert_int_eq(run_execute(c, &r[0], &o, &rr), RUN_STOPPED);
    const char *sets[] = {"env.length=4"};
    rql_config *d = cfg(sets, 1);
    run_opts o2 = {.resume = 1};
    ck_assert_int_eq(run_execute(d, &r[0], &o2, &rr), RUN_FAILED);
    ck_assert_msg(strstr(rr.err, "different config") && strstr(rr.err, r[0].ckpt_path), "%s", rr.err);
    /* a torn checkpoint is refused with its name, never half-loaded */
    FILE *f = fopen(r[0].ckpt_path, "w");
    fputs("garbage", f);
    fclose(f);
    ck_assert_int_eq(run_execute(c, &r[0], &o2, &rr), RUN_FAILED);
    ck_assert_msg(strstr(rr.err, "not an HDF5 file"), "%s", rr.err);
    free(r);
    rql_config_free(d);
    rql_config_free(c);
}
END_TEST

START_TEST(test_evaluate_deterministic) {
    rql_config *c = cfg(NULL, 0);
    env_vec *v = env_vec_alloc(c->env, 1, 0);
    ck_assert(v != NULL);
    for (int k = 0; k < c->nagents; k++) {
        agent *a = agent_alloc(c->agents[k].cfg, v->obs_size, v->n_actions, 4, 11);
        ck_assert_msg(a != NULL, "%s", rql_error());
        double s1, r1, s2, r2, s3, r3;
        ck_assert_int_eq(run_evaluate(a, c->env, 20, 99, &s1, &r1, NULL, 0, 0, err, sizeof err), 0);
        ck_assert_int_eq(run_evaluate(a, c->env, 20, 99, &s2, &r2, NULL, 0, 0, err, sizeof err), 0);
        ck_assert(s1 == s2 && r1 == r2);
        ck_assert(s1 >= 0 && s1 <= 1 && isfinite(r1));
        ck_assert_int_eq(run_evaluate(a, c->env, 7, 98, &s3, &r3, NULL, 0, 0, err, sizeof err), 0);
        ck_assert(s3 * 7 == floor(s3 * 7 + 0.5));   /* a rate over 7 episodes */
        agent_free(a);
    }
    env_vec_free(v);
    rql_config_free(c);
}
END_TEST

START_TEST(test_checkpoint_atomic) {
    /* A crash in the middle of a checkpoint write leaves PATH.tmp behind and
     * PATH untouched: resuming uses PATH, and the run still ends equal to an
     * uninterrupted one. */
    rql_config *c = cfg(NULL, 0);
    run_result full[2];
    int n;
    rql_run_spec *f = run_into(c, "full", 1, full, &n);
    rql_run_spec *r = specs_in(c, "torn", &n);
    run_result rr;
    run_opts o = {.stop_after_steps = 9};
    ck_assert_int_eq(run_execute(c, &r[1], &o, &rr), RUN_STOPPED);
    /* an aborted write: the temp file goes, the good checkpoint stays */
    struct stat before, after;
    ck_assert_int_eq(stat(r[1].ckpt_path, &before), 0);
    ckpt_writer w;
    ck_assert_int_eq(ckpt_begin(&w, r[1].ckpt_path, err, sizeof err), 0);
    ckpt_abort(&w);
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", r[1].ckpt_path);
    ck_assert_int_ne(access(tmp, F_OK), 0);
    ck_assert_int_eq(stat(r[1].ckpt_path, &after), 0);
    ck_assert(before.st_size == after.st_size && before.st_mtime == after.st_mtime);
    /* a torn write: garbage in PATH.tmp, as a kill mid-write leaves it */
    FILE *t = fopen(tmp, "w");
    fputs("half a checkpoint", t);
    fclose(t);
    run_opts o2 = {.resume = 1};
    ck_assert_msg(run_execute(c, &r[1], &o2, &rr) == RUN_FINISHED, "%s", rr.err);
    ck_assert_int_ne(access(tmp, F_OK), 0);     /* replaced by the next write and renamed away */
    assert_same_logs(f[1].log_path, r[1].log_path);
    /* the final checkpoint is marked done and opens as a checkpoint */
    hid_t h = ckpt_open(r[1].ckpt_path, err, sizeof err);
    ck_assert_msg(h >= 0, "%s", err);
    hid_t g = H5Gopen2(h, "run", H5P_DEFAULT);
    int64_t done = 0, eps = 0;
    ck_assert_int_eq(ckpt_get_i64(g, "done", &done), 0);
    ck_assert_int_eq(ckpt_get_i64(g, "episodes", &eps), 0);
    ck_assert_int_eq(done, 1);
    ck_assert_int_eq(eps, full[1].episodes);
    H5Gclose(g);
    H5Fclose(h);
    /* not a checkpoint: a log is refused by name */
    ck_assert(ckpt_open(r[1].log_path, err, sizeof err) < 0);
    ck_assert_msg(strstr(err, "not an rql checkpoint"), "%s", err);
    free(r);
    free(f);
    rql_config_free(c);
}
END_TEST

int main(void) {
    Suite *s = suite_create("run");
    TCase *t = tcase_create("run");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_short_run_log);
    tcase_add_test(t, test_resume_bit_identical);
    tcase_add_test(t, test_unusable_log_restarts);
    tcase_add_test(t, test_threads_identical);
    tcase_add_test(t, test_changed_config_refused);
    tcase_add_test(t, test_evaluate_deterministic);
    tcase_add_test(t, test_checkpoint_atomic);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf != 0;
}
