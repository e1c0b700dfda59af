/* rlog — the HDF5 run log: one file per run, written live, read by everyone.
 *
 * The writer (rlog_create / rlog_reopen / rlog_open_append) makes the file in
 * SWMR mode: H5F_LIBVER_LATEST, every group and dataset created up front
 * (chunked, shuffle + deflate, unlimited first dimension), then
 * H5Fstart_swmr_write, then only extend + write + flush. That layout survives
 * SIGKILL and can be read live from h5py (swmr=True); per-episode groups do
 * not (DESIGN.md). The schema is docs/log-format.md:
 *
 *   /curves   one row per training episode      rlog_append_curve
 *   /train    one row per logged update         rlog_append_train
 *   /eval     one row per greedy evaluation     rlog_append_eval
 *   /steps    one row per recorded step         rlog_append_step
 *   /weights  one row per weight snapshot       rlog_append_weights
 *
 * Rows are buffered in memory per table and written in blocks, so a run
 * makes few HDF5 calls; rlog_flush writes every buffered row and flushes the
 * file: after it returns, everything appended so far is visible to a live
 * reader and survives a SIGKILL of the writer. Rows appended after the last
 * flush may or may not be in the file after a kill (whole blocks only, and a
 * table may then be ragged by one block: readers keep its shortest column).
 * After each flush rlog also clears HDF5's "open for write" mark in the
 * on-disk superblock, so non-SWMR readers (h5dump, MATLAB, plain h5py) can
 * open a live or killed log too (superblock.c says how and why).
 *
 * Resume: rlog_get_counts gives the rows appended so far (flush first, then
 * save them in the checkpoint); rlog_reopen truncates every table back to
 * such counts, so a resumed run continues exactly where its checkpoint was
 * taken. A log left open by a killed writer is reopened too (its superblock
 * still says "open for write"; rlog_reopen clears that mark).
 *
 * Threads: each rlog is used by one thread; several runs may write their own
 * files from several threads at once (HDF5 serialises them with its global
 * lock). No global state except the thread-local error message.
 *
 * Reading: rlog_read_info summarises a log (what `rql info` prints, what
 * `rql eval` needs); rlog_file opens one read-only (SWMR read, so a log that
 * is still being written can be read) and reads whole datasets and root
 * attributes with shape checks. Every failure returns -1 / NULL and leaves a
 * message naming the file and the dataset or attribute in rql_error().
 * HDF5's own error printing is turned off by every entry point.
 *
 * Files: rlog_write.c (the writer), rlog_read.c (the reader and
 * rlog_read_info), rlog_schema.h / rlog_schema.c (the tables and helpers both
 * share), superblock.h / superblock.c (the open-for-write mark).
 */
#ifndef RQL_RLOG_H
#define RQL_RLOG_H

#include <stddef.h>
#include <stdint.h>
#include <hdf5.h>
#include "nets/nets.h"
#include "util/util.h"

#define RLOG_FORMAT "rql-log"
#define RLOG_FORMAT_VERSION 1        /* the newest version this build reads and writes */

/* Message of the last failure on this thread ("" if none). */
const char *rlog_error(void);

/* ---- writing ---------------------------------------------------------------- */

typedef struct rlog rlog;

/* What the root attributes say about the run, and the shapes of /steps and
 * /weights (which SWMR requires to be fixed at creation). */
typedef struct {
    int64_t seed;
    const char *env;          /* world name, e.g. "tmaze" */
    const char *agent;        /* agent type: "qtable", "dqn", "drqn" */
    const char *label;        /* the config's agent label, e.g. "drqn_lstm" */
    const char *config;       /* the resolved config text of this run (may be NULL) */
    const char *sweep;        /* a run of a sweep: its cell's values, "KEY = VALUE" lines
                                 (root attribute sweep; NULL or "": not written) */
    int obs_size;             /* width of /steps/observations */
    int n_actions;            /* width of /steps/q_values */
    int hidden_size;          /* width of /steps/hidden (and cell); 0: no such datasets */
    const net *net;           /* the online network: one /weights dataset per tensor;
                                 its spec and cell type become root attributes.
                                 NULL (qtable): /weights holds at_episode only */
    const char *q_head;       /* how the net's last outputs become Q-values: "linear"
                                 (one per action; NULL means this) or "dueling"
                                 (V then the advantages, Q = V + a - mean(a)) */
} rlog_meta;

