/* rql train — run every (agent, seed) of an experiment config in parallel,
 * one HDF5 log and one checkpoint per run, a live display while it runs, and
 * the comparison table at the end. SIGINT / SIGTERM stop every run at the
 * end of its current step with a checkpoint; --resume continues them. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "util/util.h"
#include "experiments/config.h"
#include "experiments/progress.h"
#include "experiments/run.h"
#include "stats/compare.h"

static void usage(FILE *f) {
    rql_usage_of("train", f);
    fprintf(f,
            "\n  CONFIG        experiment config (libconfig; 'rql help config' lists every key)\n"
            "  -o DIR        output folder (default: the config's output key)\n"
            "  -j N          runs in parallel (default: OMP_NUM_THREADS or the core count)\n"
            "  --seeds LIST  override the seeds: 0,1,2 or 0-4\n"
            "  --set K=V     override a key: env.length=20, train.episodes=500, agent.LABEL.KEY=V\n"
            "  --resume      continue the runs from their checkpoints (finished runs are kept)\n"
            "  --force       overwrite existing logs of these runs\n"
            "  --quiet       no progress display\n"
            "\nEach run logs to DIR/<label>/seed<k>.h5 with its checkpoint in DIR/<label>/seed<k>.ckpt.\n");
}

/* rql train's own option: --resume (ctx: int). */
static int train_arg(void *ctx, int argc, char **argv, int *i) {
    if (strcmp(argv[*i], "--resume")) return 0;
    *(int *)ctx = 1;
    return 1;
}

