/* compare_print — the comparison of compare.c as a readable table (one row
 * per group; a sweep adds its swept values and a grid of seeds solved), CSV
 * or JSON, and Welch's tests under the table. */
#include "stats/compare.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

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

/* "  A vs B  diff ..  t ..  df ..  p .. ***": one Welch test, the labels
 * padded to lw. */
static void welch_line(const stats_comparison *c, const stats_pair *P, int lw, FILE *o) {
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

/* Runs whose status is not "complete" (their final is their last
 * evaluation so far). */
static int count_unfinished(const stats_comparison *c) {
    int n = 0;
    for (int i = 0; i < c->nruns; i++) n += strcmp(c->runs[i].status, "complete") != 0;
    return n;
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
    int unfinished = count_unfinished(c);
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
            char kv[1024];
            cell_label(c, &c->groups[c->pairs[i].a], kv, sizeof kv);
            fprintf(o, "  ");
            pad(o, kv, vw);
            welch_line(c, &c->pairs[i], lw, o);
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
    int unfinished = count_unfinished(c);
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
            welch_line(c, &c->pairs[i], lw, o);
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

/* A JSON number after its key: head is what comes before the number
 * (separator, key, colon). */
static void json_num(FILE *o, const char *head, double x) {
    fputs(head, o);
    rql_json_num(o, x, 10);
}

static void json_ci(FILE *o, const char *name, const stats_ci *ci) {
    fprintf(o, "\"%s\": {", name);
    json_num(o, "\"mean\": ", ci->mean);
    json_num(o, ", \"sd\": ", ci->sd);
    json_num(o, ", \"ci_half\": ", ci->half);
    fputs("}", o);
}

/* "cell": {"KEY": "VALUE", ...}: a sweep group's swept values. */
static void json_cell(FILE *o, const stats_comparison *c, const stats_group *G) {
    fputs("\"cell\": {", o);
    for (int k = 0; k < c->nkeys; k++) {
        fputs(k ? ", " : "", o);
        rql_json_str(o, c->keys[k]);
        fputs(": ", o);
        rql_json_str(o, G->values[k]);
    }
    fputs("}", o);
}

static void print_json(const stats_comparison *c, FILE *o) {
    fprintf(o, "{\n  \"threshold\": %g,\n  \"level\": %g,\n  \"groups\": [\n", c->threshold, c->level);
    for (int g = 0; g < c->ngroups; g++) {
        const stats_group *G = &c->groups[g];
        fputs("    {\"label\": ", o);
        rql_json_str(o, G->label);
        if (c->nkeys) {
            fputs(", ", o);
            json_cell(o, c, G);
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
        json_num(o, ", \"solve_episodes\": {\"median\": ", G->solve_median);
        json_num(o, ", \"q1\": ", G->solve_q1);
        json_num(o, ", \"q3\": ", G->solve_q3);
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
            json_num(o, ", \"final_return\": ", r->final_return);
            json_num(o, ", \"solve_episode\": ", r->solve_episode);
            json_num(o, ", \"auc\": ", r->auc);
            fputs("}", o);
        }
        fprintf(o, "]}%s\n", g + 1 < c->ngroups ? "," : "");
    }
    fputs("  ],\n  \"pairs\": [\n", o);
    for (int i = 0; i < c->npairs; i++) {
        const stats_pair *P = &c->pairs[i];
        fputs("    {", o);
        if (c->nkeys) {
            json_cell(o, c, &c->groups[P->a]);
            fputs(", ", o);
        }
        fputs("\"a\": ", o);
        rql_json_str(o, c->groups[P->a].label);
        fputs(", \"b\": ", o);
        rql_json_str(o, c->groups[P->b].label);
        json_num(o, ", \"mean_diff\": ", P->w.mean_a - P->w.mean_b);
        json_num(o, ", \"t\": ", P->w.t);
        json_num(o, ", \"df\": ", P->w.df);
        json_num(o, ", \"p\": ", P->w.p);
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