/* rql export — a log's recorded trajectories as a Minari dataset that
 * minari.load_dataset opens.
 *
 * What Minari (Farama-Foundation/Minari 0.5.x) reads, and so what this writes:
 *
 *   ROOT/<dataset_id>/data/main_data.hdf5   minari/dataset/_storages/hdf5_storage.py
 *   ROOT/<dataset_id>/data/metadata.json    minari/dataset/minari_storage.py
 *   ROOT/<namespace>/namespace_metadata.json   minari/namespace.py (only if absent)
 *
 * ROOT is what Minari calls MINARI_DATASETS_PATH (storage/datasets_root_dir.py);
 * load_dataset(id) opens ROOT/id/data (storage/local.py). The dataset id is
 * "(namespace/)name-vN" (dataset/minari_dataset.py DATASET_ID_RE, with the
 * version that parse_dataset_id requires).
 *
 * metadata.json holds what MinariStorage.new, update_metadata and
 * update_episodes write for a dataset made without a Gymnasium env
 * (utils.create_dataset_from_buffers with env=None): total_episodes,
 * total_steps, data_format "hdf5", observation_space and action_space as
 * minari/serialization.py serialises a Box and a Discrete (JSON strings),
 * dataset_id, minari_version, dataset_size; no env_spec key (Minari writes
 * none when the env spec is None; rql's worlds are not Gymnasium envs).
 * algorithm_name and description say which run it came from, and "rql"
 * holds the run's provenance (extra keys Minari carries along unread).
 *
 * main_data.hdf5 holds one group episode_<i> per recorded episode, i = 0 ..
 * N-1 in the order of rql's episode ids (Minari reads episode_0 ..
 * episode_{total_episodes-1}), each with the datasets and attributes that
 * HDF5Storage.update_episodes and the DataCollector's EpisodeMetadataCallback
 * write: observations [T+1, obs] float32 (/steps/observations of t = 0..T-1,
 * then the last step's next_observations), actions [T] int64, rewards [T]
 * float64, terminations / truncations [T] bool, an infos group (empty, as
 * with record_infos=False); attributes id, total_steps, rewards_sum / mean /
 * std / max / min, and rql_episode (the log's episode id). Datasets are
 * chunked with an unlimited first dimension (as h5py's chunks=True,
 * maxshape=(None, ...)), so Minari can append to them.
 *
 * /steps is one flat table whose episodes may interleave; rows are grouped
 * by episode and ordered by t. An episode whose last step is neither
 * terminated nor truncated (a log cut by a kill) gets truncations[-1] = True,
 * as Minari's DataCollector._flush_to_storage does.
 *
 * Safety: the two files are written under temporary names in the data folder
 * and renamed into place, so a failed export leaves nothing half written.
 * An existing dataset is replaced only with --force, and only when its
 * main_data.hdf5 is an earlier rql export (root attribute format
 * "rql-minari"); a run log, a checkpoint, the input itself or any other file
 * at those paths is never written over. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "log/rlog.h"

/* The Minari version whose reader this mirrors (metadata minari_version; it
 * is in minari.supported_dataset_versions of Minari 0.5.1 and later). */
#define MINARI_VERSION "0.5.1"
#define EXPORT_FORMAT "rql-minari"

static void usage(FILE *f) {
    rql_usage_of("export", f);
    fprintf(f,
            "\n  RUN.h5              a run log holding recorded steps (rql train with eval.record,\n"
            "                      or rql eval --record)\n"
            "  --minari ROOT       the Minari datasets folder (what Minari calls MINARI_DATASETS_PATH);\n"
            "                      writes ROOT/ID/data/main_data.hdf5 and ROOT/ID/data/metadata.json\n"
            "  --dataset-id ID     (namespace/)name-vN, letters, digits, _ and - (Minari's rule);\n"
            "                      default rql/ENV-LABEL-seedSEED-v0\n"
            "  --force             replace an earlier rql export of the same ID (never anything else)\n"
            "\nthen in Python:  MINARI_DATASETS_PATH=ROOT python3 -c \\\n"
            "                   'import minari; d = minari.load_dataset(\"ID\"); print(d.total_episodes)'\n");
}

/* ---- the dataset id, as minari/dataset/minari_dataset.py parses it --------------- */

