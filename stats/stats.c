/* stats — comparison statistics across seeds (see stats.h for the
 * definitions and the degenerate cases). */
#define _GNU_SOURCE
#include "stats/stats.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>

#include "log/rlog.h"
#include "util/util.h"


/* ---- pure statistics ------------------------------------------------------------ */

int stats_mean_ci(const double *x, int n, double level, stats_ci *o) {
    if (n < 0 || !(level > 0 && level < 1)) return -1;
    o->n = n;
    o->level = level;
    o->mean = o->sd = o->half = NAN;
    if (n == 0) return 0;
    o->mean = gsl_stats_mean(x, 1, (size_t)n);
    if (n < 2) return 0;                          /* one seed: no spread to estimate */
    o->sd = gsl_stats_sd_m(x, 1, (size_t)n, o->mean);
    double tq = gsl_cdf_tdist_Pinv(1 - (1 - level) / 2, n - 1);
    o->half = o->sd == 0 ? 0 : tq * o->sd / sqrt((double)n);
    return 0;
}

int stats_welch(const double *a, int na, const double *b, int nb, stats_welch_result *o) {
    if (na < 0 || nb < 0) return -1;
    o->n_a = na;
    o->n_b = nb;
    o->mean_a = na ? gsl_stats_mean(a, 1, (size_t)na) : NAN;
    o->mean_b = nb ? gsl_stats_mean(b, 1, (size_t)nb) : NAN;
    o->var_a = na > 1 ? gsl_stats_variance_m(a, 1, (size_t)na, o->mean_a) : NAN;
    o->var_b = nb > 1 ? gsl_stats_variance_m(b, 1, (size_t)nb, o->mean_b) : NAN;
    o->t = o->df = o->p = NAN;
    if (na < 2 || nb < 2) return 0;               /* no variance estimate for a group */
    double sa = o->var_a / na, sb = o->var_b / nb, se2 = sa + sb;
    double diff = o->mean_a - o->mean_b;
    if (se2 == 0) {
        /* Both groups constant: the difference (or its absence) is exact. */
        o->t = diff == 0 ? 0 : diff > 0 ? INFINITY : -INFINITY;
        o->p = diff == 0 ? 1 : 0;
        return 0;
    }
    o->t = diff / sqrt(se2);
    o->df = se2 * se2 / (sa * sa / (na - 1) + sb * sb / (nb - 1));
    o->p = 2 * gsl_cdf_tdist_Q(fabs(o->t), o->df);
    if (o->p > 1) o->p = 1;
    return 0;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

double stats_quantile(const double *x, int n, double p, double *ws) {
    if (n <= 0) return NAN;
    memcpy(ws, x, (size_t)n * sizeof *ws);
    qsort(ws, (size_t)n, sizeof *ws, cmp_double);
    double h = (n - 1) * p;
    int lo = (int)floor(h);
    if (lo >= n - 1) return ws[n - 1];
    double frac = h - lo;
    /* gsl_stats_quantile_from_sorted_data computes (1-f)*a + f*b, which is
     * NaN for f = 0 and b = inf: "never solved" seeds need the exact rule. */
    if (frac == 0) return ws[lo];
    if (isinf(ws[lo + 1]) || isinf(ws[lo])) return INFINITY;
    return ws[lo] + frac * (ws[lo + 1] - ws[lo]);
}

void stats_median_iqr(const double *x, int n, double *ws, double *median, double *q1, double *q3) {
    *median = stats_quantile(x, n, 0.5, ws);
    *q1 = stats_quantile(x, n, 0.25, ws);
    *q3 = stats_quantile(x, n, 0.75, ws);
}

double stats_auc(const double *x, const double *y, int k) {
    if (k <= 0) return NAN;
    if (k == 1) return y[0];
    double area = 0;
    for (int i = 1; i < k; i++) {
        if (!(x[i] > x[i - 1])) return NAN;
        area += 0.5 * (y[i] + y[i - 1]) * (x[i] - x[i - 1]);
    }
    return area / (x[k - 1] - x[0]);
}

double stats_first_reach(const double *x, const double *y, int k, double threshold) {
    for (int i = 0; i < k; i++)
        if (y[i] >= threshold) return x[i];
    return INFINITY;
}

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

/* ---- printing ------------------------------------------------------------------- */

static void fmt_ci(char *buf, size_t cap, const stats_ci *ci, int prec) {
    if (isnan(ci->mean)) snprintf(buf, cap, "n/a");
    else if (isnan(ci->half)) snprintf(buf, cap, "%.*f (n=1)", prec, ci->mean);
    else snprintf(buf, cap, "%.*f ± %.*f", prec, ci->mean, prec, ci->half);
}

static void fmt_ep(char *buf, size_t cap, double x) {
    if (isinf(x)) snprintf(buf, cap, "never");
    else if (isnan(x)) snprintf(buf, cap, "n/a");
    else snprintf(buf, cap, "%.0f", x);
}

static void fmt_p(char *buf, size_t cap, double p) {
    if (isnan(p)) snprintf(buf, cap, "n/a");
    else if (p < 1e-4) snprintf(buf, cap, "%.1e", p);
    else snprintf(buf, cap, "%.4f", p);
}

/* Printed width of a UTF-8 string (continuation bytes take no column). */
static int u8width(const char *s) {
    int w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void pad(FILE *o, const char *s, int width) {
    fputs(s, o);
    for (int i = u8width(s); i < width; i++) fputc(' ', o);
}

/* "length=8,cell=gru" of a group. */
static void cell_label(const stats_comparison *c, const stats_group *G, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < c->nkeys && k < n; i++) {
        int w = snprintf(buf + k, n - k, "%s%s=%s", i ? "," : "", c->names[i], G->values[i]);
        if (w < 0) break;
        k += (size_t)w;
    }
}

/* The table of groups, one row each: the swept keys' values (kw: their
 * column widths; NULL without a sweep), agent, type, seeds, final success
 * and return, episodes to solve, seeds solved, AUC. Returns the width of
 * the agent column, for the tables below it. */
static int group_rows(const stats_comparison *c, FILE *o, const int *kw) {
    int lw = 5;
    for (int g = 0; g < c->ngroups; g++)
        if (u8width(c->groups[g].label) > lw) lw = u8width(c->groups[g].label);
    for (int k = 0; kw && k < c->nkeys; k++) pad(o, c->names[k], kw[k] + 2);
    pad(o, "agent", lw + 2);
    fprintf(o, "%-6s%-7s", "type", "seeds");
    pad(o, "final success", 22);
    pad(o, "final return", 22);
    pad(o, "episodes to solve [IQR]", 30);
    pad(o, "solved", 8);
    fprintf(o, "AUC\n");
    char s1[64], s2[64], s3[96], s4[64], m[24], q1[24], q3[24];
    for (int g = 0; g < c->ngroups; g++) {
        const stats_group *G = &c->groups[g];
        for (int k = 0; kw && k < c->nkeys; k++) pad(o, G->values[k], kw[k] + 2);
        fmt_ci(s1, sizeof s1, &G->success, 3);
        fmt_ci(s2, sizeof s2, &G->ret, 3);
        fmt_ep(m, sizeof m, G->solve_median);
        fmt_ep(q1, sizeof q1, G->solve_q1);
        fmt_ep(q3, sizeof q3, G->solve_q3);
        snprintf(s3, sizeof s3, "%s [%s, %s]", m, q1, q3);
        snprintf(s4, sizeof s4, "%d/%d", G->n_solved, G->n);
        pad(o, G->label, lw + 2);
        fprintf(o, "%-6s%-7d", G->agent, G->n);
        pad(o, s1, 22);
        pad(o, s2, 22);
        pad(o, s3, 30);
        pad(o, s4, 8);
        fmt_ci(s1, sizeof s1, &G->auc, 3);
        fprintf(o, "%s\n", s1);
    }
    return lw;
}

/* A sweep: one row per (cell, agent) with the swept values in front, the
 * grid of seeds solved (cell x agent), and Welch's test within each cell. */
static void print_table_sweep(const stats_comparison *c, FILE *o) {
    /* distinct labels, in order of first appearance */
    int nl = 0;
    const char **labels = malloc((size_t)c->ngroups * sizeof *labels);
    if (!labels) return;
    for (int g = 0; g < c->ngroups; g++) {
        int k = 0;
        while (k < nl && strcmp(labels[k], c->groups[g].label)) k++;
        if (k == nl) labels[nl++] = c->groups[g].label;
    }
    int ncells = 0;
    for (int g = 0; g < c->ngroups; g++) ncells += g == 0 || strcmp(c->groups[g].cell, c->groups[g - 1].cell);
    const char *env = c->ngroups ? c->groups[0].env : "";
    for (int i = 0; i < c->nruns; i++)
        if (strcmp(c->runs[i].env, env)) env = "several envs";
    fprintf(o, "rql compare: %d runs of a sweep, %d cells x %d agents on %s; swept:", c->nruns, ncells, nl, env);
    for (int k = 0; k < c->nkeys; k++) fprintf(o, " %s", c->keys[k]);
    fprintf(o, "\nfinal = last greedy evaluation; mean ± 95%% CI (t); solved = first evaluation with success >= %.2f;\n"
               "AUC = time-averaged greedy success\n\n", c->threshold);
    int *kw = malloc((size_t)c->nkeys * sizeof *kw);
    if (!kw) { free(labels); return; }
    for (int k = 0; k < c->nkeys; k++) {
        kw[k] = u8width(c->names[k]);
        for (int g = 0; g < c->ngroups; g++)
            if (u8width(c->groups[g].values[k]) > kw[k]) kw[k] = u8width(c->groups[g].values[k]);
    }
    int lw = group_rows(c, o, kw);
    /* seeds solved, cell x agent */
    fprintf(o, "\nseeds solved (final greedy success, mean over seeds):\n");
    int cw = 0;
    for (int l = 0; l < nl; l++) cw = u8width(labels[l]) > cw ? u8width(labels[l]) : cw;
    cw = cw < 14 ? 14 : cw;
    for (int k = 0; k < c->nkeys; k++) pad(o, c->names[k], kw[k] + 2);
    for (int l = 0; l < nl; l++) pad(o, labels[l], cw + 2);
    fputc('\n', o);
    for (int g = 0; g < c->ngroups;) {
        int h = g;
        while (h < c->ngroups && !strcmp(c->groups[h].cell, c->groups[g].cell)) h++;
        for (int k = 0; k < c->nkeys; k++) pad(o, c->groups[g].values[k], kw[k] + 2);
        for (int l = 0; l < nl; l++) {
            char cellv[64] = "-";
            for (int j = g; j < h; j++)
                if (!strcmp(c->groups[j].label, labels[l]))
                    snprintf(cellv, sizeof cellv, "%d/%d (%.2f)", c->groups[j].n_solved, c->groups[j].n,
                             c->groups[j].success.mean);
            pad(o, cellv, cw + 2);
        }
        fputc('\n', o);
        g = h;
    }
    int unfinished = 0;
    for (int i = 0; i < c->nruns; i++) unfinished += strcmp(c->runs[i].status, "complete") != 0;
    if (unfinished) fprintf(o, "\nnote: %d of %d runs are not complete (their final = their last evaluation so far)\n",
                            unfinished, c->nruns);
    if (c->npairs) {
        fprintf(o, "\nWelch's t test on final success, agents within each cell (two-sided):\n");
        int vw = 0;
        for (int g = 0; g < c->ngroups; g++) {
            char kv[1024];
            cell_label(c, &c->groups[g], kv, sizeof kv);
            if (u8width(kv) > vw) vw = u8width(kv);
        }
        for (int i = 0; i < c->npairs; i++) {
            const stats_pair *P = &c->pairs[i];
            const stats_group *A = &c->groups[P->a];
            char pv[24], df[24];
            fmt_p(pv, sizeof pv, P->w.p);
            if (isnan(P->w.df)) snprintf(df, sizeof df, "n/a");
            else snprintf(df, sizeof df, "%.1f", P->w.df);
            char kv[1024];
            cell_label(c, A, kv, sizeof kv);
            fprintf(o, "  ");
            pad(o, kv, vw);
            fprintf(o, "  ");
            pad(o, A->label, lw);
            fprintf(o, " vs ");
            pad(o, c->groups[P->b].label, lw);
            fprintf(o, "  diff %+.3f  t %7.3f  df %5s  p %s%s\n", P->w.mean_a - P->w.mean_b, P->w.t, df, pv,
                    P->w.p < 0.001 ? " ***" : P->w.p < 0.01 ? " **" : P->w.p < 0.05 ? " *" : "");
        }
    }
    free(kw);
    free(labels);
}

static void print_table(const stats_comparison *c, FILE *o) {
    if (c->nkeys) {
        print_table_sweep(c, o);
        return;
    }
    const char *env = c->ngroups ? c->groups[0].env : "";
    for (int i = 0; i < c->nruns; i++)
        if (strcmp(c->runs[i].env, env)) env = "several envs (compare like with like)";
    fprintf(o, "rql compare: %d runs, %d agents on %s; final = last greedy evaluation; mean ± 95%% CI (t);\n"
               "solved = first evaluation with success >= %.2f; AUC = time-averaged greedy success\n\n",
            c->nruns, c->ngroups, env, c->threshold);
    int lw = group_rows(c, o, NULL);
    int unfinished = 0;
    for (int i = 0; i < c->nruns; i++) unfinished += strcmp(c->runs[i].status, "complete") != 0;
    if (unfinished) {
        fprintf(o, "\nnote: %d of %d runs are not complete (their final = their last evaluation so far):", unfinished,
                c->nruns);
        for (int i = 0, k = 0; i < c->nruns && k < 5; i++)
            if (strcmp(c->runs[i].status, "complete")) {
                fprintf(o, "%s %s (%s)", k ? "," : "", c->runs[i].path, c->runs[i].status[0] ? c->runs[i].status : "no status");
                k++;
            }
        fprintf(o, "%s\n", unfinished > 5 ? ", ..." : "");
    }
    if (c->npairs) {
        fprintf(o, "\nWelch's t test on final success (two-sided):\n");
        for (int i = 0; i < c->npairs; i++) {
            const stats_pair *P = &c->pairs[i];
            char pv[24], df[24];
            fmt_p(pv, sizeof pv, P->w.p);
            if (isnan(P->w.df)) snprintf(df, sizeof df, "n/a");
            else snprintf(df, sizeof df, "%.1f", P->w.df);
            fprintf(o, "  ");
            pad(o, c->groups[P->a].label, lw);
            fprintf(o, " vs ");
            pad(o, c->groups[P->b].label, lw);
            fprintf(o, "  diff %+.3f  t %7.3f  df %5s  p %s%s\n", P->w.mean_a - P->w.mean_b, P->w.t, df, pv,
                    P->w.p < 0.001 ? " ***" : P->w.p < 0.01 ? " **" : P->w.p < 0.05 ? " *" : "");
        }
        int degenerate = 0;
        for (int i = 0; i < c->npairs; i++) degenerate |= isnan(c->pairs[i].w.df);
        if (degenerate)
            fprintf(o, "  (df n/a: a group with one seed gives no test; two constant groups give p = 0 "
                       "if they differ, 1 if not)\n");
    }
}

/* CSV field: quoted when it holds a separator, quote or newline. */
static void csv_str(FILE *o, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) { fputs(s, o); return; }
    fputc('"', o);
    for (; *s; s++) {
        if (*s == '"') fputc('"', o);
        fputc(*s, o);
    }
    fputc('"', o);
}

