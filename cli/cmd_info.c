/* rql info — what a run log holds, in a few readable lines. Works on a log
 * that is still being written (SWMR read) and on one whose writer was killed. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "log/rlog.h"

static void usage(FILE *f) {
    rql_usage_of("info", f);
    fprintf(f, "\n  RUN.h5   a run log written by rql train (several may be given)\n");
}

static const char *status_text(const rlog_info *in) {
    if (!strcmp(in->status, "complete")) return "complete: the run finished its budget";
    if (!strcmp(in->status, "stopped")) return "stopped cleanly before the end (rql train ... --resume continues it)";
    if (!strcmp(in->status, "failed")) return "failed";
    if (!strcmp(in->status, "running"))
        return "not closed by its writer: still running, or interrupted (killed); every row up to "
               "its last flush is here";
    return "unknown (no status attribute)";
}

static int show(const char *path) {
    rlog_info in;
    if (rlog_read_info(path, &in) < 0) {
        fprintf(stderr, "rql info: %s\n", rql_error());
        return -1;
    }
    printf("%s: rql-log v%d, written by rql %s, created %s\n", path, in.format_version,
           in.rql_version[0] ? in.rql_version : "?", in.created[0] ? in.created : "?");
    printf("  run       %s (%s) on %s, seed %ld\n", in.label, in.agent, in.env, in.seed);
    if (in.sweep[0]) {
        printf("  sweep     ");
        for (const char *p = in.sweep; *p; p++)
            if (*p != '\n') putchar(*p);
            else if (p[1]) printf(", ");
        printf("\n");
    }
    if (in.net_spec[0])
        printf("  network   %s%s%s; obs %d, actions %d\n", in.net_spec, strcmp(in.cell, "none") ? ", recorded core " : "",
               strcmp(in.cell, "none") ? in.cell : "", in.obs_size, in.n_actions);
    else printf("  network   none (tabular); obs %d, actions %d\n", in.obs_size, in.n_actions);
    if (in.rows.curves > 0)
        printf("  training  %lld episodes, %lld env steps, %lld update rows; success over the last 10%%: %.3f\n",
               (long long)in.rows.curves, (long long)in.last_env_steps, (long long)in.rows.train, in.recent_success);
    else printf("  training  no episodes yet, %lld update rows\n", (long long)in.rows.train);
    if (in.rows.eval > 0)
        printf("  eval      %lld greedy evaluations; final (at episode %lld): success %.3f, return %.4f\n",
               (long long)in.rows.eval, (long long)in.final_eval_episode, in.final_success, in.final_return);
    else printf("  eval      none\n");
    printf("  steps     %lld recorded steps in %lld episodes\n", (long long)in.rows.steps,
           (long long)in.episodes_recorded);
    if (in.rows.weights > 0)
        printf("  weights   %lld snapshots, the last at episode %lld\n", (long long)in.rows.weights,
               (long long)in.last_snapshot_episode);
    else printf("  weights   no snapshots\n");
    printf("  status    %s\n", status_text(&in));
    if (in.error && in.error[0]) printf("  error     %s\n", in.error);
    rlog_info_free(&in);
    return 0;
}

int cmd_info(int argc, char **argv) {
    int n = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage(stdout); return 0; }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "rql info: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    for (int i = 1; i < argc; i++) {
        if (n++) printf("\n");
        bad += show(argv[i]) < 0;
    }
    if (!n) { usage(stderr); return 2; }
    return bad ? 2 : 0;
}
