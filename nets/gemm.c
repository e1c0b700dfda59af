/* gemm — small-matrix kernels for the products of recurrent nets (see
 * gemm.h for the rounding they all share).
 *
 * Layout of a variant: C is cut into tiles of MR rows x NV vectors of
 * columns; a tile's accumulators stay in registers over a block of KC
 * values of k, reading a(i, k) as broadcast scalars (op(A) either way costs
 * nothing: a row tile's a(., k) is MR scalars) and b(k, .) as NV vector
 * loads of one row of op(B). op(B) = B^T (or the rows of a list of k) is
 * first packed, a column tile at a time, into a stack buffer [KC, NV * VL];
 * the layers' per-step products avoid even that by reading weights
 * transposed once per forward (nets_transpose). The last vector of a tile
 * is loaded and stored under a mask, so any N works without padding.
 * Blocking over k stores the chain's running value in C and reloads it: a
 * float in memory is the float in the register, so the chain, and the
 * result, are those of one pass. Tiles of different shapes compute the
 * same chains, so the tiling is free to follow the shape. */
#include <stddef.h>
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <cblas.h>
#include "nets/gemm.h"

enum { KC = 256 };

/* how a tile's accumulators start over its first k block */
enum { INIT_ZERO, INIT_LOAD, INIT_SCALE };

static int init_mode(int first, float beta) {
    return !first || beta == 1.0f ? INIT_LOAD : beta == 0.0f ? INIT_ZERO : INIT_SCALE;
}

/* ---- portable: fmaf over rows of C ---------------------------------------- */
/* kx: the k of the chain in order (NULL: 0 .. K-1); see nets_gemm_k */
static void gemm_portable(int ta, int tb, int M, int N, int K, const int *kx, float alpha,
                          const float *A, int lda, const float *B, int ldb, float beta, float *C,
                          int ldc) {
    const ptrdiff_t ars = ta ? 1 : lda, acs = ta ? lda : 1;
    const int mode = init_mode(1, beta);
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        for (int j = 0; j < N; j++)
            c[j] = mode == INIT_ZERO ? 0.0f : mode == INIT_LOAD ? c[j] : beta * c[j];
        for (int q = 0; q < K; q++) {
            const int k = kx ? kx[q] : q;
            float a = A[i * ars + k * acs];
            if (alpha != 1.0f) a *= alpha;
            if (tb)
                for (int j = 0; j < N; j++) c[j] = fmaf(a, B[(size_t)j * ldb + k], c[j]);
            else {
                const float *b = B + (size_t)k * ldb;
                for (int j = 0; j < N; j++) c[j] = fmaf(a, b[j], c[j]);
            }
        }
    }
}

/* ---- vector variants ------------------------------------------------------
 * One generic tile and driver, instantiated per instruction set by a macro
 * over its vector type and operations. The tile is force-inlined with
 * constant MR, NV, SCALE (alpha != 1) and IDX (k from a list) so that c[][]
 * lives in registers. With a list of k, B's rows are packed (in list order)
 * and A's are read through the list. */
#define GEMM_TILE_CASES(ISA, NV, SCALE, IDX)                                                     \
    case 1: tile_##ISA(1, NV, SCALE, IDX, kc, kx, a, ars, acs, alpha, B, ldb, c, ldc, mode, beta, m); break; \
    case 2: tile_##ISA(2, NV, SCALE, IDX, kc, kx, a, ars, acs, alpha, B, ldb, c, ldc, mode, beta, m); break; \
    case 3: tile_##ISA(3, NV, SCALE, IDX, kc, kx, a, ars, acs, alpha, B, ldb, c, ldc, mode, beta, m); break; \
    case 4: tile_##ISA(4, NV, SCALE, IDX, kc, kx, a, ars, acs, alpha, B, ldb, c, ldc, mode, beta, m); break; \
    case 5: tile_##ISA(5, NV, SCALE, IDX, kc, kx, a, ars, acs, alpha, B, ldb, c, ldc, mode, beta, m); break; \
    case 6: tile_##ISA(6, NV, SCALE, IDX, kc, kx, a, ars, acs, alpha, B, ldb, c, ldc, mode, beta, m); break; \
    default: tile_##ISA(7, NV, SCALE, IDX, kc, kx, a, ars, acs, alpha, B, ldb, c, ldc, mode, beta, m); break;