int cmd_train(int argc, char **argv) {
    int resume = 0;
    rql_run_args ra;
    char err[2048];
    if (rql_run_args_init(&ra, argc)) return 1;
    int prc = rql_run_args_parse("train", &ra, argc, argv, train_arg, &resume, usage);
    if (prc >= 0) return prc;
    if (!ra.cfg_path) { usage(stderr); rql_run_args_free(&ra); return 2; }
    if (resume && ra.force) {
        fprintf(stderr, "rql train: --resume and --force exclude each other\n");
        rql_run_args_free(&ra);
        return 2;
    }
    const char *cfg_path = ra.cfg_path, *out = ra.out;
    const char **sets = ra.sets;
    int threads = ra.threads, force = ra.force, quiet = ra.quiet, nsets = ra.nsets;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);   /* our messages say what failed, HDF5's stack would not help */

    rql_config *c = rql_config_load(cfg_path, sets, nsets, err, sizeof err);
    if (!c) {
        fprintf(stderr, "rql train: %s\n", err);
        free(sets);
        free(ra.seeds_set);   /* --seeds, malloc'd by rql_run_arg */
        return 2;
    }
    if (!out) out = c->output;
    rql_run_spec *runs = NULL;
    int n = 0, rc = 0;
    if (c->nsweep > 0) {
        fprintf(stderr, "rql train: %s declares a sweep (%d key%s, line %d): run it with 'rql sweep %s' "
                        "(docs/sweep.md), or remove the sweep section to train the base config\n",
                cfg_path, c->nsweep, c->nsweep == 1 ? "" : "s", c->sweep[0].line, cfg_path);
        rc = 2;
        goto done;
    }
    if (rql_config_expand(c, out, &runs, &n, err, sizeof err)) {
        fprintf(stderr, "rql train: %s\n", err);
        rc = 2;
        goto done;
    }
    for (int i = 0; i < n; i++) {
        struct stat st;
        int exists = !stat(runs[i].log_path, &st) || !stat(runs[i].ckpt_path, &st);
        if (exists && !resume && !force) {
            fprintf(stderr, "rql train: %s already exists: add --resume to continue these runs, "
                            "--force to start them over, or choose another -o\n",
                    !stat(runs[i].log_path, &st) ? runs[i].log_path : runs[i].ckpt_path);
            rc = 2;
            goto done;
        }
        if (exists) {
            /* a run another rql is writing is neither removed nor resumed */
            int lk = run_lock(runs[i].log_path, err, sizeof err);
            if (lk < 0) {
                fprintf(stderr, "rql train: %s\n", err);
                rc = 1;
                goto done;
            }
            if (force) {
                unlink(runs[i].log_path);
                unlink(runs[i].ckpt_path);
            }
            run_unlock(runs[i].log_path, lk);
        }
        char dir[1100];
        snprintf(dir, sizeof dir, "%s/%s", out, c->agents[runs[i].agent].label);
        if (rql_mkdirs(dir)) {
            fprintf(stderr, "rql train: cannot create %s: %s\n", dir, strerror(errno));
            rc = 1;
            goto done;
        }
    }

    char **names = calloc(n > 0 ? (size_t)n : 1, sizeof *names);
    for (int i = 0; names && i < n; i++) {
        names[i] = malloc(96);
        if (names[i]) snprintf(names[i], 96, "%s/seed%ld", c->agents[runs[i].agent].label, runs[i].seed);
    }
    int tty = isatty(fileno(stderr));
    progress *prog = quiet || !names ? NULL : progress_alloc(n, (const char *const *)names, stderr, tty, tty ? 0.5 : 10);
    run_result *res = calloc(n > 0 ? (size_t)n : 1, sizeof *res);
    if (!res) { rc = 1; goto cleanup; }

    rql_catch_stop_signals();

    fprintf(stderr, "rql train: %d runs (%d agents x %d seeds) -> %s/\n", n, c->nagents, c->nseeds, out);
    run_opts o = {.stop = &rql_stop_flag, .resume = resume, .prog = prog};
    int failed = run_all(c, runs, n, threads, &o, res);
    progress_finish(prog);
    rql_release_stop_signals();

    int stopped = 0;
    for (int i = 0; i < n; i++) {
        if (res[i].restarted)
            fprintf(stderr, "rql: %s: cannot resume (%s); the run was started over\n", runs[i].log_path,
                    res[i].restart_why);
        if (res[i].status == RUN_FAILED)
            fprintf(stderr, "rql train: %s failed: %s\n", runs[i].log_path, res[i].err);
        stopped += res[i].status == RUN_STOPPED;
    }
    if (rql_stop_flag || stopped) {
        fprintf(stderr, "\nrql train: stopped by %s; %d of %d runs interrupted, checkpoints written.\n"
                        "resume with:\n  rql train '%s' -o '%s'",
                rql_stop_flag == SIGTERM ? "SIGTERM" : rql_stop_flag == SIGINT ? "SIGINT" : "request", stopped, n,
                cfg_path, out);
        for (int i = 1; i < argc; i++)
            if (!strcmp(argv[i], "--set") || !strcmp(argv[i], "--seeds") || !strcmp(argv[i], "-j"))
                fprintf(stderr, " %s '%s'", argv[i], i + 1 < argc ? argv[i + 1] : "");
            else if (!strncmp(argv[i], "--set=", 6)) fprintf(stderr, " '%s'", argv[i]);
        fprintf(stderr, " --resume\n");
        rc = rql_stop_flag ? 128 + (int)rql_stop_flag : 1;
        goto cleanup;
    }
    if (failed) rc = 1;
    int finished = 0, skipped = 0;
    double cpu_s = 0;
    for (int i = 0; i < n; i++) {
        finished += res[i].status == RUN_FINISHED;
        skipped += res[i].status == RUN_SKIPPED;
        if (res[i].status == RUN_FINISHED) cpu_s += res[i].wall_s;
    }
    fprintf(stderr, "rql train: %d runs finished (%.1f run-seconds)%s%.0d%s, %d failed; logs in %s/<label>/seed<k>.h5\n",
            finished, cpu_s, skipped ? ", " : "", skipped, skipped ? " already complete" : "", failed, out);

    /* The comparison of the finished runs, as `rql compare DIR` prints it. */
    const char **paths = calloc(n > 0 ? (size_t)n : 1, sizeof *paths);
    int np = 0;
    for (int i = 0; paths && i < n; i++)
        if (res[i].status == RUN_FINISHED || res[i].status == RUN_SKIPPED) paths[np++] = runs[i].log_path;
    if (np > 0) {
        printf("\n");
        if (stats_compare_print(paths, np, STATS_FMT_TABLE, stdout, err, sizeof err) < 0) {
            fprintf(stderr, "rql train: comparison: %s\n", err);
            rc = 1;
        }
    }
    free(paths);
cleanup:
    progress_free(prog);
    for (int i = 0; names && i < n; i++) free(names[i]);
    free(names);
    free(res);
done:
    free(runs);
    rql_config_free(c);
    free(sets);
    free(ra.seeds_set);   /* --seeds, malloc'd by rql_run_arg */
    return rc;
}
