/* popgym.c — POPGym's card and bandit games (Morad et al. 2023, "POPGym:
 * Benchmarking Partially Observable Reinforcement Learning", ICLR;
 * repository proroklab/popgym), rule for rule from the files of popgym/envs/ and the
 * card deck of popgym/core/deck.py:
 *
 *   repeat_first       popgym/envs/repeat_first.py
 *   repeat_previous    popgym/envs/repeat_previous.py
 *   autoencode         popgym/envs/autoencode.py
 *   count_recall       popgym/envs/count_recall.py
 *   higher_lower       popgym/envs/higher_lower.py
 *   multiarmed_bandit  popgym/envs/multiarmed_bandit.py
 *   concentration      popgym/envs/concentration.py
 *
 * The deck. POPGym's Deck holds num_decks x 52 cards; card i (0-based, before
 * shuffling) has suit i mod 4 (s, d, c, h), rank (i mod 52) / 4 (a, 2 .. 10,
 * j, q, k) and colour i mod 2 (b, r). reset shuffles a permutation of the
 * card indices and deal() takes cards off the end of it. Here the
 * permutation lives in the instance's state (int32 per card: no pointers, so
 * a checkpoint stays a byte copy), is shuffled with gsl_ran_shuffle (Fisher-
 * Yates, the instance's gsl_rng) and dealt from the end: deck[--left]. The
 * j-th card dealt in an episode (j = 0, 1, ...) is therefore deck[N - 1 - j].
 *
 * Observations are POPGym's discrete observations flattened as gymnasium's
 * flatten() does for Discrete / MultiDiscrete / Tuple spaces: one one-hot
 * block per discrete component, concatenated. Every episode's return lies in
 * [-1, 1] by POPGym's own reward scaling (1 / number of rewarded steps).
 * The difficulty presets are the Easy / Medium / Hard subclasses of each file.
 *
 * success (a flag rql logs, not POPGym's) is set at the end of an episode in
 * which no answer was wrong (card games); the bandit never sets it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include "envs/env_internal.h"

/* ---- shared: difficulty, deck ------------------------------------------------ */
static const char *const LEVELS[3] = {"easy", "medium", "hard"};

int popgym_level(const env_spec *s) {
    const char *v = env_spec_get(s, "difficulty");
    for (int i = 0; v && i < 3; i++)
        if (!strcmp(v, LEVELS[i])) return i;
    return 0;
}

static const char SUIT_CH[4] = {'s', 'd', 'c', 'h'};
static const char *const SUIT_NAMES[4] = {"spades", "diamonds", "clubs", "hearts"};
static const char *const RANK_NAMES[13] = {"a", "2", "3", "4", "5", "6", "7", "8", "9", "10", "j", "q", "k"};
static const char COLOR_CH[2] = {'b', 'r'};

static inline int suit_of(int32_t card) { return card & 3; }
static inline int rank_of(int32_t card) { return (card % 52) >> 2; }
static inline int color_of(int32_t card) { return card & 1; }

static void deck_shuffle(int32_t *deck, int n, gsl_rng *r) {
    for (int i = 0; i < n; i++) deck[i] = i;
    gsl_ran_shuffle(r, deck, (size_t)n, sizeof *deck);
}

/* Bytes of a state of hdr bytes plus cards int32 cards, a multiple of 8. */
static size_t card_bytes(size_t hdr, int cards) { return (hdr + 4 * (size_t)cards + 7) & ~(size_t)7; }

static const char *suit_action_name(const void *cfg, int a) { return SUIT_NAMES[a]; }

static void card_text(char *out, size_t cap, int32_t card) {
    snprintf(out, cap, "%s%c", RANK_NAMES[rank_of(card)], SUIT_CH[suit_of(card)]);
}

static int suit_bits(const void *cfg, int *idx, int cap) {
    int k = 0;
    for (; k < 4 && k < cap; k++) idx[k] = k;
    return k;
}

/* The configuration of every card game: decks and the preset's extra number. */
typedef struct {
    int decks, n;        /* num_decks, N = 52 num_decks cards */
    int k;               /* repeat_previous: k; count_recall: distinct values */
    int max_count;       /* count_recall: N / distinct, the number of actions */
    float scale;         /* the reward magnitude of one answer */
    char names[104][12]; /* action names "0" .. (count_recall, concentration) */
} card_cfg;

static card_cfg *card_cfg_new(const char *world, int decks) {
    card_cfg *c = calloc(1, sizeof *c);
    if (!c) { rql_set_error(ENV_ENOMEM, "%s: out of memory", world); return NULL; }
    c->decks = decks;
    c->n = 52 * decks;
    return c;
}

