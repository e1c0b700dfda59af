/* rql — the command. Each subcommand lives in its own file of experiments/
 * (cmd_train.c, cmd_envs.c, ...) and is declared weak here, so the dispatcher
 * lists only what the build contains. Only experiments/ talks to the user. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <hdf5.h>
#include "cli/cmd.h"

#define RQL_CMDS(X)                                                            \
    X(train,   "train CONFIG [-o DIR] [-j N] [--seeds LIST] [--set K=V] [--resume] [--force]", \
               "run every (agent, seed) of an experiment config, log to HDF5")  \
    X(eval,    "eval RUN.h5 [--episodes N] [--record]", "greedy evaluation of a run's checkpoint") \
    X(info,    "info RUN.h5", "what a log holds, in a few lines")                \
    X(compare, "compare DIR_OR_FILES... [--csv|--json]", "statistics across seeds, Welch's t test") \
    X(export,  "export RUN.h5 --minari ROOT [--dataset-id ID] [--force]", \
               "recorded episodes as a Minari dataset (minari.load_dataset opens it)") \
    X(sweep,   "sweep CONFIG [-o DIR] [--dry-run] [-j N] [--seeds LIST] [--agents L1,L2] [--set K=V] [--force]", \
               "a grid of runs (config values x agents x seeds), under mpirun across ranks") \
    X(suite,   "suite NAME|--list [--agents L1,L2] [--seeds LIST] [-j N] [-o DIR] [--score] [--json|--csv]", \
               "a memory suite (bsuite memory_len, ...) run as a sweep and scored as its anchor does") \
    X(envs,    "envs [NAME]", "list the worlds and wrappers, or show one")   \
    X(play,    "play NAME [KEY=VALUE...]", "play a world in the terminal")      \
    X(seq,     "seq --task add|recall|next|reverse|pattern --cell CELL --length T", "supervised memory tasks") \
    X(bench,   "bench [nets|envs|memory|cells|train|all]", "benchmarks, ratios measured side by side") \
    X(help,    "help [config|COMMAND]", "this text, or the config reference")

#define DECL(name, usage, what) extern int cmd_##name(int argc, char **argv) __attribute__((weak));
RQL_CMDS(DECL)
#undef DECL

typedef struct { const char *name, *usage, *what; int (*fn)(int, char **); } rql_cmd;
#define ROW(name, usage, what) {#name, usage, what, cmd_##name},
static const rql_cmd cmds[] = { RQL_CMDS(ROW) };
#undef ROW
#define NCMDS ((int)(sizeof cmds / sizeof cmds[0]))

static void usage(FILE *f) {
    fprintf(f, "rql %s — reinforcement learning with memory\n\nusage: rql COMMAND [ARGS]\n\ncommands:\n",
            RQL_VERSION);
    for (int i = 0; i < NCMDS; i++)
        if (cmds[i].fn) fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].what);
    fprintf(f, "\n'rql COMMAND --help' shows a command's options; 'rql help config' the config keys.\n");
}

int rql_usage_of(const char *name, FILE *f) {
    for (int i = 0; i < NCMDS; i++)
        if (!strcmp(cmds[i].name, name)) { fprintf(f, "usage: rql %s\n", cmds[i].usage); return 0; }
    return -1;
}

/* OpenMP threads that wait spin by default (libgomp: about 300,000 polls
 * before they sleep). On a machine shared with other processes a spinning
 * thread holds the core that the thread it waits for needs, and a 2-thread
 * vector step falls to a few percent of one thread. rql runs passive
 * (waiting threads sleep) unless the user chose a policy. libgomp reads the
 * environment in a constructor that runs before main, so the variable is
 * set and the program executed again, once; if that fails it runs on. */
static void omp_passive_by_default(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
    if (setenv("OMP_WAIT_POLICY", "passive", 1)) return;
    execv("/proc/self/exe", argv);
}

int main(int argc, char **argv) {
    omp_passive_by_default(argv);
    /* Every file rql opens it closes itself. HDF5's exit handler would close
     * again a file whose close failed (a full disk) and crash inside
     * H5F__close_cb, turning a clean "no space left" error into SIGSEGV. */
    H5dont_atexit();
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) { printf("rql %s\n", RQL_VERSION); return 0; }
    if (!strcmp(argv[1], "help") && !cmd_help) { usage(stdout); return 0; }
    for (int i = 0; i < NCMDS; i++) {
        if (strcmp(cmds[i].name, argv[1])) continue;
        if (!cmds[i].fn) {
            fprintf(stderr, "rql: '%s' is not part of this build\n", argv[1]);
            return 2;
        }
        return cmds[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "rql: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
