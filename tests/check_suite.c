/* check_suite — the memory suites' scoring (stats/score.c) on synthetic
 * curves with answers known by hand, the rliable aggregates and bootstrap
 * intervals (stats/rliable.c) against hand-computed values, and the suite
 * table (experiments/suite.c). tests/test_scripts.py checks the same numbers
 * end to end against numpy on logs it writes. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>

#include "experiments/suite.h"
#include "stats/rliable.h"
#include "stats/score.h"

/* A curve of n episodes: the episodes in [wrong_lo, wrong_hi) answered wrong
 * (success 0, return -1), the others right (1, +1). */
static score_curve curve(long n, long wrong_lo, long wrong_hi) {
    double *ret = malloc(sizeof(double) * (size_t)(n ? n : 1)), *suc = malloc(sizeof(double) * (size_t)(n ? n : 1));
    for (long i = 0; i < n; i++) {
        int w = i >= wrong_lo && i < wrong_hi;
        suc[i] = !w;
        ret[i] = w ? -1 : 1;
    }
    return (score_curve){.ret = ret, .success = suc, .n = n};
}

static void curve_free(score_curve *c) {
    free((void *)c->ret);
    free((void *)c->success);
}

START_TEST(bsuite_rule_by_hand) {
    const score_rule *r = score_rule_find("bsuite");
    ck_assert_ptr_nonnull(r);
    score_params p = score_defaults(r);
    ck_assert_int_eq(p.episodes, 10000);
    ck_assert(p.threshold == 0.75 && p.random == 1 && p.optimal == 0);
    int used;
    /* A: wrong fractions 0.3 and 0.4 -> regret ratios 0.6 and 0.8, mean 0.7 < 0.75: learned */
    score_curve a[2] = {curve(10000, 0, 3000), curve(10000, 0, 4000)};
    ck_assert_double_eq_tol(r->run(&p, &a[0]), 0.6, 1e-12);
    ck_assert_double_eq_tol(score_normalise(&p, r->run(&p, &a[0])), 0.4, 1e-12);
    double va = r->setting(&p, a, 2, &used);
    ck_assert_double_eq_tol(va, 0.7, 1e-12);
    ck_assert_int_eq(used, 2);
    ck_assert_int_eq(r->learned(&p, va), 1);
    /* B: 0.76 and 0.74 -> mean 0.75, not below the threshold: not learned */
    score_curve b[2] = {curve(10000, 0, 3800), curve(10000, 6300, 10000)};
    double vb = r->setting(&p, b, 2, &used);
    ck_assert_double_eq_tol(vb, 0.75, 1e-12);
    ck_assert_int_eq(r->learned(&p, vb), 0);
    /* C: partial runs: 5000 perfect episodes and 8000 with 4000 wrong:
     * max_eps = 8000, only the seed that reached it counts: ratio 1.0 */
    score_curve c[2] = {curve(5000, 0, 0), curve(8000, 0, 4000)};
    double vc = r->setting(&p, c, 2, &used);
    ck_assert_double_eq_tol(vc, 1.0, 1e-12);
    ck_assert_int_eq(used, 1);
    ck_assert_int_eq(r->learned(&p, vc), 0);
    /* D: 12000 episodes, the last 2000 wrong: only the first 10000 count */
    score_curve d[1] = {curve(12000, 10000, 12000)};
    double vd = r->setting(&p, d, 1, &used);
    ck_assert_double_eq_tol(vd, 0.0, 1e-12);
    ck_assert_int_eq(r->learned(&p, vd), 1);
    /* E: no episodes at all: no verdict, and it does not count */
    score_curve e[1] = {curve(0, 0, 0)};
    double ve = r->setting(&p, e, 1, &used);
    ck_assert(isnan(ve));
    ck_assert_int_eq(r->learned(&p, ve), -1);
    ck_assert(isnan(r->run(&p, &e[0])));
    /* the suite: A and D learned of A, B, C, D (E has no data): 0.5 */
    double v[5] = {va, vb, vc, vd, ve};
    int l[5];
    for (int i = 0; i < 5; i++) l[i] = r->learned(&p, v[i]);
    ck_assert_double_eq_tol(r->suite(&p, v, l, 5), 0.5, 1e-12);
    for (int i = 0; i < 2; i++) curve_free(&a[i]), curve_free(&b[i]), curve_free(&c[i]);
    curve_free(&d[0]);
    curve_free(&e[0]);
}
END_TEST

