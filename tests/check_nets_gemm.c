/* check_nets_gemm — rql's own small-matrix kernels (nets/gemm.c): every
 * variant this CPU runs agrees with every other bit for bit and with a
 * double-precision product within float rounding, over awkward shapes (m, n,
 * k from 1 to 70, all four transposes, beta 0 / 1 / other, alpha 1 / other,
 * leading dimensions wider than the matrix, k blocks of 256 crossed), and
 * with the definition's FMA chain written out in scalar code. */
#include <cblas.h>
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "nets/gemm.h"

static unsigned long long lcg = 12345;
static float frand(void) {
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((lcg >> 40) * (1.0 / (1 << 24)) * 2.0 - 1.0);
}

/* op(X)(r, c) of a row-major X with leading dimension ld */
static float at(const float *X, int ld, int trans, int r, int c) {
    return trans ? X[(size_t)c * ld + r] : X[(size_t)r * ld + c];
}

typedef struct {
    int m, n, k, ta, tb, lda, ldb, ldc;
    float alpha, beta;
    float *A, *B, *C0;
    int *kx;   /* NULL, or the k of the chain, k of them, in [0, kfull) */
} gemm_case;

/* kfull > k: a list of k of the kfull values of k (nets_gemm_k) */
static gemm_case make_case_k(int m, int n, int k, int kfull, int ta, int tb, float alpha,
                             float beta, int pad) {
    gemm_case g = {m, n, k, ta, tb, 0, 0, 0, alpha, beta, NULL, NULL, NULL, NULL};
    if (kfull > k) {   /* k increasing values, roughly evenly spread */
        g.kx = malloc(sizeof(int) * (k + 1));
        for (int q = 0; q < k; q++) g.kx[q] = (int)((long)q * kfull / k) + (q * 7 % 3 == 0);
        for (int q = 0; q < k; q++) if (g.kx[q] >= kfull) g.kx[q] = kfull - 1;
    } else {
        kfull = k;
    }
    int ar = ta ? kfull : m, ac = ta ? m : kfull, br = tb ? n : kfull, bc = tb ? kfull : n;
    g.lda = ac + pad; g.ldb = bc + pad; g.ldc = n + pad;
    g.A = malloc(sizeof(float) * ((size_t)ar * g.lda + 1));
    g.B = malloc(sizeof(float) * ((size_t)br * g.ldb + 1));
    g.C0 = malloc(sizeof(float) * ((size_t)m * g.ldc + 1));
    for (size_t i = 0; i < (size_t)ar * g.lda; i++) g.A[i] = frand();
    for (size_t i = 0; i < (size_t)br * g.ldb; i++) g.B[i] = frand();
    for (size_t i = 0; i < (size_t)m * g.ldc; i++) g.C0[i] = frand();
    return g;
}

static gemm_case make_case(int m, int n, int k, int ta, int tb, float alpha, float beta, int pad) {
    return make_case_k(m, n, k, k, ta, tb, alpha, beta, pad);
}

static void free_case(gemm_case *g) { free(g->A); free(g->B); free(g->C0); free(g->kx); }

static float *run_case(const gemm_case *g, nets_gemm_variant v) {
    size_t nc = (size_t)g->m * g->ldc;
    float *C = malloc(sizeof(float) * (nc + 1));
    memcpy(C, g->C0, sizeof(float) * nc);
    if (g->beta == 0.0f)   /* beta 0: C must not be read, so NaN there must not leak */
        for (int i = 0; i < g->m; i++)
            for (int j = 0; j < g->n; j++) C[(size_t)i * g->ldc + j] = NAN;
    nets_gemm_with(v, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans, g->m,
                   g->n, g->k, g->kx, g->alpha, g->A, g->lda, g->B, g->ldb, g->beta, C, g->ldc);
    return C;
}

/* compares every supported variant with the portable one bit for bit
 * (padding columns of C untouched), with the scalar chain of the definition
 * bit for bit, and with a double product within a float-rounding bound.
 * Element checks call Check only on failure: ck_assert writes to Check's
 * pipe at every call. */