static int id_char(char c) {   /* Python's \w restricted to ASCII, and '-' */
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* DATASET_ID_RE = ^(namespace/)?name(-vN)?$ with namespace [-_\w][-_\w/]*[-_\w]+
 * and name [-_\w]+?; parse_dataset_id then does int(version), so the version
 * is required. Empty namespace components ("a//b") are refused too: the
 * folder would not read back as the same id (local.list_local_datasets). */
static int check_dataset_id(const char *id, char *why, size_t cap) {
    size_t n = strlen(id);
    if (n == 0 || n > 200) return snprintf(why, cap, "must have 1 to 200 characters"), -1;
    for (size_t i = 0; i < n; i++)
        if (!id_char(id[i]) && id[i] != '/')
            return snprintf(why, cap, "has '%c': only letters, digits, '_', '-' and '/' are allowed", id[i]), -1;
    const char *slash = strrchr(id, '/'), *name = slash ? slash + 1 : id;
    if (slash) {
        size_t ns = (size_t)(slash - id);
        if (strstr(id, "//")) return snprintf(why, cap, "has an empty namespace component ('//')"), -1;
        if (ns < 2 || id[0] == '/' || id[ns - 1] == '/')
            return snprintf(why, cap, "the namespace before '/' must have 2 characters or more, "
                                      "starting and ending with a letter, digit, '_' or '-'"), -1;
    }
    /* name-vN: the last "-v" followed by digits only, with a name before it */
    const char *v = NULL;
    for (const char *p = name; (p = strstr(p, "-v")); p++) v = p;
    int digits = v && v[2];
    for (const char *p = v ? v + 2 : ""; *p; p++)
        if (*p < '0' || *p > '9') digits = 0;
    if (!digits) return snprintf(why, cap, "must end in -vN (a version number, e.g. tmaze-v0)"), -1;
    if (v == name) return snprintf(why, cap, "has no dataset name before -v"), -1;
    return 0;
}

/* Default id rql/ENV-LABEL-seedSEED-v0, other characters replaced by '_'. */
static char *default_dataset_id(const rlog_info *in) {
    char *id = NULL;
    if (asprintf(&id, "rql/%s-%s-seed%ld-v0", in->env[0] ? in->env : "env", in->label[0] ? in->label : "run",
                 in->seed) < 0)
        return NULL;
    for (char *p = id + 4; *p; p++)
        if (!id_char(*p)) *p = '_';
    return id;
}

/* ---- JSON as Python's json.dump writes it (ensure_ascii: \uXXXX escapes) ------- */

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p, cp;
        int len;
        if (c < 0x80) { cp = c; len = 1; }
        else if ((c & 0xe0) == 0xc0) { cp = c & 0x1f; len = 2; }
        else if ((c & 0xf0) == 0xe0) { cp = c & 0x0f; len = 3; }
        else if ((c & 0xf8) == 0xf0) { cp = c & 0x07; len = 4; }
        else { cp = 0xfffd; len = 1; }
        for (int k = 1; k < len; k++) {
            if ((p[k] & 0xc0) != 0x80) { cp = 0xfffd; len = k; break; }
            cp = (cp << 6) | (p[k] & 0x3f);
        }
        p += len;
        if (cp == '"' || cp == '\\') fprintf(f, "\\%c", cp);
        else if (cp == '\n') fputs("\\n", f);
        else if (cp == '\r') fputs("\\r", f);
        else if (cp == '\t') fputs("\\t", f);
        else if (cp == '\b') fputs("\\b", f);
        else if (cp == '\f') fputs("\\f", f);
        else if (cp >= 0x20 && cp < 0x7f) fputc((int)cp, f);
        else if (cp < 0x10000) fprintf(f, "\\u%04x", cp);
        else {
            cp -= 0x10000;
            fprintf(f, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
        }
    }
    fputc('"', f);
}

/* serialization._serialize_box of Box(-inf, inf, (obs,), float32): rql's
 * worlds declare no bounds and wrappers (obs_noise) make them unbounded.
 * json.dumps writes the infinities as -Infinity / Infinity. */