START_TEST(mmer_by_hand) {
    const score_rule *r = score_rule_find("mmer");
    ck_assert_ptr_nonnull(r);
    score_params p = score_defaults(r);
    ck_assert_int_eq(p.window, 100);
    p.window = 3;
    double ret[6] = {0, 1, 1, 1, -1, 0}, suc[6] = {0};
    score_curve c = {.ret = ret, .success = suc, .n = 6};
    /* windows of 3: 2/3, 1, 1/3, 0 -> 1 */
    ck_assert_double_eq_tol(r->run(&p, &c), 1.0, 1e-12);
    double ret2[6] = {-1, -1, 0.5, -1, 0.5, 0.5};
    score_curve c2 = {.ret = ret2, .success = suc, .n = 6};
    ck_assert_double_eq_tol(r->run(&p, &c2), 0.0, 1e-12);         /* 0.5 - 1 + 0.5 over 3 */
    score_curve c3 = {.ret = ret, .success = suc, .n = 2};          /* fewer than a window: all of them */
    ck_assert_double_eq_tol(r->run(&p, &c3), 0.5, 1e-12);
    score_curve s[2] = {c, c2};
    int used;
    double v = r->setting(&p, s, 2, &used);
    ck_assert_double_eq_tol(v, 0.5, 1e-12);
    ck_assert_int_eq(used, 2);
    ck_assert_int_eq(r->learned(&p, v), -1);                        /* no threshold: no verdict */
    p.threshold = 0.5;
    ck_assert_int_eq(r->learned(&p, v), 1);
    double vs[3] = {0.5, NAN, 0.25};
    int ls[3] = {1, -1, 0};
    ck_assert_double_eq_tol(r->suite(&p, vs, ls, 3), 0.375, 1e-12);
    ck_assert_double_eq_tol(score_normalise(&p, 0.5), 0.5, 1e-12);
    ck_assert_ptr_null(score_rule_find("nope"));
    ck_assert_int_eq(score_rule_count(), 2);
}
END_TEST

START_TEST(iqm_and_aggregates) {
    double ws[64];
    double x8[8] = {8, 1, 7, 2, 6, 3, 5, 4};
    ck_assert_double_eq_tol(rl_iqm(x8, 8, ws), 4.5, 1e-12);        /* drop 2 each end: 3..6 */
    double x10[10] = {10, 1, 9, 2, 8, 3, 7, 4, 6, 5};
    ck_assert_double_eq_tol(rl_iqm(x10, 10, ws), 5.5, 1e-12);      /* int(2.5) = 2: 3..8 */
    double x5[5] = {100, 0, 1, 2, 3};
    ck_assert_double_eq_tol(rl_iqm(x5, 5, ws), 2.0, 1e-12);        /* int(1.25) = 1: 1, 2, 3 */
    double x3[3] = {1, 2, 9};
    ck_assert_double_eq_tol(rl_iqm(x3, 3, ws), 4.0, 1e-12);        /* int(0.75) = 0: all */
    ck_assert(isnan(rl_iqm(x3, 0, ws)));
    /* [2 runs x 3 tasks]: task means 0.5, 0.25, 1.5 */
    double m[6] = {0, 0.5, 2,
                   1, 0, 1};
    ck_assert_double_eq_tol(rl_aggregate_of(RL_MEAN, m, 2, 3, ws), 0.75, 1e-12);
    ck_assert_double_eq_tol(rl_aggregate_of(RL_MEDIAN, m, 2, 3, ws), 0.5, 1e-12);
    ck_assert_double_eq_tol(rl_aggregate_of(RL_OPT_GAP, m, 2, 3, ws), 1 - 3.5 / 6, 1e-12);  /* min(x, 1) sums to 3.5 */
    ck_assert_double_eq_tol(rl_aggregate_of(RL_IQM, m, 2, 3, ws), 0.625, 1e-12);   /* 0 0 .5 1 1 2 -> .5 1 (drop 1) */
    ck_assert_str_eq(rl_aggregate_name(RL_IQM), "IQM");
    ck_assert_double_eq_tol(rl_normalise(0.6, 1, 0), 0.4, 1e-12);
}
END_TEST