static void check_case(const gemm_case *g) {
    float *ref = run_case(g, NETS_GEMM_PORTABLE);
    for (int i = 0; i < g->m; i++)
        for (int j = 0; j < g->ldc; j++) {
            size_t at_ij = (size_t)i * g->ldc + j;
            if (j >= g->n) {
                if (memcmp(&ref[at_ij], &g->C0[at_ij], sizeof(float)))
                    ck_abort_msg("portable wrote outside C");
                continue;
            }
            float c = g->beta == 0.0f ? 0.0f : g->beta * g->C0[at_ij];
            double d = g->beta == 0.0f ? 0.0 : (double)g->beta * g->C0[at_ij], mag = fabs(d);
            for (int q = 0; q < g->k; q++) {
                int k = g->kx ? g->kx[q] : q;
                float a = at(g->A, g->lda, g->ta, i, k), b = at(g->B, g->ldb, g->tb, k, j);
                c = fmaf(g->alpha * a, b, c);
                d += (double)g->alpha * a * b;
                mag += fabs((double)g->alpha * a * b);
            }
            if (memcmp(&c, &ref[at_ij], sizeof c))
                ck_abort_msg("portable (%d,%d) of %dx%dx%d ta %d tb %d: %.9g, the chain %.9g", i, j,
                             g->m, g->n, g->k, g->ta, g->tb, ref[at_ij], c);
            if (!(fabs(ref[at_ij] - d) <= 2e-7 * (g->k + 2) * (mag + 1e-30)))
                ck_abort_msg("(%d,%d) of %dx%dx%d: %.9g vs double %.9g", i, j, g->m, g->n, g->k,
                             ref[at_ij], d);
        }
    for (int v = 0; v < NETS_GEMM_NVARIANTS; v++) {
        if (v == NETS_GEMM_PORTABLE || !nets_gemm_supported((nets_gemm_variant)v)) continue;
        float *C = run_case(g, (nets_gemm_variant)v);
        size_t nc = (size_t)g->m * g->ldc;
        for (size_t e = 0; e < nc; e++)
            if (memcmp(&C[e], &ref[e], sizeof(float)))
                ck_abort_msg("%s differs from portable at (%zu,%zu) of %dx%dx%d ta %d tb %d alpha "
                             "%g beta %g: %.9g vs %.9g",
                             nets_gemm_variant_name((nets_gemm_variant)v), e / g->ldc, e % g->ldc,
                             g->m, g->n, g->k, g->ta, g->tb, g->alpha, g->beta, C[e], ref[e]);
        free(C);
    }
    free(ref);
}

/* every m and n from 1 to 70 against a k that cycles through 1..70, each
 * transpose pair, beta and alpha in turn */
START_TEST(gemm_shapes) {
    static const float betas[] = {0.0f, 1.0f, -0.75f}, alphas[] = {1.0f, 1.0f, 0.5f, -1.25f};
    int count = 0;
    for (int m = 1; m <= 70; m++)
        for (int n = 1; n <= 70; n++) {
            if (m > 20 && n > 20 && (m * 7 + n) % 5) continue;   /* all the small ones, a fifth of the rest */
            int k = 1 + (m * 31 + n * 17) % 70;
            int t = (m + 3 * n) % 4;
            gemm_case g = make_case(m, n, k, t & 1, t >> 1, alphas[(m + n) % 4],
                                    betas[(m * n) % 3], (m + n) % 3 == 0 ? 3 : 0);
            check_case(&g);
            free_case(&g);
            count++;
        }
    ck_assert_int_gt(count, 1000);
}
END_TEST

/* every k from 1 to 70 at the shapes of the nets RL uses and at edges (1
 * or 2 rows by up to 8 vectors: the wide tiles of few rows; 3-4 vectors:
 * the AVX-512 tiles of 6 rows, and their last rows) */
START_TEST(gemm_depths) {
    static const int mn[][2] = {{16, 128}, {16, 32}, {8, 4}, {9, 17}, {1, 1}, {7, 33},
                                {1, 128}, {2, 128}, {3, 128}, {2, 97}, {1, 131}, {2, 250},
                                {13, 64}, {6, 48}, {17, 100}};
    for (size_t s = 0; s < sizeof mn / sizeof mn[0]; s++)
        for (int k = 1; k <= 70; k++)
            for (int t = 0; t < 4; t++) {
                gemm_case g = make_case(mn[s][0], mn[s][1], k, t & 1, t >> 1, 1.0f,
                                        (float)((k + t) % 2), 0);
                check_case(&g);
                free_case(&g);
            }
}
END_TEST

