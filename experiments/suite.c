/* suite — the shipped suites and their scorecard (see suite.h). */
#define _GNU_SOURCE
#include "experiments/suite.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_rng.h>

#include "log/rlog.h"
#include "util/util.h"

/* bsuite's report (Osband et al. 2020, "Behaviour Suite for Reinforcement
 * Learning", ICLR; the baseline agents of bsuite/baselines) gives the memory
 * scores of its reference agents; the figures as its summary reports them. */
static const suite_ref bsuite_len_refs[] = {
    {"bsuite actor_critic_rnn (LSTM actor-critic)", 0.65, "Osband et al. 2020, bsuite report"},
    {"bsuite dqn", 0.04, "Osband et al. 2020, bsuite report"},
    {"bsuite random", 0.0, "Osband et al. 2020, bsuite report"},
};
static const suite_ref bsuite_size_refs[] = {
    {"bsuite actor_critic_rnn (LSTM actor-critic)", 0.35, "Osband et al. 2020, bsuite report"},
    {"bsuite dqn", 0.0, "Osband et al. 2020, bsuite report"},
    {"bsuite random", 0.0, "Osband et al. 2020, bsuite report"},
};

/* POPGym: published Q-learning results (double DQN with memory models,
 * Morad et al. 2024, "Recurrent Reinforcement Learning with Memoroids",
 * read off its figure, 10 seeds), raw MMER of single worlds, not suite
 * scores: printed for reference beside them. */
static const suite_ref popgym_refs[] = {
    {"Memoroids DDQN, best models: repeat_first easy MMER", 1.0, "Morad et al. 2024, figure"},
    {"Memoroids DDQN, FFM: count_recall easy MMER (about)", 0.6, "Morad et al. 2024, figure"},
    {"Memoroids DDQN, LRU: count_recall easy MMER (about)", 0.3, "Morad et al. 2024, figure"},
    {"Memoroids DDQN: stateless_cartpole easy MMER (about)", 1.0, "Morad et al. 2024, figure"},
};
/* Each world's chance at Easy, Medium and Hard (docs/envs.md;
 * tests/check_popgym.c measures every one within 0.01): the raw score of a
 * random agent for normalising a run at that difficulty. */
static const suite_chance popgym_chance[] = {
    {"repeat_first", "easy", -0.5}, {"repeat_first", "medium", -0.5}, {"repeat_first", "hard", -0.5},
    {"repeat_previous", "easy", -0.5}, {"repeat_previous", "medium", -0.5}, {"repeat_previous", "hard", -0.5},
    {"autoencode", "easy", -0.5}, {"autoencode", "medium", -0.5}, {"autoencode", "hard", -0.5},
    {"count_recall", "easy", -0.925}, {"count_recall", "medium", -0.925}, {"count_recall", "hard", -0.882},
    {"higher_lower", "easy", 0.0}, {"higher_lower", "medium", 0.0}, {"higher_lower", "hard", 0.0},
    {"multiarmed_bandit", "easy", 0.0}, {"multiarmed_bandit", "medium", 0.0}, {"multiarmed_bandit", "hard", 0.0},
    {"concentration", "easy", -0.191}, {"concentration", "medium", -0.186}, {"concentration", "hard", -0.835},
    {"minesweeper", "easy", -0.243}, {"minesweeper", "medium", -0.401}, {"minesweeper", "hard", -0.432},
    {"battleship", "easy", -0.449}, {"battleship", "medium", -0.416}, {"battleship", "hard", -0.400},
    {"stateless_cartpole", "easy", 0.111}, {"stateless_cartpole", "medium", 0.056},
    {"stateless_cartpole", "hard", 0.037},
    {"noisy_stateless_cartpole", "easy", 0.111}, {"noisy_stateless_cartpole", "medium", 0.111},
    {"noisy_stateless_cartpole", "hard", 0.111},
};
#define NPOPGYM_CHANCE ((int)(sizeof popgym_chance / sizeof popgym_chance[0]))