/* ---- repeat_first -------------------------------------------------------------- */
typedef struct {
    int32_t left;       /* cards still in the deck: deck[0 .. left) */
    int32_t first;      /* suit of the first card */
    int32_t shown;      /* the card shown now */
    int32_t wrong;      /* wrong answers this episode */
    int32_t deck[];     /* [N] */
} rf_state;

static const param_desc rf_params[] = {
    POPGYM_DIFFICULTY("easy: 1 deck (51 steps); medium: 8 decks (415); hard: 16 decks (831)"),
};

static const env_info rf_info = {
    "repeat_first", "POPGym RepeatFirst: answer the suit of the first card, every step",
    "POPGym's RepeatFirst (popgym/envs/repeat_first.py). A shuffled deck of N = 52 num_decks cards is dealt "
    "one card per step; the observation is the suit of the card just dealt, one-hot (4 floats: s, d, c, h). "
    "Every action (a suit) is an answer: +1/(N-1) if it is the suit of the first card of the episode, "
    "-1/(N-1) otherwise. The episode is truncated after N-1 steps (the deck is empty). Return in [-1, 1]; "
    "a uniform random policy expects -0.5. Presets: easy 1 deck, medium 8, hard 16. Signal bits: 0..3.",
    rf_params, 1, 0};

static int rf_make(const env_spec *s, void **out, env_dims *d) {
    static const int decks[3] = {1, 8, 16};
    card_cfg *c = card_cfg_new("repeat_first", decks[popgym_level(s)]);
    if (!c) return ENV_ENOMEM;
    c->scale = (float)(1.0 / (c->n - 1));
    *out = c;
    *d = (env_dims){.obs_size = 4, .n_actions = 4, .state_bytes = card_bytes(sizeof(rf_state), c->n)};
    return 0;
}

static void rf_reset(const void *cfg, void *st, gsl_rng *r, float *obs) {
    const card_cfg *c = cfg;
    rf_state *s = st;
    deck_shuffle(s->deck, c->n, r);
    s->left = c->n;
    s->shown = s->deck[--s->left];
    s->first = suit_of(s->shown);
    s->wrong = 0;
    env_one_hot(obs, 4, s->first);
}

static int rf_step(const void *cfg, void *st, gsl_rng *r, int a, float *obs, float *rew) {
    const card_cfg *c = cfg;
    rf_state *s = st;
    int ok = a == s->first;
    *rew = ok ? c->scale : -c->scale;
    s->wrong += !ok;
    int trunc = s->left == 1;
    s->shown = s->deck[--s->left];
    env_one_hot(obs, 4, suit_of(s->shown));
    return trunc ? ENV_F_TRUNC | (s->wrong ? 0 : ENV_F_SUCCESS) : 0;
}

static int rf_render(const void *cfg, const void *st, char *buf, size_t cap) {
    const card_cfg *c = cfg;
    const rf_state *s = st;
    char card[8];
    card_text(card, sizeof card, s->shown);
    size_t pos = 0;
    env_bufcat(buf, cap, &pos, "  card %d of %d: %s (suit %s)   first suit: %s   wrong so far: %d\n",
               c->n - s->left, c->n, card, SUIT_NAMES[suit_of(s->shown)], SUIT_NAMES[s->first], s->wrong);
    return 0;
}

const env_class repeat_first_class = {
    .info = &rf_info, .make = rf_make, .reset = rf_reset,
    .step = rf_step, .render = rf_render, .action_name = suit_action_name, .signal_bits = suit_bits,
};

/* ---- repeat_previous ----------------------------------------------------------- */
typedef struct {
    int32_t left, wrong;
    int32_t deck[];     /* [N]; the j-th card dealt is deck[N - 1 - j] */
} rp_state;

static const param_desc rp_params[] = {
    POPGYM_DIFFICULTY("easy: 1 deck, k = 4 (51 steps); medium: 2 decks, k = 32 (103); hard: 3 decks, k = 64 (155)"),
};

static const env_info rp_info = {
    "repeat_previous", "POPGym RepeatPrevious: answer the suit of the card dealt k-1 steps ago",
    "POPGym's RepeatPrevious (popgym/envs/repeat_previous.py). A shuffled deck of N = 52 num_decks cards "
    "is dealt one card per step; the observation is the suit of the card just dealt, one-hot (4 floats). "
    "Once k cards have been dealt, the action is an answer: +1/(N-k) if it is the suit of the card shown "
    "k-1 steps before the current one (POPGym's hand[-k]), -1/(N-k) otherwise; before that rewards are 0. "
    "Truncated after N-1 steps. Return in [-1, 1]; a uniform random policy expects -0.5. Presets: easy 1 "
    "deck k = 4, medium 2 decks k = 32, hard 3 decks k = 64. Signal bits: 0..3.",
    rp_params, 1, 0};

