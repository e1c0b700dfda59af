/* check_sweep — sweeps: the sweep section (shape, every class of error with
 * its line), grid expansion and run order, folder names (short names, clashes,
 * sanitised values), a cell's values validated like any config (a bad value
 * fails that cell only, naming the file, line, key and value), the cell's
 * values in its runs' logs, one run done, skipped when complete and refused
 * when complete for another config, and the summary (complete JSON, no
 * temporary file left). */
#define _GNU_SOURCE
#include <check.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "experiments/config.h"
#include "log/rlog.h"
#include "experiments/run.h"
#include "stats/compare.h"
#include "experiments/sweep.h"

static char err[2048];
static char dir[256];

static const char *base =
    "env = { name = \"tmaze\"; length = 3; };\n"                                      /* 1 */
    "agents = ( { label = \"q\"; type = \"dqn\"; hidden = 8; warmup = 16; },\n"       /* 2 */
    "           { label = \"r\"; type = \"drqn\"; hidden = 8; warmup = 16; } );\n"    /* 3 */
    "seeds = [5, 7];\n"                                                               /* 4 */
    "train = { episodes = 12; n_envs = 2; };\n"                                       /* 5 */
    "eval = { every = 6; episodes = 2; record = 1; };\n"                              /* 6 */
    "log = { train_every = 1; flush_s = 0.0; };\n"                                    /* 7 */
    "checkpoint = { every = 6; };\n";                                                 /* 8 */

static void setup(void) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    snprintf(dir, sizeof dir, "/tmp/check_sweep.XXXXXX");
    ck_assert(mkdtemp(dir) != NULL);
}

static void teardown(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) {}
}

/* base + a sweep section (lines 9...) */
static char *with_sweep(const char *sweep) {
    static char text[4096];
    snprintf(text, sizeof text, "%s%s", base, sweep);
    return text;
}

static sweep_plan *plan(const char *sweep) {
    char out[300];
    snprintf(out, sizeof out, "%s/out", dir);
    return sweep_plan_load(NULL, with_sweep(sweep), "t.cfg", NULL, 0, out, err, sizeof err);
}

/* Loading must fail with "t.cfg:LINE:" and want in the message. */
static void expect_error(const char *sweep, int line, const char *want) {
    rql_config *c = rql_config_parse(with_sweep(sweep), "t.cfg", NULL, 0, err, sizeof err);
    ck_assert_msg(c == NULL, "accepted: %s", sweep);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "t.cfg:%d:", line);
    ck_assert_msg(!strncmp(err, prefix, strlen(prefix)), "expected '%s...', got '%s'", prefix, err);
    ck_assert_msg(strstr(err, want) != NULL, "expected '%s' in '%s'", want, err);
}