static const suite_def suites[] = {
    {"memory_len", "bsuite memory_len: one context bit, remembered over L = 1 .. 100 steps (23 settings)",
     "memory_len.cfg", "google-deepmind/bsuite: bsuite/experiments/memory_len (sweep.py, analysis.py)", "bsuite", 10000,
     NAN, NAN, NAN, 3, bsuite_len_refs, 6.0, 0, NULL},
    {"memory_size", "bsuite memory_size: n = 1 .. 40 context bits remembered over L = 2 steps (17 settings)",
     "memory_size.cfg", "google-deepmind/bsuite: bsuite/experiments/memory_size (sweep.py, analysis.py)", "bsuite",
     10000, NAN, NAN, NAN, 3, bsuite_size_refs, 7.0, 0, NULL},
    {"popgym", "POPGym's 11 cheap memory worlds (Easy unless --set env.difficulty) with prev_action, 200,000 env "
     "steps each (count_recall 500,000, n_step 1, target_update 1000, lr 1e-3) (MMER)",
     "popgym.cfg", "proroklab/popgym: popgym/envs/*.py; MMER as in Morad et al. 2023", "mmer", 0, NAN, NAN, 1.0,
     4, popgym_refs, 27.0, NPOPGYM_CHANCE, popgym_chance},   /* drqn-lstm, CPU-minutes per seed: 1,330 s over 9
                                                              * worlds + the 2 repeat worlds (docs/suite.md), plus
                                                              * count_recall at 500,000 steps (4.9 CPU-min, not
                                                              * 200,000's ~1.6) */
};
#define NSUITES ((int)(sizeof suites / sizeof suites[0]))

int suite_count(void) { return NSUITES; }
const suite_def *suite_at(int i) { return i >= 0 && i < NSUITES ? &suites[i] : NULL; }

const suite_def *suite_find(const char *name) {
    int i = rql_find_named(suites, NSUITES, sizeof *suites, name);
    return i < 0 ? NULL : &suites[i];
}

score_params suite_setting_params(const suite_def *s, score_params par, const char *world, const char *difficulty) {
    for (int i = 0; world && difficulty && i < s->nchance; i++)
        if (!strcmp(s->chance[i].world, world) && !strcmp(s->chance[i].difficulty, difficulty))
            par.random = s->chance[i].random;
    return par;
}

score_params suite_score_params(const suite_def *s) {
    score_params p = score_defaults(score_rule_find(s->rule));
    if (s->episodes > 0) p.episodes = s->episodes;
    if (!isnan(s->threshold)) p.threshold = s->threshold;
    if (!isnan(s->random)) p.random = s->random;
    if (!isnan(s->optimal)) p.optimal = s->optimal;
    return p;
}

int suite_config_path(const suite_def *s, char *out, size_t cap, char *err, size_t ecap) {
    char dirs[8][4096];
    const char *env_dir = getenv("RQL_SUITES");
    int nd = rql_data_dirs("RQL_SUITES", "experiments/suites", dirs, 8);
    for (int i = 0; i < nd; i++) {
        snprintf(out, cap, "%.4000s/%s", dirs[i], s->config);
        if (access(out, R_OK) == 0) return 0;
    }
    return rql_failf(err, ecap, "suite %s: no %s in $RQL_SUITES (%s), ./experiments/suites or experiments/suites "
                                "beside the rql binary", s->name, s->config, env_dir && *env_dir ? env_dir : "unset");
}

/* ---- the scorecard ----------------------------------------------------------------- */

void suite_card_free(suite_card *c) {
    if (!c) return;
    for (int a = 0; c->agents && a < c->nagents; a++) free(c->agents[a]);
    for (int m = 0; c->settings && m < c->nsettings; m++) free(c->settings[m]);
    free(c->agents);
    free(c->settings);
    free(c->setting_name);
    free(c->difficulty);
    free(c->block);
    free(c);
}

/* The best of a log's greedy evaluations: the largest mean return of its
 * /eval rows (NaN without any). Memoroids' DDQN reports this figure: it
 * evaluates the greedy policy every few epochs and keeps the best mean. */
static double best_greedy(const rlog_file *f) {
    double *r = NULL, best = NAN;
    int64_t n = 0;
    if (!rlog_file_has(f, "eval/return_mean") || rlog_read_f64(f, "eval/return_mean", &r, &n)) return NAN;
    for (int64_t i = 0; i < n; i++)
        if (isnan(best) || r[i] > best) best = r[i];
    free(r);
    return best;
}

/* The training curve of one log: returns and successes of every episode,
 * the best greedy evaluation (*greedy, NaN when none), and the resolved
 * config it was run with (*config NULL when the log has none). 1 read, 0 no
 * log (missing file), -1 a log that cannot be read. */
