/* rql export — a log's recorded trajectories as Minari-style episode groups.
 *
 * /steps is one flat table whose episodes may interleave; Minari wants one
 * group per episode with observations [T+1, obs] (the final observation
 * included), actions, rewards, terminations, truncations [T]. The final
 * observation is the last step's next_observations (docs/log-format.md). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "log/rlog.h"

static void usage(FILE *f) {
    rql_usage_of("export", f);
    fprintf(f, "\n  RUN.h5            a run log holding recorded steps (rql train with eval.record,\n"
               "                    or rql eval --record)\n"
               "  --minari OUT.h5   write Minari-style groups episode_N (observations [T+1, obs],\n"
               "                    actions, rewards, terminations, truncations [T])\n"
               "  --force           overwrite OUT.h5 if it exists\n");
}

/* The columns of /steps, read whole. */
typedef struct {
    int64_t rows;
    int obs;
    int64_t *episode, *t, *action, *term, *trunc;
    double *reward;
    float *o, *next;         /* [rows, obs] */
} steps_t;

static void steps_free(steps_t *s) {
    free(s->episode); free(s->t); free(s->action); free(s->term); free(s->trunc);
    free(s->reward); free(s->o); free(s->next);
}

static int steps_read(const rlog_file *f, steps_t *s) {
    memset(s, 0, sizeof *s);
    int64_t n;
    int64_t nr;
    int w1, w2;
    if (rlog_read_i64(f, "steps/episode", &s->episode, &n) || rlog_read_i64(f, "steps/t", &s->t, &n) ||
        rlog_read_i64(f, "steps/actions", &s->action, &n) || rlog_read_i64(f, "steps/terminations", &s->term, &n) ||
        rlog_read_i64(f, "steps/truncations", &s->trunc, &n) || rlog_read_f64(f, "steps/rewards", &s->reward, &n) ||
        rlog_read_f32_2d(f, "steps/observations", 0, &s->o, &nr, &w1) ||
        rlog_read_f32_2d(f, "steps/next_observations", w1, &s->next, &nr, &w2))
        return -1;
    s->obs = w1;
    s->rows = rlog_table_rows(f, "steps");   /* shortest column */
    return 0;
}

/* Row order: by episode, then t (rows of episodes recorded side by side
 * interleave in the file). */
static int cmp_row(const void *a, const void *b, void *ctx) {
    const steps_t *s = ctx;
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    if (s->episode[i] != s->episode[j]) return s->episode[i] < s->episode[j] ? -1 : 1;
    if (s->t[i] != s->t[j]) return s->t[i] < s->t[j] ? -1 : 1;
    return (i > j) - (i < j);
}

static int write_ds(hid_t g, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims,
                    const void *data) {
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    /* Chunked + deflated like the log, when there is something to chunk. */
    if (dims[0] > 0) {
        hsize_t chunk[2] = {dims[0] < 4096 ? dims[0] : 4096, rank > 1 ? dims[1] : 1};
        if (rank < 2 || dims[1] > 0) {
            H5Pset_chunk(dcpl, rank, chunk);
            H5Pset_shuffle(dcpl);
            H5Pset_deflate(dcpl, 4);
        }
    }
    hid_t ds = sp >= 0 ? H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT) : -1;
    int ok = ds >= 0 && (dims[0] == 0 || H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    return ok ? 0 : -1;
}

static int attr_i64(hid_t o, const char *name, int64_t v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(o, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, H5T_NATIVE_INT64, &v) >= 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return ok ? 0 : -1;
}

static int attr_str(hid_t o, const char *name, const char *s) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(o, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, t, &s) >= 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return ok ? 0 : -1;
}

/* Writes the episode of rows idx[0..T-1] as group episode_<id>. The
 * buffers are sized for the longest episode by the caller. */