START_TEST(improvement_and_profiles) {
    /* one task: x = {1, 2}, y = {1.5, 0.5}: 3 of 4 pairs x > y */
    double x[2] = {1, 2}, y[2] = {1.5, 0.5};
    ck_assert_double_eq_tol(rl_prob_improvement(x, 2, y, 2, 1), 0.75, 1e-12);
    ck_assert_double_eq_tol(rl_prob_improvement(y, 2, x, 2, 1), 0.25, 1e-12);
    /* ties count a half; identical columns give 0.5 */
    double a[2] = {1, 1}, b[2] = {1, 0};
    ck_assert_double_eq_tol(rl_prob_improvement(a, 2, b, 2, 1), 0.75, 1e-12);
    ck_assert_double_eq_tol(rl_prob_improvement(a, 2, a, 2, 1), 0.5, 1e-12);
    /* two tasks [runs x tasks], averaged: task 0 1.0, task 1 0.0 */
    double p[4] = {1, 0,
                   1, 0}, q[4] = {0, 1,
                                  0, 1};
    ck_assert_double_eq_tol(rl_prob_improvement(p, 2, q, 2, 2), 0.5, 1e-12);
    double s[5] = {0, 0.2, 0.5, 0.5, 1}, tau[3] = {0, 0.5, 1}, out[3];
    rl_profile(s, 5, tau, 3, out);                                  /* strictly above tau */
    ck_assert_double_eq_tol(out[0], 0.8, 1e-12);
    ck_assert_double_eq_tol(out[1], 0.2, 1e-12);
    ck_assert_double_eq_tol(out[2], 0.0, 1e-12);
}
END_TEST

START_TEST(bootstrap_intervals) {
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 1);
    rl_interval v, w;
    /* one run per task: nothing to resample, the interval is the point */
    double one[4] = {0.1, 0.9, 0.4, 0.7};
    ck_assert_int_eq(rl_bootstrap_aggregate(RL_IQM, one, 1, 4, 500, 0.95, r, &v), 0);
    ck_assert(v.lo == v.point && v.hi == v.point);
    ck_assert_double_eq_tol(v.point, 0.55, 1e-12);
    /* two runs of one task, the mean: replicates x0, (x0 + x1) / 2, x1 with
     * probabilities 1/4, 1/2, 1/4, so the 2.5% and 97.5% quantiles are x0, x1 */
    double two[2] = {0.2, 0.6};
    ck_assert_int_eq(rl_bootstrap_aggregate(RL_MEAN, two, 2, 1, 20000, 0.95, r, &v), 0);
    ck_assert_double_eq_tol(v.point, 0.4, 1e-12);
    ck_assert_double_eq_tol(v.lo, 0.2, 1e-12);
    ck_assert_double_eq_tol(v.hi, 0.6, 1e-12);
    ck_assert_int_eq(rl_bootstrap_aggregate(RL_MEAN, two, 2, 1, 20000, 0.4, r, &v), 0);   /* 30% .. 70%: the middle */
    ck_assert_double_eq_tol(v.lo, 0.4, 1e-12);
    ck_assert_double_eq_tol(v.hi, 0.4, 1e-12);
    /* a bounded score's interval stays in its bounds (scores in [0, 1], skewed to 1) */
    double sk[30];
    for (int i = 0; i < 30; i++) sk[i] = i < 27 ? 1.0 : 0.0;
    ck_assert_int_eq(rl_bootstrap_aggregate(RL_MEAN, sk, 10, 3, 4000, 0.95, r, &v), 0);
    ck_assert(v.lo >= 0 && v.hi <= 1 && v.lo <= v.point && v.point <= v.hi);
    ck_assert_double_eq_tol(v.point, 0.9, 1e-12);
    /* reproducible: the same seed gives the same interval */
    double big[60];
    for (int i = 0; i < 60; i++) big[i] = (double)((i * 37) % 11) / 10.0;
    gsl_rng_set(r, 7);
    rl_bootstrap_aggregate(RL_IQM, big, 20, 3, 1000, 0.95, r, &v);
    gsl_rng_set(r, 7);
    rl_bootstrap_aggregate(RL_IQM, big, 20, 3, 1000, 0.95, r, &w);
    ck_assert(v.lo == w.lo && v.hi == w.hi && v.point == w.point);
    ck_assert(v.lo < v.point && v.point < v.hi);
    /* P(X > Y): X always above Y: 1 with a point interval */
    double hi[6] = {1, 1, 1, 1, 1, 1}, lo[6] = {0, 0, 0, 0, 0, 0};
    ck_assert_int_eq(rl_bootstrap_improvement(hi, 3, lo, 3, 2, 500, 0.95, r, &v), 0);
    ck_assert(v.point == 1 && v.lo == 1 && v.hi == 1);
    /* profiles: pointwise intervals, inside [0, 1] */
    double tau[2] = {0.25, 0.75};
    rl_interval pr[2];
    ck_assert_int_eq(rl_bootstrap_profile(big, 20, 3, tau, 2, 500, 0.95, r, pr), 0);
    for (int k = 0; k < 2; k++) ck_assert(pr[k].lo >= 0 && pr[k].hi <= 1 && pr[k].lo <= pr[k].point && pr[k].point <= pr[k].hi);
    /* errors */
    ck_assert_int_eq(rl_bootstrap_aggregate(RL_MEAN, two, 0, 1, 10, 0.95, r, &v), -1);
    ck_assert_int_eq(rl_bootstrap_aggregate(RL_MEAN, two, 2, 1, 10, 1.5, r, &v), -1);
    ck_assert_msg(strstr(rql_error(), "0 < level < 1") != NULL, "%s", rql_error());
    gsl_rng_free(r);
}
END_TEST