#define GEMM_ROWS_CASE(ISA, NV, SCALE, IDX)                                                      \
    case NV * 4 + SCALE * 2 + IDX:                                                               \
        rows_##ISA##_##NV##SCALE##IDX(M, kc, kx, a, ars, acs, alpha, b, ldbp, c, ldc, mode, beta, m); \
        break;

/* the wide tiles of products of 1 .. MRFEW rows (unpacked B only) */
#define GEMM_FEW_CASE(ISA, NV, SCALE, IDX)                                                       \
    case NV * 4 + SCALE * 2 + IDX:                                                               \
        few_##ISA##_##NV##SCALE##IDX(M, kc, kx, a, ars, acs, alpha, b, ldbp, c, ldc, mode, beta, m); \
        break;

/* the four cases (alpha 1 or not, k in order or from a list) of NV vectors */
#define GEMM_CASES4(CASE, ISA, NV)                                                               \
    CASE(ISA, NV, 0, 0) CASE(ISA, NV, 0, 1) CASE(ISA, NV, 1, 0) CASE(ISA, NV, 1, 1)

/* one function per (kind, NV, SCALE, IDX): constants in its tiles, whatever
 * the compiler's cloning budget */
#define GEMM_SPEC(ISA, TARGET, MASKT, KIND, NV, SCALE, IDX)                                      \
__attribute__((noinline, target(TARGET))) static void                                           \
KIND##_##ISA##_##NV##SCALE##IDX(int M, int kc, const int *kx, const float *A, ptrdiff_t ars,     \
                                ptrdiff_t acs, float alpha, const float *B, ptrdiff_t ldb,       \
                                float *C, ptrdiff_t ldc, int mode, float beta, MASKT m) {        \
    KIND##_##ISA(NV, SCALE, IDX, M, kc, kx, A, ars, acs, alpha, B, ldb, C, ldc, mode, beta, m);  \
}
#define GEMM_SPECS4(ISA, TARGET, MASKT, KIND, NV)                                                \
    GEMM_SPEC(ISA, TARGET, MASKT, KIND, NV, 0, 0) GEMM_SPEC(ISA, TARGET, MASKT, KIND, NV, 0, 1)  \
    GEMM_SPEC(ISA, TARGET, MASKT, KIND, NV, 1, 0) GEMM_SPEC(ISA, TARGET, MASKT, KIND, NV, 1, 1)

#define GEMM_VARIANT(ISA, TARGET, VT, VL, MRMAX, NVMAX, MRWIDE, NVWIDE, NVFEW, MRFEW, MASKT, MKMASK, LOAD,     \
                     MLOAD, STORE, MSTORE, SET1, FMA, MUL, ZERO)                                 \