static int read_curve(const char *path, double **ret, double **succ, long *n, double *greedy, char **config,
                      char *err, size_t cap) {
    *ret = *succ = NULL;
    *config = NULL;
    *n = 0;
    *greedy = NAN;
    if (access(path, F_OK) != 0) return 0;
    rlog_file *f = rlog_file_open(path);
    if (!f) return rql_failf(err, cap, "%s", rql_error());
    int64_t n1 = 0, n2 = 0;
    int rc = 1;
    if (rlog_read_f64(f, "curves/return", ret, &n1) || rlog_read_f64(f, "curves/success", succ, &n2))
        rc = rql_failf(err, cap, "%s", rql_error());
    else *n = (long)(n1 < n2 ? n1 : n2);     /* a killed writer's ragged table: the shorter column */
    if (rc > 0) *greedy = best_greedy(f);
    if (rc > 0 && rlog_attr_str(f, "config", config)) *config = NULL;
    rlog_file_close(f);
    if (rc < 0) {
        free(*ret);
        free(*succ);
        *ret = *succ = NULL;
    }
    return rc;
}

/* The random score that normalises run r: the suite's, or the chance of its
 * world at its difficulty, both read from the resolved config its log
 * carries (config), or from its cell's config when there is no log or the
 * log's config does not load. The difficulty it was trained at goes to
 * diff[cap] ("" when the world has none). */
static double run_random(const suite_def *s, const score_params *par, const sweep_plan *p, int r, const char *config,
                         char *diff, size_t cap) {
    char err[1024];
    rql_config *own = config ? rql_config_parse(config, p->runs[r].log_path, NULL, 0, err, sizeof err) : NULL;
    const rql_config *cfg = own ? own : p->cells[p->run_cell[r]].cfg;
    const char *world = cfg ? env_spec_world(cfg->env) : NULL, *d = cfg ? env_spec_get(cfg->env, "difficulty") : NULL;
    snprintf(diff, cap, "%s", d ? d : "");
    double v = suite_setting_params(s, *par, world, d).random;
    rql_config_free(own);
    return v;
}

#define IDX3(c, a, m, s) (((size_t)(a) * (c)->nsettings + (m)) * (c)->nseeds + (s))
#define IDX2(c, a, m) ((size_t)(a) * (c)->nsettings + (m))

double suite_card_normalised(const suite_card *c, int a, int m, int k) {
    score_params p = c->par;
    p.random = c->random[IDX3(c, a, m, k)];
    return score_normalise(&p, c->raw[IDX3(c, a, m, k)]);
}

/* Notes the difficulty d of a run with a log: the card's is the runs' one,
 * or "mixed" once two differ. -1 out of memory. */
static int note_difficulty(suite_card *c, const char *d) {
    if (c->difficulty && (!strcmp(c->difficulty, d) || !strcmp(c->difficulty, "mixed"))) return 0;
    char *x = strdup(c->difficulty ? "mixed" : d);
    if (!x) return -1;
    free(c->difficulty);
    c->difficulty = x;
    return 0;
}

