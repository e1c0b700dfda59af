/* score — the suites' scoring rules (definitions and sources in score.h). */
#include "stats/score.h"

#include <math.h>
#include <string.h>

/* ---- bsuite: regret against random (memory_len/analysis.py) ------------------------ */

/* The episodes of c that count: min(n, episodes). */
static long bsuite_eps(const score_params *p, long n) { return p->episodes > 0 && n > p->episodes ? p->episodes : n; }

/* memory_preprocess: regret_ratio = (episode - total_perfect) / base_rate, over
 * max_eps in score(); the first max_eps episodes of a run. */
static double bsuite_ratio(const score_curve *c, long max_eps) {
    double perfect = 0;
    for (long i = 0; i < max_eps; i++) perfect += c->success[i] > 0.5;
    return ((double)max_eps - perfect) / 0.5 / (double)max_eps;
}

static double bsuite_run(const score_params *p, const score_curve *c) {
    long m = bsuite_eps(p, c->n);
    return m > 0 ? bsuite_ratio(c, m) : NAN;
}

/* score(): max_eps = min(sub_df.episode.max(), NUM_EPISODES); the mean of
 * regret_ratio / max_eps over the rows with episode == max_eps: the seeds
 * that reached max_eps. */
static double bsuite_setting(const score_params *p, const score_curve *c, int nseeds, int *used) {
    long most = 0;
    for (int s = 0; s < nseeds; s++) if (c[s].n > most) most = c[s].n;
    long m = bsuite_eps(p, most);
    *used = 0;
    if (m <= 0) return NAN;
    double sum = 0;
    for (int s = 0; s < nseeds; s++)
        if (c[s].n >= m) {
            sum += bsuite_ratio(&c[s], m);
            (*used)++;
        }
    return sum / *used;
}

static int bsuite_learned(const score_params *p, double v) {
    if (isnan(v)) return -1;
    return v < p->threshold;          /* LEARNING_THRESH = 0.75 */
}

/* np.mean(np.array(regret_list) < LEARNING_THRESH): settings with no data
 * are absent from the groupby, so they do not count. */
static double fraction_learned(const score_params *p, const double *v, const int *learned, int n) {
    int k = 0, yes = 0;
    for (int i = 0; i < n; i++)
        if (learned[i] >= 0) {
            k++;
            yes += learned[i];
        }
    return k ? (double)yes / k : NAN;
}

/* ---- mmer: maximum mean episodic return (POPGym) ------------------------------------ */

static double mmer_run(const score_params *p, const score_curve *c) {
    if (c->n <= 0) return NAN;
    long w = p->window > 0 && p->window < c->n ? p->window : c->n;
    double s = 0;
    for (long i = 0; i < w; i++) s += c->ret[i];
    double best = s;
    for (long i = w; i < c->n; i++) {
        s += c->ret[i] - c->ret[i - w];
        if (s > best) best = s;
    }
    return best / (double)w;
}

static double mmer_setting(const score_params *p, const score_curve *c, int nseeds, int *used) {
    double sum = 0;
    *used = 0;
    for (int s = 0; s < nseeds; s++) {
        double v = mmer_run(p, &c[s]);
        if (isnan(v)) continue;
        sum += v;
        (*used)++;
    }
    return *used ? sum / *used : NAN;
}

static int mmer_learned(const score_params *p, double v) {
    if (isnan(v) || isnan(p->threshold)) return -1;
    return v >= p->threshold;
}

static double mean_of_settings(const score_params *p, const double *v, const int *learned, int n) {
    int k = 0;
    double s = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i])) {
            s += v[i];
            k++;
        }
    return k ? s / k : NAN;
}

/* ---- the table ------------------------------------------------------------------- */

static const score_rule rules[] = {
    {"bsuite", "bsuite: learned when wrong answers / 0.5 < 0.75 over 10,000 episodes; score = fraction learned",
     1, bsuite_run, bsuite_setting, bsuite_learned, fraction_learned},
    {"mmer", "POPGym MMER: max over training of the mean return of 100 episodes; score = mean over settings", 0,
     mmer_run, mmer_setting, mmer_learned, mean_of_settings},
};
#define NRULES ((int)(sizeof rules / sizeof rules[0]))

int score_rule_count(void) { return NRULES; }
const score_rule *score_rule_at(int i) { return i >= 0 && i < NRULES ? &rules[i] : NULL; }

const score_rule *score_rule_find(const char *name) {
    for (int i = 0; name && i < NRULES; i++)
        if (!strcmp(rules[i].name, name)) return &rules[i];
    return NULL;
}

score_params score_defaults(const score_rule *r) {
    if (r == &rules[0])
        return (score_params){.rule = r, .episodes = 10000, .threshold = 0.75, .random = 1, .optimal = 0};
    return (score_params){.rule = r, .window = 100, .threshold = NAN, .random = 0, .optimal = 1};
}

double score_normalise(const score_params *p, double raw) { return (raw - p->random) / (p->optimal - p->random); }