static inline __attribute__((always_inline, target(TARGET))) void                               \
tile_##ISA(const int MR, const int NV, const int SCALE, const int IDX, int kc, const int *kx,    \
           const float *A, ptrdiff_t ars, ptrdiff_t acs, float alpha, const float *B,            \
           ptrdiff_t ldb, float *C, ptrdiff_t ldc, int mode, float beta, MASKT m) {             \
    VT c[32];     /* [MR][NV], MR * NV <= 32 (8 x 4, 3 x 8), kept in registers */             \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                       \
    _Pragma("GCC unroll 16") for (int v = 0; v < NV; v++) {                                     \
        float *cp = C + i * ldc + v * VL;                                                        \
        if (mode == INIT_ZERO) { c[i * NV + v] = ZERO(); continue; }                                   \
        VT x = v == NV - 1 ? MLOAD(cp, m) : LOAD(cp);                                            \
        c[i * NV + v] = mode == INIT_SCALE ? MUL(SET1(beta), x) : x;                                   \
    }                                                                                            \
    for (int k = 0; k < kc; k++) {                                                               \
        VT b[8];                                                                                 \
        const float *bp = B + k * ldb;                                                           \
        _Pragma("GCC unroll 16") for (int v = 0; v < NV; v++)                                   \
            b[v] = v == NV - 1 ? MLOAD(bp + v * VL, m) : LOAD(bp + v * VL);                      \
        const float *ap = A + (IDX ? kx[k] : k) * acs;                                           \
        _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {                                 \
            float as = ap[i * ars];                                                              \
            if (SCALE) as *= alpha;                                                              \
            VT a = SET1(as);                                                                     \
            _Pragma("GCC unroll 16") for (int v = 0; v < NV; v++) c[i * NV + v] = FMA(a, b[v], c[i * NV + v]); \
        }                                                                                        \
    }                                                                                            \
    /* C's row addresses are worked out again after the loop, not kept live \
     * through it: with 8 rows held, GCC 12 ran out of integer registers,  \
     * parked them in vector ones and spilled a b vector to the stack      \
     * (an extra load per FMA): the A^T tiles (weight gradients) and depth \
     * 8 products ran at 2/3 speed. Codegen only; the chains are unchanged. */ \
    __asm__("" : "+r"(C), "+r"(ldc));                                                            \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                       \
    _Pragma("GCC unroll 16") for (int v = 0; v < NV; v++) {                                     \
        float *cp = C + i * ldc + v * VL;                                                        \
        if (v == NV - 1) MSTORE(cp, m, c[i * NV + v]); else STORE(cp, c[i * NV + v]);                        \
    }                                                                                            \
}                                                                                                \
                                                                                                 \
/* the row tiles of one column tile, MR rows at a time, the last one shorter */                 \
static inline __attribute__((always_inline, target(TARGET))) void                               \
rowtiles_##ISA(const int NV, const int SCALE, const int IDX, int M, int kc, const int *kx,       \
               const float *A, ptrdiff_t ars, ptrdiff_t acs, float alpha, const float *B,        \
               ptrdiff_t ldb, float *C, ptrdiff_t ldc, int mode, float beta, MASKT m) {         \
    int i0 = 0;                                                                                  \
    /* 3 or 4 vectors (NVMAX 4: AVX-512): tiles of MRWIDE rows */                                 \
    if (NV >= 3)                                                                                 \
        for (; i0 + MRWIDE <= M; i0 += MRWIDE)                                                   \
            tile_##ISA(MRWIDE, NV, SCALE, IDX, kc, kx, A + i0 * ars, ars, acs, alpha, B, ldb,    \
                       C + i0 * ldc, ldc, mode, beta, m);                                        \
    else                                                                                         \
        for (; i0 + MRMAX <= M; i0 += MRMAX)                                                     \
            tile_##ISA(MRMAX, NV, SCALE, IDX, kc, kx, A + i0 * ars, ars, acs, alpha, B, ldb,     \
                       C + i0 * ldc, ldc, mode, beta, m);                                        \
    const float *a = A + i0 * ars;                                                               \
    float *c = C + i0 * ldc;                                                                     \
    if (i0 == M) return;                                                                         \
    switch (M - i0) { GEMM_TILE_CASES(ISA, NV, SCALE, IDX) }                                     \
}                                                                                                \
                                                                                                 \
/* one stride of A is 1 (op(A) = A: along k; A^T: along rows): a constant in \
 * the tile, which then addresses the MR scalars of a(., k) without extra    \
 * registers */                                                                                  \
