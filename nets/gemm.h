/* gemm — the one matrix product of nets/ (private to nets): C = alpha op(A)
 * op(B) + beta C, row-major, with cblas_sgemm's arguments less the layout.
 * Every layer calls nets_gemm, never cblas_sgemm.
 *
 * Products of up to NETS_GEMM_SMALL multiply-adds (every per-step product of
 * a recurrent layer, and most whole-sequence ones of the nets RL uses) run in
 * rql's own kernels, larger ones in OpenBLAS (one thread, see dense.c). The
 * choice depends on the shape only, so a product's result depends on nothing
 * else.
 *
 * The kernels' rounding is fixed by definition, whatever the instruction set:
 * element (i, j) is one fused multiply-add chain over k in order,
 *   c = beta == 0 ? 0 : beta * C[i][j];
 *   for k = 0 .. K-1:  c = fmaf(alpha * a(i, k), b(k, j), c);
 * (alpha * a and beta * C are exact when alpha, beta are 1). The AVX-512,
 * AVX2 + FMA and portable (fmaf) variants vectorise across j only, so they
 * agree bit for bit; the best one the CPU supports is chosen at run time.
 * As in BLAS, C is not read when beta is 0.
 *
 * ta, tb: CblasNoTrans or CblasTrans, as ints (the values of both cblas.h
 * and GSL's gsl_cblas.h, which cannot be included together: net.c sees
 * GSL's, the layers OpenBLAS's). */
#ifndef RQL_NETS_GEMM_H
#define RQL_NETS_GEMM_H

/* multiply-adds (M * N * K) above which a product goes to OpenBLAS: where
 * OpenBLAS's cache blocking starts to match rql's kernels on this machine
 * (measured in docs/performance.md) */
#define NETS_GEMM_SMALL (1L << 27)

void nets_gemm(int ta, int tb, int M, int N, int K, float alpha,
               const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* The same over the k in kx[0 .. K-1] only, in that order (the chain of
 * each element skips the other k), always in rql's kernels: the weight
 * gradient of a batch of unequal sequences over its valid rows only. */
void nets_gemm_k(int ta, int tb, int M, int N, int K, const int *kx, float alpha, const float *A,
                 int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* The kernels by name, for tests and benchmarks (any shape, no OpenBLAS). */
typedef enum { NETS_GEMM_PORTABLE, NETS_GEMM_AVX2, NETS_GEMM_AVX512, NETS_GEMM_NVARIANTS } nets_gemm_variant;
const char *nets_gemm_variant_name(nets_gemm_variant v);
int nets_gemm_supported(nets_gemm_variant v);   /* 1 if this CPU runs it */
nets_gemm_variant nets_gemm_best(void);          /* the one nets_gemm uses */
void nets_gemm_with(nets_gemm_variant v, int ta, int tb, int M, int N, int K, const int *kx,
                    float alpha, const float *A, int lda, const float *B, int ldb, float beta,
                    float *C, int ldc);

/* T [cols, rows] = S^T for S [rows, cols] row-major: a recurrent weight
 * W_hh [G, H] turned once per forward into the [H, G] operand its per-step
 * products read row by row (no per-step packing). */
void nets_transpose(float *T, const float *S, int rows, int cols);

#endif