static int rp_make(const env_spec *s, void **out, env_dims *d) {
    static const int decks[3] = {1, 2, 3}, ks[3] = {4, 32, 64};
    int lv = popgym_level(s);
    card_cfg *c = card_cfg_new("repeat_previous", decks[lv]);
    if (!c) return ENV_ENOMEM;
    c->k = ks[lv];
    c->scale = (float)(1.0 / (c->n - c->k));
    *out = c;
    *d = (env_dims){.obs_size = 4, .n_actions = 4, .state_bytes = card_bytes(sizeof(rp_state), c->n)};
    return 0;
}

static void rp_reset(const void *cfg, void *st, gsl_rng *r, float *obs) {
    const card_cfg *c = cfg;
    rp_state *s = st;
    deck_shuffle(s->deck, c->n, r);
    s->left = c->n - 1;
    s->wrong = 0;
    env_one_hot(obs, 4, suit_of(s->deck[c->n - 1]));
}

static int rp_step(const void *cfg, void *st, gsl_rng *r, int a, float *obs, float *rew) {
    const card_cfg *c = cfg;
    rp_state *s = st;
    int hand = c->n - s->left;             /* cards dealt so far */
    *rew = 0;
    if (hand >= c->k) {                    /* hand[-k] is the (hand - k)-th card dealt */
        int ok = a == suit_of(s->deck[c->n - 1 - (hand - c->k)]);
        *rew = ok ? c->scale : -c->scale;
        s->wrong += !ok;
    }
    int trunc = s->left == 1;
    env_one_hot(obs, 4, suit_of(s->deck[--s->left]));
    return trunc ? ENV_F_TRUNC | (s->wrong ? 0 : ENV_F_SUCCESS) : 0;
}

static int rp_render(const void *cfg, const void *st, char *buf, size_t cap) {
    const card_cfg *c = cfg;
    const rp_state *s = st;
    int hand = c->n - s->left;
    char card[8], want[8];
    card_text(card, sizeof card, s->deck[s->left]);
    size_t pos = 0;
    env_bufcat(buf, cap, &pos, "  card %d of %d: %s (suit %s)", hand, c->n, card, SUIT_NAMES[suit_of(s->deck[s->left])]);
    if (hand >= c->k) {
        int32_t t = s->deck[c->n - 1 - (hand - c->k)];
        card_text(want, sizeof want, t);
        env_bufcat(buf, cap, &pos, "   answer now: the suit of card %d, %s (%s)", hand - c->k + 1, want,
                   SUIT_NAMES[suit_of(t)]);
    } else {
        env_bufcat(buf, cap, &pos, "   answers start at card %d (k = %d)", c->k, c->k);
    }
    env_bufcat(buf, cap, &pos, "   wrong so far: %d\n", s->wrong);
    return 0;
}

const env_class repeat_previous_class = {
    .info = &rp_info, .make = rp_make, .reset = rp_reset,
    .step = rp_step, .render = rp_render, .action_name = suit_action_name, .signal_bits = suit_bits,
};

/* ---- autoencode ---------------------------------------------------------------- */
enum { AE_PLAY = 0, AE_WATCH = 1 };

typedef struct {
    int32_t left;       /* cards still in the deck */
    int32_t hand;       /* cards in the system's hand: dealt in WATCH, popped in PLAY */
    int32_t mode;       /* AE_WATCH, then AE_PLAY */
    int32_t wrong;
    int32_t deck[];     /* [N]; the j-th card dealt is deck[N - 1 - j] */
} ae_state;

static const param_desc ae_params[] = {
    POPGYM_DIFFICULTY("easy: 1 deck (103 steps); medium: 2 decks (207); hard: 3 decks (311)"),
};

static const env_info ae_info = {
    "autoencode", "POPGym Autoencode: watch N cards, then recite their suits in reverse order",
    "POPGym's Autoencode (popgym/envs/autoencode.py). Observation 6 floats: mode one-hot (play, watch) "
    "and suit one-hot (s, d, c, h). Watch phase: the N = 52 num_decks cards of a shuffled deck are shown "
    "one per step (actions ignored, reward 0); the last one is shown with the mode already switched to "
    "play. Play phase: N steps, each action is an answer: +1/N if it is the suit of the latest card not "
    "yet recited (last shown first), -1/N otherwise; the observation is then (play, suit 0). The episode "
    "terminates after 2N-1 steps. Return in [-1, 1]; a uniform random policy expects -0.5. Presets: easy 1 "
    "deck, medium 2, hard 3. Signal bits: 2..5 (the suit).",
    ae_params, 1, 0};

