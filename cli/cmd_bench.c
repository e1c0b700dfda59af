/* rql bench — dispatches to the benchmarks of bench/ (bench/bench.h). */
#include <stdio.h>
#include <string.h>
#include "bench/bench.h"
#include "cli/cmd.h"

static const struct {
    const char *name, *what;
    int (*fn)(int, char **);
} benches[] = {
    {"nets",   "one DRQN training update vs a large sgemm (GFLOP/s)", bench_nets},
    {"envs",   "env steps per second, single and vectorised, 1 and 2 threads", bench_envs},
    {"memory", "T-maze length sweep: seeds solved, episodes and steps to solve", bench_memory},
    {"cells",  "one training update per recurrent cell at T = 32 and 512 (GFLOP/s, vs the LSTM)", bench_cells},
    {"train",  "end-to-end DRQN training: env steps/s, GFLOP/s vs sgemm, where the time goes", bench_train},
};

int cmd_bench(int argc, char **argv) {
    int n = (int)(sizeof benches / sizeof benches[0]);
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        rql_usage_of("bench", argc < 2 ? stderr : stdout);
        for (int i = 0; i < n; i++) printf("  %-7s %s\n", benches[i].name, benches[i].what);
        printf("  %-7s every benchmark above, in turn ('all' skips memory unless --memory)\n", "all");
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "all")) {
        int rc = 0, with_memory = argc > 2 && !strcmp(argv[2], "--memory");
        for (int i = 0; i < n; i++) {
            if (i == 2 && !with_memory) continue;
            char *sub[] = {(char *)benches[i].name, NULL};
            rc |= benches[i].fn(1, sub);
        }
        return rc;
    }
    for (int i = 0; i < n; i++)
        if (!strcmp(argv[1], benches[i].name)) return benches[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "rql bench: unknown benchmark '%s' (nets, envs, memory, cells, train, all)\n", argv[1]);
    return 2;
}
