/* suite_print — the scorecard as a table, CSV or JSON, and `rql suite --list`. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "experiments/suite.h"
#include "util/util.h"

#define IDX3(c, a, m, s) (((size_t)(a) * (c)->nsettings + (m)) * (c)->nseeds + (s))
#define IDX2(c, a, m) ((size_t)(a) * (c)->nsettings + (m))

static void fmt_num(char *buf, size_t n, double x, int prec) {
    if (isnan(x)) snprintf(buf, n, "n/a");
    else snprintf(buf, n, "%.*f", prec, x);
}

static void fmt_iv(char *buf, size_t n, const rl_interval *v) {
    if (isnan(v->point)) snprintf(buf, n, "n/a");
    else snprintf(buf, n, "%.3f [%.3f, %.3f]", v->point, v->lo, v->hi);
}

static int width_of_agents(const suite_card *c) {
    int w = 9;
    for (int a = 0; a < c->nagents; a++)
        if ((int)strlen(c->agents[a]) > w) w = (int)strlen(c->agents[a]);
    return w;
}

static void print_table(const suite_card *c, FILE *o) {
    const suite_def *s = c->def;
    const score_rule *r = c->par.rule;
    int wa = width_of_agents(c), ws = (int)strlen(c->setting_name);
    for (int m = 0; m < c->nsettings; m++)
        if ((int)strlen(c->settings[m]) > ws) ws = (int)strlen(c->settings[m]);
    fprintf(o, "suite %s: %s\n  rule: %s\n  anchor: %s\n", s->name, s->summary, r->summary, s->anchor);
    if (c->difficulty)
        fprintf(o, "  difficulty: %s (from the runs' logs)%s\n", c->difficulty,
                s->nchance ? "; each world normalised with its chance at the difficulty of its run" : "");
    fprintf(o, "\n");

    /* per setting: the setting score (mean over seeds) and the verdict */
    fprintf(o, "setting score (%s, mean over seeds; * = learned):\n", r->lower_is_better ? "lower is better" :
                                                                           "higher is better");
    fprintf(o, "%-*s", ws + 2, c->setting_name);
    for (int a = 0; a < c->nagents; a++) fprintf(o, "  %-*s", wa, c->agents[a]);
    fprintf(o, "\n");
    for (int m = 0; m < c->nsettings; m++) {
        fprintf(o, "%-*s", ws + 2, c->settings[m]);
        for (int a = 0; a < c->nagents; a++) {
            char v[64], cell[96];
            fmt_num(v, sizeof v, c->setting_score[IDX2(c, a, m)], 3);
            int l = c->learned[IDX2(c, a, m)];
            snprintf(cell, sizeof cell, "%s%s", v, l > 0 ? " *" : "");
            fprintf(o, "  %-*s", wa, cell);
        }
        fprintf(o, "\n");
    }

    /* the best greedy evaluation, where the logs have evaluations (Memoroids'
     * DDQN reports this figure; the rule above scores training episodes) */
    int any_greedy = 0;
    for (size_t i = 0; i < (size_t)c->nagents * c->nsettings; i++) any_greedy |= !isnan(c->greedy_setting[i]);
    if (any_greedy) {
        fprintf(o, "\nbest greedy evaluation (largest mean return of a /eval row, mean over seeds):\n");
        fprintf(o, "%-*s", ws + 2, c->setting_name);
        for (int a = 0; a < c->nagents; a++) fprintf(o, "  %-*s", wa, c->agents[a]);
        fprintf(o, "\n");
        for (int m = 0; m < c->nsettings; m++) {
            fprintf(o, "%-*s", ws + 2, c->settings[m]);
            for (int a = 0; a < c->nagents; a++) {
                char v[64];
                fmt_num(v, sizeof v, c->greedy_setting[IDX2(c, a, m)], 3);
                fprintf(o, "  %-*s", wa, v);
            }
            fprintf(o, "\n");
        }
    }

    /* the score of each agent, its settings learned, the aggregates */
    fprintf(o, "\nscore and aggregates (normalised run scores: 0 random, 1 optimal; %d%% stratified bootstrap "
               "intervals, %d replicates):\n", (int)lround(c->level * 100), c->reps);
    fprintf(o, "%-*s  %-7s %-9s %-9s %-24s %-24s\n", wa, "agent", "score", "learned", "settings", "IQM", "mean");
    for (int a = 0; a < c->nagents; a++) {
        char sc[32], ln[32], iq[64], mn[64], sd[48];
        fmt_num(sc, sizeof sc, c->score[a], 3);
        snprintf(ln, sizeof ln, "%d/%d", c->nlearned[a], c->nverdicts[a]);
        snprintf(sd, sizeof sd, "%d/%d", c->ntasks[a], c->nsettings);
        fmt_iv(iq, sizeof iq, &c->iqm[a]);
        fmt_iv(mn, sizeof mn, &c->mean[a]);
        fprintf(o, "%-*s  %-7s %-9s %-9s %-24s %-24s\n", wa, c->agents[a], sc, ln, sd, iq, mn);
    }
    for (int a = 0; a < c->nagents; a++) {
        if (c->nverdicts[a] == 0) continue;
        fprintf(o, "  %s learned %s =", c->agents[a], c->setting_name);
        int any = 0;
        for (int m = 0; m < c->nsettings; m++)
            if (c->learned[IDX2(c, a, m)] > 0) fprintf(o, " %s", c->settings[m]), any = 1;
        fprintf(o, "%s\n", any ? "" : " (none)");
    }
    if (c->nseeds == 1)
        fprintf(o, "  (one seed per setting: a bootstrap over seeds has nothing to resample, the intervals are points)\n");
    for (int a = 0; a < c->nagents; a++)
        if (c->ntasks[a] < c->nsettings) {
            fprintf(o, "  (aggregates over the settings where every seed has a log: %d of %d for %s)\n", c->ntasks[a],
                    c->nsettings, c->agents[a]);
            break;
        }
    if (s->nrefs) {
        fprintf(o, "published scores (%s):\n", s->refs[0].source);
        for (int k = 0; k < s->nrefs; k++) fprintf(o, "  %-*s  %.2f\n", wa + 34, s->refs[k].agent, s->refs[k].score);
    }

    if (c->nagents > 1) {
        fprintf(o, "\nprobability of improvement P(row > column) [95%% CI]:\n%-*s", wa, "");
        for (int b = 0; b < c->nagents; b++) fprintf(o, "  %-24s", c->agents[b]);
        fprintf(o, "\n");
        for (int a = 0; a < c->nagents; a++) {
            fprintf(o, "%-*s", wa, c->agents[a]);
            for (int b = 0; b < c->nagents; b++) {
                char v[64] = "-";
                if (a != b) fmt_iv(v, sizeof v, &c->poi[(size_t)a * c->nagents + b]);
                fprintf(o, "  %-24s", v);
            }
            fprintf(o, "\n");
        }
    }
    fprintf(o, "\nperformance profile: fraction of runs x settings with normalised score > tau\n%-6s", "tau");
    for (int a = 0; a < c->nagents; a++) fprintf(o, "  %-*s", wa, c->agents[a]);
    fprintf(o, "\n");
    for (int t = 0; t < c->ntau; t += 2) {
        fprintf(o, "%-6.2f", c->tau[t]);
        for (int a = 0; a < c->nagents; a++) {
            char v[32];
            fmt_num(v, sizeof v, c->profile[(size_t)a * c->ntau + t].point, 3);
            fprintf(o, "  %-*s", wa, v);
        }
        fprintf(o, "\n");
    }
}