static int ae_make(const env_spec *s, void **out, env_dims *d) {
    static const int decks[3] = {1, 2, 3};
    card_cfg *c = card_cfg_new("autoencode", decks[popgym_level(s)]);
    if (!c) return ENV_ENOMEM;
    c->scale = (float)(1.0 / c->n);
    *out = c;
    *d = (env_dims){.obs_size = 6, .n_actions = 4, .state_bytes = card_bytes(sizeof(ae_state), c->n)};
    return 0;
}

static void ae_obs(float *o, int mode, int suit) {
    memset(o, 0, 6 * sizeof(float));
    o[mode] = 1;
    o[2 + suit] = 1;
}

static void ae_reset(const void *cfg, void *st, gsl_rng *r, float *obs) {
    const card_cfg *c = cfg;
    ae_state *s = st;
    deck_shuffle(s->deck, c->n, r);
    s->left = c->n - 1;
    s->hand = 1;
    s->mode = AE_WATCH;
    s->wrong = 0;
    ae_obs(obs, s->mode, suit_of(s->deck[c->n - 1]));
}

static int ae_step(const void *cfg, void *st, gsl_rng *r, int a, float *obs, float *rew) {
    const card_cfg *c = cfg;
    ae_state *s = st;
    if (s->mode == AE_WATCH) {
        s->left--;
        s->hand++;
        if (s->left == 0) s->mode = AE_PLAY;
        *rew = 0;
        ae_obs(obs, s->mode, suit_of(s->deck[c->n - s->hand]));
        return 0;
    }
    int term = s->hand == 1;
    int ok = a == suit_of(s->deck[c->n - s->hand]);   /* hand.pop(-1): the latest card dealt */
    s->hand--;
    *rew = ok ? c->scale : -c->scale;
    s->wrong += !ok;
    ae_obs(obs, AE_PLAY, 0);   /* POPGym's make_obs(np.array([0])): suits_idx[0] = 0 */
    return term ? ENV_F_TERM | (s->wrong ? 0 : ENV_F_SUCCESS) : 0;
}

static int ae_render(const void *cfg, const void *st, char *buf, size_t cap) {
    const card_cfg *c = cfg;
    const ae_state *s = st;
    size_t pos = 0;
    char card[8];
    if (s->mode == AE_WATCH) {
        card_text(card, sizeof card, s->deck[c->n - s->hand]);
        env_bufcat(buf, cap, &pos, "  watch: card %d of %d: %s (suit %s)\n", s->hand, c->n, card,
                   SUIT_NAMES[suit_of(s->deck[c->n - s->hand])]);
    } else if (s->hand > 0) {
        card_text(card, sizeof card, s->deck[c->n - s->hand]);
        env_bufcat(buf, cap, &pos, "  play: recite card %d of %d (backwards): %s (suit %s)   wrong so far: %d\n",
                   c->n - s->hand + 1, c->n, card, SUIT_NAMES[suit_of(s->deck[c->n - s->hand])], s->wrong);
    } else {
        env_bufcat(buf, cap, &pos, "  play: all %d cards recited, %d wrong\n", c->n, s->wrong);
    }
    return 0;
}

static int ae_bits(const void *cfg, int *idx, int cap) {
    int k = 0;
    for (; k < 4 && k < cap; k++) idx[k] = 2 + k;
    return k;
}

const env_class autoencode_class = {
    .info = &ae_info, .make = ae_make, .reset = ae_reset,
    .step = ae_step, .render = ae_render, .action_name = suit_action_name, .signal_bits = ae_bits,
};

/* ---- count_recall -------------------------------------------------------------- */
enum { CR_COLORS = 0, CR_SUITS = 1, CR_RANKS = 2 };

typedef struct {
    int32_t left;       /* cards still in each deck (both deal together) */
    int32_t value, query;
    int32_t wrong;
    int32_t counts[16]; /* how often each value has been dealt (the shown one included) */
    int32_t deck[];     /* [2N]: the value deck, then the query deck */
} cr_state;

static const param_desc cr_params[] = {
    POPGYM_DIFFICULTY("easy: 1 deck, colours (51 steps, 26 actions); medium: 2 decks, suits (103, 26); "
               "hard: 4 decks, ranks (207, 16)"),
};

static const env_info cr_info = {
    "count_recall", "POPGym CountRecall: answer how often the queried card has been dealt so far",
    "POPGym's CountRecall (popgym/envs/count_recall.py). Two shuffled decks of N = 52 num_decks cards deal "
    "together, one card each per step: a value card and a query card, each reduced to its colour (easy), "
    "suit (medium) or rank (hard): n distinct values. Observation 2n floats: value one-hot, query one-hot. "
    "The action answers how many value cards equal to the current query have been dealt so far (the one "
    "shown now included): +1/(N-1) if right, -1/(N-1) otherwise; N/n actions (0 .. N/n-1). The episode "
    "terminates after N-1 steps. Return in [-1, 1]. Presets: easy 1 deck colours, medium 2 decks suits, "
    "hard 4 decks ranks. Signal bits: 0..n-1 (the value).",
    cr_params, 1, 0};

