/* compare — run logs read, grouped by label (or sweep cell) and compared
 * (see compare.h); the folder walk that finds the logs. Printing is in
 * compare_print.c. */
#define _GNU_SOURCE
#include "stats/compare.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log/rlog.h"
#include "util/util.h"

/* ---- comparing run logs ---------------------------------------------------------- */

static void run_free(stats_run *r) {
    free(r->path);
    free(r->label);
    free(r->agent);
    free(r->env);
    free(r->status);
    free(r->cell);
    memset(r, 0, sizeof *r);
}

void stats_comparison_free(stats_comparison *c) {
    if (!c) return;
    for (int i = 0; i < c->nruns; i++) run_free(&c->runs[i]);
    for (int i = 0; i < c->nbad; i++) free(c->bad[i]);
    free(c->bad);
    for (int g = 0; g < c->ngroups; g++) {
        free(c->groups[g].runs);
        for (int k = 0; c->groups[g].values && k < c->nkeys; k++) free(c->groups[g].values[k]);
        free(c->groups[g].values);
    }
    for (int k = 0; k < c->nkeys; k++) {
        free(c->keys[k]);
        free(c->names[k]);
    }
    free(c->keys);
    free(c->names);
    free(c->runs);
    free(c->groups);
    free(c->pairs);
    free(c);
}

/* One run's numbers from its log. */
static int load_run(const char *path, double threshold, stats_run *r, char *err, size_t cap) {
    rlog_file *f = rlog_file_open(path);
    if (!f) return rql_failf(err, cap, "%s", rql_error());
    int rc = -1;
    double *at = NULL, *sr = NULL, *ret = NULL;
    int64_t n1, n2, n3;
    r->path = strdup(path);
    if (rlog_attr_str(f, "label", &r->label) || rlog_attr_str(f, "agent", &r->agent) ||
        rlog_attr_str(f, "env", &r->env) || rlog_attr_i64(f, "seed", &r->seed)) {
        rql_failf(err, cap, "%s", rql_error());
        goto out;
    }
    if (rlog_attr_str(f, "status", &r->status)) r->status = strdup("");
    if (rlog_attr_str(f, "sweep", &r->cell)) r->cell = strdup("");
    if (!r->status || !r->cell) {
        rql_failf(err, cap, "out of memory");
        goto out;
    }
    if (rlog_read_f64(f, "eval/at_episode", &at, &n1) || rlog_read_f64(f, "eval/success_rate", &sr, &n2) ||
        rlog_read_f64(f, "eval/return_mean", &ret, &n3)) {
        rql_failf(err, cap, "%s", rql_error());
        goto out;
    }
    int64_t k = rlog_table_rows(f, "eval");           /* shortest column: a killed writer's ragged table */
    if (k == 0) {
        rql_failf(err, cap, "%s: /eval is empty: the run has no greedy evaluation to compare", path);
        goto out;
    }
    r->episodes = rlog_table_rows(f, "curves");
    r->n_evals = (int)k;
    r->final_success = sr[k - 1];
    r->final_return = ret[k - 1];
    r->solve_episode = stats_first_reach(at, sr, (int)k, threshold);
    r->auc = stats_auc(at, sr, (int)k);
    if (isnan(r->auc)) {
        rql_failf(err, cap, "%s: /eval/at_episode does not increase: no learning curve to integrate", path);
        goto out;
    }
    rc = 0;
out:
    free(at);
    free(sr);
    free(ret);
    rlog_file_close(f);
    return rc;
}

/* ---- sweeps: cells and their values ------------------------------------------------ */

/* Next "KEY = VALUE" line of a cell text: the key and the value as text
 * (a string literal unquoted). 0 while there is a line. */
static int cell_next(const char **p, char *key, size_t kn, char *val, size_t vn) {
    while (**p == '\n') (*p)++;
    if (!**p) return -1;
    const char *e = strchr(*p, '\n'), *end = e ? e : *p + strlen(*p);
    const char *eq = strstr(*p, " = ");
    if (!eq || eq > end) eq = end;
    snprintf(key, kn, "%.*s", (int)(eq - *p), *p);
    const char *v = eq < end ? eq + 3 : end;
    size_t k = 0;
    if (*v == '"') {
        for (v++; v < end && *v != '"' && k + 1 < vn; v++) {
            if (*v == '\\' && v + 1 < end) v++;
            val[k++] = *v;
        }
    } else
        for (; v < end && k + 1 < vn; v++) val[k++] = *v;
    val[k] = 0;
    *p = end;
    return 0;
}

/* Numbers before words, numbers by value, words by strcmp. */
static int value_cmp(const char *a, const char *b) {
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    int na = *a && !*ea, nb = *b && !*eb;
    if (na && nb) return x < y ? -1 : x > y;
    if (na != nb) return na ? -1 : 1;
    return strcmp(a, b);
}

static int group_cmp(const stats_comparison *c, const stats_group *a, const stats_group *b) {
    for (int k = 0; k < c->nkeys; k++) {
        int d = value_cmp(a->values[k], b->values[k]);
        if (d) return d;
    }
    return 0;
}