static void csv_num(FILE *o, double x) {
    if (isnan(x)) fprintf(o, ",");
    else fprintf(o, ",%.17g", x);
}

/* One row per run (the long format pandas wants): suite, agent, setting, seed,
 * episodes, raw, normalised, setting score, learned, agent score, best
 * greedy evaluation. */
static void print_csv(const suite_card *c, FILE *o) {
    fprintf(o, "suite,rule,agent,%s,seed,episodes,raw_score,normalised_score,setting_score,learned,suite_score,"
               "greedy_best\n", c->setting_name);
    for (int a = 0; a < c->nagents; a++)
        for (int m = 0; m < c->nsettings; m++)
            for (int k = 0; k < c->nseeds; k++) {
                double raw = c->raw[IDX3(c, a, m, k)];
                int l = c->learned[IDX2(c, a, m)];
                fprintf(o, "%s,%s,%s,%s,%ld,%ld", c->def->name, c->par.rule->name, c->agents[a], c->settings[m],
                        c->seeds[k], c->episodes[IDX3(c, a, m, k)]);
                csv_num(o, raw);
                csv_num(o, suite_card_normalised(c, a, m, k));
                csv_num(o, c->setting_score[IDX2(c, a, m)]);
                fprintf(o, ",%s", l < 0 ? "" : l ? "1" : "0");
                csv_num(o, c->score[a]);
                csv_num(o, c->greedy[IDX3(c, a, m, k)]);
                fprintf(o, "\n");
            }
}