static inline __attribute__((always_inline, target(TARGET))) void                               \
rows_##ISA(const int NV, const int SCALE, const int IDX, int M, int kc, const int *kx,           \
           const float *A, ptrdiff_t ars, ptrdiff_t acs, float alpha, const float *B,            \
           ptrdiff_t ldb, float *C, ptrdiff_t ldc, int mode, float beta, MASKT m) {             \
    if (acs == 1)                                                                                \
        rowtiles_##ISA(NV, SCALE, IDX, M, kc, kx, A, ars, 1, alpha, B, ldb, C, ldc, mode, beta, m); \
    else                                                                                         \
        rowtiles_##ISA(NV, SCALE, IDX, M, kc, kx, A, 1, acs, alpha, B, ldb, C, ldc, mode, beta, m); \
}                                                                                                \
                                                                                                 \
/* 1 .. MRFEW rows, NV (5 .. NVFEW) vectors: one tile, as many accumulators as \
 * the columns give */                                                                           \
static inline __attribute__((always_inline, target(TARGET))) void                               \
few_##ISA(const int NV, const int SCALE, const int IDX, int M, int kc, const int *kx,            \
          const float *A, ptrdiff_t ars, ptrdiff_t acs, float alpha, const float *B,             \
          ptrdiff_t ldb, float *C, ptrdiff_t ldc, int mode, float beta, MASKT m) {              \
    if (M == 1)                                                                                  \
        tile_##ISA(1, NV, SCALE, IDX, kc, kx, A, 0, acs, alpha, B, ldb, C, 0, mode, beta, m);    \
    else if (M == 2 && acs == 1)                                                                 \
        tile_##ISA(2, NV, SCALE, IDX, kc, kx, A, ars, 1, alpha, B, ldb, C, ldc, mode, beta, m);  \
    else if (M == 2)                                                                             \
        tile_##ISA(2, NV, SCALE, IDX, kc, kx, A, 1, acs, alpha, B, ldb, C, ldc, mode, beta, m);  \
    else if (acs == 1)                                                                           \
        tile_##ISA(MRFEW, NV, SCALE, IDX, kc, kx, A, ars, 1, alpha, B, ldb, C, ldc, mode, beta, m); \
    else                                                                                         \
        tile_##ISA(MRFEW, NV, SCALE, IDX, kc, kx, A, 1, acs, alpha, B, ldb, C, ldc, mode, beta, m); \
}                                                                                                \
                                                                                                 \
GEMM_SPECS4(ISA, TARGET, MASKT, rows, 1) GEMM_SPECS4(ISA, TARGET, MASKT, rows, 2)              \
GEMM_SPECS4(ISA, TARGET, MASKT, rows, 3) GEMM_SPECS4(ISA, TARGET, MASKT, rows, 4)              \
GEMM_SPECS4(ISA, TARGET, MASKT, few, 5) GEMM_SPECS4(ISA, TARGET, MASKT, few, 6)                \
GEMM_SPECS4(ISA, TARGET, MASKT, few, 7) GEMM_SPECS4(ISA, TARGET, MASKT, few, 8)                \
                                                                                                 \
/* the driver: column tiles, k blocks of KC, row tiles; PACK (B^T, or a   \
 * list of k) copies each tile's rows of op(B) into pk first */                                 \