/* Rows appended so far, per table; saved in checkpoints as raw bytes, so
 * its layout is fixed: five int64 in this order. */
typedef struct {
    int64_t curves, train, eval, steps, weights;
} rlog_counts;

typedef struct {
    int64_t episode;          /* training episode index, 0-based */
    int64_t env_steps;        /* env steps of the run when the episode ended */
    float ret;                /* undiscounted return */
    int32_t length;           /* steps */
    int success;              /* nonzero: reached the goal */
    float epsilon;            /* exploration rate when it ended */
    double wall_s;            /* run wall time in seconds when it ended */
} rlog_curve_row;

typedef struct {
    int64_t update;           /* updates done so far */
    float loss, q_mean, grad_norm;
} rlog_train_row;

typedef struct {
    int64_t at_episode;       /* training episodes done when it ran */
    int64_t env_steps;        /* training env steps done when it ran */
    double return_mean;       /* mean undiscounted return over its episodes */
    double success_rate;      /* fraction of its episodes that succeeded */
    int32_t episodes;         /* episodes it ran */
} rlog_eval_row;

/* One recorded step: the agent saw observation, chose action (with Q-values
 * q and, after the step, recurrent state hidden / cell), and the env answered
 * reward, terminated, truncated and next_observation (the final observation
 * where the episode ended: env_vec's final_obs). */
typedef struct {
    int64_t episode;          /* recorded-episode id (rlog_next_step_episode) */
    int32_t t;                /* step within the episode, 0-based */
    const float *observation;      /* [obs_size] */
    const float *next_observation; /* [obs_size]; NULL: stored as NaN, and `rql export`
                                      then refuses the episode if this is its last step */
    int32_t action;
    float reward;
    int terminated, truncated;
    const float *q;           /* [n_actions], NULL: NaN */
    const float *hidden;      /* [hidden_size], NULL: NaN (ignored if hidden_size == 0) */
    const float *cell;        /* [hidden_size] LSTM c, NULL: NaN (only written for an LSTM core) */
} rlog_step_row;

/* Creates (truncates) path and starts SWMR writing. meta->env, agent, label
 * are required. NULL on failure. */
rlog *rlog_create(const char *path, const rlog_meta *meta);

/* Reopens a log for appending after truncating every table to counts (the
 * counts a checkpoint saved). Refuses a file holding fewer rows than counts
 * in any table, a file of another format, or a newer format_version. */
rlog *rlog_reopen(const char *path, const rlog_counts *counts);

/* Reopens a log for appending where it ends (`rql eval --record`). Tables
 * left ragged by a killed writer are cut to their shortest column. The root
 * attribute status is left as it was (unless rlog_set_complete is called). */
rlog *rlog_open_append(const char *path);

int rlog_append_curve(rlog *l, const rlog_curve_row *r);
int rlog_append_train(rlog *l, const rlog_train_row *r);
int rlog_append_eval(rlog *l, const rlog_eval_row *r);
int rlog_append_step(rlog *l, const rlog_step_row *r);
/* A snapshot of every tensor of n (which must have the tensor table the log
 * was created with: names and shapes are checked). Written at once, not
 * buffered (snapshots are large and rare). */
int rlog_append_weights(rlog *l, int64_t at_episode, const net *n);

/* Writes every buffered row and flushes the file (see the top of this file). */
int rlog_flush(rlog *l);
void rlog_get_counts(const rlog *l, rlog_counts *c);
/* 1 + the largest episode id in /steps, 0 when it is empty: the id of the
 * next recorded episode. */
int64_t rlog_next_step_episode(const rlog *l);

/* Marks the run complete: rlog_close then sets the root attribute status to
 * "complete" instead of "stopped". A log whose writer never closed it keeps
 * "running" (killed, or still being written). */
void rlog_set_complete(rlog *l);

/* Marks the run failed with msg (training diverged, an env or agent error):
 * rlog_close then sets status to "failed" and the root attribute error to
 * msg. The first call wins; rlog_set_complete takes precedence. */
void rlog_set_failed(rlog *l, const char *msg);

/* Flushes, writes the status attribute, closes and frees (NULL: no-op).
 * Returns 0, or -1 if anything failed (the log is freed either way). */