static char *box_json(int obs) {
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    if (!f) return NULL;
    fprintf(f, "{\"type\": \"Box\", \"dtype\": \"float32\", \"shape\": [%d], \"low\": [", obs);
    for (int i = 0; i < obs; i++) fprintf(f, "%s-Infinity", i ? ", " : "");
    fputs("], \"high\": [", f);
    for (int i = 0; i < obs; i++) fprintf(f, "%sInfinity", i ? ", " : "");
    fputs("]}", f);
    return fclose(f) ? (free(s), NULL) : s;
}

/* serialization._serialize_discrete of Discrete(n) (start 0). */
static char *discrete_json(int n) {
    char *s = NULL;
    return asprintf(&s, "{\"type\": \"Discrete\", \"dtype\": \"int64\", \"start\": 0, \"n\": %d}", n) < 0 ? NULL : s;
}

/* ---- the log's /steps, read whole -------------------------------------------------- */

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

/* ---- HDF5 writing ------------------------------------------------------------------ */

/* A chunked dataset with an unlimited first dimension (h5py's chunks=True,
 * maxshape=(None, ...), which HDF5Storage._add_episode_to_group uses),
 * shuffled and deflated like the log. */
static int write_ds(hid_t g, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims,
                    const void *data) {
    hsize_t maxd[2] = {H5S_UNLIMITED, rank > 1 ? dims[1] : 1};
    hsize_t chunk[2] = {dims[0] < 4096 ? dims[0] : 4096, rank > 1 ? dims[1] : 1};
    hid_t sp = H5Screate_simple(rank, dims, maxd);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, rank, chunk);
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 4);
    hid_t ds = sp >= 0 ? H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT) : -1;
    int ok = ds >= 0 && H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0;
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    return ok ? 0 : -1;
}