static inline __attribute__((always_inline, target(TARGET))) void                               \
drive_##ISA(const int PACK, int ta, int tb, int M, int N, int K, const int *kxs, float alpha,    \
            const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc,     \
            float *pk) {                                                                         \
    enum { NC = (NVWIDE > NVMAX ? NVWIDE : NVMAX) * VL };                                        \
    const ptrdiff_t ars = ta ? 1 : lda, acs = ta ? lda : 1;                                      \
    const int scale = alpha != 1.0f, idx = kxs != NULL;                                          \
    /* a few rows (one step of a few sequences): wider tiles, as many accumulators; 1 \
     * .. MRFEW rows of unpacked B: up to NVFEW vectors (the few_ tiles) */                             \
    const int few = !PACK && M <= MRFEW;                                                             \
    const int ncw = (few ? NVFEW : M <= 4 ? NVWIDE : NVMAX) * VL;                                \
    for (int j0 = 0; j0 < N; j0 += ncw) {                                                        \
        const int nc = N - j0 < ncw ? N - j0 : ncw, nv = (nc + VL - 1) / VL;                     \
        const MASKT m = MKMASK(nc - (nv - 1) * VL);                                              \
        for (int p0 = 0; p0 == 0 || p0 < K; p0 += KC) {                                          \
            const int kc = K - p0 < KC ? K - p0 : KC, mode = init_mode(p0 == 0, beta);          \
            const int *kx = idx ? kxs + p0 : NULL;                                               \
            const float *b = B + (size_t)p0 * ldb + j0;                                          \
            ptrdiff_t ldbp = ldb;                                                                \
            if (PACK) {                                                                          \
                for (int k = 0; k < kc; k++) {                                                   \
                    const size_t kk = idx ? (size_t)kx[k] : (size_t)(p0 + k);                    \
                    if (tb)                                                                      \
                        for (int j = 0; j < nc; j++) pk[k * NC + j] = B[(size_t)(j0 + j) * ldb + kk]; \
                    else                                                                         \
                        for (int j = 0; j < nc; j++) pk[k * NC + j] = B[kk * ldb + j0 + j];      \
                }                                                                                \
                b = pk;                                                                          \
                ldbp = NC;                                                                       \
            }                                                                                    \
            const float *a = idx ? A : A + p0 * acs;                                             \
            float *c = C + j0;                                                                   \
            switch (nv * 4 + scale * 2 + idx) {                                                  \
            GEMM_CASES4(GEMM_ROWS_CASE, ISA, 1) GEMM_CASES4(GEMM_ROWS_CASE, ISA, 2)              \
            GEMM_CASES4(GEMM_ROWS_CASE, ISA, 3) GEMM_CASES4(GEMM_ROWS_CASE, ISA, 4)              \
            /* nv > 4: 1 .. MRFEW rows */                                                        \
            GEMM_CASES4(GEMM_FEW_CASE, ISA, 5) GEMM_CASES4(GEMM_FEW_CASE, ISA, 6)                \
            GEMM_CASES4(GEMM_FEW_CASE, ISA, 7) GEMM_CASES4(GEMM_FEW_CASE, ISA, 8)                \
            }                                                                                    \
            if (K == 0) break;                                                                   \
        }                                                                                        \
    }                                                                                            \
}                                                                                                \
                                                                                                 \
/* the packing buffer lives in this frame only, away from the direct path's */                  \
__attribute__((noinline, target(TARGET))) static void                                           \
gemm_packed_##ISA(int ta, int tb, int M, int N, int K, const int *kxs, float alpha,              \
                  const float *A, int lda, const float *B, int ldb, float beta, float *C,        \
                  int ldc) {                                                                     \
    float pk[KC * (NVWIDE > NVMAX ? NVWIDE : NVMAX) * VL] __attribute__((aligned(64)));          \
    drive_##ISA(1, ta, tb, M, N, K, kxs, alpha, A, lda, B, ldb, beta, C, ldc, pk);               \
}                                                                                                \
                                                                                                 \
__attribute__((target(TARGET))) static void                                                     \
gemm_##ISA(int ta, int tb, int M, int N, int K, const int *kxs, float alpha, const float *A,     \
           int lda, const float *B, int ldb, float beta, float *C, int ldc) {                    \
    if (tb || kxs)                                                                               \
        gemm_packed_##ISA(ta, tb, M, N, K, kxs, alpha, A, lda, B, ldb, beta, C, ldc);            \
    else                                                                                         \
        drive_##ISA(0, ta, tb, M, N, K, NULL, alpha, A, lda, B, ldb, beta, C, ldc, NULL);        \
}