static inline int cr_kind(const card_cfg *c, int32_t card) {
    return c->k == 2 ? color_of(card) : c->k == 4 ? suit_of(card) : rank_of(card);
}

static int cr_make(const env_spec *s, void **out, env_dims *d) {
    static const int decks[3] = {1, 2, 4}, distinct[3] = {2, 4, 13};
    int lv = popgym_level(s);
    card_cfg *c = card_cfg_new("count_recall", decks[lv]);
    if (!c) return ENV_ENOMEM;
    c->k = distinct[lv];
    c->max_count = c->n / c->k;
    c->scale = (float)(1.0 / (c->n - 1));
    for (int a = 0; a < c->max_count; a++) snprintf(c->names[a], sizeof c->names[a], "%d", a);
    *out = c;
    *d = (env_dims){.obs_size = 2 * c->k, .n_actions = c->max_count,
                    .state_bytes = card_bytes(sizeof(cr_state), 2 * c->n)};
    return 0;
}

static void cr_deal(const card_cfg *c, cr_state *s, float *obs) {
    s->left--;
    s->value = cr_kind(c, s->deck[s->left]);
    s->query = cr_kind(c, s->deck[c->n + s->left]);
    s->counts[s->value]++;
    memset(obs, 0, sizeof(float) * 2 * (size_t)c->k);
    obs[s->value] = 1;
    obs[c->k + s->query] = 1;
}

static void cr_reset(const void *cfg, void *st, gsl_rng *r, float *obs) {
    const card_cfg *c = cfg;
    cr_state *s = st;
    deck_shuffle(s->deck, c->n, r);          /* value deck first, then the query deck, as POPGym */
    deck_shuffle(s->deck + c->n, c->n, r);
    memset(s->counts, 0, sizeof s->counts);
    s->left = c->n;
    s->wrong = 0;
    cr_deal(c, s, obs);
}

static int cr_step(const void *cfg, void *st, gsl_rng *r, int a, float *obs, float *rew) {
    const card_cfg *c = cfg;
    cr_state *s = st;
    int want = s->counts[s->query];
    cr_deal(c, s, obs);
    int ok = a == want;
    *rew = ok ? c->scale : -c->scale;
    s->wrong += !ok;
    return s->left == 0 ? ENV_F_TERM | (s->wrong ? 0 : ENV_F_SUCCESS) : 0;
}

static void cr_value_text(const card_cfg *c, int v, char *out, size_t cap) {
    if (c->k == 2) snprintf(out, cap, "%c", COLOR_CH[v]);
    else if (c->k == 4) snprintf(out, cap, "%s", SUIT_NAMES[v]);
    else snprintf(out, cap, "%s", RANK_NAMES[v]);
}

static int cr_render(const void *cfg, const void *st, char *buf, size_t cap) {
    const card_cfg *c = cfg;
    const cr_state *s = st;
    char v[16], q[16];
    cr_value_text(c, s->value, v, sizeof v);
    cr_value_text(c, s->query, q, sizeof q);
    size_t pos = 0;
    env_bufcat(buf, cap, &pos, "  step %d of %d: dealt %s, query %s: answer now how many %s so far (%d)   "
               "wrong so far: %d\n", c->n - s->left, c->n - 1, v, q, q, s->counts[s->query], s->wrong);
    return 0;
}

static const char *cr_action_name(const void *cfg, int a) { return ((const card_cfg *)cfg)->names[a]; }

static int cr_bits(const void *cfg, int *idx, int cap) {
    const card_cfg *c = cfg;
    int k = 0;
    for (; k < c->k && k < cap; k++) idx[k] = k;
    return k;
}

const env_class count_recall_class = {
    .info = &cr_info, .make = cr_make, .reset = cr_reset,
    .step = cr_step, .render = cr_render, .action_name = cr_action_name, .signal_bits = cr_bits,
};

/* ---- higher_lower -------------------------------------------------------------- */
typedef struct {
    int32_t left, cur;  /* cur: the card shown (its rank decides) */
    int32_t wrong, pad;
    int32_t deck[];
} hl_state;

static const param_desc hl_params[] = {
    POPGYM_DIFFICULTY("easy: 1 deck (51 steps); medium: 2 decks (103); hard: 3 decks (155)"),
};