static void json_num(FILE *o, double x) {
    if (isnan(x) || isinf(x)) fprintf(o, "null");
    else fprintf(o, "%.17g", x);
}

static void json_iv(FILE *o, const rl_interval *v) {
    fprintf(o, "{\"point\": ");
    json_num(o, v->point);
    fprintf(o, ", \"lo\": ");
    json_num(o, v->lo);
    fprintf(o, ", \"hi\": ");
    json_num(o, v->hi);
    fprintf(o, "}");
}

/* x[agent a][setting][seed] as a list of lists. */
static void json_runs(FILE *o, const suite_card *c, const double *x, int a) {
    fprintf(o, "[");
    for (int m = 0; m < c->nsettings; m++) {
        fprintf(o, "%s[", m ? ", " : "");
        for (int k = 0; k < c->nseeds; k++) {
            fprintf(o, "%s", k ? ", " : "");
            json_num(o, x[IDX3(c, a, m, k)]);
        }
        fprintf(o, "]");
    }
    fprintf(o, "]");
}

static void print_json(const suite_card *c, FILE *o) {
    fprintf(o, "{\n  \"suite\": ");
    rql_json_str(o, c->def->name);
    fprintf(o, ",\n  \"rule\": ");
    rql_json_str(o, c->par.rule->name);
    fprintf(o, ",\n  \"anchor\": ");
    rql_json_str(o, c->def->anchor);
    fprintf(o, ",\n  \"params\": {\"episodes\": %ld, \"threshold\": ", c->par.episodes);
    json_num(o, c->par.threshold);
    fprintf(o, ", \"window\": %d, \"random\": ", c->par.window);
    json_num(o, c->par.random);
    fprintf(o, ", \"optimal\": ");
    json_num(o, c->par.optimal);
    fprintf(o, "},\n  \"difficulty\": ");
    if (c->difficulty) rql_json_str(o, c->difficulty);
    else fprintf(o, "null");
    fprintf(o, ",\n  \"setting_key\": ");
    rql_json_str(o, c->setting_name);
    fprintf(o, ",\n  \"settings\": [");
    for (int m = 0; m < c->nsettings; m++) {
        fprintf(o, "%s", m ? ", " : "");
        rql_json_str(o, c->settings[m]);
    }
    fprintf(o, "],\n  \"seeds\": [");
    for (int k = 0; k < c->nseeds; k++) fprintf(o, "%s%ld", k ? ", " : "", c->seeds[k]);
    fprintf(o, "],\n  \"level\": %g, \"reps\": %d,\n  \"tau\": [", c->level, c->reps);
    for (int t = 0; t < c->ntau; t++) fprintf(o, "%s%g", t ? ", " : "", c->tau[t]);
    fprintf(o, "],\n  \"agents\": [\n");
    for (int a = 0; a < c->nagents; a++) {
        fprintf(o, "    {\"label\": ");
        rql_json_str(o, c->agents[a]);
        fprintf(o, ", \"score\": ");
        json_num(o, c->score[a]);
        fprintf(o, ", \"learned\": %d, \"verdicts\": %d, \"aggregate_seeds\": %d, \"aggregate_settings\": %d,"
                   "\n     \"iqm\": ", c->nlearned[a], c->nverdicts[a], c->nfull[a], c->ntasks[a]);
        json_iv(o, &c->iqm[a]);
        fprintf(o, ", \"mean\": ");
        json_iv(o, &c->mean[a]);
        fprintf(o, ",\n     \"setting_scores\": [");
        for (int m = 0; m < c->nsettings; m++) {
            fprintf(o, "%s", m ? ", " : "");
            json_num(o, c->setting_score[IDX2(c, a, m)]);
        }
        fprintf(o, "],\n     \"learned_settings\": [");
        for (int m = 0; m < c->nsettings; m++) fprintf(o, "%s%d", m ? ", " : "", c->learned[IDX2(c, a, m)]);
        fprintf(o, "],\n     \"raw\": ");
        json_runs(o, c, c->raw, a);
        fprintf(o, ",\n     \"random\": ");
        json_runs(o, c, c->random, a);
        fprintf(o, ",\n     \"greedy_best\": ");
        json_runs(o, c, c->greedy, a);
        fprintf(o, ",\n     \"profile\": [");
        for (int t = 0; t < c->ntau; t++) {
            fprintf(o, "%s", t ? ", " : "");
            json_iv(o, &c->profile[(size_t)a * c->ntau + t]);
        }
        fprintf(o, "],\n     \"improvement\": {");
        for (int b = 0, k = 0; b < c->nagents; b++) {
            if (b == a) continue;
            fprintf(o, "%s", k++ ? ", " : "");
            rql_json_str(o, c->agents[b]);
            fprintf(o, ": ");
            json_iv(o, &c->poi[(size_t)a * c->nagents + b]);
        }
        fprintf(o, "}}%s\n", a + 1 < c->nagents ? "," : "");
    }
    fprintf(o, "  ],\n  \"published\": [");
    for (int k = 0; k < c->def->nrefs; k++) {
        fprintf(o, "%s{\"agent\": ", k ? ", " : "");
        rql_json_str(o, c->def->refs[k].agent);
        fprintf(o, ", \"score\": %g, \"source\": ", c->def->refs[k].score);
        rql_json_str(o, c->def->refs[k].source);
        fprintf(o, "}");
    }
    fprintf(o, "]\n}\n");
}