/* Numbers for CSV: empty for NaN, inf for never. */
static void csv_num(FILE *o, double x) {
    if (isnan(x)) return;
    if (isinf(x)) fputs(x > 0 ? "inf" : "-inf", o);
    else fprintf(o, "%.10g", x);
}

/* One row per group; a sweep's rows start with one column per swept key
 * (named by the whole key) and its p_vs_LABEL columns compare agents of the
 * same cell. */
static void print_csv(const stats_comparison *c, FILE *o) {
    for (int k = 0; k < c->nkeys; k++) {
        csv_str(o, c->keys[k]);
        fputc(',', o);
    }
    fprintf(o, "label,agent,env,seeds,success_mean,success_ci,return_mean,return_ci,solve_median,solve_q1,"
               "solve_q3,n_solved,auc_mean,auc_ci,threshold");
    for (int g = 0; g < c->ngroups; g++) {
        int seen = 0;
        for (int h = 0; h < g; h++) seen |= !strcmp(c->groups[h].label, c->groups[g].label);
        if (seen) continue;
        fputs(",p_vs_", o);
        csv_str(o, c->groups[g].label);
    }
    fputc('\n', o);
    for (int g = 0; g < c->ngroups; g++) {
        const stats_group *G = &c->groups[g];
        for (int k = 0; k < c->nkeys; k++) {
            csv_str(o, G->values[k]);
            fputc(',', o);
        }
        csv_str(o, G->label);
        fputc(',', o);
        csv_str(o, G->agent);
        fputc(',', o);
        csv_str(o, G->env);
        fprintf(o, ",%d", G->n);
        double v[] = {G->success.mean, G->success.half, G->ret.mean, G->ret.half, G->solve_median, G->solve_q1,
                      G->solve_q3, G->n_solved, G->auc.mean, G->auc.half, c->threshold};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            fputc(',', o);
            csv_num(o, v[k]);
        }
        for (int h = 0; h < c->ngroups; h++) {
            int seen = 0;
            for (int j = 0; j < h; j++) seen |= !strcmp(c->groups[j].label, c->groups[h].label);
            if (seen) continue;
            fputc(',', o);
            /* the group of that label in this row's cell */
            int hh = -1;
            for (int j = 0; j < c->ngroups; j++)
                if (!strcmp(c->groups[j].label, c->groups[h].label) && !strcmp(c->groups[j].cell, G->cell)) hh = j;
            for (int i = 0; hh >= 0 && i < c->npairs; i++)
                if ((c->pairs[i].a == g && c->pairs[i].b == hh) || (c->pairs[i].a == hh && c->pairs[i].b == g))
                    csv_num(o, c->pairs[i].w.p);
        }
        fputc('\n', o);
    }
}