static const env_info hl_info = {
    "higher_lower", "POPGym HigherLower: guess whether the next card ranks higher or lower",
    "POPGym's HigherLower (popgym/envs/higher_lower.py). A shuffled deck of N = 52 num_decks cards; the "
    "observation is the rank of the card shown, one-hot (13 floats: a, 2 .. 10, j, q, k; the ace is low). "
    "Action 0 guesses the next card ranks higher, 1 lower; the next card is dealt and shown: +1/N for a "
    "right guess, -1/N for a wrong one, 0 when the ranks are equal. Terminates after N-1 steps. Return "
    "in [-1, 1]; a uniform random policy expects 0; counting cards beats the memoryless policy (guess "
    "higher below 7, lower above). Presets: easy 1 deck, medium 2, hard 3. Signal bits: 0..12.",
    hl_params, 1, 0};

static int hl_make(const env_spec *s, void **out, env_dims *d) {
    static const int decks[3] = {1, 2, 3};
    card_cfg *c = card_cfg_new("higher_lower", decks[popgym_level(s)]);
    if (!c) return ENV_ENOMEM;
    c->scale = (float)(1.0 / c->n);
    *out = c;
    *d = (env_dims){.obs_size = 13, .n_actions = 2, .state_bytes = card_bytes(sizeof(hl_state), c->n)};
    return 0;
}

static void hl_reset(const void *cfg, void *st, gsl_rng *r, float *obs) {
    const card_cfg *c = cfg;
    hl_state *s = st;
    deck_shuffle(s->deck, c->n, r);
    s->left = c->n - 1;
    s->cur = s->deck[s->left];
    s->wrong = 0;
    env_one_hot(obs, 13, rank_of(s->cur));
}

static int hl_step(const void *cfg, void *st, gsl_rng *r, int a, float *obs, float *rew) {
    const card_cfg *c = cfg;
    hl_state *s = st;
    int term = s->left <= 1;
    int32_t next = s->deck[--s->left];
    int cv = rank_of(s->cur), nv = rank_of(next);
    if (nv == cv) *rew = 0;
    else if ((nv > cv) == (a == 0)) *rew = c->scale;
    else { *rew = -c->scale; s->wrong++; }
    s->cur = next;
    env_one_hot(obs, 13, nv);
    return term ? ENV_F_TERM | (s->wrong ? 0 : ENV_F_SUCCESS) : 0;
}

static int hl_render(const void *cfg, const void *st, char *buf, size_t cap) {
    const card_cfg *c = cfg;
    const hl_state *s = st;
    char card[8];
    card_text(card, sizeof card, s->cur);
    size_t pos = 0;
    env_bufcat(buf, cap, &pos, "  card %d of %d: %s   (%d left in the deck)   wrong so far: %d\n",
               c->n - s->left, c->n, card, s->left, s->wrong);
    return 0;
}

static const char *hl_action_name(const void *cfg, int a) { return a == 0 ? "higher" : "lower"; }

static int hl_bits(const void *cfg, int *idx, int cap) {
    int k = 0;
    for (; k < 13 && k < cap; k++) idx[k] = k;
    return k;
}

const env_class higher_lower_class = {
    .info = &hl_info, .make = hl_make, .reset = hl_reset,
    .step = hl_step, .render = hl_render, .action_name = hl_action_name, .signal_bits = hl_bits,
};

/* ---- multiarmed_bandit --------------------------------------------------------- */
typedef struct {
    int arms, len;
    float scale;
    char names[30][16];
} mab_cfg;

typedef struct {
    int32_t t;          /* steps taken */
    int32_t last;       /* the last payout observed (0 at reset) */
    float p[30];        /* payout probability of each arm (float32, as POPGym) */
} mab_state;

static const param_desc mab_params[] = {
    POPGYM_DIFFICULTY("easy: 10 arms, 200 steps; medium: 20 arms, 400; hard: 30 arms, 600"),
};

static const env_info mab_info = {
    "multiarmed_bandit", "POPGym MultiarmedBandit: find and exploit the best of K arms in one episode",
    "POPGym's MultiarmedBandit (popgym/envs/multiarmed_bandit.py). Each episode draws K payout "
    "probabilities p_i ~ U[0, 1) (float32). Action i pulls arm i: it pays out with probability p_i; the "
    "observation is the payout, one-hot (2 floats: no, yes; 'no' at reset), the reward +1/L on a payout "
    "and -1/L otherwise. Truncated after L steps. Return in [-1, 1]; a uniform random policy expects 0. "
    "POPGym marks this world obs_requires_prev_action: use it with prev_action = true. Presets: easy "
    "K = 10, L = 200; medium 20, 400; hard 30, 600. Signal bits: none.",
    mab_params, 1, 0};