/* AVX-512: tiles of 8 rows x 2 vectors of 16 (16 accumulators of 32
 * registers) for up to 32 columns, and of 6 rows x 3-4 vectors (18-24) for
 * more, in column tiles of 64: a product of 64 columns reads op(A) once
 * instead of twice, and the tile loads one broadcast of a(., k) per 4
 * FMAs instead of per 2 (measured on one Zen 4 core, the cells' updates
 * interleaved: the LSTM's at T = 512 x1.10-1.12 faster, whose weight
 * gradients stream dL/dgates [T*B, 4H] from memory once instead of twice;
 * the LRU's x1.01-1.05; the results are the same chains, bit for bit);
 * 4 x 4 for products of up to 4 rows, 1-3 x up to 8 (8-24) for
 * products of 1-3 rows with B unpacked (the per-step products: one row of 4
 * vectors left 4 FMA chains for 2 pipes of latency 4), 16 x 1 of 8 floats
 * for up to 8 columns of B unpacked (gemm_narrow_avx512 below); AVX2: 6 rows x 2
 * vectors of 8 (12 of 16), 1-2 x up to 4 for 1-2 rows. */
#define M512_MASK(r) ((__mmask16)((1u << (r)) - 1u))
#define M512_MLOAD(p, m) _mm512_maskz_loadu_ps(m, p)
#define M512_MSTORE(p, m, x) _mm512_mask_storeu_ps(p, m, x)
GEMM_VARIANT(avx512, "avx512f,fma", __m512, 16, 8, 4, 6, 4, 8, 3, __mmask16, M512_MASK, _mm512_loadu_ps,
             M512_MLOAD, _mm512_storeu_ps, M512_MSTORE, _mm512_set1_ps, _mm512_fmadd_ps,
             _mm512_mul_ps, _mm512_setzero_ps)

/* Products of at most 8 columns (an input gradient of 8 features, a head
 * of 4 actions) on an AVX-512 machine: 8-float vectors under AVX-512VL
 * masks, one per row, in tiles of 16 rows. The 16-float tile carries them
 * in the low half of each vector, and where an FMA of 16 floats takes two
 * passes through the 8-float units (Zen 4) half of each is work thrown away:
 * at 512 x 8 x 192 (nets/lru.c's din) 28 -> 17 us. B is read unpacked (tb
 * NoTrans, no list of k) and k runs in one pass: the chain of every element
 * is the definition's, as in the tiles above. */
static inline __attribute__((always_inline, target("avx512f,avx512vl,fma"))) void
narrow_tile(const int MR, const int SCALE, const int FULL, int K, const float *A, ptrdiff_t ars, ptrdiff_t acs,
            float alpha, const float *B, ptrdiff_t ldb, float *C, ptrdiff_t ldc, int mode,
            float beta, __mmask8 m) {
    __m256 c[16];
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {
        if (mode == INIT_ZERO) { c[i] = _mm256_setzero_ps(); continue; }
        __m256 x = FULL ? _mm256_loadu_ps(C + i * ldc) : _mm256_maskz_loadu_ps(m, C + i * ldc);
        c[i] = mode == INIT_SCALE ? _mm256_mul_ps(_mm256_set1_ps(beta), x) : x;
    }
    for (int k = 0; k < K; k++) {
        const __m256 b = FULL ? _mm256_loadu_ps(B + k * ldb) : _mm256_maskz_loadu_ps(m, B + k * ldb);
        const float *ap = A + k * acs;
        _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {
            float as = ap[i * ars];
            if (SCALE) as *= alpha;
            c[i] = _mm256_fmadd_ps(_mm256_set1_ps(as), b, c[i]);
        }
    }
    __asm__("" : "+r"(C), "+r"(ldc));   /* as in the tiles above */
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {
        if (FULL) _mm256_storeu_ps(C + i * ldc, c[i]);
        else _mm256_mask_storeu_ps(C + i * ldc, m, c[i]);
    }
}

