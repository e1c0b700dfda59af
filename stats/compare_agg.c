/* compare_agg — rliable aggregates for `rql compare`: the final greedy
 * success of every run, grouped by agent label, the sweep cells as tasks
 * (one task outside sweeps), seeds as runs. Per agent: the mean of per-task
 * means and the IQM with stratified bootstrap percentile intervals, which
 * stay inside [0, 1] as the success rate does (a t interval need not); per
 * pair of agents the probability of improvement over the tasks both ran.
 * An agent's matrix takes the seeds present in every one of its cells. */
#include "stats/compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "stats/rliable.h"
#include "util/util.h"

typedef struct {
    const char *label;
    int ntasks, nseeds;
    double *x;                /* [nseeds x ntasks] final success */
    int *task;                /* [ntasks] index into the cell list */
} agent_mat;

static int find_str(const char *const *v, int n, const char *s) {
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i], s)) return i;
    return -1;
}

static int find_seed(const int64_t *v, int n, int64_t s) {
    for (int i = 0; i < n; i++)
        if (v[i] == s) return i;
    return -1;
}

int stats_print_aggregates(const stats_comparison *c, FILE *o, int reps, unsigned long seed) {
    int n = c->nruns;
    const char **labels = calloc((size_t)n + 1, sizeof *labels), **cells = calloc((size_t)n + 1, sizeof *cells);
    int64_t *seeds = calloc((size_t)n + 1, sizeof *seeds);
    agent_mat *m = calloc((size_t)n + 1, sizeof *m);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    int na = 0, nc = 0, rc = -1;
    if (!labels || !cells || !seeds || !m || !r) goto out;
    gsl_rng_set(r, seed);
    for (int i = 0; i < n; i++) {
        if (find_str(labels, na, c->runs[i].label) < 0) labels[na++] = c->runs[i].label;
        if (find_str(cells, nc, c->runs[i].cell) < 0) cells[nc++] = c->runs[i].cell;
    }
    for (int a = 0; a < na; a++) {
        /* the agent's cells and the seeds present in all of them */
        int *has = calloc((size_t)nc, sizeof *has), ns = 0;
        if (!has) goto out;
        for (int i = 0; i < n; i++)
            if (!strcmp(c->runs[i].label, labels[a])) has[find_str(cells, nc, c->runs[i].cell)] = 1;
        m[a].label = labels[a];
        m[a].task = malloc(sizeof(int) * (size_t)nc);
        if (!m[a].task) { free(has); goto out; }
        for (int k = 0; k < nc; k++)
            if (has[k]) m[a].task[m[a].ntasks++] = k;
        free(has);
        for (int i = 0; i < n; i++) {
            if (strcmp(c->runs[i].label, labels[a]) || find_seed(seeds, ns, c->runs[i].seed) >= 0) continue;
            int everywhere = 1;
            for (int t = 0; t < m[a].ntasks && everywhere; t++) {
                int found = 0;
                for (int j = 0; j < n && !found; j++)
                    found = !strcmp(c->runs[j].label, labels[a]) && c->runs[j].seed == c->runs[i].seed &&
                            !strcmp(c->runs[j].cell, cells[m[a].task[t]]);
                everywhere = found;
            }
            if (everywhere) seeds[ns++] = c->runs[i].seed;
        }
        m[a].nseeds = ns;
        m[a].x = malloc(sizeof(double) * (size_t)(ns * m[a].ntasks + 1));
        if (!m[a].x) goto out;
        for (int i = 0; i < n; i++) {
            if (strcmp(c->runs[i].label, labels[a])) continue;
            int s = find_seed(seeds, ns, c->runs[i].seed);
            if (s < 0) continue;
            int cell = find_str(cells, nc, c->runs[i].cell);
            for (int t = 0; t < m[a].ntasks; t++)
                if (m[a].task[t] == cell) m[a].x[s * m[a].ntasks + t] = c->runs[i].final_success;
        }
        memset(seeds, 0, sizeof(int64_t) * (size_t)ns);
    }
    fprintf(o, "\nrliable aggregates of final success (%s as tasks, seeds as runs; 95%% stratified bootstrap "
               "percentile intervals, %d replicates):\n", nc > 1 ? "sweep cells" : "one task", reps);
    int lw = 5;
    for (int a = 0; a < na; a++) lw = (int)strlen(labels[a]) > lw ? (int)strlen(labels[a]) : lw;
    fprintf(o, "  %-*s  %-6s %-6s %-26s %-26s\n", lw, "agent", "tasks", "seeds", "mean", "IQM");
    for (int a = 0; a < na; a++) {
        char mb[64] = "n/a", ib[64] = "n/a";
        rl_interval v;
        if (m[a].nseeds > 0 && m[a].ntasks > 0) {
            if (rl_bootstrap_aggregate(RL_MEAN, m[a].x, m[a].nseeds, m[a].ntasks, reps, 0.95, r, &v)) goto out;
            snprintf(mb, sizeof mb, "%.3f [%.3f, %.3f]", v.point, v.lo, v.hi);
            if (rl_bootstrap_aggregate(RL_IQM, m[a].x, m[a].nseeds, m[a].ntasks, reps, 0.95, r, &v)) goto out;
            snprintf(ib, sizeof ib, "%.3f [%.3f, %.3f]", v.point, v.lo, v.hi);
        }
        fprintf(o, "  %-*s  %-6d %-6d %-26s %-26s\n", lw, labels[a], m[a].ntasks, m[a].nseeds, mb, ib);
    }
    if (na > 1) fprintf(o, "probability of improvement P(X > Y) over the tasks both ran:\n");
    for (int a = 0; a < na; a++)
        for (int b = a + 1; b < na; b++) {
            int nt = 0;
            for (int t = 0; t < m[a].ntasks; t++)
                for (int u = 0; u < m[b].ntasks; u++) nt += m[a].task[t] == m[b].task[u];
            if (!nt || !m[a].nseeds || !m[b].nseeds) continue;
            double *xa = malloc(sizeof(double) * (size_t)(m[a].nseeds * nt)),
                   *xb = malloc(sizeof(double) * (size_t)(m[b].nseeds * nt));
            if (!xa || !xb) { free(xa); free(xb); goto out; }
            int j = 0;
            for (int t = 0; t < m[a].ntasks; t++)
                for (int u = 0; u < m[b].ntasks; u++)
                    if (m[a].task[t] == m[b].task[u]) {
                        for (int s = 0; s < m[a].nseeds; s++) xa[s * nt + j] = m[a].x[s * m[a].ntasks + t];
                        for (int s = 0; s < m[b].nseeds; s++) xb[s * nt + j] = m[b].x[s * m[b].ntasks + u];
                        j++;
                    }
            rl_interval v;
            int e = rl_bootstrap_improvement(xa, m[a].nseeds, xb, m[b].nseeds, nt, reps, 0.95, r, &v);
            free(xa);
            free(xb);
            if (e) goto out;
            fprintf(o, "  P(%s > %s) = %.3f [%.3f, %.3f]\n", labels[a], labels[b], v.point, v.lo, v.hi);
        }
    rc = 0;
out:
    for (int a = 0; m && a < na; a++) {
        free(m[a].x);
        free(m[a].task);
    }
    free(m);
    free(labels);
    free(cells);
    free(seeds);
    gsl_rng_free(r);
    return rc;
}