static int mab_make(const env_spec *s, void **out, env_dims *d) {
    static const int arms[3] = {10, 20, 30}, lens[3] = {200, 400, 600};
    int lv = popgym_level(s);
    mab_cfg *c = calloc(1, sizeof *c);
    if (!c) return rql_set_error(ENV_ENOMEM, "multiarmed_bandit: out of memory");
    c->arms = arms[lv];
    c->len = lens[lv];
    c->scale = (float)(1.0 / c->len);
    for (int a = 0; a < c->arms; a++) snprintf(c->names[a], sizeof c->names[a], "arm%d", a);
    *out = c;
    *d = (env_dims){.obs_size = 2, .n_actions = c->arms, .state_bytes = sizeof(mab_state)};
    return 0;
}

/* numpy's Generator.random(dtype=float32): 24 random bits times 2^-24, in [0, 1). */
static float uniform_f32(gsl_rng *r) { return (float)gsl_rng_uniform_int(r, 1UL << 24) * (1.0f / 16777216.0f); }

static void mab_reset(const void *cfg, void *st, gsl_rng *r, float *obs) {
    const mab_cfg *c = cfg;
    mab_state *s = st;
    s->t = 0;
    s->last = 0;
    memset(s->p, 0, sizeof s->p);
    for (int i = 0; i < c->arms; i++) s->p[i] = uniform_f32(r);
    env_one_hot(obs, 2, 0);
}

static int mab_step(const void *cfg, void *st, gsl_rng *r, int a, float *obs, float *rew) {
    const mab_cfg *c = cfg;
    mab_state *s = st;
    s->last = gsl_rng_uniform(r) < (double)s->p[a];
    *rew = s->last ? c->scale : -c->scale;
    int trunc = s->t >= c->len - 1;
    s->t++;
    env_one_hot(obs, 2, s->last);
    return trunc ? ENV_F_TRUNC : 0;
}

static int mab_render(const void *cfg, const void *st, char *buf, size_t cap) {
    const mab_cfg *c = cfg;
    const mab_state *s = st;
    size_t pos = 0;
    env_bufcat(buf, cap, &pos, "  step %d of %d; last pull %s\n  arms:", s->t, c->len, s->last ? "paid" : "did not pay");
    for (int i = 0; i < c->arms; i++) env_bufcat(buf, cap, &pos, "%s %d:%.2f", i % 10 || !i ? "" : "\n       ", i, s->p[i]);
    env_bufcat(buf, cap, &pos, "\n");
    return 0;
}

static const char *mab_action_name(const void *cfg, int a) { return ((const mab_cfg *)cfg)->names[a]; }

const env_class multiarmed_bandit_class = {
    .info = &mab_info, .make = mab_make, .reset = mab_reset,
    .step = mab_step, .render = mab_render, .action_name = mab_action_name,
};

/* ---- concentration ------------------------------------------------------------- */
typedef struct {
    int32_t t;          /* steps taken (POPGym's curr_step) */
    int32_t n_play;     /* cards turned and waiting for their pair: 0 or 1 */
    int32_t play;       /* the position of that card */
    int32_t n_up;       /* cards matched and face up */
    int32_t deck[];     /* [N] the card at each position, then [N] face-up flags */
} cc_state;

static const param_desc cc_params[] = {
    POPGYM_DIFFICULTY("easy: 1 deck, match colours (104 steps); medium: 2 decks, colours (208); "
               "hard: 1 deck, ranks (104)"),
};

static const env_info cc_info = {
    "concentration", "POPGym Concentration: turn cards face up two at a time and match them",
    "POPGym's Concentration (popgym/envs/concentration.py). N = 52 num_decks cards lie face down at N "
    "positions (shuffled); an action turns the card at one position. Observation: per position a one-hot "
    "of F+1 values, the card's value (its colour, F = 2, or its rank, F = 13) when face up or turned, F "
    "when face down (N (F+1) floats). The second card of a turn resolves the pair: matching values at two "
    "positions stay face up, +1/(N/2); otherwise both turn back, -2/L. Turning a card already face up "
    "costs -1/L per card turned this turn and ends the turn. Terminates when every card is face up, "
    "truncated after L = ceil(2N - N/(2N-1)) steps. Return in [-1, 1]. POPGym marks it "
    "obs_requires_prev_action. Presets: easy 1 deck colours, medium 2 decks colours, hard 1 deck ranks. "
    "Signal bits: none.",
    cc_params, 1, 0};

