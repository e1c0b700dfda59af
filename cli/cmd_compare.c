/* rql compare — agents against each other across seeds, from their logs
 * (the statistics are stats/compare.c and stats/compare_print.c; this file only parses options). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "stats/compare.h"

static void usage(FILE *f) {
    rql_usage_of("compare", f);
    fprintf(f, "\n  DIR_OR_FILES      run logs, or folders searched recursively for them\n"
               "  --csv             one CSV row per agent (label), p-values in columns p_vs_LABEL\n"
               "  --json            everything, per run too, as JSON (NaN and infinity as null)\n"
               "  --threshold X     success rate that counts as solved (default 1.0)\n"
               "\nRuns are grouped by their label. Final = the last greedy evaluation of each run;\n"
               "means with 95%% confidence intervals from the t distribution; episodes to solve\n"
               "= the first evaluation with success >= X (median and IQR, 'never' counted as\n"
               "infinity); AUC = greedy success averaged over training (trapezoids over the\n"
               "evaluations); Welch's t test on final success between every pair of agents.\n"
               "A log that cannot be read is named on stderr and left out; the others are\n"
               "compared, and the exit status is then 1.\n"
               "The table ends with rliable's aggregates of final success (sweep cells as tasks):\n"
               "mean and interquartile mean with stratified bootstrap intervals (inside [0, 1]),\n"
               "and the probability of improvement of each agent over each other.\n");
}

int cmd_compare(int argc, char **argv) {
    stats_fmt fmt = STATS_FMT_TABLE;
    double threshold = 1.0;
    const char **args = calloc(argc > 0 ? (size_t)argc : 1, sizeof *args);
    int nargs = 0;
    if (!args) { fprintf(stderr, "rql compare: out of memory\n"); return 1; }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); free(args); return 0; }
        else if (!strcmp(a, "--csv")) fmt = STATS_FMT_CSV;
        else if (!strcmp(a, "--json")) fmt = STATS_FMT_JSON;
        else if (!strcmp(a, "--threshold") && i + 1 < argc) {
            char *end;
            threshold = strtod(argv[++i], &end);
            if (*end || !(threshold > 0 && threshold <= 1)) {
                fprintf(stderr, "rql compare: --threshold %s: expected a success rate in (0, 1]\n", argv[i]);
                free(args);
                return 2;
            }
        } else if (a[0] == '-') {
            fprintf(stderr, "rql compare: unknown option '%s'\n", a);
            usage(stderr);
            free(args);
            return 2;
        } else args[nargs++] = a;
    }
    if (!nargs) { usage(stderr); free(args); return 2; }
    char err[2048];
    char **paths = NULL;
    int n = stats_collect_paths(args, nargs, &paths, err, sizeof err);
    free(args);
    if (n < 0) { fprintf(stderr, "rql compare: %s\n", err); return 2; }
    stats_comparison *c = stats_compare((const char *const *)paths, n, threshold, err, sizeof err);
    stats_free_paths(paths, n);
    if (!c) { fprintf(stderr, "rql compare: %s\n", err); return 2; }
    /* Every unreadable log is named; the others are still compared, and the
     * exit status says that the comparison is not of every run given. */
    for (int i = 0; i < c->nbad; i++) fprintf(stderr, "rql compare: left out: %s\n", c->bad[i]);
    int rc = stats_print(c, fmt, stdout) ? 1 : 0;
    if (!rc && fmt == STATS_FMT_TABLE && stats_print_aggregates(c, stdout, 2000, 0x5eedUL)) rc = 1;
    if (rc) fprintf(stderr, "rql compare: cannot write the output\n");
    if (!rc && c->nbad) {
        fprintf(stderr, "rql compare: %d of %d logs could not be read and were left out\n", c->nbad,
                c->nbad + c->nruns);
        rc = 1;
    }
    stats_comparison_free(c);
    return rc;
}
