/* bench — the benchmarks behind `rql bench` and `make bench`: a library the
 * command calls (cli/cmd_bench.c), never the other way round. Each prints
 * ratios measured side by side in one run (never a timed test).
 *
 * Each bench_NAME(argc, argv) gets argv[0] == "NAME", parses its own options
 * and returns an exit status: 0 done, 1 the work failed, 2 bad usage (said
 * on stderr as "rql bench NAME: ...").
 *
 * Files: bench_nets.c (bench_nets, bench_cells, bench_sgemm_gflops),
 * bench_envs.c, bench_memory.c, bench_train.c.
 */
#ifndef RQL_BENCH_H
#define RQL_BENCH_H

int bench_nets(int argc, char **argv);     /* one DRQN training update vs a 512^3 sgemm */
int bench_cells(int argc, char **argv);    /* one update per recurrent cell at T = 32 and 512 */
int bench_envs(int argc, char **argv);     /* env steps per second, single and vectorised */
int bench_memory(int argc, char **argv);   /* T-maze length sweep: seeds solved, time to solve */
int bench_train(int argc, char **argv);    /* whole DRQN runs: steps/s, GFLOP/s, where the time goes */

/* Best GFLOP/s of 40 n^3 cblas_sgemm calls on the calling thread (the first
 * call, which warms caches and pages, is not counted); 0 if out of memory.
 * The reference rate the benchmarks share. */
double bench_sgemm_gflops(int n);

#endif