START_TEST(test_section_parsed) {
    rql_config *c = rql_config_parse(with_sweep("sweep = ( { key = \"env.length\"; values = [4, 8, 16]; },\n"
                                                "  { key = \"agent.r.cell\"; values = (\"lstm\", \"gru\"); name = \"core\"; },\n"
                                                "  { key = \"agent.*.lr\"; values = [1e-3, 0.5, 1.0]; } );\n"),
                                     "t.cfg", NULL, 0, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(c->nsweep, 3);
    ck_assert_str_eq(c->sweep[0].key, "env.length");
    ck_assert_str_eq(c->sweep[0].name, "length");
    ck_assert_int_eq(c->sweep[0].nvalues, 3);
    ck_assert_str_eq(c->sweep[0].texts[2], "16");
    ck_assert_int_eq(c->sweep[0].kinds[0], RQL_SWEEP_INT);
    ck_assert_int_eq(c->sweep[0].line, 9);
    ck_assert_str_eq(c->sweep[1].name, "core");
    ck_assert_int_eq(c->sweep[1].kinds[1], RQL_SWEEP_STR);
    ck_assert_str_eq(c->sweep[2].name, "lr");
    ck_assert_str_eq(c->sweep[2].texts[0], "0.001");
    char lit[64];
    rql_sweep_literal(&c->sweep[1], 1, lit, sizeof lit);
    ck_assert_str_eq(lit, "\"gru\"");
    rql_sweep_literal(&c->sweep[2], 2, lit, sizeof lit);
    ck_assert_str_eq(lit, "1.0");                 /* stays a real when read back */
    ck_assert_ptr_null(c->cell);
    /* the base config is the file without the sweep's values */
    ck_assert_str_eq(env_spec_get(c->env, "length"), "3");
    rql_config_free(c);
    /* an empty sweep is a sweep of one cell */
    c = rql_config_parse(with_sweep("sweep = ();\n"), "t.cfg", NULL, 0, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(c->nsweep, 0);
    rql_config_free(c);
}
END_TEST

START_TEST(test_section_errors) {
    expect_error("sweep = { length = [4, 8]; };\n", 9, "sweep: expected a list");
    expect_error("sweep = ( [4, 8] );\n", 9, "sweep[0]: expected a group");
    expect_error("sweep = ( { values = [4, 8]; } );\n", 9, "sweep[0]: needs key");
    expect_error("sweep = ( { key = \"env.length\"; } );\n", 9, "sweep env.length: needs values");
    expect_error("sweep = ( { key = \"env.length\";\n values = []; } );\n", 10, "the list of values is empty");
    expect_error("sweep = ( { key = \"env.length\"; values = [4]; step = 2; } );\n", 9, "unknown key 'step'");
    expect_error("sweep = ( { key = \"seeds\"; values = [4]; } );\n", 9, "cannot be swept");
    expect_error("sweep = ( { key = \"output\"; values = [\"x\"]; } );\n", 9, "cannot be swept");
    expect_error("sweep = ( { key = \"agent.q.label\"; values = [\"x\"]; } );\n", 9, "label");
    expect_error("sweep = ( { key = \"length\"; values = [4]; } );\n", 9, "expected SECTION.KEY");
    expect_error("sweep = ( { key = \"env.a.b\"; values = [4]; } );\n", 9, "expected SECTION.KEY");
    expect_error("sweep = ( { key = \"agent.q\"; values = [4]; } );\n", 9, "agent.LABEL.KEY");
    expect_error("sweep = ( { key = \"env.length\"; values = [4]; },\n"
                 "          { key = \"env.length\"; values = [5]; } );\n", 10, "already swept by sweep[0] (line 9)");
    expect_error("sweep = ( { key = \"env.length\";\n values = ( 4,\n [1, 2] ); } );\n", 11,
                 "values[1]: expected a number, boolean or string");
    expect_error("sweep = ( { key = \"agent.r.cell\"; values = (\"a b\",\n \"a/b\"); } );\n", 10,
                 "same folder name 'a_b'");
    expect_error("sweep = ( { key = \"env.length\"; values = [4]; name = \"a=b\"; } );\n", 9, "short name");
    expect_error("sweep = ( { key = \"agent.q.hidden\"; values = [4]; name = \"h\"; },\n"
                 "          { key = \"agent.r.hidden\"; values = [4]; name = \"h\"; } );\n", 10, "already used");
}
END_TEST

START_TEST(test_grid_and_names) {
    sweep_plan *p = plan("sweep = ( { key = \"env.length\"; values = [4, 8, 16]; },\n"
                         "          { key = \"agent.r.cell\"; values = (\"lstm\", \"gru\"); name = \"core\"; } );\n");
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_int_eq(p->ncells, 6);
    ck_assert_int_eq(p->nruns, 6 * 2 * 2);
    ck_assert_int_eq(p->ninvalid, 0);
    /* the first key varies slowest; then agents; then seeds */
    ck_assert_str_eq(p->cells[0].dir, "length=4,core=lstm");
    ck_assert_str_eq(p->cells[1].dir, "length=4,core=gru");
    ck_assert_str_eq(p->cells[5].dir, "length=16,core=gru");
    ck_assert_int_eq(p->cells[3].pick[0], 1);
    ck_assert_int_eq(p->cells[3].pick[1], 1);
    int r = 3 * 4 + 1 * 2 + 1;                    /* cell 3, agent r, seed 7 */
    ck_assert_int_eq(p->run_cell[r], 3);
    ck_assert_int_eq(p->runs[r].agent, 1);
    ck_assert_int_eq(p->runs[r].seed, 7);
    char want[600];
    snprintf(want, sizeof want, "%s/out/length=8,core=gru/r/seed7.h5", dir);
    ck_assert_str_eq(p->runs[r].log_path, want);
    snprintf(want, sizeof want, "%s/out/length=8,core=gru/r/seed7.ckpt", dir);
    ck_assert_str_eq(p->runs[r].ckpt_path, want);
    /* each cell's config has its values, applied by the same code as --set */
    const rql_config *c = p->cells[3].cfg;
    ck_assert_str_eq(env_spec_get(c->env, "length"), "8");
    ck_assert_str_eq(agent_cfg_get(c->agents[1].cfg, "cell"), "gru");
    ck_assert_str_eq(c->cell, "env.length = 8\nagent.r.cell = \"gru\"\n");
    ck_assert_str_eq(env_spec_get(p->base->env, "length"), "3");
    for (int i = 0; i < p->nruns; i++) ck_assert_int_eq(p->res[i].status, SWEEP_PENDING);
    sweep_plan_free(p);

    /* derived short names that clash fall back to the whole key */
    p = plan("sweep = ( { key = \"agent.q.hidden\"; values = [4, 6]; },\n"
             "          { key = \"agent.r.hidden\"; values = [5]; },\n"
             "          { key = \"agent.*.lr\"; values = [0.001, 1e-2]; } );\n");
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_str_eq(p->cells[0].dir, "agent.q.hidden=4,agent.r.hidden=5,lr=0.001");
    ck_assert_str_eq(p->cells[3].dir, "agent.q.hidden=6,agent.r.hidden=5,lr=0.01");
    ck_assert_str_eq(agent_cfg_get(p->cells[1].cfg->agents[0].cfg, "lr"), "0.01");
    ck_assert_str_eq(agent_cfg_get(p->cells[1].cfg->agents[1].cfg, "lr"), "0.01");
    sweep_plan_free(p);

    /* no sweep section: one cell, the layout of rql train */
    p = plan("");
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_int_eq(p->ncells, 1);
    ck_assert_int_eq(p->nruns, 4);
    snprintf(want, sizeof want, "%s/out/q/seed7.h5", dir);
    ck_assert_str_eq(p->runs[1].log_path, want);
    ck_assert_str_eq(p->cells[0].cfg->cell, "");
    sweep_plan_free(p);
}
END_TEST

/* with = "KEY": values paired one to one with an earlier entry's, crossed
 * with the others; no cells of their own and no part of the folder name. */
START_TEST(test_paired_key) {
    sweep_plan *p = plan("sweep = ( { key = \"env.length\"; values = [4, 8, 16]; },\n"
                         "          { key = \"agent.r.cell\"; values = (\"lstm\", \"gru\"); name = \"core\"; },\n"
                         "          { key = \"train.episodes\"; values = [12, 12, 20]; with = \"env.length\"; } );\n");
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_int_eq(p->ncells, 6);
    ck_assert_int_eq(p->nruns, 6 * 2 * 2);
    ck_assert_int_eq(rql_sweep_ncells(p->base), 6);
    ck_assert_int_eq(rql_sweep_ncross(p->base), 2);
    ck_assert_int_eq(p->base->sweep[2].with, 0);
    ck_assert_int_eq(p->base->sweep[0].with, -1);
    ck_assert_str_eq(p->cells[0].dir, "length=4,core=lstm");
    ck_assert_str_eq(p->cells[5].dir, "length=16,core=gru");
    for (int ci = 0; ci < 6; ci++) ck_assert_int_eq(p->cells[ci].pick[2], p->cells[ci].pick[0]);
    ck_assert_str_eq(p->cells[3].cfg->cell, "env.length = 8\nagent.r.cell = \"gru\"\ntrain.episodes = 12\n");
    ck_assert_int_eq(p->cells[3].cfg->train_episodes, 12);
    ck_assert_int_eq(p->cells[4].cfg->train_episodes, 20);
    ck_assert_int_eq(p->cells[5].cfg->train_episodes, 20);
    ck_assert_str_eq(env_spec_get(p->cells[5].cfg->env, "length"), "16");
    sweep_plan_free(p);

    /* paired with the only crossed key: one folder part per value */
    p = plan("sweep = ( { key = \"env.length\"; values = [4, 8]; },\n"
             "          { key = \"agent.*.lr\"; values = [0.01, 0.001]; with = \"env.length\"; } );\n");
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_int_eq(p->ncells, 2);
    ck_assert_str_eq(p->cells[1].dir, "length=8");
    ck_assert_str_eq(agent_cfg_get(p->cells[1].cfg->agents[1].cfg, "lr"), "0.001");
    ck_assert_str_eq(agent_cfg_get(p->cells[0].cfg->agents[0].cfg, "lr"), "0.01");
    sweep_plan_free(p);

    /* a bad paired value fails its cell only, named with its own line */
    p = plan("sweep = ( { key = \"env.length\"; values = [4, 8]; },\n"
             "          { key = \"train.n_envs\";\n values = [2,\n 0]; with = \"env.length\"; } );\n");
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_int_eq(p->ninvalid, 1);
    ck_assert_ptr_null(p->cells[0].err);
    ck_assert_msg(p->cells[1].err && strstr(p->cells[1].err, "t.cfg:12:") && strstr(p->cells[1].err, "train.n_envs"),
                  "%s", p->cells[1].err ? p->cells[1].err : "(none)");
    sweep_plan_free(p);

    expect_error("sweep = ( { key = \"env.length\"; values = [4, 8]; },\n"
                 "          { key = \"train.episodes\"; values = [1, 2]; with = \"env.size\"; } );\n", 10,
                 "with = \"env.size\": no earlier entry");
    expect_error("sweep = ( { key = \"train.episodes\"; values = [1, 2]; with = \"train.episodes\"; } );\n", 9,
                 "no earlier entry");
    expect_error("sweep = ( { key = \"env.length\"; values = [4, 8]; },\n"
                 "          { key = \"train.episodes\";\n values = [1, 2, 3]; with = \"env.length\"; } );\n", 11,
                 "3 values, but env.length (with) has 2");
    expect_error("sweep = ( { key = \"env.length\"; values = [4, 8]; },\n"
                 "          { key = \"train.episodes\"; values = [1, 2]; with = \"env.length\"; },\n"
                 "          { key = \"train.n_envs\"; values = [1, 2]; with = \"train.episodes\"; } );\n", 11,
                 "itself paired with env.length");
    expect_error("sweep = ( { key = \"env.length\"; values = [4, 8]; },\n"
                 "          { key = \"train.episodes\"; values = [1, 2]; with = 3; } );\n", 10,
                 "with: expected the key of an earlier entry");
}
END_TEST

START_TEST(test_invalid_cell) {
    sweep_plan *p = plan("sweep = ( { key = \"env.length\";\n"
                         "            values = [2, -1, 4]; },\n"
                         "          { key = \"agent.r.cell\"; values = [\"lstm\", \"nope\"]; } );\n");
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_int_eq(p->ncells, 6);
    ck_assert_int_eq(p->ninvalid, 4);             /* length -1 (2 cells), cell nope (2 more) */
    ck_assert_ptr_nonnull(p->cells[0].cfg);
    ck_assert_ptr_null(p->cells[2].cfg);          /* length=-1,cell=lstm */
    ck_assert_msg(strstr(p->cells[2].err, "t.cfg:10: sweep env.length=-1: env.length = -1") != NULL, "%s",
                  p->cells[2].err);
    ck_assert_msg(strstr(p->cells[2].err, "out of range") != NULL, "%s", p->cells[2].err);
    ck_assert_ptr_null(p->cells[1].cfg);          /* length=2,cell=nope */
    ck_assert_msg(strstr(p->cells[1].err, "t.cfg:11: sweep agent.r.cell=\"nope\"") != NULL, "%s", p->cells[1].err);
    /* runs of invalid cells start out failed with the cell's error; the others pending */
    for (int i = 0; i < p->nruns; i++) {
        const sweep_cell *c = &p->cells[p->run_cell[i]];
        ck_assert_int_eq(p->res[i].status, c->cfg ? SWEEP_PENDING : SWEEP_FAILED);
        if (!c->cfg) ck_assert_str_eq(p->res[i].err, c->err);
    }
    ck_assert_str_eq(sweep_run_state(p, 4 * 2), "invalid cell");
    ck_assert_str_eq(sweep_run_state(p, 0), "new");
    sweep_plan_free(p);

    /* every cell invalid: the config is wrong, not a cell */
    p = plan("sweep = ( { key = \"env.length\"; values = [-1, -2]; } );\n");
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(err, "every cell of the sweep is invalid") && strstr(err, "env.length=-1"), "%s", err);
    p = plan("sweep = ( { key = \"env.nosuch\"; values = [1]; } );\n");
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(err, "t.cfg:9: sweep env.nosuch=1") != NULL, "%s", err);
    p = plan("sweep = ( { key = \"agent.zz.k\"; values = [1]; } );\n");
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(err, "no agent labelled 'zz'") != NULL, "%s", err);
}
END_TEST