/* k beyond one block of 256 (the chain stored in C and resumed), and k = 0 */
START_TEST(gemm_long_k) {
    static const int ks[] = {0, 255, 256, 257, 600}, mn[][2] = {{19, 37}, {2, 120}};
    for (size_t s = 0; s < 2 * sizeof ks / sizeof ks[0]; s++)
        for (int t = 0; t < 4; t++) {
            gemm_case g = make_case(mn[s % 2][0], mn[s % 2][1], ks[s / 2], t & 1, t >> 1,
                                    t == 3 ? 0.5f : 1.0f, t == 2 ? 0.0f : 1.0f, 1);
            check_case(&g);
            free_case(&g);
        }
}
END_TEST

/* a chain over a list of k (the valid rows of a padded batch), across k
 * blocks, through nets_gemm_k too (transposed for few columns) */
START_TEST(gemm_klist) {
    static const int sh[][4] = {{128, 32, 300, 700}, {128, 3, 40, 64}, {9, 17, 5, 70},
                                {16, 128, 600, 601}, {33, 1, 20, 50}};
    for (size_t s = 0; s < sizeof sh / sizeof sh[0]; s++)
        for (int t = 0; t < 4; t++) {
            gemm_case g = make_case_k(sh[s][0], sh[s][1], sh[s][2], sh[s][3], t & 1, t >> 1,
                                      t == 2 ? 0.5f : 1.0f, (float)(t % 2), 1);
            check_case(&g);
            float *want = run_case(&g, NETS_GEMM_PORTABLE);
            float *got = malloc(sizeof(float) * ((size_t)g.m * g.ldc + 1));
            memcpy(got, g.C0, sizeof(float) * g.m * g.ldc);
            nets_gemm_k(g.ta ? CblasTrans : CblasNoTrans, g.tb ? CblasTrans : CblasNoTrans, g.m,
                        g.n, g.k, g.kx, g.alpha, g.A, g.lda, g.B, g.ldb, g.beta, got, g.ldc);
            for (int i = 0; i < g.m; i++)
                for (int j = 0; j < g.n; j++)
                    if (memcmp(&got[i * g.ldc + j], &want[i * g.ldc + j], sizeof(float)))
                        ck_abort_msg("nets_gemm_k %dx%dx%d differs at (%d,%d)", g.m, g.n, g.k, i, j);
            free(got); free(want);
            free_case(&g);
        }
}
END_TEST

/* products of at most 8 columns with B untransposed (AVX-512: the narrow
 * tiles, 16 rows of 8-float vectors) at row counts around the tile's, and
 * nets/lru.c's input gradient: din [512, 8] = dL/du [512, 128] W_B [128, 8]
 * continued by dy [512, 64] W_D [64, 8] (beta 1), bit for bit the portable
 * chains */
START_TEST(gemm_narrow) {
    static const int ms[] = {1, 3, 4, 7, 8, 15, 16, 17, 37, 100, 512}, ks[] = {1, 8, 64, 300};
    static const float betas[] = {0.0f, 1.0f, -0.75f}, alphas[] = {1.0f, 0.5f};
    int count = 0;
    for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
        for (int n = 1; n <= 9; n++)
            for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
                int q = (int)(mi * 9 + n + ki);
                gemm_case g = make_case(ms[mi], n, ks[ki], q % 2, 0, alphas[q / 2 % 2],
                                        betas[q % 3], q % 5 == 0 ? 2 : 0);
                check_case(&g);
                free_case(&g);
                count++;
            }
    ck_assert_int_gt(count, 300);
    const int R = 512, In = 8, H = 64;
    gemm_case du = make_case(R, In, 2 * H, 0, 0, 1.0f, 0.0f, 0);
    gemm_case dy = make_case(R, In, H, 0, 0, 1.0f, 1.0f, 0);
    float *want = run_case(&du, NETS_GEMM_PORTABLE), *got = run_case(&du, nets_gemm_best());
    nets_gemm_with(NETS_GEMM_PORTABLE, CblasNoTrans, CblasNoTrans, R, In, H, NULL, 1.0f, dy.A, dy.lda,
                   dy.B, dy.ldb, 1.0f, want, In);
    nets_gemm(CblasNoTrans, CblasNoTrans, R, In, H, 1.0f, dy.A, dy.lda, dy.B, dy.ldb, 1.0f, got, In);
    ck_assert(memcmp(want, got, sizeof(float) * R * In) == 0);
    free(want); free(got);
    free_case(&du); free_case(&dy);
}
END_TEST

