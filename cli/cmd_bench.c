/* rql bench — dispatches to the benchmarks of each module. Each bench_NAME
 * lives beside the code it measures (experiments/bench_*.c) and is declared
 * weak, so `rql bench all` runs whichever the build has. */
#include <stdio.h>
#include <string.h>
#include "cli/cmd.h"

extern int bench_nets(int argc, char **argv) __attribute__((weak));
extern int bench_envs(int argc, char **argv) __attribute__((weak));
extern int bench_memory(int argc, char **argv) __attribute__((weak));
extern int bench_cells(int argc, char **argv) __attribute__((weak));
extern int bench_train(int argc, char **argv) __attribute__((weak));

static const struct { const char *name, *what; } benches[] = {
    {"nets",   "one DRQN training update vs a large sgemm (GFLOP/s)"},
    {"envs",   "env steps per second, single and vectorised, 1 and 2 threads"},
    {"memory", "T-maze length sweep: seeds solved, episodes and steps to solve"},
    {"cells",  "one training update per recurrent cell at T = 32 and 512 (GFLOP/s, vs the LSTM)"},
    {"train",  "end-to-end DRQN training: env steps/s, GFLOP/s vs sgemm, where the time goes"},
};

static int (*bench_fn(int i))(int, char **) {
    switch (i) {
    case 0: return bench_nets;
    case 1: return bench_envs;
    case 2: return bench_memory;
    case 3: return bench_cells;
    default: return bench_train;
    }
}

int cmd_bench(int argc, char **argv) {
    int n = (int)(sizeof benches / sizeof benches[0]);
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        rql_usage_of("bench", argc < 2 ? stderr : stdout);
        for (int i = 0; i < n; i++)
            if (bench_fn(i)) printf("  %-7s %s\n", benches[i].name, benches[i].what);
        printf("  %-7s every benchmark above, in turn ('all' skips memory unless --memory)\n", "all");
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "all")) {
        int rc = 0, with_memory = argc > 2 && !strcmp(argv[2], "--memory");
        for (int i = 0; i < n; i++) {
            if (!bench_fn(i) || (i == 2 && !with_memory)) continue;
            char *sub[] = {(char *)benches[i].name, NULL};
            rc |= bench_fn(i)(1, sub);
        }
        return rc;
    }
    for (int i = 0; i < n; i++)
        if (!strcmp(argv[1], benches[i].name)) {
            if (!bench_fn(i)) { fprintf(stderr, "rql bench: '%s' is not part of this build\n", argv[1]); return 2; }
            return bench_fn(i)(argc - 1, argv + 1);
        }
    fprintf(stderr, "rql bench: unknown benchmark '%s' (nets, envs, memory, cells, train, all)\n", argv[1]);
    return 2;
}