START_TEST(suite_table) {
    ck_assert_int_ge(suite_count(), 2);
    const suite_def *s = suite_find("memory_len");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->rule, "bsuite");
    score_params p = suite_score_params(s);
    ck_assert_int_eq(p.episodes, 10000);
    ck_assert(p.threshold == 0.75);
    ck_assert_ptr_null(suite_find("nope"));
    for (int i = 0; i < suite_count(); i++) ck_assert_ptr_nonnull(score_rule_find(suite_at(i)->rule));
    /* the shipped configs: bsuite's sweeps, 10,000 episodes per setting */
    static const long len_values[23] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 17, 20, 25, 30, 40, 50, 60, 70, 80, 90, 100};
    static const long size_values[17] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 17, 20, 25, 30, 40};
    const char *names[2] = {"memory_len", "memory_size"};
    for (int k = 0; k < 2; k++) {
        char path[4200], err[1024];
        s = suite_find(names[k]);
        ck_assert_int_eq(suite_config_path(s, path, sizeof path, err, sizeof err), 0);
        sweep_plan *pl = sweep_plan_load(path, NULL, NULL, NULL, 0, "/tmp/none", err, sizeof err);
        ck_assert_msg(pl != NULL, "%s", err);
        ck_assert_int_eq(pl->ncells, k ? 17 : 23);
        ck_assert_int_eq(pl->ninvalid, 0);
        ck_assert_int_eq(pl->base->nsweep, 1);
        ck_assert_str_eq(pl->base->sweep[0].key, k ? "env.num_bits" : "env.memory_length");
        for (int m = 0; m < pl->ncells; m++)
            ck_assert_int_eq(atol(pl->base->sweep[0].texts[m]), k ? size_values[m] : len_values[m]);
        ck_assert_int_eq(pl->base->train_episodes, 10000);
        ck_assert_str_eq(env_spec_get(pl->base->env, k ? "memory_length" : "num_bits"), k ? "2" : "1");
        sweep_plan_free(pl);
        /* --agents keeps the listed agents, in the config's order */
        pl = sweep_plan_load_agents(path, NULL, NULL, NULL, 0, "/tmp/none", "drqn-gru,dqn-k1", err, sizeof err);
        ck_assert_msg(pl != NULL, "%s", err);
        ck_assert_int_eq(pl->base->nagents, 2);
        ck_assert_str_eq(pl->base->agents[0].label, "dqn-k1");
        ck_assert_int_eq(pl->nruns, pl->ncells * 2);
        ck_assert_int_eq(pl->cells[3].cfg->nagents, 2);
        sweep_plan_free(pl);
        ck_assert_ptr_null(sweep_plan_load_agents(path, NULL, NULL, NULL, 0, "/tmp/none", "drqn", err, sizeof err));
        ck_assert_msg(strstr(err, "no agent labelled 'drqn'") != NULL, "%s", err);
    }
}
END_TEST

/* popgym: POPGym's worlds at Easy, prev_action on, MMER normalised per world
 * between its chance figure at the run's difficulty (docs/envs.md) and 1. */