static void json_ci(FILE *o, const char *name, const stats_ci *ci) {
    fprintf(o, "\"%s\": {\"mean\": ", name);
    rql_json_num(o, ci->mean, 10);
    fputs(", \"sd\": ", o);
    rql_json_num(o, ci->sd, 10);
    fputs(", \"ci_half\": ", o);
    rql_json_num(o, ci->half, 10);
    fputs("}", o);
}

static void print_json(const stats_comparison *c, FILE *o) {
    fprintf(o, "{\n  \"threshold\": %g,\n  \"level\": %g,\n  \"groups\": [\n", c->threshold, c->level);
    for (int g = 0; g < c->ngroups; g++) {
        const stats_group *G = &c->groups[g];
        fputs("    {\"label\": ", o);
        rql_json_str(o, G->label);
        if (c->nkeys) {
            fputs(", \"cell\": {", o);
            for (int k = 0; k < c->nkeys; k++) {
                fputs(k ? ", " : "", o);
                rql_json_str(o, c->keys[k]);
                fputs(": ", o);
                rql_json_str(o, G->values[k]);
            }
            fputs("}", o);
        }
        fputs(", \"agent\": ", o);
        rql_json_str(o, G->agent);
        fputs(", \"env\": ", o);
        rql_json_str(o, G->env);
        fprintf(o, ", \"seeds\": %d, \"n_solved\": %d,\n     ", G->n, G->n_solved);
        json_ci(o, "success", &G->success);
        fputs(", ", o);
        json_ci(o, "return", &G->ret);
        fputs(",\n     ", o);
        json_ci(o, "auc", &G->auc);
        fputs(", \"solve_episodes\": {\"median\": ", o);
        rql_json_num(o, G->solve_median, 10);
        fputs(", \"q1\": ", o);
        rql_json_num(o, G->solve_q1, 10);
        fputs(", \"q3\": ", o);
        rql_json_num(o, G->solve_q3, 10);
        fputs("},\n     \"runs\": [", o);
        for (int j = 0; j < G->n; j++) {
            const stats_run *r = &c->runs[G->runs[j]];
            fputs(j ? ", " : "", o);
            fputs("{\"path\": ", o);
            rql_json_str(o, r->path);
            fputs(", \"status\": ", o);
            rql_json_str(o, r->status);
            fprintf(o, ", \"seed\": %lld, \"episodes\": %lld, \"evals\": %d, \"final_success\": ", (long long)r->seed,
                    (long long)r->episodes, r->n_evals);
            rql_json_num(o, r->final_success, 10);
            fputs(", \"final_return\": ", o);
            rql_json_num(o, r->final_return, 10);
            fputs(", \"solve_episode\": ", o);
            rql_json_num(o, r->solve_episode, 10);
            fputs(", \"auc\": ", o);
            rql_json_num(o, r->auc, 10);
            fputs("}", o);
        }
        fprintf(o, "]}%s\n", g + 1 < c->ngroups ? "," : "");
    }
    fputs("  ],\n  \"pairs\": [\n", o);
    for (int i = 0; i < c->npairs; i++) {
        const stats_pair *P = &c->pairs[i];
        fputs("    {", o);
        if (c->nkeys) {
            fputs("\"cell\": {", o);
            for (int k = 0; k < c->nkeys; k++) {
                fputs(k ? ", " : "", o);
                rql_json_str(o, c->keys[k]);
                fputs(": ", o);
                rql_json_str(o, c->groups[P->a].values[k]);
            }
            fputs("}, ", o);
        }
        fputs("\"a\": ", o);
        rql_json_str(o, c->groups[P->a].label);
        fputs(", \"b\": ", o);
        rql_json_str(o, c->groups[P->b].label);
        fputs(", \"mean_diff\": ", o);
        rql_json_num(o, P->w.mean_a - P->w.mean_b, 10);
        fputs(", \"t\": ", o);
        rql_json_num(o, P->w.t, 10);
        fputs(", \"df\": ", o);
        rql_json_num(o, P->w.df, 10);
        fputs(", \"p\": ", o);
        rql_json_num(o, P->w.p, 10);
        fprintf(o, "}%s\n", i + 1 < c->npairs ? "," : "");
    }
    fputs("  ]\n}\n", o);
}

int stats_print(const stats_comparison *c, stats_fmt fmt, FILE *out) {
    switch (fmt) {
    case STATS_FMT_TABLE: print_table(c, out); break;
    case STATS_FMT_CSV: print_csv(c, out); break;
    case STATS_FMT_JSON: print_json(c, out); break;
    default: return -1;
    }
    return ferror(out) ? -1 : 0;
}

int stats_compare_print(const char *const *paths, int n, stats_fmt fmt, FILE *out, char *err, size_t cap) {
    stats_comparison *c = stats_compare(paths, n, 1.0, err, cap);
    if (!c) return -1;
    int rc = stats_print(c, fmt, out);
    if (rc) rql_failf(err, cap, "cannot write the comparison (%s)", strerror(errno));
    else if (c->nbad) {
        if (c->nbad == 1) rc = rql_failf(err, cap, "left out of the comparison: %s", c->bad[0]);
        else rc = rql_failf(err, cap, "%d logs left out of the comparison, the first: %s", c->nbad, c->bad[0]);
    }
    stats_comparison_free(c);
    return rc ? -1 : 0;
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