START_TEST(test_run_skip_and_log) {
    sweep_plan *p = plan("sweep = ( { key = \"env.length\"; values = [2, 3]; } );\n");
    ck_assert_msg(p != NULL, "%s", err);
    run_opts o = {0};
    sweep_result r = {.rank = 2};
    int i = 2 * 2 * 1 + 1;                        /* length=3, agent q, seed 7 */
    ck_assert_int_eq(sweep_run_one(p, i, 0, &o, &r), SWEEP_COMPLETE);
    ck_assert_int_eq(r.rank, 2);
    ck_assert_int_eq(r.episodes, 12);
    ck_assert(isfinite(r.final_success));
    ck_assert_str_eq(sweep_run_state(p, i), "complete");
    /* the log carries its cell and is complete */
    rlog_info in;
    ck_assert_msg(rlog_read_info(p->runs[i].log_path, &in) == 0, "%s", rql_error());
    ck_assert_str_eq(in.sweep, "env.length = 3\n");
    ck_assert_str_eq(in.status, "complete");
    ck_assert_msg(strstr(in.config, "length = 3;") != NULL, "%s", in.config);
    rlog_info_free(&in);
    struct stat s1, s2;
    ck_assert_int_eq(stat(p->runs[i].log_path, &s1), 0);
    /* again: skipped, the log untouched, its numbers read back */
    sweep_result r2 = {.rank = 1};
    ck_assert_int_eq(sweep_run_one(p, i, 0, &o, &r2), SWEEP_SKIPPED);
    ck_assert_int_eq(stat(p->runs[i].log_path, &s2), 0);
    ck_assert(s1.st_mtim.tv_sec == s2.st_mtim.tv_sec && s1.st_mtim.tv_nsec == s2.st_mtim.tv_nsec);
    ck_assert(s1.st_ino == s2.st_ino);
    ck_assert_int_eq(r2.episodes, 12);
    ck_assert(r2.final_success == r.final_success);
    /* the compare of a sweep's logs groups by cell */
    const char *paths[] = {p->runs[i].log_path};
    stats_comparison *c = stats_compare(paths, 1, 1.0, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(c->nkeys, 1);
    ck_assert_str_eq(c->keys[0], "env.length");
    ck_assert_str_eq(c->names[0], "length");
    ck_assert_str_eq(c->groups[0].values[0], "3");
    stats_comparison_free(c);
    sweep_plan_free(p);

    /* the same folder with another config: the complete log is refused, not skipped */
    char out[300];
    snprintf(out, sizeof out, "%s/out", dir);
    const char *sets[] = {"train.episodes=14"};
    p = sweep_plan_load(NULL, with_sweep("sweep = ( { key = \"env.length\"; values = [2, 3]; } );\n"), "t.cfg", sets,
                        1, out, err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_str_eq(sweep_run_state(p, i), "other-config");
    ck_assert_int_eq(sweep_run_one(p, i, 0, &o, &r), SWEEP_FAILED);
    ck_assert_msg(strstr(r.err, "another config") != NULL, "%s", r.err);
    /* --force starts it over */
    ck_assert_int_eq(sweep_run_one(p, i, 1, &o, &r), SWEEP_COMPLETE);
    ck_assert_int_eq(r.episodes, 14);
    sweep_plan_free(p);
}
END_TEST

START_TEST(test_resumed_run) {
    sweep_plan *p = plan("sweep = ( { key = \"env.length\"; values = [2, 3]; } );\n");
    ck_assert_msg(p != NULL, "%s", err);
    run_opts o = {.stop_after_steps = 5};
    sweep_result r = {0};
    ck_assert_int_eq(sweep_run_one(p, 0, 0, &o, &r), SWEEP_STOPPED);
    ck_assert_str_eq(sweep_run_state(p, 0), "resumable");
    o.stop_after_steps = 0;
    ck_assert_int_eq(sweep_run_one(p, 0, 0, &o, &r), SWEEP_RESUMED);
    ck_assert_str_eq(sweep_run_state(p, 0), "complete");
    sweep_plan_free(p);
}
END_TEST

static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

START_TEST(test_summary) {
    sweep_plan *p = plan("sweep = ( { key = \"env.length\"; values = [2, -1]; },\n"
                         "          { key = \"agent.r.cell\"; values = [\"lstm\", \"g\\\"ru\"]; } );\n");
    ck_assert_msg(p != NULL, "%s", err);
    p->res[0].status = SWEEP_COMPLETE;
    p->res[0].rank = 1;
    p->res[0].wall_s = 0.5;
    p->res[0].final_success = 1.0;
    p->res[1].status = SWEEP_RUNNING;
    p->res[1].rank = 2;
    sweep_info info = {.state = "running", .ranks = 3, .threads = 1, .mpi = 1, .elapsed_s = 2, .started = "T"};
    ck_assert_msg(sweep_write_summary(p, &info, err, sizeof err) == 0, "%s", err);
    char path[400];
    snprintf(path, sizeof path, "%s/out/sweep.json", dir);
    char *j = slurp(path);
    ck_assert_ptr_nonnull(strstr(j, "\"format\": \"rql-sweep\""));
    ck_assert_ptr_nonnull(
        strstr(j, "{\"key\": \"agent.r.cell\", \"name\": \"cell\", \"with\": null, \"values\": [\"lstm\", \"g\\\"ru\"]}"));
    ck_assert_ptr_nonnull(strstr(j, "\"counts\": {\"pending\": 2, \"running\": 1, \"complete\": 1, \"resumed\": 0, "
                                    "\"skipped\": 0, \"stopped\": 0, \"failed\": 12}"));
    ck_assert_ptr_nonnull(strstr(j, "{\"run\": 0, \"cell\": 0, \"cell_dir\": \"length=2,cell=lstm\", \"values\": "
                                    "{\"env.length\": 2, \"agent.r.cell\": \"lstm\"}, \"label\": \"q\", \"seed\": 5, "
                                    "\"log\": \"length=2,cell=lstm/q/seed5.h5\", \"status\": \"complete\", \"rank\": 1, "
                                    "\"wall_s\": 0.5,"));
    ck_assert_ptr_nonnull(strstr(j, "\"status\": \"failed\", \"rank\": -1"));
    ck_assert_ptr_nonnull(strstr(j, "sweep env.length=-1: env.length = -1"));
    ck_assert_ptr_nonnull(strstr(j, "\"final_success\": null"));
    size_t n = strlen(j);
    ck_assert(n > 2 && !strcmp(j + n - 2, "}\n"));
    snprintf(path, sizeof path, "%s/out/sweep.txt", dir);
    char *t = slurp(path);
    ck_assert_ptr_nonnull(strstr(t, "16 runs (4 cells x 2 agents x 2 seeds), running after 2.0 s on 3 ranks"));
    ck_assert_ptr_nonnull(strstr(t, "2 pending, 1 running, 1 complete, 12 failed"));
    snprintf(path, sizeof path, "%s/out/sweep.json.tmp", dir);
    struct stat st;
    ck_assert_int_ne(stat(path, &st), 0);         /* written by rename: no temporary left */
    /* the dry-run listing names every run and the invalid cells */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sweep_print_plan(p, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "4 cells x 2 agents x 2 seeds = 16 runs"));
    ck_assert_ptr_nonnull(strstr(buf, "length=2,cell=lstm/q/seed5.h5"));
    ck_assert_ptr_nonnull(strstr(buf, "4 new, 12 invalid cell"));
    ck_assert_ptr_nonnull(strstr(buf, "3 invalid cells"));
    free(buf);
    sweep_plan_free(p);
}
END_TEST

int main(void) {
    Suite *s = suite_create("sweep");
    TCase *t = tcase_create("sweep");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_section_parsed);
    tcase_add_test(t, test_section_errors);
    tcase_add_test(t, test_grid_and_names);
    tcase_add_test(t, test_paired_key);
    tcase_add_test(t, test_invalid_cell);
    tcase_add_test(t, test_run_skip_and_log);
    tcase_add_test(t, test_resumed_run);
    tcase_add_test(t, test_summary);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf != 0;
}
