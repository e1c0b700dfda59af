/* popgym_boards.c — POPGym's two board games with grid actions (Morad et al.
 * 2023, POPGym), rule for rule:
 *
 *   minesweeper  popgym/envs/minesweeper.py
 *   battleship   popgym/envs/battleship.py
 *
 * POPGym's action is a cell (row, column), a MultiDiscrete; here it is one
 * discrete action a = row * W + column, which is what POPGym's DiscreteAction
 * wrapper (np.unravel_index, C order) maps back. The observation is the one
 * number the game reveals about the cell just chosen, one-hot; which cell
 * that was is the agent's own action, which POPGym expects it to see through
 * the prev_action wrapper (both worlds are obs_requires_prev_action).
 *
 * Boards are small (at most 12 x 12): int8 grids in the state, no pointers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include "envs/env_internal.h"

typedef struct {
    int rows, cols, cells;
    int mines;              /* minesweeper */
    int len;                /* max_episode_length */
    int n_obs;              /* values the observation takes */
    float success, fail, bad, miss;
    char names[144][24];    /* "r3c5" */
} board_cfg;

static board_cfg *board_new(const char *world, int rows, int cols) {
    board_cfg *c = calloc(1, sizeof *c);
    if (!c) { rql_set_error(ENV_ENOMEM, "%s: out of memory", world); return NULL; }
    c->rows = rows;
    c->cols = cols;
    c->cells = rows * cols;
    for (int a = 0; a < c->cells; a++) snprintf(c->names[a], sizeof c->names[a], "r%dc%d", a / cols, a % cols);
    return c;
}

static const char *board_action_name(const void *cfg, int a) { return ((const board_cfg *)cfg)->names[a]; }

/* ---- minesweeper ----------------------------------------------------------------- */
enum { MS_CLEAR = 0, MS_MINE = 1, MS_VIEWED = 2 };

typedef struct {
    int32_t t;              /* POPGym's timestep */
    int32_t clear;          /* clear cells not yet viewed */
    int32_t last;           /* the cell chosen last (-1 at reset) */
    int32_t pad;
    int8_t grid[64];        /* MS_CLEAR, MS_MINE, MS_VIEWED */
    int8_t near[64];        /* mines in the 3 x 3 block around the cell, itself included */
} ms_state;

static const param_desc ms_params[] = {
    POPGYM_DIFFICULTY("easy: 4x4, 2 mines; medium: 6x6, 6 mines; hard: 8x8, 10 mines"),
};

static const env_info ms_info = {
    "minesweeper", "POPGym MineSweeper: clear a hidden minefield told only each chosen cell's count",
    "POPGym's MineSweeper (popgym/envs/minesweeper.py). Mines lie under R x C cells; the action a = row C + "
    "column chooses a cell; the observation is the number of mines in the 3 x 3 block around it (itself "
    "included), one-hot over min(mines + 1, 10) values; 0 at reset. A clear cell not chosen before pays "
    "+1/L (L = cells - mines); one chosen before -0.5/(L-2); a mine -0.5 - 1/L and terminates. Choosing "
    "the last clear cell terminates with success. Truncated at step L+1 (POPGym's timestep == L check, "
    "made before the step is counted). Return in [-1 - 0.5/(L-2), 1]. POPGym marks it "
    "obs_requires_prev_action. Presets: easy 4x4 with 2 mines, medium 6x6 with 6, hard 8x8 with 10. "
    "Signal bits: none.",
    ms_params, 1, 0};

static int ms_make(const env_spec *s, void **out, env_dims *d) {
    static const int side[3] = {4, 6, 8}, mines[3] = {2, 6, 10};
    int lv = popgym_level(s);
    board_cfg *c = board_new("minesweeper", side[lv], side[lv]);
    if (!c) return ENV_ENOMEM;
    c->mines = mines[lv];
    c->len = c->cells - c->mines;
    c->n_obs = c->mines + 1 < 10 ? c->mines + 1 : 10;
    c->success = (float)(1.0 / c->len);
    c->fail = (float)(-0.5 - 1.0 / c->len);
    c->bad = (float)(-0.5 / (c->len - 2));
    *out = c;
    *d = (env_dims){.obs_size = c->n_obs, .n_actions = c->cells, .state_bytes = sizeof(ms_state)};
    return 0;
}

