/* bench.h — what the benchmarks share: the machine's reference rate. */
#ifndef RQL_BENCH_H
#define RQL_BENCH_H

/* Best GFLOP/s of 40 n^3 cblas_sgemm calls on the calling thread (the first
 * call, which warms caches and pages, is not counted); 0 if out of memory. */
double bench_sgemm_gflops(int n);

#endif
