/* rql suite — run a named suite (its shipped sweep, experiments/suites/) and
 * score it as its anchor does (experiments/suite.h):
 *
 *   rql suite --list                               the suites, their size and time
 *   rql suite NAME [--agents L1,L2] [--seeds LIST] [-j N] [-o DIR]
 *   mpirun -n K --bind-to none rql suite NAME      the same runs over K ranks
 *   rql suite NAME --score [--json|--csv]          score the logs there are, run nothing
 *
 * Running is rql sweep's code (rql_sweep_exec: -j, mpirun, resume, the sweep
 * summary), with a live progress display; the comparison table at its end is
 * replaced by the scorecard. Exit status as rql sweep's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "experiments/suite.h"

static void usage(FILE *f) {
    rql_usage_of("suite", f);
    fprintf(f,
            "\n  NAME                a suite (rql suite --list): its sweep config is experiments/suites/NAME.cfg\n"
            "  --list              the suites, their settings, agents, runs and expected time on 2 cores\n"
            "  --agents L1,L2      run and score only these agents of the suite's config (default: all)\n"
            "  --seeds LIST        seeds: 0,1,2 or 0-4 (default: the config's, [0])\n"
            "  -o DIR              output folder (default: runs/suite/NAME)\n"
            "  -j N                runs at once without mpirun (default: the core count)\n"
            "  --set K=V           override a key of the suite's config (agent.LABEL.KEY=V, train.episodes=N)\n"
            "  --force             start every run over\n"
            "  --dry-run           list the runs and their state; run nothing\n"
            "  --score             score the logs in DIR as they are; run nothing\n"
            "  --json, --csv       the scorecard as JSON or CSV (one row per run) on stdout\n"
            "  --reps N            bootstrap replicates of the intervals (default 2000)\n"
            "  --quiet             no progress display and no line per finished run\n"
            "\nA suite is a sweep (settings x agents x seeds; logs DIR/<setting>/<label>/seed<k>.h5, summary\n"
            "DIR/sweep.txt) plus its anchor's scoring rule; running the command again skips complete runs\n"
            "and resumes interrupted ones. docs/suite.md has the rules and the reference scores.\n");
}

typedef struct {
    const suite_def *def;
    suite_fmt fmt;
    int reps;
} report_ctx;

static int report(const sweep_plan *p, void *arg) {
    const report_ctx *x = arg;
    char err[2048];
    suite_card *c = suite_score(x->def, p, x->reps, 0x5eedUL, err, sizeof err);
    if (!c) {
        fprintf(stderr, "rql suite: scoring: %s\n", err);
        return 1;
    }
    if (x->fmt == SUITE_FMT_TABLE) printf("\n");
    suite_print(c, x->fmt, stdout);
    fflush(stdout);
    suite_card_free(c);
    return 0;
}

/* rql suite's own options. */
typedef struct {
    int list, dry, score_only, reps;
    const char *agents;
    suite_fmt fmt;
} suite_args;

static int suite_arg(void *ctx, int argc, char **argv, int *i) {
    suite_args *x = ctx;
    const char *a = argv[*i];
    if (!strcmp(a, "--list")) x->list = 1;
    else if (!strcmp(a, "--dry-run") || !strcmp(a, "-n")) x->dry = 1;
    else if (!strcmp(a, "--score")) x->score_only = 1;
    else if (!strcmp(a, "--json")) x->fmt = SUITE_FMT_JSON;
    else if (!strcmp(a, "--csv")) x->fmt = SUITE_FMT_CSV;
    else if (!strcmp(a, "--agents") && *i + 1 < argc) x->agents = argv[++*i];
    else if (!strcmp(a, "--reps") && *i + 1 < argc) {
        x->reps = atoi(argv[++*i]);
        if (x->reps < 1 || x->reps > 1000000) {
            fprintf(stderr, "rql suite: --reps %s: want 1 .. 1000000\n", argv[*i]);
            return 2;
        }
    } else return 0;
    return 1;
}

int cmd_suite(int argc, char **argv) {
    rql_run_args ra;
    if (rql_run_args_init(&ra, argc)) return 1;
    suite_args own = {.reps = 2000, .fmt = SUITE_FMT_TABLE};
    int prc = rql_run_args_parse("suite", &ra, argc, argv, suite_arg, &own, usage);
    if (prc >= 0) return prc;
    if (own.list) {
        suite_print_list(stdout);
        rql_run_args_free(&ra);
        return 0;
    }
    if (!ra.cfg_path) { usage(stderr); rql_run_args_free(&ra); return 2; }
    const suite_def *def = suite_find(ra.cfg_path);
    if (!def) {
        fprintf(stderr, "rql suite: no suite named '%s' (rql suite --list:", ra.cfg_path);
        for (int i = 0; i < suite_count(); i++) fprintf(stderr, " %s", suite_at(i)->name);
        fprintf(stderr, ")\n");
        rql_run_args_free(&ra);
        return 2;
    }
    char path[4200], err[2048];
    if (suite_config_path(def, path, sizeof path, err, sizeof err)) {
        fprintf(stderr, "rql suite: %s\n", err);
        rql_run_args_free(&ra);
        return 2;
    }
    report_ctx ctx = {.def = def, .fmt = own.fmt, .reps = own.reps};
    int rc;
    if (own.score_only) {
        sweep_plan *p = sweep_plan_load_agents(path, NULL, NULL, ra.sets, ra.nsets, ra.out, own.agents, err, sizeof err);
        if (!p) {
            fprintf(stderr, "rql suite: %s\n", err);
            rql_run_args_free(&ra);
            return 2;
        }
        rc = report(p, &ctx);
        sweep_plan_free(p);
    } else {
        rql_sweep_job job = {.cmd = "suite", .cfg_path = path, .out = ra.out, .sets = ra.sets, .nsets = ra.nsets,
                             .threads = ra.threads, .force = ra.force, .quiet = ra.quiet, .dry = own.dry,
                             .agents = own.agents, .progress = 1, .report = report, .report_arg = &ctx};
        rc = rql_sweep_exec(&job, argc, argv);
    }
    rql_run_args_free(&ra);
    return rc;
}