suite_card *suite_score(const suite_def *s, const sweep_plan *p, int reps, unsigned long seed, char *err,
                        size_t cap) {
    suite_card *c = calloc(1, sizeof *c);
    if (!c) return rql_failf(err, cap, "out of memory"), NULL;
    const rql_config *b = p->base;
    c->def = s;
    c->par = suite_score_params(s);
    c->nagents = b->nagents;
    c->nsettings = p->ncells;
    c->nseeds = b->nseeds;
    c->reps = reps > 0 ? reps : 2000;
    c->level = 0.95;
    size_t A = (size_t)c->nagents, M = (size_t)c->nsettings, S = (size_t)c->nseeds;
    c->ntau = 21;
    size_t T = (size_t)c->ntau;
    /* every numeric array of the card in one zeroed block */
    const size_t bytes[] = {
        S * sizeof *c->seeds, A * M * S * sizeof *c->raw, A * M * S * sizeof *c->episodes, A * M * S * sizeof *c->random,
        A * M * S * sizeof *c->greedy, A * M * sizeof *c->greedy_setting, A * M * sizeof *c->setting_score, A * M * sizeof *c->learned, A * M * sizeof *c->used,
        A * sizeof *c->score, A * sizeof *c->nlearned, A * sizeof *c->nverdicts, A * sizeof *c->nfull,
        A * sizeof *c->ntasks, (A * M + 1) * sizeof *c->task_used, A * sizeof *c->iqm, A * sizeof *c->mean,
        A * A * sizeof *c->poi, T * sizeof *c->tau, A * T * sizeof *c->profile,
    };
    void *v[sizeof bytes / sizeof bytes[0]];
    c->block = rql_alloc_views((int)(sizeof bytes / sizeof bytes[0]), bytes, v);
    if (!c->block) goto oom;
    c->seeds = v[0], c->raw = v[1], c->episodes = v[2], c->random = v[3], c->greedy = v[4], c->greedy_setting = v[5];
    c->setting_score = v[6], c->learned = v[7], c->used = v[8], c->score = v[9], c->nlearned = v[10];
    c->nverdicts = v[11], c->nfull = v[12], c->ntasks = v[13], c->task_used = v[14], c->iqm = v[15], c->mean = v[16];
    c->poi = v[17], c->tau = v[18], c->profile = v[19];
    c->agents = calloc(A, sizeof *c->agents);
    c->settings = calloc(M, sizeof *c->settings);
    int one = rql_sweep_ncross(b) == 1;     /* one key spans the settings (the first: others may pair with it) */
    c->setting_name = strdup(one ? b->sweep[0].name : "cell");
    if (!c->agents || !c->settings || !c->setting_name) goto oom;
    for (int k = 0; k < c->ntau; k++) c->tau[k] = k / (double)(c->ntau - 1);   /* 0, 0.05, .., 1 */
    for (size_t a = 0; a < A; a++)
        if (!(c->agents[a] = strdup(b->agents[a].label))) goto oom;
    for (size_t m = 0; m < M; m++) {
        /* the setting's values without the names when one key is swept: "10" */
        const char *d = p->cells[m].dir, *eq = strchr(d, '=');
        if (!(c->settings[m] = strdup(one && eq ? eq + 1 : d))) goto oom;
    }
    for (size_t k = 0; k < S; k++) c->seeds[k] = b->seeds[k];

    /* every run's curve, then the rule: runs, settings, the suite */
    score_curve *cur = calloc(S, sizeof *cur);
    double **bufs = calloc(2 * S, sizeof *bufs);
    if (!cur || !bufs) {
        free(cur);
        free(bufs);
        goto oom;
    }
    const score_rule *rule = c->par.rule;
    for (size_t a = 0; a < A; a++) {
        for (size_t m = 0; m < M; m++) {
            for (size_t k = 0; k < S; k++) {
                int r = (int)((m * A + a) * S + k);           /* sweep.h: cell, agent, seed */
                long n = 0;
                char *config = NULL, diff[64];
                int rc = read_curve(p->runs[r].log_path, &bufs[2 * k], &bufs[2 * k + 1], &n,
                                    &c->greedy[IDX3(c, a, m, k)], &config, err, cap);
                if (rc >= 0) {
                    c->random[IDX3(c, a, m, k)] = run_random(s, &c->par, p, r, config, diff, sizeof diff);
                    free(config);
                    if (rc > 0 && *diff && note_difficulty(c, diff)) rc = rql_failf(err, cap, "out of memory");
                }
                if (rc < 0) {
                    for (size_t j = 0; j < 2 * S; j++) free(bufs[j]);
                    free(cur);
                    free(bufs);
                    suite_card_free(c);
                    return NULL;
                }
                cur[k] = (score_curve){.ret = bufs[2 * k], .success = bufs[2 * k + 1], .n = n};
                c->episodes[IDX3(c, a, m, k)] = n;
                c->raw[IDX3(c, a, m, k)] = n > 0 ? rule->run(&c->par, &cur[k]) : NAN;
            }
            int used = 0, ng = 0;
            double v = rule->setting(&c->par, cur, (int)S, &used), g = 0;
            for (size_t k = 0; k < S; k++)
                if (!isnan(c->greedy[IDX3(c, a, m, k)])) g += c->greedy[IDX3(c, a, m, k)], ng++;
            c->greedy_setting[IDX2(c, a, m)] = ng ? g / ng : NAN;
            c->setting_score[IDX2(c, a, m)] = v;
            c->used[IDX2(c, a, m)] = used;
            int l = rule->learned(&c->par, v);
            c->learned[IDX2(c, a, m)] = l;
            if (l >= 0) c->nverdicts[a]++;
            if (l > 0) c->nlearned[a]++;
            for (size_t j = 0; j < 2 * S; j++) {
                free(bufs[j]);
                bufs[j] = NULL;
            }
        }
        c->score[a] = rule->suite(&c->par, c->setting_score + a * M, c->learned + a * M, (int)M);
    }
    free(cur);
    free(bufs);

    /* aggregates on normalised scores, [seeds complete everywhere x settings] per agent */
    double **mat = calloc(A, sizeof *mat);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!mat || !rng) {
        free(mat);
        gsl_rng_free(rng);
        goto oom;
    }
    gsl_rng_set(rng, seed);
    int fail = 0;
    for (size_t a = 0; a < A && !fail; a++) {
        /* the settings every seed ran (a partial suite: those done so far) */
        if (!(mat[a] = malloc(sizeof(double) * (S * M + 1)))) { fail = 1; break; }
        int *keep = c->task_used + a * M, nt = 0;
        for (size_t m = 0; m < M; m++) {
            keep[m] = 1;
            for (size_t k = 0; k < S; k++) keep[m] &= !isnan(c->raw[IDX3(c, a, m, k)]);
            nt += keep[m];
        }
        c->ntasks[a] = nt;
        c->nfull[a] = nt ? (int)S : 0;
        int rows = c->nfull[a];
        for (int k = 0; k < rows; k++)
            for (size_t m = 0, j = 0; m < M; m++)
                if (keep[m]) mat[a][k * nt + j++] = suite_card_normalised(c, (int)a, (int)m, k);
        if (!rows) {
            c->iqm[a] = c->mean[a] = (rl_interval){.point = NAN, .lo = NAN, .hi = NAN, .level = c->level};
            for (int t = 0; t < c->ntau; t++)
                c->profile[a * c->ntau + t] = (rl_interval){.point = NAN, .lo = NAN, .hi = NAN, .level = c->level};
            continue;
        }
        if (rl_bootstrap_aggregate(RL_IQM, mat[a], rows, nt, c->reps, c->level, rng, &c->iqm[a]) ||
            rl_bootstrap_aggregate(RL_MEAN, mat[a], rows, nt, c->reps, c->level, rng, &c->mean[a]) ||
            rl_bootstrap_profile(mat[a], rows, nt, c->tau, c->ntau, c->reps, c->level, rng,
                                 c->profile + a * c->ntau))
            fail = 1;
    }
    double *xa = malloc(sizeof(double) * (S * M + 1)), *xb = malloc(sizeof(double) * (S * M + 1));
    if (!xa || !xb) fail = 1;
    for (size_t a = 0; a < A && !fail; a++)
        for (size_t o = 0; o < A && !fail; o++) {
            rl_interval *x = &c->poi[a * A + o];
            *x = (rl_interval){.point = NAN, .lo = NAN, .hi = NAN, .level = c->level};
            if (a == o || !c->nfull[a] || !c->nfull[o]) continue;
            int nt = 0;                                   /* the settings both agents have */
            for (size_t m = 0; m < M; m++) nt += c->task_used[a * M + m] && c->task_used[o * M + m];
            if (!nt) continue;
            for (size_t k = 0; k < S; k++)
                for (size_t m = 0, j = 0; m < M; m++)
                    if (c->task_used[a * M + m] && c->task_used[o * M + m]) {
                        xa[k * nt + j] = suite_card_normalised(c, (int)a, (int)m, (int)k);
                        xb[k * nt + j++] = suite_card_normalised(c, (int)o, (int)m, (int)k);
                    }
            if (rl_bootstrap_improvement(xa, (int)S, xb, (int)S, nt, c->reps, c->level, rng, x)) fail = 1;
        }
    free(xa);
    free(xb);
    for (size_t a = 0; a < A; a++) free(mat[a]);
    free(mat);
    gsl_rng_free(rng);
    if (fail) {
        rql_failf(err, cap, "%s", rql_error());
        suite_card_free(c);
        return NULL;
    }
    return c;
oom:
    rql_failf(err, cap, "out of memory");
    suite_card_free(c);
    return NULL;
}
