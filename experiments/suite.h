/* suite — named batteries of memory tasks: shipped sweeps plus a scoring
 * rule, and the scorecard that sets an agent's results beside published ones.
 *
 * A suite is a row of the table in suite.c: a name, the sweep config it runs
 * (experiments/suites/NAME.cfg: the world, the swept setting, the agents and
 * the budget), the scoring rule of the anchor that defines the task
 * (stats/score.h: bsuite's regret rule, POPGym's MMER, ...) with its
 * parameters, and the published reference scores. Running a suite is running
 * its sweep (experiments/sweep.h, `rql suite` = `rql sweep` on the shipped
 * config: -j, mpirun, resume); scoring it reads the sweep's logs.
 *
 * The scorecard (suite_score) holds, for every agent of the plan: the raw
 * score of every run (setting x seed), the setting scores and verdicts, the
 * suite score, and rliable aggregates of the normalised run scores (0 random,
 * 1 optimal): IQM and mean with stratified bootstrap intervals over the
 * settings as tasks, the probability of improvement of every agent over every
 * other, and performance profiles. Runs without a log count as missing: the
 * setting score uses the seeds there are (bsuite's rule for partial runs),
 * and the aggregates use the settings in which every seed has a log (a suite
 * still running: the settings done so far; P(X > Y): the settings both
 * agents have), which the printers say.
 * suite_print writes it as a table, CSV or JSON (suite_print.c).
 */
#ifndef RQL_SUITE_H
#define RQL_SUITE_H

#include <stdio.h>
#include "experiments/sweep.h"
#include "stats/rliable.h"
#include "stats/score.h"

typedef struct {
    const char *agent;        /* "LSTM actor-critic" */
    double score;             /* the suite score the source reports */
    const char *source;       /* where it is published */
} suite_ref;

/* A world's own raw score of a random agent at one difficulty (POPGym: each
 * world's chance figure at Easy, Medium and Hard), where one figure for the
 * whole suite does not fit. */
typedef struct {
    const char *world;        /* the env's name: "repeat_first" */
    const char *difficulty;   /* the env's difficulty: "easy", "medium", "hard" */
    double random;
} suite_chance;

typedef struct {
    const char *name;         /* "memory_len" */
    const char *summary;      /* one line */
    const char *config;       /* file name in the suites folder: "memory_len.cfg" */
    const char *anchor;       /* the source that defines the task and its rule */
    const char *rule;         /* score_rule name */
    long episodes;            /* rule parameter: episodes per setting (0: the rule's default) */
    double threshold;         /* rule parameter (NaN: the rule's default) */
    double random, optimal;   /* raw scores for normalising (NaN NaN: the rule's default) */
    int nrefs;
    const suite_ref *refs;
    double minutes;           /* measured CPU-minutes per recurrent agent and seed (dev machine, Zen 4) */
    int nchance;              /* per world and difficulty random scores overriding `random` (0: none) */
    const suite_chance *chance;
} suite_def;

int suite_count(void);
const suite_def *suite_at(int i);
const suite_def *suite_find(const char *name);
score_params suite_score_params(const suite_def *s);
/* The parameters that normalise a run of env `world` at `difficulty` (the
 * suite's par, with the random score the suite lists for that world at that
 * difficulty; par as it is for a world or difficulty it does not list, or
 * NULL). */
score_params suite_setting_params(const suite_def *s, score_params par, const char *world, const char *difficulty);

/* The suite's config file: $RQL_SUITES/NAME, ./experiments/suites/NAME, or
 * experiments/suites/NAME beside (or above) the rql binary. 0, or -1 with
 * the places tried in err. */
int suite_config_path(const suite_def *s, char *out, size_t cap, char *err, size_t ecap);

typedef struct {
    const suite_def *def;
    score_params par;
    int nagents, nsettings, nseeds;
    char **agents;            /* [nagents] labels */
    char **settings;          /* [nsettings] the cell's value(s): "memory_length=10" */
    char *setting_name;       /* the swept key's short name ("memory_length"), or "cell" */
    char *difficulty;         /* the env difficulty the runs with a log were trained at ("hard"), "mixed"
                                 when they differ, NULL when none has one */
    long *seeds;              /* [nseeds] */
    /* [agent][setting][seed] */
    double *raw;              /* raw run score; NaN: no log */
    long *episodes;           /* episodes in the run's log (0: none) */
    double *random;           /* raw score of a random agent that normalises the run: the suite's, or its
                                 world's chance at the difficulty it was trained at (suite_setting_params) */
    double *greedy;           /* the best mean return of the run's greedy evaluations (/eval; NaN: none):
                                 Memoroids' DDQN's figure, beside the rule's score of training episodes */
    /* [agent][setting] */
    double *setting_score;
    double *greedy_setting;   /* mean over the seeds with one of the runs' greedy best (NaN: none) */
    int *learned;             /* 1, 0, -1 (no verdict) */
    int *used;                /* seeds the setting score took */
    /* [agent] */
    double *score;            /* suite score */
    int *nlearned, *nverdicts;
    int *nfull;               /* seeds in the aggregates (0: no setting has every seed) */
    int *ntasks;              /* settings in the aggregates: those every seed ran */
    int *task_used;           /* [agent][setting] 1 where the setting is in the aggregates */
    rl_interval *iqm, *mean;  /* of normalised scores; NaN point when nfull == 0 */
    /* [a][b]: P(agent a > agent b) */
    rl_interval *poi;
    /* performance profiles: [agent][tau] */
    int ntau;
    double *tau;
    rl_interval *profile;
    void *block;              /* the numeric arrays above, one allocation (rql_alloc_views) */
    int reps;
    double level;
} suite_card;

/* Scores the runs of plan p (loaded from suite s's config) from their logs.
 * Each run is normalised at the world and difficulty of the resolved config
 * its log carries (what it was trained at, whatever p's overrides say), or
 * of its cell's config when the log has none that loads.
 * reps bootstrap replicates (<= 0: 2000) from a gsl_rng seeded with seed.
 * NULL on failure with err set (a log that exists but cannot be read). */
suite_card *suite_score(const suite_def *s, const sweep_plan *p, int reps, unsigned long seed, char *err,
                        size_t cap);
void suite_card_free(suite_card *c);
/* Run (agent a, setting m, seed k)'s raw score normalised (NaN: no log). */
double suite_card_normalised(const suite_card *c, int a, int m, int k);

typedef enum { SUITE_FMT_TABLE, SUITE_FMT_CSV, SUITE_FMT_JSON } suite_fmt;
void suite_print(const suite_card *c, suite_fmt fmt, FILE *out);

/* `rql suite --list`: every suite, its size (settings, agents, runs) and
 * expected time. */
void suite_print_list(FILE *out);

#endif