static int attr_num(hid_t o, const char *name, hid_t ftype, hid_t mtype, const void *v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(o, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, mtype, v) >= 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return ok ? 0 : -1;
}
static int attr_i64(hid_t o, const char *name, int64_t v) {
    return attr_num(o, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}
static int attr_f64(hid_t o, const char *name, double v) {
    return attr_num(o, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
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

/* One episode's buffers, sized for the longest episode. */
typedef struct {
    float *obs;
    int64_t *act;
    double *rew;
    int8_t *term, *trunc;
} ep_buf;

/* Checks the episode of rows idx[0..T-1] and fills b; returns 0, or -1 after
 * saying why on stderr. *cut is set when its last step had neither flag. */
static int fill_episode(const char *src, const steps_t *s, int n_actions, const int64_t *idx, int64_t T, ep_buf *b,
                        int *cut) {
    int64_t id = s->episode[idx[0]];
    size_t w = (size_t)s->obs;
    for (int64_t k = 0; k < T; k++) {
        int64_t r = idx[k];
        if (s->t[r] != k) {
            fprintf(stderr, "rql export: %s: recorded episode %lld has no step t = %lld (found t = %lld): "
                            "not exported\n", src, (long long)id, (long long)k, (long long)s->t[r]);
            return -1;
        }
        if (s->action[r] < 0 || s->action[r] >= n_actions) {
            fprintf(stderr, "rql export: %s: recorded episode %lld step %lld has action %lld, outside "
                            "0..%d (n_actions %d)\n", src, (long long)id, (long long)k, (long long)s->action[r],
                    n_actions - 1, n_actions);
            return -1;
        }
        memcpy(b->obs + k * w, s->o + r * w, w * sizeof *b->obs);
        b->act[k] = s->action[r];
        b->rew[k] = s->reward[r];
        b->term[k] = s->term[r] != 0;
        b->trunc[k] = s->trunc[r] != 0;
    }
    const float *last = s->next + idx[T - 1] * w;
    for (size_t j = 0; j < w; j++)
        if (isnan(last[j])) {
            fprintf(stderr, "rql export: %s: recorded episode %lld lacks its final observation "
                            "(/steps/next_observations is NaN at t = %lld)\n", src, (long long)id, (long long)(T - 1));
            return -1;
        }
    memcpy(b->obs + T * w, last, w * sizeof *b->obs);
    *cut = !b->term[T - 1] && !b->trunc[T - 1];
    if (*cut) b->trunc[T - 1] = 1;
    return 0;
}

/* Group episode_<i>, as HDF5Storage.update_episodes writes it (attributes
 * id and total_steps, then the datasets observations, actions, rewards,
 * terminations, truncations and the group infos) and the DataCollector's
 * EpisodeMetadataCallback then adds (rewards_* over the float64 rewards;
 * numpy's std, ddof 0). */
static int write_episode(hid_t out, int64_t i, int64_t rql_id, int64_t T, int w, hid_t boolt, const ep_buf *b) {
    double sum = 0, mx = -INFINITY, mn = INFINITY, ss = 0;
    for (int64_t k = 0; k < T; k++) {
        sum += b->rew[k];
        if (b->rew[k] > mx) mx = b->rew[k];
        if (b->rew[k] < mn) mn = b->rew[k];
    }
    double mean = sum / (double)T;
    for (int64_t k = 0; k < T; k++) ss += (b->rew[k] - mean) * (b->rew[k] - mean);
    char name[64];
    snprintf(name, sizeof name, "episode_%lld", (long long)i);
    hid_t g = H5Gcreate2(out, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t d_obs[2] = {(hsize_t)T + 1, (hsize_t)w}, d_T[1] = {(hsize_t)T};
    hid_t infos = -1;
    int ok = g >= 0 && !attr_i64(g, "id", i) && !attr_i64(g, "total_steps", T) &&
             !write_ds(g, "observations", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d_obs, b->obs) &&
             !write_ds(g, "actions", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, d_T, b->act) &&
             !write_ds(g, "rewards", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, d_T, b->rew) &&
             !write_ds(g, "terminations", boolt, boolt, 1, d_T, b->term) &&
             !write_ds(g, "truncations", boolt, boolt, 1, d_T, b->trunc) &&
             (infos = H5Gcreate2(g, "infos", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
             !attr_f64(g, "rewards_sum", sum) && !attr_f64(g, "rewards_mean", mean) &&
             !attr_f64(g, "rewards_std", sqrt(ss / (double)T)) && !attr_f64(g, "rewards_max", mx) &&
             !attr_f64(g, "rewards_min", mn) && !attr_i64(g, "rql_episode", rql_id);
    if (infos >= 0) H5Gclose(infos);
    if (g >= 0) H5Gclose(g);
    if (!ok) fprintf(stderr, "rql export: cannot write group /%s\n", name);
    return ok ? 0 : -1;
}

/* ---- what is already at the destination ------------------------------------------- */

static int same_file(const struct stat *a, const char *path) {
    struct stat b;
    return stat(path, &b) == 0 && a->st_dev == b.st_dev && a->st_ino == b.st_ino;
}

/* The root attribute format of an HDF5 file (malloc'd; NULL: none, or not HDF5). */
static char *h5_format(const char *path, int *is_h5) {
    *is_h5 = H5Fis_hdf5(path) > 0;
    if (!*is_h5) return NULL;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return NULL;
    char *out = NULL;
    if (H5Aexists(f, "format") > 0) {
        hid_t a = H5Aopen(f, "format", H5P_DEFAULT);
        hid_t t = a >= 0 ? H5Aget_type(a) : -1;
        if (t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) > 0) {
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            char *s = NULL;
            if (H5Aread(a, mt, &s) >= 0 && s) {
                out = strdup(s);
                H5free_memory(s);
            }
            H5Tclose(mt);
        }
        if (t >= 0) H5Tclose(t);
        if (a >= 0) H5Aclose(a);
    }
    H5Fclose(f);
    return out;
}

/* 0: nothing is in the way, or (force) an earlier export that may be
 * replaced; 2 after saying on stderr why not. */
static int check_destination(const char *in, const char *h5path, const char *jsonpath, int force) {
    struct stat si, st;
    if (stat(in, &si) != 0) memset(&si, 0, sizeof si);
    int have_h5 = lstat(h5path, &st) == 0, have_json = lstat(jsonpath, &st) == 0;
    if (!have_h5 && !have_json) return 0;
    const char *both[2] = {h5path, jsonpath};
    for (int k = 0; k < 2; k++)
        if (same_file(&si, both[k])) {
            fprintf(stderr, "rql export: %s is the run log being exported: not written over\n", both[k]);
            return 2;
        }
    if (!force) {
        fprintf(stderr, "rql export: %s exists (--force replaces an earlier rql export)\n",
                have_h5 ? h5path : jsonpath);
        return 2;
    }
    if (!have_h5) {
        fprintf(stderr, "rql export: %s exists without main_data.hdf5 beside it: not an earlier rql export, "
                        "not replaced\n", jsonpath);
        return 2;
    }
    int is_h5;
    char *fmt = h5_format(h5path, &is_h5);
    int ok = fmt && !strcmp(fmt, EXPORT_FORMAT);
    if (!ok) {
        const char *what = !is_h5 ? "not an HDF5 file"
                           : !fmt ? "an HDF5 file that rql export did not write"
                           : !strcmp(fmt, RLOG_FORMAT) ? "an rql run log"
                           : !strcmp(fmt, "rql-checkpoint") ? "an rql checkpoint"
                           : "an HDF5 file that rql export did not write";
        fprintf(stderr, "rql export: %s is %s: not replaced, even with --force\n", h5path, what);
    }
    free(fmt);
    if (!ok) return 2;
    if (have_json) {   /* metadata.json of that export: JSON text, not anything else */
        FILE *f = fopen(jsonpath, "r");
        int c = ' ';
        while (f && (c = fgetc(f)) != EOF && (c == ' ' || c == '\n' || c == '\t' || c == '\r')) {}
        if (f) fclose(f);
        if (!f || c != '{') {
            fprintf(stderr, "rql export: %s is not a JSON object: not replaced, even with --force\n", jsonpath);
            return 2;
        }
    }
    return 0;
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- metadata.json ----------------------------------------------------------------- */

/* Keys in the order Minari's storage writes them: MinariStorage.new, then
 * update_metadata(dataset metadata), then update_episodes' counts and size. */
static void write_metadata(FILE *f, const char *id, int64_t nep, int64_t total, const char *obs_space,
                           const char *act_space, const rlog_info *info, const char *in, double size_mb) {
    char desc[1024];
    snprintf(desc, sizeof desc, "Episodes recorded by rql in run %s (%s) on %s, seed %ld; exported from %s.",
             info->label, info->agent, info->env, info->seed, in);
    fprintf(f, "{\"total_episodes\": %lld, \"total_steps\": %lld, \"data_format\": \"hdf5\", ", (long long)nep,
            (long long)total);
    fputs("\"observation_space\": ", f); json_str(f, obs_space);
    fputs(", \"action_space\": ", f); json_str(f, act_space);
    fputs(", \"dataset_id\": ", f); json_str(f, id);
    fputs(", \"algorithm_name\": ", f); json_str(f, info->agent);
    fputs(", \"description\": ", f); json_str(f, desc);
    fputs(", \"minari_version\": \"" MINARI_VERSION "\"", f);
    fprintf(f, ", \"dataset_size\": %.1f", size_mb);
    fputs(", \"rql\": {\"rql_version\": \"" RQL_VERSION "\", \"source\": ", f); json_str(f, in);
    fputs(", \"env\": ", f); json_str(f, info->env);
    fputs(", \"agent\": ", f); json_str(f, info->agent);
    fputs(", \"label\": ", f); json_str(f, info->label);
    fprintf(f, ", \"seed\": %ld", info->seed);
    fputs(", \"config\": ", f); json_str(f, info->config);
    fputs("}}", f);
}

/* namespace_metadata.json "{}" as DataCollector.create_dataset leaves it
 * (create_namespace), only when the namespace has none. */
static void touch_namespace(const char *root, const char *id) {
    const char *slash = strrchr(id, '/');
    if (!slash) return;
    char *p = NULL;
    if (asprintf(&p, "%s/%.*s/namespace_metadata.json", root, (int)(slash - id), id) < 0) return;
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd >= 0) {
        if (write(fd, "{}", 2) != 2) fprintf(stderr, "rql export: warning: cannot write %s\n", p);
        close(fd);
    }
    free(p);
}

int cmd_export(int argc, char **argv) {
    const char *in = NULL, *root = NULL, *want_id = NULL;
    int force = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--minari") && i + 1 < argc) root = argv[++i];
        else if (!strcmp(a, "--dataset-id") && i + 1 < argc) want_id = argv[++i];
        else if (!strcmp(a, "--force")) force = 1;
        else if (rql_one_path("export", a, &in, usage)) return 2;
    }
    if (!in || !root || !root[0]) {
        fprintf(stderr, "rql export: %s\n", !in ? "no run log given" : "say where with --minari ROOT (a folder)");
        usage(stderr);
        return 2;
    }
    char why[256];
    if (want_id && check_dataset_id(want_id, why, sizeof why)) {
        fprintf(stderr, "rql export: --dataset-id '%s' %s\n", want_id, why);
        return 2;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    rlog_info info;
    if (rlog_read_info(in, &info) < 0) {
        fprintf(stderr, "rql export: %s\n", rql_error());
        return 2;
    }
    char *id = want_id ? strdup(want_id) : default_dataset_id(&info);
    char *ddir = NULL, *h5path = NULL, *jsonpath = NULL, *h5tmp = NULL, *jsontmp = NULL;
    char *obs_space = NULL, *act_space = NULL;
    rlog_file *f = NULL;
    steps_t s;
    memset(&s, 0, sizeof s);
    int rc = 2;
    hid_t of = -1, boolt = -1, fcpl = -1, fapl = -1;
    int64_t *idx = NULL;
    ep_buf b = {0};
    FILE *jf = NULL;
    if (!id || asprintf(&ddir, "%s/%s/data", root, id) < 0 || asprintf(&h5path, "%s/main_data.hdf5", ddir) < 0 ||
        asprintf(&jsonpath, "%s/metadata.json", ddir) < 0 ||
        asprintf(&h5tmp, "%s/.main_data.hdf5.rql-%ld", ddir, (long)getpid()) < 0 ||
        asprintf(&jsontmp, "%s/.metadata.json.rql-%ld", ddir, (long)getpid()) < 0) {
        fprintf(stderr, "rql export: out of memory\n");
        rc = 1;
        goto out;
    }
    if (!want_id && check_dataset_id(id, why, sizeof why)) {
        fprintf(stderr, "rql export: the default dataset id '%s' %s: give one with --dataset-id\n", id, why);
        goto out;
    }
    struct stat st;
    if (stat(root, &st) == 0 && !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "rql export: --minari %s is a file, not a folder (the Minari datasets root)\n", root);
        goto out;
    }
    if ((rc = check_destination(in, h5path, jsonpath, force))) goto out;
    rc = 2;

    f = rlog_file_open(in);
    if (!f || steps_read(f, &s)) {
        fprintf(stderr, "rql export: %s\n", rql_error());
        goto out;
    }
    if (s.rows == 0) {
        fprintf(stderr, "rql export: %s: /steps is empty: no recorded episodes (record some with "
                        "eval.record in the config or rql eval --record)\n", in);
        goto out;
    }
    if (info.n_actions < 1) {
        fprintf(stderr, "rql export: %s: root attribute n_actions is %d\n", in, info.n_actions);
        goto out;
    }
    idx = malloc((size_t)s.rows * sizeof *idx);
    if (!idx) { fprintf(stderr, "rql export: out of memory\n"); rc = 1; goto out; }
    for (int64_t i = 0; i < s.rows; i++) idx[i] = i;
    qsort_r(idx, (size_t)s.rows, sizeof *idx, cmp_row, &s);
    int64_t longest = 0, nep = 0;
    for (int64_t a = 0, e; a < s.rows; a = e) {
        for (e = a; e < s.rows && s.episode[idx[e]] == s.episode[idx[a]]; e++) {}
        if (e - a > longest) longest = e - a;
        nep++;
    }
    b.obs = malloc((size_t)(longest + 1) * (size_t)s.obs * sizeof *b.obs);
    b.act = malloc((size_t)longest * sizeof *b.act);
    b.rew = malloc((size_t)longest * sizeof *b.rew);
    b.term = malloc((size_t)longest);
    b.trunc = malloc((size_t)longest);
    boolt = rlog_bool_type();
    obs_space = box_json(s.obs);
    act_space = discrete_json(info.n_actions);
    if (!b.obs || !b.act || !b.rew || !b.term || !b.trunc || boolt < 0 || !obs_space || !act_space) {
        fprintf(stderr, "rql export: out of memory\n");
        rc = 1;
        goto out;
    }

    errno = 0;
    int mk = rql_mkdirs(ddir) ? errno : !is_dir(ddir) ? ENOTDIR : 0;
    if (mk) {
        fprintf(stderr, "rql export: cannot create the folder %s: %s\n", ddir, strerror(mk));
        rc = 1;
        goto out;
    }
    /* h5py File(..., track_order=True), as update_episodes opens it */
    fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    unlink(h5tmp);
    /* the newest file format, like the log (HDF5 >= 1.10 reads it): its
     * compact groups and chunk indexes make a file a third the size */
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    of = H5Fcreate(h5tmp, H5F_ACC_EXCL, fcpl, fapl);
    if (of < 0) { fprintf(stderr, "rql export: %s: cannot create the file\n", h5tmp); rc = 1; goto out; }
    int64_t total = 0, cut = 0;
    for (int64_t a = 0, e, i = 0; a < s.rows; a = e, i++) {
        for (e = a; e < s.rows && s.episode[idx[e]] == s.episode[idx[a]]; e++) {}
        int was_cut = 0;
        if (fill_episode(in, &s, info.n_actions, idx + a, e - a, &b, &was_cut)) goto out;
        if (write_episode(of, i, s.episode[idx[a]], e - a, s.obs, boolt, &b)) { rc = 1; goto out; }
        total += e - a;
        cut += was_cut;
    }
    /* Provenance on the root (Minari reads only the episode groups). */
    if (attr_str(of, "format", EXPORT_FORMAT) || attr_str(of, "rql_version", RQL_VERSION) ||
        attr_str(of, "source", in) || attr_str(of, "env", info.env) || attr_str(of, "agent", info.agent) ||
        attr_str(of, "label", info.label) || attr_i64(of, "seed", info.seed)) {
        fprintf(stderr, "rql export: %s: cannot write the root attributes\n", h5tmp);
        rc = 1;
        goto out;
    }
    if (H5Fclose(of) < 0) {
        of = -1;
        fprintf(stderr, "rql export: %s: cannot close the file\n", h5tmp);
        rc = 1;
        goto out;
    }
    of = -1;

    /* dataset_size: MinariStorage.get_size, the data folder's files in MB
     * rounded to 0.1 (the metadata itself is a few hundred bytes of it). */
    struct stat hs;
    double size_mb = stat(h5tmp, &hs) == 0 ? round((double)hs.st_size / 1e6 * 10) / 10 : 0;
    jf = fopen(jsontmp, "wx");
    if (!jf) { fprintf(stderr, "rql export: %s: %s\n", jsontmp, strerror(errno)); rc = 1; goto out; }
    write_metadata(jf, id, nep, total, obs_space, act_space, &info, in, size_mb);
    int werr = ferror(jf);
    if (fclose(jf) || werr) {
        jf = NULL;
        fprintf(stderr, "rql export: %s: write failed\n", jsontmp);
        rc = 1;
        goto out;
    }
    jf = NULL;
    /* main_data.hdf5 first: HDF5Storage refuses a folder without it */
    if (rename(h5tmp, h5path) || rename(jsontmp, jsonpath)) {
        fprintf(stderr, "rql export: cannot move the dataset into %s: %s\n", ddir, strerror(errno));
        rc = 1;
        goto out;
    }
    touch_namespace(root, id);
    printf("%s/%s: %lld episodes, %lld steps from %s (%s, seed %ld)\n", root, id, (long long)nep, (long long)total,
           in, info.label, info.seed);
    if (cut)
        printf("  %lld episode%s ended with neither termination nor truncation (the log was cut): "
               "marked truncated at its last step, as Minari's DataCollector does\n",
               (long long)cut, cut == 1 ? "" : "s");
    printf("  load it: MINARI_DATASETS_PATH=%s python3 -c 'import minari; print(minari.load_dataset(\"%s\"))'\n",
           root, id);
    rc = 0;
out:
    if (of >= 0) H5Fclose(of);
    if (jf) fclose(jf);
    if (h5tmp) unlink(h5tmp);       /* never leave half an export behind */
    if (jsontmp) unlink(jsontmp);
    if (fcpl >= 0) H5Pclose(fcpl);
    if (fapl >= 0) H5Pclose(fapl);
    if (boolt >= 0) H5Tclose(boolt);
    free(b.obs); free(b.act); free(b.rew); free(b.term); free(b.trunc); free(idx);
    free(obs_space); free(act_space);
    free(id); free(ddir); free(h5path); free(jsonpath); free(h5tmp); free(jsontmp);
    steps_free(&s);
    rlog_file_close(f);
    rlog_info_free(&info);
    return rc;
}