/* The swept keys of the runs' cells, each group's values, short names, and
 * the groups sorted by cell (stable: agents keep their order). */
static int sweep_columns(stats_comparison *c) {
    char key[256], val[512];
    for (int i = 0; i < c->nruns; i++)
        for (const char *p = c->runs[i].cell; !cell_next(&p, key, sizeof key, val, sizeof val);) {
            int k = 0;
            while (k < c->nkeys && strcmp(c->keys[k], key)) k++;
            if (k < c->nkeys) continue;
            char **nk = realloc(c->keys, (size_t)(k + 1) * sizeof *nk);
            if (!nk) return -1;
            c->keys = nk;
            if (!(c->keys[k] = strdup(key))) return -1;
            c->nkeys = k + 1;
        }
    if (!c->nkeys) return 0;
    c->names = calloc((size_t)c->nkeys, sizeof *c->names);
    if (!c->names) return -1;
    for (int k = 0; k < c->nkeys; k++) {
        const char *dot = strrchr(c->keys[k], '.');
        const char *shrt = dot ? dot + 1 : c->keys[k];
        int clash = 0;
        for (int j = 0; j < c->nkeys; j++) {
            const char *dj = strrchr(c->keys[j], '.');
            clash |= j != k && !strcmp(dj ? dj + 1 : c->keys[j], shrt);
        }
        if (!(c->names[k] = strdup(clash ? c->keys[k] : shrt))) return -1;
    }
    for (int g = 0; g < c->ngroups; g++) {
        stats_group *G = &c->groups[g];
        if (!(G->values = calloc((size_t)c->nkeys, sizeof *G->values))) return -1;
        for (const char *p = G->cell; !cell_next(&p, key, sizeof key, val, sizeof val);)
            for (int k = 0; k < c->nkeys; k++)
                if (!strcmp(c->keys[k], key) && !G->values[k] && !(G->values[k] = strdup(val))) return -1;
        for (int k = 0; k < c->nkeys; k++)
            if (!G->values[k] && !(G->values[k] = strdup(""))) return -1;
    }
    for (int g = 1; g < c->ngroups; g++) {      /* insertion sort: stable */
        stats_group t = c->groups[g];
        int h = g;
        for (; h > 0 && group_cmp(c, &c->groups[h - 1], &t) > 0; h--) c->groups[h] = c->groups[h - 1];
        c->groups[h] = t;
    }
    return 0;
}

stats_comparison *stats_compare(const char *const *paths, int n, double threshold, char *err, size_t cap) {
    if (n < 1) return rql_failf(err, cap, "no run logs to compare"), NULL;
    stats_comparison *c = calloc(1, sizeof *c);
    if (!c) return rql_failf(err, cap, "out of memory"), NULL;
    c->threshold = threshold > 0 ? threshold : 1.0;
    c->level = 0.95;
    c->runs = calloc((size_t)n, sizeof *c->runs);
    c->groups = calloc((size_t)n, sizeof *c->groups);
    double *xs = malloc(3 * (size_t)n * sizeof *xs);
    if (!c->runs || !c->groups || !xs) {
        rql_failf(err, cap, "out of memory");
        goto bad;
    }
    double *ys = xs + n, *ws = xs + 2 * n;
    c->bad = calloc((size_t)n, sizeof *c->bad);
    if (!c->bad) {
        rql_failf(err, cap, "out of memory");
        goto bad;
    }
    char first[1024] = "";
    for (int i = 0; i < n; i++) {
        char why[1024];
        stats_run *r = &c->runs[c->nruns];
        if (load_run(paths[i], c->threshold, r, why, sizeof why) == 0) {
            c->nruns++;
            continue;
        }
        run_free(r);
        if (!first[0]) snprintf(first, sizeof first, "%s", why);
        if (!(c->bad[c->nbad] = strdup(why))) { rql_failf(err, cap, "out of memory"); goto bad; }
        c->nbad++;
    }
    if (c->nruns == 0) {
        rql_failf(err, cap, "%s", first);
        goto bad;
    }
    n = c->nruns;
    /* Groups by (sweep cell, label), in order of first appearance. */
    for (int i = 0; i < n; i++) {
        int g = 0;
        while (g < c->ngroups && (strcmp(c->groups[g].label, c->runs[i].label) ||
                                  strcmp(c->groups[g].cell, c->runs[i].cell)))
            g++;
        stats_group *G = &c->groups[g];
        if (g == c->ngroups) {
            c->ngroups++;
            G->label = c->runs[i].label;     /* borrowed from the first run */
            G->agent = c->runs[i].agent;
            G->env = c->runs[i].env;
            G->cell = c->runs[i].cell;
            G->runs = malloc((size_t)n * sizeof *G->runs);
            if (!G->runs) { rql_failf(err, cap, "out of memory"); goto bad; }
        }
        G->runs[G->n++] = i;
    }
    if (sweep_columns(c)) { rql_failf(err, cap, "out of memory"); goto bad; }
    for (int g = 0; g < c->ngroups; g++) {
        stats_group *G = &c->groups[g];
        for (int j = 0; j < G->n; j++) xs[j] = c->runs[G->runs[j]].final_success;
        stats_mean_ci(xs, G->n, c->level, &G->success);
        for (int j = 0; j < G->n; j++) xs[j] = c->runs[G->runs[j]].final_return;
        stats_mean_ci(xs, G->n, c->level, &G->ret);
        for (int j = 0; j < G->n; j++) xs[j] = c->runs[G->runs[j]].auc;
        stats_mean_ci(xs, G->n, c->level, &G->auc);
        G->n_solved = 0;
        for (int j = 0; j < G->n; j++) {
            xs[j] = c->runs[G->runs[j]].solve_episode;
            G->n_solved += !isinf(xs[j]);
        }
        stats_median_iqr(xs, G->n, ws, &G->solve_median, &G->solve_q1, &G->solve_q3);
    }
    int np = c->ngroups * (c->ngroups - 1) / 2;
    c->pairs = calloc(np ? (size_t)np : 1, sizeof *c->pairs);
    if (!c->pairs) { rql_failf(err, cap, "out of memory"); goto bad; }
    for (int a = 0; a < c->ngroups; a++)
        for (int b = a + 1; b < c->ngroups; b++) {
            if (strcmp(c->groups[a].cell, c->groups[b].cell)) continue;   /* sweeps: agents within a cell */
            stats_pair *P = &c->pairs[c->npairs++];
            P->a = a;
            P->b = b;
            const stats_group *A = &c->groups[a], *B = &c->groups[b];
            for (int j = 0; j < A->n; j++) xs[j] = c->runs[A->runs[j]].final_success;
            for (int j = 0; j < B->n; j++) ys[j] = c->runs[B->runs[j]].final_success;
            stats_welch(xs, A->n, ys, B->n, &P->w);
        }
    free(xs);
    return c;
bad:
    free(xs);
    stats_comparison_free(c);
    return NULL;
}