int rlog_close(rlog *l);

/* The HDF5 enum the log uses for booleans (int8 base, FALSE = 0, TRUE = 1,
 * what h5py reads as numpy bool), for other writers such as `rql export`.
 * The caller closes it with H5Tclose. */
hid_t rlog_bool_type(void);

/* ---- reading ---------------------------------------------------------------- */

/* Metadata read attempts of every open of a log or checkpoint: bounded, so
 * a damaged file fails in well under a second instead of HDF5's SWMR
 * default of 100 exponentially spaced retries (hours). */
#define RLOG_READ_ATTEMPTS 24
/* A file-access property list with that bound (latest: the SWMR-capable
 * H5F_LIBVER_LATEST format, for writers). The caller closes it. */
hid_t rlog_fapl(int latest);

typedef struct rlog_file rlog_file;

/* Opens path read-only (SWMR read where the file allows it) and checks the
 * root attributes format == "rql-log" and format_version <= RLOG_FORMAT_VERSION. */
rlog_file *rlog_file_open(const char *path);
void rlog_file_close(rlog_file *f);              /* NULL: no-op */
/* 1 when path is a readable HDF5 file whose root attribute format is absent
 * or is not "rql-log" (a checkpoint, a Minari export): not a damaged log. */
int rlog_is_foreign(const char *path);
/* Opens path and reads every dataset of every table whole, so that HDF5
 * checks every chunk's checksum: 0, or -1 naming the damaged dataset. */
int rlog_verify(const char *path);
hid_t rlog_file_id(const rlog_file *f);
const char *rlog_file_path(const rlog_file *f);
int rlog_file_has(const rlog_file *f, const char *dset);   /* "curves/return": 1 / 0 */

/* Whole datasets, converted by HDF5 to the asked type; *out is malloc'd
 * (free it; NULL when the dataset has 0 rows). 1-D readers refuse a dataset
 * that is not 1-D; 2-D readers one that is not 2-D, or whose width differs
 * from want_cols when want_cols > 0. Booleans read as 0 / 1. */
int rlog_read_f64(const rlog_file *f, const char *dset, double **out, int64_t *n);
int rlog_read_i64(const rlog_file *f, const char *dset, int64_t **out, int64_t *n);
int rlog_read_f32_2d(const rlog_file *f, const char *dset, int want_cols, float **out,
                     int64_t *rows, int *cols);
/* Rows of a dataset (its first dimension), -1 if missing. */
int64_t rlog_rows(const rlog_file *f, const char *dset);
/* Rows of a table: the shortest column of the group (a killed writer may
 * leave one block more in some columns), 0 for a missing or empty group. */
int64_t rlog_table_rows(const rlog_file *f, const char *group);

/* Root attributes. A string is malloc'd (free it). */
int rlog_attr_str(const rlog_file *f, const char *name, char **out);
int rlog_attr_i64(const rlog_file *f, const char *name, int64_t *out);

/* Everything `rql info` shows, read at once (strings malloc'd, "" when the
 * attribute is absent; free with rlog_info_free). */
typedef struct {
    char *path;
    int format_version;
    char *rql_version, *env, *agent, *label, *created, *config, *status;
    char *error;              /* why a "failed" run failed, "" otherwise */
    char *sweep;              /* the sweep cell's "KEY = VALUE" lines, "" for a run of no sweep */
    char *net_spec, *cell;    /* "dense:32:relu,lstm:64,dense:4", "lstm"/"gru"/"rnn"/"none" */
    long seed;
    int obs_size, n_actions, hidden_size;
    rlog_counts rows;         /* rows of each table (shortest column) */
    int64_t episodes_recorded;/* distinct episode ids in /steps */
    int64_t last_episode, last_env_steps;   /* of the last /curves row (-1 / 0 if none) */
    double final_success, final_return;     /* of the last /eval row (NaN if none) */
    int64_t final_eval_episode;             /* its at_episode (-1 if none) */
    double recent_success;    /* training success over the last 10% of /curves (NaN if none) */
    int64_t last_snapshot_episode;          /* at_episode of the last /weights row (-1) */
    int open_for_write;       /* 1: the superblock says a writer has it open (live or killed) */
} rlog_info;

int rlog_read_info(const char *path, rlog_info *info);
void rlog_info_free(rlog_info *info);

#endif
