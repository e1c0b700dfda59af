/* check_stats — the comparison statistics of stats/stats.c and stats/compare.c.
 *
 * Reference numbers were computed once with SciPy 1.10 (scipy.stats.ttest_ind
 * with equal_var=False, scipy.stats.t.ppf, numpy.quantile, numpy.trapz) and
 * are stored here as data; the Welch example is the one of Wikipedia's
 * "Welch's t-test" article (t = -2.46, df = 25.0, p = 0.021). */
#define _GNU_SOURCE
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "log/rlog.h"
#include "stats/compare.h"

#define NA 15
static const double wa[NA] = {27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4};
static const double wb[NA] = {27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4};

START_TEST(welch_textbook) {
    stats_welch_result r;
    ck_assert_int_eq(stats_welch(wa, NA, wb, NA, &r), 0);
    ck_assert_double_eq_tol(r.t, -2.455356398286006, 1e-10);
    ck_assert_double_eq_tol(r.df, 24.988529290231416, 1e-9);
    ck_assert_double_eq_tol(r.p, 0.021378001462866985, 1e-9);
    ck_assert_int_eq(r.n_a, NA);
    ck_assert_int_eq(r.n_b, NA);
    /* Swapping the groups flips t and keeps p. */
    stats_welch_result s;
    stats_welch(wb, NA, wa, NA, &s);
    ck_assert_double_eq_tol(s.t, -r.t, 1e-12);
    ck_assert_double_eq_tol(s.p, r.p, 1e-12);
}
END_TEST

START_TEST(welch_unequal_sizes) {
    const double a[] = {0.2, 0.4, 0.5, 0.5, 0.9}, b[] = {1.0, 0.9, 1.0};
    stats_welch_result r;
    stats_welch(a, 5, b, 3, &r);
    ck_assert_double_eq_tol(r.t, -3.9284947328641957, 1e-10);
    ck_assert_double_eq_tol(r.df, 4.6451148390812875, 1e-9);
    ck_assert_double_eq_tol(r.p, 0.012812007180825287, 1e-9);
}
END_TEST

START_TEST(welch_degenerate) {
    const double ones[] = {1, 1, 1, 1}, halves[] = {0.5, 0.5, 0.5}, mixed[] = {0.5, 0.7, 0.9, 0.6};
    stats_welch_result r;
    /* Both constant and different: an exact difference, p = 0. */
    stats_welch(ones, 4, halves, 3, &r);
    ck_assert(isinf(r.t) && r.t > 0);
    ck_assert_double_eq(r.p, 0);
    ck_assert(isnan(r.df));
    /* Both constant and equal: no difference, p = 1. */
    stats_welch(ones, 4, ones, 3, &r);
    ck_assert_double_eq(r.t, 0);
    ck_assert_double_eq(r.p, 1);
    /* One constant group: the ordinary formula, df = n - 1 of the other. */
    stats_welch(mixed, 4, ones, 4, &r);
    ck_assert_double_eq_tol(r.df, 3, 1e-12);
    ck_assert_double_eq_tol(r.t, (0.675 - 1) / (sqrt(0.02916666666666667 / 4)), 1e-9);
    ck_assert(r.p > 0 && r.p < 0.05);
    /* n = 1 in a group: no test. */
    stats_welch(ones, 1, mixed, 4, &r);
    ck_assert(isnan(r.t) && isnan(r.df) && isnan(r.p));
    ck_assert_double_eq(r.mean_a, 1);
    ck_assert_int_eq(stats_welch(ones, -1, mixed, 4, &r), -1);
}
END_TEST