START_TEST(popgym_suite) {
    static const char *const levels[3] = {"easy", "medium", "hard"};
    const suite_def *s = suite_find("popgym");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->rule, "mmer");
    score_params p = suite_score_params(s);
    ck_assert_int_eq(p.window, 100);
    ck_assert(p.optimal == 1.0);
    char path[4200], err[1024];
    ck_assert_int_eq(suite_config_path(s, path, sizeof path, err, sizeof err), 0);
    sweep_plan *pl = sweep_plan_load(path, NULL, NULL, NULL, 0, "/tmp/none", err, sizeof err);
    ck_assert_msg(pl != NULL, "%s", err);
    ck_assert_int_eq(pl->ncells, 11);
    ck_assert_int_eq(pl->ninvalid, 0);
    ck_assert_str_eq(pl->base->sweep[0].key, "env.name");
    ck_assert_str_eq(env_spec_get(pl->base->env, "difficulty"), "easy");
    ck_assert_str_eq(env_spec_get(pl->base->env, "prev_action"), "1");
    ck_assert_int_eq(s->nchance, 3 * 11);
    for (int m = 0; m < pl->ncells; m++) {     /* every world of the sweep has its chance at every difficulty */
        const char *w = pl->base->sweep[0].texts[m];
        for (int lv = 0; lv < 3; lv++) {
            int found = 0;
            for (int i = 0; i < s->nchance; i++)
                found += !strcmp(s->chance[i].world, w) && !strcmp(s->chance[i].difficulty, levels[lv]);
            ck_assert_msg(found == 1, "%s %s: %d chance rows", w, levels[lv], found);
        }
        ck_assert_str_eq(env_spec_get(pl->cells[m].cfg->env, "prev_action"), "1");
        /* the budget per world (train.steps paired with env.name): count_recall 500,000, the others 200,000 */
        ck_assert_int_eq(pl->cells[m].cfg->train_steps, strcmp(w, "count_recall") ? 200000 : 500000);
        char want[80];
        snprintf(want, sizeof want, "name=%s", w);
        ck_assert_str_eq(pl->cells[m].dir, want);
        int cr = !strcmp(w, "count_recall");           /* its own setting, for every agent */
        for (int a = 0; a < pl->base->nagents; a++) {
            const agent_cfg *ac = pl->cells[m].cfg->agents[a].cfg;
            ck_assert_str_eq(agent_cfg_get(ac, "n_step"), cr ? "1" : "3");
            ck_assert_str_eq(agent_cfg_get(ac, "target_update"), cr ? "1000" : "100");
            ck_assert_str_eq(agent_cfg_get(ac, "lr"), cr ? "0.001" : "0.0003");
        }
    }
    ck_assert_int_eq(rql_sweep_ncross(pl->base), 1);
    sweep_plan_free(pl);
    score_params q = suite_setting_params(s, p, "count_recall", "easy");
    ck_assert(q.random == -0.925);
    ck_assert_double_eq_tol(score_normalise(&q, -0.925), 0, 1e-12);
    ck_assert_double_eq_tol(score_normalise(&q, 1.0), 1, 1e-12);
    ck_assert_double_eq_tol(score_normalise(&q, 0.0375), 0.5, 1e-12);
    /* each difficulty its own figure: Easy's would misplace a Hard run's zero */
    q = suite_setting_params(s, p, "count_recall", "hard");
    ck_assert(q.random == -0.882);
    ck_assert_double_eq_tol(score_normalise(&q, 0.059), 0.5, 1e-12);
    ck_assert(suite_setting_params(s, p, "stateless_cartpole", "easy").random == 0.111);
    ck_assert(suite_setting_params(s, p, "stateless_cartpole", "medium").random == 0.056);
    ck_assert(suite_setting_params(s, p, "stateless_cartpole", "hard").random == 0.037);
    ck_assert(suite_setting_params(s, p, "concentration", "hard").random == -0.835);
    ck_assert(suite_setting_params(s, p, "minesweeper", "medium").random == -0.401);
    ck_assert(suite_setting_params(s, p, "battleship", "hard").random == -0.400);
    q = suite_setting_params(s, p, "no_such_world", "easy");
    ck_assert(q.random == p.random);
    q = suite_setting_params(s, p, "count_recall", "extreme");   /* no figure: the suite's own */
    ck_assert(q.random == p.random);
    q = suite_setting_params(s, p, "count_recall", NULL);
    ck_assert(q.random == p.random);
    q = suite_setting_params(suite_find("memory_len"), suite_score_params(suite_find("memory_len")), "repeat_first",
                             "easy");
    ck_assert(q.random == 1);                  /* a suite without per-world figures keeps its own */
}
END_TEST

static Suite *suite_suite(void) {
    Suite *s = suite_create("suite");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, bsuite_rule_by_hand);
    tcase_add_test(tc, mmer_by_hand);
    tcase_add_test(tc, iqm_and_aggregates);
    tcase_add_test(tc, improvement_and_profiles);
    tcase_add_test(tc, bootstrap_intervals);
    tcase_add_test(tc, suite_table);
    tcase_add_test(tc, popgym_suite);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(suite_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed;
}