static int cc_make(const env_spec *s, void **out, env_dims *d) {
    static const int decks[3] = {1, 2, 1}, values[3] = {2, 2, 13};
    int lv = popgym_level(s);
    card_cfg *c = card_cfg_new("concentration", decks[lv]);
    if (!c) return ENV_ENOMEM;
    c->k = values[lv];                                   /* F, the face-down index */
    c->max_count = (int)ceil(2.0 * c->n - (double)c->n / (2.0 * c->n - 1));   /* L */
    c->scale = (float)(1.0 / (c->n / 2));                /* success */
    for (int a = 0; a < c->n; a++) snprintf(c->names[a], sizeof c->names[a], "%d", a);
    *out = c;
    *d = (env_dims){.obs_size = c->n * (c->k + 1), .n_actions = c->n,
                    .state_bytes = card_bytes(sizeof(cc_state), 2 * c->n)};
    return 0;
}

static inline int cc_value(const card_cfg *c, int32_t card) { return c->k == 2 ? color_of(card) : rank_of(card); }

/* POPGym's get_obs: face-up and turned positions show their value. */
static void cc_obs(const card_cfg *c, const cc_state *s, const int *turned, int nt, float *o) {
    int w = c->k + 1;
    memset(o, 0, sizeof(float) * (size_t)(c->n * w));
    const int32_t *up = s->deck + c->n;
    for (int p = 0; p < c->n; p++) o[p * w + (up[p] ? cc_value(c, s->deck[p]) : c->k)] = 1;
    for (int j = 0; j < nt; j++) {
        int p = turned[j];
        memset(o + p * w, 0, sizeof(float) * (size_t)w);
        o[p * w + cc_value(c, s->deck[p])] = 1;
    }
}

static void cc_reset(const void *cfg, void *st, gsl_rng *r, float *obs) {
    const card_cfg *c = cfg;
    cc_state *s = st;
    deck_shuffle(s->deck, c->n, r);
    memset(s->deck + c->n, 0, sizeof(int32_t) * (size_t)c->n);
    s->t = s->n_play = s->play = s->n_up = 0;
    cc_obs(c, s, NULL, 0, obs);
}

static int cc_step(const void *cfg, void *st, gsl_rng *r, int a, float *obs, float *rew) {
    const card_cfg *c = cfg;
    cc_state *s = st;
    int32_t *up = s->deck + c->n;
    int flags = s->t >= c->max_count - 1 ? ENV_F_TRUNC : 0;
    int turned[2], nt = 0;
    if (s->n_play) turned[nt++] = s->play;
    turned[nt++] = a;
    cc_obs(c, s, turned, nt, obs);                       /* before the turn resolves, as POPGym */
    float fail = (float)(-1.0 / c->max_count);
    int already_up = up[a] || (nt == 2 && up[turned[0]]);
    *rew = 0;
    if (already_up) {
        *rew = fail * (float)nt;
        s->n_play = 0;
    } else if (nt == 2) {
        if (turned[0] != turned[1] && cc_value(c, s->deck[turned[0]]) == cc_value(c, s->deck[turned[1]])) {
            *rew = c->scale;
            up[turned[0]] = up[turned[1]] = 1;
            s->n_up += 2;
            if (s->n_up == c->n) flags |= ENV_F_TERM | ENV_F_SUCCESS;
        } else {
            *rew = 2 * fail;
        }
        s->n_play = 0;
    } else {
        s->n_play = 1;
        s->play = a;
    }
    s->t++;
    return flags;
}

static int cc_render(const void *cfg, const void *st, char *buf, size_t cap) {
    const card_cfg *c = cfg;
    const cc_state *s = st;
    const int32_t *up = s->deck + c->n;
    size_t pos = 0;
    env_bufcat(buf, cap, &pos, "  step %d of %d, %d of %d face up%s\n", s->t, c->max_count, s->n_up, c->n,
               s->n_play ? ", one card turned (*)" : "");
    for (int p = 0; p < c->n; p++) {
        char v[8];
        if (c->k == 2) snprintf(v, sizeof v, "%c", COLOR_CH[color_of(s->deck[p])]);
        else snprintf(v, sizeof v, "%s", RANK_NAMES[rank_of(s->deck[p])]);
        int shown = up[p] || (s->n_play && s->play == p);
        env_bufcat(buf, cap, &pos, "%s%3s%c", p % 13 ? "" : "  ", shown ? v : "?", s->n_play && s->play == p ? '*' : ' ');
        if (p % 13 == 12) env_bufcat(buf, cap, &pos, "\n");
    }
    return 0;
}

static const char *cc_action_name(const void *cfg, int a) { return ((const card_cfg *)cfg)->names[a]; }

const env_class concentration_class = {
    .info = &cc_info, .make = cc_make, .reset = cc_reset,
    .step = cc_step, .render = cc_render, .action_name = cc_action_name,
};
