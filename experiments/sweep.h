/* sweep — the runs of a sweep and what is known about them.
 *
 * A config's sweep section (config.h) spans a grid of cells: every
 * combination of the swept keys' values, the first key varying slowest.
 * Each cell is crossed with the config's agents and seeds; run r is
 *
 *   cell r / (nagents * nseeds), agent (r / nseeds) % nagents, seed r % nseeds
 *
 * and logs to DIR/<cell>/<label>/seed<k>.h5 with its checkpoint beside it,
 * where <cell> is "name=value,name=value" from the swept keys' short names
 * and folder-safe values (e.g. DIR/length=8,core=gru/drqn/seed1.h5). A
 * config without a sweep has one cell, "", and the layout of `rql train`.
 *
 * sweep_plan_load validates every cell with the code of `rql train`
 * (sweep_cell_load): a cell whose values are invalid is kept, its runs
 * failed with the error, and the others go on. sweep_run_one does one run
 * the way every rank of `rql sweep` does: a finished log of the same config
 * is skipped, an interrupted run resumes from its checkpoint, anything else
 * starts (run_execute does the work). The summary (sweep_write_summary) is
 * DIR/sweep.json and DIR/sweep.txt, each written to a temporary name and
 * renamed, so a kill never leaves a torn one; docs/sweep.md has the format.
 *
 * Where the runs are executed (ranks, threads) is cli/cmd_sweep.c;
 * this module knows nothing of MPI and writes only to the files and FILE
 * streams it is given. Functions return NULL or
 * -1 with the message in err[cap].
 */
#ifndef RQL_SWEEP_H
#define RQL_SWEEP_H

#include <stdio.h>
#include "experiments/config.h"
#include "experiments/run.h"

#define SWEEP_FORMAT "rql-sweep"
#define SWEEP_FORMAT_VERSION 1

typedef enum {
    SWEEP_PENDING,        /* not run by this invocation (yet) */
    SWEEP_RUNNING,        /* handed to a rank, no answer yet */
    SWEEP_COMPLETE,       /* ran from the start to the end of its budget */
    SWEEP_RESUMED,        /* finished after resuming from its checkpoint */
    SWEEP_SKIPPED,        /* its log was already complete: not run again */
    SWEEP_STOPPED,        /* interrupted by SIGINT/SIGTERM, checkpoint written */
    SWEEP_FAILED          /* invalid cell, divergence, I/O error, ...: see err */
} sweep_status;

const char *sweep_status_name(sweep_status s);

typedef struct {
    int *pick;            /* [nsweep] index of each swept key's value */
    char dir[256];        /* "length=8,core=gru"; "" without a sweep */
    rql_config *cfg;      /* the cell's config; NULL when its values are invalid */
    char *err;            /* why it is invalid (NULL otherwise) */
} sweep_cell;

typedef struct {
    sweep_status status;
    int rank;             /* the rank (or thread) that ran it; -1: none */
    double wall_s;        /* of this invocation's part of the run */
    long episodes;
    double final_success, final_return;   /* last greedy evaluation (NaN if none) */
    char err[1024];
    char restart_why[1024]; /* why --resume started the run over ("" if it did not) */
} sweep_result;

typedef struct {
    char *source;         /* the config file */
    char *dir;            /* the output folder */
    rql_config *base;     /* the config without a cell's values: agents, seeds, sweep keys */
    int ncells;
    sweep_cell *cells;
    int nruns;
    rql_run_spec *runs;   /* [nruns] agent, seed, log and checkpoint paths */
    int *run_cell;        /* [nruns] */
    int ninvalid;         /* cells whose values are invalid */
    sweep_result *res;    /* [nruns]; runs of invalid cells start out failed */
    void *block;          /* cells, runs, run_cell and res: one allocation (rql_alloc_views) */
} sweep_plan;

/* ---- cells (sweep_cells.c) ---- */

/* Value v of a swept key as a libconfig literal: 8, 0.5, 1.0, true, "gru". */
void rql_sweep_literal(const rql_sweep_dim *d, int v, char *buf, size_t n);

/* "name=value,name=value" of the cell pick (indices into base->sweep[d])
 * into out[n]; -1 when it does not fit. */
int sweep_cell_dir(const rql_config *base, const int *pick, char *out, size_t n);

/* The config of the cell pick: path (or, when path is NULL, text named
 * source), the nsets overrides, then the value pick[d] of every swept key d
 * of base (the config loaded without a cell's values), each an override
 * whose messages name "FILE:LINE: sweep KEY=VALUE". Its cell field lists
 * the values ("" with no sweep section). NULL with the reason in err. */
rql_config *sweep_cell_load(const char *path, const char *text, const char *source, const char *const *sets,
                            int nsets, const rql_config *base, const int *pick, char *err, size_t cap);

/* ---- the plan (sweep.c) ---- */

/* Loads path (or, when path is NULL, text named source) with the overrides
 * sets[nsets], expands and validates every cell, and lays the runs out under
 * dir (NULL: the config's output). NULL when the config itself is invalid
 * or when every cell is. */
sweep_plan *sweep_plan_load(const char *path, const char *text, const char *source, const char *const *sets,
                            int nsets, const char *dir, char *err, size_t cap);
/* The same with only the agents whose labels are in the comma-separated list
 * agents (NULL: all); a label that is not an agent of the config is an error. */
sweep_plan *sweep_plan_load_agents(const char *path, const char *text, const char *source, const char *const *sets,
                                   int nsets, const char *dir, const char *agents, char *err, size_t cap);
void sweep_plan_free(sweep_plan *p);

/* Run i of the plan: creates its folder; with force, deletes its log and
 * checkpoint first; skips a complete log of the same config; otherwise
 * run_execute with o->resume forced on. out->rank is left to the caller.
 * Returns out->status. */
sweep_status sweep_run_one(const sweep_plan *p, int i, int force, const run_opts *o, sweep_result *out);

/* What a run's files say before it is run: "new", "complete",
 * "resumable" (a checkpoint), "restart" (a log of this run without
 * checkpoint), "other-config" (a log of another config or seed),
 * "unreadable" (a log or checkpoint that cannot be read, or whose checksum
 * fails) or "invalid cell". */
const char *sweep_run_state(const sweep_plan *p, int i);

/* How the sweep was run, for the summary. */
typedef struct {
    const char *state;    /* "running", "finished", "stopped" */
    int ranks;            /* MPI ranks (1 without mpirun) */
    int threads;          /* runs at once per rank */
    int mpi;              /* 1: under mpirun with an MPI build */
    double elapsed_s;
    const char *started;  /* ISO 8601 UTC */
} sweep_info;

/* DIR/sweep.json and DIR/sweep.txt, each via a temporary file and rename. */
int sweep_write_summary(const sweep_plan *p, const sweep_info *info, char *err, size_t cap);

/* The summary table (what sweep.txt holds) to f. */
void sweep_print_table(const sweep_plan *p, const sweep_info *info, FILE *f);

/* --dry-run: the grid, every run with its log path and state, the invalid
 * cells with their errors, and every log or checkpoint that cannot be read
 * (named, with the reason). Returns the number of those unreadable files. */
int sweep_print_plan(const sweep_plan *p, FILE *f);

/* Counts of each status in p->res ([SWEEP_FAILED + 1]). */
void sweep_count(const sweep_plan *p, int *counts);


#endif