/* nets_gemm itself: small shapes are the kernels' (bit for bit), the
 * transpose helper is a transpose */
START_TEST(gemm_entry) {
    gemm_case g = make_case(16, 128, 32, 0, 1, 1.0f, 1.0f, 0);
    float *ref = run_case(&g, nets_gemm_best());
    float *C = malloc(sizeof(float) * 16 * 128);
    memcpy(C, g.C0, sizeof(float) * 16 * 128);
    nets_gemm(CblasNoTrans, CblasTrans, 16, 128, 32, 1.0f, g.A, g.lda, g.B, g.ldb, 1.0f, C, 128);
    ck_assert(memcmp(C, ref, sizeof(float) * 16 * 128) == 0);
    /* the same product through a transposed B read without transposing */
    float *BT = malloc(sizeof(float) * 32 * 128);
    nets_transpose(BT, g.B, 128, 32);
    for (int r = 0; r < 128; r++)
        for (int c = 0; c < 32; c++)
            if (BT[c * 128 + r] != g.B[r * 32 + c]) ck_abort_msg("transpose at (%d,%d)", r, c);
    memcpy(C, g.C0, sizeof(float) * 16 * 128);
    nets_gemm(CblasNoTrans, CblasNoTrans, 16, 128, 32, 1.0f, g.A, g.lda, BT, 128, 1.0f, C, 128);
    ck_assert(memcmp(C, ref, sizeof(float) * 16 * 128) == 0);
    /* the weight gradients of few columns that nets_gemm computes transposed */
    static const int sw[][3] = {{128, 3, 600}, {512, 3, 70}, {16, 7, 5}, {33, 1, 300}};
    for (size_t s = 0; s < sizeof sw / sizeof sw[0]; s++)
        for (int tb = 0; tb < 2; tb++)
            for (int beta = 0; beta < 2; beta++) {
                gemm_case h = make_case(sw[s][0], sw[s][1], sw[s][2], 1, tb, 1.0f, (float)beta, 2);
                float *want = run_case(&h, nets_gemm_best());
                float *got = malloc(sizeof(float) * h.m * h.ldc);
                memcpy(got, h.C0, sizeof(float) * h.m * h.ldc);
                nets_gemm(CblasTrans, tb ? CblasTrans : CblasNoTrans, h.m, h.n, h.k, 1.0f, h.A,
                          h.lda, h.B, h.ldb, (float)beta, got, h.ldc);
                for (int i = 0; i < h.m; i++)
                    for (int j = 0; j < h.n; j++)
                        if (memcmp(&got[i * h.ldc + j], &want[i * h.ldc + j], sizeof(float)))
                            ck_abort_msg("transposed %dx%dx%d tb %d beta %d differs at (%d,%d)",
                                         h.m, h.n, h.k, tb, beta, i, j);
                free(got); free(want);
                free_case(&h);
            }
    ck_assert(nets_gemm_supported(NETS_GEMM_PORTABLE));
    ck_assert(nets_gemm_supported(nets_gemm_best()));
    free(BT); free(C); free(ref);
    free_case(&g);
}
END_TEST

int main(void) {
    Suite *s = suite_create("nets_gemm");
    TCase *tc = tcase_create("gemm");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, gemm_shapes);
    tcase_add_test(tc, gemm_depths);
    tcase_add_test(tc, gemm_long_k);
    tcase_add_test(tc, gemm_klist);
    tcase_add_test(tc, gemm_narrow);
    tcase_add_test(tc, gemm_entry);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