/* ---- finding logs ------------------------------------------------------------------- */

typedef struct {
    char **v;
    int n, cap;
} strvec;

static int push(strvec *s, const char *p) {
    if (s->n == s->cap) {
        int nc = s->cap ? 2 * s->cap : 16;
        char **nv = realloc(s->v, (size_t)nc * sizeof *nv);
        if (!nv) return -1;
        s->v = nv;
        s->cap = nc;
    }
    if (!(s->v[s->n] = strdup(p))) return -1;
    s->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A log, or a *.h5 that may be one but cannot be read (reported later by
 * stats_compare); not an HDF5 file that opens and says it is something else. */
static int is_run_log(const char *path) {
    size_t n = strlen(path);
    if (!((n > 3 && !strcmp(path + n - 3, ".h5")) || (n > 5 && !strcmp(path + n - 5, ".hdf5")))) return 0;
    rlog_file *f = rlog_file_open(path);
    rlog_file_close(f);
    if (f) return 1;
    return !rlog_is_foreign(path);
}

static int walk(const char *dir, strvec *out, int depth, char *err, size_t cap) {
    if (depth > 32) return rql_failf(err, cap, "%s: folders nested too deep", dir);
    DIR *d = opendir(dir);
    if (!d) return rql_failf(err, cap, "%s: %s", dir, strerror(errno));
    strvec names = {0};
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && push(&names, e->d_name)) { rc = rql_failf(err, cap, "out of memory"); break; }
    closedir(d);
    if (names.n) qsort(names.v, (size_t)names.n, sizeof *names.v, cmp_str);
    for (int i = 0; !rc && i < names.n; i++) {
        char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, names.v[i]) < 0) { rc = rql_failf(err, cap, "out of memory"); break; }
        struct stat st;
        if (stat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode)) rc = walk(p, out, depth + 1, err, cap);
            else if (S_ISREG(st.st_mode) && is_run_log(p) && push(out, p)) rc = rql_failf(err, cap, "out of memory");
        }
        free(p);
    }
    stats_free_paths(names.v, names.n);
    return rc;
}

int stats_collect_paths(const char *const *args, int nargs, char ***out, char *err, size_t cap) {
    strvec v = {0};
    *out = NULL;
    for (int i = 0; i < nargs; i++) {
        struct stat st;
        if (stat(args[i], &st) != 0) {
            rql_failf(err, cap, "%s: %s", args[i], strerror(errno));
            goto bad;
        }
        if (S_ISDIR(st.st_mode)) {
            int before = v.n;
            if (walk(args[i], &v, 0, err, cap)) goto bad;
            if (v.n == before) {
                rql_failf(err, cap, "%s: no rql run logs (*.h5 with root attribute format = \"rql-log\") in this folder",
                      args[i]);
                goto bad;
            }
        } else if (push(&v, args[i])) {
            rql_failf(err, cap, "out of memory");
            goto bad;
        }
    }
    *out = v.v;
    return v.n;
bad:
    stats_free_paths(v.v, v.n);
    return -1;
}

void stats_free_paths(char **paths, int n) {
    for (int i = 0; paths && i < n; i++) free(paths[i]);
    free(paths);
}