static inline __attribute__((always_inline, target("avx512f,avx512vl,fma"))) void
narrow_rows(const int SCALE, const int FULL, int M, int K, const float *A, ptrdiff_t ars, ptrdiff_t acs, float alpha,
            const float *B, ptrdiff_t ldb, float *C, ptrdiff_t ldc, int mode, float beta,
            __mmask8 m) {
    int i = 0;
    for (; i + 16 <= M; i += 16)
        narrow_tile(16, SCALE, FULL, K, A + i * ars, ars, acs, alpha, B, ldb, C + i * ldc, ldc, mode, beta, m);
    if (M - i >= 8) {
        narrow_tile(8, SCALE, FULL, K, A + i * ars, ars, acs, alpha, B, ldb, C + i * ldc, ldc, mode, beta, m);
        i += 8;
    }
    if (M - i >= 4) {
        narrow_tile(4, SCALE, FULL, K, A + i * ars, ars, acs, alpha, B, ldb, C + i * ldc, ldc, mode, beta, m);
        i += 4;
    }
    for (; i < M; i++)
        narrow_tile(1, SCALE, FULL, K, A + i * ars, ars, acs, alpha, B, ldb, C + i * ldc, ldc, mode, beta, m);
}

/* C [M, N <= 8] = alpha op(A) B + beta C */
__attribute__((noinline, target("avx512f,avx512vl,fma"))) static void
gemm_narrow_avx512(int ta, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                   int ldb, float beta, float *C, int ldc) {
    const int mode = init_mode(1, beta);
    const __mmask8 m = (__mmask8)((1u << N) - 1u);
    /* full vectors (8 columns) in the operand order nets/ uses for them;
     * alpha 1 (no scaling in the loop) or not, either op(A) */
    if (N == 8 && !ta && alpha == 1.0f)
        narrow_rows(0, 1, M, K, A, lda, 1, alpha, B, ldb, C, ldc, mode, beta, m);
    else if (!ta && alpha == 1.0f)
        narrow_rows(0, 0, M, K, A, lda, 1, alpha, B, ldb, C, ldc, mode, beta, m);
    else if (!ta)
        narrow_rows(1, 0, M, K, A, lda, 1, alpha, B, ldb, C, ldc, mode, beta, m);
    else if (alpha == 1.0f)
        narrow_rows(0, 0, M, K, A, 1, lda, alpha, B, ldb, C, ldc, mode, beta, m);
    else
        narrow_rows(1, 0, M, K, A, 1, lda, alpha, B, ldb, C, ldc, mode, beta, m);
}

__attribute__((target("avx2,fma"))) static inline __m256i m256_mask(int r) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#define M256_MLOAD(p, m) _mm256_maskload_ps(p, m)
#define M256_MSTORE(p, m, x) _mm256_maskstore_ps(p, m, x)
GEMM_VARIANT(avx2, "avx2,fma", __m256, 8, 6, 2, 6, 2, 4, 2, __m256i, m256_mask, _mm256_loadu_ps, M256_MLOAD,
             _mm256_storeu_ps, M256_MSTORE, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_mul_ps,
             _mm256_setzero_ps)

/* ---- dispatch -------------------------------------------------------------- */
typedef void (*gemm_fn)(int, int, int, int, int, const int *, float, const float *, int,
                        const float *, int, float, float *, int);
