/* Shared declarations of the rql command's subcommands (cli/cmd_*.c).
 * Each cmd_NAME(argc, argv) gets argv[0] == "NAME" and returns the exit status:
 * 0 success, 1 failure of the work, 2 bad usage or input. */
#ifndef RQL_CMD_H
#define RQL_CMD_H
#include <stdio.h>
#include "envs/env.h"
#include "util/util.h"


/* Prints "usage: rql ..." for a command, from the table in rql.c. */
int rql_usage_of(const char *name, FILE *f);

/* ---- options rql train and rql sweep share (cmd_args.c) ---- */
typedef struct {
    const char *cfg_path, *out;   /* the config; -o DIR (NULL: the config's output) */
    int threads, force, quiet;    /* -j N (0: default), --force, --quiet / -q */
    const char **sets;            /* --set K=V and --seeds LIST, in command-line order */
    int nsets;
    char *seeds_set;              /* --seeds as a "seeds=[...]" override (malloc'd) */
} rql_run_args;

/* Allocates room for argc overrides: 0, or -1 when out of memory. */
int rql_run_args_init(rql_run_args *a, int argc);
void rql_run_args_free(rql_run_args *a);
/* Takes argv[*i] if it is a shared option (-o DIR, -j N, --seeds LIST,
 * --set K=V, --set=K=V, --force, --quiet, -q), moving *i past its value.
 * Returns 1 taken, 0 not a shared option, 2 a bad value (said on stderr as
 * "rql CMD: ..."). */
int rql_run_arg(const char *cmd, rql_run_args *a, int argc, char **argv, int *i);
/* argv[i] is neither a shared nor a command's own option: the config path
 * when none was seen and it does not start with '-' (returns 0), otherwise
 * "unexpected argument" on stderr (returns 2). */
int rql_run_positional(const char *cmd, rql_run_args *a, int argc, char **argv, int i);
/* A command's own options: takes argv[*i] if it is one, moving *i past its
 * value; 1 taken, 0 not one of them, 2 a bad value (said on stderr). */
typedef int (*rql_own_arg)(void *ctx, int argc, char **argv, int *i);
/* The whole command line of such a command: shared options, -h / --help
 * (usage to stdout), own's options (own may be NULL) and the config path.
 * Returns -1 to go on, or the exit status with a freed: 0 after --help, 2
 * after a bad value or an unexpected argument (usage to stderr). */
int rql_run_args_parse(const char *cmd, rql_run_args *a, int argc, char **argv, rql_own_arg own, void *ctx,
                       void (*usage)(FILE *));

/* ---- other arguments the commands share (cmd_args.c) ---- */
/* A command's one path argument (rql eval, rql export): *slot = arg when
 * arg does not start with '-' and *slot is still NULL (0); otherwise
 * "rql CMD: unexpected argument 'ARG'" and usage(stderr), returning 2. */
int rql_one_path(const char *cmd, const char *arg, const char **slot, void (*usage)(FILE *));
/* A KEY=VALUE world parameter (rql envs, rql play) set in s: 0, or 2 after
 * "rql CMD: argument 'ARG': expected EXPECTED" or the spec's refusal on
 * stderr. arg is restored as it was. */
int rql_env_kv(const char *cmd, env_spec *s, char *arg, const char *expected);

/* ---- SIGINT / SIGTERM for train and sweep (cmd_args.c) ----
 * rql_stop_flag gets the signal's number; a second signal takes the default
 * action, so a user can always get out. */
#include <signal.h>
extern volatile sig_atomic_t rql_stop_flag;
void rql_catch_stop_signals(void);
void rql_release_stop_signals(void);

/* ---- the body of rql sweep, which rql suite runs too (cmd_sweep.c) ---- */
#include "experiments/sweep.h"
typedef struct {
    const char *cmd;              /* "sweep" or "suite": the name in messages */
    const char *cfg_path, *out;   /* the config; -o DIR (NULL: the config's output) */
    const char *const *sets;      /* overrides, as rql_run_args holds them */
    int nsets;
    int threads, force, quiet, dry, dedicated;
    const char *agents;           /* comma-separated labels to run (NULL: every agent) */
    int progress;                 /* live progress display of the runs (local runs only) */
    /* Called on rank 0 once every run has ended (not when stopped) instead of
     * printing the comparison table; nonzero makes the exit status 1. */
    int (*report)(const sweep_plan *p, void *arg);
    void *report_arg;
} rql_sweep_job;
/* Runs the plan of job's config locally (-j) or across the ranks of mpirun,
 * resumable; returns rql sweep's exit status. argc/argv go to MPI_Init. */
int rql_sweep_exec(const rql_sweep_job *job, int argc, char **argv);

#endif