static void ms_reset(const void *cfg, void *st, gsl_rng *r, float *obs) {
    const board_cfg *c = cfg;
    ms_state *s = st;
    memset(s, 0, sizeof *s);
    int all[64], pick[10];
    for (int i = 0; i < c->cells; i++) all[i] = i;
    gsl_ran_choose(r, pick, (size_t)c->mines, all, (size_t)c->cells, sizeof(int));   /* without replacement */
    for (int k = 0; k < c->mines; k++) s->grid[pick[k]] = MS_MINE;
    for (int i = 0; i < c->rows; i++)
        for (int j = 0; j < c->cols; j++) {
            int n = 0;
            for (int di = -1; di <= 1; di++)
                for (int dj = -1; dj <= 1; dj++) {
                    int y = i + di, x = j + dj;
                    n += y >= 0 && y < c->rows && x >= 0 && x < c->cols && s->grid[y * c->cols + x] == MS_MINE;
                }
            s->near[i * c->cols + j] = (int8_t)n;
        }
    s->clear = c->cells - c->mines;
    s->last = -1;
    env_one_hot(obs, c->n_obs, 0);
}

static int ms_step(const void *cfg, void *st, gsl_rng *r, int a, float *obs, float *rew) {
    const board_cfg *c = cfg;
    ms_state *s = st;
    int flags = 0;
    if (s->grid[a] == MS_MINE) {
        flags |= ENV_F_TERM;
        *rew = c->fail;
    } else if (s->grid[a] == MS_VIEWED) {
        *rew = c->bad;
    } else {
        s->grid[a] = MS_VIEWED;
        s->clear--;
        *rew = c->success;
    }
    if (s->t == c->len) flags |= ENV_F_TRUNC;
    if (s->clear == 0) flags |= ENV_F_TERM | ENV_F_SUCCESS;
    env_one_hot(obs, c->n_obs, s->near[a]);
    s->last = a;
    s->t++;
    return flags;
}

static int ms_render(const void *cfg, const void *st, char *buf, size_t cap) {
    const board_cfg *c = cfg;
    const ms_state *s = st;
    size_t pos = 0;
    env_bufcat(buf, cap, &pos, "  step %d; %d clear cells left (. hidden, * mine, digits: viewed)\n", s->t, s->clear);
    for (int i = 0; i < c->rows; i++) {
        env_bufcat(buf, cap, &pos, "  ");
        for (int j = 0; j < c->cols; j++) {
            int k = i * c->cols + j;
            char ch = s->grid[k] == MS_VIEWED ? (char)('0' + s->near[k]) : s->grid[k] == MS_MINE ? '*' : '.';
            env_bufcat(buf, cap, &pos, "%c%c", ch, k == s->last ? '<' : ' ');
        }
        env_bufcat(buf, cap, &pos, "\n");
    }
    return 0;
}

const env_class minesweeper_class = {
    .info = &ms_info, .make = ms_make, .reset = ms_reset,
    .step = ms_step, .render = ms_render, .action_name = board_action_name,
};

/* ---- battleship ------------------------------------------------------------------ */
static const int SHIPS[4] = {2, 3, 3, 4};
enum { BS_NEEDED = 12 };    /* 2 + 3 + 3 + 4 */

typedef struct {
    int32_t t;              /* POPGym's num_steps */
    int32_t hits;
    int32_t last;           /* the cell chosen last (-1 at reset) */
    int32_t pad;
    int8_t board[144];      /* 1 where a ship lies */
    int8_t guess[144];      /* 1 where the agent has fired */
} bs_state;

static const param_desc bs_params[] = {
    POPGYM_DIFFICULTY("easy: 8x8 board; medium: 10x10; hard: 12x12 (ships 2, 3, 3, 4)"),
};

static const env_info bs_info = {
    "battleship", "POPGym Battleship: sink four hidden ships told only hit or miss",
    "POPGym's Battleship (popgym/envs/battleship.py). Ships of 2, 3, 3 and 4 cells lie hidden, straight, "
    "on a B x B board (placed one by one at random, rejecting overlaps and overhangs, as POPGym). The "
    "action a = row B + column fires at a cell; the observation is hit (a ship cell not fired at before) "
    "or not, one-hot (2 floats; 'no' at reset). A hit pays +1/12, anything else -1/(B^2 - 12). "
    "Terminates when all 12 ship cells are hit (success), truncated after B^2 steps. POPGym's scaling "
    "puts the return in [-B^2/(B^2-12), 1]: an episode of misses only falls below -1. POPGym marks it "
    "obs_requires_prev_action. Presets: easy B = 8, medium 10, hard 12. Signal bits: none.",
    bs_params, 1, 0};

