/* score — the scoring rules of memory suites, each as its anchor defines it.
 *
 * A rule turns the training curve of one run (episode returns and successes,
 * in the order the episodes ended) into a raw score, the runs of one setting
 * (one cell of a suite's sweep, all seeds of one agent) into a setting score
 * with a verdict (learned or not), and the settings into the suite score of
 * an agent. It also says where its raw score sits for a random agent and for
 * an optimal one, so that aggregates (rliable.h) work on normalised scores:
 * (raw - random) / (optimal - random), 0 random and 1 optimal.
 *
 * The rules:
 *  - "bsuite" (google-deepmind/bsuite, experiments/memory_len/analysis.py,
 *    used by memory_len and memory_size): per run, regret_ratio =
 *    (max_eps - total_perfect) / 0.5 / max_eps, total_perfect being the
 *    episodes answered right among the first max_eps; per setting, max_eps
 *    = min(the most episodes any seed ran, episodes (10,000)), and the mean
 *    regret_ratio over the seeds that ran max_eps episodes (score(): only
 *    the rows with episode == max_eps take part); a setting is learned when
 *    that mean is below 0.75 (LEARNING_THRESH); the suite score is the
 *    fraction of settings learned. Random scores 1, optimal 0.
 *  - "mmer" (POPGym, Morad et al. 2023: maximum mean episodic return): per
 *    run, the largest mean return over a window of `window` consecutive
 *    training episodes (all of them when fewer); per setting the mean over
 *    seeds; the suite score is the mean over settings. Returns are in
 *    [-1, 1]: optimal 1; random 0 by default (a suite sets its task's
 *    random-policy MMER in its row of experiments/suite.c); no verdict unless a threshold is set (learned when the
 *    setting score >= threshold).
 * New rules are rows of the table in score.c: a name and three functions.
 */
#ifndef RQL_SCORE_H
#define RQL_SCORE_H

#include <stddef.h>

/* One run's training curve, first episode first. */
typedef struct {
    const double *ret;        /* [n] episode returns */
    const double *success;    /* [n] 1 where the episode ended in success, else 0 */
    long n;
} score_curve;

typedef struct score_rule score_rule;

typedef struct {
    const score_rule *rule;
    long episodes;            /* bsuite: episodes per setting counted (NUM_EPISODES); 0: all */
    double threshold;         /* bsuite: learned when the setting score < it (0.75); mmer: >= it (NaN: none) */
    int window;               /* mmer: episodes per mean */
    double random, optimal;   /* raw score of a random and of an optimal agent */
} score_params;

struct score_rule {
    const char *name;
    const char *summary;      /* one line, for the scorecard */
    int lower_is_better;      /* raw and setting scores: 1 regret-like, 0 return-like */
    /* Raw score of one run (NaN when the curve is empty). */
    double (*run)(const score_params *p, const score_curve *c);
    /* Setting score of nseeds runs (NaN when none counts), and how many
     * runs it took (*used). */
    double (*setting)(const score_params *p, const score_curve *c, int nseeds, int *used);
    /* 1 learned, 0 not, -1 no verdict (NaN setting score or no threshold). */
    int (*learned)(const score_params *p, double setting_score);
    /* The suite score of an agent from its settings' scores and verdicts. */
    double (*suite)(const score_params *p, const double *setting_scores, const int *learned, int nsettings);
};

/* The rule named name ("bsuite", "mmer"), or NULL. */
const score_rule *score_rule_find(const char *name);
int score_rule_count(void);
const score_rule *score_rule_at(int i);

/* The rule's defaults: bsuite 10,000 episodes, threshold 0.75, random 1,
 * optimal 0; mmer window 100, random 0, optimal 1, no threshold. */
score_params score_defaults(const score_rule *r);

/* (raw - random) / (optimal - random). */
double score_normalise(const score_params *p, double raw);

#endif