START_TEST(ci_half_width) {
    const double x[] = {0.5, 0.7, 0.9, 0.6};
    stats_ci c;
    ck_assert_int_eq(stats_mean_ci(x, 4, 0.95, &c), 0);
    ck_assert_double_eq_tol(c.mean, 0.675, 1e-12);
    /* t_{0.975, 3} = 3.182446305284263, sd = 0.17078251276599332 */
    ck_assert_double_eq_tol(c.half, 0.27175308837964895, 1e-9);
    ck_assert_double_eq_tol(c.sd, 0.17078251276599332, 1e-12);
    /* Degenerate: one seed, constant values, nothing. */
    stats_mean_ci(x, 1, 0.95, &c);
    ck_assert_double_eq(c.mean, 0.5);
    ck_assert(isnan(c.half) && isnan(c.sd));
    const double k[] = {2, 2, 2};
    stats_mean_ci(k, 3, 0.95, &c);
    ck_assert_double_eq(c.half, 0);
    stats_mean_ci(k, 0, 0.95, &c);
    ck_assert(isnan(c.mean));
    ck_assert_int_eq(stats_mean_ci(k, 3, 1.5, &c), -1);
    /* Textbook sample: mean 20.82, t_{0.975,14} = 2.1447866879169273 */
    stats_mean_ci(wa, NA, 0.95, &c);
    ck_assert_double_eq_tol(c.half, 2.1447866879169273 * c.sd / sqrt(15.0), 1e-9);
}
END_TEST

START_TEST(quantiles_median_iqr) {
    double ws[8], m, q1, q3;
    const double a[] = {100, 200, 300, 400};
    stats_median_iqr(a, 4, ws, &m, &q1, &q3);
    ck_assert_double_eq_tol(m, 250, 1e-12);
    ck_assert_double_eq_tol(q1, 175, 1e-12);
    ck_assert_double_eq_tol(q3, 325, 1e-12);
    const double b[] = {300, 100, 200, 400, 1e9};        /* unsorted input */
    stats_median_iqr(b, 5, ws, &m, &q1, &q3);
    ck_assert_double_eq(m, 300);
    ck_assert_double_eq(q1, 200);
    ck_assert_double_eq(q3, 400);
    /* Never-solved seeds are +inf and sort last. */
    const double c[] = {100, INFINITY, 200, INFINITY, 300};
    stats_median_iqr(c, 5, ws, &m, &q1, &q3);
    ck_assert_double_eq(m, 300);
    ck_assert_double_eq(q1, 200);
    ck_assert(isinf(q3));
    const double d[] = {100, 200, INFINITY, INFINITY};
    stats_median_iqr(d, 4, ws, &m, &q1, &q3);
    ck_assert(isinf(m));
    ck_assert_double_eq_tol(q1, 175, 1e-12);
    const double e[] = {42};
    stats_median_iqr(e, 1, ws, &m, &q1, &q3);
    ck_assert(m == 42 && q1 == 42 && q3 == 42);
    ck_assert(isnan(stats_quantile(e, 0, 0.5, ws)));
}
END_TEST

START_TEST(auc_and_first_reach) {
    const double x[] = {10, 20, 30, 50}, y[] = {0, 0.5, 1.0, 1.0};
    ck_assert_double_eq_tol(stats_auc(x, y, 4), 0.75, 1e-12);
    ck_assert_double_eq(stats_auc(x, y, 1), 0);
    ck_assert(isnan(stats_auc(x, y, 0)));
    const double bad[] = {10, 10};
    ck_assert(isnan(stats_auc(bad, y, 2)));
    ck_assert_double_eq(stats_first_reach(x, y, 4, 1.0), 30);
    ck_assert_double_eq(stats_first_reach(x, y, 4, 0.4), 20);
    ck_assert(isinf(stats_first_reach(x, y, 2, 1.0)));
}
END_TEST

/* ---- comparison from logs ---------------------------------------------------------- */

static char tmpdir[256];

