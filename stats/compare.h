/* compare — comparing agents across seeds, from their run logs: the numbers
 * `rql compare`, the end of `rql train` and `rql sweep` print. compare.c
 * reads the logs (or walks folders for them) and groups the runs;
 * compare_print.c prints the comparison as a table, CSV or JSON;
 * compare_agg.c prints rliable's aggregates under the table. The numbers
 * themselves are stats.h's.
 *
 * Runs are grouped by their label (root attribute label); for each group,
 * across its seeds:
 *   - final greedy success and return: the last /eval row of each run;
 *     mean with a 95% confidence interval (stats_mean_ci);
 *   - episodes to solve: the at_episode of the first /eval row whose
 *     success_rate >= threshold (default 1.0); a run that never gets there
 *     counts as +infinity ("never"), so the median and the interquartile
 *     range (stats_median_iqr) say "never" when enough seeds failed;
 *     n_solved / n is shown beside it;
 *   - area under the learning curve: the trapezoidal integral of eval
 *     success_rate over at_episode divided by the span from the first to the
 *     last evaluation, i.e. the time-averaged greedy success in [0, 1]
 *     (a single evaluation: its success rate);
 * and between each pair of groups, Welch's t test on final success.
 *
 * Runs of a sweep (`rql sweep`, whose logs carry their cell's values in the
 * root attribute sweep) are grouped by (cell, label) instead: the groups
 * are sorted by the swept values (numbers as numbers), Welch's test compares
 * the agents within each cell only, and the table gains a column per swept
 * key and a grid of seeds solved by cell and agent.
 */
#ifndef RQL_STATS_COMPARE_H
#define RQL_STATS_COMPARE_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "stats/stats.h"

typedef struct {
    char *path;
    char *label, *agent, *env;
    char *status;             /* root attribute status ("complete", "stopped", "running", "" if absent) */
    char *cell;               /* root attribute sweep: "KEY = VALUE" lines of its sweep cell ("" if none) */
    int64_t seed;
    int64_t episodes;         /* rows of /curves */
    int n_evals;
    double final_success, final_return;
    double solve_episode;     /* +inf: never solved */
    double auc;
} stats_run;

typedef struct {
    char *label, *agent, *env;
    char *cell;               /* the runs' sweep cell ("" outside sweeps; borrowed from a run) */
    char **values;            /* [nkeys] the cell's value of each swept key as text ("" if it has none) */
    int n;                    /* runs (seeds) */
    int n_solved;
    stats_ci success, ret;    /* final greedy success and return */
    double solve_median, solve_q1, solve_q3;   /* +inf: "never" */
    stats_ci auc;
    int *runs;                /* [n] indices into stats_comparison.runs */
} stats_group;

typedef struct {
    int a, b;                 /* group indices, a < b */
    stats_welch_result w;     /* a against b, on final success */
} stats_pair;

typedef struct {
    double threshold;         /* success rate that counts as solved */
    double level;             /* confidence level of the intervals */
    int nruns, ngroups, npairs;
    stats_run *runs;          /* in the order given */
    stats_group *groups;      /* in order of first appearance (sweeps: sorted by cell) */
    stats_pair *pairs;        /* (0,1), (0,2), ..., (1,2), ...; sweeps: within a cell only */
    int nkeys;                /* swept keys found in the runs' cells (0: no sweep) */
    char **keys;              /* [nkeys] "env.length", in order of first appearance */
    char **names;             /* [nkeys] short column names: "length" (the whole key where two clash) */
    int nbad;                 /* logs that could not be read: left out of everything above */
    char **bad;               /* [nbad] why, each naming its file */
} stats_comparison;

typedef enum { STATS_FMT_TABLE, STATS_FMT_CSV, STATS_FMT_JSON } stats_fmt;

/* Reads every log of paths[n] (files; see stats_collect_paths for folders)
 * and computes the comparison at threshold (<= 0: 1.0). A log that cannot
 * be read (damaged, not a log, no /eval rows: no greedy result to compare)
 * is left out and listed in bad[] with the reason naming it; the rest are
 * compared. NULL when no log could be read, with the first reason (file and
 * dataset at fault) in err. */
stats_comparison *stats_compare(const char *const *paths, int n, double threshold, char *err, size_t cap);
void stats_comparison_free(stats_comparison *c);

/* Writes the comparison as a readable table, CSV or JSON. */
int stats_print(const stats_comparison *c, stats_fmt fmt, FILE *out);

/* rliable aggregates of final success (stats/compare_agg.c; `rql compare`
 * prints them under its table): per label the mean of per-cell means and
 * the IQM with stratified bootstrap percentile intervals (cells as tasks,
 * seeds as runs), which stay inside [0, 1]; P(X > Y) for every pair over the
 * cells both ran. reps replicates from an mt19937 seeded with seed.
 * Returns 0 or -1 (out of memory). */
int stats_print_aggregates(const stats_comparison *c, FILE *o, int reps, unsigned long seed);

/* stats_compare + stats_print at the default threshold (what `rql train`
 * prints at its end). Returns 0, or -1 with err set (also when some logs
 * were left out: the first reason and how many more). */
int stats_compare_print(const char *const *paths, int n, stats_fmt fmt, FILE *out, char *err, size_t cap);

/* Expands files and folders into run log paths: a file is taken as is; a
 * folder is searched recursively (sorted) for *.h5 whose root attribute
 * format is "rql-log" (checkpoints and exports, readable HDF5 files of
 * another format, are skipped; a damaged *.h5 is kept, for stats_compare to
 * report). *out is a
 * malloc'd array of malloc'd strings (free with stats_free_paths). Returns the
 * count, or -1 with err set (a missing path, or no logs found). */
int stats_collect_paths(const char *const *args, int nargs, char ***out, char *err, size_t cap);
void stats_free_paths(char **paths, int n);

#endif