/* the AVX-512 variant: its tiles, or the narrow ones for N <= 8 */
static void gemm_avx512_all(int ta, int tb, int M, int N, int K, const int *kxs, float alpha,
                            const float *A, int lda, const float *B, int ldb, float beta, float *C,
                            int ldc) {
    if (N <= 8 && !tb && !kxs)
        gemm_narrow_avx512(ta, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else
        gemm_avx512(ta, tb, M, N, K, kxs, alpha, A, lda, B, ldb, beta, C, ldc);
}
static const gemm_fn variants[NETS_GEMM_NVARIANTS] = {gemm_portable, gemm_avx2, gemm_avx512_all};

const char *nets_gemm_variant_name(nets_gemm_variant v) {
    static const char *names[NETS_GEMM_NVARIANTS] = {"portable", "avx2", "avx512"};
    return v >= 0 && v < NETS_GEMM_NVARIANTS ? names[v] : "?";
}

int nets_gemm_supported(nets_gemm_variant v) {
    __builtin_cpu_init();
    switch (v) {
    case NETS_GEMM_PORTABLE: return 1;
    case NETS_GEMM_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case NETS_GEMM_AVX512:   /* VL: the narrow tiles' 8-float masked vectors */
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("fma");
    default: return 0;
    }
}

static pthread_once_t best_once = PTHREAD_ONCE_INIT;
static nets_gemm_variant best = NETS_GEMM_PORTABLE;
static void pick_best(void) {
    for (int v = NETS_GEMM_NVARIANTS - 1; v >= 0; v--)
        if (nets_gemm_supported((nets_gemm_variant)v)) { best = (nets_gemm_variant)v; return; }
}

nets_gemm_variant nets_gemm_best(void) {
    pthread_once(&best_once, pick_best);
    return best;
}

static void run_variant(nets_gemm_variant v, int ta, int tb, int M, int N, int K, const int *kx,
                        float alpha, const float *A, int lda, const float *B, int ldb, float beta,
                        float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    variants[v](ta == CblasTrans, tb == CblasTrans, M, N, K, kx, alpha, A, lda, B, ldb, beta, C,
                ldc);
}

void nets_gemm_with(nets_gemm_variant v, int ta, int tb, int M, int N, int K, const int *kx,
                    float alpha, const float *A, int lda, const float *B, int ldb, float beta,
                    float *C, int ldc) {
    run_variant(v, ta, tb, M, N, K, kx, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* C^T = B^T A^T for a weight gradient dW [M, N] += dY^T X with few columns
 * (an input of 3 features: one vector of 16 lanes would carry 3): the
 * product of [N, K] by [K, M] reads dY's rows whole, and each element is
 * the same chain (fmaf(a, b, c) == fmaf(b, a, c); alpha is 1), so the
 * result is that of the direct product. */
enum { SWAP_MAX = 4096 };
static int swap_pays(int ta, int M, int N, float alpha) {
    return ta == CblasTrans && alpha == 1.0f && N < 8 && M >= 16 && M * N <= SWAP_MAX;
}

static void gemm_swapped(nets_gemm_variant v, int tb, int M, int N, int K, const int *kx,
                         const float *A, int lda, const float *B, int ldb, float beta, float *C,
                         int ldc) {
    float t[SWAP_MAX];   /* C^T [N, M] */
    if (beta != 0.0f)
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) t[j * M + i] = C[(size_t)i * ldc + j];
    run_variant(v, tb == CblasTrans ? CblasNoTrans : CblasTrans, CblasNoTrans, N, M, K, kx, 1.0f,
                B, ldb, A, lda, beta, t, M);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = t[j * M + i];
}

void nets_gemm(int ta, int tb, int M, int N, int K, float alpha,
               const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if ((long)M * N * K > NETS_GEMM_SMALL)
        cblas_sgemm(CblasRowMajor, (CBLAS_TRANSPOSE)ta, (CBLAS_TRANSPOSE)tb, M, N, K, alpha, A, lda,
                    B, ldb, beta, C, ldc);
    else
        nets_gemm_k(ta, tb, M, N, K, NULL, alpha, A, lda, B, ldb, beta, C, ldc);
}

void nets_gemm_k(int ta, int tb, int M, int N, int K, const int *kx, float alpha, const float *A,
                 int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M > 0 && swap_pays(ta, M, N, alpha))
        gemm_swapped(nets_gemm_best(), tb, M, N, K, kx, A, lda, B, ldb, beta, C, ldc);
    else
        run_variant(nets_gemm_best(), ta, tb, M, N, K, kx, alpha, A, lda, B, ldb, beta, C, ldc);
}

void nets_transpose(float *T, const float *S, int rows, int cols) {
    /* blocks of 16 x 16 keep both sides' lines in cache */
    for (int r0 = 0; r0 < rows; r0 += 16)
        for (int c0 = 0; c0 < cols; c0 += 16) {
            int r1 = r0 + 16 < rows ? r0 + 16 : rows, c1 = c0 + 16 < cols ? c0 + 16 : cols;
            for (int c = c0; c < c1; c++)
                for (int r = r0; r < r1; r++) T[(size_t)c * rows + r] = S[(size_t)r * cols + c];
        }
}