static int write_episode(hid_t out, const char *src, const steps_t *s, const int64_t *idx, int64_t T, hid_t boolt,
                         float *obs, int32_t *act, float *rew, int8_t *term, int8_t *trunc) {
    int64_t id = s->episode[idx[0]];
    size_t w = (size_t)s->obs;
    for (int64_t k = 0; k < T; k++) {
        int64_t r = idx[k];
        if (s->t[r] != k) {
            fprintf(stderr, "rql export: %s: recorded episode %lld has no step t = %lld (found t = %lld): "
                            "not exported\n", src, (long long)id, (long long)k, (long long)s->t[r]);
            return -1;
        }
        memcpy(obs + k * w, s->o + r * w, w * sizeof *obs);
        act[k] = (int32_t)s->action[r];
        rew[k] = (float)s->reward[r];
        term[k] = s->term[r] != 0;
        trunc[k] = s->trunc[r] != 0;
    }
    const float *last = s->next + idx[T - 1] * w;
    for (size_t j = 0; j < w; j++)
        if (isnan(last[j])) {
            fprintf(stderr, "rql export: %s: recorded episode %lld lacks its final observation "
                            "(/steps/next_observations is NaN at t = %lld)\n", src, (long long)id, (long long)(T - 1));
            return -1;
        }
    memcpy(obs + T * w, last, w * sizeof *obs);
    char name[64];
    snprintf(name, sizeof name, "episode_%lld", (long long)id);
    hid_t g = H5Gcreate2(out, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t d_obs[2] = {(hsize_t)T + 1, w}, d_T[1] = {(hsize_t)T};
    int ok = g >= 0 && !attr_i64(g, "id", id) && !attr_i64(g, "total_steps", T) &&
             !write_ds(g, "observations", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d_obs, obs) &&
             !write_ds(g, "actions", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d_T, act) &&
             !write_ds(g, "rewards", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, d_T, rew) &&
             !write_ds(g, "terminations", boolt, boolt, 1, d_T, term) &&
             !write_ds(g, "truncations", boolt, boolt, 1, d_T, trunc);
    if (g >= 0) H5Gclose(g);
    if (!ok) fprintf(stderr, "rql export: cannot write group /%s\n", name);
    return ok ? 0 : -1;
}

int cmd_export(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
    int force = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--minari") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(a, "--force")) force = 1;
        else if (a[0] == '-' || in) {
            fprintf(stderr, "rql export: unexpected argument '%s'\n", a);
            usage(stderr);
            return 2;
        } else in = a;
    }
    if (!in || !out) {
        fprintf(stderr, "rql export: %s\n", !in ? "no run log given" : "say where with --minari OUT.h5");
        usage(stderr);
        return 2;
    }
    struct stat si, so;
    if (stat(out, &so) == 0) {
        if (stat(in, &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
            fprintf(stderr, "rql export: %s: the output would overwrite the run log itself\n", out);
            return 2;
        }
        if (!force) {
            fprintf(stderr, "rql export: %s exists (use --force to overwrite it)\n", out);
            return 2;
        }
    }
    rlog_info info;
    if (rlog_read_info(in, &info) < 0) {
        fprintf(stderr, "rql export: %s\n", rql_error());
        return 2;
    }
    rlog_file *f = rlog_file_open(in);
    steps_t s;
    memset(&s, 0, sizeof s);
    int rc = 2;
    hid_t of = -1, boolt = -1;
    int64_t *idx = NULL;
    float *obs = NULL, *rew = NULL;
    int32_t *act = NULL;
    int8_t *term = NULL, *trunc = NULL;
    if (!f || steps_read(f, &s)) {
        fprintf(stderr, "rql export: %s\n", rql_error());
        goto out;
    }
    if (s.rows == 0) {
        fprintf(stderr, "rql export: %s: /steps is empty: no recorded episodes (record some with "
                        "eval.record in the config or rql eval --record)\n", in);
        goto out;
    }
    idx = malloc((size_t)s.rows * sizeof *idx);
    if (!idx) { fprintf(stderr, "rql export: out of memory\n"); rc = 1; goto out; }
    for (int64_t i = 0; i < s.rows; i++) idx[i] = i;
    qsort_r(idx, (size_t)s.rows, sizeof *idx, cmp_row, &s);
    int64_t longest = 0, nep = 0;
    for (int64_t a = 0, b; a < s.rows; a = b) {
        for (b = a; b < s.rows && s.episode[idx[b]] == s.episode[idx[a]]; b++) {}
        if (b - a > longest) longest = b - a;
        nep++;
    }
    obs = malloc((size_t)(longest + 1) * (size_t)s.obs * sizeof *obs + 1);
    act = malloc((size_t)longest * sizeof *act);
    rew = malloc((size_t)longest * sizeof *rew);
    term = malloc((size_t)longest);
    trunc = malloc((size_t)longest);
    boolt = rlog_bool_type();
    if (!obs || !act || !rew || !term || !trunc || boolt < 0) {
        fprintf(stderr, "rql export: out of memory\n");
        rc = 1;
        goto out;
    }
    of = H5Fcreate(out, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (of < 0) { fprintf(stderr, "rql export: %s: cannot create the file\n", out); rc = 1; goto out; }
    int64_t total = 0;
    for (int64_t a = 0, b; a < s.rows; a = b) {
        for (b = a; b < s.rows && s.episode[idx[b]] == s.episode[idx[a]]; b++) {}
        if (write_episode(of, in, &s, idx + a, b - a, boolt, obs, act, rew, term, trunc)) {
            rc = 1;
            goto out;
        }
        total += b - a;
    }
    if (attr_i64(of, "total_episodes", nep) || attr_i64(of, "total_steps", total) ||
        attr_str(of, "format", "rql-minari") || attr_str(of, "env", info.env) || attr_str(of, "agent", info.agent) ||
        attr_str(of, "label", info.label) || attr_i64(of, "seed", info.seed) || attr_str(of, "source", in)) {
        fprintf(stderr, "rql export: %s: cannot write the root attributes\n", out);
        rc = 1;
        goto out;
    }
    if (H5Fclose(of) < 0) {
        of = -1;
        fprintf(stderr, "rql export: %s: cannot close the file\n", out);
        rc = 1;
        goto out;
    }
    of = -1;
    printf("%s: %lld episodes, %lld steps from %s (%s, seed %ld)\n", out, (long long)nep, (long long)total, in,
           info.label, info.seed);
    rc = 0;
out:
    if (of >= 0) {
        H5Fclose(of);
        unlink(out);             /* never leave half an export behind */
    }
    if (boolt >= 0) H5Tclose(boolt);
    free(obs); free(act); free(rew); free(term); free(trunc); free(idx);
    steps_free(&s);
    rlog_file_close(f);
    rlog_info_free(&info);
    return rc;
}
