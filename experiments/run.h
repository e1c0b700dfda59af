/* run — execute the runs of an experiment: one (agent, seed) pair each.
 *
 * run_execute does one run from start (or from its checkpoint) to the end of
 * its budget: a training env_vec stepped with the agent's batched actor,
 * every finished episode appended to the log's learning curve, training
 * statistics every log.train_every updates, greedy evaluations every
 * eval.every episodes on a fresh vector seeded from (seed, evaluation index),
 * trajectories of some evaluations recorded step by step, weight snapshots,
 * and checkpoints every checkpoint.every episodes and at the end.
 *
 * Everything random is seeded from the run seed (envs from (seed, i), the
 * agent from a hash of the seed, evaluations from (seed, index)), and the
 * checkpoint holds the env vector's state, the agent (its state table,
 * ckpt_put_agent), the counters and the log's row counts, so a resumed run reproduces the
 * uninterrupted one bit for bit, whatever the thread count.
 *
 * run_all executes many runs with OpenMP over runs (-j threads, dynamic
 * schedule); each run steps its envs on its own thread, so results do not
 * depend on the thread count.
 *
 * A stop flag (set by a SIGINT/SIGTERM handler) makes every run finish its
 * current vector step, write a checkpoint, close its log and return
 * RUN_STOPPED.
 */
#ifndef RQL_RUN_H
#define RQL_RUN_H

#include <signal.h>
#include <stddef.h>
#include "experiments/config.h"
#include "experiments/progress.h"
#include "log/rlog.h"

enum { RUN_FINISHED = 0, RUN_STOPPED = 1, RUN_SKIPPED = 2, RUN_FAILED = -1 };

typedef struct {
    volatile sig_atomic_t *stop;  /* nonzero: checkpoint and return RUN_STOPPED (NULL: never) */
    int resume;                   /* continue from the checkpoint where there is one */
    progress *prog;               /* NULL: no display */
    int prog_index;               /* this run's row in prog */
    /* Stop after this many vector steps as if the stop flag were set (0: no
     * limit): lets tests interrupt a run at an exact, repeatable point. */
    long stop_after_steps;
    /* Called once per vector step from the run's thread (NULL: never): lets
     * `rql sweep`'s rank 0 answer its workers while it trains a run itself. */
    void (*poll)(void *arg);
    void *poll_arg;
} run_opts;

typedef struct {
    int status;                   /* RUN_* */
    int resumed;                  /* continued from a checkpoint (not from the start) */
    int restarted;                /* --resume found a checkpoint but a log it could not cut back to it
                                   * (torn by SIGKILL): the run was started over */
    char restart_why[1024];       /* why, when restarted (the caller tells the user) */
    long episodes, env_steps, updates;
    double wall_s;
    double final_success, final_return;   /* of the last greedy evaluation */
    char err[1024];               /* the reason when status == RUN_FAILED */
} run_result;

/* One run. The log and checkpoint paths come from r; their folder must exist.
 * Returns res->status. Prints nothing: what the user should hear (a failure,
 * a restart) is in res, for the caller to print on its own thread. */
int run_execute(const rql_config *c, const rql_run_spec *r, const run_opts *o, run_result *res);

/* Whether the log at log_path is a finished run of config text `text`
 * (rql_config_run_text): 1 when its root attribute status is "complete" and
 * its config equals text, 0 when it is missing or not complete, -1 when it
 * is complete but of another config, or damaged (a dataset that does not
 * read back: rlog_verify), with the reason in err. */
int run_log_complete(const char *log_path, const char *text, char *err, size_t cap);

/* Whether a run of resolved config text and seed may replace the file at
 * log_path: 1 when there is none, or when it is a readable log whose root
 * attributes config and seed are text and seed; 0 with the reason in err
 * otherwise (another config or seed, unreadable, no such attributes). Only
 * --force (which removes the file first) starts such a log over. */
int run_log_replaceable(const char *log_path, const char *text, long seed, char *err, size_t cap);

/* The advisory lock of one run: flock on LOG.lock (beside the log, holding
 * the writer's pid), taken by run_execute for the whole run and by callers
 * before they remove a run's files. Returns the lock's fd, or -1 with
 * "LOG is in use by process N" in err when another process holds it.
 * run_unlock removes LOG.lock and releases it. */
int run_lock(const char *log_path, char *err, size_t cap);
void run_unlock(const char *log_path, int fd);

/* Many runs: run_execute for each, threads at a time (<= 0: one per run up
 * to the OpenMP default). opts.prog_index is set per run. Returns the
 * number of runs that failed; res[i] says what became of run i. */
int run_all(const rql_config *c, const rql_run_spec *runs, int n, int threads, const run_opts *o,
            run_result *res);

/* Greedy evaluation of agent a on env spec s: `episodes` episodes, one env
 * each, on a vector seeded with seed; success rate and mean return out. The
 * first rec_n episodes are appended step by step to log's /steps with
 * episode ids rec_base, rec_base + 1, ... (rec_n = 0: nothing recorded). */
int run_evaluate(agent *a, const env_spec *s, int episodes, uint64_t seed, double *success_rate,
                 double *return_mean, rlog *log, int64_t rec_base, int rec_n, char *err, size_t cap);

/* One vector step of training, the one act / step / observe of rql: the
 * agent acts epsilon-greedily on v's observations (actions [n] out), the
 * envs step, and the agent observes the outcome with the true next
 * observations (next_obs [n, obs] out: the final one where an episode ended,
 * as obs already holds the next episode's first). run_execute and
 * learn_run (experiments/learn.h) train through it. */
int run_step(agent *a, agent_actor *ac, env_vec *v, int *actions, float *next_obs, char *err, size_t cap);

#endif