void suite_print(const suite_card *c, suite_fmt fmt, FILE *out) {
    if (fmt == SUITE_FMT_CSV) print_csv(c, out);
    else if (fmt == SUITE_FMT_JSON) print_json(c, out);
    else print_table(c, out);
}

void suite_print_list(FILE *o) {
    fprintf(o, "%-12s %-9s %-7s %-7s %-20s %s\n", "suite", "settings", "agents", "runs", "time",
            "what");
    for (int i = 0; i < suite_count(); i++) {
        const suite_def *s = suite_at(i);
        char path[4200], err[512], set[16] = "?", ag[16] = "?", runs[16] = "?", tm[32];
        if (suite_config_path(s, path, sizeof path, err, sizeof err) == 0) {
            sweep_plan *p = sweep_plan_load(path, NULL, NULL, NULL, 0, NULL, err, sizeof err);
            if (p) {
                snprintf(set, sizeof set, "%d", p->ncells);
                snprintf(ag, sizeof ag, "%d", p->base->nagents);
                snprintf(runs, sizeof runs, "%d", p->nruns);
                sweep_plan_free(p);
            }
        }
        snprintf(tm, sizeof tm, "~%.0f CPU-min/agent", s->minutes);
        fprintf(o, "%-12s %-9s %-7s %-7s %-20s %s\n", s->name, set, ag, runs, tm, s->summary);
        fprintf(o, "%-12s rule %s; config %s\n", "", s->rule, path);
    }
}