static void make_tmp(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_stats_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void rm_tmp(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* A log with evaluations at episodes 10, 20, ... with the given success rates. */
static void write_run(const char *path, const char *label, const char *agent, int seed, const double *succ, int k) {
    rlog_meta m = {.seed = seed, .env = "tmaze", .agent = agent, .label = label, .obs_size = 3, .n_actions = 2};
    rlog *l = rlog_create(path, &m);
    ck_assert_msg(l != NULL, "%s", rql_error());
    for (int e = 0; e < 10 * k; e++) {
        rlog_curve_row c = {.episode = e, .env_steps = 4 * (e + 1), .ret = 1, .length = 4, .success = 1};
        ck_assert_int_eq(rlog_append_curve(l, &c), 0);
    }
    for (int i = 0; i < k; i++) {
        rlog_eval_row r = {.at_episode = 10 * (i + 1), .env_steps = 40 * (i + 1), .return_mean = 4 * succ[i] - 1,
                           .success_rate = succ[i], .episodes = 10};
        ck_assert_int_eq(rlog_append_eval(l, &r), 0);
    }
    rlog_set_complete(l);
    ck_assert_int_eq(rlog_close(l), 0);
}

START_TEST(compare_logs) {
    make_tmp();
    /* drqn: 3 seeds, final 1.0, 1.0, 0.9; solved at 20, 30, never.
     * dqn: 2 seeds, final 0.5, 0.6; never solved. */
    const double d1[] = {0.5, 1.0, 1.0}, d2[] = {0.2, 0.8, 1.0}, d3[] = {0.3, 0.6, 0.9};
    const double q1[] = {0.4, 0.5, 0.5}, q2[] = {0.5, 0.5, 0.6};
    char p[5][300];
    const char *paths[5];
    const char *names[5] = {"drqn_s1", "dqn_s1", "drqn_s2", "dqn_s2", "drqn_s3"};
    for (int i = 0; i < 5; i++) {
        snprintf(p[i], sizeof p[i], "%s/%s.h5", tmpdir, names[i]);
        paths[i] = p[i];
    }
    write_run(p[0], "drqn_lstm", "drqn", 1, d1, 3);
    write_run(p[1], "dqn_k1", "dqn", 1, q1, 3);
    write_run(p[2], "drqn_lstm", "drqn", 2, d2, 3);
    write_run(p[3], "dqn_k1", "dqn", 2, q2, 3);
    write_run(p[4], "drqn_lstm", "drqn", 3, d3, 3);
    char err[1024];
    stats_comparison *c = stats_compare(paths, 5, 1.0, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(c->ngroups, 2);
    ck_assert_int_eq(c->npairs, 1);
    const stats_group *d = &c->groups[0], *q = &c->groups[1];
    ck_assert_str_eq(d->label, "drqn_lstm");
    ck_assert_str_eq(q->label, "dqn_k1");
    ck_assert_int_eq(d->n, 3);
    ck_assert_int_eq(q->n, 2);
    ck_assert_double_eq_tol(d->success.mean, 2.9 / 3, 1e-12);
    ck_assert_double_eq_tol(q->success.mean, 0.55, 1e-12);
    ck_assert_double_eq_tol(d->ret.mean, 4 * 2.9 / 3 - 1, 1e-12);
    ck_assert_int_eq(d->n_solved, 2);
    ck_assert_int_eq(q->n_solved, 0);
    ck_assert_double_eq_tol(d->solve_median, 30, 1e-12);        /* {20, 30, inf} */
    ck_assert_double_eq_tol(d->solve_q1, 25, 1e-12);
    ck_assert(isinf(d->solve_q3) && isinf(q->solve_median));
    /* AUC of run 1: trapezoids over (10, .5) (20, 1) (30, 1) / 20 = 0.875 */
    ck_assert_double_eq_tol(c->runs[0].auc, 0.875, 1e-12);
    ck_assert_double_eq_tol(d->auc.mean, (0.875 + 0.7 + 0.6) / 3, 1e-12);
    /* Welch on final success {1, 1, 0.9} vs {0.5, 0.6}, from SciPy:
     * t = 6.933752452815366, df = 1.898876404494382, p = 0.0230803409304472 */
    ck_assert_double_eq_tol(c->pairs[0].w.t, 6.933752452815366, 1e-9);
    ck_assert_double_eq_tol(c->pairs[0].w.df, 1.898876404494382, 1e-9);
    ck_assert_double_eq_tol(c->pairs[0].w.p, 0.0230803409304472, 1e-9);

    /* The three formats print; the table names both agents and the p-value. */
    char *buf = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&buf, &len);
    ck_assert_int_eq(stats_print(c, STATS_FMT_TABLE, o), 0);
    fclose(o);
    ck_assert_ptr_nonnull(strstr(buf, "drqn_lstm"));
    ck_assert_ptr_nonnull(strstr(buf, "0.0231"));
    ck_assert_ptr_nonnull(strstr(buf, "30 [25, never]"));
    free(buf);
    o = open_memstream(&buf, &len);
    ck_assert_int_eq(stats_print(c, STATS_FMT_CSV, o), 0);
    fclose(o);
    ck_assert_ptr_nonnull(strstr(buf, "label,agent,env,seeds,"));
    ck_assert_ptr_nonnull(strstr(buf, "\ndqn_k1,dqn,tmaze,2,0.55,"));
    free(buf);
    o = open_memstream(&buf, &len);
    ck_assert_int_eq(stats_print(c, STATS_FMT_JSON, o), 0);
    fclose(o);
    ck_assert_ptr_nonnull(strstr(buf, "\"p\": 0.02308034093"));
    ck_assert_ptr_nonnull(strstr(buf, "\"solve_episode\": null"));
    free(buf);
    /* rliable aggregates: bootstrap percentile intervals of the mean success
     * stay in [0, 1] (the t interval of {1, 1, 0.9} would not): resampled
     * means of {1, 1, 0.9} are 0.9 with probability 1/27 > 2.5% and 1 with
     * (2/3)^3 > 2.5%; of {0.5, 0.6}, each end 1/4. Every drqn run beats every
     * dqn run: P = 1. */
    o = open_memstream(&buf, &len);
    ck_assert_int_eq(stats_print_aggregates(c, o, 4000, 1), 0);
    fclose(o);
    ck_assert_msg(strstr(buf, "drqn_lstm  1      3      0.967 [0.900, 1.000]") != NULL, "%s", buf);
    ck_assert_msg(strstr(buf, "dqn_k1     1      2      0.550 [0.500, 0.600]") != NULL, "%s", buf);
    ck_assert_msg(strstr(buf, "P(drqn_lstm > dqn_k1) = 1.000 [1.000, 1.000]") != NULL, "%s", buf);
    free(buf);
    stats_comparison_free(c);

    /* Folder search finds the five logs and skips other HDF5 files. */
    char other[300];
    snprintf(other, sizeof other, "%s/not_a_log.h5", tmpdir);
    hid_t f = H5Fcreate(other, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(f);
    char **found = NULL;
    const char *dir = tmpdir;
    int n = stats_collect_paths(&dir, 1, &found, err, sizeof err);
    ck_assert_msg(n == 5, "found %d: %s", n, err);
    ck_assert_str_eq(found[0], p[1]);                       /* sorted: dqn_s1 first */
    stats_free_paths(found, n);
    rm_tmp();
}
END_TEST

START_TEST(compare_errors) {
    make_tmp();
    char err[1024], p[300];
    snprintf(p, sizeof p, "%s/noeval.h5", tmpdir);
    rlog_meta m = {.seed = 1, .env = "tmaze", .agent = "dqn", .label = "x", .obs_size = 3, .n_actions = 2};
    rlog *l = rlog_create(p, &m);
    ck_assert_int_eq(rlog_close(l), 0);
    const char *paths[] = {p};
    ck_assert_ptr_null(stats_compare(paths, 1, 1.0, err, sizeof err));
    ck_assert_msg(strstr(err, "noeval.h5: /eval is empty"), "%s", err);
    const char *missing[] = {"/nonexistent/run.h5"};
    ck_assert_ptr_null(stats_compare(missing, 1, 1.0, err, sizeof err));
    ck_assert_msg(strstr(err, "/nonexistent/run.h5: No such file"), "%s", err);
    char **found;
    const char *dir = "/nonexistent";
    ck_assert_int_eq(stats_collect_paths(&dir, 1, &found, err, sizeof err), -1);
    unlink(p);
    dir = tmpdir;
    ck_assert_int_eq(stats_collect_paths(&dir, 1, &found, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "no rql run logs"), "%s", err);
    rm_tmp();
}
END_TEST

int main(void) {
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("pure");
    tcase_add_test(tc, welch_textbook);
    tcase_add_test(tc, welch_unequal_sizes);
    tcase_add_test(tc, welch_degenerate);
    tcase_add_test(tc, ci_half_width);
    tcase_add_test(tc, quantiles_median_iqr);
    tcase_add_test(tc, auc_and_first_reach);
    suite_add_tcase(s, tc);
    tc = tcase_create("logs");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, compare_logs);
    tcase_add_test(tc, compare_errors);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int nf = srunner_ntests_failed(r);
    srunner_free(r);
    return nf ? 1 : 0;
}