static int bs_make(const env_spec *s, void **out, env_dims *d) {
    static const int side[3] = {8, 10, 12};
    board_cfg *c = board_new("battleship", side[popgym_level(s)], side[popgym_level(s)]);
    if (!c) return ENV_ENOMEM;
    c->len = c->cells;
    c->success = (float)(1.0 / BS_NEEDED);
    c->miss = (float)(-1.0 / (c->len - BS_NEEDED));
    *out = c;
    *d = (env_dims){.obs_size = 2, .n_actions = c->cells, .state_bytes = sizeof(bs_state)};
    return 0;
}

/* POPGym's place_ship: start cell and direction uniform; retry while the
 * ship leaves the board or touches a ship already placed. */
static void bs_place(const board_cfg *c, bs_state *s, int size, gsl_rng *r) {
    int b = c->rows;
    for (;;) {
        int st[2], en[2], dir[2];
        st[0] = (int)gsl_rng_uniform_int(r, (unsigned long)b);
        st[1] = (int)gsl_rng_uniform_int(r, (unsigned long)b);
        dir[0] = (int)gsl_rng_uniform_int(r, 2);
        dir[1] = (int)gsl_rng_uniform_int(r, 2);
        en[0] = st[0];
        en[1] = st[1];
        en[dir[0]] = st[dir[0]] + (dir[1] ? -1 : 1) * (size - 1);
        if (en[0] < 0 || en[1] < 0 || en[0] >= b || en[1] >= b) continue;
        int r0 = st[0] < en[0] ? st[0] : en[0], r1 = st[0] < en[0] ? en[0] : st[0];
        int c0 = st[1] < en[1] ? st[1] : en[1], c1 = st[1] < en[1] ? en[1] : st[1];
        int taken = 0;
        for (int i = r0; i <= r1; i++)
            for (int j = c0; j <= c1; j++) taken += s->board[i * b + j];
        if (taken) continue;
        for (int i = r0; i <= r1; i++)
            for (int j = c0; j <= c1; j++) s->board[i * b + j] = 1;
        return;
    }
}

static void bs_reset(const void *cfg, void *st, gsl_rng *r, float *obs) {
    const board_cfg *c = cfg;
    bs_state *s = st;
    memset(s, 0, sizeof *s);
    for (int k = 0; k < 4; k++) bs_place(c, s, SHIPS[k], r);
    s->last = -1;
    env_one_hot(obs, 2, 0);
}

static int bs_step(const void *cfg, void *st, gsl_rng *r, int a, float *obs, float *rew) {
    const board_cfg *c = cfg;
    bs_state *s = st;
    int hit = s->board[a] && !s->guess[a];
    s->guess[a] = 1;
    s->hits += hit;
    s->t++;
    s->last = a;
    *rew = hit ? c->success : c->miss;
    env_one_hot(obs, 2, hit);
    int flags = s->t >= c->len ? ENV_F_TRUNC : 0;
    if (s->hits == BS_NEEDED) flags |= ENV_F_TERM | ENV_F_SUCCESS;
    return flags;
}

static int bs_render(const void *cfg, const void *st, char *buf, size_t cap) {
    const board_cfg *c = cfg;
    const bs_state *s = st;
    size_t pos = 0;
    env_bufcat(buf, cap, &pos, "  shot %d of %d, %d of %d hits (. water, # ship, o miss, X hit)\n", s->t, c->len,
               s->hits, BS_NEEDED);
    for (int i = 0; i < c->rows; i++) {
        env_bufcat(buf, cap, &pos, "  ");
        for (int j = 0; j < c->cols; j++) {
            int k = i * c->cols + j;
            char ch = s->guess[k] ? (s->board[k] ? 'X' : 'o') : (s->board[k] ? '#' : '.');
            env_bufcat(buf, cap, &pos, "%c%c", ch, k == s->last ? '<' : ' ');
        }
        env_bufcat(buf, cap, &pos, "\n");
    }
    return 0;
}

const env_class battleship_class = {
    .info = &bs_info, .make = bs_make, .reset = bs_reset,
    .step = bs_step, .render = bs_render, .action_name = board_action_name,
};
